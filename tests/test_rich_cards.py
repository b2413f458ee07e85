"""Markdown, math, cloze in Markdown, media, and hostile text, as Anki renders them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from anki.collection import Collection

from tests.conftest import FIXTURES, PROJECT, copy_deck, import_package, run, without_style


class _Markup(HTMLParser):
    """Collects every element and attribute of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.add(tag)
        self.attributes.update(name for name, _ in attrs)


def markup_of(html: str) -> tuple[set[str], set[str]]:
    parser = _Markup()
    parser.feed(html)
    return parser.elements, parser.attributes


def imported(tmp_path: Path, collection: Collection, deck: str) -> Collection:
    cards = copy_deck(deck, tmp_path)
    result = run(str(cards), "--out", str(tmp_path / f"{deck}.apkg"))
    assert (result.code, result.err) == (0, "")
    import_package(collection, tmp_path / f"{deck}.apkg")
    return collection


def card_sides(collection: Collection, card_id: str) -> list[tuple[str, str]]:
    (note_id,) = collection.find_notes(f'"origin:*· {card_id}"')
    cards = sorted(collection.get_note(note_id).cards(), key=lambda card: card.ord)
    return [(without_style(card.question()), without_style(card.answer())) for card in cards]


# Only the note templates' own markup, and Markdown's, may appear; nothing the author typed.
TEMPLATE_ELEMENTS = {"div", "hr", "span", "ol", "li", "strong", "em", "code"}
TEMPLATE_ATTRIBUTES = {"class", "id", "data-cloze", "data-ordinal"}


@pytest.mark.parametrize("card_id", ["script", "comment", "cloze", "choice", "type-box", "hint-tags",
                                     "plain-hint", "latex", "tex-hints", "combining", "combining-cloze"])
def test_hostile_text_is_shown_as_text(card_id: str, tmp_path: Path, collection: Collection) -> None:
    imported(tmp_path, collection, "hostile")
    for question, answer in card_sides(collection, card_id):
        for side in (question, answer):
            elements, attributes = markup_of(side)
            assert elements <= TEMPLATE_ELEMENTS, side
            assert attributes <= TEMPLATE_ATTRIBUTES, side
            assert "javascript:" not in side.replace("[click me](javascript:", "").replace(
                "&lt;javascript:", "").replace("src=javascript:", "")


