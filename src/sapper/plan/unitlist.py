"""Set-up paid per change of role, decoded unit by unit: a solved plan's order of starts rebuilt on the units.

``plan.setups.per_change_setup`` gives the solved plan's lots to units and then drops the set-up where a unit keeps
its role, with the units fixed: a lot can only move left into its own unit's freed days, so nothing moves far (on
kursk-border by capabilities the shift recovered 0.04 % of the objective). Here the solved plan gives only the
**order**: the tasks are taken in the order of its starts (predecessors first, ties by task index) and each is placed
afresh, as a serial schedule generation on units rather than on pools:

- **Earliest end over units and modes**: each task goes to the unit (of any pool one of its modes uses; the mode may
  change) on which it ends earliest, at or after its release and its predecessors' ends plus lags: after the unit's
  last lot, or in an idle gap between two of its lots where the lot after the gap keeps what its own set-up relies
  on (it still follows a lot in its role, or still has ``setup`` idle open periods before it). Filling gaps gained
  1.3 % on kursk-border by capabilities (60 s plan) for about 1.5 s more CPU; lots of several units are appended
  only.
- **Set-up only where the unit's role changes**: on a unit whose previous lot was in the same role, or in the unit's
  own role, the lot takes the mode without set-up (``setups.with_continuing_modes``); otherwise the unit needs
  ``setup`` periods first: the lot's own set-up (the mode with set-up) or, where the unit was idle before, set-up in
  those idle days (the continuing mode then; ``solution.check_units`` counts idle days as set-up).
- **Never in a closed period**: a lot and the set-up before it lie in periods in which each of its pools has every
  unit (the open days of ``setups``: no stand-down, no absence), so no unit works while away and the pools' capacity
  holds however the units are chosen.
- A task of several units (a mode demanding k > 1 units, or several pools) takes the k units that could start it
  soonest in each pool, all starting together; a task without demands or of zero duration (a milestone) ends at its
  predecessors' end. A task anchored at a previous plan's start (a re-plan) must start there, or there is no plan.

The result is a schedule of the problem from ``with_continuing_modes``; the caller keeps it only when the independent
checkers pass (``check``, ``check_units``) and its objective beats the alternative.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sapper.plan.problem import Problem
from sapper.plan.setups import order_by_starts, with_continuing_modes
from sapper.plan.solution import Schedule

IntArray = npt.NDArray[np.int64]
#: An end no task can reach (a unit that cannot take the lot).
_NEVER = np.int64(1 << 40)


@dataclass(frozen=True, slots=True)
class Hold:
    """An anchored task's place in the previous plan, held for it until it is placed (a re-plan's soft anchors):
    its units, and its mode as an index into ``setups.with_continuing_modes(problem)``, from its anchor."""

    units: tuple[str, ...]
    mode: int


class _Pool:
    """One resource's units: when each is free, the role of its previous lot, its own role; and the pool's open
    days (``nxt[t]``: the first closed period ≥ t, ``opn[t]``: the first open period ≥ t)."""

    def __init__(self, problem: Problem, r: int, ids: Sequence[str], home: Mapping[str, str],
                 roles: Mapping[str, frozenset[str]], codes: dict[str, int],
                 initial: Mapping[str, str] | None = None) -> None:
        h = problem.horizon
        res = problem.resources[r]
        closed = np.zeros(h + 1, dtype=bool)
        for s, e, _u in res.unavailable:
            closed[s:e] = True
        idx = np.arange(h + 1, dtype=np.int64)
        # First closed ≥ t: a reverse running minimum of the closed periods' indices (never: _NEVER).
        nxt = np.where(closed, idx, _NEVER)
        self.nxt: IntArray = np.minimum.accumulate(nxt[::-1])[::-1]
        opn = np.where(closed, np.int64(h), idx)  # period h counts as open (nothing ends inside the horizon there)
        self.opn: IntArray = np.minimum.accumulate(opn[::-1])[::-1]
        self.horizon = h
        self.ids = list(ids)
        self.free: IntArray = np.zeros(len(ids), dtype=np.int64)
        #: The role of each unit's previous lot (at first: the role it is set up in at time 0, -1: none).
        self.last: IntArray = np.array([codes.setdefault(initial[u], len(codes)) if initial and initial.get(u) else -1
                                        for u in ids], dtype=np.int64).reshape(len(ids))
        self.home: IntArray = np.array([codes.setdefault(home.get(u, ""), len(codes)) for u in ids], dtype=np.int64)
        self._roles = roles
        self._codes = codes
        self._able: dict[int, npt.NDArray[np.bool_]] = {}
        #: Per unit, its idle gaps between lots in time order: [start, end, role before, role after, the idle
        #: periods of set-up the lot after relies on unless it follows a lot in its role (0: none)].
        self.gaps: list[list[list[int]]] = [[] for _ in ids]
        self.gap_ends: list[list[int]] = [[] for _ in ids]
        self.last_gap_end: IntArray = np.full(len(ids), -1, dtype=np.int64)  # the end of each unit's last gap
        self._nxt: list[int] = self.nxt.tolist()  # for one window at a time (a numpy call costs more than the search)
        self._opn: list[int] = self.opn.tolist()

    def open_for(self, s: int, e: int) -> bool:
        """Whether every period of [s, e) is open."""
        return s >= e or self._nxt[s] >= e

    def window1(self, lo: int, length: int) -> int:
        """:meth:`window` of one ``lo``."""
        h = self.horizon
        y = self._opn[min(lo, h)]
        while self._nxt[y] < y + length:
            y = self._opn[min(self._nxt[y] + 1, h)]
        return y

    def split(self, u: int, g: int, start: int, end: int, role: int, need: int) -> None:
        """Unit ``u``'s gap ``g`` with a lot in ``role`` over [start, end) (``need``: its idle set-up periods)."""
        g0, g1, before, after, need_after = self.gaps[u][g]
        parts = [p for p in ([g0, start, before, role, need], [end, g1, role, after, need_after]) if p[0] < p[1]]
        self.gaps[u][g:g + 1] = parts
        self.gap_ends[u][g:g + 1] = [p[1] for p in parts]
        self.last_gap_end[u] = self.gap_ends[u][-1] if self.gap_ends[u] else -1

    def append(self, u: int, start: int, end: int, role: int, need: int) -> None:
        """A lot in ``role`` over [start, end) after unit ``u``'s last (its idle before it a gap)."""
        if start > self.free[u]:
            self.gaps[u].append([int(self.free[u]), start, int(self.last[u]), role, need])
            self.gap_ends[u].append(start)
            self.last_gap_end[u] = start
        self.free[u] = end
        self.last[u] = role

    def only(self, names: Sequence[str]) -> npt.NDArray[np.bool_]:
        """Which of the units are among ``names``."""
        wanted = set(names)
        return np.array([u in wanted for u in self.ids], dtype=bool).reshape(len(self.ids))

    def able(self, role: str) -> npt.NDArray[np.bool_]:
        """Which of the units can work in ``role`` (every unit for a lot without a role)."""
        c = self._codes.setdefault(role, len(self._codes))
        if c not in self._able:
            self._able[c] = np.array([not role or role in self._roles.get(u, frozenset()) for u in self.ids],
                                     dtype=bool)
        return self._able[c]

    def window(self, lo: IntArray, length: IntArray | int) -> IntArray:
        """For each ``lo``, the first y ≥ lo with the periods [y, y + length) all open (the horizon when none)."""
        y = self.opn[np.minimum(lo, self.horizon)]
        while True:
            bad = self.nxt[y] < y + length
            if not bad.any():
                return y
            y[bad] = self.opn[np.minimum(self.nxt[y[bad]] + 1, self.horizon)]


