"""Forecast the store's latest plan: when each area is released, each asset restored and the region done, with
honest intervals that learn from reported progress.

The inputs are built by compiling the register again the way the plan was compiled (the saved plan's parameters,
with a calendar three times as long so that slow runs still have dates) and matching each compiled task to the saved
plan's task of the same name: the plan gives the start order (the priority list each run re-schedules with) and the
mode (method) of every task; the compilation gives the precedences, capacities and release-before-repair links that
a saved plan does not hold. A register changed since the plan (a task the plan does not know) is refused: plan again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from sapper.domain.activities import ActivityStatus, ActivityType
from sapper.domain.assets import Asset
from sapper.domain.calendar import ProgrammeCalendar
from sapper.domain.fielddata import ProgressKind
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import PRIOR_CONTAMINATION, HazardArea
from sapper.domain.pricing import Basis, Family, PricingProfile
from sapper.domain.releaserules import ReleaseRules
from sapper.domain.resources import Method
from sapper.errors import Fault, NotFoundError, PlanError, SapperError, ValidationError
from sapper.forecast import (
    ForecastTasks,
    MonteCarloResult,
    PaceReport,
    Percentiles,
    SurveyReport,
    UncertaintyModel,
    WorkKind,
    learn,
    run_forecast,
)
from sapper.forecast.inputs import Floats, TaskBudgets, TaskCosts
from sapper.forecast.montecarlo import ChunkMap, ChunkResult, ChunkSpec, Job, warm_up
from sapper.jsontypes import JsonObject
from sapper.messages import msg
from sapper.plan.evolve import activity_list
from sapper.plan.setups import with_continuing_modes
from sapper.scenario.compile import CompiledPlan, CompileParams, TaskKind, compile_problem, planned_mode
from sapper.services.costs import activity_of, family_of, task_direct_cost
from sapper.services.likelihood import likelihood_by_id
from sapper.services.planning import processed_work, with_calendar, with_release_rules
from sapper.services.pricing import load_pricing
from sapper.services.remaining import remaining_work
from sapper.store import Store
from sapper.store.records import PlanRun

_KINDS = {"survey": WorkKind.SURVEY, "nts": WorkKind.SURVEY, "ts": WorkKind.SURVEY, "eod": WorkKind.SURVEY,
          "clearance": WorkKind.CLEARANCE, "repair": WorkKind.REPAIR,
          "released": WorkKind.MILESTONE, "restored": WorkKind.MILESTONE}


@dataclass(frozen=True, slots=True)
class DatePercentiles:
    """P10, P50, P80, P90 as dates (the working day the work finishes)."""

    p10: dt.date
    p50: dt.date
    p80: dt.date
    p90: dt.date


@dataclass(frozen=True, slots=True)
class AreaForecast:
    hazard_id: str
    area_m2: float
    planned: dt.date
    release: DatePercentiles


@dataclass(frozen=True, slots=True)
class AssetForecast:
    asset_id: str
    asset_type: str
    criticality: int
    planned: dt.date
    restoration: DatePercentiles


@dataclass(frozen=True, slots=True)
class FanPoint:
    """Released km² and restored assets by ``date``: P10, P50, P90 over the runs."""

    date: dt.date
    released_km2: tuple[float, float, float]
    restored_assets: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class CriticalTask:
    task_id: str
    criticality: float


@dataclass(frozen=True, slots=True)
class Learned:
    """What reported progress taught the model: reports used, and the programme factor (the mean of
    log(actual / planned rate)) per method or trade before and after."""

    pace_reports: int
    survey_reports: int
    factor_before: dict[str, float]
    factor_after: dict[str, float]


@dataclass(frozen=True, slots=True)
class MoneyPercentiles:
    """P10, P50, P80, P90 of an amount over the runs."""

    p10: float
    p50: float
    p80: float
    p90: float

    @classmethod
    def of(cls, samples: Floats) -> MoneyPercentiles:
        q = np.percentile(samples, (10, 50, 80, 90), method="inverted_cdf")
        return cls(*(float(x) for x in q))


@dataclass(frozen=True)
class CostForecast:
    """What the plan will cost: the planned cost (every lot as planned, as ``sapper costs`` prices it) and the
    percentiles over the runs, in total and by calendar year, in ``currency`` at ``price_year`` prices."""

    currency: str
    price_year: int
    pricing: str
    planned: float
    total: MoneyPercentiles
    by_year: tuple[tuple[int, MoneyPercentiles], ...]
    #: The cost spent by the end of each calendar year (the runs' cumulative sums, then their percentiles: the cost
    #: fan of the report), from the first year with spending to the last.
    cumulative: tuple[tuple[int, MoneyPercentiles], ...] = ()


@dataclass(frozen=True)
class Forecast:
    """The forecast of one saved plan. ``seconds`` is the Monte Carlo's own time."""

    plan_id: int | None
    runs: int
    seed: int
    seconds: float
    planned_finish: dt.date | None
    overall: DatePercentiles
    areas: tuple[AreaForecast, ...]
    assets: tuple[AssetForecast, ...]
    asset_types: dict[str, DatePercentiles]
    critical: tuple[CriticalTask, ...]
    fan: tuple[FanPoint, ...]
    beyond_horizon: int
    clipped_lots: int
    learned: Learned
    #: With a pricing profile: what the plan will cost (None: not asked).
    cost: CostForecast | None = None


