"""Monte Carlo over a plan used as a policy: every run's schedule passes the independent checker, a world without
variance gives back the serial scheme's plan, the programme-wide factor widens the intervals, results are ordered
and reproducible for a seed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sapper.errors import ValidationError
from sapper.forecast import (
    Accidents,
    Conditions,
    Damage,
    Productivity,
    SurveyOutcome,
    UncertaintyModel,
    Weather,
    run_forecast,
    sample_worlds,
)
from sapper.forecast.model import Spread
from sapper.forecast.montecarlo import ChunkSpec, make_job, run_chunk_job
from sapper.forecast.sample import draw_shared, sampler
from sapper.plan import Mode, Problem, Task, check
from sapper.plan.evolve import decode, simulate
from sapper.plan.solution import Schedule

from .conftest import CHA, SHA, programme


def _world_problem(problem: Problem, durations: np.ndarray, horizon: int,
                   earliest: np.ndarray | None = None) -> Problem:
    """The run's own problem: the planned modes with the run's durations, earliest starts raised, over ``horizon``."""
    resources = tuple(dataclasses.replace(r, unavailable=tuple((s, min(e, horizon), u) for s, e, u in r.unavailable
                                                               if s < horizon)) for r in problem.resources)
    tasks = tuple(Task(t.name, (Mode(int(d), t.modes[0].demands, t.modes[0].name),),
                       release=max(t.release, 0 if earliest is None else int(earliest[j])))
                  for j, (t, d) in enumerate(zip(problem.tasks, durations, strict=True)))
    return Problem(resources, tasks, problem.precedences, horizon)


def _noisy() -> UncertaintyModel:
    """The default model with frequent weather and accidents, so that lots stand still."""
    return UncertaintyModel(weather=Weather(days_per_year=60.0), accidents=Accidents(per_team_year=3.0))


def test_every_run_passes_the_checker() -> None:
    """Each Monte Carlo run's schedule, with its sampled durations, passes plan.solution.check (winter included)."""
    problem, tasks = programme()
    horizon = 3000
    worlds = sample_worlds(tasks, _noisy(), 60, np.random.default_rng(7), horizon=horizon)
    runs = simulate(problem, tasks.modes, tasks.order, worlds.durations, horizon=horizon)
    assert (runs.makespan > 0).all()
    for i in range(60):
        own = _world_problem(problem, worlds.durations[i], horizon)
        schedule = Schedule(tuple(int(x) for x in runs.starts[i]), tasks.modes)
        assert check(own, schedule) == []
        assert max(schedule.ends(own)) == runs.makespan[i]


def test_runs_from_part_way_pass_the_checker() -> None:
    """With known durations and earliest starts (a forecast from week 4), every run still passes the checker."""
    problem, tasks = programme()
    n = len(problem.tasks)
    earliest = np.full(n, 20, dtype=np.int64)
    earliest[tasks.order[:3]] = 0
    cond = Conditions(known=tasks.order[:3].copy(), known_days=np.array([5, 5, 7]), earliest=earliest)
    worlds = sample_worlds(tasks, _noisy(), 20, np.random.default_rng(3), horizon=3000, conditions=cond)
    assert (worlds.durations[:, tasks.order[:3]] == [5, 5, 7]).all()
    runs = simulate(problem, tasks.modes, tasks.order, worlds.durations, horizon=3000, earliest=earliest)
    assert (runs.makespan > 0).all()
    for i in range(20):
        own = _world_problem(problem, worlds.durations[i], 3000, earliest)
        assert check(own, Schedule(tuple(int(x) for x in runs.starts[i]), tasks.modes)) == []


def test_every_kernel_run_passes_the_checker() -> None:
    """The forecast's own compiled kernel (sampling and scheduling in one call, from part-way through): each run's
    schedule passes plan.solution.check with that run's days, and its makespan and milestone ends are the kernel's."""
    problem, tasks = programme()
    n = len(problem.tasks)
    earliest = np.full(n, 20, dtype=np.int64)
    earliest[tasks.order[:3]] = 0
    cond = Conditions(known=tasks.order[:3].copy(), known_days=np.array([5, 5, 7]), earliest=earliest,
                      running=tasks.order[3:4].copy(), running_days=np.array([4]))
    whole = dataclasses.replace(_noisy(), pause_over_stand_down=False)  # the checker's lots are whole intervals
    job = make_job(problem, tasks, whole, horizon=3000, conditions=cond)
    out = run_chunk_job(job, ChunkSpec(0, 40, np.random.SeedSequence(9)), keep=True)
    assert out.days is not None and out.starts is not None and out.failed == 0
    assert (out.days[:, tasks.order[:3]] == [5, 5, 7]).all() and (out.days[:, tasks.order[3]] >= 5).all()
    assert len({tuple(r) for r in out.days.tolist()}) == 40  # every run its own world
    for i in range(40):
        own = _world_problem(problem, out.days[i], 3000, earliest)
        schedule = Schedule(tuple(int(x) for x in out.starts[i]), tasks.modes)
        assert check(own, schedule) == []
        ends = schedule.ends(own)
        assert max(ends) == out.spans[i]
        assert [ends[j] for j in tasks.released] == out.released_end[i].tolist()
        assert [ends[j] for j in tasks.restored] == out.restored_end[i].tolist()


