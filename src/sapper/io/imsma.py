"""IMSMA Core exchange: organisations, hazard areas, land-release activities and devices found, as Core loads them.

IMSMA Core (GICHD's ArcGIS-based IMSMA) keeps each record type in a feature class or table whose every record has
an ``imsma_id`` (the type and a number: ``hazard_poly_145``, ``organization_2``) and one ``imsma_links`` text field
listing the ``imsma_id`` of every record it is linked to, in any layer (GICHD, "Linked Data/Linking Design for IMSMA
Core"). Child records collected with a parent (devices found during an activity) are a related table joined on the
parent's row id, as Survey123 repeats are: the parent's ``globalid`` in the child's ``parentglobalid``. Choice
fields carry the domain's value *names*, which are case-sensitive. An Excel load becomes points through X/Y columns,
so polygons travel in the GeoPackage.

One explicit mapping table per record type (:data:`ORGANISATION_FIELDS`, :data:`HAZARD_FIELDS`,
:data:`ACTIVITY_FIELDS`, :data:`DEVICE_FIELDS`) says which sapper field each column carries, where its name comes
from (which GICHD Minimum Data Requirements (MDR) item, IMSMA Core's linking design, or sapper's own) and which value
names (:class:`Vocabulary`) it uses. ``docs/imsma.md`` is the same tables for people; a test keeps the two in step.
A programme whose IMSMA Core domains use other value names gives them in an import profile (``[values.<column>]``,
``--value "column:IMSMA NAME=sapper name"``): read through it on import, and written back through it on export.

Reading never writes: :func:`read_imsma` gives every record it could build, every fault (record, column, reason,
place in the file), the values it did not know (kept where sapper has a place for them, else faults), and the
links it resolved against the records the store already holds (given by the caller as :class:`KnownRecords`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
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
from sapper.domain.geometry import area_m2, in_wgs84_range, projection_near
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
from sapper.domain.resources import Method, Organisation, OrgKind
from sapper.domain.text import normalise_key
from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.io.fields import FORMULA_START, FieldReader, is_missing
from sapper.io.profile import ImportProfile
from sapper.io.sheets import Format, Kind, RawTable, Table, read_tables, write_tables
from sapper.io.vector import check_geometry
from sapper.messages import Joined, msg

E = TypeVar("E", bound=StrEnum)

# ----------------------------------------------------------------------------------------------------
# Value names (IMSMA Core domains)
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary(Generic[E]):
    """The value names a choice column uses for a sapper enumeration: one name per member (written on export,
    exactly, case and all), and other spellings accepted on import (``aliases``; sapper's own values and the names
    in any case are always accepted). ``fallback`` is the member an unknown value is kept as, when there is one
    (``Unknown``, ``Other``); without it an unknown value is a fault."""

    enum: type[E]
    labels: Mapping[E, str]
    aliases: Mapping[str, E] = field(default_factory=dict)
    fallback: E | None = None

    def __post_init__(self) -> None:
        missing = [m for m in self.enum if m not in self.labels]
        if missing:
            raise ValueError(f"vocabulary of {self.enum.__name__} has no name for {missing}")
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
    DeviceCategory.UNKNOWN,
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
    LandUse.OTHER,
)
ACTIVITY_TYPES = Vocabulary(
    ActivityType,
    {
        ActivityType.NTS: "NTS",
        ActivityType.TS: "TS",
        ActivityType.CLEARANCE: "Clearance",
        ActivityType.BAC: "BAC",
        ActivityType.EOD: "EOD",
    },
    {
        "Non-technical survey": ActivityType.NTS,
        "Technical survey": ActivityType.TS,
        "Battle area clearance": ActivityType.BAC,
        "EOD spot task": ActivityType.EOD,
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
    fallback=DeviceCondition.UNKNOWN,
)
DISPOSALS = Vocabulary(
    Disposal,
    {Disposal.DESTROYED_IN_PLACE: "Destroyed in place", Disposal.MOVED: "Moved and destroyed",
     Disposal.HANDED_OVER: "Handed over"},
    {"Destroyed": Disposal.DESTROYED_IN_PLACE, "Moved": Disposal.MOVED},
)
MARKINGS = Vocabulary(
    Marking,
    {Marking.UNKNOWN: "Unknown", Marking.NONE: "None", Marking.TEMPORARY: "Temporary",
     Marking.PERMANENT: "Permanent", Marking.FENCED: "Fenced"},
    fallback=Marking.UNKNOWN,
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
    """One column of the exchange: its name, what it holds in sapper, its source, its value names.

    ``source`` says where the column comes from: an MDR item (``MDR …: <item>``, with the MDR page), IMSMA Core's
    own fields, or sapper's. ``read`` is False for columns sapper writes for people and other systems but computes
    itself (areas, reference points, the land-release history).
    """

    column: str
    kind: Kind
    sapper: str
    source: str
    vocabulary: Vocabulary[Any] | None = None
    required: bool = False
    read: bool = True


MDR_MINE = "MDR Mine.rst"
MDR_ACTIVITIES = "MDR Activities.rst"
MDR_LR = "MDR LR.rst"
MDR_COMMON = "MDR Common_requirements.rst"
CORE = "IMSMA Core"
IMSMA_NG = "IMSMA NG"
SAPPER = "sapper"
DOMAIN = "DOMAIN.md"

ORGANISATION = "organisation"
HAZARD = "hazard_area"
ACTIVITY = "activity"
DEVICE = "device_found"
#: Record types in the order they are written (and depend on each other).
RECORD_TYPES = (ORGANISATION, HAZARD, ACTIVITY, DEVICE)

_ID = MdrField("imsma_id", "text", "the record's IMSMA id (kept; else the store's, made from the row)",
               f"{CORE}: imsma_id")
_LINKS = MdrField("imsma_links", "text", "links to records in any layer (resolved; others kept)",
                  f"{CORE}: imsma_links")
_X = "x"
_Y = "y"

ORGANISATION_FIELDS: tuple[MdrField, ...] = (
    _ID,
    MdrField("organisation_id", "text", "Organisation.id", SAPPER),
    MdrField("organisation_name", "text", "Organisation.name", f"{MDR_ACTIVITIES}: Implementing Organization",
             required=True),
    MdrField("organisation_type", "text", "Organisation.kind", SAPPER, ORGANISATION_TYPES, required=True),
    MdrField("imsma_links", "text", "(written empty: the other records link to it)", f"{CORE}: imsma_links",
             read=False),
)
HAZARD_FIELDS: tuple[MdrField, ...] = (
    _ID,
    _LINKS,
    MdrField("hazard_id", "text", "HazardArea.id", SAPPER),
    MdrField("hazard_name", "text", "HazardArea.name", IMSMA_NG),
    MdrField("type_of_area", "text", "HazardArea.hazard_class", f"{MDR_MINE}: Type of area (SHA/CHA)", HAZARD_TYPES,
             required=True),
    MdrField("status", "text", "HazardArea.status", f"{MDR_MINE}: Status (open, closed, handed over)",
             HAZARD_STATUSES),
    MdrField("evidence", "text", "HazardArea.evidence", f"{MDR_MINE}: Direct Evidence", EVIDENCE),
    MdrField("device_categories", "text", "HazardArea.device_categories",
             f"{MDR_MINE}: Direct Evidence (category of devices suspected or confirmed)", DEVICE_CATEGORIES),
    MdrField("land_use", "text", "HazardArea.land_use", DOMAIN, LAND_USES),
    MdrField("beneficiaries", "int", "HazardArea.beneficiaries", f"{MDR_MINE}: Beneficiaries"),
    *(MdrField(f"beneficiaries_{g}", "int", f"HazardArea.beneficiaries_sadd.{g}",
               f"{MDR_COMMON}: Beneficiaries of land release SADD") for g in BENEFICIARY_GROUPS),
    MdrField("clearance_depth_cm", "float", "HazardArea.clearance_depth_cm", f"{SAPPER} (IMAS 09.10)"),
    MdrField("marking", "text", "HazardArea.marking", f"{SAPPER} (IMAS 08.40)", MARKINGS),
    MdrField(_X, "float", "HazardArea.benchmark (longitude)", f"{MDR_MINE}: Graphic Location/Benchmark"),
    MdrField(_Y, "float", "HazardArea.benchmark (latitude)", f"{MDR_MINE}: Graphic Location/Benchmark"),
    MdrField("turning_points_wkt", "text", "HazardArea.turning_points", f"{SAPPER} (IMAS 08.30)"),
    MdrField("area_m2", "float", "area of the perimeter", f"{MDR_MINE}: Contamination Area", read=False),
    MdrField("inspection_date", "date", "the last post-clearance inspection (land-release history)",
             f"{SAPPER} (IMAS 09.20)", read=False),
    MdrField("inspection_result", "text", "its result: Passed or Failed", f"{SAPPER} (IMAS 09.20)", read=False),
    MdrField("accepted_by", "text", "the authority that accepted the land as released (land-release history)",
             f"{SAPPER} (IMAS 07.11)", read=False),
    MdrField("acceptance_date", "date", "the day it did", f"{SAPPER} (IMAS 07.11)", read=False),
    MdrField("sapper_expected_clearance_share", "float", "HazardArea.expected_clearance_share", SAPPER),
    MdrField("sapper_synthetic", "bool", "HazardArea.synthetic", SAPPER),
)
ACTIVITY_FIELDS: tuple[MdrField, ...] = (
    _ID,
    _LINKS,
    MdrField("globalid", "text", "the parent row id its devices name in parentglobalid", f"{CORE} (Survey123)"),
    MdrField("activity_id", "text", "Activity.id", SAPPER),
    MdrField("activity_type", "text", "Activity.activity_type", f"{MDR_ACTIVITIES}: Activities (NTS/TS/Clearance/"
             "BAC/EOD)", ACTIVITY_TYPES, required=True),
    MdrField("status", "text", "Activity.status", f"{MDR_ACTIVITIES}: Progress (status of activities)",
             ACTIVITY_STATUSES, required=True),
    MdrField("operational_method", "text", "Activity.method", f"{MDR_ACTIVITIES}: Operational method", METHODS),
    MdrField("start_date", "date", "Activity.start", f"{MDR_ACTIVITIES}: Progress (start date)"),
    MdrField("end_date", "date", "Activity.end", f"{MDR_ACTIVITIES}: Progress (end date)"),
    MdrField("clearance_depth_cm", "float", "Activity.clearance_depth_cm",
             f"{MDR_LR}: Device (depth to which an area is cleared)"),
    MdrField("direct_evidence", "text", "Activity.direct_evidence",
             f"{MDR_MINE}: Type and location of direct evidence found"),
    MdrField("cancelled_area_m2", "float", "area of Activity.cancelled", f"{IMSMA_NG}: Cancelled Area"),
    MdrField("reduced_area_m2", "float", "area of Activity.reduced", f"{IMSMA_NG}: Reduced Area"),
    MdrField("cleared_area_m2", "float", "area of Activity.cleared", f"{IMSMA_NG}: Cleared Area"),
    MdrField(_X, "float", "reference point (longitude)", f"{MDR_ACTIVITIES}: Graphic Location", read=False),
    MdrField(_Y, "float", "reference point (latitude)", f"{MDR_ACTIVITIES}: Graphic Location", read=False),
    MdrField("benchmark_x", "float", "Activity.benchmark (longitude)", f"{MDR_LR}: Graphic Location (benchmark)"),
    MdrField("benchmark_y", "float", "Activity.benchmark (latitude)", f"{MDR_LR}: Graphic Location (benchmark)"),
    MdrField("cancelled_area_wkt", "text", "Activity.cancelled", f"{MDR_LR}: Graphic Location (perimeter)"),
    MdrField("reduced_area_wkt", "text", "Activity.reduced", f"{MDR_LR}: Graphic Location (perimeter)"),
    MdrField("cleared_area_wkt", "text", "Activity.cleared", f"{MDR_LR}: Graphic Location (perimeter)"),
)
DEVICE_FIELDS: tuple[MdrField, ...] = (
    _ID,
    _LINKS,
    MdrField("globalid", "text", "the device's own row id (made from its IMSMA id)", f"{CORE} (Survey123)",
             read=False),
    MdrField("parentglobalid", "text", "the globalid of the activity that found it", f"{CORE} (Survey123)"),
    MdrField("device_category", "text", "DeviceFound.category", f"{MDR_LR}: Device (category of devices found and "
             "destroyed)", DEVICE_CATEGORIES, required=True),
    MdrField("device_type", "text", "DeviceFound.device_type", f"{MDR_LR}: Device (model of devices found)"),
    MdrField("condition", "text", "DeviceFound.condition", f"{MDR_LR}: Device (condition of devices found)",
             CONDITIONS),
    MdrField("depth_cm", "float", "DeviceFound.depth_cm", f"{MDR_LR}: Device (depth at which devices have been "
             "found)"),
    MdrField("quantity", "int", "DeviceFound.quantity", SAPPER),
    MdrField("fuze", "text", "DeviceFound.fuze", SAPPER),
    MdrField("disposal", "text", "DeviceFound.disposal", f"{SAPPER} (IMAS 09.30)", DISPOSALS),
    MdrField("disposal_date", "date", "DeviceFound.disposal_date", f"{SAPPER} (IMAS 09.30)"),
    MdrField("found_and_destroyed", "bool", "DeviceFound.destroyed (destroyed in place, or moved and destroyed)",
             f"{MDR_LR}: Device (devices found and destroyed)", read=False),
    MdrField(_X, "float", "DeviceFound.position (longitude)", f"{MDR_LR}: Device (coordinates of all devices found)"),
    MdrField(_Y, "float", "DeviceFound.position (latitude)", f"{MDR_LR}: Device (coordinates of all devices found)"),
)
#: Hazard columns written from the land-release history (export only: the history does not travel).
HISTORY_COLUMNS = ("inspection_date", "inspection_result", "accepted_by", "acceptance_date")
#: Every record type's mapping table.
FIELDS: dict[str, tuple[MdrField, ...]] = {
    ORGANISATION: ORGANISATION_FIELDS,
    HAZARD: HAZARD_FIELDS,
    ACTIVITY: ACTIVITY_FIELDS,
    DEVICE: DEVICE_FIELDS,
}
#: The column holding sapper's own id, per record type (devices have none: their IMSMA id is their id).
ID_COLUMN = {ORGANISATION: "organisation_id", HAZARD: "hazard_id", ACTIVITY: "activity_id", DEVICE: "imsma_id"}
#: How each record type is named in messages.
_LABEL = {ORGANISATION: "organisation", HAZARD: "hazard area", ACTIVITY: "activity", DEVICE: "device found"}
_OUTCOMES = ("cancelled", "reduced", "cleared")
#: Relative tolerance when comparing a stated area with the geometry's (as the land-release balance: 0.1 %, ≥1 m²).
AREA_TOLERANCE = 1e-3
#: Namespace of the row ids (``globalid``) this exchange writes: a UUID made from the record's IMSMA id, so the
#: same record has the same row id in every export.
_GLOBALID_NAMESPACE = uuid.UUID("6f1c1a52-3f1e-5a8e-9b7d-3c2a5f0e9d41")


def globalid(imsma_id: str) -> str:
    """The row id written for a record: ArcGIS's braced upper-case GUID, made from its IMSMA id (stable)."""
    return "{" + str(uuid.uuid5(_GLOBALID_NAMESPACE, imsma_id)).upper() + "}"


