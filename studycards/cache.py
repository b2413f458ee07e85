"""The per-file cache: what a card file yielded, kept so that an unchanged file is not read again.

An entry is keyed by the file's name and the SHA-256 of its bytes, and is
valid only for the same program (a hash of this package's source), the same
deck settings that shape a file's outcome (identity, default source, lint
settings) and the same installed libraries. An entry is one file: a JSON
header line, the cards' facts and problems packed with ``marshal``, then the
text of each output in UTF-8 (see ``entry_bytes``), staged and renamed into
place with the build's outputs. Anything unreadable,
stale or malformed is ignored and the file is processed again. A cache is
never trusted over the cards.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import marshal
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studycards.cards import KIND_BY_VALUE, CardFacts
from studycards.output import BuildError, Staging
from studycards.problems import Problem

if TYPE_CHECKING:
    from studycards.cards import Deck
    from studycards.pipeline import FileOutcome

CACHE_FOLDER = ".studycards-cache"
# Every installed library that working out a file's outcome imports, its own dependencies
# too (markdown-it encodes link addresses with mdurl): a test holds the list complete.
CACHE_KEY_LIBRARIES = ("yaml", "markdown_it", "mdurl", "mdit_py_plugins", "genanki", "cached_property",
                       "chevron")
_SUFFIX = ".entry"
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


def _library_files() -> list[str]:
    """Which copy of each library that reads and renders cards is installed.

    The size and time of each package's ``__init__.py`` change whenever the library
    is upgraded or reinstalled. Looking them up does not import the libraries, nor
    ``importlib.metadata``, which would cost a rebuild more than reading its cache.
    """
    files = []
    for name in CACHE_KEY_LIBRARIES:
        spec = importlib.util.find_spec(name)
        try:
            stat = os.stat(spec.origin) if spec is not None and spec.origin else None
        except OSError:
            stat = None
        files.append(f"{name} {stat.st_size} {stat.st_mtime_ns}" if stat else f"{name} ?")
    return files


def cache_folder(package: Path) -> Path:
    """Where the entries of the build that writes ``package`` are kept.

    Each package has a folder of its own: decks built into the same folder would
    otherwise remove each other's entries (``prune``) and read every file again.
    """
    # The whole file name: a stem can be "." (``..apkg``), which would name the cache folder itself.
    return package.parent / CACHE_FOLDER / package.name


class FileCache:
    def __init__(self, folder: Path, deck: Deck, staging: Staging | None) -> None:
        self.folder = folder
        # New entries are staged with the build's outputs and land only if it succeeds;
        # a read-only run (--check) has no staging: it reads the cache and writes nothing.
        self.staging = staging
        self.key = cache_key(deck)
        # The entries this run staged: a build that reads the deck twice (see ``assemble``) finds
        # them before they land.
        self._staged: dict[str, Path] = {}

    def get(self, display: str, digest: str) -> FileOutcome | None:
        try:
            data = self._staged.get(display, self._path(display)).read_bytes()
        except OSError:
            return None
        return outcome_from_entry(data, self.key, display, digest)

    def put(self, outcome: FileOutcome) -> None:
        self.put_entry(outcome.display, entry_bytes(outcome, self.key))

    def put_entry(self, display: str, data: bytes) -> None:
        """Stage an entry, as ``entry_bytes`` made it; an entry that cannot be written only costs time."""
        if self.staging is None:
            return
        target = self._path(display)
        if target.exists() and not target.is_file():
            return  # a folder in its place: it could not be renamed over at the commit
        try:
            staged = self.staging.stage(target)
        except (OSError, BuildError):
            return
        try:
            staged.write_bytes(data)
        except OSError:  # a full disk, say: the entry must not land cut short over a good one
            self.staging.unstage(staged)
            return
        self._staged[display] = staged

    def made_by_this_program(self) -> bool:
        """Whether the cache holds an entry of this program and deck: if not, every file needs work.

        One entry is enough to tell a rebuild (most files unchanged) from a first build or the
        first after the program changed; only its first bytes are read.
        """
        if self._staged:  # a second reading of this build (see ``assemble``): its entries are staged
            return True
        prefix = f'{{"key":"{self.key}"'.encode()
        with contextlib.suppress(OSError):
            entry = next(self.folder.glob(f"*{_SUFFIX}"), None)
            if entry is not None:
                with entry.open("rb") as stream:
                    return stream.read(len(prefix)) == prefix
        return False

    def prune(self, displays: list[str]) -> None:
        """Remove the entries of card files that are gone (renamed or deleted), and any older kind."""
        keep = {self._path(display).name for display in displays}
        gone: list[Path] = []
        with contextlib.suppress(OSError):  # no folder (nothing was cached): nothing to remove
            gone += [entry for entry in self.folder.iterdir() if entry.name not in keep]
        # Earlier versions of the program kept every package's entries in the cache folder itself.
        gone += self.folder.parent.glob(f"*{_SUFFIX}")
        for entry in gone:
            # Not another build's entry being written (a temporary file).
            if not entry.name.startswith(".studycards-"):
                with contextlib.suppress(OSError):
                    entry.unlink()

    def _path(self, display: str) -> Path:
        return self.folder / f"{hashlib.sha256(display.encode()).hexdigest()[:24]}{_SUFFIX}"


def cache_key(deck: Deck) -> str:
    """Everything an outcome depends on besides the file: this program's code, the deck's
    identity (in GUIDs and subdeck names), its settings, and the libraries that parse and render."""
    settings = [deck.id, deck.name, deck.source, sorted(deck.lint.disabled),
                deck.lint.max_answer_words, deck.lint.max_deletions_per_card,
                list(sys.version_info), _library_files()]
    return hashlib.sha256((program_fingerprint() + json.dumps(settings)).encode()).hexdigest()


def entry_bytes(outcome: FileOutcome, key: str) -> bytes:
    """A cacheable outcome as an entry: a JSON header line, the facts, then the outputs' text.

    The cards' facts and the problems are packed with ``marshal``, the standard library's
    format for Python's own values: tuples of text and numbers go in and come out as they
    are, several times faster than through JSON. The header holds their length and the
    SHA-256 of all that follows it, so only bytes this program wrote are ever unpacked
    (``marshal`` is not meant for damaged data) or used, and the key, so an entry of another
    program or Python version is never opened.
    The outputs' text follows in UTF-8 as it is, not as JSON strings: escaping and unescaping
    megabytes of HTML would cost more than everything else here.
    """
    assert outcome.cacheable, "only outcomes without media, held cards or errors are cached"
    facts = marshal.dumps(([_facts_row(card) for card in outcome.cards],
                           [_problem_row(problem) for problem in outcome.problems]))
    texts = [outcome.quiz]
    for fields, entry in zip(outcome.fields, outcome.entries, strict=True):
        texts += (fields, entry)
    body = facts + _SEPARATOR.join(texts).encode("utf-8")
    header = {"key": key, "display": outcome.display, "digest": outcome.digest,
              "facts": len(facts), "sha256": _checksum(len(facts), body)}
    return b"".join([json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), b"\n",
                     body])


def outcome_from_entry(data: bytes, key: str, display: str, digest: str,
                       fresh: bool = False) -> FileOutcome | None:
    """The outcome an entry holds; ``None`` unless it is whole and made for this file and program.

    A ``fresh`` entry, just made by a worker of this build, has not been stored yet:
    it needs no checksum test.
    """
    from studycards.pipeline import FileOutcome  # pipeline imports this module

    try:
        start = data.index(b"\n") + 1
        header = json.loads(data[:start])
        if header["key"] != key or header["digest"] != digest or header["display"] != display:
            return None
        if not fresh and _checksum(header["facts"], memoryview(data)[start:]) != header["sha256"]:
            return None  # cut short, or changed since it was written
        end = start + header["facts"]
        rows, problem_rows = marshal.loads(data[start:end])
        cards = [CardFacts(row[0], KIND_BY_VALUE[row[1]], display, *row[2:]) for row in rows]
        problems = [Problem(*row) for row in problem_rows]
        texts = data[end:].decode("utf-8").split(_SEPARATOR)
        if len(texts) != 1 + 2 * len(cards):
            return None  # cut short, or not written by this program
        return FileOutcome(display, problems, cards, texts[1::2], texts[2::2], texts[0], digest=digest)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError):
        return None


def _checksum(facts_length: int, body: bytes | memoryview) -> str:
    # The length that splits the body in two is covered too: changed, it would split it wrongly.
    digest = hashlib.sha256(str(facts_length).encode())
    digest.update(body)
    return digest.hexdigest()


def _facts_row(facts: CardFacts) -> tuple[Any, ...]:
    """A card's facts without its file (the entry's) and with its kind as text: what marshal packs."""
    return (facts.id, facts.kind.value, *facts[3:])


def _problem_row(problem: Problem) -> tuple[Any, ...]:
    return (problem.path, problem.line, problem.column, problem.level, problem.message, problem.rule)
