"""What a report shows: plain, immutable data, already resolved from the store and the plan.

Geometry is WGS84 lon/lat; the report projects it for drawing. Dates are calendar days; a Gantt bar's ``end``
is its last working day (inclusive). ``None`` dates mean "not planned".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shapely.geometry import Point

from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.services.planview import BarKind


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
    kind: BarKind
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(
                f"Gantt bar {self.label!r} of {self.lane}",
                [Fault(self.lane, msg("ends ({end}) before it starts ({start})", end=self.end, start=self.start),
                       field="end")],
            )
