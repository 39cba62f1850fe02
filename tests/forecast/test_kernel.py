"""The kernel's scheme without money (the forecast of a plan without budgets) is the money scheme with no money to
keep, and the forecast's figures for a seed are those of the kernel before the two were split."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sapper.forecast import sample_worlds
from sapper.forecast.kernel import budget_scheme, forget_stale_cache, pausing_scheme
from sapper.forecast.montecarlo import run_forecast
from sapper.plan.evolve import exhausted_periods, scheme_arrays

from .conftest import programme
from .test_montecarlo import _noisy


def test_the_scheme_without_money_is_the_money_scheme_without_a_budget() -> None:
    """On sampled worlds (lots pausing over the winter), the two schemes place every lot alike when no lot has a
    budget; with a price, the money scheme also adds up what each window spends, and places the lots alike too."""
    problem, tasks = programme()
    horizon = 3000
    worlds = sample_worlds(tasks, _noisy(), 30, np.random.default_rng(11), horizon=horizon)
    arr = scheme_arrays(problem, tasks.modes, horizon=horizon)
    n = len(problem.tasks)
    lend = np.full(n, horizon, dtype=np.int64)
    closed = exhausted_periods(arr.cap)
    order = np.ascontiguousarray(tasks.order, dtype=np.int64)
    wstart = np.array([0, 100, np.iinfo(np.int64).max], dtype=np.int64)
    paused = 0
    for i in range(worlds.durations.shape[0]):
        days = np.ascontiguousarray(worlds.durations[i], dtype=np.int64)
        out = []
        for rate in (np.zeros(n), np.where(days > 0, 10.0, 0.0)):
            for money in (False, True):
                starts, elapsed = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
                avail = arr.cap.copy()
                spent = np.zeros(2)
                args = (order, days, arr.rel, lend, arr.dem_ptr, arr.dem_r, arr.dem_u, arr.pred_ptr, arr.pred_idx,
                        arr.pred_lag, starts, elapsed, avail, exhausted_periods(avail), closed)
                if money:
                    made = budget_scheme(*args, np.full(n, -1, dtype=np.int64), rate, wstart,
                                         np.zeros((1, 2)), spent, np.zeros(2))
                else:
                    made = pausing_scheme(*args)
                out.append((made, starts, elapsed, avail))
                if money:
                    assert np.isclose(spent.sum(), (rate * days).sum())  # every lot's working days, paid
        made, starts, elapsed, avail = out[0]
        assert made > 0
        paused += int((elapsed > days).sum())
        for other in out[1:]:
            assert other[0] == made
            assert (other[1] == starts).all() and (other[2] == elapsed).all() and (other[3] == avail).all()
    assert paused > 0  # lots did pause over the winter: the test walks the stand-down's code too


def test_the_forecast_of_a_seed_is_as_before_the_split() -> None:
    """The small programme's forecast (noisy world, lots pausing, 500 runs from seed 7): the figures the kernel gave
    before the scheme without money was split from the money scheme (main at ea2d08a, the same call)."""
    problem, tasks = programme()
    r = run_forecast(problem, tasks, _noisy(), runs=500, rng=np.random.default_rng(7), horizon=3000)
    assert (r.overall.p10, r.overall.p50, r.overall.p80, r.overall.p90) == (38, 61, 97, 110)
    assert (r.released[0].p10, r.released[0].p50, r.released[0].p80, r.released[0].p90) == (7, 15, 29, 50)
    assert (r.restored[1].p10, r.restored[1].p50, r.restored[1].p80, r.restored[1].p90) == (34, 56, 95, 109)
    assert int(r.makespans.sum()) == 35849


def test_the_kernels_cache_is_dropped_when_evolve_is_newer(tmp_path: Path) -> None:
    """The kernel inlines plan.evolve's helpers, but Numba keys its cache on kernel.py alone: cache files older than
    evolve.py are dropped (all of the kernel's, none of another module's); none when the cache is newer."""
    evolve = tmp_path / "evolve.py"
    evolve.write_text("# helpers\n")
    kept = tmp_path / "evolve._serial-375.py311.nbi"
    files = [tmp_path / "kernel.run_chunk-272.py311.nbi", tmp_path / "kernel.run_chunk-272.py311.1.nbc", kept]
    for f in files:
        f.write_bytes(b"x")
        os.utime(f, (1_000_000, 1_000_000))
    os.utime(evolve, (2_000_000, 2_000_000))
    assert forget_stale_cache(tmp_path, evolve) == 2
    assert [f.exists() for f in files] == [False, False, True]
    fresh = tmp_path / "kernel.run_chunk-272.py311.nbi"
    fresh.write_bytes(b"x")
    os.utime(fresh, (3_000_000, 3_000_000))
    assert forget_stale_cache(tmp_path, evolve) == 0 and fresh.exists()