def _compile_params(run: PlanRun, rules: ReleaseRules, calendar: ProgrammeCalendar) -> CompileParams:
    """The parameters the plan was compiled with (its land-release fields from the programme's ``rules`` and its
    working week, holidays and stand-downs from the programme's ``calendar``, as ``sapper plan`` compiles them), with
    a calendar long enough for slow runs."""
    planned = with_calendar(with_release_rules(run.params.compile_params(), rules), calendar)
    span = (run.finish_date - run.created_at.date()).days if run.finish_date else 0
    return dataclasses.replace(planned, horizon_days=max(planned.horizon_days, 3 * abs(span) + 2 * 365))


def forecast_inputs(compiled: CompiledPlan, run: PlanRun, hazards: list[HazardArea],
                    asset_types: dict[str, str], *, likelihood: Mapping[str, float] | None = None) -> ForecastTasks:
    """The Monte Carlo's inputs: ``compiled``'s tasks in ``run``'s order and modes. ``likelihood`` (the contamination
    model's probability per area, None when it is not fitted) tilts each area's survey outcome: its expected share
    left for clearance is scaled by its probability over its class prior (``ForecastTasks.tilt``)."""
    problem, cal = compiled.problem, compiled.calendar
    saved = {t.task_id: t for t in run.tasks}
    unknown = [t.name for t in problem.tasks if t.name not in saved]
    if unknown:
        raise PlanError(f"the latest plan does not match the register ({len(unknown)} tasks it does not know, e.g. "
                        f"{unknown[0]!r}): run sapper plan again before forecasting")
    hazard_by_id = {h.id: h for h in hazards}
    hazard_ids = [i.hazard_id for i in compiled.info if i.kind == "released" and i.hazard_id]
    asset_ids = [i.asset_id for i in compiled.info if i.kind == "restored" and i.asset_id]
    h_index = {h: k for k, h in enumerate(hazard_ids)}
    a_index = {a: k for k, a in enumerate(asset_ids)}
    unit_ids = sorted({u for names in compiled.units.values() for u in names})
    u_index = {u: k for k, u in enumerate(unit_ids)}
    groups: list[str] = []
    n = len(problem.tasks)
    kind = np.zeros(n, dtype=np.int64)
    group = np.full(n, -1, dtype=np.int64)
    unit = np.full(n, -1, dtype=np.int64)
    base = np.zeros(n)
    hazard = np.full(n, -1, dtype=np.int64)
    asset = np.full(n, -1, dtype=np.int64)
    key = np.zeros(n)
    modes: list[int] = []
    faults: list[Fault] = []
    for j, (task, info) in enumerate(zip(problem.tasks, compiled.info, strict=True)):
        planned = saved[task.name]
        days = cal.index_of(planned.end_date) + 1 - cal.index_of(planned.start_date) if planned.resource else None
        m = planned_mode(problem, j, planned.mode, planned.resource, days)
        if m is None:
            faults.append(Fault(f"planned task {task.name}", f"mode {planned.mode!r} is not one of the task's modes"))
            m = 0
        modes.append(m)
        mode = task.modes[m]
        kind[j] = _KINDS[info.kind]
        if mode.duration > 0:
            name = mode.name or (info.trade.value if info.trade else "")
            if name not in groups:
                groups.append(name)
            group[j] = groups.index(name)
            first = (planned.unit_id or "").split(",")[0]
            unit[j] = u_index.get(first, -1)
            base[j] = mode.duration
            key[j] = cal.index_of(planned.start_date)
        else:
            key[j] = cal.index_of(planned.end_date) + 1
        hazard[j] = h_index.get(info.hazard_id or "", -1)
        asset[j] = a_index.get(info.asset_id or "", -1)
    ValidationError.raise_if(msg("plan"), faults)
    released = np.array([j for j, i in enumerate(compiled.info) if i.kind == "released"], dtype=np.int64)
    restored = np.array([j for j, i in enumerate(compiled.info) if i.kind == "restored"], dtype=np.int64)
    return ForecastTasks(
        kind=kind, group=group, unit=unit, base_days=base, hazard=hazard, asset=asset, groups=tuple(groups),
        units=len(unit_ids),
        hazard_class=tuple((hazard_by_id[h].hazard_class, hazard_by_id[h].evidence) for h in hazard_ids),
        planned_share=np.array([hazard_by_id[h].clearance_share for h in hazard_ids]),
        hazard_area_m2=np.array([hazard_by_id[h].area_m2 for h in hazard_ids]), released=released,
        asset_class=tuple(asset_types[a] for a in asset_ids), restored=restored, modes=tuple(modes),
        order=activity_list(problem, key), weather_groups=frozenset(m.value for m in Method),
        tilt=survey_tilt(likelihood, [hazard_by_id[h] for h in hazard_ids]))


