"""docs/cli.md against the real command line: every command, option and error code is documented, nothing invented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import typer

import sapper.cli
import sapper.errors
from sapper.errors import SapperError

CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
HEADING = re.compile(r"^## sapper (?P<path>.+?)\s*$")


def _commands(cmd: Any | None = None, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every visible command (not group) of the Typer app, by its path (``("import", "hazards")``)."""
    cmd = cmd if cmd is not None else typer.main.get_command(sapper.cli.app)
    subs = getattr(cmd, "commands", None)
    if subs is None:  # a command, not a group (Typer vendors click, so test by shape rather than class)
        return {path: cmd}
    found: dict[tuple[str, ...], Any] = {}
    for name, sub in subs.items():
        if not getattr(sub, "hidden", False):
            found.update(_commands(sub, (*path, name)))
    return found


def _sections() -> dict[tuple[str, ...], str]:
    """The text of each ``## sapper <path>`` section of docs/cli.md, up to the next level-2 heading."""
    sections: dict[tuple[str, ...], str] = {}
    current: tuple[str, ...] | None = None
    for line in CLI_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            m = HEADING.match(line)
            current = tuple(m["path"].replace("`", "").split()) if m else None
            if current is not None:
                assert current not in sections, f"docs/cli.md: two sections for sapper {' '.join(current)}"
                sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def _mentions(text: str, token: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", text) is not None


def _visible_params(cmd: Any) -> list[Any]:
    return [p for p in cmd.params if not getattr(p, "hidden", False)]


def _table(section: str) -> list[list[str]]:
    """The rows (cells) of the Markdown tables in ``section``, header and rule rows included."""
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.lstrip().startswith("|")]


def test_every_command_has_a_section_and_every_section_a_command() -> None:
    """Each command of the app has a `## sapper <path>` heading in docs/cli.md, and each such heading is a command."""
    commands = set(_commands())
    sections = set(_sections())
    assert commands, "found no commands in sapper.cli.app"
    missing = sorted(" ".join(p) for p in commands - sections)
    invented = sorted(" ".join(p) for p in sections - commands)
    assert not missing, f"commands without a '## sapper …' section in docs/cli.md: {missing}"
    assert not invented, f"'## sapper …' sections in docs/cli.md that name no command: {invented}"


@pytest.mark.parametrize("path", sorted(_commands()), ids=" ".join)
def test_every_option_is_in_its_commands_section(path: tuple[str, ...]) -> None:
    """Each option, negative flag and argument of a command is in its section; its table lists no other option."""
    section = _sections().get(path)
    assert section is not None, f"no section for sapper {' '.join(path)}"
    cmd = _commands()[path]
    real: set[str] = set()
    for param in _visible_params(cmd):
        is_argument = param.param_type_name == "argument"
        tokens = [param.name.upper()] if is_argument else [*param.opts, *param.secondary_opts]
        real.update(tokens)
        for token in tokens:
            assert _mentions(section, token), f"sapper {' '.join(path)}: {token} is not in its section of docs/cli.md"
    listed = {opt for row in _table(section) for opt in re.findall(r"(?<![\w-])--[a-z][\w-]*", row[0])}
    assert listed <= real, f"sapper {' '.join(path)}: docs/cli.md lists options it does not have: {listed - real}"


@pytest.mark.parametrize("path", sorted(_commands()), ids=" ".join)
def test_option_defaults_match(path: tuple[str, ...]) -> None:
    """Each option's row in its command's table gives the real default (or says required)."""
    rows = _table(_sections().get(path, ""))
    cmd = _commands()[path]
    for param in _visible_params(cmd):
        if param.param_type_name != "option" or getattr(param, "is_flag", False):
            continue
        row = next((r for r in rows if len(r) >= 2 and _mentions(r[0], param.opts[0])), None)
        assert row is not None, f"sapper {' '.join(path)}: no table row for {param.opts[0]}"
        default = param.default
        if param.required:
            expected = {"required"}
        elif default is None:
            expected = {"none"}
        else:
            expected = {str(default), f"`{default}`"}
        assert row[1] in expected, f"sapper {' '.join(path)} {param.opts[0]}: default {row[1]!r}, expected {expected}"


def test_every_error_code_is_in_the_exit_code_table() -> None:
    """Each SapperError class in sapper.errors has a row in the exit-code table with its code and its exit code."""
    text = CLI_MD.read_text(encoding="utf-8")
    assert "\n## Exit codes\n" in text, "docs/cli.md has no '## Exit codes' section"
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = _table(section)
    errors = [c for _, c in inspect.getmembers(sapper.errors, inspect.isclass)
              if issubclass(c, SapperError) and c.__module__ == sapper.errors.__name__]
    assert SapperError in errors
    for error in errors:
        row = next((r for r in rows if f"`{error.code}`" in r), None)
        assert row is not None, f"{error.__name__} (code {error.code}) is not in the exit-code table of docs/cli.md"
        assert row[0] == str(error.exit_code), (
            f"{error.__name__}: docs/cli.md says exit {row[0]}, errors.py says {error.exit_code}"
        )


def test_every_option_of_the_app_itself_is_documented() -> None:
    """Options of ``sapper`` itself (not of a command: --version) are in docs/cli.md's 'Version and environment'."""
    text = CLI_MD.read_text(encoding="utf-8")
    section = text.split("\n## Version and environment\n", 1)[1].split("\n## ", 1)[0]
    root = typer.main.get_command(sapper.cli.app)
    options = [opt for p in _visible_params(root) for opt in p.opts]
    assert "--version" in options
    for opt in options:
        assert _mentions(section, opt), f"sapper {opt} is not in the 'Version and environment' section of docs/cli.md"


def test_every_environment_variable_is_documented() -> None:
    """Each SAPPER_* variable the settings read, and each an option reads, has a row in docs/cli.md."""
    from sapper.services.settings import ENVIRONMENT

    text = CLI_MD.read_text(encoding="utf-8")
    section = text.split("\n## Version and environment\n", 1)[1].split("\n## ", 1)[0]
    names = set(ENVIRONMENT)
    for cmd in _commands().values():
        for p in _visible_params(cmd):
            envvar = getattr(p, "envvar", None)
            names.update([envvar] if isinstance(envvar, str) else list(envvar or ()))
    assert names >= {"SAPPER_DB", "SAPPER_TIME_LIMIT", "SAPPER_WORKERS"}
    for name in names:
        assert _mentions(section, f"`{name}`"), f"{name} has no row in docs/cli.md's 'Version and environment'"
