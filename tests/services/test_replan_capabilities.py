"""A plan by capabilities (the default pools) is re-planned and tasked: each lot keeps the role and pool its plan
chose, every unit is able to work in its lots' roles, and task orders go to the units the plan chose."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest

from sapper.domain.calendar import Calendar
from sapper.plan import check
from sapper.scenario.compile import PoolPolicy, TaskKind
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.replan import ReplanSettings, replan_store
from sapper.services.taskorders import OrderRequest, issue_orders
from sapper.store import open_store
from tests.services.test_replan import AS_OF, _register, report, week_as_planned

AT = dt.datetime(2025, 6, 9, 7, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def planned_by_capabilities(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_replan's hand-built store, planned with the default pools (by capabilities)."""
    db = tmp_path_factory.mktemp("replan-capabilities") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        outcome = plan_store(store, settings=PlanSettings(time_limit_s=5))
    assert outcome.run.params.pools is PoolPolicy.CAPABILITIES
    return db


@pytest.fixture
def db(planned_by_capabilities: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned_by_capabilities, tmp_path / "register.gpkg"))


def test_a_week_as_planned_replans_on_the_same_pools_and_roles(db: Path) -> None:
    """After a week at the planned pace, the re-plan keeps capabilities, each lot still to do keeps the role and pool
    of its planned lot, passes the checker, and gives every lot to a unit the register lets work in its role."""
    report(db, week_as_planned(db))
    with open_store(db) as store:
        before = store.latest_plan()
        outcome = replan_store(store, settings=ReplanSettings(as_of=AS_OF, time_limit_s=5.0))
        teams = {t.id: t for t in store.teams()}
        brigades = {b.id: b for b in store.brigades()}
        after = store.latest_plan()
    assert before is not None and after is not None and after.id != before.id
    assert after.params.pools is PoolPolicy.CAPABILITIES
    assert outcome.result.schedule is not None
    assert check(outcome.compiled.problem, outcome.result.schedule) == []
    old = {t.task_id: t for t in before.tasks}
    kept = 0
    for t in after.tasks:
        if t.kind not in (TaskKind.CLEARANCE, TaskKind.REPAIR, TaskKind.TS, TaskKind.NTS) or t.end_date < AS_OF:
            continue
        for u in filter(None, t.unit_id.split(",")):
            can = {m.value for m in teams[u].methods} if u in teams else {x.value for x in brigades[u].all_trades}
            assert t.mode in can, (t.task_id, u, t.mode)
        if t.task_id in old and old[t.task_id].start_date >= AS_OF:
            assert (t.mode, t.resource) == (old[t.task_id].mode, old[t.task_id].resource), t.task_id
            kept += 1
    assert kept > 0


def test_task_orders_go_to_the_units_a_capability_plan_chose(db: Path) -> None:
    """Orders for all units over 10 weeks: each order's lots are the plan's lots of that unit, in the plan's role."""
    with open_store(db) as store:
        plan = store.latest_plan()
        result = issue_orders(store, OrderRequest(all_units=True, weeks=10), actor="ops", at=AT)
    assert plan is not None
    by_task = {t.task_id: t for t in plan.tasks}
    issued = 0
    for orders in result.units:
        for sheet in orders.sheets:
            assert sheet.order.unit_id == orders.unit.id
            for lot in sheet.order.lots:
                planned = by_task[lot.task_id]
                assert orders.unit.id in planned.unit_id.split(","), (lot.task_id, orders.unit.id)
                assert lot.method == planned.mode
                issued += 1
    assert issued > 0


def _continued_lot(db: Path) -> tuple[str, dt.date, dt.date]:
    """Save a previous plan in which the survey team, after its manual lot on H-2, does a second manual lot of H-2
    straight after without set-up (it continued its role, as ``plan.setups`` plans it); the lot and its dates."""
    with open_store(db) as store:
        prev = store.latest_plan()
        assert prev is not None
        by_id = {t.task_id: t for t in prev.tasks}
        first = by_id["clearance H-2/3"]
        assert first.mode == "manual" and first.unit_id == "T-SUR-1"  # a borrowed role: set-up on this lot
        cal = Calendar(prev.start_date, weekdays=prev.params.weekdays, holidays=prev.params.holidays)
        days = cal.index_of(first.end_date) + 1 - cal.index_of(first.start_date)
        start = cal.index_of(first.end_date) + 1
        end = start + days - prev.params.role_change_days
        second = dataclasses.replace(by_id["clearance H-2/2"], mode=first.mode, resource=first.resource,
                                     unit_id=first.unit_id, start_date=cal.date_of(start),
                                     end_date=cal.end_date_of(end))
        released = by_id["released H-2"]
        later = second.end_date - first.end_date  # the release waits for the second lot
        released = dataclasses.replace(released, start_date=released.start_date + later,
                                       end_date=released.end_date + later)
        tasks = tuple(second if t.task_id == second.task_id else released if t.task_id == released.task_id else t
                      for t in prev.tasks)
        store.save_plan(dataclasses.replace(prev, id=None, tasks=tasks))
    return second.task_id, second.start_date, second.end_date


def test_a_lot_that_continued_its_role_keeps_its_start_and_duration(db: Path) -> None:
    """With ``keep_continued``, a lot the previous plan gave no set-up (its unit did a lot in the same borrowed role
    just before) keeps its start, its end and its unit in the re-plan after a week as planned, and the saved plan
    passes the unit check (``plan_run`` runs it)."""
    lot, start, end = _continued_lot(db)
    report(db, week_as_planned(db))
    with open_store(db) as store:
        outcome = replan_store(store, settings=ReplanSettings(as_of=AS_OF, time_limit_s=5.0, keep_continued=True))
    assert outcome.result.schedule is not None
    assert check(outcome.compiled.problem, outcome.result.schedule) == []
    new = {t.task_id: t for t in outcome.run.tasks}[lot]
    assert (new.start_date, new.end_date, new.unit_id) == (start, end, "T-SUR-1")
    assert len(outcome.frame.continued) == 1
    assert lot not in {m.task_id for m in outcome.changes.moved_tasks}
