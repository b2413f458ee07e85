"""Give cards without an ``id`` one, and write it into their YAML file.

An id is derived once from the card's question, made unique in the deck,
and then belongs to the card: later rewording never changes it, because the
note's GUID (and so the learner's review history) hangs on it.

Anki keeps the note of a card deleted from the YAML, and a new card given
its id would take that note over, review history and all. No record of
every id the deck ever had survives a fresh clone (the last build's manifest
is in ``dist/``), so a derived id ends with a short code of the question's
whole text: questions that begin alike get different ids by themselves.

The write-back inserts one ``id:`` line per card and changes no other byte
of the file: comments, blank lines, quoting, line ends and a byte-order mark
stay as they were.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass

from studycards.cards import CLOZE_PATTERN, Card, IdSlot
from studycards.reader import LINE_BREAK

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or",
    "is", "are", "was", "were", "be", "did", "do", "does", "which", "what", "who", "whom",
    "whose", "when", "where", "why", "how", "that", "this", "these", "those", "it", "its",
})
_MAX_WORDS = 5
_MAX_SLUG = 40  # characters: a word of thousands would otherwise make an id no one can read
_CODE_LENGTH = 4  # hex digits: two questions alike in their first words share one in 65,536


@dataclass(frozen=True)
class IdInsertion:
    file: str
    card_id: str
    slot: IdSlot


def assign_id(card: Card, taken: Container[str]) -> tuple[Card, IdInsertion]:
    """The card with a new id unique among ``taken``, and the insertion that records it."""
    assert card.id_slot is not None, "only a card without an id gets one"
    new_id = unique_id(derived_id(card.prompt_text), taken)
    return card._replace(id=new_id), IdInsertion(card.file, new_id, card.id_slot)


def derived_id(question: str) -> str:
    """The question's first meaningful words, then a code of its whole text: ``city-hosted-talks-e09f``."""
    return f"{slug(question)}-{hashlib.sha256(question.encode()).hexdigest()[:_CODE_LENGTH]}"


def slug(text: str) -> str:
    """A readable id from a question: its first few meaningful words."""
    text = CLOZE_PATTERN.sub(lambda match: match.group(2), text)
    text = text.replace("'", "").replace("\u2019", "")  # "Wang Yi's" -> "wang-yis"
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [word for word in _WORD.findall(ascii_text) if word not in _STOP_WORDS][:_MAX_WORDS]
    while len(words) > 1 and len("-".join(words)) > _MAX_SLUG:
        words.pop()  # whole words: a cut one reads as another
    return "-".join(words)[:_MAX_SLUG] or "card"


def unique_id(base: str, taken: Container[str]) -> str:
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def insert_ids(data: bytes, insertions: list[IdInsertion]) -> bytes:
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    text = data[len(bom):].decode("utf-8")
    first_break = LINE_BREAK.search(text)  # the new lines end as the file's lines do
    newline = first_break.group() if first_break else "\n"
    lines = text.splitlines(keepends=True)
    # Bottom to top, right to left, so earlier positions stay valid.
    for insertion in sorted(insertions, key=_position, reverse=True):
        slot = insertion.slot
        if slot.flow:
            index = slot.line - 1
            column = slot.column  # just after the brace, which is at column - 1
            row = lines[index]
            rest = row[column:]
            space = "" if rest[:1] in ("", "\n", "\r") else " "  # none at the end of a line ("- {⏎")
            lines[index] = f"{row[:column]}id: {insertion.card_id},{space}{rest}"
            continue
        at = _line_after_value(lines, slot)
        if at > 0 and not lines[at - 1].endswith(("\n", "\r")):
            lines[at - 1] += newline
        lines.insert(at, f"{' ' * (slot.column - 1)}id: {insertion.card_id}{newline}")
    return bom + "".join(lines).encode("utf-8")


def _line_after_value(lines: list[str], slot: IdSlot) -> int:
    """Index of the line before which the new line goes: just after the first value."""
    index = slot.end_line - 1
    if index >= len(lines):
        return len(lines)
    # A block value ends at the start of the next line: insert before that line.
    if not lines[index][: slot.end_column - 1].strip():
        return index
    return index + 1


def _position(insertion: IdInsertion) -> tuple[int, int]:
    slot = insertion.slot
    return (slot.line, slot.column) if slot.flow else (slot.end_line, slot.end_column)
