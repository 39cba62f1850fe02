"""Schedule generation: the parallel scheme's plans are feasible and non-delay; the serial scheme's may not be."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sapper.errors import PlanError
from sapper.io.psplib import read_instance
from sapper.plan import Mode, Objective, Precedence, Problem, Resource, SolveParams, Task, check, objective_value, solve
from sapper.plan.greedy import longest_tail_rule, parallel_sgs, serial_sgs
from sapper.plan.solution import Schedule

from .conftest import random_problem

DATA = Path(__file__).parents[1] / "data" / "psplib"


def _delayed(problem: Problem, schedule: Schedule) -> list[tuple[int, int]]:
    """(task, t) pairs where the task was ready at ``t`` < its start and its mode fitted from ``t`` on what the tasks
    started by ``t`` and the outages leave: a plan with none is non-delay."""
    starts, modes, ends = schedule.starts, schedule.modes, schedule.ends(problem)
    out = []
    for j, task in enumerate(problem.tasks):
        mode = task.modes[modes[j]]
        ready = max([task.release] + [ends[p] + lag for p, lag in problem.predecessors[j]])
        for t in range(ready, starts[j]):
            end = t + mode.duration
            if end > problem.horizon or (task.deadline is not None and end > task.deadline):
                continue
            fits = True
            for r, units in mode.demands:
                if not problem.resources[r].renewable or mode.duration == 0:
                    continue
                left = np.asarray(problem.capacity_profile(r)[t:end])
                for k, other in enumerate(problem.tasks):
                    if k == j or starts[k] > t:
                        continue
                    used = dict(other.modes[modes[k]].demands).get(r, 0)
                    lo, hi = max(t, starts[k]), min(end, ends[k])
                    if used and lo < hi:
                        left[lo - t:hi - t] -= used
                if int(left.min()) < units:
                    fits = False
            if fits:
                out.append((j, t))
    return out


def _one_machine_example() -> Problem:
    """One crew; the urgent long task X is released at 2, the short task Y at 0."""
    crew = Resource("crew", 1)
    tasks = (Task("X", (Mode(5, ((0, 1),)),), weight=5, release=2), Task("Y", (Mode(4, ((0, 1),)),), weight=1))
    return Problem((crew,), tasks, (), 30, Objective.MAKESPAN)


def test_parallel_scheme_keeps_the_crew_busy_where_the_serial_one_waits() -> None:
    p = _one_machine_example()
    serial = serial_sgs(p, [5.0, 1.0])  # X first at 2–7, so Y only fits at 7
    parallel = parallel_sgs(p, [5.0, 1.0])  # at 0 only Y is ready: it starts, X follows at 4
    assert serial.starts == (2, 7) and objective_value(p, serial) == 11
    assert parallel.starts == (4, 0) and objective_value(p, parallel) == 9
    assert _delayed(p, serial) == [(1, 0), (1, 1)] and _delayed(p, parallel) == []


@pytest.mark.parametrize("seed", range(25))
def test_parallel_plans_are_feasible_and_non_delay(seed: int) -> None:
    """Random multi-mode problems with an outage, releases and lags: the checker accepts the plan, no task waited
    while it could have started."""
    p = random_problem(seed, n=12, horizon=300)
    for priority in ([float(t.weight) for t in p.tasks], longest_tail_rule(p)):
        s = parallel_sgs(p, priority)
        assert check(p, s) == []
        assert _delayed(p, s) == []


@pytest.mark.parametrize("name", ["j301_1.sm", "j1010_1.mm"])
def test_parallel_plans_of_psplib_instances_pass_the_checker(name: str) -> None:
    p = read_instance(DATA / name)
    s = parallel_sgs(p, longest_tail_rule(p))
    assert check(p, s) == []
    assert objective_value(p, s) >= max(t.release for t in p.tasks)


def test_a_deadline_the_scheme_cannot_meet_names_the_task() -> None:
    crew = Resource("crew", 1)
    tasks = (Task("first", (Mode(5, ((0, 1),)),), weight=5), Task("late", (Mode(4, ((0, 1),)),), deadline=6))
    p = Problem((crew,), tasks, (Precedence(0, 1),), 30)
    with pytest.raises(PlanError, match=r"task 1 \(late\).*deadline 6"):
        parallel_sgs(p, [1.0, 0.0])


def test_a_task_beyond_the_horizon_names_the_task() -> None:
    crew = Resource("crew", 1)
    tasks = (Task("a", (Mode(5, ((0, 1),)),)), Task("b", (Mode(4, ((0, 1),)),)))
    with pytest.raises(PlanError, match=r"task 1 \(b\).*horizon of 8"):
        parallel_sgs(Problem((crew,), tasks, (), 8), [1.0, 0.0])


def test_solve_keeps_the_better_scheme() -> None:
    """The greedy engine's plan is at least as good as the parallel scheme's with the longest-tail rule."""
    p = _one_machine_example()
    r = solve(p, params=SolveParams(engine="greedy"))
    assert r.objective is not None and r.objective <= objective_value(p, parallel_sgs(p, longest_tail_rule(p))) == 9


def _reference_serial(problem: Problem, priority: list[float], setup_weight: float = 0.0,
                      fades: bool = False) -> Schedule:
    """The serial scheme written plainly: every mode, every start from the task's earliest on, period by period;
    the mode whose end (plus ``setup_weight`` × its set-up) is least, ties to the lower mode. With ``fades`` the
    weight of a mode with set-up is scaled by the share of its pool's own-role work (the largest duration × units of
    each unplaced task's modes without set-up on the pool) not yet placed, 0 for a pool with no such work."""
    n = len(problem.tasks)
    free = {r: list(problem.capacity_profile(r)) for r in problem.renewable}

    def own_work(r: int, tasks: list[int]) -> float:
        return float(sum(max((m.duration * u for m in problem.tasks[k].modes if m.setup == 0 and m.duration
                              for rr, u in m.demands if rr == r), default=0) for k in tasks))

    totals = {r: own_work(r, list(range(n))) for r in range(len(problem.resources))}
    starts, modes, ends = [0] * n, [0] * n, [0] * n
    done: set[int] = set()
    while len(done) < n:
        j = max((k for k in range(n) if k not in done and all(p in done for p, _ in problem.predecessors[k])),
                key=lambda k: (priority[k], -k))
        task = problem.tasks[j]
        est = max([task.release, *(ends[p] + lag for p, lag in problem.predecessors[j])])
        best: tuple[float, int, int] | None = None
        unplaced = [k for k in range(n) if k not in done]
        for m, mode in enumerate(task.modes):
            weight = setup_weight
            if fades and mode.setup:
                weight *= min([own_work(r, unplaced) / totals[r] if totals[r] else 0.0 for r, _ in mode.demands],
                              default=1.0)
            for t in range(est, problem.horizon - mode.duration + 1):
                if all(free[r][x] >= u for r, u in mode.demands for x in range(t, t + mode.duration)):
                    if best is None or (t + mode.duration + weight * mode.setup, m) < best[:2]:
                        best = (t + mode.duration + weight * mode.setup, m, t)
                    break
        assert best is not None
        _, m, t = best
        starts[j], modes[j], ends[j] = t, m, t + task.modes[m].duration
        for r, u in task.modes[m].demands:
            for x in range(t, ends[j]):
                free[r][x] -= u
        done.add(j)
    return Schedule(tuple(starts), tuple(modes))


