"""`sapper priorities` on a small planned register: scores with contributions in text and JSON, --explain, and a bad
profile."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sapper.plan import Engine
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store
from tests.cli.entry import run
from tests.services.test_whatif import _register

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "profiles"


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("priorities-cli") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned, tmp_path / "register.gpkg"))


def test_sapper_priorities_lists_and_explains(db: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Text lists both kinds with contributions; JSON contributions add up to each score; --explain works in both;
    a bad profile is exit code 2."""
    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db)
    assert code == 0, err
    assert "hazard areas by score (3 open)" in out and "A-1" in out and "threat 0.1500" in out
    assert "likelihood 0.1275 (0.85 → 0.850 × 0.15)" in out  # a CHA without a fitted model: its class prior
    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db, "--json", "--profile",
                         EXAMPLES / "default.toml")
    assert code == 0, err
    doc = json.loads(out)
    for r in doc["hazard_areas"] + doc["assets"]:
        total = 0.0
        for c in r["contributions"]:
            total += c["value"]
        assert total == r["score"]
    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db, "--explain", "H-1")
    assert code == 0, err
    assert "unlocks 1 asset " in out and "A-1" in out and "released 20" in out
    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db, "--explain", "A-3", "--json")
    assert code == 0, err
    assert json.loads(out)["waits_for"][0]["hazard_id"] == "H-2"
    bad = db.parent / "bad.toml"
    bad.write_text("[hazard]\nthreat = 2\n", encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "priorities", "--db", db, "--profile", bad)
    assert code == 2 and "bad" in err
