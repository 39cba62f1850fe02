"""Field data from ODK Central and KoboToolbox: import exports into staging, review them, apply what was approved.

* :func:`import_export` reads an export (``sapper.io.fieldexport``) and stages every submission it can read, in one
  write transaction. A version already staged is left alone, so importing the same export twice changes nothing; an
  edited submission becomes a new version of it (the rules: ``sapper.store.fieldstaging``).
* :func:`change_state` moves a staged version along the workflow (staged → reviewed → approved, or rejected), with
  who and why.
* :func:`apply_approved` writes, per submission, the latest approved version to the register: clearance and brigade
  progress to ``field_progress`` (for the re-planner), NTS and TS reports as activities (``Store.add_activities``),
  accident reports as accidents (IMAS 10.60) with their victims (see below).
  A version that cannot be applied (an unknown hazard area, asset, team or brigade; answers that do not fit) stays
  approved with the reason in ``apply_fault``, and the others are applied. Applying again changes nothing.

Victims' answers (SENSITIVE_FIELDS, the accident form's ``victims`` repeat) are personal data. With the data key
(``cipher``, ``SAPPER_DATA_KEY``) :func:`import_export` stages each of them **encrypted** on its own (AES-256-GCM,
bound to the submission, repeat entry and field), and compares versions by keyed fingerprints (HMAC) rather than by
the answers, so nothing personal is ever staged in clear; :func:`apply_approved` decrypts them, writes each victim
encrypted in ``victims`` (audited: ids and field names only), and takes the victims' answers out of every staged
version of that submission. Without the key they are dropped at import, as before (the summary says so), and an
accident report holding encrypted victims is not applied without it.

The field names are those of sapper's XLSForm templates (``sapper.io.form_fields.FIELD_NAMES``); ``APPLY_READS``
lists the ones read here, and a test checks the templates have them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.domain.accidents import Accident, AccidentKind, Gender, ReportedAccident, Victim, VictimOutcome
from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceCondition, DeviceFound, Disposal
from sapper.domain.fielddata import (
    ProgressKind,
    ProgressReport,
    RepeatRow,
    StagedSubmission,
    StagingState,
    Submission,
    find_key,
)
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import DeviceCategory, HazardArea, Marking
from sapper.domain.resources import Method
from sapper.domain.taskorders import ACTIVE, SiteKind, TaskOrder
from sapper.errors import DataKeyError, Fault, ValidationError
from sapper.io.fieldanswers import AnswerReader
from sapper.io.fieldexport import RowFault, read_field_export
from sapper.io.form_fields import FIELD_NAMES
from sapper.jsontypes import JsonObject
from sapper.messages import Joined, msg, msg_n, phrases
from sapper.store import Store
from sapper.store.cipher import FieldCipher, is_ciphertext
from sapper.store.fieldstaging import FieldStaging, StageOutcome

#: Who the import and apply steps are recorded as, when no person is named.
IMPORT_ACTOR = "sapper import field"
APPLY_ACTOR = "sapper field apply"
#: The kind of a submission whose form is not one of sapper's templates.
UNKNOWN_FORM = "unknown"
#: The kinds ``apply`` writes to the register (form keys of FIELD_NAMES).
APPLIED_KINDS = ("clearance", "brigade", "nts", "ts", "accident")
#: The template fields ``apply`` reads, per form key ("devices" is the repeat group of TS and clearance).
APPLY_READS: Mapping[str, tuple[str, ...]] = {
    "clearance": ("hazard_id", "team_id", "work_date", "cleared_m2", "cleared_shape", "deminers_working",
                  "hours_worked", "devices_found"),
    "brigade": ("asset_id", "brigade_id", "work_date", "builder_days", "percent_complete", "blocked_by_hazard",
                "blocking_hazard_id", "blocking_location"),
    "nts": ("hazard_id", "survey_date", "organisation_id", "new_area", "outcome", "cancelled_shape", "benchmark",
            "marking"),
    "ts": ("hazard_id", "survey_date", "organisation_id", "method", "reduced_shape", "devices_found", "benchmark",
           "marking"),
    "accident": ("accident_date", "accident_location", "place_description", "accident_type", "organisation_id",
                 "hazard_id", "device_category", "device_type", "description", "victim_count"),
    "devices": ("device_position", "device_category", "device_type", "device_condition", "device_depth_cm",
                "device_quantity", "device_fuze", "device_disposal", "device_disposal_date"),
}
#: What a GeoJSON export calls a feature's geometry (it does not say which question it answers).
FEATURE_GEOMETRY = "geometry"
#: Personal data of accident victims: never staged in clear (encrypted with the data key, or dropped without it).
SENSITIVE_FIELDS = frozenset(name for form in FIELD_NAMES.values() for name in form.sensitive)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ----------------------------------------------------------------------------------------------------
# Which form
# ----------------------------------------------------------------------------------------------------


def form_kind(form_id: str, columns: frozenset[str]) -> str:
    """The template an export was filled in on (a key of FIELD_NAMES), or ``UNKNOWN_FORM``.

    By form id first (ODK Central names its export after it; ``--form`` names a Kobo one); otherwise the template
    every one of whose top-level fields is a column of the export (the one with most fields, if several are); fields
    a later version of a form added are not asked for, so an export from an earlier version is still recognised.
    """
    for key, form in FIELD_NAMES.items():
        if form.form_id == form_id:
            return key
    names = dict.fromkeys(columns)
    matches = [key for key, form in FIELD_NAMES.items()
               if all(find_key(names, f) for f in form.fields if f not in form.added)]
    return max(matches, key=lambda k: len(FIELD_NAMES[k].fields)) if matches else UNKNOWN_FORM


def _sensitive(name: str) -> bool:
    return name.replace("-", "/").rsplit("/", 1)[-1] in SENSITIVE_FIELDS


def _where(instance_id: str, entry: str, name: str) -> str:
    """The associated data of a staged victim answer: the submission version, repeat entry and field."""
    return f"field_submissions/{instance_id}/{entry}/{name}"


def _seal(how: Callable[..., str], prefix: str, name: str, value: str) -> str:
    return how(value, where=prefix + name)


def _sealed(sub: Submission, cipher: FieldCipher) -> tuple[Submission, str, list[str]]:
    """``sub`` with every personal answer of a repeat entry encrypted on its own, the content hash its answers are
    compared by (keyed fingerprints in place of the personal answers), and the personal names dropped instead
    (outside a repeat entry, or a geometry: the templates have none)."""
    plain, dropped = _without_sensitive(sub)
    sealed_repeats: dict[str, list[RepeatRow]] = {}
    hashed_repeats: dict[str, list[RepeatRow]] = {}
    names: set[str] = set()

    def entry(r: RepeatRow, seal: Callable[[str, str], str]) -> RepeatRow:
        return dataclasses.replace(
            r, geometries={k: g for k, g in r.geometries.items() if not _sensitive(k)},
            fields={k: seal(k, v) if _sensitive(k) else v for k, v in r.fields.items()})

    for path, rows in sub.repeats.items():
        names.update(k for r in rows for k in r.fields if _sensitive(k))
        sealed = [entry(r, partial(_seal, cipher.encrypt, _where(sub.instance_id, r.key, ""))) for r in rows]
        hashed = [entry(r, partial(_seal, cipher.fingerprint, _where(sub.instance_id, r.key, ""))) for r in rows]
        keep = [n for n, r in enumerate(sealed) if r.fields or r.geometries]
        if keep:
            sealed_repeats[path] = [sealed[n] for n in keep]
            hashed_repeats[path] = [hashed[n] for n in keep]
    hashed_sub = dataclasses.replace(plain, repeats=hashed_repeats)
    return (dataclasses.replace(plain, repeats=sealed_repeats), hashed_sub.content_hash(),
            sorted(set(dropped) - names))


def _without_sensitive(sub: Submission) -> tuple[Submission, list[str]]:
    """``sub`` without personal data (SENSITIVE_FIELDS), and the names left out."""

    def keep(name: str) -> bool:
        return name.replace("-", "/").rsplit("/", 1)[-1] not in SENSITIVE_FIELDS

    dropped = sorted({k for k in [*sub.fields, *sub.geometries] if not keep(k)}
                     | {k for rows in sub.repeats.values() for r in rows for k in r.fields if not keep(k)})
    if not dropped:
        return sub, []
    repeats = {}
    for path, rows in sub.repeats.items():
        kept = [dataclasses.replace(r, fields={k: v for k, v in r.fields.items() if keep(k)},
                                    geometries={k: g for k, g in r.geometries.items() if keep(k)}) for r in rows]
        if any(r.fields or r.geometries for r in kept):
            repeats[path] = kept
    return dataclasses.replace(
        sub, fields={k: v for k, v in sub.fields.items() if keep(k)},
        geometries={k: g for k, g in sub.geometries.items() if keep(k)}, repeats=repeats), dropped


# ----------------------------------------------------------------------------------------------------
# Import
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldImportSummary:
    """What importing one export did."""

    file: str
    source: str
    form_id: str
    kind: str
    new: int = 0
    versions: int = 0
    unchanged: int = 0
    #: Versions staged from a file without repeat groups that this export completed with them.
    completed: int = 0
    #: Submissions staged with other answers under the same instance id: not imported.
    conflicts: list[str] = field(default_factory=list)
    faults: list[RowFault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Staging ids of the versions this import staged.
    staged_ids: list[int] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Submissions left out because a row of theirs could not be read (rows without an id count one each)."""
        named = {f.submission for f in self.faults if f.submission}
        return len(named) + sum(1 for f in self.faults if not f.submission)

    def lines(self) -> list[str]:
        counts = dict(file=self.file, source=self.source, form=self.form_id, kind=self.kind, new=self.new,
                      versions=self.versions, unchanged=self.unchanged, conflicts=len(self.conflicts),
                      rejected=self.rejected)
        out: list[str] = [
            msg("{file}: {source} form {form} ({kind}): staged {new} new, {versions} new versions, {unchanged} already "
                "staged, {conflicts} conflicts, {rejected} rejected, {completed} completed with repeat groups",
                completed=self.completed, **counts) if self.completed else
            msg("{file}: {source} form {form} ({kind}): staged {new} new, {versions} new versions, {unchanged} already "
                "staged, {conflicts} conflicts, {rejected} rejected", **counts)]
        out += self.notes
        out += [msg("conflict: {what}", what=c) for c in self.conflicts]
        out += [msg("rejected {what}", what=f) for f in self.faults]
        return out


