"""The SQL of field-data staging: staged versions of submissions, their review history, and progress reports.

Used through ``UnitOfWork.field_staging`` (writes and reads inside one transaction) and the ``Store.field_*`` reads.
Nothing is written that does not change something: staging a version already staged, or setting a fault already
recorded, leaves every table (and the GeoPackage's ``last_change``) as it was.

Which submission a new version belongs to (see docs/field-data.md):

1. its ``instance_id`` is already staged → the same version: nothing to do, unless the answers differ, which is a
   conflict (an instance id names one version; nothing is overwritten). One exception: a version staged from a file
   that cannot carry repeat groups (Kobo's CSV, ODK Central's root CSV) and not yet applied is *completed* when it
   comes again with its repeat groups and the same other answers (and the other way round, such a file brings
   nothing new to a version staged with its repeat groups);
2. its ``submission_key`` is staged (ODK Central's ``KEY``, Kobo's ``meta/rootUuid``) → a new version of it;
3. its ``deprecated_id`` (``meta/deprecatedID``) is a staged instance → a new version of that one's submission;
4. (KoboToolbox) a staged version has the same record number ``_id`` → a new version of that one's submission;
5. otherwise a new submission.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import shapely
from sqlalchemy import Row, and_, delete, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from sapper.domain.accidents import VICTIM_FIELDS, ReportedAccident
from sapper.domain.activities import Activity, DeviceCondition, DeviceFound
from sapper.domain.fielddata import (
    ProgressKind,
    ProgressReport,
    RepeatRow,
    StagedSubmission,
    StagingEvent,
    StagingState,
    Submission,
    SubmissionSource,
    check_transition,
)
from sapper.domain.hazards import DeviceCategory, HazardArea
from sapper.domain.users import AuditEntry
from sapper.errors import DataKeyError, Fault, NotFoundError, ValidationError
from sapper.messages import msg
from sapper.store import accidents as accident_rows
from sapper.store import repository as repo
from sapper.store import schema
from sapper.store.accounts import audit_json, write_audit
from sapper.store.cipher import FieldCipher

_S = schema.field_submissions
_E = schema.field_submission_events
_P = schema.field_progress
_D = schema.field_progress_devices

STAGING_TABLES = ("field_submissions", "field_submission_events")
PROGRESS_TABLES = ("field_progress", "field_progress_devices")
ACTIVITY_TABLES = ("activities", "land_release_outcomes", "devices_found")


class StageOutcome(StrEnum):
    NEW = "new"  # a submission not seen before
    VERSION = "version"  # a new version of a staged submission
    UNCHANGED = "unchanged"  # this very version is already staged
    COMPLETED = "completed"  # staged from a file without repeat groups; now they came (same other answers)
    CONFLICT = "conflict"  # this instance id is staged with other answers; nothing written


@dataclass(frozen=True, slots=True)
class StageResult:
    outcome: StageOutcome
    staged_id: int
    version: int
    submission_key: str


# ----------------------------------------------------------------------------------------------------
# Submissions ↔ rows
# ----------------------------------------------------------------------------------------------------


def _geoms(geoms: dict[str, Any]) -> dict[str, str]:
    return {k: str(shapely.to_wkt(g, rounding_precision=-1)) for k, g in geoms.items()}


def _payload(sub: Submission) -> str:
    doc = {
        "fields": sub.fields,
        "geometries": _geoms(sub.geometries),
        "repeats": {path: [{"key": r.key, "parent_key": r.parent_key, "fields": r.fields,
                            "geometries": _geoms(r.geometries)} for r in rows]
                    for path, rows in sub.repeats.items()},
        "tool_meta": sub.tool_meta,
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


def _submission_from(row: Any) -> Submission:
    doc = json.loads(row.payload)

    def geoms(d: dict[str, str]) -> dict[str, Any]:
        return {k: shapely.from_wkt(v) for k, v in d.items()}

    return Submission(
        source=SubmissionSource(row.source),
        form_id=row.form_id,
        instance_id=row.instance_id,
        submission_key=row.submission_key,
        form_version=row.form_version,
        submitted_at=row.submitted_at,
        submitter=row.submitter,
        edits=int(row.edits),
        deprecated_id=row.deprecated_id,
        record_id=row.record_id,
        fields=doc["fields"],
        geometries=geoms(doc["geometries"]),
        repeats={path: [RepeatRow(r["key"], r["parent_key"], r["fields"], geoms(r["geometries"])) for r in rows]
                 for path, rows in doc["repeats"].items()},
        tool_meta=doc["tool_meta"],
    )


def _event_from(row: Any) -> StagingEvent:
    return StagingEvent(
        from_state=StagingState(row.from_state) if row.from_state else None,
        to_state=StagingState(row.to_state),
        actor=row.actor,
        at=row.at,
        reason=row.reason,
    )


def _staged_from(row: Any, history: Sequence[StagingEvent]) -> StagedSubmission:
    return StagedSubmission(
        id=int(row.id),
        submission=_submission_from(row),
        version=int(row.version),
        kind=row.kind,
        state=StagingState(row.state),
        imported_at=row.imported_at,
        source_file=row.source_file,
        apply_fault=row.apply_fault,
        history=tuple(history),
    )


def _device_row(progress_fid: int, d: DeviceFound) -> dict[str, Any]:
    return {"progress_fid": progress_fid, "geom": d.position, "category": d.category.value,
            "device_type": d.device_type, "condition": d.condition.value, "depth_cm": d.depth_cm}


def _progress_row(report: ProgressReport, staged_id: int) -> dict[str, Any]:
    return {
        "geom": report.geometry,
        "submission_key": report.submission_key,
        "submission_id": staged_id,
        "kind": report.kind.value,
        "work_date": report.work_date,
        "hazard_id": report.hazard_id,
        "team_id": report.team_id,
        "asset_id": report.asset_id,
        "brigade_id": report.brigade_id,
        "area_cleared_m2": report.area_cleared_m2,
        "devices_found": report.devices_found,
        "deminers": report.deminers,
        "hours_worked": report.hours_worked,
        "builder_days": report.builder_days,
        "percent_complete": report.percent_complete,
        "blocked_by_hazard": None if report.blocked_by_hazard is None else int(report.blocked_by_hazard),
        "blocking_hazard_id": report.blocking_hazard_id,
        "task_order": report.task_order,
    }


def _progress_from(row: Any, devices: Sequence[Any]) -> ProgressReport:
    return ProgressReport(
        submission_key=row.submission_key,
        kind=ProgressKind(row.kind),
        work_date=row.work_date,
        hazard_id=row.hazard_id,
        team_id=row.team_id,
        asset_id=row.asset_id,
        brigade_id=row.brigade_id,
        area_cleared_m2=row.area_cleared_m2,
        deminers=row.deminers,
        hours_worked=row.hours_worked,
        builder_days=row.builder_days,
        percent_complete=row.percent_complete,
        blocked_by_hazard=None if row.blocked_by_hazard is None else bool(row.blocked_by_hazard),
        blocking_hazard_id=row.blocking_hazard_id,
        task_order=row.task_order,
        geometry=row.geom,
        devices=tuple(DeviceFound(d.geom, DeviceCategory(d.category), d.device_type, DeviceCondition(d.condition),
                                  d.depth_cm) for d in devices),
        staged_id=int(row.submission_id),
    )


# ----------------------------------------------------------------------------------------------------
# The staging area of one unit of work
# ----------------------------------------------------------------------------------------------------


class FieldStaging:
    """Field-data staging on the connection of one unit of work; ``touched`` collects the tables written."""

    def __init__(self, conn: Connection, touched: set[str]) -> None:
        self._conn = conn
        self._touched = touched

    # Reads ------------------------------------------------------------------------------------------

    def _rows(self, *where: Any) -> list[Row[Any]]:
        return list(self._conn.execute(select(_S).where(*where).order_by(_S.c.id)))

    def _history(self, ids: Iterable[int]) -> dict[int, list[StagingEvent]]:
        out: dict[int, list[StagingEvent]] = {}
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for r in self._conn.execute(select(_E).where(_E.c.submission_id.in_(chunk)).order_by(_E.c.id)):
                out.setdefault(int(r.submission_id), []).append(_event_from(r))
        return out

    def _staged(self, rows: Sequence[Row[Any]]) -> list[StagedSubmission]:
        history = self._history(int(r.id) for r in rows)
        return [_staged_from(r, history.get(int(r.id), [])) for r in rows]

    def get(self, staged_id: int) -> StagedSubmission:
        """One staged version; NotFoundError when there is none with that id."""
        rows = self._rows(_S.c.id == staged_id)
        if not rows:
            raise NotFoundError(f"staged submission {staged_id} is not in the store")
        return self._staged(rows)[0]

    def submissions(self, state: StagingState | None = None) -> list[StagedSubmission]:
        """Staged versions in the order they were staged (only those in ``state``, if given)."""
        return self._staged(self._rows(*([_S.c.state == state.value] if state else [])))

    def versions(self, submission_key: str) -> list[StagedSubmission]:
        """Every staged version of one submission, by version number."""
        return sorted(self._staged(self._rows(_S.c.submission_key == submission_key)), key=lambda s: s.version)

    def progress(self) -> list[ProgressReport]:
        rows = list(self._conn.execute(select(_P).order_by(_P.c.work_date, _P.c.fid)))
        devices: dict[int, list[Any]] = {}
        for d in self._conn.execute(select(_D).order_by(_D.c.fid)):
            devices.setdefault(int(d.progress_fid), []).append(d)
        return [_progress_from(r, devices.get(int(r.fid), [])) for r in rows]

    def existing(self, table: str, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` in ``table`` (hazard_areas, assets, teams, brigades, organisations)."""
        return repo.existing_ids(self._conn, schema.metadata.tables[table], ids)

    def ids(self, table: str) -> set[str]:
        """Every id of ``table`` (hazard_areas, assets, teams, brigades, organisations)."""
        column = schema.metadata.tables[table].c.id
        return {str(v) for v in self._conn.execute(select(column)).scalars()}

    # Staging ----------------------------------------------------------------------------------------

    def _key_for(self, sub: Submission) -> str:
        """The submission a new version belongs to (rules 2–5 of the module docstring)."""
        if self._conn.execute(select(_S.c.id).where(_S.c.submission_key == sub.submission_key).limit(1)).first():
            return sub.submission_key
        if sub.deprecated_id:
            found = self._conn.execute(select(_S.c.submission_key).where(_S.c.instance_id == sub.deprecated_id)
                                       ).scalar()
            if found is not None:
                return str(found)
        if sub.source is SubmissionSource.KOBOTOOLBOX and sub.record_id:
            found = self._conn.execute(
                select(_S.c.submission_key).where(and_(_S.c.source == sub.source.value,
                                                       _S.c.record_id == sub.record_id)).limit(1)).scalar()
            if found is not None:
                return str(found)
        return sub.submission_key

    @staticmethod
    def _same_root(staged: Submission, sub: Submission) -> bool:
        mine, theirs = staged.content(), sub.content()
        return all(mine[k] == theirs[k] for k in ("fields", "geometries"))

    @classmethod
    def _carries_less(cls, row: Any, sub: Submission) -> bool:
        """True when ``sub`` is staged version ``row`` from a file without repeat groups (Kobo's CSV)."""
        staged = _submission_from(row)
        return bool(staged.repeats) and not sub.repeats and cls._same_root(staged, sub)

    @classmethod
    def _completes(cls, row: Any, sub: Submission) -> bool:
        """True when ``sub`` is the staged, unapplied version ``row`` plus the repeat groups its file lacked."""
        staged = _submission_from(row)
        if staged.repeats or not sub.repeats or row.state in (StagingState.APPLIED, StagingState.SUPERSEDED):
            return False
        return cls._same_root(staged, sub)

    def stage(self, sub: Submission, *, kind: str, source_file: str, actor: str, at: dt.datetime,
              content_hash: str | None = None) -> StageResult:
        """Stage one version (see the module docstring for which submission it joins); writes nothing when it is
        already staged, or staged with other answers (a conflict). ``content_hash``: what its answers are compared
        by, when not ``sub.content_hash()`` (answers staged encrypted are compared by their keyed fingerprints)."""
        content_hash = content_hash or sub.content_hash()
        same = self._conn.execute(select(_S).where(_S.c.instance_id == sub.instance_id)).first()
        if same is not None:
            result = StageResult(StageOutcome.UNCHANGED, int(same.id), int(same.version), str(same.submission_key))
            if same.content_hash == content_hash or self._carries_less(same, sub):
                return result
            if not self._completes(same, sub):
                return dataclasses.replace(result, outcome=StageOutcome.CONFLICT)
            self._conn.execute(update(_S).where(_S.c.id == same.id).values(content_hash=content_hash,
                                                                            payload=_payload(sub)))
            state = StagingState(same.state)
            self._event(int(same.id), state, state, actor, at, f"repeat groups ({', '.join(sorted(sub.repeats))}) "
                        f"added from {source_file}; {same.source_file} had none")
            self._touched.update(STAGING_TABLES)
            return dataclasses.replace(result, outcome=StageOutcome.COMPLETED)
        key = self._key_for(sub)
        earlier = self._conn.execute(select(func.max(_S.c.version), func.max(_S.c.edits))
                                     .where(_S.c.submission_key == key)).first()
        last_version = int(earlier[0]) if earlier is not None and earlier[0] is not None else 0
        # ODK Central counts edits itself; for Kobo an edit is one more than the versions before it.
        edits = sub.edits
        if sub.source is SubmissionSource.KOBOTOOLBOX and last_version and earlier is not None:
            edits = max(sub.edits, int(earlier[1]) + 1)
        version = last_version + 1
        staged_id = int(self._conn.execute(_S.insert().values(
            instance_id=sub.instance_id, submission_key=key, version=version, source=sub.source.value,
            form_id=sub.form_id, form_version=sub.form_version, kind=kind, submitted_at=sub.submitted_at,
            submitter=sub.submitter, edits=edits, deprecated_id=sub.deprecated_id, record_id=sub.record_id,
            content_hash=content_hash, payload=_payload(sub), source_file=source_file,
            state=StagingState.STAGED.value, imported_at=at,
        )).inserted_primary_key[0])  # type: ignore[index]
        why = f"imported from {source_file}" + (f" as version {version} of {key}" if version > 1 else "")
        self._event(staged_id, None, StagingState.STAGED, actor, at, why)
        self._touched.update(STAGING_TABLES)
        return StageResult(StageOutcome.VERSION if version > 1 else StageOutcome.NEW, staged_id, version, key)

    def replace_answers(self, staged_id: int, sub: Submission) -> None:
        """Keep ``sub`` as the answers of version ``staged_id``, its content hash unchanged (so the same export
        imported again is still "unchanged"): used to take victims' answers out of staging once they are applied."""
        self._conn.execute(update(_S).where(_S.c.id == staged_id).values(payload=_payload(sub)))
        self._touched.update(STAGING_TABLES)

    def _event(self, staged_id: int, from_state: StagingState | None, to_state: StagingState, actor: str,
               at: dt.datetime, reason: str) -> None:
        self._conn.execute(_E.insert().values(
            submission_id=staged_id, from_state=from_state.value if from_state else None, to_state=to_state.value,
            actor=actor.strip(), at=at, reason=reason.strip()))

    def transition(self, staged_id: int, to_state: StagingState, *, actor: str, reason: str, at: dt.datetime
                   ) -> StagedSubmission:
        """Move one version to ``to_state`` (the workflow's rules: ``check_transition``), recording who, when, why."""
        current = self.get(staged_id)
        check_transition(current.record, current.state, to_state, actor=actor, reason=reason)
        self._conn.execute(update(_S).where(_S.c.id == staged_id).values(state=to_state.value))
        self._event(staged_id, current.state, to_state, actor, at, reason)
        self._touched.update(STAGING_TABLES)
        return self.get(staged_id)

    def transition_many(self, staged_ids: Sequence[int], to_state: StagingState, *, actor: str, reason: str,
                        at: dt.datetime) -> list[StagedSubmission]:
        """:meth:`transition` of several versions, in the order given, with a few statements rather than a few per
        version. Checks them all before writing anything: the first that cannot move (unknown: NotFoundError; the
        workflow's rules: ValidationError) stops it with nothing written."""
        wanted = list(dict.fromkeys(staged_ids))
        rows: dict[int, Row[Any]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows.update((int(r.id), r) for r in self._rows(_S.c.id.in_(chunk)))
        for staged_id in wanted:
            row = rows.get(staged_id)
            if row is None:
                raise NotFoundError(f"staged submission {staged_id} is not in the store")
            record = f"staged submission {staged_id} ({row.instance_id}, version {row.version})"
            check_transition(record, StagingState(row.state), to_state, actor=actor, reason=reason)
        if not wanted:
            return []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            self._conn.execute(update(_S).where(_S.c.id.in_(chunk)).values(state=to_state.value))
        self._conn.execute(_E.insert(), [
            {"submission_id": i, "from_state": rows[i].state, "to_state": to_state.value, "actor": actor.strip(),
             "at": at, "reason": reason.strip()} for i in wanted])
        self._touched.update(STAGING_TABLES)
        after: dict[int, StagedSubmission] = {}
        for start in range(0, len(wanted), 500):
            after.update((s.id, s) for s in self._staged(self._rows(_S.c.id.in_(wanted[start:start + 500]))))
        return [after[i] for i in wanted]

    def set_apply_fault(self, staged_id: int, fault: str | None) -> None:
        """Record why ``apply`` could not apply a version (None clears it); nothing is written if it is the same."""
        result = self._conn.execute(update(_S).where(and_(_S.c.id == staged_id,
                                                          _S.c.apply_fault.is_distinct_from(fault)))
                                    .values(apply_fault=fault))
        if result.rowcount:
            self._touched.add("field_submissions")

    # Applying ---------------------------------------------------------------------------------------

    def apply(self, staged_id: int,
              effect: (ProgressReport | Activity | tuple[ProgressReport, Activity] | tuple[Activity, HazardArea]
                       | ReportedAccident), *,
              actor: str, at: dt.datetime, supersede: Sequence[int] = (), cipher: FieldCipher | None = None) -> None:
        """Write what version ``staged_id`` says to the register and mark it applied; versions ``supersede`` become
        superseded. Every hazard area, activity and accident written gets an audit row (who applied it, from which
        submission). All of it or none of it (a savepoint): a refusal by the database is a ValidationError naming
        the version, and leaves the rest of the unit of work alone."""
        staged = self.get(staged_id)
        where = f"version {staged.version}"
        why = f"field submission {staged.submission.submission_key} {where}"
        try:
            with self._conn.begin_nested():
                if isinstance(effect, tuple) and isinstance(effect[1], HazardArea):  # a survey that marked the area
                    survey, marked = effect
                    assert isinstance(survey, Activity)
                    self._audit_activity(survey, actor, why)
                    repo.add_activities(self._conn, [survey], replace=True)
                    self._audit(actor, "hazard_areas", marked.id, "update", why,
                                {"benchmark": None if marked.benchmark is None else marked.benchmark.wkt,
                                 "marking": marked.marking.value})
                    repo.add_hazards(self._conn, [marked], replace=True)
                    self._touched.update((*ACTIVITY_TABLES, "hazard_areas", "hazard_points"))
                    what = f"activity {survey.id} and the benchmark and marking of hazard area {marked.id}"
                elif isinstance(effect, tuple):  # a day's clearance progress and the cleared land it adds
                    report, cleared = effect
                    assert isinstance(report, ProgressReport) and isinstance(cleared, Activity)
                    self._write_progress(report, staged_id)
                    self._audit_activity(cleared, actor, why)
                    repo.add_activities(self._conn, [cleared], replace=True)
                    self._touched.update(ACTIVITY_TABLES)
                    what = f"{report.kind.value} progress of {report.work_date} and activity {cleared.id}"
                elif isinstance(effect, ProgressReport):
                    self._write_progress(effect, staged_id)
                    what = f"{effect.kind.value} progress of {effect.work_date}"
                elif isinstance(effect, ReportedAccident):
                    accident = effect.accident
                    new = accident_rows.put_accident(self._conn, accident)
                    self._audit(actor, "accidents", accident.id, "insert" if new else "update", why,
                                dataclasses.asdict(accident))
                    self._touched.add("accidents")
                    what = f"accident {accident.id}"
                    if effect.victims:
                        what += self._put_victims(effect, actor, why, cipher)
                else:
                    self._audit_activity(effect, actor, why)
                    repo.add_activities(self._conn, [effect], replace=True)
                    self._touched.update(ACTIVITY_TABLES)
                    what = f"activity {effect.id}"
                self.transition(staged_id, StagingState.APPLIED, actor=actor, reason=f"applied as {what}", at=at)
                for old in supersede:
                    self.transition(old, StagingState.SUPERSEDED, actor=actor, at=at,
                                    reason=f"{where} of the same submission was applied instead")
                self._conn.execute(update(_S).where(_S.c.id == staged_id).values(apply_fault=None))
        except sa_exc.IntegrityError as exc:
            reason = str(exc.orig).strip() or "refused by the database"
            raise ValidationError(staged.record, [Fault(staged.record, msg("refused by the store: {reason}",
                                                                           reason=reason))]) from None

    def _put_victims(self, effect: ReportedAccident, actor: str, why: str, cipher: FieldCipher | None) -> str:
        """Write the report's victims (each field encrypted), replacing those an earlier version of it wrote; one
        audit row per victim written or removed (ids, key id and field names: no personal value)."""
        if cipher is None:
            raise DataKeyError("the report's victims cannot be written without the data key (SAPPER_DATA_KEY)")
        accident_id = effect.accident.id
        old = set(accident_rows.victim_ids(self._conn, accident_id))
        ours = {v.id for v in effect.victims}
        for gone in sorted(old - ours):
            if gone.startswith(accident_id + "-v"):  # only those a version of this report wrote
                accident_rows.delete_victim(self._conn, gone)
                self._audit(actor, "victims", gone, "delete", why, {"accident_id": accident_id})
        for victim in effect.victims:
            if victim.id in old:
                accident_rows.delete_victim(self._conn, victim.id)
            accident_rows.add_victim(self._conn, victim, cipher)
            self._audit(actor, "victims", victim.id, "update" if victim.id in old else "insert", why,
                        {"accident_id": accident_id, "key_id": cipher.key_id, "fields": list(VICTIM_FIELDS)})
        self._touched.add("victims")
        return f" with {len(effect.victims)} victims"

    def _audit(self, actor: str, table: str, record_id: str, action: str, reason: str,
               after: dict[str, Any]) -> None:
        write_audit(self._conn, AuditEntry(actor, None, table, record_id, action, reason, None, audit_json(after)))

    def _audit_activity(self, activity: Activity, actor: str, reason: str) -> None:
        known = self._conn.execute(select(schema.activities.c.id).where(schema.activities.c.id == activity.id)).first()
        self._audit(actor, "activities", activity.id, "insert" if known is None else "update", reason,
                    {"hazard_id": activity.hazard_id, "activity_type": activity.activity_type.value,
                     "status": activity.status.value, "start": activity.start, "end": activity.end})

    def _write_progress(self, report: ProgressReport, staged_id: int) -> None:
        old = self._conn.execute(select(_P.c.fid).where(_P.c.submission_key == report.submission_key)).scalar()
        if old is not None:
            self._conn.execute(delete(_D).where(_D.c.progress_fid == old))
            self._conn.execute(delete(_P).where(_P.c.fid == old))
        fid = int(self._conn.execute(_P.insert().values(**_progress_row(report, staged_id))
                                     ).inserted_primary_key[0])  # type: ignore[index]
        if report.devices:
            self._conn.execute(_D.insert(), [_device_row(fid, d) for d in report.devices])
        self._touched.update(PROGRESS_TABLES)

