"""Working calendars: which days teams work, and seasonal stand-downs (winter for clearance).

Planning time is counted in *working days* of one calendar (a six-day week by default, public holidays off). A
stand-down is a seasonal window during which a resource does not work: snow and frost stop clearance in Ukraine's
winter and spring waterlogging delays the restart (DRC); its dates are a parameter, not a fact.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field

from sapper.errors import Fault, ValidationError


@dataclass(frozen=True, slots=True)
class SeasonalWindow:
    """A window repeating every year, from (month, day) to (month, day) inclusive; may wrap over New Year."""

    start: tuple[int, int]
    end: tuple[int, int]

    def __post_init__(self) -> None:
        faults = []
        for name, (m, d) in (("start", self.start), ("end", self.end)):
            try:
                dt.date(2001, m, d)
            except ValueError:
                faults.append(Fault("seasonal window", f"{name} {m}-{d} is not a day of the year", name))
        ValidationError.raise_if("seasonal window", faults)

    def contains(self, day: dt.date) -> bool:
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end


#: Default winter stand-down for clearance: 1 December to 15 March (assumption after DRC's note on Ukraine's winter).
WINTER_STAND_DOWN = SeasonalWindow((12, 1), (3, 15))


@dataclass(frozen=True)
class Calendar:
    """Working days from ``start``: ``weekdays`` (0 = Monday) minus ``holidays``."""

    start: dt.date
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5})
    holidays: frozenset[dt.date] = frozenset()
    horizon_days: int = 365 * 8
    _days: tuple[dt.date, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        faults = []
        if not self.weekdays or not self.weekdays <= set(range(7)):
            faults.append(Fault("calendar", "weekdays must be a non-empty subset of 0–6 (0 = Monday)", "weekdays"))
        if self.horizon_days <= 0:
            faults.append(Fault("calendar", "horizon must be positive", "horizon_days"))
        ValidationError.raise_if("calendar", faults)
        days = []
        for i in range(self.horizon_days):
            d = self.start + dt.timedelta(days=i)
            if d.weekday() in self.weekdays and d not in self.holidays:
                days.append(d)
        object.__setattr__(self, "_days", tuple(days))

    @property
    def working_days(self) -> int:
        """How many working days the calendar covers."""
        return len(self._days)

    def date_of(self, index: int) -> dt.date:
        """The date of working day ``index`` (0 = the first working day on or after ``start``)."""
        if not 0 <= index < len(self._days):
            raise ValidationError("calendar", [Fault("calendar", f"working day {index} is beyond the horizon")])
        return self._days[index]

    def end_date_of(self, end_index: int) -> dt.date:
        """The last working date of a task that ends at ``end_index`` (exclusive), i.e. the day its work finishes."""
        return self.date_of(max(0, end_index - 1))

    def index_of(self, day: dt.date) -> int:
        """The index of the first working day on or after ``day``."""
        return bisect_right(self._days, day - dt.timedelta(days=1))

    def blocked_spans(self, window: SeasonalWindow) -> list[tuple[int, int]]:
        """Working-day spans [start, end) that fall inside ``window``, in order."""
        spans: list[tuple[int, int]] = []
        open_at: int | None = None
        for i, d in enumerate(self._days):
            inside = window.contains(d)
            if inside and open_at is None:
                open_at = i
            elif not inside and open_at is not None:
                spans.append((open_at, i))
                open_at = None
        if open_at is not None:
            spans.append((open_at, len(self._days)))
        return spans