# ----------------------------------------------------------------------------------------------------
# The programme's value names
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueNames:
    """A programme's IMSMA Core value names, from an import profile's value map (``[values.<column>]``: the
    programme's name → sapper's value or name). Read through it on import; written back through it on export."""

    profile: ImportProfile = field(default_factory=ImportProfile)

    def read(self, column: str, text: str) -> str:
        return str(self.profile.translate(column, text))

    def write(self, column: str, vocabulary: Vocabulary[E], member: E) -> str:
        """The name written for ``member``: the programme's (the first that maps to it), else the default."""
        for source, target in (self.profile.values.get(column) or {}).items():
            if vocabulary.parse(str(target)) is member:
                return str(source)
        return vocabulary.label(member)

    def faults(self) -> list[Fault]:
        """Value-map entries that name no column with value names or map to no value of it."""
        known = {f.column: f.vocabulary for fields in FIELDS.values() for f in fields if f.vocabulary is not None}
        out = []
        for column, table in self.profile.values.items():
            vocabulary = known.get(column)
            if vocabulary is None:
                out.append(Fault(msg("value map"), msg("{column} is not an IMSMA column with value names (those "
                                                       "are: {value})", column=column,
                                                       value=", ".join(sorted(known))), column))
                continue
            out += [Fault(msg("value map"), msg("{source!r} maps to {target!r}, which is not one of {value}",
                                           source=source, target=target, value=vocabulary.allowed()),
                          column) for source, target in table.items() if vocabulary.parse(str(target)) is None]
        return out


