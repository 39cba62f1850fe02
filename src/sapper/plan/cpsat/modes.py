"""A mode for every task that keeps every budget and promises a short plan: the starting modes of a multi-mode search.

The serial and parallel schemes choose modes one task at a time (the mode that ends first, with a look-ahead that
keeps the cheapest modes of the tasks still to come affordable). With tight budgets that look-ahead fails: on the
PSPLIB multi-mode set of 30 activities it found no plan at all on several instances in ten, so CP-SAT started with no
plan. Here the modes are chosen together instead, by CP-SAT on a relaxation of the problem: the budgets kept exactly,
precedences kept (with the chosen durations), renewable resources only as their total work (no task may end before
the work on a resource divided by its capacity). Its optimum is a lower bound on the makespan of any plan in those
modes, and the modes it picks are budget-feasible by construction; the schemes then place the tasks in them.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from sapper.plan.problem import Problem


def relaxed_modes(problem: Problem, *, time_limit_s: float = 0.2, seed: int = 0) -> tuple[int, ...] | None:
    """A budget-feasible mode per task minimising the relaxation's makespan (module docstring); None when CP-SAT
    finds no budget-feasible choice within ``time_limit_s`` (or proves there is none)."""
    cp = cp_model.CpModel()
    n = len(problem.tasks)
    horizon = problem.horizon
    lits: list[list[cp_model.IntVar]] = []
    durations: list[cp_model.LinearExpr | int] = []
    for j, task in enumerate(problem.tasks):
        if len(task.modes) == 1:
            lits.append([])
            durations.append(task.modes[0].duration)
            continue
        row = [cp.new_bool_var(f"m{j}_{m}") for m in range(len(task.modes))]
        cp.add_exactly_one(row)
        lits.append(row)
        durations.append(cp_model.LinearExpr.weighted_sum(row, [mode.duration for mode in task.modes]))
    starts = [cp.new_int_var(t.release, horizon, f"s{j}") for j, t in enumerate(problem.tasks)]
    makespan = cp.new_int_var(0, horizon, "makespan")
    for j, task in enumerate(problem.tasks):
        cp.add(starts[j] + durations[j] <= makespan)
        if task.deadline is not None:
            cp.add(starts[j] + durations[j] <= task.deadline)
    for p in problem.precedences:
        cp.add(starts[p.pred] + durations[p.pred] + p.lag <= starts[p.succ])
    for r, res in enumerate(problem.resources):
        terms: list[cp_model.LinearExprT] = []
        fixed = 0
        for j, task in enumerate(problem.tasks):
            for m, mode in enumerate(task.modes):
                units = sum(u for rr, u in mode.demands if rr == r)
                if not units:
                    continue
                amount = units * mode.duration if res.renewable else units
                if lits[j]:
                    terms.append(amount * lits[j][m])
                else:
                    fixed += amount
        if not terms:
            continue
        if res.renewable:  # the work fits in the periods before the makespan (outages ignored: still a relaxation)
            cp.add(sum(terms) + fixed <= res.capacity * makespan)
        else:
            cp.add(sum(terms) + fixed <= res.capacity)
    cp.minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    if solver.solve(cp) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return tuple(next((m for m, p in enumerate(row) if solver.value(p)), 0) for row in lits[:n])
