"""IMSMA exchange: hazard areas, land-release activities and devices found under GICHD Minimum Data Requirements names.

One explicit mapping table per record type (:data:`ORGANISATION_FIELDS`, :data:`HAZARD_FIELDS`,
:data:`ACTIVITY_FIELDS`, :data:`DEVICE_FIELDS`) says which sapper field each column carries, where its name comes
from and which words (:class:`Vocabulary`) it uses. ``docs/imsma.md`` is the same tables for people, with sources and
caveats; a test keeps the two in step.

GICHD's Minimum Data Requirements (MDR) name *data items* ("Type of area (SHA/CHA)", "Status (open, closed, handed
over)", "Implementing Organization", "Operational method"…), not column names, and every IMSMA Core deployment
configures its own fields. The column names here are those items written as snake_case; the vocabularies use the
MDR's and IMSMA's words where they give them and accept sapper's own values and a few common synonyms on reading.

IMSMA links records through comma-separated text fields; so does this exchange. An activity names its hazard area
in ``linked_hazards``, a device found its activity in ``linked_activities``, and the other side lists them back
(``linked_activities`` of a hazard area, ``linked_devices`` of an activity). On reading, both sides are resolved
into sapper's one foreign key: each activity must end up with exactly one hazard area and each device with exactly
one activity, and the two sides must not contradict each other. Either side alone is enough.

Reading never writes: :func:`read_imsma` gives every record it could build, every fault (record, column, reason,
place in the file) and the references to records that are not in the file, for the caller to look up in the store.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceCondition, DeviceFound
from sapper.domain.geometry import area_m2, in_wgs84_range, projection_near
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus, LandUse
from sapper.domain.resources import Method, Organisation, OrgKind
from sapper.domain.text import normalise_key
from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.io.fields import FieldReader, is_missing
from sapper.io.sheets import Format, Kind, RawTable, Table, read_tables, write_tables
from sapper.io.vector import check_geometry

E = TypeVar("E", bound=StrEnum)

# ----------------------------------------------------------------------------------------------------
# Vocabularies
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary(Generic[E]):
    """The words a column uses for a sapper enumeration: one label per member (written on export), and other
    spellings accepted on import (``aliases``; sapper's own values are always accepted)."""

    enum: type[E]
    labels: Mapping[E, str]
    aliases: Mapping[str, E] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [m for m in self.enum if m not in self.labels]
        if missing:
            raise ValueError(f"vocabulary of {self.enum.__name__} has no label for {missing}")
        _ = self._lookup  # built now, so a spelling that names two members fails at import time

    @cached_property
    def _lookup(self) -> dict[str, E]:
        table: dict[str, E] = {}
        for text, member in [*((m.value, m) for m in self.enum), *((v, k) for k, v in self.labels.items()),
                             *self.aliases.items()]:
            if table.setdefault(normalise_key(text), member) is not member:
                raise ValueError(f"{text!r} names two members of {self.enum.__name__}")
        return table

    def label(self, member: E) -> str:
        return self.labels[member]

    def parse(self, text: str) -> E | None:
        """The member ``text`` names (ignoring case, spaces, ``_``, ``-`` and ``/``), or None."""
        return self._lookup.get(normalise_key(text))

    def allowed(self) -> str:
        return ", ".join(self.labels[m] for m in self.enum)


HAZARD_TYPES = Vocabulary(
    HazardClass,
    {HazardClass.SHA: "SHA", HazardClass.CHA: "CHA"},
    {"Suspected hazardous area": HazardClass.SHA, "Confirmed hazardous area": HazardClass.CHA},
)
HAZARD_STATUSES = Vocabulary(
    HazardStatus,
    {HazardStatus.OPEN: "Open", HazardStatus.CLOSED: "Closed", HazardStatus.HANDED_OVER: "Handed over"},
    # IMSMA NG's land status list stores "Active" and shows it as "Open" (IMSMA wiki, "IMSMA and maXML").
    {"Active": HazardStatus.OPEN},
)
EVIDENCE = Vocabulary(Evidence, {Evidence.DIRECT: "Direct", Evidence.INDIRECT: "Indirect"})
DEVICE_CATEGORIES = Vocabulary(
    DeviceCategory,
    {
        DeviceCategory.AP_MINE: "AP mine",
        DeviceCategory.AT_MINE: "AT mine",
        DeviceCategory.ERW_UXO: "ERW/UXO",
        DeviceCategory.ERW_AXO: "ERW/AXO",
        DeviceCategory.SMALL_ARMS: "Small arms ammunition",
        DeviceCategory.CLUSTER: "Cluster submunition",
        DeviceCategory.IED: "IED/booby trap",
        DeviceCategory.UNKNOWN: "Unknown",
    },
    {
        "Anti-personnel mine": DeviceCategory.AP_MINE,
        "Anti-tank mine": DeviceCategory.AT_MINE,
        "ERW": DeviceCategory.ERW_UXO,
        "UXO": DeviceCategory.ERW_UXO,
        "AXO": DeviceCategory.ERW_AXO,  # abandoned ordnance is ERW (CCW Protocol V), kept apart from UXO
        "SAA": DeviceCategory.SMALL_ARMS,
        "Submunition": DeviceCategory.CLUSTER,
        "Cluster munition": DeviceCategory.CLUSTER,
        "IED": DeviceCategory.IED,
        "Booby trap": DeviceCategory.IED,
    },
)
LAND_USES = Vocabulary(
    LandUse,
    {
        LandUse.AGRICULTURAL: "Agricultural",
        LandUse.FOREST: "Forest",
        LandUse.RESIDENTIAL: "Residential",
        LandUse.INFRASTRUCTURE: "Infrastructure",
        LandUse.WETLAND: "Wetland",
        LandUse.OTHER: "Other",
    },
    {"Agriculture": LandUse.AGRICULTURAL},
)
ACTIVITY_TYPES = Vocabulary(
    ActivityType,
    {
        ActivityType.NTS: "Non-technical survey",
        ActivityType.TS: "Technical survey",
        ActivityType.CLEARANCE: "Clearance",
        ActivityType.BAC: "BAC",
        ActivityType.EOD: "EOD spot task",
    },
    {
        "Battle area clearance": ActivityType.BAC,
        "EOD": ActivityType.EOD,
        "Explosive ordnance disposal": ActivityType.EOD,
    },
)
ACTIVITY_STATUSES = Vocabulary(
    ActivityStatus,
    {
        ActivityStatus.PLANNED: "Planned",
        ActivityStatus.ONGOING: "Ongoing",
        ActivityStatus.COMPLETED: "Completed",
        ActivityStatus.SUSPENDED: "Suspended",
    },
)
METHODS = Vocabulary(
    Method,
    {Method.SURVEY: "Survey", Method.MANUAL: "Manual", Method.DOG: "MDD", Method.MECHANICAL: "Mechanical",
     Method.BAC: "BAC/EOD"},
    {"Mine detection dog": Method.DOG, "Battle area clearance": Method.BAC},
)
CONDITIONS = Vocabulary(
    DeviceCondition,
    {
        DeviceCondition.ARMED: "Armed",
        DeviceCondition.UNARMED: "Unarmed",
        DeviceCondition.DAMAGED: "Damaged",
        DeviceCondition.UNKNOWN: "Unknown",
    },
)
ORGANISATION_TYPES = Vocabulary(
    OrgKind,
    {OrgKind.OPERATOR: "Operator", OrgKind.CONTRACTOR: "Contractor", OrgKind.AUTHORITY: "Authority"},
    {"National mine action authority": OrgKind.AUTHORITY, "NMAA": OrgKind.AUTHORITY},
)

# ----------------------------------------------------------------------------------------------------
# Mapping tables
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MdrField:
    """One column of the exchange: its name, what it holds in sapper, its MDR/IMSMA source, its words.

    ``read`` is False for columns sapper writes for people and other systems but computes itself (areas,
    reference points).
    """

    column: str
    kind: Kind
    sapper: str
    source: str
    vocabulary: Vocabulary[Any] | None = None
    required: bool = False
    read: bool = True


MDR = "MDR"
IMSMA_NG = "IMSMA NG"
LINK = "IMSMA link field"
SAPPER = "sapper"
DOMAIN = "DOMAIN.md"

ORGANISATION = "organisation"
HAZARD = "hazard_area"
ACTIVITY = "activity"
DEVICE = "device_found"
#: Record types in the order they are written (and depend on each other).
RECORD_TYPES = (ORGANISATION, HAZARD, ACTIVITY, DEVICE)

ORGANISATION_FIELDS: tuple[MdrField, ...] = (
    MdrField("organisation_id", "text", "Organisation.id", f"{MDR}: Implementing Organization", required=True),
    MdrField("organisation_name", "text", "Organisation.name", MDR, required=True),
    MdrField("organisation_type", "text", "Organisation.kind", SAPPER, ORGANISATION_TYPES, required=True),
)
HAZARD_FIELDS: tuple[MdrField, ...] = (
    MdrField("hazard_id", "text", "HazardArea.id", MDR, required=True),
    MdrField("hazard_name", "text", "HazardArea.name", IMSMA_NG),
    MdrField("type_of_area", "text", "HazardArea.hazard_class", f"{MDR}: Type of area (SHA/CHA)", HAZARD_TYPES,
             required=True),
    MdrField("status", "text", "HazardArea.status", f"{MDR}: Status (open, closed, handed over)", HAZARD_STATUSES),
    MdrField("evidence", "text", "HazardArea.evidence",
             f"{MDR}: Direct Evidence; {IMSMA_NG}: Evidence Of Contamination", EVIDENCE),
    MdrField("device_categories", "text", "HazardArea.device_categories",
             f"{MDR}: Category of devices suspected or confirmed", DEVICE_CATEGORIES),
    MdrField("land_use", "text", "HazardArea.land_use", DOMAIN, LAND_USES),
    MdrField("beneficiaries", "int", "HazardArea.beneficiaries", f"{MDR}: Beneficiaries"),
    MdrField("organisation", "text", "HazardArea.organisation_id", LINK),
    MdrField("linked_activities", "text", "the activities whose hazard area it is", LINK),
    MdrField("area_m2", "float", "area of the perimeter", f"{MDR}: Contamination Area", read=False),
    MdrField("centroid_lat", "float", "centroid of the perimeter", f"{MDR}: Graphic Location/Benchmark", read=False),
    MdrField("centroid_lon", "float", "centroid of the perimeter", f"{MDR}: Graphic Location/Benchmark", read=False),
    MdrField("sapper_expected_clearance_share", "float", "HazardArea.expected_clearance_share", SAPPER),
    MdrField("sapper_synthetic", "bool", "HazardArea.synthetic", SAPPER),
)
ACTIVITY_FIELDS: tuple[MdrField, ...] = (
    MdrField("activity_id", "text", "Activity.id", MDR, required=True),
    MdrField("activity_type", "text", "Activity.activity_type",
             f"{MDR}: Activities (NTS/TS/Clearance/BAC/EOD); {IMSMA_NG} activity classes", ACTIVITY_TYPES,
             required=True),
    MdrField("status", "text", "Activity.status", f"{MDR}: Status of activities", ACTIVITY_STATUSES, required=True),
    MdrField("linked_hazards", "text", "Activity.hazard_id", LINK),
    MdrField("implementing_organisation", "text", "Activity.organisation_id", f"{MDR}: Implementing Organization"),
    MdrField("operational_method", "text", "Activity.method", f"{MDR}: Operational method", METHODS),
    MdrField("start_date", "date", "Activity.start", f"{MDR}: Progress (start date)"),
    MdrField("end_date", "date", "Activity.end", f"{MDR}: Progress (end date)"),
    MdrField("clearance_depth_cm", "float", "Activity.clearance_depth_cm", f"{DOMAIN} (IMAS 09.10)"),
    MdrField("cancelled_area_m2", "float", "area of Activity.cancelled", f"{IMSMA_NG}: Cancelled Area"),
    MdrField("reduced_area_m2", "float", "area of Activity.reduced", f"{IMSMA_NG}: Reduced Area"),
    MdrField("cleared_area_m2", "float", "area of Activity.cleared", f"{IMSMA_NG}: Cleared Area"),
    MdrField("linked_devices", "text", "Activity.devices", LINK),
    MdrField("centroid_lat", "float", "centroid of the land released", f"{MDR}: Graphic Location", read=False),
    MdrField("centroid_lon", "float", "centroid of the land released", f"{MDR}: Graphic Location", read=False),
    MdrField("cancelled_area_wkt", "text", "Activity.cancelled", DOMAIN),
    MdrField("reduced_area_wkt", "text", "Activity.reduced", DOMAIN),
    MdrField("cleared_area_wkt", "text", "Activity.cleared", DOMAIN),
)
DEVICE_FIELDS: tuple[MdrField, ...] = (
    MdrField("device_id", "text", "its place in Activity.devices", SAPPER, required=True),
    MdrField("linked_activities", "text", "the activity that found it", LINK),
    MdrField("device_category", "text", "DeviceFound.category", f"{MDR}: Category of devices", DEVICE_CATEGORIES,
             required=True),
    MdrField("device_type", "text", "DeviceFound.device_type", DOMAIN),
    MdrField("condition", "text", "DeviceFound.condition", DOMAIN, CONDITIONS),
    MdrField("depth_cm", "float", "DeviceFound.depth_cm", DOMAIN),
    MdrField("centroid_lat", "float", "DeviceFound.position (latitude)", DOMAIN),
    MdrField("centroid_lon", "float", "DeviceFound.position (longitude)", DOMAIN),
)
#: Every record type's mapping table.
FIELDS: dict[str, tuple[MdrField, ...]] = {
    ORGANISATION: ORGANISATION_FIELDS,
    HAZARD: HAZARD_FIELDS,
    ACTIVITY: ACTIVITY_FIELDS,
    DEVICE: DEVICE_FIELDS,
}
#: How each record type is named in messages.
_LABEL = {ORGANISATION: "organisation", HAZARD: "hazard area", ACTIVITY: "activity", DEVICE: "device found"}
_OUTCOMES = ("cancelled", "reduced", "cleared")
#: Relative tolerance when comparing a stated area with the geometry's (as the land-release balance: 0.1 %, ≥1 m²).
AREA_TOLERANCE = 1e-3


# ----------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------


def measure(geom: BaseGeometry) -> tuple[float, tuple[float, float] | None]:
    """The area (m²) of ``geom`` and the (lat, lon) of its centroid, both taken in an equal-area projection.

    The projection is the shared one near the data (``sapper.domain.geometry.projection_near``), so a few
    projections serve a whole region: areas are exact in any equal-area projection, and a centroid taken up to a
    degree off the projection's centre differs from one taken at it by well under a millimetre per 100 m of polygon.
    Areas are rounded to 0.01 m², the centroid to 7 decimals (~1 cm).
    """
    if geom.is_empty:
        return 0.0, None
    proj = projection_near(geom)
    local = proj.to_local(geom)
    point = proj.to_wgs84(local.centroid)
    return round(float(local.area), 2), (round(point.y, 7), round(point.x, 7))


def _links(ids: Iterable[str]) -> str:
    return ", ".join(ids)


def device_id(activity_id: str, number: int) -> str:
    """The id a device found gets on export (sapper keeps none): its activity and its 1-based number in it."""
    return f"{activity_id}-D{number}"


def _check_ids(organisations: Sequence[Organisation], hazards: Sequence[HazardArea],
               activities: Sequence[Activity]) -> None:
    faults = []
    for kind, column, ids in ((ORGANISATION, "organisation_id", [o.id for o in organisations]),
                              (HAZARD, "hazard_id", [h.id for h in hazards]),
                              (ACTIVITY, "activity_id", [a.id for a in activities])):
        for rid in ids:
            if "," in rid or rid != rid.strip():
                faults.append(Fault(f"{_LABEL[kind]} {rid!r}", "an id with a comma or surrounding spaces cannot "
                                    "travel in a comma-separated IMSMA link field", column))
    ValidationError.raise_if("IMSMA export", faults)


def _text_columns(fields: Sequence[MdrField]) -> dict[str, Kind]:
    return {f.column: f.kind for f in fields}


def export_tables(
    organisations: Sequence[Organisation], hazards: Sequence[HazardArea], activities: Sequence[Activity]
) -> list[Table]:
    """The four exchange tables of these records, each sorted by id (devices in their activity's order)."""
    _check_ids(organisations, hazards, activities)
    orgs = sorted(organisations, key=lambda o: o.id)
    hazs = sorted(hazards, key=lambda h: h.id)
    acts = sorted(activities, key=lambda a: a.id)
    by_hazard: dict[str, list[str]] = defaultdict(list)
    for a in acts:
        by_hazard[a.hazard_id].append(a.id)

    org_rows = [
        {"organisation_id": o.id, "organisation_name": o.name, "organisation_type": ORGANISATION_TYPES.label(o.kind)}
        for o in orgs
    ]
    hazard_rows = []
    for h in hazs:
        area, point = measure(h.geometry)
        lat, lon = point or (None, None)
        hazard_rows.append({
            "hazard_id": h.id,
            "hazard_name": h.name,
            "type_of_area": HAZARD_TYPES.label(h.hazard_class),
            "status": HAZARD_STATUSES.label(h.status),
            "evidence": EVIDENCE.label(h.evidence),
            "device_categories": _links(DEVICE_CATEGORIES.label(c) for c in DeviceCategory
                                        if c in h.device_categories),
            "land_use": LAND_USES.label(h.land_use),
            "beneficiaries": h.beneficiaries,
            "organisation": h.organisation_id,
            "linked_activities": _links(by_hazard.get(h.id, [])),
            "area_m2": area,
            "centroid_lat": lat,
            "centroid_lon": lon,
            "sapper_expected_clearance_share": h.expected_clearance_share,
            "sapper_synthetic": h.synthetic,
        })
    activity_rows, footprints, device_rows, positions = [], [], [], []
    for a in acts:
        outcomes = {kind: getattr(a, kind) for kind in _OUTCOMES}
        present = [g for g in outcomes.values() if g is not None]
        footprint = shapely.union_all(present) if present else None
        if footprint is not None and footprint.is_empty:
            footprint = None
        lat, lon = (measure(footprint)[1] if footprint is not None else None) or (None, None)
        ids = [device_id(a.id, n) for n in range(1, len(a.devices) + 1)]
        activity_rows.append({
            "activity_id": a.id,
            "activity_type": ACTIVITY_TYPES.label(a.activity_type),
            "status": ACTIVITY_STATUSES.label(a.status),
            "linked_hazards": a.hazard_id,
            "implementing_organisation": a.organisation_id,
            "operational_method": METHODS.label(a.method) if a.method is not None else None,
            "start_date": a.start,
            "end_date": a.end,
            "clearance_depth_cm": a.clearance_depth_cm,
            **{f"{kind}_area_m2": None if g is None else measure(g)[0] for kind, g in outcomes.items()},
            "linked_devices": _links(ids),
            "centroid_lat": lat,
            "centroid_lon": lon,
            **{f"{kind}_area_wkt": None if g is None else str(shapely.to_wkt(g, rounding_precision=-1))
               for kind, g in outcomes.items()},
        })
        footprints.append(footprint)
        for did, d in zip(ids, a.devices, strict=True):
            device_rows.append({
                "device_id": did,
                "linked_activities": a.id,
                "device_category": DEVICE_CATEGORIES.label(d.category),
                "device_type": d.device_type,
                "condition": CONDITIONS.label(d.condition),
                "depth_cm": d.depth_cm,
                "centroid_lat": d.position.y,
                "centroid_lon": d.position.x,
            })
            positions.append(d.position)
    return [
        Table(ORGANISATION, "organisation_id", _text_columns(ORGANISATION_FIELDS), org_rows),
        Table(HAZARD, "hazard_id", _text_columns(HAZARD_FIELDS), hazard_rows, [h.geometry for h in hazs]),
        Table(ACTIVITY, "activity_id", _text_columns(ACTIVITY_FIELDS), activity_rows, footprints, wkt_in_text=False),
        Table(DEVICE, "device_id", _text_columns(DEVICE_FIELDS), device_rows, positions, geometry_type="Point"),
    ]


@dataclass(frozen=True, slots=True)
class ExchangeCounts:
    """Records per type in an exchange file, and its format."""

    format: Format
    organisations: int
    hazards: int
    activities: int
    devices: int

    def describe(self) -> str:
        return (f"{self.organisations} organisations, {self.hazards} hazard areas, {self.activities} activities, "
                f"{self.devices} devices found")


def write_imsma(
    path: str | Path,
    organisations: Sequence[Organisation],
    hazards: Sequence[HazardArea],
    activities: Sequence[Activity],
) -> ExchangeCounts:
    """Write the records to ``path`` (``.xlsx``, ``.gpkg`` or a folder of CSV files); returns what was written.

    Raises ValidationError (naming the records) when an id cannot travel in a link field or a value does not fit
    an XLSX cell; nothing is written then.
    """
    tables = export_tables(organisations, hazards, activities)
    fmt = write_tables(path, tables)
    return ExchangeCounts(fmt, len(organisations), len(hazards), len(activities),
                          sum(len(a.devices) for a in activities))


# ----------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reference:
    """A record named in the file that the file does not hold: the store must (``table`` is the store's)."""

    record: str
    column: str
    table: str
    id: str
    where: str


@dataclass(slots=True)
class ImsmaRead:
    """What an IMSMA exchange file holds, as sapper records, with every fault found; nothing is written.

    ``references`` are records the file names but does not hold; ``notes`` are things worth saying that are not
    faults (geometry repaired, stated areas that differ from the geometry, columns and sheets not used).
    """

    format: Format
    organisations: list[Organisation] = field(default_factory=list)
    hazards: list[HazardArea] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def devices(self) -> int:
        return sum(len(a.devices) for a in self.activities)


@dataclass(slots=True, eq=False)  # rows are told apart by identity: two rows may hold the same cells
class _Row:
    """One row being read: where it is, what it is, and typed access to its cells with faults per column."""

    kind: str
    values: dict[str, Any]
    where: str
    geometry: BaseGeometry | None
    geometry_fault: str | None
    id: str = ""
    faults: list[Fault] = field(default_factory=list)

    @property
    def record(self) -> str:
        return f"{_LABEL[self.kind]} {self.id}" if self.id else f"{_LABEL[self.kind]} ({self.where})"

    def fault(self, reason: str, column: str | None) -> None:
        self.faults.append(Fault(self.record, f"{reason} ({self.where})", column))

    def _typed(self, column: str, read: Callable[[FieldReader], Any]) -> Any:
        reader = FieldReader(self.values)
        value = read(reader)
        for reason in reader.faults:
            self.fault(reason, column)
        return value

    def text(self, column: str) -> str:
        return str(self._typed(column, lambda r: r.text(column)))

    def opt_text(self, column: str) -> str | None:
        value = self._typed(column, lambda r: r.opt_text(column))
        return None if value is None else str(value)

    def integer(self, column: str, default: int) -> int:
        return int(self._typed(column, lambda r: r.integer(column, default)))

    def number(self, column: str) -> float | None:
        value = self._typed(column, lambda r: r.number(column))
        return None if value is None else float(value)

    def boolean(self, column: str) -> bool:
        return bool(self._typed(column, lambda r: r.boolean(column)))

    def word(self, column: str, vocabulary: Vocabulary[E], *, required: bool = False) -> E | None:
        text = self.text(column)
        if not text:
            if required:
                self.fault(f"{column} is empty (one of {vocabulary.allowed()})", column)
            return None
        member = vocabulary.parse(text)
        if member is None:
            self.fault(f"{text!r} is not one of {vocabulary.allowed()}", column)
        return member

    def words(self, column: str, vocabulary: Vocabulary[E]) -> frozenset[E]:
        members = set()
        for part in re.split(r"[,;]", self.text(column)):
            if part.strip():
                member = vocabulary.parse(part)
                if member is None:
                    self.fault(f"{part.strip()!r} is not one of {vocabulary.allowed()}", column)
                else:
                    members.add(member)
        return frozenset(members)

    def links(self, column: str) -> list[str]:
        """The ids of a comma-separated link field, in order, each once."""
        return list(dict.fromkeys(p.strip() for p in self.text(column).split(",") if p.strip()))

    def date(self, column: str) -> dt.date | None:
        value = self.values.get(column)
        if is_missing(value):
            return None
        if isinstance(value, dt.datetime):
            if value.time() != dt.time(0):
                self.fault(f"{column} must be a date without a time of day, got {value.isoformat()}", column)
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            stamp = dt.datetime.fromisoformat(text)
            if stamp.time() == dt.time(0) and stamp.tzinfo is None:
                return stamp.date()
        except ValueError:
            pass
        self.fault(f"{column} must be a date as YYYY-MM-DD, got {text!r}", column)
        return None


def _domain_faults(row: _Row, exc: ValidationError, columns: Mapping[str, str]) -> None:
    for f in exc.faults:
        row.fault(f.reason, columns.get(f.field or "", f.field))


def _polygonal(row: _Row, geom: BaseGeometry | None, fault: str | None, column: str,
               notes: list[str], *, allow_empty: bool) -> BaseGeometry | None:
    """A usable polygonal WGS84 geometry, or None with a fault; invalid polygons are repaired and noted."""
    if geom is not None and geom.is_empty and allow_empty and fault is None:
        return geom
    usable, repaired, rejected = check_geometry(geom, fault, polygonal=True)
    if rejected is not None:
        row.fault(rejected, column)
        return None
    assert usable is not None
    if not isinstance(usable, Polygon | MultiPolygon):
        row.fault(f"must be a polygon or multipolygon, got {usable.geom_type}", column)
        return None
    if not in_wgs84_range(usable):
        row.fault("coordinates are not WGS84 longitude/latitude", column)
        return None
    if repaired is not None:
        notes.append(f"repaired {row.record} {column}: {repaired}")
    return usable


def _rows(raw: RawTable, kind: str) -> list[_Row]:
    rows = []
    for values, where, geom, fault, cells in zip(raw.rows, raw.where, raw.geometries, raw.geometry_faults,
                                                 raw.cell_faults, strict=True):
        row = _Row(kind, values, where, geom, fault)
        row.id = FieldReader(values).text(FIELDS[kind][0].column)
        for column, reason in cells:
            row.fault(reason, column or None)
        rows.append(row)
    return rows


def _unique(rows: list[_Row], column: str) -> list[_Row]:
    """The rows with an id that no earlier row has; the others get a fault."""
    first: dict[str, str] = {}
    out = []
    for row in rows:
        if not row.id:
            row.fault(f"{column} is empty", column)
        elif row.id in first:
            row.fault(f"{column} {row.id} appears earlier ({first[row.id]})", column)
        else:
            first[row.id] = row.where
            out.append(row)
    return out


def _organisation(row: _Row) -> Organisation | None:
    name = row.text("organisation_name")
    kind = row.word("organisation_type", ORGANISATION_TYPES, required=True)
    if not name:
        row.fault("organisation_name is empty", "organisation_name")
    if row.faults or kind is None:
        return None
    try:
        return Organisation(row.id, name, kind)
    except ValidationError as exc:
        _domain_faults(row, exc, {"name": "organisation_name", "id": "organisation_id"})
        return None


_HAZARD_COLUMNS = {"id": "hazard_id", "geometry": "geometry", "evidence": "evidence", "share":
                   "sapper_expected_clearance_share", "beneficiaries": "beneficiaries"}


#: A valid polygon standing in for a bad or missing perimeter, so that the domain's other rules are still checked
#: (and their faults reported) for a row whose geometry is at fault; a record built on it is never kept.
_STAND_IN = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])