# ----------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------


def measure(geom: BaseGeometry) -> tuple[float, tuple[float, float] | None]:
    """The area (m²) of ``geom`` and the (lat, lon) of a reference point inside it, both taken in an equal-area
    projection (the shared one near the data, ``sapper.domain.geometry.projection_near``).

    The reference point is the centroid when it lies in the geometry, else a point inside it (a ring or an L-shape
    has its centroid outside). Areas are rounded to 0.01 m², the point to 7 decimals (~1 cm).
    """
    if geom.is_empty:
        return 0.0, None
    proj = projection_near(geom)
    local = proj.to_local(geom)
    inside = local.centroid if local.centroid.within(local) else local.representative_point()
    point = proj.to_wgs84(inside)
    return round(float(local.area), 2), (round(point.y, 7), round(point.x, 7))


@dataclass(frozen=True, slots=True)
class ReleaseFacts:
    """What the land-release history says of an area that IMSMA Core keeps with it: the last inspection and the
    acceptance (export only)."""

    inspection_date: dt.date | None = None
    inspection_passed: bool | None = None
    accepted_by: str = ""
    acceptance_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class MdrGap:
    """A record and the MDR items it lacks."""

    record: str
    imsma_id: str
    missing: tuple[str, ...]

    def line(self) -> str:
        return msg("MDR: {record} ({id}) lacks {items}", record=self.record, id=self.imsma_id,
                   items=Joined(", ", self.missing))


def write_mdr_report(path: str | Path, gaps: Sequence[MdrGap]) -> None:
    """Every record's missing MDR items as CSV (UTF-8 with a byte-order mark; ``record``, ``imsma_id``,
    ``missing`` joined by ``; ``), text guarded against spreadsheet formulas as the exchange's CSV is."""
    import csv

    p = Path(path)
    if p.suffix.lower() != ".csv":
        raise ValidationError("MDR report", [Fault(msg("MDR report"), msg("{name}: give a .csv file", name=p.name),
                                                   "path")])

    def cell(text: str) -> str:
        return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text

    try:
        with open(p, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["record", "imsma_id", "missing"])
            writer.writerows([cell(g.record), cell(g.imsma_id), "; ".join(g.missing)] for g in gaps)
    except OSError as exc:
        raise ImportFileError(msg("{path}: cannot be written ({reason})", path=p, reason=exc.strerror or exc)) from None


def mdr_gaps(hazards: Sequence[HazardArea], activities: Sequence[Activity]) -> list[MdrGap]:
    """Per record, the GICHD MDR items it lacks (Mine.rst, Activities.rst, LR.rst, Common requirements), in the order
    the records are written. Items sapper computes (areas, reference points) are never missing."""
    gaps = []
    evidence = {a.hazard_id for a in activities if a.devices or a.direct_evidence.strip()}
    for h in sorted(hazards, key=lambda h: h.id):
        missing: list[str] = []
        if h.benchmark is None:
            missing.append(msg("benchmark (Graphic Location/Benchmark)"))
        if not h.device_categories:
            missing.append(msg("category of devices suspected or confirmed"))
        if h.hazard_class is HazardClass.CHA and h.id not in evidence:
            missing.append(msg("type and location of direct evidence found"))
        if h.beneficiaries_sadd is None:
            missing.append(msg("beneficiaries by sex and age"))
        if missing:
            gaps.append(MdrGap(msg("hazard area {id}", id=h.id), h.imsma_id, tuple(missing)))
    for a in sorted(activities, key=lambda a: a.id):
        missing = []
        if a.organisation_id is None:
            missing.append(msg("implementing organisation"))
        if a.method is None:
            missing.append(msg("operational method"))
        if a.status is not ActivityStatus.PLANNED and a.start is None:
            missing.append(msg("start date"))
        if a.status is ActivityStatus.COMPLETED and a.end is None:
            missing.append(msg("end date"))
        if not a.outcomes and not a.devices:
            if a.status is not ActivityStatus.PLANNED:
                missing.append(msg("graphic location (no land released, no device found)"))
        elif a.outcomes and a.benchmark is None:
            missing.append(msg("benchmark of the land released"))
        if "cleared" in a.outcomes and a.clearance_depth_cm is None:
            missing.append(msg("depth to which the area is cleared"))
        if missing:
            gaps.append(MdrGap(msg("activity {id}", id=a.id), a.imsma_id, tuple(missing)))
        for n, d in enumerate(a.devices, start=1):
            missing = []
            if not d.device_type.strip():
                missing.append(msg("model"))
            if d.condition is DeviceCondition.UNKNOWN:
                missing.append(msg("condition"))
            if d.depth_cm is None:
                missing.append(msg("depth found"))
            if d.disposal is None:
                missing.append(msg("disposal (found and destroyed)"))
            if missing:
                gaps.append(MdrGap(msg("device {n} of activity {id}", n=n, id=a.id), d.imsma_id, tuple(missing)))
    return gaps


