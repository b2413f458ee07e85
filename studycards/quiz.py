"""The standalone HTML quiz written beside the package: one file, no network.

The page is meant to be opened straight from disk on a phone or a desktop,
mailed around, or put on any static host, so everything it needs is inside
it: the note types' stylesheet, the page's own CSS and JavaScript, the card
data as JSON, and every image and sound as a ``data:`` URI.

Trust: the only HTML that reaches the page as markup is what ``render.py``
produced (field HTML, already safe) and the few wrappers made here around
it. Every other string (deck and subdeck names, tags, file names, ids, the
answers a typed card is checked against) travels as JSON text and is put on
the page with ``textContent`` by the script. The JSON is escaped so that no
author text can end the script element it sits in, and a Content-Security-
Policy allows nothing but this page's own script (pinned by its hash),
inline styles and ``data:`` media.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import PurePosixPath
from typing import TextIO

from studycards.cards import CLOZE_PATTERN, Card, CardFacts, Deck, Kind, cloze_number, cloze_numbers
from studycards.notetypes import STYLESHEET
from studycards.render import MediaFile, RenderedNote

MIME_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
    ".wav": "audio/wav", ".m4a": "audio/mp4", ".flac": "audio/flac",
}

# render.py escapes every quote of author text, so `src="` only ever starts a real attribute.
_SRC_ATTRIBUTE = re.compile(r'(?<=\bsrc=")([^"]*)(?=")')
_SOUND_TAG = re.compile(r"\[sound:([^\]]+)\]")

# What JSON may hold but an HTML script element may not: "</script" or "<!--" would end or
# confuse it, and U+2028/U+2029 end a line in older JavaScript engines.
# Made once: json.dumps would make an encoder for every card.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}


class QuizWriter:
    """Writes the page as the cards come: its head, one card's data at a time, then the rest."""

    def __init__(self, stream: TextIO, deck: Deck) -> None:
        self._stream = stream
        self._deck = deck
        self._first = True
        self._subdecks: set[str] = set()  # relative to the deck; "" is the deck itself
        self._tags: set[str] = set()
        head, self._tail = _PAGE.split("{data}")
        stream.write(head.format(**_page_parts(deck)))
        stream.write('{"cards":[')

    def add(self, cards: list[CardFacts], items: str) -> None:
        """Add cards' data, as ``quiz_json`` made it (each card's media in it already)."""
        if not cards:
            return
        for card in cards:
            self._subdecks.add(card.subdeck)
            self._tags.update(card.tags)
        self._stream.write(("" if self._first else ",") + items)
        self._first = False

    def finish(self, description_html: str, description_media: dict[str, MediaFile]) -> None:
        rest = {
            "deck": {"id": self._deck.id, "name": self._deck.name,
                     "description": embed_media(description_html, description_media)},
            "subdecks": _subdeck_options(self._deck, self._subdecks),
            "tags": _tag_options(self._tags),
        }
        text = _COMPACT_JSON.encode(rest)
        self._stream.write("]," + escape_json_for_script(text[1:]))
        self._stream.write(self._tail.format(**_page_parts(self._deck)))


def _page_parts(deck: Deck) -> dict[str, str]:
    return {
        "csp": content_security_policy(_SCRIPT),  # fixed text: no quote or markup to escape
        "title": html.escape(deck.name),
        "stylesheet": STYLESHEET,
        "page_css": _PAGE_CSS,
        "script": _SCRIPT,
    }


def content_security_policy(script: str) -> str:
    # A hash rather than 'unsafe-inline' for scripts: even if markup with an inline event
    # handler ever slipped into a field, the browser would refuse to run it.
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")


def escape_json_for_script(text: str) -> str:
    for character, escape in _JSON_ESCAPES.items():
        if character in text:  # most are absent, and looking is quicker than replacing
            text = text.replace(character, escape)
    return text


def quiz_json(cards_data: list[dict[str, object]]) -> str:
    """Cards' data for the page (``quiz_data``), as JSON text safe inside its script element.

    The cards come without the brackets of a list, so the pieces of several files join with commas.
    """
    return escape_json_for_script(_COMPACT_JSON.encode(cards_data)[1:-1])


