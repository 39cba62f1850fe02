"""GeoPackage 1.4 on plain SQLite: geometry binary, the ST_ functions the R-tree triggers need, and the DDL.

Python's sqlite3 cannot load SpatiaLite here, so sapper writes the GeoPackage itself:

* geometry is GeoPackage binary (``GP`` header, little-endian, envelope ``[minx, maxx, miny, maxy]``, then
  ISO WKB);
* the R-tree of each spatial layer is kept by the standard ``gpkg_rtree_index`` triggers, which call
  ``ST_IsEmpty``, ``ST_MinX``, ``ST_MaxX``, ``ST_MinY`` and ``ST_MaxY``: :func:`register_functions` defines
  them on every connection sapper opens (GDAL and QGIS define their own);
* the SQL that creates the metadata tables, registers a layer and builds its R-tree lives here so the
  migrations can use it.

Everything here is spec-level GeoPackage and does not know sapper's tables.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

#: ``PRAGMA application_id`` of a GeoPackage ("GPKG").
APPLICATION_ID = 0x47504B47
#: ``PRAGMA user_version`` of GeoPackage 1.4.0.
USER_VERSION = 10400
#: The only SRS sapper stores geometry in.
WGS84_SRS_ID = 4326

_MAGIC = b"GP"
_FLAG_LITTLE_ENDIAN = 0b0000_0001
_FLAG_EMPTY = 0b0001_0000
_FLAG_EXTENDED = 0b0010_0000
_ENVELOPE_XY = 1
#: Number of doubles in the envelope, by envelope indicator code.
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
_HEADER_XY = struct.Struct("<2sBBi4d")
_HEADER_BARE = struct.Struct("<2sBBi")
#: _HEADER_XY as a packed numpy record (the same 40 bytes), to write many headers at once.
_HEADER_RECORD = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4"),
                           ("envelope", "<f8", (4,))])


class GeometryBlobError(ValueError):
    """A blob is not GeoPackage binary geometry."""


# ----------------------------------------------------------------------------------------------------
# Encoding and decoding
# ----------------------------------------------------------------------------------------------------


def encode(geom: BaseGeometry | None, srs_id: int = WGS84_SRS_ID) -> bytes | None:
    """GeoPackage binary for one geometry (None stays None)."""
    if geom is None:
        return None
    return encode_many([geom], srs_id)[0]


def encode_many(geoms: Sequence[BaseGeometry | None], srs_id: int = WGS84_SRS_ID) -> list[bytes | None]:
    """GeoPackage binary for many geometries at once (vectorised WKB and bounds); None stays None."""
    if not geoms:
        return []
    arr = np.asarray(geoms, dtype=object)
    present = np.array([g is not None for g in geoms], dtype=bool)
    out: list[bytes | None] = [None] * len(geoms)
    if not present.any():
        return out
    sub = arr[present]
    wkbs = shapely.to_wkb(sub, flavor="iso", byte_order=1)
    bounds = shapely.bounds(sub)
    empty = shapely.is_empty(sub)
    # Every header at once: the bytes _HEADER_XY.pack writes, laid out by a packed numpy record.
    headers = np.zeros(len(sub), dtype=_HEADER_RECORD)
    headers["magic"] = _MAGIC
    headers["flags"] = _FLAG_LITTLE_ENDIAN | (_ENVELOPE_XY << 1)
    headers["srs_id"] = srs_id
    headers["envelope"] = bounds[:, [0, 2, 1, 3]]
    raw = headers.tobytes()
    size = _HEADER_XY.size
    bare = _HEADER_BARE.pack(_MAGIC, 0, _FLAG_LITTLE_ENDIAN | _FLAG_EMPTY, srs_id)
    for k, (slot, wkb, is_empty) in enumerate(zip(np.flatnonzero(present).tolist(), wkbs, empty, strict=True)):
        out[slot] = (bare if is_empty else raw[k * size : (k + 1) * size]) + wkb
    return out


def _header_length(blob: bytes) -> tuple[int, int]:
    """(flags, header length) of a GeoPackage binary blob; raises GeometryBlobError when it is not one."""
    if len(blob) < 8 or blob[:2] != _MAGIC:
        raise GeometryBlobError("not GeoPackage binary geometry (no 'GP' magic)")
    flags = blob[3]
    if flags & _FLAG_EXTENDED:
        raise GeometryBlobError("extended GeoPackage geometry types are not supported")
    code = (flags >> 1) & 0b111
    if code not in _ENVELOPE_DOUBLES:
        raise GeometryBlobError(f"invalid envelope indicator {code}")
    return flags, 8 + 8 * _ENVELOPE_DOUBLES[code]


def srs_id_of(blob: bytes) -> int:
    """The srs_id written in the header."""
    flags, _ = _header_length(blob)
    fmt = "<i" if flags & _FLAG_LITTLE_ENDIAN else ">i"
    return int(struct.unpack_from(fmt, blob, 4)[0])


def decode(blob: bytes | None) -> BaseGeometry | None:
    """The shapely geometry in a GeoPackage binary blob (None stays None)."""
    if blob is None:
        return None
    _, length = _header_length(blob)
    geom: BaseGeometry = shapely.from_wkb(blob[length:])
    return geom


def decode_many(blobs: Sequence[bytes | None]) -> list[BaseGeometry | None]:
    """Decode many blobs at once (vectorised WKB parsing)."""
    wkbs: list[bytes | None] = []
    for blob in blobs:
        if blob is None:
            wkbs.append(None)
        else:
            _, length = _header_length(blob)
            wkbs.append(blob[length:])
    return list(shapely.from_wkb(np.asarray(wkbs, dtype=object)))


@lru_cache(maxsize=8)
def envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a blob, from its header when present; None for an empty geometry. Remembered for
    the last few blobs: an R-tree trigger asks five times of each row it indexes (ST_IsEmpty, ST_MinX, …)."""
    flags, length = _header_length(blob)
    if flags & _FLAG_EMPTY:
        return None
    if length > 8:
        fmt = "<4d" if flags & _FLAG_LITTLE_ENDIAN else ">4d"
        minx, maxx, miny, maxy = struct.unpack_from(fmt, blob, 8)
        return float(minx), float(maxx), float(miny), float(maxy)
    geom = shapely.from_wkb(blob[length:])
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return float(x0), float(x1), float(y0), float(y1)


