"""The report map's date bins and their colours, and Gantt bars that cannot end before they start."""

from __future__ import annotations

import datetime as dt

import pytest

from sapper.report.model import GanttBar
from sapper.report.series import NOT_PLANNED_COLOUR, date_bins, viridis
from sapper.services.planview import BarKind

D = dt.date


def bar(lane: str, kind: BarKind, start: dt.date, end: dt.date, group: str = "g") -> GanttBar:
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


def test_bar_cannot_end_before_it_starts() -> None:
    """A Gantt bar ending before its start is refused."""
    from sapper.errors import ValidationError

    with pytest.raises(ValidationError):
        bar("T-1", BarKind.SURVEY, D(2025, 7, 2), D(2025, 7, 1))
