"""A multi-mode resource-constrained scheduling problem: immutable, validated, index-based.

Time is counted in integer periods (sapper uses working days). A task runs in exactly one of its modes; a mode has a
duration and demands on renewable resources. A resource has a capacity, reduced during ``unavailable`` spans (e.g. a
winter stand-down takes all of a clearance pool). A precedence ``(pred, succ, lag)`` means
``start[succ] >= end[pred] + lag`` (a negative lag lets the successor start before its predecessor ends).
A non-renewable resource (a budget) is consumed once by the mode a task runs in; the chosen modes together may not use
more than its capacity. A budget per period (``PeriodBudget``, e.g. a donor's money per calendar year) caps what the
tasks running in each of its windows spend: a mode spends its ``costs`` rate in every period it runs, so a task that
crosses a window's edge spends in both windows in proportion to its periods in each. The objective is the weighted
sum of task completion times or the makespan, optionally followed by further objectives ranked lexicographically
(``then``): each is minimised while the ones before it keep their best value found.

Stability (re-planning): a task may carry an ``anchor``, the start it had in the previous plan (in this problem's
time frame). Every anchored task that does not start at its anchor adds ``move_cost`` to the first objective, so a
task that need not move stays where it was unless moving it gains more than ``move_cost``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from sapper.errors import Fault, ValidationError


class Objective(StrEnum):
    WEIGHTED_COMPLETION = "weighted_completion"
    MAKESPAN = "makespan"


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource of ``capacity`` units.

    Renewable (a pool of teams): ``capacity`` units per period, less the ``unavailable`` (start, end, units) spans,
    so capacity may vary by period (a winter stand-down). Non-renewable (a budget): ``capacity`` units for the whole
    plan, consumed once by each task's chosen mode.
    """

    name: str
    capacity: int
    unavailable: tuple[tuple[int, int, int], ...] = ()
    renewable: bool = True


@dataclass(frozen=True, slots=True)
class PeriodBudget:
    """Money per window of periods: ``windows`` = ((start, end, capacity), ...), in order and disjoint, each capping
    what the modes running in [start, end) spend there (``Mode.costs``: a rate per period). Periods outside every
    window are not capped."""

    name: str
    windows: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True, slots=True)
class Mode:
    """One way to run a task: ``duration`` periods using ``demands`` = ((resource index, units), ...), spending
    ``costs`` = ((period budget index, amount per period), ...).

    ``name`` is the role the mode works in (a method or trade); ``setup`` of the ``duration`` periods, at its start,
    are set-up time: a unit taking up a role that is not its own (see ``solution.check_units``).
    """

    duration: int
    demands: tuple[tuple[int, int], ...] = ()
    name: str = ""
    setup: int = 0
    costs: tuple[tuple[int, int], ...] = ()

    def __reduce__(self) -> tuple[type[Mode], tuple[object, ...]]:
        # Pickled field by field, not through dataclasses' generic state (which looks the fields up for every
        # object: a quarter of a national plan's time went to sending its regions to the Dask workers).
        return (Mode, (self.duration, self.demands, self.name, self.setup, self.costs))


@dataclass(frozen=True, slots=True)
class Task:
    """A task: its modes, the weight of its completion time, its release date and optional deadline (latest end).

    ``anchor`` is the start the task had in a previous plan (None: it has none); see ``Problem.move_cost``.
    """

    name: str
    modes: tuple[Mode, ...]
    weight: int = 0
    release: int = 0
    deadline: int | None = None
    anchor: int | None = None

    def __reduce__(self) -> tuple[type[Task], tuple[object, ...]]:
        return (Task, (self.name, self.modes, self.weight, self.release, self.deadline, self.anchor))


@dataclass(frozen=True, slots=True)
class Precedence:
    pred: int
    succ: int
    lag: int = 0

    def __reduce__(self) -> tuple[type[Precedence], tuple[object, ...]]:
        return (Precedence, (self.pred, self.succ, self.lag))


