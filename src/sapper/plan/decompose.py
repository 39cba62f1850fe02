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
* **Coordination.** After each round, for each pool, a region whose schedule leaves some of its units idle for good
  from some day on — all of them once its work with the pool is done, some of them once its load falls — gives those
  units from that day on to the regions still working with the pool later (in proportion to their work left), which
  receive them ``travel_days`` later: the units are in neither region while they travel and set up. Only the receiving
  regions are solved again; a receiving region keeps its previous schedule when the new one is not better (the
  previous one is still feasible: its capacity only grew), and a giving region's schedule never used what it gave, so
  coordination is never worse than none, region by region.

The objective must be separable by task (weighted completion or makespan); budgets and anchors are not split
(``PlanError``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from sapper.errors import PlanError
from sapper.plan.problem import Mode, Objective, Precedence, Problem, Resource
from sapper.plan.solution import Schedule, check, objective_value
from sapper.plan.solve import Engine, Result, SolveParams, Status, solve

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
    rounds: int = 2
    travel_days: int = TRAVEL_DAYS
    #: Regions solved at once (the workers ``map`` runs on): how the time limit is shared within a round.
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
    index = {j: k for k, j in enumerate(tasks)}
    precedences = tuple(Precedence(index[p.pred], index[p.succ], p.lag) for p in problem.precedences
                        if p.pred in index)
    resources = tuple(region_resource(res, shares[r], problem.horizon) for r, res in enumerate(problem.resources))
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
    sub = Problem(resources=resources, tasks=tuple(sub_tasks), precedences=precedences, horizon=problem.horizon,
                  objective=problem.objective, then=problem.then)
    return sub, tuple(mode_maps)


@dataclass(frozen=True)
class _Job:
    problem: Problem
    priority: tuple[float, ...] | None
    params: SolveParams


def _solve_job(job: _Job) -> Result:
    return solve(job.problem, params=job.params, priority=job.priority)


def _runs(problem: Problem, tasks: Sequence[int], sched: Schedule) -> Iterator[tuple[int, Mode]]:
    """(start, mode) of each task of a region's schedule (whole-problem mode indices)."""
    for k, j in enumerate(tasks):
        yield sched.starts[k], problem.tasks[j].modes[sched.modes[k]]


def _finish_by_pool(problem: Problem, tasks: Sequence[int], sched: Schedule) -> list[int]:
    """Per resource, the period after the last one in which the region's schedule uses it (0: never)."""
    out = [0] * len(problem.resources)
    for s, mode in _runs(problem, tasks, sched):
        if mode.duration:
            for r, _ in mode.demands:
                out[r] = max(out[r], s + mode.duration)
    return out


def _region_objective(problem: Problem, tasks: Sequence[int], sched: Schedule) -> float:
    ends = [(problem.tasks[j].weight, s + mode.duration) for j, (s, mode) in zip(tasks, _runs(problem, tasks, sched),
                                                                                strict=True)]
    if problem.objective is Objective.MAKESPAN:
        return float(max((e for _, e in ends), default=0))
    return float(sum(w * e for w, e in ends))


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


def decompose_solve(problem: Problem, labels: Sequence[str], *, params: DecomposeParams | None = None,
                    priority: Sequence[float] | None = None, map_fn: MapFn[_Job, Result] | None = None,
                    say: Callable[[str], None] | None = None) -> Decomposed:
    """Solve ``problem`` region by region (``labels``: each task's region), coordinate the pools for
    ``params.rounds`` rounds, and return the merged schedule checked as one whole problem (module docstring)."""
    params = params or DecomposeParams()
    run = map_fn or serial_map
    tell = say or (lambda _m: None)
    t0 = time.perf_counter()
    if problem.budgets or any(t.anchor is not None for t in problem.tasks):
        raise PlanError("a decomposed plan does not split budgets or keep anchors: plan the whole problem")
    if problem.objective not in (Objective.WEIGHTED_COMPLETION, Objective.MAKESPAN) or problem.then:
        raise PlanError("a decomposed plan needs a single weighted-completion or makespan objective")
    regions = regions_of(problem, labels)
    names = [name for name, _ in regions]
    members = [tasks for _, tasks in regions]
    base = base_shares(problem, members)
    shares: list[list[Share]] = [[((0, base[i][r]),) for r in range(len(problem.resources))]
                                 for i in range(len(regions))]
    moved = [dict.fromkeys([res.name for res in problem.resources], 0) for _ in regions]
    prio = [tuple(priority[j] for j in tasks) if priority is not None else None for tasks in members]
    rounds = max(0, params.rounds)
    # Round 0 takes half the limit, each coordination round an equal part of the rest.
    budgets = [params.time_limit_s] if rounds == 0 else \
        [params.time_limit_s * 0.5] + [params.time_limit_s * 0.5 / rounds] * rounds

    def jobs_for(which: list[int], budget: float) -> tuple[list[_Job], list[tuple[tuple[int, ...], ...]]]:
        waves = math.ceil(len(which) / max(1, params.parallel))
        limit = max(1.0, budget / max(1, waves))
        sp = SolveParams(time_limit_s=limit, workers=1, seed=params.seed, engine=params.engine)
        made = [sub_problem(problem, members[i], shares[i]) for i in which]
        return [_Job(sub, prio[i], sp) for i, (sub, _) in zip(which, made, strict=True)], [m for _, m in made]

    best: list[Schedule] = []  # per region: its tasks' starts and whole-problem mode indices
    objs: list[float] = []
    solves = [1] * len(regions)
    tell(f"solving {len(regions)} regions ({', '.join(names)}), {budgets[0]:.0f} s")
    jobs, maps = jobs_for(list(range(len(regions))), budgets[0])
    first_results = run(_solve_job, jobs)
    for i, (res, mm) in enumerate(zip(first_results, maps, strict=True)):
        if res.schedule is None or res.objective is None:
            raise PlanError(f"region {names[i]}: no plan ({res.status.value}) within its share of the pools")
        best.append(_to_whole(res.schedule, mm))
        objs.append(_region_objective(problem, members[i], best[i]))
    first = list(best)
    uncoordinated = _merge(problem, members, best)
    first_obj = float(objective_value(problem, uncoordinated))
    _verify_whole(problem, uncoordinated, "the uncoordinated regions")
    n_moves = 0
    done_rounds = 0
    slowest = max(r.solve_seconds for r in first_results)  # the longest region solve: a wave's least time
    stopped = ""
    for k in range(1, rounds + 1):
        receivers, moves = _coordinate(problem, members, best, shares, moved, params.travel_days)
        if not receivers:
            tell(f"round {k}: no region finishes a pool early enough to give teams away")
            break
        which = sorted(receivers)
        left = params.time_limit_s - (time.perf_counter() - t0)
        if slowest * math.ceil(len(which) / max(1, params.parallel)) > left:
            stopped = "time"
            tell(f"round {k}: not started, {left:.0f} s left of the limit ({slowest:.0f} s per region solve)")
            _undo(shares, moved, moves, params.travel_days)
            break
        n_moves += len(moves)
        tell(f"round {k}: {len(moves)} moves of teams between regions; solving {len(which)} regions again")
        jobs, maps = jobs_for(which, budgets[k])
        results = run(_solve_job, jobs)
        slowest = max(r.solve_seconds for r in results)
        for i, job, mm, res in zip(which, jobs, maps, results, strict=True):
            # The region's previous schedule is feasible with the new shares (it keeps what it used): check it.
            previous = _to_sub(best[i], mm)
            if previous is None or check(job.problem, previous):
                raise PlanError(f"region {names[i]}: its previous plan broke its new share: decomposition fault")
            solves[i] += 1
            if res.schedule is not None:
                cand = _to_whole(res.schedule, mm)
                obj = _region_objective(problem, members[i], cand)
                if obj < objs[i]:
                    best[i], objs[i] = cand, obj
        done_rounds = k
    merged = _merge(problem, members, best)
    _verify_whole(problem, merged, "the decomposed plan")
    obj = float(objective_value(problem, merged))
    runs = tuple(RegionRun(names[i], len(members[i]), objs[i], _region_objective(problem, members[i], first[i]),
                           solves[i], {n: v for n, v in moved[i].items() if v})
                 for i in range(len(regions)))
    details: dict[str, object] = {"decomposed_regions": len(regions), "coordination_rounds": done_rounds,
                                  "coordination_moves": n_moves, "uncoordinated_objective": first_obj,
                                  "travel_days": params.travel_days, "coordination_stopped": stopped or None}
    result = Result(Status.FEASIBLE, merged, obj, None, first_obj, uncoordinated, "decomposed",
                    time.perf_counter() - t0, details)
    return Decomposed(result, first_obj, runs, done_rounds, n_moves)


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


def _undo(shares: list[list[Share]], moved: list[dict[str, int]], moves: Sequence[tuple[int, int, int, int, int]],
          travel: int) -> None:
    """Take back ``moves`` (pool, from, to, units, from period) of a round that is not run."""
    for r, i, j, units, t in reversed(moves):
        shares[i][r] = _set_from(shares[i][r], t, units)
        shares[j][r] = _set_from(shares[j][r], t + travel, -units)
        key = list(moved[i])[r]
        moved[i][key] += units
        moved[j][key] -= units


def _usage(problem: Problem, tasks: Sequence[int], sched: Schedule, r: int) -> np.ndarray:
    """Units of resource ``r`` the region's schedule uses in each period."""
    diff = np.zeros(problem.horizon + 1, dtype=np.int64)
    for s, mode in _runs(problem, tasks, sched):
        if mode.duration:
            for rr, units in mode.demands:
                if rr == r:
                    diff[s] += units
                    diff[min(s + mode.duration, problem.horizon)] -= units
    return np.cumsum(diff)[:problem.horizon]


def _active(problem: Problem, tasks: Sequence[int], sched: Schedule, r: int) -> np.ndarray:
    """Runs of the region's schedule using resource ``r`` in each period (whatever their units)."""
    diff = np.zeros(problem.horizon + 1, dtype=np.int64)
    for s, mode in _runs(problem, tasks, sched):
        if mode.duration and any(rr == r for rr, _ in mode.demands):
            diff[s] += 1
            diff[min(s + mode.duration, problem.horizon)] -= 1
    return np.cumsum(diff)[:problem.horizon]


def _capacity(res: Resource, horizon: int) -> np.ndarray:
    """``res``'s units in each period (its stand-downs taken off)."""
    diff = np.zeros(horizon + 1, dtype=np.int64)
    diff[0] += res.capacity
    for s, e, u in res.unavailable:
        diff[min(s, horizon)] -= u
        diff[min(e, horizon)] += u
    return np.cumsum(diff)[:horizon]


def _lasting_spare(problem: Problem, tasks: Sequence[int], sched: Schedule, share: Share, r: int) -> np.ndarray:
    """Per period, the units of resource ``r`` the region's schedule leaves unused in every period from then on."""
    horizon = problem.horizon
    spare = _capacity(region_resource(problem.resources[r], share, horizon), horizon) - \
        _usage(problem, tasks, sched, r)
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
    finish = [_finish_by_pool(problem, tasks, sched) for tasks, sched in zip(members, best, strict=True)]
    n = len(members)
    for r, res in enumerate(problem.resources):
        got_r: set[int] = set()
        lasting = [_lasting_spare(problem, members[i], best[i], shares[i][r], r) for i in range(n)]
        # Periods of work on the pool from each period on, per region (a suffix sum, not a pass over the tasks per
        # question).
        left = [np.concatenate([np.cumsum(_active(problem, members[j], best[j], r)[::-1])[::-1], [0]])
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


__all__ = ["TRAVEL_DAYS", "DecomposeParams", "Decomposed", "MapFn", "RegionRun", "base_shares", "decompose_solve",
           "region_resource", "regions_of", "serial_map", "sub_problem"]
