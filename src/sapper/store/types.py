"""Column types that speak both backends.

On SQLite (a GeoPackage) geometry is GeoPackage binary and DATETIME is GeoPackage text; on PostgreSQL geometry is
a PostGIS ``geometry(<type>, 4326)`` column (bound as WKB through ``ST_GeomFromWKB(:p, 4326)``, read back as the
hex EWKB psycopg returns for an unknown type) and DATETIME is ``timestamp with time zone``. Both bind and return
shapely geometries and aware UTC datetimes, so nothing above the store knows which backend it talks to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler, TypeCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import REAL, Double, TypeEngine, UserDefinedType

from sapper.store import gpkg

#: The one coordinate reference system of the store (WGS84 longitude/latitude).
SRID = 4326


class _GeomFromWKB(GenericFunction[Any]):
    """The bound geometry as the backend wants it: as is on SQLite, ``ST_GeomFromWKB(:p, 4326)`` on PostGIS."""

    inherit_cache = True
    name = "sapper_geom_from_wkb"


@compiles(_GeomFromWKB)
def _geom_from_wkb_sqlite(element: _GeomFromWKB, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_GeomFromWKB, "postgresql")
def _geom_from_wkb_pg(element: _GeomFromWKB, compiler: SQLCompiler, **kw: Any) -> str:
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, {SRID})"


class Geometry(UserDefinedType[BaseGeometry]):
    """A geometry column in WGS84: GeoPackage binary on SQLite, PostGIS ``geometry(<type>, 4326)`` on PostgreSQL.

    Binds shapely geometries (or, on SQLite, ready-made GeoPackage blobs) and returns shapely geometries.
    """

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        self.geometry_type = geometry_type.upper()

    def get_col_spec(self, **kw: Any) -> str:
        return self.geometry_type

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return _GeomFromWKB(bindvalue, type_=self)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], bytes | None]:
        if dialect.name == "postgresql":

            def to_wkb(value: Any) -> bytes | None:
                if value is None or isinstance(value, bytes):
                    return value
                return bytes(shapely.to_wkb(value, output_dimension=2))

            return to_wkb

        def to_gpkg(value: Any) -> bytes | None:
            if value is None or isinstance(value, bytes):
                return value
            return gpkg.encode(value)

        return to_gpkg

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], BaseGeometry | None]:
        if dialect.name == "postgresql":

            def from_wkb(value: Any) -> BaseGeometry | None:
                if value is None:
                    return None
                geom: BaseGeometry = shapely.from_wkb(value if isinstance(value, str) else bytes(value))
                return shapely.set_srid(geom, 0)

            return from_wkb

        def from_gpkg(value: Any) -> BaseGeometry | None:
            return None if value is None else gpkg.decode(bytes(value))

        return from_gpkg


@compiles(Geometry, "postgresql")
def _geometry_pg(type_: Geometry, compiler: TypeCompiler, **kw: Any) -> str:
    return f"geometry({type_.geometry_type}, {SRID})"


def format_datetime(value: dt.datetime) -> str:
    """A datetime as GeoPackage DATETIME text (UTC, ``YYYY-MM-DDTHH:MM:SS.SSSZ``); naive is taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_datetime(text: str) -> dt.datetime:
    """GeoPackage DATETIME text (or any ISO 8601 timestamp) as an aware UTC datetime."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _to_utc_ms(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (naive taken as UTC) to the millisecond, as the GeoPackage text keeps it."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class GpkgDateTime(UserDefinedType[dt.datetime]):
    """A timestamp: GeoPackage DATETIME text on SQLite (GDAL and QGIS read it as a timestamp), ``timestamp with
    time zone`` on PostgreSQL. Either way kept in UTC to the millisecond and returned as an aware UTC datetime."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "DATETIME"

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        if dialect.name == "postgresql":

            def native(value: Any) -> dt.datetime | None:
                return None if value is None else _to_utc_ms(value)

            return native

        def process(value: Any) -> str | None:
            return None if value is None else format_datetime(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], dt.datetime | None]:
        def process(value: Any) -> dt.datetime | None:
            if value is None:
                return None
            if isinstance(value, dt.datetime):
                return _to_utc_ms(value)
            return parse_datetime(str(value))

        return process


@compiles(GpkgDateTime, "postgresql")
def _datetime_pg(type_: GpkgDateTime, compiler: TypeCompiler, **kw: Any) -> str:
    return "TIMESTAMP WITH TIME ZONE"


#: A floating-point column: REAL (8 bytes) on SQLite, ``double precision`` on PostgreSQL (whose REAL has 4 bytes).
Real: TypeEngine[float] = REAL().with_variant(Double(), "postgresql")