def import_export(
    store: Store, file_path: str | Path, *, form_id: str | None = None, actor: str = IMPORT_ACTOR,
    at: dt.datetime | None = None, cipher: FieldCipher | None = None,
) -> FieldImportSummary:
    """Stage the submissions of an ODK Central or KoboToolbox export in ``store``, all in one transaction; victims'
    answers encrypted with ``cipher`` (dropped without it; the module docstring).

    Raises ImportFileError when the file cannot be used at all (nothing is written).
    """
    export = read_field_export(file_path, form_id=form_id)
    kind = form_kind(export.form_id, export.columns)
    when = at or _now()
    notes = list(export.notes)
    if kind == UNKNOWN_FORM:
        notes.append(msg("form {form} is not one of sapper's templates (forms: {forms}); its submissions are staged "
                         "but cannot be applied (name the form with --form if it is one)", form=export.form_id,
                         forms=", ".join(f.form_id for f in FIELD_NAMES.values())))
    template = FIELD_NAMES.get(kind)
    if template is not None and template.repeats and not any(find_key(dict.fromkeys(export.columns), r)
                                                            for r in template.repeats):
        notes.append(msg("{file} has no repeat groups ({groups}): its submissions are staged without them; import the "
                         "export that has them (ODK Central's CSV zip, Kobo's XLSX) to complete them before "
                         "approving", file=export.path.name, groups=", ".join(template.repeats)))
    counts = {o: 0 for o in StageOutcome}
    conflicts: list[str] = []
    staged: list[int] = []
    dropped: set[str] = set()
    sealed = 0
    with store.write() as uow:
        staging = uow.field_staging
        for sub in export.submissions:
            digest: str | None = None
            if cipher is None:
                clean, left_out = _without_sensitive(sub)
            else:
                clean, digest, left_out = _sealed(sub, cipher)
                sealed += any(is_ciphertext(v) for rows in clean.repeats.values() for r in rows
                              for v in r.fields.values())
            dropped.update(left_out)
            result = staging.stage(clean, kind=kind, source_file=export.path.name, actor=actor, at=when,
                                   content_hash=digest)
            counts[result.outcome] += 1
            if result.outcome is StageOutcome.CONFLICT:
                conflicts.append(f"submission {sub.instance_id} is already staged (id {result.staged_id}) with other "
                                 "answers; an instance id names one version, so this one was not imported")
            elif result.outcome in (StageOutcome.NEW, StageOutcome.VERSION):
                staged.append(result.staged_id)
    if dropped:
        why = ("set SAPPER_DATA_KEY to stage victims' answers encrypted" if cipher is None
               else "only a repeat entry's answers are kept, encrypted")
        notes.append(f"personal data not kept: {', '.join(sorted(dropped))} ({why}; "
                     "keep it in the server's protected form data)")
    if sealed:
        notes.append(f"victims' answers of {sealed} submissions staged encrypted (key "
                     f"{cipher.key_id if cipher else ''}); applying them needs the same key")
    return FieldImportSummary(
        file=export.path.name, source=export.source.value, form_id=export.form_id, kind=kind,
        new=counts[StageOutcome.NEW], versions=counts[StageOutcome.VERSION],
        unchanged=counts[StageOutcome.UNCHANGED], completed=counts[StageOutcome.COMPLETED], conflicts=conflicts,
        faults=list(export.faults), notes=notes,
        staged_ids=staged,
    )


