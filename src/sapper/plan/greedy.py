"""Schedule-generation schemes: the priority-list plans a person makes by hand.

*Serial*: take the most important task whose predecessors are all scheduled, put it in the mode and at the earliest
time where its resources are free for its whole duration, and repeat. With the planner's own priority order this is
the *baseline* sapper must beat.

*Parallel* (time-incrementing): walk forward in time; at each moment start, most important first, every task that is
ready and whose resources are free from that moment for its whole duration. It never leaves a team idle when a ready
task fits (a non-delay plan), which the serial scheme may. Neither scheme dominates the other, so ``solve`` runs
both with several priority rules and gives the best plan to CP-SAT as its starting solution.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence

import numpy as np

from sapper.errors import PlanError
from sapper.plan.problem import Mode, Precedence, Problem, Resource
from sapper.plan.solution import Schedule


def _earliest_fit(ok: np.ndarray, est: int, duration: int) -> int | None:
    """First t >= est with ok[t:t+duration] all True, or None."""
    if duration == 0:
        return est
    seg = ok[est:]
    bad = np.flatnonzero(~seg)
    starts = np.concatenate(([0], bad + 1))
    stops = np.concatenate((bad, [seg.size]))
    fits = np.flatnonzero(stops - starts >= duration)
    if fits.size == 0:
        return None
    return est + int(starts[fits[0]])


def _first_free(free: np.ndarray, t: int) -> int:
    """The first period >= ``t`` with a unit free in the profile ``free`` (its length when none)."""
    nz = np.flatnonzero(free[t:] > 0)
    return t + int(nz[0]) if nz.size else int(free.size)


def _fit_from(free: dict[int, np.ndarray], demands: Sequence[tuple[int, int]], duration: int, lo: int,
              latest: int) -> int | None:
    """The earliest start in [``lo``, ``latest``] where every renewable demand fits for ``duration`` (> 0) periods,
    or None; the same start as ``_fit`` without budgets per period, found by looking at a stretch of the profiles
    after ``lo`` at a time (doubling it) rather than the whole horizon."""
    renewable = [(free[r], u) for r, u in demands if r in free]
    if not renewable:
        return lo if lo <= latest else None
    if lo <= latest and all(f[lo:lo + duration].min() >= u for f, u in renewable):
        return lo  # free at once: the common case
    width = max(64, 4 * duration)
    while lo <= latest:
        stop = min(latest + duration, lo + width)  # a fit starting at t <= latest needs periods up to t + duration
        ok = renewable[0][0][lo:stop] >= renewable[0][1]
        for f, u in renewable[1:]:
            ok &= f[lo:stop] >= u
        bad = np.flatnonzero(~ok)
        begins = np.concatenate(([0], bad + 1))
        ends = np.concatenate((bad, [ok.size]))
        fits = np.flatnonzero(ends - begins >= duration)
        if fits.size:
            t = lo + int(begins[fits[0]])
            return t if t <= latest else None
        if stop >= latest + duration:
            return None
        lo += int(begins[-1])  # the last run of free periods may continue past the stretch
        width *= 2
    return None


def serial_sgs(problem: Problem, priority: Sequence[float], modes: Sequence[int] | None = None, *,
               setup_weight: float = 0.0, setup_fades: bool = False,
               role_weights: Mapping[tuple[int, str], float] | None = None) -> Schedule:
    """Schedule tasks one by one, highest ``priority`` first among those whose predecessors are scheduled.

    Ties go to the lower task index. Each task takes the mode that finishes earliest (ties: lower mode index) among
    those that leave enough of every budget (non-renewable resource) for the cheapest modes of the tasks still to
    come; ``modes`` fixes the mode of every task instead. A task starts only where what it spends in each window of
    a budget per period fits what is left there (a task may wait for next year's money). Raises PlanError if a task
    cannot be placed.

    ``setup_weight`` (≥ 0) makes a mode with set-up (``Mode.setup``: a unit in a borrowed role) count as ending
    ``setup_weight × setup`` periods later when the modes are compared, so that units keep to their own roles unless
    borrowing gains that much: 0 (the default) compares the ends alone. With ``setup_fades`` the weight of a mode
    with set-up on a pool falls with the pool's own-role work still to place (``_OwnWork``): in full while none of
    it is placed, to 0 once all of it is, so a unit whose own role has run out of work takes any lot it ends first.
    ``role_weights`` scales the weight per pool and role of a mode with set-up (``role_of``; 1 where not given), so
    that, say, a clearance team borrowed for survey counts its set-up more than a survey team borrowed to clear.
    """
    n = len(problem.tasks)
    if len(priority) != n:
        raise PlanError(f"priority has {len(priority)} values for {n} tasks")
    if compiled(problem):
        return _serial_compiled(problem, priority, modes, setup_weight=setup_weight, setup_fades=setup_fades,
                                role_weights=role_weights)
    horizon = problem.horizon
    free = {r: np.asarray(problem.capacity_profile(r), dtype=np.int64) for r in problem.renewable}
    # Per resource, the first period with a unit free: no work on it starts earlier (free only ever decreases).
    first = {r: _first_free(f, 0) for r, f in free.items()}
    budget = _Budget(problem)
    money = _Money(problem)
    preds = problem.predecessors
    succs = problem.successors
    waiting = [len(p) for p in preds]
    est = [t.release for t in problem.tasks]
    starts = [0] * n
    chosen = [0] * n
    heap = [(-priority[j], j) for j in range(n) if waiting[j] == 0]
    heapq.heapify(heap)
    own = _OwnWork(problem) if setup_fades and setup_weight and modes is None else None
    placed = 0
    while heap:
        _, j = heapq.heappop(heap)
        task = problem.tasks[j]
        best: tuple[float, int, int] | None = None  # (end, with set-up weighted; mode, start)
        for m, mode in enumerate(task.modes):
            if (modes is not None and m != modes[j]) or not budget.allows(j, m):
                continue
            extra = setup_weight * mode.setup
            if role_weights and mode.setup:
                extra *= role_weights.get(role_of(mode), 1.0)
            if own is not None and mode.setup:
                extra *= own.share_left(mode)
            latest = horizon - mode.duration
            if best is not None:  # a later start would not beat the best mode (ties: the lower mode)
                latest = min(latest, math.ceil(best[0] - mode.duration - extra) - 1)
            if task.deadline is not None:
                latest = min(latest, task.deadline - mode.duration)
            if est[j] > latest:
                continue
            starts_ok = money.starts_ok(mode)
            if starts_ok is None and mode.duration > 0:
                t = _fit_from(free, mode.demands, mode.duration, max([est[j], *(first[r] for r, _ in mode.demands
                                                                               if r in first)]), latest)
            else:
                t = _fit(free, mode.demands, mode.duration, est[j], horizon, starts_ok)
            if t is None or t > latest:
                continue
            cand = (t + mode.duration + extra, m, t)
            if best is None or cand < best:
                best = cand
        if best is None:
            raise PlanError(f"task {j} ({task.name}) cannot be placed within the horizon of {horizon} periods"
                            + (" and the budgets" if problem.non_renewable or money.active else ""))
        _, m, t = best
        end = t + task.modes[m].duration
        starts[j], chosen[j] = t, m
        if own is not None:
            own.place(j)
        budget.spend(j, m)
        money.spend(task.modes[m], t)
        for r, units in task.modes[m].demands:
            if r in free:
                free[r][t:end] -= units
                if t <= first[r] < end:  # the first period with a free unit moved on
                    nz = np.flatnonzero(free[r][first[r]:] > 0)
                    first[r] = first[r] + int(nz[0]) if nz.size else horizon
        placed += 1
        for k, lag in succs[j]:
            est[k] = max(est[k], end + lag)
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(heap, (-priority[k], k))
    if placed != n:
        raise PlanError("precedences left tasks unscheduled (cycle)")
    return Schedule(tuple(starts), tuple(chosen))


#: Problems of at least this many tasks (and without budgets) are scheduled by the compiled serial scheme
#: (``evolve.serial_modes``, the same plans): on kursk-border (16,000 tasks, five or six modes per lot by
#: capabilities) a decoding took about 0.5 CPU-seconds in Python; below this size the Python scheme is quick enough
#: and needs no compiled code loaded.
COMPILED_MIN_TASKS = 2000


def role_of(mode: Mode) -> tuple[int, str]:
    """A mode's pool (its first demand's resource, −1 without any) and role (its name): what ``serial_sgs``'s
    ``role_weights`` are keyed by."""
    return (mode.demands[0][0] if mode.demands else -1, mode.name)


def compiled(problem: Problem) -> bool:
    """Whether ``serial_sgs`` schedules ``problem`` by the compiled scheme: at least ``COMPILED_MIN_TASKS`` tasks
    and no budgets (the compiled scheme keeps none)."""
    return len(problem.tasks) >= COMPILED_MIN_TASKS and not problem.non_renewable and not problem.has_period_budgets


def _serial_compiled(problem: Problem, priority: Sequence[float], modes: Sequence[int] | None, *,
                     setup_weight: float, setup_fades: bool,
                     role_weights: Mapping[tuple[int, str], float] | None) -> Schedule:
    """``serial_sgs`` by the compiled scheme (``evolve.serial_modes``); the same plan, the same errors."""
    from sapper.plan.evolve import serial_modes  # Numba is loaded only when a problem is this large

    starts, chosen, failed = serial_modes(problem, priority, modes, setup_weight=setup_weight,
                                          fades=bool(setup_fades and setup_weight and modes is None),
                                          role_weights=role_weights)
    if failed == -2:
        raise PlanError("precedences left tasks unscheduled (cycle)")
    if failed >= 0:
        raise PlanError(f"task {failed} ({problem.tasks[failed].name}) cannot be placed within the horizon of "
                        f"{problem.horizon} periods")
    return Schedule(tuple(starts.tolist()), tuple(chosen.tolist()))


def own_role_work(problem: Problem) -> tuple[list[list[tuple[int, float]]], np.ndarray]:
    """Per task, its own-role work (duration × units of its longest mode without set-up) on each pool it could do
    without set-up, and each pool's total: what ``serial_sgs(setup_fades)`` counts down as tasks are placed."""
    of_task: list[list[tuple[int, float]]] = []
    total = np.zeros(len(problem.resources))
    for task in problem.tasks:
        mine: dict[int, float] = {}
        for mode in task.modes:
            if mode.setup == 0 and mode.duration:
                for r, u in mode.demands:
                    mine[r] = max(mine.get(r, 0.0), float(mode.duration * u))
        of_task.append(list(mine.items()))
        for r, w in mine.items():
            total[r] += w
    return of_task, total


