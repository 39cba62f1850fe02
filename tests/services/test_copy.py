"""Copying a whole register between backends: GeoPackage → PostGIS → GeoPackage without loss, into new or empty
stores only, all or nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.accidents import Accident, AccidentKind, Gender, Victim, VictimOutcome
from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.calendar import Holiday, ProgrammeCalendar
from sapper.domain.hazards import DeviceCategory
from sapper.domain.landrelease import LandRelease, NonConformity, QAVisit, Severity
from sapper.domain.taskorders import OrderLot, OrderState, SiteKind, TaskOrder, UnitRole
from sapper.domain.users import AuditEntry, Role
from sapper.errors import StoreError
from sapper.services import fielddata as fd
from sapper.services.copy import copy_register, copy_store, init_store
from sapper.store import ContextArea, HazardEdit, PlannedTask, PlanRun, Settlement, Store, open_store
from sapper.store import accounts as accounts_repo
from sapper.store.cipher import DataKey, FieldCipher
from tests.conftest import PostgisServer
from tests.io.field_exports import clearance, odk_zip
from tests.services.test_fielddata import AT, approve
from tests.services.test_fielddata import seeded as seeded
from tests.store.conftest import fill
from tests.store.test_land_release_store import save

T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)
KEY = DataKey.generate()
ACCIDENT = Accident("AC-1", dt.date(2025, 6, 3), AccidentKind.DEMINING, DeviceCategory.AP_MINE, place="lane 4",
                    lon=35.2, lat=50.2, hazard_id="H-2", activity_id="A-H2-1", victim_count=1,
                    investigation="fuze sensitive to vibration")
VICTIM = Victim("VI-1", "AC-1", "Іван Тест", Gender.MALE, VictimOutcome.INJURED, birth_date=dt.date(1990, 1, 1))
UUID = "uuid:0a1b861f-a5fd-4f49-846a-78dcf06cfc1b"


def full_register(target: str | Path, tmp_path: Path) -> None:
    """Every table of the store holds rows: the field-data seed and an applied clearance report, the rich records
    of the store tests, a land-release history with a QA visit, settlements, context areas, metadata, two plans."""
    with open_store(target) as store:
        fd.import_export(store, odk_zip(tmp_path / "day.zip", "sapper_clearance", [clearance(UUID)]), at=AT)
        approve(target, 1)  # type: ignore[arg-type]
        assert fd.apply_approved(store, at=AT).faults == []
        fill(store)
        hazard = store.hazard("H-2")
        record = LandRelease.start(hazard, actor="imo", at=T0, reason="register import")
        record = record.record_activity(
            Activity("A-H2-1", "H-2", ActivityType.TS, ActivityStatus.COMPLETED, organisation_id="op-1",
                     reduced=shapely.box(35.2, 50.2, 35.205, 50.21)),
            actor="team 3", at=T0 + dt.timedelta(hours=1), reason="technical survey")
        record = record.record_qa_visit(
            QAVisit("V-1", "A-H2-1", T0.date(), (NonConformity("V-1-1", Severity.MINOR, "marking tape missing"),),
                    inspecting_organisation_id="op-1"),
            actor="qa", at=T0 + dt.timedelta(hours=2), reason="monthly visit")
        with store.write() as uow:
            marked = dataclasses.replace(record.register_record(hazard), benchmark=Point(34.5, 49.5),
                                         turning_points=(Point(35.2, 50.2), Point(35.205, 50.2)))
            uow.add_hazards([marked], replace=True)
            save(uow, record)
            uow.add_settlements([Settlement("Суджа", 5500, Point(35.27, 51.19), source="OSM")])
            uow.add_context_areas("admin_areas", [ContextArea("oblast", shapely.box(34, 50, 36, 52), "NE", False)])
            uow.add_context_areas("contested_zone", [ContextArea("zone", shapely.box(35, 51, 36, 52), "synth", True)])
            uow.set_meta({"scenario": "copy test", "start_date": "2025-06-02"})
            uow.set_calendar(ProgrammeCalendar(holidays=(Holiday(dt.date(2025, 8, 24), "День Незалежності"),)))
        tasks = (PlannedTask("survey-h-1", "survey", dt.date(2026, 4, 1), dt.date(2026, 4, 3), 8000.0, "m2",
                             hazard_id="h-1", mode="survey", resource="survey", unit_id="t-1"),
                 PlannedTask("repair-a-road", "repair", dt.date(2026, 4, 4), dt.date(2026, 5, 1), 120.0,
                             "builder_days", asset_id="a-road", resource="road", unit_id="b-1"))
        store.save_plan(PlanRun("optimal", objective=10.5, finish_date=dt.date(2026, 5, 1), tasks=tasks))
        store.save_plan(PlanRun("feasible", tasks=tasks[:1]))
        store.update_hazard("h-1", dataclasses.replace(HazardEdit.of(store.hazard("h-1")), name="edited"),
                            expected_version=1)
        with store.write() as uow:  # the web service's tables (revision 0006)
            org = store.organisations()[0].id
            user = accounts_repo.add_user(uow.connection, "anna", Role.PLANNER, org, "stored-argon2-hash")
            accounts_repo.add_token(uow.connection, "anna", "token-sha256", T0 + dt.timedelta(days=30))
            accounts_repo.add_session(uow.connection, user.id, "session-sha256", "csrf", T0 + dt.timedelta(hours=1))
            uow.audit(AuditEntry("anna", org, "hazard_areas", "h-1", "update", "copy test", "{}", "{}"))
            accounts_repo.add_job(uow.connection, "plan", "anna", "{}")
        with store.write() as uow:  # task orders (revision 0009): one issued, then acknowledged
            lot = OrderLot("survey-h-1", "survey", "survey", dt.date(2026, 4, 1), dt.date(2026, 4, 3), 8000.0, "m2")
            [order] = uow.task_orders.issue([TaskOrder(
                "", "t-1", UnitRole.TEAM, None, SiteKind.HAZARD_AREA, "h-1", 1, dt.date(2026, 4, 1),
                dt.date(2026, 4, 14), OrderState.ISSUED, T0, (lot,), Point(35.2, 50.2), "base", ("sapper_nts",))],
                actor="ops", at=T0)
            uow.task_orders.transition([order.number], OrderState.ACKNOWLEDGED, actor="tl", reason="", at=T0)
        with store.write() as uow:  # accidents and victims (revision 0012): victims travel as ciphertext
            uow.put_accident(ACCIDENT)
            uow.add_victim(VICTIM, FieldCipher(KEY))


def contents(store: Store) -> dict[str, object]:
    """Everything the store API reads back, for comparing two stores."""
    hazard_ids = [h.id for h in store.hazards()]
    return {
        "organisations": store.organisations(), "hazards": store.hazards(), "assets": store.assets(),
        "activities": store.activities(), "teams": store.teams(), "brigades": store.brigades(),
        "settlements": store.settlements(), "admin": store.context_areas("admin_areas"),
        "zone": store.context_areas("contested_zone"), "meta": store.meta(), "qa": store.qa_visits(),
        "history": {h: store.release_events(h) for h in hazard_ids},
        "versions": {h: store.hazard_version(h) for h in hazard_ids},
        "plans": [store.plan(1), store.plan(2)], "latest": store.latest_plan(),
        "submissions": store.field_submissions(), "progress": store.field_progress(),
        "task_orders": store.task_orders(), "calendar": store.calendar(),
        "accidents": store.accidents(), "victims": _victims(store),
    }


def _victims(store: Store) -> list[Victim]:
    with store.dry_run() as uow:
        return uow.victims("AC-1", FieldCipher(KEY))


def test_copy_geopackage_to_postgis_and_back(seeded: Path, tmp_path: Path, postgis: PostgisServer) -> None:
    """GeoPackage → PostGIS → GeoPackage: every table has the same rows, and everything reads back equal."""
    source = tmp_path / "source.gpkg"
    source.write_bytes(seeded.read_bytes())
    full_register(source, tmp_path)
    middle = postgis.new_store_database()
    back = tmp_path / "back.gpkg"
    try:
        there = copy_register(source, middle)
        again = copy_register(middle, back)
        assert there.complete and again.complete
        empty = [t.table for t in there.tables if t.source_rows == 0]
        assert empty == []  # the register really holds rows in every table
        assert {t.table: t.source_rows for t in there.tables} == {t.table: t.target_rows for t in again.tables}
        with open_store(source) as a, open_store(middle) as b, open_store(back) as c:
            original = contents(a)
            assert contents(b) == original
            assert contents(c) == original
            # ids continue after the copied ones on PostgreSQL (its sequences were moved past them)
            assert b.save_plan(PlanRun("feasible")) == 3
            assert c.save_plan(PlanRun("feasible")) == 3
        assert "copied" in there.lines()[-1] and "postgresql" in there.lines()[-1]
    finally:
        postgis.drop(middle)


def test_copy_refuses_a_non_empty_target_and_writes_nothing(tmp_path: Path, store_target: str | Path) -> None:
    """A target holding any row is refused with a clear error, and stays as it was; so is copying into itself."""
    with open_store(tmp_path / "source.gpkg", create=True) as source, open_store(store_target, create=True) as target:
        fill(source)
        target.set_meta({"owner": "someone else"})
        with pytest.raises(StoreError, match=r"the target store is not empty \(1 in sapper_meta\)"):
            copy_store(source, target)
        assert sum(target.counts().values()) == 1
        with pytest.raises(StoreError, match="into itself"):
            copy_store(source, source)


def test_init_store_makes_an_empty_store_once(tmp_path: Path, store_target: str | Path) -> None:
    """init_store creates an empty store (file or database) and refuses an existing file or a store with records."""
    target: str | Path = tmp_path / "new.gpkg" if isinstance(store_target, Path) else store_target
    shown = init_store(target)
    assert shown == str(target) or shown.startswith("postgresql+psycopg://")
    if isinstance(target, Path):
        with pytest.raises(StoreError, match="already exists"):
            init_store(target)
    else:
        with open_store(target) as store:
            fill(store)
        with pytest.raises(StoreError, match="already holds a sapper store"):
            init_store(target)
