"""The values the pipeline passes along: card kinds, the keys of the format, cards and the deck.

The key tables here are the single definition of the YAML format: the checker
reads them to validate files, and the documentation is written from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Literal, NamedTuple

from studycards.reader import Mapping, Scalar, place_in_value


class Kind(str, Enum):
    """The five kinds of card; each has its own note type."""

    BASIC = "basic"
    REVERSED = "reversed"
    CLOZE = "cloze"
    CHOICE = "choice"
    TYPED = "typed"


KeyType = Literal["text", "flag", "list", "number", "mapping"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType
    help: str
    required: bool = False
    keys: tuple[Key, ...] = ()  # the keys of a "mapping"


LINT_KEYS: tuple[Key, ...] = (
    Key("disable", "list", "Lint rules switched off for the whole deck."),
    Key("max-answer-words", "number", "Longest answer, in words, before long-answer warns (default 12)."),
    Key("max-deletions-per-card", "number",
        "Most deletions one cloze card may hide at once before too-many-deletions warns (default 2)."),
)


DECK_KEYS: tuple[Key, ...] = (
    Key("id", "text", "The deck's permanent namespace for note ids: never change it.", required=True),
    Key("name", "text", "The deck's name in Anki; subdecks go below it.", required=True),
    Key("description", "text", "Shown on the deck's overview screen (Markdown)."),
    Key("source", "text", "Default source for every card that names none."),
    Key("lint", "mapping", "Settings of the card-quality lint.", keys=LINT_KEYS),
)

FILE_KEYS: tuple[Key, ...] = (
    Key("subdeck", "text", 'Put this file\'s cards in "<deck name>::<subdeck>".'),
    Key("tags", "list", "Tags added to every card of the file."),
    Key("cards", "list", "The cards of this file.", required=True),
)

CARD_KEYS: tuple[Key, ...] = (
    Key("id", "text", "Stable and unique in the deck; a build writes one in when it is missing."),
    Key("q", "text", "The question (Markdown)."),
    Key("a", "text", "The answer (Markdown); for multiple choice, one of the choices."),
    Key("cloze", "text", "Cloze text with {{c1::answer}} or {{c1::answer::hint}} deletions."),
    Key("choices", "list", "Makes a multiple-choice card; 'a' must be one of them."),
    Key("reverse", "flag", "true: also ask answer -> question."),
    Key("typed", "flag", "true: the learner types the answer and Anki compares it."),
    Key("extra", "text", "Context shown under the answer (Markdown)."),
    Key("source", "text", "Where the fact comes from, shown small on the back."),
    Key("sound", "text", "A sound file under cards/media/, played on the back."),
    Key("tags", "list", "Tags of this card, added to the file's tags."),
    Key("lint-ignore", "list", "Lint rules silenced for this card only."),
)

# A kind from its name in the YAML, a cache entry or the deck index; faster than Kind(name).
KIND_BY_VALUE = {kind.value: kind for kind in Kind}

# Keys that decide the kind; no two may be given together.
KIND_KEYS = ("cloze", "choices", "reverse", "typed")

# Images and sounds live here, inside the cards folder.
MEDIA_FOLDER = "media"

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
# Answer and hint never run past a "::", "}}" or "{{": an unclosed deletion then costs a
# short scan instead of a search to the end of the text (nested deletions are not supported).
CLOZE_PATTERN = re.compile(
    r"\{\{c([0-9]+)::((?:(?!::|\}\}|\{\{).)*)(?:::((?:(?!\}\}|\{\{).)*))?\}\}", re.DOTALL)
# Where a deletion starts. One that CLOZE_PATTERN does not match whole is unclosed or nested.
CLOZE_OPENING = re.compile(r"\{\{c[0-9]+::")
MAX_CLOZE_NUMBER = 65535  # Anki keeps a card's template number in 16 bits


def cloze_number(digits: str) -> int:
    """A deletion's number as Anki reads it ("c01" is card 1); any past the last it takes as one more.

    (``int`` refuses text of over 4,300 digits, and a number that long is refused anyway.)
    """
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= len(str(MAX_CLOZE_NUMBER)) else MAX_CLOZE_NUMBER + 1


def cloze_numbers(text: str) -> list[int]:
    """The cards a cloze text makes, as Anki counts them: "c01" is card 1, "c0" makes none."""
    return sorted({cloze_number(match.group(1)) for match in CLOZE_PATTERN.finditer(text)} - {0})


@dataclass(frozen=True)
class LintConfig:
    disabled: frozenset[str] = frozenset()
    max_answer_words: int = 12
    max_deletions_per_card: int = 2


@dataclass(frozen=True)
class IdSlot:
    """Where a missing ``id:`` goes, from the positions of a card's mapping (1-based).

    A block mapping gets a new line, indented to ``column``, after its first value,
    which ends at ``end_line``/``end_column``. A flow mapping (``- {q: ..., a: ...}``)
    gets ``id: ..., `` just after its brace at ``line``/``column``.
    """

    flow: bool
    line: int
    column: int
    end_line: int
    end_column: int


# Each text key of a card with its line and column.
Positions = tuple[tuple[str, int, int], ...]


class Card(NamedTuple):
    """One card as its file gives it, checked: its text, settings and places.

    A named tuple rather than a frozen dataclass: just as immutable, and made several
    times faster, which counts for a card made once for every card of every file read.
    """

    id: str
    kind: Kind
    file: str
    line: int
    column: int
    subdeck: str
    question: str = ""
    answer: str = ""
    cloze: str = ""
    choices: tuple[str, ...] = ()
    extra: str = ""
    source: str = ""
    sound: str = ""
    tags: tuple[str, ...] = ()
    lint_ignore: tuple[str, ...] = ()
    # Position of each text key, so later steps can report at the right place.
    positions: Positions = ()
    # Where the build writes the id it makes, when the YAML has none.
    id_slot: IdSlot | None = None
    # Where each tag is written, in the order of ``tags``: in the card, or in its file's tags.
    tag_positions: tuple[tuple[int, int], ...] = ()
    choice_positions: tuple[tuple[int, int], ...] = ()  # where each choice is written
    # The card's mapping as read, and the text of its file: to place a problem at the words it
    # is about (``place``), not only at the value's start. Both only referred to, not copied.
    node: Mapping | None = None
    file_text: str = ""

    def position(self, key: str) -> tuple[int, int]:
        for name, line, column in self.positions:
            if name == key:
                return line, column
        return self.line, self.column

    def place(self, key: str, *snippets: str) -> tuple[int, int]:
        """Where the value of ``key`` holds the first of ``snippets`` that it holds once, else where it
        starts: the words a problem of that value is about."""
        value = self.node.get(key) if self.node is not None else None
        if isinstance(value, Scalar):
            for snippet in snippets:
                # Counted in the text as the card holds it (NFC), as the problem was found in it.
                place = place_in_value(self.file_text, value, self.text_of(key), snippet)
                if place is not None:
                    return place
        return self.position(key)

    def text_of(self, key: str) -> str:
        """The text of one of the card's text keys ("q", "a", "cloze", "extra", "source")."""
        return {"q": self.question, "a": self.answer, "cloze": self.cloze, "extra": self.extra,
                "source": self.source}[key]

    @property
    def file_name(self) -> str:
        return file_name(self.file)

    @property
    def prompt_text(self) -> str:
        """The text a card asks, used to derive ids and compare cards."""
        return self.cloze if self.kind is Kind.CLOZE else self.question


