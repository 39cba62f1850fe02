"""Running CP-SAT: parameters, the solve, and what comes back."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version

from ortools.sat.python import cp_model

from sapper.plan.cpsat.model import Model, add_hint, build, read_schedule
from sapper.plan.problem import Objective, Problem
from sapper.plan.solution import Schedule

#: The installed OR-Tools version (pyproject pins it exactly); recorded with every result.
ORTOOLS_VERSION = version("ortools")

_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "model_invalid",
    cp_model.UNKNOWN: "unknown",
}


#: CP-SAT's problem-agnostic incomplete subsolvers, left out of makespan searches (see ``solve_cpsat``).
GENERIC_SUBSOLVERS = ("feasibility_pump", "ls", "graph_arc_lns", "graph_cst_lns", "graph_dec_lns", "graph_var_lns",
                      "rnd_cst_lns", "rnd_var_lns", "rins/rens")

#: Above this many tasks presolve is kept light (see ``solve_cpsat``).
LARGE_MODEL_TASKS = 3000


@dataclass(frozen=True)
class CpSatOutcome:
    """What CP-SAT said: its status, best schedule (if any), objective, proven bound and wall time."""

    status: str
    schedule: Schedule | None
    objective: float | None
    bound: float | None
    seconds: float
    version: str


def solve_cpsat(
    problem: Problem,
    *,
    time_limit_s: float,
    workers: int = 2,
    seed: int = 0,
    hint: Schedule | None = None,
    log: bool = False,
    objective: Objective | None = None,
    caps: Sequence[tuple[Objective, int]] = (),
    focus: str = "default",
) -> CpSatOutcome:
    """Solve ``problem`` with CP-SAT from an optional ``hint``; deterministic for a seed and worker count.

    ``objective`` (default: the problem's first) is minimised with each of ``caps`` (objective, value) kept at or
    below its value: one stage of a lexicographic solve. ``focus`` "proof" tunes a makespan search towards proving
    optimality (see below); "bound" likewise, with the full-search worker keeping the LP relaxation at its
    strongest (a multi-mode problem's budgets and mode choices live there); "dual" runs both of those full searches
    side by side instead of a full search and the neighbourhoods (two workers); "default" leaves CP-SAT's portfolio
    as it is.
    """

    t0 = time.perf_counter()
    model = build(problem, objective=objective, caps=caps)
    if hint is not None:
        add_hint(model, hint)
    solver = _solver(problem, time_limit_s=time_limit_s, workers=workers, seed=seed, log=log, t0=t0)
    params = solver.parameters
    if (objective or problem.objective) is Objective.MAKESPAN:
        # Measured on PSPLIB (docs/benchmarks.md): all-precedence reasoning helps makespan models. With
        # ``focus="proof"`` and two workers, the one full-search worker runs without the LP relaxation (empty for a
        # makespan model), which proves the optimum of hard 30-job instances sooner and, from the hints of the
        # parallel scheme, also finds their optima more often than the default portfolio. The cumulative overload
        # checker, on until this version, is left off: with it the nine hardest 60-job instances ended 0.27–0.36 %
        # from their best-known plans (six runs), without it 0.22–0.24 % (four runs).
        params.exploit_all_precedences = True
        # The worker that is not the full search interleaves large-neighbourhood searches; leaving out the generic
        # ones (and the feasibility pump and local search) gives its time to the scheduling neighbourhoods. Measured
        # on the six PSPLIB J60 instances furthest from their best-known makespan at 10 s (docs/benchmarks.md): total
        # deviation 16.6 % → 7.9–9.2 % in three runs, the hardest J30 instances unchanged.
        params.ignore_subsolvers.extend(GENERIC_SUBSOLVERS)
        if focus == "proof" and workers <= 2:
            params.subsolvers.append("no_lp")
        elif focus == "bound" and workers <= 2:
            # On a multi-mode problem the LP is not empty: a mode's literal carries its duration and its share of
            # each budget, and the cuts over them give the bound that the mode intervals' propagation alone does not
            # (PSPLIB j308_6.mm, multi-mode, 30 jobs: proven at once with the LP, bound 24 for an optimum of 46
            # after 4 s without). ``solve`` runs it first, for a second, on multi-mode makespan problems.
            params.subsolvers.append("max_lp")
        elif focus == "dual" and workers <= 2:
            # Both full searches at once, without the neighbourhood worker: the one without the LP (it proves by
            # propagation) beside the one with the LP at its strongest (it proves the budgets' bound). Measured on
            # MM-J30 (docs/planning.md): either alone leaves instances the other closes in a fraction of a second.
            params.subsolvers.extend(["no_lp", "max_lp"])
            params.num_full_subsolvers = 2
    return _run(model, solver, t0)


def solve_fewest_moves(problem: Problem, *, time_limit_s: float, seed: int = 0, hint: Schedule | None = None,
                       log: bool = False, at_least: int = 0) -> CpSatOutcome:
    """The fewest anchored tasks of ``problem`` a feasible plan moves off their anchors (weights ignored), and a plan
    that does, from an optional ``hint``; the outcome's objective and bound are counts of moved tasks.

    One worker running core-based search (``optimize_with_core``): the objective is a sum of literals, one per
    anchored task, and with every task at its anchor assumed CP-SAT looks for the small sets of tasks that cannot all
    stay (cores), which prove the minimum. Measured on kursk-border after a synthetic week (about 9,000 anchored
    lots, docs/planning.md): proven in 10–17 s after one week, where the default two-worker portfolio proved nothing
    in 60 s and one default worker took 43 s; after three other weeks it proved nothing in 30 s (two of them tried
    for 120 s: nothing either), so a bound found elsewhere matters.
    ``at_least`` is a bound on the moves proven elsewhere (``plan.stability``): given as a constraint, it lets
    CP-SAT stop as soon as it finds a plan that meets it.
    """
    t0 = time.perf_counter()
    model = build(problem, moves_only=True)
    if at_least > 0:
        model.cp.add(sum(b for _, b in model.moved or ()) + model.always_moved >= at_least)
    if hint is not None:
        add_hint(model, hint)
    solver = _solver(problem, time_limit_s=time_limit_s, workers=1, seed=seed, log=log, t0=t0)
    solver.parameters.optimize_with_core = True
    return _run(model, solver, t0)


def _solver(problem: Problem, *, time_limit_s: float, workers: int, seed: int, log: bool,
            t0: float) -> cp_model.CpSolver:
    """A solver with the settings every sapper search shares: what is left of the time limit since ``t0``, workers,
    seed, logging, and light presolve on region-sized models."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.01, time_limit_s - (time.perf_counter() - t0))
    params.num_workers = workers
    params.random_seed = seed
    params.log_search_progress = log
    if len(problem.tasks) > LARGE_MODEL_TASKS:
        # On region-sized models probing and symmetry detection take the whole time limit before any search
        # (measured on ~20,000 tasks: two probing rounds of 15 s each); go straight to improving the hint.
        params.cp_model_probing_level = 0
        params.symmetry_level = 0
    return solver


def _run(model: Model, solver: cp_model.CpSolver, t0: float) -> CpSatOutcome:
    """Solve ``model`` and say what came back: status, schedule, objective and bound (when a plan was found)."""
    code = solver.solve(model.cp)
    schedule = None
    value: float | None = None
    bound: float | None = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        schedule = read_schedule(model, solver)
        value = float(solver.objective_value)
        bound = float(solver.best_objective_bound)
    return CpSatOutcome(_STATUS.get(code, "unknown"), schedule, value, bound, time.perf_counter() - t0,
                        ORTOOLS_VERSION)