# ----------------------------------------------------------------------------------------------------
# Review
# ----------------------------------------------------------------------------------------------------


def list_staged(store: Store, *, state: StagingState | str | None = None) -> list[StagedSubmission]:
    """Staged versions with their history, in the order they were staged (only those in ``state``, if given)."""
    wanted = _state(state) if state is not None else None
    return store.field_submissions(wanted)


def staged_to_json(s: StagedSubmission) -> JsonObject:
    """One staged version as JSON: its identity, every answer (geometries as WKT in lon/lat), the tool's metadata
    and the whole review history (the shape of ``sapper field list --json``)."""
    sub = s.submission

    def wkt(geoms: Mapping[str, BaseGeometry]) -> dict[str, str]:
        return {k: shapely.to_wkt(g, rounding_precision=-1) for k, g in geoms.items()}

    return {
        "id": s.id, "state": s.state.value, "version": s.version, "kind": s.kind, "form_id": sub.form_id,
        "source": sub.source.value, "instance_id": sub.instance_id, "submission_key": sub.submission_key,
        "edits": sub.edits, "form_version": sub.form_version, "submitter": sub.submitter,
        "submitted_at": sub.submitted_at.isoformat() if sub.submitted_at else None,
        "imported_at": s.imported_at.isoformat(), "source_file": s.source_file, "apply_fault": s.apply_fault,
        "fields": sub.fields, "geometries": wkt(sub.geometries),
        "repeats": {path: [{"key": r.key, "fields": r.fields, "geometries": wkt(r.geometries)} for r in rows]
                    for path, rows in sub.repeats.items()},
        "tool_meta": sub.tool_meta,
        "history": [{"from": e.from_state.value if e.from_state else None, "to": e.to_state.value, "actor": e.actor,
                     "at": e.at.isoformat(), "reason": e.reason} for e in s.history],
    }


#: The states in which a version is still open to review (validated, counted, selectable).
OPEN_STATES = frozenset({StagingState.STAGED, StagingState.REVIEWED, StagingState.APPROVED})
#: Per form kind: the unit (team or brigade), the record worked on (hazard area or asset), and the date field.
_COLUMNS: Mapping[str, tuple[str | None, str | None, str | None]] = {
    "clearance": ("team_id", "hazard_id", "work_date"),
    "brigade": ("brigade_id", "asset_id", "work_date"),
    "nts": (None, "hazard_id", "survey_date"),
    "ts": (None, "hazard_id", "survey_date"),
    "accident": (None, None, "accident_date"),
}
#: The states of a task order, as a fault names them, marked for the catalogues.
_STATE_WORDS: dict[str, str] = {w: w for w in (msg("issued"), msg("acknowledged"), msg("completed"), msg("cancelled"))}

_SHAPES = {"clearance": "cleared_shape", "nts": "cancelled_shape", "ts": "reduced_shape"}


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """What a reviewer sees of one staged version (``sapper field list``): its unit, the hazard area or asset, the
    date, the work done, the devices found, and whether it would apply (``faults``; None when not checked)."""

    staged: StagedSubmission
    unit: str | None = None
    target: str | None = None
    day: dt.date | None = None
    #: m² cleared, cancelled or reduced (clearance, NTS, TS); builder-days or percent complete (brigade).
    amount: str = ""
    devices: int | None = None
    faults: tuple[str, ...] | None = None

    @property
    def valid(self) -> bool:
        return self.faults is not None and not self.faults

    @property
    def verdict(self) -> str:
        """``valid``, the first fault, or ``-`` for a version no longer open to review (applied, rejected…)."""
        if self.faults is None:
            return "-"
        return self.faults[0] if self.faults else msg("valid")


