"""Advancing land release in a real store (a file, a PostGIS database): one transition per transaction, all or
nothing, and the CLI on top."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, HazardStatus
from sapper.domain.landrelease import (
    EventKind,
    Inspection,
    NCStatus,
    NonConformity,
    QAVisit,
    ReleaseState,
    Severity,
)
from sapper.domain.resources import Organisation, OrgKind
from sapper.errors import NotFoundError, TransitionError, ValidationError
from sapper.services import landrelease as lr
from sapper.store import Store, open_store
from tests.cli.entry import run
from tests.services.test_cli_import import sapper

T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)
FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)
WEST, EAST = shapely.box(35.30, 51.30, 35.301, 51.301), shapely.box(35.301, 51.30, 35.302, 51.301)
#: Cancelled by an NTS written with Store.add_activities, before any history: half of it outside the area.
STRIP = shapely.box(35.2995, 51.30, 35.3005, 51.301)


def later(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def seed(target: str | Path) -> None:
    """A store with one SHA, H-1, an operator, and an NTS already recorded the old way (no history yet)."""
    with open_store(target, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator One", OrgKind.OPERATOR)])
        uow.add_hazards([HazardArea("H-1", HazardClass.SHA, FIELD, Evidence.INDIRECT)])
        uow.add_activities([Activity("A-0", "H-1", ActivityType.NTS, ActivityStatus.COMPLETED,
                                     organisation_id="op-1", end=dt.date(2025, 6, 1), cancelled=STRIP),
                            Activity("A-P", "H-1", ActivityType.TS, ActivityStatus.PLANNED)])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The seeded store as a GeoPackage file (for the command line, which takes a path)."""
    seed(tmp_path / "register.gpkg")
    return tmp_path / "register.gpkg"


@pytest.fixture
def register(store_target: str | Path) -> str | Path:
    """The seeded store on each backend (a GeoPackage file, a PostGIS database)."""
    seed(store_target)
    return store_target


@pytest.fixture
def on_both(register: str | Path) -> Iterator[Store]:
    """The seeded store on each backend, open, as an entry point hands it to the services."""
    with open_store(register) as store:
        yield store


def snapshot(path: str | Path) -> tuple[dict[str, int], HazardArea, list[Activity]]:
    with open_store(path) as store:
        return store.counts(), store.hazard("H-1"), store.activities("H-1")


def test_a_whole_release_through_the_service(on_both: Store) -> None:
    """Adopt the old NTS, confirm, reduce, QA with a critical NC, clear, inspect, accept once the NC is closed, hand
    over."""
    reg = on_both
    done = lr.reclassify(reg, "H-1", evidence="PMN-2 fuze at the east edge", actor="imo", reason="TS report",
                         at=later(1))
    assert [(e.kind, e.reason) for e in done.events] == [
        (EventKind.RECORDED, lr.START_REASON), (EventKind.ACTIVITY, lr.ADOPT_REASON.format(id="A-0")),
        (EventKind.RECLASSIFIED, "TS report")]
    adopted = done.events[1]
    assert adopted.clipped_m2 == pytest.approx(area_m2(STRIP) / 2, rel=1e-3)  # the half outside was clipped off
    lr.record_activity(reg, Activity("A-1", "H-1", ActivityType.TS, ActivityStatus.COMPLETED, organisation_id="op-1",
                                    reduced=WEST), actor="team 3", reason="TS completion report", at=later(2))
    visit = QAVisit("V-1", "A-1", later(3).date(), (NonConformity("V-1-1", Severity.CRITICAL, "lane 4 skipped"),))
    lr.record_qa_visit(reg, visit, actor="qa", reason="monthly visit", at=later(3))
    done = lr.record_activity(reg, Activity("A-2", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED,
                                            cleared=FIELD, clearance_depth_cm=13.0), actor="team 3",
                              reason="completion", at=later(4))
    assert done.record.state is ReleaseState.CONFIRMED and done.record.awaiting_release
    assert done.lines()[-1].startswith("all land is processed; release awaits: no post-clearance inspection")
    assert "critical non-conformity V-1-1 (open) is not closed" in done.lines()[-1]
    lr.inspect(reg, "H-1", Inspection("I-1", later(5).date(), 500.0, True, "NMAA QA"), actor="qa",
               reason="post-clearance inspection", at=later(5))
    with pytest.raises(TransitionError, match="V-1-1 \\(open\\) is not closed"):
        lr.release(reg, "H-1", actor="imo", reason="r", at=later(5))
    lr.set_non_conformity(reg, "V-1-1", NCStatus.CORRECTED, actor="team 3", reason="re-searched", at=later(5))
    lr.set_non_conformity(reg, "V-1-1", NCStatus.CLOSED, actor="qa", reason="verified", at=later(6))
    lr.release(reg, "H-1", actor="imo", reason="NC closed", at=later(7))
    done = lr.hand_over(reg, "H-1", recipient="Sudzha village council", actor="nmaa", reason="certificate 17",
                        at=later(8))

    found = lr.history(reg, "H-1")
    assert found.record == done.record
    assert [e.seq for e in found.record.history] == list(range(1, 12))
    assert found.record.history[-2].kind is EventKind.ACCEPTED
    assert (found.hazard.hazard_class, found.hazard.evidence, found.hazard.status) == (
        HazardClass.CHA, Evidence.DIRECT, HazardStatus.HANDED_OVER)
    stored = {a.id: a for a in reg.activities("H-1")}
    (qa,) = reg.qa_visits("H-1")
    assert qa.inspected_organisation_id == "op-1"  # the organisation that carried out the activity
    for aid in ("A-0", "A-1", "A-2"):  # stored clipped: inside the area, not overlapping each other
        for geom in stored[aid].outcomes.values():
            assert area_m2(shapely.difference(geom, FIELD)) < 1.0
    assert stored["A-P"].status is ActivityStatus.PLANNED  # planned, so not adopted
    released = sum(area_m2(g) for aid in ("A-0", "A-1", "A-2") for g in stored[aid].outcomes.values())
    assert released == pytest.approx(area_m2(FIELD), rel=1e-3)


