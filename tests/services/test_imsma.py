"""IMSMA exchange with a store: export → import into a fresh store → export again gives the same records, in every
format; an import with any fault (in the file or against the store) writes nothing; the CLI reports every fault."""

from __future__ import annotations

import csv
import filecmp
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
import shapely

from sapper.domain.hazards import HazardArea
from sapper.domain.resources import Organisation, OrgKind
from sapper.errors import ValidationError
from sapper.io.imsma import RECORD_TYPES, write_imsma
from sapper.services.imsma import export_imsma, import_imsma
from sapper.store import open_store
from tests.cli.entry import run
from tests.io.imsma_records import activities, geometries_equal, hazards, make_store, organisations

FORMATS = {"csv": "exchange", "xlsx": "exchange.xlsx", "gpkg": "exchange.gpkg"}


def records(db: Path) -> tuple[list[Any], list[Any], list[Any]]:
    """The store's organisations, hazard areas and activities, each sorted by id."""
    with open_store(db) as store:
        return (sorted(store.organisations(), key=lambda o: o.id), sorted(store.hazards(), key=lambda h: h.id),
                sorted(store.activities(), key=lambda a: a.id))


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
    """Export, import into a fresh store, export again: the same records in the store and the same file."""
    first, second = tmp_path / f"1-{FORMATS[fmt]}", tmp_path / f"2-{FORMATS[fmt]}"
    with open_store(db) as store:
        exported = export_imsma(store, first)
    with open_store(tmp_path / "b.gpkg", create=True) as fresh:
        summary = import_imsma(fresh, first)
        again = export_imsma(fresh, second)
    assert summary.counts == exported == again
    assert (exported.organisations, exported.hazards, exported.activities, exported.devices) == (4, 4, 6, 3)
    assert summary.notes == [] and summary.kept_organisations == []
    assert records(tmp_path / "b.gpkg") == records(db)
    for got, want in zip(records(tmp_path / "b.gpkg")[1], records(db)[1], strict=True):
        assert geometries_equal(got.geometry, want.geometry)
    same_file(fmt, first, second)


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
    assert faults == {("hazard area H-2", "type_of_area"), ("hazard area H-3", "beneficiaries")}
    assert "hazard_area.csv row 3" in str(caught.value)


def test_store_faults_write_nothing_either(tmp_path: Path, db: Path) -> None:
    """A file sound in itself but naming ids the store has, or records in neither, is refused whole."""
    path = tmp_path / "x.xlsx"
    extra = HazardArea("H-NEW", hazards()[0].hazard_class, hazards()[0].geometry, hazards()[0].evidence,
                       organisation_id="ORG-NOWHERE")
    write_imsma(path, [], [hazards()[0], extra], [])
    with open_store(db) as store:
        before = store.counts()
        with pytest.raises(ValidationError) as caught:
            import_imsma(store, path)
        assert store.counts() == before
    assert {(f.record, f.field) for f in caught.value.faults} == {
        ("hazard area H-1", "hazard_id"),  # already in the store
        ("hazard area H-NEW", "organisation"),  # in neither the file nor the store
    }
    assert "ORG-NOWHERE is neither in this file nor in the store" in str(caught.value)


def test_records_may_link_to_what_the_store_already_holds(tmp_path: Path) -> None:
    """Activities for a stored hazard, by a stored organisation, import on their own; stored organisations are kept."""
    db = tmp_path / "a.gpkg"
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("ORG-A", "Operator A (as stored)", OrgKind.OPERATOR)])
        uow.add_hazards([h for h in hazards() if h.id == "H-1"])
    only = [a for a in activities() if a.hazard_id == "H-1"]
    write_imsma(tmp_path / "x.gpkg", [o for o in organisations() if o.id == "ORG-A"], [], only)
    with open_store(db) as store:
        summary = import_imsma(store, tmp_path / "x.gpkg")
        assert sorted(store.activities(), key=lambda a: a.id) == only
        assert store.organisations() == [Organisation("ORG-A", "Operator A (as stored)", OrgKind.OPERATOR)]
    assert (summary.counts.organisations, summary.counts.activities, summary.counts.devices) == (0, 3, 2)
    assert summary.kept_organisations == ["ORG-A"]
    assert any("kept the store's" in n for n in summary.notes)


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
    """sapper export imsma / import imsma: counts on stdout; a second import exits 2 with one line per fault."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(monkeypatch, capsys, "export", "imsma", "x.xlsx", "--db", db)
    assert code == 0, err
    assert out.strip() == "exported 4 organisations, 4 hazard areas, 6 activities, 3 devices found to x.xlsx (xlsx)"
    with open_store(tmp_path / "b.gpkg", create=True):
        pass
    code, out, err = run(monkeypatch, capsys, "import", "imsma", "x.xlsx", "--db", "b.gpkg")
    assert code == 0, err
    assert out.splitlines()[0] == "imported 4 organisations, 4 hazard areas, 6 activities, 3 devices found from " \
                                  "x.xlsx (xlsx)"
    code, out, err = run(monkeypatch, capsys, "import", "imsma", "x.xlsx", "--db", "b.gpkg")
    assert code == 2
    lines = err.splitlines()
    assert len([line for line in lines if line.startswith("fault: ")]) == 10  # 4 hazard areas, 6 activities
    assert "fault: activity A-6.activity_id: is already in the store" in err
    assert lines[-1] == "sapper: error [validation_error]: IMSMA import of x.xlsx: 10 faults (listed above); " \
                        "nothing was changed"
    code, out, err = run(monkeypatch, capsys, "export", "imsma", "x.csv", "--db", db)
    assert code == 2 and "give a .xlsx workbook" in err
