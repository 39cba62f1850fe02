"""The unit-by-unit decoding for a re-plan (``plan.unitlist``): each unit's role at time 0, running lots kept on
their unit, soft anchors and the previous plan's slots held; and ``check_units`` with the roles at time 0."""

from __future__ import annotations

import dataclasses
import random

from sapper.plan import Mode, Precedence, Problem, Resource, Schedule, Task, check, check_units
from sapper.plan.setups import with_continuing_modes
from sapper.plan.solution import moved_tasks
from sapper.plan.unitlist import Hold, unit_list_schedule
from tests.plan.test_unitlist import SETUP, _capability_problem

ROLES = {"T-1": frozenset({"manual", "dog", "survey"}), "T-2": frozenset({"manual", "dog", "survey"})}
HOME = {"T-1": "survey", "T-2": "survey"}


def _lots(*specs: tuple[str, int, int, int | None]) -> Problem:
    """Lots (role, days of work, release, anchor) on a pool of two survey teams, set-up on the borrowed ones."""
    tasks = tuple(Task(f"lot {k}", (Mode(d + (0 if role == "survey" else SETUP), ((0, 1),), role,
                                         0 if role == "survey" else SETUP),), 1, release, anchor=anchor)
                  for k, (role, d, release, anchor) in enumerate(specs))
    return Problem((Resource("survey", 2),), tasks, (), 200)


def test_check_units_knows_the_role_a_unit_is_in_at_the_start() -> None:
    """A manual lot at 0 without set-up on a survey team passes only when the team is set up in manual at 0."""
    exact, cont = with_continuing_modes(_lots(("manual", 5, 0, None)))
    s = Schedule((0,), (cont[0, 0],))
    args = {"roles": ROLES, "home": HOME, "setup": SETUP}
    assert check_units(exact, s, [("T-1",)], **args)  # type: ignore[arg-type]
    assert check_units(exact, s, [("T-1",)], **args, initial={"T-1": "dog"})  # type: ignore[arg-type]
    assert check_units(exact, s, [("T-1",)], **args, initial={"T-2": "manual"})  # type: ignore[arg-type]
    assert check_units(exact, s, [("T-1",)], **args, initial={"T-1": "manual"}) == []  # type: ignore[arg-type]


def _decode(problem: Problem, order: Schedule, **kw: object) -> tuple[Problem, Schedule, tuple[tuple[str, ...], ...]]:
    out = unit_list_schedule(problem, order, [("T-1", "T-2")], roles=ROLES, home=HOME, setup=SETUP,
                             **kw)  # type: ignore[arg-type]
    assert out is not None
    exact, _ = with_continuing_modes(problem)
    s, assigned = out
    initial = kw.get("initial")
    assert check(exact, s) == []
    assert check_units(exact, s, assigned, roles=ROLES, home=HOME, setup=SETUP,
                       initial=initial) == []  # type: ignore[arg-type]
    return exact, s, assigned


def test_a_unit_set_up_at_the_start_continues_its_role_and_a_fixed_lot_keeps_its_unit() -> None:
    """T-2 is set up in manual at 0: its manual lot takes no set-up (both decoders); fixed on T-1, it sets up."""
    p = _lots(("manual", 5, 0, None))
    for soft in (False, True):
        exact, s, assigned = _decode(p, Schedule((0,), (0,)), initial={"T-2": "manual"}, soft_anchors=soft)
        assert assigned == (("T-2",),) and s.ends(exact) == [5]
        exact, s, assigned = _decode(p, Schedule((0,), (0,)), initial={"T-2": "manual"}, soft_anchors=soft,
                                     fixed={0: ("T-1",)})
        assert assigned == (("T-1",),) and s.ends(exact) == [5 + SETUP]


def test_a_soft_anchor_is_kept_where_it_can_be_and_placed_where_it_cannot() -> None:
    """Lot 1 follows lot 0 (ends at 5): anchored at 9 it starts at 9; anchored at 3 there is no plan with hard
    anchors, and with soft anchors it starts at 5, the earliest it can."""
    base = _lots(("survey", 5, 0, None), ("survey", 5, 0, 9))
    p = base.replace(precedences=(Precedence(0, 1),))
    _, s, _ = _decode(p, Schedule((0, 9), (0, 0)))
    assert s.starts == (0, 9)
    _, s, _ = _decode(p, Schedule((0, 9), (0, 0)), soft_anchors=True)
    assert s.starts == (0, 9)
    early = p.replace(tasks=(p.tasks[0], dataclasses.replace(p.tasks[1], anchor=3)))
    assert unit_list_schedule(early, Schedule((0, 3), (0, 0)), [("T-1", "T-2")], roles=ROLES, home=HOME,
                              setup=SETUP) is None
    _, s, _ = _decode(early, Schedule((0, 3), (0, 0)), soft_anchors=True)
    assert s.starts == (0, 5)


def test_an_anchored_lot_goes_to_its_previous_unit_first() -> None:
    """Both teams are free at 4: the anchored lot goes to T-2, the unit it had (``prefer``), not to T-1."""
    p = _lots(("survey", 5, 0, 4))
    _, s, assigned = _decode(p, Schedule((4,), (0,)), soft_anchors=True, prefer=[("T-2",)])
    assert s.starts == (4,) and assigned == (("T-2",),)


