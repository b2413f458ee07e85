"""The quiz page in a real browser (Debian's Chromium driven by Playwright): clicked, typed, attacked.

Without Chromium these tests skip, saying how to install it; under CI (the CI variable set)
they fail instead, so that a CI run can never pass without them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

from tests.test_quiz import build_quiz

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Run before the page's own script: what the page's Content-Security-Policy refused.
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""

# Elements and attributes that only author text turned into markup could have put in the page.
_AUTHOR_MARKUP = """() => {
  const found = [];
  const own = new Set(document.querySelectorAll("head *, body > script"));
  for (const element of document.querySelectorAll("*")) {
    if (own.has(element)) continue;
    const tag = element.localName;
    if (["script", "style", "img", "svg", "iframe", "object", "embed", "link", "meta"].includes(tag)) {
      found.push(tag);
    }
    for (const attribute of element.attributes) {
      if (attribute.name.startsWith("on")) found.push(`${tag}[${attribute.name}]`);
      if (/^\\s*javascript:/i.test(attribute.value)) found.push(`${tag}[${attribute.name}=javascript:]`);
    }
  }
  return found;
}"""


def chromium() -> str:
    for candidate in (CHROMIUM, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = ("Chromium is not installed: on Debian or Ubuntu run `sudo apt-get install chromium` "
               "(the browser tests use it through Playwright, which needs no browser download)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


Scheme = Literal["light", "dark"]


@dataclass
class Quiz:
    page: Page
    url: str
    requests: list[str] = field(default_factory=list)  # anything but the page itself
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__violations")
        return self.requests + self.errors + violations


OpenQuiz = Callable[..., Quiz]


@pytest.fixture
def open_quiz(browser: Browser) -> Iterator[OpenQuiz]:
    """Open a built quiz page in a fresh context that lets nothing but the page itself load."""
    contexts = []

    def open_(page_file: Path, color_scheme: Scheme = "light",
              viewport: tuple[int, int] = (1000, 900)) -> Quiz:
        context = browser.new_context(color_scheme=color_scheme,
                                      viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        quiz = Quiz(page, page_file.as_uri())

        def route(route: Route) -> None:
            if route.request.url == quiz.url:
                route.continue_()
            else:
                quiz.requests.append(f"routed: {route.request.url}")
                route.abort()

        def request(request: Request) -> None:
            # data: URIs never reach the network; Chromium reports even requests its CSP blocks.
            if request.url != quiz.url and not request.url.startswith("data:"):
                quiz.requests.append(f"requested: {request.url}")

        page.route("**/*", route)
        page.on("request", request)
        page.on("pageerror", lambda error: quiz.errors.append(f"page error: {error}"))
        page.add_init_script(_RECORD_VIOLATIONS)
        page.goto(quiz.url)
        return quiz

    yield open_
    for context in contexts:
        context.close()


def test_click_through_the_quiz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                open_quiz: OpenQuiz) -> None:
    quiz = open_quiz(build_quiz("quiz", tmp_path, monkeypatch))
    page = quiz.page
    card = page.locator("#card")

    # Multiple choice, answered wrong: the pick is marked wrong, the right choice right.
    expect(page.locator("#progress")).to_have_text("1 / 5")
    expect(card).to_have_attribute("data-kind", "choice")
    expect(card).to_have_attribute("data-card-id", "quiz-capital")
    expect(page.locator("#reveal")).to_be_visible()
    choices = page.locator("#card .choice")
    expect(choices).to_have_text(["1Busan", "2Seoul", "3Incheon"])
    choices.nth(0).click()
    expect(choices.nth(0)).to_have_class("choice wrong chosen")
    expect(choices.nth(0).locator(".mark")).to_have_text("✗")
    expect(choices.nth(1)).to_have_class("choice right")
    expect(choices.nth(1).locator(".mark")).to_have_text("✓")
    expect(choices.nth(2)).to_have_class("choice")
    for index in range(3):
        expect(choices.nth(index)).to_be_disabled()
    expect(page.locator("#feedback")).to_have_text("✗ Wrong: the right answer is marked ✓")
    expect(page.locator("#feedback")).to_have_class("feedback wrong")
    expect(page.locator("#card .answer")).to_have_text("Seoul")
    expect(page.locator("#card .source")).to_have_text("Quiz fixture source")
    expect(page.locator("#card .origin")).to_have_text("quiz.yaml:5 · quiz-capital")
    expect(page.locator("#reveal")).to_be_hidden()
    page.click("#next")

    # Typed: case and spacing do not matter.
    expect(page.locator("#progress")).to_have_text("2 / 5")
    expect(card).to_have_attribute("data-kind", "typed")
    expect(page.locator("#typed-input")).to_be_focused()
    page.locator("#typed-input").fill("  one   CHINA ")
    page.locator("#typed-input").press("Enter")
    expect(page.locator("#typed-input")).to_have_class("right")
    expect(page.locator("#feedback")).to_have_text("✓ Right")
    expect(page.locator("#card .answer")).to_have_text("One China")
    expect(page.locator("#tally")).to_have_text("✓ 1 · ✗ 1")
    page.click("#next")

    # Cloze: one item per deletion, the others shown as their answers.
    expect(page.locator("#progress")).to_have_text("3 / 5")
    expect(card).to_have_attribute("data-kind", "cloze")
    expect(card).to_have_attribute("data-item", "c1")
    expect(page.locator("#card .question")).to_have_text(
        "Cho said the ties are not a [...] game, nor a rivalry.")
    expect(page.locator("#knew")).to_be_hidden()
    expect(page.locator("#next")).to_be_hidden()
    page.click("#reveal")
    expect(page.locator("#card .cloze")).to_have_text("zero-sum")
    expect(page.locator("#card .meta")).to_contain_text("quiz.yaml:14 · quiz-zero-sum")
    page.click("#knew")
    expect(page.locator("#feedback")).to_have_text("✓ Knew it")
    page.click("#next")
    expect(card).to_have_attribute("data-item", "c2")
    expect(page.locator("#card .cloze")).to_have_text("[two words]")
    page.click("#reveal")
    expect(page.locator("#card .cloze")).to_have_text("a rivalry")
    page.click("#didnt")
    page.click("#next")

    # Basic, with an image and a sound that must come from inside the page.
    expect(page.locator("#progress")).to_have_text("5 / 5")
    page.click("#reveal")
    image = page.locator("#card .extra img")
    expect(image).to_have_attribute("alt", "a blue square")
    assert page.evaluate("document.querySelector('#card .extra img').naturalWidth") == 12
    expect(page.locator("#card audio")).to_have_attribute("src", re.compile(r"^data:audio/wav;base64,"))
    page.click("#knew")
    expect(page.locator("#next")).to_have_text("Finish")
    page.click("#next")

    expect(page.locator("#score")).to_have_text("Score: 3 / 5")
    expect(page.locator("#stage")).to_be_hidden()
    screenshot = tmp_path / "quiz.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0

    page.click("#restart")
    expect(page.locator("#progress")).to_have_text("1 / 5")
    expect(page.locator("#tally")).to_have_text("")

    # The overview: every card, each item's front and back, with its file:line and id.
    page.click("#overview-toggle")
    expect(page.locator("#quiz")).to_be_hidden()
    expect(page.locator("#overview .ov-where")).to_have_text(
        ["quiz.yaml:5", "quiz.yaml:10", "quiz.yaml:14", "quiz.yaml:16"])
    expect(page.locator("#overview .ov-id")).to_have_text(
        ["quiz-capital", "quiz-principle", "quiz-zero-sum", "quiz-map"])
    expect(page.locator("#overview .ov-item")).to_have_count(5)
    expect(page.locator("#overview .ov-side.card")).to_have_count(10)
    expect(page.locator('#overview [data-card-id="quiz-capital"] .back li.correct')).to_have_text("Seoul")
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    page.click("#overview-toggle")
    expect(page.locator("#quiz")).to_be_visible()

    assert quiz.problems() == []


def test_keyboard_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_quiz: OpenQuiz) -> None:
    page = open_quiz(build_quiz("every-kind", tmp_path, monkeypatch)).page
    keyboard = page.keyboard
    # yaml-text, who-is-cho forward and reverse: Space shows, y or n grades, Enter or → goes on.
    for grade, onward in (("y", "Enter"), ("n", "ArrowRight"), ("y", "Enter")):
        keyboard.press(" ")
        expect(page.locator("#card .answer")).to_be_visible()
        keyboard.press(grade)
        keyboard.press(onward)
    expect(page.locator("#card")).to_have_attribute("data-card-id", "wang-principle")
    keyboard.type("one china")
    keyboard.press("Enter")
    expect(page.locator("#feedback")).to_have_text("✓ Right")
    keyboard.press("Enter")
    for grade in ("y", "y", "n"):  # talks-city, then the two deletions of cho-zero-sum
        keyboard.press(" ")
        keyboard.press(grade)
        keyboard.press("Enter")
    expect(page.locator("#card")).to_have_attribute("data-kind", "choice")
    keyboard.press("2")
    expect(page.locator("#card .choice.chosen")).to_have_class("choice right chosen")
    keyboard.press("Enter")
    expect(page.locator("#score")).to_have_text("Score: 6 / 8")


def test_filters_and_shuffle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_quiz: OpenQuiz) -> None:
    page = open_quiz(build_quiz("every-kind", tmp_path, monkeypatch)).page
    expect(page.locator("#subdeck-filter option")).to_have_text(["All", "People", "The talks"])
    page.select_option("#subdeck-filter", label="People")
    expect(page.locator("#progress")).to_have_text("1 / 3")
    page.select_option("#tag-filter", "speaker")
    expect(page.locator("#progress")).to_have_text("1 / 1")
    expect(page.locator("#card")).to_have_attribute("data-card-id", "wang-principle")
    page.select_option("#tag-filter", "place")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#progress")).to_have_text("0 / 0")
    page.select_option("#subdeck-filter", "")
    page.select_option("#tag-filter", "")
    page.click("#shuffle")
    expect(page.locator("#shuffle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#progress")).to_have_text("1 / 8")
    seen = []
    for _ in range(8):
        card = page.locator("#card")
        seen.append(f"{card.get_attribute('data-card-id')} {card.get_attribute('data-item')}")
        page.click("#reveal")  # on a choice or typed card, a miss
        if page.locator("#didnt").is_visible():
            page.click("#didnt")
        page.click("#next")
    assert sorted(seen) == ["cho-zero-sum c1", "cho-zero-sum c2", "talks-city ", "talks-city-choice ",
                            "wang-principle ", "who-is-cho forward", "who-is-cho reverse", "yaml-text "]
    expect(page.locator("#score")).to_have_text("Score: 0 / 8")


@pytest.mark.parametrize(("scheme", "background"), [("light", "rgb(253, 253, 252)"),
                                                    ("dark", "rgb(31, 31, 34)")])
def test_night_mode_and_phone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_quiz: OpenQuiz,
                              scheme: Scheme, background: str) -> None:
    quiz = open_quiz(build_quiz("every-kind", tmp_path, monkeypatch), scheme, (390, 844))
    card = quiz.page.locator("#card")
    expect(card).to_have_class("card nightMode" if scheme == "dark" else "card")
    expect(card).to_have_css("background-color", background)
    # Nothing wider than the phone's screen.
    assert quiz.page.evaluate("document.documentElement.scrollWidth") <= 390
    quiz.page.click("#overview-toggle")
    assert quiz.page.evaluate("document.documentElement.scrollWidth") <= 390
    night = quiz.page.locator("#overview .card.nightMode")
    expect(night).to_have_count(16 if scheme == "dark" else 0)


def test_hostile_text_stays_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 open_quiz: OpenQuiz) -> None:
    quiz = open_quiz(build_quiz("quiz-hostile", tmp_path, monkeypatch))
    page = quiz.page
    name = '" onerror="window.pwned=4" Hostile & &lt;/script&gt; deck'
    expect(page.locator("#deck-name")).to_have_text(name)
    assert page.title() == f"{name} · quiz"
    expect(page.locator("#description")).to_have_text("<script>window.pwned=5</script> description")
    expect(page.locator("#subdeck-filter option")).to_have_text(
        ["All", '" onfocus="window.pwned=6" &amp;'])
    expect(page.locator("#tag-filter option")).to_have_text(
        ["All", '"><svg/onload=window.pwned=7>', "<b>bold</b>"])

    # Through the whole quiz, so that every side of every card is put on the page once.
    expect(page.locator("#card .question")).to_have_text("<script>window.pwned=1</script>")
    page.click("#reveal")
    expect(page.locator("#card .answer")).to_have_text('<img src=x onerror="window.pwned=2">')
    expect(page.locator("#card .extra")).to_have_text("[click](javascript:window.pwned=3)")
    expect(page.locator("#card .source")).to_have_text("<!-- comment -->")
    page.click("#knew")
    page.click("#next")
    expect(page.locator("#card .question")).to_have_text("<style>body{display:none}</style>")
    page.locator("#typed-input").fill("&LT;b&GT;")  # the answer as the text it shows
    page.locator("#typed-input").press("Enter")
    expect(page.locator("#feedback")).to_have_text("✓ Right")
    page.click("#next")
    expect(page.locator("#card .choice .text")).to_have_text(
        ["<script>window.pwned=8</script>", "&lt;b&gt;", "<!-- comment -->"])
    page.click("#card .choice >> nth=1")
    expect(page.locator("#feedback")).to_have_text("✓ Right")
    page.click("#next")
    expect(page.locator("#card .cloze")).to_have_text("[<img src=x onerror=window.pwned=10>]")
    page.click("#reveal")
    expect(page.locator("#card .cloze")).to_have_text("<script>window.pwned=9</script>")
    for _ in range(3):  # the cloze, then both sides of the reversed card
        page.click("#knew")
        page.click("#next")
        if page.locator("#reveal").is_visible():
            page.click("#reveal")
    expect(page.locator("#score")).to_have_text("Score: 6 / 6")

    page.click("#overview-toggle")
    overview = page.locator("#overview").text_content() or ""
    for text in ("<script>window.pwned=1</script>", '<img src=x onerror="window.pwned=2">',
                 "[click](javascript:window.pwned=3)", "<style>body{display:none}</style>",
                 "<!-- comment -->", "&lt;b&gt;", "[reversed](javascript:window.pwned=11)",
                 "#<b>bold</b>", '" onfocus="window.pwned=6" &amp;'):
        assert text in overview
    expect(page.locator("#overview")).to_be_visible()
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate(_AUTHOR_MARKUP) == []
    assert page.evaluate("getComputedStyle(document.body).display") == "block"
    assert quiz.problems() == []
