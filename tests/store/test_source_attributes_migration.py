"""Migration 0007 (source attributes) down and up on both backends: the column goes and comes back empty, the records
stay; at head, source attributes round-trip and an upsert of the record leaves them alone."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import shapely
from alembic import command
from sqlalchemy import inspect

from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.store import engine as engines
from sapper.store import open_store
from tests.conftest import PostgisServer

AREA = HazardArea("H-1", HazardClass.SHA, shapely.box(35.30, 51.30, 35.302, 51.301), Evidence.INDIRECT, name="поле")
ATTRS = {"fileId": "145", "oblast": "Курская", "area_ha": 1.5, "checked": True}


def _migrate(target: str | Path, revision: str, *, down: bool) -> None:
    engine = engines.make_engine(target)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(**{engines.WRITE: True})
            with conn.begin():
                (command.downgrade if down else command.upgrade)(engines.alembic_config(conn), revision)
    finally:
        engine.dispose()


def _columns(target: str | Path, table: str) -> set[str]:
    engine = engines.make_engine(target)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy does not know PostGIS's geometry type: columns are enough
            return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend, holding one hazard area with source attributes."""
    if request.param == "gpkg":
        where: str | Path = tmp_path / "s.gpkg"
        open_store(where, create=True).close()
    else:
        server: PostgisServer = request.getfixturevalue("postgis")
        where = server.clean_store_database()
    with open_store(where) as store, store.write() as uow:
        uow.add_hazards([AREA])
        uow.set_source_attributes("hazard_areas", {"H-1": ATTRS})
    return where


def test_source_attributes_round_trip_and_survive_an_upsert(target: str | Path) -> None:
    """Stored attributes read back as written (text, numbers, booleans, Cyrillic); re-writing the record with
    replace keeps them; only records with attributes are listed."""
    with open_store(target) as store:
        assert store.source_attributes("hazard_areas") == {"H-1": ATTRS}
        store.add_hazards([AREA], replace=True)
        assert store.source_attributes("hazard_areas") == {"H-1": ATTRS}
        assert store.source_attributes("assets") == {}


def test_migration_0007_down_and_up(target: str | Path) -> None:
    """Down to 0006 drops the column on both tables and keeps the records; up again adds it back, empty."""
    _migrate(target, "0006", down=True)
    assert "source_attributes" not in _columns(target, "hazard_areas") | _columns(target, "assets")
    _migrate(target, "0007", down=False)
    assert {"source_attributes"} <= _columns(target, "hazard_areas") & _columns(target, "assets")
    with open_store(target) as store:
        assert [h.id for h in store.hazards()] == ["H-1"]
        assert store.source_attributes("hazard_areas") == {}
