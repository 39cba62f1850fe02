"""Migration 0013 (the programme's calendar) down and up on both backends, and the calendar's round trip: the week,
the stand-downs and the holidays read back as written; down drops holidays and the calendar settings (the store then
plans with the defaults), up brings an empty holidays table back; a copied store keeps its calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.exc import NoSuchTableError

from sapper.domain.calendar import Holiday, ProgrammeCalendar, SeasonalWindow
from sapper.store import open_store
from tests.store.migrating import columns as _columns
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store

CAL = ProgrammeCalendar(weekdays=frozenset({0, 1, 2, 3, 4}),
                        holidays=(Holiday(dt.date(2027, 8, 24), "День Незалежності"), Holiday(dt.date(2027, 1, 1))),
                        deminers_stand_down=SeasonalWindow((12, 15), (2, 28)),
                        builders_stand_down=None)


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend, holding the calendar ``CAL``."""
    where = new_store(request, tmp_path, "s.gpkg")
    with open_store(where) as store, store.write() as uow:
        uow.set_calendar(CAL)
    return where


def test_calendar_round_trips(target: str | Path) -> None:
    """The stored calendar reads back equal (holidays sorted by date); setting another one replaces it whole."""
    with open_store(target) as store:
        assert store.calendar() == CAL
        assert [h.day for h in store.calendar().holidays] == [dt.date(2027, 1, 1), dt.date(2027, 8, 24)]
        with store.write() as uow:
            uow.set_calendar(ProgrammeCalendar())
        assert store.calendar() == ProgrammeCalendar()


def test_migration_0013_down_and_up(target: str | Path) -> None:
    """Down to 0012 drops the holidays table and the calendar settings (the default calendar is read by the older
    code's defaults); up again gives an empty holidays table and the default calendar."""
    _migrate(target, "0012", down=True)
    with pytest.raises(NoSuchTableError):
        _columns(target, "calendar_holidays")
    _migrate(target, "0013", down=False)
    assert _columns(target, "calendar_holidays") == {"day", "name"}
    with open_store(target) as store:
        assert store.calendar() == ProgrammeCalendar()
        assert not [k for k in store.meta() if k.startswith("calendar.")]


def test_copy_keeps_the_calendar(target: str | Path, tmp_path: Path) -> None:
    """`sapper copy` (Store.copy_into) carries the holidays and settings to a GeoPackage."""
    copy = tmp_path / "copy.gpkg"
    with open_store(target) as source, open_store(copy, create=True) as dest:
        source.copy_into(dest)
        assert dest.calendar() == CAL
