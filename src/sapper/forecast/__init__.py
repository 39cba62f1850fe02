"""Forecasts of completion with honest uncertainty: Monte Carlo over a plan used as a policy, learning from progress.

A layer above ``plan`` (it imports ``sapper.plan`` and ``sapper.domain`` only); randomness comes from a numpy
``Generator`` passed in. See docs/forecast.md.
"""

from sapper.forecast.inputs import ForecastTasks, TaskCosts, WorkKind
from sapper.forecast.learn import PaceReport, SurveyReport, learn, update_productivity, update_survey
from sapper.forecast.model import (
    Accidents,
    Damage,
    Productivity,
    Source,
    Spread,
    SurveyClass,
    SurveyOutcome,
    UncertaintyModel,
    Weather,
)
from sapper.forecast.montecarlo import Fan, MonteCarloResult, Percentiles, run_forecast
from sapper.forecast.sample import Conditions, Worlds, sample_worlds

__all__ = [
    "Accidents",
    "Conditions",
    "Damage",
    "Fan",
    "ForecastTasks",
    "MonteCarloResult",
    "PaceReport",
    "Percentiles",
    "Productivity",
    "Source",
    "Spread",
    "SurveyClass",
    "SurveyOutcome",
    "SurveyReport",
    "TaskCosts",
    "UncertaintyModel",
    "Weather",
    "WorkKind",
    "Worlds",
    "learn",
    "run_forecast",
    "sample_worlds",
    "update_productivity",
    "update_survey",
]
