"""Land release (IMAS 07.11) of one hazard area: an explicit state machine with an append-only history.

A hazard area is *suspected* (SHA, open) or *confirmed* (CHA, open) until nothing hazardous remains; it is then
*released* (status closed) and finally *handed over* to its users. Every change is a :class:`ReleaseEvent` that
records who, when (UTC), why, the state before and after, and the areas involved. :data:`TRANSITIONS` lists every
(from, to) pair each kind of event may make; anything else raises :class:`~sapper.errors.TransitionError` naming
the hazard area and the reason, and changes nothing (a :class:`LandRelease` is immutable: each command returns a
new one with one more event).

Activities (NTS, TS, clearance, BAC, EOD) cancel, reduce or clear land. Their outcome polygons are clipped to what
is still hazardous; whatever was clipped away (outside the area, or already released) is reported in the event as
``clipped_m2``. After every event the balance ``original = cancelled + reduced + cleared + remaining`` is checked
within :func:`~sapper.domain.activities.release_tolerance_m2` (0.1 % of the original area, at least 1 m²). Areas
are computed in an equal-area projection centred near the hazard (:func:`~sapper.domain.geometry.projection_near`,
a :class:`~sapper.domain.geometry.LocalProjection`); geometry is kept in WGS84.

Quality management (IMAS 07.12): a QA visit on an activity records non-conformities (minor, major, critical), each
moving open → corrected → closed (a correction that is not accepted goes back to open). A critical
non-conformity that is not closed blocks release and handover.

Acceptance is its own step (IMAS 07.11, 08.30, 09.20): activities only *process* land; once nothing hazardous is
left (no more than the programme's residual area and no part wider than its sliver width, :class:`ReleaseRules`),
a post-clearance inspection must pass wherever land was reduced or cleared, and the authority must accept the
area (``accepted`` event) before it is released. A failed inspection, or a device found later, *reopens* exactly
the affected part of the processed or released land (IMAS 07.14, residual risk), and the history keeps it all.
Each activity type yields only its own outcome (NTS cancels, TS reduces, clearance and BAC clear, an EOD spot task
releases no area); direct evidence makes the area a CHA at once (an automatic ``reclassified`` event); clearance
states its depth, which must reach the required depth. Events recorded before these rules (store revision 0005)
are *legacy*: replayed under the rules they were made with, their release counting as an implied acceptance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import shapely
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, ReleaseBalance, release_tolerance_m2
from sapper.domain.geometry import LocalProjection, in_wgs84_range, projection_near
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus
from sapper.domain.releaserules import ReleaseRules
from sapper.errors import Fault, TransitionError, ValidationError
from sapper.messages import Joined, Msg, msg, msg_n


class ReleaseState(StrEnum):
    """Where a hazard area is in its land release."""

    SUSPECTED = "suspected"  # SHA, open: indirect evidence
    CONFIRMED = "confirmed"  # CHA, open: direct evidence
    RELEASED = "released"  # closed: nothing hazardous remains
    HANDED_OVER = "handed_over"  # released land formally handed to its users


OPEN_STATES = frozenset({ReleaseState.SUSPECTED, ReleaseState.CONFIRMED})


class EventKind(StrEnum):
    RECORDED = "recorded"  # the history starts: the area as the register holds it
    ACTIVITY = "activity"  # NTS, TS, clearance, BAC or EOD: land cancelled, reduced or cleared, devices found
    RECLASSIFIED = "reclassified"  # SHA → CHA on direct evidence
    RELEASED = "released"  # closed: nothing hazardous remains
    HANDED_OVER = "handed_over"  # released land handed to its users
    QA_VISIT = "qa_visit"  # IMAS 07.12 quality-assurance visit on an activity, with its non-conformities
    NON_CONFORMITY = "non_conformity"  # a non-conformity corrected, closed or reopened
    INSPECTED = "inspected"  # post-clearance inspection / quality control by sampling (IMAS 09.20), pass or fail
    ACCEPTED = "accepted"  # the authority accepts the processed land as released (IMAS 07.11, 08.30)
    REOPENED = "reopened"  # released or processed land back in the hazardous part (IMAS 07.14 residual risk)
    EXTENDED = "extended"  # the perimeter grows: land beyond it found hazardous or processed (IMAS 08.20)


_S = ReleaseState

#: Every (from state, to state) each kind of event may make; ``None`` is "no history yet". Guards on top of the
#: table: an activity releases the area only when nothing hazardous remains and nothing blocks release; release
#: needs the same; handover needs no blocking non-conformity.
TRANSITIONS: Mapping[EventKind, frozenset[tuple[ReleaseState | None, ReleaseState]]] = {
    EventKind.RECORDED: frozenset({(None, _S.SUSPECTED), (None, _S.CONFIRMED)}),
    # an activity releases the area itself only in legacy histories (recorded before acceptance was its own step)
    EventKind.ACTIVITY: frozenset({(s, s) for s in OPEN_STATES} | {(s, _S.RELEASED) for s in OPEN_STATES}),
    EventKind.RECLASSIFIED: frozenset({(_S.SUSPECTED, _S.CONFIRMED)}),
    EventKind.RELEASED: frozenset({(s, _S.RELEASED) for s in OPEN_STATES}),
    EventKind.HANDED_OVER: frozenset({(_S.RELEASED, _S.HANDED_OVER)}),
    EventKind.QA_VISIT: frozenset({(s, s) for s in (*OPEN_STATES, _S.RELEASED)}),
    EventKind.NON_CONFORMITY: frozenset({(s, s) for s in _S}),
    EventKind.INSPECTED: frozenset({(s, s) for s in OPEN_STATES}),
    EventKind.ACCEPTED: frozenset({(s, _S.RELEASED) for s in OPEN_STATES}),
    EventKind.REOPENED: frozenset({(s, s) for s in OPEN_STATES}
                                  | {(f, t) for f in (_S.RELEASED, _S.HANDED_OVER) for t in OPEN_STATES}),
    EventKind.EXTENDED: frozenset({(s, s) for s in OPEN_STATES}),
}

#: The only outcome each activity type may have (IMAS 07.11, 08.10, 08.20, 09.10, 09.11): an EOD spot task
#: (IMAS 09.30) destroys items and releases no area.
OUTCOMES_BY_TYPE: Mapping[ActivityType, frozenset[str]] = {
    ActivityType.NTS: frozenset({"cancelled"}),
    ActivityType.TS: frozenset({"reduced"}),
    ActivityType.CLEARANCE: frozenset({"cleared"}),
    ActivityType.BAC: frozenset({"cleared"}),
    ActivityType.EOD: frozenset(),
}

_VERB = {
    EventKind.RECORDED: msg("start the land-release history"),
    EventKind.ACTIVITY: msg("record an activity"),
    EventKind.RECLASSIFIED: msg("reclassify the area as CHA"),
    EventKind.RELEASED: msg("release the area"),
    EventKind.HANDED_OVER: msg("hand the area over"),
    EventKind.QA_VISIT: msg("record a QA visit"),
    EventKind.NON_CONFORMITY: msg("change a non-conformity"),
    EventKind.INSPECTED: msg("record a post-clearance inspection"),
    EventKind.ACCEPTED: msg("accept the area as released"),
    EventKind.REOPENED: msg("reopen land"),
    EventKind.EXTENDED: msg("extend the perimeter"),
}


def _cannot(verb: str, why: str) -> Msg:
    """A refusal: ``cannot {verb}: {why}``, both parts messages said in the user's language."""
    return msg("cannot {verb}: {why}", verb=verb, why=why)