def envelopes(blobs: Sequence[bytes]) -> np.ndarray | None:
    """:func:`envelope` of many blobs at once, as an ``(n, 4)`` array of (minx, maxx, miny, maxy), when every blob
    has the header :func:`encode_many` writes for a geometry that is not empty (little-endian, xy envelope); None
    otherwise (ask :func:`envelope` blob by blob)."""
    if not blobs:
        return np.zeros((0, 4))
    xy = _FLAG_LITTLE_ENDIAN | (_ENVELOPE_XY << 1)
    if any(len(b) < _HEADER_XY.size or b[:2] != _MAGIC or b[3] != xy for b in blobs):
        return None
    return np.frombuffer(b"".join([b[8:_HEADER_XY.size] for b in blobs]), dtype="<f8").reshape(-1, 4)


def is_empty(blob: bytes) -> bool:
    """True when the header's empty flag is set (or, without envelope, the WKB is empty)."""
    return envelope(blob) is None


# ----------------------------------------------------------------------------------------------------
# SQL functions
# ----------------------------------------------------------------------------------------------------


def _sql_is_empty(blob: object) -> int | None:
    if not isinstance(blob, bytes):
        return None
    try:
        return 1 if is_empty(blob) else 0
    except (GeometryBlobError, shapely.errors.GEOSException):
        return None


def _sql_bound(index: int) -> object:
    def bound(blob: object) -> float | None:
        if not isinstance(blob, bytes):
            return None
        try:
            env = envelope(blob)
        except (GeometryBlobError, shapely.errors.GEOSException):
            return None
        return None if env is None else env[index]

    return bound


def register_functions(conn: sqlite3.Connection) -> None:
    """Define ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY and ST_MaxY on ``conn`` (used by the R-tree triggers)."""
    conn.create_function("ST_IsEmpty", 1, _sql_is_empty, deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
        conn.create_function(name, 1, _sql_bound(index), deterministic=True)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------
# DDL (used by the migrations)
# ----------------------------------------------------------------------------------------------------

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
    'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],'
    'AUTHORITY["EPSG","4326"]]'
)

CORE_DDL: tuple[str, ...] = (
    """CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
)""",
    """CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
)""",
    """CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
)""",
    """CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
)""",
    "INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', "
    "'undefined cartesian coordinate reference system')",
    "INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', "
    "'undefined geographic coordinate reference system')",
    f"INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WGS84_WKT}', "
    "'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
)

PRAGMA_DDL: tuple[str, ...] = (
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {USER_VERSION}",
)

RTREE_EXTENSION_DEFINITION = "http://www.geopackage.org/spec/#extension_rtree"


def _q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def rtree_name(table: str, column: str = "geom") -> str:
    return f"rtree_{table}_{column}"


