"""Importing a workforce table, and planning a store built only from files (init → import ×3 → plan)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import LineString, box

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import Method, Trade
from sapper.errors import ImportFileError
from sapper.io import write_assets, write_hazards
from sapper.services.imports import ImportSummary, import_workforce
from sapper.store import open_store

SAPPER = str(Path(sys.executable).with_name("sapper"))
HEADER = "id,kind,organisation_id,method,trade,size,base_lon,base_lat,productivity_m2_per_day,colour\n"
GOOD = (
    "T-1,team,op-a,manual,,8,35.3,51.5,,red\n"
    "T-2,team,op-a,survey,,6,35.3,51.5,900,\n"
    "B-1,brigade,con-b,,road,25,35.2,51.6,,\n"
)
BAD = (
    "T-1,team,op-a,dog,,6,35.3,51.5,,\n"
    "T-9,team,op-a,laser,,6,35.3,51.5,,\n"
    "B-9,brigade,con-b,,road,0,35.2,251.6,,\n"
    "X-1,crew,op-a,,,5,35.2,51.6,,\n"
)


def _sapper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SAPPER, *args], capture_output=True, text=True, timeout=120, check=False)


def _import(db: Path, csv: Path) -> ImportSummary:
    """``import_workforce`` into the store at ``db``, opened for the one import."""
    with open_store(db) as opened:
        return import_workforce(opened, csv)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "s.gpkg"
    assert _sapper("init", "--db", str(db)).returncode == 0
    return db


def test_rows_imported_and_bad_rows_rejected_with_reasons(store: Path, tmp_path: Path) -> None:
    """Good rows become teams and brigades (default productivity from the figures); bad rows are named with why."""
    csv = tmp_path / "wf.csv"
    csv.write_text(HEADER + GOOD + BAD, encoding="utf-8")
    summary = _import(store, csv)
    assert summary.imported == 3
    reasons = {issue.id: issue.reason for issue in summary.rejected}
    assert reasons.keys() == {"T-1", "T-9", "B-9", "X-1"}
    assert "earlier in the file" in reasons["T-1"]
    assert "laser" in reasons["T-9"]
    assert "size" in reasons["B-9"] and "WGS84" in reasons["B-9"]
    assert "crew" in reasons["X-1"]
    assert summary.ignored_columns == ["colour"]
    with open_store(store) as s:
        teams = {t.id: t for t in s.teams()}
        assert {o.id for o in s.organisations()} == {"op-a", "con-b"}
        assert [b.trade for b in s.brigades()] == [Trade.ROAD]
    assert teams["T-1"].method is Method.MANUAL and teams["T-1"].productivity_m2_per_day == 180.0
    assert teams["T-2"].productivity_m2_per_day == 900.0


def test_second_import_changes_nothing(store: Path, tmp_path: Path) -> None:
    """Importing the same table twice imports nothing the second time; --strict then exits 2."""
    csv = tmp_path / "wf.csv"
    csv.write_text(HEADER + GOOD, encoding="utf-8")
    assert _import(store, csv).imported == 3
    with open_store(store) as s:
        before = s.counts()
    proc = _sapper("import", "workforce", str(csv), "--db", str(store), "--strict")
    assert proc.returncode == 2
    assert "imported 0" in proc.stdout and proc.stdout.count("already exists") == 3
    with open_store(store) as s:
        assert s.counts() == before


def test_missing_column_refuses_the_file(store: Path, tmp_path: Path) -> None:
    """A table without a required column is refused whole, naming the column; nothing is written."""
    csv = tmp_path / "wf.csv"
    csv.write_text("id,kind,organisation_id,size,base_lon\nT-1,team,op,8,35\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="base_lat"):
        _import(store, csv)
    with open_store(store) as s:
        assert s.counts()["teams"] == 0


def test_store_built_from_files_can_be_planned(store: Path, tmp_path: Path) -> None:
    """Hazards, assets and workforce from files give a plan in which the road is repaired after its land is released."""
    hazards = [
        HazardArea("H-1", HazardClass.CHA, box(35.000, 51.000, 35.004, 51.003), Evidence.DIRECT,
                   expected_clearance_share=0.5),
        HazardArea("H-2", HazardClass.SHA, box(35.050, 51.050, 35.052, 51.052), Evidence.INDIRECT),
    ]
    assets = [
        Asset("A-1", AssetType.ROAD, LineString([(34.99, 51.0015), (35.01, 51.0015)]), DamageLevel.MODERATE,
              {Trade.ROAD: 200.0}, criticality=5),
        Asset("A-2", AssetType.ROAD, LineString([(35.2, 51.2), (35.21, 51.2)]), DamageLevel.LIGHT,
              {Trade.ROAD: 100.0}, criticality=2),
    ]
    write_hazards(tmp_path / "h.geojson", hazards)
    write_assets(tmp_path / "a.geojson", assets)
    (tmp_path / "wf.csv").write_text(HEADER + GOOD, encoding="utf-8")
    for kind, name in (("hazards", "h.geojson"), ("assets", "a.geojson"), ("workforce", "wf.csv")):
        proc = _sapper("import", kind, str(tmp_path / name), "--db", str(store), "--strict")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _sapper("plan", "--db", str(store), "--time-limit", "5", "--json", "--out", str(tmp_path / "p.json"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert doc["status"] in ("optimal", "feasible")
    assert doc["lower_bound"] <= doc["objective"] <= doc["baseline_objective"]
    released = {t["hazard_id"]: t["end_date"] for t in doc["tasks"] if t["kind"] == "released"}
    repairs = [t for t in doc["tasks"] if t["kind"] == "repair" and t["asset_id"] == "A-1"]
    assert repairs and all(t["start_date"] > released["H-1"] for t in repairs)
    assert all(t["unit_id"] for t in doc["tasks"] if t["kind"] in ("survey", "clearance", "repair"))


def test_a_capabilities_column_names_further_methods_and_trades(store: Path, tmp_path: Path) -> None:
    """``capabilities`` (``;``, ``,``, ``|`` or spaces between values) names a team's further methods and a brigade's
    further trades; an empty cell keeps the default; an unknown value rejects the row naming it."""
    csv = tmp_path / "wf.csv"
    csv.write_text("id,kind,organisation_id,method,trade,size,base_lon,base_lat,capabilities\n"
                   "T-1,team,op-a,manual,,8,35.3,51.5,\"manual;survey;dog\"\n"
                   "T-2,team,op-a,survey,,6,35.3,51.5,\n"
                   "T-3,team,op-a,manual,,8,35.3,51.5,mechanical|survey\n"
                   "T-4,team,op-a,manual,,8,35.3,51.5,dog;laser\n"
                   "B-1,brigade,con-b,,road,25,35.2,51.6,bridge water\n", encoding="utf-8")
    summary = _import(store, csv)
    assert summary.imported == 4
    assert [(i.id, i.reason) for i in summary.rejected] == [
        ("T-4", "unknown capabilities 'laser' (accepted: survey, manual, dog, mechanical, bac)")]
    with open_store(store) as opened:
        teams = {t.id: t for t in opened.teams()}
        brigades = {b.id: b for b in opened.brigades()}
    assert teams["T-1"].methods == {Method.MANUAL, Method.SURVEY, Method.DOG}
    assert teams["T-2"].capabilities == frozenset() and teams["T-2"].methods == {Method.SURVEY, Method.MANUAL}
    assert teams["T-3"].methods == {Method.MANUAL, Method.MECHANICAL, Method.SURVEY}
    assert brigades["B-1"].all_trades == {Trade.ROAD, Trade.BRIDGE, Trade.WATER}