def _number_text(value: float) -> str:
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def describe(s: StagedSubmission) -> ReviewRow:
    """The columns of one staged version, read from its answers as they are (unreadable answers left blank)."""
    sub = s.submission
    read = AnswerReader(sub, sub.record)
    unit_field, target_field, date_field = _COLUMNS.get(s.kind, (None, None, None))
    unit = read.text(unit_field) if unit_field else None
    target = read.text(target_field) if target_field else None
    day = read.date(date_field) if date_field else None
    if day is None and sub.submitted_at is not None:
        day = sub.submitted_at.date()
    amount = ""
    if s.kind == "brigade":
        days, percent = read.number("builder_days"), read.number("percent_complete")
        amount = (f"{_number_text(days)} builder-days" if days is not None
                  else f"{_number_text(percent)} %" if percent is not None else "")
    elif s.kind in _SHAPES:
        m2 = read.number("cleared_m2") if s.kind == "clearance" else None
        if m2 is None:
            shape = read.geometry(_SHAPES[s.kind], kind="polygon")
            m2 = area_m2(shape) if shape is not None and not shape.is_empty else None
        amount = f"{_number_text(m2)} m²" if m2 is not None else ""
    devices = None
    if s.kind in ("clearance", "ts"):
        try:
            devices = len(sub.repeat("devices"))
        except ValidationError:
            devices = None
    return ReviewRow(s, unit=unit, target=target, day=day, amount=amount, devices=devices)


def validate(store: Store, staged: Sequence[StagedSubmission]) -> dict[int, tuple[str, ...]]:
    """Per version open to review (OPEN_STATES), why ``sapper field apply`` would not apply it (empty: valid).

    The same checks as apply (answers, ids known to the register, with the nearest id suggested for a typo), read
    in one rolled-back transaction: nothing is written.
    """
    out: dict[int, tuple[str, ...]] = {}
    with store.dry_run() as uow:
        staging = uow.field_staging
        ids = RegisterIds(staging)
        for s in staged:
            if s.state not in OPEN_STATES:
                continue
            builder = _BUILDERS.get(s.kind)
            if builder is None:
                out[s.id] = (_not_applied(s),)
                continue
            effects = _Effects(store, staging, s, ids)
            try:
                effect = builder(effects)
            except ValidationError as exc:
                effects.faults += list(exc.faults)
                effect = None
            faults = tuple(_fault_text(f, s.submission.record) for f in effects.done())
            out[s.id] = faults if faults or effect is not None else (msg("nothing to apply"),)
    return out


def review_rows(store: Store, staged: Sequence[StagedSubmission]) -> list[ReviewRow]:
    """:func:`describe` of each version, with the verdict of :func:`validate` for those open to review."""
    verdicts = validate(store, staged)
    return [dataclasses.replace(describe(s), faults=verdicts.get(s.id)) for s in staged]


def review_line(row: ReviewRow) -> list[str]:
    """One staged version as ``sapper field list`` prints it: one line of columns (id, state, version, form, unit,
    hazard area or asset, date, m² or builder-days, devices found, verdict), and one more when apply refused it."""
    s = row.staged
    devices = "-" if row.devices is None else str(row.devices)
    out: list[str] = [Joined("", [f"{s.id:>5}  {s.state.value:<10} v{s.version:<3} {s.kind:<10} {row.unit or '-':<12} "
                                  f"{row.target or '-':<12} {row.day.isoformat() if row.day else '-':<10}  "
                                  f"{row.amount or '-':>16}  {devices:>3}  ", row.verdict])]
    if s.apply_fault:
        out.append(msg("       not applied: {why}", why=phrases(s.apply_fault)))
    return out


#: The header of :func:`review_line`'s columns.
REVIEW_HEADER = (f"{'id':>5}  {'state':<10} {'v':<4} {'form':<10} {'team':<12} {'hazard/asset':<12} {'date':<10}  "
                 f"{'m² / b-days':>16}  {'dev':>3}  verdict")


def review_header(say: Callable[[str], str]) -> str:
    """:data:`REVIEW_HEADER` with its words said by ``say`` (the command line's ``tr``)."""
    state, form, team, target, day, amount, dev, verdict = (say(w) for w in (
        msg("state"), msg("form"), msg("team"), msg("hazard/asset"), msg("date"), msg("m² / b-days"), msg("dev"),
        msg("verdict")))
    return (f"{'id':>5}  {state:<10} {'v':<4} {form:<10} {team:<12} {target:<12} {day:<10}  {amount:>16}  "
            f"{dev:>3}  {verdict}")


def parse_state(value: StagingState | str) -> StagingState:
    """A state by its name; ValidationError naming the states when it is none of them."""
    return _state(value)


def _state(value: StagingState | str) -> StagingState:
    try:
        return StagingState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in StagingState)
        raise ValidationError(msg("state"), [Fault(msg("state"), msg("{value} is not one of {allowed}",
                                                                     value=repr(value),
                                                                allowed=allowed), "state")]) from None


def change_state(
    store: Store, staged_id: int, to_state: StagingState | str, *, actor: str, reason: str = "",
    at: dt.datetime | None = None,
) -> StagedSubmission:
    """Move staged version ``staged_id`` to ``to_state`` (reviewed, approved or rejected), recording who and why.

    The workflow's rules (``sapper.domain.fielddata.TRANSITIONS``) say which changes are allowed; applying is
    :func:`apply_approved`'s, not a person's. A rejection needs a reason.
    """
    wanted = _state(to_state)
    if wanted in (StagingState.APPLIED, StagingState.SUPERSEDED, StagingState.STAGED):
        raise ValidationError(msg("staged submission {id}", id=staged_id), [Fault(
            f"staged submission {staged_id}", msg("cannot be set to {state} by hand (use review, approve, reject; "
                                                  "`sapper field apply` applies)", state=wanted.value), "state")])
    with store.write() as uow:
        return uow.field_staging.transition(staged_id, wanted, actor=actor, reason=reason, at=at or _now())


