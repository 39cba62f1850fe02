"""Greedy and CP-SAT plans are feasible, CP-SAT is never worse, and its optimum matches exhaustive search."""

from __future__ import annotations

import itertools

import pytest

from sapper.errors import PlanError, ValidationError
from sapper.plan import (
    Engine,
    Mode,
    MovePolicy,
    Problem,
    Resource,
    SolveParams,
    Status,
    Task,
    check,
    objective_value,
    solve,
)
from sapper.plan.assign import assign_units
from sapper.plan.greedy import longest_tail_rule, serial_sgs
from sapper.plan.solution import Schedule

from .conftest import random_problem


def _exhaustive_optimum(problem: Problem) -> int:
    """Best objective over every priority order and mode choice through a mode-fixing serial SGS.

    For a regular objective the active schedules contain an optimum and the serial scheme generates every active
    schedule, so this is the true optimum of a small instance.
    """
    n = len(problem.tasks)
    best = None
    mode_choices = [range(len(t.modes)) for t in problem.tasks]
    for modes in itertools.product(*mode_choices):
        fixed = problem.replace(tasks=tuple(
            Task(t.name, (t.modes[m],), t.weight, t.release, t.deadline) for t, m in zip(problem.tasks, modes,
                                                                                        strict=True)))
        for order in itertools.permutations(range(n)):
            prio = [0.0] * n
            for rank, j in enumerate(order):
                prio[j] = float(n - rank)
            try:
                s = serial_sgs(fixed, prio)
            except PlanError:
                continue
            val = objective_value(fixed, s)
            best = val if best is None else min(best, val)
    assert best is not None
    return best


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_cpsat_optimum_matches_exhaustive_search(seed: int) -> None:
    """On small multi-mode instances CP-SAT's proven optimum equals the exhaustive one (no false proofs)."""
    p = random_problem(seed, n=6)
    r = solve(p, params=SolveParams(time_limit_s=10, workers=2))
    assert r.schedule is not None and check(p, r.schedule) == []
    assert r.status is Status.OPTIMAL
    assert r.objective == _exhaustive_optimum(p)
    assert r.lower_bound == r.objective


def test_cpsat_never_worse_than_baseline_and_bound_below() -> None:
    """On a bigger instance: feasible, objective ≤ greedy baseline, lower bound ≤ objective."""
    p = random_problem(11, n=40, horizon=1000)
    r = solve(p, params=SolveParams(time_limit_s=3))
    assert r.schedule is not None and check(p, r.schedule) == []
    assert r.objective is not None and r.baseline_objective is not None and r.lower_bound is not None
    assert r.lower_bound <= r.objective <= r.baseline_objective
    assert r.details["ortools"] == "9.15.6755"


def test_greedy_engine_only() -> None:
    """engine='greedy' returns the best heuristic plan without CP-SAT and says so."""
    p = random_problem(5, n=12)
    r = solve(p, params=SolveParams(engine="greedy"))
    assert r.engine.startswith("greedy")
    assert "cpsat_status" not in r.details
    assert r.schedule is not None and check(p, r.schedule) == []


def test_engine_and_move_policy_are_enums_with_their_old_names() -> None:
    """SolveParams takes an engine's name as the enum (so saved text stays the same) and refuses an unknown one;
    Engine.parse and MovePolicy.parse name the choices in a ValidationError."""
    assert SolveParams(engine="greedy").engine is Engine.GREEDY and Engine.CPSAT == "cpsat"
    with pytest.raises(PlanError, match="unknown engine 'quantum'"):
        SolveParams(engine="quantum")
    assert MovePolicy.parse("priced") is MovePolicy.PRICED
    with pytest.raises(ValidationError, match="engine must be one of cpsat, greedy, got 'cp-sat'"):
        Engine.parse("cp-sat")
    with pytest.raises(ValidationError, match="moves must be one of fewest, priced"):
        MovePolicy.parse("sideways")


def test_infeasible_and_hard_deadlines_report_a_status() -> None:
    """When the person's order misses a deadline CP-SAT still plans; when nobody can, the status says so."""
    two = (Task("x", (Mode(5, ((0, 1),)),)), Task("y", (Mode(5, ((0, 1),)),), deadline=6))
    p = Problem((Resource("a", 1),), two, (), horizon=20)
    r = solve(p, priority=[1.0, 0.0], params=SolveParams(time_limit_s=5))  # x first: y misses its deadline
    assert r.baseline is None and "baseline_error" in r.details
    assert r.status is Status.OPTIMAL and r.schedule is not None and check(p, r.schedule) == []
    impossible = p.replace(tasks=(Task("x", (Mode(5, ((0, 1),)),), deadline=5), two[1]))
    r = solve(impossible, params=SolveParams(time_limit_s=5))
    assert r.status is Status.INFEASIBLE and r.schedule is None and r.objective is None


