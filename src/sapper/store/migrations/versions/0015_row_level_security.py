"""Row-level security on PostgreSQL for the organisation-scoped tables (issue 16, item 6).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` on hazard areas, activities, teams, brigades, accidents and victims,
each with one policy ``sapper_org_scope`` keyed on the transaction setting ``sapper.org`` (``*``: every row; an
organisation id: its rows; unset or empty: none). sapper sets it in every transaction (``sapper.store.rowscope``).
The policies bind a role that is neither a superuser nor BYPASSRLS: the web service's role, which does not own the
tables. SQLite has nothing to do. Down drops the policies and disables row-level security.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from sapper.store import ddl
from sapper.store.rowscope import EVERY, SCOPED_TABLES, SETTING

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "sapper_org_scope"


def upgrade() -> None:
    if ddl.is_sqlite():
        return
    setting = f"coalesce(current_setting('{SETTING}', true), '')"
    for table, owner in SCOPED_TABLES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({setting} = '{EVERY}' OR {owner} = {setting})")


def downgrade() -> None:
    if ddl.is_sqlite():
        return
    for table in SCOPED_TABLES:
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