def test_hostile_text_stays_visible(tmp_path: Path, collection: Collection) -> None:
    imported(tmp_path, collection, "hostile")
    (question, answer), = card_sides(collection, "script")
    assert question == ('<div class="question">&lt;script&gt;window.pwned = 1&lt;/script&gt; '
                        "What is shown?</div>")
    assert '<div class="answer">&lt;img src=x onerror=&quot;window.pwned = 2&quot;&gt;</div>' in answer
    assert ('<div class="extra">[click me](javascript:window.pwned=3) and '
            "&lt;javascript:alert(4)&gt;</div>") in answer
    assert '<span class="source">&lt;style&gt;.card { display: none }&lt;/style&gt;</span>' in answer
    (question, answer), = card_sides(collection, "comment")
    assert question == '<div class="question">&lt;!-- hidden? --&gt; Is this comment visible?</div>'
    # Entities are shown as typed, and a typed sound tag does not play.
    assert ('<div class="answer">&amp;lt;b&amp;gt;not bold&amp;lt;/b&amp;gt; &amp;amp; '
            "&amp;#x41;</div>") in answer
    assert '<div class="extra">&#91;sound:evil.mp3] &lt;a href=' in answer
    assert "[anki:play" not in answer
    # Nor does a text-to-speech tag speak, and hide, its text.
    (question, answer), = card_sides(collection, "choice")
    assert '<div class="extra">&#91;anki:tts lang=en_US]Spoken, not shown?[/anki:tts]</div>' in answer
    assert "[anki:play" not in answer
    assert collection.get_card(collection.find_cards('"origin:*· choice"')[0]).answer_av_tags() == []
    # Nor does a typing box appear where an author typed Anki's tag for one.
    (question, answer), = card_sides(collection, "type-box")
    assert question == '<div class="question">Which &#91;[type:Answer]] box?</div>'
    (question, answer), = card_sides(collection, "cloze")
    assert question == ('<div class="question">The <span class="cloze" data-cloze="&amp;lt&#x3B;b&#x20;'
                        "onmouseover&#x3D;alert&#x28;5&#x29;&amp;gt&#x3B;answer&amp;lt&#x3B;&#x2F;b"
                        '&amp;gt&#x3B;" data-ordinal="1">[&lt;i&gt;hint&lt;/i&gt;]</span> '
                        "is hidden.</div>")
    # Nor do Anki's tags made by a cloze hint, which Anki shows in brackets.
    hints = [question[question.index('data-cloze'):].split("</span>")[0] for question, _ in
             card_sides(collection, "hint-tags")]
    assert hints == ['data-cloze="x" data-ordinal="1">[&#115;ound:evil.mp3]',
                     'data-cloze="y" data-ordinal="2">[&#91;type:Answer]]',
                     'data-cloze="z" data-ordinal="3">[&#97;nki:tts lang=en_US]']
    (question, _), = card_sides(collection, "plain-hint")
    assert question == ('<div class="question">Plain <span class="cloze" data-cloze="x" data-ordinal="1">'
                        "[&#115;ound:evil.mp3]</span> text</div>")
    for card_id in ("hint-tags", "plain-hint", "latex", "tex-hints"):
        for note_card in collection.get_note(collection.find_notes(f'"origin:*· {card_id}"')[0]).cards():
            assert (note_card.question_av_tags(), note_card.answer_av_tags()) == ([], [])
            for side in (note_card.question(), note_card.answer()):
                assert "[[type:" not in side and "<img" not in side and "latex-" not in side, side
    (question, _), = card_sides(collection, "latex")
    assert question == ('<div class="question">What is &#91;$]x^2&#91;/$], &#91;LaTeX]\\input{/etc/passwd}'
                        "&#91;/latex] and &#91;$$]y&#91;/$$]?</div>")
    # A combining mark after a tag is kept, as a character reference: Anki's NFC leaves the tag closed.
    (question, answer), = card_sides(collection, "combining")
    assert question == ('<div class="question"><strong>&#824; onmouseover=alert(1) x</strong> and '
                        '<em>&#824;\u0301 onclick=alert(2)</em> end</div>\n'
                        '<div class="front"><ol class="choices"><li>&#824; onclick=alert(3) y</li>'
                        '<li class="correct">Plain</li></ol></div>')
    description = collection.decks.by_name('Hostile & "deck"')["desc"]
    assert description == "&lt;script&gt;window.pwned = 'description'&lt;/script&gt;"


def test_markdown_renders(tmp_path: Path, collection: Collection) -> None:
    imported(tmp_path, collection, "rich")
    (question, answer), = card_sides(collection, "markdown")
    assert question == ('<div class="question">What does <em>emphasis</em>, <strong>strong</strong> '
                        "and <code>code</code> look like?</div>")
    assert ('<div class="answer"><ul>\n<li>first</li>\n<li>second</li>\n</ul>\n<p>See '
            '<a href="https://www.koreaherald.com/">the article</a> or '
            '<a href="mailto:desk@example.com">write</a>.</p></div>\n'
            '<div class="extra">Line one<br />\nline two</div>') in answer


def test_math_passes_through_for_mathjax(tmp_path: Path, collection: Collection) -> None:
    imported(tmp_path, collection, "rich")
    (question, answer), = card_sides(collection, "math")
    assert question == ('<div class="question">Which formula gives the area of a circle of radius '
                        "\\(r\\)?</div>")
    assert '<div class="answer"><div>\\[ A = \\pi r^2 \\]</div></div>' in answer
    # CommonMark alone would read "\[" inside a line as an escaped "[" and drop the backslash.
    assert '<div class="extra">Inside a sentence, \\[ C = 2 \\pi r \\] stays display math.</div>' in answer