class _OwnWork:
    """Per pool, the work (duration × units) of its own role still to place: the modes without set-up on it of the
    tasks not yet placed, each task counted on every pool it could do without set-up (``serial_sgs(setup_fades)``)."""

    def __init__(self, problem: Problem) -> None:
        self.of_task, self.total = own_role_work(problem)
        self.left = self.total.copy()

    def share_left(self, mode: Mode) -> float:
        """The smallest share of own-role work left among the pools ``mode`` uses (0 for a pool with no own-role
        work at all: its units lose nothing of their own by borrowing)."""
        share = 1.0
        for r, _ in mode.demands:
            share = min(share, float(self.left[r] / self.total[r]) if self.total[r] > 0 else 0.0)
        return share

    def place(self, j: int) -> None:
        for r, w in self.of_task[j]:
            self.left[r] -= w


def parallel_sgs(problem: Problem, priority: Sequence[float], modes: Sequence[int] | None = None) -> Schedule:
    """Walk the decision times (releases, ends, capacity changes) in order; at each, start the ready tasks that fit
    from that time for their whole duration, highest ``priority`` first (ties: lower index), each in the fitting mode
    that ends first and leaves enough of every budget (as in ``serial_sgs``; ``modes`` fixes them instead).

    Raises PlanError when a task can no longer be placed within its deadline or the horizon.
    """
    n = len(problem.tasks)
    if len(priority) != n:
        raise PlanError(f"priority has {len(priority)} values for {n} tasks")
    horizon = problem.horizon
    free = {r: np.asarray(problem.capacity_profile(r), dtype=np.int64) for r in problem.renewable}
    budget = _Budget(problem)
    money = _Money(problem)
    succs = problem.successors
    waiting = [len(p) for p in problem.predecessors]
    est = [t.release for t in problem.tasks]
    starts = [0] * n
    chosen = [0] * n
    ready = {j for j in range(n) if waiting[j] == 0}
    events = sorted({0, *(est[j] for j in ready)}
                    | {x for r in problem.renewable for s, e, _ in problem.resources[r].unavailable for x in (s, e)}
                    | {s for b in problem.budgets for s, _, _ in b.windows})
    heapq.heapify(events)
    placed = 0
    t = -1
    while placed < n:
        while events and events[0] <= t:
            heapq.heappop(events)
        if not events or events[0] > horizon:
            j = min(ready, key=lambda k: (-priority[k], k))
            raise PlanError(f"task {j} ({problem.tasks[j].name}) cannot be placed within the horizon of "
                            f"{horizon} periods" + (" and the budgets" if problem.non_renewable or money.active
                                                    else ""))
        t = heapq.heappop(events)
        started = True
        while started:  # a task of zero duration may make its successors ready at the same time
            started = False
            for j in sorted((k for k in ready if est[k] <= t), key=lambda k: (-priority[k], k)):
                task = problem.tasks[j]
                best: tuple[int, int] | None = None  # (end, mode)
                for m, mode in enumerate(task.modes):
                    if (modes is not None and m != modes[j]) or not budget.allows(j, m):
                        continue
                    end = t + mode.duration
                    if end > horizon or (task.deadline is not None and end > task.deadline):
                        continue
                    if _fits_at(free, mode.demands, mode.duration, t) and money.allows(mode, t) \
                            and (best is None or (end, m) < best):
                        best = (end, m)
                if best is None:
                    shortest = min(mode.duration for mode in task.modes)
                    if task.deadline is not None and t + shortest > task.deadline:
                        raise PlanError(f"task {j} ({task.name}) cannot be placed within its deadline "
                                        f"{task.deadline}")
                    continue
                end, m = best
                starts[j], chosen[j] = t, m
                budget.spend(j, m)
                money.spend(task.modes[m], t)
                for r, units in task.modes[m].demands:
                    if r in free:
                        free[r][t:end] -= units
                ready.discard(j)
                placed += 1
                started = True
                heapq.heappush(events, end)
                for k, lag in succs[j]:
                    est[k] = max(est[k], end + lag)
                    waiting[k] -= 1
                    if waiting[k] == 0:
                        ready.add(k)
                        heapq.heappush(events, est[k])
    return Schedule(tuple(starts), tuple(chosen))