def test_a_failing_transition_writes_nothing(register: str | Path, on_both: Store) -> None:
    """An illegal move or a store refusal leaves the file as it was: no history, the old activity unclipped."""
    db, reg = register, on_both
    before = snapshot(db)
    with pytest.raises(TransitionError, match="cannot hand the area over: the area is suspected"):
        lr.hand_over(reg, "H-1", recipient="x", actor="a", reason="r")
    visit = QAVisit("V-1", "A-0", T0.date(), inspecting_organisation_id="nobody")
    with pytest.raises(ValidationError, match="organisation nobody is not in the store"):
        lr.record_qa_visit(reg, visit, actor="qa", reason="r")  # fails after adopting A-0 and clipping it
    with pytest.raises(ValidationError, match="reason is empty"):
        lr.reclassify(reg, "H-1", evidence="mine", actor="imo", reason=" ")
    assert snapshot(db) == before
    with pytest.raises(NotFoundError, match="hazard area H-9 is not in the store"):
        lr.reclassify(reg, "H-9", evidence="mine", actor="imo", reason="r")


def test_a_register_changed_behind_the_history_is_refused(register: str | Path, on_both: Store) -> None:
    """If the register's status is edited outside the service, reading the history names the contradiction."""
    db, reg = register, on_both
    lr.reclassify(reg, "H-1", evidence="mine", actor="imo", reason="r", at=later(1))
    with open_store(db) as store:
        edited = HazardArea("H-1", HazardClass.CHA, store.hazard("H-1").geometry, Evidence.DIRECT,
                            status=HazardStatus.CLOSED)
        store.add_hazards([edited], replace=True)
    with pytest.raises(ValidationError, match="the register has it CHA and closed, but its land-release history "
                                              "leads to CHA and confirmed"):
        lr.history(reg, "H-1")


