"""Every checked mistake, as a fixture folder beside the exact output it must produce."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studycards.package import note_guid
from tests.conftest import FIXTURES, PROJECT, copy_deck, run

INVALID = FIXTURES / "invalid"
CASES = sorted(path.name for path in INVALID.iterdir() if path.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_invalid_deck_reports_every_problem(case: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(INVALID / case / "cards", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    result = run()
    expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8")
    assert (result.code, result.out, result.err) == (1, "", expected)
    assert "Traceback" not in result.err
    assert not (tmp_path / "dist").exists()


def test_check_reports_the_same_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(INVALID / "many-problems" / "cards", tmp_path / "cards")
    monkeypatch.chdir(tmp_path)
    result = run("--check")
    expected = (INVALID / "many-problems" / "expected.txt").read_text(encoding="utf-8")
    assert (result.code, result.out, result.err) == (1, "", expected)


def test_failed_build_leaves_previous_package_intact(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    assert run(str(cards)).code == 0
    package = tmp_path / "dist" / "every-kind.apkg"
    before = package.read_bytes()
    (cards / "talks.yaml").write_text("cards:\n  - id: broken\n    q: No answer\n")
    result = run(str(cards))
    assert result.code == 1
    assert result.err == (f"{cards.as_posix()}/talks.yaml:2:5: error: card has no 'a'\n"
                          "1 error; nothing was written\n")
    assert package.read_bytes() == before
    assert sorted(path.name for path in package.parent.iterdir()) == [
        ".studycards-cache", "every-kind.apkg", "every-kind.html", "every-kind.manifest.json"]


def test_check_writes_nothing(tmp_path: Path) -> None:
    cards = copy_deck("every-kind", tmp_path)
    result = run(str(cards), "--check")
    assert (result.code, result.err) == (0, "")
    assert result.out == (f"checked {cards.as_posix()}: 6 notes, 8 cards, 2 subdecks, 0 warnings; "
                          "nothing was written\n")
    assert not (tmp_path / "dist").exists()


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = run("--no-such-option")
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines()[-1] == "build.py: error: unrecognized arguments: --no-such-option"


def test_help_documents_exit_codes() -> None:
    result = run("--help")
    assert result.code == 0
    printed = result.out
    assert "usage: build.py [-h]" in printed
    # The folder has one name throughout, as the description calls it.
    assert "[CARDS]\n" in printed and "\n  CARDS       the folder of YAML cards\n" in printed
    assert "Compile the YAML cards in CARDS" in printed
    assert "1  problems in the cards" in printed
    assert "2  usage error" in printed


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nowhere"))
    assert result.code == 1
    assert result.err == (f"{(tmp_path / 'nowhere').as_posix()}:1:1: error: no such folder: "
                          "expected a folder of YAML card files\n1 error; nothing was written\n")


MORE_DECK = "id: more\nname: More\nsource: S\n"


def deck_with_topic(tmp_path: Path, topic: str, lint: str = "") -> Path:
    """A cards folder: deck 'more' (``lint``: its lint settings, as indented lines) and topic.yaml."""
    return cards_folder(tmp_path, {"deck.yaml": MORE_DECK + (f"lint:\n{lint}" if lint else ""),
                                   "topic.yaml": topic})


def cards_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    """A cards folder holding ``files``: each name with its text."""
    cards = tmp_path / "cards"
    cards.mkdir()
    for name, text in files.items():
        (cards / name).parent.mkdir(parents=True, exist_ok=True)
        (cards / name).write_text(text, encoding="utf-8")
    return cards


@pytest.mark.parametrize(("cards_text", "message"), [
    ("cards: [cloze: '{{c1::Beijing}} hosted the talks']\n",
     "2:1:9: error: this card needs an id: one cannot be written into a card written as a bare "
     "'key: value' in a list; add 'id: ...' or use braces"),
    ("cards: [{id: x, q: Which?, a: This}, {id: x, q: Where?, a: There}]\n",
     "2:1:43: error: card id 'x' is used again (first at {file}:1); ids must be unique in the deck"),
    ('cards:\n  - id: sep\n    q: "Which city\\x1fhosted?"\n    a: Beijing\n',
     "2:3:8: error: control character U+001F is not allowed in text, not even as an escape"),
    ("cards:\n  - id: big\n    cloze: '{{c99999999999999999999::Beijing}} hosted'\n",
     "2:3:13: error: cloze deletion c99999999999999999999 is past the last number Anki takes: numbers go "
     "up to c65535"),
    # A c0 beside other numbers is never asked; a deletion of nothing (or of the invisible) is blank.
    ("cards:\n  - id: c\n    cloze: '{{c1::Cho}} met {{c0::Wang}}'\n",
     "2:3:29: error: cloze deletions are numbered from c1; c0 makes no card"),
    ("cards:\n  - id: c\n    cloze: 'Cho met {{c1::}} in {{c2::Beijing}}'\n",
     "2:3:21: error: cloze deletion '{{{{c1::}}}}' hides nothing: write the text to hide after '::'"),
    ("cards:\n  - id: c\n    cloze: '{{c1::::city}} hosted'\n",
     "2:3:13: error: cloze deletion '{{{{c1::::city}}}}' hides nothing: write the text to hide after '::'"),
    ('cards:\n  - id: c\n    q: "\\u200b"\n    a: Nothing\n', "2:3:8: error: 'q' is empty"),
    ("cards:\n  - id: c\n    q: Which?\n    a: This\n    tags: ['place::']\n",
     "2:5:12: error: tag 'place::' has an empty level; Anki would call it 'blank'"),
    ('subdeck: "Talks\\nSeoul"\ncards:\n  - {id: a, q: Which?, a: This}\n',
     "2:1:10: error: subdeck 'Talks\\nSeoul' has a tab or a line break, which Anki would drop"),
    # A comment in a list on one line hides its closing bracket: said so, at the bracket.
    ("cards:\n  - id: c\n    q: Which rank?\n    choices: [rank #1, rank #2]\n    a: rank\n",
     "2:4:14: error: invalid YAML: this bracket is not closed (at line 5, column 5: did not find expected "
     "',' or ']'); ' #' starts a comment, which hides the rest of that line: put the item in quotes"),
    # A bad item in a list spread over lines is told at the item: the bracket is closed after it.
    ("cards:\n  - id: a\n    q: Which city?\n    choices: [Seoul,\n      \"Beijing\" city, Tokyo]\n"
     "    a: Seoul\n",
     "2:5:17: error: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence that "
     "starts at line 4, column 14"),
    # A full-width colon inside Chinese text is punctuation: the hint is about the real slip.
    ("cards:\n  - id: a\n    a: b\n    q: \u738b\u6bc5\u8bf4\uff1a\u4f60\u597d\n  -id: c\n    q: d\n",
     "2:5:3: error: invalid YAML: did not find expected '-' indicator while parsing a block collection that "
     "starts at line 2, column 3; a list item's '-' needs a space after it ('- id: …', not '-id: …')"),
    # Look-alike and invisible characters: named.
    ("cards:\n  - id: a\n    q\uff1a Which?\n    a: This\n",
     "2:3:5: error: invalid YAML: could not find expected ':' while scanning a simple key; '\uff1a' is a "
     "full-width colon: a key needs ':' and a space"),
    ("cards:\n  - id: a\n    q: Which?\n    a: This\n    extra\u200b: More\n",
     "2:5:5: error: unknown key 'extra\\u200B' in card; did you mean 'extra'?"),
    # Told once: where the field is rendered, not again as Anki would join the cloze's math.
    ("cards:\n  - id: c\n    cloze: 'See \\\\(\\\\href{{x}}{{y}} {{c1::z}}\\\\)'\n",
     "2:3:21: error: math may not use \\href: in Anki, MathJax would make it a link, a style or HTML "
     "attributes"),
    # Longer than int() takes (4,300 digits): told, cut short.
    ("cards:\n  - id: big\n    cloze: '{{c" + "1" * 5000 + "::Beijing}} hosted'\n",
     "2:3:13: error: cloze deletion c" + "1" * 20 + "… is past the last number Anki takes: numbers go "
     "up to c65535"),
    ("subdeck: 'Talks::::Seoul'\ncards:\n  - {id: a, q: Which?, a: This}\n",
     "2:1:10: error: subdeck 'Talks::::Seoul' has an empty level; Anki would call it 'blank'"),
    ("subdeck: 'Talks:: Seoul'\ncards:\n  - {id: a, q: Which?, a: This}\n",
     "2:1:10: error: subdeck 'Talks:: Seoul' has a level, ' Seoul', that starts or ends with a space, "
     "which Anki would drop"),
    # The only deletion unclosed is told as such, not as no deletion at all.
    ("cards:\n  - id: c\n    cloze: 'Not a {{c1::zero-sum game.'\n",
     "2:3:19: error: cloze deletion '{{{{c1::' is not closed with '}}}}' or holds another deletion; "
     "deletions cannot be nested"),
    # A mistyped deletion beside a good one would be shown as typed, braces and all.
    *[(f"cards:\n  - id: c\n    cloze: 'Held in {typo}Beijing}}}} on {{{{c2::13 May}}}}'\n",
       f"2:3:21: error: cloze deletion '{typo.replace('{', '{{')}' is miswritten: "
       "Anki would show it as text; write '{{{{c' and a number, then '::', as in {{{{c1::answer}}}}")
      for typo in ("{{c1:", "{{C1::", "{c1::", "{{c::", "{{ c1 ::", "{{c1\uff1a\uff1a")],
    # Spaces pasted from a web page or typed on a phone look like spaces, but are not to YAML.
    *[(text, f"2:{place}: error: invalid YAML: {character} is not a space to YAML: replace it with a normal "
             "space")
      for text, place, character in (
          ("cards:\n  - id: a\n    q:\u00a0Which?\n    a: This\n", "3:7", "U+00A0 (no-break space)"),
          ("cards:\n  -\u00a0id: a\n    q: Which?\n    a: This\n", "2:4", "U+00A0 (no-break space)"),
          ("cards:\n  - id: a\n    q: Which?\n  \u3000a: This\n", "4:3", "U+3000 (ideographic space)"),
          ("cards:\n  - id: a\n   \u200bq: Which?\n    a: This\n", "3:4", "U+200B (zero width space)"))],
    # As wide as two spaces, and typed for two.
    ("cards:\n  - id: b\n\u3000  q: x\n    a: y\n",
     "2:3:1: error: invalid YAML: U+3000 (ideographic space) is not a space to YAML: replace it with two "
     "normal spaces"),
    # A comment on a block's first line is not its text.
    ("cards:\n  - id: a1\n    cloze: > # was {{c0:: x}}\n      {{c1::a}} and {{c0::\n      x}}\n",
     "2:3:12: error: cloze deletions are numbered from c1; c0 makes no card"),
    # Typed as well as the spaces, not in place of one: to be removed.
    ("cards:\n  - id: a\n    q: Which?\n\u00a0    a: This\n    extra: x\n",
     "2:4:1: error: invalid YAML: U+00A0 (no-break space) is not a space to YAML: remove it"),
    ("cards:\n  - id: talks-city\u200b\n    q: Which?\n    a: This\n",
     "2:2:9: error: id 'talks-city\\u200B' may hold only ASCII letters (a-z, A-Z), digits, '-', '_' and '.', "
     "and must start with a letter or digit"),
    # One parser skips it there, the other does not.
    ("cards:\n  - id: a\n\ufeff   q: Which?\n    a: This\n",
     "2:3:1: error: an invisible byte order mark (U+FEFF) starts this line: remove it"),
    # An empty cloze is a cloze card still: no talk of a missing q and a.
    ("cards:\n  - id: c\n    cloze: ''\n", "2:3:12: error: 'cloze' is empty"),
    ("cards:\n  - id: c\n    q: Which?\n    cloze: '{{c1::x}}'\n",
     "2:3:8: error: a cloze card takes no 'q': remove it, the text goes in 'cloze'"),
    ("cards:\n  - id: c\n    cloze: '{{c1::seen}} and {{c1,2::hidden}}'\n",
     "2:3:30: error: cloze deletion '{{{{c1,2::' names several cards: give each deletion one number, and "
     "write the text again for another card"),
    ("cards:\n  - id: c\n    q: Which?\n    a: This\n    tags:\n",
     "2:5:10: error: 'tags' must be a list, e.g. [people, place], not an empty value"),
    # A problem in one choice is reported at that choice.
    ("cards:\n  - id: c\n    q: Which?\n    choices:\n      - Seoul\n      - '[Beijing](notes/b.txt)'\n"
     "    a: Seoul\n",
     "2:6:9: error: a link may point only to an http(s) or mailto address, not 'notes/b.txt'"),
    ("cards:\n  - id: c\n    cloze: '{{c,1::hidden}} and {{c1::seen}}'\n",
     "2:3:13: error: cloze deletion '{{{{c,1::' names several cards: give each deletion one number, and "
     "write the text again for another card"),
    ("cards:\n  - id: c\n    cloze: '{{c1::image-occlusion:rect:left=.1}}'\n",
     "2:3:13: error: a deletion may not start with 'image-occlusion:': Anki would read it as a shape over "
     "an image and hide its text"),
    ("subdeck: 'Talks <img src=x>'\ncards:\n  - {id: a, q: Which?, a: This}\n",
     "2:1:10: error: subdeck 'Talks <img src=x>' holds '<', which some Anki versions would read as HTML; "
     "write it otherwise"),
    # An empty kind key on a card that has a question and an answer is only empty.
    ("cards:\n  - id: c\n    q: Who?\n    a: Cho\n    cloze:\n", "2:5:11: error: 'cloze' is empty"),
    ("cards:\n  - id: c\n    q: Who?\n    a: Cho\n    reverse:\n",
     "2:5:13: error: 'reverse' must be true or false, not an empty value"),
    # Only a key left without a value by a comma gets the comma hint.
    ("cards:\n  - {id: c, q: Who?, a: Cho, colour: red}\n",
     "2:2:30: error: unknown key 'colour' in card; expected one of: id, q, a, cloze, choices, reverse, "
     "typed, extra, source, sound, tags, lint-ignore"),
    ("cards:\n  - {id: c, q: Who came, in May 2024?, a: Cho}\n",
     "2:2:26: error: unknown key 'in May 2024?' in card; inside {{ }}, a comma ends a value: put text with "
     "commas in quotes"),
])
def test_more_mistakes(cards_text: str, message: str, tmp_path: Path) -> None:
    cards = cards_folder(tmp_path, {
        "deck.yaml": "id: more\nname: More\nsource: Fixture\n",
        "topic.yaml": cards_text,
    })
    result = run(str(cards))
    file = f"{cards.as_posix()}/topic.yaml"
    assert (result.code, result.out) == (1, "")
    assert result.err == f"{file}:{message[2:].format(file=file)}\n1 error; nothing was written\n"
    assert (cards / "topic.yaml").read_text(encoding="utf-8") == cards_text


@pytest.mark.parametrize("out", ["deck.html", "cards/deck.apkg"])
def test_out_must_be_a_package_outside_the_cards(out: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    copy_deck("every-kind", tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("--out", out)
    assert (result.code, result.out) == (2, "")
    assert result.err == (f"build.py: error: --out must name a .apkg file outside the cards folder, "
                          f"not '{out}'\n")


def test_out_under_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    for blocker in (tmp_path / "notes.txt", tmp_path / "gone"):
        result = run(str(PROJECT / "cards"), "--out", str(blocker / "dist" / "deck.apkg"))
        assert (result.code, result.out) == (1, "")
        assert result.err == (f"build.py: error: cannot write to {(blocker / 'dist').as_posix()}: "
                              f"{blocker.as_posix()} is not a folder\n")


def test_a_deck_file_named_deck_yml_is_told_to_be_renamed(tmp_path: Path) -> None:
    cards = cards_folder(tmp_path, {
        "deck.yml": "id: more\nname: More\nsource: S\n",
        "topic.yaml": "cards:\n  - {id: a, q: Which?, a: This}\n",
    })
    result = run(str(cards))
    assert result.err == (f"{cards.as_posix()}/deck.yml:1:1: error: the deck file must be named deck.yaml: "
                          "rename this file\n1 error; nothing was written\n")
    # Beside a deck.yaml, it is not read as a card file either.
    (cards / "deck.yaml").write_text("id: more\nname: More\nsource: S\n", encoding="utf-8")
    result = run(str(cards))
    assert result.err == (f"{cards.as_posix()}/deck.yml:1:1: error: the deck file must be named deck.yaml: "
                          "merge this file into it\n1 error; nothing was written\n")


def test_upper_case_suffixes_are_read_and_subfolders_are_told(tmp_path: Path) -> None:
    cards = cards_folder(tmp_path, {
        "deck.yaml": "id: more\nname: More\nsource: S\n",
        "Wang.YAML": "cards:\n  - {id: a, q: Which?, a: This}\n",
        "extra/more.yaml": "cards:\n  - {id: b, q: Where?, a: There}\n",
        "media/notes.txt": "not cards",
    })
    result = run(str(cards), "--check")
    assert result.err == (f"{cards.as_posix()}/extra:1:1: warning: card files in subfolders are not read: "
                          f"move them into {cards.as_posix()}\n")
    assert result.out.startswith(f"checked {cards.as_posix()}: 1 note, 1 card, ")


def test_a_value_cut_by_a_comment_is_told_in_card_files_and_deck_yaml(tmp_path: Path) -> None:
    cards = cards_folder(tmp_path, {
        "deck.yaml": "id: more\nname: Talks #1\nsource: S\n",
        "topic.yaml": "cards:\n  - id: a\n    q: Which issue did the editorial rank #1?\n"
                      "    a: North Korea\n",
    })
    result = run(str(cards), "--check")
    cut = ("warning: ' #' starts a comment, so the text from here on is not part of the value; put the whole "
           "value in quotes to keep it")
    assert result.err == (f"{cards.as_posix()}/deck.yaml:2:13: {cut}\n"
                          f"{cards.as_posix()}/topic.yaml:3:43: {cut}\n")
    assert result.out.endswith(", 2 warnings; nothing was written\n")


def topic_lines(tmp_path: Path, topic: str, *options: str) -> list[str]:
    """What a build (or a run with ``options``) of deck 'more' with this topic.yaml prints on stderr,
    each line, with the cards folder cut from the file's name."""
    cards = deck_with_topic(tmp_path, topic)
    return run(str(cards), *options).err.replace(f"{cards.as_posix()}/", "").splitlines()


