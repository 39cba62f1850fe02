"""``sapper whatif``: the latest plan and its variants (more deminers, winter work, more dog teams…), each re-planned
and forecast, side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Db, parse_day, settings
from sapper.cli._output import lines, say, tr_n
from sapper.cli.costs import PricingFile

if TYPE_CHECKING:
    from sapper.services.whatif import WhatIf


def _table(w: WhatIf) -> list[str]:
    width = max(12, *(len(c.name) for c in w.columns))
    text = [f"{'variant':<{width}}  {'finish P50':<10}  {'finish P80':<10}  released km² by {w.by} (P50)",
            *(f"{c.name:<{width}}  {c.finish.p50}  {c.finish.p80}  {c.released_km2[1]:.2f} of {w.hazard_area_km2:.2f}"
              for c in w.columns)]
    if w.columns[0].critical:
        text.append(f"critical assets (P50 / P80): {w.critical_rule}")
        for a in w.columns[0].critical:
            cells = "  ".join(f"{c.name} {x.p50} / {x.p80}" for c in w.columns for x in c.critical
                              if x.asset_id == a.asset_id)
            text.append(f"  {a.asset_id} ({a.asset_type}, score {a.score:.3f}): {cells}")
    text.append("what each column is:")
    for c in w.columns:
        winter = "works in winter" if c.winter_work else "stands down in winter"
        seconds = f"re-planned in {c.plan_seconds:.1f} s, " if c.name != "current" else ""
        changes = c.changes or "no change (a control: re-planned as the variants are)"
        text.append(f"  {c.name}: {changes} → {c.workforce.describe()}; demining {winter}; starts "
                    f"{c.start_date}; plan {c.plan_status}, planned finish {c.planned_finish}; {seconds}forecast "
                    f"{c.forecast_seconds:.1f} s" + (f"; {c.beyond_horizon} runs beyond the horizon"
                                                     if c.beyond_horizon else ""))
    text.append(f"{w.runs} runs, seed {w.seed}, the same for every column")
    return text


def whatif(
    ctx: typer.Context,
    db: Db,
    variant: Annotated[list[str], typer.Option("--variant", help="NAME:KEY=VALUE[,KEY=VALUE...], e.g. "
                                               "double:deminers=2000 or dogs:dog_teams=+10; repeat for more.")],
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Solver time limit per variant in "
                                                     "seconds (default: the latest plan's).")] = None,
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs per column.")] = 2_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed, the same for every column.")] = 0,
    by: Annotated[str | None, typer.Option("--by", help="Compare released km² on this date YYYY-MM-DD "
                                           "(default: the latest plan's planned finish).")] = None,
    critical: Annotated[int, typer.Option("--critical", help="How many critical assets to follow (highest "
                                          "priority score).")] = 5,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the JSON to this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Keep the comparison in the store for the "
                                       "situation report (it replaces the one before; the plans are never saved).")
                    ] = True,
    pricing: PricingFile = None,
) -> None:
    """Compare the latest plan with variants of it, each re-planned (never saved) and forecast: finish P50/P80,
    released km² by a date and the critical assets' dates."""
    from sapper.services.pricing import load_pricing
    from sapper.services.register import open_register
    from sapper.services.whatif import compare, parse_variant, save_comparison, whatif_document, write_whatif_json

    parsed = [parse_variant(v) for v in variant]
    day = parse_day("--by", by)
    with open_register(settings(ctx, db=db)) as store:
        if not as_json:
            say(tr_n("forecasting the latest plan and re-planning {n} variant",
                     "forecasting the latest plan and re-planning {n} variants", len(parsed)))
        result = compare(store, parsed, runs=runs, seed=seed, time_limit_s=time_limit, by=day, critical=critical,
                         pricing=load_pricing(pricing) if pricing is not None else None)
        if save:
            save_comparison(store, result)
    if out_file is not None:
        write_whatif_json(result, out_file)
    if as_json:
        print(json.dumps(whatif_document(result), indent=1, ensure_ascii=False))
    else:
        lines(_table(result))