def _fits_at(free: dict[int, np.ndarray], demands: Sequence[tuple[int, int]], duration: int, t: int) -> bool:
    """Whether every renewable demand fits from ``t`` for ``duration`` periods (checked at ``t`` first: cheap)."""
    if duration == 0:
        return True
    for r, units in demands:
        if r in free and (free[r][t] < units or (duration > 1 and int(free[r][t:t + duration].min()) < units)):
            return False
    return True


def _fit(free: dict[int, np.ndarray], demands: Sequence[tuple[int, int]], duration: int, est: int,
         horizon: int, starts_ok: np.ndarray | None = None) -> int | None:
    """Earliest start >= ``est`` where every renewable demand fits for ``duration`` periods within the horizon (and,
    given ``starts_ok``, a start it allows: the budgets per period)."""
    renewable = [(r, u) for r, u in demands if r in free]
    if starts_ok is not None and duration > 0:
        ok = np.ones(horizon, dtype=bool)
        for r, units in renewable:
            ok &= free[r] >= units
        blocked = np.concatenate(([0], np.cumsum(~ok)))
        if duration > horizon:
            return None
        fits = (blocked[duration:] - blocked[:horizon - duration + 1] == 0) & starts_ok[:horizon - duration + 1]
        found = np.flatnonzero(fits[est:]) if est <= horizon - duration else np.empty(0, dtype=np.int64)
        return est + int(found[0]) if found.size else None
    if duration == 0 or not renewable:
        return est if est + duration <= horizon else None
    ok = np.ones(horizon, dtype=bool)
    for r, units in renewable:
        ok &= free[r] >= units
    t = _earliest_fit(ok, est, duration)
    return t if t is not None and t + duration <= horizon else None


