"""Regional decomposition: one problem solved as independent regions sharing its pools, then coordinated.

A national register is too large to optimise as one problem in minutes, but its work falls into regions (oblasts) that
share only the pools of teams and brigades. This module splits a :class:`Problem` by a region label per task and
solves the regions side by side (``map`` runs them: in turn, or on Dask workers — the service supplies it).

* **Regions.** A task's region is its label; tasks joined by precedences are kept in one region (the region of the
  lowest-indexed task of the chain), so no precedence crosses regions.
* **Shares.** Each pool is split into per-region shares, proportional to the work each region asks of it (at least one
  unit where a region needs the pool). A share is a number of units per period that may change over time; a region's
  capacity in each period is ``floor(available × share / capacity)``, where ``available`` is the whole pool's capacity
  in that period (its stand-downs included). The shares never add up to more than the pool, so the regions' schedules
  together never use more than the whole problem's capacity: the merged schedule is feasible for the whole problem,
  which :func:`sapper.plan.solution.check` verifies.
* **Time.** The regions share the workers' time equally, no worker idle (:func:`packing`, McNaughton's wrap-around
  rule): three regions on two workers get two thirds of the time each (in waves, half each and one worker idle for
  half the time), one region solved in two pieces on two workers, the second from the first's plan.
* **Coordination.** Round 0 is the heuristics' plans of every region (the greedy plans any solve makes first): the
  moves are decided on those, at no more than the heuristics' cost. Before each batch of solves (at most ``rounds``
  times), for each pool, a region whose plan leaves some of its units idle for good from some day on — all of them
  once its work with the pool is done, some of them once its load falls — gives those units from that day on to the
  regions still working with the pool later (in proportion to their work left), which receive them ``travel_days``
  later: the units are in neither region while they travel and set up. Every solve then improves its region's
  current plan (a warm start), which is still feasible under the new shares: the giver never used what it gave, the
  receiver only gained capacity. A region keeps its plan when a solve finds no better one, so each region ends no
  worse than its round 0. What the moves gain against what the heuristics' round costs is measured on
  national-synthetic (docs/benchmarks.md); before, round 0 was an optimisation with half the limit, and the time the
  later rounds took from it was not paid back there.

* **Re-plans** (``start``: the previous plan repaired to the new facts, its tasks anchored at their previous starts,
  ``sapper replan`` of a plan made by regions). The regions are the plan's; each region's capacity of a pool is, in
  each block of ``START_BLOCK`` periods, the most its part of ``start`` uses in the block, and the pool's spare there
  (what no region's part uses) goes to the regions in proportion to the work they have left with the pool from that
  block on (:func:`start_capacities`): the capacities never add up to more than the pool, and every region's part of
  ``start`` fits its own, so each region's solve improves its part (``solve(start=..., moves=...)``: anchors, the move
  cost and the move policy are the region's) and keeps it when it finds no better. The previous plan's coordination
  is in its use of the pools, so no round of coordination follows (the shares are capacities, not units of a pool:
  they follow the stand-downs exactly and cannot be moved from one day on as units can).

The objective must be separable by task (weighted completion or makespan, with the move cost per task moved);
budgets are not split (``PlanError``), nor anchors outside a re-plan.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

import numpy as np

from sapper.errors import PlanError
from sapper.plan.problem import Mode, Objective, Precedence, Problem, Resource
from sapper.plan.setups import lower_bound, with_continuing_modes
from sapper.plan.solution import Schedule, check, moved_tasks, objective_value
from sapper.plan.solve import Engine, MovePolicy, Result, SolveParams, Status, solve

_T = TypeVar("_T")
_R = TypeVar("_R")
#: Runs ``fn`` over every item; the results in order (``map`` itself, or a Dask client's map and gather).
MapFn = Callable[[Callable[[_T], _R], Sequence[_T]], list[_R]]

#: Working days a team or brigade takes to travel to another region and set up there (an assumption,
#: docs/planning.md).
TRAVEL_DAYS = 5


def serial_map(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """Run ``fn`` over ``items`` in turn, here."""
    return [fn(x) for x in items]


@dataclass(frozen=True)
class DecomposeParams:
    """The decomposition's settings: the whole time limit (s), coordination rounds and travel days, the solver's."""

    time_limit_s: float = 60.0
    #: Rounds of coordination at most: one after round 0, one before each later batch of solves (0: none).
    rounds: int = 2
    travel_days: int = TRAVEL_DAYS
    #: Regions solved at once (the workers ``map`` runs on): how the time limit is shared (:func:`packing`).
    parallel: int = 1
    seed: int = 0
    engine: Engine = Engine.CPSAT


@dataclass(frozen=True)
class RegionRun:
    """One region after the last round: its name, tasks, objective and how often it was solved."""

    name: str
    tasks: int
    objective: float
    uncoordinated_objective: float
    solves: int
    #: Per pool (resource name), the units received (+) and given (−) by coordination.
    moved: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Decomposed:
    """The whole problem's result (its schedule merged from the regions' and checked as one), the objective without
    coordination (round 0, also checked as a whole), and the regions."""

    result: Result
    uncoordinated_objective: float
    regions: tuple[RegionRun, ...]
    rounds: int
    moves: int


# A share: ((from period, units), ...) in order, the first from period 0.
Share = tuple[tuple[int, int], ...]


def regions_of(problem: Problem, labels: Sequence[str]) -> list[tuple[str, list[int]]]:
    """The regions (name, task indices in order), in order of first appearance: ``labels`` per task, with every
    chain of precedences kept in the region of its lowest-indexed task."""
    n = len(problem.tasks)
    if len(labels) != n:
        raise PlanError(f"{len(labels)} region labels for {n} tasks")
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for p in problem.precedences:
        a, b = find(p.pred), find(p.succ)
        if a != b:
            parent[max(a, b)] = min(a, b)
    out: dict[str, list[int]] = {}
    for j in range(n):
        out.setdefault(labels[find(j)], []).append(j)
    return list(out.items())


def base_shares(problem: Problem, regions: Sequence[Sequence[int]]) -> list[list[int]]:
    """Units of each pool per region, proportional to the region's work it could do (each task's shortest duration,
    counted for every pool one of its modes uses); at least one unit where a region needs a pool it cannot do without;
    never more than the pool."""
    n_res = len(problem.resources)
    work = [[0.0] * n_res for _ in regions]
    need = [[False] * n_res for _ in regions]
    for i, tasks in enumerate(regions):
        for j in tasks:
            task = problem.tasks[j]
            shortest = min(mode.duration for mode in task.modes)
            usable = {r for mode in task.modes for r, _ in mode.demands}
            for r in usable:  # every pool able to do the task counts its shortest duration
                work[i][r] += shortest
                if len(usable) == 1:
                    need[i][r] = True
    shares = [[0] * n_res for _ in regions]
    for r, res in enumerate(problem.resources):
        if not res.renewable:
            raise PlanError(f"resource {res.name} is a budget: a decomposed plan does not split budgets")
        total = sum(w[r] for w in work)
        floor_units = [1 if need[i][r] else 0 for i in range(len(regions))]
        if sum(floor_units) > res.capacity:
            raise PlanError(f"pool {res.name} has {res.capacity} units for {sum(floor_units)} regions that need it")
        spare = res.capacity - sum(floor_units)
        raw = [spare * (w[r] / total) if total > 0 else 0.0 for w in work]
        got = [floor_units[i] + math.floor(raw[i]) for i in range(len(regions))]
        left = res.capacity - sum(got)
        for i in sorted(range(len(regions)), key=lambda i: (-(raw[i] - math.floor(raw[i])), i))[:max(0, left)]:
            if work[i][r] > 0:
                got[i] += 1
        for i in range(len(regions)):
            shares[i][r] = got[i]
    return shares


def _available(res: Resource, horizon: int) -> list[tuple[int, int]]:
    """The whole pool's capacity per period, as ((from period, units), ...)."""
    points = sorted({0, *(s for s, _, _ in res.unavailable), *(e for _, e, _ in res.unavailable)} - {horizon})
    out = []
    for t in points:
        down = sum(u for s, e, u in res.unavailable if s <= t < e)
        out.append((t, res.capacity - down))
    return out


