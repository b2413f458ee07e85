"""Write the rendered notes as an Anki package (.apkg), one note at a time and reproducibly.

Identity: a note's GUID comes from the deck id and the card id only, so a
reworded card updates the note a learner has been reviewing.

Time: every note, card and note type is stamped with the package timestamp,
and Anki skips a note whose stamp is not newer than its own copy; the build
time is right for that. ``SOURCE_DATE_EPOCH`` replaces it for reproducible
builds.

genanki writes the collection, its note types and decks. The notes and
cards themselves are inserted here in batches, as the same rows genanki's
``Note.write_to_db`` writes: its per-note path (a template check and two
statements a note) costs 40 µs a note, four seconds for 100,000, while a
batch insert costs a tenth of that. The round-trip tests read every kind
back through Anki's own importer.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import genanki

from studycards.cards import Card, CardFacts, Deck, Kind, cloze_numbers
from studycards.notetypes import NOTE_TYPES
from studycards.output import BuildError
from studycards.render import MediaFile, RenderedNote

_BATCH = 2000
# The year 2100: later times are a mistake (milliseconds given for seconds, say).
LATEST_TIMESTAMP = 4_102_444_800
# Deflate level 1 packs a collection nearly as small as the default level, four times faster.
_COMPRESS_LEVEL = 1


def note_guid(deck_id: str, card_id: str) -> str:
    return str(genanki.guid_for(deck_id, card_id))


def build_timestamp(previous: float | None) -> float:
    """``SOURCE_DATE_EPOCH`` as given, if set; else now, but always after the previous build.

    Anki applies an update only when the package is newer than its copy, so a
    rebuild within the same second as the last one must still count as newer.
    (A fixed time that is not later is told: see ``assemble``.)
    """
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        now = float(int(time.time()))
        return max(now, previous + 1) if previous is not None else now
    # ASCII digits only: isdigit() also takes "²" and other scripts' digits, which int() refuses or reads.
    if not (value.isascii() and value.isdigit()) or len(value.lstrip("0")) > 12 \
            or int(value.lstrip("0") or "0") > LATEST_TIMESTAMP:
        raise BuildError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970 "
                         f"(at most {LATEST_TIMESTAMP}), not '{value}'")
    return float(int(value))


def card_ords(card: Card) -> tuple[int, ...]:
    """The template ordinals of the cards Anki makes from this card's note."""
    if card.kind is Kind.CLOZE:
        return tuple(number - 1 for number in cloze_numbers(card.cloze))
    return (0, 1) if card.kind is Kind.REVERSED else (0,)


def package_fields(note: RenderedNote) -> str:
    """The note's fields in its note type's order, joined as a collection stores them."""
    model = NOTE_TYPES[note.card.kind]
    return "\x1f".join(note.fields[field["name"]] for field in model.fields)


_MODEL_IDS = {kind: model.model_id for kind, model in NOTE_TYPES.items()}
# The columns that are the same in every row are written into the statements, as genanki
# would write them, rather than bound row by row: binding fewer values is much of the cost
# of a large deck. A note: mod, usn -1, csum, flags, data. A new card: mod, usn -1, type,
# queue, due, ivl, factor, reps, lapses, left, odue, odid, flags, data.
_INSERT_NOTES = "INSERT INTO notes VALUES (?,?,?,{mod},-1,?,?,?,0,0,'')"
_INSERT_CARDS = "INSERT INTO cards VALUES (?,?,?,?,{mod},-1,0,0,0,0,0,0,0,0,0,0,0,'')"


