"""Progress reports name the task order they were done under (issue 15: field data linked to the orders).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

``field_progress.task_order`` holds the order's number (``TO-2026-0001``) a clearance or brigade report names, or NULL
(no order named, or a report staged before this revision). It is a number, not a foreign key: an order is never
deleted, and the number is what the team leader reads on the paper. Column types are frozen here. Both backends add
and drop a column in place (SQLite >= 3.35), so the GeoPackage layer's triggers and R-tree stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("field_progress", sa.Column("task_order", sa.Text, nullable=True))
    op.create_index("ix_field_progress_task_order", "field_progress", ["task_order"])


def downgrade() -> None:
    op.drop_index("ix_field_progress_task_order", table_name="field_progress")
    op.execute("ALTER TABLE field_progress DROP COLUMN task_order")
