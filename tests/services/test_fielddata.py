"""Field data end to end: exports staged idempotently, edits as versions, the review workflow, and apply."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, Polygon

from sapper.domain.activities import ActivityType, DeviceCondition, Disposal
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.fielddata import StagingState
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, Marking
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.errors import NotFoundError, ValidationError
from sapper.io.form_fields import FIELD_NAMES
from sapper.services import fielddata as fd
from sapper.store import Store, open_store
from tests.cli.entry import run
from tests.io.field_exports import STRIP, Report, clearance, kobo_csv, kobo_geojson, kobo_xlsx, odk_zip

A, B, C = ("uuid:0a1b861f-a5fd-4f49-846a-78dcf06cfc1b", "uuid:39f3dd36-161e-45cb-a1a4-395831d253a7",
           "uuid:6d2f0c1e-8b7a-4c55-9f3e-2a1d0b9c8e7f")
H1 = shapely.box(35.10, 50.10, 35.11, 50.11)  # the strip of STRIP lies inside
AT = dt.datetime(2025, 6, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with hazard areas H-1 and H-2, asset A-1, team T-1, brigade B-1 and organisations op-1, con-1."""
    path = tmp_path_factory.mktemp("seeded") / "register.gpkg"
    with open_store(path, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR),
                               Organisation("con-1", "Builder", OrgKind.CONTRACTOR)])
        uow.add_hazards([HazardArea("H-1", HazardClass.CHA, H1, Evidence.DIRECT),
                         HazardArea("H-2", HazardClass.SHA, shapely.box(35.2, 50.2, 35.21, 50.21), Evidence.INDIRECT)])
        uow.add_assets([Asset("A-1", AssetType.BRIDGE, Point(35.3, 50.3), DamageLevel.SEVERE, {Trade.BRIDGE: 200.0})])
        uow.add_teams([DeminerTeam("T-1", "op-1", Method.MANUAL, 8, Point(35.0, 50.0), 180.0)])
        uow.add_brigades([BuilderBrigade("B-1", "con-1", Trade.BRIDGE, 20, Point(35.0, 50.0))])
    return path


@pytest.fixture
def db(seeded: Path, tmp_path: Path) -> Path:
    """A copy of the seeded store for one test (the store file is closed, its WAL checkpointed)."""
    return Path(shutil.copy(seeded, tmp_path / "register.gpkg"))


def dump(path: Path) -> str:
    """Every table's schema and rows, GeoPackage metadata (last_change) included, as SQL text."""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def counts(path: Path) -> dict[str, int]:
    with open_store(path) as store:
        return store.counts()


def approve(db: Path, *ids: int) -> None:
    """Review and approve staged versions (in one unit of work; ``fd.change_state`` has its own test)."""
    with open_store(db) as store, store.write() as uow:
        for i in ids:
            uow.field_staging.transition(i, StagingState.REVIEWED, actor="O. Kovalenko", reason="", at=AT)
            uow.field_staging.transition(i, StagingState.APPROVED, actor="O. Kovalenko",
                                         reason="matches the team's map", at=AT)


# ----------------------------------------------------------------------------------------------------
# Staging: idempotency and versions
# ----------------------------------------------------------------------------------------------------


def test_importing_the_same_export_twice_changes_nothing(db: Path, tmp_path: Path, reg: Store) -> None:
    """A second import of the same zip stages nothing: row counts and every byte of content are the same."""
    export = odk_zip(tmp_path / "sapper_clearance.csv.zip", "sapper_clearance", [clearance(A), clearance(B)])
    first = fd.import_export(reg, export, at=AT)
    assert (first.new, first.versions, first.unchanged, first.kind, first.faults) == (2, 0, 0, "clearance", [])
    before_counts, before = counts(db), dump(db)
    again = fd.import_export(reg, export, at=AT + dt.timedelta(hours=1))
    assert (again.new, again.versions, again.unchanged, again.conflicts) == (0, 0, 2, [])
    assert counts(db) == before_counts and before_counts["field_submissions"] == 2
    assert dump(db) == before


def test_the_same_version_from_another_tool_export_is_unchanged(db: Path, tmp_path: Path, reg: Store) -> None:
    """The same submission exported by Kobo as XLSX after ODK's zip (same instance id, same answers) is unchanged."""
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A)]), at=AT)
    before = dump(db)
    again = fd.import_export(reg, kobo_xlsx(tmp_path / "x.xlsx", "sapper_clearance", [clearance(A)]), at=AT)
    assert (again.unchanged, again.new) == (1, 0) and dump(db) == before


def test_odk_edit_becomes_a_new_version(db: Path, tmp_path: Path, reg: Store) -> None:
    """An edited ODK submission (same KEY, new meta-instanceID, Edits 1) is version 2; version 1 is kept."""
    fd.import_export(reg, odk_zip(tmp_path / "v1.zip", "sapper_clearance", [clearance(A)]), at=AT)
    edited = clearance(B, cleared_m2="300")
    edited.key, edited.edits = A, 1
    summary = fd.import_export(reg, odk_zip(tmp_path / "v2.zip", "sapper_clearance", [edited]), at=AT)
    assert (summary.new, summary.versions) == (0, 1)
    staged = fd.list_staged(reg)
    assert [(s.submission.instance_id, s.submission.submission_key, s.version, s.submission.edits) for s in staged] \
        == [(A, A, 1, 0), (B, A, 2, 1)]
    assert staged[0].submission.value("cleared_m2") == "250,5" and staged[1].submission.value("cleared_m2") == "300"
    assert staged[1].history[0].reason == f"imported from v2.zip as version 2 of {A}"
    before = dump(db)
    fd.import_export(reg, tmp_path / "v1.zip", at=AT)
    fd.import_export(reg, tmp_path / "v2.zip", at=AT)
    assert dump(db) == before


