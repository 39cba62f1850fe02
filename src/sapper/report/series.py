"""The numbers a report draws, computed without drawing anything: date bins and their colours, burn-down
series, Gantt lanes with adjacent bars merged, and the plan-quality ratios. Pure functions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sapper.report.model import CRITICAL_FROM, GanttBar, MapAsset, MapHazard, ReportData

#: A step series: (date, value) points; the value holds from its date until the next point's date.
Series = tuple[tuple[dt.date, float], ...]

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


def remaining_area_km2(hazards: Sequence[MapHazard], *, start: dt.date) -> Series:
    """Remaining hazardous area (km²) over time: at ``t``, the total area minus the area of hazards whose
    ``release_date`` ≤ ``t``. First point at ``start``, then one point per later release date."""
    total = sum(h.area_m2 for h in hazards)
    released_by: dict[dt.date, float] = {}
    for h in hazards:
        if h.release_date is not None:
            released_by[h.release_date] = released_by.get(h.release_date, 0.0) + h.area_m2
    return _cumulative(total, released_by, start=start, scale=1e-6, decreasing=True)


def restored_share_pct(
    assets: Sequence[MapAsset], *, start: dt.date, min_criticality: int | None = None
) -> Series:
    """Share (%) of assets restored over time (``restore_date`` ≤ ``t``), of all assets or of those with
    ``criticality`` ≥ ``min_criticality``. Empty when no asset qualifies."""
    chosen = [a for a in assets if min_criticality is None or a.criticality >= min_criticality]
    if not chosen:
        return ()
    restored_by: dict[dt.date, float] = {}
    for a in chosen:
        if a.restore_date is not None:
            restored_by[a.restore_date] = restored_by.get(a.restore_date, 0.0) + 1.0
    return _cumulative(0.0, restored_by, start=start, scale=100.0 / len(chosen), decreasing=False)


def critical_share_pct(assets: Sequence[MapAsset], *, start: dt.date) -> Series:
    """:func:`restored_share_pct` of the critical assets (criticality ≥ :data:`CRITICAL_FROM`)."""
    return restored_share_pct(assets, start=start, min_criticality=CRITICAL_FROM)


def _cumulative(
    base: float, change_by: dict[dt.date, float], *, start: dt.date, scale: float, decreasing: bool
) -> Series:
    sign = -1.0 if decreasing else 1.0
    level = base + sign * sum(v for d, v in change_by.items() if d <= start)
    points = [(start, level * scale)]
    for d in sorted(k for k in change_by if k > start):
        level += sign * change_by[d]
        points.append((d, level * scale))
    return tuple(points)


def value_at(series: Series, t: dt.date) -> float | None:
    """The step series' value at ``t`` (``None`` before its first point)."""
    value = None
    for d, v in series:
        if d > t:
            break
        value = v
    return value


@dataclass(frozen=True)
class Segment:
    """One drawn Gantt rect: one bar, or consecutive bars of the same kind in one lane merged."""

    kind: str
    start: dt.date
    end: dt.date  # inclusive
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Lane:
    id: str
    segments: tuple[Segment, ...]
    n_bars: int


@dataclass(frozen=True)
class LaneGroup:
    name: str
    lanes: tuple[Lane, ...]


def _natural_key(s: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", s) if p)


def gantt_lanes(bars: Iterable[GanttBar], *, merge_gap_days: int = 1) -> tuple[LaneGroup, ...]:
    """Lanes grouped by ``lane_group`` (groups in order of first appearance, lanes in natural order). Within a
    lane, a bar starting at most ``merge_gap_days`` after the previous bar of the same kind ends joins it."""
    group_of: dict[str, str] = {}
    by_lane: dict[str, list[GanttBar]] = {}
    groups: dict[str, list[str]] = {}
    for b in bars:
        if b.lane not in by_lane:
            by_lane[b.lane] = []
            group_of[b.lane] = b.lane_group
            groups.setdefault(b.lane_group, []).append(b.lane)
        by_lane[b.lane].append(b)
    gap = dt.timedelta(days=merge_gap_days)
    out = []
    for name, lane_ids in groups.items():
        lanes = []
        for lane_id in sorted(lane_ids, key=_natural_key):
            lane_bars = sorted(by_lane[lane_id], key=lambda b: (b.start, b.end))
            segments: list[Segment] = []
            for b in lane_bars:
                last = segments[-1] if segments else None
                if last is not None and last.kind == b.kind and b.start - last.end <= gap:
                    segments[-1] = Segment(
                        last.kind, last.start, max(last.end, b.end), (*last.labels, b.label)
                    )
                else:
                    segments.append(Segment(b.kind, b.start, b.end, (b.label,)))
            lanes.append(Lane(lane_id, tuple(segments), len(lane_bars)))
        out.append(LaneGroup(name, tuple(lanes)))
    return tuple(out)


def time_domain(data: ReportData) -> tuple[dt.date, dt.date]:
    """The [start, end) month-aligned date range shared by the Gantt and the burn-down charts: from the plan
    start (or the earliest date shown) to the month after the last date shown, at least two months."""
    dates = [data.start_date]
    dates += [b.start for b in data.bars] + [b.end for b in data.bars]
    dates += [h.release_date for h in data.hazards if h.release_date is not None]
    dates += [a.restore_date for a in data.assets if a.restore_date is not None]
    lo, hi = month_floor(min(dates)), month_ceil(max(dates))
    if _month_index(hi) - _month_index(lo) < 2:
        hi = _month_start(_month_index(lo) + 2)
    return lo, hi


def improvement_pct(objective: float | None, baseline: float | None) -> float | None:
    """How much lower (better) the objective is than the greedy baseline, in % of the baseline."""
    if objective is None or baseline is None or baseline == 0:
        return None
    return (baseline - objective) / abs(baseline) * 100.0


def gap_pct(objective: float | None, lower_bound: float | None) -> float | None:
    """Optimality gap: how far the objective is above the proven lower bound, in % of the objective."""
    if objective is None or lower_bound is None:
        return None
    if objective == 0:
        return 0.0 if lower_bound == 0 else None
    return (objective - lower_bound) / abs(objective) * 100.0
