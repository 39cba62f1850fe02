"""Accidents and victims (IMAS 10.60), and reads in the audit trail (issue 16).

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-07

``accidents`` holds operational records (place, date, device category, demining or mine/ERW accident, the activity
under way, the investigation) with an OCHA sensitivity class. ``victims`` holds personal data in its own table: every
personal field is ciphertext (AES-256-GCM, ``v1:<key id>:<base64>``, see ``sapper.store.cipher``), never plaintext,
and the class is always ``strictly_confidential``. Column types are frozen here.

The audit trail's ``action`` may now be ``read`` too (every read of a victim is audited). The audit table stays
append-only: its triggers refusing UPDATE and DELETE (revision 0006) are re-made with it. On SQLite a CHECK
constraint cannot change in place, so the table is rebuilt (its rows copied, in order, with their ids); on
PostgreSQL the constraint is swapped. A downgrade drops the ``read`` rows (the older schema cannot hold them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENSITIVITIES = ("public", "restricted", "confidential", "strictly_confidential")

_ATTRIBUTES: dict[str, str] = {
    "accidents": "Accidents (IMAS 10.60): place, date, device category, kind, activity, investigation",
    "victims": "Victims of accidents: personal data, each field encrypted (AES-256-GCM); strictly confidential",
}

_AUDIT_GUARDS = (
    ("audit_no_update", "UPDATE", "audit is append-only: an audit row cannot be changed"),
    ("audit_no_delete", "DELETE", "audit is append-only: an audit row cannot be deleted"),
)
_AUDIT_COLUMNS = "id, at, actor, organisation_id, table_name, record_id, action, reason, before_json, after_json"


def _audit_table(name: str, actions: Sequence[str]) -> None:
    op.create_table(
        name,
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
        sa.CheckConstraint("action IN (" + ", ".join(f"'{a}'" for a in actions) + ")", name="ck_audit_action"),
        sa.CheckConstraint("trim(actor) <> ''", name="ck_audit_actor"),
        sqlite_autoincrement=True,
    )


def _sqlite_guards() -> None:
    for name, when, message in _AUDIT_GUARDS:
        op.execute(f"CREATE TRIGGER {name} BEFORE {when} ON audit\nBEGIN\n  SELECT RAISE(ABORT, '{message}');\nEND")


def _set_audit_actions(actions: Sequence[str], *, keep: str) -> None:
    """Let ``audit.action`` hold ``actions``, keeping the rows ``keep`` selects (SQL over ``action``)."""
    if ddl.is_sqlite():
        _audit_table("audit_0012", actions)
        op.execute(f"INSERT INTO audit_0012 ({_AUDIT_COLUMNS}) SELECT {_AUDIT_COLUMNS} FROM audit WHERE {keep} "
                   "ORDER BY id")
        for name, _, _ in _AUDIT_GUARDS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE audit")  # its implicit DELETE fires no trigger
        op.execute("ALTER TABLE audit_0012 RENAME TO audit")
        op.create_index("ix_audit_table_record", "audit", ["table_name", "record_id"])
        _sqlite_guards()
        return
    if keep != "1 = 1":
        op.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_delete")
        op.execute(f"DELETE FROM audit WHERE NOT ({keep})")
        op.execute("ALTER TABLE audit ENABLE TRIGGER audit_no_delete")
    op.execute("ALTER TABLE audit DROP CONSTRAINT ck_audit_action")
    op.execute("ALTER TABLE audit ADD CONSTRAINT ck_audit_action CHECK (action IN ("
               + ", ".join(f"'{a}'" for a in actions) + "))")


def upgrade() -> None:
    op.create_table(
        "accidents",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("accident_date", sa.Date, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("device_category", sa.Text, nullable=False),
        sa.Column("place", sa.Text, nullable=False, server_default=""),
        sa.Column("lon", ddl.real(), nullable=True),
        sa.Column("lat", ddl.real(), nullable=True),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("hazard_id", sa.Text, sa.ForeignKey("hazard_areas.id"), nullable=True),
        sa.Column("activity_id", sa.Text, sa.ForeignKey("activities.id"), nullable=True),
        sa.Column("device_type", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("investigation", sa.Text, nullable=False, server_default=""),
        sa.Column("victim_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sensitivity", sa.Text, nullable=False, server_default="restricted"),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("synthetic", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("kind IN ('demining', 'mine')", name="ck_accidents_kind"),
        sa.CheckConstraint("sensitivity IN (" + ", ".join(f"'{s}'" for s in SENSITIVITIES) + ")",
                           name="ck_accidents_sensitivity"),
    )
    op.create_table(
        "victims",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("accident_id", sa.Text, sa.ForeignKey("accidents.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("gender", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("activity", sa.Text, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("sensitivity", sa.Text, nullable=False, server_default="strictly_confidential"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("sensitivity = 'strictly_confidential'", name="ck_victims_sensitivity"),
    )
    op.create_index("ix_victims_accident_id", "victims", ["accident_id"])
    if ddl.is_sqlite():
        for table, description in _ATTRIBUTES.items():
            for stmt in gpkg.register_attributes_ddl(table, description=description):
                op.execute(stmt)
    _set_audit_actions(("insert", "update", "delete", "read"), keep="1 = 1")


def downgrade() -> None:
    _set_audit_actions(("insert", "update", "delete"), keep="action <> 'read'")
    if ddl.is_sqlite():
        for table in _ATTRIBUTES:
            for stmt in gpkg.unregister_ddl(table):
                op.execute(stmt)
    op.drop_index("ix_victims_accident_id", "victims")
    op.drop_table("victims")
    op.drop_table("accidents")
