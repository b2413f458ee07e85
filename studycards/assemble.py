"""Assemble the deck: stream each file's cards through the deck-wide checks into the outputs.

The card files' outcomes (``pipeline.py``) arrive one file at a time. Each
card is checked against the cards before it (repeated ids, tag spellings,
look-alike questions), compared with the last build's manifest, and written
at once to the package database, the manifest and the quiz page, all
temporary files. Only when the whole deck has passed are they renamed into
place, together with any ids written back into the YAML; otherwise they are
removed and the previous outputs stay as they were.

Cards without an id wait until every file has been read, so that the ids
made for them cannot clash with an id that appears later in the deck. A build
that makes ids then reads the deck again, from the files as they will be once
the ids are written: its positions, card order and outputs are the next
build's. The files that got ids are parsed and rendered again, and so are those
never cached (with media or errors); the rest come from the cache, their bytes
read again so that a file changed meanwhile is caught.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Container
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TextIO

from studycards.cache import FileCache, cache_folder
from studycards.cards import Deck
from studycards.checker import CrossFileChecks, check_folder
from studycards.deckindex import DeckIndex
from studycards.ids import IdInsertion, assign_id, insert_ids
from studycards.lint import DeckWideLint
from studycards.manifest import (
    Manifest,
    ManifestWriter,
    Plan,
    PlanBuilder,
    file_of,
    kind_change_warning,
    manifest_path,
    parse_entry,
    read_manifest,
    same_card_text,
)
from studycards.output import BuildError, Staging, sweep_stale
from studycards.package import PackageWriter, build_timestamp, write_zip
from studycards.pipeline import FileOutcome, card_facts, note_outputs, process_folder
from studycards.problems import Problem
from studycards.quiz import QuizWriter, quiz_json
from studycards.render import (
    MediaCollector,
    MediaFile,
    RenderedNote,
    Renderer,
    origin,
    render_deck_source,
    render_description,
)

Mode = Literal["build", "check", "plan"]

# The order in which a build's files land (``Staging.commit``), so that a build killed in
# between leaves nothing that the next build would read wrongly: first the package, quiz page
# and cache; then the ids written into the YAML (the package already holds their cards, so a
# learner who imports it and the next build agree on them); last the manifest, the record of
# what was built, whose ids a new card must never reuse.
COMMIT_AFTER_PACKAGE = 1
COMMIT_LAST = 2


@dataclass
class Assembly:
    """What a run found and did, for the command line to report."""

    problems: list[Problem] = field(default_factory=list)
    deck: Deck | None = None
    target: Path | None = None
    notes: int = 0
    cards: int = 0
    subdecks: set[str] = field(default_factory=set)
    plan: Plan | None = None  # against the last build's manifest, when there is one
    places: dict[str, str] = field(default_factory=dict)  # added card id -> file:line, for --plan
    ids_written: int = 0
    earlier_deck_id: str = ""  # the last build's deck id, when it was another: nothing compared
    notices: list[str] = field(default_factory=list)  # warnings about the build, not about a file

    @property
    def errors(self) -> int:
        return sum(problem.level == "error" for problem in self.problems)

    @property
    def warnings(self) -> int:
        return sum(problem.level == "warning" for problem in self.problems) + len(self.notices)


def assemble(folder: Path, display: str, out: Path | None, mode: Mode, strict: bool) -> Assembly:
    base = Assembly()
    deck, files, base.problems = check_folder(folder, display)
    if deck is None:
        _check_without_deck(base, files, display, folder)
        return base
    base.deck = deck
    base.target = target = out or folder.parent / "dist" / f"{deck.id}.apkg"
    if mode == "build":
        sweep_stale(folder)  # an id write-back of a killed build
    # --check reads it too: it tells what a build would, the id an edit takes from another card too.
    previous = read_manifest(manifest_path(target))
    if previous is None and manifest_path(target).is_file():
        # Without it no warning can tell what an edit does to the notes in Anki: a changed id, say.
        base.notices.append(f"{manifest_path(target).as_posix()}, the record of the last build, cannot be "
                            "read (damaged, or written by another version of this program): the cards are "
                            "not compared with the last build this time")
    # The default package is named after the deck id: with another id, the last build is another
    # package beside this one. Other decks may be built into the same folder too.
    beside = (_builds_beside(target, {file.name for file in files})
              if previous is None and out is None else [])
    previous = previous or next((manifest for manifest in beside if manifest.deck_id == deck.id), None)
    if previous is not None and previous.deck_id != deck.id:
        # Every note's identity comes from the deck id: none of the last build's notes is
        # this build's, and nothing is to be compared with them.
        base.problems.append(_deck_id_warning(deck, previous.deck_id, "to this package"))
        base.earlier_deck_id, previous = previous.deck_id, None
    staging = Staging()
    readings: list[_Reading] = []  # each one made, to be closed however the run ends
    try:
        cache = FileCache(cache_folder(target), deck, staging if mode == "build" else None)
        timestamp = build_timestamp(previous.timestamp if previous else None) if mode == "build" else None
        other_builds = [manifest for manifest in beside if manifest.deck_id != deck.id]
        # The deck's own texts, once: every reading of the cards starts from these problems.
        description, media = _render_deck_texts(deck, folder, base.problems)
        reader = _DeckReader(base, files, display, folder, cache, previous, other_builds, staging, timestamp,
                             readings)
        first = reader.read({})
        result, reading = first.result, first
        _add_timestamp_notice(result, previous, timestamp)
        writes = timestamp is not None and not result.errors and not (strict and result.warnings)
        if first.insertions and writes:
            # The new ids go into the YAML: the deck is read again from the files as they will be,
            # so that this build's positions, card order and outputs are those of the next build.
            # (A build that stops before writing, above, reports the files as they are.)
            reading = reader.read({file: insert_ids(first.sources[file], insertions)
                                   for file, insertions in _by_file(first.insertions).items()})
            result = reading.result
            _add_timestamp_notice(result, previous, timestamp)
            result.problems += _changed_between(first, reading)
            if reading.insertions and not result.errors:
                raise BuildError("a card still had no id once the ids were written; build again")
        outputs = reading.outputs
        if mode != "build" or outputs is None or result.errors:
            return result
        changed, result.ids_written = _stage_id_insertions(staging, first.insertions, first.sources, display,
                                                           folder)
        result.problems += changed
        if result.errors or (strict and result.warnings):
            return result
        outputs.finish(description, media)
        staging.commit()
        cache.prune([f"{display}/{file.name}" for file in files])
        return result
    except OSError as error:  # the outputs are the only files written: a full disk, say
        raise BuildError(f"cannot write to {target.parent.as_posix()}: {error.strerror or error}") from None
    finally:
        for opened in readings:
            opened.close()
        staging.discard()


def _add_timestamp_notice(result: Assembly, previous: Manifest | None, timestamp: float | None) -> None:
    if timestamp is not None and previous is not None and result.plan is not None \
            and result.plan.notes_changed and timestamp <= previous.timestamp:
        # Only SOURCE_DATE_EPOCH can do this: the build time is always after the latest one.
        result.notices.append(
            f"SOURCE_DATE_EPOCH ({int(timestamp)}) is not later than the latest build's time "
            f"({int(previous.timestamp)}): Anki will take the changed or moved cards "
            f"({result.plan.notes_changed}) for ones it has and skip them; set a later time")


def _render_deck_texts(deck: Deck, folder: Path, problems: list[Problem]) -> tuple[str, dict[str, MediaFile]]:
    """The deck's description as HTML and the media it names; its default source checked too."""
    renderer = Renderer(MediaCollector(folder))
    description = render_description(deck, renderer, problems)
    render_deck_source(deck, renderer, problems)
    return description, renderer.media.files


