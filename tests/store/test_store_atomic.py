"""Units of work commit together or not at all; writers queue on the write lock instead of failing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sapper.domain.assets import Asset
from sapper.domain.hazards import HazardArea
from sapper.domain.resources import Organisation
from sapper.errors import ValidationError
from sapper.store import Store, open_store


def test_failure_inside_write_rolls_everything_back(store: Store, hazards: list[HazardArea],
                                                    assets: list[Asset], orgs: list[Organisation]) -> None:
    """An exception after several writes in one unit of work leaves the store exactly as before."""
    before = store.counts()
    with pytest.raises(RuntimeError, match="power cut"), store.write() as uow:
        uow.add_organisations(orgs)
        uow.add_hazards(hazards)
        uow.add_assets(assets)
        raise RuntimeError("power cut")
    assert store.counts() == before
    assert store.hazards() == []


def test_refused_second_write_undoes_the_first(store: Store, hazards: list[HazardArea],
                                              orgs: list[Organisation]) -> None:
    """When the second call of a unit of work is refused (duplicate id), the first call's rows are gone too."""
    with pytest.raises(ValidationError, match="already exists"), store.write() as uow:
        uow.add_organisations(orgs)
        uow.add_hazards(hazards)
        uow.add_hazards(hazards[:1])
    assert sum(store.counts().values()) == 0


def test_store_shortcuts_join_the_open_unit_of_work(store: Store, hazards: list[HazardArea],
                                                    orgs: list[Organisation]) -> None:
    """store.add_* inside store.write() is part of that unit of work (rolled back with it)."""
    with pytest.raises(KeyError), store.write():
        store.add_organisations(orgs)
        store.add_hazards(hazards)
        assert store.counts()["hazard_areas"] == len(hazards)  # reads see the open unit's writes
        raise KeyError("abort")
    assert store.counts()["hazard_areas"] == 0


def test_commit_is_visible_to_another_connection(store: Store, store_target: str | Path,
                                                 hazards: list[HazardArea]) -> None:
    """After write() exits, a second Store on the same file or database sees the rows."""
    store.add_hazards(hazards[:1])
    with open_store(store_target) as other:
        assert other.hazards() == hazards[:1]


def test_concurrent_writers_wait_for_the_lock(store: Store, store_target: str | Path,
                                              hazards: list[HazardArea]) -> None:
    """A second writer is not refused while the first holds its transaction open (SQLite: it waits on BEGIN
    IMMEDIATE + busy timeout; PostgreSQL: rows do not collide), and both commit."""
    other = open_store(store_target)
    started, errors = threading.Event(), []

    def second_writer() -> None:
        started.wait()
        try:
            other.add_hazards(hazards[2:3])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=second_writer)
    thread.start()
    with store.write() as uow:
        uow.add_hazards(hazards[:1])
        started.set()
        time.sleep(0.4)  # hold the write lock while the other writer tries
    thread.join(timeout=15)
    other.close()
    assert errors == []
    assert [h.id for h in store.hazards()] == ["h-1", "h-3"]


def test_reader_sees_snapshot_during_write(store: Store, store_target: str | Path,
                                          hazards: list[HazardArea]) -> None:
    """A reader is not blocked by an open write and sees only committed rows (WAL on SQLite, MVCC on PostgreSQL)."""
    store.add_hazards(hazards[:1])
    seen: list[int] = []
    with open_store(store_target) as reader, store.write() as uow:
        uow.add_assets([])
        uow.connection.exec_driver_sql("DELETE FROM hazard_areas")
        seen.append(len(reader.hazards()))
    assert seen == [1]
    assert store.hazards() == []


def test_a_store_busy_past_the_timeout_is_a_one_line_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   ) -> None:
    """SQLite's BEGIN IMMEDIATE goes straight to the driver (store.engine._on_begin); a store still locked by
    another writer when the busy timeout ends is a StoreError naming the store, not the driver's exception."""
    import sqlite3

    from sapper.errors import StoreError
    from sapper.store import engine

    path = tmp_path / "busy.gpkg"
    open_store(path, create=True).close()
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(path, isolation_level=None)
    with open_store(path) as store:
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
            with pytest.raises(StoreError, match=r"cannot be written.*locked"):
                store.set_meta({"k": "v"})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        store.set_meta({"k": "v"})  # free again
        assert store.meta()["k"] == "v"