def survey_tilt(likelihood: Mapping[str, float] | None, hazards: Sequence[HazardArea]) -> Floats | None:
    """Each area's probability of devices over the mean probability of its survey class among ``hazards`` (None: no
    model, no tilt): the class's expected share for clearance is kept, and shared out by the model's odds."""
    if likelihood is None or not hazards:
        return None
    p = np.array([likelihood.get(h.id, PRIOR_CONTAMINATION[h.hazard_class]) for h in hazards], dtype=np.float64)
    p = np.maximum(p, 1e-3)  # a probability of 0 would leave nothing for clearance whatever survey finds
    cls = [(h.hazard_class, h.evidence) for h in hazards]
    means = {c: float(np.mean([q for q, k in zip(p, cls, strict=True) if k == c])) for c in set(cls)}
    return np.asarray(p / np.array([means[c] for c in cls]), dtype=np.float64)


def progress_reports(store: Store, hazards: list[HazardArea]) -> tuple[list[PaceReport], list[SurveyReport]]:
    """Pace per team and brigade from the field's progress reports (each team's days summed, as its own factor is
    shared by them all), and survey outcomes from completed technical surveys."""
    teams = {t.id: t for t in store.teams()}
    brigades = {b.id: b for b in store.brigades()}
    work: dict[tuple[str, str, float], list[float]] = defaultdict(list)
    for r in store.field_progress():
        if r.kind is ProgressKind.CLEARANCE and r.team_id in teams and r.area_cleared_m2:
            t = teams[r.team_id]
            work[t.method.value, t.id, t.productivity_m2_per_day].append(r.area_cleared_m2)
        elif r.kind is ProgressKind.BRIGADE and r.brigade_id in brigades and r.builder_days:
            b = brigades[r.brigade_id]
            work[b.trade.value, b.id, float(b.size)].append(r.builder_days)
    pace = [PaceReport(g, sum(days), len(days), rate) for (g, _, rate), days in sorted(work.items())]
    surveys = []
    by_id = {h.id: h for h in hazards}
    done: dict[str, float] = defaultdict(float)
    surveyed: set[str] = set()
    for a in store.activities():
        if a.hazard_id not in by_id or a.activity_type not in (ActivityType.NTS, ActivityType.TS):
            continue
        for geom in (a.cancelled, a.reduced):
            if geom is not None and not geom.is_empty:
                done[a.hazard_id] += area_m2(geom)
        if a.activity_type is ActivityType.TS and a.status is ActivityStatus.COMPLETED:
            surveyed.add(a.hazard_id)
    for hid in sorted(surveyed):
        h = by_id[hid]
        total = max(h.area_m2, done[hid])  # the area as registered, which survey's outcomes lie within
        surveys.append(SurveyReport((h.hazard_class, h.evidence), total, max(0.0, total - done[hid])))
    return pace, surveys


