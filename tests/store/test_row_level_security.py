"""Row-level security on PostgreSQL (revision 0015): a role that does not own the tables sees, even with raw SQL,
only the rows of the organisation its transaction names; the web service running as that role sets it from the
caller in every transaction."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from sapper.api import Settings, create_app
from sapper.store import open_store, rowscope
from tests.api.conftest import DATA_KEY, PASSWORD, fill
from tests.cli.entry import run
from tests.conftest import PostgisServer
from tests.store.migrating import migrate

#: A login role is the whole server's, not one database's: one per test process (xdist workers run side by side).
ROLE = f"sapper_rls_test_{os.getpid()}"


@pytest.fixture
def app_role(postgis: PostgisServer) -> Iterator[tuple[str, str]]:
    """A filled PostGIS store (as its owner) and the URL of a login role that does not own it, granted the app's
    rights: (owner URL, app role URL)."""
    url = postgis.clean_store_database()
    fill(url)
    password = secrets.token_hex(12)
    with postgis.admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).first()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(text(f"{verb} ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{password}'"))
    owner = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    rowscope.grant_app_role(owner, ROLE)
    owner.dispose()
    as_app = make_url(url).set(username=ROLE, password=password).render_as_string(hide_password=False)
    yield url, as_app
    owner = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    with owner.begin() as conn:  # the role goes with its rights (roles belong to the whole server)
        conn.execute(text(f"DROP OWNED BY {ROLE}"))
    owner.dispose()
    with postgis.admin.connect() as conn:
        conn.execute(text(f"DROP ROLE {ROLE}"))


def raw(engine: Engine, org: str | None, sql: str) -> list[str]:
    """``sql`` in one transaction with ``sapper.org`` set to ``org`` (left unset for None), its first column."""
    with engine.connect() as conn:
        if org is not None:
            conn.exec_driver_sql("SELECT set_config('sapper.org', %s, true)", (org,))
        return sorted(str(r[0]) for r in conn.execute(text(sql)))


def test_the_app_role_sees_only_the_organisation_it_names(app_role: tuple[str, str]) -> None:
    """As the app's role with raw SQL: op-a sees only op-a's hazard areas, activities and teams; unset or empty sees
    nothing; ``*`` sees all; a row of another organisation cannot be written or changed."""
    _, as_app = app_role
    engine = create_engine(make_url(as_app).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    engine.dispose()  # no sapper hooks: plain SQLAlchemy, as anyone holding the role's password
    try:
        orgs = "SELECT DISTINCT organisation_id FROM {t}"
        assert raw(engine, "op-a", orgs.format(t="hazard_areas")) == ["op-a"]
        assert raw(engine, "op-a", orgs.format(t="activities")) == ["op-a"]
        assert raw(engine, "op-a", orgs.format(t="teams")) == ["op-a"]
        assert raw(engine, "op-b", "SELECT id FROM hazard_areas") == ["HA-B1"]
        assert raw(engine, None, "SELECT id FROM hazard_areas") == []
        assert raw(engine, "", "SELECT id FROM hazard_areas") == []
        assert raw(engine, "*", "SELECT id FROM hazard_areas") == ["HA-A1", "HA-A2", "HA-B1"]
        assert raw(engine, "op-a", "UPDATE hazard_areas SET name = 'x' WHERE id = 'HA-B1' RETURNING id") == []
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT set_config('sapper.org', 'op-a', true)")
            with pytest.raises(Exception, match="row-level security"):
                conn.execute(text("UPDATE teams SET organisation_id = 'op-b' WHERE id = 'T-A'"))
        with engine.connect() as conn:
            owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'hazard_areas'")).scalar()
            forced = conn.execute(
                text("SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = 'hazard_areas'")
            ).scalar()
        assert owner != ROLE and forced is True
    finally:
        engine.dispose()


def test_the_service_running_as_the_app_role_scopes_every_transaction(app_role: tuple[str, str]) -> None:
    """The web service connected as the app's role: an operator's planner lists only its hazard areas, the
    authority's officer all of them; another organisation's area is a 404."""
    _, as_app = app_role
    with TestClient(create_app(Settings(db=as_app, data_key=DATA_KEY))) as client:

        def ids(user: str, path: str = "/collections/hazard_areas/items?f=json") -> list[str]:
            got = client.get(path, auth=(user, PASSWORD))
            assert got.status_code == 200, got.text
            return sorted(str(f["id"]) for f in got.json()["features"])

        assert ids("plan-a") == ["HA-A1", "HA-A2"]
        assert ids("plan-b") == ["HA-B1"]
        assert ids("ima") == ["HA-A1", "HA-A2", "HA-B1"]
        assert client.get("/collections/hazard_areas/items/HA-B1?f=json", auth=("plan-a", PASSWORD)).status_code == 404


def test_a_read_that_forgets_the_scope_is_still_scoped(app_role: tuple[str, str]) -> None:
    """As the app's role, a store read with no organisation filter of its own (``Store.hazards``) sees only the
    admitted organisation's rows inside a request, nothing before the caller is admitted, everything outside one."""
    _, as_app = app_role
    with open_store(as_app) as store:
        with rowscope.request_scope():
            assert store.hazards() == []
            rowscope.admit("op-a")
            assert sorted(h.id for h in store.hazards()) == ["HA-A1", "HA-A2"]
            rowscope.admit(None)  # the national authority
            assert len(store.hazards()) == 3
        assert sorted(h.id for h in store.hazards()) == ["HA-A1", "HA-A2", "HA-B1"]