def _borrowing_problem(seed: int, n: int = 40) -> Problem:
    """Two pools with stand-downs; each task has its own pool's mode and, for half of them, the other pool's mode
    in a borrowed role: longer by a set-up of 2 (as ``scenario.compile`` gives teams by capabilities)."""
    rng = np.random.default_rng(seed)
    resources = (Resource("a", 2, ((30, 45, 2), (120, 130, 1))), Resource("b", 3, ((60, 90, 3),)))
    tasks = []
    for j in range(n):
        own = int(rng.integers(0, 2))
        d = int(rng.integers(1, 25))
        modes = [Mode(d, ((own, 1),), f"r{own}")]
        if j % 2:
            modes.append(Mode(d + 2, ((1 - own, 1),), f"r{own}", setup=2))
        tasks.append(Task(f"t{j}", tuple(modes), weight=int(rng.integers(0, 5)), release=int(rng.integers(0, 20))))
    precs = tuple(Precedence(i, j, int(rng.integers(0, 3))) for j in range(n) for i in range(j)
                  if rng.random() < 0.05)
    return Problem(resources, tuple(tasks), precs, 1000)


@pytest.mark.parametrize("seed", range(6))
def test_serial_scheme_matches_a_plain_reference(seed: int) -> None:
    """The serial scheme's search for a start (a stretch of the profiles at a time, from the first free period,
    no later than a start that could still beat the best mode) gives the plan a plain period-by-period scheme
    gives, with and without a set-up weight."""
    problem = _borrowing_problem(seed)
    rng = np.random.default_rng(100 + seed)
    priority = rng.random(len(problem.tasks)).tolist()
    for weight in (0.0, 1.5, 20.0):
        assert serial_sgs(problem, priority, setup_weight=weight) == _reference_serial(problem, priority, weight)
        assert serial_sgs(problem, priority, setup_weight=weight, setup_fades=True) == \
            _reference_serial(problem, priority, weight, fades=True)


