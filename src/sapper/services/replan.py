"""Re-plan from progress (``sapper replan``): the work left as of a date, planned so that the previous plan stays as it
was wherever the facts allow, and what changed and why.

1. **What is left** (``services.remaining``): the previous plan's lots less the progress reported since, against the
   register as it is now. Time 0 of the new problem is the as-of date (working days of the previous plan's calendar).
2. **The problem** is the register compiled with those lots. Finished lots are history (kept in the saved plan with
   their dates); a running lot keeps its method and is pinned to start at time 0 (it continues with the unit that
   reported on it) when its predecessors are done, its unit is still in the store and its pool has room; every other
   lot of the previous plan that was not due yet gets its previous start as its *anchor*, and moving it costs
   ``move_cost`` (``Problem.move_cost``; ``--move-cost`` days × the median weight of a release or restoration).
   With ``ReplanSettings.keep_continued``, a pending lot that ran without set-up in the previous plan (its unit
   continued a borrowed role, ``plan.setups``) keeps that mode without set-up in the solvers' problem. Off by
   default: with the decoding of 4. it moved more lots, not fewer (docs/planning.md).
3. **The warm start** is the previous plan repaired to the new facts (``plan.stability.warm_start``: in the previous
   plan's order, each lot at its previous start where it can be, else where it moves no other lot unless that costs
   more than the move cost; or the previous plan simply shifted, whichever is better); CP-SAT improves it
   (``plan.solve`` with ``start``). With ``moves=MovePolicy.FEWEST`` (the default) CP-SAT first finds the fewest lots
   any plan must move (proving it where it can) and then plans as well as it can without moving one more; with
   ``PRICED`` a lot that need not move may still move when what it gains outweighs the move cost. A re-plan of a plan
   made by regions (``sapper plan --decompose``) is solved by the same regions on Dask (``services.regions``,
   ``plan.decompose``: each region improves its part of the repaired plan within the capacity that part uses and a
   share of the pools' spare, with the same anchors, move cost and move policy), and the merged plan is checked as
   one whole problem; ``ReplanSettings.decompose`` False re-plans the whole problem as one.
4. **Units** (a plan by capabilities, set-up per change of role): the solvers plan on pools, where every lot in a
   borrowed role carries its set-up, so the previous plan — whose lots after a lot in the same role on their unit
   carry none — is not feasible there as it stands. After the solve the plan is therefore also decoded unit by unit
   (``plan.unitlist``, :func:`unit_plans`): each unit in the role it is in at the as-of date (:func:`initial_roles`:
   its running lot's, else its last lot's), each running lot pinned at the start on the unit that reported on it,
   and each lot at its previous start where it can be (a soft anchor), on its previous unit first, the previous
   plan's slots held for the lots not placed yet; a lot that must move takes free time, and a held slot only where
   it finds none, (priced) where waiting costs more than the move, or (fewest) where it would wait longer than
   ``max_wait_weeks`` — the lot moved to make room then waits for free time. The plan saved is the best, by the
   re-plan's criterion (no lot the facts moved waiting longer than the bound, then fewest moved lots, then the
   objective; with ``PRICED`` and from scratch the objective, move cost included), of those decodings and of the
   set-up step on the solver's plan (``plan.setups.per_change_setup``) that pass both independent checkers
   (``check``, and ``check_units`` with the roles at the as-of date); the summary's details name where it came from
   (``unit_decoded_from``) and what each candidate's objective was. From scratch the solver's and the heuristic's
   orders are decoded as for a first plan, without anchors.
5. **What changed**: lots finished, removed and added, and every lot that moved with the reason when it can be named:
   it was not started or started early, its predecessor is late (slower than planned, a hazard area larger than
   planned, …), the winter stand-down, its pool is busier (or lost a team), or the optimiser chose to (the gain
   outweighed the move cost). The lots that *must* move (``plan.stability.propagate``: the old plan pushed forward
   through precedences and stand-downs) are counted too, so the plan's moves can be compared with them. They are
   counted on the plan saved, with its units; by capabilities also the lots that wait for a free unit and the lots
   moved to make room for another (:func:`lot_waits`, :func:`made_room`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sapper.domain.calendar import Calendar
from sapper.domain.pricing import PricingProfile
from sapper.domain.taskorders import ACTIVE
from sapper.errors import Fault, NotFoundError, PlanError, ValidationError
from sapper.messages import Joined, msg, msg_n, phrases
from sapper.plan import Engine, Precedence, Problem, Result, Schedule, SolveParams, Status, Task, solve
from sapper.plan import MovePolicy as MovePolicy  # re-exported for the entry points
from sapper.plan.decompose import DecomposeParams
from sapper.plan.greedy import descendant_weight_rule, serial_sgs, unlock_ratio_rule
from sapper.plan.setups import continued_lots, continuing_mode, per_change_setup, with_continuing_modes
from sapper.plan.setups import lower_bound as setup_lower_bound
from sapper.plan.solution import check, check_units, moved_tasks, objective_value
from sapper.plan.stability import NOT_PUSHED, Propagation, earliest, propagate, warm_start, without_anchors
from sapper.plan.unitlist import Hold, unit_list_schedule
from sapper.scenario.compile import (
    WORK_KINDS,
    CompiledPlan,
    TaskInfo,
    TaskKind,
    WorkKey,
    compile_problem,
    planned_mode,
)
from sapper.services.budgets import AnnualBudgets, spent_before, with_budgets, years_needed
from sapper.services.costs import plan_costs
from sapper.services.likelihood import likelihood_by_id
from sapper.services.planning import (
    AFTER_SOLVE_S_PER_TASK,
    PlanSettings,
    plan_run,
    solver_seconds,
    with_calendar,
    with_release_rules,
)
from sapper.services.pricing import load_pricing
from sapper.services.regions import RegionSettings, region_details, solve_by_regions
from sapper.services.remaining import Lot, LotStatus, WorkLeft, remaining_work
from sapper.services.taskorders import OrderChange, change_to_json, order_changes
from sapper.services.teamchanges import LotFacts, TeamChanges, UnitUse, team_changes, team_lines, unit_use
from sapper.store import Store
from sapper.store.planjson import JsonObject, plan_document, replan_counts_to_json
from sapper.store.records import (
    PlannedTask,
    PlanRun,
    PlanSummary,
    ReplanCounts,
    ReplanParams,
    ShiftStats,
)
from sapper.store.records import ReplanSummary as ReplanSummary  # re-exported for the entry points

#: Default cost of moving one lot, in working days of delay of a release or restoration of median weight.
MOVE_COST_DAYS = 20.0
#: Seconds per task kept back from the solver of a re-plan by capabilities for its decodings unit by unit after the
#: solve (``unit_plans``: four orders, their checks and the bound), the count of the changes and the units' view, on
#: top of ``services.planning.AFTER_SOLVE_S_PER_TASK``. An estimate: on kursk-border (16,006 tasks) four decodings
#: and their checks took 10–20 s after a 30 s solve (one run on a shared machine, 2026-12-07); there are six now,
#: and a second warm start; benchmarks/replan_week.py reports each re-plan's seconds beside its limit.
REPLAN_DECODE_S_PER_TASK = 0.0015


@dataclass(frozen=True)
class ReplanSettings:
    """How to re-plan. ``stable`` False re-plans from scratch (no anchors, no warm start), for comparison.
    ``moves``: FEWEST moves only the lots the new facts force to move (as few as CP-SAT can find, the minimum when
    it proves it), PRICED lets a lot move when the gain outweighs ``move_cost_days`` (module docstring)."""

    as_of: dt.date | None = None
    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    engine: Engine = Engine.CPSAT
    move_cost_days: float = MOVE_COST_DAYS
    stable: bool = True
    moves: MovePolicy = MovePolicy.FEWEST
    #: With FEWEST and a plan by capabilities (decoded unit by unit): a lot of the previous plan that must move waits
    #: at most this many weeks (of the working week) for free time on a unit before it takes a slot held for another
    #: lot, which then moves; the plan saved keeps every such wait within it where a decoding does (``_by_units``).
    #: None (the default): no bound — on kursk-border a bound of 4 weeks moved the two-year wait onto the lots moved
    #: to make room, with more lots moved and a worse objective (docs/planning.md, "Lots that continued a role").
    max_wait_weeks: int | None = None
    #: List the units idle this many weeks or more (working days outside stand-downs) besides those given no work.
    idle_weeks: int = 4
    #: The prices a budget-capped plan's budgets are spent at (None: sapper's default profile).
    pricing: PricingProfile | None = None
    #: Keep a pending lot that ran without set-up in the previous plan (its unit continued a borrowed role) in its
    #: mode without set-up in the solvers' problem. Off by default: the plan saved is decoded unit by unit anyway
    #: (module docstring, 4.), and with it on the small replan-week store moved more lots and ended later
    #: (docs/planning.md, "Lots that continued a role").
    keep_continued: bool = False
    #: Re-plan by regions on Dask (``sapper replan --decompose``); None: when the previous plan was made by regions
    #: (a re-plan from scratch never is). ``regions``: the Dask workers or scheduler.
    decompose: bool | None = None
    regions: RegionSettings = dataclasses.field(default_factory=RegionSettings)


@dataclass(frozen=True)
class Frame:
    """The re-plan problem and how each of its tasks relates to the previous plan."""

    problem: Problem
    lots: dict[int, Lot]  # task index → the previous plan's lot it continues
    old_start: dict[int, int | None]  # task index → previous start in the new frame (None: was due, not started)
    modes: list[int | None]  # the previous plan's mode of each task, where it still exists
    order: list[float]  # the previous plan's order (higher first), for the repair
    prefer: list[tuple[str, ...]]  # units each task should keep
    unpinned: dict[int, str]  # running lots that could not simply continue, and why
    move_cost: int
    #: Each unit's lots in the previous plan's order (running first), as precedences: a unit does one lot at a time.
    chains: tuple[Precedence, ...] = ()
    #: Lots still to do that ran without set-up in the previous plan (their unit continued the role): they keep the
    #: mode without it, appended after the task's modes (``plan.setups.continuing_mode``).
    continued: tuple[int, ...] = ()

    def pushed_forward(self, problem: Problem) -> Propagation:
        """The previous plan pushed forward team by team: precedences, stand-downs and each unit's own sequence."""
        return propagate(problem.replace(precedences=problem.precedences + self.chains), self.modes)


