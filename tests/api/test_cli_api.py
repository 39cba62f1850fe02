"""The web-service commands (``sapper.cli_api_new``): org add, user add with the password on stdin, user token;
and docs/cli-api.md documents every one of their options."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from sapper.cli_api_new import register
from sapper.services import accounts
from sapper.store import open_store

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli-api.md"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_org_user_and_token_commands(tmp_path: Path) -> None:
    """org add, user add (password from stdin) and user token work together; the token authenticates."""
    db = tmp_path / "s.gpkg"
    open_store(db, create=True).close()
    runner = CliRunner()
    assert runner.invoke(_app(), ["org", "add", "nmaa", "--authority", "--db", str(db)]).exit_code == 0
    added = runner.invoke(_app(), ["user", "add", "ima", "--role", "im-officer", "--org", "nmaa",
                                   "--password-stdin", "--db", str(db)], input="a long password\n")
    assert added.exit_code == 0, added.output
    token = runner.invoke(_app(), ["user", "token", "ima", "--db", str(db)])
    assert token.exit_code == 0
    with open_store(db) as store:
        who = accounts.authenticate_token(store, token.stdout.strip().splitlines()[0])
        assert who is not None and who.name == "ima" and who.authority
        assert accounts.authenticate_password(store, "ima", "a long password") == who


def test_user_add_without_password_stdin_is_refused(tmp_path: Path) -> None:
    """user add without --password-stdin is refused with an error naming the password."""
    db = tmp_path / "s.gpkg"
    open_store(db, create=True).close()
    result = CliRunner().invoke(_app(), ["user", "add", "x", "--role", "viewer", "--org", "o", "--db", str(db)])
    assert result.exit_code != 0
    assert "password" in str(result.exception)


def test_every_option_is_documented() -> None:
    """Each command has a section in docs/cli-api.md mentioning each of its options."""
    text = DOC.read_text(encoding="utf-8")
    group = typer.main.get_command(_app())
    commands = {("serve",): group.commands["serve"]}  # type: ignore[attr-defined]
    for name in ("org", "user"):
        for sub, cmd in group.commands[name].commands.items():  # type: ignore[attr-defined]
            commands[(name, sub)] = cmd
    for path, cmd in commands.items():
        heading = f"## sapper {' '.join(path)}\n"
        assert heading in text, heading
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        for param in cmd.params:
            tokens = [param.name.upper()] if param.param_type_name == "argument" else list(param.opts)
            for token in tokens:
                assert re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", section), (path, token)
