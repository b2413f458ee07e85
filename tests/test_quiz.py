"""The quiz page written beside the package, read as text: self-contained, locked down, complete."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from studycards.notetypes import STYLESHEET
from tests.conftest import FIXTURES, PROJECT, copy_deck, run

_DATA = re.compile(r'<script type="application/json" id="deck-data">(.*?)</script>', re.DOTALL)
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
# src= or href= naming anything but a data: URI: with quotes, without, or escaped inside JSON.
_URL_ATTRIBUTE = re.compile(r"""\b(?:src|href)\s*=\s*\\?["']?\s*(?:https?:|//)""", re.IGNORECASE)


def build_quiz(deck: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Build fixture deck DECK as an author would, from beside its cards/; return the quiz page."""
    copy_deck(deck, tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("cards", "--out", "dist/deck.apkg")
    assert (result.code, result.err) == (0, ""), result.err
    page = tmp_path / "dist" / "deck.html"
    assert page.is_file()
    return page


def test_the_page_names_no_folder_of_the_authors_disk(tmp_path: Path) -> None:
    # A page handed out says where a card comes from as its back in Anki does: by file name.
    cards = copy_deck("every-kind", tmp_path / "home" / "alice")
    assert run(str(cards.resolve()), "--out", str(tmp_path / "deck.apkg")).code == 0
    page = (tmp_path / "deck.html").read_text(encoding="utf-8")
    assert "alice" not in page
    assert {card["file"] for card in deck_data(page)["cards"]} == {"misc.yaml", "people.yaml", "talks.yaml"}


def deck_data(page: str) -> dict[str, Any]:
    (data,) = _DATA.findall(page)
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def items_per_card(page: str) -> dict[str, list[str]]:
    return {card["id"]: [item["label"] for item in card["items"]] for card in deck_data(page)["cards"]}


def test_page_needs_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = build_quiz("quiz", tmp_path, monkeypatch).read_text(encoding="utf-8")
    field_html = "\n".join(strings_in(deck_data(page)))
    for text in (page, field_html):
        assert not _URL_ATTRIBUTE.search(text)
        assert "<link" not in text and "@import" not in text and "url(" not in text
    assert "<script src" not in page
    # Both media files are inside the page, and nothing still names them as files.
    assert "sc-" not in field_html
    image = (FIXTURES / "decks/quiz/cards/media/map.png").read_bytes()
    sound = (FIXTURES / "decks/quiz/cards/media/chime.wav").read_bytes()
    (card,) = [card for card in deck_data(page)["cards"] if card["id"] == "quiz-map"]
    assert f'src="data:image/png;base64,{base64.b64encode(image).decode()}"' in card["extra"]
    assert card["audio"] == (f'<audio controls preload="metadata" '
                             f'src="data:audio/wav;base64,{base64.b64encode(sound).decode()}"></audio>')


def test_content_security_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = build_quiz("every-kind", tmp_path, monkeypatch).read_text(encoding="utf-8")
    (policy,) = _CSP.findall(page)
    (script,) = _SCRIPT.findall(page)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert policy == ("default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
                      f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")
    assert page.index("Content-Security-Policy") < page.index("<style")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_every_card_and_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = build_quiz("every-kind", tmp_path, monkeypatch).read_text(encoding="utf-8")
    # Deck order, and one item per card Anki makes: the build reported 8 cards from 6 notes.
    assert items_per_card(page) == {
        "yaml-text": [""],
        "who-is-cho": ["forward", "reverse"],
        "wang-principle": [""],
        "talks-city": [""],
        "cho-zero-sum": ["c1", "c2"],
        "talks-city-choice": [""],
    }
    cards = {card["id"]: card for card in deck_data(page)["cards"]}
    assert (cards["talks-city"]["file"], cards["talks-city"]["line"]) == ("talks.yaml", 4)
    assert cards["talks-city"]["deck"] == "Every kind::The talks"
    assert cards["wang-principle"]["tags"] == ["people", "speaker::wang"]
    assert deck_data(page)["tags"] == ["people", "place", "speaker", "speaker::wang", "talks"]
    assert deck_data(page)["subdecks"] == [
        {"value": "Every kind::People", "label": "People"},
        {"value": "Every kind::The talks", "label": "The talks"}]


def test_items_of_each_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = build_quiz("every-kind", tmp_path, monkeypatch).read_text(encoding="utf-8")
    cards = {card["id"]: card for card in deck_data(page)["cards"]}
    forward, reverse = cards["who-is-cho"]["items"]
    assert (forward["front"], forward["back"]) == ("Cho Tae-yul", "South Korea's foreign minister")
    assert (reverse["front"], reverse["back"]) == ("South Korea's foreign minister", "Cho Tae-yul")
    first, second = cards["cho-zero-sum"]["items"]
    assert first == {
        "label": "c1",
        "front": 'Cho said the two relationships are not a <span class="cloze">[...]</span> game, '
                 "nor a rivalry.",
        "back": 'Cho said the two relationships are not a <span class="cloze">zero-sum</span> game, '
                "nor a rivalry.",
    }
    assert second["front"] == ('Cho said the two relationships are not a zero-sum game, '
                               'nor <span class="cloze">[one word or two]</span>.')
    assert second["back"].endswith('nor <span class="cloze">a rivalry</span>.')
    choice = cards["talks-city-choice"]
    assert (choice["choices"], choice["correct"]) == (["Seoul", "Beijing", "Tokyo", "Washington"], 1)
    assert choice["items"] == [{"label": "", "front": "Where did the talks take place?", "back": "Beijing"}]


def test_card_stylesheet_included(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = build_quiz("every-kind", tmp_path, monkeypatch).read_text(encoding="utf-8")
    assert f'<style id="card-stylesheet">\n{STYLESHEET}</style>' in page


def test_author_text_cannot_leave_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = build_quiz("quiz-hostile", tmp_path, monkeypatch).read_text(encoding="utf-8")
    (raw,) = _DATA.findall(page)
    assert not set(raw) & {"<", ">", "&", "\u2028", "\u2029"}
    # Only the page's own two script elements, and no author text as markup anywhere.
    assert page.count("<script") == 2 and page.lower().count("</script") == 2
    title = "&quot; onerror=&quot;window.pwned=4&quot; Hostile &amp; &amp;lt;/script&amp;gt; deck"
    assert f"<title>{title}</title>" in page
    assert "window.pwned" not in page.replace(raw, "").replace(title, "")
    data = deck_data(page)
    assert data["deck"]["name"] == '" onerror="window.pwned=4" Hostile & &lt;/script&gt; deck'
    cards = {card["id"]: card for card in data["cards"]}
    assert cards["hostile-script"]["items"][0]["front"] == "&lt;script&gt;window.pwned=1&lt;/script&gt;"
    assert cards["hostile-typed"]["items"][0]["back"] == "&amp;lt;b&amp;gt;"
    assert cards["hostile-cloze"]["items"][0]["front"] == (
        'Before <span class="cloze">[&lt;img src=x onerror=window.pwned=10&gt;]</span> after')


def test_description_image_is_embedded(tmp_path: Path) -> None:
    cards = copy_deck("rich", tmp_path)
    deck = (cards / "deck.yaml").read_text(encoding="utf-8")
    (cards / "deck.yaml").write_text(deck.replace("description: \"", "description: \"![map](media/map.png) "),
                                     encoding="utf-8")
    assert run(str(cards), "--out", str(tmp_path / "deck.apkg")).code == 0
    description = deck_data((tmp_path / "deck.html").read_text(encoding="utf-8"))["deck"]["description"]
    assert description.startswith('<img src="data:image/png;base64,')


def test_page_is_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    # The subdeck and tag filters are built from sets: their order must not follow Python's hashing.
    cards = copy_deck("every-kind", tmp_path)
    pages = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"seed-{seed}"
        command = [sys.executable, str(PROJECT / "build.py"), str(cards), "--out", str(out / "deck.apkg")]
        subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1715558400"},
                       check=True, capture_output=True)
        pages.append((out / "deck.html").read_bytes())
    assert pages[0] == pages[1] == pages[2]
