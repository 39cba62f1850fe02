"""What the migration tests share: moving a store to a revision, the tables and columns it then has, and a fresh
store at head on the backend a fixture's parameter names."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from sapper.store import engine as engines
from sapper.store import open_store


def migrate(target: str | Path, revision: str, *, down: bool) -> None:
    """Upgrade (or with ``down``, downgrade) the store ``target`` to ``revision``, in one transaction."""
    engine = engines.make_engine(target)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(**{engines.WRITE: True})
            with conn.begin():
                (command.downgrade if down else command.upgrade)(engines.alembic_config(conn), revision)
    finally:
        engine.dispose()


def tables(target: str | Path) -> set[str]:
    """The store's table names."""
    engine = engines.make_engine(target)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy does not know PostGIS's geometry type: names are enough
            return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def columns(target: str | Path, table: str) -> set[str]:
    """The column names of ``table`` in the store."""
    engine = engines.make_engine(target)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy does not know PostGIS's geometry type: columns are enough
            return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def new_store(request: pytest.FixtureRequest, tmp_path: Path, name: str = "s.gpkg") -> str | Path:
    """An empty store at head: a GeoPackage when the fixture's parameter is ``gpkg``, else a new PostGIS database."""
    if request.param == "gpkg":
        where: str | Path = tmp_path / name
        open_store(where, create=True).close()
        return where
    server = request.getfixturevalue("postgis")
    url: str = server.clean_store_database()
    return url