MISWRITTEN = ("cloze deletion '{{c1:' is miswritten: Anki would show it as text; write '{{c' and a number, "
              "then '::', as in {{c1::answer}}")
NOT_CLOSED = ("cloze deletion '{{c1::' is not closed with '}}' or holds another deletion; deletions "
              "cannot be nested")


def test_every_problem_of_a_cloze_text_is_told_at_once_where_it_is(tmp_path: Path) -> None:
    assert topic_lines(tmp_path, "cards:\n  - id: c\n    cloze: |\n      Held in {{c1:Beijing}},\n"
                                 "      {{c0::x}} and {{c2::}}, {{c1:Seoul}}\n      then {{c3::open\n") == [
        f"topic.yaml:4:15: error: {MISWRITTEN}",
        "topic.yaml:5:7: error: cloze deletions are numbered from c1; c0 makes no card",
        "topic.yaml:5:21: error: cloze deletion '{{c2::}}' hides nothing: write the text to hide after '::'",
        "topic.yaml:6:12: error: " + NOT_CLOSED.replace("c1", "c3"),
        "4 errors; nothing was written"]


def test_words_told_apart_only_in_unicode_normal_form_are_placed_at_the_value(tmp_path: Path) -> None:
    # The second "é" is written decomposed: the card's text (NFC) holds the link target twice.
    error = ("topic.yaml:3:8: error: a link may point only to an http(s) or mailto address, not "
             "'caf%C3%A9.txt'")
    assert topic_lines(tmp_path, "cards:\n  - id: b\n    q: \"see [a](caf\u00e9.txt) and "
                                 "[b](cafe\u0301.txt)\"\n    a: y\n", "--check") == [
        error, error, "2 errors; nothing was written"]


