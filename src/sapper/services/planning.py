"""Plan the register held in a store: compile, solve, assign teams and brigades, save, summarise."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sapper.domain.activities import ActivityType
from sapper.domain.assets import Asset
from sapper.domain.calendar import ProgrammeCalendar
from sapper.domain.hazards import HazardArea, HazardStatus
from sapper.domain.landrelease import LandRelease
from sapper.domain.pricing import PricingProfile
from sapper.domain.releaserules import ReleaseRules
from sapper.errors import Fault, PlanError, ValidationError
from sapper.messages import msg, msg_n
from sapper.plan import Engine as Engine  # re-exported for the entry points, as PlanSummary, summary_to_json
from sapper.plan import Problem, Result, Schedule, SolveParams, Status, check, check_units, objective_value, solve
from sapper.plan.decompose import DecomposeParams, whole_lower_bound
from sapper.plan.problem import Units
from sapper.plan.setups import continued_lots, lower_bound, per_change_setup, with_continuing_modes
from sapper.plan.unitlist import unit_list_schedule
from sapper.prioritise import WeightProfile
from sapper.scenario.compile import CompiledPlan, CompileParams, PoolPolicy, Processed, TaskKind, compile_problem
from sapper.services import landrelease
from sapper.services.budgets import AnnualBudgets, BudgetEffect, budget_effect, with_budgets, years_needed
from sapper.services.likelihood import likelihood_by_id
from sapper.services.pricing import load_pricing
from sapper.services.regions import RegionSettings, has_regions, solve_by_regions, with_region_details
from sapper.services.utilisation import IDLE_WEEKS, utilisation
from sapper.store import Store
from sapper.store.planjson import plan_document
from sapper.store.planjson import summary_to_json as summary_to_json
from sapper.store.records import (
    Checkpoint,
    PlannedTask,
    PlanParams,
    PlanRun,
    ReplanParams,
    Scalar,
)
from sapper.store.records import PlanSummary as PlanSummary


def _checkpoints(start: dt.date, finish: dt.date) -> list[dt.date]:
    """Half-year ends between ``start`` and ``finish``, then ``finish``: where the summary reports progress."""
    out = []
    year = start.year
    while True:
        for month in (6, 12):
            d = dt.date(year, month, 30 if month == 6 else 31)
            if start < d < finish:
                out.append(d)
        if dt.date(year, 12, 31) >= finish:
            break
        year += 1
    return [*out, finish]


@dataclass(frozen=True)
class PlanSettings:
    """Everything that decides a plan: solver limits and how the register is compiled."""

    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    engine: Engine = Engine.CPSAT
    compile: CompileParams = field(default_factory=CompileParams)
    #: The plan's first day; None: the programme's start date the store records (``sapper init --start-date``, a
    #: scenario's), else today.
    start_date: dt.date | None = None
    #: Money per calendar year for demining and reconstruction (``sapper plan --budget-per-year``); None: no cap.
    budgets: AnnualBudgets | None = None
    #: The prices the budgets are spent at; None: sapper's default profile.
    pricing: PricingProfile | None = None
    #: Weeks without work after which the summary names a unit idle (``sapper plan --idle-weeks``).
    idle_weeks: int = IDLE_WEEKS
    #: Plan by regions on Dask (``sapper plan --decompose``); None: when the store names its regions
    #: (``national-synthetic``). ``regions``: the workers or scheduler, coordination rounds and travel days.
    decompose: bool | None = None
    regions: RegionSettings = field(default_factory=RegionSettings)

    def __post_init__(self) -> None:
        if self.idle_weeks < 1:
            raise ValidationError(msg("plan settings"), [Fault(msg("plan settings"),
                                                               f"idle weeks must be at least 1, got "
                                                                           f"{self.idle_weeks}", "idle_weeks")])


def with_pools(settings: PlanSettings, pools: str, *, role_change_days: int | None = None) -> PlanSettings:
    """``settings`` with the pools named ``pools`` (``fixed`` or ``capabilities``, ``sapper plan --pools``) and the
    set-up days of a borrowed role (None: as they are); ValidationError naming the choices for another name."""
    c = settings.compile
    return dataclasses.replace(settings, compile=dataclasses.replace(
        c, pools=PoolPolicy.parse(pools),
        role_change_days=c.role_change_days if role_change_days is None else role_change_days))


def with_profile(settings: PlanSettings, profile: WeightProfile) -> PlanSettings:
    """``settings`` planning with the weights of ``profile`` (``sapper plan --profile``)."""
    return dataclasses.replace(settings, compile=dataclasses.replace(settings.compile, profile=profile))


#: Side of the map cells (degrees) that stand for districts in the neighbourhood search (about 20 km at 50° N).
DISTRICT_CELL_DEG = 0.25


def districts(compiled: CompiledPlan, hazards: Sequence[HazardArea], assets: Sequence[Asset]) -> list[int]:
    """A district per task of ``compiled`` for the search's district neighbourhood (``plan.alns``): the map cell of
    ``DISTRICT_CELL_DEG`` degrees its hazard area or asset lies in (the register has no districts), −1 for none."""
    where = {h.id: h.geometry.representative_point() for h in hazards}
    where.update({a.id: a.geometry.representative_point() for a in assets})
    cells: dict[tuple[int, int], int] = {}
    out: list[int] = []
    for info in compiled.info:
        point = where.get(info.hazard_id or info.asset_id or "")
        if point is None:
            out.append(-1)
            continue
        cell = (int(point.x // DISTRICT_CELL_DEG), int(point.y // DISTRICT_CELL_DEG))
        out.append(cells.setdefault(cell, len(cells)))
    return out


@dataclass(frozen=True)
class PlanOutcome:
    """A saved plan: its summary, the run as saved (with its id), the compiled problem and the solver's result."""

    summary: PlanSummary
    run: PlanRun
    compiled: CompiledPlan
    result: Result
    #: With annual budgets: what they delay against the plan without them (None: no budgets).
    budget: BudgetEffect | None = None


