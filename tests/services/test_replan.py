"""Re-planning from field progress: the work left, a stable re-plan that moves only what it must, and `sapper replan`.

A store built by hand (three hazard areas, three assets, a survey team, two manual teams, two brigades) is planned
once; each test copies it, reports a week of progress through field-data staging (review, approve, apply), and
re-plans. The first week of its plan: survey of H-1 (NTS 2 days, TS 2 days: 2–5 June) and H-3 (NTS and TS a day each:
6–7 June) by T-SUR-1, clearance of H-1 by T-MAN-1 from 6 June, repair of A-3 by B-BLD-1 from 2 June; the road A-1
crosses H-1 and waits for its release.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely import affinity
from shapely.geometry import LineString, Point

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.fielddata import StagingState, Submission, SubmissionSource
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.plan import MovePolicy, check
from sapper.scenario.compile import compile_problem
from sapper.services.fielddata import apply_approved
from sapper.services.planning import PlanSettings, plan_store, with_pools
from sapper.services.remaining import LotStatus, remaining_work
from sapper.services.replan import ReplanOutcome, ReplanSettings, build_frame, replan_store
from sapper.store import open_store
from sapper.store.planjson import summary_to_json
from sapper.store.records import PlanRun
from tests.store.test_planjson import PLAN_KEYS, REPLAN_KEYS

SAPPER = str(Path(sys.executable).with_name("sapper"))
BASE = Point(35.0, 50.0)
START = dt.date(2025, 6, 2)  # a Monday
AS_OF = dt.date(2025, 6, 9)  # after one working week (2–7 June)
AT = dt.datetime(2025, 6, 9, 7, 0, tzinfo=dt.UTC)
H1 = shapely.box(35.100, 50.100, 35.102, 50.101)


def _register(db: Path) -> None:
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR),
                               Organisation("con-1", "Builder", OrgKind.CONTRACTOR)])
        uow.add_hazards([
            HazardArea("H-1", HazardClass.CHA, H1, Evidence.DIRECT, beneficiaries=500),
            HazardArea("H-2", HazardClass.CHA, shapely.box(35.110, 50.100, 35.116, 50.103), Evidence.DIRECT,
                       beneficiaries=100),
            HazardArea("H-3", HazardClass.SHA, shapely.box(35.120, 50.100, 35.121, 50.101), Evidence.INDIRECT,
                       beneficiaries=50),
        ])
        uow.add_assets([
            Asset("A-1", AssetType.ROAD, LineString([(35.099, 50.1005), (35.103, 50.1005)]), DamageLevel.SEVERE,
                  {Trade.ROAD: 200.0}, criticality=5, people_served=2000),
            Asset("A-2", AssetType.HOUSE, Point(35.1205, 50.1005), DamageLevel.MODERATE, {Trade.BUILDING: 60.0},
                  people_served=5),
            Asset("A-3", AssetType.HOUSE, Point(35.2, 50.2), DamageLevel.MODERATE, {Trade.BUILDING: 100.0},
                  people_served=5),
        ])
        uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 8000.0),
                       DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0),
                       DeminerTeam("T-MAN-2", "op-1", Method.MANUAL, 8, BASE, 300.0)])
        uow.add_brigades([BuilderBrigade("B-ROAD-1", "con-1", Trade.ROAD, 10, BASE),
                          BuilderBrigade("B-BLD-1", "con-1", Trade.BUILDING, 10, BASE)])
        uow.set_meta({"start_date": START.isoformat()})


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built store with one plan (CP-SAT proves it optimal well within the limit), on fixed pools: these
    tests follow what happens to the lots of a plan whose teams work by their own method only; a plan by capabilities
    is re-planned in tests/services/test_replan_capabilities.py."""
    db = tmp_path_factory.mktemp("replan") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        outcome = plan_store(store, settings=with_pools(PlanSettings(time_limit_s=5), "fixed"))
    assert outcome.summary.status == "optimal"
    return db


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned, tmp_path / "register.gpkg"))


def _plan(db: Path, run_id: int | None = None) -> PlanRun:
    with open_store(db) as store:
        run = store.plan(run_id) if run_id is not None else store.latest_plan()
    assert run is not None
    return run


def _working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if d.weekday() != 6]


