"""The unit-by-unit decoding of a solved order: set-up per change of role, never in a stand-down, checkers pass."""

from __future__ import annotations

import random

from sapper.plan import Mode, Precedence, Problem, Resource, Schedule, Task, check, check_units, objective_value
from sapper.plan.setups import with_continuing_modes
from sapper.plan.solve import Engine, SolveParams, solve
from sapper.plan.unitlist import unit_list_schedule
from tests.plan.test_setups import _back_to_back

SETUP = 3


def _chain(roles: list[str], home: str, *, pool: Resource | None = None) -> Problem:
    """One unit, a chain of 5-day lots in ``roles``, set-up on each lot not in ``home`` (as the solvers plan)."""
    n = len(roles)
    tasks = tuple(Task(f"lot {k}", (Mode(5 + (0 if r == home else SETUP), ((0, 1),), r, 0 if r == home else SETUP),),
                       weight=1) for k, r in enumerate(roles))
    return Problem((pool or Resource("deminers", 1),), tasks, tuple(Precedence(k, k + 1) for k in range(n - 1)), 200)


def _decode(problem: Problem, schedule: Schedule, units: list[tuple[str, ...]], roles: dict[str, frozenset[str]],
            home: dict[str, str], **kw: bool) -> tuple[Problem, Schedule, tuple[tuple[str, ...], ...]]:
    """The decoded plan, asserted to pass both checkers."""
    out = unit_list_schedule(problem, schedule, units, roles=roles, home=home, setup=SETUP, **kw)
    assert out is not None
    exact, _ = with_continuing_modes(problem)
    s, assigned = out
    assert check(exact, s) == []
    assert check_units(exact, s, assigned, roles=roles, home=home, setup=SETUP) == []
    return exact, s, assigned


def _setups(exact: Problem, s: Schedule) -> list[int]:
    return [exact.tasks[j].modes[s.modes[j]].setup for j in range(len(exact.tasks))]


ROLES = {"T-1": frozenset({"manual", "dog", "survey"})}


def test_a_manual_team_doing_manual_manual_dog_pays_once() -> None:
    """manual → manual → dog on a manual team: the two manual lots are its own role, the dog lot sets up once."""
    p = _chain(["manual", "manual", "dog"], "manual")
    exact, s, _ = _decode(p, _back_to_back(p), [("T-1",)], ROLES, {"T-1": "manual"})
    assert _setups(exact, s) == [0, 0, SETUP]
    assert s.starts == (0, 5, 10)


def test_a_survey_team_in_a_borrowed_role_pays_once_per_run_of_it() -> None:
    """A survey team on manual ×3 → dog pays set-up twice, so the chain ends two set-ups sooner than solved."""
    p = _chain(["manual", "manual", "manual", "dog"], "survey")
    s0 = _back_to_back(p)
    exact, s, _ = _decode(p, s0, [("T-1",)], ROLES, {"T-1": "survey"})
    assert _setups(exact, s) == [SETUP, 0, 0, SETUP]
    assert s.ends(exact)[-1] == s0.ends(p)[-1] - 2 * SETUP


def test_set_up_goes_into_idle_days_before_a_late_release() -> None:
    """A borrowed lot released at 10 on an idle unit: the set-up is done in the idle days, the lot ends at 15."""
    p = Problem((Resource("deminers", 1),), (Task("lot", (Mode(5 + SETUP, ((0, 1),), "manual", SETUP),), 1, 10),),
                (), 100)
    exact, s, _ = _decode(p, Schedule((10,), (0,)), [("T-1",)], ROLES, {"T-1": "survey"})
    assert s.ends(exact) == [15] and _setups(exact, s) == [0]


