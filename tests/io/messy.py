"""Files for the import/export tests, built in code: clean records that exercise every column, and messy files.

Everything is written into a test's ``tmp_path``: GeoJSON as plain JSON text (so it can hold what GDAL would
never write: a bow-tie ring, a ring that is not closed, an empty polygon), CSV as plain text, GeoPackages through
geopandas/pyogrio.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus, LandUse
from sapper.domain.resources import Trade

Coords = list[list[float]]

#: An equal-area CRS covering Ukraine and western Russia (LAEA Europe), for areas computed independently of sapper.
EQUAL_AREA = CRS.from_epsg(3035)


def box_ring(lon: float, lat: float, size: float = 0.01) -> Coords:
    """A closed counter-clockwise square ring (degrees) with its lower-left corner at (lon, lat)."""
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


#: A self-intersecting "bow-tie" ring around (35.0, 50.0): two triangles touching at its centre.
BOW_TIE: Coords = [[35.0, 50.0], [35.01, 50.01], [35.01, 50.0], [35.0, 50.01], [35.0, 50.0]]


def polygon(ring: Coords) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(path: Path, features: Sequence[dict[str, Any]]) -> Path:
    """A FeatureCollection written as JSON text (RFC 7946: WGS84, no ``crs`` member)."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}), encoding="utf-8")
    return path


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_frame(path: Path, records: dict[str, list[Any]], geoms: list[BaseGeometry], crs: Any, **kw: Any) -> Path:
    """A vector file through pyogrio (``crs=None`` writes a layer without a CRS)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "'crs' was not provided", shapefile field name laundering
        pyogrio.write_dataframe(gpd.GeoDataFrame(records, geometry=geoms, crs=crs), path, **kw)
    return path


def equal_area_m2(geom: BaseGeometry) -> float:
    """Area of a WGS84 geometry in square metres, projected with pyproj to LAEA Europe (not sapper's code)."""
    to_laea = Transformer.from_crs("EPSG:4326", EQUAL_AREA, always_xy=True)
    return float(shapely.transform(geom, lambda xy: np.column_stack(to_laea.transform(xy[:, 0], xy[:, 1]))).area)


# ----------------------------------------------------------------------------------------------------
# A messy hazards file: what each feature is, and what sapper must do with it
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Messy:
    """A messy hazards GeoJSON: the ids expected to be imported, repaired, and rejected (id → reason fragment)."""

    path: Path
    imported: tuple[str, ...]
    repaired: tuple[str, ...]
    rejected: dict[int, tuple[str | None, str]]  # feature number → (id, fragment of the reason)


def messy_hazards(path: Path) -> Messy:
    """Two good features, one bow-tie to repair, and one feature for each way a feature can be wrong."""
    features = [
        feature(polygon(box_ring(35.0, 50.0)), id="ok-1", hazard_class="SHA", name="Field"),  # 1
        feature(polygon(BOW_TIE), id="bow", hazard_class="CHA"),  # 2: repaired
        feature(None, id="null-geom", hazard_class="SHA"),  # 3
        feature({"type": "Polygon", "coordinates": []}, id="empty-geom", hazard_class="SHA"),  # 4
        feature(polygon(box_ring(36.0, 50.0)), id="ok-1", hazard_class="SHA"),  # 5: duplicate of 1
        feature({"type": "Point", "coordinates": [35.5, 50.5]}, id="a-point", hazard_class="SHA"),  # 6
        feature(polygon(box_ring(35.2, 50.0)[:-1]), id="unclosed", hazard_class="SHA"),  # 7
        feature(polygon(box_ring(35.3, 50.0)), id="bad-class", hazard_class="XHA"),  # 8
        feature(polygon(box_ring(35.4, 50.0)), id="ok-2", hazard_class="sha", land_use="Agricultural"),  # 9
    ]
    write_geojson(path, features)
    return Messy(
        path=path,
        imported=("ok-1", "bow", "ok-2"),
        repaired=("bow",),
        rejected={
            3: ("null-geom", "geometry is null"),
            4: ("empty-geom", "geometry is empty"),
            5: ("ok-1", "id ok-1 appears earlier in the file (feature 1)"),
            6: ("a-point", "geometry must be a polygon, got Point"),
            7: ("unclosed", "closed"),
            8: ("bad-class", "hazard_class 'XHA' is not one of SHA, CHA"),
        },
    )


# ----------------------------------------------------------------------------------------------------
# Clean records exercising every column
# ----------------------------------------------------------------------------------------------------


def square(lon: float, lat: float, size: float = 0.002) -> Polygon:
    return shapely.box(lon, lat, lon + size, lat + size)


def clean_hazards() -> list[HazardArea]:
    """Hazards using every column: both classes, every optional value, nulls, a multipolygon, a hole, coordinates
    that are not short decimals, non-ASCII text, and text a spreadsheet would run as a formula."""
    third = 1.0 / 3.0
    return [
        HazardArea("h-1", HazardClass.SHA, square(35.0, 50.0), Evidence.INDIRECT),
        HazardArea(
            "h-2",
            HazardClass.CHA,
            square(35.1 + 0.1 * 2, 50.0 + third / 100),  # 35.300000000000004, 50.00333…
            Evidence.DIRECT,
            device_categories=frozenset({DeviceCategory.AT_MINE, DeviceCategory.AP_MINE}),
            land_use=LandUse.AGRICULTURAL,
            status=HazardStatus.CLOSED,
            beneficiaries=1200,
            organisation_id="org-1",
            name="Поле біля Сум",
            expected_clearance_share=third,
            synthetic=True,
        ),
        HazardArea(
            "h-3",
            HazardClass.SHA,
            MultiPolygon([square(35.1, 50.1), square(35.2, 50.1)]),
            Evidence.INDIRECT,
            device_categories=frozenset({DeviceCategory.CLUSTER}),
            status=HazardStatus.HANDED_OVER,
            land_use=LandUse.FOREST,
            expected_clearance_share=0.0,
        ),
        HazardArea(
            "h-4",
            HazardClass.SHA,
            Polygon(
                [(35.3, 50.3), (35.31, 50.3), (35.31, 50.31), (35.3, 50.31)],
                [[(35.302, 50.302), (35.302, 50.304), (35.304, 50.304), (35.304, 50.302)]],
            ),
            Evidence.INDIRECT,
            name="=HYPERLINK(\"http://x\")",
            organisation_id="-org",
        ),
        HazardArea("+h-5", HazardClass.SHA, square(35.4, 50.4), Evidence.INDIRECT, name="'=already quoted"),
    ]


def clean_assets() -> list[Asset]:
    """Assets of every geometry kind (line, multiline, point, polygon), several trades, buffers and nulls."""
    return [
        Asset("a-road", AssetType.ROAD, LineString([(35.0, 50.0), (35.05, 50.02)]), DamageLevel.SEVERE,
              {Trade.ROAD: 120.0}, criticality=5, people_served=8000, name="H07"),
        Asset("a-bridge", AssetType.BRIDGE, Point(35.02, 50.01), DamageLevel.DESTROYED,
              {Trade.BRIDGE: 300.5, Trade.ROAD: 20.0}, work_buffer_m=150.0, synthetic=True),
        Asset("a-school", AssetType.SCHOOL, square(35.03, 50.03, 0.0005), DamageLevel.MODERATE,
              {Trade.BUILDING: 100.0 / 3.0, Trade.POWER: 5.0, Trade.WATER: 2.5}, people_served=400,
              name="Школа №2"),
        Asset("a-power", AssetType.POWER_LINE,
              MultiLineString([[(35.1, 50.1), (35.2, 50.2)], [(35.2, 50.2), (35.25, 50.1 + 1.0 / 3.0)]]),
              DamageLevel.LIGHT, {Trade.POWER: 2.0 / 3.0}, criticality=1, work_buffer_m=0.0),
    ]
