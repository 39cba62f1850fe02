"""Advance the land release of a hazard area in the store: one transition, one write transaction.

Each function reads the area's history from the store, replays it (every stored event is checked against the
rules again, and the register's class and status against where the history leads), applies one command of
:class:`~sapper.domain.landrelease.LandRelease`, and writes in one ``BEGIN IMMEDIATE`` transaction: the activity or
QA visit, the new events and the register's updated class and status. When anything fails, nothing is written.

An area without a history gets one on its first transition: a ``recorded`` event, then, before the command, one
``activity`` event for each activity the store already holds for the area that is not merely planned (written
with ``Store.add_activities`` rather than through this service), so the history accounts for all land released.
Those adopted activities' outcomes are clipped like any other, follow the same rules (outcome by type, clearance
depth), and the events say they were adopted.

The programme's settings (:class:`~sapper.domain.releaserules.ReleaseRules`) are read from the store
(``Store.release_rules``); :func:`set_rules` keeps new ones. Release is the authority's acceptance (:func:`accept`)
after a passed post-clearance inspection (:func:`inspect`); :func:`reopen` and :func:`extend` put land back or grow
the perimeter; :func:`certificate` gives the completion and handover record of a released area.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, ReleaseBalance
from sapper.domain.handover import HandoverCertificate as HandoverCertificate  # re-exported for the entry points
from sapper.domain.handover import completion_record
from sapper.domain.hazards import HazardArea
from sapper.domain.landrelease import (
    Inspection,
    LandRelease,
    NCStatus,
    NonConformity,
    QAVisit,
    ReleaseEvent,
    Severity,
    state_of,
)
from sapper.domain.releaserules import ReleaseRules
from sapper.domain.releaserules import devices_of as devices_of  # re-exported for the CLI's `release rules`
from sapper.domain.releaserules import land_uses_of as land_uses_of
from sapper.domain.releaserules import list_text as list_text
from sapper.domain.releaserules import parse_list as parse_list
from sapper.domain.resources import Method
from sapper.domain.users import AuditEntry
from sapper.errors import Fault, ValidationError
from sapper.io.vector import read_outline
from sapper.jsontypes import JsonObject
from sapper.messages import Joined, msg, phrases
from sapper.services.audit import audit_written, summary
from sapper.store import Store, UnitOfWork
from sapper.store.accounts import audit_json

#: Reason of the first event of a history the service starts.
START_REASON = msg("land-release history starts from the register's record of the area")
#: Reason of the event that takes an activity written outside this service into the history.
ADOPT_REASON = "adopted: activity {id} was in the store without a land-release event"
#: The event reasons this service writes itself: the only ones a history says in the user's language (the others were
#: typed by a person, with ``--reason`` or in a field report, and are shown as they were written).
_OUR_REASONS = (START_REASON.template,)

Command = Callable[[LandRelease, dt.datetime], LandRelease]


@dataclass(frozen=True, slots=True)
class HazardHistory:
    """A hazard area as the register holds it and its land-release record (None while it has no history)."""

    hazard: HazardArea
    record: LandRelease | None

    def lines(self) -> list[str]:
        """The state and balance, each non-conformity, then one line per event (``sapper release history``);
        messages, said in the user's language."""
        h, record = self.hazard, self.record
        if record is None:
            return [msg("hazard area {id}: no land-release history yet; the register has it {cls}, {status}, {m2} m²",
                        id=h.id, cls=h.hazard_class.value, status=h.status.value, m2=f"{h.area_m2:,.0f}")]
        b = record.balance
        out: list[str] = [
            msg("hazard area {id} is {state} ({cls}): original {original} m² = cancelled {cancelled} + reduced "
                "{reduced} + cleared {cleared} + remaining {remaining} (residual {residual} m², tolerance {tolerance} "
                "m²)", id=h.id, state=record.state.value, cls=record.hazard_class.value, **_balance(b),
                residual=f"{b.residual_m2:,.1f}")]
        out += [msg("  non-conformity {id} ({severity}, {status}): {description}", id=nc.id,
                    severity=nc.severity.value, status=nc.status.value, description=nc.description)
                for nc in record.non_conformities.values()]
        out += [msg("{seq}  {at}  {kind} {from_state} → {to_state}  by {actor}: {summary} (reason: {reason})",
                    seq=f"{e.seq:>4}", at=e.at.strftime("%Y-%m-%dT%H:%M:%SZ"), kind=f"{e.kind.value:<14}",
                    from_state=e.from_state or "new", to_state=e.to_state.value, actor=e.actor,
                    summary=e.describe(), reason=phrases(e.reason, ours=_OUR_REASONS))
                for e in record.history]
        return out

    def to_json(self) -> JsonObject:
        """The history as JSON (``sapper release history --json``): state, balance in m² (0.1), blockers,
        non-conformities and every event with its areas, records and summary."""
        h, record = self.hazard, self.record
        doc: JsonObject = {"hazard_id": h.id, "hazard_class": h.hazard_class.value, "status": h.status.value,
                               "state": None, "events": [], "non_conformities": []}
        if record is None:
            return doc
        b = record.balance
        doc.update({
            "state": record.state.value,
            **{k: round(getattr(b, k), 1) for k in ("original_m2", "cancelled_m2", "reduced_m2", "cleared_m2",
                                                     "remaining_m2", "residual_m2", "tolerance_m2")},
            "blockers": [nc.id for nc in record.blockers],
            "non_conformities": [{"id": nc.id, "severity": nc.severity.value, "status": nc.status.value,
                                  "description": nc.description} for nc in record.non_conformities.values()],
        })
        doc["events"] = [{
            "seq": e.seq, "kind": e.kind.value, "at": e.at.isoformat().replace("+00:00", "Z"), "actor": e.actor,
            "reason": e.reason, "from_state": e.from_state.value if e.from_state else None,
            "to_state": e.to_state.value,
            **{k: round(getattr(e, k), 1) for k in ("cancelled_m2", "reduced_m2", "cleared_m2", "clipped_m2",
                                                     "remaining_m2", "extended_m2", "reopened_m2")},
            "activity_id": e.activity.id if e.activity else None,
            "activity_type": e.activity.activity_type.value if e.activity else None,
            "devices_found": len(e.activity.devices) if e.activity else 0,
            "visit_id": e.visit.id if e.visit else None,
            "non_conformity_id": e.non_conformity_id,
            "nc_status": e.nc_status.value if e.nc_status else None,
            "evidence": e.evidence, "recipient": e.recipient, "authority": e.authority,
            "residual_risk": e.residual_risk,
            "inspection_id": e.inspection.id if e.inspection else None,
            "inspection_passed": e.inspection.passed if e.inspection else None,
            "area": mapping(e.area) if e.area is not None else None,
            "legacy": e.legacy, "summary": e.describe(),
        } for e in record.history]
        return doc


