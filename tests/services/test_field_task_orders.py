"""Field reports that name their task order: a clearance or brigade report applied from the form keeps the order's
number with its progress, and `sapper task-order list` shows what was reported under each order; an order that does
not exist (a typo gets the nearest number), is for another unit or site, or is no longer in force is refused with a
one-line reason, and nothing is applied."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from sapper.domain.fielddata import StagingState, Submission, SubmissionSource
from sapper.domain.taskorders import OrderState
from sapper.services.fielddata import apply_approved
from sapper.services.taskorders import OrderRequest, change_state, issue_orders
from sapper.store import open_store
from tests.services.test_replan import AT, SAPPER, db, planned, report, week_as_planned

__all__ = ["db", "planned"]  # the fixtures of test_replan, used here


def _orders(db: Path) -> dict[tuple[str, str], str]:
    """The first plan's orders for two weeks, by (unit, site)."""
    with open_store(db) as store:
        result = issue_orders(store, OrderRequest(all_units=True, weeks=2), actor="ops")
    return {(s.order.unit_id, s.order.site_id): s.order.number for u in result.units for s in u.sheets}


def _stage(db: Path, fields: dict[str, str], *, form: str = "sapper_clearance", kind: str = "clearance") -> None:
    """Stage one submission and approve it."""
    instance = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{db}-{sorted(fields.items())}')}"
    with open_store(db) as store, store.write() as uow:
        sub = Submission(SubmissionSource.ODK_CENTRAL, form, instance, instance, fields=fields)
        staged = uow.field_staging.stage(sub, kind=kind, source_file="test", actor="tester", at=AT)
        uow.field_staging.transition(staged.staged_id, StagingState.REVIEWED, actor="tester", reason="", at=AT)
        uow.field_staging.transition(staged.staged_id, StagingState.APPROVED, actor="tester", reason="ok", at=AT)


def _clearance(team: str, hazard: str, order: str, day: str = "2025-06-03") -> dict[str, str]:
    return {
        "work_date": day,
        "hazard_id": hazard,
        "team_id": team,
        "cleared_m2": "250",
        "clearance_depth_cm": "13",
        "devices_found": "no",
        "task_order": order,
    }


def test_a_day_worked_before_the_order_ended_is_applied_under_it(db: Path) -> None:
    """An order completed (or cancelled) after the day reported: the report of that day is still applied under it
    (reports reach the office later than the work)."""
    number = _orders(db)[("T-MAN-1", "H-1")]
    with open_store(db) as store:
        change_state(store, [number], OrderState.ACKNOWLEDGED, actor="tl", at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC))
        change_state(store, [number], OrderState.COMPLETED, actor="tl", at=dt.datetime(2025, 6, 20, tzinfo=dt.UTC))
    _stage(db, _clearance("T-MAN-1", "H-1", number, day="2025-06-06"))
    with open_store(db) as store:
        summary = apply_approved(store, actor="tester")
        assert summary.faults == [] and [p.task_order for p in store.field_progress()] == [number]