class _Money:
    """What is left of each budget per period in each of its windows (``PeriodBudget``)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.active = problem.has_period_budgets
        self.left = [[cap for _, _, cap in b.windows] for b in problem.budgets]
        self.times = np.arange(problem.horizon, dtype=np.int64)

    def _inside(self, a: int, z: int, s: np.ndarray | int, d: int) -> np.ndarray:
        inside: np.ndarray = np.clip(np.minimum(np.asarray(s) + d, z) - np.maximum(np.asarray(s), a), 0, None)
        return inside

    def starts_ok(self, mode: Mode) -> np.ndarray | None:
        """For every period, whether ``mode`` may start there as far as the budgets go (None: it spends nothing)."""
        if not self.active or not mode.costs or mode.duration == 0:
            return None
        ok = np.ones(self.problem.horizon, dtype=bool)
        for b, rate in mode.costs:
            if not rate:
                continue
            for (a, z, _), left in zip(self.problem.budgets[b].windows, self.left[b], strict=True):
                ok &= rate * self._inside(a, z, self.times, mode.duration) <= left
        return ok

    def allows(self, mode: Mode, t: int) -> bool:
        """Whether ``mode`` started at ``t`` fits what is left in every window it runs in."""
        if not self.active or not mode.costs or mode.duration == 0:
            return True
        for b, rate in mode.costs:
            for (a, z, _), left in zip(self.problem.budgets[b].windows, self.left[b], strict=True):
                if rate * int(self._inside(a, z, t, mode.duration)) > left:
                    return False
        return True

    def spend(self, mode: Mode, t: int) -> None:
        if not self.active or not mode.costs or mode.duration == 0:
            return
        for b, rate in mode.costs:
            for w, (a, z, _) in enumerate(self.problem.budgets[b].windows):
                self.left[b][w] -= rate * int(self._inside(a, z, t, mode.duration))


class _Budget:
    """What is left of each non-renewable resource, and what the tasks not yet scheduled need at least."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.left = {r: problem.resources[r].capacity for r in problem.non_renewable}
        self.cheapest: list[dict[int, int]] = []
        self.reserve = dict.fromkeys(self.left, 0)
        for task in problem.tasks:
            low = {r: min(dict(m.demands).get(r, 0) for m in task.modes) for r in self.left}
            self.cheapest.append(low)
            for r, u in low.items():
                self.reserve[r] += u

    def allows(self, j: int, m: int) -> bool:
        if not self.left:
            return True
        need = dict(self.problem.tasks[j].modes[m].demands)
        return all(need.get(r, 0) + self.reserve[r] - self.cheapest[j][r] <= self.left[r] for r in self.left)

    def spend(self, j: int, m: int) -> None:
        need = dict(self.problem.tasks[j].modes[m].demands)
        for r in self.left:
            self.left[r] -= need.get(r, 0)
            self.reserve[r] -= self.cheapest[j][r]


