"""``_decoded_by_units`` with the search's best order (``Result.unit_order``): decoded beside the solver's, kept when
it decodes better, named ``search``; ``plan_store`` passes the units only where the plan is decoded unit by unit."""

from __future__ import annotations

import dataclasses
import math

from sapper.plan import Schedule, check, check_units, objective_value
from sapper.plan.setups import order_by_starts, with_continuing_modes
from sapper.plan.solve import SolveParams, solve
from sapper.plan.unitlist import unit_list_schedule
from sapper.services.planning import _decoded_by_units, _decodes, _units_of
from tests.services.test_unit_decoding import _compiled


def test_the_search_order_is_decoded_and_kept_when_better() -> None:
    c = _compiled()
    result = solve(c.problem, priority=c.priority, params=SolveParams(engine="greedy"))
    assert result.schedule is not None and result.baseline is not None and result.heuristic is not None
    units = [c.units[r.name] for r in c.problem.resources]
    exact, _ = with_continuing_modes(c.problem)

    def value(schedule: Schedule) -> float:
        out = unit_list_schedule(c.problem, schedule, units, roles=c.roles, home=c.home, setup=c.role_change_days)
        assert out is not None
        return float(objective_value(exact, out[0]))

    # The solver's order poor (the tasks backwards, predecessors still first), the search's the best heuristic's.
    n = len(c.problem.tasks)
    poor = Schedule(tuple(range(n, 0, -1)), result.schedule.modes)
    order = tuple(order_by_starts(c.problem, result.heuristic.starts))
    posed = dataclasses.replace(result, schedule=poor, heuristic=None, unit_order=order)
    solver, search = value(poor), value(result.heuristic)
    assert search < solver  # the fixture tells the two apart
    decoded = _decoded_by_units(c, posed, units, math.inf)
    assert decoded is not None
    problem, schedule, assigned, source = decoded
    assert source == "search" and float(objective_value(problem, schedule)) == search
    assert check(problem, schedule) == []
    assert check_units(problem, schedule, assigned, roles=c.roles, home=c.home, setup=c.role_change_days) == []
    # Without the search's order only the solver's is decoded.
    alone = _decoded_by_units(c, dataclasses.replace(posed, unit_order=None), units, math.inf)
    assert alone is not None and alone[3] == "solver" and float(objective_value(alone[0], alone[1])) == solver


def test_the_units_passed_are_the_compiled_pools() -> None:
    c = _compiled()
    assert _decodes(c)
    model = _units_of(c)
    assert model.fits(c.problem) and model.setup == c.role_change_days
    assert model.units == tuple(tuple(c.units[r.name]) for r in c.problem.resources)
