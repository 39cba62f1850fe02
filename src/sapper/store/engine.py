"""Connections to a store file and its schema migrations.

Every connection sapper opens: autocommit at the driver (sapper emits BEGIN itself), ``busy_timeout`` 10 s,
WAL journal, foreign keys on, and the ST_ functions the GeoPackage R-tree triggers call. A connection marked
with ``execution_options(sapper_write=True)`` starts its transactions with ``BEGIN IMMEDIATE`` (it takes the
write lock up front, so it waits on a busy store instead of failing when a deferred reader upgrades); others
use plain ``BEGIN``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine

from sapper.errors import StoreError
from sapper.store import gpkg

#: Execution option that makes a connection's transactions ``BEGIN IMMEDIATE``.
WRITE = "sapper_write"
#: Milliseconds a connection waits for a lock before giving up.
BUSY_TIMEOUT_MS = 10_000
#: Where the migrations live (packaged with sapper).
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _on_connect(dbapi_conn: sqlite3.Connection, record: Any) -> None:
    dbapi_conn.isolation_level = None
    gpkg.register_functions(dbapi_conn)
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        cur.close()


def _on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(path: str | Path) -> Engine:
    """An engine on the SQLite file ``path`` with sapper's connection setup (see the module docstring)."""
    url = URL.create("sqlite+pysqlite", database=str(path))
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config built in code, pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest schema revision this sapper knows."""
    head = script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise StoreError("sapper's store migrations are missing from the installation")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, in one ``BEGIN IMMEDIATE`` transaction (all or nothing).

    When a migration ran, the WAL is checkpointed so the file header (``application_id``, ``user_version``) is in
    the main file at once: GDAL reads those bytes straight from the file to recognise a GeoPackage.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE: True})
        with conn.begin():
            before = current_revision(conn)
            command.upgrade(alembic_config(conn), "head")
            after = current_revision(conn)
        if after != before:
            driver = conn.connection.driver_connection
            if driver is not None:
                driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass(frozen=True, slots=True)
class Probe:
    """What a file is, found without changing it: ``kind`` is "empty", "sapper" or "foreign"."""

    kind: str
    revision: str | None = None
    reason: str = ""


def probe(path: Path) -> Probe:
    """Inspect ``path`` read-only (no WAL switch, no writes) to decide whether it is a sapper store."""
    uri = f"file:{quote(str(path))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be opened: {exc}") from None
    try:
        try:
            tables = {
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
                if not r[0].startswith("sqlite_")
            }
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            return Probe("foreign", reason=f"it is not an SQLite database ({exc})")
        if not tables:
            return Probe("empty", reason="it is an empty SQLite database")
        what = "a GeoPackage" if app_id == gpkg.APPLICATION_ID else "an SQLite database"
        if "alembic_version" not in tables:
            return Probe("foreign", reason=f"it is {what} without sapper's tables")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
        if revision in known_revisions() or "sapper_meta" in tables:
            return Probe("sapper", revision=revision)
        if revision is None and tables == {"alembic_version"}:
            return Probe("sapper", revision=None)  # a store downgraded to its base: upgrade rebuilds it
        return Probe("foreign", reason=f"it is {what} of another application (schema revision {revision})")
    finally:
        conn.close()


def known_revisions() -> set[str]:
    return {s.revision for s in script_directory().walk_revisions()}