def with_release_rules(params: CompileParams, rules: ReleaseRules) -> CompileParams:
    """``params`` with the land-release fields the programme's settings decide (the store's
    ``release_rules.*``, :class:`ReleaseRules`): the one source of truth of what NTS may cancel, the inspection lag
    (working days) and where dogs are not sent, for plan, re-plan and forecast alike."""
    return dataclasses.replace(params, nts_may_cancel_in_cha=rules.nts_may_cancel_in_cha,
                               inspection_lag_days=rules.inspection_lag_working_days,
                               dog_excluded_devices=rules.dog_excluded_devices,
                               dog_excluded_land_uses=rules.dog_excluded_land_uses,
                               dog_excluded_hazards=rules.dog_excluded_hazards)


def with_calendar(params: CompileParams, calendar: ProgrammeCalendar) -> CompileParams:
    """``params`` with the working week, holidays and stand-downs of the programme's calendar (the store's
    ``calendar()``, set with ``sapper calendar``): the one source of truth of when teams and brigades work, for plan,
    re-plan and forecast alike."""
    return dataclasses.replace(params, weekdays=calendar.weekdays, holidays=calendar.holiday_dates,
                               demining_stand_down=calendar.deminers_stand_down,
                               building_stand_down=calendar.builders_stand_down)


#: Seconds per task a plan keeps back from its time limit for what follows the solver — giving teams and brigades to
#: the tasks, the set-up and unit checks, utilisation, the summary and saving — so that the limit bounds the whole
#: command. An estimate from one profile (2026-12-07, busy machine, CPU time): a 5,000-area national-synthetic plan
#: of 32,561 tasks spent 37 s under cProfile on these steps (about half that without the profiler), 1.1 ms a task.
AFTER_SOLVE_S_PER_TASK = 0.0006
#: The solver's least share of the limit, however long loading and compiling took.
SOLVER_MIN_SHARE = 0.25
#: Seconds per task a plan by regions keeps back instead of ``AFTER_SOLVE_S_PER_TASK`` (the Dask cluster's shutdown is
#: kept back by ``services.regions``). Measured on national-synthetic (164,032 tasks, limit 420 s; one instrumented
#: run on a shared machine, 2026-12-07): after the regions' solve, giving units with set-up per change of role took
#: 20 s, the rest of ``plan_run`` 4 s, saving 5 s — 29 s, 0.18 ms a task, where ``AFTER_SOLVE_S_PER_TASK`` kept back
#: 98 s and the command ended 70 s before its limit. Twice the measured cost, for a busier machine and a
#: region's solve that ends a few seconds late.
REGIONS_AFTER_SOLVE_S_PER_TASK = 0.00035


