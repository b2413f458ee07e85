"""Property-based tests: any text, any structure gives a deck or well-placed problems, never a crash."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from studycards.checker import check_card_nodes
from studycards.manifest import CardEntry, entry_text, parse_entry
from studycards.reader import libyaml_available, read_text
from tests.conftest import PROJECT, run

LOADERS = [yaml.BaseLoader] + ([yaml.CBaseLoader] if libyaml_available() else [])
# Text as a file can hold it: any character but a lone surrogate (strict UTF-8 refuses those).
YAML_LIKE = st.text(alphabet=st.sampled_from(list("abq: -[]{}&*!|>'\"#\n\t,?%@`\\\r"))
                    | st.characters(exclude_categories=["Cs"]), max_size=80)
PROBLEM_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (error|warning): .+$")


def line_count(text: str) -> int:
    return len(text.splitlines()) + 1  # problems may point just past the end


@settings(max_examples=300, deadline=None)
@given(YAML_LIKE)
@example("a #a")  # a node, and a warning with it
@example('q: "\\tab"')  # a node, and an error with it
def test_any_text_reads_to_nodes_or_placed_problems(text: str) -> None:
    for loader in LOADERS:
        node, problems = read_text(text, "f.yaml", loader)
        if node is not None:  # with the reader's own problems that do not stop it (a ' #', say)
            problems += check_card_nodes(node, "f.yaml")[1]
        for problem in problems:
            assert 1 <= problem.line <= line_count(text), problem
            assert problem.column >= 1, problem


SCALARS = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=False))
KEYS = st.one_of(st.sampled_from(["id", "q", "a", "cloze", "choices", "reverse", "typed", "extra",
                                  "source", "sound", "tags", "lint-ignore", "cards", "subdeck"]),
                 st.text(min_size=1, max_size=8))
STRUCTURES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)), max_leaves=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(structure=st.one_of(STRUCTURES, st.fixed_dictionaries({"cards": st.lists(STRUCTURES, max_size=4)})))
def test_any_structure_builds_or_reports(structure: object, tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        cards = Path(folder) / "cards"
        cards.mkdir()
        (cards / "deck.yaml").write_text("id: prop\nname: Property\nsource: Generated\n", encoding="utf-8")
        text = yaml.safe_dump(structure, allow_unicode=True)
        (cards / "topic.yaml").write_text(text, encoding="utf-8")
        result = run(str(cards), "--out", str(Path(folder) / "out" / "deck.apkg"))
        assert result.code in (0, 1)
        assert "Traceback" not in result.err
        for line in result.err.splitlines()[:-1] if result.code else result.err.splitlines():
            match = PROBLEM_LINE.match(line)
            assert match, line
            assert 1 <= int(match["line"]) <= line_count(text) + 5  # deck.yaml has 3 lines


@pytest.mark.skipif(sys.platform != "linux", reason="atheris ships Linux wheels")
def test_fuzz_reader_briefly() -> None:
    pytest.importorskip("atheris", reason="atheris is not installed")
    with tempfile.TemporaryDirectory() as folder:
        completed = subprocess.run(
            [sys.executable, str(PROJECT / "tests" / "fuzz_reader.py"), "-max_total_time=20",
             "-rss_limit_mb=1024", f"-artifact_prefix={folder}/"],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert re.search(r"Done \d+ runs in \d+ second", completed.stderr), completed.stderr[-500:]
        assert os.listdir(folder) == []


ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(guid=ANY_TEXT, kind=ANY_TEXT, subdeck=ANY_TEXT, file=ANY_TEXT,
       fields=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=8))
def test_manifest_entries_are_the_json_the_manifest_reader_expects(
        guid: str, kind: str, subdeck: str, file: str, fields: dict[str, str]) -> None:
    # Entries are put together by hand for speed; they must be byte for byte what json.dumps
    # writes, and read back as they were.
    entry = CardEntry(guid, kind, subdeck, file, fields)
    text = entry_text(entry)
    assert text == json.dumps({"guid": guid, "kind": kind, "subdeck": subdeck, "file": file,
                               "fields": fields}, ensure_ascii=False, sort_keys=True)
    assert parse_entry(text) == entry