def _check_ids(organisations: Sequence[Organisation], hazards: Sequence[HazardArea],
               activities: Sequence[Activity]) -> None:
    """Every record has an IMSMA id that can travel in a link field, and no two records share one."""
    faults = []
    seen: dict[str, str] = {}
    records: list[tuple[str, str, str, tuple[str, ...]]] = [
        *((f"organisation {o.id}", o.imsma_id, "", ()) for o in organisations),
        *((msg("hazard area {id}", id=h.id), h.imsma_id, "", h.imsma_links) for h in hazards),
        *((f"activity {a.id}", a.imsma_id, "", a.imsma_links) for a in activities),
        *((f"device {n} of activity {a.id}", d.imsma_id, "", d.imsma_links) for a in activities
          for n, d in enumerate(a.devices, start=1)),
    ]
    for record, imsma_id, _, links in records:
        if not imsma_id.strip():
            faults.append(Fault(record, msg("has no IMSMA id (export from a store: it gives every record one)"),
                                "imsma_id"))
        elif "," in imsma_id or imsma_id != imsma_id.strip() or len(imsma_id) > imsmaids.MAX_ID:
            faults.append(Fault(record, msg("IMSMA id {imsma_id!r} cannot travel in a comma-separated "
                                            "imsma_links field (no commas, no surrounding spaces, at most "
                                            "{MAX_ID} characters)", imsma_id=imsma_id, MAX_ID=imsmaids.MAX_ID),
                                "imsma_id"))
        elif imsma_id in seen:
            faults.append(Fault(record, msg("IMSMA id {imsma_id} is also the id of {value}", imsma_id=imsma_id,
                                            value=seen[imsma_id]), "imsma_id"))
        else:
            seen[imsma_id] = record
        if any("," in link for link in links):
            faults.append(Fault(record, msg("a kept link holds a comma"), "imsma_links"))
    ValidationError.raise_if("IMSMA export", faults)


def _text_columns(fields: Sequence[MdrField]) -> dict[str, Kind]:
    return {f.column: f.kind for f in fields}


def _links_fault(record: str, links: str) -> list[Fault]:
    if len(links) > imsmaids.MAX_LINKS:
        return [Fault(record, msg("imsma_links holds {value:,} characters; IMSMA Core takes at most "
                                  "{MAX_LINKS:,}", value=len(links), MAX_LINKS=imsmaids.MAX_LINKS), "imsma_links")]
    return []


def _wkt(geom: BaseGeometry | None) -> str | None:
    return None if geom is None else str(shapely.to_wkt(geom, rounding_precision=-1))


