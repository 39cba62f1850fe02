"""Teams with capabilities: the plan chooses the pool per lot among capable ones; a borrowed role costs set-up."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import ValidationError
from sapper.plan import Mode, Problem, Resource, Schedule, Task, check_units
from sapper.plan.assign import assign_units
from sapper.plan.setups import per_change_setup
from sapper.plan.solve import SolveParams, solve
from sapper.scenario.compile import CompiledPlan, CompileParams, PoolPolicy, TaskKind, compile_problem

BASE = Point(35.3, 51.3)
START = dt.date(2025, 4, 1)


def _register() -> tuple[list[HazardArea], list[Asset], list[DeminerTeam], list[BuilderBrigade]]:
    """Two confirmed areas with clearance, a bridge over one; one survey team, two manual teams, a road brigade
    that can also build bridges and a bridge brigade."""
    hazards = [
        HazardArea(
            f"H-{k}",
            HazardClass.CHA,
            shapely.box(35.30 + k / 100, 51.30, 35.3015 + k / 100, 51.301),
            Evidence.DIRECT,
            land_use=LandUse.RESIDENTIAL,
            expected_clearance_share=0.5,
        )
        for k in (1, 2)
    ]
    bridge = Asset(
        "A-1",
        AssetType.BRIDGE,
        shapely.LineString([(35.309, 51.3005), (35.313, 51.3005)]),
        DamageLevel.SEVERE,
        {Trade.BRIDGE: 400.0},
    )
    teams = [
        DeminerTeam("S-1", "op", Method.SURVEY, 6, BASE, 20_000.0),
        DeminerTeam("M-1", "op", Method.MANUAL, 8, BASE, 180.0),
        DeminerTeam("M-2", "op", Method.MANUAL, 8, BASE, 180.0, capabilities=frozenset({Method.DOG})),
    ]
    brigades = [
        BuilderBrigade("B-1", "con", Trade.ROAD, 25, BASE, trades=frozenset({Trade.BRIDGE})),
        BuilderBrigade("B-2", "con", Trade.BRIDGE, 25, BASE),
    ]
    return hazards, [bridge], teams, brigades


def _compile(pools: PoolPolicy, setup: int = 3) -> CompiledPlan:
    hazards, assets, teams, brigades = _register()
    return compile_problem(
        hazards,
        assets,
        teams,
        brigades,
        start_date=START,
        params=CompileParams(pools=pools, role_change_days=setup, demining_stand_down=None, lot_max_days=10),
    )


def test_team_methods_default_to_manual_and_survey_and_the_register_can_name_others() -> None:
    """A team without capabilities can survey and clear by hand; named capabilities replace the default."""
    _, _, teams, brigades = _register()
    assert teams[0].methods == {Method.SURVEY, Method.MANUAL}
    assert teams[2].methods == {Method.MANUAL, Method.DOG}
    assert brigades[0].all_trades == {Trade.ROAD, Trade.BRIDGE} and brigades[1].all_trades == {Trade.BRIDGE}


def test_fixed_pools_are_one_per_method_and_trade() -> None:
    """Fixed pools: a clearance lot has one mode, on the manual pool; survey only on the survey pool."""
    c = _compile(PoolPolicy.FIXED)
    assert c.resource_names() == ["deminers:survey", "deminers:manual", "builders:road", "builders:bridge"]
    for task, info in zip(c.problem.tasks, c.info, strict=True):
        if info.kind is TaskKind.CLEARANCE:
            assert [m.name for m in task.modes] == ["manual"] and task.modes[0].setup == 0


def test_capability_pools_give_each_lot_a_mode_per_capable_pool_with_set_up_in_a_borrowed_role() -> None:
    """Capabilities: pools by kind of unit; a clearance lot can go to the survey team (3 days more: set-up) or either
    manual pool; a bridge lot to the road brigade that can build bridges (with set-up) or the bridge brigade."""
    c = _compile(PoolPolicy.CAPABILITIES)
    names = c.resource_names()
    assert names == [
        "deminers:survey+manual",
        "deminers:manual+dog",
        "deminers:manual+survey",
        "builders:road+bridge",
        "builders:bridge",
    ]
    assert c.units["deminers:manual+dog"] == ("M-2",)
    for task, info in zip(c.problem.tasks, c.info, strict=True):
        pools = [names[m.demands[0][0]] for m in task.modes if m.demands]
        if info.kind is TaskKind.CLEARANCE:  # residential land: manual or dog; no team has dog as its own method
            assert sorted(pools) == ["deminers:manual+dog", "deminers:manual+survey", "deminers:survey+manual"]
            own = {m.demands[0][0]: m for m in task.modes}
            borrowed = own[names.index("deminers:survey+manual")]
            assert borrowed.setup == 3
            assert borrowed.duration == own[names.index("deminers:manual+survey")].duration + 3
        if info.kind in (TaskKind.NTS, TaskKind.TS):  # M-2's register names no survey
            assert sorted(pools) == ["deminers:manual+survey", "deminers:survey+manual"]
        if info.kind is TaskKind.REPAIR:
            assert sorted(pools) == ["builders:bridge", "builders:road+bridge"]


def test_capabilities_put_the_idle_survey_team_on_clearance_and_finish_sooner() -> None:
    """Same register, same engine: with capabilities the survey team takes clearance lots once survey is done, the
    plan's weighted completion is lower, and every unit's lots pass the independent unit check."""
    values = {}
    for pools in PoolPolicy:
        c = _compile(pools)
        result = solve(c.problem, priority=c.priority, params=SolveParams(engine="greedy"))
        assert result.schedule is not None and result.objective is not None
        values[pools] = result.objective
        units = [c.units[r.name] for r in c.problem.resources]
        assigned = assign_units(c.problem, result.schedule, units)
        assert (
            check_units(c.problem, result.schedule, assigned, roles=c.roles, home=c.home, setup=c.role_change_days)
            == []
        )
        if pools is PoolPolicy.CAPABILITIES:
            on_clearance = {u for j, info in enumerate(c.info) if info.kind is TaskKind.CLEARANCE for u in assigned[j]}
            assert "S-1" in on_clearance
    assert values[PoolPolicy.CAPABILITIES] < values[PoolPolicy.FIXED]


def test_the_checker_rejects_a_lot_on_a_team_without_the_method() -> None:
    """A dog lot given to M-1 (manual and survey only) is an error naming the unit and the role."""
    c = _compile(PoolPolicy.CAPABILITIES)
    j = next(j for j, info in enumerate(c.info) if info.kind is TaskKind.CLEARANCE)
    task = c.problem.tasks[j]
    # No dog pool is rated (no team has dog as its own method), so forge a dog-role mode for the check.
    forged = c.problem.replace(
        tasks=tuple(
            Task(t.name, (*t.modes, Mode(t.modes[0].duration, t.modes[0].demands, "dog")), t.weight, t.release)
            if k == j
            else t
            for k, t in enumerate(c.problem.tasks)
        )
    )
    result = solve(c.problem, priority=c.priority, params=SolveParams(engine="greedy"))
    assert result.schedule is not None
    modes = list(result.schedule.modes)
    modes[j] = len(task.modes)
    assigned = [
        list(x) for x in assign_units(c.problem, result.schedule, [c.units[r.name] for r in c.problem.resources])
    ]
    assigned[j] = ["M-1"]
    faults = check_units(
        forged,
        Schedule(result.schedule.starts, tuple(modes)),
        assigned,
        roles=c.roles,
        home=c.home,
        setup=c.role_change_days,
    )
    assert any("M-1, which cannot work in role dog" in str(f) for f in faults)


def test_the_checker_rejects_a_borrowed_role_without_set_up() -> None:
    """The survey team's clearance lot in the own-role mode (no set-up) right after its survey lot is an error; the
    borrowed-role mode, which carries the set-up, passes."""
    c = _compile(PoolPolicy.CAPABILITIES)
    names = c.resource_names()
    survey_pool = names.index("deminers:survey+manual")
    manual_pool = names.index("deminers:manual+survey")
    j = next(j for j, info in enumerate(c.info) if info.kind is TaskKind.CLEARANCE)
    modes = c.problem.tasks[j].modes
    own = next(k for k, m in enumerate(modes) if m.demands[0][0] == manual_pool)
    borrowed = next(k for k, m in enumerate(modes) if m.demands[0][0] == survey_pool)
    n = len(c.problem.tasks)
    starts = [0] * n
    chosen = [0] * n
    starts[j] = 0
    assigned: list[tuple[str, ...]] = [()] * n
    for k in (own, borrowed):
        chosen[j] = k
        assigned[j] = ("S-1",)
        faults = check_units(
            c.problem,
            Schedule(tuple(starts), tuple(chosen)),
            assigned,
            roles=c.roles,
            home=c.home,
            setup=c.role_change_days,
        )
        if k == own:
            assert [f.reason for f in faults] == [
                "S-1 takes up role manual (its own is survey) with 0 periods of set-up, fewer than 3"
            ]
        else:
            assert faults == []


def test_cpsat_plans_the_capability_problem_and_its_bound_holds() -> None:
    """CP-SAT on the small capability problem: a checked plan no worse than the greedy one, its units pass the unit
    check, and the lower bound stays at or below the objective."""
    c = _compile(PoolPolicy.CAPABILITIES)
    greedy = solve(c.problem, priority=c.priority, params=SolveParams(engine="greedy"))
    result = solve(c.problem, priority=c.priority, params=SolveParams(time_limit_s=5, workers=1))
    assert result.schedule is not None and result.objective is not None and greedy.objective is not None
    assert result.objective <= greedy.objective
    assert result.lower_bound is not None and result.lower_bound <= result.objective
    assigned = assign_units(c.problem, result.schedule, [c.units[r.name] for r in c.problem.resources])
    assert check_units(c.problem, result.schedule, assigned, roles=c.roles, home=c.home, setup=c.role_change_days) == []


def test_a_mode_whose_set_up_exceeds_its_duration_is_refused() -> None:
    """Set-up is part of a mode's duration: more set-up than duration is a fault naming the task."""
    with pytest.raises(ValidationError, match=r"mode 0 has set-up 4 outside 0\.\.duration"):
        Problem((Resource("r", 1),), (Task("t", (Mode(3, ((0, 1),), "manual", setup=4),)),), (), 10)
    with pytest.raises(ValidationError, match="role_change_days cannot be negative"):
        CompileParams(role_change_days=-1)