def descendant_weight_rule(problem: Problem) -> list[float]:
    """A priority rule for weighted completion: weight of the task and all its descendants per unit of work.

    Descendant sets are approximated by summing over successors (a DAG may count a descendant twice, which only
    reweights the rule). A task that unlocks much weight for little work goes first.
    """
    n = len(problem.tasks)
    down = [float(t.weight) for t in problem.tasks]
    for j in reversed(problem.topological_order):
        for k, _ in problem.successors[j]:
            down[j] += down[k]
    return [down[j] / (1.0 + min(m.duration for m in problem.tasks[j].modes)) for j in range(n)]


def earliest_start_bound(problem: Problem) -> list[int]:
    """A lower bound on each task's end: precedence, release and full-capacity outages, ignoring other tasks.

    A mode may only run where each resource it uses has enough capacity left after the ``unavailable`` spans. The
    periods in which a demand does not fit are found once per distinct demand (a region holds thousands of lots with
    the same demand), not once per mode.
    """
    horizon = problem.horizon
    profiles = [problem.capacity_profile(r) for r in range(len(problem.resources))]
    bad_after: dict[tuple[tuple[int, int], ...], list[int]] = {}
    es = [t.release for t in problem.tasks]
    ef = [0] * len(problem.tasks)
    for j in problem.topological_order:
        task = problem.tasks[j]
        best: int | None = None
        for mode in task.modes:
            t = es[j]
            if mode.duration > 0 and mode.demands:
                nxt = bad_after.get(mode.demands)
                if nxt is None:  # first period ≥ t in which some demand does not fit (horizon when none)
                    nxt = [horizon] * (horizon + 1)
                    for k in range(horizon - 1, -1, -1):
                        fits = all(profiles[r][k] >= units for r, units in mode.demands)
                        nxt[k] = nxt[k + 1] if fits else k
                    bad_after[mode.demands] = nxt
                while t + mode.duration <= horizon and nxt[t] < t + mode.duration:
                    t = nxt[t] + 1
                if t + mode.duration > horizon:
                    continue
            end = t + mode.duration
            best = end if best is None else min(best, end)
        if best is None:
            raise PlanError(f"task {j} ({task.name}) cannot run within the horizon even alone")
        ef[j] = best
        for k, lag in problem.successors[j]:
            es[k] = max(es[k], best + lag)
    return ef


