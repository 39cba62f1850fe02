"""Features for the web service: reading collections as a user may see them, and editing hazard areas through
the domain rules with every write audited in the same transaction (OGC API – Features Parts 1 and 4).

A viewer never gets a recorded hazard polygon: hazard areas, activities (which lie on them) and planned tasks
(drawn on their hazard's geometry) come back as ``domain.sensitive.generalised_footprint``. A hazard's class and
status change only through land release (``services.landrelease``): an edit naming them is refused (422 naming
the field). Invalid geometry is repaired with ``make_valid`` when that leaves a polygon, and the repair is said;
otherwise refused naming ``geometry``.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus, LandUse
from sapper.domain.sensitive import generalised_footprint
from sapper.domain.users import AuditEntry, Principal
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.messages import msg
from sapper.store import Store
from sapper.store.accounts import audit_json
from sapper.store.features import FeaturePage, FeatureQuery, FeatureRow, Value
from sapper.store.records import HazardEdit

#: Collections whose geometry a viewer sees only generalised.
SENSITIVE = frozenset({"hazard_areas", "activities", "plan_tasks"})


def _shown(principal: Principal, layer: str, row: FeatureRow) -> FeatureRow:
    if principal.precise_geometry or layer not in SENSITIVE or row.geometry is None:
        return row
    return dataclasses.replace(row, geometry=generalised_footprint(row.geometry))


def page(store: Store, principal: Principal, query: FeatureQuery) -> FeaturePage:
    """A page of a collection as ``principal`` may see it (their organisation's records; generalised for a viewer)."""
    found = store.features(dataclasses.replace(query, scope=principal.scope))
    if principal.precise_geometry or query.layer not in SENSITIVE:  # as recorded: the page as it is
        return found
    return FeaturePage([_shown(principal, query.layer, f) for f in found.features], found.number_matched)


def one(store: Store, principal: Principal, layer: str, feature_id: str) -> FeatureRow:
    """One feature as ``principal`` may see it; NotFoundError for another organisation's record."""
    return _shown(principal, layer, store.feature(layer, feature_id, scope=principal.scope))


@dataclass(frozen=True, slots=True)
class HazardInput:
    """Attributes of a hazard area sent by a client; None means "not sent"."""

    name: str | None = None
    hazard_class: str | None = None
    status: str | None = None
    evidence: str | None = None
    device_categories: str | None = None
    land_use: str | None = None
    beneficiaries: int | None = None
    organisation_id: str | None = None
    expected_clearance_share: float | None = None


@dataclass(frozen=True, slots=True)
class EditResult:
    """What an edit wrote: the feature as stored now, what was repaired on the way (empty when nothing), and
    anything else the client should be told (``notes``; an activity's outcome clipped to its hazard area, in m²)."""

    feature: FeatureRow
    repairs: tuple[str, ...]
    notes: tuple[str, ...] = ()
    clipped_m2: float = 0.0


def repair_geometry(record: str, geom: BaseGeometry | None) -> tuple[BaseGeometry, tuple[str, ...]]:
    """A valid (multi)polygon from ``geom``, repaired by make_valid if need be, and what was repaired."""
    if geom is None or geom.is_empty:
        raise ValidationError(record, [Fault(record, msg("geometry is missing or empty"), "geometry")])
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValidationError(record, [Fault(record, msg("geometry must be a polygon, got {geom_type}",
                                                         geom_type=geom.geom_type),
                                             "geometry")])
    if shapely.is_valid(geom):
        return geom, ()
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    polys = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon | MultiPolygon)]
    if not polys:
        raise ValidationError(record, [Fault(record, msg("geometry is invalid ({reason}) and cannot be repaired",
                                                         reason=reason),
                                             "geometry")])
    merged = shapely.union_all(polys)
    return merged, (f"geometry repaired with make_valid: {reason}",)


E = TypeVar("E", HazardClass, Evidence, LandUse, DeviceCategory)