def week_as_planned(db: Path, *, pace: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Daily reports of every clearance and repair lot planned before AS_OF, at the planned pace (times ``pace`` of
    its unit)."""
    rows = []
    for t in _plan(db).tasks:
        if t.kind not in ("clearance", "repair") or t.start_date >= AS_OF:
            continue
        days = _working_days(t.start_date, t.end_date)
        factor = (pace or {}).get(t.unit_id or "", 1.0)
        for day in days:
            if day < AS_OF:
                rows.append({"kind": t.kind, "target": t.hazard_id or t.asset_id, "unit": t.unit_id, "day": day,
                             "amount": t.work / len(days) * factor})
    return rows


def report(db: Path, rows: list[dict[str, Any]], *, percent: float | None = None) -> None:
    """Stage, review, approve and apply one field submission per row (as ``sapper field`` would)."""
    with open_store(db) as store, store.write() as uow:
        for n, r in enumerate(rows):
            instance = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{db}-{n}-{r}')}"
            if r["kind"] == "clearance":
                form, kind = "sapper_clearance", "clearance"
                fields = {"work_date": r["day"].isoformat(), "hazard_id": r["target"], "team_id": r["unit"],
                          "cleared_m2": f"{r['amount']:.4f}", "clearance_depth_cm": "13", "devices_found": "no"}
            else:
                form, kind = "sapper_brigade", "brigade"
                fields = {"work_date": r["day"].isoformat(), "asset_id": r["target"], "brigade_id": r["unit"],
                          "builder_days": f"{r['amount']:.4f}"}
                if percent is not None:
                    fields["percent_complete"] = f"{percent:g}"
            fields.update(r.get("extra", {}))
            sub = Submission(SubmissionSource.ODK_CENTRAL, form, instance, instance, fields=fields)
            staged = uow.field_staging.stage(sub, kind=kind, source_file="test", actor="tester", at=AT)
            uow.field_staging.transition(staged.staged_id, StagingState.REVIEWED, actor="tester", reason="", at=AT)
            uow.field_staging.transition(staged.staged_id, StagingState.APPROVED, actor="tester", reason="ok", at=AT)
    with open_store(db) as store:
        summary = apply_approved(store, actor="tester", at=AT)
    assert not summary.faults, summary.faults


def _left(db: Path, **changes: Any) -> Any:
    with open_store(db) as store:
        previous = store.latest_plan()
        assert previous is not None
        kwargs: dict[str, Any] = {"hazards": store.hazards(), "assets": store.assets(), "brigades": store.brigades(),
                                  "progress": store.field_progress(), "activities": store.activities()}
    kwargs.update(changes)
    return previous, remaining_work(previous, as_of=AS_OF, progress_from=None,
                                    weekdays=previous.params.weekdays, **kwargs)


def _replan(db: Path, settings: ReplanSettings) -> ReplanOutcome:
    with open_store(db) as store:
        return replan_store(store, settings=settings)


def _settings(**kw: Any) -> ReplanSettings:
    return ReplanSettings(**({"as_of": AS_OF, "time_limit_s": 5.0} | kw))


# ----------------------------------------------------------------------------------------------------
# The work left
# ----------------------------------------------------------------------------------------------------


def test_week_as_planned_leaves_the_planned_work(db: Path) -> None:
    """Progress at the planned pace: surveys due are done, clearance of H-1 and repair of A-3 run with what is left."""
    report(db, week_as_planned(db))
    _, left = _left(db)
    status = {tid: lot.status for tid, lot in left.lots.items()}
    assert status["nts H-1/1"] is status["ts H-1/1"] is status["nts H-3/1"] is status["ts H-3/1"] is LotStatus.DONE
    assert status["clearance H-1/1"] is status["repair A-3 building/1"] is LotStatus.RUNNING
    assert status["nts H-2/1"] is status["ts H-2/1"] is status["clearance H-3/1"] is LotStatus.PENDING
    a3 = left.lots["repair A-3 building/1"]
    assert a3.done == pytest.approx(60.0) and a3.left == pytest.approx(40.0) and a3.by == ("B-BLD-1",)
    assert left.added == {} and left.reports_used == 8


def test_percent_complete_states_what_is_left(db: Path) -> None:
    """A brigade's percentage complete overrides its builder-days: 80 % of A-3's 100 builder-days leaves 20."""
    report(db, [r for r in week_as_planned(db) if r["kind"] == "repair"][-1:], percent=80)
    _, left = _left(db)
    assert left.lots["repair A-3 building/1"].left == pytest.approx(20.0)


def test_hazard_found_larger_adds_a_lot_and_land_cancelled_removes_work(db: Path) -> None:
    """H-1 grown by half adds a clearance lot (numbered after the planned ones); H-2 cancelled by an NTS since the
    plan started removes its clearance lots from the end, as 'hazard area smaller than planned'."""
    with open_store(db) as store:
        hazards = {h.id: h for h in store.hazards()}
    grown = affinity.scale(H1, xfact=1.5 ** 0.5, yfact=1.5 ** 0.5, origin="centroid")
    larger = [dataclasses.replace(h, geometry=grown) if h.id == "H-1" else h for h in hazards.values()]
    h2 = hazards["H-2"].geometry
    nts = Activity("nts-1", "H-2", ActivityType.NTS, ActivityStatus.COMPLETED, start=dt.date(2025, 6, 5),
                   end=dt.date(2025, 6, 5), cancelled=shapely.box(*h2.bounds[:2], h2.bounds[2] - 0.004, h2.bounds[3]))
    _, left = _left(db, hazards=larger, activities=[nts])
    extra, why = left.added["clearance", "H-1", ""]
    assert why == "hazard area larger than planned"
    assert extra == pytest.approx(0.5 * 5570.7, rel=0.01)
    assert left.plans["clearance", "H-1", ""].first_new == 2
    h2_lots = {tid: lot for tid, lot in left.lots.items() if tid.startswith("clearance H-2")}
    removed = [tid for tid, lot in h2_lots.items() if lot.status is LotStatus.REMOVED]
    assert removed and all(h2_lots[t].why == "hazard area smaller than planned" for t in removed)
    # The last lots go first: H-2's lots planned latest are the ones removed.
    kept = [lot.task.start_date for lot in h2_lots.values() if lot.status is not LotStatus.REMOVED]
    assert all(h2_lots[t].task.start_date >= max(kept, default=START) for t in removed)


# ----------------------------------------------------------------------------------------------------
# The re-plan
# ----------------------------------------------------------------------------------------------------


def test_no_deviation_moves_nothing_and_links_the_plans(db: Path) -> None:
    """A week exactly as planned: the re-plan moves no lot, keeps the objective's plan, saves history and links to
    the previous plan run."""
    previous = _plan(db)
    report(db, week_as_planned(db))
    outcome = _replan(db, _settings())
    c = outcome.changes.counts
    assert (c.moved, c.must_move, c.pushed_forward, c.repair_moved) == (0, 0, 0, 0)
    assert c.finished == 4 and c.running == 2 and c.removed == c.added == 0  # NTS and TS of H-1 and H-3
    assert outcome.result.schedule is not None
    assert check(outcome.compiled.problem, outcome.result.schedule) == []
    run = _plan(db)
    assert run.id == outcome.run.id and run.params.replan is not None
    assert run.params.replan.replan_of == previous.id and run.params.replan.as_of == AS_OF
    old = {t.task_id: t for t in previous.tasks}
    new = {t.task_id: t for t in run.tasks}
    assert new.keys() == old.keys()  # finished lots are kept as history
    for tid, t in new.items():
        if t.kind in ("nts", "ts", "clearance", "repair") and old[tid].start_date >= AS_OF:
            assert (t.start_date, t.unit_id) == (old[tid].start_date, old[tid].unit_id), tid
    assert new["clearance H-1/1"].unit_id == "T-MAN-1" and new["clearance H-1/1"].start_date == AS_OF


def test_one_lot_delayed_moves_only_what_must_move(db: Path) -> None:
    """T-MAN-1 clears H-1 at half pace: the road A-1, which waits for H-1's release, must move and is the only lot
    that does, for the reason 'predecessor late' caused by 'slower than planned'; a second re-plan of the same
    facts moves nothing more."""
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    outcome = _replan(db, _settings())
    c = outcome.changes.counts
    assert c.must_move == c.pushed_forward == c.moved == 1
    (moved,) = outcome.changes.moved_tasks
    assert moved.task_id == "repair A-1 road/1" and moved.must_move
    assert (moved.reason, moved.cause) == ("predecessor late", "slower than planned")
    assert moved.shift_working_days > 0
    again = _replan(db, _settings())
    assert again.changes.counts.moved == 0 and again.changes.counts.progress_reports == 0


def test_team_lost_unpins_its_running_lot(db: Path) -> None:
    """Without T-MAN-1 in the workforce, its running lot of H-1 cannot continue with it: the lot is not pinned, the
    reason is 'team lost', and the plan is still feasible with one manual team."""
    report(db, week_as_planned(db))
    previous, left = _left(db)
    with open_store(db) as store:
        teams = [t for t in store.teams() if t.id != "T-MAN-1"]
        brigades = store.brigades()
    compiled = compile_problem(left.hazards, left.assets, teams, brigades, start_date=AS_OF,
                               params=previous.params.compile_params(), lots=left.plans)
    frame = build_frame(compiled, left, move_cost_days=20.0)
    (j,) = [j for j, t in enumerate(frame.problem.tasks) if t.name == "clearance H-1/1"]
    assert frame.unpinned == {j: "team lost"}
    assert frame.problem.tasks[j].deadline is None and frame.problem.tasks[j].anchor == 0


def test_scratch_replan_counts_its_moves_against_the_same_plan(db: Path) -> None:
    """Re-planned from scratch (no anchors, no warm start) the same facts are compared with the same previous plan;
    it never moves fewer lots than must move."""
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    outcome = _replan(db, _settings(stable=False))
    c = outcome.changes.counts
    assert c.stable is False and c.move_cost == 0 and c.moved >= c.must_move == 1
    assert outcome.summary.replan is not None and outcome.summary.replan.baseline_meaning.startswith("the greedy plan")


# ----------------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SAPPER, *args], capture_output=True, text=True, timeout=120, check=False)


def test_cli_replan_end_to_end(db: Path, tmp_path: Path) -> None:
    """`sapper replan` prints what moved and why, saves the plan, and writes every change with --out."""
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    out = tmp_path / "replan.json"
    proc = _run("replan", "--db", str(db), "--time-limit", "3", "--move-cost", "30", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "moved: 1 of" in proc.stdout and "predecessor late 1" in proc.stdout
    assert "that moved: 1; fewest found: 1, the minimum (proven)" in proc.stdout
    assert "the previous plan repaired to the new facts" in proc.stdout and "greedy baseline" not in proc.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["changes"]["moved_tasks"][0]["task_id"] == "repair A-1 road/1"
    assert doc["replan"]["as_of"] == "2025-06-08"  # default: the day after the last report (Saturday 7 June)
    assert {t["task_id"] for t in doc["tasks"]} >= {"nts H-1/1", "ts H-1/1", "clearance H-1/1", "restored A-1"}
    saved = _plan(db).params.replan
    assert saved is not None and saved.move_cost_days == 30.0


def test_cli_plan_and_replan_json_keep_their_keys(db: Path) -> None:
    """`sapper plan --json` prints the summary with the keys it printed before the summary was typed, then the use of
    units (`utilisation`); `sapper replan --json` adds the re-plan's four before it and, last, its changes; both read
    back from the store as the same summary. Both end with the weight profile the plan was made with (name and hash),
    which the command adds to the summary."""
    proc = _run("plan", "--db", str(db), "--time-limit", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan.pop("profile")["name"] == "default"
    assert list(plan) == [*PLAN_KEYS, "utilisation"] and plan["start_date"] == START.isoformat()
    assert plan["status"] == _plan(db).status
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    proc = _run("replan", "--db", str(db), "--time-limit", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    replan = json.loads(proc.stdout)
    assert replan.pop("profile")["name"] == "default"
    changes = replan.pop("changes")  # the re-plan's changes, as plan.json's "changes" (per team: lots and orders)
    assert changes["moved"] == 1 and [t["unit_id"] for t in changes["teams"]]
    assert list(replan) == [*PLAN_KEYS, *REPLAN_KEYS, "utilisation"] and replan["replan"]["moved"] == 1
    saved = _plan(db).summary
    assert saved is not None and summary_to_json(saved) == replan


def test_cli_replan_errors(tmp_path: Path, db: Path) -> None:
    """No plan in the store: exit 3; an as-of date that is not a date: exit 2; one before the plan's start: exit 2."""
    empty = tmp_path / "empty.gpkg"
    _register(empty)
    proc = _run("replan", "--db", str(empty))
    assert proc.returncode == 3 and "run sapper plan first" in proc.stderr
    assert _run("replan", "--db", str(db), "--as-of", "9 June").returncode == 2
    assert _run("replan", "--db", str(db), "--as-of", "2025-05-01").returncode == 2
    proc = _run("replan", "--db", str(db), "--moves", "sideways")
    assert proc.returncode == 2 and "moves must be one of fewest, priced" in proc.stderr


def test_priced_moves_skip_the_fewest_moves_stage(db: Path) -> None:
    """With moves "priced" the re-plan does not rank moves first (no fewest-moves figures), and still moves only the
    lot that must move here (test_cli_replan_end_to_end checks the default's proof of that minimum)."""
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    priced = _replan(db, _settings(moves=MovePolicy.PRICED))
    assert priced.changes.counts.fewest_moves_bound is None and priced.changes.counts.moved == 1
    saved = _plan(db).params.replan
    assert saved is not None and saved.moves is MovePolicy.PRICED


# ----------------------------------------------------------------------------------------------------
# Brigades reporting their work blocked by a hazard
# ----------------------------------------------------------------------------------------------------

def _blocked_report(day: dt.date, **extra: str) -> dict[str, Any]:
    """B-BLD-1's report on the house A-3 (far from every hazard area) of ``day``, with the blocked-by-hazard answers."""
    return {"kind": "repair", "target": "A-3", "unit": "B-BLD-1", "day": day, "amount": 0.0, "extra": extra}


@pytest.mark.parametrize(("extra", "linked", "said"), [
    ({"blocked_by_hazard": "yes", "blocking_hazard_id": "H-2"}, ("H-2",), "by hazard area H-2: its remaining work"),
    ({"blocked_by_hazard": "yes", "blocking_location": "50.1015 35.113 0 5"}, ("H-2",), "a point inside hazard area"),
    # 0.0014° of longitude east of H-2 at 50.1° N: 100 m
    ({"blocked_by_hazard": "yes", "blocking_location": "50.1015 35.1174 0 5"}, ("H-2",), "100 m from hazard area H-2"),
    ({"blocked_by_hazard": "yes", "blocking_location": "50.3 35.3 0 5"}, None, "a hazard not in the register?"),
    ({"blocked_by_hazard": "yes", "blocking_hazard_id": "H-9"}, None, "H-9, which is not in the register"),
    ({"blocked_by_hazard": "yes"}, None, "without naming the area or giving its location"),
])
def test_a_blocked_report_links_the_asset_to_the_hazard_it_names_or_lies_in(
        db: Path, extra: dict[str, str], linked: tuple[str, ...] | None, said: str) -> None:
    report(db, [*week_as_planned(db), _blocked_report(dt.date(2025, 6, 6), **extra)])
    _, left = _left(db)
    assert left.blocked == ({"A-3": linked} if linked else {})
    (note,) = [n for n in left.notes if "reported asset A-3 blocked on 2025-06-06" in n]
    assert said in note


def test_a_later_report_of_unblocked_work_lifts_the_block(db: Path) -> None:
    report(db, [*week_as_planned(db), _blocked_report(dt.date(2025, 6, 5), blocked_by_hazard="yes",
                                                      blocking_hazard_id="H-2"),
                _blocked_report(dt.date(2025, 6, 6), blocked_by_hazard="no")])
    _, left = _left(db)
    assert left.blocked == {}


def test_replan_makes_a_blocked_asset_wait_for_the_release_and_keeps_the_block_next_week(db: Path) -> None:
    """A-3's brigade reports its work blocked by H-2: A-3's remaining repair waits for H-2's release in the re-plan
    (and says so), and still in a re-plan a week later with no new report."""
    before = [t for t in _plan(db).tasks if t.kind == "repair" and t.asset_id == "A-3" and t.end_date >= AS_OF]
    assert before and min(t.start_date for t in before) < dt.date(2025, 6, 12)  # it was due to go on at once
    report(db, [*week_as_planned(db), _blocked_report(dt.date(2025, 6, 7), blocked_by_hazard="yes",
                                                      blocking_hazard_id="H-2")])
    notes = []
    for as_of in (AS_OF, AS_OF + dt.timedelta(days=7)):
        outcome = _replan(db, _settings(as_of=as_of))
        notes.append([n for n in outcome.changes.notes if "blocked" in n])
        if as_of == AS_OF:  # the running lot of A-3 may no longer simply continue, and the report is the cause
            causes = {(m.reason, m.cause) for m in outcome.changes.moved_tasks
                      if m.task_id.startswith("repair A-3")}
            assert causes == {("waits for a predecessor", "reported blocked by hazard area H-2")}
        assert check(outcome.compiled.problem, outcome.result.schedule) == []
        tasks = outcome.run.tasks
        (released,) = [t for t in tasks if t.kind == "released" and t.hazard_id == "H-2"]
        repairs = [t for t in tasks if t.kind == "repair" and t.asset_id == "A-3" and t.start_date >= as_of]
        assert repairs and all(t.start_date > released.end_date for t in repairs)
        assert outcome.compiled.blocking["A-3"] == ("H-2",)
    assert len(notes[0]) == 1 and "by hazard area H-2" in notes[0][0]
    assert notes[1] == []  # said once, when reported

