"""``sapper plan``, ``replan``, ``report`` and ``demo``: plan the store's work, re-plan it, report it.

As in every command module, services are imported inside the command: ``sapper --help`` and a one-file import do
not pay for loading the solver, the store and the file readers of every other command (about 1.5 s).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Db, Seed, TimeLimit, Workers, parse_day, settings
from sapper.cli._output import Spinner, error_line, lines, plan_summary, say, tr
from sapper.cli.costs import PricingFile
from sapper.cli.store import table_counts

if TYPE_CHECKING:
    from sapper.services.budgets import BudgetEffect
    from sapper.services.planning import PlanSummary
    from sapper.services.priorities import WeightProfile


def _show(summary: PlanSummary, *, as_json: bool, then: Iterable[str] = (), profile: WeightProfile | None = None,
          changes: Mapping[str, object] | None = None) -> None:
    """The summary as JSON, or as text followed by ``then``; exit 5 when there is no plan (after printing it).
    ``profile``: the weight profile the plan was made with (said in both); ``changes``: a re-plan's changes, the last
    key of the JSON."""
    from sapper.services.planning import summary_to_json

    if as_json:
        doc = summary_to_json(summary)
        if profile is not None:
            doc["profile"] = {"name": profile.name, "hash": profile.digest}
        if changes is not None:
            doc["changes"] = changes
        print(json.dumps(doc, indent=1, ensure_ascii=False))
    else:
        plan_summary(summary)
        lines(then)
    if not summary.has_plan:
        error_line(tr("sapper: no plan: status {status}", status=summary.status.value))
        raise typer.Exit(5)


def plan(
    ctx: typer.Context,
    db: Db,
    time_limit: TimeLimit = 60.0,
    workers: Workers = 2,
    seed: Seed = 0,
    engine: Annotated[
        str, typer.Option(help="cpsat (optimise) or greedy (priority-list heuristics only, no solver).")
    ] = "cpsat",
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan summary as JSON.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write plan.json (summary + tasks).")] = None,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="The plan's first day (YYYY-MM-DD); default: the programme's "
                                                      "start the store records, else today.")
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="A weight profile (TOML, as sapper priorities --profile): the "
                                                    "scores behind each area's and asset's weight; default: the "
                                                    "built-in profile.")
    ] = None,
    pools: Annotated[
        str, typer.Option("--pools", help="capabilities (the default): a lot goes to any team or brigade able to do "
                                          "it (the register's capabilities; every team can survey and clear by "
                                          "hand); fixed: one pool per method and trade, a unit works only in its "
                                          "own role.")
    ] = "capabilities",
    role_change_days: Annotated[
        int | None, typer.Option("--role-change-days", help="Working days of set-up a team or brigade takes when it "
                                                            "changes to a role that is not its own (with --pools "
                                                            "capabilities); default: 3, an assumption "
                                                            "(docs/planning.md).")
    ] = None,
    idle_weeks: Annotated[
        int, typer.Option("--idle-weeks", help="Name the teams and brigades the plan leaves without work for this "
                                               "many weeks in a row or more (stand-downs not counted).")
    ] = 12,
    budget_per_year: Annotated[
        str | None, typer.Option("--budget-per-year", help="Money per calendar year: demining=AMOUNT,"
                                                           "reconstruction=AMOUNT (either or both; e.g. 25m, 750k), "
                                                           "in the pricing profile's currency; no year's spending "
                                                           "goes above it. Plans twice: with and without.")
    ] = None,
    pricing: PricingFile = None,
    decompose: Annotated[
        bool | None, typer.Option("--decompose/--no-decompose",
                                  help="Plan by regions (the store's admin areas) on Dask, coordinating the shared "
                                       "pools; default: when the store names its regions (national-synthetic).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="A Dask scheduler's address (tcp://HOST:PORT) to plan the "
                                                     "regions on; default: a LocalCluster of --workers processes.")
    ] = None,
    rounds: Annotated[
        int, typer.Option("--rounds", help="Coordination rounds of a plan by regions: teams move from regions that "
                                           "finish early to those that finish late.")
    ] = 2,
    travel_days: Annotated[
        int, typer.Option("--travel-days", help="Working days a team or brigade moved to another region travels and "
                                                "sets up (an assumption).")
    ] = 5,
) -> None:
    """Plan every open hazard area and damaged asset in the store; save the plan in it."""
    from sapper.services.budgets import parse_budgets
    from sapper.services.planning import Engine, PlanSettings, plan_store, with_pools, with_profile, write_plan_json
    from sapper.services.pricing import load_pricing
    from sapper.services.priorities import load_profile
    from sapper.services.regions import RegionSettings
    from sapper.services.register import open_register

    run = settings(ctx, db=db, time_limit_s=time_limit, workers=workers)
    budgets = parse_budgets(budget_per_year) if budget_per_year is not None else None
    regions = RegionSettings(workers=run.workers, scheduler=scheduler, rounds=rounds, travel_days=travel_days)
    params = with_profile(with_pools(
        PlanSettings(time_limit_s=run.time_limit_s, workers=run.workers, seed=seed, engine=Engine.parse(engine),
                     start_date=parse_day("--start-date", start_date), idle_weeks=idle_weeks, budgets=budgets,
                     pricing=load_pricing(pricing), decompose=decompose, regions=regions),
        pools, role_change_days=role_change_days), load_profile(profile))
    with open_register(run) as store:
        outcome = plan_store(store, settings=params, progress=None if as_json else say)
    if out_file:
        write_plan_json(outcome, out_file)
    used = outcome.run.params.profile
    then = [tr("weight profile   : {name} ({digest})", name=used.name, digest=used.digest) if used.is_default else
            tr("weight profile   : {name} ({digest}), not the default weights", name=used.name, digest=used.digest)]
    details = outcome.summary.details
    if outcome.result.engine == "decomposed":
        free = details.get("uncoordinated_objective")
        then.append(tr("by regions       : {regions} regions on Dask, {moves} moves of teams between them; without "
                       "coordination the objective was {free}", regions=details.get("decomposed_regions"),
                       moves=details.get("coordination_moves"),
                       free=f"{free:,.0f}" if isinstance(free, int | float) else "-"))
    if outcome.budget is not None and budgets is not None and params.pricing is not None:
        then += budget_lines(outcome.budget, budgets.describe(params.pricing.currency))
    _show(outcome.summary, as_json=as_json, profile=used, then=then)


def budget_lines(effect: BudgetEffect, budgets: str) -> list[str]:
    """What the annual budgets delay against the plan without them."""
    out = [tr("annual budgets   : {budgets}; every year's spending within them (checked)", budgets=budgets)]
    if effect.finish_delay_days is None:
        return out
    out.append(tr("without budgets  : finish {free} → with them {finish} ({days} days); {late} of {n} releases "
                  "and restorations later, by up to {most} days (mean {mean})",
                  free=effect.unconstrained_finish.isoformat() if effect.unconstrained_finish else "-",
                  finish=effect.finish.isoformat() if effect.finish else "-", days=f"{effect.finish_delay_days:+d}",
                  late=effect.delayed, n=effect.milestones, most=effect.max_delay_days,
                  mean=f"{effect.mean_delay_days:.0f}"))
    out.extend(f"  {what:<20} {before.isoformat()} → {after.isoformat()}" for what, before, after in
               effect.most_delayed)
    return out


def replan(
    ctx: typer.Context,
    db: Db,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Plan from this date (YYYY-MM-DD); default: the day after the latest "
                                                 "progress report.")
    ] = None,
    time_limit: TimeLimit = 60.0,
    moves: Annotated[
        str, typer.Option("--moves", help="fewest: move only the lots the new facts force to move (the fewest CP-SAT "
                                          "finds, proven where it can), then plan best without moving more; priced: "
                                          "a lot may also move when what it gains outweighs --move-cost.")
    ] = "fewest",
    move_cost: Annotated[
        float, typer.Option("--move-cost", help="Cost of moving a task from its previous start, in working days of "
                                                "delay of a median-weight release or restoration (with --moves "
                                                "priced; 0: moves cost nothing).")
    ] = 20.0,
    max_wait_weeks: Annotated[
        int | None, typer.Option("--max-wait-weeks", help="With --moves fewest, in a plan by capabilities: a lot "
                                                          "that must move waits at most this many weeks for a free "
                                                          "unit, then takes the slot of another lot, which moves (0 or "
                                                          "more; default: no bound).")
    ] = None,
    idle_weeks: Annotated[
        int, typer.Option("--idle-weeks", help="List the teams and brigades the new plan leaves without work for this "
                                               "many weeks or more (besides those given no work at all).")
    ] = 4,
    workers: Workers = 2,
    seed: Seed = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan summary and the changes as JSON.")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write plan.json (summary, tasks, every change).")
    ] = None,
    pricing: PricingFile = None,
    decompose: Annotated[
        bool | None, typer.Option("--decompose/--no-decompose",
                                  help="Re-plan by the regions on Dask, each region from its part of the previous "
                                       "plan; default: when the previous plan was made by regions.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="A Dask scheduler's address (tcp://HOST:PORT) to plan the "
                                                     "regions on; default: a LocalCluster of --workers processes.")
    ] = None,
) -> None:
    """Re-plan from the latest plan and the progress reported since; keep the plan stable; say what changed and why."""
    from sapper.services.pricing import load_pricing
    from sapper.services.regions import RegionSettings
    from sapper.services.register import open_register
    from sapper.services.replan import (
        MovePolicy,
        ReplanSettings,
        change_lines,
        changes_to_json,
        replan_store,
        write_replan_json,
    )

    run = settings(ctx, db=db, time_limit_s=time_limit, workers=workers)
    params = ReplanSettings(as_of=parse_day("--as-of", as_of), time_limit_s=run.time_limit_s, workers=run.workers,
                            seed=seed, move_cost_days=move_cost, moves=MovePolicy.parse(moves),
                            max_wait_weeks=max_wait_weeks, idle_weeks=idle_weeks,
                            pricing=load_pricing(pricing) if pricing is not None else None,
                            decompose=decompose, regions=RegionSettings(workers=run.workers, scheduler=scheduler))
    with open_register(run) as store:
        outcome = replan_store(store, settings=params, progress=None if as_json else say)
    if out_file:
        write_replan_json(outcome, out_file)
    then = change_lines(outcome.changes)
    if outcome.result.engine == "decomposed":
        then.append(tr("by regions       : {regions} regions on Dask, each from its part of the previous plan",
                       regions=outcome.summary.details.get("decomposed_regions")))
    _show(outcome.summary, as_json=as_json, profile=outcome.run.params.profile,
          then=then, changes=changes_to_json(outcome.changes) if as_json else None)


def report(
    ctx: typer.Context,
    db: Db,
    out_file: Annotated[Path, typer.Option("--out", help="Output file (HTML or PDF, as --format says).")] = Path(
        "report.html"),
    fmt: Annotated[str, typer.Option("--format", help="html (one offline page) or pdf (A4, for print).")] = "html",
    lang: Annotated[
        str | None, typer.Option("--lang", envvar="SAPPER_LANG", help="Language of the report: en, uk or ru.")
    ] = None,
    forecast_runs: Annotated[
        int, typer.Option("--forecast-runs", help="Monte Carlo runs of the forecast shown in the report (0: none).")
    ] = 500,
    since: Annotated[
        str | None, typer.Option("--since", help="Report what changed since this day (YYYY-MM-DD); default: the day "
                                                 "the plan before the latest was made, else the start of the work.")
    ] = None,
    pricing: PricingFile = None,
) -> None:
    """Write the situation report of the latest plan (map, land release, forecast, teams, priorities, schedule) as
    an offline HTML page or a PDF, in English, Ukrainian or Russian."""
    from sapper.report.i18n import Lang
    from sapper.report.pages import Format
    from sapper.report.sitrep import write_situation
    from sapper.services.pricing import load_pricing

    path = write_situation(str(settings(ctx, db=db).db), out_file, fmt=Format.parse(fmt), lang=Lang.parse(lang),
                           forecast_runs=forecast_runs, since=parse_day("--since", since),
                           pricing=load_pricing(pricing))
    lines([tr("wrote {path}", path=path)])


def demo(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (replaced files: sapper.gpkg, plan.json, "
                                                        "report.html).")] = Path("demo"),
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 2025,
    time_limit: TimeLimit = 60.0,
    workers: Workers = 2,
) -> None:
    """Build kursk-border, plan 1,000 deminers and 5,000 builders over it, and write the store, plan and report."""
    from sapper.report.sitrep import write_situation
    from sapper.services.planning import PlanSettings, plan_store, write_plan_json
    from sapper.services.register import open_register
    from sapper.services.scenario import build_scenario_register

    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "sapper.gpkg"
    run = settings(ctx, db=db, time_limit_s=time_limit, workers=workers)
    t0 = time.perf_counter()
    with Spinner(tr("building the kursk-border scenario (synthetic hazards and assets on real geography)")):
        counts = build_scenario_register(run, "kursk-border", seed=seed, replace=True)
    say(tr("scenario: {counts}", counts=table_counts(counts)))
    planning = tr("planning (CP-SAT, up to {seconds} s)", seconds=f"{run.time_limit_s:g}")
    with Spinner(planning), open_register(run) as store:
        outcome = plan_store(store, settings=PlanSettings(time_limit_s=run.time_limit_s, workers=run.workers))
    write_plan_json(outcome, out_dir / "plan.json")
    with Spinner(tr("writing the report")):
        write_situation(db, out_dir / "report.html")
    plan_summary(outcome.summary)
    lines(["", tr("wrote {db}, {plan}, {report} in {seconds} s", db=db, plan=out_dir / "plan.json",
                  report=out_dir / "report.html", seconds=f"{time.perf_counter() - t0:.0f}")])