def _window(pools: Sequence[_Pool], lo: int, length: int) -> int:
    """The first y ≥ lo at which [y, y + length) is open in every pool of ``pools``."""
    y = lo
    while True:
        moved = False
        for p in pools:
            z = p.window1(y, length)
            if z != y:
                y, moved = z, True
        if not moved:
            return y


def _mode_at(y: int, lead: int, d_c: int, est: int, j: int, m: int, own_setup: int,
             cont: Mapping[tuple[int, int], int]) -> tuple[int, int]:
    """The start and mode of task ``j``'s mode ``m`` in the open window from ``y`` of ``lead`` periods of set-up and
    ``d_c`` of work: its own mode with the set-up inside the lot where that starts no earlier than ``est``; else the
    continuing mode after the set-up in idle days (or none needed)."""
    if lead > 0 and 0 < own_setup <= lead and y + lead - own_setup >= est:
        return y + lead - own_setup, m
    return y + lead, cont.get((j, m), m)


def _in_gap(pool: _Pool, u: int, est: int, bound: int, d_c: int, role: int,
            setup: int) -> tuple[int, int, int] | None:
    """The first of unit ``u``'s gaps a lot in ``role`` of ``d_c`` periods of work fits, from ``est`` and ending
    before ``bound``: (gap, window start, set-up periods before the work); None when none. The lot sets up in the gap
    unless the lot before is in its role (or it is the unit's own); the lot after keeps its idle set-up unless the
    lot goes in its role, and those idle periods must be open."""
    ends = pool.gap_ends[u]
    home = int(pool.home[u])
    for g in range(bisect_right(ends, est + d_c - 1), len(ends)):
        g0, g1, before, after, need = pool.gaps[u][g]
        if g0 + d_c >= bound:
            return None
        lead = setup if role >= 0 and role != home and role != before else 0
        keep = need if need and role != after else 0
        y = pool.window1(max(g0, est - lead), lead + d_c)
        end = y + lead + d_c
        if end < bound and end <= g1 - keep and (not keep or pool.open_for(g1 - keep, g1)):
            return g, y, lead
    return None