def _hazard(row: _Row, notes: list[str], geometry_column: str) -> HazardArea | None:
    hazard_class = row.word("type_of_area", HAZARD_TYPES, required=True)
    values: dict[str, Any] = {
        "name": row.text("hazard_name"),
        "status": row.word("status", HAZARD_STATUSES) or HazardStatus.OPEN,
        "device_categories": row.words("device_categories", DEVICE_CATEGORIES),
        "land_use": row.word("land_use", LAND_USES) or LandUse.OTHER,
        "beneficiaries": row.integer("beneficiaries", 0),
        "organisation_id": row.opt_text("organisation"),
        "expected_clearance_share": row.number("sapper_expected_clearance_share"),
        "synthetic": row.boolean("sapper_synthetic"),
    }
    evidence = row.word("evidence", EVIDENCE)
    geom = _polygonal(row, row.geometry, row.geometry_fault, geometry_column, notes, allow_empty=False)
    if values["organisation_id"] is not None and "," in values["organisation_id"]:
        row.fault("names more than one organisation; sapper keeps one per hazard area", "organisation")
    if hazard_class is None:
        return None
    if evidence is None:  # IMAS 08.10: a CHA is defined by direct evidence, an SHA by indirect
        evidence = Evidence.DIRECT if hazard_class is HazardClass.CHA else Evidence.INDIRECT
    try:
        hazard = HazardArea(id=row.id or "?", hazard_class=hazard_class, geometry=geom or _STAND_IN,
                            evidence=evidence, **values)
    except ValidationError as exc:
        _domain_faults(row, exc, {**_HAZARD_COLUMNS, "geometry": geometry_column})
        return None
    return None if row.faults or geom is None else hazard