@contextmanager
def dask_chunk_map(workers: int | None = None, *, processes: bool = True) -> Iterator[ChunkMap]:
    """A Dask ``LocalCluster`` of ``workers`` single-threaded workers (default: one per core; ``processes``: worker
    processes, else threads of this process) that runs a forecast's chunks: the job is sent to every worker once,
    each chunk is one task. The chunks and their seeds are the local run's, so the percentiles are the same."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise SapperError("forecasting on Dask needs the scale extra: pip install 'sapper[scale]'") from exc
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise ValidationError(msg("forecast"), [Fault(msg("forecast"), msg("workers must be at least 1, got {n}", n=n),
                                                      "workers")])
    where = {"host": "127.0.0.1"} if processes else {}  # threads talk in-process; processes over loopback only
    with (LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,  # type: ignore[no-untyped-call]
                       dashboard_address=None, silence_logs=logging.ERROR, **where) as cluster,
          Client(cluster) as client):  # type: ignore[no-untyped-call]
        client.run(warm_up)  # each worker compiles (or loads) the kernel before the forecast's clock starts

        def run(fn: Callable[[Job, ChunkSpec], ChunkResult], job: Job, specs: Sequence[ChunkSpec]
                ) -> list[ChunkResult]:
            shared = client.scatter(job, broadcast=True)
            futures = client.map(fn, [shared] * len(specs), list(specs), pure=False)
            return list(client.gather(futures))

        yield run


def _compile_as_planned(store: Store, run: PlanRun, hazards: list[HazardArea], assets: list[Asset],
                        likelihood: Mapping[str, float] | None = None) -> tuple[CompiledPlan, list[HazardArea]]:
    """The problem ``run`` was solved on (with a longer calendar) and the hazard areas as it planned them.

    A plan from ``sapper plan`` starts on the programme's start date with the whole register, less what the open
    areas' land-release records say is done (``planning.processed_work``, as ``sapper plan`` compiles it). A re-plan
    starts on its as-of date with the work left then (the previous plan less the progress reported before it, as
    ``sapper replan`` compiled it): compiling the whole register from the programme's start instead would re-run
    finished work and let what is left start before the as-of date, in the past, so that its dates came out months
    before the re-plan's own."""
    teams, brigades = store.teams(), store.brigades()
    replan = run.params.replan
    if replan is None or replan.replan_of is None:
        meta = store.meta()
        start = dt.date.fromisoformat(meta["start_date"]) if "start_date" in meta else run.created_at.date()
        params = _compile_params(dataclasses.replace(run, created_at=dt.datetime.combine(start, dt.time())),
                                 store.release_rules(), store.calendar())
        return compile_problem(hazards, assets, teams, brigades, start_date=start, params=params,
                               processed=processed_work(store, hazards), likelihood=likelihood), hazards
    previous = store.plan(replan.replan_of)
    start = replan.as_of
    cparams = _compile_params(dataclasses.replace(run, created_at=dt.datetime.combine(start, dt.time())),
                              store.release_rules(), store.calendar())
    left = remaining_work(previous, hazards=hazards, assets=assets, brigades=brigades,
                          progress=store.field_progress(), activities=store.activities(), as_of=start,
                          progress_from=previous.params.progress_through, weekdays=previous.params.weekdays,
                          holidays=previous.params.holidays,
                          params=cparams)
    return compile_problem(left.hazards, left.assets, teams, brigades, start_date=start, params=cparams,
                           lots=left.plans, blocked=left.blocked, likelihood=likelihood), left.hazards


@dataclass(frozen=True, eq=False)
class PreparedForecast:
    """A saved plan made ready for the Monte Carlo: its problem compiled again as planned, the typed inputs, the model
    after learning from progress, and the horizon. Several models can be run on it without compiling again."""

    run: PlanRun
    compiled: CompiledPlan
    tasks: ForecastTasks
    hazards: tuple[HazardArea, ...]
    assets: tuple[Asset, ...]
    prior: UncertaintyModel
    model: UncertaintyModel
    horizon: int
    pace_reports: int
    survey_reports: int