def rtree_ddl(table: str, column: str = "geom", pk: str = "fid") -> list[str]:
    """The R-tree of ``table.column`` and the standard GeoPackage 1.4 triggers that maintain it."""
    t, c, i, r = _q(table), _q(column), _q(pk), _q(rtree_name(table, column))
    bounds = f"ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    new_full = f"(NEW.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))"
    new_void = f"(NEW.{c} IS NULL OR ST_IsEmpty(NEW.{c}))"
    old_full = f"(OLD.{c} NOT NULL AND NOT ST_IsEmpty(OLD.{c}))"
    old_void = f"(OLD.{c} IS NULL OR ST_IsEmpty(OLD.{c}))"

    def trig(suffix: str, event: str, when: str, body: str) -> str:
        name = _q(f"rtree_{table}_{column}_{suffix}")
        return f"CREATE TRIGGER {name} AFTER {event} ON {t} WHEN {when}\nBEGIN\n  {body}\nEND"

    return [
        f"CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy)",
        trig("insert", "INSERT", new_full, f"INSERT OR REPLACE INTO {r} VALUES (NEW.{i}, {bounds});"),
        trig(
            "update6",
            f"UPDATE OF {c}",
            f"OLD.{i} = NEW.{i} AND {new_full} AND {old_full}",
            f"UPDATE {r} SET minx = ST_MinX(NEW.{c}), maxx = ST_MaxX(NEW.{c}), miny = ST_MinY(NEW.{c}), "
            f"maxy = ST_MaxY(NEW.{c}) WHERE id = NEW.{i};",
        ),
        trig(
            "update7",
            f"UPDATE OF {c}",
            f"OLD.{i} = NEW.{i} AND {new_full} AND {old_void}",
            f"INSERT INTO {r} VALUES (NEW.{i}, {bounds});",
        ),
        trig(
            "update2",
            f"UPDATE OF {c}",
            f"OLD.{i} = NEW.{i} AND {new_void}",
            f"DELETE FROM {r} WHERE id = OLD.{i};",
        ),
        trig(
            "update5",
            "UPDATE",
            f"OLD.{i} != NEW.{i} AND {new_full}",
            f"DELETE FROM {r} WHERE id = OLD.{i};\n  INSERT OR REPLACE INTO {r} VALUES (NEW.{i}, {bounds});",
        ),
        trig(
            "update4",
            "UPDATE",
            f"OLD.{i} != NEW.{i} AND {new_void}",
            f"DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i});",
        ),
        trig("delete", "DELETE", f"OLD.{c} NOT NULL", f"DELETE FROM {r} WHERE id = OLD.{i};"),
    ]


def register_features_ddl(
    table: str,
    *,
    geometry_type: str,
    column: str = "geom",
    description: str = "",
    srs_id: int = WGS84_SRS_ID,
    spatial_index: bool = True,
    pk: str = "fid",
) -> list[str]:
    """Register ``table`` (table or view) as a feature layer; with ``spatial_index``, give it an R-tree."""
    stmts = [
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES "
        f"({_lit(table)}, 'features', {_lit(table)}, {_lit(description)}, {srs_id})",
        "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) "
        f"VALUES ({_lit(table)}, {_lit(column)}, {_lit(geometry_type)}, {srs_id}, 0, 0)",
    ]
    if spatial_index:
        stmts += rtree_ddl(table, column, pk)
        stmts.append(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES "
            f"({_lit(table)}, {_lit(column)}, 'gpkg_rtree_index', {_lit(RTREE_EXTENSION_DEFINITION)}, "
            "'write-only')"
        )
    return stmts


def register_attributes_ddl(table: str, *, description: str = "") -> list[str]:
    """Register ``table`` as an attribute (non-spatial) table."""
    return [
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES "
        f"({_lit(table)}, 'attributes', {_lit(table)}, {_lit(description)})"
    ]


def unregister_ddl(table: str, *, column: str = "geom", spatial_index: bool = False) -> list[str]:
    """The reverse of the ``register_*_ddl`` functions (for downgrades)."""
    stmts = []
    if spatial_index:
        stmts.append(f"DROP TABLE IF EXISTS {_q(rtree_name(table, column))}")
        stmts.append(f"DELETE FROM gpkg_extensions WHERE table_name = {_lit(table)}")
    stmts.append(f"DELETE FROM gpkg_geometry_columns WHERE table_name = {_lit(table)}")
    stmts.append(f"DELETE FROM gpkg_contents WHERE table_name = {_lit(table)}")
    return stmts


def iter_sql(groups: Iterable[Iterable[str]]) -> list[str]:
    """Flatten groups of statements."""
    return [s for group in groups for s in group]


def _sql_predicate(test: Callable[[BaseGeometry, BaseGeometry], bool]) -> Callable[[object, object], int | None]:
    """A SQL function of (GeoPackage blob, WKB literal) → 1/0 (None for a missing or unreadable geometry)."""

    def predicate(blob: object, wkb: object) -> int | None:
        if not isinstance(blob, bytes) or not isinstance(wkb, bytes):
            return None
        try:
            geom = decode(blob)
            other = shapely.from_wkb(wkb)
        except (GeometryBlobError, shapely.errors.GEOSException):
            return None
        return None if geom is None else int(test(geom, other))

    return predicate


def register_spatial_predicates(conn: sqlite3.Connection) -> None:
    """Define ST_Intersects and ST_Within (GeoPackage blob, WKB) on ``conn``: CQL2's spatial filters on SQLite."""
    conn.create_function("ST_Intersects", 2, _sql_predicate(lambda g, o: bool(g.intersects(o))), deterministic=True)
    conn.create_function("ST_Within", 2, _sql_predicate(lambda g, o: bool(g.within(o))), deterministic=True)
