"""Land-release activities (NTS, TS, clearance) and the devices they find.

The record of an area is its geometry and history: each activity may cancel, reduce or clear part of it. The balance
``original = cancelled + reduced + cleared + remaining`` must hold within ``AREA_TOLERANCE``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import in_wgs84_range, projection_near
from sapper.domain.hazards import DeviceCategory, HazardArea
from sapper.domain.resources import Method
from sapper.errors import Fault, ValidationError
from sapper.messages import msg

#: Relative tolerance of the land-release balance (0.1 % of the original area, at least 1 m²).
AREA_TOLERANCE = 1e-3


def release_tolerance_m2(original_m2: float) -> float:
    """The stated tolerance (m²) of the balance of a hazard of ``original_m2``: 0.1 % of it, at least 1 m²."""
    return max(1.0, AREA_TOLERANCE * original_m2)


class ActivityType(StrEnum):
    NTS = "nts"  # non-technical survey, IMAS 08.10
    TS = "ts"  # technical survey, IMAS 08.20
    CLEARANCE = "clearance"  # IMAS 09.10
    BAC = "bac"  # battle area clearance
    EOD = "eod"  # explosive ordnance disposal spot task


class ActivityStatus(StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    SUSPENDED = "suspended"


class Disposal(StrEnum):
    """What became of a device found (IMAS 09.30)."""

    DESTROYED_IN_PLACE = "destroyed_in_place"
    MOVED = "moved"  # moved and destroyed elsewhere (demolition site)
    HANDED_OVER = "handed_over"  # handed to the police, the army or another operator


class DeviceCondition(StrEnum):
    ARMED = "armed"
    UNARMED = "unarmed"
    DAMAGED = "damaged"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DeviceFound:
    """A device (or a group of the same devices) found during an activity: where, what, how many, how deep, and
    what became of it (disposal and its date)."""

    position: Point
    category: DeviceCategory
    device_type: str = ""
    condition: DeviceCondition = DeviceCondition.UNKNOWN
    depth_cm: float | None = None
    quantity: int = 1
    fuze: str = ""  # where known
    disposal: Disposal | None = None
    disposal_date: dt.date | None = None
    #: The record's identifier in IMSMA Core (``device_12``) and its links to IMSMA records sapper does not keep;
    #: metadata, not part of the value.
    imsma_id: str = field(default="", compare=False)
    imsma_links: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        faults = []
        if self.depth_cm is not None and self.depth_cm < 0:
            faults.append(Fault(msg("device"), msg("depth cannot be negative (cm)"), "depth_cm"))
        if self.position.is_empty:
            faults.append(Fault(msg("device"), msg("position is empty"), "position"))
        if self.quantity < 1:
            faults.append(Fault(msg("device"), msg("quantity must be at least 1, got {quantity}",
                                                   quantity=self.quantity), "quantity"))
        if self.disposal_date is not None and self.disposal is None:
            faults.append(Fault(msg("device"), msg("a disposal date needs the disposal (destroyed in place, moved, "
                                              "handed over)"), "disposal"))
        ValidationError.raise_if(msg("device"), faults)

    def below(self, depth_cm: float) -> bool:
        """True when the device was found deeper than ``depth_cm`` (the required clearance depth): flagged."""
        return self.depth_cm is not None and self.depth_cm > depth_cm

    @property
    def destroyed(self) -> bool:
        """Found and destroyed (GICHD MDR): destroyed in place, or moved and destroyed elsewhere."""
        return self.disposal in (Disposal.DESTROYED_IN_PLACE, Disposal.MOVED)


@dataclass(frozen=True, slots=True)
class Activity:
    """One land-release activity on one hazard area, with the geometry it cancelled, reduced and cleared."""

    id: str
    hazard_id: str
    activity_type: ActivityType
    status: ActivityStatus
    organisation_id: str | None = None
    method: Method | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    cancelled: BaseGeometry | None = None
    reduced: BaseGeometry | None = None
    cleared: BaseGeometry | None = None
    clearance_depth_cm: float | None = None
    devices: tuple[DeviceFound, ...] = field(default_factory=tuple)
    #: Direct evidence the activity found other than devices (e.g. an NTS whose outcome is "confirm"): it makes an
    #: SHA a CHA when the activity enters the land-release history (IMAS 08.10).
    direct_evidence: str = ""
    #: The benchmark of the land it released (GICHD MDR, land release product: "Benchmark and perimeter of all
    #: cancelled/reduced/cleared areas"): a fixed point outside that land, WGS84.
    benchmark: Point | None = None
    #: The number of the task order the activity was done under (``TO-2026-0001``), from the field report that
    #: recorded it; None when none was named (or the activity did not come from a report).
    task_order: str | None = None
    #: The record's identifier in IMSMA Core (``activity_7``) and its links to IMSMA records sapper does not keep;
    #: metadata, not part of the value.
    imsma_id: str = field(default="", compare=False)
    imsma_links: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        record = msg("activity {id}", id=self.id)
        faults = []
        if self.benchmark is not None:
            if not isinstance(self.benchmark, Point) or self.benchmark.is_empty \
                    or not in_wgs84_range(self.benchmark):
                faults.append(Fault(record, msg("benchmark must be a WGS84 point"), "benchmark"))
            elif any(not g.disjoint(self.benchmark) for g in self.outcomes.values()):
                faults.append(Fault(record, msg("benchmark lies inside the land it released; it must be a "
                                                "fixed point outside it"), "benchmark"))
        if self.start and self.end and self.end < self.start:
            faults.append(Fault(record, msg("ends ({end}) before it starts ({start})", end=self.end,
                                            start=self.start), "end"))
        if self.activity_type is ActivityType.NTS and (self.reduced is not None or self.cleared is not None):
            faults.append(Fault(record, msg("a non-technical survey can only cancel land"), "reduced"))
        if self.activity_type is ActivityType.TS and self.cleared is not None:
            faults.append(Fault(record, msg("a technical survey reduces land; clearance clears it"), "cleared"))
        if self.clearance_depth_cm is not None and self.clearance_depth_cm <= 0:
            faults.append(Fault(record, msg("clearance depth must be positive (cm)"), "clearance_depth_cm"))
        ValidationError.raise_if(record, faults)

    @property
    def outcomes(self) -> dict[str, BaseGeometry]:
        return {k: g for k, g in (("cancelled", self.cancelled), ("reduced", self.reduced),
                                  ("cleared", self.cleared)) if g is not None and not g.is_empty}


@dataclass(frozen=True, slots=True)
class ReleaseBalance:
    """Areas (m²) of one hazard after its activities; ``remaining`` is what is still hazardous.

    ``extended_m2`` is land added to the perimeter by boundary extensions, ``reopened_m2`` released land put back
    in the hazardous part after a failed inspection or a later find; the balance is
    ``original + extended + reopened = cancelled + reduced + cleared + remaining``.
    """

    original_m2: float
    cancelled_m2: float
    reduced_m2: float
    cleared_m2: float
    remaining_m2: float
    remaining: BaseGeometry
    extended_m2: float = 0.0
    reopened_m2: float = 0.0

    @property
    def residual_m2(self) -> float:
        """(original + extended + reopened) − (cancelled + reduced + cleared + remaining): zero within tolerance."""
        return (self.original_m2 + self.extended_m2 + self.reopened_m2
                - (self.cancelled_m2 + self.reduced_m2 + self.cleared_m2 + self.remaining_m2))

    @property
    def tolerance_m2(self) -> float:
        """How far the residual may be from zero: :func:`release_tolerance_m2` of the original area."""
        return release_tolerance_m2(self.original_m2)

    @property
    def balanced(self) -> bool:
        """True when ``original = cancelled + reduced + cleared + remaining`` holds within the tolerance."""
        return abs(self.residual_m2) <= self.tolerance_m2


def release_balance(hazard: HazardArea, activities: list[Activity]) -> ReleaseBalance:
    """The land-release balance of ``hazard``: each activity's outcome is clipped to what was still hazardous.

    Raises ValidationError when an outcome overlaps land an earlier activity already released, beyond tolerance, or
    lies outside the hazard (the record would then not balance).
    """
    proj = projection_near(hazard.geometry)
    original = proj.to_local(hazard.geometry)
    remaining = original
    totals = {"cancelled": 0.0, "reduced": 0.0, "cleared": 0.0}
    tol = release_tolerance_m2(original.area)
    faults = []
    for act in sorted(activities, key=lambda a: (a.end or a.start or dt.date.min, a.id)):
        if act.hazard_id != hazard.id:
            faults.append(Fault(msg("activity {id}", id=act.id), msg("belongs to hazard {hazard_id}, not {id}",
                                                          hazard_id=act.hazard_id, id=hazard.id)))
            continue
        for kind, geom in act.outcomes.items():
            local = proj.to_local(geom)
            inside = shapely.intersection(local, remaining)
            if local.area - inside.area > tol:
                faults.append(Fault(msg("activity {id}", id=act.id), msg("{kind} land lies {value:.0f} m² outside what "
                                                              "was still hazardous", kind=kind,
                                                              value=local.area - inside.area), kind))
            totals[kind] += inside.area
            remaining = shapely.difference(remaining, inside)
    ValidationError.raise_if(msg("hazard area {id}", id=hazard.id), faults)
    return ReleaseBalance(original.area, totals["cancelled"], totals["reduced"], totals["cleared"],
                          remaining.area, proj.to_wgs84(remaining))
