"""A build killed, doubled, refused or out of space never leaves a broken deck where a good one stood."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import pytest
from anki.collection import Collection

from studycards import assemble, output, package, pipeline
from studycards.assemble import COMMIT_AFTER_PACKAGE, COMMIT_LAST
from studycards.output import BuildError, Staging, replace_file
from tests.bench import generate
from tests.conftest import PROJECT, Run, copy_deck, import_package, run
from tests.test_bad_input import without_permission_override

EPOCH = "1715558400"
NEW_CARD = "  - q: Which card was added last?\n    a: This one\n    extra: Context\n"


def build_command(cards: Path, out: Path) -> list[str]:
    return [sys.executable, str(PROJECT / "build.py"), str(cards), "--out", str(out)]


def environment() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture
def two_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes, bytes, bytes, bytes]:
    """A deck built once (old), then edited; and what the edited deck builds to (new).

    Returns the cards folder, the old and new package bytes, and the edited file's bytes
    before and after its new card gets its id written in.
    """
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    cards = tmp_path / "cards"
    generate(cards, 3000)
    assert run(str(cards), "--out", str(tmp_path / "dist" / "deck.apkg")).code == 0
    old = (tmp_path / "dist" / "deck.apkg").read_bytes()
    edited = cards / "topic-050.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + NEW_CARD, encoding="utf-8")
    before = edited.read_bytes()
    reference = tmp_path / "reference"
    shutil.copytree(cards, reference / "cards")
    assert run(str(reference / "cards"), "--out", str(reference / "deck.apkg")).code == 0
    new = (reference / "deck.apkg").read_bytes()
    after = (reference / "cards" / "topic-050.yaml").read_bytes()
    assert new != old and after != before
    return cards, old, new, before, after


def imports_cleanly(package: bytes, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deck.apkg").write_bytes(package)
    collection = Collection(str(folder / "collection.anki2"))
    try:
        log = import_package(collection, folder / "deck.apkg")
        assert (len(log.duplicate), len(log.conflicting)) == (0, 0)
        return collection.note_count()
    finally:
        collection.close()


def test_killed_build_leaves_old_or_new(two_versions: tuple[Path, bytes, bytes, bytes, bytes],
                                        tmp_path: Path) -> None:
    cards, old, new, yaml_before, yaml_after = two_versions
    target = tmp_path / "dist" / "deck.apkg"
    seen = set()
    for delay in (0.05, 0.15, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7, 2.5):
        process = subprocess.Popen(build_command(cards, target), env=environment(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        package = target.read_bytes()
        assert package in (old, new), f"killed after {delay} s: the package is neither version"
        assert (cards / "topic-050.yaml").read_bytes() in (yaml_before, yaml_after)
        seen.add("new" if package == new else "old")
        if package == new:
            break
    assert imports_cleanly(old, tmp_path / "old") == 3000
    assert imports_cleanly(new, tmp_path / "new") == 3001
    # The next build sweeps away what the killed ones left and finishes the job.
    assert run(str(cards), "--out", str(target)).code == 0
    assert imports_cleanly(target.read_bytes(), tmp_path / "final") == 3001
    assert not [path.name for path in target.parent.iterdir() if path.name.startswith(".studycards-")
                and path.name != ".studycards-cache"]
    assert "old" in seen  # at least one kill landed before the new package was in place


def test_two_builds_at_once(two_versions: tuple[Path, bytes, bytes, bytes, bytes], tmp_path: Path) -> None:
    cards, _, _, _, yaml_after = two_versions
    target = tmp_path / "dist" / "deck.apkg"
    processes = [subprocess.Popen(build_command(cards, target), env=environment(), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results
    # The new card's id is written once: by the first build, or the second finds it there.
    assert (cards / "topic-050.yaml").read_bytes() == yaml_after
    # Both derive the same id; whichever build comes second finds it written.
    assert [stderr for _, stderr in results] == ["", ""]
    assert imports_cleanly(target.read_bytes(), tmp_path / "final") == 3001


def test_stray_files_named_like_temporary_ones_do_not_stop_a_build(tmp_path: Path) -> None:
    # The sweep reads a process id from each such name: one too large for a process, or in
    # other digits than ASCII, is no build's.
    cards = copy_deck("history", tmp_path)
    dist = tmp_path / "dist"
    dist.mkdir()
    too_large, other_digits = dist / ".studycards-99999999999999999999-x.apkg", dist / ".studycards-²-x.apkg"
    zero = dist / ".studycards-0-x.apkg"  # os.kill(0, …) would reach this build's own process group
    for stray in (too_large, other_digits, zero):
        stray.write_bytes(b"")
    result = run(str(cards))
    assert (result.code, result.err) == (0, "")
    assert (too_large.exists(), other_digits.exists(), zero.exists()) == (False, True, False)


def test_unwritable_output_folder(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    generate(cards, 100)
    assert run(str(cards)).code == 0
    dist = tmp_path / "dist"
    package = (dist / "bench.apkg").read_bytes()
    (cards / "topic-001.yaml").write_text("cards:\n  - id: changed\n    q: Changed?\n    a: Yes\n")
    dist.chmod(0o555)
    try:
        result = without_permission_override(["cards"], tmp_path)
    finally:
        dist.chmod(0o755)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "build.py: error: cannot write to dist: Permission denied\n"
    assert (dist / "bench.apkg").read_bytes() == package


def test_full_disk(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    generate(cards, 2000)
    assert run(str(cards), "--out", str(tmp_path / "dist" / "deck.apkg")).code == 0
    package = (tmp_path / "dist" / "deck.apkg").read_bytes()
    (cards / "topic-001.yaml").write_text("cards:\n  - id: changed\n    q: Changed?\n    a: Yes\n")

    def small_disk() -> None:
        # Files may grow to 64 KiB: past that, a write fails as on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    result = subprocess.run(build_command(cards, tmp_path / "dist" / "deck.apkg"), text=True,
                            capture_output=True, preexec_fn=small_disk, env=environment(), check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("build.py: error: cannot write")
    assert result.stderr.rstrip().endswith("File too large")
    assert (tmp_path / "dist" / "deck.apkg").read_bytes() == package
    assert sorted(path.name for path in (tmp_path / "dist").iterdir()) == [
        ".studycards-cache", "deck.apkg", "deck.html", "deck.manifest.json"]


def test_full_disk_under_the_checks_temporary_database(tmp_path: Path) -> None:
    # The deck-wide checks keep what they remember of a large deck in a temporary database,
    # which grows past its memory into a file: a full disk there is one line, not a traceback.
    cards = tmp_path / "cards"
    generate(cards, 6000)

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    result = subprocess.run([*build_command(cards, tmp_path / "dist" / "deck.apkg"), "--check"], text=True,
                            capture_output=True, preexec_fn=small_disk, env=environment(), check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert re.fullmatch(r"build\.py: error: a temporary database \(in SQLite's temporary folder\) failed: "
                        r"(disk I/O error|database or disk is full)\n", result.stderr)
    assert len(result.stderr.splitlines()) == 1


def test_the_package_lands_first_and_the_manifest_last(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A build killed while renaming its files into place must not leave a manifest that
    # records ids the package and the YAML do not hold yet.
    landed = []

    def replace_and_note(source: Path, target: Path) -> None:
        landed.append(target.name)
        replace_file(source, target)

    monkeypatch.setattr(output, "replace_file", replace_and_note)
    staging = Staging()
    staging.stage(tmp_path / "deck.manifest.json", COMMIT_LAST).write_text("manifest")
    staging.stage(tmp_path / "cards.yaml", COMMIT_AFTER_PACKAGE).write_text("ids")
    staging.stage(tmp_path / "deck.apkg").write_text("package")
    staging.commit()
    assert landed == ["deck.apkg", "cards.yaml", "deck.manifest.json"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "cards.yaml", "deck.apkg", "deck.manifest.json"]


def test_a_commit_that_fails_halfway_puts_the_old_files_back(tmp_path: Path) -> None:
    (tmp_path / "deck.apkg").write_text("old package")
    (tmp_path / "cards.yaml").write_text("old ids")
    staging = Staging()
    staging.stage(tmp_path / "deck.manifest.json", COMMIT_LAST).write_text("manifest")
    staging.stage(tmp_path / "cards.yaml", COMMIT_AFTER_PACKAGE).write_text("new ids")
    staging.stage(tmp_path / "deck.apkg").write_text("new package")
    staging.stage(tmp_path / "deck.html").write_text("new quiz")  # no old one: removed again
    (tmp_path / "deck.manifest.json").mkdir()  # cannot be replaced by a file: the last rename fails
    with pytest.raises(BuildError, match=r"deck\.manifest\.json"):
        staging.commit()
    staging.discard()
    assert (tmp_path / "deck.apkg").read_text() == "old package"
    assert (tmp_path / "cards.yaml").read_text() == "old ids"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "cards.yaml", "deck.apkg", "deck.manifest.json"]


def test_a_build_that_fails_on_its_last_rename_writes_nothing(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    generate(cards, 200)
    dist = tmp_path / "dist"
    assert run(str(cards), "--out", str(dist / "deck.apkg")).code == 0
    before = {path: path.read_bytes() for path in [*dist.rglob("*"), *cards.iterdir()] if path.is_file()}
    # An edited card, and a new one that would get its id written into the YAML.
    edited = cards / "topic-001.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("which ", "which (edited) ", 1) + NEW_CARD,
                      encoding="utf-8")
    before[edited] = edited.read_bytes()
    (dist / "deck.manifest.json").unlink()
    (dist / "deck.manifest.json").mkdir()
    del before[dist / "deck.manifest.json"]
    result = run(str(cards), "--out", str(dist / "deck.apkg"))
    assert (result.code, result.out) == (1, "")
    manifest = (dist / "deck.manifest.json").as_posix()
    assert result.err == f"build.py: error: cannot write {manifest}: Is a directory\n"
    after = {path: path.read_bytes() for path in [*dist.rglob("*"), *cards.iterdir()] if path.is_file()}
    assert after == before


def test_a_file_changed_just_before_its_commit_fails_the_commit(tmp_path: Path) -> None:
    (tmp_path / "deck.apkg").write_text("old package")
    (tmp_path / "cards.yaml").write_text("cards as read")
    staging = Staging()
    staging.stage(tmp_path / "deck.apkg").write_text("new package")
    staging.stage(tmp_path / "cards.yaml", COMMIT_AFTER_PACKAGE, expected=b"cards as read").write_text(
        "cards as read, with ids")
    (tmp_path / "cards.yaml").write_text("cards as the author saved them meanwhile")
    with pytest.raises(BuildError, match="changed during the build, so nothing was written"):
        staging.commit()
    staging.discard()
    assert (tmp_path / "deck.apkg").read_text() == "old package"
    assert (tmp_path / "cards.yaml").read_text() == "cards as the author saved them meanwhile"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cards.yaml", "deck.apkg"]


def test_a_file_that_already_holds_what_was_staged_is_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "cards.yaml").write_text("cards as read, with ids")  # by a build beside this one
    staging = Staging()
    staging.stage(tmp_path / "deck.apkg").write_text("new package")
    staging.stage(tmp_path / "cards.yaml", COMMIT_AFTER_PACKAGE, expected=b"cards as read").write_text(
        "cards as read, with ids")
    staging.commit()
    assert (tmp_path / "deck.apkg").read_text() == "new package"
    assert (tmp_path / "cards.yaml").read_text() == "cards as read, with ids"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cards.yaml", "deck.apkg"]


def test_a_commit_interrupted_by_ctrl_c_puts_the_old_files_back(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deck.apkg").write_text("old package")
    (tmp_path / "deck.html").write_text("old quiz")
    renames = []

    def interrupted_second_time(source: Path, target: Path) -> None:
        renames.append(target.name)
        if len(renames) == 2:
            raise KeyboardInterrupt
        replace_file(source, target)

    monkeypatch.setattr(output, "replace_file", interrupted_second_time)
    staging = Staging()
    staging.stage(tmp_path / "deck.apkg").write_text("new package")
    staging.stage(tmp_path / "deck.html").write_text("new quiz")
    with pytest.raises(KeyboardInterrupt):
        staging.commit()
    staging.discard()
    assert renames == ["deck.apkg", "deck.html"]
    assert (tmp_path / "deck.apkg").read_text() == "old package"
    assert (tmp_path / "deck.html").read_text() == "old quiz"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["deck.apkg", "deck.html"]


def test_ctrl_c_is_one_line_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    dist = tmp_path / "dist"
    before = {path.name: path.read_bytes() for path in dist.iterdir() if path.is_file()}
    (cards / "alpha.yaml").write_text((cards / "alpha.yaml").read_text(encoding="utf-8")
                                      .replace("Beijing", "Peking"), encoding="utf-8")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "process_file", interrupted)
    result = run(str(cards))
    assert (result.code, result.out, result.err) == (130, "", "build.py: interrupted; nothing was written\n")
    assert {path.name: path.read_bytes() for path in dist.iterdir() if path.is_file()} == before
    assert not [path for path in tmp_path.rglob(".studycards-*") if path.is_file()]


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == str(pid):
                found.append(int(status.parent.name))
    return found


def running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie has ended: it waits only to be reaped)."""
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                     if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "\tZ" not in state


