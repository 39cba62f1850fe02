"""The audit trail: one record's trail (``sapper audit --db DB --record ID``: every write, and every read of a
victim, oldest first), and the audit rows of the command line's bulk writes.

The web service audits each write it makes with the record before and after. The command line's bulk writes
(``sapper import hazards|assets|imsma``, ``sapper scenario build``, the ``sapper release …`` commands) audit each
hazard area, asset and activity they write in the same unit of work, in one statement per write: who (the command,
or the ``--actor`` named), which record, inserted or updated, why (the command and its file), and the record's
attributes after the write. A bulk row holds the geometry's SHA-256 and area rather than its vertices (ten
thousand perimeters would double the store; the record itself holds them). Audit rows about victims hold ids, key
ids and field names, never a personal value.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity
from sapper.domain.assets import Asset
from sapper.domain.geometry import area_m2, areas_m2
from sapper.domain.hazards import (
    DeviceCategory,
    Evidence,
    HazardArea,
    HazardClass,
    HazardStatus,
    LandUse,
    Marking,
)
from sapper.domain.users import AuditBatch, AuditEntry
from sapper.store import Store, UnitOfWork
from sapper.store.accounts import audit_json

#: The most rows one trail shows.
TRAIL_LIMIT = 10_000

#: The value of each member of a hazard area's enumerations, looked up rather than read through Enum's descriptor
#: (a bulk import's audit rows read half a million). StrEnum members equal their values: no two texts collide.
_HAZARD_ENUM_VALUE: dict[StrEnum, str] = {
    m: m.value for cls in (HazardClass, HazardStatus, Evidence, LandUse, DeviceCategory, Marking) for m in cls}

#: The table each kind of record is written to.
_TABLE = {HazardArea: "hazard_areas", Asset: "assets", Activity: "activities"}


def trail(store: Store, record_id: str, *, table: str | None = None) -> list[AuditEntry]:
    """The audit rows of ``record_id`` (in ``table`` only, when given), oldest first."""
    return list(reversed(store.audit_entries(table_name=table, record_id=record_id, limit=TRAIL_LIMIT)))


def _shape(geom: BaseGeometry | None) -> dict[str, Any]:
    if geom is None or geom.is_empty:
        return {"geometry_sha256": None, "area_m2": 0.0}
    return {"geometry_sha256": hashlib.sha256(geom.wkb).hexdigest(), "area_m2": round(area_m2(geom), 1)}


def _shapes(geoms: Sequence[BaseGeometry | None], areas: Sequence[float] | None = None) -> list[dict[str, Any]]:
    """:func:`_shape` of many geometries at once (WKB and areas vectorised: the same bytes and figures); ``areas``:
    the geometries' :func:`areas_m2`, when already computed."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    present = ~shapely.is_missing(arr)
    present[present] = ~shapely.is_empty(arr[present])
    wkbs = shapely.to_wkb(arr[present])
    figures = areas_m2(arr[present]) if areas is None else np.asarray(areas, dtype=float)[present].tolist()
    out: list[dict[str, Any]] = [{"geometry_sha256": None, "area_m2": 0.0}] * len(arr)
    sha256 = hashlib.sha256
    for k, wkb, area in zip(np.flatnonzero(present).tolist(), wkbs, figures, strict=True):
        out[k] = {"geometry_sha256": sha256(wkb).hexdigest(), "area_m2": round(area, 1)}
    return out


