"""``solve(problem, params=...) -> Result``: the one front door of the scheduling engine.

1. The baseline: the serial schedule-generation scheme with the planner's own priority order (a person's plan).
2. Starting solutions from other priority rules (weighted completion: descendant weight and unlock ratio; makespan:
   longest tail, then forward–backward improvement), each with the serial and the parallel scheme; for a multi-mode
   makespan problem also in modes chosen together by CP-SAT on a relaxation that keeps every budget
   (``cpsat.modes``); the best is CP-SAT's hint.
3. CP-SAT improves it within the time limit and proves a bound.
4. The independent checker verifies the schedule returned; a schedule it rejects is never returned.
5. The lower bound is the best of CP-SAT's proven bound and sapper's own (precedence, outages and the pools'
   capacity along the chains: ``plan.bounds``), so it stays valid even if CP-SAT's proof were wrong; a claimed
   optimum above a heuristic solution is flagged.

With ``start`` (a re-plan: the previous plan repaired to the new facts, ``plan.stability.warm_start``) steps 1–2 are
replaced by that schedule, which is then the baseline; with ``moves=MovePolicy.FEWEST`` the fewest moves any plan
needs are found first (``plan.stability.fewest_moves``) and CP-SAT then optimises with each further move priced above
any gain. Steps 3–5 are the same code for both.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from sapper.errors import Fault, PlanError, ValidationError
from sapper.messages import msg
from sapper.plan.alns import AlnsStats, SubOutcome, alns
from sapper.plan.bounds import chain_lower_bound
from sapper.plan.greedy import (
    descendant_weight_rule,
    earliest_start_bound,
    justify,
    longest_tail_rule,
    parallel_sgs,
    serial_sgs,
    unlock_ratio_rule,
)
from sapper.plan.problem import Objective, Problem, Resource, Units
from sapper.plan.solution import Schedule, moved_tasks, objective_value, objective_values, verify

if TYPE_CHECKING:
    from sapper.plan.cpsat import CpSatOutcome

#: Above this many tasks CP-SAT works on windows of the plan rather than on the whole model at once.
LARGE_PROBLEM_TASKS = 3000

#: Share of a makespan search's time, after CP-SAT's first run, given to the genetic search (``plan.evolve``).
GENETIC_SHARE = 0.3

#: On a multi-mode makespan problem CP-SAT's first run keeps the LP at its strongest (``focus="dual"``: beside the
#: full search without it), and a genetic plan that reaches that run's bound ends the search (``_cpsat_stage``).
MULTI_MODE_BOUND_RUN = True

#: The first CP-SAT run's focus on a multi-mode makespan problem (``cpsat.solve_cpsat``) ...
MULTI_MODE_FIRST_FOCUS = "dual"
#: ... and its share of the stage's time limit (1 s at least; a single-mode problem's first run is 1 s).
MULTI_MODE_FIRST_SHARE = 0.3


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven optimal (objective equals the lower bound)
    FEASIBLE = "feasible"  # a checked plan, optimality not proven
    INFEASIBLE = "infeasible"  # proven that no plan exists
    UNKNOWN = "unknown"  # no plan found and nothing proven within the limits


class Engine(StrEnum):
    """What ``solve`` may use: CP-SAT after the heuristics, or the priority-list heuristics alone (no solver)."""

    CPSAT = "cpsat"
    GREEDY = "greedy"

    @classmethod
    def parse(cls, value: str) -> Engine:
        """The engine named ``value``; ValidationError naming the choices when there is none."""
        return _parse(cls, value, "engine")


class MovePolicy(StrEnum):
    """How ``solve`` from a ``start`` treats moving an anchored task (``Problem.move_cost``)."""

    FEWEST = "fewest"  # move only as many tasks as any plan must (the fewest found), then optimise
    PRICED = "priced"  # a task moves when what it gains outweighs the move cost

    @classmethod
    def parse(cls, value: str) -> MovePolicy:
        """The move policy named ``value``; ValidationError naming the choices when there is none."""
        return _parse(cls, value, "moves")


_E = TypeVar("_E", bound=StrEnum)


def _parse(cls: type[_E], value: str, what: str) -> _E:
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(e.value for e in cls)
        raise ValidationError(what, [Fault(what, msg("{what} must be one of {choices}, got {value}", what=what,
                                                     choices=choices, value=repr(value)), what)]) from None


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How hard to try: CP-SAT time limit (s), workers, seed; ``engine`` (an ``Engine`` or its name)."""

    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    engine: Engine = Engine.CPSAT
    log: bool = False

    def __post_init__(self) -> None:
        try:
            engine = Engine(self.engine)
        except ValueError:
            raise PlanError(f"unknown engine {self.engine!r}: use 'cpsat' or 'greedy'") from None
        object.__setattr__(self, "engine", engine)