def prepare_forecast(store: Store, *, progress: bool = True, model: UncertaintyModel | None = None
                     ) -> PreparedForecast:
    """The store's latest plan made ready to forecast (``model``, default :class:`UncertaintyModel`, learns from the
    progress reported in the store when ``progress``)."""
    run = store.latest_plan()
    if run is None:
        raise NotFoundError("the store has no plan to forecast: run sapper plan first")
    hazards, assets = store.hazards(), store.assets()
    likelihood = likelihood_by_id(store)
    compiled, planned_hazards = _compile_as_planned(store, run, hazards, assets, likelihood)
    # The plan paid set-up per change of role: its lots that kept their unit's role have modes without it.
    compiled = dataclasses.replace(compiled, problem=with_continuing_modes(compiled.problem)[0])
    start = compiled.calendar.start
    tasks = forecast_inputs(compiled, run, planned_hazards, {a.id: a.asset_type.value for a in assets},
                            likelihood=likelihood)
    prior = model or UncertaintyModel()
    pace, surveys = progress_reports(store, hazards) if progress else ([], [])
    # Runs may take up to three times the plan's length (and at least two more years) before they count as beyond
    # the horizon; a shorter profile keeps each run's scan short.
    planned = compiled.calendar.index_of(run.finish_date or start) + 1
    horizon = min(compiled.problem.horizon, 3 * planned + 600)
    return PreparedForecast(run, compiled, tasks, tuple(planned_hazards), tuple(assets), prior,
                            learn(prior, pace, surveys), horizon, len(pace), len(surveys))


def run_prepared(prep: PreparedForecast, *, runs: int, seed: int, model: UncertaintyModel | None = None,
                 chunk_map: ChunkMap | None = None, pricing: PricingProfile | None = None) -> Forecast:
    """Forecast ``prep`` with ``runs`` runs from ``seed``, under ``model`` if given (as it is: no learning) else
    under the prepared (learned) model; with ``pricing``, also what it costs (the same runs)."""
    if runs < 1:
        raise ValidationError(msg("forecast"), [Fault(msg("forecast"), msg("runs must be at least 1, got {runs}",
                                                                           runs=runs), "runs")])
    used = model or prep.model
    capped = prep.run.params.budget_demining is not None or prep.run.params.budget_reconstruction is not None
    priced = pricing or (load_pricing() if capped else None)  # a capped plan's money is spent at default prices
    wanted = prep.run.params.budget_pricing
    if capped and priced is not None and wanted is not None and priced.name != wanted:
        raise ValidationError(msg("forecast"), [Fault(msg("forecast"), msg(
            "the plan's budgets are in the prices of the pricing profile {plan}, and this forecast prices with "
            "{profile}: give the plan's pricing file (--pricing)", plan=repr(wanted), profile=repr(priced.name)),
            "pricing")])
    costs = None if priced is None else task_costs(prep, priced)
    result = run_forecast(prep.compiled.problem, prep.tasks, used, runs=runs, rng=np.random.default_rng(seed),
                          horizon=prep.horizon, chunk_map=chunk_map, costs=costs,
                          budgets=None if costs is None else plan_budgets(prep, costs))
    groups = prep.tasks.groups
    learned = Learned(prep.pace_reports, prep.survey_reports, {g: round(prep.prior.of(g).mean, 4) for g in groups},
                      {g: round(used.of(g).mean, 4) for g in groups})
    forecast = _forecast(prep.compiled, prep.run, result, prep.tasks, seed, learned, list(prep.assets))
    if pricing is None or costs is None or result.cost_total is None or result.cost_year is None:
        return forecast
    planned = float((costs.per_day * prep.tasks.base_days).sum() + costs.fixed.sum())
    by_year = tuple((y, p) for k, y in enumerate(costs.years)
                    if (p := MoneyPercentiles.of(result.cost_year[:, k])).p90 > 0)
    spent = np.flatnonzero(result.cost_year.max(axis=0) > 0) if result.cost_year.size else np.zeros(0, dtype=int)
    cum = np.cumsum(result.cost_year, axis=1)
    cumulative = tuple((costs.years[k], MoneyPercentiles.of(cum[:, k]))
                       for k in range(int(spent[0]), int(spent[-1]) + 1)) if len(spent) else ()
    return dataclasses.replace(forecast, cost=CostForecast(pricing.currency, pricing.price_year, pricing.name, planned,
                                                           MoneyPercentiles.of(result.cost_total), by_year,
                                                           cumulative))


