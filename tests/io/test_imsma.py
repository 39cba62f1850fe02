"""IMSMA Core exchange files: the mapping matches docs/imsma.md, every format gives back exactly what was written (IMSMA
ids and kept links too), links are resolved from either side and against the store, devices join their activity on
parentglobalid, value names follow the programme's map both ways, unknown values are kept or refused with counts,
spreadsheets cannot run what they hold, every bad cell is named, and each record's missing MDR items are listed."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus, LandUse, Marking
from sapper.domain.resources import Method, Organisation, OrgKind
from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.io import imsma
from sapper.io.imsma import FIELDS, ImsmaRead, read_imsma, write_imsma
from sapper.io.profile import ImportProfile
from tests.io.imsma_records import (
    X0,
    Y0,
    activities,
    box,
    geometries_equal,
    hazards,
    imsma_values,
    organisations,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "imsma.md"
FORMATS = {"csv": "exchange", "xlsx": "exchange.xlsx", "gpkg": "exchange.gpkg"}

HAZARD_HEAD = ["imsma_id", "hazard_id", "type_of_area", "imsma_links", "wkt"]
ACTIVITY_HEAD = ["imsma_id", "activity_id", "activity_type", "status", "imsma_links", "globalid", "cancelled_area_wkt"]
DEVICE_HEAD = ["imsma_id", "parentglobalid", "imsma_links", "device_category", "wkt"]


def write_csvs(folder: Path, tables: dict[str, tuple[list[str], list[list[str]]]], *, delimiter: str = ",") -> Path:
    """A folder of hand-made CSV files: table name → (header, rows)."""
    folder.mkdir(exist_ok=True)
    for name, (header, rows) in tables.items():
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
    return folder


def square(n: int = 0) -> str:
    return str(box(X0 + 2 * n * 0.01, Y0, 0.01, 0.01).wkt)


def fault_at(read: ImsmaRead, record: str, field: str) -> Fault:
    """The one fault of ``record`` in column ``field``."""
    found = [f for f in read.faults if f.record == record and f.field == field]
    assert len(found) == 1, f"expected one fault at {record}.{field}, got {read.faults}"
    return found[0]


def assert_same_records(read: ImsmaRead) -> None:
    """``read`` holds exactly the records of tests.io.imsma_records: same values, same coordinates to the bit."""
    assert read.faults == []
    assert sorted(read.organisations, key=lambda o: o.id) == sorted(organisations(), key=lambda o: o.id)
    assert read.hazards == sorted(hazards(), key=lambda h: h.id)
    assert read.activities == sorted(activities(), key=lambda a: a.id)
    assert imsma_values(sorted(read.organisations, key=lambda o: o.id)) == imsma_values(
        sorted(organisations(), key=lambda o: o.id))
    assert imsma_values(read.hazards) == imsma_values(sorted(hazards(), key=lambda h: h.id))
    assert imsma_values(read.activities) == imsma_values(sorted(activities(), key=lambda a: a.id))
    for got, want in zip(read.hazards, sorted(hazards(), key=lambda h: h.id), strict=True):
        assert geometries_equal(got.geometry, want.geometry)
    for got_a, want_a in zip(read.activities, sorted(activities(), key=lambda a: a.id), strict=True):
        for kind in ("cancelled", "reduced", "cleared"):
            assert geometries_equal(getattr(got_a, kind), getattr(want_a, kind)), (got_a.id, kind)
        for got_d, want_d in zip(got_a.devices, want_a.devices, strict=True):
            assert geometries_equal(got_d.position, want_d.position)


# ----------------------------------------------------------------------------------------------------
# The mapping and its documentation
# ----------------------------------------------------------------------------------------------------


def doc_table(record_type: str) -> list[list[str]]:
    """The data rows of the mapping table under ``## <record_type>`` in docs/imsma.md."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(f"\n## {record_type}\n", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.startswith("|")]
    return rows[2:]


@pytest.mark.parametrize("record_type", imsma.RECORD_TYPES)
def test_docs_table_is_the_mapping_table(record_type: str) -> None:
    """docs/imsma.md lists each record type's columns in the code's order, with the sapper field, every word, whether
    it is read and its source, exactly as the code's mapping table has them."""
    rows = doc_table(record_type)
    fields = FIELDS[record_type]
    assert [r[0].strip("`") for r in rows] == [f.column for f in fields]
    for row, f in zip(rows, fields, strict=True):
        assert row[1].replace("`", "") == f.sapper, f.column
        assert row[4] == f.source, f.column
        if f.vocabulary is not None:
            words = [w.strip() for w in re.sub(r"\(.*?\)", "", row[2]).split(",")]
            assert words == [f.vocabulary.label(m) for m in f.vocabulary.enum], f.column
        assert row[3].startswith("no") == (not f.read), f.column
        assert ("required" in row[3]) == f.required, f.column


def test_every_accepted_synonym_is_documented() -> None:
    """Each synonym a vocabulary accepts on import is named in docs/imsma.md."""
    text = DOCS.read_text(encoding="utf-8")
    vocabularies = {id(f.vocabulary): f.vocabulary for fs in FIELDS.values() for f in fs if f.vocabulary}
    for vocabulary in vocabularies.values():
        for alias in vocabulary.aliases:
            assert alias in text, f"{alias!r} ({vocabulary.enum.__name__}) is accepted but not in docs/imsma.md"