def quiz_data(deck: Deck, note: RenderedNote, media: dict[str, MediaFile]) -> dict[str, object]:
    """One card's data for the page: what it shows and how to filter it."""
    card = note.card
    fields, choices = note.fields, note.choices
    if media:  # most files bundle none: their fields go as they are
        fields = {name: embed_media(value, media) for name, value in fields.items()}
        choices = [embed_media(choice, media) for choice in choices]
    correct = card.choices.index(card.answer) if card.answer in card.choices else -1
    return {
        "id": card.id,
        "kind": card.kind.value,
        "file": card.file_name,  # not the folder: the page is handed out, and names no one's disk
        "line": card.line,
        "deck": deck.full_deck_name(card.subdeck),
        "tags": list(card.tags),
        "extra": fields["Extra"],
        "source": fields["Source"],
        "audio": sound_html(note.fields["Audio"], media),
        "choices": choices,
        "correct": correct,
        "items": quiz_items(card, fields),
    }


def quiz_items(card: Card, fields: dict[str, str]) -> list[dict[str, str]]:
    """One item per card Anki would make from the note: a front and a back each."""
    if card.kind is Kind.CLOZE:
        text = fields["Text"]
        return [{"label": f"c{number}", "front": cloze_side(text, number, back=False),
                 "back": cloze_side(text, number, back=True)}
                for number in cloze_numbers(text)]
    question, answer = fields["Question"], fields["Answer"]
    if card.kind is Kind.REVERSED:
        return [{"label": "forward", "front": question, "back": answer},
                {"label": "reverse", "front": answer, "back": question}]
    return [{"label": "", "front": question, "back": answer}]


def cloze_side(text: str, number: int, back: bool) -> str:
    """Deletion ``number`` hidden (front) or marked (back); every other deletion shows its answer."""
    def replace(match: re.Match[str]) -> str:
        answer, hint = match.group(2), match.group(3)
        if cloze_number(match.group(1)) != number:
            return answer
        shown = answer if back else f"[{hint or '...'}]"
        return f'<span class="cloze">{shown}</span>'
    return CLOZE_PATTERN.sub(replace, text)


def embed_media(field_html: str, media: dict[str, MediaFile]) -> str:
    """The field with each bundled image's file name replaced by its data: URI."""
    if not media:
        return field_html
    def replace(match: re.Match[str]) -> str:
        file = media.get(match.group(1))
        return data_uri(file) if file else match.group(1)
    return _SRC_ATTRIBUTE.sub(replace, field_html)


def sound_html(audio_field: str, media: dict[str, MediaFile]) -> str:
    """Anki's ``[sound:...]`` tags as audio players; a sound not bundled is left out."""
    players = []
    for name in _SOUND_TAG.findall(audio_field):
        if name in media:
            players.append(f'<audio controls preload="metadata" src="{data_uri(media[name])}"></audio>')
    return "".join(players)


def data_uri(file: MediaFile) -> str:
    mime = MIME_TYPES.get(PurePosixPath(file.name).suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(file.data).decode('ascii')}"


def _subdeck_options(deck: Deck, subdecks: set[str]) -> list[dict[str, str]]:
    # Every parent of a nested subdeck is offered too, as Anki's deck list does; picking a
    # subdeck includes the subdecks below it.
    prefix = f"{deck.name}::"
    names: set[str] = set()
    for subdeck in subdecks - {""}:
        parts = subdeck.split("::")
        names.update("::".join(parts[:end]) for end in range(1, len(parts) + 1))
    return [{"value": prefix + name, "label": name} for name in sorted(names, key=_by_name)]


def _by_name(name: str) -> tuple[str, str]:
    # Case-blind, and then by case, so names differing only in case keep one order.
    return name.casefold(), name


def _tag_options(card_tags: set[str]) -> list[str]:
    # Parents of hierarchical tags ("speaker" for "speaker::wang") match their children, as in Anki.
    tags: set[str] = set()
    for tag in card_tags:
        parts = tag.split("::")
        tags.update("::".join(parts[:end]) for end in range(1, len(parts) + 1))
    return sorted(tags, key=_by_name)


# The page. Author text reaches this markup only HTML-escaped in <title> and as escaped
# JSON; everything else filled in is fixed text from this package.
_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style id="card-stylesheet">
{stylesheet}</style>
<style id="page-stylesheet">
{page_css}</style>
</head>
<body>
<header class="top">
  <h1 id="deck-name"></h1>
  <div id="description" class="description"></div>
  <div class="tabs" role="tablist">
    <button type="button" id="quiz-toggle" role="tab" aria-selected="true">Quiz</button>
    <button type="button" id="overview-toggle" role="tab" aria-selected="false">Overview</button>
  </div>
