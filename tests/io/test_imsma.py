"""IMSMA exchange files: the mapping matches docs/imsma.md, every format gives back exactly what was written, links
are resolved from either side, spreadsheets cannot run what they hold, and every bad cell is named."""

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
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus, LandUse
from sapper.domain.resources import Method, Organisation, OrgKind
from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.io import imsma
from sapper.io.imsma import FIELDS, ImsmaRead, read_imsma, write_imsma
from tests.io.imsma_records import X0, Y0, activities, box, geometries_equal, hazards, organisations

DOCS = Path(__file__).resolve().parents[2] / "docs" / "imsma.md"
FORMATS = {"csv": "exchange", "xlsx": "exchange.xlsx", "gpkg": "exchange.gpkg"}

HAZARD_HEAD = ["hazard_id", "type_of_area", "linked_activities", "wkt"]
ACTIVITY_HEAD = ["activity_id", "activity_type", "status", "linked_hazards", "linked_devices", "cancelled_area_wkt"]
DEVICE_HEAD = ["device_id", "linked_activities", "device_category", "wkt"]


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
    assert read.references == []
    assert sorted(read.organisations, key=lambda o: o.id) == sorted(organisations(), key=lambda o: o.id)
    assert read.hazards == sorted(hazards(), key=lambda h: h.id)
    assert read.activities == sorted(activities(), key=lambda a: a.id)
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
    """Written and read again, every record comes back equal, coordinates to the last bit, with no fault."""
    counts = write_imsma(tmp_path / FORMATS[fmt], organisations(), hazards(), activities())
    assert (counts.format, counts.organisations, counts.hazards, counts.activities, counts.devices) == (
        fmt, 4, 4, 6, 3)
    read = read_imsma(tmp_path / FORMATS[fmt])
    assert read.format == fmt
    assert_same_records(read)
    assert read.notes == []


def test_geopackage_layers_open_as_gis_layers_in_wgs84(tmp_path: Path) -> None:
    """The GeoPackage has one layer per record type: spatial ones in EPSG:4326, organisations as a plain table."""
    path = tmp_path / "x.gpkg"
    write_imsma(path, organisations(), hazards(), activities())
    layers = {str(name): kind for name, kind in pyogrio.list_layers(path)}
    assert layers == {"organisation": None, "hazard_area": "Unknown", "activity": "Unknown", "device_found": "Point"}
    for layer in ("hazard_area", "activity", "device_found"):
        assert pyogrio.read_info(path, layer=layer)["crs"] == "EPSG:4326"
    frame = pyogrio.read_dataframe(path, layer="activity")
    footprint = frame.set_index("activity_id").geometry
    assert footprint["A-4"] is None  # a planned activity has released nothing
    assert footprint["A-1"].equals(box(X0, Y0))


def test_xlsx_float_precision_is_16_digits(tmp_path: Path) -> None:
    """XLSX numbers keep 16 significant digits (openpyxl): a share needing 17 changes only in its last digit."""
    share = 0.1 + 0.2  # 0.30000000000000004
    hazard = HazardArea("H", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT, expected_clearance_share=share)
    write_imsma(tmp_path / "x.xlsx", [], [hazard], [])
    back = read_imsma(tmp_path / "x.xlsx").hazards[0].expected_clearance_share
    assert back == pytest.approx(share, rel=1e-15)
    write_imsma(tmp_path / "x", [], [hazard], [])  # CSV keeps every digit
    assert read_imsma(tmp_path / "x").hazards[0].expected_clearance_share == share


