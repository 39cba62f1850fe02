"""Records the store keeps that are not domain objects: saved plans, settlements and context areas."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import in_wgs84_range
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, LandUse
from sapper.errors import Fault, ValidationError


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """One task of a saved plan: what (``kind``, hazard or asset), who (``unit_id``), when, how much.

    ``work`` is in ``work_unit``: square metres (``"m2"``) for survey and clearance, builder-days
    (``"builder_days"``) for repair. ``resource`` names the resource pool (a method or a trade); ``mode`` is
    the execution mode the planner chose (e.g. a clearance method).
    """

    task_id: str
    kind: str
    start_date: dt.date
    end_date: dt.date
    work: float
    work_unit: str
    hazard_id: str | None = None
    asset_id: str | None = None
    mode: str = ""
    resource: str = ""
    unit_id: str | None = None

    def __post_init__(self) -> None:
        record = f"planned task {self.task_id}"
        faults = []
        if not self.task_id.strip():
            faults.append(Fault("planned task", "task id is empty", "task_id"))
        if not self.kind.strip():
            faults.append(Fault(record, "kind is empty", "kind"))
        if self.end_date < self.start_date:
            faults.append(
                Fault(record, f"ends ({self.end_date}) before it starts ({self.start_date})", "end_date")
            )
        if not self.work >= 0:
            faults.append(Fault(record, f"work cannot be negative, got {self.work}", "work"))
        if not self.work_unit.strip():
            faults.append(Fault(record, "work unit is empty", "work_unit"))
        ValidationError.raise_if(record, faults)


def _utc_ms(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (naive taken as UTC), to the millisecond: what the store's DATETIME column keeps."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class PlanRun:
    """A saved plan: how the solve went, the parameters it used, a summary, and its tasks.

    ``id`` is None until the store saves it. ``created_at`` is kept in UTC to the millisecond (naive is
    taken as UTC). ``task_count`` defaults to the number of ``tasks``. ``params`` and ``summary`` must be
    JSON-serialisable (dates and enums are written as text, so they come back as text).
    """

    status: str
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    objective: float | None = None
    lower_bound: float | None = None
    baseline_objective: float | None = None
    finish_date: dt.date | None = None
    solve_seconds: float = 0.0
    task_count: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[PlannedTask, ...] = ()
    id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "created_at", _utc_ms(self.created_at))
        if self.task_count is None:
            object.__setattr__(self, "task_count", len(self.tasks))
        record = f"plan run {self.id if self.id is not None else '(new)'}"
        faults = []
        if not self.status.strip():
            faults.append(Fault(record, "status is empty", "status"))
        if not self.solve_seconds >= 0:
            faults.append(
                Fault(record, f"solve time cannot be negative, got {self.solve_seconds}", "solve_seconds")
            )
        if self.task_count is not None and self.task_count < 0:
            faults.append(Fault(record, "task count cannot be negative", "task_count"))
        seen: set[str] = set()
        for task in self.tasks:
            if task.task_id in seen:
                faults.append(Fault(record, f"task {task.task_id} appears twice", "tasks"))
            seen.add(task.task_id)
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class ContextArea:
    """An area on the context map (an administrative area, the contested zone), in WGS84."""

    name: str
    geometry: BaseGeometry
    source: str = ""
    synthetic: bool = False

    def __post_init__(self) -> None:
        record = f"context area {self.name}"
        faults = []
        if not self.name.strip():
            faults.append(Fault("context area", "name is empty", "name"))
        if self.geometry is None or self.geometry.is_empty:
            faults.append(Fault(record, "geometry is empty", "geometry"))
        elif not self.geometry.is_valid:
            faults.append(Fault(record, "geometry is not valid", "geometry"))
        elif not in_wgs84_range(self.geometry):
            faults.append(Fault(record, "coordinates are not WGS84 lon/lat", "geometry"))
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class LayerFeature:
    """A feature of a spatial layer as a map page needs it: its id, geometry (WGS84) and row version."""

    id: str
    geometry: BaseGeometry | None
    version: int


@dataclass(frozen=True, slots=True)
class HazardEdit:
    """The editable attributes of a hazard area, all of them (a whole replacement, not a patch).

    Start from :meth:`of` the stored area and ``dataclasses.replace`` what changes. Class and status change
    through land release (sapper.services.landrelease), not here; the id never changes.
    """

    geometry: BaseGeometry
    name: str
    evidence: Evidence
    device_categories: frozenset[DeviceCategory]
    land_use: LandUse
    beneficiaries: int
    organisation_id: str | None
    expected_clearance_share: float | None

    @classmethod
    def of(cls, hazard: HazardArea) -> HazardEdit:
        """The editable attributes of ``hazard`` as they are."""
        return cls(
            geometry=hazard.geometry,
            name=hazard.name,
            evidence=hazard.evidence,
            device_categories=hazard.device_categories,
            land_use=hazard.land_use,
            beneficiaries=hazard.beneficiaries,
            organisation_id=hazard.organisation_id,
            expected_clearance_share=hazard.expected_clearance_share,
        )
