"""Land-release tables in the store: events, QA visits and non-conformities round-trip, and the audit triggers hold."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import shapely
from alembic import command
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.landrelease import EventKind, LandRelease, NCStatus, NonConformity, QAVisit, Severity
from sapper.errors import NotFoundError, ValidationError
from sapper.store import Store, UnitOfWork
from sapper.store import engine as engines
from sapper.store.schema import RELEASE_EVENT_KINDS
from tests.store.conftest import ORG

T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)
FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)
WEST, EAST = shapely.box(35.30, 51.30, 35.301, 51.301), shapely.box(35.301, 51.30, 35.302, 51.301)
HAZARD = HazardArea("H-1", HazardClass.SHA, FIELD, Evidence.INDIRECT)


def later(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def act(aid: str, atype: ActivityType, **outcomes: BaseGeometry) -> Activity:
    return Activity(aid, "H-1", atype, ActivityStatus.COMPLETED, organisation_id="org-1", **outcomes)  # type: ignore[arg-type]


def save(uow: UnitOfWork, record: LandRelease, since: int = 0) -> None:
    """Write the events of ``record`` from ``since`` on, with the records they bring (as the service does)."""
    for e in record.history[since:]:
        if e.activity is not None:
            uow.add_activities([e.activity])
        if e.visit is not None:
            uow.add_qa_visit(e.visit)
        if e.non_conformity_id is not None and e.nc_status is not None:
            uow.set_non_conformity_status(e.non_conformity_id, e.nc_status)
    uow.append_release_events(record.history[since:])


@pytest.fixture
def recorded(store: Store) -> tuple[Store, LandRelease]:
    """A store holding H-1 with a history: recorded, NTS, reclassified, TS, QA visit with two NCs, one corrected."""
    r = LandRelease.start(HAZARD, actor="imo", at=T0, reason="register import")
    r = r.record_activity(act("A-1", ActivityType.NTS, cancelled=shapely.box(35.2995, 51.30, 35.3005, 51.301)),
                          actor="team 3", at=later(1), reason="no evidence on the west strip")
    r = r.reclassify(evidence="PMN-2 fuze at the east edge", actor="imo", at=later(2), reason="TS report")
    r = r.record_activity(act("A-2", ActivityType.TS, reduced=WEST), actor="team 3", at=later(3), reason="r")
    r = r.record_qa_visit(QAVisit("V-1", "A-2", later(4).date(), (
        NonConformity("V-1-1", Severity.CRITICAL, "lane 4 not searched to depth"),
        NonConformity("V-1-2", Severity.MINOR, "marking tape missing")), inspecting_organisation_id="org-1"),
        actor="qa", at=later(4), reason="monthly visit")
    r = r.set_non_conformity("V-1-1", NCStatus.CORRECTED, actor="team 3", at=later(5), reason="lane re-searched")
    with store.write() as uow:
        uow.add_organisations([ORG])
        uow.add_hazards([r.register_record(HAZARD)])
        save(uow, r)
    return store, r


def test_history_round_trips_and_replays(recorded: tuple[Store, LandRelease]) -> None:
    """Events read back equal those written (times in UTC to the ms) and replay to the same record."""
    store, r = recorded
    events = store.release_events("H-1")
    assert events == list(r.history)
    assert [e.kind for e in events] == [EventKind.RECORDED, EventKind.ACTIVITY, EventKind.RECLASSIFIED,
                                        EventKind.ACTIVITY, EventKind.QA_VISIT, EventKind.NON_CONFORMITY]
    assert LandRelease.replay(store.hazard("H-1"), events) == r
    assert store.release_events("H-2") == []
    (visit,) = store.qa_visits("H-1")
    assert [(nc.id, nc.status) for nc in visit.non_conformities] == [("V-1-1", NCStatus.CORRECTED),
                                                                     ("V-1-2", NCStatus.OPEN)]
    assert (visit.inspecting_organisation_id, visit.date) == ("org-1", later(4).date())
    assert store.hazard_of_non_conformity("V-1-2") == store.hazard_of_activity("A-2") == "H-1"
    with pytest.raises(NotFoundError, match="non-conformity V-9 is not in the store"):
        store.hazard_of_non_conformity("V-9")
    assert store.counts()["land_release_events"] == 6


def test_events_cannot_be_changed_deleted_or_skipped(recorded: tuple[Store, LandRelease]) -> None:
    """UPDATE and DELETE on land_release_events are refused, and so is an event out of sequence."""
    store, r = recorded
    for sql, message in [
        ("UPDATE land_release_events SET actor = 'x' WHERE seq = 2", "append-only: an event cannot be changed"),
        ("DELETE FROM land_release_events WHERE seq = 6", "append-only: an event cannot be deleted"),
        ("UPDATE qa_visits SET notes = 'x'", "qa_visits is append-only"),
        ("DELETE FROM qa_visits", "qa_visits is append-only"),
        ("DELETE FROM non_conformities WHERE id = 'V-1-2'", "a non-conformity cannot be deleted"),
        ("UPDATE non_conformities SET description = 'nothing' WHERE id = 'V-1-2'", "only the status"),
        ("UPDATE non_conformities SET status = 'closed' WHERE id = 'V-1-2'", "open to corrected to closed"),
    ]:
        with pytest.raises(ValidationError, match=message), store.write() as uow:
            uow.connection.exec_driver_sql(sql)
    nxt = r.set_non_conformity("V-1-2", NCStatus.CORRECTED, actor="t", at=later(6), reason="r").history[-1]
    with pytest.raises(ValidationError, match="appended in sequence"), store.write() as uow:
        uow.append_release_events([dataclasses.replace(nxt, seq=9)])  # a valid event, but after a gap
    assert store.release_events("H-1") == list(r.history)


def test_non_conformity_status_moves_forward_in_the_table(recorded: tuple[Store, LandRelease]) -> None:
    """The table lets a status move open → corrected → closed, and corrected back to open."""
    store, _ = recorded
    with store.write() as uow:
        uow.set_non_conformity_status("V-1-2", NCStatus.CORRECTED)
        uow.set_non_conformity_status("V-1-2", NCStatus.OPEN)
        uow.set_non_conformity_status("V-1-1", NCStatus.CLOSED)
    statuses = {nc.id: nc.status for v in store.qa_visits("H-1") for nc in v.non_conformities}
    assert statuses == {"V-1-1": NCStatus.CLOSED, "V-1-2": NCStatus.OPEN}
    with pytest.raises(NotFoundError, match="non-conformity V-7 is not in the store"), store.write() as uow:
        uow.set_non_conformity_status("V-7", NCStatus.CLOSED)


def test_activities_and_perimeter_in_a_history_are_frozen(recorded: tuple[Store, LandRelease]) -> None:
    """An activity in a history cannot be replaced nor its outcomes deleted; the perimeter cannot move."""
    store, r = recorded
    with pytest.raises(ValidationError, match="in a land-release history cannot be"):
        store.add_activities([act("A-2", ActivityType.TS, reduced=EAST)], replace=True)
    with pytest.raises(ValidationError, match="outcome of an activity in a land-release history"), \
            store.write() as uow:
        uow.connection.exec_driver_sql("DELETE FROM land_release_outcomes")
    moved = HazardArea("H-1", HazardClass.CHA, shapely.box(35.30, 51.30, 35.303, 51.301), Evidence.DIRECT)
    with pytest.raises(ValidationError, match="perimeter of a hazard area with a land-release history"):
        store.add_hazards([moved], replace=True)
    renamed = HazardArea("H-1", HazardClass.CHA, store.hazard("H-1").geometry, Evidence.DIRECT, name="north field")
    store.add_hazards([renamed], replace=True)  # same perimeter: other attributes may change
    assert store.hazard("H-1").name == "north field"
    free = HazardArea("H-2", HazardClass.SHA, shapely.box(35.31, 51.30, 35.312, 51.301), Evidence.INDIRECT)
    store.add_hazards([free])
    store.add_hazards([HazardArea("H-2", HazardClass.SHA, shapely.box(35.31, 51.30, 35.313, 51.301),
                                  Evidence.INDIRECT)], replace=True)  # no history: it may be redrawn
    store.add_activities([Activity("A-9", "H-2", ActivityType.TS, ActivityStatus.ONGOING)])
    store.add_activities([Activity("A-9", "H-2", ActivityType.TS, ActivityStatus.COMPLETED)], replace=True)
    assert store.activities("H-1") == [r.activities["A-1"], r.activities["A-2"]]


def test_qa_visit_references_are_checked(recorded: tuple[Store, LandRelease]) -> None:
    """A visit with a taken id, an unknown activity or organisation, or a taken NC id is refused, naming each."""
    store, _ = recorded
    bad = QAVisit("V-1", "A-77", T0.date(), (NonConformity("V-1-1", Severity.MINOR, "x"),),
                  inspecting_organisation_id="nobody")
    with pytest.raises(ValidationError) as refused, store.write() as uow:
        uow.add_qa_visit(bad)
    text = str(refused.value)
    for expected in ("QA visit V-1.id: id already exists", "non-conformity V-1-1.id: id already exists",
                     "activity A-77 is not in the store", "organisation nobody is not in the store"):
        assert expected in text


def test_migration_0002_downgrades_and_upgrades(recorded: tuple[Store, LandRelease], store_target: str | Path) -> None:
    """Downgrading to 0001 drops the land-release tables and their guards; upgrading brings them back, empty."""
    store, _ = recorded
    store.close()
    engine = engines.make_engine(store_target)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(**{engines.WRITE: True})
            with conn.begin():
                command.downgrade(engines.alembic_config(conn), "0001")
                if conn.dialect.name == "sqlite":
                    names = {row[0] for row in conn.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
                    names |= {row[0] for row in conn.exec_driver_sql("SELECT table_name FROM gpkg_contents")}
                else:
                    names = {row[0] for row in conn.execute(text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' UNION "
                        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal UNION "
                        "SELECT proname FROM pg_proc WHERE proname LIKE '%in_history%'"))}
    finally:
        engine.dispose()
    assert "hazard_areas" in names
    assert not {"land_release_events", "qa_visits", "non_conformities"} & names
    assert not any("in_history" in n for n in names)
    from sapper.store import open_store

    with open_store(store_target) as again:
        assert again.revision() == engines.head_revision()
        assert again.release_events("H-1") == []
        again.add_activities([act("A-2", ActivityType.TS, reduced=EAST)], replace=True)  # no history, no guard


def test_event_kinds_in_the_schema_are_the_domain_kinds() -> None:
    """The table's check constraint allows exactly the kinds of events the domain makes."""
    assert set(RELEASE_EVENT_KINDS) == {k.value for k in EventKind}