#: Seconds per task kept back, besides ``AFTER_SOLVE_S_PER_TASK``, where the plan is decoded unit by unit after the
#: solve (teams by capabilities, ``_decoded_by_units``: two decodings, their checks and the bound of the problem with
#: set-up per change of role). An estimate: on kursk-border by capabilities (16,006 tasks) a 60 s plan took 64 s of
#: wall time without it (2026-12-07, docs/benchmarks.md's run of that day, other work held back), the neighbourhood
#: search's CP-SAT calls then running past their share. The search by units (``solve(units=...)``) runs no CP-SAT
#: and keeps its limit, and still two orders are decoded (its plan on the pools is the heuristic's, decoded once, and
#: its best order): with 0.0006 the same plan took 48.3 s of wall time (one run, 2026-12-07, busy machine).
DECODE_S_PER_TASK = 0.0002


def _units_of(compiled: CompiledPlan) -> Units:
    """The units behind ``compiled``'s pools, for the search to decode its orders on (``solve(units=...)``)."""
    return Units(tuple(tuple(compiled.units.get(r.name, ())) for r in compiled.problem.resources), compiled.roles,
                 compiled.home, compiled.role_change_days)


def _decodes(compiled: CompiledPlan) -> bool:
    """Whether ``plan_run`` decodes the plan unit by unit: set-up per change of role (teams by capabilities)."""
    return compiled.role_change_days > 0 and any(m.setup for t in compiled.problem.tasks for m in t.modes)


def solver_seconds(limit_s: float, *, elapsed_s: float, tasks: int, decodes: bool = False,
                   more_s_per_task: float = 0.0) -> float:
    """What the solver gets of a plan's time limit ``limit_s`` (wall seconds for the whole plan): what is left after
    ``elapsed_s`` (reading and compiling) less the reserve for the ``tasks``' saving (and their decoding unit by
    unit when ``decodes``; ``more_s_per_task``: what else the caller does per task after the solve, a re-plan's
    decodings); at least ``SOLVER_MIN_SHARE`` of the limit."""
    reserve = (AFTER_SOLVE_S_PER_TASK + (DECODE_S_PER_TASK if decodes else 0.0) + more_s_per_task) * tasks
    return max(SOLVER_MIN_SHARE * limit_s, limit_s - elapsed_s - reserve)


def regions_solver_seconds(limit_s: float, *, elapsed_s: float, tasks: int) -> float:
    """What a plan by regions gives its regions' solves (Dask included) of its time limit ``limit_s``: what is left
    after ``elapsed_s`` (reading, compiling and the bound) less ``REGIONS_AFTER_SOLVE_S_PER_TASK`` per task; at least
    ``SOLVER_MIN_SHARE`` of the limit."""
    return max(SOLVER_MIN_SHARE * limit_s, limit_s - elapsed_s - REGIONS_AFTER_SOLVE_S_PER_TASK * tasks)