@dataclass(frozen=True, slots=True)
class Transition:
    """What one call did: the record after it and the events it appended (adopted activities first)."""

    record: LandRelease
    events: tuple[ReleaseEvent, ...]

    def lines(self) -> list[str]:
        """One line per appended event, then the balance, then anything holding back release; messages, said in the
        user's language."""
        out: list[str] = [
            msg("event {seq} ({kind}): {from_state} → {to_state}: {summary}", seq=e.seq, kind=e.kind.value,
                from_state=e.from_state or "new", to_state=e.to_state.value, summary=e.describe())
            for e in self.events
        ]
        b = self.record.balance
        out.append(msg("hazard area {id} is {state}: original {original} m² = cancelled {cancelled} + reduced "
                       "{reduced} + cleared {cleared} + remaining {remaining} (tolerance {tolerance} m²)",
                       id=self.record.hazard_id, state=self.record.state.value, **_balance(b)))
        if self.record.awaiting_release:
            holds = self.record.release_holds
            if holds:
                out.append(msg("all land is processed; release awaits: {holds}", holds=Joined("; ", holds)))
            else:
                out.append(msg("all land is processed and inspected: the authority may accept it as released"))
        for activity_id, depth in self.record.deep_finds:
            out.append(msg("flag: activity {activity} found a device at {depth} cm, below the required clearance "
                           "depth of {required} cm (IMAS 09.10): review the depth", activity=activity_id,
                           depth=f"{depth:g}", required=f"{self.record.required_depth_cm:g}"))
        return out