def test_progress_keeps_the_order_it_was_done_under(db: Path) -> None:
    """A week of reports, each naming its unit's order: every applied report keeps the order's number, and the
    order listing (text and JSON) counts the reports and the work done under each order."""
    orders = _orders(db)
    rows: list[dict[str, Any]] = week_as_planned(db)
    for r in rows:
        r["extra"] = {"task_order": orders[(r["unit"], r["target"])]}
    report(db, rows)
    with open_store(db) as store:
        progress = store.field_progress()
    assert progress and all(
        p.task_order == orders[(p.team_id or p.brigade_id or "", p.hazard_id or p.asset_id or "")] for p in progress
    )
    number = orders[("T-MAN-1", "H-1")]
    mine = [p for p in progress if p.task_order == number]
    proc = subprocess.run(
        [SAPPER, "task-order", "list", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    listed = {o["number"]: o for o in json.loads(proc.stdout)}
    reported = listed[number]["reported"]
    assert reported["reports"] == len(mine) and reported["last_day"] == max(p.work_date for p in mine).isoformat()
    assert reported["m2"] == pytest.approx(sum(p.area_cleared_m2 or 0.0 for p in mine), abs=0.1)
    text = subprocess.run(
        [SAPPER, "task-order", "list", "--db", str(db)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    (line,) = [x for x in text.splitlines() if x.startswith(number)]
    assert f"{len(mine)} reports to {max(p.work_date for p in mine).isoformat()}" in line


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("typo", "{typo} is not a task order; did you mean {T-MAN-1}"),
        ("other unit", "task order {T-MAN-2} is for T-MAN-2, not T-MAN-1"),
        ("other site", "task order {T-MAN-1} is for hazard area H-1, not H-3"),
        (
            "cancelled",
            "task order {T-MAN-1} was cancelled on 2025-06-02, before this work: report under an order in force",
        ),
    ],
)
def test_a_wrong_order_is_refused_with_its_reason(db: Path, case: str, reason: str) -> None:
    """The order a report names must exist, be for the reporting team and the site, and be in force; else apply
    refuses the report with one reason (naming the nearest number for a typo) and stores no progress."""
    orders = _orders(db)
    by_unit = {"T-MAN-1": orders[("T-MAN-1", "H-1")], "T-MAN-2": orders[("T-MAN-2", "H-3")]}
    by_unit["typo"] = by_unit["T-MAN-1"].replace("-0", "-", 2)  # TO-2026-0003 → TO-2026-003
    if case == "typo":
        fields = _clearance("T-MAN-1", "H-1", by_unit["typo"])
    elif case == "other unit":
        fields = _clearance("T-MAN-1", "H-1", by_unit["T-MAN-2"])
    elif case == "other site":
        fields = _clearance("T-MAN-1", "H-3", by_unit["T-MAN-1"])
    else:
        with open_store(db) as store:
            change_state(
                store,
                [by_unit["T-MAN-1"]],
                OrderState.CANCELLED,
                actor="ops",
                reason="re-plan",
                at=dt.datetime(2025, 6, 2, 18, 0, tzinfo=dt.UTC),
            )
        fields = _clearance("T-MAN-1", "H-1", by_unit["T-MAN-1"])
    _stage(db, fields)
    with open_store(db) as store:
        summary = apply_approved(store, actor="tester")
        assert store.field_progress() == []
    (fault,) = summary.faults
    assert f"task_order: {reason.format_map(by_unit)}" in fault and "\n" not in fault


def _survey(kind: str, order: str, *, team: str = "T-SUR-1", day: str = "2025-06-02") -> dict[str, str]:
    """An NTS (outcome: the area stays suspected) or a TS (nothing reduced) of H-1 naming ``order``."""
    common = {"survey_date": day, "team_id": team, "hazard_id": "H-1", "task_order": order}
    if kind == "nts":
        return common | {"new_area": "no", "evidence_found": "yes", "evidence": "indirect", "land_use": "agriculture",
                         "beneficiaries": "40", "outcome": "sha"}
    return common | {"ts_type": "targeted", "method": "manual", "devices_found": "no"}


def test_surveys_keep_the_order_they_were_done_under(db: Path) -> None:
    """An NTS and a TS report naming the survey team's order for the area: each becomes an activity of the area's
    record that keeps the order's number, and the order listing counts both as surveys reported under it (and no
    cleared m²)."""
    number = _orders(db)[("T-SUR-1", "H-1")]
    _stage(db, _survey("nts", number), form="sapper_nts", kind="nts")
    _stage(db, _survey("ts", number, day="2025-06-04"), form="sapper_ts", kind="ts")
    with open_store(db) as store:
        summary = apply_approved(store, actor="tester")
        assert summary.faults == []
        surveys = [a for a in store.activities("H-1") if a.activity_type.value in ("nts", "ts")]
    assert sorted((a.activity_type.value, a.task_order) for a in surveys) == [("nts", number), ("ts", number)]
    proc = subprocess.run([SAPPER, "task-order", "list", "--db", str(db), "--json"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    reported = {o["number"]: o for o in json.loads(proc.stdout)}[number]["reported"]
    assert reported == {"reports": 2, "first_day": "2025-06-02", "last_day": "2025-06-04", "m2": 0.0,
                        "builder_days": 0.0, "surveys": 2}


def test_a_survey_under_another_units_order_is_refused(db: Path) -> None:
    """A survey report naming a clearance team's order: refused with its one-line reason, and no activity added."""
    orders = _orders(db)
    other = orders[("T-MAN-1", "H-1")]
    _stage(db, _survey("nts", other), form="sapper_nts", kind="nts")
    with open_store(db) as store:
        before = store.activities("H-1")
        summary = apply_approved(store, actor="tester")
        assert store.activities("H-1") == before
    (fault,) = summary.faults
    assert f"task_order: task order {other} is for T-MAN-1, not T-SUR-1" in fault and "\n" not in fault