@dataclass(slots=True)
class _ActivityParts:
    """An activity's own cells, read; its hazard and devices are resolved afterwards."""

    row: _Row
    values: dict[str, Any]


def _outcome(row: _Row, kind: str, notes: list[str]) -> BaseGeometry | None:
    column = f"{kind}_area_wkt"
    area_column = f"{kind}_area_m2"
    stated = row.number(area_column)
    text = row.values.get(column)
    if is_missing(text):
        if stated:
            row.fault(f"{area_column} is {stated:g} m² but {column} is empty: sapper keeps released land as "
                      "geometry", column)
        return None
    try:
        geom: BaseGeometry | None = shapely.force_2d(shapely.from_wkt(str(text).strip(), on_invalid="raise"))
        fault = None
    except (shapely.errors.ShapelyError, TypeError) as exc:
        geom, fault = None, f"{column} is not readable WKT ({str(exc).splitlines()[0]})"
    usable = _polygonal(row, geom, fault, column, notes, allow_empty=True)
    if usable is not None and stated is not None:
        computed = area_m2(usable)
        if abs(computed - stated) > max(1.0, AREA_TOLERANCE * computed):
            notes.append(f"{row.record}: {area_column} says {stated:,.2f} m² but {column} measures "
                         f"{computed:,.2f} m²; sapper keeps the geometry ({row.where})")
    return usable