def test_set_up_weight_keeps_units_in_their_own_role() -> None:
    """A lot that would end a day earlier on another pool, set-up included, is borrowed at weight 0 and kept in its
    own pool's role once the set-up counts double (weight 2: 3 + 2 × 2 > 4)."""
    problem = Problem((Resource("own", 1), Resource("other", 1)),
                      (Task("first", (Mode(2, ((0, 1),), "own"),), weight=1),
                       Task("lot", (Mode(2, ((0, 1),), "own"), Mode(3, ((1, 1),), "own", setup=2)), weight=1)),
                      (), 20)
    assert serial_sgs(problem, [2.0, 1.0]).modes == (0, 1)
    assert serial_sgs(problem, [2.0, 1.0], setup_weight=2.0).modes == (0, 0)
    assert serial_sgs(problem, [2.0, 1.0], setup_weight=2.0).starts == (0, 2)


def role_runs_out() -> Problem:
    """A survey team and a manual team (one unit each): two 5-day survey lots (8 days borrowed by the manual team,
    set-up 3 included) weighing 3, and twelve 10-day manual lots (13 days borrowed by the survey team) weighing 1.
    The survey team's own work is gone after 10 days; the manual lots are most of the work."""
    survey = (Mode(5, ((0, 1),), "survey"), Mode(8, ((1, 1),), "survey", setup=3))
    manual = (Mode(10, ((1, 1),), "manual"), Mode(13, ((0, 1),), "manual", setup=3))
    tasks = [Task(f"ts {k}", survey, weight=3) for k in range(2)]
    tasks += [Task(f"clearance {k}", manual, weight=1) for k in range(12)]
    return Problem((Resource("survey", 1), Resource("manual", 1)), tuple(tasks), (), 400)


def idle_periods(problem: Problem, schedule: Schedule, r: int) -> int:
    """Periods before the plan's last end in which resource ``r`` (one unit) has no work."""
    ends = schedule.ends(problem)
    busy = {x for j, t in enumerate(problem.tasks) for rr, _ in t.modes[schedule.modes[j]].demands if rr == r
            for x in range(schedule.starts[j], ends[j])}
    return max(ends) - len(busy)


def test_set_up_weight_fades_once_the_own_role_has_no_work_left() -> None:
    """With a set-up weight of 30 the survey team keeps to survey, stands idle 87 of the plan's 110 days and the
    manual team does 11 of the 12 manual lots (the regression issue 17 saw: units idle for half a year); with the
    weight fading as survey runs out, the survey team clears as soon as its survey is placed: no idle day, a plan of
    75 days, better than the plain scheme (which sends a survey lot to the manual team, as it ends first) and than
    the weighted one."""
    p = role_runs_out()
    priority = [float(len(p.tasks) - j) for j in range(len(p.tasks))]
    plain = serial_sgs(p, priority)
    kept = serial_sgs(p, priority, setup_weight=30.0)
    fading = serial_sgs(p, priority, setup_weight=30.0, setup_fades=True)
    assert check(p, fading) == []
    assert (idle_periods(p, kept, 0), max(kept.ends(p))) == (87, 110)
    assert (idle_periods(p, fading, 0), max(fading.ends(p))) == (0, 75)
    assert fading.modes[:2] == (0, 0) and sum(fading.modes[2:]) == 5  # survey at home; 5 manual lots borrowed
    assert objective_value(p, fading) < objective_value(p, plain) < objective_value(p, kept)


