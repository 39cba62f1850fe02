"""A plan by regions reports a lower bound and a gap: the whole problem's bound, computed before the regions solve."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapper.plan import objective_value
from sapper.plan.decompose import whole_lower_bound
from sapper.services.planning import Engine, PlanSettings, plan_store
from sapper.services.regions import RegionSettings
from sapper.services.register import open_register
from sapper.services.scenario import build_scenario_register
from sapper.services.settings import Settings
from tests.services.test_national import SMALL


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("regions") / "national.gpkg"
    build_scenario_register(Settings(db=str(db)), "national-synthetic", seed=5, config=SMALL)
    return db


@pytest.mark.parametrize("rounds", [0, 1])
def test_a_plan_by_regions_has_the_whole_problems_bound_and_its_gap(store_path: Path, rounds: int) -> None:
    """The summary's bound is the whole problem's, at or below the plan as saved (set-up per change of role) and the
    regions' merged plan as solved (set-up on every borrowed lot), both recomputed from their schedules."""
    progress: list[str] = []
    settings = PlanSettings(time_limit_s=4, engine=Engine.GREEDY, regions=RegionSettings(workers=1, rounds=rounds))
    with open_register(Settings(db=str(store_path))) as store:
        outcome = plan_store(store, settings=settings, progress=progress.append)
    summary, result = outcome.summary, outcome.result
    assert summary.engine == "decomposed" and result.schedule is not None
    assert summary.lower_bound is not None and summary.objective is not None
    # The whole compiled problem's bound (with every lot free of set-up), at or below the saved plan's objective,
    # which is the objective of the plan with set-up per change of role as saved.
    assert summary.lower_bound == pytest.approx(whole_lower_bound(outcome.compiled.problem))
    assert 0 < summary.lower_bound <= summary.objective
    assert outcome.run.lower_bound == summary.lower_bound and outcome.run.objective == summary.objective
    assert float(objective_value(outcome.compiled.problem, result.schedule)) >= summary.lower_bound
    assert summary.gap_pct == round(100 * (summary.objective - summary.lower_bound) / summary.objective, 2)
    assert summary.gap_pct is not None and summary.gap_pct > 0  # greedy regions: a plan, not an optimum
    assert any(m.startswith("bounding the whole problem") for m in progress)
    assert progress.index(next(m for m in progress if m.startswith("bounding"))) < progress.index(
        next(m for m in progress if m.startswith("solving")))  # within the limit: the solver gets what is left


def test_a_plan_by_regions_keeps_back_its_own_measured_reserve() -> None:
    """By regions the solves get what the reading, compiling and bound left, less the by-regions reserve per task:
    less than the limit left, more than the whole-problem plans' reserve would give, never below the least share."""
    from sapper.services.planning import SOLVER_MIN_SHARE, regions_solver_seconds, solver_seconds

    by_regions = regions_solver_seconds(420.0, elapsed_s=15.0, tasks=164_032)
    assert solver_seconds(420.0, elapsed_s=15.0, tasks=164_032) < by_regions < 420.0 - 15.0
    assert regions_solver_seconds(60.0, elapsed_s=55.0, tasks=164_032) == SOLVER_MIN_SHARE * 60.0