def test_no_lot_or_set_up_in_a_stand_down() -> None:
    """The pool stood down over 8–20: the second lot (no set-up now, 5 days) waits until 20; a first borrowed lot
    released at 21 sets up in the open days from 20, not inside the stand-down, so it ends at 28."""
    p = _chain(["manual", "manual"], "survey", pool=Resource("deminers", 1, ((8, 20, 1),)))
    exact, s, _ = _decode(p, Schedule((0, 20), (0, 0)), [("T-1",)], ROLES, {"T-1": "survey"})
    assert s.starts == (0, 20) and _setups(exact, s) == [SETUP, 0]
    late = Problem((Resource("deminers", 1, ((8, 20, 1),)),),
                   (Task("lot", (Mode(5 + SETUP, ((0, 1),), "manual", SETUP),), 1, 21),), (), 100)
    exact, s, _ = _decode(late, Schedule((21,), (0,)), [("T-1",)], ROLES, {"T-1": "survey"})
    assert s.starts == (20 + SETUP,) and s.ends(exact) == [28] and _setups(exact, s) == [0]


def test_a_lot_moves_to_the_pool_where_it_ends_soonest() -> None:
    """Two lots solved on the dog pool one after the other: the second goes to the idle manual team in its own role
    (another mode, another pool); with ``keep_modes`` it stays on the dog pool."""
    pools = (Resource("dog", 1), Resource("manual", 1))
    modes = (Mode(6, ((0, 1),), "dog"), Mode(8, ((1, 1),), "manual"))
    p = Problem(pools, (Task("a", modes, 1), Task("b", modes, 1)), (), 100)
    roles = {"D-1": frozenset({"dog", "manual"}), "M-1": frozenset({"manual"})}
    home = {"D-1": "dog", "M-1": "manual"}
    exact, s, assigned = _decode(p, Schedule((0, 6), (0, 0)), [("D-1",), ("M-1",)], roles, home)
    assert assigned == (("D-1",), ("M-1",)) and s.ends(exact) == [6, 8]
    _, kept, assigned = _decode(p, Schedule((0, 6), (0, 0)), [("D-1",), ("M-1",)], roles, home, keep_modes=True)
    assert assigned == (("D-1",), ("D-1",)) and kept.ends(p) == [6, 12]


def test_a_task_of_two_units_and_a_milestone() -> None:
    """A lot needing both units starts when the later is free; the milestone after it ends with it."""
    pool = (Resource("deminers", 2),)
    tasks = (Task("a", (Mode(4, ((0, 1),), "manual"),), 1), Task("both", (Mode(5, ((0, 2),), "manual"),), 1),
             Task("released", (Mode(0),), 1))
    p = Problem(pool, tasks, (Precedence(1, 2),), 50)
    roles = {u: frozenset({"manual"}) for u in ("T-1", "T-2")}
    _, s, assigned = _decode(p, Schedule((0, 4, 9), (0, 0, 0)), [("T-1", "T-2")], roles,
                                 dict.fromkeys(roles, "manual"))
    assert s.starts == (0, 4, 9) and sorted(assigned[1]) == ["T-1", "T-2"] and assigned[2] == ()


def test_an_anchored_task_keeps_its_start_or_there_is_no_plan() -> None:
    """A re-plan's anchored lot starts at its anchor; an anchor before its predecessor's end gives None."""
    p = _chain(["survey", "survey"], "survey")
    anchored = p.replace(tasks=(p.tasks[0], Task("lot 1", p.tasks[1].modes, 1, anchor=9)))
    _, s, _ = _decode(anchored, Schedule((0, 9), (0, 0)), [("T-1",)], ROLES, {"T-1": "survey"})
    assert s.starts == (0, 9)
    early = p.replace(tasks=(p.tasks[0], Task("lot 1", p.tasks[1].modes, 1, anchor=3)))
    assert unit_list_schedule(early, Schedule((0, 3), (0, 0)), [("T-1",)], roles=ROLES, home={"T-1": "survey"},
                              setup=SETUP) is None


