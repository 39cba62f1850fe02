"""The fast path for clean files (sapper.io.bulk): it stores what the per-record path stores, and a file with one
bad feature goes record by record, the bad feature named and the others stored."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

from sapper.domain.resources import Organisation, OrgKind
from sapper.io.bulk import read_clean_hazards
from sapper.services.imports import import_file
from sapper.store import open_store


def clean_file(path: Path, n: int = 40, *, bad_class_at: int | None = None) -> Path:
    """``n`` octagons in UTM zone 37N (so the import reprojects), fixed seed, with optional fields filled unevenly and
    two columns sapper does not use (kept as source attributes)."""
    rng = np.random.default_rng(7)
    cx, cy = rng.uniform(400_000, 460_000, n), rng.uniform(5_650_000, 5_700_000, n)
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    rings = np.stack([cx[:, None] + 200 * np.cos(angles), cy[:, None] + 200 * np.sin(angles)], axis=2)
    classes = ["CHA" if k % 3 == 0 else "SHA" for k in range(n)]
    if bad_class_at is not None:
        classes[bad_class_at] = "XHA"
    frame = gpd.GeoDataFrame({
        "id": [f"H-{k:03d}" for k in range(n)],
        "Name": [f"Area {k}" if k % 4 else None for k in range(n)],
        "hazard_class": classes,
        "land_use": ["agricultural" if k % 2 else "forest" for k in range(n)],
        "device_categories": ["ap_mine, at_mine" if k % 5 == 0 else "" for k in range(n)],
        "beneficiaries": rng.integers(0, 900, n),
        "organisation_id": ["org-1" if k % 2 else None for k in range(n)],
        "expected_clearance_share": [0.25 if k % 3 else np.nan for k in range(n)],
        "Survey_Ref": [f"S/{k}" for k in range(n)],
        "depth": rng.uniform(0, 3, n),
    }, geometry=list(shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))), crs="EPSG:32637")
    frame.to_file(path, layer="hazard_areas", driver="GPKG")
    return path


def stored(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The hazard rows (every column), their audit rows (without time and row id) and their R-tree boxes of a
    GeoPackage store."""
    with sqlite3.connect(db) as conn:
        hazards = conn.execute("SELECT * FROM hazard_areas ORDER BY fid").fetchall()
        audit = conn.execute("SELECT actor, organisation_id, table_name, record_id, action, reason, before_json, "
                             "after_json FROM audit ORDER BY id").fetchall()
        boxes = conn.execute("SELECT * FROM rtree_hazard_areas_geom ORDER BY id").fetchall()
    return hazards, audit, boxes


def imported(db: str | Path, path: Path) -> list[str]:
    with open_store(db, create=True) as store:
        store.add_organisations([Organisation("org-1", "Operator One", OrgKind.OPERATOR)])
        return import_file(store, path, "hazards").lines()


