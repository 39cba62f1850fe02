"""`sapper plan --profile`: a plan made with a programme's weight profile. Two areas compete for one manual team:
one confirmed with nobody nearby, one suspected beside 5,000 people. The default weights put the people's area first;
a threat-first profile puts the confirmed one first, in the priority list and in the plan. The plan records the
profile (name and hash of its weights); `sapper priorities` and the explanation say so; the report scores under it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import DeminerTeam, Method, Organisation, OrgKind
from sapper.prioritise import DEFAULT_PROFILE
from sapper.services.priorities import load_profile, priorities
from sapper.store import open_store
from tests.cli.entry import run

BASE = Point(35.0, 50.0)
THREAT_FIRST = ("name = \"threat-first\"\n[hazard]\nbeneficiaries = 0.1\nland_use = 0.1\nthreat = 0.8\n"
                "likelihood = 0.0\n")


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("plan-profile") / "register.gpkg"
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR)])
        uow.add_hazards([
            HazardArea("H-CHA", HazardClass.CHA, shapely.box(35.100, 50.100, 35.104, 50.102), Evidence.DIRECT,
                       expected_clearance_share=0.5),
            HazardArea("H-PEOPLE", HazardClass.SHA, shapely.box(35.110, 50.100, 35.114, 50.102), Evidence.INDIRECT,
                       beneficiaries=5000, expected_clearance_share=0.5),
        ])
        uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 5000.0),
                       DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0)])
        uow.set_meta({"start_date": dt.date(2025, 4, 1).isoformat()})
    (db.parent / "threat-first.toml").write_text(THREAT_FIRST, encoding="utf-8")
    return db


@pytest.fixture
def db(register: Path, tmp_path: Path) -> Path:
    shutil.copy(register.parent / "threat-first.toml", tmp_path / "threat-first.toml")
    return Path(shutil.copy(register, tmp_path / "register.gpkg"))


def _first_clearance(db: Path) -> dict[str, dt.date]:
    with open_store(db) as store:
        run_ = store.latest_plan()
        assert run_ is not None
        out: dict[str, dt.date] = {}
        for t in run_.tasks:
            if t.kind.value == "clearance" and t.hazard_id:
                out[t.hazard_id] = min(out.get(t.hazard_id, t.start_date), t.start_date)
        return out


def test_a_profile_changes_the_priority_order_and_the_plan(db: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    profile = db.parent / "threat-first.toml"
    code, out, err = run(monkeypatch, capsys, "plan", "--db", db, "--engine", "greedy")
    assert code == 0, err
    assert f"weight profile   : default ({DEFAULT_PROFILE.digest})" in out
    default_starts = _first_clearance(db)
    assert default_starts["H-PEOPLE"] < default_starts["H-CHA"]
    with open_store(db) as store:
        assert [r.record_id for r in priorities(store).hazards] == ["H-PEOPLE", "H-CHA"]

    code, out, err = run(monkeypatch, capsys, "plan", "--db", db, "--engine", "greedy", "--profile", profile,
                         "--json")
    assert code == 0, err
    weights = load_profile(profile)
    assert json.loads(out)["profile"] == {"name": "threat-first", "hash": weights.digest}
    starts = _first_clearance(db)
    assert starts["H-CHA"] < starts["H-PEOPLE"]
    with open_store(db) as store:
        saved = store.latest_plan()
        assert saved is not None and saved.params.profile == weights  # recorded, read back from the store
        ranked = priorities(store)  # no --profile: the latest plan's
        assert ranked.profile == weights and ranked.plan_profile == weights
        assert [r.record_id for r in ranked.hazards] == ["H-CHA", "H-PEOPLE"]

    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db)
    assert code == 0, err
    assert f"the latest plan was made with profile threat-first ({weights.digest})" in out
    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db, "--profile",
                         Path(__file__).resolve().parents[2] / "examples" / "profiles" / "default.toml")
    assert code == 0, err
    assert "(other weights: its order differs)" in out
    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db, "--explain", "H-CHA", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["plan_profile"]["name"] == "threat-first" and doc["plan_profile"]["hash"] == weights.digest
    assert doc["plan_score"] == doc["score"]  # scored under the profile the plan was made with

    code, out, err = run(monkeypatch, capsys, "replan", "--db", db, "--time-limit", "5")
    assert code == 0, err
    with open_store(db) as store:
        again = store.latest_plan()
        assert again is not None and again.id != saved.id and again.params.profile == weights  # kept by a re-plan


def test_a_bad_profile_plans_nothing(db: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = db.parent / "bad.toml"
    bad.write_text("[hazard]\nthreat = 2\n", encoding="utf-8")
    code, _, err = run(monkeypatch, capsys, "plan", "--db", db, "--engine", "greedy", "--profile", bad)
    assert code == 2 and "weight profile bad" in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("sapper: error")  # the faults, then one line
    code, _, err = run(monkeypatch, capsys, "plan", "--db", db, "--profile", db.parent / "missing.toml")
    assert code != 0 and "missing.toml" in err
    with open_store(db) as store:
        assert store.latest_plan() is None
