"""The open data shipped with the package: Natural Earth outlines and border, GeoNames towns.

See ``data/SOURCES.md`` for origin, licence and trimming. Read with ``importlib.resources`` so that it works
from an installed wheel; parsed with the json module and shapely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from shapely.geometry import LineString, MultiLineString, Point, Polygon, shape
from shapely.ops import linemerge

from sapper.errors import Fault, ImportFileError, ValidationError

OBLASTS_FILE = "oblasts_ne10m.geojson"
BORDER_FILE = "border_lines_ne10m.geojson"
TOWNS_FILE = "settlements_geonames_cities500.geojson"

NATURAL_EARTH_ATTRIBUTION = "Made with Natural Earth (public domain)"
GEONAMES_ATTRIBUTION = "GeoNames (geonames.org), CC BY 4.0"
GEONAMES_SOURCE = "GeoNames"


@dataclass(frozen=True, slots=True)
class Town:
    """A GeoNames populated place (``name`` is GeoNames' ASCII name, ``native_name`` its name as written)."""

    geonameid: str
    name: str
    native_name: str
    population: int
    point: Point


def _read(name: str) -> dict[str, Any]:
    try:
        text = resources.files("sapper.scenario").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ImportFileError(f"scenario data file {name} is missing from the package") from exc
    data: dict[str, Any] = json.loads(text)
    crs = data.get("crs", {}).get("properties", {}).get("name", "urn:ogc:def:crs:OGC:1.3:CRS84")
    if crs not in ("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"):
        raise ValidationError(name, [Fault(name, f"expected WGS84 lon/lat, got CRS {crs!r}", "crs")])
    return data


@lru_cache(maxsize=1)
def oblasts() -> tuple[tuple[str, Polygon], ...]:
    """(name, outline) of each oblast shipped, in file order (Natural Earth 1:10m)."""
    out: list[tuple[str, Polygon]] = []
    for feat in _read(OBLASTS_FILE)["features"]:
        geom = shape(feat["geometry"])
        if not isinstance(geom, Polygon) or not geom.is_valid:
            fault = Fault(str(feat["properties"]["name"]), "outline must be a valid polygon", "geometry")
            raise ValidationError(OBLASTS_FILE, [fault])
        out.append((str(feat["properties"]["name"]), geom))
    return tuple(out)


def oblast(name: str) -> Polygon:
    for key, geom in oblasts():
        if key == name:
            return geom
    raise ValidationError(OBLASTS_FILE, [Fault(OBLASTS_FILE, f"no oblast called {name!r}", "name")])


@lru_cache(maxsize=1)
def border() -> LineString | MultiLineString:
    """The Russia–Ukraine border lines shipped (Natural Earth 1:10m), merged where they join."""
    lines: list[LineString] = []
    for feat in _read(BORDER_FILE)["features"]:
        geom = shape(feat["geometry"])
        lines.extend(geom.geoms if isinstance(geom, MultiLineString) else [geom])
    merged = linemerge(MultiLineString(lines))
    if not isinstance(merged, LineString | MultiLineString):
        raise ValidationError(BORDER_FILE, [Fault(BORDER_FILE, "border is not made of lines", "geometry")])
    return merged


@lru_cache(maxsize=1)
def towns() -> tuple[Town, ...]:
    """GeoNames towns in Kursk Oblast, largest first (ties by GeoNames id)."""
    out = []
    for feat in _read(TOWNS_FILE)["features"]:
        p = feat["properties"]
        lon, lat = feat["geometry"]["coordinates"][:2]
        out.append(Town(str(p["geonameid"]), str(p["asciiname"]), str(p["name"]), int(p["population"]),
                        Point(float(lon), float(lat))))
    return tuple(sorted(out, key=lambda t: (-t.population, t.geonameid)))
