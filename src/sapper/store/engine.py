"""Connections to a store (an SQLite/GeoPackage file or a PostgreSQL/PostGIS database) and its schema migrations.

A store is named by a *target*: a file path (SQLite, the default) or a ``postgresql://`` /
``postgresql+psycopg://`` URL (PostgreSQL with PostGIS, through psycopg 3). Nothing connects until a store is
opened; a password in a URL is never shown (``Target.display`` masks it, and error messages are scrubbed of it).

On PostgreSQL, connections use plain READ COMMITTED transactions: concurrent edits are kept apart by row versions
(see ``repository.update_hazard``), not by locking the database. Migrations take a transaction-level advisory lock,
so two processes opening a new database at once migrate it once.

Every SQLite connection sapper opens: autocommit at the driver (sapper emits BEGIN itself), ``busy_timeout`` 10 s,
WAL journal, foreign keys on, and the ST_ functions the GeoPackage R-tree triggers call. A connection marked
with ``execution_options(sapper_write=True)`` starts its transactions with ``BEGIN IMMEDIATE`` (it takes the
write lock up front, so it waits on a busy store instead of failing when a deferred reader upgrades); others
use plain ``BEGIN``.

Pools: both backends keep up to ``POOL_SIZE`` connections open (``sapper serve`` runs up to
``api.settings.Settings.threads`` requests at once per worker process, fewer than that), so a busy server reuses
its connections instead of opening and closing one per request (opening an SQLite connection, with its pragmas and
functions, cost more than the query it served). A PostgreSQL connection that sat idle in the pool for
``IDLE_PING_SECONDS`` or more is pinged before it is handed out, and replaced when the ping fails (a server restart):
busy connections are not pinged, which saves a round trip per request.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from sapper.errors import StoreError
from sapper.messages import msg
from sapper.store import gpkg, rowscope

#: Connections a store's pool keeps open (and as many more, closed again when returned, at a peak).
POOL_SIZE = 20
#: A pooled PostgreSQL connection idle this long is pinged before use.
IDLE_PING_SECONDS = 30.0
#: Execution option that makes a connection's transactions ``BEGIN IMMEDIATE``.
WRITE = "sapper_write"
#: Milliseconds a connection waits for a lock before giving up.
BUSY_TIMEOUT_MS = 10_000
#: Advisory-lock key that serialises migrations on PostgreSQL ("sapper" in ASCII).
MIGRATION_LOCK = 0x736170706572
#: Where the migrations live (packaged with sapper).
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _on_connect(dbapi_conn: sqlite3.Connection, record: Any) -> None:
    dbapi_conn.isolation_level = None
    gpkg.register_functions(dbapi_conn)
    gpkg.register_spatial_predicates(dbapi_conn)
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        cur.close()


def _on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE) else "DEFERRED"
    # Straight to the driver: through SQLAlchemy's execution machinery this cost as much as a small query. A
    # driver error (the store busy past the timeout) is raised as SQLAlchemy's, as that machinery would have.
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        driver.execute(f"BEGIN {mode}")
    except sqlite3.Error as exc:
        raise sa_exc.OperationalError(f"BEGIN {mode}", None, exc) from exc


class Backend(StrEnum):
    """The kind of database behind a store."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a store lives: a file (``path``) or a PostgreSQL database (``url``); ``display`` hides the password."""

    backend: Backend
    display: str
    path: Path | None = None
    url: URL | None = None

    def scrub(self, message: str) -> str:
        """``message`` with the URL's password (if any) replaced by ``***``."""
        password = None if self.url is None else self.url.password
        return message.replace(str(password), "***") if password else message