def export_tables(
    organisations: Sequence[Organisation],
    hazards: Sequence[HazardArea],
    activities: Sequence[Activity],
    *,
    names: ValueNames | None = None,
    facts: Mapping[str, ReleaseFacts] | None = None,
) -> list[Table]:
    """The four exchange tables of these records, each sorted by id (devices in their activity's order)."""
    names = names or ValueNames()
    facts = facts or {}
    _check_ids(organisations, hazards, activities)
    orgs = sorted(organisations, key=lambda o: o.id)
    hazs = sorted(hazards, key=lambda h: h.id)
    acts = sorted(activities, key=lambda a: a.id)
    org_imsma = {o.id: o.imsma_id for o in orgs}
    haz_imsma = {h.id: h.imsma_id for h in hazs}
    by_hazard: dict[str, list[str]] = defaultdict(list)
    for a in acts:
        by_hazard[a.hazard_id].append(a.imsma_id)
    faults: list[Fault] = []

    def name(column: str, vocabulary: Vocabulary[E], member: E | None) -> str | None:
        return None if member is None else names.write(column, vocabulary, member)

    org_rows = [{"imsma_id": o.imsma_id, "organisation_id": o.id, "organisation_name": o.name,
                 "organisation_type": name("organisation_type", ORGANISATION_TYPES, o.kind), "imsma_links": ""}
                for o in orgs]
    hazard_rows = []
    for h in hazs:
        area, _ = measure(h.geometry)
        links = imsmaids.join_links([*([org_imsma.get(h.organisation_id, "")] if h.organisation_id else []),
                                     *by_hazard.get(h.id, []), *h.imsma_links])
        faults += _links_fault(msg("hazard area {id}", id=h.id), links)
        fact = facts.get(h.id, ReleaseFacts())
        sadd = h.beneficiaries_sadd
        hazard_rows.append({
            "imsma_id": h.imsma_id,
            "imsma_links": links,
            "hazard_id": h.id,
            "hazard_name": h.name,
            "type_of_area": name("type_of_area", HAZARD_TYPES, h.hazard_class),
            "status": name("status", HAZARD_STATUSES, h.status),
            "evidence": name("evidence", EVIDENCE, h.evidence),
            "device_categories": ", ".join(names.write("device_categories", DEVICE_CATEGORIES, c)
                                           for c in DeviceCategory if c in h.device_categories),
            "land_use": name("land_use", LAND_USES, h.land_use),
            "beneficiaries": h.beneficiaries,
            **{f"beneficiaries_{g}": None if sadd is None else getattr(sadd, g) for g in BENEFICIARY_GROUPS},
            "clearance_depth_cm": h.clearance_depth_cm,
            "marking": name("marking", MARKINGS, h.marking),
            _X: None if h.benchmark is None else h.benchmark.x,
            _Y: None if h.benchmark is None else h.benchmark.y,
            "turning_points_wkt": _wkt(MultiPoint(list(h.turning_points))) if h.turning_points else None,
            "area_m2": area,
            "inspection_date": fact.inspection_date,
            "inspection_result": None if fact.inspection_passed is None
            else ("Passed" if fact.inspection_passed else "Failed"),
            "accepted_by": fact.accepted_by or None,
            "acceptance_date": fact.acceptance_date,
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
        lat, lon = (measure(footprint)[1] if footprint is not None else None) or (
            (a.devices[0].position.y, a.devices[0].position.x) if a.devices else (None, None))
        hazard_link = haz_imsma.get(a.hazard_id) or a.hazard_id
        links = imsmaids.join_links([hazard_link, *([org_imsma.get(a.organisation_id, "")] if a.organisation_id
                                                      else []), *(d.imsma_id for d in a.devices), *a.imsma_links])
        faults += _links_fault(f"activity {a.id}", links)
        parent = globalid(a.imsma_id)
        activity_rows.append({
            "imsma_id": a.imsma_id,
            "imsma_links": links,
            "globalid": parent,
            "activity_id": a.id,
            "activity_type": name("activity_type", ACTIVITY_TYPES, a.activity_type),
            "status": name("status", ACTIVITY_STATUSES, a.status),
            "operational_method": name("operational_method", METHODS, a.method),
            "start_date": a.start,
            "end_date": a.end,
            "clearance_depth_cm": a.clearance_depth_cm,
            "direct_evidence": a.direct_evidence or None,
            **{f"{kind}_area_m2": None if g is None else measure(g)[0] for kind, g in outcomes.items()},
            _X: lon,
            _Y: lat,
            "benchmark_x": None if a.benchmark is None else a.benchmark.x,
            "benchmark_y": None if a.benchmark is None else a.benchmark.y,
            **{f"{kind}_area_wkt": _wkt(g) for kind, g in outcomes.items()},
        })
        footprints.append(footprint)
        for d in a.devices:
            dlinks = imsmaids.join_links([a.imsma_id, hazard_link, *d.imsma_links])
            device_rows.append({
                "imsma_id": d.imsma_id,
                "imsma_links": dlinks,
                "globalid": globalid(d.imsma_id),
                "parentglobalid": parent,
                "device_category": name("device_category", DEVICE_CATEGORIES, d.category),
                "device_type": d.device_type,
                "condition": name("condition", CONDITIONS, d.condition),
                "depth_cm": d.depth_cm,
                "quantity": d.quantity,
                "fuze": d.fuze or None,
                "disposal": name("disposal", DISPOSALS, d.disposal),
                "disposal_date": d.disposal_date,
                "found_and_destroyed": d.destroyed,
                _X: d.position.x,
                _Y: d.position.y,
            })
            positions.append(d.position)
    ValidationError.raise_if("IMSMA export", faults)
    return [
        Table(ORGANISATION, "organisation_id", _text_columns(ORGANISATION_FIELDS), org_rows),
        Table(HAZARD, "hazard_id", _text_columns(HAZARD_FIELDS), hazard_rows, [h.geometry for h in hazs]),
        Table(ACTIVITY, "activity_id", _text_columns(ACTIVITY_FIELDS), activity_rows, footprints, wkt_in_text=False),
        Table(DEVICE, "imsma_id", _text_columns(DEVICE_FIELDS), device_rows, positions, geometry_type="Point"),
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
        return msg("{organisations} organisations, {hazards} hazard areas, {activities} activities, {devices} devices "
                   "found", organisations=self.organisations, hazards=self.hazards, activities=self.activities,
                   devices=self.devices)


def write_imsma(
    path: str | Path,
    organisations: Sequence[Organisation],
    hazards: Sequence[HazardArea],
    activities: Sequence[Activity],
    *,
    names: ValueNames | None = None,
    facts: Mapping[str, ReleaseFacts] | None = None,
) -> ExchangeCounts:
    """Write the records to ``path`` (``.xlsx``, ``.gpkg`` or a folder of CSV files); returns what was written.

    Raises ValidationError (naming the records) when an IMSMA id or a link field cannot travel or a value does not
    fit an XLSX cell; nothing is written then.
    """
    tables = export_tables(organisations, hazards, activities, names=names, facts=facts)
    fmt = write_tables(path, tables)
    return ExchangeCounts(fmt, len(organisations), len(hazards), len(activities),
                          sum(len(a.devices) for a in activities))


# ----------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownRecords:
    """Records the store already holds, by IMSMA id: (record type, sapper id). Links to them resolve too."""

    by_imsma_id: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(slots=True)
class ImsmaRead:
    """What an IMSMA exchange file holds, as sapper records, with every fault found; nothing is written.

    ``source_attributes`` are the values of hazard areas' choice columns that the value map does not know, kept as
    the area's source attributes (the area gets the ``Other``/``Unknown`` value); ``unknown`` counts every value not
    in the value map, kept or refused. ``notes`` are things worth saying that are not faults (geometry repaired,
    stated areas that differ from the geometry, values kept, columns and sheets not used).
    """

    format: Format
    organisations: list[Organisation] = field(default_factory=list)
    hazards: list[HazardArea] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def devices(self) -> int:
        return sum(len(a.devices) for a in self.activities)


@dataclass(slots=True)
class _Context:
    """What all rows of one read share: the value names, and the values not in the value map (kept or not)."""

    names: ValueNames
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    kept: dict[tuple[str, str], str] = field(default_factory=dict)  # (column, value) → how it was kept
    refused: set[tuple[str, str]] = field(default_factory=set)  # (column, value) refused at least once


@dataclass(slots=True, eq=False)  # rows are told apart by identity: two rows may hold the same cells
class _Row:
    """One row being read: where it is, what it is, and typed access to its cells with faults per column."""

    kind: str
    values: dict[str, Any]
    where: str
    geometry: BaseGeometry | None
    geometry_fault: str | None
    ctx: _Context
    id: str = ""
    imsma_id: str = ""
    faults: list[Fault] = field(default_factory=list)
    #: Values of choice columns the value map does not know, kept (column → the text as given).
    kept: dict[str, str] = field(default_factory=dict)

    @property
    def record(self) -> str:
        return f"{_LABEL[self.kind]} {self.id}" if self.id else f"{_LABEL[self.kind]} ({self.where})"

    def fault(self, reason: str, column: str | None) -> None:
        self.faults.append(Fault(self.record, msg("{reason} ({where})", reason=reason, where=self.where), column))

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

    def has(self, column: str) -> bool:
        return not is_missing(self.values.get(column))

    def _member(self, column: str, vocabulary: Vocabulary[E], text: str, keep: str | None) -> E | None:
        """The member ``text`` names through the value map; an unknown value is kept as the vocabulary's fallback
        when ``keep`` says where its text goes (and nothing else is there), else it is a fault."""
        member = vocabulary.parse(self.ctx.names.read(column, text))
        if member is not None:
            return member
        self.ctx.unknown[(column, text)] += 1
        if vocabulary.fallback is not None and keep is not None:
            self.ctx.kept[(column, text)] = f"as {vocabulary.label(vocabulary.fallback)}; the text kept {keep}"
            return vocabulary.fallback
        self.ctx.refused.add((column, text))
        self.fault(f"{text!r} is not one of {vocabulary.allowed()} nor in the programme's value map (add it: "
                   f"--value \"{column}:{text}=…\")", column)
        return None

    def word(self, column: str, vocabulary: Vocabulary[E], *, required: bool = False,
             keep: str | None = None) -> E | None:
        text = self.text(column)
        if not text:
            if required:
                self.fault(f"{column} is empty (one of {vocabulary.allowed()})", column)
            return None
        member = self._member(column, vocabulary, text, keep)
        if member is not None and keep is not None and (column, text) in self.ctx.kept:
            self.kept[column] = text
        return member

    def words(self, column: str, vocabulary: Vocabulary[E], *, keep: str | None = None) -> frozenset[E]:
        members = set()
        unknown = []
        for part in re.split(r"[,;]", self.text(column)):
            if part.strip():
                member = self._member(column, vocabulary, part.strip(), keep)
                if member is not None:
                    members.add(member)
                    if (column, part.strip()) in self.ctx.kept:
                        unknown.append(part.strip())
        if unknown:
            self.kept[column] = ", ".join(unknown)
        return frozenset(members)

    def links(self, column: str) -> list[str]:
        """The ids of a comma-separated link field, in order, each once."""
        return list(imsmaids.split_links(self.text(column)))

    def point(self, x: str, y: str) -> Point | None:
        """The WGS84 point of columns ``x`` (longitude) and ``y`` (latitude), None when both are empty."""
        lon, lat = self.number(x), self.number(y)
        if lon is None and lat is None:
            return None
        if lon is None or lat is None:
            self.fault(f"gives only one of {x} and {y}", x if lon is None else y)
            return None
        point = Point(lon, lat)
        if not in_wgs84_range(point):
            self.fault(f"{x}/{y} are not WGS84 longitude/latitude", x)
            return None
        return point

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
        row.fault(msg("must be a polygon or multipolygon, got {kind}", kind=usable.geom_type), column)
        return None
    if not in_wgs84_range(usable):
        row.fault("coordinates are not WGS84 longitude/latitude", column)
        return None
    if repaired is not None:
        notes.append(msg("repaired {record} {column}: {reason}", record=row.record, column=column, reason=repaired))
    return usable


def _rows(raw: RawTable, kind: str, ctx: _Context) -> list[_Row]:
    rows = []
    for values, where, geom, fault, cells in zip(raw.rows, raw.where, raw.geometries, raw.geometry_faults,
                                                 raw.cell_faults, strict=True):
        row = _Row(kind, values, where, geom, fault, ctx)
        reader = FieldReader(values)
        row.imsma_id = reader.text("imsma_id")
        row.id = reader.text(ID_COLUMN[kind]) or row.imsma_id
        for column, reason in cells:
            row.fault(reason, column or None)
        rows.append(row)
    return rows


def _unique(rows: list[_Row], kind: str, seen_imsma: dict[str, str]) -> list[_Row]:
    """The rows with an id (and IMSMA id) that no earlier row has; the others get a fault."""
    column = ID_COLUMN[kind]
    first: dict[str, str] = {}
    out = []
    for row in rows:
        if not row.id:
            row.fault(f"has neither {column} nor imsma_id" if column != "imsma_id" else "imsma_id is empty", column)
        elif row.id in first:
            row.fault(f"{column if row.values.get(column) else 'imsma_id'} {row.id} appears earlier "
                      f"({first[row.id]})", column)
        elif row.imsma_id and row.imsma_id in seen_imsma:
            row.fault(f"imsma_id {row.imsma_id} appears earlier ({seen_imsma[row.imsma_id]})", "imsma_id")
        else:
            first[row.id] = row.where
            if row.imsma_id:
                seen_imsma[row.imsma_id] = f"{row.record}, {row.where}"
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
        return Organisation(row.id, name, kind, imsma_id=row.imsma_id)
    except ValidationError as exc:
        _domain_faults(row, exc, {"name": "organisation_name", "id": "organisation_id"})
        return None


_HAZARD_COLUMNS = {"id": "hazard_id", "geometry": "geometry", "evidence": "evidence", "share":
                   "sapper_expected_clearance_share", "beneficiaries": "beneficiaries", "benchmark": _X,
                   "turning_points": "turning_points_wkt", "clearance_depth_cm": "clearance_depth_cm"}
_AS_ATTRIBUTE = "as a source attribute of the area"

#: A valid polygon standing in for a bad or missing perimeter, so that the domain's other rules are still checked
#: (and their faults reported) for a row whose geometry is at fault; a record built on it is never kept.
_STAND_IN = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])


def _beneficiaries(row: _Row) -> Beneficiaries | None:
    columns = [f"beneficiaries_{g}" for g in BENEFICIARY_GROUPS]
    if not any(row.has(c) for c in columns):
        return None
    counts = {g: row.integer(c, 0) for g, c in zip(BENEFICIARY_GROUPS, columns, strict=True)}
    try:
        return Beneficiaries(**counts)
    except ValidationError as exc:
        _domain_faults(row, exc, {g: f"beneficiaries_{g}" for g in BENEFICIARY_GROUPS})
        return None


def _turning_points(row: _Row) -> tuple[Point, ...]:
    text = row.values.get("turning_points_wkt")
    if is_missing(text):
        return ()
    try:
        geom = shapely.force_2d(shapely.from_wkt(str(text).strip(), on_invalid="raise"))
    except (shapely.errors.ShapelyError, TypeError) as exc:
        row.fault(f"turning_points_wkt is not readable WKT ({str(exc).splitlines()[0]})", "turning_points_wkt")
        return ()
    points = [geom] if isinstance(geom, Point) else list(getattr(geom, "geoms", []))
    if not points or not all(isinstance(p, Point) for p in points):
        row.fault(f"turning_points_wkt must be a MULTIPOINT, got {geom.geom_type}", "turning_points_wkt")
        return ()
    return tuple(points)


def _hazard(row: _Row, notes: list[str], geometry_column: str) -> HazardArea | None:
    hazard_class = row.word("type_of_area", HAZARD_TYPES, required=True)
    sadd = _beneficiaries(row)
    values: dict[str, Any] = {
        "name": row.text("hazard_name"),
        "status": row.word("status", HAZARD_STATUSES) or HazardStatus.OPEN,
        "device_categories": row.words("device_categories", DEVICE_CATEGORIES, keep=_AS_ATTRIBUTE),
        "land_use": row.word("land_use", LAND_USES, keep=_AS_ATTRIBUTE) or LandUse.OTHER,
        "beneficiaries": row.integer("beneficiaries", 0 if sadd is None else sadd.direct + sadd.indirect),
        "beneficiaries_sadd": sadd,
        "expected_clearance_share": row.number("sapper_expected_clearance_share"),
        "synthetic": row.boolean("sapper_synthetic"),
        "clearance_depth_cm": row.number("clearance_depth_cm"),
        "marking": row.word("marking", MARKINGS, keep=_AS_ATTRIBUTE) or Marking.UNKNOWN,
        "benchmark": row.point(_X, _Y),
        "turning_points": _turning_points(row),
        "imsma_id": row.imsma_id,
    }
    evidence = row.word("evidence", EVIDENCE)
    geom = _polygonal(row, row.geometry, row.geometry_fault, geometry_column, notes, allow_empty=False)
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
    """An activity's own cells, read; its hazard, organisation and devices are resolved afterwards."""

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
        "method": row.word("operational_method", METHODS),
        "start": row.date("start_date"),
        "end": row.date("end_date"),
        "clearance_depth_cm": row.number("clearance_depth_cm"),
        "direct_evidence": row.text("direct_evidence"),
        "benchmark": row.point("benchmark_x", "benchmark_y"),
        "imsma_id": row.imsma_id,
        **{kind: _outcome(row, kind, notes) for kind in _OUTCOMES},
    }
    return _ActivityParts(row, values)