def task_costs(prep: PreparedForecast, pricing: PricingProfile) -> TaskCosts:
    """What each task of ``prep`` costs per sampled day and fixed, at ``pricing``'s prices (overheads included), as
    ``sapper costs`` prices a lot (``services.costs``), and the plan calendar's year boundaries."""
    compiled = prep.compiled
    problem, cal = compiled.problem, compiled.calendar
    assets = {a.id: a for a in prep.assets}
    n = len(problem.tasks)
    per_day, fixed = np.zeros(n), np.zeros(n)
    by_share = np.zeros(n, dtype=np.bool_)
    for j, (task, info) in enumerate(zip(problem.tasks, compiled.info, strict=True)):
        mode = task.modes[prep.tasks.modes[j]]
        if not mode.duration:
            continue
        factor = 1.0 + pricing.overhead_share(family_of(info.kind))
        asset = assets.get(info.asset_id) if info.asset_id is not None else None
        activity = activity_of(info.kind, mode.name)
        if activity is not None and pricing.release[activity].basis is Basis.TEAM_DAY:
            per_day[j] = pricing.release[activity].amount * factor
        else:
            fixed[j] = task_direct_cost(pricing, info.kind, mode.name, work=info.work, team_days=mode.duration,
                                        asset=asset) * factor
            by_share[j] = info.kind is TaskKind.CLEARANCE
    last = cal.date_of(min(prep.horizon, problem.horizon) - 1)
    years = tuple(range(cal.start.year, last.year + 1))
    starts = np.array([0, *(cal.index_of(dt.date(y, 1, 1)) for y in years[1:])], dtype=np.int64)
    return TaskCosts(per_day, fixed, by_share, starts, years)


def plan_budgets(prep: PreparedForecast, costs: TaskCosts) -> TaskBudgets | None:
    """The money per calendar year ``prep``'s plan was made under (``sapper plan --budget-per-year``), per year of
    ``costs``, as ``services.budgets.with_budgets`` gives it to the engine (whole currency units; demining lots
    spend the demining budget, repair lots the reconstruction budget); None when the plan has none."""
    params = prep.run.params
    amounts = {Family.DEMINING: params.budget_demining, Family.RECONSTRUCTION: params.budget_reconstruction}
    families = [f for f in Family if amounts[f] is not None]
    if not families:
        return None
    index = {f: k for k, f in enumerate(families)}
    family = np.array([index.get(family_of(info.kind), -1) for info in prep.compiled.info], dtype=np.int64)
    table = np.array([[math.floor(amounts[f] or 0.0)] * len(costs.years) for f in families], dtype=np.float64)
    return TaskBudgets(family, table.reshape(len(families), len(costs.years)))


def forecast_plan(store: Store, *, runs: int = 10_000, seed: int = 0, progress: bool = True,
                  model: UncertaintyModel | None = None, chunk_map: ChunkMap | None = None,
                  pricing: PricingProfile | None = None) -> Forecast:
    """Forecast the store's latest plan with ``runs`` Monte Carlo runs from ``seed``; with ``progress``, the model
    first learns from the progress reported in the store. ``chunk_map`` runs the Monte Carlo's chunks elsewhere
    (e.g. :func:`dask_chunk_map`); the result is the same. ``pricing``: also what the plan costs."""
    if runs < 1:
        raise ValidationError(msg("forecast"), [Fault(msg("forecast"), msg("runs must be at least 1, got {runs}",
                                                                           runs=runs), "runs")])
    return run_prepared(prepare_forecast(store, progress=progress, model=model), runs=runs, seed=seed,
                        chunk_map=chunk_map, pricing=pricing)


