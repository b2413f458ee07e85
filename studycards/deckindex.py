"""The deck index: what the deck-wide checks remember of every card, kept out of memory.

A repeated id, or a question that looks like an earlier one, can be anywhere
in the deck, so these checks must remember every card they have seen. As
Python objects that costs about 300 bytes a card, 30 MB for 100,000 cards.
The index keeps the few facts they need in a private, temporary SQLite
database instead (SQLite deletes it when it is closed), whose page cache
stays small however large the deck; the checks ask it once every card is in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from studycards.cards import KIND_BY_VALUE, CardFacts

_SCHEMA = """
CREATE TABLE cards (
    seq INTEGER PRIMARY KEY,  -- the order the cards came in
    id TEXT NOT NULL, kind TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL,
    id_line INTEGER NOT NULL, id_column INTEGER NOT NULL,
    prompt INTEGER, answer INTEGER,  -- the card's prompt signature, if it has one
    prompt_line INTEGER NOT NULL, prompt_column INTEGER NOT NULL,
    answer_line INTEGER NOT NULL, answer_column INTEGER NOT NULL,
    lint_ignore TEXT NOT NULL,  -- rule ids, space-separated
    closeness INTEGER NOT NULL  -- to the last build's card of its id (manifest.AS_BUILT, ...)
)
"""


class DeckIndex:
    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a private database in a temporary file
        self._db.execute("PRAGMA cache_size = -512")  # KiB: rows are only appended, then sorted once
        self._db.execute(_SCHEMA)
        self._indexed = False

    def add(self, cards: Sequence[CardFacts], closeness: Sequence[int] | None = None) -> None:
        """Take in cards; ``closeness``, per card: how close it is to the last build's card with
        its id, as ``PlanBuilder.add`` tells (0, not close, when not given)."""
        self._db.executemany(
            "INSERT INTO cards VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(card.id, card.kind.value, card.file, card.line, *card.id_position,
              *(card.signature or (None, None)), *card.prompt_position, *card.answer_position,
              " ".join(card.lint_ignore), close)
             for card, close in zip(cards, closeness or [0] * len(cards), strict=True) if card.id])

    def __contains__(self, card_id: object) -> bool:
        self._index()
        return self._db.execute("SELECT 1 FROM cards WHERE id = ? LIMIT 1", (card_id,)).fetchone() is not None

    def id_place(self, card_id: str) -> tuple[str, int, int]:
        """The file, line and column of the (first) card with this id."""
        self._index()
        row = self._db.execute("SELECT file, id_line, id_column FROM cards WHERE id = ? ORDER BY seq LIMIT 1",
                               (card_id,)).fetchone()
        assert row is not None, "a card of this deck"
        file, line, column = row
        return str(file), int(line), int(column)

    def repeated_ids(self) -> list[list[tuple[CardFacts, int]]]:
        """The cards that share an id, each group in deck order; each card with its closeness
        to the last build's card (see ``add``)."""
        self._index()
        rows = self._db.execute(f"""
            SELECT {_LATER}, later.closeness FROM cards AS later
            WHERE later.id IN (SELECT id FROM cards GROUP BY id HAVING COUNT(*) > 1)
            ORDER BY later.seq""")
        groups: dict[str, list[tuple[CardFacts, int]]] = {}
        for row in rows:
            card = _facts(row[:_LATER_COLUMNS])
            groups.setdefault(card.id, []).append((card, row[_LATER_COLUMNS]))
        return list(groups.values())

    def look_alikes(self) -> list[tuple[CardFacts, tuple[str, str, int, int]]]:
        """Each card whose prompt signature an earlier card has, with that first card's
        id, file, line and answer signature."""
        self._index()
        rows = self._db.execute(f"""
            WITH firsts AS (SELECT prompt, MIN(seq) AS seq FROM cards WHERE prompt IS NOT NULL
                            GROUP BY prompt HAVING COUNT(*) > 1)
            SELECT {_LATER}, first.id, first.file, first.line, first.answer
            FROM firsts JOIN cards AS first ON first.seq = firsts.seq
                JOIN cards AS later ON later.prompt = firsts.prompt AND later.seq > firsts.seq
            ORDER BY later.seq""")
        return [(_facts(row[:_LATER_COLUMNS]), row[_LATER_COLUMNS:]) for row in rows]

    def close(self) -> None:
        self._db.close()

    def _index(self) -> None:
        # Made once the bulk of the cards is in: cheaper than keeping them up to date row by row.
        if not self._indexed:
            self._db.execute("CREATE INDEX cards_id ON cards (id)")
            self._db.execute("CREATE INDEX cards_prompt ON cards (prompt) WHERE prompt IS NOT NULL")
            self._indexed = True


_LATER = ", ".join(f"later.{name}" for name in (
    "id", "kind", "file", "line", "id_line", "id_column", "prompt", "answer", "prompt_line",
    "prompt_column", "answer_line", "answer_column", "lint_ignore"))
_LATER_COLUMNS = _LATER.count(",") + 1


def _facts(row: tuple[Any, ...]) -> CardFacts:
    """The facts of a card as the index holds them: enough to report a problem at it."""
    (card_id, kind, file, line, id_line, id_column, prompt, answer, prompt_line, prompt_column,
     answer_line, answer_column, lint_ignore) = row
    signature = None if prompt is None else (prompt, answer)
    # The index keeps no column, subdeck or tags: no problem it reports points at them.
    return CardFacts(card_id, KIND_BY_VALUE[kind], file, line, column=1, subdeck="", tags=(),
                     lint_ignore=tuple(lint_ignore.split()), id_position=(id_line, id_column),
                     tag_positions=(), subdeck_position=(line, 1),
                     prompt_position=(prompt_line, prompt_column),
                     answer_position=(answer_line, answer_column), signature=signature)
