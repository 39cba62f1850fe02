"""A reference scenario: real geography plus synthetic hazards, damage and workforce, all in WGS84.

A ``Scenario`` is plain, immutable data. It knows which of its records are synthetic and which came from open
data (``Settlement.source``, every ``synthetic`` flag, ``attributions`` and ``notes``), so a map or report
built from it can say so. It validates itself on construction and reports every fault at once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from shapely.geometry import LineString, MultiLineString, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.assets import Asset
from sapper.domain.geometry import LocalProjection, in_wgs84_range
from sapper.domain.hazards import HazardArea
from sapper.domain.places import SYNTHETIC_SOURCE, Settlement
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Organisation
from sapper.errors import Fault, NotFoundError, ValidationError

#: Any record of a scenario that carries a ``synthetic`` flag.
Record = HazardArea | Asset | DeminerTeam | BuilderBrigade | Settlement


@dataclass(frozen=True)
class Scenario:
    """Everything a planner needs to start: the region, the contamination, the damage and the workforce.

    Geometry is WGS84 lon/lat. ``contested_zone`` is the area fought over; ``border`` is the international
    border along ``oblast``; ``neighbours`` are (name, outline) pairs for map context. ``notes`` say, in plain
    words, what is synthetic and which assumptions were made; ``attributions`` must travel with any map or
    export of the data.
    """

    name: str
    seed: int
    start_date: dt.date
    organisations: tuple[Organisation, ...]
    hazards: tuple[HazardArea, ...]
    assets: tuple[Asset, ...]
    teams: tuple[DeminerTeam, ...]
    brigades: tuple[BuilderBrigade, ...]
    oblast: Polygon
    neighbours: tuple[tuple[str, Polygon], ...]
    border: LineString | MultiLineString
    contested_zone: Polygon
    settlements: tuple[Settlement, ...]
    attributions: tuple[str, ...]
    notes: tuple[str, ...]

    def __post_init__(self) -> None:
        ValidationError.raise_if(f"scenario {self.name}", self.faults())

    def faults(self) -> list[Fault]:
        """Every inconsistency between the records: duplicate ids, unknown organisations, geometry not in
        WGS84.
        """
        record = f"scenario {self.name}"
        faults: list[Fault] = []
        for what, ids in (
            ("organisation", [o.id for o in self.organisations]),
            ("hazard", [h.id for h in self.hazards]),
            ("asset", [a.id for a in self.assets]),
            ("team", [t.id for t in self.teams]),
            ("brigade", [b.id for b in self.brigades]),
            ("settlement", [s.name for s in self.settlements]),
        ):
            faults.extend(Fault(record, f"{what} id {key!r} is used {n} times", what)
                          for key, n in sorted(Counter(ids).items()) if n > 1)
        org_ids = {o.id for o in self.organisations}
        owners: list[tuple[str, str | None]] = [(t.id, t.organisation_id) for t in self.teams]
        owners += [(b.id, b.organisation_id) for b in self.brigades]
        owners += [(h.id, h.organisation_id) for h in self.hazards if h.organisation_id is not None]
        faults.extend(Fault(record, f"{rid} belongs to unknown organisation {oid!r}", "organisation_id")
                      for rid, oid in owners if oid not in org_ids)
        faults.extend(Fault(record, f"settlement {s.name!r}: source {s.source!r} disagrees with "
                                    f"synthetic={s.synthetic}", "settlements")
                      for s in self.settlements if s.synthetic != (s.source == SYNTHETIC_SOURCE))
        shapes: list[tuple[str, BaseGeometry]] = [("oblast", self.oblast), ("border", self.border),
                                                  ("contested_zone", self.contested_zone), *self.neighbours]
        for label, geom in shapes:
            if geom.is_empty or not geom.is_valid or not in_wgs84_range(geom):
                faults.append(Fault(record, f"{label} must be a valid, non-empty WGS84 geometry", label))
        if not self.attributions:
            faults.append(Fault(record, "attributions are empty: open data must be credited", "attributions"))
        return faults

    @cached_property
    def projection(self) -> LocalProjection:
        """An equal-area projection centred on the oblast, for areas and distances across the scenario."""
        return LocalProjection.around(self.oblast)

    def settlement(self, name: str) -> Settlement:
        """The settlement called ``name``; raises NotFoundError if there is none."""
        for s in self.settlements:
            if s.name == name:
                return s
        raise NotFoundError(f"scenario {self.name} has no settlement called {name!r}")

    @property
    def deminers(self) -> int:
        return sum(t.size for t in self.teams)

    @property
    def builders(self) -> int:
        return sum(b.size for b in self.brigades)

    def synthetic_records(self) -> Iterator[Record]:
        """Every record flagged synthetic: hazards, assets, teams, brigades, then settlements."""
        records: tuple[Record, ...] = (*self.hazards, *self.assets, *self.teams, *self.brigades)
        return (rec for rec in (*records, *self.settlements) if rec.synthetic)
