"""Coverage-guided fuzzing of the reader and checker with atheris.

Any bytes at all must come back as cards or as problems placed inside the
file, never as an exception. Run by hand for as long as you like:

    .venv/bin/python tests/fuzz_reader.py -max_total_time=600

The test suite runs it for 20 seconds where atheris is installed (tests/test_properties.py).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from studycards.checker import check_card_nodes
    from studycards.reader import decode, read_text


def check_one_input(data: bytes) -> None:
    text, problems = decode(data, "fuzz.yaml")
    if text is not None:
        node, problems = read_text(text, "fuzz.yaml")
        if node is not None:  # with the reader's own problems that do not stop it (a ' #', say)
            problems += check_card_nodes(node, "fuzz.yaml")[1]
    # Lines as YAML counts them: a lone CR, NEL and the Unicode separators end a line too.
    lines = len((text or data.decode("utf-8", "replace")).splitlines()) + 1
    for problem in problems:
        if not (1 <= problem.line <= lines and problem.column >= 1):
            raise AssertionError(f"problem outside the file: {problem}")


def main() -> None:
    atheris.Setup(sys.argv, check_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
