"""The pieces of the bulk import that skip the per-record machinery give what it gives: the hazard rows as value
tuples (mapping.hazard_values against mapping.hazard_row), the audit rows of one table as a batch (against the
entries one by one), the repeated-geometry check (against normalising every geometry), and the import's pause of the
cyclic garbage collector is undone."""

from __future__ import annotations

import dataclasses
import gc
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.users import AuditBatch
from sapper.io.bulk import _repeated
from sapper.services.imports import import_file
from sapper.store import gpkg, mapping, open_store
from tests.services.test_bulk_import import clean_file


def _areas() -> list[HazardArea]:
    square = box(36.0, 51.0, 36.01, 51.01)
    return [
        HazardArea("H-1", HazardClass.SHA, square, Evidence.INDIRECT),
        HazardArea("H-2", HazardClass.CHA, square, Evidence.DIRECT, name="Field by the road",
                   device_categories=frozenset({DeviceCategory.AT_MINE, DeviceCategory.AP_MINE}),
                   land_use=LandUse.AGRICULTURAL, beneficiaries=120, organisation_id="org-1",
                   expected_clearance_share=0.25, synthetic=True, clearance_depth_cm=20.0),
        HazardArea("H-3", HazardClass.SHA, square, Evidence.INDIRECT, name="Зелений гай", expected_clearance_share=1),
    ]


def test_hazard_values_are_hazard_rows_values() -> None:
    """Each tuple is the row's values in HAZARD_VALUE_COLUMNS' order, the geometry as its blob, then the extra
    value: what the driver would bind for the dict hazard_row gives."""
    hazards = _areas()
    areas = [1234.5, 99.0, 0.5]
    blobs = gpkg.encode_many([h.geometry for h in hazards])
    got = mapping.hazard_values(hazards, areas, blobs, ["{}", '{"a": 1}', "{}"])
    assert got is not None
    for h, area, blob, values in zip(hazards, areas, blobs, got, strict=True):
        row = mapping.hazard_row(h, area) | {"geom": blob}
        assert list(row) == list(mapping.HAZARD_VALUE_COLUMNS)
        assert values[:-1] == tuple(row.values())
    assert [v[-1] for v in got] == ["{}", '{"a": 1}', "{}"]
    assert got[1][6] == "ap_mine,at_mine" and got[1][12] == 1


@pytest.mark.parametrize("change", [
    {"imsma_id": "hazard_poly_145-1"},
    {"benchmark": Point(36.0, 50.99), "turning_points": (Point(36.0, 51.0),)},
    {"benchmark": Point(36.0, 50.99)},
    {"beneficiaries": np.int64(5)},
    {"expected_clearance_share": np.float64(0.5)},
])
def test_hazard_values_leave_other_records_to_hazard_row(change: dict[str, object]) -> None:
    """A record with what the tuples do not carry (IMSMA ids, points of its own) or a value of a type the driver
    might bind otherwise than SQLAlchemy gives None: the caller builds rows with hazard_row."""
    hazards = _areas()
    hazards[1] = dataclasses.replace(hazards[1], **change)  # type: ignore[arg-type]
    blobs = gpkg.encode_many([h.geometry for h in hazards])
    assert mapping.hazard_values(hazards, [1.0, 2.0, 3.0], blobs) is None


def test_repeated_geometry_is_found_among_same_bounds_only() -> None:
    """Two geometries are the same when their normalised WKB is (the same ring from another vertex); two with the
    same bounds but other vertices are not; empties are compared too."""
    square = box(0, 0, 1, 1)
    turned = Polygon([(1, 1), (0, 1), (0, 0), (1, 0), (1, 1)])
    kite = Polygon([(0, 0), (1, 0), (1, 1), (0, 0.5), (0, 0)])

    def arr(*geoms: object) -> np.ndarray:
        out = np.empty(len(geoms), dtype=object)
        out[:] = list(geoms)
        return out

    for geoms in [(square, turned), (square, kite), (square, box(2, 2, 3, 3)), (kite, box(5, 5, 6, 6), turned),
                  (Polygon(), Polygon()), (kite, box(2, 2, 3, 3), kite)]:
        a = arr(*geoms)
        assert _repeated(a) == (len(set(shapely.to_wkb(shapely.normalize(a)))) != len(a))


def test_an_audit_batch_is_its_entries(tmp_path: Path) -> None:
    """The batch writes the rows its entries would, in order, and refuses nothing they would not."""
    batch = AuditBatch("sapper import hazards", None, "hazard_areas", "import of x.gpkg", ["A", "B", "C"],
                       ["insert", "update", "insert"], ['{"n": 1}', None, '{"n": 3}'])
    with open_store(tmp_path / "one.gpkg", create=True) as store, store.write() as uow:
        assert uow.audit_batch(batch) == 3
    with open_store(tmp_path / "many.gpkg", create=True) as store, store.write() as uow:
        assert uow.audit_many(batch.entries()) == 3
    rows = []
    for name in ("one.gpkg", "many.gpkg"):
        with sqlite3.connect(tmp_path / name) as conn:
            rows.append(conn.execute("SELECT at IS NOT NULL, actor, organisation_id, table_name, record_id, action, "
                                     "reason, before_json, after_json FROM audit ORDER BY id").fetchall())
    assert rows[0] == rows[1] and [r[4] for r in rows[0]] == ["A", "B", "C"]


def test_an_import_pauses_the_cyclic_collector_and_resumes_it(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Collection is paused while an import reads and writes and on again after it, also when the import fails; an
    import does not turn on a collector someone else paused."""
    from sapper.domain.resources import Organisation, OrgKind
    from sapper.io import read_hazards as read

    path = clean_file(tmp_path / "clean.gpkg", n=5)
    during: list[bool] = []

    def watched(*args: object, **kwargs: object) -> object:
        during.append(gc.isenabled())
        return read(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("sapper.services.imports.read_hazards", watched)
    with open_store(tmp_path / "store.gpkg", create=True) as store:
        store.add_organisations([Organisation("org-1", "Operator One", OrgKind.OPERATOR)])
        assert gc.isenabled()
        assert import_file(store, path, "hazards").imported == 5
        assert during == [False] and gc.isenabled()
        with pytest.raises(Exception):  # noqa: B017 - the reader's own error, whichever it is
            import_file(store, tmp_path / "missing.gpkg", "hazards")
        assert during == [False, False] and gc.isenabled()
        gc.disable()
        try:
            import_file(store, path, "hazards", skip_existing=True)
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_a_bulk_inserts_page_cache_is_lowered_when_its_connection_goes_back(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk insert raises its connection's page cache (memory only, until the commit); back in the pool the
    connection has SQLite's default again, so a pool of connections does not keep up to 256 MiB each."""
    from sapper.domain.resources import Organisation, OrgKind
    from sapper.store import repository

    raised: list[int] = []
    room_for = repository._room_for

    def watched(conn: object, values: object) -> None:
        room_for(conn, values)  # type: ignore[arg-type]
        raised.append(int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one()))  # type: ignore[attr-defined]

    monkeypatch.setattr(repository, "_room_for", watched)
    path = clean_file(tmp_path / "clean.gpkg", n=3000)
    with open_store(tmp_path / "store.gpkg", create=True) as store:
        store.add_organisations([Organisation("org-1", "Operator One", OrgKind.OPERATOR)])
        assert import_file(store, path, "hazards").imported == 3000
        assert raised and raised[0] < -2000  # raised during the insert (negative: KiB)
        with store._engine.connect() as conn:  # the pool's connection, back from the import
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -2000
