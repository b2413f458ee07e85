"""Editing the YAML never duplicates a note or loses review history; --plan tells what changes."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from anki.collection import Collection

from studycards import assemble, manifest
from studycards.assemble import _stage_id_insertions
from studycards.cache import cache_folder
from studycards.checker import check_card_nodes
from studycards.ids import assign_id, derived_id, insert_ids
from studycards.output import Staging
from studycards.problems import Problem
from studycards.reader import read_text
from tests.conftest import FIXTURES, copy_deck, import_package, run

ALPHA_V2 = """\
subdeck: Alpha
cards:
  - id: capital-japan
    q: What is the capital of Japan?
    a: Tokyo
  - id: capital-korea
    q: Which city is South Korea's capital?
    a: Seoul
  - id: capital-china
    q: What is the capital of China?
    a: Beijing (北京)
"""

BETA_V2 = """\
subdeck: Beta
cards:
  - id: minister-korea
    q: Who was South Korea's foreign minister in May 2024?
    a: Cho Tae-yul
  - id: zero-sum
    cloze: Cho said the two relationships are not {{c1::zero-sum}}.
  - id: minister-china
    q: Who was China's foreign minister in May 2024?
    a: Wang Yi
  - q: Which country joined the trilateral summit?
    a: Japan
"""


SUBDECK_MOVE_ADVICE = ("  Anki leaves already imported cards in the deck they are in; move them in Anki's "
                       "browser (or, after a deck rename, rename the deck there) if you want them in the new "
                       "one.")


def note_id_of(collection: Collection, card_id: str) -> int:
    (note_id,) = collection.find_notes(f'"origin:*· {card_id}"')
    return note_id


def review(collection: Collection, card_id: str) -> int:
    card = collection.get_note(note_id_of(collection, card_id)).cards()[0]
    card.start_timer()
    collection.sched.answerCard(card, 4)
    return card.id


def history_of(collection: Collection, card_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per card: interval, queue, and how many review-log rows it has."""
    return {cid: (collection.get_card(cid).ivl, collection.get_card(cid).queue,
                  collection.db.scalar("select count() from revlog where cid = ?", cid))
            for cid in card_ids}


def timestamp_warning(fixed: int, latest: int, cards: int) -> str:
    return (f"build.py: warning: SOURCE_DATE_EPOCH ({fixed}) is not later than the latest build's time "
            f"({latest}): Anki will take the changed or moved cards ({cards}) for ones it has and skip them; "
            "set a later time\n")


def history_deck_in(collection: Collection, tmp_path: Path) -> tuple[Path, Path]:
    """The 'history' deck copied into ``tmp_path``, built and imported: its cards folder and package."""
    cards = copy_deck("history", tmp_path)
    package = tmp_path / "dist" / "history.apkg"
    assert run(str(cards)).code == 0
    import_package(collection, package)
    return cards, package


def edit_history_deck(cards: Path) -> None:
    """Reword, change an answer, move, reorder, add without id, delete."""
    (cards / "alpha.yaml").write_text(ALPHA_V2, encoding="utf-8")
    (cards / "beta.yaml").write_text(BETA_V2, encoding="utf-8")


def test_edits_keep_notes_and_review_history(tmp_path: Path, collection: Collection) -> None:
    cards = copy_deck("history", tmp_path)
    package = tmp_path / "dist" / "history.apkg"
    assert run(str(cards)).code == 0
    first = import_package(collection, package)
    assert len(first.new) == 7
    reviewed = [review(collection, card_id)
                for card_id in ("capital-korea", "capital-china", "minister-korea")]
    before = history_of(collection, reviewed)
    assert all(interval > 0 and rows == 1 for interval, _, rows in before.values())
    note_ids = {card_id: note_id_of(collection, card_id)
                for card_id in ("capital-korea", "capital-china", "minister-china", "talks-month")}

    edit_history_deck(cards)
    plan = run(str(cards), "--plan")
    assert plan.code == 0
    assert "  - talks-month  (was in alpha.yaml)" not in plan.out
    assert "  - talks-month  (was in beta.yaml)" in plan.out
    result = run(str(cards))
    assert result.code == 0
    built, *after = result.out.splitlines()
    assert built.endswith("; 1 added, 2 changed, 1 moved, 1 removed since the last build; 1 new id written")
    # The build tells what Anki will not do of itself: move a card to its new subdeck, and
    # delete the removed card (after the build, the manifest no longer knows it).
    assert after == [
        "moved to another subdeck (1):",
        '  > 1 card: "History::Alpha" → "History::Beta"',
        SUBDECK_MOVE_ADVICE,
        *plan.out.splitlines()[-5:]]
    assert after[3:5] == ["removed (1):", "  - talks-month  (was in beta.yaml)"]
    second = import_package(collection, package)

    assert (len(second.new), len(second.updated), len(second.duplicate)) == (1, 6, 0)
    assert collection.note_count() == 8
    assert collection.find_dupes("Question") == []
    assert collection.get_note(note_ids["capital-korea"])["Question"] == (
        "Which city is South Korea's capital?")
    assert collection.get_note(note_ids["capital-china"])["Answer"] == "Beijing (北京)"
    assert note_id_of(collection, "minister-china") == note_ids["minister-china"]
    moved_card = collection.get_note(note_ids["minister-china"]).cards()[0]
    assert collection.decks.name(moved_card.did) == "History::Alpha"  # Anki keeps a card's deck
    assert history_of(collection, reviewed) == before
    added = collection.get_note(note_id_of(collection, "country-joined-trilateral-summit-f69a"))
    assert [(card.type, card.queue) for card in added.cards()] == [(0, 0)]
    # Anki never deletes on import: the removed card's note stays, and the plan's search finds it.
    assert note_id_of(collection, "talks-month") == note_ids["talks-month"]
    search = after[-1].strip()
    assert collection.find_notes(search) == [note_ids["talks-month"]]


def test_a_kind_change_done_as_the_warning_says_keeps_the_history(
        tmp_path: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    cards, package = history_deck_in(collection, tmp_path)
    reviewed = [review(collection, "talks-month")]
    before = history_of(collection, reviewed)
    beta = (cards / "beta.yaml").read_text(encoding="utf-8")
    (cards / "beta.yaml").write_text(beta.replace("    a: May\n", "    a: May\n    typed: true\n"),
                                     encoding="utf-8")
    result = run(str(cards))
    assert "change the note's type in Anki to 'studycards Typed answer'" in result.err
    first = import_package(collection, package)
    assert len(first.conflicting) == 1  # type: ignore[attr-defined]
    # As the warning says: change the note's type in Anki, build again, then import.
    note_id = note_id_of(collection, "talks-month")
    basic = collection.get_note(note_id).note_type()
    typed = collection.models.by_name("studycards Typed answer")
    assert basic is not None and typed is not None
    change = collection.models.change_notetype_info(old_notetype_id=basic["id"], new_notetype_id=typed["id"])
    change.input.note_ids.extend([note_id])
    collection.models.change_notetype_of_notes(change.input)  # which stamps the note with the time now
    beta = (cards / "beta.yaml").read_text(encoding="utf-8")
    (cards / "beta.yaml").write_text(beta.replace("a: May", "a: In May"), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) + 60))  # a build a minute later
    assert run(str(cards)).code == 0
    log = import_package(collection, package)
    assert [len(log.conflicting), len(log.new), len(log.updated)] == [0, 0, 7]  # type: ignore[attr-defined]
    assert collection.get_note(note_id)["Answer"] == "In May"
    assert collection.get_note(note_id).note_type()["name"] == "studycards Typed answer"  # type: ignore[index]
    assert history_of(collection, reviewed) == before


