"""Field-data staging (ODK Central / KoboToolbox submissions awaiting review).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Column types are frozen here (not imported from ``schema.py``) so this migration keeps meaning what it meant.

``field_submissions`` holds one row per version of a submission: ``instance_id`` (``meta/instanceID``) is unique, so
importing an export twice cannot stage anything twice; versions of one submission share ``submission_key``.
``field_submission_events`` is each version's workflow history (who, when, why). ``field_progress`` (a layer: the
area cleared, or where a hazard blocks a brigade) and ``field_progress_devices`` (a point layer) hold what applied
clearance and brigade reports said, one report per submission.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_STATES = ("staged", "reviewed", "approved", "applied", "rejected", "superseded")

_ATTRIBUTES: dict[str, str] = {
    "field_submissions": "Field submissions (ODK Central / KoboToolbox), one row per version, with review state",
    "field_submission_events": "Review history of field submissions: who changed the state, when and why",
}

_LAYERS: dict[str, tuple[str, str]] = {
    "field_progress": ("GEOMETRY", "Daily progress reported from the field (area cleared, or a blocking hazard)"),
    "field_progress_devices": ("POINT", "Devices found, as reported in daily clearance progress"),
}


def _create_tables() -> None:
    op.create_table(
        "field_submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_id", sa.Text, nullable=False),
        sa.Column("submission_key", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("form_id", sa.Text, nullable=False),
        sa.Column("form_version", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("submitted_at", ddl.datetime(), nullable=True),
        sa.Column("submitter", sa.Text, nullable=False, server_default=""),
        sa.Column("edits", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deprecated_id", sa.Text, nullable=True),
        sa.Column("record_id", sa.Text, nullable=True),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("source_file", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("imported_at", ddl.datetime(), nullable=False),
        sa.Column("apply_fault", sa.Text, nullable=True),
        sa.UniqueConstraint("instance_id", name="uq_field_submissions_instance_id"),
        sa.UniqueConstraint("submission_key", "version", name="uq_field_submissions_key_version"),
        sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in _STATES) + ")",
                           name="ck_field_submissions_state"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_field_submissions_state", "field_submissions", ["state"])
    op.create_table(
        "field_submission_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("field_submissions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("from_state", sa.Text, nullable=True),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", ddl.datetime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("trim(actor) <> ''", name="ck_field_submission_events_actor"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_field_submission_events_submission_id", "field_submission_events", ["submission_id"])
    op.create_table(
        "field_progress",
        sa.Column("fid", sa.Integer, primary_key=True),
        sa.Column("geom", ddl.geom("GEOMETRY"), nullable=True),
        sa.Column("submission_key", sa.Text, nullable=False),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("field_submissions.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("work_date", sa.Date, nullable=False),
        sa.Column("hazard_id", sa.Text, sa.ForeignKey("hazard_areas.id"), nullable=True),
        sa.Column("team_id", sa.Text, sa.ForeignKey("teams.id"), nullable=True),
        sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id"), nullable=True),
        sa.Column("brigade_id", sa.Text, sa.ForeignKey("brigades.id"), nullable=True),
        sa.Column("area_cleared_m2", ddl.real(), nullable=True),
        sa.Column("devices_found", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deminers", sa.Integer, nullable=True),
        sa.Column("hours_worked", ddl.real(), nullable=True),
        sa.Column("builder_days", ddl.real(), nullable=True),
        sa.Column("percent_complete", ddl.real(), nullable=True),
        sa.Column("blocked_by_hazard", sa.Integer, nullable=True),
        sa.Column("blocking_hazard_id", sa.Text, nullable=True),
        sa.UniqueConstraint("submission_key", name="uq_field_progress_submission_key"),
        sa.CheckConstraint("kind IN ('clearance', 'brigade')", name="ck_field_progress_kind"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_field_progress_hazard_date", "field_progress", ["hazard_id", "work_date"])
    op.create_index("ix_field_progress_asset_date", "field_progress", ["asset_id", "work_date"])
    op.create_table(
        "field_progress_devices",
        sa.Column("fid", sa.Integer, primary_key=True),
        sa.Column("geom", ddl.geom("POINT"), nullable=False),
        sa.Column("progress_fid", sa.Integer, sa.ForeignKey("field_progress.fid", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("device_type", sa.Text, nullable=False, server_default=""),
        sa.Column("condition", sa.Text, nullable=False),
        sa.Column("depth_cm", ddl.real(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_field_progress_devices_progress_fid", "field_progress_devices", ["progress_fid"])


def upgrade() -> None:
    _create_tables()
    if not ddl.is_sqlite():
        for table in _LAYERS:
            op.execute(ddl.gist_index(table))
        return
    for table, (geometry_type, description) in _LAYERS.items():
        for stmt in gpkg.register_features_ddl(table, geometry_type=geometry_type, description=description):
            op.execute(stmt)
    for table, description in _ATTRIBUTES.items():
        for stmt in gpkg.register_attributes_ddl(table, description=description):
            op.execute(stmt)


def downgrade() -> None:
    if not ddl.is_sqlite():
        for table in ("field_progress_devices", "field_progress", "field_submission_events", "field_submissions"):
            op.drop_table(table)
        return
    for table in _LAYERS:
        for stmt in gpkg.unregister_ddl(table, spatial_index=True):
            op.execute(stmt)
    for table in _ATTRIBUTES:
        for stmt in gpkg.unregister_ddl(table):
            op.execute(stmt)
    for table in ("field_progress_devices", "field_progress", "field_submission_events", "field_submissions"):
        op.drop_table(table)
