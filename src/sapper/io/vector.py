"""Hazard areas and assets from and to GeoPackage, GeoJSON, CSV and zipped Shapefile files.

Columns mirror the store's (flat snake_case, see ``docs`` and ``sapper.store.schema``); a Shapefile's names of at
most 10 characters (:data:`SHORT_NAMES`, or the long name cut to 10) are read as the long ones, and written by a
``.shp.zip`` export. Reading never writes and never stops at a bad feature: each feature is accepted, repaired
(invalid geometry made valid, reason reported) or rejected with its reasons (null, empty, unreadable, non-finite or
out-of-range coordinates, a repeated id; for hazard areas also a repeated geometry); only a file that cannot be
used at all (unreadable, no CRS, required columns missing) is refused as a whole.

Hazard areas need ``id`` and ``hazard_class`` (``SHA``/``CHA``). Optional, with defaults: ``name`` (""),
``status`` (open), ``evidence`` (direct for a CHA, indirect for an SHA, as IMAS 08.10 defines them),
``device_categories`` (comma-separated, none), ``land_use`` (other), ``beneficiaries`` (0),
``organisation_id`` (none), ``expected_clearance_share`` (the class default), ``synthetic`` (false).
``area_m2`` and ``fid`` are ignored on reading (sapper computes the area).

Assets need ``id``, ``asset_type``, ``damage`` and at least one builder-day column (``work_road_bd``,
``work_bridge_bd``, ``work_power_bd``, ``work_water_bd``, ``work_building_bd``; empty or 0 means no work of
that trade). Optional: ``name`` (""), ``criticality`` (3), ``people_served`` (0), ``work_buffer_m`` (the asset
type's default), ``synthetic`` (false).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.geometry import area_m2, in_wgs84_range, is_valid
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus, LandUse
from sapper.domain.resources import Trade
from sapper.errors import ImportFileError, ValidationError
from sapper.io.columnmap import (
    ASSET_PLAN_COLUMNS,
    HAZARD_PLAN_COLUMNS,
    SOURCE_COLUMN,
    SOURCE_COLUMN_SHORT,
    FieldSpec,
    MappedLayer,
    apply_profile,
)
from sapper.io.exports import ExportLayer, pick_fields, write_export
from sapper.io.fields import FieldReader
from sapper.io.files import SHAPEFILE_NAME_LIMIT, RawLayer, read_layer
from sapper.io.profile import ImportProfile
from sapper.io.result import FeatureIssue, ReadResult, SourceAttributes
from sapper.io.styles import LayerStyle, date_style, kinds_of, phase_style
from sapper.messages import N_, Joined, Msg, msg, msg_n

T = TypeVar("T")

HAZARD_COLUMNS = (
    "id",
    "name",
    "hazard_class",
    "status",
    "evidence",
    "device_categories",
    "land_use",
    "beneficiaries",
    "organisation_id",
    "expected_clearance_share",
    "area_m2",
    "synthetic",
)
HAZARD_REQUIRED = ("id", "hazard_class")

TRADE_COLUMNS: dict[Trade, str] = {trade: f"work_{trade.value}_bd" for trade in Trade}
ASSET_COLUMNS = (
    "id",
    "name",
    "asset_type",
    "damage",
    "criticality",
    "people_served",
    "work_buffer_m",
    *TRADE_COLUMNS.values(),
    "synthetic",
)
ASSET_REQUIRED = ("id", "asset_type", "damage")

#: Column names of at most 10 characters (a Shapefile's limit) for sapper's longer ones: a zipped Shapefile export
#: uses them, and reading accepts them (and GDAL's 10-character truncation of the long name) in any format.
SHORT_NAMES: dict[str, str] = {
    "hazard_class": "haz_class",
    "device_categories": "devices",
    "beneficiaries": "benefic",
    "organisation_id": "org_id",
    "expected_clearance_share": "clear_shr",
    "criticality": "critical",
    "people_served": "people",
    "work_buffer_m": "buffer_m",
    "work_road_bd": "road_bd",
    "work_bridge_bd": "bridge_bd",
    "work_power_bd": "power_bd",
    "work_water_bd": "water_bd",
    "work_building_bd": "build_bd",
    SOURCE_COLUMN: SOURCE_COLUMN_SHORT,
    "release_phase": "rel_phase",
    "planned_release_date": "release_on",
    "planned_restoration_date": "restore_on",
}
#: What each exported column holds (a Shapefile export's alias table, ``<layer>_fields.csv``).
DESCRIPTIONS: dict[str, str] = {
    "id": "the record's id",
    "name": "name",
    "hazard_class": "SHA (suspected, indirect evidence) or CHA (confirmed, direct evidence)",
    "status": "open, closed (all land released) or handed_over",
    "evidence": "direct or indirect (IMAS 08.10)",
    "device_categories": "device categories found or suspected, comma-separated",
    "land_use": "what the land is used for",
    "beneficiaries": "people who benefit when the area is released",
    "organisation_id": "the organisation responsible",
    "expected_clearance_share": "share of the area expected to need clearance after survey (0-1)",
    "area_m2": "area in square metres (computed by sapper; not read on import)",
    "synthetic": "true for generated (synthetic) data",
    "state": "land-release state: suspected, confirmed, released or handed_over (export only)",
    "release_phase": "open, in_progress, processed or released: what the map colours (export only)",
    "planned_release_date": "release date in the latest plan, YYYY-MM-DD (export only)",
    "asset_type": "type of asset",
    "damage": "damage level",
    "criticality": "1 (low) to 5 (critical)",
    "people_served": "people the asset serves",
    "work_buffer_m": "land around the asset that must be released before work, metres",
    **{column: f"{trade.value} builder-days of repair" for trade, column in TRADE_COLUMNS.items()},
    "planned_restoration_date": "restoration date in the latest plan, YYYY-MM-DD (export only)",
    SOURCE_COLUMN: "the imported file's own columns sapper does not use, as JSON",
}


@dataclass(frozen=True, slots=True)
class HazardProgress:
    """What an export adds to a hazard area from its land-release history and the latest plan (not read back)."""

    state: str
    release_phase: str
    planned_release_date: dt.date | None
    #: The recorded area, when the geometry written is not the recorded one (a generalised export).
    recorded_area_m2: float | None = None


@dataclass(frozen=True, slots=True)
class AssetProgress:
    """What an export adds to an asset from the latest plan (not read back)."""

    planned_restoration_date: dt.date | None
#: Evidence implied by the class when a file does not say (IMAS 08.10: a CHA is defined by direct evidence).
_EVIDENCE_BY_CLASS = {HazardClass.SHA: Evidence.INDIRECT, HazardClass.CHA: Evidence.DIRECT}


# ----------------------------------------------------------------------------------------------------
# Geometry checks
# ----------------------------------------------------------------------------------------------------


def _parts_of_dimension(geom: BaseGeometry, dimension: int) -> list[BaseGeometry]:
    out: list[BaseGeometry] = []
    for part in shapely.get_parts(geom):
        if part.geom_type.startswith("Multi") or part.geom_type == "GeometryCollection":
            out += _parts_of_dimension(part, dimension)
        elif shapely.get_dimensions(part) == dimension and not part.is_empty:
            out.append(part)
    return out


def _assemble(parts: list[BaseGeometry], dimension: int) -> BaseGeometry:
    if len(parts) == 1:
        return parts[0]
    if dimension == 2:
        multi = MultiPolygon(parts)
        return multi if multi.is_valid else shapely.union_all(parts)
    return shapely.union_all(parts) if dimension == 0 else shapely.line_merge(shapely.union_all(parts))


#: GEOS's reasons for an invalid geometry (``shapely.is_valid_reason``: ``Self-intersection[35.1 51.2]``), as
#: messages that keep the place; the English text is GEOS's own.
_GEOS_REASONS = {
    "Self-intersection": N_("Self-intersection[{point}]"),
    "Ring Self-intersection": N_("Ring Self-intersection[{point}]"),
    "Hole lies outside shell": N_("Hole lies outside shell[{point}]"),
    "Holes are nested": N_("Holes are nested[{point}]"),
    "Interior is disconnected": N_("Interior is disconnected[{point}]"),
    "Nested shells": N_("Nested shells[{point}]"),
    "Duplicate Rings": N_("Duplicate Rings[{point}]"),
    "Too few distinct points in geometry component": N_("Too few distinct points in geometry component[{point}]"),
    "Invalid Coordinate": N_("Invalid Coordinate[{point}]"),
    "Ring is not closed": N_("Ring is not closed[{point}]"),
    "Repeated Point": N_("Repeated Point[{point}]"),
}
_GEOS_REASON = re.compile(r"(?P<name>[^\[]+)\[(?P<point>[^\]]*)\]")


def geos_reason(text: str) -> str:
    """GEOS's reason for an invalid geometry as a message (said in the user's language, the place kept); a reason
    GEOS words otherwise as it is."""
    found = _GEOS_REASON.fullmatch(text)
    if found is None or found["name"] not in _GEOS_REASONS:
        return text
    return Msg(_GEOS_REASONS[found["name"]], point=found["point"])


def _out_of_range(geom: BaseGeometry) -> str | None:
    """Why ``geom`` cannot be WGS84 lon/lat (coordinates beyond ±180°/±90°), or None."""
    if in_wgs84_range(geom):
        return None
    minx, miny, maxx, maxy = geom.bounds
    return msg("coordinates are not WGS84 lon/lat (x {minx:.10g} to {maxx:.10g}, y {miny:.10g} to {maxy:.10g}): "
               "projected coordinates, such as metres, in a file whose CRS says degrees? Correct the file's CRS",
               minx=minx, maxx=maxx, miny=miny, maxy=maxy)


def _repair(geom: BaseGeometry) -> BaseGeometry:
    """``make_valid``: for polygons GEOS's "structure" method, which keeps all the land the rings enclose (parts
    that overlap are merged, not cancelled out as the "linework" method does) and is much faster on big rings;
    lines and points get the default method."""
    if int(shapely.get_dimensions(geom)) == 2:
        return shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return shapely.make_valid(geom)


def check_geometry(
    geom: BaseGeometry | None, read_fault: str | None, *, polygonal: bool
) -> tuple[BaseGeometry | None, str | None, str | None]:
    """(usable geometry, repair reason, rejection reason) for one feature's geometry.

    Coordinates must be finite and within WGS84's range (metres in a file labelled EPSG:4326 are not). Invalid
    geometry is repaired with ``make_valid`` (:func:`_repair`); the parts of the original's dimension are kept
    (for hazard areas, the polygons). The repair reason is GEOS's ``is_valid_reason`` (e.g.
    ``Self-intersection[35.1 51.2]``).
    """
    if read_fault is not None:
        return None, None, read_fault
    if geom is None:
        return None, None, msg("geometry is null")
    if geom.is_empty:
        return None, None, msg("geometry is empty")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return None, None, msg("coordinates are not finite numbers (NaN or infinity)")
    out_of_range = _out_of_range(geom)
    if out_of_range is not None:
        return None, None, out_of_range
    if is_valid(geom):
        return geom, None, None
    reason = geos_reason(shapely.is_valid_reason(geom))
    dimension = 2 if polygonal else int(shapely.get_dimensions(geom))
    try:
        parts = _parts_of_dimension(_repair(geom), dimension)
    except shapely.errors.GEOSException as exc:
        return None, None, msg("geometry is invalid ({reason}) and cannot be repaired ({error})", reason=reason,
                               error=str(exc).splitlines()[0])
    if not parts:
        if dimension == 2:
            return None, None, msg("geometry is invalid ({reason}) and no polygon remains after repair", reason=reason)
        return None, None, msg("geometry is invalid ({reason}) and nothing of it remains after repair", reason=reason)
    return _assemble(parts, dimension), reason, None


def check_geometries(
    geoms: Sequence[BaseGeometry | None], read_faults: Sequence[str | None], *, polygonal: bool
) -> list[tuple[BaseGeometry | None, str | None, str | None]]:
    """:func:`check_geometry` for every feature of a layer: what can be is checked for all features at once (null,
    empty, within WGS84's range), and validity one geometry at a time through the domain's remembered
    :func:`~sapper.domain.geometry.is_valid`, so the record built from the geometry does not check it again."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    with np.errstate(invalid="ignore"):
        bounds = shapely.bounds(arr)
        in_range = (
            (bounds[:, 0] >= -180.0) & (bounds[:, 2] <= 180.0) & (bounds[:, 1] >= -90.0) & (bounds[:, 3] <= 90.0)
        )
    plain = ~shapely.is_missing(arr) & ~shapely.is_empty(arr) & in_range
    return [
        (geom, None, None) if ok and fault is None and geom is not None and is_valid(geom)
        else check_geometry(geom, fault, polygonal=polygonal)
        for geom, fault, ok in zip(geoms, read_faults, plain, strict=True)
    ]


# ----------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------


def _aliases(name: str) -> list[str]:
    """The other names a column is read under: its short name, and its first 10 characters (GDAL's truncation)."""
    out = [SHORT_NAMES[name]] if name in SHORT_NAMES else []
    if len(name) > SHAPEFILE_NAME_LIMIT and name[:SHAPEFILE_NAME_LIMIT] not in out:
        out.append(name[:SHAPEFILE_NAME_LIMIT])
    return out


def _canonical(raw: RawLayer, known: Sequence[str]) -> RawLayer:
    """``raw`` with short column names (a Shapefile's) renamed to sapper's; a long name in the file wins."""
    renames: dict[str, str] = {}
    for name in known:
        if name in raw.columns:
            continue
        found = next((a for a in _aliases(name) if a in raw.columns and a not in renames), None)
        if found is not None:
            renames[found] = name
    if not renames:
        return raw
    rows = [{renames.get(k, k): v for k, v in row.items()} for row in raw.rows]
    return replace(raw, columns=[renames.get(c, c) for c in raw.columns], rows=rows)


def _either(names: Sequence[str]) -> str:
    """``a or b or c``, said in the user's language."""
    said = names[0]
    for name in names[1:]:
        said = msg("{a} or {b}", a=said, b=name)
    return said


def _require(raw: RawLayer, required: Sequence[str]) -> None:
    if not raw.rows and not raw.columns:
        return  # no features and so no columns (an empty GeoJSON): nothing to import, nothing missing
    missing = [c for c in required if c not in raw.columns]
    if missing:
        found = ", ".join(raw.columns) or msg("none")
        named = Joined(", ", [msg("{column} (or {aliases})", column=c, aliases=_either(_aliases(c)))
                              if _aliases(c) else c for c in missing])
        raise ImportFileError(msg_n("{path}: missing required column {columns} (found: {found})",
                                    "{path}: missing required columns {columns} (found: {found})", len(missing),
                                    path=raw.path, columns=named, found=found))


def _read(
    mapped: MappedLayer,
    *,
    polygonal: bool,
    build: Callable[[FieldReader, BaseGeometry | None], T],
) -> ReadResult[T]:
    """Turn each feature into a record with ``build`` (which adds attribute faults to the reader or raises the
    domain's ValidationError), collecting repairs and rejections. ``polygonal``: the geometry must be polygons
    (the parts kept when an invalid geometry is repaired)."""
    raw = mapped.raw
    result: ReadResult[T] = ReadResult(notes=[*raw.notes, *mapped.notes], gaps=list(mapped.gaps))
    first_seen: dict[str, int] = {}
    checked = check_geometries(raw.geometries, raw.geometry_faults, polygonal=polygonal)
    for n, (row, (usable, repaired, rejected)) in enumerate(zip(raw.rows, checked, strict=True), start=1):
        fields = FieldReader(row, csv=raw.is_csv or raw.path.suffix.lower() == ".xlsx")
        fid = fields.text("id") or None
        id_reasons = []
        if fid is None:
            id_reasons.append(msg("id is empty"))
        elif fid in first_seen:
            id_reasons.append(msg("id {id} appears earlier in the file (feature {feature})", id=fid,
                                  feature=first_seen[fid]))
        record: T | None = None
        domain_reasons: list[str] = []
        try:
            record = build(fields, usable)
        except ValidationError as exc:
            domain_reasons = [f.reason for f in exc.faults]
        reasons = ([rejected] if rejected else []) + id_reasons + fields.faults + domain_reasons
        if fid is not None:
            # Rejected features count too: a later feature with the same id is as ambiguous either way.
            first_seen.setdefault(fid, n)
        if reasons or record is None:
            result.rejected.append(FeatureIssue(n, fid, Joined("; ", reasons) if reasons else msg("cannot be read")))
            continue
        assert fid is not None
        if repaired:
            result.repaired.append(FeatureIssue(n, fid, repaired))
        result.records.append(record)
        result.indexes.append(n)
        result.attributes.append(mapped.attributes[n - 1])
    return result


def read_outline(path: str | Path, *, layer: str | None = None, crs: str | None = None
                 ) -> tuple[BaseGeometry, list[FeatureIssue]]:
    """The polygons of every feature of a vector file as one WGS84 geometry (an activity's land cancelled, reduced or
    cleared), and the features repaired on the way (``make_valid``). The CRS rules of :func:`read_layer` hold (a
    file without one is refused unless ``crs`` is given). A feature that cannot be used — no geometry, not a polygon,
    beyond repair — fails the whole file, naming every such feature: an outcome must not be recorded in part."""
    raw = read_layer(path, layer=layer, crs=crs)
    if not raw.geometries:
        raise ImportFileError(msg("{path}: holds no feature", path=path))
    usable: list[BaseGeometry] = []
    repaired: list[FeatureIssue] = []
    bad: list[str] = []
    checked = check_geometries(raw.geometries, raw.geometry_faults, polygonal=True)
    for n, (geom, fixed, rejected) in enumerate(checked, start=1):
        if rejected is None and geom is not None and geom.geom_type not in ("Polygon", "MultiPolygon"):
            rejected = msg("is a {kind}, not a polygon", kind=geom.geom_type)
        if rejected is not None or geom is None:
            bad.append(msg("feature {n}: {reason}", n=n, reason=rejected))
            continue
        if fixed:
            repaired.append(FeatureIssue(n, None, fixed))
        usable.append(geom)
    if bad:
        raise ImportFileError(msg("{path}: {reason}", path=path, reason=Joined("; ", bad)))
    return shapely.union_all(usable), repaired


def _without_repeated_geometry(result: ReadResult[HazardArea]) -> ReadResult[HazardArea]:
    """``result`` with each hazard area whose geometry is an earlier one's (vertex for vertex, ring order and
    orientation aside) moved to the rejected features: the same land recorded twice would be surveyed and cleared
    twice in a plan."""
    geoms = np.asarray([r.geometry for r in result.records], dtype=object)
    keys = shapely.to_wkb(shapely.normalize(geoms)) if len(geoms) else []
    first: dict[bytes, int] = {}
    repeated: dict[int, FeatureIssue] = {}
    for k, (key, n, record) in enumerate(zip(keys, result.indexes, result.records, strict=True)):
        earlier = first.setdefault(key, k)
        if earlier != k:
            repeated[k] = FeatureIssue(n, record.id, msg("same geometry as feature {feature} (id {id})",
                                                         feature=result.indexes[earlier],
                                                         id=result.records[earlier].id))
    if not repeated:
        return result
    dropped = {issue.index for issue in repeated.values()}
    keep = [k for k in range(len(result.records)) if k not in repeated]
    return ReadResult(
        records=[result.records[k] for k in keep],
        repaired=[issue for issue in result.repaired if issue.index not in dropped],
        rejected=sorted([*result.rejected, *repeated.values()], key=lambda issue: issue.index),
        ignored_columns=result.ignored_columns,
        indexes=[result.indexes[k] for k in keep],
        attributes=[result.attributes[k] for k in keep],
        notes=result.notes,
        gaps=result.gaps,
    )


def _hazard(fields: FieldReader, geom: BaseGeometry | None) -> HazardArea | None:
    hazard_class = fields.enum("hazard_class", HazardClass)
    if hazard_class is None and not fields.has("hazard_class"):
        fields.faults.append("hazard_class is empty")
    evidence = fields.enum("evidence", Evidence)
    values: dict[str, Any] = {
        "id": fields.text("id"),
        "name": fields.text("name"),
        "status": fields.enum("status", HazardStatus) or HazardStatus.OPEN,
        "device_categories": fields.enums("device_categories", DeviceCategory),
        "land_use": fields.enum("land_use", LandUse) or LandUse.OTHER,
        "beneficiaries": fields.integer("beneficiaries", 0),
        "organisation_id": fields.opt_text("organisation_id"),
        "expected_clearance_share": fields.number("expected_clearance_share"),
        "synthetic": fields.boolean("synthetic"),
    }
    if fields.faults or hazard_class is None or geom is None or not values["id"]:
        return None
    return HazardArea(
        hazard_class=hazard_class,
        geometry=geom,
        evidence=evidence or _EVIDENCE_BY_CLASS[hazard_class],
        **values,
    )


def _asset(fields: FieldReader, geom: BaseGeometry | None) -> Asset | None:
    asset_type = fields.enum("asset_type", AssetType)
    if asset_type is None and not fields.has("asset_type"):
        fields.faults.append("asset_type is empty")
    damage = fields.enum("damage", DamageLevel)
    if damage is None and not fields.has("damage"):
        fields.faults.append("damage is empty")
    work: dict[Trade, float] = {}
    for trade, column in TRADE_COLUMNS.items():
        days = fields.number(column)
        if days is not None and days != 0:
            work[trade] = days
    values: dict[str, Any] = {
        "id": fields.text("id"),
        "name": fields.text("name"),
        "criticality": fields.integer("criticality", 3),
        "people_served": fields.integer("people_served", 0),
        "work_buffer_m": fields.number("work_buffer_m"),
        "synthetic": fields.boolean("synthetic"),
    }
    if fields.faults or asset_type is None or damage is None or geom is None or not values["id"]:
        return None
    return Asset(asset_type=asset_type, geometry=geom, damage=damage, repair_work=work, **values)


#: sapper's hazard-area fields, which of them are categorical (lists among them) and which are required.
HAZARD_SPEC = FieldSpec(
    fields=tuple(c for c in HAZARD_COLUMNS if c != "area_m2"),
    enums={"hazard_class": HazardClass, "status": HazardStatus, "evidence": Evidence, "land_use": LandUse,
           "device_categories": DeviceCategory},
    lists=frozenset({"device_categories"}),
    required=frozenset(HAZARD_REQUIRED),
)
#: sapper's asset fields, as :data:`HAZARD_SPEC`.
ASSET_SPEC = FieldSpec(
    fields=ASSET_COLUMNS,
    enums={"asset_type": AssetType, "damage": DamageLevel},
    required=frozenset(ASSET_REQUIRED),
)


def read_hazards(
    path: str | Path, *, layer: str | None = None, crs: str | None = None, profile: ImportProfile | None = None
) -> ReadResult[HazardArea]:
    """Hazard areas from a GeoPackage, GeoJSON, CSV, XLSX, KML/KMZ or zipped Shapefile (the module docstring lists
    columns and defaults); with ``profile``, the file's own columns and values mapped to sapper's
    (:mod:`sapper.io.columnmap`).

    ``layer`` picks a layer (default: the only one, or ``hazard_areas``); ``crs`` names the CRS of a CSV or of
    a file that lacks one. Raises ImportFileError or CRSError when the file cannot be used at all.

    Without a profile, a file whose every feature is clean is read column by column (:mod:`sapper.io.bulk`, the
    same result, faster); any other is read record by record.
    """
    if profile is None:
        from sapper.io.bulk import read_clean_hazards  # it builds on this module

        clean = read_clean_hazards(path, layer=layer, crs=crs)
        if clean is not None:
            return clean
    raw = _canonical(read_layer(path, layer=layer, crs=crs, preferred_layer="hazard_areas"),
                     (*HAZARD_COLUMNS, *HAZARD_PLAN_COLUMNS))
    mapped = apply_profile(raw, profile, HAZARD_SPEC)
    _require(mapped.raw, HAZARD_REQUIRED)
    return _without_repeated_geometry(_read(mapped, polygonal=True, build=_hazard))  # type: ignore[arg-type]


def read_assets(
    path: str | Path, *, layer: str | None = None, crs: str | None = None, profile: ImportProfile | None = None
) -> ReadResult[Asset]:
    """Damaged assets from a file (columns and defaults: the module docstring; ``profile``: as for hazards)."""
    raw = _canonical(read_layer(path, layer=layer, crs=crs, preferred_layer="assets"),
                     (*ASSET_COLUMNS, *ASSET_PLAN_COLUMNS))
    mapped = apply_profile(raw, profile, ASSET_SPEC)
    _require(mapped.raw, ASSET_REQUIRED)
    if mapped.raw.columns and not any(c in mapped.raw.columns for c in TRADE_COLUMNS.values()):
        raise ImportFileError(msg("{path}: needs at least one builder-day column ({columns}); found: {found}",
                                  path=raw.path, columns=", ".join(TRADE_COLUMNS.values()),
                                  found=", ".join(raw.spelled.get(c, c) for c in raw.columns)))
    return _read(mapped, polygonal=False, build=_asset)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------


def hazards_frame(hazards: Sequence[HazardArea]) -> tuple[pd.DataFrame, list[BaseGeometry]]:
    """Hazard areas as a flat table with the store's columns, and their geometries."""
    frame = pd.DataFrame(
        {
            "id": pd.Series([h.id for h in hazards], dtype=object),
            "name": pd.Series([h.name for h in hazards], dtype=object),
            "hazard_class": pd.Series([h.hazard_class.value for h in hazards], dtype=object),
            "status": pd.Series([h.status.value for h in hazards], dtype=object),
            "evidence": pd.Series([h.evidence.value for h in hazards], dtype=object),
            "device_categories": pd.Series(
                [",".join(sorted(c.value for c in h.device_categories)) for h in hazards], dtype=object
            ),
            "land_use": pd.Series([h.land_use.value for h in hazards], dtype=object),
            "beneficiaries": pd.Series([h.beneficiaries for h in hazards], dtype="int64"),
            "organisation_id": pd.Series([h.organisation_id for h in hazards], dtype=object),
            "expected_clearance_share": pd.Series(
                [h.expected_clearance_share for h in hazards], dtype="float64"
            ),
            "area_m2": pd.Series([area_m2(h.geometry) for h in hazards], dtype="float64"),
            "synthetic": pd.Series([h.synthetic for h in hazards], dtype="bool"),
        }
    )
    return frame, [h.geometry for h in hazards]


def assets_frame(assets: Sequence[Asset]) -> tuple[pd.DataFrame, list[BaseGeometry]]:
    """Assets as a flat table with the store's columns (builder-days per trade, 0 when none), and geometry."""
    columns: dict[str, pd.Series[Any]] = {
        "id": pd.Series([a.id for a in assets], dtype=object),
        "name": pd.Series([a.name for a in assets], dtype=object),
        "asset_type": pd.Series([a.asset_type.value for a in assets], dtype=object),
        "damage": pd.Series([a.damage.value for a in assets], dtype=object),
        "criticality": pd.Series([a.criticality for a in assets], dtype="int64"),
        "people_served": pd.Series([a.people_served for a in assets], dtype="int64"),
        "work_buffer_m": pd.Series([a.work_buffer_m for a in assets], dtype="float64"),
    }
    for trade, column in TRADE_COLUMNS.items():
        columns[column] = pd.Series([float(a.repair_work.get(trade, 0.0)) for a in assets], dtype="float64")
    columns["synthetic"] = pd.Series([a.synthetic for a in assets], dtype="bool")
    return pd.DataFrame(columns), [a.geometry for a in assets]


_HAZARD_TEXT = ("id", "name", "organisation_id")
_ASSET_TEXT = ("id", "name")


def _with_sources(
    frame: pd.DataFrame, ids: Sequence[str], attributes: Mapping[str, SourceAttributes] | None
) -> pd.DataFrame:
    """``frame`` with a ``source_attributes`` column (JSON text; empty for a record without) when any record has
    source attributes; unchanged otherwise."""
    if not attributes or not any(attributes.get(i) for i in ids):
        return frame
    texts = [json.dumps(attributes[i], ensure_ascii=False, sort_keys=True) if attributes.get(i) else None
             for i in ids]
    out = frame.copy()
    out[SOURCE_COLUMN] = pd.Series(texts, dtype=object)
    return out


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _dimensions(geoms: Sequence[BaseGeometry]) -> list[int]:
    return [int(d) for d in shapely.get_dimensions(np.asarray(geoms, dtype=object))] if len(geoms) else []


def write_hazards(
    path: str | Path,
    hazards: Iterable[HazardArea],
    *,
    attributes: Mapping[str, SourceAttributes] | None = None,
    progress: Mapping[str, HazardProgress] | None = None,
    fields: Sequence[str] | None = None,
    styles: bool = True,
    say: Callable[[str], str] = str,
) -> int:
    """Write hazards to ``path`` (GeoPackage layer ``hazard_areas``, GeoJSON, CSV, XLSX, KML/KMZ or a zipped
    Shapefile with :data:`SHORT_NAMES`); returns the count. ``attributes`` (by id) adds the ``source_attributes``
    column; ``progress`` (by id) the ``state``, ``release_phase`` and ``planned_release_date`` columns, which the
    styles colour by (``styles``: GeoPackage ``layer_styles``, the Shapefile's ``.qml``, KML styles). ``fields``
    picks and orders the columns (:func:`sapper.io.exports.pick_fields`); ``say`` puts the styles' titles and legend
    labels in the user's language."""
    items = list(hazards)
    frame, geoms = hazards_frame(items)
    if progress is not None:
        known = [progress.get(h.id) for h in items]
        frame["state"] = pd.Series([p.state if p else None for p in known], dtype=object)
        frame["release_phase"] = pd.Series([p.release_phase if p else None for p in known], dtype=object)
        frame["planned_release_date"] = pd.Series([_iso(p.planned_release_date) if p else None for p in known],
                                                  dtype=object)
        recorded = [p.recorded_area_m2 if p else None for p in known]
        frame["area_m2"] = [a if a is not None else m for a, m in zip(recorded, frame["area_m2"], strict=True)]
    frame = _with_sources(frame, [h.id for h in items], attributes)
    kinds = kinds_of(_dimensions(geoms))
    layer_styles: tuple[LayerStyle, ...] = ()
    if styles and progress is not None:
        layer_styles = (phase_style(kinds).said(say),
                        date_style("planned release date", msg("Hazard areas by planned release date (latest plan)"),
                                   "planned_release_date", (p.planned_release_date for p in progress.values()),
                                   kinds).said(say))
    layer = ExportLayer(frame, geoms, "hazard_areas", _HAZARD_TEXT, SHORT_NAMES, DESCRIPTIONS, layer_styles)
    write_export(path, pick_fields(layer, fields, with_wkt=_is_table(path)))
    return len(items)


def write_assets(
    path: str | Path,
    assets: Iterable[Asset],
    *,
    attributes: Mapping[str, SourceAttributes] | None = None,
    progress: Mapping[str, AssetProgress] | None = None,
    fields: Sequence[str] | None = None,
    styles: bool = True,
    say: Callable[[str], str] = str,
) -> int:
    """Write assets to ``path`` (the formats of :func:`write_hazards`; layer ``assets``); returns the count.
    ``progress`` adds ``planned_restoration_date``, which the styles colour by; ``attributes``, ``fields``:
    ``say``: as for hazards."""
    items = list(assets)
    frame, geoms = assets_frame(items)
    if progress is not None:
        frame["planned_restoration_date"] = pd.Series(
            [_iso(p.planned_restoration_date) if (p := progress.get(a.id)) else None for a in items], dtype=object)
    frame = _with_sources(frame, [a.id for a in items], attributes)
    layer_styles: tuple[LayerStyle, ...] = ()
    if styles and progress is not None:
        layer_styles = (date_style("planned restoration date", msg("Assets by planned restoration date (latest plan)"),
                                   "planned_restoration_date", (p.planned_restoration_date for p in progress.values()),
                                   kinds_of(_dimensions(geoms))).said(say),)
    layer = ExportLayer(frame, geoms, "assets", _ASSET_TEXT, SHORT_NAMES, DESCRIPTIONS, layer_styles)
    write_export(path, pick_fields(layer, fields, with_wkt=_is_table(path)))
    return len(items)


def _is_table(path: str | Path) -> bool:
    return Path(path).name.lower().endswith((".csv", ".xlsx"))
