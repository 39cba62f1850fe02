"""`sapper export plan`: one row per lot with unit, task kind, method, dates, the area's release and the asset's
restoration, and the site's geometry, as GeoPackage, CSV and XLSX; errors in one line.

Uses the hand-built, planned register of ``test_replan``.
"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
from pathlib import Path

import openpyxl
import pyogrio
import pytest
import shapely

from sapper.errors import NotFoundError, ValidationError
from sapper.scenario.compile import WORK_KINDS, TaskKind
from sapper.services.planexport import COLUMNS, export_plan
from sapper.store import open_store
from tests.services.test_replan import SAPPER, _plan, db, planned

__all__ = ["db", "planned"]  # the fixtures of test_replan, used here


def test_geopackage_has_one_feature_per_lot_with_its_site_and_dates(db: Path, tmp_path: Path) -> None:
    """Every work lot of the plan is one feature: hazard lots carry the area's polygon and its release date, repair
    lots the asset's geometry and its restoration date (after the release of the area its road crosses)."""
    run = _plan(db)
    with open_store(db) as store:
        done = export_plan(store, tmp_path / "plan.gpkg")
        hazards = {h.id: h for h in store.hazards()}
    lots = [t for t in run.tasks if t.kind in WORK_KINDS]
    assert done.rows == len(lots) and done.without_geometry == 0 and done.plan_id == run.id
    frame = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="plan_lots")
    assert list(frame.columns) == [*COLUMNS, "geometry"]
    assert sorted(frame["task_id"]) == sorted(t.task_id for t in lots)
    released = {t.hazard_id: t.end_date for t in run.tasks if t.kind is TaskKind.RELEASED}
    restored = {t.asset_id: t.end_date for t in run.tasks if t.kind is TaskKind.RESTORED}
    for row in frame.itertuples():
        lot = next(t for t in lots if t.task_id == row.task_id)
        assert (row.unit_id, row.method, row.task_kind) == (lot.unit_id, lot.mode, lot.kind.value)
        assert (row.start_date, row.end_date) == (lot.start_date.isoformat(), lot.end_date.isoformat())
        if lot.hazard_id:
            assert row.area_release_date == released[lot.hazard_id].isoformat()
            assert row.geometry.equals(hazards[lot.hazard_id].geometry)
        else:
            assert row.asset_restoration_date == restored[lot.asset_id].isoformat()
            assert row.geometry.geom_type in ("Point", "LineString")
    road = frame[frame["task_id"] == "repair A-1 road/1"].iloc[0]
    assert dt.date.fromisoformat(road["asset_restoration_date"]) > released["H-1"]  # A-1 waits for H-1


def test_csv_and_xlsx_hold_the_same_rows_with_wkt(db: Path, tmp_path: Path) -> None:
    """The CSV file and the workbook hold the same lots and columns, the geometry as WKT, the operator of each team."""
    with open_store(db) as store:
        export_plan(store, tmp_path / "plan.csv")
        export_plan(store, tmp_path / "plan.xlsx")
    with open(tmp_path / "plan.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    sheet = openpyxl.load_workbook(tmp_path / "plan.xlsx", read_only=True)["plan_lots"]
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == list(rows[0]) == [*COLUMNS, "wkt"]
    assert [r["task_id"] for r in rows] == [c[1] for c in cells[1:]]
    survey = next(r for r in rows if r["task_id"] == "nts H-1/1")
    assert survey["organisation_id"] == "op-1" and survey["synthetic"] == "false"
    assert shapely.from_wkt(survey["wkt"]).geom_type == "Polygon"


def test_generalised_footprints_cover_the_areas_and_hide_their_vertices(db: Path, tmp_path: Path) -> None:
    """With generalise the hazard geometry is the 100 m footprint: it covers the polygon, and is not it."""
    with open_store(db) as store:
        export_plan(store, tmp_path / "plan.gpkg", generalise=True)
        h1 = store.hazard("H-1").geometry
    frame = pyogrio.read_dataframe(tmp_path / "plan.gpkg")
    geom = frame[frame["task_id"] == "nts H-1/1"].iloc[0].geometry
    assert geom.buffer(1e-9).covers(h1) and not geom.equals(h1)


def test_export_errors(db: Path, tmp_path: Path) -> None:
    """An unknown suffix, the store itself, an unknown plan run: refused, nothing written; no plan: not found."""
    with open_store(db) as store:
        with pytest.raises(ValidationError, match=r"give a \.gpkg, \.csv or \.xlsx"):
            export_plan(store, tmp_path / "plan.txt")
        with pytest.raises(ValidationError, match="the store itself"):
            export_plan(store, db)
        with pytest.raises(NotFoundError):
            export_plan(store, tmp_path / "plan.csv", plan_id=999)
    assert [p.name for p in tmp_path.iterdir()] == ["register.gpkg"]
    empty = tmp_path / "empty.gpkg"
    with open_store(empty, create=True) as store, pytest.raises(NotFoundError, match="run sapper plan first"):
        export_plan(store, tmp_path / "plan.csv")


def test_cli_export_plan(db: Path, tmp_path: Path) -> None:
    """`sapper export plan` says what it wrote and that the polygons are exact; a bad suffix exits 2 in one line."""
    proc = subprocess.run([SAPPER, "export", "plan", str(tmp_path / "plan.xlsx"), "--db", str(db)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "lots of plan run" in proc.stdout and "exact hazard polygons" in proc.stdout
    bad = subprocess.run([SAPPER, "export", "plan", str(tmp_path / "plan.shp"), "--db", str(db)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1



def test_each_lot_carries_its_cost(db: Path, tmp_path: Path) -> None:
    """The cost columns are each lot's price as sapper costs gives it; they add up to the plan's total."""
    from sapper.io.pricing import load_pricing
    from sapper.services.costs import plan_costs

    with open_store(db) as store:
        export_plan(store, tmp_path / "lots.csv")
        total = plan_costs(store, load_pricing()).total
    with open(tmp_path / "lots.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["currency"] for r in rows} == {"USD"}
    assert sum(float(r["cost"]) for r in rows) == pytest.approx(total, abs=0.01 * len(rows))
    assert all(float(r["cost"]) >= float(r["direct_cost"]) > 0 for r in rows)
