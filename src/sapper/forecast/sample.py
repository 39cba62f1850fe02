"""Sampling worlds: each run's task durations and capacity losses, from the uncertainty model and a Generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapper.forecast.inputs import Floats, ForecastTasks, Ints, WorkKind
from sapper.forecast.model import UncertaintyModel

#: Working days in a year of the default six-day calendar less holidays (rates "per year" are per this many days).
WORKING_DAYS_PER_YEAR = 300


@dataclass(frozen=True, eq=False)
class Conditions:
    """What is already known when forecasting from part-way through: ``known`` tasks take ``known_days`` (done);
    ``earliest`` is each task's earliest start (the forecast date for work not started)."""

    known: Ints
    known_days: Ints
    earliest: Ints


@dataclass(frozen=True, eq=False)
class Worlds:
    """Sampled runs: ``durations`` (runs × tasks) and each hazard area's share left for clearance (runs × hazard
    areas)."""

    durations: Ints
    shares: Floats


def sample_worlds(tasks: ForecastTasks, model: UncertaintyModel, runs: int, rng: np.random.Generator, *,
                  horizon: int, conditions: Conditions | None = None) -> Worlds:
    """``runs`` worlds drawn from ``model`` for the plan ``tasks`` describes (durations capped at ``horizon``)."""
    shares = _shares(tasks, model, runs, rng)
    durations = _durations(tasks, model, runs, rng, shares, horizon)
    durations += _stoppages(tasks, model, durations, rng)
    durations = np.minimum(durations, horizon)
    if conditions is not None and len(conditions.known):
        durations[:, conditions.known] = conditions.known_days
    return Worlds(durations, shares)


def _shares(tasks: ForecastTasks, model: UncertaintyModel, runs: int, rng: np.random.Generator) -> Floats:
    """Each run's share of each hazard area left for clearance: a class-wide mean per run, then per area."""
    classes = sorted(set(tasks.hazard_class))
    idx = np.array([classes.index(c) for c in tasks.hazard_class], dtype=np.int64)
    if not classes:
        return np.zeros((runs, 0))
    outcomes = [model.outcome(c) for c in classes]
    a = np.array([o.alpha for o in outcomes])
    b = np.array([o.beta for o in outcomes])
    kappa = np.array([o.concentration for o in outcomes])[idx]
    if model.independent:
        mean = np.broadcast_to((a / (a + b))[idx], (runs, len(idx)))
    else:
        mean = rng.beta(a, b, size=(runs, len(classes)))[:, idx]
    mean = np.clip(mean, 1e-6, 1 - 1e-6)
    return np.asarray(rng.beta(mean * kappa, (1 - mean) * kappa), dtype=np.float64)


def _durations(tasks: ForecastTasks, model: UncertaintyModel, runs: int, rng: np.random.Generator, shares: Floats,
               horizon: int) -> Ints:
    n = len(tasks.kind)
    g = np.maximum(tasks.group, 0)
    prods = [model.of(name) for name in tasks.groups] or [model.fallback]
    mu = np.array([p.mean for p in prods])[g]
    sd = np.array([p.sd for p in prods])[g]
    unit_sd = np.array([p.unit_sd for p in prods])[g]
    day_sd = np.array([p.day_sd for p in prods])[g] / np.sqrt(np.maximum(tasks.base_days, 1.0))
    if model.independent:
        total = np.sqrt(sd**2 + np.where(tasks.unit >= 0, unit_sd**2, 0.0) + day_sd**2)
        logp = mu + rng.standard_normal((runs, n)) * total
    else:
        programme = rng.normal(size=(runs, len(prods))) * np.array([p.sd for p in prods]) \
            + np.array([p.mean for p in prods])
        unit_group = np.zeros(max(1, tasks.units), dtype=np.int64)
        has = tasks.unit >= 0
        unit_group[tasks.unit[has]] = g[has]
        per_unit = rng.standard_normal((runs, max(1, tasks.units))) * np.array([p.unit_sd for p in prods])[unit_group]
        logp = programme[:, g] + np.where(has, per_unit[:, np.maximum(tasks.unit, 0)], 0.0) \
            + rng.standard_normal((runs, n)) * day_sd
    factor = np.ones((runs, n))
    clear = tasks.kind == WorkKind.CLEARANCE
    if clear.any():
        h = tasks.hazard[clear]
        factor[:, clear] = shares[:, h] / tasks.planned_share[h]
    repair = tasks.kind == WorkKind.REPAIR
    if repair.any():
        d = model.damage
        if model.independent:
            factor[:, repair] = np.exp(rng.normal(d.mean, d.sd, size=(runs, int(repair.sum()))))
        else:
            per_asset = np.exp(rng.normal(d.mean, d.sd, size=(runs, len(tasks.restored))))
            factor[:, repair] = per_asset[:, tasks.asset[repair]]
    days = tasks.base_days * factor * np.exp(-logp)
    out = np.ceil(np.minimum(days, horizon) - 1e-9).astype(np.int64)
    out[:, tasks.kind == WorkKind.MILESTONE] = 0
    return np.maximum(out, 0)


def _stoppages(tasks: ForecastTasks, model: UncertaintyModel, durations: Ints, rng: np.random.Generator) -> Ints:
    """Days a demining lot stands still: weather (a run's rate of bad days per year, Gamma-distributed around the
    model's, shared by every lot in the run) and accidents (each stops the team for days). A lot is one team's
    uninterrupted work, so a stop lengthens it rather than opening a gap in the pool."""
    runs = durations.shape[0]
    hit = np.array([tasks.group[j] >= 0 and tasks.groups[tasks.group[j]] in tasks.weather_groups
                    for j in range(len(tasks.kind))], dtype=bool)
    extra = np.zeros_like(durations)
    if not hit.any():
        return extra
    days = durations[:, hit]
    w = model.weather
    rate = w.days_per_year if model.independent or w.shape <= 0 else rng.gamma(w.shape, w.days_per_year / w.shape,
                                                                              size=(runs, 1))
    extra[:, hit] += rng.poisson(days * np.asarray(rate) / WORKING_DAYS_PER_YEAR)
    acc = model.accidents
    count = rng.poisson(days * acc.per_team_year / WORKING_DAYS_PER_YEAR)
    stop = np.zeros_like(days)
    for k in range(1, int(count.max(initial=0)) + 1):
        stop += np.where(count >= k, rng.integers(acc.min_days, acc.max_days + 1, size=days.shape), 0)
    extra[:, hit] += stop
    return extra