def test_kobo_edits_link_by_deprecated_id_then_record_number(db: Path, tmp_path: Path, reg: Store) -> None:
    """Kobo: an edit naming the staged version in meta/deprecatedID is its next version; an edit whose deprecated
    version was never staged is linked by Kobo's record number _id; another _id is another submission."""
    fd.import_export(reg, kobo_xlsx(tmp_path / "v1.xlsx", "sapper_clearance", [clearance(A)]), at=AT)
    v2 = clearance(B, cleared_m2="260")
    v2.deprecated = A
    v2.kobo_id = 999  # as if on another server: only deprecatedID links it
    v4 = clearance(C, cleared_m2="280")
    v4.deprecated = "uuid:never-seen-v3"
    other = clearance("uuid:other", cleared_m2="10")
    other.kobo_id = 555
    summary = fd.import_export(reg, kobo_xlsx(tmp_path / "v2.xlsx", "sapper_clearance", [v2]), at=AT)
    assert summary.versions == 1
    summary = fd.import_export(reg, kobo_xlsx(tmp_path / "v4.xlsx", "sapper_clearance", [v4, other]), at=AT)
    assert (summary.versions, summary.new) == (1, 1)
    got = {s.submission.instance_id: (s.submission.submission_key, s.version, s.submission.edits)
           for s in fd.list_staged(reg)}
    assert got == {A: (A, 1, 0), B: (A, 2, 1), C: (A, 3, 2), "uuid:other": ("uuid:other", 1, 0)}


def test_kobo_edit_staged_before_the_version_it_replaces_is_still_the_latest(
    db: Path, tmp_path: Path, reg: Store
) -> None:
    """An old Kobo export imported after a newer one: the edit (meta/deprecatedID) is applied, not the original."""
    edit = clearance(B, cleared_m2="300")
    edit.deprecated = A
    fd.import_export(reg, kobo_xlsx(tmp_path / "new.xlsx", "sapper_clearance", [edit]), at=AT)
    fd.import_export(reg, kobo_xlsx(tmp_path / "old.xlsx", "sapper_clearance", [clearance(A)]), at=AT)
    assert [(s.submission.instance_id, s.version) for s in fd.list_staged(reg)] == [(B, 1), (A, 2)]
    approve(db, 1, 2)
    result = fd.apply_approved(reg, at=AT)
    assert (result.applied, result.superseded) == ([f"1 (clearance, {B}, version 1)"],
                                                   [f"2 (clearance, {A}, version 2)"])
    with open_store(db) as store:
        assert store.field_progress()[0].area_cleared_m2 == 300.0


def test_same_instance_with_other_answers_is_a_conflict(db: Path, tmp_path: Path, reg: Store) -> None:
    """The same instance id with other answers is reported as a conflict and nothing is written."""
    fd.import_export(reg, odk_zip(tmp_path / "a.zip", "sapper_clearance", [clearance(A)]), at=AT)
    before = dump(db)
    changed = fd.import_export(reg, odk_zip(tmp_path / "b.zip", "sapper_clearance", [clearance(A, cleared_m2="1")]))
    assert changed.unchanged == 0 and len(changed.conflicts) == 1 and A in changed.conflicts[0]
    assert dump(db) == before


def test_metadata_changes_or_missing_repeat_groups_are_not_new_answers(db: Path, tmp_path: Path, reg: Store) -> None:
    """A re-export where only the server's metadata changed, or a Kobo CSV (which has no repeat groups) of a
    version staged with its devices, is the same version: nothing is written."""
    fd.import_export(reg, odk_zip(tmp_path / "a.zip", "sapper_clearance", [clearance(A)]), at=AT)
    before = dump(db)
    reviewed = clearance(A)
    reviewed.submitter, reviewed.submitted = "Central admin", "2025-06-19T08:00:00.000Z"
    assert fd.import_export(reg, odk_zip(tmp_path / "b.zip", "sapper_clearance", [reviewed])).unchanged == 1
    summary = fd.import_export(reg, kobo_csv(tmp_path / "a.csv", "sapper_clearance", [clearance(A, repeats=[])]))
    assert (summary.unchanged, summary.conflicts) == (1, [])
    assert dump(db) == before


