"""Cost forecasts: with every source of variation off the forecast costs exactly what `sapper costs` prices the plan
at, in total and year by year; with uncertainty, slower worlds cost more where lots are priced per team-day, and the
percentiles are ordered."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from sapper.domain.pricing import Basis, PricingProfile, ReleaseActivity
from sapper.forecast import Productivity, UncertaintyModel
from sapper.io.pricing import load_pricing
from sapper.services.costs import plan_costs
from sapper.services.forecast import forecast_document, prepare_forecast, run_prepared
from sapper.store import open_store

from .conftest import EXAMPLES, _sapper


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README tour's register planned by the greedy engine from a November start."""
    db = tmp_path_factory.mktemp("costs") / "tour.gpkg"
    _sapper("init", "--db", db, "--start-date", "2026-11-02")
    _sapper("import", "hazards", EXAMPLES / "survey.geojson", "--db", db)
    _sapper("import", "assets", EXAMPLES / "damage.csv", "--crs", "EPSG:4326", "--db", db)
    _sapper("import", "workforce", EXAMPLES / "teams.csv", "--db", db)
    _sapper("plan", "--db", db, "--engine", "greedy")
    return db


def test_a_world_without_variance_costs_the_plan(planned: Path) -> None:
    """P10 = P50 = P90 = the planned cost = sapper costs' total; each year's P50 is sapper costs' year."""
    pricing = load_pricing()
    with open_store(planned) as store:
        prep = prepare_forecast(store, progress=False)
        f = run_prepared(prep, runs=20, seed=3, model=UncertaintyModel.certain(), pricing=pricing)
        priced = plan_costs(store, pricing)
    assert f.cost is not None
    assert f.cost.planned == pytest.approx(priced.total, rel=1e-9)
    for p in (f.cost.total.p10, f.cost.total.p50, f.cost.total.p90):
        assert p == pytest.approx(priced.total, rel=1e-9)
    years = {str(y): p.p50 for y, p in f.cost.by_year}
    assert years == pytest.approx({r.key: r.total for r in priced.by_year}, rel=1e-9)
    running, expected = 0.0, {}
    for r in sorted(priced.by_year, key=lambda r: r.key):
        running += r.total
        expected[r.key] = running
    assert {str(y): p.p50 for y, p in f.cost.cumulative} == pytest.approx(expected, rel=1e-9)


def test_slower_worlds_cost_more_by_the_team_day(planned: Path) -> None:
    """A programme slower than planned (a productivity bias alone, nothing else varying) costs more when clearance
    is priced per team-day, and the same when it is priced per m²."""
    default = load_pricing()

    def priced(basis: Basis, amount: float) -> PricingProfile:
        release = dict(default.release)
        for a in (ReleaseActivity.MANUAL, ReleaseActivity.DOG, ReleaseActivity.MECHANICAL, ReleaseActivity.BAC):
            release[a] = dataclasses.replace(release[a], basis=basis, amount=amount, source="assumption: test")
        return dataclasses.replace(default, release=release)

    per_day, per_m2 = priced(Basis.TEAM_DAY, 1800.0), priced(Basis.M2, 10.0)
    plain = UncertaintyModel.certain()
    slow = dataclasses.replace(plain, fallback=Productivity(-0.2, 0.0, 0.0, 0.0))  # every rate 18 % below plan
    with open_store(planned) as store:
        prep = prepare_forecast(store, progress=False)

        def p50(model: UncertaintyModel, pricing: PricingProfile) -> float:
            f = run_prepared(prep, runs=20, seed=3, model=model, pricing=pricing)
            assert f.cost is not None
            return f.cost.total.p50

        assert p50(slow, per_day) > p50(plain, per_day)
        assert p50(slow, per_m2) == pytest.approx(p50(plain, per_m2), rel=1e-9)


def test_uncertain_costs_are_ordered_and_in_the_json(planned: Path) -> None:
    """With the default model: P10 ≤ P50 ≤ P80 ≤ P90, in total and each year; the JSON carries them."""
    with open_store(planned) as store:
        prep = prepare_forecast(store, progress=False)
        f = run_prepared(prep, runs=250, seed=1, pricing=load_pricing())
    assert f.cost is not None
    for p in (f.cost.total, *(p for _, p in f.cost.by_year), *(p for _, p in f.cost.cumulative)):
        assert p.p10 <= p.p50 <= p.p80 <= p.p90
    # The cost fan: spending by each year's end never falls, and by the last year's end it is the total.
    cum = [p for _, p in f.cost.cumulative]
    assert len(cum) >= 2 and all(a.p10 <= b.p10 and a.p90 <= b.p90 for a, b in itertools.pairwise(cum))
    assert cum[-1].p50 == pytest.approx(f.cost.total.p50, rel=1e-9)
    doc = forecast_document(f)
    cost = doc["cost"]
    assert isinstance(cost, dict) and cost["currency"] == "USD" and cost["total"]["p80"] >= cost["total"]["p50"]  # type: ignore[index]
    assert [c["year"] for c in cost["cumulative_by_year"]] == [y for y, _ in f.cost.cumulative]  # type: ignore[index,union-attr]
