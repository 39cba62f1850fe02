"""GeoJSON geometries of a page written from coordinate arrays (``sapper.api.geojson``) read back as exactly what
GEOS writes (``shapely.to_geojson``), for every kind of geometry a collection holds and those it could."""

from __future__ import annotations

import json

import numpy as np
import orjson
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon

from sapper.api.geojson import geometries

HOLED = Polygon([(35.0, 50.0), (35.2, 50.0), (35.2, 50.2), (35.0, 50.2)],
                [[(35.05, 50.05), (35.1, 50.05), (35.1, 50.1)], [(35.15, 50.15), (35.18, 50.15), (35.18, 50.18)]])
PAGE = [
    Polygon([(35.123456789012345, 50.100556244131504), (35.2, 50.3000000000001), (35.3, 50.1)]),
    None,
    HOLED,
    MultiPolygon([HOLED, Polygon([(36.0, 51.0), (36.1, 51.0), (36.1, 51.1)])]),
    Point(35.305, 50.305),
    LineString([(35.0, 50.0), (35.05, 50.02), (35.1, 1e-7)]),
    MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]),
    MultiPoint([(0, 0), (1, 1)]),
    shapely.GeometryCollection([Point(0, 0), LineString([(0, 0), (1, 1)])]),
    Polygon(),
    Point(),
    Point(1.0, 2.0, 3.0),
    Polygon([(0, 0, 1), (1, 0, 2), (1, 1, 3)]),
    shapely.box(-180, -90, 180, 90),
]


def test_every_geometry_reads_back_as_geos_writes_it() -> None:
    """Each geometry of a mixed page (holes, multipolygons, points, lines, empties, 3D, collections, None) reads
    back from orjson's text as the object GEOS's GeoJSON text reads as."""
    found = orjson.loads(orjson.dumps(geometries(PAGE), option=orjson.OPT_SERIALIZE_NUMPY))
    expected = [None if g is None else json.loads(shapely.to_geojson(g)) for g in PAGE]
    assert found == expected


def test_coordinates_keep_every_digit() -> None:
    """Coordinates come back as the same doubles (no rounding on the way)."""
    rng = np.random.default_rng(7)
    polys = [Polygon(rng.uniform(-180, 180, (12, 2))) for _ in range(50)]
    found = orjson.loads(orjson.dumps(geometries(polys), option=orjson.OPT_SERIALIZE_NUMPY))
    for poly, geo in zip(polys, found, strict=True):
        assert np.array_equal(np.asarray(geo["coordinates"][0]), shapely.get_coordinates(poly.exterior))


def test_an_empty_page() -> None:
    assert geometries([]) == []