def test_vocabularies_read_labels_values_and_synonyms_and_nothing_else() -> None:
    """A word is read whatever its case, spacing or separators; sapper's values and synonyms too; others are not."""
    assert imsma.DEVICE_CATEGORIES.parse("IED / Booby-trap") is DeviceCategory.IED
    assert imsma.DEVICE_CATEGORIES.parse("ap_mine") is DeviceCategory.AP_MINE
    assert imsma.DEVICE_CATEGORIES.parse("AXO") is DeviceCategory.ERW_AXO
    assert imsma.HAZARD_STATUSES.parse("HANDED OVER") is HazardStatus.HANDED_OVER
    assert imsma.HAZARD_STATUSES.parse("Active") is HazardStatus.OPEN
    assert imsma.HAZARD_TYPES.parse("suspected hazardous area") is HazardClass.SHA
    assert imsma.ACTIVITY_TYPES.parse("NTS") is ActivityType.NTS
    assert imsma.ACTIVITY_TYPES.label(ActivityType.EOD) == "EOD"  # IMSMA Core's name, not a display label
    assert imsma.ACTIVITY_TYPES.parse("Non-technical survey") is ActivityType.NTS
    assert imsma.METHODS.parse("dog") is Method.DOG
    assert imsma.LAND_USES.parse("Agriculture") is LandUse.AGRICULTURAL
    for vocabulary, word in ((imsma.HAZARD_TYPES, "TS"), (imsma.HAZARD_STATUSES, "cleared"),
                             (imsma.DEVICE_CATEGORIES, "mine"), (imsma.ORGANISATION_TYPES, "")):
        assert vocabulary.parse(word) is None


def test_a_vocabulary_with_a_word_for_two_members_is_refused() -> None:
    """Building a vocabulary in which one spelling would name two members fails at once."""
    with pytest.raises(ValueError, match="names two members"):
        imsma.Vocabulary(Evidence, {Evidence.DIRECT: "Direct", Evidence.INDIRECT: "Indirect"},
                         {"direct": Evidence.INDIRECT})


# ----------------------------------------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_gives_back_exactly_what_was_written(tmp_path: Path, fmt: str) -> None:
    """Written and read again, every record comes back equal, coordinates to the last bit, IMSMA ids and kept links
    (accidents, victims, tasks) too, with no fault."""
    counts = write_imsma(tmp_path / FORMATS[fmt], organisations(), hazards(), activities())
    assert (counts.format, counts.organisations, counts.hazards, counts.activities, counts.devices) == (
        fmt, 4, 4, 6, 3)
    read = read_imsma(tmp_path / FORMATS[fmt])
    assert read.format == fmt
    assert_same_records(read)
    assert read.notes == []


def test_geopackage_layers_open_as_gis_layers_in_wgs84(tmp_path: Path) -> None:
    """The GeoPackage has one layer per record type: spatial ones in EPSG:4326, organisations as a plain table; the
    device table is a point layer joined to the activities on parentglobalid = globalid."""
    path = tmp_path / "x.gpkg"
    write_imsma(path, organisations(), hazards(), activities())
    layers = {str(name): kind for name, kind in pyogrio.list_layers(path)}
    assert layers == {"organisation": None, "hazard_area": "Unknown", "activity": "Unknown", "device_found": "Point"}
    for layer in ("hazard_area", "activity", "device_found"):
        assert pyogrio.read_info(path, layer=layer)["crs"] == "EPSG:4326"
    frame = pyogrio.read_dataframe(path, layer="activity").set_index("activity_id")
    assert frame.geometry["A-4"] is None  # a planned activity has released nothing
    assert frame.geometry["A-1"].equals(box(X0, Y0))
    devices = pyogrio.read_dataframe(path, layer="device_found")
    assert set(devices.parentglobalid) == {frame.globalid["A-3"], frame.globalid["A-5"]}
    assert re.fullmatch(r"\{[0-9A-F-]{36}\}", frame.globalid["A-3"])
    assert imsma.globalid("activity_3") == frame.globalid["A-3"]  # made from the IMSMA id: the same every export


def test_xlsx_float_precision_is_16_digits(tmp_path: Path) -> None:
    """XLSX numbers keep 16 significant digits (openpyxl): a share needing 17 changes only in its last digit."""
    share = 0.1 + 0.2  # 0.30000000000000004
    hazard = HazardArea("H", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT, expected_clearance_share=share,
                        imsma_id="hazard_poly_1")
    write_imsma(tmp_path / "x.xlsx", [], [hazard], [])
    back = read_imsma(tmp_path / "x.xlsx").hazards[0].expected_clearance_share
    assert back == pytest.approx(share, rel=1e-15)
    write_imsma(tmp_path / "x", [], [hazard], [])  # CSV keeps every digit
    assert read_imsma(tmp_path / "x").hazards[0].expected_clearance_share == share


