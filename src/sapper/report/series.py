"""Date bins and their colours for the report map, computed without drawing anything. Pure functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Viridis (matplotlib, CC0) at nine stops: perceptually uniform and readable with colour-blindness.
_VIRIDIS = (
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x28, 0xAE, 0x80),
    (0x5E, 0xC9, 0x62),
    (0xAD, 0xDC, 0x30),
    (0xFD, 0xE7, 0x25),
)
#: Colour of things with no planned date.
NOT_PLANNED_COLOUR = "#a3a3a3"


def viridis(t: float) -> str:
    """The viridis colour at ``t`` in [0, 1] as ``#rrggbb`` (linear between the nine stops)."""
    t = min(1.0, max(0.0, t)) * (len(_VIRIDIS) - 1)
    i = min(int(t), len(_VIRIDIS) - 2)
    f = t - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(a, b, strict=True))


def _month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_floor(d: dt.date) -> dt.date:
    """The first day of ``d``'s month."""
    return d.replace(day=1)


def month_ceil(d: dt.date) -> dt.date:
    """The first day of the month after ``d``'s month (an exclusive end)."""
    return _month_start(_month_index(d) + 1)


@dataclass(frozen=True)
class DateBin:
    """Dates in [``start``, ``end``) share ``colour``; ``label`` names the range for the legend."""

    start: dt.date
    end: dt.date  # exclusive
    label: str
    colour: str

    def __contains__(self, d: object) -> bool:
        return isinstance(d, dt.date) and self.start <= d < self.end


@dataclass(frozen=True)
class DateBins:
    """Sequential colour classes of planned dates, earliest (light) to latest (dark); ``step_months`` wide."""

    bins: tuple[DateBin, ...]
    step_months: int

    def index(self, d: dt.date | None) -> int | None:
        """The bin holding ``d``, or ``None`` when ``d`` is ``None`` or outside every bin."""
        if d is None or not self.bins or not (self.bins[0].start <= d < self.bins[-1].end):
            return None
        return (_month_index(d) - _month_index(self.bins[0].start)) // self.step_months

    @property
    def unit(self) -> str:
        """What one bin spans, in words: "month", "quarter", "half-year", "year" or "N-year period"."""
        names = {1: "month", 3: "quarter", 6: "half-year", 12: "year"}
        return names.get(self.step_months, f"{self.step_months // 12}-year period")

    def colour(self, d: dt.date | None) -> str:
        i = self.index(d)
        return NOT_PLANNED_COLOUR if i is None else self.bins[i].colour


_STEPS = (3, 6, 12, 24, 60, 120)


def date_bins(dates: Iterable[dt.date | None], *, max_bins: int = 10) -> DateBins:
    """Bin the planned ``dates`` by calendar quarter, or by wider aligned steps (half-year, year, ...) so that
    there are at most ``max_bins``; by month when all dates fall within four months; ``None`` is ignored."""
    known = [d for d in dates if d is not None]
    if not known:
        return DateBins((), 3)
    lo, hi = _month_index(min(known)), _month_index(max(known))
    span = hi - lo + 1
    step = 1
    if span > 4:
        step = next((s for s in _STEPS if (hi - (lo - lo % s)) // s + 1 <= max_bins), _STEPS[-1])
        while (hi - (lo - lo % step)) // step + 1 > max_bins:
            step *= 2
    first = lo - lo % step
    n = (hi - first) // step + 1
    bins = []
    for i in range(n):
        a = first + i * step
        t = 0.5 if n == 1 else 0.9 * (1.0 - i / (n - 1))  # early light, late dark
        bins.append(DateBin(_month_start(a), _month_start(a + step), _bin_label(a, step), viridis(t)))
    return DateBins(tuple(bins), step)


def _bin_label(first_month: int, step: int) -> str:
    year, month = divmod(first_month, 12)
    if step == 1:
        return f"{MONTHS[month]} {year}"
    if step < 12:
        return f"{MONTHS[month]}–{MONTHS[month + step - 1]} {year}"
    if step == 12:
        return str(year)
    return f"{year}–{year + step // 12 - 1}"
