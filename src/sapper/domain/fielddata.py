"""Field data: submissions from ODK Central or KoboToolbox in one tool-neutral shape, their review workflow, and the
progress reports that approved submissions become.

A :class:`Submission` is one version of one filled-in form. Its ``instance_id`` (``meta/instanceID``, a ``uuid:…``)
names exactly that version: ODK and Kobo make a new one every time a submission is edited, so it is the idempotency
key. ``submission_key`` names the submission across its versions (ODK Central's ``KEY``; see the importer for Kobo).

Answers are text exactly as exported (``fields``; empty answers left out), with group paths joined by ``/`` whatever
the tool wrote; geopoints, geotraces and geoshapes are shapely geometries in WGS84 lon/lat (``geometries``); each
repeat group is a list of :class:`RepeatRow` keyed by its path (``repeats``). What the tool says *about* a submission
(review state, validation status, attachments) is in ``tool_meta`` and is not part of its content.

The review workflow (:class:`StagingState`): staged → reviewed → approved → applied, or rejected from any state before
applied; a version that a newer applied version replaces becomes superseded. Every change names who, when and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import DeviceFound
from sapper.domain.text import normalise_key
from sapper.errors import Fault, ValidationError
from sapper.messages import msg


class SubmissionSource(StrEnum):
    ODK_CENTRAL = "odk_central"
    KOBOTOOLBOX = "kobotoolbox"


def find_key(keys: Mapping[str, object], name: str) -> list[str]:
    """The keys of ``keys`` that name field ``name``: the exact path, or else every path ending in ``/name``.

    ``name`` may be a bare field name (``hazard_id``) or a path (``site/hazard_id``); ``-`` and ``/`` are alike, and
    case is ignored.
    """
    wanted = normalise_key(name, path=True)
    exact = [k for k in keys if normalise_key(k, path=True) == wanted]
    if exact:
        return exact
    return [k for k in keys if normalise_key(k, path=True).endswith("/" + wanted)]


def _lookup(keys: Mapping[str, object], name: str, record: str) -> str | None:
    found = find_key(keys, name)
    if len(found) > 1:
        raise ValidationError(
            record, [Fault(record, msg("{value} fields match {name!r} ({value2})", value=len(found), name=name,
                                       value2=', '.join(sorted(found))), name)]
        )
    return found[0] if found else None


def _wkt(geom: BaseGeometry) -> str:
    return str(shapely.to_wkt(geom, rounding_precision=-1))


@dataclass(frozen=True, slots=True)
class RepeatRow:
    """One entry of a repeat group: its key, its parent's key (the submission's or an enclosing entry's), answers."""

    key: str
    parent_key: str
    fields: dict[str, str] = field(default_factory=dict)
    geometries: dict[str, BaseGeometry] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        """The answer to field ``name`` (see :func:`find_key`), or None when it is empty or absent."""
        key = _lookup(self.fields, name, f"repeat entry {self.key}")
        return None if key is None else self.fields[key]

    def geometry(self, name: str) -> BaseGeometry | None:
        key = _lookup(self.geometries, name, f"repeat entry {self.key}")
        return None if key is None else self.geometries[key]

    def content(self) -> dict[str, object]:
        return {"fields": dict(sorted(self.fields.items())),
                "geometries": {k: _wkt(g) for k, g in sorted(self.geometries.items())}}


@dataclass(frozen=True, slots=True)
class Submission:
    """One version of one submission, whichever tool exported it (see the module docstring)."""

    source: SubmissionSource
    form_id: str
    instance_id: str
    submission_key: str
    form_version: str = ""
    submitted_at: dt.datetime | None = None
    submitter: str = ""
    #: How many times the submission had been edited when this version was made (ODK Central's ``Edits``).
    edits: int = 0
    #: The instance id this version replaces (``meta/deprecatedID``), when the export says.
    deprecated_id: str | None = None
    #: The tool's own record number (KoboToolbox ``_id``), kept to link edits the export does not link otherwise.
    record_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    geometries: dict[str, BaseGeometry] = field(default_factory=dict)
    repeats: dict[str, list[RepeatRow]] = field(default_factory=dict)
    tool_meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        record = msg("submission {value}", value=self.instance_id or '(no instance id)')
        faults = []
        if not self.instance_id.strip():
            faults.append(Fault(record, msg("instance id is empty"), "instance_id"))
        if not self.submission_key.strip():
            faults.append(Fault(record, msg("submission key is empty"), "submission_key"))
        if self.edits < 0:
            faults.append(Fault(record, msg("edits cannot be negative, got {edits}", edits=self.edits), "edits"))
        ValidationError.raise_if(record, faults)

    @property
    def record(self) -> str:
        """How errors name this submission."""
        return f"submission {self.instance_id}"

    def value(self, name: str) -> str | None:
        """The answer to top-level field ``name`` (exact path, or a path ending in it), None when empty or absent.

        Raises ValidationError when several fields match (the same name in two groups: give the path).
        """
        key = _lookup(self.fields, name, self.record)
        return None if key is None else self.fields[key]

    def geometry(self, name: str) -> BaseGeometry | None:
        key = _lookup(self.geometries, name, self.record)
        return None if key is None else self.geometries[key]

    def repeat(self, name: str) -> list[RepeatRow]:
        """The entries of repeat group ``name`` (its path or its name), empty when there are none."""
        key = _lookup(self.repeats, name, self.record)
        return [] if key is None else self.repeats[key]

    def content(self) -> dict[str, object]:
        """The answers, in a canonical form: what an edit changes and what the tool's metadata does not."""
        return {
            "fields": dict(sorted(self.fields.items())),
            "geometries": {k: _wkt(g) for k, g in sorted(self.geometries.items())},
            "repeats": {k: [r.content() for r in rows] for k, rows in sorted(self.repeats.items())},
        }

    def content_hash(self) -> str:
        """SHA-256 of :meth:`content`: equal for the same answers, whichever file or tool they came from."""
        text = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------------------------------