def _forecast(compiled: CompiledPlan, run: PlanRun, result: MonteCarloResult, tasks: ForecastTasks, seed: int,
              learned: Learned, assets: list[Any]) -> Forecast:
    cal = compiled.calendar
    problem = compiled.problem

    def dates(p: Percentiles) -> DatePercentiles:
        return DatePercentiles(*(cal.end_date_of(x) if x > 0 else cal.start for x in (p.p10, p.p50, p.p80, p.p90)))

    planned = {t.task_id: t.end_date for t in run.tasks}
    areas = tuple(AreaForecast(compiled.info[j].hazard_id or "", round(float(tasks.hazard_area_m2[k]), 1),
                               planned[problem.tasks[j].name], dates(result.released[k]))
                  for k, j in enumerate(tasks.released.tolist()))
    by_id = {a.id: a for a in assets}
    out_assets = tuple(AssetForecast(a_id, by_id[a_id].asset_type.value, by_id[a_id].criticality,
                                     planned[problem.tasks[j].name], dates(result.restored[k]))
                       for k, j in enumerate(tasks.restored.tolist())
                       if (a_id := compiled.info[j].asset_id or "") in by_id)
    order = np.argsort(-result.criticality, kind="stable")
    critical = tuple(CriticalTask(problem.tasks[j].name, round(float(result.criticality[j]), 4))
                     for j in order[:20].tolist() if result.criticality[j] > 0)
    fan = tuple(FanPoint(cal.end_date_of(int(p)) if p > 0 else cal.start,
                         tuple(round(float(x), 3) for x in result.fan.released_km2[:, i]),  # type: ignore[arg-type]
                         tuple(float(x) for x in result.fan.restored_assets[:, i]))  # type: ignore[arg-type]
                for i, p in enumerate(result.fan.periods.tolist()))
    return Forecast(plan_id=run.id, runs=result.runs, seed=seed, seconds=round(result.seconds, 3),
                    planned_finish=run.finish_date, overall=dates(result.overall), areas=areas, assets=out_assets,
                    asset_types={c: dates(p) for c, p in result.asset_classes.items()}, critical=critical, fan=fan,
                    beyond_horizon=result.beyond_horizon, clipped_lots=result.clipped, learned=learned)


def _iso(p: DatePercentiles) -> dict[str, str]:
    return {"p10": p.p10.isoformat(), "p50": p.p50.isoformat(), "p80": p.p80.isoformat(), "p90": p.p90.isoformat()}


def forecast_document(f: Forecast) -> JsonObject:
    """The forecast as the JSON document ``sapper forecast --json`` prints."""
    return {
        "plan_id": f.plan_id, "runs": f.runs, "seed": f.seed, "seconds": f.seconds,
        "planned_finish": f.planned_finish.isoformat() if f.planned_finish else None,
        "overall": _iso(f.overall),
        "areas": [{"hazard_id": a.hazard_id, "area_m2": a.area_m2, "planned": a.planned.isoformat(), **_iso(a.release)}
                  for a in f.areas],
        "assets": [{"asset_id": a.asset_id, "asset_type": a.asset_type, "criticality": a.criticality,
                    "planned": a.planned.isoformat(), **_iso(a.restoration)} for a in f.assets],
        "asset_types": {c: _iso(p) for c, p in f.asset_types.items()},
        "critical_tasks": [{"task_id": c.task_id, "criticality": c.criticality} for c in f.critical],
        "burn_down": [{"date": p.date.isoformat(), "released_km2": list(p.released_km2),
                       "restored_assets": list(p.restored_assets)} for p in f.fan],
        "beyond_horizon": f.beyond_horizon,
        "clipped_lots": f.clipped_lots,
        "learned": {"pace_reports": f.learned.pace_reports, "survey_reports": f.learned.survey_reports,
                    "factor_before": f.learned.factor_before, "factor_after": f.learned.factor_after},
        "percentile_meaning": "share of Monte Carlo runs finished by the date (the last working day of the work)",
        "cost": None if f.cost is None else {
            "currency": f.cost.currency, "price_year": f.cost.price_year, "pricing": f.cost.pricing,
            "planned": round(f.cost.planned, 2), "total": _money(f.cost.total),
            "by_year": [{"year": y, **_money(p)} for y, p in f.cost.by_year],
            "cumulative_by_year": [{"year": y, **_money(p)} for y, p in f.cost.cumulative],
        },
    }


def _money(p: MoneyPercentiles) -> dict[str, float]:
    return {"p10": round(p.p10, 2), "p50": round(p.p50, 2), "p80": round(p.p80, 2), "p90": round(p.p90, 2)}


__all__ = ["CostForecast", "Forecast", "MoneyPercentiles", "PreparedForecast", "dask_chunk_map", "forecast_document",
           "forecast_inputs", "forecast_plan", "prepare_forecast", "progress_reports", "run_prepared", "task_costs"]