def plan_store(store: Store, *, settings: PlanSettings | None = None,
               progress: Callable[[str], None] | None = None) -> PlanOutcome:
    """Plan every open hazard area and asset in ``store`` and save the plan in it; ``settings.time_limit_s`` bounds
    the whole of it (:func:`solver_seconds`), except that a plan within annual budgets solves twice."""
    started = time.perf_counter()
    settings = settings or PlanSettings()
    say = progress or (lambda _msg: None)
    hazards = store.hazards()
    assets = store.assets()
    teams = store.teams()
    brigades = store.brigades()
    meta = store.meta()
    start = settings.start_date or (dt.date.fromisoformat(meta["start_date"]) if "start_date" in meta
                                    else dt.date.today())
    done = processed_work(store, hazards)
    if done:
        say(msg_n("{n} open hazard area has land-release records: planning what is left of it",
                  "{n} open hazard areas have land-release records: planning what is left of them", len(done)))
    say(msg("compiling the register into a scheduling problem"))
    settings = dataclasses.replace(settings, compile=with_calendar(
        with_release_rules(settings.compile, store.release_rules()), store.calendar()))
    likelihood = likelihood_by_id(store)  # fitted once: the longer horizon below compiles with the same model
    compiled = compile_problem(hazards, assets, teams, brigades, start_date=start, params=settings.compile,
                               processed=done, likelihood=likelihood)
    synthetic = meta.get("synthetic") == "true"
    capped: CompiledPlan | None = None
    pricing = settings.pricing or load_pricing()
    if settings.budgets is not None and settings.budgets.any:  # checked (a lot dearer than a year's) before solving
        by_id = {a.id: a for a in assets}
        capped = with_budgets(compiled, pricing, settings.budgets, by_id)
        wanted = (years_needed(compiled, pricing, settings.budgets, by_id) + 1) * 366 + 365
        if wanted > compiled.calendar.horizon_days:  # the budgets spread the work over more years
            longer = compile_problem(hazards, assets, teams, brigades, start_date=start,
                                     params=dataclasses.replace(settings.compile, horizon_days=wanted),
                                     processed=done, likelihood=likelihood)
            capped = with_budgets(longer, pricing, settings.budgets, by_id)
    by_regions = bool(settings.decompose or (settings.decompose is None and has_regions(store)))
    bound: float | None = None
    if by_regions and capped is None:  # before the solve: the solver's share is what the bound leaves of the limit
        say("bounding the whole problem (a plan by regions is one of its plans)")
        bound = whole_lower_bound(compiled.problem)
    elapsed, n_tasks = time.perf_counter() - started, len(compiled.problem.tasks)
    if capped is not None:
        limit = settings.time_limit_s
    elif by_regions:
        limit = regions_solver_seconds(settings.time_limit_s, elapsed_s=elapsed, tasks=n_tasks)
    else:
        limit = solver_seconds(settings.time_limit_s, elapsed_s=elapsed, tasks=n_tasks, decodes=_decodes(compiled))
    say(msg_n("solving {n} task ({engine}, {seconds} s)", "solving {n} tasks ({engine}, {seconds} s)",
              len(compiled.problem.tasks), engine=settings.engine.value, seconds=f"{round(limit, 1):g}"))
    solve_params = SolveParams(time_limit_s=limit, workers=settings.workers, seed=settings.seed,
                               engine=settings.engine)
    if by_regions:
        if capped is not None:
            raise PlanError(msg("annual budgets are not split between regions: plan with --no-decompose"))
        say(msg("planning by regions on Dask ({where})",
                where=settings.regions.scheduler or msg_n("{n} worker", "{n} workers", settings.regions.workers)))
        result = dataclasses.replace(with_region_details(solve_by_regions(
            store, compiled, hazards, assets, dataclasses.replace(decompose_params(settings), time_limit_s=limit),
            settings.regions, say=say)), lower_bound=bound)
    else:
        result = solve(compiled.problem, priority=compiled.priority, params=solve_params,
                       groups=districts(compiled, hazards, assets),
                       units=_units_of(compiled) if _decodes(compiled) else None)
    effect: BudgetEffect | None = None
    if capped is not None and settings.budgets is not None:
        free_run = plan_run(compiled, result, settings, hazards, assets, synthetic=synthetic)
        compiled = capped
        say(msg("solving again within {budgets}", budgets=settings.budgets.describe(pricing.currency)))
        result = solve(compiled.problem, priority=compiled.priority, params=solve_params,
                       groups=districts(compiled, hazards, assets))
        run = plan_run(compiled, result, settings, hazards, assets, synthetic=synthetic)
        effect = budget_effect(run.tasks, free_run.tasks, finish=run.finish_date, free_finish=free_run.finish_date)
        result = dataclasses.replace(result, details={**result.details, **_budget_details(
            settings.budgets, pricing, effect)})
    run = plan_run(compiled, result, settings, hazards, assets, synthetic=synthetic)
    run = dataclasses.replace(run, id=store.save_plan(run))
    return PlanOutcome(_summary_of(run), run, compiled, result, effect)


def decompose_params(settings: PlanSettings) -> DecomposeParams:
    """The decomposition's settings from the plan's: its time limit, seed and engine, the regions' rounds and travel."""
    r = settings.regions
    return DecomposeParams(time_limit_s=settings.time_limit_s, rounds=r.rounds, travel_days=r.travel_days,
                           parallel=r.workers, seed=settings.seed, engine=settings.engine)


def _budget_details(budgets: AnnualBudgets, pricing: PricingProfile, effect: BudgetEffect) -> dict[str, object]:
    """What a budget-capped plan records in its summary's details (``sapper plan --json``)."""
    return {
        "budget_demining_per_year": budgets.demining, "budget_reconstruction_per_year": budgets.reconstruction,
        "budget_currency": pricing.currency, "budget_price_year": pricing.price_year,
        "budget_pricing": pricing.name,
        "unconstrained_finish": effect.unconstrained_finish.isoformat() if effect.unconstrained_finish else None,
        "budget_finish_delay_days": effect.finish_delay_days, "budget_delayed": effect.delayed,
        "budget_milestones": effect.milestones, "budget_max_delay_days": effect.max_delay_days,
        "budget_mean_delay_days": round(effect.mean_delay_days, 1),
    }


