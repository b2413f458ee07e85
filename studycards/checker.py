"""Check the nodes of ``cards/`` against the format and turn them into cards.

Every problem is collected, none stops the check early, so the author sees
all of them at once. The format itself is defined by the key tables in
``studycards.cards``.
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from studycards.cards import (
    CARD_KEYS,
    CLOZE_OPENING,
    CLOZE_PATTERN,
    DECK_KEYS,
    FILE_KEYS,
    ID_PATTERN,
    KIND_KEYS,
    LINT_KEYS,
    MAX_CLOZE_NUMBER,
    MEDIA_FOLDER,
    Card,
    CardFacts,
    Deck,
    IdSlot,
    Key,
    Kind,
    LintConfig,
    cloze_number,
    file_name,
)
from studycards.deckindex import DeckIndex
from studycards.lint import RULE_IDS
from studycards.problems import Problem
from studycards.reader import Mapping, Node, Scalar, Sequence, place_in_value, read_file

DECK_FILE = "deck.yaml"
# Format characters that show nothing: zero-width spaces and joiners, direction marks, a byte-order
# mark, a soft hyphen. Text of only these (and spaces) is as empty as no text.
_INVISIBLE_CHARACTERS = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARACTERS}]")
_SHOWN = re.compile(f"[^\\s{_INVISIBLE_CHARACTERS}]")
_BREAKS = "\t\n\r\v\f"
_ESCAPED_BREAKS = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\v": "\\v", "\f": "\\f"})
_MAX_DIGITS = 9  # of a number setting: far more than any limit needs, and int() takes it
_DECK_FILE_NAMES = ("deck.yaml", "deck.yml")  # in any case: the deck file's, misspelled or not
CARD_FILE_SUFFIXES = (".yaml", ".yml")

_FLAG_VALUES = {"true": True, "false": False}
# In a file name, these would break the lines of a message or of the quiz page.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
# Names other card tools use, for the did-you-mean of an unknown key.
_KEY_SYNONYMS = {"question": "q", "front": "q", "answer": "a", "back": "a", "text": "cloze",
                 "tag": "tags", "options": "choices", "choice": "choices", "note": "extra",
                 "notes": "extra", "audio": "sound", "deck": "subdeck", "title": "name"}
_NODE_NAMES = {Scalar: "text", Mapping: "a mapping", Sequence: "a list"}
_CARD_FLAGS = frozenset(key.name for key in CARD_KEYS if key.type == "flag")
# Anki reads such a deletion as an image occlusion shape, with attributes of the author's choosing.
_IMAGE_OCCLUSION = re.compile(r"\{\{c[0-9]+::image-occlusion:")
# Anki's "{{c1,2::…}}" hides the text on cards 1 and 2; this format gives a deletion one number.
_SEVERAL_CARDS_DELETION = re.compile(r"\{\{c(?=[0-9,]*[0-9])[0-9]*,[0-9,]*::")  # Anki's: "c,1", "c1,"
# What a deletion's start looks like when mistyped: one colon ("{{c1:"), a full-width one, a capital C,
# spaces, no number ("{{c::"), one opening brace. Anki shows such text as it is, so the card asks nothing
# there. Without a number, one colon is other text ("{{c:>10}}" in a format string, "{{C:\Users}}").
# (Braces escaped for Markdown, "\{\{c1::", are told by the renderer.)
# (Each run of spaces can be matched one way only: a long one costs no backtracking.)
_DELETION_LOOK_ALIKE = re.compile(r"\{\{[ \t]*[cC][ \t]*(?:[0-9]+[ \t]*[:\uff1a]+|[:\uff1a]{2,})"
                                  r"|(?<!\\)\{[ \t]*[cC][ \t]*[0-9]+[ \t]*[:\uff1a]{2}")
# Each key table by name, and its required keys, made once: every mapping read looks them up.
_KEY_TABLES = {id(table): ({key.name: key for key in table}, [key.name for key in table if key.required])
               for table in (DECK_KEYS, FILE_KEYS, CARD_KEYS, LINT_KEYS)}


class _Values:
    """The checked values of one mapping, keyed by name, with the keys' positions."""

    def __init__(self) -> None:
        self.text: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}
        self.flags: dict[str, bool] = {}
        self.numbers: dict[str, int] = {}
        self.mappings: dict[str, _Values] = {}
        self.positions: dict[str, tuple[int, int]] = {}
        self.list_positions: dict[str, list[tuple[int, int]]] = {}


