"""The plan kept by ``plan_run`` with teams by capabilities: the solver's and the heuristic's orders decoded unit by
unit (``plan.unitlist``), kept only when both independent checkers pass and it beats the shifted plan; set-up taken
in idle days counted in the utilisation."""

from __future__ import annotations

import dataclasses
import math

from sapper.domain.resources import Trade
from sapper.plan import Schedule, check, check_units, objective_value
from sapper.plan.setups import continued_lots, per_change_setup, with_continuing_modes
from sapper.plan.solve import SolveParams, solve
from sapper.scenario.compile import CompiledPlan, CompileParams, PoolPolicy, compile_problem
from sapper.services.planning import _decoded_by_units
from sapper.services.utilisation import utilisation
from tests.scenario.test_capabilities import START, _register


def _compiled() -> CompiledPlan:
    """The register of tests/scenario/test_capabilities.py with a bridge of 2,000 builder-days (8 lots)."""
    hazards, (bridge,), teams, brigades = _register()
    bridge = dataclasses.replace(bridge, repair_work={Trade.BRIDGE: 2000.0})
    return compile_problem(hazards, [bridge], teams, brigades, start_date=START,
                           params=CompileParams(pools=PoolPolicy.CAPABILITIES, role_change_days=3,
                                                demining_stand_down=None, lot_max_days=10))


def test_the_decoded_plan_passes_both_checkers_and_beats_what_it_must() -> None:
    c = _compiled()
    result = solve(c.problem, priority=c.priority, params=SolveParams(engine="greedy"))
    assert result.schedule is not None and result.heuristic is not None
    units = [c.units[r.name] for r in c.problem.resources]
    shifted = per_change_setup(c.problem, result.schedule, units, roles=c.roles, home=c.home,
                               setup=c.role_change_days)
    beat = float(objective_value(shifted.problem, shifted.schedule))
    decoded = _decoded_by_units(c, result, units, math.inf)
    assert decoded is not None
    problem, schedule, assigned, source = decoded
    assert source == "solver"  # a plan of the heuristics alone is its own heuristic plan: decoded once
    assert check(problem, schedule) == []
    assert check_units(problem, schedule, assigned, roles=c.roles, home=c.home, setup=c.role_change_days) == []
    value = float(objective_value(problem, schedule))
    kept = _decoded_by_units(c, result, units, beat)
    assert (kept is not None) == (value < beat)
    assert _decoded_by_units(c, result, units, value) is None  # only a plan below what it must beat is kept


def test_continued_counts_lots_whose_unit_was_already_in_the_borrowed_role() -> None:
    c = _compiled()
    result = solve(c.problem, priority=c.priority, params=SolveParams(engine="greedy"))
    assert result.schedule is not None
    units = [c.units[r.name] for r in c.problem.resources]
    out = per_change_setup(c.problem, result.schedule, units, roles=c.roles, home=c.home, setup=c.role_change_days)
    assert out.applied and out.continued > 0
    assert continued_lots(out.problem, out.schedule, out.assigned, c.home) == out.continued


def test_set_up_in_idle_days_counts_as_set_up_and_busy() -> None:
    """A lot in a borrowed role without set-up in its mode, after idle days: the unit set up in the open days
    before it, so the utilisation counts ``role_change_days`` of set-up and those days as busy."""
    c = _compiled()
    exact, cont = with_continuing_modes(c.problem)
    j, m_cont = next((j, mc) for (j, _), mc in cont.items()
                          if c.problem.resources[exact.tasks[j].modes[mc].demands[0][0]].name.startswith("builders")
                          and exact.tasks[j].modes[mc].name == "bridge")
    pool = c.problem.resources[exact.tasks[j].modes[m_cont].demands[0][0]].name
    unit = next(u for u in c.units[pool] if c.home[u] != "bridge")
    n = len(exact.tasks)
    starts = [0] * n
    modes = [0] * n
    starts[j], modes[j] = 20, m_cont
    assigned: list[tuple[str, ...]] = [()] * n
    assigned[j] = (unit,)
    use = utilisation(c, Schedule(tuple(starts), tuple(modes)), assigned, problem=exact)
    row = next(u for u in use.units if u.unit_id == unit)
    assert row.set_up_days == c.role_change_days
    assert row.role_changes == 1
    assert row.busy_days == exact.tasks[j].modes[m_cont].duration + c.role_change_days


def test_a_plan_decoded_unit_by_unit_keeps_time_back_for_it() -> None:
    """By capabilities the solver gets less of the limit (the decoding follows it within the limit); with fixed
    pools, no set-up, nothing is decoded and nothing more is kept back."""
    from sapper.services.planning import _decodes, solver_seconds

    hazards, assets, teams, brigades = _register()
    fixed = compile_problem(hazards, assets, teams, brigades, start_date=START,
                            params=CompileParams(pools=PoolPolicy.FIXED, demining_stand_down=None))
    assert _decodes(_compiled()) and not _decodes(fixed)
    plain = solver_seconds(60.0, elapsed_s=5.0, tasks=16_000)
    decoded = solver_seconds(60.0, elapsed_s=5.0, tasks=16_000, decodes=True)
    assert decoded < plain < 55.0
