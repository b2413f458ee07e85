"""The command line: its options, and the report of what a run found and did.

Exit codes: 0 success, 1 problems in the cards (or the build could not be
written), 2 a usage error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from studycards.assemble import Assembly, Mode, assemble
from studycards.manifest import after_build_lines, format_plan, plural
from studycards.output import BuildError
from studycards.problems import Problem

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C (128 + SIGINT)

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
  130  interrupted (Ctrl-C); nothing is written then
"""


class _UsageError(Exception):
    pass


class _ArgumentParser(argparse.ArgumentParser):
    help_stream: TextIO | None = None  # where --help goes: main's stdout

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)

    def print_help(self, file: TextIO | None = None) -> None:  # type: ignore[override]
        super().print_help(file or self.help_stream)


def _parser() -> _ArgumentParser:
    parser = _ArgumentParser(prog="build.py", description=_DESCRIPTION, epilog=_EPILOG,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cards", nargs="?", default="cards", metavar="CARDS", help="the folder of YAML cards")
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
    parser.help_stream = out
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        parser.print_usage(err)
        print(f"build.py: error: {error}", file=err)
        return EXIT_USAGE
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    # A build makes many objects that live until it ends and holds few reference cycles:
    # collecting every 700 allocations, as Python does by default, spent a third of a
    # rebuild's time walking them. The modules loaded so far are frozen out of it too.
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        return _build(args, out, err)
    except BuildError as error:
        print(f"build.py: error: {error}", file=err)
        return EXIT_PROBLEMS
    except OSError as error:  # the disk or the system said no somewhere not foreseen above
        where = f"{error.filename}: " if error.filename else ""
        print(f"build.py: error: {where}{error.strerror or error}", file=err)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:  # the temporary files are gone; a commit under way was undone
        print("build.py: interrupted; nothing was written", file=err)
        return EXIT_INTERRUPTED
    except sqlite3.Error as error:  # the deck-wide checks' temporary database (a full disk, say)
        # SQLite picks its own folder: $SQLITE_TMPDIR, $TMPDIR, else /var/tmp, /usr/tmp or /tmp.
        print(f"build.py: error: a temporary database (in SQLite's temporary folder) failed: {error}",
              file=err)
        return EXIT_PROBLEMS
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    display = Path(args.cards).as_posix().rstrip("/") or "."
    if args.out and not _safe_out(Path(args.out), Path(args.cards)):
        print(f"build.py: error: --out must name a .apkg file outside the cards folder, not "
              f"'{args.out}'", file=err)
        return EXIT_USAGE
    mode: Mode = "plan" if args.plan else "check" if args.check or args.lint else "build"
    result = assemble(Path(args.cards), display, Path(args.out) if args.out else None, mode, args.strict)
    _report(result.problems, err)
    for notice in result.notices:
        print(f"build.py: warning: {notice}", file=err)
    if result.deck is None or result.errors or (args.strict and result.warnings):
        counted = [plural(result.errors, "error")]
        if args.strict:
            counted.append(plural(result.warnings, "warning"))
            if result.warnings and not result.errors and result.deck is not None:  # why nothing was written
                counted[-1] += (", which --strict counts as an error" if result.warnings == 1
                                else ", which --strict counts as errors")
        print(f"{', '.join(counted)}; nothing was written", file=err)
        return EXIT_PROBLEMS
    assert result.target is not None
    target = result.target.as_posix()
    if mode == "check":
        print(f"checked {display}: {_counts(result)}, {plural(result.warnings, 'warning')}; "
              "nothing was written", file=out)
    elif mode == "plan" and result.plan is None:
        print(f"plan for {target}: {_no_earlier_build(result)}; all {plural(result.notes, 'note')} are new",
              file=out)
    elif mode == "plan" and result.plan is not None:
        for line in format_plan(result.plan, result.target, result.places):
            print(line, file=out)
    else:
        since = result.plan.counts() if result.plan else (
            f"first build as deck '{result.deck.id}'" if result.earlier_deck_id else "first build")
        ids = f"; {plural(result.ids_written, 'new id')} written" if result.ids_written else ""
        print(f"built {target}: {_counts(result)}; {since}{ids}", file=out)
        for line in after_build_lines(result.plan) if result.plan else ():
            print(line, file=out)
    return EXIT_OK


def _no_earlier_build(result: Assembly) -> str:
    if not result.earlier_deck_id:
        return "no earlier build to compare with"
    assert result.deck is not None, "only a deck that was read has a plan"
    return f"the last build was of deck '{result.earlier_deck_id}', not '{result.deck.id}'"


def _safe_out(out: Path, cards: Path) -> bool:
    # The quiz page and the manifest go beside it with other suffixes, and the cards stay the
    # author's: a package named like either would overwrite one.
    return out.suffix == ".apkg" and not out.resolve().is_relative_to(cards.resolve())


def _report(problems: list[Problem], err: TextIO) -> None:
    for problem in sorted(problems):
        print(problem, file=err)


def _counts(result: Assembly) -> str:
    return (f"{plural(result.notes, 'note')}, {plural(result.cards, 'card')}, "
            f"{plural(len(result.subdecks), 'subdeck')}")
