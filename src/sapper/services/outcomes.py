"""A cancelled, reduced or cleared polygon drawn on a hazard area (the map UI's draw tool,
``POST /api/hazards/{id}/outcomes``), recorded as a completed land-release activity through
:mod:`sapper.services.landrelease`, organisation-checked and audited in the same transaction.

The outcome's kind picks the activity (IMAS 07.11): cancelled → non-technical survey, reduced → technical survey,
cleared → clearance (or battle area clearance when asked). Everything else is the land-release rules': the outcome is
clipped to what is still hazardous and the clipping said, an NTS cannot cancel land in a confirmed area (CHA), a
clearance must state its depth and reach the required one, and land fully processed is **not** released until a
post-clearance inspection has passed and the authority accepts it (``sapper release inspect`` / ``accept``). A
polygon that overlaps nothing still hazardous is refused (422 naming ``geometry``); so is one that is not a polygon
in lon/lat. Nothing is written when anything is refused.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.geometry import in_wgs84_range
from sapper.domain.landrelease import OUTCOMES_BY_TYPE
from sapper.domain.users import AuditEntry, Principal
from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.services.features import repair_geometry
from sapper.services.landrelease import Transition, record_activity
from sapper.store import Store
from sapper.store.accounts import audit_json


class OutcomeKind(StrEnum):
    """What the drawn land became."""

    CANCELLED = "cancelled"
    REDUCED = "reduced"
    CLEARED = "cleared"


#: The activity an outcome is recorded as unless the caller names another that yields it.
DEFAULT_ACTIVITY = {OutcomeKind.CANCELLED: ActivityType.NTS, OutcomeKind.REDUCED: ActivityType.TS,
                    OutcomeKind.CLEARED: ActivityType.CLEARANCE}


@dataclass(frozen=True, slots=True)
class OutcomeInput:
    """An outcome as a client sends it: text as typed, the polygon in WGS84 lon/lat (None: none sent)."""

    kind: str
    date: str
    reason: str
    geometry: BaseGeometry | None
    activity_type: str | None = None
    depth_cm: float | None = None


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """What recording the outcome did: the activity (server-assigned id), the area drawn and the area recorded
    after clipping (m²), the repairs made to the drawn polygon, and the land-release transition."""

    activity_id: str
    kind: OutcomeKind
    activity_type: ActivityType
    drawn_m2: float
    area_m2: float
    clipped_m2: float
    repairs: tuple[str, ...]
    transition: Transition

    @property
    def clipped(self) -> bool:
        """Whether clipping removed more than the balance tolerance (rounding of the drawn vertices is not said)."""
        return self.clipped_m2 > self.transition.record.tolerance_m2

    @property
    def note(self) -> str:
        """One sentence for people: what was recorded, what clipping removed, what holds release back."""
        parts = [f"{self.activity_type.value.upper()} {self.activity_id} recorded {self.area_m2:,.0f} m² "
                 f"{self.kind.value}"]
        if self.clipped:
            parts.append(f"{self.clipped_m2:,.0f} m² of the {self.drawn_m2:,.0f} m² drawn lay outside what was "
                         "still hazardous in the area and was clipped off")
        parts += list(self.repairs)
        record = self.transition.record
        if record.awaiting_release:
            holds = record.release_holds
            parts.append("all land is processed; release awaits " + ("; ".join(holds) if holds else
                                                                     "the authority's acceptance"))
        else:
            parts.append(f"{record.balance.remaining_m2:,.0f} m² remain hazardous")
        return "; ".join(parts) + "."


def _check(record: str, given: OutcomeInput, today: dt.date) -> tuple[OutcomeKind, ActivityType, dt.date]:
    """The outcome's kind, activity type and day, or every fault at once (each naming its field)."""
    faults: list[Fault] = []
    kind = None
    if given.kind in {k.value for k in OutcomeKind}:
        kind = OutcomeKind(given.kind)
    else:
        faults.append(Fault(record, msg("kind {kind} is not one of cancelled, reduced, cleared",
                                        kind=repr(given.kind)), "kind"))
    activity = DEFAULT_ACTIVITY.get(kind) if kind is not None else None
    if given.activity_type is not None:
        if given.activity_type not in {a.value for a in ActivityType}:
            faults.append(Fault(record, f"activity_type {given.activity_type!r} is not one of "
                                f"{', '.join(a.value for a in ActivityType)}", "activity_type"))
        else:
            activity = ActivityType(given.activity_type)
            if kind is not None and kind.value not in OUTCOMES_BY_TYPE[activity]:
                yields = ", ".join(sorted(OUTCOMES_BY_TYPE[activity])) or "no area"
                faults.append(Fault(record, f"a {activity.value.upper()} activity yields {yields}, not "
                                    f"{kind.value} land (IMAS 07.11: NTS cancels, TS reduces, clearance clears)",
                                    "activity_type"))
    day = None
    try:
        day = dt.date.fromisoformat(given.date)
        if day > today:
            faults.append(Fault(record, f"date {given.date} is in the future: record an outcome once the work is "
                                "done", "date"))
    except ValueError:
        faults.append(Fault(record, msg("date {date} is not a date YYYY-MM-DD", date=repr(given.date)), "date"))
    if not given.reason.strip():
        faults.append(Fault(record, msg("reason is empty: say why (e.g. the completion report's reference)"), "reason"))
    if kind is OutcomeKind.CLEARED and given.depth_cm is None:
        faults.append(Fault(record, msg("a clearance outcome must state the clearance depth (cm, IMAS 09.10)"),
                            "depth_cm"))
    if given.depth_cm is not None and not given.depth_cm > 0:
        faults.append(Fault(record, msg("depth_cm must be positive, got {depth_cm:g}", depth_cm=given.depth_cm),
                            "depth_cm"))
    ValidationError.raise_if(record, faults)
    assert kind is not None and activity is not None and day is not None
    return kind, activity, day


