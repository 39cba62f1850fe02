"""Bad input to the importers: fuzzed files fail only with sapper's declared errors, and zip bombs, oversized
files, XML entity bombs and 10-million-vertex polygons are refused with a one-line error before they cost memory."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sapper.errors import ImportFileError, SapperError
from sapper.io import read_hazards
from sapper.io.archives import MAX_FILE_BYTES
from sapper.io.fieldexport import read_field_export
from sapper.io.imsma import read_imsma

FUZZ = settings(
    max_examples=8,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
coords = st.lists(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=3), max_size=6)
features = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Feature", "feature", "Point", ""]),
        "properties": st.dictionaries(
            st.sampled_from(["id", "hazard_class", "status", "organisation_id", "name", "x"]), json_values, max_size=5
        )
        | json_values,
        "geometry": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Polygon", "Point", "LineString", "MultiPolygon", "Nonsense"]),
                "coordinates": st.lists(coords, max_size=3) | json_values,
            }
        )
        | json_values,
    }
)


def one_line(exc: SapperError) -> None:
    assert exc.message.strip() and "\n" not in exc.message.strip() and "Traceback" not in exc.message


@FUZZ
@given(
    doc=st.fixed_dictionaries(
        {
            "type": st.sampled_from(["FeatureCollection", "Feature", "x"]),
            "features": st.lists(features, max_size=4) | json_values,
        }
    )
    | json_values
)
def test_fuzzed_geojson_fails_only_with_sapper_errors(tmp_path: Path, doc: object) -> None:
    """Any JSON document as a GeoJSON hazard file: read, or refused with a sapper error (never another exception)."""
    path = tmp_path / "fuzz.geojson"
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    try:
        read_hazards(path)
    except SapperError as exc:
        one_line(exc)


@FUZZ
@given(
    rows=st.lists(
        st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=1, max_size=6),
        min_size=1,
        max_size=6,
    ),
    header=st.sampled_from(["id,hazard_class,wkt", "id,lon,lat,hazard_class", "id,x,y", "wkt", ""]),
)
def test_fuzzed_csv_fails_only_with_sapper_errors(tmp_path: Path, rows: list[list[str]], header: str) -> None:
    """Any CSV text as a hazard table (with a CRS given): read, or refused with a sapper error."""
    path = tmp_path / "fuzz.csv"
    lines = [header, *(",".join(json.dumps(c) if "," in c else c for c in r) for r in rows)]
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        read_hazards(path, crs="EPSG:4326")
    except SapperError as exc:
        one_line(exc)


@FUZZ
@given(
    blob=st.binary(max_size=400),
    members=st.lists(
        st.sampled_from(["form.csv", "form-devices.csv", "media/x.jpg", "a.shp", "a.dbf", "[Content_Types].xml"]),
        max_size=3,
    ),
)
def test_fuzzed_zips_fail_only_with_sapper_errors(tmp_path: Path, blob: bytes, members: list[str]) -> None:
    """A zip of random members as an ODK export, a zipped Shapefile, an IMSMA workbook: sapper errors only."""
    path = tmp_path / "fuzz.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in members:
            z.writestr(name, blob)
    xlsx = tmp_path / "fuzz.xlsx"
    xlsx.write_bytes(path.read_bytes())
    for read, file in ((read_field_export, path), (read_hazards, path), (read_imsma, xlsx)):
        try:
            read(file)
        except SapperError as exc:
            one_line(exc)


def bomb(path: Path, member: str, size: int) -> Path:
    """A zip whose ``member`` unpacks to ``size`` zero bytes (about size/1000 on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, z.open(member, "w") as f:
        chunk = bytes(1024**2)
        for _ in range(size // len(chunk)):
            f.write(chunk)
    return path


@pytest.mark.parametrize(
    ("name", "member"),
    [("export.zip", "sapper_clearance.csv"), ("hazards.zip", "a.shp"), ("imsma.xlsx", "xl/worksheets/sheet1.xml")],
)
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path, name: str, member: str) -> None:
    """A 50 MB member packed into ~50 kB (ratio ~1000) is refused from the zip's directory, one line."""
    path = bomb(tmp_path / name, member, 50 * 1024**2)
    assert path.stat().st_size < 200_000
    readers = {"export.zip": read_field_export, "hazards.zip": read_hazards, "imsma.xlsx": read_imsma}
    with pytest.raises(ImportFileError, match="times its packed size") as err:
        readers[name](path)
    one_line(err.value)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    """A 1 GB+ file (sparse: nothing on disk) is refused before it is opened, naming the limit."""
    path = tmp_path / "huge.geojson"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ImportFileError, match="more than the 1,073,741,824 an import reads") as err:
        read_hazards(path)
    one_line(err.value)


