"""The web-service commands through sapper's real entry point: org add, user add with the password on stdin, user
token (their documentation is checked with every other command's by tests/test_docs.py)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from sapper.services import accounts
from sapper.store import open_store
from tests.cli.entry import run


def test_org_user_and_token_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """org add, user add (password from stdin) and user token work together; the token authenticates."""
    db = tmp_path / "s.gpkg"
    open_store(db, create=True).close()
    code, _, err = run(monkeypatch, capsys, "org", "add", "nmaa", "--authority", "--db", db)
    assert code == 0, err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    code, _, err = run(monkeypatch, capsys, "user", "add", "ima", "--role", "im-officer", "--org", "nmaa",
                       "--password-stdin", "--db", db)
    assert code == 0, err
    code, token, err = run(monkeypatch, capsys, "user", "token", "ima", "--db", db)
    assert code == 0, err
    with open_store(db) as store:
        who = accounts.authenticate_token(store, token.strip().splitlines()[0])
        assert who is not None and who.name == "ima" and who.authority
        assert accounts.authenticate_password(store, "ima", "a long password") == who


def test_user_add_without_password_stdin_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """user add without --password-stdin is refused with one line naming the password, exit code 2."""
    db = tmp_path / "s.gpkg"
    open_store(db, create=True).close()
    code, _, err = run(monkeypatch, capsys, "user", "add", "x", "--role", "viewer", "--org", "o", "--db", db)
    assert code == 2 and "password" in err and len(err.strip().splitlines()) == 1, err
