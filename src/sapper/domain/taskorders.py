"""Task orders: what a team or brigade is ordered to do at one site for a period, taken from a saved plan.

In mine action the operator (or the national authority) issues a *task* to a team: where, what, by which method, from
when, to which standard; the team acknowledges it, works, reports daily, and the task is closed. sapper keeps each
order as a record: numbered ``TO-<year>-<nnnn>`` (the year it was issued, counted from 1 each year), the plan run it
comes from, the lots of that plan it orders (a snapshot: the plan may change, the order does not), the access point,
the reporting forms to use, and its state with every change (who, when, why):

``issued`` → ``acknowledged`` (the team leader confirmed receipt) → ``completed``; ``issued`` or ``acknowledged`` →
``cancelled`` (a reason is required). Completed and cancelled orders are final. An order must be acknowledged before
it is completed: a team cannot finish work it never confirmed receiving.

Geometry here is WGS84 (lon/lat); distances are metres computed by the service in a local projection.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.errors import Fault, TransitionError, ValidationError
from sapper.messages import msg


class OrderState(StrEnum):
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: The changes of state an order may make.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.ISSUED: frozenset({OrderState.ACKNOWLEDGED, OrderState.CANCELLED}),
    OrderState.ACKNOWLEDGED: frozenset({OrderState.COMPLETED, OrderState.CANCELLED}),
    OrderState.COMPLETED: frozenset(),
    OrderState.CANCELLED: frozenset(),
}

#: Orders still in force: a lot they hold is not ordered again.
ACTIVE = frozenset({OrderState.ISSUED, OrderState.ACKNOWLEDGED})


class UnitRole(StrEnum):
    """Who an order is for: a deminer team or a builder brigade."""

    TEAM = "team"
    BRIGADE = "brigade"


class SiteKind(StrEnum):
    """Where an order's work is: a hazard area (land release) or an asset (repair)."""

    HAZARD_AREA = "hazard_area"
    ASSET = "asset"


#: How an access point was chosen: ``road:<asset id>`` (the perimeter's point nearest that road) or ``base``.
ACCESS_FROM_ROAD, ACCESS_FROM_BASE = "road:", "base"

NUMBER = re.compile(r"^TO-(\d{4})-(\d{4,})$")


def order_number(year: int, seq: int) -> str:
    """``TO-2026-0001``: the year the order was issued and its place in that year."""
    return f"TO-{year:04d}-{seq:04d}"


def number_seq(number: str, year: int) -> int:
    """The place in ``year`` of an order number of that year (0 for a number of another year or form)."""
    m = NUMBER.match(number)
    return int(m[2]) if m and int(m[1]) == year else 0


#: The field form (sapper's XLSForms, `sapper forms write`) a team reports each kind of lot with.
FORMS: dict[str, str] = {
    "nts": "sapper_nts",
    "ts": "sapper_ts",
    "survey": "sapper_nts",
    "eod": "sapper_clearance",
    "clearance": "sapper_clearance",
    "repair": "sapper_brigade",
}
#: The form every order names for an accident or incident.
ACCIDENT_FORM = "sapper_accident"


