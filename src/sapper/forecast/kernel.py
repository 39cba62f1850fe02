"""The compiled Monte Carlo kernel: one Numba call samples every run of a chunk and schedules it with the plan's
serial scheme (``sapper.plan.evolve``'s, shared, not copied), without Python per run or per task.

What is drawn per run and shared by many tasks (programme and unit factors, class survey outcomes, damage per asset,
the weather year) is drawn in numpy by the caller (``sapper.forecast.sample``) and passed in as arrays; what is drawn
per task (day-to-day noise, weather rounding, accidents) is drawn here from xoshiro256** (Blackman and Vigna 2018,
https://prng.di.unimi.it/), seeded from the chunk's numpy Generator, with normal deviates by Marsaglia's polar
method. Everything is deterministic for a chunk's seed, whichever thread or process runs it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from numba import njit

from sapper.plan import evolve
from sapper.plan.evolve import (
    clash_in,
    exhausted_periods,
    first_exhausted,
    first_open,
    serial_scheme,
    trace_chain,
    use_capacity,
)


def forget_stale_cache(cache: Path, dependency: Path) -> int:
    """Drop the kernel's Numba cache files in ``cache`` when ``dependency`` is newer than any of them; the number
    of files dropped. Numba keys a module's cache on that module's own file alone, but the kernel inlines
    ``plan/evolve.py``'s helpers: after an edit (or a checkout) of evolve.py only, the cached kernel would keep the
    old helpers. Run at import on the cache beside the source (``__pycache__``, where Numba puts it in a writable
    tree); an installed release changes both files together."""
    try:
        stamp = dependency.stat().st_mtime
        files = list(cache.glob("kernel.*.nb[ic]"))
        if not any(f.stat().st_mtime < stamp for f in files):
            return 0
        for f in files:
            f.unlink(missing_ok=True)
        return len(files)
    except OSError:  # a read-only or vanished cache: Numba copes (it recompiles, or caches elsewhere)
        return 0


forget_stale_cache(Path(__file__).parent / "__pycache__", Path(evolve.__file__))

_U = npt.NDArray[np.uint64]
_I = npt.NDArray[np.int64]
_F = npt.NDArray[np.float64]
_B = npt.NDArray[np.bool_]

_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def _next(s: _U) -> np.uint64:
    """xoshiro256**: the next 64 random bits of state ``s`` (four words, not all zero)."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def _uniform(s: _U) -> float:
    """Uniform on [0, 1), 53 bits."""
    return float(_next(s) >> np.uint64(11)) * _TO_UNIT


@njit(cache=True, inline="always")
def _normal(s: _U, spare: _F) -> float:
    """Standard normal (Marsaglia's polar method; the second deviate of each pair is kept in ``spare``)."""
    if spare[0] != 0.0:
        spare[0] = 0.0
        return float(spare[1])
    while True:
        u = 2.0 * _uniform(s) - 1.0
        v = 2.0 * _uniform(s) - 1.0
        q = u * u + v * v
        if 0.0 < q < 1.0:
            break
    f = np.sqrt(-2.0 * np.log(q) / q)
    spare[0] = 1.0
    spare[1] = v * f
    return float(u * f)


@njit(cache=True, inline="always")
def _closed_at(closed: npt.NDArray[np.uint64], dem_ptr: _I, dem_r: _I, j: int, lo: int, hi: int) -> int:
    """The first period of [lo, hi) in which one of task ``j``'s pools stands down (``closed``); −1 if none."""
    first = -1
    for k in range(dem_ptr[j], dem_ptr[j + 1]):
        c = first_exhausted(closed, dem_r[k], lo, hi)
        if c >= 0 and (first < 0 or c < first):
            first = c
    return first


@njit(cache=True, inline="always")
def _reopen(closed: npt.NDArray[np.uint64], dem_ptr: _I, dem_r: _I, j: int, t: int) -> int:
    """The first period at or after ``t`` in which none of task ``j``'s pools stands down."""
    while True:
        u = t
        for k in range(dem_ptr[j], dem_ptr[j + 1]):
            u = first_open(closed, dem_r[k], u)
        if u == t:
            return t
        t = u


