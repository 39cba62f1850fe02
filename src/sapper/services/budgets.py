"""Plans under annual budgets (``sapper plan --budget-per-year demining=AMOUNT,reconstruction=AMOUNT``).

Each budget becomes a :class:`~sapper.plan.PeriodBudget` with one window per calendar year of the plan's calendar
(the first year from the plan's start, each later one from its first working day), holding the year's amount in
whole currency units. Every work mode spends, per working day it runs, its lot's cost at the programme's prices
(``services.costs``: overheads included) divided by its working days, rounded *up* to a whole unit, so the engine
never counts less than ``sapper costs`` reports: a plan the checker accepts spends at most the budget in every year,
as ``sapper costs`` counts it too. Demining lots (NTS, TS, EOD, clearance) spend the demining budget, repair lots the
reconstruction budget; a family without a budget is not capped.

A lot whose cheapest mode costs more than a year's budget is refused before solving (ValidationError naming every
such lot): a lot crossing New Year could in principle be paid from two years, but survey and clearance stand down
in winter, so it rarely can.

A budget can stretch a plan over more years than the usual horizon: the register is compiled again with a horizon
long enough to spend the cheapest plan's cost at the yearly amounts (plus the usual slack).

What the budget delays is found by planning the same register without budgets, with the same engine and limits
(so a budget-capped plan takes two solves) and comparing each release's and restoration's date
(:class:`BudgetEffect`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sapper.domain.assets import Asset
from sapper.domain.pricing import Family, PricingProfile
from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.plan import Mode, PeriodBudget, Problem, Task
from sapper.scenario.compile import CompiledPlan, TaskKind
from sapper.services.costs import TaskCost, WorkingDays, family_of, task_direct_cost
from sapper.store.records import PlannedTask

#: The most calendar years a budget-capped plan may take (a longer one is refused: raise the budgets).
MAX_YEARS = 50


@dataclass(frozen=True, slots=True)
class AnnualBudgets:
    """Money per calendar year for demining and for reconstruction, in the pricing profile's currency (None: not
    capped)."""

    demining: float | None = None
    reconstruction: float | None = None

    def __post_init__(self) -> None:
        faults = [
            Fault(msg("budget"), msg("{name} budget must be positive, got {value:g}", name=name, value=value), name)
            for name, value in (("demining", self.demining), ("reconstruction", self.reconstruction))
            if value is not None and not value > 0
        ]
        ValidationError.raise_if("--budget-per-year", faults)

    @property
    def any(self) -> bool:
        return self.demining is not None or self.reconstruction is not None

    def of(self, family: Family) -> float | None:
        return self.demining if family is Family.DEMINING else self.reconstruction

    def describe(self, currency: str) -> str:
        parts = [f"{f.value} {amount:,.0f} {currency}" for f in Family if (amount := self.of(f)) is not None]
        return ", ".join(parts) + " per calendar year"


def parse_budgets(text: str) -> AnnualBudgets:
    """``demining=AMOUNT,reconstruction=AMOUNT`` (either or both; amounts may use ``_`` or end in ``k``/``m``)."""
    values: dict[str, float] = {}
    faults: list[Fault] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep or key not in ("demining", "reconstruction"):
            faults.append(Fault("--budget-per-year", msg("{value}: use demining=AMOUNT and/or reconstruction=AMOUNT",
                                                         value=repr(part))))
            continue
        amount = parse_amount(raw)
        if amount is None:
            faults.append(
                Fault("--budget-per-year", msg("{key}: {value} is not an amount (e.g. 25000000, 25m, 750k)", key=key,
                                               value=repr(raw.strip())), key)
            )
        elif key in values:
            faults.append(Fault("--budget-per-year", msg("{key} is given twice", key=key), key))
        else:
            values[key] = amount
    if not values and not faults:
        faults.append(Fault("--budget-per-year",
                            msg("name at least one budget: demining=AMOUNT or reconstruction=AMOUNT")))
    ValidationError.raise_if("--budget-per-year", faults)
    return AnnualBudgets(values.get("demining"), values.get("reconstruction"))


def parse_amount(raw: str) -> float | None:
    """``25000000``, ``25_000_000``, ``25m``, ``750k``; None when it is not a finite amount."""
    text = raw.strip().lower().replace("_", "")
    scale = 1.0
    if text.endswith(("k", "m")):
        scale = 1e3 if text.endswith("k") else 1e6
        text = text[:-1]
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def mode_cost(
    pricing: PricingProfile, compiled: CompiledPlan, j: int, mode: Mode, assets: Mapping[str, Asset]
) -> float:
    """The cost (overheads included) of task ``j`` of ``compiled`` run in ``mode``, as ``sapper costs`` prices it."""
    info = compiled.info[j]
    if not mode.duration or info.kind in (TaskKind.RELEASED, TaskKind.RESTORED):
        return 0.0
    asset = assets.get(info.asset_id) if info.asset_id is not None else None
    direct = task_direct_cost(
        pricing, info.kind, mode.name, work=info.work, team_days=float(mode.duration), asset=asset
    )
    return pricing.with_overheads(direct, family_of(info.kind))


def years_needed(
    compiled: CompiledPlan, pricing: PricingProfile, budgets: AnnualBudgets, assets: Mapping[str, Asset]
) -> int:
    """Calendar years the cheapest modes of every task need at the yearly amounts (at least 1)."""
    need = {Family.DEMINING: 0.0, Family.RECONSTRUCTION: 0.0}
    for j, task in enumerate(compiled.problem.tasks):
        need[family_of(compiled.info[j].kind)] += min(mode_cost(pricing, compiled, j, m, assets) for m in task.modes)
    years = [need[f] / amount for f in Family if (amount := budgets.of(f)) is not None]
    count = max(1, math.ceil(max(years, default=0.0)))
    if count > MAX_YEARS:
        raise ValidationError(
            "--budget-per-year",
            [
                Fault(
                    "--budget-per-year",
                    f"the work would take {count} years at these budgets (more than {MAX_YEARS}): raise them",
                )
            ],
        )
    return count


def with_budgets(
    compiled: CompiledPlan, pricing: PricingProfile, budgets: AnnualBudgets, assets: Mapping[str, Asset], *,
    spent: Mapping[Family, float] | None = None,
) -> CompiledPlan:
    """``compiled`` with one budget per calendar year for each family ``budgets`` caps (module docstring);
    ``spent``: what each family has already spent in the first calendar year before the plan's start (a re-plan's
    year so far), taken off that year's window."""
    problem = compiled.problem
    cal = compiled.calendar
    families = [f for f in Family if budgets.of(f) is not None]
    index = {f: k for k, f in enumerate(families)}
    last = cal.date_of(problem.horizon - 1)
    budget_list = []
    for f in families:
        amount = math.floor(budgets.of(f) or 0.0)
        windows = []
        for year in range(cal.start.year, last.year + 1):
            a = 0 if year == cal.start.year else cal.index_of(dt.date(year, 1, 1))
            z = min(problem.horizon, cal.index_of(dt.date(year + 1, 1, 1)))
            left = max(0, math.floor(amount - (spent or {}).get(f, 0.0))) if year == cal.start.year else amount
            if a < z:
                windows.append((a, z, left))
        budget_list.append(PeriodBudget(f.value, tuple(windows)))
    tasks = []
    too_dear: list[Fault] = []
    for j, task in enumerate(problem.tasks):
        family = family_of(compiled.info[j].kind)
        if family not in index:
            tasks.append(task)
            continue
        cheapest = min(mode_cost(pricing, compiled, j, m, assets) for m in task.modes)
        yearly = budgets.of(family) or 0.0
        if cheapest > yearly:
            too_dear.append(
                Fault(
                    f"lot {task.name}",
                    f"costs {cheapest:,.0f} {pricing.currency}, more than a year's "
                    f"{family.value} budget ({yearly:,.0f} {pricing.currency})",
                )
            )
        modes = []
        for mode in task.modes:
            cost = mode_cost(pricing, compiled, j, mode, assets)
            rate = math.ceil(cost / mode.duration - 1e-9) if mode.duration and cost > 0 else 0
            modes.append(dataclasses.replace(mode, costs=((index[family], rate),) if rate else ()))
        tasks.append(Task(task.name, tuple(modes), task.weight, task.release, task.deadline, task.anchor))
    ValidationError.raise_if("--budget-per-year", too_dear)
    capped: Problem = problem.replace(tasks=tuple(tasks), budgets=tuple(budget_list))
    return dataclasses.replace(compiled, problem=capped)


