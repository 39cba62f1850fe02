"""The programme's working calendar (issue 15): holidays in their own table; the working week and the seasonal
stand-downs of deminers and builders in ``sapper_meta`` (``calendar.*``), as the programme's land-release rules are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

``calendar_holidays`` holds one row per day nobody works (its date, a name). Column types are frozen here. On
SQLite the table is registered as a GeoPackage attributes table, as the other non-spatial tables are. A store without
``calendar.*`` rows and without holidays plans as before: six-day week, winter stand-down for deminers (1 December
to 15 March), none for builders. Down drops the table and the ``calendar.*`` settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DESCRIPTION = "The programme's holidays: days nobody works (plan, re-plan and forecast skip them)"


def upgrade() -> None:
    op.create_table(
        "calendar_holidays",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
    )
    if ddl.is_sqlite():
        for stmt in gpkg.register_attributes_ddl("calendar_holidays", description=_DESCRIPTION):
            op.execute(stmt)


def downgrade() -> None:
    if ddl.is_sqlite():
        for stmt in gpkg.unregister_ddl("calendar_holidays"):
            op.execute(stmt)
    op.drop_table("calendar_holidays")
    op.execute("DELETE FROM sapper_meta WHERE key LIKE 'calendar.%'")