@dataclass(frozen=True, slots=True)
class MovedLot:
    """A lot of the previous plan that starts elsewhere now, and why (``reason``, and the first ``cause`` that can
    be named); ``must_move``: no plan could keep its start."""

    task_id: str
    status: LotStatus
    old_start: dt.date
    new_start: dt.date
    shift_working_days: int
    reason: str
    cause: str
    must_move: bool
    old_end: dt.date | None = None
    new_end: dt.date | None = None
    old_unit: str | None = None  # the unit(s) of the previous plan, comma-separated
    new_unit: str | None = None  # the unit(s) of the new plan


@dataclass(frozen=True, slots=True)
class AddedLot:
    """A lot the previous plan did not have."""

    task_id: str
    reason: str
    work: float
    work_unit: str


@dataclass(frozen=True, slots=True)
class RemovedLot:
    """A lot of the previous plan that is no longer needed."""

    task_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class FinishedLot:
    """A lot of the previous plan finished since: the work reported and the units that reported it."""

    task_id: str
    work: float
    work_unit: str
    by: str


@dataclass(frozen=True, slots=True)
class WaitedLot:
    """A lot of the previous plan that waits for a free unit (``lot_waits``): the day it could start (its previous
    start, or later where its predecessors end later), its new start, and the working days between them outside its
    pool's stand-downs."""

    task_id: str
    could_start: dt.date
    new_start: dt.date
    working_days: int


@dataclass(frozen=True, slots=True)
class TakenSlot:
    """A lot moved from its previous slot on ``unit`` that a lot which had to move (``by``) now takes."""

    task_id: str
    by: str
    unit: str


@dataclass(frozen=True)
class ReplanChanges:
    """What changed from the previous plan and why: the counts (saved with the plan's summary), the notes on the
    progress reports, and every lot that moved, was added, removed or finished."""

    counts: ReplanCounts
    notes: tuple[str, ...] = ()
    moved_tasks: tuple[MovedLot, ...] = ()
    added_tasks: tuple[AddedLot, ...] = ()
    removed_tasks: tuple[RemovedLot, ...] = ()
    finished_tasks: tuple[FinishedLot, ...] = ()
    #: Per team and brigade, every lot it finished, lost, gained or keeps with new dates (``services.teamchanges``).
    teams: tuple[TeamChanges, ...] = ()
    #: Units the new plan leaves idle for ``ReplanSettings.idle_weeks`` or more, and units it gives no work.
    unit_use: UnitUse | None = None
    #: The task orders in force (issued or acknowledged) the new plan changes, each with what to do with it
    #: (``services.taskorders.order_changes``: re-issue, cancel or complete).
    orders: tuple[OrderChange, ...] = ()
    #: By capabilities (decoded unit by unit): the lots of the previous plan that wait for a free unit, longest
    #: first; the lots moved because a lot that had to move took their slot; and (``--moves fewest``) the longest
    #: wait allowed before a lot takes a held slot, in working days (``ReplanSettings.max_wait_weeks``).
    waited: tuple[WaitedLot, ...] = ()
    taken: tuple[TakenSlot, ...] = ()
    max_wait_days: int | None = None


@dataclass(frozen=True)
class ReplanOutcome:
    """A saved re-plan: its summary, the run as saved, the problem, the solver's result, the frame and the changes."""

    summary: PlanSummary
    run: PlanRun
    compiled: CompiledPlan
    result: Result
    frame: Frame
    changes: ReplanChanges
    #: The role each unit is set up in at the as-of date (:func:`initial_roles`), which the unit check of the saved
    #: plan knows.
    initial: Mapping[str, str] = dataclasses.field(default_factory=dict)