def test_areas_on_the_ellipsoid_benchmarks_outside_reference_points_inside(tmp_path: Path) -> None:
    """area_m2 agrees with the geodesic area (pyproj.Geod) to 0.01 %; a hazard's X/Y is its benchmark (outside the
    area), empty when it has none (never a centroid); an activity's X/Y is a reference point in the land it released,
    its benchmark in benchmark_x/_y; a device's X/Y is where it was found."""
    write_imsma(tmp_path / "x", organisations(), hazards(), activities())

    def rows(name: str, key: str) -> dict[str, dict[str, str]]:
        with open(tmp_path / "x" / f"{name}.csv", encoding="utf-8-sig", newline="") as f:
            return {r[key]: r for r in csv.DictReader(f)}

    hazard_rows = rows("hazard_area", "hazard_id")
    geod = Geod(ellps="WGS84")
    for h in hazards():
        # Geod signs each ring by its orientation: orient exteriors counter-clockwise and holes clockwise first
        geodesic = geod.geometry_area_perimeter(shapely.orient_polygons(h.geometry))[0]
        assert float(hazard_rows[h.id]["area_m2"]) == pytest.approx(geodesic, rel=1e-4)
    h1 = next(h for h in hazards() if h.id == "H-1")
    benchmark = Point(float(hazard_rows["H-1"]["x"]), float(hazard_rows["H-1"]["y"]))
    assert h1.benchmark is not None and benchmark.equals_exact(h1.benchmark, 0.0)
    assert h1.geometry.disjoint(benchmark)
    assert hazard_rows["H-2"]["x"] == hazard_rows["H-2"]["y"] == ""  # no benchmark recorded: none invented
    activity_rows = rows("activity", "activity_id")
    for a in activities():
        x, y = activity_rows[a.id]["x"], activity_rows[a.id]["y"]
        if a.outcomes:
            assert shapely.union_all(list(a.outcomes.values())).contains(Point(float(x), float(y))), a.id
    assert activity_rows["A-4"]["x"] == ""  # planned: nothing released, no device
    assert (float(activity_rows["A-1"]["benchmark_x"]), float(activity_rows["A-1"]["benchmark_y"])) == (
        h1.benchmark.x, h1.benchmark.y)
    device_rows = rows("device_found", "imsma_id")
    d31 = activities()[2].devices[0]
    assert (float(device_rows["device_31"]["x"]), float(device_rows["device_31"]["y"])) == (d31.position.x,
                                                                                          d31.position.y)
    assert device_rows["device_31"]["found_and_destroyed"] == "true"
    assert device_rows["SUM-DEV-1"]["found_and_destroyed"] == "false"


# ----------------------------------------------------------------------------------------------------
# Value names
# ----------------------------------------------------------------------------------------------------


def test_value_names_are_written_exactly_and_a_programme_map_is_used_both_ways(tmp_path: Path) -> None:
    """Choice columns carry IMSMA value names, case and all (NTS, not "Non-technical survey"); a programme's value
    map (the import profile's [values.*]) writes its own names and reads them back to the same records."""
    write_imsma(tmp_path / "x", organisations(), hazards(), activities())
    with open(tmp_path / "x" / "activity.csv", encoding="utf-8-sig", newline="") as f:
        types = {r["activity_id"]: r["activity_type"] for r in csv.DictReader(f)}
    assert types == {"A-1": "NTS", "A-2": "TS", "A-3": "Clearance", "A-4": "Clearance", "A-5": "BAC", "A-6": "EOD"}
    names = imsma.ValueNames(ImportProfile(values={
        "activity_type": {"Non-Technical Survey": "NTS", "Technical Survey": "ts"},
        "device_category": {"AP Mine": "ap_mine"},
        "type_of_area": {"SHA": "SHA", "Suspected Hazardous Area": "SHA"},
    }))
    assert names.faults() == []
    write_imsma(tmp_path / "y", organisations(), hazards(), activities(), names=names)
    with open(tmp_path / "y" / "activity.csv", encoding="utf-8-sig", newline="") as f:
        types = {r["activity_id"]: r["activity_type"] for r in csv.DictReader(f)}
    assert (types["A-1"], types["A-2"], types["A-3"]) == ("Non-Technical Survey", "Technical Survey", "Clearance")
    with open(tmp_path / "y" / "device_found.csv", encoding="utf-8-sig", newline="") as f:
        assert {r["imsma_id"]: r["device_category"] for r in csv.DictReader(f)}["device_31"] == "AP Mine"
    with open(tmp_path / "y" / "hazard_area.csv", encoding="utf-8-sig", newline="") as f:
        assert {r["hazard_id"]: r["type_of_area"] for r in csv.DictReader(f)}["H-2"] == "SHA"  # the first name
    assert_same_records(read_imsma(tmp_path / "y", names=names))
    bad = imsma.ValueNames(ImportProfile(values={"activity_type": {"Route clearance": "road"},
                                                 "province": {"Kursk": "x"}}))
    assert {(f.field, f.reason.split(" ")[0]) for f in bad.faults()} == {("activity_type", "'Route"),
                                                                        ("province", "province")}


