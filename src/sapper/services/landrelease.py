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
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus
from sapper.domain.handover import HandoverCertificate, completion_record
from sapper.domain.hazards import HazardArea
from sapper.domain.landrelease import Inspection, LandRelease, NCStatus, QAVisit, ReleaseEvent, state_of
from sapper.domain.releaserules import ReleaseRules
from sapper.errors import Fault, ValidationError
from sapper.store import Store, UnitOfWork, open_store

#: Reason of the first event of a history the service starts.
START_REASON = "land-release history starts from the register's record of the area"
#: Reason of the event that takes an activity written outside this service into the history.
ADOPT_REASON = "adopted: activity {id} was in the store without a land-release event"

Command = Callable[[LandRelease, dt.datetime], LandRelease]


@dataclass(frozen=True, slots=True)
class HazardHistory:
    """A hazard area as the register holds it and its land-release record (None while it has no history)."""

    hazard: HazardArea
    record: LandRelease | None


@dataclass(frozen=True, slots=True)
class Transition:
    """What one call did: the record after it and the events it appended (adopted activities first)."""

    record: LandRelease
    events: tuple[ReleaseEvent, ...]

    def lines(self) -> list[str]:
        """One line per appended event, then the balance, then anything holding back release."""
        out = [
            f"event {e.seq} ({e.kind.value}): {e.from_state or 'new'} → {e.to_state.value}: {e.describe()}"
            for e in self.events
        ]
        b = self.record.balance
        out.append(
            f"hazard area {self.record.hazard_id} is {self.record.state.value}: original {b.original_m2:,.0f} m² = "
            f"cancelled {b.cancelled_m2:,.0f} + reduced {b.reduced_m2:,.0f} + cleared {b.cleared_m2:,.0f} + "
            f"remaining {b.remaining_m2:,.0f} (tolerance {b.tolerance_m2:,.0f} m²)"
        )
        if self.record.awaiting_release:
            holds = self.record.release_holds
            if holds:
                out.append("all land is processed; release awaits: " + "; ".join(holds))
            else:
                out.append("all land is processed and inspected: the authority may accept it as released")
        for activity_id, depth in self.record.deep_finds:
            out.append(f"flag: activity {activity_id} found a device at {depth:g} cm, below the required clearance "
                       f"depth of {self.record.required_depth_cm:g} cm (IMAS 09.10): review the depth")
        return out


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _replayed(store: Store, hazard: HazardArea, events: list[ReleaseEvent]) -> LandRelease:
    """The record the stored history gives, refused when the register was changed behind the history's back."""
    record = LandRelease.replay(hazard, events, store.release_rules())
    what = f"hazard area {hazard.id}"
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


def _write(uow: UnitOfWork, events: tuple[ReleaseEvent, ...]) -> None:
    """The records the events bring (activities as clipped, QA visits, status changes), then the events."""
    for e in events:
        if e.activity is not None:
            replace = bool(uow.existing_ids("activities", [e.activity.id]))
            uow.add_activities([e.activity], replace=replace)
        if e.visit is not None:
            uow.add_qa_visit(e.visit)
        if e.non_conformity_id is not None and e.nc_status is not None:
            uow.set_non_conformity_status(e.non_conformity_id, e.nc_status)
    uow.append_release_events(events)


def _advance(
    db: str | Path, locate: Callable[[Store], str], *, actor: str, at: dt.datetime | None, command: Command
) -> Transition:
    when = at if at is not None else _now()
    with open_store(db) as store, store.write() as uow:
        hazard, record = _load(store, locate(store))
        before = 0 if record is None else len(record.history)
        if record is None:
            record = LandRelease.start(hazard, actor=actor, at=when, reason=START_REASON,
                                       rules=store.release_rules())
        stray = [a for a in store.activities(hazard.id)
                 if a.id not in record.activities and a.status is not ActivityStatus.PLANNED]
        for act in sorted(stray, key=lambda a: (a.end or a.start or dt.date.min, a.id)):
            record = record.record_activity(act, actor=actor, at=when, reason=ADOPT_REASON.format(id=act.id))
        record = command(record, when)
        appended = record.history[before:]
        _write(uow, appended)
        updated = record.register_record(hazard)
        if updated != hazard:
            uow.add_hazards([updated], replace=True)
    return Transition(record, appended)


