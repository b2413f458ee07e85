"""Render each card's Markdown into the HTML of its note fields.

Author text is never trusted as HTML: raw HTML, comments and entities are
shown as the characters typed, links keep only http(s) and mailto targets,
images and sounds must be files under ``cards/media/``. MathJax delimiters
``\\( \\)`` and ``\\[ \\]`` pass through for Anki to typeset, and cloze
markers ``{{c1::...}}`` survive Markdown untouched.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from studycards.cards import CLOZE_PATTERN, MEDIA_FOLDER, Card, Deck, Kind
from studycards.problems import Problem

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

IMAGE_TYPES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})
SOUND_TYPES = frozenset({".mp3", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".flac"})
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)

# Text without any of these renders to itself, HTML-escaped: no need to
# run the Markdown parser (a test holds this fast path to the parser's output).
# What may open a block at the start of a line: indented code, a heading, a quote, a bullet or
# ordered list item, a thematic break, a fence, a link reference definition, display math.
_BLOCK_START = re.compile(r"\s|#|>|[-+*](?:\s|$)|(?:[-*_][ \t]*){3,}$|\d{1,9}[.)](?:\s|$)|```|~~~|\[|\\\[")
# Tested one at a time (a character anywhere, then the first, the last, two spaces in a row):
# as one pattern, every alternative would be tried at every character.
_MARKDOWN_CHARACTER = re.compile(r"[\\`*_\[\]<>&~|\n\r\t]")
_MARKDOWN_START = re.compile(r"[\s#>+=\-0-9]")
_DOUBLE_SPACE = re.compile(r"\s\s")
# MathJax commands that put links, styles or HTML attributes into the card (its "safe"
# extension, which would filter them, is not loaded in Anki), the one that loads more, and
# those that define commands or settings (newcommand, mathtools, ams, color), which last in
# Anki's MathJax and change the cards shown after.
_MATHJAX_STYLING = ("href", "url", "class", "cssId", "style", "data", "mmlToken", "bbox", "unicode",
                    "fcolorbox")
_MATHJAX_LOADING = ("require",)
_MATHJAX_DEFINING = ("def", "gdef", "edef", "xdef", "let", "newcommand", "renewcommand", "newenvironment",
                     "renewenvironment", "DeclareMathOperator", "Newextarrow", "definecolor", "setOptions",
                     "DeclarePairedDelimiter", "DeclarePairedDelimiterX", "DeclarePairedDelimiterXPP",
                     "DeclarePairedDelimiters", "DeclarePairedDelimitersX", "DeclarePairedDelimitersXPP",
                     "newtagform", "renewtagform", "mathtoolsset", "label")
# A backslash is a command's only if an even number of backslashes comes before it.
_MATHJAX_UNSAFE_NAMES = "|".join(_MATHJAX_STYLING + _MATHJAX_LOADING + _MATHJAX_DEFINING)
_MATHJAX_UNSAFE = re.compile(rf"(?<!\\)(?:\\\\)*(\\(?:{_MATHJAX_UNSAFE_NAMES}))(?![A-Za-z])")
# The first character of a tag that Anki acts on (see ``inert_anki_tags``): its "[", or,
# in a cloze hint, which Anki puts in brackets, the character after the hint's "::".
_ANKI_TAG_NAME = r"(?:sound:|anki:|\[type:|/?(?:latex|\$\$?)\])"
# A hint that is a LaTeX tag's name, whole ("{{c1::x::latex}}"), makes the tag once Anki adds the brackets.
_ANKI_HINT_TAG_NAME = r"(?:sound:|anki:|\[type:|/?(?:latex|\$\$?)(?:\]|\}\}))"
_ANKI_TAG = re.compile(rf"\[(?={_ANKI_TAG_NAME})|(?<=::)(?={_ANKI_HINT_TAG_NAME}).", re.IGNORECASE)
# A character right after a tag: see ``nfc_stable``.
_AFTER_TAG = re.compile(r">(.)", re.DOTALL)
_MATH_OPENING = re.compile(r"\\[(\[]")
# One of Anki's own tags, whole: what removing tags inside a cloze's math could make.
_ANKI_TAG_MADE = re.compile(rf"\[{_ANKI_TAG_NAME}", re.IGNORECASE)
# Math as Anki finds it in a cloze field: in the raw text, tags and all.
_ANKI_MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)
# What MathJax leaves alone in a card: code.
_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_VOID_ELEMENTS = frozenset({"img", "br", "hr", "input"})
# Math within a line: each opening's closing, and the token it makes. texmath finds display
# math only where it starts a block, and its inline rule's regex rescans the rest of the text
# for every opening left unclosed.
_MATH_IN_LINE = {"\\(": ("\\)", "math_inline"), "\\[": ("\\]", "math_display_in_line")}


@dataclass(frozen=True)
class MediaFile:
    name: str  # the content-hashed name inside the package
    data: bytes


@dataclass(frozen=True)
class Place:
    """Where a text came from, for its problems: its file and start, and, for a card's value,
    the card and key, which place a problem at the words it is about."""

    file: str
    line: int
    column: int
    card: Card | None = None
    key: str = ""

    def of(self, *snippets: str) -> tuple[str, int, int]:
        """Where the first of ``snippets`` written in the text is, as far as that can be told."""
        if self.card is None:
            return self.file, self.line, self.column
        return (self.file, *self.card.place(self.key, *snippets))


@dataclass
class RenderedNote:
    card: Card
    fields: dict[str, str]
    choices: list[str] = field(default_factory=list)  # each choice's HTML, in order


@dataclass
class MediaCollector:
    """Resolves media references under ``cards/``, each file read and hashed once."""

    cards_folder: Path
    files: dict[str, MediaFile] = field(default_factory=dict)
    _by_reference: dict[str, MediaFile | str] = field(default_factory=dict)

    def resolve(self, reference: str, allowed: frozenset[str], what: str) -> MediaFile | str:
        """The bundled file for ``reference``, or a message saying why it cannot be."""
        key = f"{what}:{reference}"
        if key not in self._by_reference:
            self._by_reference[key] = self._load(reference, allowed, what)
        return self._by_reference[key]

    def _load(self, reference: str, allowed: frozenset[str], what: str) -> MediaFile | str:
        relative = PurePosixPath(reference)
        if relative.is_absolute() or ".." in relative.parts or relative.parts[:1] != (MEDIA_FOLDER,):
            return f"{what} '{reference}' must be a file under {MEDIA_FOLDER}/ in the cards folder"
        suffix = relative.suffix.lower()
        if suffix not in allowed:
            return (f"{what} '{reference}' has an unsupported type; use one of "
                    f"{', '.join(sorted(allowed))}")
        if "\x00" in reference:  # "%00" in a Markdown target: no file system takes it
            return f"{what} '{reference}' has a NUL character in its name"
        path = self.cards_folder.joinpath(*relative.parts)
        # realpath, not resolve(): a loop of links must not raise, only fail to be read below.
        root = Path(os.path.realpath(self.cards_folder))
        if not Path(os.path.realpath(path)).is_relative_to(root):
            return f"{what} '{reference}' leaves the cards folder"
        try:
            if path.exists() and not path.is_file():  # a folder, or a pipe that would never end
                return f"{what} '{reference}' is not a regular file"
            data = path.read_bytes()
        except FileNotFoundError:
            return f"{what} '{reference}' does not exist"
        except OSError as error:
            return f"{what} '{reference}' cannot be read: {error.strerror}"
        # Hashed names keep two different files from ever sharing a name in
        # the collection's media folder (Anki would rename and rewrite one).
        name = f"sc-{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
        media = MediaFile(name, data)
        self.files[name] = media
        return media


def escape_html(text: str) -> str:
    """Text as HTML, escaped exactly as markdown-it escapes text (a test holds the two equal)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class Renderer:
    """Markdown to safe HTML, with media resolved through one collector."""

    def __init__(self, media: MediaCollector) -> None:
        self.media = media
        self._parser: MarkdownIt | None = None

    @property
    def _markdown(self) -> MarkdownIt:
        # Made on first use: a build whose text is all plain, or all cached, never loads it.
        if self._parser is None:
            self._parser = _make_markdown()
        return self._parser

    @staticmethod
    def plain(source: str) -> str | None:
        """The HTML of text that holds no Markdown at all (most fields), else ``None``."""
        if not source:
            return ""
        if (_MARKDOWN_CHARACTER.search(source) or _MARKDOWN_START.match(source)
                or source[-1].isspace() or _DOUBLE_SPACE.search(source)):  # isspace() is regex \s
            return None
        html = escape_html(source)
        return inert_anki_tags(html) if "::" in html else html  # a cloze hint: see inert_anki_tags

    def text(self, source: str, place: Place, problems: list[Problem]) -> str:
        """Render one field's Markdown; a lone paragraph loses its ``<p>``."""
        html = self.plain(source)
        return self.markdown(source, place, problems) if html is None else html

    def markdown(self, source: str, place: Place, problems: list[Problem]) -> str:
        """Render text that ``plain`` could not: through markdown-it."""
        if "\n" in source or _BLOCK_START.match(source):
            tokens = self._markdown.parse(source)
        else:
            # One line that cannot open a block is one paragraph: the inline parser alone
            # gives the same tokens, at a third of the cost.
            tokens = self._markdown.parseInline(source.strip())  # as a paragraph is stripped
        for token in tokens:
            for child in token.children or ():
                if child.type == "image":
                    self._resolve_image(child, place, problems)
                elif child.type == "link_open" and not _is_web_link(href := str(child.attrs.get("href", ""))):
                    problems.append(Problem(*place.of(*_written_target(href)), "error",
                                            "a link may point only to an http(s) or mailto "
                                            f"address, not '{href}'"))
        if len(tokens) == 3 and tokens[0].type == "paragraph_open":
            tokens = tokens[1].children or []
        elif len(tokens) == 1 and tokens[0].type == "inline":
            tokens = tokens[0].children or []
        rendered: str = self._markdown.renderer.render(tokens, self._markdown.options, {})
        unsafe = _unsafe_math_command(rendered)
        if unsafe:
            effect = ("a definition would last, and change the math of the cards shown after this one"
                      if unsafe[1:] in _MATHJAX_DEFINING else "it would load a MathJax extension"
                      if unsafe[1:] in _MATHJAX_LOADING else "MathJax would make it a link, a style or HTML "
                      "attributes")
            problems.append(Problem(*place.of(unsafe), "error",
                                    f"math may not use {unsafe}: in Anki, {effect}"))
        return nfc_stable(inert_anki_tags(rendered.rstrip("\n")))

    def _resolve_image(self, token: Token, place: Place, problems: list[Problem]) -> None:
        # markdown-it percent-encodes the target; the file is named as the author wrote it.
        encoded = str(token.attrs.get("src", ""))
        src = unquote(encoded)
        resolved = self.media.resolve(src, IMAGE_TYPES, "image")
        if isinstance(resolved, str):
            problems.append(Problem(*place.of(*_written_target(encoded)), "error", resolved))
        else:
            token.attrs["src"] = resolved.name

    def sound(self, card: Card, problems: list[Problem]) -> str:
        if not card.sound:
            return ""
        resolved = self.media.resolve(card.sound, SOUND_TYPES, "sound")
        if isinstance(resolved, str):
            problems.append(Problem(card.file, *card.position("sound"), "error", resolved))
            return ""
        return f"[sound:{resolved.name}]"