def _still() -> UncertaintyModel:
    """A model without variance: planned rates, shares as planned, no weather, no accidents, damage as assessed."""
    exact = Productivity(0.0, 0.0, 0.0, 0.0)
    return UncertaintyModel(productivity={}, fallback=exact,
                            survey={SHA: SurveyOutcome(5e7, 95e7, 0.0), CHA: SurveyOutcome(35e7, 65e7, 0.0)},
                            weather=Weather(0.0), accidents=Accidents(0.0), damage=Damage(0.0, 0.0))


def test_a_world_without_variance_is_the_serial_plan() -> None:
    """With nothing uncertain every run is the serial scheme's plan of the plan's order in planned durations."""
    problem, tasks = programme()
    result = run_forecast(problem, tasks, _still(), runs=5, rng=np.random.default_rng(1), horizon=400)
    durations = np.where(tasks.base_days > 0, np.ceil(tasks.base_days), 0).astype(int)
    own = problem.replace(tasks=tuple(dataclasses.replace(t, modes=(dataclasses.replace(t.modes[0], duration=int(d)),))
                                      for t, d in zip(problem.tasks, durations, strict=True)))
    plan = decode(own, tasks.order.tolist(), tasks.modes, improve=False)
    assert plan is not None
    finish = max(plan.ends(own))
    assert result.overall.p10 == result.overall.p90 == finish
    assert [p.p50 for p in result.restored] == [plan.end(own, int(j)) for j in tasks.restored]
    assert result.beyond_horizon == 0


def test_percentiles_are_ordered_and_criticality_is_a_share() -> None:
    """Percentiles are ordered, criticality is a share, the fan's bands are ordered and end with all released."""
    problem, tasks = programme()
    result = run_forecast(problem, tasks, UncertaintyModel(), runs=300, rng=np.random.default_rng(2), horizon=400)
    for p in (result.overall, *result.released, *result.restored, *result.asset_classes.values()):
        assert p.p10 <= p.p50 <= p.p80 <= p.p90
    assert set(result.asset_classes) == {"road", "school"}
    assert result.overall.p90 >= max(result.asset_classes["road"].p90, result.asset_classes["school"].p90,
                                     *(p.p90 for p in result.released))
    assert ((result.criticality >= 0) & (result.criticality <= 1)).all()
    assert result.criticality.max() > 0.5
    fan = result.fan
    assert (fan.released_km2[0] <= fan.released_km2[1]).all() and (fan.released_km2[1] <= fan.released_km2[2]).all()
    assert fan.released_km2[1, -1] == pytest.approx(0.35)
    assert fan.restored_assets[1, -1] == 2


def test_same_seed_same_forecast() -> None:
    """The same seed gives the same forecast; another seed gives other samples."""
    problem, tasks = programme()
    a = run_forecast(problem, tasks, UncertaintyModel(), runs=100, rng=np.random.default_rng(5), horizon=400)
    b = run_forecast(problem, tasks, UncertaintyModel(), runs=100, rng=np.random.default_rng(5), horizon=400)
    c = run_forecast(problem, tasks, UncertaintyModel(), runs=100, rng=np.random.default_rng(6), horizon=400)
    assert (a.makespans == b.makespans).all() and a.overall == b.overall
    assert not (a.makespans == c.makespans).all()


def test_the_programme_factor_widens_the_interval() -> None:
    """On a programme of many lots, shared factors give a wider P10–P90 than independent noise of the same size."""
    problem, tasks = programme(lots=12, winter=False)
    rng = np.random.default_rng(11)
    survey = {SHA: SurveyOutcome(2.0, 38.0, 0.0), CHA: SurveyOutcome(7.0, 13.0, 0.0)}
    quiet = UncertaintyModel(survey=survey, weather=Weather(0.0), accidents=Accidents(0.0))
    joint = run_forecast(problem, tasks, quiet, runs=400, rng=rng, horizon=800)
    naive = run_forecast(problem, tasks, dataclasses.replace(quiet, independent=True), runs=400, rng=rng,
                         horizon=800)
    assert joint.overall.p90 - joint.overall.p10 > 1.5 * (naive.overall.p90 - naive.overall.p10)


