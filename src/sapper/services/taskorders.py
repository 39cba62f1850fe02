"""Task orders from the latest plan (``sapper tasks``), their state changes (``sapper task-order``), and which
orders a later plan changes (``orders_affected``).

Issuing (:func:`issue_orders`): the lots of the latest plan that the chosen teams and brigades work in the period
(``--from``, by default the plan's status date — its start, or the as-of date of a re-plan — for ``--weeks``
weeks) are grouped by unit and site (a hazard area or an asset); each group becomes one order, numbered
``TO-<year>-<nnnn>``. A lot already held by an order of the same unit that is not cancelled, with the same dates,
is not ordered again: running the command twice for the same plan and period issues nothing new (and a longer
period orders only the lots it adds). All new orders are written in one transaction.

What an order says of its site is read from the register when it is written: the hazard area's class, devices
expected, land use and area (or the asset's type and damage), the other open hazard areas near it, the nearest road
(the register's road assets) and settlement, the nearest medical facility (the register's clinics; none: the form
leaves blank boxes), the assets waiting for the area's release (the same rule the planner uses: the asset's work
site, its geometry buffered by its work buffer, meets the area) or, for an asset, the areas it waited for.

The **access point** is the point of the site's perimeter nearest to the nearest road of the register (where the
road meets the perimeter, when it crosses the area); a site with no road in the register takes the point of its
perimeter nearest to the unit's base. It is fixed when the order is issued and kept with it.

Distances are measured in an equal-area projection centred on the register (the same ``LocalProjection`` the
planner uses for work sites); the direction of a feature is one of the 8 compass points as seen from the site.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from sapper.domain.assets import Asset, AssetType
from sapper.domain.geometry import LocalProjection
from sapper.domain.hazards import HazardArea, HazardStatus
from sapper.domain.places import Settlement
from sapper.domain.pricing import PricingProfile
from sapper.domain.resources import BuilderBrigade, DeminerTeam
from sapper.domain.taskorders import (
    ACCESS_FROM_BASE,
    ACCESS_FROM_ROAD,
    ACCIDENT_FORM,
    ACTIVE,
    FORMS,
    Nearby,
    OrderLot,
    OrderSheet,
    OrderSite,
    OrderState,
    SiteKind,
    TaskOrder,
    UnitRole,
    WaitingAsset,
)
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.jsontypes import JsonObject
from sapper.messages import msg
from sapper.scenario.compile import WORK_KINDS, TaskKind
from sapper.services.costs import WorkingDays, lot_cost
from sapper.services.fielddata import nearest_ids
from sapper.services.pricing import load_pricing
from sapper.store import Store
from sapper.store.records import PlannedTask, PlanRun

__all__ = ["IssueResult", "LotChangeKind", "OrderAction", "OrderChange", "OrderRequest", "OrderState", "UnitOrders",
           "change_state", "change_to_json", "issue_orders", "list_orders", "order_changes", "order_to_json",
           "orders_affected", "reported_to_json", "reported_under"]

NO_PLAN = msg("there is no plan yet: plan the register first (sapper plan)")
#: Other hazard areas and roads within this distance of a site are drawn on its map (metres).
NEAR_M = 1_500.0
#: At most this many neighbouring hazard areas are listed on a map.
MAX_NEIGHBOURS = 40
MAX_WEEKS = 52
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """Whose orders, for which period: one unit (``unit``: a team or brigade id), an organisation's units, or
    all; from ``start`` (None: the plan's status date) for ``weeks`` weeks."""

    unit: str | None = None
    organisation: str | None = None
    all_units: bool = False
    start: dt.date | None = None
    weeks: int = 2


@dataclass(frozen=True, slots=True)
class Unit:
    """A team or brigade as an order's header shows it."""

    id: str
    role: UnitRole
    organisation_id: str
    organisation: str
    speciality: str  # a team's method or a brigade's trade
    size: int
    base: Point


@dataclass(frozen=True, slots=True)
class UnitOrders:
    """One unit's orders for the period (new and already issued), by start date; ``new`` counts those issued now;
    ``next_lot`` is the unit's first lot after the period when it has none in it."""

    unit: Unit
    sheets: tuple[OrderSheet, ...]
    new: int
    next_lot: PlannedTask | None = None


class LotChangeKind(StrEnum):
    REMOVED = "removed"  # the later plan has no such lot (no longer needed): the order's work there is cancelled
    UNIT_CHANGED = "unit_changed"  # another team or brigade does it: the lot is handed over
    DATES_MOVED = "dates_moved"  # the same unit, other dates
    FINISHED = "finished"  # a re-plan holds it as history: reported done before the re-plan's as-of date


class OrderAction(StrEnum):
    """What the operations manager does with an order a later plan changes."""

    REISSUE = "re-issue"  # some of its work stays with the unit on other dates: issue anew, cancel this one
    CANCEL = "cancel"  # none of its work is left for the unit (handed over or no longer needed)
    COMPLETE = "complete"  # every lot is reported done


@dataclass(frozen=True, slots=True)
class LotChange:
    """How one lot of an order differs in a later plan (new values None when it was removed)."""

    task_id: str
    change: LotChangeKind
    old_unit: str
    old_start: dt.date
    old_end: dt.date
    new_unit: str | None = None
    new_start: dt.date | None = None
    new_end: dt.date | None = None


@dataclass(frozen=True, slots=True)
class OrderChange:
    """An order in force that a later plan changes: the order, the plan compared with, and each lot that differs."""

    number: str
    unit_id: str
    site_id: str
    order_plan_id: int
    plan_id: int
    lots: tuple[LotChange, ...]

    @property
    def action(self) -> OrderAction:
        """Complete it when every lot of it is done; cancel it when no lot is left for its unit (every lot handed
        over, no longer needed or done); else re-issue it (``sapper tasks`` orders the lots anew, then cancel it)."""
        kinds = {lot.change for lot in self.lots}
        if kinds == {LotChangeKind.FINISHED} and len(self.lots) == self.total_lots:
            return OrderAction.COMPLETE
        kept = self.total_lots - sum(1 for lot in self.lots if lot.change is not LotChangeKind.DATES_MOVED)
        return OrderAction.REISSUE if kept > 0 else OrderAction.CANCEL

    #: How many lots the order holds (the changed ones and those the later plan keeps as they were).
    total_lots: int = 0


@dataclass(frozen=True, slots=True)
class IssueResult:
    """What ``sapper tasks`` did: the plan and period, each chosen unit's orders, how many were issued now and how
    many were already issued, and the orders in force from earlier plans that this plan changes."""

    plan_id: int
    plan_created: dt.datetime
    synthetic: bool
    period_start: dt.date
    period_end: dt.date
    units: tuple[UnitOrders, ...]
    new: int
    kept: int
    changed: tuple[OrderChange, ...]


# ----------------------------------------------------------------------------------------------------
# Which orders a later plan changes
# ----------------------------------------------------------------------------------------------------


def _units_of(task: PlannedTask) -> list[str]:
    return [u.strip() for u in (task.unit_id or "").split(",") if u.strip()]


def order_changes(orders: Iterable[TaskOrder], plan: PlanRun) -> list[OrderChange]:
    """Of ``orders``, those whose lots ``plan`` does differently (removed, given to another unit, other dates), or
    whose lots a re-plan holds as all done, with each lot's old and new unit and dates. A lot a re-plan holds as
    history (ending before its as-of date) is finished; a lot under way on the as-of date, which the re-plan holds from
    that date, has moved only if its end moved; an order with some lots finished and the others as they were is not
    changed. Orders issued from ``plan`` itself are never changed by it."""
    assert plan.id is not None
    tasks = {t.task_id: t for t in plan.tasks}
    done_before = plan.params.replan.as_of if plan.params.replan is not None else None
    out = []
    for order in orders:
        if order.plan_run_id == plan.id:
            continue
        changes = []
        for lot in order.lots:
            task = tasks.get(lot.task_id)
            if task is None:
                changes.append(LotChange(lot.task_id, LotChangeKind.REMOVED, order.unit_id, lot.start, lot.end))
                continue
            units = _units_of(task)
            if done_before is not None and task.end_date < done_before:
                kind = LotChangeKind.FINISHED
            elif order.unit_id not in units:
                kind = LotChangeKind.UNIT_CHANGED
            elif (task.start_date, task.end_date) != (_from(lot.start, done_before), lot.end):
                kind = LotChangeKind.DATES_MOVED
            else:
                continue
            changes.append(LotChange(lot.task_id, kind, order.unit_id, lot.start, lot.end, ",".join(units) or None,
                                     task.start_date, task.end_date))
        finished = sum(1 for c in changes if c.change is LotChangeKind.FINISHED)
        if changes and (finished < len(changes) or finished == len(order.lots)):
            out.append(OrderChange(order.number, order.unit_id, order.site_id, order.plan_run_id, plan.id,
                                   tuple(changes), len(order.lots)))
    return out


def _from(start: dt.date, as_of: dt.date | None) -> dt.date:
    """A lot's start as a re-plan from ``as_of`` would keep it: a lot under way on that date continues from it."""
    return max(start, as_of) if as_of is not None else start


def orders_affected(store: Store, plan_id: int | None = None) -> list[OrderChange]:
    """The orders in force (issued or acknowledged) that plan ``plan_id`` (default: the latest) changes compared
    with the plan each was issued from: what a re-plan means for the orders given. See :func:`order_changes`."""
    plan = store.plan(plan_id) if plan_id is not None else store.latest_plan()
    if plan is None:
        raise NotFoundError(NO_PLAN)
    return order_changes(store.task_orders(states=ACTIVE), plan)


# ----------------------------------------------------------------------------------------------------
# Units
# ----------------------------------------------------------------------------------------------------


def _units(store: Store) -> dict[str, Unit]:
    names = {o.id: o.name for o in store.organisations()}
    units: dict[str, Unit] = {}
    teams: Sequence[DeminerTeam] = store.teams()
    brigades: Sequence[BuilderBrigade] = store.brigades()
    for t in teams:
        units[t.id] = Unit(t.id, UnitRole.TEAM, t.organisation_id, names.get(t.organisation_id, t.organisation_id),
                           t.method.value, t.size, t.base)
    for b in brigades:
        units[b.id] = Unit(b.id, UnitRole.BRIGADE, b.organisation_id, names.get(b.organisation_id, b.organisation_id),
                           b.trade.value, b.size, b.base)
    return units


def _chosen(store: Store, units: dict[str, Unit], request: OrderRequest) -> list[Unit]:
    given = sum((request.unit is not None, request.organisation is not None, request.all_units))
    if given != 1:
        raise ValidationError(msg("task orders"), [Fault("--team, --org or --all", msg(
            "name exactly one: a team or brigade (--team), an organisation (--org) or --all"))])
    if request.unit is not None:
        unit = units.get(request.unit.strip())
        if unit is None:
            near = nearest_ids(request.unit.strip(), units)
            raise NotFoundError(msg("{unit} is not a team or brigade; did you mean {near}?", unit=request.unit,
                                    near=", ".join(near[:3])) if near else
                                msg("{unit} is not a team or brigade in the store", unit=request.unit))
        return [unit]
    if request.organisation is not None:
        org = request.organisation.strip()
        names = {o.id: o.name for o in store.organisations()}
        wanted = org if org in names else next((i for i, n in names.items() if n.casefold() == org.casefold()), None)
        if wanted is None:
            near = nearest_ids(org, names)
            raise NotFoundError(msg("{org} is not an organisation; did you mean {near}?", org=org,
                                    near=", ".join(near[:3])) if near else
                                msg("{org} is not an organisation in the store", org=org))
        chosen = [u for u in units.values() if u.organisation_id == wanted]
        if not chosen:
            raise NotFoundError(msg("organisation {org} has no team or brigade", org=wanted))
        return sorted(chosen, key=lambda u: u.id)
    return sorted(units.values(), key=lambda u: u.id)


def status_date(plan: PlanRun) -> dt.date:
    """The plan's status date: the as-of date of a re-plan, else the plan's start."""
    if plan.params.replan is not None:
        return plan.params.replan.as_of
    return plan.start_date


# ----------------------------------------------------------------------------------------------------
# Sites: what the register says around them
# ----------------------------------------------------------------------------------------------------


def _direction(frm: Point, to: Point) -> str:
    angle = math.degrees(math.atan2(to.x - frm.x, to.y - frm.y)) % 360.0
    return _COMPASS[int((angle + 22.5) // 45) % 8]


class _Register:
    """The register's hazards, assets and settlements in one local projection, indexed for nearest searches."""

    def __init__(self, store: Store, plan: PlanRun) -> None:
        self.hazards = {h.id: h for h in store.hazards()}
        self.assets = {a.id: a for a in store.assets()}
        self.settlements: list[Settlement] = store.settlements()
        geoms = [h.geometry for h in self.hazards.values()] + [a.geometry for a in self.assets.values()]
        self.proj = LocalProjection.around(shapely.GeometryCollection(geoms)) if geoms else LocalProjection(0, 0)
        self.open_ids = [h.id for h in self.hazards.values() if h.status is HazardStatus.OPEN]
        self.h_local = {i: self.proj.to_local(self.hazards[i].geometry) for i in self.open_ids}
        self.h_tree = shapely.STRtree([self.h_local[i] for i in self.open_ids]) if self.open_ids else None
        self.a_ids = sorted(self.assets)
        self.a_local = {i: self.proj.to_local(self.assets[i].geometry) for i in self.a_ids}
        self.work_sites = {i: self.assets[i].work_site(self.proj) for i in self.a_ids}
        self.ws_tree = shapely.STRtree([self.work_sites[i] for i in self.a_ids]) if self.a_ids else None
        self.road_ids = [i for i in self.a_ids if self.assets[i].asset_type is AssetType.ROAD]
        self.clinic_ids = [i for i in self.a_ids if self.assets[i].asset_type is AssetType.CLINIC]
        self.s_local = [self.proj.to_local(s.point) for s in self.settlements]
        self.restored = {t.asset_id: t.end_date for t in plan.tasks if t.kind is TaskKind.RESTORED and t.asset_id}

    def local(self, geom: BaseGeometry) -> BaseGeometry:
        return self.proj.to_local(geom)

    def _nearest(self, site: BaseGeometry, geoms: Sequence[BaseGeometry]) -> tuple[int, float, str] | None:
        """The index of the geometry of ``geoms`` nearest to ``site``, its distance and direction."""
        if not geoms:
            return None
        d = shapely.distance(np.asarray(geoms, dtype=object), site)
        i = int(np.argmin(d))
        here, there = nearest_points(site, geoms[i])
        return i, float(d[i]), _direction(here, there) if float(d[i]) > 0 else ""

    def _asset(self, site: BaseGeometry, ids: Sequence[str]) -> Nearby | None:
        found = self._nearest(site, [self.a_local[i] for i in ids])
        if found is None:
            return None
        k, distance, direction = found
        a = self.assets[ids[k]]
        return Nearby(a.id, a.name, distance, direction, a.geometry, damage=a.damage.value,
                      restored=self.restored.get(a.id))

    def road(self, site: BaseGeometry, *, exclude: str | None = None) -> Nearby | None:
        return self._asset(site, [i for i in self.road_ids if i != exclude])

    def medical(self, site: BaseGeometry) -> Nearby | None:
        return self._asset(site, self.clinic_ids)

    def settlement(self, site: BaseGeometry) -> Nearby | None:
        found = self._nearest(site, self.s_local)
        if found is None:
            return None
        k, distance, direction = found
        s = self.settlements[k]
        return Nearby("", s.name, distance, direction, s.point, population=s.population)

    def near_hazards(self, site: BaseGeometry, exclude: str) -> tuple[tuple[str, BaseGeometry], ...]:
        if self.h_tree is None:
            return ()
        hits = self.h_tree.query(site.buffer(NEAR_M))
        ids = sorted((self.open_ids[int(k)] for k in hits if self.open_ids[int(k)] != exclude),
                     key=lambda i: self.h_local[i].distance(site))[:MAX_NEIGHBOURS]
        return tuple((i, self.hazards[i].geometry) for i in ids)

    def near_roads(self, site: BaseGeometry) -> tuple[tuple[str, BaseGeometry], ...]:
        zone = site.buffer(NEAR_M * 2)
        return tuple((i, self.assets[i].geometry) for i in self.road_ids if self.a_local[i].intersects(zone))

    def waiting(self, hazard_local: BaseGeometry) -> tuple[WaitingAsset, ...]:
        if self.ws_tree is None:
            return ()
        hits = sorted(self.a_ids[int(k)] for k in self.ws_tree.query(hazard_local, predicate="intersects"))
        return tuple(WaitingAsset(i, self.assets[i].name, self.assets[i].asset_type.value, self.assets[i].criticality,
                                  self.restored.get(i)) for i in hits)

    def waits_on(self, asset_id: str) -> tuple[str, ...]:
        if self.h_tree is None:
            return ()
        site = self.work_sites[asset_id]
        return tuple(sorted(self.open_ids[int(k)] for k in self.h_tree.query(site, predicate="intersects")))

    def site(self, kind: SiteKind, site_id: str) -> OrderSite:
        if site_id not in (self.hazards if kind is SiteKind.HAZARD_AREA else self.assets):
            raise NotFoundError(msg("hazard area {site}, where the plan orders work, is not in the register any "
                                    "more: plan again (sapper plan or sapper replan)", site=site_id)
                                if kind is SiteKind.HAZARD_AREA else
                                msg("asset {site}, where the plan orders work, is not in the register any more: "
                                    "plan again (sapper plan or sapper replan)", site=site_id))
        if kind is SiteKind.HAZARD_AREA:
            h: HazardArea = self.hazards[site_id]
            g = self.h_local[site_id] if site_id in self.h_local else self.local(h.geometry)
            return OrderSite(kind, h.id, h.name, h.geometry, float(g.area), hazard_class=h.hazard_class.value,
                             devices=tuple(sorted(d.value for d in h.device_categories)), land_use=h.land_use.value,
                             evidence=h.evidence.value, waiting_assets=self.waiting(g),
                             neighbours=self.near_hazards(g, h.id), roads=self.near_roads(g),
                             road=self.road(g), settlement=self.settlement(g), medical=self.medical(g),
                             synthetic=h.synthetic)
        a: Asset = self.assets[site_id]
        g = self.a_local[site_id]
        return OrderSite(kind, a.id, a.name, a.geometry, float(g.area), asset_type=a.asset_type.value,
                         damage=a.damage.value, waits_on=self.waits_on(a.id), neighbours=self.near_hazards(g, ""),
                         roads=self.near_roads(g), road=self.road(g, exclude=a.id), settlement=self.settlement(g),
                         medical=self.medical(g), synthetic=a.synthetic)

    def access(self, site: OrderSite, unit: Unit) -> tuple[Point, str]:
        """The access point (WGS84) of ``site`` for ``unit``, and how it was chosen (``road:<id>`` or ``base``)."""
        g = self.local(site.geometry)
        edge = g.exterior if g.geom_type == "Polygon" else g.boundary if "Polygon" in g.geom_type else g
        if site.road is not None:
            point = nearest_points(edge, self.local(site.road.geometry))[0]
            how = ACCESS_FROM_ROAD + site.road.id
        else:
            point = nearest_points(edge, self.local(unit.base))[0]
            how = ACCESS_FROM_BASE
        p = self.proj.to_wgs84(point)
        return Point(round(p.x, 6), round(p.y, 6)), how


# ----------------------------------------------------------------------------------------------------
# Issuing
# ----------------------------------------------------------------------------------------------------


def _lot(t: PlannedTask) -> OrderLot:
    return OrderLot(t.task_id, t.kind.value, t.mode, t.start_date, t.end_date, float(t.work), t.work_unit)


def _forms(lots: Iterable[OrderLot]) -> tuple[str, ...]:
    forms = dict.fromkeys(FORMS[lot.kind] for lot in lots if lot.kind in FORMS)
    return (*forms, ACCIDENT_FORM)


def issue_orders(store: Store, request: OrderRequest, *, actor: str, at: dt.datetime | None = None,
                 pricing: PricingProfile | None = None) -> IssueResult:
    """Issue the orders of the latest plan for the units and period ``request`` names (see the module docstring);
    return every order of those units in the period, new and already issued, with what the documents show (costs
    at ``pricing``'s prices; None: sapper's default profile)."""
    at = at or dt.datetime.now(dt.UTC)
    if not 1 <= request.weeks <= MAX_WEEKS:
        raise ValidationError(msg("task orders"), [Fault("--weeks", msg("must be 1 to {most}, got {value}",
                                                                         most=MAX_WEEKS, value=request.weeks))])
    if not actor.strip():
        raise ValidationError(msg("task orders"), [Fault("--actor", msg("who issues the orders is empty"))])
    plan = store.latest_plan()
    if plan is None:
        raise NotFoundError(NO_PLAN)
    assert plan.id is not None
    units = _units(store)
    chosen = _chosen(store, units, request)
    start = request.start or status_date(plan)
    end = start + dt.timedelta(days=7 * request.weeks - 1)
    wanted = {u.id for u in chosen}

    lots: dict[tuple[str, SiteKind, str], list[PlannedTask]] = defaultdict(list)
    later: dict[str, PlannedTask] = {}
    for t in sorted(plan.tasks, key=lambda t: (t.start_date, t.task_id)):
        if t.kind not in WORK_KINDS:
            continue
        site = (SiteKind.HAZARD_AREA, t.hazard_id) if t.hazard_id else (SiteKind.ASSET, t.asset_id)
        if site[1] is None:
            continue
        for u in _units_of(t):
            if u not in wanted:
                continue
            if t.start_date <= end and t.end_date >= start:
                lots[(u, site[0], site[1])].append(t)
            elif t.start_date > end and u not in later:
                later[u] = t

    held = [o for o in store.task_orders(unit_ids=wanted) if o.state is not OrderState.CANCELLED]
    # Orders in force that this plan changes are not shown and cover nothing: their lots are ordered anew (the old
    # order is to be cancelled; IssueResult.changed lists it).
    changed = order_changes((o for o in held if o.state in ACTIVE), plan)
    changed_numbers = {c.number for c in changed}
    held = [o for o in held if o.number not in changed_numbers]
    # A lot under way on a re-plan's as-of date is held from that date: the order that holds it still covers it.
    as_of = plan.params.replan.as_of if plan.params.replan is not None else None
    covered = {(o.unit_id, lot.task_id, _from(lot.start, as_of), lot.end) for o in held for lot in o.lots}
    register = _Register(store, plan)
    sites: dict[tuple[SiteKind, str], OrderSite] = {}

    def site_of(kind: SiteKind, site_id: str) -> OrderSite:
        if (kind, site_id) not in sites:
            sites[(kind, site_id)] = register.site(kind, site_id)
        return sites[(kind, site_id)]

    new: list[TaskOrder] = []
    for (unit_id, kind, site_id), tasks in lots.items():
        fresh = [t for t in tasks if (unit_id, t.task_id, t.start_date, t.end_date) not in covered]
        if not fresh:
            continue
        unit = units[unit_id]
        access, how = register.access(site_of(kind, site_id), unit)
        order_lots = tuple(_lot(t) for t in fresh)
        new.append(TaskOrder("", unit_id, unit.role, unit.organisation_id, kind, site_id, plan.id, start, end,
                             OrderState.ISSUED, at, order_lots, access, how, _forms(order_lots)))
    new.sort(key=lambda o: (o.unit_id, o.start, o.site_id))
    if new:
        with store.write() as uow:
            issued = uow.task_orders.issue(new, actor=actor, at=at)
    else:
        issued = []

    in_period = [o for o in held if o.start <= end and o.end >= start]
    kept = len(in_period)
    by_unit: dict[str, list[TaskOrder]] = defaultdict(list)
    for o in [*in_period, *issued]:
        by_unit[o.unit_id].append(o)
    fresh_numbers = {o.number for o in issued}
    pricing = pricing or load_pricing()
    days = WorkingDays(plan.params.weekdays, plan.params.holidays)
    assets = {a.id: a for a in store.assets()}

    def sheet(o: TaskOrder) -> OrderSheet:
        asset = assets.get(o.site_id) if o.site_kind is SiteKind.ASSET else None
        costs = tuple((lot.task_id, lot_cost(pricing, lot.kind, lot.method, work=lot.work, start=lot.start,
                                             end=lot.end, days=days, asset=asset)) for lot in o.lots)
        return OrderSheet(o, site_of(o.site_kind, o.site_id), costs, pricing.currency)

    result_units = []
    for unit in chosen:
        orders = sorted(by_unit.get(unit.id, []), key=lambda o: (o.start, o.number))
        sheets = tuple(sheet(o) for o in orders)
        result_units.append(UnitOrders(unit, sheets, sum(1 for o in orders if o.number in fresh_numbers),
                                       None if orders else later.get(unit.id)))
    return IssueResult(plan.id, plan.created_at, bool(plan.summary and plan.summary.synthetic), start, end,
                       tuple(result_units), len(issued), kept, tuple(changed))


# ----------------------------------------------------------------------------------------------------
# State changes and listing
# ----------------------------------------------------------------------------------------------------


def change_state(store: Store, numbers: Sequence[str], to_state: OrderState, *, actor: str, reason: str = "",
                 at: dt.datetime | None = None) -> list[TaskOrder]:
    """Acknowledge, complete or cancel orders (all in one transaction, or none: see ``TaskOrders.transition``); an
    unknown number is refused with the nearest existing number."""
    if not numbers:
        raise ValidationError(msg("task orders"), [Fault("ORDERS", msg("name at least one order number "
                                                                       "(TO-2026-0001)"))])
    with store.write() as uow:
        known = set(uow.task_orders.numbers())
        for n in numbers:
            if n not in known:
                near = nearest_ids(n, known)
                raise NotFoundError(msg("{number} is not a task order; did you mean {near}?", number=n,
                                        near=", ".join(near[:3])) if near else
                                    msg("{number} is not a task order in the store", number=n))
        return uow.task_orders.transition(numbers, to_state, actor=actor, reason=reason,
                                          at=at or dt.datetime.now(dt.UTC))


def list_orders(store: Store, *, unit: str | None = None, state: str | None = None) -> list[TaskOrder]:
    """Orders in the order issued (of one unit, in one state, if given)."""
    states = None
    if state is not None:
        try:
            states = [OrderState(state.strip().lower())]
        except ValueError:
            allowed = ", ".join(s.value for s in OrderState)
            raise ValidationError(msg("task orders"), [Fault("--state", msg("must be one of {allowed}, got {value}",
                                                                             allowed=allowed, value=repr(state)))]
                                  ) from None
    return store.task_orders(unit_ids=[unit] if unit else None, states=states)


@dataclass(frozen=True, slots=True)
class Reported:
    """The field reports applied under one order (``task_order`` of every field form but the accident report): how
    many, from and to which day, and the work they report (m² cleared, builder-days, surveys)."""

    reports: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    m2: float = 0.0
    builder_days: float = 0.0
    surveys: int = 0


def reported_under(store: Store) -> dict[str, Reported]:
    """Per order number, the reports applied under it: progress reports (clearance, brigade) and surveys (NTS, TS);
    orders without any are left out. A clearance report with the outline of its land is one report, though it also
    adds an activity to the area's record."""
    out: dict[str, Reported] = {}
    for p in store.field_progress():
        if p.task_order is None:
            continue
        r = out.get(p.task_order, Reported())
        out[p.task_order] = dataclasses.replace(
            r, reports=r.reports + 1, first_day=min(filter(None, (r.first_day, p.work_date))),
            last_day=max(filter(None, (r.last_day, p.work_date))), m2=r.m2 + (p.area_cleared_m2 or 0.0),
            builder_days=r.builder_days + (p.builder_days or 0.0))
    for s in store.surveys_under_orders():
        r = out.get(s.task_order, Reported())
        days = (r.first_day, s.day)
        out[s.task_order] = dataclasses.replace(
            r, reports=r.reports + 1, surveys=r.surveys + 1, first_day=min(filter(None, days), default=None),
            last_day=max(filter(None, (r.last_day, s.day)), default=None))
    return out


def reported_to_json(r: Reported) -> JsonObject:
    """What was reported under an order, as JSON."""
    return {"reports": r.reports, "first_day": r.first_day.isoformat() if r.first_day else None,
            "last_day": r.last_day.isoformat() if r.last_day else None, "m2": round(r.m2, 1),
            "builder_days": round(r.builder_days, 2), "surveys": r.surveys}


def order_to_json(o: TaskOrder) -> JsonObject:
    """An order as JSON: its record, lots and history."""
    return {
        "number": o.number, "state": o.state.value, "unit_id": o.unit_id, "unit_role": o.unit_role.value,
        "organisation_id": o.organisation_id, "site_kind": o.site_kind.value, "site_id": o.site_id,
        "plan_run_id": o.plan_run_id, "period_start": o.period_start.isoformat(),
        "period_end": o.period_end.isoformat(), "issued_at": o.issued_at.isoformat(),
        "access_point": [o.access_point.x, o.access_point.y], "access_from": o.access_note, "forms": list(o.forms),
        "lots": [{"task_id": lot.task_id, "kind": lot.kind, "method": lot.method, "start": lot.start.isoformat(),
                  "end": lot.end.isoformat(), "work": lot.work, "work_unit": lot.work_unit} for lot in o.lots],
        "history": [{"from": e.from_state.value if e.from_state else None, "to": e.to_state.value, "actor": e.actor,
                     "at": e.at.isoformat(), "reason": e.reason} for e in o.history],
    }


def change_to_json(c: OrderChange) -> JsonObject:
    """An order a later plan changes, as JSON: every changed lot with its old and new unit and dates."""
    def day(d: dt.date | None) -> str | None:
        return d.isoformat() if d else None

    return {"number": c.number, "unit_id": c.unit_id, "site_id": c.site_id, "order_plan_id": c.order_plan_id,
            "plan_id": c.plan_id, "action": c.action.value,
            "lots": [{"task_id": x.task_id, "change": x.change.value, "old_unit": x.old_unit,
                      "old_start": day(x.old_start), "old_end": day(x.old_end), "new_unit": x.new_unit,
                      "new_start": day(x.new_start), "new_end": day(x.new_end)} for x in c.lots]}
