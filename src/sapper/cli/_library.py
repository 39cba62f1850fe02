"""The command-line library's own words in the run's language: ``--help`` pages and usage errors.

Typer renders help with Rich and parses with the click it vendors (``typer._click``), whose messages are English
f-strings with no gettext hook. Typer's own gettext hooks are its ``rich_utils`` phrases (panel titles, ``[default:
…]``, ``[required]``), read as module constants: :func:`speak` sets them from the catalogues. The rest is done at the
two places the library offers: the help page (``rich_utils.rich_format_help``, wrapped so the command's help, its
options' help and its subcommands' help are said from the catalogues) and the usage line's prefix
(``HelpFormatter.write_usage``); usage errors are said by :func:`usage_error` from the exception's own fields (the
option, the command, the possibilities), never by re-parsing a sentence of the library, except for the few messages
the parser makes as text (an option that needs an argument, a command that does not exist, a path that fails
its checks); a conversion error is said from pydantic's error (its type, limit and input; the choices from the
parameter's type).

The English texts are the msgids: the library's phrases are listed here (``N_``), the commands' and options' help
texts in :mod:`sapper.cli._helptexts` (written by ``python -m sapper.cli._helptexts`` from the live command tree,
which ``make catalogues`` runs first).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from enum import Enum
from typing import Any, Literal, get_args, get_origin

import typer
import typer.rich_utils as rich_utils
from typer import _click as click

from sapper.cli._output import _Voice, tr
from sapper.messages import N_ as N_  # the marker _helptexts.py imports from here
from sapper.report.i18n import Lang

#: Typer's gettext phrases (``typer.rich_utils``), as it spells them.
_RICH = {
    "DEPRECATED_STRING": N_("(deprecated) "),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}
#: The help option's text (the vendored click's ``help_option``) and the usage line's prefix (its ``write_usage``).
N_("Show this message and exit.")
N_("Usage:")


def _say(text: str) -> str:
    """``text`` (an English msgid) from the run's catalogue; as it is in English or when the catalogue lacks it."""
    sp = _Voice.speaker
    return text if sp is None else sp._(text)


def speak(lang: Lang) -> None:
    """Say the library's phrases in ``lang`` from now on (English: as the library spells them)."""
    del lang  # the run's speaker (sapper.cli._output.use_language) is already set
    for name, english in _RICH.items():
        setattr(rich_utils, name, _say(english))
    _install()


_installed: list[bool] = []


def _install() -> None:
    """Wrap the help page and the usage line once (each wrapper reads the run's language when it is called)."""
    if _installed:
        return
    _installed.append(True)
    format_help: Callable[..., None] = rich_utils.rich_format_help

    def rich_format_help(*, obj: Any, ctx: Any, markup_mode: Any) -> None:
        _translate_help(obj, ctx)
        format_help(obj=obj, ctx=ctx, markup_mode=markup_mode)

    rich_utils.rich_format_help = rich_format_help
    write_usage = click.formatting.HelpFormatter.write_usage

    def usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, _say("Usage:") + " " if prefix is None else prefix)

    click.formatting.HelpFormatter.write_usage = usage  # type: ignore[method-assign]


def _said(obj: Any, attr: str) -> None:
    """``obj.attr`` (a help text) in the run's language, from its English text (kept beside it)."""
    english = getattr(obj, "_sapper_english_" + attr, None)
    if english is None:
        english = getattr(obj, attr, None)
        if not isinstance(english, str) or not english:
            return
        setattr(obj, "_sapper_english_" + attr, english)
    setattr(obj, attr, _say(english))


def _translate_help(command: Any, ctx: Any) -> None:
    """The help texts a help page shows: the command's, its parameters' and its subcommands'."""
    _said(command, "help")
    _said(command, "short_help")
    for param in command.get_params(ctx):
        _said(param, "help")
    for sub in getattr(command, "commands", {}).values():
        _said(sub, "help")
        _said(sub, "short_help")


# ----------------------------------------------------------------------------------------------------
# Usage errors
# ----------------------------------------------------------------------------------------------------

_REQUIRES = re.compile(r"^Option (?P<name>'[^']*') requires (?:an argument|(?P<n>\d+) arguments)\.$")
_NO_VALUE = re.compile(r"^Option (?P<name>'[^']*') does not take a value\.$")
_NO_COMMAND = re.compile(r"^No such command (?P<name>'[^']*')(?:\. Did you mean (?P<like>.*)\?)?\.?$")
_EXTRA = re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)$")
#: What the vendored click says of a path that fails its checks (``typer._param_types.coerce_cli_path``).
_PATH = re.compile(r"^(?P<kind>file|dir|path) (?P<name>'.*') (?P<what>does not exist|is a file|is a directory|is not "
                   r"readable|is not writable)\.$")
