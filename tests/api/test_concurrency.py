"""Issue 16, item 2, small version: concurrent writers on the same hazard areas through the web service (real HTTP,
optimistic locking with ETag/If-Match) lose no update, get only 200/409/412 and never a 5xx, on both backends. The
full size (16 writers × 500, ``sapper serve`` with two worker processes) is ``benchmarks/reliability_concurrency.py``,
whose code this test runs."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmark_scripts import load


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    return load("reliability_concurrency")


@pytest.mark.parametrize("resource", ["hazard_areas", "accidents"])
def test_concurrent_writers_lose_no_update(harness: ModuleType, store_target: str | Path, resource: str) -> None:
    """4 writers × 25 read-then-PATCH attempts on 3 records (hazard areas: If-Match with the ETag; accidents: the
    version in the body): every accepted PATCH is in the stored count, the row version and the audit; the others are
    409 or 412; no 5xx. (On PostGIS the accidents lost updates before their UPDATE named the version and their read
    paired values and version in one statement.)"""
    backend = "sqlite" if isinstance(store_target, Path) else "postgis"
    outcome = harness.run(
        store_target, backend, writers=4, updates=25, records=3, workers=0, seed=16, resource=resource
    )
    assert outcome.errors == []
    assert outcome.server_errors == 0 and outcome.other == 0
    assert outcome.accepted + outcome.rejected == 100
    assert outcome.accepted > 0 and outcome.rejected > 0  # they did collide, and the lock refused the stale ones
    assert outcome.lost_updates == 0
    assert outcome.version_mismatches == 0 and outcome.audit_mismatches == 0
    assert outcome.ok
