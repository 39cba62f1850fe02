"""What-ifs side by side: variants parsed with clear errors, the workforce scaled to whole teams, each variant
re-planned and forecast with the same seed without touching the store, on both backends and after a re-plan
(the command: tests/cli/test_whatif.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.errors import NotFoundError, StoreError, ValidationError
from sapper.plan import Engine
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.replan import ReplanSettings, replan_store
from sapper.services.whatif import (
    Count,
    _VariantView,
    compare,
    parse_variant,
    run_variant,
    variant_workforce,
    whatif_document,
)
from sapper.store import open_store
from tests.services.test_forecast import _slow_clearance

BASE = Point(35.0, 50.0)
START = dt.date(2025, 6, 2)
RUNS = 150


def _register(db: str | Path) -> None:
    """Three hazard areas (one forest, where dogs may clear), a road crossing one, a house; few teams."""
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR),
                               Organisation("con-1", "Builder", OrgKind.CONTRACTOR)])
        uow.add_hazards([
            HazardArea("H-1", HazardClass.CHA, shapely.box(35.100, 50.100, 35.104, 50.102), Evidence.DIRECT),
            HazardArea("H-2", HazardClass.CHA, shapely.box(35.110, 50.100, 35.116, 50.103), Evidence.DIRECT,
                       land_use=LandUse.FOREST),
            HazardArea("H-3", HazardClass.SHA, shapely.box(35.120, 50.100, 35.121, 50.101), Evidence.INDIRECT),
        ])
        uow.add_assets([
            Asset("A-1", AssetType.ROAD, LineString([(35.099, 50.1005), (35.105, 50.1005)]), DamageLevel.SEVERE,
                  {Trade.ROAD: 200.0}, criticality=5, people_served=2000),
            Asset("A-2", AssetType.HOUSE, Point(35.1205, 50.1005), DamageLevel.MODERATE, {Trade.BUILDING: 60.0}),
            Asset("A-3", AssetType.SCHOOL, Point(35.113, 50.1015), DamageLevel.LIGHT, {Trade.BUILDING: 40.0},
                  criticality=4, people_served=300),
        ])
        uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 5000.0),
                       DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0),
                       DeminerTeam("T-MAN-2", "op-1", Method.MANUAL, 8, BASE, 300.0),
                       DeminerTeam("T-DOG-1", "op-1", Method.DOG, 4, BASE, 800.0)])
        uow.add_brigades([BuilderBrigade("B-ROAD-1", "con-1", Trade.ROAD, 10, BASE),
                          BuilderBrigade("B-BLD-1", "con-1", Trade.BUILDING, 10, BASE)])
        uow.set_meta({"start_date": START.isoformat()})


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built store with one greedy plan."""
    db = tmp_path_factory.mktemp("whatif") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned, tmp_path / "register.gpkg"))


# --- parsing ----------------------------------------------------------------------------------------------------


def test_parse_variant_reads_every_kind_of_key() -> None:
    """Totals, absolute and relative team counts, winter work and a start date are parsed into typed values."""
    v = parse_variant("big:deminers=2000,dog_teams=+10,road_brigades=-1,winter_work=true,start_date=2026-03-01")
    assert v.name == "big"
    assert v.deminers == Count(2000)
    assert v.teams == ((Method.DOG, Count(10, relative=True)),)
    assert v.brigades == ((Trade.ROAD, Count(-1, relative=True)),)
    assert v.winter_work is True
    assert v.start_date == dt.date(2026, 3, 1)
    assert parse_variant("cold:winter_work=no").winter_work is False


@pytest.mark.parametrize(("text", "key", "says"), [
    ("double:deminerz=2000", "deminerz", "unknown key 'deminerz'"),
    ("double:deminers=lots", "deminers", "'lots' is not a whole number"),
    ("double:dog_teams=+x", "dog_teams", "not a whole number"),
    ("double:winter_work=maybe", "winter_work", "'maybe' is not true or false"),
    ("double:start_date=2026-13-01", "start_date", "not a date"),
    ("double:deminers=10,deminers=20", "deminers", "given twice"),
])
def test_a_bad_key_or_value_names_the_variant_and_the_key(text: str, key: str, says: str) -> None:
    """The error is one fault naming the variant and the key, saying what is wrong."""
    with pytest.raises(ValidationError) as err:
        parse_variant(text)
    assert len(err.value.faults) == 1
    fault = err.value.faults[0]
    assert fault.record == "variant double" and fault.field == key
    assert says in fault.reason


