"""Migration 0007 (source attributes) down and up on both backends: the column goes and comes back empty, the records
stay; at head, source attributes round-trip and an upsert of the record leaves them alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.store import open_store
from tests.store.migrating import columns as _columns
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store

AREA = HazardArea("H-1", HazardClass.SHA, shapely.box(35.30, 51.30, 35.302, 51.301), Evidence.INDIRECT, name="поле")
ATTRS = {"fileId": "145", "oblast": "Курская", "area_ha": 1.5, "checked": True}


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend, holding one hazard area with source attributes."""
    where = new_store(request, tmp_path, "s.gpkg")
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
