"""A forecast of a re-plan starts where the re-plan starts: from its as-of date, with the work left then.

On the README tour's register (synthetic examples) a forecast of the re-plan once put some areas and assets months
before the re-plan's own dates: the register was compiled again from the programme's start with all its work, so
finished lots ran again and the work left could start before the as-of date, in the past. Without learning from
progress, the forecast's median world is slower than the plan's figures (the defaults take 10 % off the planned
rates, add weather, accidents and damage), so every P50 must fall on or after the planned date, and nothing before
the as-of date."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

from sapper.cli import main
from sapper.services.forecast import forecast_plan
from sapper.store import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _sapper(*args: str | Path) -> None:
    """``sapper args`` through the real entry point; fails the test on a non-zero exit."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.setattr(sys, "argv", ["sapper", *map(str, args)])
        with pytest.raises(SystemExit) as exited:
            main()
    assert not exited.value.code, (args, err.getvalue())


@pytest.fixture(scope="module")
def replanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tour's register: planned, a day of clearance reported and applied, re-planned."""
    db = tmp_path_factory.mktemp("replanned") / "my.gpkg"
    _sapper("init", "--db", db, "--start-date", "2026-11-02")
    _sapper("import", "hazards", EXAMPLES / "survey.geojson", "--db", db)
    _sapper("import", "assets", EXAMPLES / "damage.csv", "--crs", "EPSG:4326", "--db", db)
    _sapper("import", "workforce", EXAMPLES / "teams.csv", "--db", db)
    _sapper("plan", "--db", db, "--engine", "greedy")
    _sapper("import", "field", EXAMPLES / "odk_clearance.zip", "--db", db)
    _sapper("field", "review", "1", "--actor", "IM officer", "--db", db)
    _sapper("field", "approve", "1", "--actor", "IM officer", "--db", db)
    _sapper("field", "apply", "--db", db)
    _sapper("replan", "--db", db, "--time-limit", "5")
    return db


def test_a_replan_is_forecast_from_its_as_of_date(replanned: Path) -> None:
    """Every area's and asset's P10 is on or after the re-plan's as-of date and, without learning, every P50 on or
    after the re-plan's own date."""
    with open_store(replanned) as store:
        plan = store.latest_plan()
        assert plan is not None and plan.params.replan is not None
        as_of = plan.params.replan.as_of
        f = forecast_plan(store, runs=600, seed=1, progress=False)
    dated = [(a.hazard_id, a.planned, a.release) for a in f.areas] + \
            [(a.asset_id, a.planned, a.restoration) for a in f.assets]
    assert len(dated) >= 8
    early = [(name, planned, p.p50) for name, planned, p in dated if p.p50 < planned]
    assert not early, f"P50 before the re-plan's date: {early}"
    assert min(p.p10 for _, _, p in dated) >= as_of
    assert f.overall.p10 >= as_of
