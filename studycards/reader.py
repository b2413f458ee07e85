"""Read one YAML file into a tree of nodes that remember where they stand.

This is the first step of the pipeline. It accepts the subset of YAML that
card files need and nothing more:

* block and flow mappings and sequences, and scalars in any quoting style;
* every scalar is the text the author wrote: ``a: yes``, ``a: 1.10``,
  ``a: 2024-05-13`` and ``a: null`` all stay strings (no YAML 1.1 coercion);
* one document per file, UTF-8 (a byte-order mark is accepted), LF or CRLF.

Refused, each with an error at its line and column: invalid UTF-8, UTF-16
or UTF-32 files, control characters, YAML syntax errors, tabs used for
indentation, anchors (``&a``), aliases (``*a``) and merge keys, explicit
tags (``!!python/object``, ``!foo``), keys that are not plain text, a key
given twice in one mapping (PyYAML would silently keep the last one),
several documents in one file, and nesting deeper than ``MAX_DEPTH``.

Valid::

    cards:
      - id: talks-city
        q: In which city did the ministers meet?
        a: Beijing

Invalid (``q`` given twice, an alias, a tab before ``a``)::

    cards:
      - q: First?
        q: Second?
        a: *answer
    \ta: x

The parser is libyaml's event parser when PyYAML was built with it, else
PyYAML's pure-Python one; both give the same nodes and the same messages.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from studycards.problems import Problem

MAX_DEPTH = 32

# YAML forbids these; PyYAML would reject them too, but without a line.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

# libyaml and PyYAML's Python parser word a few errors differently; the
# message a user sees must not depend on how PyYAML was installed.
_PYTHON_TO_LIBYAML_WORDING = {
    "mapping values are not allowed here": "mapping values are not allowed in this context",
}
_PYTHON_EXPECTED = re.compile(r"^expected (.+), but got .*$")


@dataclass(slots=True)
class Scalar:
    value: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(slots=True)
class Mapping:
    line: int
    column: int
    flow: bool
    entries: list[tuple[Scalar, Node]] = field(default_factory=list)
    end_line: int = 0
    end_column: int = 0

    def get(self, key: str) -> Node | None:
        for entry_key, value in self.entries:
            if entry_key.value == key:
                return value
        return None


@dataclass(slots=True)
class Sequence:
    line: int
    column: int
    flow: bool
    items: list[Node] = field(default_factory=list)
    end_line: int = 0
    end_column: int = 0


Node = Scalar | Mapping | Sequence


def libyaml_available() -> bool:
    return bool(getattr(yaml, "__with_libyaml__", False))


def default_loader() -> type:
    return yaml.CBaseLoader if libyaml_available() else yaml.BaseLoader


def decode(data: bytes, path: str) -> tuple[str | None, list[Problem]]:
    """Turn a file's bytes into text, or say where and why it is not UTF-8."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        # UTF-32 LE's mark begins with UTF-16 LE's, so it is tested first.
        if data.startswith(bom):
            return None, [Problem(path, 1, 1, "error",
                                  f"file is {name}; save it as UTF-8")]
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _byte_position(data, error.start)
        return None, [Problem(path, line, column, "error",
                              f"invalid UTF-8 byte 0x{data[error.start]:02x} "
                              f"(byte offset {error.start}); save the file as UTF-8")]
    control = _CONTROL_CHARACTER.search(text)
    if control:
        line, column = _text_position(text, control.start())
        character = control.group()
        name = "NUL byte" if character == "\x00" else f"control character U+{ord(character):04X}"
        return None, [Problem(path, line, column, "error", f"{name} is not allowed in YAML")]
    return text, []


def read_text(text: str, path: str, loader: type | None = None) -> tuple[Node | None, list[Problem]]:
    """Parse ``text`` into one node; ``None`` with problems when it cannot."""
    builder = _TreeBuilder(path)
    try:
        for event in yaml.parse(text, Loader=loader or default_loader()):
            if builder.feed(event):
                break
    except yaml.MarkedYAMLError as error:
        return None, [_syntax_problem(error, text, path)]
    except yaml.reader.ReaderError as error:
        line, column = _text_position(text, error.position)
        return None, [Problem(path, line, column, "error",
                              f"character U+{error.character:04X} is not allowed in YAML"
                              if isinstance(error.character, int) else "unreadable character")]
    if builder.problems:
        return None, builder.problems
    if builder.root is None:
        return None, [Problem(path, 1, 1, "error", "file is empty: expected a mapping")]
    return builder.root, []


def read_file(file: Path, path: str, loader: type | None = None) -> tuple[Node | None, list[Problem]]:
    """Read and parse one file; ``path`` is how problems name it."""
    try:
        data = file.read_bytes()
    except OSError as error:
        return None, [Problem(path, 1, 1, "error", f"cannot read file: {error.strerror}")]
    text, problems = decode(data, path)
    if text is None:
        return None, problems
    return read_text(text, path, loader)