@dataclass(frozen=True)
class Problem:
    """The whole problem. Construction validates everything and reports every fault at once."""

    resources: tuple[Resource, ...]
    tasks: tuple[Task, ...]
    precedences: tuple[Precedence, ...]
    horizon: int
    objective: Objective = Objective.WEIGHTED_COMPLETION
    then: tuple[Objective, ...] = ()
    #: Added to the first objective for each anchored task that does not start at its anchor.
    move_cost: int = 0
    #: Budgets per window of periods (``PeriodBudget``), referred to by index from ``Mode.costs``.
    budgets: tuple[PeriodBudget, ...] = ()
    _topo: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        faults = self._faults()
        ValidationError.raise_if("planning problem", faults)
        topo = _topological_order(len(self.tasks), self.precedences)
        if topo is None:
            raise ValidationError("planning problem", [Fault("precedences", "contain a cycle")])
        object.__setattr__(self, "_topo", tuple(topo))

    def _faults(self) -> list[Fault]:
        faults: list[Fault] = []
        if self.horizon <= 0:
            faults.append(Fault("problem", f"horizon must be positive, got {self.horizon}", "horizon"))
        if self.move_cost < 0:
            faults.append(Fault("problem", f"move cost cannot be negative, got {self.move_cost}", "move_cost"))
        for r, res in enumerate(self.resources):
            rec = f"resource {r} ({res.name})"
            if res.capacity < 0:
                faults.append(Fault(rec, "capacity cannot be negative", "capacity"))
            if not res.renewable and res.unavailable:
                faults.append(Fault(rec, "a non-renewable resource (a budget) has no unavailable spans"))
            for s, e, u in res.unavailable:
                if not 0 <= s < e <= self.horizon:
                    faults.append(Fault(rec, f"unavailable span [{s}, {e}) is outside [0, {self.horizon})"))
                if not 0 < u <= res.capacity:
                    faults.append(Fault(rec, f"unavailable units {u} must be in 1..capacity"))
        for b, budget in enumerate(self.budgets):
            rec = f"budget {b} ({budget.name})"
            last = 0
            for s, e, cap in budget.windows:
                if not last <= s < e <= self.horizon:
                    faults.append(Fault(rec, f"window [{s}, {e}) is not after the one before and inside "
                                        f"[0, {self.horizon}]", "windows"))
                if cap < 0:
                    faults.append(Fault(rec, f"window [{s}, {e}) has a negative capacity {cap}", "windows"))
                last = max(last, e)
        n_res = len(self.resources)
        for j, task in enumerate(self.tasks):
            rec = f"task {j} ({task.name})"
            if not task.modes:
                faults.append(Fault(rec, "has no mode", "modes"))
            if task.weight < 0:
                faults.append(Fault(rec, "weight cannot be negative", "weight"))
            if task.release < 0:
                faults.append(Fault(rec, "release cannot be negative", "release"))
            if task.anchor is not None and task.anchor < 0:
                faults.append(Fault(rec, f"anchor cannot be negative, got {task.anchor}", "anchor"))
            if task.modes and all(task.release + m.duration > self.horizon for m in task.modes):
                faults.append(Fault(rec, f"no mode can end within the horizon {self.horizon}", "duration"))
            for m, mode in enumerate(task.modes):
                if mode.duration < 0:
                    faults.append(Fault(rec, f"mode {m} has a negative duration", "duration"))
                if not 0 <= mode.setup <= max(0, mode.duration):
                    faults.append(Fault(rec, f"mode {m} has set-up {mode.setup} outside 0..duration", "setup"))
                for b, rate in mode.costs:
                    if not 0 <= b < len(self.budgets):
                        faults.append(Fault(rec, f"mode {m} spends from unknown budget {b}", "costs"))
                    elif rate < 0:
                        faults.append(Fault(rec, f"mode {m} spends a negative amount {rate} per period", "costs"))
                for r, units in mode.demands:
                    if not 0 <= r < n_res:
                        faults.append(Fault(rec, f"mode {m} uses unknown resource {r}", "demands"))
                    elif not 0 < units <= self.resources[r].capacity:
                        faults.append(Fault(rec, f"mode {m} needs {units} of {self.resources[r].name}, which has "
                                            f"{self.resources[r].capacity}", "demands"))
            if task.deadline is not None and task.deadline < task.release + min(
                (m.duration for m in task.modes), default=0
            ):
                faults.append(Fault(rec, "deadline is before the earliest possible end", "deadline"))
        n = len(self.tasks)
        for p in self.precedences:
            if not (0 <= p.pred < n and 0 <= p.succ < n):
                faults.append(Fault(f"precedence {p.pred}->{p.succ}", "names a task that does not exist"))
            elif p.pred == p.succ:
                faults.append(Fault(f"precedence {p.pred}->{p.succ}", "links a task to itself"))
        for k, obj in enumerate(self.then):
            if obj in (self.objective, *self.then[:k]):
                faults.append(Fault("problem", f"objective {obj.value} is ranked twice", "then"))
        return faults

    def replace(self, **changes: Any) -> Problem:
        """A copy with ``changes`` (for what-if questions), validated again."""
        return dataclasses.replace(self, **changes)

    @property
    def topological_order(self) -> tuple[int, ...]:
        return self._topo

    @cached_property
    def predecessors(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """For each task, its (predecessor, lag) pairs."""
        preds: list[list[tuple[int, int]]] = [[] for _ in self.tasks]
        for p in self.precedences:
            preds[p.succ].append((p.pred, p.lag))
        return tuple(tuple(x) for x in preds)

    @cached_property
    def successors(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """For each task, its (successor, lag) pairs."""
        succs: list[list[tuple[int, int]]] = [[] for _ in self.tasks]
        for p in self.precedences:
            succs[p.pred].append((p.succ, p.lag))
        return tuple(tuple(x) for x in succs)

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """The objectives in lexicographic order: ``objective`` first, then ``then``."""
        return (self.objective, *self.then)

    @cached_property
    def anchored(self) -> tuple[int, ...]:
        """Indices of the tasks with an anchor (a start in a previous plan)."""
        return tuple(j for j, t in enumerate(self.tasks) if t.anchor is not None)

    @cached_property
    def renewable(self) -> tuple[int, ...]:
        """Indices of the renewable resources (pools per period)."""
        return tuple(r for r, res in enumerate(self.resources) if res.renewable)

    @cached_property
    def non_renewable(self) -> tuple[int, ...]:
        """Indices of the non-renewable resources (budgets for the whole plan)."""
        return tuple(r for r, res in enumerate(self.resources) if not res.renewable)

    @cached_property
    def has_period_budgets(self) -> bool:
        """Whether some mode spends from a budget per period (``PeriodBudget``)."""
        return bool(self.budgets) and any(m.costs for t in self.tasks for m in t.modes)

    def capacity_profile(self, r: int) -> list[int]:
        """Capacity of resource ``r`` in each period of the horizon."""
        res = self.resources[r]
        cap = [res.capacity] * self.horizon
        for s, e, u in res.unavailable:
            for t in range(s, e):
                cap[t] -= u
        return cap


@dataclass(frozen=True, eq=False)
class Units:
    """The units (teams, brigades) behind a problem's renewable pools, for plans with set-up paid per change of role
    (teams by capabilities): ``units[r]`` the unit ids of resource ``r`` (empty for a budget), ``roles`` each unit's
    roles it can work in, ``home`` its own role (no set-up in it), ``setup`` the periods a unit needs to take up
    another role (as ``solution.check_units``). ``solve(..., units=...)``: the priority search decodes its orders
    on these units (``evolve.unit_decode``)."""

    units: tuple[tuple[str, ...], ...]
    roles: Mapping[str, frozenset[str]]
    home: Mapping[str, str]
    setup: int

    def __post_init__(self) -> None:
        faults = []
        if self.setup < 0:
            faults.append(Fault("units", f"set-up cannot be negative, got {self.setup}", "setup"))
        seen: set[str] = set()
        for r, ids in enumerate(self.units):
            for u in ids:
                if u in seen:
                    faults.append(Fault(f"unit {u}", f"is listed twice (again in resource {r})", "units"))
                seen.add(u)
        ValidationError.raise_if("units", faults)

    def fits(self, problem: Problem) -> bool:
        """Whether these are units of ``problem``: a list per resource, as many units as each renewable pool's
        capacity."""
        return len(self.units) == len(problem.resources) and all(
            len(ids) == res.capacity for ids, res in zip(self.units, problem.resources, strict=True)
            if res.renewable)


def _topological_order(n: int, precedences: Sequence[Precedence]) -> list[int] | None:
    indeg = [0] * n
    succs: list[list[int]] = [[] for _ in range(n)]
    for p in precedences:
        succs[p.pred].append(p.succ)
        indeg[p.succ] += 1
    stack = [j for j in range(n - 1, -1, -1) if indeg[j] == 0]
    order: list[int] = []
    while stack:
        j = stack.pop()
        order.append(j)
        for k in succs[j]:
            indeg[k] -= 1
            if indeg[k] == 0:
                stack.append(k)
    return order if len(order) == n else None
