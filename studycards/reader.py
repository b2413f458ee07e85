"""Read one YAML file into a tree of nodes that remember where they stand.

This is the first step of the pipeline. It accepts the subset of YAML that
card files need and nothing more:

* block and flow mappings and sequences, and scalars in any quoting style;
* every scalar is the text the author wrote: ``a: yes``, ``a: 1.10``,
  ``a: 2024-05-13`` and ``a: null`` all stay strings (no YAML 1.1 coercion);
* one document per file, UTF-8 (a byte-order mark is accepted), lines ending in LF, CRLF or CR.

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
PyYAML's pure-Python one; both give the same nodes, and the same messages
for the mistakes authors make (the tests compare them). The two parsers
notice some rarer malformed YAML at different places; there, the messages
may differ.
"""

from __future__ import annotations

import bisect
import codecs
import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from studycards.problems import Problem

MAX_DEPTH = 32

# YAML forbids these; PyYAML would reject them too, but without a line.
# The C1 controls (U+0080 to U+009F, but U+0085) often come from text pasted in the wrong encoding.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
# PyYAML (YAML 1.1) breaks lines at these too, where editors do not: typed raw, one would
# fold a quoted value and shift every line number after it. Written as an escape, it is text.
_YAML_ONLY_LINE_BREAK = re.compile("[\x85\u2028\u2029]")
# A byte order mark that starts a line past the first: libyaml skips it, PyYAML's own parser does not.
_LINE_START_BYTE_ORDER_MARK = re.compile("(?:(?<=[\n\r])|^)\ufeff")
_LINE_BREAK_NAMES = {"\x85": "next line", "\u2028": "line separator", "\u2029": "paragraph separator"}

# libyaml and PyYAML's Python parser word a few errors differently; the
# message a user sees must not depend on how PyYAML was installed.
_PYTHON_TO_LIBYAML_WORDING = {
    "mapping values are not allowed here": "mapping values are not allowed in this context",
    "found duplicate YAML directive": "found duplicate %YAML directive",
    "mapping keys are not allowed here": "mapping keys are not allowed in this context",
    "sequence entries are not allowed here": "block sequence entries are not allowed in this context",
    "expected a comment or a line break": "did not find expected comment or line break",
    "expected '<document start>'": "did not find expected <document start>",
}
# What the Python parser calls "<block end>", as libyaml names it, by the block being parsed.
_PYTHON_BLOCK_END = {"while parsing a block mapping": "key",
                     "while parsing a block collection": "'-' indicator"}
_BAD_HEX_ESCAPE = "did not find the hexadecimal digits of an escape: \\xXX, \\uXXXX or \\UXXXXXXXX"
_ESCAPE_CONTEXT = "while scanning a double-quoted scalar"
# How lines end, as YAML reads them: CRLF, LF, or a CR alone.
LINE_BREAK = re.compile(r"\r\n?|\n")
_PYTHON_EXPECTED = re.compile(r"^expected (?:the )?(.+), but (?:got|found) .*$")
# A line's value, after any list dashes and key: where a plain value that reads as YAML syntax starts.
_LINE_VALUE = re.compile(r"[ \t]*(?:(?:-[ \t]+)*[\w-]+:[ \t]+|(?:-[ \t]+)+)(?P<value>\S.*)")
_COMMENT = re.compile(r"[ \t]#.*")
# A comment straight after a plain value that reads like its text ("rank #1"): the value is cut
# there. A comment written as one, " # note", is not told.
_CUT_BY_COMMENT = re.compile(r" #[^\s#]")
# In double quotes, an escape that YAML turns into a character, written right before letters:
# "\theta" or "C:\new" meant a backslash, and silently became a tab or a line break. (An even
# number of backslashes before it are escaped backslashes.)
_ESCAPE_BEFORE_LETTERS = re.compile(r"(?<!\\)(?:\\\\)*(\\[0abtnvfreNLP])([A-Za-z]+)")
_BACKSLASH_HINT = ("; in double quotes a backslash starts an escape: write '\\\\' for one, or use "
                   "single quotes")
