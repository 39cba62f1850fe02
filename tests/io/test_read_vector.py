"""Reading hazard areas and assets from files: bad features are repaired or rejected one by one, with the feature
named; files sapper cannot use at all (no CRS, missing columns) are refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Point, Polygon

from sapper.domain.assets import AssetType
from sapper.domain.hazards import DeviceCategory, Evidence, HazardClass, LandUse
from sapper.errors import CRSError, ImportFileError
from sapper.io import read_assets, read_hazards
from tests.io.messy import (
    BOW_TIE,
    box_ring,
    equal_area_m2,
    feature,
    messy_hazards,
    polygon,
    write_csv,
    write_frame,
    write_geojson,
)

UTM36 = "EPSG:32636"


def utm36(lon: float, lat: float) -> tuple[float, float]:
    x, y = Transformer.from_crs("EPSG:4326", UTM36, always_xy=True).transform(lon, lat)
    return float(x), float(y)


# ----------------------------------------------------------------------------------------------------
# Broken features
# ----------------------------------------------------------------------------------------------------


def test_messy_file_rejects_each_bad_feature_by_id(tmp_path: Path) -> None:
    """Each broken feature is rejected with its number, id and reason; the valid ones (and the repaired) are read."""
    messy = messy_hazards(tmp_path / "messy.geojson")
    got = read_hazards(messy.path)
    assert [h.id for h in got.records] == list(messy.imported)
    assert got.indexes == [1, 2, 9]
    assert [i.id for i in got.repaired] == list(messy.repaired)
    assert {i.index: i.id for i in got.rejected} == {n: fid for n, (fid, _) in messy.rejected.items()}
    for issue in got.rejected:
        fid, fragment = messy.rejected[issue.index]
        assert fragment in issue.reason
        assert str(issue).startswith(f"feature {issue.index} (id {fid}): ")
    assert got.feature_count == 9


def test_bow_tie_is_repaired_with_make_valid(tmp_path: Path) -> None:
    """A self-intersecting ring becomes the polygons make_valid gives, reported with GEOS's reason, same area."""
    write_geojson(tmp_path / "bow.geojson", [feature(polygon(BOW_TIE), id="bow", hazard_class="SHA")])
    got = read_hazards(tmp_path / "bow.geojson")
    assert [str(i) for i in got.repaired] == ["feature 1 (id bow): Self-intersection[35.005 50.005]"]
    expected = shapely.make_valid(Polygon(BOW_TIE))
    (hazard,) = got.records
    assert hazard.geometry.geom_type == "MultiPolygon" and hazard.geometry.is_valid
    assert shapely.equals_exact(shapely.normalize(hazard.geometry), shapely.normalize(expected), tolerance=1e-12)
    assert hazard.area_m2 == pytest.approx(equal_area_m2(expected), rel=1e-6)
    # Sanity check, independent of make_valid: the two triangles are half the square the bow-tie spans.
    assert hazard.area_m2 == pytest.approx(equal_area_m2(shapely.box(35.0, 50.0, 35.01, 50.01)) / 2, rel=1e-3)


def test_csv_unclosed_ring_and_bad_wkt_rejected(tmp_path: Path) -> None:
    """In CSV WKT, an unclosed ring, unreadable text, an empty cell and POLYGON EMPTY are each rejected by id."""
    closed = "POLYGON ((35 50, 35.01 50, 35.01 50.01, 35 50.01, 35 50))"
    write_csv(
        tmp_path / "h.csv",
        ["id", "hazard_class", "wkt"],
        [
            ["good", "SHA", closed],
            ["open-ring", "SHA", "POLYGON ((35 50, 35.01 50, 35.01 50.01, 35 50.01))"],
            ["garbage", "SHA", "POLYGON ((35 50, 35.01"],
            ["no-wkt", "SHA", ""],
            ["empty", "SHA", "POLYGON EMPTY"],
            ["bow", "CHA", "POLYGON ((35 50, 35.01 50.01, 35.01 50, 35 50.01, 35 50))"],
        ],
    )
    got = read_hazards(tmp_path / "h.csv", crs="EPSG:4326")
    assert [h.id for h in got.records] == ["good", "bow"]
    assert [i.id for i in got.repaired] == ["bow"]
    reasons = {i.id: i.reason for i in got.rejected}
    assert set(reasons) == {"open-ring", "garbage", "no-wkt", "empty"}
    assert reasons["open-ring"].startswith("wkt is not readable WKT") and "closed" in reasons["open-ring"]
    assert reasons["garbage"].startswith("wkt is not readable WKT")
    assert reasons["no-wkt"] == "geometry is null"
    assert reasons["empty"] == "geometry is empty"


