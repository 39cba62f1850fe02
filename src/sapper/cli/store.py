"""``sapper init`` and ``sapper info``: make a store, say what one holds."""

from __future__ import annotations

import json

import typer

from sapper.cli._options import AsJson, Db, settings
from sapper.cli._output import out


def init(ctx: typer.Context, db: Db) -> None:
    """Create an empty store."""
    from sapper.services.register import create_register

    with create_register(settings(ctx, db=db)) as store:
        out.print(f"created {store.path}")


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
