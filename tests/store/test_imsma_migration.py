"""Migration 0008 (IMSMA ids and links, benchmarks of released land, beneficiaries by sex and age) down and up on both
backends; at head the new values round-trip, a record without an IMSMA id gets the store's stable default, and an
upsert that brings none keeps the stored one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceCategory, DeviceFound, Disposal
from sapper.domain.hazards import Beneficiaries, Evidence, HazardArea, HazardClass
from sapper.domain.resources import Organisation, OrgKind
from sapper.store import open_store
from tests.store.migrating import columns as _columns
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store

AREA = shapely.box(35.30, 51.30, 35.302, 51.301)
SADD = Beneficiaries(direct_women=12, direct_men=10, direct_girls=4, direct_boys=5, indirect_women=300,
                     indirect_men=280, indirect_girls=90, indirect_boys=95)
ORG = Organisation("ORG-A", "Operator A", OrgKind.OPERATOR, imsma_id="organization_2")
HAZARD = HazardArea("H-1", HazardClass.CHA, AREA, Evidence.DIRECT, beneficiaries=33, beneficiaries_sadd=SADD,
                    imsma_id="hazard_poly_145", imsma_links=("accident_34", "victim_9"))
PLAIN = HazardArea("H-2", HazardClass.SHA, shapely.box(35.31, 51.30, 35.312, 51.301), Evidence.INDIRECT)
DEVICE = DeviceFound(Point(35.3005, 51.3005), DeviceCategory.AP_MINE, "PMN-2", quantity=2,
                     disposal=Disposal.DESTROYED_IN_PLACE, disposal_date=dt.date(2025, 7, 3), imsma_id="device_77",
                     imsma_links=("accident_34",))
ACTIVITY = Activity("A-1", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, "ORG-A",
                    cleared=shapely.box(35.300, 51.300, 35.301, 51.301), clearance_depth_cm=13.0,
                    devices=(DEVICE, DeviceFound(Point(35.3006, 51.3006), DeviceCategory.AT_MINE)),
                    benchmark=Point(35.2990, 51.2990), imsma_id="activity_7", imsma_links=("qa_visit_3",))
COLUMNS = {"organisations": {"imsma_id"}, "hazard_areas": {"imsma_id", "imsma_links", "beneficiaries_sadd"},
           "activities": {"imsma_id", "imsma_links", "benchmark_lon", "benchmark_lat"},
           "devices_found": {"imsma_id", "imsma_links"}}


@pytest.fixture(params=["gpkg", "postgis"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend holding an organisation, two hazard areas, an activity with two devices."""
    where = new_store(request, tmp_path, "s.gpkg")
    with open_store(where) as store, store.write() as uow:
        uow.add_organisations([ORG, Organisation("ORG-B", "Operator B", OrgKind.OPERATOR)])
        uow.add_hazards([HAZARD, PLAIN])
        uow.add_activities([ACTIVITY])
    return where


def test_imsma_values_round_trip_and_defaults_are_stable(target: str | Path) -> None:
    """Ids, links, the benchmark and beneficiaries by sex and age read back as written; records with no IMSMA id get
    the type prefix and their row number, the same on every read and after an upsert that brings none."""
    with open_store(target) as store:
        orgs = {o.id: o for o in store.organisations()}
        hazards = {h.id: h for h in store.hazards()}
        (activity,) = store.activities()
    assert orgs["ORG-A"].imsma_id == "organization_2"
    assert orgs["ORG-B"].imsma_id == "organization_ORG-B"
    h1 = hazards["H-1"]
    assert (h1.imsma_id, h1.imsma_links, h1.beneficiaries_sadd) == ("hazard_poly_145", ("accident_34", "victim_9"),
                                                                    SADD)
    assert hazards["H-2"].imsma_id.startswith("hazard_poly_") and hazards["H-2"].imsma_links == ()
    assert activity.imsma_id == "activity_7" and activity.imsma_links == ("qa_visit_3",)
    assert activity.benchmark is not None and activity.benchmark.equals_exact(ACTIVITY.benchmark, 0.0)
    first, second = activity.devices
    assert (first.imsma_id, first.imsma_links, first.quantity, first.destroyed) == ("device_77", ("accident_34",), 2,
                                                                                   True)
    assert second.imsma_id.startswith("device_") and second.imsma_id != "device_77" and not second.destroyed
    plain_id = hazards["H-2"].imsma_id
    with open_store(target) as store:
        # an upsert from a file that knows no IMSMA ids (sapper import hazards) keeps the stored ones
        store.add_hazards([HazardArea("H-1", HazardClass.CHA, AREA, Evidence.DIRECT), PLAIN], replace=True)
        store.add_activities([Activity("A-1", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, "ORG-A",
                                       devices=(activity.devices[1],))], replace=True)
        again = {h.id: h for h in store.hazards()}
        (act,) = store.activities()
    assert again["H-1"].imsma_id == "hazard_poly_145" and again["H-1"].imsma_links == ("accident_34", "victim_9")
    assert again["H-2"].imsma_id == plain_id
    assert act.imsma_id == "activity_7" and act.devices[0].imsma_id == second.imsma_id


def test_migration_0008_down_and_up(target: str | Path) -> None:
    """Down to 0007 drops the columns and keeps the records; up again adds them back, empty (defaults again)."""
    _migrate(target, "0007", down=True)
    for table, names in COLUMNS.items():
        assert not names & _columns(target, table), table
    _migrate(target, "0008", down=False)
    for table, names in COLUMNS.items():
        assert names <= _columns(target, table), table
    with open_store(target) as store:
        hazards = {h.id: h for h in store.hazards()}
        (activity,) = store.activities()
    assert sorted(hazards) == ["H-1", "H-2"]
    assert hazards["H-1"].imsma_id.startswith("hazard_poly_") and hazards["H-1"].beneficiaries_sadd is None
    assert activity.benchmark is None and len(activity.devices) == 2