def _capability_problem(seed: int) -> tuple[Problem, list[tuple[str, ...]], dict[str, frozenset[str]],
                                              dict[str, str]]:
    """Three pools by own role (survey 2 units with a stand-down, manual 2 with an absence, dog 1); lots in one
    role each with a mode per pool able to do it (set-up where borrowed), some of two units, precedences, a
    milestone."""
    rng = random.Random(seed)
    own = ["survey", "manual", "dog"]
    can = {"survey": {"survey", "manual"}, "manual": {"manual", "survey"}, "dog": {"dog", "manual", "survey"}}
    resources = (Resource("survey", 2, ((20, 30, 2),)), Resource("manual", 2, ((12, 15, 1),)), Resource("dog", 1))
    units = [("S-1", "S-2"), ("M-1", "M-2"), ("D-1",)]
    roles = {u: frozenset(can[own[r]]) for r in range(3) for u in units[r]}
    home = {u: own[r] for r in range(3) for u in units[r]}
    tasks = []
    for j in range(14):
        role = rng.choice(["survey", "manual", "dog"])
        d = rng.randint(2, 6)
        k = 2 if role == "manual" and rng.random() < 0.2 else 1
        modes = tuple(Mode(d + (0 if own[r] == role else SETUP), ((r, min(k, resources[r].capacity)),), role,
                           0 if own[r] == role else SETUP) for r in range(3) if role in can[own[r]])
        tasks.append(Task(f"lot {j}", modes, rng.randint(0, 4), rng.choice((0, 0, 5))))
    tasks.append(Task("milestone", (Mode(0),), 2))
    precedences = [Precedence(i, j, rng.choice((0, 0, 2))) for j in range(14) for i in range(j) if rng.random() < 0.1]
    precedences += [Precedence(i, 14) for i in range(0, 14, 4)]
    return Problem(resources, tuple(tasks), tuple(precedences), 400), units, roles, home


def test_random_capability_problems_pass_both_checkers_and_never_pay_more_set_up() -> None:
    """On random problems by capabilities, solved by the greedy heuristics, the decoded plan passes both checkers,
    re-choosing modes or keeping them; keeping them, it pays set-up on at most as many lots as the solved plan."""
    for seed in range(25):
        p, units, roles, home = _capability_problem(seed)
        s0 = solve(p, params=SolveParams(time_limit_s=0, engine=Engine.GREEDY)).schedule
        assert s0 is not None
        for keep in (False, True):
            exact, s, _ = _decode(p, s0, units, roles, home, keep_modes=keep)
            paid = sum(1 for x in _setups(exact, s) if x)
            if keep:
                assert paid <= sum(1 for j, t in enumerate(p.tasks) if t.modes[s0.modes[j]].setup)
            assert objective_value(exact, s) > 0


def _gap_problem(b_release: int, c_days: int) -> Problem:
    """A survey team: manual lot A (set-up), manual lot B released at ``b_release`` (continues A's role), and a
    survey lot C of ``c_days`` solved last."""
    tasks = (Task("A", (Mode(5 + SETUP, ((0, 1),), "manual", SETUP),), 1),
             Task("B", (Mode(5 + SETUP, ((0, 1),), "manual", SETUP),), 1, b_release),
             Task("C", (Mode(c_days, ((0, 1),), "survey"),), 1))
    return Problem((Resource("deminers", 1),), tasks, (), 100)


def test_a_lot_goes_into_a_gap_only_where_the_lot_after_it_keeps_its_set_up() -> None:
    """C fits the idle gap between A and B when B keeps 3 idle days to set up again (C breaks B's run of manual);
    6 days of C in a gap of 8 would leave B 2, so C goes after B; without filling gaps, always after B."""
    home = {"T-1": "survey"}
    p = _gap_problem(30, 5)
    exact, s, _ = _decode(p, Schedule((0, 30, 40), (0, 0, 0)), [("T-1",)], ROLES, home)
    assert s.starts == (0, 30, 8) and _setups(exact, s) == [SETUP, 0, 0]
    _, s, _ = _decode(p, Schedule((0, 30, 40), (0, 0, 0)), [("T-1",)], ROLES, home, fill_gaps=False)
    assert s.starts == (0, 30, 35)
    tight = _gap_problem(16, 6)
    _, s, _ = _decode(tight, Schedule((0, 16, 40), (0, 0, 0)), [("T-1",)], ROLES, home)
    assert s.starts == (0, 16, 21)
