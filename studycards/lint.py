"""Card-quality lint: warnings for cards that are valid but teach badly.

The rules follow SuperMemo's "Twenty rules of formulating knowledge" and Andy
Matuschak's "How to write good prompts". Each rule is a function here whose
docstring is its documentation (first line: the rationale; then a passing
and a failing example), listed once in ``RULES``: the linter, the checker of
rule names and the README all read that table.

A deck tunes the rules in ``deck.yaml``::

    lint:
      disable: [missing-source]
      max-answer-words: 8
      max-deletions-per-card: 1

and a card silences a rule for itself with ``lint-ignore: [long-answer]``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from studycards.cards import CLOZE_PATTERN, Card, CardFacts, Deck, Kind, LintConfig, cloze_number
from studycards.deckindex import DeckIndex
from studycards.problems import Problem


@dataclass(frozen=True)
class Finding:
    key: str  # the card key the warning points at
    message: str


@dataclass(frozen=True, slots=True)
class EarlierCard:
    """What the deck-wide rules remember of a card: enough to name it, not the card itself."""

    id: str
    file: str
    line: int
    answer: int  # stable hash of the answer's words


# Stable hashes of a card's prompt words and answer words: see prompt_signature.
Signature = tuple[int, int]
CardCheck = Callable[[Card, Deck, LintConfig], Iterator[Finding]]
# A deck-wide rule sees a card's facts and the earlier card whose prompt has the same content words.
PairCheck = Callable[[CardFacts, EarlierCard], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    """A rule checks one card at a time, or (``pair_check``) a card against an earlier look-alike."""

    id: str
    card_check: CardCheck | None = None
    pair_check: PairCheck | None = None
    kinds: frozenset[Kind] = frozenset(Kind)  # the kinds of card a ``card_check`` applies to

    @property
    def doc(self) -> str:
        check = self.card_check or self.pair_check
        return inspect.cleandoc(check.__doc__ or "") if check else ""


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_STOP_WORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or",
    "is", "are", "was", "were", "be", "been", "did", "do", "does", "which", "what", "who", "whom",
    "whose", "when", "where", "why", "how", "that", "this", "these", "those", "it", "its", "as",
    "his", "her", "their", "he", "she", "they", "yes", "s",
})
_QA_KINDS = frozenset({Kind.BASIC, Kind.REVERSED, Kind.TYPED, Kind.CHOICE})


# Several rules, and the prompt signature, split the same question and answer into words.
@functools.lru_cache(maxsize=64)
def words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.casefold()))


@functools.lru_cache(maxsize=64)
def content_words(text: str) -> frozenset[str]:
    return frozenset(word for word in words(text) if word not in _STOP_WORDS)


# --- the rules ---------------------------------------------------------------------------------

def long_answer(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """A long answer cannot be recalled the same way twice: keep it to a few words.

    The limit is ``max-answer-words`` (default 12); move context to ``extra``.

    Passes: ``a: Beijing``

    Fails: ``a: The two ministers met in Beijing, the Chinese capital, on a Monday in the middle of May 2024``
    """
    count = len(words(card.answer))
    if count > config.max_answer_words:
        yield Finding("a", f"answer has {count} words (limit {config.max_answer_words}); "
                           "shorten it and move context to 'extra'")


_SENTENCE_BREAK = re.compile(r"(?<!\b[A-Za-z])[.!?]+[\"'”’)]*\s+[\"'“‘(]*[A-Z0-9]")
_WORD_BEFORE = re.compile(r"[A-Za-z]+$")
# Words shortened with a full stop, which a capital or a number often follows: "Dr. Seuss".
_ABBREVIATIONS = frozenset({
    "dr", "mr", "mrs", "ms", "prof", "st", "mt", "jr", "sr", "gen", "col", "capt", "lt", "rev", "op",
    "no", "nos", "vol", "vols", "ch", "fig", "pp", "approx", "ca", "cf", "vs", "inc", "ltd", "co",
    "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})


def multi_sentence_answer(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """An answer of several sentences holds several facts: make one card per fact.

    Passes: ``a: Seven months``

    Fails: ``a: Seven months. It was also the first visit in six years.``
    """
    answer = card.answer.strip()
    for match in _SENTENCE_BREAK.finditer(answer):
        before = _WORD_BEFORE.search(answer, 0, match.start())
        if answer[match.start()] == "." and before and before.group().casefold() in _ABBREVIATIONS:
            continue
        yield Finding("a", "answer has more than one sentence; make one card per fact")
        return


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE)
_MAX_ITEM_WORDS = 4
_LIST_SEPARATOR = re.compile(r"\s*(?:[,;]\s*(?:(?:and|or)\s+)?|\s(?:and|or)\s)\s*")
_DIGIT_GROUPS = re.compile(r"(?<=\d),(?=\d{3}\b)")
# One value written in brackets, such as a vector "(0, 0, 1)" or a list literal "[0, 2, 4]".
_BRACKETED = re.compile(r"^[(\[{][^()\[\]{}]*[)\]}]$")


def enumeration_answer(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """A set of three or more items is hard to recall whole: use one card or cloze per item.

    Passes: ``a: Japan``

    Fails: ``a: Seoul, Beijing and Tokyo``
    """
    answer = card.answer.strip()
    if "," in answer:
        answer = _DIGIT_GROUPS.sub("", answer)  # "299,792,458" is one number
    items = len(_LIST_ITEM.findall(answer))
    if items < 3 and ("," in answer or ";" in answer) and not _BRACKETED.match(answer):
        parts = [part for part in _LIST_SEPARATOR.split(answer) if part]
        # Short parts are items; long ones are clauses of a sentence.
        if all(len(words(part)) <= _MAX_ITEM_WORDS for part in parts):
            items = len(parts)
    if items >= 3:
        yield Finding("a", f"answer is a list of {items} items; make one card or cloze per item")


_ENUMERATION_QUESTION = re.compile(
    r"^\s*(?:list|enumerate|name\s+(?:all|every|the\s+(?:\d+|two|three|four|five|six|seven|eight|"
    r"nine|ten))|what\s+are\s+(?:all\s+)?the\s+(?:\d+|two|three|four|five|six|seven|eight|nine|ten)"
    r")\b", re.IGNORECASE)


def enumeration_question(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """A question asking for a whole list tests many facts at once: ask for one item per card.

    Passes: ``q: Which third country joined the summit?``

    Fails: ``q: List the countries at the summit.``
    """
    if _ENUMERATION_QUESTION.search(card.question):
        yield Finding("q", "question asks for a list; ask for one item per card (or use a cloze "
                           "per item)")


_YES_NO_QUESTION = re.compile(
    r"^\s*(?:is|are|was|were|am|do|does|did|can|could|will|would|shall|should|has|have|had|may|"
    r"might|must)\b", re.IGNORECASE)


def yes_no_question(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """A yes/no question is half guessed: ask for the thing itself.

    Passes: ``q: Which principle did Wang ask Seoul to respect?`` / ``a: One China``

    Fails: ``q: Did Wang mention Taiwan?`` / ``a: Yes``
    """
    answer = words(card.answer)
    if _YES_NO_QUESTION.search(card.question) and answer and answer[0] in ("yes", "no"):
        yield Finding("q", "yes/no question; ask for the fact itself so the answer is not a coin toss")


def answer_in_question(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """When the question already holds the answer's words, the card tests reading, not memory.

    Passes: ``q: In which city did the ministers meet?`` / ``a: Beijing``

    Fails: ``q: Which Chinese city, Beijing or Shanghai, hosted the talks?`` / ``a: Beijing``
    """
    answer = content_words(card.answer)
    if answer and answer <= content_words(card.question):
        yield Finding("a", "the question already contains the answer's words; reword it so the "
                           "answer is not given away")


def cloze_hint_is_answer(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """A cloze hint that equals its answer gives the answer away.

    Passes: ``cloze: Not a {{c1::zero-sum::term}} relationship.``

    Fails: ``cloze: Not a {{c1::zero-sum::zero-sum}} relationship.``
    """
    for match in CLOZE_PATTERN.finditer(card.cloze):
        answer, hint = match.group(2), match.group(3)
        if hint is not None and hint.strip().casefold() == answer.strip().casefold():
            yield Finding("cloze", f"the hint of c{match.group(1)} is its answer")


def too_many_deletions(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """A cloze card that hides many pieces at once tests several facts: split them up.

    Counts deletions that share one number, so appear on one card; the limit is
    ``max-deletions-per-card`` (default 2). Different numbers make separate cards.

    Passes: ``cloze: "{{c1::Cho}} met {{c2::Wang}} in {{c3::Beijing}}."``

    Fails: ``cloze: "{{c1::Cho}} met {{c1::Wang}} in {{c1::Beijing}}."``
    """
    per_number: dict[int, int] = {}  # by number: Anki reads c01 as c1
    for match in CLOZE_PATTERN.finditer(card.cloze):
        number = cloze_number(match.group(1))
        per_number[number] = per_number.get(number, 0) + 1
    for number, count in sorted(per_number.items()):
        if count > config.max_deletions_per_card:
            yield Finding("cloze", f"c{number} hides {count} pieces on one card (limit "
                                   f"{config.max_deletions_per_card}); give each its own number")


def missing_source(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """A card without a source cannot be checked later: say where the fact comes from.

    Set ``source`` on the card, or a default ``source`` in ``deck.yaml``.

    Passes: ``source: "¶3"``

    Fails: a card with no ``source`` in a deck whose ``deck.yaml`` has none either.
    """
    if not card.source and not deck.source:
        yield Finding("id", "card has no source; add 'source' (or a default in deck.yaml)")


_TIME_RELATIVE = re.compile(
    r"\b(?:currently|nowadays|now|latest|recently|today|these\s+days|at\s+present|"
    r"(?:this|last|next)\s+(?:week|month|year))\b", re.IGNORECASE)
_DATE = re.compile(r"\b(?:1[0-9]|20)\d{2}\b")
# Text in double or curly quotes, or in single quotes that are not apostrophes.
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<!\w)'[^']*'(?!\w)")


def time_relative(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """Words like "currently" or "this month" go stale: anchor the fact to a date.

    Passes: ``q: Who was South Korea's foreign minister in May 2024?``

    Fails: ``q: Who is currently South Korea's foreign minister?``
    """
    for key, text in (("q", card.question), ("a", card.answer), ("cloze", card.cloze)):
        match = _TIME_RELATIVE.search(text)
        if match:
            # A word in quotes is mentioned, not used: 'the Korean word for "today"'. So is an
            # answer that is nothing but the word, as a language card's is.
            match = _TIME_RELATIVE.search(_QUOTED.sub(" ", text))
        if match and not _DATE.search(text) and not (key == "a" and match.group(0) == text.strip(" .!?")):
            yield Finding(key, f"'{match.group(0)}' goes stale; anchor it to a date "
                               "(e.g. 'in May 2024')")


_VAGUE_OPENER = re.compile(r"^\s*(?:what\s+about|describe|tell\s+me\s+about|explain|discuss|talk\s+about)"
                           r"\b", re.IGNORECASE)


def vague_opener(card: Card, deck: Deck, config: LintConfig) -> Iterator[Finding]:
    """An open prompt has no single right answer: ask a precise question.

    Passes: ``q: What did Cho call for besides trust?``

    Fails: ``q: Tell me about Cho's visit.``
    """
    if _VAGUE_OPENER.search(card.question):
        yield Finding("q", "vague question; ask for one precise fact with one right answer")


def near_duplicate(card: CardFacts, earlier: EarlierCard) -> Iterator[Finding]:
    """Two near-identical questions interfere in memory: merge them or make them differ.

    Questions count as near-identical when they have the same content words,
    ignoring case, punctuation, word order and small words, and the same answer
    (with another answer, ``conflicting-answers`` tells it).

    Passes: ``q: In which city did they meet?`` and ``q: In which month did they meet?``

    Fails: ``q: Which city hosted the talks?`` and ``q: The talks were hosted by which city?``
    """
    if earlier.answer == _answer_signature(card):
        yield Finding(_prompt_key(card), f"question is nearly the same as '{earlier.id}' "
                                         f"({earlier.file}:{earlier.line}); merge them or make them differ")


def conflicting_answers(card: CardFacts, earlier: EarlierCard) -> Iterator[Finding]:
    """The same question with two different answers teaches that both are right.

    Passes: one card per question.

    Fails: ``q: Where did they meet?`` / ``a: Beijing`` and ``q: Where did they meet?`` / ``a: Seoul``
    """
    if earlier.answer != _answer_signature(card):
        yield Finding("a", f"the same question as '{earlier.id}' ({earlier.file}:{earlier.line}) "
                           "has a different answer")


RULES: tuple[Rule, ...] = (
    Rule("long-answer", card_check=long_answer, kinds=_QA_KINDS),
    Rule("multi-sentence-answer", card_check=multi_sentence_answer, kinds=_QA_KINDS),
    Rule("enumeration-answer", card_check=enumeration_answer, kinds=_QA_KINDS),
    Rule("enumeration-question", card_check=enumeration_question, kinds=_QA_KINDS),
    Rule("yes-no-question", card_check=yes_no_question, kinds=_QA_KINDS),
    Rule("answer-in-question", card_check=answer_in_question, kinds=frozenset({Kind.BASIC, Kind.TYPED})),
    Rule("near-duplicate", pair_check=near_duplicate),
    Rule("conflicting-answers", pair_check=conflicting_answers),
    Rule("cloze-hint-is-answer", card_check=cloze_hint_is_answer, kinds=frozenset({Kind.CLOZE})),
    Rule("too-many-deletions", card_check=too_many_deletions, kinds=frozenset({Kind.CLOZE})),
    Rule("missing-source", card_check=missing_source),
    Rule("time-relative", card_check=time_relative),
    Rule("vague-opener", card_check=vague_opener, kinds=_QA_KINDS),
)
RULE_IDS = tuple(rule.id for rule in RULES)


def lint_card(card: Card, deck: Deck) -> list[Problem]:
    """The warnings of the one-card rules, under the deck's settings and the card's lint-ignore."""
    config = deck.lint
    problems = []
    for rule_id, card_check in _card_checks(config.disabled, card.kind):
        if rule_id not in card.lint_ignore:
            for finding in card_check(card, deck, config):
                problems.append(_warning(card, finding, rule_id))
    return problems


@functools.lru_cache(maxsize=32)
def _card_checks(disabled: frozenset[str], kind: Kind) -> list[tuple[str, CardCheck]]:
    """The one-card rules a deck has on for a kind of card; worked out once, not for every card."""
    return [(rule.id, rule.card_check) for rule in RULES
            if rule.card_check is not None and rule.id not in disabled and kind in rule.kinds]


class DeckWideLint:
    """The rules that compare cards across the deck, asked once every card is in the deck index.

    Each card is compared with the first card whose prompt has the same content
    words (the same ``prompt_signature``).
    """

    def __init__(self, deck: Deck) -> None:
        self._rules = [rule for rule in RULES
                       if rule.pair_check is not None and rule.id not in deck.lint.disabled]

    def problems(self, index: DeckIndex) -> list[Problem]:
        if not self._rules:
            return []
        problems = []
        for card, (first_id, first_file, first_line, first_answer) in index.look_alikes():
            earlier = EarlierCard(first_id, first_file, first_line, first_answer)
            for rule in self._rules:
                if rule.id not in card.lint_ignore and rule.pair_check is not None:
                    problems += [_warning(card, finding, rule.id)
                                 for finding in rule.pair_check(card, earlier)]
        return problems


def prompt_signature(card: Card) -> Signature | None:
    """Stable hashes of a card's prompt (its content words, in any order) and of its answer.

    Worked out where the card is read, possibly in another process, and cached:
    hence a hash that does not change between processes, unlike ``hash()``.
    """
    if card.kind is Kind.REVERSED:
        return None  # a reversed card's prompt is a term, often legitimately shared
    if card.kind is Kind.CLOZE:
        # A cloze asks the text around its deletions (with their hints); the deletions answer.
        # "{{c1::Paris}} is in France" and "Paris is in {{c1::France}}" ask different things.
        prompt_text = CLOZE_PATTERN.sub(lambda match: f" {match.group(3) or ''} ", card.cloze)
        answer_text = " ".join(match.group(2) for match in CLOZE_PATTERN.finditer(card.cloze))
    else:
        prompt_text, answer_text = card.question, card.answer
    key = sorted(content_words(prompt_text))
    if not key:
        return None
    prompt = _stable_hash(("cloze" if card.kind is Kind.CLOZE else "q", *key))
    return prompt, _stable_hash(words(answer_text))


def _stable_hash(parts: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # signed: SQLite's integers are


def _warning(card: Card | CardFacts, finding: Finding, rule_id: str) -> Problem:
    line, column = card.position(finding.key)
    return Problem(card.file, line, column, "warning", finding.message, rule_id)


def rules_markdown() -> str:
    """The rules' documentation, as the README shows it."""
    parts = []
    for rule in RULES:
        parts.append(f"#### `{rule.id}`\n\n{rule.doc}\n")
    return "\n".join(parts)


# --- helpers -------------------------------------------------------------------------------------

def _prompt_key(card: CardFacts) -> str:
    return "cloze" if card.kind is Kind.CLOZE else "q"


def _answer_signature(card: CardFacts) -> int:
    return card.signature[1] if card.signature else 0