def check_folder(folder: Path, display: str) -> tuple[Deck | None, list[Path], list[Problem]]:
    """The deck file and the list of card files; the card files are checked one by one later."""
    deck_path = f"{display}/{DECK_FILE}"
    if not folder.exists():
        return None, [], [Problem(display, 1, 1, "error",
                                  "no such folder: expected a folder of YAML card files")]
    if not folder.is_dir():
        return None, [], [Problem(display, 1, 1, "error",
                                  "expected a folder of YAML card files, found a file")]
    problems: list[Problem] = []
    deck: Deck | None = None
    deck_file = folder / DECK_FILE
    unusable = _unusable_file(deck_file, folder, DECK_FILE)
    if unusable:
        problems.append(Problem(deck_path, 1, 1, "error", unusable))
    elif deck_file.is_file():
        deck, deck_problems = check_deck_file(deck_file, deck_path)
        problems += deck_problems
    # (On a file system that ignores case, "Deck.yaml" is deck.yaml itself.)
    misspelled = [file for file in sorted(folder.iterdir())
                  if file.name.lower() in _DECK_FILE_NAMES and file.name != DECK_FILE and file.is_file()
                  and not (deck_file.is_file() and file.samefile(deck_file))]
    if not deck_file.is_file() and not misspelled and not unusable:
        problems.append(Problem(deck_path, 1, 1, "error",
                                "deck.yaml is missing: it names the deck (id, name)"))
    for file in misspelled:  # never read as a card file
        problems.append(Problem(f"{display}/{file.name}", 1, 1, "error",
                                f"the deck file must be named {DECK_FILE}: "
                                + ("merge this file into it" if deck_file.exists() else "rename this file")))
    card_files = []
    real_files: dict[str, str] = {}  # each card file's real path, and the name it was listed by
    for file in list_card_files(folder):
        if file.name.lower() in _DECK_FILE_NAMES:
            continue
        shown = os.fsencode(file.name).decode("utf-8", "backslashreplace")
        unusable = _unusable_file(file, folder, "card file")
        real = os.path.realpath(file)
        if not unusable and real in real_files:
            # Every card would be in the deck twice, and a build could not write its ids twice.
            unusable = f"this file is {real_files[real]} under another name (a link); keep one of the two"
        if unusable:
            problems.append(Problem(f"{display}/{shown}", 1, 1, "error", unusable))
        else:
            real_files[real] = f"{display}/{shown}"
            card_files.append(file)
    for subfolder in _unread_subfolders(folder, set(real_files)):
        problems.append(Problem(f"{display}/{subfolder.name}", 1, 1, "warning",
                                f"card files in subfolders are not read: move them into {display}"))
    if not card_files and deck is not None and not any(problem.level == "error" for problem in problems):
        problems.append(Problem(deck_path, 1, 1, "error",
                                f"no card files: add one such as {display}/topic.yaml"))
    return deck, card_files, problems


def list_card_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir()
                  if path.suffix.lower() in CARD_FILE_SUFFIXES and path.name != DECK_FILE
                  and not path.name.startswith("."))


def _unread_subfolders(folder: Path, read: set[str]) -> list[Path]:
    """Subfolders holding YAML files not ``read`` (through a link): they would be missed silently."""
    return sorted(path for path in folder.iterdir()
                  if path.is_dir() and not path.is_symlink() and path.name != MEDIA_FOLDER
                  and not path.name.startswith(".")
                  and any(file.suffix.lower() in CARD_FILE_SUFFIXES and os.path.realpath(file) not in read
                          and not any(part.startswith(".") for part in file.relative_to(path).parts)
                          for file in path.rglob("*")))