def is_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL database (a ``postgresql://`` or ``postgresql+psycopg://`` URL)."""
    return isinstance(target, str) and target.split("://", 1)[0] in ("postgresql", "postgresql+psycopg", "postgres")


def parse_target(target: str | Path) -> Target:
    """The store ``target`` names: a PostgreSQL URL, or else a file path (``~`` expanded)."""
    if isinstance(target, str) and "://" in target and not is_url(target):
        scheme = target.split("://", 1)[0]
        raise StoreError(f"a store is a file path or a postgresql:// URL, not a {scheme}:// URL")
    if not is_url(target):
        path = Path(target).expanduser()
        return Target(Backend.SQLITE, str(path), path=path)
    try:
        url = make_url(str(target))
    except sa_exc.ArgumentError:
        raise StoreError(
            "the store URL cannot be read (expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)"
        ) from None
    url = url.set(drivername="postgresql+psycopg")
    if not url.database:
        raise StoreError(f"the store URL {url.render_as_string(hide_password=True)} names no database")
    return Target(Backend.POSTGRESQL, url.render_as_string(hide_password=True), url=url)


def make_engine(target: str | Path | Target) -> Engine:
    """An engine on the store ``target`` with sapper's connection setup (see the module docstring)."""
    found = target if isinstance(target, Target) else parse_target(target)
    if found.backend is Backend.POSTGRESQL:
        assert found.url is not None
        return _pg_engine(found.url)
    assert found.path is not None
    return _sqlite_engine(found.path)


def _on_checkin(dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _on_checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
    """Ping a connection that has been idle ``IDLE_PING_SECONDS`` or more; a dead one is replaced (the pool
    retries the checkout on DisconnectionError)."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
        return
    try:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT 1")
        finally:
            cur.close()
        dbapi_conn.rollback()
    except Exception as exc:  # whatever the driver raises for a dead connection
        raise sa_exc.DisconnectionError(str(exc)) from exc


#: Set in a connection's info when a bulk insert raised its page cache (``repository._room_for``); the pool sets
#: SQLite's default page cache (:data:`SQLITE_DEFAULT_CACHE`, 2 MiB) again on check-in.
BULK_CACHE_KEY = "sapper_bulk_cache"
SQLITE_DEFAULT_CACHE = -2000


def _sqlite_checkin(dbapi_conn: Any, record: Any) -> None:
    """A connection whose page cache a bulk insert raised (``repository._room_for``) gets SQLite's default again
    when it goes back to the pool: a pool of connections each keeping up to 256 MiB would hold memory for nothing."""
    if record.info.pop(BULK_CACHE_KEY, False):
        dbapi_conn.execute(f"PRAGMA cache_size = {SQLITE_DEFAULT_CACHE}")


def _pg_engine(url: URL) -> Engine:
    # No GeoAlchemy2 (not a dependency): 0.18's table-creation hooks fail on SQLAlchemy 2.1 (ColumnCollection), and
    # sapper's own Geometry type (store/types.py) binds and reads PostGIS geometry without it.
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE, connect_args={"connect_timeout": 10})
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "checkout", _on_checkout)
    event.listen(engine, "begin", rowscope.on_begin)  # sapper.org for row-level security (revision 0015)
    return engine


def _sqlite_engine(path: Path) -> Engine:
    url = URL.create("sqlite+pysqlite", database=str(path))
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE,
                           connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "checkin", _sqlite_checkin)
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
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            before = current_revision(conn)
            command.upgrade(alembic_config(conn), "head")
            after = current_revision(conn)
        if after != before and conn.dialect.name == "sqlite":
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
            return Probe("foreign", reason=msg("it is not an SQLite database ({reason})", reason=exc))
        if not tables:
            return Probe("empty", reason=msg("it is an empty SQLite database"))
        gpkg_file = app_id == gpkg.APPLICATION_ID
        if "alembic_version" not in tables:
            return Probe("foreign", reason=msg("it is a GeoPackage without sapper's tables") if gpkg_file else
                         msg("it is an SQLite database without sapper's tables"))
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
        if revision in known_revisions() or "sapper_meta" in tables:
            return Probe("sapper", revision=revision)
        if revision is None and tables == {"alembic_version"}:
            return Probe("sapper", revision=None)  # a store downgraded to its base: upgrade rebuilds it
        return Probe("foreign", reason=msg("it is a GeoPackage of another application (schema revision {revision})",
                                           revision=revision) if gpkg_file else
                     msg("it is an SQLite database of another application (schema revision {revision})",
                         revision=revision))
    finally:
        conn.close()


#: Tables PostGIS itself puts in a database (not a sign of another application).
_POSTGIS_TABLES = frozenset({"spatial_ref_sys", "geography_columns", "geometry_columns", "raster_columns",
                             "raster_overviews"})


def probe_database(engine: Engine, display: str) -> Probe:
    """Inspect a PostgreSQL database (read only) to decide whether it is a sapper store, like :func:`probe`."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names()) | set(inspect(conn).get_view_names())
        tables = names - _POSTGIS_TABLES
        if not tables:
            return Probe("empty", reason=msg("it is an empty database"))
        if "alembic_version" not in tables:
            return Probe("foreign", reason=msg("it is a database without sapper's tables"))
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        conn.rollback()
    revision = None if row is None else str(row[0])
    if revision in known_revisions() or "sapper_meta" in tables:
        return Probe("sapper", revision=revision)
    if revision is None and tables == {"alembic_version"}:
        return Probe("sapper", revision=None)
    return Probe("foreign", reason=msg("it is a database of another application (schema revision {revision})",
                                       revision=revision))


def create_database(url: URL) -> None:
    """Create the database ``url`` names (connecting to the server's ``postgres`` database to do it)."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 10})
    try:
        with admin.connect() as conn:
            name = conn.dialect.identifier_preparer.quote(str(url.database))
            conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()


def known_revisions() -> set[str]:
    return {s.revision for s in script_directory().walk_revisions()}