def test_unknown_values_are_kept_where_sapper_has_a_place_and_refused_with_counts_elsewhere(tmp_path: Path) -> None:
    """A land use or marking not in the value map makes the area Other/Unknown and keeps the text as a source
    attribute; a device category does the same with the text as the device type; an activity type or status has no
    such place: refused, and one message lists every unknown value with its count."""
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": ([*HAZARD_HEAD, "land_use", "marking", "device_categories"], [
            ["hazard_poly_1", "H-1", "SHA", "", square(0), "Pasture", "Painted stones", "AP mine, Mortar"],
            ["hazard_poly_2", "H-2", "SHA", "", square(1), "Pasture", "", ""]]),
        "activity": (ACTIVITY_HEAD, [["activity_1", "A-1", "NTS", "Completed", "hazard_poly_1", "{G1}", ""]]),
        "device_found": ([*DEVICE_HEAD, "device_type"], [
            ["device_1", "{G1}", "", "Mortar 82mm", f"POINT ({X0} {Y0})", ""],
            ["device_2", "{G1}", "", "Mortar 82mm", f"POINT ({X0} {Y0})", "M-82"]]),
    })
    read = read_imsma(folder)
    # the second device already has a type: its unknown category has nowhere to go
    assert [(f.record, f.field) for f in read.faults] == [("device found device_2", "device_category"),
                                                          ("value map", None)]
    assert "'Mortar 82mm' ×2" in read.faults[-1].reason
    folder = write_csvs(tmp_path / "y", {
        "hazard_area": ([*HAZARD_HEAD, "land_use", "marking", "device_categories"], [
            ["hazard_poly_1", "H-1", "SHA", "", square(0), "Pasture", "Painted stones", "AP mine, Mortar"],
            ["hazard_poly_2", "H-2", "SHA", "", square(1), "Pasture", "", ""]]),
        "activity": (ACTIVITY_HEAD, [["activity_1", "A-1", "NTS", "Completed", "hazard_poly_1", "{G1}", ""]]),
        "device_found": ([*DEVICE_HEAD, "device_type"], [
            ["device_1", "{G1}", "", "Mortar 82mm", f"POINT ({X0} {Y0})", ""]]),
    })
    read = read_imsma(folder)
    assert read.faults == []
    h1 = next(h for h in read.hazards if h.id == "H-1")
    assert (h1.land_use, h1.marking) == (LandUse.OTHER, Marking.UNKNOWN)
    assert h1.device_categories == {DeviceCategory.AP_MINE, DeviceCategory.UNKNOWN}
    assert read.source_attributes == {"H-1": {"land_use": "Pasture", "marking": "Painted stones",
                                              "device_categories": "Mortar"},
                                      "H-2": {"land_use": "Pasture"}}
    device = read.activities[0].devices[0]
    assert (device.category, device.device_type) == (DeviceCategory.UNKNOWN, "Mortar 82mm")
    assert read.unknown == {("land_use", "Pasture"): 2, ("marking", "Painted stones"): 1,
                            ("device_categories", "Mortar"): 1, ("device_category", "Mortar 82mm"): 1}
    (note,) = [n for n in read.notes if n.startswith("values not in the value map")]
    assert "land_use 'Pasture' ×2 (as Other; the text kept as a source attribute of the area)" in note
    assert "device_category 'Mortar 82mm' ×1 (as Unknown; the text kept as the device type)" in note
    folder = write_csvs(tmp_path / "z", {
        "hazard_area": (HAZARD_HEAD, [["hazard_poly_1", "H-1", "SHA", "", square(0)]]),
        "activity": (ACTIVITY_HEAD, [["activity_1", "A-1", "Route clearance", "Completed", "hazard_poly_1", "", ""],
                                     ["activity_2", "A-2", "Route clearance", "Done", "hazard_poly_1", "", ""]]),
    })
    read = read_imsma(folder)
    assert "add it: --value \"activity_type:Route clearance=…\"" in fault_at(read, "activity A-1",
                                                                            "activity_type").reason
    assert read.faults[-1].record == "value map"
    assert "activity_type 'Route clearance' ×2, status 'Done' ×1" in read.faults[-1].reason
    names = imsma.ValueNames(ImportProfile(values={"activity_type": {"Route clearance": "Clearance"},
                                                   "status": {"Done": "Completed"}}))
    assert [a.activity_type for a in read_imsma(folder, names=names).activities] == [ActivityType.CLEARANCE] * 2


# ----------------------------------------------------------------------------------------------------
# MDR items
# ----------------------------------------------------------------------------------------------------


def test_mdr_gaps_name_each_record_and_what_it_lacks() -> None:
    """Per record, one line naming the MDR items it lacks; a record with all of them has no line."""
    gaps = {g.record: g for g in imsma.mdr_gaps(hazards(), activities())}
    assert "hazard area H-1" not in gaps  # benchmark, categories, evidence (A-3's devices), SADD: all there
    assert gaps["hazard area H-2"].line() == (
        "MDR: hazard area H-2 (hazard_poly_146) lacks benchmark (Graphic Location/Benchmark), category of devices "
        "suspected or confirmed, beneficiaries by sex and age")
    assert "type and location of direct evidence found" in gaps["hazard area H-4"].missing  # a CHA, no find
    assert gaps["activity A-2"].missing == ("benchmark of the land released",)
    assert "activity A-1" not in gaps
    assert gaps["activity A-3"].missing == ("end date",) or "benchmark of the land released" in \
        gaps["activity A-3"].missing
    assert gaps["activity A-6"].missing == ("operational method", "start date",
                                            "graphic location (no land released, no device found)")
    assert gaps["device 2 of activity A-3"].missing == ("depth found",)
    assert gaps["device 1 of activity A-5"].missing == ("model", "condition", "depth found",
                                                        "disposal (found and destroyed)")
    assert "device 1 of activity A-3" not in gaps


# ----------------------------------------------------------------------------------------------------
# Spreadsheet safety
# ----------------------------------------------------------------------------------------------------