def replan_store(store: Store, *, settings: ReplanSettings | None = None,
                 progress: Callable[[str], None] | None = None) -> ReplanOutcome:
    """Re-plan ``store`` from its latest plan and the progress reported since; save the new plan in it."""
    started = time.perf_counter()
    settings = settings or ReplanSettings()
    say = progress or (lambda _msg: None)
    faults = []
    if settings.move_cost_days < 0:
        faults.append(Fault(msg("re-plan"), msg("move cost cannot be negative, got {move_cost_days}",
                                                move_cost_days=settings.move_cost_days), "move_cost"))
    if settings.idle_weeks < 1:
        faults.append(Fault(msg("re-plan"), msg("idle weeks must be at least 1, got {idle_weeks}",
                                                idle_weeks=settings.idle_weeks), "idle_weeks"))
    if settings.max_wait_weeks is not None and settings.max_wait_weeks < 0:
        faults.append(Fault(msg("re-plan"), msg("max wait weeks cannot be negative, got {max_wait_weeks}",
                                                max_wait_weeks=settings.max_wait_weeks), "max_wait_weeks"))
    ValidationError.raise_if(msg("re-plan settings"), faults)
    previous = store.latest_plan()
    if previous is None:
        raise NotFoundError("the store holds no plan to re-plan: run sapper plan first")
    hazards, assets = store.hazards(), store.assets()
    teams, brigades = store.teams(), store.brigades()
    reports, activities, meta = store.field_progress(), store.activities(), store.meta()
    plan_start = previous.start_date
    progress_from = previous.params.progress_through
    as_of = settings.as_of
    if as_of is None:
        dates = [r.work_date for r in reports if progress_from is None or r.work_date >= progress_from]
        as_of = max(dates) + dt.timedelta(days=1) if dates else plan_start
    if as_of < plan_start:
        raise ValidationError(msg("re-plan"), [Fault(msg("re-plan"), msg(
            "as-of date {as_of} is before the start of the previous plan ({start})", as_of=as_of, start=plan_start),
                                                     "as_of")])
    cparams = with_calendar(with_release_rules(previous.params.compile_params(), store.release_rules()),
                            store.calendar())
    say(msg("work left as of {day} (plan run {plan} started {start})", day=as_of.isoformat(), plan=previous.id,
            start=plan_start.isoformat()))
    left = remaining_work(previous, hazards=hazards, assets=assets, brigades=brigades, progress=reports,
                          activities=activities, as_of=as_of, progress_from=progress_from,
                          weekdays=previous.params.weekdays, holidays=previous.params.holidays,
                          params=cparams)
    likelihood = likelihood_by_id(store)  # fitted once: the longer horizon below compiles with the same model
    compiled = compile_problem(left.hazards, left.assets, teams, brigades, start_date=as_of, params=cparams,
                               lots=left.plans, blocked=left.blocked, likelihood=likelihood)
    budgets = AnnualBudgets(previous.params.budget_demining, previous.params.budget_reconstruction)
    pricing = settings.pricing or load_pricing()
    if budgets.any:  # the plan's budgets kept; what the work done spent this year so far is taken off its window
        by_id = {a.id: a for a in assets}
        wanted = (years_needed(compiled, pricing, budgets, by_id) + 1) * 366 + 365
        if wanted > compiled.calendar.horizon_days:  # the budgets spread the work over more years
            compiled = compile_problem(left.hazards, left.assets, teams, brigades, start_date=as_of,
                                       params=dataclasses.replace(cparams, horizon_days=wanted), lots=left.plans,
                                       blocked=left.blocked, likelihood=likelihood)
        done = {t.task_id: t for t in [*left.history, *_finished(left), *left.reached]}
        paid = [dataclasses.replace(c, start_date=done[c.task_id].start_date, end_date=done[c.task_id].end_date)
                for c in plan_costs(store, pricing, plan_id=previous.id).tasks if c.task_id in done]
        spent = spent_before(paid, as_of, weekdays=previous.params.weekdays, holidays=previous.params.holidays)
        say(f"keeping to the plan's {budgets.describe(pricing.currency)}")
        compiled = with_budgets(compiled, pricing, budgets, by_id, spent=spent)
    frame = build_frame(compiled, left, move_cost_days=settings.move_cost_days,
                        keep_continued=settings.keep_continued and settings.stable)
    problem = frame.problem if settings.stable else frame.problem.replace(move_cost=0)
    compiled = dataclasses.replace(compiled, problem=problem)
    prop = frame.pushed_forward(problem)
    # Half the limit at most for the repairs after the first (the solver gets what is left, at least its floor).
    repaired = warm_start(problem, frame.order, frame.modes, deadline=started + 0.5 * settings.time_limit_s)
    # The limit bounds the whole re-plan, as a plan's: the solver gets what reading, compiling and the warm start
    # left, less the reserve for the unit-by-unit decodings (by capabilities), the changes and saving.
    limit = solver_seconds(settings.time_limit_s, elapsed_s=time.perf_counter() - started, tasks=len(problem.tasks),
                           more_s_per_task=REPLAN_DECODE_S_PER_TASK if compiled.role_change_days > 0 else 0.0)
    params = SolveParams(time_limit_s=limit, workers=settings.workers, seed=settings.seed, engine=settings.engine)
    start_from = msg("the repaired previous plan") if settings.stable else msg("scratch")
    say(msg_n("solving {n} task (from {start}, {engine}, {seconds} s)",
              "solving {n} tasks (from {start}, {engine}, {seconds} s)", len(problem.tasks), start=start_from,
              engine=settings.engine.value, seconds=f"{round(limit, 1):g}"))
    if settings.stable and by_regions(previous, settings):
        if problem.budgets:
            raise PlanError(msg("annual budgets are not split between regions: plan with --no-decompose"))
        say(msg("planning by regions on Dask ({where})",
                where=settings.regions.scheduler or msg_n("{n} worker", "{n} workers", settings.regions.workers)))
        by = solve_by_regions(store, compiled, left.hazards, left.assets,
                              DecomposeParams(time_limit_s=limit, rounds=0, parallel=settings.regions.workers,
                                              seed=settings.seed, engine=settings.engine),
                              settings.regions, say=say, start=repaired, moves=settings.moves)
        result = dataclasses.replace(by.result, details=region_details(by))
    elif settings.stable:
        result = solve(problem, params=params, start=repaired, moves=settings.moves)
    else:
        result = solve(problem, priority=_scratch_priority(problem, compiled.priority), params=params)
    assigned: tuple[tuple[str, ...], ...] | None = None
    initial = initial_roles(left)
    if result.schedule is not None and compiled.role_change_days > 0:
        # Set-up per change of role: the plan saved is the best of the set-up step on the solver's plan and the
        # plans decoded unit by unit; the changes are counted on it.
        # No decoding started once only the saving's reserve is left of the limit.
        deadline = started + settings.time_limit_s - AFTER_SOLVE_S_PER_TASK * len(problem.tasks)
        compiled, result, assigned = _by_units(compiled, result, frame, left, repaired, initial, settings, deadline,
                                               max_wait=None if settings.max_wait_weeks is None
                                               else settings.max_wait_weeks * len(cparams.weekdays))
        problem = compiled.problem
    changes = describe_changes(previous, left, compiled, frame, prop, repaired, result, stable=settings.stable,
                               earliest=earliest(problem), assigned=assigned)
    if assigned is not None and result.schedule is not None and settings.stable:
        wait = result.details.get("max_wait_days")
        waited, taken = _waited(compiled, result.schedule, assigned, frame)
        changes = dataclasses.replace(changes, waited=waited, taken=taken,
                                      max_wait_days=wait if isinstance(wait, int) else None)
    plan_settings = PlanSettings(time_limit_s=settings.time_limit_s, workers=settings.workers, seed=settings.seed,
                                 engine=settings.engine, compile=cparams,
                                 budgets=budgets if budgets.any else None, pricing=pricing)
    history = [*left.history, *_finished(left), *left.reached]
    planned = {t.name for t in problem.tasks}
    history = [t for t in history if t.task_id not in planned]
    run = plan_run(compiled, result, plan_settings, hazards, assets, synthetic=meta.get("synthetic") == "true",
                   prefer=frame.prefer, history=history, assigned=assigned, initial=initial,
                   replan=ReplanParams(replan_of=previous.id, as_of=as_of, progress_through=as_of,
                                       stable=settings.stable, moves=settings.moves, move_cost=problem.move_cost,
                                       move_cost_days=settings.move_cost_days))
    weighted: float | None = None
    moves: int | None = None
    if result.schedule is not None:
        moves = len(moved_tasks(problem, result.schedule)) * problem.move_cost
        weighted = objective_value(problem, result.schedule) - moves
    if run.summary is None:  # plan_run always writes one
        raise AssertionError("a plan run made by plan_run has a summary")
    summary = dataclasses.replace(
        run.summary,
        objective_meaning=("priority-weighted completion (Σ weight × completion, working days from the as-of "
                           "date) plus the move cost of each lot that does not keep its previous start"),
        replan=ReplanSummary(changes.counts, weighted, moves,
                             msg("the previous plan repaired to the new facts") if settings.stable else
                             msg("the greedy plan in the best of the planner's order and the priority rules, "
                                 "running lots first")))
    run = dataclasses.replace(run, summary=summary)
    changes = _with_teams(changes, previous, left, compiled, frame, run.tasks,
                          register_units=[u.id for u in teams] + [b.id for b in brigades],
                          idle_weeks=settings.idle_weeks, weekdays=len(cparams.weekdays))
    run = dataclasses.replace(run, id=store.save_plan(run))
    changes = dataclasses.replace(changes, orders=tuple(order_changes(store.task_orders(states=ACTIVE), run)))
    return ReplanOutcome(summary, run, compiled, result, frame, changes, initial)


def by_regions(previous: PlanRun, settings: ReplanSettings) -> bool:
    """Whether the re-plan is solved by regions: asked for, or by default when ``previous`` was planned by regions
    (its summary names its regions); never from scratch."""
    if not settings.stable or settings.decompose is False:
        return False
    made = previous.summary is not None and "decomposed_regions" in previous.summary.details
    return bool(settings.decompose) or made


def _with_teams(changes: ReplanChanges, previous: PlanRun, left: WorkLeft, compiled: CompiledPlan, frame: Frame,
                tasks: Sequence[PlannedTask], *, register_units: Sequence[str], idle_weeks: int,
                weekdays: int) -> ReplanChanges:
    """``changes`` with the per-unit view (``services.teamchanges``) of the saved plan's ``tasks``."""
    moved: dict[str, str] = {m.task_id: Joined(": ", [phrases(m.reason), phrases(m.cause)])
                             if m.cause and m.cause != m.reason else m.reason for m in changes.moved_tasks}
    unpinned = {frame.lots[j].task.task_id: why for j, why in frame.unpinned.items() if j in frame.lots}
    facts = [LotFacts(lot.task,
                      finished_by=(",".join(lot.by) or lot.task.unit_id or "") if lot.status is LotStatus.DONE
                      else None,
                      removed_because=lot.why or msg("no longer needed") if lot.status is LotStatus.REMOVED else None,
                      moved_because=moved.get(tid), not_continuing=unpinned.get(tid), reported_by=lot.by,
                      running=lot.status in (LotStatus.RUNNING, LotStatus.EARLY))
             for tid, lot in sorted(left.lots.items()) if lot.task.kind in WORK_KINDS]
    teams = team_changes(facts, tasks, added={a.task_id: a.reason for a in changes.added_tasks},
                         register_units=register_units, pool_causes=_pool_causes(previous, left, compiled, frame))
    use = unit_use(tasks, units=compiled.units, problem=compiled.problem, calendar=compiled.calendar,
                   min_weeks=idle_weeks, working_days_per_week=weekdays)
    return dataclasses.replace(changes, teams=teams, unit_use=use)


def initial_roles(left: WorkLeft) -> dict[str, str]:
    """The role each unit is set up in at the as-of date: that of the lot it is running, else of the last lot it
    worked on before (a lot done since the previous plan, or the previous plan's history). Units without either are
    in none (their first lot in a borrowed role sets up)."""
    last: dict[str, tuple[int, dt.date, str]] = {}

    def saw(unit: str, rank: int, day: dt.date, role: str) -> None:
        if unit and role and (unit not in last or (rank, day) >= last[unit][:2]):
            last[unit] = (rank, day, role)

    for t in left.history:
        if t.kind in WORK_KINDS:
            for u in (t.unit_id or "").split(","):
                saw(u, 0, t.end_date, t.mode)
    for lot in left.lots.values():
        t = lot.task
        if t.kind not in WORK_KINDS:
            continue
        if lot.status is LotStatus.DONE:
            for u in lot.by or tuple((t.unit_id or "").split(",")):
                saw(u, 0, lot.last_report or t.end_date, t.mode)
        elif lot.status in (LotStatus.RUNNING, LotStatus.EARLY) and lot.unit:
            saw(lot.unit, 1, left.as_of, t.mode)
    return {u: role for u, (_, _, role) in last.items()}