</header>
<main>
<section id="quiz" aria-label="Quiz">
  <div class="toolbar">
    <label class="filter" id="subdeck-label">Subdeck
      <select id="subdeck-filter"><option value="">All</option></select></label>
    <label class="filter" id="tag-label">Tag
      <select id="tag-filter"><option value="">All</option></select></label>
    <button type="button" id="shuffle" class="toggle" aria-pressed="false">Shuffle</button>
  </div>
  <div class="status">
    <span id="progress" aria-live="polite"></span>
    <span id="kind-label"></span>
    <span id="tally"></span>
  </div>
  <div id="stage"></div>
  <p id="empty" class="empty" hidden>No cards match these filters.</p>
  <div id="actions" class="actions">
    <p id="feedback" class="feedback" role="status" hidden></p>
    <div class="buttons">
      <button type="button" id="reveal" class="primary">Show answer</button>
      <button type="button" id="knew" class="grade knew" hidden>I knew it</button>
      <button type="button" id="didnt" class="grade didnt" hidden>I didn't</button>
      <button type="button" id="next" class="primary" hidden>Next</button>
    </div>
  </div>
  <div id="end" class="end" tabindex="-1" hidden>
    <p id="score"></p>
    <p id="score-detail"></p>
    <button type="button" id="restart" class="primary">Start again</button>
  </div>
  <p class="help">Keys: <kbd>Space</kbd> show answer · <kbd>1</kbd>–<kbd>9</kbd> pick a choice ·
    <kbd>Enter</kbd> check a typed answer · <kbd>y</kbd> I knew it · <kbd>n</kbd> I didn't ·
    <kbd>Enter</kbd> or <kbd>→</kbd> next. Showing the answer of a choice or typed card
    before answering counts as a miss.</p>
</section>
<section id="overview" aria-label="Overview of every card" hidden>
  <h2 id="overview-heading"></h2>
  <div id="overview-list"></div>
</section>
</main>
<noscript><p class="empty">The quiz needs JavaScript; the cards are in the .apkg beside this page.</p>
</noscript>
<script type="application/json" id="deck-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""