@dataclass(frozen=True)
class Result:
    """What ``solve`` found: always a status, objective, bound, runtime — also when there is no plan."""

    status: Status
    schedule: Schedule | None
    objective: float | None
    lower_bound: float | None
    baseline_objective: float | None
    baseline: Schedule | None
    engine: str
    solve_seconds: float
    details: dict[str, object] = field(default_factory=dict)
    #: The neighbourhood search's record on a region-sized problem (``plan.alns``): per operator, calls, improving
    #: calls, objective gained, seconds; None when it did not run.
    search: AlnsStats | None = None
    #: The best heuristic plan (checked) the solver started from, when ``solve`` made one: with set-up per change of
    #: role its order can decode better unit by unit than the solver's plan (``plan.unitlist``).
    heuristic: Schedule | None = None
    #: With ``solve(units=...)`` on a region-sized problem: the best order (every predecessor first) the search
    #: found decoded unit by unit (``plan.alns``'s priority search), for ``plan.unitlist`` to decode again.
    unit_order: tuple[int, ...] | None = None

    @property
    def gap(self) -> float | None:
        """Relative distance from the lower bound: (objective − bound) / objective."""
        if self.objective is None or self.lower_bound is None or self.objective == 0:
            return None
        return (self.objective - self.lower_bound) / self.objective

    @property
    def improvement_over_baseline(self) -> float | None:
        """(baseline − objective) / baseline: how much better than the priority-list plan."""
        if self.objective is None or not self.baseline_objective:
            return None
        return (self.baseline_objective - self.objective) / self.baseline_objective


def own_lower_bound(problem: Problem) -> float:
    """A bound every plan respects: each task ends no earlier than precedence, release and outages allow, and no
    resource group does more work than its capacity: the larger of the fluid and the chain bounds of
    :mod:`sapper.plan.bounds` (both valid, so their maximum is)."""
    return chain_lower_bound(problem, earliest_start_bound(problem))