def _changed_between(first: _Reading, second: _Reading) -> list[Problem]:
    """The files that changed on disk between two readings: their cards may not match what was read.

    The files that got ids are not among them: their bytes were given to the second reading, and
    the write-back checks them against the disk (``_stage_id_insertions``).
    """
    return [Problem(display, 1, 1, "error", "file changed during the build; build again")
            for display, digest in second.digests.items()
            if display not in first.sources and first.digests.get(display) != digest]


@dataclass
class _Reading:
    """One reading of the card files: what it found, and the outputs it wrote (in a build)."""

    result: Assembly
    run: _Run
    insertions: list[IdInsertion] = field(default_factory=list)  # the ids made for cards without one
    sources: dict[str, bytes] = field(default_factory=dict)  # the files whose cards got ids, as read
    digests: dict[str, str] = field(default_factory=dict)  # of each file read, by display name

    @property
    def outputs(self) -> _Outputs | None:
        """None when nothing is written, or when the ids made call for another reading."""
        return self.run.outputs

    def abandon_outputs(self) -> None:
        """Give up this reading's outputs: another reading will write them."""
        if self.run.outputs is not None:
            self.run.outputs.abandon()
            self.run.outputs = None

    def close(self) -> None:
        self.run.index.close()
        if self.run.outputs is not None:
            self.run.outputs.close()


