"""Problems found in the YAML: values that sort, print and decide the exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# An error stops the build; a warning stops it only with --strict; a note only tells.
Level = Literal["error", "warning", "note"]

_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, 0x85)}
_VISIBLE.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
                 0x2028: "\\u2028", 0x2029: "\\u2029"})


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong at one place; ``line`` and ``column`` are 1-based."""

    path: str
    line: int
    column: int
    level: Level
    message: str
    rule: str = ""

    def __str__(self) -> str:
        suffix = f" ({self.rule})" if self.rule else ""
        # Messages quote the author's text, and paths hold file names; a line break in
        # either must not break the line.
        path, message = self.path.translate(_VISIBLE), self.message.translate(_VISIBLE)
        return f"{path}:{self.line}:{self.column}: {self.level}: {message}{suffix}"