def solve(problem: Problem, *, params: SolveParams | None = None, priority: Sequence[float] | None = None,
          start: Schedule | None = None, moves: MovePolicy = MovePolicy.PRICED,
          groups: Sequence[int] | None = None, units: Units | None = None) -> Result:
    """Plan ``problem`` (module docstring). ``priority`` (higher first) is the planner's own order for the baseline;
    default: weights.

    ``start``: a feasible schedule of ``problem`` to improve instead of the greedy plans (it is the baseline; a
    re-plan passes the previous plan repaired to the new facts). ``moves`` says how moves off the anchors count then:
    ``PRICED``, each costs ``problem.move_cost``; ``FEWEST``, the number of moved tasks ranks first: CP-SAT first finds
    the fewest anchored tasks a plan must move (``plan.stability.fewest_moves``, for ``FEWEST_MOVES_SHARE`` of the time
    limit, proving the minimum where it can), then improves that plan with each move priced above any gain in the
    objective, so no plan with more moves is ever taken. ``details`` then holds ``fewest_moves``,
    ``fewest_moves_bound`` and ``fewest_moves_proven``. The engine named in the result is "warm-start" or
    "fewest-moves" when CP-SAT did not improve on those.

    ``groups``: a group per task (e.g. the district of its hazard area or asset; −1 for none) for the district
    neighbourhood of the search on region-sized problems (``plan.alns``).

    ``units``: the units behind the pools where set-up is paid per change of role (teams by capabilities; None:
    planning on the pools alone). On a region-sized problem the search then judges its orders decoded unit by unit
    and ``Result.unit_order`` carries the best one; ``details`` get ``unit_heuristic_objective`` (the best heuristic
    plan's order decoded) and ``unit_search_objective`` (the best order's).
    """
    params = params or SolveParams()
    t0 = time.perf_counter()
    details: dict[str, object] = {}
    model = problem  # what CP-SAT optimises: ``problem``, or with moves priced above any gain (``FEWEST``)
    if start is None:
        baseline, baseline_obj, candidates = _greedy_plans(problem, priority, details,
                                                           solver=params.engine is Engine.CPSAT,
                                                           time_limit_s=params.time_limit_s)
        try:
            bound = own_lower_bound(problem)
        except PlanError as exc:  # some task cannot run even alone
            return Result(Status.INFEASIBLE, None, None, None, None, None, "bound", time.perf_counter() - t0,
                          {"reason": exc.message})
    else:
        baseline, baseline_obj = start, float(objective_value(problem, start))
        model, first, bound = _from_start(problem, start, moves, params, details)
        candidates = [(float(objective_value(model, first)), "warm-start" if first is start else "fewest-moves",
                       first)]
    best_obj: float | None = None
    best: Schedule | None = None
    engine = "greedy"
    search: AlnsStats | None = None
    if candidates:
        best_obj, engine, best = min(candidates, key=lambda c: c[0])
    heuristic = best if start is None else None
    if start is None:
        details.update(own_lower_bound=bound, heuristic_objective=best_obj)
    if params.engine is Engine.CPSAT and best is not None and best_obj is not None \
            and len(problem.tasks) > LARGE_PROBLEM_TASKS:
        (best_obj, engine, best), search = _large(model, (best_obj, engine, best), params, t0, details, groups,
                                                  units)
    elif params.engine is Engine.CPSAT:

        # A makespan plan of the heuristic's length exists, so CP-SAT may search within it: tighter domains.
        model_problem = model
        if model.objective is Objective.MAKESPAN and best_obj is not None:
            model_problem = within_horizon(model, int(best_obj))
        stages = model.objectives
        caps: list[tuple[Objective, int]] = []
        for k, stage in enumerate(stages):
            left = params.time_limit_s - (time.perf_counter() - t0)
            # CP-SAT keeps what the heuristics left of the limit; at least half the limit (a second at most) for
            # the first stage, so that a short limit is kept rather than overrun by the heuristics' share.
            floor = min(1.0, 0.5 * params.time_limit_s) if k == 0 else 0.2
            remaining = max(floor, left / (len(stages) - k))
            out = _cpsat_stage(model_problem, stage, caps, best, remaining, params, details)
            prefix = "cpsat" if k == 0 else f"cpsat_stage{k + 1}"
            details.update({f"{prefix}_status": out.status, f"{prefix}_objective": out.objective,
                            f"{prefix}_bound": out.bound, f"{prefix}_seconds": out.seconds, "ortools": out.version})
            if out.status == "infeasible" and k == 0:
                if best is not None:
                    raise PlanError("CP-SAT says infeasible, but a checked heuristic plan exists: solver fault")
                return Result(Status.INFEASIBLE, None, None, None, baseline_obj, baseline, "cpsat",
                              time.perf_counter() - t0, details)
            if out.schedule is not None:
                verify(problem, out.schedule, "CP-SAT schedule")
                obj = float(objective_value(model, out.schedule, stage))
                if out.objective is not None and abs(obj - out.objective) > 1e-6:
                    raise PlanError(f"CP-SAT reported objective {out.objective}, the checker computes {obj}")
                if k == 0:
                    known = obj if best_obj is None else min(obj, best_obj)  # a checked plan of this value exists
                    if out.status == "optimal" and best_obj is not None and obj > best_obj:
                        details["false_proof"] = True  # a heuristic beat a claimed optimum: do not trust the bound
                    elif out.bound is not None and out.bound > known + 1e-6:
                        details["false_proof"] = True  # a bound above a checked plan: CP-SAT's proof is wrong
                    elif out.bound is not None and model is problem:  # else a bound of the priced model only
                        bound = max(bound, out.bound)
                    if best_obj is None or obj <= best_obj:
                        best_obj, engine, best = obj, "cpsat", out.schedule
                elif best is not None and objective_values(model, out.schedule)[:k + 1] <= \
                        objective_values(model, best)[:k + 1]:
                    best = out.schedule  # later stages keep the earlier objectives (caps), so only ties move
            if best is None:
                break
            caps.append((stage, objective_value(model, best, stage)))
        if best is not None and len(stages) > 1:
            details["objectives"] = {o.value: objective_value(problem, best, o) for o in stages}
    if best is None or best_obj is None:
        return Result(Status.UNKNOWN, None, None, bound, baseline_obj, baseline, engine, time.perf_counter() - t0,
                      details, search)
    if model is not problem:
        best_obj = float(objective_value(problem, best))
    if best_obj < bound - 1e-6:
        raise PlanError(f"objective {best_obj} below the lower bound {bound}: a bound is wrong")
    status = Status.OPTIMAL if abs(best_obj - bound) <= 1e-6 else Status.FEASIBLE
    own = details.get("own_lower_bound")
    if status is Status.OPTIMAL:  # what the claim rests on: sapper's own bound, or CP-SAT's proof (docs/planning.md)
        details["proof"] = "own-bound" if isinstance(own, (int, float)) and abs(best_obj - own) <= 1e-6 else "cpsat"
    return Result(status, best, best_obj, bound, baseline_obj, baseline, engine, time.perf_counter() - t0, details,
                  search, heuristic, search.unit_order if search is not None else None)