# ----------------------------------------------------------------------------------------------------
# Apply
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplySummary:
    """What one ``apply`` did."""

    applied: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    #: Versions left approved, with why they could not be applied.
    faults: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out: list[str] = [msg("applied {applied}, superseded {superseded}, not applied {faults}",
                              applied=len(self.applied), superseded=len(self.superseded), faults=len(self.faults))]
        out += [msg("applied {what}", what=a) for a in self.applied]
        out += [msg("superseded {what}", what=s) for s in self.superseded]
        out += self.notes
        out += [msg("not applied: {why}", why=phrases(f)) for f in self.faults]
        return out


def _ranks(versions: Sequence[StagedSubmission]) -> dict[int, tuple[int, int, int]]:
    """How late each version of one submission is: a version that replaces another (``meta/deprecatedID``) is later
    than it, however they arrived; then more edits; then staged later."""
    by_instance = {v.submission.instance_id: v for v in versions}
    depth: dict[int, int] = {}

    def chain(v: StagedSubmission, seen: frozenset[int] = frozenset()) -> int:
        if v.id not in depth:
            before = by_instance.get(v.submission.deprecated_id or "")
            depth[v.id] = 0 if before is None or before.id in seen else 1 + chain(before, seen | {v.id})
        return depth[v.id]

    return {v.id: (chain(v), v.submission.edits, v.version) for v in versions}


#: What a team or brigade that is not in the store is told when no id in the store is close to it.
NEW_TEAM = msg(" (no id in the store is close to it: correct the submission, or, if the register lacks this unit, "
              "add it with sapper import workforce)")
#: How close (difflib ratio, ids compared without case and leading zeros) an id must be to be suggested.
SUGGEST_CUTOFF = 0.8
_NUMBER = re.compile(r"\d+")


def _id_key(value: str) -> str:
    """An id as compared for suggestions: upper case, spaces trimmed, numbers without leading zeros."""
    return _NUMBER.sub(lambda m: str(int(m.group())), value.strip().upper())


def nearest_ids(value: str, ids: Iterable[str], *, cutoff: float = SUGGEST_CUTOFF) -> list[str]:
    """The ids of ``ids`` nearest to ``value`` (a typo of one of them?), best first: those equal to it but for case
    and leading zeros (``T-MAN-1`` → ``T-MAN-001``); else the closest by difflib at or above ``cutoff``, all that are
    equally close; empty when none is close."""
    by_key: dict[str, list[str]] = {}
    for i in ids:
        by_key.setdefault(_id_key(i), []).append(i)
    key = _id_key(value)
    if key in by_key:
        return sorted(i for i in by_key[key] if i != value)
    matcher = difflib.SequenceMatcher(b=key, autojunk=False)
    scored: list[tuple[float, str]] = []
    for k in by_key:
        matcher.set_seq1(k)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                scored.append((ratio, k))
    if not scored:
        return []
    best = max(r for r, _ in scored)
    return sorted(i for r, k in scored if r == best for i in by_key[k])


class RegisterIds:
    """The register's ids, read once per table, to check a submission's ids and suggest the nearest for a typo; and
    its task orders, read once, to check the order a report names."""

    def __init__(self, staging: FieldStaging) -> None:
        self._staging = staging
        self._ids: dict[str, set[str]] = {}
        self._orders: dict[str, TaskOrder] | None = None

    def orders(self, store: Store) -> dict[str, TaskOrder]:
        """Every task order by number."""
        if self._orders is None:
            self._orders = {o.number: o for o in store.task_orders()}
        return self._orders

    def all(self, table: str) -> set[str]:
        if table not in self._ids:
            self._ids[table] = self._staging.ids(table)
        return self._ids[table]

    def has(self, table: str, value: str) -> bool:
        return value in self.all(table)

    def unknown(self, table: str, what: str, value: str, hint: str = "", *, suggest: bool = True) -> str:
        """Why ``value`` is refused: ``T-MAN-1 is not a team; did you mean T-MAN-001?``, or, when no id in the
        store is close (or ``suggest`` is off), that it is not in the store, with ``hint``. A suggestion never
        advises adding the id to the register: a typo must not become a phantom team."""
        said = _WHAT.get(what, what)
        near = nearest_ids(value, self.all(table)) if suggest else []
        if near:
            return msg("{value} is not {what}; did you mean {near}?", value=value, what=said,
                       near=", ".join(near[:3]))
        return msg("{value} is not {what} in the store{hint}", value=value, what=said, hint=hint)


#: The kinds of id a submission names, as :meth:`RegisterIds.unknown` says them ("T-9 is not a team").
_WHAT = {"hazard area": msg("a hazard area"), "team": msg("a team"), "organisation": msg("an organisation"),
         "asset": msg("an asset"), "brigade": msg("a brigade"), "accident": msg("an accident")}


