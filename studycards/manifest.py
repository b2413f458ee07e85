"""The build manifest, and the plan: what a rebuild changes compared with the last build.

Each build leaves ``<package>.manifest.json`` beside the package: for every
card its GUID, kind, subdeck, file and a hash of each rendered field, plus
the note types' schema. ``--plan`` compares the current cards with it and
says what re-importing the new package will do in Anki.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from studycards.cards import Deck, Kind
from studycards.notetypes import schema
from studycards.package import note_guid
from studycards.problems import Problem
from studycards.render import RenderedNote

MANIFEST_FORMAT = 1
KIND_CHANGE_ADVICE = ("Anki will not update a note whose kind changed; give the card a new id "
                      "to import it as a new note, and delete the old one in Anki")
# Origin names the file; a move is reported as a move, not as a changed field.
_NOT_CONTENT = frozenset({"Origin"})


@dataclass(frozen=True)
class CardEntry:
    guid: str
    kind: str
    subdeck: str
    file: str
    fields: dict[str, str]  # field name (and "tags") -> short hash

    @property
    def content_hash(self) -> str:
        return _hash(json.dumps(self.fields, sort_keys=True))


@dataclass(frozen=True)
class Manifest:
    deck_id: str
    timestamp: float
    notetypes: dict[str, dict[str, Any]]
    cards: dict[str, CardEntry]

    def to_json(self) -> str:
        cards = {card_id: {"guid": entry.guid, "hash": entry.content_hash, "kind": entry.kind,
                           "subdeck": entry.subdeck, "file": entry.file, "fields": entry.fields}
                 for card_id, entry in sorted(self.cards.items())}
        return json.dumps({"format": MANIFEST_FORMAT, "deck": self.deck_id,
                           "timestamp": self.timestamp, "notetypes": self.notetypes,
                           "cards": cards}, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


@dataclass
class Plan:
    added: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    notetype_changes: list[str] = field(default_factory=list)
    unchanged: int = 0
    subdeck_moved: bool = False

    def counts(self) -> str:
        return (f"{len(self.added)} added, {len(self.changed)} changed, {len(self.moved)} moved, "
                f"{len(self.removed)} removed since the last build")


def kind_change_warnings(previous: Manifest, deck: Deck) -> list[Problem]:
    """Anki imports a note whose note type changed as a conflict and does not update it."""
    problems = []
    for card in deck.cards:
        before = previous.cards.get(card.id)
        if before is not None and before.kind != card.kind.value:
            line, column = card.position("id")
            problems.append(Problem(card.file, line, column, "warning",
                                    f"card '{card.id}' changed kind ({before.kind} → "
                                    f"{card.kind.value}): {KIND_CHANGE_ADVICE}"))
    return problems


def manifest_path(package: Path) -> Path:
    return package.with_name(f"{package.stem}.manifest.json")


def make_manifest(deck: Deck, notes: list[RenderedNote], timestamp: float) -> Manifest:
    cards = {}
    for note in notes:
        card = note.card
        fields = {name: _hash(value) for name, value in note.fields.items() if name not in _NOT_CONTENT}
        fields["tags"] = _hash(" ".join(card.tags))
        cards[card.id] = CardEntry(note_guid(deck.id, card.id), card.kind.value,
                                   deck.full_deck_name(card.subdeck), PurePosixPath(card.file).name,
                                   fields)
    return Manifest(deck.id, timestamp, {kind.value: schema(kind) for kind in Kind}, cards)


def read_manifest(path: Path) -> Manifest | None:
    """The last build's manifest; ``None`` when there is none or it cannot be trusted."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            return None
        cards = {card_id: CardEntry(entry["guid"], entry["kind"], entry["subdeck"], entry["file"],
                                    dict(entry["fields"]))
                 for card_id, entry in data["cards"].items()}
        return Manifest(str(data["deck"]), float(data["timestamp"]), dict(data["notetypes"]), cards)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def compare(old: Manifest, new: Manifest) -> Plan:
    plan = Plan()
    for card_id, entry in sorted(new.cards.items()):
        before = old.cards.get(card_id)
        if before is None:
            plan.added.append(card_id)
            continue
        changed = sorted(name for name in {*entry.fields, *before.fields}
                         if entry.fields.get(name) != before.fields.get(name))
        if before.kind != entry.kind:
            changed.insert(0, f"kind {before.kind} → {entry.kind}")
        if changed:
            plan.changed.append((card_id, changed))
        moves = []
        if before.file != entry.file:
            moves.append(f"{before.file} → {entry.file}")
        if before.subdeck != entry.subdeck:
            plan.subdeck_moved = True
            moves.append(f'subdeck "{before.subdeck}" → "{entry.subdeck}"')
        if moves:
            plan.moved.append((card_id, "; ".join(moves)))
        if not changed and not moves:
            plan.unchanged += 1
    plan.removed = sorted((card_id, entry.file) for card_id, entry in old.cards.items()
                          if card_id not in new.cards)
    for kind, current in sorted(new.notetypes.items()):
        earlier = old.notetypes.get(kind)
        if earlier is not None and earlier != current:
            plan.notetype_changes.append(_describe_notetype_change(earlier, current))
    return plan


def removed_search(removed: list[tuple[str, str]]) -> str:
    """A search to paste into Anki's browser that finds the removed cards' notes."""
    terms = [f'"origin:*· {card_id}"' for card_id, _ in removed]
    return terms[0] if len(terms) == 1 else f"({' or '.join(terms)})"


def format_plan(plan: Plan, target: Path, new_card_files: dict[str, str]) -> list[str]:
    lines = [f"plan for {target.as_posix()}: {plan.counts()}, {plan.unchanged} unchanged"]
    if plan.added:
        lines.append(f"added ({len(plan.added)}):")
        lines += [f"  + {card_id}  {new_card_files.get(card_id, '')}".rstrip() for card_id in plan.added]
    if plan.changed:
        lines.append(f"changed ({len(plan.changed)}):")
        lines += [f"  ~ {card_id}: {', '.join(fields)}" for card_id, fields in plan.changed]
        if any(fields[0].startswith("kind ") for _, fields in plan.changed):
            lines.append(f"  {KIND_CHANGE_ADVICE}")
    if plan.moved:
        lines.append(f"moved ({len(plan.moved)}):")
        lines += [f"  > {card_id}: {where}" for card_id, where in plan.moved]
        if plan.subdeck_moved:
            lines.append("  Anki leaves already imported cards in the deck they are in; "
                         "move them in Anki's browser if you want them in the new subdeck.")
    if plan.removed:
        lines.append(f"removed ({len(plan.removed)}):")
        lines += [f"  - {card_id}  (was in {file})" for card_id, file in plan.removed]
        lines.append("  Anki never deletes notes on import: these stay in your collection.")
        lines.append("  To find them, paste this into the search bar of Anki's browser:")
        lines.append(f"    {removed_search(plan.removed)}")
    if plan.notetype_changes:
        lines.append("note type schema changes:")
        lines += [f"  ! {change}" for change in plan.notetype_changes]
    return lines


def _describe_notetype_change(earlier: dict[str, Any], current: dict[str, Any]) -> str:
    name = current.get("name", "?")
    if earlier.get("model_id") == current.get("model_id"):
        return (f"{name}: fields {earlier.get('fields')} → {current.get('fields')}, templates "
                f"{earlier.get('templates')} → {current.get('templates')} under the same model id; "
                "Anki would create a second note type and stop updating existing notes")
    return f"{name}: new model id {current.get('model_id')} (a new note type version)"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