def _balance(b: ReleaseBalance) -> dict[str, str]:
    """The balance's areas as the lines print them (m², no decimals)."""
    return {k: f"{getattr(b, k + '_m2'):,.0f}" for k in ("original", "cancelled", "reduced", "cleared", "remaining",
                                                          "tolerance")}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _replayed(store: Store, hazard: HazardArea, events: list[ReleaseEvent]) -> LandRelease:
    """The record the stored history gives, refused when the register was changed behind the history's back."""
    record = LandRelease.replay(hazard, events, store.release_rules())
    what = msg("hazard area {id}", id=hazard.id)
    faults = []
    if (hazard.hazard_class, state_of(hazard.hazard_class, hazard.status)) != (record.hazard_class, record.state):
        faults.append(Fault(what, (
            f"the register has it {hazard.hazard_class.value} and {hazard.status.value}, but its land-release "
            f"history leads to {record.hazard_class.value} and {record.state.value} (changed outside the "
            "land-release service?)"), "status"))
    for visit in store.qa_visits(hazard.id):
        for nc in visit.non_conformities:
            expected = record.non_conformities.get(nc.id)
            if expected is None or expected.status is not nc.status:
                told = "nothing" if expected is None else expected.status.value
                faults.append(Fault(what, f"non-conformity {nc.id} is {nc.status.value} in the store, but its "
                                    f"history says {told}", "non_conformities"))
    ValidationError.raise_if(what, faults)
    return record


def _load(store: Store, hazard_id: str) -> tuple[HazardArea, LandRelease | None]:
    hazard = store.hazard(hazard_id)
    events = store.release_events(hazard_id)
    return hazard, (_replayed(store, hazard, events) if events else None)


def _write(uow: UnitOfWork, events: tuple[ReleaseEvent, ...], *, actor: str, audit: bool) -> None:
    """The records the events bring (activities as clipped, QA visits, status changes), then the events; each
    activity audited when ``audit``."""
    for e in events:
        if e.activity is not None:
            replace = bool(uow.existing_ids("activities", [e.activity.id]))
            uow.add_activities([e.activity], replace=replace)
            if audit:
                audit_written(uow, [e.activity], existing=[e.activity.id] if replace else [], actor=actor,
                              reason=e.reason)
        if e.visit is not None:
            uow.add_qa_visit(e.visit)
        if e.non_conformity_id is not None and e.nc_status is not None:
            uow.set_non_conformity_status(e.non_conformity_id, e.nc_status)
    uow.append_release_events(events)


def _advance(
    store: Store, locate: Callable[[Store], str], *, actor: str, at: dt.datetime | None, command: Command,
    audit: bool = True,
) -> Transition:
    """Replay, apply ``command``, write. With ``audit`` (the command line's path; the web service writes its own,
    richer rows) every activity written and the hazard area whose history moved get an audit row in the same
    transaction."""
    when = at if at is not None else _now()
    with store.write() as uow:
        hazard, record = _load(store, locate(store))
        before = 0 if record is None else len(record.history)
        state_before = None if record is None else record.state
        if record is None:
            record = LandRelease.start(hazard, actor=actor, at=when, reason=START_REASON,
                                       rules=store.release_rules())
        stray = [a for a in store.activities(hazard.id)
                 if a.id not in record.activities and a.status is not ActivityStatus.PLANNED]
        for act in sorted(stray, key=lambda a: (a.end or a.start or dt.date.min, a.id)):
            record = record.record_activity(act, actor=actor, at=when, reason=ADOPT_REASON.format(id=act.id))
        record = command(record, when)
        appended = record.history[before:]
        _write(uow, appended, actor=actor, audit=audit)
        updated = record.register_record(hazard)
        if updated != hazard:
            uow.add_hazards([updated], replace=True)
        if audit and appended:
            uow.audit(AuditEntry(actor, None, "hazard_areas", hazard.id, "update", appended[-1].reason,
                                 audit_json({"state": state_before.value if state_before else None}),
                                 audit_json({"change": "land release", "events": [e.kind.value for e in appended],
                                             "state": record.state.value, **summary(updated)})))
    return Transition(record, appended)


