"""``python -m sapper``: the command line, as the ``sapper`` script runs it (``python -X importtime -m sapper --help``
shows what its start-up imports; ``tests/cli/test_startup.py`` keeps the heavy libraries out of it)."""

from sapper.cli import main

if __name__ == "__main__":
    main()