def state_of(hazard_class: HazardClass, status: HazardStatus) -> ReleaseState:
    """The state a register record (class and status) stands for."""
    if status is HazardStatus.CLOSED:
        return ReleaseState.RELEASED
    if status is HazardStatus.HANDED_OVER:
        return ReleaseState.HANDED_OVER
    return ReleaseState.CONFIRMED if hazard_class is HazardClass.CHA else ReleaseState.SUSPECTED


def status_of(state: ReleaseState) -> HazardStatus:
    """The register status of a state."""
    if state is ReleaseState.RELEASED:
        return HazardStatus.CLOSED
    if state is ReleaseState.HANDED_OVER:
        return HazardStatus.HANDED_OVER
    return HazardStatus.OPEN


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"  # not closed, it blocks release and handover


class NCStatus(StrEnum):
    OPEN = "open"
    CORRECTED = "corrected"  # the operator says it is corrected; QA has not verified it yet
    CLOSED = "closed"  # QA verified the correction


#: Allowed moves of a non-conformity: open → corrected → closed; a correction QA does not accept goes back to open.
NC_TRANSITIONS: Mapping[NCStatus, frozenset[NCStatus]] = {
    NCStatus.OPEN: frozenset({NCStatus.CORRECTED}),
    NCStatus.CORRECTED: frozenset({NCStatus.CLOSED, NCStatus.OPEN}),
    NCStatus.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class NonConformity:
    """A finding of a QA visit: what does not conform to the standard, how serious it is, and where it stands."""

    id: str
    severity: Severity
    description: str
    status: NCStatus = NCStatus.OPEN

    def __post_init__(self) -> None:
        record = msg("non-conformity {id}", id=self.id)
        faults = []
        if not self.id.strip():
            faults.append(Fault(msg("non-conformity"), msg("id is empty"), "id"))
        if not self.description.strip():
            faults.append(Fault(record, msg("description is empty"), "description"))
        ValidationError.raise_if(record, faults)

    @property
    def blocks_release(self) -> bool:
        """A critical non-conformity blocks release and handover until QA closes it."""
        return self.severity is Severity.CRITICAL and self.status is not NCStatus.CLOSED


@dataclass(frozen=True, slots=True)
class QAVisit:
    """A quality-assurance visit (IMAS 07.12) on one activity, with the non-conformities it found (all open)."""

    id: str
    activity_id: str
    date: dt.date
    non_conformities: tuple[NonConformity, ...] = ()
    inspecting_organisation_id: str | None = None
    inspected_organisation_id: str | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "non_conformities", tuple(self.non_conformities))
        record = msg("QA visit {id}", id=self.id)
        faults = []
        if not self.id.strip():
            faults.append(Fault(msg("QA visit"), msg("id is empty"), "id"))
        if not self.activity_id.strip():
            faults.append(Fault(record, msg("activity id is empty"), "activity_id"))
        seen: set[str] = set()
        for nc in self.non_conformities:
            if nc.id in seen:
                faults.append(Fault(record, msg("non-conformity {id} appears twice", id=nc.id), "non_conformities"))
            seen.add(nc.id)
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class Inspection:
    """A post-clearance inspection or quality-control sampling (IMAS 09.20) of the processed land of an area.

    ``sample_m2`` is the area the inspectors sampled (the sample size of the sampling plan), ``plan`` the sampling
    plan followed (e.g. "ISO 2859-1, single sampling"). A failed inspection says where (``failed_area``: the lot
    or lane that failed, WGS84) and what was found (``finding``); ``devices_found`` counts devices found in the
    sample, which fails the inspection and is direct evidence.
    """

    id: str
    date: dt.date
    sample_m2: float
    passed: bool
    organisation: str
    plan: str = ""
    finding: str = ""
    failed_area: BaseGeometry | None = None
    devices_found: int = 0

    def __post_init__(self) -> None:
        record = msg("inspection {id}", id=self.id)
        faults = []
        if not self.id.strip():
            faults.append(Fault(msg("inspection"), msg("id is empty"), "id"))
        if not (math.isfinite(self.sample_m2) and self.sample_m2 > 0):
            faults.append(Fault(record, msg("sample size must be a positive area (m²), got {sample_m2}",
                                            sample_m2=self.sample_m2),
                                "sample_m2"))
        if not self.organisation.strip():
            faults.append(Fault(record, msg("inspecting organisation is empty"), "organisation"))
        if self.devices_found < 0:
            faults.append(Fault(record, msg("devices found cannot be negative"), "devices_found"))
        if self.passed:
            if self.failed_area is not None:
                faults.append(Fault(record, msg("a passed inspection has no failed area"), "failed_area"))
            if self.devices_found:
                faults.append(Fault(record, msg("a device found in the sample fails the inspection (IMAS 09.20)"),
                                    "passed"))
        else:
            if self.failed_area is None or self.failed_area.is_empty:
                faults.append(Fault(record, msg("a failed inspection needs the failed area (the lot or lane to "
                                                "clear again)"), "failed_area"))
            elif not isinstance(self.failed_area, Polygon | MultiPolygon) or not self.failed_area.is_valid \
                    or not in_wgs84_range(self.failed_area):
                faults.append(Fault(record, msg("failed area must be a valid WGS84 polygon"), "failed_area"))
            if not self.finding.strip():
                faults.append(Fault(record, msg("a failed inspection needs its finding"), "finding"))
        ValidationError.raise_if(record, faults)