def check_deck_file(file: Path, path: str) -> tuple[Deck | None, list[Problem]]:
    node, problems = read_file(file, path)
    if node is None:
        return None, problems
    if not isinstance(node, Mapping):
        return None, [_wrong_type(path, node, "the deck file must be a mapping of keys (id, name, ...)")]
    values = _check_keys(node, DECK_KEYS, path, problems, "deck.yaml")
    _check_deck_name(values, "name", path, problems)
    deck_id = values.text.get("id", "")
    if "id" in values.text and not ID_PATTERN.match(deck_id):
        line, column = values.positions["id"]
        problems.append(Problem(path, line, column, "error", _bad_id_message(deck_id)))
    elif "__" in deck_id:
        # A note's GUID hashes "<deck id>__<card id>" (genanki.guid_for): with "__" in the deck id one
        # string has two readings, "lang__es" + "ser" and "lang" + "es__ser". (Card ids cannot start
        # with "_", so a deck id ending in one is safe.) Not an error, nor a warning that --strict
        # would make one: an imported deck keeps its notes only under its id, so it must build.
        line, column = values.positions["id"]
        problems.append(Problem(path, line, column, "note",
                                f"deck id '{deck_id}' has '__': each note's identity joins the deck id and "
                                "the card id with '__', so a card of another deck could take one of this "
                                "deck's notes; change the id before the deck's first import"))
    lint = _lint_config(values.mappings.get("lint"), path, problems)
    if any(problem.level == "error" for problem in problems):
        return None, problems
    return Deck(deck_id, values.text["name"], values.text.get("description", ""),
                values.text.get("source", ""), path,
                values.positions.get("description", (1, 1)), lint, values.positions["id"],
                values.positions.get("source", (1, 1))), problems


def _lint_config(values: _Values | None, path: str, problems: list[Problem]) -> LintConfig:
    if values is None:
        return LintConfig()
    _check_rule_ids(values, "disable", path, problems)
    defaults = LintConfig()
    return LintConfig(
        disabled=frozenset(values.lists.get("disable", ())),
        max_answer_words=values.numbers.get("max-answer-words", defaults.max_answer_words),
        max_deletions_per_card=values.numbers.get("max-deletions-per-card",
                                                  defaults.max_deletions_per_card),
    )


def _check_rule_ids(values: _Values, key: str, path: str, problems: list[Problem]) -> None:
    for rule_id, (line, column) in zip(values.lists.get(key, []), values.list_positions.get(key, []),
                                       strict=True):
        if rule_id not in RULE_IDS:
            close = difflib.get_close_matches(rule_id, RULE_IDS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(path, line, column, "error", f"unknown lint rule '{rule_id}'{hint}"))


def check_card_nodes(node: Node, path: str, text: str = "") -> tuple[list[Card], list[Problem]]:
    """The cards of a card file's nodes, and its problems; ``text``, the file's, places them exactly."""
    problems: list[Problem] = []
    if not isinstance(node, Mapping):
        wrong = _wrong_type(path, node, "a card file must be a mapping with a 'cards' list")
        return [], [Problem(path, wrong.line, wrong.column, "error",
                            f"{wrong.message}: put 'cards:' on the first line, and the cards under it")]
    values = _check_keys(node, FILE_KEYS, path, problems, "card file")
    _check_deck_name(values, "subdeck", path, problems)
    subdeck = values.text.get("subdeck", "")
    file_tags = values.lists.get("tags", [])
    _check_tags(values, path, problems)
    cards_node = node.get("cards")
    cards: list[Card] = []
    if isinstance(cards_node, Sequence):
        if not cards_node.items:
            problems.append(Problem(path, cards_node.line, cards_node.column, "error",
                                    "'cards' is empty: add at least one card"))
        for item in cards_node.items:
            card = _check_card(item, path, subdeck, values.positions.get("subdeck"), file_tags,
                               values.list_positions.get("tags", []), problems, text)
            if card is not None:
                cards.append(card)
    return cards, problems


