"""IMSMA Core exchange: record identifiers and links, benchmarks of released land, beneficiaries by sex and age
(issue 14, item 6).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

* ``imsma_id`` (text) on ``organisations``, ``hazard_areas``, ``activities`` and ``devices_found``: the record's
  identifier in IMSMA Core (``hazard_poly_145``). NULL means the store's default, the type prefix and the row's fid
  (``hazard_poly_<fid>``, as IMSMA Core makes them from the ObjectID; organisations, which have no fid,
  ``organization_<id>``), so existing rows need no backfill and keep the same id on every export.
* ``imsma_links`` (text, comma-separated, NULL when none) on ``hazard_areas``, ``activities`` and
  ``devices_found``: links to IMSMA records sapper does not keep (accidents, victims…), kept so they travel back.
* ``activities.benchmark_lon/_lat``: the benchmark of the land an activity released (MDR land release product).
* ``hazard_areas.beneficiaries_sadd``: a JSON object of beneficiaries by sex and age, direct and indirect (NULL:
  not known).

Both backends add and drop columns in place (SQLite >= 3.35), so GeoPackage triggers and R-trees stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT: sa.types.TypeEngine[Any] = sa.Text()
#: REAL on SQLite, double precision on PostgreSQL (as ``sapper.store.types.Real``), frozen here.
_REAL: sa.types.TypeEngine[Any] = sa.REAL().with_variant(sa.Double(), "postgresql")
#: table → the columns this revision adds (name, type).
_COLUMNS: dict[str, tuple[tuple[str, sa.types.TypeEngine[Any]], ...]] = {
    "organisations": (("imsma_id", _TEXT),),
    "hazard_areas": (("imsma_id", _TEXT), ("imsma_links", _TEXT), ("beneficiaries_sadd", _TEXT)),
    "activities": (("imsma_id", _TEXT), ("imsma_links", _TEXT), ("benchmark_lon", _REAL),
                   ("benchmark_lat", _REAL)),
    "devices_found": (("imsma_id", _TEXT), ("imsma_links", _TEXT)),
}


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for name, kind in columns:
            op.add_column(table, sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for table, columns in _COLUMNS.items():
        for name, _ in reversed(columns):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