def test_a_problem_is_placed_at_its_own_words_not_at_the_same_words_before_them(tmp_path: Path) -> None:
    # "{{c1::" and "{{c1:" also start the good deletion above the bad one; "\\href" written twice
    # cannot be told apart from the text, so it is told at the value's start.
    lines = topic_lines(tmp_path, "cards:\n  - id: one\n    cloze: |\n      Fine {{c1::ok}} here.\n"
                                  "      Then {{c1::unclosed here.\n  - id: two\n    cloze: |\n"
                                  "      Fine {{c1::ok}} here.\n      And {{c1:bad}} here.\n"
                                  "  - id: three\n    q: Which?\n    a: |\n      Code `\\href` here.\n"
                                  "      Then \\(\\href{x}{y}\\) here.\n", "--check")
    assert [line for line in lines if "error" in line] == [
        f"topic.yaml:5:12: error: {NOT_CLOSED}",
        f"topic.yaml:9:11: error: {MISWRITTEN}",
        "topic.yaml:12:8: error: math may not use \\href: in Anki, MathJax would make it a link, a style or "
        "HTML attributes",
        "3 errors; nothing was written"]


def test_braces_that_are_no_deletion_are_left_alone(tmp_path: Path) -> None:
    # Without a number, one colon is other text: a format string, a path.
    assert topic_lines(tmp_path, "cards:\n  - id: a\n    cloze: \"In Python, `'{{c:>10}}'.format(c=1)` pads "
                                 "{{c1::one value}}; a drive {{C:\\\\Users}} and {{ c: x }}.\"\n",
                       "--check") == []


