"""Window search on problems with a budget: a window gets what the fixed tasks left of it, and never overspends."""

from __future__ import annotations

import random

from sapper.plan import Mode, Precedence, Problem, Resource, Task, check, objective_value
from sapper.plan.cpsat import solve_cpsat
from sapper.plan.greedy import descendant_weight_rule, serial_sgs
from sapper.plan.lns import _window_problem, window_lns
from sapper.plan.solution import Schedule


def _budget_problem(seed: int, n: int = 30, budget: int = 24) -> Problem:
    """Two crews; each task is quick and costly (3 units of the budget) or slow and free."""
    rng = random.Random(seed)
    crews, money = Resource("crews", 2), Resource("money", budget, renewable=False)
    tasks = []
    for j in range(n):
        quick = rng.randint(1, 3)
        tasks.append(Task(f"t{j}", (Mode(quick, ((0, 1), (1, 3))), Mode(quick + rng.randint(2, 4), ((0, 1),))),
                          weight=rng.randint(1, 5)))
    precedences = tuple(Precedence(i, j) for j in range(n) for i in range(max(0, j - 4), j) if rng.random() < 0.2)
    return Problem((crews, money), tuple(tasks), precedences, 400)


def _spent(problem: Problem, schedule: Schedule, tasks: list[int]) -> int:
    return sum(u for j in tasks for r, u in problem.tasks[j].modes[schedule.modes[j]].demands if r == 1)


def test_a_window_gets_what_the_fixed_tasks_left_of_the_budget() -> None:
    p = _budget_problem(1)
    base = serial_sgs(p, descendant_weight_rule(p))
    free = list(range(8, 16))
    sub, hint = _window_problem(p, base, free)
    fixed = [j for j in range(len(p.tasks)) if j not in free]
    outside = sub.tasks[-1]  # what the fixed tasks spend, as one task of no duration and no weight
    assert len(sub.tasks) == len(free) + 1 and outside.weight == 0 and len(outside.modes) == 1
    assert outside.modes[0].duration == 0 and outside.modes[0].demands == ((1, _spent(p, base, fixed)),)
    assert _spent(p, base, fixed) > 0 and sub.resources[1].capacity == 24
    assert check(sub, hint) == []  # the current plan fits in what is left
    over = Schedule(hint.starts, tuple(0 for _ in hint.modes))  # every window task in its costly mode
    assert _spent(p, base, fixed) + 3 * len(free) > 24
    assert any("non-renewable" in str(f) for f in check(sub, over))


def test_window_search_with_a_budget_never_overspends_nor_ends_worse() -> None:
    def sub_solver(problem: Problem, h: Schedule, limit: float) -> Schedule | None:
        return solve_cpsat(problem, time_limit_s=limit, hint=h).schedule

    for seed in (1, 2, 3):
        p = _budget_problem(seed)
        base = serial_sgs(p, descendant_weight_rule(p))
        found, stats = window_lns(p, base, sub_solver, time_limit_s=3, window_tasks=10, window_seconds=0.5)
        assert check(p, found) == []  # the checker counts the budget over the whole plan
        assert _spent(p, found, list(range(len(p.tasks)))) <= 24
        assert stats.objective == objective_value(p, found) <= stats.start_objective
