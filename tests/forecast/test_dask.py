"""Dask parity: the Monte Carlo on a Dask LocalCluster is the same computation as on this process's threads — the
same chunks from the same seeds — so the percentiles, the makespan of every run and the criticality are identical."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sapper.forecast import UncertaintyModel, run_forecast
from sapper.forecast.montecarlo import CHUNK, ChunkResult, ChunkSpec, Job, run_chunk_job
from sapper.services.forecast import dask_chunk_map
from tests.cli.entry import run

from .conftest import programme

pytest.importorskip("dask.distributed")


def _serial_map(fn: object, job: Job, specs: list[ChunkSpec]) -> list[ChunkResult]:
    """One chunk after another, last first: the order chunks run in must not matter."""
    return [run_chunk_job(job, s) for s in reversed(specs)]


def test_dask_threads_and_serial_give_identical_forecasts() -> None:
    """A forecast of 3½ chunks on a two-worker LocalCluster equals the local one run for run."""
    problem, tasks = programme()
    runs = 3 * CHUNK + CHUNK // 2

    def forecast(chunk_map: object) -> object:
        return run_forecast(problem, tasks, UncertaintyModel(), runs=runs, rng=np.random.default_rng(42),
                            horizon=400, chunk_map=chunk_map)  # type: ignore[arg-type]

    local = forecast(None)
    serial = forecast(_serial_map)
    with dask_chunk_map(2, processes=False) as cmap:
        on_dask = forecast(cmap)
    for other in (serial, on_dask):
        assert (other.makespans == local.makespans).all()  # type: ignore[attr-defined]
        assert (other.restored_ends == local.restored_ends).all()  # type: ignore[attr-defined]
        assert (other.criticality == local.criticality).all()  # type: ignore[attr-defined]
        assert other.overall == local.overall and other.released == local.released  # type: ignore[attr-defined]
        assert other.restored == local.restored and other.clipped == local.clipped  # type: ignore[attr-defined]
    assert len(set(local.makespans.tolist())) > 5  # type: ignore[attr-defined]  # the runs differ: a real sample


def test_cli_forecast_on_dask_worker_processes_is_the_local_forecast(
        replanned: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper forecast --dask --workers 2` (two worker processes) prints the same forecast as without --dask;
    --workers without --dask is a usage error."""
    args = ("forecast", "--db", replanned, "--runs", "300", "--seed", "2", "--json")
    code, local, err = run(monkeypatch, capsys, *args)
    assert code == 0, err
    code, remote, err = run(monkeypatch, capsys, *args, "--dask", "--workers", "2")
    assert code == 0, err
    a, b = json.loads(local), json.loads(remote)
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    code, _, err = run(monkeypatch, capsys, *args, "--workers", "2")
    assert code == 2 and "--workers needs --dask" in err