def test_a_csv_without_repeats_is_completed_by_the_xlsx(db: Path, tmp_path: Path, reg: Store) -> None:
    """Kobo's CSV has no repeat groups (said so); the XLSX of the same submission later completes it, in place."""
    csv_summary = fd.import_export(reg, kobo_csv(tmp_path / "c.csv", "sapper_clearance", [clearance(A, repeats=[])]),
                                   form_id="sapper_clearance", at=AT)
    assert any("has no repeat groups (devices)" in n for n in csv_summary.notes)
    done = fd.import_export(reg, kobo_xlsx(tmp_path / "c.xlsx", "sapper_clearance", [clearance(A)]), at=AT)
    assert (done.completed, done.new, done.conflicts) == (1, 0, [])
    (staged,) = fd.list_staged(reg)
    assert len(staged.submission.repeat("devices")) == 2 and staged.version == 1
    assert staged.history[-1].reason == "repeat groups (devices) added from c.xlsx; c.csv had none"


def test_rejected_rows_are_reported_and_the_rest_staged(db: Path, tmp_path: Path, reg: Store) -> None:
    """A submission with an unreadable row is left out and named; the others are staged in the same import."""
    bad = clearance(B)
    bad.repeats["devices"][0]["device_position"] = (135.0, 35.1)
    summary = fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A), bad]), at=AT)
    assert (summary.new, summary.rejected) == (1, 1)
    assert summary.lines()[1].startswith(f"rejected sapper_clearance-devices.csv row 4 (submission {B}): "
                                         "device_position-Latitude: is not a geopoint: latitude 135.0 is out")


def test_victims_personal_data_is_never_staged(db: Path, tmp_path: Path, reg: Store) -> None:
    """An accident report is staged without its victims' names and details; apply writes the accident (IMAS 10.60,
    audited, restricted), never the victims, and says their details go through the API."""
    report = Report(A, {"accident_date": "2025-06-01", "accident_location": (50.2, 35.2), "accident_type": "mine",
                        "device_category": "at_mine", "victim_count": "1"},
                    {"victims": [{"victim_name": "Олег Шевченко", "victim_gender": "male",
                                  "victim_birth_date": "1980-01-02", "victim_outcome": "injured"}]})
    summary = fd.import_export(reg, odk_zip(tmp_path / "sapper_accident.zip", "sapper_accident", [report]), at=AT)
    assert summary.kind == "accident" and any("personal data not kept: victim_birth_date" in n for n in summary.notes)
    raw = dump(db)
    assert "Шевченко" not in raw and "1980-01-02" not in raw
    approve(db, 1)
    result = fd.apply_approved(reg, at=AT)
    assert result.faults == [] and result.applied == [f"1 (accident, {A}, version 1)"]
    assert any("1 people killed or injured, 0 recorded with their details in the form" in n for n in result.notes)
    (accident,) = reg.accidents()
    assert (accident.id, accident.kind.value, accident.device_category.value, accident.victim_count,
            accident.sensitivity.value, accident.date.isoformat()) == (
        fd.accident_id(A), "mine", "at_mine", 1, "restricted", "2025-06-01")
    assert (accident.lon, accident.lat) == pytest.approx((35.2, 50.2))
    assert [e.action for e in reg.audit_entries(table_name="accidents", record_id=accident.id)] == ["insert"]
    assert reg.counts()["victims"] == 0
    raw = dump(db)
    assert "Шевченко" not in raw and "1980-01-02" not in raw
    assert fd.apply_approved(reg, at=AT).applied == []  # applying again changes nothing


def test_accident_report_without_device_category_is_not_applied(db: Path, tmp_path: Path, reg: Store) -> None:
    """An accident report missing a required answer stays approved with the reason; nothing is written."""
    report = Report(A, {"accident_date": "2025-06-01", "accident_location": (50.2, 35.2), "accident_type": "mine"})
    fd.import_export(reg, odk_zip(tmp_path / "sapper_accident.zip", "sapper_accident", [report]), at=AT)
    approve(db, 1)
    result = fd.apply_approved(reg, at=AT)
    assert result.faults == [f"1 (accident, {A}, version 1): device_category: is empty"]
    assert reg.accidents() == []


# ----------------------------------------------------------------------------------------------------
# Review workflow
# ----------------------------------------------------------------------------------------------------


def test_workflow_rules_and_history(db: Path, tmp_path: Path, reg: Store) -> None:
    """staged → reviewed → approved; no skipping, a rejection needs a reason, rejected is final; who/when/why kept."""
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A), clearance(B)]), at=AT)
    with pytest.raises(ValidationError, match="is staged and cannot become approved; it can become rejected, reviewed"):
        fd.change_state(reg, 1, "approved", actor="O. Kovalenko")
    with pytest.raises(ValidationError, match="a rejection needs a reason"):
        fd.change_state(reg, 2, "rejected", actor="O. Kovalenko")
    with pytest.raises(ValidationError, match="the actor"):
        fd.change_state(reg, 2, "reviewed", actor=" ")
    with pytest.raises(ValidationError, match="cannot be set to applied by hand"):
        fd.change_state(reg, 2, "applied", actor="O. Kovalenko")
    with pytest.raises(ValidationError, match="'done' is not one of staged"):
        fd.change_state(reg, 2, "done", actor="O. Kovalenko")
    with pytest.raises(NotFoundError, match="staged submission 9 is not in the store"):
        fd.change_state(reg, 9, "reviewed", actor="O. Kovalenko")
    fd.change_state(reg, 2, "rejected", actor="M. Bondar", reason="sent twice", at=AT)
    with pytest.raises(ValidationError, match="is rejected and cannot become reviewed; it can become nothing"):
        fd.change_state(reg, 2, "reviewed", actor="O. Kovalenko")
    fd.change_state(reg, 1, "reviewed", actor="O. Kovalenko", at=AT)
    fd.change_state(reg, 1, "approved", actor="O. Kovalenko", reason="matches the team's map", at=AT)
    first = fd.list_staged(reg, state="approved")[0]
    assert [(e.from_state, e.to_state, e.actor, e.reason) for e in first.history] == [
        (None, StagingState.STAGED, fd.IMPORT_ACTOR, "imported from x.zip"),
        (StagingState.STAGED, StagingState.REVIEWED, "O. Kovalenko", ""),
        (StagingState.REVIEWED, StagingState.APPROVED, "O. Kovalenko", "matches the team's map"),
    ]
    assert first.history[1].at == AT
    assert [s.id for s in fd.list_staged(reg, state="rejected")] == [2]
    assert fd.apply_approved(reg, at=AT).applied == [f"1 (clearance, {A}, version 1)"]


