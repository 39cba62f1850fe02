"""What the migrations need to speak both backends: the dialect in use, frozen column types, PostGIS indexes and
PostgreSQL trigger functions.

Migrations import these, so they are frozen like the migrations: add new helpers, never change what one emits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.types import TypeEngine, UserDefinedType

SRID = 4326


def dialect() -> str:
    """``sqlite`` or ``postgresql``: the backend the running migration talks to."""
    return str(op.get_bind().dialect.name)


def is_sqlite() -> bool:
    return dialect() == "sqlite"


class _Named(UserDefinedType[Any]):
    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


def geom(geometry_type: str) -> TypeEngine[Any]:
    """A geometry column: the GeoPackage type name on SQLite, ``geometry(<type>, 4326)`` on PostGIS."""
    return _Named(geometry_type).with_variant(_Named(f"geometry({geometry_type}, {SRID})"), "postgresql")


def datetime() -> TypeEngine[Any]:
    """A timestamp: GeoPackage DATETIME text on SQLite, ``timestamp with time zone`` on PostgreSQL."""
    return _Named("DATETIME").with_variant(sa.DateTime(timezone=True), "postgresql")


def real() -> TypeEngine[Any]:
    """A float column: REAL on SQLite (8 bytes), ``double precision`` on PostgreSQL (whose REAL has 4)."""
    return sa.REAL().with_variant(sa.Double(), "postgresql")


def gist_index(table: str, column: str = "geom") -> str:
    """The PostGIS spatial index of a layer (the R-tree's counterpart)."""
    return f"CREATE INDEX ix_{table}_{column}_gist ON {table} USING GIST ({column})"


def pg_refuse(name: str, when: str, table: str, message: str, condition: str = "") -> list[str]:
    """A PostgreSQL trigger (and its function) that refuses ``when`` on ``table`` with ``message`` (if ``condition``).

    The counterpart of SQLite's ``RAISE(ABORT, message)``: raised as a check violation, so the store reports it as a
    refusal naming the rule. ``condition`` is SQL over OLD/NEW (evaluated inside the function: a trigger's WHEN
    cannot hold subqueries on PostgreSQL).
    """
    row = "OLD" if when.startswith("DELETE") else "NEW"
    test = f"IF {condition} THEN\n    " if condition else ""
    end = "\n  END IF;" if condition else ""
    quoted = message.replace("'", "''")
    body = f"  {test}RAISE EXCEPTION '{quoted}' USING ERRCODE = 'check_violation';{end}\n  RETURN {row};"
    return [
        f"CREATE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\nEND\n$$",
        f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()",
    ]


def pg_drop_refuse(name: str, table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}_fn()"]
