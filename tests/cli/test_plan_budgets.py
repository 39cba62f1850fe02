"""`sapper plan --budget-per-year` on the README tour's register: the plan states the budgets and what they delay,
and `sapper costs` of the saved plan shows every year's spending within them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sapper.domain.pricing import Family
from sapper.io.pricing import load_pricing
from sapper.services.costs import plan_costs
from sapper.store import open_store
from tests.cli.entry import run


def test_a_budget_capped_plan_spends_within_its_budgets(
    tour: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
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