@njit(cache=True, inline="always")
def _money_short(closed: npt.NDArray[np.uint64], dem_ptr: _I, dem_r: _I, j: int, t: int, end: int, d: int,
                 rate: float, wstart: _I, left: _F, per: _F) -> int:
    """Whether task ``j`` working from ``t`` to ``end`` (``d`` working days, paused over its pools' stand-downs in
    ``closed``) at ``rate`` a working day fits the money ``left`` in each window [``wstart[y]``, ``wstart[y + 1]``):
    −1 if it does (``per`` then holds what it spends in each window), else the first window it overspends."""
    per[:] = 0.0
    y = 0
    lo = t
    if d == 0:
        while y + 1 < wstart.shape[0] - 1 and wstart[y + 1] <= t:
            y += 1
        per[y] = rate
    while lo < end:
        stop = _closed_at(closed, dem_ptr, dem_r, j, lo, end) if end - t > d else -1
        hi = end if stop < 0 else stop
        while lo < hi:
            while y + 1 < wstart.shape[0] - 1 and wstart[y + 1] <= lo:
                y += 1
            top = min(hi, wstart[y + 1]) if y + 1 < wstart.shape[0] - 1 else hi
            per[y] += rate * (top - lo)
            lo = top
        lo = end if stop < 0 else _reopen(closed, dem_ptr, dem_r, j, stop)
    for y in range(per.shape[0]):
        if per[y] > 0.0 and per[y] > left[y] * (1.0 + 1e-12) + 1e-9:
            return y
    return -1


@njit(cache=True, inline="always")
def _scheme(order: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I, pred_idx: _I,
            pred_lag: _I, starts: _I, elapsed: _I, avail: _I, bits: npt.NDArray[np.uint64],
            closed: npt.NDArray[np.uint64], budgeted: bool, fam: _I, rate: _F, wstart: _I, money: _F, spent: _F,
            per: _F) -> int:
    """:func:`pausing_scheme`, and with ``budgeted`` :func:`budget_scheme`: one body, inlined into each, where
    ``budgeted`` is a constant, so that the scheme without budgets compiles without the money's code."""
    horizon = avail.shape[1] - 1
    makespan = 0
    for j in order:
        t = rel[j]
        for k in range(pred_ptr[j], pred_ptr[j + 1]):
            p = pred_idx[k]
            t = max(t, starts[p] + elapsed[p] + pred_lag[k])
        d = dur[j]
        while True:  # a place where the pools fit, then (with a budget) where the money does too
            # The earliest start at or after t where the d working days fit what is left, pausing over the pools'
            # stand-downs, and its end. (Written here, not called: a call passing arrays counts their references,
            # which cost more than the search on a large plan.)
            end = t
            while d > 0:
                for k in range(dem_ptr[j], dem_ptr[j + 1]):
                    t = first_open(bits, dem_r[k], t)  # a stand-down is exhausted in ``bits`` too: t is not in one
                if t + d > lend[j] or t + d > horizon:
                    return -1
                clash = clash_in(avail, bits, dem_ptr, dem_r, dem_u, j, t, t + d)
                if clash < 0:  # fits whole: no stand-down inside either (the serial scheme's case, as fast)
                    end = t + d
                    break
                shut = False  # whether a pool stands down at the clash (tested here: see above)
                for k in range(dem_ptr[j], dem_ptr[j + 1]):
                    if (closed[dem_r[k], clash >> 6] >> np.uint64(clash & 63)) & np.uint64(1):
                        shut = True
                if not shut:
                    t = clash + 1  # a busy period, not a stand-down: start after it
                    continue
                tau, left, clash = t, d, -1
                while left > 0:  # a stand-down inside: segments of working periods between stand-downs
                    if tau + left > lend[j] or tau + left > horizon:
                        return -1
                    stop = _closed_at(closed, dem_ptr, dem_r, j, tau, tau + left)
                    hi = tau + left if stop < 0 else stop
                    clash = clash_in(avail, bits, dem_ptr, dem_r, dem_u, j, tau, hi)
                    if clash >= 0:
                        break
                    left -= hi - tau
                    tau = hi if stop < 0 else _reopen(closed, dem_ptr, dem_r, j, stop)
                if clash < 0:
                    end = tau
                    break
                t = clash + 1
            if not budgeted or fam[j] < 0 or rate[j] <= 0.0:
                break
            y = _money_short(closed, dem_ptr, dem_r, j, t, end, d, rate[j], wstart, money[fam[j]], per)
            if y < 0:
                break
            if t < wstart[y]:  # a later window it spills into: start there
                t = wstart[y]
            elif d > 0:  # its start's window: start later by as many working days as it is short there
                t += max(1, int(np.ceil((per[y] - money[fam[j], y]) / rate[j])))
            else:
                t = wstart[y + 1]
            if t > lend[j] or t > horizon:
                return -1
        if t > lend[j] or t > horizon:
            return -1
        starts[j] = t
        if d == 0:
            end = t
        elapsed[j] = end - t
        if budgeted and rate[j] > 0.0:
            _money_short(closed, dem_ptr, dem_r, j, t, end, d, rate[j], wstart, spent, per)
            for y in range(per.shape[0]):
                spent[y] += per[y]
                if fam[j] >= 0:
                    money[fam[j], y] -= per[y]
        if elapsed[j] == d:  # not paused: one working segment (the serial scheme's case)
            use_capacity(avail, bits, dem_ptr, dem_r, dem_u, j, t, end)
        else:
            lo = t
            while lo < end:  # the capacity taken in each working segment (none while paused)
                stop = _closed_at(closed, dem_ptr, dem_r, j, lo, end)
                hi = end if stop < 0 else stop
                use_capacity(avail, bits, dem_ptr, dem_r, dem_u, j, lo, hi)
                lo = end if stop < 0 else _reopen(closed, dem_ptr, dem_r, j, stop)
        makespan = max(makespan, end)
    return makespan


