"""A re-plan of a plan made by regions (``sapper replan`` of a national-synthetic store built small): solved by the same
regions on Dask, each from its part of the repaired previous plan, the merged plan checked as one whole problem, the
summary saying so; ``--no-decompose`` re-plans the whole problem as one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sapper.cli import app
from sapper.plan import check
from sapper.plan.solution import moved_tasks
from sapper.services.planning import Engine, PlanSettings, plan_store
from sapper.services.regions import RegionSettings
from sapper.services.register import open_register
from sapper.services.replan import ReplanOutcome, ReplanSettings, by_regions, replan_store
from sapper.services.scenario import build_scenario_register
from sapper.services.settings import Settings
from tests.services.test_national import SMALL


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small national store (three oblasts) planned by regions."""
    db = tmp_path_factory.mktemp("national-replan") / "national.gpkg"
    build_scenario_register(Settings(db=str(db)), "national-synthetic", seed=3, config=SMALL)
    with open_register(Settings(db=str(db))) as store:
        outcome = plan_store(store, settings=PlanSettings(time_limit_s=3, engine=Engine.GREEDY,
                                                          regions=RegionSettings(workers=2, rounds=1)))
    assert outcome.result.engine == "decomposed"
    return db


#: A week after the plan's start (SMALL's start date), with no progress reported: the lots due in the week were not
#: started and must move.
AS_OF = SMALL.start_date + dt.timedelta(days=7)


def _replan(planned: Path, tmp_path: Path, settings: ReplanSettings) -> ReplanOutcome:
    db = Path(shutil.copy(planned, tmp_path / "national.gpkg"))
    with open_register(Settings(db=str(db))) as store:
        return replan_store(store, settings=settings)


def test_a_replan_of_a_plan_by_regions_is_by_regions_and_checked_whole(planned: Path, tmp_path: Path) -> None:
    """With the default policy (fewest moves); the policy itself is the regions' solves' (tests/plan/
    test_decompose_replan.py runs both)."""
    outcome = _replan(planned, tmp_path, ReplanSettings(as_of=AS_OF, time_limit_s=8))
    result, problem = outcome.result, outcome.compiled.problem
    assert result.engine == "decomposed" and result.schedule is not None
    assert check(problem, result.schedule) == []  # the whole problem, not the regions
    details = outcome.summary.details
    assert details["replanned_by_regions"] is True and details["decomposed_regions"] == 3
    assert details["coordination_rounds"] == 0
    # The repaired previous plan moved some lots (those due in the week); the plan saved moves no more of them.
    warm, fewest = details["warm_start_moved"], details["fewest_moves"]
    assert isinstance(warm, int) and isinstance(fewest, int) and 0 < fewest <= warm
    assert len(moved_tasks(problem, result.schedule)) <= warm
    counts = outcome.changes.counts
    assert counts.moved >= counts.must_move > 0
    assert outcome.summary.replan is not None and outcome.summary.engine == "decomposed"


def test_by_regions_when_the_previous_plan_was_unless_asked_not_to(planned: Path) -> None:
    with open_register(Settings(db=str(planned))) as store:
        previous = store.latest_plan()
    assert previous is not None and previous.summary is not None
    assert by_regions(previous, ReplanSettings())
    assert not by_regions(previous, ReplanSettings(decompose=False))  # --no-decompose: the whole problem as one
    assert not by_regions(previous, ReplanSettings(stable=False))  # from scratch: the whole problem
    whole = dataclasses.replace(previous, summary=dataclasses.replace(previous.summary, details={}))
    assert not by_regions(whole, ReplanSettings()) and by_regions(whole, ReplanSettings(decompose=True))


def test_the_command_says_the_replan_was_by_regions(planned: Path, tmp_path: Path) -> None:
    db = Path(shutil.copy(planned, tmp_path / "national.gpkg"))
    out = CliRunner().invoke(app, ["replan", "--db", str(db), "--time-limit", "8", "--as-of", AS_OF.isoformat()])
    assert out.exit_code == 0, out.output
    assert "by regions       : 3 regions on Dask, each from its part of the previous plan" in out.output
