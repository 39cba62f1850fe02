"""Damaged assets and the repair work they need.

Repair work may start only when the land the asset needs is released: the asset's geometry plus its work buffer
(``work_buffer_m``), which is what the planner checks against hazard areas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from shapely.geometry.base import BaseGeometry

from sapper.domain.figures import WORK_BUFFER_M
from sapper.domain.geometry import LocalProjection, in_wgs84_range, is_valid
from sapper.domain.resources import Trade
from sapper.errors import Fault, ValidationError
from sapper.messages import msg


class AssetType(StrEnum):
    ROAD = "road"
    BRIDGE = "bridge"
    POWER_LINE = "power_line"
    SUBSTATION = "substation"
    WATER = "water"
    SCHOOL = "school"
    CLINIC = "clinic"
    HOUSE = "house"


class DamageLevel(StrEnum):
    LIGHT = "light"
    MODERATE = "moderate"
    SEVERE = "severe"
    DESTROYED = "destroyed"


#: The geometry an asset type may have.
_LINEAR = {AssetType.ROAD, AssetType.POWER_LINE}


@dataclass(frozen=True, slots=True)
class Asset:
    """A damaged asset: what and where it is, how badly damaged, and the repair work in builder-days per trade.

    ``criticality`` runs from 1 (low) to 5 (vital: a hospital's power, a main road); ``people_served`` counts the people
    who depend on it.
    """

    id: str
    asset_type: AssetType
    geometry: BaseGeometry
    damage: DamageLevel
    repair_work: Mapping[Trade, float]
    criticality: int = 3
    people_served: int = 0
    name: str = ""
    work_buffer_m: float | None = None
    synthetic: bool = False
    _frozen_work: tuple[tuple[Trade, float], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_frozen_work", tuple(sorted(self.repair_work.items())))
        ValidationError.raise_if(msg("asset {id}", id=self.id), self.faults())

    def faults(self) -> list[Fault]:
        record = msg("asset {id}", id=self.id)
        faults: list[Fault] = []
        if not self.id.strip():
            faults.append(Fault(msg("asset"), msg("id is empty"), "id"))
        if self.geometry is None or self.geometry.is_empty:
            faults.append(Fault(record, msg("geometry is empty"), "geometry"))
        else:
            kind = self.geometry.geom_type
            if self.asset_type in _LINEAR and kind not in ("LineString", "MultiLineString"):
                faults.append(Fault(record, msg("a {asset_type} must be a line, got {kind}",
                                                asset_type=self.asset_type, kind=kind), "geometry"))
            if not is_valid(self.geometry):
                faults.append(Fault(record, msg("geometry is not valid"), "geometry"))
            elif not in_wgs84_range(self.geometry):
                faults.append(Fault(record, msg("coordinates are not WGS84 lon/lat"), "geometry"))
        if not 1 <= self.criticality <= 5:
            faults.append(Fault(record, msg("criticality must be 1–5, got {criticality}",
                                            criticality=self.criticality), "criticality"))
        if self.people_served < 0:
            faults.append(Fault(record, msg("people served cannot be negative"), "people_served"))
        if not self.repair_work:
            faults.append(Fault(record, msg("repair work is empty: name builder-days for at least one trade"),
                                "repair_work"))
        for trade, days in self.repair_work.items():
            if not isinstance(trade, Trade):
                faults.append(Fault(record, msg("unknown trade {trade!r}", trade=trade), "repair_work"))
            elif not days > 0:
                faults.append(Fault(record, msg("{trade} work must be positive builder-days, got {days}",
                                                trade=trade, days=days), "repair_work"))
        if self.work_buffer_m is not None and self.work_buffer_m < 0:
            faults.append(Fault(record, msg("work buffer cannot be negative (m)"), "work_buffer_m"))
        return faults

    @property
    def buffer_m(self) -> float:
        if self.work_buffer_m is not None:
            return self.work_buffer_m
        return WORK_BUFFER_M[self.asset_type.value]

    @property
    def total_builder_days(self) -> float:
        return float(sum(self.repair_work.values()))

    def work_site(self, projection: LocalProjection) -> BaseGeometry:
        """The land that must be released before repair: the asset buffered by its work buffer, in ``projection``."""
        return projection.to_local(self.geometry).buffer(self.buffer_m)
