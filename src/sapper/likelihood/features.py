"""The features of a hazard area for the contamination model, computed from the register (typed inputs, no SQL).

Each feature is something a survey team or an analyst could know before anyone enters the area (RELand, arXiv
2311.03115; DOMAIN.md, "Contamination likelihood"): how far it lies from the contested line, how long its ground was
fought over, how far from roads and settlements, its land use, size, class and the devices expected, and what was
found *nearby* in other areas. An area's own finds are its label, never its feature: devices recorded on the area
itself, or lying inside its perimeter, are left out of its "finds nearby" (:func:`nearby_finds`), and its class is the
class it was recorded with, before any activity on it could confirm it (``HazardInput.recorded_class``).

Distances are measured in a local equal-area projection around the register's areas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import LocalProjection
from sapper.domain.hazards import MINE_CATEGORIES, DeviceCategory, HazardClass, LandUse

Floats = npt.NDArray[np.float64]

#: The radius (km) within which devices found in other areas count as "finds nearby".
NEARBY_KM = 2.0
#: Days the contested zone was fought over where it was held longest (6 Aug 2024, the incursion, to 26 Apr 2025,
#: the end announced) and at its outer edge (about the first month). Assumption: no public source dates each place;
#: a place's days grow linearly from the outer edge to the border (docs/likelihood.md).
CONTEST_DAYS_MAX = 263.0
CONTEST_DAYS_MIN = 30.0
#: Distances are capped here (km): beyond it, farther makes no difference to the model.
DISTANCE_CAP_KM = 60.0

#: The land uses, in the order of their integer codes (a categorical feature).
LAND_USES: tuple[LandUse, ...] = tuple(LandUse)

#: Feature names, in column order.
FEATURES: tuple[str, ...] = (
    "front_km", "inside_zone", "contested_days", "road_km", "settlement_km", "land_use", "cha", "mines_expected",
    "log10_area_m2", "finds_nearby", "found_share_nearby",
)
#: The column holding a category code (HistGradientBoostingClassifier's ``categorical_features``).
CATEGORICAL: tuple[str, ...] = ("land_use",)


@dataclass(frozen=True, slots=True)
class HazardInput:
    """What the model may know of an area: its perimeter (WGS84), land use, the class it was first recorded with,
    the devices expected (as recorded) and its size."""

    hazard_id: str
    geometry: BaseGeometry
    land_use: LandUse
    recorded_class: HazardClass
    device_categories: frozenset[DeviceCategory]


@dataclass(frozen=True, slots=True)
class Find:
    """Devices found (``quantity``) at ``position`` (WGS84) by an activity on area ``hazard_id``."""

    hazard_id: str
    position: Point
    quantity: int = 1


@dataclass(frozen=True)
class Context:
    """The register around the areas: the contested zone and the international border (None: not recorded), road
    geometry, settlements (point, population) and devices found, all WGS84. ``known`` is each area with a recorded
    outcome: True when devices were found in it, False when it was processed and none were."""

    zone: BaseGeometry | None = None
    border: BaseGeometry | None = None
    roads: tuple[BaseGeometry, ...] = ()
    settlements: tuple[Point, ...] = ()
    finds: tuple[Find, ...] = ()
    known: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class FeatureTable:
    """One row per area (``ids``), one column per name in ``FEATURES``; NaN where a feature is unknown. ``x_km`` and
    ``y_km`` are the areas' centroids in the local projection (for spatial blocks)."""

    ids: tuple[str, ...]
    values: Floats
    x_km: Floats
    y_km: Floats

    def column(self, name: str) -> Floats:
        return np.asarray(self.values[:, FEATURES.index(name)], dtype=np.float64)


def contested_line(zone: BaseGeometry, border: BaseGeometry | None) -> BaseGeometry:
    """The line that was fought over: the zone's boundary away from the border (within 300 m of it is the border)."""
    boundary = zone.boundary
    if border is None or border.is_empty:
        return boundary
    return boundary.difference(border.buffer(300.0))


def contest_days(front_m: Floats, border_m: Floats, inside: npt.NDArray[np.bool_]) -> Floats:
    """Days each place was fought over: 0 outside the zone; inside, from ``CONTEST_DAYS_MIN`` at the contested line
    to ``CONTEST_DAYS_MAX`` at the border, linear in the place's share of the way (assumption, module docstring)."""
    total = front_m + border_m
    share = np.where(total > 0, front_m / np.where(total > 0, total, 1.0), 0.0)
    days = CONTEST_DAYS_MIN + (CONTEST_DAYS_MAX - CONTEST_DAYS_MIN) * share
    return np.where(inside, days, 0.0)


