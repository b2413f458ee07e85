"""Whatever arrives in cards/, the answer is a clear message at the right place, or a good deck."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, PROJECT, run

CORPUS = FIXTURES / "bad-input"
CASES = sorted(path.stem for path in CORPUS.glob("*.yaml"))
DECK = "id: bad-input\nname: Bad input\nsource: Fixture\n"


def deck_with(tmp_path: Path, name: str, data: bytes) -> Path:
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "deck.yaml").write_text(DECK, encoding="utf-8")
    (cards / name).write_bytes(data)
    return cards


@pytest.mark.parametrize("case", CASES)
def test_corpus(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deck_with(tmp_path, "topic.yaml", (CORPUS / f"{case}.yaml").read_bytes())
    monkeypatch.chdir(tmp_path)
    result = run()
    expected = (CORPUS / f"{case}.expected").read_text(encoding="utf-8")
    assert result.err == expected
    assert "Traceback" not in result.err
    if expected:
        assert (result.code, result.out) == (1, "")
        assert not (tmp_path / "dist").exists()
    else:
        assert result.code == 0
        assert result.out == "built dist/bad-input.apkg: 1 note, 1 card, 0 subdecks; first build\n"


def test_byte_order_mark_and_crlf_leave_no_trace_in_the_text(tmp_path: Path) -> None:
    cards = deck_with(tmp_path, "bom.yaml", (CORPUS / "utf8-bom.yaml").read_bytes())
    (cards / "crlf.yaml").write_bytes((CORPUS / "crlf.yaml").read_bytes())
    assert run(str(cards), "--out", str(tmp_path / "deck.apkg")).code == 0
    manifest = (tmp_path / "deck.manifest.json").read_text(encoding="utf-8")
    assert '"bom": ' in manifest and '"crlf": ' in manifest
    quiz = (tmp_path / "deck.html").read_text(encoding="utf-8")
    assert "Which line ends does this file use?" in quiz
    assert "\ufeff" not in quiz and "\\r" not in quiz


def test_ten_megabyte_scalar_builds(tmp_path: Path) -> None:
    answer = "x" * 10_000_000
    cards = deck_with(tmp_path, "huge.yaml",
                      f"cards:\n  - id: huge\n    q: How long can an answer be?\n    a: {answer}\n"
                      "    lint-ignore: [long-answer]\n".encode())
    result = run(str(cards), "--out", str(tmp_path / "deck.apkg"))
    assert (result.code, result.err) == (0, "")
    assert (tmp_path / "deck.apkg").stat().st_size > 0


def test_symlink_leaving_the_cards_folder_is_refused(tmp_path: Path) -> None:
    cards = deck_with(tmp_path, "topic.yaml", b"cards:\n  - id: a\n    q: Which?\n    a: This\n")
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("cards:\n  - id: b\n    q: Where?\n    a: Outside\n", encoding="utf-8")
    (cards / "linked.yaml").symlink_to(outside)
    result = run(str(cards))
    assert (result.code, result.out) == (1, "")
    assert result.err == (f"{cards.as_posix()}/linked.yaml:1:1: error: card file is a link that leaves "
                          "the cards folder; copy the file in instead\n1 error; nothing was written\n")


def test_files_that_cannot_be_card_files(tmp_path: Path) -> None:
    cards = deck_with(tmp_path, "topic.yaml", b"cards:\n  - id: a\n    q: Which?\n    a: This\n")
    os.mkfifo(cards / "pipe.yaml")  # reading it would wait for a writer for ever
    (cards / "folder.yaml").mkdir()
    (cards / os.fsdecode(b"latin-\xe9.yaml")).write_text("cards: []\n", encoding="utf-8")
    (cards / "two\nlines.yaml").write_text("cards: []\n", encoding="utf-8")
    outside = tmp_path / "deck.yaml"
    outside.write_bytes((cards / "deck.yaml").read_bytes())
    (cards / "deck.yaml").unlink()
    (cards / "deck.yaml").symlink_to(outside)
    # In a process of its own: were the pipe read, the test would fail on the timeout, not hang.
    result = subprocess.run([sys.executable, str(PROJECT / "build.py"), "cards"], cwd=tmp_path, text=True,
                            capture_output=True, check=False, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "cards/deck.yaml:1:1: error: deck.yaml is a link that leaves the cards folder; copy the file in "
        "instead\n"
        "cards/folder.yaml:1:1: error: card file is not a regular file but a folder, a pipe or a device\n"
        "cards/latin-\\xe9.yaml:1:1: error: the file name is not valid UTF-8; rename the file\n"
        "cards/pipe.yaml:1:1: error: card file is not a regular file but a folder, a pipe or a device\n"
        "cards/two\\nlines.yaml:1:1: error: the file name holds a control character; rename the file\n"
        "5 errors; nothing was written\n")
    assert not (tmp_path / "dist").exists()


def test_cards_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "cards").write_text("not a folder", encoding="utf-8")
    result = run(str(tmp_path / "cards"))
    assert result.code == 1
    assert result.err == (f"{(tmp_path / 'cards').as_posix()}:1:1: error: expected a folder of YAML card "
                          "files, found a file\n1 error; nothing was written\n")


def without_permission_override(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command line so that file permissions apply, even when the tests run as root.

    Root reads and writes past any permission; setpriv (util-linux) takes that power away
    from the one command, so a mode of 000 or 555 means for it what it means for a user.
    """
    command = [sys.executable, str(PROJECT / "build.py"), *args]
    if os.geteuid() == 0:
        capabilities = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={capabilities}", f"--inh-caps={capabilities}", *command]
    return subprocess.run(command, cwd=cwd, text=True, capture_output=True, check=False)


def test_unreadable_card_file(tmp_path: Path) -> None:
    cards = deck_with(tmp_path, "topic.yaml", b"cards:\n  - id: a\n    q: Which?\n    a: This\n")
    (cards / "secret.yaml").write_text("cards: []\n", encoding="utf-8")
    (cards / "secret.yaml").chmod(0)
    result = without_permission_override(["cards"], tmp_path)
    assert result.returncode == 1
    assert result.stderr == ("cards/secret.yaml:1:1: error: cannot read file: Permission denied\n"
                             "1 error; nothing was written\n")
