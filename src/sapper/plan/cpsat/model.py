"""Building the CP-SAT model: variables, constraints and objective, one function per constraint family.

Each mode has its own optional interval with its own start and end variables, linked to the task's start and end by
the mode's presence literal. Sharing one start/end pair between all modes has produced false optimality proofs in
OR-Tools 9.14/9.15 (google/or-tools #5293); this formulation avoids it.

The mode intervals alone propagate little until a mode is chosen: CP-SAT does not reason over the disjunction of
enforced links, so a multi-mode task's end was not tied to its start at all, and a chain of such tasks gave no bound
(on PSPLIB's multi-mode J30 CP-SAT's makespan bound stayed at 6–9 where the critical path alone gives over 30, and no
instance that was not closed at once was ever proven). Two redundant families, implied by the mode intervals, give
CP-SAT the task as a whole (``_task_variables``, ``_task_cumulatives``): the task's duration, one of its modes'
durations, with ``end == start + duration``; and, per renewable resource, a cumulative over the tasks' own intervals
with each task's demand one of its modes' demands (tasks whose every mode uses the resource). On a weighted-completion
problem they never decide a plan alone: the mode intervals and their cumulatives still hold every constraint.

On a makespan problem (the PSPLIB shape) the task-level cumulative holds every task that uses the resource in any
mode, with a demand that may be 0 (the mode that does not use it), and is then the resource's only cumulative: the
mode intervals are left out of it (``MODE_CUMULATIVES``), so a resource is one cumulative over one interval per task
with its demand and duration set by the chosen mode, as PyJobShop builds it. The mode intervals' duplicate made the
model weaker, not stronger: on PSPLIB MM-J30 j3029_1 (best known 46) CP-SAT's bound stayed at 39–40 in 20 s on a
busy machine with both, and 46 was proven in 14 s with the task level alone (PyJobShop's model: 17 s, same run). The
start and end are still not shared between modes: each mode keeps its own, linked by its literal (#5293 above).
No false proof on the 536 MM-J10 instances with proven optima (tested on four of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from sapper.plan.problem import Objective, Problem
from sapper.plan.solution import Schedule

#: Whether the redundant task-level cumulatives of a makespan model also hold the multi-mode tasks with a mode that
#: does not use the resource (``_task_cumulatives``).
ZERO_DEMAND_TASKS = True
#: Whether the mode intervals of a resource with a task-level cumulative holding every task (``_task_level``) also
#: get their own cumulative.
MODE_CUMULATIVES = False


@dataclass
class TaskVars:
    start: cp_model.IntVar
    end: cp_model.IntVar
    #: A multi-mode task's duration (one of its modes') and its own interval [start, end); None with a single mode.
    duration: cp_model.IntVar | None = None
    interval: cp_model.IntervalVar | None = None
    #: A multi-mode task's demand on each renewable resource its modes use differently: resource → (var, per mode).
    demands: dict[int, tuple[cp_model.IntVar, tuple[int, ...]]] = field(default_factory=dict)
    # per mode: (presence literal or None when the task has a single mode, interval, start, end)
    modes: list[tuple[cp_model.IntVar | None, cp_model.IntervalVar, cp_model.IntVar, cp_model.IntVar]] = field(
        default_factory=list
    )


@dataclass
class Model:
    problem: Problem
    cp: cp_model.CpModel
    tasks: list[TaskVars]
    makespan: cp_model.IntVar | None = None
    #: (task, literal true iff the task does not start at its anchor), made when the objective needs them.
    moved: list[tuple[int, cp_model.IntVar]] | None = None
    #: Anchored tasks that cannot start at their anchor at all (it is outside their start's domain).
    always_moved: int = 0


def build(problem: Problem, *, objective: Objective | None = None,
          caps: Sequence[tuple[Objective, int]] = (), moves_only: bool = False) -> Model:
    """The CP-SAT model of ``problem`` minimising ``objective`` (default: the problem's first), with each of ``caps``
    (objective, value) kept at or below its value (how lexicographic objectives are solved, one stage at a time).
    ``moves_only`` minimises instead the number of anchored tasks that do not start at their anchor."""
    cp = cp_model.CpModel()
    model = Model(problem, cp, _task_variables(cp, problem))
    _precedences(model)
    _resources(model)
    _task_cumulatives(model)
    _budgets(model)
    _period_budgets(model)
    for obj, value in caps:
        cp.add(_objective_expr(model, obj) <= value)
    if moves_only:
        cp.minimize(sum(b for _, b in _moves(model)) + model.always_moved)
    else:
        cp.minimize(_objective_expr(model, objective or problem.objective))
    return model


def _task_variables(cp: cp_model.CpModel, problem: Problem) -> list[TaskVars]:
    horizon = problem.horizon
    out: list[TaskVars] = []
    for j, task in enumerate(problem.tasks):
        latest_end = horizon if task.deadline is None else min(horizon, task.deadline)
        dmin = min(m.duration for m in task.modes)
        dmax = max(m.duration for m in task.modes)
        start = cp.new_int_var(task.release, latest_end - dmin, f"s{j}")
        end = cp.new_int_var(task.release + dmin, latest_end, f"e{j}")
        tv = TaskVars(start, end)
        if len(task.modes) == 1:
            cp.add(end == start + dmax)
            tv.modes.append((None, cp.new_interval_var(start, dmax, end, f"i{j}"), start, end))
        else:
            presences = []
            for m, mode in enumerate(task.modes):
                d = mode.duration
                p = cp.new_bool_var(f"p{j}_{m}")
                sm = cp.new_int_var(task.release, max(task.release, latest_end - d), f"s{j}_{m}")
                em = cp.new_int_var(task.release + d, max(task.release + d, latest_end), f"e{j}_{m}")
                iv = cp.new_optional_interval_var(sm, d, em, p, f"i{j}_{m}")
                cp.add(start == sm).only_enforce_if(p)
                cp.add(end == em).only_enforce_if(p)
                if task.release + d > latest_end:
                    cp.add(p == 0)
                presences.append(p)
                tv.modes.append((p, iv, sm, em))
            cp.add_exactly_one(presences)
            durations = [mode.duration for mode in task.modes]
            tv.duration = cp.new_int_var_from_domain(cp_model.Domain.from_values(sorted(set(durations))), f"d{j}")
            for p, d in zip(presences, durations, strict=True):
                cp.add(tv.duration == d).only_enforce_if(p)
            tv.interval = cp.new_interval_var(start, tv.duration, end, f"t{j}")
        out.append(tv)
    return out


def _precedences(model: Model) -> None:
    """end[pred] + lag <= start[succ]."""
    for p in model.problem.precedences:
        model.cp.add(model.tasks[p.pred].end + p.lag <= model.tasks[p.succ].start)


def _resources(model: Model) -> None:
    """One cumulative per resource; unavailable spans are fixed intervals taking their units."""
    problem = model.problem
    for r in problem.renewable:
        if not MODE_CUMULATIVES and _task_level(problem, r):
            continue
        res = problem.resources[r]
        intervals: list[cp_model.IntervalVar] = []
        demands: list[int] = []
        for j, task in enumerate(problem.tasks):
            for m, mode in enumerate(task.modes):
                if mode.duration == 0:
                    continue
                for rr, units in mode.demands:
                    if rr == r:
                        intervals.append(model.tasks[j].modes[m][1])
                        demands.append(units)
        if not intervals:
            continue
        for k, (s, e, u) in enumerate(res.unavailable):
            intervals.append(model.cp.new_fixed_size_interval_var(s, e - s, f"off{r}_{k}"))
            demands.append(u)
        if res.capacity == 1 and all(d == 1 for d in demands):
            model.cp.add_no_overlap(intervals)
        else:
            model.cp.add_cumulative(intervals, demands, res.capacity)


def _task_level(problem: Problem, r: int) -> bool:
    """Whether renewable resource ``r`` gets a task-level cumulative that holds every task using it: a makespan
    problem (with ``ZERO_DEMAND_TASKS``) where some multi-mode task uses ``r`` in some mode."""
    return ZERO_DEMAND_TASKS and problem.objective is Objective.MAKESPAN and any(
        len(t.modes) > 1 and any(m.duration and any(rr == r and u for rr, u in m.demands) for m in t.modes)
        for t in problem.tasks)


def _task_cumulatives(model: Model) -> None:
    """Per renewable resource that some multi-mode task uses: one cumulative over the tasks' own intervals, each
    demanding one of its modes' demands (module docstring). On a makespan problem it holds every task that uses the
    resource in any mode and replaces the mode intervals' cumulative (``_task_level``). Otherwise it is redundant and
    a multi-mode task with a mode that does not use the resource (alternative pools: a clearance lot by manual teams
    *or* dogs) is left out: with a demand that may be 0 it has no compulsory part and no energy before its mode is
    chosen, when the mode's own interval already counts; a cumulative over fewer tasks is still implied.
    Weighted-completion models (the region problems, whose multi-mode tasks choose between pools) so stay as they
    were. Outages as in ``_resources``."""
    problem = model.problem
    for r in problem.renewable:
        res = problem.resources[r]
        intervals: list[cp_model.IntervalVar] = []
        demands: list[cp_model.LinearExprT] = []
        multi = False
        for j, task in enumerate(problem.tasks):
            tv = model.tasks[j]
            units = tuple(sum(u for rr, u in mode.demands if rr == r) if mode.duration else 0 for mode in task.modes)
            if not any(units):
                continue
            if tv.interval is None:
                intervals.append(tv.modes[0][1])
                demands.append(units[0])
                continue
            if min(units) == 0 and not (ZERO_DEMAND_TASKS and problem.objective is Objective.MAKESPAN):
                continue
            multi = True
            intervals.append(tv.interval)
            if len(set(units)) == 1:
                demands.append(units[0])
                continue
            var = model.cp.new_int_var_from_domain(cp_model.Domain.from_values(sorted(set(units))), f"u{j}_{r}")
            for (p, *_), u in zip(tv.modes, units, strict=True):
                assert p is not None
                model.cp.add(var == u).only_enforce_if(p)
            tv.demands[r] = (var, units)
            demands.append(var)
        if not multi:
            continue
        for k, (s, e, u) in enumerate(res.unavailable):
            intervals.append(model.cp.new_fixed_size_interval_var(s, e - s, f"offt{r}_{k}"))
            demands.append(u)
        model.cp.add_cumulative(intervals, demands, res.capacity)


def _budgets(model: Model) -> None:
    """Σ over chosen modes of the units of each non-renewable resource <= its capacity."""
    problem = model.problem
    for r in problem.non_renewable:
        terms = []
        fixed = 0
        for j, task in enumerate(problem.tasks):
            for m, mode in enumerate(task.modes):
                units = sum(u for rr, u in mode.demands if rr == r)
                if units:
                    presence = model.tasks[j].modes[m][0]
                    if presence is None:
                        fixed += units
                    else:
                        terms.append(units * presence)
        if terms or fixed:
            model.cp.add(sum(terms) + fixed <= problem.resources[r].capacity)


def _period_budgets(model: Model) -> None:
    """For each window [a, z) of each budget per period: Σ rate × (periods of the chosen mode's run inside it) <= its
    capacity. A task that may cross the window's edge gets a variable at least its overlap, min(end, z) − max(start,
    a), when its mode is chosen (0 when not): spending is only bounded from above, so that suffices."""
    problem = model.problem
    cp = model.cp
    for b, budget in enumerate(problem.budgets):
        for w, (a, z, cap) in enumerate(budget.windows):
            terms: list[cp_model.LinearExprT] = []
            for j, task in enumerate(problem.tasks):
                for m, mode in enumerate(task.modes):
                    rate = sum(r for bb, r in mode.costs if bb == b)
                    d = mode.duration
                    if not rate or not d:
                        continue
                    presence, _, sm, em = model.tasks[j].modes[m]
                    s_lo, s_hi = _bounds(sm)
                    if s_hi + d <= a or s_lo >= z:
                        continue  # never runs in the window
                    if a <= s_lo and s_hi + d <= z:  # always wholly inside the window
                        terms.append(rate * d * (1 if presence is None else presence))
                        continue
                    lo = cp.new_int_var(min(a, s_lo), max(a, s_hi), f"lo{b}_{w}_{j}_{m}")
                    hi = cp.new_int_var(min(z, s_lo + d), max(z, s_hi + d), f"hi{b}_{w}_{j}_{m}")
                    cp.add_max_equality(lo, [sm, a])
                    cp.add_min_equality(hi, [em, z])
                    inside = cp.new_int_var(0, min(d, z - a), f"in{b}_{w}_{j}_{m}")
                    if presence is None:
                        cp.add(inside >= hi - lo)
                    else:
                        cp.add(inside >= hi - lo).only_enforce_if(presence)
                        cp.add(inside == 0).only_enforce_if(~presence)
                    terms.append(rate * inside)
            if terms:
                cp.add(sum(terms) <= cap)


def _objective_expr(model: Model, objective: Objective) -> cp_model.LinearExprT:
    """``objective`` as a linear expression; the problem's first objective includes the move cost (``_moves``)."""
    problem = model.problem
    expr: cp_model.LinearExprT
    if objective is Objective.MAKESPAN:
        if model.makespan is None:
            mk = model.cp.new_int_var(0, problem.horizon, "makespan")
            # Only tasks without successors can end last (lags >= 0); the others are bounded through them.
            last = [tv.end for j, tv in enumerate(model.tasks)
                    if not any(lag >= 0 for _, lag in problem.successors[j])]
            for end in last:
                model.cp.add(mk >= end)
            model.makespan = mk
        expr = model.makespan
    else:
        expr = sum(t.weight * tv.end for t, tv in zip(problem.tasks, model.tasks, strict=True) if t.weight)
    if objective is problem.objective and problem.move_cost:
        moved = _moves(model)
        expr = expr + problem.move_cost * (sum(b for _, b in moved) + model.always_moved)
    return expr


def _moves(model: Model) -> list[tuple[int, cp_model.IntVar]]:
    """One literal per anchored task, true exactly when the task does not start at its anchor (made once).

    Both directions are constrained, so the move cost CP-SAT reports is the one the checker counts
    (``solution.moved_tasks``), also in a solution that is not optimal.
    """
    if model.moved is None:
        model.moved = []
        for j in model.problem.anchored:
            anchor = model.problem.tasks[j].anchor
            assert anchor is not None
            start = model.tasks[j].start
            lo, hi = _bounds(start)
            if not lo <= anchor <= hi:
                model.always_moved += 1
                continue
            b = model.cp.new_bool_var(f"moved{j}")
            model.cp.add(start == anchor).only_enforce_if(~b)
            model.cp.add(start != anchor).only_enforce_if(b)
            model.moved.append((j, b))
    return model.moved


def add_hint(model: Model, schedule: Schedule) -> None:
    """Hint every variable from a feasible ``schedule``, so CP-SAT starts from it."""
    cp = model.cp
    problem = model.problem
    for j, tv in enumerate(model.tasks):
        s = schedule.starts[j]
        chosen = schedule.modes[j]
        e = s + problem.tasks[j].modes[chosen].duration
        cp.add_hint(tv.start, s)
        cp.add_hint(tv.end, e)
        if tv.duration is not None:
            cp.add_hint(tv.duration, problem.tasks[j].modes[chosen].duration)
        for var, units in tv.demands.values():
            cp.add_hint(var, units[chosen])
        if len(tv.modes) > 1:
            for m, (p, _, sm, em) in enumerate(tv.modes):
                assert p is not None
                cp.add_hint(p, m == chosen)
                # Unchosen modes get a consistent, in-domain placeholder so the hint is complete.
                d = problem.tasks[j].modes[m].duration
                lo, hi = _bounds(sm)
                ms = min(max(s, lo), hi)
                cp.add_hint(sm, ms)
                cp.add_hint(em, ms + d)
    if model.makespan is not None:
        cp.add_hint(model.makespan, max(schedule.ends(problem), default=0))
    for j, b in model.moved or ():
        cp.add_hint(b, schedule.starts[j] != problem.tasks[j].anchor)


def _bounds(var: cp_model.IntVar) -> tuple[int, int]:
    dom = list(var.proto.domain)  # this repeated field type does not support negative indexing
    return int(dom[0]), int(dom[-1])


def read_schedule(model: Model, solver: cp_model.CpSolver) -> Schedule:
    starts = []
    modes = []
    for tv in model.tasks:
        starts.append(int(solver.value(tv.start)))
        if len(tv.modes) == 1:
            modes.append(0)
        else:
            modes.append(next(m for m, (p, *_rest) in enumerate(tv.modes) if p is not None and solver.value(p)))
    return Schedule(tuple(starts), tuple(modes))