@njit(cache=True)
def pausing_scheme(order: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I,
                   pred_idx: _I, pred_lag: _I, starts: _I, elapsed: _I, avail: _I, bits: npt.NDArray[np.uint64],
                   closed: npt.NDArray[np.uint64]) -> int:
    """The serial scheme of ``sapper.plan.evolve`` (each task of ``order`` at its earliest precedence- and
    resource-feasible start, on what is left in ``avail`` and its exhausted-period map ``bits``; its steps are the
    shared ones of ``sapper.plan.evolve``), except that a lot running when one of its pools stands down
    (``closed``: the periods of the pristine profile without capacity, as
    :func:`~sapper.plan.evolve.exhausted_periods` maps them) pauses over the stand-down and resumes after it,
    instead of waiting whole for it to end: its ``dur`` working days are counted only in periods its pools work, and
    its capacity is taken only then. It starts only in a period its pools work. ``elapsed`` gets each task's span
    from start to end (its working days plus the days paused), which its successors wait for. Makespan, or −1 when
    a task would end past its latest end ``lend`` or the horizon. Without money: see :func:`budget_scheme`."""
    none = np.zeros(0)
    return _scheme(order, dur, rel, lend, dem_ptr, dem_r, dem_u, pred_ptr, pred_idx, pred_lag, starts, elapsed, avail,
                   bits, closed, False, dur, none, dur, np.zeros((0, 0)), none, none)


@njit(cache=True)
def budget_scheme(order: _I, dur: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I,
                  pred_idx: _I, pred_lag: _I, starts: _I, elapsed: _I, avail: _I, bits: npt.NDArray[np.uint64],
                  closed: npt.NDArray[np.uint64], fam: _I, rate: _F, wstart: _I, money: _F, spent: _F,
                  per: _F) -> int:
    """:func:`pausing_scheme` with money (the engine's per-period budgets, ``PeriodBudget``): a task with a budget
    ``fam[j]`` ≥ 0 spends ``rate[j]`` a working day (all of it in its start's window if it takes no days); what it
    would spend in each window [``wstart[y]``, ``wstart[y + 1]``) must fit ``money[fam[j], y]``, else it starts
    later — past the periods it would overspend its start's window by, or at the start of a later window it
    overspends — where the money is. ``spent[y]`` adds what every task spends in window y (budgeted or not, at
    ``rate``); ``per`` is scratch. (Without pausing, ``closed`` maps no period.)"""
    return _scheme(order, dur, rel, lend, dem_ptr, dem_r, dem_u, pred_ptr, pred_idx, pred_lag, starts, elapsed, avail,
                   bits, closed, True, fam, rate, wstart, money, spent, per)


