"""The per-file cache and the parallel path: faster, and never different."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studycards import pipeline
from studycards.cache import CACHE_FOLDER
from tests.conftest import copy_deck, run

EPOCH = "1715558400"


def outputs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


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
    assert len(list((tmp_path / "out" / CACHE_FOLDER).iterdir())) == 3  # one entry per card file
    warm = build(cards, tmp_path / "out")
    assert warm == cold
    shutil.rmtree(tmp_path / "out")
    assert build(cards, tmp_path / "out") == cold


def test_a_valid_entry_is_used_instead_of_the_file(tmp_path: Path) -> None:
    # Proof that an unchanged file is not read again: an entry edited behind the program's
    # back (same key, same digest) is what the next build uses.
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    entries = list((tmp_path / "out" / CACHE_FOLDER).iterdir())
    (talks,) = [entry for entry in entries if b"talks.yaml" in entry.read_bytes()[:400]]
    talks.write_bytes(talks.read_bytes().replace(b"Beijing", b"Pyongyang"))  # in the outputs' text
    rebuilt = build(cards, tmp_path / "out")
    assert b"Pyongyang" in rebuilt["deck.html"]
    # Once the file itself changes, its entry no longer matches and the file is read again.
    text = (cards / "talks.yaml").read_text(encoding="utf-8")
    (cards / "talks.yaml").write_text(text + "\n", encoding="utf-8")
    assert b"Pyongyang" not in build(cards, tmp_path / "out")["deck.html"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "stale-key", "changed-facts", "cut-texts"])
def test_damaged_entries_are_ignored(damage: str, tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    cold = build(cards, tmp_path / "out")
    for entry in (tmp_path / "out" / CACHE_FOLDER).iterdir():
        data = entry.read_bytes()
        facts = data.index(b"\n") + 1  # the packed facts follow the header line
        if damage == "garbage":
            entry.write_bytes(b"\xff\xfe not a cache entry")
        elif damage == "truncated":
            entry.write_bytes(data[: len(data) // 2])
        elif damage == "stale-key":
            entry.write_bytes(data.replace(b'"key":"', b'"key":"0', 1))
        elif damage == "changed-facts":
            entry.write_bytes(data[:facts + 5] + bytes([data[facts + 5] ^ 1]) + data[facts + 6:])
        else:
            entry.write_bytes(data[:data.rindex(b"\x00")])  # one output's text missing
        assert entry.read_bytes() != data, "the entry was damaged"
    assert build(cards, tmp_path / "out") == cold


def test_check_reads_the_cache_but_writes_nothing(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    result = run(str(cards), "--check")
    assert result.code == 0
    assert not (tmp_path / "dist").exists()


def test_parallel_build_equals_sequential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("history", tmp_path)
    shutil.copytree(copy_deck("every-kind", tmp_path / "other"), cards, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("deck.yaml"))
    sequential = build(cards, tmp_path / "sequential")
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    parallel = build(cards, tmp_path / "parallel")
    assert parallel == sequential


def test_changing_the_deck_id_or_name_makes_entries_stale(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    deck = (cards / "deck.yaml").read_text(encoding="utf-8")
    (cards / "deck.yaml").write_text(deck.replace("id: every-kind", "id: renamed-deck")
                                     .replace("name: Every kind", "name: Renamed"), encoding="utf-8")
    warm = build(cards, tmp_path / "out")
    shutil.rmtree(tmp_path / "out")
    assert build(cards, tmp_path / "out") == warm  # the same as without any cache
    assert b"Renamed::People" in warm["deck.manifest.json"]


def test_entries_of_deleted_files_are_removed(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    build(cards, tmp_path / "out")
    assert len(list((tmp_path / "out" / CACHE_FOLDER).iterdir())) == 3
    (cards / "misc.yaml").unlink()
    build(cards, tmp_path / "out")
    entries = list((tmp_path / "out" / CACHE_FOLDER).iterdir())
    assert len(entries) == 2
    assert not any(b"misc.yaml" in entry.read_bytes()[:400] for entry in entries)


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
    warm = build(cards, tmp_path / "out")
    assert pools == [1]  # one edited file: worked out in the build's own process
    assert b"Which day" in warm["deck.html"] and b"Which day" not in cold["deck.html"]
