"""The report's numbers: date bins, burn-down series, Gantt lanes and plan-quality ratios."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import Point

from sapper.report.model import GanttBar, MapAsset, MapHazard
from sapper.report.series import (
    NOT_PLANNED_COLOUR,
    critical_share_pct,
    date_bins,
    gantt_lanes,
    gap_pct,
    improvement_pct,
    remaining_area_km2,
    restored_share_pct,
    value_at,
    viridis,
)

D = dt.date


def hazard(i: int, area: float, release: dt.date | None) -> MapHazard:
    return MapHazard(f"H-{i}", "", "SHA", Point(35, 51).buffer(0.001), area, release)


def asset(i: int, criticality: int, restore: dt.date | None) -> MapAsset:
    return MapAsset(f"A-{i}", "", "road", Point(35, 51), criticality, restore)


def bar(lane: str, kind: str, start: dt.date, end: dt.date, group: str = "g") -> GanttBar:
    return GanttBar(lane, group, f"{lane}:{start}", kind, start, end)


def test_quarterly_bins_cover_the_dates() -> None:
    """Dates over two years fall in calendar quarters; the first bin holds the first, the last the last."""
    dates = [D(2025, 8, 15), D(2026, 5, 2), D(2027, 3, 31), None]
    bins = date_bins(dates)
    assert bins.step_months == 3 and bins.unit == "quarter"
    assert bins.bins[0].start == D(2025, 7, 1) and bins.bins[-1].end == D(2027, 4, 1)
    assert [b.label for b in bins.bins][:2] == ["Jul–Sep 2025", "Oct–Dec 2025"]
    assert len(bins.bins) == 7
    for d in dates[:3]:
        i = bins.index(d)
        assert i is not None and d in bins.bins[i]
    assert bins.colour(None) == NOT_PLANNED_COLOUR
    assert bins.index(D(2024, 1, 1)) is None


def test_long_spans_widen_bins_to_at_most_ten() -> None:
    """Six years of dates are binned by year (aligned), five by half-year: never more than ten bins."""
    bins = date_bins([D(2025, 2, 1), D(2030, 11, 30)])
    assert bins.step_months == 12 and bins.unit == "year"
    assert [b.label for b in bins.bins] == ["2025", "2026", "2027", "2028", "2029", "2030"]
    halves = date_bins([D(2025, 2, 1), D(2029, 11, 30)])
    assert halves.step_months == 6 and len(halves.bins) == 10 and halves.bins[0].label == "Jan–Jun 2025"
    assert len(date_bins([D(2025, 1, 1), D(2027, 6, 1)]).bins) <= 10
    assert date_bins([D(2000, 1, 1), D(2090, 1, 1)], max_bins=10).bins.__len__() <= 10


def test_short_spans_use_months() -> None:
    """Dates within four months get one bin per month."""
    bins = date_bins([D(2025, 7, 3), D(2025, 9, 20)])
    assert bins.step_months == 1
    assert [b.label for b in bins.bins] == ["Jul 2025", "Aug 2025", "Sep 2025"]


def test_bin_colours_run_light_to_dark() -> None:
    """Colours are distinct, from light (early) to dark (late)."""
    bins = date_bins([D(2025, 1, 1), D(2027, 6, 1)])
    colours = [b.colour for b in bins.bins]
    assert len(set(colours)) == len(colours)

    def lightness(c: str) -> int:
        return sum(int(c[i : i + 2], 16) for i in (1, 3, 5))

    assert lightness(colours[0]) > lightness(colours[-1])
    assert viridis(0.0) == "#440154" and viridis(1.0) == "#fde725"


def test_no_dates_no_bins() -> None:
    """Without planned dates there are no bins and everything is 'not planned' grey."""
    bins = date_bins([None, None])
    assert bins.bins == () and bins.colour(D(2025, 1, 1)) == NOT_PLANNED_COLOUR


def test_remaining_area_is_total_minus_released() -> None:
    """At each date the remaining area is the total minus the area released by then (km²)."""
    hazards = [
        hazard(1, 1e6, D(2025, 7, 10)),
        hazard(2, 2e6, D(2025, 9, 1)),
        hazard(3, 0.5e6, D(2025, 9, 1)),
        hazard(4, 4e6, None),
        hazard(5, 0.25e6, D(2025, 6, 1)),  # released before the start
    ]
    series = remaining_area_km2(hazards, start=D(2025, 7, 1))
    assert series == ((D(2025, 7, 1), 7.5), (D(2025, 7, 10), 6.5), (D(2025, 9, 1), 4.0))
    assert value_at(series, D(2025, 8, 31)) == 6.5
    assert value_at(series, D(2030, 1, 1)) == 4.0
    assert value_at(series, D(2025, 1, 1)) is None
    assert remaining_area_km2([], start=D(2025, 1, 1)) == ((D(2025, 1, 1), 0.0),)


def test_restored_share_of_all_and_critical() -> None:
    """Restored share rises to the restored fraction, for all assets and for the critical ones."""
    assets = [asset(1, 5, D(2025, 8, 1)), asset(2, 1, D(2025, 9, 1)), asset(3, 4, None), asset(4, 2, None)]
    everyone = restored_share_pct(assets, start=D(2025, 7, 1))
    assert everyone == ((D(2025, 7, 1), 0.0), (D(2025, 8, 1), 25.0), (D(2025, 9, 1), 50.0))
    critical = critical_share_pct(assets, start=D(2025, 7, 1))
    assert critical[-1] == (D(2025, 8, 1), 50.0)
    assert critical_share_pct([asset(1, 1, None)], start=D(2025, 7, 1)) == ()


def test_adjacent_bars_of_one_kind_merge() -> None:
    """A lane's bar merges into the previous one when of the same kind and starting at most a day after it."""
    bars = [
        bar("T-2", "clearance", D(2025, 7, 1), D(2025, 7, 5)),
        bar("T-2", "clearance", D(2025, 7, 6), D(2025, 7, 9)),  # next day: merged
        bar("T-2", "clearance", D(2025, 7, 11), D(2025, 7, 12)),  # one free day: kept apart
        bar("T-2", "survey", D(2025, 7, 13), D(2025, 7, 14)),  # other kind: kept apart
        bar("T-10", "clearance", D(2025, 7, 1), D(2025, 7, 2)),
        bar("B-1", "repair", D(2025, 8, 1), D(2025, 8, 2), group="builders"),
    ]
    groups = gantt_lanes(bars)
    assert [g.name for g in groups] == ["g", "builders"]
    lanes = groups[0].lanes
    assert [lane.id for lane in lanes] == ["T-2", "T-10"]  # natural order
    segs = lanes[0].segments
    assert [(s.kind, s.start, s.end, len(s.labels)) for s in segs] == [
        ("clearance", D(2025, 7, 1), D(2025, 7, 9), 2),
        ("clearance", D(2025, 7, 11), D(2025, 7, 12), 1),
        ("survey", D(2025, 7, 13), D(2025, 7, 14), 1),
    ]
    assert lanes[0].n_bars == 4


def test_bar_cannot_end_before_it_starts() -> None:
    """A Gantt bar ending before its start is refused."""
    from sapper.errors import ValidationError

    with pytest.raises(ValidationError):
        bar("T-1", "survey", D(2025, 7, 2), D(2025, 7, 1))


def test_quality_ratios_handle_none_and_zero() -> None:
    """Improvement and gap are percentages, or None when a figure is missing or the base is zero."""
    assert improvement_pct(90.0, 100.0) == pytest.approx(10.0)
    assert gap_pct(100.0, 95.0) == pytest.approx(5.0)
    assert improvement_pct(None, 100.0) is None and improvement_pct(90.0, None) is None
    assert improvement_pct(1.0, 0.0) is None
    assert gap_pct(None, 1.0) is None and gap_pct(1.0, None) is None
    assert gap_pct(0.0, 0.0) == 0.0 and gap_pct(0.0, -1.0) is None