def render_card(card: Card, deck: Deck, renderer: Renderer, problems: list[Problem]) -> RenderedNote:
    """Render one card's fields; problems are links and media that cannot be used."""
    choices = [renderer.text(choice, Place(card.file, *place), problems)
               for choice, place in zip(card.choices, card.choice_positions, strict=True)]
    return RenderedNote(card, note_fields(card, deck, choices, renderer, problems), choices)


def render_description(deck: Deck, renderer: Renderer, problems: list[Problem]) -> str:
    return renderer.text(deck.description, Place(deck.deck_file, *deck.description_position), problems)


def render_deck_source(deck: Deck, renderer: Renderer, problems: list[Problem]) -> str:
    """The source of every card that names none; its problems are reported once, at deck.yaml."""
    return renderer.text(deck.source, Place(deck.deck_file, *deck.source_position), problems)


def note_fields(card: Card, deck: Deck, choices: list[str], renderer: Renderer,
                problems: list[Problem]) -> dict[str, str]:
    """The note's fields by name, in the order of its note type."""
    def text(key: str, value: str) -> str:
        html = renderer.plain(value)  # plain text needs no place to report problems at
        return renderer.markdown(value, Place(card.file, *card.position(key), card, key), problems) \
            if html is None else html

    common = {
        "Extra": text("extra", card.extra),
        # The deck's default is checked once for the deck (see assemble), not at every card.
        "Source": text("source", card.source) if card.source else render_deck_source(deck, renderer, []),
        "Origin": origin(card),
        "Audio": renderer.sound(card, problems),
    }
    if card.kind is Kind.CLOZE:
        cloze = text("cloze", card.cloze)
        cloze_problem = _cloze_markup_problem(card.cloze, cloze) or _cloze_math_problem(cloze)
        if cloze_problem:
            problems.append(Problem(card.file, *card.position("cloze"), "error", cloze_problem))
        return {"Text": cloze, **common}
    question, answer = text("q", card.question), text("a", card.answer)
    if card.kind is Kind.CHOICE:
        return {"Question": question, "Choices": choices_html(card, choices),
                "Answer": answer, **common}
    return {"Question": question, "Answer": answer, **common}