class _Effects:
    """Builds what one staged version means for the register, collecting faults; reads the store as needed."""

    def __init__(self, store: Store, staging: FieldStaging, staged: StagedSubmission,
                 ids: RegisterIds | None = None, cipher: FieldCipher | None = None) -> None:
        self.store = store
        self.cipher = cipher
        self.staging = staging
        self.ids = ids or RegisterIds(staging)
        self.staged = staged
        self.sub = staged.submission
        self.read = AnswerReader(self.sub, self.sub.record)
        self.faults: list[Fault] = []
        self.notes: list[str] = []

    def fault(self, name: str | None, reason: str) -> None:
        self.faults.append(Fault(self.sub.record, reason, name))

    def known(self, table: str, what: str, name: str, value: str | None, hint: str = "") -> None:
        if value is not None and not self.ids.has(table, value):
            self.fault(name, self.ids.unknown(table, what, value, hint))

    def shape(self, name: str, *, required: bool = False) -> BaseGeometry | None:
        """A geoshape answer; from a GeoJSON export, the features' geometry stands in for a missing column."""
        geom = self.read.geometry(name, kind="polygon")
        if geom is None and not find_key(self.sub.fields, name) and find_key(self.sub.geometries, FEATURE_GEOMETRY):
            geom = self.read.geometry(FEATURE_GEOMETRY, kind="polygon")
        if geom is None and required:
            self.fault(name, msg("is empty"))
        return geom

    def devices(self) -> tuple[DeviceFound, ...]:
        found = []
        for n, row in enumerate(self.sub.repeat("devices"), start=1):
            r = AnswerReader(row, f"{self.sub.record} devices[{n}]")
            position = r.geometry("device_position", kind="point", required=True)
            category = r.choice("device_category", DeviceCategory, required=True)
            condition = r.choice("device_condition", DeviceCondition) or DeviceCondition.UNKNOWN
            depth = r.number("device_depth_cm")
            device_type = r.text("device_type") or ""
            quantity = r.integer("device_quantity")
            fuze = r.text("device_fuze") or ""
            disposal = r.choice("device_disposal", Disposal)
            disposed = r.date("device_disposal_date")
            self.faults += r.faults
            if r.faults or not isinstance(position, Point) or category is None:
                continue
            try:
                found.append(DeviceFound(position, category, device_type, condition, depth,
                                         quantity=1 if quantity is None else quantity, fuze=fuze, disposal=disposal,
                                         disposal_date=disposed))
            except ValidationError as exc:
                self.faults += [Fault(f"{self.sub.record} devices[{n}]", f.reason, f.field) for f in exc.faults]
        said = self.read.yes_no("devices_found")
        entries = len(self.sub.repeat("devices"))
        if said is True and entries == 0:
            self.fault("devices_found", msg("is yes, but no device is recorded"))
        if said is False and entries:
            self.fault("devices_found", msg_n("is no, but {n} device is recorded",
                                              "is no, but {n} devices are recorded", entries))
        return tuple(found)

    def task_order(self, unit: str | None, site: str | None, day: dt.date | None) -> str | None:
        """The task order the report names (``task_order``), checked: an order of the store, in force (issued or
        acknowledged) on the day of the work — a report of a day before the order was completed or cancelled is
        applied after it —, for the reporting unit and site; a typo gets the nearest number. A day outside the
        order's dates is a note, not a fault (work is reported as done)."""
        number = self.read.text("task_order")
        if number is None:
            return None
        orders = self.ids.orders(self.store)
        order = orders.get(number)
        if order is None:
            near = nearest_ids(number, orders)
            self.fault("task_order", msg("{number} is not a task order; did you mean {near}?", number=number,
                                         near=", ".join(near[:3])) if near
                       else msg("{number} is not a task order in the store", number=number))
            return None
        ended = next((e.at.date() for e in reversed(order.history) if e.to_state not in ACTIVE), None)
        if order.state not in ACTIVE and (day is None or ended is None or day > ended):
            self.fault("task_order", msg("task order {number} was {state} on {day}, before this work: report under an "
                                         "order in force (issued or acknowledged)", number=number,
                                         state=_STATE_WORDS.get(order.state.value, order.state.value), day=ended))
        if unit is not None and order.unit_id != unit:
            self.fault("task_order", msg("task order {number} is for {unit}, not {other}", number=number,
                                         unit=order.unit_id, other=unit))
        if site is not None and order.site_id != site:
            self.fault("task_order", msg("task order {number} is for hazard area {site}, not {other}", number=number,
                                         site=order.site_id, other=site) if order.site_kind is SiteKind.HAZARD_AREA
                       else msg("task order {number} is for asset {site}, not {other}", number=number,
                                site=order.site_id, other=site))
        if day is not None and not order.start <= day <= order.end:
            self.notes.append(msg("{record}: work on {day} under task order {number}, whose lots run {start} to {end}",
                                  record=self.sub.record, day=day.isoformat(), number=number,
                                  start=order.start.isoformat(), end=order.end.isoformat()))
        return number

    def victims(self, accident: str) -> tuple[Victim, ...]:
        """The victims the report's ``victims`` entries record (decrypted with the data key; a fault without it)."""
        rows = self.sub.repeat("victims")
        if not any(is_ciphertext(v) for r in rows for v in r.fields.values()):
            return ()
        if self.cipher is None:
            self.fault("victims", msg("the victims' answers are encrypted: apply with SAPPER_DATA_KEY set to the key "
                                      "they were imported with"))
            return ()
        found = []
        for n, row in enumerate(rows, start=1):
            record = f"{self.sub.record} victims[{n}]"
            try:
                plain = {k: self.cipher.decrypt(v, where=_where(self.sub.instance_id, row.key, k))
                         if is_ciphertext(v) else v for k, v in row.fields.items()}
            except DataKeyError as exc:
                self.faults.append(Fault(record, exc.message))
                continue
            r = AnswerReader(dataclasses.replace(row, fields=plain), record)
            name = r.text("victim_name") or ""
            gender = r.choice("victim_gender", Gender) or Gender.UNKNOWN
            outcome = r.choice("victim_outcome", VictimOutcome, required=True)
            born = r.date("victim_birth_date")
            activity = r.text("victim_activity") or ""
            self.faults += r.faults
            if r.faults or outcome is None:
                continue
            try:
                found.append(Victim(f"{accident}-v{n}", accident, name, gender, outcome, birth_date=born,
                                    activity=activity))
            except ValidationError as exc:
                self.faults += [Fault(record, f.reason, f.field) for f in exc.faults]
        return tuple(found)

    def done(self) -> list[Fault]:
        return [*self.read.faults, *self.faults]


