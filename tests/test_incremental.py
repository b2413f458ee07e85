"""The per-file cache and the parallel path: faster, and never different."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from studycards import pipeline
from studycards.cache import CACHE_FOLDER, CACHE_KEY_LIBRARIES, cache_folder
from tests.conftest import FIXTURES, PROJECT, copy_deck, run

EPOCH = "1715558400"


def outputs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def cache_entries(tmp_path: Path) -> list[Path]:
    """The cache entries of the package that ``build`` writes into ``tmp_path / "out"``."""
    return sorted(cache_folder(tmp_path / "out" / "deck.apkg").iterdir())


def build(cards: Path, out: Path) -> dict[str, bytes]:
    result = run(str(cards), "--out", str(out / "deck.apkg"))
    assert (result.code, result.err) == (0, ""), result.err
    return outputs(out)


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def test_cached_build_equals_a_fresh_one(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    cold = build(cards, tmp_path / "out")
    assert len(cache_entries(tmp_path)) == 3  # one entry per card file
    warm = build(cards, tmp_path / "out")
    assert warm == cold
    shutil.rmtree(tmp_path / "out")
    assert build(cards, tmp_path / "out") == cold


def rewritten(entry: bytes, old: bytes, new: bytes) -> bytes:
    """An entry with ``old`` replaced by ``new`` in its body, and its checksum made to match."""
    header_line, body = entry.split(b"\n", 1)
    header = json.loads(header_line)
    body = body.replace(old, new)
    header["sha256"] = hashlib.sha256(str(header["facts"]).encode() + body).hexdigest()
    return json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" + body


def test_a_valid_entry_is_used_instead_of_the_file(tmp_path: Path) -> None:
    # Proof that an unchanged file is not read again: an entry rewritten behind the program's
    # back (same key, same digest, a checksum to match) is what the next build uses.
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    entries = cache_entries(tmp_path)
    (talks,) = [entry for entry in entries if b"talks.yaml" in entry.read_bytes()[:400]]
    talks.write_bytes(rewritten(talks.read_bytes(), b"Beijing", b"Pyongyang"))  # in the outputs' text
    rebuilt = build(cards, tmp_path / "out")
    assert b"Pyongyang" in rebuilt["deck.html"]
    # Once the file itself changes, its entry no longer matches and the file is read again.
    text = (cards / "talks.yaml").read_text(encoding="utf-8")
    (cards / "talks.yaml").write_text(text + "\n", encoding="utf-8")
    assert b"Pyongyang" not in build(cards, tmp_path / "out")["deck.html"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "stale-key", "changed-facts", "cut-texts",
                                    "changed-text", "cut-last-text", "facts-length"])
def test_damaged_entries_are_ignored(damage: str, tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    cold = build(cards, tmp_path / "out")
    for entry in cache_entries(tmp_path):
        data = entry.read_bytes()
        facts = data.index(b"\n") + 1  # the packed facts follow the header line
        if damage == "garbage":
            entry.write_bytes(b"\xff\xfe not a cache entry")
        elif damage == "truncated":
            entry.write_bytes(data[: len(data) // 2])
        elif damage == "stale-key":
            entry.write_bytes(data.replace(b'"key":"', b'"key":"0', 1))
        elif damage == "facts-length":  # the header says where the facts end: one byte later
            length = json.loads(data[:facts])["facts"]
            entry.write_bytes(data.replace(f'"facts":{length},'.encode(),
                                           f'"facts":{length + 1},'.encode(), 1))
        elif damage == "changed-facts":
            entry.write_bytes(data[:facts + 5] + bytes([data[facts + 5] ^ 1]) + data[facts + 6:])
        elif damage == "cut-texts":
            entry.write_bytes(data[:data.rindex(b"\x00")])  # one output's text missing
        elif damage == "changed-text":  # as many texts as before, one letter of the last different
            entry.write_bytes(data[:-30] + bytes([data[-30] ^ 1]) + data[-29:])
        else:  # the last text shorter: the number of texts is still right
            entry.write_bytes(data[:-20])
        assert entry.read_bytes() != data, "the entry was damaged"
    assert build(cards, tmp_path / "out") == cold


def test_check_reads_the_cache_but_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    before = {path: path.read_bytes() for path in (tmp_path / "out").rglob("*") if path.is_file()}
    (cards / "misc.yaml").write_text((cards / "misc.yaml").read_text(encoding="utf-8")
                                     .replace("Which date", "Which day"), encoding="utf-8")
    processed: list[str] = []
    process_file = pipeline.process_file
    monkeypatch.setattr(pipeline, "process_file", lambda job, *rest: processed.append(job.display)
                        or process_file(job, *rest))
    result = run(str(cards), "--check", "--out", str(tmp_path / "out" / "deck.apkg"))
    assert (result.code, result.err) == (0, "")
    assert processed == [f"{cards.as_posix()}/misc.yaml"]  # the two unchanged files came from the cache
    assert {path: path.read_bytes() for path in (tmp_path / "out").rglob("*") if path.is_file()} == before


def test_parallel_build_equals_sequential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("history", tmp_path)
    shutil.copytree(copy_deck("every-kind", tmp_path / "other"), cards, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("deck.yaml"))
    sequential = build(cards, tmp_path / "sequential")
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # workers even on a runner with one core
    pools = []
    start_pool = pipeline._process_pool
    monkeypatch.setattr(pipeline, "_process_pool", lambda: pools.append(1) or start_pool())
    parallel = build(cards, tmp_path / "parallel")
    assert pools == [1]
    assert parallel == sequential


def test_changing_the_deck_id_or_name_makes_entries_stale(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    deck = (cards / "deck.yaml").read_text(encoding="utf-8")
    (cards / "deck.yaml").write_text(deck.replace("id: every-kind", "id: renamed-deck")
                                     .replace("name: Every kind", "name: Renamed"), encoding="utf-8")
    # Every note's GUID changed with the id: nothing of the last build is this one's.
    warning = (f"{cards.as_posix()}/deck.yaml:1:5: warning: the deck's id was 'every-kind' in the last "
               "build to this package: Anki will add every card as new, and keep the old cards and their "
               "review history apart; change the id back to keep them\n")
    plan = run(str(cards), "--out", str(tmp_path / "out" / "deck.apkg"), "--plan")
    assert (plan.err, plan.out.split(": ", 1)[1]) == (
        warning, "the last build was of deck 'every-kind', not 'renamed-deck'; all 6 notes are new\n")
    result = run(str(cards), "--out", str(tmp_path / "out" / "deck.apkg"))
    assert (result.code, result.err) == (0, warning)
    assert result.out.endswith("; first build as deck 'renamed-deck'\n")
    warm = outputs(tmp_path / "out")
    shutil.rmtree(tmp_path / "out")
    assert build(cards, tmp_path / "out") == warm  # the same as without any cache
    assert b"Renamed::People" in warm["deck.manifest.json"]


def test_a_changed_deck_id_is_told_when_the_package_is_named_after_it(tmp_path: Path) -> None:
    # By default the package is dist/<deck id>.apkg: with a new id the last build is another
    # package beside it. Another deck built into the same folder is not mistaken for it.
    cards = copy_deck("every-kind", tmp_path)
    assert run(str(cards)).code == 0
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "decks" / "history" / "cards", other)
    # Another deck, built last into the same folder, with a file name and a card id of the first.
    (other / "talks.yaml").write_text("cards:\n  - {id: talks-city, q: Who?, a: Them}\n", encoding="utf-8")
    assert run(str(other)).err == ""
    deck = (cards / "deck.yaml").read_text(encoding="utf-8")
    (cards / "deck.yaml").write_text(deck.replace("id: every-kind", "id: renamed-deck"), encoding="utf-8")
    result = run(str(cards))
    assert result.err == (f"{cards.as_posix()}/deck.yaml:1:5: warning: the deck's id was 'every-kind' in the "
                          f"last build in {(tmp_path / 'dist').as_posix()}: Anki will add every card as new, "
                          "and keep the old cards and their review history apart; change the id back to keep "
                          "them\n")
    assert result.out.endswith("; first build as deck 'renamed-deck'\n")


def test_an_entry_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    cold = build(cards, tmp_path / "out")
    for entry in cache_entries(tmp_path):
        entry.unlink()
        entry.mkdir()  # a rename of the new entry over it would fail
    assert build(cards, tmp_path / "out") == cold


def test_a_damaged_manifest_entry_counts_as_new(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    manifest = tmp_path / "out" / "deck.manifest.json"
    lines = manifest.read_text(encoding="utf-8").split("\n")
    damaged = next(index for index, line in enumerate(lines) if line.startswith('"talks-city": {'))
    lines[damaged] = '"talks-city": {"fields": [1, 2],'
    manifest.write_text("\n".join(lines), encoding="utf-8")
    (cards / "talks.yaml").write_text((cards / "talks.yaml").read_text(encoding="utf-8")
                                      .replace("Beijing", "Peking"), encoding="utf-8")
    result = run(str(cards), "--out", str(tmp_path / "out" / "deck.apkg"), "--plan")
    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    assert lines[0].endswith(": 1 added, 1 changed, 0 moved, 0 removed since the last build, 4 unchanged")
    assert lines[2] == f"  + talks-city  {cards.as_posix()}/talks.yaml:4"


def test_entries_of_deleted_files_are_removed(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    assert len(cache_entries(tmp_path)) == 3
    (cards / "misc.yaml").unlink()
    build(cards, tmp_path / "out")
    entries = cache_entries(tmp_path)
    assert len(entries) == 2
    assert not any(b"misc.yaml" in entry.read_bytes()[:400] for entry in entries)


def test_decks_built_into_one_folder_keep_their_own_entries(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "decks" / "history" / "cards", other)
    assert run(str(cards)).code == 0
    assert run(str(other)).code == 0  # into the same folder, dist/, beside the first deck's package
    everyone = sorted((tmp_path / "dist" / CACHE_FOLDER).rglob("*.entry"))
    assert [entry.parent.name for entry in everyone] == ["every-kind.apkg"] * 3 + ["history.apkg"] * 2
    # The first deck's rebuild still comes from its entries: a rewritten one is what it uses.
    (talks,) = [entry for entry in everyone if b"talks.yaml" in entry.read_bytes()[:400]
                and entry.parent.name == "every-kind.apkg"]
    talks.write_bytes(rewritten(talks.read_bytes(), b"Beijing", b"Pyongyang"))
    assert run(str(cards)).code == 0
    assert b"Pyongyang" in (tmp_path / "dist" / "every-kind.html").read_bytes()
    assert sorted((tmp_path / "dist" / CACHE_FOLDER).rglob("*.entry")) == everyone


def test_entries_of_an_earlier_layout_are_removed(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    earlier = tmp_path / "out" / CACHE_FOLDER / "0123456789abcdef01234567.entry"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b'{"key":"0"}\n')
    build(cards, tmp_path / "out")
    assert not earlier.exists()
    assert len(cache_entries(tmp_path)) == 3
    # Also when the build caches nothing (a file with media is read again each time: the media
    # can change without it).
    earlier.write_bytes(b'{"key":"0"}\n')
    shutil.rmtree(cache_folder(tmp_path / "out" / "deck.apkg"))
    (cards / "media").mkdir()
    shutil.copy(FIXTURES / "decks" / "rich" / "cards" / "media" / "map.png", cards / "media")
    (cards / "misc.yaml").write_text("cards:\n  - id: m\n    q: 'Which map? ![Map](media/map.png)'\n"
                                     "    a: This one\n", encoding="utf-8")
    for other in ("people.yaml", "talks.yaml"):
        (cards / other).unlink()
    build(cards, tmp_path / "out")
    assert not earlier.exists()
    assert not cache_folder(tmp_path / "out" / "deck.apkg").exists()


def test_a_package_named_like_a_folder_keeps_its_own_entries(tmp_path: Path) -> None:
    # "..apkg" has the stem ".": the entries must not land in the cache folder itself.
    cards = copy_deck("every-kind", tmp_path)
    assert run(str(cards), "--out", str(tmp_path / "out" / "..apkg")).code == 0
    assert run(str(cards), "--out", str(tmp_path / "out" / "other.apkg")).code == 0
    assert len(list(cache_folder(tmp_path / "out" / "..apkg").iterdir())) == 3


def test_workers_start_for_a_first_build_but_not_for_one_edit(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("every-kind", tmp_path)
    edited = cards / "misc.yaml"  # the first file read: nothing has come from the cache before it
    # More YAML than the edited file alone, less than the whole deck.
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", edited.stat().st_size + 50)
    pools = []
    start_pool = pipeline._process_pool
    monkeypatch.setattr(pipeline, "_process_pool", lambda: pools.append(1) or start_pool())
    cold = build(cards, tmp_path / "out")
    assert pools == [1]  # a first build: every file needs work
    edited.write_text(edited.read_text(encoding="utf-8").replace("Which date", "Which day"), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 1))  # an edit needs a later time
    warm = build(cards, tmp_path / "out")
    assert pools == [1]  # one edited file: worked out in the build's own process
    assert b"Which day" in warm["deck.html"] and b"Which day" not in cold["deck.html"]


def test_a_build_that_writes_ids_starts_workers_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The second reading (of the files as written) takes the rest from the entries just made.
    cards = copy_deck("every-kind", tmp_path)
    edited = cards / "misc.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "  - q: Which card has no id?\n    a: This one\n",
                      encoding="utf-8")
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", edited.stat().st_size + 50)
    pools = []
    start_pool = pipeline._process_pool
    monkeypatch.setattr(pipeline, "_process_pool", lambda: pools.append(1) or start_pool())
    result = run(str(cards), "--out", str(tmp_path / "out" / "deck.apkg"))
    assert (result.code, result.err) == (0, "")
    assert result.out.endswith("; first build; 1 new id written\n")
    assert pools == [1]


def test_without_worker_processes_the_build_works_in_its_own(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Some systems cannot start them (no /dev/shm in a container, say).
    cards = copy_deck("every-kind", tmp_path)
    sequential = build(cards, tmp_path / "sequential")

    def no_pool() -> None:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(pipeline, "_process_pool", no_pool)
    assert build(cards, tmp_path / "without") == sequential


def test_a_worker_that_dies_is_one_line_and_writes_nothing(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("every-kind", tmp_path)
    process_file = pipeline.process_file

    def dies_on_talks(job: pipeline.FileJob, *args: object) -> pipeline.FileOutcome:
        if job.display.endswith("talks.yaml"):
            os._exit(9)  # as the system's out-of-memory killer would end it
        return process_file(job, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(pipeline, "process_file", dies_on_talks)
    result = run(str(cards), "--out", str(tmp_path / "out" / "deck.apkg"))
    assert (result.code, result.out) == (1, "")
    assert result.err == ("build.py: error: a worker process stopped before it finished its file; "
                          "build again\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("start", ["fork", "forkserver", "spawn"])
def test_workers_live_as_long_as_the_build_however_they_are_started(start: str) -> None:
    # A fork server (Python 3.14's default on Linux) is a worker's parent in place of the build.
    if start not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start} start method here")
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context(start),
                             initializer=pipeline._start_worker) as pool:
        time.sleep(1.2)  # past a check of the parent's id
        assert list(pool.map(abs, [-1, -2, -3])) == [1, 2, 3]


def test_an_entry_cut_short_by_a_full_disk_does_not_replace_a_good_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    before = {entry.name: entry.read_bytes() for entry in cache_entries(tmp_path)}
    talks = cards / "talks.yaml"
    talks.write_text(talks.read_text(encoding="utf-8").replace("Beijing", "Peking"), encoding="utf-8")
    write_bytes = Path.write_bytes

    def disk_full_in_the_cache(path: Path, data: bytes) -> int:  # type: ignore[override]
        if CACHE_FOLDER in path.parts:
            write_bytes(path, data[:len(data) // 2])
            raise OSError(28, "No space left on device")
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", disk_full_in_the_cache)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 1))
    result = run(str(cards), "--out", str(tmp_path / "out" / "deck.apkg"))
    assert (result.code, result.err) == (0, "")
    assert {entry.name: entry.read_bytes() for entry in cache_entries(tmp_path)} == before


def test_the_cache_key_names_every_library_a_file_outcome_uses() -> None:
    # In a fresh interpreter: which installed packages does working out an outcome import?
    script = """
import hashlib, sys, sysconfig
from pathlib import Path
from studycards.checker import check_folder
from studycards.pipeline import FileJob, process_file
folder = Path(sys.argv[1])
deck, files, _ = check_folder(folder, "cards")
for file in files:
    data = file.read_bytes()
    process_file(FileJob(f"cards/{file.name}", data, hashlib.sha256(data).hexdigest()), deck, folder)
site = sysconfig.get_paths()["purelib"]
print(" ".join(sorted({name.split(".")[0] for name, module in list(sys.modules.items())
                       if (getattr(module, "__file__", None) or "").startswith(site)})))
"""
    result = subprocess.run([sys.executable, "-c", script, str(FIXTURES / "decks" / "rich" / "cards")],
                            capture_output=True, text=True, check=True, cwd=PROJECT)
    # Not libraries: the editable install's finder, and setuptools' import hook.
    imported = set(result.stdout.split()) - {"_distutils_hack"} - {
        name for name in result.stdout.split() if name.startswith("__editable__")}
    assert imported == set(CACHE_KEY_LIBRARIES)