@dataclass
class _DeckReader:
    """Reads the card files into the deck-wide checks and, in a build, the outputs."""

    base: Assembly  # what was found before the card files: the deck's own problems
    files: list[Path]
    display: str
    folder: Path
    cache: FileCache
    previous: Manifest | None
    other_builds: list[Manifest]
    staging: Staging
    timestamp: float | None  # a build's; None when nothing is written
    opened: list[_Reading]  # every reading made, for the caller to close

    def read(self, contents: dict[str, bytes]) -> _Reading:
        """Read every card file, or its bytes in ``contents`` (by display name) when given."""
        # A fresh result each time: nothing one reading finds may count in another's.
        result = replace(self.base, problems=list(self.base.problems), subdecks=set(), places={},
                         notices=list(self.base.notices))
        deck = self.base.deck
        assert deck is not None and result.target is not None, "a deck to read the cards of"
        outputs = None
        if self.timestamp is not None:
            # The manifest keeps the latest build time (see ``Manifest.timestamp``).
            latest = max(self.timestamp, self.previous.timestamp) if self.previous else self.timestamp
            outputs = _Outputs(self.staging, result.target, deck, self.timestamp, latest)
        run = _Run(result, deck, self.previous, outputs, self.other_builds)
        reading = _Reading(result, run)
        self.opened.append(reading)
        if outputs is not None:
            outputs.open()
        held: list[tuple[RenderedNote, dict[str, MediaFile]]] = []
        # Closed at once, even on an error: the generator owns the worker processes.
        with contextlib.closing(process_folder(self.files, self.display, deck, self.folder, self.cache,
                                               contents)) as outcomes:
            for outcome in outcomes:
                result.problems += outcome.problems
                run.add(outcome)
                reading.digests[outcome.display] = outcome.digest
                held += [(note, outcome.media) for note in outcome.held]
                if outcome.held:
                    reading.sources[outcome.display] = outcome.source
                    # Ids will be written: a second reading, of the files as written, makes the
                    # outputs (see ``assemble``), so this one stops making them.
                    reading.abandon_outputs()
        reading.insertions = [run.add_without_id(note, media) for note, media in held]
        if (renamed_from := run.earlier_build_of_this_deck()) is not None:
            result.problems.append(_deck_id_warning(deck, renamed_from.deck_id,
                                                    f"in {result.target.parent.as_posix()}"))
            result.earlier_deck_id = renamed_from.deck_id
        result.problems += run.finish_checks()
        result.plan = run.plan.finish(deck.name) if run.plan is not None else None
        if result.plan is not None:
            result.problems += _id_change_warnings(result.plan, run)
        return reading


