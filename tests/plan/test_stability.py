"""Stability in the engine: anchors and the move cost, counted alike by the checker and by CP-SAT; the warm start
keeps what it can; a re-plan with nothing changed moves nothing, and with one task delayed moves only what must move.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from sapper.errors import ValidationError
from sapper.plan import (
    Mode,
    MovePolicy,
    Objective,
    Precedence,
    Problem,
    Resource,
    Schedule,
    SolveParams,
    Status,
    Task,
    check,
    solve,
)
from sapper.plan.assign import assign_units
from sapper.plan.cpsat import solve_cpsat
from sapper.plan.greedy import serial_sgs
from sapper.plan.lns import _window_problem, window_lns
from sapper.plan.solution import moved_tasks, objective_value
from sapper.plan.stability import moves_lower_bound, must_move, propagate, repair, shift, warm_start

from .conftest import random_problem


def anchored(problem: Problem, schedule: Schedule, move_cost: int) -> Problem:
    """``problem`` with every task anchored at its start in ``schedule``."""
    tasks = tuple(dataclasses.replace(t, anchor=s) for t, s in zip(problem.tasks, schedule.starts, strict=True))
    return problem.replace(tasks=tasks, move_cost=move_cost)


def previous_order(schedule: Schedule) -> list[float]:
    return [-float(s) for s in schedule.starts]


def test_anchor_and_move_cost_are_validated() -> None:
    """A negative anchor and a negative move cost are both reported, at once."""
    with pytest.raises(ValidationError) as info:
        Problem((Resource("a", 1),), (Task("t", (Mode(1, ((0, 1),)),), anchor=-1),), (), 10, move_cost=-2)
    assert {f.field for f in info.value.faults} == {"anchor", "move_cost"}


def test_checker_charges_each_anchored_task_moved() -> None:
    """The first objective counts move_cost per anchored task off its anchor, whatever the distance; a makespan
    objective too; an objective ranked after it does not."""
    tasks = (Task("a", (Mode(2, ((0, 1),)),), weight=3, anchor=0), Task("b", (Mode(2, ((0, 1),)),), weight=1, anchor=2),
             Task("c", (Mode(1, ((0, 1),)),), weight=2))
    p = Problem((Resource("r", 1),), tasks, (), 20, move_cost=10)
    stay = Schedule((0, 2, 4), (0, 0, 0))
    moved = Schedule((0, 9, 4), (0, 0, 0))
    assert moved_tasks(p, stay) == [] and moved_tasks(p, moved) == [1]
    assert objective_value(p, stay) == 3 * 2 + 1 * 4 + 2 * 5
    assert objective_value(p, moved) == 3 * 2 + 1 * 11 + 2 * 5 + 10
    mk = p.replace(objective=Objective.MAKESPAN, then=(Objective.WEIGHTED_COMPLETION,))
    assert objective_value(mk, moved) == 11 + 10
    assert objective_value(mk, moved, Objective.WEIGHTED_COMPLETION) == 3 * 2 + 1 * 11 + 2 * 5


@pytest.mark.parametrize("seed", range(6))
def test_cpsat_objective_equals_the_checkers_with_anchors(seed: int) -> None:
    """With anchors (some out of reach) and a move cost, CP-SAT's objective is the checker's, with and without a
    hint, for weighted completion and for the makespan; solve() (which refuses any difference) proves the optimum."""
    rng = random.Random(seed)
    p = random_problem(seed, n=8, horizon=60)
    tasks = tuple(dataclasses.replace(t, anchor=rng.choice((None, rng.randint(0, 25), 70))) for t in p.tasks)
    q = p.replace(tasks=tasks, move_cost=rng.randint(1, 20))
    hint = serial_sgs(q, [float(t.weight) for t in q.tasks])
    for problem in (q, q.replace(objective=Objective.MAKESPAN)):
        for h in (None, hint):
            out = solve_cpsat(problem, time_limit_s=10, hint=h)
            assert out.schedule is not None and check(problem, out.schedule) == []
            assert out.objective == objective_value(problem, out.schedule)
    r = solve(q, params=SolveParams(time_limit_s=10))
    assert r.status is Status.OPTIMAL and r.schedule is not None
    assert r.objective == objective_value(q, r.schedule) == r.lower_bound


@pytest.mark.parametrize("seed", range(4))
def test_nothing_changed_moves_nothing(seed: int) -> None:
    """Anchored at an optimal plan's own starts, the warm start is that plan, nothing must move, and the re-plan
    moves nothing and costs what the plan did."""
    p = random_problem(seed, n=8)
    r = solve(p, params=SolveParams(time_limit_s=10))
    assert r.status is Status.OPTIMAL and r.schedule is not None
    q = anchored(p, r.schedule, move_cost=5)
    modes = list(r.schedule.modes)
    start = warm_start(q, previous_order(r.schedule), modes)
    assert start == r.schedule
    assert propagate(q, modes).must_move(q) == []
    again = solve(q, params=SolveParams(time_limit_s=10), start=start)
    assert again.schedule is not None and moved_tasks(q, again.schedule) == []
    assert again.objective == r.objective


def _delay_problem() -> tuple[Problem, Schedule]:
    """Pool A (2 units) and B (1 unit). t0 runs and now needs 6 periods instead of 4 (pinned at 0); t1 and t2 follow
    it; t3 follows it with slack; t4, t5 and t6 are independent of it."""
    a, b = ((0, 1),), ((1, 1),)
    tasks = (
        Task("t0", (Mode(6, a),), release=0, deadline=6, anchor=0),
        Task("t1", (Mode(3, a),), anchor=4),
        Task("t2", (Mode(2, b),), weight=3, anchor=7),
        Task("t3", (Mode(2, b),), weight=2, anchor=12),
        Task("t4", (Mode(5, a),), anchor=0),
        Task("t5", (Mode(3, b),), weight=1, anchor=0),
        Task("t6", (Mode(2, a),), weight=2, anchor=5),
    )
    precs = (Precedence(0, 1), Precedence(1, 2), Precedence(0, 3), Precedence(4, 6))
    p = Problem((Resource("A", 2), Resource("B", 1)), tasks, precs, 40, move_cost=100)
    old = Schedule((0, 4, 7, 12, 0, 0, 5), (0,) * 7)
    return p, old


def test_one_delayed_task_moves_only_what_must_move() -> None:
    """t0 runs two periods longer: t1 and t2 must move (their predecessors now end after their starts); the warm
    start and the optimal re-plan move exactly those two, not t3 (slack) nor the others."""
    p, old = _delay_problem()
    modes = [0] * len(p.tasks)
    must = propagate(p, modes).must_move(p)
    unanchored = p.replace(tasks=tuple(dataclasses.replace(t, anchor=None) for t in p.tasks))
    earliest = propagate(unanchored, [None] * len(p.tasks))
    assert must == [1, 2] == [j for j in p.anchored if earliest.starts[j] > (p.tasks[j].anchor or 0)]
    start = warm_start(p, previous_order(old), modes)
    assert moved_tasks(p, start) == must
    r = solve(p, params=SolveParams(time_limit_s=10), start=start)
    assert r.status is Status.OPTIMAL and r.schedule is not None
    assert moved_tasks(p, r.schedule) == must
    assert r.schedule.starts[1:3] == (6, 9)


@pytest.mark.parametrize("seed", range(6))
def test_random_delay_moves_exactly_the_tasks_pushed_forward(seed: int) -> None:
    """Random precedence networks with room in every pool: one task with successors runs longer (pinned at its
    start); with a move cost above any gain, the optimal re-plan moves exactly the tasks that propagation says must
    move, and so does the warm start."""
    rng = random.Random(seed)
    n = 9
    tasks = [Task(f"t{j}", (Mode(rng.randint(1, 4), ((j % 2, 1),)),), weight=rng.randint(0, 3)) for j in range(n)]
    precs = tuple({(i, j): Precedence(i, j) for j in range(n) for i in range(j) if rng.random() < 0.3}.values())
    p = Problem((Resource("a", n), Resource("b", n)), tuple(tasks), precs, 80)
    old = serial_sgs(p, [-float(j) for j in range(n)])
    late = next(j for j in range(n) if any(old.starts[k] == old.end(p, j) + lag for k, lag in p.successors[j]))
    d = p.tasks[late].modes[0].duration + rng.randint(1, 3)
    grown = [dataclasses.replace(t, anchor=s) for t, s in zip(p.tasks, old.starts, strict=True)]
    grown[late] = Task(p.tasks[late].name, (Mode(d, p.tasks[late].modes[0].demands),), p.tasks[late].weight,
                       release=old.starts[late], deadline=old.starts[late] + d, anchor=old.starts[late])
    q = p.replace(tasks=tuple(grown), move_cost=100_000)
    modes = [0] * n
    must = propagate(q, modes).must_move(q)
    assert must, "the delayed task should push at least one successor"
    start = warm_start(q, previous_order(old), modes)
    r = solve(q, params=SolveParams(time_limit_s=10), start=start)
    assert r.status is Status.OPTIMAL and r.schedule is not None
    assert moved_tasks(q, start) == moved_tasks(q, r.schedule) == must


def test_warm_start_does_not_ripple_through_a_busy_pool() -> None:
    """One unit, lots back to back, then room: when the running lot overruns, shifting the old plan moves every lot
    after it; the repair moves one lot to the room at the end (cheaper with this move cost), and the warm start
    takes it."""
    one = ((0, 1),)
    tasks = (Task("run", (Mode(4, one),), release=0, deadline=4, anchor=0),
             *(Task(f"lot{k}", (Mode(3, one),), weight=1, anchor=3 * k) for k in range(1, 5)))
    p = Problem((Resource("u", 1),), tasks, (), 40, move_cost=50)
    order = [-float(t.anchor or 0) for t in p.tasks]
    modes: list[int | None] = [0] * len(p.tasks)
    assert moved_tasks(p, shift(p, order, modes)) == [1, 2, 3, 4]
    kept = repair(p, order, modes, cascade=4.0)
    assert moved_tasks(p, kept) == [1] and kept.starts[1] == 15
    assert warm_start(p, order, modes) == kept


def test_lns_windows_carry_anchors_and_the_move_cost() -> None:
    """A window's sub-problem keeps its tasks' anchors and the move cost, so its objective differs from the whole
    one by a constant; the window search from a plan never ends worse and its plan passes the checker."""
    p = random_problem(21, n=40, horizon=400)
    base = solve(p, params=SolveParams(engine="greedy")).schedule
    assert base is not None
    rng = random.Random(5)
    q = p.replace(tasks=tuple(dataclasses.replace(t, anchor=s + rng.choice((0, 0, 2)))
                              for t, s in zip(p.tasks, base.starts, strict=True)), move_cost=7)
    free = list(range(10, 20))
    sub, hint = _window_problem(q, base, free)
    assert sub.move_cost == 7 and [t.anchor for t in sub.tasks] == [q.tasks[j].anchor for j in free]
    moved_sub = Schedule(tuple(s + (1 if k == 3 else 0) for k, s in enumerate(hint.starts)), hint.modes)
    whole = list(base.starts)
    for k, j in enumerate(free):
        whole[j] = moved_sub.starts[k]
    moved_whole = Schedule(tuple(whole), base.modes)
    assert (objective_value(q, moved_whole) - objective_value(sub, moved_sub)
            == objective_value(q, base) - objective_value(sub, hint))

    def sub_solver(problem: Problem, h: Schedule, limit: float) -> Schedule | None:
        return solve_cpsat(problem, time_limit_s=limit, hint=h).schedule

    found, stats = window_lns(q, base, sub_solver, time_limit_s=4, window_tasks=12, window_seconds=0.5)
    assert check(q, found) == [] and stats.objective <= stats.start_objective
    assert stats.objective == objective_value(q, found)


def test_assignment_keeps_preferred_units() -> None:
    """A task keeps the unit it prefers when that unit is free at its start; a unit another task will want soon is
    left free when it can be."""
    one = ((0, 1),)
    p = Problem((Resource("pool", 2),), (Task("x", (Mode(2, one),)), Task("y", (Mode(2, one),)),
                                          Task("z", (Mode(2, one),))), (), 10)
    s = Schedule((0, 2, 2), (0, 0, 0))
    assert assign_units(p, s, [("u1", "u2")]) == [("u1",), ("u1",), ("u2",)]
    kept = assign_units(p, s, [("u1", "u2")], prefer=[(), ("u2",), ("u1",)])
    assert kept == [("u1",), ("u2",), ("u1",)]
    # x takes the unit nobody asks for later, so y keeps the one it asks for.
    assert assign_units(p, s, [("u1", "u2")], prefer=[(), ("u1",), ()])[:2] == [("u2",), ("u1",)]


# ----------------------------------------------------------------------------------------------------
# Fewest moves (lexicographic: moves first, then the objective)
# ----------------------------------------------------------------------------------------------------


def _early_finish_problem(move_cost: int) -> tuple[Problem, Schedule]:
    """One unit. The running lot finished early (now 2 periods, was 5); the next lot, of weight 10, keeps its anchor
    at 5 unless it moves forward to 2, which gains 30 (3 periods × 10)."""
    one = ((0, 1),)
    tasks = (Task("run", (Mode(2, one),), release=0, deadline=2, anchor=0),
             Task("next", (Mode(3, one),), weight=10, anchor=5),
             Task("later", (Mode(2, one),), weight=1, anchor=8))
    p = Problem((Resource("u", 1),), tasks, (), 30, move_cost=move_cost)
    return p, Schedule((0, 5, 8), (0, 0, 0))


def test_fewest_moves_never_moves_a_lot_by_choice() -> None:
    """With a move cost below the gain, the priced re-plan moves the next lot forward (not the light one after it:
    3 periods × weight 1 gain less than the cost); with fewest moves ranked first nothing moves, the minimum (0) is
    proven, and the objective is the checker's."""
    p, old = _early_finish_problem(move_cost=5)
    start = warm_start(p, previous_order(old), [0, 0, 0])
    priced = solve(p, params=SolveParams(time_limit_s=10), start=start)
    assert priced.schedule is not None and moved_tasks(p, priced.schedule) == [1]
    fewest = solve(p, params=SolveParams(time_limit_s=10), start=start, moves=MovePolicy.FEWEST)
    assert fewest.schedule is not None and moved_tasks(p, fewest.schedule) == []
    assert fewest.details["fewest_moves"] == fewest.details["fewest_moves_bound"] == 0
    assert fewest.details["fewest_moves_proven"] is True
    assert fewest.objective == objective_value(p, fewest.schedule) > priced.objective  # type: ignore[operator]
    assert fewest.lower_bound is not None and fewest.lower_bound <= fewest.objective  # type: ignore[operator]