def test_areas_and_centroids_are_computed_on_the_ellipsoid(tmp_path: Path) -> None:
    """area_m2 agrees with the geodesic area (pyproj.Geod) to 0.01 %; the centroid lies in the polygon's middle."""
    write_imsma(tmp_path / "x", organisations(), hazards(), activities())
    with open(tmp_path / "x" / "hazard_area.csv", encoding="utf-8-sig", newline="") as f:
        rows = {r["hazard_id"]: r for r in csv.DictReader(f)}
    geod = Geod(ellps="WGS84")
    for h in hazards():
        # Geod signs each ring by its orientation: orient exteriors counter-clockwise and holes clockwise first
        geodesic = geod.geometry_area_perimeter(shapely.orient_polygons(h.geometry))[0]
        assert float(rows[h.id]["area_m2"]) == pytest.approx(geodesic, rel=1e-4)
    h1 = next(h for h in hazards() if h.id == "H-1")  # a rectangle: its centroid is the middle of its bounds
    minx, miny, maxx, maxy = h1.geometry.bounds
    assert float(rows["H-1"]["centroid_lon"]) == pytest.approx((minx + maxx) / 2, abs=1e-6)
    assert float(rows["H-1"]["centroid_lat"]) == pytest.approx((miny + maxy) / 2, abs=1e-6)


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
    assert rows["H-3"]["organisation"] == "'-ORG"  # ids in link fields are text too
    assert rows["H-4"]["hazard_name"] == "'@risk; 'quoted', with a comma"
    with open(tmp_path / "x" / "device_found.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            assert not row["centroid_lon"].startswith("'")
    for path in (tmp_path / "x").iterdir():
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            for cell in next(csv.reader([line])):
                assert not cell.startswith(("=", "+", "@")) and not re.match(r"-[^\d]", cell), (path.name, cell)


def test_xlsx_keeps_formula_text_as_text(tmp_path: Path) -> None:
    """In the workbook no cell is a formula: formula-like names and ids are string cells, unchanged."""
    path = tmp_path / "x.xlsx"
    write_imsma(path, organisations(), hazards(), activities())
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(imsma.RECORD_TYPES)
    kinds = {c.data_type for sheet in book for row in sheet.iter_rows() for c in row}
    assert "f" not in kinds
    names = {row[0].value: row[1] for row in book["hazard_area"].iter_rows(min_row=2)}
    assert names["H-1"].value == "=HYPERLINK(\"http://example.invalid\",\"click\")"
    assert names["H-1"].data_type == "s"


def test_a_formula_cell_in_an_imported_workbook_is_a_fault(tmp_path: Path) -> None:
    """A workbook edited so that a cell holds a formula is refused at that record and column."""
    path = tmp_path / "x.xlsx"
    write_imsma(path, organisations(), hazards(), activities())
    book = openpyxl.load_workbook(path)
    sheet = book["hazard_area"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "H-2")
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
    hazard = HazardArea("BIG", HazardClass.SHA, big, Evidence.INDIRECT)
    with pytest.raises(ValidationError) as caught:
        write_imsma(tmp_path / "x.xlsx", [], [hazard], [])
    assert [(f.record, f.field) for f in caught.value.faults] == [("hazard_area BIG", "wkt")]
    assert not (tmp_path / "x.xlsx").exists()
    write_imsma(tmp_path / "x.gpkg", [], [hazard], [])  # a GeoPackage has no such limit
    assert geometries_equal(read_imsma(tmp_path / "x.gpkg").hazards[0].geometry, big)


def test_export_refuses_ids_that_cannot_travel_in_a_link_field(tmp_path: Path) -> None:
    """An id with a comma (or surrounding spaces) would split in a link field: the export names it, writes nothing."""
    bad = HazardArea("H,1", HazardClass.SHA, box(X0, Y0), Evidence.INDIRECT)
    org = Organisation(" ORG ", "Spaced", OrgKind.OPERATOR)
    with pytest.raises(ValidationError) as caught:
        write_imsma(tmp_path / "x", [org], [bad], [])
    assert {(f.record, f.field) for f in caught.value.faults} == {
        ("hazard area 'H,1'", "hazard_id"), ("organisation ' ORG '", "organisation_id")}
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------------------------------
# Links
# ----------------------------------------------------------------------------------------------------


def test_links_are_resolved_from_either_side(tmp_path: Path) -> None:
    """An activity found only in its hazard's list, and devices found only in their activity's list, are linked."""
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": (HAZARD_HEAD, [["H-1", "CHA", "A-1", square(0)], ["H-2", "SHA", "", square(1)]]),
        "activity": (ACTIVITY_HEAD, [["A-1", "Clearance", "Ongoing", "", "D-2, D-1", ""],
                                     ["A-2", "NTS", "Completed", "H-2", "", ""]]),
        "device_found": (DEVICE_HEAD, [["D-1", "", "AT mine", f"POINT ({X0} {Y0})"],
                                       ["D-2", "A-1", "UXO", f"POINT ({X0 + 0.001} {Y0})"]]),
    })
    read = read_imsma(folder)
    assert read.faults == []
    by_id = {a.id: a for a in read.activities}
    assert (by_id["A-1"].hazard_id, by_id["A-2"].hazard_id) == ("H-1", "H-2")
    # devices keep the order of the device sheet, whichever side named them
    assert [d.category for d in by_id["A-1"].devices] == [DeviceCategory.AT_MINE, DeviceCategory.ERW_UXO]
    assert by_id["A-2"].devices == ()