def test_a_pool_without_own_role_work_borrows_at_any_set_up_weight() -> None:
    """A pool none of whose units has work of its own lends them at once with the fade (they lose nothing of their
    own by it), where the set-up weight alone keeps the lot waiting on its own pool."""
    lot = (Mode(4, ((0, 1),), "own"), Mode(6, ((1, 1),), "own", setup=2))
    p = Problem((Resource("own", 1), Resource("spare", 1)), (Task("a", lot, weight=1), Task("b", lot, weight=1)),
                (), 30)
    assert serial_sgs(p, [2.0, 1.0], setup_weight=50.0).modes == (0, 0)
    assert serial_sgs(p, [2.0, 1.0], setup_weight=50.0, setup_fades=True).modes == (0, 1)


def test_a_mode_that_needs_no_unit_is_placed_at_its_earliest_start() -> None:
    """A task whose mode takes days but no unit (e.g. a waiting period) starts at its release; the scheme's search
    from each resource's first free period must not need a resource (it raised TypeError on max() of one value)."""
    crew = Resource("crew", 1)
    tasks = (Task("work", (Mode(5, ((0, 1),)),), weight=1), Task("wait", (Mode(3, ()),), weight=1, release=2))
    problem = Problem((crew,), tasks, (), 30, Objective.MAKESPAN)
    schedule = serial_sgs(problem, [1.0, 0.0])
    assert list(schedule.starts) == [0, 2]
    check(problem, schedule)


@pytest.fixture
def compiled_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every problem without budgets goes to the compiled serial scheme (``evolve.serial_modes``), however small."""
    import sapper.plan.greedy as greedy

    monkeypatch.setattr(greedy, "COMPILED_MIN_TASKS", 0)


def _python_scheme(problem: Problem, priority: list[float], modes: tuple[int, ...] | None = None, *,
                   setup_weight: float = 0.0, setup_fades: bool = False,
                   role_weights: dict[tuple[int, str], float] | None = None) -> Schedule:
    """``serial_sgs`` by its Python code, whatever the problem's size."""
    import sapper.plan.greedy as greedy

    size = greedy.COMPILED_MIN_TASKS
    greedy.COMPILED_MIN_TASKS = len(problem.tasks) + 1
    try:
        return serial_sgs(problem, priority, modes, setup_weight=setup_weight, setup_fades=setup_fades,
                          role_weights=role_weights)
    finally:
        greedy.COMPILED_MIN_TASKS = size


@pytest.mark.parametrize("seed", range(6))
def test_compiled_serial_scheme_matches_the_plain_reference(seed: int, compiled_scheme: None) -> None:
    """The compiled serial scheme (releases, lags, stand-downs, borrowed roles with set-up) gives the plan of the
    plain period-by-period scheme, with and without a set-up weight and its fade, and of the Python scheme with
    ties in the priority and with the modes fixed."""
    from sapper.plan import greedy

    problem = _borrowing_problem(seed)
    assert greedy.compiled(problem)
    rng = np.random.default_rng(100 + seed)
    priority = rng.random(len(problem.tasks)).tolist()
    for weight in (0.0, 1.5, 20.0):
        assert serial_sgs(problem, priority, setup_weight=weight) == _reference_serial(problem, priority, weight)
        assert serial_sgs(problem, priority, setup_weight=weight, setup_fades=True) == \
            _reference_serial(problem, priority, weight, fades=True)
    tied = rng.integers(0, 3, len(problem.tasks)).astype(float).tolist()
    assert serial_sgs(problem, tied, setup_weight=5.0, setup_fades=True) == \
        _python_scheme(problem, tied, setup_weight=5.0, setup_fades=True)
    modes = tuple(int(m) for m in rng.integers(0, 2, len(problem.tasks)) % [len(t.modes) for t in problem.tasks])
    assert serial_sgs(problem, priority, modes) == _python_scheme(problem, priority, modes)
    roles = {(0, "r1"): 3.0, (1, "r0"): 0.25}  # a factor per (pool, role) of a borrowed mode's set-up weight
    assert serial_sgs(problem, priority, setup_weight=4.0, setup_fades=True, role_weights=roles) == \
        _python_scheme(problem, priority, setup_weight=4.0, setup_fades=True, role_weights=roles)


