"""Files as people bring them: CSV in cp1251 or UTF-8 (with or without BOM), ``,`` or ``;``, decimal commas;
coordinates as degrees, DMS, MGRS or UTM; XLSX sheets; KML/KMZ; and every declared CRS checked feature by feature."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point

from sapper.errors import CRSError, ImportFileError
from sapper.io import read_assets, read_hazards
from sapper.io.coords import parse_angle, parse_mgrs, utm_crs
from sapper.io.profile import ImportProfile
from sapper.io.workforce import read_workforce
from tests.io.foreign import MAP, VALUES, imsma_ng_csv

SQUARE = shapely.box(35.10, 51.30, 35.11, 51.31)
_TO_UTM36 = Transformer.from_crs("EPSG:4326", "EPSG:32636", always_xy=True)


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(("encoding", "note"), [("utf-8", False), ("utf-8-sig", False), ("cp1251", True)])
def test_csv_encodings_detected_and_said(tmp_path: Path, encoding: str, note: bool) -> None:
    """UTF-8 with or without BOM reads silently; cp1251 reads too, and the reading says it chose cp1251."""
    path = _csv(tmp_path / "h.csv", f'id,hazard_class,name,wkt\nh-1,SHA,Поле у Глушково,"{SQUARE.wkt}"\n', encoding)
    got = read_hazards(path, crs="EPSG:4326")
    assert [h.name for h in got.records] == ["Поле у Глушково"]
    said = [n for n in got.notes if "Windows-1251" in n]
    assert bool(said) is note


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    """A ``;`` file's decimal commas are decimals (coordinates and numbers alike), and the reading says how many."""
    path = _csv(tmp_path / "a.csv", "id;asset_type;damage;work_building_bd;lon;lat\n"
                                    "clinic;clinic;severe;12,5;35,25;51,5\n", "cp1251")
    got = read_assets(path, crs="EPSG:4326")
    (clinic,) = got.records
    assert clinic.geometry.equals(Point(35.25, 51.5))
    assert sum(clinic.repair_work.values()) == 12.5
    assert any("3 numbers with a decimal comma" in n for n in got.notes)


def test_workforce_csv_in_cp1251_with_semicolons(tmp_path: Path) -> None:
    """The workforce table reads as the other tables do: cp1251, ``;``, decimal commas in its coordinates."""
    path = _csv(tmp_path / "w.csv", "id;kind;organisation_id;method;size;base_lon;base_lat;примітка\n"
                                    "Т-1;team;ДСНС;manual;8;35,2;51,5;синтетика\n", "cp1251")
    got = read_workforce(path)
    assert [(t.id, t.organisation_id, t.base.x, t.base.y) for t in got.teams] == [("Т-1", "ДСНС", 35.2, 51.5)]


def test_comma_file_keeps_decimal_commas_refused(tmp_path: Path) -> None:
    """In a comma-separated file "1,5" cannot be a decimal: the number is refused with a hint, as before."""
    path = _csv(tmp_path / "a.csv", 'id,asset_type,damage,work_building_bd,lon,lat\nc,clinic,severe,"1,5",35,51\n')
    got = read_assets(path, crs="EPSG:4326")
    assert [i.reason for i in got.rejected] == ["work_building_bd must be a number, got '1,5' (use a decimal point)"]


@pytest.mark.parametrize(
    ("text", "axis", "expected"),
    [("51°18'25.3\"N", "lat", 51.30702777), ("N51°18.42'", "lat", 51.307), ("35:12:03E", "lon", 35.20083333),
     ("35 12 3 W", "lon", -35.20083333), ("51,5", "lat", 51.5), ("-12.25", "lon", -12.25),
     ("51°18′25″ N", "lat", 51.30694444)],
)
def test_angles_in_every_notation(text: str, axis: str, expected: float) -> None:
    """Decimal degrees (point or comma) and DMS with symbols, spaces or colons and a hemisphere letter."""
    assert parse_angle(text, axis=axis) == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize(("text", "why"), [("51°18'25.3\"E", "does not fit a latitude"), ("north", "neither"),
                                           ("51°75'", "below 60")])
def test_bad_angles_say_why(text: str, why: str) -> None:
    """A hemisphere on the wrong axis, text, and minutes of 60 or more are refused with the reason."""
    with pytest.raises(ValueError, match=why):
        parse_angle(text, axis="lat")


def test_mgrs_and_utm_zone_notation() -> None:
    """MGRS gives the WGS84 point it names; a UTM zone cell names WGS84 UTM north or south."""
    p = parse_mgrs("36U XC 52699 07723")
    assert (p.x, p.y) == (pytest.approx(35.2, abs=1e-4), pytest.approx(51.5, abs=1e-4))
    assert [utm_crs(z).to_epsg() for z in ("36U", "36", 36.0, "36 south", "36C", "37S")] == [
        32636, 32636, 32636, 32736, 32736, 32637]
    with pytest.raises(ValueError, match="not an MGRS reference"):
        parse_mgrs("99ZZZ")
    with pytest.raises(ValueError, match="zone 1–60"):
        utm_crs("61U")


