"""Re-plans of a plan by capabilities decoded unit by unit (``services.replan``): the previous plan kept wherever the
facts allow, at the level of units. A small kursk-border register (synthetic) is planned once by capabilities; a
re-plan at its own start with no progress moves no lot, and after a week in which one team works slower than planned
only the lots that must move do, and the saved plan passes the unit check with each unit's role at the as-of date."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from sapper.domain.resources import Method, Trade
from sapper.plan import check, check_units
from sapper.scenario.compile import PoolPolicy
from sapper.scenario.kursk_border import DEFAULT_TEAM_SIZES, KurskBorderConfig, build_kursk_border
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.replan import ReplanOutcome, ReplanSettings, replan_store
from sapper.store import open_store
from sapper.store.records import PlanRun
from tests.services.test_replan import report


def _register(db: Path) -> None:
    """A kursk-border register of 60 hazard areas, 30 assets, 8 teams and 7 brigades (seed 2025; synthetic)."""
    split = ((Method.SURVEY, 2), (Method.MANUAL, 3), (Method.DOG, 1), (Method.MECHANICAL, 1), (Method.BAC, 1))
    bsplit = ((Trade.ROAD, 2), (Trade.BRIDGE, 1), (Trade.POWER, 1), (Trade.WATER, 1), (Trade.BUILDING, 2))
    cfg = KurskBorderConfig(hazard_count=60, asset_count=30, village_count=12, team_split=split,
                            deminers=sum(n * dict(DEFAULT_TEAM_SIZES)[m] for m, n in split), brigade_split=bsplit,
                            builders=25 * sum(n for _, n in bsplit))
    sc = build_kursk_border(2025, config=cfg)
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_organisations(sc.organisations)
        uow.add_hazards(sc.hazards)
        uow.add_assets(sc.assets)
        uow.add_teams(sc.teams)
        uow.add_brigades(sc.brigades)
        uow.set_meta({"start_date": sc.start_date.isoformat(), "synthetic": "true"})


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("replan-units") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        outcome = plan_store(store, settings=PlanSettings(time_limit_s=4))
    assert outcome.run.params.pools is PoolPolicy.CAPABILITIES
    return db


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned, tmp_path / "register.gpkg"))


def _latest(db: Path) -> PlanRun:
    with open_store(db) as store:
        run = store.latest_plan()
    assert run is not None
    return run


def _replan(db: Path, **kw: Any) -> ReplanOutcome:
    with open_store(db) as store:
        return replan_store(store, settings=ReplanSettings(time_limit_s=4, **kw))


def _assert_units_check(outcome: ReplanOutcome) -> None:
    """The saved plan passes both independent checkers, the units' roles at the as-of date given."""
    problem, schedule = outcome.compiled.problem, outcome.result.schedule
    assert schedule is not None
    assert check(problem, schedule) == []
    units = {t.task_id: tuple(filter(None, (t.unit_id or "").split(","))) for t in outcome.run.tasks}
    assigned = [units.get(t.name, ()) for t in problem.tasks]
    c = outcome.compiled
    assert check_units(problem, schedule, assigned, roles=c.roles, home=c.home, setup=c.role_change_days,
                       initial=outcome.initial) == []


def test_a_capability_plan_replanned_at_its_start_without_progress_moves_no_lot(db: Path) -> None:
    """The previous plan has lots that continued a borrowed role (no set-up); re-planned at its own start date with
    nothing reported, it is feasible as it stands: no lot moves, and the weighted completion is no worse."""
    previous = _latest(db)
    assert previous.summary is not None and previous.objective is not None
    assert (previous.summary.details.get("set_up_saved_lots") or 0) > 0  # lots that continued a borrowed role
    outcome = _replan(db, as_of=previous.start_date)
    counts = outcome.changes.counts
    assert counts.lots_compared > 0
    assert counts.moved == 0, [m.task_id for m in outcome.changes.moved_tasks][:10]
    assert outcome.summary.replan is not None and outcome.summary.replan.weighted_completion is not None
    assert outcome.summary.replan.weighted_completion <= previous.objective
    _assert_units_check(outcome)


def _working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)
            if (first + dt.timedelta(days=i)).weekday() != 6]


def _week(previous: PlanRun, as_of: dt.date, slow: str, pace: float) -> list[dict[str, Any]]:
    """Daily clearance and repair reports of the lots planned before ``as_of``, at the planned pace except ``slow``'s
    lots (``pace`` of it)."""
    rows = []
    for t in previous.tasks:
        if t.kind not in ("clearance", "repair") or t.start_date >= as_of or not t.unit_id:
            continue
        days = _working_days(t.start_date, t.end_date)
        unit = t.unit_id.split(",")[0]
        factor = pace if unit == slow else 1.0
        rows += [{"kind": t.kind, "target": t.hazard_id or t.asset_id, "unit": unit, "day": d,
                  "amount": t.work / len(days) * factor} for d in days if d < as_of]
    return rows


def test_one_unit_slower_than_planned_moves_only_what_follows_its_lot(db: Path) -> None:
    """A week at the planned pace, except one unit (a brigade) at half of it: its running lot ends later, so its next
    lots (and what waits for them) may move — nothing else does, beside the lots any plan must move — and the
    saved plan passes the unit check with the roles the units are in at the as-of date."""
    previous = _latest(db)
    first = min((t for t in previous.tasks if t.kind in ("clearance", "repair") and t.unit_id
                 and "," not in t.unit_id and (t.end_date - t.start_date).days >= 14),
                key=lambda t: (t.start_date, t.task_id))
    as_of = first.start_date + dt.timedelta(days=7)  # its unit has worked on it for a week
    slow = first.unit_id
    report(db, _week(previous, as_of, slow, 0.5))
    with_bound = db.with_name("with-bound.gpkg")
    shutil.copy(db, with_bound)
    outcome = _replan(db, as_of=as_of)  # by default no lot takes another's slot while it finds free time
    problem = outcome.compiled.problem
    index = {t.name: j for j, t in enumerate(problem.tasks)}
    successors: dict[int, list[int]] = defaultdict(list)
    for p in problem.precedences:
        successors[p.pred].append(p.succ)
    affected: set[int] = set()
    stack = [index[t.task_id] for t in previous.tasks if t.unit_id == slow and t.task_id in index]
    while stack:
        j = stack.pop()
        if j not in affected:
            affected.add(j)
            stack += successors[j]
    must = {m.task_id for m in outcome.changes.moved_tasks if m.must_move}
    moved = {m.task_id for m in outcome.changes.moved_tasks}
    others = sorted(t for t in moved - must if index[t] not in affected)
    assert others == [], others
    assert len(moved) < outcome.changes.counts.lots_compared // 10
    _assert_units_check(outcome)
    # With a bound on the wait, a lot that must move may take another's slot: each other lot moved is
    # named with the lot it made room for, one the slower unit's lot moved (or a lot the facts moved).
    bounded = _replan(with_bound, as_of=as_of, max_wait_weeks=4)
    moved = {m.task_id for m in bounded.changes.moved_tasks}
    must = {m.task_id for m in bounded.changes.moved_tasks if m.must_move}
    room = {t.task_id: t.by for t in bounded.changes.taken}
    others = sorted(t for t in moved - must if index[t] not in affected)
    assert all(t in room and room[t] in moved for t in others), (others, room)
    assert len(moved) < bounded.changes.counts.lots_compared // 10
    _assert_units_check(bounded)
