"""Row versions on the editable layers, so a concurrent edit cannot be lost.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

``version`` (an integer, 1 for every existing row) on hazard_areas, assets, activities, teams and brigades. Every
update through sapper sets it to ``version + 1``; an edit names the version it read and is refused with a conflict
when the row has moved on (``repository.update_hazard``). The same columns on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("hazard_areas", "assets", "activities", "teams", "brigades")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("version", sa.Integer, nullable=False, server_default="1"))


def downgrade() -> None:
    for table in _TABLES:
        op.drop_column(table, "version")
