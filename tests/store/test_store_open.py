"""Opening, creating, refusing and upgrading store files; the file is a GeoPackage 1.4 with sapper's schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from sapper.domain.hazards import HazardArea
from sapper.errors import NotFoundError, StoreError
from sapper.store import Store, open_store
from sapper.store import engine as engines
from sapper.store.schema import ATTRIBUTE_TABLES, SPATIAL_LAYERS, include_name, metadata


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_create_makes_store_at_head_revision(db_path: Path) -> None:
    """A new store is created at the newest migration, recorded in alembic_version."""
    with open_store(db_path, create=True) as store:
        assert store.revision() == engines.head_revision()
        assert store.path == db_path
    with raw(db_path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(engines.head_revision(),)]


def test_missing_file_raises_not_found(tmp_path: Path) -> None:
    """Opening a store that does not exist, without create, is NotFoundError and creates nothing."""
    with pytest.raises(NotFoundError, match="no store at"):
        open_store(tmp_path / "nope.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_raises_not_found(tmp_path: Path) -> None:
    """create=True in a folder that does not exist is NotFoundError naming the folder."""
    with pytest.raises(NotFoundError, match="does not exist"):
        open_store(tmp_path / "no" / "such" / "store.gpkg", create=True)


def test_reopen_keeps_records(db_path: Path, hazards: list[HazardArea]) -> None:
    """Records written, the store closed and opened again, are all there."""
    with open_store(db_path, create=True) as store:
        store.add_hazards(hazards[:1])
    with open_store(db_path) as again:
        assert again.hazards() == hazards[:1]


def test_non_sapper_sqlite_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    """An SQLite file of another application is StoreError, and its bytes (and journal mode) are untouched."""
    path = tmp_path / "other.sqlite"
    with raw(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('hello')")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a sapper store"):
        open_store(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]


def test_plain_geopackage_is_refused(tmp_path: Path) -> None:
    """A GeoPackage made by GDAL is recognised as one, but it is not a sapper store."""
    path = tmp_path / "layers.gpkg"
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    pyogrio.write_dataframe(gdf, path, layer="fields")
    with pytest.raises(StoreError, match="GeoPackage without sapper's tables"):
        open_store(path)


def test_text_file_is_refused(tmp_path: Path) -> None:
    """A file that is not SQLite at all is StoreError saying so."""
    path = tmp_path / "hazards.gpkg"
    path.write_text("id,name\n1,x\n" * 200)
    with pytest.raises(StoreError, match="not an SQLite database"):
        open_store(path)


def test_other_alembic_application_is_refused(tmp_path: Path) -> None:
    """An SQLite file another Alembic-managed application made is not taken for a sapper store."""
    path = tmp_path / "app.db"
    with raw(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('abc123')")
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(StoreError, match="another application"):
        open_store(path)


def test_empty_file_needs_create(tmp_path: Path) -> None:
    """An empty file is refused without create and becomes a store with create=True."""
    path = tmp_path / "empty.gpkg"
    path.touch()
    with pytest.raises(StoreError, match="create=True"):
        open_store(path)
    with open_store(path, create=True) as store:
        assert store.counts()["hazard_areas"] == 0


def test_newer_revision_is_refused(db_path: Path) -> None:
    """A store whose schema revision this sapper does not know (made by a newer sapper) is StoreError."""
    open_store(db_path, create=True).close()
    with raw(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.close()
    with pytest.raises(StoreError, match="newer sapper"):
        open_store(db_path)


def test_older_revision_is_upgraded(db_path: Path) -> None:
    """A store at an older revision (here: downgraded to the base) is upgraded to head when opened."""
    open_store(db_path, create=True).close()
    engine = engines.make_engine(db_path)
    with engine.connect() as conn:
        conn = conn.execution_options(**{engines.WRITE: True})
        with conn.begin():
            command.downgrade(engines.alembic_config(conn), "base")
    engine.dispose()
    with raw(db_path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
    conn.close()
    assert tables == {"alembic_version"}
    with open_store(db_path) as store:
        assert store.revision() == engines.head_revision()
        assert store.counts()["hazard_areas"] == 0


def test_pragmas_on_every_connection(gpkg_store: Store) -> None:
    """Connections run in WAL mode with foreign keys on and a busy timeout of at least 5 s."""
    with gpkg_store.write() as uow:
        conn = uow.connection
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    with raw(gpkg_store.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_geopackage_header_and_integrity(gpkg_filled: Store) -> None:
    """application_id is 'GPKG', user_version 10400, and integrity_check and foreign_key_check are clean."""
    with raw(gpkg_filled.path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone() == (0x47504B47,)
        assert conn.execute("PRAGMA user_version").fetchone() == (10400,)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_geopackage_metadata_tables(gpkg_store: Store) -> None:
    """The gpkg_* tables register every layer, the required SRS rows and an R-tree extension per layer."""
    with raw(gpkg_store.path) as conn:
        srs = {r[0] for r in conn.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")}
        contents = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        geometry = dict(conn.execute("SELECT table_name, srs_id FROM gpkg_geometry_columns").fetchall())
        rtrees = {r[0] for r in conn.execute(
            "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'")}
    assert {-1, 0, 4326} <= srs
    assert {t: contents[t] for t in SPATIAL_LAYERS} == dict.fromkeys(SPATIAL_LAYERS, "features")
    assert {t: contents[t] for t in ATTRIBUTE_TABLES} == dict.fromkeys(ATTRIBUTE_TABLES, "attributes")
    assert contents["planned_hazard_release"] == contents["planned_asset_restoration"] == "features"
    assert set(geometry.values()) == {4326}
    assert rtrees == set(SPATIAL_LAYERS)


def test_migration_matches_schema_module(gpkg_store: Store) -> None:
    """The tables the migration creates are exactly what schema.py declares (no drift between the two)."""
    with gpkg_store.write() as uow:
        opts = {"include_name": include_name, "compare_type": False}
        diff = compare_metadata(MigrationContext.configure(uow.connection, opts=opts), metadata)
        declared = {
            (table.name, row[1]): row[2]
            for table in metadata.sorted_tables
            for row in uow.connection.exec_driver_sql(f"PRAGMA table_info({table.name})")
        }
    dialect = sqlite_dialect()
    expected = {
        (table.name, col.name): col.type.compile(dialect=dialect)
        for table in metadata.sorted_tables
        for col in table.columns
    }
    assert diff == []
    assert declared == expected
