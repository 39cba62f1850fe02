"""A genetic search over activity lists for makespan problems, compiled with Numba: a second source of plans beside
CP-SAT.

The individual is an activity list (an order of the tasks that respects every precedence); it is decoded by the
serial schedule-generation scheme on a per-period capacity profile (so outages are kept), then improved by
forward–backward improvement (double justification: every task as late as possible in order of decreasing end, then
as early as possible in order of increasing start). The improved plan's start order is written back into the
individual. Each generation pairs the population at random, makes two children of each pair by two-point crossover
and a light adjacent-swap mutation, and keeps the best distinct plans of parents and children. The method follows
the genetic algorithm of S. Hartmann (Naval Research Logistics 45:733–750, 1998) with the justification of V. Valls,
F. Ballestín and S. Quintanilla (EJOR 165:375–386, 2005).

The population starts from random orders, not from the plan to improve: seeded with it, the population took it over
within a few generations and stalled there (PSPLIB j6029_1 from CP-SAT's plan of 111: 111 in two seeds of three;
from random orders 105–106). The plan to improve gives the first modes. On multi-mode problems each individual also
carries a mode per task (S. Hartmann, Annals of Operations Research 102:111–135, 2001): crossover passes each task's
mode with the task, mutation redraws a mode where the budgets (non-renewable resources) allow, and modes that
overspend are repaired towards the budgets; a plan over budget is never returned. With modes fixed (the plan's, as
before), PSPLIB's multi-mode J30 spent the search's share of the time limit on plans CP-SAT had already beaten. The
search applies to makespan problems without move cost whose precedence lags are all non-negative (``applies``).
Plans may run past the problem's horizon while the search works (beyond it at full capacity); only a plan shorter
than the one to improve is returned, and every plan returned is checked by the caller.
Runs are deterministic for a seed and a number of generations; ``time_limit_s`` stops them early.

The module also holds ``greedy.serial_sgs`` compiled for region-sized problems without budgets (``serial_modes``):
the scheme that chooses each task's mode (the one ending first, a borrowed role's set-up weighted and fading as in
``greedy``), the same plans as the Python scheme (tested), about 10 ms a decoding of kursk-border by capabilities
where the Python scheme took about 0.5 CPU-seconds, so that the ALNS's priority search (``plan.alns``) can decode
many orders in the time a CP-SAT sub-problem takes.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros

from sapper.errors import PlanError
from sapper.plan.greedy import own_role_work, role_of
from sapper.plan.problem import Mode, Objective, Problem, Resource, Task, Units
from sapper.plan.solution import Schedule

_FAIL = -1
#: Rounds of forward–backward improvement after each decoding.
_ROUNDS = 3
#: Fitness of a list that misses a deadline.
_MISSED = 1 << 60
#: Fitness of modes that overspend a budget, before the excess is added (below ``_MISSED``, above any makespan).
_OVER = 1 << 50

_I = npt.NDArray[np.int64]
_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(func: _F) -> _F:
    """Numba's nopython compilation, cached on disk beside this module."""
    return cast(_F, njit(cache=True)(func))


def _inlined(func: _F) -> _F:
    """As :func:`_compiled`, and inlined into its compiled callers by Numba (not merely by LLVM): a call in a hot
    loop then passes no arrays, so it costs no reference counting (an atomic increment and decrement per array per
    call, on counts that every thread running the same arrays shares)."""
    return cast(_F, njit(cache=True, inline="always")(func))


def applies(problem: Problem) -> bool:
    """Whether the search can improve ``problem``'s plans: makespan first, no move cost, no budget per period, no
    negative lag."""
    return (problem.objective is Objective.MAKESPAN and not problem.move_cost and not problem.has_period_budgets
            and all(p.lag >= 0 for p in problem.precedences))


class _Arrays:
    """The problem, with modes fixed, as flat arrays for the compiled code."""

    def __init__(self, problem: Problem, modes: tuple[int, ...], *, horizon: int | None = None) -> None:
        n = len(problem.tasks)
        renewable = list(problem.renewable)
        col = {r: k for k, r in enumerate(renewable)}
        # Lists decoded early in the search may end past the problem's horizon (e.g. one shortened to a known plan's
        # length); they are kept, beyond it at full capacity, so that the search can work its way back.
        if horizon is None:
            horizon = max(problem.horizon, max((t.release for t in problem.tasks), default=0)
                          + sum(t.modes[m].duration for t, m in zip(problem.tasks, modes, strict=True))
                          + sum(p.lag for p in problem.precedences))
        self.cap = np.zeros((max(1, len(renewable)), horizon + 1), dtype=np.int64)
        for r, k in col.items():
            res = problem.resources[r]
            self.cap[k, :] = res.capacity
            for s, e, u in res.unavailable:
                self.cap[k, s:min(e, horizon)] -= u
        self.cap[:, horizon] = 0  # nothing runs past the horizon
        self.dur = np.zeros(n, dtype=np.int64)
        self.rel = np.zeros(n, dtype=np.int64)
        self.lend = np.zeros(n, dtype=np.int64)
        dem_ptr = [0]
        dem_r: list[int] = []
        dem_u: list[int] = []
        for j, task in enumerate(problem.tasks):
            mode = task.modes[modes[j]]
            self.dur[j] = mode.duration
            self.rel[j] = task.release
            self.lend[j] = horizon if task.deadline is None else task.deadline
            if mode.duration > 0:
                for r, u in mode.demands:
                    if r in col:
                        dem_r.append(col[r])
                        dem_u.append(u)
            dem_ptr.append(len(dem_r))
        self.dem_ptr = np.array(dem_ptr, dtype=np.int64)
        self.dem_r = np.array(dem_r or [0], dtype=np.int64)
        self.dem_u = np.array(dem_u or [0], dtype=np.int64)
        self.pred_ptr, self.pred_idx, self.pred_lag = _csr(n, [(p.succ, p.pred, p.lag) for p in problem.precedences])
        self.succ_ptr, self.succ_idx, self.succ_lag = _csr(n, [(p.pred, p.succ, p.lag) for p in problem.precedences])
        self.rank = np.zeros(n, dtype=np.int64)
        self.rank[list(problem.topological_order)] = np.arange(n)


def _csr(n: int, edges: list[tuple[int, int, int]]) -> tuple[_I, _I, _I]:
    edges.sort()
    ptr = np.zeros(n + 1, dtype=np.int64)
    for a, _, _ in edges:
        ptr[a + 1] += 1
    ptr = np.cumsum(ptr)
    idx = np.array([b for _, b, _ in edges] or [0], dtype=np.int64)
    lag = np.array([c for _, _, c in edges] or [0], dtype=np.int64)
    return ptr, idx, lag


class _Modes:
    """Every mode of every task as flat arrays, for a search whose individuals carry a mode per task: mode ``m`` of
    task ``j`` is row ``ptr[j] + m`` of ``dur`` (duration), of the renewable demands in CSR form (``dem_ptr``,
    ``dem_r``, ``dem_u``: columns of the renewable resources, as in ``_Arrays``) and of ``use`` (units of each
    non-renewable resource, whose capacities are ``cap``; one dummy budget of ample capacity when there is none).
    ``width`` bounds the demands of one mode vector: the scratch size of ``_set_modes``."""

    def __init__(self, problem: Problem) -> None:
        renewable = list(problem.renewable)
        col = {r: k for k, r in enumerate(renewable)}
        budgets = list(problem.non_renewable)
        bcol = {r: k for k, r in enumerate(budgets)}
        ptr = [0]
        dur: list[int] = []
        dem_ptr = [0]
        dem_r: list[int] = []
        dem_u: list[int] = []
        use: list[list[int]] = []
        width = 0
        for task in problem.tasks:
            most = 0
            for mode in task.modes:
                dur.append(mode.duration)
                row = [0] * max(1, len(budgets))
                count = 0
                for r, u in mode.demands:
                    if r in col and mode.duration > 0:
                        dem_r.append(col[r])
                        dem_u.append(u)
                        count += 1
                    elif r in bcol:
                        row[bcol[r]] += u
                dem_ptr.append(len(dem_r))
                use.append(row)
                most = max(most, count)
            width += most
            ptr.append(len(dur))
        self.ptr = np.array(ptr, dtype=np.int64)
        self.dur = np.array(dur, dtype=np.int64)
        self.dem_ptr = np.array(dem_ptr, dtype=np.int64)
        self.dem_r = np.array(dem_r or [0], dtype=np.int64)
        self.dem_u = np.array(dem_u or [0], dtype=np.int64)
        self.use = np.array(use, dtype=np.int64).reshape(len(dur), max(1, len(budgets)))
        self.cap = np.array([problem.resources[r].capacity for r in budgets] or [1 << 40], dtype=np.int64)
        self.width = max(1, width)
        self.multi = any(len(t.modes) > 1 for t in problem.tasks)


@_compiled
def _set_modes(modes: _I, ptr: _I, mdur: _I, mdem_ptr: _I, mdem_r: _I, mdem_u: _I, dur: _I, dem_ptr: _I,
               dem_r: _I, dem_u: _I) -> None:
    """The durations and renewable demands (CSR) of the tasks in ``modes``, written into ``dur`` and ``dem_*``."""
    pos = 0
    dem_ptr[0] = 0
    for j in range(modes.shape[0]):
        k = ptr[j] + modes[j]
        dur[j] = mdur[k]
        for q in range(mdem_ptr[k], mdem_ptr[k + 1]):
            dem_r[pos] = mdem_r[q]
            dem_u[pos] = mdem_u[q]
            pos += 1
        dem_ptr[j + 1] = pos


