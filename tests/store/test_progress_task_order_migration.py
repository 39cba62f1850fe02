"""Migration 0014 (the task order a progress report names) down and up on both backends: down drops the column and
keeps the reports, up brings it back empty; at head a report's order round-trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from shapely.geometry import Point

from sapper.domain.fielddata import (
    ProgressKind,
    ProgressReport,
    StagingState,
    Submission,
    SubmissionSource,
)
from sapper.domain.resources import DeminerTeam, Method, Organisation, OrgKind
from sapper.store import open_store
from tests.store.migrating import columns as _columns
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store
from tests.store.test_source_attributes_migration import AREA

AT = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend with one clearance report applied under TO-2026-0007."""
    where = new_store(request, tmp_path, "s.gpkg")
    with open_store(where) as store, store.write() as uow:
        uow.add_hazards([AREA])
        uow.add_organisations([Organisation("OP-1", "Operator One", OrgKind.OPERATOR)])
        uow.add_teams([DeminerTeam("T-1", "OP-1", Method.MANUAL, 8, Point(35.28, 51.29), 180.0)])
        sub = Submission(SubmissionSource.ODK_CENTRAL, "sapper_clearance", "uuid:1", "uuid:1", fields={})
        staged = uow.field_staging.stage(sub, kind="clearance", source_file="t", actor="t", at=AT)
        for state in (StagingState.REVIEWED, StagingState.APPROVED):
            uow.field_staging.transition(staged.staged_id, state, actor="t", reason="", at=AT)
        report = ProgressReport(
            "uuid:1",
            ProgressKind.CLEARANCE,
            dt.date(2026, 12, 7),
            hazard_id=AREA.id,
            team_id="T-1",
            area_cleared_m2=120.0,
            task_order="TO-2026-0007",
        )
        uow.field_staging.apply(staged.staged_id, report, actor="t", at=AT)
    return where


def test_migration_0014_down_and_up(target: str | Path) -> None:
    """At head the report keeps its order; down to 0013 drops the column and keeps the report; up again brings the
    column back, empty."""
    with open_store(target) as store:
        assert [p.task_order for p in store.field_progress()] == ["TO-2026-0007"]
    _migrate(target, "0013", down=True)
    assert "task_order" not in _columns(target, "field_progress")
    _migrate(target, "0014", down=False)
    assert "task_order" in _columns(target, "field_progress")
    with open_store(target) as store:
        [report] = store.field_progress()
        assert (report.area_cleared_m2, report.task_order) == (120.0, None)
