"""``sapper whatif``: the latest plan and its variants (more deminers, winter work, more dog teams…), each re-planned
and forecast, side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Db, parse_day, settings
from sapper.cli._output import asset_label, lines, localise, role_label, say, tr, tr_n
from sapper.cli.costs import PricingFile

if TYPE_CHECKING:
    from sapper.services.whatif import WhatIf, Workforce


def _workforce(w: Workforce) -> str:
    """People and units of a column, the roles named in the run's language."""
    teams = ", ".join(tr("{n} {role}", n=n, role=role_label(m)) for m, n in w.teams)
    brigades = ", ".join(tr("{n} {role}", n=n, role=role_label(t)) for t, n in w.brigades)
    return tr("{deminers} deminers ({teams}), {builders} builders ({brigades})", deminers=w.deminers,
              teams=teams or "—", builders=w.builders, brigades=brigades or "—")


def _table(w: WhatIf) -> list[str]:
    variant, p50, p80 = tr("variant"), tr("finish P50"), tr("finish P80")
    width = max(12, len(variant), *(len(c.name) for c in w.columns))
    cols = max(10, len(p50), len(p80))
    released = tr("released km² by {date} (P50)", date=w.by)
    text = [f"{variant:<{width}}  {p50:<{cols}}  {p80:<{cols}}  {released}",
            *(f"{c.name:<{width}}  {c.finish.p50!s:<{cols}}  {c.finish.p80!s:<{cols}}  "
              + tr("{released:.2f} of {total:.2f}", released=c.released_km2[1], total=w.hazard_area_km2)
              for c in w.columns)]
    if w.columns[0].critical:
        text.append(tr("critical assets (P50 / P80): {rule}", rule=w.critical_rule))
        for a in w.columns[0].critical:
            cells = "  ".join(f"{c.name} {x.p50} / {x.p80}" for c in w.columns for x in c.critical
                              if x.asset_id == a.asset_id)
            text.append(tr("  {asset} ({type}, score {score:.3f}): {cells}", asset=a.asset_id,
                           type=asset_label(a.asset_type), score=a.score, cells=cells))
    text.append(tr("what each column is:"))
    for c in w.columns:
        winter = tr("demining works in winter") if c.winter_work else tr("demining stands down in winter")
        changes = localise(c.changes) or tr("no change (a control: re-planned as the variants are)")
        parts = [tr("  {name}: {changes} → {workforce}; {winter}; starts {start}; plan {status}, planned "
                    "finish {finish}", name=c.name, changes=changes, workforce=_workforce(c.workforce), winter=winter,
                    start=c.start_date, status=c.plan_status, finish=c.planned_finish)]
        if c.name != "current":
            parts.append(tr("re-planned in {seconds:.1f} s", seconds=c.plan_seconds))
        parts.append(tr("forecast {seconds:.1f} s", seconds=c.forecast_seconds))
        if c.beyond_horizon:
            parts.append(tr_n("{n} run beyond the horizon", "{n} runs beyond the horizon", c.beyond_horizon))
        text.append("; ".join(parts))
    text.append(tr_n("{n} run, seed {seed}, the same for every column", "{n} runs, seed {seed}, the same for every "
                     "column", w.runs, seed=w.seed))
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
