"""Synthetic hazard areas: where a front line leaves mines and explosive remnants (local metric projection).

Each hazard comes from one *component* of a mixture (the former front line, the zone's interior, roads and
settlements in and near the zone, the depth behind the front, scattered strikes anywhere in the oblast). Its
size is drawn from the real BiH distribution, its shape is a perturbed ellipse, and it is placed so that it
does not overlap earlier hazards (a few placements are tried; the least overlapping one wins if none is
clear).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.figures import HazardSizeDistribution
from sapper.domain.hazards import DeviceCategory, Evidence, HazardClass, LandUse
from sapper.errors import Fault, ValidationError
from sapper.scenario._network import Frame, Link, Place
from sapper.scenario._synth import (
    Along,
    OverlapGrid,
    irregular_polygon,
    offset_point,
    point_along,
    random_points_in,
    sample_sizes,
)
from sapper.scenario._zone import largest_polygon


class Component(StrEnum):
    """Where a synthetic hazard comes from."""

    FRONT = "front"  # along the former front line (the zone's boundary inside the oblast), both sides
    INSIDE = "inside"  # anywhere inside the contested zone
    ROADS = "roads"  # on and beside roads in and near the zone
    SETTLEMENTS = "settlements"  # in and around settlements in and near the zone
    DEPTH = "depth"  # behind the front, thinning out with distance
    SCATTERED = "scattered"  # strikes and unexploded ordnance anywhere in the oblast


#: Relative odds that a hazard of a component is confirmed (CHA) rather than suspected; scaled to the CHA
#: share.
CHA_ODDS: dict[Component, float] = {
    Component.FRONT: 1.3,
    Component.INSIDE: 1.0,
    Component.ROADS: 1.2,
    Component.SETTLEMENTS: 0.9,
    Component.DEPTH: 0.4,
    Component.SCATTERED: 0.2,
}

#: Probability of each device category by land use (assumption, plausible for a 2024–25 front line).
_CATEGORIES = (DeviceCategory.AP_MINE, DeviceCategory.AT_MINE, DeviceCategory.ERW_UXO, DeviceCategory.CLUSTER,
               DeviceCategory.IED)


def _odds(ap: float, at: float, erw: float, cluster: float, ied: float) -> dict[DeviceCategory, float]:
    return dict(zip(_CATEGORIES, (ap, at, erw, cluster, ied), strict=True))


DEVICE_ODDS: dict[LandUse, dict[DeviceCategory, float]] = {
    #                                  AP    AT    ERW   cluster IED
    LandUse.AGRICULTURAL: _odds(0.50, 0.60, 0.55, 0.25, 0.05),
    LandUse.FOREST: _odds(0.65, 0.25, 0.50, 0.15, 0.25),
    LandUse.RESIDENTIAL: _odds(0.25, 0.10, 0.80, 0.30, 0.45),
    LandUse.INFRASTRUCTURE: _odds(0.30, 0.65, 0.55, 0.20, 0.20),
    LandUse.WETLAND: _odds(0.40, 0.15, 0.60, 0.10, 0.05),
    LandUse.OTHER: _odds(0.35, 0.35, 0.60, 0.20, 0.10),
}

#: Away from the front (depth, scattered strikes) hazards are mostly unexploded ordnance and submunitions.
STRIKE_DEVICE_ODDS: dict[DeviceCategory, float] = _odds(0.10, 0.08, 0.90, 0.45, 0.02)

#: Land use of open country, where no settlement, road or river decides it (Kursk Oblast is mostly farmland).
OPEN_LAND_USE: tuple[tuple[LandUse, float], ...] = (
    (LandUse.AGRICULTURAL, 0.66), (LandUse.FOREST, 0.27), (LandUse.OTHER, 0.07),
)


@dataclass(frozen=True, slots=True)
class HazardParams:
    count: int
    cha_share: float
    mix: tuple[tuple[Component, float], ...]
    front_scale_m: float
    depth_scale_m: float
    placement_attempts: int
    beneficiary_radius_m: float
    sha_clearance_share: tuple[float, float]
    cha_clearance_share: tuple[float, float]
    sha_direct_evidence: float
    sizes: HazardSizeDistribution


@dataclass(frozen=True, slots=True)
class HazardDraft:
    """A hazard before it becomes a ``HazardArea``: local geometry and its attributes."""

    geometry: Polygon
    component: Component
    hazard_class: HazardClass
    evidence: Evidence
    devices: frozenset[DeviceCategory]
    land_use: LandUse
    beneficiaries: int
    clearance_share: float


def synthetic_hazards(
    rng: np.random.Generator,
    frame: Frame,
    places: list[Place],
    roads: list[Link],
    rivers: list[BaseGeometry],
    params: HazardParams,
) -> list[HazardDraft]:
    """``params.count`` hazards inside the oblast, none or little overlapping, with plausible attributes."""
    comps = [c for c, _ in params.mix]
    weights = np.array([w for _, w in params.mix], dtype=float)
    which = rng.choice(len(comps), size=params.count, p=weights / weights.sum())
    sizes = sample_sizes(rng, params.count, params.sizes)
    sampler = _LocationSampler(rng, frame, places, roads, params)
    oblast = frame.oblast
    shapely.prepare(oblast)
    grid = OverlapGrid()
    geoms: list[Polygon] = []
    for k in range(params.count):
        comp = comps[int(which[k])]
        best: tuple[float, Polygon] | None = None
        for _ in range(max(1, params.placement_attempts)):
            centre = sampler.draw(comp)
            poly = irregular_polygon(rng, float(sizes[k]), (centre.x, centre.y))
            if not oblast.contains(poly):
                poly = largest_polygon(poly.intersection(oblast))
                if poly.is_empty or poly.area < 0.5 * sizes[k]:
                    continue
            share = grid.overlap_m2(poly) / poly.area
            if best is None or share < best[0]:
                best = (share, poly)
            if share == 0.0:
                break
        while best is None:  # every attempt fell outside the oblast: fall back to the interior
            centre = random_points_in(rng, frame.zone, 1)[0]
            raw = irregular_polygon(rng, float(sizes[k]), (centre.x, centre.y))
            poly = largest_polygon(raw.intersection(oblast))
            if not poly.is_empty:
                best = (grid.overlap_m2(poly) / poly.area, poly)
        grid.add(best[1])
        geoms.append(best[1])
    return _attributes(rng, frame, places, roads, rivers, params, [comps[int(i)] for i in which], geoms)


class _LocationSampler:
    """Centres of hazards by component."""

    def __init__(self, rng: np.random.Generator, frame: Frame, places: list[Place], roads: list[Link],
                 params: HazardParams) -> None:
        self.rng = rng
        self.frame = frame
        self.params = params
        near_zone = frame.zone.buffer(3_000.0)
        near_roads = shapely.intersection(MultiLineString([r.line for r in roads]), near_zone)
        if near_roads.is_empty or near_roads.length == 0:
            raise ValidationError("scenario", [Fault("scenario", "no road runs near the contested zone")])
        self.near_roads = Along(near_roads)
        self.front = Along(frame.front)
        t = frame.intensity([p.point for p in places])
        self.hot = [(p, float(w)) for p, w in zip(places, t, strict=True) if w >= 0.3]
        if not self.hot:
            raise ValidationError("scenario", [Fault("scenario", "no settlement is near the contested zone")])
        w = np.array([math.sqrt(p.population) * tw for p, tw in self.hot])
        self.hot_p = w / w.sum()

    def draw(self, comp: Component) -> Point:
        rng, frame = self.rng, self.frame
        if comp in (Component.FRONT, Component.DEPTH):
            scale = self.params.front_scale_m if comp is Component.FRONT else self.params.depth_scale_m
            return offset_point(rng, point_along(rng, self.front), float(rng.exponential(scale)))
        if comp is Component.INSIDE:
            return random_points_in(rng, frame.zone, 1)[0]
        if comp is Component.ROADS:
            return offset_point(rng, point_along(rng, self.near_roads), abs(float(rng.normal(0.0, 60.0))))
        if comp is Component.SETTLEMENTS:
            place = self.hot[int(rng.choice(len(self.hot), p=self.hot_p))][0]
            return offset_point(rng, place.point, abs(float(rng.normal(0.0, place.spread_m))))
        return random_points_in(rng, frame.oblast, 1)[0]


def _attributes(
    rng: np.random.Generator,
    frame: Frame,
    places: list[Place],
    roads: list[Link],
    rivers: list[BaseGeometry],
    params: HazardParams,
    comps: list[Component],
    geoms: list[Polygon],
) -> list[HazardDraft]:
    arr = np.array(geoms, dtype=object)
    road_d = _distance_to(MultiLineString([r.line for r in roads]), arr)
    river_d = _distance_to(shapely.union_all(rivers), arr) if rivers else np.full(len(geoms), np.inf)
    cx, cy = shapely.get_x(shapely.centroid(arr)), shapely.get_y(shapely.centroid(arr))
    px = np.array([p.point.x for p in places])
    py = np.array([p.point.y for p in places])
    place_d = np.hypot(cx[:, None] - px[None, :], cy[:, None] - py[None, :])
    nearest = np.argmin(place_d, axis=1)
    # direct evidence makes a CHA (IMAS 08.10): the areas confirmed by direct evidence among the rest count towards
    # the CHA share, so the first draw aims at p with p + (1 - p) * direct = cha_share
    direct_share = params.sha_direct_evidence
    first = max(0.0, (params.cha_share - direct_share) / (1.0 - direct_share)) if direct_share < 1 else 0.0
    cha_base = first / sum(w * CHA_ODDS[c] for c, w in _normalised(params.mix))
    out: list[HazardDraft] = []
    for k, (comp, poly) in enumerate(zip(comps, geoms, strict=True)):
        place = places[int(nearest[k])]
        d_place = float(place_d[k, nearest[k]])
        land = _land_use(rng, comp, d_place <= 1.5 * place.spread_m, float(road_d[k]), float(river_d[k]))
        odds = STRIKE_DEVICE_ODDS if comp in (Component.DEPTH, Component.SCATTERED) else DEVICE_ODDS[land]
        draws = rng.random(len(odds))
        devices = frozenset(cat for cat, u in zip(odds, draws, strict=True) if u < odds[cat])
        if not devices:
            devices = frozenset({DeviceCategory.ERW_UXO})
        is_cha = float(rng.random()) < min(1.0, cha_base * CHA_ODDS[comp])
        if is_cha or float(rng.random()) < params.sha_direct_evidence:
            hazard_class, evidence = HazardClass.CHA, Evidence.DIRECT
            share = float(rng.uniform(*params.cha_clearance_share))
        else:
            hazard_class, evidence = HazardClass.SHA, Evidence.INDIRECT
            share = float(rng.uniform(*params.sha_clearance_share))
        radius = params.beneficiary_radius_m
        beneficiaries = round(place.population * max(0.0, 1.0 - d_place / radius))
        out.append(HazardDraft(poly, comp, hazard_class, evidence, devices, land, beneficiaries,
                               round(share, 3)))
    return out


def _distance_to(lines: BaseGeometry, geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    """Each of ``geoms``' distance to ``lines`` (a (Multi)LineString): the nearest of its parts by an STRtree, the
    same figure as ``shapely.distance`` against the whole, which measures every part for every geometry."""
    parts = np.array(list(getattr(lines, "geoms", [lines])), dtype=object)
    parts = parts[~shapely.is_empty(parts)]
    out = np.full(len(geoms), np.inf)
    if not len(parts) or not len(geoms):
        return out
    (which, _), dist = shapely.STRtree(parts).query_nearest(geoms, return_distance=True, all_matches=False)
    out[which] = dist
    return out


def _land_use(rng: np.random.Generator, comp: Component, in_settlement: bool, road_m: float, river_m: float
              ) -> LandUse:
    u = float(rng.random())
    if comp is Component.SETTLEMENTS or in_settlement:
        if u < (0.85 if comp is Component.SETTLEMENTS else 0.6):
            return LandUse.RESIDENTIAL
    elif comp is Component.ROADS or road_m <= 100.0:
        if u < (0.85 if comp is Component.ROADS else 0.5):
            return LandUse.INFRASTRUCTURE
    elif river_m <= 400.0 and u < 0.5:
        return LandUse.WETLAND
    v = float(rng.random())
    acc = 0.0
    for land, p in OPEN_LAND_USE:
        acc += p
        if v < acc:
            return land
    return OPEN_LAND_USE[-1][0]


def _normalised(mix: tuple[tuple[Component, float], ...]) -> list[tuple[Component, float]]:
    total = sum(w for _, w in mix)
    return [(c, w / total) for c, w in mix]
