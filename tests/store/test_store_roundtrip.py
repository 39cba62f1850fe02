"""Domain objects written to the store come back equal, geometry byte for byte."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.activities import Activity
from sapper.domain.assets import Asset
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Organisation, OrgKind
from sapper.errors import NotFoundError, StoreError, ValidationError
from sapper.store import ContextArea, PlannedTask, PlanRun, Settlement, Store, gpkg, open_store
from sapper.store.records import PlanParams


def wkb(geom: object) -> bytes:
    return bytes(shapely.to_wkb(geom, flavor="iso"))


def test_hazards_round_trip(filled: Store, hazards: list[HazardArea]) -> None:
    """Every hazard comes back equal, with identical WKB and the same area."""
    back = filled.hazards()
    assert back == hazards
    for got, sent in zip(back, hazards, strict=True):
        assert wkb(got.geometry) == wkb(sent.geometry)
        assert got.area_m2 == sent.area_m2


def test_area_column_matches_domain_area(gpkg_filled: Store, hazards: list[HazardArea]) -> None:
    """The stored area_m2 column is sapper.domain.geometry.area_m2, exactly (one area function for every layer)."""
    assert gpkg_filled.path is not None
    with sqlite3.connect(gpkg_filled.path) as conn:
        stored = dict(conn.execute("SELECT id, area_m2 FROM hazard_areas").fetchall())
    for h in hazards:
        assert stored[h.id] == area_m2(h.geometry)


def test_hazard_by_id(filled: Store, hazards: list[HazardArea]) -> None:
    """hazard(id) returns that hazard; an unknown id is NotFoundError naming it."""
    assert filled.hazard("h-2") == hazards[1]
    with pytest.raises(NotFoundError, match="h-99"):
        filled.hazard("h-99")


def test_assets_round_trip(filled: Store, assets: list[Asset]) -> None:
    """Assets (line, point, polygon; several trades; buffers) come back equal with identical WKB."""
    back = filled.assets()
    assert back == assets
    assert [wkb(a.geometry) for a in back] == [wkb(a.geometry) for a in assets]


def test_asset_trade_columns(gpkg_filled: Store) -> None:
    """Each trade's builder-days land in its own column, 0 when the asset needs none of it."""
    with sqlite3.connect(gpkg_filled.path) as conn:
        row = conn.execute("SELECT work_road_bd, work_bridge_bd, work_power_bd, work_water_bd, work_building_bd "
                           "FROM assets WHERE id = 'a-bridge'").fetchone()
    assert row == (20.0, 300.5, 0.0, 0.0, 0.0)


def test_activities_round_trip(filled: Store, activities: list[Activity]) -> None:
    """Activities come back with their outcomes (even an empty one), devices in order, dates and depth."""
    back = filled.activities()
    assert back == activities
    for got, sent in zip(back, activities, strict=True):
        for kind in ("cancelled", "reduced", "cleared"):
            g, s = getattr(got, kind), getattr(sent, kind)
            assert (g is None and s is None) or wkb(g) == wkb(s)
    assert filled.activities(hazard_id="h-2") == activities[:2]
    assert filled.activities(hazard_id="h-4") == []


def test_activity_rows_in_gis_tables(gpkg_filled: Store) -> None:
    """Outcomes and devices are separate layers; the activity's geometry is the union of its outcomes."""
    with sqlite3.connect(gpkg_filled.path) as conn:
        outcomes = conn.execute("SELECT activity_id, outcome FROM land_release_outcomes ORDER BY fid").fetchall()
        devices = conn.execute("SELECT activity_id, category, depth_cm FROM devices_found ORDER BY fid").fetchall()
        geom = conn.execute("SELECT geom FROM activities WHERE id = 'act-3'").fetchone()[0]
    assert outcomes == [("act-1", "cancelled"), ("act-2", "cleared"), ("act-4", "reduced")]
    assert devices == [("act-2", "ap_mine", 5.0), ("act-2", "erw_uxo", None)]
    assert geom is None


def test_teams_brigades_organisations_round_trip(filled: Store, teams: list[DeminerTeam],
                                                brigades: list[BuilderBrigade], orgs: list[Organisation]) -> None:
    """Teams, brigades and organisations come back equal (ordered by id)."""
    assert filled.teams() == teams
    assert filled.brigades() == brigades
    assert filled.organisations() == sorted(orgs, key=lambda o: o.id)