def test_a_key_given_twice_is_told_with_the_files_other_problems(tmp_path: Path) -> None:
    assert topic_lines(tmp_path, "cards:\n  - id: one\n    cloze: 'Held in {{c1:Beijing}}, {{c2::May}}'\n"
                                 "  - id: two\n    q: What?\n    q: Again?\n    a: This\n"
                                 "  - id: three\n    q: Where?\n") == [
        f"topic.yaml:3:21: error: {MISWRITTEN}",
        "topic.yaml:6:5: error: key 'q' is given twice in this mapping (first at line 5); the first value "
        "would be lost",
        "topic.yaml:8:5: error: card has no 'a'",
        "3 errors; nothing was written"]


def test_a_card_written_without_its_dash_is_left_out_whole(tmp_path: Path) -> None:
    # Its keys are not the card's above: no false problems there; a key it repeats itself is told.
    new_card = ("topic.yaml:5:5: error: key 'id' is given twice in this mapping (first at line 2); the first "
                "value would be lost; if a new card starts here, put '- ' before its first key")
    (tmp_path / "cloze").mkdir()
    (tmp_path / "tags").mkdir()
    assert topic_lines(tmp_path / "cloze", "cards:\n  - id: a\n    q: x\n    a: y\n    id: b\n"
                                           "    cloze: 'z {{c1::w}}'\n") == [new_card,
                                                                           "1 error; nothing was written"]
    assert topic_lines(tmp_path / "tags", "cards:\n  - id: a\n    q: x\n    a: y\n    id: b\n    q: z\n"
                                          "    a: w\n    tags: [t]\n    tags: [u]\n") == [
        new_card, "topic.yaml:9:5: error: key 'tags' is given twice in this mapping (first at line 8); the "
                  "first value would be lost", "2 errors; nothing was written"]