def test_a_note_changed_in_anki_after_the_build_takes_the_edit_from_the_next_build(
        tmp_path: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    # As the README says: Anki skips a note changed since the package was built (marked, here),
    # and the edit arrives with a build made after that change; Anki's tags go with it.
    cards = copy_deck("history", tmp_path)
    package = tmp_path / "dist" / "history.apkg"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558400")
    assert run(str(cards)).code == 0
    import_package(collection, package)
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    (cards / "alpha.yaml").write_text(alpha.replace("a: Beijing", "a: Beijing (北京)"), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558401")
    assert run(str(cards)).code == 0
    note = collection.get_note(note_id_of(collection, "capital-china"))
    note.add_tag("marked")
    collection.update_note(note)  # which stamps the note with the time now
    skipped = import_package(collection, package)
    assert (len(skipped.updated), len(skipped.duplicate)) == (6, 1)
    assert collection.get_note(note.id)["Answer"] == "Beijing"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) + 60))  # a build a minute later
    assert run(str(cards)).code == 0
    applied = import_package(collection, package)
    assert (len(applied.updated), len(applied.duplicate)) == (7, 0)
    assert collection.get_note(note.id)["Answer"] == "Beijing (北京)"
    assert "marked" not in collection.get_note(note.id).tags


def test_a_changed_card_id_is_told(tmp_path: Path) -> None:
    # The same text under a new id is a new note to Anki: its review history stays behind.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    renamed = alpha.replace("id: capital-korea", "id: korea-capital")
    (cards / "alpha.yaml").write_text(renamed, encoding="utf-8")
    warning = (f"{cards.as_posix()}/alpha.yaml:3:9: warning: card 'korea-capital' has the same text as "
               "'capital-korea', whose id is gone: Anki will add it as a new card, without the review "
               "history; give it back the id 'capital-korea' to keep it\n")
    assert run(str(cards), "--plan").err == warning
    assert run(str(cards), "--strict").code == 1
    result = run(str(cards))
    assert (result.code, result.err) == (0, warning)


def test_a_changed_card_id_is_told_when_the_answer_changed_too(tmp_path: Path) -> None:
    # A typo in an id fixed along with the answer: the question is still the old card's.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    edited = alpha.replace("id: capital-korea", "id: korea-capital").replace("a: Seoul", "a: Seoul (서울)")
    (cards / "alpha.yaml").write_text(edited, encoding="utf-8")
    result = run(str(cards))
    assert (result.code, result.err) == (0, (
        f"{cards.as_posix()}/alpha.yaml:3:9: warning: card 'korea-capital' has the same question as "
        "'capital-korea', whose id is gone: Anki will add it as a new card, without the review history; "
        "give it back the id 'capital-korea' to keep it\n"))
    # A new card that only shares the answer is not taken for the old one.
    beta = (cards / "beta.yaml").read_text(encoding="utf-8")
    korea = "  - id: capital-korea\n    q: What is the capital of South Korea?\n    a: Seoul\n"
    (cards / "alpha.yaml").write_text(alpha.replace(korea, ""), encoding="utf-8")
    (cards / "beta.yaml").write_text(beta + "  - id: seat\n    q: Where does South Korea's president sit?\n"
                                            "    a: Seoul\n", encoding="utf-8")
    assert run(str(cards)).err == ""


def test_cards_that_swapped_ids_are_told(tmp_path: Path) -> None:
    # Each note, and its review history, would go to the other card's question.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    swapped = alpha.replace("id: capital-korea", "id: SWAP").replace("id: capital-china", "id: capital-korea")
    swapped = swapped.replace("id: SWAP", "id: capital-china")
    (cards / "alpha.yaml").write_text(swapped, encoding="utf-8")
    result = run(str(cards))
    assert (result.code, result.err.splitlines()) == (0, [
        f"{cards.as_posix()}/alpha.yaml:{line}:9: warning: card '{card_id}' now has the text '{other}' had "
        "in the last build: its review history, which Anki keeps by id, goes with it; if the ids were "
        "swapped, give each card back its own"
        for line, card_id, other in [(3, "capital-china", "capital-korea"),
                                     (6, "capital-korea", "capital-china")]])
    (cards / "alpha.yaml").write_text(swapped.replace("Seoul", "Seoul (서울)"), encoding="utf-8")
    assert run(str(cards)).err == ""  # a card whose text changed, not into another's


def test_an_id_given_again_is_told_at_the_card_that_did_not_have_it(tmp_path: Path) -> None:
    # A new card earlier in the deck takes an id a card in a later file has had since the last
    # build: the new card is told to change, not the one whose note holds the review history,
    # and the new card's other kind is no "changed kind" warning.
    cards = copy_deck("every-kind", tmp_path)
    assert run(str(cards)).code == 0
    misc = (cards / "misc.yaml").read_text(encoding="utf-8")
    new_card = "  - {id: talks-city, q: Which?, a: This, typed: true}\n"
    (cards / "misc.yaml").write_text(misc.replace("cards:\n", "cards:\n" + new_card), encoding="utf-8")
    for command in ("--check", "--plan", ""):
        result = run(str(cards), *filter(None, [command]))
        assert (result.code, result.err.splitlines()[0]) == (
            1, f"{cards.as_posix()}/misc.yaml:2:10: error: card id 'talks-city' is used again: the card "
               f"at {cards.as_posix()}/talks.yaml:4 had it in the last build, and keeps it; give this card "
               "an id of its own")
        assert result.err.splitlines()[1:] == ["1 error; nothing was written"]
    # With no build to tell which card had it, the later card is told.
    result = run(str(cards), "--out", str(tmp_path / "elsewhere" / "deck.apkg"))
    assert result.err.splitlines()[0] == (
        f"{cards.as_posix()}/talks.yaml:4:9: error: card id 'talks-city' is used again (first at "
        f"{cards.as_posix()}/misc.yaml:2); ids must be unique in the deck")