def test_dms_mgrs_and_utm_columns_give_the_same_point(tmp_path: Path) -> None:
    """One clinic written as DMS, MGRS and UTM-with-zone columns lands on the same point (within a metre); MGRS
    and UTM need no --crs (WGS84 by definition) and the notation used is said."""
    x, y = _TO_UTM36.transform(35.2, 51.5)
    head = "id;asset_type;damage;work_building_bd"
    files = {
        "dms": (f"{head};lon;lat\nc;clinic;severe;3;35°12'0\"E;51°30'0\"N\n", "EPSG:4326"),
        "mgrs": (f"{head};mgrs\nc;clinic;severe;3;36UXC5269907723\n", None),
        "utm": (f"{head};easting;northing;utm_zone\nc;clinic;severe;3;{x:.2f};{y:.2f};36U\n", None),
    }
    points = {}
    for name, (text, crs) in files.items():
        got = read_assets(_csv(tmp_path / f"{name}.csv", text), crs=crs)
        assert not got.rejected, got.rejected
        points[name] = got.records[0].geometry
        if name != "dms":
            assert any(f"coordinates read as {name.upper()}" in n for n in got.notes)
    for p in points.values():
        assert p.distance(Point(35.2, 51.5)) < 1e-5  # about a metre


def test_mgrs_with_a_contradicting_crs_refused(tmp_path: Path) -> None:
    """MGRS is WGS84: a --crs that says otherwise is refused rather than ignored."""
    path = _csv(tmp_path / "a.csv", "id;asset_type;damage;work_building_bd;mgrs\nc;clinic;severe;3;36UXC5269907723\n")
    with pytest.raises(CRSError, match="WGS84 by definition"):
        read_assets(path, crs="EPSG:32636")


