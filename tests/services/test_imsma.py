"""IMSMA Core exchange with a store: export → import into a fresh store → export again gives the same records (IMSMA
ids and kept links included) and the same file, in every format, also for a register with a land-release history
and devices; an import with any fault (in the file or against the store) writes nothing; the programme's value map
is used both ways; the CLI reports every fault and each record's missing MDR items."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceCondition, DeviceFound, Disposal
from sapper.domain.hazards import Beneficiaries, DeviceCategory, Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.landrelease import Inspection
from sapper.domain.resources import Method, Organisation, OrgKind
from sapper.errors import ValidationError
from sapper.io.imsma import HISTORY_COLUMNS, RECORD_TYPES, write_imsma
from sapper.io.profile import ImportProfile
from sapper.services import landrelease as lr
from sapper.services.imsma import export_imsma, import_imsma
from sapper.store import open_store
from tests.cli.entry import run
from tests.io.imsma_records import (
    X0,
    Y0,
    activities,
    box,
    geometries_equal,
    hazards,
    imsma_values,
    make_store,
    organisations,
)

FORMATS = {"csv": "exchange", "xlsx": "exchange.xlsx", "gpkg": "exchange.gpkg"}


def records(db: Path) -> tuple[list[Any], list[Any], list[Any]]:
    """The store's organisations, hazard areas and activities, each sorted by id."""
    with open_store(db) as store:
        return (sorted(store.organisations(), key=lambda o: o.id), sorted(store.hazards(), key=lambda h: h.id),
                sorted(store.activities(), key=lambda a: a.id))


def same_register(a: Path, b: Path) -> None:
    """Two stores hold equal records with the same IMSMA ids and links, geometry to the bit."""
    ra, rb = records(a), records(b)
    assert ra == rb
    for got, want in zip(ra, rb, strict=True):
        assert imsma_values(got) == imsma_values(want)
    for got_h, want_h in zip(ra[1], rb[1], strict=True):
        assert geometries_equal(got_h.geometry, want_h.geometry)


def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    finally:
        book.close()


def layers(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every layer's features: attributes, and geometry as WKB."""
    out = {}
    for name, geometry_type in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name, read_geometry=geometry_type is not None)
        rows = frame.drop(columns="geometry", errors="ignore").astype(object).to_dict("records")
        if geometry_type is not None:
            for row, geom in zip(rows, frame.geometry, strict=True):
                row["geometry"] = None if geom is None else shapely.to_wkb(geom)
        out[str(name)] = rows
    return out


