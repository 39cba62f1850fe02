"""Inspection, acceptance, reopening, extension, the certificate and the programme's rules through the service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceFound, Disposal
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus, Marking
from sapper.domain.landrelease import EventKind, Inspection, ReleaseState
from sapper.domain.releaserules import ReleaseRules
from sapper.domain.resources import Method, Organisation, OrgKind
from sapper.errors import TransitionError, ValidationError
from sapper.services import landrelease as lr
from sapper.store import Store, open_store

T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)
FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)
LANE = shapely.box(35.3005, 51.3002, 35.3010, 51.3004)
BENCHMARK = Point(35.2995, 51.2995)
CORNERS = (Point(35.30, 51.30), Point(35.302, 51.30), Point(35.302, 51.301), Point(35.30, 51.301))


def later(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def db(store_target: str | Path) -> Iterator[Store]:
    """On each backend (a GeoPackage file, a PostGIS database), open: a store with one SHA, H-1, marked and fenced,
    with its benchmark and turning points, and an operator."""
    with open_store(store_target, create=True) as store:
        with store.write() as uow:
            uow.add_organisations([Organisation("op-1", "Operator One", OrgKind.OPERATOR)])
            uow.add_hazards([HazardArea("H-1", HazardClass.SHA, FIELD, Evidence.INDIRECT, name="Field by the school",
                                        benchmark=BENCHMARK, turning_points=CORNERS, marking=Marking.FENCED,
                                        clearance_depth_cm=20.0)])
        yield store


def clearance(aid: str, cleared: shapely.Geometry, *devices: DeviceFound, depth: float = 20.0) -> Activity:
    return Activity(aid, "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, organisation_id="op-1",
                    method=Method.MANUAL, cleared=cleared, clearance_depth_cm=depth, devices=devices)


def test_clear_fail_qc_reclear_inspect_accept_hand_over_find_and_reopen(db: Store) -> None:
    """The whole cycle in a store: every event is stored, replays, and the register follows the history."""
    mine = DeviceFound(Point(35.3007, 51.3003), DeviceCategory.AP_MINE, "PMN-2", depth_cm=25.0, fuze="MD-9",
                       disposal=Disposal.DESTROYED_IN_PLACE, disposal_date=dt.date(2025, 6, 17))
    done = lr.record_activity(db, clearance("A-1", FIELD, mine), actor="team 3", reason="report 1", at=later(1))
    assert [e.kind for e in done.events] == [EventKind.RECORDED, EventKind.ACTIVITY, EventKind.RECLASSIFIED]
    assert any("below the required clearance depth of 20 cm" in line for line in done.lines())
    failed = Inspection("QC-1", later(2).date(), 800.0, False, "NMAA QA", plan="ISO 2859-1",
                        finding="fragment signal not investigated in lane 3", failed_area=LANE)
    done = lr.inspect(db, "H-1", failed, actor="qa", reason="QC report 1", at=later(2))
    assert done.record.remaining_m2 == pytest.approx(area_m2(LANE), rel=1e-3)
    with pytest.raises(TransitionError, match="is still hazardous"):
        lr.accept(db, "H-1", authority="NMAA", actor="director", reason="r", at=later(3))
    lr.record_activity(db, clearance("A-2", LANE), actor="team 3", reason="lane 3 re-cleared", at=later(3))
    lr.inspect(db, "H-1", Inspection("QC-2", later(4).date(), 300.0, True, "NMAA QA"), actor="qa",
               reason="QC report 2", at=later(4))
    lr.accept(db, "H-1", authority="NMAA Ukraine", actor="O. Kovalenko", reason="CR-17 approved", at=later(5))
    lr.hand_over(db, "H-1", recipient="village council", actor="NMAA officer", reason="certificate 17", at=later(6))

    cert = lr.certificate(db, "H-1")
    assert (cert.state, cert.hazard_class, cert.marking) == (ReleaseState.HANDED_OVER, HazardClass.CHA,
                                                            Marking.FENCED)
    assert cert.benchmark == BENCHMARK and cert.turning_points == CORNERS
    assert cert.cleared_m2 == pytest.approx(area_m2(FIELD) + area_m2(LANE), rel=1e-3)  # the lane twice
    assert cert.reopened_m2 == pytest.approx(area_m2(LANE), rel=1e-3)
    assert cert.methods == ("CLEARANCE (manual) by Operator One",) and cert.required_depth_cm == 20.0
    (device,) = cert.devices
    assert (device.quantity, device.fuze, device.disposal, device.below_required_depth) == (
        1, "MD-9", Disposal.DESTROYED_IN_PLACE, True)
    assert [(s.role, s.name, s.on_behalf_of) for s in cert.signatories] == [
        ("accepted by", "O. Kovalenko", "NMAA Ukraine"), ("handed over by", "NMAA officer", ""),
        ("received by", "village council", "")]
    assert len(cert.inspections) == 2 and "failed (fragment signal" in cert.inspections[0]

    around = Point(35.3015, 51.3005).buffer(0.0001)
    done = lr.reopen(db, "H-1", around, residual_risk="UXO found by a farmer; 10 m around it reopened",
                     evidence="VOG-17 found by a farmer", actor="imo", reason="EOD report 9", at=later(7))
    found = lr.history(db, "H-1")
    assert found.record == done.record and found.hazard.status is HazardStatus.OPEN
    assert found.record.state is ReleaseState.CONFIRMED  # a CHA already: no second reclassification
    assert [e.kind for e in found.record.history][-3:] == [EventKind.ACCEPTED, EventKind.HANDED_OVER,
                                                           EventKind.REOPENED]
    with pytest.raises(ValidationError, match="only released land has a completion report"):
        lr.certificate(db, "H-1")


def test_extension_is_stored_and_replayed(db: Store) -> None:
    """An extension event keeps its area in the store; the next clearance beyond the old perimeter is not clipped."""
    beyond = shapely.box(35.302, 51.30, 35.3025, 51.301)
    lr.extend(db, "H-1", beyond, actor="team 3", reason="mines found up to the east edge", at=later(1))
    done = lr.record_activity(db, clearance("A-1", shapely.box(35.30, 51.30, 35.3025, 51.301)), actor="team 3",
                              reason="r", at=later(2))
    assert done.events[-1].clipped_m2 < 1.0 and done.record.awaiting_release
    found = lr.history(db, "H-1")
    assert found.record == done.record
    ext = found.record.history[1]
    assert ext.kind is EventKind.EXTENDED and ext.area is not None
    assert area_m2(shapely.symmetric_difference(ext.area, beyond)) < 1e-6


def test_programme_rules_are_kept_in_the_store_and_applied(db: Store) -> None:
    """Rules stored for the programme apply to the next events: a stricter depth refuses a shallow clearance; a
    programme allowing NTS to cancel in a CHA lets it."""
    assert lr.rules(db) == ReleaseRules()
    lr.set_rules(db, ReleaseRules(nts_may_cancel_in_cha=True, clearance_depth_cm=30.0, residual_area_m2=0.5))
    assert lr.rules(db) == ReleaseRules(nts_may_cancel_in_cha=True, clearance_depth_cm=30.0, residual_area_m2=0.5)
    lr.reclassify(db, "H-1", evidence="mine seen", actor="imo", reason="r", at=later(1))
    west = shapely.box(35.30, 51.30, 35.301, 51.301)
    nts = Activity("N-1", "H-1", ActivityType.NTS, ActivityStatus.COMPLETED, cancelled=west)
    done = lr.record_activity(db, nts, actor="team", reason="re-survey of an old CHA", at=later(2))
    assert done.record.cancelled_m2 == pytest.approx(area_m2(west), rel=1e-5)
    assert done.record.required_depth_cm == 20.0  # the area's own depth overrides the programme's


def test_a_bad_rule_in_the_store_is_named(db: Store) -> None:
    """A setting edited into something that is not a number is refused with its key."""
    with db.write() as uow:
        uow.set_meta({"release_rules.residual_area_m2": "one"})
    with pytest.raises(ValidationError, match=r"release_rules\.residual_area_m2 = 'one' is not a float"):
        lr.rules(db)
