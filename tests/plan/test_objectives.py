"""Lexicographic objectives, budgets and period-varying capacity in the general engine."""

from __future__ import annotations

import pytest

from sapper.errors import ValidationError
from sapper.plan import Mode, Objective, Precedence, Problem, Resource, SolveParams, Task, check, solve
from sapper.plan.solution import objective_values


def _two_chains(objective: Objective, then: tuple[Objective, ...] = ()) -> Problem:
    """One crew; a long low-weight task and two short heavy ones. The makespan is 6 whatever the order; weighted
    completion prefers the short heavy tasks first."""
    crew = Resource("crew", 1)
    tasks = (
        Task("long", (Mode(4, ((0, 1),)),), weight=1),
        Task("short a", (Mode(1, ((0, 1),)),), weight=5),
        Task("short b", (Mode(1, ((0, 1),)),), weight=5),
    )
    return Problem((crew,), tasks, (), 10, objective, then)


def test_makespan_then_weighted_completion() -> None:
    p = _two_chains(Objective.MAKESPAN, (Objective.WEIGHTED_COMPLETION,))
    r = solve(p, params=SolveParams(time_limit_s=5))
    assert r.schedule is not None and check(p, r.schedule) == []
    # makespan 6 in any order; among those, short tasks first: 5*1 + 5*2 + 1*6 = 21
    assert objective_values(p, r.schedule) == (6, 21)
    assert r.details["objectives"] == {"makespan": 6, "weighted_completion": 21}


def test_the_first_objective_is_never_traded_for_the_second() -> None:
    # Weighted completion first, then makespan: the second stage cannot worsen the first.
    crew = Resource("crew", 1)
    tasks = (Task("a", (Mode(2, ((0, 1),)),), weight=3), Task("b", (Mode(2, ((0, 1),)),), weight=1),
             Task("idle tail", (Mode(1),), weight=0))
    p = Problem((crew,), tasks, (Precedence(1, 2, 3),), 20, Objective.WEIGHTED_COMPLETION, (Objective.MAKESPAN,))
    r = solve(p, params=SolveParams(time_limit_s=5))
    assert r.schedule is not None
    wc, mk = objective_values(p, r.schedule)
    assert wc == 3 * 2 + 1 * 4  # a then b is the only weighted optimum
    assert mk == 4 + 3 + 1  # and its makespan is then forced by the lag


def test_an_objective_ranked_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="ranked twice"):
        _two_chains(Objective.MAKESPAN, (Objective.MAKESPAN,))


def test_budget_chooses_cheaper_slower_modes() -> None:
    # Two tasks, each fast-and-expensive or slow-and-cheap; the budget affords one fast mode only.
    crew = Resource("crew", 2)
    money = Resource("money", 10, renewable=False)
    modes = (Mode(2, ((0, 1), (1, 6))), Mode(5, ((0, 1), (1, 2))))
    p = Problem((crew, money), (Task("x", modes), Task("y", modes)), (), 20, Objective.MAKESPAN)
    r = solve(p, params=SolveParams(time_limit_s=5))
    assert r.schedule is not None and check(p, r.schedule) == []
    assert sorted(r.schedule.modes) == [0, 1] and r.objective == 5


def test_a_budget_cannot_have_outages() -> None:
    with pytest.raises(ValidationError, match="non-renewable"):
        Problem((Resource("money", 5, ((0, 2, 1),), renewable=False),), (Task("t", (Mode(1),)),), (), 5)


def test_capacity_varying_by_period_is_respected() -> None:
    # Two teams, one of which stands down in periods 2-5: four 2-period tasks need both teams early or one later.
    teams = Resource("teams", 2, ((2, 6, 1),))
    tasks = tuple(Task(f"t{k}", (Mode(2, ((0, 1),)),), weight=1) for k in range(4))
    p = Problem((teams,), tasks, (), 20, Objective.MAKESPAN)
    r = solve(p, params=SolveParams(time_limit_s=5))
    assert r.schedule is not None and check(p, r.schedule) == []
    assert r.objective == 6  # 2 tasks in [0,2), then one team: [2,4), [4,6)
    assert r.status.value == "optimal"


def test_unlock_ratio_rule_weighs_whole_chains() -> None:
    """Milestone M (weight 10) needs x (1 day) and y (20 days); milestone N (weight 3) needs z (2 days). One crew.

    Per-task ratios put the short x first and delay N; weighing whole chains sees that M costs 21 days of work for
    10, N 2 days for 3, so z goes first: 3·2 + 10·23 = 236 against 3·3 + 10·23 = 239."""
    from sapper.plan.greedy import descendant_weight_rule, serial_sgs, unlock_ratio_rule
    from sapper.plan.solution import objective_value

    crew = Resource("crew", 1)
    tasks = (Task("x", (Mode(1, ((0, 1),)),)), Task("y", (Mode(20, ((0, 1),)),)), Task("M", (Mode(0),), weight=10),
             Task("z", (Mode(2, ((0, 1),)),)), Task("N", (Mode(0),), weight=3))
    p = Problem((crew,), tasks, (Precedence(0, 2), Precedence(1, 2), Precedence(3, 4)), 40)
    assert objective_value(p, serial_sgs(p, descendant_weight_rule(p))) == 239
    unlock = serial_sgs(p, unlock_ratio_rule(p))
    assert check(p, unlock) == [] and objective_value(p, unlock) == 236
    assert solve(p, params=SolveParams(time_limit_s=5)).objective == 236  # and that is optimal
