"""Sensitive locations: the generalised footprint of a hazard area that a viewer sees instead of its polygon.

The rule (documented in docs/api.md): the geometry is projected to its UTM zone (WGS84 / UTM north, EPSG:326xx, by
the longitude of its centroid); every vertex is replaced by the four corners of the 100 m grid cell it falls in;
the footprint is the convex hull of those corners, taken back to WGS84 (rounded to 6 decimals). So the footprint
covers the whole hazard area (nothing hazardous is shown as outside it), is at least one grid cell, and its
vertices are grid corners: no recorded vertex survives (unless one lies exactly on a grid corner).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

#: Grid cell of the generalised footprint, in metres.
GRID_M = 100.0


def utm_epsg(lon: float, lat: float) -> int:
    """The EPSG code of the WGS84 / UTM zone holding (lon, lat): 326xx north of the equator, 327xx south."""
    zone = min(60, max(1, math.floor((lon + 180.0) / 6.0) + 1))
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=16)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    return (Transformer.from_crs("OGC:CRS84", f"EPSG:{epsg}", always_xy=True),
            Transformer.from_crs(f"EPSG:{epsg}", "OGC:CRS84", always_xy=True))


def generalised_footprint(geom: BaseGeometry, *, grid_m: float = GRID_M) -> BaseGeometry:
    """The generalised footprint of ``geom`` (WGS84): the convex hull of the grid cells its vertices fall in."""
    if geom.is_empty:
        return geom
    centre = geom.centroid
    forward, back = _transformers(utm_epsg(centre.x, centre.y))
    coords = shapely.get_coordinates(geom)
    xs, ys = forward.transform(coords[:, 0], coords[:, 1])
    corners: set[tuple[float, float]] = set()
    for x, y in zip(xs, ys, strict=True):
        cx, cy = math.floor(x / grid_m) * grid_m, math.floor(y / grid_m) * grid_m
        corners.update({(cx, cy), (cx + grid_m, cy), (cx, cy + grid_m), (cx + grid_m, cy + grid_m)})
    hull = MultiPoint(sorted(corners)).convex_hull
    return shapely.set_precision(
        shapely.transform(hull, lambda xy: _back(back, xy)), 1e-6)


def _back(back: Transformer, xy: np.ndarray) -> np.ndarray:
    arr = np.asarray(xy)
    lon, lat = back.transform(arr[:, 0], arr[:, 1])
    return np.column_stack([lon, lat])