def test_a_copy_pasted_above_its_card_and_edited_is_told_and_the_history_stays_with_the_card(
        tmp_path: Path, collection: Collection) -> None:
    # The usual way to write a card like another: copy it, paste it above, reword the copy.
    # Both are in the file that had the id; the one left as it was is the card Anki has.
    cards = copy_deck("every-kind", tmp_path)
    package = tmp_path / "dist" / "every-kind.apkg"
    assert run(str(cards)).code == 0
    import_package(collection, package)
    reviewed = [review(collection, "talks-city")]
    before = history_of(collection, reviewed)
    talks = (cards / "talks.yaml").read_text(encoding="utf-8")
    original = talks[talks.index("  - id: talks-city"):talks.index("  - id: cho-zero-sum")]
    copy = original.replace("In which city did", "On which day did").replace("a: Beijing", "a: 13 May")
    (cards / "talks.yaml").write_text(talks.replace(original, copy + original), encoding="utf-8")
    result = run(str(cards))
    assert (result.code, result.err.splitlines()[0]) == (
        1, f"{cards.as_posix()}/talks.yaml:4:9: error: card id 'talks-city' is used again: the card "
           f"at {cards.as_posix()}/talks.yaml:10 had it in the last build, and keeps it; give this card "
           "an id of its own")
    # Done as told, the reworded copy is a new note and the card keeps its note and history.
    talks = (cards / "talks.yaml").read_text(encoding="utf-8")
    (cards / "talks.yaml").write_text(talks.replace("id: talks-city", "id: talks-day", 1), encoding="utf-8")
    assert run(str(cards)).code == 0
    log = import_package(collection, package)
    assert (len(log.new), len(log.duplicate)) == (1, 0)
    note = collection.get_note(note_id_of(collection, "talks-city"))
    assert (note["Question"], note["Answer"]) == ("In which city did the two foreign ministers meet?",
                                                  "Beijing")
    assert collection.get_note(note_id_of(collection, "talks-day"))["Answer"] == "13 May"
    assert history_of(collection, reviewed) == before


