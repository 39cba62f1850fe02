"""Initial store: GeoPackage 1.4 metadata, sapper's layers and tables, R-trees and the latest-plan views.

Revision ID: 0001
Revises:
Create Date: 2025-11-25

Column types are frozen here (not imported from ``schema.py``) so this migration keeps meaning what it meant.

On PostgreSQL: the PostGIS extension, ``geometry(<type>, 4326)`` columns with GiST indexes, and the same views;
the GeoPackage metadata tables, R-trees and application id are SQLite's alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fid() -> sa.Column[Any]:
    return sa.Column("fid", sa.Integer, primary_key=True)


def _synthetic() -> sa.Column[Any]:
    return sa.Column("synthetic", sa.Integer, nullable=False, server_default="0")


_LAYERS: dict[str, tuple[str, str]] = {
    "hazard_areas": ("GEOMETRY", "Suspected and confirmed hazardous areas (SHA/CHA)"),
    "assets": ("GEOMETRY", "Damaged assets and their repair work in builder-days per trade"),
    "activities": ("GEOMETRY", "Land-release activities (union of their outcome areas)"),
    "land_release_outcomes": ("GEOMETRY", "Land cancelled, reduced or cleared by each activity"),
    "devices_found": ("POINT", "Devices found during activities"),
    "settlements": ("POINT", "Settlements (context)"),
    "admin_areas": ("GEOMETRY", "Administrative areas (context)"),
    "contested_zone": ("GEOMETRY", "Contested or inaccessible zone (context)"),
}

_ATTRIBUTES: dict[str, str] = {
    "organisations": "Operators, contractors and authorities",
    "teams": "Deminer teams",
    "brigades": "Builder brigades",
    "sapper_meta": "Scenario metadata (key/value)",
    "plan_runs": "Saved plans",
    "plan_tasks": "Tasks of saved plans",
}

_HAZARD_COLUMNS = (
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
_ASSET_COLUMNS = (
    "id",
    "name",
    "asset_type",
    "damage",
    "criticality",
    "people_served",
    "work_buffer_m",
    "work_road_bd",
    "work_bridge_bd",
    "work_power_bd",
    "work_water_bd",
    "work_building_bd",
    "synthetic",
)

_LATEST_RUN = "(SELECT max(r.id) FROM plan_runs AS r)"


def _view_sql(view: str, table: str, columns: Sequence[str], key: str, date_column: str) -> str:
    """A view of ``table`` with the end date of the latest run's last task on each record.

    The date comes from a join on that task row (not from ``max()``) so the column keeps its declared DATE
    type and GDAL/QGIS read it as a date.
    """
    cols = ", ".join(f"b.{c} AS {c}" for c in columns)
    last_task = (
        f"(SELECT t2.fid FROM plan_tasks AS t2 WHERE t2.run_id = {_LATEST_RUN} AND t2.{key} = b.id "
        "ORDER BY t2.end_date DESC, t2.fid DESC LIMIT 1)"
    )
    return (
        f"CREATE VIEW {view} AS SELECT b.fid AS fid, b.geom AS geom, {cols}, t.end_date AS {date_column} "
        f"FROM {table} AS b LEFT JOIN plan_tasks AS t ON t.fid = {last_task}"
    )


_VIEWS: dict[str, tuple[str, str]] = {
    "planned_hazard_release": (
        _view_sql(
            "planned_hazard_release", "hazard_areas", _HAZARD_COLUMNS, "hazard_id", "planned_release_date"
        ),
        "Hazard areas with the release date of the latest plan",
    ),
    "planned_asset_restoration": (
        _view_sql("planned_asset_restoration", "assets", _ASSET_COLUMNS, "asset_id", "planned_restore_date"),
        "Assets with the restoration date of the latest plan",
    ),
}


def _create_tables() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
    )
    op.create_table(
        "hazard_areas",
        _fid(),
        sa.Column("geom", ddl.geom("GEOMETRY"), nullable=False),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("hazard_class", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("device_categories", sa.Text, nullable=False, server_default=""),
        sa.Column("land_use", sa.Text, nullable=False),
        sa.Column("beneficiaries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("expected_clearance_share", ddl.real(), nullable=True),
        sa.Column("area_m2", ddl.real(), nullable=False),
        _synthetic(),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "assets",
        _fid(),
        sa.Column("geom", ddl.geom("GEOMETRY"), nullable=False),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("asset_type", sa.Text, nullable=False),
        sa.Column("damage", sa.Text, nullable=False),
        sa.Column("criticality", sa.Integer, nullable=False),
        sa.Column("people_served", sa.Integer, nullable=False, server_default="0"),
        sa.Column("work_buffer_m", ddl.real(), nullable=True),
        sa.Column("work_road_bd", ddl.real(), nullable=False, server_default="0"),
        sa.Column("work_bridge_bd", ddl.real(), nullable=False, server_default="0"),
        sa.Column("work_power_bd", ddl.real(), nullable=False, server_default="0"),
        sa.Column("work_water_bd", ddl.real(), nullable=False, server_default="0"),
        sa.Column("work_building_bd", ddl.real(), nullable=False, server_default="0"),
        _synthetic(),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "activities",
        _fid(),
        sa.Column("geom", ddl.geom("GEOMETRY"), nullable=True),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("hazard_id", sa.Text, sa.ForeignKey("hazard_areas.id"), nullable=False),
        sa.Column("activity_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("method", sa.Text, nullable=True),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("clearance_depth_cm", ddl.real(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_activities_hazard_id", "activities", ["hazard_id"])
    op.create_table(
        "land_release_outcomes",
        _fid(),
        sa.Column("geom", ddl.geom("GEOMETRY"), nullable=False),
        sa.Column("activity_id", sa.Text, sa.ForeignKey("activities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("area_m2", ddl.real(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('cancelled', 'reduced', 'cleared')", name="ck_land_release_outcomes_outcome"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_land_release_outcomes_activity_id", "land_release_outcomes", ["activity_id"])
    op.create_table(
        "devices_found",
        _fid(),
        sa.Column("geom", ddl.geom("POINT"), nullable=False),
        sa.Column("activity_id", sa.Text, sa.ForeignKey("activities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("device_type", sa.Text, nullable=False, server_default=""),
        sa.Column("condition", sa.Text, nullable=False),
        sa.Column("depth_cm", ddl.real(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_devices_found_activity_id", "devices_found", ["activity_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("productivity_m2_per_day", ddl.real(), nullable=False),
        sa.Column("base_lon", ddl.real(), nullable=False),
        sa.Column("base_lat", ddl.real(), nullable=False),
        _synthetic(),
    )
    op.create_table(
        "brigades",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("trade", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("base_lon", ddl.real(), nullable=False),
        sa.Column("base_lat", ddl.real(), nullable=False),
        _synthetic(),
    )
    op.create_table(
        "settlements",
        _fid(),
        sa.Column("geom", ddl.geom("POINT"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("population", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        _synthetic(),
        sqlite_autoincrement=True,
    )
    for name in ("admin_areas", "contested_zone"):
        op.create_table(
            name,
            _fid(),
            sa.Column("geom", ddl.geom("GEOMETRY"), nullable=False),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("source", sa.Text, nullable=False, server_default=""),
            _synthetic(),
            sqlite_autoincrement=True,
        )
    op.create_table(
        "sapper_meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "plan_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", ddl.datetime(), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("objective", ddl.real(), nullable=True),
        sa.Column("lower_bound", ddl.real(), nullable=True),
        sa.Column("baseline_objective", ddl.real(), nullable=True),
        sa.Column("finish_date", sa.Date, nullable=True),
        sa.Column("solve_seconds", ddl.real(), nullable=False, server_default="0"),
        sa.Column("task_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("summary", sa.Text, nullable=False, server_default="{}"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "plan_tasks",
        _fid(),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("plan_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("hazard_id", sa.Text, nullable=True),
        sa.Column("asset_id", sa.Text, nullable=True),
        sa.Column("mode", sa.Text, nullable=False, server_default=""),
        sa.Column("resource", sa.Text, nullable=False, server_default=""),
        sa.Column("unit_id", sa.Text, nullable=True),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("work", ddl.real(), nullable=False),
        sa.Column("work_unit", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_plan_tasks_run_hazard", "plan_tasks", ["run_id", "hazard_id"])
    op.create_index("ix_plan_tasks_run_asset", "plan_tasks", ["run_id", "asset_id"])


def upgrade() -> None:
    if not ddl.is_sqlite():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        _create_tables()
        for table in _LAYERS:
            op.execute(ddl.gist_index(table))
        for sql, _ in _VIEWS.values():
            op.execute(sql)
        return
    for stmt in gpkg.CORE_DDL:
        op.execute(stmt)
    _create_tables()
    for table, (geometry_type, description) in _LAYERS.items():
        for stmt in gpkg.register_features_ddl(table, geometry_type=geometry_type, description=description):
            op.execute(stmt)
    for table, description in _ATTRIBUTES.items():
        for stmt in gpkg.register_attributes_ddl(table, description=description):
            op.execute(stmt)
    for view, (sql, description) in _VIEWS.items():
        op.execute(sql)
        geometry_type = _LAYERS["hazard_areas" if view == "planned_hazard_release" else "assets"][0]
        for stmt in gpkg.register_features_ddl(
            view, geometry_type=geometry_type, description=description, spatial_index=False
        ):
            op.execute(stmt)
    for stmt in gpkg.PRAGMA_DDL:
        op.execute(stmt)


def downgrade() -> None:
    sqlite = ddl.is_sqlite()
    for view in _VIEWS:
        for stmt in gpkg.unregister_ddl(view) if sqlite else ():
            op.execute(stmt)
        op.execute(f"DROP VIEW {view}")
    for table in _LAYERS if sqlite else ():
        for stmt in gpkg.unregister_ddl(table, spatial_index=True):
            op.execute(stmt)
    for table in _ATTRIBUTES if sqlite else ():
        for stmt in gpkg.unregister_ddl(table):
            op.execute(stmt)
    for table in (
        "plan_tasks",
        "plan_runs",
        "sapper_meta",
        "contested_zone",
        "admin_areas",
        "settlements",
        "brigades",
        "teams",
        "devices_found",
        "land_release_outcomes",
        "activities",
        "assets",
        "hazard_areas",
        "organisations",
    ):
        op.drop_table(table)
    if not sqlite:
        return  # PostGIS stays: other schemas of the database may use it
    for table in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents", "gpkg_spatial_ref_sys"):
        op.drop_table(table)
    op.execute("PRAGMA application_id = 0")
    op.execute("PRAGMA user_version = 0")