# The review workflow
# ----------------------------------------------------------------------------------------------------


class StagingState(StrEnum):
    STAGED = "staged"  # imported, nobody has looked at it
    REVIEWED = "reviewed"  # checked by someone
    APPROVED = "approved"  # accepted; `sapper field apply` writes it to the register
    APPLIED = "applied"  # in the register
    REJECTED = "rejected"  # refused (with a reason); never applied
    SUPERSEDED = "superseded"  # a newer version of the same submission was applied instead


#: Each state and the states a person or ``apply`` may move it to.
TRANSITIONS: Mapping[StagingState, frozenset[StagingState]] = {
    StagingState.STAGED: frozenset({StagingState.REVIEWED, StagingState.REJECTED}),
    StagingState.REVIEWED: frozenset({StagingState.APPROVED, StagingState.REJECTED}),
    StagingState.APPROVED: frozenset({StagingState.APPLIED, StagingState.REJECTED, StagingState.SUPERSEDED}),
    StagingState.APPLIED: frozenset({StagingState.SUPERSEDED}),
    StagingState.REJECTED: frozenset(),
    StagingState.SUPERSEDED: frozenset(),
}


def check_transition(record: str, current: StagingState, wanted: StagingState, *, actor: str, reason: str) -> None:
    """Refuse a change the workflow does not allow, one without an actor, or a rejection without a reason."""
    faults = []
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or msg("nothing (it is final)")
        faults.append(Fault(record, msg("is {state} and cannot become {wanted}; it can become {allowed}",
                                        state=current.value, wanted=wanted.value, allowed=allowed), "state"))
    if not actor.strip():
        faults.append(Fault(record, msg("the actor (who makes the change) is empty"), "actor"))
    if wanted is StagingState.REJECTED and not reason.strip():
        faults.append(Fault(record, msg("a rejection needs a reason"), "reason"))
    ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class StagingEvent:
    """One change of state of a staged version: from what to what, who, when, why."""

    from_state: StagingState | None
    to_state: StagingState
    actor: str
    at: dt.datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class StagedSubmission:
    """A staged version of a submission, as the store keeps it."""

    id: int
    submission: Submission
    version: int
    kind: str
    state: StagingState
    imported_at: dt.datetime
    source_file: str = ""
    #: Why the last ``apply`` could not apply it (None when it applied or was not tried).
    apply_fault: str | None = None
    history: tuple[StagingEvent, ...] = ()

    @property
    def record(self) -> str:
        return f"staged submission {self.id} ({self.submission.instance_id}, version {self.version})"


# ----------------------------------------------------------------------------------------------------
# Progress reports
# ----------------------------------------------------------------------------------------------------


class ProgressKind(StrEnum):
    CLEARANCE = "clearance"  # a team's day on a hazard area
    BRIGADE = "brigade"  # a brigade's day on an asset


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """A day's work reported from the field: a team on a hazard area, or a brigade on an asset.

    Keyed by ``submission_key``: a newer version of the same submission replaces the report. ``geometry`` is the
    area cleared (clearance) or where a hazard blocks the work (brigade).
    """

    submission_key: str
    kind: ProgressKind
    work_date: dt.date
    hazard_id: str | None = None
    team_id: str | None = None
    asset_id: str | None = None
    brigade_id: str | None = None
    area_cleared_m2: float | None = None
    deminers: int | None = None
    hours_worked: float | None = None
    builder_days: float | None = None
    percent_complete: float | None = None
    blocked_by_hazard: bool | None = None
    blocking_hazard_id: str | None = None
    geometry: BaseGeometry | None = None
    devices: tuple[DeviceFound, ...] = ()
    #: The staged version this report came from (set by the store).
    staged_id: int | None = None
    #: The task order the work was done under (``TO-2026-0001``; checked against the orders when applied).
    task_order: str | None = None

    def __post_init__(self) -> None:
        record = msg("progress report {submission_key}", submission_key=self.submission_key)
        faults = []
        if self.kind is ProgressKind.CLEARANCE:
            for name in ("hazard_id", "team_id"):
                if not getattr(self, name):
                    faults.append(Fault(record, msg("{name} is empty", name=name), name))
            if self.area_cleared_m2 is None:
                faults.append(Fault(record, msg("area cleared is missing"), "area_cleared_m2"))
        else:
            for name in ("asset_id", "brigade_id"):
                if not getattr(self, name):
                    faults.append(Fault(record, msg("{name} is empty", name=name), name))
            if self.devices:
                faults.append(Fault(record, msg("a brigade report has no devices"), "devices"))
        for name in ("area_cleared_m2", "deminers", "hours_worked", "builder_days"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                faults.append(Fault(record, msg("cannot be negative, got {value}", value=value), name))
        if self.hours_worked is not None and self.hours_worked > 24:
            faults.append(Fault(record, msg("a day has 24 hours, got {value}", value=self.hours_worked),
                                "hours_worked"))
        if self.percent_complete is not None and not 0 <= self.percent_complete <= 100:
            faults.append(Fault(record, msg("must be between 0 and 100, got {value}", value=self.percent_complete),
                                "percent_complete"))
        ValidationError.raise_if(record, faults)

    @property
    def devices_found(self) -> int:
        return len(self.devices)
