"""Migration 0005 on a store made before it: released areas stay released (acceptance implied, recorded as legacy),
an SHA with direct evidence becomes a CHA, the new records round-trip, and downgrading refuses what it would misread."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceFound, Disposal
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, Marking
from sapper.domain.landrelease import EventKind, Inspection, LandRelease, ReleaseState
from sapper.services import landrelease as lr
from sapper.store import engine as engines
from sapper.store import gpkg, mapping, open_store
from sapper.store.types import format_datetime
from tests.conftest import PostgisServer
from tests.store.migrating import migrate as _migrate

T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)
FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)


_OLD_EVENT_COLUMNS = {
    "hazard_id", "seq", "kind", "occurred_at", "actor", "reason", "from_state", "to_state", "cancelled_m2",
    "reduced_m2", "cleared_m2", "clipped_m2", "remaining_m2", "activity_id", "visit_id", "non_conformity_id",
    "nc_status", "evidence", "recipient"}


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, object]) -> None:
    conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def _hazard(conn: sqlite3.Connection, hid: str, cls: str, evidence: str, status: str) -> None:
    _insert(conn, "hazard_areas", {"geom": gpkg.encode(FIELD), "id": hid, "hazard_class": cls, "status": status,
                                   "evidence": evidence, "land_use": "other", "area_m2": 1.0})


def _event(conn: sqlite3.Connection, e: object) -> None:
    row = mapping.release_event_row(e)  # type: ignore[arg-type]
    old = {k: v for k, v in row.items() if k in {
        "hazard_id", "seq", "kind", "actor", "reason", "from_state", "to_state", "cancelled_m2", "reduced_m2",
        "cleared_m2", "clipped_m2", "remaining_m2", "activity_id", "visit_id", "non_conformity_id", "nc_status",
        "evidence", "recipient"}}
    old["occurred_at"] = format_datetime(row["occurred_at"])
    _insert(conn, "land_release_events", old)


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A store at revision 0003 written as sapper then wrote it: H-1 released by an NTS event (the old rule), H-2 an
    open SHA with direct evidence and no history, H-3 the same with a history, H-4 a closed SHA with direct
    evidence."""
    path = tmp_path / "old.gpkg"
    open_store(path, create=True).close()
    _migrate(path, "0003", down=True)
    sha = HazardArea("H-1", HazardClass.SHA, FIELD, Evidence.INDIRECT)
    now = LandRelease.start(sha, actor="imo", at=T0, reason="import")
    nts = Activity("A-1", "H-1", ActivityType.NTS, ActivityStatus.COMPLETED, cancelled=FIELD)
    now = now.record_activity(nts, actor="team", at=T0, reason="no evidence")
    released = dataclasses.replace(now.history[1], to_state=ReleaseState.RELEASED)  # as the old rules stored it
    conn = sqlite3.connect(path)
    gpkg.register_functions(conn)  # the R-tree triggers call GeoPackage's SQL functions
    try:
        _hazard(conn, "H-1", "SHA", "indirect", "closed")
        _hazard(conn, "H-2", "SHA", "direct", "open")
        _hazard(conn, "H-3", "SHA", "direct", "open")
        _hazard(conn, "H-4", "SHA", "direct", "closed")
        _insert(conn, "activities", {"geom": gpkg.encode(FIELD), "id": "A-1", "hazard_id": "H-1",
                                     "activity_type": "nts", "status": "completed"})
        _insert(conn, "land_release_outcomes", {"geom": gpkg.encode(FIELD), "activity_id": "A-1",
                                                "outcome": "cancelled", "area_m2": 1.0})
        _event(conn, now.history[0])
        _event(conn, released)
        h3 = LandRelease.start(dataclasses.replace(sha, id="H-3"), actor="imo", at=T0, reason="import")
        _event(conn, h3.history[0])
        conn.commit()
    finally:
        conn.close()
    return path


