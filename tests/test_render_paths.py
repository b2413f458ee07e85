"""The renderer's shortcuts give exactly what the full Markdown parser gives."""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it.common.utils import escapeHtml

from studycards.render import MediaCollector, Renderer, _make_markdown, escape_html, inert_anki_tags

# Text built from the characters Markdown cares about, plus ordinary ones.
MARKDOWN_TEXT = st.text(alphabet=st.sampled_from(list("ab c1.)*_-+#>`~[]()!\\<&\"'|:{}=\n\t"))
                        | st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                        max_size=40)
REFERENCE = _make_markdown()


def reference(text: str) -> str:
    """What the full parser renders: a lone paragraph unwrapped, as the renderer does."""
    tokens = REFERENCE.parse(text)
    if len(tokens) == 3 and tokens[0].type == "paragraph_open":
        tokens = tokens[1].children or []
    html: str = REFERENCE.renderer.render(tokens, REFERENCE.options, {})
    return inert_anki_tags(html.rstrip("\n"))


@settings(max_examples=400, deadline=None)
@given(MARKDOWN_TEXT)
@example("*Context* for 10: trade")
@example("2024 was the year")
@example("-x and *y*")
@example("***")
@example("1) first")
@example("[a]: https://example.com")
def test_shortcuts_match_the_full_parser(text: str) -> None:
    if "![" in text or "](" in text:
        return  # links and images are checked against files: covered by the media tests
    renderer = Renderer(MediaCollector(Path(".")))
    assert renderer.text(text, ("f.yaml", 1, 1), []) == reference(text)


@settings(deadline=None)  # timing is not what this test is about: a busy machine must not fail it
@given(st.text(max_size=60))
def test_escape_matches_markdown_it(text: str) -> None:
    assert escape_html(text) == escapeHtml(text)


def test_math_within_a_line_is_kept_whole() -> None:
    renderer = Renderer(MediaCollector(Path(".")))
    text = "Area \\(r\\) and \\[ A = \\pi r^2 \\], then \\[ left open, \\( too"
    # An opening without its closing is CommonMark's escaped bracket or parenthesis.
    assert renderer.text(text, ("f.yaml", 1, 1), []) == (
        "Area \\(r\\) and \\[ A = \\pi r^2 \\], then [ left open, ( too")