def longest_tail_rule(problem: Problem, modes: Sequence[int] | None = None) -> list[float]:
    """A priority rule for the makespan: the longest path (shortest durations, or those of ``modes``, and lags) from a
    task to the end.

    The classic latest-finish-time rule: a task with much work still behind it goes first.
    """
    tail = [0.0] * len(problem.tasks)
    for j in reversed(problem.topological_order):
        task_modes = problem.tasks[j].modes
        d = task_modes[modes[j]].duration if modes is not None else min(m.duration for m in task_modes)
        tail[j] = d + max((tail[k] + lag for k, lag in problem.successors[j]), default=0.0)
    return tail


def justify(problem: Problem, schedule: Schedule, rounds: int = 3) -> Schedule:
    """Forward–backward improvement (double justification) of a makespan schedule, modes kept.

    Backward pass: in order of latest end first, each task is moved as late as the tasks after it allow within the
    current makespan (the serial scheme on the time-reversed problem); forward pass: in order of earliest start,
    each is moved as early as possible. Neither pass lengthens the plan; a round often shortens it. Problems with
    release dates or deadlines are returned unchanged (their reversal is not a plain scheduling problem).
    """
    if any(t.release or t.deadline is not None for t in problem.tasks) or problem.has_period_budgets:
        return schedule
    best = schedule
    best_mk = max(schedule.ends(problem), default=0)
    for _ in range(rounds):
        mk = max(best.ends(problem), default=0)
        try:
            mirrored = _mirror(problem, mk)
            back = serial_sgs(mirrored, [float(e) for e in best.ends(problem)], best.modes)
            # Forward again, in order of the backward schedule's start (its mirrored end).
            order = [float(mk - back.end(mirrored, j)) for j in range(len(problem.tasks))]
            fwd = serial_sgs(problem, [-x for x in order], best.modes)
        except PlanError:
            return best
        new_mk = max(fwd.ends(problem), default=0)
        if new_mk >= best_mk:
            break
        best, best_mk = fwd, new_mk
    return best


def _mirror(problem: Problem, horizon: int) -> Problem:
    """The problem with time reversed over [0, horizon): precedences turned around, outages mirrored."""
    resources = tuple(
        Resource(r.name, r.capacity,
                 tuple((horizon - min(e, horizon), horizon - s, u) for s, e, u in r.unavailable if s < horizon),
                 r.renewable)
        for r in problem.resources
    )
    precedences = tuple(Precedence(p.succ, p.pred, p.lag) for p in problem.precedences)
    return Problem(resources, problem.tasks, precedences, horizon, problem.objective)


def unlock_ratio_rule(problem: Problem, max_visits: int = 20_000_000) -> list[float]:
    """A priority rule for weighted completion: the weight each task helps unlock per unit of work needed to unlock it.

    For every weighted task ``m`` (a milestone such as "asset restored"), ``ratio(m) = weight(m) / work(m)``, where
    ``work(m)`` is the least work (duration × units, over the cheapest mode) of ``m`` and all its ancestors: what must
    be done before ``m`` counts. A task's priority is the sum of ``ratio(m)`` over the milestones it is an ancestor of
    (or is). This is Smith's rule applied to whole chains rather than to single tasks (as in Sidney's decomposition
    for precedence-constrained weighted completion): a cheap clearance that unlocks a valuable repair goes before an
    expensive one that unlocks little. Falls back to the descendant-weight rule when the ancestor sets are too large
    to enumerate (``max_visits``).
    """
    n = len(problem.tasks)
    work = [float(min(m.duration * max((u for r, u in m.demands if problem.resources[r].renewable), default=1)
                      for m in t.modes)) for t in problem.tasks]
    score = [0.0] * n
    visits = 0
    preds = problem.predecessors
    for m, task in enumerate(problem.tasks):
        if task.weight <= 0:
            continue
        seen = {m}
        stack = [m]
        while stack:
            x = stack.pop()
            for q, _ in preds[x]:
                if q not in seen:
                    seen.add(q)
                    stack.append(q)
        visits += len(seen)
        if visits > max_visits:
            return descendant_weight_rule(problem)
        ratio = task.weight / (1.0 + sum(work[x] for x in seen))
        for x in seen:
            score[x] += ratio
    return score
