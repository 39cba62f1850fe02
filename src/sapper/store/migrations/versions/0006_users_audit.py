"""Users, API tokens, browser sessions, the audit trail and background jobs (the web service, issue 12).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06

Column types are frozen here. ``organisations.authority`` (0/1) marks the national authority, which sees every
organisation's records. ``users`` hold an argon2 hash, never a password; ``api_tokens`` and ``sessions`` hold the
SHA-256 of their secret, never the secret. ``audit`` is append-only: triggers refuse UPDATE and DELETE on both
backends. ``jobs`` are the plan runs started through the API, kept in the store so a restart does not lose them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("admin", "im-officer", "planner", "field", "viewer")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")

_ATTRIBUTES: dict[str, str] = {
    "users": "People who sign in to the web service: role, organisation, argon2 password hash",
    "api_tokens": "API tokens (SHA-256 of the secret), with expiry and revocation",
    "sessions": "Browser sessions (SHA-256 of the cookie) with their CSRF token",
    "audit": "Every write through the web service: who, when, what, why, before and after (append-only)",
    "jobs": "Background jobs (plan runs) started through the web service, with progress",
}

_AUDIT_GUARDS = (
    ("audit_no_update", "UPDATE", "audit is append-only: an audit row cannot be changed"),
    ("audit_no_delete", "DELETE", "audit is append-only: an audit row cannot be deleted"),
)


def upgrade() -> None:
    op.add_column("organisations", sa.Column("authority", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", ddl.datetime(), nullable=False),
        sa.Column("active", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="ck_users_role"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", ddl.datetime(), nullable=False),
        sa.Column("expires_at", ddl.datetime(), nullable=False),
        sa.Column("revoked_at", ddl.datetime(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("session_hash", sa.Text, nullable=False, unique=True),
        sa.Column("csrf_token", sa.Text, nullable=False),
        sa.Column("created_at", ddl.datetime(), nullable=False),
        sa.Column("expires_at", ddl.datetime(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", ddl.datetime(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("organisation_id", sa.Text, nullable=True),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("before_json", sa.Text, nullable=True),
        sa.Column("after_json", sa.Text, nullable=True),
        sa.CheckConstraint("action IN ('insert', 'update', 'delete')", name="ck_audit_action"),
        sa.CheckConstraint("trim(actor) <> ''", name="ck_audit_actor"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_table_record", "audit", ["table_name", "record_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("progress", ddl.real(), nullable=False, server_default="0"),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("created_at", ddl.datetime(), nullable=False),
        sa.Column("updated_at", ddl.datetime(), nullable=False),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("plan_id", sa.Integer, nullable=True),
        sa.Column("cancel_requested", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in JOB_STATES) + ")", name="ck_jobs_state"),
        sqlite_autoincrement=True,
    )
    sqlite = ddl.is_sqlite()
    for table, description in _ATTRIBUTES.items() if sqlite else ():
        for stmt in gpkg.register_attributes_ddl(table, description=description):
            op.execute(stmt)
    for name, when, message in _AUDIT_GUARDS:
        if sqlite:
            op.execute(f"CREATE TRIGGER {name} BEFORE {when} ON audit\nBEGIN\n  SELECT RAISE(ABORT, '{message}');\nEND")
        else:
            for stmt in ddl.pg_refuse(name, when, "audit", message):
                op.execute(stmt)


def downgrade() -> None:
    sqlite = ddl.is_sqlite()
    for table in _ATTRIBUTES if sqlite else ():
        for stmt in gpkg.unregister_ddl(table):
            op.execute(stmt)
    for table in ("jobs", "audit", "sessions", "api_tokens", "users"):
        op.drop_table(table)
    for name, _, _ in _AUDIT_GUARDS if not sqlite else ():
        op.execute(f"DROP FUNCTION IF EXISTS {name}_fn()")
    op.execute("ALTER TABLE organisations DROP COLUMN authority")  # SQLite >= 3.35 and PostgreSQL alike
