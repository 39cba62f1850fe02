"""Monte Carlo over a plan used as a policy.

Each run samples a world (productivity, survey outcome, damage, weather, accidents; see ``sample``) and re-schedules
the plan's tasks in the plan's start order, in the planned modes, under the same capacities, precedences and
release-before-repair, by the serial schedule-generation scheme the genetic search decodes with
(``sapper.plan.evolve.simulate``, compiled, runs in parallel). A late lot therefore delays what waits for it and
what queues behind it on the same pool — not a sum of durations along one path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sapper.errors import Fault, ValidationError
from sapper.forecast.inputs import Floats, ForecastTasks, Ints
from sapper.forecast.model import UncertaintyModel
from sapper.forecast.sample import Conditions, sample_worlds
from sapper.plan.evolve import simulate
from sapper.plan.problem import Problem

#: The percentiles every forecast reports.
LEVELS = (10, 50, 80, 90)
#: Runs per compiled batch: bounds memory (starts of every task in a batch) while keeping both cores busy.
CHUNK = 256


@dataclass(frozen=True, slots=True)
class Percentiles:
    """P10, P50, P80, P90 of a completion, in periods (working days from the plan's start; the end, exclusive)."""

    p10: int
    p50: int
    p80: int
    p90: int

    @classmethod
    def of(cls, samples: npt.NDArray[np.integer]) -> Percentiles:
        q = np.percentile(samples, LEVELS, method="inverted_cdf")
        return cls(*(int(x) for x in q))


@dataclass(frozen=True, eq=False)
class Fan:
    """The burn-down fan: at each of ``periods``, released km² and restored assets, P10/P50/P90 over runs
    (rows in that order)."""

    periods: Ints
    released_km2: Floats
    restored_assets: Floats


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """What the runs say, in periods. ``criticality``: per task, the share of runs in which it lies on the chain
    that decides the finish. ``beyond_horizon``: runs that would end past ``horizon`` (counted as ending at it)."""

    runs: int
    seconds: float
    horizon: int
    overall: Percentiles
    released: tuple[Percentiles, ...]
    restored: tuple[Percentiles, ...]
    asset_classes: dict[str, Percentiles]
    criticality: Floats
    fan: Fan
    beyond_horizon: int
    #: Sampled lots longer than their pool's longest working season, cut to it (the scheme does not pause a lot).
    clipped: int
    makespans: Ints
    restored_ends: npt.NDArray[np.int32]


def run_forecast(problem: Problem, tasks: ForecastTasks, model: UncertaintyModel, *, runs: int,
                 rng: np.random.Generator, horizon: int, conditions: Conditions | None = None,
                 fan_points: int = 60) -> MonteCarloResult:
    """``runs`` Monte Carlo runs of the plan ``tasks`` describes, on ``problem``'s capacities over ``horizon``
    periods; all randomness from ``rng``."""
    ValidationError.raise_if("forecast", [Fault("forecast", f"runs must be at least 1, got {runs}", "runs")]
                             if runs < 1 else [])
    ValidationError.raise_if("forecast", [Fault("forecast", f"horizon must be positive, got {horizon}", "horizon")]
                             if horizon < 1 else [])
    tasks.validate(problem)
    t0 = time.perf_counter()
    n = len(problem.tasks)
    spans = np.empty(runs, dtype=np.int64)
    rel_ends = np.empty((runs, len(tasks.released)), dtype=np.int32)
    res_ends = np.empty((runs, len(tasks.restored)), dtype=np.int32)
    on_path = np.zeros(n, dtype=np.int64)
    longest = _longest_windows(problem, tasks, horizon)
    clipped = 0
    earliest = None if conditions is None else conditions.earliest
    for lo in range(0, runs, CHUNK):
        hi = min(runs, lo + CHUNK)
        worlds = sample_worlds(tasks, model, hi - lo, rng, horizon=horizon, conditions=conditions)
        durations = worlds.durations
        clipped += int((durations > longest).sum())
        durations = np.minimum(durations, longest)
        out = simulate(problem, tasks.modes, tasks.order, durations, horizon=horizon, earliest=earliest)
        ends = out.starts + durations
        failed = out.makespan < 0
        ends[failed] = horizon
        spans[lo:hi] = np.where(failed, horizon, out.makespan)
        rel_ends[lo:hi] = np.minimum(ends[:, tasks.released], horizon)
        res_ends[lo:hi] = np.minimum(ends[:, tasks.restored], horizon)
        on_path += out.on_path[~failed].sum(axis=0)
    classes: dict[str, list[int]] = {}
    for a, cls in enumerate(tasks.asset_class):
        classes.setdefault(cls, []).append(a)
    return MonteCarloResult(
        runs=runs, seconds=time.perf_counter() - t0, horizon=horizon, overall=Percentiles.of(spans),
        released=_columns(rel_ends), restored=_columns(res_ends),
        asset_classes={c: Percentiles.of(res_ends[:, idx].max(axis=1)) for c, idx in sorted(classes.items())},
        criticality=on_path / runs, fan=_fan(rel_ends, res_ends, tasks.hazard_area_m2, spans, fan_points),
        beyond_horizon=int((spans >= horizon).sum()), clipped=clipped, makespans=spans, restored_ends=res_ends)


def _columns(ends: npt.NDArray[np.int32]) -> tuple[Percentiles, ...]:
    """The percentiles of each column (a milestone) over the runs (rows), at once."""
    out: list[Percentiles] = []
    for lo in range(0, ends.shape[1], CHUNK):  # in blocks of columns, to keep the sorted copy small
        q = np.percentile(ends[:, lo:lo + CHUNK], LEVELS, axis=0, method="inverted_cdf").astype(np.int64)
        out.extend(Percentiles(*(int(x) for x in q[:, k])) for k in range(q.shape[1]))
    return tuple(out)


def _longest_windows(problem: Problem, tasks: ForecastTasks, horizon: int) -> Ints:
    """Per task, the longest run of periods in which its pools work (capacity > 0) within ``horizon``."""
    best = np.full(len(problem.resources), horizon, dtype=np.int64)
    for r, res in enumerate(problem.resources):
        if not res.unavailable:
            continue
        profile = np.full(horizon, res.capacity, dtype=np.int64)
        for s, e, u in res.unavailable:
            profile[s:min(e, horizon)] -= u
        edges = np.flatnonzero(np.diff(np.concatenate(([0], (profile > 0).astype(np.int64), [0]))))
        best[r] = int((edges[1::2] - edges[0::2]).max(initial=0))
    out = np.full(len(problem.tasks), horizon, dtype=np.int64)
    for j, task in enumerate(problem.tasks):
        for r, _ in task.modes[tasks.modes[j]].demands:
            out[j] = min(out[j], best[r])
    return out


def _fan(rel_ends: npt.NDArray[np.int32], res_ends: npt.NDArray[np.int32], area_m2: Floats, spans: Ints,
         points: int) -> Fan:
    """Released km² and restored assets at ``points`` periods up to the latest finish, P10/P50/P90 over runs."""
    last = int(spans.max(initial=1))
    periods = np.unique(np.linspace(0, last, max(2, points)).round().astype(np.int64))
    q = (10, 50, 90)
    return Fan(periods, np.percentile(_by(rel_ends, periods, area_m2 / 1e6), q, axis=0),
               np.percentile(_by(res_ends, periods, np.ones(res_ends.shape[1])), q, axis=0))


def _by(ends: npt.NDArray[np.int32], periods: Ints, weight: Floats) -> Floats:
    """Per run (row), the total ``weight`` of the columns ending at or before each of ``periods``."""
    runs, k = ends.shape[0], len(periods)
    out = np.empty((runs, k))
    for lo in range(0, runs, CHUNK):  # in blocks of runs, to keep the index arrays small
        block = ends[lo:lo + CHUNK]
        rows = block.shape[0]
        slot = np.searchsorted(periods, block, side="left")  # the first period at or after the end
        flat = (np.arange(rows)[:, None] * (k + 1) + slot).ravel()
        sums = np.bincount(flat, weights=np.broadcast_to(weight, block.shape).ravel(), minlength=rows * (k + 1))
        out[lo:lo + rows] = np.cumsum(sums.reshape(rows, k + 1), axis=1)[:, :k]
    return out
