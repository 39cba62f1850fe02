"""Set-up per change of role: the unit check wants it exactly where a unit's role changes; plans pay it only there."""

from __future__ import annotations

import dataclasses

from sapper.plan import Mode, Precedence, Problem, Resource, Schedule, Task, check, check_units, objective_value
from sapper.plan.greedy import earliest_start_bound
from sapper.plan.setups import continuing_mode, lower_bound, per_change_setup, with_continuing_modes
from tests.plan.conftest import random_problem

SETUP = 3
ROLES = {"T-1": frozenset({"manual", "dog", "survey"})}


def _chain(roles_and_setups: list[tuple[str, int]]) -> Problem:
    """One unit (T-1), a chain of 5-day lots, each in the role given with the set-up given; the last weighted."""
    n = len(roles_and_setups)
    tasks = tuple(
        Task(f"lot {k}", (Mode(5 + su, ((0, 1),), role, su),), weight=1 if k == n - 1 else 0)
        for k, (role, su) in enumerate(roles_and_setups)
    )
    return Problem((Resource("deminers", 1),), tasks, tuple(Precedence(k, k + 1) for k in range(n - 1)), 200)


def _back_to_back(problem: Problem) -> Schedule:
    starts, t = [], 0
    for task in problem.tasks:
        starts.append(t)
        t += task.modes[0].duration
    return Schedule(tuple(starts), (0,) * len(starts))


def _faults(problem: Problem, schedule: Schedule, home: str) -> list[str]:
    return [f.reason for f in check_units(problem, schedule, [("T-1",)] * len(problem.tasks), roles=ROLES,
                                          home={"T-1": home}, setup=SETUP)]


def test_manual_manual_dog_needs_one_set_up_where_the_role_changes() -> None:
    """A manual team doing manual → manual → dog back to back: set-up on the dog lot alone passes the unit check."""
    p = _chain([("manual", 0), ("manual", 0), ("dog", SETUP)])
    assert _faults(p, _back_to_back(p), "manual") == []


def test_a_missing_set_up_where_the_role_changes_is_rejected() -> None:
    """The same sequence with the dog lot carrying no set-up, right after the manual lot, is rejected, naming it."""
    p = _chain([("manual", 0), ("manual", 0), ("dog", 0)])
    assert _faults(p, _back_to_back(p), "manual") == [
        "T-1 takes up role dog (its own is manual) with 0 periods of set-up, fewer than 3"]


def test_a_second_lot_in_the_same_borrowed_role_needs_none_but_the_first_does() -> None:
    """A survey team on manual → manual: set-up on the first lot only passes; none on the first is rejected; back to
    survey (its own role) needs none."""
    ok = _chain([("manual", SETUP), ("manual", 0), ("survey", 0)])
    assert _faults(ok, _back_to_back(ok), "survey") == []
    bad = _chain([("manual", 0), ("manual", SETUP), ("survey", 0)])
    assert _faults(bad, _back_to_back(bad), "survey") == [
        "T-1 takes up role manual (its own is survey) with 0 periods of set-up, fewer than 3"]
    # manual → dog → manual: each change of role pays again.
    again = _chain([("manual", SETUP), ("dog", SETUP), ("manual", 0)])
    assert _faults(again, _back_to_back(again), "survey") == [
        "T-1 takes up role manual (its own is survey) with 0 periods of set-up, fewer than 3"]


def test_set_up_in_idle_time_before_the_lot_counts() -> None:
    """A borrowed lot without set-up in its mode passes when the unit was idle long enough before it, not otherwise."""
    p = _chain([("survey", 0), ("manual", 0)])
    assert _faults(p, Schedule((0, 5 + SETUP), (0, 0)), "survey") == []
    assert len(_faults(p, Schedule((0, 5 + SETUP - 1), (0, 0)), "survey")) == 1


def _solved_conservatively(roles: list[str], home: str) -> tuple[Problem, Schedule]:
    """What the pools give: set-up on every lot in a role that is not the unit's own, lots back to back."""
    p = _chain([(r, 0 if r == home else SETUP) for r in roles])
    return p, _back_to_back(p)


