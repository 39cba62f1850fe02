"""Synthetic settlements and networks of the scenario, in a local metric projection.

The gazetteer lacks villages, roads, rivers and the power grid, so they are generated: villages denser near
the contested zone, a road network over towns and villages (a backbone of main roads between towns, a spanning
tree over every place and some extra links), a few meandering rivers, and a power grid over substations in the
larger places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.scenario._synth import minimum_spanning_tree, random_points_in, wiggly_line


@dataclass(frozen=True, slots=True)
class Place:
    """A settlement in local metres: a real town (``real``) or a synthetic village."""

    name: str
    population: int
    point: Point
    real: bool

    @property
    def spread_m(self) -> float:
        """Typical distance of a building from the centre (assumption: grows as √population)."""
        return 150.0 + 8.0 * math.sqrt(self.population)


@dataclass(frozen=True)
class Frame:
    """The scenario's geography in local metres, and the damage intensity it implies."""

    oblast: Polygon
    zone: Polygon
    front: BaseGeometry
    damage_scale_m: float

    def intensity(self, geoms: list[BaseGeometry]) -> np.ndarray:
        """1 inside the contested zone, falling as exp(−distance / scale) outside it."""
        d = shapely.distance(self.zone, np.array(geoms, dtype=object))
        return np.asarray(np.exp(-np.asarray(d, dtype=float) / self.damage_scale_m), dtype=float)


def synthetic_villages(
    rng: np.random.Generator,
    frame: Frame,
    towns: list[Place],
    *,
    count: int,
    near_scale_m: float,
    floor: float,
    min_spacing_m: float,
    population: tuple[int, int],
) -> list[Place]:
    """``count`` villages in the oblast, each accepted with probability floor + (1 − floor)·exp(−d/scale)."""
    minx, miny, maxx, maxy = frame.oblast.bounds
    taken = [(t.point.x, t.point.y) for t in towns]
    out: list[Place] = []
    lo, hi = population
    while len(out) < count:
        xs = rng.uniform(minx, maxx, 256)
        ys = rng.uniform(miny, maxy, 256)
        keep = rng.random(256)
        inside = shapely.contains_xy(frame.oblast, xs, ys)
        dist = shapely.distance(frame.zone, shapely.points(xs, ys))
        accept = inside & (keep < floor + (1.0 - floor) * np.exp(-dist / near_scale_m))
        for x, y in zip(xs[accept], ys[accept], strict=True):
            if len(out) >= count:
                break
            pts = np.array(taken)
            if np.min(np.hypot(pts[:, 0] - x, pts[:, 1] - y)) < min_spacing_m:
                continue
            pop = int(np.clip(round(float(rng.lognormal(math.log(260.0), 0.85))), lo, hi))
            name = f"Village {len(out) + 1:03d} (synthetic)"
            out.append(Place(name, pop, Point(float(x), float(y)), False))
            taken.append((float(x), float(y)))
    return out


@dataclass(frozen=True, slots=True)
class Link:
    """A line between two places (indices into the place list): a road or a power line."""

    a: int
    b: int
    main: bool
    line: LineString


def road_network(
    rng: np.random.Generator,
    frame: Frame,
    places: list[Place],
    *,
    extra_link_prob: float,
    extra_link_max_m: float,
) -> list[Link]:
    """Main roads: spanning tree over real towns. Local roads: spanning tree over all places plus extra links
    to near neighbours. Links that leave the oblast are dropped (the scenario stays in Kursk Oblast).
    """
    xy = np.array([(p.point.x, p.point.y) for p in places])
    towns = [i for i, p in enumerate(places) if p.real]
    main = {(towns[i], towns[j]) for i, j in minimum_spanning_tree(xy[towns])}
    edges = set(main) | set(minimum_spanning_tree(xy))
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    for i in range(len(places)):
        for j in (int(k) for k in np.argsort(dist[i], kind="stable")[1:4]):
            pair = (min(i, j), max(i, j))
            draw = float(rng.random())
            if pair not in edges and dist[i, j] <= extra_link_max_m and draw < extra_link_prob:
                edges.add(pair)
    area = frame.oblast.buffer(200.0)
    shapely.prepare(area)
    links: list[Link] = []
    for a, b in sorted(edges):
        line = wiggly_line(rng, (xy[a, 0], xy[a, 1]), (xy[b, 0], xy[b, 1]), amplitude=0.05)
        if area.contains(line):
            links.append(Link(a, b, (a, b) in main, line))
    return links


def synthetic_rivers(
    rng: np.random.Generator,
    frame: Frame,
    *,
    count: int,
    length_m: tuple[float, float],
    step_m: float = 1_500.0,
) -> list[LineString]:
    """``count`` meandering rivers flowing roughly south-west (as the Seym and Psel do), clipped to the
    oblast.

    Half of them pass through the contested zone, as the Seym, Psel and Sudzha pass through the border
    districts.
    """
    through = random_points_in(rng, frame.zone, (count + 1) // 2)
    through += random_points_in(rng, frame.oblast, count // 2)
    rivers: list[LineString] = []
    for point in through:
        n = max(2, int(float(rng.uniform(*length_m)) / step_m))
        heading = float(rng.normal(math.radians(215.0), math.radians(30.0)))
        turns = np.cumsum(rng.normal(0.0, math.radians(14.0), n)) * 0.6
        h = heading + turns - turns.mean()
        x = np.concatenate([[0.0], np.cumsum(step_m * np.cos(h))])
        y = np.concatenate([[0.0], np.cumsum(step_m * np.sin(h))])
        m = int(rng.integers(0, n + 1))  # the river passes through ``point`` at its m-th vertex
        line = LineString(np.column_stack([x - x[m] + point.x, y - y[m] + point.y]))
        clipped = line.intersection(frame.oblast)
        parts = clipped.geoms if isinstance(clipped, MultiLineString) else [clipped]
        rivers.extend(p for p in parts if isinstance(p, LineString) and p.length > 5 * step_m)
    return rivers


def power_grid(rng: np.random.Generator, frame: Frame, places: list[Place], *, min_population: int) -> tuple[
        list[int], list[Link]]:
    """Substations (indices of places with at least ``min_population`` people) and the lines of a spanning
    tree between them; lines between two real towns are the main (higher-voltage) ones.
    """
    subs = [i for i, p in enumerate(places) if p.population >= min_population]
    xy = np.array([(places[i].point.x, places[i].point.y) for i in subs])
    area = frame.oblast.buffer(200.0)
    shapely.prepare(area)
    lines: list[Link] = []
    for i, j in minimum_spanning_tree(xy):
        a, b = subs[i], subs[j]
        line = wiggly_line(rng, (xy[i, 0], xy[i, 1]), (xy[j, 0], xy[j, 1]), amplitude=0.02, step_m=3_000.0)
        if area.contains(line):
            lines.append(Link(a, b, places[a].real and places[b].real, line))
    return subs, lines

