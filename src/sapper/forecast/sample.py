"""Sampling worlds: each run's task durations and capacity losses, from the uncertainty model and a Generator."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sapper.forecast.inputs import Floats, ForecastTasks, Ints, WorkKind
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


def sample_worlds(tasks: ForecastTasks, model: UncertaintyModel, runs: int, rng: np.random.Generator, *,
                  horizon: int, conditions: Conditions | None = None) -> Worlds:
    """``runs`` worlds drawn from ``model`` for the plan ``tasks`` describes (durations capped at ``horizon``)."""
    shares = _shares(tasks, model, runs, rng)
    durations = _durations(tasks, model, runs, rng, shares, horizon)
    stood = _stoppages(tasks, model, durations, rng)
    durations = np.minimum(durations + stood, horizon)
    if conditions is not None:
        durations[:, conditions.known] = conditions.known_days
        durations[:, conditions.running] = np.maximum(durations[:, conditions.running], conditions.running_days + 1)
    return Worlds(durations, shares, stood)


def _shares(tasks: ForecastTasks, model: UncertaintyModel, runs: int, rng: np.random.Generator) -> Floats:
    """Each run's share of each hazard area left for clearance: the planned share scaled by the class mean's draw
    relative to its prior mean (one per class and run), times a lognormal factor of the area's own."""
    if not tasks.hazard_class:
        return np.zeros((runs, 0))
    classes = sorted(set(tasks.hazard_class))
    idx = np.array([classes.index(c) for c in tasks.hazard_class], dtype=np.int64)
    outcomes = [model.outcome(c) for c in classes]
    a = np.array([o.alpha for o in outcomes])
    b = np.array([o.beta for o in outcomes])
    prior = np.array([model.prior_outcome(c).mean for c in classes])
    sd = np.array([o.area_sd for o in outcomes])[idx]
    if model.independent:
        scale = np.broadcast_to((a / (a + b) / prior)[idx], (runs, len(idx)))
    else:
        scale = (rng.beta(a, b, size=(runs, len(classes))) / prior)[:, idx]
    own = np.exp(rng.standard_normal((runs, len(idx))) * sd - sd**2 / 2)
    return np.asarray(np.clip(tasks.planned_share * scale * own, 0.0, 1.0), dtype=np.float64)


def _durations(tasks: ForecastTasks, model: UncertaintyModel, runs: int, rng: np.random.Generator, shares: Floats,
               horizon: int) -> Ints:
    """Each work task's days: planned days × work factor (survey outcome, damage) / productivity factor. Drawn in
    single precision on the work tasks only (milestones take no time): the draws are most of a forecast's time."""
    n = len(tasks.kind)
    work = np.flatnonzero(tasks.kind != WorkKind.MILESTONE)
    g = tasks.group[work]
    prods = [model.of(name) for name in tasks.groups] or [model.fallback]
    mean = np.array([p.mean for p in prods], dtype=np.float32)
    sd = np.array([p.sd for p in prods], dtype=np.float32)
    unit_sd = np.array([p.unit_sd for p in prods], dtype=np.float32)
    day_sd = (np.array([p.day_sd for p in prods])[g] / np.sqrt(np.maximum(tasks.base_days[work], 1.0))
              ).astype(np.float32)
    unit = tasks.unit[work]
    has = unit >= 0
    noise = rng.standard_normal((runs, len(work)), dtype=np.float32)
    if model.independent:
        total = np.sqrt(sd[g] ** 2 + np.where(has, unit_sd[g] ** 2, 0.0) + day_sd**2).astype(np.float32)
        log_days = -(mean[g] + noise * total)
    else:
        programme = rng.standard_normal((runs, len(prods)), dtype=np.float32) * sd + mean
        unit_group = np.zeros(max(1, tasks.units), dtype=np.int64)
        unit_group[unit[has]] = g[has]
        per_unit = rng.standard_normal((runs, max(1, tasks.units)), dtype=np.float32) * unit_sd[unit_group]
        noise *= day_sd
        noise += programme[:, g]
        noise += np.where(has, per_unit[:, np.maximum(unit, 0)], np.float32(0.0))
        log_days = -noise
    kind = tasks.kind[work]
    clear = np.flatnonzero(kind == WorkKind.CLEARANCE)
    if len(clear):
        h = tasks.hazard[work[clear]]
        with np.errstate(divide="ignore"):
            log_days[:, clear] += np.log(shares[:, h] / tasks.planned_share[h]).astype(np.float32)
    repair = np.flatnonzero(kind == WorkKind.REPAIR)
    if len(repair):
        d = model.damage
        if model.independent:
            log_days[:, repair] += rng.normal(d.mean, d.sd, size=(runs, len(repair))).astype(np.float32)
        else:
            per_asset = rng.normal(d.mean, d.sd, size=(runs, len(tasks.restored))).astype(np.float32)
            log_days[:, repair] += per_asset[:, tasks.asset[work[repair]]]
    log_days += np.log(np.maximum(tasks.base_days[work], 1e-9)).astype(np.float32)
    days = np.minimum(np.exp(log_days), np.float32(horizon))
    out = np.zeros((runs, n), dtype=np.int64)
    out[:, work] = np.ceil(days - np.float32(1e-4))
    out[:, work[tasks.base_days[work] <= 0]] = 0
    return out


def _stoppages(tasks: ForecastTasks, model: UncertaintyModel, durations: Ints, rng: np.random.Generator) -> Ints:
    """Days a demining lot stands still: weather (a run's rate of bad days per year, Gamma-distributed around the
    model's, shared by every lot in the run) and accidents (each stops the team for days). A lot is one team's
    uninterrupted work, so a stop lengthens it rather than opening a gap in the pool."""
    runs = durations.shape[0]
    weather = np.array([name in tasks.weather_groups for name in tasks.groups] or [False], dtype=bool)
    hit = np.flatnonzero((tasks.group >= 0) & weather[np.maximum(tasks.group, 0)])
    extra = np.zeros_like(durations)
    if not len(hit):
        return extra
    days = durations[:, hit]
    w = model.weather
    rate = w.days_per_year if model.independent or w.shape <= 0 else rng.gamma(w.shape, w.days_per_year / w.shape,
                                                                              size=(runs, 1))
    # A lot's weather days: its expected number at the run's rate, rounded up or down at random (unbiased). The
    # spread that matters is the run's rate, shared by every lot; per-lot Poisson noise would average out and costs
    # more than the rest of the sampling.
    expected = days * (np.asarray(rate, dtype=np.float32) / np.float32(WORKING_DAYS_PER_YEAR))
    stop = np.floor(expected + rng.random(days.shape, dtype=np.float32)).astype(np.int64)
    # An accident in a lot is rare (λ = days × rate / 300, about 0.01 for a 60-day lot), so at most one per lot is
    # drawn: a uniform draw below 1 − e^−λ (two in one lot, O(λ²), are left out).
    acc = model.accidents
    p = -np.expm1(-days * (acc.per_team_year / WORKING_DAYS_PER_YEAR)).astype(np.float32)
    at = np.nonzero(rng.random(days.shape, dtype=np.float32) < p)
    stop[at] += rng.integers(acc.min_days, acc.max_days + 1, size=len(at[0]))
    extra[:, hit] = stop
    return extra
