"""The note types' schema is frozen: Anki splits a deck when it changes under the same id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anki.collection import Collection

from studycards.cards import Kind
from studycards.notetypes import NOTE_TYPES, schema
from tests.conftest import copy_deck, import_package, run

SNAPSHOT = json.loads((Path(__file__).parent / "notetypes.snapshot.json").read_text())


@pytest.mark.parametrize("kind", list(Kind), ids=lambda kind: kind.value)
def test_schema_matches_snapshot(kind: Kind) -> None:
    pinned, current = SNAPSHOT[kind.value], schema(kind)
    if current["model_id"] == pinned["model_id"]:
        assert (current["fields"], current["templates"]) == (pinned["fields"], pinned["templates"]), (
            f"The {current['name']} note type's field or template names changed under the same "
            f"model id {pinned['model_id']}. Anki compares these names on import: for everyone who "
            "imported the deck it would create a second note type and stop updating their notes. "
            "Keep the names, or make a new note type version with a new model id and a migration "
            "note in the README, then update tests/notetypes.snapshot.json.")
    assert current == pinned, (
        f"The {current['name']} note type has a new model id: update "
        "tests/notetypes.snapshot.json and add a migration note to the README.")


def test_model_ids_are_distinct() -> None:
    assert len({model.model_id for model in NOTE_TYPES.values()}) == len(NOTE_TYPES)


def test_anki_stores_the_pinned_schema(tmp_path: Path, collection: Collection) -> None:
    cards = copy_deck("every-kind", tmp_path)
    assert run(str(cards), "--out", str(tmp_path / "deck.apkg")).code == 0
    import_package(collection, tmp_path / "deck.apkg")
    stored = {}
    for notetype in collection.models.all():
        if notetype["name"].startswith("studycards "):
            stored[notetype["id"]] = ([field["name"] for field in notetype["flds"]],
                                      [template["name"] for template in notetype["tmpls"]])
    assert stored == {pinned["model_id"]: (pinned["fields"], pinned["templates"])
                      for pinned in SNAPSHOT.values()}