#: Activity types after which NTS is not planned again (survey precedes them), and those that start clearance.
_SURVEYED = frozenset({ActivityType.NTS, ActivityType.TS, ActivityType.CLEARANCE, ActivityType.BAC})
_CLEARING = frozenset({ActivityType.CLEARANCE, ActivityType.BAC})


def processed_of(record: LandRelease) -> Processed:
    """What ``record`` (an open area's land-release record) says is done, for the compiler."""
    acts = list(record.activities.values())
    types = {a.activity_type for a in acts}
    dates = [d for a in acts if (d := a.end or a.start) is not None]
    return Processed(
        remaining_m2=record.remaining_m2,
        nothing_remains=record.nothing_remains,
        surveyed=bool(types & _SURVEYED),
        clearance_started=bool(types & _CLEARING),
        eod_done=ActivityType.EOD in types,
        needs_inspection=record.reduced_m2 + record.cleared_m2 + record.reopened_m2 > 0,
        last_activity=max(dates, default=None),
    )


def processed_work(store: Store, hazards: Sequence[HazardArea]) -> dict[str, Processed]:
    """For each open area of ``hazards`` with a land-release history, what its record says is done (the history
    replayed and checked, :func:`sapper.services.landrelease.history`). Areas without a history are planned whole."""
    open_ids = [h.id for h in hazards if h.status is HazardStatus.OPEN]
    out: dict[str, Processed] = {}
    for hid in sorted(store.hazards_with_history(open_ids)):
        record = landrelease.history(store, hid).record
        if record is not None:
            out[hid] = processed_of(record)
    return out


def _summary_of(run: PlanRun) -> PlanSummary:
    if run.summary is None:  # plan_run always writes one
        raise AssertionError("a plan run made by plan_run has a summary")
    return run.summary