class PackageWriter:
    """Notes go into a collection database as they come; ``finish`` adds the decks and packs it."""

    def __init__(self, database: Path, deck: Deck, timestamp: float) -> None:
        self.deck = deck
        self.timestamp = timestamp
        mod = int(timestamp)  # a whole number: safe to write into the statements
        self._insert_notes = _INSERT_NOTES.format(mod=mod)
        self._insert_cards = _INSERT_CARDS.format(mod=mod)
        self._ids = itertools.count(int(timestamp * 1000))
        self._deck_ids: dict[str, int] = {}
        self._subdeck_ids: dict[str, int] = {}
        self._notes: list[tuple[object, ...]] = []
        self._cards: list[tuple[object, ...]] = []
        try:
            self._connection = sqlite3.connect(database)
        except sqlite3.Error as error:
            raise BuildError(f"cannot write the package database: {error}") from None
        try:
            # A scratch file, renamed into place only once complete: no journal needed.
            self._connection.execute("PRAGMA journal_mode = OFF")
            self._connection.execute("PRAGMA synchronous = OFF")
            self._connection.execute("PRAGMA cache_size = -512")  # KiB: rows are appended; memory stays flat
            genanki.Package([]).write_to_db(self._connection.cursor(), timestamp, self._ids)
            # Bulk load: the indexes are made once at the end, not kept up to date row by row.
            self._indexes = [sql for (sql,) in self._connection.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")]
            for (name,) in self._connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall():
                self._connection.execute(f'DROP INDEX "{name}"')
        except sqlite3.Error as error:
            self._connection.close()
            raise BuildError(f"cannot write the package database: {error}") from None

    def add(self, cards: list[CardFacts], fields: list[str]) -> None:
        """Add cards' notes; each one's ``fields`` as ``package_fields`` made them."""
        ids, notes, rows = self._ids, self._notes, self._cards
        for card, note_fields in zip(cards, fields, strict=True):
            note_id = next(ids)
            sort_field = note_fields[:note_fields.find("\x1f")]  # every note type has several fields
            notes.append((note_id, card.guid, _MODEL_IDS[card.kind], f" {' '.join(card.tags)} ",
                          note_fields, sort_field))
            deck_id = self._subdeck_ids.get(card.subdeck)
            if deck_id is None:
                deck_id = self._subdeck_ids[card.subdeck] = self._subdeck_id(card.subdeck)
            for ordinal in card.ords:
                rows.append((next(ids), note_id, deck_id, ordinal))
            # Batches end at the same notes whatever the files: the database's bytes depend on it.
            if len(notes) >= _BATCH:
                self._flush()  # empties the lists in place

    def finish(self, description_html: str) -> None:
        """Write the decks and note types, and close the database."""
        self._deck_id(self.deck.name)
        try:
            self._flush()
            for sql in self._indexes:
                self._connection.execute(sql)
            cursor = self._connection.cursor()
            for name, deck_id in sorted(self._deck_ids.items()):
                deck = genanki.Deck(deck_id, name,
                                    description=description_html if name == self.deck.name else "")
                for model in NOTE_TYPES.values():
                    deck.add_model(model)
                deck.write_to_db(cursor, self.timestamp, self._ids)
            self._connection.commit()
        except sqlite3.Error as error:
            raise BuildError(f"cannot write the package database: {error}") from None
        finally:
            self._connection.close()

    def close(self) -> None:
        self._connection.close()

    def _flush(self) -> None:
        try:
            self._connection.executemany(self._insert_notes, self._notes)
            self._connection.executemany(self._insert_cards, self._cards)
        except sqlite3.Error as error:
            raise BuildError(f"cannot write the package database: {error}") from None
        self._notes.clear()
        self._cards.clear()

    def _subdeck_id(self, subdeck: str) -> int:
        # Every level is written: a level Anki had to make up itself, on import, took the
        # place of the deck's own top deck, and the description was lost.
        levels = subdeck.split("::")
        for end in range(1, len(levels)):
            self._deck_id(self.deck.full_deck_name("::".join(levels[:end])))
        return self._deck_id(self.deck.full_deck_name(subdeck))

    def _deck_id(self, name: str) -> int:
        if name not in self._deck_ids:
            # Anki matches decks by name; the id only has to be stable and unique.
            self._deck_ids[name] = _stable_id(f"{self.deck.id}/{name}")
        return self._deck_ids[name]


def write_zip(path: Path, database: Path, media: dict[str, MediaFile], timestamp: float,
              target: Path) -> None:
    """The package, written to ``path``: a temporary file that will become ``target``."""
    # Fixed entry order, dates and attributes: equal inputs give equal bytes.
    date = datetime.fromtimestamp(max(timestamp, 315532800), timezone.utc).timetuple()[:6]
    ordered_media = [media[name] for name in sorted(media)]
    index = json.dumps({str(number): file.name for number, file in enumerate(ordered_media)},
                       sort_keys=True).encode()
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as archive:
            # The database is copied in chunks: for a large deck it is tens of megabytes.
            with database.open("rb") as source, archive.open(_entry("collection.anki2", date), "w") as entry:
                shutil.copyfileobj(source, entry, 1 << 20)
            archive.writestr(_entry("media", date), index)
            for number, file in enumerate(ordered_media):
                archive.writestr(_entry(str(number), date), file.data)
    except OSError as error:
        raise BuildError(f"cannot write {target.as_posix()}: {error.strerror or error}") from None


def _entry(name: str, date: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    # The level has no public name before Python 3.13 (compress_level); this one works in all.
    info._compresslevel = _COMPRESS_LEVEL  # type: ignore[attr-defined]
    info.external_attr = 0o644 << 16
    return info


def _stable_id(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % (1 << 52) + (1 << 30)
