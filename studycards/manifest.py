"""The build manifest, and the plan: what a rebuild changes compared with the last build.

Each build leaves ``<package>.manifest.json`` beside the package: for every
card its GUID, kind, subdeck, file and a hash of each rendered field, plus
the note types' schema. ``--plan`` compares the current cards with it and
says what re-importing the new package will do in Anki.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from studycards.cards import ID_PATTERN, CardFacts, Deck, Kind
from studycards.notetypes import NOTE_TYPES, schema
from studycards.package import LATEST_TIMESTAMP
from studycards.problems import Problem
from studycards.render import RenderedNote, origin_text

MANIFEST_FORMAT = 1
# The first import brings the new note type (the note itself conflicts). Changing the note's type
# in Anki stamps it with the time then, so only a package built after that updates it; the
# history stays.
KIND_CHANGE_ADVICE = ("Anki will not update a note whose kind changed: import, change the note's type in "
                      "Anki{to} (Browse, Notes > Change Note Type), then build again and import, and its "
                      "review history stays; or give the card a new id to add it as a new note")
# A string as JSON text, as json.dumps(..., ensure_ascii=False) writes it.
_string = json.encoder.encode_basestring
# Origin names the file; a move is reported as a move, not as a changed field.
_NOT_CONTENT = frozenset({"Origin"})


class CardEntry(NamedTuple):
    guid: str
    kind: str
    subdeck: str
    file: str
    fields: dict[str, str]  # field name (and "tags") -> short hash


@dataclass(frozen=True)
class Manifest:
    deck_id: str
    # The latest time of the builds made here, not always this one's: a build with a fixed
    # SOURCE_DATE_EPOCH can be older than the one before it, and the notes in Anki as new as that.
    timestamp: float
    notetypes: dict[str, dict[str, Any]]
    # Card id -> its entry as the manifest's JSON text: an unchanged card is found by
    # comparing text, and only a changed one is parsed (``parse_entry``).
    cards: dict[str, str]


class ManifestWriter:
    """Writes the manifest as the cards come: one JSON document, one card a line."""

    def __init__(self, stream: TextIO, deck_id: str, timestamp: float) -> None:
        self._stream = stream
        self._first = True
        header = {"format": MANIFEST_FORMAT, "deck": deck_id, "timestamp": timestamp,
                  "notetypes": current_notetypes()}
        text = json.dumps(header, ensure_ascii=False, sort_keys=True)
        stream.write(text[:-1] + ', "cards": {\n')

    def add(self, card_ids: list[str], texts: list[str]) -> None:
        """Add cards' entries, as ``entry_text`` made them."""
        if not card_ids:
            return
        lines = ",\n".join([f"{_string(card_id)}: {text}"
                            for card_id, text in zip(card_ids, texts, strict=True)])
        self._stream.write(lines if self._first else ",\n" + lines)
        self._first = False

    def finish(self) -> None:
        self._stream.write("\n}}\n")


def entry_text(entry: CardEntry) -> str:
    """A card's entry as the manifest holds it; equal entries give equal text.

    The text is exactly ``json.dumps(item, ensure_ascii=False, sort_keys=True)`` (a test
    holds the two equal), put together here because it is made for every card of every
    build, and the general encoder costs more than the rest of the entry.
    """
    fields = ", ".join([f"{_string(name)}: {_string(digest)}"
                        for name, digest in sorted(entry.fields.items())])
    return (f'{{"fields": {{{fields}}}, "file": {_string(entry.file)}, "guid": {_string(entry.guid)}, '
            f'"kind": {_string(entry.kind)}, "subdeck": {_string(entry.subdeck)}}}')


