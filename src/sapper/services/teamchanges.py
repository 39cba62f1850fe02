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
from sapper.plan import Problem
from sapper.scenario.compile import WORK_KINDS, TaskKind
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
                change(u, ChangeKind.FINISHED, old, None, "progress reported")
            continue
        new = now.get(old.task_id)
        if lot.removed_because is not None or new is None:
            reason = lot.removed_because or "no longer in the plan"
            for u in _units(old.unit_id):
                change(u, ChangeKind.REMOVED, old, None, reason)
            continue
        before, after = set(_units(old.unit_id)), set(_units(new.unit_id))
        dates_moved = (old.end_date != new.end_date if lot.running
                       else (old.start_date, old.end_date) != (new.start_date, new.end_date))
        for u in sorted(before - after):
            if u not in present:
                why = f"{u} is no longer in the register"
            elif lot.reported_by and after <= set(lot.reported_by):
                why = f"{', '.join(lot.reported_by)} reported work on it"
            elif lot.not_continuing:
                why = lot.not_continuing
            else:
                cause = pool_causes.get(old.resource, "")
                why = f"re-assigned within {old.resource}" + (f" ({cause})" if cause else "")
            change(u, ChangeKind.HANDED_OVER, old, new, why)
            for v in sorted(after - before):
                change(v, ChangeKind.TAKEN_OVER, old, new, why)
        if not before - after:
            for v in sorted(after - before):  # a lot that needed more units now
                change(v, ChangeKind.TAKEN_OVER, old, new, "the lot needs another unit")
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
        return "slower than planned" if new.end_date > old.end_date else "faster than planned"
    return "takes longer than planned" if new.end_date > old.end_date else "takes less time than planned"


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


def team_lines(teams: Sequence[TeamChanges], use: UnitUse | None) -> list[str]:
    """The per-unit changes and the idle units, in lines for a person."""
    out: list[str] = []
    if teams:
        out.append(f"per team and brigade ({len(teams)} with changes):")
    for tc in teams:
        counts = ", ".join(f"{len(tc.of(k))} {k.value}" for k in ChangeKind if tc.of(k))
        out.append(f"  {tc.unit_id}: {counts}")
        for c in tc.changes:
            out.append(f"    {_describe(c)}")
    if use is not None:
        if use.unused:
            out.append(f"units given no work ({len(use.unused)}): {', '.join(use.unused)}")
        if use.idle:
            spans: dict[str, list[IdleSpan]] = defaultdict(list)
            for s in use.idle:
                spans[s.unit_id].append(s)
            out.append(f"units idle for {use.min_weeks} weeks or more ({len(spans)}; working days outside "
                       "stand-downs, most idle first):")
            for unit, idle in sorted(spans.items(), key=lambda kv: (-sum(s.working_days for s in kv[1]), kv[0])):
                listed = ", ".join(f"{s.first_day.isoformat()} → {s.last_day.isoformat()} ({s.working_days}"
                                   f"{', no more work' if s.after_last_lot else ''})"
                                   for s in sorted(idle, key=lambda s: s.first_day))
                out.append(f"  {unit}: {sum(s.working_days for s in idle)} working days: {listed}")
    return out


def _span(start: dt.date | None, end: dt.date | None) -> str:
    return f"{start.isoformat() if start else '?'}–{end.isoformat() if end else '?'}"


def _describe(c: LotChange) -> str:
    what = f"{c.task_id}"
    if c.kind is ChangeKind.FINISHED:
        return f"finished {what} (planned {_span(c.old_start, c.old_end)}): {c.reason}"
    if c.kind is ChangeKind.REMOVED:
        return f"removed {what} (was {_span(c.old_start, c.old_end)}): {c.reason}"
    if c.kind is ChangeKind.ADDED:
        return f"new {what} {_span(c.new_start, c.new_end)}: {c.reason}"
    if c.kind is ChangeKind.MOVED:
        return f"moved {what} {_span(c.old_start, c.old_end)} → {_span(c.new_start, c.new_end)}: {c.reason}"
    dates = (_span(c.old_start, c.old_end) if (c.old_start, c.old_end) == (c.new_start, c.new_end)
             else f"{_span(c.old_start, c.old_end)} → {_span(c.new_start, c.new_end)}")
    if c.kind is ChangeKind.HANDED_OVER:
        return f"handed over {what} {dates} to {c.new_unit}: {c.reason}"
    return f"taken over {what} {dates} from {c.old_unit}: {c.reason}"
