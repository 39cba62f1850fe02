"""Hazard areas and assets written to GeoPackage, GeoJSON and CSV read back as they were."""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from sapper.domain.assets import Asset
from sapper.domain.geometry import WGS84
from sapper.domain.hazards import HazardArea
from sapper.errors import ValidationError
from sapper.io import read_assets, read_hazards, write_assets, write_hazards
from tests.io.messy import clean_assets, clean_hazards

FORMATS = ["gpkg", "geojson", "csv"]


def attributes(record: HazardArea | Asset) -> dict[str, Any]:
    """Every compared field of a record except its geometry."""
    return {f.name: getattr(record, f.name) for f in fields(record) if f.compare and f.name != "geometry"}


def same_geometry(got: BaseGeometry, sent: BaseGeometry, suffix: str) -> bool:
    """Exactly the same coordinates and type; for GeoJSON after normalising, as RFC 7946 rewinds rings."""
    if suffix == "geojson":
        got, sent = shapely.normalize(got), shapely.normalize(sent)
    return got.geom_type == sent.geom_type and bool(shapely.equals_exact(got, sent, tolerance=0.0))


@pytest.mark.parametrize("suffix", FORMATS)
def test_hazards_round_trip(tmp_path: Path, suffix: str) -> None:
    """Hazards come back with the same ids, attributes, geometry (exact) and area, nothing repaired or rejected."""
    sent = clean_hazards()
    path = tmp_path / f"hazards.{suffix}"
    assert write_hazards(path, sent) == len(sent)
    got = read_hazards(path)
    assert (got.rejected, got.repaired, got.ignored_columns) == ([], [], [])
    assert [h.id for h in got.records] == [h.id for h in sent]
    for back, orig in zip(got.records, sent, strict=True):
        assert attributes(back) == attributes(orig)
        assert same_geometry(back.geometry, orig.geometry, suffix), (back.id, back.geometry.wkt)
        assert back.area_m2 == pytest.approx(orig.area_m2, rel=1e-12, abs=0.0)
    if suffix != "geojson":
        assert got.records == sent  # ring order and orientation too
        assert [h.area_m2 for h in got.records] == [h.area_m2 for h in sent]


@pytest.mark.parametrize("suffix", FORMATS)
def test_assets_round_trip(tmp_path: Path, suffix: str) -> None:
    """Assets (line, multiline, point, polygon) come back with the same ids, attributes and exact geometry."""
    sent = clean_assets()
    path = tmp_path / f"assets.{suffix}"
    assert write_assets(path, sent) == len(sent)
    got = read_assets(path)
    assert (got.rejected, got.repaired, got.ignored_columns) == ([], [], [])
    assert [a.id for a in got.records] == [a.id for a in sent]
    for back, orig in zip(got.records, sent, strict=True):
        assert attributes(back) == attributes(orig)
        assert dict(back.repair_work) == dict(orig.repair_work)
        assert same_geometry(back.geometry, orig.geometry, suffix), (back.id, back.geometry.wkt)


@pytest.mark.parametrize("suffix", FORMATS)
def test_area_column_is_sapper_area(tmp_path: Path, suffix: str) -> None:
    """The area_m2 column written for users holds each hazard's area_m2 (to 1e-9)."""
    sent = clean_hazards()
    path = tmp_path / f"hazards.{suffix}"
    write_hazards(path, sent)
    frame = pyogrio.read_dataframe(path, read_geometry=False)
    assert [float(a) for a in frame["area_m2"]] == [pytest.approx(h.area_m2, rel=1e-9) for h in sent]


def test_geojson_is_rfc7946(tmp_path: Path) -> None:
    """GeoJSON has no crs member, reads as EPSG:4326 and has counter-clockwise exterior rings."""
    path = tmp_path / "hazards.geojson"
    write_hazards(path, clean_hazards())
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc
    assert pyogrio.read_info(path)["crs"] == "EPSG:4326"
    outer = [f["geometry"]["coordinates"][0] for f in doc["features"] if f["geometry"]["type"] == "Polygon"]
    assert outer and all(shapely.is_ccw(shapely.linearrings(ring)) for ring in outer)


def test_csv_guards_formulas_and_keeps_float_digits(tmp_path: Path) -> None:
    """CSV cells a spreadsheet would run are prefixed with ', floats keep every digit, and a .prj names WGS84."""
    path = tmp_path / "hazards.csv"
    write_hazards(path, clean_hazards())
    with path.open(encoding="utf-8", newline="") as f:
        rows = {row["id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"h-1", "h-2", "h-3", "h-4", "'+h-5"}
    assert rows["h-4"]["name"] == "'=HYPERLINK(\"http://x\")"
    assert rows["h-4"]["organisation_id"] == "'-org"
    assert rows["'+h-5"]["name"] == "''=already quoted"  # read back as '=already quoted (round trip test)
    assert rows["h-2"]["expected_clearance_share"] == repr(1.0 / 3.0)
    assert rows["h-1"]["expected_clearance_share"] == ""
    prj = CRS.from_user_input(path.with_suffix(".prj").read_text(encoding="utf-8"))
    assert prj.equals(WGS84, ignore_axis_order=True)


@pytest.mark.parametrize("suffix", FORMATS)
def test_writing_again_replaces_the_records(tmp_path: Path, suffix: str) -> None:
    """Writing to an existing file replaces what it held (CSV included)."""
    path = tmp_path / f"hazards.{suffix}"
    write_hazards(path, clean_hazards())
    write_hazards(path, clean_hazards()[1:3])
    assert [h.id for h in read_hazards(path).records] == ["h-2", "h-3"]


def test_geopackage_keeps_other_layers(tmp_path: Path) -> None:
    """Hazards and assets share one GeoPackage as two layers; each reader picks its own layer."""
    path = tmp_path / "both.gpkg"
    write_hazards(path, clean_hazards())
    write_assets(path, clean_assets())
    write_hazards(path, clean_hazards()[:2])
    assert sorted(str(name) for name, _ in pyogrio.list_layers(path)) == ["assets", "hazard_areas"]
    assert [h.id for h in read_hazards(path).records] == ["h-1", "h-2"]
    assert [a.id for a in read_assets(path).records] == [a.id for a in clean_assets()]


@pytest.mark.parametrize("suffix", FORMATS)
def test_no_records_read_back_as_none(tmp_path: Path, suffix: str) -> None:
    """An export of nothing is a file that reads back as no records, not an error."""
    path = tmp_path / f"empty.{suffix}"
    assert write_hazards(path, []) == 0
    got = read_hazards(path)
    assert (got.records, got.rejected, got.repaired) == ([], [], [])


def test_unknown_suffix_refused(tmp_path: Path) -> None:
    """A suffix sapper does not write is refused, naming the ones it does, and no file appears."""
    path = tmp_path / "hazards.shp"
    with pytest.raises(ValidationError, match=r"\.csv, \.geojson, \.gpkg, \.json"):
        write_hazards(path, clean_hazards())
    assert list(tmp_path.iterdir()) == []