def test_upgrade_keeps_released_land_released_and_makes_direct_evidence_a_cha(old_store: Path) -> None:
    """After 0005: H-1 replays as released with its events marked legacy; H-2 and H-3 are CHAs (H-3 by an appended
    legacy reclassification); H-4, closed, keeps its class and its evidence is recorded as indirect."""
    with open_store(old_store) as store:
        assert store.revision() == engines.head_revision()
        h1 = store.release_events("H-1")
        assert [(e.kind, e.to_state, e.legacy) for e in h1] == [
            (EventKind.RECORDED, ReleaseState.SUSPECTED, True), (EventKind.ACTIVITY, ReleaseState.RELEASED, True)]
        hazards = {h.id: h for h in store.hazards()}
        h3 = store.release_events("H-3")
        assert lr.history(store, "H-1").record.state is ReleaseState.RELEASED  # type: ignore[union-attr]
        assert lr.history(store, "H-3").record.state is ReleaseState.CONFIRMED  # type: ignore[union-attr]
        cert = lr.certificate(store, "H-1")
    assert (hazards["H-2"].hazard_class, hazards["H-3"].hazard_class) == (HazardClass.CHA, HazardClass.CHA)
    assert (hazards["H-4"].hazard_class, hazards["H-4"].evidence) == (HazardClass.SHA, Evidence.INDIRECT)
    assert [(e.kind, e.legacy, e.actor) for e in h3][-1] == (EventKind.RECLASSIFIED, True, "sapper migration 0005")
    assert cert.signatories[0].on_behalf_of.startswith("(implied")


def test_the_event_table_keeps_its_guards_after_the_rebuild(old_store: Path) -> None:
    """The rebuilt land_release_events is still append-only and in sequence, and other tables' guards still work."""
    with open_store(old_store):
        pass
    conn = sqlite3.connect(old_store)
    gpkg.register_functions(conn)
    try:
        for sql, message in [
            ("UPDATE land_release_events SET actor = 'x'", "append-only"),
            ("DELETE FROM land_release_events", "append-only"),
            ("INSERT INTO land_release_events (hazard_id, seq, kind, occurred_at, actor, reason, to_state, "
             "remaining_m2) VALUES ('H-1', 9, 'recorded', '2025-01-01T00:00:00.000Z', 'a', 'r', 'suspected', 0)",
             "in sequence"),
            ("UPDATE activities SET status = 'ongoing' WHERE id = 'A-1'", "cannot be changed"),
        ]:
            with pytest.raises(sqlite3.IntegrityError, match=message):
                conn.execute(sql)
    finally:
        conn.close()


def test_new_records_round_trip_and_downgrade_refuses_what_it_would_misread(old_store: Path) -> None:
    """Devices with quantity, fuze and disposal, a hazard's benchmark, turning points, marking and depth, and an
    inspection event read back equal; downgrading is then refused (the inspection, and the clearance that left
    nothing without releasing)."""
    h5 = HazardArea("H-5", HazardClass.CHA, shapely.box(35.31, 51.30, 35.312, 51.301), Evidence.DIRECT,
                    clearance_depth_cm=20.0, benchmark=Point(35.3095, 51.2995), marking=Marking.PERMANENT,
                    turning_points=(Point(35.31, 51.30), Point(35.312, 51.30)))
    uxo = DeviceFound(Point(35.3105, 51.3005), DeviceCategory.ERW_AXO, "OG-7", quantity=4, fuze="PG-7",
                      disposal=Disposal.HANDED_OVER, disposal_date=dt.date(2025, 6, 18), depth_cm=3.0)
    act = Activity("A-5", "H-5", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, cleared=h5.geometry,
                   clearance_depth_cm=20.0, devices=(uxo,))
    with open_store(old_store) as store:
        with store.write() as uow:
            uow.add_hazards([h5])
        lr.record_activity(store, act, actor="t", reason="r", at=T0)
        done = lr.inspect(store, "H-5", Inspection("QC-5", T0.date(), 100.0, True, "QA", plan="ISO 2859-1"),
                          actor="qa", reason="r", at=T0)
        assert store.hazard("H-5") == dataclasses.replace(h5, device_categories=frozenset({DeviceCategory.ERW_AXO}))
        (stored,) = store.activities("H-5")
        assert stored.devices == (uxo,)
        assert store.release_events("H-5") == list(done.record.history)
    with pytest.raises(RuntimeError, match="cannot downgrade below revision 0005: 2 land-release event"):
        _migrate(old_store, "0003", down=True)


def test_downgrade_of_legacy_only_store(old_store: Path) -> None:
    """A store holding only events the older rules read the same way downgrades to 0003 and upgrades again."""
    with open_store(old_store):
        pass
    _migrate(old_store, "0003", down=True)
    conn = sqlite3.connect(old_store)
    try:
        kinds = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'land_release_events'").fetchone()[0]
        columns = {r[1] for r in conn.execute("PRAGMA table_info(hazard_areas)")}
    finally:
        conn.close()
    assert "'inspected'" not in kinds and "marking" not in columns
    with open_store(old_store) as store:
        assert store.revision() == engines.head_revision()
        assert len(store.release_events("H-1")) == 2


