"""A world equal to the plan's assumptions gives back the plan: a forecast under ``UncertaintyModel.certain()`` or
``UncertaintyModel().only()`` (every source of variation off) finishes every area, asset and the region on the
plan's own dates (tolerance: zero days), on a planned register with a winter stand-down in its first weeks; each
source switched on alone moves the dates only later or earlier as its model says."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapper.forecast import Source, UncertaintyModel
from sapper.services.forecast import prepare_forecast, run_prepared
from sapper.store import open_store

from .conftest import EXAMPLES, _sapper

#: How far (calendar days) a world without variance may finish from the plan: none.
TOLERANCE_DAYS = 0


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README tour's register (synthetic examples) planned by the greedy engine from a November start."""
    db = tmp_path_factory.mktemp("certain") / "tour.gpkg"
    _sapper("init", "--db", db, "--start-date", "2026-11-02")
    _sapper("import", "hazards", EXAMPLES / "survey.geojson", "--db", db)
    _sapper("import", "assets", EXAMPLES / "damage.csv", "--crs", "EPSG:4326", "--db", db)
    _sapper("import", "workforce", EXAMPLES / "teams.csv", "--db", db)
    _sapper("plan", "--db", db, "--engine", "greedy")
    return db


@pytest.mark.parametrize("model", [UncertaintyModel.certain(), UncertaintyModel().only()], ids=["certain", "only"])
def test_a_world_without_variance_is_the_plan(planned: Path, model: UncertaintyModel) -> None:
    with open_store(planned) as store:
        prep = prepare_forecast(store, progress=False)
        f = run_prepared(prep, runs=30, seed=3, model=model)
    assert f.planned_finish is not None
    for p in (f.overall.p10, f.overall.p50, f.overall.p90):
        assert abs((p - f.planned_finish).days) <= TOLERANCE_DAYS
    assert f.areas and f.assets
    for a in f.areas:
        assert abs((a.release.p10 - a.planned).days) <= TOLERANCE_DAYS, a.hazard_id
        assert abs((a.release.p90 - a.planned).days) <= TOLERANCE_DAYS, a.hazard_id
    for s in f.assets:
        assert abs((s.restoration.p10 - s.planned).days) <= TOLERANCE_DAYS, s.asset_id
        assert abs((s.restoration.p90 - s.planned).days) <= TOLERANCE_DAYS, s.asset_id
    assert f.clipped_lots == 0 and f.beyond_horizon == 0


def test_the_productivity_bias_alone_only_delays(planned: Path) -> None:
    """A programme 10 % slower than planned (the default bias, no spread) finishes nothing earlier than planned and
    the region later."""
    with open_store(planned) as store:
        prep = prepare_forecast(store, progress=False)
        f = run_prepared(prep, runs=20, seed=3, model=UncertaintyModel().only(Source.BIAS))
    assert f.planned_finish is not None and f.overall.p10 > f.planned_finish
    assert f.overall.p10 == f.overall.p90  # no spread: every run the same
    assert all(a.release.p50 >= a.planned for a in f.areas)
    assert all(s.restoration.p50 >= s.planned for s in f.assets)


def test_only_keeps_the_named_sources() -> None:
    m = UncertaintyModel()
    w = m.only(Source.WEATHER, Source.PROGRAMME)
    assert w.weather == m.weather and w.accidents.per_team_year == 0 and w.damage.sd == 0 and w.damage.mean == 0
    manual = w.of("manual")
    assert (manual.mean, manual.sd, manual.unit_sd, manual.day_sd) == (0.0, m.of("manual").sd, 0.0, 0.0)
    assert all(o.area_sd == 0 and abs(o.mean - m.outcome(c).mean) < 1e-9 for c, o in w.survey.items())


def test_unbiased_rounding_takes_half_a_day_less_per_lot_than_rounding_up() -> None:
    """Rounding a noisy lot's days up adds about half a day per lot; the unbiased (stochastic) rounding does not."""
    import dataclasses

    import numpy as np

    from sapper.forecast import WorkKind, sample_worlds

    from .conftest import programme

    problem, tasks = programme(winter=False)
    work = tasks.kind != WorkKind.MILESTONE
    noisy = UncertaintyModel().only(Source.DAY)
    means = {}
    for up in (True, False):
        worlds = sample_worlds(tasks, dataclasses.replace(noisy, round_up=up), 4000, np.random.default_rng(5),
                               horizon=problem.horizon)
        means[up] = float(worlds.durations[:, work].mean())
    assert 0.4 < means[True] - means[False] < 0.6
    whole = dataclasses.replace(tasks, base_days=np.ceil(tasks.base_days))  # a plan's days are whole days
    certain = sample_worlds(whole, dataclasses.replace(UncertaintyModel.certain(), round_up=False), 50,
                            np.random.default_rng(5), horizon=problem.horizon)
    assert (certain.durations[:, work] == whole.base_days[work]).all()  # no noise: nothing to round
