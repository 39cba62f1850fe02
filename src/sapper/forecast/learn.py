"""Learning from progress: reported work updates the productivity and survey-outcome distributions.

- Productivity (per method or trade): a report of ``work`` done in ``unit_days`` team- or brigade-days against a
  planned ``planned_rate`` gives y = log(work / unit_days / planned_rate). Taken as y ~ Normal(μ, σ²) with the
  programme factor μ unknown and σ² = unit_sd² + day_sd² / unit_days known, the prior μ ~ Normal(m₀, s₀²) is
  conjugate: 1/s² = 1/s₀² + Σ 1/σᵢ², m = s² (m₀/s₀² + Σ yᵢ/σᵢ²).
- Survey outcome (per hazard class and evidence): each surveyed area reports the share it left for clearance,
  sᵢ = left / surveyed. The class mean's Beta(α, β) is updated as if each area were one trial with fractional
  success: α' = α + Σ sᵢ, β' = β + Σ (1 − sᵢ) (exact for areas wholly cleared or wholly released; an approximation
  between).
- Spread (``Spread``, each run's multiplier k on the spreads): given k every variance above is k² times the assumed
  one, so each report's variance is taken as E[k²] (unit_sd² + day_sd² / unit_days), its mean over k. The reports'
  own dispersion could say how large k is (a grid posterior of log k was tried); on the calibration benchmark it came
  out 1.5–2.4 in its first worlds where the truth's is 1.4 (the reports vary more than the model's σᵢ says; the
  rounding of short lots is a likely cause, not verified) and the coverage after 4 and 8 weeks got worse, so k is
  not learned.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sapper.errors import Fault, ValidationError
from sapper.forecast.model import Productivity, SurveyClass, SurveyOutcome, UncertaintyModel


@dataclass(frozen=True, slots=True)
class PaceReport:
    """``work`` (m² or builder-days) done by ``group`` in ``unit_days`` team- or brigade-days, against a plan of
    ``planned_rate`` per unit-day."""

    group: str
    work: float
    unit_days: float
    planned_rate: float

    def faults(self, record: str) -> list[Fault]:
        out = []
        for name in ("work", "unit_days", "planned_rate"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                out.append(Fault(record, f"{name} must be a finite number > 0, got {value}", name))
        return out


@dataclass(frozen=True, slots=True)
class SurveyReport:
    """A survey of ``surveyed_m2`` of an area of ``cls`` that left ``left_m2`` for clearance."""

    cls: SurveyClass
    surveyed_m2: float
    left_m2: float

    def faults(self, record: str) -> list[Fault]:
        if not (self.surveyed_m2 > 0 and 0 <= self.left_m2 <= self.surveyed_m2 * (1 + 1e-9)):
            return [Fault(record, f"needs surveyed area > 0 and 0 ≤ left ≤ surveyed, got {self.left_m2} of "
                                  f"{self.surveyed_m2}", "left_m2")]
        return []


def update_productivity(prior: Productivity, reports: Iterable[PaceReport], *, inflation: float = 1.0
                        ) -> Productivity:
    """The posterior of the programme factor given ``reports`` (conjugate normal, known variance; each report's
    variance multiplied by ``inflation``, the model's E[k²])."""
    precision = 1.0 / prior.sd**2 if prior.sd > 0 else math.inf
    if math.isinf(precision):
        return prior
    weighted = prior.mean * precision
    seen = prior.learned
    for r in reports:
        seen = True
        var = (prior.unit_sd**2 + prior.day_sd**2 / r.unit_days) * inflation
        var = max(var, 1e-12)
        y = math.log(r.work / r.unit_days / r.planned_rate)
        precision += 1.0 / var
        weighted += y / var
    return dataclasses.replace(prior, mean=weighted / precision, sd=math.sqrt(1.0 / precision), learned=seen)


def update_survey(prior: SurveyOutcome, reports: Iterable[SurveyReport]) -> SurveyOutcome:
    """The posterior Beta of the class mean share left for clearance given ``reports``."""
    a, b = prior.alpha, prior.beta
    for r in reports:
        s = min(1.0, r.left_m2 / r.surveyed_m2)
        a += s
        b += 1.0 - s
    return dataclasses.replace(prior, alpha=a, beta=b)


def learn(model: UncertaintyModel, pace: Iterable[PaceReport], surveys: Iterable[SurveyReport]) -> UncertaintyModel:
    """``model`` with every group's productivity and every class's survey outcome updated from the reports;
    all faulty reports are named at once."""
    pace, surveys = list(pace), list(surveys)
    faults = [f for k, r in enumerate(pace) for f in r.faults(f"pace report {k} ({r.group})")]
    faults += [f for k, s in enumerate(surveys) for f in s.faults(f"survey report {k}")]
    ValidationError.raise_if("progress reports", faults)
    by_group: dict[str, list[PaceReport]] = defaultdict(list)
    for r in pace:
        by_group[r.group].append(r)
    by_class: dict[SurveyClass, list[SurveyReport]] = defaultdict(list)
    for s in surveys:
        by_class[s.cls].append(s)
    productivity: Mapping[str, Productivity] = {**model.productivity, **{
        g: update_productivity(model.of(g), rs, inflation=model.spread.variance_factor)
        for g, rs in by_group.items()}}
    survey: Mapping[SurveyClass, SurveyOutcome] = {**model.survey, **{
        c: update_survey(model.outcome(c), rs) for c, rs in by_class.items()}}
    prior = model.survey if model.survey_prior is None else model.survey_prior
    return dataclasses.replace(model, productivity=productivity, survey=survey, survey_prior=prior)
