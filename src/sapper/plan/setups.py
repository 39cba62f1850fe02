"""Set-up paid per change of role: a unit that does several lots in a row in one borrowed role sets up once.

The solvers plan on pools, where a lot in a borrowed role (a mode with ``setup``) carries its set-up whoever does it:
the pools do not know which unit does what, so that is the safe side. Which unit changes role is known only once units
are given to the lots, so the exact rule is applied after the solve, on the units' sequences:

1. Units are given to lots keeping each unit in the role it is in where one is free (``assign_units(by_role=True)``).
2. **Set-up only where the role changes**: a lot in a borrowed role whose unit's previous lot was in the same role
   takes the mode without set-up (its duration less the set-up; :func:`with_continuing_modes` adds such a mode after
   the task's own modes). A lot after a lot in another role, or the unit's first lot, keeps its set-up; a lot in the
   unit's own role never has one.
3. **Left shift**: in the order of the solved starts, each task starts as early as its predecessors (with their lags),
   its release and its units' previous lots allow, but never later than it was, and only into periods in which its
   pools have every unit (no stand-down or absence), so no unit is given work while away. Tasks anchored at a previous
   plan's start (a re-plan) keep their start.

The result is kept only when the independent checkers accept it (``check``: capacities, precedences, budgets;
``check_units``: roles and set-up exactly where a unit's role changes) and its objective is no worse; otherwise the
solved plan stands, with set-up on every lot in a borrowed role.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sapper.plan.assign import assign_units
from sapper.plan.bounds import chain_lower_bound
from sapper.plan.greedy import earliest_start_bound
from sapper.plan.problem import Mode, Problem, Task
from sapper.plan.solution import Schedule, check, check_units, objective_value


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """A plan with set-up per change of role: the problem its modes index, the schedule, the units per task."""

    problem: Problem
    schedule: Schedule
    assigned: tuple[tuple[str, ...], ...]
    #: Lots in a borrowed role that follow a lot in the same role on their unit, so set up no more.
    continued: int
    #: True when the per-change schedule was kept (False: the solved plan stands, set-up on every borrowed lot).
    applied: bool


def with_continuing_modes(problem: Problem) -> tuple[Problem, dict[tuple[int, int], int]]:
    """``problem`` with, for each mode carrying set-up, the same mode without it (``duration - setup``, ``setup`` 0)
    appended after the task's modes, so the solved modes keep their indices; and (task, mode) → that mode's index."""
    tasks: list[Task] = []
    cont: dict[tuple[int, int], int] = {}
    for j, t in enumerate(problem.tasks):
        extra: list[Mode] = []
        for m, mode in enumerate(t.modes):
            if mode.setup > 0:
                cont[j, m] = len(t.modes) + len(extra)
                extra.append(dataclasses.replace(mode, duration=mode.duration - mode.setup, setup=0))
        tasks.append(dataclasses.replace(t, modes=(*t.modes, *extra)) if extra else t)
    return (problem.replace(tasks=tuple(tasks)) if cont else problem), cont


def _topological(problem: Problem, starts: Sequence[int]) -> list[int]:
    """Tasks in order of ``starts``, every predecessor before its successors (ties: task index)."""
    n = len(problem.tasks)
    indeg = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for p in problem.precedences:
        succ[p.pred].append(p.succ)
        indeg[p.succ] += 1
    heap = [(starts[j], j) for j in range(n) if indeg[j] == 0]
    heapq.heapify(heap)
    out: list[int] = []
    while heap:
        _, j = heapq.heappop(heap)
        out.append(j)
        for k in succ[j]:
            indeg[k] -= 1
            if indeg[k] == 0:
                heapq.heappush(heap, (starts[k], k))
    return out


def _closed_after(problem: Problem) -> list[list[int]]:
    """Per resource and period t, the first period ≥ t in which the resource lacks a unit (horizon when none)."""
    out = []
    for r, res in enumerate(problem.resources):
        prof = problem.capacity_profile(r)
        nxt = [len(prof)] * (len(prof) + 1)
        for t in range(len(prof) - 1, -1, -1):
            nxt[t] = t if prof[t] < res.capacity else nxt[t + 1]
        out.append(nxt)
    return out


def per_change_setup(problem: Problem, schedule: Schedule, units: Sequence[Sequence[str]], *,
                     roles: Mapping[str, frozenset[str]], home: Mapping[str, str], setup: int,
                     prefer: Sequence[Sequence[str]] | None = None) -> SetupPlan:
    """``schedule`` (of ``problem``, set-up on every lot in a borrowed role) with set-up paid per change of role on
    the units ``units[r]`` of each resource (module docstring). ``roles``, ``home`` and ``setup`` as for
    ``check_units``; ``prefer`` as for ``assign_units``."""
    def solved() -> SetupPlan:
        return SetupPlan(problem, schedule, tuple(assign_units(problem, schedule, units, prefer=prefer)), 0, False)

    if setup <= 0 or not any(m.setup for t in problem.tasks for m in t.modes):
        return solved()
    assigned = assign_units(problem, schedule, units, prefer=prefer, by_role=True)
    exact, cont = with_continuing_modes(problem)
    n = len(problem.tasks)
    # 2. Set-up only where the unit's role changes.
    by_unit: dict[str, list[tuple[int, int]]] = defaultdict(list)  # unit → (start, task)
    for j, task in enumerate(problem.tasks):
        if task.modes[schedule.modes[j]].duration > 0:
            for u in assigned[j]:
                by_unit[u].append((schedule.starts[j], j))
    keeps_role = [True] * n  # every unit of the task was in the task's role on its previous lot
    for lots in by_unit.values():
        lots.sort()
        prev_role: str | None = None
        for _, j in lots:
            role = problem.tasks[j].modes[schedule.modes[j]].name
            keeps_role[j] = keeps_role[j] and prev_role == role
            prev_role = role
    modes = list(schedule.modes)
    continued = 0
    for j in range(n):
        c = cont.get((j, schedule.modes[j]))
        if c is not None and assigned[j] and keeps_role[j]:
            modes[j] = c
            continued += 1
    # 3. Left shift, in the solved order, into periods in which the task's pools have every unit.
    preds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for p in problem.precedences:
        preds[p.succ].append((p.pred, p.lag))
    closed = _closed_after(exact)
    starts = list(schedule.starts)
    ends = [0] * n
    unit_free: dict[str, int] = defaultdict(int)
    for j in _topological(problem, schedule.starts):
        task = exact.tasks[j]
        mode = task.modes[modes[j]]
        old = schedule.starts[j]
        t = max([task.release, *(ends[a] + lag for a, lag in preds[j]), *(unit_free[u] for u in assigned[j])])
        if task.anchor is not None or t >= old:
            t = old
        elif mode.duration > 0 and mode.demands:
            while t < old:
                blocked = min(closed[r][t] for r, _ in mode.demands)
                if blocked >= t + mode.duration:
                    break
                t = blocked + 1
            t = min(t, old)
        starts[j] = t
        ends[j] = t + mode.duration
        for u in assigned[j]:
            unit_free[u] = ends[j]
    shifted = Schedule(tuple(starts), tuple(modes))
    if check(exact, shifted) or check_units(exact, shifted, assigned, roles=roles, home=home, setup=setup) \
            or objective_value(exact, shifted) > objective_value(problem, schedule):
        return solved()
    return SetupPlan(exact, shifted, tuple(assigned), continued, True)


def lower_bound(problem: Problem) -> float:
    """The bound of ``plan.bounds`` (the larger of the fluid and the chain bounds) of ``problem`` with
    ``greedy.earliest_start_bound``: for a problem from :func:`with_continuing_modes`, in which any lot may skip its
    set-up, a bound on every plan with set-up per change of role."""
    return chain_lower_bound(problem, earliest_start_bound(problem))