def test_plan_lists_every_change(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    edit_history_deck(cards)
    manifest = tmp_path / "dist" / "history.manifest.json"
    manifest_before = manifest.read_bytes()
    package_before = (tmp_path / "dist" / "history.apkg").read_bytes()
    beta_before = (cards / "beta.yaml").read_bytes()
    result = run(str(cards), "--plan")
    target = (tmp_path / "dist" / "history.apkg").as_posix()
    assert result.code == 0
    assert result.err == f"{cards.as_posix()}/beta.yaml:11:5: note: card has no id; " \
                         "a build will write one into this file\n"
    assert result.out.splitlines() == [
        f"plan for {target}: 1 added, 2 changed, 1 moved, 1 removed since the last build, "
        "3 unchanged",
        "added (1):",
        f"  + country-joined-trilateral-summit-f69a  {cards.as_posix()}/beta.yaml:11",
        "changed (2):",
        "  ~ capital-china: Answer",
        "  ~ capital-korea: Question",
        "moved (1):",
        '  > minister-china: alpha.yaml → beta.yaml; subdeck "History::Alpha" → "History::Beta"',
        SUBDECK_MOVE_ADVICE,
        "removed (1):",
        "  - talks-month  (was in beta.yaml)",
        "  Anki never deletes notes on import: these stay in your collection.",
        "  To find them, paste this into the search bar of Anki's browser:",
        '    "origin:re:(?-i)^beta\\.yaml · talks\\-month$" "deck:History"',
    ]
    # --plan writes nothing: not the id, not the package, not the manifest.
    assert (cards / "beta.yaml").read_bytes() == beta_before
    assert manifest.read_bytes() == manifest_before
    assert (tmp_path / "dist" / "history.apkg").read_bytes() == package_before


def test_plan_reports_subdeck_moves_tags_and_kinds(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    beta = (cards / "beta.yaml").read_text(encoding="utf-8")
    beta = beta.replace("subdeck: Beta\n", "subdeck: Gamma\ntags: [asia]\n")
    beta = beta.replace("    a: May\n", "    a: May\n    typed: true\n")
    (cards / "beta.yaml").write_text(beta, encoding="utf-8")
    result = run(str(cards), "--plan")
    assert result.err == (
        f"{cards.as_posix()}/beta.yaml:9:9: warning: card 'talks-month' changed kind (basic → typed): "
        "Anki will not update a note whose kind changed: import, change the note's type in Anki to "
        "'studycards Typed answer' (Browse, Notes > Change Note Type), then build again and import, and its "
        "review history stays; or give the card a new id to add it as a new note\n")
    lines = result.out.splitlines()
    assert lines[0].endswith(": 0 added, 3 changed, 3 moved, 0 removed since the last build, "
                             "4 unchanged")
    assert lines[1:] == [
        "changed (3):",
        "  ~ minister-korea: tags",
        "  ~ talks-month: kind basic → typed, tags",
        "  ~ zero-sum: tags",
        "  Anki will not update a note whose kind changed: import, change the note's type in Anki "
        "(Browse, Notes > Change Note Type), then build again and import, and its review history stays; or "
        "give the card a new id to add it as a new note",
        "moved (3):",
        '  > minister-korea: subdeck "History::Beta" → "History::Gamma"',
        '  > talks-month: subdeck "History::Beta" → "History::Gamma"',
        '  > zero-sum: subdeck "History::Beta" → "History::Gamma"',
        SUBDECK_MOVE_ADVICE,
    ]


def test_plan_without_earlier_build(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    result = run(str(cards), "--plan")
    assert (result.code, result.err) == (0, "")
    assert result.out == (f"plan for {(tmp_path / 'dist' / 'history.apkg').as_posix()}: no earlier "
                          "build to compare with; all 7 notes are new\n")
    assert not (tmp_path / "dist").exists()


def test_id_write_back_inserts_only_id_lines(tmp_path: Path) -> None:
    cards = copy_deck("write-back", tmp_path)
    original = (cards / "mixed.yaml").read_bytes()
    result = run(str(cards))
    assert result.code == 0
    assert result.out.endswith("; first build; 5 new ids written\n")
    written = (cards / "mixed.yaml").read_bytes()
    expected = (FIXTURES / "decks" / "write-back" / "mixed.expected.yaml").read_bytes()
    assert written == expected
    # Taking the inserted lines out again gives back the original, byte for byte.
    original_lines, written_lines = original.splitlines(keepends=True), written.splitlines(keepends=True)
    inserted = [line for line in written_lines if line not in original_lines]
    assert [line.strip() for line in inserted] == [
        b"id: city-hosted-talks-e09f", b"id: met-wang-yi-13-may-27f2", b"id: cho-said-ties-not-zero-5392",
        b"id: city-hosted-talks-again-9efa", b"id: wang-yis-name-script-abf2"]
    assert b"".join(line for line in written_lines if line not in inserted) == original
    # A second build finds every id in place and changes nothing.
    second = run(str(cards))
    assert second.out.endswith("; 0 added, 0 changed, 0 moved, 0 removed since the last build\n")
    assert (cards / "mixed.yaml").read_bytes() == expected


def test_a_build_that_writes_ids_reports_and_builds_the_files_as_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Positions below a new id line are those of the file as written, the card stays in its
    # place, and the next build, with nothing changed, writes the very same outputs.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558400")
    cards = copy_deck("history", tmp_path)
    (cards / "gamma.yaml").write_text("cards:\n  - q: Which city hosted the talks?\n    a: Beijing\n"
                                      "  - id: yn\n    q: Did the talks happen in Beijing?\n    a: 'Yes'\n",
                                      encoding="utf-8")
    first = run(str(cards))
    assert first.err == (f"{cards.as_posix()}/gamma.yaml:6:8: warning: yes/no question; ask for the fact "
                         "itself so the answer is not a coin toss (yes-no-question)\n")
    assert first.out.endswith("; first build; 1 new id written\n")
    dist = tmp_path / "dist"
    assert len(list(cache_folder(dist / "history.apkg").iterdir())) == 3  # the file written too
    written = {path.name: path.read_bytes() for path in dist.iterdir() if path.is_file()}
    quiz = written["history.html"].decode()
    assert quiz.index('"city-hosted-talks-e09f"') < quiz.index('"yn"')  # in the file's order
    assert 'gamma.yaml","line":2,' in quiz and 'gamma.yaml","line":5,' in quiz  # "- id: yn" moved down
    second = run(str(cards))
    assert (second.err, second.out) == (first.err, first.out.replace(
        "first build; 1 new id written", "0 added, 0 changed, 0 moved, 0 removed since the last build"))
    assert {path.name: path.read_bytes() for path in dist.iterdir() if path.is_file()} == written


def test_a_file_changed_between_the_two_readings_of_a_build_that_writes_ids(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another file gains a card without an id while the build runs: an error, nothing written.
    cards = copy_deck("history", tmp_path)
    (cards / "gamma.yaml").write_text("cards:\n  - q: Which city hosted the talks?\n    a: Beijing\n",
                                      encoding="utf-8")
    read = assemble._DeckReader.read

    def read_then_edit(reader: assemble._DeckReader, contents: dict[str, bytes]) -> assemble._Reading:
        reading = read(reader, contents)
        if not contents:  # after the first reading
            with (cards / "beta.yaml").open("a", encoding="utf-8") as beta:
                beta.write("  - q: Which card came during the build?\n    a: This one\n")
        return reading

    monkeypatch.setattr(assemble._DeckReader, "read", read_then_edit)
    before = {path.name: path.read_bytes() for path in cards.iterdir()}
    result = run(str(cards))
    assert (result.code, result.out) == (1, "")
    assert result.err == (f"{cards.as_posix()}/beta.yaml:1:1: error: file changed during the build; build "
                          "again\n1 error; nothing was written\n")
    assert {path.name: path.read_bytes() for path in cards.iterdir()} == {
        **before, "beta.yaml": (cards / "beta.yaml").read_bytes()}  # gamma.yaml has no id yet
    assert not (tmp_path / "dist").exists()


def test_a_build_that_writes_ids_but_stops_reports_the_files_as_they_are(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    (cards / "gamma.yaml").write_text("cards:\n  - q: Which city hosted the talks?\n    a: Beijing\n"
                                      "  - id: yn\n    q: Did the talks happen in Beijing?\n    a: 'Yes'\n",
                                      encoding="utf-8")
    result = run(str(cards), "--strict")
    assert result.err == (f"{cards.as_posix()}/gamma.yaml:5:8: warning: yes/no question; ask for the fact "
                          "itself so the answer is not a coin toss (yes-no-question)\n"
                          "0 errors, 1 warning, which --strict counts as an error; nothing was written\n")
    assert "id:" not in (cards / "gamma.yaml").read_text(encoding="utf-8").split("- id: yn")[0]


def test_a_build_that_writes_ids_tells_its_notices_once(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Each reading of the deck counts its own findings: the second does not add to the first's.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558400")
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    (cards / "alpha.yaml").write_text(alpha.replace("a: Beijing", "a: Peking")
                                      + "  - q: Which card has no id?\n    a: This one\n", encoding="utf-8")
    result = run(str(cards))
    assert result.err == timestamp_warning(1715558400, 1715558400, 1)
    assert result.out.endswith("; 1 added, 1 changed, 0 moved, 0 removed since the last build; "
                               "1 new id written\n")


def test_a_derived_id_stays_short_however_long_the_question() -> None:
    assert derived_id("Which " + "x" * 90_000 + "?") == "x" * 40 + "-0f28"
    assert derived_id("Which treaty did the " + "a" * 30 + " sign?") == "treaty-" + "a" * 30 + "-ce00"


def test_an_id_written_after_a_brace_that_ends_its_line_adds_no_trailing_space(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    text = "cards:\n  - {\n    q: Which city hosted the talks?,\n    a: Beijing}\n"
    (cards / "gamma.yaml").write_text(text, encoding="utf-8")
    assert run(str(cards)).code == 0
    assert (cards / "gamma.yaml").read_text(encoding="utf-8") == (
        "cards:\n  - {id: city-hosted-talks-e09f,\n    q: Which city hosted the talks?,\n    a: Beijing}\n")


def test_id_write_back_keeps_crlf_and_byte_order_mark(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    text = "\ufeffcards:\r\n  - q: Où se trouve Pékin ?\r\n    a: En Chine\r\n"
    (cards / "french.yaml").write_bytes(text.encode("utf-8"))
    assert run(str(cards)).code == 0
    assert (cards / "french.yaml").read_bytes() == (
        "\ufeffcards:\r\n  - q: Où se trouve Pékin ?\r\n    id: ou-se-trouve-pekin-c17c\r\n"
        "    a: En Chine\r\n").encode("utf-8")
    # Line ends of old Macs, a lone CR: YAML reads them too, and the new line ends alike.
    (cards / "french.yaml").write_bytes(b"cards:\r  - q: Which sea lies west of Korea?\r"
                                        b"    a: The Yellow Sea\r")
    assert run(str(cards)).code == 0
    assert (cards / "french.yaml").read_bytes() == (
        b"cards:\r  - q: Which sea lies west of Korea?\r    id: sea-lies-west-korea-12f2\r"
        b"    a: The Yellow Sea\r")


def test_check_reports_missing_ids_without_writing(tmp_path: Path) -> None:
    cards = copy_deck("write-back", tmp_path)
    original = (cards / "mixed.yaml").read_bytes()
    result = run(str(cards), "--check")
    assert result.code == 0
    assert result.err.splitlines() == [
        f"{cards.as_posix()}/mixed.yaml:{line}:{column}: note: card has no id; "
        "a build will write one into this file"
        for line, column in ((10, 5), (14, 5), (19, 5), (23, 5), (26, 5))]
    assert (cards / "mixed.yaml").read_bytes() == original
    # A note, not a warning: with --strict a check passes as a build with --strict does.
    strict = run(str(cards), "--check", "--strict")
    assert (strict.code, strict.err) == (0, result.err)
    assert strict.out.endswith(", 0 warnings; nothing was written\n")
    assert run(str(cards), "--strict").code == 0


def test_ids_go_through_a_link_into_the_file_it_names(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    (cards / "shared").mkdir(parents=True)
    (cards / "deck.yaml").write_text("id: linked\nname: Linked\nsource: S\n", encoding="utf-8")
    real = cards / "shared" / "talks.yaml"
    real.write_text("cards:\n  - q: Which city hosted the talks?\n    a: Beijing\n", encoding="utf-8")
    (cards / "talks.yaml").symlink_to("shared/talks.yaml")
    result = run(str(cards))
    assert (result.code, result.err) == (0, "")
    assert (cards / "talks.yaml").is_symlink()
    assert real.read_text(encoding="utf-8") == (
        "cards:\n  - q: Which city hosted the talks?\n    id: city-hosted-talks-e09f\n    a: Beijing\n")
    # A second name for the same file would put every card in the deck twice: refused, by
    # --check as by a build.
    unchanged = "cards:\n  - q: Where did the ministers meet?\n    a: Beijing\n"
    real.write_text(unchanged, encoding="utf-8")
    (cards / "again.yaml").symlink_to("shared/talks.yaml")
    refused = (f"{cards.as_posix()}/talks.yaml:1:1: error: this file is {cards.as_posix()}/again.yaml under "
               "another name (a link); keep one of the two\n")
    result = run(str(cards))
    assert (result.code, result.err) == (1, refused + "1 error; nothing was written\n")
    result = run(str(cards), "--check")
    assert result.code == 1
    assert result.err.endswith(refused + "1 error; nothing was written\n")
    assert real.read_text(encoding="utf-8") == unchanged


def test_reworded_question_keeps_its_generated_id(tmp_path: Path) -> None:
    cards = copy_deck("write-back", tmp_path)
    assert run(str(cards)).code == 0
    text = (cards / "mixed.yaml").read_text(encoding="utf-8")
    (cards / "mixed.yaml").write_text(
        text.replace("Which city hosted the talks?", "In which city were the talks held?"),
        encoding="utf-8")
    result = run(str(cards))
    assert result.out.endswith("; 0 added, 1 changed, 0 moved, 0 removed since the last build\n")
    assert "    id: city-hosted-talks-e09f\n" in (cards / "mixed.yaml").read_text(encoding="utf-8")


def test_same_source_date_epoch_gives_identical_packages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558400")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    cards = copy_deck("every-kind", tmp_path)
    first, second = tmp_path / "first" / "deck.apkg", tmp_path / "second" / "deck.apkg"
    assert run(str(cards), "--out", str(first)).code == 0
    assert run(str(cards), "--out", str(second)).code == 0
    assert first.read_bytes() == second.read_bytes()
    # Nothing left behind: no temporary database in the temp folder or beside the package.
    assert list(temporary.iterdir()) == []
    assert sorted(path.name for path in first.parent.iterdir()) == [
        ".studycards-cache", "deck.apkg", "deck.html", "deck.manifest.json"]


def test_a_fixed_time_not_after_the_last_build_is_told(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Anki skips a changed note whose time is not newer than its copy's: the edit would be lost.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558400")
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    assert run(str(cards)).err == ""  # nothing changed: nothing to skip
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    (cards / "alpha.yaml").write_text(alpha.replace("a: Seoul", "a: Seoul (서울)"), encoding="utf-8")
    warning = timestamp_warning(1715558400, 1715558400, 1)
    strict = run(str(cards), "--strict")
    assert (strict.code, strict.err) == (1, warning + "0 errors, 1 warning, which --strict counts as an "
                                                   "error; nothing was written\n")
    result = run(str(cards))
    assert (result.code, result.err) == (0, warning)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558401")
    (cards / "alpha.yaml").write_text(alpha.replace("a: Seoul", "a: Seoul!"), encoding="utf-8")
    assert run(str(cards)).err == ""


def test_a_fixed_time_is_compared_with_the_latest_build_and_a_moved_card_counts(
        tmp_path: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    # A build with an older fixed time makes an older package, not older notes in Anki: the
    # next fixed time must still be later than the build before that one.
    cards, package = history_deck_in(collection, tmp_path)
    manifest = tmp_path / "dist" / "history.manifest.json"
    latest = int(json.loads(manifest.read_text(encoding="utf-8"))["timestamp"])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715558400")
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    (cards / "alpha.yaml").write_text(alpha.replace("a: Seoul", "a: Seoul (서울)"), encoding="utf-8")
    assert run(str(cards)).err == timestamp_warning(1715558400, latest, 1)
    # A card moved to another file changes its note too (the note names its file).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715644800")
    (cards / "alpha.yaml").rename(cards / "asia.yaml")
    assert run(str(cards)).err == timestamp_warning(1715644800, latest, 4)
    log = import_package(collection, package)
    assert (len(log.updated), len(log.duplicate)) == (0, 7)  # as told: Anki skipped them all
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert run(str(cards)).err == ""
    log = import_package(collection, package)
    assert (len(log.updated), len(log.duplicate)) == (7, 0)
    assert collection.get_note(note_id_of(collection, "capital-korea"))["Answer"] == "Seoul (서울)"


def test_immediate_rebuild_imports_as_an_update(tmp_path: Path, collection: Collection) -> None:
    cards, package = history_deck_in(collection, tmp_path)
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    (cards / "alpha.yaml").write_text(alpha.replace("a: Tokyo", "a: Tōkyō"), encoding="utf-8")
    # Built within the same second: the timestamp still moves past the last build's.
    assert run(str(cards)).code == 0
    log = import_package(collection, package)
    assert (len(log.updated), len(log.duplicate)) == (7, 0)
    assert collection.get_note(note_id_of(collection, "capital-japan"))["Answer"] == "Tōkyō"


def test_unreadable_manifest_is_ignored(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    manifest = tmp_path / "dist" / "history.manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{not json", encoding="utf-8")
    notice = (f"build.py: warning: {manifest.as_posix()}, the record of the last build, cannot be read "
              "(damaged, or written by another version of this program): the cards are not compared with "
              "the last build this time\n")
    assert run(str(cards), "--plan").err == notice
    result = run(str(cards))
    assert (result.code, result.err) == (0, notice)
    assert result.out.endswith("; first build\n")
    assert run(str(cards)).err == ""  # the build wrote a good one
    shutil.rmtree(tmp_path / "dist")


@pytest.mark.parametrize("damage", ["notetype", "card-id", "deck"])
def test_a_manifest_edited_into_other_types_is_ignored(damage: str, tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    manifest = tmp_path / "dist" / "history.manifest.json"
    text = manifest.read_text(encoding="utf-8")
    if damage in ("notetype", "deck"):
        data = json.loads(text)
        if damage == "notetype":
            data["notetypes"]["basic"] = 5
        else:
            data["deck"] = None
        manifest.write_text(json.dumps(data), encoding="utf-8")
    else:  # in the one-card-a-line layout, a card whose key is a number
        manifest.write_text(text.replace('"capital-korea": ', "1: ", 1), encoding="utf-8")
    for options in (["--plan"], []):
        result = run(str(cards), *options)
        assert (result.code, result.err.endswith("cannot be read (damaged, or written by another version of "
                                                 "this program): the cards are not compared with the last "
                                                 "build this time\n")) == (0, True)
        assert "no earlier build" in result.out or result.out.endswith("; first build\n")


def test_plan_reports_note_type_schema_change(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    manifest = tmp_path / "dist" / "history.manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["notetypes"]["basic"]["fields"] = ["Question", "Answer"]  # as if a build had fewer fields
    manifest.write_text(json.dumps(data), encoding="utf-8")
    lines = run(str(cards), "--plan").out.splitlines()
    assert lines[1:] == [
        "note type schema changes:",
        "  ! studycards Basic: fields ['Question', 'Answer'] → ['Question', 'Answer', 'Extra', "
        "'Source', 'Origin', 'Audio'], templates ['Card 1'] → ['Card 1'] under the same model id; "
        "Anki would create a second note type and stop updating existing notes",
    ]


# "²" and Arabic-Indic digits pass str.isdigit(); int() refuses the one and reads the other.
@pytest.mark.parametrize("value", ["1715558400000", "soon", "-1", "²", "١٧١٥٥٥٨٤٠٠", "9" * 5000])
def test_source_date_epoch_out_of_range(value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    cards = copy_deck("history", tmp_path)
    result = run(str(cards))
    assert (result.code, result.out) == (1, "")
    assert result.err == ("build.py: error: SOURCE_DATE_EPOCH must be a whole number of seconds since "
                          f"1970 (at most 4102444800), not '{value}'\n")
    assert not (tmp_path / "dist").exists()


def test_source_date_epoch_may_have_leading_zeros(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0" * 20 + "1715558400")
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    manifest = json.loads((tmp_path / "dist" / "history.manifest.json").read_text(encoding="utf-8"))
    assert manifest["timestamp"] == 1715558400


def test_manifest_with_an_impossible_time_is_ignored(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    manifest = tmp_path / "dist" / "history.manifest.json"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('"timestamp": ', '"timestamp": 1e999, "x": ', 1), encoding="utf-8")
    result = run(str(cards))
    assert result.code == 0
    assert result.out.endswith("; first build\n")


def test_new_id_never_reuses_a_removed_cards_id(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    beta = (cards / "beta.yaml").read_text(encoding="utf-8")
    beta = beta.replace("id: talks-month\n", "id: talks-month-bba3\n")
    (cards / "beta.yaml").write_text(beta, encoding="utf-8")
    assert run(str(cards)).code == 0
    # talks-month-bba3 is removed; a new card whose question makes that very id arrives.
    beta = beta.replace("  - id: talks-month-bba3\n    q: In which month of 2024 did the talks take place?\n"
                        "    a: May\n", "  - q: Talks month?\n    a: May\n")
    (cards / "beta.yaml").write_text(beta, encoding="utf-8")
    result = run(str(cards))
    assert result.code == 0
    assert "    id: talks-month-bba3-2\n" in (cards / "beta.yaml").read_text(encoding="utf-8")


def test_a_new_card_never_takes_over_the_note_of_one_deleted_before(tmp_path: Path,
                                                                     collection: Collection) -> None:
    # Anki keeps a deleted card's note. With no record of the deck's earlier ids (a fresh clone
    # has no dist/), only the new id itself can keep a new card off that note.
    cards = copy_deck("history", tmp_path)
    package = tmp_path / "dist" / "history.apkg"
    topic = cards / "gamma.yaml"
    topic.write_text("cards:\n  - q: Which city hosted the talks between Cho and Wang?\n    a: Beijing\n",
                     encoding="utf-8")
    assert run(str(cards)).code == 0
    old_id = topic.read_text(encoding="utf-8").split("id: ")[1].split("\n")[0]
    import_package(collection, package)
    reviewed = review(collection, old_id)
    before = history_of(collection, [reviewed])
    topic.write_text("cards:\n  - q: Which city hosted the talks between Cho and Wang's deputies?\n"
                     "    a: Seoul\n", encoding="utf-8")
    shutil.rmtree(tmp_path / "dist")
    assert run(str(cards)).code == 0
    new_id = topic.read_text(encoding="utf-8").split("id: ")[1].split("\n")[0]
    assert (old_id, new_id) == ("city-hosted-talks-between-cho-d12a", "city-hosted-talks-between-cho-156d")
    log = import_package(collection, package)
    assert [collection.get_note(note.id.nid)["Question"] for note in log.new] == [
        "Which city hosted the talks between Cho and Wang's deputies?"]
    assert collection.get_note(note_id_of(collection, old_id))["Question"] == (
        "Which city hosted the talks between Cho and Wang?")
    assert history_of(collection, [reviewed]) == before


def test_ids_go_only_into_a_file_as_it_was_read(tmp_path: Path) -> None:
    # Edited by its author during the build: no ids, an error, nothing written (the next
    # build derives the same ids). Written meanwhile by a build beside this one: nothing to do.
    source = b"cards:\n  - q: Which city hosted the talks?\n    a: Beijing\n"
    node, _ = read_text(source.decode(), "cards/topic.yaml")
    assert node is not None
    (card,), _ = check_card_nodes(node, "cards/topic.yaml")
    _, insertion = assign_id(card, set())
    cards = tmp_path / "cards"
    cards.mkdir()
    edited = source + b"  - q: Which card was added meanwhile?\n    a: This one\n"
    (cards / "topic.yaml").write_bytes(edited)
    staging = Staging()
    assert _stage_id_insertions(staging, [insertion], {"cards/topic.yaml": source}, "cards", cards) == (
        [Problem("cards/topic.yaml", 1, 1, "error",
                 "file changed during the build, so its new ids cannot be written into it; build again")], 0)
    staging.commit()
    assert (cards / "topic.yaml").read_bytes() == edited
    written = insert_ids(source, [insertion])
    assert b"id: city-hosted-talks-e09f" in written
    (cards / "topic.yaml").write_bytes(written)
    assert _stage_id_insertions(staging, [insertion], {"cards/topic.yaml": source}, "cards", cards) == ([], 0)
    staging.commit()
    assert (cards / "topic.yaml").read_bytes() == written
    assert sorted(path.name for path in cards.iterdir()) == ["topic.yaml"]


def test_removed_search_looks_in_the_deck_a_card_was_imported_into_under_an_earlier_name(
        tmp_path: Path) -> None:
    # Anki leaves notes in their deck when the deck's name changes in deck.yaml.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    (cards / "deck.yaml").write_text("id: history\nname: Story\nsource: Test fixture\n", encoding="utf-8")
    beta = (cards / "beta.yaml").read_text(encoding="utf-8")
    (cards / "beta.yaml").write_text(beta[:beta.index("  - id: talks-month")], encoding="utf-8")
    search = run(str(cards), "--plan").out.splitlines()[-1].strip()
    assert search.endswith(' ("deck:History::Beta" or "deck:Story")'), search


def test_a_build_that_removes_many_cards_tells_them_by_file_and_anki_finds_them(
        tmp_path: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Anki's search fails past about a thousand terms, and a regular expression past a size:
    # the ids go into one term per so many characters, a file's ids into one alternative.
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "deck.yaml").write_text("id: big\nname: Big\nsource: Fixture\n", encoding="utf-8")
    for number in range(3):
        (cards / f"part-{number}.yaml").write_text("cards:\n" + "".join(
            f"  - {{id: card-{number}-{index}, q: 'Which {index} of {number}?', a: '{index}'}}\n"
            for index in range(500)), encoding="utf-8")
    assert run(str(cards)).code == 0
    import_package(collection, tmp_path / "dist" / "big.apkg")
    (cards / "part-0.yaml").unlink()
    (cards / "part-1.yaml").unlink()
    kept = (cards / "part-2.yaml").read_text(encoding="utf-8").splitlines(keepends=True)[:251]
    (cards / "part-2.yaml").write_text("".join(kept), encoding="utf-8")
    plan = run(str(cards), "--plan").out.splitlines()
    result = run(str(cards))
    built, *after = result.out.splitlines()
    assert built.endswith("; 0 added, 0 changed, 0 moved, 1250 removed since the last build")
    assert after == ["removed (1250):", "  - 500 cards that were in part-0.yaml",
                     "  - 500 cards that were in part-1.yaml", "  - 250 cards that were in part-2.yaml",
                     *plan[-3:]]
    assert len(plan) == 1 + 1 + 1250 + 3  # --plan names every card
    removed = set(collection.find_notes(after[-1].strip()))
    assert len(removed) == 1250
    assert {collection.get_note(note_id)["Origin"].rpartition("-")[0] for note_id in removed} == {
        "part-0.yaml · card-0", "part-1.yaml · card-1", "part-2.yaml · card-2"}
    assert not removed & set(collection.find_notes('"origin:part-2.yaml · card-2-1"'))
    # In runs of a few ids a term, the search is as exact.
    monkeypatch.setattr(manifest, "_SEARCH_TERM_LENGTH", 300)
    search = manifest.removed_search([(f"card-{number}-{index}", f"part-{number}.yaml")
                                      for number in range(3) for index in range(500)
                                      if number < 2 or index >= 250], ["Big"])
    assert search.count('"origin:re:') > 50
    assert set(collection.find_notes(search)) == removed


def test_removed_search_finds_names_with_other_spaces_and_long_names(
        tmp_path: Path, collection: Collection) -> None:
    # Anki's search reads a no-break or ideographic space as " ", which the notes do not have;
    # and its size limit is of the compiled expression, which counts bytes, not characters.
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "deck.yaml").write_text("id: spaces\nname: 日本語\u3000文法\nsource: Fixture\n",
                                     encoding="utf-8")
    (cards / "a\u00a0b.yaml").write_text("cards:\n  - {id: one, q: 'Which first?', a: One}\n"
                                         "  - {id: two, q: 'Which second?', a: Two}\n", encoding="utf-8")
    assert run(str(cards)).code == 0
    import_package(collection, tmp_path / "dist" / "spaces.apkg")
    text = (cards / "a\u00a0b.yaml").read_text(encoding="utf-8")
    (cards / "a\u00a0b.yaml").write_text(text.replace("  - {id: one, q: 'Which first?', a: One}\n", ""),
                                         encoding="utf-8")
    search = run(str(cards)).out.splitlines()[-1].strip()
    assert search == '"origin:re:(?-i)^a\\x{A0}b\\.yaml · one$" "deck:日本語_文法"'
    (found,) = collection.find_notes(search)
    assert collection.get_note(found)["Origin"] == "a\u00a0b.yaml · one"
    # Seven hundred files named in characters of four bytes each: the terms stay small enough.
    long_name = "\U00020000" * 60
    removed = [("one", f"{long_name}{number}.yaml") for number in range(700)] + [("one", "a\u00a0b.yaml")]
    search = manifest.removed_search(removed, ["日本語\u3000文法"])
    assert search.count('"origin:re:') == 4
    assert collection.find_notes(search) == [found]


def test_a_build_tells_moves_only_to_another_subdeck(tmp_path: Path) -> None:
    # A card moved to another file is updated by the import; a subdeck spelled in another case
    # is the same deck to Anki. --plan lists both.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    (cards / "alpha.yaml").rename(cards / "asia.yaml")
    beta = (cards / "beta.yaml").read_text(encoding="utf-8")
    (cards / "beta.yaml").write_text(beta.replace("subdeck: Beta", "subdeck: BETA"), encoding="utf-8")
    plan = run(str(cards), "--plan").out
    assert "  > capital-korea: alpha.yaml → asia.yaml" in plan
    assert '  > talks-month: subdeck "History::Beta" → "History::BETA"' in plan
    assert SUBDECK_MOVE_ADVICE not in plan
    result = run(str(cards))
    assert (result.code, result.out.splitlines()[1:]) == (0, [])


def test_a_card_given_the_text_of_a_removed_card_is_told(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    korea = "  - id: capital-korea\n    q: What is the capital of South Korea?\n    a: Seoul\n"
    # The card about China now asks what the removed card asked.
    edited = alpha.replace(korea, "").replace("What is the capital of China?\n    a: Beijing",
                                              "What is the capital of South Korea?\n    a: Seoul")
    (cards / "alpha.yaml").write_text(edited, encoding="utf-8")
    assert run(str(cards)).err == (
        f"{cards.as_posix()}/alpha.yaml:3:9: warning: card 'capital-china' now has the text 'capital-korea' "
        "had in the last build: its review history, which Anki keeps by id, goes with it; if the ids were "
        "swapped, give each card back its own\n")


def test_a_card_written_again_while_its_id_went_on_to_other_text_is_told(tmp_path: Path) -> None:
    # The card's note, and its history, would go to the question now under its id.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    korea = "    q: What is the capital of South Korea?\n    a: Seoul\n"
    edited = alpha.replace(korea, "    q: What is the capital of Mongolia?\n    a: Ulaanbaatar\n")
    (cards / "alpha.yaml").write_text(edited + "  - id: korea-again\n" + korea, encoding="utf-8")
    assert run(str(cards)).err == (
        f"{cards.as_posix()}/alpha.yaml:15:9: warning: card 'korea-again' has the text 'capital-korea' had "
        "in the last build, and 'capital-korea' now has another: its review history, which Anki keeps by id, "
        "goes with that one; if this card was 'capital-korea', give it that id back and the other card a "
        "new one\n")


@pytest.mark.parametrize("edit", ["twin-kept", "swapped", "kind-changed"])
def test_a_card_written_again_is_not_told_when_its_text_is_still_or_otherwise_accounted_for(
        edit: str, tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    korea = "    q: What is the capital of South Korea?\n    a: Seoul\n"
    if edit == "twin-kept":  # another card of the same text is still there: the new one copies it
        alpha += "  - id: korea-twin\n" + korea
        (cards / "alpha.yaml").write_text(alpha, encoding="utf-8")
    assert run(str(cards)).code == 0
    mongolia = "    q: What is the capital of Mongolia?\n    a: Ulaanbaatar\n"
    china = "    q: What is the capital of China?\n    a: Beijing\n"
    edited = {"twin-kept": alpha.replace(korea, mongolia, 1),
              "swapped": alpha.replace(korea, "KOREA").replace(china, korea).replace("KOREA", china),
              "kind-changed": alpha.replace(korea, korea + "    reverse: true\n", 1)}[edit]
    (cards / "alpha.yaml").write_text(edited + "  - id: korea-again\n" + korea, encoding="utf-8")
    told = run(str(cards), "--check").err.splitlines()
    warnings = [line.split(": warning: ")[1].split(":")[0] for line in told
                if ": warning: " in line and "(near-duplicate)" not in line]
    assert warnings == {
        "twin-kept": [],
        "swapped": ["card 'capital-korea' now has the text 'capital-china' had in the last build",
                    "card 'capital-china' now has the text 'capital-korea' had in the last build"],
        "kind-changed": ["card 'capital-korea' changed kind (basic → reversed)"]}[edit]


def test_a_removed_id_is_offered_back_to_one_card_the_closest(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    renamed = alpha.replace("id: capital-korea", "id: korea-capital")
    # Another new card asks the same, with another answer, and sorts first.
    (cards / "alpha.yaml").write_text(renamed + "  - id: a-korea-capital\n    q: What is the capital of "
                                      "South Korea?\n    a: Seoul, since 1948\n", encoding="utf-8")
    result = run(str(cards), "--check")
    assert [line for line in result.err.splitlines() if "whose id is gone" in line] == [
        f"{cards.as_posix()}/alpha.yaml:3:9: warning: card 'korea-capital' has the same text as "
        "'capital-korea', whose id is gone: Anki will add it as a new card, without the review history; "
        "give it back the id 'capital-korea' to keep it"]


def test_cards_of_the_same_text_given_new_ids_are_each_told_their_own(tmp_path: Path) -> None:
    cards = copy_deck("history", tmp_path)
    card = "  - id: {}\n    q: What does the word ubuntu mean?\n    a: Humanity\n"
    for name, card_id in (("alpha.yaml", "ubuntu-a"), ("beta.yaml", "ubuntu-b")):
        (cards / name).write_text((cards / name).read_text(encoding="utf-8") + card.format(card_id),
                                  encoding="utf-8")
    assert run(str(cards)).code == 0
    # Each is told the id its file's card had, whatever the new ids' order.
    for name, card_id, new_id in (("alpha.yaml", "ubuntu-a", "z-ubuntu"),
                                  ("beta.yaml", "ubuntu-b", "a-ubuntu")):
        text = (cards / name).read_text(encoding="utf-8")
        (cards / name).write_text(text.replace(f"id: {card_id}", f"id: {new_id}"), encoding="utf-8")
    told = [line.split(": warning: ")[1] for line in run(str(cards), "--check").err.splitlines()
            if "whose id is gone" in line]
    assert [line[:line.index(", whose")] for line in told] == [
        "card 'z-ubuntu' has the same text as 'ubuntu-a'",
        "card 'a-ubuntu' has the same text as 'ubuntu-b'"]


def test_a_card_that_takes_an_id_already_given_is_told_that_alone(tmp_path: Path) -> None:
    # Its text is another card's, but which card it is, is not known: the repeated id is the problem.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    taken = alpha.replace("id: capital-japan", "id: capital-china")
    (cards / "alpha.yaml").write_text(taken, encoding="utf-8")
    assert run(str(cards), "--check").err == (
        f"{cards.as_posix()}/alpha.yaml:9:9: error: card id 'capital-china' is used again (first at "
        f"{cards.as_posix()}/alpha.yaml:6); ids must be unique in the deck\n1 error; nothing was written\n")


def test_a_copy_pasted_above_and_reworded_is_told_when_its_card_was_edited_too(tmp_path: Path) -> None:
    # Neither is as it was: the one still asking the question is the card.
    cards = copy_deck("history", tmp_path)
    assert run(str(cards)).code == 0
    alpha = (cards / "alpha.yaml").read_text(encoding="utf-8")
    china = "  - id: capital-china\n    q: What is the capital of China?\n    a: Beijing\n"
    copy = china.replace("What is the capital of China?", "What is China's largest city?")
    copy = copy.replace("Beijing", "Shanghai")
    edited = alpha.replace(china, copy + china.replace("Beijing", "Beijing (北京)"))
    (cards / "alpha.yaml").write_text(edited, encoding="utf-8")
    assert run(str(cards), "--check").err.splitlines()[0] == (
        f"{cards.as_posix()}/alpha.yaml:6:9: error: card id 'capital-china' is used again: the card at "
        f"{cards.as_posix()}/alpha.yaml:9 had it in the last build, and keeps it; give this card an id of "
        "its own")


@pytest.mark.parametrize(("name", "deck_term"), [
    ('Search_deck *"1"*', '"deck:Search\\_deck \\*\\"1\\"\\*"'),
    # To Anki, "deck:current" is the deck selected, and "deck:filtered" the filtered decks.
    ("current", '"deck:curren_"'), ("Filtered", '"deck:Filtere_"')])
def test_removed_search_finds_only_the_removed_notes(name: str, deck_term: str, tmp_path: Path,
                                                     collection: Collection) -> None:
    # Anki's plain search takes "_" for any character and ignores case: "basic_one" would find all.
    # Another deck built by this program, with a card of the same file and id, is not searched.
    ids = ["basic_one", "basic-one", "BASIC_ONE", "basic.one", "basicXone"]
    for deck_id, deck_name in (("other", "Search_deck"), ("search", name)):
        cards = tmp_path / deck_id / "cards"
        cards.mkdir(parents=True)
        (cards / "deck.yaml").write_text(f"id: {deck_id}\nname: '{deck_name}'\nsource: Fixture\n",
                                         encoding="utf-8")
        (cards / "a_b.yaml").write_text("cards:\n" + "".join(
            f"  - {{id: {card_id}, q: 'Which {number} in {deck_id}?', a: '{number}'}}\n"
            for number, card_id in enumerate(ids)), encoding="utf-8")
        assert run(str(cards), "--out", str(tmp_path / "dist" / f"{deck_id}.apkg")).code == 0
        import_package(collection, tmp_path / "dist" / f"{deck_id}.apkg")
    collection.decks.select(collection.decks.id_for_name("Search_deck") or 0)  # the other deck, selected
    text = (cards / "a_b.yaml").read_text(encoding="utf-8")
    removed = "  - {id: basic_one, q: 'Which 0 in search?', a: '0'}\n"
    (cards / "a_b.yaml").write_text(text.replace(removed, ""), encoding="utf-8")
    plan = run(str(cards), "--plan", "--out", str(tmp_path / "dist" / "search.apkg"))
    search = plan.out.splitlines()[-1].strip()
    assert search == '"origin:re:(?-i)^a_b\\.yaml · basic_one$" ' + deck_term
    (found,) = collection.find_notes(search)
    assert collection.get_note(found)["Question"] == "Which 0 in search?"