@njit(cache=True)
def _in_order(order: _I, ptr: _I, idx: _I, val: _I, pos: _I, remap: bool) -> tuple[_I, _I, _I]:
    """The CSR rows (``ptr``, ``idx``, ``val``) of the tasks of ``order``, in that order: row q is task
    ``order[q]``'s, its ``idx`` mapped to places in ``order`` (``pos``) when ``remap``."""
    n = order.shape[0]
    size = max(1, ptr[ptr.shape[0] - 1] if n else 0)
    optr = np.zeros(n + 1, dtype=np.int64)
    oidx = np.zeros(size, dtype=np.int64)
    oval = np.zeros(size, dtype=np.int64)
    m = 0
    for q in range(n):
        j = order[q]
        for k in range(ptr[j], ptr[j + 1]):
            oidx[m] = pos[idx[k]] if remap else idx[k]
            oval[m] = val[k]
            m += 1
        optr[q + 1] = m
    return optr, oidx, oval


@njit(cache=True, nogil=True)
def run_chunk(state: _U,
              # per task
              kind: _I, group: _I, unit: _I, hazard: _I, asset: _I, log_base: _F, noise_sd: _F, weather: _B,
              longest: _I, fixed: _I, minimum: _I,
              # per run (rows) and what they are shared by (columns)
              programme: _F, per_unit: _F, log_share: _F, damage: _F, weather_rate: _F, spread: _F,
              # scalars
              horizon: int, accident_rate: float, accident_min: int, accident_max: int, damage_mean: float,
              damage_sd: float, damage_per_task: bool, schedule: bool, round_up: _B, pause: bool,
              # the scheme
              order: _I, cap: _I, rel: _I, lend: _I, dem_ptr: _I, dem_r: _I, dem_u: _I, pred_ptr: _I,
              pred_idx: _I, pred_lag: _I, released: _I, restored: _I,
              # money: budget per task (−1 none), prices, and the budgets per window (year)
              fam: _I, price_day: _F, price_fixed: _F, by_share: _B, share_mult: _F, wstart: _I, money0: _F,
              # out
              span: _I, released_end: npt.NDArray[np.int32], restored_end: npt.NDArray[np.int32], on_path: _I,
              counts: _I, kept_days: _I, kept_stood: _I, kept_starts: _I, cost_year: _F) -> None:
    """Sample and schedule ``programme.shape[0]`` runs.

    Each work task's days: exp(log planned days (−inf for none) − (noise_sd × spread × Z + programme[group] +
    per_unit[unit]) + log_share [clearance] + damage [repair]), capped at the horizon and rounded up (kind 0, a
    milestone, takes no time); where ``round_up`` (per task) is false, rounded down or up at random with the fraction
    as the chance of up (unbiased). A weather task then stands still for floor(days × weather_rate + U) days and, with
    probability 1 − exp(−days × accident_rate), for an accident of ``accident_min``–``accident_max`` days (the
    conditional uniform U / p picks them). ``fixed`` ≥ 0 replaces the days (work done), ``minimum`` bounds them below
    (work running), and days beyond ``longest`` (the pool's longest season) are cut to it (``counts[0]``).

    With ``schedule``: the serial scheme over ``order`` (with ``pause``, :func:`pausing_scheme`: a lot running when
    its pool stands down pauses and resumes after it; ``days`` stay its working days) gives ``span`` (the horizon for
    a run past it), the end of each ``released`` and ``restored`` milestone (at most the horizon) and adds the chain
    that decides the finish to ``on_path`` (runs past the horizon are not traced). ``kept_*`` with as many rows as
    runs keep each run's days, stand-still days and starts (for checking); with one row they are left alone.

    With as many rows of ``cost_year`` as runs (a priced forecast), each task costs ``price_day`` × its days
    plus ``price_fixed`` (× ``share_mult[run, hazard]`` where ``by_share``), spread over its working days, and the
    run's cost in each window [``wstart[y]``, ``wstart[y + 1]``) goes to ``cost_year``; a task with a budget
    (``fam`` ≥ 0) keeps within ``money0[fam, y]`` what its budget's tasks spend in each window
    (:func:`pausing_scheme`'s money rule).

    The scheme runs on the tasks renumbered in the plan's order (its arrays permuted once per chunk), so that it walks
    each per-task array front to back instead of jumping about it (a cache miss per array per task on a large plan);
    the draws, their order and every result are those of the tasks' own numbering."""
    runs = programme.shape[0]
    n = kind.shape[0]
    keep = kept_days.shape[0] == runs
    spare = np.zeros(2)
    days = np.zeros(n, dtype=np.int64)
    starts = np.zeros(n, dtype=np.int64)
    elapsed = days if not pause else np.zeros(n, dtype=np.int64)  # each task's span, start to end
    avail = cap.copy()
    bits0 = exhausted_periods(cap)
    bits = bits0.copy()
    dirty = 0  # periods [0, dirty) of ``avail`` (and their words of ``bits``) may differ from the pristine profile
    marks = np.zeros(n, dtype=np.bool_)
    width = cap.shape[1]
    cut = 0
    priced = cost_year.shape[0] == runs
    rate = np.zeros(n)
    money = money0.copy()
    per = np.zeros(wstart.shape[0] - 1)
    stands = bits0 if pause else np.zeros_like(bits0)  # without pausing, no pools stand down for the money scheme
    # The scheme's arrays in the plan's order (task q is order[q]; pos[j] is task j's place in it).
    m = order.shape[0] if schedule else 0
    pos = np.zeros(n, dtype=np.int64)
    for q in range(m):
        pos[order[q]] = q
    o_order = np.arange(m)
    o_rel, o_lend, o_fam = rel[order], lend[order], fam[order]
    o_dem_ptr, o_dem_r, o_dem_u = _in_order(order, dem_ptr, dem_r, dem_u, pos, False)
    o_pred_ptr, o_pred_idx, o_pred_lag = _in_order(order, pred_ptr, pred_idx, pred_lag, pos, True)
    o_days = np.zeros(m, dtype=np.int64)
    o_starts = np.zeros(m, dtype=np.int64)
    o_elapsed = o_days if not pause else np.zeros(m, dtype=np.int64)
    o_rate = np.zeros(m)
    for i in range(runs):
        for j in range(n):
            d = 0
            if kind[j] != 0:
                z = _normal(state, spare)
                log_days = log_base[j] - noise_sd[j] * spread[i] * z
                g = group[j]
                if g >= 0:
                    log_days -= programme[i, g]
                if unit[j] >= 0:
                    log_days -= per_unit[i, unit[j]]
                if kind[j] == 2:
                    log_days += log_share[i, hazard[j]]
                elif kind[j] == 3:
                    if damage_per_task:
                        log_days += damage_mean + damage_sd * _normal(state, spare)
                    else:
                        log_days += damage[i, asset[j]]
                x = min(np.exp(log_days), float(horizon))
                d = int(np.ceil(x - 1e-4)) if round_up[j] else int(np.floor(x + _uniform(state)))
            stood = 0
            if weather[j]:
                stood = int(np.floor(d * weather_rate[i] + _uniform(state)))
                u = _uniform(state)
                lam = d * accident_rate
                if u < lam:  # 1 − e^−λ ≤ λ: only then can it be an accident
                    p = -np.expm1(-lam)
                    if u < p:
                        stood += min(accident_max, accident_min + int(u / p * (accident_max - accident_min + 1)))
            d = min(d + stood, horizon)
            if fixed[j] >= 0:
                d = fixed[j]
            d = max(d, minimum[j])
            if d > longest[j]:
                cut += 1
                d = longest[j]
            days[j] = d
            if keep:
                kept_days[i, j] = d
                kept_stood[i, j] = stood
        if not schedule:
            continue
        if dirty > 0:  # a run uses periods up to its makespan: only they need restoring
            avail[:, :dirty] = cap[:, :dirty]
            words = min(bits.shape[1], (dirty >> 6) + 1)
            bits[:, :words] = bits0[:, :words]
        for q in range(m):
            o_days[q] = days[order[q]]
        if priced:
            for j in range(n):
                c = days[j] * price_day[j] + price_fixed[j] * (share_mult[i, hazard[j]] if by_share[j] else 1.0)
                rate[j] = c / days[j] if days[j] > 0 else c
            for q in range(m):
                o_rate[q] = rate[order[q]]
            money[:, :] = money0
            made = budget_scheme(o_order, o_days, o_rel, o_lend, o_dem_ptr, o_dem_r, o_dem_u, o_pred_ptr, o_pred_idx,
                                 o_pred_lag, o_starts, o_elapsed, avail, bits, stands, o_fam, o_rate, wstart, money,
                                 cost_year[i], per)
        elif pause:
            made = pausing_scheme(o_order, o_days, o_rel, o_lend, o_dem_ptr, o_dem_r, o_dem_u, o_pred_ptr, o_pred_idx,
                                  o_pred_lag, o_starts, o_elapsed, avail, bits, bits0)
        else:
            made = serial_scheme(o_order, o_days, o_rel, o_lend, o_dem_ptr, o_dem_r, o_dem_u, o_pred_ptr, o_pred_idx,
                                 o_pred_lag, o_starts, avail, bits)
        for q in range(m):
            starts[order[q]] = o_starts[q]
            elapsed[order[q]] = o_elapsed[q]
        dirty = made if made >= 0 else width
        if keep:
            kept_starts[i, :] = starts
        if made < 0:
            span[i] = horizon
            released_end[i, :] = horizon
            restored_end[i, :] = horizon
            counts[1] += 1
            continue
        span[i] = made
        for k in range(released.shape[0]):
            released_end[i, k] = min(starts[released[k]] + elapsed[released[k]], horizon)
        for k in range(restored.shape[0]):
            restored_end[i, k] = min(starts[restored[k]] + elapsed[restored[k]], horizon)
        trace_chain(starts, elapsed, rel, dem_ptr, dem_r, pred_ptr, pred_idx, pred_lag, width, marks)
        for j in range(n):
            if marks[j]:
                on_path[j] += 1
                marks[j] = False
    counts[0] += cut