def test_set_up_is_paid_exactly_where_a_units_role_changes_for_teams_and_brigades() -> None:
    """Solved by capabilities, then set-up per change of role (``plan.setups``): on every unit, a lot carries set-up
    exactly when its role is borrowed and differs from the unit's previous lot's; the road brigade that also builds
    bridges does several bridge lots in a row and sets up once for them (a bridge of 2,000 builder-days: 8 lots)."""
    hazards, (bridge,), teams, brigades = _register()
    c = compile_problem(hazards, [dataclasses.replace(bridge, repair_work={Trade.BRIDGE: 2000.0})], teams, brigades,
                        start_date=START, params=CompileParams(pools=PoolPolicy.CAPABILITIES, role_change_days=3,
                                                               demining_stand_down=None, lot_max_days=10))
    result = solve(c.problem, priority=c.priority, params=SolveParams(engine="greedy"))
    assert result.schedule is not None
    units = [c.units[r.name] for r in c.problem.resources]
    out = per_change_setup(c.problem, result.schedule, units, roles=c.roles, home=c.home, setup=c.role_change_days)
    assert out.applied and out.continued > 0
    lots: dict[str, list[tuple[int, str, int]]] = {}
    for j, task in enumerate(out.problem.tasks):
        mode = task.modes[out.schedule.modes[j]]
        for u in out.assigned[j]:
            lots.setdefault(u, []).append((out.schedule.starts[j], mode.name, mode.setup))
    for u, mine in lots.items():
        prev = None
        for _, role, set_up in sorted(mine):
            assert set_up == (c.role_change_days if role != c.home[u] and role != prev else 0), (u, role, prev)
            prev = role
    bridge_by_b1 = [x for x in lots.get("B-1", []) if x[1] == "bridge"]
    assert len(bridge_by_b1) >= 2 and sum(x[2] for x in bridge_by_b1) == c.role_change_days