def test_cloze_inside_markdown(tmp_path: Path, collection: Collection) -> None:
    imported(tmp_path, collection, "rich")
    (first_question, first_answer), (second_question, _) = card_sides(collection, "cloze-markdown")
    assert first_question == (
        '<div class="question"><strong>Cho</strong> said ties are not a <span class="cloze" '
        'data-cloze="&lt;em&gt;zero&#x2D;sum&lt;&#x2F;em&gt;" data-ordinal="1">[...]</span> '
        'relationship, nor <span class="cloze-inactive" data-ordinal="2">a <code>race</code></span>.</div>')
    assert '<span class="cloze" data-ordinal="1"><em>zero-sum</em></span>' in first_answer
    assert '<span class="cloze" data-cloze="a&#x20;&lt;code&gt;race&lt;&#x2F;code&gt;" ' \
           'data-ordinal="2">[two words]</span>' in second_question


def test_text_is_normalised_to_nfc(tmp_path: Path, collection: Collection) -> None:
    imported(tmp_path, collection, "rich")
    (question, _), = card_sides(collection, "nfc")
    assert question == '<div class="question">Which word is this: P\u00e9kin?</div>'


def test_media_is_bundled_under_hashed_names(tmp_path: Path, collection: Collection) -> None:
    imported(tmp_path, collection, "rich")
    (question, answer), = card_sides(collection, "map")
    assert question == ('<div class="question">Which capital is marked? <img '
                        'src="sc-4f2557f318c818a16cf652df.png" alt="Map of the region" /></div>')
    assert "[anki:play:a:0]" in answer
    (note_id,) = collection.find_notes('"origin:*· map"')
    assert collection.get_note(note_id)["Audio"] == "[sound:sc-2eeb55e08e1a51af2003fabd.wav]"
    media_folder = Path(collection.media.dir())
    assert sorted(path.name for path in media_folder.iterdir()) == [
        "sc-2eeb55e08e1a51af2003fabd.wav", "sc-4f2557f318c818a16cf652df.png"]
    source = FIXTURES / "decks" / "rich" / "cards" / "media"
    assert (media_folder / "sc-4f2557f318c818a16cf652df.png").read_bytes() == (
        source / "map.png").read_bytes()
    check = collection.media.check()
    assert (list(check.missing), list(check.unused)) == ([], [])


@pytest.mark.parametrize(("reference", "message"), [
    ("![map](media/nowhere.png)", "image 'media/nowhere.png' does not exist"),
    ("![map](../deck.apkg)", "image '../deck.apkg' must be a file under media/ in the cards folder"),
    ("![map](media/notes.pdf)",
     "image 'media/notes.pdf' has an unsupported type; use one of .gif, .jpeg, .jpg, .png, .svg, .webp"),
    ("[map](media/map.png)", "a link may point only to an http(s) or mailto address, not 'media/map.png'"),
    ("![map](https://example.com/map.png)",
     "image 'https://example.com/map.png' must be a file under media/ in the cards folder"),
    ("![map](media/a%00.png)", "image 'media/a\\x00.png' has a NUL character in its name"),
    ("![map](media/folder.png)", "image 'media/folder.png' is not a regular file"),
    ("![map](media/loop.png)", "image 'media/loop.png' cannot be read: Too many levels of symbolic links"),
])
def test_bad_media_reference_fails_at_its_place(reference: str, message: str, tmp_path: Path) -> None:
    cards = copy_deck("rich", tmp_path)
    (cards / "media" / "notes.pdf").write_bytes(b"%PDF-1.4")
    (cards / "media" / "folder.png").mkdir()
    (cards / "media" / "loop.png").symlink_to("round.png")
    (cards / "media" / "round.png").symlink_to("loop.png")
    (cards / "extra.yaml").write_text(f'cards:\n  - id: bad\n    q: Which?\n    a: "{reference}"\n',
                                      encoding="utf-8")
    result = run(str(cards))
    assert (result.code, result.out) == (1, "")
    column = 9 + reference.index("(")  # at the link's target, after 'a: "'
    assert result.err == (f"{cards.as_posix()}/extra.yaml:4:{column}: error: {message}\n"
                          "1 error; nothing was written\n")
    assert not (tmp_path / "dist").exists()


