"""A re-plan per team and brigade: what each unit finished, lost, gained or keeps with new dates, and why; the units
left idle or without work; old and new unit and dates of every moved lot in the JSON.

Uses the hand-built register of ``test_replan`` (three hazard areas, three assets, a survey team, two manual teams,
two brigades) and a synthetic week of progress reported through field-data staging.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from sapper.domain.resources import BuilderBrigade, Trade
from sapper.domain.taskorders import OrderState
from sapper.services.replan import change_lines, write_replan_json
from sapper.services.taskorders import LotChangeKind, OrderAction, OrderRequest, change_state, issue_orders
from sapper.services.teamchanges import ChangeKind, TeamChanges
from sapper.store import open_store
from tests.services.test_replan import (
    AS_OF,
    BASE,
    SAPPER,
    _plan,
    _replan,
    _settings,
    db,
    planned,
    report,
    week_as_planned,
)

__all__ = ["db", "planned"]  # the fixtures of test_replan, used here


def _team(teams: tuple[TeamChanges, ...], unit: str) -> TeamChanges:
    (found,) = [t for t in teams if t.unit_id == unit]
    return found


def test_a_slow_week_lists_each_units_changes_with_reasons(db: Path, tmp_path: Path) -> None:
    """T-MAN-1 clears H-1 at half pace: the survey team's four finished lots are listed under it, the road brigade's
    repair of A-1 moves with its old and new dates and the reason (its predecessor, slower than planned), and the
    plan.json carries old and new unit and dates of that moved lot and the per-team list."""
    previous = {t.task_id: t for t in _plan(db).tasks}
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    outcome = _replan(db, _settings())
    teams = outcome.changes.teams
    survey = _team(teams, "T-SUR-1")
    assert {c.task_id for c in survey.of(ChangeKind.FINISHED)} == {"nts H-1/1", "ts H-1/1", "nts H-3/1", "ts H-3/1"}
    road = _team(teams, "B-ROAD-1")
    (moved,) = road.of(ChangeKind.MOVED)
    old = previous["repair A-1 road/1"]
    new = {t.task_id: t for t in outcome.run.tasks}["repair A-1 road/1"]
    assert (moved.old_start, moved.old_end) == (old.start_date, old.end_date)
    assert (moved.new_start, moved.new_end) == (new.start_date, new.end_date) and new.start_date > old.start_date
    assert moved.reason == "predecessor late: slower than planned"
    assert moved.old_unit == moved.new_unit == "B-ROAD-1"
    # T-MAN-1's running lot ends later (slower than planned); units that changed nothing (T-MAN-2, B-BLD-1, whose
    # running repair ends as planned) are not listed.
    assert {t.unit_id for t in teams} == {"B-ROAD-1", "T-MAN-1", "T-SUR-1"}
    (slow,) = _team(teams, "T-MAN-1").of(ChangeKind.MOVED)
    assert slow.task_id == "clearance H-1/1" and slow.reason == "slower than planned"
    assert slow.new_end is not None and slow.old_end is not None and slow.new_end > slow.old_end
    doc = json.loads(write_replan_json(outcome, tmp_path / "replan.json").read_text(encoding="utf-8"))
    (m,) = doc["changes"]["moved_tasks"]
    assert (m["old_unit"], m["new_unit"]) == ("B-ROAD-1", "B-ROAD-1")
    assert (m["old_start"], m["old_end"]) == (old.start_date.isoformat(), old.end_date.isoformat())
    assert (m["new_start"], m["new_end"]) == (new.start_date.isoformat(), new.end_date.isoformat())
    by_unit = {t["unit_id"]: t["changes"] for t in doc["changes"]["teams"]}
    assert [c["change"] for c in by_unit["B-ROAD-1"]] == ["moved"]


def test_a_missing_team_hands_its_lots_over_and_says_why(db: Path) -> None:
    """T-MAN-1 taken out of the register after a week: its running clearance of H-1 is handed over to T-MAN-2 with
    the reason that T-MAN-1 is no longer in the register, and T-MAN-2 lists it as taken over from T-MAN-1."""
    report(db, week_as_planned(db))
    had = [t.task_id for t in _plan(db).tasks if t.unit_id == "T-MAN-1" and t.end_date >= AS_OF]
    assert "clearance H-1/1" in had
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM teams WHERE id = 'T-MAN-1'")
    outcome = _replan(db, _settings())
    lost = _team(outcome.changes.teams, "T-MAN-1")
    assert {c.task_id for c in lost.of(ChangeKind.HANDED_OVER)} == set(had)
    for c in lost.changes:
        assert c.kind is ChangeKind.HANDED_OVER and c.new_unit == "T-MAN-2"
        assert c.reason == "T-MAN-1 is no longer in the register"
    gained = _team(outcome.changes.teams, "T-MAN-2")
    taken = {c.task_id: c for c in gained.of(ChangeKind.TAKEN_OVER)}
    assert set(taken) == set(had) and taken["clearance H-1/1"].old_unit == "T-MAN-1"


def test_units_without_work_and_idle_units_are_listed(db: Path) -> None:
    """A power brigade the register has no power work for is listed as given no work; with a one-week threshold the
    survey team, whose surveys end long before the clearance does, is listed idle, and no idle span is shorter than
    the threshold."""
    with open_store(db) as store, store.write() as uow:
        uow.add_brigades([BuilderBrigade("B-PWR-1", "con-1", Trade.POWER, 10, BASE)])
    report(db, week_as_planned(db))
    outcome = _replan(db, _settings(idle_weeks=1))
    use = outcome.changes.unit_use
    assert use is not None and use.unused == ("B-PWR-1",)
    assert "T-SUR-1" in {s.unit_id for s in use.idle}
    survey = [s for s in use.idle if s.unit_id == "T-SUR-1"]
    assert any(s.after_last_lot for s in survey)  # its surveys end long before the last clearance lot
    assert all(s.working_days >= 6 and s.first_day <= s.last_day for s in use.idle)
    strict = _replan(db, _settings(idle_weeks=500)).changes.unit_use
    assert strict is not None and strict.idle == () and strict.unused == ("B-PWR-1",)


def test_cli_replan_prints_per_team_and_a_baseline_that_names_its_reference(db: Path) -> None:
    """`sapper replan` prints the per-team section and a 'compared with' line naming the repaired previous plan,
    never a negative 'improvement'."""
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    proc = subprocess.run([SAPPER, "replan", "--db", str(db), "--time-limit", "3", "--idle-weeks", "2"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "per team and brigade" in text and "B-ROAD-1: 1 moved" in text
    assert "moved repair A-1 road/1" in text and "predecessor late: slower than planned" in text
    assert "compared with    :" in text and "the previous plan repaired to the new facts" in text
    assert "improvement -" not in text
    bad = subprocess.run([SAPPER, "replan", "--db", str(db), "--idle-weeks", "0"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "idle weeks must be at least 1" in bad.stderr


def _orders(db: Path) -> dict[str, list[str]]:
    """Issue the plan's orders for every unit for 10 weeks; each unit's order numbers."""
    with open_store(db) as store:
        result = issue_orders(store, OrderRequest(all_units=True, weeks=10), actor="ops")
    return {u.unit.id: [s.order.number for s in u.sheets] for u in result.units if u.sheets}


def test_a_replan_names_the_orders_it_changes_per_team_and_what_to_do(db: Path, tmp_path: Path) -> None:
    """Orders issued from the first plan, then a slow week: the re-plan lists, under each unit, the orders in force
    it changes with what changed in each (dates moved, done) and what to do (re-issue and cancel, complete); the
    survey team's orders, all of whose lots were reported done, are to be completed; the text, the --json and the
    plan.json say the same; a unit whose orders are unchanged has none listed."""
    issued = _orders(db)
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    with open_store(db) as store:  # the survey team reports its NTS and TS of H-1 and H-3 done (as the lots it had)
        for number in issued["T-SUR-1"]:
            change_state(store, [number], OrderState.ACKNOWLEDGED, actor="team leader")
    outcome = _replan(db, _settings())
    orders = {o.number: o for o in outcome.changes.orders}
    road = [orders[n] for n in issued["B-ROAD-1"] if n in orders]
    assert road and all(o.action is OrderAction.REISSUE for o in road)
    assert {lot.change for o in road for lot in o.lots} == {LotChangeKind.DATES_MOVED}
    (moved,) = [lot for o in road for lot in o.lots]
    assert moved.task_id == "repair A-1 road/1" and moved.new_start is not None and moved.new_start > moved.old_start
    survey = [orders[n] for n in issued["T-SUR-1"] if n in orders]
    assert survey and {o.action for o in survey} == {OrderAction.COMPLETE}
    assert not [n for n in issued.get("T-MAN-2", []) if n in orders]  # T-MAN-2's work did not change
    # B-BLD-1's repair of A-3 was under way on the as-of date and ends as planned: the re-plan holds it from that
    # date, which is no change to the order
    assert not [n for n in issued["B-BLD-1"] if n in orders]
    with open_store(db) as store:  # and issuing from the re-plan orders none of it again
        again = issue_orders(store, OrderRequest(unit="B-BLD-1", weeks=10), actor="ops")
    assert again.new == 0 and again.changed == ()
    text = "\n".join(change_lines(outcome.changes))
    number = road[0].number
    assert f"order {number} (B-ROAD-1, A-1, from plan run 1): re-issue it: sapper tasks --team B-ROAD-1" in text
    assert f"sapper task-order cancel {number} --reason \"re-plan {outcome.run.id}\"" in text
    assert "repair A-1 road/1: dates moved " in text
    assert f"order {survey[0].number} (T-SUR-1, " in text and "complete it (sapper task-order complete" in text
    doc = json.loads(write_replan_json(outcome, tmp_path / "replan.json").read_text(encoding="utf-8"))
    by_unit = {t["unit_id"]: t for t in doc["changes"]["teams"]}
    (listed,) = [o for o in by_unit["B-ROAD-1"]["orders"] if o["number"] == number]
    assert listed["action"] == "re-issue" and listed["lots"][0]["change"] == "dates_moved"
    assert listed["lots"][0]["old_unit"] == listed["lots"][0]["new_unit"] == "B-ROAD-1"
    assert {o["action"] for o in by_unit["T-SUR-1"]["orders"]} == {"complete"}


def test_cli_replan_names_the_orders_in_ukrainian(db: Path) -> None:
    """`sapper --lang uk replan`: the per-team section, the order to re-issue and the reasons in Ukrainian; --json
    names the order under its unit."""
    issued = _orders(db)
    report(db, week_as_planned(db, pace={"T-MAN-1": 0.5}))
    proc = subprocess.run([SAPPER, "--lang", "uk", "replan", "--db", str(db), "--time-limit", "3"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    number = issued["B-ROAD-1"][0]
    assert "за групами та бригадами" in text and "переміщено repair A-1 road/1" in text
    assert "попередник запізнюється: повільніше, ніж планувалося" in text
    assert "(попередній план, виправлений відповідно до нових фактів)" in text  # the baseline line names its reference
    assert f"завдання {number} (B-ROAD-1, A-1, з плану № 1): видайте його заново" in text
    proc = subprocess.run([SAPPER, "replan", "--db", str(db), "--time-limit", "3", "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    teams = {t["unit_id"]: t for t in json.loads(proc.stdout)["changes"]["teams"]}
    assert number in {o["number"] for o in teams["B-ROAD-1"]["orders"]}