class CrossFileChecks:
    """What no single file shows: repeated ids, and names differing only in case.

    Anki merges tags, and deck names, that differ only in case, at every level of
    a "::" hierarchy: "Speaker::cho" and "speaker::wang" share one parent. Cards
    arrive file by file; each is checked against those before it, so a problem is
    reported at the later card (once per file for a name the file gives every card).
    Only spellings are kept here; the ids are in the deck index.
    """

    def __init__(self, index: DeckIndex) -> None:
        self.index = index  # every card so far, for the repeated ids
        # casefolded name -> first spelling, file, line; per kind of name
        self._spellings: dict[str, dict[str, tuple[str, str, int]]] = {"tag": {}, "subdeck": {}}
        # Names whose every level is spelled as first seen: most cards repeat a few tags.
        self._agreed: dict[str, set[str]] = {"tag": set(), "subdeck": set()}
        self._reported: set[tuple[str, str, str]] = set()
        self.repeated: set[str] = set()  # the ids ``finish`` found on more than one card

    def add(self, cards: list[CardFacts], without_ids: list[CardFacts] | None = None,
            closeness: list[int] | None = None) -> list[Problem]:
        """Take in a file's cards; the spellings are checked at once, the ids by ``finish``.

        Cards still ``without_ids`` join the index later, once they have one; their names
        are checked now, in file order with the others. ``closeness``: see ``DeckIndex.add``.
        """
        self.index.add(cards, closeness)
        if without_ids:
            cards = sorted([*cards, *without_ids], key=lambda card: (card.line, card.column))
        problems = []
        agreed_tags, agreed_subdecks = self._agreed["tag"], self._agreed["subdeck"]
        for card in cards:
            for tag, place in zip(card.tags, card.tag_positions, strict=True):
                if tag not in agreed_tags:
                    problems += self._spelling("tag", tag, card, place)
            if card.subdeck and card.subdeck not in agreed_subdecks:
                problems += self._spelling("subdeck", card.subdeck, card, card.subdeck_position)
        return problems

    def finish(self, last_file: Callable[[str], str | None] = lambda card_id: None) -> list[Problem]:
        """An error at each card whose id another card keeps; the ids told are in ``repeated``.

        Of the cards sharing an id, the one the last build had keeps it: the notes in Anki,
        and their review history, are that card's. That is the card left as it was, else the
        one still asking its question (a copy pasted beside it and reworded is the new one),
        else the one in the file that had the id (``last_file``: a file's name, without its
        folder), else the first in the deck.
        """
        problems = []
        for group in self.index.repeated_ids():
            # max() returns the first of equals: of cards alike, the earliest in the deck.
            kept, _ = max(group, key=lambda item: (item[1], file_name(item[0].file) == last_file(item[0].id)))
            cards = [card for card, _ in group]
            self.repeated.add(kept.id)
            where = f"{kept.file}:{kept.id_position[0]}"
            for card in cards:
                if card is kept:
                    continue
                line, column = card.position("id")
                problems.append(Problem(card.file, line, column, "error", (
                    f"card id '{card.id}' is used again (first at {where}); ids must be unique in the deck"
                    if kept is cards[0] else
                    f"card id '{card.id}' is used again: the card at {where} had it in the last build, and "
                    "keeps it; give this card an id of its own")))
        return problems

    def _spelling(self, kind: str, name: str, card: CardFacts, place: tuple[int, int]) -> list[Problem]:
        problems = []
        seen = self._spellings[kind]
        parts = name.split("::")
        agreed = True
        for end in range(1, len(parts) + 1):
            prefix = "::".join(parts[:end])
            spelling, file, line = seen.setdefault(prefix.casefold(), (prefix, card.file, place[0]))
            if spelling == prefix:
                continue
            agreed = False
            if (kind, prefix, card.file) in self._reported:
                continue
            self._reported.add((kind, prefix, card.file))
            problems.append(Problem(card.file, place[0], place[1], "error",
                                    f"{kind} '{prefix}' differs only in case from '{spelling}' "
                                    f"({file}:{line}); Anki would merge them: pick one spelling"))
        if agreed:  # spelled as first seen at every level: never a problem again
            self._agreed[kind].add(name)
        return problems