@_compiled
def _usage(modes: _I, ptr: _I, use: _I) -> _I:
    """Units of each non-renewable resource the tasks use in ``modes``."""
    total = np.zeros(use.shape[1], dtype=np.int64)
    for j in range(modes.shape[0]):
        total += use[ptr[j] + modes[j]]
    return total


@_compiled
def _excess(total: _I, cap: _I) -> int:
    """Units of non-renewable resources used beyond their capacities (0: every budget is kept)."""
    ex = 0
    for q in range(cap.shape[0]):
        if total[q] > cap[q]:
            ex += total[q] - cap[q]
    return ex


@_compiled
def _repair(modes: _I, ptr: _I, use: _I, cap: _I) -> int:
    """Change modes, task by task in random order (three passes at most), each to the mode that most lowers the
    excess over the budgets, until every budget is kept. The excess left (0 when repaired). Draws no random number
    when ``modes`` already keep every budget."""
    total = _usage(modes, ptr, use)
    ex = _excess(total, cap)
    n = modes.shape[0]
    for _ in range(3):
        if ex == 0:
            break
        for j in np.random.permutation(n):
            cur = ptr[j] + modes[j]
            best_m = modes[j]
            best_ex = ex
            for m in range(ptr[j + 1] - ptr[j]):
                k = ptr[j] + m
                e = 0
                for q in range(cap.shape[0]):
                    u = total[q] - use[cur, q] + use[k, q]
                    if u > cap[q]:
                        e += u - cap[q]
                if e < best_ex:
                    best_ex = e
                    best_m = m
            if best_m != modes[j]:
                total += use[ptr[j] + best_m] - use[cur]
                modes[j] = best_m
                ex = best_ex
            if ex == 0:
                break
    return ex


@_compiled
def _mutate_modes(modes: _I, ptr: _I, use: _I, cap: _I, rate: float) -> None:
    """Each task with more than one mode takes, with probability ``rate``, another mode at random, unless that would
    overspend a budget the modes kept (or raise the excess of modes that did not). Tasks with one mode draw no random
    number, so a single-mode search runs as it did before modes were searched."""
    total = _usage(modes, ptr, use)
    for j in range(modes.shape[0]):
        count = ptr[j + 1] - ptr[j]
        if count < 2 or rate <= 0.0 or np.random.random() >= rate:
            continue
        m = np.random.randint(0, count - 1)
        if m >= modes[j]:
            m += 1
        cur = ptr[j] + modes[j]
        new = ptr[j] + m
        ok = True
        for q in range(cap.shape[0]):
            after = total[q] - use[cur, q] + use[new, q]
            if after > cap[q] and after > total[q]:
                ok = False
                break
        if ok:
            total += use[new] - use[cur]
            modes[j] = m


@_compiled
def _clash(avail: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, j: int, lo: int, hi: int, step: int) -> int:
    """The first period of [lo, hi) — from ``lo`` up (``step`` 1) or from ``hi`` − 1 down (−1) — where task ``j``'s
    demands do not fit in ``avail``; −1 if they fit throughout."""
    first, stop = (lo, hi) if step > 0 else (hi - 1, lo - 1)
    for tau in range(first, stop, step):
        for k in range(dem_ptr[j], dem_ptr[j + 1]):
            if avail[dem_r[k], tau] < dem_u[k]:
                return tau
    return -1


@_compiled
def _take(avail: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, j: int, lo: int, hi: int) -> None:
    """Task ``j``'s demands taken from ``avail`` over [lo, hi)."""
    for tau in range(lo, hi):
        for k in range(dem_ptr[j], dem_ptr[j + 1]):
            avail[dem_r[k], tau] -= dem_u[k]