def _activity_parts(row: _Row, notes: list[str]) -> _ActivityParts:
    values: dict[str, Any] = {
        "activity_type": row.word("activity_type", ACTIVITY_TYPES, required=True),
        "status": row.word("status", ACTIVITY_STATUSES, required=True),
        "organisation_id": row.opt_text("implementing_organisation"),
        "method": row.word("operational_method", METHODS),
        "start": row.date("start_date"),
        "end": row.date("end_date"),
        "clearance_depth_cm": row.number("clearance_depth_cm"),
        **{kind: _outcome(row, kind, notes) for kind in _OUTCOMES},
    }
    org = values["organisation_id"]
    if org is not None and "," in org:
        row.fault("names more than one organisation; sapper keeps one per activity", "implementing_organisation")
    return _ActivityParts(row, values)


def _activity(part: _ActivityParts, hazard_id: str | None, devices: Sequence[DeviceFound]) -> Activity | None:
    """The activity, or None with its faults; the domain's rules are checked even when a cell was at fault."""
    row, values = part.row, part.values
    if values["activity_type"] is None:
        return None
    # A bad status or an unresolved hazard stands in as "planned" / "?" so the other rules are still checked.
    stand_ins = {"status": values["status"] or ActivityStatus.PLANNED}
    try:
        activity = Activity(id=row.id or "?", hazard_id=hazard_id or "?", devices=tuple(devices),
                            **{**values, **stand_ins})
    except ValidationError as exc:
        _domain_faults(row, exc, _ACTIVITY_COLUMNS)
        return None
    return None if row.faults or hazard_id is None or values["status"] is None else activity