def _id_change_warnings(plan: Plan, run: _Run) -> list[Problem]:
    """Where the review history of a card would go to another card's text, or be left behind.

    A card whose id another card has is told that instead, and not named in another's
    warning: which card it is, is not known.
    """
    problems = []
    for card_id, twin, what in plan.renamed:
        if card_id not in run.cross.repeated:
            file, position = run.added_at[card_id]
            problems.append(Problem(file, *position, "warning",
                                    f"card '{card_id}' has the same {what} as '{twin}', whose id is gone: "
                                    "Anki will add it as a new card, without the review history; give it "
                                    f"back the id '{twin}' to keep it"))
    for card_id, other in plan.text_left:
        if card_id not in run.cross.repeated and other not in run.cross.repeated:
            file, position = run.added_at[card_id]
            problems.append(Problem(file, *position, "warning",
                                    f"card '{card_id}' has the text '{other}' had in the last build, and "
                                    f"'{other}' now has another: its review history, which Anki keeps by "
                                    f"id, goes with that one; if this card was '{other}', give it that id "
                                    "back and the other card a new one"))
    for card_id, other in plan.took_text:
        if card_id not in run.cross.repeated and other not in run.cross.repeated:
            file, line, column = run.index.id_place(card_id)
            problems.append(Problem(file, line, column, "warning",
                                    f"card '{card_id}' now has the text '{other}' had in the last build: its "
                                    "review history, which Anki keeps by id, goes with it; if the ids were "
                                    "swapped, give each card back its own"))
    return problems


def _deck_id_warning(deck: Deck, earlier_id: str, where: str) -> Problem:
    return Problem(deck.deck_file, *deck.id_position, "warning",
                   f"the deck's id was '{earlier_id}' in the last build {where}: Anki will add every card "
                   "as new, and keep the old cards and their review history apart; change the id back to "
                   "keep them")


def _builds_beside(target: Path, file_names: set[str]) -> list[Manifest]:
    """The manifests in ``target``'s folder that name one of these card files, newest first."""
    manifests = []
    for path in target.parent.glob("*.manifest.json"):
        manifest = read_manifest(path)
        if manifest is not None and any(entry is not None and entry.file in file_names
                                        for entry in map(parse_entry, manifest.cards.values())):
            manifests.append(manifest)
    return sorted(manifests, key=lambda manifest: manifest.timestamp, reverse=True)


def _check_without_deck(result: Assembly, files: list[Path], display: str, folder: Path) -> None:
    """With deck.yaml broken, still report the card files' errors, so all come at once.

    Warnings wait: the deck's lint settings are unknown until deck.yaml is fixed.
    """
    stand_in = Deck("", "", "", "", f"{display}/deck.yaml")
    index = DeckIndex()
    try:
        cross = CrossFileChecks(index)
        with contextlib.closing(process_folder(files, display, stand_in, folder, cache=None)) as outcomes:
            for outcome in outcomes:
                result.problems += [problem for problem in outcome.problems if problem.level == "error"]
                result.problems += cross.add(outcome.cards, [card_facts(note.card) for note in outcome.held])
        result.problems += cross.finish()
    finally:
        index.close()


