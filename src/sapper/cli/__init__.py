"""The ``sapper`` command line. Commands call services; user mistakes give one line on stderr and an exit code.

Exit codes: 0 success; 1 unexpected error; 2 invalid input (file, geometry, CRS, parameters; or rejected features
under ``--strict``); 3 not found; 4 store problem; 5 planning problem. See docs/cli.md.

One module per command group (``store``, ``imports``, ``scenario``, ``forms``, ``plan``, ``forecast``, ``whatif``,
``costs``, ``priorities``, ``likelihood``, ``bench``, ``release``, ``field``, ``tasks``, ``web``, ``trust``): a
command parses its options, calls one service and prints what it returns. This module builds the app, the run's
:class:`~sapper.services.settings.Settings` (once, in the app's callback) and maps every
:class:`~sapper.errors.SapperError` to its message and exit code in one place, :func:`main`.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from sapper.cli import (
    bench,
    calendar,
    costs,
    field,
    forecast,
    forms,
    imports,
    likelihood,
    plan,
    priorities,
    release,
    scenario,
    store,
    tasks,
    trust,
    web,
    whatif,
)
from sapper.cli._library import usage_error
from sapper.cli._output import error_line, localise, tr, use_language
from sapper.errors import Fault, SapperError, ValidationError, error_text
from sapper.report.i18n import Lang
from sapper.services.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0] if __doc__ else None)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import PackageNotFoundError, version  # ~0.1 s of imports: only for --version

        try:
            number = version("sapper")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        print(f"sapper {number}")
        raise typer.Exit(0)


@app.callback()
def _start(
    ctx: typer.Context,
    show_version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_version)
    ] = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of sapper's messages: en, uk or ru (default: $SAPPER_LANG, "
                                                "else en). Put it before the command: sapper --lang uk info ...")
    ] = None,
) -> None:
    """Build the run's settings from the environment (``SAPPER_*``), once, for every command; choose the language."""
    use_language(Lang.EN)  # a language that cannot be parsed is refused in English
    use_language(Lang.parse(lang))
    ctx.obj = Settings.from_env(os.environ)


app.command()(store.init)
app.command()(store.info)
app.command()(store.copy)
app.add_typer(imports.import_app, name="import")
app.add_typer(imports.export_app, name="export")
app.add_typer(scenario.scenario_app, name="scenario")
app.add_typer(forms.forms_app, name="forms")
app.add_typer(calendar.calendar_app, name="calendar")
app.command()(plan.plan)
app.command()(plan.replan)
app.command()(plan.report)
app.command()(plan.demo)
app.command()(forecast.forecast)
app.command()(costs.costs)
app.command()(whatif.whatif)
app.command()(priorities.priorities)
app.command()(likelihood.likelihood)
app.add_typer(bench.bench_app, name="bench")
app.add_typer(release.release_app, name="release")
app.add_typer(field.field_app, name="field")
app.command()(tasks.tasks)
app.add_typer(tasks.task_order_app, name="task-order")
app.command()(web.serve)
app.add_typer(web.org_app, name="org")
app.add_typer(web.user_app, name="user")
app.command()(trust.backup)
app.command()(trust.restore)
app.command()(trust.audit)
app.add_typer(trust.keys_app, name="keys")
app.command("grant-service-role")(trust.grant_service_role)


def _fault(fault: Fault) -> str:
    record = localise(fault.record)  # a record named by a message ("hazard area H-1") is said in the language
    where = f"{record}.{fault.field}" if fault.field else record
    return f"{where}: {localise(fault.reason)}"


def _message(exc: SapperError) -> str:
    """The error's message in the run's language (the faults' reasons translated one by one)."""
    return error_text(exc, localise)


def _report(exc: SapperError) -> None:
    """The error's lines on stderr: a ValidationError with several faults lists each (``fault: …``) first."""
    if isinstance(exc, ValidationError) and len(exc.faults) > 1:
        for fault in exc.faults:
            error_line(tr("fault: {fault}", fault=_fault(fault)))
        error_line(tr("sapper: error [{code}]: {what}: {n} faults (listed above); nothing was changed",
                      code=exc.code, what=localise(exc.what), n=len(exc.faults)))
    else:
        error_line(tr("sapper: error [{code}]: {message}", code=exc.code, message=_message(exc)))


def _early_language(argv: list[str]) -> Lang:
    """The language named before the command (``--lang X``, ``--lang=X``) or by $SAPPER_LANG, for what is said before
    the app's callback runs (a usage error, ``--help``); English when it cannot be read (the callback refuses it)."""
    value = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
            break
        if arg.startswith("--lang="):
            value = arg.removeprefix("--lang=")
            break
        if not arg.startswith("-"):  # the command: options after it are its own
            break
    try:
        return Lang.parse(value)
    except SapperError:
        return Lang.EN


def main() -> None:
    """Entry point: run the app; map sapper errors to their lines and exit code."""
    use_language(_early_language(sys.argv[1:]))
    try:
        code = app(standalone_mode=False)  # returns the code of typer.Exit instead of raising it
    except SapperError as exc:
        _report(exc)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        error_line(tr("sapper: aborted"))
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors (unknown command, missing or bad option): click's message
        usage_error(exc)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    sys.exit(code if isinstance(code, int) else 0)