# The page around the cards. The cards themselves keep the note types' stylesheet, so a
# card looks here as it does in Anki; these rules only add the quiz's controls.
_PAGE_CSS = """\
:root {
  color-scheme: light dark;
  --page: #ecebe7; --ink: #1d1d1f; --muted: #5f5f66; --line: #cfcec9; --surface: #ffffff;
  --accent: #0b57d0; --on-accent: #ffffff; --right: #145a2a; --right-bg: #dff3e4;
  --wrong: #8c1d18; --wrong-bg: #fbe3e1; --shadow: 0 1px 3px rgba(0, 0, 0, .12);
}
@media (prefers-color-scheme: dark) {
  :root {
    --page: #121214; --ink: #e8e8ea; --muted: #a5a5ad; --line: #3d3d44; --surface: #2a2a2f;
    --accent: #8ab4f8; --on-accent: #0d1b33; --right: #b8ecc6; --right-bg: #1e4129;
    --wrong: #f6c4c0; --wrong-bg: #4f211d; --shadow: 0 1px 3px rgba(0, 0, 0, .6);
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body {
  margin: 0; background: var(--page); color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans KR",
    "Noto Sans SC", sans-serif;
  line-height: 1.45;
}
.top, main { max-width: 42rem; margin: 0 auto; padding: 0 1rem; }
main:has(#overview:not([hidden])), .top:has(#overview-toggle[aria-selected="true"]) { max-width: 76rem; }
.top { padding-top: 1rem; }
h1 { font-size: 1.35rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1rem 0; }
.description { color: var(--muted); font-size: .95rem; margin-bottom: .75rem; }
.description p { margin: .25rem 0; }
button, select, input { font: inherit; color: inherit; }
button {
  min-height: 2.75rem; padding: .4rem 1rem; border-radius: .5rem; cursor: pointer;
  border: 1px solid var(--line); background: var(--surface);
}
button:disabled { cursor: default; opacity: .5; }
button:focus-visible, select:focus-visible, input:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px;
}
.tabs { display: flex; gap: .25rem; border-bottom: 1px solid var(--line); }
.tabs button {
  border: 0; border-bottom: 3px solid transparent; border-radius: 0; background: none;
  color: var(--muted); padding: .4rem .9rem; font-weight: 600;
}
.tabs button[aria-selected="true"] { color: var(--ink); border-bottom-color: var(--accent); }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 1rem 0 .5rem; }
.filter { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
.filter select {
  min-height: 2.75rem; min-width: 6rem; max-width: 16rem; padding: .3rem .5rem; border-radius: .5rem;
  border: 1px solid var(--line); background: var(--surface); color: var(--ink); font-size: 1rem;
}
.toggle[aria-pressed="true"] {
  background: var(--accent); color: var(--on-accent); border-color: var(--accent);
}
.toggle[aria-pressed="true"]::before { content: "\\2713  "; }
.status {
  display: flex; flex-wrap: wrap; gap: .25rem 1rem; justify-content: space-between;
  font-size: .9rem; color: var(--muted); margin: .5rem 0;
}
#progress { font-weight: 600; color: var(--ink); font-variant-numeric: tabular-nums; }
#stage .card, .ov-side { border-radius: .75rem; box-shadow: var(--shadow); }
#stage .card { min-height: 8rem; }
#stage .card:focus { outline: none; }
.choice-list { display: flex; flex-direction: column; gap: .5rem; margin: 1rem 0 .25rem; }
.choice {
  display: flex; align-items: baseline; gap: .75rem; width: 100%; text-align: left;
  font-size: inherit; line-height: 1.4; padding: .55rem .75rem; background: transparent;
  border: 1px solid #c9c9cf;
}
.choice:hover:not(:disabled) { border-color: #0b57d0; }
.choice:disabled { opacity: 1; color: inherit; }
.choice .number {
  flex: none; min-width: 1.6rem; height: 1.6rem; border-radius: 50%; display: inline-flex;
  align-items: center; justify-content: center; font-size: .85rem; font-weight: 700;
  background: #ececef; color: #44444a;
}
.choice .text { flex: 1; }
.choice .mark { flex: none; font-weight: 700; }
.choice.right { background: #dff3e4; border-color: #2f8a4b; color: #145a2a; font-weight: 600; }
.choice.wrong { background: #fbe3e1; border-color: #c4463c; color: #8c1d18; }
.choice.right .number { background: #2f8a4b; color: #fff; }
.choice.wrong .number { background: #c4463c; color: #fff; }
.choice:disabled:not(.right):not(.wrong) { opacity: .7; }
.nightMode .choice { border-color: #4a4a52; }
.nightMode .choice .number { background: #3a3a42; color: #d8d8de; }
.nightMode .choice.right { background: #1e4129; border-color: #4fae6d; color: #b8ecc6; }
.nightMode .choice.wrong { background: #4f211d; border-color: #d0675e; color: #f6c4c0; }
.typed-row { display: flex; gap: .5rem; margin: 1rem 0 .25rem; }
#typed-input {
  flex: 1; min-width: 0; min-height: 2.75rem; padding: .4rem .6rem; border-radius: .5rem;
  border: 1px solid #c9c9cf; background: transparent; font-size: inherit;
}
#typed-input.right { border-color: #2f8a4b; background: #dff3e4; color: #145a2a; }
#typed-input.wrong { border-color: #c4463c; background: #fbe3e1; color: #8c1d18; }
.nightMode #typed-input { border-color: #4a4a52; }
.nightMode #typed-input.right { background: #1e4129; color: #b8ecc6; }
.nightMode #typed-input.wrong { background: #4f211d; color: #f6c4c0; }
.card audio { display: block; width: 100%; max-width: 24rem; margin-top: 1rem; }
.actions { margin: 1rem 0; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; justify-content: flex-end; }
.buttons button { min-width: 8rem; }
.primary {
  background: var(--accent); color: var(--on-accent); border-color: var(--accent); font-weight: 600;
}
.grade.knew { background: var(--right-bg); color: var(--right); font-weight: 600; }
.grade.didnt { background: var(--wrong-bg); color: var(--wrong); font-weight: 600; }
.feedback { margin: 0 0 .5rem; font-weight: 600; text-align: right; }
.feedback.right { color: var(--right); }
.feedback.wrong { color: var(--wrong); }
.end { text-align: center; margin: 2rem 0; }
.end:focus { outline: none; }
#score { font-size: 1.6rem; font-weight: 700; margin: 0; }
#score-detail { color: var(--muted); }
.empty { text-align: center; color: var(--muted); margin: 2rem 0; }
.help { font-size: .8rem; color: var(--muted); margin: 2rem 0 1rem; }
kbd {
  font: inherit; font-size: .75rem; padding: 0 .3rem; border: 1px solid var(--line);
  border-bottom-width: 2px; border-radius: .25rem; background: var(--surface);
}
.ov-card { border-top: 1px solid var(--line); padding: 1rem 0 1.25rem; }
.ov-head { display: flex; flex-wrap: wrap; gap: .25rem .9rem; font-size: .85rem; color: var(--muted);
  margin-bottom: .5rem; }
.ov-where { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; color: var(--ink); }
.ov-id { font-weight: 600; color: var(--ink); }
.ov-label { font-size: .8rem; font-weight: 600; color: var(--muted); margin: .75rem 0 .35rem; }
.ov-sides { display: grid; grid-template-columns: 1fr; gap: .75rem; }
@media (min-width: 52rem) { .ov-sides { grid-template-columns: 1fr 1fr; } }
.ov-side { width: 100%; max-width: none; font-size: 1.05rem; }
.ov-side-label { font-size: .7rem; text-transform: uppercase; letter-spacing: .06em; opacity: .6;
  margin: 0 0 .25rem; }
.ov-typed { margin-top: .75rem; padding: .35rem .6rem; border: 1px dashed #a0a0a8; border-radius: .4rem;
  opacity: .7; font-size: .9rem; }
hr.answer-rule { border: 0; border-top: 1px solid #d0d0d0; margin: 1rem 0; }
.nightMode hr.answer-rule { border-top-color: #444448; }
@media (max-width: 30rem) {
  .buttons button { flex: 1; min-width: 0; }
  .filter { flex: 1; }
  .filter select { max-width: none; width: 100%; }
}
"""

