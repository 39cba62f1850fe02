"""The plan run's JSON (store.planjson): typed parameters and summary survive the store, plans saved in the format
written before they were typed still load, and a wrong value is a StoreError naming the run and the key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from sapper.domain.calendar import WINTER_STAND_DOWN, SeasonalWindow
from sapper.errors import StoreError
from sapper.plan import Engine, MovePolicy, Status
from sapper.scenario.compile import PoolPolicy, TaskKind
from sapper.store import PlannedTask, PlanRun, Store
from sapper.store.planjson import params_from_json, params_to_json, summary_from_json, summary_to_json
from sapper.store.records import (
    Checkpoint,
    PlanParams,
    PlanSummary,
    ReplanCounts,
    ReplanParams,
    ReplanSummary,
    ShiftStats,
)

#: The keys ``sapper plan --json`` printed before the summary was typed, in that order.
PLAN_KEYS = ["status", "objective", "lower_bound", "baseline_objective", "gap_pct", "improvement_over_baseline_pct",
             "engine", "start_date", "finish_date", "task_count", "work_task_count", "solve_seconds",
             "objective_meaning", "hazard_areas", "hazard_area_km2", "assets", "critical_assets", "progress",
             "details", "synthetic"]
#: What a re-plan's summary added.
REPLAN_KEYS = ["replan", "weighted_completion", "move_cost_total", "baseline_meaning"]


def _summary(*, replan: bool) -> PlanSummary:
    counts = ReplanCounts(
        previous_plan_id=1, previous_start_date=dt.date(2025, 6, 2), as_of=dt.date(2025, 6, 9),
        progress_from=None, progress_reports=12, stable=True, move_cost=300, lots_compared=40, finished=2,
        running=2, started_early=0, not_started_as_planned=1, removed=1, removed_by_reason={"cancelled": 1},
        added=1, added_by_reason={"hazard area larger than planned": 1}, moved=3, moved_earlier=1, moved_later=2,
        shift_working_days=ShiftStats(-2, 3.0, 9), moved_by_reason={"predecessor late": 2, "pool busy": 1},
        moved_by_cause={"slower than planned": 2}, must_move=2, anchored_moved=2, fewest_moves=2,
        fewest_moves_bound=2, fewest_moves_proven=True, pushed_forward=3, repair_moved=4, team_changed=1,
        pinned_running=2, running_not_continuing={"team lost": 1})
    return PlanSummary(
        status=Status.FEASIBLE, objective=1234.0, lower_bound=1000.5, baseline_objective=1500.0, gap_pct=18.92,
        improvement_over_baseline_pct=17.73, engine="cpsat", start_date=dt.date(2025, 6, 9),
        finish_date=dt.date(2027, 3, 1), task_count=120, work_task_count=90, solve_seconds=4.5,
        objective_meaning="priority-weighted completion", hazard_areas=30, hazard_area_km2=2.5, assets=20,
        critical_assets=4,
        progress=(Checkpoint(dt.date(2025, 12, 31), 1.25, 50.0, None, 40.0),
                  Checkpoint(dt.date(2027, 3, 1), 2.5, 100.0, 100.0, 100.0)),
        details={"cpsat_status": "feasible", "cpsat_bound": 1000.5, "false_proof": False, "ortools": None},
        synthetic=True,
        replan=ReplanSummary(counts, 1200.0, 34, "the previous plan repaired to the new facts") if replan else None)


def _params(*, replan: bool) -> PlanParams:
    return PlanParams(time_limit_s=5.0, workers=1, seed=7, engine=Engine.GREEDY, lot_max_days=30,
                      weekdays=frozenset({0, 1, 2, 3, 4}), demining_stand_down=SeasonalWindow((12, 1), (2, 28)),
                      building_stand_down=None,
                      replan=ReplanParams(replan_of=1, as_of=dt.date(2025, 6, 9), progress_through=dt.date(2025, 6, 9),
                                          stable=True, moves=MovePolicy.PRICED, move_cost=300, move_cost_days=20.0)
                      if replan else None,
                      # a re-plan of a budget-capped plan keeps its budgets (saved with it)
                      budget_demining=25e6 if replan else None, budget_pricing="sapper default" if replan else None)


def _task() -> PlannedTask:
    return PlannedTask("clearance H-1/1", TaskKind.CLEARANCE, dt.date(2025, 6, 9), dt.date(2025, 7, 1), 5000.0, "m²",
                       hazard_id="H-1", mode="manual", resource="deminers:manual", unit_id="T-1")


@pytest.mark.parametrize("replan", [False, True])
def test_typed_plan_run_round_trips_through_the_store(store: Store, replan: bool) -> None:
    """A plan run with typed parameters and summary (a plan, and a re-plan with its counts and budgets) comes back
    equal."""
    run = PlanRun("feasible", objective=1234.0, params=_params(replan=replan), summary=_summary(replan=replan),
                  tasks=(_task(),))
    saved = store.plan(store.save_plan(run))
    assert saved.params == run.params
    assert saved.summary == run.summary
    assert saved.tasks == run.tasks and saved.tasks[0].kind is TaskKind.CLEARANCE
    assert saved.start_date == dt.date(2025, 6, 9)


def test_summary_json_keeps_the_keys_sapper_plan_printed() -> None:
    """The summary's JSON has the keys (and order) the untyped summary had; a re-plan adds its four after them."""
    assert list(summary_to_json(_summary(replan=False))) == PLAN_KEYS
    doc = summary_to_json(_summary(replan=True))
    assert list(doc) == PLAN_KEYS + REPLAN_KEYS
    assert doc["start_date"] == "2025-06-09" and doc["status"] == "feasible"
    assert doc["progress"] == [  # type: ignore[comparison-overlap]
        {"date": "2025-12-31", "hazard_area_released_km2": 1.25, "hazard_area_released_pct": 50.0,
         "critical_assets_restored_pct": None, "assets_restored_pct": 40.0},
        {"date": "2027-03-01", "hazard_area_released_km2": 2.5, "hazard_area_released_pct": 100.0,
         "critical_assets_restored_pct": 100.0, "assets_restored_pct": 100.0}]
    replan = doc["replan"]
    assert isinstance(replan, dict) and replan["shift_working_days"] == {"min": -2, "median": 3.0, "max": 9}
    assert params_to_json(_params(replan=True))["demining_stand_down"] == [[12, 1], [2, 28]]