def _check_card(node: Node, path: str, subdeck: str, subdeck_position: tuple[int, int] | None,
                file_tags: list[str], file_tag_positions: list[tuple[int, int]],
                problems: list[Problem], text: str) -> Card | None:
    if not isinstance(node, Mapping):
        problems.append(_wrong_type(path, node, "a card must be a mapping of keys (q, a, ...)"))
        return None
    count = len(problems)
    values = _check_keys(node, CARD_KEYS, path, problems, "card")
    kind = _card_kind(node, values, path, problems, text)
    card_id = values.text.get("id", "")
    if "id" in values.text and not ID_PATTERN.match(card_id):
        line, column = values.positions["id"]
        problems.append(Problem(path, line, column, "error", _bad_id_message(card_id)))
    _check_tags(values, path, problems)
    _check_rule_ids(values, "lint-ignore", path, problems)
    if "id" not in values.text and node.flow and not node.braced:
        problems.append(Problem(path, node.line, node.column, "error",
                                "this card needs an id: one cannot be written into a card written as "
                                "a bare 'key: value' in a list; add 'id: ...' or use braces"))
    if kind is None or len(problems) > count:
        return None
    _warn_of_deletions_outside_cloze(node, values, path, problems, text)
    tag_positions = dict(zip(file_tags, file_tag_positions, strict=True))  # the file's tags first
    for tag, place in zip(values.lists.get("tags", []), values.list_positions.get("tags", []), strict=True):
        tag_positions.setdefault(tag, place)
    if subdeck_position is not None:
        values.positions["subdeck"] = subdeck_position  # a problem with the file's subdeck points there
    positions = tuple((key, line, column) for key, (line, column) in values.positions.items())
    return Card(
        id=card_id, kind=kind, file=path, line=node.line, column=node.column, subdeck=subdeck,
        question=values.text.get("q", ""), answer=values.text.get("a", ""),
        cloze=values.text.get("cloze", ""), choices=tuple(values.lists.get("choices", ())),
        extra=values.text.get("extra", ""), source=values.text.get("source", ""),
        sound=values.text.get("sound", ""), tags=tuple(tag_positions),
        lint_ignore=tuple(values.lists.get("lint-ignore", ())), positions=positions,
        id_slot=None if "id" in values.text else _id_slot(node), tag_positions=tuple(tag_positions.values()),
        choice_positions=tuple(values.list_positions.get("choices", ())),
        node=node, file_text=text,
    )


def _card_kind(node: Mapping, values: _Values, path: str, problems: list[Problem], text: str) -> Kind | None:
    """Decide the kind from the keys present, reporting keys that contradict it."""
    present = [key for key in KIND_KEYS if (values.flags.get(key) if key in _CARD_FLAGS
                                            else key in values.text or key in values.lists)]
    if not present and "q" not in values.positions and "a" not in values.positions:
        # A kind's key given empty, on a card with nothing else: its own error says it is empty.
        present = [key for key in KIND_KEYS if key not in _CARD_FLAGS and key in values.positions]
    if len(present) > 1:
        line, column = values.positions[present[1]]
        problems.append(Problem(path, line, column, "error",
                                f"'{present[1]}' cannot be combined with '{present[0]}': "
                                "a card has one kind"))
        return None
    kind = {"cloze": Kind.CLOZE, "choices": Kind.CHOICE, "reverse": Kind.REVERSED,
            "typed": Kind.TYPED}.get(present[0], Kind.BASIC) if present else Kind.BASIC
    if kind is Kind.CLOZE:
        for key in ("q", "a"):
            if key in values.positions:
                line, column = values.positions[key]
                problems.append(Problem(path, line, column, "error", f"a cloze card takes no '{key}': "
                                        "remove it, the text goes in 'cloze'"))
        _require(values, "cloze", node, path, problems)
        cloze = values.text.get("cloze", "")
        problems += [Problem(path, *_place(node, values, "cloze", snippet, offset, text), "error", message)
                     for snippet, offset, message in _cloze_problems(cloze)] if cloze else []
        return kind
    _require(values, "q", node, path, problems)
    _require(values, "a", node, path, problems)
    if kind is Kind.CHOICE:
        _check_choices(values, path, problems)
    return kind


def _warn_of_deletions_outside_cloze(node: Mapping, values: _Values, path: str, problems: list[Problem],
                                     text: str) -> None:
    """A deletion works only in a cloze card's 'cloze': anywhere else Anki shows its braces as written."""
    for key in ("q", "a", "extra", "source"):
        value = values.text.get(key, "")
        if "{{" in value and (opening := CLOZE_OPENING.search(value)):  # the test first: most hold none
            problems.append(Problem(path, *_place(node, values, key, opening.group(), opening.start(), text),
                                    "warning",
                                    _outside_cloze(opening.group(), key)))
    choices = zip(values.lists.get("choices", ()), values.list_positions.get("choices", ()), strict=True)
    for choice, (line, column) in choices:
        if "{{" in choice and (opening := CLOZE_OPENING.search(choice)):
            problems.append(Problem(path, line, column, "warning",
                                    _outside_cloze(opening.group(), "choices")))


