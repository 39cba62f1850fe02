"""Task orders: the orders a team or brigade is given from a plan, the plan lots each holds, and every change of
their state (issue 15).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Column types are frozen here. ``task_orders.number`` (``TO-2026-0001``) is unique; ``plan_run_id`` names the plan
run the order comes from without a foreign key, so deleting an old plan never deletes the orders given from it.
``task_order_lots`` is a snapshot of the plan's lots as ordered (a later plan does not change them: that is how a
re-plan tells which orders it changes). ``task_order_events`` holds each change of state: who, when, why.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_STATES = ("issued", "acknowledged", "completed", "cancelled")

_ATTRIBUTES: dict[str, str] = {
    "task_orders": "Task orders given to teams and brigades from a plan: number, site, period, state",
    "task_order_lots": "The plan lots each task order holds, as they were when it was issued",
    "task_order_events": "Every change of state of a task order: who, when, why",
}


def upgrade() -> None:
    op.create_table(
        "task_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Text, nullable=False, unique=True),
        sa.Column("unit_id", sa.Text, nullable=False),
        sa.Column("unit_role", sa.Text, nullable=False),
        sa.Column("organisation_id", sa.Text, nullable=True),
        sa.Column("site_kind", sa.Text, nullable=False),
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("plan_run_id", sa.Integer, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("issued_at", ddl.datetime(), nullable=False),
        sa.Column("access_lon", ddl.real(), nullable=False),
        sa.Column("access_lat", ddl.real(), nullable=False),
        sa.Column("access_note", sa.Text, nullable=False, server_default=""),
        sa.Column("forms", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in ORDER_STATES) + ")",
                           name="ck_task_orders_state"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_task_orders_unit", "task_orders", ["unit_id"])
    op.create_table(
        "task_order_lots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("task_orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False, server_default=""),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("work", ddl.real(), nullable=False),
        sa.Column("work_unit", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_task_order_lots_order_id", "task_order_lots", ["order_id"])
    op.create_table(
        "task_order_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("task_orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_state", sa.Text, nullable=True),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", ddl.datetime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("trim(actor) <> ''", name="ck_task_order_events_actor"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_task_order_events_order_id", "task_order_events", ["order_id"])
    if ddl.is_sqlite():
        for table, description in _ATTRIBUTES.items():
            for stmt in gpkg.register_attributes_ddl(table, description=description):
                op.execute(stmt)


def downgrade() -> None:
    if ddl.is_sqlite():
        for table in _ATTRIBUTES:
            for stmt in gpkg.unregister_ddl(table):
                op.execute(stmt)
    for table in ("task_order_events", "task_order_lots", "task_orders"):
        op.drop_table(table)
