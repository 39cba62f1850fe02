"""What a re-plan changes for each team and brigade, and which units wait for work.

An operations manager reads a re-plan by unit: "T-MAN-002 loses clearance H-17/3 to T-MAN-005 (T-MAN-002 no longer in
the register), its lot of H-9 starts 12 June instead of 3 June (predecessor late: slower than planned)". This module
turns the lot-by-lot comparison of the previous plan with the new one into that view:

- :class:`LotChange` is one lot's change as one unit sees it (finished, removed, added, moved, handed over to another
  unit or taken over from one), with the old and new unit and the old and new dates and the reason the re-plan can
  name; :class:`TeamChanges` gathers a unit's changes. It is the hook the task orders (issue 15 item 1) use to say
  which orders a re-plan cancels (removed, handed over), issues (added, taken over) or amends (moved).
- :func:`unit_use` lists the units a plan leaves idle for at least a number of weeks (gaps between their lots,
  counted in working days outside their pool's stand-downs, up to the plan's last working day of their kind of work)
  and the units it gives no work at all: a planner wants to lend those elsewhere.

The comparison is by task id: a lot keeps its id from plan to re-plan (``services.remaining``), so a lot of the
previous plan that is in the new one is the same piece of work.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sapper.domain.calendar import Calendar
from sapper.messages import Joined, Msg, msg, msg_n, phrases
from sapper.plan import Problem
from sapper.scenario.compile import WORK_KINDS, TaskKind
from sapper.services.taskorders import LotChangeKind, OrderAction, OrderChange
from sapper.store.records import PlannedTask


class ChangeKind(StrEnum):
    """How one lot changed for one unit."""

    FINISHED = "finished"  # the unit reported it done since the previous plan
    REMOVED = "removed"  # no longer needed (land cancelled, asset gone, ...): its order is cancelled
    ADDED = "added"  # a lot the previous plan did not have: a new order
    MOVED = "moved"  # the unit keeps it, its dates changed
    HANDED_OVER = "handed over"  # the unit had it, another unit does it now
    TAKEN_OVER = "taken over"  # another unit had it, this unit does it now


@dataclass(frozen=True, slots=True)
class LotChange:
    """One lot's change as one unit sees it: its old and new unit(s) (comma-separated when a lot needs several) and
    dates (None where the lot has no old or no new side), and the reason the re-plan names."""

    task_id: str
    kind: ChangeKind
    task_kind: TaskKind
    target: str  # the hazard area or asset the lot works on
    old_unit: str | None
    new_unit: str | None
    old_start: dt.date | None
    old_end: dt.date | None
    new_start: dt.date | None
    new_end: dt.date | None
    reason: str


@dataclass(frozen=True)
class TeamChanges:
    """Every change a re-plan makes to one team's or brigade's work, in the order of the lots' dates."""

    unit_id: str
    changes: tuple[LotChange, ...]

    def of(self, kind: ChangeKind) -> tuple[LotChange, ...]:
        """The changes of one kind."""
        return tuple(c for c in self.changes if c.kind is kind)


@dataclass(frozen=True, slots=True)
class IdleSpan:
    """A stretch of working days (outside the unit's stand-downs) between two of its lots, or after its last one,
    when the unit has no work."""

    unit_id: str
    first_day: dt.date
    last_day: dt.date
    working_days: int
    #: The unit has no more work after it (the span runs to the last working day of its kind of units).
    after_last_lot: bool = False


@dataclass(frozen=True)
class UnitUse:
    """Units a plan leaves idle for at least ``min_weeks`` (their longest spans first) and units it gives no work."""

    min_weeks: int
    idle: tuple[IdleSpan, ...]
    unused: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LotFacts:
    """What the re-plan knows of one lot of the previous plan: its task as planned, whether it finished (and by whom),
    was removed (and why), moved (and why), and why a running lot could not continue with its unit."""

    task: PlannedTask
    finished_by: str | None = None
    removed_because: str | None = None
    moved_because: str | None = None
    not_continuing: str | None = None
    reported_by: tuple[str, ...] = ()
    #: Under way on the as-of date: the new plan holds what is left of it from the as-of date, so only a change of its
    #: end date is a move.
    running: bool = False


def _units(unit_id: str | None) -> tuple[str, ...]:
    return tuple(u for u in (unit_id or "").split(",") if u)


def _target(t: PlannedTask) -> str:
    return t.hazard_id or t.asset_id or ""