@dataclass(frozen=True)
class UnitPlan:
    """A re-plan with set-up per change of role: the problem its modes index, the schedule, the units per task and
    where it came from (``per-change``: the set-up step on the solver's plan; else the order decoded unit by unit)."""

    problem: Problem
    schedule: Schedule
    assigned: tuple[tuple[str, ...], ...]
    source: str
    applied: bool = True


def _by_units(compiled: CompiledPlan, result: Result, frame: Frame, left: WorkLeft, repaired: Schedule,
              initial: Mapping[str, str], settings: ReplanSettings, deadline: float | None = None,
              max_wait: int | None = None) -> tuple[CompiledPlan, Result, tuple[tuple[str, ...], ...]]:
    """The re-plan as saved, with set-up per change of role: the best, by the re-plan's criterion, of the set-up
    step on the solver's plan (``plan.setups.per_change_setup``, the units of the previous plan preferred: what a
    re-plan saved before) and the plans decoded unit by unit (:func:`unit_plans`) that pass both independent
    checkers, the units' roles at the as-of date given (``initial``). The criterion with ``MovePolicy.FEWEST``:
    whether a lot of the previous plan, other than one moved to make room for another (:func:`made_room`), waits
    longer than ``max_wait`` periods (:func:`lot_waits`; never without a bound), then the fewest moved lots, then the
    objective — so a plan that keeps such a lot waiting years loses to one that keeps every such wait within the
    bound by moving more (by how much the longest exceeds a lower bound, first, chose the set-up step's plan on
    kursk-border: thousands of moves, docs/planning.md); with ``PRICED``, and from scratch, the objective with the
    move cost. The compiled plan (its problem with the modes without set-up), the result (its schedule, objective
    and bound) and the units per task."""
    problem = compiled.problem
    assert result.schedule is not None
    units = [compiled.units[r.name] for r in problem.resources]
    setup = compiled.role_change_days
    step = per_change_setup(problem, result.schedule, units, roles=compiled.roles, home=compiled.home, setup=setup,
                            prefer=frame.prefer)
    fewest = settings.stable and settings.moves is MovePolicy.FEWEST

    bound = max_wait if fewest else None

    def key(plan: UnitPlan) -> tuple[int, int, int]:
        value = objective_value(plan.problem, plan.schedule)
        if not fewest:
            return (0, 0, value)
        return (int(_over_wait(plan.problem, plan.schedule, plan.assigned, frame, bound) > 0),
                len(moved_tasks(plan.problem, plan.schedule)), value)

    best = UnitPlan(step.problem, step.schedule, step.assigned, "per-change", step.applied)
    best_key = key(best)
    tried: dict[str, object] = {"unit_decoded_per_change": best_key[2]}
    for plan in unit_plans(compiled, result, frame, repaired, initial, stable=settings.stable, fewest=fewest,
                           deadline=deadline, max_wait=bound):
        k = key(plan)
        tried[f"unit_decoded_{plan.source}"] = k[2]
        if k < best_key:
            best, best_key = plan, k
    details: dict[str, object] = {**result.details, **tried}
    if bound is not None:
        details |= {"max_wait_days": bound,
                    "max_wait_exceeded_days": _over_wait(best.problem, best.schedule, best.assigned, frame, bound)}
    if frame.continued:
        details |= {"set_up_kept_from_previous": len(frame.continued), "set_up_restored_lots": step.restored}
    if not best.applied:  # the solver's plan as it stands (set-up on every borrowed lot)
        return compiled, dataclasses.replace(result, details=details), best.assigned
    objective = objective_value(best.problem, best.schedule)
    status = Status.FEASIBLE if result.status is Status.OPTIMAL and objective != result.objective else result.status
    details |= {"solved_objective": result.objective,
                "set_up_saved_lots": continued_lots(best.problem, best.schedule, best.assigned, compiled.home)}
    if best.source != "per-change":
        details["unit_decoded_from"] = best.source
    return (dataclasses.replace(compiled, problem=best.problem),
            dataclasses.replace(result, schedule=best.schedule, objective=objective, status=status,
                                lower_bound=setup_lower_bound(best.problem), details=details),
            best.assigned)


def lot_waits(problem: Problem, schedule: Schedule, frame: Frame) -> dict[int, tuple[int, int]]:
    """Per lot of the previous plan that ``schedule`` starts later than it could, (the working days it waits, the
    period from which it could start): from the later of its previous start (none for a lot not started as
    planned) and the end of its predecessors and its release in ``schedule``, to its start, less the periods in
    which a pool of its mode stands down (nothing could start it then). Lots that keep their start or move earlier
    do not wait; a lot added since is not counted (it had no place to keep)."""
    ends = schedule.ends(problem)
    closed: dict[int, npt.NDArray[np.int64]] = {}  # per resource, the closed periods before each period

    def closed_before(r: int) -> npt.NDArray[np.int64]:
        if r not in closed:
            shut = np.zeros(problem.horizon + 1, dtype=np.int64)
            for s, e, _ in problem.resources[r].unavailable:
                shut[max(s, 0):max(min(e, problem.horizon), 0)] = 1
            closed[r] = np.concatenate(([0], np.cumsum(shut)))
        return closed[r]

    out: dict[int, tuple[int, int]] = {}
    for j, old in frame.old_start.items():
        start = schedule.starts[j]
        if old is not None and start <= old:
            continue
        task = problem.tasks[j]
        ready = max([task.release, old or 0, *(ends[a] + lag for a, lag in problem.predecessors[j])])
        if start <= ready:
            continue
        lo, hi = min(ready, problem.horizon), min(start, problem.horizon)
        shut = max((int(c[hi] - c[lo]) for r, _ in task.modes[schedule.modes[j]].demands
                    if problem.resources[r].renewable for c in (closed_before(r),)), default=0)
        if start - ready - shut > 0:
            out[j] = (start - ready - shut, ready)
    return out


def made_room(problem: Problem, schedule: Schedule, assigned: Sequence[Sequence[str]],
              frame: Frame) -> dict[int, tuple[int, str]]:
    """Per lot of the previous plan that ``schedule`` moves and whose previous slot on one of its previous units (its
    previous start and mode) another lot of the previous plan that moved now uses: that lot, the first by start, and
    the unit — the lot moved to make room for it."""
    ends = schedule.ends(problem)
    moved = {j for j, old in frame.old_start.items() if old is None or schedule.starts[j] != old}
    on_unit: dict[str, list[int]] = defaultdict(list)
    for k in sorted(moved, key=lambda k: (schedule.starts[k], k)):
        for unit in assigned[k]:
            on_unit[unit].append(k)
    out: dict[int, tuple[int, str]] = {}
    for j in sorted(moved):
        old, m = frame.old_start[j], frame.modes[j]
        if old is None or m is None:
            continue
        end = old + problem.tasks[j].modes[m].duration
        found = next(((k, unit) for unit in frame.prefer[j] for k in on_unit.get(unit, ())
                      if k != j and schedule.starts[k] < end and ends[k] > old), None)
        if found is not None:
            out[j] = found
    return out


def _over_wait(problem: Problem, schedule: Schedule, assigned: Sequence[Sequence[str]], frame: Frame,
               max_wait: int | None) -> int:
    """The working days by which the longest wait (:func:`lot_waits`) of a lot of the previous plan that the new
    facts moved exceeds ``max_wait`` (0 within it, or without a bound); a lot moved to make room for another
    (:func:`made_room`) is not bound."""
    if max_wait is None:
        return 0
    room = made_room(problem, schedule, assigned, frame)
    return max([0, *(w - max_wait for j, (w, _) in lot_waits(problem, schedule, frame).items() if j not in room)])


def _waited(compiled: CompiledPlan, schedule: Schedule, assigned: Sequence[Sequence[str]],
            frame: Frame) -> tuple[tuple[WaitedLot, ...], tuple[TakenSlot, ...]]:
    """The waits and the slots taken of ``ReplanChanges`` for the plan saved (``waited``, ``taken``): each lot of the
    previous plan that waits (:func:`lot_waits`), longest first; and each lot moved to make room for another
    (:func:`made_room`)."""
    problem, cal = compiled.problem, compiled.calendar
    waits = lot_waits(problem, schedule, frame)
    waited = tuple(WaitedLot(problem.tasks[j].name, cal.date_of(ready), cal.date_of(schedule.starts[j]), w)
                   for j, (w, ready) in sorted(waits.items(), key=lambda kv: (-kv[1][0], kv[0])))
    taken = tuple(TakenSlot(problem.tasks[j].name, problem.tasks[k].name, unit)
                  for j, (k, unit) in made_room(problem, schedule, assigned, frame).items())
    return waited, taken


def _patience(problem: Problem, cost: float) -> list[int]:
    """Per task, the periods it may wait for free time before it takes a slot held for another lot (which then
    moves): ``cost`` over the weight of the task and of all that follows it (a task followed twice by one counts it
    twice, as ``greedy.descendant_weight_rule``); the horizon for a task nothing weighted follows."""
    down = [float(t.weight) for t in problem.tasks]
    for j in reversed(problem.topological_order):
        for k, _ in problem.successors[j]:
            down[j] += down[k]
    return [min(problem.horizon, int(np.ceil(cost / d))) if d > 0 else problem.horizon for d in down]


