"""`sapper plan --budget-per-year` on the README tour's register: the plan states the budgets and what they delay,
and `sapper costs` of the saved plan shows every year's spending within them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from sapper.domain.pricing import Family
from sapper.io.pricing import load_pricing
from sapper.services.costs import plan_costs
from sapper.store import open_store
from tests.cli.entry import run


def test_a_budget_capped_plan_spends_within_its_budgets(
    tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Budgets below what the unconstrained plan spends in its busiest year (and above its dearest lot): every year
    within them, a later finish, said in the summary and recorded in the plan's details."""
    _, out, _ = run(monkeypatch, capsys, "costs", "--db", tour, "--json")
    free = json.loads(out)
    peak_demining = max(r["total"] for r in free["demining_by_year"])
    peak_reconstruction = max(r["total"] for r in free["reconstruction_by_year"])
    with open_store(tour) as store:  # a lot is paid within one year: no budget below the dearest lot's cost
        lots = plan_costs(store, load_pricing()).tasks
    dearest = {f: max(c.total for c in lots if c.family is f) for f in Family}
    demining = round(max(peak_demining * 0.6, dearest[Family.DEMINING] * 1.05))
    reconstruction = round(max(peak_reconstruction * 0.6, dearest[Family.RECONSTRUCTION] * 1.05))
    assert demining < peak_demining and reconstruction < peak_reconstruction
    code, out, err = run(
        monkeypatch,
        capsys,
        "plan",
        "--db",
        tour,
        "--engine",
        "greedy",
        "--budget-per-year",
        f"demining={demining},reconstruction={reconstruction}",
    )
    assert code == 0, err
    assert f"annual budgets   : demining {demining:,} USD, reconstruction {reconstruction:,} USD" in out
    assert "without budgets  : finish" in out and "days);" in out
    _, out, _ = run(monkeypatch, capsys, "costs", "--db", tour, "--json")
    capped = json.loads(out)
    assert capped["plan_id"] == free["plan_id"] + 1
    assert all(r["total"] <= demining for r in capped["demining_by_year"])
    assert all(r["total"] <= reconstruction for r in capped["reconstruction_by_year"])
    assert len(capped["by_year"]) > len(free["by_year"])
    # The forecast spends the budgets at the plan's prices: another pricing profile is refused in one line.
    other = tmp_path / "other.toml"
    default = Path(__file__).resolve().parents[2] / "src" / "sapper" / "io" / "data" / "pricing.toml"
    other.write_text(default.read_text(encoding="utf-8").replace('name = "sapper default"', 'name = "donor prices"',
                                                                   1), encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "forecast", "--db", tour, "--runs", "20", "--pricing", other)
    assert code != 0 and out == "" and len(err.strip().splitlines()) == 1
    assert "'sapper default'" in err and "'donor prices'" in err and "--pricing" in err
    code, out, err = run(monkeypatch, capsys, "forecast", "--db", tour, "--runs", "20", "--json")
    assert code == 0, err
    assert json.loads(out)["cost"]["pricing"] == "sapper default"
    code, out, _ = run(
        monkeypatch,
        capsys,
        "plan",
        "--db",
        tour,
        "--engine",
        "greedy",
        "--json",
        "--budget-per-year",
        f"demining={demining}",
    )
    details = json.loads(out)["details"]
    assert details["budget_demining_per_year"] == demining and details["budget_reconstruction_per_year"] is None
    assert details["budget_finish_delay_days"] >= 0 and details["budget_currency"] == "USD"


