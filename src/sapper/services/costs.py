"""What a plan costs (``sapper costs``): every lot priced by the programme's pricing profile, broken down by year,
organisation, district, method and asset class; cost per km² released and per asset restored; and what the cheapest
clearance method per area would save and cost in time.

How a lot is priced (``sapper.domain.pricing``): NTS and EOD spot tasks per task, TS and clearance per m² or per
team-day of the method; a repair lot as its share of its asset's price (the lot's builder-days over the asset's),
at the asset's damage level. Overheads (QA, management, medical cover) are added by family (demining or
reconstruction). A lot's cost is spread evenly over its working days, so a lot that crosses New Year counts in both
years, as the budget constraint of ``sapper plan --budget-per-year`` counts it (``plan.PeriodBudget``).

The district of a lot is the smallest of the register's administrative areas (``admin_areas`` context layer) that
holds its site's representative point; the kursk-border demo holds only oblasts, so its districts are oblasts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import shapely

from sapper.domain.assets import Asset
from sapper.domain.hazards import HazardArea
from sapper.domain.pricing import Family, PricingProfile, ReleaseActivity
from sapper.domain.releaserules import ReleaseRules
from sapper.domain.resources import DeminerTeam, Method
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.jsontypes import JsonObject, JsonValue
from sapper.messages import msg
from sapper.scenario.compile import CompileParams, TaskKind, clearance_methods
from sapper.store import Store
from sapper.store.records import PlannedTask, PlanRun

#: The land-release activity a planned task's kind stands for (clearance: by the method it runs in).
_ACTIVITY: dict[TaskKind, ReleaseActivity] = {
    TaskKind.NTS: ReleaseActivity.NTS,
    TaskKind.TS: ReleaseActivity.TS,
    TaskKind.SURVEY: ReleaseActivity.TS,
    TaskKind.EOD: ReleaseActivity.EOD,
}

#: District of a site outside every administrative area the register holds.
NO_DISTRICT = "(no admin area)"
#: Organisation of a lot with no unit assigned.
NO_ORGANISATION = "(unassigned)"


def activity_of(kind: TaskKind, method: str) -> ReleaseActivity | None:
    """The priced land-release activity of a task of ``kind`` run by ``method`` (None: not land release)."""
    if kind is TaskKind.CLEARANCE:
        try:
            return ReleaseActivity(method)
        except ValueError:
            return None
    return _ACTIVITY.get(kind)


def task_direct_cost(
    pricing: PricingProfile, kind: TaskKind, method: str, *, work: float, team_days: float, asset: Asset | None = None
) -> float:
    """Direct cost of one lot: ``work`` (m², spot tasks, or builder-days of ``asset``'s repair) in ``team_days``.

    A repair lot costs its share of the asset's price: ``work`` over the asset's builder-days. Milestones cost 0.
    """
    if kind is TaskKind.REPAIR:
        if asset is None or asset.total_builder_days <= 0:
            return 0.0
        return pricing.asset_cost(asset) * min(1.0, work / asset.total_builder_days)
    activity = activity_of(kind, method)
    if activity is None:
        return 0.0
    tasks = work if kind is TaskKind.EOD else 1.0
    return pricing.release_cost(activity, m2=work, team_days=team_days, tasks=tasks)


def family_of(kind: TaskKind) -> Family:
    return Family.RECONSTRUCTION if kind in (TaskKind.REPAIR, TaskKind.RESTORED) else Family.DEMINING


def lot_cost(
    pricing: PricingProfile,
    kind: str,
    method: str,
    *,
    work: float,
    start: dt.date,
    end: dt.date,
    days: WorkingDays,
    asset: Asset | None = None,
) -> float:
    """The cost of one lot (overheads included) done from ``start`` to ``end`` (``days``: the plan's working days),
    as ``sapper costs`` prices it; 0 for a kind that is not work."""
    try:
        task_kind = TaskKind(kind)
    except ValueError:
        return 0.0
    direct = task_direct_cost(pricing, task_kind, method, work=work, team_days=days.between(start, end), asset=asset)
    return pricing.with_overheads(direct, family_of(task_kind))


@dataclass(frozen=True, slots=True)
class TaskCost:
    """One priced lot of a plan: what, who, where, when, and its cost by calendar year (overheads included)."""

    task_id: str
    kind: TaskKind
    family: Family
    method: str
    organisation_id: str
    district: str
    asset_class: str | None
    hazard_id: str | None
    asset_id: str | None
    start_date: dt.date
    end_date: dt.date
    team_days: int
    direct: float
    total: float
    by_year: tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True)
class CostLine:
    """One row of a breakdown: its key and total cost (overheads included), and the direct part of it."""

    key: str
    total: float
    direct: float


@dataclass(frozen=True, slots=True)
class MethodSaving:
    """For one hazard area: its planned clearance cost and team-days, and those of the cheapest suitable method."""

    hazard_id: str
    planned_methods: tuple[str, ...]
    planned_cost: float
    planned_team_days: float
    cheapest_method: str
    cheapest_cost: float
    cheapest_team_days: float

    @property
    def saving(self) -> float:
        return self.planned_cost - self.cheapest_cost

    @property
    def extra_team_days(self) -> float:
        return self.cheapest_team_days - self.planned_team_days


@dataclass(frozen=True)
class PlanCosts:
    """What a plan costs (module docstring): totals, breakdowns, unit costs and the cheapest-method comparison."""

    plan_id: int
    pricing_name: str
    currency: str
    price_year: int
    total: float
    direct: float
    demining: float
    reconstruction: float
    overheads: tuple[tuple[str, float, tuple[str, ...]], ...]
    by_year: tuple[CostLine, ...]
    #: The cost by calendar year of demining lots alone, and of repair lots alone (what the annual budgets cap).
    demining_by_year: tuple[CostLine, ...]
    reconstruction_by_year: tuple[CostLine, ...]
    by_organisation: tuple[CostLine, ...]
    by_district: tuple[CostLine, ...]
    by_method: tuple[CostLine, ...]
    by_asset_class: tuple[CostLine, ...]
    km2_released: float
    cost_per_km2_released: float | None
    assets_restored: int
    cost_per_asset_restored: float | None
    cheapest: tuple[MethodSaving, ...]
    tasks: tuple[TaskCost, ...]

    @property
    def cheapest_saving(self) -> float:
        return sum(s.saving for s in self.cheapest)

    @property
    def cheapest_extra_team_days(self) -> float:
        return sum(s.extra_team_days for s in self.cheapest)


def plan_costs(store: Store, pricing: PricingProfile, *, plan_id: int | None = None) -> PlanCosts:
    """The costs of the latest plan (or plan run ``plan_id``) in ``store`` at ``pricing``'s prices."""
    run = store.plan(plan_id) if plan_id is not None else store.latest_plan()
    if run is None or run.id is None:
        raise NotFoundError("the store holds no plan to price: run sapper plan first")
    hazards = {h.id: h for h in store.hazards()}
    assets = {a.id: a for a in store.assets()}
    teams = store.teams()
    orgs = {t.id: t.organisation_id for t in teams} | {b.id: b.organisation_id for b in store.brigades()}
    admin = [(a.name, a.geometry) for a in store.context_areas("admin_areas")]
    return price_run(
        run,
        pricing,
        hazards=hazards,
        assets=assets,
        organisations=orgs,
        admin_areas=admin,
        productivity=mean_productivity(teams),
        rules=store.release_rules(),
    )


def mean_productivity(teams: Iterable[DeminerTeam]) -> dict[Method, float]:
    """m² per team-day of each method's teams, on average (as the compiler plans them)."""
    rates: dict[Method, list[float]] = defaultdict(list)
    for t in teams:
        rates[t.method].append(t.productivity_m2_per_day)
    return {m: sum(v) / len(v) for m, v in rates.items()}


def price_run(
    run: PlanRun,
    pricing: PricingProfile,
    *,
    hazards: Mapping[str, HazardArea],
    assets: Mapping[str, Asset],
    organisations: Mapping[str, str],
    admin_areas: Sequence[tuple[str, shapely.Geometry]],
    productivity: Mapping[Method, float],
    rules: ReleaseRules | None = None,
) -> PlanCosts:
    """Price every lot of ``run`` (module docstring). ``productivity``: m² per team-day of each method's teams, and
    ``rules``: where the programme sends no dogs (default: the built-in rules), for the cheapest-method comparison."""
    if run.id is None:
        raise ValidationError(msg("plan"), [Fault(msg("plan"), msg("is not saved"))])
    params = run.params.compile_params()
    if rules is not None:
        params = dataclasses.replace(
            params,
            dog_excluded_devices=rules.dog_excluded_devices,
            dog_excluded_land_uses=rules.dog_excluded_land_uses,
            dog_excluded_hazards=rules.dog_excluded_hazards,
        )
    calendar_days = WorkingDays(params.weekdays, params.holidays)
    district_of = _Districts(admin_areas)
    priced: list[TaskCost] = []
    for t in run.tasks:
        if t.kind in (TaskKind.RELEASED, TaskKind.RESTORED):
            continue
        asset = assets.get(t.asset_id) if t.asset_id is not None else None
        hazard = hazards.get(t.hazard_id) if t.hazard_id is not None else None
        days = calendar_days.between(t.start_date, t.end_date)
        direct = task_direct_cost(pricing, t.kind, t.mode, work=t.work, team_days=days, asset=asset)
        family = family_of(t.kind)
        total = pricing.with_overheads(direct, family)
        site = asset.geometry if asset is not None else hazard.geometry if hazard is not None else None
        units = [u for u in (t.unit_id or "").split(",") if u]
        org = (
            organisations.get(units[0], NO_ORGANISATION)
            if units
            else (hazard.organisation_id if hazard is not None and hazard.organisation_id else NO_ORGANISATION)
        )
        priced.append(
            TaskCost(
                task_id=t.task_id,
                kind=t.kind,
                family=family,
                method=_method_label(t),
                organisation_id=org,
                district=district_of(site),
                asset_class=asset.asset_type.value if asset is not None else None,
                hazard_id=t.hazard_id,
                asset_id=t.asset_id,
                start_date=t.start_date,
                end_date=t.end_date,
                team_days=days,
                direct=direct,
                total=total,
                by_year=calendar_days.spread(t.start_date, t.end_date, total),
            )
        )
    released = {t.hazard_id for t in run.tasks if t.kind is TaskKind.RELEASED and t.hazard_id is not None}
    restored = {t.asset_id for t in run.tasks if t.kind is TaskKind.RESTORED and t.asset_id is not None}
    km2 = sum(hazards[h].area_m2 for h in released if h in hazards) / 1e6
    demining = sum(c.total for c in priced if c.family is Family.DEMINING)
    reconstruction = sum(c.total for c in priced if c.family is Family.RECONSTRUCTION)
    return PlanCosts(
        plan_id=run.id,
        pricing_name=pricing.name,
        currency=pricing.currency,
        price_year=pricing.price_year,
        total=demining + reconstruction,
        direct=sum(c.direct for c in priced),
        demining=demining,
        reconstruction=reconstruction,
        overheads=tuple((o.name, o.share, tuple(f.value for f in o.applies_to)) for o in pricing.overheads),
        by_year=_years(priced),
        demining_by_year=_years([c for c in priced if c.family is Family.DEMINING]),
        reconstruction_by_year=_years([c for c in priced if c.family is Family.RECONSTRUCTION]),
        by_organisation=_lines(priced, lambda c: c.organisation_id),
        by_district=_lines(priced, lambda c: c.district),
        by_method=_lines(priced, lambda c: c.method),
        by_asset_class=_lines([c for c in priced if c.asset_class is not None], lambda c: c.asset_class or ""),
        km2_released=km2,
        cost_per_km2_released=demining / km2 if km2 > 0 else None,
        assets_restored=len(restored),
        cost_per_asset_restored=reconstruction / len(restored) if restored else None,
        cheapest=tuple(_cheapest(run.tasks, pricing, hazards, params, productivity, calendar_days)),
        tasks=tuple(priced),
    )


def _years(priced: Sequence[TaskCost]) -> tuple[CostLine, ...]:
    """Totals by calendar year (each lot's share by its working days in the year), in year order."""
    years: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for c in priced:
        for year, amount in c.by_year:
            years[str(year)][0] += amount
            years[str(year)][1] += amount * (c.direct / c.total if c.total else 0.0)
    return tuple(CostLine(k, v[0], v[1]) for k, v in sorted(years.items()))


def _method_label(t: PlannedTask) -> str:
    """How a lot's work is done, for the breakdown by method: NTS, TS, EOD, the clearance method, or the trade."""
    if t.kind is TaskKind.CLEARANCE:
        return t.mode or "clearance"
    if t.kind is TaskKind.REPAIR:
        return f"repair: {t.mode}" if t.mode else "repair"
    return t.kind.value


def _lines(priced: Sequence[TaskCost], key: Callable[[TaskCost], str]) -> tuple[CostLine, ...]:
    """Totals by ``key`` (a function of a task cost), largest first."""
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for c in priced:
        row = out[key(c)]
        row[0] += c.total
        row[1] += c.direct
    return tuple(sorted((CostLine(k, v[0], v[1]) for k, v in out.items()), key=lambda x: (-x.total, x.key)))


def _cheapest(
    tasks: Sequence[PlannedTask],
    pricing: PricingProfile,
    hazards: Mapping[str, HazardArea],
    params: CompileParams,
    productivity: Mapping[Method, float],
    days: WorkingDays,
) -> list[MethodSaving]:
    """Per hazard area with clearance lots: the planned clearance against the cheapest method suited to it (same
    m², the method's own team-days at its teams' mean productivity), where the cheapest differs from the plan."""
    lots: dict[str, list[PlannedTask]] = defaultdict(list)
    for t in tasks:
        if t.kind is TaskKind.CLEARANCE and t.hazard_id is not None and t.hazard_id in hazards:
            lots[t.hazard_id].append(t)
    out: list[MethodSaving] = []
    for hid, its in sorted(lots.items()):
        methods = [m for m in clearance_methods(hazards[hid], params) if productivity.get(m, 0.0) > 0]
        if not methods:
            continue
        planned_cost = 0.0
        planned_days = 0.0
        area = 0.0
        for t in its:
            d = days.between(t.start_date, t.end_date)
            planned_cost += pricing.with_overheads(
                task_direct_cost(pricing, t.kind, t.mode, work=t.work, team_days=d), Family.DEMINING
            )
            planned_days += d
            area += t.work
        options = []
        for m in methods:
            team_days = sum(math.ceil(t.work / productivity[m]) for t in its)
            cost = pricing.with_overheads(
                pricing.release_cost(ReleaseActivity(m.value), m2=area, team_days=team_days), Family.DEMINING
            )
            options.append((cost, team_days, m.value))
        cost, team_days, method = min(options)
        if cost < planned_cost - 0.005:
            out.append(
                MethodSaving(
                    hid,
                    tuple(sorted({t.mode for t in its})),
                    planned_cost,
                    planned_days,
                    method,
                    cost,
                    float(team_days),
                )
            )
    return out


class WorkingDays:
    """Working days between two dates of a plan's calendar (its week and holidays), and a cost spread over them."""

    def __init__(self, weekdays: frozenset[int], holidays: frozenset[dt.date]) -> None:
        self.weekdays = weekdays
        self.holidays = holidays

    def _days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        n = (end - start).days + 1
        days = [start + dt.timedelta(days=i) for i in range(max(0, n))]
        return [d for d in days if d.weekday() in self.weekdays and d not in self.holidays]

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days from ``start`` to ``end``, both included (at least 1: a lot takes a day)."""
        return max(1, len(self._days(start, end)))

    def spread(self, start: dt.date, end: dt.date, amount: float) -> tuple[tuple[int, float], ...]:
        """``amount`` spread evenly over the working days from ``start`` to ``end``, summed by calendar year."""
        days = self._days(start, end) or [start]
        per_year: dict[int, int] = defaultdict(int)
        for d in days:
            per_year[d.year] += 1
        return tuple((y, amount * n / len(days)) for y, n in sorted(per_year.items()))


class _Districts:
    """The smallest administrative area holding a site's representative point."""

    def __init__(self, areas: Sequence[tuple[str, shapely.Geometry]]) -> None:
        self.areas = sorted(areas, key=lambda a: shapely.area(a[1]))
        self.cache: dict[str, str] = {}

    def __call__(self, geom: shapely.Geometry | None) -> str:
        if geom is None:
            return NO_DISTRICT
        key = geom.wkb_hex
        if key not in self.cache:
            point = geom.representative_point()
            self.cache[key] = next((name for name, area in self.areas if area.covers(point)), NO_DISTRICT)
        return self.cache[key]


def _money(x: float) -> float:
    return round(x, 2)


def _rows(lines: Sequence[CostLine]) -> list[JsonValue]:
    return [{"key": x.key, "total": _money(x.total), "direct": _money(x.direct)} for x in lines]


def costs_document(c: PlanCosts) -> JsonObject:
    """``c`` as the JSON of ``sapper costs --json`` (amounts in ``currency`` at ``price_year`` prices, to the cent)."""
    return {
        "plan_id": c.plan_id,
        "pricing": c.pricing_name,
        "currency": c.currency,
        "price_year": c.price_year,
        "total": _money(c.total),
        "direct": _money(c.direct),
        "demining": _money(c.demining),
        "reconstruction": _money(c.reconstruction),
        "overheads": [{"name": n, "share": s, "applies_to": list(f)} for n, s, f in c.overheads],
        "by_year": _rows(c.by_year),
        "demining_by_year": _rows(c.demining_by_year),
        "reconstruction_by_year": _rows(c.reconstruction_by_year),
        "by_organisation": _rows(c.by_organisation),
        "by_district": _rows(c.by_district),
        "by_method": _rows(c.by_method),
        "by_asset_class": _rows(c.by_asset_class),
        "km2_released": round(c.km2_released, 4),
        "cost_per_km2_released": None if c.cost_per_km2_released is None else _money(c.cost_per_km2_released),
        "assets_restored": c.assets_restored,
        "cost_per_asset_restored": None if c.cost_per_asset_restored is None else _money(c.cost_per_asset_restored),
        "cheapest_method": {
            "saving": _money(c.cheapest_saving),
            "extra_team_days": c.cheapest_extra_team_days,
            "areas": [
                {
                    "hazard_id": s.hazard_id,
                    "planned_methods": list(s.planned_methods),
                    "planned_cost": _money(s.planned_cost),
                    "planned_team_days": s.planned_team_days,
                    "cheapest_method": s.cheapest_method,
                    "cheapest_cost": _money(s.cheapest_cost),
                    "cheapest_team_days": s.cheapest_team_days,
                    "saving": _money(s.saving),
                }
                for s in c.cheapest
            ],
        },
    }