# ----------------------------------------------------------------------------------------------------
# Apply
# ----------------------------------------------------------------------------------------------------


def test_apply_clearance_progress_and_apply_twice_is_a_no_op(db: Path, tmp_path: Path, reg: Store) -> None:
    """An approved daily clearance report becomes one progress row with its devices; applying again changes nothing."""
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A)]), at=AT)
    approve(db, 1)
    result = fd.apply_approved(reg, at=AT)
    assert (result.applied, result.faults) == ([f"1 (clearance, {A}, version 1)"], [])
    with open_store(db) as store:
        (report,) = store.field_progress()
        assert store.field_submission(1).state is StagingState.APPLIED
    assert (report.hazard_id, report.team_id, report.work_date) == ("H-1", "T-1", dt.date(2025, 6, 18))
    assert (report.area_cleared_m2, report.deminers, report.hours_worked, report.devices_found) == (250.5, 6, 5.5, 2)
    assert report.geometry == Polygon([(lon, lat) for lat, lon in STRIP])
    first, second = report.devices
    assert (first.position, first.category, first.device_type, first.condition, first.depth_cm) == (
        Point(35.1021, 50.1015), DeviceCategory.AP_MINE, "PMN-2", DeviceCondition.ARMED, 7.0)
    assert (second.category, second.condition, second.depth_cm) == (DeviceCategory.ERW_UXO, DeviceCondition.DAMAGED,
                                                                    3.5)
    before = dump(db)
    assert fd.apply_approved(reg, at=AT + dt.timedelta(days=1)).lines() == ["applied 0, superseded 0, not applied 0"]
    assert dump(db) == before


def test_newer_approved_version_replaces_the_applied_one(db: Path, tmp_path: Path, reg: Store) -> None:
    """Version 2 approved after version 1 was applied replaces its progress row; version 1 becomes superseded; an
    older version approved after a newer one was applied is superseded without being applied."""
    fd.import_export(reg, odk_zip(tmp_path / "v1.zip", "sapper_clearance", [clearance(A)]), at=AT)
    approve(db, 1)
    fd.apply_approved(reg, at=AT)
    edited = clearance(B, cleared_m2="300", repeats=[], devices_found="no")
    edited.key, edited.edits = A, 1
    fd.import_export(reg, odk_zip(tmp_path / "v2.zip", "sapper_clearance", [edited]), at=AT)
    approve(db, 2)
    result = fd.apply_approved(reg, at=AT)
    assert (result.applied, result.superseded) == ([f"2 (clearance, {B}, version 2)"],
                                                   [f"1 (clearance, {A}, version 1)"])
    with open_store(db) as store:
        (report,) = store.field_progress()
        states = [store.field_submission(i).state for i in (1, 2)]
    assert (report.area_cleared_m2, report.devices_found, report.staged_id) == (300.0, 0, 2)
    assert states == [StagingState.SUPERSEDED, StagingState.APPLIED]
    assert counts(db)["field_progress_devices"] == 0
    # An export made before the edit, imported late: an older version; approved, it is superseded, not applied.
    old = clearance(C, cleared_m2="50")
    old.key, old.edits = A, 0
    fd.import_export(reg, odk_zip(tmp_path / "late.zip", "sapper_clearance", [old]), at=AT)
    approve(db, 3)
    late = fd.apply_approved(reg, at=AT)
    assert (late.applied, late.superseded) == ([], [f"3 (clearance, {C}, version 3)"])
    with open_store(db) as store:
        assert store.field_progress()[0].area_cleared_m2 == 300.0


def test_latest_of_several_approved_versions_is_applied(db: Path, tmp_path: Path, reg: Store) -> None:
    """When two versions of a submission are approved at once, only the one with more edits is applied."""
    v2 = clearance(B, cleared_m2="300")
    v2.key, v2.edits = A, 1
    fd.import_export(reg, odk_zip(tmp_path / "v2.zip", "sapper_clearance", [v2]), at=AT)  # the edit arrives first
    fd.import_export(reg, odk_zip(tmp_path / "v1.zip", "sapper_clearance", [clearance(A)]), at=AT)
    approve(db, 1, 2)
    result = fd.apply_approved(reg, at=AT)
    assert result.applied == [f"1 (clearance, {B}, version 1)"]
    assert result.superseded == [f"2 (clearance, {A}, version 2)"]