def _outside_cloze(opening: str, key: str) -> str:
    return (f"'{opening}' in '{key}' is shown as written: a deletion hides text only in 'cloze', a cloze "
            "card's text")


def _place(node: Mapping, values: _Values, key: str, snippet: str, offset: int | None,
           text: str) -> tuple[int, int]:
    """Where ``snippet``, at ``offset`` in the value of ``key``, is written in the file's ``text``;
    else where the value starts."""
    value = node.get(key)
    assert isinstance(value, Scalar), "a text key's value"
    return place_in_value(text, value, values.text[key], snippet, offset) or (value.line, value.column)


def _cloze_problems(text: str) -> list[tuple[str, int | None, str]]:
    """What is wrong with the deletions of a cloze card's text: each problem once, with the words it is
    about and where they are in the text."""
    found: list[tuple[re.Match[str], str]] = []
    for several in _first_of_each(_SEVERAL_CARDS_DELETION.finditer(text)):
        found.append((several, f"cloze deletion '{several.group()}' names several cards: give each deletion "
                               "one number, and write the text again for another card"))
    if occlusion := _IMAGE_OCCLUSION.search(text):
        found.append((occlusion, "a deletion may not start with 'image-occlusion:': Anki would read it as a "
                                 "shape over an image and hide its text"))
    # A text that looks like a deletion's start but is not one: Anki shows it as it is.
    look_alikes = (match for match in _DELETION_LOOK_ALIKE.finditer(text)
                   if not CLOZE_OPENING.match(match.group()))
    for miswritten in _first_of_each(look_alikes):
        found.append((miswritten, f"cloze deletion '{miswritten.group()}' is miswritten: Anki would show it "
                                  "as text; write '{{c' and a number, then '::', as in {{c1::answer}}"))
    if not CLOZE_OPENING.search(text) and not found:
        return [("", None, "cloze text has no deletion: mark one like {{c1::answer}}")]
    # An opening that does not start a whole deletion: Anki would make cards of a nested deletion that
    # this program cannot render, and show an unclosed one as plain text.
    deletions = [(deletion, cloze_number(deletion.group(1))) for deletion in CLOZE_PATTERN.finditer(text)]
    whole = {deletion.start() for deletion, _ in deletions}
    for unmatched in _first_of_each(opening for opening in CLOZE_OPENING.finditer(text)
                                    if opening.start() not in whole):
        found.append((unmatched, f"cloze deletion '{unmatched.group()}' is not closed with '}}}}' or holds "
                                 "another deletion; deletions cannot be nested"))
    if zero := next((deletion for deletion, number in deletions if number == 0), None):
        found.append((zero, "cloze deletions are numbered from c1; c0 makes no card"))
    for hollow in _first_of_each(deletion for deletion, _ in deletions if _blank(deletion.group(2))):
        found.append((hollow, f"cloze deletion '{_shortened(hollow.group(), 30)}' hides nothing: write the "
                              "text to hide after '::'"))
    if too_far := next((deletion for deletion, number in deletions if number > MAX_CLOZE_NUMBER), None):
        found.append((too_far, f"cloze deletion c{_shortened(too_far.group(1))} is past the last number Anki "
                               f"takes: numbers go up to c{MAX_CLOZE_NUMBER}"))
    return [(match.group(), match.start(), message) for match, message in found]


def _first_of_each(matches: Iterable[re.Match[str]]) -> list[re.Match[str]]:
    """The matches in their order, only the first of those with the same text."""
    return list({match.group(): match for match in reversed(list(matches))}.values())[::-1]


