"""The synthetic contested zone: an area of a target size adjoining the border around named towns.

Built in a local metric projection: the filled polygon between the towns and the border stretch nearest to
them, plus that stretch extended on both sides, buffered by a distance found by bisection so that the part
inside the oblast has the target area. The result touches the border (it is clipped by the oblast, whose edge
there is the border) and contains the towns.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge, substring

from sapper.errors import Fault, ValidationError

#: The zone's area is found within this relative tolerance.
AREA_RTOL = 1e-3


def border_section(border: BaseGeometry, oblast: Polygon, *, within_m: float = 1_000.0) -> LineString:
    """The longest continuous stretch of ``border`` along ``oblast`` (local metric geometry)."""
    near = border.intersection(oblast.buffer(within_m))
    merged = linemerge(near) if isinstance(near, MultiLineString) else near
    parts = list(merged.geoms) if isinstance(merged, MultiLineString) else [merged]
    lines = [p for p in parts if isinstance(p, LineString) and not p.is_empty]
    if not lines:
        raise ValidationError("contested zone", [Fault("contested zone", "no border runs along the oblast")])
    return max(lines, key=lambda g: g.length)


def largest_polygon(geom: BaseGeometry) -> Polygon:
    """The largest polygon of ``geom`` (a Polygon, MultiPolygon or collection); empty Polygon if there is
    none.
    """
    if isinstance(geom, Polygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    flat = [p for g in polys for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return max(flat, key=lambda p: p.area) if flat else Polygon()


def contested_zone(
    oblast: Polygon,
    section: LineString,
    anchors: Sequence[Point],
    *,
    target_m2: float,
    extend_m: float,
) -> tuple[Polygon, float]:
    """The zone (local metric polygon) and the buffer distance (m) that gives it ``target_m2`` inside
    ``oblast``.
    """
    positions = [section.project(a) for a in anchors]
    lo = max(0.0, min(positions) - extend_m)
    hi = min(section.length, max(positions) + extend_m)
    stretch = substring(section, lo, hi)
    # The filled polygon: first anchor → along the border → last anchor → back through the others, taking the
    # anchors in the order in which they face the border.
    order = sorted(range(len(anchors)), key=lambda i: positions[i])
    first, last = order[0], order[-1]
    ring: list[tuple[float, float]] = [(anchors[first].x, anchors[first].y)]
    ring.extend(substring(section, positions[first], positions[last]).coords)
    ring.extend((anchors[i].x, anchors[i].y) for i in reversed(order))
    core = shapely.make_valid(Polygon(ring)) if len(ring) >= 3 else shapely.GeometryCollection()
    seed = shapely.union_all([core, stretch, *anchors])
    prepared_oblast = oblast.buffer(0)
    shapely.prepare(prepared_oblast)

    def zone_at(d: float) -> Polygon:
        return largest_polygon(seed.buffer(d, quad_segs=16).intersection(prepared_oblast))

    low, high = 0.0, 5_000.0
    while zone_at(high).area < target_m2:
        high *= 2.0
        if high > 200_000.0:
            reason = f"cannot reach {target_m2 / 1e6:.0f} km² inside the oblast"
            raise ValidationError("contested zone", [Fault("contested zone", reason, "target_m2")])
    zone = zone_at(high)
    for _ in range(60):
        mid = (low + high) / 2.0
        zone = zone_at(mid)
        if abs(zone.area - target_m2) <= AREA_RTOL * target_m2:
            return zone, mid
        low, high = (mid, high) if zone.area < target_m2 else (low, mid)
    return zone, (low + high) / 2.0
