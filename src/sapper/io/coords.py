"""Geometry from the columns of a table (CSV or XLSX), however a person wrote the coordinates.

One of these, looked for in this order (column names compared in lower case):

* **WKT** in a ``wkt``, ``geometry`` or ``geom`` column: any geometry, in the CRS the file declares.
* **MGRS** in an ``mgrs`` column (``37UDB1234567890``, spaces allowed): points in WGS84, which MGRS is defined on.
* **UTM** in ``easting``/``northing`` columns with a ``utm_zone`` (or ``zone``) column such as ``36U`` (a latitude
  band: C–M south of the equator, N–X north), ``36 south`` or ``36``: points, WGS84 UTM (EPSG:326zz/327zz).
  Without a zone column the easting and northing are read in the CRS the file declares (``--crs EPSG:32636``).
* **Longitude/latitude** in ``lon``/``lat`` (or ``longitude``/``latitude``, ``long``/``lat``, ``lng``/``lat``,
  ``x``/``y``) columns: points, each value decimal degrees (a decimal comma too) or degrees-minutes-seconds
  (``51°18'25.3"N``, ``51 18 25.3 N``, ``N51°18.42'``, ``35:12:03E``), in the CRS the file declares.

The first two kinds carry their CRS (``self_crs``); the others need the file's (``--crs`` or a ``.prj``).
A cell that cannot be read rejects its row with the reason; a table with none of these columns is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.io.fields import is_missing

WKT_COLUMNS = ("wkt", "geometry", "geom")
LONLAT_COLUMNS = (("lon", "lat"), ("longitude", "latitude"), ("long", "lat"), ("lng", "lat"), ("x", "y"))
MGRS_COLUMNS = ("mgrs",)
UTM_COLUMNS = ("easting", "northing")
ZONE_COLUMNS = ("utm_zone", "zone")

_WGS84 = CRS.from_epsg(4326)
#: Degrees, minutes, seconds with optional hemisphere letter before or after (``°'"`` or spaces or colons).
_DMS = re.compile(
    r"""^\s*(?P<h1>[NSEW])?\s*(?P<sign>[+-])?\s*
        (?P<deg>\d+(?:[.,]\d+)?)\s*(?:°|º|d|:|\s)\s*
        (?:(?P<min>\d+(?:[.,]\d+)?)\s*(?:'|′|’|m|:|\s)?\s*)?
        (?:(?P<sec>\d+(?:[.,]\d+)?)\s*(?:"|″|”|''|s)?\s*)?
        (?P<h2>[NSEW])?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_DECIMAL = re.compile(r"^\s*[+-]?\d+(?:[.,]\d+)?\s*$")
_ZONE = re.compile(r"^\s*(?P<zone>\d{1,2})\s*(?P<band>[C-HJ-NP-X]|north|south)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ColumnGeometry:
    """Each row's geometry (None when it has none or it cannot be read), why not, the columns used, and the CRS
    the coordinates are in when the notation itself says (MGRS, UTM with a zone), else None."""

    geometries: list[BaseGeometry | None]
    faults: list[str | None]
    columns: tuple[str, ...]
    notation: str
    self_crs: CRS | None = None


def parse_angle(value: Any, *, axis: str) -> float:
    """Degrees from a number or text: decimal (``51.307``, ``51,307``) or DMS (``51°18'25.3"N``); ``axis`` is
    ``lon`` or ``lat`` (which hemisphere letters fit). ValueError with a plain reason when it cannot be read."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an angle")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if _DECIMAL.match(text):
        return float(text.replace(",", "."))
    match = _DMS.match(text)
    if match is None:
        raise ValueError(f"{text!r} is neither decimal degrees nor degrees-minutes-seconds")
    hemis = {h.upper() for h in (match["h1"], match["h2"]) if h}
    allowed = {"E", "W"} if axis == "lon" else {"N", "S"}
    if len(hemis) > 1 or not hemis <= allowed:
        what = "longitude" if axis == "lon" else "latitude"
        raise ValueError(f"{text!r}: hemisphere {'/'.join(sorted(hemis))} does not fit a {what}")
    deg = float(match["deg"].replace(",", "."))
    minutes = float(match["min"].replace(",", ".")) if match["min"] else 0.0
    seconds = float(match["sec"].replace(",", ".")) if match["sec"] else 0.0
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"{text!r}: minutes and seconds must be below 60")
    angle = deg + minutes / 60 + seconds / 3600
    negative = match["sign"] == "-" or bool(hemis & {"S", "W"})
    return -angle if negative else angle


@lru_cache(maxsize=1)
def _mgrs() -> Any:
    import mgrs

    return mgrs.MGRS()


def parse_mgrs(value: Any) -> Point:
    """A WGS84 point from an MGRS reference (``37U DB 12345 67890``); ValueError with the reason."""
    text = re.sub(r"\s+", "", str(value)).upper()
    try:
        lat, lon = _mgrs().toLatLon(text)
    except Exception as exc:  # the mgrs package raises MGRSError or a bare Exception for bad text
        raise ValueError(f"{str(value).strip()!r} is not an MGRS reference ({str(exc).strip() or 'unreadable'})"
                         ) from None
    return Point(float(lon), float(lat))


def utm_crs(zone_text: Any) -> CRS:
    """The WGS84 UTM CRS a zone cell names: ``36`` or ``36 north`` (north), ``36 south``, or a latitude band
    (``36U``: C–M south, N–X north; ``36S`` is band S, north of the equator). ValueError with the reason."""
    text = str(int(zone_text) if isinstance(zone_text, float) and zone_text.is_integer() else zone_text)
    match = _ZONE.match(text)
    if match is None or not 1 <= int(match["zone"]) <= 60:
        raise ValueError(f"UTM zone {text.strip()!r} is not a zone 1–60 with an optional latitude band (e.g. 36U) "
                         "or north/south")
    band = (match["band"] or "north").upper()
    south = band == "SOUTH" or (len(band) == 1 and band < "N")
    return CRS.from_epsg((32700 if south else 32600) + int(match["zone"]))


@lru_cache(maxsize=128)
def _to_wgs84(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, _WGS84, always_xy=True)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not _DECIMAL.match(text):
        raise ValueError(f"{text!r} is not a number")
    return float(text.replace(",", "."))


def _wkt(column: str, values: Sequence[Any]) -> ColumnGeometry:
    geoms: list[BaseGeometry | None] = []
    faults: list[str | None] = []
    for value in values:
        if is_missing(value):
            geoms.append(None)
            faults.append(None)
            continue
        try:
            geoms.append(shapely.force_2d(shapely.from_wkt(str(value).strip(), on_invalid="raise")))
            faults.append(None)
        except (shapely.errors.ShapelyError, TypeError) as exc:
            geoms.append(None)
            faults.append(f"{column} is not readable WKT ({str(exc).splitlines()[0]})")
    return ColumnGeometry(geoms, faults, (column,), "WKT")


def _rows_of(rows: Sequence[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row.get(c) for c in columns) for row in rows]


def geometry_from_columns(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> ColumnGeometry | None:
    """Each row's geometry from the first kind of geometry column ``columns`` hold (module docstring), or None when
    they hold none."""
    found = set(columns)
    wkt_col = next((c for c in WKT_COLUMNS if c in found), None)
    if wkt_col is not None:
        return _wkt(wkt_col, [row.get(wkt_col) for row in rows])
    geoms: list[BaseGeometry | None] = []
    faults: list[str | None] = []
    mgrs_col = next((c for c in MGRS_COLUMNS if c in found), None)
    if mgrs_col is not None:
        for (value,) in _rows_of(rows, mgrs_col):
            if is_missing(value):
                geoms.append(None)
                faults.append(None)
                continue
            try:
                geoms.append(parse_mgrs(value))
                faults.append(None)
            except ValueError as exc:
                geoms.append(None)
                faults.append(f"{mgrs_col}: {exc}")
        return ColumnGeometry(geoms, faults, (mgrs_col,), "MGRS", _WGS84)
    zone_col = next((c for c in ZONE_COLUMNS if c in found), None)
    if all(c in found for c in UTM_COLUMNS) and zone_col is not None:
        for easting, northing, zone in _rows_of(rows, *UTM_COLUMNS, zone_col):
            if is_missing(easting) and is_missing(northing):
                geoms.append(None)
                faults.append(None)
                continue
            try:
                x, y, crs = _number(easting), _number(northing), utm_crs(zone)
            except ValueError as exc:
                geoms.append(None)
                faults.append(f"easting/northing/{zone_col}: {exc}")
                continue
            lon, lat = _to_wgs84(crs).transform(x, y)
            geoms.append(Point(lon, lat))
            faults.append(None)
        return ColumnGeometry(geoms, faults, (*UTM_COLUMNS, zone_col), "UTM", _WGS84)
    pair = next(((x, y) for x, y in (*LONLAT_COLUMNS, UTM_COLUMNS) if x in found and y in found), None)
    if pair is None:
        return None
    xcol, ycol = pair
    angles = pair != UTM_COLUMNS
    notation = "decimal degrees"
    for xv, yv in _rows_of(rows, xcol, ycol):
        if is_missing(xv) and is_missing(yv):
            geoms.append(None)
            faults.append(None)
            continue
        try:
            if angles:
                x, y = parse_angle(xv, axis="lon"), parse_angle(yv, axis="lat")
                if not _DECIMAL.match(str(xv)) or not _DECIMAL.match(str(yv)):
                    notation = "degrees-minutes-seconds"
            else:
                x, y = _number(xv), _number(yv)
        except ValueError as exc:
            geoms.append(None)
            faults.append(f"{xcol}/{ycol}: {exc}")
            continue
        geoms.append(Point(x, y))
        faults.append(None)
    return ColumnGeometry(geoms, faults, pair, notation if angles else "easting/northing")
