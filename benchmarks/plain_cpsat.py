"""A plain CP-SAT model of a PSPLIB instance, as a textbook writes it: the third engine of the side-by-side benchmark.

One interval per activity (single mode) or one optional interval per mode with its own start and end, linked to the
activity's by the mode's literal (the formulation that avoids google/or-tools #5293), a cumulative per renewable
resource, a sum per non-renewable one, precedences end ≤ start, makespan minimised. CP-SAT's default parameters:
no starting plan, no heuristics, no tuning. It answers "what would CP-SAT alone do in the same time?", which the
engine must not lose to (issue 17, item 6: J30 at 1 s).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psplib
from ortools.sat.python import cp_model


@dataclass(frozen=True)
class PlainResult:
    """One run: makespan (None without a plan), whether CP-SAT proved it, its bound, wall seconds incl. reading."""

    name: str
    makespan: int | None
    proven_optimal: bool
    lower_bound: float | None
    seconds: float
    status: str


def solve_plain(path: Path, *, time_limit_s: float, workers: int, seed: int = 0) -> PlainResult:
    """Read ``path`` and solve it with the plain model under CP-SAT's defaults."""
    t0 = time.perf_counter()
    inst = psplib.parse(path, instance_format="psplib")
    horizon = sum(max(m.duration for m in a.modes) for a in inst.activities)
    cp = cp_model.CpModel()
    starts, ends = [], []
    per_resource: list[list[tuple[cp_model.IntervalVar, int]]] = [[] for _ in inst.resources]
    budget_terms: list[list[cp_model.LinearExprT]] = [[] for _ in inst.resources]
    for j, act in enumerate(inst.activities):
        s = cp.new_int_var(0, horizon, f"s{j}")
        e = cp.new_int_var(0, horizon, f"e{j}")
        lits = []
        for m, mode in enumerate(act.modes):
            if len(act.modes) == 1:
                lit: cp_model.LinearExprT = 1
                iv = cp.new_interval_var(s, mode.duration, e, f"i{j}")
            else:
                lit = cp.new_bool_var(f"p{j}_{m}")
                sm = cp.new_int_var(0, horizon, f"s{j}_{m}")
                em = cp.new_int_var(0, horizon, f"e{j}_{m}")
                iv = cp.new_optional_interval_var(sm, mode.duration, em, lit, f"i{j}_{m}")
                cp.add(s == sm).only_enforce_if(lit)
                cp.add(e == em).only_enforce_if(lit)
                lits.append(lit)
            for r, units in enumerate(mode.demands):
                if not units:
                    continue
                if inst.resources[r].renewable:
                    if mode.duration:
                        per_resource[r].append((iv, units))
                else:
                    budget_terms[r].append(units * lit)
        if lits:
            cp.add_exactly_one(lits)
        starts.append(s)
        ends.append(e)
    for r, res in enumerate(inst.resources):
        if res.renewable and per_resource[r]:
            cp.add_cumulative([iv for iv, _ in per_resource[r]], [u for _, u in per_resource[r]], res.capacity)
        elif not res.renewable and budget_terms[r]:
            cp.add(sum(budget_terms[r]) <= res.capacity)
    for j, act in enumerate(inst.activities):
        for succ in act.successors:
            cp.add(ends[j] <= starts[succ])
    makespan = cp.new_int_var(0, horizon, "makespan")
    cp.add_max_equality(makespan, ends)
    cp.minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit_s - (time.perf_counter() - t0))
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    code = solver.solve(cp)
    solved = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return PlainResult(
        Path(path).name,
        round(solver.objective_value) if solved else None,
        code == cp_model.OPTIMAL,
        solver.best_objective_bound if solved else None,
        time.perf_counter() - t0,
        solver.status_name(code),
    )
