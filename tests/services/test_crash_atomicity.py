"""Issue 16, item 3, small version: ``kill -9`` of a real ``sapper import hazards`` and ``sapper plan`` process at
random moments (half of them once the write transaction is under way) leaves a sound GeoPackage (integrity and
foreign keys), no partial import or plan, and a re-run that ends where an uninterrupted run ends. The full size
(50 kills of each, a 10,000-feature import) is ``benchmarks/reliability_crash.py``, whose code this test runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def harness() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))
    try:
        import reliability_crash

        yield reliability_crash
    finally:
        sys.path.remove(str(BENCH))


def test_killed_imports_are_all_or_nothing_and_resume(harness: ModuleType, tmp_path: Path) -> None:
    """Three kills of a 1,000-feature import: each store sound, holding all of the import or none of it; the re-run
    with --skip-existing completes it exactly, and once more imports nothing."""
    series = harness.import_series(tmp_path, runs=3, features=1000, seed=3, idempotent_every=2)
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