def test_per_change_set_up_drops_it_on_a_lot_that_keeps_the_role_and_shifts_the_rest() -> None:
    """A survey team on manual → manual → manual → dog: set-up on the first manual lot and the dog lot only; the
    chain ends 2 × 3 days sooner; the plan passes both checkers."""
    p, s = _solved_conservatively(["manual", "manual", "manual", "dog"], "survey")
    out = per_change_setup(p, s, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert out.applied and out.continued == 2
    setups = [out.problem.tasks[j].modes[out.schedule.modes[j]].setup for j in range(4)]
    assert setups == [SETUP, 0, 0, SETUP]
    assert out.schedule.starts == (0, 8, 13, 18)
    assert objective_value(out.problem, out.schedule) == objective_value(p, s) - 2 * SETUP
    assert check(out.problem, out.schedule) == []
    assert check_units(out.problem, out.schedule, out.assigned, roles=ROLES, home={"T-1": "survey"},
                       setup=SETUP) == []


def test_per_change_set_up_keeps_every_change_of_role() -> None:
    """manual → dog → manual on a survey team: every lot changes role, so every lot keeps its set-up."""
    p, s = _solved_conservatively(["manual", "dog", "manual"], "survey")
    out = per_change_setup(p, s, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert out.continued == 0
    assert out.schedule == s


def test_the_left_shift_never_moves_work_into_a_stand_down() -> None:
    """With the pool stood down over periods 8–20, the second manual lot (3 days shorter) does not move into it."""
    p0, s = _solved_conservatively(["manual", "manual"], "survey")
    p = p0.replace(resources=(Resource("deminers", 1, ((8, 20, 1),)),))
    s = Schedule((0, 20), s.modes)
    assert check(p, s) == []
    out = per_change_setup(p, s, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert out.applied and out.schedule.starts == (0, 20)
    assert out.problem.tasks[1].modes[out.schedule.modes[1]].duration == 5


def test_continuing_modes_come_after_the_tasks_own_modes() -> None:
    """The mode without set-up is appended, so the solved mode indices keep their meaning."""
    p, _ = _solved_conservatively(["manual", "survey"], "survey")
    exact, cont = with_continuing_modes(p)
    assert cont == {(0, 0): 1}
    assert exact.tasks[0].modes[0] == p.tasks[0].modes[0]
    assert exact.tasks[0].modes[1] == Mode(5, ((0, 1),), "manual", 0)


def _earliest_ends_mode_by_mode(p: Problem) -> list[int]:
    """The earliest-end bound written plainly, mode by mode over a boolean fit mask (the reference)."""
    caps = [p.capacity_profile(r) for r in range(len(p.resources))]
    es = [t.release for t in p.tasks]
    ef = [0] * len(p.tasks)
    for j in p.topological_order:
        ends = []
        for mode in p.tasks[j].modes:
            fits = [all(caps[r][k] >= u for r, u in mode.demands) for k in range(p.horizon)]
            t = es[j]
            while t + mode.duration <= p.horizon and not all(fits[t:t + mode.duration]):
                t += 1
            if t + mode.duration <= p.horizon:
                ends.append(t + mode.duration)
        ef[j] = min(ends)
        for k, lag in p.successors[j]:
            es[k] = max(es[k], ef[j] + lag)
    return ef


def test_earliest_ends_agree_with_a_plain_reference() -> None:
    """``greedy.earliest_start_bound`` (demands' fit computed once each) gives the plain mode-by-mode ends, outages
    included."""
    for seed in range(20):
        p = random_problem(seed, n=9)
        assert earliest_start_bound(p) == _earliest_ends_mode_by_mode(p)


def test_the_per_change_bound_holds_for_a_plan_with_set_up_per_change() -> None:
    """The bound of the problem in which any lot may skip its set-up stays at or below the per-change plan's
    objective, and below the conservative plan's bound when set-up is skipped somewhere."""
    p, s = _solved_conservatively(["manual", "manual", "manual", "dog"], "survey")
    out = per_change_setup(p, s, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert lower_bound(out.problem) <= objective_value(out.problem, out.schedule)
    assert lower_bound(out.problem) < lower_bound(p)


def _replanned(roles: list[str], home: str, *, continuing: set[int]) -> Problem:
    """A chain as ``_solved_conservatively`` gives, where the lots in ``continuing`` also have the mode without their
    set-up after their own (what a re-plan gives a lot that continued its unit's role)."""
    p, _ = _solved_conservatively(roles, home)
    tasks = [dataclasses.replace(t, modes=(*t.modes, continuing_mode(t.modes[0]))) if k in continuing else t
             for k, t in enumerate(p.tasks)]
    return p.replace(tasks=tuple(tasks))


def test_a_lot_that_continues_its_role_keeps_its_mode_without_set_up() -> None:
    """A survey team on manual → manual, the second lot solved in its mode without set-up right after the first: it
    keeps that mode, its start and its duration; nothing gets set-up back; the checkers accept it."""
    p = _replanned(["manual", "manual"], "survey", continuing={1})
    s = Schedule((0, 5 + SETUP), (0, 1))
    out = per_change_setup(p, s, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert out.restored == 0 and out.continued == 1
    assert out.schedule == s
    assert out.problem.tasks[1].modes[out.schedule.modes[1]].duration == 5
    assert check(out.problem, out.schedule) == []
    assert check_units(out.problem, out.schedule, out.assigned, roles=ROLES, home={"T-1": "survey"},
                       setup=SETUP) == []


def test_a_lot_solved_without_set_up_after_a_change_of_role_gets_it_back() -> None:
    """The solver puts the manual lot in its mode without set-up right after a dog lot (the unit changes role) and a
    second manual lot after it: the first manual lot gets its set-up back, so it and the lot after it end later;
    the second keeps its mode without set-up (its unit is in the role now); the checkers accept the plan."""
    p = _replanned(["dog", "manual", "manual"], "survey", continuing={1, 2})
    s = Schedule((0, 5 + SETUP, 10 + SETUP), (0, 1, 1))
    assert check(p, s) == []
    assert len(_faults(p, s, "survey")) == 1  # the solved plan breaks the unit check
    out = per_change_setup(p, s, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert out.applied and out.restored == 1
    assert [out.problem.tasks[j].modes[out.schedule.modes[j]].setup for j in range(3)] == [SETUP, SETUP, 0]
    assert out.schedule.starts == (0, 8, 16)
    assert check(out.problem, out.schedule) == []
    assert check_units(out.problem, out.schedule, out.assigned, roles=ROLES, home={"T-1": "survey"},
                       setup=SETUP) == []


def test_a_lot_solved_without_set_up_keeps_it_after_idle_time_enough_for_the_set_up() -> None:
    """A manual lot without set-up after the unit's own survey lot and SETUP idle periods: set up in the idle time."""
    p = _replanned(["survey", "manual"], "survey", continuing={1})
    s = Schedule((0, 5 + SETUP), (0, 1))
    out = per_change_setup(p, s, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert out.restored == 0 and out.schedule == s
    tight = Schedule((0, 5 + SETUP - 1), (0, 1))
    out = per_change_setup(p, tight, [("T-1",)], roles=ROLES, home={"T-1": "survey"}, setup=SETUP)
    assert out.restored == 1 and out.schedule.starts == (0, 5) and out.schedule.modes == (0, 0)
    assert check_units(out.problem, out.schedule, out.assigned, roles=ROLES, home={"T-1": "survey"},
                       setup=SETUP) == []


def test_continuing_modes_a_task_has_are_not_added_again() -> None:
    """A task that already has the mode without set-up keeps it as the continuing mode (no duplicate)."""
    p = _replanned(["manual", "manual"], "survey", continuing={1})
    exact, cont = with_continuing_modes(p)
    assert cont == {(0, 0): 1, (1, 0): 1}
    assert len(exact.tasks[1].modes) == 2
