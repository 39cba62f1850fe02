"""The genetic search: its compiled decoder agrees with the Python serial scheme, every plan it returns passes the
checker, it never returns a longer plan than it was given, and it finds known optima of small PSPLIB instances."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from sapper.errors import PlanError
from sapper.io.psplib import read_instance, read_references
from sapper.plan import Mode, Objective, Precedence, Problem, Resource, Task, check, objective_value
from sapper.plan.evolve import applies, decode, evolve
from sapper.plan.greedy import longest_tail_rule, serial_sgs
from sapper.plan.solution import Schedule
from sapper.plan.solve import within_horizon

from .conftest import random_problem

DATA = Path(__file__).parents[1] / "data" / "psplib"


def _makespan_problem(seed: int, n: int = 12) -> Problem:
    """conftest's random multi-mode problem (an outage, releases, lags 0–1), minimising the makespan."""
    return random_problem(seed, n=n, horizon=300).replace(objective=Objective.MAKESPAN)


def _random_order(problem: Problem, rng: random.Random) -> list[int]:
    """A random order of the tasks with every predecessor first."""
    waiting = [len(p) for p in problem.predecessors]
    ready = [j for j, w in enumerate(waiting) if w == 0]
    order = []
    while ready:
        j = ready.pop(rng.randrange(len(ready)))
        order.append(j)
        for s, _ in problem.successors[j]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    return order


def _makespan(problem: Problem, schedule: Schedule) -> int:
    return objective_value(problem, schedule, Objective.MAKESPAN)


@pytest.mark.parametrize("seed", range(20))
def test_the_compiled_serial_scheme_places_tasks_as_the_python_one_does(seed: int) -> None:
    """Two implementations of the serial scheme on the same list and modes: the same starts, period by period
    capacity (with the outage), releases and lags; and forward–backward improvement only ever shortens the plan."""
    p = _makespan_problem(seed)
    rng = random.Random(seed)
    modes = tuple(rng.randrange(len(t.modes)) for t in p.tasks)
    order = _random_order(p, rng)
    position = {j: k for k, j in enumerate(order)}
    expected = serial_sgs(p, [-float(position[j]) for j in range(len(p.tasks))], modes)
    plain = decode(p, order, modes, improve=False)
    assert plain == expected
    improved = decode(p, order, modes)
    assert improved is not None and check(p, improved) == []
    assert _makespan(p, improved) <= _makespan(p, plain)


@pytest.mark.parametrize("seed", range(15))
def test_evolved_plans_pass_the_checker_and_are_never_longer(seed: int) -> None:
    """With modes searched (the default) and with the start's modes fixed; the checker also checks the budgets."""
    p = _makespan_problem(seed, n=14)
    start = serial_sgs(p, [float(t.weight) for t in p.tasks])
    fixed = evolve(p, start, time_limit_s=600.0, seed=seed, population=20, generations=15, vary_modes=False)
    assert check(p, fixed) == []
    assert fixed.modes == start.modes
    assert _makespan(p, fixed) <= _makespan(p, start)
    found = evolve(p, start, time_limit_s=600.0, seed=seed, population=20, generations=15)
    assert check(p, found) == []
    assert _makespan(p, found) <= _makespan(p, start)


def test_searching_modes_finds_a_multi_mode_optimum_the_start_modes_cannot() -> None:
    """PSPLIB j1030_1 (two budgets) from the longest-tail plan: in that plan's modes the search ends well above the
    proven optimum (j10opt.mm); searching modes, the same seed and generations find it, in modes that keep every
    budget (the checker)."""
    p = read_instance(DATA / "j1030_1.mm")
    optimum = read_references(DATA)["j1030_1.mm"].optimum
    assert optimum is not None
    start = serial_sgs(p, longest_tail_rule(p))
    fixed = evolve(p, start, time_limit_s=600.0, seed=0, population=60, generations=60, vary_modes=False)
    assert _makespan(p, fixed) > optimum
    found = evolve(p, start, time_limit_s=600.0, seed=0, population=60, generations=60)
    assert check(p, found) == []
    assert _makespan(p, found) == optimum