def test_csv_is_utf8_with_bom_and_guards_formula_text(tmp_path: Path) -> None:
    """CSV files start with a UTF-8 byte-order mark; text starting with = + - @ is prefixed with ', numbers are not."""
    write_imsma(tmp_path / "x", organisations(), hazards(), activities())
    raw = (tmp_path / "x" / "hazard_area.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(tmp_path / "x" / "hazard_area.csv", encoding="utf-8-sig", newline="") as f:
        rows = {r["hazard_id"]: r for r in csv.DictReader(f)}
    assert rows["H-1"]["hazard_name"] == "'=HYPERLINK(\"http://example.invalid\",\"click\")"
    assert rows["H-2"]["hazard_name"] == "'+7 field"
    assert rows["H-3"]["hazard_name"] == "Поле біля Суджі"
    assert rows["H-3"]["imsma_links"] == "'-organization_5,activity_5,activity_6"  # ids in link fields are text
    assert rows["H-4"]["hazard_name"] == "'@risk; 'quoted', with a comma"
    with open(tmp_path / "x" / "device_found.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            assert not row["x"].startswith("'")
    for path in (tmp_path / "x").iterdir():
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            for cell in next(csv.reader([line])):
                assert not cell.startswith(("=", "+", "@")) and not re.match(r"-[^\d]", cell), (path.name, cell)


def _sheet_rows(book: Any, name: str, key: str) -> dict[Any, Any]:
    sheet = book[name]
    header = [c.value for c in sheet[1]]
    return {row[header.index(key)].value: (header, row) for row in sheet.iter_rows(min_row=2)}


def test_xlsx_keeps_formula_text_as_text(tmp_path: Path) -> None:
    """In the workbook no cell is a formula: formula-like names and ids are string cells, unchanged."""
    path = tmp_path / "x.xlsx"
    write_imsma(path, organisations(), hazards(), activities())
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(imsma.RECORD_TYPES)
    kinds = {c.data_type for sheet in book for row in sheet.iter_rows() for c in row}
    assert "f" not in kinds
    header, row = _sheet_rows(book, "hazard_area", "hazard_id")["H-1"]
    name = row[header.index("hazard_name")]
    assert name.value == "=HYPERLINK(\"http://example.invalid\",\"click\")"
    assert name.data_type == "s"


def test_a_formula_cell_in_an_imported_workbook_is_a_fault(tmp_path: Path) -> None:
    """A workbook edited so that a cell holds a formula is refused at that record and column."""
    path = tmp_path / "x.xlsx"
    write_imsma(path, organisations(), hazards(), activities())
    book = openpyxl.load_workbook(path)
    header, row = _sheet_rows(book, "hazard_area", "hazard_id")["H-2"]
    row[header.index("beneficiaries")].value = "=2*21"
    book.save(path)
    read = read_imsma(path)
    assert "formula" in fault_at(read, "hazard area H-2", "beneficiaries").reason
    assert "sheet hazard_area row 3" in fault_at(read, "hazard area H-2", "beneficiaries").reason


def test_xlsx_refuses_a_polygon_too_long_for_a_cell(tmp_path: Path) -> None:
    """A perimeter whose WKT exceeds 32,767 characters is refused on XLSX export, naming it; no file is written."""
    ring = [(X0 + 0.01 * i / 2000, Y0 + (0.001 if i % 2 else 0.0)) for i in range(2000)]  # a zigzag edge
    big = Polygon([*ring, (X0 + 0.01, Y0 - 0.01), (X0, Y0 - 0.01)])
    assert big.is_valid
    hazard = HazardArea("BIG", HazardClass.SHA, big, Evidence.INDIRECT, imsma_id="hazard_poly_9")
    with pytest.raises(ValidationError) as caught:
        write_imsma(tmp_path / "x.xlsx", [], [hazard], [])
    assert [(f.record, f.field) for f in caught.value.faults] == [("hazard_area BIG", "wkt")]
    assert not (tmp_path / "x.xlsx").exists()
    write_imsma(tmp_path / "x.gpkg", [], [hazard], [])  # a GeoPackage has no such limit
    assert geometries_equal(read_imsma(tmp_path / "x.gpkg").hazards[0].geometry, big)


def test_export_refuses_imsma_ids_that_cannot_travel_in_a_link_field(tmp_path: Path) -> None:
    """An IMSMA id with a comma or surrounding spaces, longer than 50 characters, missing, or shared by two
    records: the export names each, writes nothing."""
    records = [
        HazardArea("H-1", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT, imsma_id="hazard_poly_1,2"),
        HazardArea("H-2", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT, imsma_id="x" * 51),
        HazardArea("H-3", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT),
        HazardArea("H-4", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT, imsma_id="organization_1"),
    ]
    org = Organisation("ORG", "Org", OrgKind.OPERATOR, imsma_id="organization_1")
    with pytest.raises(ValidationError) as caught:
        write_imsma(tmp_path / "x", [org], records, [])
    assert {(f.record, f.field) for f in caught.value.faults} == {
        (f"hazard area H-{n}", "imsma_id") for n in (1, 2, 3, 4)}
    assert "also the id of organisation ORG" in next(f.reason for f in caught.value.faults
                                                     if f.record == "hazard area H-4")
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------------------------------
# Links
# ----------------------------------------------------------------------------------------------------


def test_links_are_resolved_from_either_side_and_devices_by_parentglobalid(tmp_path: Path) -> None:
    """An activity named only in its hazard's imsma_links is linked; devices join their activity on parentglobalid
    or through either side's links; sapper ids may be absent (the IMSMA id is then the id); links to records sapper
    does not keep stay with the record."""
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": (HAZARD_HEAD, [["hazard_poly_1", "", "CHA", "activity_1, accident_3", square(0)],
                                      ["hazard_poly_2", "H-2", "SHA", "", square(1)]]),
        "activity": (ACTIVITY_HEAD, [["activity_1", "A-1", "Clearance", "Ongoing", "device_2", "{G1}", ""],
                                     ["activity_2", "A-2", "NTS", "Completed", "hazard_poly_2", "", ""]]),
        "device_found": (DEVICE_HEAD, [["device_1", "{G1}", "", "AT mine", f"POINT ({X0} {Y0})"],
                                       ["device_2", "", "victim_4", "UXO", f"POINT ({X0 + 0.001} {Y0})"]]),
    })
    read = read_imsma(folder)
    assert read.faults == []
    by_id = {a.id: a for a in read.activities}
    assert (by_id["A-1"].hazard_id, by_id["A-2"].hazard_id) == ("hazard_poly_1", "H-2")
    assert [h.id for h in read.hazards] == ["hazard_poly_1", "H-2"]
    assert read.hazards[0].imsma_links == ("accident_3",)
    # devices keep the order of the device table, whichever way they were joined
    assert [d.category for d in by_id["A-1"].devices] == [DeviceCategory.AT_MINE, DeviceCategory.ERW_UXO]
    assert [(d.imsma_id, d.imsma_links) for d in by_id["A-1"].devices] == [("device_1", ()),
                                                                          ("device_2", ("victim_4",))]
    assert by_id["A-2"].devices == ()