def summary(record: HazardArea | Asset | Activity, shape: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a bulk audit row says of ``record`` after the write (attributes, geometry as hash and area);
    ``shape``: the hash and area of a hazard area's or asset's geometry when already computed (:func:`_shapes`)."""
    if isinstance(record, HazardArea):
        value = _HAZARD_ENUM_VALUE
        return {
            "hazard_class": value[record.hazard_class],
            "status": value[record.status],
            "evidence": value[record.evidence],
            "organisation_id": record.organisation_id,
            "name": record.name,
            "land_use": value[record.land_use],
            "beneficiaries": record.beneficiaries,
            "device_categories": sorted([value[d] for d in record.device_categories]),
            "marking": value[record.marking],
            **(shape or _shape(record.geometry)),
        }
    if isinstance(record, Asset):
        return {
            "asset_type": record.asset_type.value,
            "damage": record.damage.value,
            "name": record.name,
            "criticality": record.criticality,
            "people_served": record.people_served,
            **(shape or _shape(record.geometry)),
        }
    return {
        "hazard_id": record.hazard_id,
        "activity_type": record.activity_type.value,
        "status": record.status.value,
        "organisation_id": record.organisation_id,
        "start": None if record.start is None else record.start.isoformat(),
        "end": None if record.end is None else record.end.isoformat(),
        "devices": len(record.devices),
        **{f"{k}_{v}": w for k in ("cancelled", "reduced", "cleared") for v, w in _shape(getattr(record, k)).items()},
    }


def audit_written(
    uow: UnitOfWork,
    records: Sequence[HazardArea | Asset | Activity],
    *,
    existing: Iterable[str],
    actor: str,
    reason: str,
    organisation_id: str | None = None,
    areas: Sequence[float] | None = None,
) -> int:
    """Audit rows for ``records`` just written in ``uow`` (``existing``: the ids that were stored before the write,
    so updated rather than inserted), in the same transaction; how many. ``areas``: each record's geometry's area
    (:func:`sapper.domain.geometry.areas_m2`, 0 for a record without one) when the caller has them already."""
    before = set(existing)
    shapes = _shapes([r.geometry if isinstance(r, HazardArea | Asset) else None for r in records], areas)
    texts = [_hazard_json(r, shape) if type(r) is HazardArea else
             audit_json(summary(r, shape if isinstance(r, HazardArea | Asset) else None))
             for r, shape in zip(records, shapes, strict=True)]
    kinds = set(map(type, records))
    if len(kinds) == 1:  # one table: one batch, no object per row
        ids = [r.id for r in records]
        actions = ["update" if i in before else "insert" for i in ids] if before else ["insert"] * len(ids)
        return uow.audit_batch(AuditBatch(actor, organisation_id, _TABLE[kinds.pop()], reason, ids, actions, texts))
    return uow.audit_many(
        AuditEntry(actor, organisation_id, _TABLE[type(r)], r.id, "update" if r.id in before else "insert", reason,
                   None, text)
        for r, text in zip(records, texts, strict=True)
    )


#: The JSON text of each member of a hazard area's enumerations (what json.dumps writes for its value).
_HAZARD_ENUM_JSON: dict[StrEnum, str] = {m: json.dumps(v) for m, v in _HAZARD_ENUM_VALUE.items()}
#: :func:`summary` of a hazard area as ``audit_json`` writes it (keys sorted, json.dumps's separators), its values'
#: JSON text filled in: the same text, a fifth of the time of building the mapping and encoding it.
_HAZARD_JSON = ('{"area_m2": %s, "beneficiaries": %s, "device_categories": %s, "evidence": %s, '
                '"geometry_sha256": %s, "hazard_class": %s, "land_use": %s, "marking": %s, "name": %s, '
                '"organisation_id": %s, "status": %s}')


@lru_cache(maxsize=256)
def _categories_json(categories: frozenset[DeviceCategory]) -> str:
    return json.dumps(sorted([_HAZARD_ENUM_VALUE[d] for d in categories]))


def _hazard_json(record: HazardArea, shape: dict[str, Any]) -> str:
    """``audit_json(summary(record, shape))`` of a hazard area (tests/services/test_bulk_audit.py compares them)."""
    area, sha = shape["area_m2"], shape["geometry_sha256"]
    beneficiaries = record.beneficiaries
    org = record.organisation_id
    if (type(area) is not float or not math.isfinite(area) or type(beneficiaries) is not int
            or type(record.name) is not str or not (org is None or type(org) is str)):
        return audit_json(summary(record, shape)) or ""
    enum = _HAZARD_ENUM_JSON
    return _HAZARD_JSON % (
        float.__repr__(area), int.__repr__(beneficiaries), _categories_json(record.device_categories),
        enum[record.evidence], "null" if sha is None else f'"{sha}"', enum[record.hazard_class],
        enum[record.land_use], enum[record.marking], encode_basestring_ascii(record.name),
        "null" if org is None else encode_basestring_ascii(org), enum[record.status])
