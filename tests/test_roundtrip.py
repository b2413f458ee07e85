"""A fixture deck with every kind, built and imported by the official Anki engine."""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection

from tests.conftest import copy_deck, import_package, run, without_style


def build_every_kind(tmp_path: Path) -> Path:
    cards = copy_deck("every-kind", tmp_path)
    package = tmp_path / "every-kind.apkg"
    result = run(str(cards), "--out", str(package))
    assert (result.code, result.err) == (0, "")
    assert result.out == f"built {package.as_posix()}: 6 notes, 8 cards, 2 subdecks; first build\n"
    return package


def note_of(collection: Collection, card_id: str):
    (note_id,) = collection.find_notes(f'"origin:*· {card_id}"')
    return collection.get_note(note_id)


def test_counts_per_kind(tmp_path: Path, collection: Collection) -> None:
    log = import_package(collection, build_every_kind(tmp_path))
    assert len(log.new) == 6
    assert (len(log.updated), len(log.duplicate), len(log.conflicting)) == (0, 0, 0)
    per_type = {}
    for name in ("Basic", "Reversed", "Cloze", "Multiple choice", "Typed answer"):
        notes = collection.find_notes(f'"note:studycards {name}"')
        cards = collection.find_cards(f'"note:studycards {name}"')
        per_type[name] = (len(notes), len(cards))
    assert per_type == {"Basic": (2, 2), "Reversed": (1, 2), "Cloze": (1, 2),
                        "Multiple choice": (1, 1), "Typed answer": (1, 1)}


def test_decks_and_tags(tmp_path: Path, collection: Collection) -> None:
    import_package(collection, build_every_kind(tmp_path))
    names = sorted(deck.name for deck in collection.decks.all_names_and_ids())
    assert names == ["Default", "Every kind", "Every kind::People", "Every kind::The talks"]
    assert sorted(note_of(collection, "talks-city").tags) == ["place", "talks"]
    assert sorted(note_of(collection, "wang-principle").tags) == ["people", "speaker::wang"]
    assert note_of(collection, "yaml-text").tags == []
    city_card = note_of(collection, "talks-city").cards()[0]
    assert collection.decks.name(city_card.did) == "Every kind::The talks"
    assert collection.decks.name(note_of(collection, "yaml-text").cards()[0].did) == "Every kind"
    description = collection.decks.by_name("Every kind")["desc"]
    assert description == "A fixture deck with one card of each kind."


def test_a_subdeck_two_levels_down_keeps_the_description(tmp_path: Path, collection: Collection) -> None:
    # Without its middle level in the package, Anki made the levels up itself on import, and
    # the deck's own description was lost.
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "deck.yaml").write_text("id: nested\nname: Talks\ndescription: About the talks.\nsource: S\n",
                                     encoding="utf-8")
    (cards / "people.yaml").write_text("subdeck: People::Officials\ncards:\n  - {id: cho, q: Who?, a: Cho}\n",
                                       encoding="utf-8")
    assert run(str(cards), "--out", str(tmp_path / "deck.apkg")).code == 0
    import_package(collection, tmp_path / "deck.apkg")
    names = sorted(deck.name for deck in collection.decks.all_names_and_ids())
    assert names == ["Default", "Talks", "Talks::People", "Talks::People::Officials"]
    assert collection.decks.by_name("Talks")["desc"] == "About the talks."


def test_scalars_stay_as_written(tmp_path: Path, collection: Collection) -> None:
    import_package(collection, build_every_kind(tmp_path))
    note = note_of(collection, "yaml-text")
    assert (note["Answer"], note["Extra"]) == ("2024-05-13", "yes")


def test_rendered_basic(tmp_path: Path, collection: Collection) -> None:
    import_package(collection, build_every_kind(tmp_path))
    card = note_of(collection, "talks-city").cards()[0]
    assert card.question().startswith("<style>.card {")
    assert without_style(card.question()) == (
        '<div class="question">In which city did the two foreign ministers meet?</div>')
    assert without_style(card.answer()) == (
        '<div class="back"><div class="question">In which city did the two foreign ministers '
        'meet?</div>\n<hr id="answer">\n<div class="answer">Beijing</div>\n'
        '<div class="extra">The first visit in more than six years.</div>\n\n'
        '<div class="meta"><span class="source">¶1</span>'
        '<span class="origin mathjax_ignore">talks.yaml · talks-city</span></div></div>')


def test_rendered_reversed(tmp_path: Path, collection: Collection) -> None:
    import_package(collection, build_every_kind(tmp_path))
    forward, reverse = sorted(note_of(collection, "who-is-cho").cards(), key=lambda c: c.ord)
    assert without_style(forward.question()) == '<div class="question">Cho Tae-yul</div>'
    assert without_style(reverse.question()) == (
        "<div class=\"question\">South Korea's foreign minister</div>")
    assert '<div class="answer">Cho Tae-yul</div>' in without_style(reverse.answer())


def test_rendered_cloze(tmp_path: Path, collection: Collection) -> None:
    import_package(collection, build_every_kind(tmp_path))
    first, second = sorted(note_of(collection, "cho-zero-sum").cards(), key=lambda c: c.ord)
    assert without_style(first.question()) == (
        '<div class="question">Cho said the two relationships are not a '
        '<span class="cloze" data-cloze="zero&#x2D;sum" data-ordinal="1">[...]</span> game, '
        'nor <span class="cloze-inactive" data-ordinal="2">a rivalry</span>.</div>')
    assert without_style(second.question()) == (
        '<div class="question">Cho said the two relationships are not a '
        '<span class="cloze-inactive" data-ordinal="1">zero-sum</span> game, nor '
        '<span class="cloze" data-cloze="a&#x20;rivalry" data-ordinal="2">[one word or two]</span>'
        ".</div>")
    assert '<span class="cloze" data-ordinal="1">zero-sum</span>' in first.answer()
    assert '<span class="source">Fixture source</span>' in first.answer()


def test_rendered_multiple_choice(tmp_path: Path, collection: Collection) -> None:
    import_package(collection, build_every_kind(tmp_path))
    card = note_of(collection, "talks-city-choice").cards()[0]
    choices = ('<ol class="choices"><li>Seoul</li><li class="correct">Beijing</li>'
               "<li>Tokyo</li><li>Washington</li></ol>")
    assert without_style(card.question()) == (
        '<div class="question">Where did the talks take place?</div>\n'
        f'<div class="front">{choices}</div>')
    answer = without_style(card.answer())
    assert answer.startswith(
        '<div class="back"><div class="question">Where did the talks take place?</div>\n'
        f'{choices}\n<hr id="answer">\n<div class="answer">Beijing</div>')
    # The stylesheet marks the right choice on the back only.
    assert ".back .choices li.correct" in card.answer()


def test_rendered_typed(tmp_path: Path, collection: Collection) -> None:
    import_package(collection, build_every_kind(tmp_path))
    card = note_of(collection, "wang-principle").cards()[0]
    assert without_style(card.question()) == (
        '<div class="question">Which principle did Wang Yi ask Seoul to conform with?</div>\n'
        "[[type:Answer]]")
    assert '<hr id="answer">\n[[type:Answer]]' in card.answer()
    assert note_of(collection, "wang-principle")["Answer"] == "One China"