def test_unknown_hazard_stays_approved_with_a_fault_until_fixed(db: Path, tmp_path: Path, reg: Store) -> None:
    """An unknown hazard area or team is a fault kept on the version, which stays approved; applying again with
    nothing changed writes nothing; once the hazard area is in the store, it applies."""
    report = clearance(A, hazard_id="H-9", team_id="T-9")
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [report, clearance(B)]), at=AT)
    approve(db, 1, 2)
    result = fd.apply_approved(reg, at=AT)
    assert result.applied == [f"2 (clearance, {B}, version 1)"]
    assert result.faults == [f"1 (clearance, {A}, version 1): hazard_id: H-9 is not a hazard area in the store; "
                             "team_id: T-9 is not a team in the store (no id in the store is close to it: correct "
                             "the submission, or, if the register lacks this unit, add it with sapper import "
                             "workforce)"]
    with open_store(db) as store:
        staged = store.field_submission(1)
    assert staged.state is StagingState.APPROVED and staged.apply_fault is not None
    before = dump(db)
    assert len(fd.apply_approved(reg, at=AT).faults) == 1
    assert dump(db) == before
    with open_store(db) as store, store.write() as uow:
        uow.add_hazards([HazardArea("H-9", HazardClass.SHA, shapely.box(35.4, 50.4, 35.41, 50.41), Evidence.INDIRECT)])
        uow.add_teams([DeminerTeam("T-9", "op-1", Method.MANUAL, 6, Point(35.0, 50.0), 150.0)])
    assert fd.apply_approved(reg, at=AT).applied == [f"1 (clearance, {A}, version 1)"]
    with open_store(db) as store:
        assert store.field_submission(1).apply_fault is None


@pytest.mark.parametrize(("change", "fault"), [
    ({"devices_found": "yes", "repeats": []}, "devices_found: is yes, but no device is recorded"),
    ({"devices_found": "no"}, "devices_found: is no, but 2 devices are recorded"),
    ({"work_date": "06/18/2025"}, "work_date: '06/18/2025' is not a date (YYYY-MM-DD or DD.MM.YYYY)"),
    ({"cleared_m2": None, "cleared_shape": None}, "cleared_m2: is empty, and so is cleared_shape"),
    ({"hours_worked": "25"}, "hours_worked: a day has 24 hours, got 25.0"),
])
def test_answers_that_do_not_fit_are_faults(
    db: Path, tmp_path: Path, change: dict[str, object], fault: str, reg: Store
) -> None:
    """Inconsistent or unreadable answers keep the version approved with the reason, naming the field."""
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A, **change)]), at=AT)
    approve(db, 1)
    result = fd.apply_approved(reg, at=AT)
    assert result.applied == [] and result.faults == [f"1 (clearance, {A}, version 1): {fault}"]


def test_bad_device_entry_is_named(db: Path, tmp_path: Path, reg: Store) -> None:
    """A device entry with an unknown category is a fault naming the entry and the field."""
    report = clearance(A)
    report.repeats["devices"][1]["device_category"] = "grenade"
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [report]), at=AT)
    approve(db, 1)
    (fault,) = fd.apply_approved(reg, at=AT).faults
    assert fault.endswith("devices[2].device_category: 'grenade' is not one of ap_mine, at_mine, erw_uxo, "
                          "erw_axo, small_arms_ammunition, cluster_submunition, ied_booby_trap, unknown")


def test_clearance_area_from_the_outline_when_not_typed(db: Path, tmp_path: Path, reg: Store) -> None:
    """Without cleared_m2 the area of cleared_shape is used, and said so."""
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A, cleared_m2=None)]), at=AT)
    approve(db, 1)
    result = fd.apply_approved(reg, at=AT)
    with open_store(db) as store:
        area = store.field_progress()[0].area_cleared_m2
    assert area is not None and 40_000 < area < 50_000  # 0.003° × 0.002° at 50° N ≈ 214 m × 222 m
    assert any("is the area of cleared_shape" in n for n in result.notes)


def test_apply_clearance_from_kobo_geojson(db: Path, tmp_path: Path, reg: Store) -> None:
    """From Kobo's GeoJSON the feature's geometry stands in for cleared_shape, which the export leaves out."""
    report = clearance(A, devices_found="no", repeats=[])
    path = kobo_geojson(tmp_path / "c.geojson", "sapper_clearance", [report], "cleared_shape")
    fd.import_export(reg, path, form_id="sapper_clearance", at=AT)
    approve(db, 1)
    assert fd.apply_approved(reg, at=AT).faults == []
    with open_store(db) as store:
        (progress,) = store.field_progress()
    assert progress.geometry == Polygon([(lon, lat) for lat, lon in STRIP]) and progress.area_cleared_m2 == 250.5