def _cloze_markup_problem(source: str, html: str) -> str:
    """Why the deletions of a cloze text do not come through its Markdown whole, else "".

    Anki and the quiz page split each deletion at its markers ("{{c1::", a hint's "::",
    "}}") in the HTML. A marker inside a tag (an image's description, a link's title)
    would break the tag open, and let the text after it into the tag's attributes. A
    deletion in a link's address is lost to percent-encoding (its card would be blank),
    and braces escaped in Markdown make one the author did not write. Text outside tags
    has "<" and ">" escaped, so every "<" starts a tag.
    """
    tags = [match.span() for match in _TAG.finditer(html)]
    tag_starts = [start for start, _ in tags]
    # After each tag, the elements still open: each by the index of the tag that opened it.
    open_after: list[tuple[int, ...]] = []
    open_now: tuple[int, ...] = ()
    for number, (start, _) in enumerate(tags):
        name = _TAG_NAME.match(html, start)
        if name is not None and name.group(2).lower() not in _VOID_ELEMENTS:
            open_now = open_now[:-1] if name.group(1) else (*open_now, number)
        open_after.append(open_now)

    def inside_tag(index: int) -> bool:
        last = bisect.bisect_left(tag_starts, index) - 1  # the last tag that starts before index
        return last >= 0 and tags[last][1] > index

    def open_at(index: int) -> tuple[int, ...]:
        last = bisect.bisect_left(tag_starts, index) - 1
        return open_after[last] if last >= 0 else ()

    numbers = []
    for match in CLOZE_PATTERN.finditer(html):
        markers = (match.start(), match.end(2), match.end()) if match.group(3) is not None else (
            match.start(), match.end())
        if any(inside_tag(index) for index in markers):
            return ("a cloze marker ({{cN::, :: or }}) is inside an image's description or a link's "
                    "address or title; keep the markers out of them")
        if len({open_at(index) for index in markers}) > 1:
            # Anki puts the deletion in a span and drops the hint: an element cut in two would
            # be left open, and run on over the fields after it.
            return ("a cloze deletion starts and ends in different Markdown elements (a link, emphasis, "
                    "a paragraph); put its markers and its hint's '::' all inside or all outside each one")
        numbers.append(match.group(1))
    if numbers != [match.group(1) for match in CLOZE_PATTERN.finditer(source)]:
        return ("the Markdown around a cloze deletion changes it (a deletion in a link's address, or "
                "braces escaped with \\); write each deletion in plain text")
    return ""


