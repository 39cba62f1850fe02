"""GeoJSON geometry objects for a page of features, written by orjson straight from shapely's coordinate arrays.

``geometries(geoms)`` gives, for each geometry, what orjson (with ``OPT_SERIALIZE_NUMPY``) writes as its GeoJSON
geometry object: for points, line strings, polygons and multipolygons a small dict whose coordinates are slices of
one float64 array taken from GEOS for the whole page at once (``shapely.get_coordinates``), which orjson writes
without a Python float per number; for anything else (empty, three-dimensional, other types) the text GEOS writes
(``shapely.to_geojson``), embedded as it is. The numbers are the same doubles either way: orjson and GEOS both write
a number that reads back exactly (orjson the shortest such text, GEOS sometimes a longer one).

Measured on a kursk-border page of 100 hazard polygons: ``shapely.to_geojson`` for the page 0.38 ms of CPU, this
0.17 ms plus orjson's writing (busy machine, ``/tmp`` script of the p99 work; the share of the items request is
small but it was the largest single Python cost on the lean path under py-spy). Later (p99 work, busy machine, old
and new side by side on 40 kursk-border pages, the same bytes out): polygons without holes written straight from
their coordinates, without making their part and ring geometries, and the page's array made with ``np.fromiter``
instead of ``np.asarray`` took 0.53-0.62 of the time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

#: shapely's type ids
_POINT, _LINESTRING, _POLYGON, _MULTIPOLYGON = 0, 1, 3, 6

#: What ``geometries`` gives per geometry: None, a GeoJSON geometry dict (coordinates as numpy arrays), or GEOS's
#: GeoJSON text.
Geometry = dict[str, object] | orjson.Fragment | None


def geometries(geoms: Sequence[BaseGeometry | None]) -> list[Geometry]:
    """The GeoJSON geometry object of each of ``geoms`` (None stays None), for ``orjson.dumps(...,
    option=orjson.OPT_SERIALIZE_NUMPY)``."""
    # fromiter: np.asarray probes every geometry for the array protocols first (about five times as long)
    arr = np.fromiter(geoms, dtype=object, count=len(geoms))
    out: list[Geometry] = [None] * len(arr)
    if not len(arr):
        return out
    types = shapely.get_type_id(arr)
    plain = ~shapely.is_empty(arr) & ~shapely.has_z(arr)
    points = np.flatnonzero(plain & (types == _POINT))
    if len(points):
        xy = shapely.get_coordinates(arr[points])
        for k, i in enumerate(points.tolist()):
            out[i] = {"type": "Point", "coordinates": xy[k]}
    lines = np.flatnonzero(plain & (types == _LINESTRING))
    if len(lines):
        for i, coords in zip(lines.tolist(), _runs(arr[lines]), strict=True):
            out[i] = {"type": "LineString", "coordinates": coords}
    polygons = np.flatnonzero(plain & ((types == _POLYGON) | (types == _MULTIPOLYGON)))
    if len(polygons):
        # Polygons without holes (nearly every hazard area) straight from their coordinates: their one ring is all
        # of them, so no part or ring geometries need be made. The others go part by part, ring by ring.
        whole = polygons[(types[polygons] == _POLYGON) & (shapely.get_num_interior_rings(arr[polygons]) == 0)]
        for i, coords in zip(whole.tolist(), _runs(arr[whole]), strict=True):
            out[i] = {"type": "Polygon", "coordinates": [coords]}
        polygons = np.setdiff1d(polygons, whole, assume_unique=True)
    if len(polygons):
        chosen = arr[polygons]
        parts, part_of = shapely.get_parts(chosen, return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        rings_of_part: list[list[np.ndarray]] = [[] for _ in range(len(parts))]
        for ring, part in zip(_runs(rings), ring_of.tolist(), strict=True):
            rings_of_part[part].append(ring)
        parts_of_geom: list[list[list[np.ndarray]]] = [[] for _ in range(len(chosen))]
        for part_rings, geom in zip(rings_of_part, part_of.tolist(), strict=True):
            parts_of_geom[geom].append(part_rings)
        for k, i in enumerate(polygons.tolist()):
            if types[i] == _POLYGON:
                out[i] = {"type": "Polygon", "coordinates": parts_of_geom[k][0]}
            else:
                out[i] = {"type": "MultiPolygon", "coordinates": parts_of_geom[k]}
    for i in np.flatnonzero(~plain | ~np.isin(types, (_POINT, _LINESTRING, _POLYGON, _MULTIPOLYGON))).tolist():
        if arr[i] is not None:
            out[i] = orjson.Fragment(shapely.to_geojson(arr[i]))
    return out


def _runs(linear: np.ndarray) -> list[np.ndarray]:
    """The coordinates of each line string or ring of ``linear``: slices of one (n, 2) array."""
    counts = shapely.get_num_coordinates(linear)
    coords = shapely.get_coordinates(linear)
    ends = np.cumsum(counts)
    return [coords[s:e] for s, e in zip((ends - counts).tolist(), ends.tolist(), strict=True)]