def test_context_layers_and_meta(store: Store) -> None:
    """Settlements, context areas and metadata round-trip; an unknown context layer is refused."""
    towns = [Settlement("Суми", 256_000, Point(34.8, 50.9), "OSM"), Settlement("Village", 120, Point(35.1, 51.0),
                                                                               synthetic=True)]
    zone = [ContextArea("Border strip", shapely.box(34.0, 51.0, 36.0, 51.5), "synthetic", True)]
    with store.write() as uow:
        uow.add_settlements(towns)
        uow.add_context_areas("contested_zone", zone)
        uow.add_context_areas("admin_areas", [ContextArea("Oblast", shapely.box(33, 50, 36, 52), "GADM")])
        uow.set_meta({"scenario": "kursk-border", "seed": 42})
    assert store.settlements() == towns
    assert store.context_areas("contested_zone") == zone
    assert store.meta() == {"scenario": "kursk-border", "seed": "42"}
    store.set_meta({"seed": 7})
    assert store.meta()["seed"] == "7"
    with pytest.raises(ValidationError, match="not one of"):
        store.add_context_areas("rivers", zone)


def test_plan_round_trip_and_latest(store: Store) -> None:
    """A saved plan comes back equal with its id; latest_plan is the last one saved."""
    assert store.latest_plan() is None
    tasks = (
        PlannedTask("survey-h-1", "survey", dt.date(2026, 4, 1), dt.date(2026, 4, 3), 8000.0, "m2",
                    hazard_id="h-1", mode="survey", resource="survey", unit_id="t-1"),
        PlannedTask("repair-a-1", "repair", dt.date(2026, 4, 4), dt.date(2026, 5, 1), 120.0, "builder_days",
                    asset_id="a-1", resource="road", unit_id="b-1"),
    )
    first = PlanRun("optimal", created_at=dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
                    objective=10.5, lower_bound=10.5, baseline_objective=14.0, finish_date=dt.date(2026, 5, 1),
                    solve_seconds=3.2, params=PlanParams(seed=3, lot_max_days=20), tasks=tasks)
    run_id = store.save_plan(first)
    second_id = store.save_plan(PlanRun("feasible", tasks=tasks[:1]))
    assert second_id > run_id
    saved = store.plan(run_id)
    assert saved.id == run_id
    assert saved.tasks == tasks and saved.task_count == 2
    assert saved.created_at == dt.datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)
    assert saved.params == PlanParams(seed=3, lot_max_days=20) and saved.summary is None
    assert (saved.objective, saved.lower_bound, saved.baseline_objective) == (10.5, 10.5, 14.0)
    latest = store.latest_plan()
    assert latest is not None and latest.id == second_id and latest.status == "feasible"


def test_duplicate_id_is_refused_naming_it(filled: Store, hazards: list[HazardArea]) -> None:
    """Adding a hazard whose id exists raises ValidationError naming the id, and writes nothing."""
    before = filled.counts()
    with pytest.raises(ValidationError, match=r"h-1.*already exists"):
        filled.add_hazards([hazards[0]])
    assert filled.counts() == before


def test_duplicate_within_batch_is_refused(store: Store, hazards: list[HazardArea]) -> None:
    """The same id twice in one call is refused before anything is written."""
    with pytest.raises(ValidationError, match="appears twice"):
        store.add_hazards([hazards[0], hazards[0]])
    assert store.counts()["hazard_areas"] == 0


def test_replace_overwrites_and_keeps_fid(gpkg_filled: Store, hazards: list[HazardArea]) -> None:
    """replace=True updates the stored record in place (same fid) instead of refusing it."""
    changed = HazardArea(**{**{f: getattr(hazards[0], f) for f in HazardArea.__slots__}, "name": "renamed",
                            "beneficiaries": 5})
    with sqlite3.connect(gpkg_filled.path) as conn:
        fid_before = conn.execute("SELECT fid FROM hazard_areas WHERE id = 'h-1'").fetchone()
    gpkg_filled.add_hazards([changed], replace=True)
    with sqlite3.connect(gpkg_filled.path) as conn:
        fid_after = conn.execute("SELECT fid FROM hazard_areas WHERE id = 'h-1'").fetchone()
    assert gpkg_filled.hazard("h-1") == changed
    assert fid_after == fid_before
    assert gpkg_filled.counts()["hazard_areas"] == len(hazards)