def _clearance(e: _Effects) -> ProgressReport | tuple[ProgressReport, Activity] | None:
    """The day's progress; with the outline of the land cleared, also the land-release activity that adds it to
    the area's record (an ongoing clearance, adopted into the history at the area's next land-release change)."""
    r = e.read
    hazard, team = r.text("hazard_id", required=True), r.text("team_id", required=True)
    day = r.date("work_date", required=True)
    depth = r.number("clearance_depth_cm", required=True)  # IMAS 09.10: a clearance report states its depth
    organisation = r.text("organisation_id")
    method = r.choice("method", Method)
    cleared = r.number("cleared_m2")
    outline = e.shape("cleared_shape")
    if cleared is None and outline is not None:
        cleared = round(area_m2(outline), 1)
        e.notes.append(f"{e.sub.record}: cleared_m2 is empty; {cleared:,.1f} m² is the area of cleared_shape")
    if cleared is None and outline is None:
        e.fault("cleared_m2", "is empty, and so is cleared_shape")
    deminers, hours = r.integer("deminers_working"), r.number("hours_worked")
    devices = e.devices()
    e.known("hazard_areas", "hazard area", "hazard_id", hazard)
    e.known("teams", "team", "team_id", team, NEW_TEAM)
    e.known("organisations", "organisation", "organisation_id", organisation)
    order = e.task_order(team, hazard, day)
    if e.done() or day is None:
        return None
    report = ProgressReport(e.sub.submission_key, ProgressKind.CLEARANCE, day, hazard_id=hazard, team_id=team,
                            area_cleared_m2=cleared, deminers=deminers, hours_worked=hours, geometry=outline,
                            devices=devices, task_order=order)
    if outline is None or hazard is None:
        return report
    try:
        cleared_land = Activity(activity_id(e.sub.submission_key), hazard, ActivityType.CLEARANCE,
                                ActivityStatus.ONGOING, organisation_id=organisation, method=method, start=day,
                                end=day, cleared=outline, clearance_depth_cm=depth, devices=devices,
                                task_order=order)
    except ValidationError as exc:
        e.faults += list(exc.faults)
        return None
    return report, cleared_land


def _brigade(e: _Effects) -> ProgressReport | None:
    r = e.read
    asset, brigade = r.text("asset_id", required=True), r.text("brigade_id", required=True)
    day = r.date("work_date", required=True)
    days, percent = r.number("builder_days"), r.number("percent_complete")
    if days is None and percent is None:
        e.fault("builder_days", "is empty, and so is percent_complete: the report says no work")
    blocked = r.yes_no("blocked_by_hazard")
    blocking_id = r.text("blocking_hazard_id")
    where = r.geometry("blocking_location", kind="point")
    e.known("assets", "asset", "asset_id", asset)
    e.known("brigades", "brigade", "brigade_id", brigade, NEW_TEAM)
    order = e.task_order(brigade, asset, day)
    if e.done() or day is None:
        return None
    return ProgressReport(e.sub.submission_key, ProgressKind.BRIGADE, day, asset_id=asset, brigade_id=brigade,
                          builder_days=days, percent_complete=percent, blocked_by_hazard=blocked,
                          blocking_hazard_id=blocking_id, geometry=where, task_order=order)


def activity_id(submission_key: str) -> str:
    """The id of the activity an NTS or TS submission becomes (the same for every version of it)."""
    return "field-" + submission_key.removeprefix("uuid:")


def _survey(e: _Effects, activity_type: ActivityType) -> Activity | tuple[Activity, HazardArea] | None:
    """The survey as an activity; with a benchmark or marking, also the register's record of the area with them."""
    r = e.read
    hazard = r.text("hazard_id", required=True)
    day = r.date("survey_date", required=True)
    organisation = r.text("organisation_id")
    team = r.text("team_id")
    hint = ""
    if activity_type is ActivityType.NTS and r.yes_no("new_area"):
        hint = msg(" (the survey registers a new area: add it to the register with sapper import hazards, then "
                   "apply again)")
    if hazard is not None and not e.ids.has("hazard_areas", hazard):
        e.fault("hazard_id", e.ids.unknown("hazard_areas", "hazard area", hazard, hint, suggest=not hint))
    e.known("organisations", "organisation", "organisation_id", organisation)
    values: dict[str, Any] = {}  # keyword arguments of Activity, not a document
    if activity_type is ActivityType.NTS:
        outcome = r.text("outcome", required=True)
        values["method"] = Method.SURVEY
        if outcome == "reduce":
            values["cancelled"] = e.shape("cancelled_shape", required=True)
        elif outcome == "cancel" and hazard is not None and not e.done():
            values["cancelled"] = e.store.hazard(hazard).geometry
            e.notes.append(f"{e.sub.record}: outcome cancel: the whole of hazard area {hazard} is cancelled")
        elif outcome == "confirm":  # direct evidence: the area becomes a CHA when the activity enters its history
            values["direct_evidence"] = f"NTS outcome confirm (field submission {e.sub.submission_key})"
            e.notes.append(f"{e.sub.record}: outcome confirm: direct evidence; hazard area {hazard} becomes a CHA "
                           "at its next land-release change")
        elif outcome == "sha":
            e.notes.append(f"{e.sub.record}: outcome sha: no land released, the area stays suspected")
        elif outcome is not None and outcome != "cancel":
            e.fault("outcome", f"{outcome!r} is not one of cancel, sha, confirm, reduce")
    else:
        values["method"] = r.choice("method", Method)
        values["reduced"] = e.shape("reduced_shape")
        values["devices"] = e.devices()
    benchmark = r.geometry("benchmark", kind="point")
    marking = r.choice("marking", Marking)
    order = e.task_order(team, hazard, day)
    if e.done() or hazard is None or day is None:
        return None
    try:
        activity = Activity(activity_id(e.sub.submission_key), hazard, activity_type, ActivityStatus.COMPLETED,
                            organisation_id=organisation, start=day, end=day, task_order=order, **values)
        if benchmark is None and marking is None:
            return activity
        known = e.store.hazard(hazard)
        marked = dataclasses.replace(known, benchmark=benchmark if isinstance(benchmark, Point) else known.benchmark,
                                     marking=marking or known.marking)
    except ValidationError as exc:
        e.faults += [Fault(e.sub.record, f.reason, f.field) for f in exc.faults]
        return None
    return activity, marked


def accident_id(submission_key: str) -> str:
    """The id of the accident an accident report becomes (the same for every version of it)."""
    return "field-" + submission_key.removeprefix("uuid:")


