"""Large-neighbourhood search for region-sized problems: CP-SAT on time windows of the current plan.

CP-SAT's own neighbourhoods are too slow on a 10,000-task model with two cores (one call took 17–34 s, measured on
a 20,000-task instance), so sapper builds the neighbourhoods itself: the work tasks that start in a window of the
current schedule are freed, everything else stays fixed, and the window becomes a small, ordinary ``Problem``:
- a freed task's release is pushed to the end (+ lag) of its fixed predecessors, and its deadline pulled to the
  start (− lag) of its fixed successors;
- fixed tasks' resource use becomes unavailable capacity, and what their modes spend of each budget (non-renewable
  resource) is spent by one extra task of no duration and no weight, placed last;
- what fixed tasks spend in each window of a budget per period is taken off that window's capacity;
- resource-free milestones (e.g. "released", "restored") whose predecessors are freed are freed too, so an earlier
  finish shows in the objective;
- a freed task keeps its anchor (its start in a previous plan) and the sub-problem the move cost, so a window weighs
  moving a task against what it gains, as the whole problem does.
Fixed tasks do not move, so the sub-problem's objective differs from the whole one by a constant: an improvement
found in a window is an improvement of the plan. The current schedule is the sub-problem's hint, so no window makes
the plan worse. Every accepted schedule is checked independently by the caller.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sapper.plan.problem import Mode, PeriodBudget, Precedence, Problem, Resource, Task
from sapper.plan.solution import Schedule, objective_value

#: A sub-solver: (problem, hint, time limit) → improved schedule or None. The CP-SAT one is passed in by ``solve``.
SubSolver = Callable[[Problem, Schedule, float], Schedule | None]


@dataclass(frozen=True)
class LnsStats:
    windows: int
    improved: int
    start_objective: float
    objective: float
    seconds: float


def _window_problem(problem: Problem, schedule: Schedule, free: list[int]) -> tuple[Problem, Schedule]:
    """The sub-problem over ``free`` tasks with everything else fixed, and the current schedule restricted to it."""
    n = len(problem.tasks)
    is_free = np.zeros(n, dtype=bool)
    is_free[free] = True
    local = {j: k for k, j in enumerate(free)}
    ends = schedule.ends(problem)
    horizon = problem.horizon
    tasks: list[Task] = []
    for j in free:
        t = problem.tasks[j]
        release = t.release
        for p, lag in problem.predecessors[j]:
            if not is_free[p]:
                release = max(release, ends[p] + lag)
        deadline = t.deadline
        for s, lag in problem.successors[j]:
            if not is_free[s]:
                limit = schedule.starts[s] - lag
                deadline = limit if deadline is None else min(deadline, limit)
        tasks.append(Task(t.name, t.modes, t.weight, release, deadline, t.anchor))
    precs = tuple(Precedence(local[p.pred], local[p.succ], p.lag) for p in problem.precedences
                  if is_free[p.pred] and is_free[p.succ])
    resources: list[Resource] = []
    fixed = np.flatnonzero(~is_free).tolist()
    spent: list[tuple[int, int]] = []
    # The fixed tasks' load is counted here, not with the checker's code, so that the checker stays independent.
    for r, res in enumerate(problem.resources):
        if not res.renewable:
            units = sum(u for j in fixed for rr, u in problem.tasks[j].modes[schedule.modes[j]].demands if rr == r)
            if units:
                spent.append((r, units))
            resources.append(res)
            continue
        use = np.zeros(horizon + 1, dtype=np.int64)
        for s, e, u in res.unavailable:
            use[s] += u
            use[e] -= u
        for j in fixed:
            mode = problem.tasks[j].modes[schedule.modes[j]]
            if mode.duration == 0:
                continue
            for rr, u in mode.demands:
                if rr == r:
                    use[schedule.starts[j]] += u
                    use[ends[j]] -= u
        load = np.cumsum(use)[:horizon]
        change = np.flatnonzero(np.diff(load, prepend=0, append=0))
        spans = []
        for a, b in itertools.pairwise(change):
            if load[a] > 0:
                spans.append((int(a), int(b), int(load[a])))
        resources.append(Resource(res.name, res.capacity, tuple(spans)))
    starts = [schedule.starts[j] for j in free]
    modes = [schedule.modes[j] for j in free]
    if spent:
        # What the fixed tasks spend of each budget, as one last task of no duration and no weight: the budget keeps
        # its capacity (so every mode stays valid) and the window's tasks share what is left.
        tasks.append(Task("budget spent outside the window", (Mode(0, tuple(spent)),)))
        starts.append(0)
        modes.append(0)
    budgets = []
    for k, budget in enumerate(problem.budgets):
        left = [cap for _, _, cap in budget.windows]
        for j in fixed:
            mode = problem.tasks[j].modes[schedule.modes[j]]
            rate = sum(r for bb, r in mode.costs if bb == k)
            if rate and mode.duration:
                for w, (w_start, w_end, _) in enumerate(budget.windows):
                    left[w] -= rate * max(0, min(int(ends[j]), w_end) - max(schedule.starts[j], w_start))
        budgets.append(PeriodBudget(budget.name, tuple((w_start, w_end, max(0, c)) for (w_start, w_end, _), c
                                                       in zip(budget.windows, left, strict=True))))
    sub = Problem(tuple(resources), tuple(tasks), precs, horizon, problem.objective, move_cost=problem.move_cost,
                  budgets=tuple(budgets))
    return sub, Schedule(tuple(starts), tuple(modes))


def _with_milestones(problem: Problem, core: list[int]) -> list[int]:
    """``core`` plus resource-free successors (transitively) of freed tasks."""
    chosen = set(core)
    stack = list(core)
    while stack:
        j = stack.pop()
        for s, _ in problem.successors[j]:
            if s not in chosen and all(not m.demands for m in problem.tasks[s].modes):
                chosen.add(s)
                stack.append(s)
    return sorted(chosen)


def window_lns(problem: Problem, schedule: Schedule, sub_solver: SubSolver, *, time_limit_s: float,
               window_tasks: int = 400, window_seconds: float = 4.0) -> tuple[Schedule, LnsStats]:
    """Sweep windows of ``window_tasks`` work tasks (by start time) over the plan, repeatedly, until the time is up."""
    t0 = time.perf_counter()
    start_obj = float(objective_value(problem, schedule))
    best, best_obj = schedule, start_obj
    work = [j for j, t in enumerate(problem.tasks) if any(m.demands and m.duration for m in t.modes)]
    step = max(1, window_tasks // 2)
    windows = improved = 0
    while time.perf_counter() - t0 < time_limit_s - 0.5:
        order = sorted(work, key=lambda j: (best.starts[j], j))
        progressed = False
        for a in range(0, max(1, len(order) - step), step):
            left = time_limit_s - (time.perf_counter() - t0)
            if left < 0.5:
                break
            free = _with_milestones(problem, order[a:a + window_tasks])
            sub, hint = _window_problem(problem, best, free)
            found = sub_solver(sub, hint, min(window_seconds, left))
            windows += 1
            if found is None:
                continue
            starts = list(best.starts)
            modes = list(best.modes)
            for k, j in enumerate(free):
                starts[j], modes[j] = found.starts[k], found.modes[k]
            cand = Schedule(tuple(starts), tuple(modes))
            obj = float(objective_value(problem, cand))
            if obj < best_obj:
                best, best_obj = cand, obj
                improved += 1
                progressed = True
        if not progressed:
            window_tasks = int(window_tasks * 1.5)  # nothing left to gain at this size: try larger windows
            step = max(1, window_tasks // 2)
            if window_tasks > len(work) * 2:
                break
    return best, LnsStats(windows, improved, start_obj, best_obj, time.perf_counter() - t0)
