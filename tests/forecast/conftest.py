"""A small programme built in code: three hazard areas (survey, clearance lots, release) and two assets whose repair
waits for the areas' release, on survey, manual, dog and road pools with a winter outage; and the README tour's
register (synthetic examples), planned, with a day of progress, re-planned."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest

from sapper.cli import main
from sapper.domain.hazards import Evidence, HazardClass
from sapper.forecast import ForecastTasks, WorkKind
from sapper.plan import Mode, Precedence, Problem, Resource, Task
from sapper.plan.evolve import decode

GROUPS = ("survey", "manual", "dog", "road")
SHA = (HazardClass.SHA, Evidence.INDIRECT)
CHA = (HazardClass.CHA, Evidence.DIRECT)


def programme(*, lots: int = 3, winter: bool = True) -> tuple[Problem, ForecastTasks]:
    """The problem and its forecast input; the plan's order is the serial scheme's plan of the topological order."""
    resources = (Resource("survey", 2), Resource("manual", 2, ((40, 60, 2),) if winter else ()), Resource("dog", 1),
                 Resource("road", 1))
    tasks: list[Task] = []
    kind, group, unit, base, hazard, asset = [], [], [], [], [], []
    precedences: list[Precedence] = []
    released = []
    classes = (SHA, CHA, SHA)
    shares = (0.05, 0.35, 0.05)

    def add(task: Task, k: WorkKind, g: int, u: int, b: float, h: int, a: int) -> int:
        tasks.append(task)
        kind.append(int(k))
        group.append(g)
        unit.append(u)
        base.append(b)
        hazard.append(h)
        asset.append(a)
        return len(tasks) - 1

    for h in range(3):
        s = add(Task(f"survey {h}", (Mode(4, ((0, 1),), "survey"),)), WorkKind.SURVEY, 0, h % 2, 3.5, h, -1)
        clear = []
        for k in range(lots):
            pool = 1 if k % 2 == 0 else 2
            j = add(Task(f"clearance {h}/{k}", (Mode(6, ((pool, 1),), GROUPS[pool]),)), WorkKind.CLEARANCE, pool,
                    2 + (k // 2) % 2 if pool == 1 else 4, 5.5, h, -1)
            precedences.append(Precedence(s, j))
            clear.append(j)
        r = add(Task(f"released {h}", (Mode(0),), weight=1), WorkKind.MILESTONE, -1, -1, 0.0, h, -1)
        precedences.extend(Precedence(j, r) for j in clear)
        released.append(r)
    restored = []
    for a, needs in enumerate(((0, 1), (2,))):
        rep = [add(Task(f"repair {a}/{k}", (Mode(5, ((3, 1),), "road"),)), WorkKind.REPAIR, 3, 5, 4.5, -1, a)
               for k in range(2)]
        for j in rep:
            precedences.extend(Precedence(released[h], j) for h in needs)
        m = add(Task(f"restored {a}", (Mode(0),), weight=2), WorkKind.MILESTONE, -1, -1, 0.0, -1, a)
        precedences.extend(Precedence(j, m) for j in rep)
        restored.append(m)
    problem = Problem(resources, tuple(tasks), tuple(precedences), 400)
    modes = (0,) * len(tasks)
    plan = decode(problem, list(problem.topological_order), modes, improve=False)
    assert plan is not None
    rank = np.empty(len(tasks), dtype=np.int64)
    rank[list(problem.topological_order)] = np.arange(len(tasks))
    order = np.lexsort((rank, np.array(plan.starts)))
    return problem, ForecastTasks(
        kind=np.array(kind, dtype=np.int64), group=np.array(group, dtype=np.int64),
        unit=np.array(unit, dtype=np.int64), base_days=np.array(base), hazard=np.array(hazard, dtype=np.int64),
        asset=np.array(asset, dtype=np.int64), groups=GROUPS, units=6, hazard_class=classes,
        planned_share=np.array(shares), hazard_area_m2=np.array([1e5, 2e5, 5e4]),
        released=np.array(released, dtype=np.int64), asset_class=("road", "school"),
        restored=np.array(restored, dtype=np.int64), modes=modes, order=order.astype(np.int64),
        weather_groups=frozenset({"survey", "manual", "dog"}))


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _sapper(*args: str | Path) -> None:
    """``sapper args`` through the real entry point; fails the test on a non-zero exit."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.setattr(sys, "argv", ["sapper", *map(str, args)])
        with pytest.raises(SystemExit) as exited:
            main()
    assert not exited.value.code, (args, err.getvalue())


@pytest.fixture(scope="session")
def replanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tour's register: planned on fixed pools, a day of clearance reported and applied, re-planned (a plan by
    capabilities, the default, is :func:`replanned_by_capabilities`)."""
    return _replanned(tmp_path_factory, "fixed")


@pytest.fixture(scope="session")
def replanned_by_capabilities(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tour's register: planned by capabilities (the default pools), a day of clearance applied, re-planned."""
    return _replanned(tmp_path_factory, "capabilities")


def _replanned(tmp_path_factory: pytest.TempPathFactory, pools: str) -> Path:
    db = tmp_path_factory.mktemp(f"replanned-{pools}") / "my.gpkg"
    _sapper("init", "--db", db, "--start-date", "2026-11-02")
    _sapper("import", "hazards", EXAMPLES / "survey.geojson", "--db", db)
    _sapper("import", "assets", EXAMPLES / "damage.csv", "--crs", "EPSG:4326", "--db", db)
    _sapper("import", "workforce", EXAMPLES / "teams.csv", "--db", db)
    _sapper("plan", "--db", db, "--engine", "greedy", "--pools", pools)
    _sapper("import", "field", EXAMPLES / "odk_clearance.zip", "--db", db)
    _sapper("field", "review", "1", "--actor", "IM officer", "--db", db)
    _sapper("field", "approve", "1", "--actor", "IM officer", "--db", db)
    _sapper("field", "apply", "--db", db)
    _sapper("replan", "--db", db, "--time-limit", "5")
    return db