# A space YAML does not take for one, where the layout needs a space: before a key or a "-",
# after a "-" or a key's ":". Pasted from a web page or a word processor, it looks the same.
_ODD_SPACE_IN_LAYOUT = re.compile(
    "[ \t]*(?:-[ \t]*)*(?:[A-Za-z_][\\w-]*:)?([\u00a0\u2007\u202f\u3000\ufeff\u200b\u2060])")
# A key (or a list item's first key) followed by a full-width colon: "q： Which?", "- id： a".
_FULL_WIDTH_COLON_KEY = re.compile("[ \t]*(?:-[ \t]+)?[A-Za-z][A-Za-z0-9_-]*[ \t]*\uff1a")
_ESCAPE_NAMES = {"0": "a NUL character", "a": "a bell character", "b": "a backspace", "t": "a tab",
                 "n": "a line break", "v": "a vertical tab", "f": "a form feed", "r": "a carriage return",
                 "e": "an escape character", "N": "a line break", "L": "a line separator",
                 "P": "a paragraph separator"}
# Markdown and cloze text that YAML reads as syntax when a plain value starts with it.
_SYNTAX_START = re.compile(r"\{\{|[*@`%]|!(?!!)|\[[^\]]*\][ \t]*[^\s,\]}#]|[|>](?![-+0-9]*[ \t]*(?:#|$))")
# Quotes a word processor or a phone keyboard types: to YAML they are text like any other.
_TYPOGRAPHIC_QUOTES = "\u201c\u201d\u201e\u2018\u2019\u201a\u00ab\u00bb"
_QUOTED_THEN_TEXT = re.compile(r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*')[ \t]*[^\s#,\]}]")


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
    braced: bool = False  # a flow mapping in braces; a bare "key: value" in a flow list has none
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
    mark = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    data = data[mark:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _byte_position(data, error.start)
        return None, [Problem(path, line, column, "error",
                              f"invalid UTF-8 byte 0x{data[error.start]:02x} "
                              f"(byte offset {mark + error.start}); save the file as UTF-8")]
    control = _CONTROL_CHARACTER.search(text)
    if control:
        line, column = _text_position(text, control.start())
        character = control.group()
        name = "NUL byte" if character == "\x00" else f"control character U+{ord(character):04X}"
        return None, [Problem(path, line, column, "error", f"{name} is not allowed in YAML")]
    mark_at_line_start = _LINE_START_BYTE_ORDER_MARK.search(text) if "\ufeff" in text else None
    if mark_at_line_start:
        line, column = _text_position(text, mark_at_line_start.start())
        return None, [Problem(path, line, column, "error",
                              "an invisible byte order mark (U+FEFF) starts this line: remove it")]
    line_break = _YAML_ONLY_LINE_BREAK.search(text)
    if line_break:
        line, column = _text_position(text, line_break.start())
        character = line_break.group()
        code = f"{ord(character):04X}"
        return None, [Problem(path, line, column, "error",
                              f"U+{code} ({_LINE_BREAK_NAMES[character]}) is a line break to YAML and would "
                              f"split this line; remove it, or write it as \\u{code} in double quotes")]
    return text, []


def read_text(text: str, path: str, loader: type | None = None) -> tuple[Node | None, list[Problem]]:
    """Parse ``text`` into one node; ``None`` with problems when it cannot.

    A node can come with problems too: the warnings of the reading (a value cut short by
    ``' #'``) and the errors that do not stop it (an escape before letters, each told).
    """
    parser = None
    try:
        parser = (loader or default_loader())(text)
        # As yaml.parse, without its generator: the parser gives None after the last event.
        warnings: list[Problem] = []
        root, problem = _build_tree(iter(parser.get_event, None), path, text, warnings)
    except yaml.MarkedYAMLError as error:
        return None, [_syntax_problem(error, text, path, loader or default_loader())]
    except yaml.reader.ReaderError as error:
        # ``decode`` refuses these characters first; here, libyaml's position would count bytes.
        at = text.find(chr(error.character)) if isinstance(error.character, int) else -1
        line, column = _text_position(text, at if at >= 0 else error.position)
        return None, [Problem(path, line, column, "error",
                              f"character U+{error.character:04X} is not allowed in YAML"
                              if isinstance(error.character, int) else "unreadable character")]
    finally:
        if parser is not None:
            parser.dispose()
    if problem is not None:
        return None, [problem]
    if root is None:
        what = "file is empty" if not text.strip() else "file holds only comments"
        return None, [Problem(path, 1, 1, "error", f"{what}: write its keys: a card file starts with "
                                                   "'cards:', deck.yaml with 'id:' and 'name:'")]
    return root, warnings


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


# Stands for a key left out of its mapping (given twice, or a second card's): its value is read, and
# left out too.
_LEFT_OUT = Scalar("", 0, 0, 0, 0)


def _build_tree(events: Iterator[Any], path: str, text: str,
                warnings: list[Problem]) -> tuple[Node | None, Problem | None]:
    """Fold the parser's events into nodes, stopping at the first problem.

    This loop runs once per event of every file, so it is written for speed:
    the event classes are local names, a scalar (the most common event) is
    tested first, and the 0-based marks are made 1-based inline (as in
    ``_mark``, the other place that converts them).
    """
    scalar_event, alias_event, document_start = yaml.ScalarEvent, yaml.AliasEvent, yaml.DocumentStartEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    control_character = _CONTROL_CHARACTER.search
    cut_by_comment = _CUT_BY_COMMENT.match
    root: Node | None = None
    containers: list[Mapping | Sequence] = []
    parent: Mapping | Sequence | None = None  # the innermost open container
    # Per open mapping: the key waiting for its value, and the keys seen so far.
    pending: list[Scalar | None] = []
    seen: list[dict[str, Scalar]] = []
    # Per open mapping that looks like two cards, the second written without its "-": the second card's
    # keys, all left out (its first key is told, with a hint); else None.
    second_card: list[dict[str, Scalar] | None] = []
    documents = 0
    for event in events:
        kind = type(event)
        node: Node
        if kind is scalar_event:
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                return None, _refused(event, path, text)
            value = event.value
            if event.style == '"' and (problem := _letter_escape(event, path, text)):
                warnings.append(problem)  # an error, but the file reads on: every such value is told
            # Only a double-quoted scalar can spell a control character as an escape; the raw
            # text was searched for them before parsing.
            elif event.style == '"' and control_character(value):
                # Written as an escape ("\x1f", "\0"): as harmful in a field as typed raw.
                character = control_character(value).group()  # type: ignore[union-attr]
                return None, _problem(event, path, f"control character U+{ord(character):04X} is "
                                                   "not allowed in text, not even as an escape")
            start, end = event.start_mark, event.end_mark
            node = Scalar(value, start.line + 1, start.column + 1, end.line + 1, end.column + 1)
            # (startswith first: the regular expression costs more, and plain values are most.)
            if not event.style and text.startswith(" #", end.index) and cut_by_comment(text, end.index):
                warnings.append(Problem(path, end.line + 1, end.column + 2, "warning",
                                        "' #' starts a comment, so the text from here on is not part of "
                                        "the value; put the whole value in quotes to keep it"))
            if parent is None:
                root = node
            elif type(parent) is Sequence:
                parent.items.append(node)
            else:
                key = pending[-1]
                if key is not None:
                    if key is not _LEFT_OUT:
                        parent.entries.append((key, node))  # type: ignore[union-attr]
                    pending[-1] = None
                    continue
                if value == "<<":
                    return None, _problem(event, path, "merge keys (<<) are not supported: "
                                                       "write the keys out")
                keys, second = seen[-1], second_card[-1]
                if second is not None:  # the second card's key: left out, told only if given twice there
                    if value in second:
                        warnings.append(_repeated_key(event, path, second[value], new_card=False))
                    second[value] = node
                    pending[-1] = _LEFT_OUT
                    continue
                first = keys.get(value)
                if first is not None:
                    # A card's first key again after a whole card: most often a new card without its "-".
                    new_card = value in ("id", "q", "cloze") and ("a" in keys or "cloze" in keys) \
                        and not parent.flow
                    # An error, but the file reads on, without this key and its value: the rest
                    # of the file is checked too, and every problem told at once.
                    warnings.append(_repeated_key(event, path, first, new_card))
                    if new_card:
                        second_card[-1] = {value: node}
                    pending[-1] = _LEFT_OUT
                    continue
                keys[value] = pending[-1] = node
            continue
        if kind is mapping_end or kind is sequence_end:
            closed = containers.pop()
            closed.end_line, closed.end_column = event.end_mark.line + 1, event.end_mark.column + 1
            if kind is mapping_end:
                pending.pop()
                seen.pop()
                second_card.pop()
            parent = containers[-1] if containers else None
            continue
        if kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                return None, _refused(event, path, text)
            if len(containers) >= MAX_DEPTH:
                return None, _problem(event, path, f"nesting is deeper than {MAX_DEPTH} levels")
            start = event.start_mark
            flow = bool(event.flow_style)
            container: Mapping | Sequence
            if kind is mapping_start:
                # Marks index characters of the text, with either parser.
                braced = flow and text[start.index:start.index + 1] == "{"
                container = Mapping(start.line + 1, start.column + 1, flow, braced)
            else:
                container = Sequence(start.line + 1, start.column + 1, flow)
            if parent is None:
                root = container
            elif type(parent) is Sequence:
                parent.items.append(container)
            elif pending[-1] is None:
                return None, _problem(event, path, "a key must be plain text, not a list or mapping"
                                                   + _quoting_hint(text, start.line + 1))
            else:
                if pending[-1] is not _LEFT_OUT:
                    parent.entries.append((pending[-1], container))  # type: ignore[union-attr]
                pending[-1] = None
            containers.append(container)
            parent = container
            if kind is mapping_start:
                pending.append(None)
                seen.append({})
                second_card.append(None)
        elif kind is alias_event:
            return None, _refused(event, path, text)
        elif kind is document_start:
            documents += 1
            if documents > 1:
                return None, _problem(event, path, "only one YAML document is allowed per file; "
                                                   "remove the '---'")
    return root, None


def _repeated_key(event: Any, path: str, first: Scalar, new_card: bool) -> Problem:
    hint = "; if a new card starts here, put '- ' before its first key" if new_card else ""
    return _problem(event, path, f"key '{first.value}' is given twice in this mapping (first at line "
                                 f"{first.line}); the first value would be lost{hint}")


def _letter_escape(event: Any, path: str, text: str) -> Problem | None:
    """A double-quoted value's escape that YAML reads as a character but was meant as a backslash."""
    start = event.start_mark.index
    raw = text[start:event.end_mark.index]
    if "\\" not in raw:
        return None
    for match in _ESCAPE_BEFORE_LETTERS.finditer(raw):
        escape, letters = match.groups()
        # "one\ntwo" is a line break, as meant; inside math, "\neq" or "\nu" was.
        if escape != "\\n" or _inside_math(raw[:match.start(1)]):
            break
    else:
        return None
    line, column = _text_position(text, start + match.start(1))
    meaning = _ESCAPE_NAMES[escape[1]]
    return Problem(path, line, column, "error",
                   f"'{escape}{letters}' in double quotes: YAML reads '{escape}' as {meaning}; "
                   f"write '\\{escape}{letters}', or put the whole value in single quotes")


def _inside_math(raw: str) -> bool:
    """Whether a double-quoted value's source, up to here, leaves math open: "\\(" not yet closed."""
    return raw.count("\\\\(") > raw.count("\\\\)") or raw.count("\\\\[") > raw.count("\\\\]")


def _refused(event: Any, path: str, text: str) -> Problem:
    """The message for an anchor, an alias or a tag: features card files do not use."""
    hint = _quoting_hint(text, event.start_mark.line + 1)
    if type(event) is yaml.AliasEvent:
        return _problem(event, path, f"aliases (*{event.anchor}) are not supported: write the text out{hint}")
    if event.anchor is not None:
        return _problem(event, path, f"anchors (&{event.anchor}) are not supported: write the text out")
    tag = str(event.tag).replace("tag:yaml.org,2002:", "!!", 1)  # as it was written
    return _problem(event, path, f"tags ({tag}) are not supported: card files hold only text{hint}")


# The layout slips behind YAML's most puzzling messages: no space after a key's colon or a
# list's dash, and a key indented deeper than the one above it.
_NO_SPACE_AFTER_COLON = re.compile(r"[ \t]*(?:-[ \t]+)*[A-Za-z_][\w-]*:[^\s:/]")  # "a:Beijing", not "10:30"
_NO_SPACE_AFTER_DASH = re.compile(r"[ \t]*-[\w-]+:")
# What a word processor or a phone keyboard makes of a list item's "-": a dash or a bullet.
_DASH_LOOK_ALIKE = re.compile("[ \t]*[\u2010-\u2015\u2212\u2022\u00b7\u2043][ \t]")
_KEY_OR_ITEM = re.compile(r"([ \t]*)(?:-[ \t]|[\w-]+:(?:[ \t]|$))")  # group 1: its indentation
_ITEM = re.compile(r"[ \t]*-(?:[ \t]|$)")
_KEY_AND_VALUE = re.compile(r"[ \t]*(?:-[ \t]+)*[\w-]+:(?:[ \t]|$)")
_KEY_AND_TEXT = re.compile(r"([ \t]*(?:-[ \t]+)*)[\w-]+:[ \t]+[^\s|>]")  # group 1: up to the key


def _layout_hint(text: str, line: int) -> str:
    """What is wrong with the layout of the lines just before ``line``, if it is a common slip."""
    lines = _lines_to(text, line)
    before = [row for row in lines[:-1] if row.strip() and not row.lstrip().startswith("#")]
    current = lines[-1] if lines else ""
    indent = len(current) - len(current.lstrip(" "))
    # Where a list item's "-" would be: a dash or a bullet deeper in is text going on.
    if _DASH_LOOK_ALIKE.match(current) and any(_ITEM.match(row) and len(row) - len(row.lstrip(" ")) == indent
                                               for row in before):
        return (f"; '{current.lstrip()[0]}' is not a list item's '-': type the plain hyphen-minus, "
                "then a space")
    for row in (before[-1:] if before else []) + lines[-1:]:
        if _FULL_WIDTH_COLON_KEY.match(row):  # typed with an East Asian keyboard layout
            return "; '\uff1a' is a full-width colon: a key needs ':' and a space"
        if _NO_SPACE_AFTER_COLON.match(row):
            return "; a key's ':' needs a space after it ('a: Beijing', not 'a:Beijing')"
        if _NO_SPACE_AFTER_DASH.match(row):
            return "; a list item's '-' needs a space after it ('- id: …', not '-id: …')"
    above = _KEY_AND_TEXT.match(before[-1]) if before else None
    if above and current.strip() and indent > len(above.group(1)):
        return ("; this line is indented deeper than the key above it: if it goes on that key's text, "
                "put the whole text in quotes; if it is a key of its own, line it up with the one above")
    if current.strip() and ":" not in current and not _ITEM.match(current):
        return ("; this line has no ':': if it is a key, write ':' and a space after it; if it goes on the "
                "text above, put the whole text in quotes")
    return _misaligned_hint(before, current)


def _misaligned_hint(before: list[str], current: str) -> str:
    """What this line's key or "-" should line up with, when it lines up with none above it."""
    if _KEY_OR_ITEM.match(current) is None:
        return ""
    is_item = current.lstrip(" ").startswith("-")
    indent = len(current) - len(current.lstrip(" "))
    # The columns of the list items' "-" above, or of the keys above ("  - id:" has its key at 4).
    lines_up_with = _ITEM if is_item else _KEY_AND_VALUE
    columns = {len(row) - len(row.lstrip(" " if is_item else " -\t")) for row in before
               if lines_up_with.match(row)}
    if not columns or indent in columns:
        return ""
    what = "list item's '-'" if is_item else "key"
    spaces = " or ".join(str(column) for column in sorted(columns))
    plural = "" if indent == 1 else "s"
    return (f"; this {what} is indented {indent} space{plural}, like no {what} above it (those are "
            f"indented {spaces}): line it up with one of them")


def _odd_space_in_layout(text: str, loader: type, line: int, column: int) -> tuple[int, int, str] | None:
    """The place and message of a space YAML does not take for one, on ``line`` or the line before.

    The parser stops a line or more later than such a space, with words about keys; the
    space itself looks like any other. It is told only if it is what stopped the parser: a
    text may hold one at a line's start (a Japanese paragraph's indent in a block of lines).
    """
    lines = _lines_to(text, line)
    for number in range(max(1, len(lines) - 1), len(lines) + 1):
        found = _ODD_SPACE_IN_LAYOUT.match(lines[number - 1])
        if found is None:
            continue
        fix = _fix_that_parses_further(text, loader, number, found.start(1) + 1, line, column)
        if fix:
            character = found.group(1)
            name = unicodedata.name(character, "").lower()
            return (number, found.start(1) + 1,
                    f"invalid YAML: U+{ord(character):04X} ({name}) is not a space to YAML: {fix}")
    return None


def _fix_that_parses_further(text: str, loader: type, line: int, column: int, stopped_line: int,
                             stopped_column: int) -> str:
    """How the character at ``line``, ``column`` lets the parser get further than where it stopped:
    as a plain space, gone (typed as well as a space, not in its place), or as two spaces for
    one as wide as two; "" if none does."""
    index = _text_index(text, line, column)
    # Gone, or as two spaces, the columns after it on its line move: only a later line counts.
    fixes = [(" ", (stopped_line, stopped_column), "replace it with a normal space"),
             ("", (stopped_line, 1 << 30), "remove it")]
    if unicodedata.east_asian_width(text[index]) in ("W", "F"):  # as wide as two spaces
        fixes.append(("  ", (stopped_line, 1 << 30), "replace it with two normal spaces"))
    for replacement, stopped, fix in fixes:
        fixed = text[:index] + replacement + text[index + 1:]
        parser = loader(fixed)
        try:
            while parser.get_event() is not None:
                pass
            return fix
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            if mark is not None and (mark.line + 1, mark.column + 1) > stopped:
                return fix
        except yaml.YAMLError:
            pass
        finally:
            parser.dispose()
    return ""


def _quoting_hint(text: str, line: int) -> str:
    """How to keep a value as text, when the value on ``line`` is text that YAML reads as syntax.

    Markdown and cloze text can start with YAML's own signs (``*emphasis*``,
    ``{{c1::...}}``, ``[label] ...``) or hold a ``: ``; unquoted, YAML reads them
    as aliases, mappings, lists or keys, and its message says nothing about quotes.
    """
    lines = _lines_to(text, line)
    value = _LINE_VALUE.fullmatch(lines[line - 1].rstrip()) if line <= len(lines) else None
    if value is None:
        return ""
    value_text = value.group("value")
    if value_text[0] not in "'\"":  # a comment ends a plain value
        value_text = _COMMENT.sub("", value_text)
    start = _SYNTAX_START.match(value_text)
    if start:
        return (f"; a value that starts with '{start.group()[0]}' is read as YAML syntax: "
                "to keep it as text, put the whole value in quotes")
    if value_text[0] in _TYPOGRAPHIC_QUOTES:
        return (f"; '{value_text[0]}' is a typographic quote, which YAML reads as text: put the whole "
                "value in straight quotes, \" or '")
    if _QUOTED_THEN_TEXT.match(value_text):
        return ("; a quoted value must end at its closing quote: to keep the quotes as text, "
                "put the whole value in the other kind of quotes (in single quotes, write ' as '')")
    if value_text[0] not in "'\"[{|>#" and (": " in value_text or value_text.endswith(":")):
        return "; ': ' in a value starts a new key: to keep it as text, put the whole value in quotes"
    return ""


def _problem(event: Any, path: str, message: str) -> Problem:
    line, column = _mark(event.start_mark)
    return Problem(path, line, column, "error", message)


def _mark(mark: Any) -> tuple[int, int]:
    """PyYAML's 0-based marks as 1-based positions (``_build_tree`` does the same inline, for speed)."""
    return mark.line + 1, mark.column + 1


def _syntax_problem(error: yaml.MarkedYAMLError, text: str, path: str, loader: type) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = _error_position(mark, text) if mark is not None else (1, 1)
    offending = _character_at(text, line, column)
    if offending == "\t":
        return Problem(path, line, column, "error",
                       "tab character used for indentation; YAML indents with spaces")
    odd_space = _odd_space_in_layout(text, loader, line, column)
    if odd_space is not None:
        return Problem(path, odd_space[0], odd_space[1], "error", odd_space[2])
    problem = error.problem or "invalid YAML"
    problem = _PYTHON_TO_LIBYAML_WORDING.get(problem.split(", but found")[0], problem)
    context_words = error.context or ""
    escape_hint = ""
    expected = _PYTHON_EXPECTED.match(problem)
    if expected:
        what = expected.group(1)
        if what == "<block end>":
            what = _PYTHON_BLOCK_END.get(context_words, what)
        problem = f"did not find expected {what}"
    if problem == "found character that cannot start any token":  # libyaml does not name it
        problem = f"found character {offending!r} that cannot start any token"
    elif problem.startswith("found unknown escape character"):
        # libyaml marks the backslash and does not name the character; the Python parser marks
        # and names the character after the backslash.
        if problem == "found unknown escape character":
            problem += f" {_character_at(text, line, column + 1) or chr(0)!r}"
        else:
            column -= 1
        if problem.endswith("'\\x00'"):  # what the Python parser reads past the last character
            problem = "found a backslash at the end of the text, with nothing to escape"
        context_words = _ESCAPE_CONTEXT
        escape_hint = _BACKSLASH_HINT
    elif "hexdecimal number" in problem or "hexadecimal numbers" in problem:
        problem, context_words = _BAD_HEX_ESCAPE, _ESCAPE_CONTEXT
    if problem == "could not find expected ':'" and error.context_mark is not None:
        # Said at the line after the key, where the parser looked for the ':' last: the key's
        # own line is the one to fix.
        line, column = _error_position(error.context_mark, text)
    context = ""
    if context_words:
        context = f" {context_words}"
        if error.context_mark is not None and error.context_mark is not mark:
            context_line, context_column = _error_position(error.context_mark, text)
            if (context_line, context_column) != (line, column):
                context += f" that starts at line {context_line}, column {context_column}"
    # Inside a quote or a bracket opened on an earlier line, this line's value is not the culprit.
    opened_before = error.context_mark is not None and error.context_mark.line + 1 < line and (
        "quoted" in context_words or "flow" in context_words)
    opened = error.context_mark
    if opened_before and opened is not None and _never_closed(problem, text, opened.line + 1, line):
        # The parser noticed only where it gave up, often the end of the file or the next card:
        # an editor sent there would be far from the quote or bracket to fix.
        opened_line, opened_column = _error_position(opened, text)
        opening = _character_at(text, opened_line, opened_column)
        what = "quote" if "quoted" in context_words else "brace" if opening == "{" else "bracket"
        rest = _lines_to(text, opened_line)[-1][opened_column:]
        # "[rank #1, rank #2]": the ' #' made the rest of the line a comment, closing bracket too.
        hint = ("; ' #' starts a comment, which hides the rest of that line: put the item in quotes"
                if what == "bracket" and " #" in rest else "")
        return Problem(path, opened_line, opened_column, "error",
                       f"invalid YAML: this {what} is not closed (at line {line}, column {column}: "
                       f"{problem}){hint}")
    run_on = None if opened_before else _quote_run_on(text, loader, line)
    if run_on is not None:
        (opened_line, opened_column), (end_line, end_column), quote = run_on
        hint = "; in single quotes, write ' as ''" if quote == "'" else ""
        return Problem(path, opened_line, opened_column, "error",
                       f"invalid YAML: this quote is not closed on its line: the value runs on over the "
                       f"lines below, to the {quote} at line {end_line}, column {end_column}{hint}")
    hint = escape_hint or ("" if opened_before else _quoting_hint(text, line) or _layout_hint(text, line))
    return Problem(path, line, column, "error", f"invalid YAML: {problem}{context}{hint}")


def _quote_run_on(text: str, loader: type, line: int) -> tuple[tuple[int, int], tuple[int, int], str] | None:
    """Where a quoted value opens and ends, if it ran on from its line to ``line``, over keys.

    A quote left open takes in the lines below it, keys and all, up to the next quote of
    its kind, often an apostrophe or another value's opening quote; the parser stops just
    after that. A value quoted over several lines on purpose holds no line that looks like
    a key at its own key's depth, nor a new list item.
    """
    scanner = loader(text)
    try:
        while scanner.check_token():
            token = scanner.get_token()
            start, end = token.start_mark, token.end_mark
            if start.line + 1 > line:
                break
            if type(token) is yaml.ScalarToken and token.style in ("'", '"') and end.line + 1 == line \
                    and start.line < end.line:
                rows = LINE_BREAK.split(text)
                opening_row = rows[start.line]
                depth = len(opening_row) - len(opening_row.lstrip(" "))
                for row in rows[start.line + 1:end.line + 1]:
                    key = _KEY_OR_ITEM.match(row)
                    if key and len(key.group(1)) <= depth:
                        return (start.line + 1, start.column + 1), (end.line + 1, end.column), token.style
    except yaml.YAMLError:
        pass
    finally:
        scanner.dispose()
    return None


def _error_position(mark: Any, text: str) -> tuple[int, int]:
    if mark.index >= len(text):
        # At the end of a file that lacks a final line break, libyaml moves its marks to the
        # start of a line the file does not have; PyYAML's parser stays after the last character.
        return _text_position(text, len(text))
    return _mark(mark)


def _never_closed(problem: str, text: str, opened_line: int, line: int) -> bool:
    """Whether a quote or bracket opened on ``opened_line`` ran on, unclosed, to where the parser stopped.

    At the end of the text it surely did. Back at the block layout of the line it opened on (a
    line indented no deeper: the next key, the next card), it did too. Inside the list, a bad
    item stopped the parser, and the bracket may well be closed after it.
    """
    if problem.startswith("found unexpected end of stream"):
        return True
    if not problem.startswith("did not find expected ','"):
        return False
    lines = _lines_to(text, line)
    if line > len(lines) or not lines[-1].strip():
        return True
    stopped_at, opened_at = lines[-1], lines[opened_line - 1]
    return len(stopped_at) - len(stopped_at.lstrip(" ")) <= len(opened_at) - len(opened_at.lstrip(" "))


def _lines_to(text: str, line: int) -> list[str]:
    """The text's lines from the first to ``line`` (fewer if the text ends before), as YAML breaks them."""
    return LINE_BREAK.split(text, maxsplit=line)[:line]


def _character_at(text: str, line: int, column: int) -> str:
    lines = _lines_to(text, line)
    if line - 1 >= len(lines):
        return ""
    row = lines[line - 1]
    return row[column - 1] if 0 < column <= len(row) else ""


def place_in_value(text: str, node: Scalar, value: str, snippet: str,
                   offset: int | None = None) -> tuple[int, int] | None:
    """Where ``snippet``, found at ``offset`` in ``value``, is written in the file's ``text``.

    ``value`` is the text of ``node`` (as the checks read it: in NFC). The snippet is the one
    at ``offset`` of its occurrences in the value; without an offset, it must occur only once.
    ``None`` when that cannot be told: the snippet is written otherwise in the file (escaped
    in double quotes, folded over two lines) or not as often as it occurs in the value.
    """
    in_value = _occurrences(value, snippet, 0, len(value))
    if offset is None:
        which = 0 if len(in_value) == 1 else None
    else:
        which = in_value.index(offset) if offset in in_value else None
    first = _text_index(text, node.line, node.column)
    if text[first:first + 1] in ("|", ">"):  # a block of lines: its text starts below its header's comment
        starts = _line_starts(text)
        first = starts[min(bisect.bisect_right(starts, first), len(starts) - 1)]
    in_text = _occurrences(text, snippet, first, _text_index(text, node.end_line, node.end_column))
    if which is None or len(in_text) != len(in_value):
        return None
    return _text_position(text, in_text[which])


def _occurrences(text: str, snippet: str, first: int, last: int) -> list[int]:
    """Where ``snippet`` starts in ``text`` between ``first`` and ``last``, each after the one before."""
    found: list[int] = []
    at = text.find(snippet, first, last) if snippet else -1
    while at >= 0:
        found.append(at)
        at = text.find(snippet, at + len(snippet), last)
    return found


@functools.lru_cache(maxsize=2)
def _line_starts(text: str) -> tuple[int, ...]:
    """Where each line of ``text`` starts, as YAML breaks them; worked out once for a file's problems."""
    return (0, *(line_break.end() for line_break in LINE_BREAK.finditer(text)))


def _text_index(text: str, line: int, column: int) -> int:
    """The index in ``text`` of a 1-based line and column, as the parsers count them."""
    starts = _line_starts(text)
    return min(starts[min(line, len(starts)) - 1] + column - 1, len(text))


def _text_position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of an index in ``text``."""
    starts = _line_starts(text)
    line = bisect.bisect_right(starts, index)
    return line, index - starts[line - 1] + 1


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    # The bytes before the first invalid one are valid UTF-8: count in their text.
    before = data[:offset].decode("utf-8")
    return _text_position(before, len(before))
