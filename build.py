"""Compile cards/ into an Anki package: see README.md, or run with --help."""

import sys

from studycards.cli import main

if __name__ == "__main__":
    sys.exit(main())