# Plain JavaScript, no libraries. Author content enters the DOM in one place only,
# fieldHtml(), and only as HTML that render.py made; everything else goes in as text.
_SCRIPT = r"""
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("deck-data").textContent);
  const $ = (id) => document.getElementById(id);
  const KIND_NAMES = {basic: "Basic", reversed: "Reversed", cloze: "Cloze",
                      choice: "Multiple choice", typed: "Typed answer"};
  const SELF_GRADED = new Set(["basic", "reversed", "cloze"]);
  const darkScheme = window.matchMedia("(prefers-color-scheme: dark)");

  // Deck order: a reversed card gives two items, a cloze card one per deletion.
  const allItems = data.cards.flatMap((card) => card.items.map((item) => ({card, item})));
  const state = {items: [], position: 0, right: 0, wrong: 0, revealed: false, scored: false,
                 shuffle: false, overviewBuilt: false};

  function make(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // The only place markup enters the page; `markup` must be field HTML from render.py.
  function fieldHtml(tag, className, markup) {
    const element = make(tag, className);
    element.innerHTML = markup;
    // A link followed in this tab would throw away the quiz in progress.
    for (const link of element.querySelectorAll("a[href]")) {
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    }
    return element;
  }

  function textOfHtml(markup) {
    // A template's content is inert: nothing in it loads or runs.
    const template = document.createElement("template");
    template.innerHTML = markup;
    return template.content.textContent || "";
  }

  const normalize = (text) => text.normalize("NFC").replace(/\s+/g, " ").trim().toLowerCase();

  // Anki's night mode: the note types' stylesheet keys its dark colours on .nightMode.
  function cardBox(className) {
    const box = make("div", className ? `card ${className}` : "card");
    box.classList.toggle("nightMode", darkScheme.matches);
    return box;
  }
  darkScheme.addEventListener("change", () => {
    for (const box of document.querySelectorAll(".card")) {
      box.classList.toggle("nightMode", darkScheme.matches);
    }
  });

  function itemLabel(card, item) {
    if (card.kind === "reversed") {
      return item.label === "reverse" ? "Reversed · answer → question" : "Reversed · question → answer";
    }
    if (card.kind === "cloze") return `Cloze · deletion ${item.label.slice(1)}`;
    return KIND_NAMES[card.kind];
  }

  function subdeckOf(card) {
    const prefix = `${data.deck.name}::`;
    return card.deck.startsWith(prefix) ? card.deck.slice(prefix.length) : "";
  }

  function where(card) {
    return `${card.file}:${card.line}`;
  }

  // Under every answer, as on the back of the Anki card: extra, sound, source and origin.
  function appendFooter(card, side) {
    if (card.extra) side.append(fieldHtml("div", "extra", card.extra));
    if (card.audio) side.append(fieldHtml("div", "audio", card.audio));
    const meta = make("div", "meta");
    meta.append(fieldHtml("span", "source", card.source),
                make("span", "origin", `${where(card)} · ${card.id}`));
    side.append(meta);
  }

  // ---- the quiz ------------------------------------------------------------------------

  const current = () => state.items[state.position];

  function inDeck(card, deck) {
    return !deck || card.deck === deck || card.deck.startsWith(`${deck}::`);
  }

  function hasTag(card, tag) {
    return !tag || card.tags.some((own) => own === tag || own.startsWith(`${tag}::`));
  }

  function shuffled(items) {
    const copy = items.slice();
    for (let index = copy.length - 1; index > 0; index -= 1) {
      const other = Math.floor(Math.random() * (index + 1));
      [copy[index], copy[other]] = [copy[other], copy[index]];
    }
    return copy;
  }

  function restart() {
    const deck = $("subdeck-filter").value;
    const tag = $("tag-filter").value;
    const items = allItems.filter(({card}) => inDeck(card, deck) && hasTag(card, tag));
    Object.assign(state, {items: state.shuffle ? shuffled(items) : items, position: 0, right: 0, wrong: 0});
    $("end").hidden = true;
    $("empty").hidden = items.length > 0;
    if (items.length === 0) {
      $("stage").replaceChildren();
      $("actions").hidden = true;
      $("progress").textContent = "0 / 0";
      $("kind-label").textContent = "";
      updateTally();
      return;
    }
    showItem();
  }

  function showItem() {
    const {card, item} = current();
    Object.assign(state, {revealed: false, scored: false});
    const box = cardBox();
    box.id = "card";
    box.tabIndex = -1;
    box.dataset.cardId = card.id;
    box.dataset.kind = card.kind;
    box.dataset.item = item.label;
    const side = make("div", "front");
    side.append(fieldHtml("div", "question", item.front));
    if (card.kind === "choice") side.append(choiceList(card));
    if (card.kind === "typed") side.append(typedRow());
    box.append(side);
    $("stage").replaceChildren(box);
    $("stage").hidden = false;
    $("actions").hidden = false;
    $("feedback").hidden = true;
    $("progress").textContent = `${state.position + 1} / ${state.items.length}`;
    $("kind-label").textContent = itemLabel(card, item);
    updateTally();
    updateButtons();
    if (card.kind === "typed") $("typed-input").focus({preventScroll: true});
    if (box.getBoundingClientRect().top < 0) box.scrollIntoView({block: "start"});
  }

  function choiceList(card) {
    const list = make("div", "choice-list");
    list.setAttribute("role", "group");
    list.setAttribute("aria-label", "Choices");
    card.choices.forEach((choice, index) => {
      const button = make("button", "choice");
      button.type = "button";
      button.dataset.index = String(index);
      button.append(make("span", "number", String(index + 1)), fieldHtml("span", "text", choice),
                    make("span", "mark"));
      button.addEventListener("click", () => choose(index));
      list.append(button);
    });
    return list;
  }

  function typedRow() {
    const row = make("div", "typed-row");
    const input = make("input");
    Object.assign(input, {id: "typed-input", type: "text", autocomplete: "off", spellcheck: false,
                          placeholder: "Type the answer"});
    input.setAttribute("autocapitalize", "off");
    input.setAttribute("aria-label", "Your answer");
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        checkTyped();
      }
    });
    const check = make("button", "primary", "Check");
    Object.assign(check, {id: "check", type: "button"});
    check.addEventListener("click", checkTyped);
    row.append(input, check);
    return row;
  }

  function markChoice(button, outcome, symbol) {
    button.classList.add(outcome);
    button.querySelector(".mark").textContent = symbol;
  }

  function choose(index) {
    const {card} = current();
    if (state.scored || card.kind !== "choice") return;
    const buttons = [...$("card").querySelectorAll(".choice")];
    if (index < 0 || index >= buttons.length) return;
    const right = index === card.correct;
    buttons.forEach((button, position) => {
      button.disabled = true;
      if (position === card.correct) markChoice(button, "right", "✓");
      else if (position === index) markChoice(button, "wrong", "✗");
    });
    buttons[index].classList.add("chosen");
    score(right, right ? "✓ Right" : "✗ Wrong: the right answer is marked ✓");
    reveal();
  }

  function checkTyped() {
    const input = $("typed-input");
    if (state.scored || !input || !input.value.trim()) return;
    const typed = input.value;
    const right = normalize(typed) === normalize(textOfHtml(current().item.back));
    input.blur();
    input.disabled = true;
    $("check").disabled = true;
    input.classList.add(right ? "right" : "wrong");
    score(right, right ? "✓ Right" : `✗ Wrong: you typed “${typed.trim()}”`);
    reveal();
  }

  // Showing the answer of a choice or typed card unanswered is giving up: a miss.
  function giveUp() {
    const {card} = current();
    if (card.kind === "choice") {
      for (const button of $("card").querySelectorAll(".choice")) {
        button.disabled = true;
        if (Number(button.dataset.index) === card.correct) markChoice(button, "right", "✓");
      }
    } else {
      $("typed-input").disabled = true;
      $("check").disabled = true;
    }
    score(false, "✗ Not answered");
    reveal();
  }

  function showAnswer() {
    if (state.revealed) return;
    if (SELF_GRADED.has(current().card.kind)) reveal();
    else giveUp();
  }

  function reveal() {
    if (state.revealed) return;
    state.revealed = true;
    const {card, item} = current();
    const side = $("card").firstElementChild;
    side.className = "back";
    if (card.kind === "cloze") {
      side.querySelector(".question").replaceWith(fieldHtml("div", "question", item.back));
    } else {
      const rule = make("hr");
      rule.id = "answer";
      side.append(rule, fieldHtml("div", "answer", item.back));
    }
    appendFooter(card, side);
    updateButtons();
  }

  function score(right, message) {
    state.scored = true;
    if (right) state.right += 1;
    else state.wrong += 1;
    const feedback = $("feedback");
    feedback.textContent = message;
    feedback.className = `feedback ${right ? "right" : "wrong"}`;
    feedback.hidden = false;
    updateTally();
    updateButtons();
  }

  function grade(knew) {
    if (!state.revealed || state.scored || !SELF_GRADED.has(current().card.kind)) return;
    score(knew, knew ? "✓ Knew it" : "✗ Didn't know it");
  }

  function next() {
    if (!state.scored) return;
    state.position += 1;
    if (state.position < state.items.length) showItem();
    else showEnd();
  }

  function showEnd() {
    const total = state.items.length;
    $("stage").hidden = true;
    $("actions").hidden = true;
    $("kind-label").textContent = "";
    $("progress").textContent = `${total} / ${total}`;
    $("score").textContent = `Score: ${state.right} / ${total}`;
    $("score-detail").textContent = `${Math.round((100 * state.right) / total)}% right`;
    $("end").hidden = false;
    $("end").focus({preventScroll: true});
  }

  function updateButtons() {
    const selfGraded = SELF_GRADED.has(current().card.kind);
    $("reveal").hidden = state.revealed;
    $("knew").hidden = !(selfGraded && state.revealed && !state.scored);
    $("didnt").hidden = $("knew").hidden;
    $("next").hidden = !state.scored;
    $("next").textContent = state.position + 1 === state.items.length ? "Finish" : "Next";
  }

  function updateTally() {
    $("tally").textContent = state.right + state.wrong ? `✓ ${state.right} · ✗ ${state.wrong}` : "";
  }

  function quizVisible() {
    return !$("quiz").hidden && !$("stage").hidden && state.items.length > 0;
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (!quizVisible()) return;
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement ||
        target instanceof HTMLTextAreaElement) return;
    const activates = event.key === " " || event.key === "Enter";
    // A control reached with Tab keeps its own Space and Enter.
    if (activates && target instanceof Element && target.closest("button, a, audio")) return;
    const {card} = current();
    let action = null;
    if (state.scored) {
      if (activates || event.key === "ArrowRight") action = next;
    } else if (event.key === " " || (event.key === "Enter" && SELF_GRADED.has(card.kind))) {
      if (!state.revealed) action = showAnswer;
    } else if (card.kind === "choice" && /^[1-9]$/.test(event.key)) {
      action = () => choose(Number(event.key) - 1);
    } else if (event.key.toLowerCase() === "y" || event.key.toLowerCase() === "n") {
      action = () => grade(event.key.toLowerCase() === "y");
    }
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // A button clicked with the mouse gives focus back, so that Space and Enter stay shortcuts.
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button") : null;
    if (button && event.detail > 0) button.blur();
  });

  // ---- the overview --------------------------------------------------------------------

  // The Choices field as the note shows it; the stylesheet marks li.correct on a back only.
  function choicesAsInAnki(card) {
    const list = make("ol", "choices");
    card.choices.forEach((choice, index) => {
      list.append(fieldHtml("li", index === card.correct ? "correct" : "", choice));
    });
    return list;
  }

  function overviewSide(card, item, back) {
    const box = cardBox("ov-side");
    box.append(make("p", "ov-side-label", back ? "Back" : "Front"));
    const side = make("div", back ? "back" : "front");
    const showsBackText = back && card.kind === "cloze";
    side.append(fieldHtml("div", "question", showsBackText ? item.back : item.front));
    if (card.kind === "choice") side.append(choicesAsInAnki(card));
    if (card.kind === "typed" && !back) side.append(make("div", "ov-typed", "Type the answer"));
    if (back) {
      if (card.kind !== "cloze") {
        side.append(make("hr", "answer-rule"), fieldHtml("div", "answer", item.back));
      }
      appendFooter(card, side);
    }
    box.append(side);
    return box;
  }

  function buildOverview() {
    const list = $("overview-list");
    for (const card of data.cards) {
      const article = make("article", "ov-card");
      article.dataset.cardId = card.id;
      article.dataset.kind = card.kind;
      const head = make("header", "ov-head");
      head.append(make("span", "ov-where", where(card)), make("span", "ov-id", card.id),
                  make("span", "ov-kind", KIND_NAMES[card.kind]));
      if (subdeckOf(card)) head.append(make("span", "ov-deck", subdeckOf(card)));
      if (card.tags.length) head.append(make("span", "ov-tags", card.tags.map((tag) => `#${tag}`).join(" ")));
      article.append(head);
      for (const item of card.items) {
        const row = make("div", "ov-item");
        row.dataset.item = item.label;
        if (card.items.length > 1) row.append(make("p", "ov-label", itemLabel(card, item)));
        const sides = make("div", "ov-sides");
        sides.append(overviewSide(card, item, false), overviewSide(card, item, true));
        row.append(sides);
        article.append(row);
      }
      list.append(article);
    }
    const notes = data.cards.length;
    $("overview-heading").textContent =
      `Every card: ${notes} note${notes === 1 ? "" : "s"}, ${allItems.length} ` +
      `quiz item${allItems.length === 1 ? "" : "s"}, in the order of the files`;
    state.overviewBuilt = true;
  }

  function showOverview(on) {
    if (on && !state.overviewBuilt) buildOverview();
    $("overview").hidden = !on;
    $("quiz").hidden = on;
    $("overview-toggle").setAttribute("aria-selected", String(on));
    $("quiz-toggle").setAttribute("aria-selected", String(!on));
  }

  // ---- start ---------------------------------------------------------------------------

  document.title = `${data.deck.name} · quiz`;
  $("deck-name").textContent = data.deck.name;
  if (data.deck.description) $("description").append(fieldHtml("div", "", data.deck.description));
  for (const {value, label} of data.subdecks) $("subdeck-filter").append(new Option(label, value));
  for (const tag of data.tags) $("tag-filter").append(new Option(tag, tag));
  $("subdeck-label").hidden = data.subdecks.length === 0;
  $("tag-label").hidden = data.tags.length === 0;

  $("subdeck-filter").addEventListener("change", restart);
  $("tag-filter").addEventListener("change", restart);
  $("shuffle").addEventListener("click", () => {
    state.shuffle = !state.shuffle;
    $("shuffle").setAttribute("aria-pressed", String(state.shuffle));
    restart();
  });
  $("restart").addEventListener("click", restart);
  $("reveal").addEventListener("click", showAnswer);
  $("knew").addEventListener("click", () => grade(true));
  $("didnt").addEventListener("click", () => grade(false));
  $("next").addEventListener("click", next);
  $("overview-toggle").addEventListener("click", () => showOverview($("overview").hidden));
  $("quiz-toggle").addEventListener("click", () => showOverview(false));

  restart();
})();
"""
