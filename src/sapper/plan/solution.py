"""A schedule, and the independent checker every plan passes before sapper shows it.

The checker shares nothing with the solvers: it recomputes resource use per period from the start times and modes
alone, so a CP-SAT or greedy bug cannot hide behind its own bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapper.errors import Fault
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


def objective_value(problem: Problem, schedule: Schedule) -> int:
    """The objective of ``schedule``: weighted completion Σ w_j·end_j, or the makespan."""
    ends = schedule.ends(problem)
    if problem.objective is Objective.MAKESPAN:
        return max(ends, default=0)
    return sum(t.weight * e for t, e in zip(problem.tasks, ends, strict=True))


def check(problem: Problem, schedule: Schedule, *, max_faults: int = 50) -> list[Fault]:
    """Every way ``schedule`` breaks ``problem``: modes, release, deadline, horizon, precedence, capacity per period.

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
    for r, res in enumerate(problem.resources):
        use = np.zeros(width + 1, dtype=np.int64)
        for s, e, u in res.unavailable:
            use[s] += u
            use[e] -= u
        for j, task in enumerate(problem.tasks):
            m = schedule.modes[j]
            if not 0 <= m < len(task.modes):
                continue
            mode = task.modes[m]
            if mode.duration == 0:
                continue
            for rr, units in mode.demands:
                if rr == r:
                    use[schedule.starts[j]] += units
                    use[ends[j]] -= units
        load = np.cumsum(use)[:width]
        over = np.flatnonzero(load > res.capacity)
        if over.size:
            t = int(over[0])
            faults.append(Fault(f"resource {r} ({res.name})",
                                f"over capacity in {over.size} periods, first at {t}: "
                                f"{int(load[t])} > {res.capacity} (unavailable spans included)"))
    return faults[:max_faults]
