"""The certificate page: every field of the record is on it, escaped, and flags are shown."""

from __future__ import annotations

import datetime as dt

import shapely
from shapely.geometry import Point

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceFound, Disposal
from sapper.domain.handover import completion_record
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, Marking
from sapper.domain.landrelease import Inspection, LandRelease
from sapper.report.certificate import render_certificate

T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)
FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)


def test_certificate_page_shows_the_record_escaped() -> None:
    """Name, benchmark, turning points, device with its disposal and depth flag, inspection, signatories; markup in
    a name is escaped."""
    h = HazardArea("H-1", HazardClass.CHA, FIELD, Evidence.DIRECT, name="<b>School field</b>",
                   benchmark=Point(35.2995, 51.2995), turning_points=(Point(35.30, 51.30),), marking=Marking.FENCED)
    mine = DeviceFound(Point(35.301, 51.3005), DeviceCategory.AP_MINE, "PMN-2", depth_cm=30.0, quantity=2,
                       disposal=Disposal.DESTROYED_IN_PLACE, disposal_date=T0.date())
    r = LandRelease.start(h, actor="imo", at=T0, reason="r").record_activity(
        Activity("A-1", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, cleared=FIELD,
                 clearance_depth_cm=13.0, devices=(mine,)), actor="t", at=T0, reason="r")
    r = r.inspect(Inspection("QC-1", T0.date(), 300.0, True, "NMAA QA", plan="ISO 2859-1"), actor="qa", at=T0,
                  reason="r")
    r = r.accept(authority="NMAA Ukraine", actor="O. Kovalenko", at=T0, reason="r")
    r = r.hand_over(recipient="Village council", actor="NMAA officer", at=T0, reason="r")
    page = render_certificate(completion_record(h, r))
    assert "&lt;b&gt;School field&lt;/b&gt;" in page and "<b>School field</b>" not in page
    assert "51.299500 N, 35.299500 E" in page and "TP1: 51.300000 N, 35.300000 E" in page
    assert "below the required depth" in page and "destroyed in place" in page
    assert "QC-1" in page and "ISO 2859-1" in page
    for who in ("O. Kovalenko", "NMAA Ukraine", "NMAA officer", "Village council"):
        assert who in page
    assert "residual risk remains" in page
