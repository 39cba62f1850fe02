"""`sapper demo` and `sapper plan` end to end on the kursk-border scenario, through the installed CLI.

One demo run (short solver limit) is shared by the module; every assertion reads its files with independent
tools: GDAL (pyogrio) for the GeoPackage, shapely and a UTM projection for release-before-repair.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from pyproj import Transformer

from sapper.plan.setups import with_continuing_modes
from sapper.plan.solution import Schedule, check, check_units
from sapper.scenario.compile import PoolPolicy, compile_problem, planned_mode
from sapper.store import open_store

SAPPER = str(Path(sys.executable).with_name("sapper"))
PLAN_KEYS = {"status", "objective", "lower_bound", "baseline_objective", "finish_date", "task_count", "solve_seconds"}


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SAPPER, *args], capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    proc = _run("demo", "--out", str(out), "--time-limit", "15")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def plan_doc(demo_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((demo_dir / "plan.json").read_text(encoding="utf-8"))
    return doc


def test_demo_writes_store_plan_and_report(demo_dir: Path) -> None:
    """The demo leaves the three files a user opens: the GeoPackage, plan.json and report.html."""
    for name in ("sapper.gpkg", "plan.json", "report.html"):
        assert (demo_dir / name).stat().st_size > 10_000, name
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in html
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")


def test_gdal_reads_the_store(demo_dir: Path) -> None:
    """GDAL lists the layers and reads hazard areas with their CRS; counts and workforce match the scenario."""
    db = demo_dir / "sapper.gpkg"
    layers = {row[0] for row in pyogrio.list_layers(db)}
    assert {"hazard_areas", "assets", "activities", "teams", "brigades"} <= layers
    info = pyogrio.read_info(db, layer="hazard_areas")
    assert info["crs"] == "EPSG:4326"
    assert info["features"] >= 2000
    assert pyogrio.read_info(db, layer="assets")["features"] >= 1000
    teams = pyogrio.read_dataframe(db, layer="teams", read_geometry=False)
    brigades = pyogrio.read_dataframe(db, layer="brigades", read_geometry=False)
    assert int(teams["size"].sum()) == 1000
    assert int(brigades["size"].sum()) == 5000


def test_plan_json_beats_greedy_above_the_bound(plan_doc: dict[str, Any]) -> None:
    """plan.json carries the plan keys; the optimised plan beats the greedy baseline and respects the bound."""
    assert plan_doc.keys() >= PLAN_KEYS
    assert plan_doc["status"] in ("feasible", "optimal")
    assert plan_doc["lower_bound"] <= plan_doc["objective"] < plan_doc["baseline_objective"]
    assert plan_doc["task_count"] == len(plan_doc["tasks"]) >= 10_000
    assert dt.date.fromisoformat(plan_doc["finish_date"]) > dt.date(2025, 6, 17)
    assert plan_doc["synthetic"] is True


def test_saved_plan_passes_the_independent_checker(demo_dir: Path) -> None:
    """The plan saved in the store, turned back into a schedule, passes the checker (precedence, capacity) and its
    units the unit check (roles, set-up exactly where a unit's role changes). By capabilities (the default), each
    lot's mode is its role on its pool, without set-up where the lot kept its unit's role (``plan.setups``)."""
    with open_store(demo_dir / "sapper.gpkg") as store:
        compiled = compile_problem(store.hazards(), store.assets(), store.teams(), store.brigades(),
                                   start_date=dt.date.fromisoformat(store.meta()["start_date"]))
        run = store.latest_plan()
    assert run is not None and run.params.pools is PoolPolicy.CAPABILITIES
    problem, cal = with_continuing_modes(compiled.problem)[0], compiled.calendar
    by_name = {t.task_id: t for t in run.tasks}
    starts, modes, assigned = [], [], []
    for j, task in enumerate(problem.tasks):
        saved = by_name[task.name]
        days = cal.index_of(saved.end_date) + 1 - cal.index_of(saved.start_date) if saved.resource else None
        m = planned_mode(problem, j, saved.mode, saved.resource, days)
        assert m is not None
        d = task.modes[m].duration
        assert days is None or d == days, task.name
        # Work tasks start on their start date; milestones sit at the end of the day before.
        starts.append(cal.index_of(saved.start_date) if d else cal.index_of(saved.end_date) + 1)
        modes.append(m)
        assigned.append(tuple(u for u in saved.unit_id.split(",") if u))
    schedule = Schedule(tuple(starts), tuple(modes))
    assert check(problem, schedule) == []
    assert check_units(problem, schedule, assigned, roles=compiled.roles, home=compiled.home,
                       setup=compiled.role_change_days) == []


def test_no_repair_before_its_land_is_released(demo_dir: Path) -> None:
    """Recomputed in UTM 36N with shapely: every repair starts after every hazard touching its work site."""
    with open_store(demo_dir / "sapper.gpkg") as store:
        hazards = store.hazards()
        assets = store.assets()
        run = store.latest_plan()
    assert run is not None
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32636", always_xy=True).transform
    local = [shapely.transform(h.geometry, utm, interleaved=False) for h in hazards]
    tree = shapely.STRtree(local)
    released = {t.hazard_id: t.end_date for t in run.tasks if t.kind == "released"}
    repair_starts: dict[str, list[dt.date]] = defaultdict(list)
    for t in run.tasks:
        if t.kind == "repair" and t.asset_id:
            repair_starts[t.asset_id].append(t.start_date)
    blocked = 0
    for a in assets:
        # 1 % inside the buffer: the planner's projection and UTM differ slightly.
        site = shapely.transform(a.geometry, utm, interleaved=False).buffer(a.buffer_m * 0.99)
        for i in tree.query(site, predicate="intersects"):
            blocked += 1
            rel = released[hazards[int(i)].id]
            assert all(s > rel for s in repair_starts[a.id]), (a.id, hazards[int(i)].id)
    assert blocked >= 100  # the scenario really couples the two


def test_plan_command_prints_json(demo_dir: Path, tmp_path: Path) -> None:
    """`sapper plan --json` on a copy of the store prints the plan keys and saves a second plan run."""
    db = tmp_path / "copy.gpkg"
    shutil.copy(demo_dir / "sapper.gpkg", db)
    proc = _run("plan", "--db", str(db), "--time-limit", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc.keys() >= PLAN_KEYS
    assert doc["lower_bound"] <= doc["objective"] <= doc["baseline_objective"]
    with open_store(db) as store:
        assert store.counts()["plan_runs"] == 2


def test_report_command_on_a_store_without_plan(tmp_path: Path) -> None:
    """`sapper report` on a freshly built scenario draws the register and says there is no plan yet."""
    db = tmp_path / "s.gpkg"
    assert _run("scenario", "build", "kursk-border", "--db", str(db), "--seed", "7").returncode == 0
    out = tmp_path / "r.html"
    proc = _run("report", "--db", str(db), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert "No plan has been made yet" in html and "SYNTHETIC DATA" in html
