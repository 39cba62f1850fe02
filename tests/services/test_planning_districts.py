"""Districts for the neighbourhood search: each task gets the map cell of its hazard area or asset."""

from __future__ import annotations

import datetime as dt

import shapely
from shapely.geometry import Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.scenario.compile import compile_problem
from sapper.services.planning import DISTRICT_CELL_DEG, districts

BASE = Point(35.0, 50.0)


def test_tasks_of_one_place_share_a_district_and_far_places_do_not() -> None:
    """Two areas close together share a district, a third one a degree away has its own; milestones follow."""
    hazards = [HazardArea("H-1", HazardClass.SHA, shapely.box(35.01, 50.01, 35.012, 50.011), Evidence.INDIRECT),
               HazardArea("H-2", HazardClass.SHA, shapely.box(35.02, 50.01, 35.022, 50.011), Evidence.INDIRECT),
               HazardArea("H-3", HazardClass.SHA, shapely.box(36.01, 51.01, 36.012, 51.011), Evidence.INDIRECT)]
    assets = [Asset("A-1", AssetType.HOUSE, Point(36.011, 51.0105), DamageLevel.MODERATE, {Trade.BUILDING: 50.0})]
    teams = [DeminerTeam("T-S", "op", Method.SURVEY, 4, BASE, 8000.0),
             DeminerTeam("T-M", "op", Method.MANUAL, 8, BASE, 300.0)]
    brigades = [BuilderBrigade("B-1", "con", Trade.BUILDING, 10, BASE)]
    compiled = compile_problem(hazards, assets, teams, brigades, start_date=dt.date(2025, 6, 2))
    groups = districts(compiled, hazards, assets)
    assert len(groups) == len(compiled.problem.tasks) and DISTRICT_CELL_DEG < 1
    of = {}
    for info, g in zip(compiled.info, groups, strict=True):
        of.setdefault(info.hazard_id or info.asset_id, set()).add(g)
    assert all(len(v) == 1 for v in of.values())  # every task of an area (or asset) in the area's district
    assert of["H-1"] == of["H-2"] != of["H-3"] == of["A-1"]
    assert min(groups) >= 0
