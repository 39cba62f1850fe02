"""On a problem larger than ``LARGE_PROBLEM_TASKS`` the further priority rules keep to their share of the time limit
(a national region's serial schemes take tens of seconds each); the planner's own order always runs."""

from __future__ import annotations

from sapper.plan import Mode, Problem, Resource, Task, check
from sapper.plan.solve import LARGE_PROBLEM_TASKS, Engine, SolveParams, solve


def _large() -> Problem:
    n = LARGE_PROBLEM_TASKS + 10
    tasks = tuple(Task(f"t{j}", (Mode(1 + j % 3, ((0, 1),)),), weight=1 + j % 5) for j in range(n))
    return Problem((Resource("pool", 40),), tasks, (), horizon=n)


def test_a_tiny_limit_skips_the_further_rules_but_keeps_a_checked_plan() -> None:
    problem = _large()
    result = solve(problem, params=SolveParams(time_limit_s=0.001, engine=Engine.GREEDY))
    assert result.schedule is not None and check(problem, result.schedule) == []
    assert result.details["greedy_rules_skipped"] == "greedy-dw, greedy-unlock"


def test_a_long_limit_runs_every_rule() -> None:
    result = solve(_large(), params=SolveParams(time_limit_s=600.0, engine=Engine.GREEDY))
    assert "greedy_rules_skipped" not in result.details