def _greedy_plans(problem: Problem, priority: Sequence[float] | None, details: dict[str, object], *,
                  solver: bool = False, time_limit_s: float = 10.0
                  ) -> tuple[Schedule | None, float | None, list[tuple[float, str, Schedule]]]:
    """The baseline (the serial scheme in ``priority``, default: weights; None when its order cannot meet the
    deadlines) with its objective, and every checked greedy plan as (objective, engine name, schedule).

    With ``solver`` (the CP-SAT engine), a multi-mode makespan problem also gets plans in the modes CP-SAT picks on a
    relaxation that keeps every budget (``cpsat.modes.relaxed_modes``): the schemes' own mode choice, one task at a
    time, may find no budget-feasible plan at all."""
    base_priority = list(priority) if priority is not None else [float(t.weight) for t in problem.tasks]
    candidates: list[tuple[float, str, Schedule]] = []
    baseline: Schedule | None = None
    baseline_obj: float | None = None
    try:
        baseline = serial_sgs(problem, base_priority)
    except PlanError as exc:  # deadlines the priority order cannot meet: CP-SAT may still find a plan
        details["baseline_error"] = exc.message
    else:
        verify(problem, baseline, "greedy baseline")
        baseline_obj = float(objective_value(problem, baseline))
        candidates.append((baseline_obj, "greedy", baseline))
    rules = {Objective.WEIGHTED_COMPLETION: (("greedy-dw", descendant_weight_rule),
                                             ("greedy-unlock", unlock_ratio_rule)),
             Objective.MAKESPAN: (("greedy-lft", longest_tail_rule),)}
    # On region-sized problems the parallel scheme took 3–10 s per rule and gave no better plan (docs/planning.md).
    schemes = [("", serial_sgs)] if len(problem.tasks) > LARGE_PROBLEM_TASKS else \
        [("", serial_sgs), ("-parallel", parallel_sgs)]
    for name, rule in rules[problem.objective]:
        order = rule(problem)
        for scheme, sgs in schemes:
            try:
                alt = sgs(problem, order)
            except PlanError:
                continue
            verify(problem, alt, f"greedy ({name}{scheme})")
            candidates.append((float(objective_value(problem, alt)), name + scheme, alt))
    if solver and problem.objective is Objective.MAKESPAN and len(problem.tasks) <= LARGE_PROBLEM_TASKS \
            and any(len(t.modes) > 1 for t in problem.tasks):
        from sapper.plan.cpsat.modes import relaxed_modes

        modes = relaxed_modes(problem, time_limit_s=max(0.2, 0.1 * time_limit_s))
        details["relaxed_modes"] = modes is not None
        if modes is not None:
            order = longest_tail_rule(problem, modes)
            for scheme, sgs in schemes:
                try:
                    alt = sgs(problem, order, modes)
                except PlanError:
                    continue
                verify(problem, alt, f"greedy (relaxed modes{scheme})")
                candidates.append((float(objective_value(problem, alt)), "greedy-modes" + scheme, alt))
    if problem.objective is Objective.MAKESPAN:
        for obj, _, sched in list(candidates):
            improved = justify(problem, sched)
            if objective_value(problem, improved) < obj:
                verify(problem, improved, "forward-backward improvement")
                candidates.append((float(objective_value(problem, improved)), "greedy-fbi", improved))
    return baseline, baseline_obj, candidates