def _minimum_moves_by_enumeration(p: Problem) -> int:
    """The fewest anchored tasks any feasible plan moves, found without the engine's moves model: for k = 0, 1, …,
    each set of k anchored tasks is let free and the others fixed at their anchors; the first k with a feasible plan
    (a CP-SAT feasibility model, then the independent checker) is the minimum."""
    import itertools

    anchored_tasks = list(p.anchored)
    for k in range(len(anchored_tasks) + 1):
        for free in itertools.combinations(anchored_tasks, k):
            fixed = tuple(t if j in free or t.anchor is None else
                          dataclasses.replace(t, release=t.anchor, deadline=t.anchor + min(m.duration for m in t.modes)
                                              if len(t.modes) == 1 else t.deadline)
                          for j, t in enumerate(p.tasks))
            q = p.replace(tasks=fixed, move_cost=0)
            out = solve_cpsat(q, time_limit_s=10)
            if out.schedule is None:
                assert out.status == "infeasible"
                continue
            s = out.schedule
            if check(p, s) == [] and all(s.starts[j] == p.tasks[j].anchor for j in anchored_tasks if j not in free):
                return k
    raise AssertionError("no feasible plan at all")


@pytest.mark.parametrize("seed", range(5))
def test_fewest_moves_is_the_true_minimum(seed: int) -> None:
    """Random single-mode problems on tight pools, anchored at an old plan whose durations then grew: the fewest
    moves solve(start=..., moves=FEWEST) proves equals the minimum found by enumerating the sets of tasks let free;
    the plan it returns moves exactly that many, passes the checker, and no later improvement added a move."""
    rng = random.Random(100 + seed)
    n = 7
    tasks = [Task(f"t{j}", (Mode(rng.randint(1, 4), ((j % 2, 1),)),), weight=rng.randint(0, 4)) for j in range(n)]
    precs = tuple({(i, j): Precedence(i, j) for j in range(n) for i in range(j) if rng.random() < 0.2}.values())
    p = Problem((Resource("a", 2), Resource("b", 1)), tuple(tasks), precs, 60)
    old = serial_sgs(p, [-float(j) for j in range(n)])
    grown = [dataclasses.replace(t, anchor=s) for t, s in zip(p.tasks, old.starts, strict=True)]
    for j in rng.sample(range(n), 2):
        mode = grown[j].modes[0]
        grown[j] = dataclasses.replace(grown[j], modes=(Mode(mode.duration + rng.randint(1, 3), mode.demands),))
    q = p.replace(tasks=tuple(grown), move_cost=1)
    start = warm_start(q, previous_order(old), [0] * n)
    r = solve(q, params=SolveParams(time_limit_s=10), start=start, moves=MovePolicy.FEWEST)
    assert r.schedule is not None and check(q, r.schedule) == []
    assert r.details["fewest_moves_proven"] is True
    minimum = _minimum_moves_by_enumeration(q)
    assert r.details["fewest_moves"] == r.details["fewest_moves_bound"] == minimum
    assert len(moved_tasks(q, r.schedule)) == minimum
    assert must_move(q) <= moves_lower_bound(q, start, time_limit_s=10).bound <= minimum