def test_apply_brigade_progress_from_kobo(db: Path, tmp_path: Path, reg: Store) -> None:
    """A brigade report from a Kobo ';' CSV becomes a brigade progress row; percent above 100 is a fault."""
    good = Report(A, {"work_date": "18.06.2025", "brigade_id": "B-1", "asset_id": "A-1", "trade": "bridge",
                      "builder_days": "12,5", "percent_complete": "40", "blocked_by_hazard": "yes",
                      "blocking_hazard_id": "H-2", "blocking_location": (50.205, 35.205)})
    bad = Report(B, {**good.answers, "percent_complete": "140"}, kobo_id=102)
    summary = fd.import_export(reg, kobo_csv(tmp_path / "b.csv", "sapper_brigade", [good, bad]),
                               form_id="sapper_brigade", at=AT)
    assert summary.kind == "brigade"
    approve(db, 1, 2)
    result = fd.apply_approved(reg, at=AT)
    assert result.faults == [f"2 (brigade, {B}, version 1): percent_complete: must be between 0 and 100, got 140.0"]
    with open_store(db) as store:
        (report,) = store.field_progress()
    assert (report.kind.value, report.asset_id, report.brigade_id, report.work_date) == (
        "brigade", "A-1", "B-1", dt.date(2025, 6, 18))
    assert (report.builder_days, report.percent_complete, report.blocked_by_hazard, report.blocking_hazard_id) == (
        12.5, 40.0, True, "H-2")
    assert report.geometry == Point(35.205, 50.205)


def _nts(instance: str, **answers: object) -> Report:
    values: dict[str, object] = {"survey_date": "2025-06-10", "organisation_id": "op-1", "team_id": "T-1",
                                 "new_area": "no", "hazard_id": "H-1", "evidence_found": "no", "outcome": "reduce",
                                 "cancelled_shape": STRIP}
    values.update(answers)
    return Report(instance, values)


def test_apply_nts_and_ts_as_activities(db: Path, tmp_path: Path, reg: Store) -> None:
    """NTS `reduce` cancels cancelled_shape; NTS `cancel` cancels the whole area; TS reduces reduced_shape and
    records its devices; each becomes an activity of the store."""
    fd.import_export(reg, odk_zip(tmp_path / "sapper_nts.zip", "sapper_nts",
                                 [_nts(A), _nts(B, hazard_id="H-2", outcome="cancel", cancelled_shape=None)]), at=AT)
    ts = clearance(C)
    ts.answers = {"survey_date": "2025-06-12", "organisation_id": "op-1", "hazard_id": "H-1", "ts_type": "targeted",
                  "method": "manual", "devices_found": "yes",
                  "reduced_shape": [(50.105, 35.105), (50.105, 35.108), (50.108, 35.108), (50.105, 35.105)]}
    fd.import_export(reg, odk_zip(tmp_path / "sapper_ts.zip", "sapper_ts", [ts]), at=AT)
    approve(db, 1, 2, 3)
    result = fd.apply_approved(reg, at=AT)
    assert len(result.applied) == 3 and result.faults == []
    with open_store(db) as store:
        acts = {a.id: a for a in store.activities()}
        h2 = store.hazard("H-2").geometry
    nts, cancel, tsa = (acts[fd.activity_id(k)] for k in (A, B, C))
    assert (nts.activity_type, nts.hazard_id, nts.method, nts.start, nts.organisation_id) == (
        ActivityType.NTS, "H-1", Method.SURVEY, dt.date(2025, 6, 10), "op-1")
    assert nts.cancelled == Polygon([(lon, lat) for lat, lon in STRIP])
    assert cancel.cancelled is not None and cancel.cancelled.equals(h2)
    assert (tsa.activity_type, tsa.method, len(tsa.devices)) == (ActivityType.TS, Method.MANUAL, 2)
    assert tsa.reduced is not None and tsa.reduced.area > 0
    assert any("outcome cancel: the whole of hazard area H-2 is cancelled" in n for n in result.notes)


def test_nts_of_a_new_area_says_what_to_do(db: Path, tmp_path: Path, reg: Store) -> None:
    """An NTS of a new area names the unknown hazard area and tells to import it first."""
    fd.import_export(reg, odk_zip(tmp_path / "sapper_nts.zip", "sapper_nts",
                                 [_nts(A, new_area="yes", hazard_id="H-NEW")]), at=AT)
    approve(db, 1)
    (fault,) = fd.apply_approved(reg, at=AT).faults
    assert "H-NEW is not a hazard area in the store (the survey registers a new area: add it to the register with " \
           "sapper import hazards, then apply again)" in fault


def test_unknown_form_is_staged_but_not_applied(db: Path, tmp_path: Path, reg: Store) -> None:
    """An export of a form that is not a template is staged (with a note); applying it is a clear fault."""
    path = tmp_path / "household.csv"
    path.write_text('"name";"_uuid";"_id"\n"Bob";"abc";"1"\n', encoding="utf-8")
    summary = fd.import_export(reg, path, at=AT)
    assert summary.kind == fd.UNKNOWN_FORM and any("is not one of sapper's templates" in n for n in summary.notes)
    approve(db, 1)
    assert fd.apply_approved(reg, at=AT).faults == ["1 (unknown, uuid:abc, version 1): form household is not one of "
                                                   "sapper's templates"]


def test_form_told_by_its_columns_without_a_form_id(db: Path, tmp_path: Path, reg: Store) -> None:
    """A Kobo export named by its asset (no form id) is recognised by having every field of a template."""
    summary = fd.import_export(reg, kobo_xlsx(tmp_path / "aKx7Q2_2025_06_18.xlsx", "sapper_clearance",
                                             [clearance(A)]), at=AT)
    assert (summary.form_id, summary.kind) == ("aKx7Q2_2025_06_18", "clearance")