def test_a_problem_in_a_block_of_lines_is_told_at_its_line(tmp_path: Path) -> None:
    cards = copy_deck("rich", tmp_path)
    (cards / "extra.yaml").write_text(
        "cards:\n  - id: block\n    q: Which?\n    a: This\n    extra: |\n      First line.\n\n"
        "      See [the notes](notes/b.txt) and \\(\\href{x}{y}\\).\n", encoding="utf-8")
    result = run(str(cards))
    at = f"{cards.as_posix()}/extra.yaml:8"
    assert result.err == (f"{at}:22: error: a link may point only to an http(s) or mailto address, not "
                          f"'notes/b.txt'\n{at}:42: error: math may not use \\href: in Anki, MathJax would "
                          "make it a link, a style or HTML attributes\n2 errors; nothing was written\n")


def test_missing_sound_fails_at_its_place(tmp_path: Path) -> None:
    cards = copy_deck("rich", tmp_path)
    (cards / "media" / "name.wav").unlink()
    result = run(str(cards))
    assert result.code == 1
    assert result.err == (f"{cards.as_posix()}/rich.yaml:20:12: error: sound 'media/name.wav' does not "
                          "exist\n1 error; nothing was written\n")


def test_cloze_markers_inside_an_image_or_link_are_refused(tmp_path: Path) -> None:
    # Cut by the edge of an image's tag, the first card's c1 deletion, rewritten for its c2 side,
    # would put the link's address into a live attribute of the image; so would a "::" inside a
    # link's address or title, split there. The second card's deletion would be lost to
    # percent-encoding, leaving its card blank, and the last card's escaped braces would make
    # one its author did not write. A whole image or link is fine.
    cards = copy_deck("rich", tmp_path)
    (cards / "extra.yaml").write_text(
        'cards:\n'
        '  - id: attribute\n'
        '    cloze: "{{c2::b}} ![{{c1::x::](media/map.png) }} [k](https://example.com/onload=x//)"\n'
        '  - id: address\n'
        '    cloze: "See [the map](https://example.com/{{c1::map}})."\n'
        '  - id: whole\n'
        '    cloze: "See {{c1::![map](media/map.png)}} and [{{c2::the site}}](https://example.com)."\n'
        '  - id: colons-in-address\n'
        '    cloze: "{{c1::[x](https://a.example/c::d)}}[z](https://example.com/onmouseover=x//)"\n'
        '  - id: colons-in-title\n'
        '    cloze: \'See {{c1::[the map](https://example.com "Map::hint")}}.\'\n'
        '  - id: escaped-braces\n'
        '    cloze: \'\\{\\{c2::made}} by escapes, beside {{c1::one written}}.\'\n'
        '  - id: one-made-one-lost\n'  # as many deletions in the HTML as written, but not the same
        '    cloze: \'\\{\\{c2::made}} by escapes, see [the map](https://example.com/{{c1::Beijing}})\'\n'
        # Anki would leave the link, the emphasis or the paragraph open after the deletion, and
        # they would run on over the Extra, Source and Origin fields.
        '  - id: across-a-link\n'
        '    cloze: "[Read {{c1::Beijing::city](https://example.com/)}} hosted the talks."\n'
        '  - id: across-emphasis\n'
        '    cloze: "**Big {{c1::Beijing**}} hosted the talks."\n'
        '  - id: across-paragraphs\n'
        '    cloze: "{{c1::one\\n\\ntwo}}"\n'
        '  - id: inside-and-around\n'
        '    cloze: "{{c1::**Cho**}} met **{{c2::Wang}}** in [{{c3::Beijing}}](https://example.com)\n'
        '      {{c4::x::a *hint*}}"\n',
        encoding="utf-8")
    result = run(str(cards))
    inside = ("a cloze marker ({{cN::, :: or }}) is inside an image's description or a link's address or "
              "title; keep the markers out of them")
    changed = ("the Markdown around a cloze deletion changes it (a deletion in a link's address, or braces "
               "escaped with \\); write each deletion in plain text")
    across = ("a cloze deletion starts and ends in different Markdown elements (a link, emphasis, a "
              "paragraph); put its markers and its hint's '::' all inside or all outside each one")
    lines = [f"{cards.as_posix()}/extra.yaml:{line}:12: error: {message}\n"
             for line, message in ((3, inside), (5, changed), (9, inside), (11, inside), (13, changed),
                                   (15, changed), (17, across), (19, across), (21, across))]
    assert result.err == "".join(lines) + "9 errors; nothing was written\n"


