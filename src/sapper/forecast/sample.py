"""Sampling worlds: each run's task durations and capacity losses, from the uncertainty model and a Generator.

What a run shares across tasks (the programme factor of each method and trade, each team's and brigade's factor, each
hazard class's survey outcome and each area's own, the damage of each asset, the weather year) is drawn here in numpy,
a chunk of runs at a time; what each task draws alone is drawn in the compiled kernel (``sapper.forecast.kernel``),
which also schedules the run. ``sample_worlds`` runs the same kernel without scheduling, so the worlds it returns are
the worlds a forecast schedules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from sapper.forecast.inputs import Floats, ForecastTasks, Ints, WorkKind
from sapper.forecast.kernel import run_chunk
from sapper.forecast.model import UncertaintyModel

#: Working days in a year of the default six-day calendar less holidays (rates "per year" are per this many days).
WORKING_DAYS_PER_YEAR = 300


@dataclass(frozen=True, eq=False)
class Conditions:
    """What is already known when forecasting from part-way through: ``known`` tasks took ``known_days`` (done);
    ``running`` tasks have worked ``running_days`` and take at least one day more; ``earliest`` is each task's
    earliest start (its real start if it has started, the forecast date if not)."""

    known: Ints
    known_days: Ints
    earliest: Ints
    running: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    running_days: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True, eq=False)
class Worlds:
    """Sampled runs: ``durations`` (runs × tasks; stand-still days included), the days of it each lot ``stood``
    still (weather, accidents) and each hazard area's share left for clearance (runs × hazard areas)."""

    durations: Ints
    shares: Floats
    stood: Ints


@dataclass(frozen=True, eq=False)
class Sampler:
    """The model and the plan's tasks as the arrays a chunk of runs is drawn from (built once per forecast)."""

    #: Per task: WorkKind code, group, unit, hazard, asset; log planned days (−inf for none); the sd of the normal
    #: deviate each task draws alone; whether weather and accidents stop it; days fixed by progress (−1: none) and
    #: the least days a running task still takes.
    kind: Ints
    group: Ints
    unit: Ints
    hazard: Ints
    asset: Ints
    log_base: Floats
    noise_sd: Floats
    weather: npt.NDArray[np.bool_]
    fixed: Ints
    minimum: Ints
    #: Per group: programme factor mean and sd; per unit: its sd.
    mean: Floats
    sd: Floats
    unit_sd: Floats
    #: Per hazard area: class index, planned share, the log of its tilt (``ForecastTasks.tilt``), the sd of its own
    #: factor; per class: Beta α, β and prior mean.
    hazard_class: Ints
    planned_share: Floats
    log_tilt: Floats
    area_sd: Floats
    alpha: Floats
    beta: Floats
    prior_mean: Floats
    assets: int
    independent: bool
    horizon: int
    weather_days: float
    weather_shape: float
    accident_rate: float
    accident_min: int
    accident_max: int
    damage_mean: float
    damage_sd: float
    #: Per task: whether its days are rounded up, else without bias (``UncertaintyModel.round_up``,
    #: ``learned_pace_is_mean``).
    round_up: npt.NDArray[np.bool_]
    #: Whether a lot running when its pool stands down pauses and resumes (``UncertaintyModel.pause_over_stand_down``).
    pause: bool
    #: Each run's multiplier on every productivity spread and the survey outcome's per-area spread (``Spread``):
    #: its median and log-sd (1 and 0: the spreads as assumed).
    spread_median: float = 1.0
    spread_sd: float = 0.0


