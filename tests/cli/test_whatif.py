"""`sapper whatif` on a small planned register: variants side by side in text, JSON and a file; a bad key is one line
and exit code 2."""

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


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built store of tests/services/test_whatif.py with one greedy plan."""
    db = tmp_path_factory.mktemp("whatif-cli") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(planned, tmp_path / "register.gpkg"))


def test_sapper_whatif_prints_both_variants_side_by_side(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The table has a row per column, the critical assets' dates per column; --out writes the same JSON."""
    out_file = tmp_path / "whatif.json"
    code, out, err = run(monkeypatch, capsys, "whatif", "--db", db, "--variant", "double:deminers=48",
                         "--variant", "dogs:dog_teams=+2", "--runs", "60", "--time-limit", "5", "--out", out_file)
    assert code == 0, err
    rows = {line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")}
    assert {"current", "double", "dogs"} <= rows
    assert "A-1 (road" in out and "double 20" in out
    doc = json.loads(out_file.read_text(encoding="utf-8"))
    assert list(doc["variants"]) == ["current", "double", "dogs"]
    assert doc["variants"]["dogs"]["workforce"]["teams"]["dog"] == 3


def test_sapper_whatif_json_and_a_bad_key(db: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints one entry per variant by name; an unknown key is one line and exit code 2."""
    code, out, err = run(monkeypatch, capsys, "whatif", "--db", db, "--variant", "cold:winter_work=true",
                         "--runs", "30", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc["variants"]) == ["current", "cold"]
    assert doc["variants"]["cold"]["winter_work"] is True
    code, out, err = run(monkeypatch, capsys, "whatif", "--db", db, "--variant", "double:deminerz=2")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "variant double" in err and "deminerz" in err


def test_whatif_plans_budget_variants_at_the_pricing_files_prices(
        db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``--pricing``: a budget variant is planned at the file's prices (here a non-technical survey a million times
    dearer, in EUR, so that a lot costs more than the year's budget: refused naming each such lot, in EUR)."""
    from sapper.io.pricing import default_pricing_text

    prices = tmp_path / "prices.toml"
    prices.write_text(default_pricing_text().replace('currency = "USD"', 'currency = "EUR"')
                      .replace("amount = 1200.0", "amount = 1200000000.0"), encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "whatif", "--db", db, "--variant", "money:demining_budget=2m",
                         "--runs", "20", "--time-limit", "5", "--pricing", prices)
    assert code == 2 and out == ""
    assert "fault: lot nts H-1/1: costs 1,416,000,000 EUR, more than a year's demining budget" in err
    assert err.strip().splitlines()[-1].startswith("sapper: error [validation_error]: variant money:")
    assert "Traceback" not in err
