"""Migration 0009 (task orders) down and up on both backends: the three tables go (with their GeoPackage contents
rows) and come back empty, the rest of the register stays; at head, an order round-trips with its lots and history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from shapely.geometry import Point

from sapper.domain.taskorders import OrderLot, OrderState, SiteKind, TaskOrder, UnitRole
from sapper.store import open_store
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store
from tests.store.migrating import tables as _tables
from tests.store.test_source_attributes_migration import AREA

TABLES = {"task_orders", "task_order_lots", "task_order_events"}
AT = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
ORDER = TaskOrder("", "T-1", UnitRole.TEAM, "OP-1", SiteKind.HAZARD_AREA, "H-1", 3, dt.date(2026, 12, 7),
                  dt.date(2026, 12, 20), OrderState.ISSUED, AT,
                  (OrderLot("clearance H-1/1", "clearance", "manual", dt.date(2026, 12, 7), dt.date(2026, 12, 9),
                            250.5, "m²"),),
                  Point(35.301, 51.3005), "road:R-1", ("sapper_clearance", "sapper_accident"))


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend with one hazard area and one task order."""
    where = new_store(request, tmp_path, "s.gpkg")
    with open_store(where) as store, store.write() as uow:
        uow.add_hazards([AREA])
        uow.task_orders.issue([ORDER], actor="ops", at=AT)
    return where


def test_an_order_round_trips(target: str | Path) -> None:
    """The stored order reads back with its number, lot, access point, forms and the event that issued it."""
    with open_store(target) as store:
        [order] = store.task_orders()
    assert order.number == "TO-2026-0001" and order.state is OrderState.ISSUED and order.plan_run_id == 3
    assert order.lots == ORDER.lots and order.forms == ORDER.forms and order.access_note == "road:R-1"
    assert (order.access_point.x, order.access_point.y) == (35.301, 51.3005)
    assert order.issued_at == AT and order.period_end == dt.date(2026, 12, 20)
    assert [(e.from_state, e.to_state, e.actor, e.reason) for e in order.history] == [
        (None, OrderState.ISSUED, "ops", "issued from plan run 3")]


def test_migration_0009_down_and_up(target: str | Path) -> None:
    """Down to 0007 drops the three tables and keeps the register; up again makes them, empty, and numbering starts
    from 0001 again."""
    _migrate(target, "0007", down=True)
    assert not TABLES & _tables(target)
    if isinstance(target, Path):
        import sqlite3

        with sqlite3.connect(target) as conn:
            rows = conn.execute("SELECT table_name FROM gpkg_contents WHERE table_name LIKE 'task_order%'").fetchall()
        assert rows == []
    _migrate(target, "0009", down=False)
    assert _tables(target) >= TABLES
    with open_store(target) as store:
        assert [h.id for h in store.hazards()] == ["H-1"] and store.task_orders() == []
        with store.write() as uow:
            [again] = uow.task_orders.issue([ORDER], actor="ops", at=AT)
    assert again.number == "TO-2026-0001"