def test_link_faults_name_the_record_and_the_field(tmp_path: Path) -> None:
    """No hazard, two hazards, two sides that disagree, or a device whose activity is not in the file: each a fault."""
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": (HAZARD_HEAD, [["H-1", "CHA", "A-3", square(0)], ["H-2", "SHA", "", square(1)]]),
        "activity": (ACTIVITY_HEAD, [["A-1", "TS", "Ongoing", "", "", ""],
                                     ["A-2", "TS", "Ongoing", "H-1, H-2", "", ""],
                                     ["A-3", "TS", "Ongoing", "H-2", "", ""]]),
        "device_found": (DEVICE_HEAD, [["D-1", "A-9", "AT mine", f"POINT ({X0} {Y0})"],
                                       ["D-2", "", "AT mine", f"POINT ({X0} {Y0})"]]),
    })
    read = read_imsma(folder)
    assert "linked to no hazard area" in fault_at(read, "activity A-1", "linked_hazards").reason
    assert "linked to 2 hazard areas (H-1, H-2)" in fault_at(read, "activity A-2", "linked_hazards").reason
    contradiction = fault_at(read, "activity A-3", "linked_hazards").reason
    assert "linked to 2 hazard areas (H-2, H-1)" in contradiction and "listed by H-1" in contradiction
    assert "activity A-9 is not in this file" in fault_at(read, "device found D-1", "linked_activities").reason
    assert "linked to no activity" in fault_at(read, "device found D-2", "linked_activities").reason
    assert "activity.csv row 3" in fault_at(read, "activity A-2", "linked_hazards").reason
    assert len(read.faults) == 5


def test_links_to_records_outside_the_file_are_references_for_the_store(tmp_path: Path) -> None:
    """A hazard, activity or organisation named but not in the file is handed on as a reference, not a fault."""
    folder = write_csvs(tmp_path / "x", {
        "hazard_area": ([*HAZARD_HEAD, "organisation"], [["H-1", "CHA", "A-OLD", square(0), "ORG-X"]]),
        "activity": ([*ACTIVITY_HEAD, "implementing_organisation"],
                     [["A-1", "NTS", "Planned", "H-STORED", "", "", "ORG-Y"]]),
    })
    read = read_imsma(folder)
    assert read.faults == []
    assert {(r.record, r.column, r.table, r.id) for r in read.references} == {
        ("hazard area H-1", "linked_activities", "activities", "A-OLD"),
        ("hazard area H-1", "organisation", "organisations", "ORG-X"),
        ("activity A-1", "linked_hazards", "hazard_areas", "H-STORED"),
        ("activity A-1", "implementing_organisation", "organisations", "ORG-Y"),
    }
    assert read.activities[0].hazard_id == "H-STORED"


