"""The programme's working calendar (``sapper calendar``): the working week, holidays and the seasonal stand-downs of
deminers and builders, kept in the register and read by plan, re-plan and forecast (``planning.with_calendar``).

Each change reads the stored calendar, changes one thing and writes it back in one transaction; a saved plan is not
changed (its parameters record the calendar it was made with): the next ``sapper plan`` or ``sapper replan`` uses the
new one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sapper.domain.calendar import (
    Holiday,
    ProgrammeCalendar,
    SeasonalWindow,
    StandDownGroup,
    parse_month_day,
    parse_week,
    week_text,
    window_text,
)
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.jsontypes import JsonObject
from sapper.messages import Joined, msg, msg_n
from sapper.store import Store

#: The longest run of holidays one command adds (a guard against a mistyped year).
MAX_HOLIDAY_RUN_DAYS = 366


@dataclass(frozen=True)
class CalendarChange:
    """A calendar after a change, and what the change did, in words."""

    calendar: ProgrammeCalendar
    did: str


def show(store: Store) -> ProgrammeCalendar:
    """The programme's calendar as stored (defaults for what is not)."""
    return store.calendar()


def _save(store: Store, cal: ProgrammeCalendar, did: str) -> CalendarChange:
    with store.write() as uow:
        uow.set_calendar(cal)
    return CalendarChange(cal, did)


def set_week(store: Store, days: str) -> CalendarChange:
    """Set the working week from day names (``mon-sat``, ``mon-fri``, ``sun-thu``, ``mon,wed,fri``)."""
    weekdays = parse_week(days)
    cal = store.calendar()
    before = week_text(cal.weekdays)
    return _save(store, dataclasses.replace(cal, weekdays=weekdays),
                 msg_n("working week {before} → {after} ({n} day)", "working week {before} → {after} ({n} days)",
                       len(weekdays), before=before, after=week_text(weekdays)))


def _days(first: dt.date, last: dt.date | None) -> list[dt.date]:
    last = last or first
    if last < first:
        raise ValidationError(msg("calendar"), [Fault(msg("holidays"), msg("--to {last} is before {first}", last=last,
                                                                           first=first), "to")])
    n = (last - first).days + 1
    if n > MAX_HOLIDAY_RUN_DAYS:
        raise ValidationError(msg("calendar"), [Fault(msg("holidays"), msg(
            "{first} to {last} is {n} days; at most {most} at once (a stand-down that repeats every year is "
            "add-standdown)", first=first, last=last, n=n, most=MAX_HOLIDAY_RUN_DAYS), "to")])
    return [first + dt.timedelta(days=i) for i in range(n)]


def add_holidays(store: Store, first: dt.date, *, last: dt.date | None = None, name: str = "") -> CalendarChange:
    """Add ``first`` (to ``last``, inclusive) as holidays named ``name``; a day already listed takes the new name."""
    days = _days(first, last)
    cal = store.calendar()
    held = {h.day: h for h in cal.holidays}
    renamed = sum(1 for d in days if d in held and held[d].name != name)
    known = sum(1 for d in days if d in held)
    for d in days:
        held[d] = Holiday(d, name.strip())
    span = f"{first}" if len(days) == 1 else msg("{first} to {last}", first=first, last=days[-1])
    named = msg("{span}, {name}", span=span, name=name.strip()) if name.strip() else span
    did: str = msg("holidays: added {added} ({span})", added=len(days) - known, span=named)
    if known:
        did = Joined("; ", [did, msg("{n} already listed", n=known)]) if not renamed else Joined("; ", [
            did, msg("{n} already listed, {renamed} renamed", n=known, renamed=renamed)])
    return _save(store, dataclasses.replace(cal, holidays=tuple(held.values())), did)


def remove_holidays(store: Store, first: dt.date, *, last: dt.date | None = None) -> CalendarChange:
    """Remove the holidays from ``first`` to ``last`` (inclusive); NotFoundError when none is listed there."""
    days = set(_days(first, last))
    cal = store.calendar()
    kept = tuple(h for h in cal.holidays if h.day not in days)
    removed = len(cal.holidays) - len(kept)
    span = f"{first}" if last is None or last == first else msg("{first} to {last}", first=first, last=last)
    if not removed:
        raise NotFoundError(msg("no holiday on {span} in the calendar (sapper calendar show lists them)", span=span))
    return _save(store, dataclasses.replace(cal, holidays=kept), msg("holidays: removed {removed} ({span})",
                                                                          removed=removed, span=span))


def group_of(text: str) -> StandDownGroup:
    """``deminers`` or ``builders``; ValidationError otherwise."""
    try:
        return StandDownGroup(text.strip().lower())
    except ValueError:
        raise ValidationError(msg("calendar"), [Fault(msg("stand-down"), msg("{value} is not deminers or builders",
                                                                             value=repr(text)), "for")]) from None


def set_stand_down(store: Store, group: str, start: str, end: str) -> CalendarChange:
    """Set the seasonal stand-down of ``group`` (deminers or builders) to ``start``..``end`` (MM-DD, inclusive, may
    wrap over New Year), replacing the one it had: the planner keeps one stand-down per group."""
    g = group_of(group)
    window = SeasonalWindow(parse_month_day(start, "from"), parse_month_day(end, "to"))
    cal = store.calendar()
    before = cal.stand_down(g)
    did = msg("stand-down of {group}: {before} → {after}", group=g.value, before=_window(before),
              after=_window(window))
    return _save(store, cal.with_stand_down(g, window), did)


def remove_stand_down(store: Store, group: str) -> CalendarChange:
    """Lift the seasonal stand-down of ``group``: it works all year. NotFoundError when it has none."""
    g = group_of(group)
    cal = store.calendar()
    before = cal.stand_down(g)
    if before is None:
        raise NotFoundError(msg("{value} have no stand-down in the calendar", value=g.value))
    return _save(store, cal.with_stand_down(g, None), msg("stand-down of {group}: {before} → {after}",
                                                                      group=g.value, before=_window(before),
                                                                      after=_window(None)))


def _window(window: SeasonalWindow | None) -> str:
    """``12-01..03-15``, or ``none`` (said in the user's language)."""
    return msg("none") if window is None else window_text(window)


def calendar_lines(cal: ProgrammeCalendar) -> list[str]:
    """The calendar for a person."""
    out: list[str] = [
        msg_n("working week : {week} ({n} day)", "working week : {week} ({n} days)", len(cal.weekdays),
              week=week_text(cal.weekdays)),
        msg("stand-downs  : {windows}", windows=Joined("; ", [msg("{group} {window}", group=g.value,
                                                                   window=_window(cal.stand_down(g)))
                                                               for g in StandDownGroup])),
        msg("holidays     : {n}", n=len(cal.holidays))]
    out += [f"  {h.day.isoformat()}  {h.name}".rstrip() for h in cal.holidays]
    return out


def calendar_json(cal: ProgrammeCalendar) -> JsonObject:
    """The calendar as JSON: ``weekdays`` (0 = Monday), ``week``, ``stand_downs`` per group (``MM-DD..MM-DD`` or
    null), ``holidays`` (date and name)."""
    return {"weekdays": sorted(cal.weekdays), "week": week_text(cal.weekdays),
            "stand_downs": {g.value: (None if (w := cal.stand_down(g)) is None else window_text(w))
                            for g in StandDownGroup},
            "holidays": [{"date": h.day.isoformat(), "name": h.name} for h in cal.holidays]}