def test_migration_0015_down_and_up(postgis: PostgisServer) -> None:
    """Down to 0013 drops the policies and turns row-level security off on every scoped table; up brings both back
    (enabled and forced)."""
    url = postgis.clean_store_database()
    query = (
        "SELECT count(*) FROM pg_class c JOIN pg_policies p ON p.tablename = c.relname "
        "WHERE c.relrowsecurity AND c.relforcerowsecurity AND p.policyname = 'sapper_org_scope'"
    )

    def scoped() -> int:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text(query)).scalar_one())
        finally:
            engine.dispose()

    assert scoped() == len(rowscope.SCOPED_TABLES)
    migrate(url, "0013", down=True)
    assert scoped() == 0
    migrate(url, "0015", down=False)
    assert scoped() == len(rowscope.SCOPED_TABLES)


def test_grant_service_role_on_the_command_line(
    postgis: PostgisServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``sapper grant-service-role`` grants a role its rights (it can then read, scoped); an unknown role or an SQLite
    store is one line, exit 4."""
    url = postgis.clean_store_database()
    fill(url)
    with postgis.admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).first()
        conn.execute(text(f"{'ALTER' if exists else 'CREATE'} ROLE {ROLE} LOGIN PASSWORD 'cli-test-pw-1'"))
    try:
        code, out, err = run(monkeypatch, capsys, "grant-service-role", ROLE, "--db", url)
        assert code == 0, err
        assert f"{ROLE} may now run the web service" in out
        as_app = make_url(url).set(username=ROLE, password="cli-test-pw-1", drivername="postgresql+psycopg")
        engine = create_engine(as_app, poolclass=NullPool)
        assert raw(engine, "op-b", "SELECT id FROM hazard_areas") == ["HA-B1"]
        engine.dispose()
        code, _, err = run(monkeypatch, capsys, "grant-service-role", "no_such_role_xyz", "--db", url)
        assert code == 4 and len(err.strip().splitlines()) == 1 and "no_such_role_xyz" in err
        sqlite = tmp_path / "s.gpkg"
        open_store(sqlite, create=True).close()
        code, _, err = run(monkeypatch, capsys, "grant-service-role", ROLE, "--db", sqlite)
        assert code == 4 and "SQLite store" in err
    finally:
        owner = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
        with owner.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {ROLE}"))
        owner.dispose()
        with postgis.admin.connect() as conn:
            conn.execute(text(f"DROP ROLE {ROLE}"))