def test_geojson_unclosed_ring_rejects_only_that_feature(tmp_path: Path) -> None:
    """A GeoJSON ring that is not closed is rejected by id instead of stopping the whole read."""
    write_geojson(
        tmp_path / "h.geojson",
        [
            feature(polygon(box_ring(35.0, 50.0)[:-1]), id="open-ring", hazard_class="SHA"),
            feature(polygon(box_ring(35.1, 50.0)), id="good", hazard_class="SHA"),
        ],
    )
    got = read_hazards(tmp_path / "h.geojson")
    assert [h.id for h in got.records] == ["good"]
    (issue,) = got.rejected
    assert (issue.index, issue.id) == (1, "open-ring")
    assert issue.reason.startswith("geometry cannot be read") and "closed" in issue.reason


def test_duplicate_id_rejected_even_after_a_rejected_first(tmp_path: Path) -> None:
    """A second feature with an id already used in the file is rejected, even if the first was rejected too."""
    write_geojson(
        tmp_path / "h.geojson",
        [
            feature(None, id="x", hazard_class="SHA"),
            feature(polygon(box_ring(35.1, 50.0)), id="x", hazard_class="SHA"),
            feature(polygon(box_ring(35.2, 50.0)), id="y", hazard_class="SHA"),
            feature(polygon(box_ring(35.3, 50.0)), id="y", hazard_class="SHA"),
        ],
    )
    got = read_hazards(tmp_path / "h.geojson")
    assert [h.id for h in got.records] == ["y"]
    assert [str(i) for i in got.rejected] == [
        "feature 1 (id x): geometry is null",
        "feature 2 (id x): id x appears earlier in the file (feature 1)",
        "feature 4 (id y): id y appears earlier in the file (feature 3)",
    ]


def test_attribute_faults_reported_together(tmp_path: Path) -> None:
    """One feature's bad values are all named in one rejection; loose spellings of good values are accepted."""
    ring = "POLYGON ((35 50, 35.01 50, 35.01 50.01, 35 50.01, 35 50))"
    write_csv(
        tmp_path / "h.csv",
        ["id", "hazard_class", "land_use", "device_categories", "beneficiaries", "expected_clearance_share",
         "synthetic", "wkt"],
        [
            ["loose", " cha ", "Agricultural", "AP mine; at-mine", "7.0", "0.25", "yes", ring],
            ["bad", "CHA", "moon", "", "1,500", "0,4", "maybe", ring],
            ["", "SHA", "", "", "", "", "", ring],
        ],
    )
    got = read_hazards(tmp_path / "h.csv", crs="EPSG:4326")
    (loose,) = got.records
    assert loose.hazard_class is HazardClass.CHA and loose.evidence is Evidence.DIRECT
    assert loose.land_use is LandUse.AGRICULTURAL
    assert loose.device_categories == {DeviceCategory.AP_MINE, DeviceCategory.AT_MINE}
    assert (loose.beneficiaries, loose.expected_clearance_share, loose.synthetic) == (7, 0.25, True)
    bad, no_id = got.rejected
    assert (bad.index, bad.id) == (2, "bad")
    for fragment in ("land_use 'moon'", "beneficiaries must be a whole number", "(use a decimal point)",
                     "synthetic must be true or false"):
        assert fragment in bad.reason
    assert (no_id.index, no_id.id, no_id.reason) == (3, None, "id is empty")


def test_assets_geometry_checked_by_type(tmp_path: Path) -> None:
    """A road given as a point is rejected; a school's bow-tie footprint is repaired; a bridge point is read."""
    write_geojson(
        tmp_path / "a.geojson",
        [
            feature({"type": "Point", "coordinates": [35.0, 50.0]}, id="road-pt", asset_type="road",
                    damage="severe", work_road_bd=10),
            feature(polygon(BOW_TIE), id="school", asset_type="school", damage="moderate", work_building_bd=40),
            feature({"type": "Point", "coordinates": [35.2, 50.2]}, id="bridge", asset_type="bridge",
                    damage="destroyed", work_bridge_bd=300, work_road_bd=0),
            feature({"type": "Point", "coordinates": [35.3, 50.3]}, id="no-work", asset_type="house",
                    damage="light", work_road_bd=0),
        ],
    )
    got = read_assets(tmp_path / "a.geojson")
    assert [a.id for a in got.records] == ["school", "bridge"]
    assert [i.id for i in got.repaired] == ["school"]
    assert got.records[0].geometry.geom_type == "MultiPolygon"
    assert got.records[1].asset_type is AssetType.BRIDGE and sum(got.records[1].repair_work.values()) == 300
    reasons = {i.id: i.reason for i in got.rejected}
    assert reasons["road-pt"] == "a road must be a line, got Point"
    assert "repair work is empty" in reasons["no-work"]


