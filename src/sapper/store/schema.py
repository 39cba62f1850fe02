"""sapper's tables, as SQLAlchemy Core ``Table`` objects.

Column names are flat snake_case so the file reads well in QGIS and GDAL. Spatial layers have an integer
``fid`` primary key (GDAL's feature id) next to sapper's text ``id``; geometry is WGS84 in the ``geom``
column. The database schema itself is created by the Alembic migrations in ``store/migrations``; a test checks
the two agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from sapper.store.types import Geometry, GpkgDateTime, Real

metadata = MetaData()


def _fid() -> Column[int]:
    return Column("fid", Integer, primary_key=True)


def _version() -> Column[int]:
    """The row version (revision 0004): 1 when written, + 1 on every update; see ``repository.update_hazard``."""
    return Column("version", Integer, nullable=False, server_default="1")


def _synthetic() -> Column[int]:
    return Column("synthetic", Integer, nullable=False, server_default="0")


def _imsma_columns() -> tuple[Column[Any], Column[Any]]:
    """IMSMA Core's identifier of the record (NULL: the store's default, the type prefix and the fid) and its
    links to IMSMA records sapper does not keep (comma-separated; NULL when none)."""
    return Column("imsma_id", Text, nullable=True), Column("imsma_links", Text, nullable=True)


organisations = Table(
    "organisations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("authority", Integer, nullable=False, server_default="0"),
    Column("imsma_id", Text, nullable=True),  # revision 0008
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
    Column("expected_clearance_share", Real, nullable=True),
    Column("area_m2", Real, nullable=False),
    _synthetic(),
    _version(),
    Column("clearance_depth_cm", Real, nullable=True),  # revision 0005
    Column("marking", Text, nullable=False, server_default="unknown"),  # revision 0005
    Column("source_attributes", Text, nullable=False, server_default="{}"),  # revision 0007
    *_imsma_columns(),  # revision 0008
    Column("beneficiaries_sadd", Text, nullable=True),  # revision 0008: JSON object of the eight groups
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
    Column("work_buffer_m", Real, nullable=True),
    *(Column(name, Real, nullable=False, server_default="0") for name in TRADE_COLUMNS),
    _synthetic(),
    _version(),
    Column("source_attributes", Text, nullable=False, server_default="{}"),  # revision 0007
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
    Column("clearance_depth_cm", Real, nullable=True),
    _version(),
    Column("direct_evidence", Text, nullable=False, server_default=""),  # revision 0005
    *_imsma_columns(),  # revision 0008
    Column("benchmark_lon", Real, nullable=True),  # revision 0008: benchmark of the land released
    Column("benchmark_lat", Real, nullable=True),
    Column("task_order", Text, nullable=True, index=True),  # revision 0018: the order a field report names
    sqlite_autoincrement=True,
)

land_release_outcomes = Table(
    "land_release_outcomes",
    metadata,
    _fid(),
    Column("geom", Geometry("GEOMETRY"), nullable=False),
    Column("activity_id", Text, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("outcome", Text, nullable=False),
    Column("area_m2", Real, nullable=False),
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
    Column("depth_cm", Real, nullable=True),
    Column("quantity", Integer, nullable=False, server_default="1"),  # revision 0005
    Column("fuze", Text, nullable=False, server_default=""),
    Column("disposal", Text, nullable=True),
    Column("disposal_date", Date, nullable=True),
    *_imsma_columns(),  # revision 0008
    sqlite_autoincrement=True,
)

teams = Table(
    "teams",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("method", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("productivity_m2_per_day", Real, nullable=False),
    Column("base_lon", Real, nullable=False),
    Column("base_lat", Real, nullable=False),
    _synthetic(),
    _version(),
    #: Methods besides its own, ``;``-separated (empty: the default, manual and survey; migration 0016).
    Column("capabilities", Text, nullable=False, server_default=""),
)

brigades = Table(
    "brigades",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("trade", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("base_lon", Real, nullable=False),
    Column("base_lat", Real, nullable=False),
    _synthetic(),
    _version(),
    #: Further trades, ``;``-separated (empty: its own trade only; migration 0016).
    Column("capabilities", Text, nullable=False, server_default=""),
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

calendar_holidays = Table(  # revision 0013; the working week and stand-downs are sapper_meta calendar.*
    "calendar_holidays",
    metadata,
    Column("day", Date, primary_key=True),
    Column("name", Text, nullable=False, server_default=""),
)

plan_runs = Table(
    "plan_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", GpkgDateTime(), nullable=False),
    Column("status", Text, nullable=False),
    Column("objective", Real, nullable=True),
    Column("lower_bound", Real, nullable=True),
    Column("baseline_objective", Real, nullable=True),
    Column("finish_date", Date, nullable=True),
    Column("solve_seconds", Real, nullable=False, server_default="0"),
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
    Column("work", Real, nullable=False),
    Column("work_unit", Text, nullable=False),
    # Covering the latest plan's milestone of an area or asset (max end_date of a kind): revision 0017.
    Index("ix_plan_tasks_run_hazard_kind_end", "run_id", "hazard_id", "kind", "end_date"),
    Index("ix_plan_tasks_run_asset_kind_end", "run_id", "asset_id", "kind", "end_date"),
    sqlite_autoincrement=True,
)

# Land release (IMAS 07.11) and quality management (IMAS 07.12): revision 0002. ``land_release_events`` and
# ``qa_visits`` are append-only (triggers refuse UPDATE and DELETE); of a non-conformity only the status changes,
# along open → corrected → closed. Activities in a history, their outcomes and devices, and the perimeter of a
# hazard area with a history cannot be changed either (see migration 0002).

#: Kinds of land-release events (sapper.domain.landrelease.EventKind).
RELEASE_EVENT_KINDS = (
    "recorded", "activity", "reclassified", "released", "handed_over", "qa_visit", "non_conformity",
    "inspected", "accepted", "reopened", "extended",  # revision 0005
)

qa_visits = Table(
    "qa_visits",
    metadata,
    Column("id", Text, primary_key=True),
    Column("activity_id", Text, ForeignKey("activities.id"), nullable=False, index=True),
    Column("visit_date", Date, nullable=False),
    Column("inspecting_organisation_id", Text, ForeignKey("organisations.id"), nullable=True),
    Column("inspected_organisation_id", Text, ForeignKey("organisations.id"), nullable=True),
    Column("notes", Text, nullable=False, server_default=""),
)

non_conformities = Table(
    "non_conformities",
    metadata,
    Column("id", Text, primary_key=True),
    Column("visit_id", Text, ForeignKey("qa_visits.id"), nullable=False, index=True),
    Column("severity", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    CheckConstraint("severity IN ('minor', 'major', 'critical')", name="ck_non_conformities_severity"),
    CheckConstraint("status IN ('open', 'corrected', 'closed')", name="ck_non_conformities_status"),
)

land_release_events = Table(
    "land_release_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hazard_id", Text, ForeignKey("hazard_areas.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("occurred_at", GpkgDateTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("from_state", Text, nullable=True),
    Column("to_state", Text, nullable=False),
    Column("cancelled_m2", Real, nullable=False, server_default="0"),
    Column("reduced_m2", Real, nullable=False, server_default="0"),
    Column("cleared_m2", Real, nullable=False, server_default="0"),
    Column("clipped_m2", Real, nullable=False, server_default="0"),
    Column("remaining_m2", Real, nullable=False),
    Column("activity_id", Text, ForeignKey("activities.id"), nullable=True, index=True),
    Column("visit_id", Text, ForeignKey("qa_visits.id"), nullable=True),
    Column("non_conformity_id", Text, ForeignKey("non_conformities.id"), nullable=True),
    Column("nc_status", Text, nullable=True),
    Column("evidence", Text, nullable=False, server_default=""),
    Column("recipient", Text, nullable=False, server_default=""),
    # revision 0005: inspections, acceptance, reopening, extension; legacy = recorded under the rules before it
    Column("inspection_id", Text, nullable=True),
    Column("inspected_on", Date, nullable=True),
    Column("inspector", Text, nullable=False, server_default=""),
    Column("sample_m2", Real, nullable=True),
    Column("sampling_plan", Text, nullable=False, server_default=""),
    Column("passed", Integer, nullable=True),
    Column("finding", Text, nullable=False, server_default=""),
    Column("devices_in_sample", Integer, nullable=False, server_default="0"),
    Column("area_wkb", Text, nullable=True),  # WGS84 WKB, hex: the area reopened, added, or failing inspection
    Column("residual_risk", Text, nullable=False, server_default=""),
    Column("authority", Text, nullable=False, server_default=""),
    Column("extended_m2", Real, nullable=False, server_default="0"),
    Column("reopened_m2", Real, nullable=False, server_default="0"),
    Column("legacy", Integer, nullable=False, server_default="0"),
    UniqueConstraint("hazard_id", "seq", name="uq_land_release_events_hazard_seq"),
    CheckConstraint(
        "kind IN (" + ", ".join(f"'{k}'" for k in RELEASE_EVENT_KINDS) + ")", name="ck_land_release_events_kind"
    ),
    CheckConstraint("trim(actor) <> '' AND trim(reason) <> ''", name="ck_land_release_events_who_why"),
    sqlite_autoincrement=True,
)

# Benchmark and turning points of hazard areas (IMAS 08.30/08.40): revision 0005, a point layer.
hazard_points = Table(
    "hazard_points",
    metadata,
    _fid(),
    Column("geom", Geometry("POINT"), nullable=False),
    Column("hazard_id", Text, ForeignKey("hazard_areas.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    CheckConstraint("kind IN ('benchmark', 'turning_point')", name="ck_hazard_points_kind"),
    UniqueConstraint("hazard_id", "kind", "ordinal", name="uq_hazard_points_hazard_kind_ordinal"),
    sqlite_autoincrement=True,
)

# Field data from ODK Central / KoboToolbox: revision 0003 (store/fieldstaging.py). One row per version of a
# submission (``instance_id`` unique: the idempotency key), its workflow history, and the progress reports that
# applied clearance and brigade submissions became.

#: States of a staged version (sapper.domain.fielddata.StagingState).
STAGING_STATES = ("staged", "reviewed", "approved", "applied", "rejected", "superseded")

field_submissions = Table(
    "field_submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Text, nullable=False),
    Column("submission_key", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("form_id", Text, nullable=False),
    Column("form_version", Text, nullable=False, server_default=""),
    Column("kind", Text, nullable=False),
    Column("submitted_at", GpkgDateTime(), nullable=True),
    Column("submitter", Text, nullable=False, server_default=""),
    Column("edits", Integer, nullable=False, server_default="0"),
    Column("deprecated_id", Text, nullable=True),
    Column("record_id", Text, nullable=True),
    Column("content_hash", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("source_file", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False),
    Column("imported_at", GpkgDateTime(), nullable=False),
    Column("apply_fault", Text, nullable=True),
    UniqueConstraint("instance_id", name="uq_field_submissions_instance_id"),
    UniqueConstraint("submission_key", "version", name="uq_field_submissions_key_version"),
    Index("ix_field_submissions_state", "state"),
    CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in STAGING_STATES) + ")",
                    name="ck_field_submissions_state"),
    sqlite_autoincrement=True,
)

field_submission_events = Table(
    "field_submission_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("submission_id", Integer, ForeignKey("field_submissions.id", ondelete="CASCADE"), nullable=False),
    Column("from_state", Text, nullable=True),
    Column("to_state", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", GpkgDateTime(), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Index("ix_field_submission_events_submission_id", "submission_id"),
    CheckConstraint("trim(actor) <> ''", name="ck_field_submission_events_actor"),
    sqlite_autoincrement=True,
)

field_progress = Table(
    "field_progress",
    metadata,
    _fid(),
    Column("geom", Geometry("GEOMETRY"), nullable=True),
    Column("submission_key", Text, nullable=False),
    Column("submission_id", Integer, ForeignKey("field_submissions.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("work_date", Date, nullable=False),
    Column("hazard_id", Text, ForeignKey("hazard_areas.id"), nullable=True),
    Column("team_id", Text, ForeignKey("teams.id"), nullable=True),
    Column("asset_id", Text, ForeignKey("assets.id"), nullable=True),
    Column("brigade_id", Text, ForeignKey("brigades.id"), nullable=True),
    Column("area_cleared_m2", Real, nullable=True),
    Column("devices_found", Integer, nullable=False, server_default="0"),
    Column("deminers", Integer, nullable=True),
    Column("hours_worked", Real, nullable=True),
    Column("builder_days", Real, nullable=True),
    Column("percent_complete", Real, nullable=True),
    Column("blocked_by_hazard", Integer, nullable=True),
    Column("blocking_hazard_id", Text, nullable=True),
    Column("task_order", Text, nullable=True),  # revision 0014: the order the work was done under
    UniqueConstraint("submission_key", name="uq_field_progress_submission_key"),
    Index("ix_field_progress_hazard_date", "hazard_id", "work_date"),
    Index("ix_field_progress_asset_date", "asset_id", "work_date"),
    Index("ix_field_progress_task_order", "task_order"),
    CheckConstraint("kind IN ('clearance', 'brigade')", name="ck_field_progress_kind"),
    sqlite_autoincrement=True,
)

field_progress_devices = Table(
    "field_progress_devices",
    metadata,
    _fid(),
    Column("geom", Geometry("POINT"), nullable=False),
    Column("progress_fid", Integer, ForeignKey("field_progress.fid", ondelete="CASCADE"), nullable=False),
    Column("category", Text, nullable=False),
    Column("device_type", Text, nullable=False, server_default=""),
    Column("condition", Text, nullable=False),
    Column("depth_cm", Real, nullable=True),
    Index("ix_field_progress_devices_progress_fid", "progress_fid"),
    sqlite_autoincrement=True,
)

# The web service (revision 0006): users, API tokens, browser sessions, the append-only audit trail and jobs.

#: Roles of users (sapper.domain.users.Role).
ROLES = ("admin", "im-officer", "planner", "field", "viewer")

#: States of a background job (sapper.domain.users.JobState).
JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", GpkgDateTime(), nullable=False),
    Column("active", Integer, nullable=False, server_default="1"),
    CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="ck_users_role"),
    sqlite_autoincrement=True,
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("created_at", GpkgDateTime(), nullable=False),
    Column("expires_at", GpkgDateTime(), nullable=False),
    Column("revoked_at", GpkgDateTime(), nullable=True),
    sqlite_autoincrement=True,
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("session_hash", Text, nullable=False, unique=True),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", GpkgDateTime(), nullable=False),
    Column("expires_at", GpkgDateTime(), nullable=False),
    sqlite_autoincrement=True,
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", GpkgDateTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("organisation_id", Text, nullable=True),
    Column("table_name", Text, nullable=False),
    Column("record_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("before_json", Text, nullable=True),
    Column("after_json", Text, nullable=True),
    CheckConstraint("action IN ('insert', 'update', 'delete', 'read')", name="ck_audit_action"),
    CheckConstraint("trim(actor) <> ''", name="ck_audit_actor"),
    Index("ix_audit_table_record", "table_name", "record_id"),
    sqlite_autoincrement=True,
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("progress", Real, nullable=False, server_default="0"),
    Column("actor", Text, nullable=False),
    Column("created_at", GpkgDateTime(), nullable=False),
    Column("updated_at", GpkgDateTime(), nullable=False),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("message", Text, nullable=False, server_default=""),
    Column("plan_id", Integer, nullable=True),
    Column("cancel_requested", Integer, nullable=False, server_default="0"),
    CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in JOB_STATES) + ")", name="ck_jobs_state"),
    sqlite_autoincrement=True,
)

# Task orders (revision 0009, store/taskorders.py): one row per order, the plan lots it holds (a snapshot), and
# every change of its state.

#: States of a task order (sapper.domain.taskorders.OrderState).
ORDER_STATES = ("issued", "acknowledged", "completed", "cancelled")

task_orders = Table(
    "task_orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", Text, nullable=False, unique=True),
    Column("unit_id", Text, nullable=False),
    Column("unit_role", Text, nullable=False),
    Column("organisation_id", Text, nullable=True),
    Column("site_kind", Text, nullable=False),
    Column("site_id", Text, nullable=False),
    Column("plan_run_id", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("state", Text, nullable=False),
    Column("issued_at", GpkgDateTime(), nullable=False),
    Column("access_lon", Real, nullable=False),
    Column("access_lat", Real, nullable=False),
    Column("access_note", Text, nullable=False, server_default=""),
    Column("forms", Text, nullable=False, server_default=""),
    Index("ix_task_orders_unit", "unit_id"),
    CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in ORDER_STATES) + ")", name="ck_task_orders_state"),
    sqlite_autoincrement=True,
)

task_order_lots = Table(
    "task_order_lots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("task_orders.id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("method", Text, nullable=False, server_default=""),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("work", Real, nullable=False),
    Column("work_unit", Text, nullable=False),
    Index("ix_task_order_lots_order_id", "order_id"),
    sqlite_autoincrement=True,
)

task_order_events = Table(
    "task_order_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("task_orders.id", ondelete="CASCADE"), nullable=False),
    Column("from_state", Text, nullable=True),
    Column("to_state", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", GpkgDateTime(), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Index("ix_task_order_events_order_id", "order_id"),
    CheckConstraint("trim(actor) <> ''", name="ck_task_order_events_actor"),
    sqlite_autoincrement=True,
)

# Accidents and victims (revision 0012, IMAS 10.60). A victim's personal fields hold ciphertext only
# (``sapper.store.cipher``: ``v1:<key id>:<base64>``); ``key_id`` is the key they were all encrypted with.

#: OCHA's sensitivity classes (sapper.domain.accidents.Sensitivity).
SENSITIVITIES = ("public", "restricted", "confidential", "strictly_confidential")

#: What an audit row records (revision 0012 adds ``read``: every read of a victim).
AUDIT_ACTIONS = ("insert", "update", "delete", "read")

accidents = Table(
    "accidents",
    metadata,
    Column("id", Text, primary_key=True),
    Column("accident_date", Date, nullable=False),
    Column("kind", Text, nullable=False),
    Column("device_category", Text, nullable=False),
    Column("place", Text, nullable=False, server_default=""),
    Column("lon", Real, nullable=True),
    Column("lat", Real, nullable=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=True),
    Column("hazard_id", Text, ForeignKey("hazard_areas.id"), nullable=True),
    Column("activity_id", Text, ForeignKey("activities.id"), nullable=True),
    Column("device_type", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("investigation", Text, nullable=False, server_default=""),
    Column("victim_count", Integer, nullable=False, server_default="0"),
    Column("sensitivity", Text, nullable=False, server_default="restricted"),
    Column("source", Text, nullable=False, server_default=""),
    Column("synthetic", Integer, nullable=False, server_default="0"),
    _version(),
    CheckConstraint("kind IN ('demining', 'mine')", name="ck_accidents_kind"),
    CheckConstraint("sensitivity IN (" + ", ".join(f"'{s}'" for s in SENSITIVITIES) + ")",
                    name="ck_accidents_sensitivity"),
)

victims = Table(
    "victims",
    metadata,
    Column("id", Text, primary_key=True),
    Column("accident_id", Text, ForeignKey("accidents.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("gender", Text, nullable=False),
    Column("birth_date", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("activity", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("sensitivity", Text, nullable=False, server_default="strictly_confidential"),
    _version(),
    CheckConstraint("sensitivity = 'strictly_confidential'", name="ck_victims_sensitivity"),
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
    "field_progress": "GEOMETRY",
    "field_progress_devices": "POINT",
    "hazard_points": "POINT",
}

#: Attribute (non-spatial) tables registered in gpkg_contents.
ATTRIBUTE_TABLES = ("organisations", "teams", "brigades", "sapper_meta", "plan_runs", "plan_tasks",
                    "qa_visits", "non_conformities", "land_release_events",
                    "field_submissions", "field_submission_events",
                    "users", "api_tokens", "sessions", "audit", "jobs",
                    "task_orders", "task_order_lots", "task_order_events", "accidents", "victims",
                    "calendar_holidays")

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
