"""Run ``sapper`` in this process through its real entry point (``sapper.cli.main``), as the installed command runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sapper.cli import main


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """``sapper args``: its exit code, standard output and standard error."""
    monkeypatch.setattr(sys, "argv", ["sapper", *map(str, args)])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err
