"""Edits of assets, settlements and land-release activities for the web service (OGC API – Features Part 4), each
through the register's rules, checked for who may make it, and audited in the same transaction as the write.

Who may edit what (hazard areas: ``services.features``):

* **assets** — the register's shared picture of damaged infrastructure, kept by the reconstruction side: admin,
  IM officer or planner of the national authority or of an organisation of kind ``authority`` or ``contractor``
  (a demining operator reads them). Every write builds a ``domain.assets.Asset``, so its rules hold (a road or power
  line is a line, criticality 1–5, builder-days for at least one trade).
* **settlements** — the gazetteer: admin or IM officer of the national authority only.
* **activities** — the land-release ledger: any editor (admin, IM officer, planner, field) on a hazard area their
  organisation may see. A new activity is recorded through ``services.landrelease`` (outcome by activity type,
  clipped to what is still hazardous and the clipping said; an activity processes land but never releases it:
  release is the authority's acceptance after inspection). Recorded activities are append-only: a correction is a
  new activity, a reopening or an extension, never an edit or a delete of the ledger (the API answers 405).

Geometry is repaired with ``make_valid`` when that leaves the right kind and the repair is said; otherwise the write
is refused naming ``geometry``. Settlements have no row version: their ETag is a digest of the row (:func:`etag`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.places import Settlement
from sapper.domain.resources import Method, OrgKind, Trade
from sapper.domain.users import EDITORS, MANAGERS, AuditEntry, Principal, Role
from sapper.errors import ConflictError, EditForbidden, Fault, NotFoundError, ValidationError
from sapper.messages import msg
from sapper.services import landrelease
from sapper.services.features import EditResult, repair_geometry
from sapper.store import Store
from sapper.store import edits as rows
from sapper.store.accounts import audit_json
from sapper.store.features import FeatureRow, Value
from sapper.store.schema import TRADE_COLUMNS


#: What a collection takes: ``full`` (POST, PUT, PATCH, DELETE), ``append`` (POST only: a ledger) or ``read``.
class Editing(StrEnum):
    FULL = "full"
    APPEND = "append"
    READ = "read"


EDITING: dict[str, Editing] = {"hazard_areas": Editing.FULL, "assets": Editing.FULL, "settlements": Editing.FULL,
                               "activities": Editing.APPEND, "plan_tasks": Editing.READ}

#: Why a recorded activity cannot be changed or deleted (the API's 405 says it).
APPEND_ONLY = ("activities are the land-release ledger and are append-only: record a correcting activity, a "
               "reopening or an extension instead of changing or deleting a recorded one")

#: The outcome an activity's geometry records when the client does not name one.
OUTCOME_OF: dict[ActivityType, str] = {ActivityType.NTS: "cancelled", ActivityType.TS: "reduced",
                                       ActivityType.CLEARANCE: "cleared", ActivityType.BAC: "cleared",
                                       ActivityType.EOD: "cleared"}


def _org_kind(store: Store, organisation_id: str) -> OrgKind | None:
    return next((o.kind for o in store.organisations() if o.id == organisation_id), None)


def refusal(store: Store, principal: Principal, layer: str) -> str | None:
    """Why ``principal`` may not write to ``layer`` (None when they may)."""
    role = principal.role
    if layer == "hazard_areas":
        return None if role in MANAGERS else f"the role {role.value} may not edit hazard areas (admin, " \
                                              "im-officer and planner may)"
    if layer == "assets":
        if role not in MANAGERS:
            return f"the role {role.value} may not edit assets (admin, im-officer and planner may)"
        if principal.authority or _org_kind(store, principal.organisation_id) in (OrgKind.AUTHORITY,
                                                                                 OrgKind.CONTRACTOR):
            return None
        return (f"organisation {principal.organisation_id} is a demining operator: assets are kept by the authority "
                "and reconstruction organisations")
    if layer == "settlements":
        if principal.authority and role in (Role.ADMIN, Role.IM_OFFICER):
            return None
        return "settlements are kept by the national authority's admin and IM officers"
    if layer == "activities":
        return None if role in EDITORS else f"the role {role.value} may not record activities"
    return f"the collection {layer} is read-only"


def check_may_edit(store: Store, principal: Principal, layer: str) -> None:
    """EditForbidden (403) when ``principal`` may not write to ``layer``."""
    reason = refusal(store, principal, layer)
    if reason is not None:
        raise EditForbidden(reason)


def etag(row: FeatureRow) -> str:
    """The entity tag of a feature: its row version, or (settlements, which have none) a digest of what it holds."""
    if row.version is not None:
        return str(row.version)
    text = audit_json({**dict(row.properties), "geometry": None if row.geometry is None else row.geometry.wkb_hex})
    return "d" + hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:20]


def _snapshot(row: FeatureRow | None) -> str | None:
    if row is None:
        return None
    values: dict[str, Value | str] = dict(row.properties)
    values["geometry"] = None if row.geometry is None else row.geometry.wkt
    values["version"] = row.version
    return audit_json(values)


def _audit(principal: Principal, layer: str, record_id: str, action: str, reason: str, before: FeatureRow | None,
           after: FeatureRow | None) -> AuditEntry:
    return AuditEntry(principal.name, principal.organisation_id, layer, record_id, action, reason,
                      _snapshot(before), _snapshot(after))


E = TypeVar("E", AssetType, DamageLevel, ActivityType, ActivityStatus, Method)


def _enum(kind: type[E], value: str, record: str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise ValidationError(record, [Fault(record, msg("{value} is not one of {allowed}", value=repr(value),
                                                         allowed=', '.join(v.value for v in kind)),
                                             field)]) from None


def _required(record: str, **values: object) -> None:
    ValidationError.raise_if(record, [Fault(record, msg("{name} is required", name=name), name)
                                      for name, value in values.items() if value is None])


# ---------------------------------------------------------------------------------------------------------------
# Assets
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetInput:
    """Attributes of an asset sent by a client (builder-days per trade in the ``work_*_bd`` columns); None means
    "not sent"."""

    name: str | None = None
    asset_type: str | None = None
    damage: str | None = None
    criticality: int | None = None
    people_served: int | None = None
    work_buffer_m: float | None = None
    work_road_bd: float | None = None
    work_bridge_bd: float | None = None
    work_power_bd: float | None = None
    work_water_bd: float | None = None
    work_building_bd: float | None = None


_TRADE_OF_COLUMN = {f"work_{t.value}_bd": t for t in Trade if f"work_{t.value}_bd" in TRADE_COLUMNS}


def asset_geometry(record: str, asset_type: AssetType, geometry: BaseGeometry | None,
                   ) -> tuple[BaseGeometry, tuple[str, ...]]:
    """The asset's geometry, repaired when a polygon's make_valid leaves a polygon; refused naming ``geometry``
    when missing, of the wrong kind or invalid beyond repair."""
    if geometry is None or geometry.is_empty:
        raise ValidationError(record, [Fault(record, msg("geometry is missing or empty"), "geometry")])
    if isinstance(geometry, Polygon | MultiPolygon):
        return repair_geometry(record, geometry)
    if not isinstance(geometry, Point | LineString | MultiLineString) or not shapely.is_valid(geometry):
        why = "" if shapely.is_valid(geometry) else f" ({shapely.is_valid_reason(geometry)})"
        raise ValidationError(record, [Fault(record, f"a {asset_type.value} cannot have this {geometry.geom_type}"
                                                     f"{why}", "geometry")])
    return geometry, ()


def _asset(asset_id: str, given: AssetInput, base: Asset | None, geometry: BaseGeometry | None,
           ) -> tuple[Asset, tuple[str, ...]]:
    record = msg("asset {id}", id=asset_id)
    if base is None:
        _required(record, asset_type=given.asset_type, damage=given.damage)
    kind = (_enum(AssetType, given.asset_type, record, "asset_type") if given.asset_type is not None
            else base.asset_type if base is not None else AssetType.ROAD)
    repairs: tuple[str, ...] = ()
    if geometry is not None or base is None:
        geom, repairs = asset_geometry(record, kind, geometry)
    else:
        geom = base.geometry
    work = dict(base.repair_work) if base is not None else {}
    for column, trade in _TRADE_OF_COLUMN.items():
        sent = getattr(given, column)
        if sent is not None:
            if sent == 0:
                work.pop(trade, None)
            else:
                work[trade] = float(sent)
    try:
        asset = Asset(
            id=asset_id, asset_type=kind, geometry=geom,
            damage=(_enum(DamageLevel, given.damage, record, "damage") if given.damage is not None
                    else base.damage if base is not None else DamageLevel.MODERATE),
            repair_work=work,
            criticality=(given.criticality if given.criticality is not None
                         else base.criticality if base is not None else 3),
            people_served=(given.people_served if given.people_served is not None
                           else base.people_served if base is not None else 0),
            name=given.name if given.name is not None else base.name if base is not None else "",
            work_buffer_m=given.work_buffer_m if given.work_buffer_m is not None else (
                base.work_buffer_m if base is not None else None),
            synthetic=False,
        )
    except ValidationError as exc:  # the asset's own rules, renamed to the columns a client sends
        raise ValidationError(record, [dataclasses.replace(f, field="work_*_bd") if f.field == "repair_work" else f
                                       for f in exc.faults]) from None
    return asset, repairs


def create_asset(store: Store, principal: Principal, given: AssetInput, geometry: BaseGeometry | None, *,
                 reason: str = "") -> EditResult:
    """Add a damaged asset with a server-assigned id (``AS-`` + 8 hex digits); audited."""
    check_may_edit(store, principal, "assets")
    asset, repairs = _asset(f"AS-{secrets.token_hex(4).upper()}", given, None, geometry)
    with store.write() as uow:
        uow.add_assets([asset])
        after = store.feature("assets", asset.id)
        uow.audit(_audit(principal, "assets", asset.id, "insert", reason, None, after))
    return EditResult(after, repairs)


def edit_asset(store: Store, principal: Principal, asset_id: str, given: AssetInput, geometry: BaseGeometry | None,
               *, expected_version: int, replace: bool, reason: str = "") -> EditResult:
    """Change an asset at ``expected_version`` (PUT when ``replace``: type, damage and geometry must be sent and
    unsent attributes take their defaults; PATCH otherwise); audited."""
    check_may_edit(store, principal, "assets")
    with store.write() as uow:
        before = store.feature("assets", asset_id, scope=principal.scope)
        current = uow.assets_by_id([asset_id])
        if not current:
            raise NotFoundError(f"assets feature {asset_id} does not exist")
        asset, repairs = _asset(asset_id, given, None if replace else current[0], geometry)
        asset = dataclasses.replace(asset, synthetic=current[0].synthetic)
        uow.touched.add("assets")
        rows.update_asset(uow.connection, asset, expected_version=expected_version)
        after = store.feature("assets", asset_id)
        uow.audit(_audit(principal, "assets", asset_id, "update", reason, before, after))
    return EditResult(after, repairs)


def delete_asset(store: Store, principal: Principal, asset_id: str, *, expected_version: int,
                 reason: str = "") -> None:
    """Delete an asset at ``expected_version`` (refused while a plan or field progress names it); audited."""
    check_may_edit(store, principal, "assets")
    with store.write() as uow:
        before = store.feature("assets", asset_id, scope=principal.scope)
        uow.touched.add("assets")
        rows.delete_asset(uow.connection, asset_id, expected_version=expected_version)
        uow.audit(_audit(principal, "assets", asset_id, "delete", reason, before, None))


# ---------------------------------------------------------------------------------------------------------------
# Settlements
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettlementInput:
    """Attributes of a settlement sent by a client; None means "not sent"."""

    name: str | None = None
    population: int | None = None
    source: str | None = None


def _settlement(record: str, given: SettlementInput, base: Settlement | None,
                geometry: BaseGeometry | None, *, synthetic: bool = False) -> Settlement:
    if base is None:
        _required(record, name=given.name)
    point = base.point if base is not None and geometry is None else geometry
    if not isinstance(point, Point) or point.is_empty or not shapely.is_valid(point):
        kind = "nothing" if point is None else point.geom_type
        raise ValidationError(record, [Fault(record, msg("a settlement is a point, got {kind}", kind=kind),
                                             "geometry")])
    try:
        return Settlement(
            name=given.name if given.name is not None else base.name if base is not None else "",
            population=(given.population if given.population is not None
                        else base.population if base is not None else 0),
            point=point,
            source=given.source if given.source is not None else base.source if base is not None else "",
            synthetic=synthetic,
        )
    except ValidationError as exc:
        raise ValidationError(record, [dataclasses.replace(f, field="geometry") if f.field == "point" else f
                                       for f in exc.faults]) from None


def _fid(feature_id: str) -> int:
    try:
        return int(feature_id)
    except ValueError:
        raise NotFoundError(f"settlements feature {feature_id} does not exist") from None


def create_settlement(store: Store, principal: Principal, given: SettlementInput, geometry: BaseGeometry | None,
                      *, reason: str = "") -> EditResult:
    """Add a settlement (its id is the feature id the database assigns); audited."""
    check_may_edit(store, principal, "settlements")
    settlement = _settlement("new settlement", given, None, geometry)
    with store.write() as uow:
        uow.touched.add("settlements")
        fid = rows.insert_settlement(uow.connection, settlement)
        after = store.feature("settlements", str(fid))
        uow.audit(_audit(principal, "settlements", str(fid), "insert", reason, None, after))
    return EditResult(after, ())


def _stored_settlement(row: FeatureRow) -> Settlement:
    p = row.properties
    point = row.geometry if isinstance(row.geometry, Point) else Point()
    return Settlement(name=str(p["name"]), population=int(str(p["population"] or 0)), point=point,
                      source=str(p["source"] or ""), synthetic=bool(p["synthetic"]))


def _locked(store: Store, principal: Principal, feature_id: str, expected: str) -> FeatureRow:
    """The settlement, its row held for this transaction, checked to be still what ``expected`` tagged."""
    with store.write() as uow:
        rows.lock_settlement(uow.connection, _fid(feature_id))
        before = store.feature("settlements", feature_id, scope=principal.scope)
        if etag(before) != expected:
            raise ConflictError(f"settlement {feature_id} was changed by someone else since it was read; nothing was "
                                "written: read it again and redo the edit")
        return before


def edit_settlement(store: Store, principal: Principal, feature_id: str, given: SettlementInput,
                    geometry: BaseGeometry | None, *, expected: str, replace: bool, reason: str = "") -> EditResult:
    """Change a settlement still holding what the ETag ``expected`` tagged (PUT when ``replace``); audited."""
    check_may_edit(store, principal, "settlements")
    with store.write() as uow:
        before = _locked(store, principal, feature_id, expected)
        record = f"settlement {feature_id}"
        stored = _stored_settlement(before)
        settlement = _settlement(record, given, None if replace else stored, geometry, synthetic=stored.synthetic)
        uow.touched.add("settlements")
        rows.replace_settlement(uow.connection, _fid(feature_id), settlement)
        after = store.feature("settlements", feature_id)
        uow.audit(_audit(principal, "settlements", feature_id, "update", reason, before, after))
    return EditResult(after, ())


def delete_settlement(store: Store, principal: Principal, feature_id: str, *, expected: str,
                      reason: str = "") -> None:
    """Delete a settlement still holding what the ETag ``expected`` tagged; audited."""
    check_may_edit(store, principal, "settlements")
    with store.write() as uow:
        before = _locked(store, principal, feature_id, expected)
        uow.touched.add("settlements")
        rows.delete_settlement(uow.connection, _fid(feature_id))
        uow.audit(_audit(principal, "settlements", feature_id, "delete", reason, before, None))


# ---------------------------------------------------------------------------------------------------------------
# Activities
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityInput:
    """A land-release activity sent by a client. ``outcome`` (cancelled, reduced, cleared) is what the geometry
    records; unsent, the activity type decides (NTS cancels, TS reduces, clearance, BAC and EOD clear)."""

    hazard_id: str | None = None
    activity_type: str | None = None
    status: str | None = None
    organisation_id: str | None = None
    method: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    clearance_depth_cm: float | None = None
    direct_evidence: str | None = None
    outcome: str | None = None


def _activity(activity_id: str, given: ActivityInput, hazard: FeatureRow, principal: Principal,
              geometry: BaseGeometry | None) -> tuple[Activity, tuple[str, ...]]:
    record = f"activity {activity_id}"
    kind = _enum(ActivityType, given.activity_type or "", record, "activity_type")
    outcome = given.outcome or OUTCOME_OF[kind]
    if outcome not in ("cancelled", "reduced", "cleared"):
        raise ValidationError(record, [Fault(record, msg("{outcome} is not one of cancelled, reduced, cleared",
                                                         outcome=repr(outcome)),
                                             "outcome")])
    repairs: tuple[str, ...] = ()
    outcomes: dict[str, BaseGeometry] = {}
    if geometry is not None:
        outcomes[outcome], repairs = repair_geometry(record, geometry)
    owner = hazard.properties.get("organisation_id")
    wanted = given.organisation_id
    if principal.scope is not None and wanted not in (None, principal.scope):
        raise ValidationError(record, [Fault(record, "an operator records activities for its own organisation "
                                                     "only", "organisation_id")])
    organisation = wanted or principal.scope or (str(owner) if owner is not None else None)
    end = given.end_date or dt.datetime.now(dt.UTC).date()
    try:
        activity = Activity(
            id=activity_id, hazard_id=hazard.id, activity_type=kind,
            status=_enum(ActivityStatus, given.status or "completed", record, "status"),
            organisation_id=organisation,
            method=_enum(Method, given.method, record, "method") if given.method else None,
            start=given.start_date or end, end=end, clearance_depth_cm=given.clearance_depth_cm,
            direct_evidence=given.direct_evidence or "", **outcomes,
        )
    except ValidationError as exc:  # an outcome the type may not record: name the property the client sent
        raise ValidationError(record, [dataclasses.replace(f, field="outcome")
                                       if f.field in ("cancelled", "reduced", "cleared") else f
                                       for f in exc.faults]) from None
    return activity, repairs


def record_activity(store: Store, principal: Principal, given: ActivityInput, geometry: BaseGeometry | None, *,
                    reason: str = "") -> EditResult:
    """Record a land-release activity (server-assigned id ``ACT-`` + 8 hex digits) through the land-release
    service, on a hazard area the caller's organisation may see (NotFoundError otherwise); audited in the same
    transaction. The result says how much of the outcome was clipped off (outside what was still hazardous)."""
    check_may_edit(store, principal, "activities")
    activity_id = f"ACT-{secrets.token_hex(4).upper()}"
    _required(f"activity {activity_id}", hazard_id=given.hazard_id, activity_type=given.activity_type)
    with store.write() as uow:
        hazard = store.feature("hazard_areas", str(given.hazard_id), scope=principal.scope)
        activity, repairs = _activity(activity_id, given, hazard, principal, geometry)
        step = landrelease.record_activity(store, activity, actor=principal.name,
                                           reason=reason or "recorded through the web service", audit=False)
        after = store.feature("activities", activity_id)
        uow.audit(_audit(principal, "activities", activity_id, "insert", reason, None, after))
    clipped = sum(e.clipped_m2 for e in step.events if e.activity is not None and e.activity.id == activity_id)
    notes: tuple[str, ...] = ()
    if clipped > 0.5:
        notes = (f"{clipped:,.0f} m² of the outcome lay outside what was still hazardous in hazard area "
                 f"{hazard.id} and was clipped off",)
    return EditResult(after, repairs, notes=notes, clipped_m2=clipped)