def test_a_bad_budget_is_one_line_and_plans_nothing(
    tour: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown budget name: exit code 2, one line naming the option; no plan run is added."""
    _, before, _ = run(monkeypatch, capsys, "costs", "--db", tour, "--json")
    code, out, err = run(monkeypatch, capsys, "plan", "--db", tour, "--budget-per-year", "roads=5m")
    assert code == 2 and out == ""
    assert "--budget-per-year" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(monkeypatch, capsys, "plan", "--db", tour, "--budget-per-year", "demining=100")
    assert code == 2 and "more than a year's demining budget (100 USD)" in err
    _, after, _ = run(monkeypatch, capsys, "costs", "--db", tour, "--json")
    assert json.loads(after)["plan_id"] == json.loads(before)["plan_id"]


def test_a_replan_keeps_the_plans_budgets(
    tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The budgets are saved with the plan (``sapper plan --budget-per-year``), and ``sapper replan`` keeps to the
    saved budgets: the unconstrained plan saved again with budgets below its busiest year is re-planned within them
    in every year by ``sapper costs`` (its parameters carry them on), where the same re-plan without them spends more
    than them in some year."""
    import shutil

    db = Path(shutil.copy(tour, tmp_path / "budgeted.gpkg"))
    with open_store(db) as store:
        free = store.plan(1)
        lots = plan_costs(store, load_pricing(), plan_id=1)
    dearest = max(c.total for c in lots.tasks if c.family is Family.DEMINING)
    peak = max(r.total for r in lots.demining_by_year)
    demining = round(max(peak * 0.6, dearest * 1.05))
    code, _, err = run(monkeypatch, capsys, "plan", "--db", db, "--engine", "greedy", "--budget-per-year",
                       f"demining={demining}")
    assert code == 0, err
    with open_store(db) as store:
        capped = store.latest_plan()
        assert capped is not None and capped.params.budget_demining == demining
        assert capped.params.budget_reconstruction is None and capped.params.budget_pricing == load_pricing().name
    as_of = (free.start_date + dt.timedelta(days=7)).isoformat()
    spent = {}
    for budget in (demining, None):
        with open_store(db) as store:  # the unconstrained plan as the latest, with or without the budgets
            store.save_plan(dataclasses.replace(free, id=None, params=dataclasses.replace(
                free.params, budget_demining=budget, budget_pricing=load_pricing().name if budget else None)))
        code, _, err = run(monkeypatch, capsys, "replan", "--db", db, "--time-limit", "5", "--as-of", as_of)
        assert code == 0, err
        with open_store(db) as store:
            replanned = store.latest_plan()
            assert replanned is not None and replanned.params.replan is not None
            assert replanned.params.budget_demining == budget
            spent[budget] = [r.total for r in plan_costs(store, load_pricing(), plan_id=replanned.id)
                             .demining_by_year]
    assert max(spent[demining]) <= demining
    assert max(spent[None]) > demining


def test_spent_before_spreads_each_lot_over_its_working_days() -> None:
    """A lot of 10 working days (Mon–Fri) costing 1,000 from Monday 29 Dec 2025: 3 days fall in 2025, so before
    12 Jan 2026 it has spent 700 in 2026 (7 of its days), before 5 Jan 2026 200 (2 days); a later lot nothing."""
    from sapper.scenario.compile import TaskKind
    from sapper.services.budgets import spent_before
    from sapper.services.costs import TaskCost

    def lot(start: dt.date, end: dt.date) -> TaskCost:
        return TaskCost("clearance H-1/1", TaskKind.CLEARANCE, Family.DEMINING, "manual", "ORG", "D", None, "H-1",
                        None, start, end, 10, 900.0, 1000.0, ())

    week = frozenset(range(5))
    first = lot(dt.date(2025, 12, 29), dt.date(2026, 1, 9))
    later = lot(dt.date(2026, 2, 2), dt.date(2026, 2, 13))
    assert spent_before([first, later], dt.date(2026, 1, 12), weekdays=week, holidays=frozenset()) == {
        Family.DEMINING: pytest.approx(700.0)}
    assert spent_before([first], dt.date(2026, 1, 5), weekdays=week, holidays=frozenset()) == {
        Family.DEMINING: pytest.approx(200.0)}


def test_replan_reads_its_pricing_file(
    tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sapper replan --pricing FILE``: a bad profile is refused naming the entry, before anything is re-planned."""
    from sapper.io.pricing import default_pricing_text

    prices = tmp_path / "prices.toml"
    prices.write_text(default_pricing_text().replace('source = "assumption: rural school"', 'source = "guess"'),
                      encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "replan", "--db", tour, "--pricing", prices)
    assert code == 2 and out == ""
    assert "reconstruction.school.source" in err and "Traceback" not in err
