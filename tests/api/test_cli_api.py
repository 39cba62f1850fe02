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


def test_user_revoke_refuses_the_tokens_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.gpkg"
    open_store(db, create=True).close()
    assert run(monkeypatch, capsys, "org", "add", "nmaa", "--authority", "--db", db)[0] == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    assert run(monkeypatch, capsys, "user", "add", "ima", "--role", "im-officer", "--org", "nmaa",
               "--password-stdin", "--db", db)[0] == 0
    token = run(monkeypatch, capsys, "user", "token", "ima", "--db", db)[1].strip()
    code, out, err = run(monkeypatch, capsys, "user", "revoke", "ima", "--db", db)
    assert code == 0 and out.strip() == "1 token of ima revoked", err
    with open_store(db) as store:
        assert accounts.authenticate_token(store, token) is None
    code, _, err = run(monkeypatch, capsys, "user", "revoke", "nobody", "--db", db)
    assert code == 3 and "nobody" in err and len(err.strip().splitlines()) == 1, err


def test_user_add_refuses_a_weak_password_with_every_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.gpkg"
    open_store(db, create=True).close()
    assert run(monkeypatch, capsys, "org", "add", "nmaa", "--authority", "--db", db)[0] == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("ima2025\n"))
    code, _, err = run(monkeypatch, capsys, "user", "add", "ima", "--role", "im-officer", "--org", "nmaa",
                       "--password-stdin", "--db", db)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 3, err  # a line per reason, then the summary
    assert "12 characters" in lines[0] and "user name" in lines[1] and "nothing was changed" in lines[2]
