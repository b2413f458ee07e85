"""Benchmark: this project's build against a naive build and the parsing floor.

Run by hand (not part of the test suite), from the project folder:

    .venv/bin/python tests/bench.py                  # 1,000, 10,000 and 100,000 cards
    .venv/bin/python tests/bench.py --sizes 10000    # one size

For each size it generates a synthetic deck in the project's format (100
files, all five kinds, Unicode text) and measures, each in a fresh process
and each the median of --runs runs (build, naive and floor take turns):

* build     ``python build.py`` (checks and lint included, as always);
* naive     what a user would write: ``yaml.safe_load`` each file, one genanki
            note per card, ``Package.write_to_file``;
* floor     walking libyaml's parser events of every file, then the same
            genanki notes and write: no program can read and write for less;
* rebuild   ``python build.py`` again after editing one card in one file.

Wall time and peak memory (maximum resident set size) of each, with ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
FILES = 100
WORDS = ("서울", "北京", "minister", "talks", "Beijing", "Seoul", "zero-sum", "cooperation",
         "peninsula", "trade", "summit", "Wang", "Cho", "Tōkyō", "partnership", "trust", "ambassador")


def generate(folder: Path, cards: int, seed: int = 7) -> None:
    """A deck of CARDS cards over 100 files: all five kinds, Unicode text, comments."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    (folder / "deck.yaml").write_text("id: bench\nname: Benchmark deck\nsource: Synthetic\n",
                                      encoding="utf-8")
    per_file = cards // FILES
    for file_number in range(FILES):
        lines = [f"# Synthetic topic {file_number}", f"subdeck: Topic {file_number % 10}",
                 f"tags: [topic-{file_number}]", "cards:"]
        for index in range(per_file):
            number = file_number * per_file + index
            words = " ".join(rng.choice(WORDS) for _ in range(8))
            lines.append(f"  - id: card-{number}")
            kind = number % 5
            if kind == 2:
                lines.append(f"    cloze: \"Card {number}: {words} {{{{c1::{rng.choice(WORDS)}}}}} and "
                             f"{{{{c2::{rng.choice(WORDS)}}}}}.\"")
            else:
                lines.append(f"    q: \"Question {number}: which {words}?\"")
                answer = f"Answer {number} {rng.choice(WORDS)}"
                if kind == 3:
                    lines.append(f"    choices: [\"{answer}\", \"Other {number}\", \"Third {number}\"]")
                lines.append(f"    a: \"{answer}\"")
                if kind == 1:
                    lines.append("    reverse: true")
                if kind == 4:
                    lines.append("    typed: true")
            # One card in ten uses Markdown, as real decks do; the rest is plain text.
            context = f"*Context* for {number}" if number % 10 == 0 else f"Context for {number}"
            lines.append(f"    extra: \"{context}: {words}\"")
            lines.append(f"    source: \"¶{number % 14 + 1}\"")
            lines.append(f"    tags: [kind-{kind}]")
        (folder / f"topic-{file_number:03d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- the two reference programs, run in their own processes --------------------------------------

def naive(cards_folder: Path, out: Path) -> None:
    import genanki
    import yaml

    model = genanki.Model(1607392319, "Naive", fields=[{"name": "Q"}, {"name": "A"}],
                          templates=[{"name": "Card 1", "qfmt": "{{Q}}", "afmt": "{{A}}"}])
    deck = genanki.Deck(2059400110, "Naive")
    for file in sorted(cards_folder.glob("topic-*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        for card in data["cards"]:
            deck.add_note(genanki.Note(model=model, fields=[card.get("q") or card.get("cloze"),
                                                            str(card.get("a", ""))]))
    genanki.Package(deck).write_to_file(str(out))


def floor(cards_folder: Path, out: Path) -> None:
    import genanki
    import yaml

    model = genanki.Model(1607392319, "Floor", fields=[{"name": "Q"}, {"name": "A"}],
                          templates=[{"name": "Card 1", "qfmt": "{{Q}}", "afmt": "{{A}}"}])
    deck = genanki.Deck(2059400110, "Floor")
    for file in sorted(cards_folder.glob("topic-*.yaml")):
        depth, card = 0, dict[str, str]()
        key = None
        for event in yaml.parse(file.read_text(encoding="utf-8"), Loader=yaml.CBaseLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                if depth == 3 and isinstance(event, yaml.MappingEndEvent):  # the end of a card
                    deck.add_note(genanki.Note(model=model, fields=[card.get("q") or card.get("cloze", ""),
                                                                    card.get("a", "")]))
                    card = {}
                depth -= 1
            elif isinstance(event, yaml.ScalarEvent) and depth == 3:
                if key is None:
                    key = event.value
                else:
                    card[key], key = event.value, None
    genanki.Package(deck).write_to_file(str(out))


# --- measuring -------------------------------------------------------------------------------------

# As Python usually runs: compiled modules are kept, so only the first run compiles them.
_USUAL_PYTHON = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one run of COMMAND."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=_USUAL_PYTHON)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024


def medians(runs: int, commands: dict[str, tuple[list[str], Callable[[], None] | None]]
            ) -> dict[str, tuple[float, float]]:
    """Median wall time and peak memory of each command, the commands taking turns run by run.

    Taking turns keeps the ratios fair when the machine's speed drifts during the benchmark.
    """
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, before) in commands.items():
            if before is not None:
                before()
            results[name].append(measure(command))
    return {name: (statistics.median(r[0] for r in runs_), statistics.median(r[1] for r in runs_))
            for name, runs_ in results.items()}


def edit_one_card(file: Path) -> None:
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("which ", f"which (edited {time.time_ns()}) ", 1), encoding="utf-8")


def bench(size: int, runs: int, work: Path) -> dict[str, tuple[float, float]]:
    cards = work / f"deck-{size}" / "cards"
    generate(cards, size)
    python = sys.executable
    out = work / f"deck-{size}" / "dist"
    measure([python, "build.py", "--help"])  # compiles the program's modules, as a first run would
    build = [python, "build.py", str(cards), "--out", str(out / "full.apkg")]
    results = medians(runs, {
        "build": (build, lambda: shutil.rmtree(out, ignore_errors=True)),
        "naive": ([python, __file__, "--naive", str(cards), str(work / "naive.apkg")], None),
        "floor": ([python, __file__, "--floor", str(cards), str(work / "floor.apkg")], None),
    })
    # Warm: the previous build's cache is in place; one card changes before each run.
    measure(build)
    results.update(medians(runs, {"rebuild": (build, lambda: edit_one_card(cards / "topic-042.yaml"))}))
    return results


def report(all_results: dict[int, dict[str, tuple[float, float]]]) -> None:
    print("| cards | build | naive | floor | build vs naive | build vs floor | rebuild after one edit "
          "| rebuild / build | peak MiB build / naive / floor |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, results in all_results.items():
        build, naive_, floor_, rebuild = (results[key] for key in ("build", "naive", "floor", "rebuild"))
        versus_naive = (f"{naive_[0] / build[0]:.1f}× faster" if naive_[0] >= build[0]
                        else f"{build[0] / naive_[0]:.1f}× slower")
        print(f"| {size:,} | {build[0]:.2f} s | {naive_[0]:.2f} s | {floor_[0]:.2f} s "
              f"| {versus_naive} | {build[0] / floor_[0]:.2f}× floor "
              f"| {rebuild[0]:.2f} s | {rebuild[0] / build[0]:.0%} "
              f"| {build[1]:.0f} / {naive_[1]:.0f} / {floor_[1]:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is shown")
    parser.add_argument("--naive", nargs=2, metavar=("CARDS", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs=2, metavar=("CARDS", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=2, metavar=("FOLDER", "CARDS"),
                        help="only write a synthetic deck of CARDS cards into FOLDER")
    args = parser.parse_args()
    if args.naive:
        naive(Path(args.naive[0]), Path(args.naive[1]))
        return
    if args.floor:
        floor(Path(args.floor[0]), Path(args.floor[1]))
        return
    if args.generate:
        generate(Path(args.generate[0]), int(args.generate[1]))
        return
    with tempfile.TemporaryDirectory(prefix="studycards-bench-") as work:
        results = {size: bench(size, args.runs, Path(work)) for size in args.sizes}
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {args.runs} runs\n")
    report(results)


if __name__ == "__main__":
    main()
