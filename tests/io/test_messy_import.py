"""Reading messy hazard files in every format sapper takes from GIS users (GeoPackage, zipped Shapefile; GeoJSON is
read through the command line in tests/services/test_messy_import.py): each feature is imported, repaired or
rejected as the generator that broke it says, and Shapefiles come and go with 10-character column names."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, mapping

from sapper.domain.hazards import HazardArea
from sapper.errors import ValidationError
from sapper.io import ReadResult, read_assets, read_hazards, write_assets, write_hazards
from sapper.io.vector import SHORT_NAMES
from sapper.services.imports import differences
from tests.io.messy import clean_assets, clean_hazards, feature, write_geojson
from tests.io.messy_gis import MessyRegister, geodesic_area_m2, messy_register, write_messy


def _check(register: MessyRegister, path: Path) -> ReadResult[HazardArea]:
    """Every feature of ``path`` came out as ``register`` says: outcome, id, reason, and stored geometry."""
    got = read_hazards(path)
    outcome = {n: "imported" for n in got.indexes} | {i.index: "repaired" for i in got.repaired}
    reasons = {i.index: i for i in got.rejected} | {i.index: i for i in got.repaired}
    outcome |= {i.index: "rejected" for i in got.rejected}
    wrong = [
        (f.index, f.kind, f.outcome, outcome.get(f.index), f.reason, reasons.get(f.index))
        for f in register.features
        if outcome.get(f.index) != f.outcome
        or (f.outcome != "imported" and (f.reason not in reasons[f.index].reason or reasons[f.index].id != f.id))
    ]
    assert wrong == []
    records = dict(zip(got.indexes, got.records, strict=True))
    for f in register.stored:
        assert f.expected is not None
        geom = records[f.index].geometry
        if f.outcome == "imported":
            assert shapely.equals_exact(shapely.normalize(geom), shapely.normalize(f.expected), tolerance=0)
        else:
            assert shapely.symmetric_difference(geom, f.expected).area <= 1e-9 * f.expected.area, f.kind
        assert records[f.index].area_m2 == pytest.approx(geodesic_area_m2(f.expected), rel=1e-6)
    return got


def test_messy_geopackage(tmp_path: Path) -> None:
    """A 1,500-feature GeoPackage with every broken kind a GeoPackage holds (NaN coordinates and unclosed rings
    written as raw WKB among them): each feature imported, repaired or rejected as expected."""
    register = messy_register("gpkg", 1_500, seed=3, big=0)
    assert {"nonfinite", "unclosed", "not_polygon", "wrong_crs", "duplicate_geometry"} <= set(register.kinds())
    _check(register, write_messy(register, tmp_path / "messy.gpkg"))


def test_messy_zipped_shapefile(tmp_path: Path) -> None:
    """A 1,000-feature zipped Shapefile with 10-character column names (haz_class, benefic, clear_shr …): each
    feature as expected; no column left unused. (100,000-vertex polygons: tests/services/test_messy_import.py.)"""
    register = messy_register("shp", 1_000, seed=5, big=0)
    path = write_messy(register, tmp_path / "messy.shp.zip")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == [f"hazard_areas.{s}" for s in ("cpg", "dbf", "prj", "shp", "shx")]
    assert _check(register, path).ignored_columns == []


def test_shapefile_names_cut_to_ten_characters_are_read(tmp_path: Path) -> None:
    """A Shapefile written by a GIS from sapper's long column names (GDAL cuts them to 10 characters:
    hazard_cla, device_cat, beneficiar, organisati, expected_c) reads like the original."""
    hazards = [h for h in clean_hazards() if h.organisation_id is None]
    frame = gpd.GeoDataFrame(
        {"id": [h.id for h in hazards], "hazard_class": [h.hazard_class.value for h in hazards],
         "device_categories": [",".join(sorted(c.value for c in h.device_categories)) for h in hazards],
         "beneficiaries": [h.beneficiaries for h in hazards], "land_use": [h.land_use.value for h in hazards],
         "expected_clearance_share": [h.expected_clearance_share for h in hazards],
         "evidence": [h.evidence.value for h in hazards], "status": [h.status.value for h in hazards],
         "name": [h.name for h in hazards], "synthetic": [h.synthetic for h in hazards]},
        geometry=[h.geometry for h in hazards], crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's notes on the names it cuts
        pyogrio.write_dataframe(frame, tmp_path / "cut.shp", encoding="UTF-8")
    assert {"hazard_cla", "device_cat", "beneficiar", "expected_c"} <= set(pyogrio.read_info(tmp_path / "cut.shp")
                                                                           ["fields"])
    got = read_hazards(tmp_path / "cut.shp")
    assert (got.rejected, got.ignored_columns) == ([], [])
    assert [differences(a, b) for a, b in zip(got.records, hazards, strict=True)] == [[]] * len(hazards)


def test_legacy_cp1251_shapefile_read_through_its_cpg(tmp_path: Path) -> None:
    """Cyrillic names in a Shapefile encoded in Windows-1251 (its .cpg says so) are read as written."""
    names = ["Поле біля Сум", "Лісосмуга"]
    frame = gpd.GeoDataFrame({"id": ["a", "b"], "haz_class": ["SHA", "CHA"], "name": names},
                             geometry=[shapely.box(35, 50, 35.01, 50.01), shapely.box(35.1, 50, 35.11, 50.01)],
                             crs="EPSG:4326")
    pyogrio.write_dataframe(frame, tmp_path / "legacy.shp", encoding="cp1251")
    assert (tmp_path / "legacy.cpg").read_text().strip().upper() in ("CP1251", "1251")
    assert "Поле".encode("cp1251") in (tmp_path / "legacy.dbf").read_bytes()
    assert [h.name for h in read_hazards(tmp_path / "legacy.shp").records] == names


def test_shapefile_export_round_trip(tmp_path: Path) -> None:
    """Hazards and line assets written as zipped Shapefiles (short names, .cpg UTF-8) read back as the same records:
    no field differs (ring winding and the 15 digits a Shapefile keeps aside)."""
    hazards = clean_hazards()
    lines = [a for a in clean_assets() if a.geometry.geom_type.endswith("LineString")]
    assert write_hazards(tmp_path / "h.shp.zip", hazards) == len(hazards)
    assert write_assets(tmp_path / "a.zip", lines) == len(lines)
    with zipfile.ZipFile(tmp_path / "h.shp.zip") as z:
        assert z.read("hazard_areas.cpg").decode().strip() == "UTF-8"
    info = pyogrio.read_info(tmp_path / "h.shp.zip")
    assert max(len(f) for f in info["fields"]) <= 10
    assert {SHORT_NAMES["hazard_class"], SHORT_NAMES["expected_clearance_share"]} <= set(info["fields"])
    back = read_hazards(tmp_path / "h.shp.zip")
    assert (back.rejected, back.ignored_columns) == ([], [])
    assert [differences(a, b) for a, b in zip(back.records, hazards, strict=True)] == [[]] * len(hazards)
    assets = read_assets(tmp_path / "a.zip")
    assert [differences(a, b) for a, b in zip(assets.records, lines, strict=True)] == [[]] * len(lines)


def test_shapefile_export_refuses_mixed_geometry_kinds(tmp_path: Path) -> None:
    """Assets mixing points, lines and polygons cannot be one Shapefile: refused, naming the formats that can."""
    with pytest.raises(ValidationError, match=r"one kind of geometry.*\.gpkg or \.geojson"):
        write_assets(tmp_path / "a.shp.zip", clean_assets())
    assert not (tmp_path / "a.shp.zip").exists()


def test_overlapping_parts_are_merged_not_cancelled(tmp_path: Path) -> None:
    """A multipolygon whose two squares overlap is repaired into their union: the overlap, hazardous in both
    parts, stays in the hazard area (make_valid's default "linework" method would cut it out)."""
    a, b = shapely.box(35.0, 50.0, 35.02, 50.02), shapely.box(35.01, 50.01, 35.03, 50.03)
    write_geojson(tmp_path / "o.geojson", [feature(dict(mapping(MultiPolygon([a, b]))), id="o",
                                                   hazard_class="SHA")])
    got = read_hazards(tmp_path / "o.geojson")
    ((hazard,), (issue,)) = got.records, got.repaired
    assert issue.reason.startswith("Self-intersection")
    assert shapely.equals(hazard.geometry, a.union(b))
    assert hazard.area_m2 == pytest.approx(geodesic_area_m2(a.union(b)), rel=1e-6)


def test_non_finite_and_far_coordinates_rejected_by_name(tmp_path: Path) -> None:
    """NaN coordinates and lon/lat beyond ±180/±90 are rejected per feature with the reason, never a crash."""
    with np.errstate(invalid="ignore"):
        nan = shapely.from_wkt("POLYGON ((35 50, 35.01 50, 35.01 NaN, 35 50.01, 35 50))")
    far = shapely.box(500000, 5500000, 500100, 5500100)
    path = tmp_path / "bad.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(gpd.GeoDataFrame({"id": ["nan", "far", "ok"], "hazard_class": ["SHA"] * 3},
                                                 geometry=[nan, far, shapely.box(35, 50, 35.01, 50.01)],
                                                 crs="EPSG:4326"), path)
    got = read_hazards(path)
    assert [h.id for h in got.records] == ["ok"]
    reasons = {i.id: i.reason for i in got.rejected}
    assert reasons["nan"] == "coordinates are not finite numbers (NaN or infinity)"
    assert reasons["far"].startswith("coordinates are not WGS84 lon/lat (x 500000 to 500100, y 5500000 to 5500100)")
    assert np.isfinite(shapely.get_coordinates(got.records[0].geometry)).all()