def _waits(wait: list[int] | None, priced: list[int]) -> str:
    """The name of a decoding's patience (``unit_plans``): the policy's own (none; with ``fewest`` and a bound, the
    bounded wait) or the move cost's (``-priced``)."""
    return "-priced" if wait is priced else ""


def unit_plans(compiled: CompiledPlan, result: Result, frame: Frame, repaired: Schedule,
               initial: Mapping[str, str], *, stable: bool, fewest: bool = True,
               deadline: float | None = None, max_wait: int | None = None) -> list[UnitPlan]:
    """The re-plan decoded unit by unit (``plan.unitlist.unit_list_schedule``), from several orders, each plan kept
    when it passes both independent checkers (``check``; ``check_units`` with the units' roles at the as-of date,
    ``initial``). Running lots pinned at the start keep the unit that reported on them (``fixed``).

    A stable re-plan decodes with soft anchors: each lot at its previous start where it can be, on its previous unit
    first; the previous plan's slots (units and mode, the mode without set-up for a lot that continued a role) held
    for the lots not placed yet, except those that must move by precedences alone. A lot that must move takes a held
    slot only where it finds no free time, or (*priced*) where waiting for free time costs more than the move: the
    move cost over the weight of the lot and all that follows it, in periods (:func:`_patience`). Orders: the
    previous plan's (its lots at their previous starts, the others where the repaired plan puts them, or as early as
    they may start), and the solver's; with ``fewest`` (``MovePolicy.FEWEST``) each without taking held slots and the
    previous plan's order priced too, else the other way round; and the previous plan's order with its lots
    without a start placed as the previous plan repaired at ten times the move cost places them, decoded as the
    first and with ten times the patience (``previous-calm``, ``previous-patient``). With ``fewest`` and
    ``max_wait`` (periods), a lot of the previous plan does not wait for free time without bound: it takes held
    slots where free time would end it more than ``max_wait`` periods later (lots added since still wait), and the
    lot moved to make room waits for free time (``chain`` 1); the priced and patient decodings keep their patience.
    From scratch: no anchors, the solver's and the best heuristic plan's orders, as a first plan. ``deadline`` (a
    ``time.perf_counter()`` value): no decoding is started after it once one plan is decoded."""
    problem = compiled.problem
    assert result.schedule is not None
    units = [compiled.units[r.name] for r in problem.resources]
    setup = compiled.role_change_days
    exact, cont = with_continuing_modes(problem)
    known = {u for us in units for u in us}
    fixed: dict[int, tuple[str, ...]] = {}
    taken: set[str] = set()
    for j, lot in sorted(frame.lots.items()):
        if (lot.status in (LotStatus.RUNNING, LotStatus.EARLY) and j not in frame.unpinned
                and problem.tasks[j].deadline is not None and lot.unit in known and lot.unit not in taken):
            fixed[j] = (lot.unit,)
            taken.add(lot.unit)
    runs: list[tuple[str, Schedule, list[int] | None]] = []
    holds: dict[int, Hold] = {}
    bounded: list[int] | None = None  # with ``fewest`` and ``max_wait``: each lot's patience
    if stable:
        first = earliest(exact).starts  # with the modes without set-up: each lot as early as any plan may start it
        cal = compiled.calendar
        for j, old in frame.old_start.items():
            m = frame.modes[j]
            lot = frame.lots[j]
            if old is None or m is None or first[j] > old or problem.tasks[j].anchor != old or not frame.prefer[j]:
                continue
            mode = problem.tasks[j].modes[m]
            days = cal.index_of(lot.task.end_date) + 1 - old if lot.status is LotStatus.PENDING else mode.duration
            holds[j] = Hold(tuple(frame.prefer[j]), cont.get((j, m), m) if mode.setup and days < mode.duration
                            else m)
        previous, early = (Schedule(tuple(old if (old := frame.old_start.get(j)) is not None else other[j]
                                          for j in range(len(problem.tasks))), repaired.modes)
                           for other in (repaired.starts, first))
        priced = _patience(problem, frame.move_cost)
        if fewest and max_wait is not None:
            bounded = [max_wait if j in frame.old_start else problem.horizon for j in range(len(problem.tasks))]
        main, other = (bounded, priced) if fewest else (priced, None)
        # The previous order with the lots without a start placed as the previous plan repaired at ten times the
        # move cost places them, and ten times the patience: after the replan-week benchmark's week on kursk-border
        # (one run, 2026-12-08) the re-plan at ten times the move cost moved fewer lots than the default's
        # decodings (37 against 55) and ended better, and so it did on the small replan-week store (8 against 20);
        # with these two decodings the default found the same 8 there.
        patient = _patience(problem, 10 * frame.move_cost)
        # The patient decoding's order: the lots without a start where the previous plan repaired at ten times the
        # move cost puts them (later, rather than in slots other lots hold).
        calm = warm_start(problem.replace(move_cost=10 * frame.move_cost), frame.order, frame.modes,
                          deadline=deadline)
        patient_order = Schedule(tuple(old if (old := frame.old_start.get(j)) is not None else calm.starts[j]
                                       for j in range(len(problem.tasks))), calm.modes)
        # The decodings that won on kursk-border first (calm by fewest moves, patient priced; one run each,
        # 2026-12-08): past the deadline no other is started.
        calm_run = (f"previous-calm{_waits(main, priced)}", patient_order, main)
        patient_run = ("previous-patient", patient_order, patient)
        runs = [calm_run, patient_run] if fewest else [patient_run, calm_run]
        runs += [(f"previous{_waits(w, priced)}", previous, w) for w in (main, other)]
        runs += [(f"previous-early{_waits(main, priced)}", early, main), (f"solver{_waits(main, priced)}",
                                                                          result.schedule, main)]
        decode_on = problem
    else:
        runs = [("solver", result.schedule, None)]
        if result.heuristic is not None and result.heuristic != result.schedule:
            runs.append(("heuristic", result.heuristic, None))
        decode_on = without_anchors(problem)
    out: list[UnitPlan] = []
    for name, given, wait in runs:
        if out and deadline is not None and time.perf_counter() > deadline:
            break  # the time limit bounds the whole re-plan: the best so far
        # Running lots pinned at the start first, so that their units are theirs.
        order = Schedule(tuple(-1 if j in fixed else t for j, t in enumerate(given.starts)), given.modes)
        decoded = unit_list_schedule(decode_on, order, units, roles=compiled.roles, home=compiled.home, setup=setup,
                                     initial=initial, fixed=fixed, soft_anchors=stable, holds=holds or None,
                                     prefer=frame.prefer if stable else None, patience=wait,
                                     chain=1 if wait is bounded and wait is not None else None)
        if decoded is None:
            continue
        schedule, assigned = decoded
        if check(exact, schedule) or check_units(exact, schedule, assigned, roles=compiled.roles,
                                                 home=compiled.home, setup=setup, initial=initial):
            continue
        out.append(UnitPlan(exact, schedule, assigned, name))
    return out


def _scratch_priority(problem: Problem, planner: Sequence[float]) -> list[float]:
    """The priority order for a re-plan from scratch: the best (by the objective of the serial scheme's plan) of the
    planner's order and the priority rules ``solve`` tries (descendant weight, unlock ratio), with the running lots
    first. ``solve`` tries those rules itself, but a running lot must start at 0 (it has a deadline), which a rule
    that does not place it first misses."""
    best: tuple[float, list[float]] | None = None
    for rule in (list(planner), descendant_weight_rule(problem), unlock_ratio_rule(problem)):
        first = max(rule, default=0.0) + 1.0
        priority = [first if t.deadline is not None else rule[j] for j, t in enumerate(problem.tasks)]
        try:
            value = float(objective_value(problem, serial_sgs(problem, priority)))
        except PlanError:
            continue
        if best is None or value < best[0]:
            best = (value, priority)
    return best[1] if best is not None else list(planner)


def _info_key(info: TaskInfo) -> WorkKey:
    """The piece of work a compiled task belongs to."""
    if info.kind is TaskKind.REPAIR:
        return ("repair", info.asset_id or "", info.trade.value if info.trade else "")
    return (info.kind, info.hazard_id or "", "")


def _median_weight(problem: Problem) -> float:
    weights = [t.weight for t in problem.tasks if t.weight > 0]
    return statistics.median(weights) if weights else 1.0