def test_the_fast_path_stores_what_the_per_record_path_stores(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean file imported through the fast path (and the bulk insert: the driver's executemany, the R-tree filled
    in one statement) and record by record (SQLAlchemy's insert, the R-tree by its trigger) gives the same rows,
    byte for byte: record columns, geometry, area, source attributes, audit rows, R-tree boxes; the summary says the
    same."""
    path = clean_file(tmp_path / "clean.gpkg", n=450)
    assert read_clean_hazards(path) is not None
    fast_lines = imported(tmp_path / "fast.gpkg", path)
    monkeypatch.setattr("sapper.io.bulk.read_clean_hazards", lambda *args, **kwargs: None)
    monkeypatch.setattr("sapper.store.repository.BULK_RTREE_ROWS", 10**9)
    slow_lines = imported(tmp_path / "slow.gpkg", path)
    assert fast_lines == slow_lines
    fast, slow = stored(tmp_path / "fast.gpkg"), stored(tmp_path / "slow.gpkg")
    assert len(fast[0]) == 450 and len(fast[1]) == 450 and len(fast[2]) == 450
    assert fast == slow
    with sqlite3.connect(tmp_path / "fast.gpkg") as conn:
        attrs = json.loads(conn.execute("SELECT source_attributes FROM hazard_areas WHERE id = 'H-001'").fetchone()[0])
    assert set(attrs) == {"Survey_Ref", "depth"} and attrs["Survey_Ref"] == "S/1"


def test_a_bulk_insert_indexes_every_row_and_keeps_the_trigger(tmp_path: Path) -> None:
    """Past the bulk size the R-tree is filled without its insert trigger: every row gets its box (the one the
    trigger writes, checked against a row added one at a time after), and the trigger is back afterwards."""
    path = clean_file(tmp_path / "many.gpkg", n=450)
    imported(tmp_path / "store.gpkg", path)
    with sqlite3.connect(tmp_path / "store.gpkg") as conn:
        boxes = conn.execute("SELECT count(*) FROM rtree_hazard_areas_geom r JOIN hazard_areas h ON h.fid = r.id")
        assert boxes.fetchone()[0] == 450
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                            "name = 'rtree_hazard_areas_geom_insert'").fetchone()[0] == 1
    with open_store(tmp_path / "store.gpkg") as store:
        one = store.hazard("H-001")
        store.add_hazards([type(one)(**{**{f: getattr(one, f) for f in one.__slots__}, "id": "again"})])
        near = store.hazards()
    with sqlite3.connect(tmp_path / "store.gpkg") as conn:
        rows = conn.execute("SELECT r.minx, r.maxx, r.miny, r.maxy FROM rtree_hazard_areas_geom r JOIN hazard_areas h "
                            "ON h.fid = r.id WHERE h.id IN ('H-001', 'again') ORDER BY h.fid").fetchall()
    assert len(near) == 451 and len(rows) == 2 and rows[0] == rows[1]


def test_one_bad_feature_goes_record_by_record(tmp_path: Path) -> None:
    """A file with one feature of an unknown class is not for the fast path; the import names that feature and its
    reason in one line and stores the others."""
    path = clean_file(tmp_path / "bad.gpkg", bad_class_at=6)
    assert read_clean_hazards(path) is None
    with open_store(tmp_path / "store.gpkg", create=True) as store:
        store.add_organisations([Organisation("org-1", "Operator One", OrgKind.OPERATOR)])
        summary = import_file(store, path, "hazards")
        assert summary.imported == 39
        assert [str(issue) for issue in summary.rejected] == [
            "feature 7 (id H-006): hazard_class 'XHA' is not one of SHA, CHA"]
        assert {h.id for h in store.hazards()} == {f"H-{k:03d}" for k in range(40)} - {"H-006"}


def _pg_stored(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The hazard rows (every column, geometry as WKB) and their audit rows (without time and row id) of a PostGIS
    store."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            names = conn.execute(text("SELECT * FROM hazard_areas LIMIT 0")).keys()
            columns = [c for c in names if c != "geom"]
            hazards = [tuple(r) for r in conn.execute(text(
                f"SELECT {', '.join(columns)}, ST_AsBinary(geom) FROM hazard_areas ORDER BY fid"))]
            audit = [tuple(r) for r in conn.execute(text(
                "SELECT actor, organisation_id, table_name, record_id, action, reason, before_json, after_json "
                "FROM audit ORDER BY id"))]
    finally:
        engine.dispose()
    return hazards, audit


@pytest.mark.usefixtures("postgis")
def test_the_fast_path_stores_on_postgis_what_the_per_record_path_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """On PostGIS too, a clean file read by the fast path (its rows by COPY) and record by record (SQLAlchemy's
    INSERT) stores the same rows (every column, the geometry's WKB, areas, source attributes) and the same audit
    rows."""
    server = request.getfixturevalue("postgis")
    path = clean_file(tmp_path / "clean.gpkg", n=450)
    assert read_clean_hazards(path) is not None
    url = server.clean_store_database()
    from sapper.store import repository

    copied: list[int] = []
    copy_in = repository._copy_in

    def counted(conn: Any, table: Any, names: Any, values: Any) -> None:
        copied.append(len(values))
        copy_in(conn, table, names, values)

    monkeypatch.setattr(repository, "_copy_in", counted)
    fast_lines = imported(url, path)
    assert copied == [450]  # the rows went by COPY
    fast = _pg_stored(url)
    monkeypatch.setattr("sapper.io.bulk.read_clean_hazards", lambda *args, **kwargs: None)
    monkeypatch.setattr("sapper.store.repository.BULK_RTREE_ROWS", 10**9)
    url = server.clean_store_database()
    slow_lines = imported(url, path)
    slow = _pg_stored(url)
    assert fast_lines == slow_lines
    assert len(fast[0]) == 450 and len(fast[1]) == 450
    assert fast == slow
