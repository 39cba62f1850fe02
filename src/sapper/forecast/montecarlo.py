"""Monte Carlo over a plan used as a policy.

Each run samples a world (productivity, survey outcome, damage, weather, accidents; see ``sample``) and re-schedules
the plan's tasks in the plan's start order, in the planned modes, under the same capacities, precedences and
release-before-repair, by the serial schedule-generation scheme the genetic search decodes with
(``sapper.plan.evolve``'s, compiled). A late lot therefore delays what waits for it and what queues behind it on the
same pool — not a sum of durations along one path.

The runs are split into chunks of ``CHUNK``; chunk k draws from its own Generator, seeded by the k-th child
(``numpy.random.SeedSequence.spawn``) of one seed sequence drawn from the caller's Generator. A chunk is one call of
the compiled kernel (``sapper.forecast.kernel``) that samples and schedules all its runs; chunks are independent, so
they run on a thread per core here or on a Dask cluster (``chunk_map``), and the percentiles are the same either way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sapper.errors import Fault, ValidationError
from sapper.forecast.inputs import Floats, ForecastTasks, Ints, TaskBudgets, TaskCosts
from sapper.forecast.kernel import column_ranks, run_chunk, slot_sums
from sapper.forecast.model import UncertaintyModel
from sapper.forecast.sample import Conditions, Sampler, draw_shared, sampler, task_state
from sapper.plan.evolve import scheme_arrays
from sapper.plan.problem import Problem

#: The percentiles every forecast reports.
LEVELS = (10, 50, 80, 90)
#: Runs per chunk: the unit of seeding and of parallel work. Fixed, so that a forecast is the same computation
#: however many threads or workers run it.
CHUNK = 125


@dataclass(frozen=True, eq=False)
class Job:
    """Everything a chunk of runs needs, built once per forecast (sent once to each Dask worker)."""

    sampler: Sampler
    longest: Ints
    order: Ints
    cap: Ints
    rel: Ints
    lend: Ints
    dem_ptr: Ints
    dem_r: Ints
    dem_u: Ints
    pred_ptr: Ints
    pred_idx: Ints
    pred_lag: Ints
    released: Ints
    restored: Ints
    #: What tasks cost, for cost forecasts (None: no costs).
    costs: TaskCosts | None = None
    #: Per hazard area, the largest survey-outcome multiplier (the whole area left for clearance).
    share_ceiling: Floats | None = None
    #: The plan's money per calendar year (None: not capped); needs ``costs``.
    budgets: TaskBudgets | None = None


@dataclass(frozen=True, slots=True)
class ChunkSpec:
    """Chunk ``index``: ``runs`` runs drawn from the Generator of ``seed``."""

    index: int
    runs: int
    seed: np.random.SeedSequence


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """What a chunk's runs say: makespans (the horizon past it), ends of the release and restoration milestones,
    how many runs each task was on the deciding chain of, lots cut to a season, runs past the horizon."""

    index: int
    spans: Ints
    released_end: npt.NDArray[np.int32]
    restored_end: npt.NDArray[np.int32]
    on_path: Ints
    clipped: int
    failed: int
    #: With ``keep``: each run's days and starts (runs × tasks), to check its schedule; else None.
    days: Ints | None = None
    starts: Ints | None = None
    #: With costs: each run's total cost, and its cost by calendar year (runs × years).
    cost_total: Floats | None = None
    cost_year: Floats | None = None


#: How chunks are run: ``chunk_map(run_chunk_job, job, specs)`` returns the results of every spec, in any order.
ChunkMap = Callable[[Callable[[Job, ChunkSpec], ChunkResult], Job, Sequence[ChunkSpec]], list[ChunkResult]]


def run_chunk_job(job: Job, spec: ChunkSpec, *, keep: bool = False) -> ChunkResult:
    """Sample and schedule one chunk (the compiled kernel releases the GIL: threads run chunks in parallel);
    ``keep`` also returns every run's days and starts."""
    rng = np.random.default_rng(spec.seed)
    s = job.sampler
    shared = draw_shared(s, spec.runs, rng)
    n = len(s.kind)
    spans = np.zeros(spec.runs, dtype=np.int64)
    rel_end = np.zeros((spec.runs, len(job.released)), dtype=np.int32)
    res_end = np.zeros((spec.runs, len(job.restored)), dtype=np.int32)
    on_path = np.zeros(n, dtype=np.int64)
    counts = np.zeros(2, dtype=np.int64)
    rows = spec.runs if keep or job.costs is not None else 1
    days, stood, starts = (np.zeros((rows, n), dtype=np.int64) for _ in range(3))
    m = _money(job, shared.log_share, spec.runs)
    run_chunk(task_state(rng), s.kind, s.group, s.unit, s.hazard, s.asset, s.log_base, s.noise_sd, s.weather,
              job.longest, s.fixed, s.minimum, shared.programme, shared.per_unit, shared.log_share, shared.damage,
              shared.weather_rate, shared.spread, s.horizon, s.accident_rate, s.accident_min, s.accident_max,
              s.damage_mean, s.damage_sd, s.independent, True, s.round_up, s.pause, job.order, job.cap, job.rel,
              job.lend, job.dem_ptr, job.dem_r, job.dem_u, job.pred_ptr, job.pred_idx, job.pred_lag, job.released,
              job.restored, m.family, m.per_day, m.fixed, m.by_share, m.share_mult, m.wstart, m.amounts,
              spans, rel_end, res_end, on_path, counts, days, stood, starts, m.cost_year)
    total, by_year = (None, None) if job.costs is None else _costs(job, shared.log_share, days, starts)
    if job.budgets is not None:  # the kernel spent it, where each lot worked
        by_year = m.cost_year
    return ChunkResult(spec.index, spans, rel_end, res_end, on_path, int(counts[0]), int(counts[1]),
                       days if keep else None, starts if keep else None, total, by_year)


