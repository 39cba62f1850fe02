"""Migration 0016 (capabilities of teams and brigades) down and up on both backends, and the capabilities' round
trip: named capabilities read back as written, none reads back as the default."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Point

from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.store import open_store
from tests.store.migrating import columns as _columns
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store

BASE = Point(35.3, 51.3)
TEAMS = [
    DeminerTeam("T-DOG", "op", Method.MANUAL, 8, BASE, 180.0, capabilities=frozenset({Method.DOG})),
    DeminerTeam("T-DEF", "op", Method.SURVEY, 6, BASE, 9_000.0),
]
BRIGADES = [
    BuilderBrigade("B-RB", "con", Trade.ROAD, 25, BASE, trades=frozenset({Trade.BRIDGE, Trade.WATER})),
    BuilderBrigade("B-DEF", "con", Trade.POWER, 25, BASE),
]


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend, holding ``TEAMS`` and ``BRIGADES``."""
    where = new_store(request, tmp_path, "s.gpkg")
    with open_store(where) as store, store.write() as uow:
        uow.add_organisations(
            [Organisation("op", "Operator", OrgKind.OPERATOR), Organisation("con", "Contractor", OrgKind.CONTRACTOR)]
        )
        uow.add_teams(TEAMS)
        uow.add_brigades(BRIGADES)
    return where


def test_capabilities_round_trip(target: str | Path) -> None:
    """Teams and brigades read back equal: named capabilities as written, none as none (the default applies)."""
    with open_store(target) as store:
        assert sorted(store.teams(), key=lambda t: t.id) == sorted(TEAMS, key=lambda t: t.id)
        assert sorted(store.brigades(), key=lambda b: b.id) == sorted(BRIGADES, key=lambda b: b.id)
        default = next(t for t in store.teams() if t.id == "T-DEF")
        assert default.methods == {Method.SURVEY, Method.MANUAL}


def test_migration_0016_down_and_up(target: str | Path) -> None:
    """Down to 0013 drops the two columns, keeping the teams and brigades; up again brings them back empty: every
    unit has the default capabilities."""
    _migrate(target, "0013", down=True)
    assert "capabilities" not in _columns(target, "teams") | _columns(target, "brigades")
    _migrate(target, "0016", down=False)
    assert "capabilities" in _columns(target, "teams") and "capabilities" in _columns(target, "brigades")
    with open_store(target) as store:
        assert {t.id: t.capabilities for t in store.teams()} == {"T-DOG": frozenset(), "T-DEF": frozenset()}
        assert {b.id: b.trades for b in store.brigades()} == {"B-RB": frozenset(), "B-DEF": frozenset()}