def build_frame(compiled: CompiledPlan, left: WorkLeft, *, move_cost_days: float,
                keep_continued: bool = False) -> Frame:
    """The re-plan problem: anchors, running lots pinned, methods kept, the previous order (module docstring);
    ``keep_continued``: lots that continued a role keep their mode without set-up (``ReplanSettings``)."""
    p = compiled.problem
    cal = compiled.calendar
    n = len(p.tasks)
    tasks = list(p.tasks)
    lots: dict[int, Lot] = {}
    old_start: dict[int, int | None] = {}
    modes: list[int | None] = [None] * n
    key: list[float | None] = [None] * n
    prefer: list[tuple[str, ...]] = [()] * n
    continued: list[int] = []
    for j, t in enumerate(p.tasks):
        if all(not m.demands for m in t.modes):
            key[j] = -2e9  # milestones: as soon as they may
            continue
        lot = left.lots.get(t.name)
        if lot is None:
            continue
        lots[j] = lot
        old = cal.index_of(lot.task.start_date) if lot.task.start_date >= left.as_of else None
        m_old = planned_mode(p, j, lot.task.mode, lot.task.resource)
        planned_units = tuple(u for u in (lot.task.unit_id or "").split(",") if u)
        if lot.status in (LotStatus.RUNNING, LotStatus.EARLY):
            if m_old is not None:
                tasks[j] = dataclasses.replace(t, modes=(t.modes[m_old],), anchor=0)
                modes[j] = 0
            else:
                tasks[j] = dataclasses.replace(t, anchor=0)
            old_start[j] = 0 if lot.status is LotStatus.RUNNING else old
            key[j] = -1e9
            prefer[j] = (lot.unit,) if lot.unit else planned_units
        else:
            modes[j] = m_old
            prefer[j] = planned_units
            if lot.status is LotStatus.PENDING and old is not None:
                days = cal.index_of(lot.task.end_date) + 1 - old
                planned = t.modes[m_old] if m_old is not None else None
                if planned is not None and planned.setup and planned.duration - planned.setup == days:
                    continued.append(j)  # it continued its unit's role: kept below where the unit still can
                tasks[j] = dataclasses.replace(t, anchor=old)
                old_start[j] = old
                key[j] = float(old)
            else:  # late: its start has passed
                old_start[j] = None
                key[j] = float((lot.task.start_date - left.as_of).days)
    # New lots go after the lots of their piece of work; work new to the plan after everything, by priority.
    group_key: dict[tuple[str, str, str], float] = defaultdict(lambda: -1e9)
    for j, lot in lots.items():
        if key[j] is not None:
            group_key[lot.key] = max(group_key[lot.key], key[j] or 0.0)
    top = max(compiled.priority, default=0.0)
    for j, info in enumerate(compiled.info):
        if key[j] is None:
            gk = _info_key(info)
            key[j] = group_key[gk] + 0.5 if gk in group_key else 1e6 + top - compiled.priority[j]
    weight = _median_weight(p)
    move_cost = max(1, round(move_cost_days * weight)) if move_cost_days > 0 else 0
    unpinned: dict[int, str] = {}
    anchored = p.replace(tasks=tuple(tasks), move_cost=move_cost)
    first = propagate(anchored, modes)
    pins: dict[str, list[tuple[int, int]]] = defaultdict(list)  # resource → (task, duration)
    for j, lot in lots.items():
        if lot.status not in (LotStatus.RUNNING, LotStatus.EARLY):
            continue
        mode = anchored.tasks[j].modes[0]
        resource = anchored.resources[mode.demands[0][0]].name if mode.demands else ""
        if lot.unit is not None and lot.unit not in compiled.units.get(resource, ()):
            unpinned[j] = msg("team lost")
        elif first.starts[j] != 0:
            unpinned[j] = (msg("winter stand-down") if first.pushed_by[j] == NOT_PUSHED
                           else msg("waits for a predecessor"))
        else:
            pins[resource].append((j, mode.duration))
    for resource, items in pins.items():
        r = next(i for i, res in enumerate(anchored.resources) if res.name == resource)
        cap = anchored.capacity_profile(r)
        load = [0] * len(cap)
        for j, d in sorted(items, key=lambda x: (-x[1], x[0])):
            if all(load[k] < cap[k] for k in range(d)):
                for k in range(d):
                    load[k] += 1
                tasks[j] = dataclasses.replace(anchored.tasks[j], release=0, deadline=d)
            else:
                unpinned[j] = (msg("team lost") if len(compiled.units.get(resource, ())) < len(items)
                               else msg("pool busy"))
    order = [-(k if k is not None else 0.0) for k in key]
    sequences: dict[str, list[tuple[int, dt.date, int]]] = defaultdict(list)
    for j, lot in lots.items():
        running = lot.status in (LotStatus.RUNNING, LotStatus.EARLY)
        unit = lot.unit if running else (lot.task.unit_id or "").split(",")[0]
        if unit:
            sequences[unit].append((0 if running else 1, lot.task.start_date, j))
    chains = tuple(Precedence(a[2], b[2]) for seq in sequences.values() for a, b in itertools.pairwise(sorted(seq)))
    keep = _still_continuing(continued, tasks, modes, sequences, old_start, setup=compiled.role_change_days) \
        if keep_continued else {}
    for j in keep:
        t, m = tasks[j], modes[j]
        if m is not None:
            tasks[j] = dataclasses.replace(t, modes=(*t.modes, continuing_mode(t.modes[m])))
            modes[j] = len(t.modes)
    # A lot that continues a role stays after the lot of its unit it continues, so that unit is free for it.
    after = tuple(Precedence(prev, j) for j, prev in keep.items() if prev is not None)
    problem = p.replace(tasks=tuple(tasks), move_cost=move_cost, precedences=p.precedences + after)
    continued = list(keep)
    return Frame(problem, lots, old_start, modes, order, prefer, unpinned, move_cost, chains, tuple(continued))


def _still_continuing(candidates: Sequence[int], tasks: Sequence[Task], modes: Sequence[int | None],
                      sequences: Mapping[str, Sequence[tuple[int, dt.date, int]]], old_start: Mapping[int, int | None],
                      *, setup: int) -> dict[int, int | None]:
    """Of the lots that ran without set-up in the previous plan (``candidates``), those whose unit can still do them
    so at their previous start: after a pending lot of the unit in the same role; after a running lot (which takes
    its set-up again, ``build_frame``) only when that lot ends by then; as the unit's first lot left (the lot before
    it is done) only when ``setup`` days come before it, in which the unit may set up (``plan.check_units``)."""
    before: dict[int, int | None] = {}
    for seq in sequences.values():
        ordered = sorted(seq)
        for k, (_, _, j) in enumerate(ordered):
            before[j] = ordered[k - 1][2] if k else None
    out: dict[int, int | None] = {}
    for j in candidates:
        old, m = old_start.get(j), modes[j]
        if old is None or m is None or j not in before:
            continue
        role = tasks[j].modes[m].name
        prev = before[j]
        if prev is None:
            keep = old >= setup
        elif tasks[prev].anchor == 0 and (end := tasks[prev].deadline) is not None:  # running, pinned at the start
            keep = old >= end and tasks[prev].modes[0].name == role
        else:
            pm = modes[prev]
            keep = pm is not None and tasks[prev].modes[pm].name == role
        if keep:
            out[j] = prev
    return out


def _finished(left: WorkLeft) -> list[PlannedTask]:
    """Lots finished since the previous plan, as history: the days work was reported on them, and the unit."""
    out = []
    for lot in left.lots.values():
        if lot.status is not LotStatus.DONE:
            continue
        t = lot.task
        end = min(lot.last_report or t.end_date, left.as_of - dt.timedelta(days=1))
        start = min(lot.first_report or t.start_date, end)
        out.append(dataclasses.replace(t, start_date=start, end_date=end, work=lot.done or t.work,
                                       unit_id=",".join(lot.by) if lot.by else t.unit_id))
    return out


def _shift(previous_cal: Calendar, old: dt.date, new: dt.date) -> int:
    return previous_cal.index_of(new) - previous_cal.index_of(old)


