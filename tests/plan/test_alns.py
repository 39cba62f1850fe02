"""Adaptive neighbourhood search on a small region-like problem: survey → clearance lots → release → repairs."""

from __future__ import annotations

import importlib
import random

import pytest

from sapper.plan import Mode, Precedence, Problem, Resource, Task, check, objective_value, solve
from sapper.plan.alns import AlnsParams, AlnsStats, OperatorStats, SubOutcome, alns
from sapper.plan.cpsat import solve_cpsat
from sapper.plan.greedy import serial_sgs
from sapper.plan.solution import Schedule
from sapper.plan.solve import SolveParams

SURVEY, MANUAL, BUILDERS = 0, 1, 2
solve_module = importlib.import_module("sapper.plan.solve")


def _region(seed: int, areas: int = 14) -> Problem:
    """Areas with a survey, 1–3 clearance lots and a weighted release; a third of them unlock a repair whose
    restoration is weighted too. Survey and clearance pools of two teams, one brigade pool of two."""
    rng = random.Random(seed)
    tasks: list[Task] = []
    precs: list[Precedence] = []
    for a in range(areas):
        survey = len(tasks)
        tasks.append(Task(f"ts A{a}", (Mode(rng.randint(2, 6), ((SURVEY, 1),), "survey"),)))
        lots = []
        for k in range(rng.randint(1, 3)):
            lots.append(len(tasks))
            tasks.append(Task(f"clearance A{a}/{k}", (Mode(rng.randint(3, 9), ((MANUAL, 1),), "manual"),)))
            precs.append(Precedence(survey, lots[-1]))
        released = len(tasks)
        tasks.append(Task(f"released A{a}", (Mode(0),), weight=rng.randint(1, 20)))
        precs.extend(Precedence(lot, released, 2) for lot in lots)
        if a % 3 == 0:
            repair = len(tasks)
            tasks.append(Task(f"repair S{a}", (Mode(rng.randint(2, 5), ((BUILDERS, 1),), "building"),)))
            tasks.append(Task(f"restored S{a}", (Mode(0),), weight=rng.randint(5, 30)))
            precs += [Precedence(released, repair), Precedence(repair, repair + 1)]
    resources = (Resource("survey", 2), Resource("manual", 2), Resource("builders", 2))
    return Problem(resources, tuple(tasks), tuple(precs), 400)


def _poor_start(problem: Problem) -> Schedule:
    """The serial scheme with the lightest work first: a deliberately poor plan."""
    return serial_sgs(problem, [-float(t.weight) - j * 1e-3 for j, t in enumerate(problem.tasks)])


def _cpsat(problem: Problem, hint: Schedule, limit: float) -> SubOutcome:
    out = solve_cpsat(problem, time_limit_s=limit, workers=1, seed=0, hint=hint)
    return SubOutcome(out.schedule, out.status == "optimal")


@pytest.mark.parametrize("seed", [1, 2])
def test_alns_improves_a_poor_start_and_never_makes_it_worse(seed: int) -> None:
    """From a poor plan the search finds a better one the checker accepts, and every operator is recorded."""
    p = _region(seed)
    start = _poor_start(p)
    params = AlnsParams(sub_seconds=1.0, start_size=12, min_size=4)
    found, stats = alns(p, start, _cpsat, time_limit_s=30, seed=seed, params=params, max_iterations=25)
    assert check(p, found) == []
    assert isinstance(stats, AlnsStats) and all(isinstance(o, OperatorStats) for o in stats.operators)
    assert stats.start_objective == objective_value(p, start)
    assert stats.objective == objective_value(p, found) < 0.97 * stats.start_objective
    assert stats.iterations == 25 == sum(o.calls for o in stats.operators)
    assert stats.improved == sum(o.improved for o in stats.operators) > 0
    assert sum(o.gain for o in stats.operators) == pytest.approx(stats.start_objective - stats.objective)
    assert {o.name for o in stats.operators} == {"release-chain", "pool-window", "time-window", "priority-search"}