def team_changes(previous: Iterable[LotFacts], new_tasks: Sequence[PlannedTask], *, added: Mapping[str, str],
                 register_units: Iterable[str], pool_causes: Mapping[str, str]) -> tuple[TeamChanges, ...]:
    """Per unit, what the re-plan changes: ``previous`` are the lots of the previous plan (work lots only) with what
    the re-plan found, ``new_tasks`` the new plan's tasks (history included), ``added`` the reason of each new lot by
    task id, ``register_units`` the teams and brigades in the register now and ``pool_causes`` what takes more of each
    pool's time than before (the reason given for a lot handed to another unit of its pool). Units in alphabetical
    order; a unit without a change is left out."""
    now = {t.task_id: t for t in new_tasks if t.kind in WORK_KINDS}
    present = set(register_units)
    per_unit: dict[str, list[LotChange]] = defaultdict(list)

    def change(unit: str, kind: ChangeKind, old: PlannedTask | None, new: PlannedTask | None, reason: str) -> None:
        t = new or old
        assert t is not None
        per_unit[unit].append(LotChange(
            t.task_id, kind, t.kind, _target(t), old.unit_id if old else None, new.unit_id if new else None,
            old.start_date if old else None, old.end_date if old else None,
            new.start_date if new else None, new.end_date if new else None, reason))

    seen: set[str] = set()
    for lot in previous:
        old = lot.task
        seen.add(old.task_id)
        if lot.finished_by is not None:
            for u in _units(lot.finished_by) or _units(old.unit_id):
                change(u, ChangeKind.FINISHED, old, None, msg("progress reported"))
            continue
        new = now.get(old.task_id)
        if lot.removed_because is not None or new is None:
            reason = lot.removed_because or msg("no longer in the plan")
            for u in _units(old.unit_id):
                change(u, ChangeKind.REMOVED, old, None, reason)
            continue
        before, after = set(_units(old.unit_id)), set(_units(new.unit_id))
        dates_moved = (old.end_date != new.end_date if lot.running
                       else (old.start_date, old.end_date) != (new.start_date, new.end_date))
        for u in sorted(before - after):
            why: str
            if u not in present:
                why = msg("{unit} is no longer in the register", unit=u)
            elif lot.reported_by and after <= set(lot.reported_by):
                why = msg("{units} reported work on it", units=", ".join(lot.reported_by))
            elif lot.not_continuing:
                why = lot.not_continuing
            else:
                cause = pool_causes.get(old.resource, "")
                why = (msg("re-assigned within {pool} ({cause})", pool=old.resource, cause=phrases(cause)) if cause
                       else msg("re-assigned within {pool}", pool=old.resource))
            change(u, ChangeKind.HANDED_OVER, old, new, why)
            for v in sorted(after - before):
                change(v, ChangeKind.TAKEN_OVER, old, new, why)
        if not before - after:
            for v in sorted(after - before):  # a lot that needed more units now
                change(v, ChangeKind.TAKEN_OVER, old, new, msg("the lot needs another unit"))
        if dates_moved:
            for u in sorted(before & after):
                change(u, ChangeKind.MOVED, old, new, lot.moved_because or _end_moved(lot, old, new))
    for tid, new in now.items():
        if tid in seen or tid not in added:
            continue
        for u in _units(new.unit_id):
            change(u, ChangeKind.ADDED, None, new, added[tid])
    order = list(ChangeKind)
    return tuple(
        TeamChanges(u, tuple(sorted(cs, key=lambda c: (c.new_start or c.old_start or dt.date.min,
                                                       order.index(c.kind), c.task_id))))
        for u, cs in sorted(per_unit.items()))


def _end_moved(lot: LotFacts, old: PlannedTask, new: PlannedTask) -> str:
    """Why a lot that keeps its start (or is under way) ends on another day."""
    if lot.running:
        return msg("slower than planned") if new.end_date > old.end_date else msg("faster than planned")
    return msg("takes longer than planned") if new.end_date > old.end_date else msg("takes less time than planned")