def unit_list_schedule(problem: Problem, schedule: Schedule, units: Sequence[Sequence[str]], *,
                       roles: Mapping[str, frozenset[str]], home: Mapping[str, str], setup: int,
                       keep_modes: bool = False,
                       fill_gaps: bool = True, initial: Mapping[str, str] | None = None,
                       fixed: Mapping[int, Sequence[str]] | None = None, soft_anchors: bool = False,
                       holds: Mapping[int, Hold] | None = None,
                       prefer: Sequence[Sequence[str]] | None = None,
                       patience: int | Sequence[int] | None = None, chain: int | None = None,
                       ) -> tuple[Schedule, tuple[tuple[str, ...], ...]] | None:
    """``schedule``'s order of starts rebuilt on the units ``units[r]`` of each resource, set-up paid per change of
    role (module docstring): the schedule over ``setups.with_continuing_modes(problem)`` and the units per task; None
    when a task cannot be placed (its anchor cannot be kept, or no unit ends it within its deadline and the horizon).
    ``roles``, ``home`` and ``setup`` as for ``solution.check_units``; ``keep_modes``: each lot keeps its solved mode
    (its role and pool), only the units and the set-up are chosen; ``fill_gaps``: a lot of one unit may go into an
    idle gap between a unit's lots where the lot after the gap keeps what its set-up relies on.

    For a re-plan: ``initial``, the role each unit is set up in at time 0 (as for ``check_units``); ``fixed``, task →
    the units it must have (a running lot continues with the unit that reported on it). ``soft_anchors``: an
    anchored task starts at its anchor where it can, on a unit of ``prefer[j]`` first, else on another able unit,
    and is placed by earliest end where it cannot (:func:`_soft_schedule`; gaps always filled); ``holds`` (only with
    soft anchors): each anchored task's units and mode in the previous plan, whose time no other task takes until it
    is placed, unless a task finds no free time by its deadline and the horizon, or (``patience``) would end more
    than that many periods later for it (per task, or one for all; None: only when it finds none): it then takes
    the held slots, whose tasks move; ``chain``: how many tasks in a row may take held slots for their patience (a
    task whose held slot another took for its patience, and so on; None: no limit) — the last then waits for free
    time."""
    if soft_anchors:
        return _soft_schedule(problem, schedule, units, roles=roles, home=home, setup=setup, keep_modes=keep_modes,
                              initial=initial or {}, fixed=fixed or {}, holds=holds or {}, prefer=prefer,
                              patience=patience, chain=chain)
    if holds:
        raise ValueError("holds keep anchored tasks' time: they need soft anchors")
    exact, cont = with_continuing_modes(problem)
    codes: dict[str, int] = {"": -2}
    pools = [_Pool(problem, r, units[r], home, roles, codes, initial) if res.renewable else None
             for r, res in enumerate(problem.resources)]
    n = len(problem.tasks)
    starts = [0] * n
    ends = [0] * n
    modes = [0] * n
    assigned: list[tuple[str, ...]] = [()] * n
    for j in order_by_starts(problem, schedule.starts):
        task = problem.tasks[j]
        est = max([task.release, *(ends[a] + lag for a, lag in problem.predecessors[j])])
        if task.anchor is not None:
            if task.anchor < est:
                return None
            est = task.anchor
        limit = min(problem.horizon, task.deadline if task.deadline is not None else problem.horizon)
        best: tuple[int, int, int, int, int, int] | None = None  # (end, lead, -free, unit, start, mode) ranking
        best_units: tuple[tuple[int, int], ...] = ()
        best_gap = -1  # the gap of best_units' one unit the lot goes into (-1: appended)
        choices = [schedule.modes[j]] if keep_modes else range(len(task.modes))
        for m in choices:
            mode = task.modes[m]
            demands = [(r, k) for r, k in mode.demands if pools[r] is not None]
            if mode.duration == 0 or not demands:
                if best is None or est + mode.duration < best[0]:
                    best, best_units, best_gap = (est + mode.duration, 0, 0, 0, est, m), (), -1
                continue
            d_c = mode.duration - mode.setup
            role = mode.name
            rc = codes.setdefault(role, len(codes))
            picks: list[tuple[int, int]] = []  # (resource, unit index)
            lead = 0
            free = 0
            first_end = 0
            for r, k in demands:
                pool = pools[r]
                assert pool is not None
                needs = (pool.home != rc) & (pool.last != rc) if role else np.zeros(len(pool.ids), dtype=bool)
                leads = np.where(needs, np.int64(setup), np.int64(0))
                y = pool.window(np.maximum(pool.free, est - leads), leads + d_c)
                able = pool.able(role) if fixed is None or j not in fixed else pool.able(role) & pool.only(fixed[j])
                end = np.where(able, y + leads + d_c, _NEVER)
                # Earliest end, then no set-up, then the unit free the latest (work kept contiguous), lower index.
                order = np.lexsort((-pool.free, leads, end))[:k]
                if len(order) < k or end[order[-1]] >= _NEVER:
                    picks = []
                    break
                picks += [(r, int(u)) for u in order]
                lead = max(lead, int(leads[order].max()))
                free = max(free, int(pool.free[order].max()))
                first_end = int(end[order[-1]])
            if fill_gaps and len(demands) == 1 and demands[0][1] == 1:
                r = demands[0][0]
                pool = pools[r]
                assert pool is not None
                bound = min(best[0] if best is not None else limit + 1, first_end if picks else limit + 1)
                able = pool.able(role) if fixed is None or j not in fixed else pool.able(role) & pool.only(fixed[j])
                for unit in np.flatnonzero(able & (pool.last_gap_end >= est + d_c)).tolist():
                    gap = _in_gap(pool, unit, est, bound, d_c, rc, setup)
                    if gap is None:
                        continue
                    g, gy, glead = gap
                    start, mm = _mode_at(gy, glead, d_c, est, j, m, mode.setup, cont)
                    rank = (gy + glead + d_c, glead, 0, unit, start, mm)
                    if (task.anchor is None or start == task.anchor) and (best is None or rank < best):
                        best, best_units, best_gap, bound = rank, ((r, unit),), g, rank[0]
            if not picks:
                continue
            if len(picks) == 1:
                y0 = first_end - lead - d_c
            else:  # several units start together: the latest of them, the longest lead, every pool open
                y0 = _window([p for r, _ in demands if (p := pools[r]) is not None], max(free, est - lead),
                             lead + d_c)
            end0 = y0 + lead + d_c
            if end0 > limit:
                continue
            start, mm = _mode_at(y0, lead, d_c, est, j, m, mode.setup, cont)
            if task.anchor is not None and start != task.anchor:
                continue
            rank = (end0, lead, -free, picks[0][1], start, mm)
            if best is None or rank < best:
                best, best_units, best_gap = rank, tuple(picks), -1
        if best is None:
            return None
        finish, _, _, _, start, mm = best
        starts[j], ends[j], modes[j] = start, finish, mm
        if best_units:
            chosen = exact.tasks[j].modes[mm]
            role_code = codes[chosen.name]
            names = []
            for r, u in best_units:
                pool = pools[r]
                assert pool is not None
                borrowed = bool(chosen.name) and pool.home[u] != role_code
                need = setup - chosen.setup if borrowed and chosen.setup < setup else 0
                if best_gap >= 0:
                    pool.split(u, best_gap, start, finish, role_code, need)
                else:
                    pool.append(u, start, finish, role_code, need)
                names.append(pool.ids[u])
            assigned[j] = tuple(names)
    return Schedule(tuple(starts), tuple(modes)), tuple(assigned)