def history(store: Store, hazard_id: str) -> HazardHistory:
    """The hazard area and its replayed land-release record (read only; NotFoundError for an unknown id)."""
    hazard, record = _load(store, hazard_id)
    return HazardHistory(hazard, record)


def record_activity(
    store: Store, activity: Activity, *, actor: str, reason: str, at: dt.datetime | None = None, audit: bool = True
) -> Transition:
    """Record an NTS, TS, clearance, BAC or EOD activity (outcomes clipped; it may release the area). ``audit``:
    write the audit rows (the web service's routes write their own and pass False)."""
    return _advance(store, lambda _: activity.hazard_id, actor=actor, at=at, audit=audit,
                    command=lambda r, when: r.record_activity(activity, actor=actor, at=when, reason=reason))


def reclassify(
    store: Store, hazard_id: str, *, evidence: str, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Reclassify a suspected area (SHA) as confirmed (CHA) on direct ``evidence``."""
    return _advance(store, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.reclassify(evidence=evidence, actor=actor, at=when, reason=reason))


def release(store: Store, hazard_id: str, *, actor: str, reason: str, at: dt.datetime | None = None) -> Transition:
    """Close an open area with nothing hazardous left whose release was held back."""
    return _advance(store, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.release(actor=actor, at=when, reason=reason))


def hand_over(
    store: Store, hazard_id: str, *, recipient: str, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Hand a released area over to ``recipient``."""
    return _advance(store, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.hand_over(recipient=recipient, actor=actor, at=when, reason=reason))


def record_qa_visit(
    store: Store, visit: QAVisit, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Record a QA visit on an activity and the non-conformities it found.

    Without an inspected organisation, the visit inspected the organisation that carried out the activity.
    """

    def command(record: LandRelease, when: dt.datetime) -> LandRelease:
        inspected = record.activities.get(visit.activity_id)
        v = visit
        if v.inspected_organisation_id is None and inspected is not None and inspected.organisation_id:
            v = dataclasses.replace(v, inspected_organisation_id=inspected.organisation_id)
        return record.record_qa_visit(v, actor=actor, at=when, reason=reason)

    return _advance(store, lambda store: store.hazard_of_activity(visit.activity_id), actor=actor, at=at,
                    command=command)


def set_non_conformity(
    store: Store, nc_id: str, status: NCStatus | str, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Move a non-conformity to ``status`` (open → corrected → closed, or corrected → open)."""
    if status not in {s.value for s in NCStatus}:
        raise ValidationError(msg("status"), [Fault(msg("status"),
                                                    msg("{status} is not one of open, corrected, closed",
                                                        status=repr(status)))])
    wanted = NCStatus(status)
    return _advance(store, lambda store: store.hazard_of_non_conformity(nc_id), actor=actor, at=at,
                    command=lambda r, when: r.set_non_conformity(nc_id, wanted, actor=actor, at=when, reason=reason))


def inspect(
    store: Store, hazard_id: str, inspection: Inspection, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Record a post-clearance inspection (IMAS 09.20): a failed one reopens its failed area."""
    return _advance(store, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.inspect(inspection, actor=actor, at=when, reason=reason))


def accept(
    store: Store, hazard_id: str, *, authority: str, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """The authority (``authority``, signed by ``actor``) accepts the processed land as released."""
    return _advance(store, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.accept(authority=authority, actor=actor, at=when, reason=reason))


def reopen(
    store: Store,
    hazard_id: str,
    area: BaseGeometry,
    *,
    residual_risk: str,
    evidence: str = "",
    actor: str,
    reason: str,
    at: dt.datetime | None = None,
) -> Transition:
    """Reopen the processed or released land within ``area`` (a later find; IMAS 07.14)."""
    return _advance(store, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.reopen(area, residual_risk=residual_risk, evidence=evidence,
                                                     actor=actor, at=when, reason=reason))


def extend(
    store: Store, hazard_id: str, area: BaseGeometry, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Grow the perimeter of an open area by ``area``."""
    return _advance(store, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.extend(area, actor=actor, at=when, reason=reason))


def certificate(store: Store, hazard_id: str) -> HandoverCertificate:
    """The completion report / handover certificate of a released or handed-over area (from its history)."""
    hazard, record = _load(store, hazard_id)
    organisations = {o.id: o.name for o in store.organisations()}
    if record is None:
        what = msg("hazard area {id}", id=hazard_id)
        raise ValidationError(what, [Fault(what, msg("has no land-release history: nothing to certify"))])
    return completion_record(hazard, record, organisations=organisations)


def rules(store: Store) -> ReleaseRules:
    """The programme's land-release settings."""
    return store.release_rules()


def set_rules(store: Store, new: ReleaseRules) -> ReleaseRules:
    """Keep the programme's land-release settings (they apply to events recorded from now on)."""
    with store.write() as uow:
        uow.set_release_rules(new)
    return new


# ----------------------------------------------------------------------------------------------------
# Reports as they come in (text as typed, outcome land as files): checked, built, recorded
# ----------------------------------------------------------------------------------------------------


def _day(name: str, value: str | None, faults: list[Fault]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        faults.append(Fault(name, msg("{value} is not a date YYYY-MM-DD", value=repr(value))))
        return None


def _choice(name: str, value: str, allowed: type[StrEnum], faults: list[Fault]) -> None:
    if value not in {m.value for m in allowed}:
        faults.append(Fault(name, msg("{value} is not one of {allowed}", value=repr(value),
                                      allowed=', '.join(m.value for m in allowed))))


@dataclass(frozen=True, slots=True)
class ActivityReport:
    """A completed NTS, TS, clearance, BAC or EOD activity as its report gives it: words and dates as text, the land
    it cancelled, reduced or cleared as vector files (read in WGS84; ``crs`` for files that carry none)."""

    hazard_id: str
    activity_id: str
    activity_type: str
    date: str
    start: str | None = None
    organisation_id: str | None = None
    method: str | None = None
    cancelled: Path | None = None
    reduced: Path | None = None
    cleared: Path | None = None
    crs: str | None = None
    depth_cm: float | None = None


@dataclass(frozen=True, slots=True)
class RecordedReport:
    """What recording a report did: the outcome features repaired on reading, and the transition."""

    repairs: tuple[str, ...]
    transition: Transition

    def lines(self) -> list[str]:
        """One line per repaired feature, then the transition's lines."""
        return [*self.repairs, *self.transition.lines()]


def record_report(
    store: Store, report: ActivityReport, *, actor: str, reason: str, at: dt.datetime | None = None
) -> RecordedReport:
    """Check ``report`` (every fault at once), read its outcome files, and record it as a completed activity."""
    faults: list[Fault] = []
    end = _day("date", report.date, faults)
    start = _day("start", report.start, faults)
    _choice("type", report.activity_type, ActivityType, faults)
    if report.method is not None:
        _choice("method", report.method, Method, faults)
    ValidationError.raise_if(f"activity {report.activity_id}", faults)
    outcomes: dict[str, BaseGeometry] = {}
    repairs: list[str] = []
    for name, path in (("cancelled", report.cancelled), ("reduced", report.reduced), ("cleared", report.cleared)):
        if path is not None:
            outcomes[name], repaired = read_outline(path, crs=report.crs)
            repairs += [f"{path}: feature {issue.index} repaired ({issue.reason})" for issue in repaired]
    activity = Activity(report.activity_id, report.hazard_id, ActivityType(report.activity_type),
                        ActivityStatus.COMPLETED, organisation_id=report.organisation_id,
                        method=Method(report.method) if report.method else None, start=start or end, end=end,
                        clearance_depth_cm=report.depth_cm, **outcomes)
    return RecordedReport(tuple(repairs), record_activity(store, activity, actor=actor, reason=reason, at=at))


@dataclass(frozen=True, slots=True)
class QAReport:
    """A QA visit as reported: its id, the activity inspected, each non-conformity as ``SEVERITY:DESCRIPTION``,
    the day (YYYY-MM-DD; default: the day of the transition) and the inspecting organisation."""

    visit_id: str
    activity_id: str
    non_conformities: tuple[str, ...] = ()
    date: str | None = None
    inspector: str | None = None


def record_qa_report(
    store: Store, report: QAReport, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Check ``report`` (every fault at once), number its non-conformities VISIT-1, VISIT-2, … and record it."""
    faults: list[Fault] = []
    ncs = []
    for i, spec in enumerate(report.non_conformities, start=1):
        severity, _, text = spec.partition(":")
        if severity.strip().lower() not in {s.value for s in Severity} or not text.strip():
            faults.append(Fault(f"non-conformity {spec!r}",
                                "give SEVERITY:DESCRIPTION, severity minor, major or critical"))
        else:
            ncs.append(NonConformity(f"{report.visit_id}-{i}", Severity(severity.strip().lower()), text.strip()))
    day = _day("date", report.date, faults) or (at or _now()).date()
    ValidationError.raise_if("QA visit", faults)
    visit = QAVisit(report.visit_id, report.activity_id, day, tuple(ncs),
                    inspecting_organisation_id=report.inspector)
    return record_qa_visit(store, visit, actor=actor, reason=reason, at=at)


# ----------------------------------------------------------------------------------------------------
# Inspections, reopening and extension as reported: the area a vector file (read in WGS84; ``crs`` for files
# that carry none), the repairs made on reading it said alongside the transition
# ----------------------------------------------------------------------------------------------------


def _read_area(path: Path, crs: str | None) -> tuple[BaseGeometry, tuple[str, ...]]:
    geometry, repaired = read_outline(path, crs=crs)
    return geometry, tuple(f"{path}: feature {issue.index} repaired ({issue.reason})" for issue in repaired)


@dataclass(frozen=True, slots=True)
class InspectionReport:
    """A post-clearance inspection as reported: its id, the day (YYYY-MM-DD), the area sampled (m²), the result,
    the inspecting organisation, the sampling plan, and for a failed one the finding and the lot or lane that failed
    (a vector file)."""

    inspection_id: str
    date: str
    sample_m2: float
    passed: bool
    organisation: str
    plan: str = ""
    finding: str = ""
    failed_area: Path | None = None
    crs: str | None = None
    devices_found: int = 0


def record_inspection(
    store: Store, hazard_id: str, report: InspectionReport, *, actor: str, reason: str,
    at: dt.datetime | None = None,
) -> RecordedReport:
    """Check ``report``, read its failed area and record it (:func:`inspect`)."""
    faults: list[Fault] = []
    day = _day("date", report.date, faults)
    if day is None and not faults:
        faults.append(Fault(msg("date"), msg("is empty: give the day of the inspection, YYYY-MM-DD")))
    ValidationError.raise_if(f"inspection {report.inspection_id}", faults)
    assert day is not None
    area, repairs = (None, ()) if report.failed_area is None else _read_area(report.failed_area, report.crs)
    inspection = Inspection(report.inspection_id, day, report.sample_m2, report.passed, report.organisation,
                            plan=report.plan, finding=report.finding, failed_area=area,
                            devices_found=report.devices_found)
    return RecordedReport(repairs, inspect(store, hazard_id, inspection, actor=actor, reason=reason, at=at))


def reopen_from(
    store: Store, hazard_id: str, path: Path, *, crs: str | None = None, residual_risk: str, evidence: str = "",
    actor: str, reason: str, at: dt.datetime | None = None,
) -> RecordedReport:
    """Reopen the land within the area of the vector file ``path`` (:func:`reopen`)."""
    area, repairs = _read_area(path, crs)
    done = reopen(store, hazard_id, area, residual_risk=residual_risk, evidence=evidence, actor=actor,
                  reason=reason, at=at)
    return RecordedReport(repairs, done)


def extend_from(
    store: Store, hazard_id: str, path: Path, *, crs: str | None = None, actor: str, reason: str,
    at: dt.datetime | None = None,
) -> RecordedReport:
    """Extend the perimeter by the area of the vector file ``path`` (:func:`extend`)."""
    area, repairs = _read_area(path, crs)
    return RecordedReport(repairs, extend(store, hazard_id, area, actor=actor, reason=reason, at=at))
