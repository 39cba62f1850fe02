"""Fixtures shared by the whole suite: a fresh store per test on each backend, for the tests that run on both: a
GeoPackage file copied from an empty store made once per session, or a throwaway PostGIS database.

The server comes from ``SAPPER_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``). Once per
session a template database ``sapper_test_<pid>_<random>_tpl`` is created and migrated to the newest schema,
and a working database is copied from it. Each test gets the working database emptied: every table's rows deleted
(triggers off for the moment, so the append-only guards do not refuse it) and the id sequences restarted, after
checking that its schema (columns, indexes, triggers, functions, revision) is still exactly the template's; if a
test changed the schema, the working database is dropped and copied anew. Measured on the 2-core machine under
load: emptying 0.08-0.5 s (typically 0.1-0.2 s), against 1.4-1.9 s for a fresh ``CREATE DATABASE … TEMPLATE``
per test and 1.2-1.5 s for ``TRUNCATE`` (which makes new files and syncs them).
Everything is dropped at the end of the session.

When the server cannot be reached, the PostGIS tests are skipped with the reason (``-ra`` prints it); with the
environment variable ``CI`` set they fail instead, so CI cannot pass without running them.

Under pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``) each worker is its own session: its own template and
working databases (the names hold the worker's pid) and its own temporary folders. The tests that share something a
test module or the session builds once (a planned register, a browser, a server) are put in one ``xdist_group``, so
one worker builds it once; every other test goes to whichever worker is free.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from sapper.store import open_store
from sapper.store.schema import metadata

#: The schema of a database as a comparable text (columns, indexes, triggers, functions, Alembic revision).
_FINGERPRINT = """
SELECT concat_ws(' | ',
  (SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || coalesce(column_default, ''),
                     ',' ORDER BY table_name, column_name)
     FROM information_schema.columns WHERE table_schema = 'public'),
  (SELECT string_agg(indexdef, ',' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'),
  (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
  (SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')),
  (SELECT string_agg(version_num, ',') FROM alembic_version))
"""

PG_URL = os.environ.get("SAPPER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class PostgisServer:
    """The test PostgreSQL server: makes and drops throwaway databases."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.admin: Engine = create_engine(
            self.url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
        self.prefix = f"sapper_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.template = f"{self.prefix}_tpl"
        self._names = (f"{self.prefix}_{i}" for i in itertools.count())
        self._made: set[str] = set()
        self._fingerprint = ""
        self._work: str | None = None

    def url_of(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self._made.add(name)
        return self.url_of(name)

    def setup(self) -> None:
        with self.admin.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
        if found is None:
            raise RuntimeError("the PostGIS extension is not installed on the server")
        template = self._create(self.template)
        open_store(template, create=True).close()
        engine = self._engine(template)
        with engine.connect() as conn:
            self._fingerprint = str(conn.execute(text(_FINGERPRINT)).scalar_one())
        engine.dispose()

    def _engine(self, url: str) -> Engine:
        return create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)

    def clean_store_database(self) -> str:
        """The working database, emptied, with the template's schema (copied anew when a test changed it)."""
        if self._work is not None:
            engine = self._engine(self._work)
            try:
                with engine.begin() as conn:
                    if conn.execute(text(_FINGERPRINT)).scalar_one() == self._fingerprint:
                        _empty(conn)
                        return self._work
            finally:
                engine.dispose()
            self.drop(self._work)
        self._work = self.new_store_database()
        return self._work

    def new_store_database(self) -> str:
        """A new database holding an empty sapper store at the newest schema revision (its URL)."""
        return self._create(next(self._names), self.template)

    def new_empty_database(self) -> str:
        """A new, empty database (no PostGIS, no tables): for tests of creating and migrating a store."""
        return self._create(next(self._names))

    def drop(self, url: str) -> None:
        name = str(make_url(url).database)
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._made.discard(name)

    def close(self) -> None:
        for name in [*sorted(self._made - {self.template}), self.template]:
            if name in self._made:
                self.drop(self.url_of(name))
        self.admin.dispose()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use one fixture built once per module or per session by the suite (not the store templates
    ``postgis`` and ``gpkg_template``: cheap, and every worker has its own) share an ``xdist_group`` with every other
    test of that module or of that fixture. The tests marked ``slow`` (the README tour, minutes) are put first, so
    that under xdist one worker is not left running them alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    shared: dict[str, list[str]] = {}
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        keys = []
        for name in item.fixturenames:
            defs = info.name2fixturedefs.get(name)
            if not defs or name in ("postgis", "gpkg_template"):
                continue
            if not getattr(defs[-1].func, "__module__", "").startswith("tests."):
                continue
            if defs[-1].scope == "module":
                keys.append("module:" + item.nodeid.split("::", 1)[0])
            elif defs[-1].scope in ("package", "session"):
                keys.append("session:" + name)
        if keys:
            shared[item.nodeid] = keys
            for key in keys[1:]:
                parent[root(key)] = root(keys[0])
    for item in items:
        if item.nodeid in shared:
            item.add_marker(pytest.mark.xdist_group(root(shared[item.nodeid][0]).split(":", 1)[1]))


def _empty(conn: Connection) -> None:
    """Delete every row of sapper's tables (triggers off for this transaction) and restart the id sequences."""
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    for table in reversed(metadata.sorted_tables):
        conn.execute(text(f"DELETE FROM {table.name}"))
    conn.execute(text(
        "SELECT setval(s.oid, 1, false) FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
        "WHERE s.relkind = 'S' AND n.nspname = 'public'"))


@pytest.fixture(scope="session")
def postgis() -> Iterator[PostgisServer]:
    """The PostGIS test server (skipped with a reason when unreachable; a failure when ``CI`` is set)."""
    server = PostgisServer(PG_URL)
    try:
        server.setup()
    except Exception as exc:  # the server is down, refuses us, or lacks PostGIS
        shown = make_url(PG_URL).render_as_string(hide_password=True)
        reason = f"PostGIS tests need PostgreSQL with PostGIS at {shown} (SAPPER_TEST_PG): " + (
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        server.admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(reason + " — CI must run them", pytrace=False)
        pytest.skip(reason)
    yield server
    server.close()


@pytest.fixture(scope="session")
def gpkg_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty GeoPackage store at the newest schema revision, made once per session (per xdist worker)."""
    path = tmp_path_factory.mktemp("template") / "sapper.gpkg"
    open_store(path, create=True).close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["sapper.gpkg"], "the template left a journal behind"
    return path


@pytest.fixture(params=["sqlite", "postgis"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """Where a fresh store lives: a GeoPackage file path holding an empty store at head (a copy of the session's
    template: making the schema anew per test cost ~0.15 CPU s), or the URL of a PostGIS database at head, emptied."""
    if request.param == "sqlite":
        path = tmp_path / "sapper.gpkg"
        shutil.copyfile(request.getfixturevalue("gpkg_template"), path)
        yield path
        return
    server: PostgisServer = request.getfixturevalue("postgis")
    yield server.clean_store_database()
