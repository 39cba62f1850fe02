"""The field-staging migration (0003): its tables are GeoPackage-registered, and it downgrades and upgrades cleanly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sapper.store import engine as engines
from sapper.store import open_store
from tests.store.migrating import migrate as _migrate

TABLES = {"field_submissions": "attributes", "field_submission_events": "attributes", "field_progress": "features",
          "field_progress_devices": "features"}


def _state(path: Path) -> tuple[set[str], dict[str, str], str]:
    conn = sqlite3.connect(path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        contents = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()
    return names, contents, revision


def test_field_staging_migration_down_and_up(tmp_path: Path) -> None:
    """0003 registers its two attribute tables and two layers (with R-trees); downgrading to 0002 removes exactly
    them; upgrading brings them back."""
    path = tmp_path / "s.gpkg"
    open_store(path, create=True).close()
    names, contents, revision = _state(path)
    assert revision == engines.head_revision()
    assert {t: contents[t] for t in TABLES} == TABLES
    assert {"rtree_field_progress_geom", "rtree_field_progress_devices_geom"} <= names
    _migrate(path, "0003", down=True)
    names, contents, _ = _state(path)  # as 0003 left it (later revisions add their own tables)
    _migrate(path, "0002", down=True)
    after_names, after_contents, revision = _state(path)
    assert revision == "0002"
    assert not {n for n in after_names if n.startswith(("field_", "rtree_field_"))}
    assert set(contents) - set(after_contents) == set(TABLES)
    _migrate(path, "0003", down=False)
    assert _state(path) == (names, contents, "0003")
