"""The deck this project ships: it builds, and Anki imports it cleanly."""

from __future__ import annotations

import shutil
from pathlib import Path

from anki.collection import Collection

from tests.conftest import PROJECT, import_package, run


def test_shipped_cards_build_and_import(tmp_path: Path, collection: Collection) -> None:
    cards = tmp_path / "cards"
    shutil.copytree(PROJECT / "cards", cards)
    package = tmp_path / "deck.apkg"
    result = run(str(cards), "--out", str(package))
    assert (result.code, result.err) == (0, "")
    log = import_package(collection, package)
    assert (len(log.updated), len(log.duplicate), len(log.conflicting)) == (0, 0, 0)
    assert len(log.new) == collection.note_count() >= 45
    top = "Korea–China Foreign Ministers' Talks (May 2024)"
    subdecks = [deck for deck in collection.decks.all_names_and_ids() if deck.name.startswith(top + "::")]
    assert len(subdecks) >= 4
    for deck in subdecks:
        assert collection.decks.card_count(deck.id, include_subdecks=False) > 0, deck.name
    for note_id in collection.find_notes(""):
        note = collection.get_note(note_id)
        assert note["Source"].strip(), note["Origin"]
        cards_of_note = note.cards()
        assert cards_of_note, note["Origin"]
        for card in cards_of_note:
            assert card.question().split("</style>", 1)[1].strip(), note["Origin"]
    assert collection.find_notes('"note:studycards Typed answer"')
    assert collection.find_notes('"note:studycards Multiple choice"')
    assert collection.find_notes('"note:studycards Cloze"')
    assert collection.find_notes('"note:studycards Reversed"')