def test_math_that_would_make_links_or_html_is_refused(tmp_path: Path) -> None:
    # Anki's MathJax would turn \href into a live link and \style into an attribute; an escaped
    # backslash followed by "(" reaches Anki as a math delimiter too.
    cards = copy_deck("rich", tmp_path)
    (cards / "extra.yaml").write_text(
        "cards:\n"
        "  - id: link\n"
        "    q: '\\(\\href{javascript:alert(1)}{Which?}\\)'\n"
        "    a: '\\\\(\\style{display:none}{This}\\\\)'\n"
        "    extra: '\\(\\mmlToken{mi}[href=\"javascript:alert(1)\"]{x}\\)'\n"
        # MathJax's search for the closing skips an escaped pair, and a closing inside braces.
        "  - id: late-closing\n"
        "    q: 'Click \\( a \\\\) \\href{javascript:alert(2)}{here} \\\\)'\n"
        "    a: '\\( \\text{\\)} \\style{color:red}{x} \\\\)'\n"
        "  - id: near-misses\n"
        "    q: 'What does `\\(\\href\\)` do, and \\(\\mathrm{d}x\\)?'\n"  # code is not math to MathJax
        "    a: '\\(a \\\\style\\)'\n"  # an escaped backslash, then the word style
        "    extra: 'A \\url outside math is text'\n"
        # \\unicode's font goes into a style attribute; a definition lasts for the next cards.
        "  - id: definitions\n"
        "    q: '\\(\\unicode[x;position:fixed]{x41}\\)'\n"
        "    a: '\\(\\def\\frac#1#2{#2/#1}\\)'\n"
        "    extra: '\\(\\newcommand{\\neq}{=}\\)'\n"
        "  - id: loading\n"
        "    q: '\\(\\require{html}\\)'\n"
        "    a: '\\(\\DeclarePairedDelimiter\\abs{\\lvert}{\\rvert}\\)'\n"
        "  - id: more\n"
        "    q: '\\(\\fcolorbox{red;position:fixed}{white}{x}\\)'\n"
        "    a: '\\(x \\label{eq}\\)'\n"
        "    extra: '\\(\\DeclarePairedDelimitersX\\p{(}{)}\\)'\n"
        # In a cloze, Anki removes tags inside math and shows each deletion's answer: pieces join.
        "  - id: joined\n"
        "    cloze: '{{c1::Seoul}}. \\\\(\\h*r*ef{javascript:x}{here}\\\\)'\n"
        "  - id: joined-by-a-deletion\n"
        "    cloze: '{{c1::Seoul}}. \\(\\h{{c2::r}}ef{javascript:x}{here}\\)'\n"
        "  - id: joined-into-a-sound\n"
        "    cloze: '{{c1::Seoul}} `\\\\(` [*s*ound:evil.mp3] `\\\\)`'\n"
        "  - id: cloze-math\n"  # fine: a deletion inside math, and a comparison
        "    cloze: 'Energy: \\(E = {{c1::mc^2}}\\), and \\(a < b\\)'\n"
        "  - id: parentheses-in-code\n"  # fine: what Anki joins there is harmless
        "    cloze: 'A literal parenthesis is `\\(` or `\\)` in a {{c1::regex}}'\n"
        "  - id: image-between\n"  # fine: an image has nothing to leave open
        "    cloze: '{{c1::Seoul}} `\\(` ![map](media/map.png) `\\)`'\n",
        encoding="utf-8")
    result = run(str(cards))
    styling = "MathJax would make it a link, a style or HTML attributes"
    defining = "a definition would last, and change the math of the cards shown after this one"
    assert result.err == "".join(
        f"{cards.as_posix()}/extra.yaml:{line}:{column}: error: math may not use \\{command}: in Anki, "
        f"{effect}\n"
        for line, column, command, effect in (
            # Told at the command: after its field's start and any math before it.
            (3, 11, "href", styling), (4, 12, "style", styling), (5, 15, "mmlToken", styling),
            (7, 24, "href", styling), (8, 22, "style", styling), (14, 11, "unicode", styling),
            (15, 11, "def", defining), (16, 15, "newcommand", defining),
            (18, 11, "require", "it would load a MathJax extension"),
            (19, 11, "DeclarePairedDelimiter", defining), (21, 11, "fcolorbox", styling),
            (22, 13, "label", defining), (23, 15, "DeclarePairedDelimitersX", defining))
    ) + "".join(f"{cards.as_posix()}/extra.yaml:{line}:12: error: math may not use \\href (as Anki joins a "
                "cloze's math)\n" for line in (25, 27)) + (
        f"{cards.as_posix()}/extra.yaml:29:12: error: in a cloze, Anki removes the Markdown inside math, "
        "which would make one of its own tags ([sound:…], [[type:…]], [latex]…): keep Markdown out of the "
        "math\n"
        "16 errors; nothing was written\n")


