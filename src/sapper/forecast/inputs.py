"""What the forecast needs to know of a plan, generically: typed arrays over the problem's tasks.

The service layer builds these from a compiled register and a saved plan; ``forecast`` knows no scenario or store.
Groups are methods and trades (the programme-wide factors), units are teams and brigades (the per-unit factors),
hazards and assets are what the milestones report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from sapper.errors import Fault, ValidationError
from sapper.forecast.model import SurveyClass
from sapper.plan.problem import Problem

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


class WorkKind(IntEnum):
    """What a task is, for the forecast."""

    MILESTONE = 0
    SURVEY = 1
    CLEARANCE = 2
    REPAIR = 3


@dataclass(frozen=True, eq=False)
class ForecastTasks:
    """A plan's tasks for the Monte Carlo, all arrays indexed by problem task.

    - ``kind``: :class:`WorkKind` codes; ``group``: index into ``groups`` (method or trade), −1 for milestones;
      ``unit``: index of the planned team or brigade (0 … ``units`` − 1), −1 if none;
      ``base_days``: planned duration in working days; ``hazard`` / ``asset``: index of the hazard area or asset the
      task belongs to, −1 if none.
    - per hazard: ``hazard_class``, ``planned_share`` (share planned for clearance), ``hazard_area_m2``,
      ``released`` (its release milestone task); per asset: ``asset_class``, ``restored`` (its milestone task).
    - ``modes``: the mode each task runs in (as planned); ``order``: the plan's start order (every predecessor first).
    - ``weather_groups``: the groups whose pools stand down in bad weather and have accidents (demining).
    - ``tilt`` (per hazard, optional): the contamination model's probability that the area holds devices over the
      mean probability of its class; the area's expected share left for clearance is scaled by it (an area twice as
      likely as its class to hold devices keeps, on average, twice the share for clearance; at most the whole area).
      None: 1.
    """

    kind: Ints
    group: Ints
    unit: Ints
    base_days: Floats
    hazard: Ints
    asset: Ints
    groups: tuple[str, ...]
    units: int
    hazard_class: tuple[SurveyClass, ...]
    planned_share: Floats
    hazard_area_m2: Floats
    released: Ints
    asset_class: tuple[str, ...]
    restored: Ints
    modes: tuple[int, ...]
    order: Ints
    weather_groups: frozenset[str]
    tilt: Floats | None = None

    def validate(self, problem: Problem) -> None:
        """Every inconsistency with ``problem`` at once, as a ValidationError."""
        n = len(problem.tasks)
        faults: list[Fault] = []
        rec = "forecast input"
        for name in ("kind", "group", "unit", "base_days", "hazard", "asset", "order"):
            if len(getattr(self, name)) != n:
                faults.append(Fault(rec, f"{name} has {len(getattr(self, name))} entries for {n} tasks", name))
        if len(self.modes) != n:
            faults.append(Fault(rec, f"modes has {len(self.modes)} entries for {n} tasks", "modes"))
        h = len(self.hazard_class)
        if self.tilt is not None and (len(self.tilt) != h or not np.all(np.isfinite(self.tilt))
                                      or np.any(self.tilt <= 0)):
            faults.append(Fault(rec, f"tilt needs {h} finite entries > 0, one per hazard area", "tilt"))
        for name in ("planned_share", "hazard_area_m2", "released"):
            if len(getattr(self, name)) != h:
                faults.append(Fault(rec, f"{name} has {len(getattr(self, name))} entries for {h} hazard areas", name))
        if len(self.restored) != len(self.asset_class):
            faults.append(Fault(rec, "restored and asset_class differ in length", "restored"))
        ValidationError.raise_if(rec, faults)
        if sorted(self.order.tolist()) != list(range(n)):
            faults.append(Fault(rec, "order is not a permutation of the tasks", "order"))
        else:
            pos = np.empty(n, dtype=np.int64)
            pos[self.order] = np.arange(n)
            late = [p for p in problem.precedences if pos[p.pred] > pos[p.succ]]
            if late:
                faults.append(Fault(rec, f"order puts task {late[0].succ} ({problem.tasks[late[0].succ].name}) "
                                         f"before its predecessor {late[0].pred}", "order"))
        work = self.kind != WorkKind.MILESTONE
        if np.any(self.base_days[work] < 0) or not np.all(np.isfinite(self.base_days)):
            faults.append(Fault(rec, "base durations must be finite and ≥ 0", "base_days"))
        if np.any((self.group[work] < 0) | (self.group[work] >= len(self.groups))):
            faults.append(Fault(rec, "a work task has no method or trade group", "group"))
        if np.any(self.unit >= self.units):
            faults.append(Fault(rec, "a unit index is out of range", "unit"))
        clear = self.kind == WorkKind.CLEARANCE
        if np.any(self.hazard[clear] < 0) or np.any(self.planned_share[self.hazard[clear]] <= 0):
            faults.append(Fault(rec, "a clearance task needs a hazard area with a planned clearance share > 0",
                                "planned_share"))
        if np.any(self.asset[self.kind == WorkKind.REPAIR] < 0):
            faults.append(Fault(rec, "a repair task needs an asset", "asset"))
        ValidationError.raise_if(rec, faults)


@dataclass(frozen=True, eq=False)
class TaskCosts:
    """What each task costs in a run, for cost forecasts, all arrays indexed by problem task.

    A task costs ``per_day`` × its sampled working days (team-day prices: a slower lot costs more) plus ``fixed``
    (prices per m², per task, or an asset's price); ``fixed`` of a task with ``by_share`` grows with the run's
    survey outcome for its hazard area (the m² left for clearance). A run's cost in calendar year k is what its lots
    spend in periods [``year_starts[k]``, ``year_starts[k + 1]``) (the last to the horizon), each lot's cost spread
    evenly over its days. Amounts include overheads, in the pricing profile's currency.
    """

    per_day: Floats
    fixed: Floats
    by_share: npt.NDArray[np.bool_]
    year_starts: Ints
    years: tuple[int, ...]

    def validate(self, problem: Problem) -> None:
        n = len(problem.tasks)
        faults = [Fault("forecast costs", f"{name} has {len(getattr(self, name))} entries for {n} tasks", name)
                  for name in ("per_day", "fixed", "by_share") if len(getattr(self, name)) != n]
        if len(self.year_starts) != len(self.years) or (len(self.year_starts) and self.year_starts[0] != 0) \
                or np.any(np.diff(self.year_starts) <= 0):
            faults.append(Fault("forecast costs", "year_starts must start at 0 and rise, one per year", "years"))
        ValidationError.raise_if("forecast costs", faults)


@dataclass(frozen=True, eq=False)
class TaskBudgets:
    """The money per calendar year a plan was made under, for the Monte Carlo's re-scheduling: ``family[j]`` is the
    budget task j spends (an index into the rows of ``amounts``; −1: not capped) and ``amounts[b, y]`` what budget b
    holds in calendar year y of ``TaskCosts.years`` (the engine's ``PeriodBudget`` windows)."""

    family: Ints
    amounts: Floats

    def validate(self, problem: Problem, costs: TaskCosts) -> None:
        n, years = len(problem.tasks), len(costs.years)
        faults = []
        if len(self.family) != n:
            faults.append(Fault("forecast budgets", f"family has {len(self.family)} entries for {n} tasks", "family"))
        if self.amounts.ndim != 2 or self.amounts.shape[1] != years:
            faults.append(Fault("forecast budgets", f"amounts must have one column per year ({years})", "amounts"))
        elif len(self.family) and int(self.family.max(initial=-1)) >= self.amounts.shape[0]:
            faults.append(Fault("forecast budgets", "a task spends a budget that has no amounts", "family"))
        ValidationError.raise_if("forecast budgets", faults)
