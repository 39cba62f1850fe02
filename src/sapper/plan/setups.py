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

A re-plan gives a lot that ran without set-up in the previous plan that mode (``services.replan``), which the solvers
may place after a change of role: such a lot keeps it only where its units continue the role (or were idle ``setup``
periods before it, the set-up taken then) and gets its set-up back elsewhere; it and what follows it (on its units,
by precedence) may then start later than solved, at the first time their pools have every unit.

The result is kept only when the independent checkers accept it (``check``: capacities, precedences, budgets;
``check_units``: roles and set-up exactly where a unit's role changes) and its objective is no worse; otherwise the
solved plan stands, with set-up on every lot in a borrowed role (put back on the lots solved without it, so repaired
the same way, when there are any).
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
    #: Lots solved without set-up (a re-plan's lots that continued a role) whose unit does not continue it: they get
    #: their set-up back.
    restored: int = 0


def with_continuing_modes(problem: Problem) -> tuple[Problem, dict[tuple[int, int], int]]:
    """``problem`` with, for each mode carrying set-up, the same mode without it (``duration - setup``, ``setup`` 0)
    appended after the task's modes, so the solved modes keep their indices; and (task, mode) → that mode's index.
    A task that already has that mode (a re-plan gives it to a lot that continued a role, ``services.replan``)
    keeps it: its index is the one given."""
    tasks: list[Task] = []
    cont: dict[tuple[int, int], int] = {}
    changed = False
    for j, t in enumerate(problem.tasks):
        extra: list[Mode] = []
        for m, mode in enumerate(t.modes):
            if mode.setup > 0:
                free = continuing_mode(mode)
                have = next((c for c, other in enumerate(t.modes) if other == free), None)
                if have is None:
                    have = len(t.modes) + len(extra)
                    extra.append(free)
                cont[j, m] = have
        tasks.append(dataclasses.replace(t, modes=(*t.modes, *extra)) if extra else t)
        changed = changed or bool(extra)
    return (problem.replace(tasks=tuple(tasks)) if changed else problem), cont


def continuing_mode(mode: Mode) -> Mode:
    """``mode`` (in a borrowed role, with set-up) without its set-up: what a unit that continues the role takes."""
    return dataclasses.replace(mode, duration=mode.duration - mode.setup, setup=0)


def order_by_starts(problem: Problem, starts: Sequence[int]) -> list[int]:
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
    ``check_units``; ``prefer`` as for ``assign_units``. A lot solved in a mode without set-up that ``problem``
    already has (a re-plan's lot that continued a role) keeps it only where its units really continue the role or
    were idle ``setup`` periods before it; elsewhere it gets its set-up back, later lots moving later if they must."""
    def solved() -> SetupPlan:
        return SetupPlan(problem, schedule, tuple(assign_units(problem, schedule, units, prefer=prefer)), 0, False)

    if setup <= 0 or not any(m.setup for t in problem.tasks for m in t.modes):
        return solved()
    exact, cont = with_continuing_modes(problem)
    back = {(j, c): m for (j, m), c in cont.items()}  # (task, mode without set-up) → the mode with it
    solved_free = [j for j in range(len(problem.tasks)) if (j, schedule.modes[j]) in back]

    def valid(plan: SetupPlan) -> bool:
        return not check(plan.problem, plan.schedule) and not check_units(
            plan.problem, plan.schedule, plan.assigned, roles=roles, home=home, setup=setup)

    assigned = assign_units(problem, schedule, units, prefer=prefer, by_role=True)
    modes, lead, continued, restored = _per_change_modes(problem, schedule, assigned, cont, back, setup)
    shifted = _repair(exact, schedule, modes, assigned, lead)
    candidates: list[SetupPlan] = []
    if shifted is not None:
        candidates.append(SetupPlan(exact, shifted, tuple(assigned), continued, True, restored))
    if not solved_free:  # the solver's plan has set-up on every borrowed lot: valid as it stands
        candidates.append(solved())
    else:  # set-up back on every lot: the plan valid whatever units do what
        everywhere = _repair(exact, schedule, [back.get((j, m), m) for j, m in enumerate(schedule.modes)], assigned)
        if everywhere is not None and not check(exact, everywhere):
            candidates.append(SetupPlan(exact, everywhere, tuple(assign_units(exact, everywhere, units, prefer=prefer)),
                                        0, True, len(solved_free)))
    kept = [c for c in candidates if valid(c)]
    if not kept:
        return solved()
    return min(kept, key=lambda c: (objective_value(c.problem, c.schedule), not c.applied))


def _per_change_modes(problem: Problem, schedule: Schedule, assigned: Sequence[Sequence[str]],
                      cont: Mapping[tuple[int, int], int], back: Mapping[tuple[int, int], int],
                      setup: int) -> tuple[list[int], list[int], int, int]:
    """The mode of each task with set-up only where its units change role (2. of the module docstring), the idle
    periods each task needs on its units before it (``setup`` for a lot solved without set-up that keeps it because
    its units are idle that long before it), the lots that continue a role, and the lots solved without set-up that
    get it back."""
    n = len(problem.tasks)
    by_unit: dict[str, list[tuple[int, int]]] = defaultdict(list)  # unit → (start, task)
    for j, task in enumerate(problem.tasks):
        if task.modes[schedule.modes[j]].duration > 0:
            for u in assigned[j]:
                by_unit[u].append((schedule.starts[j], j))
    keeps_role = [True] * n  # every unit of the task was in the task's role on its previous lot
    idle = [True] * n  # every unit of the task was idle ``setup`` periods before it (or kept its role)
    for lots in by_unit.values():
        lots.sort()
        prev_role: str | None = None
        prev_end = 0
        for s, j in lots:
            mode = problem.tasks[j].modes[schedule.modes[j]]
            keeps = prev_role == mode.name
            keeps_role[j] = keeps_role[j] and keeps
            # The mode without set-up ends ``setup`` periods sooner, the idle time before it is as solved.
            idle[j] = idle[j] and (keeps or s - prev_end >= setup)
            prev_role, prev_end = mode.name, s + mode.duration
    modes = list(schedule.modes)
    lead = [0] * n
    continued = restored = 0
    for j in range(n):
        m = schedule.modes[j]
        if (j, m) in cont and assigned[j] and keeps_role[j]:
            modes[j] = cont[j, m]
            continued += 1
        elif (j, m) in back:
            if assigned[j] and (keeps_role[j] or idle[j]):
                continued += 1
                lead[j] = 0 if keeps_role[j] else setup
            else:
                modes[j] = back[j, m]
                restored += 1
    return modes, lead, continued, restored


def _repair(exact: Problem, schedule: Schedule, modes: Sequence[int], assigned: Sequence[Sequence[str]],
            lead: Sequence[int] | None = None) -> Schedule | None:
    """``schedule`` in ``modes`` (of ``exact``) with the units ``assigned`` (3. of the module docstring): in the
    solved order, each task as early as its predecessors, release and units allow, no later than solved, only into
    periods in which its pools have every unit when it moves; a task that cannot start where it was solved (a lot
    before it on its unit or a predecessor got its set-up back) starts at the first such time after. None when that
    runs past the horizon. ``lead[j]``: periods task j's units must be idle before it (its set-up, taken then)."""
    n = len(exact.tasks)
    preds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for p in exact.precedences:
        preds[p.succ].append((p.pred, p.lag))
    closed = _closed_after(exact)
    starts = list(schedule.starts)
    ends = [0] * n
    unit_free: dict[str, int] = defaultdict(int)
    for j in order_by_starts(exact, schedule.starts):
        task = exact.tasks[j]
        mode = task.modes[modes[j]]
        old = schedule.starts[j]
        idle = lead[j] if lead else 0
        t = max([task.release, *(ends[a] + lag for a, lag in preds[j]), *(unit_free[u] + idle for u in assigned[j])])
        if t <= old and (task.anchor is not None or t == old):
            t = old
        elif mode.duration > 0 and mode.demands:
            limit = old if t < old else exact.horizon
            while t < limit:
                blocked = min(closed[r][t] for r, _ in mode.demands)
                if blocked >= t + mode.duration:
                    break
                t = blocked + 1
            if t >= limit:  # no room before where it was solved: stays there; none before the horizon: no plan
                if limit != old:
                    return None
                t = old
        starts[j] = t
        ends[j] = t + mode.duration
        for u in assigned[j]:
            unit_free[u] = ends[j]
    return Schedule(tuple(starts), tuple(modes))


def continued_lots(problem: Problem, schedule: Schedule, assigned: Sequence[Sequence[str]],
               home: Mapping[str, str]) -> int:
    """Lots in a borrowed role whose every unit's previous lot was in the same role (so set up no more)."""
    by_unit: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for j, task in enumerate(problem.tasks):
        if task.modes[schedule.modes[j]].duration > 0:
            for u in assigned[j]:
                by_unit[u].append((schedule.starts[j], j))
    keeps = [bool(assigned[j]) for j in range(len(problem.tasks))]
    for u, lots in by_unit.items():
        lots.sort()
        prev: str | None = None
        for _, j in lots:
            role = problem.tasks[j].modes[schedule.modes[j]].name
            keeps[j] = keeps[j] and prev == role and role != home.get(u)
            prev = role
    return sum(keeps)


def lower_bound(problem: Problem) -> float:
    """The bound of ``plan.bounds`` (the larger of the fluid and the chain bounds) of ``problem`` with
    ``greedy.earliest_start_bound``: for a problem from :func:`with_continuing_modes`, in which any lot may skip its
    set-up, a bound on every plan with set-up per change of role."""
    return chain_lower_bound(problem, earliest_start_bound(problem))