def file_name(path: str) -> str:
    """A card file's name without its folder (a card's ``file`` is a path with "/" separators)."""
    return path.rpartition("/")[2]


class CardFacts(NamedTuple):
    """What the deck-wide pass needs of a card: its identity and places, none of its text.

    Cards are read, checked and rendered file by file (possibly in another
    process, or taken from the cache); only these facts travel on to the
    checks that compare cards across the deck, so they stay small. The places
    are those of the keys a deck-wide problem can point at.
    """

    id: str
    kind: Kind
    file: str
    line: int
    column: int
    subdeck: str
    tags: tuple[str, ...]
    lint_ignore: tuple[str, ...]
    id_position: tuple[int, int]
    tag_positions: tuple[tuple[int, int], ...]  # of each tag, in the order of ``tags``
    subdeck_position: tuple[int, int]  # of its file's "subdeck"
    prompt_position: tuple[int, int]  # of "q", or of "cloze" for a cloze card
    answer_position: tuple[int, int]
    guid: str = ""  # of its note; empty until the card has an id
    signature: tuple[int, int] | None = None  # as ``lint.prompt_signature`` makes it
    ords: tuple[int, ...] = ()  # the template ordinals of the cards Anki makes from its note

    def position(self, key: str) -> tuple[int, int]:
        """Where the card's ``key`` is ("id", "q", "cloze" or "a"); else the card's own place."""
        if key == "id":
            return self.id_position
        if key in ("q", "cloze"):
            return self.prompt_position
        if key == "a":
            return self.answer_position
        return self.line, self.column


@dataclass(frozen=True)
class Deck:
    """What deck.yaml says. The cards themselves stream past file by file, never all held at once."""

    id: str
    name: str
    description: str
    source: str
    deck_file: str
    description_position: tuple[int, int] = (1, 1)
    lint: LintConfig = LintConfig()
    id_position: tuple[int, int] = (1, 1)
    source_position: tuple[int, int] = (1, 1)

    def full_deck_name(self, subdeck: str) -> str:
        return f"{self.name}::{subdeck}" if subdeck else self.name