def sampler(tasks: ForecastTasks, model: UncertaintyModel, *, horizon: int,
            conditions: Conditions | None = None) -> Sampler:
    """The arrays to draw ``tasks``' worlds from ``model`` (durations capped at ``horizon``)."""
    n = len(tasks.kind)
    work = tasks.kind != WorkKind.MILESTONE
    prods = [model.of(name) for name in tasks.groups] or [model.fallback]
    mean = np.array([p.mean for p in prods])
    sd = np.array([p.sd for p in prods])
    unit_sd = np.array([p.unit_sd for p in prods])
    g = np.maximum(tasks.group, 0)
    has = tasks.unit >= 0
    day_sd = np.array([p.day_sd for p in prods])[g] / np.sqrt(np.maximum(tasks.base_days, 1.0))
    # The naive model: each task's deviate carries the programme's, the unit's and its own variance alone (with the
    # spread uncertainty's mean inflation, E[k²]: the same per-task variance as the correlated model's).
    total = np.sqrt((sd[g] ** 2 + np.where(has, unit_sd[g] ** 2, 0.0) + day_sd**2) * model.spread.variance_factor)
    noise_sd = total if model.independent else day_sd
    with np.errstate(divide="ignore"):
        log_base = np.where(work & (tasks.base_days > 0), np.log(np.maximum(tasks.base_days, 1e-300)), -np.inf)
    round_up = np.full(n, model.round_up, dtype=bool)
    if model.learned_pace_is_mean and not model.independent:
        # A learned pace is the mean pace of a lot as worked (work over whole days): its lots are drawn with the
        # day-to-day noise mean-preserving (E[k²] σ²/2 off the log days; the noise's mean effect is in the pace
        # already) and rounded without bias (the whole days are in it too).
        learned = np.array([p.learned for p in prods], dtype=bool)[g] & (tasks.group >= 0)
        log_base = np.where(learned, log_base - model.spread.variance_factor * day_sd**2 / 2, log_base)
        round_up &= ~learned
    unit_group = np.zeros(max(1, tasks.units), dtype=np.int64)
    unit_group[tasks.unit[has]] = g[has]
    weather_of = np.array([name in tasks.weather_groups for name in tasks.groups] or [False], dtype=bool)
    fixed = np.full(n, -1, dtype=np.int64)
    minimum = np.zeros(n, dtype=np.int64)
    if conditions is not None:
        fixed[conditions.known] = conditions.known_days
        minimum[conditions.running] = np.asarray(conditions.running_days) + 1
    classes = sorted(set(tasks.hazard_class))
    outcomes = [model.outcome(c) for c in classes]
    return Sampler(
        kind=np.asarray(tasks.kind, dtype=np.int64), group=np.asarray(tasks.group, dtype=np.int64),
        unit=np.asarray(tasks.unit, dtype=np.int64), hazard=np.asarray(tasks.hazard, dtype=np.int64),
        asset=np.asarray(tasks.asset, dtype=np.int64), log_base=log_base, noise_sd=noise_sd,
        weather=(tasks.group >= 0) & weather_of[g], fixed=fixed, minimum=minimum,
        mean=mean, sd=sd, unit_sd=unit_sd[unit_group],
        hazard_class=np.array([classes.index(c) for c in tasks.hazard_class], dtype=np.int64),
        planned_share=np.asarray(tasks.planned_share, dtype=np.float64),
        log_tilt=(np.zeros(len(tasks.planned_share)) if tasks.tilt is None
                  else np.log(np.asarray(tasks.tilt, dtype=np.float64))),
        area_sd=np.array([model.outcome(c).area_sd for c in tasks.hazard_class]),
        alpha=np.array([o.alpha for o in outcomes]), beta=np.array([o.beta for o in outcomes]),
        prior_mean=np.array([model.prior_outcome(c).mean for c in classes]),
        assets=len(tasks.restored), independent=model.independent, horizon=horizon,
        weather_days=model.weather.days_per_year, weather_shape=model.weather.shape,
        accident_rate=model.accidents.per_team_year / WORKING_DAYS_PER_YEAR, accident_min=model.accidents.min_days,
        accident_max=model.accidents.max_days, damage_mean=model.damage.mean, damage_sd=model.damage.sd,
        round_up=round_up, pause=model.pause_over_stand_down,
        spread_median=1.0 if model.independent else model.spread.median,
        spread_sd=0.0 if model.independent else model.spread.sd)


@dataclass(frozen=True, eq=False)
class Shared:
    """What each run of a chunk (rows) shares across tasks: programme factor per group, factor per unit, the log of
    each hazard area's share left for clearance relative to its planned share, damage per asset, weather stand-down
    rate per working day, and the multiplier of the day-to-day noise's spread (``Spread``; already applied to the
    programme and unit factors)."""

    programme: Floats
    per_unit: Floats
    log_share: Floats
    damage: Floats
    weather_rate: Floats
    spread: Floats


