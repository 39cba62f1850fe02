"""Reading ODK Central and KoboToolbox exports: real files in each tool's shape, broken rows, one neutral result."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from sapper.domain.activities import DeviceCondition
from sapper.domain.fielddata import SubmissionSource
from sapper.domain.hazards import DeviceCategory
from sapper.errors import ImportFileError, ValidationError
from sapper.io.fieldanswers import AnswerReader, parse_date, parse_decimal
from sapper.io.fieldexport import parse_geo, read_field_export
from tests.io.field_exports import (
    STRIP,
    Report,
    clearance,
    kobo_csv,
    kobo_geojson,
    kobo_xlsx,
    odk_files,
    odk_zip,
    shape_text,
)

A, B, C = ("uuid:0a1b861f-a5fd-4f49-846a-78dcf06cfc1b", "uuid:39f3dd36-161e-45cb-a1a4-395831d253a7",
           "uuid:6d2f0c1e-8b7a-4c55-9f3e-2a1d0b9c8e7f")


def lonlat(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(lon, lat) for lat, lon in points]


# ----------------------------------------------------------------------------------------------------
# Geometry text
# ----------------------------------------------------------------------------------------------------


def test_geo_text_is_latitude_first_and_becomes_lon_lat() -> None:
    """A geopoint, a geotrace and a geoshape (with ODK's trailing ';') become lon/lat Point, LineString, Polygon."""
    assert parse_geo("50.45 30.52 120.0 5.0").equals(Point(30.52, 50.45))
    assert parse_geo("50.45 30.52") == Point(30.52, 50.45)
    trace = parse_geo("50.1 35.1 0 0;50.2 35.2 0 0;")
    assert isinstance(trace, LineString) and list(trace.coords) == [(35.1, 50.1), (35.2, 50.2)]
    shape = parse_geo(shape_text(STRIP))
    assert isinstance(shape, Polygon) and list(shape.exterior.coords) == lonlat(STRIP)


def test_geo_text_accepts_decimal_commas() -> None:
    """Coordinates written with decimal commas (a uk/ru spreadsheet) are read as decimal points."""
    assert parse_geo(shape_text(STRIP, comma=True)).equals(parse_geo(shape_text(STRIP)))
    assert parse_geo("50,45 30,52 0 0") == Point(30.52, 50.45)


@pytest.mark.parametrize(("text", "reason"), [
    ("135.1 50.2 0 0", "latitude 135.1 is out of range"),
    ("50.1 200 0 0", "longitude 200 is out of range"),
    ("50.1 35.1 0 0;", "at least 2 points"),
    ("50.1 35.1 0 0;abc 35.2 0 0;", "point 2: 'abc' is not a number"),
    ("50.1 35.1 0 0 9 9", "is not 'latitude longitude"),
    (";", "no points"),
])
def test_bad_geo_text_names_the_problem(text: str, reason: str) -> None:
    """Text that is not a geopoint/trace/shape is refused with the point and the reason."""
    with pytest.raises(ValueError, match=reason):
        parse_geo(text)


# ----------------------------------------------------------------------------------------------------
# ODK Central
# ----------------------------------------------------------------------------------------------------


def test_odk_central_zip_with_repeats(tmp_path: Path) -> None:
    """Root file and repeat file become submissions: answers, split geopoints, geoshape, repeat entries, metadata."""
    path = odk_zip(tmp_path / "sapper_clearance.csv.zip", "sapper_clearance",
                   [clearance(A), clearance(B, team_id="T-2", repeats=[])])
    export = read_field_export(path)
    assert (export.source, export.form_id, export.faults, export.rows) == (
        SubmissionSource.ODK_CENTRAL, "sapper_clearance", [], 2)
    first, second = export.submissions
    assert (first.instance_id, first.submission_key, first.edits, first.form_version) == (A, A, 0, "2025061201")
    assert first.submitter == "Ivan Petrenko"
    assert first.submitted_at is not None and first.submitted_at.isoformat() == "2025-06-18T16:05:11.123000+00:00"
    assert first.value("cleared_m2") == "250,5" and first.value("notes") == "Ряд 4, north edge"
    assert "cleared_shape" not in first.fields
    assert list(first.geometry("cleared_shape").exterior.coords) == lonlat(STRIP)  # type: ignore[union-attr]
    devices = first.repeat("devices")
    assert [d.key for d in devices] == [f"{A}/devices[1]", f"{A}/devices[2]"]
    assert {d.parent_key for d in devices} == {A}
    assert devices[0].geometry("device_position") == Point(35.1021, 50.1015)
    assert devices[1].fields == {"device_category": "erw_uxo", "device_type": "VOG-17",
                                 "device_condition": "damaged", "device_depth_cm": "3,5", "device_quantity": "3",
                                 "device_fuze": "UDZ", "device_disposal": "destroyed_in_place",
                                 "device_disposal_date": "2025-06-18"}
    assert second.repeat("devices") == [] and second.value("team_id") == "T-2"
    assert first.tool_meta["DeviceID"] == "collect:X7" and "KEY" not in first.tool_meta
    assert {"hazard_id", "cleared_shape", "devices", "work_date"} <= export.columns


def test_odk_central_edited_submission_keeps_its_key(tmp_path: Path) -> None:
    """An edited version has a new meta-instanceID, the first one as KEY, and its Edits count."""
    edited = clearance(B, cleared_m2="300")
    edited.key, edited.edits = A, 1
    sub = read_field_export(odk_zip(tmp_path / "x.zip", "sapper_clearance", [edited])).submissions[0]
    assert (sub.instance_id, sub.submission_key, sub.edits) == (B, A, 1)
    assert [d.key for d in sub.repeat("devices")] == [f"{A}/devices[1]", f"{A}/devices[2]"]


def test_nested_and_same_named_repeats(tmp_path: Path) -> None:
    """Nested repeats (g1/g2) and two repeats called `entry` (files ~1, ~2) keep their paths and parents."""
    root = ("SubmissionDate,meta-instanceID,name,KEY,SubmitterID,SubmitterName,AttachmentsPresent,"
            "AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion\n"
            f"2018-02-01T11:35:19.178Z,{A},Bob,{A},5,Bob,0,0,,,d,0,1\n")
    files = {
        "nested.csv": root,
        "nested-g1.csv": f"t1,PARENT_KEY,KEY\nsome text 1,{A},{A}/g1[1]\nsome text 2,{A},{A}/g1[2]\n",
        "nested-g2.csv": f"t2,PARENT_KEY,KEY\n1.1,{A}/g1[1],{A}/g1[1]/g2[1]\n1.2,{A}/g1[1],{A}/g1[1]/g2[2]\n",
        "nested-entry~1.csv": f"name,PARENT_KEY,KEY\nBobs Hardware,{A},{A}/jobs/entry[1]\n",
        "nested-entry~2.csv": f"name,PARENT_KEY,KEY\nNasrin,{A},{A}/friends/entry[1]\n",
    }
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    sub = read_field_export(path).submissions[0]
    assert set(sub.repeats) == {"g1", "g1/g2", "jobs/entry", "friends/entry"}
    assert [r.parent_key for r in sub.repeat("g2")] == [f"{A}/g1[1]", f"{A}/g1[1]"]
    assert sub.repeat("friends/entry")[0].value("name") == "Nasrin"
    with pytest.raises(ValidationError, match="2 fields match 'entry'"):
        sub.repeat("entry")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def test_odk_broken_rows_reject_their_submission_only(tmp_path: Path) -> None:
    """Bad rows (coordinate out of range, bad Edits, broken or orphan repeat entries, no KEY, a repeated KEY, a
    cell too many) are faults naming file, row, submission and field; the other submissions are read."""
    typo = [(50.101, 35.101), (501.01, 35.104), (50.103, 35.104), (50.101, 35.101)]
    d = "uuid:4e1c"
    files = odk_files("sapper_clearance", [clearance(A), clearance(B, cleared_shape=typo), clearance(C),
                                           clearance(d, repeats=[])])
    root, devices = _rows(files["sapper_clearance.csv"]), _rows(files["sapper_clearance-devices.csv"])
    header = root[0]
    root[3][header.index("Edits")] = "one"  # C
    root.append(list(root[1]))  # A again: a repeated KEY
    root.append(["" for _ in header])  # an empty row is skipped, not a fault
    no_key = list(root[1])
    no_key[header.index("KEY")] = ""
    root.append([*no_key, "extra"])  # one cell too many
    root.append(no_key)  # no KEY
    devices[1][0] = "95.1015"  # A's first device: latitude out of range
    devices.append(["50.2", "35.2", "0", "0", "ap_mine", "PMN", "armed", "5", "", "", "", "", "uuid:nobody",
                    "uuid:nobody/devices[1]"])
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("sapper_clearance.csv", _text(root))
        z.writestr("sapper_clearance-devices.csv", _text(devices))
    export = read_field_export(path)
    assert [s.instance_id for s in export.submissions] == [d]
    found = [(f.file, f.row, f.submission, f.field) for f in export.faults]
    assert found == [
        ("sapper_clearance.csv", 3, B, "cleared_shape"),
        ("sapper_clearance.csv", 4, C, "Edits"),
        ("sapper_clearance.csv", 6, A, "KEY"),
        ("sapper_clearance.csv", 8, None, None),
        ("sapper_clearance.csv", 9, A, "KEY"),
        ("sapper_clearance-devices.csv", 2, A, "device_position-Latitude"),
        ("sapper_clearance-devices.csv", 8, "uuid:nobody", "PARENT_KEY"),
    ]
    reasons = [f.reason for f in export.faults]
    assert "point 2: latitude 501.01 is out of range" in reasons[0]
    assert reasons[1] == "'one' is not a whole number"
    assert reasons[2] == f"{A} appears earlier in the file (row 2)"
    assert reasons[3] == f"has {len(header) + 1} cells but the header has {len(header)} (a value with an unquoted " \
                         "separator?)"
    assert reasons[4] == "is empty"
    assert "latitude 95.1015 is out of range" in reasons[5]
    assert str(export.faults[0]).startswith(f"sapper_clearance.csv row 3 (submission {B}): cleared_shape: ")


def test_odk_root_csv_alone_and_form_choice(tmp_path: Path) -> None:
    """Central's plain root CSV is read too; a zip of two forms needs --form, and --form must name one of them."""
    files = odk_files("sapper_clearance", [clearance(A)])
    plain = tmp_path / "sapper_clearance.csv"
    plain.write_text(files["sapper_clearance.csv"], encoding="utf-8")
    export = read_field_export(plain)
    assert export.form_id == "sapper_clearance" and export.submissions[0].repeats == {}
    two = odk_zip(tmp_path / "two.zip", "sapper_clearance", [clearance(A)],
                  extra={"other_form.csv": files["sapper_clearance.csv"]})
    with pytest.raises(ImportFileError, match="choose one with --form"):
        read_field_export(two)
    assert read_field_export(two, form_id="sapper_clearance").submissions[0].instance_id == A
    with pytest.raises(ImportFileError, match="of form nts"):
        read_field_export(two, form_id="nts")


# ----------------------------------------------------------------------------------------------------
# KoboToolbox
# ----------------------------------------------------------------------------------------------------


def test_kobo_semicolon_csv(tmp_path: Path) -> None:
    """A ';'-separated, fully quoted Kobo CSV: sniffed; geopoint text and its _x_latitude columns become one point;
    Kobo's own columns are metadata; the same answers as ODK's export give the same content."""
    report = clearance(A, repeats=[])
    export = read_field_export(kobo_csv(tmp_path / "clearance.csv", "sapper_clearance", [report]),
                               form_id="sapper_clearance")
    assert (export.source, export.form_id, export.faults) == (SubmissionSource.KOBOTOOLBOX, "sapper_clearance", [])
    sub = export.submissions[0]
    assert (sub.instance_id, sub.submission_key, sub.record_id, sub.submitter) == (A, A, "101", "ivan_p")
    assert sub.submitted_at is not None and sub.submitted_at.isoformat() == "2025-06-18T16:05:11+00:00"
    assert sub.tool_meta["_validation_status"] == "validation_status_approved"
    assert not any(k.startswith("_") for k in sub.fields)
    odk = read_field_export(odk_zip(tmp_path / "x.zip", "sapper_clearance", [report])).submissions[0]
    assert sub.content() == odk.content() and sub.content_hash() == odk.content_hash()
    comma = read_field_export(kobo_csv(tmp_path / "comma.csv", "sapper_clearance", [report], delimiter=","))
    assert comma.submissions[0].content_hash() == sub.content_hash()
    assert comma.form_id == "comma" and any("taken from the file name" in n for n in comma.notes)


def test_kobo_geopoint_columns(tmp_path: Path) -> None:
    """A Kobo geopoint (text plus _name_latitude …) is one Point, and nothing of it stays among the answers."""
    report = Report(A, {"work_date": "2025-06-18", "asset_id": "A-1", "brigade_id": "B-1", "builder_days": "12,5",
                        "blocking_location": (51.2, 35.4)})
    sub = read_field_export(kobo_csv(tmp_path / "b.csv", "sapper_brigade", [report])).submissions[0]
    assert sub.geometries == {"blocking_location": Point(35.4, 51.2)}
    assert "blocking_location" not in sub.fields and "_blocking_location_latitude" not in sub.tool_meta


def test_kobo_xlsx_repeats_match_odk(tmp_path: Path) -> None:
    """Kobo's XLSX (repeat sheet linked by _parent_index) gives the same submissions, keys and content as ODK's zip."""
    reports = [clearance(A), clearance(B, repeats=[]), clearance(C, cleared_m2="99")]
    reports[1].kobo_id, reports[2].kobo_id = 102, 103
    kobo = read_field_export(kobo_xlsx(tmp_path / "c.xlsx", "sapper_clearance", reports))
    odk = read_field_export(odk_zip(tmp_path / "c.zip", "sapper_clearance", reports))
    assert kobo.faults == [] and [s.instance_id for s in kobo.submissions] == [A, B, C]
    assert kobo.form_id == "c" and "devices" in kobo.columns
    for k, o in zip(kobo.submissions, odk.submissions, strict=True):
        assert k.content() == o.content()
        assert [r.key for r in k.repeat("devices")] == [r.key for r in o.repeat("devices")]
        assert [r.parent_key for r in k.repeat("devices")] == [r.parent_key for r in o.repeat("devices")]


def test_kobo_xlsx_orphan_repeat_entry(tmp_path: Path) -> None:
    """A repeat row whose _parent_index names no submission row is a fault; its submission is left out."""
    path = kobo_xlsx(tmp_path / "c.xlsx", "sapper_clearance", [clearance(A), clearance(B)])
    import openpyxl

    book = openpyxl.load_workbook(path)
    ws = book["devices"]
    ws.cell(row=2, column=[c.value for c in ws[1]].index("_parent_index") + 1, value=9)
    book.save(path)
    export = read_field_export(path)
    assert [s.instance_id for s in export.submissions] == [B]
    assert [(f.file, f.row, f.submission, f.field) for f in export.faults] == [("devices", 2, A, "_parent_index")]
    assert "sheet Clearance progress has no row with _index 9" in export.faults[0].reason


def test_kobo_geojson(tmp_path: Path) -> None:
    """Kobo's GeoJSON: properties are the answers, the feature's geometry is kept as `geometry` (lon/lat);
    a feature without meta/instanceID or _uuid is a fault naming the feature."""
    reports = [clearance(A, repeats=[]), clearance(B, repeats=[])]
    path = kobo_geojson(tmp_path / "c.geojson", "sapper_clearance", reports, "cleared_shape")
    text = path.read_text(encoding="utf-8").replace(f'"_uuid": "{B.removeprefix("uuid:")}"', '"_uuid": null')
    path.write_text(text.replace(f'"meta/instanceID": "{B}"', '"meta/instanceID": null'), encoding="utf-8")
    export = read_field_export(path, form_id="sapper_clearance")
    assert [s.instance_id for s in export.submissions] == [A]
    sub = export.submissions[0]
    assert sub.geometries["geometry"].equals(Polygon(lonlat(STRIP)))
    assert sub.value("cleared_m2") == "250,5"
    assert [(f.unit, f.row, f.field) for f in export.faults] == [("feature", 2, "meta/instanceID")]


def test_cp1251_csv_and_label_headers(tmp_path: Path) -> None:
    """A CSV saved as Windows-1251 is read (said so); headers that are labels, not names, are noticed."""
    path = kobo_csv(tmp_path / "c.csv", "sapper_clearance", [clearance(A, repeats=[])], encoding="cp1251")
    export = read_field_export(path)
    assert export.submissions[0].value("notes") == "Ряд 4, north edge"
    assert any("Windows-1251" in n for n in export.notes)
    labelled = tmp_path / "labels.csv"
    labelled.write_text('"Work date";"Hazard ID";"Area cleared";"_uuid";"_id"\n"2025-06-18";"H-1";"12";"abc";"5"\n',
                        encoding="utf-8")
    export = read_field_export(labelled)
    assert export.submissions[0].instance_id == "uuid:abc"
    assert any("look like question labels" in n for n in export.notes)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("old.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
    ("notes.txt", b"hello", "cannot read .txt"),
    ("other.csv", b"a,b\n1,2\n", "neither an ODK Central export"),
    ("broken.zip", b"PK not a zip", "not a readable zip"),
    ("broken.xlsx", b"PK not a zip", "cannot be read as an XLSX"),
    ("list.geojson", b"[1, 2]", "not a GeoJSON FeatureCollection"),
])
def test_files_that_are_not_exports_are_refused(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    """A file that cannot be an export is ImportFileError with the reason, not a crash."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        read_field_export(path)


_CELL = st.one_of(st.text(max_size=12), st.sampled_from(["", "50,1 35,2 0 0;", "95 35 0 0", "1 2;3 4;", '"', "\n",
                                                         "abc;def", "uuid:x", "-", "1e999", "nan"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(_CELL, min_size=3, max_size=5), min_size=1, max_size=4))
def test_random_cells_never_crash(tmp_path: Path, cells: list[list[str]]) -> None:
    """Any cells in an ODK root CSV give submissions or faults, never an exception."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["SubmissionDate", "cleared_shape", "loc-Latitude", "loc-Longitude", "meta-instanceID", "KEY",
                     "Edits"])
    for n, row in enumerate(cells):
        writer.writerow([*row[:3], *([""] * (3 - min(3, len(row)))), f"uuid:{n}", f"uuid:{n}", row[-1]])
    path = tmp_path / "fuzz.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    export = read_field_export(path)
    assert len(export.submissions) + len({f.submission for f in export.faults}) >= 1