@dataclass(frozen=True, eq=False)
class _Money:
    """The kernel's money arguments for a chunk (empty when the plan has no budgets)."""

    family: Ints
    per_day: Floats
    fixed: Floats
    by_share: npt.NDArray[np.bool_]
    share_mult: Floats
    wstart: Ints
    amounts: Floats
    cost_year: Floats


def _money(job: Job, log_share: Floats, runs: int) -> _Money:
    n = len(job.sampler.kind)
    c, b = job.costs, job.budgets
    if c is None or b is None:
        return _Money(np.full(n, -1, dtype=np.int64), np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.bool_),
                      np.zeros((1, 1)), np.array([0, np.iinfo(np.int64).max], dtype=np.int64), np.zeros((1, 1)),
                      np.zeros((1, 1)))
    ceiling = job.share_ceiling if job.share_ceiling is not None else np.full(log_share.shape[1], np.inf)
    mult = np.minimum(np.exp(log_share), ceiling) if log_share.shape[1] else np.ones((runs, 1))
    wstart = np.append(c.year_starts, np.iinfo(np.int64).max).astype(np.int64)
    return _Money(np.ascontiguousarray(b.family, dtype=np.int64), np.asarray(c.per_day, dtype=np.float64),
                  np.asarray(c.fixed, dtype=np.float64), np.asarray(c.by_share, dtype=np.bool_),
                  np.ascontiguousarray(mult, dtype=np.float64), wstart,
                  np.ascontiguousarray(b.amounts, dtype=np.float64), np.zeros((runs, len(c.years))))


def _costs(job: Job, log_share: Floats, days: Ints, starts: Ints) -> tuple[Floats, Floats]:
    """Each run's cost and its cost by calendar year (``TaskCosts``), from its sampled days and starts."""
    c = job.costs
    assert c is not None
    s = job.sampler
    fixed = np.broadcast_to(c.fixed, days.shape).copy()
    shared = np.flatnonzero(c.by_share)
    if shared.size and log_share.shape[1]:
        ceiling = job.share_ceiling if job.share_ceiling is not None else np.full(log_share.shape[1], np.inf)
        mult = np.minimum(np.exp(log_share), ceiling)
        fixed[:, shared] *= mult[:, s.hazard[shared]]
    cost = days * c.per_day + fixed  # runs × tasks
    total = cost.sum(axis=1)
    runs, years = days.shape[0], len(c.years)
    if not years:
        return total, np.zeros((runs, 0))
    # Each lot's cost goes to the year it starts in, less the part of its days after the next New Year, which goes
    # to the years after (a lot spans at most a few): one weighted count per boundary crossed, not a pass per year.
    ends = (starts + days).ravel()
    first = (np.searchsorted(c.year_starts, starts, side="right") - 1).ravel()
    slot = (np.arange(runs)[:, None] * years).repeat(days.shape[1], axis=1).ravel() + first
    flat = cost.ravel()
    by_year = np.bincount(slot, weights=flat, minlength=runs * years)
    # Lots crossing New Year (few): move the part after each boundary they cross to the year after.
    bounds = np.append(c.year_starts, np.iinfo(np.int64).max)
    idx = np.flatnonzero(ends > bounds[first + 1])
    spread = flat[idx] / np.maximum(days.ravel()[idx], 1)
    year = first[idx]
    while idx.size:
        moved = (ends[idx] - bounds[year + 1]) * spread
        np.subtract.at(by_year, slot[idx], moved)
        year = year + 1
        slot[idx] += 1
        np.add.at(by_year, slot[idx], moved)
        keep = ends[idx] > bounds[year + 1]
        idx, spread, year = idx[keep], spread[keep], year[keep]
    return np.asarray(total, dtype=np.float64), np.asarray(by_year, dtype=np.float64).reshape(runs, years)