def test_link_faults_name_the_record_and_the_field(tmp_path: Path) -> None:
    """No hazard, two hazards, two sides that disagree, a parentglobalid that names no activity, or a device with no
    activity: each a fault naming the record and the column."""
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": (HAZARD_HEAD, [["hazard_poly_1", "H-1", "CHA", "activity_3", square(0)],
                                      ["hazard_poly_2", "H-2", "SHA", "", square(1)]]),
        "activity": (ACTIVITY_HEAD, [["activity_1", "A-1", "TS", "Ongoing", "hazard_poly_99", "", ""],
                                     ["activity_2", "A-2", "TS", "Ongoing", "hazard_poly_1, hazard_poly_2", "", ""],
                                     ["activity_3", "A-3", "TS", "Ongoing", "hazard_poly_2", "", ""]]),
        "device_found": (DEVICE_HEAD, [["device_1", "{NOPE}", "", "AT mine", f"POINT ({X0} {Y0})"],
                                       ["device_2", "", "", "AT mine", f"POINT ({X0} {Y0})"]]),
    })
    read = read_imsma(folder)
    missing = fault_at(read, "activity A-1", "imsma_links").reason
    assert "linked to no hazard area" in missing and "hazard_poly_99" in missing
    assert "linked to 2 hazard areas (H-1, H-2)" in fault_at(read, "activity A-2", "imsma_links").reason
    assert "linked to 2 hazard areas (H-2, H-1)" in fault_at(read, "activity A-3", "imsma_links").reason
    assert "{NOPE} is the globalid of no activity" in fault_at(read, "device found device_1",
                                                              "parentglobalid").reason
    assert "linked to no activity" in fault_at(read, "device found device_2", "parentglobalid").reason
    assert "activity.csv row 3" in fault_at(read, "activity A-2", "imsma_links").reason


def test_links_resolve_against_the_store_and_unknown_links_are_kept(tmp_path: Path) -> None:
    """A hazard area, activity or organisation the file names by IMSMA id but does not hold resolves to the store's
    record (given as KnownRecords); an id neither holds stays in imsma_links."""
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": (HAZARD_HEAD, [["hazard_poly_1", "H-1", "CHA", "activity_old, organization_4, qa_visit_2",
                                       square(0)]]),
        "activity": (ACTIVITY_HEAD, [["activity_1", "A-1", "NTS", "Planned", "hazard_poly_77, organization_5", "",
                                      ""]]),
    })
    known = imsma.KnownRecords({"activity_old": ("activity", "A-OLD"), "organization_4": ("organisation", "ORG-X"),
                                "hazard_poly_77": ("hazard_area", "H-STORED"),
                                "organization_5": ("organisation", "ORG-Y")})
    read = read_imsma(folder, known=known)
    assert read.faults == []
    (h,), (a,) = read.hazards, read.activities
    assert (h.organisation_id, h.imsma_links) == ("ORG-X", ("qa_visit_2",))
    assert (a.hazard_id, a.organisation_id, a.imsma_links) == ("H-STORED", "ORG-Y", ())
    assert "linked to no hazard area" in fault_at(read_imsma(folder), "activity A-1", "imsma_links").reason


def test_a_device_whose_activity_is_in_the_store_is_a_fault(tmp_path: Path) -> None:
    """Devices are kept only with their activity, so a device linked to an activity only the store holds is
    refused."""
    folder = write_csvs(tmp_path / "x", {
        "device_found": (DEVICE_HEAD, [["device_1", "", "activity_old", "UXO", f"POINT ({X0} {Y0})"]]),
    })
    read = read_imsma(folder, known=imsma.KnownRecords({"activity_old": ("activity", "A-OLD")}))
    assert "in the store, not this file" in fault_at(read, "device found device_1", "imsma_links").reason


# ----------------------------------------------------------------------------------------------------
# Bad rows
# ----------------------------------------------------------------------------------------------------


