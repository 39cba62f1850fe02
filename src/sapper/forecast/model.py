"""The uncertainty model: what varies in a mine-action and reconstruction programme, and how much.

Every default below is listed in docs/forecast.md with its source or the label "assumption". The correlated parts —
one programme-wide productivity factor per method and per trade, one share of land left for clearance per hazard class
shared by every area of that class in a run — are what keep intervals honest: independent noise per task averages out
over thousands of tasks and gives intervals far too narrow (Trietsch et al. 2012; DOMAIN.md, "Forecasting").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from sapper.domain.hazards import Evidence, HazardClass
from sapper.domain.resources import Method, Trade
from sapper.errors import Fault, ValidationError


class Source(StrEnum):
    """A source of variation of the model, to switch on alone (``UncertaintyModel.only``)."""

    BIAS = "productivity bias"  # the programme factor's mean (planning optimism)
    PROGRAMME = "programme factor"  # its spread (one draw per run and method or trade)
    UNIT = "team factor"  # one draw per team or brigade and run
    DAY = "day-to-day noise"
    SURVEY = "survey outcome"  # class-wide Beta and each area's own factor
    WEATHER = "weather"
    ACCIDENTS = "accidents"
    DAMAGE = "damage"


#: A survey-outcome class: hazard class and evidence (a CHA always has direct evidence).
SurveyClass = tuple[HazardClass, Evidence]


@dataclass(frozen=True, slots=True)
class Productivity:
    """Log-productivity of one method or trade relative to the planned rate: log(actual / planned) =
    programme (one draw per run, Normal(``mean``, ``sd``), shared by every task of the method) + unit (one draw per
    team or brigade per run, sd ``unit_sd``) + day-to-day noise (sd ``day_sd`` per day, averaged over a task's days)."""

    mean: float = 0.0
    sd: float = 0.25
    unit_sd: float = 0.2
    day_sd: float = 0.5
    #: Whether ``mean`` was learned from pace reports (``sapper.forecast.learn``): a learned pace is a ratio of sums
    #: (work over whole days worked), the mean pace of a lot as worked, not the median of its lognormal.
    learned: bool = False

    def faults(self, record: str) -> list[Fault]:
        out = []
        for name in ("sd", "unit_sd", "day_sd"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                out.append(Fault(record, f"{name} must be a finite number ≥ 0, got {value}", name))
        if not math.isfinite(self.mean):
            out.append(Fault(record, f"mean must be finite, got {self.mean}", "mean"))
        return out


@dataclass(frozen=True, slots=True)
class SurveyOutcome:
    """Share of a suspected area that survey leaves for clearance. The class mean m ~ Beta(``alpha``, ``beta``) is
    drawn once per run and shared by every area of the class: each area's planned share is scaled by m / E[m]. Each
    area then varies on its own by a lognormal factor with log-sd ``area_sd`` (mean one)."""

    alpha: float
    beta: float
    area_sd: float = 0.5

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def faults(self, record: str) -> list[Fault]:
        out = [Fault(record, f"{name} must be a finite number > 0, got {getattr(self, name)}", name)
               for name in ("alpha", "beta") if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0)]
        if not (math.isfinite(self.area_sd) and self.area_sd >= 0):
            out.append(Fault(record, f"area_sd must be a finite number ≥ 0, got {self.area_sd}", "area_sd"))
        return out


@dataclass(frozen=True, slots=True)
class Weather:
    """Weather stand-down days outside the seasonal stand-down, during which a demining lot stands still. A run's
    rate is Gamma-distributed with mean ``days_per_year`` (per 300 working days) and shape ``shape`` (a wet year
    is wet for every team; 0: the same rate in every run); each lot's days are Poisson at that rate."""

    days_per_year: float = 10.0
    shape: float = 4.0


@dataclass(frozen=True, slots=True)
class Accidents:
    """Demining accidents: Poisson with ``per_team_year`` per team and 300 working days; each stops the team (and
    its lot) for a whole number of working days uniform in [``min_days``, ``max_days``]."""

    per_team_year: float = 0.05
    min_days: int = 10
    max_days: int = 30


@dataclass(frozen=True, slots=True)
class Damage:
    """Repair work found on site relative to the assessment: log(actual / assessed) ~ Normal(``mean``, ``sd``), one
    draw per asset per run, shared by all its repair lots."""

    mean: float = 0.1
    sd: float = 0.25


@dataclass(frozen=True, slots=True)
class Spread:
    """How little the spreads are known: each run multiplies every productivity spread (programme factor, team
    factor, day-to-day noise, of every method and trade) and each area's own survey-outcome spread by one factor
    k = ``median`` × exp(``sd`` × Z). A run is then a programme more or less variable than assumed, and the forecast
    is the mixture over k: wider, with heavier tails, than the assumed spreads alone (a scale mixture of normals, as
    a Student t is). The median is above 1 because assumed spreads are too narrow (docs/forecast.md)."""

    median: float = 1.0
    sd: float = 0.0

    @property
    def variance_factor(self) -> float:
        """E[k²]: how much the spread uncertainty inflates every variance it scales, on average."""
        return self.median**2 * math.exp(2.0 * self.sd**2)


def _default_productivity() -> Mapping[str, Productivity]:
    out: dict[str, Productivity] = {m.value: Productivity(-0.1, 0.3, 0.2, 0.5) for m in Method}
    out.update({t.value: Productivity(-0.1, 0.2, 0.15, 0.3) for t in Trade})
    return MappingProxyType(out)


def _default_survey() -> Mapping[SurveyClass, SurveyOutcome]:
    return MappingProxyType({
        (HazardClass.SHA, Evidence.INDIRECT): SurveyOutcome(2.0, 38.0),
        (HazardClass.SHA, Evidence.DIRECT): SurveyOutcome(3.0, 17.0),
        (HazardClass.CHA, Evidence.DIRECT): SurveyOutcome(7.0, 13.0),
    })


@dataclass(frozen=True)
class UncertaintyModel:
    """The whole model. ``productivity`` is keyed by method or trade value (``"manual"``, ``"road"``, …);
    ``fallback`` serves a group it does not name. ``independent`` makes the naive model: no programme, unit or
    class-wide factor; each task's log-productivity drawn alone with the same total variance."""

    productivity: Mapping[str, Productivity] = field(default_factory=_default_productivity)
    survey: Mapping[SurveyClass, SurveyOutcome] = field(default_factory=_default_survey)
    fallback: Productivity = Productivity(-0.1, 0.3, 0.2, 0.5)
    weather: Weather = Weather()
    accidents: Accidents = Accidents()
    damage: Damage = Damage()
    spread: Spread = Spread(1.25, 0.2)
    independent: bool = False
    #: The survey outcomes the plan's shares were set against (before any learning); None: ``survey`` itself.
    survey_prior: Mapping[SurveyClass, SurveyOutcome] | None = None
    #: A sampled lot's days are rounded up to whole days (a conservative bias, the default the calibration was
    #: measured with); False: rounded down or up at random with the fraction as the chance of up (unbiased).
    round_up: bool = True
    #: How a learned pace (``Productivity.learned``) is used: True, as the mean pace it is (the lots of its method or
    #: trade drawn with their day-to-day noise mean-preserving, E[days] = planned days / pace, and rounded without
    #: bias, as its whole days are in it already); False, as a median like the prior's (the forecast then counts
    #: the noise's mean effect and the rounding twice and runs late after learning: docs/forecast.md).
    learned_pace_is_mean: bool = True
    #: A lot running when its pool stands down (winter) pauses over the stand-down and resumes after it (its working
    #: days unchanged); False: the plan's own rule, a lot placed whole, so one that no longer fits before the
    #: stand-down waits for its end (pessimistic: docs/forecast.md).
    pause_over_stand_down: bool = True

    def __post_init__(self) -> None:
        faults = self.fallback.faults("forecast model: fallback productivity")
        for name, p in self.productivity.items():
            faults += p.faults(f"forecast model: productivity of {name}")
        for (cls, ev), s in self.survey.items():
            faults += s.faults(f"forecast model: survey outcome of {cls.value}/{ev.value}")
        if not (self.weather.days_per_year >= 0 and self.weather.shape >= 0):
            faults.append(Fault("forecast model", "weather days per year and shape must be ≥ 0", "weather"))
        a = self.accidents
        if not a.per_team_year >= 0 or not 1 <= a.min_days <= a.max_days:
            faults.append(Fault("forecast model", "accidents need a rate ≥ 0 and 1 ≤ min_days ≤ max_days",
                                "accidents"))
        if not self.damage.sd >= 0:
            faults.append(Fault("forecast model", "damage sd must be ≥ 0", "damage"))
        if not (math.isfinite(self.spread.sd) and self.spread.sd >= 0
                and math.isfinite(self.spread.median) and self.spread.median > 0):
            faults.append(Fault("forecast model", f"spread needs a finite median > 0 and sd ≥ 0, got median "
                                f"{self.spread.median} and sd {self.spread.sd}", "spread"))
        ValidationError.raise_if("forecast model", faults)

    @classmethod
    def certain(cls) -> UncertaintyModel:
        """A world equal to the plan's assumptions: planned rates and survey shares, no weather days, accidents or
        damage beyond the assessment, no noise, and the plan's own rule of lots placed whole (no pause over a
        stand-down). Every run is then the plan's serial schedule (tested: a forecast under it finishes on the plan's
        dates)."""
        still = Productivity(0.0, 0.0, 0.0, 0.0)
        return cls(productivity={}, fallback=still,
                   survey={k: SurveyOutcome(v.alpha, v.beta, 0.0) for k, v in _default_survey().items()},
                   weather=Weather(0.0, 0.0), accidents=Accidents(0.0), damage=Damage(0.0, 0.0),
                   spread=Spread(1.0, 0.0), independent=True, pause_over_stand_down=False)

    def only(self, *sources: Source) -> UncertaintyModel:
        """This model with every source of variation but ``sources`` switched off (planned rates, planned survey
        shares, no weather days, accidents or extra damage, lots placed whole as the plan places them: no pause over a
        stand-down): ``only()`` is a world equal to the plan's assumptions,
        ``only(Source.WEATHER)`` adds this model's weather alone. The correlated model is kept (a survey class
        switched off draws its mean with a Beta of α + β = 10¹⁶, i.e. the planned mean to within 10⁻⁶ of it)."""
        on = set(sources)

        def prod(p: Productivity) -> Productivity:
            return Productivity(p.mean if Source.BIAS in on else 0.0, p.sd if Source.PROGRAMME in on else 0.0,
                                p.unit_sd if Source.UNIT in on else 0.0, p.day_sd if Source.DAY in on else 0.0,
                                p.learned)

        def still(o: SurveyOutcome) -> SurveyOutcome:
            return SurveyOutcome(o.mean * 1e16, (1.0 - o.mean) * 1e16, 0.0)

        return dataclasses.replace(
            self, productivity=MappingProxyType({k: prod(p) for k, p in self.productivity.items()}),
            fallback=prod(self.fallback),
            survey=self.survey if Source.SURVEY in on else MappingProxyType(
                {k: still(o) for k, o in self.survey.items()}),
            survey_prior=self.survey_prior if Source.SURVEY in on else None,
            weather=self.weather if Source.WEATHER in on else Weather(0.0, 0.0),
            accidents=self.accidents if Source.ACCIDENTS in on else Accidents(0.0),
            damage=self.damage if Source.DAMAGE in on else Damage(0.0, 0.0), pause_over_stand_down=False)

    def of(self, group: str) -> Productivity:
        """The productivity model of a method or trade."""
        return self.productivity.get(group, self.fallback)

    def outcome(self, cls: SurveyClass) -> SurveyOutcome:
        """The survey-outcome model of a class (the SHA/indirect one for a class it does not name)."""
        return _outcome(self.survey, cls)

    def prior_outcome(self, cls: SurveyClass) -> SurveyOutcome:
        """The survey-outcome model of a class before learning from progress."""
        return _outcome(self.survey if self.survey_prior is None else self.survey_prior, cls)


def _outcome(survey: Mapping[SurveyClass, SurveyOutcome], cls: SurveyClass) -> SurveyOutcome:
    return survey.get(cls) or survey.get((HazardClass.SHA, Evidence.INDIRECT)) or SurveyOutcome(2.0, 38.0)
