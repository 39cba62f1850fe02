"""sapper's tables, as SQLAlchemy Core ``Table`` objects.

Column names are flat snake_case so the file reads well in QGIS and GDAL. Spatial layers have an integer
``fid`` primary key (GDAL's feature id) next to sapper's text ``id``; geometry is WGS84 in the ``geom``
column. The database schema itself is created by the Alembic migrations in ``store/migrations``; a test checks
the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    REAL,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

from sapper.store.types import Geometry, GpkgDateTime

metadata = MetaData()


def _fid() -> Column[int]:
    return Column("fid", Integer, primary_key=True)


def _synthetic() -> Column[int]:
    return Column("synthetic", Integer, nullable=False, server_default="0")


organisations = Table(
    "organisations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
)

hazard_areas = Table(
    "hazard_areas",
    metadata,
    _fid(),
    Column("geom", Geometry("GEOMETRY"), nullable=False),
    Column("id", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False, server_default=""),
    Column("hazard_class", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("device_categories", Text, nullable=False, server_default=""),
    Column("land_use", Text, nullable=False),
    Column("beneficiaries", Integer, nullable=False, server_default="0"),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=True),
    Column("expected_clearance_share", REAL, nullable=True),
    Column("area_m2", REAL, nullable=False),
    _synthetic(),
    sqlite_autoincrement=True,
)

#: Builder-day columns of ``assets``, one per trade (0 when the trade has no work).
TRADE_COLUMNS = ("work_road_bd", "work_bridge_bd", "work_power_bd", "work_water_bd", "work_building_bd")

assets = Table(
    "assets",
    metadata,
    _fid(),
    Column("geom", Geometry("GEOMETRY"), nullable=False),
    Column("id", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False, server_default=""),
    Column("asset_type", Text, nullable=False),
    Column("damage", Text, nullable=False),
    Column("criticality", Integer, nullable=False),
    Column("people_served", Integer, nullable=False, server_default="0"),
    Column("work_buffer_m", REAL, nullable=True),
    *(Column(name, REAL, nullable=False, server_default="0") for name in TRADE_COLUMNS),
    _synthetic(),
    sqlite_autoincrement=True,
)

activities = Table(
    "activities",
    metadata,
    _fid(),
    Column("geom", Geometry("GEOMETRY"), nullable=True),
    Column("id", Text, nullable=False, unique=True),
    Column("hazard_id", Text, ForeignKey("hazard_areas.id"), nullable=False, index=True),
    Column("activity_type", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=True),
    Column("method", Text, nullable=True),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("clearance_depth_cm", REAL, nullable=True),
    sqlite_autoincrement=True,
)

land_release_outcomes = Table(
    "land_release_outcomes",
    metadata,
    _fid(),
    Column("geom", Geometry("GEOMETRY"), nullable=False),
    Column("activity_id", Text, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("outcome", Text, nullable=False),
    Column("area_m2", REAL, nullable=False),
    CheckConstraint(
        "outcome IN ('cancelled', 'reduced', 'cleared')", name="ck_land_release_outcomes_outcome"
    ),
    sqlite_autoincrement=True,
)

devices_found = Table(
    "devices_found",
    metadata,
    _fid(),
    Column("geom", Geometry("POINT"), nullable=False),
    Column("activity_id", Text, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("category", Text, nullable=False),
    Column("device_type", Text, nullable=False, server_default=""),
    Column("condition", Text, nullable=False),
    Column("depth_cm", REAL, nullable=True),
    sqlite_autoincrement=True,
)

teams = Table(
    "teams",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("method", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("productivity_m2_per_day", REAL, nullable=False),
    Column("base_lon", REAL, nullable=False),
    Column("base_lat", REAL, nullable=False),
    _synthetic(),
)

brigades = Table(
    "brigades",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("trade", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("base_lon", REAL, nullable=False),
    Column("base_lat", REAL, nullable=False),
    _synthetic(),
)

settlements = Table(
    "settlements",
    metadata,
    _fid(),
    Column("geom", Geometry("POINT"), nullable=False),
    Column("name", Text, nullable=False),
    Column("population", Integer, nullable=False, server_default="0"),
    Column("source", Text, nullable=False, server_default=""),
    _synthetic(),
    sqlite_autoincrement=True,
)

def _context_table(name: str) -> Table:
    """A map-context layer (areas with a name, a source and a synthetic flag)."""
    return Table(
        name,
        metadata,
        _fid(),
        Column("geom", Geometry("GEOMETRY"), nullable=False),
        Column("name", Text, nullable=False),
        Column("source", Text, nullable=False, server_default=""),
        _synthetic(),
        sqlite_autoincrement=True,
    )


admin_areas = _context_table("admin_areas")
contested_zone = _context_table("contested_zone")

sapper_meta = Table(
    "sapper_meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

plan_runs = Table(
    "plan_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", GpkgDateTime(), nullable=False),
    Column("status", Text, nullable=False),
    Column("objective", REAL, nullable=True),
    Column("lower_bound", REAL, nullable=True),
    Column("baseline_objective", REAL, nullable=True),
    Column("finish_date", Date, nullable=True),
    Column("solve_seconds", REAL, nullable=False, server_default="0"),
    Column("task_count", Integer, nullable=False, server_default="0"),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("summary", Text, nullable=False, server_default="{}"),
    sqlite_autoincrement=True,
)

plan_tasks = Table(
    "plan_tasks",
    metadata,
    _fid(),
    Column("run_id", Integer, ForeignKey("plan_runs.id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("hazard_id", Text, nullable=True),
    Column("asset_id", Text, nullable=True),
    Column("mode", Text, nullable=False, server_default=""),
    Column("resource", Text, nullable=False, server_default=""),
    Column("unit_id", Text, nullable=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("work", REAL, nullable=False),
    Column("work_unit", Text, nullable=False),
    Index("ix_plan_tasks_run_hazard", "run_id", "hazard_id"),
    Index("ix_plan_tasks_run_asset", "run_id", "asset_id"),
    sqlite_autoincrement=True,
)

#: Spatial layers (tables) and their GeoPackage geometry type; each has an R-tree ``rtree_<table>_geom``.
SPATIAL_LAYERS: dict[str, str] = {
    "hazard_areas": "GEOMETRY",
    "assets": "GEOMETRY",
    "activities": "GEOMETRY",
    "land_release_outcomes": "GEOMETRY",
    "devices_found": "POINT",
    "settlements": "POINT",
    "admin_areas": "GEOMETRY",
    "contested_zone": "GEOMETRY",
}

#: Attribute (non-spatial) tables registered in gpkg_contents.
ATTRIBUTE_TABLES = ("organisations", "teams", "brigades", "sapper_meta", "plan_runs", "plan_tasks")

#: Spatial views over the latest plan, registered as feature layers (no R-tree of their own).
PLAN_VIEWS = ("planned_hazard_release", "planned_asset_restoration")

#: Layers holding context areas, by name.
CONTEXT_LAYERS: dict[str, Table] = {"admin_areas": admin_areas, "contested_zone": contested_zone}

#: Layers that ``bbox_search`` can search, with the column it returns.
SEARCHABLE: dict[str, Table] = {"hazard_areas": hazard_areas, "assets": assets, "activities": activities}

#: Names in the database that are not sapper's tables: GeoPackage metadata, R-trees, SQLite and Alembic internals.
_FOREIGN_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "alembic_")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic filter: compare only sapper's own tables (not gpkg_*, R-trees or the plan views)."""
    if type_ == "table" and name is not None:
        return not name.startswith(_FOREIGN_PREFIXES) and name not in PLAN_VIEWS
    return True
