"""The JSON Schemas: up to date, valid for every shipped file, and agreeing with the checker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from studycards.schema import SCHEMA_FOLDER, schema_files
from tests.conftest import FIXTURES, PROJECT

# Invalid fixtures whose mistake lies within one file's structure, where a schema can see it.
SCHEMA_SEES = {
    "bad-id", "card-not-mapping", "choice-repeated", "cloze-numbered-zero", "cloze-without-deletion",
    "conflicting-kinds", "deck-missing-name", "flag-not-boolean", "many-problems", "missing-answer",
    "no-cards-key", "tag-with-space", "unknown-key", "wrong-type",
}
# Beyond a schema: several files, several keys' values, whether every deletion closes, or the
# YAML itself.
CHECKER_ONLY = {
    "choice-not-an-option", "cloze-nested", "duplicate-id", "duplicate-key", "empty-folder",
    "no-card-files", "no-deck-file", "tags-differ-in-case", "yaml-syntax",
}


def schema_for(file: Path) -> dict[str, Any]:
    name = "deck.schema.json" if file.name == "deck.yaml" else "cards.schema.json"
    return json.loads((SCHEMA_FOLDER / name).read_text(encoding="utf-8"))


def schema_errors(file: Path, loader: type = yaml.BaseLoader) -> list[str]:
    """What the schema says of a file, read as an editor would (or as plain text, by default)."""
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError:
        return ["not YAML"]
    validator = jsonschema.Draft202012Validator(schema_for(file))
    return [error.message for error in validator.iter_errors(data)]


def test_committed_schemas_are_up_to_date() -> None:
    for name, text in schema_files().items():
        assert (SCHEMA_FOLDER / name).read_text(encoding="utf-8") == text, (
            f"studycards/schemas/{name} is out of date: run python -m studycards.schema")


def test_schemas_are_valid_json_schemas() -> None:
    for name in schema_files():
        jsonschema.Draft202012Validator.check_schema(
            json.loads((SCHEMA_FOLDER / name).read_text(encoding="utf-8")))


@pytest.mark.parametrize("file", sorted((PROJECT / "cards").glob("*.yaml")), ids=lambda path: path.name)
def test_shipped_files_validate_and_name_their_schema(file: Path) -> None:
    assert schema_errors(file, yaml.BaseLoader) == []
    assert schema_errors(file, yaml.SafeLoader) == []  # how an editor's YAML parser reads it
    schema = "deck.schema.json" if file.name == "deck.yaml" else "cards.schema.json"
    first_line = file.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema=../studycards/schemas/{schema}"
    assert (file.parent / "../studycards/schemas" / schema).resolve().is_file()


@pytest.mark.parametrize("deck", ["every-kind", "history", "rich", "hostile", "write-back"])
def test_valid_fixture_decks_validate(deck: str) -> None:
    for file in sorted((FIXTURES / "decks" / deck / "cards").glob("*.yaml")):
        assert schema_errors(file) == [], file.name


def test_every_invalid_fixture_is_classified() -> None:
    cases = {path.name for path in (FIXTURES / "invalid").iterdir() if path.is_dir()}
    assert cases == SCHEMA_SEES | CHECKER_ONLY
    assert not SCHEMA_SEES & CHECKER_ONLY


@pytest.mark.parametrize("case", sorted(SCHEMA_SEES | CHECKER_ONLY))
def test_schema_agrees_with_the_checker(case: str) -> None:
    files = sorted((FIXTURES / "invalid" / case / "cards").glob("*.yaml"))
    rejected = [file.name for file in files if schema_errors(file)]
    if case in SCHEMA_SEES:
        # The files the checker reports, and only those, are the ones the schema rejects.
        expected = (FIXTURES / "invalid" / case / "expected.txt").read_text(encoding="utf-8")
        reported = sorted({line.split(":")[0].removeprefix("cards/") for line in expected.splitlines()
                           if ": error: " in line})
        assert rejected == reported
    else:
        # The schema cannot see these mistakes and accepts the files; a file that is not YAML at
        # all is refused by both.
        assert rejected == (["topic.yaml"] if case == "yaml-syntax" else [])


def test_what_an_editor_reads_as_numbers_is_valid(tmp_path: Path) -> None:
    # The build writes "id: 1066" for a card asking "1066"; an editor's YAML reads it as a number.
    file = tmp_path / "topic.yaml"
    file.write_text("cards:\n  - id: 1066\n    q: '1066'\n    a: The Battle of Hastings\n"
                    "    reverse: true\n    tags: [1944, europe]\n", encoding="utf-8")
    assert schema_errors(file, yaml.SafeLoader) == []


def test_a_cloze_needs_a_whole_deletion_from_c1(tmp_path: Path) -> None:
    file = tmp_path / "topic.yaml"
    flagged = {}
    for text in ("Not a {{c1::zero-sum}} game.", "Not a {{c1::zero-sum game.", "A {{c0::zero}} card."):
        file.write_text(f"cards:\n  - id: c\n    cloze: '{text}'\n", encoding="utf-8")
        flagged[text] = bool(schema_errors(file))
    assert flagged == {"Not a {{c1::zero-sum}} game.": False, "Not a {{c1::zero-sum game.": True,
                       "A {{c0::zero}} card.": True}


@pytest.mark.parametrize("loader", [yaml.BaseLoader, yaml.SafeLoader])  # as text, and as an editor reads it
def test_a_limit_is_at_least_1_in_the_schema_as_in_the_build(loader: type, tmp_path: Path) -> None:
    file = tmp_path / "deck.yaml"
    flagged = {}
    for value in ("12", "012", "0", "000"):
        file.write_text(f"id: d\nname: D\nsource: S\nlint:\n  max-answer-words: {value}\n", encoding="utf-8")
        flagged[value] = bool(schema_errors(file, loader))
    assert flagged == {"12": False, "012": False, "0": True, "000": True}