@njit(cache=True, nogil=True)
def column_ranks(ends: npt.NDArray[np.int32], top: int, ranks: _I, out: _I) -> None:
    """``out[l, c]``: the ``ranks[l]``-th smallest value (from 0) of column ``c`` of ``ends`` (runs × columns,
    values in 0 … ``top``), by counting — the order statistics the percentiles need, without sorting."""
    runs, cols = ends.shape
    block = 64
    for lo in range(0, cols, block):
        hi = min(cols, lo + block)
        count = np.zeros((hi - lo, top + 1), dtype=np.int64)
        for i in range(runs):
            for c in range(lo, hi):
                count[c - lo, ends[i, c]] += 1
        for c in range(lo, hi):
            seen = 0
            level = 0
            for v in range(top + 1):
                seen += count[c - lo, v]
                while level < ranks.shape[0] and seen > ranks[level]:
                    out[level, c] = v
                    level += 1
                if level == ranks.shape[0]:
                    break


@njit(cache=True, nogil=True)
def slot_sums(ends: npt.NDArray[np.int32], slot_of: _I, weight: _F, out: _F) -> None:
    """``out[i, s]``: the total ``weight`` of the columns of row ``i`` of ``ends`` whose end falls in slot ``s``
    (``slot_of`` maps each period to its slot)."""
    runs, cols = ends.shape
    for i in range(runs):
        for c in range(cols):
            out[i, slot_of[ends[i, c]]] += weight[c]
