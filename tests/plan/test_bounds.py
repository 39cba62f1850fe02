"""The capacity-aware (fluid) lower bound: exact where theory says so, never above a proven optimum."""

from __future__ import annotations

import pytest

from sapper.plan import Mode, Precedence, Problem, Resource, Task
from sapper.plan.bounds import fluid_lower_bound, resource_groups
from sapper.plan.cpsat import solve_cpsat
from sapper.plan.greedy import earliest_start_bound
from sapper.plan.solve import own_lower_bound
from tests.plan.conftest import random_problem


def _single_machine(durations: list[int], weights: list[int]) -> Problem:
    tasks = tuple(Task(f"j{i}", (Mode(d, ((0, 1),)),), weight=w) for i, (d, w) in enumerate(zip(durations, weights,
                                                                                                   strict=True)))
    return Problem((Resource("m", 1),), tasks, (), 100)


def test_smiths_rule_is_exact_on_one_machine() -> None:
    """One machine, no precedence: the bound is the optimum of Smith's order j0, j2, j1: 3·1 + 2·4 + 1·6 = 17."""
    p = _single_machine([1, 2, 3], [3, 1, 2])
    assert own_lower_bound(p) == pytest.approx(17.0)


def test_bound_sees_capacity_where_precedence_does_not() -> None:
    """Ten unit jobs on one machine: precedence says each ends at 1; capacity says 1 + 2 + … + 10 = 55."""
    p = _single_machine([1] * 10, [1] * 10)
    assert sum(earliest_start_bound(p)) == 10
    assert own_lower_bound(p) == pytest.approx(55.0)


def test_alternative_pools_form_one_group() -> None:
    """Resources that are modes of one task are one group; the others stay apart."""
    tasks = (
        Task("a", (Mode(4, ((0, 1),)), Mode(1, ((1, 1),)))),
        Task("b", (Mode(2, ((2, 1),)),)),
    )
    p = Problem((Resource("manual", 2), Resource("machine", 1), Resource("builders", 3)), tasks, (), 50)
    assert resource_groups(p) == [[0, 1], [2]]


def test_work_is_charged_to_the_nearest_weighted_successor() -> None:
    """Work before a weighted milestone counts for it: a 6-day task on one unit, then a milestone of weight 2."""
    tasks = (Task("work", (Mode(6, ((0, 1),)),)), Task("done", (Mode(0),), weight=2))
    p = Problem((Resource("team", 1, ((0, 3, 1),)),), tasks, (Precedence(0, 1),), 40)
    # The outage makes the precedence bound 2·9; the fluid bound alone would say 2·6.
    assert fluid_lower_bound(p, earliest_start_bound(p)) == pytest.approx(18.0)


@pytest.mark.parametrize("seed", range(30))
def test_bound_never_above_a_proven_optimum(seed: int) -> None:
    """On random multi-mode problems with outages, the bound stays at or below CP-SAT's proven optimum."""
    for multi_mode in (True, False):
        p = random_problem(seed, n=8, multi_mode=multi_mode)
        out = solve_cpsat(p, time_limit_s=10, workers=2, seed=0)
        assert out.status == "optimal" and out.objective is not None
        bound = own_lower_bound(p)
        assert bound <= out.objective + 1e-6
        assert bound >= sum(t.weight * e for t, e in zip(p.tasks, earliest_start_bound(p), strict=True))
