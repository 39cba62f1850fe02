"""Issue 16, item 4, small version: PostgreSQL stopped with ``pg_ctl stop -m immediate`` and started again while
the service writes: every acknowledged write is there afterwards, and the same store object goes on writing without
being reopened. Never the shared test server: the test makes its own throwaway cluster (``initdb`` into a folder
under /tmp, run as the ``postgres`` user, on a free port) and removes it. Without root or the server binaries it is
skipped with the reason; with ``CI`` set it fails instead, as the other PostGIS tests do. The full size (1,000
writes, three stops) is ``benchmarks/reliability_durability.py``, whose code this test runs."""

from __future__ import annotations

import os
from types import ModuleType

import pytest

from tests.benchmark_scripts import load


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    return load("reliability_durability")


def test_acknowledged_writes_survive_an_immediate_stop(harness: ModuleType) -> None:
    """200 acknowledged hazard areas written through the service across one immediate stop and restart: none
    missing, each with its audit row; writes failed while the server was down, and the store resumed by itself."""
    why = harness.unavailable()
    if why is not None:
        reason = f"the durability test needs its own PostgreSQL cluster: {why}"
        if os.environ.get("CI"):
            pytest.fail(reason + " — CI must run it", pytrace=False)
        pytest.skip(reason)
    with harness.Cluster() as cluster:
        outcome = harness.run(cluster, writes=200, stops=1, seed=4)
    assert outcome.acknowledged == 200
    assert outcome.missing == 0 and outcome.audit_missing == 0
    assert outcome.failed_attempts >= 1, "the stop came and went without a write noticing it"
    assert len(outcome.resumed_after_s) == 1  # an acknowledged write after the stop, on the same store object
    assert outcome.ok
