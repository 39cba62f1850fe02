"""Both backends behind one API: store targets and URLs, row versions and the lost-update race, features by box,
PostGIS column types and indexes, and migrations up and down on PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
import shapely
from sqlalchemy import create_engine, text

from sapper.domain.hazards import HazardArea, LandUse
from sapper.errors import ConflictError, NotFoundError, StoreError, ValidationError
from sapper.store import Backend, HazardEdit, Store, open_store
from sapper.store import engine as engines
from sapper.store.schema import metadata
from tests.conftest import PostgisServer
from tests.store.conftest import fill


def test_backend_and_url_of_each_kind(store: Store, store_target: str | Path) -> None:
    """A path opens a GeoPackage store (path kept), a postgresql:// URL a PostGIS one (no path, URL shown)."""
    if isinstance(store_target, Path):
        assert (store.backend, store.path, store.url) == (Backend.SQLITE, store_target, str(store_target))
    else:
        assert store.backend is Backend.POSTGRESQL and store.path is None
        assert store.url.startswith("postgresql+psycopg://") and store.url.endswith(store_target.rsplit("/", 1)[1])
    assert store.revision() == engines.head_revision()


def test_password_is_never_shown(tmp_path: Path) -> None:
    """A URL's password appears neither in the store's name nor in a connection error."""
    target = engines.parse_target("postgresql://sapper:s3cr3t-pw@127.0.0.1:1/register")
    assert "s3cr3t-pw" not in target.display and "***" in target.display
    assert target.scrub("server said: bad s3cr3t-pw") == "server said: bad ***"  # what errors pass through
    with pytest.raises(StoreError) as refused:
        open_store("postgresql://sapper:s3cr3t-pw@127.0.0.1:1/register")
    assert "s3cr3t-pw" not in str(refused.value)
    assert "cannot be opened" in str(refused.value)


def test_other_url_schemes_are_refused() -> None:
    """Only file paths and postgresql:// URLs name a store."""
    with pytest.raises(StoreError, match="not a mysql:// URL"):
        open_store("mysql://root@localhost/register")
    with pytest.raises(StoreError, match="names no database"):
        open_store("postgresql://postgres@127.0.0.1:5432")


def test_missing_database_needs_create(postgis: PostgisServer) -> None:
    """A database that does not exist is NotFound without create, and is created (and migrated) with it."""
    url = postgis.url_of(f"{postgis.prefix}_made_by_open")
    with pytest.raises(NotFoundError, match="the database does not exist"):
        open_store(url)
    try:
        with open_store(url, create=True) as store:
            assert store.revision() == engines.head_revision()
        with open_store(url) as again:  # now a sapper store: opens without create
            assert again.counts()["hazard_areas"] == 0
    finally:
        postgis.drop(url)


def test_empty_and_foreign_databases(postgis: PostgisServer) -> None:
    """An empty database needs create; one holding another application's tables is refused and left alone."""
    url = postgis.new_empty_database()
    try:
        with pytest.raises(StoreError, match="empty database"):
            open_store(url)
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE invoices (id integer primary key)"))
        with pytest.raises(StoreError, match="without sapper's tables"):
            open_store(url, create=True)
        with engine.connect() as conn:
            tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        engine.dispose()
        assert tables == {"invoices"}
    finally:
        postgis.drop(url)


def test_postgis_migrations_down_to_base_and_up(postgis: PostgisServer) -> None:
    """On an empty database every migration upgrades, downgrades to nothing of sapper's, and upgrades again."""
    url = postgis.new_empty_database()
    try:
        open_store(url, create=True).close()
        engine = engines.make_engine(url)

        def tables() -> set[str]:
            with engine.connect() as conn:
                return set(conn.execute(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' UNION "
                    "SELECT viewname FROM pg_views WHERE schemaname = 'public'")).scalars())

        at_head = tables()
        assert {t.name for t in metadata.sorted_tables} <= at_head
        assert {"planned_hazard_release", "planned_asset_restoration"} <= at_head
        with engine.connect() as conn, conn.begin():
            from alembic import command

            command.downgrade(engines.alembic_config(conn), "base")
        assert tables() - {"spatial_ref_sys", "geography_columns", "geometry_columns"} == {"alembic_version"}
        engine.dispose()
        with open_store(url) as store:
            assert store.revision() == engines.head_revision()
            fill(store)
            assert store.counts()["hazard_areas"] == 4
        assert tables() == at_head
    finally:
        postgis.drop(url)