def test_a_listing_that_names_no_device_in_the_file_is_a_fault(tmp_path: Path) -> None:
    """Devices are kept only with their activity, so an activity listing devices the file lacks is refused."""
    folder = write_csvs(tmp_path / "x", {
        "activity": (ACTIVITY_HEAD, [["A-1", "Clearance", "Ongoing", "H-1", "D-7", ""]]),
    })
    read = read_imsma(folder)
    assert "D-7" in fault_at(read, "activity A-1", "linked_devices").reason


# ----------------------------------------------------------------------------------------------------
# Bad rows
# ----------------------------------------------------------------------------------------------------


def test_every_bad_cell_is_reported_with_its_record_and_column(tmp_path: Path) -> None:
    """One read reports every fault of every row, each with the record's id, the column and the row."""
    folder = write_csvs(tmp_path / "x", {
        "organisation": (["organisation_id", "organisation_name", "organisation_type"],
                         [["ORG-1", "", "Operator"], ["ORG-2", "Two", "Charity"]]),
        "hazard_area": ([*HAZARD_HEAD, "beneficiaries", "device_categories", "evidence"], [
            ["H-1", "XHA", "", square(0), "many", "AP mine, bomblet", ""],
            ["H-2", "CHA", "", "POLYGON ((0 0, 1 1", "", "", ""],
            ["H-2", "SHA", "", square(2), "", "", ""],
            ["H-3", "CHA", "", square(3), "1,500", "", "Indirect"],
            ["", "SHA", "", square(4), "", "", ""],
        ]),
        "activity": ([*ACTIVITY_HEAD, "start_date", "end_date", "reduced_area_wkt", "clearance_depth_cm"], [
            ["A-1", "NTS", "Completed", "H-3", "", "", "2025-13-01", "", square(3), ""],
            ["A-2", "Clearance", "Done", "H-3", "", "", "2025-07-10", "2025-07-01", "", "-5"],
        ]),
    })
    read = read_imsma(folder)
    expected = {
        ("organisation ORG-1", "organisation_name"),
        ("organisation ORG-2", "organisation_type"),
        ("hazard area H-1", "type_of_area"),
        ("hazard area H-1", "beneficiaries"),
        ("hazard area H-1", "device_categories"),
        ("hazard area H-2", "wkt"),
        ("hazard area H-2", "hazard_id"),  # the second H-2
        ("hazard area H-3", "beneficiaries"),
        ("hazard area H-3", "evidence"),  # a CHA needs direct evidence
        ("hazard area (hazard_area.csv row 6)", "hazard_id"),
        ("activity A-1", "start_date"),
        ("activity A-1", "reduced_area_wkt"),  # a non-technical survey only cancels land
        ("activity A-2", "status"),
        ("activity A-2", "end_date"),
        ("activity A-2", "clearance_depth_cm"),
    }
    assert {(f.record, f.field) for f in read.faults} == expected
    assert len(read.faults) == len(expected)
    assert "'XHA' is not one of SHA, CHA (hazard_area.csv row 2)" in fault_at(read, "hazard area H-1",
                                                                              "type_of_area").reason
    assert "whole number, got '1,500'" in fault_at(read, "hazard area H-3", "beneficiaries").reason
    assert "appears earlier (hazard_area.csv row 3)" in fault_at(read, "hazard area H-2", "hazard_id").reason