def test_alns_keeps_the_plan_when_the_sub_solver_finds_nothing() -> None:
    """A sub-solver that returns nothing (or the hint) leaves the plan as it was: no call makes it worse; the
    priority search alone only ever replaces it by a better plan."""
    p = _region(3)
    start = _poor_start(p)
    cp_only = AlnsParams(priority_search=False)
    nothing, stats = alns(p, start, lambda sub, hint, limit: SubOutcome(None, False), time_limit_s=10,
                          max_iterations=10, params=cp_only)
    assert nothing == start and stats.improved == 0 and stats.objective == stats.start_objective
    same, _ = alns(p, start, lambda sub, hint, limit: SubOutcome(hint, True), time_limit_s=10, max_iterations=10,
                   params=cp_only)
    assert same == start
    alone, stats = alns(p, start, lambda sub, hint, limit: SubOutcome(None, False), time_limit_s=30,
                        max_iterations=30)
    assert check(p, alone) == [] and stats.objective == objective_value(p, alone) <= stats.start_objective
    search = next(o for o in stats.operators if o.name == "priority-search")
    assert search.calls > 0 and stats.improved == search.improved


def test_alns_is_the_same_search_for_the_same_seed_and_sizes_adapt() -> None:
    """Given the seed and the sub-solver's answers the search repeats; sizes grow when sub-problems close fast."""
    p = _region(4)
    start = _poor_start(p)
    params = AlnsParams(sub_seconds=10.0, start_size=6, min_size=4, max_size=16)
    runs = []
    for _ in range(2):
        ticks = iter(range(1_000_000))
        runs.append(alns(p, start, _cpsat, time_limit_s=1e5, seed=7, params=params, max_iterations=12,
                         clock=lambda: 0.01 * next(ticks)))  # noqa: B023 - each run its own clock
    assert runs[0][0] == runs[1][0]
    assert [o.calls for o in runs[0][1].operators] == [o.calls for o in runs[1][1].operators]
    assert any(o.size > 6 for o in runs[0][1].operators)  # proven optimal quickly: the neighbourhood grew


def test_alns_district_operator_frees_one_group() -> None:
    """With a group per task the district operator is used, and only tasks of one group (and milestones) move."""
    p = _region(5)
    start = _poor_start(p)
    groups = [int(t.name.split()[1].lstrip("AS").split("/")[0]) % 3 for t in p.tasks]  # the area's number mod 3
    freed: list[set[int]] = []

    def spy(sub: Problem, hint: Schedule, limit: float) -> SubOutcome:
        freed.append({groups[next(j for j, t in enumerate(p.tasks) if t.name == s.name)] for s in sub.tasks
                      if s.modes[0].demands})
        return SubOutcome(None, False)

    _, stats = alns(p, start, spy, time_limit_s=10, seed=0, groups=groups, max_iterations=40,
                    params=AlnsParams(start_size=5))
    district = next(o for o in stats.operators if o.name == "district")
    assert district.calls > 0
    assert any(len(f) == 1 for f in freed)