def test_modes_that_overspend_a_budget_are_repaired_or_never_returned() -> None:
    """Two tasks, each fast and dear (1 period, 2 units) or slow and cheap (3 periods, 1 unit), a budget of 3: the
    start runs both slow (6 periods on one crew); the best plan runs one fast (4); both fast (2) is over budget."""
    crew = Resource("crew", 1)
    budget = Resource("budget", 3, renewable=False)
    modes = (Mode(1, ((0, 1), (1, 2))), Mode(3, ((0, 1), (1, 1))))
    p = Problem((crew, budget), (Task("A", modes), Task("B", modes)), (), 20, Objective.MAKESPAN)
    start = Schedule((0, 3), (1, 1))
    assert check(p, start) == []
    found = evolve(p, start, time_limit_s=600.0, seed=3, population=10, generations=10)
    assert check(p, found) == []
    assert _makespan(p, found) == 4 and sorted(found.modes) == [0, 1]
    assert evolve(p, start, time_limit_s=600.0, seed=3, population=10, generations=10, vary_modes=False) is start


def test_same_seed_and_generations_give_the_same_plan() -> None:
    p = read_instance(DATA / "j3011_1.sm")
    start = serial_sgs(p, longest_tail_rule(p))
    runs = [evolve(p, start, time_limit_s=600.0, seed=7, population=30, generations=20) for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", ["j301_1.sm", "j3011_1.sm", "j3021_1.sm", "j3041_1.sm"])
def test_reaches_the_known_optimum_of_small_psplib_instances(name: str) -> None:
    """From the longest-tail plan, a fixed number of generations finds the proven optimum (PSPLIB j30opt.sm),
    also when the horizon is cut to the starting plan's length (as ``solve`` does before CP-SAT)."""
    p = read_instance(DATA / name)
    optimum = read_references(DATA)[name].optimum
    assert optimum is not None
    start = serial_sgs(p, longest_tail_rule(p))
    short = within_horizon(p, _makespan(p, start))
    found = evolve(short, start, time_limit_s=600.0, seed=0, population=60, generations=60)
    assert check(short, found) == [] and check(p, found) == []
    assert _makespan(p, found) == optimum


def test_deadlines_are_kept_and_a_plan_that_cannot_be_improved_comes_back() -> None:
    """One crew, three tasks; C must end by 4, so it goes first whatever order the search tries: orders that put it
    later miss the deadline and are discarded."""
    crew = Resource("crew", 1)
    tasks = (Task("A", (Mode(3, ((0, 1),)),)), Task("B", (Mode(2, ((0, 1),)),)),
             Task("C", (Mode(4, ((0, 1),)),), deadline=4))
    p = Problem((crew,), tasks, (), 20, Objective.MAKESPAN)
    start = Schedule((4, 7, 0), (0, 0, 0))
    assert check(p, start) == []
    found = evolve(p, start, time_limit_s=600.0, seed=1, population=10, generations=10)
    assert found is start  # 9 is the least possible: nothing shorter turns up
    assert decode(p, [0, 1, 2], (0, 0, 0)) is None  # C last would end at 9, past its deadline


def test_problems_it_does_not_apply_to_are_refused() -> None:
    p = _makespan_problem(1)
    assert applies(p)
    negative = p.replace(precedences=(*p.precedences, Precedence(0, 5, -1)))
    weighted = p.replace(objective=Objective.WEIGHTED_COMPLETION)
    assert not applies(negative) and not applies(weighted) and not applies(p.replace(move_cost=1))
    start = serial_sgs(weighted, [1.0] * len(p.tasks))
    with pytest.raises(PlanError, match="makespan"):
        evolve(weighted, start, time_limit_s=1.0)


def test_the_search_stops_at_a_proven_bound() -> None:
    """Given the optimum as ``target`` (a bound CP-SAT proved), the search returns a plan of that length as soon as
    it finds one instead of running until its limit (five minutes, no generation limit)."""
    p = read_instance(DATA / "j301_1.sm")
    optimum = read_references(DATA)["j301_1.sm"].optimum
    assert optimum is not None
    start = serial_sgs(p, longest_tail_rule(p))
    began = time.perf_counter()
    found = evolve(p, start, time_limit_s=300.0, seed=0, population=60, target=optimum)
    assert _makespan(p, found) == optimum and check(p, found) == []
    assert time.perf_counter() - began < 150.0
