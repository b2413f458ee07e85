"""The reader: positions, text as written, refusals, and libyaml and pure Python agreeing."""

from __future__ import annotations

import pytest
import yaml

from studycards.reader import Mapping, Node, Scalar, Sequence, libyaml_available, read_text

LOADERS = [pytest.param(yaml.BaseLoader, id="python")]
if libyaml_available():
    LOADERS.append(pytest.param(yaml.CBaseLoader, id="libyaml"))

SAMPLES = {
    "plain": "cards:\n  - q: Which city?\n    a: Beijing\n",
    "coercion": "a: yes\nb: 1.10\nc: 2024-05-13\nd: null\ne: ~\nf: 0x1F\ng: .inf\n",
    "styles": "a: 'single'\nb: \"double \\u00e9\"\nc: |\n  literal\n  block\nd: >-\n  folded\n  text\n"
              "e: [x, {y: z}]\n",
    "crlf": "cards:\r\n  - q: Which?\r\n    a: Here\r\n",
    "unicode": "질문: 조태열\n问题: 王毅\nemoji: 🙂\n",
    "syntax": "cards:\n  - q: What is it\n    a: [unclosed\n",
    "colon": "a: b: c\n",
    "indent": "a: 1\n b: 2\n",
    "tab": "cards:\n\t- q: x\n",
    "quote": "a: \"never closed\n",
    "duplicate": "a: 1\na: 2\n",
    "alias": "a: &x 1\nb: *x\n",
    "unknown-alias": "a: *nowhere\n",
    "tag": "a: !!python/object:os.system x\n",
    "local-tag": "a: !foo x\n",
    "merge": "base: {a: 1}\nother:\n  <<: {b: 2}\n",
    "documents": "a: 1\n---\nb: 2\n",
    "list-key": "? [a, b]\n: c\n",
    "deep": "a: " + "[" * 40 + "]" * 40 + "\n",
    "empty": "",
    "comment-only": "# nothing here\n",
    "unknown-escape": 'a: "one \\q two"\n',
    "hex-escape": 'a: "\\u12G4"\n',
    "cannot-start": "a: `code`\n",
    "block-mapping-end": "a:\n  b: 1\n c\n",
    "block-list-end": "- a\nb: 1\n",
    "colon-in-value": "q: What did Cho say: zero-sum?\n",
    "markdown-start": "cards:\n  - q: **Which** city?\n",
    "cloze-start": "cards:\n  - cloze: {{c1::Beijing}} hosted the talks.\n",
    "quoted-then-text": 'q: "Zero-sum" is what?\n',
    "c1-control": "# 왕이\nq: Wang Yi\u0092s?\n",
    "cr-tab": "cards:\r  - id: a\r\tq: x\r",
    "comment-with-colon": "cards:\n  - id: a\n    q: Where?\n     a: Beijing  # source: paragraph 1\n",
    "unclosed-quote-at-end": 'cards:\n  - q: "What did Cho say?\n    a: A lot  # note: see para 2',
    "backslash-at-end": 'q: "C:\\',
    "card-without-dash": "cards:\n  - id: a\n    q: Which?\n    a: This\n    id: b\n    q: Where?\n",
    # A no-break or ideographic space in a text, or a dash going on a text, is no slip of the layout.
    "ideographic-indent-in-block": "cards:\n  - id: a\n    q: \u8cea\u554f\n    extra: |\n"
                                   "      \u3000\u6bb5\u843d\u3067\u3059\n   a: \u7b54\u3048\n",
    "dash-going-on-a-text": "cards:\n  - id: b\n    q: Who wrote the line\n      \u2014 and when: in which "
                            "year?\n    a: y\n",
    "misaligned-list-item": "cards:\n  - id: a\n    q: Which?\n    a: This\n    tags:\n      - one\n"
                            "     - two\n",
    "flow-duplicate": "cards:\n  - {id: a, q: x, a: y, id: b}\n",
    "misaligned-key": "cards:\n  - id: a\n    q: Which?\n   a: This\n",
    "misaligned-item": "cards:\n  - id: a\n    q: Which?\n - id: b\n",
    "dash-look-alike": "cards:\n  - id: a\n    q: Which?\n  \u2013 id: b\n",
    "typographic-quotes": "cards:\n  - a: \u201cThe city: Beijing\u201d\n",
    # A quote left open runs on over the keys below, to an apostrophe or the next value's quote.
    "quote-runs-on-to-apostrophe": "cards:\n  - id: a\n    q: 'Cho Tae-yul\n    a: South Korea's minister\n",
    "quote-runs-on-to-next-value": 'cards:\n  - id: a\n    q: "Which city\n    a: Beijing\n  - id: b\n'
                                   '    q: "Where?"\n    a: There\n',
    "no-space-after-colon": "cards:\n  - id: a\n    q: Which?\n    a:Beijing\n",
    "indented-too-far": "cards:\n  - id: b\n    q: Which?\n      a: Beijing\n",
    "no-space-after-dash": "cards:\n  -id: c\n    q: Which?\n",
    "block-scalar-sign": "cards:\n  - id: d\n    a: > 20%\n",
    # Worded differently by the two parsers before; the agreement test holds them the same.
    "duplicate-directive": "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
    "block-scalar-header": "a: | x\n",
    "key-in-value": "a: ? x\n",
    "entry-in-value": "a: - x\n",
    "document-end": "a: b\n...\nc: d\n",
}