def _enum(kind: type[E], value: str, record: str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise ValidationError(record, [Fault(record, msg("{value} is not one of {allowed}", value=repr(value),
                                                         allowed=allowed), field)]) from None


def _categories(text: str, record: str) -> frozenset[DeviceCategory]:
    return frozenset(_enum(DeviceCategory, c.strip(), record, "device_categories")
                     for c in text.split(",") if c.strip())


def _owner(principal: Principal, wanted: str | None, record: str) -> str | None:
    if principal.scope is None or wanted == principal.scope:
        return wanted
    if wanted is None:
        return principal.scope
    raise ValidationError(record, [Fault(record, msg("an operator records hazard areas for its own organisation only"),
                                         "organisation_id")])


def _snapshot(row: FeatureRow | None) -> str | None:
    if row is None:
        return None
    values: dict[str, Value | str] = dict(row.properties)
    values["geometry"] = None if row.geometry is None else row.geometry.wkt
    values["version"] = row.version
    return audit_json(values)


def _audit(principal: Principal, record_id: str, action: str, reason: str, before: FeatureRow | None,
           after: FeatureRow | None) -> AuditEntry:
    return AuditEntry(principal.name, principal.organisation_id, "hazard_areas", record_id, action,
                      reason, _snapshot(before), _snapshot(after))


def create_hazard(store: Store, principal: Principal, given: HazardInput, geometry: BaseGeometry | None, *,
                  reason: str = "") -> EditResult:
    """Record a new hazard area with a server-assigned id (``HA-`` + 8 hex digits); audited."""
    hazard_id = f"HA-{secrets.token_hex(4).upper()}"
    record = msg("hazard area {id}", id=hazard_id)
    geom, repairs = repair_geometry(record, geometry)
    if given.status not in (None, HazardStatus.OPEN.value):
        raise ValidationError(record, [Fault(record, "a new hazard area is open; status changes only through "
                                                     "land-release activities", "status")])
    hazard = HazardArea(
        id=hazard_id,
        hazard_class=_enum(HazardClass, given.hazard_class or "SHA", record, "hazard_class"),
        geometry=geom,
        evidence=_enum(Evidence, given.evidence or "indirect", record, "evidence"),
        device_categories=_categories(given.device_categories or "", record),
        land_use=_enum(LandUse, given.land_use or "other", record, "land_use"),
        beneficiaries=given.beneficiaries or 0,
        organisation_id=_owner(principal, given.organisation_id, record),
        name=given.name or "",
        expected_clearance_share=given.expected_clearance_share,
    )
    with store.write() as uow:
        uow.add_hazards([hazard])
        after = store.feature("hazard_areas", hazard_id)
        uow.audit(_audit(principal, hazard_id, "insert", reason, None, after))
    return EditResult(after, repairs)


def edit_hazard(store: Store, principal: Principal, hazard_id: str, given: HazardInput,
                geometry: BaseGeometry | None, *, expected_version: int, replace: bool, reason: str = "",
                ) -> EditResult:
    """Change a hazard area at ``expected_version`` (PUT when ``replace``: unsent attributes take their defaults;
    PATCH otherwise: unsent attributes stay). Class and status cannot change here; audited."""
    record = msg("hazard area {id}", id=hazard_id)
    with store.write() as uow:
        before = store.feature("hazard_areas", hazard_id, scope=principal.scope)
        current = store.hazard(hazard_id)
        faults = [Fault(record, msg("{name} changes only through land-release activities", name=name), name)
                  for name, sent, now in (("hazard_class", given.hazard_class, current.hazard_class.value),
                                          ("status", given.status, current.status.value))
                  if sent is not None and sent != now]
        ValidationError.raise_if(record, faults)
        repairs: tuple[str, ...] = ()
        geom = current.geometry
        if geometry is not None or replace:
            geom, repairs = repair_geometry(record, geometry)
        base = HazardEdit.of(current)
        if replace:
            base = HazardEdit(geometry=geom, name="", evidence=current.evidence, device_categories=frozenset(),
                              land_use=LandUse.OTHER, beneficiaries=0, organisation_id=current.organisation_id,
                              expected_clearance_share=None)
        edit = dataclasses.replace(
            base,
            geometry=geom,
            name=given.name if given.name is not None else base.name,
            evidence=_enum(Evidence, given.evidence, record, "evidence") if given.evidence else base.evidence,
            device_categories=(_categories(given.device_categories, record) if given.device_categories is not None
                               else base.device_categories),
            land_use=_enum(LandUse, given.land_use, record, "land_use") if given.land_use else base.land_use,
            beneficiaries=given.beneficiaries if given.beneficiaries is not None else base.beneficiaries,
            organisation_id=(_owner(principal, given.organisation_id, record) if given.organisation_id is not None
                             else base.organisation_id),
            expected_clearance_share=(given.expected_clearance_share if given.expected_clearance_share is not None
                                      else base.expected_clearance_share),
        )
        uow.update_hazard(hazard_id, edit, expected_version=expected_version)
        after = store.feature("hazard_areas", hazard_id)
        uow.audit(_audit(principal, hazard_id, "update", reason, before, after))
    return EditResult(after, repairs)


def delete_hazard(store: Store, principal: Principal, hazard_id: str, *, expected_version: int,
                  reason: str = "") -> None:
    """Delete a hazard area at ``expected_version`` (refused when activities or a history refer to it); audited."""
    with store.write() as uow:
        before = store.feature("hazard_areas", hazard_id, scope=principal.scope)
        uow.delete_hazard(hazard_id, expected_version=expected_version)
        uow.audit(_audit(principal, hazard_id, "delete", reason, before, None))


def hazard_input(values: Mapping[str, object]) -> HazardInput:
    """A HazardInput from already-validated values (the API's pydantic models dump to this)."""
    known = {f.name for f in dataclasses.fields(HazardInput)}
    return HazardInput(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


def version_of(store: Store, principal: Principal, layer: str, feature_id: str) -> int:
    """The row version of a feature ``principal`` may see (for If-Match); NotFoundError otherwise."""
    row = store.feature(layer, feature_id, scope=principal.scope)
    if row.version is None:
        raise NotFoundError(f"{layer} feature {feature_id} has no version")
    return row.version
