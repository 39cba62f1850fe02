"""Pricing a saved plan: each lot's cost, overheads, the split by calendar year, breakdowns, unit costs and the
cheapest-method comparison, on a plan built in code."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import Point, box

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.resources import Method, Trade
from sapper.io.pricing import load_pricing
from sapper.scenario.compile import TaskKind
from sapper.services.costs import PlanCosts, costs_document, price_run
from sapper.store.records import PlannedTask, PlanParams, PlanRun

D = dt.date
#: Monday to Friday, so working days are easy to count by hand.
WEEK = frozenset({0, 1, 2, 3, 4})


def _run() -> PlanRun:
    """Clearance of H1 by hand over New Year (4 working days in 2026, 2 in 2027), its NTS, its release; a school
    repaired in two lots, the second in 2027."""
    tasks = (
        PlannedTask(
            "nts H1/1",
            TaskKind.NTS,
            D(2026, 12, 1),
            D(2026, 12, 2),
            10_000.0,
            "m²",
            hazard_id="H1",
            mode="survey",
            unit_id="S1",
        ),
        PlannedTask(
            "clearance H1/1",
            TaskKind.CLEARANCE,
            D(2026, 12, 28),
            D(2027, 1, 4),
            1_000.0,
            "m²",
            hazard_id="H1",
            mode="manual",
            unit_id="M1",
        ),
        PlannedTask("released H1", TaskKind.RELEASED, D(2027, 1, 20), D(2027, 1, 20), 10_000.0, "m²", hazard_id="H1"),
        PlannedTask(
            "repair A1 building/1",
            TaskKind.REPAIR,
            D(2026, 12, 1),
            D(2026, 12, 4),
            300.0,
            "builder-days",
            asset_id="A1",
            mode="building",
            unit_id="B1",
        ),
        PlannedTask(
            "repair A1 building/2",
            TaskKind.REPAIR,
            D(2027, 2, 1),
            D(2027, 2, 4),
            100.0,
            "builder-days",
            asset_id="A1",
            mode="building",
            unit_id="B1",
        ),
        PlannedTask(
            "restored A1", TaskKind.RESTORED, D(2027, 2, 4), D(2027, 2, 4), 400.0, "builder-days", asset_id="A1"
        ),
    )
    return PlanRun("feasible", params=PlanParams(weekdays=WEEK), tasks=tasks, id=7)


def _register() -> tuple[dict[str, HazardArea], dict[str, Asset]]:
    h = HazardArea(
        "H1",
        HazardClass.CHA,
        box(35.0, 51.0, 35.001, 51.001),
        Evidence.DIRECT,
        land_use=LandUse.FOREST,
        organisation_id="OP",
    )
    a = Asset("A1", AssetType.SCHOOL, Point(35.01, 51.01), DamageLevel.MODERATE, {Trade.BUILDING: 400.0})
    return {"H1": h}, {"A1": a}


def _price() -> PlanCosts:
    hazards, assets = _register()
    return price_run(
        _run(),
        load_pricing(),
        hazards=hazards,
        assets=assets,
        organisations={"S1": "OP", "M1": "OP", "B1": "BUILD"},
        admin_areas=[("Oblast", box(34, 50, 36, 52)), ("District", box(34.9, 50.9, 35.005, 51.1))],
        productivity={Method.MANUAL: 200.0, Method.DOG: 800.0, Method.SURVEY: 10_000.0},
    )


def test_each_lot_is_priced_with_its_overheads() -> None:
    """NTS per task, manual clearance per m², a repair lot as its share of the asset's price; demining overheads
    18 %, reconstruction 10 %."""
    c = _price()
    by_id = {t.task_id: t for t in c.tasks}
    assert by_id["nts H1/1"].direct == pytest.approx(1_200.0)
    assert by_id["clearance H1/1"].direct == pytest.approx(10_000.0)
    assert by_id["clearance H1/1"].total == pytest.approx(11_800.0)
    assert by_id["repair A1 building/1"].direct == pytest.approx(600_000.0 * 300 / 400)
    assert by_id["repair A1 building/2"].total == pytest.approx(600_000.0 * 100 / 400 * 1.10)
    assert "released H1" not in by_id and "restored A1" not in by_id
    assert c.total == pytest.approx(1_200 * 1.18 + 10_000 * 1.18 + 600_000 * 1.10)


def test_a_lot_over_new_year_is_split_by_its_working_days() -> None:
    """28–31 Dec 2026 are 4 working days (Mon–Thu), 1–4 Jan 2027 has 2 (Fri 1, Mon 4): 4/6 and 2/6 of the cost."""
    c = _price()
    lot = next(t for t in c.tasks if t.task_id == "clearance H1/1")
    assert lot.team_days == 6
    assert [y for y, _ in lot.by_year] == [2026, 2027]
    assert [x for _, x in lot.by_year] == pytest.approx([11_800 * 4 / 6, 11_800 * 2 / 6])
    years = {r.key: r.total for r in c.by_year}
    assert years["2026"] == pytest.approx(1_200 * 1.18 + 11_800 * 4 / 6 + 450_000 * 1.1)
    assert sum(years.values()) == pytest.approx(c.total)


def test_breakdowns_and_unit_costs() -> None:
    """By organisation (from the units), district (the smallest admin area holding the site), method and asset
    class; demining per km² released and reconstruction per asset restored."""
    c = _price()
    orgs = {r.key: r.total for r in c.by_organisation}
    assert orgs == {"BUILD": pytest.approx(660_000.0), "OP": pytest.approx(11_200 * 1.18)}
    districts = {r.key: r.total for r in c.by_district}
    assert set(districts) == {"District", "Oblast"}  # H1 lies in the district, the school outside it
    assert {r.key for r in c.by_method} == {"nts", "manual", "repair: building"}
    assert [r.key for r in c.by_asset_class] == ["school"]
    km2 = c.km2_released
    assert km2 == pytest.approx(0.0078, abs=0.0005)
    assert c.cost_per_km2_released == pytest.approx(c.demining / km2)
    assert c.cost_per_asset_restored == pytest.approx(660_000.0)


def test_the_cheapest_method_per_area_and_its_time() -> None:
    """In forest, dogs may clear H1: 1,000 m² take 2 team-days at 800 m²/day at US$2,500 = 5,000 + 18 %, against
    11,800 by hand in 6 team-days."""
    c = _price()
    (s,) = c.cheapest
    assert s.cheapest_method == "dog" and s.planned_methods == ("manual",)
    assert s.cheapest_cost == pytest.approx(5_000 * 1.18)
    assert s.saving == pytest.approx(11_800 - 5_900)
    assert s.extra_team_days == pytest.approx(2 - 6)
    doc = costs_document(c)
    assert doc["currency"] == "USD" and doc["price_year"] == 2025
    assert doc["cheapest_method"]["saving"] == pytest.approx(5_900.0)  # type: ignore[index,call-overload]