def test_every_bad_cell_is_reported_with_its_record_and_column(tmp_path: Path) -> None:
    """One read reports every fault of every row, each with the record's id, the column and the row."""
    folder = write_csvs(tmp_path / "x", {
        "organisation": (["imsma_id", "organisation_id", "organisation_name", "organisation_type"],
                         [["organization_1", "ORG-1", "", "Operator"], ["organization_2", "ORG-2", "Two", "Charity"]]),
        "hazard_area": ([*HAZARD_HEAD, "beneficiaries", "device_categories", "evidence", "x",
                         "beneficiaries_direct_men"], [
            ["hazard_poly_1", "H-1", "XHA", "", square(0), "many", "AP mine", "", "35.1", ""],
            ["hazard_poly_2", "H-2", "CHA", "", "POLYGON ((0 0, 1 1", "", "", "", "", ""],
            ["hazard_poly_3", "H-2", "SHA", "", square(2), "", "", "", "", ""],
            ["hazard_poly_4", "H-3", "CHA", "", square(3), "1,500", "", "Indirect", "", "-3"],
            ["", "", "SHA", "", square(4), "", "", "", "", ""],
        ]),
        "activity": ([*ACTIVITY_HEAD, "start_date", "end_date", "reduced_area_wkt", "clearance_depth_cm"], [
            ["activity_1", "A-1", "NTS", "Completed", "hazard_poly_4", "", "", "2025-13-01", "", square(3), ""],
            ["activity_2", "A-2", "Clearance", "Completed", "hazard_poly_4", "", "", "2025-07-10", "2025-07-01", "",
             "-5"],
        ]),
    })
    read = read_imsma(folder)
    expected = {
        ("organisation ORG-1", "organisation_name"),
        ("organisation ORG-2", "organisation_type"),
        ("hazard area H-1", "type_of_area"),
        ("hazard area H-1", "beneficiaries"),
        ("hazard area H-1", "y"),  # x without y
        ("hazard area H-2", "wkt"),
        ("hazard area H-2", "hazard_id"),  # the second H-2
        ("hazard area H-3", "beneficiaries"),
        ("hazard area H-3", "beneficiaries_direct_men"),
        ("hazard area H-3", "evidence"),  # a CHA needs direct evidence
        ("hazard area (hazard_area.csv row 6)", "hazard_id"),
        ("activity A-1", "start_date"),
        ("activity A-1", "reduced_area_wkt"),  # a non-technical survey only cancels land
        ("activity A-2", "end_date"),
        ("activity A-2", "clearance_depth_cm"),
        ("value map", None),
    }
    assert {(f.record, f.field) for f in read.faults} == expected
    assert len(read.faults) == len(expected)
    assert "'XHA' is not one of SHA, CHA" in fault_at(read, "hazard area H-1", "type_of_area").reason
    assert "(hazard_area.csv row 2)" in fault_at(read, "hazard area H-1", "type_of_area").reason
    assert "whole number, got '1,500'" in fault_at(read, "hazard area H-3", "beneficiaries").reason
    assert "appears earlier (hazard_area.csv row 3)" in fault_at(read, "hazard area H-2", "hazard_id").reason
    assert "type_of_area 'XHA' ×1, organisation_type 'Charity' ×1" in fault_at(read, "value map", None).reason or \
        "organisation_type 'Charity' ×1, type_of_area 'XHA' ×1" in fault_at(read, "value map", None).reason


def test_a_stated_area_differing_from_the_geometry_is_noted_and_one_without_geometry_is_a_fault(
    tmp_path: Path,
) -> None:
    """sapper keeps the geometry: a stated area 10 % off is a note; a stated area with no geometry is a fault."""
    geom = box(X0, Y0, 0.01, 0.01)
    true_area = imsma.measure(geom)[0]
    head = [*ACTIVITY_HEAD, "cancelled_area_m2", "cleared_area_m2"]
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": (HAZARD_HEAD, [["hazard_poly_1", "H-1", "SHA", "", square(0)]]),
        "activity": (head, [
            ["activity_1", "A-1", "NTS", "Completed", "hazard_poly_1", "", str(geom.wkt), str(true_area * 1.1), ""],
            ["activity_2", "A-2", "NTS", "Completed", "hazard_poly_1", "", str(geom.wkt), str(true_area + 0.5), ""],
            ["activity_3", "A-3", "Clearance", "Completed", "hazard_poly_1", "", "", "", "2500"]]),
    })
    read = read_imsma(folder)
    assert [(f.record, f.field) for f in read.faults] == [("activity A-3", "cleared_area_wkt")]
    assert [n for n in read.notes if "cancelled_area_m2 says" in n] == [
        f"activity A-1: cancelled_area_m2 says {true_area * 1.1:,.2f} m² but cancelled_area_wkt measures "
        f"{true_area:,.2f} m²; sapper keeps the geometry (activity.csv row 2)"
    ]


def test_invalid_polygons_are_repaired_and_said_so(tmp_path: Path) -> None:
    """A bow-tie perimeter is made valid (make_valid) and the repair is noted with GEOS's reason."""
    bow_tie = f"POLYGON (({X0} {Y0}, {X0 + 0.01} {Y0 + 0.01}, {X0 + 0.01} {Y0}, {X0} {Y0 + 0.01}, {X0} {Y0}))"
    folder = write_csvs(tmp_path / "x", {"hazard_area": (HAZARD_HEAD, [["hazard_poly_1", "H-1", "SHA", "",
                                                                        bow_tie]])})
    read = read_imsma(folder)
    assert read.faults == []
    assert read.hazards[0].geometry.is_valid
    assert any(n.startswith("repaired hazard area H-1 wkt: Self-intersection") for n in read.notes)


def test_imsma_words_semicolons_and_unused_columns(tmp_path: Path) -> None:
    """A hand-made CSV in IMSMA's words, with ';' as delimiter and an extra column, reads, noting the column."""
    folder = write_csvs(tmp_path / "x", {"hazard_area": (
        [*HAZARD_HEAD, "status", "device_categories", "province"],
        [["hazard_poly_1", "H-1", "Confirmed hazardous area", "", square(0), "Active",
          "Anti-personnel mine; Booby trap", "Kursk"]],
    )}, delimiter=";")
    read = read_imsma(folder)
    assert read.faults == []
    h = read.hazards[0]
    assert (h.hazard_class, h.status, h.evidence) == (HazardClass.CHA, HazardStatus.OPEN, Evidence.DIRECT)
    assert h.device_categories == {DeviceCategory.AP_MINE, DeviceCategory.IED}
    assert "hazard_area: columns not used: province" in read.notes