def test_postgis_columns_and_indexes(postgis: PostgisServer) -> None:
    """Geometry is geometry(<type>, 4326) with a GiST index, timestamps timestamptz, floats double precision; the
    columns are exactly those schema.py declares."""
    url = postgis.new_store_database()
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            geoms = {(r[0], r[1], r[2]) for r in conn.execute(text(
                "SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema = 'public'"))}
            gist = set(conn.execute(text(
                "SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%USING gist (geom)%'")).scalars())
            types = {(r[0], r[1]): r[2] for r in conn.execute(text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'"))}
        engine.dispose()
    finally:
        postgis.drop(url)
    assert ("hazard_areas", "GEOMETRY", 4326) in geoms and ("devices_found", "POINT", 4326) in geoms
    tables_with_geom = {t for t, _, _ in geoms if not t.startswith("planned_")}
    assert gist == tables_with_geom
    assert types[("land_release_events", "occurred_at")] == "timestamp with time zone"
    assert types[("activities", "start_date")] == "date"
    assert types[("hazard_areas", "area_m2")] == "double precision"
    assert types[("hazard_areas", "version")] == "integer"
    declared = {(t.name, c.name) for t in metadata.sorted_tables for c in t.columns}
    made = {key for key in types if key[0] in metadata.tables}
    assert made == declared  # the migrations make exactly the columns schema.py declares


# ----------------------------------------------------------------------------------------------------
# Row versions
# ----------------------------------------------------------------------------------------------------


def test_versions_start_at_one_and_count_updates(filled: Store, hazards: list[HazardArea]) -> None:
    """A new hazard area is at version 1; replacing it and editing it each add one."""
    assert filled.hazard_version("h-1") == 1
    filled.add_hazards([dataclasses.replace(hazards[0], name="renamed")], replace=True)
    assert filled.hazard_version("h-1") == 2
    edit = dataclasses.replace(HazardEdit.of(filled.hazard("h-1")), beneficiaries=40, land_use=LandUse.FOREST)
    assert filled.update_hazard("h-1", edit, expected_version=2) == 3
    stored = filled.hazard("h-1")
    assert (stored.name, stored.beneficiaries, stored.land_use, filled.hazard_version("h-1")) == (
        "renamed", 40, LandUse.FOREST, 3)
    assert filled.hazard_version("h-2") == 1  # the others are untouched


def test_stale_edit_is_a_conflict_and_writes_nothing(filled: Store) -> None:
    """An edit naming an old version raises ConflictError (code, HTTP 409) and changes nothing."""
    before = filled.hazard("h-2")
    first = dataclasses.replace(HazardEdit.of(before), name="first")
    filled.update_hazard("h-2", first, expected_version=1)
    with pytest.raises(ConflictError, match="hazard area h-2 was changed by someone else") as lost:
        filled.update_hazard("h-2", dataclasses.replace(HazardEdit.of(before), name="second"), expected_version=1)
    assert (lost.value.code, lost.value.http_status) == ("conflict", 409)
    assert filled.hazard("h-2").name == "first"
    assert filled.hazard_version("h-2") == 2


def test_edit_of_missing_or_invalid_hazard(filled: Store) -> None:
    """An unknown id is NotFound; an invalid edit or an unknown organisation is refused, nothing written."""
    edit = HazardEdit.of(filled.hazard("h-1"))
    with pytest.raises(NotFoundError, match="hazard area h-9 is not in the store"):
        filled.update_hazard("h-9", edit, expected_version=1)
    with pytest.raises(NotFoundError):
        filled.hazard_version("h-9")
    with pytest.raises(ValidationError, match="geometry"):
        filled.update_hazard("h-1", dataclasses.replace(edit, geometry=shapely.Point(35, 50)), expected_version=1)
    with pytest.raises(ValidationError, match="organisation nobody is not in the store"):
        filled.update_hazard("h-1", dataclasses.replace(edit, organisation_id="nobody"), expected_version=1)
    assert filled.hazard_version("h-1") == 1
    moved = shapely.box(35.5, 50.5, 35.51, 50.51)
    filled.update_hazard("h-1", dataclasses.replace(edit, geometry=moved), expected_version=1)
    assert filled.hazard("h-1").geometry.equals(moved)
    assert filled.bbox_search("hazard_areas", 35.5, 50.5, 35.6, 50.6) == ["h-1"]


def test_two_connections_race_on_one_hazard(filled: Store, store_target: str | Path) -> None:
    """Two stores read the same version and edit at once: exactly one wins, the other gets ConflictError."""
    other = open_store(store_target)
    read = filled.hazard("h-3")
    version = filled.hazard_version("h-3")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def edit(name: str, store: Store) -> None:
        barrier.wait()
        try:
            results[name] = store.update_hazard("h-3", dataclasses.replace(HazardEdit.of(read), name=name),
                                                expected_version=version)
        except ConflictError as exc:
            results[name] = exc

    threads = [threading.Thread(target=edit, args=(n, s)) for n, s in (("alpha", filled), ("beta", other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    other.close()
    winners = [n for n, r in results.items() if r == version + 1]
    losers = [n for n, r in results.items() if isinstance(r, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert filled.hazard("h-3").name == winners[0]  # the winner's edit is what is stored, not lost
    assert filled.hazard_version("h-3") == version + 1


# ----------------------------------------------------------------------------------------------------
# Features by box
# ----------------------------------------------------------------------------------------------------


def test_bbox_features_return_geometry_and_version(filled: Store, hazards: list[HazardArea]) -> None:
    """bbox_features gives the same ids as bbox_search, with each geometry exactly and its version, up to limit."""
    box = (35.0, 49.9, 35.05, 50.1)
    found = filled.bbox_features("hazard_areas", *box)
    assert [f.id for f in found] == filled.bbox_search("hazard_areas", *box) == ["h-1", "h-2"]
    by_id = {h.id: h for h in hazards}
    assert all(f.geometry is not None and f.geometry.equals_exact(by_id[f.id].geometry, 0) for f in found)
    assert {f.version for f in found} == {1}
    assert [f.id for f in filled.bbox_features("hazard_areas", *box, limit=1)] == ["h-1"]
    with pytest.raises(ValidationError, match="negative"):
        filled.bbox_features("hazard_areas", *box, limit=-1)