def shape(node: Node | None) -> object:
    """A node as plain values with positions, to compare two parses."""
    if node is None:
        return None
    if isinstance(node, Scalar):
        return ("scalar", node.value, node.line, node.column, node.end_line, node.end_column)
    if isinstance(node, Sequence):
        return ("seq", node.line, node.column, node.end_line, node.end_column, node.flow,
                [shape(item) for item in node.items])
    assert isinstance(node, Mapping)
    return ("map", node.line, node.column, node.end_line, node.end_column, node.flow,
            [(shape(key), shape(value)) for key, value in node.entries])


@pytest.mark.skipif(not libyaml_available(), reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_libyaml_and_python_parsers_agree(name: str) -> None:
    fast_node, fast_problems = read_text(SAMPLES[name], "f.yaml", yaml.CBaseLoader)
    slow_node, slow_problems = read_text(SAMPLES[name], "f.yaml", yaml.BaseLoader)
    assert shape(fast_node) == shape(slow_node)
    assert [str(problem) for problem in fast_problems] == [str(problem) for problem in slow_problems]


CARD_FILE = ('cards:\n  - id: a\n    q: "What [x] is {y}?"\n    a: [one, two]\n    tags: {k: v}\n'
             "  - q: |\n      block\n    a: 'single'\n")


@pytest.mark.skipif(not libyaml_available(), reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("ending", ["", " ", "\n", "\r\n"])
def test_parsers_agree_on_every_cut_short_file(ending: str) -> None:
    # A file cut short ends in the middle of a key, a quote or a flow list: the parsers then
    # stop at the end of the text, where libyaml used to name a line past the last one.
    for cut in range(1, len(CARD_FILE) + 1):
        text = CARD_FILE[:cut] + ending
        fast = [str(problem) for problem in read_text(text, "f.yaml", yaml.CBaseLoader)[1]]
        slow = [str(problem) for problem in read_text(text, "f.yaml", yaml.BaseLoader)[1]]
        assert fast == slow, repr(text)


@pytest.mark.parametrize("loader", LOADERS)
def test_end_of_file_error_is_placed_after_the_last_character(loader: type) -> None:
    _, problems = read_text("cards:\n  - id: a\n    q", "f.yaml", loader)
    assert [str(problem) for problem in problems] == [
        "f.yaml:3:5: error: invalid YAML: could not find expected ':' while scanning a simple key" + NO_COLON]
    _, problems = read_text("a: [one,", "f.yaml", loader)
    assert [str(problem) for problem in problems] == [
        "f.yaml:1:9: error: invalid YAML: did not find expected node content while parsing a flow node"]


WRITE_KEYS = "write its keys: a card file starts with 'cards:', deck.yaml with 'id:' and 'name:'"
NO_COLON = ("; this line has no ':': if it is a key, write ':' and a space after it; if it goes on the text "
            "above, put the whole text in quotes")
BACKSLASH_HINT = ("; in double quotes a backslash starts an escape: write '\\\\' for one, or use single "
                  "quotes")

# The hints that come with text YAML reads as its own syntax.
STARTS_WITH = ("; a value that starts with '{}' is read as YAML syntax: to keep it as text, put the whole "
               "value in quotes")
DEEPER = ("; this line is indented deeper than the key above it: if it goes on that key's text, put the "
          "whole text in quotes; if it is a key of its own, line it up with the one above")
COLON_IN_VALUE = "; ': ' in a value starts a new key: to keep it as text, put the whole value in quotes"
EXPECTED_PROBLEMS = {
    # Never closed: told where it opens, not where the parser gave up.
    "syntax": "f.yaml:3:8: error: invalid YAML: this bracket is not closed (at line 4, column 1: did not "
              "find expected ',' or ']')",
    "colon": "f.yaml:1:5: error: invalid YAML: mapping values are not allowed in this context"
             + COLON_IN_VALUE,
    "indent": "f.yaml:2:3: error: invalid YAML: mapping values are not allowed in this context" + DEEPER,
    "tab": "f.yaml:2:1: error: tab character used for indentation; YAML indents with spaces",
    "quote": "f.yaml:1:4: error: invalid YAML: this quote is not closed (at line 2, column 1: found "
             "unexpected end of stream)",
    "alias": "f.yaml:1:4: error: anchors (&x) are not supported: write the text out",
    "unknown-alias": "f.yaml:1:4: error: aliases (*nowhere) are not supported: write the text out"
                     + STARTS_WITH.format("*"),
    "tag": "f.yaml:1:4: error: tags (!!python/object:os.system) are not supported: card files hold "
           "only text",
    "local-tag": "f.yaml:1:4: error: tags (!foo) are not supported: card files hold only text; a value that "
                 "starts with '!' is read as YAML syntax: to keep it as text, put the whole value in quotes",
    "merge": "f.yaml:3:3: error: merge keys (<<) are not supported: write the keys out",
    "documents": "f.yaml:2:1: error: only one YAML document is allowed per file; remove the '---'",
    "list-key": "f.yaml:1:3: error: a key must be plain text, not a list or mapping",
    "deep": "f.yaml:1:35: error: nesting is deeper than 32 levels",
    "empty": "f.yaml:1:1: error: file is empty: " + WRITE_KEYS,
    "comment-only": "f.yaml:1:1: error: file holds only comments: " + WRITE_KEYS,
    "unknown-escape": "f.yaml:1:9: error: invalid YAML: found unknown escape character 'q' while scanning a "
                      "double-quoted scalar that starts at line 1, column 4" + BACKSLASH_HINT,
    "hex-escape": "f.yaml:1:7: error: invalid YAML: did not find the hexadecimal digits of an escape: "
                  "\\xXX, \\uXXXX or \\UXXXXXXXX while scanning a double-quoted scalar that starts at "
                  "line 1, column 4",
    "cannot-start": "f.yaml:1:4: error: invalid YAML: found character '`' that cannot start any token while "
                    "scanning for the next token" + STARTS_WITH.format("`"),
    "block-mapping-end": "f.yaml:3:2: error: invalid YAML: did not find expected key while parsing a block "
                         "mapping that starts at line 1, column 1" + NO_COLON,
    "block-list-end": "f.yaml:2:1: error: invalid YAML: did not find expected '-' indicator while parsing a "
                      "block collection that starts at line 1, column 1",
    "colon-in-value": "f.yaml:1:20: error: invalid YAML: mapping values are not allowed in this context"
                      + COLON_IN_VALUE,
    "markdown-start": "f.yaml:2:9: error: invalid YAML: did not find expected alphabetic or numeric "
                      "character while scanning an alias that starts at line 2, column 8"
                      + STARTS_WITH.format("*"),
    "cloze-start": "f.yaml:2:13: error: a key must be plain text, not a list or mapping"
                   + STARTS_WITH.format("{"),
    "quoted-then-text": "f.yaml:1:15: error: invalid YAML: did not find expected key while parsing a block "
                        "mapping that starts at line 1, column 1; a quoted value must end at its closing "
                        "quote: to keep the quotes as text, put the whole value in the other kind of quotes "
                        "(in single quotes, write ' as '')",
    "c1-control": "f.yaml:2:11: error: character U+0092 is not allowed in YAML",
    "cr-tab": "f.yaml:3:1: error: tab character used for indentation; YAML indents with spaces",
    # No hint to quote: the comment's ': ' is not in the value; the indentation is the culprit.
    "comment-with-colon": "f.yaml:4:7: error: invalid YAML: mapping values are not allowed in this context"
                          + DEEPER,
    "unclosed-quote-at-end": "f.yaml:2:8: error: invalid YAML: this quote is not closed (at line 3, column "
                             "33: found unexpected end of stream)",
    # Told at the key's line, not at the next one, where the parser looked for the ':' last.
    "no-space-after-colon": "f.yaml:4:5: error: invalid YAML: could not find expected ':' while scanning a "
                            "simple key; a key's ':' needs a space after it ('a: Beijing', not 'a:Beijing')",
    "ideographic-indent-in-block": ("f.yaml:6:4: error: invalid YAML: did not find expected '-' indicator "
                                    "while parsing a block collection that starts at line 2, column 3; this "
                                    "key is indented 3 spaces, like no key above it (those are indented 0 or "
                                    "4): line it up with one of them"),
    "dash-going-on-a-text": "f.yaml:4:17: error: invalid YAML: mapping values are not allowed in this context"
                            + DEEPER,
    "misaligned-list-item": ("f.yaml:7:6: error: invalid YAML: did not find expected key while parsing a "
                             "block mapping that starts at line 2, column 5; this list item's '-' is "
                             "indented 5 spaces, like no list item's '-' above it (those are indented 2 or "
                             "6): line it up with one of them"),
    "misaligned-key": "f.yaml:4:4: error: invalid YAML: did not find expected '-' indicator while parsing a "
                      "block collection that starts at line 2, column 3; this key is indented 3 spaces, like "
                      "no key above it (those are indented 0 or 4): line it up with one of them",
    "misaligned-item": "f.yaml:4:2: error: invalid YAML: did not find expected key while parsing a block "
                       "mapping that starts at line 1, column 1; this list item's '-' is indented 1 space, "
                       "like no list item's '-' above it (those are indented 2): line it up with one of them",
    "dash-look-alike": "f.yaml:4:3: error: invalid YAML: did not find expected '-' indicator while parsing a "
                       "block collection that starts at line 2, column 3; '\u2013' is not a list item's '-': "
                       "type the plain hyphen-minus, then a space",
    "indented-too-far": "f.yaml:4:8: error: invalid YAML: mapping values are not allowed in this context"
                        + DEEPER,
    "no-space-after-dash": "f.yaml:3:6: error: invalid YAML: mapping values are not allowed in this "
                           "context; a list item's '-' needs a space after it ('- id: …', not '-id: …')",
    "block-scalar-sign": "f.yaml:3:10: error: invalid YAML: did not find expected comment or line break "
                         "while scanning a block scalar that starts at line 3, column 8"
                         + STARTS_WITH.format(">"),
    "backslash-at-end": "f.yaml:1:7: error: invalid YAML: found a backslash at the end of the text, with "
                        "nothing to escape while scanning a double-quoted scalar that starts at line 1, "
                        "column 4" + BACKSLASH_HINT,
    "quote-runs-on-to-apostrophe": "f.yaml:3:8: error: invalid YAML: this quote is not closed on its line: "
                                   "the value runs on over the lines below, to the ' at line 4, column 19; "
                                   "in single quotes, write ' as ''",
    "quote-runs-on-to-next-value": "f.yaml:3:8: error: invalid YAML: this quote is not closed on its line: "
                                   "the value runs on over the lines below, to the \" at line 6, column 8",
    "typographic-quotes": "f.yaml:2:17: error: invalid YAML: mapping values are not allowed in this context; "
                          "'\u201c' is a typographic quote, which YAML reads as text: put the whole value in "
                          "straight quotes, \" or '",
}


# Told, and the file reads on without the key given twice: its other problems are told too.
READ_ON_PROBLEMS = {
    "duplicate": "f.yaml:2:1: error: key 'a' is given twice in this mapping (first at line 1); the "
                 "first value would be lost",
    "card-without-dash": "f.yaml:5:5: error: key 'id' is given twice in this mapping (first at line 2); "
                         "the first value would be lost; if a new card starts here, put '- ' before its "
                         "first key",
    "flow-duplicate": "f.yaml:2:25: error: key 'id' is given twice in this mapping (first at line 2); the "
                      "first value would be lost",
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("name", sorted(READ_ON_PROBLEMS))
def test_a_key_given_twice_is_told_and_the_file_reads_on(name: str, loader: type) -> None:
    node, problems = read_text(SAMPLES[name], "f.yaml", loader)
    assert [str(problem) for problem in problems] == [READ_ON_PROBLEMS[name]]
    assert isinstance(node, Mapping)
    cards = node.get("cards")
    mapping = cards.items[0] if isinstance(cards, Sequence) else node
    assert isinstance(mapping, Mapping)
    # The first value stays; the key given again, and its value, are left out.
    key, first = ("a", "1") if name == "duplicate" else ("id", "a")
    values = [value for entry_key, value in mapping.entries if entry_key.value == key]
    assert [value.value for value in values if isinstance(value, Scalar)] == [first]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("name", sorted(EXPECTED_PROBLEMS))
def test_refusals_name_their_place(name: str, loader: type) -> None:
    node, problems = read_text(SAMPLES[name], "f.yaml", loader)
    assert node is None
    assert [str(problem) for problem in problems] == [EXPECTED_PROBLEMS[name]]


@pytest.mark.parametrize("loader", LOADERS)
def test_a_comment_that_cuts_a_plain_value_is_a_warning(loader: type) -> None:
    # "#1" reads as text but starts a comment; " # note" is written as one, and a quoted
    # value ends at its quote.
    text = "q: rank #1 on the agenda\na: x  # a real comment\nb: '#1' #x\nc: #2 priority\n"
    node, problems = read_text(text, "f.yaml", loader)
    assert isinstance(node, Mapping)
    assert [(key.value, value.value) for key, value in node.entries] == [  # type: ignore[union-attr]
        ("q", "rank"), ("a", "x"), ("b", "#1"), ("c", "")]
    cut = ("warning: ' #' starts a comment, so the text from here on is not part of the value; put the "
           "whole value in quotes to keep it")
    assert [str(problem) for problem in problems] == [f"f.yaml:1:9: {cut}", f"f.yaml:4:4: {cut}"]


@pytest.mark.parametrize("loader", LOADERS)
def test_every_scalar_stays_text(loader: type) -> None:
    node, problems = read_text(SAMPLES["coercion"], "f.yaml", loader)
    assert problems == []
    assert isinstance(node, Mapping)
    assert [(key.value, value.value) for key, value in node.entries] == [  # type: ignore[union-attr]
        ("a", "yes"), ("b", "1.10"), ("c", "2024-05-13"), ("d", "null"), ("e", "~"), ("f", "0x1F"),
        ("g", ".inf")]


@pytest.mark.parametrize("loader", LOADERS)
def test_positions_are_one_based(loader: type) -> None:
    node, _ = read_text(SAMPLES["plain"], "f.yaml", loader)
    assert isinstance(node, Mapping)
    cards = node.get("cards")
    assert isinstance(cards, Sequence)
    card = cards.items[0]
    assert isinstance(card, Mapping)
    answer = card.get("a")
    assert isinstance(answer, Scalar)
    assert (card.line, card.column, answer.line, answer.column) == (2, 5, 3, 8)
