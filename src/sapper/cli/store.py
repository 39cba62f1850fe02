"""``sapper init``, ``sapper info`` and ``sapper copy``: make a store, say what one holds, copy one into another."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sapper.cli._options import AsJson, Db, parse_day, settings
from sapper.cli._output import lines, out, tr


def init(
    ctx: typer.Context,
    db: Db,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="The programme's first day (YYYY-MM-DD): plans start there.")
    ] = None,
) -> None:
    """Create an empty store: a new GeoPackage file, or sapper's schema in a new or empty PostgreSQL database."""
    from sapper.services.copy import init_store

    first = parse_day("--start-date", start_date)
    lines([tr("created {store}", store=init_store(settings(ctx, db=db).db or "", start_date=first))])


def copy(
    source: Annotated[str, typer.Option("--from", help="The store to copy: a GeoPackage file or a postgresql:// URL.")],
    target: Annotated[str, typer.Option("--to", help="The new or empty store to copy into (created if missing).")],
) -> None:
    """Copy a whole register into a new or empty store, of either kind, without loss."""
    from sapper.services.copy import copy_register

    lines(copy_register(source, target).lines())


def info(ctx: typer.Context, db: Db, as_json: AsJson = False) -> None:
    """What the store holds: counts per layer and the scenario's metadata."""
    from sapper.services.register import describe, open_register

    with open_register(settings(ctx, db=db)) as store:
        found = describe(store)
    if as_json:
        print(json.dumps(found.to_json(), indent=1, ensure_ascii=False))
        return
    for k, n in found.counts.items():
        out.print(f"{k:>28}: {n}")
    for k, v in found.meta.items():
        text = v if len(v) <= 200 else f"{v[:80]} … ({len(v):,} characters; see --json)"
        out.print(f"{k:>28}: {text}", markup=False, highlight=False)
