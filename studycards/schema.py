"""JSON Schemas for deck.yaml and card files, generated from the checker's own definitions.

Editors with the YAML language server (VS Code's YAML extension and others)
read them through the first line of each file::

    # yaml-language-server: $schema=../studycards/schemas/cards.schema.json

and then complete keys and flag mistakes while typing. The schemas are
written from the key tables in ``studycards.cards``, the id and cloze
patterns and the lint rule names, so they cannot drift from the checker;
``python -m studycards.schema`` rewrites the committed files, and a test
fails when they are out of date.

An editor's YAML parser reads ``true`` as a boolean and ``2024`` as a
number where this project keeps text, so text keys accept those too.
What needs more than one file (unique ids, tag spelling across files) is
left to the checker.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studycards.cards import CARD_KEYS, DECK_KEYS, FILE_KEYS, ID_PATTERN, KIND_KEYS, Key
from studycards.lint import RULE_IDS

SCHEMA_FOLDER = Path(__file__).parent / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

_TEXT: dict[str, Any] = {"type": ["string", "number", "boolean"], "minLength": 1, "pattern": r"\S"}
# An editor reads "id: 1066" or "tags: [1944]" as a number where the build reads text; a
# number is a valid id and tag, and the pattern applies to text only.
_ID = {"type": ["string", "number"], "pattern": "^" + ID_PATTERN.pattern.removesuffix(r"\Z") + "$"}
_RULE = {"enum": list(RULE_IDS)}
_WHOLE_DELETION = r"\{\{c0*[1-9][0-9]*::(?:(?!\{\{|\}\})[\s\S])*\}\}"
_TAG = {"type": ["string", "number"], "pattern": r"^\S+$"}
# What each key's values must look like beyond its type.
_REFINED: dict[str, dict[str, Any]] = {
    "id": _ID,
    # A cloze must hold a whole deletion numbered from c1 (in the regular expressions that both
    # editors and Python understand).
    "cloze": {**_TEXT, "type": "string", "pattern": _WHOLE_DELETION},
    "tags": {"type": "array", "items": _TAG},
    "choices": {"type": "array", "items": _TEXT, "minItems": 2, "uniqueItems": True},
    "disable": {"type": "array", "items": _RULE},
    "lint-ignore": {"type": "array", "items": _RULE},
}


def deck_schema() -> dict[str, Any]:
    return {"$schema": DRAFT, "title": "studycards deck.yaml", **_mapping(DECK_KEYS)}


def cards_schema() -> dict[str, Any]:
    schema = {"$schema": DRAFT, "title": "studycards card file", **_mapping(FILE_KEYS)}
    card = _mapping(CARD_KEYS)
    card["allOf"] = _kind_rules()
    schema["properties"]["cards"] = {"type": "array", "minItems": 1, "items": card,
                                     "description": schema["properties"]["cards"]["description"]}
    return schema


def schema_files() -> dict[str, str]:
    """File name -> text, as committed under studycards/schemas/."""
    return {name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
            for name, schema in (("deck.schema.json", deck_schema()),
                                 ("cards.schema.json", cards_schema()))}


def _mapping(keys: tuple[Key, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key.name: {**_value(key), "description": key.help} for key in keys},
        "required": [key.name for key in keys if key.required],
        "additionalProperties": False,
    }


def _value(key: Key) -> dict[str, Any]:
    if key.name in _REFINED:
        return _REFINED[key.name]
    if key.type == "mapping":
        return _mapping(key.keys)
    if key.type == "list":
        return {"type": "array", "items": _TEXT}
    if key.type == "flag":
        return {"enum": [True, False, "true", "false"]}
    if key.type == "number":
        # At least 1, as the build requires (a limit of 0 would flag every card); as text, no zeros only.
        return {"type": ["integer", "string"], "minimum": 1, "pattern": "^0*[1-9][0-9]*$"}
    return _TEXT


def _kind_rules() -> list[dict[str, Any]]:
    """The checker's kind rules: one kind per card; cloze has no q/a; every other kind needs both."""
    def active(key: str) -> dict[str, Any]:
        spec = next(card_key for card_key in CARD_KEYS if card_key.name == key)
        if spec.type == "flag":
            return {"required": [key], "properties": {key: {"enum": [True, "true"]}}}
        return {"required": [key]}

    rules: list[dict[str, Any]] = [
        {"if": {"required": ["cloze"]},
         "then": {"not": {"anyOf": [{"required": ["q"]}, {"required": ["a"]}]}},
         "else": {"required": ["q", "a"]}},
    ]
    for index, first in enumerate(KIND_KEYS):
        for second in KIND_KEYS[index + 1:]:
            rules.append({"not": {"allOf": [active(first), active(second)]}})
    return rules


def main() -> None:
    # No options: a contributor runs it after changing the tables (see README.md).
    parser = argparse.ArgumentParser(prog="python -m studycards.schema",
                                     description=f"Write the YAML files' JSON Schemas into {SCHEMA_FOLDER}.")
    parser.parse_args()
    SCHEMA_FOLDER.mkdir(exist_ok=True)
    for name, text in schema_files().items():
        (SCHEMA_FOLDER / name).write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_FOLDER / name}", file=sys.stdout)


if __name__ == "__main__":
    main()