def draw_shared(s: Sampler, runs: int, rng: np.random.Generator) -> Shared:
    """The shared draws of ``runs`` runs, in a fixed order from ``rng``. An area's share left for clearance is its
    planned share × the class draw over its prior mean × its tilt (the contamination model's probability over the
    mean of its class; 1 without a model) × its own lognormal factor, at most 1: its log relative to the planned
    share is min(log scale + log tilt + own, −log planned share), with no exponential or logarithm per area in the
    loop."""
    h = len(s.hazard_class)
    if h:
        a, b = s.alpha, s.beta
        if s.independent:
            scale = np.broadcast_to(a / (a + b) / s.prior_mean, (runs, len(a)))
        else:
            scale = rng.beta(a, b, size=(runs, len(a))) / s.prior_mean
        with np.errstate(divide="ignore"):
            log_scale = np.log(scale)
            ceiling = -np.log(s.planned_share)
        own = rng.standard_normal((runs, h))
    groups, units = len(s.mean), len(s.unit_sd)
    if s.independent:
        programme = np.broadcast_to(s.mean, (runs, groups)).copy()
        per_unit = np.zeros((runs, units))
        damage = np.zeros((runs, max(1, s.assets)))
    else:
        programme = rng.standard_normal((runs, groups)) * s.sd + s.mean
        per_unit = rng.standard_normal((runs, units)) * s.unit_sd
        damage = rng.normal(s.damage_mean, s.damage_sd, size=(runs, max(1, s.assets)))
    if s.independent or s.weather_shape <= 0:
        rate = np.full(runs, s.weather_days)
    else:
        rate = rng.gamma(s.weather_shape, s.weather_days / s.weather_shape, size=runs)
    spread = np.ones(runs)
    if s.spread_sd > 0 or s.spread_median != 1.0:  # drawn last: a model without it draws the rest as before
        spread = s.spread_median * np.exp(rng.standard_normal(runs) * s.spread_sd)
        programme = (programme - s.mean) * spread[:, None] + s.mean
        per_unit *= spread[:, None]
    if h:
        area_sd = s.area_sd * spread[:, None]  # runs × areas
        log_share = own * area_sd
        log_share += log_scale[:, s.hazard_class] - area_sd**2 / 2
        log_share += s.log_tilt
        np.minimum(log_share, ceiling, out=log_share)
    else:
        log_share = np.zeros((runs, 0))
    return Shared(programme, per_unit, log_share, damage, rate / WORKING_DAYS_PER_YEAR, spread)


def task_state(rng: np.random.Generator) -> npt.NDArray[np.uint64]:
    """The kernel's own generator state (four words, not all zero), drawn from ``rng``."""
    state = rng.integers(0, 2**64, size=4, dtype=np.uint64, endpoint=False)
    state[0] |= np.uint64(1)
    return state


def sample_worlds(tasks: ForecastTasks, model: UncertaintyModel, runs: int, rng: np.random.Generator, *,
                  horizon: int, conditions: Conditions | None = None) -> Worlds:
    """``runs`` worlds drawn from ``model`` for the plan ``tasks`` describes (durations capped at ``horizon``): the
    kernel a forecast runs, without scheduling."""
    s = sampler(tasks, model, horizon=horizon, conditions=conditions)
    shared = draw_shared(s, runs, rng)
    n = len(tasks.kind)
    days = np.zeros((runs, n), dtype=np.int64)
    stood = np.zeros((runs, n), dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    no_ends = np.zeros((runs, 0), dtype=np.int32)
    run_chunk(task_state(rng), s.kind, s.group, s.unit, s.hazard, s.asset, s.log_base, s.noise_sd, s.weather,
              np.full(n, horizon, dtype=np.int64), s.fixed, s.minimum, shared.programme, shared.per_unit,
              shared.log_share, shared.damage, shared.weather_rate, shared.spread, horizon, s.accident_rate,
              s.accident_min, s.accident_max, s.damage_mean, s.damage_sd, s.independent, False, s.round_up, False,
              none, np.zeros((1, 1), dtype=np.int64), none, none, none, none, none, none, none, none, none, none,
              np.full(n, -1, dtype=np.int64), np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.bool_), np.zeros((1, 1)),
              np.array([0, np.iinfo(np.int64).max], dtype=np.int64), np.zeros((1, 1)),
              np.zeros(runs, dtype=np.int64), no_ends, no_ends, np.zeros(n, dtype=np.int64),
              np.zeros(2, dtype=np.int64), days, stood, np.zeros((runs, n), dtype=np.int64), np.zeros((1, 1)))
    shares = np.minimum(1.0, s.planned_share * np.exp(shared.log_share)) if len(s.planned_share) else shared.log_share
    return Worlds(days, shares, stood)