def test_csv_points_from_lon_lat_columns(tmp_path: Path) -> None:
    """Asset points can come as lon/lat columns; a non-number is rejected naming the columns."""
    write_csv(
        tmp_path / "a.csv",
        ["id", "asset_type", "damage", "work_building_bd", "lon", "lat"],
        [["clinic", "clinic", "severe", "25.5", "35.5", "50.5"], ["bad", "clinic", "severe", "3", "east", "50"]],
    )
    got = read_assets(tmp_path / "a.csv", crs="EPSG:4326")
    (clinic,) = got.records
    assert clinic.geometry == Point(35.5, 50.5)
    assert [(i.id, i.reason) for i in got.rejected] == [
        ("bad", "lon/lat: 'east' is neither decimal degrees nor degrees-minutes-seconds")]


# ----------------------------------------------------------------------------------------------------
# CRS
# ----------------------------------------------------------------------------------------------------


def test_csv_without_crs_refused(tmp_path: Path) -> None:
    """A CSV without --crs or .prj is refused as a whole, saying how to name the CRS."""
    write_csv(tmp_path / "h.csv", ["id", "hazard_class", "wkt"], [["a", "SHA", "POINT (1 1)"]])
    with pytest.raises(CRSError, match="--crs") as info:
        read_hazards(tmp_path / "h.csv")
    assert info.value.exit_code == 2 and "h.csv" in info.value.message


def test_geopackage_without_crs_refused(tmp_path: Path) -> None:
    """A GeoPackage layer without a CRS is refused unless --crs names it."""
    path = write_frame(tmp_path / "h.gpkg", {"id": ["a"], "hazard_class": ["SHA"]},
                       [shapely.box(35, 50, 35.01, 50.01)], crs=None)
    with pytest.raises(CRSError, match="has no coordinate reference system"):
        read_hazards(path)
    assert [h.id for h in read_hazards(path, crs="EPSG:4326").records] == ["a"]


def test_shapefile_without_prj_refused(tmp_path: Path) -> None:
    """A shapefile without .prj is refused for its CRS (before anything else is looked at)."""
    path = write_frame(tmp_path / "h.shp", {"id": ["a"], "hazard_class": ["SHA"]},
                       [shapely.box(35, 50, 35.01, 50.01)], crs=None)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(CRSError, match="has no coordinate reference system"):
        read_hazards(path)


def test_crs_option_contradicting_file_refused(tmp_path: Path) -> None:
    """--crs that disagrees with the file's own CRS is refused naming both."""
    path = write_frame(tmp_path / "h.gpkg", {"id": ["a"], "hazard_class": ["SHA"]},
                       [shapely.box(35, 50, 35.01, 50.01)], crs="EPSG:4326")
    with pytest.raises(CRSError, match=r"EPSG:4326.*EPSG:32636"):
        read_hazards(path, crs=UTM36)


def test_unreadable_crs_option_refused(tmp_path: Path) -> None:
    """An --crs sapper cannot read is a CRSError, not a crash."""
    write_csv(tmp_path / "h.csv", ["id", "hazard_class", "wkt"], [["a", "SHA", "POINT (1 1)"]])
    with pytest.raises(CRSError, match="unreadable"):
        read_hazards(tmp_path / "h.csv", crs="EPSG:999999")


def test_projected_geopackage_reprojected_to_wgs84(tmp_path: Path) -> None:
    """A 100 m square in UTM 36N lands at its lon/lat, about 10,000 m² in area."""
    x, y = utm36(33.0, 50.0)
    path = write_frame(tmp_path / "utm.gpkg", {"id": ["u"], "hazard_class": ["SHA"]},
                       [shapely.box(x, y, x + 100, y + 100)], crs=UTM36)
    (hazard,) = read_hazards(path).records
    lower_left = hazard.geometry.exterior.coords[3]  # shapely.box: (maxx miny), (maxx maxy), (minx maxy), (minx miny)
    assert lower_left == (pytest.approx(33.0, abs=1e-7), pytest.approx(50.0, abs=1e-7))
    centre = hazard.geometry.centroid
    assert (centre.x, centre.y) == (pytest.approx(33.0007, abs=1e-4), pytest.approx(50.00045, abs=1e-4))
    assert hazard.area_m2 == pytest.approx(100 * 100 / 0.9996**2, rel=1e-4)  # UTM scale factor on the meridian


