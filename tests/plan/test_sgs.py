"""Schedule generation: the parallel scheme's plans are feasible and non-delay; the serial scheme's may not be."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sapper.errors import PlanError
from sapper.io.psplib import read_instance
from sapper.plan import Mode, Objective, Precedence, Problem, Resource, SolveParams, Task, check, objective_value, solve
from sapper.plan.greedy import longest_tail_rule, parallel_sgs, serial_sgs
from sapper.plan.solution import Schedule

from .conftest import random_problem

DATA = Path(__file__).parents[1] / "data" / "psplib"


def _delayed(problem: Problem, schedule: Schedule) -> list[tuple[int, int]]:
    """(task, t) pairs where the task was ready at ``t`` < its start and its mode fitted from ``t`` on what the tasks
    started by ``t`` and the outages leave: a plan with none is non-delay."""
    starts, modes, ends = schedule.starts, schedule.modes, schedule.ends(problem)
    out = []
    for j, task in enumerate(problem.tasks):
        mode = task.modes[modes[j]]
        ready = max([task.release] + [ends[p] + lag for p, lag in problem.predecessors[j]])
        for t in range(ready, starts[j]):
            end = t + mode.duration
            if end > problem.horizon or (task.deadline is not None and end > task.deadline):
                continue
            fits = True
            for r, units in mode.demands:
                if not problem.resources[r].renewable or mode.duration == 0:
                    continue
                left = np.asarray(problem.capacity_profile(r)[t:end])
                for k, other in enumerate(problem.tasks):
                    if k == j or starts[k] > t:
                        continue
                    used = dict(other.modes[modes[k]].demands).get(r, 0)
                    lo, hi = max(t, starts[k]), min(end, ends[k])
                    if used and lo < hi:
                        left[lo - t:hi - t] -= used
                if int(left.min()) < units:
                    fits = False
            if fits:
                out.append((j, t))
    return out


def _one_machine_example() -> Problem:
    """One crew; the urgent long task X is released at 2, the short task Y at 0."""
    crew = Resource("crew", 1)
    tasks = (Task("X", (Mode(5, ((0, 1),)),), weight=5, release=2), Task("Y", (Mode(4, ((0, 1),)),), weight=1))
    return Problem((crew,), tasks, (), 30, Objective.MAKESPAN)


def test_parallel_scheme_keeps_the_crew_busy_where_the_serial_one_waits() -> None:
    p = _one_machine_example()
    serial = serial_sgs(p, [5.0, 1.0])  # X first at 2–7, so Y only fits at 7
    parallel = parallel_sgs(p, [5.0, 1.0])  # at 0 only Y is ready: it starts, X follows at 4
    assert serial.starts == (2, 7) and objective_value(p, serial) == 11
    assert parallel.starts == (4, 0) and objective_value(p, parallel) == 9
    assert _delayed(p, serial) == [(1, 0), (1, 1)] and _delayed(p, parallel) == []


@pytest.mark.parametrize("seed", range(25))
def test_parallel_plans_are_feasible_and_non_delay(seed: int) -> None:
    """Random multi-mode problems with an outage, releases and lags: the checker accepts the plan, no task waited
    while it could have started."""
    p = random_problem(seed, n=12, horizon=300)
    for priority in ([float(t.weight) for t in p.tasks], longest_tail_rule(p)):
        s = parallel_sgs(p, priority)
        assert check(p, s) == []
        assert _delayed(p, s) == []


@pytest.mark.parametrize("name", ["j301_1.sm", "j1010_1.mm"])
def test_parallel_plans_of_psplib_instances_pass_the_checker(name: str) -> None:
    p = read_instance(DATA / name)
    s = parallel_sgs(p, longest_tail_rule(p))
    assert check(p, s) == []
    assert objective_value(p, s) >= max(t.release for t in p.tasks)


def test_a_deadline_the_scheme_cannot_meet_names_the_task() -> None:
    crew = Resource("crew", 1)
    tasks = (Task("first", (Mode(5, ((0, 1),)),), weight=5), Task("late", (Mode(4, ((0, 1),)),), deadline=6))
    p = Problem((crew,), tasks, (Precedence(0, 1),), 30)
    with pytest.raises(PlanError, match=r"task 1 \(late\).*deadline 6"):
        parallel_sgs(p, [1.0, 0.0])


def test_a_task_beyond_the_horizon_names_the_task() -> None:
    crew = Resource("crew", 1)
    tasks = (Task("a", (Mode(5, ((0, 1),)),)), Task("b", (Mode(4, ((0, 1),)),)))
    with pytest.raises(PlanError, match=r"task 1 \(b\).*horizon of 8"):
        parallel_sgs(Problem((crew,), tasks, (), 8), [1.0, 0.0])


def test_solve_keeps_the_better_scheme() -> None:
    """The greedy engine's plan is at least as good as the parallel scheme's with the longest-tail rule."""
    p = _one_machine_example()
    r = solve(p, params=SolveParams(engine="greedy"))
    assert r.objective is not None and r.objective <= objective_value(p, parallel_sgs(p, longest_tail_rule(p))) == 9
