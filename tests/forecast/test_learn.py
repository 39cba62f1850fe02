"""Learning from progress: the conjugate updates give the closed-form posteriors, and bad reports are refused."""

from __future__ import annotations

import dataclasses
import math

import pytest

from sapper.errors import ValidationError
from sapper.forecast import PaceReport, Productivity, SurveyOutcome, SurveyReport, UncertaintyModel, learn
from sapper.forecast.learn import update_productivity, update_survey
from sapper.forecast.model import Spread

from .conftest import CHA, SHA


def test_productivity_posterior_is_the_closed_form() -> None:
    """Two reports on a Normal(−0.1, 0.3²) prior give the known-variance normal posterior, worked by hand."""
    prior = Productivity(mean=-0.1, sd=0.3, unit_sd=0.2, day_sd=0.4)
    reports = [PaceReport("manual", work=800.0, unit_days=10.0, planned_rate=100.0),   # y = log 0.8
               PaceReport("manual", work=1800.0, unit_days=20.0, planned_rate=100.0)]  # y = log 0.9
    v1 = 0.2**2 + 0.4**2 / 10
    v2 = 0.2**2 + 0.4**2 / 20
    precision = 1 / 0.3**2 + 1 / v1 + 1 / v2
    mean = (-0.1 / 0.3**2 + math.log(0.8) / v1 + math.log(0.9) / v2) / precision
    post = update_productivity(prior, reports)
    assert post.mean == pytest.approx(mean, rel=1e-12)
    assert post.sd == pytest.approx(math.sqrt(1 / precision), rel=1e-12)
    assert (post.unit_sd, post.day_sd) == (0.2, 0.4)
    assert post.learned and not prior.learned and not update_productivity(prior, []).learned


def test_many_reports_move_the_mean_to_the_real_pace() -> None:
    """Eight weeks of daily reports at 70 % of the planned rate pull the programme factor close to log 0.7."""
    prior = Productivity(mean=0.0, sd=0.3, unit_sd=0.05, day_sd=0.3)
    reports = [PaceReport("dog", work=700.0, unit_days=10.0, planned_rate=100.0) for _ in range(48)]
    post = update_productivity(prior, reports)
    assert post.mean == pytest.approx(math.log(0.7), abs=0.01)
    assert post.sd < 0.02


def test_survey_posterior_is_the_closed_form() -> None:
    """Beta(2, 38) with areas leaving 30 % and 50 % for clearance becomes Beta(2.8, 39.2)."""
    post = update_survey(SurveyOutcome(2.0, 38.0, 0.5),
                         [SurveyReport(SHA, 1000.0, 300.0), SurveyReport(SHA, 2000.0, 1000.0)])
    assert (post.alpha, post.beta, post.area_sd) == (pytest.approx(2.8), pytest.approx(39.2), 0.5)


def test_learn_updates_only_the_groups_and_classes_reported() -> None:
    """``learn`` replaces the reported method and class, and keeps the others as they were."""
    model = UncertaintyModel()
    after = learn(model, [PaceReport("manual", 500.0, 10.0, 100.0)], [SurveyReport(CHA, 100.0, 100.0)])
    assert after.of("manual").mean < model.of("manual").mean
    assert after.of("dog") == model.of("dog")
    assert after.outcome(CHA).alpha == model.outcome(CHA).alpha + 1
    assert after.outcome(SHA) == model.outcome(SHA)
    assert after.prior_outcome(CHA) == model.outcome(CHA)


def test_bad_reports_are_named_at_once() -> None:
    """A report without days and a survey leaving more than it surveyed are both named in one ValidationError."""
    with pytest.raises(ValidationError) as err:
        learn(UncertaintyModel(), [PaceReport("manual", 500.0, 0.0, 100.0)], [SurveyReport(SHA, 100.0, 150.0)])
    text = str(err.value)
    assert "pace report 0 (manual)" in text and "survey report 0" in text


def test_learning_counts_the_spread_uncertainty_in_each_report() -> None:
    """With the model's spread uncertainty each report's variance is E[k²] times the assumed one (the closed form
    with the inflated variances), so the same reports move the programme factor less."""
    prior = Productivity(mean=-0.1, sd=0.3, unit_sd=0.2, day_sd=0.4)
    model = UncertaintyModel(productivity={"manual": prior}, spread=Spread(1.25, 0.2))
    inflation = 1.25**2 * math.exp(2 * 0.2**2)
    assert model.spread.variance_factor == pytest.approx(inflation, rel=1e-12)
    report = PaceReport("manual", work=800.0, unit_days=10.0, planned_rate=100.0)
    v = (0.2**2 + 0.4**2 / 10) * inflation
    precision = 1 / 0.3**2 + 1 / v
    post = learn(model, [report], []).of("manual")
    assert post.mean == pytest.approx((-0.1 / 0.3**2 + math.log(0.8) / v) / precision, rel=1e-12)
    assert post.sd == pytest.approx(math.sqrt(1 / precision), rel=1e-12)
    plain = learn(dataclasses.replace(model, spread=Spread(1.0, 0.0)), [report], []).of("manual")
    assert abs(plain.mean - math.log(0.8)) < abs(post.mean - math.log(0.8))


def test_a_learned_pace_is_used_as_the_mean_pace_it_is() -> None:
    """A pace learned from reports (work over whole days worked) is a mean: the lots of a learned method average
    planned days / pace (day-to-day noise drawn mean-preserving, days rounded without bias), where the same pace used
    as a median, as before, averages more (the noise's mean effect and a rounding up counted a second time)."""
    import numpy as np

    from sapper.forecast import WorkKind, sample_worlds
    from sapper.forecast.model import Source

    from .conftest import GROUPS, programme

    problem, tasks = programme(winter=False)
    work = tasks.kind != WorkKind.MILESTONE
    learned = {g: Productivity(math.log(0.8), 0.0, 0.0, 0.5, learned=True) for g in GROUPS}
    model = dataclasses.replace(UncertaintyModel().only(Source.DAY), productivity=learned)
    expected = float((tasks.base_days[work] / 0.8).mean())
    means = {}
    for as_mean in (True, False):
        worlds = sample_worlds(tasks, dataclasses.replace(model, learned_pace_is_mean=as_mean), 4000,
                               np.random.default_rng(7), horizon=problem.horizon)
        means[as_mean] = float(worlds.durations[:, work].mean())
    assert means[True] == pytest.approx(expected, rel=0.02)
    assert means[False] - means[True] > 0.4
    prior = dataclasses.replace(model, productivity={g: dataclasses.replace(p, learned=False)
                                                     for g, p in learned.items()})
    unlearned = sample_worlds(tasks, prior, 4000, np.random.default_rng(7), horizon=problem.horizon)
    assert float(unlearned.durations[:, work].mean()) == pytest.approx(means[False], rel=1e-12)  # the prior as before