def nearby_finds(polys: Sequence[BaseGeometry], ids: Sequence[str], finds: Sequence[Find], positions: Sequence[Point],
                 radius_m: float) -> Floats:
    """Devices found within ``radius_m`` of each area (local geometry), **not** counting those recorded on the area
    itself nor those lying inside its perimeter: the area's own finds are its label."""
    out = np.zeros(len(polys))
    if not finds:
        return out
    tree = shapely.STRtree(np.array(positions, dtype=object))
    for i, (poly, hid) in enumerate(zip(polys, ids, strict=True)):
        near = tree.query(poly, predicate="dwithin", distance=radius_m)
        out[i] = sum(finds[int(j)].quantity for j in near
                     if finds[int(j)].hazard_id != hid and not poly.covers(positions[int(j)]))
    return out


def found_share(polys: Sequence[BaseGeometry], ids: Sequence[str], known: dict[str, bool], radius_m: float) -> Floats:
    """Among the *other* areas with a recorded outcome within ``radius_m`` of each area, the share where devices were
    found (NaN when there is none): the area's own outcome is left out."""
    out = np.full(len(polys), np.nan)
    labelled = [i for i, hid in enumerate(ids) if hid in known]
    if not labelled:
        return out
    tree = shapely.STRtree(np.array([polys[i] for i in labelled], dtype=object))
    for i, (poly, hid) in enumerate(zip(polys, ids, strict=True)):
        near = [ids[labelled[int(j)]] for j in tree.query(poly, predicate="dwithin", distance=radius_m)]
        outcomes = [known[o] for o in near if o != hid]
        if outcomes:
            out[i] = sum(outcomes) / len(outcomes)
    return out


def feature_table(hazards: Sequence[HazardInput], context: Context, *, nearby_km: float = NEARBY_KM) -> FeatureTable:
    """The features of ``hazards`` given ``context`` (see the module docstring)."""
    n = len(hazards)
    if n == 0:
        empty = np.zeros(0)
        return FeatureTable((), np.zeros((0, len(FEATURES))), empty, empty)
    proj = LocalProjection.around(shapely.union_all([shapely.envelope(h.geometry) for h in hazards]))
    polys = [proj.to_local(h.geometry) for h in hazards]
    arr = np.array(polys, dtype=object)
    cap = DISTANCE_CAP_KM * 1e3

    def dist_km(geom: BaseGeometry | None) -> Floats:
        if geom is None or geom.is_empty:
            return np.full(n, np.nan)
        return np.asarray(np.minimum(shapely.distance(geom, arr), cap), dtype=np.float64) / 1e3

    if context.zone is not None and not context.zone.is_empty:
        zone = proj.to_local(context.zone)
        border = proj.to_local(context.border) if context.border is not None else None
        line = contested_line(zone, border)
        front = np.asarray(shapely.distance(line, arr), dtype=np.float64)
        inside = np.asarray(shapely.intersects(zone, shapely.centroid(arr)), dtype=bool)
        if border is not None and not border.is_empty:
            days = contest_days(front, np.asarray(shapely.distance(border, arr), dtype=np.float64), inside)
        else:  # without the border the way from the line to it is unknown: so are the days, inside the zone
            days = np.where(inside, np.nan, 0.0)
        front_km = np.minimum(front, cap) / 1e3
        inside_f = inside.astype(np.float64)
    else:
        front_km = inside_f = days = np.full(n, np.nan)
    roads = (proj.to_local(shapely.union_all(list(context.roads))) if context.roads else None)
    towns = (proj.to_local(shapely.multipoints(list(context.settlements))) if context.settlements else None)
    ids = [h.hazard_id for h in hazards]
    positions = [proj.to_local(f.position) for f in context.finds]
    radius = nearby_km * 1e3
    assert all(isinstance(p, Point) for p in positions)
    values = np.column_stack([
        front_km,
        inside_f,
        days,
        dist_km(roads),
        dist_km(towns),
        np.array([LAND_USES.index(h.land_use) for h in hazards], dtype=np.float64),
        np.array([h.recorded_class is HazardClass.CHA for h in hazards], dtype=np.float64),
        np.array([bool(h.device_categories & MINE_CATEGORIES) for h in hazards], dtype=np.float64),
        np.array([math.log10(max(1.0, p.area)) for p in polys]),
        nearby_finds(polys, ids, context.finds, [p for p in positions if isinstance(p, Point)], radius),
        found_share(polys, ids, context.known, radius),
    ])
    cent = shapely.centroid(arr)
    return FeatureTable(tuple(ids), values, np.asarray(shapely.get_x(cent)) / 1e3,
                        np.asarray(shapely.get_y(cent)) / 1e3)
