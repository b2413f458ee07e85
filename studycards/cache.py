"""The per-file cache: what a card file yielded, kept so that an unchanged file is not read again.

An entry is keyed by the file's name and the SHA-256 of its bytes, and is
valid only for the same program (a hash of this package's source), the same
deck settings that shape a file's outcome (identity, default source, lint
settings) and the same installed libraries. An entry is one file: a JSON line
with the cards' facts and problems, then the text of each output, in UTF-8,
staged and renamed into place with the build's outputs. Anything unreadable,
stale or malformed is ignored and the file is processed again. A cache is
never trusted over the cards.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studycards.cards import CardFacts, Kind
from studycards.output import BuildError, Staging
from studycards.problems import Problem

if TYPE_CHECKING:
    from studycards.cards import Deck
    from studycards.pipeline import FileOutcome

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


def _library_files() -> list[str]:
    """Which copy of each library that reads and renders cards is installed.

    The size and time of each package's ``__init__.py`` change whenever the library
    is upgraded or reinstalled. Looking them up does not import the libraries, nor
    ``importlib.metadata``, which would cost a rebuild more than reading its cache.
    """
    files = []
    for name in ("yaml", "markdown_it", "mdit_py_plugins", "genanki"):
        spec = importlib.util.find_spec(name)
        try:
            stat = os.stat(spec.origin) if spec is not None and spec.origin else None
        except OSError:
            stat = None
        files.append(f"{name} {stat.st_size} {stat.st_mtime_ns}" if stat else f"{name} ?")
    return files


class FileCache:
    def __init__(self, folder: Path, deck: Deck, staging: Staging | None) -> None:
        self.folder = folder
        # New entries are staged with the build's outputs and land only if it succeeds;
        # a read-only run (--check) has no staging: it reads the cache and writes nothing.
        self.staging = staging
        self.key = cache_key(deck)

    def get(self, display: str, digest: str) -> FileOutcome | None:
        try:
            data = self._path(display).read_bytes()
        except OSError:
            return None
        return outcome_from_entry(data, self.key, display, digest)

    def put(self, outcome: FileOutcome) -> None:
        self.put_entry(outcome.display, entry_bytes(outcome, self.key))

    def put_entry(self, display: str, data: bytes) -> None:
        """Stage an entry, as ``entry_bytes`` made it; an entry that cannot be written only costs time."""
        if self.staging is None:
            return
        with contextlib.suppress(OSError, BuildError):
            self.staging.stage(self._path(display)).write_bytes(data)

    def made_by_this_program(self) -> bool:
        """Whether the cache holds an entry of this program and deck: if not, every file needs work.

        One entry is enough to tell a rebuild (most files unchanged) from a first build or the
        first after the program changed; only its first bytes are read.
        """
        prefix = f'{{"key":"{self.key}"'.encode()
        with contextlib.suppress(OSError):
            for entry in self.folder.glob("*.json"):
                with entry.open("rb") as stream:
                    if stream.read(len(prefix)) == prefix:
                        return True
                break
        return False

    def prune(self, displays: list[str]) -> None:
        """Remove the entries of card files that are gone (renamed or deleted)."""
        keep = {self._path(display).name for display in displays}
        for entry in self.folder.glob("*.json"):
            if entry.name not in keep:
                with contextlib.suppress(OSError):
                    entry.unlink()

    def _path(self, display: str) -> Path:
        return self.folder / f"{hashlib.sha256(display.encode()).hexdigest()[:24]}.json"


def cache_key(deck: Deck) -> str:
    """Everything an outcome depends on besides the file: this program's code, the deck's
    identity (in GUIDs and subdeck names), its settings, and the libraries that parse and render."""
    settings = [deck.id, deck.name, deck.source, sorted(deck.lint.disabled),
                deck.lint.max_answer_words, deck.lint.max_deletions_per_card,
                list(sys.version_info), _library_files()]
    return hashlib.sha256((program_fingerprint() + json.dumps(settings)).encode()).hexdigest()


def entry_bytes(outcome: FileOutcome, key: str) -> bytes:
    """A cacheable outcome as an entry: a JSON line of facts, then the outputs' text, in UTF-8.

    The text goes after the JSON line as it is, not as JSON strings: escaping and
    unescaping megabytes of HTML would cost more than everything else here.
    """
    assert outcome.cacheable, "only outcomes without media, held cards or errors are cached"
    header = {"key": key, "display": outcome.display, "digest": outcome.digest,
              "cards": [_facts_to_json(facts) for facts in outcome.cards],
              "problems": [_problem_to_json(problem) for problem in outcome.problems]}
    texts = [outcome.quiz]
    for fields, entry in zip(outcome.fields, outcome.entries, strict=True):
        texts += (fields, entry)
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")) + "\n" + _SEPARATOR.join(texts)
    return text.encode("utf-8")


def outcome_from_entry(data: bytes, key: str, display: str, digest: str) -> FileOutcome | None:
    """The outcome an entry holds; ``None`` unless it is whole and made for this file and program."""
    from studycards.pipeline import FileOutcome  # pipeline imports this module

    try:
        header_text, _, body = data.decode("utf-8").partition("\n")
        header = json.loads(header_text)
        if header["key"] != key or header["digest"] != digest or header["display"] != display:
            return None
        texts = body.split(_SEPARATOR)
        cards = [_facts_from_json(item, display) for item in header["cards"]]
        if len(texts) != 1 + 2 * len(cards):
            return None  # cut short, or not written by this program
        problems = [Problem(*item) for item in header["problems"]]
        return FileOutcome(display, problems, cards, texts[1::2], texts[2::2], texts[0], digest=digest)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


_KINDS = {kind.value: kind for kind in Kind}


def _facts_to_json(facts: CardFacts) -> list[Any]:
    return [facts.id, facts.kind.value, facts.line, facts.column, facts.subdeck, facts.tags,
            facts.lint_ignore, *facts.id_position, *facts.tags_position, *facts.prompt_position,
            *facts.answer_position, facts.guid, facts.signature, facts.ords]


def _facts_from_json(item: list[Any], file: str) -> CardFacts:
    (card_id, kind, line, column, subdeck, tags, lint_ignore, id_line, id_column, tags_line, tags_column,
     prompt_line, prompt_column, answer_line, answer_column, guid, signature, ords) = item
    return CardFacts(card_id, _KINDS[kind], file, line, column, subdeck, tuple(tags), tuple(lint_ignore),
                     (id_line, id_column), (tags_line, tags_column), (prompt_line, prompt_column),
                     (answer_line, answer_column), guid,
                     None if signature is None else (signature[0], signature[1]), tuple(ords))


def _problem_to_json(problem: Problem) -> list[Any]:
    return [problem.path, problem.line, problem.column, problem.level, problem.message, problem.rule]
