"""Regional decomposition (sapper.plan.decompose): regions share pools without ever exceeding them, the merged plan is
checked as one whole problem, and coordination is never worse than none — strictly better when one region finishes
early and another late."""

from __future__ import annotations

import pytest

from sapper.errors import PlanError
from sapper.plan import Mode, Precedence, Problem, Resource, Task, check, objective_value
from sapper.plan.decompose import (
    DecomposeParams,
    base_shares,
    decompose_solve,
    packing,
    region_resource,
    regions_of,
    serial_map,
    sub_problem,
)
from sapper.plan.solve import Engine


def _problem(short: int, long: int, *, units: int = 4, stand_down: tuple[tuple[int, int, int], ...] = ()) -> Problem:
    """Region A: ``short`` one-period tasks; region B: ``long`` one-period tasks; one pool of ``units``."""
    tasks = tuple(Task(f"{'A' if j < short else 'B'}{j}", (Mode(1, ((0, 1),)),), weight=1)
                  for j in range(short + long))
    return Problem(resources=(Resource("pool", units, stand_down),), tasks=tasks, precedences=(), horizon=400)


def test_chains_stay_in_one_region() -> None:
    tasks = tuple(Task(f"t{j}", (Mode(1, ((0, 1),)),)) for j in range(4))
    problem = Problem((Resource("pool", 2),), tasks, (Precedence(0, 3),), horizon=10)
    assert regions_of(problem, ["a", "b", "b", "b"]) == [("a", [0, 3]), ("b", [1, 2])]


def test_shares_never_exceed_the_pool_even_in_a_partial_stand_down() -> None:
    """Shares follow the work; in every period the regions' capacities add up to no more than the pool's."""
    problem = _problem(10, 30, units=5, stand_down=((20, 40, 2), (30, 60, 1)))
    shares = base_shares(problem, [list(range(10)), list(range(10, 40))])
    assert sum(s[0] for s in shares) == 5 and shares[1][0] > shares[0][0] >= 1
    res = problem.resources[0]
    parts = [region_resource(res, ((0, s[0]),), problem.horizon) for s in shares]
    for t in range(problem.horizon):
        whole = res.capacity - sum(u for s, e, u in res.unavailable if s <= t < e)
        assert sum(p.capacity - sum(u for s, e, u in p.unavailable if s <= t < e) for p in parts) <= whole


def test_a_region_without_a_share_of_a_needed_pool_is_refused() -> None:
    problem = _problem(3, 3, units=1)
    with pytest.raises(PlanError, match="pool pool has 1 units for 2 regions"):
        base_shares(problem, [[0, 1, 2], [3, 4, 5]])


def test_sub_problem_leaves_out_modes_its_region_cannot_run() -> None:
    task = Task("t", (Mode(2, ((0, 1),)), Mode(3, ((1, 1),))))
    problem = Problem((Resource("a", 1), Resource("b", 1)), (task,), (), horizon=10)
    sub, maps = sub_problem(problem, [0], [((0, 0),), ((0, 1),)])
    assert maps == ((1,),) and sub.tasks[0].modes == (Mode(3, ((1, 1),)),)


@pytest.mark.parametrize(("engine", "limit"), [(Engine.GREEDY, 4.0), (Engine.CPSAT, 8.0)])
def test_coordination_moves_idle_units_to_the_late_region(engine: Engine, limit: float) -> None:
    """A finishes early and its units travel to B: B finishes sooner, the whole plan passes the checker, and the
    objective is below the uncoordinated one."""
    problem = _problem(8, 80)
    labels = ["A"] * 8 + ["B"] * 80
    out = decompose_solve(problem, labels, params=DecomposeParams(time_limit_s=limit, rounds=2, travel_days=2,
                                                                  engine=engine), map_fn=serial_map)
    assert out.result.schedule is not None
    assert check(problem, out.result.schedule) == []
    assert out.result.baseline is not None and check(problem, out.result.baseline) == []
    assert out.result.objective == objective_value(problem, out.result.schedule)
    assert out.result.objective <= out.uncoordinated_objective
    if engine is Engine.CPSAT and out.moves == 0:  # a busy machine left no time for a round: nothing moved
        assert out.result.details["coordination_stopped"] == "time"
        return
    assert out.moves >= 1 and out.result.objective < out.uncoordinated_objective
    by = {r.name: r for r in out.regions}
    assert by["A"].moved == {"pool": -by["B"].moved["pool"]} and by["B"].moved["pool"] > 0
    assert by["A"].objective == by["A"].uncoordinated_objective  # A only gave: its first plan was already optimal


