"""The five note types, one per card kind, and the stylesheet they share.

FROZEN: once a deck has been imported, Anki matches a note type by its id and
compares its schema, the field names in order plus the template names. A
changed schema under the same id makes Anki create a second note type
("Name+") and leave existing notes unupdated. So field and template names
never change here; a new need gets a new note type with a new model id and
a migration note in the README. tests/test_notetypes.py pins all of it.

Template and stylesheet *text* may change: Anki applies that in place.
"""

from __future__ import annotations

import genanki

from studycards.cards import Kind

STYLESHEET = """\
.card {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans KR",
    "Noto Sans SC", sans-serif;
  font-size: 1.25rem;
  line-height: 1.5;
  color: #1d1d1f;
  background: #fdfdfc;
  max-width: 40rem;
  margin: 0 auto;
  padding: 1rem;
  text-align: left;
  overflow-wrap: anywhere;
}
.question { font-weight: 600; }
.answer { margin-top: .5rem; }
hr#answer { border: 0; border-top: 1px solid #d0d0d0; margin: 1rem 0; }
.choices { padding-left: 1.6rem; }
.choices li { margin: .35rem 0; padding: .15rem .4rem; border-radius: .3rem; }
.back .choices li.correct { background: #dff3e4; color: #145a2a; font-weight: 600; }
.back .choices li.correct::after { content: " \\2713"; }
.extra { margin-top: 1rem; font-size: 1rem; color: #4a4a4f; }
.meta { margin-top: 1.5rem; font-size: .75rem; color: #77777c; display: flex;
  flex-wrap: wrap; gap: .25rem 1rem; justify-content: space-between; }
.cloze { font-weight: 700; color: #0b57d0; }
code { font-size: .9em; background: #f0f0f0; padding: 0 .2em; border-radius: .2em; }
img { max-width: 100%; height: auto; }
a { color: #0b57d0; }
.nightMode.card, .nightMode .card { color: #e8e8ea; background: #1f1f22; }
.nightMode hr#answer { border-top-color: #444448; }
.nightMode .back .choices li.correct { background: #1e4129; color: #b8ecc6; }
.nightMode .extra { color: #c2c2c8; }
.nightMode .meta { color: #9a9aa0; }
.nightMode .cloze { color: #8ab4f8; }
.nightMode code { background: #33333a; }
.nightMode a { color: #8ab4f8; }
@media (max-width: 30rem) { .card { font-size: 1.1rem; padding: .75rem; } }
"""

# Shown under every answer: context, sound, and where the card comes from. The origin holds
# a file name, which no check reads as math: MathJax must leave it alone (MathJax 3's class).
_BACK_FOOTER = ('{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}\n'
                "{{Audio}}\n"
                '<div class="meta"><span class="source">{{Source}}</span>'
                '<span class="origin mathjax_ignore">{{Origin}}</span></div>')

_COMMON_FIELDS = ["Extra", "Source", "Origin", "Audio"]


def _fields(*names: str) -> list[dict[str, str]]:
    return [{"name": name} for name in (*names, *_COMMON_FIELDS)]


def _back(front: str, answer: str) -> str:
    return f'<div class="back">{front}\n<hr id="answer">\n{answer}\n{_BACK_FOOTER}</div>'


BASIC = genanki.Model(
    1164495272, "studycards Basic",
    fields=_fields("Question", "Answer"),
    templates=[{
        "name": "Card 1",
        "qfmt": '<div class="question">{{Question}}</div>',
        "afmt": _back('<div class="question">{{Question}}</div>',
                      '<div class="answer">{{Answer}}</div>'),
    }],
    css=STYLESHEET,
)

REVERSED = genanki.Model(
    1404719298, "studycards Reversed",
    fields=_fields("Question", "Answer"),
    templates=[
        {
            "name": "Forward",
            "qfmt": '<div class="question">{{Question}}</div>',
            "afmt": _back('<div class="question">{{Question}}</div>',
                          '<div class="answer">{{Answer}}</div>'),
        },
        {
            "name": "Reverse",
            "qfmt": '<div class="question">{{Answer}}</div>',
            "afmt": _back('<div class="question">{{Answer}}</div>',
                          '<div class="answer">{{Question}}</div>'),
        },
    ],
    css=STYLESHEET,
)

CLOZE = genanki.Model(
    2138950019, "studycards Cloze",
    fields=_fields("Text"),
    templates=[{
        "name": "Cloze",
        "qfmt": '<div class="question">{{cloze:Text}}</div>',
        "afmt": f'<div class="back"><div class="question">{{{{cloze:Text}}}}</div>\n{_BACK_FOOTER}</div>',
    }],
    css=STYLESHEET,
    model_type=genanki.Model.CLOZE,
)

CHOICE = genanki.Model(
    1994733468, "studycards Multiple choice",
    fields=_fields("Question", "Choices", "Answer"),
    templates=[{
        "name": "Choose",
        "qfmt": '<div class="question">{{Question}}</div>\n<div class="front">{{Choices}}</div>',
        "afmt": _back('<div class="question">{{Question}}</div>\n{{Choices}}',
                      '<div class="answer">{{Answer}}</div>'),
    }],
    css=STYLESHEET,
)

TYPED = genanki.Model(
    1592472387, "studycards Typed answer",
    fields=_fields("Question", "Answer"),
    templates=[{
        "name": "Type",
        "qfmt": '<div class="question">{{Question}}</div>\n{{type:Answer}}',
        "afmt": _back('<div class="question">{{Question}}</div>', "{{type:Answer}}"),
    }],
    css=STYLESHEET,
)

NOTE_TYPES: dict[Kind, genanki.Model] = {
    Kind.BASIC: BASIC,
    Kind.REVERSED: REVERSED,
    Kind.CLOZE: CLOZE,
    Kind.CHOICE: CHOICE,
    Kind.TYPED: TYPED,
}


def schema(kind: Kind) -> dict[str, object]:
    """What Anki compares: the model id, field names and template names."""
    model = NOTE_TYPES[kind]
    return {
        "model_id": model.model_id,
        "name": model.name,
        "fields": [field["name"] for field in model.fields],
        "templates": [template["name"] for template in model.templates],
    }