_PATH_SAID = {"does not exist": N_("{kind} {name} does not exist."), "is a file": N_("{kind} {name} is a file."),
              "is a directory": N_("{kind} {name} is a directory."),
              "is not readable": N_("{kind} {name} is not readable."),
              "is not writable": N_("{kind} {name} is not writable.")}
_PATH_KIND = {"file": N_("file"), "dir": N_("folder"), "path": N_("path")}
#: What pydantic (typer's conversion) says of a number out of its range, by the error's type; its limit in ``ctx``.
_RANGE = {"greater_than_equal": ("ge", N_("must be at least {limit}, got {value}")),
          "greater_than": ("gt", N_("must be above {limit}, got {value}")),
          "less_than_equal": ("le", N_("must be at most {limit}, got {value}")),
          "less_than": ("lt", N_("must be below {limit}, got {value}"))}
_TAKES = re.compile(r"^Argument (?P<name>'[^']*') takes (?P<n>\d+) values\.$")
#: What typer's conversion (pydantic) says of a value of the wrong type, as sapper says it.
_VALUE = {
    re.compile(r"^Input should be a valid number"): N_("not a number"),
    re.compile(r"^Input should be a valid integer"): N_("not a whole number"),
    re.compile(r"^Input should be a valid boolean"): N_("not true or false"),
    re.compile(r"^Input should be a valid date"): N_("not a date YYYY-MM-DD"),
}


def _hint(param: Any, ctx: Any) -> str:
    """How the parameter is named: its options (or its argument's name), and its environment variable."""
    opts = getattr(param, "opts", None) or [getattr(param, "name", "") or ""]
    if getattr(param, "param_type_name", "") == "argument":
        opts = [param.make_metavar(ctx) if ctx is not None else (param.name or "").upper()]
    text = " / ".join(repr(o) for o in opts)
    envvar = getattr(param, "envvar", None)
    if isinstance(envvar, str) and envvar:
        text += " " + tr("(env var: {var})", var=repr(envvar))
    return text


def _value(text: str) -> str:
    for pattern, said in _VALUE.items():
        if pattern.match(text):
            return _say(said)
    return text


def _choices(param: Any) -> list[str] | None:
    """The values an enum or ``Literal`` parameter accepts (``None`` for any other parameter)."""
    runtime = getattr(param, "get_runtime_param", None)
    annotation = getattr(runtime(), "annotation", None) if runtime is not None else None
    if get_origin(annotation) is Literal:
        return [str(c) for c in get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(c.value) for c in annotation]
    return None


def _conversion(exc: Exception, param: Any) -> str | None:
    """What typer's conversion (pydantic, the exception's cause) found wrong, from the error's own fields: a number out
    of its range, a value that is not one of the choices; ``None`` for what is said from the text."""
    errors = getattr(exc.__cause__, "errors", None)
    if errors is None:
        return None
    try:
        first = errors(include_url=False)[0]
    except (IndexError, TypeError):
        return None
    kind, ctx, value = first.get("type"), first.get("ctx") or {}, first.get("input")
    if kind in _RANGE and _RANGE[kind][0] in ctx:
        key, template = _RANGE[kind]
        return tr(template, limit=ctx[key], value=value)
    choices = _choices(param)
    if kind == "value_error" and choices is not None:
        return tr("{value} is not one of {choices}.", value=repr(value), choices=", ".join(map(repr, choices)))
    return None


def _path(text: str) -> str | None:
    """A path that fails the parameter's checks (does not exist, is a folder), rebuilt from the message's parts."""
    if m := _PATH.match(text):
        template = _PATH_SAID[m["what"]]
        return tr(template, kind=_say(_PATH_KIND[m["kind"]]), name=m["name"])
    return None