def local_map(fn: Callable[[Job, ChunkSpec], ChunkResult], job: Job, specs: Sequence[ChunkSpec]) -> list[ChunkResult]:
    """Chunks on a thread per core of this process."""
    workers = max(1, min(len(specs), os.cpu_count() or 1))
    if workers == 1:
        return [fn(job, spec) for spec in specs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda spec: fn(job, spec), specs))


def chunk_specs(runs: int, rng: np.random.Generator) -> list[ChunkSpec]:
    """``runs`` split into chunks of ``CHUNK``, each seeded by a child of one seed sequence drawn from ``rng``."""
    root = np.random.SeedSequence([int(x) for x in rng.integers(0, 2**63, size=4)])
    count = -(-runs // CHUNK)
    return [ChunkSpec(k, min(CHUNK, runs - k * CHUNK), seed) for k, seed in enumerate(root.spawn(count))]


def make_job(problem: Problem, tasks: ForecastTasks, model: UncertaintyModel, *, horizon: int,
             conditions: Conditions | None = None, costs: TaskCosts | None = None,
             budgets: TaskBudgets | None = None) -> Job:
    """The job of a forecast of ``tasks`` on ``problem`` over ``horizon`` periods (``costs``: also what it costs;
    ``budgets``: within the plan's money per year)."""
    arr = scheme_arrays(problem, tasks.modes, horizon=horizon)
    rel = arr.rel if conditions is None else np.maximum(arr.rel, conditions.earliest).astype(np.int64)
    n = len(problem.tasks)
    longest = (np.full(len(tasks.kind), horizon, dtype=np.int64) if model.pause_over_stand_down  # a lot pauses
               else _longest_windows(problem, tasks, horizon))
    return Job(sampler(tasks, model, horizon=horizon, conditions=conditions), longest,
               np.ascontiguousarray(tasks.order, dtype=np.int64), arr.cap, rel, np.full(n, horizon, dtype=np.int64),
               arr.dem_ptr, arr.dem_r, arr.dem_u, arr.pred_ptr, arr.pred_idx, arr.pred_lag,
               np.asarray(tasks.released, dtype=np.int64), np.asarray(tasks.restored, dtype=np.int64), costs,
               1.0 / np.maximum(tasks.planned_share, 1e-9) if costs is not None else None,
               budgets if costs is not None else None)


_WARM: list[bool] = []


def warm_up() -> None:
    """Compile the kernel (or load it from Numba's cache) once per process, outside a forecast's own time."""
    if _WARM:
        return
    _WARM.append(True)
    from sapper.forecast.model import UncertaintyModel as Model
    from sapper.plan.problem import Mode, Resource, Task

    problem = Problem((Resource("r", 1),), (Task("t", (Mode(1, ((0, 1),), "manual"),)),), (), 4)
    one = np.zeros(1, dtype=np.int64)
    tasks = ForecastTasks(kind=np.ones(1, dtype=np.int64), group=one, unit=one, base_days=np.ones(1),
                          hazard=np.full(1, -1), asset=np.full(1, -1), groups=("manual",), units=1, hazard_class=(),
                          planned_share=np.zeros(0), hazard_area_m2=np.zeros(0), released=np.zeros(0, dtype=np.int64),
                          asset_class=(), restored=np.zeros(0, dtype=np.int64), modes=(0,), order=one,
                          weather_groups=frozenset({"manual"}))
    job = make_job(problem, tasks, Model(), horizon=4)
    run_chunk_job(job, ChunkSpec(0, 1, np.random.SeedSequence(0)))
    ends = np.ones((1, 1), dtype=np.int32)
    _columns(ends)
    _by(ends, np.array([0, 1], dtype=np.int64), np.ones(1))


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
    #: With costs: every run's total cost, and its cost by calendar year (runs × ``TaskCosts.years``).
    cost_total: Floats | None = None
    cost_year: Floats | None = None


def run_forecast(problem: Problem, tasks: ForecastTasks, model: UncertaintyModel, *, runs: int,
                 rng: np.random.Generator, horizon: int, conditions: Conditions | None = None,
                 fan_points: int = 60, chunk_map: ChunkMap | None = None,
                 costs: TaskCosts | None = None, budgets: TaskBudgets | None = None) -> MonteCarloResult:
    """``runs`` Monte Carlo runs of the plan ``tasks`` describes, on ``problem``'s capacities over ``horizon``
    periods; all randomness from ``rng`` (see the module's note on chunks). ``chunk_map`` runs the chunks (default:
    a thread per core); any map gives the same result. ``costs``: also each run's cost, in total and by year (the
    same draws: costs change the time of nothing). ``budgets`` (with ``costs``): each run re-schedules within the
    plan's money per calendar year, as the engine's per-period budgets do (a lot starts when its year's money is
    there; see ``kernel.budget_scheme``), and its cost by year is what it spends where its lots work."""
    ValidationError.raise_if("forecast", [Fault("forecast", f"runs must be at least 1, got {runs}", "runs")]
                             if runs < 1 else [])
    ValidationError.raise_if("forecast", [Fault("forecast", f"horizon must be positive, got {horizon}", "horizon")]
                             if horizon < 1 else [])
    tasks.validate(problem)
    if costs is not None:
        costs.validate(problem)
    if budgets is not None:
        if costs is None:
            raise ValidationError("forecast budgets", [Fault("forecast budgets", "budgets need the tasks' costs")])
        budgets.validate(problem, costs)
    warm_up()
    t0 = time.perf_counter()
    job = make_job(problem, tasks, model, horizon=horizon, conditions=conditions, costs=costs, budgets=budgets)
    specs = chunk_specs(runs, rng)
    done = sorted((chunk_map or local_map)(run_chunk_job, job, specs), key=lambda r: r.index)
    if [r.index for r in done] != [s.index for s in specs]:
        raise RuntimeError("the chunk map did not return one result per chunk")
    spans = np.concatenate([r.spans for r in done])
    rel_ends = np.concatenate([r.released_end for r in done])
    res_ends = np.concatenate([r.restored_end for r in done])
    on_path = np.sum([r.on_path for r in done], axis=0)
    classes: dict[str, list[int]] = {}
    for a, cls in enumerate(tasks.asset_class):
        classes.setdefault(cls, []).append(a)
    return MonteCarloResult(
        runs=runs, seconds=time.perf_counter() - t0, horizon=horizon, overall=Percentiles.of(spans),
        released=_columns(rel_ends), restored=_columns(res_ends),
        asset_classes={c: Percentiles.of(res_ends[:, idx].max(axis=1)) for c, idx in sorted(classes.items())},
        criticality=on_path / runs, fan=_fan(rel_ends, res_ends, tasks.hazard_area_m2, spans, fan_points),
        beyond_horizon=int((spans >= horizon).sum()), clipped=sum(r.clipped for r in done), makespans=spans,
        restored_ends=res_ends,
        cost_total=None if costs is None else np.concatenate([r.cost_total for r in done if r.cost_total is not None]),
        cost_year=None if costs is None else np.concatenate([r.cost_year for r in done if r.cost_year is not None]))


def _ranks(runs: int) -> Ints:
    """The order statistics (from 0) that are the P10, P50, P80, P90 of ``runs`` values (numpy's
    ``inverted_cdf``: the smallest value with at least that share of runs at or below it)."""
    return np.array([max(0, -(-runs * q // 100) - 1) for q in LEVELS], dtype=np.int64)


def _columns(ends: npt.NDArray[np.int32]) -> tuple[Percentiles, ...]:
    """The percentiles of each column (a milestone) over the runs (rows), at once, by counting (ends lie in
    0 … the horizon)."""
    out = np.zeros((len(LEVELS), ends.shape[1]), dtype=np.int64)
    if ends.size:
        column_ranks(np.ascontiguousarray(ends), int(ends.max()), _ranks(ends.shape[0]), out)
    return tuple(Percentiles(*(int(x) for x in out[:, k])) for k in range(out.shape[1]))


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
    top = int(max(ends.max(initial=0), periods[-1]))
    slot_of = np.searchsorted(periods, np.arange(top + 1), side="left")  # the first period at or after each end
    sums = np.zeros((runs, k + 1))
    slot_sums(np.ascontiguousarray(ends), slot_of, np.asarray(weight, dtype=np.float64), sums)
    return np.asarray(np.cumsum(sums, axis=1)[:, :k], dtype=np.float64)
