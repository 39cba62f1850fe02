"""Populated places: the settlements a map shows and a priority score measures people against."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import Point

from sapper.domain.geometry import in_wgs84_range
from sapper.errors import Fault, ValidationError
from sapper.messages import msg

#: ``Settlement.source`` of a generated (synthetic) place.
SYNTHETIC_SOURCE = "synthetic"


@dataclass(frozen=True, slots=True)
class Settlement:
    """A populated place: its name, population and WGS84 location; ``source`` names the gazetteer it came from
    (``"synthetic"`` for a generated village, which is then flagged ``synthetic``).
    """

    name: str
    population: int
    point: Point
    source: str = ""
    synthetic: bool = False

    def __post_init__(self) -> None:
        record = msg("settlement {name!r}", name=self.name)
        faults = []
        if not self.name.strip():
            faults.append(Fault(msg("settlement"), msg("name is empty"), "name"))
        if self.population < 0:
            faults.append(Fault(record, msg("population cannot be negative"), "population"))
        if not isinstance(self.point, Point) or self.point.is_empty or not in_wgs84_range(self.point):
            faults.append(Fault(record, msg("point must be a non-empty WGS84 lon/lat point"), "point"))
        ValidationError.raise_if(record, faults)