def test_projected_csv_reprojected_with_crs_option_or_prj(tmp_path: Path) -> None:
    """CSV coordinates in UTM 36N are reprojected, whether --crs or a .prj file names the CRS."""
    x, y = utm36(33.5, 50.5)
    wkt = shapely.box(x, y, x + 50, y + 50).wkt
    path = write_csv(tmp_path / "h.csv", ["id", "hazard_class", "wkt"], [["u", "SHA", wkt]])
    (with_option,) = read_hazards(path, crs=UTM36).records
    path.with_suffix(".prj").write_text(CRS.from_user_input(UTM36).to_wkt(), encoding="utf-8")
    (with_prj,) = read_hazards(path).records
    for hazard in (with_option, with_prj):
        assert hazard.geometry.exterior.coords[3] == (pytest.approx(33.5, abs=1e-7), pytest.approx(50.5, abs=1e-7))
    assert with_option == with_prj


def test_projected_data_labelled_wgs84_rejected(tmp_path: Path) -> None:
    """Metres in a file that says EPSG:4326 are rejected per feature as not lon/lat, with the range found."""
    path = write_csv(tmp_path / "h.csv", ["id", "hazard_class", "wkt"],
                     [["m", "SHA", shapely.box(500000, 5540000, 500100, 5540100).wkt]])
    got = read_hazards(path, crs="EPSG:4326")
    assert [(i.id, i.reason) for i in got.rejected] == [
        ("m", "coordinates are not WGS84 lon/lat (x 500000 to 500100, y 5540000 to 5540100): projected "
              "coordinates, such as metres, in a file whose CRS says degrees? Correct the file's CRS: looks like UTM, "
              "e.g. EPSG:32636 for zone 36N")
    ]


# ----------------------------------------------------------------------------------------------------
# Columns and layers
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["id", "hazard_class"])
def test_missing_required_column_refused(tmp_path: Path, missing: str) -> None:
    """A hazards file without a required column is refused, naming the column and the columns found."""
    props = {"id": "a", "hazard_class": "SHA", "name": "n"}
    del props[missing]
    write_geojson(tmp_path / "h.geojson", [feature(polygon(box_ring(35, 50)), **props)])
    with pytest.raises(ImportFileError, match=rf"missing required column {missing}( \(or [^)]*\))? \(found: .*name"):
        read_hazards(tmp_path / "h.geojson")


def test_assets_need_a_builder_day_column(tmp_path: Path) -> None:
    """An assets file with no work_*_bd column is refused, naming the columns it could have."""
    write_csv(tmp_path / "a.csv", ["id", "asset_type", "damage", "lon", "lat"], [["a", "house", "light", "35", "50"]])
    with pytest.raises(ImportFileError, match="work_road_bd, work_bridge_bd"):
        read_assets(tmp_path / "a.csv", crs="EPSG:4326")


def test_unknown_columns_kept_as_source_attributes(tmp_path: Path) -> None:
    """Columns sapper does not use are kept per record as the file spells them, and named in a note; area_m2, fid
    and the geometry column are not kept."""
    write_csv(
        tmp_path / "h.csv",
        ["ID", "Hazard_Class", "Colour", "area_m2", "notes", "WKT"],
        [["a", "SHA", "red", "12", "x", "POLYGON ((35 50, 35.01 50, 35.01 50.01, 35 50.01, 35 50))"]],
    )
    got = read_hazards(tmp_path / "h.csv", crs="EPSG:4326")
    assert [h.id for h in got.records] == ["a"]
    assert got.ignored_columns == []
    assert got.attributes == [{"Colour": "red", "notes": "x"}]
    assert "columns kept as source attributes: Colour, notes" in got.notes


def test_layer_choice(tmp_path: Path) -> None:
    """In a many-layer GeoPackage the hazard_areas layer is found; otherwise --layer is asked for, and checked."""
    path = tmp_path / "many.gpkg"
    geoms = [shapely.box(35, 50, 35.01, 50.01)]
    write_frame(path, {"id": ["x"], "hazard_class": ["SHA"]}, geoms, "EPSG:4326", layer="first")
    write_frame(path, {"id": ["y"], "hazard_class": ["CHA"]}, geoms, "EPSG:4326", layer="second")
    with pytest.raises(ImportFileError, match=r"2 layers \(first, second\): choose one with --layer"):
        read_hazards(path)
    assert [h.id for h in read_hazards(path, layer="second").records] == ["y"]
    with pytest.raises(ImportFileError, match="has no layer 'third'"):
        read_hazards(path, layer="third")
    write_frame(path, {"id": ["z"], "hazard_class": ["SHA"]}, geoms, "EPSG:4326", layer="hazard_areas")
    assert [h.id for h in read_hazards(path).records] == ["z"]


def test_missing_or_unreadable_file_refused(tmp_path: Path) -> None:
    """A path that does not exist, or a file that is not vector data, is an ImportFileError naming it."""
    with pytest.raises(ImportFileError, match="no such file"):
        read_hazards(tmp_path / "nope.geojson")
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not json", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"junk\.geojson: cannot be read"):
        read_hazards(junk)