def test_a_stated_area_differing_from_the_geometry_is_noted_and_one_without_geometry_is_a_fault(
    tmp_path: Path,
) -> None:
    """sapper keeps the geometry: a stated area 10 % off is a note; a stated area with no geometry is a fault."""
    geom = box(X0, Y0, 0.01, 0.01)
    true_area = imsma.measure(geom)[0]
    head = [*ACTIVITY_HEAD, "cancelled_area_m2", "cleared_area_m2"]
    folder = write_csvs(tmp_path / "x", {
        "activity": (head, [["A-1", "NTS", "Completed", "H-1", "", str(geom.wkt), str(true_area * 1.1), ""],
                            ["A-2", "NTS", "Completed", "H-1", "", str(geom.wkt), str(true_area + 0.5), ""],
                            ["A-3", "Clearance", "Completed", "H-1", "", "", "", "2500"]]),
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
    folder = write_csvs(tmp_path / "x", {"hazard_area": (HAZARD_HEAD, [["H-1", "SHA", "", bow_tie]])})
    read = read_imsma(folder)
    assert read.faults == []
    assert read.hazards[0].geometry.is_valid
    assert any(n.startswith("repaired hazard area H-1 wkt: Self-intersection") for n in read.notes)


def test_imsma_words_semicolons_and_unused_columns(tmp_path: Path) -> None:
    """A hand-made CSV in IMSMA's words, with ';' as delimiter and an extra column, reads, noting the column."""
    folder = write_csvs(tmp_path / "x", {"hazard_area": (
        [*HAZARD_HEAD, "status", "device_categories", "province"],
        [["H-1", "Confirmed hazardous area", "", square(0), "Active", "Anti-personnel mine; Booby trap", "Kursk"]],
    )}, delimiter=";")
    read = read_imsma(folder)
    assert read.faults == []
    h = read.hazards[0]
    assert (h.hazard_class, h.status, h.evidence) == (HazardClass.CHA, HazardStatus.OPEN, Evidence.DIRECT)
    assert h.device_categories == {DeviceCategory.AP_MINE, DeviceCategory.IED}
    assert "hazard_area: columns not used: province" in read.notes


def test_files_that_cannot_be_used_at_all(tmp_path: Path) -> None:
    """No record type in the file, a required column missing, a repeated column or a bad suffix: refused whole."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="holds none of the IMSMA record types"):
        read_imsma(tmp_path / "empty")
    folder = write_csvs(tmp_path / "x", {"hazard_area": (["hazard_id", "wkt"], [["H-1", square(0)]])})
    with pytest.raises(ImportFileError, match="hazard_area lacks the column type_of_area"):
        read_imsma(folder)
    folder = write_csvs(tmp_path / "y", {"hazard_area": (["hazard_id", "Hazard_ID"], [["H-1", "H-2"]])})
    with pytest.raises(ImportFileError, match="appears twice"):
        read_imsma(folder)
    with pytest.raises(ValidationError, match=r"give a \.xlsx workbook"):
        read_imsma(tmp_path / "x.csv")


def test_a_device_may_be_placed_by_lat_lon_alone(tmp_path: Path) -> None:
    """Without WKT a device's position comes from centroid_lat/centroid_lon (and a device with neither is a fault)."""
    folder = write_csvs(tmp_path / "x", {
        "activity": (ACTIVITY_HEAD, [["A-1", "EOD spot task", "Completed", "H-1", "", ""]]),
        "device_found": (["device_id", "linked_activities", "device_category", "centroid_lat", "centroid_lon"],
                         [["D-1", "A-1", "UXO", "51.5", "35.25"], ["D-2", "A-1", "UXO", "", ""]]),
    })
    read = read_imsma(folder)
    assert [(f.record, f.field) for f in read.faults] == [("device found D-2", "geometry")]
    folder = write_csvs(tmp_path / "y", {
        "activity": (ACTIVITY_HEAD, [["A-1", "EOD spot task", "Completed", "H-1", "", ""]]),
        "device_found": (["device_id", "linked_activities", "device_category", "centroid_lat", "centroid_lon"],
                         [["D-1", "A-1", "UXO", "51.5", "35.25"]]),
    })
    assert read_imsma(folder).activities[0].devices[0].position == Point(35.25, 51.5)


def test_dates_from_spreadsheets(tmp_path: Path) -> None:
    """Dates are read from ISO text, from XLSX date cells and from midnight timestamps; a time of day is a fault."""
    activity = Activity("A-1", "H-1", ActivityType.NTS, ActivityStatus.COMPLETED, start=None)
    path = tmp_path / "x.xlsx"
    write_imsma(path, [], [], [activity])
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