def describe_changes(previous: PlanRun, left: WorkLeft, compiled: CompiledPlan, frame: Frame, prop: Propagation,
                     repaired: Schedule, result: Result, *, stable: bool, earliest: Propagation,
                     assigned: Sequence[Sequence[str]] | None = None) -> ReplanChanges:
    """What changed from the previous plan and why (see the module docstring): counts and, per lot, the details.

    ``prop`` is the previous plan pushed forward team by team (``Frame.pushed_forward``); ``earliest`` the earliest
    start of every task by precedences, releases and stand-downs alone: a lot whose earliest start is after its
    previous start must move in every plan.
    """
    problem = compiled.problem
    cal = compiled.calendar
    schedule = result.schedule
    plan_start = previous.start_date
    horizon_end = cal.date_of(cal.working_days - 1)
    prev_cal = Calendar(plan_start, weekdays=previous.params.weekdays, holidays=previous.params.holidays,
                        horizon_days=(horizon_end - plan_start).days + 7)
    pools = _pool_causes(previous, left, compiled, frame)
    status = Counter(lot.status.value for lot in left.lots.values())
    pushed = [j for j, old in frame.old_start.items() if old is None or prop.starts[j] != old]
    must = [j for j, old in frame.old_start.items() if old is None or earliest.starts[j] > old]
    repair_moved = [j for j, old in frame.old_start.items() if old is None or repaired.starts[j] != old]
    moved: list[MovedLot] = []
    team_changed = 0
    if schedule is not None:
        units = [",".join(a) for a in assigned] if assigned is not None else _units(problem, schedule, compiled, frame)
        reasons = _explain(compiled, schedule, frame, left, pools)
        for j, old in sorted(frame.old_start.items()):
            lot = frame.lots[j]
            new = schedule.starts[j]
            if old is not None and new == old:
                if units[j] and lot.task.unit_id and units[j] != lot.task.unit_id and lot.status is LotStatus.PENDING:
                    team_changed += 1
                continue
            reason, cause = reasons[j]
            new_date = cal.date_of(new)
            old_date = lot.task.start_date if lot.status is not LotStatus.RUNNING else left.as_of
            duration = problem.tasks[j].modes[schedule.modes[j]].duration
            moved.append(MovedLot(problem.tasks[j].name, lot.status, old_date, new_date,
                                  _shift(prev_cal, old_date, new_date), reason, cause, j in must,
                                  old_end=lot.task.end_date, new_end=cal.end_date_of(new + duration),
                                  old_unit=lot.task.unit_id, new_unit=units[j] or None))
    shifts = [m.shift_working_days for m in moved]
    added = []
    for j, t in enumerate(problem.tasks):
        info = compiled.info[j]
        if j in frame.lots or info.kind not in WORK_KINDS:
            continue
        k = _info_key(info)
        why = left.added[k][1] if k in left.added else msg("new in the register")
        added.append(AddedLot(t.name, why, round(info.work, 1), info.work_unit))
    removed = [RemovedLot(lot.task.task_id, lot.why) for lot in left.lots.values()
               if lot.status is LotStatus.REMOVED]
    finished = [FinishedLot(lot.task.task_id, round(lot.done, 1), lot.task.work_unit, ",".join(lot.by))
                for lot in left.lots.values() if lot.status is LotStatus.DONE]
    fewest = result.details.get("fewest_moves")
    fewest_bound = result.details.get("fewest_moves_bound")
    proven = result.details.get("fewest_moves_proven")
    anchored_moved = len(moved_tasks(problem, schedule)) if schedule is not None else None
    if isinstance(fewest_bound, int) and anchored_moved is not None and anchored_moved < fewest_bound:
        # The solver's bound holds for its problem on pools, in which every lot in a borrowed role sets up; a plan
        # decoded unit by unit (set-up per change of role) may move fewer. What holds for it: the lots that must
        # move by precedences and stand-downs alone, in any mode.
        fewest_bound = sum(1 for j in problem.anchored if earliest.starts[j] > (problem.tasks[j].anchor or 0))
        proven = isinstance(fewest, int) and min(fewest, anchored_moved) <= fewest_bound
    if isinstance(fewest, int) and anchored_moved is not None and anchored_moved < fewest:
        # The fewest moves search stops at its share of the time; the plan after it may move fewer still.
        fewest = anchored_moved
        proven = isinstance(fewest_bound, int) and fewest <= fewest_bound
    counts = ReplanCounts(
        previous_plan_id=previous.id,
        previous_start_date=plan_start,
        as_of=left.as_of,
        progress_from=left.progress_from,
        progress_reports=left.reports_used,
        stable=stable,
        move_cost=problem.move_cost,
        lots_compared=len(frame.old_start),
        finished=status.get("done", 0),
        running=status.get("running", 0),
        started_early=status.get("early", 0),
        not_started_as_planned=status.get("late", 0),
        removed=len(removed),
        removed_by_reason=dict(Counter(r.reason for r in removed).most_common()),
        added=len(added),
        added_by_reason=dict(Counter(a.reason for a in added).most_common()),
        moved=len(moved),
        moved_earlier=sum(1 for s in shifts if s < 0),
        moved_later=sum(1 for s in shifts if s > 0),
        shift_working_days=(ShiftStats(min(shifts), statistics.median(shifts), max(shifts)) if shifts else None),
        moved_by_reason=dict(Counter(m.reason for m in moved).most_common()),
        moved_by_cause=dict(Counter(m.cause for m in moved if m.cause).most_common()),
        must_move=len(must),
        anchored_moved=anchored_moved,
        fewest_moves=fewest if isinstance(fewest, int) else None,
        fewest_moves_bound=fewest_bound if isinstance(fewest_bound, int) else None,
        fewest_moves_proven=proven if isinstance(proven, bool) else None,
        pushed_forward=len(pushed),
        repair_moved=len(repair_moved),
        team_changed=team_changed,
        pinned_running=sum(1 for j, lot in frame.lots.items()
                           if lot.status in (LotStatus.RUNNING, LotStatus.EARLY) and j not in frame.unpinned),
        running_not_continuing=dict(Counter(frame.unpinned.values()).most_common()),
    )
    return ReplanChanges(counts, tuple(left.notes), tuple(moved), tuple(added), tuple(removed), tuple(finished))


def _units(problem: Problem, schedule: Schedule, compiled: CompiledPlan, frame: Frame) -> list[str]:
    from sapper.plan.assign import assign_units

    units = [compiled.units[r.name] for r in problem.resources]
    return [",".join(u) for u in assign_units(problem, schedule, units, prefer=frame.prefer)]


def _pool_causes(previous: PlanRun, left: WorkLeft, compiled: CompiledPlan, frame: Frame) -> dict[str, str]:
    """What takes more of each pool's time than the previous plan did: its lots running longer than planned, lots
    not started, lots added, units lost. The cause named for a lot that moved because its pool was busier."""
    problem = compiled.problem
    cal = compiled.calendar
    found: dict[str, set[str]] = defaultdict(set)
    old: dict[str, set[str]] = defaultdict(set)
    for t in previous.tasks:
        if t.resource and t.unit_id:
            old[t.resource].update(u for u in t.unit_id.split(",") if u)
    for pool, ids in old.items():
        if ids - set(compiled.units.get(pool, ())):
            found[pool].add(msg("team lost"))
    for j, lot in frame.lots.items():
        pool = lot.task.resource
        if lot.status is LotStatus.LATE:
            found[pool].add(msg("not started as planned"))
        elif j in frame.unpinned:
            found[pool].add(frame.unpinned[j])
        elif lot.status is LotStatus.RUNNING:
            planned_end = cal.index_of(lot.task.end_date) + 1 if lot.task.end_date >= left.as_of else 0
            if problem.tasks[j].modes[0].duration > planned_end:
                found[pool].add(msg("slower than planned"))
    for j, info in enumerate(compiled.info):
        if j in frame.lots or info.kind not in WORK_KINDS:
            continue
        k = _info_key(info)
        for mode in problem.tasks[j].modes:
            for r, _ in mode.demands:
                found[problem.resources[r].name].add(left.added[k][1] if k in left.added
                                                     else msg("new in the register"))
    return {pool: ", ".join(sorted(causes)) for pool, causes in found.items()}


def _explain(compiled: CompiledPlan, schedule: Schedule, frame: Frame, left: WorkLeft,
             pools: Mapping[str, str]) -> dict[int, tuple[str, str]]:
    """(reason, cause) of each lot of the previous plan that ``schedule`` moves, read off the new plan itself: what
    stops the lot from starting where it did before. In precedence order, so a lot late because of a predecessor
    carries that predecessor's cause (a milestone passes on the cause of its latest predecessor)."""
    problem = compiled.problem
    ends = schedule.ends(problem)
    horizon = problem.horizon
    load: dict[int, np.ndarray] = {}
    cap = {r: np.asarray(problem.capacity_profile(r), dtype=np.int64) for r in problem.renewable}
    for r in problem.renewable:
        use = np.zeros(max(horizon, *ends, 0) + 2, dtype=np.int64)
        for j, task in enumerate(problem.tasks):
            mode = task.modes[schedule.modes[j]]
            for rr, u in mode.demands:
                if rr == r and mode.duration:
                    use[schedule.starts[j]] += u
                    use[ends[j]] -= u
        load[r] = np.cumsum(use)
    late: dict[int, str] = {}  # why each task ends when it does, passed on to its successors
    out: dict[int, tuple[str, str]] = {}
    busy: list[tuple[int, int, int, int]] = []  # (lot, resource, from, to): its old slot is taken in its pool

    def latest_pred(j: int) -> tuple[int, int] | None:
        found = [(ends[p] + lag, p) for p, lag in problem.predecessors[j]]
        return max(found) if found else None

    def cause_of(j: int, binding: tuple[int, int]) -> str:
        """The cause a lot late for its predecessor carries: a brigade's report that the asset is blocked by the
        hazard area whose release it waits for, else the predecessor's own."""
        info, pred = compiled.info[j], compiled.info[binding[1]]
        if info.kind is TaskKind.REPAIR and pred.kind is TaskKind.RELEASED and \
                pred.hazard_id in left.blocked.get(info.asset_id or "", ()):
            return msg("reported blocked by hazard area {hazard}", hazard=pred.hazard_id)
        return late.get(binding[1], "")

    def why_not_at(j: int, old: int) -> tuple[str, str]:
        lot = frame.lots[j]
        if lot.status is LotStatus.LATE:
            return msg("not started as planned"), ""
        if lot.status is LotStatus.EARLY:
            return msg("started early"), ""
        binding = latest_pred(j)
        if j in frame.unpinned:
            return frame.unpinned[j], cause_of(j, binding) if binding and binding[0] > 0 else ""
        if binding is not None and binding[0] > old:
            return msg("predecessor late"), cause_of(j, binding)
        start = schedule.starts[j]
        if start < old:
            return msg("optimiser's choice"), msg("moved earlier")
        mode = problem.tasks[j].modes[schedule.modes[j]]
        span = slice(old, min(old + mode.duration, horizon))
        for r, u in mode.demands:
            if r not in cap:
                continue
            if (cap[r][span] < u).any():
                # the old slot was clear of it for the old lot
                return msg("winter stand-down"), msg("longer than planned")
            own = np.zeros(span.stop - span.start, dtype=np.int64)
            t0, t1 = max(start, old), min(ends[j], span.stop)
            if t1 > t0:
                own[t0 - old:t1 - old] = u
            if (load[r][span] - own + u > cap[r][span]).any():
                busy.append((j, r, span.start, span.stop))
                return msg("pool busy"), pools.get(problem.resources[r].name, "")
        return msg("optimiser's choice"), ""

    for j in problem.topological_order:
        task = problem.tasks[j]
        old = frame.old_start.get(j, -1)
        lot = frame.lots.get(j)
        if lot is not None and (old is None or schedule.starts[j] != old):
            out[j] = why_not_at(j, old if old is not None else 0)
            late[j] = out[j][1] or (out[j][0] if out[j][0] != "pool busy" else "")
        elif all(not m.demands for m in task.modes):
            binding = latest_pred(j)
            late[j] = late.get(binding[1], "") if binding else ""
        elif lot is None:
            k = _info_key(compiled.info[j])
            late[j] = left.added[k][1] if k in left.added else msg("new in the register")
        elif lot.status is LotStatus.RUNNING:
            late[j] = msg("slower than planned")
        else:
            late[j] = msg("longer than planned")
    # A lot whose old slot is taken: the cause of the moved or new lots that took it (they may have been pushed
    # there themselves, so a few rounds), else what its pool lost or gained, else "other lots moved".
    by_resource: dict[int, list[int]] = defaultdict(list)
    for j in range(len(problem.tasks)):
        if j in out or j not in frame.lots:
            for r, _ in problem.tasks[j].modes[schedule.modes[j]].demands:
                by_resource[r].append(j)
    for _ in range(5):
        changed = False
        for j, r, a, b in busy:
            takers = Counter(late[k] for k in by_resource[r]
                             if k != j and schedule.starts[k] < b and ends[k] > a and late.get(k))
            cause = out[j][1] or (takers.most_common(1)[0][0] if takers else "")
            if cause != out[j][1]:
                out[j] = (msg("pool busy"), cause)
                late[j] = cause
                changed = True
        if not changed:
            break
    for j, _, _, _ in busy:
        if not out[j][1]:
            out[j] = (msg("pool busy"), msg("other lots moved"))
    return out


