"""A forecast of a re-plan starts where the re-plan starts: from its as-of date, with the work left then.

On the README tour's register (synthetic examples) a forecast of the re-plan once put some areas and assets months
before the re-plan's own dates: the register was compiled again from the programme's start with all its work, so
finished lots ran again and the work left could start before the as-of date, in the past. Without learning from
progress, the forecast's median world is slower than the plan's figures (the defaults take 10 % off the planned
rates, add weather, accidents and damage), so every P50 must fall on or after the planned date, and nothing before
the as-of date."""

from __future__ import annotations

from pathlib import Path

from sapper.services.forecast import forecast_plan
from sapper.store import open_store


def test_a_replan_is_forecast_from_its_as_of_date(replanned: Path) -> None:
    """Every area's and asset's P10 is on or after the re-plan's as-of date and, without learning, every P50 on or
    after the re-plan's own date."""
    with open_store(replanned) as store:
        plan = store.latest_plan()
        assert plan is not None and plan.params.replan is not None
        as_of = plan.params.replan.as_of
        f = forecast_plan(store, runs=600, seed=1, progress=False)
    dated = [(a.hazard_id, a.planned, a.release) for a in f.areas] + \
            [(a.asset_id, a.planned, a.restoration) for a in f.assets]
    assert len(dated) >= 8
    early = [(name, planned, p.p50) for name, planned, p in dated if p.p50 < planned]
    assert not early, f"P50 before the re-plan's date: {early}"
    assert min(p.p10 for _, _, p in dated) >= as_of
    assert f.overall.p10 >= as_of