def test_assign_units_respects_pools() -> None:
    """Concrete units never overlap, and nothing is assigned during an outage."""
    p = random_problem(7, n=30, horizon=500)
    r = solve(p, params=SolveParams(time_limit_s=2))
    assert r.schedule is not None
    units = [[f"{res.name}{k}" for k in range(res.capacity)] for res in p.resources]
    assigned = assign_units(p, r.schedule, units)
    busy: dict[str, list[tuple[int, int]]] = {}
    for j, ids in enumerate(assigned):
        mode = p.tasks[j].modes[r.schedule.modes[j]]
        assert len(ids) == sum(u for _, u in mode.demands) or mode.duration == 0
        for uid in ids:
            busy.setdefault(uid, []).append((r.schedule.starts[j], r.schedule.starts[j] + mode.duration))
    for spans in busy.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    for j, ids in enumerate(assigned):
        mode = p.tasks[j].modes[r.schedule.modes[j]]
        if any(uid.startswith("a") for uid in ids):
            s, e = r.schedule.starts[j], r.schedule.starts[j] + mode.duration
            assert e <= 5 or s >= 9


def test_bad_schedule_from_a_solver_is_never_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    """If CP-SAT returned an infeasible schedule, solve() raises instead of returning it."""
    import sapper.plan.cpsat as cpsat_pkg
    from sapper.plan.cpsat.backend import CpSatOutcome

    p = random_problem(8, n=8)

    def broken(problem: Problem, **_: object) -> CpSatOutcome:
        bad = Schedule(tuple(0 for _ in problem.tasks), tuple(0 for _ in problem.tasks))
        return CpSatOutcome("feasible", bad, 0.0, 0.0, 0.0, "test")

    monkeypatch.setattr(cpsat_pkg, "solve_cpsat", broken)
    with pytest.raises(PlanError, match="independent check"):
        solve(p, params=SolveParams(time_limit_s=1))


def test_a_makespan_search_not_closed_at_once_runs_the_genetic_search_and_restarts_from_its_plan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first CP-SAT run is made to come back unproven with the heuristic plan (as on a hard instance); the genetic
    search then finds a shorter plan, the restart is given it as its hint, and the result is the proven optimum."""
    from pathlib import Path

    import sapper.plan.cpsat as cpsat_pkg
    from sapper.io.psplib import read_instance
    from sapper.plan.cpsat.backend import CpSatOutcome

    real = cpsat_pkg.solve_cpsat
    hints: list[Schedule | None] = []

    def first_unproven(problem: Problem, **kw: object) -> CpSatOutcome:
        hint = kw["hint"]
        assert hint is None or isinstance(hint, Schedule)
        hints.append(hint)
        if len(hints) == 1 and hint is not None:
            return CpSatOutcome("feasible", hint, float(objective_value(problem, hint)), 0.0, 0.0, "test")
        return real(problem, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cpsat_pkg, "solve_cpsat", first_unproven)
    p = read_instance(Path(__file__).parents[1] / "data" / "psplib" / "j3011_1.sm")  # optimum 54 (j30opt.sm)
    result = solve(p, params=SolveParams(time_limit_s=10))
    heuristic = result.details["heuristic_objective"]
    genetic = result.details["genetic_objective"]
    assert isinstance(heuristic, float) and isinstance(genetic, int) and genetic < heuristic
    assert len(hints) == 2 and hints[1] is not None and objective_value(p, hints[1]) == genetic
    assert result.status is Status.OPTIMAL and result.objective == 54


def test_a_cpsat_bound_above_a_checked_plan_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A solver that claims a bound above a plan the checker accepted has a wrong proof: the result keeps its plan,
    says false_proof, claims no optimum and reports sapper's own bound instead."""
    from dataclasses import replace
    from pathlib import Path

    import sapper.plan.cpsat as cpsat
    from sapper.io.psplib import read_instance

    real = cpsat.solve_cpsat

    def overclaiming(*args: object, **kwargs: object) -> cpsat.CpSatOutcome:
        out = real(*args, **kwargs)  # type: ignore[arg-type]
        if out.objective is None:
            return out
        return replace(out, status="optimal", bound=out.objective + 3)

    monkeypatch.setattr(cpsat, "solve_cpsat", overclaiming)
    problem = read_instance(Path(__file__).resolve().parents[1] / "data" / "psplib" / "j301_1.sm")
    result = solve(problem, params=SolveParams(time_limit_s=3, workers=1, seed=1))
    assert result.details.get("false_proof") is True
    assert result.status is Status.FEASIBLE and "proof" not in result.details
    assert result.objective is not None and result.lower_bound is not None
    assert result.lower_bound == result.details["own_lower_bound"] and result.lower_bound < result.objective