def record_outcome(store: Store, principal: Principal, hazard_id: str, given: OutcomeInput, *,
                   at: dt.datetime | None = None) -> RecordedOutcome:
    """Record ``given`` on the hazard area ``hazard_id`` as ``principal`` (NotFoundError for an area of another
    organisation, ValidationError naming the field for bad input, TransitionError when the land-release rules
    refuse it); audited in the same transaction."""
    record = msg("hazard area {id}", id=hazard_id)
    when = at if at is not None else dt.datetime.now(dt.UTC)
    with store.write() as uow:
        store.feature("hazard_areas", hazard_id, scope=principal.scope)  # 404 for another organisation's area
        kind, activity_type, day = _check(record, given, when.date())
        geom, repairs = repair_geometry(record, given.geometry)
        if not in_wgs84_range(geom):
            raise ValidationError(record, [Fault(record, msg("geometry is not in WGS84 lon/lat (CRS84)"), "geometry")])
        hazard = store.hazard(hazard_id)
        activity = Activity(f"ACT-{secrets.token_hex(4).upper()}", hazard_id, activity_type, ActivityStatus.COMPLETED,
                            organisation_id=hazard.organisation_id or principal.organisation_id, start=day, end=day,
                            clearance_depth_cm=given.depth_cm if activity_type in (ActivityType.CLEARANCE,
                                                                                   ActivityType.BAC) else None,
                            **{kind.value: geom})
        before = store.release_events(hazard_id)
        transition = record_activity(store, activity, actor=principal.name, reason=given.reason, at=when,
                                     audit=False)
        event = next(e for e in transition.events if e.activity is not None and e.activity.id == activity.id)
        area = getattr(event, f"{kind.value}_m2")
        if area <= 0:
            raise ValidationError(record, [Fault(record, "the drawn polygon overlaps nothing that is still "
                                                 "hazardous in the area", "geometry")])
        drawn = area + event.clipped_m2
        uow.audit(AuditEntry(
            principal.name, principal.organisation_id, "hazard_areas", hazard_id, "update", given.reason,
            audit_json({"events": len(before), "state": before[-1].to_state.value if before else None}),
            audit_json({"change": "land-release outcome", "events": len(before) + len(transition.events),
                        "state": transition.record.state.value,
                        "activity_id": activity.id, "activity_type": activity_type.value, "kind": kind.value,
                        "date": day.isoformat(), "area_m2": round(area, 1), "clipped_m2": round(event.clipped_m2, 1),
                        "remaining_m2": round(transition.record.balance.remaining_m2, 1),
                        "geometry": geom.wkt})))
    return RecordedOutcome(activity.id, kind, activity_type, drawn, area, event.clipped_m2, repairs, transition)