def test_xlsx_sheet_with_wkt_and_with_coordinates(tmp_path: Path) -> None:
    """A workbook's sheet is read by name (or the preferred one): WKT hazards, coordinate assets, numbers as numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "hazard_areas"
    sheet.append(["ID", "hazard_class", "Oblast", "WKT"])
    sheet.append(["h-1", "CHA", "Сумська", SQUARE.wkt])
    other = book.create_sheet("assets")
    other.append(["id", "asset_type", "damage", "work_road_bd", "lon", "lat"])
    other.append([7, "clinic", "light", 2.5, 35.2, 51.5])
    path = tmp_path / "register.xlsx"
    book.save(path)
    hazards = read_hazards(path, crs="EPSG:4326")
    assert [h.id for h in hazards.records] == ["h-1"]
    assert hazards.attributes == [{"Oblast": "Сумська"}]
    assets = read_assets(path, crs="EPSG:4326")
    assert [(a.id, a.geometry.coords[0]) for a in assets.records] == [("7", (35.2, 51.5))]


def test_kml_and_kmz(tmp_path: Path) -> None:
    """KML (and the same zipped as KMZ) reads through GDAL, WGS84 without --crs; its name is a mapped column."""
    frame = gpd.GeoDataFrame({"Name": ["Поле"], "cls": ["SHA"]}, geometry=[SQUARE], crs="EPSG:4326")
    kml = tmp_path / "h.kml"
    frame.to_file(kml, driver="KML")
    kmz = tmp_path / "h.kmz"
    frame.to_file(kmz, driver="LIBKML")
    profile = ImportProfile(columns={"id": "Name", "hazard_class": "cls"})
    for path in (kml, kmz):
        got = read_hazards(path, profile=profile)
        assert [(h.id, h.hazard_class.value) for h in got.records] == [("Поле", "SHA")], path
        assert got.records[0].geometry.equals_exact(SQUARE, 1e-9)
        assert set(got.attributes[0]) <= {"id", "description", "timestamp", "begin", "end"}  # no drawing fields


# ----------------------------------------------------------------------------------------------------
# Unreadable files: one error naming the file and the reason
# ----------------------------------------------------------------------------------------------------

def _truncated_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("doc.kml", "<kml>" + "x" * 5000 + "</kml>")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".kmz", ".kml", ".geojson", ".gpkg", ".zip"])
@pytest.mark.parametrize("kind", ["undecodable", "empty", "truncated"])
def test_unreadable_files_refused_naming_file_and_reason(tmp_path: Path, suffix: str, kind: str) -> None:
    """Undecodable bytes, an empty file and a truncated zip, under every suffix the importers take: ImportFileError
    (or CRSError) with one line that names the file."""
    path = tmp_path / f"bad{suffix}"
    if kind == "undecodable":
        path.write_bytes(codecs.BOM_UTF8 + bytes(range(128, 256)) * 4)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        _truncated_zip(path)
    with pytest.raises((ImportFileError, CRSError)) as caught:
        read_hazards(path, crs="EPSG:4326")
    message = str(caught.value)
    assert path.name in message and "\n" not in message


def test_cp1251_undecodable_named_with_the_byte(tmp_path: Path) -> None:
    """Bytes that are neither UTF-8 nor cp1251 (0x98 is unassigned in cp1251) are refused, naming the byte."""
    path = tmp_path / "h.csv"
    path.write_bytes(b"id,hazard_class,wkt\nh\x98,SHA,x\n")
    with pytest.raises(ImportFileError, match=r"neither UTF-8 nor Windows-1251 \(cp1251\) text \(byte 22 is 0x98\)"):
        read_hazards(path, crs="EPSG:4326")


# ----------------------------------------------------------------------------------------------------
# CRS sanity
# ----------------------------------------------------------------------------------------------------


def test_lonlat_declared_as_utm_rejected_with_suggestion(tmp_path: Path) -> None:
    """Degrees in a file declared as UTM 36N (the equator, sub-square-metre shapes) are rejected per feature with
    "looks like EPSG:4326"; nothing lands on the equator."""
    path = _csv(tmp_path / "h.csv", f'id,hazard_class,wkt\nh-1,SHA,"{SQUARE.wkt}"\n')
    got = read_hazards(path, crs="EPSG:32636")
    assert got.records == []
    (issue,) = got.rejected
    assert "coordinates look like degrees, not the metres of EPSG:32636" in issue.reason
    assert "looks like EPSG:4326" in issue.reason


def test_swapped_lon_lat_rejected(tmp_path: Path) -> None:
    """A latitude beyond 90 with a longitude that would fit it: rejected as swapped columns."""
    path = _csv(tmp_path / "a.csv", "id,asset_type,damage,work_building_bd,lon,lat\nc,clinic,severe,3,51.5,135.2\n")
    (issue,) = read_assets(path, crs="EPSG:4326").rejected
    assert "longitude and latitude look swapped" in issue.reason


def test_one_swapped_feature_among_others_rejected(tmp_path: Path) -> None:
    """Within range both ways (lon 35, lat 51 written as 51, 35), a feature far from the rest of the file that would
    lie among them swapped is rejected as swapped; a genuinely distant feature (another region) is not."""
    rows = ["c1,clinic,severe,3,35.20,51.50", "c2,clinic,severe,3,35.30,51.60", "c3,clinic,severe,3,35.10,51.40",
            "swapped,clinic,severe,3,51.45,35.25", "far,clinic,severe,3,24.0,48.9"]
    path = _csv(tmp_path / "a.csv", "id,asset_type,damage,work_building_bd,lon,lat\n" + "\n".join(rows) + "\n")
    got = read_assets(path, crs="EPSG:4326")
    assert [i.id for i in got.rejected] == ["swapped"]
    assert "longitude and latitude look swapped" in got.rejected[0].reason
    assert [a.id for a in got.records] == ["c1", "c2", "c3", "far"]


def test_utm_of_another_zone_outside_area_of_use(tmp_path: Path) -> None:
    """UTM 36N coordinates of a point near Kursk declared as UTM 30N land far outside zone 30's area of use:
    rejected, naming the area and where they would have landed."""
    x, y = _TO_UTM36.transform(35.2, 51.5)
    path = _csv(tmp_path / "a.csv", f"id,asset_type,damage,work_building_bd,easting,northing\n"
                                    f"c,clinic,severe,3,{x + 900_000:.1f},{y:.1f}\n")
    (issue,) = read_assets(path, crs="EPSG:32630").rejected
    assert "lies outside where EPSG:32630 is used" in issue.reason


def test_foreign_file_reads_through_its_profile(tmp_path: Path) -> None:
    """The synthetic IMSMA-NG-like export (cp1251, ``;``) reads through a profile: ids made distinct or derived,
    unused columns kept per record, decisions noted."""
    foreign = imsma_ng_csv(tmp_path / "ng.csv")
    got = read_hazards(foreign.path, crs="EPSG:4326", profile=ImportProfile(columns=MAP, values=VALUES))
    assert not got.rejected and not got.gaps
    ids = [h.id for h in got.records]
    assert ids[:3] == ["145-1", "145-2", "146"] and ids[3].startswith("geo-") and ids[4] == "147"
    assert got.attributes[0] == {"oblast": "Курская", "comments": "синтетика"}
    assert got.attributes[4]["comments"] == "площа 1,5 га"  # text keeps its comma: only whole numbers convert
    assert any("2 features share 1 source id" in n for n in got.notes)
    assert any("1 feature has no id" in n for n in got.notes)
