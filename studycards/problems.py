"""Problems found in the YAML: values that sort, print and decide the exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning"]


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
        return f"{self.path}:{self.line}:{self.column}: {self.level}: {self.message}{suffix}"

