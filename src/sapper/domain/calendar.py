"""Working calendars: which days teams work, and seasonal stand-downs (winter for clearance).

Planning time is counted in *working days* of one calendar (a six-day week by default, public holidays off). A
stand-down is a seasonal window during which a resource does not work: snow and frost stop clearance in Ukraine's
winter and spring waterlogging delays the restart (DRC); its dates are a parameter, not a fact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import StrEnum

from sapper.errors import Fault, ValidationError
from sapper.messages import msg


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
                faults.append(Fault(msg("seasonal window"), msg("{name} {m}-{d} is not a day of the year",
                                                                name=name, m=m, d=d), name))
        ValidationError.raise_if(msg("seasonal window"), faults)

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
            faults.append(Fault(msg("calendar"), msg("weekdays must be a non-empty subset of 0–6 (0 = Monday)"),
                                "weekdays"))
        if self.horizon_days <= 0:
            faults.append(Fault(msg("calendar"), msg("horizon must be positive"), "horizon_days"))
        ValidationError.raise_if(msg("calendar"), faults)
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
            raise ValidationError(msg("calendar"), [Fault(msg("calendar"),
                                                          msg("working day {index} is beyond the horizon",
                                                                     index=index))])
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


class StandDownGroup(StrEnum):
    """Who a seasonal stand-down stops: deminer teams (every method) or builder brigades (every trade)."""

    DEMINERS = "deminers"
    BUILDERS = "builders"


@dataclass(frozen=True, slots=True)
class Holiday:
    """A day nobody works (a public holiday, a one-off stop), with its name."""

    day: dt.date
    name: str = ""


#: Day names for parsing and printing a working week (0 = Monday).
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ProgrammeCalendar:
    """The programme's working calendar, stored in the register (``sapper calendar``): the working days of the week,
    holidays, and a seasonal stand-down for deminers and one for builders (None: they work all year). Plan, re-plan
    and forecast count time in its working days; a stand-down takes a whole pool's capacity for its window."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5})
    holidays: tuple[Holiday, ...] = ()
    deminers_stand_down: SeasonalWindow | None = WINTER_STAND_DOWN
    builders_stand_down: SeasonalWindow | None = None

    def __post_init__(self) -> None:
        faults = []
        if not self.weekdays or not self.weekdays <= set(range(7)):
            faults.append(Fault(msg("calendar"), msg("the working week needs at least one day, each 0–6 (0 = Monday)"),
                                "weekdays"))
        days = [h.day for h in self.holidays]
        if len(set(days)) != len(days):
            faults.append(Fault(msg("calendar"), msg("a holiday is listed twice"), "holidays"))
        ValidationError.raise_if(msg("calendar"), faults)
        object.__setattr__(self, "holidays", tuple(sorted(self.holidays, key=lambda h: h.day)))

    @property
    def holiday_dates(self) -> frozenset[dt.date]:
        """The holidays' dates."""
        return frozenset(h.day for h in self.holidays)

    def stand_down(self, group: StandDownGroup) -> SeasonalWindow | None:
        """The stand-down of ``group``."""
        return self.deminers_stand_down if group is StandDownGroup.DEMINERS else self.builders_stand_down

    def with_stand_down(self, group: StandDownGroup, window: SeasonalWindow | None) -> ProgrammeCalendar:
        """This calendar with ``group``'s stand-down set to ``window`` (None: none)."""
        if group is StandDownGroup.DEMINERS:
            return dataclasses.replace(self, deminers_stand_down=window)
        return dataclasses.replace(self, builders_stand_down=window)


def week_text(weekdays: frozenset[int]) -> str:
    """A working week as day names, runs joined (a run may wrap over the weekend): ``mon-sat``, ``mon-fri``,
    ``sun-thu``, ``mon,wed,fri``; all seven days are ``mon-sun``."""
    if len(weekdays) == 7:
        return "mon-sun"
    first = min((d for d in weekdays if (d - 1) % 7 not in weekdays), default=0)
    runs: list[list[int]] = []
    for k in range(7):
        d = (first + k) % 7
        if d not in weekdays:
            continue
        if runs and (runs[-1][-1] + 1) % 7 == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs)


def parse_week(text: str) -> frozenset[int]:
    """A working week from day names (English, three letters or whole): ``mon-sat``, ``mon-fri``, ``sun-thu`` (a range
    may wrap over the weekend), ``mon,tue,thu``. ValidationError naming what is not a day."""
    names = {n: i for i, n in enumerate(DAY_NAMES)} | {
        full: i for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                          "sunday"))}
    days: set[int] = set()
    bad: list[str] = []
    for part in (p.strip().lower() for p in text.split(",")):
        first, sep, last = part.partition("-")
        if first not in names or (sep and last not in names):
            bad.append(part or "(empty)")
            continue
        a = names[first]
        b = names[last] if sep else a
        days.update((a + k) % 7 for k in range((b - a) % 7 + 1))
    if bad or not days:
        raise ValidationError(msg("calendar"), [Fault(msg("working week"), msg("{value!r} is not a day or a range of "
                                                                     "days (mon, tue, wed, thu, fri, sat, sun; "
                                                                     "e.g. mon-sat)", value=', '.join(bad) or text),
                                                 "weekdays")])
    return frozenset(days)


def window_text(window: SeasonalWindow | None) -> str:
    """``12-01..03-15`` (month-day to month-day, inclusive), or ``none``."""
    if window is None:
        return "none"
    return f"{window.start[0]:02d}-{window.start[1]:02d}..{window.end[0]:02d}-{window.end[1]:02d}"


def parse_month_day(text: str, what: str) -> tuple[int, int]:
    """``MM-DD`` (e.g. ``12-01``) as (month, day); ValidationError naming ``what`` otherwise."""
    try:
        m, d = (int(p) for p in text.strip().split("-"))
        dt.date(2001, m, d)  # as SeasonalWindow: 29 February is not a day of every year
    except ValueError:
        raise ValidationError(msg("calendar"), [Fault(msg("stand-down"), msg("{what} {text!r} is not a day of the year "
                                                                        "as MM-DD (e.g. 12-01)", what=what, text=text),
                                                 what)]) from None
    return (m, d)


def parse_window(text: str) -> SeasonalWindow | None:
    """The inverse of :func:`window_text`."""
    if text.strip() == "none":
        return None
    start, sep, end = text.partition("..")
    if not sep:
        raise ValidationError(msg("calendar"), [Fault(msg("stand-down"), msg("{text!r} is not MM-DD..MM-DD or none",
                                                                        text=text), "window")])
    return SeasonalWindow(parse_month_day(start, "start"), parse_month_day(end, "end"))