_ACTIVITY_COLUMNS = {"id": "activity_id", "end": "end_date", "reduced": "reduced_area_wkt",
                     "cleared": "cleared_area_wkt", "clearance_depth_cm": "clearance_depth_cm"}


def _device(row: _Row) -> DeviceFound | None:
    category = row.word("device_category", DEVICE_CATEGORIES, required=True)
    values: dict[str, Any] = {
        "device_type": row.text("device_type"),
        "condition": row.word("condition", CONDITIONS) or DeviceCondition.UNKNOWN,
        "depth_cm": row.number("depth_cm"),
    }
    position = row.geometry
    column = "geometry"
    if row.geometry_fault is not None:
        row.fault(row.geometry_fault, column)
    elif position is None:
        lat, lon = row.number("centroid_lat"), row.number("centroid_lon")
        if lat is None or lon is None:
            row.fault("has no position: give wkt (POINT) or centroid_lat and centroid_lon", column)
        else:
            position = Point(lon, lat)
    if position is not None and not isinstance(position, Point):
        row.fault(f"position must be a point, got {position.geom_type}", column)
    elif position is not None and not position.is_empty and not in_wgs84_range(position):
        row.fault("coordinates are not WGS84 longitude/latitude", column)
    if row.faults or category is None or not isinstance(position, Point):
        return None
    try:
        return DeviceFound(position=position, category=category, **values)
    except ValidationError as exc:
        _domain_faults(row, exc, {"depth_cm": "depth_cm", "position": column})
        return None


