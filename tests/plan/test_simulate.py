"""plan.evolve.simulate: the compiled serial scheme run once per row of durations, as a forecast uses it — each run
is the plan decode() makes of the same order with those durations, and the chain it marks decides the makespan."""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from sapper.plan import Mode, Precedence, Problem, Resource, Task, check
from sapper.plan.evolve import activity_list, decode, simulate
from sapper.plan.solution import Schedule

from .conftest import random_problem


def _with(problem: Problem, modes: tuple[int, ...], durations: np.ndarray) -> Problem:
    """``problem`` with each task's mode in ``modes`` given the duration in ``durations``."""
    tasks = tuple(dataclasses.replace(t, modes=tuple(dataclasses.replace(md, duration=int(d)) if k == m else md
                                                     for k, md in enumerate(t.modes)))
                  for t, m, d in zip(problem.tasks, modes, durations, strict=True))
    return problem.replace(tasks=tasks)


def test_each_run_is_the_serial_plan_of_its_durations() -> None:
    """On random problems with an outage, run i is decode(order) with durations[i] and passes the checker."""
    for seed in range(8):
        problem = random_problem(seed, n=10, horizon=300)
        rng = random.Random(seed)
        modes = tuple(rng.randrange(len(t.modes)) for t in problem.tasks)
        order = activity_list(problem, np.array([rng.random() for _ in problem.tasks]))
        durations = np.array([[rng.randint(0, 7) for _ in problem.tasks] for _ in range(5)], dtype=np.int64)
        runs = simulate(problem, modes, order, durations, horizon=300)
        for i in range(5):
            own = _with(problem, modes, durations[i])
            plan = decode(own, order.tolist(), modes, improve=False)
            assert plan is not None
            assert tuple(int(x) for x in runs.starts[i]) == plan.starts
            assert check(own, Schedule(plan.starts, modes)) == []
            assert runs.makespan[i] == max(plan.ends(own))


def test_a_chain_is_all_critical_and_a_short_branch_is_not() -> None:
    """Three tasks in a chain beside a short free task: the chain is on the deciding path, the free task is not."""
    r = (Resource("a", 1), Resource("b", 1))
    tasks = (Task("x", (Mode(3, ((0, 1),)),)), Task("y", (Mode(4, ((0, 1),)),)), Task("z", (Mode(2, ((1, 1),)),)),
             Task("free", (Mode(1, ((1, 1),)),)))
    problem = Problem(r, tasks, (Precedence(0, 1), Precedence(1, 2)), 50)
    durations = np.array([[3, 4, 2, 1], [5, 1, 6, 2]], dtype=np.int64)
    runs = simulate(problem, (0, 0, 0, 0), np.array([0, 3, 1, 2]), durations, horizon=50)
    assert runs.on_path[:, :3].all() and not runs.on_path[:, 3].any()
    assert runs.makespan.tolist() == [9, 12]


def test_a_run_past_the_horizon_is_marked() -> None:
    """A run whose tasks cannot end within the horizon has makespan −1."""
    problem = Problem((Resource("a", 1),), (Task("x", (Mode(3, ((0, 1),)),)),), (), 10)
    runs = simulate(problem, (0,), np.array([0]), np.array([[4], [12]], dtype=np.int64), horizon=10)
    assert runs.makespan.tolist() == [4, -1]