#: Bit masks of the exhausted-period maps (numba keeps unsigned arithmetic unsigned only with unsigned operands).
_ONE = np.uint64(1)
#: Count of trailing zero bits of a word (an LLVM intrinsic; typed Any for mypy, which sees its compile-time form).
_ctz: Any = _trailing_zeros
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@_compiled
def _exhausted(avail: _I) -> npt.NDArray[np.uint64]:
    """Per resource, a bit map of the periods before the horizon without capacity left (``avail`` ≤ 0), 64 periods
    a word, with a spare word at the end: no task can start in such a period, so the scheme skips runs of them."""
    horizon = avail.shape[1] - 1
    bits = np.zeros((avail.shape[0], (horizon + 1) // 64 + 2), dtype=np.uint64)
    for r in range(avail.shape[0]):
        for tau in range(horizon):
            if avail[r, tau] <= 0:
                bits[r, tau >> 6] |= _ONE << np.uint64(tau & 63)
    return bits


@_inlined
def _first_open(bits: npt.NDArray[np.uint64], r: int, t: int) -> int:
    """The first period at or after ``t`` not exhausted on resource ``r`` (the horizon is never exhausted)."""
    w = t >> 6
    x = ~bits[r, w] & (_ALL << np.uint64(t & 63))
    while x == 0:
        w += 1
        x = ~bits[r, w]
    return (w << 6) + int(_ctz(x))


@_inlined
def _first_exhausted(bits: npt.NDArray[np.uint64], r: int, lo: int, hi: int) -> int:
    """The first exhausted period of [lo, hi) on resource ``r``; −1 if none."""
    w = lo >> 6
    x = bits[r, w] & (_ALL << np.uint64(lo & 63))
    while True:
        if x != 0:
            tau = (w << 6) + int(_ctz(x))
            return tau if tau < hi else -1
        w += 1
        if w << 6 >= hi:
            return -1
        x = bits[r, w]


@_inlined
def _clash_in(avail: _I, bits: npt.NDArray[np.uint64], dem_ptr: _I, dem_r: _I, dem_u: _I, j: int, lo: int,
              hi: int) -> int:
    """The first period of [lo, hi) where task ``j``'s demands do not fit what is left in ``avail``; −1 if they fit.
    A demand of one unit finds it in the exhausted-period map ``bits`` a word at a time; a larger one scans."""
    clash = -1
    for k in range(dem_ptr[j], dem_ptr[j + 1]):
        r = dem_r[k]
        if dem_u[k] == 1:
            c = _first_exhausted(bits, r, lo, hi)
        else:
            c = -1
            for tau in range(lo, hi):
                if avail[r, tau] < dem_u[k]:
                    c = tau
                    break
        if c >= 0 and (clash < 0 or c < clash):
            clash = c
    return clash


@_inlined
def _use(avail: _I, bits: npt.NDArray[np.uint64], dem_ptr: _I, dem_r: _I, dem_u: _I, j: int, lo: int,
         hi: int) -> None:
    """Task ``j``'s demands taken from ``avail`` over [lo, hi), and the periods left without capacity marked in
    ``bits``."""
    for k in range(dem_ptr[j], dem_ptr[j + 1]):
        r = dem_r[k]
        u = dem_u[k]
        for tau in range(lo, hi):
            avail[r, tau] -= u
            if avail[r, tau] <= 0:
                bits[r, tau >> 6] |= _ONE << np.uint64(tau & 63)


@_compiled
def _serial(order: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I, pred_idx: _I,
            pred_lag: _I, starts: _I, avail: _I, bits: npt.NDArray[np.uint64]) -> int:
    """Serial SGS: each task of ``order`` at its earliest precedence- and resource-feasible start, on the capacity
    left in ``avail`` (periods × resources, the last period the horizon, at 0) with its exhausted-period map
    ``bits`` (see :func:`_exhausted`); both are used up. Makespan, or -1 when a task misses its latest end ``lend``
    or the horizon. A demand of one unit finds its first clash in the bit map a word at a time; a larger demand
    scans its periods."""
    horizon = avail.shape[1] - 1
    makespan = 0
    for j in order:
        t = rel[j]
        for k in range(pred_ptr[j], pred_ptr[j + 1]):
            p = pred_idx[k]
            t = max(t, starts[p] + dur[p] + pred_lag[k])
        d = dur[j]
        while d > 0:
            for k in range(dem_ptr[j], dem_ptr[j + 1]):
                t = _first_open(bits, dem_r[k], t)
            if t + d > lend[j] or t + d > horizon:
                return _FAIL
            clash = _clash_in(avail, bits, dem_ptr, dem_r, dem_u, j, t, t + d)
            if clash < 0:
                break
            t = clash + 1
        if t + d > lend[j] or t + d > horizon:
            return _FAIL
        starts[j] = t
        _use(avail, bits, dem_ptr, dem_r, dem_u, j, t, t + d)
        makespan = max(makespan, t + d)
    return makespan


@_compiled
def _forward(order: _I, a_cap: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I,
             pred_idx: _I, pred_lag: _I, starts: _I) -> int:
    """Serial SGS (:func:`_serial`) on a fresh copy of the capacity profile ``a_cap``. Makespan or -1."""
    avail = a_cap.copy()
    return _serial(order, dur, rel, lend, dem_ptr, dem_r, dem_u, pred_ptr, pred_idx, pred_lag, starts, avail,
                   _exhausted(avail))


@_compiled
def _backward(order: _I, limit: int, a_cap: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I,
              succ_ptr: _I, succ_idx: _I, succ_lag: _I, starts: _I) -> int:
    """Each task of ``order`` (successors first) at its latest feasible start ending by ``limit``. 0 or -1."""
    avail = a_cap.copy()
    for j in order:
        f = min(limit, lend[j])
        for k in range(succ_ptr[j], succ_ptr[j + 1]):
            f = min(f, starts[succ_idx[k]] - succ_lag[k])
        d = dur[j]
        t = f - d
        while True:
            if t < rel[j]:
                return _FAIL
            clash = _clash(avail, dem_ptr, dem_r, dem_u, j, t, t + d, -1)
            if clash < 0:
                break
            t = clash - d
        starts[j] = t
        _take(avail, dem_ptr, dem_r, dem_u, j, t, t + d)
    return 0


@_compiled
def _decode(order: _I, a_cap: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I,
            pred_idx: _I, pred_lag: _I, succ_ptr: _I, succ_idx: _I, succ_lag: _I, rank: _I, starts: _I,
            rounds: int) -> int:
    """Serial SGS, then up to ``rounds`` of forward–backward improvement; ``order`` becomes the plan's start order.
    Returns the makespan, or -1 when the order misses a deadline or the horizon."""
    n = order.shape[0]
    best = _forward(order, a_cap, dur, rel, lend, dem_ptr, dem_r, dem_u, pred_ptr, pred_idx, pred_lag, starts)
    if best < 0:
        return _FAIL
    back = np.empty(n, dtype=np.int64)
    fwd = np.empty(n, dtype=np.int64)
    key = np.empty(n, dtype=np.int64)
    for _ in range(rounds):
        for j in range(n):  # decreasing end; among equal ends, successors first
            key[j] = -((starts[j] + dur[j]) * (n + 1) + rank[j])
        rorder = np.argsort(key, kind="mergesort")
        if _backward(rorder, best, a_cap, dur, rel, lend, dem_ptr, dem_r, dem_u, succ_ptr, succ_idx, succ_lag,
                     back) < 0:
            break
        for j in range(n):  # increasing start; among equal starts, predecessors first
            key[j] = back[j] * (n + 1) + rank[j]
        forder = np.argsort(key, kind="mergesort")
        m = _forward(forder, a_cap, dur, rel, lend, dem_ptr, dem_r, dem_u, pred_ptr, pred_idx, pred_lag, fwd)
        if m < 0 or m >= best:
            if m == best:
                starts[:] = fwd
            break
        best = m
        starts[:] = fwd
    for j in range(n):
        key[j] = starts[j] * (n + 1) + rank[j]
    order[:] = np.argsort(key, kind="mergesort")
    return best


@_compiled
def _seed(seed: int) -> None:
    np.random.seed(seed)


@_compiled
def _crossover(mother: _I, father: _I, mmodes: _I, fmodes: _I, q1: int, q2: int, child: _I, cmodes: _I) -> None:
    """Two-point crossover of activity lists: mother's first q1, father's next q2 − q1 unused, mother's rest; each
    task keeps the mode it has in the parent it was taken from (S. Hartmann, Annals of Operations Research 102:111–135,
    2001, for multi-mode lists)."""
    n = mother.shape[0]
    used = np.zeros(n, dtype=np.bool_)
    pos = 0
    for i in range(q1):
        child[pos] = mother[i]
        cmodes[mother[i]] = mmodes[mother[i]]
        used[mother[i]] = True
        pos += 1
    for i in range(n):
        if pos >= q2:
            break
        if not used[father[i]]:
            child[pos] = father[i]
            cmodes[father[i]] = fmodes[father[i]]
            used[father[i]] = True
            pos += 1
    for i in range(n):
        if not used[mother[i]]:
            child[pos] = mother[i]
            cmodes[mother[i]] = mmodes[mother[i]]
            used[mother[i]] = True
            pos += 1


@_compiled
def _mutate(order: _I, pred_ptr: _I, pred_idx: _I, rate: float) -> None:
    """Swap neighbours with probability ``rate`` each, when neither precedes the other directly."""
    n = order.shape[0]
    for i in range(n - 1):
        if np.random.random() < rate:
            a = order[i]
            b = order[i + 1]
            linked = False
            for k in range(pred_ptr[b], pred_ptr[b + 1]):
                if pred_idx[k] == a:
                    linked = True
                    break
            if not linked:
                order[i] = b
                order[i + 1] = a


@_compiled
def _evaluate(order: _I, modes: _I, ptr: _I, mdur: _I, mdem_ptr: _I, mdem_r: _I, mdem_u: _I, use: _I, bcap: _I,
              a_cap: _I, rel: _I, lend: _I, pred_ptr: _I, pred_idx: _I, pred_lag: _I, succ_ptr: _I, succ_idx: _I,
              succ_lag: _I, rank: _I, starts: _I, dur: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, rounds: int) -> int:
    """The fitness of an individual (activity list ``order``, a mode per task ``modes``): ``_OVER`` plus the excess
    when its modes overspend a budget (not decoded), ``_MISSED`` when its plan misses a deadline, else the makespan of
    its decoded plan (``_decode``: ``order`` becomes the plan's start order, ``starts`` its starts)."""
    ex = _excess(_usage(modes, ptr, use), bcap)
    if ex > 0:
        return _OVER + ex
    _set_modes(modes, ptr, mdur, mdem_ptr, mdem_r, mdem_u, dur, dem_ptr, dem_r, dem_u)
    made = _decode(order, a_cap, dur, rel, lend, dem_ptr, dem_r, dem_u, pred_ptr, pred_idx, pred_lag, succ_ptr,
                   succ_idx, succ_lag, rank, starts, rounds)
    return _MISSED if made < 0 else made


@_compiled
def _generation(pop: _I, pmodes: _I, fit: _I, ptr: _I, mdur: _I, mdem_ptr: _I, mdem_r: _I, mdem_u: _I, use: _I,
                bcap: _I, width: int, a_cap: _I, rel: _I, lend: _I, pred_ptr: _I, pred_idx: _I, pred_lag: _I,
                succ_ptr: _I, succ_idx: _I, succ_lag: _I, rank: _I, rate: float, mode_rate: float) -> None:
    """One generation on population ``pop`` (rows: activity lists) with modes ``pmodes`` (rows: a mode per task) and
    fitness ``fit`` (sorted, best first): parents and children compete, duplicates (same fitness, list and modes) are
    dropped. A child's modes are mutated (``mode_rate``) and repaired towards the budgets (``_repair``)."""
    size, n = pop.shape
    starts = np.empty(n, dtype=np.int64)
    dur = np.empty(n, dtype=np.int64)
    dem_ptr = np.empty(n + 1, dtype=np.int64)
    dem_r = np.empty(width, dtype=np.int64)
    dem_u = np.empty(width, dtype=np.int64)
    kids = np.empty((size, n), dtype=np.int64)
    kmodes = np.empty((size, n), dtype=np.int64)
    kfit = np.empty(size, dtype=np.int64)
    perm = np.random.permutation(size)
    for h in range(size // 2):
        a = perm[2 * h]
        b = perm[2 * h + 1]
        q1 = np.random.randint(0, n + 1)
        q2 = np.random.randint(0, n + 1)
        if q1 > q2:
            q1, q2 = q2, q1
        _crossover(pop[a], pop[b], pmodes[a], pmodes[b], q1, q2, kids[2 * h], kmodes[2 * h])
        _crossover(pop[b], pop[a], pmodes[b], pmodes[a], q1, q2, kids[2 * h + 1], kmodes[2 * h + 1])
        for c in range(2 * h, 2 * h + 2):
            _mutate(kids[c], pred_ptr, pred_idx, rate)
            _mutate_modes(kmodes[c], ptr, use, bcap, mode_rate)
            _repair(kmodes[c], ptr, use, bcap)
            kfit[c] = _evaluate(kids[c], kmodes[c], ptr, mdur, mdem_ptr, mdem_r, mdem_u, use, bcap, a_cap, rel, lend,
                                pred_ptr, pred_idx, pred_lag, succ_ptr, succ_idx, succ_lag, rank, starts, dur,
                                dem_ptr, dem_r, dem_u, _ROUNDS)
    allfit = np.concatenate((fit, kfit))
    allpop = np.vstack((pop, kids))
    allmodes = np.vstack((pmodes, kmodes))
    k = 0
    for i in np.argsort(allfit, kind="mergesort"):
        if k >= size:
            break
        dup = False
        for q in range(k):
            if fit[q] == allfit[i] and np.array_equal(pop[q], allpop[i]) and np.array_equal(pmodes[q], allmodes[i]):
                dup = True
                break
        if not dup:
            pop[k] = allpop[i]
            pmodes[k] = allmodes[i]
            fit[k] = allfit[i]
            k += 1
    while k < size:  # too few distinct lists: copies of the best fill the population
        pop[k] = pop[0]
        pmodes[k] = pmodes[0]
        fit[k] = fit[0]
        k += 1


def _longest(task: Task) -> int:
    """The index of ``task``'s longest mode."""
    return max(range(len(task.modes)), key=lambda m: task.modes[m].duration)


#: Share of a multi-mode search's first population whose modes are drawn afresh (the others: the start's modes).
_FRESH_MODES = 0.5


def evolve(problem: Problem, start: Schedule, *, time_limit_s: float, seed: int = 0, population: int = 200,
           generations: int | None = None, stall: int = 60, mutation: float = 0.05, vary_modes: bool = True,
           target: int = 0) -> Schedule:
    """The shortest plan found within ``time_limit_s`` (or ``generations`` in all); ``start`` itself unless a shorter
    plan turns up. A population that has not improved for ``stall`` generations is replaced by a new random one (the
    best plan found so far is kept aside). The search stops as soon as it finds a plan of makespan ``target`` or
    less (a proven lower bound: nothing shorter exists, so the rest of the time is better spent proving it).

    With ``vary_modes`` (and tasks with more than one mode) each individual also carries a mode per task: the first
    population has ``start``'s modes, half of it with every mode redrawn at random where the budgets allow; children
    take each task's mode from the parent the task came from, a task's mode changes with probability ``mutation``
    where the budgets allow, and modes that overspend a budget are repaired towards it (``_repair``); an individual
    still over budget ranks behind every one within it and is never returned. Without, ``start``'s modes are kept."""
    if not applies(problem):
        raise PlanError("the genetic search needs a makespan problem without move cost and with non-negative lags")
    _ready()  # compiling (or loading the compiled code) is not search time
    t0 = time.perf_counter()
    n = len(problem.tasks)
    tables = _Modes(problem)
    vary = vary_modes and tables.multi
    longest = tuple(_longest(t) if vary else start.modes[j] for j, t in enumerate(problem.tasks))
    arr = _Arrays(problem, longest)  # the capacity profile over a horizon every mode vector fits in
    modes_args = (tables.ptr, tables.dur, tables.dem_ptr, tables.dem_r, tables.dem_u, tables.use, tables.cap)
    base = (arr.cap, arr.rel, arr.lend, arr.pred_ptr, arr.pred_idx, arr.pred_lag, arr.succ_ptr, arr.succ_idx,
            arr.succ_lag, arr.rank)
    starts = np.empty(n, dtype=np.int64)
    scratch = (starts, np.empty(n, dtype=np.int64), np.empty(n + 1, dtype=np.int64),
               np.empty(tables.width, dtype=np.int64), np.empty(tables.width, dtype=np.int64))
    first_modes = np.asarray(start.modes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    _seed(seed)
    size = max(2, population + population % 2)
    best_fit, best, best_modes = _MISSED, np.empty(0, dtype=np.int64), first_modes
    done = 0

    def more() -> bool:
        return (generations is None or done < generations) and time.perf_counter() - t0 < time_limit_s \
            and best_fit > target

    while more():
        pop = np.empty((size, n), dtype=np.int64)
        pmodes = np.empty((size, n), dtype=np.int64)
        fit = np.empty(size, dtype=np.int64)
        made = 0
        while made < size and (made < 2 or more()):  # on a large problem time may run out first
            order = _topological(problem, rng.uniform(0.0, 1.0, n))
            modes = first_modes.copy()
            if vary and made % 2 == 1 and made < 2 * _FRESH_MODES * size:
                _mutate_modes(modes, tables.ptr, tables.use, tables.cap, 1.0)
            fit[made] = _evaluate(order, modes, *modes_args, *base, *scratch, _ROUNDS)
            pop[made] = order
            pmodes[made] = modes
            made += 1
        made -= made % 2
        pop, pmodes, fit = pop[:made], pmodes[:made], fit[:made]
        idx = np.argsort(fit, kind="stable")
        pop, pmodes, fit = pop[idx].copy(), pmodes[idx].copy(), fit[idx].copy()
        since = 0
        while since < stall and fit[0] > target and more():
            before = fit[0]
            _generation(pop, pmodes, fit, *modes_args, tables.width, *base, mutation, mutation if vary else 0.0)
            done += 1
            since = 0 if fit[0] < before else since + 1
        if fit[0] < best_fit:
            best_fit, best, best_modes = int(fit[0]), pop[0].copy(), pmodes[0].copy()
    if best_fit >= _OVER:
        return start
    # the best list holds its plan's start order: this plan or a shorter one
    _evaluate(best, best_modes, *modes_args, *base, *scratch, _ROUNDS)
    result = Schedule(tuple(int(x) for x in starts), tuple(int(m) for m in best_modes))
    if max(result.ends(problem), default=0) >= max(start.ends(problem), default=0):
        return start
    return result


def decode(problem: Problem, order: list[int], modes: tuple[int, ...], *, improve: bool = True) -> Schedule | None:
    """The plan the search makes of the activity list ``order`` (every predecessor before its successors) in
    ``modes``: the serial scheme, then (``improve``) forward–backward improvement. None if a deadline is missed."""
    arr = _Arrays(problem, modes)
    starts = np.empty(len(problem.tasks), dtype=np.int64)
    made = _decode(np.asarray(order, dtype=np.int64), arr.cap, arr.dur, arr.rel, arr.lend, arr.dem_ptr, arr.dem_r,
                   arr.dem_u, arr.pred_ptr, arr.pred_idx, arr.pred_lag, arr.succ_ptr, arr.succ_idx, arr.succ_lag,
                   arr.rank, starts, _ROUNDS if improve else 0)
    return None if made < 0 else Schedule(tuple(int(x) for x in starts), modes)


_LOADED: list[bool] = []


def _ready() -> None:
    """Compile, or load from Numba's cache (about 0.3 s), once per process."""
    if not _LOADED:
        _LOADED.append(True)
        warm_up()


def warm_up() -> None:
    """Compile the search and the serial scheme with modes (Numba caches the machine code beside this module;
    ``make install`` calls this), so that the first plan does not spend its time limit compiling."""
    task = Task("t", (Mode(1, ((0, 1),)),))
    problem = Problem((Resource("r", 1),), (task, task), (), 4, objective=Objective.MAKESPAN)
    evolve(problem, Schedule((0, 1), (0, 0)), time_limit_s=60.0, population=2, generations=1)
    simulate(problem, (0, 0), np.array([0, 1]), np.ones((1, 2), dtype=np.int64), horizon=4)
    _ready_serial()


@njit(cache=True, parallel=True)
def _runs(order: _I, a_cap: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I,
          pred_idx: _I, pred_lag: _I, starts: _I, span: _I, on_path: npt.NDArray[np.bool_]) -> None:
    """The serial scheme over ``order`` once per row of ``dur`` (runs × tasks), in parallel: run ``i`` writes its
    starts in ``starts[i]``, its makespan in ``span[i]`` (−1 past the horizon) and marks in ``on_path[i]`` the tasks
    of the chain that decides its makespan."""
    runs = dur.shape[0]
    width = a_cap.shape[1]
    for i in prange(runs):
        span[i] = _forward(order, a_cap, dur[i], rel, lend, dem_ptr, dem_r, dem_u, pred_ptr, pred_idx, pred_lag,
                           starts[i])
        if span[i] >= 0:
            _trace(starts[i], dur[i], rel, dem_ptr, dem_r, pred_ptr, pred_idx, pred_lag, width, on_path[i])


@_compiled
def _trace(starts: _I, dur: _I, rel: _I, dem_ptr: _I, dem_r: _I, pred_ptr: _I, pred_idx: _I, pred_lag: _I,
           width: int, on_path: npt.NDArray[np.bool_]) -> None:
    """Mark the chain that decides the makespan: from the last task to end, back through the predecessor whose end
    (plus lag) set its start, else through a task on a shared resource that ended when it started (or, across a
    stand-down, the last such task to end before it started)."""
    n = starts.shape[0]
    head = np.full(width + 1, -1, dtype=np.int64)  # tasks bucketed by end
    nxt = np.full(n, -1, dtype=np.int64)
    j = 0
    for k in range(n):
        e = starts[k] + dur[k]
        if dur[k] > 0 and dem_ptr[k + 1] > dem_ptr[k]:
            nxt[k] = head[e]
            head[e] = k
        if e > starts[j] + dur[j]:
            j = k
    while True:
        on_path[j] = True
        s = starts[j]
        if s <= rel[j]:
            return
        found = -1
        for q in range(pred_ptr[j], pred_ptr[j + 1]):
            p = pred_idx[q]
            if starts[p] + dur[p] + pred_lag[q] == s:
                found = p
                break
        t = s
        while found < 0 and t > rel[j]:
            k = head[t]
            while k >= 0 and found < 0:
                for a in range(dem_ptr[j], dem_ptr[j + 1]):
                    for b in range(dem_ptr[k], dem_ptr[k + 1]):
                        if dem_r[a] == dem_r[b] and k != j:
                            found = k
                k = nxt[k]
            t -= 1
        if found < 0 or on_path[found]:
            return
        j = found


@dataclass(frozen=True)
class Runs:
    """Schedules of one plan's start order under sampled durations (see :func:`simulate`)."""

    #: Start period of every task in every run (runs × tasks); rows of runs past the horizon are not meaningful.
    starts: npt.NDArray[np.int64]
    #: Makespan of every run, −1 where the run would end past the horizon.
    makespan: npt.NDArray[np.int64]
    #: Tasks on the chain that decides each run's makespan (runs × tasks).
    on_path: npt.NDArray[np.bool_]


def simulate(problem: Problem, modes: tuple[int, ...], order: npt.NDArray[np.int64], durations: npt.NDArray[np.int64],
             *, horizon: int, earliest: npt.NDArray[np.int64] | None = None) -> Runs:
    """The plans the serial scheme makes of the activity list ``order`` (every predecessor first) in ``modes``, once
    per row of ``durations`` (runs × tasks: each task's duration in its mode in that run), on ``problem``'s capacity
    profile over ``horizon`` periods (full capacity past the problem's horizon). ``earliest`` raises tasks' release
    dates. No improvement step: this is the plan used as a policy, as a forecast needs it. Deadlines are not kept."""
    _ready()
    runs, n = durations.shape
    arr = _Arrays(problem, modes, horizon=horizon)
    rel = arr.rel if earliest is None else np.maximum(arr.rel, earliest).astype(np.int64)
    lend = np.full(n, horizon, dtype=np.int64)
    starts = np.zeros((runs, n), dtype=np.int64)
    span = np.zeros(runs, dtype=np.int64)
    on_path = np.zeros((runs, n), dtype=np.bool_)
    _runs(np.ascontiguousarray(order, dtype=np.int64), arr.cap, np.ascontiguousarray(durations, dtype=np.int64),
          rel, lend, arr.dem_ptr, arr.dem_r, arr.dem_u, arr.pred_ptr, arr.pred_idx, arr.pred_lag, starts, span,
          on_path)
    return Runs(starts, span, on_path)


@dataclass(frozen=True, eq=False)
class SchemeArrays:
    """A problem with modes fixed as the flat arrays the compiled serial scheme takes (see :func:`scheme_arrays`):
    ``cap`` (resources × periods, the last period the horizon, at 0), ``rel`` (release dates), demands in CSR form
    (``dem_ptr``, ``dem_r``, ``dem_u``) and predecessors in CSR form (``pred_ptr``, ``pred_idx``, ``pred_lag``)."""

    cap: npt.NDArray[np.int64]
    rel: npt.NDArray[np.int64]
    dem_ptr: npt.NDArray[np.int64]
    dem_r: npt.NDArray[np.int64]
    dem_u: npt.NDArray[np.int64]
    pred_ptr: npt.NDArray[np.int64]
    pred_idx: npt.NDArray[np.int64]
    pred_lag: npt.NDArray[np.int64]


def scheme_arrays(problem: Problem, modes: tuple[int, ...], *, horizon: int) -> SchemeArrays:
    """``problem`` in ``modes`` over ``horizon`` periods (full capacity past the problem's own horizon), for a
    compiled loop over many worlds that calls :data:`serial_scheme` itself (as ``sapper.forecast`` does)."""
    arr = _Arrays(problem, modes, horizon=horizon)
    return SchemeArrays(arr.cap, arr.rel, arr.dem_ptr, arr.dem_r, arr.dem_u, arr.pred_ptr, arr.pred_idx,
                        arr.pred_lag)


#: The compiled serial scheme on preallocated scratch (``_serial``), the exhausted-period map it needs
#: (``_exhausted``) and the chain trace (``_trace``), for compiled callers that run many worlds in one call; and the
#: scheme's own steps (inlined where they are called), for a compiled scheme built on them: the first open and the
#: first exhausted period of a resource in the map, the first period where a task's demands clash, and taking them.
serial_scheme = _serial
exhausted_periods = _exhausted
trace_chain = _trace
first_open = _first_open
first_exhausted = _first_exhausted
clash_in = _clash_in
use_capacity = _use


def activity_list(problem: Problem, key: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The tasks by increasing ``key`` (e.g. a plan's start periods), moved where needed so that every predecessor
    comes first: an order the serial scheme can decode."""
    return _topological(problem, key)


def _topological(problem: Problem, key: np.ndarray) -> np.ndarray:
    """The tasks by increasing ``key``, moved where needed so that every predecessor comes first."""
    n = len(problem.tasks)
    indeg = [len(problem.predecessors[j]) for j in range(n)]
    ready = [(float(key[j]), j) for j in range(n) if indeg[j] == 0]
    heapq.heapify(ready)
    out = np.empty(n, dtype=np.int64)
    k = 0
    while ready:
        _, j = heapq.heappop(ready)
        out[k] = j
        k += 1
        for s, _ in problem.successors[j]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(ready, (float(key[s]), s))
    return out


# --- The serial scheme with its choice of modes, compiled (``greedy.serial_sgs`` on region-sized problems) ---------


class _ModeArrays:
    """``problem``'s tasks, modes, demands and successors as flat arrays for ``_serial_modes``, with each pool's
    own-role work (``greedy._OwnWork``): built once per problem (``serial_modes``) and reused by every decoding."""

    def __init__(self, problem: Problem) -> None:
        n = len(problem.tasks)
        horizon = problem.horizon
        self.free = np.zeros((len(problem.resources), horizon), dtype=np.int64)
        for r in problem.renewable:
            self.free[r] = np.asarray(problem.capacity_profile(r), dtype=np.int64)
        self.renewable = np.zeros(len(problem.resources), dtype=np.bool_)
        self.renewable[list(problem.renewable)] = True
        tptr, mdur, msetup, dptr, dres, dunits = [0], [], [], [0], [], []
        for task in problem.tasks:
            for mode in task.modes:
                mdur.append(mode.duration)
                msetup.append(mode.setup)
                for r, u in mode.demands:
                    dres.append(r)
                    dunits.append(u)
                dptr.append(len(dres))
            tptr.append(len(mdur))
        self.tptr = np.asarray(tptr, dtype=np.int64)
        self.mdur = np.asarray(mdur, dtype=np.int64)
        self.msetup = np.asarray(msetup, dtype=np.int64)
        #: Per mode with set-up, the index of its (pool, role) in ``roles`` (0 for the others: never weighed).
        self.roles: dict[tuple[int, str], int] = {}
        role = [self.roles.setdefault(role_of(mode), len(self.roles)) if mode.setup else 0
                for task in problem.tasks for mode in task.modes]
        self.mrole = np.asarray(role, dtype=np.int64)
        self.dptr = np.asarray(dptr, dtype=np.int64)
        self.dres = np.asarray(dres, dtype=np.int64)
        self.dunits = np.asarray(dunits, dtype=np.int64)
        self.release = np.asarray([t.release for t in problem.tasks], dtype=np.int64)
        self.deadline = np.asarray([-1 if t.deadline is None else t.deadline for t in problem.tasks], dtype=np.int64)
        self.succ_ptr, self.succ_idx, self.succ_lag = _csr(n, [(p.pred, p.succ, p.lag) for p in problem.precedences])
        self.npred = np.bincount(np.asarray([p.succ for p in problem.precedences], dtype=np.int64),
                                 minlength=n).astype(np.int64)
        of_task, total = own_role_work(problem)
        optr, ores, owork = [0], [], []
        for mine in of_task:
            for r, w in mine:
                ores.append(r)
                owork.append(w)
            optr.append(len(ores))
        self.own_ptr = np.asarray(optr, dtype=np.int64)
        self.own_res = np.asarray(ores, dtype=np.int64)
        self.own_work = np.asarray(owork, dtype=np.float64)
        self.own_total = np.asarray(total, dtype=np.float64)


@_inlined
def _heap_less(key: npt.NDArray[np.float64], idx: _I, a: int, b: int) -> bool:
    """Whether heap entry ``a`` comes before ``b``: the smaller key, ties to the lower task."""
    return bool(key[a] < key[b] or (key[a] == key[b] and idx[a] < idx[b]))


@_compiled
def _heap_push(key: npt.NDArray[np.float64], idx: _I, size: int, k: float, j: int) -> int:
    """Push (``k``, ``j``) on the binary heap of ``size`` entries (smallest key first, ties: lower ``j``)."""
    i = size
    key[i] = k
    idx[i] = j
    while i > 0:
        parent = (i - 1) >> 1
        if not _heap_less(key, idx, i, parent):
            break
        key[i], key[parent] = key[parent], key[i]
        idx[i], idx[parent] = idx[parent], idx[i]
        i = parent
    return size + 1


@_compiled
def _heap_pop(key: npt.NDArray[np.float64], idx: _I, size: int) -> int:
    """Remove the smallest entry (the caller has read ``idx[0]``); the new size."""
    size -= 1
    key[0] = key[size]
    idx[0] = idx[size]
    i = 0
    while True:
        a = 2 * i + 1
        if a >= size:
            break
        c = a
        if a + 1 < size and _heap_less(key, idx, a + 1, a):
            c = a + 1
        if not _heap_less(key, idx, c, i):
            break
        key[i], key[c] = key[c], key[i]
        idx[i], idx[c] = idx[c], idx[i]
        i = c
    return size


@_compiled
def _fit_modes(free: _I, dptr: _I, dres: _I, dunits: _I, renewable: npt.NDArray[np.bool_], m: int, duration: int,
               lo: int, latest: int) -> int:
    """The earliest start in [``lo``, ``latest``] where every renewable demand of mode ``m`` fits for ``duration``
    (> 0) periods, or −1 (``greedy._fit_from``): on a clash the window jumps past the latest period that clashes."""
    t = lo
    while t <= latest:
        clash = -1
        for q in range(dptr[m], dptr[m + 1]):
            r = dres[q]
            if not renewable[r]:
                continue
            u = dunits[q]
            for s in range(t + duration - 1, max(clash, t - 1), -1):
                if free[r, s] < u:
                    clash = s
                    break
        if clash < 0:
            return t
        t = clash + 1
    return -1


@njit(cache=True, nogil=True)  # the unit-level search runs it in threads side by side (``alns._unit_search``)
def _serial_modes(priority: npt.NDArray[np.float64], fixed: _I, setup_weight: float, fades: bool,
                  role_weight: npt.NDArray[np.float64], mrole: _I, free: _I,
                  renewable: npt.NDArray[np.bool_], tptr: _I, mdur: _I, msetup: _I, dptr: _I, dres: _I, dunits: _I,
                  release: _I, deadline: _I, succ_ptr: _I, succ_idx: _I, succ_lag: _I, npred: _I, own_ptr: _I,
                  own_res: _I, own_work: npt.NDArray[np.float64], own_total: npt.NDArray[np.float64], starts: _I,
                  chosen: _I) -> int:
    """``greedy.serial_sgs`` without budgets, compiled: the same plan (same ties, same mode choice, same fade of the
    set-up weight, the same factor ``role_weight[mrole[m]]`` on it per pool and role) into ``starts`` and
    ``chosen``. ``free`` (resources × periods) is used up in place; ``fixed[0]`` < 0 lets the scheme choose the
    modes. Returns −1 when every task is placed, the index of a task that cannot be, or −2 when precedences leave
    tasks unplaced (a cycle)."""
    n = priority.size
    horizon = free.shape[1]
    nres = free.shape[0]
    first = np.full(nres, horizon, dtype=np.int64)
    for r in range(nres):
        if renewable[r]:
            for s in range(horizon):
                if free[r, s] > 0:
                    first[r] = s
                    break
    waiting = npred.copy()
    est = release.copy()
    left = own_total.copy()
    key = np.empty(n, dtype=np.float64)
    idx = np.empty(n, dtype=np.int64)
    size = 0
    for j in range(n):
        if waiting[j] == 0:
            size = _heap_push(key, idx, size, -priority[j], j)
    choose = fixed[0] < 0
    placed = 0
    while size > 0:
        j = idx[0]
        size = _heap_pop(key, idx, size)
        found = False
        best_end = 0.0
        best_m = -1
        best_t = 0
        for m in range(tptr[j], tptr[j + 1]):
            if not choose and m - tptr[j] != fixed[j]:
                continue
            d = mdur[m]
            extra = setup_weight * msetup[m]
            if msetup[m] != 0:
                extra *= role_weight[mrole[m]]
            if fades and msetup[m] != 0:
                share = 1.0
                for q in range(dptr[m], dptr[m + 1]):
                    r = dres[q]
                    v = left[r] / own_total[r] if own_total[r] > 0 else 0.0
                    share = min(share, v)
                extra *= share
            latest = horizon - d
            if found:
                latest = min(latest, math.ceil(best_end - d - extra) - 1)
            if deadline[j] >= 0:
                latest = min(latest, deadline[j] - d)
            if est[j] > latest:
                continue
            if d == 0:
                t = est[j]
            else:
                lo = est[j]
                for q in range(dptr[m], dptr[m + 1]):
                    if renewable[dres[q]]:
                        lo = max(lo, first[dres[q]])
                t = _fit_modes(free, dptr, dres, dunits, renewable, m, d, lo, latest)
            if t < 0 or t > latest:
                continue
            end = t + d + extra
            if not found or end < best_end:
                found = True
                best_end, best_m, best_t = end, m, t
        if not found:
            return int(j)
        t = best_t
        end_i = t + mdur[best_m]
        starts[j] = t
        chosen[j] = best_m - tptr[j]
        if fades:
            for q in range(own_ptr[j], own_ptr[j + 1]):
                left[own_res[q]] -= own_work[q]
        for q in range(dptr[best_m], dptr[best_m + 1]):
            r = dres[q]
            if renewable[r]:
                for s in range(t, end_i):
                    free[r, s] -= dunits[q]
                if t <= first[r] < end_i:  # the first period with a free unit moved on
                    s = first[r]
                    while s < horizon and free[r, s] <= 0:
                        s += 1
                    first[r] = s
        placed += 1
        for q in range(succ_ptr[j], succ_ptr[j + 1]):
            k = succ_idx[q]
            est[k] = max(est[k], end_i + succ_lag[q])
            waiting[k] -= 1
            if waiting[k] == 0:
                size = _heap_push(key, idx, size, -priority[k], k)
    return -1 if placed == n else -2


_MODE_ARRAYS: dict[int, tuple[weakref.ref[Problem], _ModeArrays]] = {}
_MODE_ARRAYS_LOCK = threading.Lock()


def serial_modes(problem: Problem, priority: npt.ArrayLike, modes: npt.ArrayLike | None, *, setup_weight: float,
                 fades: bool, role_weights: Mapping[tuple[int, str], float] | None = None) -> tuple[_I, _I, int]:
    """Starts, modes and −1 (or a task that cannot be placed, −2 for a cycle) of the serial scheme of
    ``greedy.serial_sgs`` on a problem without budgets, compiled; ``fades``: the set-up weight on a pool falls with
    its own-role work still to place (``greedy._OwnWork``); ``role_weights``: a factor on it per (pool, role) of a
    mode with set-up (``greedy.role_of``; 1 where not given). The problem's arrays are kept while the problem lives,
    so the priority search's decodings of one problem build them once."""
    _ready_serial()
    with _MODE_ARRAYS_LOCK:  # regions may be solved side by side in threads (a Dask worker's)
        held = _MODE_ARRAYS.get(id(problem))
        if held is None or held[0]() is not problem:
            for key in [k for k, (ref, _) in _MODE_ARRAYS.items() if ref() is None]:
                del _MODE_ARRAYS[key]
            held = (weakref.ref(problem), _ModeArrays(problem))
            _MODE_ARRAYS[id(problem)] = held
    arr = held[1]
    n = len(problem.tasks)
    starts = np.zeros(n, dtype=np.int64)
    chosen = np.zeros(n, dtype=np.int64)
    fixed = np.full(1, -1, dtype=np.int64) if modes is None else np.asarray(modes, dtype=np.int64)
    if fixed.size == 0:  # no task at all
        fixed = np.full(1, -1, dtype=np.int64)
    factors = np.ones(max(1, len(arr.roles)))
    for role, k in arr.roles.items():
        factors[k] = float((role_weights or {}).get(role, 1.0))
    failed = _serial_modes(np.asarray(priority, dtype=np.float64), fixed, float(setup_weight), fades, factors,
                           arr.mrole, arr.free.copy(), arr.renewable, arr.tptr, arr.mdur, arr.msetup, arr.dptr,
                           arr.dres, arr.dunits, arr.release, arr.deadline, arr.succ_ptr, arr.succ_idx, arr.succ_lag,
                           arr.npred, arr.own_ptr, arr.own_res, arr.own_work, arr.own_total, starts, chosen)
    return starts, chosen, int(failed)


_SERIAL_LOADED: list[bool] = []


def _ready_serial() -> None:
    """Compile ``_serial_modes``, or load it from Numba's cache, once per process (before any problem's arrays)."""
    if not _SERIAL_LOADED:
        _SERIAL_LOADED.append(True)
        one = np.zeros(1, dtype=np.int64)
        _serial_modes(np.zeros(1), np.full(1, -1, dtype=np.int64), 1.0, True, np.ones(1), one.copy(),
                      np.ones((1, 2), dtype=np.int64), np.ones(1, dtype=np.bool_), np.array([0, 1]), np.array([1]),
                      np.array([0]), np.array([0, 1]), np.array([0]), np.array([1]), one.copy(), np.array([-1]),
                      np.array([0, 0]), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), one.copy(),
                      np.array([0, 1]), np.array([0]), np.array([1.0]), np.array([1.0]), one.copy(), one.copy())


# --- The unit-by-unit decoding, compiled (``unitlist.unit_list_schedule`` without gap filling) --------------------


#: An end no unit can reach (``unitlist._NEVER``).
_NEVER = 1 << 40


class _UnitArrays:
    """``problem`` with its modes without set-up (``setups.with_continuing_modes``) and ``units`` as flat arrays for
    ``_units_decode``: per mode its duration, set-up, role code (0: no role), the mode a unit continuing its role
    takes, its demands on renewable pools; per unit its pool, own role and the roles it can take (a table unit ×
    role); per pool the first closed period ≥ t and the first open one (``unitlist._Pool``)."""

    def __init__(self, problem: Problem, units: Units) -> None:
        from sapper.plan.setups import with_continuing_modes

        exact, cont = with_continuing_modes(problem)
        self.exact = exact
        n = len(problem.tasks)
        h = problem.horizon
        self.horizon = h
        codes: dict[str, int] = {"": 0}
        tptr, norig, mdur, msetup, mrole, mcont, dptr, dres, dunits = [0], [], [], [], [], [], [0], [], []
        most = []
        for j, task in enumerate(exact.tasks):
            norig.append(len(problem.tasks[j].modes))
            top = 0
            for m, mode in enumerate(task.modes):
                mdur.append(mode.duration)
                msetup.append(mode.setup)
                mrole.append(codes.setdefault(mode.name, len(codes)))
                mcont.append(cont.get((j, m), m))
                k = 0
                for r, u in mode.demands:
                    if problem.resources[r].renewable:
                        dres.append(r)
                        dunits.append(u)
                        k += u
                dptr.append(len(dres))
                if m < len(problem.tasks[j].modes):
                    top = max(top, k)
            tptr.append(len(mdur))
            most.append(top)
        self.tptr = np.asarray(tptr, dtype=np.int64)
        self.norig = np.asarray(norig, dtype=np.int64)
        self.mdur = np.asarray(mdur, dtype=np.int64)
        self.msetup = np.asarray(msetup, dtype=np.int64)
        self.mrole = np.asarray(mrole, dtype=np.int64)
        self.mcont = np.asarray(mcont, dtype=np.int64)
        self.dptr = np.asarray(dptr, dtype=np.int64)
        self.dres = np.asarray(dres or [0], dtype=np.int64)
        self.dunits = np.asarray(dunits or [0], dtype=np.int64)
        #: Per task, where its units go in ``aunits`` (the most units any of its modes takes).
        self.aptr = np.concatenate(([0], np.cumsum(most))).astype(np.int64)
        self.release = np.asarray([t.release for t in problem.tasks], dtype=np.int64)
        self.deadline = np.asarray([-1 if t.deadline is None else t.deadline for t in problem.tasks], dtype=np.int64)
        self.weight = np.asarray([t.weight for t in problem.tasks], dtype=np.int64)
        self.pred_ptr, self.pred_idx, self.pred_lag = _csr(n, [(p.succ, p.pred, p.lag) for p in problem.precedences])
        self.succ_ptr, self.succ_idx, _ = _csr(n, [(p.pred, p.succ, p.lag) for p in problem.precedences])
        self.npred = np.bincount(np.asarray([p.succ for p in problem.precedences], dtype=np.int64),
                                 minlength=n).astype(np.int64)
        ids: list[str] = []
        uptr = [0]
        for r, res in enumerate(problem.resources):
            if res.renewable:
                ids += list(units.units[r])
            uptr.append(len(ids))
        self.ids = ids
        self.uptr = np.asarray(uptr, dtype=np.int64)
        self.uhome = np.asarray([codes.setdefault(units.home.get(u, ""), len(codes)) for u in ids], dtype=np.int64)
        self.able = np.zeros((max(1, len(ids)), len(codes)), dtype=np.bool_)
        self.able[:, 0] = True
        for role, c in codes.items():
            if role:
                for i, uid in enumerate(ids):
                    self.able[i, c] = role in units.roles.get(uid, frozenset())
        self.nxt = np.full((len(problem.resources), h + 1), _NEVER, dtype=np.int64)
        self.opn = np.tile(np.arange(h + 1, dtype=np.int64), (len(problem.resources), 1))
        idx = np.arange(h + 1, dtype=np.int64)
        for r, res in enumerate(problem.resources):
            closed = np.zeros(h + 1, dtype=bool)
            for s, e, _u in res.unavailable:
                closed[s:e] = True
            self.nxt[r] = np.minimum.accumulate(np.where(closed, idx, _NEVER)[::-1])[::-1]
            self.opn[r] = np.minimum.accumulate(np.where(closed, np.int64(h), idx)[::-1])[::-1]
        self.setup = units.setup


@_inlined
def _open_from(nxt: _I, opn: _I, r: int, lo: int, length: int, h: int) -> int:
    """The first y ≥ ``lo`` with [y, y + ``length``) open in pool ``r`` (``unitlist._Pool.window1``)."""
    y = opn[r, min(lo, h)]
    while nxt[r, y] < y + length:
        y = opn[r, min(nxt[r, y] + 1, h)]
    return int(y)


@njit(cache=True, nogil=True)
def _units_decode(order: _I, lead_weight: float, fill_gaps: bool, setup: int, h: int, release: _I, deadline: _I,
                  pred_ptr: _I,
                  pred_idx: _I, pred_lag: _I, tptr: _I, norig: _I, mdur: _I, msetup: _I, mrole: _I, mcont: _I,
                  dptr: _I, dres: _I, dunits: _I, uptr: _I, uhome: _I, able: npt.NDArray[np.bool_], nxt: _I,
                  opn: _I, aptr: _I, starts: _I, ends: _I, modes: _I, aunits: _I, acount: _I) -> int:
    """``unitlist.unit_list_schedule`` without anchors, compiled: the tasks of ``order`` placed one by one at their
    earliest end over every unit and mode, in a unit's idle gap too with ``fill_gaps`` (module section above).
    ``lead_weight`` > 0 ranks a choice by its end plus ``lead_weight`` × its set-up periods (0: the rule itself).
    Writes each task's start, end, mode (of the problem with continuing modes) and units (global unit indices from
    ``aptr[j]``, ``acount[j]`` of them); returns −1, or the first task that cannot be placed."""
    nunits = uhome.size
    free = np.zeros(nunits, dtype=np.int64)
    last = np.full(nunits, -1, dtype=np.int64)
    # Per unit its idle gaps in time order (``unitlist._Pool.gaps``): start, end, role before, role after, the idle
    # set-up periods the lot after relies on; ``gcount`` of them, the rows grown when one fills up.
    gaps = np.zeros((nunits, 16, 5), dtype=np.int64)
    gcount = np.zeros(nunits, dtype=np.int64)
    taken = np.zeros(nunits, dtype=np.bool_)
    most = 1
    for j in range(aptr.size - 1):
        most = max(most, aptr[j + 1] - aptr[j])
    pick = np.empty(most, dtype=np.int64)
    best_pick = np.empty(most, dtype=np.int64)
    for j in order:
        est = release[j]
        for q in range(pred_ptr[j], pred_ptr[j + 1]):
            est = max(est, ends[pred_idx[q]] + pred_lag[q])
        limit = h if deadline[j] < 0 else min(h, deadline[j])
        found = False
        b_key = 0.0
        b_end = 0
        b_lead = 0
        b_nfree = 0
        b_unit = 0
        b_start = 0
        b_mode = 0
        b_count = 0
        b_gap = -1
        for m in range(tptr[j], tptr[j] + norig[j]):
            d = mdur[m]
            if d == 0 or dptr[m + 1] == dptr[m]:
                e0 = est + d
                if not found or e0 < b_key:
                    found = True
                    b_key, b_end, b_lead, b_nfree, b_unit, b_start, b_mode, b_count = e0, e0, 0, 0, 0, est, m, 0
                    b_gap = -1
                continue
            d_c = d - msetup[m]
            rc = mrole[m]
            npick = 0
            lead = 0
            latest_free = 0
            first_end = 0
            ok = True
            for q in range(dptr[m], dptr[m + 1]):
                r = dres[q]
                here = npick
                for _ in range(dunits[q]):
                    c_u = -1
                    c_key = 0.0
                    c_lead = 0
                    c_end = 0
                    for u in range(uptr[r], uptr[r + 1]):
                        if taken[u] or not able[u, rc]:
                            continue
                        # A unit ends no sooner than it is free plus the work: one that cannot beat the best unit
                        # of this pool, or the best choice of the task so far, is not looked at (the same plan).
                        if (c_u >= 0 and free[u] + d_c > c_key) or (found and free[u] + d_c > b_key):
                            continue
                        lu = setup if rc != 0 and uhome[u] != rc and last[u] != rc else 0
                        y = _open_from(nxt, opn, r, max(free[u], est - lu), lu + d_c, h)
                        eu = y + lu + d_c
                        ku = eu + lead_weight * lu
                        if c_u < 0 or ku < c_key or (ku == c_key and (lu < c_lead or (
                                lu == c_lead and free[u] > free[c_u]))):
                            c_u, c_key, c_lead, c_end = u, ku, lu, eu
                    if c_u < 0:
                        ok = False
                        break
                    taken[c_u] = True
                    pick[npick] = c_u
                    npick += 1
                    lead = max(lead, c_lead)
                    latest_free = max(latest_free, free[c_u])
                    first_end = c_end
                for i in range(here, npick):  # each demand picks from its whole pool (``unitlist``)
                    taken[pick[i]] = False
                if not ok:
                    break
            if fill_gaps and dptr[m + 1] - dptr[m] == 1 and dunits[dptr[m]] == 1:
                r = dres[dptr[m]]
                bound = limit + 1
                if found:
                    bound = min(bound, b_key)
                if ok:
                    bound = min(bound, first_end)
                for u in range(uptr[r], uptr[r + 1]):
                    if not able[u, rc] or gcount[u] == 0 or gaps[u, gcount[u] - 1, 1] < est + d_c:
                        continue
                    g = _first_gap(gaps, gcount, u, est + d_c - 1)
                    while g < gcount[u]:  # ``unitlist._in_gap``
                        g0 = gaps[u, g, 0]
                        g1 = gaps[u, g, 1]
                        if g0 + d_c >= bound:
                            break
                        lu = setup if rc != 0 and rc != uhome[u] and rc != gaps[u, g, 2] else 0
                        keep = gaps[u, g, 4] if gaps[u, g, 4] != 0 and rc != gaps[u, g, 3] else 0
                        y = _open_from(nxt, opn, r, max(g0, est - lu), lu + d_c, h)
                        eu = y + lu + d_c
                        if eu < bound and eu <= g1 - keep and (keep == 0 or g1 - keep >= g1
                                                                 or nxt[r, g1 - keep] >= g1):
                            start, mm = _mode_at(y, lu, est, m, msetup[m], tptr[j] + mcont[m])
                            key = eu + lead_weight * lu
                            unit0 = u - uptr[r]
                            better = not found or key < b_key
                            if found and key == b_key:
                                better = (lu, 0, unit0, start, mm) < (b_lead, b_nfree, b_unit, b_start, b_mode)
                            if better:
                                found = True
                                b_key, b_end, b_lead, b_nfree, b_unit, b_start, b_mode = key, eu, lu, 0, unit0, \
                                    start, mm
                                b_count = 1
                                best_pick[0] = u
                                b_gap = g
                                bound = key
                            break
                        g += 1
            if not ok:
                continue
            if npick == 1:
                y0 = first_end - lead - d_c
            else:  # several units start together: the latest of them, the longest lead, every pool open
                y0 = max(latest_free, est - lead)
                moved = True
                while moved:
                    moved = False
                    for q in range(dptr[m], dptr[m + 1]):
                        z = _open_from(nxt, opn, dres[q], y0, lead + d_c, h)
                        if z != y0:
                            y0 = z
                            moved = True
            end0 = y0 + lead + d_c
            if end0 > limit:
                continue
            start, mm = _mode_at(y0, lead, est, m, msetup[m], tptr[j] + mcont[m])
            key = end0 + lead_weight * lead
            unit0 = pick[0] - uptr[dres[dptr[m]]]
            better = not found or key < b_key
            if found and key == b_key:
                better = (lead, -latest_free, unit0, start, mm) < (b_lead, b_nfree, b_unit, b_start, b_mode)
            if better:
                found = True
                b_key, b_end, b_lead, b_nfree, b_unit, b_start, b_mode = key, end0, lead, -latest_free, unit0, start, mm
                b_count = npick
                b_gap = -1
                for i in range(npick):
                    best_pick[i] = pick[i]
        if not found:
            return int(j)
        starts[j] = b_start
        ends[j] = b_end
        modes[j] = b_mode - tptr[j]
        acount[j] = b_count
        role = mrole[b_mode]
        for i in range(b_count):
            u = best_pick[i]
            aunits[aptr[j] + i] = u
            # The idle set-up periods the lot relies on (``unitlist``: set-up taken in the idle days before it).
            need = 0
            if role != 0 and uhome[u] != role and msetup[b_mode] < setup:
                need = setup - msetup[b_mode]
            if gcount[u] + 2 > gaps.shape[1]:
                grown = np.zeros((nunits, 2 * gaps.shape[1], 5), dtype=np.int64)
                grown[:, :gaps.shape[1], :] = gaps
                gaps = grown
            if b_gap >= 0:  # ``_Pool.split``: the gap's parts before and after the lot, the empty ones dropped
                g = b_gap
                g0, g1, before, after, need_after = gaps[u, g, 0], gaps[u, g, 1], gaps[u, g, 2], gaps[u, g, 3], \
                    gaps[u, g, 4]
                parts = 0
                if g0 < b_start:
                    parts += 1
                if b_end < g1:
                    parts += 1
                if parts != 1:  # shift the later gaps by parts − 1
                    if parts == 2:
                        for k in range(gcount[u] - 1, g, -1):
                            gaps[u, k + 1, :] = gaps[u, k, :]
                    else:
                        for k in range(g + 1, gcount[u]):
                            gaps[u, k - 1, :] = gaps[u, k, :]
                    gcount[u] += parts - 1
                k = g
                if g0 < b_start:
                    gaps[u, k, 0], gaps[u, k, 1], gaps[u, k, 2], gaps[u, k, 3], gaps[u, k, 4] = \
                        g0, b_start, before, role, need
                    k += 1
                if b_end < g1:
                    gaps[u, k, 0], gaps[u, k, 1], gaps[u, k, 2], gaps[u, k, 3], gaps[u, k, 4] = \
                        b_end, g1, role, after, need_after
            else:  # ``_Pool.append``: the idle days before the lot are a gap
                if b_start > free[u]:
                    k = gcount[u]
                    gaps[u, k, 0], gaps[u, k, 1], gaps[u, k, 2], gaps[u, k, 3], gaps[u, k, 4] = \
                        free[u], b_start, last[u], role, need
                    gcount[u] += 1
                free[u] = b_end
                last[u] = role
    return -1


@_inlined
def _mode_at(y: int, lead: int, est: int, m: int, own_setup: int, cont: int) -> tuple[int, int]:
    """``unitlist._mode_at``: the start and mode of mode ``m`` in the open window from ``y`` of ``lead`` periods of
    set-up: ``m`` itself with its set-up inside the lot where that starts no earlier than ``est``, else its mode
    without set-up (``cont``) after the set-up in idle days."""
    if lead > 0 and 0 < own_setup <= lead and y + lead - own_setup >= est:
        return y + lead - own_setup, m
    return y + lead, cont


@_inlined
def _first_gap(gaps: _I, gcount: _I, u: int, t: int) -> int:
    """The first of unit ``u``'s gaps that ends after ``t`` (``bisect_right`` on the gaps' ends)."""
    lo = 0
    hi = gcount[u]
    while lo < hi:
        mid = (lo + hi) >> 1
        if gaps[u, mid, 1] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _list_order(key: npt.NDArray[np.float64], succ_ptr: _I, succ_idx: _I, npred: _I) -> _I:
    """The tasks by increasing ``key``, each after its predecessors (ties: lower index): a plan's order of starts
    (``setups.order_by_starts``) or, with ``key`` = −priority, the order in which the serial scheme takes them."""
    n = key.size
    waiting = npred.copy()
    hkey = np.empty(n, dtype=np.float64)
    idx = np.empty(n, dtype=np.int64)
    size = 0
    for j in range(n):
        if waiting[j] == 0:
            size = _heap_push(hkey, idx, size, key[j], j)
    out = np.empty(n, dtype=np.int64)
    k = 0
    while size > 0:
        j = idx[0]
        size = _heap_pop(hkey, idx, size)
        out[k] = j
        k += 1
        for q in range(succ_ptr[j], succ_ptr[j + 1]):
            s = succ_idx[q]
            waiting[s] -= 1
            if waiting[s] == 0:
                size = _heap_push(hkey, idx, size, key[s], s)
    return out[:k]


@dataclass(frozen=True, eq=False)
class UnitPlan:
    """A plan decoded unit by unit (``unit_decode``): the problem with continuing modes it is a plan of, its
    schedule, the units of each task, and its first objective."""

    problem: Problem
    schedule: Schedule
    assigned: tuple[tuple[str, ...], ...]
    objective: int


class UnitDecoder:
    """``unitlist.unit_list_schedule(fill_gaps=False)`` of one problem without anchors on its ``units``, compiled:
    built once (the arrays), then each decoding of kursk-border (16,006 tasks) takes some ms. ``decode`` takes an
    explicit order (every predecessor first); ``order_of_starts`` and ``order_of_priority`` make one."""

    def __init__(self, problem: Problem, units: Units) -> None:
        if problem.anchored:
            raise PlanError("the compiled unit decoding keeps no anchors (a re-plan): use plan.unitlist")
        _ready_units()
        self.problem = problem
        self.units = units
        self._a = _UnitArrays(problem, units)
        self._fast = problem.objective is Objective.WEIGHTED_COMPLETION and not problem.move_cost

    @property
    def exact(self) -> Problem:
        """The problem with continuing modes (``setups.with_continuing_modes``) the decoded plans are plans of."""
        return self._a.exact

    def order_of_starts(self, starts: npt.ArrayLike) -> _I:
        """Tasks in order of ``starts``, predecessors first, ties by index (``setups.order_by_starts``)."""
        a = self._a
        return _list_order(np.asarray(starts, dtype=np.float64), a.succ_ptr, a.succ_idx, a.npred)

    def order_of_priority(self, priority: npt.ArrayLike) -> _I:
        """Tasks in the order the serial scheme takes them: the highest ``priority`` among those whose predecessors
        are placed, ties by index."""
        a = self._a
        return _list_order(-np.asarray(priority, dtype=np.float64), a.succ_ptr, a.succ_idx, a.npred)

    def run(self, order: npt.ArrayLike, *, lead_weight: float = 0.0,
            fill_gaps: bool = False) -> tuple[_I, _I, _I, _I, _I, int] | None:
        """Starts, ends, modes, units (``aunits`` from ``aptr[j]``) and unit counts of ``order`` decoded, with its
        weighted completion (or −1 for another objective); None when a task cannot be placed."""
        a = self._a
        n = len(self.problem.tasks)
        order = np.asarray(order, dtype=np.int64)
        if order.size != n:
            raise PlanError(f"an order of {order.size} tasks for {n}")
        starts = np.zeros(n, dtype=np.int64)
        ends = np.zeros(n, dtype=np.int64)
        modes = np.zeros(n, dtype=np.int64)
        aunits = np.full(max(1, int(a.aptr[-1])), -1, dtype=np.int64)
        acount = np.zeros(n, dtype=np.int64)
        failed = _units_decode(order, float(lead_weight), fill_gaps, a.setup, a.horizon, a.release, a.deadline,
                               a.pred_ptr, a.pred_idx, a.pred_lag, a.tptr, a.norig, a.mdur, a.msetup, a.mrole,
                               a.mcont, a.dptr, a.dres, a.dunits, a.uptr, a.uhome, a.able, a.nxt, a.opn, a.aptr,
                               starts, ends, modes, aunits, acount)
        if failed >= 0:
            return None
        value = int(np.dot(a.weight, ends)) if self._fast else -1
        return starts, ends, modes, aunits, acount, value

    def decode(self, order: npt.ArrayLike, *, lead_weight: float = 0.0, fill_gaps: bool = False) -> UnitPlan | None:
        """``order`` decoded unit by unit as a plan (None when a task cannot be placed)."""
        out = self.run(order, lead_weight=lead_weight, fill_gaps=fill_gaps)
        if out is None:
            return None
        starts, _ends, modes, aunits, acount, value = out
        a = self._a
        schedule = Schedule(tuple(starts.tolist()), tuple(modes.tolist()))
        assigned = tuple(tuple(a.ids[u] for u in aunits[a.aptr[j]:a.aptr[j] + acount[j]].tolist())
                         for j in range(len(starts)))
        if value < 0:
            from sapper.plan.solution import objective_value

            value = int(objective_value(self.exact, schedule))
        return UnitPlan(self.exact, schedule, assigned, value)


_UNITS_LOADED: list[bool] = []


def _ready_units() -> None:
    """Compile ``_units_decode`` and ``_list_order``, or load them from Numba's cache, once per process."""
    if not _UNITS_LOADED:
        _UNITS_LOADED.append(True)
        problem = Problem((Resource("pool", 1),), (Task("a", (Mode(2, ((0, 1),), "x", 1), Mode(1))),), (), 5)
        decoder = UnitDecoder(problem, Units((("u",),), {"u": frozenset({"x"})}, {"u": "y"}, 1))
        decoder.run(decoder.order_of_priority(np.zeros(1)))
