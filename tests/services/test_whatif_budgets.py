"""What-ifs with money: budget keys parsed with clear errors, percent changes of the latest plan's budget, and a
variant with more money finishing no later than the latest budget-capped plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sapper.domain.pricing import Family
from sapper.errors import ValidationError
from sapper.plan import Engine
from sapper.services.budgets import AnnualBudgets
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.replan import ReplanSettings, replan_store
from sapper.services.whatif import compare, parse_variant, run_variant, variant_budgets
from sapper.store import open_store
from tests.services.test_forecast import _slow_clearance
from tests.services.test_whatif import _register


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The what-if tests' register, planned (greedy) under a tight demining budget."""
    db = tmp_path_factory.mktemp("whatif-money") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(
            store,
            settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5, budgets=AnnualBudgets(demining=250_000.0)),
        )
    return db


def test_budget_keys_parse_amounts_and_percent_changes() -> None:
    """An amount with k/m, or a signed percent change."""
    v = parse_variant("money:demining_budget=30m,reconstruction_budget=-10%")
    assert v.budgets == ((Family.DEMINING, 30e6, False), (Family.RECONSTRUCTION, -10.0, True))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("m:demining_budget=lots", "'lots' is not a positive amount"),
        ("m:demining_budget=-5", "not a positive amount"),
        ("m:reconstruction_budget=-100%", "not a positive amount"),
    ],
)
def test_a_bad_budget_names_the_variant_and_key(text: str, says: str) -> None:
    """One fault naming the variant and the key."""
    with pytest.raises(ValidationError) as err:
        parse_variant(text)
    (fault,) = err.value.faults
    assert fault.record == "variant m" and fault.field and fault.field.endswith("_budget") and says in fault.reason


def test_percent_changes_apply_to_the_latest_plans_budget(capped: Path) -> None:
    """+50 % of the latest plan's demining budget; its reconstruction has none, so a percent change is refused and
    an amount is taken as it is; a variant without budget keys keeps the latest plan's budgets."""
    with open_store(capped) as store:
        run = store.latest_plan()
    assert run is not None
    assert variant_budgets(run, parse_variant("a:demining_budget=+50%")) == AnnualBudgets(375_000.0, None)
    assert variant_budgets(run, parse_variant("b:reconstruction_budget=2m")) == AnnualBudgets(250_000.0, 2e6)
    assert variant_budgets(run, parse_variant("c:")) == AnnualBudgets(250_000.0, None)
    with pytest.raises(ValidationError, match="needs a latest plan with a reconstruction budget"):
        variant_budgets(run, parse_variant("d:reconstruction_budget=+20%"))


def test_more_money_finishes_no_later(capped: Path) -> None:
    """Doubling the demining budget: the variant's planned finish is no later than the latest plan's, and the store
    still holds only that plan."""
    with open_store(capped) as store:
        before = store.latest_plan()
        w = compare(store, [parse_variant("double:demining_budget=+100%")], runs=60, seed=1, time_limit_s=5)
        after = store.latest_plan()
    current, double = w.columns
    assert current.planned_finish is not None and double.planned_finish is not None
    assert double.planned_finish <= current.planned_finish
    assert before is not None and after is not None and before.id == after.id


def test_a_replan_variant_takes_budget_keys(capped: Path, tmp_path: Path) -> None:
    """When the latest plan is a re-plan of a budget-capped plan, a variant with a budget key re-plans under the
    changed budget (a percent of the re-plan's own), one without keeps it; the store keeps its plans."""
    db = tmp_path / "replanned.gpkg"
    shutil.copy(capped, db)
    _slow_clearance(db, 1.0, days=20)
    with open_store(db) as store:
        replan_store(store, settings=ReplanSettings(engine=Engine.GREEDY, time_limit_s=5))
        latest = store.latest_plan()
        assert latest is not None and latest.params.replan is not None
        assert latest.params.budget_demining == 250_000.0
        before = store.counts()
        more, _, _, _ = run_variant(store, latest, parse_variant("more:demining_budget=+100%"),
                                    start=latest.start_date, runs=20, seed=2, time_limit_s=5)
        same, _, _, _ = run_variant(store, latest, parse_variant("same:"), start=latest.start_date, runs=20, seed=2,
                                    time_limit_s=5)
        assert store.counts() == before and store.latest_plan() == latest
    assert more.params.replan is not None and more.params.budget_demining == 500_000.0
    assert same.params.budget_demining == 250_000.0
    assert more.finish_date is not None and same.finish_date is not None and more.finish_date <= same.finish_date
