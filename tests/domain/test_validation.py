"""Domain records validate themselves and report every fault at once."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import LineString, Point, Polygon, box

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, release_balance
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.calendar import WINTER_STAND_DOWN, Calendar, SeasonalWindow
from sapper.domain.geometry import area_m2, require_crs
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import CRSError, ValidationError

SQUARE = box(35.0, 51.0, 35.01, 51.01)


def test_hazard_reports_every_fault_at_once() -> None:
    """A hazard with three faults raises one error naming all three."""
    with pytest.raises(ValidationError) as info:
        HazardArea("h1", HazardClass.CHA, LineString([(35, 51), (35.1, 51)]), Evidence.INDIRECT, beneficiaries=-3)
    reasons = [f.field for f in info.value.faults]
    assert reasons == ["geometry", "evidence", "beneficiaries"]
    assert "hazard area h1" in str(info.value)


def test_hazard_refuses_invalid_and_projected_geometry() -> None:
    """A bow-tie polygon is refused, and so are coordinates that are not lon/lat."""
    bowtie = Polygon([(35, 51), (35.01, 51.01), (35.01, 51), (35, 51.01)])
    with pytest.raises(ValidationError, match="not valid"):
        HazardArea("h2", HazardClass.SHA, bowtie, Evidence.INDIRECT)
    with pytest.raises(ValidationError, match="WGS84"):
        HazardArea("h3", HazardClass.SHA, box(500000, 5600000, 500100, 5600100), Evidence.INDIRECT)


def test_hazard_area_is_computed_in_metres() -> None:
    """0.01° × 0.01° at 51° N is about 1,112 m × 700 m."""
    h = HazardArea("h4", HazardClass.SHA, SQUARE, Evidence.INDIRECT)
    assert h.area_m2 == pytest.approx(1112 * 700, rel=0.01)
    assert h.clearance_share == pytest.approx(0.05)


def test_asset_validation() -> None:
    """Roads must be lines, criticality 1–5 and repair work positive."""
    with pytest.raises(ValidationError) as info:
        Asset("a1", AssetType.ROAD, Point(35, 51), DamageLevel.SEVERE, {Trade.ROAD: -5}, criticality=9)
    fields = {f.field for f in info.value.faults}
    assert fields == {"geometry", "criticality", "repair_work"}
    ok = Asset("a2", AssetType.ROAD, LineString([(35, 51), (35.1, 51)]), DamageLevel.SEVERE, {Trade.ROAD: 300})
    assert ok.buffer_m == 25.0 and ok.total_builder_days == 300


def test_team_and_brigade_validation() -> None:
    """Sizes and productivity must be positive."""
    with pytest.raises(ValidationError, match="size"):
        DeminerTeam("t1", "org", Method.MANUAL, 0, Point(36, 51), 180.0)
    with pytest.raises(ValidationError, match="productivity"):
        DeminerTeam("t2", "org", Method.MANUAL, 8, Point(36, 51), 0.0)
    assert BuilderBrigade("b1", "org", Trade.ROAD, 25, Point(36, 51)).size == 25


def test_calendar_working_days_and_winter() -> None:
    """A six-day week; the winter window covers 1 Dec–15 Mar, wrapping over New Year."""
    cal = Calendar(dt.date(2025, 6, 17))
    assert cal.date_of(0) == dt.date(2025, 6, 17)
    assert cal.date_of(5) == dt.date(2025, 6, 23)  # Sunday 22 June is skipped
    assert cal.index_of(dt.date(2025, 6, 22)) == 5
    spans = cal.blocked_spans(WINTER_STAND_DOWN)
    first_start, first_end = spans[0]
    assert cal.date_of(first_start) == dt.date(2025, 12, 1)
    assert cal.date_of(first_end - 1) == dt.date(2026, 3, 14)  # 15 March 2026 is a Sunday
    with pytest.raises(ValidationError):
        SeasonalWindow((2, 30), (3, 1))


def test_crs_is_required() -> None:
    """Data without a CRS is refused, never guessed."""
    with pytest.raises(CRSError, match="no coordinate reference system"):
        require_crs(None, record="file x")
    assert require_crs("EPSG:4326", record="file x").to_epsg() == 4326


def test_release_balance_holds() -> None:
    """original = cancelled + reduced + cleared + remaining, with outcomes clipped to what is left."""
    h = HazardArea("h5", HazardClass.CHA, SQUARE, Evidence.DIRECT)
    nts = Activity("a1", "h5", ActivityType.NTS, ActivityStatus.COMPLETED, end=dt.date(2025, 7, 1),
                   cancelled=box(35.0, 51.0, 35.005, 51.01))
    ts = Activity("a2", "h5", ActivityType.TS, ActivityStatus.COMPLETED, end=dt.date(2025, 7, 5),
                  reduced=box(35.005, 51.0, 35.01, 51.005))
    clr = Activity("a3", "h5", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, end=dt.date(2025, 8, 1),
                   cleared=box(35.005, 51.005, 35.0075, 51.01))
    bal = release_balance(h, [clr, ts, nts])
    assert abs(bal.residual_m2) < 1.0
    assert bal.remaining_m2 == pytest.approx(h.area_m2 / 8, rel=0.01)
    assert area_m2(bal.remaining) == pytest.approx(bal.remaining_m2, rel=0.01)


def test_release_outcome_outside_hazard_is_refused() -> None:
    """Cleared land outside the hazard cannot balance and is reported."""
    h = HazardArea("h6", HazardClass.CHA, SQUARE, Evidence.DIRECT)
    bad = Activity("a9", "h6", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, cleared=box(35.02, 51, 35.03, 51.01))
    with pytest.raises(ValidationError, match="outside"):
        release_balance(h, [bad])


def test_activity_rules() -> None:
    """An NTS only cancels; an activity cannot end before it starts."""
    with pytest.raises(ValidationError) as info:
        Activity("a1", "h", ActivityType.NTS, ActivityStatus.COMPLETED, start=dt.date(2025, 7, 2),
                 end=dt.date(2025, 7, 1), cleared=SQUARE)
    assert {f.field for f in info.value.faults} == {"end", "reduced"}