@dataclass(frozen=True, slots=True)
class BudgetEffect:
    """What the budgets delay against the plan without them: the finish, and each release and restoration."""

    finish: dt.date | None
    unconstrained_finish: dt.date | None
    milestones: int
    delayed: int
    max_delay_days: int
    mean_delay_days: float
    most_delayed: tuple[tuple[str, dt.date, dt.date], ...]  # (hazard or asset id, without budgets, with them)

    @property
    def finish_delay_days(self) -> int | None:
        if self.finish is None or self.unconstrained_finish is None:
            return None
        return (self.finish - self.unconstrained_finish).days


def budget_effect(
    capped: tuple[PlannedTask, ...],
    free: tuple[PlannedTask, ...],
    *,
    finish: dt.date | None,
    free_finish: dt.date | None,
) -> BudgetEffect:
    """Compare the release and restoration dates of the budget-capped plan with those of the plan without budgets."""

    def dates(tasks: tuple[PlannedTask, ...]) -> dict[str, dt.date]:
        return {
            f"{t.kind.value} {t.hazard_id or t.asset_id}": t.end_date
            for t in tasks
            if t.kind in (TaskKind.RELEASED, TaskKind.RESTORED)
        }

    with_b, without = dates(capped), dates(free)
    delays = sorted((((with_b[k] - without[k]).days, k) for k in with_b if k in without), reverse=True)
    late = [(d, k) for d, k in delays if d > 0]
    return BudgetEffect(
        finish=finish,
        unconstrained_finish=free_finish,
        milestones=len(delays),
        delayed=len(late),
        max_delay_days=late[0][0] if late else 0,
        mean_delay_days=sum(d for d, _ in late) / len(late) if late else 0.0,
        most_delayed=tuple((k.split(" ", 1)[1], without[k], with_b[k]) for _, k in late[:5]),
    )


def spent_before(costs: Sequence[TaskCost], day: dt.date, *, weekdays: frozenset[int],
                 holidays: frozenset[dt.date]) -> dict[Family, float]:
    """What the priced lots ``costs`` (a plan's, ``services.costs``) spend in ``day``'s calendar year before ``day``,
    per family: each lot's cost spread evenly over its working days, as ``sapper costs`` spreads it."""
    days = WorkingDays(weekdays, holidays)
    first = dt.date(day.year, 1, 1)
    out: dict[Family, float] = {}
    for c in costs:
        if c.start_date >= day or c.end_date < first or c.total <= 0:
            continue
        share = dict(days.spread(c.start_date, min(c.end_date, day - dt.timedelta(days=1)), 1.0))
        worked = days.between(c.start_date, min(c.end_date, day - dt.timedelta(days=1)))
        whole = days.between(c.start_date, c.end_date)
        out[c.family] = out.get(c.family, 0.0) + c.total * share.get(day.year, 0.0) * worked / whole
    return out
