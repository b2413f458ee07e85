"""Each lint rule fires on a bad card with its exact line, and stays quiet on a near miss."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studycards.lint import RULE_IDS, RULES, rules_markdown
from studycards.reader import Mapping, Scalar, read_text
from tests.conftest import PROJECT, run

DECK = "id: lint\nname: Lint\nsource: Fixture\n"

# rule id, cards that trigger it, the warning (after "cards/topic.yaml:"), cards that nearly do.
CASES = [
    ("long-answer",
     "  - id: c\n    q: How did they meet?\n    a: The two ministers met in Beijing, the Chinese "
     "capital, on a Monday in the middle of May 2024\n",
     "4:8: warning: answer has 18 words (limit 12); shorten it and move context to 'extra'",
     "  - id: c\n    q: How did they meet?\n    a: In Beijing, the Chinese capital, on Monday 13 May "
     "2024 at noon\n"),
    ("multi-sentence-answer",
     "  - id: c\n    q: How long since the last talks?\n    a: Seven months. It was the first visit "
     "since 2017.\n",
     "4:8: warning: answer has more than one sentence; make one card per fact",
     "  - id: c\n    q: Which country did the ambassador serve?\n    a: The P.R. China\n"),
    ("enumeration-answer",
     "  - id: c\n    q: Which capitals?\n    a: Seoul, Beijing and Tokyo\n",
     "4:8: warning: answer is a list of 3 items; make one card or cloze per item",
     "  - id: c\n    q: Which two capitals?\n    a: Seoul and Beijing\n"),
    ("enumeration-question",
     "  - id: c\n    q: List the countries at the summit.\n    a: Japan\n",
     "3:8: warning: question asks for a list; ask for one item per card (or use a cloze per item)",
     "  - id: c\n    q: Which listed company was named?\n    a: None\n"),
    ("yes-no-question",
     "  - id: c\n    q: Did Wang mention Taiwan?\n    a: 'Yes'\n",
     "3:8: warning: yes/no question; ask for the fact itself so the answer is not a coin toss",
     "  - id: c\n    q: Is there a name for the principle Wang asked Seoul to respect?\n"
     "    a: One China\n"),
    ("answer-in-question",
     "  - id: c\n    q: Which Chinese city, Beijing or Shanghai, hosted the talks?\n    a: Beijing\n",
     "4:8: warning: the question already contains the answer's words; reword it so the answer is "
     "not given away",
     "  - id: c\n    q: Which Chinese city hosted the talks?\n    a: Beijing\n"),
    ("near-duplicate",
     "  - id: c\n    q: Which city hosted the talks?\n    a: Beijing\n"
     "  - id: d\n    q: The talks were hosted by which city?\n    a: Beijing\n",
     "6:8: warning: question is nearly the same as 'c' (cards/topic.yaml:2); merge them or make "
     "them differ",
     "  - id: c\n    q: Which city hosted the talks?\n    a: Beijing\n"
     "  - id: d\n    q: Which city hosted the summit?\n    a: Seoul\n"),
    ("conflicting-answers",
     "  - id: c\n    q: Where did they meet?\n    a: Beijing\n"
     "  - id: d\n    q: Where did they meet?\n    a: Seoul\n",
     "7:8: warning: the same question as 'c' (cards/topic.yaml:2) has a different answer",
     "  - id: c\n    q: Where did they meet?\n    a: Beijing\n"
     "  - id: d\n    q: Where did they sign?\n    a: Seoul\n"),
    ("cloze-hint-is-answer",
     "  - id: c\n    cloze: Not a {{c1::zero-sum::Zero-sum}} relationship.\n",
     "3:12: warning: the hint of c1 is its answer",
     "  - id: c\n    cloze: Not a {{c1::zero-sum::term}} relationship.\n"),
    ("too-many-deletions",  # c01 is c1 to Anki
     "  - id: c\n    cloze: '{{c1::Cho}} met {{c01::Wang}} in {{c001::Beijing}}.'\n",
     "3:12: warning: c1 hides 3 pieces on one card (limit 2); give each its own number",
     "  - id: c\n    cloze: '{{c1::Cho}} met {{c2::Wang}} in {{c3::Beijing}}.'\n"),
    ("time-relative",
     "  - id: c\n    q: Who is currently South Korea's foreign minister?\n    a: Cho Tae-yul\n",
     "3:8: warning: 'currently' goes stale; anchor it to a date (e.g. 'in May 2024')",
     "  - id: c\n    q: Who was South Korea's foreign minister in May 2024, currently?\n"
     "    a: Cho Tae-yul\n"),
    ("vague-opener",
     "  - id: c\n    q: Tell me about Cho's visit.\n    a: It went well\n",
     "3:8: warning: vague question; ask for one precise fact with one right answer",
     "  - id: c\n    q: What did Cho tell Wang about defectors?\n    a: Seoul's concern\n"),
]


def write_deck(root: Path, cards: str, deck: str = DECK) -> Path:
    folder = root / "cards"
    folder.mkdir()
    (folder / "deck.yaml").write_text(deck, encoding="utf-8")
    (folder / "topic.yaml").write_text("cards:\n" + cards, encoding="utf-8")
    return folder


def lint(root: Path, monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[int, str]:
    monkeypatch.chdir(root)
    result = run("--lint", *options)
    return result.code, result.err


@pytest.mark.parametrize(("rule", "failing", "warning", "near_miss"), CASES, ids=[case[0] for case in CASES])
def test_rule_fires(rule: str, failing: str, warning: str, near_miss: str, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path, failing)
    assert lint(tmp_path, monkeypatch) == (0, f"cards/topic.yaml:{warning} ({rule})\n")


@pytest.mark.parametrize(("rule", "failing", "warning", "near_miss"), CASES, ids=[case[0] for case in CASES])
def test_rule_near_miss_is_quiet(rule: str, failing: str, warning: str, near_miss: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path, near_miss)
    assert lint(tmp_path, monkeypatch) == (0, "")


# Good cards that a rule once warned about, each named by that rule.
GOOD_CARDS = [
    ("enumeration-answer: one number", "  - id: c\n    q: How fast is light, in metres a second?\n"
                                       "    a: '299,792,458'\n"),
    ("enumeration-answer: one vector", "  - id: c\n    q: Which unit vector points along z?\n"
                                       "    a: (0, 0, 1)\n"),
    ("multi-sentence-answer: Dr.", "  - id: c\n    q: Who wrote The Cat in the Hat?\n    a: Dr. Seuss\n"),
    ("multi-sentence-answer: St.", "  - id: c\n    q: Where does the Gateway Arch stand?\n"
                                   "    a: St. Louis, Missouri\n"),
    ("time-relative: a quoted word", '  - id: c\n    q: What is the Korean word for "today"?\n    a: 오늘\n'),
    ("time-relative: a vocabulary answer", "  - id: c\n    q: What does 지금 mean?\n    a: now\n"),
    ("conflicting-answers: a negation", "  - id: c\n    q: Which particle carries a charge?\n"
                                        "    a: The electron\n"
                                        "  - id: d\n    q: Which particle carries no charge?\n"
                                        "    a: The neutron\n"),
    ("conflicting-answers: other deletions",
     "  - id: c\n    cloze: '{{c1::Paris}} is the capital of France.'\n"
     "  - id: d\n    cloze: 'Paris is the capital of {{c1::France}}.'\n"),
]


@pytest.mark.parametrize(("case", "cards"), GOOD_CARDS, ids=[case for case, _ in GOOD_CARDS])
def test_good_cards_are_quiet(case: str, cards: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path, cards)
    assert lint(tmp_path, monkeypatch) == (0, "")


def test_missing_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path, "  - id: c\n    q: Which month?\n    a: May\n"
                         "  - id: d\n    q: Which year?\n    a: '2024'\n    source: ¶1\n",
               deck="id: lint\nname: Lint\n")
    assert lint(tmp_path, monkeypatch) == (
        0, "cards/topic.yaml:2:9: warning: card has no source; add 'source' (or a default in "
           "deck.yaml) (missing-source)\n")


def test_every_rule_has_a_case() -> None:
    assert sorted([case[0] for case in CASES] + ["missing-source"]) == sorted(RULE_IDS)


def test_strict_turns_warnings_into_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path, "  - id: c\n    q: Tell me about the visit.\n    a: It went well\n")
    monkeypatch.chdir(tmp_path)
    built = run()
    assert built.code == 0
    assert (tmp_path / "dist" / "lint.apkg").exists()
    package = (tmp_path / "dist" / "lint.apkg").read_bytes()
    strict = run("--strict")
    assert (strict.code, strict.out) == (1, "")
    assert strict.err == ("cards/topic.yaml:3:8: warning: vague question; ask for one precise fact with "
                          "one right answer (vague-opener)\n0 errors, 1 warning, which --strict counts as an "
                          "error; nothing was written\n")
    assert (tmp_path / "dist" / "lint.apkg").read_bytes() == package
    assert run("--lint", "--strict").code == 1


def test_deck_config_disables_rules_and_sets_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deck = DECK + "lint:\n  disable: [vague-opener]\n  max-answer-words: 3\n  max-deletions-per-card: 1\n"
    write_deck(tmp_path, "  - id: c\n    q: Tell me about the visit.\n    a: It went rather well\n"
                         "  - id: d\n    cloze: '{{c1::Cho}} met {{c1::Wang}}.'\n", deck=deck)
    assert lint(tmp_path, monkeypatch) == (0, (
        "cards/topic.yaml:4:8: warning: answer has 4 words (limit 3); shorten it and move context "
        "to 'extra' (long-answer)\n"
        "cards/topic.yaml:6:12: warning: c1 hides 2 pieces on one card (limit 1); give each its own "
        "number (too-many-deletions)\n"))


def test_card_silences_one_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path, "  - id: c\n    q: Tell me about Seoul, Beijing and Tokyo.\n"
                         "    a: Seoul, Beijing and Tokyo\n    lint-ignore: [enumeration-answer]\n")
    assert lint(tmp_path, monkeypatch) == (0, (
        "cards/topic.yaml:3:8: warning: vague question; ask for one precise fact with one right "
        "answer (vague-opener)\n"
        "cards/topic.yaml:4:8: warning: the question already contains the answer's words; reword it "
        "so the answer is not given away (answer-in-question)\n"))


def test_unknown_rule_names_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path, "  - id: c\n    q: Which city?\n    a: Beijing\n    lint-ignore: [long-answers]\n",
               deck=DECK + "lint:\n  disable: [no-such-rule]\n  max-answer-words: many\n")
    assert lint(tmp_path, monkeypatch) == (1, (
        "cards/deck.yaml:5:13: error: unknown lint rule 'no-such-rule'\n"
        "cards/deck.yaml:6:21: error: 'max-answer-words' must be a whole number, not 'many'\n"
        "cards/topic.yaml:5:19: error: unknown lint rule 'long-answers'; did you mean 'long-answer'?\n"
        "3 errors; nothing was written\n"))


def test_shipped_deck_passes_strict(tmp_path: Path) -> None:
    result = run(str(PROJECT / "cards"), "--lint", "--strict")
    assert (result.code, result.err) == (0, "")


def test_rule_examples_are_card_yaml() -> None:
    # The README shows each rule's examples to be copied into a card file, as they are.
    snippets = [(rule.id, snippet) for rule in RULES
                for snippet in re.findall(r"``([a-z]+: .+?)``", rule.doc)]
    assert len(snippets) >= 2 * len(RULES)
    for rule_id, snippet in snippets:
        node, problems = read_text(snippet, "example.yaml")
        assert problems == [] and isinstance(node, Mapping), (rule_id, snippet, problems)
        assert isinstance(node.entries[0][1], Scalar), (rule_id, snippet)


def test_readme_documents_every_rule() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert rules_markdown() in readme
    for rule in RULES:
        assert rule.doc.count("Passes:") == 1 and rule.doc.count("Fails:") == 1, rule.id