def test_an_optimum_says_what_proves_it() -> None:
    from pathlib import Path

    from sapper.io.psplib import read_instance

    problem = read_instance(Path(__file__).resolve().parents[1] / "data" / "psplib" / "j301_1.sm")
    result = solve(problem, params=SolveParams(time_limit_s=5, workers=1, seed=1))
    assert result.status is Status.OPTIMAL and result.objective == 43
    assert result.details["proof"] == ("own-bound" if result.details["own_lower_bound"] == 43 else "cpsat")


def test_a_multi_mode_search_proves_first_and_stops_when_the_genetic_plan_reaches_that_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a multi-mode makespan problem CP-SAT's first run (``MULTI_MODE_FIRST_SHARE`` of the time) runs the full
    searches with and without the LP side by side (``focus="dual"``). Here it is made to come back unproven with a
    plan above the optimum (the longest-tail plan in the scheme's own modes) and the proven optimum as its bound
    (j10opt.mm); the genetic search reaches that bound, so its plan is returned as proven optimal without the
    restart."""
    from pathlib import Path

    import sapper.plan.cpsat as cpsat_pkg
    from sapper.io.psplib import read_instance, read_references
    from sapper.plan.cpsat.backend import CpSatOutcome

    data = Path(__file__).parents[1] / "data" / "psplib"
    p = read_instance(data / "j1030_1.mm")  # two budgets
    optimum = read_references(data)["j1030_1.mm"].optimum
    assert optimum is not None
    above = serial_sgs(p, longest_tail_rule(p))
    assert objective_value(p, above) > optimum
    focuses: list[object] = []
    limits: list[object] = []

    def first_unproven(problem: Problem, **kw: object) -> CpSatOutcome:
        focuses.append(kw["focus"])
        limits.append(kw["time_limit_s"])
        return CpSatOutcome("feasible", above, float(objective_value(problem, above)), float(optimum), 0.0, "test")

    monkeypatch.setattr(cpsat_pkg, "solve_cpsat", first_unproven)
    result = solve(p, params=SolveParams(time_limit_s=10))
    assert focuses == ["dual"]  # one CP-SAT run: no restart after the genetic search met the bound
    first = limits[0]
    assert isinstance(first, float) and 1.0 < first <= 0.3 * 10  # its share of what the heuristics left
    assert result.details["genetic_objective"] == optimum
    assert result.status is Status.OPTIMAL and result.objective == optimum
    assert result.schedule is not None and check(p, result.schedule) == []


def test_the_bound_focus_proves_a_multi_mode_optimum() -> None:
    """CP-SAT with the LP kept (the first second of a multi-mode search) proves j1030_1's known optimum."""
    from pathlib import Path

    from sapper.io.psplib import read_instance, read_references
    from sapper.plan.cpsat import solve_cpsat

    data = Path(__file__).parents[1] / "data" / "psplib"
    p = read_instance(data / "j1030_1.mm")
    out = solve_cpsat(p, time_limit_s=30, workers=2, focus="bound")
    assert out.status == "optimal" and out.objective == read_references(data)["j1030_1.mm"].optimum
    assert out.schedule is not None and check(p, out.schedule) == []


def test_the_dual_focus_proves_a_multi_mode_optimum_the_search_without_the_lp_does_not_see() -> None:
    """MM-J30 j308_6 (best known 46): the budgets' bound is the LP's, which the full search without the LP does not
    have (docs/planning.md: bound 24 after 4 s). With both full searches side by side (``focus="dual"``) CP-SAT proves
    a plan of the best-known makespan optimal: neither above a known plan (a false proof) nor below it."""
    from pathlib import Path

    from sapper.io.psplib import read_instance, read_references
    from sapper.plan.cpsat import solve_cpsat

    data = Path(__file__).parents[1] / "data" / "psplib" / "mm_j30"
    p = read_instance(data / "j308_6.mm")
    out = solve_cpsat(p, time_limit_s=30, workers=2, focus="dual")
    assert out.status == "optimal" and out.objective == read_references(data)["j308_6.mm"].best_known
    assert out.bound == out.objective
    assert out.schedule is not None and check(p, out.schedule) == []


def test_a_multi_mode_plan_proven_in_the_first_run_is_checked_and_says_so() -> None:
    """The engine on j308_6 at 10 s: the first run proves the best-known makespan, so no genetic search runs; the
    claim rests on CP-SAT's proof (sapper's own bound is lower) and the plan passes the checker."""
    from pathlib import Path

    from sapper.io.psplib import read_instance, read_references

    data = Path(__file__).parents[1] / "data" / "psplib" / "mm_j30"
    p = read_instance(data / "j308_6.mm")
    result = solve(p, params=SolveParams(time_limit_s=10, workers=2))
    best = read_references(data)["j308_6.mm"].best_known
    assert result.status is Status.OPTIMAL and result.objective == best == result.lower_bound
    assert "genetic_objective" not in result.details and "false_proof" not in result.details
    assert result.details["proof"] == "cpsat"
    assert result.schedule is not None and check(p, result.schedule) == []
