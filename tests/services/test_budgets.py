"""Annual budgets on a compiled register: parsing, one window per calendar year, each mode's spending rate (never
below what `sapper costs` counts), and the delay against the plan without budgets."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import LineString, Point, box

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.pricing import Family
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import ValidationError
from sapper.io.pricing import load_pricing
from sapper.plan import Engine, SolveParams, check, solve, spending
from sapper.scenario.compile import CompiledPlan, CompileParams, TaskKind, compile_problem
from sapper.services.budgets import (
    AnnualBudgets,
    budget_effect,
    mode_cost,
    parse_budgets,
    with_budgets,
    years_needed,
)
from sapper.store.records import PlannedTask

BASE = Point(35.0, 51.0)


def _compiled() -> tuple[CompiledPlan, dict[str, Asset]]:
    h = HazardArea("H1", HazardClass.CHA, box(35.0, 51.0, 35.003, 51.002), Evidence.DIRECT, land_use=LandUse.FOREST)
    road = Asset(
        "R1", AssetType.ROAD, LineString([(34.999, 51.001), (35.004, 51.001)]), DamageLevel.SEVERE, {Trade.ROAD: 200.0}
    )
    teams = [
        DeminerTeam("S1", "OP", Method.SURVEY, 6, BASE, 10_000.0),
        DeminerTeam("M1", "OP", Method.MANUAL, 8, BASE, 180.0),
        DeminerTeam("D1", "OP", Method.DOG, 6, BASE, 850.0),
    ]
    brigades = [BuilderBrigade("B1", "BUILD", Trade.ROAD, 10, BASE)]
    params = CompileParams(demining_stand_down=None, lot_max_days=20)
    compiled = compile_problem([h], [road], teams, brigades, start_date=dt.date(2026, 11, 2), params=params)
    return compiled, {"R1": road}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demining=25m,reconstruction=1_500k", AnnualBudgets(25e6, 1.5e6)),
        ("reconstruction=2000000", AnnualBudgets(None, 2e6)),
    ],
)
def test_budgets_parse(text: str, expected: AnnualBudgets) -> None:
    """Either budget or both; k, m and underscores."""
    assert parse_budgets(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("demining=lots", "'lots' is not an amount"),
        ("roads=5m", "use demining=AMOUNT"),
        ("demining=0", "demining budget must be positive"),
        ("demining=1m,demining=2m", "demining is given twice"),
        ("", "name at least one budget"),
    ],
)
def test_bad_budgets_are_refused_in_one_line(text: str, message: str) -> None:
    """Each mistake names the option and what is wrong."""
    with pytest.raises(ValidationError) as info:
        parse_budgets(text)
    assert message in info.value.message and "--budget-per-year" in info.value.message


def test_one_window_per_calendar_year_and_rates_rounded_up() -> None:
    """The first window runs from the plan's start to New Year; each mode spends ceil(cost / days) a working day,
    demining modes from the demining budget, repair from the reconstruction budget."""
    compiled, assets = _compiled()
    pricing = load_pricing()
    capped = with_budgets(compiled, pricing, AnnualBudgets(400_000.0, 900_000.0), assets)
    problem = capped.problem
    cal = capped.calendar
    demining, reconstruction = problem.budgets
    assert demining.name == "demining" and reconstruction.name == "reconstruction"
    (a0, z0, cap0), (a1, _, _) = demining.windows[:2]
    assert (a0, cap0) == (0, 400_000) and z0 == a1 == cal.index_of(dt.date(2027, 1, 1))
    assert cal.date_of(a1).year == 2027 and cal.date_of(z0 - 1).year == 2026
    seen = set()
    for j, task in enumerate(problem.tasks):
        for mode in task.modes:
            cost = mode_cost(pricing, capped, j, mode, assets)
            if not cost:
                assert not mode.costs
                continue
            ((b, rate),) = mode.costs
            assert b == (1 if capped.info[j].kind is TaskKind.REPAIR else 0)
            assert cost <= rate * mode.duration < cost + mode.duration
            seen.add(capped.info[j].kind)
    assert {TaskKind.NTS, TaskKind.TS, TaskKind.CLEARANCE, TaskKind.REPAIR} <= seen


def test_a_capped_plan_spends_within_every_year_and_later() -> None:
    """A demining budget below what the work costs in a year: the plan passes the checker, spends at most the
    budget in each calendar year, and finishes later than without it."""
    compiled, assets = _compiled()
    pricing = load_pricing()
    need = years_needed(compiled, pricing, AnnualBudgets(60_000.0, None), assets)
    assert need >= 2
    capped = with_budgets(compiled, pricing, AnnualBudgets(60_000.0, None), assets)
    free = solve(compiled.problem, params=SolveParams(engine=Engine.GREEDY))
    result = solve(capped.problem, params=SolveParams(engine=Engine.GREEDY))
    assert result.schedule is not None and check(capped.problem, result.schedule) == []
    assert all(spent <= 60_000 for spent in spending(capped.problem, result.schedule)[0])
    assert free.schedule is not None
    assert max(result.schedule.ends(capped.problem)) > max(free.schedule.ends(compiled.problem))
    assert Family.RECONSTRUCTION.value not in {b.name for b in capped.problem.budgets}


def test_the_effect_lists_what_the_budget_delays() -> None:
    """Releases and restorations later with the budget, by how much, the latest first."""
    d = dt.date

    def tasks(h1: dt.date, a1: dt.date) -> tuple[PlannedTask, ...]:
        return (
            PlannedTask("released H1", TaskKind.RELEASED, h1, h1, 1.0, "m²", hazard_id="H1"),
            PlannedTask("restored A1", TaskKind.RESTORED, a1, a1, 1.0, "builder-days", asset_id="A1"),
        )

    effect = budget_effect(
        tasks(d(2027, 5, 1), d(2027, 3, 1)),
        tasks(d(2027, 1, 1), d(2027, 3, 1)),
        finish=d(2027, 5, 1),
        free_finish=d(2027, 3, 1),
    )
    assert (effect.milestones, effect.delayed, effect.max_delay_days) == (2, 1, 120)
    assert effect.finish_delay_days == 61
    assert effect.most_delayed == (("H1", d(2027, 1, 1), d(2027, 5, 1)),)


def test_a_lot_dearer_than_a_years_budget_is_refused_naming_it() -> None:
    """Before solving: each lot whose cheapest mode costs more than a year's money is named, with its cost."""
    compiled, assets = _compiled()
    with pytest.raises(ValidationError) as info:
        with_budgets(compiled, load_pricing(), AnnualBudgets(5_000.0, None), assets)
    assert all("more than a year's demining budget (5,000 USD)" in f.reason for f in info.value.faults)
    assert any(f.record.startswith("lot clearance H1/") for f in info.value.faults)


def test_budgets_that_would_take_too_many_years_are_refused() -> None:
    """Money for a sliver of the work each year: refused, naming how many years it would take."""
    compiled, assets = _compiled()
    with pytest.raises(ValidationError, match=r"the work would take \d+ years at these budgets"):
        years_needed(compiled, load_pricing(), AnnualBudgets(None, 1_000.0), assets)
