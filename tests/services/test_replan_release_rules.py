"""Re-planning keeps the land-release lot kinds: NTS, EOD spot tasks and TS progress as planned (no daily form), BAC
lots stay on BAC/EOD teams, and survey lots of a plan saved before NTS and TS were planned apart are planned anew."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass
from sapper.domain.resources import DeminerTeam, Method, Organisation, OrgKind
from sapper.plan import check
from sapper.scenario.compile import TaskKind
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.remaining import LotStatus, remaining_work
from sapper.services.replan import ReplanSettings, replan_store
from sapper.store import open_store
from sapper.store.records import PlanRun

BASE = Point(35.0, 50.0)
START = dt.date(2025, 6, 2)  # a Monday


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """One ERW-only SHA (UXO and submunitions) of about 143,000 m², planned: NTS 4 days, an EOD spot task of a day,
    TS over what NTS does not cancel, then BAC."""
    path = tmp_path / "register.gpkg"
    with open_store(path, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR)])
        uow.add_hazards([HazardArea("H-1", HazardClass.SHA, shapely.box(35.110, 50.100, 35.116, 50.103),
                                    Evidence.INDIRECT, frozenset({DeviceCategory.ERW_UXO, DeviceCategory.CLUSTER}),
                                    expected_clearance_share=0.1)])
        uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 6, BASE, 10_000.0),
                       DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 180.0),
                       DeminerTeam("T-BAC-1", "op-1", Method.BAC, 8, BASE, 1_000.0)])
        uow.set_meta({"start_date": START.isoformat()})
    with open_store(path) as store:
        plan_store(store, settings=PlanSettings(time_limit_s=5))
    return path


def _latest(db: Path) -> PlanRun:
    with open_store(db) as store:
        run = store.latest_plan()
    assert run is not None
    return run


def test_plan_has_nts_eod_ts_and_bac_on_the_bac_team(db: Path) -> None:
    run = _latest(db)
    kinds = {t.kind for t in run.tasks}
    assert {TaskKind.NTS, TaskKind.EOD, TaskKind.TS, TaskKind.CLEARANCE, TaskKind.RELEASED} == kinds
    for t in run.tasks:
        if t.kind in (TaskKind.EOD, TaskKind.CLEARANCE):
            assert (t.mode, t.unit_id) == ("bac", "T-BAC-1"), t.task_id
        if t.kind in (TaskKind.NTS, TaskKind.TS):
            assert t.unit_id == "T-SUR-1"


def test_survey_lots_without_reports_progress_as_planned_and_the_replan_keeps_bac(db: Path) -> None:
    """As of the day after the EOD task: NTS and EOD are done, TS running by the day, BAC pending; the re-plan
    plans TS and BAC only (no new NTS or EOD), BAC still on the BAC/EOD team, and passes the checker."""
    run = _latest(db)
    (eod,) = [t for t in run.tasks if t.kind is TaskKind.EOD]
    as_of = eod.end_date + dt.timedelta(days=1)
    with open_store(db) as store:
        left = remaining_work(run, hazards=store.hazards(), assets=[], brigades=[], progress=[], activities=[],
                              as_of=as_of, progress_from=None, weekdays=run.params.weekdays)
    status = {tid: lot.status for tid, lot in left.lots.items()}
    assert status["nts H-1/1"] is status["eod H-1/1"] is LotStatus.DONE
    ts = [t for t in run.tasks if t.kind is TaskKind.TS]
    first_ts = min(ts, key=lambda t: t.start_date)
    assert status[first_ts.task_id] in (LotStatus.RUNNING, LotStatus.PENDING)
    assert all(status[t.task_id] is LotStatus.PENDING for t in run.tasks if t.kind is TaskKind.CLEARANCE)
    with open_store(db) as store:
        outcome = replan_store(store, settings=ReplanSettings(as_of=as_of, time_limit_s=5.0))
    assert outcome.result.schedule is not None
    assert check(outcome.compiled.problem, outcome.result.schedule) == []
    planned = [i for i in outcome.compiled.info if i.kind in (TaskKind.NTS, TaskKind.EOD)]
    assert planned == []
    clearance = [i for i in outcome.compiled.info if i.kind is TaskKind.CLEARANCE]
    # On the BAC/EOD team's pool (by capabilities, the pool of the teams whose own method is BAC).
    assert clearance and all(len(i.mode_methods) == 1 and i.mode_methods[0].split(":")[1].split("+")[0] == "bac"
                             for i in clearance)


def test_survey_lots_of_an_older_plan_are_planned_anew_as_nts_and_ts(db: Path) -> None:
    """A plan saved before NTS and TS were planned apart holds `survey` lots: the work left removes them, saying
    why, and the area's NTS and TS are planned again."""
    run = _latest(db)
    old = [dataclasses.replace(t, task_id=t.task_id.replace("ts ", "survey "), kind=TaskKind.SURVEY)
           if t.kind is TaskKind.TS else t for t in run.tasks if t.kind is not TaskKind.NTS]
    legacy = dataclasses.replace(run, tasks=tuple(old))
    with open_store(db) as store:
        left = remaining_work(legacy, hazards=store.hazards(), assets=[], brigades=[], progress=[], activities=[],
                              as_of=START, progress_from=None, weekdays=run.params.weekdays)
    survey = [lot for tid, lot in left.lots.items() if tid.startswith("survey ")]
    assert survey and all(lot.status is LotStatus.REMOVED for lot in survey)
    assert all("planned as non-technical and technical survey" in lot.why for lot in survey)
    assert ("survey", "H-1", "") not in left.plans
    assert [h.id for h in left.hazards] == ["H-1"]
