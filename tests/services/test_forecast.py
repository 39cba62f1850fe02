"""Forecasting the store's latest plan: dates in order, reproducible for a seed, learning from reported progress,
clear errors without a plan, and `sapper forecast`."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.fielddata import StagingState, Submission, SubmissionSource
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.errors import NotFoundError, PlanError
from sapper.plan import Engine
from sapper.services.fielddata import apply_approved
from sapper.services.forecast import forecast_document, forecast_plan
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store
from tests.cli.entry import run

BASE = Point(35.0, 50.0)
START = dt.date(2025, 6, 2)
AT = dt.datetime(2025, 8, 1, 7, 0, tzinfo=dt.UTC)


def _register(db: Path) -> None:
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR),
                               Organisation("con-1", "Builder", OrgKind.CONTRACTOR)])
        uow.add_hazards([
            HazardArea("H-1", HazardClass.CHA, shapely.box(35.100, 50.100, 35.104, 50.102), Evidence.DIRECT),
            HazardArea("H-2", HazardClass.CHA, shapely.box(35.110, 50.100, 35.116, 50.103), Evidence.DIRECT),
            HazardArea("H-3", HazardClass.SHA, shapely.box(35.120, 50.100, 35.121, 50.101), Evidence.INDIRECT),
        ])
        uow.add_assets([
            Asset("A-1", AssetType.ROAD, LineString([(35.099, 50.1005), (35.105, 50.1005)]), DamageLevel.SEVERE,
                  {Trade.ROAD: 200.0}, criticality=5, people_served=2000),
            Asset("A-2", AssetType.HOUSE, Point(35.1205, 50.1005), DamageLevel.MODERATE, {Trade.BUILDING: 60.0}),
        ])
        uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 5000.0),
                       DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0),
                       DeminerTeam("T-MAN-2", "op-1", Method.MANUAL, 8, BASE, 300.0)])
        uow.add_brigades([BuilderBrigade("B-ROAD-1", "con-1", Trade.ROAD, 10, BASE),
                          BuilderBrigade("B-BLD-1", "con-1", Trade.BUILDING, 10, BASE)])
        uow.set_meta({"start_date": START.isoformat()})


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built store with one greedy plan."""
    db = tmp_path_factory.mktemp("forecast") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned, tmp_path / "register.gpkg"))


def _slow_clearance(db: Path, factor: float, days: int = 40) -> None:
    """``days`` working days of clearance reports by both manual teams at ``factor`` of their planned rate."""
    with open_store(db) as store, store.write() as uow:
        day = START
        for n in range(days):
            for team in ("T-MAN-1", "T-MAN-2"):
                instance = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{db}-{team}-{n}')}"
                fields = {"work_date": day.isoformat(), "hazard_id": "H-2", "team_id": team,
                          "cleared_m2": f"{300.0 * factor:.2f}", "clearance_depth_cm": "13", "devices_found": "no"}
                sub = Submission(SubmissionSource.ODK_CENTRAL, "sapper_clearance", instance, instance, fields=fields)
                staged = uow.field_staging.stage(sub, kind="clearance", source_file="test", actor="t", at=AT)
                uow.field_staging.transition(staged.staged_id, StagingState.REVIEWED, actor="t", reason="", at=AT)
                uow.field_staging.transition(staged.staged_id, StagingState.APPROVED, actor="t", reason="", at=AT)
            day += dt.timedelta(days=2 if day.weekday() == 5 else 1)
    with open_store(db) as store:
        assert not apply_approved(store, actor="t", at=AT).faults


def test_forecast_gives_ordered_dates_for_region_areas_and_assets(db: Path) -> None:
    """Overall, per-area and per-asset P10 ≤ P50 ≤ P80 ≤ P90, all on or after the start; runs and seed recorded."""
    with open_store(db) as store:
        f = forecast_plan(store, runs=400, seed=3)
    assert (f.runs, f.seed) == (400, 3) and f.seconds > 0
    for p in (f.overall, *(a.release for a in f.areas), *(a.restoration for a in f.assets)):
        assert START <= p.p10 <= p.p50 <= p.p80 <= p.p90
    assert {a.hazard_id for a in f.areas} == {"H-1", "H-2", "H-3"}
    assert {a.asset_id for a in f.assets} == {"A-1", "A-2"}
    assert f.overall.p90 >= max(a.restoration.p90 for a in f.assets)
    doc = forecast_document(f)
    assert set(doc["overall"]) == {"p10", "p50", "p80", "p90"}
    assert doc["runs"] == 400 and doc["seed"] == 3


def test_same_seed_same_forecast(db: Path) -> None:
    """Two forecasts with one seed agree date for date."""
    with open_store(db) as store:
        a = forecast_plan(store, runs=200, seed=9)
        b = forecast_plan(store, runs=200, seed=9)
    assert a.overall == b.overall and a.assets == b.assets


def test_slow_progress_moves_the_forecast_later(db: Path) -> None:
    """Forty days of clearance at half the planned rate lower the manual factor and move the P50 later."""
    with open_store(db) as store:
        before = forecast_plan(store, runs=400, seed=1)
    _slow_clearance(db, 0.5)
    with open_store(db) as store:
        after = forecast_plan(store, runs=400, seed=1)
        ignored = forecast_plan(store, runs=400, seed=1, progress=False)
    assert after.learned.pace_reports == 2
    assert after.learned.factor_after["manual"] < -0.4 < after.learned.factor_before["manual"]
    assert after.overall.p50 > before.overall.p50
    assert ignored.overall == before.overall


def test_no_plan_and_a_changed_register_are_refused(tmp_path: Path, db: Path) -> None:
    """Without a plan: NotFoundError; with an asset added since the plan: PlanError saying to plan again."""
    empty = tmp_path / "empty.gpkg"
    _register(empty)
    with open_store(empty) as store, pytest.raises(NotFoundError, match="no plan"):
        forecast_plan(store, runs=10)
    with open_store(db) as store, store.write() as uow:
        uow.add_assets([Asset("A-9", AssetType.HOUSE, Point(35.3, 50.3), DamageLevel.MODERATE,
                              {Trade.BUILDING: 10.0})])
    with open_store(db) as store, pytest.raises(PlanError, match="plan again"):
        forecast_plan(store, runs=10)


def test_cli_forecast_prints_json_and_text(db: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper forecast --json` prints the overall percentiles as ISO dates, runs and seed; the text form the dates."""
    code, stdout, stderr = run(monkeypatch, capsys, "forecast", "--db", db, "--runs", "200", "--seed", "4", "--json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["runs"] == 200 and doc["seed"] == 4
    assert dt.date.fromisoformat(doc["overall"]["p10"]) <= dt.date.fromisoformat(doc["overall"]["p90"])
    code, stdout, stderr = run(monkeypatch, capsys, "forecast", "--db", db, "--runs", "100")
    assert code == 0 and "region done" in stdout and "P80" in stdout, stderr