class _TreeBuilder:
    """Folds the parser's event stream into nodes, stopping at the first problem."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.root: Node | None = None
        self.problems: list[Problem] = []
        self._stack: list[Mapping | Sequence] = []
        self._pending_key: list[Scalar | None] = []
        self._seen_keys: list[dict[str, Scalar]] = []
        self._documents = 0

    def feed(self, event: yaml.Event) -> bool:
        """Take one event; ``True`` means stop, a problem was found."""
        if isinstance(event, yaml.DocumentStartEvent):
            self._documents += 1
            if self._documents > 1:
                return self._fail(event, "only one YAML document is allowed per file; remove the '---'")
            return False
        if isinstance(event, yaml.AliasEvent):
            return self._fail(event, f"aliases (*{event.anchor}) are not supported: write the text out")
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            return self._fail(event, f"anchors (&{event.anchor}) are not supported: write the text out")
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)) and _explicit_tag(event):
            return self._fail(event, f"tags ({event.tag}) are not supported: card files hold only text")
        if isinstance(event, yaml.ScalarEvent):
            line, column = _mark(event.start_mark)
            end_line, end_column = _mark(event.end_mark)
            return self._add(Scalar(event.value, line, column, end_line, end_column), event)
        if isinstance(event, yaml.MappingStartEvent):
            line, column = _mark(event.start_mark)
            return self._open(Mapping(line, column, bool(event.flow_style)), event)
        if isinstance(event, yaml.SequenceStartEvent):
            line, column = _mark(event.start_mark)
            return self._open(Sequence(line, column, bool(event.flow_style)), event)
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            node = self._stack.pop()
            node.end_line, node.end_column = _mark(event.end_mark)
            if isinstance(node, Mapping):
                self._pending_key.pop()
                self._seen_keys.pop()
            return False
        return False

    def _open(self, node: Mapping | Sequence, event: yaml.Event) -> bool:
        if len(self._stack) >= MAX_DEPTH:
            return self._fail(event, f"nesting is deeper than {MAX_DEPTH} levels")
        if self._add(node, event):
            return True
        self._stack.append(node)
        if isinstance(node, Mapping):
            self._pending_key.append(None)
            self._seen_keys.append({})
        return False

    def _add(self, node: Node, event: yaml.Event) -> bool:
        if not self._stack:
            self.root = node
            return False
        parent = self._stack[-1]
        if isinstance(parent, Sequence):
            parent.items.append(node)
            return False
        key = self._pending_key[-1]
        if key is None:
            if not isinstance(node, Scalar):
                return self._fail(event, "a key must be plain text, not a list or mapping")
            if node.value == "<<":
                return self._fail(event, "merge keys (<<) are not supported: write the keys out")
            first = self._seen_keys[-1].get(node.value)
            if first is not None:
                return self._fail(event, f"key '{node.value}' is given twice in this mapping "
                                         f"(first at line {first.line}); the first value would be lost")
            self._seen_keys[-1][node.value] = node
            self._pending_key[-1] = node
            return False
        parent.entries.append((key, node))
        self._pending_key[-1] = None
        return False

    def _fail(self, event: yaml.Event, message: str) -> bool:
        line, column = _mark(event.start_mark)
        self.problems.append(Problem(self.path, line, column, "error", message))
        return True


def _explicit_tag(event: yaml.NodeEvent) -> bool:
    # A plain '!' is what a non-specific tag on quoted text looks like.
    tag = getattr(event, "tag", None)
    return tag is not None and tag != "!"


def _mark(mark: Any) -> tuple[int, int]:
    """The one place where PyYAML's 0-based marks become 1-based positions."""
    return mark.line + 1, mark.column + 1


def _syntax_problem(error: yaml.MarkedYAMLError, text: str, path: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = _mark(mark) if mark is not None else (1, 1)
    offending = _character_at(text, line, column)
    if offending == "\t":
        return Problem(path, line, column, "error",
                       "tab character used for indentation; YAML indents with spaces")
    problem = error.problem or "invalid YAML"
    problem = _PYTHON_TO_LIBYAML_WORDING.get(problem, problem)
    expected = _PYTHON_EXPECTED.match(problem)
    if expected:
        problem = f"did not find expected {expected.group(1)}"
    context = ""
    if error.context:
        context = f" {error.context}"
        if error.context_mark is not None and error.context_mark is not mark:
            context_line, context_column = _mark(error.context_mark)
            if (context_line, context_column) != (line, column):
                context += f" that starts at line {context_line}, column {context_column}"
    return Problem(path, line, column, "error", f"invalid YAML: {problem}{context}")


def _character_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line)
    if line - 1 >= len(lines):
        return ""
    row = lines[line - 1]
    return row[column - 1] if 0 < column <= len(row) else ""


def _text_position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return line, column
