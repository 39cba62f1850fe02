"""Synthetic damaged assets on the synthetic networks, in a local metric projection.

An element (road section, bridge, power-line section, substation, water facility, school, clinic) is damaged
with a probability that rises from a small base far away to a peak inside the contested zone; how badly it is
damaged follows the same intensity. Houses fill the asset count up, clustered in the settlements in and near
the zone. Builder-day figures are synthetic assumptions (see ``WORK_RANGES``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from sapper.domain.assets import AssetType, DamageLevel
from sapper.domain.resources import Trade
from sapper.scenario._network import Frame, Link, Place

#: Builder-days to repair one unit (a km for roads and power lines, else one facility), lowest (light damage)
#: to highest (destroyed). Synthetic assumptions in the ranges the scenario brief sets.
WORK_RANGES: dict[AssetType, tuple[float, float]] = {
    AssetType.ROAD: (100.0, 600.0),  # per km
    AssetType.BRIDGE: (500.0, 3_000.0),
    AssetType.POWER_LINE: (60.0, 200.0),  # per km
    AssetType.SUBSTATION: (500.0, 2_000.0),
    AssetType.WATER: (200.0, 1_500.0),
    AssetType.SCHOOL: (300.0, 2_000.0),
    AssetType.CLINIC: (300.0, 1_500.0),
    AssetType.HOUSE: (50.0, 400.0),
}

#: Where in its range each damage level falls (fractions of the range). Assumption.
DAMAGE_BANDS: dict[DamageLevel, tuple[float, float]] = {
    DamageLevel.LIGHT: (0.0, 0.25),
    DamageLevel.MODERATE: (0.2, 0.5),
    DamageLevel.SEVERE: (0.45, 0.8),
    DamageLevel.DESTROYED: (0.75, 1.0),
}

#: How the work splits between trades, by asset type (assumption).
TRADE_SPLIT: dict[AssetType, tuple[tuple[Trade, float], ...]] = {
    AssetType.ROAD: ((Trade.ROAD, 1.0),),
    AssetType.BRIDGE: ((Trade.BRIDGE, 1.0),),
    AssetType.POWER_LINE: ((Trade.POWER, 1.0),),
    AssetType.SUBSTATION: ((Trade.POWER, 0.8), (Trade.BUILDING, 0.2)),
    AssetType.WATER: ((Trade.WATER, 1.0),),
    AssetType.SCHOOL: ((Trade.BUILDING, 0.75), (Trade.POWER, 0.1), (Trade.WATER, 0.15)),
    AssetType.CLINIC: ((Trade.BUILDING, 0.7), (Trade.POWER, 0.15), (Trade.WATER, 0.15)),
    AssetType.HOUSE: ((Trade.BUILDING, 1.0),),
}

#: Probability that an element is damaged: (far from the zone, inside it). Assumption.
DAMAGE_ODDS: dict[AssetType, tuple[float, float]] = {
    AssetType.ROAD: (0.01, 0.85),
    AssetType.BRIDGE: (0.03, 0.90),
    AssetType.POWER_LINE: (0.02, 0.90),
    AssetType.SUBSTATION: (0.03, 0.95),
    AssetType.WATER: (0.03, 0.90),
    AssetType.SCHOOL: (0.02, 0.85),
    AssetType.CLINIC: (0.02, 0.85),
    AssetType.HOUSE: (0.0, 1.0),
}

#: Damage-level probabilities far from the zone and inside it; interpolated by intensity. Assumption.
LEVELS = (DamageLevel.LIGHT, DamageLevel.MODERATE, DamageLevel.SEVERE, DamageLevel.DESTROYED)
LEVEL_ODDS_FAR = np.array([0.55, 0.30, 0.12, 0.03])
LEVEL_ODDS_ZONE = np.array([0.10, 0.25, 0.35, 0.30])


@dataclass(frozen=True, slots=True)
class AssetParams:
    asset_count: int
    max_section_m: float
    house_min_intensity: float
    people_cap: int


@dataclass(frozen=True, slots=True)
class AssetDraft:
    asset_type: AssetType
    geometry: BaseGeometry
    damage: DamageLevel
    repair_work: dict[Trade, float]
    criticality: int
    people_served: int
    name: str


def _short(place: Place) -> str:
    return place.name.removesuffix(" (synthetic)")


class _Damager:
    def __init__(self, rng: np.random.Generator, frame: Frame) -> None:
        self.rng = rng
        self.frame = frame

    def draw(self, asset_type: AssetType, geoms: list[BaseGeometry]) -> list[DamageLevel | None]:
        """A damage level for each element, or None where it is undamaged."""
        if not geoms:
            return []
        t = self.frame.intensity(geoms)
        far, peak = DAMAGE_ODDS[asset_type]
        hit = self.rng.random(len(geoms)) < far + (peak - far) * t
        out: list[DamageLevel | None] = []
        for k, ti in enumerate(t):
            p = LEVEL_ODDS_FAR + (LEVEL_ODDS_ZONE - LEVEL_ODDS_FAR) * float(ti)
            level = LEVELS[int(self.rng.choice(len(LEVELS), p=p / p.sum()))]
            out.append(level if hit[k] else None)
        return out

    def work(self, asset_type: AssetType, level: DamageLevel, units: float = 1.0) -> dict[Trade, float]:
        lo, hi = WORK_RANGES[asset_type]
        a, b = DAMAGE_BANDS[level]
        total = (lo + (hi - lo) * float(self.rng.uniform(a, b))) * units
        return {trade: round(total * share, 1) for trade, share in TRADE_SPLIT[asset_type]}


def synthetic_assets(
    rng: np.random.Generator,
    frame: Frame,
    places: list[Place],
    roads: list[Link],
    rivers: list[BaseGeometry],
    substations: list[int],
    power_lines: list[Link],
    params: AssetParams,
) -> list[AssetDraft]:
    """Damaged assets of every type; houses fill the count up to ``params.asset_count``."""
    dmg = _Damager(rng, frame)
    cap = params.people_cap
    out: list[AssetDraft] = []

    # Roads, in sections of at most max_section_m; bridges where roads cross rivers.
    for link in roads:
        a, b = places[link.a], places[link.b]
        people = min(cap, (a.population + b.population) // 2)
        n = max(1, math.ceil(link.line.length / params.max_section_m))
        step = link.line.length / n
        sections = [substring(link.line, i * step, (i + 1) * step) for i in range(n)]
        levels = dmg.draw(AssetType.ROAD, list(sections))
        for i, (sec, level) in enumerate(zip(sections, levels, strict=True)):
            if level is None or not isinstance(sec, LineString):
                continue
            kind = "Main road" if link.main else "Road"
            km = f"km {i * step / 1000:.0f}–{(i + 1) * step / 1000:.0f}"
            out.append(AssetDraft(AssetType.ROAD, sec, level,
                                  dmg.work(AssetType.ROAD, level, sec.length / 1000.0),
                                  5 if link.main else (3 if a.real or b.real else 2), people,
                                  f"{kind} {_short(a)}–{_short(b)}, {km} (synthetic)"))
        crossings = _crossings(link.line, rivers)
        for level, point in zip(dmg.draw(AssetType.BRIDGE, list(crossings)), crossings, strict=True):
            if level is not None:
                out.append(AssetDraft(AssetType.BRIDGE, point, level, dmg.work(AssetType.BRIDGE, level),
                                      5 if link.main else 3, people,
                                      f"Bridge on the road {_short(a)}–{_short(b)} (synthetic)"))

    # Power lines in sections, and substations.
    for link in power_lines:
        a, b = places[link.a], places[link.b]
        people = min(cap, a.population + b.population)
        n = max(1, math.ceil(link.line.length / params.max_section_m))
        step = link.line.length / n
        sections = [substring(link.line, i * step, (i + 1) * step) for i in range(n)]
        levels = dmg.draw(AssetType.POWER_LINE, list(sections))
        for i, (sec, level) in enumerate(zip(sections, levels, strict=True)):
            if level is not None and isinstance(sec, LineString):
                out.append(AssetDraft(AssetType.POWER_LINE, sec, level,
                                      dmg.work(AssetType.POWER_LINE, level, sec.length / 1000.0),
                                      4 if link.main else 3, people,
                                      f"Power line {_short(a)}–{_short(b)}, section {i + 1}/{n} (synthetic)"))
    xy = np.array([(p.point.x, p.point.y) for p in places])
    sub_points = [_near(rng, places[i], 0.5, frame.oblast) for i in substations]
    for i, point, level in zip(substations, sub_points, dmg.draw(AssetType.SUBSTATION, list(sub_points)),
                               strict=True):
        if level is not None:
            served = _people_within(places, xy, places[i].point, 8_000.0, cap)
            out.append(AssetDraft(AssetType.SUBSTATION, point, level, dmg.work(AssetType.SUBSTATION, level),
                                  5, served, f"Substation {_short(places[i])} (synthetic)"))

    # Facilities in settlements: water supply, schools, clinics.
    for asset_type, min_pop, per, most, label in (
        (AssetType.WATER, 200, 20_000, 4, "Water supply"),
        (AssetType.SCHOOL, 300, 4_000, 8, "School"),
        (AssetType.CLINIC, 800, 25_000, 3, "Clinic"),
    ):
        sites: list[tuple[Place, int, Point]] = []
        for place in places:
            if place.population >= min_pop:
                k_max = 1 + min(most - 1, place.population // per) if place.real else 1
                sites.extend((place, k + 1, _near(rng, place, 0.4, frame.oblast)) for k in range(k_max))
        for (place, k, point), level in zip(sites, dmg.draw(asset_type, [s[2] for s in sites]), strict=True):
            if level is None:
                continue
            if asset_type is AssetType.WATER:
                served, crit = place.population, (5 if place.real else 4)
            elif asset_type is AssetType.SCHOOL:
                served, crit = min(1_000, max(20, place.population // 8)), 4
            else:
                served, crit = _people_within(places, xy, place.point, 15_000.0, cap), 5
            out.append(AssetDraft(asset_type, point, level, dmg.work(asset_type, level), crit,
                                  min(cap, served), f"{label} {k}, {_short(place)} (synthetic)"))

    out.extend(_houses(rng, dmg, frame, places, max(0, params.asset_count - len(out)), params))
    return out


def _houses(rng: np.random.Generator, dmg: _Damager, frame: Frame, places: list[Place], count: int,
            params: AssetParams) -> list[AssetDraft]:
    if count == 0:
        return []
    t = frame.intensity([p.point for p in places])
    hot = [i for i, ti in enumerate(t) if ti >= params.house_min_intensity]
    w = np.array([places[i].population ** 0.6 * float(t[i]) for i in hot])
    picks = rng.choice(len(hot), size=count, p=w / w.sum())
    oblast = frame.oblast
    shapely.prepare(oblast)
    points: list[Point] = []
    where: list[Place] = []
    for k in picks:
        place = places[hot[int(k)]]
        points.append(_near(rng, place, 1.0, oblast))
        where.append(place)
    out: list[AssetDraft] = []
    t_h = frame.intensity(list(points))
    numbers: dict[str, int] = {}
    for place, point, ti in zip(where, points, t_h, strict=True):
        p = LEVEL_ODDS_FAR + (LEVEL_ODDS_ZONE - LEVEL_ODDS_FAR) * float(ti)
        level = LEVELS[int(rng.choice(len(LEVELS), p=p / p.sum()))]
        numbers[place.name] = numbers.get(place.name, 0) + 1
        name = f"House {numbers[place.name]}, {_short(place)} (synthetic)"
        out.append(AssetDraft(AssetType.HOUSE, point, level, dmg.work(AssetType.HOUSE, level), 2,
                              int(rng.integers(1, 6)), name))
    return out


def _near(rng: np.random.Generator, place: Place, spread: float, inside: BaseGeometry) -> Point:
    """A point in ``inside`` near ``place``, normal around it with ``spread`` × its typical spread."""
    for _ in range(100):
        dx, dy = rng.normal(0.0, place.spread_m * spread, 2)
        point = Point(place.point.x + float(dx), place.point.y + float(dy))
        if inside.contains(point):
            return point
    return place.point


def _people_within(places: list[Place], xy: np.ndarray, centre: Point, radius_m: float, cap: int) -> int:
    d = np.hypot(xy[:, 0] - centre.x, xy[:, 1] - centre.y)
    return min(cap, int(sum(p.population for p, di in zip(places, d, strict=True) if di <= radius_m)))


def _crossings(line: LineString, rivers: list[BaseGeometry]) -> list[Point]:
    """Where ``line`` crosses a river, at most one point per 500 m of road."""
    pts: list[Point] = []
    for river in rivers:
        hit = line.intersection(river)
        pts.extend(g for g in getattr(hit, "geoms", [hit]) if isinstance(g, Point) and not g.is_empty)
    pts.sort(key=line.project)
    out: list[Point] = []
    for p in pts:
        if not out or line.project(p) - line.project(out[-1]) > 500.0:
            out.append(p)
    return out