def test_xml_entity_bombs_are_not_expanded(tmp_path: Path) -> None:
    """A KML and an XLSX whose XML defines a billion-laughs entity: refused with a sapper error, nothing expanded
    (GDAL's expat stops the expansion; openpyxl reads workbooks through defusedxml)."""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
        + "]>"
    )
    kml = tmp_path / "bomb.kml"
    kml.write_text(
        laughs + '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&lol9;</name>'
        "<Polygon><outerBoundaryIs><LinearRing><coordinates>35,50 35.01,50 35.01,50.01 35,50"
        "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>"
    )
    with pytest.raises(SapperError) as err:
        read_hazards(kml)
    one_line(err.value)
    xlsx = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("[Content_Types].xml", laughs + "<Types/>")
        z.writestr("xl/workbook.xml", laughs + "<workbook>&lol9;</workbook>")
    with pytest.raises(SapperError) as err:
        read_imsma(xlsx)
    one_line(err.value)


def polygon_file(path: Path, n: int) -> Path:
    """A GeoJSON with a hazard polygon of ``n`` + 3 vertices ("big": ``n`` of them repeat one corner, written as one
    repeated string, fast) and a square ("small")."""
    small = [[[35.0, 50.0], [35.01, 50.0], [35.01, 50.01], [35.0, 50.01], [35.0, 50.0]]]
    with path.open("w", encoding="utf-8") as f:
        f.write(
            '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"big",'
            '"hazard_class":"SHA"},"geometry":{"type":"Polygon","coordinates":[[[35.0,50.0],'
        )
        f.write("[35.01,50.0]," * n)
        f.write("[35.01,50.01],[35.0,50.0]]]}},")
        json.dump(
            {
                "type": "Feature",
                "properties": {"id": "small", "hazard_class": "SHA"},
                "geometry": {"type": "Polygon", "coordinates": small},
            },
            f,
        )
        f.write("]}")
    return path


def test_a_ten_million_vertex_polygon_is_refused(tmp_path: Path) -> None:
    """A 10-million-vertex polygon: GDAL stops parsing the object (too complex) before building it, one line."""
    with pytest.raises(ImportFileError, match="too complex/large") as err:
        read_hazards(polygon_file(tmp_path / "huge.geojson", 10_000_000))
    one_line(err.value)


def test_a_polygon_over_the_vertex_limit_is_rejected_by_its_count(tmp_path: Path) -> None:
    """A polygon of a million vertices and more is rejected (that feature, naming its count); the others are read.
    (A 100,000-vertex outline is imported: tests/services/test_messy_import.py.)"""
    result = read_hazards(polygon_file(tmp_path / "big.geojson", 1_000_000))
    assert [h.id for h in result.records] == ["small"]
    (rejected,) = result.rejected
    assert rejected.id == "big" and "1,000,003 vertices, more than the 1,000,000 allowed" in rejected.reason


# The findings of the first atheris run (benchmarks/fuzz_importers.py), kept as plain regression tests.


def test_a_column_name_with_a_line_break_keeps_the_error_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('id,"name\nx",hazard_class\nA,b,SHA\n', encoding="utf-8")
    with pytest.raises(SapperError) as err:
        read_hazards(path, crs="EPSG:4326")
    one_line(err.value)
    assert "name\\nx" in err.value.message


def test_a_shapefile_whose_dbf_is_empty_is_read_without_attributes_or_refused(tmp_path: Path) -> None:
    """An intact .shp with a 0-byte .dbf: no traceback (before: a ValueError from zip(strict=True))."""
    import pyogrio
    import shapely

    gdf = pytest.importorskip("geopandas").GeoDataFrame(
        {"id": ["A", "B"]}, geometry=[shapely.box(35.2, 51.2, 35.21, 51.21), shapely.box(35.3, 51.2, 35.31, 51.21)],
        crs="EPSG:4326",
    )
    shp = tmp_path / "shp" / "h.shp"
    shp.parent.mkdir()
    pyogrio.write_dataframe(gdf, shp)
    shp.with_suffix(".dbf").write_bytes(b"")
    archive = tmp_path / "h.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.parent.iterdir():
            z.write(part, part.name)
    try:
        read = read_hazards(archive)
    except SapperError as exc:
        one_line(exc)
    else:
        assert len(read.records) + len(read.rejected) == 2


def test_a_workbook_sheet_with_damaged_xml_is_refused_in_one_line(tmp_path: Path) -> None:
    """A sheet whose XML openpyxl cannot build (an unknown attribute): before, a TypeError from inside openpyxl."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "hazard_areas"
    sheet.append(["id", "hazard_class"])
    sheet.append(["A", "SHA"])
    good = tmp_path / "good.xlsx"
    book.save(good)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            blob = src.read(name)
            if name.startswith("xl/worksheets/sheet"):
                assert b"summaryBelow" in blob
                blob = blob.replace(b"summaryBelow", b"su2maryBelow")  # the fuzzer's one-byte change
            dst.writestr(name, blob)
    from sapper.io.sheets import read_tables

    assert "hazard_areas" in read_tables(good, ["hazard_areas"]).tables
    with pytest.raises(SapperError) as err:
        read_tables(bad, ["hazard_areas"])
    one_line(err.value)
