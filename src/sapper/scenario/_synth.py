"""Sampling primitives for synthetic scenarios, all in a local metric projection and all driven by an explicit
``numpy.random.Generator`` (never global randomness).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.figures import HazardSizeDistribution

FloatArray = NDArray[np.float64]


def sample_sizes(rng: np.random.Generator, n: int, dist: HazardSizeDistribution) -> FloatArray:
    """``n`` areas (m²) drawn from ``dist`` by inverse transform, log-linear between its quantiles."""
    probs = np.array([q for q, _ in dist.quantiles], dtype=float)
    logs = np.log(np.array([v for _, v in dist.quantiles], dtype=float))
    sizes: FloatArray = np.exp(np.interp(rng.random(n), probs, logs))
    return sizes


def irregular_polygon(
    rng: np.random.Generator,
    area_m2: float,
    centre: tuple[float, float],
    *,
    vertices: tuple[int, int] = (8, 16),
    max_aspect: float = 3.0,
    roughness: float = 0.18,
) -> Polygon:
    """A perturbed ellipse of exactly ``area_m2`` around ``centre``; star-shaped, hence simple."""
    n = int(rng.integers(vertices[0], vertices[1] + 1))
    step = 2.0 * math.pi / n
    angles = np.arange(n) * step + rng.uniform(-0.3, 0.3, n) * step
    radii = np.clip(1.0 + rng.normal(0.0, roughness, n), 0.55, 1.5)
    aspect = float(rng.uniform(1.0, max_aspect))
    rot = float(rng.uniform(0.0, math.pi))
    x = radii * np.cos(angles) * math.sqrt(aspect)
    y = radii * np.sin(angles) / math.sqrt(aspect)
    xr = x * math.cos(rot) - y * math.sin(rot)
    yr = x * math.sin(rot) + y * math.cos(rot)
    # shapely.polygons, not Polygon(): the same geometry without the constructor's Python checks (a national build
    # makes 100,000 of these: 0.3 ms each that way)
    unit = shapely.polygons(np.column_stack([xr, yr]))
    scale = math.sqrt(area_m2 / float(shapely.area(unit)))
    poly: Polygon = shapely.polygons(np.column_stack([centre[0] + xr * scale, centre[1] + yr * scale]))
    return poly


def wiggly_line(
    rng: np.random.Generator,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    step_m: float = 1_500.0,
    amplitude: float = 0.04,
) -> LineString:
    """A line from ``start`` to ``end`` with a smooth sideways meander of at most ``amplitude`` × its length.

    Progress along the chord is monotone, so the line never crosses itself.
    """
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    k = max(2, math.ceil(length / step_m))
    t = np.linspace(0.0, 1.0, k + 1)
    walk = np.concatenate([[0.0], np.cumsum(rng.normal(0.0, 1.0, k))])
    walk -= walk[-1] * t  # pin both ends to the chord
    peak = float(np.max(np.abs(walk)))
    offset = walk / peak * amplitude * length * float(rng.uniform(0.3, 1.0)) if peak > 0 else walk
    nx, ny = (-(y1 - y0) / length, (x1 - x0) / length) if length > 0 else (0.0, 0.0)
    return LineString(np.column_stack([x0 + (x1 - x0) * t + nx * offset, y0 + (y1 - y0) * t + ny * offset]))


def minimum_spanning_tree(xy: FloatArray) -> list[tuple[int, int]]:
    """Edges (i < j) of the Euclidean minimum spanning tree of ``xy`` (Prim, O(n²)); ties go to the lower
    index.
    """
    n = len(xy)
    if n < 2:
        return []
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best = dist[0].copy()
    parent = np.zeros(n, dtype=int)
    edges: list[tuple[int, int]] = []
    for _ in range(n - 1):
        cand = np.where(in_tree, np.inf, best)
        j = int(np.argmin(cand))
        i = int(parent[j])
        edges.append((min(i, j), max(i, j)))
        in_tree[j] = True
        closer = dist[j] < best
        best = np.where(closer, dist[j], best)
        parent = np.where(closer, j, parent)
    return sorted(edges)


def random_points_in(rng: np.random.Generator, polygon: BaseGeometry, n: int) -> list[Point]:
    """``n`` points uniform in ``polygon`` (rejection from its bounding box), in draw order."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    out: list[Point] = []
    while len(out) < n:
        xs = rng.uniform(minx, maxx, 4 * (n - len(out)) + 8)
        ys = rng.uniform(miny, maxy, len(xs))
        pts = shapely.points(xs, ys)
        out.extend(p for p in pts[shapely.contains_xy(polygon, xs, ys)][: n - len(out)])
    return out