def _message(exc: Exception) -> str:
    """The error itself (after ``Error:``) in the run's language."""
    ctx = getattr(exc, "ctx", None)
    param = getattr(exc, "param", None)
    text = str(getattr(exc, "message", "") or "")
    if isinstance(exc, click.exceptions.NoSuchOption):
        said = tr("No such option: {name}", name=exc.option_name)
        if exc.possibilities:
            said += " " + tr("(Possible options: {options})", options=", ".join(sorted(exc.possibilities)))
        return said
    if isinstance(exc, click.exceptions.MissingParameter):
        hint = _hint(param, ctx) if param is not None else str(exc.param_hint or "")
        kind = exc.param_type or (getattr(param, "param_type_name", None) if param is not None else None)
        said = {"option": tr("Missing option {hint}.", hint=hint), "argument": tr("Missing argument {hint}.",
                                                                               hint=hint)}.get(
            kind or "", tr("Missing parameter {hint}.", hint=hint))
        extra = param.get_missing_message(ctx) if param is not None else ""
        if extra and extra.startswith("Choose from:"):
            said += " " + tr("Choose from: {choices}", choices=extra.removeprefix("Choose from:").strip())
        return said
    if isinstance(exc, click.exceptions.FileError):
        return tr("Could not open file {name}: {reason}", name=repr(exc.ui_filename), reason=exc.message)
    if isinstance(exc, click.exceptions.BadParameter):
        value = _conversion(exc, param) or _path(text) or _value(text)
        if param is None and exc.param_hint is None:
            return tr("Invalid value: {message}", message=value)
        hint = _hint(param, ctx) if param is not None else str(exc.param_hint)
        return tr("Invalid value for {hint}: {message}", hint=hint, message=value)
    if m := _REQUIRES.match(text):
        if m["n"]:
            return tr("Option {name} requires {n} arguments.", name=m["name"], n=m["n"])
        return tr("Option {name} requires an argument.", name=m["name"])
    if m := _NO_VALUE.match(text):
        return tr("Option {name} does not take a value.", name=m["name"])
    if m := _NO_COMMAND.match(text):
        said = tr("No such command {name}.", name=m["name"])
        return said + (" " + tr("Did you mean {commands}?", commands=m["like"]) if m["like"] else "")
    if m := _EXTRA.match(text):
        return tr("Got unexpected extra arguments ({args})", args=m["args"])
    if m := _TAKES.match(text):
        return tr("Argument {name} takes {n} values.", name=m["name"], n=m["n"])
    if text == "Missing command.":
        return tr("Missing command.")
    return text


def usage_error(exc: typer.TyperException) -> None:
    """A usage error as click shows it (usage line, where to find help, the error), in the run's language."""
    ctx = getattr(exc, "ctx", None)
    if _Voice.speaker is not None and isinstance(exc, click.exceptions.FileError):
        print(tr("Error: {message}", message=_message(exc)), file=sys.stderr)  # as click shows it: no usage line
        return
    if _Voice.speaker is None or not isinstance(exc, click.exceptions.UsageError) or isinstance(
            exc, click.exceptions.NoArgsIsHelpError):
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        return
    said = []
    if ctx is not None:
        said.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            said.append(tr("Try '{command} {option}' for help.", command=ctx.command_path,
                           option=ctx.help_option_names[0]))
        said.append("")
    said.append(tr("Error: {message}", message=_message(exc)))
    print("\n".join(said), file=sys.stderr)


# ----------------------------------------------------------------------------------------------------
# The help texts for the catalogues
# ----------------------------------------------------------------------------------------------------


def help_texts() -> list[str]:
    """Every help text of the command tree (commands, their short help, options, arguments), sorted."""
    from sapper.cli import app

    root = typer.main.get_command(app)
    found: set[str] = set()

    def walk(command: Any) -> None:
        ctx = click.Context(command, info_name=command.name)
        for text in (command.help, command.short_help, *(getattr(p, "help", None)
                                                        for p in command.get_params(ctx))):
            if isinstance(text, str) and text:
                found.add(text)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(root)
    return sorted(found)


def write_help_texts(path: str) -> None:
    """Write :mod:`sapper.cli._helptexts` (``N_`` of every help text) for ``make catalogues`` to extract."""
    body = "".join(f"    N_({text!r}),\n" for text in help_texts())
    with open(path, "w", encoding="utf-8") as f:
        f.write("# ruff: noqa: E501\n"
                '"""The commands\' and options\' help texts, for the catalogues: written from the command tree by '
                '``make catalogues``\n(:func:`sapper.cli._library.write_help_texts`); do not edit. The help pages '
                'say them in the run\'s language."""\n\n'
                "from sapper.cli._library import N_\n\nHELP = (\n" + body + ")\n")

