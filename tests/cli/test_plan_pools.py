"""`sapper plan --pools capabilities`: the README tour's register planned with teams by capabilities; the summary
names the use of units; a bad pool name is one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sapper.store import open_store
from tests.cli.entry import run


@pytest.fixture
def db(tour: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(tour, tmp_path / "my.gpkg"))


def test_plan_with_capabilities_records_the_pools_and_the_use_of_units(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan's JSON has a utilisation object naming the pools; every planned lot is on a unit whose register
    lets it work in the lot's role; the plan records the pools, so a re-plan keeps them."""
    code, out, _ = run(
        monkeypatch,
        capsys,
        "plan",
        "--db",
        db,
        "--engine",
        "greedy",
        "--pools",
        "capabilities",
        "--role-change-days",
        "2",
        "--idle-weeks",
        "1",
        "--json",
    )
    assert code == 0
    use = json.loads(out)["utilisation"]
    assert use["pools"] == "capabilities" and use["idle_weeks"] == 1 and use["idle_days"] == 6
    assert {u["unit_id"] for u in use["units"]} >= {"T-SUR-1", "T-MAN-1", "B-ROAD-1"}
    assert {r["role"] for r in use["roles"]} >= {"survey", "manual"}
    # Set-up per change of role: each unit is charged the 2 days exactly once per change to a borrowed role.
    assert any(u["role_changes"] for u in use["units"])
    assert all(u["set_up_days"] == 2 * u["role_changes"] for u in use["units"]), use["units"]
    with open_store(db) as store:
        plan = store.latest_plan()
        teams = {t.id: t for t in store.teams()}
    assert plan is not None and plan.params.pools.value == "capabilities" and plan.params.role_change_days == 2
    for t in plan.tasks:
        for u in filter(None, t.unit_id.split(",")):
            if u in teams:
                assert t.mode in {m.value for m in teams[u].methods}, (t.task_id, u)


def test_plan_summary_names_the_use_of_units(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json the summary ends with the use of units per role and the idle units; the pools are by
    capabilities unless --pools fixed says otherwise."""
    for pools in ((), ("--pools", "fixed")):
        code, out, _ = run(monkeypatch, capsys, "plan", "--db", db, "--engine", "greedy", "--idle-weeks", "1", *pools)
        assert code == 0
        name = pools[1] if pools else "capabilities"
        assert f"use of units     : {name} pools; idle means 1 weeks or more in a row without work" in out
        assert "  deminers manual: " in out and "idle 1 weeks or more: " in out


def test_an_unknown_pool_policy_is_one_line(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--pools teams: exit 2, one line naming the accepted values; nothing planned."""
    with open_store(db) as store:
        before = store.latest_plan()
    code, _, err = run(monkeypatch, capsys, "plan", "--db", db, "--pools", "teams")
    assert code == 2
    assert err.strip().count("\n") == 0 and "pools must be one of fixed, capabilities, got 'teams'" in err
    with open_store(db) as store:
        after = store.latest_plan()
    assert before is not None and after is not None and after.id == before.id


def test_the_report_shows_the_use_of_units_by_role_and_the_idle_units(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The situation report's use-of-teams section has the plan's roles (units, borrowed, working days, share) and
    names the units idle for the plan's threshold, with their idle working days."""
    from sapper.report.i18n import Lang
    from sapper.report.sitdata import gather
    from sapper.report.sitrep import render_situation

    code, out, _ = run(
        monkeypatch,
        capsys,
        "plan",
        "--db",
        db,
        "--engine",
        "greedy",
        "--pools",
        "capabilities",
        "--idle-weeks",
        "1",
        "--json",
    )
    assert code == 0
    use = json.loads(out)["utilisation"]
    html = render_situation(gather(db, forecast_runs=0), lang=Lang.EN)
    section = html[html.index('<section id="utilisation"') : html.index("</section>", html.index('id="utilisation"'))]
    assert '<table id="roles">' in section and "survey teams" in section
    first = next(u for u in use["units"] if u["unit_id"] == use["idle"][0])
    assert "Units idle for 1 week or more in a row" in section
    assert f"{first['unit_id']} ({first['longest_idle_days']:,})" in section
