"""The programme's calendar in planning: a holiday moves planned lots by exactly the working day it takes, a five-day
week leaves Saturdays free, a builders' stand-down keeps repairs out of its window, a re-plan and the forecast follow
the stored calendar; `sapper calendar` edits it with one-line errors.

Uses the hand-built register of ``test_replan`` (plan start Monday 2 June 2025), planned with the greedy engine so
that a plan's working-day schedule does not depend on the solver's luck.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from sapper.domain.calendar import Calendar, Holiday, SeasonalWindow
from sapper.plan import Engine
from sapper.scenario.compile import WORK_KINDS, TaskKind
from sapper.services import calendar as cal_service
from sapper.services.forecast import forecast_plan
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.replan import ReplanSettings, replan_store
from sapper.store import open_store
from sapper.store.records import PlanRun
from tests.services.test_replan import AS_OF, SAPPER, START, _register

GREEDY = PlanSettings(engine=Engine.GREEDY, time_limit_s=5)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "register.gpkg"
    _register(path)
    return path


def _plan(db: Path) -> PlanRun:
    with open_store(db) as store:
        return plan_store(store, settings=GREEDY).run


def _busy(run: PlanRun, day: dt.date) -> list[str]:
    """Work lots that start or end on ``day``."""
    return [t.task_id for t in run.tasks if t.kind in WORK_KINDS and day in (t.start_date, t.end_date)]


def test_a_holiday_moves_every_later_date_by_one_working_day(db: Path) -> None:
    """A holiday inside T-MAN-1's clearance of H-1 leaves the plan's working-day schedule as it was: every date on
    or after it moves to the next working day, every date before it stays, nothing starts or ends on it, and the plan
    records the holiday."""
    before = _plan(db)
    lot = next(t for t in before.tasks if t.task_id == "clearance H-1/1")
    holiday = lot.start_date + dt.timedelta(days=3)
    assert holiday.weekday() != 6 and lot.start_date < holiday < lot.end_date
    with open_store(db) as store:
        cal_service.add_holidays(store, holiday, name="test")
    after = _plan(db)
    assert after.params.holidays == frozenset({holiday})
    old = Calendar(START)
    new = Calendar(START, holidays=frozenset({holiday}))
    moved = {t.task_id: t for t in after.tasks}
    for t in before.tasks:
        n = moved[t.task_id]
        assert n.start_date == new.date_of(old.index_of(t.start_date)), t.task_id
        assert n.end_date == new.date_of(old.index_of(t.end_date)), t.task_id
    assert moved["clearance H-1/1"].end_date > lot.end_date
    assert _busy(after, holiday) == []


def test_a_five_day_week_and_a_builders_stand_down(db: Path) -> None:
    """With a Monday–Friday week no lot starts or ends on a Saturday; with builders standing down in July no repair
    lot works in July."""
    with open_store(db) as store:
        cal_service.set_week(store, "mon-fri")
        cal_service.set_stand_down(store, "builders", "07-01", "07-31")
    run = _plan(db)
    assert run.params.weekdays == frozenset(range(5))
    lots = [t for t in run.tasks if t.kind in WORK_KINDS]
    assert lots and all(d.weekday() < 5 for t in lots for d in (t.start_date, t.end_date))
    july = (dt.date(2025, 7, 1), dt.date(2025, 7, 31))
    for t in lots:
        if t.kind is TaskKind.REPAIR:
            assert t.end_date < july[0] or t.start_date > july[1], t.task_id
    assert run.params.building_stand_down == SeasonalWindow((7, 1), (7, 31))


def test_replan_follows_a_holiday_added_after_the_plan(db: Path) -> None:
    """A holiday added after the first plan: the re-plan (as of a week later) plans nothing on it and records it."""
    _plan(db)
    holiday = AS_OF + dt.timedelta(days=3)
    with open_store(db) as store:
        cal_service.add_holidays(store, holiday, name="national day")
        out = replan_store(store, settings=ReplanSettings(as_of=AS_OF, time_limit_s=3, engine=Engine.GREEDY))
    assert out.run.params.holidays == frozenset({holiday})
    assert _busy(out.run, holiday) == []


def test_the_forecast_follows_the_calendars_holidays(db: Path) -> None:
    """Without stand-downs, two weeks of holidays at the start shift every working day by exactly 14 calendar days:
    the plan made with them is the plan made without, two weeks later, and its forecast (same seed) finishes exactly
    14 days later at every percentile."""
    with open_store(db) as store:
        cal_service.remove_stand_down(store, "deminers")
    _plan(db)
    with open_store(db) as store:
        first = forecast_plan(store, runs=200, seed=3, progress=False).overall
        cal_service.add_holidays(store, START, last=START + dt.timedelta(days=13), name="stand-by")
    _plan(db)
    with open_store(db) as store:
        later = forecast_plan(store, runs=200, seed=3, progress=False).overall
    for p in ("p10", "p50", "p90"):
        assert getattr(later, p) - getattr(first, p) == dt.timedelta(days=14), p


def test_calendar_service_rules(db: Path) -> None:
    """Holidays added twice are listed once (renamed), removed by range, an unknown one is not found; a group
    without a stand-down cannot lose it; the stored calendar reads back."""
    d = dt.date(2027, 1, 7)
    with open_store(db) as store:
        assert cal_service.add_holidays(store, d, name="Christmas").did.startswith("holidays: added 1")
        change = cal_service.add_holidays(store, d, last=d + dt.timedelta(days=1), name="Orthodox Christmas")
        assert "1 already listed, 1 renamed" in change.did
        assert store.calendar().holidays == (Holiday(d, "Orthodox Christmas"),
                                             Holiday(d + dt.timedelta(days=1), "Orthodox Christmas"))
        cal_service.remove_holidays(store, d, last=d + dt.timedelta(days=5))
        assert store.calendar().holidays == ()
        with pytest.raises(Exception, match="no holiday on 2027-01-07"):
            cal_service.remove_holidays(store, d)
        with pytest.raises(Exception, match="builders have no stand-down"):
            cal_service.remove_stand_down(store, "builders")
        with pytest.raises(Exception, match="at most 366"):
            cal_service.add_holidays(store, d, last=d + dt.timedelta(days=400))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SAPPER, *args], capture_output=True, text=True, timeout=60, check=False)


def test_cli_calendar(db: Path) -> None:
    """`sapper calendar` shows the defaults, changes one thing per command and says the saved plan is unchanged;
    bad input is one line with exit 2, a missing holiday exit 3."""
    shown = _run("calendar", "show", "--db", str(db))
    assert shown.returncode == 0 and "mon-sat (6 days)" in shown.stdout
    assert "deminers 12-01..03-15; builders none" in shown.stdout
    proc = _run("calendar", "add-holiday", "2025-08-24", "--name", "Independence Day", "--db", str(db))
    assert proc.returncode == 0 and "2025-08-24  Independence Day" in proc.stdout and "unchanged" in proc.stdout
    assert _run("calendar", "set-week", "sun-thu", "--db", str(db)).returncode == 0
    assert '"week": "sun-thu"' in _run("calendar", "show", "--db", str(db), "--json").stdout
    for args, code in ((("set-week", "funday"), 2), (("add-standdown", "--for", "cooks", "--from", "12-01", "--to",
                                                       "03-01"), 2),
                       (("add-standdown", "--for", "builders", "--from", "02-30", "--to", "03-01"), 2),
                       (("add-holiday", "2025-13-01"), 2), (("remove",), 2),
                       (("remove", "--holiday", "2025-08-25"), 3)):
        bad = _run("calendar", *args, "--db", str(db))
        assert bad.returncode == code, (args, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
