"""A forecast of a re-plan starts where the re-plan starts: from its as-of date, with the work left then.

On the README tour's register (synthetic examples) a forecast of the re-plan once put some areas and assets months
before the re-plan's own dates: the register was compiled again from the programme's start with all its work, so
finished lots ran again and the work left could start before the as-of date, in the past.

What must hold instead. A world without variance is the serial scheme over the re-plan's order on the work left:
every date on or after the as-of date and never after the re-plan's own (a stable re-plan keeps lots where they were,
so it may be later than the scheme, which starts each lot as soon as it can — never earlier). Without learning from
progress the defaults are pessimistic (10 % off the planned rates, weather, accidents, damage), so no P50 falls more
than a week before that world's date (the bug put them months before; a day or two before is the survey outcome's
own factor, whose mean is one and median below it, wider with the model's spread uncertainty), and no P10 before the
as-of date."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from sapper.forecast import Accidents, Damage, Productivity, UncertaintyModel, Weather
from sapper.services.forecast import DatePercentiles, Forecast, forecast_plan
from sapper.store import open_store


def _still() -> UncertaintyModel:
    """The default model with (nearly) nothing uncertain: planned rates, survey shares at their means."""
    base = UncertaintyModel()
    survey = {k: dataclasses.replace(v, alpha=v.alpha * 1e9, beta=v.beta * 1e9, area_sd=0.0)
              for k, v in base.survey.items()}
    return UncertaintyModel(productivity={}, fallback=Productivity(0.0, 0.0, 0.0, 0.0), survey=survey,
                            weather=Weather(0.0), accidents=Accidents(0.0), damage=Damage(0.0, 0.0))


def _dates(f: Forecast) -> dict[str, tuple[dt.date, DatePercentiles]]:
    return {**{a.hazard_id: (a.planned, a.release) for a in f.areas},
            **{a.asset_id: (a.planned, a.restoration) for a in f.assets}}


def test_a_replan_is_forecast_from_its_as_of_date(replanned: Path) -> None:
    """On fixed pools (module docstring)."""
    _check_replan_forecast(replanned)


def test_a_capability_replan_is_forecast_from_its_as_of_date(replanned_by_capabilities: Path) -> None:
    """By capabilities (the default pools): the same must hold."""
    _check_replan_forecast(replanned_by_capabilities)


def _check_replan_forecast(replanned: Path) -> None:
    with open_store(replanned) as store:
        plan = store.latest_plan()
        assert plan is not None and plan.params.replan is not None
        as_of = plan.params.replan.as_of
        still = _dates(forecast_plan(store, runs=20, seed=1, progress=False, model=_still()))
        f = forecast_plan(store, runs=600, seed=1, progress=False)
    dated = _dates(f)
    assert len(dated) >= 8 and dated.keys() == still.keys()
    for name, (planned, p) in still.items():
        assert as_of <= p.p10 and p.p50 <= planned, f"{name}: still {p.p50}, as of {as_of}, re-planned {planned}"
    early = [(name, still[name][1].p50, p.p50) for name, (_, p) in dated.items()
             if p.p50 < still[name][1].p50 - dt.timedelta(days=7)]
    assert not early, f"P50 over a week before the same plan without variance: {early}"
    assert min(p.p10 for _, p in dated.values()) >= as_of
    assert f.overall.p10 >= as_of