def test_files_that_cannot_be_used_at_all(tmp_path: Path) -> None:
    """No record type in the file, a required column missing, no id column at all, a file in the exchange sapper
    wrote before IMSMA ids, a repeated column or a bad suffix: refused whole."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="holds none of the IMSMA record types"):
        read_imsma(tmp_path / "empty")
    folder = write_csvs(tmp_path / "x", {"hazard_area": (["hazard_id", "wkt"], [["H-1", square(0)]])})
    with pytest.raises(ImportFileError, match="hazard_area lacks the column type_of_area"):
        read_imsma(folder)
    folder = write_csvs(tmp_path / "z", {"hazard_area": (["type_of_area", "wkt"], [["SHA", square(0)]])})
    with pytest.raises(ImportFileError, match="hazard_area lacks the column hazard_id or imsma_id"):
        read_imsma(folder)
    folder = write_csvs(tmp_path / "old", {"activity": (["activity_id", "activity_type", "status", "linked_hazards"],
                                                        [["A-1", "NTS", "Planned", "H-1"]])})
    with pytest.raises(ImportFileError, match="before IMSMA ids; export it again"):
        read_imsma(folder)
    folder = write_csvs(tmp_path / "y", {"hazard_area": (["hazard_id", "Hazard_ID"], [["H-1", "H-2"]])})
    with pytest.raises(ImportFileError, match="appears twice"):
        read_imsma(folder)
    with pytest.raises(ValidationError, match=r"give a \.xlsx workbook"):
        read_imsma(tmp_path / "x.csv")


def test_a_device_may_be_placed_by_x_and_y_alone(tmp_path: Path) -> None:
    """Without WKT a device's position comes from X/Y (as IMSMA Core's Excel loads make points); a device with
    neither is a fault."""
    activity = ["activity_1", "A-1", "EOD spot task", "Completed", "hazard_poly_1", "{G}", ""]
    hazard = ["hazard_poly_1", "H-1", "SHA", "", square(0)]
    head = ["imsma_id", "parentglobalid", "device_category", "x", "y"]
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": (HAZARD_HEAD, [hazard]), "activity": (ACTIVITY_HEAD, [activity]),
        "device_found": (head, [["device_1", "{G}", "UXO", "35.25", "51.5"], ["device_2", "{G}", "UXO", "", ""]]),
    })
    read = read_imsma(folder)
    assert [(f.record, f.field) for f in read.faults] == [("device found device_2", "x")]
    folder = write_csvs(tmp_path / "y", {
        "hazard_area": (HAZARD_HEAD, [hazard]), "activity": (ACTIVITY_HEAD, [activity]),
        "device_found": (head, [["device_1", "{G}", "UXO", "35.25", "51.5"]]),
    })
    assert read_imsma(folder).activities[0].devices[0].position == Point(35.25, 51.5)


def test_dates_from_spreadsheets(tmp_path: Path) -> None:
    """Dates are read from ISO text, from XLSX date cells and from midnight timestamps; a time of day is a fault."""
    hazard = HazardArea("H-1", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT, imsma_id="hazard_poly_1")
    activity = Activity("A-1", "H-1", ActivityType.NTS, ActivityStatus.COMPLETED, start=None, imsma_id="activity_1")
    path = tmp_path / "x.xlsx"
    write_imsma(path, [], [hazard], [activity])
    book = openpyxl.load_workbook(path)
    sheet = book["activity"]
    header = [c.value for c in sheet[1]]
    import datetime as dt

    sheet.cell(2, header.index("start_date") + 1, dt.datetime(2025, 6, 1, 0, 0))
    sheet.cell(2, header.index("end_date") + 1, "2025-06-03T00:00:00")
    book.save(path)
    read = read_imsma(path)
    assert (read.activities[0].start, read.activities[0].end) == (dt.date(2025, 6, 1), dt.date(2025, 6, 3))
    sheet.cell(2, header.index("end_date") + 1, dt.datetime(2025, 6, 3, 14, 30))
    book.save(path)
    assert "without a time of day" in fault_at(read_imsma(path), "activity A-1", "end_date").reason


def test_written_columns_are_the_mapping_tables(tmp_path: Path) -> None:
    """Each CSV file has exactly its mapping table's columns in order (plus wkt where geometry travels as text)."""
    write_imsma(tmp_path / "x", organisations(), hazards(), activities())
    wkt = {"organisation": [], "hazard_area": ["wkt"], "activity": [], "device_found": ["wkt"]}
    for name, fields in FIELDS.items():
        with open(tmp_path / "x" / f"{name}.csv", encoding="utf-8-sig", newline="") as f:
            header: list[Any] = next(csv.reader(f))
        assert header == [f.column for f in fields] + wkt[name]


def test_a_device_linked_to_another_hazard_area_than_its_activity_and_two_organisations_are_faults(
    tmp_path: Path,
) -> None:
    """The links of a device must not contradict its activity's hazard area; a hazard area links at most one
    organisation."""
    folder = write_csvs(tmp_path / "x", {
        "organisation": (["imsma_id", "organisation_name", "organisation_type"],
                         [["organization_1", "One", "Operator"], ["organization_2", "Two", "Operator"]]),
        "hazard_area": (HAZARD_HEAD, [["hazard_poly_1", "H-1", "SHA", "organization_1, organization_2", square(0)],
                                      ["hazard_poly_2", "H-2", "SHA", "", square(1)]]),
        "activity": (ACTIVITY_HEAD, [["activity_1", "A-1", "Clearance", "Ongoing", "hazard_poly_2", "{G1}", ""]]),
        "device_found": (DEVICE_HEAD, [["device_1", "{G1}", "hazard_poly_1", "UXO", f"POINT ({X0} {Y0})"]]),
    })
    read = read_imsma(folder)
    assert "linked to 2 organisations (organization_1, organization_2)" in fault_at(read, "hazard area H-1",
                                                                                     "imsma_links").reason
    assert "its device device_1 is linked to hazard area H-1, the activity to H-2" in fault_at(
        read, "activity A-1", "imsma_links").reason