def test_a_deletion_outside_cloze_is_told_where_it_would_show_as_written(tmp_path: Path) -> None:
    cards = deck_with_topic(tmp_path, "cards:\n"
                            "  - {id: a, q: 'Held in {{c1::Beijing}}', a: Beijing, "
                            "choices: ['{{c2::Seoul}}', Beijing]}\n"
                            "  - id: b\n    cloze: 'Held in {{c1::Beijing}}'\n"
                            "    extra: 'Not {{c2::Seoul}}'\n    source: 'See {{c3::this}}'\n"
                            "  - {id: c, q: 'Set {c: c > 0} in {{c1:x}}', a: Positive numbers}\n")
    result = run(str(cards), "--check")
    shown = "is shown as written: a deletion hides text only in 'cloze', a cloze card's text"
    assert result.err == (f"{cards.as_posix()}/topic.yaml:2:25: warning: '{{{{c1::' in 'q' {shown}\n"
                          f"{cards.as_posix()}/topic.yaml:2:65: warning: '{{{{c2::' in 'choices' {shown}\n"
                          f"{cards.as_posix()}/topic.yaml:5:17: warning: '{{{{c2::' in 'extra' {shown}\n"
                          f"{cards.as_posix()}/topic.yaml:6:18: warning: '{{{{c3::' in 'source' {shown}\n")
    assert result.out.endswith(": 3 notes, 3 cards, 0 subdecks, 4 warnings; nothing was written\n")


