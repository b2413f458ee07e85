"""The per-file cache: what a card file yielded, kept so that an unchanged file is not read again.

An entry is keyed by the file's name and the SHA-256 of its bytes, and is
valid only for the same program (a hash of this package's source) and the
same deck settings that shape a file's outcome (default source, lint
settings). Entries are JSON, one file each, written atomically; anything
unreadable, stale or malformed is ignored and the file is processed again.
A cache is never trusted over the cards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studycards.cards import Card, Kind
from studycards.output import BuildError, Staging
from studycards.problems import Problem

if TYPE_CHECKING:
    from studycards.cards import Deck
    from studycards.pipeline import FileOutcome, NoteOutcome

CACHE_FOLDER = ".studycards-cache"
# Between the stored pieces of text. None of them can hold it: the reader refuses NUL, and the
# JSON pieces escape it.
_SEPARATOR = "\x00"


def program_fingerprint() -> str:
    """A hash of this package's own code: any change to it makes every entry stale."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _library_versions() -> list[str]:
    versions = []
    for name in ("PyYAML", "markdown-it-py", "mdit-py-plugins", "genanki"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} ?")
    return versions


class FileCache:
    def __init__(self, folder: Path, deck: Deck, staging: Staging | None) -> None:
        self.folder = folder
        # New entries are staged with the build's outputs and land only if it succeeds;
        # a read-only run (--check) has no staging: it reads the cache and writes nothing.
        self.staging = staging
        # Everything an outcome depends on besides the file: the deck's identity (in GUIDs and
        # subdeck names), its settings, and the libraries that parse and render.
        settings = [deck.id, deck.name, deck.source, sorted(deck.lint.disabled),
                    deck.lint.max_answer_words, deck.lint.max_deletions_per_card,
                    list(sys.version_info), _library_versions()]
        self.key = hashlib.sha256(
            (program_fingerprint() + json.dumps(settings)).encode()).hexdigest()

    def get(self, display: str, digest: str) -> FileOutcome | None:
        try:
            header, _, body = self._path(display).read_text(encoding="utf-8").partition("\n")
            entry = json.loads(header)
            if entry["key"] != self.key or entry["digest"] != digest or entry["display"] != display:
                return None
            return _outcome_from_entry(entry, body.split(_SEPARATOR))
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None

    def put(self, outcome: FileOutcome) -> None:
        """Stage an entry for the outcome; a cache that cannot be written only costs time later."""
        if self.staging is None:
            return
        entry = {"key": self.key, "display": outcome.display, "digest": outcome.digest,
                 "notes": [_note_to_json(note) for note in outcome.notes],
                 "problems": [_problem_to_json(problem) for problem in outcome.problems]}
        # The outputs' text goes after the JSON line as it is, not as JSON strings: escaping
        # and unescaping megabytes of HTML would cost more than everything else here.
        fragments = [part for note in outcome.notes for part in _texts(note)]
        header = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        with contextlib.suppress(OSError, BuildError):
            self.staging.stage(self._path(outcome.display)).write_text(
                header + "\n" + _SEPARATOR.join(fragments), encoding="utf-8")

    def prune(self, displays: list[str]) -> None:
        """Remove the entries of card files that are gone (renamed or deleted)."""
        keep = {self._path(display).name for display in displays}
        for entry in self.folder.glob("*.json"):
            if entry.name not in keep:
                with contextlib.suppress(OSError):
                    entry.unlink()

    def _path(self, display: str) -> Path:
        return self.folder / f"{hashlib.sha256(display.encode()).hexdigest()[:24]}.json"


def _outcome_from_entry(entry: dict[str, Any], fragments: list[str]) -> FileOutcome:
    from studycards.pipeline import FileOutcome  # pipeline imports this module

    notes = entry["notes"]
    if notes and len(fragments) != _TEXTS * len(notes):
        raise ValueError("cache entry is cut short")
    outcomes = [_note_from_json(item, fragments[_TEXTS * index:_TEXTS * index + _TEXTS])
                for index, item in enumerate(notes)]
    problems = [Problem(*item) for item in entry["problems"]]
    return FileOutcome(entry["display"], outcomes, problems, {}, entry["digest"])


def _texts(outcome: NoteOutcome) -> tuple[str, ...]:
    """A card's long texts, stored raw after the JSON line (``_TEXTS`` of them)."""
    card = outcome.card
    return (outcome.fields, outcome.entry, outcome.quiz_item, card.question, card.answer,
            card.cloze, card.extra, card.source, card.sound)


_TEXTS = 9
_KINDS = {kind.value: kind for kind in Kind}


def _note_to_json(outcome: NoteOutcome) -> list[Any]:
    card = outcome.card
    assert card.id and card.id_slot is None, "only cards with ids are cached"
    return [card.id, card.kind.value, card.file, card.line, card.column, card.subdeck,
            list(card.choices), list(card.tags), list(card.lint_ignore),
            [part for position in card.positions for part in position],
            outcome.guid, None if outcome.signature is None else list(outcome.signature), outcome.ords]


def _note_from_json(item: list[Any], texts: list[str]) -> NoteOutcome:
    from studycards.pipeline import NoteOutcome

    (card_id, kind, file, line, column, subdeck, choices, tags, lint_ignore, positions, guid,
     signature, ords) = item
    fields, entry, quiz_item, question, answer, cloze, extra, source, sound = texts
    card = Card(
        id=card_id, kind=_KINDS[kind], file=file, line=line, column=column, subdeck=subdeck,
        question=question, answer=answer, cloze=cloze, choices=tuple(choices), extra=extra,
        source=source, sound=sound, tags=tuple(tags), lint_ignore=tuple(lint_ignore),
        positions=tuple(zip(positions[::3], positions[1::3], positions[2::3], strict=True)),
    )
    return NoteOutcome(card, None, guid, fields, entry, quiz_item,
                       None if signature is None else (signature[0], signature[1]), ords)


def _problem_to_json(problem: Problem) -> list[Any]:
    return [problem.path, problem.line, problem.column, problem.level, problem.message, problem.rule]
