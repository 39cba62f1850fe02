"""``sapper scenario build``: a reference scenario into a new store."""

from __future__ import annotations

from typing import Annotated

import typer

from sapper.cli._options import Db, settings
from sapper.cli._output import lines, tr
from sapper.cli.store import table_name

scenario_app = typer.Typer(no_args_is_help=True, help="Reference scenarios.")


@scenario_app.command("build")
def scenario_build(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Scenario name: kursk-border or national-synthetic.")],
    db: Db,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same scenario.")] = 2025,
    replace: Annotated[bool, typer.Option(help="Delete an existing store file first.")] = False,
) -> None:
    """Build a reference scenario (synthetic hazards and assets on real geography) into a new store."""
    from sapper.services.scenario import build_scenario_register

    built = build_scenario_register(settings(ctx, db=db), name, seed=seed, replace=replace)
    lines([tr("built {name} (seed {seed}, SYNTHETIC hazards and assets) into {db}", name=name, seed=seed, db=db)])
    for table, n in built.items():
        lines([f"{table_name(table):>20}: {n}"])