def test_units_idle_before_a_region_finishes_move_too() -> None:
    """A keeps one unit busy on a long task to the end but leaves the others idle after its short tasks: those move
    to B long before A finishes, B finishes sooner, and the whole plan passes the checker."""
    short, long = 8, 200
    tasks = (*(Task(f"A{j}", (Mode(1, ((0, 1),)),), weight=1) for j in range(short)),
             Task("A-long", (Mode(150, ((0, 1),)),), weight=1),
             *(Task(f"B{j}", (Mode(1, ((0, 1),)),), weight=1) for j in range(long)))
    problem = Problem(resources=(Resource("pool", 6),), tasks=tasks, precedences=(), horizon=400)
    labels = ["A"] * (short + 1) + ["B"] * long
    out = decompose_solve(problem, labels, params=DecomposeParams(time_limit_s=30.0, rounds=1, travel_days=2,
                                                                  engine=Engine.GREEDY), map_fn=serial_map)
    assert out.result.schedule is not None and check(problem, out.result.schedule) == []
    assert out.moves >= 1 and out.result.objective < out.uncoordinated_objective
    by = {r.name: r for r in out.regions}
    assert by["B"].moved["pool"] > 0 and by["A"].moved["pool"] == -by["B"].moved["pool"]
    assert max(out.result.schedule.starts[short + 1:]) < 60  # B done far sooner than on its own share (67)


def test_budgets_are_not_split() -> None:
    from sapper.plan import PeriodBudget

    task = Task("t", (Mode(1, ((0, 1),), costs=((0, 1),)),))
    problem = Problem((Resource("pool", 1),), (task,), (), horizon=10, budgets=(PeriodBudget("b", ((0, 10, 5),)),))
    with pytest.raises(PlanError, match="does not split budgets"):
        decompose_solve(problem, ["a"], map_fn=serial_map)


def test_a_round_that_cannot_finish_in_the_limit_is_not_started() -> None:
    """With no time left after round 0, no teams move: the plan is the uncoordinated one, and says why."""
    problem = _problem(8, 80)
    out = decompose_solve(problem, ["A"] * 8 + ["B"] * 80,
                          params=DecomposeParams(time_limit_s=0.0, rounds=2, engine=Engine.GREEDY), map_fn=serial_map)
    assert out.moves == 0 and out.result.objective == out.uncoordinated_objective
    assert out.result.details["coordination_stopped"] == "time"
    assert all(not r.moved for r in out.regions)


@pytest.mark.parametrize(("regions", "workers"), [(3, 2), (5, 2), (4, 2), (2, 2), (3, 1), (1, 2), (7, 3), (2, 5)])
def test_packing_shares_the_workers_time_equally_and_never_solves_a_region_twice_at_once(regions: int,
                                                                                         workers: int) -> None:
    """Every region gets min(workers, regions) / regions of the time; a batch has a job per busy worker, all of the
    batch's length; a region is in at most one job of a batch."""
    from fractions import Fraction

    batches = packing(regions, workers)
    got = dict.fromkeys(range(regions), Fraction(0))
    for jobs in batches:
        assert 1 <= len(jobs) <= min(workers, regions)
        assert len({sum(f for _, f in job) for job in jobs}) == 1  # every worker busy for the whole batch
        seen = [i for job in jobs for i, _ in job]
        assert len(seen) == len(set(seen))
        for job in jobs:
            for i, f in job:
                got[i] += f
    assert set(got.values()) == {Fraction(min(workers, regions), regions)}
    assert sum(max(sum(f for _, f in job) for job in jobs) for jobs in batches) == 1


def _three_regions() -> tuple[Problem, list[str]]:
    """Three regions on one pool of 6: A short, B and C long, with chains so that the heuristics leave room."""
    tasks = []
    labels = []
    for name, count in (("A", 6), ("B", 40), ("C", 40)):
        for j in range(count):
            tasks.append(Task(f"{name}{j}", (Mode(1 + j % 3, ((0, 1),)), Mode(1, ((0, 2),))), weight=1 + j % 4))
            labels.append(name)
    return Problem(resources=(Resource("pool", 6),), tasks=tuple(tasks), precedences=(), horizon=600), labels


@pytest.mark.parametrize("rounds", [0, 2])
def test_three_regions_on_two_workers_are_never_worse_than_their_round_0(rounds: int) -> None:
    """The regions wrap over two workers (one solved in two pieces); each region's plan is no worse than its round 0
    (with coordination, its heuristic plan), and the whole plan passes the checker."""
    problem, labels = _three_regions()
    out = decompose_solve(problem, labels, params=DecomposeParams(time_limit_s=6.0, rounds=rounds, travel_days=2,
                                                                  parallel=2, engine=Engine.CPSAT),
                          map_fn=serial_map)
    assert out.result.schedule is not None and check(problem, out.result.schedule) == []
    assert out.result.objective == objective_value(problem, out.result.schedule)
    assert out.result.objective <= out.uncoordinated_objective
    assert all(r.objective <= r.uncoordinated_objective for r in out.regions)
    # Two batches (the wrap-around splits two regions); with coordination, round 0 and a round before each batch.
    assert out.rounds == (2 if rounds else 0)
    assert sorted(r.solves for r in out.regions) == ([2, 3, 3] if rounds else [1, 2, 2])
    if not rounds:
        assert out.result.objective == out.uncoordinated_objective and out.moves == 0