def _cloze_math_problem(html: str) -> str:
    """Why a cloze text's math would reach Anki's MathJax other than checked, else "".

    In a cloze field Anki removes every HTML tag between "\\(" and "\\)" (or "\\["
    and "\\]"), wherever it finds them, code and link titles included, and a
    deletion shows its answer: either can join pieces of text into a command no
    check saw ("\\h*r*ef", "\\h{{c1::r}}ef"), or into one of Anki's own tags.
    """
    if "\\" not in html:
        return ""
    shown = CLOZE_PATTERN.sub(lambda match: match.group(2), html)  # each deletion as its answer
    joined = []
    for math in _ANKI_MATH.finditer(shown):
        removed = [(tag.group(1), tag.group(2).lower()) for tag in _TAG_NAME.finditer(math.group())
                   if tag.group(2).lower() not in _VOID_ELEMENTS]  # <br>, <img>: nothing to leave open
        # An element opened or closed there, and not both, would run on over the fields after it.
        if Counter(name for slash, name in removed if slash) != Counter(name for slash, name in removed
                                                                       if not slash):
            return ("in a cloze, Anki removes the Markdown, code and links inside math (\\( \\) or \\[ \\]), "
                    "which would leave one of them open: keep them out of the math")
        joined.append(_TAG.sub("", math.group()))
    text = " ".join(joined)
    if _ANKI_TAG_MADE.search(text):
        return ("in a cloze, Anki removes the Markdown inside math, which would make one of its own tags "
                "([sound:…], [[type:…]], [latex]…): keep Markdown out of the math")
    # The joined math alone (code there is stripped too, so it counts), then the whole text as
    # the other fields are checked.
    unsafe = _unsafe_math_command(text) or _unsafe_math_command(shown)
    if not unsafe or _unsafe_math_command(html) == unsafe:
        return ""  # none; or one in the field as written, told where it was rendered
    return f"math may not use {unsafe} (as Anki joins a cloze's math)"


