"""Pydantic schema families of the API (Create / Update / Public per resource), separate from the domain
dataclasses and the tables: what clients send and get, validated at the edge and documented in OpenAPI."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class Collection(BaseModel):
    id: str
    title: str
    description: str
    links: list[Link]
    itemType: str = "feature"
    crs: list[str]
    storageCrs: str


class Collections(BaseModel):
    links: list[Link]
    collections: list[Collection]


class FeaturePublic(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    links: list[Link] = []


class FeatureCollectionPublic(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FeaturePublic]
    links: list[Link]
    numberMatched: int
    numberReturned: int
    timeStamp: str


class HazardCreate(BaseModel):
    """Properties of a new hazard area (POST/PUT). Unknown properties are refused, naming them."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    hazard_class: Literal["SHA", "CHA"] | None = None
    status: str | None = None
    evidence: Literal["direct", "indirect"] | None = None
    device_categories: str | None = None
    land_use: str | None = None
    beneficiaries: int | None = Field(default=None, ge=0)
    organisation_id: str | None = None
    expected_clearance_share: float | None = Field(default=None, ge=0, le=1)
    # Read-only properties a client may echo back unchanged (GDAL and QGIS send every field):
    id: str | None = None
    area_m2: float | None = None
    synthetic: int | bool | None = None
    generalised: bool | None = None


class HazardUpdate(HazardCreate):
    """A merge patch of a hazard area's properties (PATCH): what is sent changes, what is absent stays."""


class AssetCreate(BaseModel):
    """Properties of an asset (POST/PUT; PATCH sends any of them). Builder-days per trade in ``work_*_bd``."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    asset_type: str | None = None
    damage: str | None = None
    criticality: int | None = Field(default=None, ge=1, le=5)
    people_served: int | None = Field(default=None, ge=0)
    work_buffer_m: float | None = Field(default=None, ge=0)
    work_road_bd: float | None = Field(default=None, ge=0)
    work_bridge_bd: float | None = Field(default=None, ge=0)
    work_power_bd: float | None = Field(default=None, ge=0)
    work_water_bd: float | None = Field(default=None, ge=0)
    work_building_bd: float | None = Field(default=None, ge=0)
    # Read-only, echoed back by clients:
    id: str | None = None
    synthetic: int | bool | None = None


class SettlementCreate(BaseModel):
    """Properties of a settlement (POST/PUT; PATCH sends any of them)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    population: int | None = Field(default=None, ge=0)
    source: str | None = None
    # Read-only, echoed back by clients:
    fid: int | None = None
    synthetic: int | bool | None = None


class ActivityCreate(BaseModel):
    """Properties of a land-release activity to record (POST only: the ledger is append-only). The geometry is
    the land the activity ``outcome`` records (by default the activity type's: NTS cancelled, TS reduced,
    clearance, BAC and EOD cleared)."""

    model_config = ConfigDict(extra="forbid")

    hazard_id: str | None = None
    activity_type: str | None = None
    status: str | None = None
    organisation_id: str | None = None
    method: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    clearance_depth_cm: float | None = Field(default=None, gt=0)
    direct_evidence: str | None = None
    outcome: Literal["cancelled", "reduced", "cleared"] | None = None
    # Read-only, echoed back by clients:
    id: str | None = None
    generalised: bool | None = None


#: The properties model of each editable collection.
PROPERTIES: dict[str, type[BaseModel]] = {"hazard_areas": HazardCreate, "assets": AssetCreate,
                                          "settlements": SettlementCreate, "activities": ActivityCreate}

#: Properties a client may send back unchanged (GDAL and QGIS send every field) that an edit never writes.
READ_ONLY = frozenset({"id", "fid", "area_m2", "synthetic", "generalised"})


class FeatureIn(BaseModel):
    """A GeoJSON feature sent to POST or PUT (geometry in CRS84, or in the CRS its ``Content-Crs`` names); its
    properties are checked by the collection's model (:data:`PROPERTIES`)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"]
    geometry: dict[str, Any] | None
    properties: dict[str, Any] = {}


class FeaturePatch(BaseModel):
    """A merge patch of a feature (PATCH, ``application/merge-patch+json``)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] | None = None
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] = {}


class SessionCreate(BaseModel):
    name: str
    password: str


class SessionPublic(BaseModel):
    name: str
    role: str
    organisation_id: str
    csrf_token: str


class AuditPublic(BaseModel):
    id: int
    at: str
    actor: str
    organisation_id: str | None
    table_name: str
    record_id: str
    action: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditList(BaseModel):
    items: list[AuditPublic]


class JobPublic(BaseModel):
    id: int
    kind: str
    state: str
    progress: float
    actor: str
    message: str
    plan_id: int | None
    cancel_requested: bool


class JobList(BaseModel):
    items: list[JobPublic]


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_limit_s: float = Field(default=10.0, gt=0, le=3600)
    seed: int = 0


class OutcomeCreate(BaseModel):
    """A cancelled, reduced or cleared polygon drawn on a hazard area (``POST /api/hazards/{id}/outcomes``).

    The kind picks the activity (cancelled: NTS, reduced: TS, cleared: clearance) unless ``activity_type`` names
    another that yields it (``bac`` for cleared); a cleared outcome states ``depth_cm``. Geometry is a GeoJSON
    Polygon or MultiPolygon in CRS84."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["cancelled", "reduced", "cleared"]
    date: str = Field(description="the day the work was done, YYYY-MM-DD (not in the future)")
    reason: str = Field(min_length=1, description="why: e.g. the completion report's reference")
    geometry: dict[str, Any]
    activity_type: Literal["nts", "ts", "clearance", "bac"] | None = None
    depth_cm: float | None = Field(default=None, description="clearance depth reached (cm); needed when cleared")


class OutcomePublic(BaseModel):
    """The outcome as recorded: the activity it became, the area after clipping, and what clipping removed."""

    id: str
    kind: str
    activity_type: str
    area_m2: float
    drawn_m2: float
    clipped_m2: float
    clipped: bool
    note: str


class GanttTaskPublic(BaseModel):
    id: str
    kind: Literal["survey", "clearance", "restoration"]
    label: str
    target_id: str
    start: str
    end: str = Field(description="exclusive: the day after the last day worked")


class GanttLanePublic(BaseModel):
    id: str
    label: str
    organisation: str
    role: Literal["team", "brigade"]
    tasks: list[GanttTaskPublic]


class GanttPublic(BaseModel):
    """The latest plan's Gantt chart: one lane per team and brigade."""

    plan_id: str
    created: str
    start: str
    end: str
    synthetic: bool
    lanes: list[GanttLanePublic]


class BurndownPointPublic(BaseModel):
    date: str
    released_km2: float
    restored_assets: int


class BurndownPublic(BaseModel):
    """Released km² and restored assets over the latest plan, cumulative, in date order."""

    plan_id: str
    total_km2: float
    total_assets: int
    synthetic: bool
    points: list[BurndownPointPublic]
