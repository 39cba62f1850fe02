"""Capabilities of teams and brigades (issue 17 item 1): what each unit can work in besides its own role.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

``teams.capabilities`` lists the methods a deminer team is trained and equipped for besides its own ``method``
(``manual;survey;dog``); empty, the scenario default: every team can survey and clear by hand, dogs, machines and
BAC/EOD only where the register says so. ``brigades.capabilities`` lists further trades a brigade can work in
(``road;bridge``); empty, its own trade only. Values are separated by ``;``, as the workforce CSV has them. Column
types are frozen here. Both backends add and drop a column in place (SQLite >= 3.35), so the GeoPackage layers'
triggers stay. A store migrated from before plans as before with fixed pools; with ``--pools capabilities`` its teams
take the default.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("teams", "brigades")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("capabilities", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN capabilities")