def test_replace_activity_replaces_outcomes_and_devices(filled: Store, activities: list[Activity]) -> None:
    """Replacing an activity replaces its outcome and device rows rather than adding to them."""
    act = activities[1]
    fewer = Activity(act.id, act.hazard_id, act.activity_type, act.status, cleared=act.cleared,
                     devices=act.devices[:1])
    filled.add_activities([fewer], replace=True)
    assert filled.activities(hazard_id="h-2")[1] == fewer
    assert filled.counts()["devices_found"] == 1


def test_unknown_references_are_refused(store: Store, hazards: list[HazardArea],
                                        activities: list[Activity], teams: list[DeminerTeam]) -> None:
    """A hazard, activity or team pointing at a record that is not stored is refused, naming both."""
    with pytest.raises(ValidationError, match="organisation org-1 is not in the store"):
        store.add_hazards([hazards[1]])
    with pytest.raises(ValidationError, match=r"activity act-3.*hazard h-1 is not in the store"):
        store.add_activities([activities[2]])
    with pytest.raises(ValidationError, match="team t-1"):
        store.add_teams(teams)
    assert sum(store.counts().values()) == 0


def test_counts(filled: Store) -> None:
    """counts() reports rows per table."""
    counts = filled.counts()
    assert counts["hazard_areas"] == 4 and counts["assets"] == 3 and counts["activities"] == 4
    assert counts["land_release_outcomes"] == 3 and counts["devices_found"] == 2
    assert counts["teams"] == 2 and counts["brigades"] == 2 and counts["organisations"] == 2
    assert counts["plan_runs"] == 0


def test_store_edited_into_nonsense_reports_the_record(gpkg_filled: Store) -> None:
    """A row edited outside sapper into an unknown value is a ValidationError naming the record and field."""
    with sqlite3.connect(gpkg_filled.path) as conn:
        gpkg.register_functions(conn)  # the R-tree triggers call ST_IsEmpty & co. on any UPDATE
        conn.execute("UPDATE hazard_areas SET hazard_class = 'XXX' WHERE id = 'h-3'")
    with pytest.raises(ValidationError, match=r"hazard area h-3\.hazard_class: 'XXX' is not one of"):
        gpkg_filled.hazards()


def test_three_thousand_polygons_in_one_write(store: Store) -> None:
    """3,000 polygons are written in one call, each findable through the R-tree (write speed is measured by
    benchmarks/import_messy.py, not here: a timed test fails on a busy machine)."""
    boxes = [shapely.box(30 + (i % 60) * 0.1, 45 + (i // 60) * 0.1, 30.05 + (i % 60) * 0.1, 45.05 + (i // 60) * 0.1)
             for i in range(3000)]
    many = [HazardArea(f"p-{i}", HazardClass.SHA, box, Evidence.INDIRECT) for i, box in enumerate(boxes)]
    store.add_hazards(many)
    assert store.counts()["hazard_areas"] == 3000
    # the last row of boxes (i // 60 == 49) and nothing else lies in this band
    assert sorted(store.bbox_search("hazard_areas", 29.9, 49.88, 36.1, 49.96)) == sorted(f"p-{i}"
                                                                                       for i in range(2940, 3000))


def test_closed_store_refuses_use(db_path: Path) -> None:
    """Using a store after close() is a StoreError, not a crash deep in SQLAlchemy."""
    store = open_store(db_path, create=True)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.hazards()


def test_geometry_blob_is_geopackage_binary(gpkg_filled: Store) -> None:
    """Stored geometry starts with the GP header: version 0, little-endian, XY envelope, srs_id 4326."""
    with sqlite3.connect(gpkg_filled.path) as conn:
        blob = conn.execute("SELECT geom FROM hazard_areas WHERE id = 'h-1'").fetchone()[0]
    assert blob[:2] == b"GP" and blob[2] == 0 and blob[3] == 0b0000_0011
    assert gpkg.srs_id_of(blob) == 4326
    assert gpkg.envelope(blob) == (35.01, 35.012, 50.0, 50.002)


def test_organisation_kinds(store: Store) -> None:
    """Organisations of every kind round-trip."""
    orgs = [Organisation(f"o-{k.value}", f"Org {k.value}", k) for k in OrgKind]
    store.add_organisations(orgs)
    assert store.organisations() == sorted(orgs, key=lambda o: o.id)
