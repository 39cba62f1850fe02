"""GDAL (through pyogrio, as QGIS would) opens the store as a GeoPackage, reads its layers and can edit them."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from sapper.domain.hazards import HazardArea
from sapper.store import PlannedTask, PlanRun, Store
from sapper.store.schema import ATTRIBUTE_TABLES, SPATIAL_LAYERS


def test_gdal_lists_every_layer(gpkg_filled: Store) -> None:
    """list_layers shows each spatial layer with its geometry type, the attribute tables and the plan views."""
    layers = {str(name): gtype for name, gtype in pyogrio.list_layers(gpkg_filled.path)}
    for table, gtype in SPATIAL_LAYERS.items():
        assert layers[table] == ("Point" if gtype == "POINT" else "Unknown")
    for table in ATTRIBUTE_TABLES:
        assert layers[table] is None
    assert {"planned_hazard_release", "planned_asset_restoration"} <= set(layers)
    assert "alembic_version" not in layers


def test_gdal_reads_hazards_in_wgs84(gpkg_filled: Store, hazards: list[HazardArea]) -> None:
    """read_dataframe gives every hazard, in EPSG:4326, with flat columns and the same geometry."""
    df = pyogrio.read_dataframe(gpkg_filled.path, layer="hazard_areas")
    assert df.crs.to_epsg() == 4326
    assert len(df) == len(hazards)
    assert list(df["id"]) == [h.id for h in hazards]
    assert df.loc[1, "device_categories"] == "ap_mine,at_mine"
    assert df.loc[1, "name"] == "Поле біля Сум"
    assert all(shapely.equals_identical(g, h.geometry) for g, h in zip(df.geometry, hazards, strict=True))


def test_gdal_reads_attribute_tables(gpkg_filled: Store) -> None:
    """Attribute tables read as plain tables (teams with their base lon/lat and size in people)."""
    teams = pyogrio.read_dataframe(gpkg_filled.path, layer="teams", read_geometry=False)
    assert list(teams["id"]) == ["t-1", "t-2"]
    assert list(teams["size"]) == [8, 10]


def test_gdal_spatial_filter_uses_rtree(gpkg_filled: Store) -> None:
    """GDAL's bbox filter (served by the R-tree) returns the hazards meeting the box."""
    df = pyogrio.read_dataframe(gpkg_filled.path, layer="hazard_areas", bbox=(35.005, 49.99, 35.025, 50.01))
    assert sorted(df["id"]) == ["h-1", "h-2"]


def test_gdal_edit_keeps_store_consistent(gpkg_filled: Store) -> None:
    """A feature appended by GDAL (as a QGIS edit would) is indexed by GDAL's own triggers and read by sapper."""
    df = pyogrio.read_dataframe(gpkg_filled.path, layer="hazard_areas")
    new = df.iloc[:1].copy()
    new["id"] = "from-qgis"
    new = gpd.GeoDataFrame(new, geometry=[shapely.box(36.0, 51.0, 36.01, 51.01)], crs=df.crs)
    pyogrio.write_dataframe(new, gpkg_filled.path, layer="hazard_areas", append=True)
    assert gpkg_filled.bbox_search("hazard_areas", 35.99, 50.99, 36.02, 51.02) == ["from-qgis"]
    assert gpkg_filled.hazard("from-qgis").geometry.equals(shapely.box(36.0, 51.0, 36.01, 51.01))


def test_planned_views_read_with_gdal(gpkg_filled: Store) -> None:
    """After saving plans, the views give each hazard/asset the finish date of its last task in the latest run."""
    def task(tid: str, end: dt.date, **kw: str) -> PlannedTask:
        return PlannedTask(tid, "clearance", dt.date(2026, 4, 1), end, 1.0, "m2", **kw)

    gpkg_filled.save_plan(PlanRun("old", tasks=(task("x", dt.date(2030, 1, 1), hazard_id="h-1"),)))
    gpkg_filled.save_plan(PlanRun("new", tasks=(
        task("s1", dt.date(2026, 5, 2), hazard_id="h-1"),
        task("c1", dt.date(2026, 6, 30), hazard_id="h-1"),
        task("s2", dt.date(2026, 5, 9), hazard_id="h-2"),
        task("r1", dt.date(2026, 8, 1), asset_id="a-road"),
    )))
    hz = pyogrio.read_dataframe(gpkg_filled.path, layer="planned_hazard_release")
    dates = dict(zip(hz["id"], hz["planned_release_date"], strict=True))
    assert hz.crs.to_epsg() == 4326 and len(hz) == 4
    assert dates["h-1"] == pd.Timestamp("2026-06-30")
    assert dates["h-2"] == pd.Timestamp("2026-05-09")
    assert pd.isna(dates["h-3"])
    assets = pyogrio.read_dataframe(gpkg_filled.path, layer="planned_asset_restoration")
    restored = dict(zip(assets["id"], assets["planned_restore_date"], strict=True))
    assert restored["a-road"] == pd.Timestamp("2026-08-01") and pd.isna(restored["a-bridge"])
    info = pyogrio.read_info(gpkg_filled.path, layer="planned_hazard_release")
    assert info["fid_column"] == "fid" and not math.isnan(info["total_bounds"][0])
