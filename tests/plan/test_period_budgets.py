"""Budgets per window of periods (money per calendar year): checker, greedy schemes, CP-SAT, a known optimum."""

from __future__ import annotations

import pytest

from sapper.errors import ValidationError
from sapper.plan import (
    Engine,
    Mode,
    PeriodBudget,
    Problem,
    Resource,
    Schedule,
    SolveParams,
    Status,
    Task,
    check,
    solve,
    spending,
)
from sapper.plan.greedy import parallel_sgs, serial_sgs
from sapper.plan.lns import _window_problem

#: Three windows of 10 periods ("years"), 10 of money each.
_YEARS = PeriodBudget("demining", ((0, 10, 10), (10, 20, 10), (20, 30, 10)))


def _three_tasks() -> Problem:
    """Two teams; three tasks of 5 periods spending 2 per period (10 each): a window's money pays for one task."""
    task = Task("t", (Mode(5, ((0, 1),), "a", costs=((0, 2),)),), weight=1)
    return Problem((Resource("teams", 2),), (task, task, task), (), horizon=40, budgets=(_YEARS,))


def test_the_checker_counts_spending_per_window_in_proportion() -> None:
    """A task crossing a window's edge spends in both windows by its periods in each; over a window is a fault."""
    p = _three_tasks()
    s = Schedule((0, 8, 20), (0, 0, 0))
    assert spending(p, s) == [[10 + 4, 6, 10]]
    faults = check(p, s)
    assert len(faults) == 1 and "periods [0, 10) spend 14 > 10" in faults[0].reason
    assert check(p, Schedule((0, 10, 20), (0, 0, 0))) == []


def test_a_budget_window_is_validated() -> None:
    """Overlapping windows, a window past the horizon and spending from an unknown budget are refused at once."""
    bad = PeriodBudget("x", ((0, 10, 5), (5, 50, 5)))
    with pytest.raises(ValidationError) as info:
        Problem(
            (Resource("r", 1),), (Task("t", (Mode(1, ((0, 1),), costs=((1, 1),)),)),), (), horizon=40, budgets=(bad,)
        )
    message = info.value.message
    assert "window [5, 50)" in message and "unknown budget 1" in message


@pytest.mark.parametrize("sgs", [serial_sgs, parallel_sgs])
def test_greedy_schemes_wait_for_next_years_money(sgs: object) -> None:
    """Without the budget the three tasks end at 5, 5, 10; with it each waits for its own window."""
    p = _three_tasks()
    free = p.replace(budgets=(PeriodBudget("demining", ()),))
    assert sorted(serial_sgs(free, [1.0, 1.0, 1.0]).ends(free)) == [5, 5, 10]
    s = sgs(p, [3.0, 2.0, 1.0])  # type: ignore[operator]
    assert check(p, s) == []
    assert all(x <= 10 for x in spending(p, s)[0])
    assert sorted(s.ends(p)) == [5, 15, 25]


def test_cpsat_finds_the_known_optimum_under_the_budget() -> None:
    """Σ ends ≥ 5 + 15 + 25 = 45: by period 10 the money pays for 5 periods of work, by 20 for 10. CP-SAT reaches
    it and the checker accepts the plan; unconstrained the optimum is 20."""
    p = _three_tasks()
    result = solve(p, params=SolveParams(time_limit_s=5, workers=1))
    assert result.schedule is not None and result.objective == 45
    assert check(p, result.schedule) == []
    plain = Task("t", (Mode(5, ((0, 1),), "a"),), weight=1)
    free = solve(Problem(p.resources, (plain, plain, plain), (), horizon=40))
    assert free.objective == 20


def test_cpsat_chooses_cheaper_slower_modes_when_money_is_short() -> None:
    """Two tasks, each fast (2 periods × 5 = 10) or slow (4 × 2 = 8); 16 in the one window: only both slow fit
    (10 + 8 > 16), so the optimum is 4 + 4 = 8, where the unconstrained one is 2 + 2 = 4."""
    task = Task(
        "t", (Mode(2, ((0, 1),), "fast", costs=((0, 5),)), Mode(4, ((0, 1),), "slow", costs=((0, 2),))), weight=1
    )
    p = Problem((Resource("teams", 2),), (task, task), (), horizon=20, budgets=(PeriodBudget("money", ((0, 20, 16),)),))
    result = solve(p, params=SolveParams(time_limit_s=5, workers=1))
    assert result.status is Status.OPTIMAL and result.objective == 8
    assert result.schedule is not None and result.schedule.modes == (1, 1)
    greedy = solve(p, params=SolveParams(engine=Engine.GREEDY))
    assert greedy.schedule is None or check(p, greedy.schedule) == []


def test_a_window_of_the_plan_keeps_what_fixed_tasks_spend() -> None:
    """The large-problem search frees a window of tasks: the others' spending is taken off each window's money."""
    p = _three_tasks()
    s = Schedule((0, 10, 20), (0, 0, 0))
    sub, hint = _window_problem(p, s, [1])
    assert sub.budgets[0].windows == ((0, 10, 0), (10, 20, 10), (20, 30, 0))
    assert check(sub, hint) == []
