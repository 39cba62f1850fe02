"""Utilisation per unit and per role, and the units named idle, on a small known case."""

from __future__ import annotations

import datetime as dt

from sapper.domain.calendar import Calendar
from sapper.plan import Mode, Problem, Resource, Schedule, Status, Task
from sapper.scenario.compile import CompiledPlan, PoolPolicy, TaskInfo, TaskKind
from sapper.services.utilisation import utilisation
from sapper.store.planjson import summary_from_json, summary_to_json
from sapper.store.records import PlanSummary, RoleUtilisation

MONDAY = dt.date(2025, 1, 6)


def _plan() -> tuple[CompiledPlan, Schedule]:
    """A survey team S and a manual team M, Monday to Friday. S surveys days 0-4, then clears a lot by hand from day
    13 (3 days of set-up + 4 of work); M clears days 0-9, and its pool stands down from day 15."""
    problem = Problem(
        (Resource("deminers:survey+manual", 1), Resource("deminers:manual+survey", 1, ((15, 20, 1),))),
        (
            Task("nts H/1", (Mode(5, ((0, 1),), "survey"),)),
            Task("clearance H/1", (Mode(10, ((1, 1),), "manual"),)),
            Task("clearance H/2", (Mode(7, ((0, 1),), "manual", setup=3),)),
            Task("released H", (Mode(0),), weight=1),
        ),
        (),
        60,
    )
    info = (
        TaskInfo(TaskKind.NTS, hazard_id="H"),
        TaskInfo(TaskKind.CLEARANCE, hazard_id="H"),
        TaskInfo(TaskKind.CLEARANCE, hazard_id="H"),
        TaskInfo(TaskKind.RELEASED, hazard_id="H"),
    )
    compiled = CompiledPlan(
        problem,
        info,
        (1.0,) * 4,
        Calendar(MONDAY, weekdays=frozenset(range(5))),
        {"deminers:survey+manual": ("S",), "deminers:manual+survey": ("M",)},
        roles={"S": frozenset({"survey", "manual"}), "M": frozenset({"survey", "manual"})},
        home={"S": "survey", "M": "manual"},
        role_change_days=3,
        pools=PoolPolicy.CAPABILITIES,
    )
    return compiled, Schedule((0, 0, 13, 20), (0, 0, 0, 0))


def test_utilisation_per_unit_counts_available_busy_set_up_and_the_longest_idle_spell() -> None:
    """S: 20 available days to the last deminer day, 12 busy (3 of them set-up), idle days 5-12 (8 days, 13 to 22
    January); M: 15 available (its stand-down left out), 10 busy, idle days 10-14 (5 days)."""
    compiled, schedule = _plan()
    use = utilisation(compiled, schedule, [("S",), ("M",), ("S",), ()], idle_weeks=1)
    s, m = use.units[1], use.units[0]
    assert (s.unit_id, s.available_days, s.busy_days, s.set_up_days, s.role_changes, dict(s.days_by_role)) == (
        "S",
        20,
        12,
        3,
        1,
        {"survey": 5, "manual": 4},
    )
    assert (s.longest_idle_days, s.idle_from, s.idle_to) == (8, dt.date(2025, 1, 13), dt.date(2025, 1, 22))
    assert (m.unit_id, m.available_days, m.busy_days, m.longest_idle_days, m.idle_from, m.idle_to) == (
        "M",
        15,
        10,
        5,
        dt.date(2025, 1, 20),
        dt.date(2025, 1, 24),
    )
    assert s.share == 12 / 20 and m.share == 10 / 15


def test_utilisation_per_role_and_the_units_named_idle() -> None:
    """Manual work: both units, one of them borrowing the role, 14 working days of the 35 deminer days; survey: one
    unit, 5 days. Idle for a week (5 days) or more: S (8 days), then M (5); for two weeks: none."""
    compiled, schedule = _plan()
    use = utilisation(compiled, schedule, [("S",), ("M",), ("S",), ()], idle_weeks=1)
    assert use.roles == (
        RoleUtilisation("manual", "deminers", 2, 1, 14, 40.0),
        RoleUtilisation("survey", "deminers", 1, 0, 5, 14.3),
    )
    assert [u.unit_id for u in use.idle] == ["S", "M"] and use.idle_days == 5
    assert utilisation(compiled, schedule, [("S",), ("M",), ("S",), ()], idle_weeks=2).idle == ()


def test_a_unit_set_up_in_a_borrowed_role_at_the_start_makes_no_change_of_role() -> None:
    """A re-plan: S's first lot is by hand, and S was already clearing by hand at the as-of date (``initial``), with
    the lot's mode carrying no set-up: no change of role, no set-up days; without ``initial`` the same lot counts one
    change and its set-up taken in idle days before it."""
    compiled, _ = _plan()
    problem = compiled.problem.replace(tasks=(
        compiled.problem.tasks[0], compiled.problem.tasks[1],
        Task("clearance H/2", (Mode(4, ((0, 1),), "manual"),)), compiled.problem.tasks[3]))
    schedule = Schedule((5, 0, 0, 10), (0, 0, 0, 0))
    assigned = [("S",), ("M",), ("S",), ()]
    kept = utilisation(compiled, schedule, assigned, idle_weeks=1, problem=problem, initial={"S": "manual"})
    fresh = utilisation(compiled, schedule, assigned, idle_weeks=1, problem=problem)
    s_kept = next(u for u in kept.units if u.unit_id == "S")
    s_fresh = next(u for u in fresh.units if u.unit_id == "S")
    assert (s_kept.role_changes, s_kept.set_up_days) == (0, 0)  # back to its own role (survey) is no change
    assert (s_fresh.role_changes, s_fresh.set_up_days) == (1, 3)


def test_utilisation_round_trips_through_the_plan_json() -> None:
    """The summary's utilisation reads back equal from the JSON the store keeps."""
    compiled, schedule = _plan()
    use = utilisation(compiled, schedule, [("S",), ("M",), ("S",), ()], idle_weeks=1)
    summary = PlanSummary(
        status=Status.FEASIBLE,
        objective=1.0,
        lower_bound=None,
        baseline_objective=None,
        gap_pct=None,
        improvement_over_baseline_pct=None,
        engine="greedy",
        start_date=MONDAY,
        finish_date=MONDAY,
        task_count=4,
        work_task_count=3,
        solve_seconds=0.0,
        objective_meaning="",
        hazard_areas=1,
        hazard_area_km2=0.0,
        assets=0,
        critical_assets=0,
        utilisation=use,
    )
    back = summary_from_json(summary_to_json(summary), "plan run 1")
    assert back is not None and back.utilisation == use
    assert summary_to_json(summary)["utilisation"]["idle"] == ["S", "M"]  # type: ignore[index]
