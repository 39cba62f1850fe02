"""Accidents and victims (IMAS 10.60): recorded, read and counted, each write audited in its own transaction and
every read of a victim audited in the transaction that reads it.

Who sees what (docs/security.md):

- an accident is visible to a caller of its organisation (or of the national authority) cleared for its
  sensitivity class (``Principal.clearance``); any other caller gets 404, so its existence does not leak;
- victims are read and added only by holders of the victim permission (``domain.users.VICTIM_READERS``; 403 for
  anyone else), on accidents they can see; each victim read writes an audit row (``read``) in the same transaction
  as the read, so there is no read without its audit row;
- audit rows about victims hold ids, key ids and field names, never a personal value;
- reports and maps use :func:`counts` only (aggregates, no victim field).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from sapper.domain.accidents import (
    VICTIM_FIELDS,
    Accident,
    AccidentCounts,
    AccidentKind,
    Gender,
    Sensitivity,
    Victim,
    VictimOutcome,
    count_accidents,
)
from sapper.domain.hazards import DeviceCategory
from sapper.domain.users import AuditEntry, Principal
from sapper.errors import EditForbidden, Fault, NotFoundError, ValidationError
from sapper.io.accidents import write_accidents
from sapper.messages import msg
from sapper.store import Store
from sapper.store.accounts import audit_json
from sapper.store.cipher import FieldCipher


@dataclass(frozen=True, slots=True)
class AccidentInput:
    """An accident as a caller gives it (the service assigns the id: ``AC-`` + 8 hex digits)."""

    date: dt.date
    kind: AccidentKind
    device_category: DeviceCategory
    place: str = ""
    lon: float | None = None
    lat: float | None = None
    organisation_id: str | None = None
    hazard_id: str | None = None
    activity_id: str | None = None
    device_type: str = ""
    description: str = ""
    investigation: str = ""
    victim_count: int = 0
    sensitivity: Sensitivity = Sensitivity.RESTRICTED


@dataclass(frozen=True, slots=True)
class VictimInput:
    name: str
    gender: Gender
    outcome: VictimOutcome
    birth_date: dt.date | None = None
    address: str = ""
    activity: str = ""


def _public(accident: Accident) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(accident).items()}


def visible(principal: Principal, accident: Accident) -> bool:
    """Whether ``principal`` may see ``accident``: its organisation (or the authority), and cleared for its class."""
    own = principal.scope is None or accident.organisation_id == principal.scope
    return own and principal.clearance.allows(accident.sensitivity)


def listed(store: Store, principal: Principal) -> list[Accident]:
    """The accidents ``principal`` may see (records above the caller's class are left out)."""
    return [a for a in store.accidents(scope=principal.scope) if visible(principal, a)]


def one(store: Store, principal: Principal, accident_id: str) -> Accident:
    """One accident, or NotFoundError when there is none or ``principal`` may not see it (the same answer)."""
    return one_versioned(store, principal, accident_id)[0]


def listed_versioned(store: Store, principal: Principal) -> list[tuple[Accident, int]]:
    """The accidents ``principal`` may see, each with the row version of the values read (what a change names)."""
    return [(a, v) for a, v in store.versioned_accidents(scope=principal.scope) if visible(principal, a)]


def one_versioned(store: Store, principal: Principal, accident_id: str) -> tuple[Accident, int]:
    """One accident and the row version of the values read; NotFoundError as :func:`one`."""
    found = next(((a, v) for a, v in store.versioned_accidents(scope=principal.scope) if a.id == accident_id),
                 None)
    if found is None or not visible(principal, found[0]):
        raise NotFoundError(f"no accident {accident_id!r}")
    return found


#: The most sensitive class an export writes: strictly confidential records are read through the API only.
EXPORT_LEVELS = (Sensitivity.PUBLIC, Sensitivity.RESTRICTED, Sensitivity.CONFIDENTIAL)


def export(store: Store, path: Path, *, level: Sensitivity) -> tuple[int, int]:
    """Write the accidents of class up to ``level`` to ``path`` (CSV or GeoJSON); the others are left out (how
    many is returned with how many were written). A ``strictly_confidential`` export is refused: such records
    leave only through the API, to a caller cleared for them. Victims are never exported."""
    if level not in EXPORT_LEVELS:
        raise EditForbidden(f"exports stop at confidential; {level.value} records are read through the API only")
    every = store.accidents()
    kept = [a for a in every if level.allows(a.sensitivity)]
    return write_accidents(path, kept), len(every) - len(kept)


def counts_for(store: Store, principal: Principal) -> AccidentCounts:
    """The aggregates over the accidents ``principal`` may see."""
    return count_accidents(listed(store, principal))


def record_accident(store: Store, principal: Principal, given: AccidentInput, *, reason: str = "") -> Accident:
    """Record an accident for the caller's organisation (the authority may name any); audited in the same
    transaction. EditForbidden for another organisation or a class above the caller's clearance."""
    org = given.organisation_id if given.organisation_id is not None else principal.scope
    if principal.scope is not None and org != principal.scope:
        raise EditForbidden(f"{principal.name} may not record accidents of organisation {org}")
    if not principal.clearance.allows(given.sensitivity):
        raise EditForbidden(f"{principal.name} is cleared for {principal.clearance.value} records, not "
                            f"{given.sensitivity.value}")
    accident = Accident(f"AC-{secrets.token_hex(4)}", given.date, given.kind, given.device_category,
                        place=given.place, lon=given.lon, lat=given.lat, organisation_id=org,
                        hazard_id=given.hazard_id, activity_id=given.activity_id, device_type=given.device_type,
                        description=given.description, investigation=given.investigation,
                        victim_count=given.victim_count, sensitivity=given.sensitivity, source="api")
    with store.write() as uow:
        _check_links(store, accident)
        uow.put_accident(accident)
        uow.audit(AuditEntry(principal.name, principal.organisation_id, "accidents", accident.id, "insert", reason,
                             None, audit_json(_public(accident))))
    return accident


@dataclass(frozen=True, slots=True)
class AccidentChange:
    """What may change on an accident after it is recorded (None: unchanged): the investigation's findings as they
    come, the description, the people reported, and the class."""

    investigation: str | None = None
    description: str | None = None
    victim_count: int | None = None
    sensitivity: Sensitivity | None = None


def change_accident(store: Store, principal: Principal, accident_id: str, change: AccidentChange, *,
                    expected_version: int, reason: str = "") -> tuple[Accident, int]:
    """Change an accident the caller can see, still at ``expected_version`` (ConflictError, nothing written, when it
    moved on); audited with before and after. Returns the accident and its new version."""
    values = {k: v for k, v in dataclasses.asdict(change).items() if v is not None}
    with store.write() as uow:
        before = one(store, principal, accident_id)  # read in the unit of work that writes
        if change.sensitivity is not None and not principal.clearance.allows(change.sensitivity):
            raise EditForbidden(f"{principal.name} is cleared for {principal.clearance.value} records, not "
                                f"{change.sensitivity.value}")
        after = dataclasses.replace(before, **values)
        uow.update_accident(after, expected_version=expected_version)  # ConflictError when it moved on
        uow.audit(AuditEntry(principal.name, principal.organisation_id, "accidents", accident_id, "update", reason,
                             audit_json(_public(before)), audit_json(_public(after))))
    return after, expected_version + 1


def _check_links(store: Store, accident: Accident) -> None:
    """The hazard area, activity and organisation an accident names exist (one ValidationError naming them)."""
    record = f"accident {accident.id}"
    faults = []
    with store.write() as uow:
        for layer, what, name, value in (("hazard_areas", msg("hazard area"), "hazard_id", accident.hazard_id),
                                         ("activities", msg("activity"), "activity_id", accident.activity_id),
                                         ("organisations", msg("organisation"), "organisation_id",
                                          accident.organisation_id)):
            if value is not None and not uow.existing_ids(layer, [value]):
                faults.append(Fault(record, msg("names {what} {value}, which is not in the register", what=what,
                                                value=value), name))
    ValidationError.raise_if(record, faults)


def _require_victim_permission(principal: Principal) -> None:
    if not principal.reads_victims:
        raise EditForbidden(f"{principal.name} ({principal.role.value}) does not hold the victim permission")


def add_victim(store: Store, principal: Principal, cipher: FieldCipher, accident_id: str, given: VictimInput, *,
               reason: str = "") -> Victim:
    """Add a victim to an accident the caller can see (the victim permission needed); every personal field is
    encrypted; audited (ids and field names only) in the same transaction."""
    _require_victim_permission(principal)
    one(store, principal, accident_id)
    victim = Victim(f"VI-{secrets.token_hex(4)}", accident_id, given.name, given.gender, given.outcome,
                    birth_date=given.birth_date, address=given.address, activity=given.activity)
    with store.write() as uow:
        uow.add_victim(victim, cipher)
        uow.audit(AuditEntry(principal.name, principal.organisation_id, "victims", victim.id, "insert", reason,
                             None, audit_json({"accident_id": accident_id, "key_id": cipher.key_id,
                                               "fields": list(VICTIM_FIELDS)})))
    return victim


def victims(store: Store, principal: Principal, cipher: FieldCipher, accident_id: str, *,
            reason: str = "") -> list[Victim]:
    """An accident's victims, decrypted, for a holder of the victim permission; one ``read`` audit row per victim,
    written in the transaction that reads them (a read whose audit cannot be written fails)."""
    _require_victim_permission(principal)
    one(store, principal, accident_id)
    with store.write() as uow:
        found = uow.victims(accident_id, cipher)
        for v in found:
            uow.audit(AuditEntry(principal.name, principal.organisation_id, "victims", v.id, "read", reason,
                                 None, audit_json({"accident_id": accident_id})))
    return found



def parse_level(text: str) -> Sensitivity:
    """A sensitivity class from its name (``strictly-confidential`` also understood); ValidationError otherwise."""
    try:
        return Sensitivity(text.strip().lower().replace("-", "_"))
    except ValueError:
        raise ValidationError("--level", [Fault("--level", msg("{value} is not one of {allowed}", value=repr(text),
                                                               allowed=", ".join(s.value for s in Sensitivity)),
                                                "level")]) from None
