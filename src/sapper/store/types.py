"""Column types that speak GeoPackage: geometry as GeoPackage binary, DATETIME as GeoPackage text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Dialect
from sqlalchemy.types import UserDefinedType

from sapper.store import gpkg


class Geometry(UserDefinedType[BaseGeometry]):
    """A geometry column: declared with its GeoPackage type name, stored as GeoPackage binary in WGS84.

    Binds shapely geometries (or ready-made GeoPackage blobs) and returns shapely geometries.
    """

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        self.geometry_type = geometry_type.upper()

    def get_col_spec(self, **kw: Any) -> str:
        return self.geometry_type

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], bytes | None]:
        def process(value: Any) -> bytes | None:
            if value is None or isinstance(value, bytes):
                return value
            return gpkg.encode(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], BaseGeometry | None]:
        def process(value: Any) -> BaseGeometry | None:
            return None if value is None else gpkg.decode(bytes(value))

        return process


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


class GpkgDateTime(UserDefinedType[dt.datetime]):
    """A DATETIME column in GeoPackage's text format, so GDAL and QGIS read it as a timestamp."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "DATETIME"

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        def process(value: Any) -> str | None:
            return None if value is None else format_datetime(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], dt.datetime | None]:
        def process(value: Any) -> dt.datetime | None:
            return None if value is None else parse_datetime(str(value))

        return process