def check_transition(number: str, current: OrderState, wanted: OrderState, *, actor: str, reason: str) -> None:
    """Refuse a change the order's workflow does not allow (TransitionError), one without an actor, or a
    cancellation without a reason."""
    record = msg("task order {number}", number=number)
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "nothing (it is final)"
        raise TransitionError(record, [Fault(record, msg("is {value} and cannot become {value2}; it can become "
                                                         "{allowed}", value=current.value, value2=wanted.value,
                                                         allowed=allowed), "state")])
    faults = []
    if not actor.strip():
        faults.append(Fault(record, msg("the actor (who makes the change) is empty"), "actor"))
    if wanted is OrderState.CANCELLED and not reason.strip():
        faults.append(Fault(record, msg("a cancellation needs a reason (--reason)"), "reason"))
    ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class OrderLot:
    """One lot of the plan an order holds, as the plan had it when the order was issued. ``kind`` is the plan
    task's kind (``nts``, ``ts``, ``eod``, ``clearance``, ``repair``), ``method`` its mode (a clearance method or a
    trade); ``end`` is the last day worked."""

    task_id: str
    kind: str
    method: str
    start: dt.date
    end: dt.date
    work: float
    work_unit: str


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One change of an order's state: from what (None when issued) to what, who, when, why."""

    from_state: OrderState | None
    to_state: OrderState
    actor: str
    at: dt.datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TaskOrder:
    """A task order as the store keeps it (``id`` and ``number`` are set by the store when it is issued)."""

    number: str
    unit_id: str
    unit_role: UnitRole
    organisation_id: str | None
    site_kind: SiteKind
    site_id: str
    plan_run_id: int
    period_start: dt.date
    period_end: dt.date
    state: OrderState
    issued_at: dt.datetime
    lots: tuple[OrderLot, ...]
    access_point: Point
    access_note: str
    forms: tuple[str, ...]
    history: tuple[OrderEvent, ...] = ()
    id: int | None = None

    def __post_init__(self) -> None:
        record = msg("task order {value}", value=self.number or '(new)')
        faults = []
        if not self.lots:
            faults.append(Fault(record, msg("orders no lot"), "lots"))
        if self.period_end < self.period_start:
            faults.append(Fault(record, msg("its period ends ({period_end}) before it starts ({period_start})",
                                            period_end=self.period_end, period_start=self.period_start),
                                "period_end"))
        if not self.unit_id.strip() or not self.site_id.strip():
            faults.append(Fault(record, msg("unit and site must be named"), "unit_id"))
        ValidationError.raise_if(record, faults)

    @property
    def start(self) -> dt.date:
        """The first day of its first lot."""
        return min(lot.start for lot in self.lots)

    @property
    def end(self) -> dt.date:
        """The last day of its last lot."""
        return max(lot.end for lot in self.lots)

    @property
    def task_ids(self) -> frozenset[str]:
        return frozenset(lot.task_id for lot in self.lots)


@dataclass(frozen=True, slots=True)
class Nearby:
    """A feature near a site: its id and name (``""`` for a settlement's id), how far (metres) and in which direction
    from the site (``N``, ``NE`` …, the 8 points of the compass; ``""`` when it touches the site), and where. For an
    asset (a road, a clinic) its damage and planned restoration; for a settlement its population."""

    id: str
    name: str
    distance_m: float
    direction: str
    geometry: BaseGeometry
    damage: str = ""
    restored: dt.date | None = None
    population: int = 0


@dataclass(frozen=True, slots=True)
class WaitingAsset:
    """An asset whose repair waits for the land an order's hazard area holds, and its planned restoration."""

    id: str
    name: str
    asset_type: str
    criticality: int
    restored: dt.date | None


@dataclass(frozen=True, slots=True)
class OrderSite:
    """What a team leader needs to know of an order's site, read from the register when the order is written.

    For a hazard area: class, devices expected, land use, area; for an asset: type, damage and the hazard areas
    whose release it waited for. ``neighbours`` are the other open hazard areas near the site (id, geometry);
    ``roads`` the register's roads near it (id, geometry).
    """

    kind: SiteKind
    id: str
    name: str
    geometry: BaseGeometry
    area_m2: float
    hazard_class: str = ""
    devices: tuple[str, ...] = ()
    land_use: str = ""
    evidence: str = ""
    asset_type: str = ""
    damage: str = ""
    waiting_assets: tuple[WaitingAsset, ...] = ()
    waits_on: tuple[str, ...] = ()
    neighbours: tuple[tuple[str, BaseGeometry], ...] = ()
    roads: tuple[tuple[str, BaseGeometry], ...] = ()
    road: Nearby | None = None
    settlement: Nearby | None = None
    medical: Nearby | None = None
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class OrderSheet:
    """One order with its site: what a document (PDF, HTML, CSV, KML, GPX) shows of it; ``lot_costs`` (task id →
    cost, overheads included, in ``currency``) when it was priced."""

    order: TaskOrder
    site: OrderSite
    lot_costs: tuple[tuple[str, float], ...] = ()
    currency: str = ""

    @property
    def cost(self) -> float | None:
        """What the order's lots cost (None: not priced)."""
        return sum(c for _, c in self.lot_costs) if self.lot_costs else None
