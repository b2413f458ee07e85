"""Shared helpers: run the command in-process, import packages with the real Anki engine."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anki.lang
import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from studycards.cli import main

# Anki's HTML stripping (used by find_dupes) needs a language set, as the app does at start.
anki.lang.set_lang("en")

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).parent.parent


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(*args: str) -> Run:
    """Call the command line in-process, as `python build.py ARGS` would."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def copy_deck(name: str, destination: Path) -> Path:
    """Copy fixture deck NAME's cards/ into DESTINATION; return the new cards folder."""
    target = destination / "cards"
    shutil.copytree(FIXTURES / "decks" / name / "cards", target)
    return target


def import_package(collection: Collection, package: Path) -> object:
    """Import with the options a fresh desktop profile uses; return Anki's import log."""
    request = ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions())
    log = collection.import_anki_package(request).log
    collection.models._clear_cache()
    return log


def without_style(html: str) -> str:
    """A rendered card side without the stylesheet Anki puts in front of it."""
    return re.sub(r"^<style>.*?</style>", "", html, flags=re.DOTALL)


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    col = Collection(str(tmp_path / "collection.anki2"))
    yield col
    col.close()
