"""Compiling the register: the release milestone waits for inspection and acceptance after clearance."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import ValidationError
from sapper.plan.solve import SolveParams, solve
from sapper.scenario.compile import CompileParams, compile_problem

FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)


def _plan(lag: int) -> tuple[dict[str, int], dict[str, int]]:
    """Starts and ends (working days) of the tasks of one CHA blocking one road, planned greedily."""
    hazards = [HazardArea("H-1", HazardClass.CHA, FIELD, Evidence.DIRECT, land_use=LandUse.AGRICULTURAL,
                          expected_clearance_share=0.5),
               HazardArea("H-2", HazardClass.SHA, shapely.box(35.40, 51.40, 35.401, 51.401), Evidence.INDIRECT,
                          expected_clearance_share=0.0)]
    road = Asset("A-1", AssetType.ROAD, shapely.LineString([(35.299, 51.3005), (35.303, 51.3005)]),
                 DamageLevel.SEVERE, {Trade.ROAD: 50.0})
    teams = [DeminerTeam("S-1", "op", Method.SURVEY, 6, Point(35.3, 51.3), 20_000.0),
             DeminerTeam("M-1", "op", Method.MANUAL, 8, Point(35.3, 51.3), 180.0)]
    brigades = [BuilderBrigade("B-1", "con", Trade.ROAD, 25, Point(35.3, 51.3))]
    compiled = compile_problem(hazards, [road], teams, brigades, start_date=dt.date(2025, 4, 1),
                               params=CompileParams(inspection_lag_days=lag, demining_stand_down=None))
    result = solve(compiled.problem, params=SolveParams(engine="greedy"))
    assert result.schedule is not None
    names = [t.name for t in compiled.problem.tasks]
    starts = dict(zip(names, result.schedule.starts, strict=True))
    ends = {n: s + compiled.problem.tasks[i].modes[m].duration
            for i, (n, s, m) in enumerate(zip(names, result.schedule.starts, result.schedule.modes, strict=True))}
    return starts, ends


def test_release_waits_the_inspection_lag_after_clearance_and_builders_wait_for_it() -> None:
    """The released milestone comes `inspection_lag_days` after the last clearance lot; repair starts no earlier; an
    area released by survey alone has no lag."""
    starts, ends = _plan(12)
    last_clearance = max(e for n, e in ends.items() if n.startswith("clearance H-1/"))
    assert starts["released H-1"] >= last_clearance + 12
    assert min(s for n, s in starts.items() if n.startswith("repair A-1")) >= starts["released H-1"]
    assert starts["released H-2"] == max(e for n, e in ends.items() if n.startswith("ts H-2/"))
    no_lag, no_lag_ends = _plan(0)
    assert no_lag["released H-1"] == max(e for n, e in no_lag_ends.items() if n.startswith("clearance H-1/"))
    assert starts["released H-1"] - no_lag["released H-1"] >= 12


def test_a_negative_lag_is_refused() -> None:
    """The compile parameters refuse a negative inspection lag."""
    with pytest.raises(ValidationError, match="inspection_lag_days cannot be negative"):
        CompileParams(inspection_lag_days=-1)
