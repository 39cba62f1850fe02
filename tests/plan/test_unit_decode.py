"""The compiled unit-by-unit decoding (``evolve.UnitDecoder``): the same plans as ``unitlist.unit_list_schedule``
(starts, modes and units), with and without filling idle gaps; and the search that judges its orders by it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sapper.errors import PlanError, ValidationError
from sapper.plan import Mode, Precedence, Problem, Resource, Schedule, Task, check, check_units, objective_value
from sapper.plan.alns import AlnsParams, SubOutcome, alns
from sapper.plan.evolve import UnitDecoder
from sapper.plan.problem import Units
from sapper.plan.solve import Engine, SolveParams, solve
from sapper.plan.unitlist import unit_list_schedule

from .test_unitlist import ROLES, SETUP, _back_to_back, _capability_problem, _chain, _gap_problem


def _same(problem: Problem, schedule: Schedule, units: Units, *, fill_gaps: bool,
          order: np.ndarray | None = None) -> None:
    """The compiled decoding of ``schedule``'s order of starts (or ``order``) is the Python decoding's, exactly."""
    decoder = UnitDecoder(problem, units)
    if order is None:
        order = decoder.order_of_starts(schedule.starts)
    else:  # the order as starts: each task's place in it
        place = [0] * len(order)
        for k, j in enumerate(order.tolist()):
            place[j] = k
        schedule = Schedule(tuple(place), schedule.modes)
    want = unit_list_schedule(problem, schedule, [list(u) for u in units.units], roles=units.roles,
                              home=units.home, setup=units.setup, fill_gaps=fill_gaps)
    got = decoder.decode(order, fill_gaps=fill_gaps)
    assert (want is None) == (got is None)
    if want is None or got is None:
        return
    s, assigned = want
    assert got.schedule.starts == s.starts
    assert got.schedule.modes == s.modes
    assert got.assigned == assigned
    assert got.objective == objective_value(got.problem, s)
    assert check(got.problem, got.schedule) == []
    assert check_units(got.problem, got.schedule, got.assigned, roles=units.roles, home=units.home,
                       setup=units.setup) == []


def _one(home: str, pool: Resource | None = None) -> Units:
    return Units((("T-1",),), ROLES, {"T-1": home}, SETUP)


@pytest.mark.parametrize("fill_gaps", [False, True])
def test_the_fixtures_of_the_python_decoding_decode_the_same(fill_gaps: bool) -> None:
    """The small problems of tests/plan/test_unitlist.py: chains in borrowed roles, a stand-down, a gap, a lot
    that changes pool, a lot of two units and a milestone."""
    p = _chain(["manual", "manual", "dog"], "manual")
    _same(p, _back_to_back(p), _one("manual"), fill_gaps=fill_gaps)
    p = _chain(["manual", "manual", "manual", "dog"], "survey")
    _same(p, _back_to_back(p), _one("survey"), fill_gaps=fill_gaps)
    p = _chain(["manual", "manual"], "survey", pool=Resource("deminers", 1, ((8, 20, 1),)))
    _same(p, Schedule((0, 20), (0, 0)), _one("survey"), fill_gaps=fill_gaps)
    late = Problem((Resource("deminers", 1, ((8, 20, 1),)),),
                   (Task("lot", (Mode(5 + SETUP, ((0, 1),), "manual", SETUP),), 1, 21),), (), 100)
    _same(late, Schedule((21,), (0,)), _one("survey"), fill_gaps=fill_gaps)
    for b, c in ((30, 5), (16, 6)):
        g = _gap_problem(b, c)
        _same(g, Schedule((0, b, 40), (0, 0, 0)), _one("survey"), fill_gaps=fill_gaps)
    pools = (Resource("dog", 1), Resource("manual", 1))
    modes = (Mode(6, ((0, 1),), "dog"), Mode(8, ((1, 1),), "manual"))
    two = Problem(pools, (Task("a", modes, 1), Task("b", modes, 1)), (), 100)
    _same(two, Schedule((0, 6), (0, 0)), Units((("D-1",), ("M-1",)), {"D-1": frozenset({"dog", "manual"}),
                                                                     "M-1": frozenset({"manual"})},
                                               {"D-1": "dog", "M-1": "manual"}, SETUP), fill_gaps=fill_gaps)
    both = Problem((Resource("deminers", 2),),
                   (Task("a", (Mode(4, ((0, 1),), "manual"),), 1), Task("both", (Mode(5, ((0, 2),), "manual"),), 1),
                    Task("released", (Mode(0),), 1)), (Precedence(1, 2),), 50)
    roles = {u: frozenset({"manual"}) for u in ("T-1", "T-2")}
    _same(both, Schedule((0, 4, 9), (0, 0, 0)), Units((("T-1", "T-2"),), roles, dict.fromkeys(roles, "manual"),
                                                      SETUP), fill_gaps=fill_gaps)


def test_the_gap_fixture_fills_the_gap_only_when_asked() -> None:
    """The compiled decoding puts C into the gap between A and B with ``fill_gaps`` and after B without (as
    tests/plan/test_unitlist.py's Python decoding): it can tell the two rules apart."""
    g = _gap_problem(30, 5)
    decoder = UnitDecoder(g, _one("survey"))
    order = decoder.order_of_starts([0, 30, 40])
    with_gaps = decoder.decode(order, fill_gaps=True)
    without = decoder.decode(order)
    assert with_gaps is not None and without is not None
    assert with_gaps.schedule.starts == (0, 30, 8) and without.schedule.starts == (0, 30, 35)


@pytest.mark.parametrize("fill_gaps", [False, True])
def test_random_capability_problems_decode_the_same_as_in_python(fill_gaps: bool) -> None:
    """Random problems by capabilities (pools with a stand-down and an absence, lots of two units, lags, a
    milestone): the heuristic plan's order of starts and random orders decode to the same starts, modes and
    units as in Python, and pass both checkers."""
    for seed in range(30):
        p, units, roles, home = _capability_problem(seed)
        model = Units(tuple(units), roles, home, SETUP)
        s0 = solve(p, params=SolveParams(time_limit_s=0, engine=Engine.GREEDY)).schedule
        assert s0 is not None
        _same(p, s0, model, fill_gaps=fill_gaps)
        rng = np.random.default_rng(seed)
        decoder = UnitDecoder(p, model)
        for _ in range(3):
            order = decoder.order_of_priority(rng.random(len(p.tasks)))
            _same(p, s0, model, fill_gaps=fill_gaps, order=order)


def _random_problem(seed: int) -> tuple[Problem, Units]:
    """Pools of 1–3 units with random outages, roles drawn per unit, lots of 1–2 units on one or two pools, release
    dates, deadlines loose enough, precedences with lags, milestones."""
    rng = random.Random(seed)
    roles_all = ["a", "b", "c"]
    npools = rng.randint(1, 3)
    resources = []
    ids: list[tuple[str, ...]] = []
    can: dict[str, frozenset[str]] = {}
    home: dict[str, str] = {}
    for r in range(npools):
        cap = rng.randint(1, 3)
        out = ((s := rng.randint(0, 40), s + rng.randint(1, 8), rng.randint(1, cap)),) if rng.random() < 0.5 else ()
        resources.append(Resource(f"pool {r}", cap, out))
        own = roles_all[r % 3]
        ids.append(tuple(f"U{r}-{k}" for k in range(cap)))
        for u in ids[-1]:
            home[u] = own
            can[u] = frozenset({own, *rng.sample(roles_all, rng.randint(0, 2))})
    tasks = []
    for j in range(rng.randint(4, 16)):
        if rng.random() < 0.15:
            tasks.append(Task(f"m{j}", (Mode(0),), rng.randint(0, 3)))
            continue
        role = rng.choice(roles_all)
        d = rng.randint(1, 6)
        modes = []
        for r in range(npools):
            own = roles_all[r % 3]
            k = min(rng.choice((1, 1, 1, 2)), resources[r].capacity)
            demands: tuple[tuple[int, int], ...] = ((r, k),)
            if npools > 1 and rng.random() < 0.1:
                demands = ((r, 1), ((r + 1) % npools, 1))
            setup = 0 if own == role else SETUP
            modes.append(Mode(d + setup, demands, role, setup))
        tasks.append(Task(f"t{j}", tuple(modes), rng.randint(0, 4), rng.choice((0, 0, 3, 9))))
    n = len(tasks)
    precedences = tuple(Precedence(i, j, rng.choice((0, 0, 1, 3))) for j in range(n) for i in range(j)
                        if rng.random() < 0.15)
    return Problem(tuple(resources), tuple(tasks), precedences, 300), Units(tuple(ids), can, home, SETUP)


@pytest.mark.parametrize("fill_gaps", [False, True])
def test_property_random_problems_and_orders(fill_gaps: bool) -> None:
    """Property: on random problems and random orders the compiled decoding is the Python one, exactly."""
    for seed in range(150):
        p, units = _random_problem(seed)
        decoder = UnitDecoder(p, units)
        rng = np.random.default_rng(seed)
        dummy = Schedule((0,) * len(p.tasks), (0,) * len(p.tasks))
        for _ in range(2):
            _same(p, dummy, units, fill_gaps=fill_gaps, order=decoder.order_of_priority(rng.random(len(p.tasks))))


def test_orders_keep_predecessors_first_and_ties_by_index() -> None:
    p, units = _random_problem(3)
    decoder = UnitDecoder(p, units)
    from sapper.plan.setups import order_by_starts

    starts = [5 * (j % 3) for j in range(len(p.tasks))]
    assert decoder.order_of_starts(starts).tolist() == order_by_starts(p, starts)


def test_a_lead_weight_keeps_plans_valid_and_anchors_are_refused() -> None:
    """A set-up penalty in the ranking changes choices but every plan still passes both checkers; a re-plan's
    anchors are not for the compiled decoding."""
    for seed in range(20):
        p, units, roles, home = _capability_problem(seed)
        model = Units(tuple(units), roles, home, SETUP)
        decoder = UnitDecoder(p, model)
        plan = decoder.decode(decoder.order_of_priority([float(-j) for j in range(len(p.tasks))]), lead_weight=2.0,
                              fill_gaps=True)
        assert plan is not None
        assert check(plan.problem, plan.schedule) == []
        assert check_units(plan.problem, plan.schedule, plan.assigned, roles=roles, home=home, setup=SETUP) == []
    p = _chain(["survey", "survey"], "survey")
    anchored = p.replace(tasks=(p.tasks[0], Task("lot 1", p.tasks[1].modes, 1, anchor=9)))
    with pytest.raises(PlanError, match="anchors"):
        UnitDecoder(anchored, _one("survey"))


def test_units_are_validated() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        Units((("A",), ("A",)), {}, {}, 1)
    with pytest.raises(ValidationError, match="set-up"):
        Units((("A",),), {}, {}, -1)
    p, units = _random_problem(1)
    assert units.fits(p)
    assert not Units((), {}, {}, 1).fits(p)


def test_the_search_judges_orders_unit_by_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    """With units (and the serial scheme compiled) the search is the unit-level priority search alone: its first
    order is the incumbent's, decoded; the order it returns decodes in Python to the objective it reports, never
    above the incumbent's order's; the same seed gives the same search."""
    import sapper.plan.greedy as greedy

    monkeypatch.setattr(greedy, "COMPILED_MIN_TASKS", 0)
    p, units, roles, home = _capability_problem(4)
    model = Units(tuple(units), roles, home, SETUP)
    start = solve(p, params=SolveParams(time_limit_s=0, engine=Engine.GREEDY)).schedule
    assert start is not None
    nothing = lambda sub, hint, limit: SubOutcome(None, False)  # noqa: E731 - no sub-problem may run
    params = AlnsParams(unit_batch=4)
    found, stats = alns(p, start, nothing, time_limit_s=30, max_iterations=10, seed=2, params=params, units=model)
    assert found == start  # the pool-level plan is left as it is
    assert [o.name for o in stats.operators] == ["priority-search"]
    assert stats.unit_order is not None and stats.unit_objective is not None
    assert stats.unit_start_objective is not None and stats.unit_objective <= stats.unit_start_objective
    first = UnitDecoder(p, model).decode(UnitDecoder(p, model).order_of_starts(start.starts), fill_gaps=True)
    assert first is not None and first.objective == stats.unit_start_objective
    place = [0] * len(p.tasks)
    for k, j in enumerate(stats.unit_order):
        place[j] = k
    again = unit_list_schedule(p, Schedule(tuple(place), (0,) * len(place)), units, roles=roles, home=home,
                               setup=SETUP)
    assert again is not None and objective_value(first.problem, again[0]) == stats.unit_objective
    _, twice = alns(p, start, nothing, time_limit_s=30, max_iterations=10, seed=2, params=params, units=model)
    assert twice.unit_order == stats.unit_order
    _, threaded = alns(p, start, nothing, time_limit_s=30, max_iterations=10, seed=2, params=params, units=model,
                       threads=2)
    assert threaded.unit_order == stats.unit_order and threaded.unit_objective == stats.unit_objective


def test_without_units_the_search_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """``units=None`` (fixed pools): the same plan and record as before, nothing of the unit-level search."""
    import sapper.plan.greedy as greedy

    monkeypatch.setattr(greedy, "COMPILED_MIN_TASKS", 0)
    p, _units, _roles, _home = _capability_problem(4)
    start = solve(p, params=SolveParams(time_limit_s=0, engine=Engine.GREEDY)).schedule
    assert start is not None
    nothing = lambda sub, hint, limit: SubOutcome(None, False)  # noqa: E731
    found, stats = alns(p, start, nothing, time_limit_s=30, max_iterations=10, seed=2)
    again, other = alns(p, start, nothing, time_limit_s=30, max_iterations=10, seed=2, units=None)
    assert found == again and stats.unit_order is None and other.unit_order is None
    assert "priority-search" in [o.name for o in stats.operators] and len(stats.operators) > 1


def test_the_search_s_best_order_gives_its_plan_when_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Property: on problems by capabilities and several seeds, the best order the search reports decodes in Python
    (``unit_list_schedule``, as the planning service decodes it, without a lead weight) to the objective the search
    reports: the search judges its orders by the same decoding, so the plan kept is the plan found."""
    import sapper.plan.greedy as greedy

    monkeypatch.setattr(greedy, "COMPILED_MIN_TASKS", 0)
    leads: list[float] = []
    run = UnitDecoder.run

    def recorded(self: UnitDecoder, order: np.ndarray, *, lead_weight: float = 0.0,
                 fill_gaps: bool = False) -> object:
        leads.append(lead_weight)
        return run(self, order, lead_weight=lead_weight, fill_gaps=fill_gaps)

    monkeypatch.setattr(UnitDecoder, "run", recorded)
    nothing = lambda sub, hint, limit: SubOutcome(None, False)  # noqa: E731 - no sub-problem may run
    for case in range(6):
        p, units, roles, home = _capability_problem(case)
        model = Units(tuple(units), roles, home, SETUP)
        start = solve(p, params=SolveParams(time_limit_s=0, engine=Engine.GREEDY)).schedule
        assert start is not None
        exact = UnitDecoder(p, model).exact
        for seed in range(4):
            _, stats = alns(p, start, nothing, time_limit_s=30, max_iterations=25, seed=seed,
                            params=AlnsParams(unit_batch=4), units=model)
            assert stats.unit_order is not None
            place = [0] * len(p.tasks)
            for k, j in enumerate(stats.unit_order):
                place[j] = k
            again = unit_list_schedule(p, Schedule(tuple(place), (0,) * len(place)), units, roles=roles,
                                       home=home, setup=SETUP)
            assert again is not None
            assert objective_value(exact, again[0]) == stats.unit_objective, (case, seed)
    assert len(leads) > 100 and set(leads) == {0.0}  # every order judged as unit_list_schedule decodes it


def test_restarted_climbs_keep_the_best_plan_of_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``AlnsParams.unit_restart`` the search starts new climbs from the incumbent's order (decoded again) and
    reports the best plan of every climb: the least objective of all the orders it decoded."""
    import sapper.plan.greedy as greedy

    monkeypatch.setattr(greedy, "COMPILED_MIN_TASKS", 0)
    seen: list[tuple[tuple[int, ...], int]] = []
    run = UnitDecoder.run

    def recorded(self: UnitDecoder, order: np.ndarray, *, lead_weight: float = 0.0,
                 fill_gaps: bool = False) -> object:
        out = run(self, order, lead_weight=lead_weight, fill_gaps=fill_gaps)
        if out is not None and self.problem is p:  # not the warm-up's problem of one task
            seen.append((tuple(np.asarray(order).tolist()), out[-1]))
        return out

    p, units, roles, home = _capability_problem(9)  # one the search improves (460 to 399)
    monkeypatch.setattr(UnitDecoder, "run", recorded)
    nothing = lambda sub, hint, limit: SubOutcome(None, False)  # noqa: E731 - no sub-problem may run
    model = Units(tuple(units), roles, home, SETUP)
    start = solve(p, params=SolveParams(time_limit_s=0, engine=Engine.GREEDY)).schedule
    assert start is not None
    first = tuple(UnitDecoder(p, model).order_of_starts(start.starts).tolist())
    _, stats = alns(p, start, nothing, time_limit_s=30, max_iterations=40, seed=1,
                    params=AlnsParams(unit_batch=4, unit_restart=2), units=model)
    assert sum(1 for order, _ in seen if order == first) >= 2  # climbs started again from the incumbent's order
    assert stats.unit_start_objective is not None and stats.unit_objective < stats.unit_start_objective
    assert stats.unit_objective == min(value for _, value in seen)
    assert stats.unit_order is not None and (stats.unit_order, stats.unit_objective) in seen