def test_a_problem_in_the_decks_default_source_is_reported_once_at_deck_yaml(tmp_path: Path) -> None:
    cards = cards_folder(tmp_path, {
        "deck.yaml": 'id: more\nname: More\nsource: "[notes](notes/article.txt)"\n',
        "topic.yaml": "cards:\n  - {id: a, q: Which?, a: This}\n"
                      "  - {id: b, q: Where?, a: There}\n"
                      "  - {id: c, q: Who?, a: Cho, source: Its own}\n",
    })
    result = run(str(cards))
    assert result.err == (f"{cards.as_posix()}/deck.yaml:3:9: error: a link may point only to an http(s) or "
                          "mailto address, not 'notes/article.txt'\n1 error; nothing was written\n")


def test_numbers_too_long_for_int_are_told_or_read_as_anki_reads_them(tmp_path: Path) -> None:
    # "c000…01" is card 1 to Anki, however many zeros; a setting of thousands of digits is refused.
    topic = "cards:\n  - id: c\n    cloze: '{{c" + "0" * 5000 + "1::Beijing}} hosted'\n"
    cards = deck_with_topic(tmp_path, topic, lint="  max-answer-words: " + "9" * 5000 + "\n")
    result = run(str(cards))
    assert result.err == (f"{cards.as_posix()}/deck.yaml:5:21: error: 'max-answer-words' must have at most "
                          "9 digits, not 5000\n1 error; nothing was written\n")
    # Leading zeros do not count.
    (cards / "deck.yaml").write_text(MORE_DECK + "lint:\n  max-answer-words: 0001234567890\n",
                                     encoding="utf-8")
    assert run(str(cards)).err == (f"{cards.as_posix()}/deck.yaml:5:21: error: 'max-answer-words' must have "
                                   "at most 9 digits, not 10\n1 error; nothing was written\n")
    (cards / "deck.yaml").write_text(MORE_DECK + "lint:\n  max-answer-words: " + "0" * 20 + "12\n",
                                     encoding="utf-8")
    result = run(str(cards))
    assert (result.code, result.err) == (0, "")
    assert result.out.endswith(": 1 note, 1 card, 0 subdecks; first build\n")


