"""``sapper forecast``: when the store's latest plan will really finish, with P10–P90 dates."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from sapper.cli._options import Db, settings
from sapper.cli._output import lines, out, tr, tr_n
from sapper.cli.costs import PricingFile


def forecast(
    ctx: typer.Context,
    db: Db,
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same forecast.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the forecast as JSON.")] = False,
    dask: Annotated[bool, typer.Option("--dask", help="Run the Monte Carlo on a Dask LocalCluster (the `scale` "
                                                     "extra); the same seed gives the same forecast.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Dask worker processes (default: one "
                                                                          "per core); with --dask only.")] = None,
    pricing: PricingFile = None,
) -> None:
    """Forecast the latest plan: P10/P50/P80/P90 dates for the region, each hazard area and each asset, and what
    it will cost (P50/P80, in total and by year)."""
    from contextlib import nullcontext

    from sapper.services.forecast import dask_chunk_map, forecast_document, forecast_plan
    from sapper.services.pricing import load_pricing
    from sapper.services.register import open_register

    if workers is not None and not dask:
        raise typer.BadParameter(tr("--workers needs --dask"), param_hint="--workers")
    with open_register(settings(ctx, db=db)) as store, (dask_chunk_map(workers) if dask else nullcontext()) as cmap:
        result = forecast_plan(store, runs=runs, seed=seed, chunk_map=cmap, pricing=load_pricing(pricing))
    if as_json:
        print(json.dumps(forecast_document(result), indent=1, ensure_ascii=False))
        return
    o = result.overall
    lines([tr_n("forecast of plan {plan}: {n} run, seed {seed}, {seconds} s",
                "forecast of plan {plan}: {n} runs, seed {seed}, {seconds} s", result.runs, plan=result.plan_id,
                seed=result.seed, seconds=f"{result.seconds:.1f}"),
           tr("planned finish   : {day}", day=result.planned_finish),
           tr("region done      : P10 {p10}  P50 {p50}  P80 {p80}  P90 {p90}", p10=o.p10, p50=o.p50, p80=o.p80,
              p90=o.p90),
           tr("by asset type    :            P50          P80          P90")])
    lines([f"  {name:<14} : {p.p50}   {p.p80}   {p.p90}" for name, p in result.asset_types.items()])
    critical = sorted((a for a in result.assets if a.criticality >= 4), key=lambda a: a.restoration.p80)[-10:]
    if critical:
        lines([tr("critical assets restored last (P50 / P80):")])
        lines([tr("  {asset} {kind} planned {planned}  P50 {p50}  P80 {p80}", asset=f"{a.asset_id:<14}",
                  kind=f"{a.asset_type:<11}", planned=a.planned, p50=a.restoration.p50, p80=a.restoration.p80)
               for a in critical])
    cost = result.cost
    if cost is not None:
        cur = cost.currency
        lines([tr("cost ({currency}, {year} prices): planned {planned}  P50 {p50}  P80 {p80}  P90 {p90}",
                  currency=cur, year=cost.price_year, planned=f"{cost.planned:,.0f}", p50=f"{cost.total.p50:,.0f}",
                  p80=f"{cost.total.p80:,.0f}", p90=f"{cost.total.p90:,.0f}")])
        for year, money in cost.by_year:
            out.print(f"  {year}           : P50 {money.p50:>16,.0f}  P80 {money.p80:>16,.0f}")
    learned = result.learned
    lines([tr("learned from     : {pace}, {surveys}",
              pace=tr_n("{n} team/brigade pace report", "{n} team/brigade pace reports", learned.pace_reports),
              surveys=tr_n("{n} completed technical survey", "{n} completed technical surveys",
                           learned.survey_reports))])
    if result.beyond_horizon:
        text = tr_n("{n} run did not finish within the forecast horizon (counted at its end)",
                    "{n} runs did not finish within the forecast horizon (counted at its end)", result.beyond_horizon)
        out.print(f"[yellow]{escape(text)}[/yellow]")