def wait_until(condition: Callable[[], bool], seconds: float = 10, pause: float = 0.05) -> bool:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(pause)
    return True


def deck_for_workers(tmp_path: Path) -> Path:
    """A generated deck of over 1 MB of YAML, which a build reads in worker processes."""
    cards = tmp_path / "cards"
    generate(cards, 10_000)
    return cards


@contextlib.contextmanager
def build_in_a_group(cards: Path) -> Iterator[subprocess.Popen[str]]:
    """``build.py CARDS`` in a process group of its own, as a terminal starts it; at the end,
    whatever happened, the group is killed and the build reaped."""
    build = subprocess.Popen([sys.executable, str(PROJECT / "build.py"), str(cards)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield build
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
        build.communicate()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the processes from /proc")
@pytest.mark.parametrize("stop", ["ctrl-c", "kill"])
def test_the_workers_end_with_the_build_however_it_ends(stop: str, tmp_path: Path) -> None:
    cards = deck_for_workers(tmp_path)
    with build_in_a_group(cards) as build:
        assert wait_until(lambda: len(children_of(build.pid)) >= 2), "no workers started"
        workers = children_of(build.pid)
        if stop == "ctrl-c":
            os.killpg(build.pid, signal.SIGINT)  # as the terminal sends it: to every process of the group
            _, err = build.communicate(timeout=30)
            assert (build.returncode, err) == (130, "build.py: interrupted; nothing was written\n")
        else:
            build.kill()  # SIGKILL: the build runs no clean-up at all
            build.communicate(timeout=30)
        assert wait_until(lambda: not any(running(pid) for pid in workers)), \
            f"workers left running after {stop}"
    assert not (tmp_path / "dist" / "bench.apkg").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the processes from /proc")
def test_ctrl_c_as_the_workers_start_ends_the_build_with_its_one_message(tmp_path: Path) -> None:
    # A worker just started, before it ignores Ctrl-C, printed a traceback, and the build could
    # then wait forever for it. Ctrl-C the moment the first worker exists, a few times over.
    cards = deck_for_workers(tmp_path)
    for _ in range(12):
        with build_in_a_group(cards) as build:
            assert wait_until(lambda pid=build.pid: len(children_of(pid)) >= 1, seconds=30, pause=0), \
                "no workers started"
            os.killpg(build.pid, signal.SIGINT)
            _, err = build.communicate(timeout=30)
            assert (build.returncode, err) == (130, "build.py: interrupted; nothing was written\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the processes from /proc")
def test_a_second_ctrl_c_does_not_leave_the_build_waiting(tmp_path: Path) -> None:
    # Pressed twice in quick succession: the second one, as the workers were being stopped, left
    # the build (Python 3.11) waiting for them forever.
    cards = deck_for_workers(tmp_path)
    for _ in range(4):
        with build_in_a_group(cards) as build:
            assert wait_until(lambda pid=build.pid: len(children_of(pid)) >= 2), "no workers started"
            workers = children_of(build.pid)
            time.sleep(0.3)  # the workers at work
            os.killpg(build.pid, signal.SIGINT)
            time.sleep(0.005)
            os.killpg(build.pid, signal.SIGINT)
            _, err = build.communicate(timeout=30)
            assert "build.py: interrupted; nothing was written\n" in err
            assert wait_until(lambda workers=workers: not any(running(pid) for pid in workers))
    assert not (tmp_path / "dist" / "bench.apkg").exists()


def test_ctrl_c_while_the_program_loads_gives_its_one_message(tmp_path: Path) -> None:
    # Ctrl-C in the first moments, while Python imports the program: no traceback either.
    code = ("import builtins, runpy, sys\n"
            "load = builtins.__import__\n"
            "def interrupted(name, *args, **options):\n"
            "    if name == 'studycards.cli':\n"
            "        raise KeyboardInterrupt\n"
            "    return load(name, *args, **options)\n"
            "builtins.__import__ = interrupted\n"
            f"sys.argv = ['build.py', {str(tmp_path / 'cards')!r}]\n"
            f"runpy.run_path({str(PROJECT / 'build.py')!r}, run_name='__main__')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (130, "build.py: interrupted; nothing was written\n")


def test_an_output_that_cannot_be_finished_is_named_as_the_user_knows_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("history", tmp_path)
    open_output = assemble._Outputs._open

    def quiz_page_on_a_full_disk(outputs: assemble._Outputs, target: Path, rank: int = 0) -> TextIO:
        stream = open_output(outputs, target, rank)
        if target.suffix == ".html":
            close = stream.close

            def close_on_a_full_disk() -> None:
                close()
                raise OSError(28, "No space left on device")

            stream.close = close_on_a_full_disk  # type: ignore[method-assign]
        return stream

    monkeypatch.setattr(assemble._Outputs, "_open", quiz_page_on_a_full_disk)
    stopped_by_a_full_disk(run(str(cards)), tmp_path / "dist" / "history.html")


def test_a_package_that_cannot_be_zipped_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = copy_deck("history", tmp_path)

    def full_disk(*args: object, **options: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(package.zipfile, "ZipFile", full_disk)
    stopped_by_a_full_disk(run(str(cards)), tmp_path / "dist" / "history.apkg")


def stopped_by_a_full_disk(result: Run, output: Path) -> None:
    """One line naming the output as the user knows it (not its temporary file), and nothing written."""
    assert (result.code, result.out) == (1, "")
    assert result.err == f"build.py: error: cannot write {output.as_posix()}: No space left on device\n"
    assert not output.parent.exists()


def test_a_target_with_a_long_name_is_replaced(tmp_path: Path) -> None:
    # Its old file is kept under a scratch name of its own, not under its name made longer.
    target = tmp_path / f"{'long' * 60}.yaml"  # 245 bytes: near the usual limit of 255
    target.write_text("old")
    staging = Staging()
    staging.stage(target).write_text("new")
    staging.commit()
    assert target.read_text() == "new"
    assert [path.name for path in tmp_path.iterdir()] == [target.name]
