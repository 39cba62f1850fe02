"""Re-planning with stability: how far new facts push the previous plan, the previous plan repaired to them, and a
solve that starts from that repair.

A re-planned problem carries each task's start in the previous plan as its ``anchor`` (``Problem.move_cost`` prices a
move). The tools here work on it without knowing what the tasks mean:

- :func:`propagate` pushes starts forward through precedences, releases and outages (no other capacity), each task
  no earlier than its anchor: the previous plan pushed forward, with ``pushed_by`` saying what pushed each task.
  Without anchors it gives each task's earliest start: an anchored task whose earliest start is after its anchor
  moves in every plan.
- :func:`shift` is the serial scheme (``greedy.serial_sgs``) in the previous plan's order, no task before its anchor;
  :func:`repair` places tasks in that order too, but keeps every anchor it can and puts a task that cannot keep its
  start where it takes no other task's slot, unless waiting for such a place costs more than the moves it saves;
  :func:`warm_start` takes the better of them by the objective.
- :func:`fewest_moves` finds the plan with the fewest moves it can and a bound on the moves of any plan.

:func:`sapper.plan.solve.solve` with ``start`` (the warm start) improves it with CP-SAT (whole problem, hinted) or its
window search (``plan.lns``), as it does from its greedy plans; the warm start is then its baseline.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from sapper.errors import PlanError
from sapper.plan.greedy import serial_sgs
from sapper.plan.problem import Precedence, Problem, Task
from sapper.plan.solution import Schedule, moved_tasks, objective_value, verify
from sapper.plan.solve import LARGE_PROBLEM_TASKS, Engine, SolveParams

#: ``Propagation.pushed_by`` of a task no predecessor pushed.
NOT_PUSHED = -1


@dataclass(frozen=True)
class Propagation:
    """The previous plan pushed forward: each task's start and end, and what set its start.

    ``pushed_by[j]`` is the index of the predecessor whose end (plus lag) is later than task j's anchor (or, without
    one, its release) and latest among its predecessors', or ``NOT_PUSHED``. ``over_outage[j]`` is true when an outage
    of a resource it needs (a stand-down) then pushed it further.
    """

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    pushed_by: tuple[int, ...]
    over_outage: tuple[bool, ...]

    def must_move(self, problem: Problem) -> list[int]:
        """Anchored tasks whose propagated start is not their anchor."""
        return [j for j in problem.anchored if self.starts[j] != problem.tasks[j].anchor]


def _first_fit(ok: np.ndarray, est: int, duration: int) -> int | None:
    """First t >= est with ok[t:t+duration] all true, or None."""
    if duration == 0:
        return est
    seg = ok[est:]
    bad = np.flatnonzero(~seg)
    starts = np.concatenate(([0], bad + 1))
    stops = np.concatenate((bad, [seg.size]))
    fits = np.flatnonzero(stops - starts >= duration)
    return None if fits.size == 0 else est + int(starts[fits[0]])


def _first_fit_from(ok_in: Callable[[int, int], np.ndarray], est: int, duration: int, horizon: int) -> int | None:
    """:func:`_first_fit` of the horizon's ``ok`` without building all of it: ``ok_in(lo, hi)`` gives ``ok[lo:hi]``,
    asked for in windows from ``est`` that double until one holds a fit (most tasks fit near their earliest start; on
    national-synthetic, 164,032 tasks over about fifteen years, building the whole horizon's ``ok`` per task and mode
    kept a re-plan's warm start busy for minutes). Each window overlaps the one before by ``duration - 1`` periods, so
    a fit across their border is found: the same first fit."""
    if duration == 0:
        return est
    lo, span = est, max(4 * duration, 64)
    while lo < horizon:
        hi = min(horizon, lo + span)
        t = _first_fit(ok_in(lo, hi), 0, duration)
        if t is not None:
            return lo + t
        if hi >= horizon:
            return None
        lo, span = max(lo + 1, hi - duration + 1), 2 * span
    return None


def propagate(problem: Problem, modes: Sequence[int | None]) -> Propagation:
    """Push the previous plan forward (see the module docstring): in precedence order, each task starts at the latest
    of its release, its anchor and its predecessors' ends (plus lags), then at the first time the resources of its mode
    are not taken by an outage for its whole duration. ``modes[j]`` fixes task j's mode; with None, its start and end
    are the earliest over its modes (possibly of two different modes, so both stay lower bounds). Other tasks' use of
    the resources is ignored. Raises PlanError if a task cannot fit within the horizon."""
    n = len(problem.tasks)
    if len(modes) != n:
        raise PlanError(f"modes has {len(modes)} values for {n} tasks")
    horizon = problem.horizon
    profile = {r: np.asarray(problem.capacity_profile(r), dtype=np.int64) for r in problem.renewable}
    starts = [0] * n
    ends = [0] * n
    pushed = [NOT_PUSHED] * n
    over = [False] * n
    for j in problem.topological_order:
        task = problem.tasks[j]
        floor = max(task.release, task.anchor if task.anchor is not None else 0)
        est, by = floor, NOT_PUSHED
        for p, lag in problem.predecessors[j]:
            if ends[p] + lag > est:
                est, by = ends[p] + lag, p
        first_end: int | None = None
        first_start: int | None = None
        for m, mode in enumerate(task.modes):
            if modes[j] is not None and m != modes[j]:
                continue
            used = [(r, u) for r, u in mode.demands if r in profile]
            if mode.duration == 0 or not used:
                t: int | None = est
            else:
                def free(lo: int, hi: int, used: list[tuple[int, int]] = used) -> np.ndarray:
                    ok = np.ones(hi - lo, dtype=bool)
                    for r, u in used:
                        ok &= profile[r][lo:hi] >= u
                    return ok

                t = _first_fit_from(free, est, mode.duration, horizon)
            if t is not None and t + mode.duration <= horizon:
                first_end = t + mode.duration if first_end is None else min(first_end, t + mode.duration)
                first_start = t if first_start is None else min(first_start, t)
        if first_end is None or first_start is None:
            raise PlanError(f"task {j} ({task.name}) cannot fit within the horizon of {horizon} periods")
        ends[j], starts[j] = first_end, first_start
        over[j] = starts[j] > est
        pushed[j] = by
    return Propagation(tuple(starts), tuple(ends), tuple(pushed), tuple(over))


def shift(problem: Problem, order: Sequence[float], modes: Sequence[int | None]) -> Schedule:
    """The previous plan shifted to ``problem``: the serial scheme (``greedy.serial_sgs``) in ``order`` (higher first;
    the previous plan's order, earliest start first) with each anchored task placed no earlier than its anchor, in
    mode ``modes[j]`` when given. A task that cannot keep its start takes the first slot free after it, which may be
    another task's, so one late task can shift many. Raises PlanError when a task cannot be placed."""
    n = len(problem.tasks)
    if len(order) != n or len(modes) != n:
        raise PlanError(f"order and modes need {n} values each, got {len(order)} and {len(modes)}")
    kept: list[list[int]] = []
    tasks: list[Task] = []
    for j, t in enumerate(problem.tasks):
        which = [m for m in range(len(t.modes)) if modes[j] is None or m == modes[j]]
        if not which:
            raise PlanError(f"task {j} ({t.name}) has no mode {modes[j]}")
        shortest = min(t.modes[m].duration for m in which)
        release = t.release
        if t.anchor is not None and t.anchor > release and t.anchor + shortest <= problem.horizon and (
                t.deadline is None or t.anchor + shortest <= t.deadline):
            release = t.anchor
        kept.append(which)
        tasks.append(Task(t.name, tuple(t.modes[m] for m in which), t.weight, release, t.deadline))
    shifted = Problem(problem.resources, tuple(tasks), problem.precedences, problem.horizon, problem.objective,
                      budgets=problem.budgets)  # a budget-capped re-plan's repair keeps to its budgets too
    s = serial_sgs(shifted, order)
    return Schedule(s.starts, tuple(kept[j][m] for j, m in enumerate(s.modes)))


def downstream_weight(problem: Problem) -> list[float]:
    """For each task, its weight plus its successors' downstream weight: how much objective a day's delay of it may
    cost at most (a descendant reached by two paths counts twice, so it is an over-estimate)."""
    down = [float(t.weight) for t in problem.tasks]
    for j in reversed(problem.topological_order):
        for k, _ in problem.successors[j]:
            down[j] += down[k]
    return down


def repair(problem: Problem, order: Sequence[float], modes: Sequence[int | None], *,
           cascade: float = 1.0) -> Schedule:
    """The previous plan repaired to ``problem``, keeping every start it can.

    Tasks are placed one by one in ``order`` (higher first; the previous plan's order), each once its predecessors
    are: an anchored task whose predecessors allow it keeps its anchor when its resources are free there, in mode
    ``modes[j]`` (its previous mode) or else in another mode. Every other task goes either to the first time its
    resources are free, or to the first time they are free *without taking the slot an anchored task still to be
    placed holds* (its anchor): the second moves no other task, the first may push one and through it many. It takes
    the second unless waiting for it costs more than ``cascade`` moves would (``cascade`` × ``problem.move_cost``);
    waiting costs its delay times its downstream weight (:func:`downstream_weight`). Raises PlanError when a task
    cannot be placed within the horizon and its deadline.
    """
    n = len(problem.tasks)
    if len(order) != n or len(modes) != n:
        raise PlanError(f"order and modes need {n} values each, got {len(order)} and {len(modes)}")
    if problem.non_renewable or problem.has_period_budgets:
        raise PlanError("repair does not handle budgets (non-renewable resources, budgets per period)")
    horizon = problem.horizon
    cap = {r: np.asarray(problem.capacity_profile(r), dtype=np.int64) for r in problem.renewable}
    used = {r: np.zeros(horizon, dtype=np.int64) for r in cap}
    held = {r: np.zeros(horizon, dtype=np.int64) for r in cap}  # anchors of anchored tasks not placed yet

    def book(profile: dict[int, np.ndarray], j: int, m: int, t: int, units: int) -> None:
        mode = problem.tasks[j].modes[m]
        for r, u in mode.demands:
            if r in profile and mode.duration:
                profile[r][t:min(t + mode.duration, horizon)] += units * u

    def fit(j: int, m: int, est: int, *, keep_held: bool) -> int | None:
        mode = problem.tasks[j].modes[m]
        demands = [(r, u) for r, u in mode.demands if r in cap]
        if mode.duration == 0 or not demands:
            t: int | None = est
        else:
            def free(lo: int, hi: int) -> np.ndarray:
                ok = np.ones(hi - lo, dtype=bool)
                for r, u in demands:
                    busy = used[r][lo:hi] + held[r][lo:hi] if keep_held else used[r][lo:hi]
                    ok &= busy + u <= cap[r][lo:hi]
                return ok

            t = _first_fit_from(free, est, mode.duration, horizon)
        deadline = problem.tasks[j].deadline
        if t is None or t + mode.duration > horizon or (deadline is not None and t + mode.duration > deadline):
            return None
        return t

    holds: dict[int, int] = {}
    for j in problem.anchored:
        a = problem.tasks[j].anchor
        fixed = modes[j]
        m = fixed if fixed is not None else 0
        if a is not None and a + problem.tasks[j].modes[m].duration <= horizon:
            book(held, j, m, a, 1)
            holds[j] = m
    down = downstream_weight(problem)
    est = [t.release for t in problem.tasks]
    waiting = [len(p) for p in problem.predecessors]
    heap = [(-order[j], j) for j in range(n) if waiting[j] == 0]
    heapq.heapify(heap)
    starts = [0] * n
    chosen = [0] * n
    while heap:
        _, j = heapq.heappop(heap)
        task = problem.tasks[j]
        if j in holds:
            book(held, j, holds.pop(j), task.anchor or 0, -1)
        fixed = modes[j]
        preferred = [fixed] if fixed is not None else []
        order_m = preferred + [m for m in range(len(task.modes)) if m not in preferred]
        placed: tuple[int, int] | None = None
        if task.anchor is not None and est[j] <= task.anchor:
            placed = next(((m, task.anchor) for m in order_m
                           if fit(j, m, task.anchor, keep_held=False) == task.anchor), None)
        if placed is None:
            best: tuple[float, int, int, int] | None = None  # (cost, end, preference, mode) of the best start
            for rank, m in enumerate(order_m):
                d = task.modes[m].duration
                for keep, extra in ((True, 0.0), (False, cascade * problem.move_cost)):
                    t = fit(j, m, est[j], keep_held=keep)
                    if t is not None:
                        cand = (down[j] * (t + d) + extra, t + d, rank, m)
                        if best is None or cand < best:
                            best = cand
                            placed = (m, t)
        if placed is None:
            raise PlanError(f"task {j} ({task.name}) cannot be placed within the horizon of {horizon} periods"
                            + (f" and its deadline {task.deadline}" if task.deadline is not None else ""))
        m, t = placed
        starts[j], chosen[j] = t, m
        book(used, j, m, t, 1)
        end = t + task.modes[m].duration
        for k, lag in problem.successors[j]:
            est[k] = max(est[k], end + lag)
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(heap, (-order[k], k))
    if any(waiting):
        raise PlanError("precedences left tasks unscheduled (cycle)")
    return Schedule(tuple(starts), tuple(chosen))


#: How many moves :func:`warm_start` expects a task that takes another's slot to cause, tried in turn: one, or a chain
#: through a busy pool (on kursk-border, shifting the plan after a week of delays moved about 400 lots by 1–3 days).
CASCADES = (1.0, 4.0, 16.0, 64.0)


def warm_start(problem: Problem, order: Sequence[float], modes: Sequence[int | None], *,
               deadline: float | None = None) -> Schedule:
    """The best, by ``problem``'s objective (move cost included), of :func:`repair` with each of ``CASCADES`` and of
    :func:`shift`. ``deadline`` (a ``time.perf_counter()`` value): past it no further repair is started once one is
    made (the shift, the serial scheme's, always is): on a national problem one repair takes minutes."""
    found: list[Schedule] = []
    for cascade in (*CASCADES, None):
        if cascade is not None and found and deadline is not None and time.perf_counter() > deadline:
            continue
        try:
            found.append(shift(problem, order, modes) if cascade is None
                         else repair(problem, order, modes, cascade=cascade))
        except PlanError:
            continue
    if not found:
        raise PlanError("the previous plan cannot be repaired to the new facts within the horizon")
    return min(found, key=lambda s: objective_value(problem, s))


def without_anchors(problem: Problem, tasks: Collection[int] | None = None) -> Problem:
    """``problem`` with the anchors of ``tasks`` (default: every task) dropped."""
    return problem.replace(tasks=tuple(dataclasses.replace(t, anchor=None) if tasks is None or j in tasks else t
                                       for j, t in enumerate(problem.tasks)))


def earliest(problem: Problem) -> Propagation:
    """Each task's earliest start and end by precedences, releases and outages alone (:func:`propagate` without
    anchors, any mode): true of every plan. Raises PlanError as :func:`propagate` does."""
    return propagate(without_anchors(problem), [None] * len(problem.tasks))


def must_move(problem: Problem) -> int:
    """How many anchored tasks move in every plan: their :func:`earliest` start is after their anchor. A lower bound
    on the moves of any plan."""
    try:
        first = earliest(problem).starts
    except PlanError:
        return 0
    return sum(1 for j in problem.anchored if first[j] > (problem.tasks[j].anchor or 0))


#: Horizons (periods from time 0) of the windows whose fewest moves bound the whole problem's (``moves_lower_bound``).
MOVES_WINDOWS = (10, 20, 40, 80)


def _pool_groups(problem: Problem) -> list[list[int]]:
    """Tasks grouped by the renewable resources their modes use, resources joined when one task's modes use both:
    each group holds the tasks all of whose modes use only that group's resources (tasks using none are left out)."""
    parent = {r: r for r in problem.renewable}

    def root(r: int) -> int:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    uses = [sorted({r for m in t.modes for r, _ in m.demands if r in parent}) for t in problem.tasks]
    for rs in uses:
        for r in rs[1:]:
            parent[root(r)] = root(rs[0])
    groups: dict[int, list[int]] = {}
    for j, rs in enumerate(uses):
        if rs:
            groups.setdefault(root(rs[0]), []).append(j)
    return [g for _, g in sorted(groups.items())]


@dataclass(frozen=True)
class MovesBound:
    """What :func:`moves_lower_bound` found: the bound, and the tasks the relaxations' best plans move (the pool
    groups' together, then each window's), which :func:`fewest_moves` tries to move alone in the whole problem."""

    bound: int
    moved_sets: tuple[frozenset[int], ...] = ()


def moves_lower_bound(problem: Problem, start: Schedule, *, time_limit_s: float, seed: int = 0) -> MovesBound:
    """A lower bound on the anchored tasks any plan of ``problem`` moves, from relaxations of it that CP-SAT can
    prove quickly (``cpsat.solve_fewest_moves``, hinted with ``start``).

    A relaxation keeps some tasks, with the precedences between them and each release raised to the task's earliest
    start by precedences, releases and outages in the whole problem (true of every plan), and drops the rest. Every
    plan of the whole problem, restricted to the kept tasks, is a plan of the relaxation moving the same of them, so
    the relaxation's fewest moves (or CP-SAT's proven bound on them) bounds the whole problem's moves among the kept
    tasks. Two families: the *pool groups* (:func:`_pool_groups`; disjoint, so their bounds add up) and the *windows*
    of ``MOVES_WINDOWS`` (the anchored tasks whose anchor is before T, solved in turn until one is not proven). The
    bound is the better of the two. Each solve gets at most a quarter of the time left. A move forced through
    precedences between pools by another move is missed by both, so this bounds, it does not decide.
    """
    from sapper.plan.cpsat import solve_fewest_moves

    t0 = time.perf_counter()
    try:
        first = earliest(problem).starts
    except PlanError:
        return MovesBound(0)

    def fewest(keep: list[int]) -> tuple[int, bool, frozenset[int]] | None:
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0.2:
            return None
        index = {j: k for k, j in enumerate(keep)}
        tasks = tuple(Task(problem.tasks[j].name, problem.tasks[j].modes, 0,
                           max(problem.tasks[j].release, first[j]), problem.tasks[j].deadline,
                           problem.tasks[j].anchor) for j in keep)
        precs = tuple(Precedence(index[p.pred], index[p.succ], p.lag) for p in problem.precedences
                      if p.pred in index and p.succ in index)
        part = problem.replace(tasks=tasks, precedences=precs, then=(), move_cost=1)
        hint = Schedule(tuple(start.starts[j] for j in keep), tuple(start.modes[j] for j in keep))
        out = solve_fewest_moves(part, time_limit_s=left / 4, seed=seed, hint=hint)
        moved = frozenset(keep[k] for k in moved_tasks(part, out.schedule)) if out.schedule is not None else None
        bound = 0 if out.bound is None else math.ceil(out.bound - 1e-6)
        return bound, out.status == "optimal", moved if moved is not None else frozenset()

    by_pools = 0
    pools_moved: set[int] = set()
    sets: list[frozenset[int]] = []
    for group in _pool_groups(problem):
        if any(problem.tasks[j].anchor is not None for j in group):
            found = fewest(group)
            by_pools += found[0] if found else 0
            pools_moved |= found[2] if found else set()
    sets.append(frozenset(pools_moved))
    by_windows = 0
    last = -1
    for horizon in MOVES_WINDOWS:
        keep = [j for j in problem.anchored if (problem.tasks[j].anchor or 0) < horizon]
        if len(keep) == last:
            break
        last = len(keep)
        found = fewest(keep)
        if found is None:
            break
        by_windows = max(by_windows, found[0])
        sets.append(found[2])
        if not found[1]:
            break
    return MovesBound(max(by_pools, by_windows), tuple(sets))


def fewest_moves(problem: Problem, start: Schedule, params: SolveParams, details: dict[str, object], *,
                 time_limit_s: float) -> tuple[Schedule, int]:
    """The plan with the fewest moves found from ``start`` in ``time_limit_s`` and a bound on the moves of any plan
    (``solve(start=..., moves=MovePolicy.FEWEST)``): the tasks that must move by precedences alone
    (:func:`must_move`), relaxations (:func:`moves_lower_bound`), then CP-SAT on the whole problem with that bound,
    which stops as soon as it finds a plan that meets it.

    ``details`` gets ``fewest_moves`` (the moves of that plan), ``fewest_moves_bound`` (no plan moves fewer: the best
    of CP-SAT's bound, the relaxations' and the tasks that must move by precedences alone) and
    ``fewest_moves_proven`` (the two meet)."""
    t0 = time.perf_counter()
    moves = len(moved_tasks(problem, start))
    floor = must_move(problem)
    best, proven = start, moves <= floor
    if params.engine is Engine.CPSAT and not proven:
        from sapper.plan.cpsat import solve_fewest_moves

        share = time_limit_s
        if len(problem.tasks) > LARGE_PROBLEM_TASKS:
            relaxed = moves_lower_bound(problem, start, time_limit_s=share / 3, seed=params.seed)
            floor = max(floor, relaxed.bound)
            details["fewest_moves_relaxation_bound"] = floor
            guided = _repair_moving(problem, start, relaxed.moved_sets)
            if guided is not None and len(moved_tasks(problem, guided)) < moves:
                verify(problem, guided, "the plan repaired around the relaxations' moves")
                best, moves = guided, len(moved_tasks(problem, guided))
                details["fewest_moves_from_relaxations"] = moves
        if moves > floor and share - (time.perf_counter() - t0) > 1.0:
            out = solve_fewest_moves(problem, time_limit_s=share - (time.perf_counter() - t0), seed=params.seed,
                                     hint=best, log=params.log, at_least=floor)
            details["fewest_moves_status"] = out.status
            if out.status == "infeasible":
                raise PlanError("CP-SAT says infeasible, but the repaired previous plan is feasible: a bound on the "
                                "moves is wrong or the solver is at fault")
            if out.schedule is not None:
                verify(problem, out.schedule, "CP-SAT fewest-moves schedule")
                found = len(moved_tasks(problem, out.schedule))
                if out.objective is not None and found != round(out.objective):
                    raise PlanError(f"CP-SAT reported {out.objective} moves, the checker counts {found}")
                if found < moves:
                    best, moves = out.schedule, found
            if out.bound is not None:
                if out.status == "optimal" and moves > round(out.objective or 0):
                    details["false_proof"] = True  # a plan with fewer moves than the claimed minimum: no bound
                else:
                    floor = max(floor, math.ceil(out.bound - 1e-6))
        if best is not start and not problem.non_renewable:
            compacted = compact(problem, best)
            if compacted is not best:
                verify(problem, compacted, "the fewest-moves plan compacted")
                details["fewest_moves_compacted"] = float(objective_value(problem, best)) - float(
                    objective_value(problem, compacted))
                best, moves = compacted, len(moved_tasks(problem, compacted))
        details["fewest_moves_seconds"] = round(time.perf_counter() - t0, 2)
        proven = moves <= floor
    details.update(fewest_moves=moves, fewest_moves_bound=floor, fewest_moves_proven=proven)
    return best, floor


def compact(problem: Problem, schedule: Schedule) -> Schedule:
    """``schedule`` with the tasks it does not keep at their anchor placed again, as early as the kept ones allow: a
    :func:`repair` of ``problem`` with those anchors dropped, in ``schedule``'s order and modes, for each of
    ``CASCADES``; the best by ``problem``'s objective among those that move no more tasks than ``schedule``, or
    ``schedule`` itself when none is better. A fewest-moves plan from CP-SAT optimises the moves alone and may leave
    every task it is free to place late; compacting it keeps its moves and wins back that time."""
    moved = moved_tasks(problem, schedule)
    freed = without_anchors(problem, moved)
    order = [-float(t) for t in schedule.starts]
    modes: list[int | None] = list(schedule.modes)
    best, best_obj = schedule, objective_value(problem, schedule)
    for cascade in CASCADES:
        try:
            s = repair(freed, order, modes, cascade=cascade)
        except PlanError:
            continue
        obj = objective_value(problem, s)
        if len(moved_tasks(problem, s)) <= len(moved) and obj < best_obj:
            best, best_obj = s, obj
    return best


def _repair_moving(problem: Problem, start: Schedule, moved_sets: Sequence[frozenset[int]]) -> Schedule | None:
    """The plan with the fewest moves among :func:`repair`s of ``problem`` in ``start``'s order, each with one of
    ``moved_sets`` let free (their anchors dropped) and every other anchored task kept at its anchor where it can be;
    None when no repair succeeds. The relaxations' best plans often show which tasks can absorb the disruption; the
    whole problem may then need no other move."""
    order = [-float(t) for t in start.starts]
    modes: list[int | None] = list(start.modes)
    best: tuple[int, Schedule] | None = None
    for moved in moved_sets:
        freed = without_anchors(problem, moved)
        for cascade in CASCADES:
            try:
                s = repair(freed, order, modes, cascade=cascade)
            except PlanError:
                continue
            count = len(moved_tasks(problem, s))
            if best is None or count < best[0]:
                best = (count, s)
    return best[1] if best is not None else None