def parse_entry(text: str) -> CardEntry | None:
    """An entry of the last build's manifest; ``None`` if it is damaged (edited by hand, say).

    Entries are parsed only when needed, so one that cannot be is found only here.
    """
    try:
        item = json.loads(text)
        return CardEntry(str(item["guid"]), str(item["kind"]), str(item["subdeck"]), str(item["file"]),
                         {str(name): str(digest) for name, digest in item["fields"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


# How close a card is to the one with its id in the last build: the very same, or asking the same.
AS_BUILT, SAME_QUESTION = 2, 1


class PlanBuilder:
    """Compares each card with the last build's manifest as it comes; ``finish`` adds the removed."""

    def __init__(self, previous: Manifest) -> None:
        self.previous = previous
        self.plan = Plan()
        self._seen: set[str] = set()
        self._added: dict[str, str] = {}  # each added card's entry, to find a removed twin
        # Of each card whose text changed: its id by its old text, and its new text (as
        # ``_same_text`` gives them, hashed), to find a card that took another's text.
        self._old_texts: dict[int, str] = {}
        self._new_texts: list[tuple[str, int]] = []

    def add(self, card_id: str, text: str) -> tuple[str | None, int]:
        """Compare a card's entry, as ``entry_text`` made it, with the last build's; return that,
        and how close the two are: ``AS_BUILT``, ``SAME_QUESTION`` or 0."""
        self._seen.add(card_id)
        before_text = self.previous.cards.get(card_id)
        plan = self.plan
        if before_text == text:
            plan.unchanged += 1
            return before_text, AS_BUILT
        if before_text is None:
            plan.added.append(card_id)
            self._added[card_id] = text
            return None, 0
        before, entry = parse_entry(before_text), parse_entry(text)
        assert entry is not None, "made by this very build"
        if before is None:  # nothing to compare with: as good as new
            plan.added.append(card_id)
            self._added[card_id] = text
            return None, 0
        changed = sorted(name for name in {*entry.fields, *before.fields}
                         if entry.fields.get(name) != before.fields.get(name))
        if before.kind != entry.kind:
            changed.insert(0, f"kind {before.kind} → {entry.kind}")
        if changed:
            plan.changed.append((card_id, changed))
            old_text, new_text = _same_text(before), _same_text(entry)
            if old_text[1] != new_text[1]:  # its fields: a change of kind alone is told as that
                self._old_texts.setdefault(hash(old_text), card_id)
                self._new_texts.append((card_id, hash(new_text)))
        if changed or before.file != entry.file:  # the note names its file: a move changes it too
            plan.notes_changed += 1
        moves = []
        if before.file != entry.file:
            moves.append(f"{before.file} → {entry.file}")
        if before.subdeck != entry.subdeck:
            moves.append(f'subdeck "{before.subdeck}" → "{entry.subdeck}"')
            # Anki takes a deck name in another case for the same deck: nothing moves there.
            if before.subdeck.casefold() != entry.subdeck.casefold():
                pair = (before.subdeck, entry.subdeck)
                plan.subdeck_moves[pair] = plan.subdeck_moves.get(pair, 0) + 1
        if moves:
            plan.moved.append((card_id, "; ".join(moves)))
        if not changed and not moves:
            plan.unchanged += 1
        return before_text, SAME_QUESTION if _question(before) == _question(entry) else 0

    def finish(self, deck_name: str) -> Plan:
        """The plan, once every card has been added; ``deck_name``: the deck's name now."""
        plan = self.plan
        plan.added.sort()
        plan.changed.sort()
        plan.moved.sort()
        plan.removed = sorted((card_id, file_of(text))
                              for card_id, text in self.previous.cards.items() if card_id not in self._seen)
        # Where the removed cards' notes are: in the deck, or in the deck they were imported into
        # under an earlier name (Anki leaves notes where they are).
        removed = {card_id: parse_entry(self.previous.cards[card_id]) for card_id, _ in plan.removed}
        decks = {deck_name}
        for entry in removed.values():
            if entry is not None and entry.subdeck != deck_name \
                    and not entry.subdeck.startswith(f"{deck_name}::"):
                decks.add(entry.subdeck)
        plan.removed_decks = sorted(decks)
        self._find_id_changes(plan, removed)
        for kind, current in sorted(current_notetypes().items()):
            earlier = self.previous.notetypes.get(kind)
            if earlier is not None and earlier != current:
                plan.notetype_changes.append(_describe_notetype_change(earlier, current))
        return plan

    def _find_id_changes(self, plan: Plan, removed: dict[str, CardEntry | None]) -> None:
        """The cards whose review history an id change leaves behind or gives to another text;
        ``removed``: the removed cards' last entries."""
        # An added card with a removed card's very text, or else its question: most likely the
        # same card, its id changed (and maybe its answer too). Each removed card is told once,
        # at the closest match.
        removed_by_text: dict[tuple[object, ...], list[str]] = {}
        removed_by_question: dict[tuple[str, str], list[str]] = {}
        for card_id, entry in removed.items():
            if entry is not None:
                removed_by_text.setdefault(_same_text(entry), []).append(card_id)
                removed_by_question.setdefault(_question(entry), []).append(card_id)
        added = [(card_id, entry) for card_id, text in sorted(self._added.items())
                 if (entry := parse_entry(text)) is not None]
        told: set[str] = set()
        removed_from, added_to = dict(plan.removed), dict(added)

        def tell_renamed(card_id: str, twins: list[str], what: str) -> None:
            # Of removed cards alike, the one of the same file first.
            untold = sorted((twin for twin in twins if twin not in told),
                            key=lambda twin: removed_from[twin] != added_to[card_id].file)
            if untold and card_id not in told:
                told.update((untold[0], card_id))
                plan.renamed.append((card_id, untold[0], what))

        for card_id, entry in added:
            tell_renamed(card_id, removed_by_text.get(_same_text(entry), []), "text")
        # An added card with the very text a changed card had: most likely that card, written
        # again while its id went on to another text, and with the id its review history. Not
        # when another card has that text now (it is told below), or had it too.
        now_taken = {new_text for _, new_text in self._new_texts}
        for card_id, entry in added:
            old_text = hash(_same_text(entry))
            other = self._old_texts.get(old_text)
            if other is not None and card_id not in told and old_text not in now_taken \
                    and not self._had_text(entry, but=other):
                told.add(card_id)
                plan.text_left.append((card_id, other))
        for card_id, entry in added:
            tell_renamed(card_id, removed_by_question.get(_question(entry), []),
                         "cloze text" if entry.kind == "cloze" else "question")
        plan.renamed.sort()
        # A card that now has the very text another card had (removed or changed since): their
        # ids swapped, or the texts moved along the ids.
        took_from = {hash(text): card_ids[0] for text, card_ids in removed_by_text.items()} | self._old_texts
        for card_id, new_text in sorted(self._new_texts):
            other = took_from.get(new_text)
            if other is not None and other != card_id:
                plan.took_text.append((card_id, other))

    def _had_text(self, entry: CardEntry, but: str) -> bool:
        """Whether a card of the last build besides ``but``, still in the deck, had ``entry``'s text."""
        text, question = _same_text(entry), _question(entry)[1]
        # Run only for a card about to be told: the entries holding its question's hash are few.
        for card_id, before_text in self.previous.cards.items():
            if card_id != but and card_id in self._seen and question in before_text:
                before = parse_entry(before_text)
                if before is not None and _same_text(before) == text:
                    return True
        return False


@dataclass
class Plan:
    added: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    removed_decks: list[str] = field(default_factory=list)  # the decks the removed cards' notes are in
    notetype_changes: list[str] = field(default_factory=list)
    # An added card's id, the id of a removed card it matches, and what matches: "text", "question" ...
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    took_text: list[tuple[str, str]] = field(default_factory=list)  # a card's id, whose old text it has
    text_left: list[tuple[str, str]] = field(default_factory=list)  # an added card's id, whose old text
    unchanged: int = 0
    notes_changed: int = 0  # the notes in Anki a build changes: a card changed, or moved to another file
    # How many cards moved from one subdeck to another (by the decks' full names)
    subdeck_moves: dict[tuple[str, str], int] = field(default_factory=dict)

    def counts(self) -> str:
        return (f"{len(self.added)} added, {len(self.changed)} changed, {len(self.moved)} moved, "
                f"{len(self.removed)} removed since the last build")


def same_card_text(before_text: str, text: str) -> bool:
    """Whether two manifest entries are of a card with the same kind and fields (tags aside)."""
    before, entry = parse_entry(before_text), parse_entry(text)
    return before is not None and entry is not None and _same_text(before) == _same_text(entry)


def _same_text(entry: CardEntry) -> tuple[object, ...]:
    """What two cards share when one is the other with a new id: kind and fields (tags aside)."""
    return entry.kind, tuple(sorted((name, value) for name, value in entry.fields.items() if name != "tags"))


def _question(entry: CardEntry) -> tuple[str, str]:
    """A card's kind and its question (a cloze card's text), as hashed: what asks the same."""
    return entry.kind, entry.fields.get("Question", entry.fields.get("Text", ""))


def file_of(text: str) -> str:
    """The card file a manifest entry names; "" if the entry is damaged."""
    entry = parse_entry(text)
    return entry.file if entry is not None else ""


# What a regular expression reads as more than itself; "#", "&", "-" and "~" too, which Rust's
# regular expressions allow to be escaped.
_REGEX_SPECIAL = re.compile(r"[\\.+*?()|\[\]{}^$#&\-~]")
_DECK_SEARCH_SPECIAL = re.compile(r'[\\"*_]')
# Anki's search reads any other space (a no-break or ideographic one, a tab) as " ".
_OTHER_SPACE = re.compile(r"[^\S ]")


def kind_change_warning(before: CardEntry, card: CardFacts) -> Problem | None:
    """Anki imports a note whose note type changed as a conflict and does not update it."""
    if before.kind == card.kind.value:
        return None
    line, column = card.position("id")
    return Problem(card.file, line, column, "warning",
                   f"card '{card.id}' changed kind ({before.kind} → {card.kind.value}): "
                   + KIND_CHANGE_ADVICE.format(to=f" to '{NOTE_TYPES[card.kind].name}'"))


def current_notetypes() -> dict[str, dict[str, Any]]:
    return {kind.value: schema(kind) for kind in Kind}


def manifest_path(package: Path) -> Path:
    return package.with_name(f"{package.stem}.manifest.json")


def card_entry(deck: Deck, note: RenderedNote, guid: str) -> CardEntry:
    card = note.card
    fields = {name: _hash(value) for name, value in note.fields.items() if name not in _NOT_CONTENT}
    fields["tags"] = _hash(" ".join(card.tags))
    return CardEntry(guid, card.kind.value, deck.full_deck_name(card.subdeck),
                     card.file_name, fields)


def read_manifest(path: Path) -> Manifest | None:
    """The last build's manifest; ``None`` when there is none or it cannot be trusted.

    The manifest is written one card a line (``ManifestWriter``), and read so: each
    entry stays text. A manifest in any other layout (edited by hand, say) is parsed whole.
    """
    try:
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        if len(lines) >= 3 and lines[0].endswith('"cards": {') and lines[-2:] == ["}}", ""]:
            header = json.loads(lines[0] + "}}")
            cards = {}
            for line in lines[1:-2]:
                key, _, entry = line.removesuffix(",").partition(": ")
                # A card id (letters, digits, "_.-") in quotes needs no JSON decoding.
                plain = len(key) > 2 and key[0] == key[-1] == '"' and ID_PATTERN.match(key, 1, len(key) - 1)
                cards[key[1:-1] if plain else json.loads(key)] = entry
        else:
            header = json.loads(text)
            cards = {card_id: json.dumps(item, ensure_ascii=False, sort_keys=True)
                     for card_id, item in header["cards"].items()}
        if header.get("format") != MANIFEST_FORMAT:
            return None
        timestamp = header["timestamp"]
        if not isinstance(timestamp, (int, float)) or not 0 <= timestamp <= LATEST_TIMESTAMP:
            return None  # NaN and Infinity fail the comparison too
        # Edited by hand, a manifest may hold anything: what is used later must be of the right type.
        if not all(isinstance(card_id, str) and entry.startswith("{") for card_id, entry in cards.items()):
            return None
        notetypes, deck_id = header["notetypes"], header["deck"]
        if not isinstance(deck_id, str):
            return None
        if not isinstance(notetypes, dict) or not all(isinstance(item, dict) for item in notetypes.values()):
            return None
        return Manifest(deck_id, float(timestamp), notetypes, cards)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def removed_search(removed: list[tuple[str, str]], decks: list[str]) -> str:
    """A search to paste into Anki's browser that finds exactly the removed cards' notes.

    Each matches its note's whole origin field ("file · id", as ``render.origin`` makes it)
    with a case-sensitive regular expression: Anki's plain search takes "_" for any
    character and ignores case, so "basic_one" would also find "BASIC-one". Another deck
    built by this program can have a card of the same file and id: only ``decks`` (and
    their subdecks) are searched. (A space other than " " in a deck's name can only be
    searched for as any one character there.)
    """
    by_file: dict[str, list[str]] = {}
    for card_id, file in removed:
        by_file.setdefault(file, []).append(card_id)
    alternatives = []  # regular expressions, each for some of one file's cards
    for file, card_ids in by_file.items():
        # (An id is ASCII letters, digits and "._-": the origin text ends with it as it is.)
        # A card whose file the manifest no longer says is matched by its id alone.
        start = ("^" if file else "") + _literal(origin_text(file, ""))
        alternatives += [start + _one_of(ids) for ids in _runs([_literal(card_id) for card_id in card_ids])]
    terms = [f'"origin:re:(?-i){_one_of(run)}$"' for run in _runs(alternatives)]
    return f"{_any_of(terms)} {_any_of([_deck_search(name) for name in decks])}"


# Anki compiles each term's regular expression within a size limit (reached near 20,000 short
# ids in one, sooner for characters of more bytes), and its search fails past about a thousand
# terms: the expressions are packed into terms of about this many bytes (in UTF-8).
_SEARCH_TERM_LENGTH = 50_000


def _runs(expressions: list[str]) -> list[list[str]]:
    """The expressions in order, in runs of at most ``_SEARCH_TERM_LENGTH`` bytes (or of one)."""
    runs: list[list[str]] = [[]]
    length = 0
    for expression in expressions:
        size = len(expression.encode()) + 1  # the limit is of the compiled expression: bytes count
        if runs[-1] and length + size > _SEARCH_TERM_LENGTH:
            runs.append([])
            length = 0
        runs[-1].append(expression)
        length += size
    return runs


def _one_of(expressions: list[str]) -> str:
    """A regular expression that matches what any of ``expressions`` does."""
    return expressions[0] if len(expressions) == 1 else f"(?:{'|'.join(expressions)})"


def _deck_search(name: str) -> str:
    """A search term for the deck ``name`` and its subdecks."""
    # In a deck search, "*" and "_" are wildcards; a backslash makes each character literal.
    pattern = _DECK_SEARCH_SPECIAL.sub(lambda match: "\\" + match.group(), name)
    pattern = _OTHER_SPACE.sub("_", pattern)  # "_": any one character, as no escape keeps it
    if name.casefold() in ("current", "filtered"):
        # Anki reads these names as the selected deck and the filtered decks: the last letter,
        # as a one-letter wildcard, makes them a name.
        pattern = pattern[:-1] + "_"
    return f'"deck:{pattern}"'


def _any_of(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else f"({' or '.join(terms)})"


def _literal(text: str) -> str:
    """``text`` as a regular expression (Rust's, as Anki's) that matches it and nothing else."""
    text = _REGEX_SPECIAL.sub(lambda match: "\\" + match.group(), text)
    return _OTHER_SPACE.sub(lambda match: f"\\x{{{ord(match.group()):X}}}", text)


def format_plan(plan: Plan, target: Path, new_card_files: dict[str, str]) -> list[str]:
    lines = [f"plan for {target.as_posix()}: {plan.counts()}, {plan.unchanged} unchanged"]
    if plan.added:
        lines.append(f"added ({len(plan.added)}):")
        lines += [f"  + {card_id}  {new_card_files.get(card_id, '')}".rstrip() for card_id in plan.added]
    if plan.changed:
        lines.append(f"changed ({len(plan.changed)}):")
        lines += [f"  ~ {card_id}: {', '.join(fields)}" for card_id, fields in plan.changed]
        if any(fields[0].startswith("kind ") for _, fields in plan.changed):
            lines.append(f"  {KIND_CHANGE_ADVICE.format(to='')}")
    if plan.moved:
        lines += _moved_lines(plan)
    lines += _removed_lines(plan)
    if plan.notetype_changes:
        lines.append("note type schema changes:")
        lines += [f"  ! {change}" for change in plan.notetype_changes]
    return lines


def after_build_lines(plan: Plan) -> list[str]:
    """What a build tells besides its counts: what importing will not do, and how to do it in Anki.

    After the build, the manifest no longer holds the removed cards: this is the last time
    their search can be made. Long lists are told by file or subdeck.
    """
    lines = []
    if plan.subdeck_moves:
        lines.append(f"moved to another subdeck ({sum(plan.subdeck_moves.values())}):")
        lines += [f'  > {plural(count, "card")}: "{before}" → "{after}"'
                  for (before, after), count in sorted(plan.subdeck_moves.items())]
        lines.append(f"  {_SUBDECK_MOVE_ADVICE}")
    return lines + _removed_lines(plan, every_card=len(plan.removed) <= _LISTED_CARDS)


# Past this many removed cards, a build tells how many of each file, not each one.
_LISTED_CARDS = 10
_SUBDECK_MOVE_ADVICE = ("Anki leaves already imported cards in the deck they are in; move them in Anki's "
                        "browser (or, after a deck rename, rename the deck there) if you want them in the "
                        "new one.")


def _moved_lines(plan: Plan) -> list[str]:
    lines = [f"moved ({len(plan.moved)}):"]
    lines += [f"  > {card_id}: {where}" for card_id, where in plan.moved]
    if plan.subdeck_moves:
        lines.append(f"  {_SUBDECK_MOVE_ADVICE}")
    return lines


def _removed_lines(plan: Plan, every_card: bool = True) -> list[str]:
    if not plan.removed:
        return []
    lines = [f"removed ({len(plan.removed)}):"]
    if every_card:
        lines += [f"  - {card_id}  (was in {file or 'an unknown file'})" for card_id, file in plan.removed]
    else:
        files = Counter(file for _, file in plan.removed)
        lines += [f"  - {plural(count, 'card')} that {'was' if count == 1 else 'were'} in "
                  f"{file or 'an unknown file'}" for file, count in sorted(files.items())]
    lines.append("  Anki never deletes notes on import: these stay in your collection.")
    lines.append("  To find them, paste this into the search bar of Anki's browser:")
    lines.append(f"    {removed_search(plan.removed, plan.removed_decks)}")
    return lines


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _describe_notetype_change(earlier: dict[str, Any], current: dict[str, Any]) -> str:
    name = current.get("name", "?")
    if earlier.get("model_id") == current.get("model_id"):
        return (f"{name}: fields {earlier.get('fields')} → {current.get('fields')}, templates "
                f"{earlier.get('templates')} → {current.get('templates')} under the same model id; "
                "Anki would create a second note type and stop updating existing notes")
    return f"{name}: new model id {current.get('model_id')} (a new note type version)"


_EMPTY_HASH = hashlib.sha256(b"").hexdigest()[:16]


def _hash(text: str) -> str:
    if not text:
        return _EMPTY_HASH  # most cards leave several fields empty
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