def test_media_name_longer_than_the_file_system_takes_is_a_card_problem(tmp_path: Path) -> None:
    cards = copy_deck("rich", tmp_path)
    name = f"media/{'a' * 300}.mp3"
    card = f"cards:\n  - id: long\n    q: Which?\n    a: This\n    sound: {name}\n"
    (cards / "extra.yaml").write_text(card, encoding="utf-8")
    result = run(str(cards), "--check")
    assert result.err == (f"{cards.as_posix()}/extra.yaml:5:12: error: sound '{name}' cannot be read: "
                          "File name too long\n1 error; nothing was written\n")


def test_media_file_that_is_a_pipe_is_refused(tmp_path: Path) -> None:
    cards = copy_deck("rich", tmp_path)
    os.mkfifo(cards / "media" / "pipe.png")  # reading it would wait for a writer for ever
    (cards / "extra.yaml").write_text('cards:\n  - id: pipe\n    q: "![x](media/pipe.png)"\n    a: A\n',
                                      encoding="utf-8")
    # In a process of its own: were the pipe read, the test would fail on the timeout, not hang.
    result = subprocess.run([sys.executable, str(PROJECT / "build.py"), str(cards)], text=True,
                            capture_output=True, check=False, timeout=60)
    assert result.stderr == (f"{cards.as_posix()}/extra.yaml:3:13: error: image 'media/pipe.png' is not a "
                             "regular file\n1 error; nothing was written\n")


def test_media_link_leaving_the_cards_folder_is_refused(tmp_path: Path) -> None:
    cards = copy_deck("rich", tmp_path)
    secret = tmp_path / "secret.png"
    shutil.copy(cards / "media" / "map.png", secret)
    (cards / "media" / "leak.png").symlink_to(secret)
    (cards / "extra.yaml").write_text('cards:\n  - id: leak\n    q: "![x](media/leak.png)"\n    a: A\n',
                                      encoding="utf-8")
    result = run(str(cards))
    assert result.err == (f"{cards.as_posix()}/extra.yaml:3:13: error: image 'media/leak.png' leaves the "
                          "cards folder\n1 error; nothing was written\n")


def test_media_names_with_spaces_and_other_scripts(tmp_path: Path, collection: Collection) -> None:
    cards = copy_deck("rich", tmp_path)
    shutil.copy(cards / "media" / "map.png", cards / "media" / "北京 map.png")
    (cards / "extra.yaml").write_text('cards:\n  - id: named\n    q: "Which? ![map](<media/北京 map.png>)"\n'
                                      "    a: This\n", encoding="utf-8")
    result = run(str(cards), "--out", str(tmp_path / "rich.apkg"))
    assert (result.code, result.err) == (0, "")
    import_package(collection, tmp_path / "rich.apkg")
    (question, _), = card_sides(collection, "named")
    assert question == ('<div class="question">Which? <img src="sc-4f2557f318c818a16cf652df.png" '
                        'alt="map" /></div>')
