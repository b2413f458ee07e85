"""Read, check, lint and render the card files one at a time: cached, in parallel when there is much to do.

Everything one card file yields depends on that file alone (and on deck.yaml's
settings), so each file is a unit of work: ``process_file`` turns it into a
``FileOutcome``. Outcomes stream out in file order; the caller runs the
deck-wide checks and writes the outputs as they come, so memory stays flat
however large the deck.

Unchanged files are not parsed again: their outcome comes from the cache
(``cache.py``). When many files need work, they are processed on every core.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Generator
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from studycards.cache import FileCache, entry_bytes, outcome_from_entry
from studycards.cards import Card, CardFacts, Deck, Kind
from studycards.checker import check_card_nodes
from studycards.lint import Signature, lint_card, prompt_signature
from studycards.manifest import card_entry, entry_text
from studycards.output import BuildError, ctrl_c_held
from studycards.package import card_ords, note_guid, package_fields
from studycards.problems import Problem
from studycards.quiz import quiz_data, quiz_json
from studycards.reader import decode, read_text
from studycards.render import MediaCollector, MediaFile, RenderedNote, Renderer, render_card

# Below this much YAML to work out, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 1_000_000


@dataclass
class FileOutcome:
    """What one card file yields: its problems, and each card ready for the deck-wide pass.

    A card with an id comes as its ``CardFacts`` plus the text each output needs of
    it, made where the file is read (once per file, in a worker process for a large
    deck, and cached), so the deck-wide pass only checks facts and copies text. A
    card without an id waits in ``held``, rendered, until the whole deck is read.
    """

    display: str
    problems: list[Problem]
    cards: list[CardFacts] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)  # per card: its note's fields as stored
    entries: list[str] = field(default_factory=list)  # per card: its manifest entry
    quiz: str = ""  # the cards' data for the quiz page, as ``quiz_json`` makes it
    held: list[RenderedNote] = field(default_factory=list)
    media: dict[str, MediaFile] = field(default_factory=dict)
    digest: str = ""  # of the file's bytes, the cache key
    source: bytes = b""  # the file's bytes, kept only when cards are held: their ids go into them

    @property
    def cacheable(self) -> bool:
        # Media files can change without the YAML changing: such files are always redone.
        # So is a file with a card lacking an id: the build writes the id into it.
        return not self.media and not self.held and not any(
            problem.level == "error" for problem in self.problems)


@dataclass
class NoteOutputs:
    """One card with an id, as each output takes it."""

    facts: CardFacts
    fields: str  # the note's fields as the package stores them
    entry: str  # the manifest's entry, as ``entry_text`` makes it
    quiz_data: dict[str, object]


def note_outputs(note: RenderedNote, deck: Deck, media: dict[str, MediaFile]) -> NoteOutputs:
    card = note.card
    assert card.id, "a card gets its outputs once it has an id"
    guid = note_guid(deck.id, card.id)
    facts = card_facts(card, guid, prompt_signature(card), card_ords(card))
    return NoteOutputs(facts, package_fields(note), entry_text(card_entry(deck, note, guid)),
                       quiz_data(deck, note, media))


def card_facts(card: Card, guid: str = "", signature: Signature | None = None,
               ords: tuple[int, ...] = ()) -> CardFacts:
    return CardFacts(card.id, card.kind, card.file, card.line, card.column, card.subdeck, card.tags,
                     card.lint_ignore, card.position("id"), card.tag_positions, card.position("subdeck"),
                     card.position("cloze" if card.kind is Kind.CLOZE else "q"), card.position("a"),
                     guid, signature, ords)


@dataclass(frozen=True)
class FileJob:
    display: str
    data: bytes
    digest: str


def process_file(job: FileJob, deck: Deck, cards_folder: Path) -> FileOutcome:
    """One card file: read, checked, each card linted and rendered."""
    text, problems = decode(job.data, job.display)
    if text is None:
        return FileOutcome(job.display, problems, digest=job.digest)
    node, problems = read_text(text, job.display)
    if node is None:
        return FileOutcome(job.display, problems, digest=job.digest)
    cards, card_problems = check_card_nodes(node, job.display, text)
    problems += card_problems
    renderer = Renderer(MediaCollector(cards_folder))
    outcome = FileOutcome(job.display, problems, digest=job.digest)
    quiz_data = []
    for card in cards:
        problems += lint_card(card, deck)
        note = render_card(card, deck, renderer, problems)
        if not card.id:
            outcome.held.append(note)
            continue
        outputs = note_outputs(note, deck, renderer.media.files)
        outcome.cards.append(outputs.facts)
        outcome.fields.append(outputs.fields)
        outcome.entries.append(outputs.entry)
        quiz_data.append(outputs.quiz_data)
    outcome.quiz = quiz_json(quiz_data)
    outcome.media = renderer.media.files
    if outcome.held:
        outcome.source = job.data
    return outcome


def _process_file_in_worker(job: FileJob, deck: Deck, cards_folder: Path,
                            key: str | None) -> FileOutcome | bytes:
    # A cacheable outcome travels back as its cache entry: one string of bytes is far quicker
    # to send between processes than thousands of small objects, and the cache needs it anyway.
    outcome = process_file(job, deck, cards_folder)
    return entry_bytes(outcome, key) if key is not None and outcome.cacheable else outcome


def process_folder(files: list[Path], display: str, deck: Deck, cards_folder: Path, cache: FileCache | None,
                   contents: dict[str, bytes] | None = None) -> Generator[FileOutcome, None, None]:
    """Each card file's outcome, in order: from the cache, or worked out (in parallel if large).

    Files are read as they are reached, and only a few outcomes wait at a time,
    so memory does not grow with the deck. ``contents`` gives some files' bytes
    (by display name) in place of what is on disk.
    """
    cores = os.cpu_count() or 1
    # Workers pay off for a lot of work: a first build, or the first after the program changed
    # (every file needs work), or many edited files. A rebuild after a few edits does them
    # here, without starting any.
    every_file_needs_work = cache is None or not cache.made_by_this_program()
    unseen = _total_size(files)  # bytes of the files not reached yet
    missed = 0  # bytes of the files that needed work so far
    pool: Executor | None = None
    key = cache.key if cache is not None else None
    # Each entry: a finished outcome, or one being worked out; and, when it is new (to cache),
    # the file's display name and digest (not the job: its bytes need not wait in memory).
    pending: deque[tuple[FileOutcome | Future[FileOutcome | bytes], tuple[str, str] | None]] = deque()
    try:
        for file in files:
            file_display = f"{display}/{file.name}"
            given = contents.get(file_display) if contents else None
            job = _read(file, file_display) if given is None else _job(file_display, given)
            unseen -= len(job.data) if isinstance(job, FileJob) else 0
            if isinstance(job, FileOutcome):
                pending.append((job, None))
            elif cache is not None and (cached := cache.get(job.display, job.digest)) is not None:
                pending.append((cached, None))
            else:
                missed += len(job.data)
                work_ahead = missed + (unseen if every_file_needs_work else 0)
                if pool is None and cores > 1 and len(files) > 1 and work_ahead >= PARALLEL_MIN_BYTES:
                    try:
                        pool = _process_pool()
                    except (OSError, NotImplementedError):  # a system without them (no /dev/shm, say)
                        cores = 1  # this process does all the work, as for a small deck
                new = (job.display, job.digest)
                if pool is not None:
                    with ctrl_c_held():  # a worker may be started here: see _start_worker
                        future = pool.submit(_process_file_in_worker, job, deck, cards_folder, key)
                    pending.append((future, new))
                else:
                    pending.append((process_file(job, deck, cards_folder), new))
            while pending and (len(pending) > cores + 1 or isinstance(pending[0][0], FileOutcome)):
                yield _finished(*pending.popleft(), cache)
        while pending:
            yield _finished(*pending.popleft(), cache)
    finally:
        if pool is not None:
            # A second Ctrl-C while the pool stops (Python 3.11) left it waiting for its workers forever.
            with ctrl_c_held():
                pool.shutdown(cancel_futures=True)


def _process_pool() -> Executor:
    # Imported here: a build that needs no workers (most rebuilds) need not load multiprocessing.
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=os.cpu_count(), initializer=_start_worker)


def _start_worker() -> None:
    """In each worker process: leave Ctrl-C to the build, and end when the build ends, however it ends."""
    # Ctrl-C reaches every process of the terminal's group: the build stops its workers itself,
    # and a worker's own KeyboardInterrupt would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # held while the build started this worker
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # A build killed outright (SIGKILL) runs no clean-up, and its workers would wait for work forever.
    # The parent is the build, or (started by a fork server) the server, which ends with the build.
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _read(file: Path, display: str) -> FileJob | FileOutcome:
    try:
        data = file.read_bytes()
    except OSError as error:
        return FileOutcome(display, [Problem(display, 1, 1, "error", f"cannot read file: {error.strerror}")])
    return _job(display, data)


def _job(display: str, data: bytes) -> FileJob:
    return FileJob(display, data, hashlib.sha256(data).hexdigest())


def _finished(outcome: FileOutcome | Future[FileOutcome | bytes], new: tuple[str, str] | None,
              cache: FileCache | None) -> FileOutcome:
    """The outcome of a file; a new one (``new``: its display name and digest) is cached if it can be."""
    try:
        result = outcome.result() if isinstance(outcome, Future) else outcome
    except BrokenExecutor:  # a worker process was killed: by the system running out of memory, say
        raise BuildError("a worker process stopped before it finished its file; build again") from None
    if isinstance(result, bytes):  # a cache entry, from a worker
        assert new is not None and cache is not None, "workers send entries only when there is a cache"
        display, digest = new
        cache.put_entry(display, result)
        finished = outcome_from_entry(result, cache.key, display, digest, fresh=True)
        assert finished is not None, "an entry made by this very program"
        return finished
    if new is not None and cache is not None and result.cacheable:
        cache.put(result)
    return result


def _total_size(files: list[Path]) -> int:
    total = 0
    for file in files:
        with contextlib.suppress(OSError):
            total += file.stat().st_size
    return total
