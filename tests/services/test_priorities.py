"""Priorities explained: weight profiles from TOML with every fault named, scores whose contributions add up to them
exactly over a whole scenario register, and explanations that are the planner's own figures (the command:
tests/cli/test_priorities.py)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from sapper.domain.hazards import PRIOR_CONTAMINATION, HazardClass
from sapper.errors import NotFoundError, ValidationError
from sapper.plan import Engine
from sapper.prioritise import DEFAULT_PROFILE, WeightProfile, score_asset, score_hazard
from sapper.scenario.compile import WORK_KINDS, TaskKind, compile_problem
from sapper.scenario.kursk_border import build_kursk_border
from sapper.scenario.model import Scenario
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.priorities import (
    AreaExplanation,
    AssetExplanation,
    area_explanations,
    explain,
    load_profile,
    rank,
)
from sapper.store import open_store
from tests.services.test_whatif import _register

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "profiles"


@pytest.fixture(scope="module")
def kursk() -> Scenario:
    return build_kursk_border(2025)


# --- exact sums over a whole register ---------------------------------------------------------------------------


def test_every_score_of_the_scenario_is_the_exact_sum_of_its_contributions(kursk: Scenario) -> None:
    """Over every hazard area and asset of kursk-border, under the default and another profile, the contributions
    (normalised × weight), added in order, give the score exactly — no rounding."""
    other = WeightProfile("services", hazard={"beneficiaries": 0.7, "land_use": 0.1, "threat": 0.1,
                                              "likelihood": 0.1},
                          asset={"criticality": 0.2, "people_served": 0.7, "damage": 0.1})
    for profile in (DEFAULT_PROFILE, other):
        p = rank(kursk.hazards, kursk.assets, profile)
        assert len(p.assets) == len(kursk.assets)
        assert len(p.hazards) == len([h for h in kursk.hazards if h.status.value == "open"]) > 1000
        for r in (*p.hazards, *p.assets):
            total = 0.0
            for c in r.score.contributions:
                assert c.value == c.normalised * c.weight
                total += c.value
            assert total == r.score.value, r.record_id
            assert 0.0 <= r.score.value <= 1.0
        scores = [r.score.value for r in p.hazards]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("with_model", [False, True], ids=["prior", "model"])
def test_every_areas_explanation_is_the_planners_own_priority_exactly(kursk: Scenario, with_model: bool) -> None:
    """For every open area of kursk-border, own score + the sum of the scores of the assets it unlocks (added in
    order) equals, exactly, the priority the planner gives its survey and clearance lots; the unlocked assets are
    those whose work site it blocks, and the weights are the objective's. Also when the contamination model gives
    every other area a probability (the rest score with their class prior)."""
    rng = random.Random(7)
    likelihood = {h.id: rng.random() for h in kursk.hazards[::2]} if with_model else None
    compiled = compile_problem(kursk.hazards, kursk.assets, kursk.teams, kursk.brigades, start_date=kursk.start_date,
                               likelihood=likelihood)
    why = area_explanations(compiled, kursk.hazards, kursk.assets, likelihood=likelihood)
    prio = {i.hazard_id: p for i, p in zip(compiled.info, compiled.priority, strict=True) if i.kind is TaskKind.NTS}
    weights = {i.hazard_id or i.asset_id: t.weight for t, i in zip(compiled.problem.tasks, compiled.info, strict=True)
               if i.kind in (TaskKind.RELEASED, TaskKind.RESTORED)}
    assert set(why) == set(prio)
    assets = {a.id: a for a in kursk.assets}
    unlocking = 0
    for hid, e in why.items():
        unlocked = 0.0
        for u in e.unlocks:
            unlocked += u.score
            assert u.score == score_asset(assets[u.asset_id]).value
            assert u.plan_weight == weights[u.asset_id]
            assert hid in compiled.blocking[u.asset_id]
        assert unlocked == e.unlocked, hid
        assert e.plan_score + e.unlocked == e.priority == prio[hid], hid
        assert e.plan_score == e.ranked.score.value  # the default profile is the planner's
        part = next(c for c in e.ranked.score.contributions if c.criterion == "likelihood")
        assert part.normalised == (likelihood[hid] if likelihood and hid in likelihood
                                   else PRIOR_CONTAMINATION[e_class(kursk, hid)])
        assert e.plan_weight == weights[hid]
        unlocking += bool(e.unlocks)
    assert unlocking > 100  # the test covers areas that unblock reconstruction, not only lone ones
    ranks = sorted(e.priority_rank for e in why.values())
    assert ranks == list(range(1, len(why) + 1))


def e_class(sc: Scenario, hid: str) -> HazardClass:
    return next(h.hazard_class for h in sc.hazards if h.id == hid)


# --- profiles ---------------------------------------------------------------------------------------------------


def test_the_example_default_profile_is_the_built_in_one() -> None:
    """examples/profiles/default.toml holds exactly the built-in weights (the documented file cannot drift)."""
    p = load_profile(EXAMPLES / "default.toml")
    assert p.is_default and dict(p.hazard) == dict(DEFAULT_PROFILE.hazard)
    assert dict(p.asset) == dict(DEFAULT_PROFILE.asset)


def test_every_example_profile_loads() -> None:
    """Each shipped profile is valid; a non-default one changes the ranking of assets."""
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 2
    for f in files:
        load_profile(f)


def test_a_profile_changes_scores_as_its_weights_say(kursk: Scenario) -> None:
    """With all the weight on threat, a CHA scores 1 and an SHA with indirect evidence 0.5."""
    p = WeightProfile("threat", hazard={"beneficiaries": 0, "land_use": 0, "threat": 1.0,
                                             "likelihood": 0})
    for h in kursk.hazards[:200]:
        s = score_hazard(h, p.hazard).value
        assert s in (0.5, 1.0)
    assert score_asset(kursk.assets[0], p.asset).value == score_asset(kursk.assets[0]).value


def test_bad_profiles_name_the_file_and_every_fault(tmp_path: Path) -> None:
    """Unknown criterion, missing criterion, a negative weight and a sum other than 1 are all reported at once."""
    f = tmp_path / "bad.toml"
    f.write_text('name = "bad"\ncolour = 1\n[hazard]\nbeneficiaries = 0.5\nland_use = 0.5\nthreatt = 0.1\n'
                 '[asset]\ncriticality = -0.5\npeople_served = 1.0\ndamage = 0.5\n', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        load_profile(f)
    reasons = " | ".join(str(x) for x in err.value.faults)
    assert "unknown key 'colour'" in reasons
    assert "no criterion 'threatt'" in reasons and "misses 'threat'" in reasons
    assert "criticality must be ≥ 0" in reasons
    assert all(x.record == "bad" for x in err.value.faults)
    f.write_text("[asset]\ncriticality = 0.5\npeople_served = 0.5\ndamage = 0.5\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"sum to 1, they sum to 1\.5"):
        load_profile(f)
    f.write_text("[asset\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a TOML file"):
        load_profile(f)
    with pytest.raises(NotFoundError):
        load_profile(tmp_path / "missing.toml")


# --- explanations on a planned store ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("priorities") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned, tmp_path / "register.gpkg"))


def test_explain_an_area_says_what_it_unlocks_and_when_the_plan_does_it(db: Path) -> None:
    """H-1 is crossed by the road A-1: it unlocks A-1; its lots and release date are the latest plan's."""
    with open_store(db) as store:
        e = explain(store, "H-1")
        plan = store.latest_plan()
    assert isinstance(e, AreaExplanation) and plan is not None
    assert [u.asset_id for u in e.unlocks] == ["A-1"]
    mine = [t for t in plan.tasks if t.hazard_id == "H-1"]
    assert {w.task_id for w in e.work} == {t.task_id for t in mine if t.kind in WORK_KINDS}
    assert e.released == next(t.end_date for t in mine if t.kind is TaskKind.RELEASED)
    first = min(w.start for w in e.work)
    assert e.week == f"{first.isocalendar()[0]}-W{first.isocalendar()[1]:02d}"
    assert e.plan_id == plan.id


def test_explain_an_asset_says_what_it_waits_for(db: Path) -> None:
    """The school A-3 stands in the forest area H-2: its repair waits for H-2's release, which comes before it."""
    with open_store(db) as store:
        e = explain(store, "A-3")
    assert isinstance(e, AssetExplanation)
    assert [b.hazard_id for b in e.waits_for] == ["H-2"]
    assert e.restored is not None and e.waits_for[0].released is not None
    assert e.waits_for[0].released < min(w.start for w in e.work)


def test_explain_an_unknown_id(db: Path) -> None:
    with open_store(db) as store, pytest.raises(NotFoundError, match="H-9"):
        explain(store, "H-9")
