"""Write the rendered notes as an Anki package (.apkg), atomically and reproducibly.

Identity: a note's GUID comes from the deck id and the card id only, so a
reworded card updates the note a learner has been reviewing.

Time: genanki stamps every note with the package timestamp, and Anki skips a
note whose stamp is not newer than its own copy; the build time is right for
that. ``SOURCE_DATE_EPOCH`` replaces it for reproducible builds.

Atomicity: the package is written beside its target and renamed over it, so
a reader sees the old package or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import genanki

from studycards.cards import Deck
from studycards.notetypes import NOTE_TYPES
from studycards.render import MediaFile, RenderedNote


class BuildError(Exception):
    """The environment stopped the build (disk, permissions); the message says how."""


def note_guid(deck_id: str, card_id: str) -> str:
    return str(genanki.guid_for(deck_id, card_id))


def build_timestamp(previous: float | None) -> float:
    """``SOURCE_DATE_EPOCH`` if set, else now, but always after the previous build.

    Anki applies an update only when the package is newer than its copy, so a
    rebuild within the same second as the last one must still count as newer.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        now = float(int(time.time()))
        return max(now, previous + 1) if previous is not None else now
    try:
        return float(int(value))
    except ValueError:
        raise BuildError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not '{value}'") from None


def anki_decks(deck: Deck, description_html: str, notes: list[RenderedNote]) -> list[genanki.Deck]:
    decks: dict[str, genanki.Deck] = {}
    for name in [deck.name, *deck.subdeck_names()]:
        if name not in decks:
            # Anki matches decks by name; the id only has to be stable and unique.
            decks[name] = genanki.Deck(_stable_id(f"{deck.id}/{name}"), name,
                                       description=description_html if name == deck.name else "")
    for note in notes:
        card = note.card
        model = NOTE_TYPES[card.kind]
        decks[deck.full_deck_name(card.subdeck)].add_note(genanki.Note(
            model=model,
            fields=[note.fields[field["name"]] for field in model.fields],
            guid=note_guid(deck.id, card.id),
            tags=list(card.tags),
        ))
    return list(decks.values())


def write_package(target: Path, decks: list[genanki.Deck], media: dict[str, MediaFile],
                  timestamp: float) -> None:
    """Write ``target`` so that it is replaced whole or not at all."""
    with _temporary_file(target.parent, ".anki2") as database:
        _write_database(database, decks, timestamp)
        with _temporary_file(target.parent, ".apkg") as package:
            _write_zip(package, database, media, timestamp)
            replace_file(package, target)


def write_bytes_atomically(target: Path, data: bytes) -> None:
    with _temporary_file(target.parent, target.suffix) as temporary:
        try:
            temporary.write_bytes(data)
        except OSError as error:
            raise BuildError(f"cannot write {target}: {error.strerror}") from None
        replace_file(temporary, target)


def replace_file(source: Path, target: Path) -> None:
    try:
        # Keep the mode of a file being replaced (a YAML file the user owns).
        if target.exists():
            os.chmod(source, target.stat().st_mode & 0o7777)
        else:
            os.chmod(source, 0o644)
        os.replace(source, target)
    except OSError as error:
        raise BuildError(f"cannot write {target}: {error.strerror}") from None


def _write_database(path: Path, decks: list[genanki.Deck], timestamp: float) -> None:
    connection = sqlite3.connect(path)
    try:
        cursor = connection.cursor()
        package = genanki.Package(decks)
        package.write_to_db(cursor, timestamp, itertools.count(int(timestamp * 1000)))
        connection.commit()
    except sqlite3.Error as error:
        raise BuildError(f"cannot write the package database: {error}") from None
    finally:
        connection.close()


def _write_zip(path: Path, database: Path, media: dict[str, MediaFile], timestamp: float) -> None:
    # Fixed entry order, dates and attributes: equal inputs give equal bytes.
    date = datetime.fromtimestamp(max(timestamp, 315532800), timezone.utc).timetuple()[:6]
    ordered_media = [media[name] for name in sorted(media)]
    entries: list[tuple[str, bytes]] = [
        ("collection.anki2", database.read_bytes()),
        ("media", json.dumps({str(index): file.name for index, file in enumerate(ordered_media)},
                             sort_keys=True).encode()),
        *((str(index), file.data) for index, file in enumerate(ordered_media)),
    ]
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=date)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
    except OSError as error:
        raise BuildError(f"cannot write {path.parent}: {error.strerror}") from None


@contextmanager
def _temporary_file(folder: Path, suffix: str) -> Iterator[Path]:
    """A file beside the target (same file system, so the rename is atomic), always removed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".studycards-", suffix=suffix, dir=folder)
    except OSError as error:
        raise BuildError(f"cannot write to {folder}: {error.strerror}") from None
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _stable_id(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % (1 << 52) + (1 << 30)
