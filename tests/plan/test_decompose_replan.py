"""A re-plan by regions (sapper.plan.decompose with ``start``): each region's capacity holds its part of the start and
the capacities never exceed the pool, each region improves its part with the re-plan's anchors and move policy, and
the merged plan is checked as one whole problem."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sapper.errors import PlanError
from sapper.plan import Mode, MovePolicy, Problem, Resource, Schedule, Task, check, objective_value
from sapper.plan.decompose import DecomposeParams, decompose_solve, serial_map, start_capacities
from sapper.plan.greedy import serial_sgs
from sapper.plan.solution import moved_tasks
from sapper.plan.solve import Engine
from sapper.plan.stability import warm_start


def _usage(problem: Problem, schedule: Schedule, tasks: list[int], horizon: int) -> np.ndarray:
    use = np.zeros(horizon, dtype=np.int64)
    for j in tasks:
        mode = problem.tasks[j].modes[schedule.modes[j]]
        s = schedule.starts[j]
        for _, units in mode.demands:
            use[s:s + mode.duration] += units
    return use


def _capacity(res: Resource, horizon: int) -> np.ndarray:
    cap = np.full(horizon, res.capacity, dtype=np.int64)
    for s, e, u in res.unavailable:
        cap[s:e] -= u
    return cap


def _two_regions(stand_down: tuple[tuple[int, int, int], ...] = ()) -> tuple[Problem, list[str]]:
    """Region A (12 tasks) and B (30 tasks) on one pool of 5, two modes each (one unit, or two and faster)."""
    tasks, labels = [], []
    for name, count in (("A", 12), ("B", 30)):
        for j in range(count):
            tasks.append(Task(f"{name}{j}", (Mode(2 + j % 3, ((0, 1),)), Mode(1 + j % 2, ((0, 2),))),
                              weight=1 + j % 4))
            labels.append(name)
    return Problem((Resource("pool", 5, stand_down),), tuple(tasks), (), horizon=300), labels


def _replan(problem: Problem, late: dict[int, int]) -> tuple[Problem, Schedule]:
    """``problem`` anchored at its serial plan, with the tasks in ``late`` released later (they must move): the
    re-plan problem and its repaired previous plan."""
    previous = serial_sgs(problem, [float(t.weight) for t in problem.tasks])
    tasks = tuple(dataclasses.replace(t, anchor=previous.starts[j], release=late.get(j, t.release))
                  for j, t in enumerate(problem.tasks))
    anchored = problem.replace(tasks=tasks, move_cost=50)
    order = [-float(s) for s in previous.starts]
    return anchored, warm_start(anchored, order, list(previous.modes))


@pytest.mark.parametrize("stand_down", [(), ((10, 20, 5), (40, 60, 2))])
def test_the_regions_capacities_hold_the_start_and_never_exceed_the_pool(
        stand_down: tuple[tuple[int, int, int], ...]) -> None:
    problem, labels = _two_regions(stand_down)
    anchored, start = _replan(problem, {3: 15})
    members = [[j for j, x in enumerate(labels) if x == name] for name in ("A", "B")]
    caps = start_capacities(anchored, members, start, block=7)
    pool = _capacity(anchored.resources[0], anchored.horizon)
    held = [_capacity(c[0], anchored.horizon) for c in caps]
    assert (sum(held) <= pool).all()
    for tasks, cap in zip(members, held, strict=True):
        assert (_usage(anchored, start, tasks, anchored.horizon) <= cap).all()
    # The pool's spare goes to the regions still working with it: none of it is left where a region still works.
    busy_until = max(start.starts[j] + anchored.tasks[j].modes[start.modes[j]].duration for j in range(42))
    assert (sum(held)[:busy_until] == pool[:busy_until]).all()


@pytest.mark.parametrize("moves", [MovePolicy.FEWEST, MovePolicy.PRICED])
@pytest.mark.parametrize("engine", [Engine.CPSAT, Engine.GREEDY])
def test_a_replan_by_regions_is_checked_whole_and_no_worse_than_its_start(moves: MovePolicy, engine: Engine) -> None:
    problem, labels = _two_regions(((30, 40, 3),))
    anchored, start = _replan(problem, {2: 9, 20: 25})
    out = decompose_solve(anchored, labels, params=DecomposeParams(time_limit_s=4.0, parallel=2, engine=engine),
                          start=start, moves=moves, map_fn=serial_map)
    merged = out.result.schedule
    assert merged is not None and check(anchored, merged) == []
    assert out.result.engine == "decomposed" and out.rounds == 0 and out.moves == 0
    details = out.result.details
    assert details["replanned_by_regions"] is True and details["decomposed_regions"] == 2
    assert details["warm_start_moved"] == len(moved_tasks(anchored, start))
    assert out.uncoordinated_objective == objective_value(anchored, start)  # round 0 is the start
    assert out.result.baseline == start
    # Each region's plan is no worse than its part of the start; with FEWEST, moves rank first.
    moved, before = len(moved_tasks(anchored, merged)), len(moved_tasks(anchored, start))
    if moves is MovePolicy.FEWEST:
        assert details["fewest_moves"] == moved <= before
        assert moved < before or objective_value(anchored, merged) <= objective_value(anchored, start)
    else:
        assert objective_value(anchored, merged) <= objective_value(anchored, start)
    # The tasks released later moved; the anchors of the tasks nothing pushes are kept where the policy keeps them.
    assert merged.starts[2] >= 9 and merged.starts[20] >= 25
    if moves is MovePolicy.FEWEST:
        assert moved == 2


def test_anchors_without_a_start_are_still_refused() -> None:
    problem, labels = _two_regions()
    anchored, _ = _replan(problem, {})
    with pytest.raises(PlanError, match="keep anchors"):
        decompose_solve(anchored, labels, map_fn=serial_map)