def test_a_line_break_before_a_word_is_refused_only_inside_math(tmp_path: Path) -> None:
    topic = ('cards:\n  - id: a\n    q: "Para one\\n\\nPara two with \\\\(x^2\\\\)?"\n'
             '    a: "\\\\[a \\nabla b\\\\] then\\nNext"\n')
    cards = deck_with_topic(tmp_path, topic)
    result = run(str(cards), "--check")
    assert result.err == (f"{cards.as_posix()}/topic.yaml:4:14: error: '\\nabla' in double quotes: YAML "
                          "reads '\\n' as a line break; write '\\\\nabla', or put the whole value in single "
                          "quotes\n1 error; nothing was written\n")


def test_a_hint_may_hold_a_double_colon(tmp_path: Path) -> None:
    # Anki reads everything after a deletion's second '::' as its hint: "[std::vector]".
    topic = "cards:\n  - id: a\n    cloze: 'A {{c1::vector::std::vector}} grows.'\n"
    cards = deck_with_topic(tmp_path, topic)
    result = run(str(cards), "--check")
    assert (result.code, result.err) == (0, "")


def test_a_limit_of_zero_is_refused(tmp_path: Path) -> None:
    # Every card would be flagged: an answer of one word is over a limit of 0.
    cards = deck_with_topic(tmp_path, "cards:\n  - {id: a, q: Which?, a: This}\n",
                            lint="  max-deletions-per-card: 000\n")
    assert run(str(cards), "--check").err == (f"{cards.as_posix()}/deck.yaml:5:27: error: "
                                              "'max-deletions-per-card' must be at least 1\n"
                                              "1 error; nothing was written\n")


def test_an_escape_before_letters_in_double_quotes_is_told_at_the_backslash(tmp_path: Path) -> None:
    # "\theta" in double quotes is a tab and "heta": LaTeX and paths, silently changed. A line
    # break before a word ("one\ntwo") is as meant, unless the value holds math ("\neq", "\nu").
    cards = deck_with_topic(tmp_path, 'cards:\n  - id: a\n    q: "Which angle is \\\\(\\theta\\\\)?"\n'
                                      '    a: "One\\ntwo"\n  - id: b\n    q: "What does \\alpha mean?"\n'
                                      '    a: "Is \\\\(x \\neq y\\\\)? tab\\t!"\n')
    result = run(str(cards), "--check")
    file = f"{cards.as_posix()}/topic.yaml"
    assert result.err == (
        f"{file}:3:27: error: '\\theta' in double quotes: YAML reads '\\t' as a tab; write '\\\\theta', or "
        "put the whole value in single quotes\n"
        f"{file}:6:19: error: '\\alpha' in double quotes: YAML reads '\\a' as a bell character; write "
        "'\\\\alpha', or put the whole value in single quotes\n"
        f"{file}:7:17: error: '\\neq' in double quotes: YAML reads '\\n' as a line break; write "
        "'\\\\neq', or put the whole value in single quotes\n"
        "3 errors; nothing was written\n")


def test_a_deck_id_that_could_share_note_identities_is_told(tmp_path: Path) -> None:
    # A note's GUID comes from "<deck id>__<card id>": one string, two readings.
    assert note_guid("lang__es", "ser") == note_guid("lang", "es__ser")
    cards = cards_folder(tmp_path, {"deck.yaml": "id: lang__es\nname: Lang\nsource: S\n",
                                    "topic.yaml": "cards:\n  - {id: ser, q: To be?, a: Ser}\n"})
    result = run(str(cards), "--strict")  # a note: a deck already imported under this id must build
    assert result.err == (f"{cards.as_posix()}/deck.yaml:1:5: note: deck id 'lang__es' has '__': each "
                          "note's identity joins the deck id and the card id with '__', so a card of another "
                          "deck could take one of this deck's notes; change the id before the deck's first "
                          "import\n")
    assert result.code == 0
    # A final "_" is no such risk: no card id starts with "_".
    (cards / "deck.yaml").write_text("id: lang_\nname: Lang\nsource: S\n", encoding="utf-8")
    assert "'__'" not in run(str(cards), "--check").err


