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
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sapper.plan.problem import Problem
from sapper.plan.setups import order_by_starts, with_continuing_modes
from sapper.plan.solution import Schedule

IntArray = npt.NDArray[np.int64]
#: An end no task can reach (a unit that cannot take the lot).
_NEVER = np.int64(1 << 40)


class _Pool:
    """One resource's units: when each is free, the role of its previous lot, its own role; and the pool's open
    days (``nxt[t]``: the first closed period ≥ t, ``opn[t]``: the first open period ≥ t)."""

    def __init__(self, problem: Problem, r: int, ids: Sequence[str], home: Mapping[str, str],
                 roles: Mapping[str, frozenset[str]], codes: dict[str, int]) -> None:
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
        self.last: IntArray = np.full(len(ids), -1, dtype=np.int64)
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
                       fill_gaps: bool = True) -> tuple[Schedule, tuple[tuple[str, ...], ...]] | None:
    """``schedule``'s order of starts rebuilt on the units ``units[r]`` of each resource, set-up paid per change of
    role (module docstring): the schedule over ``setups.with_continuing_modes(problem)`` and the units per task; None
    when a task cannot be placed (its anchor cannot be kept, or no unit ends it within its deadline and the horizon).
    ``roles``, ``home`` and ``setup`` as for ``solution.check_units``; ``keep_modes``: each lot keeps its solved mode
    (its role and pool), only the units and the set-up are chosen; ``fill_gaps``: a lot of one unit may go into an
    idle gap between a unit's lots where the lot after the gap keeps what its set-up relies on."""
    exact, cont = with_continuing_modes(problem)
    codes: dict[str, int] = {"": -2}
    pools = [_Pool(problem, r, units[r], home, roles, codes) if res.renewable else None
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
                end = np.where(pool.able(role), y + leads + d_c, _NEVER)
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
                for unit in np.flatnonzero(pool.able(role) & (pool.last_gap_end >= est + d_c)).tolist():
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