def test_summary_of_a_plan_without_one_leaves_out_the_replan_figures() -> None:
    """A re-plan without a plan has no weighted completion or move cost in its JSON, as before."""
    s = _summary(replan=True)
    assert s.replan is not None
    bare = dataclasses.replace(s, replan=dataclasses.replace(s.replan, weighted_completion=None, move_cost_total=None))
    doc = summary_to_json(bare)
    assert "weighted_completion" not in doc and "move_cost_total" not in doc and "baseline_meaning" in doc
    assert summary_from_json(json.loads(json.dumps(doc)), "plan run 1") == bare


# A plan and a re-plan as the untyped code saved them (json.dumps(..., sort_keys=True) of its dicts), including a
# re-plan saved before moves could be ranked first (no "moves", no fewest-moves figures, no team_changed).
OLD_PLAN_PARAMS = ('{"building_stand_down": null, "demining_stand_down": [[12, 1], [3, 15]], "engine": "cpsat", '
                   '"lot_max_days": 60, "seed": 0, "time_limit_s": 60.0, "weekdays": [0, 1, 2, 3, 4, 5], '
                   '"workers": 2}')
OLD_PLAN_SUMMARY = json.dumps({
    "assets": 2, "baseline_objective": 1500.0, "critical_assets": 1, "details": {"cpsat_status": "optimal",
                                                                                 "own_lower_bound": 1200.0},
    "engine": "cpsat", "finish_date": "2026-05-01", "gap_pct": 0.0, "hazard_area_km2": 0.03, "hazard_areas": 3,
    "improvement_over_baseline_pct": 20.0, "lower_bound": 1200.0, "objective": 1200.0,
    "objective_meaning": "priority-weighted completion", "progress": [
        {"assets_restored_pct": 50.0, "critical_assets_restored_pct": 100.0, "date": "2025-12-31",
         "hazard_area_released_km2": 0.02, "hazard_area_released_pct": 66.7}],
    "solve_seconds": 1.23, "start_date": "2025-06-02", "status": "optimal", "synthetic": False, "task_count": 14,
    "work_task_count": 9}, sort_keys=True)
OLD_REPLAN_PARAMS = ('{"as_of": "2025-06-09", "building_stand_down": null, "demining_stand_down": [[12, 1], [3, 15]], '
                     '"engine": "cpsat", "lot_max_days": 60, "move_cost": 300, "move_cost_days": 20.0, '
                     '"progress_through": "2025-06-09", "replan_of": 1, "seed": 0, "stable": true, '
                     '"time_limit_s": 60.0, "weekdays": [0, 1, 2, 3, 4, 5], "workers": 2}')
