"""The bound of a plan by regions (``decompose.whole_lower_bound``): the whole problem's, never above a proven optimum
of the whole problem nor above the regions' merged plan, where a sum of the regions' own bounds can be."""

from __future__ import annotations

import random

import pytest

from sapper.plan import Mode, Precedence, Problem, Resource, Task, check, objective_value
from sapper.plan.cpsat import solve_cpsat
from sapper.plan.decompose import DecomposeParams, decompose_solve, serial_map, whole_lower_bound
from sapper.plan.greedy import earliest_start_bound
from sapper.plan.solve import Engine


def _two_regions(seed: int) -> tuple[Problem, list[str]]:
    """Two regions sharing every pool: teams by capabilities (a survey team and a manual pool of two, each surveying
    and clearing by hand, a borrowed role after a day's set-up), a mechanical team clearing some lots faster, a shared
    stand-down; areas surveyed, cleared in lots and released (weighted) after a lag; in each region a repair by one of
    two brigades waits for a release there and ends in a weighted milestone. The labels: each task's region."""
    rng = random.Random(seed)
    stand_down = ((6, 9, 1),)
    resources = (Resource("survey", 1, stand_down), Resource("manual", 2, stand_down),
                 Resource("mechanical", 1), Resource("build", 2))
    own = {"survey": 0, "manual": 1}

    def by_hand(role: str, days: int) -> tuple[Mode, ...]:
        return tuple(Mode(days if r == own[role] else days + 1, ((r, 1),), role, 0 if r == own[role] else 1)
                     for r in range(2))

    tasks: list[Task] = []
    precedences: list[Precedence] = []
    labels: list[str] = []
    for region in ("north", "south"):
        released: list[int] = []
        for a in range(2):  # work alike in both regions: each gets a manual team
            survey = len(tasks)
            tasks.append(Task(f"{region} survey {a}", by_hand("survey", rng.randint(1, 3))))
            lots = []
            for lot in range(rng.randint(2, 3)):
                lots.append(len(tasks))
                days = rng.randint(3, 6)
                fast = (Mode(max(1, days // 2), ((2, 1),), "mechanical"),) if rng.random() < 0.5 else ()
                tasks.append(Task(f"{region} clear {a}/{lot}", (*by_hand("manual", days), *fast)))
                precedences.append(Precedence(survey, lots[-1]))
            released.append(len(tasks))
            tasks.append(Task(f"{region} released {a}", (Mode(0),), weight=rng.randint(1, 5)))
            precedences += [Precedence(lot, released[-1], rng.choice((0, 2))) for lot in lots]
        repair = len(tasks)
        tasks.append(Task(f"{region} repair", (Mode(rng.randint(1, 3), ((3, 1),), "building"),)))
        precedences.append(Precedence(rng.choice(released), repair))
        tasks.append(Task(f"{region} restored", (Mode(0),), weight=rng.randint(1, 6)))
        precedences.append(Precedence(repair, len(tasks) - 1))
        labels += [region] * (len(tasks) - len(labels))
    return Problem(resources, tuple(tasks), tuple(precedences), 80), labels


@pytest.mark.parametrize("seed", range(12))
def test_the_bound_of_a_plan_by_regions_is_below_the_whole_optimum(seed: int) -> None:
    """The whole problem solved to a proven optimum (checked independently) is at or above the bound, and the
    regions' merged plan (a plan of the whole problem) at or above that optimum, and the bound at or above
    precedence alone."""
    problem, labels = _two_regions(seed)
    bound = whole_lower_bound(problem)
    best = solve_cpsat(problem, time_limit_s=20, workers=2, seed=0)
    assert best.status == "optimal" and best.objective is not None and best.schedule is not None
    assert check(problem, best.schedule) == []
    assert objective_value(problem, best.schedule) == best.objective
    assert bound <= best.objective + 1e-6
    out = decompose_solve(problem, labels, params=DecomposeParams(time_limit_s=4, rounds=1, travel_days=1,
                                                                  engine=Engine.GREEDY), map_fn=serial_map)
    assert out.result.schedule is not None and check(problem, out.result.schedule) == []
    assert out.result.objective is not None and best.objective <= out.result.objective + 1e-6
    ends = earliest_start_bound(problem)
    precedence = sum(t.weight * ends[j] for j, t in enumerate(problem.tasks))
    assert bound >= precedence - 1e-6


def test_the_bound_sees_the_shared_pools_capacity() -> None:
    """On most of these instances the pools bind: the bound is above the precedence bound (so a bound that returned
    the precedence bound, or 0, fails here)."""
    above = 0
    for seed in range(12):
        problem, _ = _two_regions(seed)
        ends = earliest_start_bound(problem)
        above += whole_lower_bound(problem) > sum(t.weight * ends[j] for j, t in enumerate(problem.tasks)) + 1e-6
    assert above > 6


def test_the_bound_beats_precedence_where_the_regions_share_a_pool() -> None:
    """Both regions' work waits for one shared team: the whole bound counts it once for both (above precedence),
    where each region alone, with the whole team, would see only its own work."""
    tasks = (Task("north", (Mode(4, ((0, 1),)),), weight=1), Task("south", (Mode(4, ((0, 1),)),), weight=1))
    problem = Problem((Resource("team", 1),), tasks, (), 40)
    bound = whole_lower_bound(problem)
    assert bound == pytest.approx(12)  # one team: one lot ends on day 4, the other on day 8
    alone = [whole_lower_bound(Problem((Resource("team", 1),), (t,), (), 40)) for t in tasks]
    assert sum(alone) == pytest.approx(8) and sum(alone) < bound
