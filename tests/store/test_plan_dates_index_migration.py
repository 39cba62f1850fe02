"""Migration 0017 (covering indexes of the latest plan's dates) down and up on both backends, and the items page's
statement answering a hazard area's planned release date from the index alone on SQLite."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from sqlalchemy import inspect

from sapper.store import engine as engines
from sapper.store import features, open_store
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store

NEW = {"ix_plan_tasks_run_hazard_kind_end", "ix_plan_tasks_run_asset_kind_end"}
OLD = {"ix_plan_tasks_run_hazard", "ix_plan_tasks_run_asset"}


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """An empty store at head on each backend."""
    return new_store(request, tmp_path, "s.gpkg")


def _indexes(target: str | Path) -> set[str]:
    engine = engines.make_engine(target)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy does not know PostGIS's geometry type: names are enough
            return {str(i["name"]) for i in inspect(engine).get_indexes("plan_tasks")}
    finally:
        engine.dispose()


def test_migration_0017_down_and_up(target: str | Path) -> None:
    """At head plan_tasks has the two covering indexes and not the ones they replace; down to 0016 it is the other
    way round; up again the covering ones are back."""
    assert _indexes(target) & (NEW | OLD) == NEW
    _migrate(target, "0016", down=True)
    assert _indexes(target) & (NEW | OLD) == OLD
    _migrate(target, "0017", down=False)
    assert _indexes(target) & (NEW | OLD) == NEW


def test_page_reads_planned_dates_from_the_covering_index(tmp_path: Path) -> None:
    """SQLite's plan of an items page with a bbox (the benchmark's request) reads the planned release date from
    the covering index (no row of plan_tasks is read)."""
    db = tmp_path / "s.gpkg"
    open_store(db, create=True).close()
    _, page = features._prepared("sqlite", "hazard_areas", scope=False, bbox=True, start=False, end=False)
    engine = engines.make_engine(db)
    try:
        with engine.connect() as conn:
            compiled = page.compile(dialect=conn.dialect)
            values = {"q_minx": 35.0, "q_miny": 51.0, "q_maxx": 35.5, "q_maxy": 51.5, "q_minx_in": 35.0001,
                      "q_miny_in": 51.0001, "q_maxx_in": 35.4999, "q_maxy_in": 51.4999, "q_limit": 100, "q_offset": 0}
            params = [values.get(k, compiled.params.get(k)) for k in compiled.positiontup or ()]
            driver = conn.connection.driver_connection
            assert driver is not None
            plan = " | ".join(str(r[-1]) for r in driver.execute("EXPLAIN QUERY PLAN " + str(compiled), params))
    finally:
        engine.dispose()
    assert "USING COVERING INDEX ix_plan_tasks_run_hazard_kind_end" in plan, plan