def unit_use(tasks: Sequence[PlannedTask], *, units: Mapping[str, Sequence[str]], problem: Problem,
             calendar: Calendar, min_weeks: int, working_days_per_week: int) -> UnitUse:
    """The units of ``units`` (pool name → its units) that ``tasks`` (a plan's tasks from ``calendar``'s start)
    leave idle for at least ``min_weeks`` weeks of ``working_days_per_week`` working days, and those it gives no
    work. A gap counts only the working days the unit's pool is available (not in a stand-down), from the plan's start
    to the last working day any unit of the same kind (deminers or builders) is busy."""
    min_days = max(1, min_weeks * working_days_per_week)
    start = calendar.start
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    last_of_kind: dict[str, int] = defaultdict(int)
    for t in tasks:
        if t.kind not in WORK_KINDS or t.end_date < start:
            continue
        a = calendar.index_of(max(t.start_date, start))
        b = calendar.index_of(t.end_date) + 1
        for u in _units(t.unit_id):
            busy[u].append((a, b))
        kind = t.resource.split(":")[0]
        last_of_kind[kind] = max(last_of_kind[kind], b)
    available: dict[str, list[int]] = {}
    for r, res in enumerate(problem.resources):
        available[res.name] = problem.capacity_profile(r)
    idle: list[IdleSpan] = []
    unused: list[str] = []
    for pool, ids in sorted(units.items()):
        cap = available.get(pool)
        end = last_of_kind.get(pool.split(":")[0], 0)
        for u in ids:
            spans = sorted(busy.get(u, []))
            if not spans:
                unused.append(u)
                continue
            free_from = 0
            gaps: list[tuple[int, int, bool]] = []
            for a, b in spans:
                if a > free_from:
                    gaps.append((free_from, a, False))
                free_from = max(free_from, b)
            if end > free_from:
                gaps.append((free_from, end, True))
            for a, b, last in gaps:
                days = [i for i in range(a, min(b, calendar.working_days))
                        if cap is None or i >= len(cap) or cap[i] > 0]
                if len(days) >= min_days:
                    idle.append(IdleSpan(u, calendar.date_of(days[0]), calendar.date_of(days[-1]), len(days), last))
    idle.sort(key=lambda s: (-s.working_days, s.unit_id, s.first_day))
    return UnitUse(min_weeks, tuple(idle), tuple(sorted(unused)))


def team_lines(teams: Sequence[TeamChanges], use: UnitUse | None, orders: Sequence[OrderChange] = ()) -> list[str]:
    """The per-unit changes, the task orders in force each unit's changes touch (what changed in each and what to
    do with it), and the idle units, in lines for a person (messages: said in the user's language)."""
    out: list[str] = []
    by_unit: dict[str, list[OrderChange]] = defaultdict(list)
    for o in orders:
        by_unit[o.unit_id].append(o)
    changed = {tc.unit_id: tc for tc in teams}
    units = sorted(set(changed) | set(by_unit))
    if units:
        out.append(msg_n("per team and brigade ({n} with changes):", "per team and brigade ({n} with changes):",
                         len(units)))
    for unit in units:
        tc = changed.get(unit, TeamChanges(unit, ()))
        parts = [_count(k, len(tc.of(k))) for k in ChangeKind if tc.of(k)]
        if by_unit.get(unit):
            parts.append(msg_n("{n} task order to act on", "{n} task orders to act on", len(by_unit[unit])))
        out.append(msg("  {unit}: {counts}", unit=unit, counts=Joined(", ", parts)))
        for c in tc.changes:
            out.append(msg("    {change}", change=_describe(c)))
        for o in by_unit.get(unit, ()):
            out += order_lines(o, indent="    ")
    if use is not None:
        if use.unused:
            out.append(msg_n("units given no work ({n}): {units}", "units given no work ({n}): {units}",
                             len(use.unused), units=", ".join(use.unused)))
        if use.idle:
            spans: dict[str, list[IdleSpan]] = defaultdict(list)
            for s in use.idle:
                spans[s.unit_id].append(s)
            out.append(msg_n("units idle for {weeks} weeks or more ({n}; working days outside stand-downs, most idle "
                             "first):", "units idle for {weeks} weeks or more ({n}; working days outside stand-downs, "
                             "most idle first):", len(spans), weeks=use.min_weeks))
            for unit, idle in sorted(spans.items(), key=lambda kv: (-sum(s.working_days for s in kv[1]), kv[0])):
                listed = [msg("{first} → {last} ({days}, no more work)", first=s.first_day.isoformat(),
                              last=s.last_day.isoformat(), days=s.working_days) if s.after_last_lot else
                          msg("{first} → {last} ({days})", first=s.first_day.isoformat(),
                              last=s.last_day.isoformat(), days=s.working_days)
                          for s in sorted(idle, key=lambda s: s.first_day)]
                out.append(msg_n("  {unit}: {n} working day: {spans}", "  {unit}: {n} working days: {spans}",
                                 sum(s.working_days for s in idle), unit=unit, spans=Joined(", ", listed)))
    return out