# ----------------------------------------------------------------------------------------------------
# Typed answers
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("12.5", 12.5), ("12,5", 12.5), ("1 250,5", 1250.5), ("-3", -3.0),
                                             ("1\u00a0000", 1000.0), (" 7 ", 7.0)])
def test_decimals_in_either_locale(text: str, value: float) -> None:
    """Numbers typed with a decimal comma or space-grouped thousands are read."""
    assert parse_decimal(text) == value


@pytest.mark.parametrize("text", ["1,250.5", "12,5,1", "abc", "inf", ""])
def test_ambiguous_or_bad_decimals_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_dates() -> None:
    """ISO dates, timestamps' dates and dd.mm.yyyy are read; mm/dd/yyyy is refused."""
    assert parse_date("2025-06-18") == parse_date("18.06.2025") == parse_date("2025-06-18T15:40:55.000+03:00")
    with pytest.raises(ValueError, match="not a date"):
        parse_date("06/18/2025")


def test_answer_reader_collects_every_fault(tmp_path: Path) -> None:
    """Typed reads of one submission: values, choices and geometry come out typed; each problem is one fault."""
    report = clearance(A, deminers_working="six", cleared_m2="1,2.3", method="laser")
    sub = read_field_export(odk_zip(tmp_path / "x.zip", "sapper_clearance", [report])).submissions[0]
    r = AnswerReader(sub, sub.record)
    assert r.number("hours_worked") == 5.5 and r.date("work_date") is not None
    assert r.integer("deminers_working") is None and r.number("cleared_m2") is None
    assert r.geometry("cleared_shape", kind="polygon") == Polygon(lonlat(STRIP))
    assert r.text("missing_field", required=True) is None
    d = AnswerReader(sub.repeat("devices")[1], "device")
    assert d.choice("device_category", DeviceCategory) is DeviceCategory.ERW_UXO
    assert d.choice("device_condition", DeviceCondition) is DeviceCondition.DAMAGED
    assert d.number("device_depth_cm") == 3.5
    from sapper.domain.resources import Method

    assert r.choice("method", Method) is None
    assert [(f.field, f.reason.split(" (")[0]) for f in r.faults] == [
        ("deminers_working", "'six' is not a number"),
        ("cleared_m2", "'1,2.3' has both '.' and ','"),
        ("missing_field", "is empty"),
        ("method", "'laser' is not one of survey, manual, dog, mechanical, bac"),
    ]


def test_answer_reader_closes_and_repairs_shapes() -> None:
    """An open geoshape is closed; a self-intersecting one is repaired (and said so); a point is not a shape."""
    from sapper.domain.fielddata import Submission

    bow_tie = [(50.0, 35.0), (50.01, 35.01), (50.0, 35.01), (50.01, 35.0), (50.0, 35.0)]
    sub = Submission(SubmissionSource.KOBOTOOLBOX, "f", A, A, fields={
        "open": shape_text(STRIP[:-1]), "bow": shape_text(bow_tie), "dot": "50.1 35.1 0 0"})
    r = AnswerReader(sub, sub.record)
    assert r.geometry("open", kind="polygon") == Polygon(lonlat(STRIP))
    repaired = r.geometry("bow", kind="polygon")
    assert repaired is not None and repaired.is_valid and shapely.area(repaired) > 0
    assert r.notes and "bow repaired (Self-intersection" in r.notes[0]
    assert r.geometry("dot", kind="polygon") is None
    assert r.faults[0].reason == "is a Point, not a geoshape"