def test_apply_reads_only_template_fields() -> None:
    """Every field apply reads is in sapper's XLSForm templates (sapper.io.form_fields), with a fitting type."""
    for form, names in fd.APPLY_READS.items():
        if form == "devices":
            for key in ("clearance", "ts"):
                assert set(names) <= set(FIELD_NAMES[key].repeats["devices"]), key
            continue
        for name in names:
            FIELD_NAMES[form].type_of(name)
    assert FIELD_NAMES["clearance"].type_of("cleared_shape") == "geoshape"
    assert FIELD_NAMES["brigade"].type_of("blocking_location") == "geopoint"


# ----------------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------------


def test_cli_field_commands(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """import field, field list (text and JSON), review, approve, reject and apply, with their exit codes."""
    monkeypatch.setenv("COLUMNS", "1000")
    export = odk_zip(tmp_path / "sapper_clearance.zip", "sapper_clearance", [clearance(A), clearance(B)])
    code, out, _ = run(monkeypatch, capsys, "import", "field", str(export), "--db", str(db))
    assert code == 0 and out.splitlines()[0].startswith("sapper_clearance.zip: odk_central form sapper_clearance "
                                                        "(clearance): staged 2 new")
    code, out, _ = run(monkeypatch, capsys, "field", "list", "--db", str(db))
    assert code == 0 and [line.split()[:3] for line in out.splitlines()[1:]] == [["1", "staged", "v1"],
                                                                                 ["2", "staged", "v1"]]
    code, _, err = run(monkeypatch, capsys, "field", "approve", "1", "--db", str(db), "--actor", "OK")
    assert code == 2 and "is staged and cannot become approved" in err
    code, _, err = run(monkeypatch, capsys, "field", "reject", "2", "--db", str(db), "--actor", "OK")
    assert code == 2 and "a rejection needs a reason" in err
    code, _, err = run(monkeypatch, capsys, "field", "review", "7", "--db", str(db), "--actor", "OK")
    assert code == 3 and err.startswith("sapper: error [not_found]: staged submission 7 is not in the store")
    for args in (("review", "1"), ("approve", "1", "--reason", "checked"), ("reject", "2", "--reason", "duplicate")):
        code, out, _ = run(monkeypatch, capsys, "field", *args, "--db", str(db), "--actor", "O. Kovalenko")
        assert code == 0 and out.startswith(f"staged submission {args[1]} (")
    code, out, _ = run(monkeypatch, capsys, "field", "apply", "--db", str(db))
    assert code == 0 and out.splitlines()[0] == "applied 1, superseded 0, not applied 0"
    code, out, _ = run(monkeypatch, capsys, "field", "list", "--db", str(db), "--state", "applied", "--json")
    (doc,) = json.loads(out)
    assert (doc["id"], doc["instance_id"], doc["fields"]["cleared_m2"], len(doc["repeats"]["devices"])) == (
        1, A, "250,5", 2)
    assert doc["geometries"]["cleared_shape"].startswith("POLYGON ((35.101 50.101")
    assert [h["to"] for h in doc["history"]] == ["staged", "reviewed", "approved", "applied"]
    code, _, err = run(monkeypatch, capsys, "field", "list", "--db", str(db), "--state", "done")
    assert code == 2 and "'done' is not one of staged" in err
    code, out, _ = run(monkeypatch, capsys, "import", "field", str(export), "--db", str(db), "--strict")
    assert code == 0 and "staged 0 new, 0 new versions, 2 already staged" in out


def test_a_new_version_cannot_change_an_activity_in_a_land_release_history(
    db: Path, tmp_path: Path, reg: Store
) -> None:
    """Once the land-release service has taken an applied NTS into the area's history, a newer version of it is a
    fault (the store refuses the change), written nowhere, while the rest of the same apply goes through."""
    from sapper.services import landrelease

    inside = [(50.201, 35.201), (50.201, 35.203), (50.203, 35.203), (50.201, 35.201)]
    fd.import_export(reg, odk_zip(tmp_path / "n1.zip", "sapper_nts", [_nts(A, hazard_id="H-2",
                                                                          cancelled_shape=inside)]), at=AT)
    approve(db, 1)
    assert fd.apply_approved(reg, at=AT).applied
    landrelease.reclassify(reg, "H-2", evidence="AP mine found at the fence", actor="QA", reason="direct evidence",
                           at=AT + dt.timedelta(days=1))
    edited = _nts(B, hazard_id="H-2", cancelled_shape=[*inside[:1], (50.201, 35.205), (50.204, 35.205), *inside[:1]])
    edited.key, edited.edits = A, 1
    fd.import_export(reg, odk_zip(tmp_path / "n2.zip", "sapper_nts", [edited]), at=AT)
    fd.import_export(reg, odk_zip(tmp_path / "c.zip", "sapper_clearance", [clearance(C)]), at=AT)
    approve(db, 2, 3)
    with open_store(db) as store:
        activity_before = store.activities("H-2")
    result = fd.apply_approved(reg, at=AT + dt.timedelta(days=2))
    assert result.applied == [f"3 (clearance, {C}, version 1)"]
    (fault,) = result.faults
    assert fault.startswith(f"2 (nts, {B}, version 2): refused by the store: ") and "land-release history" in fault
    with open_store(db) as store:
        assert store.activities("H-2") == activity_before
        assert [store.field_submission(i).state for i in (1, 2, 3)] == [
            StagingState.APPLIED, StagingState.APPROVED, StagingState.APPLIED]
        assert len(store.field_progress()) == 1


def test_clearance_progress_adds_its_cleared_land_to_the_record(db: Path, tmp_path: Path, reg: Store) -> None:
    """An applied daily clearance report with its outline becomes an ongoing clearance activity (depth, method,
    organisation and devices kept), which the area's next land-release change adopts into its history."""
    from sapper.domain.activities import ActivityStatus
    from sapper.domain.landrelease import EventKind
    from sapper.services import landrelease

    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A)]), at=AT)
    approve(db, 1)
    assert fd.apply_approved(reg, at=AT).faults == []
    with open_store(db) as store:
        (act,) = store.activities("H-1")
    assert (act.activity_type, act.status, act.clearance_depth_cm, act.method, act.organisation_id) == (
        ActivityType.CLEARANCE, ActivityStatus.ONGOING, 13.0, Method.MANUAL, "op-1")
    assert act.cleared == Polygon([(lon, lat) for lat, lon in STRIP]) and len(act.devices) == 2
    uxo = act.devices[1]
    assert (uxo.quantity, uxo.fuze, uxo.disposal, uxo.disposal_date) == (
        3, "UDZ", Disposal.DESTROYED_IN_PLACE, dt.date(2025, 6, 18))
    assert act.devices[0].quantity == 1 and act.devices[0].disposal is None
    done = landrelease.extend(reg, "H-1", shapely.box(35.11, 50.10, 35.111, 50.11), actor="IMO",
                              reason="clearance continues east", at=AT + dt.timedelta(days=1))
    adopted = done.events[1]
    assert adopted.kind is EventKind.ACTIVITY and adopted.activity is not None and adopted.activity.id == act.id
    assert adopted.cleared_m2 > 0