@pytest.mark.parametrize("text", ["double", ":deminers=5", "current:deminers=5", "a b:deminers=5"])
def test_a_variant_without_a_name_is_refused(text: str) -> None:
    """NAME: is required, and `current` is the latest plan's column."""
    with pytest.raises(ValidationError):
        parse_variant(text)


def test_a_variant_without_changes_is_a_control() -> None:
    """`same:` changes nothing: the latest plan re-planned the way the variants are."""
    v = parse_variant("same:")
    assert (v.deminers, v.builders, v.teams, v.brigades) == (None, None, (), ())
    assert v.winter_work is None and v.start_date is None


# --- the workforce ----------------------------------------------------------------------------------------------


def test_deminers_scale_every_method_in_proportion_to_whole_teams(db: Path) -> None:
    """24 deminers in 4 teams to 48: every method's teams double, copies of existing teams with their rates."""
    with open_store(db) as store:
        teams, brigades = variant_workforce(store, parse_variant("x:deminers=48"))
    by_method = {m: [t for t in teams if t.method is m] for m in Method}
    assert {m: len(ts) for m, ts in by_method.items()} == {Method.SURVEY: 2, Method.MANUAL: 4, Method.DOG: 2,
                                                           Method.MECHANICAL: 0, Method.BAC: 0}
    assert sum(t.size for t in teams) == 48
    assert len({t.id for t in teams}) == len(teams)
    assert all(t.productivity_m2_per_day == 300.0 for t in by_method[Method.MANUAL])
    assert len(brigades) == 2  # builders untouched


def test_rounding_keeps_one_team_per_method_and_counts_apply_after_totals(db: Path) -> None:
    """Halving rounds to whole teams but keeps a team where there was one; -1 then removes the last manual team."""
    with open_store(db) as store:
        teams, _ = variant_workforce(store, parse_variant("x:deminers=12,manual_teams=-1,dog_teams=0"))
    assert sorted(t.id for t in teams) == ["T-SUR-1"]
    with open_store(db) as store:
        _, brigades = variant_workforce(store, parse_variant("x:builders=+20,bridge_brigades=0"))
    assert sorted(b.id for b in brigades) == ["B-BLD-1", "B-BLD-1+1", "B-ROAD-1", "B-ROAD-1+1"]


def test_workforce_that_cannot_be_made_names_the_key(db: Path) -> None:
    """No mechanical team to copy, and fewer than zero teams, are faults of the variant naming each key."""
    with open_store(db) as store, pytest.raises(ValidationError) as err:
        variant_workforce(store, parse_variant("odd:mechanical_teams=+2,dog_teams=-3"))
    assert {(f.record, f.field) for f in err.value.faults} == {("variant odd", "mechanical_teams"),
                                                               ("variant odd", "dog_teams")}


# --- comparing --------------------------------------------------------------------------------------------------


def test_two_variants_side_by_side_more_deminers_finish_no_later(db: Path) -> None:
    """The latest plan first, then each variant by name; doubling the deminers finishes no later at P50 or P80 (same
    seed), and the JSON has one entry per variant by name."""
    variants = [parse_variant("double:deminers=48"), parse_variant("winter:winter_work=true")]
    with open_store(db) as store:
        w = compare(store, variants, runs=RUNS, seed=3, time_limit_s=5)
    assert [c.name for c in w.columns] == ["current", "double", "winter"]
    current, double, winter = w.columns
    assert double.workforce.deminers == 48 and current.workforce.deminers == 24
    assert double.finish.p50 <= current.finish.p50
    assert double.finish.p80 <= current.finish.p80
    assert winter.winter_work and not current.winter_work
    for c in w.columns:
        assert c.finish.p10 <= c.finish.p50 <= c.finish.p80 <= c.finish.p90
        assert 0 <= c.released_km2[0] <= c.released_km2[1] <= c.released_km2[2] <= w.hazard_area_km2 + 1e-9
        assert [a.asset_id for a in c.critical] == ["A-1", "A-3", "A-2"]  # by priority score, the same each column
        assert all(a.p50 is not None and a.p50 <= a.p80 for a in c.critical if a.p80)  # type: ignore[operator]
    doc = whatif_document(w)
    assert list(doc["variants"]) == ["current", "double", "winter"]  # type: ignore[arg-type]
    assert doc["runs"] == RUNS and doc["seed"] == 3