_ACTIVITY_COLUMNS = {"id": "activity_id", "end": "end_date", "reduced": "reduced_area_wkt",
                     "cleared": "cleared_area_wkt", "clearance_depth_cm": "clearance_depth_cm",
                     "benchmark": "benchmark_x"}


def _activity(part: _ActivityParts, hazard_id: str | None, organisation_id: str | None,
              devices: Sequence[DeviceFound], links: tuple[str, ...]) -> Activity | None:
    """The activity, or None with its faults; the domain's rules are checked even when a cell was at fault."""
    row, values = part.row, part.values
    if values["activity_type"] is None:
        return None
    # A bad status or an unresolved hazard stands in as "planned" / "?" so the other rules are still checked.
    stand_ins = {"status": values["status"] or ActivityStatus.PLANNED}
    try:
        activity = Activity(id=row.id or "?", hazard_id=hazard_id or "?", organisation_id=organisation_id,
                            devices=tuple(devices), imsma_links=links, **{**values, **stand_ins})
    except ValidationError as exc:
        _domain_faults(row, exc, _ACTIVITY_COLUMNS)
        return None
    return None if row.faults or hazard_id is None or values["status"] is None else activity


def _device(row: _Row) -> DeviceFound | None:
    device_type = row.text("device_type")
    keep = None if device_type else "as the device type"
    category = row.word("device_category", DEVICE_CATEGORIES, required=True, keep=keep)
    if "device_category" in row.kept:
        device_type = row.kept.pop("device_category")
    values: dict[str, Any] = {
        "device_type": device_type,
        "condition": row.word("condition", CONDITIONS) or DeviceCondition.UNKNOWN,
        "depth_cm": row.number("depth_cm"),
        "quantity": row.integer("quantity", 1),
        "fuze": row.text("fuze"),
        "disposal": row.word("disposal", DISPOSALS),
        "disposal_date": row.date("disposal_date"),
        "imsma_id": row.imsma_id,
    }
    position = row.geometry
    column = "geometry"
    if row.geometry_fault is not None:
        row.fault(row.geometry_fault, column)
    elif position is None:
        column = _X
        position = row.point(_X, _Y)
        if position is None and not row.faults:
            row.fault(f"has no position: give {_X} and {_Y} (WGS84 longitude and latitude)", column)
    if position is not None and not isinstance(position, Point):
        row.fault(f"position must be a point, got {position.geom_type}", column)
    elif position is not None and not position.is_empty and not in_wgs84_range(position):
        row.fault("coordinates are not WGS84 longitude/latitude", column)
    if row.faults or category is None or not isinstance(position, Point):
        return None
    try:
        return DeviceFound(position=position, category=category, **values)
    except ValidationError as exc:
        _domain_faults(row, exc, {"depth_cm": "depth_cm", "position": column, "quantity": "quantity",
                                  "disposal": "disposal"})
        return None