def test_the_spread_uncertainty_mixes_wider_worlds_in() -> None:
    """Spread(1, 0) draws every other shared factor exactly as a model without it; a median above one and a spread
    widen the runs' programme and team factors (each run's own multiplier) and the region's P10–P90."""
    problem, tasks = programme(lots=12, winter=False)
    base = UncertaintyModel(weather=Weather(0.0), accidents=Accidents(0.0))
    s0 = sampler(tasks, dataclasses.replace(base, spread=Spread(1.0, 0.0)), horizon=800)
    s1 = sampler(tasks, dataclasses.replace(base, spread=Spread(1.5, 0.3)), horizon=800)
    a = draw_shared(s0, 300, np.random.default_rng(8))
    b = draw_shared(s1, 300, np.random.default_rng(8))
    assert (a.spread == 1.0).all() and (a.weather_rate == b.weather_rate).all() and (a.damage == b.damage).all()
    assert np.allclose(b.programme - s1.mean, (a.programme - s0.mean) * b.spread[:, None])
    assert np.allclose(b.per_unit, a.per_unit * b.spread[:, None])
    assert np.median(b.spread) == pytest.approx(1.5, rel=0.1)
    plain = run_forecast(problem, tasks, dataclasses.replace(base, spread=Spread(1.0, 0.0)), runs=400,
                         rng=np.random.default_rng(12), horizon=800)
    wide = run_forecast(problem, tasks, dataclasses.replace(base, spread=Spread(1.5, 0.3)), runs=400,
                        rng=np.random.default_rng(12), horizon=800)
    assert wide.overall.p90 - wide.overall.p10 > plain.overall.p90 - plain.overall.p10


def test_runs_past_the_horizon_are_counted() -> None:
    """A horizon too short for some runs: they are counted and end at the horizon, not dropped."""
    problem, tasks = programme()
    result = run_forecast(problem, tasks, UncertaintyModel(), runs=100, rng=np.random.default_rng(3), horizon=60)
    assert result.beyond_horizon > 0
    assert result.overall.p90 == 60


def test_bad_input_is_refused() -> None:
    """An order that puts a task before its predecessor, or no runs, is a ValidationError naming the reason."""
    problem, tasks = programme()
    with pytest.raises(ValidationError, match="before its predecessor"):
        run_forecast(problem, dataclasses.replace(tasks, order=tasks.order[::-1].copy()), UncertaintyModel(),
                     runs=10, rng=np.random.default_rng(0), horizon=400)
    with pytest.raises(ValidationError, match="runs must be at least 1"):
        run_forecast(problem, tasks, UncertaintyModel(), runs=0, rng=np.random.default_rng(0), horizon=400)


def _closed(problem: Problem, horizon: int) -> np.ndarray:
    """Per pool and period, whether it stands down (no capacity at all)."""
    cap = np.array([[r.capacity] * horizon for r in problem.resources], dtype=np.int64)
    for k, r in enumerate(problem.resources):
        for s, e, u in r.unavailable:
            cap[k, s:min(e, horizon)] -= u
    return cap <= 0


def test_kernel_runs_with_pausing_lots_keep_every_rule() -> None:
    """With lots pausing over the winter (the default): in every run each lot works its days only in periods its pool
    works, starting in one; no pool is over capacity in any period; every successor starts after its predecessors'
    ends; the kernel's makespan and milestone ends are those ends; and some lot did pause."""
    problem, tasks = programme()
    horizon = 3000
    job = make_job(problem, tasks, _noisy(), horizon=horizon)
    out = run_chunk_job(job, ChunkSpec(0, 40, np.random.SeedSequence(9)), keep=True)
    assert out.days is not None and out.starts is not None and out.failed == 0
    closed = _closed(problem, horizon)
    paused = 0
    for i in range(40):
        used = np.zeros((len(problem.resources), horizon), dtype=np.int64)
        ends = []
        for j, task in enumerate(problem.tasks):
            start, left = int(out.starts[i, j]), int(out.days[i, j])
            demands = task.modes[tasks.modes[j]].demands if left else ()
            tau = start
            if demands:
                assert not any(closed[r, start] for r, _ in demands)
            while left > 0:
                if any(closed[r, tau] for r, _ in demands):
                    tau += 1
                    continue
                for r, u in demands:
                    used[r, tau] += u
                left -= 1
                tau += 1
            paused += tau - start > out.days[i, j]
            ends.append(tau)
        for k, r in enumerate(problem.resources):
            profile = np.full(horizon, r.capacity) - sum(
                np.where((np.arange(horizon) >= s) & (np.arange(horizon) < e), u, 0) for s, e, u in r.unavailable)
            assert (used[k] <= np.maximum(profile, 0)).all()
        for p in problem.precedences:
            assert out.starts[i, p.succ] >= ends[p.pred] + p.lag
        assert max(ends) == out.spans[i]
        assert [ends[j] for j in tasks.released] == out.released_end[i].tolist()
        assert [ends[j] for j in tasks.restored] == out.restored_end[i].tolist()
    assert paused > 0