def test_the_same_seed_gives_the_same_comparison(db: Path) -> None:
    """Re-running the comparison with the same seed gives the same dates (re-planning and forecasting are
    deterministic for a seed)."""
    with open_store(db) as store:
        a = compare(store, [parse_variant("dogs:dog_teams=+2")], runs=60, seed=5, time_limit_s=5)
        b = compare(store, [parse_variant("dogs:dog_teams=+2")], runs=60, seed=5, time_limit_s=5)
    assert [c.finish for c in a.columns] == [c.finish for c in b.columns]


def test_whatif_never_touches_the_stores_plan(db: Path) -> None:
    """After the comparison the store holds the same rows and the same latest plan, task for task."""
    with open_store(db) as store:
        before, plan_before, teams_before = store.counts(), store.latest_plan(), store.teams()
        compare(store, [parse_variant("double:deminers=+24"), parse_variant("late:start_date=2026-04-01")],
                runs=40, seed=1, time_limit_s=5)
    with open_store(db) as store:
        assert store.counts() == before
        assert store.latest_plan() == plan_before
        assert store.teams() == teams_before


def test_whatif_on_both_backends_and_the_view_refuses_writes(store_target: str | Path) -> None:
    """On a GeoPackage and on PostGIS the comparison runs and leaves the store as it was; the variant's view of the
    store refuses every write (StoreError), and closing it leaves the store open."""
    _register(store_target)
    with open_store(store_target) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
        before, latest = store.counts(), store.latest_plan()
        w = compare(store, [parse_variant("double:deminers=48")], runs=40, seed=1, time_limit_s=5)
        assert w.columns[1].finish.p50 <= w.columns[0].finish.p50
        view = _VariantView(store, teams=store.teams()[:2], brigades=store.brigades(), start=START)
        assert [t.id for t in view.teams()] == [t.id for t in store.teams()[:2]]
        assert view.meta()["start_date"] == START.isoformat() and view.hazards() == store.hazards()
        with pytest.raises(StoreError, match="never writes"):
            view.add_teams(store.teams()[:1], replace=True)
        view.close()
        assert store.counts() == before and store.latest_plan() == latest


def test_a_later_start_moves_the_plan(db: Path) -> None:
    """A variant starting a year later is planned from that day: its planned finish is later."""
    with open_store(db) as store:
        w = compare(store, [parse_variant("late:start_date=2026-06-01")], runs=40, seed=1, time_limit_s=5)
    current, late = w.columns
    assert late.start_date == dt.date(2026, 6, 1)
    assert late.planned_finish is not None and current.planned_finish is not None
    assert late.planned_finish > current.planned_finish
    assert late.finish.p10 >= dt.date(2026, 6, 1)


def test_after_a_replan_variants_are_replanned_from_the_same_progress(db: Path) -> None:
    """When the latest plan is a re-plan, each variant re-plans the plan it continued, as of the same day and from
    the same reported progress (from scratch, free to use its own teams); the store keeps its two plans."""
    _slow_clearance(db, 1.0, days=20)
    with open_store(db) as store:
        replan_store(store, settings=ReplanSettings(engine=Engine.GREEDY, time_limit_s=5))
        latest = store.latest_plan()
        before = store.counts()
        assert latest is not None and latest.params.replan is not None
        start = latest.start_date
        plan, forecast, workforce, _ = run_variant(store, latest, parse_variant("more:manual_teams=+2"), start=start,
                                                   runs=RUNS, seed=2, time_limit_s=5)
        same, same_forecast, _, _ = run_variant(store, latest, parse_variant("same:"), start=start, runs=RUNS,
                                                seed=2, time_limit_s=5)
        assert store.counts() == before and store.latest_plan() == latest
    for p in (plan, same):
        assert p.params.replan is not None and p.params.replan.as_of == latest.params.replan.as_of
        assert p.params.replan.replan_of == latest.params.replan.replan_of and not p.params.replan.stable
        assert p.id is None
    done = {t.task_id for t in latest.tasks if t.end_date < latest.params.replan.as_of}
    assert done and done <= {t.task_id for t in plan.tasks}  # the work done before the re-plan is kept as history
    assert workforce.teams == (("survey", 1), ("manual", 4), ("dog", 1))
    assert forecast.overall.p50 <= same_forecast.overall.p50


def test_without_a_plan_there_is_nothing_to_compare(tmp_path: Path) -> None:
    """A store without a plan: not found, before anything runs."""
    db = tmp_path / "empty.gpkg"
    _register(db)
    with open_store(db) as store, pytest.raises(NotFoundError, match="no plan"):
        compare(store, [parse_variant("x:deminers=10")], runs=10)