def history(db: str | Path, hazard_id: str) -> HazardHistory:
    """The hazard area and its replayed land-release record (read only; NotFoundError for an unknown id)."""
    with open_store(db) as store:
        hazard, record = _load(store, hazard_id)
    return HazardHistory(hazard, record)


def record_activity(
    db: str | Path, activity: Activity, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Record an NTS, TS, clearance, BAC or EOD activity (outcomes clipped; it may release the area)."""
    return _advance(db, lambda _: activity.hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.record_activity(activity, actor=actor, at=when, reason=reason))


def reclassify(
    db: str | Path, hazard_id: str, *, evidence: str, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Reclassify a suspected area (SHA) as confirmed (CHA) on direct ``evidence``."""
    return _advance(db, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.reclassify(evidence=evidence, actor=actor, at=when, reason=reason))


def release(db: str | Path, hazard_id: str, *, actor: str, reason: str, at: dt.datetime | None = None) -> Transition:
    """Close an open area with nothing hazardous left whose release was held back."""
    return _advance(db, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.release(actor=actor, at=when, reason=reason))


def hand_over(
    db: str | Path, hazard_id: str, *, recipient: str, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Hand a released area over to ``recipient``."""
    return _advance(db, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.hand_over(recipient=recipient, actor=actor, at=when, reason=reason))


def record_qa_visit(
    db: str | Path, visit: QAVisit, *, actor: str, reason: str, at: dt.datetime | None = None
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

    return _advance(db, lambda store: store.hazard_of_activity(visit.activity_id), actor=actor, at=at,
                    command=command)


def set_non_conformity(
    db: str | Path, nc_id: str, status: NCStatus, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Move a non-conformity to ``status`` (open → corrected → closed, or corrected → open)."""
    return _advance(db, lambda store: store.hazard_of_non_conformity(nc_id), actor=actor, at=at,
                    command=lambda r, when: r.set_non_conformity(nc_id, status, actor=actor, at=when, reason=reason))


def inspect(
    db: str | Path, hazard_id: str, inspection: Inspection, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Record a post-clearance inspection (IMAS 09.20): a failed one reopens its failed area."""
    return _advance(db, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.inspect(inspection, actor=actor, at=when, reason=reason))


def accept(
    db: str | Path, hazard_id: str, *, authority: str, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """The authority (``authority``, signed by ``actor``) accepts the processed land as released."""
    return _advance(db, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.accept(authority=authority, actor=actor, at=when, reason=reason))


def reopen(
    db: str | Path,
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
    return _advance(db, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.reopen(area, residual_risk=residual_risk, evidence=evidence,
                                                     actor=actor, at=when, reason=reason))


def extend(
    db: str | Path, hazard_id: str, area: BaseGeometry, *, actor: str, reason: str, at: dt.datetime | None = None
) -> Transition:
    """Grow the perimeter of an open area by ``area``."""
    return _advance(db, lambda _: hazard_id, actor=actor, at=at,
                    command=lambda r, when: r.extend(area, actor=actor, at=when, reason=reason))


def certificate(db: str | Path, hazard_id: str) -> HandoverCertificate:
    """The completion report / handover certificate of a released or handed-over area (from its history)."""
    with open_store(db) as store:
        hazard, record = _load(store, hazard_id)
        organisations = {o.id: o.name for o in store.organisations()}
    if record is None:
        what = f"hazard area {hazard_id}"
        raise ValidationError(what, [Fault(what, "has no land-release history: nothing to certify")])
    return completion_record(hazard, record, organisations=organisations)


def rules(db: str | Path) -> ReleaseRules:
    """The programme's land-release settings."""
    with open_store(db) as store:
        return store.release_rules()


def set_rules(db: str | Path, new: ReleaseRules) -> ReleaseRules:
    """Keep the programme's land-release settings (they apply to events recorded from now on)."""
    with open_store(db) as store, store.write() as uow:
        uow.set_release_rules(new)
    return new