def _utc(value: dt.datetime, record: str) -> dt.datetime:
    """``value`` in UTC to the millisecond (what the store keeps); a time without a time zone is refused."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(record, [Fault(record, msg("time {value} has no time zone; give it in UTC",
                                                         value=value), "at")])
    value = value.astimezone(dt.UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class ReleaseEvent:
    """One change in the land release of a hazard area: who, when, why, from which state to which, and the areas.

    Areas are in m² for this event: land cancelled, reduced and cleared (after clipping), land the outcomes claimed
    that was clipped away (outside the area or already released), and what remains hazardous after the event.
    ``activity`` (activity events) is the activity as recorded, its outcomes clipped. ``evidence`` is the direct
    evidence of a reclassification; ``recipient`` who received the land at handover.
    """

    hazard_id: str
    seq: int
    kind: EventKind
    at: dt.datetime
    actor: str
    reason: str
    from_state: ReleaseState | None
    to_state: ReleaseState
    cancelled_m2: float = 0.0
    reduced_m2: float = 0.0
    cleared_m2: float = 0.0
    clipped_m2: float = 0.0
    remaining_m2: float = 0.0
    activity: Activity | None = None
    visit: QAVisit | None = None
    non_conformity_id: str | None = None
    nc_status: NCStatus | None = None
    evidence: str = ""
    recipient: str = ""
    inspection: Inspection | None = None
    area: BaseGeometry | None = None  # WGS84: the land reopened, or added to the perimeter
    residual_risk: str = ""
    authority: str = ""
    extended_m2: float = 0.0
    reopened_m2: float = 0.0
    legacy: bool = False  # recorded before store revision 0005: its release is an implied acceptance

    def __post_init__(self) -> None:
        record = msg("event {seq} of hazard area {hazard_id}", seq=self.seq, hazard_id=self.hazard_id)
        object.__setattr__(self, "at", _utc(self.at, record))
        faults = []
        if self.seq < 1:
            faults.append(Fault(record, msg("sequence numbers start at 1"), "seq"))
        if not self.actor.strip():
            faults.append(Fault(record, msg("actor is empty: say who made the change"), "actor"))
        if not self.reason.strip():
            faults.append(Fault(record, msg("reason is empty: say why the change was made"), "reason"))
        for name in ("cancelled_m2", "reduced_m2", "cleared_m2", "clipped_m2", "remaining_m2", "extended_m2",
                     "reopened_m2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                faults.append(Fault(record, msg("{name} must be a non-negative area, got {value}", name=name,
                                                value=value), name))
        k = self.kind
        wants: dict[str, bool | None] = {  # True: required, False: refused, None: optional
            "activity": k is EventKind.ACTIVITY,
            "visit": k is EventKind.QA_VISIT,
            "non_conformity_id": k is EventKind.NON_CONFORMITY,
            "nc_status": k is EventKind.NON_CONFORMITY,
            "evidence": True if k is EventKind.RECLASSIFIED else (None if k is EventKind.REOPENED else False),
            "recipient": k is EventKind.HANDED_OVER,
            "inspection": k is EventKind.INSPECTED,
            "area": k in (EventKind.REOPENED, EventKind.EXTENDED),
            "residual_risk": k is EventKind.REOPENED,
            "authority": k is EventKind.ACCEPTED,
        }
        if self.legacy and k not in (EventKind.RECORDED, EventKind.ACTIVITY, EventKind.RECLASSIFIED,
                                     EventKind.RELEASED, EventKind.HANDED_OVER, EventKind.QA_VISIT,
                                     EventKind.NON_CONFORMITY):
            faults.append(Fault(record, msg("a {k} event cannot be legacy: the kind is newer than the legacy "
                                            "rules", k=k),
                                "legacy"))
        for name, wanted in wants.items():
            value = getattr(self, name)
            given = value is not None and (not isinstance(value, str) or bool(value.strip()))
            if wanted is None:
                continue
            if wanted and not given:
                faults.append(Fault(record, msg("a {kind} event needs {value}", kind=self.kind,
                                                value=name.replace('_', ' ')), name))
            elif given and not wanted:
                faults.append(Fault(record, msg("a {kind} event has no {value}", kind=self.kind,
                                                value=name.replace('_', ' ')), name))
        ValidationError.raise_if(record, faults)

    @property
    def released_m2(self) -> float:
        """Land this event released: cancelled + reduced + cleared."""
        return self.cancelled_m2 + self.reduced_m2 + self.cleared_m2

    def describe(self) -> str:
        """One line saying what happened, for people (a message: said in the user's language)."""
        if self.kind is EventKind.RECORDED:
            cls = "CHA" if self.to_state is ReleaseState.CONFIRMED else "SHA"
            return msg("recorded as {cls}: {m2} m² suspected or confirmed hazardous", cls=cls,
                       m2=f"{self.remaining_m2:,.0f}")
        if self.kind is EventKind.ACTIVITY and self.activity is not None:
            a = self.activity
            parts: list[str] = [f"{a.activity_type.value.upper()} {a.id}"]
            if self.cancelled_m2 > 0:
                parts.append(msg("cancelled {m2} m²", m2=f"{self.cancelled_m2:,.0f}"))
            if self.reduced_m2 > 0:
                parts.append(msg("reduced {m2} m²", m2=f"{self.reduced_m2:,.0f}"))
            if self.cleared_m2 > 0:
                parts.append(msg("cleared {m2} m²", m2=f"{self.cleared_m2:,.0f}"))
            if self.clipped_m2 > 0:
                parts.append(msg("{m2} m² of its outcomes lay outside what was still hazardous and was clipped off",
                                 m2=f"{self.clipped_m2:,.0f}"))
            if a.devices:
                parts.append(msg_n("{n} device found", "{n} devices found", sum(d.quantity for d in a.devices)))
            if a.clearance_depth_cm is not None:
                parts.append(msg("cleared to {depth} cm", depth=f"{a.clearance_depth_cm:g}"))
            parts.append(msg("{m2} m² remain", m2=f"{self.remaining_m2:,.0f}"))
            return Joined("; ", parts)
        if self.kind is EventKind.RECLASSIFIED:
            return msg("reclassified SHA → CHA on direct evidence: {evidence}", evidence=self.evidence)
        if self.kind is EventKind.RELEASED:
            return msg("released: nothing hazardous remains ({m2} m² left, within tolerance)",
                       m2=f"{self.remaining_m2:,.0f}")
        if self.kind is EventKind.ACCEPTED:
            return msg("accepted as released by {authority} ({m2} m² left)", authority=self.authority,
                       m2=f"{self.remaining_m2:,.2f}")
        if self.kind is EventKind.INSPECTED and self.inspection is not None:
            i = self.inspection
            head = (msg("inspection {id} by {organisation} ({date}), sample {m2} m² ({plan})", id=i.id,
                        organisation=i.organisation, date=i.date, m2=f"{i.sample_m2:,.0f}", plan=i.plan) if i.plan
                    else msg("inspection {id} by {organisation} ({date}), sample {m2} m²", id=i.id,
                             organisation=i.organisation, date=i.date, m2=f"{i.sample_m2:,.0f}"))
            if i.passed:
                return msg("{head}: passed", head=head)
            return msg("{head}: FAILED ({finding}); {reopened} m² reopened, {m2} m² remain", head=head,
                       finding=i.finding, reopened=f"{self.reopened_m2:,.0f}", m2=f"{self.remaining_m2:,.0f}")
        if self.kind is EventKind.REOPENED:
            if self.evidence:
                return msg("reopened {reopened} m² on {evidence}; residual risk: {risk}; {m2} m² remain",
                           reopened=f"{self.reopened_m2:,.0f}", evidence=self.evidence, risk=self.residual_risk,
                           m2=f"{self.remaining_m2:,.0f}")
            return msg("reopened {reopened} m²; residual risk: {risk}; {m2} m² remain",
                       reopened=f"{self.reopened_m2:,.0f}", risk=self.residual_risk, m2=f"{self.remaining_m2:,.0f}")
        if self.kind is EventKind.EXTENDED:
            return msg("perimeter extended by {extended} m²; {m2} m² remain", extended=f"{self.extended_m2:,.0f}",
                       m2=f"{self.remaining_m2:,.0f}")
        if self.kind is EventKind.HANDED_OVER:
            return msg("handed over to {recipient}", recipient=self.recipient)
        if self.kind is EventKind.QA_VISIT and self.visit is not None:
            v = self.visit
            found = ", ".join(f"{nc.id} ({nc.severity.value})" for nc in v.non_conformities)
            if not found:
                return msg("QA visit {id} on activity {activity} ({date}): non-conformities none", id=v.id,
                           activity=v.activity_id, date=v.date)
            return msg("QA visit {id} on activity {activity} ({date}): non-conformities {found}", id=v.id,
                       activity=v.activity_id, date=v.date, found=found)
        return msg("non-conformity {id} is now {status}", id=self.non_conformity_id, status=self.nc_status)


def _local(proj: LocalProjection, geom: BaseGeometry) -> BaseGeometry:
    """``geom`` (valid, WGS84) in the local metric projection, valid: the forward projection can make two near edges
    cross (a self-intersection of a fraction of a millimetre, as the inverse can, ``LandRelease._wgs84``), which the
    overlays that follow refuse (a GEOS TopologyException); such a ring is repaired."""
    local = proj.to_local(geom)
    return _polygonal(local if local.is_valid else shapely.make_valid(local))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of ``geom`` (overlays can return lines or points where boundaries touch)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    polys: list[BaseGeometry] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon) and not part.is_empty:
            polys.append(part)
        elif isinstance(part, MultiPolygon | GeometryCollection):
            sub = _polygonal(part)
            if not sub.is_empty:
                polys.append(sub)
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else _polygonal(shapely.union_all(polys))