def _check_choices(values: _Values, path: str, problems: list[Problem]) -> None:
    choices = values.lists.get("choices")
    if choices is None:
        return
    seen: dict[str, int] = {}
    for index, choice in enumerate(choices):
        line, column = values.list_positions["choices"][index]
        if _blank(choice):
            problems.append(Problem(path, line, column, "error", "a choice is empty"))
        elif choice.casefold() in seen:
            problems.append(Problem(path, line, column, "error",
                                    f"choice '{choice}' is repeated"))
        seen.setdefault(choice.casefold(), index)
    if len(choices) < 2:
        line, column = values.positions["choices"]
        problems.append(Problem(path, line, column, "error",
                                "a multiple-choice card needs at least two choices"))
    answer = values.text.get("a")
    if answer and answer not in choices:
        line, column = values.positions["a"]
        close = difflib.get_close_matches(answer, choices, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(Problem(path, line, column, "error",
                                f"answer '{answer}' is not one of the choices{hint}"))


def _require(values: _Values, key: str, node: Mapping, path: str, problems: list[Problem]) -> None:
    if key not in values.positions:
        problems.append(Problem(path, node.line, node.column, "error", f"card has no '{key}'"))


def _check_keys(node: Mapping, keys: tuple[Key, ...], path: str, problems: list[Problem],
                where: str) -> _Values:
    """Check each key's name and type; return the values that passed."""
    known, required = _KEY_TABLES[id(keys)]
    values = _Values()
    for key_node, value in node.entries:
        name = key_node.value
        spec = known.get(name)
        if spec is None:
            close = _did_you_mean(name, known)
            if close:
                hint = f"; did you mean '{close[0]}'?"
            elif node.flow and isinstance(value, Scalar) and not value.value:
                # "{q: Who came, in May?}": the comma ended the question, "in May?" is a key
                hint = "; inside { }, a comma ends a value: put text with commas in quotes"
            else:
                hint = f"; expected one of: {', '.join(known)}"
            problems.append(Problem(path, key_node.line, key_node.column, "error",
                                    f"unknown key '{_visible(name)}' in {where}{hint}"))
            continue
        values.positions[name] = (value.line, value.column)
        _check_value(spec, value, path, problems, values)
    for name in required:
        if name not in values.positions:
            problems.append(Problem(path, node.line, node.column, "error", f"{where} has no '{name}'"))
    return values


def _did_you_mean(name: str, known: dict[str, Key]) -> list[str]:
    """The closest known key, also through the names other card tools use."""
    candidates = {key: key for key in known}
    candidates.update({synonym: key for synonym, key in _KEY_SYNONYMS.items() if key in known})
    close = difflib.get_close_matches(name.lower(), candidates, n=1)
    return [candidates[close[0]]] if close else []


def _check_value(spec: Key, value: Node, path: str, problems: list[Problem], values: _Values) -> None:
    name = spec.name
    if spec.type == "mapping":
        if isinstance(value, Mapping):
            values.mappings[name] = _check_keys(value, spec.keys, path, problems, f"'{name}'")
        else:
            problems.append(_wrong_type(path, value, f"'{name}' must be a mapping of settings"))
        return
    if spec.type == "list":
        if not isinstance(value, Sequence):
            example = "[people, place]" if name == "tags" else "[first, second]"
            problems.append(_wrong_type(path, value, f"'{name}' must be a list, e.g. {example}"))
            return
        if name == "cards":
            return
        items: list[str] = []
        positions: list[tuple[int, int]] = []
        for item in value.items:
            if isinstance(item, Scalar):
                items.append(_normalized(item.value))
                positions.append((item.line, item.column))
            else:
                problems.append(_wrong_type(path, item, f"each item of '{name}' must be text"))
        values.lists[name] = items
        values.list_positions[name] = positions
        return
    if not isinstance(value, Scalar):
        problems.append(_wrong_type(path, value, f"'{name}' must be text"))
        return
    if spec.type == "number":
        if not (value.value.isdigit() and value.value.isascii()):
            problems.append(Problem(path, value.line, value.column, "error",
                                    f"'{name}' must be a whole number, not '{_shortened(value.value)}'"))
        elif len(value.value.lstrip("0")) > _MAX_DIGITS:  # int() would refuse one of thousands
            problems.append(Problem(path, value.line, value.column, "error",
                                    f"'{name}' must have at most {_MAX_DIGITS} digits, "
                                    f"not {len(value.value.lstrip('0'))}"))
        elif not value.value.strip("0"):  # a limit of 0 would flag every card
            problems.append(Problem(path, value.line, value.column, "error", f"'{name}' must be at least 1"))
        else:
            values.numbers[name] = int(value.value.lstrip("0"))
        return
    if spec.type == "flag":
        flag = _FLAG_VALUES.get(value.value)
        if flag is None:
            problems.append(Problem(path, value.line, value.column, "error",
                                    f"'{name}' must be true or false, not "
                                    + (f"'{value.value}'" if value.value else "an empty value")))
        else:
            values.flags[name] = flag
        return
    text = _normalized(value.value).strip()
    if _blank(text):
        problems.append(Problem(path, value.line, value.column, "error", f"'{name}' is empty"))
        return
    values.text[name] = text


def _check_deck_name(values: _Values, key: str, path: str, problems: list[Problem]) -> None:
    """Each level of a deck name ("A::B") must be text that Anki keeps as it is."""
    name = values.text.get(key)
    if name is None:
        return
    levels = name.split("::")
    if "<" in name:
        # Anki before 2025 put deck names into its deck overview page as HTML.
        problem = f"{key} '{name}' holds '<', which some Anki versions would read as HTML; write it otherwise"
    elif any(_blank(level) for level in levels):
        problem = f"{key} '{name}' has an empty level; Anki would call it 'blank'"
    elif any(character in _BREAKS for character in name):
        shown = name.translate(_ESCAPED_BREAKS)  # as the author wrote them, in double quotes
        problem = f"{key} '{shown}' has a tab or a line break, which Anki would drop"
    elif spaced := next((level for level in levels if level != level.strip()), None):
        problem = (f"{key} '{name}' has a level, '{spaced}', that starts or ends with a space, which "
                   "Anki would drop")
    else:
        return
    line, column = values.positions[key]
    problems.append(Problem(path, line, column, "error", problem))


def _check_tags(values: _Values, path: str, problems: list[Problem]) -> None:
    for tag, (line, column) in zip(values.lists.get("tags", []),
                                   values.list_positions.get("tags", []), strict=True):
        if _blank(tag):
            problems.append(Problem(path, line, column, "error", "a tag is empty"))
        elif any(_blank(level) for level in tag.split("::")):
            problems.append(Problem(path, line, column, "error",
                                    f"tag '{tag}' has an empty level; Anki would call it 'blank'"))
        elif any(character.isspace() for character in tag):
            problems.append(Problem(path, line, column, "error",
                                    f"tag '{tag}' has a space; Anki splits tags on spaces: "
                                    "use '-' or '::'"))


def _id_slot(node: Mapping) -> IdSlot:
    first_value = node.entries[0][1] if node.entries else node
    return IdSlot(flow=node.flow, line=node.line, column=node.column,
                  end_line=first_value.end_line, end_column=first_value.end_column)


def _unusable_file(file: Path, folder: Path, what: str) -> str:
    """Why a file of the cards folder cannot be read as one, else "" (also when it is missing).

    Its name goes into messages, the quiz page and each note's origin, so it must be
    text; a pipe or a device would never end; a link must stay inside the folder.
    """
    try:
        file.name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8; rename the file"
    if _LINE_BREAKING.search(file.name):
        return "the file name holds a control character; rename the file"
    if file.is_symlink() and not Path(os.path.realpath(file)).is_relative_to(Path(os.path.realpath(folder))):
        return f"{what} is a link that leaves the cards folder; copy the file in instead"
    if file.is_symlink() and not file.exists():
        return f"{what} is a link to nothing (a missing file, or a loop of links)"
    if file.exists() and not file.is_file():
        return f"{what} is not a regular file but a folder, a pipe or a device"
    return ""


def _blank(text: str) -> bool:
    """Whether text shows nothing: only spaces, or also invisible characters (a zero-width space)."""
    return _SHOWN.search(text) is None  # stops at the first character shown: most texts' first


def _normalized(text: str) -> str:
    # Anki stores NFC; normalising here makes equal-looking text compare equal.
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _wrong_type(path: str, node: Node, message: str) -> Problem:
    found = "an empty value" if isinstance(node, Scalar) and not node.value else _NODE_NAMES[type(node)]
    return Problem(path, node.line, node.column, "error", f"{message}, not {found}")


def _visible(text: str) -> str:
    """Text as a message quotes it, an invisible character in it (a zero-width space, pasted) as its code."""
    return _INVISIBLE.sub(lambda match: f"\\u{ord(match.group()):04X}", text)


def _bad_id_message(value: str) -> str:
    return (f"id '{_visible(value)}' may hold only ASCII letters (a-z, A-Z), digits, '-', '_' and '.', "
            "and must start with a letter or digit")


def _shortened(text: str, limit: int = 20) -> str:
    """Text as a message quotes it: a very long one cut short."""
    return text if len(text) <= limit else f"{text[:limit]}…"
