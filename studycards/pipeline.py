"""Read, check, lint and render the card files one at a time: cached, and in parallel when large.

Everything one card file yields depends on that file alone (and on deck.yaml's
settings), so each file is a unit of work: ``process_file`` turns it into a
``FileOutcome``. Outcomes stream out in file order; the caller runs the
deck-wide checks and writes the outputs as they come, so memory stays flat
however large the deck.

Unchanged files are not parsed again: their outcome comes from the cache
(``cache.py``). Large decks are processed on every core.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from studycards.cache import FileCache
from studycards.cards import Card, Deck
from studycards.checker import check_card_nodes
from studycards.lint import Signature, lint_card, prompt_signature
from studycards.manifest import card_entry, entry_text
from studycards.package import card_ords, note_guid, package_fields
from studycards.problems import Problem
from studycards.quiz import quiz_item
from studycards.reader import decode, read_text
from studycards.render import MediaCollector, MediaFile, RenderedNote, Renderer, render_card

# Below this much YAML, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000


@dataclass
class NoteOutcome:
    """A card and what each output needs of it, worked out where the card is read.

    That work happens once per file, in a worker process for a large deck, and is
    cached, so the deck-wide pass only joins the pieces. A card without an id
    waits for one (``note`` keeps its rendering until then; the rest is empty).
    """

    card: Card
    note: RenderedNote | None = None
    guid: str = ""
    fields: str = ""  # the note's fields as the package stores them
    entry: str = ""  # the manifest's entry, as ``entry_text`` makes it
    quiz_item: str = ""
    signature: Signature | None = None
    ords: list[int] = field(default_factory=list)  # the Anki cards its note makes


def note_outcome(note: RenderedNote, deck: Deck, media: dict[str, MediaFile]) -> NoteOutcome:
    card = note.card
    if not card.id:
        return NoteOutcome(card, note)
    guid = note_guid(deck.id, card.id)
    entry = entry_text(card_entry(deck, note, guid))
    return NoteOutcome(card, None, guid, package_fields(note), entry, quiz_item(deck, note, media),
                       prompt_signature(card), card_ords(card))


@dataclass
class FileOutcome:
    display: str
    notes: list[NoteOutcome]
    problems: list[Problem]
    media: dict[str, MediaFile]
    digest: str = ""  # of the file's bytes, the cache key

    @property
    def cacheable(self) -> bool:
        # Media files can change without the YAML changing: such files are always redone.
        # So is a file with a card lacking an id: the build writes the id into it.
        return (not self.media and all(outcome.note is None for outcome in self.notes)
                and not any(problem.level == "error" for problem in self.problems))


@dataclass(frozen=True)
class FileJob:
    file: Path
    display: str
    data: bytes
    digest: str


def process_file(job: FileJob, deck: Deck, cards_folder: Path) -> FileOutcome:
    """One card file: read, checked, each card linted and rendered."""
    text, problems = decode(job.data, job.display)
    if text is None:
        return FileOutcome(job.display, [], problems, {}, job.digest)
    node, problems = read_text(text, job.display)
    if node is None:
        return FileOutcome(job.display, [], problems, {}, job.digest)
    cards, problems = check_card_nodes(node, job.display)
    renderer = Renderer(MediaCollector(cards_folder))
    rendered = []
    for card in cards:
        problems += lint_card(card, deck)
        rendered.append(render_card(card, deck, renderer, problems))
    media = renderer.media.files
    notes = [note_outcome(note, deck, media) for note in rendered]
    return FileOutcome(job.display, notes, problems, media, job.digest)


def process_folder(files: list[Path], display: str, deck: Deck, cards_folder: Path,
                   cache: FileCache | None) -> Iterator[FileOutcome]:
    """Each card file's outcome, in order: from the cache, or worked out (in parallel if large).

    Files are read as they are reached, and only a few outcomes wait at a time,
    so memory does not grow with the deck.
    """
    parallel = (os.cpu_count() or 1) > 1 and len(files) > 1 and _total_size(files) >= PARALLEL_MIN_BYTES
    pool: ProcessPoolExecutor | None = None
    window = 2 * (os.cpu_count() or 1)
    # Each entry: a finished outcome, or one being worked out; and whether it is new (to cache).
    pending: deque[tuple[FileOutcome | Future[FileOutcome], bool]] = deque()
    try:
        for file in files:
            job = _read(file, f"{display}/{file.name}")
            if isinstance(job, FileOutcome):
                pending.append((job, False))
            elif cache is not None and (cached := cache.get(job.display, job.digest)) is not None:
                pending.append((cached, False))
            elif parallel:
                pool = pool or ProcessPoolExecutor(max_workers=os.cpu_count())
                pending.append((pool.submit(process_file, job, deck, cards_folder), True))
            else:
                pending.append((process_file(job, deck, cards_folder), True))
            while pending and (len(pending) > window or isinstance(pending[0][0], FileOutcome)):
                yield _finished(*pending.popleft(), cache)
        while pending:
            yield _finished(*pending.popleft(), cache)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _read(file: Path, display: str) -> FileJob | FileOutcome:
    try:
        data = file.read_bytes()
    except OSError as error:
        return FileOutcome(display, [], [Problem(display, 1, 1, "error",
                                                 f"cannot read file: {error.strerror}")], {})
    return FileJob(file, display, data, hashlib.sha256(data).hexdigest())


def _finished(outcome: FileOutcome | Future[FileOutcome], new: bool, cache: FileCache | None) -> FileOutcome:
    if isinstance(outcome, Future):
        outcome = outcome.result()
    if new and cache is not None and outcome.cacheable:
        cache.put(outcome)
    return outcome


def _total_size(files: list[Path]) -> int:
    total = 0
    for file in files:
        with contextlib.suppress(OSError):
            total += file.stat().st_size
    return total