class Along:
    """A line's parts and their odds by length, found once for many draws of :func:`point_along` (splitting a road
    network of thousands of parts and measuring each, on every draw, was a fifth of a national build)."""

    def __init__(self, line: BaseGeometry) -> None:
        self.parts: Sequence[LineString] = list(getattr(line, "geoms", [line]))
        self.lengths = np.array([p.length for p in self.parts])
        self.odds = self.lengths / self.lengths.sum()


def point_along(rng: np.random.Generator, line: BaseGeometry | Along) -> Point:
    """A point uniform by length along ``line`` (a LineString or MultiLineString, or its :class:`Along`)."""
    along = line if isinstance(line, Along) else Along(line)
    k = int(rng.choice(len(along.parts), p=along.odds))
    point: Point = along.parts[k].interpolate(float(rng.uniform(0.0, float(along.lengths[k]))))
    return point


def offset_point(rng: np.random.Generator, p: Point, radius_m: float) -> Point:
    """``p`` moved by ``radius_m`` in a uniform random direction."""
    a = float(rng.uniform(0.0, 2.0 * math.pi))
    moved: Point = shapely.points(p.x + radius_m * math.cos(a), p.y + radius_m * math.sin(a))
    return moved


class OverlapGrid:
    """Polygons placed so far, hashed on a square grid, answering "how much would this overlap?"
    incrementally.

    (shapely's STRtree cannot grow; a grid keeps placement O(1) per candidate and its answers in a stable
    order.)
    """

    def __init__(self, cell_m: float = 2_000.0) -> None:
        self.cell_m = cell_m
        self.geoms: list[Polygon] = []
        self._cells: dict[tuple[int, int], list[int]] = {}

    def _keys(self, geom: BaseGeometry) -> list[tuple[int, int]]:
        minx, miny, maxx, maxy = geom.bounds
        c = self.cell_m
        return [(i, j) for i in range(math.floor(minx / c), math.floor(maxx / c) + 1)
                for j in range(math.floor(miny / c), math.floor(maxy / c) + 1)]

    def neighbours(self, geom: BaseGeometry) -> list[int]:
        return sorted({k for key in self._keys(geom) for k in self._cells.get(key, [])})

    def overlap_m2(self, geom: BaseGeometry) -> float:
        idx = self.neighbours(geom)
        if not idx:
            return 0.0
        others = np.array([self.geoms[i] for i in idx], dtype=object)
        hits = others[shapely.intersects(others, geom)]
        return float(sum(shapely.area(shapely.intersection(hits, geom)))) if len(hits) else 0.0

    def add(self, geom: Polygon) -> int:
        k = len(self.geoms)
        self.geoms.append(geom)
        for key in self._keys(geom):
            self._cells.setdefault(key, []).append(k)
        return k


def to_wgs84_many(geoms: Sequence[BaseGeometry], to_wgs84: Transformer) -> list[BaseGeometry]:
    """Transform many local geometries to WGS84 in one pass."""
    if not geoms:
        return []
    arr = np.array(list(geoms), dtype=object)

    def fwd(xy: FloatArray) -> FloatArray:
        lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return list(shapely.transform(arr, fwd))
