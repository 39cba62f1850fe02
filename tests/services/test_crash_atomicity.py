"""Issue 16, item 3, small version: ``kill -9`` of a real ``sapper import hazards`` and ``sapper plan`` process at
random moments (half of them once the write transaction is under way) leaves a sound GeoPackage (integrity and
foreign keys), no partial import or plan, and a re-run that ends where an uninterrupted run ends. The full size
(50 kills of each, a 10,000-feature import) is ``benchmarks/reliability_crash.py``, whose code this test runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmark_scripts import load


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    return load("reliability_crash")


def test_killed_imports_are_all_or_nothing_and_resume(harness: ModuleType, tmp_path: Path) -> None:
    """Three kills of a 4,000-feature import (enough for its write transaction, now a fast bulk write, to be seen and
    hit): each store sound, holding all of the import or none of it; the re-run with --skip-existing completes it
    exactly, and once more imports nothing."""
    series = harness.import_series(tmp_path, runs=3, features=4000, seed=3, idempotent_every=2)
    assert [k.state for k in series.kills if k.state == "partial"] == []
    assert all(k.integrity == "ok" and k.dangling == 0 for k in series.kills), [asdict(k) for k in series.kills]
    assert all(k.rerun_ok for k in series.kills), [asdict(k) for k in series.kills]
    assert any(k.during_write for k in series.kills)  # at least one died inside its write transaction


def test_killed_plan_saves_are_all_or_nothing_and_resume(harness: ModuleType, tmp_path: Path) -> None:
    """Three kills of `sapper plan`: each store sound, with the earlier plan and either no new plan or a whole
    one; the re-run saves the plan an uninterrupted run saves."""
    series = harness.plan_series(tmp_path, runs=3, hazards=300, seed=3)
    assert [k.state for k in series.kills if k.state == "partial"] == []
    assert all(k.integrity == "ok" and k.dangling == 0 for k in series.kills), [asdict(k) for k in series.kills]
    assert all(k.rerun_ok for k in series.kills), [asdict(k) for k in series.kills]


@pytest.fixture
def on_postgis(harness: ModuleType, postgis: object) -> Iterator[object]:
    """The harness's PostGIS backend on the test server (its throwaway databases dropped afterwards)."""
    from tests.conftest import PG_URL

    backend = harness.PostGIS(PG_URL)
    try:
        yield backend
    finally:
        backend.close()


def test_killed_imports_on_postgis_are_all_or_nothing_and_resume(
    harness: ModuleType, on_postgis: object, tmp_path: Path
) -> None:
    """The same on PostGIS: the client killed mid-import (one kill inside its write transaction at least), the
    server rolls back; every B-tree index passes amcheck, no foreign-key value lacks its parent, and the re-run
    completes the import exactly (up to the ids the rolled-back sequence gave away)."""
    series = harness.import_series(tmp_path, runs=2, features=500, seed=5, idempotent_every=2, backend=on_postgis)
    assert series.command == "sapper import hazards (PostGIS)"
    assert [k.state for k in series.kills if k.state == "partial"] == []
    assert all(k.integrity == "ok" and k.dangling == 0 for k in series.kills), [asdict(k) for k in series.kills]
    assert all(k.rerun_ok for k in series.kills), [asdict(k) for k in series.kills]
    assert any(k.during_write for k in series.kills)


def test_killed_plan_saves_on_postgis_are_all_or_nothing_and_resume(
    harness: ModuleType, on_postgis: object, tmp_path: Path
) -> None:
    """Plan saves killed on PostGIS: the earlier plan kept, no new plan or a whole one, and the re-run's plan
    equals an uninterrupted one."""
    series = harness.plan_series(tmp_path, runs=2, hazards=200, seed=5, backend=on_postgis)
    assert [k.state for k in series.kills if k.state == "partial"] == []
    assert all(k.integrity == "ok" and k.dangling == 0 for k in series.kills), [asdict(k) for k in series.kills]
    assert all(k.rerun_ok for k in series.kills), [asdict(k) for k in series.kills]


def test_postgis_checks_see_a_dangling_reference_and_a_partial_import(
    harness: ModuleType, on_postgis: object, tmp_path: Path
) -> None:
    """The PostGIS checks can fail: a child row whose parent is gone (written with the server's triggers off, as
    a torn write would leave it) is counted, and a store holding part of an import reads as partial."""
    import psycopg

    backend = on_postgis
    db = backend.new("probe")
    harness.hazards_geojson(tmp_path / "few.geojson", 5, seed=1)
    from sapper.services import imports
    from sapper.store import open_store

    with open_store(db, create=True) as store:
        imports.import_file(store, tmp_path / "few.geojson", "hazards")
    assert backend.soundness(db) == ("ok", 0)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # foreign keys are triggers: off for this session
        conn.execute(
            "INSERT INTO plan_tasks (run_id, task_id, kind, start_date, end_date, work, work_unit) "
            "VALUES (999, 'T-1', 'clearance', '2026-01-01', '2026-01-02', 1, 'm2')"
        )
        conn.execute("DELETE FROM hazard_areas WHERE id = 'CR-00000'")
    assert backend.soundness(db) == ("ok", 1)
    assert backend.hazard_ids(db) == {f"CR-0000{i}" for i in range(1, 5)}