def _resolve_links(
    children: Sequence[_Row],
    forward: str,
    parents: Sequence[_Row],
    reverse: str,
    *,
    parent: str,
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each child's one parent, from the child's ``forward`` link field and the parents' ``reverse`` listings.

    Returns (child id → parent id, parent id → the ids its listing names that are not children in the file).
    Faults go to the rows: a child with no parent or more than one, and listings that contradict the children.
    """
    claimed: dict[str, list[str]] = defaultdict(list)  # child id → parents whose listing names it
    child_ids = {c.id for c in children}
    strangers: dict[str, list[str]] = {}
    for row in parents:
        outside = []
        for cid in row.links(reverse):
            if cid in child_ids:
                claimed[cid].append(row.id)
            else:
                outside.append(cid)
        if outside:
            strangers[row.id] = outside
    resolved: dict[str, str] = {}
    for child in children:
        own = child.links(forward)
        found = list(dict.fromkeys([*own, *claimed.get(child.id, [])]))
        if len(found) == 1:
            resolved[child.id] = found[0]
        elif not found:
            child.fault(f"is linked to no {parent}: fill {forward}", forward)
        else:
            listed = [p for p in claimed.get(child.id, []) if p not in own]
            how = f" ({forward} names {', '.join(own) or 'none'}; listed by {', '.join(listed)})" if listed else ""
            child.fault(f"is linked to {len(found)} {parent}s ({', '.join(found)}){how}; sapper links it to "
                        "exactly one", forward)
    return resolved, strangers


def _required_columns(raw: RawTable, path: Path) -> None:
    if not raw.rows:
        return
    required = [f.column for f in FIELDS[raw.name] if f.required]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise ImportFileError(f"{path}: {raw.name} lacks the column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} (found: {', '.join(raw.columns) or 'none'})")


def read_imsma(path: str | Path) -> ImsmaRead:
    """Read an IMSMA exchange file (``.xlsx``, ``.gpkg`` or a folder of CSV files) into sapper records.

    Every row is checked; every fault is collected with its record id, column and place in the file. Records
    the file names but does not hold are listed in ``references``. Raises ImportFileError when the file cannot
    be used at all (unreadable, no record type in it, a required column missing).
    """
    p = Path(path)
    raw = read_tables(p, RECORD_TYPES)
    if not raw.tables:
        raise ImportFileError(f"{p}: holds none of the IMSMA record types ({', '.join(RECORD_TYPES)})")
    for table in raw.tables.values():
        _required_columns(table, p)
    out = ImsmaRead(raw.format)
    if raw.unused:
        out.notes.append(f"not used: {', '.join(raw.unused)}")
    for name, table in raw.tables.items():
        known = {f.column for f in FIELDS[name]}
        unused = [c for c in table.columns if c not in known]
        if unused:
            out.notes.append(f"{name}: columns not used: {', '.join(unused)}")
    geometry_column = "geometry" if raw.format == "gpkg" else "wkt"
    empty = RawTable("", [], [], [], [], [], [])
    every = {kind: _rows(raw.tables.get(kind, empty), kind) for kind in RECORD_TYPES}
    rows = {kind: _unique(every[kind], FIELDS[kind][0].column) for kind in RECORD_TYPES}

    # Every row is checked, also those whose id is empty or repeated; records are kept only from the others.
    first = {id(r) for kind in RECORD_TYPES for r in rows[kind]}
    orgs = [(r, _organisation(r)) for r in every[ORGANISATION]]
    hazards = [(r, _hazard(r, out.notes, geometry_column)) for r in every[HAZARD]]
    parts = [_activity_parts(r, out.notes) for r in every[ACTIVITY]]
    devices = {id(r): d for r in every[DEVICE] if (d := _device(r)) is not None}

    hazard_of, listed_activities = _resolve_links(rows[ACTIVITY], "linked_hazards", rows[HAZARD], "linked_activities",
                                                 parent=_LABEL[HAZARD])
    activity_of, listed_devices = _resolve_links(rows[DEVICE], "linked_activities", rows[ACTIVITY], "linked_devices",
                                                parent=_LABEL[ACTIVITY])
    by_id = {kind: {r.id: r for r in rows[kind]} for kind in RECORD_TYPES}
    for hid, aids in listed_activities.items():
        row = by_id[HAZARD][hid]
        out.references += [Reference(row.record, "linked_activities", "activities", aid, row.where) for aid in aids]
    for aid, dids in listed_devices.items():
        row = by_id[ACTIVITY][aid]
        row.fault(f"linked_devices names {', '.join(dids)}, not devices found in this file", "linked_devices")
    for did, aid in activity_of.items():
        if aid not in by_id[ACTIVITY]:
            row = by_id[DEVICE][did]
            row.fault(f"activity {aid} is not in this file; sapper imports devices found with their activity",
                      "linked_activities")
    devices_of: dict[str, list[DeviceFound]] = defaultdict(list)
    for row in rows[DEVICE]:
        if id(row) in devices and row.id in activity_of:
            devices_of[activity_of[row.id]].append(devices[id(row)])

    for row in rows[HAZARD]:
        if (org := row.opt_text("organisation")) and org not in by_id[ORGANISATION]:
            out.references.append(Reference(row.record, "organisation", "organisations", org, row.where))
    for part in parts:
        row = part.row
        if (org := part.values["organisation_id"]) and org not in by_id[ORGANISATION]:
            out.references.append(Reference(row.record, "implementing_organisation", "organisations", org, row.where))
        kept = id(row) in first
        hazard_id = hazard_of.get(row.id) if kept else None
        if hazard_id is not None and hazard_id not in by_id[HAZARD]:
            out.references.append(Reference(row.record, "linked_hazards", "hazard_areas", hazard_id, row.where))
        activity = _activity(part, hazard_id, devices_of.get(row.id, []) if kept else [])
        if activity is not None and kept:
            out.activities.append(activity)
    out.organisations = [o for r, o in orgs if o is not None and id(r) in first and not r.faults]
    out.hazards = [h for r, h in hazards if h is not None and id(r) in first and not r.faults]
    out.faults = [f for kind in RECORD_TYPES for row in every[kind] for f in row.faults]
    return out