def test_solve_reports_the_search_on_large_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the size limit ``solve`` runs the search from the best heuristic plan and reports it, typed."""
    monkeypatch.setattr(solve_module, "LARGE_PROBLEM_TASKS", 10)
    p = _region(6)
    r = solve(p, params=SolveParams(time_limit_s=4, workers=1, seed=0))
    assert r.search is not None and r.search.iterations > 0
    assert r.objective is not None and r.schedule is not None and check(p, r.schedule) == []
    heuristic = r.details["heuristic_objective"]
    assert isinstance(heuristic, float) and r.objective <= heuristic == r.search.start_objective
    assert r.details["lns_windows"] == r.search.iterations
    assert r.details["alns_release_chain_calls"] == r.search.operators[0].calls


def test_alns_leaves_the_priority_search_out_of_re_plans() -> None:
    """With anchored tasks (a re-plan) whole plans in a new order would ignore the anchors: no priority search."""
    p = _region(7)
    start = _poor_start(p)
    anchored = p.replace(tasks=tuple(Task(t.name, t.modes, t.weight, t.release, t.deadline, start.starts[j])
                                     for j, t in enumerate(p.tasks)), move_cost=5)
    _, stats = alns(anchored, start, lambda sub, hint, limit: SubOutcome(None, False), time_limit_s=10,
                    max_iterations=5)
    assert "priority-search" not in {o.name for o in stats.operators}
    _, stats = alns(p, start, lambda sub, hint, limit: SubOutcome(None, False), time_limit_s=10, max_iterations=5)
    assert "priority-search" in {o.name for o in stats.operators}


def test_priority_search_weighs_the_set_up_of_borrowed_roles() -> None:
    """Three short lots of pool A's role, the third of which ends a period earlier borrowed on pool B (set-up
    included), and a heavier lot only B can do, released a period later. The serial scheme lends B to the third
    lot, so the heavy lot waits for it (objective 49); the priority search's set-up weights keep the third lot on A
    and the heavy lot starts on B at its release (39)."""
    a, b = 0, 1
    lot = (Mode(2, ((a, 1),), "a"), Mode(5, ((b, 1),), "a", setup=3))
    tasks = (Task("x1", lot, weight=2), Task("x2", lot, weight=2), Task("x3", lot, weight=2),
             Task("y", (Mode(4, ((b, 1),), "b"),), weight=3, release=1))
    p = Problem((Resource("A", 1), Resource("B", 1)), tasks, (), 40)
    start = serial_sgs(p, [4.0, 3.0, 2.0, 1.0])
    assert start.modes == (0, 0, 1, 0) and objective_value(p, start) == 49
    found, stats = alns(p, start, lambda sub, hint, limit: SubOutcome(None, False), time_limit_s=30,
                        max_iterations=30)
    assert check(p, found) == [] and objective_value(p, found) == 39 and found.modes == (0, 0, 0, 0)
    assert next(o for o in stats.operators if o.name == "priority-search").improved > 0


def test_sub_problems_keep_own_role_modes_and_the_incumbents() -> None:
    """A sub-problem's task keeps its modes without set-up and the one the incumbent uses; the hint and the
    sub-solver's answer are mapped between the two numberings, and the search with the cut is still checked."""
    from sapper.plan.alns import _modes_back, own_role_modes

    lot = (Mode(2, ((0, 1),), "a"), Mode(5, ((1, 1),), "a", setup=3), Mode(3, ((2, 1),), "a"),
           Mode(6, ((2, 1),), "a", setup=3))
    p = Problem((Resource("A", 1), Resource("B", 1), Resource("C", 1)),
                (Task("x", lot, weight=1), Task("y", lot, weight=1), Task("z", (Mode(1, ((1, 1),), "b"),))), (), 30)
    hint = Schedule((0, 0, 5), (0, 3, 0))
    sub, sub_hint, kept = own_role_modes(p, hint)
    assert kept == [(0, 2), (0, 2, 3), (0,)]
    assert [len(t.modes) for t in sub.tasks] == [2, 3, 1] and sub_hint == Schedule((0, 0, 5), (0, 2, 0))
    assert check(sub, sub_hint) == []
    back = _modes_back(SubOutcome(Schedule((0, 2, 5), (1, 0, 0)), True), kept)
    assert back.schedule == Schedule((0, 2, 5), (2, 0, 0)) and back.optimal
    assert _modes_back(SubOutcome(None, False), kept).schedule is None
    same, _, _ = own_role_modes(_region(1), _poor_start(_region(1)))
    assert same == _region(1)  # no set-up anywhere: the sub-problem as it was