def _count(kind: ChangeKind, n: int) -> Msg:
    """How many lots of a unit changed in one way."""
    if kind is ChangeKind.FINISHED:
        return msg_n("{n} finished", "{n} finished", n)
    if kind is ChangeKind.REMOVED:
        return msg_n("{n} removed", "{n} removed", n)
    if kind is ChangeKind.ADDED:
        return msg_n("{n} added", "{n} added", n)
    if kind is ChangeKind.MOVED:
        return msg_n("{n} moved", "{n} moved", n)
    if kind is ChangeKind.HANDED_OVER:
        return msg_n("{n} handed over", "{n} handed over", n)
    return msg_n("{n} taken over", "{n} taken over", n)


def order_lines(o: OrderChange, *, indent: str = "") -> list[str]:
    """An order a re-plan changes: its number, unit and site, each changed lot (dates moved, handed over, no longer
    needed, done) and what to do: re-issue it (``sapper tasks`` for the unit, then cancel it), cancel it, or complete
    it."""
    head = {
        OrderAction.REISSUE: msg("{indent}order {number} ({unit}, {site}, from plan run {old}): re-issue it: sapper "
                                 "tasks --team {unit} issues the new order, then sapper task-order cancel {number} "
                                 "--reason \"re-plan {new}\"", indent=indent, number=o.number, unit=o.unit_id,
                                 site=o.site_id, old=o.order_plan_id, new=o.plan_id),
        OrderAction.CANCEL: msg("{indent}order {number} ({unit}, {site}, from plan run {old}): cancel it, no work of "
                                "it is left for {unit}: sapper task-order cancel {number} --reason \"re-plan {new}\"",
                                indent=indent, number=o.number, unit=o.unit_id, site=o.site_id, old=o.order_plan_id,
                                new=o.plan_id),
        OrderAction.COMPLETE: msg("{indent}order {number} ({unit}, {site}, from plan run {old}): all its work is "
                                  "reported done: complete it (sapper task-order complete {number}, once "
                                  "acknowledged)", indent=indent, number=o.number, unit=o.unit_id, site=o.site_id,
                                  old=o.order_plan_id),
    }[o.action]
    out: list[str] = [head]
    for x in o.lots:
        old = _span(x.old_start, x.old_end)
        if x.change is LotChangeKind.DATES_MOVED:
            line = msg("{indent}  {task}: dates moved {old} → {new}", indent=indent, task=x.task_id, old=old,
                       new=_span(x.new_start, x.new_end))
        elif x.change is LotChangeKind.UNIT_CHANGED:
            line = msg("{indent}  {task}: handed over to {unit} ({old} → {new})", indent=indent, task=x.task_id,
                       unit=x.new_unit or "?", old=old, new=_span(x.new_start, x.new_end))
        elif x.change is LotChangeKind.FINISHED:
            line = msg("{indent}  {task}: done ({new})", indent=indent, task=x.task_id,
                       new=_span(x.new_start, x.new_end))
        else:
            line = msg("{indent}  {task}: cancelled, no longer in the plan (was {old})", indent=indent,
                       task=x.task_id, old=old)
        out.append(line)
    return out


def _span(start: dt.date | None, end: dt.date | None) -> str:
    return f"{start.isoformat() if start else '?'}–{end.isoformat() if end else '?'}"


def _describe(c: LotChange) -> Msg:
    what, reason = c.task_id, phrases(c.reason)
    old, new = _span(c.old_start, c.old_end), _span(c.new_start, c.new_end)
    if c.kind is ChangeKind.FINISHED:
        return msg("finished {task} (planned {old}): {reason}", task=what, old=old, reason=reason)
    if c.kind is ChangeKind.REMOVED:
        return msg("removed {task} (was {old}): {reason}", task=what, old=old, reason=reason)
    if c.kind is ChangeKind.ADDED:
        return msg("new {task} {new}: {reason}", task=what, new=new, reason=reason)
    if c.kind is ChangeKind.MOVED:
        return msg("moved {task} {old} → {new}: {reason}", task=what, old=old, new=new, reason=reason)
    dates = old if (c.old_start, c.old_end) == (c.new_start, c.new_end) else f"{old} → {new}"
    if c.kind is ChangeKind.HANDED_OVER:
        return msg("handed over {task} {dates} to {unit}: {reason}", task=what, dates=dates, unit=c.new_unit or "?",
                   reason=reason)
    return msg("taken over {task} {dates} from {unit}: {reason}", task=what, dates=dates, unit=c.old_unit or "?",
               reason=reason)