class _Run:
    """The deck-wide state of one run, fed one file at a time."""

    def __init__(self, result: Assembly, deck: Deck, previous: Manifest | None,
                 outputs: _Outputs | None, other_builds: list[Manifest]) -> None:
        self.result = result
        self.deck = deck
        self.previous = previous
        self.outputs = outputs
        self.index = DeckIndex()
        self.cross = CrossFileChecks(self.index)
        self.lint = DeckWideLint(deck)
        self.plan = PlanBuilder(previous) if previous is not None else None
        self.added_at: dict[str, tuple[str, tuple[int, int]]] = {}  # new since the last build: where
        # By card id: told once the ids are checked, as the card given may not be the one that keeps it.
        self.kind_changes: dict[str, Problem] = {}
        # Other decks' builds beside this package (newest first), and how many of this deck's
        # cards each holds under the same id and with the same text.
        self.other_builds = other_builds
        self.same_cards = [0] * len(other_builds)
        self.is_build = outputs is not None  # not --check or --plan (the outputs may be given up later)

    def add(self, outcome: FileOutcome, names_checked: bool = False) -> None:
        """The cards of one file that have ids: checked against the deck so far, then written.

        A card given its id by this build comes alone, later, its names already checked
        with its file's cards (``names_checked``).
        """
        result, plan = self.result, self.plan
        closeness = []  # to the last build's card of the same id
        for card, entry in zip(outcome.cards, outcome.entries, strict=True):
            result.cards += len(card.ords)
            if card.subdeck:
                result.subdecks.add(card.subdeck)
            before, close = None, 0
            if plan is not None:
                before, close = plan.add(card.id, entry)
                if before is None:
                    result.places[card.id] = f"{card.file}:{card.line}"
                    self.added_at[card.id] = (card.file, card.position("id"))
                elif before != entry:  # changed: worth parsing the old entry
                    earlier = parse_entry(before)
                    warning = kind_change_warning(earlier, card) if earlier is not None else None
                    if warning is not None:
                        self.kind_changes.setdefault(card.id, warning)
            closeness.append(close)
        if names_checked:
            self.index.add(outcome.cards, closeness)
        else:
            result.problems += self.cross.add(outcome.cards, [card_facts(note.card) for note in outcome.held],
                                              closeness)
        result.notes += len(outcome.cards)
        for number, build in enumerate(self.other_builds):
            for card, entry in zip(outcome.cards, outcome.entries, strict=True):
                before = build.cards.get(card.id)
                if before is not None and same_card_text(before, entry):
                    self.same_cards[number] += 1
        if self.outputs is not None:
            self.outputs.add(outcome)

    def earlier_build_of_this_deck(self) -> Manifest | None:
        """The newest other build at least half of whose cards are this deck's, as they are: this
        deck, once under another id. (Another deck's cards may share ids, never their text.)"""
        return next((build for build, same in zip(self.other_builds, self.same_cards, strict=True)
                     if 2 * same >= len(build.cards) > 0), None)

    def add_without_id(self, note: RenderedNote, media: dict[str, MediaFile]) -> IdInsertion:
        # Not the id of a card removed since the last build either: its note is still in
        # learners' collections, and a new card must not take over its history.
        card, insertion = assign_id(note.card, _Taken(self.index, self.previous))
        if not self.is_build:  # --check or --plan: the id is not written
            # A note, not a warning: a build with --strict writes the id as any build does.
            self.result.problems.append(Problem(card.file, card.line, card.column, "note",
                                                "card has no id; a build will write one into this file"))
        fields = {**note.fields, "Origin": origin(card)}
        outputs = note_outputs(RenderedNote(card, fields, note.choices), self.deck, media)
        self.add(FileOutcome(card.file, [], [outputs.facts], [outputs.fields], [outputs.entry],
                             quiz_json([outputs.quiz_data]), media=media), names_checked=True)
        return insertion

    def finish_checks(self) -> list[Problem]:
        """The deck-wide checks that need every card: repeated ids and look-alike questions."""
        problems = self.cross.finish(self._last_file)
        # An id on two cards: which of them changed kind is not known, nor worth telling.
        problems += [warning for card_id, warning in self.kind_changes.items()
                     if card_id not in self.cross.repeated]
        return problems + self.lint.problems(self.index)

    def _last_file(self, card_id: str) -> str | None:
        """The card file that had ``card_id`` in the last build, if any."""
        before = self.previous.cards.get(card_id) if self.previous is not None else None
        return file_of(before) if before is not None else None


class _Taken:
    """The ids a new one must differ from: this deck's, and the last build's."""

    def __init__(self, ids: Container[str], previous: Manifest | None) -> None:
        self.ids = ids
        self.previous = previous.cards if previous is not None else {}

    def __contains__(self, card_id: object) -> bool:
        return card_id in self.ids or card_id in self.previous


