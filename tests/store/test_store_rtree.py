"""The R*Tree finds exactly what a brute-force envelope check finds, and its triggers keep it right."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import shapely

from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.errors import ValidationError
from sapper.store import Store, gpkg


def random_hazards(n: int, seed: int) -> list[HazardArea]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        lon, lat = 34.0 + rng.random() * 2.0, 50.0 + rng.random() * 1.0
        w, h = rng.uniform(1e-5, 0.05), rng.uniform(1e-5, 0.05)
        poly = shapely.box(lon, lat, lon + w, lat + h)
        if i % 5 == 0:  # some triangles, whose envelope differs from the polygon
            poly = shapely.Polygon([(lon, lat), (lon + w, lat), (lon, lat + h)])
        out.append(HazardArea(f"r-{i}", HazardClass.SHA, poly, Evidence.INDIRECT))
    return out


def brute_force(hazards: list[HazardArea], box: tuple[float, float, float, float]) -> list[str]:
    query = shapely.box(*box)
    return sorted(h.id for h in hazards if query.intersects(shapely.box(*h.geometry.bounds)))


def connect(store: Store) -> sqlite3.Connection:
    """A plain sqlite3 connection with the ST_ functions, as any GeoPackage editor has."""
    conn = sqlite3.connect(store.path, isolation_level=None)  # autocommit: each statement is visible at once
    gpkg.register_functions(conn)
    return conn


def test_bbox_search_matches_brute_force(store: Store) -> None:
    """Over 200 random boxes, the R-tree search returns exactly the ids a brute-force envelope test finds."""
    hazards = random_hazards(800, seed=1)
    store.add_hazards(hazards)
    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(200):
        x0, y0 = 34.0 + rng.random() * 2.0, 50.0 + rng.random() * 1.0
        box = (x0, y0, x0 + rng.uniform(0, 0.3), y0 + rng.uniform(0, 0.2))
        found = store.bbox_search("hazard_areas", *box)
        assert found == brute_force(hazards, box)
        hits += len(found)
    assert hits > 200  # the boxes did find things


def test_bbox_search_is_exact_at_float32_edges(store: Store) -> None:
    """A box touching a feature's exact edge finds it; one a hair away does not (R-tree float32 rounding)."""
    h = HazardArea("edge", HazardClass.SHA, shapely.box(35.123456789, 50.0, 35.2, 50.1), Evidence.INDIRECT)
    store.add_hazards([h])
    assert store.bbox_search("hazard_areas", 35.0, 50.0, 35.123456789, 50.05) == ["edge"]
    assert store.bbox_search("hazard_areas", 35.0, 50.0, 35.123456788, 50.05) == []


def test_bbox_search_other_layers_and_bad_input(filled: Store) -> None:
    """Assets and activities are searchable; unknown layers and inverted boxes are refused."""
    assert filled.bbox_search("assets", 35.01, 50.0, 35.03, 50.02) == ["a-bridge", "a-road"]
    assert filled.bbox_search("activities", 35.0, 49.0, 36.0, 51.0) == ["act-1", "act-2"]
    with pytest.raises(ValidationError, match="not one of"):
        filled.bbox_search("teams", 0, 0, 1, 1)
    with pytest.raises(ValidationError, match="greater than"):
        filled.bbox_search("assets", 1, 0, 0, 1)


def test_triggers_follow_update_of_geometry(gpkg_store: Store) -> None:
    """UPDATE of geom through plain SQL moves the feature in the R-tree (GeoPackage update6 trigger)."""
    gpkg_store.add_hazards(random_hazards(50, seed=3))
    moved = shapely.box(10.0, 10.0, 10.5, 10.5)
    with connect(gpkg_store) as conn:
        conn.execute("UPDATE hazard_areas SET geom = ? WHERE id = 'r-7'", (gpkg.encode(moved),))
    conn.close()
    assert gpkg_store.bbox_search("hazard_areas", 9.9, 9.9, 10.1, 10.1) == ["r-7"]
    assert "r-7" not in gpkg_store.bbox_search("hazard_areas", 33.0, 49.0, 37.0, 52.0)


def test_triggers_follow_empty_null_and_delete(gpkg_filled: Store) -> None:
    """Geometry set to empty or NULL leaves the R-tree, set back re-enters it, and a deleted row leaves it."""
    box = (35.0, 49.0, 36.0, 51.0)
    with connect(gpkg_filled) as conn:
        conn.execute("UPDATE activities SET geom = ? WHERE id = 'act-1'", (gpkg.encode(shapely.Polygon()),))
        assert gpkg_filled.bbox_search("activities", *box) == ["act-2"]
        conn.execute("UPDATE activities SET geom = NULL WHERE id = 'act-2'")
        assert gpkg_filled.bbox_search("activities", *box) == []
        conn.execute("UPDATE activities SET geom = ? WHERE id = 'act-3'", (gpkg.encode(shapely.box(35, 50, 35.1,
                                                                                                  50.1)),))
        assert gpkg_filled.bbox_search("activities", *box) == ["act-3"]
        conn.execute("DELETE FROM devices_found")
        conn.execute("DELETE FROM land_release_outcomes")
        conn.execute("DELETE FROM activities WHERE id = 'act-3'")
        rtree_rows = conn.execute("SELECT count(*) FROM rtree_activities_geom").fetchone()[0]
    conn.close()
    assert gpkg_filled.bbox_search("activities", *box) == []
    assert rtree_rows == 0


def test_rtree_holds_every_nonempty_geometry(gpkg_filled: Store) -> None:
    """Each spatial layer's R-tree has one entry per row with a non-empty geometry, with its bounds."""
    with connect(gpkg_filled) as conn:
        for layer in ("hazard_areas", "assets", "land_release_outcomes", "devices_found"):
            rows = conn.execute(f"SELECT count(*) FROM {layer} WHERE NOT ST_IsEmpty(geom)").fetchone()[0]
            tree = conn.execute(f"SELECT count(*) FROM rtree_{layer}_geom").fetchone()[0]
            assert tree == rows, layer
        bounds = conn.execute("SELECT r.minx, r.maxx, r.miny, r.maxy FROM rtree_hazard_areas_geom r "
                              "JOIN hazard_areas h ON h.fid = r.id WHERE h.id = 'h-1'").fetchone()
    conn.close()
    assert bounds == pytest.approx((35.01, 35.012, 50.0, 50.002), abs=1e-5)


def test_contents_bbox_follows_writes(gpkg_filled: Store, hazards: list[HazardArea]) -> None:
    """gpkg_contents keeps each written layer's bbox (what QGIS zooms to) and a last_change timestamp."""
    with sqlite3.connect(gpkg_filled.path) as conn:
        bbox = conn.execute("SELECT min_x, min_y, max_x, max_y, last_change FROM gpkg_contents "
                            "WHERE table_name = 'hazard_areas'").fetchone()
    conn.close()
    expected = shapely.union_all([h.geometry for h in hazards]).bounds
    assert bbox[:4] == pytest.approx(expected, abs=1e-5)
    assert bbox[4].endswith("Z")