#: The role a held slot passes on to the lot after it: none (a lot does not continue the role of a held slot, whose
#: task may yet move away).
_HELD = -3
#: One item of a unit's timeline: (start, end, role code, idle set-up periods it needs unless the item before it is in
#: its role, task, held).
_Item = tuple[int, int, int, int, int, bool]


class _Line:
    """One unit's lots and held slots, in time order (they never overlap)."""

    __slots__ = ("items", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.items: list[_Item] = []

    def insert(self, item: _Item) -> None:
        k = bisect_right(self.starts, item[0])
        self.starts.insert(k, item[0])
        self.items.insert(k, item)

    def free(self, s: int, e: int) -> bool:
        """Whether nothing lies in [s, e)."""
        k = bisect_right(self.starts, s)
        return (k == 0 or self.items[k - 1][1] <= s) and (k == len(self.items) or self.items[k][0] >= e)

    def release(self, j: int, start: int) -> None:
        """Drop task j's held slot starting at ``start``."""
        k = bisect_right(self.starts, start) - 1
        while k >= 0 and self.starts[k] == start:
            if self.items[k][4] == j and self.items[k][5]:
                del self.starts[k], self.items[k]
                return
            k -= 1

    def gap(self, k: int, initial: int) -> tuple[int, int, int]:
        """Gap k (before item k): its start, the role before it (``initial`` before the first item) and its end."""
        if k:
            p = self.items[k - 1]
            g0, before = p[1], _HELD if p[5] else p[2]
        else:
            g0, before = 0, initial
        return g0, before, self.items[k][0] if k < len(self.items) else int(_NEVER)

    def keep(self, k: int, role: int) -> int:
        """The idle periods a lot in ``role`` put into gap k must leave before the item after it."""
        if k >= len(self.items):
            return 0
        nx = self.items[k]
        return nx[3] if nx[3] and nx[2] != role else 0


def _lead(role: int, home: int, before: int, setup: int) -> int:
    """Set-up a lot in ``role`` needs on a unit whose own role is ``home`` after a lot in ``before``."""
    return setup if role >= 0 and role != home and role != before else 0


def _first_fit(pool: _Pool, line: _Line, initial: int, u: int, est: int, bound: int, d_c: int, role: int,
               setup: int) -> tuple[int, int, int] | None:
    """The earliest place on unit ``u`` for a lot in ``role`` of ``d_c`` periods of work from ``est`` ending before
    ``bound``: (gap, window start, set-up periods before the work), as ``_in_gap`` over every gap and after the last
    item; None when none."""
    home = int(pool.home[u])
    n = len(line.items)
    for k in range(bisect_right(line.starts, est), n + 1):
        g0, before, g1 = line.gap(k, initial)
        if g0 + d_c >= bound:
            return None
        lead = _lead(role, home, before, setup)
        keep = line.keep(k, role)
        y = pool.window1(max(g0, est - lead), lead + d_c)
        end = y + lead + d_c
        if end >= bound and lead == 0:  # later gaps end later still
            return None
        if end < bound and end <= g1 - keep and (not keep or pool.open_for(g1 - keep, g1)):
            return k, y, lead
    return None


def _at_anchor(pool: _Pool, line: _Line, initial: int, u: int, a: int, limit: int, d_c: int, role: int,
               setup: int, own_setup: int) -> tuple[int, int, bool] | None:
    """Unit ``u``'s place for a lot in ``role`` starting exactly at ``a``: (end, set-up periods, in the mode without
    set-up); the mode without set-up (after a lot in its role, or set up in idle open days before ``a``) where it
    fits, else the lot's own mode with its set-up inside; None when neither fits by ``limit``."""
    k = bisect_right(line.starts, a)
    if k and line.items[k - 1][1] > a:
        return None
    g0, before, g1 = line.gap(k, initial)
    lead = _lead(role, int(pool.home[u]), before, setup)
    keep = line.keep(k, role)
    top = min(limit, g1 - keep)
    if keep and not pool.open_for(g1 - keep, g1):
        return None
    if a - lead >= g0 and a + d_c <= top and pool.open_for(a - lead, a + d_c):
        return a + d_c, lead, True
    if lead and 0 < own_setup <= lead:
        end = a + own_setup + d_c
        if a - (lead - own_setup) >= g0 and end <= top and pool.open_for(a - (lead - own_setup), end):
            return end, lead, False
    return None


def _soft_schedule(problem: Problem, schedule: Schedule, units: Sequence[Sequence[str]], *,
                   roles: Mapping[str, frozenset[str]], home: Mapping[str, str], setup: int, keep_modes: bool,
                   initial: Mapping[str, str], fixed: Mapping[int, Sequence[str]], holds: Mapping[int, Hold],
                   prefer: Sequence[Sequence[str]] | None,
                   patience: int | Sequence[int] | None, chain: int | None = None
                   ) -> tuple[Schedule, tuple[tuple[str, ...], ...]] | None:
    """``unit_list_schedule`` with soft anchors, for a re-plan. Each unit keeps a timeline of its lots and of the
    slots held for anchored tasks not placed yet (``holds``: the previous plan's units and mode of each). In the
    order of ``schedule``'s starts each task (its own held slots given up first) starts at its anchor where its
    predecessors, release and a unit allow — on one of ``prefer[j]`` first, else the able unit on which it ends
    soonest — in the mode without set-up where the unit is in its role (after a lot in it, or set up in it at time 0,
    ``initial``) or has idle open days to set up in before it, else in its own mode; otherwise at its earliest end
    over every able unit and mode, in any gap between a unit's lots and held slots that keeps what the items after it
    rely on, after the unit's last item at the latest. So a task that must move takes only free time and leaves the
    slots other anchored tasks hold — unless it finds no free time by its deadline and the horizon, or would end more
    than ``patience`` periods later than by taking held slots: it then takes them, and their tasks move (a task
    ``chain`` steps down such a chain waits for free time whatever its patience: 1, one moves for another). A held slot
    passes no role on: a lot after it sets up unless it is placed where the unit continues a role (its task may yet
    move away). A task of several units (k > 1, or several pools) starts on all of them together, in the mode
    without set-up where each unit continues the role or sets up in idle days before it, else in its own mode. Once
    a task is placed, the slots held by successors it pushes past their anchors are given up."""
    exact, cont = with_continuing_modes(problem)
    codes: dict[str, int] = {"": -2}
    pools = [_Pool(problem, r, units[r], home, roles, codes, initial) if res.renewable else None
             for r, res in enumerate(problem.resources)]
    where: dict[str, tuple[int, int]] = {}
    init: dict[tuple[int, int], int] = {}  # each unit's role at time 0 (-1: none)
    for r, pool in enumerate(pools):
        if pool is not None:
            for u, name in enumerate(pool.ids):
                where.setdefault(name, (r, u))
                init[r, u] = int(pool.last[u])
    lines: dict[tuple[int, int], _Line] = {key: _Line() for key in init}
    solid: dict[tuple[int, int], _Line] = {key: _Line() for key in init}  # the lots placed, without held slots
    n = len(problem.tasks)
    held: dict[int, list[tuple[tuple[int, int], int]]] = {}
    for j, hold in holds.items():
        a = problem.tasks[j].anchor
        if a is None or not 0 <= hold.mode < len(exact.tasks[j].modes):
            continue
        mode = exact.tasks[j].modes[hold.mode]
        if mode.duration <= 0:
            continue
        rc = codes.setdefault(mode.name, len(codes))
        for name in hold.units:
            key = where.get(name)
            if key is None or not lines[key].free(a, a + mode.duration):
                continue
            pool = pools[key[0]]
            assert pool is not None
            borrowed = bool(mode.name) and int(pool.home[key[1]]) != rc
            need = setup - mode.setup if borrowed and mode.setup < setup else 0
            lines[key].insert((a, a + mode.duration, rc, need, j, True))
            held.setdefault(j, []).append((key, a))

    def give_up(j: int) -> None:
        for key, a in held.pop(j, ()):
            lines[key].release(j, a)

    able_cache: dict[tuple[int, str], list[int]] = {}

    def able_units(r: int, role: str, j: int) -> list[int]:
        pool = pools[r]
        assert pool is not None
        if (r, role) not in able_cache:
            able_cache[r, role] = np.flatnonzero(pool.able(role)).tolist()
        out = able_cache[r, role]
        if j in fixed:
            wanted = set(fixed[j])
            out = [u for u in out if pool.ids[u] in wanted]
        return out

    starts = [0] * n
    ends = [0] * n
    modes = [0] * n
    assigned: list[tuple[str, ...]] = [()] * n
    bumped: dict[int, int] = {}  # tasks whose held slot another took for its patience: how far down the chain
    for j in order_by_starts(problem, schedule.starts):
        give_up(j)
        task = problem.tasks[j]
        est = max([task.release, *(ends[a] + lag for a, lag in problem.predecessors[j])])
        limit = min(problem.horizon, task.deadline if task.deadline is not None else problem.horizon)
        liked = set(prefer[j]) if prefer is not None else set()
        choices = [schedule.modes[j]] if keep_modes else list(range(len(task.modes)))
        # (rank, start, mode, [(pool, unit)]): the placement kept; rank (0, not on a unit of prefer[j], end, set-up,
        # unit) at the anchor, (1, end, set-up, not preferred, unit) elsewhere
        best: tuple[tuple[int, ...], int, int, list[tuple[int, int]]] | None = None
        taking: tuple[tuple[int, ...], int, int, list[tuple[int, int]]] | None = None  # the same, taking held slots
        taken_from = 0
        anchor = task.anchor
        for at_anchor in ((True, False) if anchor is not None and est <= anchor else (False,)):
            for m in choices:
                mode = task.modes[m]
                demands = [(r, k) for r, k in mode.demands if pools[r] is not None]
                if mode.duration == 0 or not demands:
                    start = anchor if at_anchor and anchor is not None else est
                    rank = (0, 0, start + mode.duration, 0, 0) if at_anchor else (1, start + mode.duration, 0, 0, 0)
                    if start + mode.duration <= limit and (best is None or rank < best[0]):
                        best = (rank, start, m, [])
                    continue
                d_c = mode.duration - mode.setup
                rc = codes.setdefault(mode.name, len(codes))
                if len(demands) == 1 and demands[0][1] == 1:
                    r = demands[0][0]
                    pool = pools[r]
                    assert pool is not None
                    for u in able_units(r, mode.name, j):
                        line = lines[r, u]
                        pref = 0 if pool.ids[u] in liked else 1
                        if at_anchor:
                            assert anchor is not None
                            fit = _at_anchor(pool, line, init[r, u], u, anchor, limit, d_c, rc, setup, mode.setup)
                            if fit is None:
                                continue
                            end, lead, free_mode = fit
                            mm = cont.get((j, m), m) if free_mode else m
                            rank = (0, pref, end, lead, u)
                            if best is None or rank < best[0]:
                                best = (rank, anchor, mm, [(r, u)])
                        else:
                            bound = min(limit + 1, best[0][1] if best is not None else limit + 1)
                            got = _first_fit(pool, line, init[r, u], u, est, bound, d_c, rc, setup)
                            if got is not None:
                                _, y, lead = got
                                start, mm = _mode_at(y, lead, d_c, est, j, m, mode.setup, cont)
                                rank = (1, y + lead + d_c, lead, pref, u)
                                if best is None or rank < best[0]:
                                    best = (rank, start, mm, [(r, u)])
                            bound = min(limit + 1, taking[0][1] if taking is not None else limit + 1)
                            got = _first_fit(pool, solid[r, u], init[r, u], u, est, bound, d_c, rc, setup)
                            if got is not None:
                                _, y, lead = got
                                start, mm = _mode_at(y, lead, d_c, est, j, m, mode.setup, cont)
                                rank = (1, y + lead + d_c, lead, pref, u)
                                if taking is None or rank < taking[0]:
                                    taking, taken_from = (rank, start, mm, [(r, u)]), y
                    continue
                # Several units: in the mode without set-up where each continues the role or sets up in idle
                # days, else in the task's own mode.
                for mm, work in ((cont[j, m], d_c), (m, mode.duration)) if (j, m) in cont else ((m, mode.duration),):
                    found = _together(pools, lines, init, able_units, demands, j, anchor if at_anchor else None,
                                      est, limit, work, mode.name, rc, liked, setup if mm != m else 0)
                    if found is not None:
                        start, picks = found
                        pref = 0 if all(p.ids[u] in liked for r, u in picks if (p := pools[r]) is not None) else 1
                        end = start + work
                        rank = (0, pref, end, 0, 0) if at_anchor else (1, end, 0, pref, 0)
                        if best is None or rank < best[0]:
                            best = (rank, start, mm, picks)
                        break
            if best is not None:
                break
        wait = patience if isinstance(patience, int) else patience[j] if patience is not None else None
        if chain is not None and bumped.get(j, 0) >= chain:
            wait = None
        if taking is not None and (best is None or (wait is not None and taking[0][1] + wait < best[0][1])):
            # No free time, or waiting for it costs more than ``patience``: the lot takes held slots, whose tasks
            # move.
            for_patience = best is not None
            best = taking
            (r, u), = taking[3]
            for item in list(lines[r, u].items):
                if item[5] and item[0] < taking[0][1] and item[1] > taken_from:
                    give_up(item[4])
                    if for_patience:
                        bumped[item[4]] = bumped.get(j, 0) + 1
        if best is None:
            return None
        _, start, mm, picks = best
        chosen = exact.tasks[j].modes[mm]
        starts[j], ends[j], modes[j] = start, start + chosen.duration, mm
        if picks:
            role_code = codes[chosen.name]
            names = []
            for r, u in picks:
                pool = pools[r]
                assert pool is not None
                borrowed = bool(chosen.name) and int(pool.home[u]) != role_code
                need = setup - chosen.setup if borrowed and chosen.setup < setup else 0
                lines[r, u].insert((start, ends[j], role_code, need, j, False))
                solid[r, u].insert((start, ends[j], role_code, need, j, False))
                names.append(pool.ids[u])
            assigned[j] = tuple(names)
        for k, lag in problem.successors[j]:
            a = problem.tasks[k].anchor
            if k in held and a is not None and ends[j] + lag > a:
                give_up(k)
    return Schedule(tuple(starts), tuple(modes)), tuple(assigned)


def _together(pools: Sequence[_Pool | None], lines: Mapping[tuple[int, int], _Line],
              init: Mapping[tuple[int, int], int],
              able_units: Callable[[int, str, int], list[int]], demands: Sequence[tuple[int, int]], j: int,
              anchor: int | None, est: int, limit: int, duration: int, role_name: str, role: int,
              liked: set[str], setup: int) -> tuple[int, list[tuple[int, int]]] | None:
    """A lot of several units (k > 1 or several pools) of ``duration`` periods: the first start from ``est``
    (exactly ``anchor`` when given) at which every pool has k units free for it, each leaving what the item after it
    relies on, all pools open; units of ``liked`` first. ``setup`` > 0: the mode without set-up, each unit not
    continuing the role idle ``setup`` open periods before it. None when none by ``limit``."""
    t = anchor if anchor is not None else est
    for _ in range(64):
        picks: list[tuple[int, int]] = []
        latest = t
        for r, k in demands:
            pool = pools[r]
            assert pool is not None
            options: list[tuple[int, int, int]] = []
            for u in able_units(r, role_name, j):
                if setup:
                    got = _first_fit(pool, lines[r, u], init[r, u], u, t, limit + 1, duration, role, setup)
                    s = got[1] + got[2] if got is not None else None
                else:
                    s = _earliest_free(pool, lines[r, u], t, duration, role)
                if s is not None and s + duration <= limit:
                    options.append((s, 0 if pool.ids[u] in liked else 1, u))
            options.sort()
            if len(options) < k:
                return None
            chosen = options[:k]
            latest = max(latest, chosen[-1][0])
            picks += [(r, u) for _, _, u in chosen]
        if latest == t:
            return t, picks
        if anchor is not None:
            return None
        t = latest
    return None


def _earliest_free(pool: _Pool, line: _Line, t: int, duration: int, role: int) -> int | None:
    """The first start from ``t`` at which the unit of ``line`` is free for ``duration`` open periods, leaving what
    the item after them relies on; None when none."""
    for k in range(bisect_right(line.starts, t), len(line.items) + 1):
        g0, _, g1 = line.gap(k, -1)
        keep = line.keep(k, role)
        y = pool.window1(max(g0, t), duration)
        if y >= pool.horizon:
            return None
        if y + duration <= g1 - keep and (not keep or pool.open_for(g1 - keep, g1)):
            return y
    return None