#: Share of the time limit ``solve`` from a ``start`` gives to finding the fewest moves (the rest improves the plan).
FEWEST_MOVES_SHARE = 0.5


def _from_start(problem: Problem, start: Schedule, moves: MovePolicy, params: SolveParams,
                details: dict[str, object]) -> tuple[Problem, Schedule, float]:
    """What ``solve`` improves from ``start``: the problem CP-SAT optimises, the first plan and the lower bound.

    With ``FEWEST`` the first plan has the fewest moves found, the bound adds the moves no plan avoids, and the
    problem prices a move above the most the objective could still gain, so the improvement never adds one."""
    from sapper.plan.stability import fewest_moves

    verify(problem, start, "the start schedule (the repaired previous plan)")
    bound = own_lower_bound(problem)
    details.update(own_lower_bound=bound, heuristic_objective=float(objective_value(problem, start)),
                   warm_start_moved=len(moved_tasks(problem, start)))
    if moves is MovePolicy.PRICED:
        return problem, start, bound
    first, moves_bound = fewest_moves(problem, start, params, details,
                                      time_limit_s=FEWEST_MOVES_SHARE * params.time_limit_s)
    bound += problem.move_cost * moves_bound
    plain = problem.replace(move_cost=0)
    gain = float(objective_value(plain, first)) - own_lower_bound(plain)
    model = problem.replace(move_cost=max(problem.move_cost, math.ceil(max(0.0, gain)) + 1))
    details["lexicographic_move_cost"] = model.move_cost
    return model, first, bound


def _cpsat_stage(problem: Problem, stage: Objective, caps: list[tuple[Objective, int]], hint: Schedule | None,
                 limit: float, params: SolveParams, details: dict[str, object]) -> CpSatOutcome:
    """One CP-SAT stage from ``hint``.

    A makespan stage runs CP-SAT's proof-oriented portfolio (see ``solve_cpsat``) for 1 s, which closes most small
    instances; if the optimum is not proven, it restarts from the best plan found, with the next seed, for the rest
    of the time. Measured on PSPLIB with several seeds (docs/benchmarks.md): on the two hardest 30-job instances
    this found the optimum in 18 and 18 runs of 24, against 4 and 10 of 12 for one uninterrupted run and 0 and 4 of
    12 for a restart into the default portfolio, which did no better on the hardest 60-job instances either. The
    bound kept is the better of the two runs' bounds (both are bounds of the same model).

    Between the two runs a genetic search (``plan.evolve``) takes ``GENETIC_SHARE`` of the time left, where it
    applies, on a multi-mode problem searching modes too; it stops early when it reaches the first run's bound, and
    its plan is then returned as proven optimal without the restart. On a multi-mode problem the first run is longer
    (``MULTI_MODE_FIRST_SHARE`` of the time) and runs two full searches side by side, one keeping the LP at its
    strongest (the budgets' bound is the LP's) and one without it (``focus="dual"``; docs/planning.md), so that
    instances a second does not close are closed there rather than after the genetic search. The restart begins from
    the genetic search's plan when that is shorter (``details`` gets ``genetic_objective`` and ``genetic_seconds``).
    On the nine 60-job instances CP-SAT does not close at once this took the mean deviation from the best-known plans
    (over all 48 of the set) from 0.22–0.27 % to 0.12–0.16 % (docs/benchmarks.md).
    """
    from sapper.plan import evolve
    from sapper.plan.cpsat import solve_cpsat

    def run(seconds: float, focus: str, start: Schedule | None, seed: int) -> CpSatOutcome:
        return solve_cpsat(problem, time_limit_s=seconds, workers=params.workers, seed=seed, hint=start,
                           log=params.log, objective=stage, caps=caps, focus=focus)

    if stage is not Objective.MAKESPAN:
        return run(limit, "default", hint, params.seed)
    if limit < 2.0:
        return run(limit, "proof", hint, params.seed)
    t0 = time.perf_counter()
    multi_mode = MULTI_MODE_BOUND_RUN and any(len(t.modes) > 1 for t in problem.tasks)
    if multi_mode:
        first = run(max(1.0, MULTI_MODE_FIRST_SHARE * limit), MULTI_MODE_FIRST_FOCUS, hint, params.seed)
    else:
        first = run(1.0, "proof", hint, params.seed)
    if first.status in ("optimal", "infeasible"):
        return first
    rest = limit - (time.perf_counter() - t0)
    if rest <= 0.05:
        return first
    start = first.schedule or hint
    outcomes = [first]
    if start is not None and not caps and evolve.applies(problem):
        budget = GENETIC_SHARE * rest
        began = time.perf_counter()
        target = math.ceil(first.bound - 1e-6) if first.bound is not None else 0
        found = evolve.evolve(problem, start, time_limit_s=budget, seed=params.seed, target=target)
        value = objective_value(problem, found, stage)
        details.update(genetic_objective=value, genetic_seconds=round(time.perf_counter() - began, 3))
        if found is not start:
            verify(problem, found, "genetic search")
            start = found
            outcomes.append(replace(first, status="feasible", schedule=found, objective=float(value)))
            if first.bound is not None and value <= target and MULTI_MODE_BOUND_RUN:
                # The search reached the first run's bound: its plan is optimal, the restart has nothing to do.
                return replace(outcomes[-1], status="optimal", bound=first.bound, seconds=time.perf_counter() - t0)
        # CP-SAT keeps its share even when the search ran over (the first search of a process may compile it).
        rest = max(rest - budget, limit - (time.perf_counter() - t0))
    second = run(max(0.05, rest), "proof", start, params.seed + 1)
    outcomes.insert(0, second)  # on a tie, CP-SAT's last word (it may carry the proof)
    best = min((o for o in outcomes if o.objective is not None), key=lambda o: o.objective or 0.0, default=first)
    bound = max((o.bound for o in (first, second) if o.bound is not None), default=None)
    status = "optimal" if best.objective is not None and bound is not None and bound >= best.objective \
        else best.status
    return replace(best, status=status, bound=bound, seconds=time.perf_counter() - t0)


