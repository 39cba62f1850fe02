"""The bounded wait of a re-plan by capabilities with ``--moves fewest`` (``services.replan``: ``max_wait_weeks``,
``unit_plans``, ``_by_units``, ``lot_waits``), on a case worked by hand, and the CLI option.

Two pools of one survey team each (no set-up anywhere). T-1 (pool P1) is booked back to back by the previous plan:
lot ``slot`` at [0, 10), then twenty lots of 10 days to 210. T-2 (pool P2) has lot ``other`` at [0, 5), then nothing.
Lot ``late`` (10 days, only P1 can do it) was due and not started: it must move. ``slot`` may also go to P2.

- Unbounded (the rule before): ``late`` takes no held slot while it finds free time, so it waits for T-1's first
  free time, 210 working days, and is the only lot moved.
- With a bound of 24 working days (four weeks of six days): waiting 210 days for free time instead of ending at 10
  by taking ``slot``'s held slot exceeds it, so ``late`` starts at 0 on T-1 and ``slot`` moves to T-2's first free
  time, 5 (it waits 5 days: within the bound). Two lots move, no lot waits longer than the bound, and that plan is
  the one kept although another decoding moves fewer.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from sapper.domain.calendar import Calendar
from sapper.plan import Mode, Problem, Resource, Schedule, Task, check, check_units
from sapper.plan.solve import Result, Status
from sapper.plan.stability import warm_start
from sapper.scenario.compile import CompiledPlan, PoolPolicy, TaskKind
from sapper.services.remaining import Lot, LotStatus
from sapper.services.replan import (
    Frame,
    ReplanChanges,
    ReplanSettings,
    _by_units,
    _waited,
    change_lines,
    changes_to_json,
    lot_waits,
    unit_plans,
)
from sapper.store import open_store
from sapper.store.records import PlannedTask, ReplanCounts
from tests.plan.test_unitlist import SETUP
from tests.services.test_replan import SAPPER

START = dt.date(2026, 3, 2)
ROLES = {"T-1": frozenset({"survey"}), "T-2": frozenset({"survey"})}
HOME = {"T-1": "survey", "T-2": "survey"}
LATE, SLOT, OTHER = 0, 1, 2
CHAIN = 20


def _case(other: int = 5) -> tuple[CompiledPlan, Frame, Schedule]:
    """The case of the module docstring (``other`` that many days long): the compiled plan, the frame and the
    repaired previous plan."""
    on_p1 = Mode(10, ((0, 1),), "survey", 0)
    tasks = [Task("late", (on_p1,), 1, 0),
             Task("slot", (on_p1, Mode(10, ((1, 1),), "survey", 0)), 1, 0, anchor=0),
             Task("other", (Mode(other, ((1, 1),), "survey", 0),), 1, 0, anchor=0)]
    tasks += [Task(f"chain {k}", (on_p1,), 1, 0, anchor=10 * k) for k in range(1, CHAIN + 1)]
    problem = Problem((Resource("P1", 1), Resource("P2", 1)), tuple(tasks), (), 400, move_cost=100)
    cal = Calendar(START, horizon_days=800)
    old: dict[int, int | None] = {LATE: None, SLOT: 0, OTHER: 0} | {2 + k: 10 * k for k in range(1, CHAIN + 1)}
    lots = {}
    for j, start in old.items():
        first = START if start is None else cal.date_of(start)
        unit = "T-2" if j == OTHER else "T-1"
        duration = problem.tasks[j].modes[0].duration
        task = PlannedTask(problem.tasks[j].name, TaskKind.CLEARANCE, first, cal.date_of((start or 0) + duration - 1),
                           1.0, "m2", unit_id=unit)
        lots[j] = Lot(task, ("H", "clearance", str(j)), j, LotStatus.LATE if start is None else LotStatus.PENDING)
    n = len(tasks)
    frame = Frame(problem, lots, old, [0] * n, [1000.0 if j == LATE else -float(old[j] or 0) for j in range(n)],
                  [("T-2",) if j == OTHER else ("T-1",) for j in range(n)], {}, problem.move_cost)
    compiled = CompiledPlan(problem, (), (), cal, {"P1": ("T-1",), "P2": ("T-2",)}, roles=dict(ROLES),
                            home=dict(HOME), role_change_days=SETUP, pools=PoolPolicy.CAPABILITIES)
    return compiled, frame, warm_start(problem, frame.order, frame.modes)


def _kept(max_wait: int | None, **kw: int) -> tuple[Problem, Schedule, tuple[tuple[str, ...], ...],
                                                    dict[str, object]]:
    """The plan ``_by_units`` keeps for the case with a bound of ``max_wait`` periods; it passes both checkers."""
    compiled, frame, repaired = _case(**kw)
    result = Result(Status.FEASIBLE, repaired, None, None, None, None, "test", 0.0)
    out, kept, assigned = _by_units(compiled, result, frame, None, repaired, {},  # type: ignore[arg-type]
                                    ReplanSettings(), max_wait=max_wait)
    assert kept.schedule is not None
    assert check(out.problem, kept.schedule) == []
    assert check_units(out.problem, kept.schedule, assigned, roles=ROLES, home=HOME, setup=SETUP) == []
    return out.problem, kept.schedule, assigned, kept.details


def _moved(problem: Problem, s: Schedule) -> set[int]:
    return {j for j, t in enumerate(problem.tasks) if t.anchor is not None and s.starts[j] != t.anchor} | {LATE}


def test_unbounded_the_late_lot_waits_for_free_time_and_moves_alone() -> None:
    problem, s, assigned, _ = _kept(None)
    assert s.starts[LATE] == 10 * CHAIN + 10 and assigned[LATE] == ("T-1",)
    assert _moved(problem, s) == {LATE}
    _, frame, _ = _case()
    assert lot_waits(problem, s, frame) == {LATE: (210, 0)}


def test_a_bounded_wait_moves_one_other_lot_instead() -> None:
    problem, s, assigned, details = _kept(24)
    assert (s.starts[LATE], assigned[LATE]) == (0, ("T-1",))
    assert (s.starts[SLOT], assigned[SLOT]) == (5, ("T-2",))
    assert _moved(problem, s) == {LATE, SLOT}
    _, frame, _ = _case()
    assert lot_waits(problem, s, frame) == {SLOT: (5, 0)}
    assert details["max_wait_days"] == 24 and details["max_wait_exceeded_days"] == 0


def test_the_bound_is_respected_and_the_lot_moved_for_another_is_not_bound() -> None:
    """A bound of 210 days or more keeps the plan of fewest moves; any bound below it moves ``slot`` for ``late``:
    ``slot`` waits 5 days on T-2 even with a bound of 0 (it moved to make room, so it is not bound, and it takes no
    held slot for its own wait — one lot moves for another, not a chain)."""
    for bound in (210, 300):
        problem, s, _, details = _kept(bound)
        assert s.starts[LATE] == 210 and _moved(problem, s) == {LATE}
        assert details["max_wait_exceeded_days"] == 0
    for bound in (0, 4, 24, 209):
        problem, s, assigned, details = _kept(bound)
        assert (s.starts[LATE], s.starts[SLOT], assigned[SLOT]) == (0, 5, ("T-2",))
        assert _moved(problem, s) == {LATE, SLOT} and details["max_wait_exceeded_days"] == 0


def test_a_lot_moved_for_another_waits_for_free_time_rather_than_move_a_third() -> None:
    """T-2 booked too (``other`` at [0, 300)). Decoded in the previous plan's order (``late`` where the repaired
    plan puts it, at 0) with the bound, ``slot``, moved for ``late``, finds free time only after T-1's lots, at 210:
    it waits there rather than take ``other``'s held slot (one lot moves for another, not a chain); priced, it takes
    it. The calm order puts ``late`` where the repaired plan at ten times the move cost does, after T-1's lots: every
    slot before it is taken by then, so it waits there. The plan kept is the set-up step on the repaired plan, which
    moves ``other`` 10 days for ``slot`` (``slot`` keeps its start, on T-2): two lots moved as well, and a better
    objective."""
    compiled, frame, repaired = _case(other=300)
    result = Result(Status.FEASIBLE, repaired, None, None, None, None, "test", 0.0)
    plans = {p.source: p for p in unit_plans(compiled, result, frame, repaired, {}, stable=True, max_wait=24)}
    previous = plans["previous"]
    assert (previous.schedule.starts[LATE], previous.schedule.starts[SLOT], previous.assigned[SLOT]) == (0, 210,
                                                                                                         ("T-1",))
    assert previous.schedule.starts[OTHER] == 0 and _moved(previous.problem, previous.schedule) == {LATE, SLOT}
    assert plans["previous-calm"].schedule.starts[LATE] == 210
    priced = plans["previous-priced"].schedule
    assert (priced.starts[LATE], priced.starts[SLOT], priced.starts[OTHER]) == (0, 0, 10)
    problem, s, assigned, details = _kept(24, other=300)
    assert (s.starts[LATE], s.starts[SLOT], assigned[SLOT], s.starts[OTHER]) == (0, 0, ("T-2",), 10)
    assert _moved(problem, s) == {LATE, OTHER} and details["max_wait_exceeded_days"] == 0


def test_the_changes_name_the_lots_that_waited_and_the_lot_moved_for_another() -> None:
    _, s, assigned, _ = _kept(24)
    compiled, frame, _ = _case()
    waited, taken = _waited(compiled, s, assigned, frame)
    assert [(w.task_id, w.working_days, w.could_start) for w in waited] == [("slot", 5, START)]
    assert [(t.task_id, t.by, t.unit) for t in taken] == [("slot", "late", "T-1")]
    counts = ReplanCounts(1, START, START, None, 0, True, 100, len(frame.old_start), 0, 0, 0, 1, 0, {}, 0, {}, 2, 0,
                          2, None, {}, {}, 1, 1, 1, 1, True, 1, 1, 0, 0, {})
    changes = ReplanChanges(counts, waited=waited, taken=taken, max_wait_days=24)
    text = "\n".join(str(line) for line in change_lines(changes))
    assert f"waiting for a free unit: 1 lot; the longest wait: slot, 5 working days from {START}" in text
    assert "at most 24 allowed" in text and "slot for late (on T-1)" in text
    doc = changes_to_json(changes)
    assert doc["max_wait_days"] == 24 and doc["slots_taken"] == [{"task_id": "slot", "by": "late", "unit": "T-1"}]


def test_cli_max_wait_weeks_below_zero_is_a_one_line_error(tmp_path: Path) -> None:
    db = tmp_path / "empty.gpkg"
    with open_store(db, create=True):
        pass
    bad = subprocess.run([SAPPER, "replan", "--db", str(db), "--max-wait-weeks", "-1"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "max wait weeks cannot be negative, got -1" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