@pytest.mark.parametrize("seed", range(3))
def test_fewest_moves_on_the_region_path(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path region-sized problems take (relaxation bound, then CP-SAT windows to improve the plan), forced on small
    problems: the bound stays at or below the enumerated minimum, the plan is checked, and the improvement never
    adds a move to the fewest found."""
    import importlib

    import sapper.plan.stability as stability

    solve_module = importlib.import_module("sapper.plan.solve")  # the package's ``solve`` is the function

    monkeypatch.setattr(stability, "LARGE_PROBLEM_TASKS", 3)
    monkeypatch.setattr(solve_module, "LARGE_PROBLEM_TASKS", 3)
    rng = random.Random(200 + seed)
    n = 7
    tasks = [Task(f"t{j}", (Mode(rng.randint(1, 4), ((j % 2, 1),)),), weight=rng.randint(1, 4)) for j in range(n)]
    p = Problem((Resource("a", 1), Resource("b", 1)), tuple(tasks), (), 60)
    old = serial_sgs(p, [-float(j) for j in range(n)])
    grown = [dataclasses.replace(t, anchor=s) for t, s in zip(p.tasks, old.starts, strict=True)]
    j = rng.randrange(2)  # one of the first lots of a pool whose lots run back to back: later ones must move
    grown[j] = dataclasses.replace(grown[j], modes=(Mode(grown[j].modes[0].duration + 3, grown[j].modes[0].demands),))
    q = p.replace(tasks=tuple(grown), move_cost=1)
    start = warm_start(q, previous_order(old), [0] * n)
    r = solve(q, params=SolveParams(time_limit_s=6), start=start, moves=MovePolicy.FEWEST)
    assert r.schedule is not None and check(q, r.schedule) == []
    assert "lns_windows" in r.details and "fewest_moves_relaxation_bound" in r.details
    minimum = _minimum_moves_by_enumeration(q)
    assert r.details["fewest_moves_bound"] <= minimum <= len(moved_tasks(q, r.schedule))  # type: ignore[operator]
    assert len(moved_tasks(q, r.schedule)) <= r.details["fewest_moves"]  # type: ignore[operator]


def test_repair_moving_only_the_freed_tasks() -> None:
    """One unit, lots back to back from 0, the first running two periods longer: repaired with the last lot let
    free, only that lot moves (to the end), where the plain repair in order pushes the ones after the overrun."""
    one = ((0, 1),)
    tasks = (Task("run", (Mode(5, one),), release=0, deadline=5, anchor=0),
             Task("a", (Mode(2, one),), weight=1, anchor=3),
             Task("b", (Mode(2, one),), weight=1, anchor=5),
             Task("c", (Mode(2, one),), weight=1, anchor=7))
    p = Problem((Resource("u", 1),), tasks, (), 30, move_cost=1)
    old = Schedule((0, 3, 5, 7), (0, 0, 0, 0))
    start = shift(p, previous_order(old), [0] * 4)
    assert moved_tasks(p, start) == [1, 2, 3]
    from sapper.plan.stability import _repair_moving

    freed = _repair_moving(p, start, [frozenset({1})])
    assert freed is not None and check(p, freed) == [] and moved_tasks(p, freed) == [1]
    assert freed.starts[1] >= 9


def test_compact_keeps_the_moves_and_pulls_free_tasks_forward() -> None:
    """A fewest-moves plan as CP-SAT may return it when it optimises moves alone: the anchored lots at their anchors,
    one moved lot and a new (unanchored) lot left far later than they need be. Compacted, the same single lot moves
    and both start as soon as the kept lots allow, so the weighted completion falls."""
    from sapper.plan.stability import compact

    one = ((0, 1),)
    tasks = (Task("run", (Mode(5, one),), release=0, deadline=5, anchor=0),
             Task("a", (Mode(2, one),), weight=1, anchor=3),
             Task("b", (Mode(2, one),), weight=1, anchor=7),
             Task("new", (Mode(2, one),), weight=5))
    p = Problem((Resource("u", 1),), tasks, (), 40, move_cost=100)
    lazy = Schedule((0, 20, 7, 30), (0, 0, 0, 0))
    assert check(p, lazy) == [] and moved_tasks(p, lazy) == [1]
    tight = compact(p, lazy)
    assert check(p, tight) == [] and moved_tasks(p, tight) == [1]
    assert tight.starts == (0, 5, 7, 9)
    assert objective_value(p, tight) < objective_value(p, lazy)
    assert compact(p, tight) is tight  # nothing left to win


def test_first_fit_in_windows_is_the_first_fit_of_the_whole_horizon() -> None:
    """``_first_fit_from`` asks for the free periods in doubling windows from the earliest start; it finds the same
    first fit as ``_first_fit`` over the whole horizon, a fit across two windows' border included, and None where
    there is none."""
    from sapper.plan.stability import _first_fit, _first_fit_from

    rng = np.random.default_rng(7)
    asked: list[tuple[int, int]] = []
    for case in range(3000):
        horizon = int(rng.integers(1, 900))
        ok = rng.random(horizon) < rng.choice([0.5, 0.9, 0.99, 1.0])
        if case % 3 == 0:  # long busy stretches, so that fits lie far beyond the first window
            ok[: int(rng.integers(0, horizon + 1))] = False
        est = int(rng.integers(0, horizon + 5))
        duration = int(rng.integers(0, 80))

        def part(lo: int, hi: int, ok: np.ndarray = ok) -> np.ndarray:
            asked.append((lo, hi))
            return ok[lo:hi]

        assert _first_fit_from(part, est, duration, horizon) == _first_fit(ok, est, duration), (case, est, duration)
    assert any(lo > 0 and hi - lo > 64 for lo, hi in asked)  # later, wider windows were asked for


def test_warm_start_past_its_deadline_starts_no_further_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    """The busy pool above: past its deadline the warm start makes the first repair (cascade 1) and the shift and
    keeps the better; without a deadline it tries every cascade."""
    import sapper.plan.stability as stability

    one = ((0, 1),)
    tasks = (Task("run", (Mode(4, one),), release=0, deadline=4, anchor=0),
             *(Task(f"lot{k}", (Mode(3, one),), weight=1, anchor=3 * k) for k in range(1, 5)))
    p = Problem((Resource("u", 1),), tasks, (), 40, move_cost=50)
    order = [-float(t.anchor or 0) for t in p.tasks]
    modes: list[int | None] = [0] * len(p.tasks)
    first = min((repair(p, order, modes, cascade=1.0), shift(p, order, modes)), key=lambda s: objective_value(p, s))
    cascades: list[float] = []

    def counted(*args: object, cascade: float = 1.0, **kw: object) -> Schedule:
        cascades.append(cascade)
        return repair(*args, cascade=cascade, **kw)

    monkeypatch.setattr(stability, "repair", counted)
    assert warm_start(p, order, modes, deadline=0.0) == first
    assert cascades == [1.0]
    cascades.clear()
    warm_start(p, order, modes)
    assert cascades == list(stability.CASCADES)
