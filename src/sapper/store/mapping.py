"""Domain objects ↔ rows of sapper's tables.

Rows going in are plain dicts keyed by column name (geometry as shapely; the column type encodes it). Rows
coming out are turned back into domain objects, which validate themselves: a row edited into nonsense outside
sapper (say in QGIS) raises a ValidationError naming the record, never a bare ValueError.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Any, TypeVar

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.domain import imsmaids
from sapper.domain.activities import (
    Activity,
    ActivityStatus,
    ActivityType,
    DeviceCondition,
    DeviceFound,
    Disposal,
)
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.calendar import Holiday, ProgrammeCalendar, StandDownGroup, parse_window, window_text
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import (
    BENEFICIARY_GROUPS,
    Beneficiaries,
    DeviceCategory,
    Evidence,
    HazardArea,
    HazardClass,
    HazardStatus,
    LandUse,
    Marking,
)
from sapper.domain.landrelease import (
    EventKind,
    Inspection,
    NCStatus,
    NonConformity,
    QAVisit,
    ReleaseEvent,
    ReleaseState,
    Severity,
)
from sapper.domain.places import Settlement
from sapper.domain.releaserules import ReleaseRules, devices_of, land_uses_of, list_text, parse_list
from sapper.domain.resources import (
    BuilderBrigade,
    DeminerTeam,
    Method,
    Organisation,
    OrgKind,
    Trade,
    parse_roles,
    roles_text,
)
from sapper.errors import Fault, StoreError, ValidationError
from sapper.messages import msg
from sapper.store import planjson
from sapper.store.records import ContextArea, PlannedTask, PlanRun

Row = Mapping[Any, Any]
E = TypeVar("E", bound=StrEnum)

#: The assets column of each trade's builder-days.
TRADE_COLUMN: dict[Trade, str] = {trade: f"work_{trade.value}_bd" for trade in Trade}

OUTCOMES = ("cancelled", "reduced", "cleared")


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------


def _enum(cls: type[E], value: Any, record: str, field: str) -> E:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValidationError(record, [Fault(record, msg("{value} is not one of {allowed}", value=repr(value),
                                                         allowed=allowed), field)]) from None


def _opt_enum(cls: type[E], value: Any, record: str, field: str) -> E | None:
    return None if value is None or value == "" else _enum(cls, value, record, field)


def _geometry(value: Any, record: str, field: str = "geom") -> BaseGeometry:
    if value is None:
        raise ValidationError(record, [Fault(record, msg("geometry is missing in the store"), field)])
    return value


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def union_of(geoms: list[BaseGeometry]) -> BaseGeometry | None:
    """The union of the non-empty ``geoms`` (None when there are none); invalid parts are repaired first."""
    parts = [g for g in geoms if g is not None and not g.is_empty]
    if not parts:
        return None
    try:
        return shapely.union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all([shapely.make_valid(g) for g in parts])


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def to_json(value: Mapping[str, Any], record: str, field: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ValidationError(record, [Fault(record, msg("cannot be saved as JSON: {reason}", reason=exc),
                                             field)]) from None


# ----------------------------------------------------------------------------------------------------
# Organisations, hazards, assets
# ----------------------------------------------------------------------------------------------------


def organisation_row(org: Organisation) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "kind": org.kind.value, "imsma_id": org.imsma_id or None}


def organisation_from(row: Row) -> Organisation:
    record = f"organisation {row['id']}"
    return Organisation(id=row["id"], name=row["name"], kind=_enum(OrgKind, row["kind"], record, "kind"),
                        imsma_id=row.get("imsma_id") or imsmaids.default_id("organisation", row["id"]))


def _imsma_columns(imsma_id: str, links: tuple[str, ...]) -> dict[str, Any]:
    """IMSMA id and links as stored: NULL when there are none (an upsert then keeps what the store has)."""
    return {"imsma_id": imsma_id or None, "imsma_links": imsmaids.join_links(links) or None}


def _imsma_values(row: Row, kind: str) -> dict[str, Any]:
    """IMSMA id (the store's default when none is stored) and links of a record's row."""
    imsma_id = row.get("imsma_id") or (imsmaids.default_id(kind, row["fid"]) if row.get("fid") is not None else "")
    return {"imsma_id": imsma_id, "imsma_links": imsmaids.split_links(row.get("imsma_links"))}


def _sadd_json(b: Beneficiaries | None) -> str | None:
    return None if b is None else json.dumps({g: getattr(b, g) for g in BENEFICIARY_GROUPS}, sort_keys=True)


def _sadd_from(text: str | None, record: str) -> Beneficiaries | None:
    if not text:
        return None
    value = _json_object(text, record, "beneficiaries_sadd")
    if not isinstance(value, dict) or set(value) - set(BENEFICIARY_GROUPS):
        raise ValidationError(record, [Fault(record,
                                             msg("stored beneficiaries by sex and age are not the eight groups"),
                                             "beneficiaries_sadd")])
    return Beneficiaries(**{g: int(value.get(g, 0)) for g in BENEFICIARY_GROUPS})


#: The value of each member of a hazard area's enumerations, looked up (a bulk write reads hundreds of thousands;
#: ``member.value`` goes through Enum's descriptor, a tenth of building a row). StrEnum members equal their values, so
#: a member of another enumeration with the same text finds the same value.
_HAZARD_ENUM_VALUE: dict[StrEnum, str] = {
    m: m.value for cls in (HazardClass, HazardStatus, Evidence, LandUse, DeviceCategory, Marking) for m in cls}


def hazard_row(h: HazardArea, area: float | None = None) -> dict[str, Any]:
    """The ``hazard_areas`` row of ``h``; ``area``: its area in m² when already computed (:func:`areas_m2`)."""
    value = _HAZARD_ENUM_VALUE
    cats = h.device_categories
    return {
        "geom": h.geometry,
        "id": h.id,
        "name": h.name,
        "hazard_class": value[h.hazard_class],
        "status": value[h.status],
        "evidence": value[h.evidence],
        "device_categories": ",".join(sorted([value[c] for c in cats])) if cats else "",
        "land_use": value[h.land_use],
        "beneficiaries": h.beneficiaries,
        "organisation_id": h.organisation_id,
        "expected_clearance_share": h.expected_clearance_share,
        "area_m2": area_m2(h.geometry) if area is None else area,
        "synthetic": int(h.synthetic),
        "clearance_depth_cm": h.clearance_depth_cm,
        "marking": value[h.marking],
        "beneficiaries_sadd": None if h.beneficiaries_sadd is None else _sadd_json(h.beneficiaries_sadd),
        **(_imsma_columns(h.imsma_id, h.imsma_links) if h.imsma_id or h.imsma_links else _NO_IMSMA),
    }


#: The ``hazard_areas`` columns of :func:`hazard_values`, in the order of :func:`hazard_row`'s keys.
HAZARD_VALUE_COLUMNS: tuple[str, ...] = (
    "geom", "id", "name", "hazard_class", "status", "evidence", "device_categories", "land_use", "beneficiaries",
    "organisation_id", "expected_clearance_share", "area_m2", "synthetic", "clearance_depth_cm", "marking",
    "beneficiaries_sadd", "imsma_id", "imsma_links")
#: The types of (id, name, beneficiaries, organisation_id, expected_clearance_share, synthetic, clearance_depth_cm,
#: device_categories) :func:`hazard_values` writes (what SQLite's driver binds as SQLAlchemy would).
_PLAIN_HAZARD = frozenset({str}), frozenset({str}), frozenset({int}), frozenset({str, type(None)}), \
    frozenset({float, int, type(None)}), frozenset({bool}), frozenset({float, int, type(None)}), frozenset({frozenset})


@lru_cache(maxsize=256)
def _categories_text(categories: frozenset[DeviceCategory]) -> str:
    return ",".join(sorted([_HAZARD_ENUM_VALUE[c] for c in categories])) if categories else ""


def hazard_values(hazards: Sequence[HazardArea], areas: Sequence[float], blobs: Sequence[bytes | str | None],
                  extra: Sequence[str] | None = None) -> list[tuple[Any, ...]] | None:
    """:func:`hazard_row` of each of ``hazards`` as a tuple of :data:`HAZARD_VALUE_COLUMNS`' values, the geometry
    given encoded (``blobs``: GeoPackage binary, or hex EWKB for PostGIS's COPY), each area given (``areas``),
    ``extra`` (when given) one more value of each: the values a bulk insert hands the driver, without a dict per
    row. None when some record has what this does not write (beneficiaries by sex and age, IMSMA ids or links, a
    benchmark or turning points, which have rows of their own) or a value of another type than
    :data:`_PLAIN_HAZARD` (then build rows with :func:`hazard_row`)."""
    kinds = {(type(h.id), type(h.name), type(h.beneficiaries), type(h.organisation_id),
              type(h.expected_clearance_share), type(h.synthetic), type(h.clearance_depth_cm),
              type(h.device_categories), h.beneficiaries_sadd is None and h.benchmark is None
              and not h.turning_points and not h.imsma_id and not h.imsma_links) for h in hazards}
    if any(not plain or any(t not in allowed for t, allowed in zip(types, _PLAIN_HAZARD, strict=True))
           for *types, plain in kinds):
        return None
    if not set(map(type, areas)) <= {float} or set(map(type, blobs)) not in ({bytes}, {str}, set()):
        return None
    value = _HAZARD_ENUM_VALUE
    cats = _categories_text
    if extra is None:
        return [(blob, h.id, h.name, value[h.hazard_class], value[h.status], value[h.evidence],
                 cats(h.device_categories), value[h.land_use], h.beneficiaries, h.organisation_id,
                 h.expected_clearance_share, area, int(h.synthetic), h.clearance_depth_cm, value[h.marking], None,
                 None, None) for h, area, blob in zip(hazards, areas, blobs, strict=True)]
    return [(blob, h.id, h.name, value[h.hazard_class], value[h.status], value[h.evidence],
             cats(h.device_categories), value[h.land_use], h.beneficiaries, h.organisation_id,
             h.expected_clearance_share, area, int(h.synthetic), h.clearance_depth_cm, value[h.marking], None,
             None, None, more) for h, area, blob, more in zip(hazards, areas, blobs, extra, strict=True)]


#: :func:`_imsma_columns` of a record with no IMSMA id and no links.
_NO_IMSMA: dict[str, Any] = {"imsma_id": None, "imsma_links": None}


def hazard_point_rows(h: HazardArea) -> list[dict[str, Any]]:
    """The benchmark (ordinal 0) and the turning points (1, 2, … in order) of a hazard area."""
    rows = [] if h.benchmark is None else [{"hazard_id": h.id, "kind": "benchmark", "ordinal": 0,
                                            "geom": h.benchmark}]
    rows += [{"hazard_id": h.id, "kind": "turning_point", "ordinal": i, "geom": p}
             for i, p in enumerate(h.turning_points, start=1)]
    return rows


def hazard_from(row: Row, points: Sequence[Row] = ()) -> HazardArea:
    """A hazard area from its row and its ``hazard_points`` rows (benchmark and turning points)."""
    record = msg("hazard area {id}", id=row['id'])
    cats = [c.strip() for c in (row["device_categories"] or "").split(",") if c.strip()]
    benchmark = next((_point(p["geom"], record) for p in points if p["kind"] == "benchmark"), None)
    turning = tuple(_point(p["geom"], record) for p in sorted(points, key=lambda p: int(p["ordinal"]))
                    if p["kind"] == "turning_point")
    return HazardArea(
        id=row["id"],
        hazard_class=_enum(HazardClass, row["hazard_class"], record, "hazard_class"),
        geometry=_geometry(row["geom"], record),
        evidence=_enum(Evidence, row["evidence"], record, "evidence"),
        device_categories=frozenset(_enum(DeviceCategory, c, record, "device_categories") for c in cats),
        land_use=_enum(LandUse, row["land_use"], record, "land_use"),
        status=_enum(HazardStatus, row["status"], record, "status"),
        beneficiaries=int(row["beneficiaries"]),
        organisation_id=row["organisation_id"],
        name=row["name"] or "",
        expected_clearance_share=_opt_float(row["expected_clearance_share"]),
        synthetic=bool(row["synthetic"]),
        clearance_depth_cm=_opt_float(row["clearance_depth_cm"]),
        benchmark=benchmark,
        turning_points=turning,
        marking=_enum(Marking, row["marking"] or "unknown", record, "marking"),
        beneficiaries_sadd=_sadd_from(row.get("beneficiaries_sadd"), record),
        **_imsma_values(row, "hazard_area"),
    )


def _point(value: Any, record: str) -> Point:
    geom = _geometry(value, record)
    if not isinstance(geom, Point):
        raise ValidationError(record, [Fault(record, msg("benchmark or turning point is a {geom_type}",
                                                         geom_type=geom.geom_type), "geom")])
    return geom


def asset_row(a: Asset) -> dict[str, Any]:
    row: dict[str, Any] = {
        "geom": a.geometry,
        "id": a.id,
        "name": a.name,
        "asset_type": a.asset_type.value,
        "damage": a.damage.value,
        "criticality": a.criticality,
        "people_served": a.people_served,
        "work_buffer_m": a.work_buffer_m,
        "synthetic": int(a.synthetic),
    }
    for trade, column in TRADE_COLUMN.items():
        row[column] = float(a.repair_work.get(trade, 0.0))
    return row


def asset_from(row: Row) -> Asset:
    record = msg("asset {id}", id=row['id'])
    work = {
        trade: float(row[col])
        for trade, col in TRADE_COLUMN.items()
        if row[col] is not None and row[col] != 0
    }
    return Asset(
        id=row["id"],
        asset_type=_enum(AssetType, row["asset_type"], record, "asset_type"),
        geometry=_geometry(row["geom"], record),
        damage=_enum(DamageLevel, row["damage"], record, "damage"),
        repair_work=work,
        criticality=int(row["criticality"]),
        people_served=int(row["people_served"]),
        name=row["name"] or "",
        work_buffer_m=_opt_float(row["work_buffer_m"]),
        synthetic=bool(row["synthetic"]),
    )


# ----------------------------------------------------------------------------------------------------
# Activities
# ----------------------------------------------------------------------------------------------------


def activity_rows(a: Activity) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The activity row, its outcome rows (every outcome that is not None, even empty) and its device rows."""
    outcomes = [(kind, getattr(a, kind)) for kind in OUTCOMES if getattr(a, kind) is not None]
    row = {
        "geom": union_of([g for _, g in outcomes]),
        "id": a.id,
        "hazard_id": a.hazard_id,
        "activity_type": a.activity_type.value,
        "status": a.status.value,
        "organisation_id": a.organisation_id,
        "method": a.method.value if a.method is not None else None,
        "start_date": a.start,
        "end_date": a.end,
        "clearance_depth_cm": a.clearance_depth_cm,
        "direct_evidence": a.direct_evidence,
        "benchmark_lon": None if a.benchmark is None else a.benchmark.x,
        "benchmark_lat": None if a.benchmark is None else a.benchmark.y,
        "task_order": a.task_order,
        **_imsma_columns(a.imsma_id, a.imsma_links),
    }
    outcome_rows = [
        {"activity_id": a.id, "outcome": kind, "geom": g, "area_m2": area_m2(g)} for kind, g in outcomes
    ]
    device_rows = [
        {
            "activity_id": a.id,
            "geom": d.position,
            "category": d.category.value,
            "device_type": d.device_type,
            "condition": d.condition.value,
            "depth_cm": d.depth_cm,
            "quantity": d.quantity,
            "fuze": d.fuze,
            "disposal": d.disposal.value if d.disposal is not None else None,
            "disposal_date": d.disposal_date,
            **_imsma_columns(d.imsma_id, d.imsma_links),
        }
        for d in a.devices
    ]
    return row, outcome_rows, device_rows


def device_from(row: Row) -> DeviceFound:
    record = f"device of activity {row['activity_id']}"
    return DeviceFound(
        position=_geometry(row["geom"], record),
        category=_enum(DeviceCategory, row["category"], record, "category"),
        device_type=row["device_type"] or "",
        condition=_enum(DeviceCondition, row["condition"], record, "condition"),
        depth_cm=_opt_float(row["depth_cm"]),
        quantity=int(row["quantity"]),
        fuze=row["fuze"] or "",
        disposal=_opt_enum(Disposal, row["disposal"], record, "disposal"),
        disposal_date=row["disposal_date"],
        **_imsma_values(row, "device_found"),
    )


def activity_from(row: Row, outcomes: Sequence[Row], devices: Sequence[Row]) -> Activity:
    record = f"activity {row['id']}"
    by_kind: dict[str, BaseGeometry] = {}
    for o in outcomes:
        if o["outcome"] in by_kind:
            raise ValidationError(record, [Fault(record, msg("has two '{outcome}' outcomes", outcome=o['outcome']),
                                                 "outcome")])
        by_kind[o["outcome"]] = _geometry(o["geom"], record)
    return Activity(
        id=row["id"],
        hazard_id=row["hazard_id"],
        activity_type=_enum(ActivityType, row["activity_type"], record, "activity_type"),
        status=_enum(ActivityStatus, row["status"], record, "status"),
        organisation_id=row["organisation_id"],
        method=_opt_enum(Method, row["method"], record, "method"),
        start=row["start_date"],
        end=row["end_date"],
        cancelled=by_kind.get("cancelled"),
        reduced=by_kind.get("reduced"),
        cleared=by_kind.get("cleared"),
        clearance_depth_cm=_opt_float(row["clearance_depth_cm"]),
        devices=tuple(device_from(d) for d in devices),
        direct_evidence=row["direct_evidence"] or "",
        benchmark=None if row.get("benchmark_lon") is None or row.get("benchmark_lat") is None
        else Point(float(row["benchmark_lon"]), float(row["benchmark_lat"])),
        task_order=row.get("task_order"),
        **_imsma_values(row, "activity"),
    )


# ----------------------------------------------------------------------------------------------------
# Teams and brigades
# ----------------------------------------------------------------------------------------------------


def team_row(t: DeminerTeam) -> dict[str, Any]:
    return {
        "id": t.id,
        "organisation_id": t.organisation_id,
        "method": t.method.value,
        "size": t.size,
        "productivity_m2_per_day": t.productivity_m2_per_day,
        "base_lon": t.base.x,
        "base_lat": t.base.y,
        "synthetic": int(t.synthetic),
        "capabilities": roles_text(t.capabilities),
    }


def team_from(row: Row) -> DeminerTeam:
    record = f"team {row['id']}"
    return DeminerTeam(
        id=row["id"],
        organisation_id=row["organisation_id"],
        method=_enum(Method, row["method"], record, "method"),
        size=int(row["size"]),
        base=Point(float(row["base_lon"]), float(row["base_lat"])),
        productivity_m2_per_day=float(row["productivity_m2_per_day"]),
        synthetic=bool(row["synthetic"]),
        capabilities=parse_roles(Method, str(row["capabilities"] or ""), record),
    )


def brigade_row(b: BuilderBrigade) -> dict[str, Any]:
    return {
        "id": b.id,
        "organisation_id": b.organisation_id,
        "trade": b.trade.value,
        "size": b.size,
        "base_lon": b.base.x,
        "base_lat": b.base.y,
        "synthetic": int(b.synthetic),
        "capabilities": roles_text(b.trades),
    }


def brigade_from(row: Row) -> BuilderBrigade:
    record = f"brigade {row['id']}"
    return BuilderBrigade(
        id=row["id"],
        organisation_id=row["organisation_id"],
        trade=_enum(Trade, row["trade"], record, "trade"),
        size=int(row["size"]),
        base=Point(float(row["base_lon"]), float(row["base_lat"])),
        synthetic=bool(row["synthetic"]),
        trades=parse_roles(Trade, str(row["capabilities"] or ""), record),
    )


# ----------------------------------------------------------------------------------------------------
# Context and plans
# ----------------------------------------------------------------------------------------------------


def settlement_row(s: Settlement) -> dict[str, Any]:
    return {
        "geom": s.point,
        "name": s.name,
        "population": s.population,
        "source": s.source,
        "synthetic": int(s.synthetic),
    }


def settlement_from(row: Row) -> Settlement:
    return Settlement(
        name=row["name"],
        population=int(row["population"]),
        point=_geometry(row["geom"], f"settlement {row['name']}"),
        source=row["source"] or "",
        synthetic=bool(row["synthetic"]),
    )


def context_row(a: ContextArea) -> dict[str, Any]:
    return {"geom": a.geometry, "name": a.name, "source": a.source, "synthetic": int(a.synthetic)}


def context_from(row: Row) -> ContextArea:
    return ContextArea(
        name=row["name"],
        geometry=_geometry(row["geom"], f"context area {row['name']}"),
        source=row["source"] or "",
        synthetic=bool(row["synthetic"]),
    )


def _json_object(text: str | None, record: str, field: str) -> object:
    try:
        return json.loads(text or "{}")
    except ValueError as exc:
        raise StoreError(f"{record}: {field} is not valid JSON ({exc})") from None


def plan_run_row(run: PlanRun) -> dict[str, Any]:
    record = f"plan run {run.id if run.id is not None else '(new)'}"
    row: dict[str, Any] = {
        "created_at": run.created_at,
        "status": run.status,
        "objective": run.objective,
        "lower_bound": run.lower_bound,
        "baseline_objective": run.baseline_objective,
        "finish_date": run.finish_date,
        "solve_seconds": run.solve_seconds,
        "task_count": run.task_count,
        "params": to_json(planjson.params_to_json(run.params), record, "params"),
        "summary": to_json(planjson.summary_to_json(run.summary) if run.summary is not None else {}, record,
                           "summary"),
    }
    if run.id is not None:
        row["id"] = run.id
    return row


def planned_task_row(run_id: int, t: PlannedTask) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "task_id": t.task_id,
        "kind": t.kind,
        "hazard_id": t.hazard_id,
        "asset_id": t.asset_id,
        "mode": t.mode,
        "resource": t.resource,
        "unit_id": t.unit_id,
        "start_date": t.start_date,
        "end_date": t.end_date,
        "work": t.work,
        "work_unit": t.work_unit,
    }


def planned_task_from(row: Row) -> PlannedTask:
    return PlannedTask(
        task_id=row["task_id"],
        kind=row["kind"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        work=float(row["work"]),
        work_unit=row["work_unit"],
        hazard_id=row["hazard_id"],
        asset_id=row["asset_id"],
        mode=row["mode"] or "",
        resource=row["resource"] or "",
        unit_id=row["unit_id"],
    )


def plan_run_from(row: Row, tasks: Sequence[Row]) -> PlanRun:
    record = f"plan run {row['id']}"
    return PlanRun(
        id=int(row["id"]),
        created_at=row["created_at"],
        status=row["status"],
        objective=_opt_float(row["objective"]),
        lower_bound=_opt_float(row["lower_bound"]),
        baseline_objective=_opt_float(row["baseline_objective"]),
        finish_date=row["finish_date"],
        solve_seconds=float(row["solve_seconds"]),
        task_count=int(row["task_count"]),
        params=planjson.params_from_json(_json_object(row["params"], record, "params"), record),
        summary=planjson.summary_from_json(_json_object(row["summary"], record, "summary"), record),
        tasks=tuple(planned_task_from(t) for t in tasks),
    )


# ----------------------------------------------------------------------------------------------------
# Land release: QA visits, non-conformities, events
# ----------------------------------------------------------------------------------------------------


def qa_visit_rows(v: QAVisit) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The visit row and one row per non-conformity it found."""
    row = {
        "id": v.id,
        "activity_id": v.activity_id,
        "visit_date": v.date,
        "inspecting_organisation_id": v.inspecting_organisation_id,
        "inspected_organisation_id": v.inspected_organisation_id,
        "notes": v.notes,
    }
    ncs = [
        {"id": nc.id, "visit_id": v.id, "severity": nc.severity.value, "description": nc.description,
         "status": nc.status.value}
        for nc in v.non_conformities
    ]
    return row, ncs


def non_conformity_from(row: Row) -> NonConformity:
    record = f"non-conformity {row['id']}"
    return NonConformity(
        id=row["id"],
        severity=_enum(Severity, row["severity"], record, "severity"),
        description=row["description"],
        status=_enum(NCStatus, row["status"], record, "status"),
    )


def qa_visit_from(row: Row, ncs: Sequence[Row]) -> QAVisit:
    """A visit with its non-conformities at their current status."""
    return QAVisit(
        id=row["id"],
        activity_id=row["activity_id"],
        date=row["visit_date"],
        non_conformities=tuple(non_conformity_from(r) for r in ncs),
        inspecting_organisation_id=row["inspecting_organisation_id"],
        inspected_organisation_id=row["inspected_organisation_id"],
        notes=row["notes"] or "",
    )


def release_event_row(e: ReleaseEvent) -> dict[str, Any]:
    return {
        "hazard_id": e.hazard_id,
        "seq": e.seq,
        "kind": e.kind.value,
        "occurred_at": e.at,
        "actor": e.actor,
        "reason": e.reason,
        "from_state": e.from_state.value if e.from_state is not None else None,
        "to_state": e.to_state.value,
        "cancelled_m2": e.cancelled_m2,
        "reduced_m2": e.reduced_m2,
        "cleared_m2": e.cleared_m2,
        "clipped_m2": e.clipped_m2,
        "remaining_m2": e.remaining_m2,
        "activity_id": e.activity.id if e.activity is not None else None,
        "visit_id": e.visit.id if e.visit is not None else None,
        "non_conformity_id": e.non_conformity_id,
        "nc_status": e.nc_status.value if e.nc_status is not None else None,
        "evidence": e.evidence,
        "recipient": e.recipient,
        **_inspection_columns(e.inspection),
        "area_wkb": _wkb(e.area if e.inspection is None else e.inspection.failed_area),
        "residual_risk": e.residual_risk,
        "authority": e.authority,
        "extended_m2": e.extended_m2,
        "reopened_m2": e.reopened_m2,
        "legacy": int(e.legacy),
    }


def _wkb(geom: BaseGeometry | None) -> str | None:
    """WGS84 geometry as hex WKB text (exact, and portable to any backend)."""
    return None if geom is None else str(shapely.to_wkb(geom, hex=True))


def _from_wkb(text: str | None, record: str) -> BaseGeometry | None:
    if text is None:
        return None
    try:
        return shapely.from_wkb(text)
    except Exception as exc:  # shapely raises GEOSException for bad WKB
        raise ValidationError(record, [Fault(record, msg("area is not valid WKB ({reason})", reason=exc),
                                             "area_wkb")]) from exc


def _inspection_columns(i: Inspection | None) -> dict[str, Any]:
    if i is None:
        return {"inspection_id": None, "inspected_on": None, "inspector": "", "sample_m2": None,
                "sampling_plan": "", "passed": None, "finding": "", "devices_in_sample": 0}
    return {"inspection_id": i.id, "inspected_on": i.date, "inspector": i.organisation, "sample_m2": i.sample_m2,
            "sampling_plan": i.plan, "passed": int(i.passed), "finding": i.finding,
            "devices_in_sample": i.devices_found}


def _inspection_from(row: Row, area: BaseGeometry | None, record: str) -> Inspection | None:
    if row["inspection_id"] is None:
        return None
    return Inspection(id=row["inspection_id"], date=row["inspected_on"], sample_m2=float(row["sample_m2"]),
                      passed=bool(row["passed"]), organisation=row["inspector"], plan=row["sampling_plan"] or "",
                      finding=row["finding"] or "", failed_area=area, devices_found=int(row["devices_in_sample"]))


def release_event_from(row: Row, activity: Activity | None, visit: QAVisit | None) -> ReleaseEvent:
    """An event from its row, its activity and its QA visit (as read from the store).

    A QA visit event carries the visit as it was recorded, so its non-conformities are given open (a new finding
    is open); their later status comes from the ``non_conformity`` events that follow.
    """
    record = f"event {row['seq']} of hazard area {row['hazard_id']}"
    faults = []
    if row["activity_id"] is not None and activity is None:
        faults.append(Fault(record, msg("activity {activity} is not an activity of this area",
                                        activity=row['activity_id']), "activity_id"))
    if row["visit_id"] is not None and visit is None:
        faults.append(Fault(record, msg("QA visit {visit} is not in the store", visit=row['visit_id']), "visit_id"))
    ValidationError.raise_if(record, faults)
    area = _from_wkb(row["area_wkb"], record)
    inspection = _inspection_from(row, area, record)
    if visit is not None:
        opened = tuple(dataclasses.replace(nc, status=NCStatus.OPEN) for nc in visit.non_conformities)
        visit = dataclasses.replace(visit, non_conformities=opened)
    return ReleaseEvent(
        hazard_id=row["hazard_id"],
        seq=int(row["seq"]),
        kind=_enum(EventKind, row["kind"], record, "kind"),
        at=row["occurred_at"],
        actor=row["actor"],
        reason=row["reason"],
        from_state=_opt_enum(ReleaseState, row["from_state"], record, "from_state"),
        to_state=_enum(ReleaseState, row["to_state"], record, "to_state"),
        cancelled_m2=float(row["cancelled_m2"]),
        reduced_m2=float(row["reduced_m2"]),
        cleared_m2=float(row["cleared_m2"]),
        clipped_m2=float(row["clipped_m2"]),
        remaining_m2=float(row["remaining_m2"]),
        activity=activity,
        visit=visit,
        non_conformity_id=row["non_conformity_id"],
        nc_status=_opt_enum(NCStatus, row["nc_status"], record, "nc_status"),
        evidence=row["evidence"] or "",
        recipient=row["recipient"] or "",
        inspection=inspection,
        area=None if inspection is not None else area,
        residual_risk=row["residual_risk"] or "",
        authority=row["authority"] or "",
        extended_m2=float(row["extended_m2"]),
        reopened_m2=float(row["reopened_m2"]),
        legacy=bool(row["legacy"]),
    )


# ----------------------------------------------------------------------------------------------------
# Programme settings of land release, kept in sapper_meta as ``release_rules.<field>``
# ----------------------------------------------------------------------------------------------------

RULES_PREFIX = "release_rules."


def _rule_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, frozenset):
        return list_text(value)
    return str(value)


def release_rules_meta(rules: ReleaseRules) -> dict[str, str]:
    """The rules as sapper_meta rows (lists comma-separated, sorted)."""
    return {RULES_PREFIX + f.name: _rule_text(getattr(rules, f.name)) for f in dataclasses.fields(rules)}


#: The inspection lag of stores written before it was counted in working days (calendar days, 6-day week).
_OLD_LAG = RULES_PREFIX + "inspection_lag_days"


def release_rules_from(meta: Mapping[str, str]) -> ReleaseRules:
    """The programme's rules from sapper_meta: each setting stored, else its default.

    An old store's ``release_rules.inspection_lag_days`` (calendar days) is read, when no
    ``release_rules.inspection_lag_working_days`` is stored, as ``round(days * 6 / 7)`` working days."""
    record = "store metadata (release rules)"
    values: dict[str, Any] = {}
    faults = []
    meta = dict(meta)
    if _OLD_LAG in meta and RULES_PREFIX + "inspection_lag_working_days" not in meta:
        try:
            meta[RULES_PREFIX + "inspection_lag_working_days"] = str(round(int(meta[_OLD_LAG]) * 6 / 7))
        except ValueError:
            faults.append(Fault(record, msg("{key} = {value} is not an int", key=_OLD_LAG,
                                            value=repr(meta[_OLD_LAG])), "inspection_lag_days"))
    for f in dataclasses.fields(ReleaseRules):
        text = meta.get(RULES_PREFIX + f.name)
        if text is None:
            continue
        default = getattr(ReleaseRules(), f.name)
        try:
            if f.name == "dog_excluded_devices":
                values[f.name] = devices_of(text, record)
            elif f.name == "dog_excluded_land_uses":
                values[f.name] = land_uses_of(text, record)
            elif f.name == "dog_excluded_hazards":
                values[f.name] = parse_list(f.name, text)
            elif isinstance(default, bool):
                if text not in ("true", "false"):
                    raise ValueError(text)
                values[f.name] = text == "true"
            elif isinstance(default, int):
                values[f.name] = int(text)
            else:
                values[f.name] = float(text)
        except ValueError:
            faults.append(Fault(record, msg("{prefix}{name} = {text} is not a {kind}", prefix=RULES_PREFIX,
                                            name=f.name, text=repr(text), kind=type(default).__name__), f.name))
        except ValidationError as e:
            faults.extend(e.faults)
    ValidationError.raise_if(record, faults)
    return ReleaseRules(**values)


# ----------------------------------------------------------------------------------------------------
# The programme's calendar: working week and stand-downs in sapper_meta ``calendar.*``, holidays in their table
# ----------------------------------------------------------------------------------------------------

CALENDAR_PREFIX = "calendar."


def calendar_meta(cal: ProgrammeCalendar) -> dict[str, str]:
    """The working week and the stand-downs as sapper_meta rows."""
    return {CALENDAR_PREFIX + "weekdays": ",".join(str(d) for d in sorted(cal.weekdays)),
            **{f"{CALENDAR_PREFIX}stand_down.{g.value}": window_text(cal.stand_down(g)) for g in StandDownGroup}}


def calendar_from(meta: Mapping[str, str], holidays: Sequence[Holiday]) -> ProgrammeCalendar:
    """The programme's calendar from sapper_meta and its holidays: each setting stored, else its default."""
    record = "store metadata (calendar)"
    d = ProgrammeCalendar()
    weekdays = d.weekdays
    stand_downs = {g: d.stand_down(g) for g in StandDownGroup}
    faults = []
    text = meta.get(CALENDAR_PREFIX + "weekdays")
    if text is not None:
        try:
            weekdays = frozenset(int(x) for x in text.split(",") if x.strip())
        except ValueError:
            faults.append(Fault(record, msg("calendar.weekdays = {text} is not a list of days 0-6", text=repr(text)),
                                "weekdays"))
    for g in StandDownGroup:
        text = meta.get(f"{CALENDAR_PREFIX}stand_down.{g.value}")
        if text is None:
            continue
        try:
            stand_downs[g] = parse_window(text)
        except ValidationError:
            faults.append(Fault(record, msg("calendar.stand_down.{value} = {text} is not MM-DD..MM-DD or none",
                                            value=g.value, text=repr(text)),
                                "stand_down"))
    ValidationError.raise_if(record, faults)
    return ProgrammeCalendar(weekdays=weekdays, holidays=tuple(holidays),
                             deminers_stand_down=stand_downs[StandDownGroup.DEMINERS],
                             builders_stand_down=stand_downs[StandDownGroup.BUILDERS])
