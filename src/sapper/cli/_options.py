"""Options several commands share, and the parsing of option text the services do not take as text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.services.settings import Settings

Db = Annotated[
    str,
    typer.Option("--db", envvar="SAPPER_DB",
                 help="The store: a SQLite file that is also a GeoPackage, or a postgresql:// database URL."),
]
Crs = Annotated[
    str | None, typer.Option(help="CRS of a file that carries none (CSV, or a layer without one), e.g. EPSG:4326.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TimeLimit = Annotated[
    float, typer.Option("--time-limit", envvar="SAPPER_TIME_LIMIT", help="Solver time limit in seconds.")
]
Workers = Annotated[int, typer.Option(envvar="SAPPER_WORKERS", help="CP-SAT workers (threads).")]
Seed = Annotated[int, typer.Option(help="Solver random seed.")]


def settings(ctx: typer.Context, **options: object) -> Settings:
    """The run's settings (built once, by the app's callback, from the environment), with this command's options."""
    base = ctx.find_object(Settings)
    if base is None:  # a command invoked without the app's callback (a test driving one command)
        raise RuntimeError("sapper's settings were not built: run commands through sapper.cli.app")
    return base.replace(**{k: str(v) if isinstance(v, Path) else v for k, v in options.items()})


def parse_at(at: str | None) -> dt.datetime | None:
    """``--at``: an ISO 8601 time (the services refuse one without a time zone); None when not given."""
    if at is None:
        return None
    try:
        return dt.datetime.fromisoformat(at)
    except ValueError:
        raise ValidationError("--at", [Fault("--at", msg("{value} is not an ISO 8601 time such as "
                                                       "2025-07-01T09:30:00Z", value=repr(at)))]) from None


def parse_day(name: str, value: str | None) -> dt.date | None:
    """A ``YYYY-MM-DD`` option; None when not given."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise ValidationError(name, [Fault(name, msg("{value} is not a date YYYY-MM-DD", value=repr(value)))]
                              ) from None