def plan_run(compiled: CompiledPlan, result: Result, settings: PlanSettings, hazards: list[HazardArea],
             assets: list[Asset], *, synthetic: bool, prefer: Sequence[Sequence[str]] | None = None,
             history: Sequence[PlannedTask] = (), replan: ReplanParams | None = None,
             assigned: Sequence[Sequence[str]] | None = None, initial: Mapping[str, str] | None = None) -> PlanRun:
    """The plan run to save: every task of ``result``'s schedule with its dates and team or brigade (``prefer``: the
    units each task should keep when free, see ``assign_units``), after the ``history`` (tasks already done, which a
    re-plan keeps), with the summary and the parameters (``replan``: the re-plan's). ``assigned``: the units of each
    task, chosen with the set-up per change of role by the caller (a re-plan, ``services.replan``: the plan is then
    saved as given, after the unit check); ``initial``: each unit's role at time 0, for that check."""
    problem = compiled.problem
    cal = compiled.calendar
    schedule = result.schedule
    tasks: list[PlannedTask] = list(history)
    finish = max([cal.start, *(t.end_date for t in history)])
    use = None
    if schedule is not None:
        units = [compiled.units[r.name] for r in problem.resources]
        if assigned is not None:  # the caller's units and set-up (a re-plan): the plan saved as given
            given, continued, changed, decoded_from = tuple(tuple(a) for a in assigned), 0, False, ""
        else:
            exact = per_change_setup(problem, schedule, units, roles=compiled.roles, home=compiled.home,
                                     setup=compiled.role_change_days, prefer=prefer)
            problem, schedule, given = exact.problem, exact.schedule, exact.assigned
            continued, changed, decoded_from = exact.continued, exact.applied, ""
        if replan is None and result.engine != "decomposed":
            decoded = _decoded_by_units(compiled, result, units, float(objective_value(problem, schedule)))
            if decoded is not None:
                problem, schedule, given, decoded_from = decoded
                continued, changed = continued_lots(problem, schedule, given, compiled.home), True
        if changed:
            result = _per_change_result(result, problem, schedule, continued)
            if decoded_from:
                # The plan kept came from the search on plans decoded unit by unit: the engine says so (the
                # result's own engine names the plan on the pools, which that search leaves as the heuristic's).
                result = dataclasses.replace(result, details={**result.details, "unit_decoded_from": decoded_from},
                                             engine="units-search" if decoded_from == "search" else result.engine)
        faults = check_units(problem, schedule, given, roles=compiled.roles, home=compiled.home,
                             setup=compiled.role_change_days, initial=initial)
        if faults:
            raise PlanError("the teams and brigades given to the plan failed the independent check: "
                            + "; ".join(str(f) for f in faults[:5]))
        use = utilisation(compiled, schedule, given, idle_weeks=settings.idle_weeks, problem=problem, initial=initial)
        for j, (task, info) in enumerate(zip(problem.tasks, compiled.info, strict=True)):
            mode = task.modes[schedule.modes[j]]
            s = schedule.starts[j]
            e = s + mode.duration
            resource = problem.resources[mode.demands[0][0]].name if mode.demands else ""
            end_date = cal.end_date_of(e) if e > 0 else cal.start
            start_date = cal.date_of(s) if mode.duration else end_date
            finish = max(finish, end_date)
            tasks.append(PlannedTask(task_id=task.name, kind=info.kind, hazard_id=info.hazard_id,
                                     asset_id=info.asset_id, mode=mode.name, resource=resource,
                                     unit_id=",".join(given[j]), start_date=start_date, end_date=end_date,
                                     work=info.work, work_unit=info.work_unit))
    summary = dataclasses.replace(_summary(compiled, result, tasks, hazards, assets, finish, synthetic=synthetic),
                                  utilisation=use)
    c = settings.compile
    params = PlanParams(time_limit_s=settings.time_limit_s, workers=settings.workers, seed=settings.seed,
                        engine=settings.engine, lot_max_days=c.lot_max_days, weekdays=c.weekdays,
                        demining_stand_down=c.demining_stand_down, building_stand_down=c.building_stand_down,
                        replan=replan, profile=c.profile, holidays=c.holidays, pools=c.pools,
                        role_change_days=c.role_change_days)
    b = settings.budgets
    if b is not None and b.any:  # the budgets the plan keeps to, which its re-plans keep to as well
        params = dataclasses.replace(params, budget_demining=b.demining, budget_reconstruction=b.reconstruction,
                                     budget_pricing=(settings.pricing or load_pricing()).name)
    return PlanRun(id=None, created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
                   status=result.status.value, objective=result.objective, lower_bound=result.lower_bound,
                   baseline_objective=result.baseline_objective,
                   finish_date=finish if schedule is not None else None,
                   solve_seconds=round(result.solve_seconds, 2), task_count=len(problem.tasks),
                   params=params, summary=summary, tasks=tuple(tasks))


def _decoded_by_units(compiled: CompiledPlan, result: Result, units: Sequence[Sequence[str]], beat: float
                      ) -> tuple[Problem, Schedule, tuple[tuple[str, ...], ...], str] | None:
    """The best plan decoded unit by unit (``plan.unitlist``: set-up paid per change of role, units and modes chosen
    afresh) from the orders of the solver's plan, of the best heuristic plan and of the search's best order decoded
    unit by unit (``Result.unit_order``), when one passes both independent checkers and its objective is below
    ``beat``, with the order it came from (``solver``, ``heuristic`` or ``search``); None otherwise. Only where
    some mode carries set-up (teams by capabilities). Re-plans and plans by regions keep ``per_change_setup``'s
    plan: the decoding does not keep a re-plan's teams on their lots, nor a region's share of a pool."""
    problem = compiled.problem
    if not _decodes(compiled):
        return None
    best: tuple[Problem, Schedule, tuple[tuple[str, ...], ...], str] | None = None
    exact, _ = with_continuing_modes(problem)
    orders = [("solver", result.schedule)]
    if result.heuristic is not None and result.heuristic != result.schedule:  # a plan of the heuristics alone: once
        orders.append(("heuristic", result.heuristic))
    if result.unit_order is not None and len(result.unit_order) == len(problem.tasks):
        # The order as starts (each task's place in it): ``unit_list_schedule`` takes the tasks in that order.
        place = [0] * len(problem.tasks)
        for k, j in enumerate(result.unit_order):
            place[j] = k
        orders.append(("search", Schedule(tuple(place), (0,) * len(place))))
    for name, order in orders:
        if order is None:
            continue
        decoded = unit_list_schedule(problem, order, units, roles=compiled.roles, home=compiled.home,
                                     setup=compiled.role_change_days)
        if decoded is None:
            continue
        schedule, assigned = decoded
        if check(exact, schedule) or check_units(exact, schedule, assigned, roles=compiled.roles,
                                                 home=compiled.home, setup=compiled.role_change_days):
            continue
        value = float(objective_value(exact, schedule))
        if value < beat:
            best, beat = (exact, schedule, assigned, name), value
    return best