def within_horizon(problem: Problem, horizon: int) -> Problem:
    """``problem`` with a shorter horizon (outages clipped to it), when a plan that short is known to exist."""
    if horizon >= problem.horizon:
        return problem
    resources = tuple(
        Resource(r.name, r.capacity, tuple((s, min(e, horizon), u) for s, e, u in r.unavailable if s < horizon),
                 r.renewable)
        for r in problem.resources
    )
    return problem.replace(resources=resources, horizon=horizon)


def _large(problem: Problem, incumbent: tuple[float, str, Schedule], params: SolveParams, t0: float,
           details: dict[str, object], groups: Sequence[int] | None = None, units: Units | None = None
           ) -> tuple[tuple[float, str, Schedule], AlnsStats]:
    """Region-sized problems: adaptive large-neighbourhood search from the best heuristic plan (``plan.alns``): CP-SAT
    on release chains, stretches of a pool's sequence, districts (``groups``) and time windows; with ``units``, the
    priority search on orders decoded unit by unit."""
    from sapper.plan.cpsat import ORTOOLS_VERSION, solve_cpsat

    def sub_solver(sub: Problem, hint: Schedule, limit: float) -> SubOutcome:
        out = solve_cpsat(sub, time_limit_s=limit, workers=params.workers, seed=params.seed, hint=hint)
        return SubOutcome(out.schedule, out.status == "optimal")

    start_obj, _, start = incumbent
    remaining = max(1.0, params.time_limit_s - (time.perf_counter() - t0))
    schedule, stats = alns(problem, start, sub_solver, time_limit_s=remaining, seed=params.seed, groups=groups,
                           units=units, threads=params.workers)
    verify(problem, schedule, "CP-SAT neighbourhood search schedule")
    details.update(lns_windows=stats.iterations, lns_improved=stats.improved, lns_seconds=round(stats.seconds, 2),
                   ortools=ORTOOLS_VERSION)
    if stats.unit_order is not None:
        details.update(unit_heuristic_objective=stats.unit_start_objective,
                       unit_search_objective=stats.unit_objective)
    for op in stats.operators:
        key = op.name.replace("-", "_")
        details.update({f"alns_{key}_calls": op.calls, f"alns_{key}_improved": op.improved,
                        f"alns_{key}_gain": op.gain})
    obj = float(objective_value(problem, schedule))
    if obj < start_obj:
        return (obj, "cpsat-lns", schedule), stats
    return incumbent, stats
