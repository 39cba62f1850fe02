"""Source attributes: the columns of an imported file that sapper does not use, kept with the record (issue 14).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

``hazard_areas.source_attributes`` and ``assets.source_attributes`` hold a JSON object as text (``{}`` when the
record has none), the same on SQLite/GeoPackage and PostgreSQL/PostGIS (as ``plan_runs.params`` does), so a store
copies between backends unchanged and GDAL reads the column as plain text. Column types are frozen here. Both
backends add and drop a column in place (SQLite >= 3.35), so the GeoPackage layers' triggers and R-trees stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("hazard_areas", "assets")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("source_attributes", sa.Text, nullable=False, server_default="{}"))


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN source_attributes")