def without_history(path: Path) -> None:
    """Empty the hazard table's columns that come from the land-release history (export only: the history does
    not travel), in place in a CSV folder."""
    with open(path / "hazard_area.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row.update({c: "" for c in HISTORY_COLUMNS})
    with open(path / "hazard_area.csv", "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def same_file(fmt: str, a: Path, b: Path) -> None:
    """``a`` and ``b`` hold the same exchange: CSV files byte for byte, XLSX cells, GeoPackage features."""
    if fmt == "csv":
        for name in RECORD_TYPES:
            assert filecmp.cmp(a / f"{name}.csv", b / f"{name}.csv", shallow=False), name
    elif fmt == "xlsx":
        assert cells(a) == cells(b)
    else:
        assert str(layers(a)) == str(layers(b))  # str: NaN == NaN


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_store(tmp_path / "a.gpkg")


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_import_export_round_trip(tmp_path: Path, db: Path, fmt: str) -> None:
    """Export, import into a fresh store, export again: the same records in the store (IMSMA ids, kept links,
    benchmarks, beneficiaries by sex and age, device quantity/fuze/disposal) and the same file."""
    first, second = tmp_path / f"1-{FORMATS[fmt]}", tmp_path / f"2-{FORMATS[fmt]}"
    with open_store(db) as store:
        exported = export_imsma(store, first)
    with open_store(tmp_path / "b.gpkg", create=True) as fresh:
        summary = import_imsma(fresh, first)
        again = export_imsma(fresh, second)
    assert summary.counts == exported.counts == again.counts
    assert (exported.counts.organisations, exported.counts.hazards, exported.counts.activities,
            exported.counts.devices) == (4, 4, 6, 3)
    assert summary.notes == [] and summary.kept_organisations == []
    same_register(tmp_path / "b.gpkg", db)
    same_file(fmt, first, second)
    assert [g.line() for g in exported.gaps] == [g.line() for g in again.gaps]


START = dt.datetime(2025, 8, 1, 9, 0, tzinfo=dt.UTC)
CHA = box(X0, Y0, 2 * 0.004, 0.004)
# each outcome a little larger than its half, so that no sliver is left between them (the excess is clipped off)
WEST = box(X0 - 1e-6, Y0 - 1e-6, 0.004 + 1e-6, 0.004 + 2e-6)
EAST = box(X0 + 0.004 - 1e-6, Y0 - 1e-6, 0.004 + 2e-6, 0.004 + 2e-6)


@pytest.fixture
def with_history(tmp_path: Path) -> Path:
    """A register whose one CHA went through TS, clearance with devices, a passed inspection and acceptance (by the
    land-release service, so its history holds every event), beside the exchange test register."""
    db = make_store(tmp_path / "h.gpkg")
    with open_store(db) as store:
        with store.write() as uow:
            uow.add_hazards([HazardArea("H-9", HazardClass.CHA, CHA, Evidence.DIRECT,
                                        frozenset({DeviceCategory.AP_MINE}), LandUse.AGRICULTURAL,
                                        organisation_id="ORG-A", benchmark=Point(X0 - 0.001, Y0 - 0.001),
                                        beneficiaries_sadd=Beneficiaries(3, 4, 1, 2, 40, 38, 11, 9),
                                        beneficiaries=108, imsma_links=("accident_71",))])
        lr.record_activity(store, Activity("A-91", "H-9", ActivityType.TS, ActivityStatus.COMPLETED, "ORG-A",
                                           Method.MECHANICAL, START.date(), START.date(), reduced=WEST,
                                           benchmark=Point(X0 - 0.001, Y0 - 0.001)),
                           actor="team 3", reason="TS report", at=START)
        devices = (DeviceFound(Point(X0 + 0.005, Y0 + 0.001), DeviceCategory.AP_MINE, "PMN-2", DeviceCondition.ARMED,
                               8.0, quantity=2, fuze="MUV", disposal=Disposal.DESTROYED_IN_PLACE,
                               disposal_date=dt.date(2025, 8, 9)),
                   DeviceFound(Point(X0 + 0.006, Y0 + 0.002), DeviceCategory.AT_MINE, "TM-62", DeviceCondition.ARMED,
                               20.0, disposal=Disposal.MOVED, imsma_links=("victim_5",)))
        lr.record_activity(store, Activity("A-92", "H-9", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, "ORG-A",
                                           Method.MANUAL, dt.date(2025, 8, 5), dt.date(2025, 8, 12), cleared=EAST,
                                           clearance_depth_cm=20.0, devices=devices,
                                           benchmark=Point(X0 - 0.001, Y0 - 0.001)),
                           actor="team 3", reason="completion report", at=START + dt.timedelta(days=11))
        lr.inspect(store, "H-9", Inspection("I-9", dt.date(2025, 8, 20), 800.0, True, "NMAA QA"), actor="qa",
                   reason="post-clearance inspection", at=START + dt.timedelta(days=19))
        lr.accept(store, "H-9", authority="Kursk NMAA", actor="nmaa", reason="acceptance 12",
                  at=START + dt.timedelta(days=21))
    return db


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_register_with_land_release_history_and_devices_round_trips(tmp_path: Path, with_history: Path,
                                                                      fmt: str) -> None:
    """The released CHA, its TS and clearance (clipped outcomes, benchmarks, two devices with their stable IMSMA
    ids) come back equal; the export carries the inspection and the acceptance from the history; a second export
    of the imported register is the same file but for those history columns (the history does not travel)."""
    first, second = tmp_path / f"1-{FORMATS[fmt]}", tmp_path / f"2-{FORMATS[fmt]}"
    with open_store(with_history) as store:
        export_imsma(store, first)
        (h9,) = [h for h in store.hazards() if h.id == "H-9"]
        (a92,) = [a for a in store.activities() if a.id == "A-92"]
    assert h9.status.value == "closed" and [d.imsma_id for d in a92.devices][1].startswith("device_")
    with open_store(tmp_path / "b.gpkg", create=True) as fresh:
        import_imsma(fresh, first)
        export_imsma(fresh, second)
    same_register(tmp_path / "b.gpkg", with_history)
    if fmt == "csv":
        with open(first / "hazard_area.csv", encoding="utf-8-sig", newline="") as f:
            row = next(r for r in csv.DictReader(f) if r["hazard_id"] == "H-9")
        assert (row["inspection_date"], row["inspection_result"], row["accepted_by"], row["acceptance_date"]) == (
            "2025-08-20", "Passed", "Kursk NMAA", "2025-08-22")
        assert row["status"] == "Closed" and row["imsma_links"].endswith("accident_71")
        without_history(first)
        same_file(fmt, first, second)
    else:
        with open_store(tmp_path / "b.gpkg") as fresh:
            export_imsma(fresh, tmp_path / f"3-{FORMATS[fmt]}")
        same_file(fmt, second, tmp_path / f"3-{FORMATS[fmt]}")


def test_a_faulty_file_writes_nothing_and_names_every_fault(tmp_path: Path, db: Path) -> None:
    """One bad row among good ones: the import raises with every fault by record and column; the store is as it was."""
    folder = tmp_path / "x"
    with open_store(db) as store:
        export_imsma(store, folder)
    with open(folder / "hazard_area.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[1]["type_of_area"] = "Maybe"
    rows[2]["beneficiaries"] = "lots"
    with open(folder / "hazard_area.csv", "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    target = tmp_path / "b.gpkg"
    with open_store(target, create=True) as fresh:
        before = fresh.counts()
        with pytest.raises(ValidationError) as caught:
            import_imsma(fresh, folder)
        assert fresh.counts() == before
    faults = {(f.record, f.field) for f in caught.value.faults}
    # H-2's activity A-4 is linked to a hazard the import refused: it is refused too
    assert faults == {("hazard area H-2", "type_of_area"), ("hazard area H-3", "beneficiaries"),
                      ("value map", None)}
    assert "hazard_area.csv row 3" in str(caught.value)


def test_store_faults_write_nothing_either(tmp_path: Path, db: Path) -> None:
    """A file sound in itself but naming ids or IMSMA ids the store has is refused whole."""
    path = tmp_path / "x.xlsx"
    extra = HazardArea("H-NEW", hazards()[0].hazard_class, hazards()[0].geometry, hazards()[0].evidence,
                       imsma_id="hazard_poly_146")  # H-2's
    write_imsma(path, [], [hazards()[0], extra], [])
    with open_store(db) as store:
        before = store.counts()
        with pytest.raises(ValidationError) as caught:
            import_imsma(store, path)
        assert store.counts() == before
    assert {(f.record, f.field) for f in caught.value.faults} == {
        ("hazard area H-1", "hazard_id"),  # already in the store
        ("hazard area H-1", "imsma_id"),  # and so is its IMSMA id
        ("hazard area H-NEW", "imsma_id"),  # the IMSMA id of another stored area
    }
    assert "imsma_id hazard_poly_146 is already the IMSMA id of hazard area H-2 in the store" in str(caught.value)


def test_records_may_link_to_what_the_store_already_holds(tmp_path: Path) -> None:
    """Activities for a stored hazard, by a stored organisation, import on their own through the IMSMA ids the store
    holds; stored organisations are kept."""
    db = tmp_path / "a.gpkg"
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("ORG-A", "Operator A (as stored)", OrgKind.OPERATOR,
                                            imsma_id="organization_2")])
        uow.add_hazards([h for h in hazards() if h.id == "H-1"])
    only = [a for a in activities() if a.hazard_id == "H-1"]
    write_imsma(tmp_path / "x", [o for o in organisations() if o.id == "ORG-A"],
                [h for h in hazards() if h.id == "H-1"], only)
    (tmp_path / "x" / "hazard_area.csv").unlink()  # the activities link to hazard_poly_145, which the store holds
    with open_store(db) as store:
        summary = import_imsma(store, tmp_path / "x")
        assert sorted(store.activities(), key=lambda a: a.id) == only
        assert imsma_values(sorted(store.activities(), key=lambda a: a.id)) == imsma_values(only)
        assert store.organisations() == [Organisation("ORG-A", "Operator A (as stored)", OrgKind.OPERATOR)]
    assert (summary.counts.organisations, summary.counts.activities, summary.counts.devices) == (0, 3, 2)
    assert summary.kept_organisations == ["ORG-A"]
    assert any("kept the store's" in n for n in summary.notes)


def test_a_programme_value_map_is_used_both_ways(tmp_path: Path, db: Path) -> None:
    """Exported with a programme's IMSMA value names and imported with the same profile, the register is the same;
    imported without it, the programme's names are refused, listed with their counts."""
    profile = ImportProfile(values={"activity_type": {"Survey (non-technical)": "NTS", "Area clearance": "clearance"},
                                    "status": {"Active": "Ongoing"}})
    with open_store(db) as store:
        export_imsma(store, tmp_path / "x", profile=profile)
    with open(tmp_path / "x" / "activity.csv", encoding="utf-8-sig", newline="") as f:
        assert {r["activity_id"]: r["activity_type"] for r in csv.DictReader(f)}["A-1"] == "Survey (non-technical)"
    with open_store(tmp_path / "b.gpkg", create=True) as fresh:
        with pytest.raises(ValidationError) as caught:
            import_imsma(fresh, tmp_path / "x")
        assert "activity_type 'Area clearance' ×2, activity_type 'Survey (non-technical)' ×1" in \
            caught.value.faults[-1].reason
        import_imsma(fresh, tmp_path / "x", profile=profile)
    same_register(tmp_path / "b.gpkg", db)
    with open_store(db) as store, pytest.raises(ValidationError, match="not one of"):
        export_imsma(store, tmp_path / "y", profile=ImportProfile(values={"status": {"X": "gone"}}))
    with open_store(db) as store, pytest.raises(ValidationError, match=r"only a profile's \[values.COLUMN\]"):
        export_imsma(store, tmp_path / "y", profile=ImportProfile(columns={"id": "fileId"}))


def test_export_will_not_write_into_a_store(tmp_path: Path, db: Path) -> None:
    """Exporting onto the store itself or into another sapper store is refused; that store is untouched."""
    other = make_store(tmp_path / "other.gpkg")
    before = other.read_bytes()
    with open_store(db) as store:
        for target in (db, other):
            with pytest.raises(ValidationError, match="store"):
                export_imsma(store, target)
    assert other.read_bytes() == before


def test_cli_export_then_import_and_every_fault_on_stderr(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """sapper export imsma / import imsma: counts and each record's missing MDR items on stdout; a second import
    exits 2 with one line per fault; --value gives a programme's value name both ways."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(monkeypatch, capsys, "export", "imsma", "x.xlsx", "--db", db)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "exported 4 organisations, 4 hazard areas, 6 activities, 3 devices found to x.xlsx (xlsx)"
    assert lines[1].endswith("records lack GICHD MDR items (written all the same):")
    assert "MDR: hazard area H-2 (hazard_poly_146) lacks benchmark (Graphic Location/Benchmark), category of " \
           "devices suspected or confirmed, beneficiaries by sex and age" in lines
    assert len(lines) == 2 + int(lines[1].split()[0])
    with open_store(tmp_path / "b.gpkg", create=True):
        pass
    code, out, err = run(monkeypatch, capsys, "import", "imsma", "x.xlsx", "--db", "b.gpkg")
    assert code == 0, err
    assert out.splitlines()[0] == "imported 4 organisations, 4 hazard areas, 6 activities, 3 devices found from " \
                                  "x.xlsx (xlsx)"
    code, out, err = run(monkeypatch, capsys, "import", "imsma", "x.xlsx", "--db", "b.gpkg")
    assert code == 2
    lines = err.splitlines()
    # 4 hazard areas and 6 activities by id and by IMSMA id, 3 devices by IMSMA id
    assert len([line for line in lines if line.startswith("fault: ")]) == 23
    assert "fault: activity A-6.activity_id: is already in the store" in err
    assert lines[-1] == "sapper: error [validation_error]: IMSMA import of x.xlsx: 23 faults (listed above); " \
                        "nothing was changed"
    code, out, err = run(monkeypatch, capsys, "export", "imsma", "x.csv", "--db", db)
    assert code == 2 and "give a .xlsx workbook" in err
    code, out, err = run(monkeypatch, capsys, "export", "imsma", "v", "--db", db, "--value",
                         "activity_type:EOD task=EOD")
    assert code == 0, err
    with open(tmp_path / "v" / "activity.csv", encoding="utf-8-sig", newline="") as f:
        assert {r["activity_id"]: r["activity_type"] for r in csv.DictReader(f)}["A-6"] == "EOD task"
    with open_store(tmp_path / "c.gpkg", create=True):
        pass
    code, out, err = run(monkeypatch, capsys, "import", "imsma", "v", "--db", "c.gpkg")
    assert code == 2 and "activity_type 'EOD task' ×1" in err
    code, out, err = run(monkeypatch, capsys, "import", "imsma", "v", "--db", "c.gpkg", "--value",
                         "activity_type:EOD task=EOD")
    assert code == 0, err