@dataclass(frozen=True, slots=True)
class _Target:
    """What a link names: a record in the file (its row) or in the store (its sapper id)."""

    kind: str
    id: str
    row: _Row | None = None


class _Links:
    """Every row's links, resolved against the file's IMSMA ids and the store's."""

    def __init__(self, rows: Mapping[str, Sequence[_Row]], known: KnownRecords) -> None:
        self.in_file = {r.imsma_id: r for kind in RECORD_TYPES for r in rows[kind] if r.imsma_id}
        self.known = known.by_imsma_id
        self._of: dict[int, list[tuple[str, _Target | None]]] = {}

    def of(self, row: _Row) -> list[tuple[str, _Target | None]]:
        """Each link of ``row`` with what it names (None: nothing in the file or the store)."""
        if id(row) not in self._of:
            out: list[tuple[str, _Target | None]] = []
            for link in row.links("imsma_links"):
                target = self.in_file.get(link)
                if target is not None:
                    out.append((link, _Target(target.kind, target.id, target)))
                elif link in self.known:
                    kind, sid = self.known[link]
                    out.append((link, _Target(kind, sid)))
                else:
                    out.append((link, None))
            self._of[id(row)] = out
        return self._of[id(row)]

    def named(self, row: _Row, kind: str) -> list[_Target]:
        return [t for _, t in self.of(row) if t is not None and t.kind == kind]

    def kept(self, row: _Row, modelled: Iterable[str]) -> tuple[str, ...]:
        """Links to records sapper does not link this way: kept as they are, to travel back."""
        skip = set(modelled)
        return tuple(link for link, t in self.of(row) if t is None or t.kind not in skip)

    def unresolved(self, row: _Row) -> list[str]:
        return [link for link, t in self.of(row) if t is None]


def _one(row: _Row, column: str, what: str, found: Sequence[str], links: _Links, *, required: bool) -> str | None:
    """The one ``what`` among ``found`` (sapper ids, in order, each once), or None with a fault."""
    found = list(dict.fromkeys(found))
    if len(found) == 1:
        return found[0]
    if not found:
        if required:
            unknown = links.unresolved(row)
            hint = f" (not in this file or the store: {', '.join(unknown)})" if unknown else ""
            row.fault(f"is linked to no {what}: its {column} names none{hint}", column)
        return None
    row.fault(f"is linked to {len(found)} {what}s ({', '.join(found)}); sapper links it to exactly one", column)
    return None


#: Link columns of the exchange sapper wrote before IMSMA ids (revision 0008).
_OLD_LINKS = ("linked_hazards", "linked_activities", "linked_devices")


def _required_columns(raw: RawTable, path: Path) -> None:
    if not raw.rows:
        return
    if "imsma_links" not in raw.columns and any(c in raw.columns for c in _OLD_LINKS):
        raise ImportFileError(f"{path}: {raw.name} links records in linked_* columns, as sapper wrote the exchange "
                              "before IMSMA ids; export it again with this version (docs/imsma.md)")
    required = [f.column for f in FIELDS[raw.name] if f.required]
    missing = [c for c in required if c not in raw.columns]
    key = ID_COLUMN[raw.name]
    if key not in raw.columns and "imsma_id" not in raw.columns:
        missing.insert(0, f"{key} or imsma_id" if key != "imsma_id" else key)
    if missing:
        raise ImportFileError(f"{path}: {raw.name} lacks the column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} (found: {', '.join(raw.columns) or 'none'})")