def in_case(kind: str, name: str, first: str, first_at: str) -> str:
    """The message for a name that differs only in case from one seen first."""
    return (f"{kind} '{name}' differs only in case from '{first}' ({first_at}); Anki would merge them: "
            "pick one spelling")


def test_names_differing_in_case_at_any_level(tmp_path: Path) -> None:
    cards = cards_folder(tmp_path, {
        "deck.yaml": "id: case\nname: Case\nsource: Fixture\n",
        "a.yaml": "subdeck: Talks::Seoul\ntags: [Speaker::cho]\ncards:\n"
                  "  - id: a\n    q: Which?\n    a: This\n"
                  "  - id: b\n    q: Where?\n    a: There\n",
        "b.yaml": "subdeck: talks::Beijing\ncards:\n"
                  "  - id: c\n    q: Who?\n    a: Them\n    tags: [speaker::wang]\n"
                  "  - id: d\n    q: When?\n    a: Then\n",
    })
    result = run(str(cards))
    first, second = f"{cards.as_posix()}/a.yaml", f"{cards.as_posix()}/b.yaml"
    assert result.code == 1
    assert result.err == (
        f"{second}:1:10: error: {in_case('subdeck', 'talks', 'Talks', f'{first}:1')}\n"
        f"{second}:6:12: error: {in_case('tag', 'speaker', 'Speaker', f'{first}:2')}\n"
        "2 errors; nothing was written\n")


def test_a_tag_differing_in_case_is_reported_where_it_is_written(tmp_path: Path) -> None:
    # The file's tag, not the card's own tags list; and the first spelling's own line.
    cards = cards_folder(tmp_path, {
        "deck.yaml": "id: case\nname: Case\nsource: Fixture\n",
        "a.yaml": "cards:\n  - id: a\n    q: Which?\n    a: This\n    tags: [people]\n"
                  "  - id: b\n    q: Where?\n    a: There\n    tags: [people, Place]\n",
        "b.yaml": "tags: [place]\ncards:\n  - id: c\n    q: Who?\n    a: Them\n"
                  "    tags: [person]\n",
    })
    result = run(str(cards))
    first = f"{cards.as_posix()}/a.yaml:9"
    assert result.err == (f"{cards.as_posix()}/b.yaml:1:8: error: {in_case('tag', 'place', 'Place', first)}\n"
                          "1 error; nothing was written\n")


def test_a_card_without_an_id_has_its_names_checked_in_file_order(tmp_path: Path) -> None:
    # It gets its id after every file is read, but its tag is the first spelling: the later
    # card is the one told, as when deck.yaml is broken (below).
    cards = cards_folder(tmp_path, {
        "deck.yaml": "id: case\nname: Case\nsource: Fixture\n",
        "a.yaml": "cards:\n  - q: Which city hosted the talks?\n    a: Beijing\n    tags: [Place]\n",
        "b.yaml": "cards:\n  - id: b\n    q: When?\n    a: May\n    tags: [place]\n",
    })
    result = run(str(cards))
    first = f"{cards.as_posix()}/a.yaml:4"
    assert result.err == (f"{cards.as_posix()}/b.yaml:5:12: error: "
                          f"{in_case('tag', 'place', 'Place', first)}\n1 error; nothing was written\n")


def test_with_deck_yaml_broken_names_are_still_checked_in_file_order(tmp_path: Path) -> None:
    # A card without an id waits for one in a normal build; here it is checked where it stands,
    # so the first spelling of a tag is the one in the first card.
    cards = cards_folder(tmp_path, {
        "deck.yaml": "name: No id\n",
        "a.yaml": "cards:\n  - q: Which?\n    a: This\n    tags: [Foo]\n"
                  "  - id: later\n    q: Where?\n    a: There\n    tags: [foo]\n",
    })
    result = run(str(cards))
    file = f"{cards.as_posix()}/a.yaml"
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"{file}:8:12: error: {in_case('tag', 'foo', 'Foo', f'{file}:4')}\n"
        f"{cards.as_posix()}/deck.yaml:1:1: error: deck.yaml has no 'id'\n"
        "2 errors; nothing was written\n")
