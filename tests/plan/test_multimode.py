"""Multi-mode makespan problems: the CP-SAT model's propagation, budget-feasible starting modes, the engine on them."""

from __future__ import annotations

from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from sapper.errors import PlanError
from sapper.io.psplib import read_instance
from sapper.plan import Mode, Objective, Precedence, Problem, Resource, SolveParams, Status, Task, solve
from sapper.plan.cpsat.model import build
from sapper.plan.cpsat.modes import relaxed_modes
from sapper.plan.greedy import serial_sgs
from sapper.plan.solution import check

DATA = Path(__file__).resolve().parents[1] / "data" / "psplib"


def _chain(n: int) -> Problem:
    """``n`` tasks in a chain, each fast (2 periods) on machine a or slow (5) on crew b; both pools of one unit."""
    modes = (Mode(2, ((0, 1),), "a"), Mode(5, ((1, 1),), "b"))
    tasks = tuple(Task(f"t{j}", modes) for j in range(n))
    return Problem(
        (Resource("a", 1), Resource("b", 1)),
        tasks,
        tuple(Precedence(j, j + 1) for j in range(n - 1)),
        horizon=5 * n,
        objective=Objective.MAKESPAN,
    )


def _tight_budgets() -> Problem:
    """Two tasks and two budgets of 4. A's fast mode spends 2 of each; then B, whose modes need 4 of one budget or 4
    of the other, fits neither: the one-task-at-a-time look-ahead (cheapest remaining mode per budget: 0 and 0)
    takes A's fast mode and is stuck. Only A's slow mode (nothing spent) leaves B a mode: optimum 5 + 1 = 6."""
    a = Task("a", (Mode(1, ((0, 1), (1, 2), (2, 2))), Mode(5, ((0, 1),))))
    b = Task("b", (Mode(1, ((0, 1), (1, 4))), Mode(1, ((0, 1), (2, 4)))))
    resources = (Resource("crew", 1), Resource("n1", 4, renewable=False), Resource("n2", 4, renewable=False))
    return Problem(resources, (a, b), (Precedence(0, 1),), horizon=20, objective=Objective.MAKESPAN)


def test_root_propagation_bounds_a_psplib_multi_mode_instance_by_its_shortest_chains() -> None:
    """Before any search (no conflict allowed), CP-SAT's bound on MM-J30 j3053_1 is near its best-known plan (42):
    the task's own duration links its start and end. With the mode intervals alone the bound was 8, below the
    shortest modes' longest chain."""
    problem = read_instance(DATA / "mm_j30" / "j3053_1.mm")
    model = build(problem)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_number_of_conflicts = 0
    solver.solve(model.cp)
    assert solver.best_objective_bound >= 30


def test_the_model_proves_a_multi_mode_chain_optimal() -> None:
    """Chain of 8: every task in its fast mode, 16 periods, proven."""
    result = solve(_chain(8), params=SolveParams(time_limit_s=5, workers=1))
    assert result.status is Status.OPTIMAL
    assert result.objective == 16


def test_serial_scheme_look_ahead_fails_where_relaxed_modes_keep_the_budgets() -> None:
    """The instance defeats the schemes' own mode choice; the relaxation's modes are budget-feasible and optimal."""
    problem = _tight_budgets()
    with pytest.raises(PlanError):
        serial_sgs(problem, [1.0, 0.0])
    modes = relaxed_modes(problem)
    assert modes is not None and modes[0] == 1
    plan = serial_sgs(problem, [1.0, 0.0], modes)
    assert check(problem, plan) == []
    assert max(plan.ends(problem)) == 6


def test_relaxed_modes_say_none_when_no_choice_keeps_the_budgets() -> None:
    """Two tasks that need at least 2 each of a budget of 3: no assignment, None (not an exception)."""
    task = Task("t", (Mode(1, ((0, 3),)), Mode(2, ((0, 2),))))
    problem = Problem((Resource("n", 3, renewable=False),), (task, task), (), horizon=9, objective=Objective.MAKESPAN)
    assert relaxed_modes(problem) is None


def test_engine_starts_from_relaxed_modes_when_the_schemes_find_no_plan() -> None:
    """solve() has a heuristic plan for CP-SAT's hint although no priority rule found one, and reaches the optimum."""
    result = solve(_tight_budgets(), params=SolveParams(time_limit_s=5, workers=1))
    assert result.details["relaxed_modes"] is True
    assert result.details["heuristic_objective"] == 6
    assert result.objective == 6 and result.status is Status.OPTIMAL


def test_greedy_engine_does_not_call_the_solver_for_modes() -> None:
    """Engine 'greedy' stays solver-free: no relaxed modes, so on the tight instance no plan at all."""
    result = solve(_tight_budgets(), params=SolveParams(time_limit_s=5, workers=1, engine="greedy"))
    assert "relaxed_modes" not in result.details
    assert result.status is Status.UNKNOWN


@pytest.mark.parametrize("name", ["j1010_1.mm", "j1020_1.mm", "j1064_1.mm"])
def test_relaxed_modes_are_budget_feasible_on_psplib(name: str) -> None:
    """On PSPLIB multi-mode instances the modes keep every budget, and the serial scheme places every task in them."""
    problem = read_instance(DATA / name)
    modes = relaxed_modes(problem, time_limit_s=2.0)
    assert modes is not None
    for r in problem.non_renewable:
        used = sum(u for t, m in zip(problem.tasks, modes, strict=True) for rr, u in t.modes[m].demands if rr == r)
        assert used <= problem.resources[r].capacity
    plan = serial_sgs(problem, [0.0] * len(problem.tasks), modes)
    assert check(problem, plan) == []


def _resource_constraints(problem: Problem) -> tuple[int, int]:
    """(cumulative, no-overlap) constraints in ``problem``'s CP-SAT model."""
    cs = build(problem).cp.proto.constraints
    return sum(1 for c in cs if c.has_cumulative()), sum(1 for c in cs if c.has_no_overlap())


def test_a_makespan_model_holds_each_resource_in_one_cumulative_over_the_tasks() -> None:
    """The chain's tasks use machine a *or* crew b (the other mode demands none). On a makespan problem each pool is
    one cumulative over the tasks' own intervals, a task's demand 0 or 1 by its mode (PyJobShop's shape); the mode
    intervals get no cumulative of their own. A weighted-completion problem keeps one per pool over the mode
    intervals (capacity 1: no-overlap) and no task-level one."""
    chain = _chain(3)
    assert _resource_constraints(chain) == (2, 0)
    assert _resource_constraints(chain.replace(objective=Objective.WEIGHTED_COMPLETION)) == (0, 2)


@pytest.mark.parametrize("name", ["j1010_1.mm", "j1020_1.mm", "j1030_1.mm", "j1064_1.mm"])
def test_the_task_level_model_proves_the_known_multi_mode_optima(name: str) -> None:
    """No false proof with the task-level cumulatives: CP-SAT (the first run's dual focus) proves exactly PSPLIB's
    proven optimum (j10opt.mm), and the plan passes the independent checker."""
    from sapper.io.psplib import read_references
    from sapper.plan.cpsat import solve_cpsat

    problem = read_instance(DATA / name)
    out = solve_cpsat(problem, time_limit_s=30, workers=2, focus="dual")
    assert out.status == "optimal" and out.objective == read_references(DATA)[name].optimum == out.bound
    assert out.schedule is not None and check(problem, out.schedule) == []