def _per_change_result(result: Result, problem: Problem, schedule: Schedule, continued: int) -> Result:
    """``result`` for the plan with set-up per change of role (``plan.setups``): its objective; the bound of the
    problem in which every lot may skip its set-up (the solver's bound was for set-up on every borrowed lot, so it is
    no bound here; a plan by regions has it already, computed before its solve by
    :func:`sapper.plan.decompose.whole_lower_bound` on the whole problem); not proven optimal. ``details`` keep the
    solver's objective and count the lots that kept their unit's role."""
    objective = objective_value(problem, schedule)
    bound = result.lower_bound if result.engine == "decomposed" else lower_bound(problem)
    status = Status.FEASIBLE if result.status is Status.OPTIMAL and objective != result.objective else result.status
    return dataclasses.replace(result, schedule=schedule, objective=objective, lower_bound=bound, status=status,
                               details={**result.details, "solved_objective": result.objective,
                                        "set_up_saved_lots": continued})


def _summary(compiled: CompiledPlan, result: Result, tasks: list[PlannedTask], hazards: list[HazardArea],
             assets: list[Asset], finish: dt.date, *, synthetic: bool) -> PlanSummary:
    problem = compiled.problem
    released = {t.hazard_id: t.end_date for t in tasks if t.kind is TaskKind.RELEASED}
    restored = {t.asset_id: t.end_date for t in tasks if t.kind is TaskKind.RESTORED}
    area = {h.id: h.area_m2 for h in hazards if h.id in released}
    total_area = sum(area.values())
    critical = [a.id for a in assets if a.criticality >= 4]
    progress = []
    if tasks:
        for d in _checkpoints(compiled.calendar.start, finish):
            rel = sum(a for hid, a in area.items() if released[hid] <= d)
            crit = sum(1 for aid in critical if restored.get(aid, dt.date.max) <= d)
            allr = sum(1 for d2 in restored.values() if d2 <= d)
            progress.append(Checkpoint(
                date=d,
                hazard_area_released_km2=round(rel / 1e6, 2),
                hazard_area_released_pct=round(100 * rel / total_area, 1) if total_area else None,
                critical_assets_restored_pct=round(100 * crit / len(critical), 1) if critical else None,
                assets_restored_pct=round(100 * allr / len(restored), 1) if restored else None,
            ))
    return PlanSummary(
        status=result.status,
        objective=result.objective,
        lower_bound=result.lower_bound,
        baseline_objective=result.baseline_objective,
        gap_pct=round(100 * result.gap, 2) if result.gap is not None else None,
        improvement_over_baseline_pct=(round(100 * result.improvement_over_baseline, 2)
                                       if result.improvement_over_baseline is not None else None),
        engine=result.engine,
        start_date=compiled.calendar.start,
        finish_date=finish if tasks else None,
        task_count=len(problem.tasks),
        work_task_count=sum(1 for t in problem.tasks if any(m.duration for m in t.modes)),
        solve_seconds=round(result.solve_seconds, 2),
        objective_meaning="priority-weighted completion: Σ weight × completion (working days from the start)"
                          " over each hazard area's release and each asset's restoration",
        hazard_areas=len(released),
        hazard_area_km2=round(total_area / 1e6, 2),
        assets=len(restored),
        critical_assets=len(critical),
        progress=tuple(progress),
        details=_scalars(result.details),
        synthetic=synthetic,
    )


def _scalars(details: Mapping[str, object]) -> dict[str, Scalar]:
    """The engine's diagnostics that are single values (nested ones, e.g. per-objective values, are left out)."""
    out: dict[str, Scalar] = {}
    for k, v in details.items():
        if v is None or isinstance(v, int | float | str | bool):
            out[k] = v
    return out


def write_plan_json(outcome: PlanOutcome, path: str | Path) -> Path:
    """Write the plan summary and every planned task to ``path`` as JSON."""
    path = Path(path)
    doc = plan_document(outcome.summary, outcome.run.tasks)  # the one JSON shape (store.planjson)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    return path
