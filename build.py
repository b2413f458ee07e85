"""Compile cards/ into an Anki package: see README.md, or run with --help."""

import sys

if __name__ == "__main__":
    try:
        from studycards.cli import main

        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C before the build had begun (main handles it after)
        print("build.py: interrupted; nothing was written", file=sys.stderr)
        sys.exit(130)  # as cli.EXIT_INTERRUPTED, which may not be imported yet
