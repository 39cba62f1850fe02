"""A fresh plan of a register with land-release history plans only what is left (services.planning.plan_store).

A store built by hand, on each backend: H-1 (CHA) is fully processed (reduced by TS, the rest cleared: awaiting
inspection and acceptance), the road A-1 crosses it; H-2 (SHA) had its NTS (a strip cancelled) and is partly cleared;
H-4 (SHA) had only its NTS; H-3 (SHA) is untouched (no history). Every activity ended in May 2025, before the plan's
start (Monday 2 June 2025).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.landrelease import Inspection
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.plan import check
from sapper.scenario.compile import CompiledPlan, CompileParams, TaskKind, compile_problem, survey_plan
from sapper.services import landrelease as lr
from sapper.services.forecast import forecast_plan
from sapper.services.planning import PlanOutcome, PlanSettings, plan_store, processed_work
from sapper.store import open_store

BASE = Point(35.0, 50.0)
START = dt.date(2025, 6, 2)  # a Monday
AT = dt.datetime(2025, 5, 20, 8, 0, tzinfo=dt.UTC)
H1 = shapely.box(35.100, 50.100, 35.102, 50.101)
H1_WEST, H1_EAST = shapely.box(35.100, 50.100, 35.101, 50.101), shapely.box(35.101, 50.100, 35.102, 50.101)
H2 = shapely.box(35.110, 50.100, 35.114, 50.102)
H2_STRIP = shapely.box(35.110, 50.100, 35.1105, 50.102)  # cancelled by NTS
H2_CLEARED = shapely.box(35.1105, 50.100, 35.112, 50.102)  # cleared so far
H3 = shapely.box(35.120, 50.100, 35.121, 50.101)
H4 = shapely.box(35.130, 50.100, 35.133, 50.102)
H4_STRIP = shapely.box(35.130, 50.100, 35.131, 50.102)  # cancelled by NTS
LAG = CompileParams().inspection_lag_days


def _act(aid: str, hid: str, kind: ActivityType, end: dt.date, *, cancelled: BaseGeometry | None = None,
         reduced: BaseGeometry | None = None, cleared: BaseGeometry | None = None) -> Activity:
    return Activity(aid, hid, kind, ActivityStatus.COMPLETED, organisation_id="op-1", end=end, cancelled=cancelled,
                    reduced=reduced, cleared=cleared, clearance_depth_cm=13.0 if cleared is not None else None)


def _register(target: str | Path, *, last_end: dt.date = dt.date(2025, 5, 20)) -> None:
    with open_store(target, create=True) as store:
        with store.write() as uow:
            uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR),
                                   Organisation("con-1", "Builder", OrgKind.CONTRACTOR)])
            uow.add_hazards([
                HazardArea("H-1", HazardClass.CHA, H1, Evidence.DIRECT, beneficiaries=500),
                HazardArea("H-2", HazardClass.SHA, H2, Evidence.INDIRECT, beneficiaries=100),
                HazardArea("H-3", HazardClass.SHA, H3, Evidence.INDIRECT, beneficiaries=50),
                HazardArea("H-4", HazardClass.SHA, H4, Evidence.INDIRECT, beneficiaries=80),
            ])
            uow.add_assets([
                Asset("A-1", AssetType.ROAD, LineString([(35.099, 50.1005), (35.103, 50.1005)]),
                      DamageLevel.SEVERE, {Trade.ROAD: 200.0}, criticality=5, people_served=2000),
                Asset("A-3", AssetType.HOUSE, Point(35.2, 50.2), DamageLevel.MODERATE, {Trade.BUILDING: 100.0},
                      people_served=5),
            ])
            uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 8000.0),
                           DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0),
                           DeminerTeam("T-MAN-2", "op-1", Method.MANUAL, 8, BASE, 300.0)])
            uow.add_brigades([BuilderBrigade("B-ROAD-1", "con-1", Trade.ROAD, 10, BASE),
                              BuilderBrigade("B-BLD-1", "con-1", Trade.BUILDING, 10, BASE)])
            uow.set_meta({"start_date": START.isoformat()})
        may = dt.date(2025, 5, 5)
        steps = [
            _act("A-11", "H-1", ActivityType.TS, may, reduced=H1_WEST),
            _act("A-12", "H-1", ActivityType.CLEARANCE, last_end, cleared=H1_EAST),
            _act("A-21", "H-2", ActivityType.NTS, may, cancelled=H2_STRIP),
            _act("A-22", "H-2", ActivityType.CLEARANCE, dt.date(2025, 5, 15), cleared=H2_CLEARED),
            _act("A-41", "H-4", ActivityType.NTS, may, cancelled=H4_STRIP),
        ]
        for i, a in enumerate(steps):
            lr.record_activity(store, a, actor="imo", reason="completion report", at=AT + dt.timedelta(hours=i))


def _plan(target: str | Path) -> tuple[PlanOutcome, dict[str, lr.HazardHistory]]:
    with open_store(target) as store:
        outcome = plan_store(store, settings=PlanSettings(time_limit_s=5))
        histories = {hid: lr.history(store, hid) for hid in ("H-1", "H-2", "H-3", "H-4")}
    return outcome, histories


def _tasks(outcome: PlanOutcome, hid: str, kind: TaskKind) -> list[int]:
    return [j for j, i in enumerate(outcome.compiled.info) if i.hazard_id == hid and i.kind is kind]


def _work(outcome: PlanOutcome, hid: str, kind: TaskKind) -> float:
    return sum(outcome.compiled.info[j].work for j in _tasks(outcome, hid, kind))


def test_a_fresh_plan_plans_only_what_the_land_release_records_leave(store_target: str | Path) -> None:
    _register(store_target)
    outcome, hist = _plan(store_target)
    compiled, schedule = outcome.compiled, outcome.result.schedule
    assert schedule is not None and check(compiled.problem, schedule) == []
    assert outcome.summary.status == "optimal"

    # H-1: fully processed, awaiting inspection and acceptance: no survey or clearance, release after the lag.
    h1 = hist["H-1"].record
    assert h1 is not None and h1.awaiting_release
    for kind in (TaskKind.NTS, TaskKind.EOD, TaskKind.TS, TaskKind.CLEARANCE):
        assert _tasks(outcome, "H-1", kind) == []
    (rel1,) = _tasks(outcome, "H-1", TaskKind.RELEASED)
    assert schedule.starts[rel1] == LAG  # nothing else holds it: the 12 working days of the lag from the start
    saved = {t.task_id: t for t in outcome.run.tasks}
    assert saved["released H-1"].end_date == dt.date(2025, 6, 14)  # 2–7 and 9–14 June: 12 working days
    # The road across H-1 still waits for its release (inspection and acceptance).
    assert compiled.blocking["A-1"] == ("H-1",)
    repairs = [j for j, i in enumerate(compiled.info) if i.asset_id == "A-1" and i.kind is TaskKind.REPAIR]
    assert repairs and all(schedule.starts[j] >= schedule.starts[rel1] for j in repairs)

    # H-2: NTS done, clearance started: no NTS or TS again; clearance of exactly what remains.
    h2 = hist["H-2"].record
    assert h2 is not None and not h2.nothing_remains
    b = h2.balance
    left = b.original_m2 + b.extended_m2 + b.reopened_m2 - b.cancelled_m2 - b.reduced_m2 - b.cleared_m2
    assert left == pytest.approx(area_m2(H2.difference(H2_STRIP).difference(H2_CLEARED)), rel=1e-3)
    assert _tasks(outcome, "H-2", TaskKind.NTS) == [] and _tasks(outcome, "H-2", TaskKind.TS) == []
    assert _work(outcome, "H-2", TaskKind.CLEARANCE) == pytest.approx(left, rel=1e-3)
    assert left < 0.7 * area_m2(H2)  # it is not the whole area

    # H-4: only its NTS: no NTS again, TS over what remains (NTS cancels nothing more), clearance its share.
    h4 = hist["H-4"].record
    assert h4 is not None
    assert _tasks(outcome, "H-4", TaskKind.NTS) == []
    assert _work(outcome, "H-4", TaskKind.TS) == pytest.approx(area_m2(H4.difference(H4_STRIP)), rel=1e-3)
    with open_store(store_target) as store:
        h4_reg = store.hazard("H-4")
        clear_share = survey_plan(h4_reg, CompileParams()).clear_m2
    assert _work(outcome, "H-4", TaskKind.CLEARANCE) == pytest.approx(min(h4.remaining_m2, clear_share), rel=1e-6)

    # H-3: untouched (no history): planned exactly as without any land-release record.
    assert hist["H-3"].record is None
    with open_store(store_target) as store:
        whole = compile_problem(store.hazards(), store.assets(), store.teams(), store.brigades(), start_date=START)

    def of_h3(comp: CompiledPlan) -> list[tuple[str, object, float]]:
        return [(t.name, t.modes, i.work) for t, i in zip(comp.problem.tasks, comp.info, strict=True)
                if i.hazard_id == "H-3"]

    assert of_h3(compiled) == of_h3(whole) and len(of_h3(whole)) >= 4  # nts, ts, clearance, released
    # ... whereas the register without its records would survey and clear H-1 again.
    assert [i for i in whole.info if i.hazard_id == "H-1" and i.kind is TaskKind.CLEARANCE]


def test_the_lag_runs_from_the_last_activity_when_it_ends_after_the_start(tmp_path: Path) -> None:
    """A clearance dated after the plan's start (a plan started earlier than the records): the release waits the lag
    from the day after it."""
    db = tmp_path / "register.gpkg"
    _register(db, last_end=dt.date(2025, 6, 11))  # Wednesday of the second week: working day 8
    outcome, _ = _plan(db)
    assert outcome.result.schedule is not None
    (rel1,) = _tasks(outcome, "H-1", TaskKind.RELEASED)
    assert outcome.compiled.problem.tasks[rel1].release == 9 + LAG
    assert outcome.result.schedule.starts[rel1] == 9 + LAG


def test_an_area_only_cancelled_by_nts_needs_no_inspection(tmp_path: Path) -> None:
    """Land released by survey alone has no lag (IMAS 07.11): an SHA all cancelled by its NTS is released at once."""
    db = tmp_path / "register.gpkg"
    with open_store(db, create=True) as store:
        with store.write() as uow:
            uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR)])
            uow.add_hazards([HazardArea("H-9", HazardClass.SHA, H3, Evidence.INDIRECT)])
            uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 8000.0),
                           DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0)])
            uow.set_meta({"start_date": START.isoformat()})
        lr.record_activity(store, _act("A-91", "H-9", ActivityType.NTS, dt.date(2025, 5, 5), cancelled=H3),
                           actor="imo", reason="NTS report", at=AT)
        done = processed_work(store, store.hazards())
        assert set(done) == {"H-9"} and done["H-9"].nothing_remains and not done["H-9"].needs_inspection
        outcome = plan_store(store, settings=PlanSettings(time_limit_s=5))
    assert [(i.kind, i.hazard_id) for i in outcome.compiled.info] == [(TaskKind.RELEASED, "H-9")]
    assert outcome.result.schedule is not None and list(outcome.result.schedule.starts) == [0]


def test_released_areas_stay_out_and_the_record_is_read_once_per_area(tmp_path: Path) -> None:
    """An area released (accepted) is not planned at all; processed_work reads only open areas with a history."""
    db = tmp_path / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        lr.inspect(store, "H-1", Inspection("I-1", dt.date(2025, 5, 25), 500.0, True, "NMAA QA"), actor="qa",
                   reason="post-clearance inspection", at=AT + dt.timedelta(days=5))
        lr.accept(store, "H-1", authority="NMAA", actor="imo", reason="accepted", at=AT + dt.timedelta(days=6))
        assert set(processed_work(store, store.hazards())) == {"H-2", "H-4"}
        outcome = plan_store(store, settings=PlanSettings(time_limit_s=5))
    assert not [i for i in outcome.compiled.info if i.hazard_id == "H-1"]
    assert outcome.compiled.blocking["A-1"] == ()


def test_the_plan_forecasts_as_compiled(tmp_path: Path) -> None:
    """The forecast compiles the plan as sapper plan did (the records read again): same tasks, the fully processed
    area's release never before its lag."""
    db = tmp_path / "register.gpkg"
    _register(db)
    outcome, _ = _plan(db)
    with open_store(db) as store:
        fc = forecast_plan(store, runs=200, seed=1, progress=False)
    (h1,) = [a for a in fc.areas if a.hazard_id == "H-1"]
    assert h1.planned == dt.date(2025, 6, 14) == outcome.compiled.calendar.date_of(LAG - 1)
    assert h1.release.p10 >= dt.date(2025, 6, 14)  # no run releases it before inspection and acceptance
