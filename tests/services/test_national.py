"""national-synthetic built small, planned by regions on a Dask LocalCluster: the merged plan passes the independent
checker as one whole problem, and coordination is no worse than solving the regions without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapper.domain.resources import Method, Trade
from sapper.plan import check
from sapper.scenario.national_synthetic import NationalConfig, OblastSpec
from sapper.services.planning import Engine, PlanSettings, plan_store
from sapper.services.regions import RegionSettings
from sapper.services.register import open_register
from sapper.services.scenario import build_scenario_register
from sapper.services.settings import Settings

#: A few hundred areas over three oblasts, with pools small enough to bind (so teams have reason to move).
SMALL = NationalConfig(
    hazard_count=300, asset_count=150, village_count=40, town_count=6,
    oblasts=(OblastSpec("Kursk Oblast", "KRS", 2.0), OblastSpec("Belgorod Oblast", "BEL", 1.0),
             OblastSpec("Sumy Oblast", "SUM", 0.5)),
    deminers=180, team_split=((Method.SURVEY, 6), (Method.MANUAL, 9), (Method.DOG, 3), (Method.MECHANICAL, 3),
                              (Method.BAC, 3)),
    builders=500, brigade_split=((Trade.ROAD, 4), (Trade.BRIDGE, 3), (Trade.POWER, 4), (Trade.WATER, 3),
                                 (Trade.BUILDING, 6)))


def test_the_default_configuration_has_the_national_sizes() -> None:
    cfg = NationalConfig()
    assert cfg.hazard_count >= 25_000 and cfg.asset_count >= 10_000
    assert (cfg.deminers, cfg.builders) == (3_500, 15_000)
    assert sum(cfg.counts(cfg.hazard_count)) == cfg.hazard_count


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("national") / "national.gpkg"
    build_scenario_register(Settings(db=str(db)), "national-synthetic", seed=3, config=SMALL)
    return db


def test_the_build_is_synthetic_and_names_its_regions(store_path: Path) -> None:
    with open_register(Settings(db=str(store_path))) as store:
        meta = store.meta()
        hazards = store.hazards()
        assets = store.assets()
        assert meta["scenario"] == "national-synthetic" and meta["synthetic"] == "true"
        assert meta["regions"].splitlines() == ["Kursk Oblast", "Belgorod Oblast", "Sumy Oblast"]
        assert "SYNTHETIC" in meta["notes"]
        assert len(hazards) == 300 and all(h.synthetic and "(synthetic)" in (h.name or "") for h in hazards)
        assert {h.id[:3] for h in hazards} == {"KRS", "BEL", "SUM"}
        assert len(assets) >= 150 and all(a.synthetic for a in assets)
        assert sum(t.size for t in store.teams()) == 180 and all(t.synthetic for t in store.teams())
        assert len(store.context_areas("contested_zone")) == 3


def test_planning_by_regions_on_dask_passes_the_whole_check(store_path: Path) -> None:
    settings = PlanSettings(time_limit_s=3, engine=Engine.GREEDY, regions=RegionSettings(workers=2, rounds=2))
    with open_register(Settings(db=str(store_path))) as store:
        outcome = plan_store(store, settings=settings)
    result = outcome.result
    assert result.engine == "decomposed" and result.schedule is not None
    assert check(outcome.compiled.problem, result.schedule) == []  # the whole problem, not the regions
    details = outcome.summary.details
    assert details["decomposed_regions"] == 3
    uncoordinated = details["uncoordinated_objective"]
    assert isinstance(uncoordinated, float) and result.objective is not None
    assert result.objective <= uncoordinated
    assert outcome.summary.synthetic and outcome.run.id is not None


def test_a_scheduler_address_is_connected_to_not_a_new_cluster() -> None:
    """``--scheduler ADDRESS``: the regions run on that scheduler's workers (here an in-process cluster's)."""
    from dask.distributed import LocalCluster

    from sapper.services.regions import dask_map

    cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")  # type: ignore[no-untyped-call]
    with cluster, dask_map(RegionSettings(scheduler=cluster.scheduler_address)) as run:
        assert run(abs, [-1, -2, 3]) == [1, 2, 3]
