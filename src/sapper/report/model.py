"""What a report shows: plain, immutable data, already resolved from the store and the plan.

Geometry is WGS84 lon/lat; the report projects it for drawing. Dates are calendar days; a Gantt bar's ``end``
is its last working day (inclusive). ``None`` dates mean "not planned".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.errors import Fault, ValidationError

#: Assets with at least this criticality count as critical in the restoration burn-down.
CRITICAL_FROM = 4


@dataclass(frozen=True)
class MapHazard:
    """A hazardous area on the map, coloured by its planned release date (``None``: not planned)."""

    id: str
    name: str
    hazard_class: str
    geometry: BaseGeometry
    area_m2: float
    release_date: dt.date | None


@dataclass(frozen=True)
class MapAsset:
    """An asset to restore on the map (line, point or polygon), coloured by its planned restore date."""

    id: str
    name: str
    asset_type: str
    geometry: BaseGeometry
    criticality: int
    restore_date: dt.date | None


@dataclass(frozen=True)
class Town:
    """A settlement shown for orientation; synthetic villages are drawn small and unlabelled."""

    name: str
    population: int
    point: Point
    synthetic: bool


@dataclass(frozen=True)
class GanttBar:
    """One task of one team or brigade: ``lane`` is its id (e.g. ``T-MAN-001``), ``end`` is inclusive."""

    lane: str
    lane_group: str
    label: str
    kind: str  # "survey" | "clearance" | "repair"
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(
                f"Gantt bar {self.label!r} of {self.lane}",
                [Fault(self.lane, f"ends ({self.end}) before it starts ({self.start})", field="end")],
            )


@dataclass(frozen=True)
class SummaryRow:
    """One line of the summary table."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class ReportData:
    """Everything one HTML report shows. ``objective``/``baseline_objective``/``lower_bound`` are ``None``
    when there is no plan (or no baseline, or no bound); the objective is minimised."""

    title: str
    generated_at: dt.datetime
    scenario: str
    seed: int | None
    start_date: dt.date
    synthetic: bool
    notes: tuple[str, ...]
    attributions: tuple[str, ...]
    outline: BaseGeometry | None  # region outline (e.g. Kursk Oblast)
    context: tuple[
        tuple[str, BaseGeometry], ...
    ]  # e.g. ("border", line), ("contested zone (synthetic)", polygon)
    towns: tuple[Town, ...]
    hazards: tuple[MapHazard, ...]
    assets: tuple[MapAsset, ...]
    bars: tuple[GanttBar, ...]
    summary: tuple[SummaryRow, ...]
    plan_status: str
    objective: float | None
    baseline_objective: float | None
    lower_bound: float | None
