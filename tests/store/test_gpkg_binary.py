"""GeoPackage binary geometry: header layout, exact WKB round trip, and the ST_ functions the triggers call."""

from __future__ import annotations

import sqlite3
import struct

import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from sapper.store import gpkg

coords = st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False))


@given(st.lists(coords, min_size=1, max_size=30))
def test_points_and_lines_round_trip_exactly(points: list[tuple[float, float]]) -> None:
    """Any geometry decodes to the identical geometry, and the header envelope is its exact bounds."""
    geom = shapely.LineString(points) if len(points) > 1 else shapely.Point(points[0])
    blob = gpkg.encode(geom)
    assert blob is not None
    back = gpkg.decode(blob)
    assert shapely.to_wkb(back, flavor="iso") == shapely.to_wkb(geom, flavor="iso")
    minx, miny, maxx, maxy = geom.bounds
    assert gpkg.envelope(blob) == (minx, maxx, miny, maxy)


def test_header_layout() -> None:
    """Magic 'GP', version 0, flags 0b011 (little-endian, envelope [minx,maxx,miny,maxy]), srs_id, then ISO WKB."""
    geom = shapely.box(1.0, 2.0, 3.0, 4.0)
    blob = gpkg.encode(geom)
    assert blob is not None
    magic, version, flags, srs = struct.unpack_from("<2sBBi", blob)
    assert (magic, version, flags, srs) == (b"GP", 0, 0b011, 4326)
    assert struct.unpack_from("<4d", blob, 8) == (1.0, 3.0, 2.0, 4.0)
    assert blob[40:] == shapely.to_wkb(geom, flavor="iso", byte_order=1)


@pytest.mark.parametrize("empty", [shapely.Polygon(), shapely.Point(), shapely.MultiPolygon(),
                                   shapely.GeometryCollection()])
def test_empty_geometry_sets_empty_flag(empty: shapely.Geometry) -> None:
    """Empty geometry has the empty flag and no envelope; it decodes back to an empty geometry of its type."""
    blob = gpkg.encode(empty)
    assert blob is not None
    assert blob[3] & 0b1_0000
    assert len(blob) > 8 and gpkg.envelope(blob) is None and gpkg.is_empty(blob)
    back = gpkg.decode(blob)
    assert back is not None and back.is_empty and back.geom_type == empty.geom_type


def test_none_passes_through() -> None:
    """NULL geometry stays NULL both ways."""
    assert gpkg.encode(None) is None
    assert gpkg.decode(None) is None
    assert gpkg.encode_many([None, shapely.Point(1, 2)])[0] is None


def test_big_endian_and_no_envelope_blobs_are_read() -> None:
    """Blobs other writers may produce (big-endian header, no envelope) decode and give their bounds."""
    geom = shapely.box(5.0, 6.0, 7.0, 8.0)
    wkb = shapely.to_wkb(geom, flavor="iso")
    no_env = struct.pack("<2sBBi", b"GP", 0, 0b001, 4326) + wkb
    big = struct.pack(">2sBBi4d", b"GP", 0, 0b010, 4326, 5.0, 7.0, 6.0, 8.0) + wkb
    assert gpkg.envelope(no_env) == (5.0, 7.0, 6.0, 8.0)
    assert gpkg.envelope(big) == (5.0, 7.0, 6.0, 8.0)
    assert gpkg.srs_id_of(big) == 4326
    assert gpkg.decode(big) == geom


def test_sql_functions() -> None:
    """ST_IsEmpty/ST_MinX/… read the header in SQL; NULL or non-geometry blobs give NULL, not an error."""
    conn = sqlite3.connect(":memory:")
    gpkg.register_functions(conn)
    blob = gpkg.encode(shapely.box(1, 2, 3, 4))
    empty = gpkg.encode(shapely.Polygon())
    row = conn.execute("SELECT ST_IsEmpty(?), ST_MinX(?), ST_MaxX(?), ST_MinY(?), ST_MaxY(?), ST_IsEmpty(?), "
                       "ST_MinX(?), ST_MinX(NULL), ST_IsEmpty(x'00112233')",
                       (blob, blob, blob, blob, blob, empty, empty)).fetchone()
    assert row == (0, 1.0, 3.0, 2.0, 4.0, 1, None, None, None)


def test_not_geopackage_binary_is_refused() -> None:
    """Decoding a blob without the GP magic raises GeometryBlobError."""
    with pytest.raises(gpkg.GeometryBlobError):
        gpkg.decode(b"\x01\x01\x00\x00\x00" + bytes(16))