def test_the_priority_search_re_tasks_a_unit_whose_own_role_ran_out() -> None:
    """From the plan in which the survey team keeps to survey and stands idle 87 of 110 days (set-up weight 30, as
    a priority search without fading left kursk-border, issue 17), the search with the weight fading as a pool's
    own-role work runs out (``AlnsParams.setup_fades``, the default) re-tasks the survey team to clearance: no idle
    day before the plan's end and a better objective, checked; without fading (and without a weight per pool and
    role, which can lower the survey team's weight alone) it leaves the team idle longer; with the weights per role
    and no fading it re-tasks the team too."""
    from .test_sgs import idle_periods, role_runs_out

    p = role_runs_out()
    start = serial_sgs(p, [float(len(p.tasks) - j) for j in range(len(p.tasks))], setup_weight=30.0)
    assert idle_periods(p, start, 0) == 87
    nothing = lambda sub, hint, limit: SubOutcome(None, False)  # noqa: E731 - the priority search alone
    found, stats = alns(p, start, nothing, time_limit_s=30, max_iterations=30)
    assert check(p, found) == [] and idle_periods(p, found, 0) == 0
    assert objective_value(p, found) < objective_value(p, start) and max(found.ends(p)) <= max(start.ends(p))
    assert next(o for o in stats.operators if o.name == "priority-search").improved > 0
    kept, _ = alns(p, start, nothing, time_limit_s=30, max_iterations=30,
                   params=AlnsParams(setup_fades=False, role_weights=False))
    assert idle_periods(p, kept, 0) > 0 and objective_value(p, kept) > objective_value(p, found)
    by_role, _ = alns(p, start, nothing, time_limit_s=30, max_iterations=30, params=AlnsParams(setup_fades=False))
    assert check(p, by_role) == [] and idle_periods(p, by_role, 0) == 0


def test_the_priority_search_decodes_a_batch_where_the_scheme_is_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the serial scheme is compiled (``greedy.compiled``) each call of the priority search decodes
    ``AlnsParams.priority_batch`` orders and proposes the best; the search stays the same for the same seed, and
    re-tasks the unit whose own role ran out as with one decoding per call."""
    import sapper.plan.greedy as greedy

    from .test_sgs import idle_periods, role_runs_out

    monkeypatch.setattr(greedy, "COMPILED_MIN_TASKS", 0)
    p = role_runs_out()
    start = serial_sgs(p, [float(len(p.tasks) - j) for j in range(len(p.tasks))], setup_weight=30.0)
    decoded: list[float] = []
    plain = greedy.serial_sgs

    def counted(*args: object, **kw: float) -> Schedule:
        decoded.append(kw.get("setup_weight", 0.0))
        return plain(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(greedy, "serial_sgs", counted)
    nothing = lambda sub, hint, limit: SubOutcome(None, False)  # noqa: E731 - the priority search alone
    params = AlnsParams(priority_batch=5, priority_search=True)
    found, stats = alns(p, start, nothing, time_limit_s=30, max_iterations=12, seed=3, params=params)
    search = next(o for o in stats.operators if o.name == "priority-search")
    assert search.calls > 0 and len(decoded) == 5 * search.calls
    assert check(p, found) == [] and idle_periods(p, found, 0) == 0 and search.improved > 0
    again, _ = alns(p, start, nothing, time_limit_s=30, max_iterations=12, seed=3, params=params)
    assert again == found


def test_the_priority_search_arrays_give_the_plain_rule_and_objective() -> None:
    """``alns._Tables``: the bottleneck-weighted unlock ratio from arrays is the rule computed task by task (each
    milestone's weight over the pressure-weighted work of its ancestors, summed over the milestones a task leads
    to), and the objective from the weighted tasks' ends is ``objective_value``."""
    import numpy as np

    from sapper.plan.alns import _ancestors, _bottleneck_priority, _Context, _pressure

    p = _region(4)
    start = _poor_start(p)
    milestones = [j for j, t in enumerate(p.tasks) if t.weight > 0]
    ctx = _Context(p, np.random.default_rng(0), [], [], [], [], milestones=milestones,
                   ancestors=[_ancestors(p, m) for m in milestones])
    pressure = _pressure(p, start)
    for alpha in (1.0, 2.5):
        scale = pressure ** alpha
        work = [min(sum(m.duration * u * scale[r] for r, u in m.demands) for m in t.modes) for t in p.tasks]
        plain = [0.0] * len(p.tasks)
        for m, seen in zip(ctx.milestones, ctx.ancestors, strict=True):
            for x in seen:
                plain[x] += p.tasks[m].weight / (1e-3 + sum(work[y] for y in seen))
        assert _bottleneck_priority(ctx, pressure, alpha, 0.0, False) == pytest.approx(plain, rel=1e-12)
    for plan in (start, serial_sgs(p, [float(t.weight) for t in p.tasks])):
        assert ctx.tables().objective(p, plan) == objective_value(p, plan)