def test_compiled_serial_scheme_on_a_larger_region_is_the_python_plan() -> None:
    """On a problem of ``COMPILED_MIN_TASKS`` tasks (where ``serial_sgs`` compiles by default) the plan is the
    Python scheme's, with the set-up weight fading; the compiled plan passes the checker."""
    from sapper.plan import greedy

    problem = _borrowing_problem(7, n=greedy.COMPILED_MIN_TASKS)
    problem = problem.replace(horizon=40_000)
    assert greedy.compiled(problem)
    priority = np.random.default_rng(7).random(len(problem.tasks)).tolist()
    fast = serial_sgs(problem, priority, setup_weight=10.0, setup_fades=True)
    assert fast == _python_scheme(problem, priority, setup_weight=10.0, setup_fades=True)
    assert check(problem, fast) == []


def test_compiled_serial_scheme_names_a_task_it_cannot_place(compiled_scheme: None) -> None:
    """A deadline the order cannot meet and a task beyond the horizon raise PlanError naming the task, as in the
    Python scheme; a task whose mode needs no unit starts at its release."""
    crew = Resource("crew", 1)
    tasks = (Task("first", (Mode(5, ((0, 1),)),), weight=5), Task("late", (Mode(4, ((0, 1),)),), deadline=6))
    with pytest.raises(PlanError, match=r"task 1 \(late\).*horizon of 30"):
        serial_sgs(Problem((crew,), tasks, (Precedence(0, 1),), 30), [1.0, 0.0])
    tasks = (Task("a", (Mode(5, ((0, 1),)),)), Task("b", (Mode(4, ((0, 1),)),)))
    with pytest.raises(PlanError, match=r"task 1 \(b\).*horizon of 8"):
        serial_sgs(Problem((crew,), tasks, (), 8), [1.0, 0.0])
    tasks = (Task("work", (Mode(5, ((0, 1),)),), weight=1), Task("wait", (Mode(3, ()),), weight=1, release=2))
    assert list(serial_sgs(Problem((crew,), tasks, (), 30), [1.0, 0.0]).starts) == [0, 2]


@pytest.mark.parametrize("scheme", ["python", "compiled"])
def test_role_weights_scale_the_set_up_weight_per_pool_and_role(scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pools A and B are busy until period 4; pool C (two units) is free. A lot of A's role "a" and one of B's
    role "b" each end at 6 in their own pool and at 3 borrowed on C (set-up 2 included): at set-up weight 1 both
    are borrowed (3 + 2 < 6); with the factor 2 on C's role "a" (3 + 4 > 6) only lot b is, and with the factor on
    C's role "b" only lot a; the same in both schemes."""
    import sapper.plan.greedy as greedy

    if scheme == "compiled":
        monkeypatch.setattr(greedy, "COMPILED_MIN_TASKS", 0)
    tasks = (Task("busy a", (Mode(4, ((0, 1),), "a"),), weight=9), Task("busy b", (Mode(4, ((1, 1),), "b"),), weight=9),
             Task("lot a", (Mode(2, ((0, 1),), "a"), Mode(3, ((2, 1),), "a", setup=2)), weight=1),
             Task("lot b", (Mode(2, ((1, 1),), "b"), Mode(3, ((2, 1),), "b", setup=2)), weight=1))
    problem = Problem((Resource("A", 1), Resource("B", 1), Resource("C", 2)), tasks, (), 30)
    order = [4.0, 3.0, 2.0, 1.0]
    assert greedy.role_of(tasks[2].modes[1]) == (2, "a")
    assert serial_sgs(problem, order, setup_weight=1.0).modes[2:] == (1, 1)
    assert serial_sgs(problem, order, setup_weight=1.0, role_weights={(2, "a"): 2.0}).modes[2:] == (0, 1)
    assert serial_sgs(problem, order, setup_weight=1.0, role_weights={(2, "b"): 2.0}).modes[2:] == (1, 0)