_old = json.loads(OLD_PLAN_SUMMARY)
_old.update(start_date="2025-06-09", baseline_meaning="the previous plan repaired to the new facts",
            weighted_completion=1100.0, move_cost_total=300, replan={
                "previous_plan_id": 1, "previous_start_date": "2025-06-02", "as_of": "2025-06-09",
                "progress_from": None, "progress_reports": 5, "stable": True, "move_cost": 300, "lots_compared": 8,
                "finished": 1, "running": 1, "started_early": 0, "not_started_as_planned": 0, "removed": 0,
                "removed_by_reason": {}, "added": 0, "added_by_reason": {}, "moved": 1, "moved_earlier": 0,
                "moved_later": 1, "shift_working_days": {"min": 4, "median": 4, "max": 4},
                "moved_by_reason": {"predecessor late": 1}, "moved_by_cause": {"slower than planned": 1},
                "must_move": 1, "anchored_moved": 1, "pushed_forward": 1, "repair_moved": 1, "pinned_running": 1,
                "running_not_continuing": {}})
OLD_REPLAN_SUMMARY = json.dumps(_old, sort_keys=True)


def _insert(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with sqlite3.connect(path) as conn:
        for status, params, summary in rows:
            conn.execute("INSERT INTO plan_runs (created_at, status, solve_seconds, task_count, params, summary) "
                         "VALUES ('2025-06-02T08:00:00.000Z', ?, 1.0, 0, ?, ?)", (status, params, summary))


def test_plans_saved_in_the_old_format_load(gpkg_store: Store, db_path: Path) -> None:
    """Plan runs written by the untyped code (a plan, a re-plan from before fewest moves, a run with empty params and
    summary) load into the typed records, with the defaults they were made with for what they do not record."""
    _insert(db_path, [("optimal", OLD_PLAN_PARAMS, OLD_PLAN_SUMMARY), ("feasible", OLD_REPLAN_PARAMS,
                                                                       OLD_REPLAN_SUMMARY), ("old", "{}", "{}")])
    store = gpkg_store
    plan, replan, bare = store.plan(1), store.plan(2), store.plan(3)
    # Made before pools by capabilities (now the default) existed: on fixed pools, as it was.
    made_then = PlanParams(pools=PoolPolicy.FIXED)
    assert plan.params == made_then and plan.params.compile_params().demining_stand_down == WINTER_STAND_DOWN
    assert plan.summary is not None and plan.summary.status is Status.OPTIMAL
    assert plan.summary.start_date == dt.date(2025, 6, 2) and plan.summary.finish_date == dt.date(2026, 5, 1)
    assert plan.summary.progress == (Checkpoint(dt.date(2025, 12, 31), 0.02, 66.7, 100.0, 50.0),)
    assert plan.summary.details == {"cpsat_status": "optimal", "own_lower_bound": 1200.0}
    assert plan.summary.replan is None and plan.params.progress_through is None
    assert replan.params.replan == ReplanParams(1, dt.date(2025, 6, 9), dt.date(2025, 6, 9), True, MovePolicy.PRICED,
                                                300, 20.0)
    assert replan.params.progress_through == dt.date(2025, 6, 9)
    r = replan.summary.replan if replan.summary else None
    assert r is not None and (r.weighted_completion, r.move_cost_total) == (1100.0, 300)
    assert r.counts.moved == 1 and r.counts.fewest_moves is None and r.counts.team_changed == 0
    assert r.counts.shift_working_days == ShiftStats(4, 4, 4)
    assert bare.params == made_then and bare.summary is None
    with pytest.raises(StoreError, match="plan run 3 has no summary"):
        _ = bare.start_date
    # Saved again, the typed records write what they read.
    assert summary_from_json(summary_to_json(replan.summary), "x") == replan.summary  # type: ignore[arg-type]
    assert params_from_json(params_to_json(replan.params), "x") == replan.params


@pytest.mark.parametrize(("params", "summary", "message"), [
    ('{"engine": "quantum"}', "{}", r"plan run 1: params 'engine' is not an engine \(cpsat, greedy\)"),
    ('{"weekdays": [0, 9]}', "{}", r"plan run 1: params 'weekdays' is not a list of weekdays"),
    ('{"demining_stand_down": [[13, 1], [2, 28]]}', "{}", r"plan run 1: params 'demining_stand_down' is not a window"),
    ("{}", '{"status": "optimal"}', r"plan run 1: summary has no 'start_date'"),
    ("{}", '{"status": "optimal", "start_date": "June"}', r"plan run 1: summary 'start_date' is not a date"),
    ("{}", '{"status": "done", "start_date": "2025-06-02"}', r"plan run 1: summary 'status' is not a plan status"),
    ("{}", "[1, 2]", r"plan run 1: summary is not a JSON object"),
    ("{", "{}", r"plan run 1: params is not valid JSON"),
])
def test_a_wrong_saved_value_names_the_run_and_the_key(gpkg_store: Store, db_path: Path, params: str, summary: str,
                                                       message: str) -> None:
    """A stored value of the wrong type is a one-line StoreError naming the plan run and the key, not a traceback."""
    _insert(db_path, [("optimal", params, summary)])
    with pytest.raises(StoreError, match=message):
        gpkg_store.plan(1)