def _unsafe_math_command(html: str) -> str:
    """The first command of ``_MATHJAX_UNSAFE`` that Anki's MathJax could read as math, else "".

    Searched in the HTML, not in the Markdown's math: "\\\\(" typed as an escaped
    backslash reaches Anki as "\\(", which MathJax typesets all the same. Everything
    after the first opening counts: MathJax's own search for the closing skips escaped
    pairs and braces, and a copy of it here could disagree with it; a command outside
    math is refused with it, which costs nothing but a rare false alarm.
    """
    if "\\" not in html:
        return ""
    text = _CODE.sub(" ", html)
    opening = _MATH_OPENING.search(text)
    command = _MATHJAX_UNSAFE.search(text, opening.end()) if opening else None
    return command.group(1) if command else ""


def origin(card: Card) -> str:
    """Where a card comes from, shown on its back and searchable in Anki."""
    return origin_text(card.file_name, card.id)


def origin_text(file_name: str, card_id: str) -> str:
    return inert_anki_tags(escape_html(f"{file_name} · {card_id}"))


def inert_anki_tags(html: str) -> str:
    """Tags Anki acts on in any field, typed by an author, stay text.

    Anki plays "[sound:…]", speaks "[anki:tts]…[/anki:tts]", runs LaTeX on "[latex]…",
    "[$]…" and "[$$]…" (in any case), and its desktop reviewer puts a typing box
    wherever "[[type:…]]" is. A cloze hint is shown in brackets, so a hint that starts
    like one ("{{c1::x::sound:…}}") makes the tag too. Only the Audio field holds a
    sound tag, one this program wrote, and only the typed note type's template a
    typing box. The first character becomes a character reference: shown the same.
    """
    if "[" not in html and "::" not in html:
        return html
    return _ANKI_TAG.sub(lambda match: f"&#{ord(match.group())};", html)