def write_replan_json(outcome: ReplanOutcome, path: str | Path) -> Path:
    """Write the re-plan's summary, every planned task and every change (with its reason) to ``path`` as JSON."""
    path = Path(path)
    doc = plan_document(outcome.summary, outcome.run.tasks)
    doc["changes"] = changes_to_json(outcome.changes)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def changes_to_json(changes: ReplanChanges) -> JsonObject:
    """The changes as the ``changes`` object of the re-plan's plan.json: the counts, the notes, then every lot."""
    doc = replan_counts_to_json(changes.counts)
    doc["notes"] = list(changes.notes)
    doc["moved_tasks"] = [{"task_id": m.task_id, "status": m.status.value, "old_start": m.old_start.isoformat(),
                           "new_start": m.new_start.isoformat(), "old_end": _day(m.old_end),
                           "new_end": _day(m.new_end), "old_unit": m.old_unit, "new_unit": m.new_unit,
                           "shift_working_days": m.shift_working_days,
                           "reason": m.reason, "cause": m.cause, "must_move": m.must_move}
                          for m in changes.moved_tasks]
    doc["added_tasks"] = [{"task_id": a.task_id, "reason": a.reason, "work": a.work, "work_unit": a.work_unit}
                          for a in changes.added_tasks]
    doc["removed_tasks"] = [{"task_id": r.task_id, "reason": r.reason} for r in changes.removed_tasks]
    doc["finished_tasks"] = [{"task_id": f.task_id, "work": f.work, "work_unit": f.work_unit, "by": f.by}
                             for f in changes.finished_tasks]
    orders: dict[str, list[OrderChange]] = defaultdict(list)
    for o in changes.orders:
        orders[o.unit_id].append(o)
    teams = {tc.unit_id: tc for tc in changes.teams}
    doc["teams"] = [{"unit_id": unit, "changes": [
        {"task_id": c.task_id, "change": c.kind.value, "task_kind": c.task_kind.value, "target": c.target,
         "old_unit": c.old_unit, "new_unit": c.new_unit, "old_start": _day(c.old_start), "old_end": _day(c.old_end),
         "new_start": _day(c.new_start), "new_end": _day(c.new_end), "reason": c.reason}
        for c in (teams[unit].changes if unit in teams else ())],
        "orders": [change_to_json(o) for o in orders.get(unit, ())]}
        for unit in sorted(set(teams) | set(orders))]
    doc["max_wait_days"] = changes.max_wait_days
    doc["waited_lots"] = [{"task_id": w.task_id, "could_start": w.could_start.isoformat(),
                           "new_start": w.new_start.isoformat(), "working_days": w.working_days}
                          for w in changes.waited]
    doc["slots_taken"] = [{"task_id": t.task_id, "by": t.by, "unit": t.unit} for t in changes.taken]
    use = changes.unit_use
    if use is not None:
        doc["idle_units"] = {"min_weeks": use.min_weeks, "unused": list(use.unused), "idle": [
            {"unit_id": s.unit_id, "first_day": s.first_day.isoformat(), "last_day": s.last_day.isoformat(),
             "working_days": s.working_days, "after_last_lot": s.after_last_lot} for s in use.idle]}
    return doc


def _day(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def change_lines(changes: ReplanChanges) -> list[str]:
    """What changed, in a few lines for a person (messages: said in the user's language; reasons phrase by phrase)."""
    c = changes.counts
    out: list[str] = [
        msg("re-plan of plan run {plan} as of {day} ({reports} progress reports)", plan=c.previous_plan_id,
            day=c.as_of.isoformat(), reports=c.progress_reports),
        msg("lots: {finished} finished, {running} continuing, {early} started early, {late} not started as planned, "
            "{removed} removed, {added} added", finished=c.finished, running=c.running, early=c.started_early,
            late=c.not_started_as_planned, removed=c.removed, added=c.added),
        msg("moved: {moved} of {compared} lots ({earlier} earlier, {later} later); {must} must move in any plan, "
            "{pushed} move when the previous plan is pushed forward team by team, the repaired previous plan moves "
            "{repaired}", moved=c.moved, compared=c.lots_compared, earlier=c.moved_earlier, later=c.moved_later,
            must=c.must_move, pushed=c.pushed_forward, repaired=c.repair_moved)]
    if c.fewest_moves_bound is not None:
        proven = msg("the minimum (proven)") if c.fewest_moves_proven else msg(
            "no plan moves fewer than {bound}", bound=c.fewest_moves_bound)
        out.append(msg("lots with a previous start still ahead that moved: {moved}; fewest found: {fewest}, {proven}",
                       moved=c.anchored_moved, fewest=c.fewest_moves, proven=proven))
    sh = c.shift_working_days
    if sh:
        out.append(msg("shift in working days: min {min}, median {median}, max {max}", min=sh.min,
                       median=f"{sh.median:g}", max=sh.max))
    for name, counts in ((msg("moved, by reason"), c.moved_by_reason),
                         (msg("moved, by first cause"), c.moved_by_cause),
                         (msg("removed, by reason"), c.removed_by_reason),
                         (msg("added, by reason"), c.added_by_reason),
                         (msg("running lots that do not simply continue"), c.running_not_continuing)):
        if counts:
            listed = Joined("; ", [msg("{reason} {n}", reason=phrases(k), n=v) for k, v in counts.items()])
            out.append(msg("{name}: {counts}", name=name, counts=listed))
    if changes.waited:
        w = changes.waited[0]
        bound = (msg("; at most {days} allowed before a lot takes another's slot", days=changes.max_wait_days)
                 if changes.max_wait_days is not None else "")
        out.append(msg_n("waiting for a free unit: {n} lot; the longest wait: {task}, {days} working days from {day}"
                         "{bound}", "waiting for a free unit: {n} lots; the longest wait: {task}, {days} working days "
                         "from {day}{bound}", len(changes.waited), task=w.task_id, days=w.working_days,
                         day=w.could_start.isoformat(), bound=bound))
    if changes.taken:
        shown = Joined("; ", [msg("{task} for {by} (on {unit})", task=t.task_id, by=t.by, unit=t.unit)
                              for t in changes.taken[:5]])
        more = msg(" and {n} more", n=len(changes.taken) - 5) if len(changes.taken) > 5 else ""
        out.append(msg("moved to make room for a lot that had to move: {lots}{more}", lots=shown, more=more))
    out += [msg("note: {note}", note=phrases(n)) for n in changes.notes]
    return out + team_lines(changes.teams, changes.unit_use, changes.orders)