def test_release_commands_on_the_command_line(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The release commands as a user runs them: output, JSON history, and one-line errors with exit codes."""
    monkeypatch.chdir(db.parent)
    name = db.name
    code, out, err = run(monkeypatch, capsys, "release", "reclassify", "H-1", "--db", name, "--evidence",
                         "fuze seen", "--actor", "imo", "--reason", "TS report", "--at", "2025-06-17T11:00:00+03:00")
    assert code == 0, err
    assert out.splitlines()[2].startswith("event 3 (reclassified): suspected → confirmed: reclassified")
    code, out, err = run(monkeypatch, capsys, "release", "qa", "A-0", "--db", name, "--visit", "V-1", "--nc",
                         "critical:lane 4 skipped", "--nc", "minor:tape", "--actor", "qa", "--reason", "monthly",
                         "--at", "2025-06-18T08:00:00Z")
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, "release", "nc", "V-1-1", "--db", name, "--status", "corrected",
                         "--actor", "team", "--reason", "re-searched", "--at", "2025-06-18T09:00:00Z")
    assert code == 0, err
    for args, expected in [
        (("--nc", "grave:x"), "non-conformity 'grave:x': give SEVERITY:DESCRIPTION"),
        (("--date", "18/06/2025"), "'18/06/2025' is not a date YYYY-MM-DD"),
    ]:
        code, _, err = run(monkeypatch, capsys, "release", "qa", "A-0", "--db", name, "--visit", "V-2", "--actor",
                           "qa", "--reason", "r", *args)
        assert (code, expected in err) == (2, True), err
    code, _, err = run(monkeypatch, capsys, "release", "close", "H-1", "--db", name, "--actor", "a", "--reason",
                       "r", "--at", "2025-06-19T08:00:00")
    assert (code, "has no time zone" in err) == (2, True)
    code, _, err = run(monkeypatch, capsys, "release", "history", "H-9", "--db", name)
    assert (code, err.strip()) == (3, "sapper: error [not_found]: hazard area H-9 is not in the store")

    code, out, _ = run(monkeypatch, capsys, "release", "history", "H-1", "--db", name, "--json")
    doc = json.loads(out)
    assert (doc["state"], doc["hazard_class"], doc["blockers"]) == ("confirmed", "CHA", ["V-1-1"])
    assert [(e["seq"], e["kind"], e["actor"]) for e in doc["events"]] == [
        (1, "recorded", "imo"), (2, "activity", "imo"), (3, "reclassified", "imo"), (4, "qa_visit", "qa"),
        (5, "non_conformity", "team")]
    assert doc["events"][2]["at"] == "2025-06-17T08:00:00Z"
    assert doc["events"][4]["nc_status"] == "corrected"
    assert abs(doc["residual_m2"]) <= doc["tolerance_m2"]
    code, out, _ = run(monkeypatch, capsys, "release", "history", "H-1", "--db", name)
    lines = out.splitlines()
    assert lines[0].startswith("hazard area H-1 is confirmed (CHA): original")
    assert any("non-conformity V-1-1 (critical, corrected): lane 4 skipped" in line for line in lines)

    # once as a separate process, as a user runs it: the exit code and the one error line are real
    refused = sapper("release", "handover", "H-1", "--db", name, "--to", "council", "--actor", "nmaa",
                     "--reason", "r", cwd=db.parent)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("sapper: error [illegal_transition]: hazard area H-1: cannot hand the area "
                                      "over: the area is confirmed; allowed only when it is released")


def _geojson(path: Path, *geoms: shapely.Geometry) -> Path:
    crs84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    doc = {"type": "FeatureCollection", "crs": crs84,
           "features": [{"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(g))}
                        for g in geoms]}
    path.write_text(json.dumps(doc))
    return path


def _csv(path: Path, geom: shapely.Geometry) -> Path:
    path.write_text(f'id,wkt\n1,"{geom.wkt}"\n')
    return path


def test_release_record_reads_the_outcome_from_a_file_repairs_it_and_says_so(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reg: Store) -> None:
    """`sapper release record`: a clearance report's cleared land from a GeoJSON file, one feature self-intersecting
    (repaired, and said); what the NTS cancelled before is clipped off. Bad input changes nothing."""
    monkeypatch.chdir(db.parent)
    bowtie = shapely.Polygon([(35.3012, 51.3002), (35.3018, 51.3008), (35.3018, 51.3002), (35.3012, 51.3008)])
    cleared = _geojson(db.parent / "cleared.geojson", WEST, bowtie)
    before = snapshot(db)
    for args, code, expected in [
        (("--type", "sweep"), 2, "'sweep' is not one of nts, ts, clearance, bac, eod"),
        (("--type", "clearance", "--cleared", str(_geojson(db.parent / "point.geojson", shapely.Point(35.3, 51.3)))),
         2, "point.geojson: feature 1: is a Point, not a polygon"),
        (("--type", "clearance", "--cleared", str(_csv(db.parent / "cleared.csv", WEST))),
         2, "a CSV file has no coordinate reference system of its own: pass it with --crs"),
    ]:
        got, _, err = run(monkeypatch, capsys, "release", "record", "H-1", "--db", db.name, "--id", "CL-1",
                          "--date", "2025-06-20", "--actor", "imo", "--reason", "report 7", *args)
        assert (got, expected in err) == (code, True), err
    assert snapshot(db) == before
    code, out, err = run(monkeypatch, capsys, "release", "record", "H-1", "--db", db.name, "--type", "clearance",
                         "--id", "CL-1", "--date", "2025-06-20", "--start", "2025-06-18", "--org", "op-1", "--method",
                         "manual", "--cleared", cleared.name, "--depth", "13", "--actor", "imo", "--reason", "report 7")
    assert code == 0, err
    assert "cleared.geojson: feature 2 repaired (Self-intersection" in out
    found = lr.history(reg, "H-1")
    assert found.record is not None
    (event,) = [e for e in found.record.history if e.activity is not None and e.activity.id == "CL-1"]
    expected = area_m2(shapely.union_all([WEST, shapely.make_valid(bowtie)]).difference(STRIP))
    assert event.cleared_m2 == pytest.approx(expected, abs=1.0)
    assert event.activity is not None and event.activity.method is not None
    assert (event.activity.start, event.activity.end, event.activity.clearance_depth_cm) == (
        dt.date(2025, 6, 18), dt.date(2025, 6, 20), 13.0)
    again, _, err = run(monkeypatch, capsys, "release", "record", "H-1", "--db", db.name, "--type", "clearance",
                        "--id", "CL-1", "--date", "2025-06-21", "--actor", "imo", "--reason", "report 7 again")
    assert (again, "cannot record activity CL-1: it is already in the history" in err) == (2, True), err
