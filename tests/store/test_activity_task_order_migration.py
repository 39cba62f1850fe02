"""Migration 0018 (the task order a land-release activity was done under) down and up on both backends: down drops
the column and keeps the activity, up brings it back empty; at head an activity's order round-trips, and the survey
listing by order reads it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.store import open_store
from sapper.store.records import SurveyUnderOrder
from tests.store.migrating import columns as _columns
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store
from tests.store.test_source_attributes_migration import AREA

DAY = dt.date(2026, 12, 7)


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend with an NTS done under TO-2026-0009 and a TS under no order."""
    where = new_store(request, tmp_path, "s.gpkg")
    with open_store(where) as store, store.write() as uow:
        uow.add_hazards([AREA])
        uow.add_activities([
            Activity("A-NTS", AREA.id, ActivityType.NTS, ActivityStatus.COMPLETED, start=DAY, end=DAY,
                     task_order="TO-2026-0009"),
            Activity("A-TS", AREA.id, ActivityType.TS, ActivityStatus.COMPLETED, start=DAY, end=DAY),
        ])
    return where


def test_migration_0018_down_and_up(target: str | Path) -> None:
    """At head the NTS keeps its order and is listed under it; down to 0017 drops the column and keeps both
    activities; up again brings the column back, empty."""
    with open_store(target) as store:
        assert {a.id: a.task_order for a in store.activities()} == {"A-NTS": "TO-2026-0009", "A-TS": None}
        assert store.surveys_under_orders() == [SurveyUnderOrder("TO-2026-0009", "A-NTS", DAY)]
    _migrate(target, "0017", down=True)
    assert "task_order" not in _columns(target, "activities")
    _migrate(target, "0018", down=False)
    assert "task_order" in _columns(target, "activities")
    with open_store(target) as store:
        assert {a.id: a.task_order for a in store.activities()} == {"A-NTS": None, "A-TS": None}
        assert store.surveys_under_orders() == []