def test_on_postgis_0005_upgrades_from_0004_and_downgrades(postgis: PostgisServer) -> None:
    """On PostGIS: events already stored are marked legacy (the append-only trigger does not block that), an open
    SHA with direct evidence becomes a CHA by a legacy event, hazard_points is a geometry(Point, 4326) layer with a
    GiST index, the events stay append-only; downgrading to 0004 removes exactly 0005's columns and layer."""
    url = postgis.new_empty_database()
    engine = engines.make_engine(url)

    def one(sql: str) -> object:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()

    def columns(table: str) -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = "
                                         f"'{table}'")).scalars())

    try:
        open_store(url, create=True).close()
        _migrate(url, "0004", down=True)
        assert "legacy" not in columns("land_release_events") and one("SELECT to_regclass('hazard_points')") is None
        sha = HazardArea("H-1", HazardClass.SHA, FIELD, Evidence.INDIRECT)
        h1 = LandRelease.start(sha, actor="imo", at=T0, reason="import")
        nts = Activity("A-1", "H-1", ActivityType.NTS, ActivityStatus.COMPLETED, cancelled=FIELD)
        h1 = h1.record_activity(nts, actor="team", at=T0, reason="no evidence")
        released = dataclasses.replace(h1.history[1], to_state=ReleaseState.RELEASED)  # as the old rules stored it
        h3 = LandRelease.start(dataclasses.replace(sha, id="H-3"), actor="imo", at=T0, reason="import")
        with engine.begin() as conn:
            for hid, cls, evidence, status in (("H-1", "SHA", "indirect", "closed"), ("H-3", "SHA", "direct", "open")):
                conn.execute(text("INSERT INTO hazard_areas (geom, id, hazard_class, status, evidence, land_use, "
                                  "area_m2) VALUES (ST_GeomFromText(:wkt, 4326), :id, :cls, :status, :evidence, "
                                  "'other', 1.0)"),
                             {"wkt": FIELD.wkt, "id": hid, "cls": cls, "status": status, "evidence": evidence})
            conn.execute(text("INSERT INTO activities (geom, id, hazard_id, activity_type, status) VALUES "
                              "(ST_GeomFromText(:wkt, 4326), 'A-1', 'H-1', 'nts', 'completed')"), {"wkt": FIELD.wkt})
            conn.execute(text("INSERT INTO land_release_outcomes (geom, activity_id, outcome, area_m2) VALUES "
                              "(ST_GeomFromText(:wkt, 4326), 'A-1', 'cancelled', 1.0)"), {"wkt": FIELD.wkt})
            for e in (h1.history[0], released, h3.history[0]):
                row = {k: v for k, v in mapping.release_event_row(e).items() if k in _OLD_EVENT_COLUMNS}
                conn.execute(text(f"INSERT INTO land_release_events ({', '.join(row)}) "
                                  f"VALUES ({', '.join(':' + k for k in row)})"), row)
        _migrate(url, "head", down=False)
        with open_store(url) as store:
            assert store.revision() == engines.head_revision()
            assert [(e.kind, e.to_state, e.legacy) for e in store.release_events("H-1")] == [
                (EventKind.RECORDED, ReleaseState.SUSPECTED, True), (EventKind.ACTIVITY, ReleaseState.RELEASED, True)]
            assert [(e.kind, e.legacy) for e in store.release_events("H-3")][-1] == (EventKind.RECLASSIFIED, True)
            assert store.hazard("H-3").hazard_class is HazardClass.CHA
            assert lr.history(store, "H-1").record.state is ReleaseState.RELEASED  # type: ignore[union-attr]
        assert one("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                   "'hazard_points'::regclass AND attname = 'geom'") == "geometry(Point,4326)"
        assert one("SELECT count(*) FROM pg_indexes WHERE tablename = 'hazard_points' AND indexdef LIKE '%gist%'") == 1
        with pytest.raises(sa_exc.IntegrityError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE land_release_events SET legacy = 0"))
        _migrate(url, "0004", down=True)
        assert "legacy" not in columns("land_release_events") and "marking" not in columns("hazard_areas")
        assert one("SELECT to_regclass('hazard_points')") is None
        with pytest.raises(sa_exc.IntegrityError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM land_release_events"))
        _migrate(url, "head", down=False)
        assert "legacy" in columns("land_release_events")
    finally:
        engine.dispose()
        postgis.drop(url)