def _accident(e: _Effects) -> ReportedAccident | None:
    """The accident report as an accident (restricted, the default class) and the victims it records."""
    r = e.read
    day = r.date("accident_date", required=True)
    where = r.geometry("accident_location", kind="point")
    place = r.text("place_description") or ""
    kind = r.choice("accident_type", AccidentKind, required=True)
    organisation, hazard = r.text("organisation_id"), r.text("hazard_id")
    device = r.choice("device_category", DeviceCategory, required=True)
    device_type, description = r.text("device_type") or "", r.text("description") or ""
    people = r.integer("victim_count") or 0
    e.known("organisations", "organisation", "organisation_id", organisation)
    e.known("hazard_areas", "hazard area", "hazard_id", hazard)
    victims = e.victims(accident_id(e.sub.submission_key))
    if e.done() or day is None or kind is None or device is None:
        return None
    point = where if isinstance(where, Point) else None
    try:
        accident = Accident(accident_id(e.sub.submission_key), day, kind, device, place=place,
                            lon=point.x if point else None, lat=point.y if point else None,
                            organisation_id=organisation, hazard_id=hazard, device_type=device_type,
                            description=description, victim_count=people, source=e.sub.submission_key)
    except ValidationError as exc:
        e.faults += [Fault(e.sub.record, f.reason, f.field) for f in exc.faults]
        return None
    if people > len(victims):
        e.notes.append(f"{e.sub.record}: {people} people killed or injured, {len(victims)} recorded with their "
                       "details in the form; enter the others through the API (victim permission)")
    return ReportedAccident(accident, victims)


_Effect = (ProgressReport | Activity | tuple[ProgressReport, Activity] | tuple[Activity, HazardArea]
           | ReportedAccident)

_BUILDERS: dict[str, Callable[[_Effects], _Effect | None]] = {
    "clearance": _clearance,
    "brigade": _brigade,
    "nts": lambda e: _survey(e, ActivityType.NTS),
    "ts": lambda e: _survey(e, ActivityType.TS),
    "accident": _accident,
}


def _fault_text(f: Fault, record: str) -> str:
    """A fault of a submission being applied, without repeating the submission (but naming a repeat entry)."""
    entry = f.record.removeprefix(record).strip() if f.record.startswith(record) else ""
    where = ".".join(p for p in (entry, f.field or "") if p)
    return Joined(": ", [where, phrases(f.reason)]) if where else phrases(f.reason)


def _describe(s: StagedSubmission) -> str:
    return msg("{id} ({kind}, {instance}, version {version})", id=s.id, kind=s.kind, instance=s.submission.instance_id,
               version=s.version)


def apply_approved(store: Store, *, actor: str = APPLY_ACTOR, at: dt.datetime | None = None,
                   cipher: FieldCipher | None = None) -> ApplySummary:
    """Apply, for each submission, its latest approved version (see the module docstring); one transaction.
    ``cipher``: the data key, to write the victims an accident report staged encrypted."""
    when = at or _now()
    summary = ApplySummary()
    with store.write() as uow:
        staging = uow.field_staging
        approved: dict[str, list[StagedSubmission]] = {}
        for s in staging.submissions(StagingState.APPROVED):
            approved.setdefault(s.submission.submission_key, []).append(s)
        ids = RegisterIds(staging)
        for key, group in approved.items():
            _apply_one(store, staging, key, group, actor=actor, at=when, summary=summary, ids=ids, cipher=cipher)
    return summary


def _forget_victims(staging: FieldStaging, versions: Sequence[StagedSubmission]) -> None:
    """Take the victims' answers (encrypted) out of every staged version of a report now applied: they live in
    ``victims`` from here on, and staging keeps no second copy."""
    for v in versions:
        clean, dropped = _without_sensitive(v.submission)
        if dropped:
            staging.replace_answers(v.id, clean)


def _not_applied(s: StagedSubmission) -> str:
    """Why a version of a form apply has no builder for is not applied."""
    return msg("form {form} is not one of sapper's templates", form=s.submission.form_id)


def _apply_one(store: Store, staging: FieldStaging, key: str, group: Sequence[StagedSubmission], *, actor: str,
               at: dt.datetime, summary: ApplySummary, ids: RegisterIds, cipher: FieldCipher | None) -> None:
    versions = staging.versions(key)
    rank = _ranks(versions)
    latest = max(group, key=lambda v: rank[v.id])
    current = next((v for v in versions if v.state is StagingState.APPLIED), None)
    if current is not None and rank[current.id] > rank[latest.id]:
        for old in group:
            staging.transition(old.id, StagingState.SUPERSEDED, actor=actor, at=at,
                               reason=f"version {current.version} of the same submission is applied already")
            summary.superseded.append(_describe(old))
        return
    builder = _BUILDERS.get(latest.kind)
    if builder is None:
        why = _not_applied(latest)
        staging.set_apply_fault(latest.id, why)
        summary.faults.append(Joined(": ", [_describe(latest), why]))
        return
    effects = _Effects(store, staging, latest, ids, cipher)
    try:
        effect = builder(effects)
    except ValidationError as exc:  # e.g. a field name that matches two fields
        effects.faults += list(exc.faults)
        effect = None
    faults = effects.done()
    if effect is not None and not faults:
        older = [v.id for v in group if v is not latest] + ([current.id] if current is not None else [])
        try:
            staging.apply(latest.id, effect, actor=actor, at=at, supersede=older, cipher=cipher)
        except ValidationError as exc:
            faults = list(exc.faults)
        else:
            if isinstance(effect, ReportedAccident):
                _forget_victims(staging, versions)
            summary.applied.append(_describe(latest))
            summary.superseded.extend(_describe(v) for v in [*group, *([current] if current else [])]
                                      if v is not latest)
            summary.notes.extend(effects.notes + effects.read.notes)
            return
    why = Joined("; ", [_fault_text(f, latest.submission.record) for f in faults]) if faults else msg(
        "nothing to apply")
    staging.set_apply_fault(latest.id, why)
    summary.faults.append(Joined(": ", [_describe(latest), why]))
