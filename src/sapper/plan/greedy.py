"""The serial schedule-generation scheme: the priority-list plan a person makes by hand.

Take the most important task whose predecessors are all scheduled, put it in the mode and at the earliest time where
its resources are free for its whole duration, and repeat. With the planner's own priority order this is the
*baseline* sapper must beat; with other priority rules it supplies CP-SAT's starting solutions.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from sapper.errors import PlanError
from sapper.plan.problem import Problem
from sapper.plan.solution import Schedule


def _earliest_fit(ok: np.ndarray, est: int, duration: int) -> int | None:
    """First t >= est with ok[t:t+duration] all True, or None."""
    if duration == 0:
        return est
    seg = ok[est:]
    bad = np.flatnonzero(~seg)
    starts = np.concatenate(([0], bad + 1))
    stops = np.concatenate((bad, [seg.size]))
    fits = np.flatnonzero(stops - starts >= duration)
    if fits.size == 0:
        return None
    return est + int(starts[fits[0]])


def serial_sgs(problem: Problem, priority: Sequence[float]) -> Schedule:
    """Schedule tasks one by one, highest ``priority`` first among those whose predecessors are scheduled.

    Ties go to the lower task index. Each task takes the mode that finishes earliest (ties: lower mode index).
    Raises PlanError if a task cannot be placed within the horizon.
    """
    n = len(problem.tasks)
    if len(priority) != n:
        raise PlanError(f"priority has {len(priority)} values for {n} tasks")
    horizon = problem.horizon
    free = [np.asarray(problem.capacity_profile(r), dtype=np.int64) for r in range(len(problem.resources))]
    preds = problem.predecessors
    succs = problem.successors
    waiting = [len(p) for p in preds]
    est = [t.release for t in problem.tasks]
    starts = [0] * n
    modes = [0] * n
    heap = [(-priority[j], j) for j in range(n) if waiting[j] == 0]
    heapq.heapify(heap)
    placed = 0
    while heap:
        _, j = heapq.heappop(heap)
        task = problem.tasks[j]
        best: tuple[int, int, int] | None = None  # (end, mode, start)
        for m, mode in enumerate(task.modes):
            if mode.duration == 0 or not mode.demands:
                t: int | None = est[j] if est[j] + mode.duration <= horizon else None
            else:
                ok = np.ones(horizon, dtype=bool)
                for r, units in mode.demands:
                    ok &= free[r] >= units
                t = _earliest_fit(ok, est[j], mode.duration)
            if t is None or t + mode.duration > horizon:
                continue
            if task.deadline is not None and t + mode.duration > task.deadline:
                continue
            cand = (t + mode.duration, m, t)
            if best is None or cand < best:
                best = cand
        if best is None:
            raise PlanError(f"task {j} ({task.name}) cannot be placed within the horizon of {horizon} periods")
        end, m, t = best
        starts[j], modes[j] = t, m
        for r, units in task.modes[m].demands:
            free[r][t:end] -= units
        placed += 1
        for k, lag in succs[j]:
            est[k] = max(est[k], end + lag)
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(heap, (-priority[k], k))
    if placed != n:
        raise PlanError("precedences left tasks unscheduled (cycle)")
    return Schedule(tuple(starts), tuple(modes))


def descendant_weight_rule(problem: Problem) -> list[float]:
    """A priority rule for weighted completion: weight of the task and all its descendants per unit of work.

    Descendant sets are approximated by summing over successors (a DAG may count a descendant twice, which only
    reweights the rule). A task that unlocks much weight for little work goes first.
    """
    n = len(problem.tasks)
    down = [float(t.weight) for t in problem.tasks]
    for j in reversed(problem.topological_order):
        for k, _ in problem.successors[j]:
            down[j] += down[k]
    return [down[j] / (1.0 + min(m.duration for m in problem.tasks[j].modes)) for j in range(n)]


def earliest_start_bound(problem: Problem) -> list[int]:
    """A lower bound on each task's end: precedence, release and full-capacity outages, ignoring other tasks.

    A mode may only run where each resource it uses has enough capacity left after the ``unavailable`` spans.
    """
    horizon = problem.horizon
    caps = [np.asarray(problem.capacity_profile(r), dtype=np.int64) for r in range(len(problem.resources))]
    es = [t.release for t in problem.tasks]
    ef = [0] * len(problem.tasks)
    for j in problem.topological_order:
        task = problem.tasks[j]
        best = None
        for mode in task.modes:
            if mode.duration == 0 or not mode.demands:
                t: int | None = es[j]
            else:
                ok = np.ones(horizon, dtype=bool)
                for r, units in mode.demands:
                    ok &= caps[r] >= units
                t = _earliest_fit(ok, es[j], mode.duration)
            if t is not None:
                end = t + mode.duration
                best = end if best is None else min(best, end)
        if best is None:
            raise PlanError(f"task {j} ({task.name}) cannot run within the horizon even alone")
        ef[j] = best
        for k, lag in problem.successors[j]:
            es[k] = max(es[k], best + lag)
    return ef

