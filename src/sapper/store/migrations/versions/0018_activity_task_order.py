"""Land-release activities name the task order they were done under (survey reports linked to their orders).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

``activities.task_order`` holds the number of the order (``TO-2026-0001``) the field report an activity came from
names: a non-technical or technical survey report, or a clearance report with the outline of the land it cleared.
NULL when no order was named, for activities recorded otherwise, and for those applied before this revision. As
``field_progress.task_order`` (revision 0014) it is a number, not a foreign key: an order is never deleted, and the
number is what the team leader reads on the paper. Both backends add and drop a column in place (SQLite >= 3.35),
so the GeoPackage layer's triggers and R-tree stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("activities", sa.Column("task_order", sa.Text, nullable=True))
    op.create_index("ix_activities_task_order", "activities", ["task_order"])


def downgrade() -> None:
    op.drop_index("ix_activities_task_order", table_name="activities")
    op.execute("ALTER TABLE activities DROP COLUMN task_order")