def test_clearance_report_without_depth_is_a_fault(db: Path, tmp_path: Path, reg: Store) -> None:
    """The clearance depth is mandatory in a clearance report (IMAS 09.10)."""
    fd.import_export(reg, odk_zip(tmp_path / "x.zip", "sapper_clearance", [clearance(A, clearance_depth_cm=None)]),
                     at=AT)
    approve(db, 1)
    (fault,) = fd.apply_approved(reg, at=AT).faults
    assert fault.endswith("clearance_depth_cm: is empty")


def test_nts_confirm_makes_the_area_a_cha(db: Path, tmp_path: Path, reg: Store) -> None:
    """An NTS with outcome `confirm` is direct evidence: applied, it is an activity carrying it, and the area becomes
    a CHA (an automatic reclassification) when the activity enters its land-release history."""
    from sapper.domain.landrelease import EventKind
    from sapper.services import landrelease

    fd.import_export(reg, odk_zip(tmp_path / "n.zip", "sapper_nts", [_nts(A, hazard_id="H-2", outcome="confirm",
                                                                          cancelled_shape=None)]), at=AT)
    approve(db, 1)
    result = fd.apply_approved(reg, at=AT)
    assert result.faults == [] and any("outcome confirm: direct evidence" in n for n in result.notes)
    with open_store(db) as store:
        (act,) = store.activities("H-2")
    assert act.direct_evidence.startswith("NTS outcome confirm") and not act.outcomes
    done = landrelease.extend(reg, "H-2", shapely.box(35.21, 50.2, 35.211, 50.21), actor="IMO", reason="r",
                              at=AT + dt.timedelta(days=1))
    assert [e.kind for e in done.events][:3] == [EventKind.RECORDED, EventKind.ACTIVITY, EventKind.RECLASSIFIED]
    assert landrelease.history(reg, "H-2").hazard.hazard_class is HazardClass.CHA


def test_survey_records_the_benchmark_and_marking_of_the_area(db: Path, tmp_path: Path, reg: Store) -> None:
    """An NTS giving the benchmark (outside the area) and the marking updates the register's record of the area; a
    benchmark inside the area is a fault naming the submission, and nothing of it is applied."""
    fd.import_export(reg, odk_zip(tmp_path / "n.zip", "sapper_nts", [
        _nts(A, hazard_id="H-2", outcome="sha", cancelled_shape=None, benchmark=(50.199, 35.199), marking="fenced"),
        _nts(B, hazard_id="H-1", outcome="sha", cancelled_shape=None, benchmark=(50.105, 35.105))]), at=AT)
    approve(db, 1, 2)
    result = fd.apply_approved(reg, at=AT)
    assert result.applied == [f"1 (nts, {A}, version 1)"]
    (fault,) = result.faults
    assert fault.startswith(f"2 (nts, {B}, version 1)") and "benchmark lies inside the area" in fault
    with open_store(db) as store:
        h2, h1 = store.hazard("H-2"), store.hazard("H-1")
    assert (h2.benchmark, h2.marking) == (Point(35.199, 50.199), Marking.FENCED)
    assert h1.benchmark is None
