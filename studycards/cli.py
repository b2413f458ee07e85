"""The command line: read, check, render, write, report.

Exit codes: 0 success, 1 problems in the cards (or the build could not be
written), 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from studycards.cards import Deck
from studycards.checker import check_folder
from studycards.ids import IdInsertion, assign_missing_ids, write_back
from studycards.lint import lint_deck
from studycards.manifest import (
    Manifest,
    compare,
    format_plan,
    kind_change_warnings,
    make_manifest,
    manifest_path,
    read_manifest,
)
from studycards.package import (
    BuildError,
    anki_decks,
    build_timestamp,
    write_bytes_atomically,
    write_package,
)
from studycards.problems import Problem
from studycards.quiz import quiz_html
from studycards.render import render_deck

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_DESCRIPTION = """\
Compile the YAML cards in CARDS (default: cards) into an Anki package,
by default DIST/<deck id>.apkg where DIST is the folder 'dist' beside CARDS.
"""

_EPILOG = """\
exit codes:
  0  success
  1  problems in the cards (each printed as path:line:col: error: message),
     warnings with --strict, or the package could not be written;
     nothing is written then
  2  usage error
"""


class _UsageError(Exception):
    pass


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> _ArgumentParser:
    parser = _ArgumentParser(prog="build.py", description=_DESCRIPTION, epilog=_EPILOG,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cards", nargs="?", default="cards", help="the folder of YAML cards")
    parser.add_argument("--out", metavar="PATH", help="where to write the .apkg file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="check the cards and report problems; write nothing")
    mode.add_argument("--lint", action="store_true",
                      help="check the cards and the card-quality rules without building (as --check)")
    mode.add_argument("--plan", action="store_true",
                      help="show what a build would change since the last one; write nothing")
    parser.add_argument("--strict", action="store_true",
                        help="treat warnings as errors: exit 1 and write nothing")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        parser.print_usage(err)
        print(f"build.py: error: {error}", file=err)
        return EXIT_USAGE
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    try:
        return _build(args, out, err)
    except BuildError as error:
        print(f"build.py: error: {error}", file=err)
        return EXIT_PROBLEMS


def _build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    folder = Path(args.cards)
    display = Path(args.cards).as_posix().rstrip("/") or "."
    checking = args.check or args.lint
    read_only = checking or args.plan
    deck, problems = check_folder(folder, display)
    insertions: list[IdInsertion] = []
    previous: Manifest | None = None
    if deck is not None:
        if read_only:
            problems += _missing_id_warnings(deck)
        deck, insertions = assign_missing_ids(deck)
        problems += lint_deck(deck)
        rendered, render_problems = render_deck(deck, folder)
        problems += render_problems
        target = _target(args, folder, deck)
        previous = read_manifest(manifest_path(target))
        if previous is not None:
            problems += kind_change_warnings(previous, deck)
    _report(problems, err)
    errors = sum(problem.level == "error" for problem in problems)
    warnings = len(problems) - errors
    if deck is None or errors or (args.strict and warnings):
        counted = [_plural(errors, "error")] + ([_plural(warnings, "warning")] if args.strict else [])
        print(f"{', '.join(counted)}; nothing was written", file=err)
        return EXIT_PROBLEMS
    if checking:
        print(f"checked {display}: {_counts(deck)}, {_plural(warnings, 'warning')}; "
              "nothing was written", file=out)
        return EXIT_OK
    if args.plan:
        manifest = make_manifest(deck, rendered.notes, 0)
        if previous is None:
            print(f"plan for {target.as_posix()}: no earlier build to compare with; "
                  f"all {len(deck.cards)} cards are new", file=out)
        else:
            new_card_places = {card.id: f"{card.file}:{card.line}" for card in deck.cards}
            for line in format_plan(compare(previous, manifest), target, new_card_places):
                print(line, file=out)
        return EXIT_OK
    timestamp = build_timestamp(previous.timestamp if previous else None)
    manifest = make_manifest(deck, rendered.notes, timestamp)
    if insertions:
        write_back(insertions, display, folder)
    write_package(target, anki_decks(deck, rendered.description, rendered.notes), rendered.media,
                  timestamp)
    write_bytes_atomically(manifest_path(target), manifest.to_json().encode("utf-8"))
    write_bytes_atomically(quiz_path(target), quiz_html(deck, rendered).encode("utf-8"))
    since = compare(previous, manifest).counts() if previous else "first build"
    ids = f"; {len(insertions)} new id{'s' if len(insertions) != 1 else ''} written" if insertions else ""
    print(f"built {target.as_posix()}: {_counts(deck)}; {since}{ids}", file=out)
    return EXIT_OK


def quiz_path(package: Path) -> Path:
    return package.with_suffix(".html")


def _target(args: argparse.Namespace, folder: Path, deck: Deck) -> Path:
    return Path(args.out) if args.out else folder.parent / "dist" / f"{deck.id}.apkg"


def _missing_id_warnings(deck: Deck) -> list[Problem]:
    return [Problem(card.file, card.line, card.column, "warning",
                    "card has no id; a build will write one into this file")
            for card in deck.cards if not card.id]


def _report(problems: list[Problem], err: TextIO) -> None:
    for problem in sorted(problems):
        print(problem, file=err)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _counts(deck: Deck) -> str:
    notes = len(deck.cards)
    cards = sum(card.anki_card_count for card in deck.cards)
    subdecks = len([name for name in deck.subdeck_names() if name != deck.name])
    return (f"{notes} note{'s' if notes != 1 else ''}, {cards} card{'s' if cards != 1 else ''}, "
            f"{subdecks} subdeck{'s' if subdecks != 1 else ''}")