def _value_notes(ctx: _Context) -> list[str]:
    if not ctx.kept:
        return []
    parts = [f"{column} {text!r} ×{ctx.unknown[(column, text)]} ({how})"
             for (column, text), how in sorted(ctx.kept.items())]
    return [f"values not in the value map, kept: {'; '.join(parts)}"]


def _value_fault(ctx: _Context) -> list[Fault]:
    refused = sorted((k, n) for k, n in ctx.unknown.items() if k in ctx.refused)
    if not refused:
        return []
    listed = ", ".join(f"{column} {text!r} ×{n}" for (column, text), n in refused)
    return [Fault(msg("value map"), msg('values not in the value map: {listed}; add them with --value "COLUMN:IMSMA '
                                   'NAME=sapper value" or a profile\'s [values.COLUMN]', listed=listed), None)]


def read_imsma(path: str | Path, *, names: ValueNames | None = None, known: KnownRecords | None = None) -> ImsmaRead:
    """Read an IMSMA exchange file (``.xlsx``, ``.gpkg`` or a folder of CSV files) into sapper records.

    Every row is checked; every fault is collected with its record id, column and place in the file. Links are
    resolved against the file and ``known`` (the store's records by IMSMA id). Raises ImportFileError when the file
    cannot be used at all (unreadable, no record type in it, a required column missing).
    """
    p = Path(path)
    ctx = _Context(names or ValueNames())
    known = known or KnownRecords()
    raw = read_tables(p, RECORD_TYPES)
    if not raw.tables:
        raise ImportFileError(msg("{path}: holds none of the IMSMA record types ({types})",
                                  path=p, types=', '.join(RECORD_TYPES)))
    for table in raw.tables.values():
        _required_columns(table, p)
    out = ImsmaRead(raw.format)
    if raw.unused:
        out.notes.append(f"not used: {', '.join(raw.unused)}")
    for name, table in raw.tables.items():
        known_columns = {f.column for f in FIELDS[name]}
        unused = [c for c in table.columns if c not in known_columns]
        if unused:
            out.notes.append(f"{name}: columns not used: {', '.join(unused)}")
    geometry_column = "geometry" if raw.format == "gpkg" else "wkt"
    empty = RawTable("", [], [], [], [], [], [])
    every = {kind: _rows(raw.tables.get(kind, empty), kind, ctx) for kind in RECORD_TYPES}
    seen_imsma: dict[str, str] = {}
    rows = {kind: _unique(every[kind], kind, seen_imsma) for kind in RECORD_TYPES}

    # Every row is checked, also those whose id is empty or repeated; records are kept only from the others.
    first = {id(r) for kind in RECORD_TYPES for r in rows[kind]}
    orgs = [(r, _organisation(r)) for r in every[ORGANISATION]]
    hazards = [(r, _hazard(r, out.notes, geometry_column)) for r in every[HAZARD]]
    parts = [_activity_parts(r, out.notes) for r in every[ACTIVITY]]
    devices = {id(r): d for r in every[DEVICE] if (d := _device(r)) is not None}
    links = _Links(rows, known)

    # who lists whom: row → the rows of each kind in the file whose imsma_links name it
    listing: dict[int, dict[str, list[_Row]]] = defaultdict(lambda: defaultdict(list))
    for kind in (HAZARD, ACTIVITY):
        for r in rows[kind]:
            for _, t in links.of(r):
                if t is not None and t.row is not None:
                    listing[id(t.row)][kind].append(r)

    def listed_by(row: _Row, kind: str) -> list[_Row]:
        """The rows of ``kind`` in the file whose imsma_links name ``row``."""
        return listing[id(row)][kind] if id(row) in listing else []

    # devices → their activity (the related table's parentglobalid, or links from either side)
    by_globalid = {str(r.values.get("globalid") or "").strip(): r for r in rows[ACTIVITY]
                   if not is_missing(r.values.get("globalid"))}
    activity_rows = {r.id: r for r in rows[ACTIVITY]}
    devices_of: dict[int, list[tuple[_Row, DeviceFound]]] = defaultdict(list)
    for row in rows[DEVICE]:
        found = [t.row.id for t in links.named(row, ACTIVITY) if t.row is not None]
        found += [a.id for a in listed_by(row, ACTIVITY)]
        parent = str(row.values.get("parentglobalid") or "").strip()
        if parent:
            if parent in by_globalid:
                found.insert(0, by_globalid[parent].id)
            else:
                row.fault(f"parentglobalid {parent} is the globalid of no activity in this file", "parentglobalid")
                continue
        if any(t.row is None for t in links.named(row, ACTIVITY)):
            row.fault("its activity is in the store, not this file; sapper imports devices found with their "
                      "activity", "imsma_links")
            continue
        activity_id = _one(row, "parentglobalid", "activity", found, links, required=True)
        if activity_id is None:
            continue
        if id(row) in devices:
            device = devices[id(row)]
            kept = links.kept(row, (ACTIVITY, HAZARD))
            devices_of[id(activity_rows[activity_id])].append((row, dataclasses.replace(device, imsma_links=kept)))

    for row, org in orgs:
        if org is not None and id(row) in first and not row.faults:
            out.organisations.append(org)
    for row, hazard in hazards:
        org_id = _one(row, "imsma_links", "organisation", [t.id for t in links.named(row, ORGANISATION)], links,
                      required=False)
        if hazard is None or id(row) not in first or row.faults:
            continue
        kept = links.kept(row, (ORGANISATION, ACTIVITY, DEVICE))
        out.hazards.append(dataclasses.replace(hazard, organisation_id=org_id, imsma_links=kept))
        if row.kept:
            out.source_attributes[hazard.id] = dict(row.kept)
    for part in parts:
        row = part.row
        kept_row = id(row) in first
        hazard_ids = [t.id for t in links.named(row, HAZARD)] + [h.id for h in listed_by(row, HAZARD)]
        hazard_id = _one(row, "imsma_links", "hazard area", hazard_ids, links, required=True) if kept_row else None
        org_id = _one(row, "imsma_links", "organisation", [t.id for t in links.named(row, ORGANISATION)], links,
                      required=False)
        found_here = devices_of.get(id(row), [])
        for device_row, d in found_here:
            for t in links.named(device_row, HAZARD):
                if hazard_id is not None and t.id != hazard_id:
                    row.fault(f"its device {d.imsma_id} is linked to hazard area {t.id}, the activity to "
                              f"{hazard_id}", "imsma_links")
        activity = _activity(part, hazard_id, org_id, [d for _, d in found_here] if kept_row else [],
                             links.kept(row, (HAZARD, ORGANISATION, DEVICE)))
        if activity is not None and kept_row:
            out.activities.append(activity)
    out.unknown = ctx.unknown
    out.notes += _value_notes(ctx)
    out.faults = [f for kind in RECORD_TYPES for row in every[kind] for f in row.faults]
    if out.faults:
        out.faults += _value_fault(ctx)
    return out