class _Outputs:
    """The package, manifest and quiz page of a build, each a temporary file until committed."""

    def __init__(self, staging: Staging, target: Path, deck: Deck, timestamp: float, latest: float) -> None:
        self.staging = staging
        self.target = target
        self.deck = deck
        self.timestamp = timestamp
        self.latest = latest  # of the builds made here, this one included: the manifest keeps it
        self.media: dict[str, MediaFile] = {}
        self._files: list[tuple[TextIO, Path]] = []  # each output open for writing, and its target
        self._staged: list[Path] = []
        self.package: PackageWriter | None = None

    def open(self) -> None:
        """Start the three outputs; ``close`` releases whatever was started, even after a failure."""
        self.database = self.staging.scratch(self.target.parent, ".anki2")
        self.package = PackageWriter(self.database, self.deck, self.timestamp)
        self.manifest = ManifestWriter(self._open(manifest_path(self.target), COMMIT_LAST),
                                       self.deck.id, self.latest)
        self.quiz = QuizWriter(self._open(self.target.with_suffix(".html")), self.deck)

    def add(self, outcome: FileOutcome) -> None:
        assert self.package is not None, "opened before the first card"
        self.package.add(outcome.cards, outcome.fields)
        self.manifest.add([card.id for card in outcome.cards], outcome.entries)
        self.quiz.add(outcome.cards, outcome.quiz)
        self.media.update(outcome.media)

    def finish(self, description: str, description_media: dict[str, MediaFile]) -> None:
        self.media.update(description_media)
        assert self.package is not None, "opened before finishing"
        self.package.finish(description)
        write_zip(self.staging.stage(self.target), self.database, self.media, self.timestamp, self.target)
        self.manifest.finish()
        self.quiz.finish(description, description_media)
        for file, target in self._files:
            try:
                file.close()
            except OSError as error:  # the last of the text reaches the disk: a full disk, say
                raise BuildError(f"cannot write {target.as_posix()}: {error.strerror or error}") from None

    def abandon(self) -> None:
        """Close and take back every output started: none of them will land."""
        self.close()
        for path in self._staged:
            self.staging.unstage(path)
        if self.package is not None:  # the collection so far, as large as the deck: not kept till the end
            self.database.unlink(missing_ok=True)

    def close(self) -> None:
        """Release every file, finished or not (closing twice is harmless)."""
        if self.package is not None:
            self.package.close()
        for file, _ in self._files:
            with contextlib.suppress(OSError):  # an unfinished output that is about to be removed
                file.close()

    def _open(self, target: Path, rank: int = 0) -> TextIO:
        try:
            staged = self.staging.stage(target, rank)
            self._staged.append(staged)
            stream = staged.open("w", encoding="utf-8", newline="")
        except OSError as error:
            raise BuildError(f"cannot write {target.as_posix()}: {error.strerror or error}") from None
        self._files.append((stream, target))
        return stream


def _stage_id_insertions(staging: Staging, insertions: list[IdInsertion], sources: dict[str, bytes],
                         display: str, folder: Path) -> tuple[list[Problem], int]:
    """Stage each YAML file that gets new ids, so it is replaced together with the outputs.

    The ids go into the very bytes that were read. A file changed since by its author is
    an error: the package would hold ids its YAML does not, and the next build would
    give those cards other ids. A build running beside this one may have written the
    same ids first: then there is nothing left to write. Returns the errors and the
    number of ids staged.
    """
    changed = []
    written = 0
    for file_display, file_insertions in _by_file(insertions).items():
        # A card file may be a link to a file elsewhere in the cards folder: the ids go into
        # that file, and the link stays a link. (Two names for one file are refused earlier.)
        path = Path(os.path.realpath(folder / file_display[len(display) + 1:]))
        source = sources[file_display]
        updated = insert_ids(source, file_insertions)
        try:
            current = path.read_bytes()
            if current == updated:
                continue
            if current != source:
                changed.append(Problem(file_display, 1, 1, "error",
                                       "file changed during the build, so its new ids cannot be "
                                       "written into it; build again"))
                continue
            # Checked again just before it lands: the author may still be editing.
            staging.stage(path, COMMIT_AFTER_PACKAGE, expected=source).write_bytes(updated)
        except OSError as error:
            raise BuildError(f"cannot write {path}: {error.strerror}") from None
        written += len(file_insertions)
    return changed, written


def _by_file(insertions: list[IdInsertion]) -> dict[str, list[IdInsertion]]:
    by_file: dict[str, list[IdInsertion]] = {}
    for insertion in insertions:
        by_file.setdefault(insertion.file, []).append(insertion)
    return by_file
