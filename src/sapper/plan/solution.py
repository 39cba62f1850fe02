"""A schedule, and the independent checker every plan passes before sapper shows it.

The checker shares nothing with the solvers: it recomputes resource use per period from the start times and modes
alone, so a CP-SAT or greedy bug cannot hide behind its own bookkeeping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sapper.errors import Fault, PlanError
from sapper.plan.problem import Objective, Problem


@dataclass(frozen=True, slots=True)
class Schedule:
    """Start period and chosen mode index of every task, in task order."""

    starts: tuple[int, ...]
    modes: tuple[int, ...]

    def end(self, problem: Problem, j: int) -> int:
        return self.starts[j] + problem.tasks[j].modes[self.modes[j]].duration

    def ends(self, problem: Problem) -> list[int]:
        return [self.end(problem, j) for j in range(len(self.starts))]


def objective_value(problem: Problem, schedule: Schedule, objective: Objective | None = None) -> int:
    """``objective`` (default: the problem's first) of ``schedule``: weighted completion Σ w_j·end_j, or makespan.

    The first objective also counts ``move_cost`` for each anchored task moved (:func:`moved_tasks`).
    """
    wanted = objective or problem.objective
    ends = schedule.ends(problem)
    if wanted is Objective.MAKESPAN:
        value = max(ends, default=0)
    else:
        value = sum(t.weight * e for t, e in zip(problem.tasks, ends, strict=True))
    if wanted is problem.objective and problem.move_cost:
        value += problem.move_cost * len(moved_tasks(problem, schedule))
    return value


def moved_tasks(problem: Problem, schedule: Schedule) -> list[int]:
    """The anchored tasks that ``schedule`` does not start at their anchor (their start in the previous plan)."""
    return [j for j in problem.anchored if schedule.starts[j] != problem.tasks[j].anchor]


def objective_values(problem: Problem, schedule: Schedule) -> tuple[int, ...]:
    """Every objective of ``problem`` in its lexicographic order."""
    return tuple(objective_value(problem, schedule, o) for o in problem.objectives)


def check(problem: Problem, schedule: Schedule, *, max_faults: int = 50) -> list[Fault]:
    """Every way ``schedule`` breaks ``problem``: modes, release, deadline, horizon, precedence, capacity per period,
    budgets of non-renewable resources, budgets per window of periods (:func:`spending`).

    Returns an empty list when the schedule is feasible.
    """
    faults: list[Fault] = []
    n = len(problem.tasks)
    if len(schedule.starts) != n or len(schedule.modes) != n:
        return [Fault("schedule", f"has {len(schedule.starts)} starts and {len(schedule.modes)} modes for {n} tasks")]
    ends: list[int] = []
    for j, task in enumerate(problem.tasks):
        rec = f"task {j} ({task.name})"
        m = schedule.modes[j]
        if not 0 <= m < len(task.modes):
            faults.append(Fault(rec, f"mode {m} does not exist"))
            ends.append(schedule.starts[j])
            continue
        s = schedule.starts[j]
        e = s + task.modes[m].duration
        ends.append(e)
        if s < task.release:
            faults.append(Fault(rec, f"starts at {s}, before its release {task.release}"))
        if e > problem.horizon:
            faults.append(Fault(rec, f"ends at {e}, after the horizon {problem.horizon}"))
        if task.deadline is not None and e > task.deadline:
            faults.append(Fault(rec, f"ends at {e}, after its deadline {task.deadline}"))
    for p in problem.precedences:
        if schedule.starts[p.succ] < ends[p.pred] + p.lag:
            faults.append(Fault(f"task {p.succ} ({problem.tasks[p.succ].name})",
                                f"starts at {schedule.starts[p.succ]} before predecessor {p.pred} "
                                f"({problem.tasks[p.pred].name}) ends at {ends[p.pred]} + lag {p.lag}"))
            if len(faults) >= max_faults:
                return faults
    horizon = problem.horizon
    width = max([horizon, *ends]) + 1
    # One pass over the tasks for every resource (linear in the tasks, not tasks × resources: a national plan has
    # 160,000 tasks): each run's demand as +units at its start and −units at its end, per resource.
    spent = [0] * len(problem.resources)
    use = np.zeros((len(problem.resources), width + 1), dtype=np.int64)
    rows: list[int] = []
    cols: list[int] = []
    amounts: list[int] = []
    for j, task in enumerate(problem.tasks):
        m = schedule.modes[j]
        if not 0 <= m < len(task.modes):
            continue
        mode = task.modes[m]
        for rr, units in mode.demands:
            spent[rr] += units
            if mode.duration:
                rows += (rr, rr)
                cols += (schedule.starts[j], ends[j])
                amounts += (units, -units)
    if rows:
        np.add.at(use, (np.array(rows), np.array(cols)), np.array(amounts, dtype=np.int64))
    for r, res in enumerate(problem.resources):
        if not res.renewable:
            if spent[r] > res.capacity:
                faults.append(Fault(f"resource {r} ({res.name})",
                                    f"non-renewable: the chosen modes use {spent[r]} > {res.capacity}"))
            continue
        for s, e, u in res.unavailable:
            use[r, s] += u
            use[r, e] -= u
        load = np.cumsum(use[r])[:width]
        over = np.flatnonzero(load > res.capacity)
        if over.size:
            t = int(over[0])
            faults.append(Fault(f"resource {r} ({res.name})",
                                f"over capacity in {over.size} periods, first at {t}: "
                                f"{int(load[t])} > {res.capacity} (unavailable spans included)"))
    if problem.budgets and all(0 <= m < len(t.modes) for m, t in zip(schedule.modes, problem.tasks, strict=True)):
        for b, (budget, per_window) in enumerate(zip(problem.budgets, spending(problem, schedule), strict=True)):
            for (s, e, cap), used in zip(budget.windows, per_window, strict=True):
                if used > cap:
                    faults.append(Fault(f"budget {b} ({budget.name})",
                                        f"the tasks running in periods [{s}, {e}) spend {used} > {cap}"))
    return faults[:max_faults]


def spending(problem: Problem, schedule: Schedule) -> list[list[int]]:
    """For each budget per period, what ``schedule`` spends in each of its windows: every mode's rate × the periods
    of its run inside the window."""
    out: list[list[int]] = []
    for b, budget in enumerate(problem.budgets):
        spent = [0] * len(budget.windows)
        for j, task in enumerate(problem.tasks):
            mode = task.modes[schedule.modes[j]]
            rate = sum(r for bb, r in mode.costs if bb == b)
            if not rate or not mode.duration:
                continue
            s, e = schedule.starts[j], schedule.starts[j] + mode.duration
            for w, (a, z, _) in enumerate(budget.windows):
                inside = min(e, z) - max(s, a)
                if inside > 0:
                    spent[w] += rate * inside
        out.append(spent)
    return out


def verify(problem: Problem, schedule: Schedule, what: str) -> None:
    """Raise PlanError when ``schedule`` fails :func:`check`: no plan the checker rejects is ever returned."""
    faults = check(problem, schedule)
    if faults:
        raise PlanError(f"{what} failed the independent check: " + "; ".join(str(f) for f in faults[:5]))


def check_units(problem: Problem, schedule: Schedule, assigned: Sequence[Sequence[str]], *,
                roles: Mapping[str, frozenset[str]], home: Mapping[str, str], setup: int,
                initial: Mapping[str, str] | None = None, max_faults: int = 50) -> list[Fault]:
    """Every way the units ``assigned`` to ``schedule``'s tasks break the register: a unit it does not know, a unit
    given a lot in a role (the mode's name) it cannot work in (``roles``: unit → the roles it can take), a unit in two
    lots at once, and a lot in a borrowed role (not the unit's ``home`` role) that does not leave the unit ``setup``
    periods to take it up: the periods since its previous lot (or the start), when that lot was in another role, plus
    the set-up the lot's mode carries. ``initial``: the role each unit is set up in at time 0 (a re-plan: the role of
    its running lot, or of its last lot before the as-of date), so its first lot in that role needs no set-up; None
    (or a unit it does not name): none. Milestones and lots without a role are not checked. Empty when all is
    well."""
    faults: list[Fault] = []
    if len(assigned) != len(problem.tasks):
        return [Fault("assignment", f"names units for {len(assigned)} tasks of {len(problem.tasks)}")]
    lots: dict[str, list[tuple[int, int, str, int, int]]] = {}
    for j, task in enumerate(problem.tasks):
        mode = task.modes[schedule.modes[j]]
        if mode.duration == 0 or not mode.name:
            continue
        rec = f"task {j} ({task.name})"
        for u in assigned[j]:
            if u not in roles:
                faults.append(Fault(rec, f"is given to {u}, which is not in the register"))
                continue
            if mode.name not in roles[u]:
                faults.append(Fault(rec, f"is given to {u}, which cannot work in role {mode.name} "
                                         f"(it can: {', '.join(sorted(roles[u]))})"))
            lots.setdefault(u, []).append((schedule.starts[j], schedule.starts[j] + mode.duration, mode.name,
                                           mode.setup, j))
    for u, mine in sorted(lots.items()):
        mine.sort()
        prev: tuple[int, int, str, int, int] | None = None
        for s, e, role, set_up, j in mine:
            rec = f"task {j} ({problem.tasks[j].name})"
            if prev is not None and s < prev[1]:
                faults.append(Fault(rec, f"{u} is on task {prev[4]} ({problem.tasks[prev[4]].name}) until "
                                         f"{prev[1]} but starts this at {s}"))
            elif role != home.get(u) and (prev[2] != role if prev is not None else
                                          initial is None or initial.get(u) != role):
                free = s - (prev[1] if prev is not None else 0)
                if free + set_up < setup:
                    faults.append(Fault(rec, f"{u} takes up role {role} (its own is {home.get(u)}) with "
                                             f"{free + set_up} periods of set-up, fewer than {setup}"))
            prev = (s, e, role, set_up, j)
            if len(faults) >= max_faults:
                return faults
    return faults[:max_faults]
