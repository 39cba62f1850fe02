"""Running CP-SAT: parameters, the solve, and what comes back."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version

from ortools.sat.python import cp_model

from sapper.plan.cpsat.model import add_hint, build, read_schedule
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
    optimality (see below); "default" leaves CP-SAT's portfolio as it is.
    """

    t0 = time.perf_counter()
    model = build(problem, objective=objective, caps=caps)
    if hint is not None:
        add_hint(model, hint)
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
    if (objective or problem.objective) is Objective.MAKESPAN:
        # Measured on PSPLIB (docs/benchmarks.md): the overload checker and all-precedence reasoning help makespan
        # models. With ``focus="proof"`` and two workers, the one full-search worker runs without the LP relaxation
        # (empty for a makespan model), which proves the optimum of hard 30-job instances sooner; the default
        # portfolio finds better plans on 60-job instances, so ``solve`` runs a short proof phase, then the default.
        params.exploit_all_precedences = True
        params.use_overload_checker_in_cumulative = True
        if focus == "proof" and workers <= 2:
            params.subsolvers.append("no_lp")
    code = solver.solve(model.cp)
    status = _STATUS.get(code, "unknown")
    schedule = None
    value: float | None = None
    bound: float | None = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        schedule = read_schedule(model, solver)
        value = float(solver.objective_value)
        bound = float(solver.best_objective_bound)
    return CpSatOutcome(status, schedule, value, bound, time.perf_counter() - t0, ORTOOLS_VERSION)