def choices_html(card: Card, choices: list[str]) -> str:
    # The right choice carries a class that only the back's stylesheet marks.
    items = []
    for choice, html in zip(card.choices, choices, strict=True):
        css_class = ' class="correct"' if choice == card.answer else ""
        items.append(f"<li{css_class}>{html}</li>")
    return nfc_stable(f'<ol class="choices">{"".join(items)}</ol>')


def _written_target(encoded: str) -> tuple[str, ...]:
    """How the Markdown may write a link's or image's target that markdown-it gives percent-encoded:
    as read, as given, or in <>."""
    target = unquote(encoded)
    return f"({target}", f"({encoded}", f"(<{target}>"


def nfc_stable(html: str) -> str:
    """HTML that stays the same HTML when Anki stores it in Unicode's NFC, as it stores every field.

    Text that starts with a combining mark, right after a tag, would be composed with the
    tag's ">" (">" and U+0338 make "≯"), leaving the tag open and the text inside it, as
    attributes. Such a mark becomes a character reference, which NFC leaves alone and a
    browser shows as the mark. (The text itself is NFC already: see the checker.)
    """
    if unicodedata.is_normalized("NFC", html):
        return html
    return _AFTER_TAG.sub(lambda match: f">&#{ord(match.group(1))};" if unicodedata.combining(match.group(1))
                          else match.group(), html)


def _make_markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.texmath import texmath_plugin

    markdown = MarkdownIt("commonmark", {"html": False, "breaks": True})
    # Entities stay the characters typed: "&lt;" shows as "&lt;", not "<".
    markdown.disable("entity")
    markdown.use(texmath_plugin, delimiters="brackets")
    markdown.disable("math_inline")  # replaced by _math_in_line, which also takes display math
    markdown.inline.ruler.before("escape", "math_in_line", _math_in_line)
    markdown.validateLink = _allowed_link  # type: ignore[method-assign]
    markdown.add_render_rule("math_inline", _render_math(r"\(", r"\)"))
    markdown.add_render_rule("math_display_in_line", _render_math("\\[", "\\]"))
    markdown.add_render_rule("math_block", _render_math("\\[", "\\]", block=True))
    markdown.add_render_rule("math_block_eqno", _render_math("\\[", "\\]", block=True))
    return markdown


def _math_in_line(state: StateInline, silent: bool) -> bool:
    """``\\( … \\)`` and ``\\[ … \\]`` within a line, kept whole for Anki's MathJax.

    Without it CommonMark would read ``\\[`` inside a sentence as an escaped "[" and
    drop the backslash. Each kind of closing is looked for once per text, so a text
    of many unclosed openings costs one pass, not one pass per opening.
    """
    closing, name = _MATH_IN_LINE.get(state.src[state.pos:state.pos + 2], ("", ""))
    if not closing:
        return False
    last_closings = state.env.setdefault("studycards last closings", {})
    if (state.src, closing) not in last_closings:
        last_closings[state.src, closing] = state.src.rfind(closing)
    content_start = state.pos + 2
    # At least one character between the two, as texmath's own rule asks.
    if last_closings[state.src, closing] <= content_start:
        return False
    end = state.src.find(closing, content_start + 1)
    if not silent:
        token = state.push(name, "math", 0)
        token.content = state.src[content_start:end]
        token.markup = state.src[state.pos:content_start]
    state.pos = end + 2
    return True


def _allowed_link(url: str) -> bool:
    """Which targets become links or images at all; any other scheme stays visible text.

    Relative targets are kept so that Renderer.text can check them: an image
    must name a media file, a link must not point at a file.
    """
    return _is_web_link(url) or not _SCHEME.match(url.strip())


def _is_web_link(url: str) -> bool:
    return url.strip().lower().startswith(_SAFE_SCHEMES)


def _render_math(opening: str, closing: str, block: bool = False) -> Any:
    def render(self: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
        body = f"{opening}{escape_html(tokens[index].content)}{closing}"
        return f"<div>{body}</div>\n" if block else body
    return render