@dataclass(frozen=True, slots=True)
class _Effects:
    """What one event changes; the fields left None stay as they were."""

    to_state: ReleaseState
    hazard_class: HazardClass | None = None
    remaining: BaseGeometry | None = None
    cancelled_m2: float = 0.0
    reduced_m2: float = 0.0
    cleared_m2: float = 0.0
    clipped_m2: float = 0.0
    activity: Activity | None = None
    visit: QAVisit | None = None
    non_conformity: NonConformity | None = None
    perimeter: BaseGeometry | None = None
    extended_m2: float = 0.0
    reopened_m2: float = 0.0
    inspection_due: bool | None = None
    evidence_pending: str | None = None


@dataclass(frozen=True, slots=True)
class LandRelease:
    """The land-release record of one hazard area: its state, its balance and its history.

    Make one with :meth:`start` (a new history) or :meth:`replay` (a stored history); change it only through its
    commands (:meth:`record_activity`, :meth:`reclassify`, :meth:`inspect`, :meth:`accept` (or :meth:`release`),
    :meth:`hand_over`, :meth:`reopen`, :meth:`extend`, :meth:`record_qa_visit`, :meth:`set_non_conformity`), each
    of which returns a new record with one more event (two when direct evidence brings an automatic
    reclassification) or raises TransitionError (or ValidationError for bad input) and leaves this one as it was.
    """

    hazard_id: str
    geometry: BaseGeometry  # the perimeter as recorded (WGS84); extensions are events (see :attr:`perimeter`)
    hazard_class: HazardClass
    state: ReleaseState
    history: tuple[ReleaseEvent, ...]
    cancelled_m2: float
    reduced_m2: float
    cleared_m2: float
    activities: Mapping[str, Activity]  # activities of the history (outcomes clipped), by id
    visits: Mapping[str, QAVisit]
    non_conformities: Mapping[str, NonConformity]  # current status of each
    devices_found: frozenset[DeviceCategory]
    _proj: LocalProjection = field(repr=False, compare=False)
    _original: BaseGeometry = field(repr=False, compare=False)  # metres, in _proj
    _remaining: BaseGeometry = field(repr=False, compare=False)  # metres, in _proj
    rules: ReleaseRules = field(default_factory=ReleaseRules)
    required_depth_cm: float = 13.0  # the area's override, else the programme's (IMAS 09.10)
    extended_m2: float = 0.0
    reopened_m2: float = 0.0
    inspection_due: bool = False  # land reduced, cleared or reopened since the last passed inspection
    evidence_pending: str = ""  # direct evidence found in an SHA: the next event reclassifies it
    _perimeter: BaseGeometry | None = field(default=None, repr=False, compare=False)  # metres; None: _original

    # ------------------------------------------------------------------------------------------------
    # Making one
    # ------------------------------------------------------------------------------------------------

    @classmethod
    def _blank(cls, hazard: HazardArea, state: ReleaseState, rules: ReleaseRules) -> LandRelease:
        proj = projection_near(hazard.geometry)
        original = _local(proj, hazard.geometry)
        return cls(
            hazard_id=hazard.id,
            geometry=hazard.geometry,
            hazard_class=HazardClass.CHA if state is ReleaseState.CONFIRMED else HazardClass.SHA,
            state=state,
            history=(),
            cancelled_m2=0.0,
            reduced_m2=0.0,
            cleared_m2=0.0,
            activities={},
            visits={},
            non_conformities={},
            devices_found=frozenset(),
            _proj=proj,
            _original=original,
            _remaining=original,
            rules=rules,
            required_depth_cm=hazard.clearance_depth_cm or rules.clearance_depth_cm,
        )

    @classmethod
    def start(cls, hazard: HazardArea, *, actor: str, at: dt.datetime, reason: str,
              rules: ReleaseRules | None = None) -> LandRelease:
        """A new history of ``hazard``: one ``recorded`` event, from the register's class (the area must be open)."""
        blank = cls._blank(hazard, state_of(hazard.hazard_class, hazard.status), rules or ReleaseRules())
        if hazard.status is not HazardStatus.OPEN:
            raise blank._refuse(_cannot(_VERB[EventKind.RECORDED], msg(
                "the register has the area {status}; a history starts with an open area",
                status=hazard.status.value)))
        return blank._step(EventKind.RECORDED, actor=actor, at=at, reason=reason)

    @classmethod
    def replay(cls, hazard: HazardArea, events: Sequence[ReleaseEvent],
               rules: ReleaseRules | None = None) -> LandRelease:
        """The record that ``events`` (a stored history of ``hazard``) produce, each checked as it was first made.

        Every event must be allowed from the state before it, follow the previous one in sequence and time, and
        agree with what the rules compute (state after it, areas within tolerance); otherwise ValidationError
        names the event and says why.
        """
        record = msg("land-release history of hazard area {id}", id=hazard.id)
        if not events:
            raise ValidationError(record, [Fault(record, msg("has no events"))])
        first = events[0]
        if first.kind is not EventKind.RECORDED:
            raise ValidationError(record, [Fault(record, msg("starts with a {kind} event, not 'recorded'",
                                                             kind=first.kind))])
        state = first.to_state if first.to_state in OPEN_STATES else ReleaseState.SUSPECTED
        current = cls._blank(hazard, state, rules or ReleaseRules())
        for event in events:
            current = current._step(
                event.kind,
                actor=event.actor,
                at=event.at,
                reason=event.reason,
                activity=event.activity,
                visit=event.visit,
                nc_id=event.non_conformity_id,
                nc_status=event.nc_status,
                evidence=event.evidence,
                recipient=event.recipient,
                inspection=event.inspection,
                area=event.area,
                residual_risk=event.residual_risk,
                authority=event.authority,
                recorded=event,
            )
        return current

    # ------------------------------------------------------------------------------------------------
    # Commands
    # ------------------------------------------------------------------------------------------------

    def record_activity(self, activity: Activity, *, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """An NTS, TS, clearance, BAC or EOD activity with its outcomes (clipped to what is still hazardous).

        It processes land; it never releases the area (see :meth:`accept`). Devices found in an SHA make it a CHA:
        an automatic ``reclassified`` event follows.
        """
        nxt = self._step(EventKind.ACTIVITY, actor=actor, at=at, reason=reason, activity=activity)
        return nxt._follow_evidence(actor=actor, at=at)

    def inspect(self, inspection: Inspection, *, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """A post-clearance inspection (IMAS 09.20) of the processed land: a failed one reopens its failed area."""
        nxt = self._step(EventKind.INSPECTED, actor=actor, at=at, reason=reason, inspection=inspection,
                         evidence="")
        return nxt._follow_evidence(actor=actor, at=at)

    def accept(self, *, authority: str, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """The authority accepts the processed land as released: nothing (no sliver) remains, the inspection
        passed where land was reduced or cleared, and no critical non-conformity is open."""
        return self._step(EventKind.ACCEPTED, actor=actor, at=at, reason=reason, authority=authority)

    def reopen(self, area: BaseGeometry, *, residual_risk: str, evidence: str = "", actor: str, at: dt.datetime,
               reason: str) -> LandRelease:
        """Put the processed or released land within ``area`` back in the hazardous part (IMAS 07.14).

        ``evidence`` describes a device or other direct evidence found (it makes an SHA a CHA);
        ``residual_risk`` is the residual-risk statement of the find.
        """
        nxt = self._step(EventKind.REOPENED, actor=actor, at=at, reason=reason, area=area,
                         residual_risk=residual_risk, evidence=evidence)
        return nxt._follow_evidence(actor=actor, at=at)

    def extend(self, area: BaseGeometry, *, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """Grow the perimeter by ``area`` (the land beyond it is hazardous until processed)."""
        return self._step(EventKind.EXTENDED, actor=actor, at=at, reason=reason, area=area)

    def _follow_evidence(self, *, actor: str, at: dt.datetime) -> LandRelease:
        """Class follows evidence: the automatic SHA → CHA event after direct evidence was found."""
        if not self.evidence_pending:
            return self
        return self._step(EventKind.RECLASSIFIED, actor=actor, at=at,
                          reason="automatic: direct evidence makes a CHA (IMAS 08.10)",
                          evidence=self.evidence_pending)

    def reclassify(self, *, evidence: str, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """SHA → CHA on direct evidence (described in ``evidence``)."""
        return self._step(EventKind.RECLASSIFIED, actor=actor, at=at, reason=reason, evidence=evidence)

    def release(self, *, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """Close an open area: the authority's acceptance, with ``actor`` as the authority (see :meth:`accept`).

        ``released`` events are only replayed from legacy histories; a new release is an ``accepted`` event.
        """
        return self.accept(authority=actor, actor=actor, at=at, reason=reason)

    def hand_over(self, *, recipient: str, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """Hand released land to ``recipient`` (its users or the authority that takes it)."""
        return self._step(EventKind.HANDED_OVER, actor=actor, at=at, reason=reason, recipient=recipient)

    def record_qa_visit(self, visit: QAVisit, *, actor: str, at: dt.datetime, reason: str) -> LandRelease:
        """A QA visit on an activity of this history, with its (open) non-conformities."""
        return self._step(EventKind.QA_VISIT, actor=actor, at=at, reason=reason, visit=visit)

    def set_non_conformity(
        self, nc_id: str, status: NCStatus, *, actor: str, at: dt.datetime, reason: str
    ) -> LandRelease:
        """Move a non-conformity along :data:`NC_TRANSITIONS` (open → corrected → closed; corrected → open)."""
        return self._step(EventKind.NON_CONFORMITY, actor=actor, at=at, reason=reason, nc_id=nc_id,
                          nc_status=status)

    # ------------------------------------------------------------------------------------------------
    # What it says
    # ------------------------------------------------------------------------------------------------

    @property
    def original_m2(self) -> float:
        return float(self._original.area)

    @property
    def remaining_m2(self) -> float:
        return float(self._remaining.area)

    @property
    def remaining(self) -> BaseGeometry:
        """What is still hazardous, in WGS84."""
        return self._wgs84(self._remaining)

    @property
    def _outline(self) -> BaseGeometry:
        return self._original if self._perimeter is None else self._perimeter

    @property
    def perimeter(self) -> BaseGeometry:
        """The perimeter with its extensions, in WGS84."""
        return self.geometry if self._perimeter is None else self._wgs84(self._perimeter)

    @property
    def processed_m2(self) -> float:
        """Land of the perimeter that is no longer hazardous (cancelled, reduced or cleared, not reopened)."""
        return float(_polygonal(shapely.difference(self._outline, self._remaining)).area)

    @property
    def tolerance_m2(self) -> float:
        return release_tolerance_m2(self.original_m2)

    @property
    def balance(self) -> ReleaseBalance:
        """original, cancelled, reduced, cleared and remaining areas (m²) and the remaining geometry."""
        return ReleaseBalance(self.original_m2, self.cancelled_m2, self.reduced_m2, self.cleared_m2,
                              self.remaining_m2, self.remaining, self.extended_m2, self.reopened_m2)

    @property
    def blockers(self) -> tuple[NonConformity, ...]:
        """Critical non-conformities not closed yet: they block release and handover."""
        return tuple(nc for nc in self.non_conformities.values() if nc.blocks_release)

    @property
    def nothing_remains(self) -> bool:
        """True when what is still hazardous is no more than the programme's residual area and no wider than its
        sliver width (:meth:`ReleaseRules.leaves_nothing`)."""
        return self.rules.leaves_nothing(self._remaining)

    @property
    def awaiting_release(self) -> bool:
        """Open with all land processed: awaiting inspection and acceptance, or held back by a blocker."""
        return self.state in OPEN_STATES and self.nothing_remains

    @property
    def release_holds(self) -> tuple[str, ...]:
        """Why the area cannot be accepted as released now (empty when it can)."""
        holds: list[str] = []
        if self.state not in OPEN_STATES:
            return (msg("the area is {state}", state=self.state.value),)
        if not self.nothing_remains:
            holds.append(self.rules.widest_m(self._remaining))
        if self.evidence_pending:
            holds.append(msg("direct evidence awaits reclassification: {evidence}", evidence=self.evidence_pending))
        if self.inspection_due:
            holds.append(msg("no post-clearance inspection has passed since land was last reduced, cleared or "
                             "reopened (IMAS 09.20)"))
        holds += [msg("critical non-conformity {id} ({status}) is not closed", id=nc.id, status=nc.status.value)
                  for nc in self.blockers]
        return tuple(holds)

    @property
    def deep_finds(self) -> tuple[tuple[str, float], ...]:
        """Devices found deeper than the required clearance depth: (activity id, depth cm), flagged for review."""
        return tuple((a.id, d.depth_cm) for a in self.activities.values() for d in a.devices
                     if d.depth_cm is not None and d.below(self.required_depth_cm))

    def register_record(self, hazard: HazardArea) -> HazardArea:
        """``hazard`` (the register's record of this area) updated to this state: class, status, evidence, devices."""
        if hazard.id != self.hazard_id:
            raise ValidationError(msg("hazard area {id}", id=hazard.id), [
                Fault(msg("hazard area {id}", id=hazard.id), msg("is not the area of this history ({hazard_id})",
                                                      hazard_id=self.hazard_id), "id")])
        evidence = Evidence.DIRECT if self.hazard_class is HazardClass.CHA else hazard.evidence
        return dataclasses.replace(
            hazard,
            hazard_class=self.hazard_class,
            status=status_of(self.state),
            evidence=evidence,
            device_categories=hazard.device_categories | self.devices_found,
        )

    # ------------------------------------------------------------------------------------------------
    # The machine
    # ------------------------------------------------------------------------------------------------

    def _refuse(self, reason: str) -> TransitionError:
        what = msg("hazard area {id}", id=self.hazard_id)
        return TransitionError(what, [Fault(what, reason)])

    def _step(
        self,
        kind: EventKind,
        *,
        actor: str,
        at: dt.datetime,
        reason: str,
        activity: Activity | None = None,
        visit: QAVisit | None = None,
        nc_id: str | None = None,
        nc_status: NCStatus | None = None,
        evidence: str = "",
        recipient: str = "",
        inspection: Inspection | None = None,
        area: BaseGeometry | None = None,
        residual_risk: str = "",
        authority: str = "",
        recorded: ReleaseEvent | None = None,
    ) -> LandRelease:
        """Apply one event (new, or ``recorded`` when replaying); return the record after it."""
        legacy = recorded is not None and recorded.legacy
        seq = len(self.history) + 1
        where = f"event {seq} of hazard area {self.hazard_id}"
        at = _utc(at, where)
        faults = []
        if not actor.strip():
            faults.append(Fault(where, msg("actor is empty: say who made the change"), "actor"))
        if not reason.strip():
            faults.append(Fault(where, msg("reason is empty: say why the change was made"), "reason"))
        ValidationError.raise_if(where, faults)
        from_state = self.state if self.history else None
        allowed_from = {f for f, _ in TRANSITIONS[kind]}
        if from_state not in allowed_from:
            if from_state is None:
                raise self._refuse(_cannot(_VERB[kind], msg("its land-release history has not started (the first "
                                                            "event is 'recorded')")))
            if kind is EventKind.RECORDED:
                raise self._refuse(_cannot(_VERB[kind], msg("it started with event 1")))
            names = ", ".join(sorted(s.value for s in allowed_from if s is not None)) or msg("never")
            raise self._refuse(_cannot(_VERB[kind], msg("the area is {state}; allowed only when it is {states}",
                                                        state=from_state.value, states=names)))
        if self.history and at < self.history[-1].at:
            last = self.history[-1]
            raise self._refuse(msg("cannot {verb} at {at}: it is before event {seq} ({then}); the history only "
                                   "grows forward", verb=_VERB[kind], at=at.isoformat(), seq=last.seq,
                                   then=last.at.isoformat()))
        if recorded is not None and (recorded.seq != seq or recorded.hazard_id != self.hazard_id):
            raise ValidationError(where, [Fault(where, msg("stored as event {seq} of hazard area {hazard_id}; "
                                                           "expected event {seq2} of this area", seq=recorded.seq,
                                                           hazard_id=recorded.hazard_id, seq2=seq))])
        if self.evidence_pending and kind is not EventKind.RECLASSIFIED:
            raise self._refuse(_cannot(_VERB[kind], msg("direct evidence ({evidence}) makes the area a CHA first "
                                                        "(IMAS 08.10)", evidence=self.evidence_pending)))

        if kind is EventKind.RECORDED:
            effects = _Effects(to_state=self.state)
        elif kind is EventKind.ACTIVITY:
            if activity is None:
                raise ValidationError(where, [Fault(where, msg("an activity event needs its activity"), "activity")])
            effects = self._activity(activity, legacy=legacy)
            if recorded is not None and not legacy:
                # Replaying: whether land was physically processed is what the event recorded. Its kept geometry,
                # taken to WGS84 and back, can lose a processed sliver of a few square millimetres entirely, and
                # the inspection it made due would silently vanish from the replayed record.
                physical = recorded.reduced_m2 + recorded.cleared_m2 > 0
                effects = dataclasses.replace(effects, inspection_due=True if physical else None)
        elif kind is EventKind.RECLASSIFIED:
            effects = _Effects(to_state=ReleaseState.CONFIRMED, hazard_class=HazardClass.CHA, evidence_pending="")
        elif kind is EventKind.RELEASED:
            if not legacy:
                raise self._refuse(msg("cannot release the area without the authority's acceptance: record a "
                                       "passed inspection and accept it ('accepted' event)"))
            effects = self._release()
        elif kind is EventKind.ACCEPTED:
            effects = self._accept(authority)
        elif kind is EventKind.INSPECTED:
            if inspection is None:
                raise ValidationError(where, [Fault(where, msg("an inspection event needs its inspection"),
                                                    "inspection")])
            effects = self._inspect(inspection)
        elif kind is EventKind.REOPENED:
            effects = self._reopen(area, residual_risk, evidence)
        elif kind is EventKind.EXTENDED:
            effects = self._extend(area)
        elif kind is EventKind.HANDED_OVER:
            self._check_unblocked(_VERB[EventKind.HANDED_OVER])
            effects = _Effects(to_state=ReleaseState.HANDED_OVER)
        elif kind is EventKind.QA_VISIT:
            if visit is None:
                raise ValidationError(where, [Fault(where, msg("a QA visit event needs its visit"), "visit")])
            effects = self._qa_visit(visit)
        else:
            effects = self._non_conformity(nc_id, nc_status)

        if (from_state, effects.to_state) not in TRANSITIONS[kind]:  # the handlers only make allowed moves
            raise self._refuse(_cannot(_VERB[kind], msg("{before} → {after} is not a land-release transition",
                                                        before=str(from_state), after=str(effects.to_state))))
        remaining = effects.remaining if effects.remaining is not None else self._remaining
        event = ReleaseEvent(
            hazard_id=self.hazard_id,
            seq=seq,
            kind=kind,
            at=at,
            actor=actor,
            reason=reason,
            from_state=from_state,
            to_state=effects.to_state,
            cancelled_m2=effects.cancelled_m2,
            reduced_m2=effects.reduced_m2,
            cleared_m2=effects.cleared_m2,
            clipped_m2=effects.clipped_m2,
            remaining_m2=float(remaining.area),
            activity=effects.activity,
            visit=visit,
            non_conformity_id=nc_id,
            nc_status=nc_status,
            evidence=evidence,
            recipient=recipient,
            inspection=inspection,
            area=area,
            residual_risk=residual_risk,
            authority=authority,
            extended_m2=effects.extended_m2,
            reopened_m2=effects.reopened_m2,
            legacy=legacy,
        )
        if recorded is not None:
            self._check_replayed(recorded, event)
            event = recorded
        nxt = self._after(event, effects, remaining)
        nxt._check_balance(event)
        return nxt

    def _after(self, event: ReleaseEvent, effects: _Effects, remaining: BaseGeometry) -> LandRelease:
        activities = dict(self.activities)
        devices = self.devices_found
        if event.activity is not None:
            activities[event.activity.id] = event.activity
            devices = devices | {d.category for d in event.activity.devices}
        visits = dict(self.visits)
        ncs = dict(self.non_conformities)
        if event.visit is not None:
            visits[event.visit.id] = event.visit
            ncs.update((nc.id, nc) for nc in event.visit.non_conformities)
        if effects.non_conformity is not None:
            ncs[effects.non_conformity.id] = effects.non_conformity
        return dataclasses.replace(
            self,
            hazard_class=self.hazard_class if effects.hazard_class is None else effects.hazard_class,
            state=event.to_state,
            history=(*self.history, event),
            cancelled_m2=self.cancelled_m2 + event.cancelled_m2,
            reduced_m2=self.reduced_m2 + event.reduced_m2,
            cleared_m2=self.cleared_m2 + event.cleared_m2,
            activities=activities,
            visits=visits,
            non_conformities=ncs,
            devices_found=devices,
            _remaining=remaining,
            extended_m2=self.extended_m2 + event.extended_m2,
            reopened_m2=self.reopened_m2 + event.reopened_m2,
            inspection_due=self.inspection_due if effects.inspection_due is None else effects.inspection_due,
            evidence_pending=self.evidence_pending if effects.evidence_pending is None else effects.evidence_pending,
            _perimeter=self._perimeter if effects.perimeter is None else effects.perimeter,
        )

    def _check_balance(self, event: ReleaseEvent) -> None:
        """The invariant: original = cancelled + reduced + cleared + remaining, within the tolerance."""
        bal = ReleaseBalance(self.original_m2, self.cancelled_m2, self.reduced_m2, self.cleared_m2,
                             self.remaining_m2, self._remaining,  # areas only: no need to project back to WGS84
                             self.extended_m2, self.reopened_m2)
        if not bal.balanced:
            what = msg("hazard area {hazard_id}", hazard_id=self.hazard_id)
            raise ValidationError(what, [Fault(what, (
                msg("land-release balance broken after event {seq}: original {original_m2:,.1f} m² + extended "
                    "{extended_m2:,.1f} + reopened {reopened_m2:,.1f} ≠ cancelled {cancelled_m2:,.1f} + "
                    "reduced {reduced_m2:,.1f} + cleared {cleared_m2:,.1f} + remaining {remaining_m2:,.1f} "
                    "(residual {residual_m2:,.1f} m², tolerance {tolerance_m2:,.1f} m²)", seq=event.seq,
                    original_m2=bal.original_m2, extended_m2=bal.extended_m2, reopened_m2=bal.reopened_m2,
                    cancelled_m2=bal.cancelled_m2, reduced_m2=bal.reduced_m2, cleared_m2=bal.cleared_m2,
                    remaining_m2=bal.remaining_m2, residual_m2=bal.residual_m2, tolerance_m2=bal.tolerance_m2)))])

    def _check_replayed(self, recorded: ReleaseEvent, computed: ReleaseEvent) -> None:
        where = f"event {recorded.seq} of hazard area {self.hazard_id}"
        faults = []
        if recorded.from_state != computed.from_state or recorded.to_state != computed.to_state:
            faults.append(Fault(where, msg("is stored as {from_state} → {to_state}, but the rules give "
                                           "{from_state2} → {to_state2}", from_state=recorded.from_state,
                                           to_state=recorded.to_state, from_state2=computed.from_state,
                                           to_state2=computed.to_state), "to_state"))
        tol = self.tolerance_m2
        for name in ("cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2", "extended_m2", "reopened_m2"):
            stored, now = getattr(recorded, name), getattr(computed, name)
            if abs(stored - now) > tol:
                faults.append(Fault(where, msg("is stored with {name} {stored:,.1f}, but its outcomes give "
                                               "{now:,.1f} (tolerance {tol:,.1f} m²)", name=name, stored=stored,
                                               now=now, tol=tol), name))
        ValidationError.raise_if(where, faults)

    def _check_unblocked(self, verb: str) -> None:
        blockers = self.blockers
        if blockers:
            listed = ", ".join(f"{nc.id} ({nc.status.value})" for nc in blockers)
            raise self._refuse(_cannot(verb, msg("critical non-conformity {listed} is not closed", listed=listed)))

    def _release(self) -> _Effects:
        """A legacy ``released`` event: nothing left within the balance tolerance (the rule before 0005)."""
        if self.remaining_m2 > self.tolerance_m2:
            raise self._refuse(_cannot(_VERB[EventKind.RELEASED], msg(
                "{m2} m² is still hazardous (tolerance {tolerance} m²)", m2=f"{self.remaining_m2:,.0f}",
                tolerance=f"{self.tolerance_m2:,.0f}")))
        self._check_unblocked(_VERB[EventKind.RELEASED])
        return _Effects(to_state=ReleaseState.RELEASED)

    def _accept(self, authority: str) -> _Effects:
        if not authority.strip():
            raise ValidationError(msg("hazard area {id}", id=self.hazard_id), [Fault(
                msg("hazard area {hazard_id}", hazard_id=self.hazard_id),
                msg("acceptance needs the accepting authority"), "authority")])
        holds = self.release_holds
        if holds:
            raise self._refuse(_cannot(_VERB[EventKind.ACCEPTED], Joined("; ", holds)))
        return _Effects(to_state=ReleaseState.RELEASED)

    def _local_polygon(self, geom: BaseGeometry | None, what: str, name: str) -> BaseGeometry:
        where = msg("hazard area {id}", id=self.hazard_id)
        if geom is None or geom.is_empty:
            raise ValidationError(where, [Fault(where, msg("{what} needs its area", what=what), name)])
        if not isinstance(geom, Polygon | MultiPolygon) or not geom.is_valid or not in_wgs84_range(geom):
            raise ValidationError(where, [Fault(where, msg("{what}: the area must be a valid WGS84 polygon", what=what),
                                                name)])
        return _local(self._proj, geom)

    def _put_back(self, local: BaseGeometry, what: str) -> tuple[BaseGeometry, float]:
        """``local`` ∩ the processed land, added back to what remains: (remaining after, area put back)."""
        processed = _polygonal(shapely.difference(self._outline, self._remaining))
        part = _polygonal(shapely.intersection(local, processed))
        if float(part.area) <= self.rules.residual_area_m2:
            raise self._refuse(msg("cannot reopen land for {what}: its area does not overlap land this area has "
                                   "processed or released", what=what))
        return _polygonal(shapely.union(self._remaining, part)), float(part.area)

    def _inspect(self, inspection: Inspection) -> _Effects:
        record = msg("record inspection {id}", id=inspection.id)
        if any(e.inspection is not None and e.inspection.id == inspection.id for e in self.history):
            raise self._refuse(_cannot(record, msg("it is already in the history")))
        processed = self.processed_m2
        if processed <= self.rules.residual_area_m2:
            raise self._refuse(_cannot(record, msg("no land of the area has been processed yet")))
        if inspection.sample_m2 > processed + self.tolerance_m2:
            raise self._refuse(_cannot(record, msg("its sample of {sample} m² is larger than the {processed} m² "
                                                   "processed", sample=f"{inspection.sample_m2:,.0f}",
                                                   processed=f"{processed:,.0f}")))
        if inspection.passed:
            return _Effects(to_state=self.state, inspection_due=False)
        said = msg("inspection {id}", id=inspection.id)
        local = self._local_polygon(inspection.failed_area, said, "failed_area")
        remaining, put_back = self._put_back(local, said)
        evidence = (f"{inspection.devices_found} device(s) found by inspection {inspection.id}: {inspection.finding}"
                    if inspection.devices_found and self.hazard_class is HazardClass.SHA else None)
        return _Effects(to_state=self.state, remaining=remaining, reopened_m2=put_back, inspection_due=True,
                        evidence_pending=evidence)

    def _reopen(self, area: BaseGeometry | None, residual_risk: str, evidence: str) -> _Effects:
        where = msg("hazard area {id}", id=self.hazard_id)
        if not residual_risk.strip():
            raise ValidationError(where, [Fault(where, msg("reopening needs a residual-risk statement (IMAS 07.14)"),
                                                "residual_risk")])
        local = self._local_polygon(area, msg("reopening"), "area")
        remaining, put_back = self._put_back(local, msg("reopening"))
        to_state = ReleaseState.CONFIRMED if self.hazard_class is HazardClass.CHA else ReleaseState.SUSPECTED
        pending = evidence if evidence.strip() and self.hazard_class is HazardClass.SHA else None
        return _Effects(to_state=to_state, remaining=remaining, reopened_m2=put_back, inspection_due=True,
                        evidence_pending=pending)

    def _extend(self, area: BaseGeometry | None) -> _Effects:
        local = self._local_polygon(area, msg("extension"), "area")
        added = _polygonal(shapely.difference(local, self._outline))
        if float(added.area) <= self.rules.residual_area_m2:
            raise self._refuse(_cannot(_VERB[EventKind.EXTENDED], msg("the extension lies within it")))
        return _Effects(to_state=self.state, remaining=_polygonal(shapely.union(self._remaining, added)),
                        perimeter=_polygonal(shapely.union(self._outline, added)), extended_m2=float(added.area))

    def _check_outcomes(self, activity: Activity) -> None:
        """The rules an activity recorded now must follow (legacy events were recorded before them)."""
        record = msg("record activity {id}", id=activity.id)
        kind = activity.activity_type
        wrong = sorted(set(activity.outcomes) - OUTCOMES_BY_TYPE[kind])
        if wrong:
            allowed = ", ".join(sorted(OUTCOMES_BY_TYPE[kind])) or msg("no area (it destroys items; IMAS 09.30)")
            raise self._refuse(_cannot(record, msg(
                "a {kind} activity may not record {wrong} land; it yields {allowed} (IMAS 07.11: NTS cancels, TS "
                "reduces, clearance and BAC clear, an EOD spot task releases no area)", kind=kind.value.upper(),
                wrong=", ".join(wrong), allowed=allowed)))
        if (self.hazard_class is HazardClass.CHA and "cancelled" in activity.outcomes
                and not self.rules.nts_may_cancel_in_cha):
            raise self._refuse(_cannot(record, msg(
                "it cancels land in a confirmed area (CHA); land with direct evidence is reduced by technical survey "
                "or cleared, not cancelled (IMAS 08.10; the programme does not allow NTS to cancel in a CHA)")))
        if kind in (ActivityType.CLEARANCE, ActivityType.BAC) and "cleared" in activity.outcomes:
            depth = activity.clearance_depth_cm
            if depth is None:
                raise self._refuse(_cannot(record, msg("a clearance report must state the clearance depth (required "
                                                       "{required} cm, IMAS 09.10)",
                                                       required=f"{self.required_depth_cm:g}")))
            if depth < self.required_depth_cm:
                raise self._refuse(_cannot(record, msg("cleared to {depth} cm, shallower than the required {required} "
                                                       "cm (IMAS 09.10)", depth=f"{depth:g}",
                                                       required=f"{self.required_depth_cm:g}")))

    def _activity(self, activity: Activity, *, legacy: bool = False) -> _Effects:
        what = msg("activity {id}", id=activity.id)
        record = msg("record activity {id}", id=activity.id)
        if activity.hazard_id != self.hazard_id:
            raise self._refuse(_cannot(record, msg("it belongs to hazard area {id}", id=activity.hazard_id)))
        if activity.id in self.activities:
            raise self._refuse(_cannot(record, msg("it is already in the history")))
        if activity.status is ActivityStatus.PLANNED:
            raise self._refuse(_cannot(record, msg("it is only planned; record it when it has results")))
        if legacy:
            if self.hazard_class is HazardClass.CHA and "cancelled" in activity.outcomes:
                raise self._refuse(_cannot(record, msg("it cancels land in a confirmed area (CHA); land with direct "
                                                       "evidence is reduced by technical survey or cleared, not "
                                                       "cancelled")))
        else:
            self._check_outcomes(activity)
        faults = []
        for kind, geom in activity.outcomes.items():
            if not isinstance(geom, Polygon | MultiPolygon):
                faults.append(Fault(what, msg("{kind} land must be a polygon, got {geom_type}", kind=kind,
                                              geom_type=geom.geom_type), kind))
            elif not geom.is_valid:
                faults.append(Fault(what, msg("{kind} land is not a valid polygon", kind=kind), kind))
            elif not in_wgs84_range(geom):
                faults.append(Fault(what, msg("{kind} land is not in WGS84 lon/lat", kind=kind), kind))
        ValidationError.raise_if(what, faults)

        remaining = self._remaining
        areas = {"cancelled": 0.0, "reduced": 0.0, "cleared": 0.0}
        kept: dict[str, BaseGeometry | None] = {}
        clipped = 0.0
        for kind, geom in activity.outcomes.items():
            local = _local(self._proj, geom)
            inside = _polygonal(shapely.intersection(local, remaining))
            clipped += max(0.0, float(local.area - inside.area))
            remaining = _polygonal(shapely.difference(remaining, local))
            areas[kind] = float(inside.area)
            kept[kind] = self._to_wgs84(inside)
        recorded = dataclasses.replace(
            activity,
            cancelled=kept.get("cancelled"),
            reduced=kept.get("reduced"),
            cleared=kept.get("cleared"),
        )
        to_state = self.state
        if legacy and float(remaining.area) <= self.tolerance_m2 and not self.blockers:
            to_state = ReleaseState.RELEASED  # released under the legacy rules: an implied acceptance
        found = sum(d.quantity for d in activity.devices)
        pending = None
        name = f"{activity.activity_type.value.upper()} {activity.id}"
        if self.hazard_class is HazardClass.SHA and not legacy:
            if found:
                pending = f"{found} device(s) found by {name}"
            elif activity.direct_evidence.strip():
                pending = f"direct evidence reported by {name}: {activity.direct_evidence.strip()}"
        physical = areas["reduced"] + areas["cleared"] > 0
        return _Effects(to_state=to_state, remaining=remaining, cancelled_m2=areas["cancelled"],
                        reduced_m2=areas["reduced"], cleared_m2=areas["cleared"], clipped_m2=clipped,
                        activity=recorded, inspection_due=True if physical and not legacy else None,
                        evidence_pending=pending)

    def _wgs84(self, local: BaseGeometry) -> BaseGeometry:
        """``local`` in WGS84, valid: the inverse projection can make two near edges of a union cross (a
        self-intersection of a fraction of a millimetre), which later overlays refuse; such a ring is repaired."""
        geom = self._proj.to_wgs84(local)
        return geom if geom.is_valid else _polygonal(shapely.make_valid(geom))

    def _to_wgs84(self, local: BaseGeometry) -> BaseGeometry | None:
        if local.is_empty:
            return None
        geom = self._wgs84(local)
        return None if geom.is_empty else geom

    def _qa_visit(self, visit: QAVisit) -> _Effects:
        record = msg("record QA visit {id}", id=visit.id)
        if visit.activity_id not in self.activities:
            raise self._refuse(_cannot(record, msg("activity {id} is not in this area's land-release history",
                                                   id=visit.activity_id)))
        if visit.id in self.visits:
            raise self._refuse(_cannot(record, msg("it is already in the history")))
        for nc in visit.non_conformities:
            if nc.id in self.non_conformities:
                raise self._refuse(_cannot(record, msg("non-conformity {id} is already recorded", id=nc.id)))
            if nc.status is not NCStatus.OPEN:
                raise self._refuse(_cannot(record, msg("non-conformity {id} is {status}; a new finding is open",
                                                       id=nc.id, status=nc.status.value)))
        return _Effects(to_state=self.state)

    def _non_conformity(self, nc_id: str | None, status: NCStatus | None) -> _Effects:
        if nc_id is None or status is None:
            raise ValidationError(msg("hazard area {id}", id=self.hazard_id), [
                Fault(msg("hazard area {hazard_id}", hazard_id=self.hazard_id),
                      msg("a non-conformity change needs its id and new status"))])
        nc = self.non_conformities.get(nc_id)
        if nc is None:
            raise self._refuse(msg("cannot change non-conformity {id}: no QA visit of this area recorded it",
                                   id=nc_id))
        if status not in NC_TRANSITIONS[nc.status]:
            allowed = ", ".join(sorted(s.value for s in NC_TRANSITIONS[nc.status])) or msg("nothing (it is closed)")
            raise self._refuse(msg("cannot move non-conformity {id} from {before} to {after}; from {before} it may go "
                                   "to {allowed}", id=nc_id, before=nc.status.value, after=status.value,
                                   allowed=allowed))
        return _Effects(to_state=self.state, non_conformity=dataclasses.replace(nc, status=status))