def _at(steps: Share | list[tuple[int, int]], t: int) -> int:
    value = 0
    for start, units in steps:
        if start > t:
            break
        value = units
    return value


def region_resource(res: Resource, share: Share, horizon: int) -> Resource:
    """The region's part of ``res``: ``floor(available × share / capacity)`` units in each period."""
    avail = _available(res, horizon)
    points = sorted({p for p, _ in avail} | {p for p, _ in share if p < horizon})
    profile = [(t, (_at(avail, t) * _at(share, t)) // res.capacity if res.capacity else 0) for t in points]
    cap = max((u for _, u in profile), default=0)
    spans = []
    for k, (t, u) in enumerate(profile):
        end = profile[k + 1][0] if k + 1 < len(profile) else horizon
        if u < cap and t < end:
            spans.append((t, end, cap - u))
    return Resource(res.name, cap, tuple(spans))


def sub_problem(problem: Problem, tasks: Sequence[int], shares: Sequence[Share]
                ) -> tuple[Problem, tuple[tuple[int, ...], ...]]:
    """The region of ``tasks`` with the pools' ``shares`` (one per resource), indices renumbered in order, and per
    task the whole problem's index of each of its modes: a mode needing more of a pool than the region ever has is
    left out (PlanError when a task keeps none)."""
    resources = tuple(region_resource(res, shares[r], problem.horizon) for r, res in enumerate(problem.resources))
    return _with_resources(problem, tasks, resources)


def _with_resources(problem: Problem, tasks: Sequence[int], resources: Sequence[Resource]
                    ) -> tuple[Problem, tuple[tuple[int, ...], ...]]:
    """The region of ``tasks`` with its ``resources`` (:func:`sub_problem`); anchors and the move cost kept."""
    index = {j: k for k, j in enumerate(tasks)}
    precedences = tuple(Precedence(index[p.pred], index[p.succ], p.lag) for p in problem.precedences
                        if p.pred in index)
    sub_tasks = []
    mode_maps = []
    for j in tasks:
        task = problem.tasks[j]
        keep = [m for m, mode in enumerate(task.modes)
                if all(units <= resources[r].capacity for r, units in mode.demands)]
        if not keep:
            raise PlanError(f"task {task.name}: its region has no share of the pools any of its modes needs")
        mode_maps.append(tuple(keep))
        sub_tasks.append(task if len(keep) == len(task.modes) else
                         dataclasses.replace(task, modes=tuple(task.modes[m] for m in keep)))
    sub = Problem(resources=tuple(resources), tasks=tuple(sub_tasks), precedences=precedences,
                  horizon=problem.horizon, objective=problem.objective, then=problem.then, move_cost=problem.move_cost)
    return sub, tuple(mode_maps)


@dataclass(frozen=True)
class _Piece:
    """One solve of one region: its problem under its shares at the time, the planner's order, the solver's settings,
    the plan it improves (None: from the heuristics, as any ``solve``) and how moves off the anchors count."""

    problem: Problem
    priority: tuple[float, ...] | None
    params: SolveParams
    start: Schedule | None = None
    moves: MovePolicy = MovePolicy.PRICED


def _solve_pieces(pieces: Sequence[_Piece]) -> list[Result]:
    """Solve ``pieces`` in turn, on one worker; a piece gets less time when those before it ran over theirs."""
    t0 = time.perf_counter()
    planned = 0.0
    out = []
    for p in pieces:
        planned += p.params.time_limit_s
        limit = max(MIN_PIECE_S, planned - (time.perf_counter() - t0))
        out.append(solve(p.problem, params=dataclasses.replace(p.params, time_limit_s=limit), priority=p.priority,
                         start=p.start, moves=p.moves))
    return out


def _runs(problem: Problem, tasks: Sequence[int], sched: Schedule) -> Iterator[tuple[int, Mode]]:
    """(start, mode) of each task of a region's schedule (whole-problem mode indices)."""
    for k, j in enumerate(tasks):
        yield sched.starts[k], problem.tasks[j].modes[sched.modes[k]]


@dataclass(frozen=True)
class _Use:
    """A region's schedule as arrays: each task's start and end, and the units of each resource its mode takes."""

    starts: np.ndarray
    ends: np.ndarray
    units: np.ndarray  # tasks × resources

    @classmethod
    def of(cls, problem: Problem, tasks: Sequence[int], sched: Schedule) -> _Use:
        starts = np.asarray(sched.starts, dtype=np.int64)
        ends = starts.copy()
        units = np.zeros((len(tasks), len(problem.resources)), dtype=np.int64)
        for k, (s, mode) in enumerate(_runs(problem, tasks, sched)):
            ends[k] = s + mode.duration
            for r, u in mode.demands:
                units[k, r] += u
        return cls(starts, ends, units)

    def finish(self, r: int) -> int:
        """The period after the last one in which the schedule uses resource ``r`` (0: never)."""
        busy = (self.units[:, r] > 0) & (self.ends > self.starts)
        return int(self.ends[busy].max()) if busy.any() else 0

    def _profile(self, weights: np.ndarray, horizon: int) -> np.ndarray:
        diff = np.zeros(horizon + 1, dtype=np.int64)
        np.add.at(diff, np.minimum(self.starts, horizon), weights)
        np.add.at(diff, np.minimum(self.ends, horizon), -weights)
        return np.cumsum(diff)[:horizon]

    def usage(self, r: int, horizon: int) -> np.ndarray:
        """Units of resource ``r`` the schedule uses in each period."""
        return self._profile(self.units[:, r], horizon)

    def active(self, r: int, horizon: int) -> np.ndarray:
        """Runs of the schedule using resource ``r`` in each period (whatever their units)."""
        return self._profile((self.units[:, r] > 0).astype(np.int64), horizon)


def _region_objective(problem: Problem, tasks: Sequence[int], sched: Schedule) -> float:
    ends = [(problem.tasks[j].weight, s + mode.duration) for j, (s, mode) in zip(tasks, _runs(problem, tasks, sched),
                                                                                strict=True)]
    moves = problem.move_cost * _region_moves(problem, tasks, sched)
    if problem.objective is Objective.MAKESPAN:
        return float(max((e for _, e in ends), default=0) + moves)
    return float(sum(w * e for w, e in ends) + moves)


def _region_moves(problem: Problem, tasks: Sequence[int], sched: Schedule) -> int:
    """The region's anchored tasks that ``sched`` (the region's) does not start at their anchor."""
    return sum(1 for j, s in zip(tasks, sched.starts, strict=True)
               if problem.tasks[j].anchor is not None and s != problem.tasks[j].anchor)


def _to_whole(sched: Schedule, maps: Sequence[Sequence[int]]) -> Schedule:
    return Schedule(sched.starts, tuple(maps[k][m] for k, m in enumerate(sched.modes)))


def _to_sub(sched: Schedule, maps: Sequence[Sequence[int]]) -> Schedule | None:
    modes = []
    for k, m in enumerate(sched.modes):
        if m not in maps[k]:
            return None
        modes.append(list(maps[k]).index(m))
    return Schedule(sched.starts, tuple(modes))


def _set_from(share: Share, t: int, delta: int) -> Share:
    """``share`` with ``delta`` units added from period ``t`` on."""
    points = sorted({p for p, _ in share} | {t})
    return tuple((p, _at(share, p) + (delta if p >= t else 0)) for p in points)


#: A batch of jobs run side by side, one job per worker: each job its pieces (region, share of the time) in turn.
Batch = list[list[tuple[int, Fraction]]]


def packing(regions: int, workers: int) -> list[Batch]:
    """Batches of solves giving each of ``regions`` the same share of ``workers`` workers' time, none idle (McNaughton's
    wrap-around rule): the regions laid end to end over the workers' time lines, each ``min(workers, regions) /
    regions`` of one (a share of 1 is the whole time). A region that wraps from the end of worker ``w`` to the start
    of worker ``w + 1`` runs there first and at the end of ``w`` later, from the plan its first piece found; a batch
    ends where such a second piece begins, so a region is never solved in two places at once and every batch ends
    with every region's plan known (where coordination may move units). Shares in each batch, as fractions of the
    whole time."""
    n = max(1, regions)
    p = max(1, min(workers, n))
    width = Fraction(p, n)
    pieces: list[tuple[int, Fraction, Fraction, int]] = []  # (worker, from, to on its time line, region)
    cuts = {Fraction(0), Fraction(1)}
    for i in range(regions):
        a, b = i * width, (i + 1) * width
        w = math.floor(a)
        if b > w + 1:  # wraps: the piece at the end of worker w starts after the one at the start of w + 1 ends
            pieces += [(w, a - w, Fraction(1), i), (w + 1, Fraction(0), b - w - 1, i)]
            cuts.add(a - w)
        else:
            pieces.append((w, a - w, b - w, i))
    edges = sorted(cuts)
    batches: list[Batch] = []
    for lo, hi in itertools.pairwise(edges):
        jobs = []
        for w in range(p):
            job = [(i, min(b, hi) - max(a, lo)) for ww, a, b, i in sorted(pieces, key=lambda x: x[1])
                   if ww == w and min(b, hi) > max(a, lo)]
            if job:
                jobs.append(job)
        batches.append(jobs)
    return batches


#: Seconds a piece of a region's solve gets at least (when the heuristics or the machine took the rest of the limit).
MIN_PIECE_S = 1.0
#: Periods (working days) in which a re-plan's region keeps the same capacity of a pool where it can
#: (:func:`start_capacities`): fewer steps in the regions' capacities, at the cost of some of the pool's spare.
START_BLOCK = 20


def start_capacities(problem: Problem, members: Sequence[Sequence[int]], start: Schedule, *,
                     block: int = START_BLOCK) -> list[tuple[Resource, ...]]:
    """Per region (``members``: its tasks), its capacity of each pool for a re-plan from ``start`` (a feasible
    schedule of the whole ``problem``): in each block of ``block`` periods in which the pool's capacity does not
    change, the most the region's part of ``start`` uses in the block, or, where those maxima add up to more than the
    pool, its use period by period; and the pool's spare on top, split by the work (unit-periods) each region's part
    uses of the pool from the block on (largest remainder). The capacities never add up to more than the pool's in any
    period, and each region's part of ``start`` fits its own (PlanError otherwise: a fault)."""
    horizon = problem.horizon
    n = len(members)
    uses = [_Use.of(problem, tasks, Schedule(tuple(start.starts[j] for j in tasks),
                                             tuple(start.modes[j] for j in tasks))) for tasks in members]
    out: list[list[Resource]] = [[] for _ in members]
    for r, res in enumerate(problem.resources):
        avail = _capacity(res, horizon)
        use = np.array([u.usage(r, horizon) for u in uses], dtype=np.int64).reshape(n, horizon)
        cuts = np.union1d(np.arange(0, horizon, max(1, block)), np.flatnonzero(np.diff(avail)) + 1)
        lengths = np.diff(np.append(cuts, horizon))
        need = np.repeat(np.maximum.reduceat(use, cuts, axis=1), lengths, axis=1) if horizon else use
        fits = need.sum(axis=0) <= avail  # the block's maxima fit in the pool (the same in every period of a block)
        cap = np.where(fits, need, use)
        spare = np.maximum(avail - cap.sum(axis=0), 0)
        # Work left with the pool from each block's first period on, per region.
        left = np.cumsum(use[:, ::-1], axis=1)[:, ::-1]
        weight = np.repeat(left[:, cuts], lengths, axis=1) if horizon else left
        total = weight.sum(axis=0)
        split = spare * weight  # in integers: the floors and remainders exact
        got = np.floor_divide(split, total, out=np.zeros_like(split), where=total > 0)
        rest = spare - got.sum(axis=0)
        rest[total == 0] = 0
        order = np.argsort(-np.remainder(split, np.maximum(total, 1)), axis=0, kind="stable")
        rank = np.argsort(order, axis=0, kind="stable")
        cap = cap + got + (rank < rest)
        if (cap < use).any() or (cap.sum(axis=0) > avail).any():
            raise PlanError(f"pool {res.name}: the regions' capacities do not hold the plan: decomposition fault")
        for i in range(n):
            out[i].append(_profile_resource(res.name, cap[i]))
    return [tuple(x) for x in out]


def _profile_resource(name: str, cap: np.ndarray) -> Resource:
    """A resource of ``cap[t]`` units in each period ``t``: its most, less spans where it has fewer."""
    top = int(cap.max()) if len(cap) else 0
    starts = np.concatenate([[0], np.flatnonzero(np.diff(cap)) + 1]) if len(cap) else np.zeros(0, dtype=np.int64)
    ends = np.append(starts[1:], len(cap))
    spans = tuple((int(a), int(b), top - int(cap[a])) for a, b in zip(starts, ends, strict=True) if cap[a] < top)
    return Resource(name, top, spans)


def decompose_solve(problem: Problem, labels: Sequence[str], *, params: DecomposeParams | None = None,
                    priority: Sequence[float] | None = None, start: Schedule | None = None,
                    moves: MovePolicy = MovePolicy.PRICED,
                    map_fn: MapFn[Sequence[_Piece], list[Result]] | None = None,
                    say: Callable[[str], None] | None = None) -> Decomposed:
    """Solve ``problem`` region by region (``labels``: each task's region), coordinate the pools for up to
    ``params.rounds`` rounds, and return the merged schedule checked as one whole problem (module docstring).

    ``start``: a re-plan, each region's solve improving its part of ``start`` (``solve(start=..., moves=moves)``)
    within its capacities from :func:`start_capacities`, no round of coordination (module docstring)."""
    params = params or DecomposeParams()
    run = map_fn or serial_map
    tell = say or (lambda _m: None)
    t0 = time.perf_counter()
    if problem.budgets or (start is None and any(t.anchor is not None for t in problem.tasks)):
        raise PlanError("a decomposed plan does not split budgets or keep anchors: plan the whole problem")
    if problem.objective not in (Objective.WEIGHTED_COMPLETION, Objective.MAKESPAN) or problem.then:
        raise PlanError("a decomposed plan needs a single weighted-completion or makespan objective")
    if start is not None:
        _verify_whole(problem, start, "the start of a re-plan by regions")
    regions = regions_of(problem, labels)
    names = [name for name, _ in regions]
    members = [tasks for _, tasks in regions]
    n = len(regions)
    base = base_shares(problem, members)
    shares: list[list[Share]] = [[((0, base[i][r]),) for r in range(len(problem.resources))] for i in range(n)]
    moved = [dict.fromkeys([res.name for res in problem.resources], 0) for _ in regions]
    prio = [tuple(priority[j] for j in tasks) if priority is not None else None for tasks in members]
    rounds = max(0, params.rounds) if start is None else 0
    best: list[Schedule | None] = [None] * n  # per region: its tasks' starts and whole-problem mode indices
    objs = [math.inf] * n
    solves = [0] * n
    fewest = start is not None and moves is MovePolicy.FEWEST
    n_moved = [0] * n  # per region, the anchored tasks its plan moves (ranked first with ``fewest``)
    fixed: list[tuple[Resource, ...]] | None = None  # a re-plan's capacities per region (``start_capacities``)
    if start is not None:
        fixed = start_capacities(problem, members, start)
        for i, tasks in enumerate(members):
            part = Schedule(tuple(start.starts[j] for j in tasks), tuple(start.modes[j] for j in tasks))
            best[i], objs[i], n_moved[i] = (part, _region_objective(problem, tasks, part),
                                            _region_moves(problem, tasks, part))
        tell(f"re-planning {n} regions ({', '.join(names)}) from the repaired previous plan, each within the "
             "capacity its part of it uses and a share of the pools' spare")

    def region(i: int) -> tuple[Problem, tuple[tuple[int, ...], ...]]:
        if fixed is not None:
            return _with_resources(problem, members[i], fixed[i])
        return sub_problem(problem, members[i], shares[i])

    def left() -> float:
        return params.time_limit_s - (time.perf_counter() - t0)

    overhead = 0.0  # what the last batch took beyond its longest job's solves: building, sending, receiving

    def run_batch(jobs: Sequence[Sequence[tuple[int, float]]], engine: Engine) -> float:
        """Solve the jobs' pieces (region, seconds) side by side; each region keeps the better of its plan and the
        new one. The longest piece's seconds."""
        nonlocal overhead
        began = time.perf_counter()
        built: list[list[tuple[_Piece, tuple[tuple[int, ...], ...]]]] = []
        for job in jobs:
            built.append([])
            for i, seconds in job:
                sub, maps = region(i)
                warm = None
                previous = best[i]
                if previous is not None:  # its capacity only grew, or it gave units its plan left idle
                    warm = _to_sub(previous, maps)
                    # A solve from ``warm`` verifies it itself (on the worker); a heuristic re-plan does not see it.
                    if warm is None or (engine is Engine.GREEDY and check(sub, warm, max_faults=1)):
                        raise PlanError(f"region {names[i]}: its plan broke its new share: decomposition fault")
                sp = SolveParams(time_limit_s=seconds, workers=1, seed=params.seed, engine=engine)
                keep = engine is Engine.CPSAT or start is not None  # a re-plan improves its start with any engine
                built[-1].append((_Piece(sub, prio[i], sp, warm if keep else None, moves), maps))
        results = run(_solve_pieces, [[piece for piece, _ in job] for job in built])
        slowest = 0.0
        overhead = max(0.0, time.perf_counter() - began - max(sum(r.solve_seconds for r in outs) for outs in results))
        for job, made, outs in zip(jobs, built, results, strict=True):
            for (i, _), (_, maps), res in zip(job, made, outs, strict=True):
                solves[i] += 1
                slowest = max(slowest, res.solve_seconds)
                if res.schedule is None:
                    if best[i] is None:
                        raise PlanError(f"region {names[i]}: no plan ({res.status.value}) within its share of the "
                                        "pools")
                    continue
                cand = _to_whole(res.schedule, maps)
                obj = _region_objective(problem, members[i], cand)
                shifted = _region_moves(problem, members[i], cand)
                if (shifted if fewest else 0, obj) < (n_moved[i] if fewest else 0, objs[i]):
                    best[i], objs[i], n_moved[i] = cand, obj, shifted
        return slowest

    n_moves = 0
    done_rounds = 0
    stopped = ""

    def coordinate(k: int) -> set[int]:
        nonlocal n_moves, done_rounds
        receivers, moves = _coordinate(problem, members, _known(best), shares, moved,
                                       params.travel_days)
        done_rounds = k
        n_moves += len(moves)
        tell(f"round {k}: {len(moves)} moves of teams between regions" if receivers else
             f"round {k}: no region leaves units of a pool idle for good while another still needs them")
        return receivers

    first: list[Schedule] = _known(best) if start is not None else []  # a re-plan's round 0: its start
    slowest = 0.0
    if start is None and (rounds or params.engine is Engine.GREEDY):
        # Round 0: the heuristics' plans of every region (the greedy plans a solve makes first), to coordinate on.
        tell(f"round 0: heuristic plans of {n} regions ({', '.join(names)})")
        slowest = run_batch([[(i, MIN_PIECE_S)] for i in range(n)], Engine.GREEDY)
        first = _known(best)
    if params.engine is Engine.GREEDY and start is None:
        # A round re-plans the regions that received units, from their new shares.
        for k in range(1, rounds + 1):
            if slowest > left():  # the slowest solve of the round before would not fit in what is left
                stopped = "time"
                tell(f"round {k}: not started, {max(0.0, left()):.0f} s left of the limit")
                break
            which = sorted(coordinate(k))
            if not which:
                break
            slowest = run_batch([[(i, MIN_PIECE_S)] for i in which], Engine.GREEDY)
    else:
        # The time left, shared equally by the regions over the workers (``packing``); with coordination, each
        # region's solve improves its heuristic plan, and a round of coordination precedes each batch.
        # Each batch's pieces are scaled to what is left, less the overhead of a batch for it and each one after it.
        batches = packing(n, params.parallel)
        total = max(0.0, left() - overhead * len(batches))
        tell(f"optimising {n} regions on {params.parallel} workers, {total:.0f} s")
        done = Fraction(0)
        for k, jobs in enumerate(batches):
            if done_rounds < rounds:
                coordinate(done_rounds + 1)
            planned = float(1 - done) * total
            scale = max(0.0, left() - overhead * (len(batches) - k)) / planned if planned > 0 else 0.0
            run_batch([[(i, max(MIN_PIECE_S, float(f) * total * scale)) for i, f in job] for job in jobs],
                      Engine.CPSAT if start is None else params.engine)
            done += max(sum(f for _, f in job) for job in jobs)
    final = _known(best)
    first = first or final
    merged = _merge(problem, members, final)
    _verify_whole(problem, merged, "the decomposed plan")
    uncoordinated = _merge(problem, members, first)
    if first is not final and start is None:  # a re-plan's start was checked before
        _verify_whole(problem, uncoordinated, "the uncoordinated regions")
    first_obj = float(objective_value(problem, uncoordinated))
    obj = float(objective_value(problem, merged))
    runs = tuple(RegionRun(names[i], len(members[i]), objs[i], _region_objective(problem, members[i], first[i]),
                           solves[i], {name: v for name, v in moved[i].items() if v}) for i in range(n))
    details: dict[str, object] = {"decomposed_regions": n, "coordination_rounds": done_rounds,
                                  "coordination_moves": n_moves, "uncoordinated_objective": first_obj,
                                  "travel_days": params.travel_days, "coordination_stopped": stopped or None}
    if start is not None:  # round 0 is the repaired previous plan; the moves found region by region
        details.update(replanned_by_regions=True, warm_start_moved=len(moved_tasks(problem, start)))
        if fewest:
            details["fewest_moves"] = len(moved_tasks(problem, merged))
    result = Result(Status.FEASIBLE, merged, obj, None, first_obj, uncoordinated, "decomposed",
                    time.perf_counter() - t0, details)
    return Decomposed(result, first_obj, runs, done_rounds, n_moves)


def whole_lower_bound(problem: Problem) -> float:
    """A lower bound on every plan by regions of ``problem``: ``plan.setups.lower_bound`` of the *whole* problem in
    which any lot may skip its set-up (``with_continuing_modes``). The merged plan is a plan of the whole problem
    (:func:`decompose_solve` checks it as one), and so is that plan with set-up paid per change of role, of the
    relaxation; a bound of the relaxation is one of both. A sum of the regions' own bounds would not be: each sees only
    its share of the pools, and coordination moves units (docs/planning.md)."""
    free, _ = with_continuing_modes(problem)
    return lower_bound(free)


def _known(plans: Sequence[Schedule | None]) -> list[Schedule]:
    """Every region's plan (each region has one after its first solve)."""
    out = [s for s in plans if s is not None]
    if len(out) != len(plans):
        raise PlanError("a region has no plan: decomposition fault")
    return out


def _merge(problem: Problem, members: Sequence[Sequence[int]], schedules: Sequence[Schedule]) -> Schedule:
    """The whole problem's schedule from the regions' (whole-problem mode indices)."""
    starts = [0] * len(problem.tasks)
    modes = [0] * len(problem.tasks)
    for tasks, sched in zip(members, schedules, strict=True):
        for k, j in enumerate(tasks):
            starts[j] = sched.starts[k]
            modes[j] = sched.modes[k]
    return Schedule(tuple(starts), tuple(modes))


def _verify_whole(problem: Problem, schedule: Schedule, what: str) -> None:
    faults = check(problem, schedule, max_faults=5)
    if faults:
        raise PlanError(f"{what} failed the independent check as one whole problem: "
                        + "; ".join(str(f) for f in faults))


def _capacity(res: Resource, horizon: int) -> np.ndarray:
    """``res``'s units in each period (its stand-downs taken off)."""
    diff = np.zeros(horizon + 1, dtype=np.int64)
    diff[0] += res.capacity
    for s, e, u in res.unavailable:
        diff[min(s, horizon)] -= u
        diff[min(e, horizon)] += u
    return np.cumsum(diff)[:horizon]


def _lasting_spare(problem: Problem, use: _Use, share: Share, r: int) -> np.ndarray:
    """Per period, the units of resource ``r`` the region's schedule (``use``) leaves unused in every period from then
    on."""
    horizon = problem.horizon
    spare = _capacity(region_resource(problem.resources[r], share, horizon), horizon) - use.usage(r, horizon)
    return np.minimum.accumulate(spare[::-1])[::-1] if len(spare) else spare


def _idle_steps(lasting: np.ndarray, share: Share) -> list[tuple[int, int]]:
    """When a region's units fall idle for good (``lasting``: :func:`_lasting_spare`): (from period, units) in order,
    each step the units idle from then on beyond the steps before. Giving them away from then on keeps its schedule
    feasible: removing ``g`` units of share takes at most ``g`` units of capacity from any period
    (``floor(a × s / C) − floor(a × (s − g) / C) ≤ g`` for ``a ≤ C``)."""
    steps: list[tuple[int, int]] = []
    given = 0
    for t in np.flatnonzero(np.diff(np.concatenate([[0], np.maximum(lasting, 0)])) > 0):
        units = min(int(lasting[t]), _at(share, int(t))) - given
        if units > 0:
            steps.append((int(t), units))
            given += units
    return steps


def _coordinate(problem: Problem, members: Sequence[Sequence[int]], best: Sequence[Schedule], shares: list[list[Share]],
                moved: list[dict[str, int]], travel: int) -> tuple[set[int], list[tuple[int, int, int, int, int]]]:
    """Move each pool's units from the regions that leave them idle for good to those that still work with the pool
    later (module docstring); the regions whose shares grew, and the moves (pool, from, to, units, from period)."""
    receivers: set[int] = set()
    moves: list[tuple[int, int, int, int, int]] = []
    horizon = problem.horizon
    uses = [_Use.of(problem, tasks, sched) for tasks, sched in zip(members, best, strict=True)]
    finish = [[use.finish(r) for r in range(len(problem.resources))] for use in uses]
    n = len(members)
    for r, res in enumerate(problem.resources):
        got_r: set[int] = set()
        lasting = [_lasting_spare(problem, uses[i], shares[i][r], r) for i in range(n)]
        # Periods of work on the pool from each period on, per region (a suffix sum, not a pass over the tasks per
        # question).
        left = [np.concatenate([np.cumsum(uses[j].active(r, horizon)[::-1])[::-1], [0]])
                for j in range(n)]
        for i in sorted(range(n), key=lambda i: (finish[i][r], i)):
            if i in got_r:  # it received this pool in this round: it does not give it away again
                continue
            for t, units in _idle_steps(lasting[i], shares[i][r]):
                arrive = t + travel
                if arrive >= horizon:
                    break
                # Receivers: regions still working with the pool after the units arrive and using all of their own
                # units at some time after that (a region with units idle for good has no use for more).
                later = [(j, int(left[j][min(arrive, horizon)])) for j in range(n)
                         if j != i and finish[j][r] > arrive + travel and lasting[j][arrive] <= 0]
                later = [(j, w) for j, w in later if w > 0]
                total = sum(w for _, w in later)
                if not later or total <= 0:
                    continue
                # The idle units from ``t`` on, split by work left (largest remainder, ties by index).
                raw = [units * w / total for _, w in later]
                got = [math.floor(x) for x in raw]
                for k in sorted(range(len(later)), key=lambda k: (-(raw[k] - got[k]), k))[:units - sum(got)]:
                    got[k] += 1
                shares[i][r] = _set_from(shares[i][r], t, -units)
                moved[i][res.name] -= units
                for (j, _), g in zip(later, got, strict=True):
                    if g:
                        shares[j][r] = _set_from(shares[j][r], arrive, g)
                        moved[j][res.name] += g
                        receivers.add(j)
                        got_r.add(j)
                        moves.append((r, i, j, g, t))
    return receivers, moves


__all__ = ["START_BLOCK", "TRAVEL_DAYS", "DecomposeParams", "Decomposed", "MapFn", "RegionRun", "base_shares",
           "decompose_solve", "region_resource", "regions_of", "serial_map", "start_capacities", "sub_problem",
           "whole_lower_bound"]