def _one_team(*specs: tuple[str, int, int, int | None]) -> Problem:
    p = _lots(*specs)
    return p.replace(resources=(Resource("survey", 1),))


def test_a_held_slot_is_kept_from_a_lot_that_must_move_unless_waiting_costs_more_than_the_patience() -> None:
    """One team. Lot 1 held at [5, 10) (its anchor and its previous unit); lot 0 (6 days, released at 0) is placed
    first: it waits until 10 rather than take lot 1's slot; without the hold it takes [0, 6) and lot 1 moves; with a
    patience of 2 it takes the slot too (waiting would cost 10 periods), and lot 1 moves."""
    p = _one_team(("survey", 6, 0, None), ("survey", 5, 0, 5))
    order = Schedule((0, 5), (0, 0))

    def run(**kw: object) -> tuple[Problem, Schedule]:
        out = unit_list_schedule(p, order, [("T-1",)], roles=ROLES, home=HOME, setup=SETUP,
                                 soft_anchors=True, prefer=[(), ("T-1",)], **kw)  # type: ignore[arg-type]
        assert out is not None
        exact, _ = with_continuing_modes(p)
        assert check(exact, out[0]) == []
        assert check_units(exact, out[0], out[1], roles=ROLES, home=HOME, setup=SETUP) == []
        return exact, out[0]

    exact, s = run(holds={1: Hold(("T-1",), 0)})
    assert s.starts == (10, 5) and moved_tasks(exact, s) == []
    exact, s = run()
    assert s.starts == (0, 6) and moved_tasks(exact, s) == [1]
    exact, s = run(holds={1: Hold(("T-1",), 0)}, patience=2)
    assert s.starts == (0, 6) and moved_tasks(exact, s) == [1]
    exact, s = run(holds={1: Hold(("T-1",), 0)}, patience=[20, 20])
    assert s.starts == (10, 5)


def _previous(seed: int) -> tuple[Problem, Problem, Schedule, tuple[tuple[str, ...], ...], list[tuple[str, ...]],
                                    dict[str, frozenset[str]], dict[str, str]]:
    """A random problem by capabilities (tests/plan/test_unitlist.py) decoded unit by unit: the previous plan."""
    p, units, roles, home = _capability_problem(seed)
    order = Schedule(tuple(range(len(p.tasks))), (0,) * len(p.tasks))
    out = unit_list_schedule(p, order, units, roles=roles, home=home, setup=SETUP)
    assert out is not None
    exact, _ = with_continuing_modes(p)
    return p, exact, out[0], out[1], units, roles, home


def _replan(p: Problem, s: Schedule, assigned: tuple[tuple[str, ...], ...]) -> tuple[Problem, dict[int, Hold]]:
    """``p`` with every lot anchored at its start in ``s``, and its units and mode held."""
    tasks = tuple(dataclasses.replace(t, anchor=s.starts[j]) if assigned[j] else t for j, t in enumerate(p.tasks))
    return p.replace(tasks=tasks, move_cost=10), {j: Hold(assigned[j], s.modes[j]) for j in range(len(p.tasks))
                                                  if assigned[j]}


def test_a_previous_plan_decoded_again_with_soft_anchors_moves_no_lot() -> None:
    """Random problems by capabilities: the previous plan (decoded unit by unit, lots without set-up where a unit
    continues its role) re-decoded with its starts as soft anchors, its units and modes held, moves no lot, ends no
    lot later, and passes both checkers."""
    for seed in range(25):
        p, exact, s, assigned, units, roles, home = _previous(seed)
        anchored, holds = _replan(p, s, assigned)
        out = unit_list_schedule(anchored, s, units, roles=roles, home=home, setup=SETUP, soft_anchors=True,
                                 holds=holds, prefer=assigned)
        assert out is not None, seed
        again, units_again = out
        exact2, _ = with_continuing_modes(anchored)
        assert check(exact2, again) == [], seed
        assert check_units(exact2, again, units_again, roles=roles, home=home, setup=SETUP) == [], seed
        assert moved_tasks(exact2, again) == [], seed
        assert all(a <= b for a, b in zip(again.ends(exact2), s.ends(exact), strict=True)), seed


def test_a_late_lot_moves_and_the_plan_still_passes_both_checkers() -> None:
    """Random problems: one lot's predecessors end later than planned (its release pushed past its start); the
    soft decoding places everything, passes both checkers, and keeps most lots at their anchors."""
    rng = random.Random(7)
    for seed in range(25):
        p, _, s, assigned, units, roles, home = _previous(seed)
        anchored, holds = _replan(p, s, assigned)
        lots = [j for j in range(len(p.tasks)) if assigned[j]]
        late = rng.choice(lots)
        tasks = list(anchored.tasks)
        tasks[late] = dataclasses.replace(tasks[late], release=s.starts[late] + 3)
        problem = anchored.replace(tasks=tuple(tasks))
        for wait in (None, 0, 5):
            out = unit_list_schedule(problem, s, units, roles=roles, home=home, setup=SETUP, soft_anchors=True,
                                     holds=holds, prefer=assigned, patience=wait)
            assert out is not None, seed
            exact, _ = with_continuing_modes(problem)
            assert check(exact, out[0]) == [], seed
            assert check_units(exact, out[0], out[1], roles=roles, home=home, setup=SETUP) == [], seed
            assert late in moved_tasks(exact, out[0])
