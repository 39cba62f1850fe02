"""Adaptive large-neighbourhood search (ALNS) for region-sized problems: neighbourhoods that follow the structure.

``plan.lns`` frees the work tasks that start in one window of time. Measured on kursk-border (docs/planning.md): the
greedy plan is already optimal inside such windows (windows of 50–100 tasks: CP-SAT proves the hint optimal in under
a second), and windows large enough to hold a change (600 tasks) time out at 4 s with almost nothing found (14 windows
in 60 s, 3 improved, 0.0001 % together). A weighted-completion plan gains by moving work across long spans of time:
an area is released when its *last* lot is cleared, so the gain is in pulling an area's lots together and earlier,
and in changing the order in which a pool works through areas. The operators free such sets of tasks:

- ``release-chain``: an area's survey and clearance lots, its release, the repairs it unlocks and their
  restoration (a chain picked by roulette on weight × delay over its earliest possible end), with the work that
  competes for the same pools in the span the chain could move into;
- ``pool-window``: a stretch of one pool's sequence (the tasks a pool works on, in start order), so a pool's order
  changes over months rather than days;
- ``district``: the tasks whose hazard area or asset lies in one group (a district), given by the caller;
- ``time-window``: the tasks that start in a window of time (``plan.lns``), kept as one operator;
- ``priority-search``: not a sub-problem but a whole plan by the serial scheme in an unlock-ratio order whose work
  is weighted by each pool's pressure in the incumbent (docs/planning.md): what moves areas across years on the
  bottleneck pool, which no sub-problem of a few hundred tasks holds. Off in re-plans (anchored tasks), whose
  orders it would ignore. Where modes carry set-up (units by capabilities in a borrowed role) it also searches the
  set-up weight of the decoder (``greedy.serial_sgs(setup_weight=...)``): the mode choice across the whole plan.
  The weight on a pool fades with the pool's own-role work still to place (``setup_fades``): a weight that keeps
  units in their roles while their own work lasts would otherwise keep them idle once it has run out (issue 17).

A sub-problem's tasks keep only their modes without set-up and the incumbent's mode (``own_role_modes``): with a mode
per pool able to do a lot, CP-SAT closed no sub-problem of 20 tasks in 2 s.

Each operator has its own neighbourhood size: it grows when a sub-problem is solved to optimality within half its
time (there is room for a bigger one) and shrinks when the sub-solver runs out of time. An operator is picked by
roulette on weights that follow its recent reward (objective gained per second of its calls, decayed), with a floor
so that no operator is starved. Every sub-problem starts from the incumbent (the hint), so no call makes the plan
worse; the caller checks the schedule returned with the independent checker. The choices are drawn from a numpy
Generator seeded by the caller: given the seed and the sub-solver's answers, the search is the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from sapper.plan.greedy import compiled, earliest_start_bound, role_of, unlock_ratio_rule
from sapper.plan.lns import _window_problem as window_problem
from sapper.plan.lns import _with_milestones as with_milestones
from sapper.plan.problem import Objective, Problem, Task, Units
from sapper.plan.solution import Schedule, objective_value

if TYPE_CHECKING:
    import numpy.typing as npt

    from sapper.plan.evolve import UnitDecoder

    _I = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SubOutcome:
    """What a sub-solver returned: a schedule of the sub-problem (None: nothing found) and whether it is proven
    optimal."""

    schedule: Schedule | None
    optimal: bool


#: A sub-solver: (sub-problem, hint, time limit in s) → its outcome. ``solve`` passes CP-SAT's.
SubSolver = Callable[[Problem, Schedule, float], SubOutcome]


@dataclass(frozen=True, slots=True)
class OperatorStats:
    """One operator's record over a search: calls, how many improved the plan, were proven optimal or timed out,
    the objective it gained in total, its seconds, and its neighbourhood size and roulette weight at the end."""

    name: str
    calls: int
    improved: int
    optimal: int
    timeouts: int
    gain: float
    seconds: float
    size: int
    weight: float


@dataclass(frozen=True, slots=True)
class AlnsStats:
    """A search's record: iterations, improving ones, objective at the start and the end, seconds, per operator."""

    iterations: int
    improved: int
    start_objective: float
    objective: float
    seconds: float
    operators: tuple[OperatorStats, ...]
    #: With units (``alns(units=...)``): the priority search's best order (every predecessor first) decoded unit by
    #: unit, its objective there, and that of the first order decoded (the incumbent's order of starts: the best
    #: heuristic plan's); None without units.
    unit_order: tuple[int, ...] | None = None
    unit_objective: float | None = None
    unit_start_objective: float | None = None


@dataclass(frozen=True, slots=True)
class AlnsParams:
    """Tuning of the search: seconds per sub-problem, first neighbourhood size (work tasks), the limits of the
    size, how fast it grows and shrinks, and the weight's decay (share of the old weight kept after each call)."""

    sub_seconds: float = 2.0
    start_size: int = 120
    min_size: int = 20
    max_size: int = 1500
    grow: float = 1.25
    shrink: float = 0.7
    decay: float = 0.8
    floor: float = 0.1  # an operator's weight is at least this share of the largest
    #: Whether whole plans by the serial scheme in bottleneck-weighted priority orders are one of the moves.
    priority_search: bool = True
    #: Whether a sub-problem's tasks keep only their modes without set-up and the incumbent's mode
    #: (``own_role_modes``).
    own_roles: bool = True
    #: Whether the priority search's set-up weight on a pool falls with the pool's own-role work still to place
    #: (``greedy.serial_sgs(setup_fades=True)``), so that units whose own role has run out of work are re-tasked.
    setup_fades: bool = True
    #: Decodings per call of the priority search (the best is proposed) where the serial scheme is compiled
    #: (``greedy.compiled``: a region without budgets); one elsewhere. A compiled decoding of kursk-border takes
    #: about 10 ms, a CP-SAT sub-problem up to ``sub_seconds``: one decoding per call left the priority search a few
    #: percent of the time the roulette gave it.
    priority_batch: int = 8
    #: Whether the priority search also moves a factor on the set-up weight per pool and role
    #: (``greedy.serial_sgs(role_weights=...)``), not only the one weight for every borrowed role.
    role_weights: bool = True
    #: With units (``alns(units=...)``): decodings per call of the unit-level priority search, and the shares of them
    #: that move one of the best order's release chains earlier (``_chain_shift``) or jitter a stretch of it
    #: (``_window_jitter``) rather than the decoder's parameters.
    unit_batch: int = 8
    chain_share: float = 0.34
    window_share: float = 0.33
    #: With units, whether only the priority search runs: the sub-problems improve the pool-level objective (set-up
    #: on every borrowed lot), which the plan kept, decoded unit by unit, does not use (docs/planning.md).
    units_only: bool = True
    #: With units: after this many calls in a row in which the unit-level search's climb found no better plan, it
    #: starts a new climb from the incumbent's order (its best plan kept); 0: never. On kursk-border by capabilities,
    #: 300 calls of 8 decodings, 30 gained more than none on five seeds of five (1.42–2.48 %, mean 1.84 %, against
    #: 1.33–1.67 %, mean 1.52 %; on two of them 15 gained 1.63 and 1.74 % where 30 gained 1.42 and 2.48 %, and 60
    #: never restarted; one run each on a shared machine, 2026-12-08): climbs stall at different heights, and the
    #: best of several is kept.
    unit_restart: int = 30


@dataclass
class _Operator:
    name: str
    pick: Callable[[_Context, Schedule, int], list[int]] | None
    size: int
    #: A whole-plan move instead of a sub-problem: (context, incumbent) → a schedule of the whole problem or None.
    propose: Callable[[_Context, Schedule], Schedule | None] | None = None
    weight: float = 1.0
    calls: int = 0
    improved: int = 0
    optimal: int = 0
    timeouts: int = 0
    gain: float = 0.0
    seconds: float = 0.0

    def stats(self) -> OperatorStats:
        return OperatorStats(self.name, self.calls, self.improved, self.optimal, self.timeouts, self.gain,
                             round(self.seconds, 3), self.size, round(self.weight, 6))


@dataclass
class _Context:
    """What the operators share: the problem, its structure, the seeded generator."""

    problem: Problem
    rng: np.random.Generator
    work: list[int]
    earliest: list[int]
    chains: list[list[int]]  # per weighted milestone: its chain of work tasks and milestones
    heads: list[int]  # the weighted milestone of each chain
    work_set: set[int] = field(default_factory=set)
    chain_of: list[list[int]] = field(default_factory=list)  # per task: the chains it is in
    groups: list[list[int]] = field(default_factory=list)
    #: The priority search's bottleneck exponent and work unit that gave the incumbent; at first the plain unlock
    #: ratio (α = 0 in unit-days), the rule the best heuristic plan usually comes from.
    alpha: float = 0.0
    per_capacity: bool = False
    #: The set-up weight of the decoding that gave the incumbent (``greedy.serial_sgs(setup_weight=...)``: how much
    #: later a mode in a borrowed role counts as ending), and whether any mode has set-up at all (else always 0).
    setup_weight: float = 0.0
    has_setup: bool = False
    setup_fades: bool = True  # ``AlnsParams.setup_fades``
    unlock: np.ndarray | None = None  # ``greedy.unlock_ratio_rule`` of the problem, once needed
    tried: int = 0
    batch: int = 1  # decodings per call of the priority search (``AlnsParams.priority_batch``)
    trying: tuple[float, bool, float, dict[tuple[int, str], float]] = (2.0, True, 0.0, {})
    #: The (pool, role) of every mode with set-up (``greedy.role_of``), and the factor on the set-up weight of each
    #: in the decoding that gave the incumbent (1 where not given).
    roles: list[tuple[int, str]] = field(default_factory=list)
    role_weights: dict[tuple[int, str], float] = field(default_factory=dict)
    milestones: list[int] = field(default_factory=list)  # weighted tasks, and each one's ancestors (itself too)
    ancestors: list[list[int]] = field(default_factory=list)
    _tables: _Tables | None = None
    #: With units: the compiled unit-level decoder (``evolve.UnitDecoder``) and the best unit-level plan of the
    #: current climb (``_unit_search``): its order, objective and ends.
    decoder: UnitDecoder | None = None
    unit_order: np.ndarray | None = None
    unit_objective: float = float("inf")
    unit_start: float | None = None
    unit_ends: np.ndarray | None = None
    #: The best unit-level plan of every climb (``AlnsParams.unit_restart``): its order and objective; the calls in
    #: a row in which the current climb found nothing better, and after how many it restarts (0: never).
    best_order: np.ndarray | None = None
    best_objective: float = float("inf")
    stale: int = 0
    restart: int = 0
    unit_gain: float = 0.0  # what the last call of the unit-level search gained
    executor: ThreadPoolExecutor | None = None  # threads decoding a batch side by side (``alns(threads=...)``)
    pressure: tuple[Schedule, np.ndarray] | None = None  # ``_pressure`` of the incumbent, computed once per incumbent
    chain_share: float = 0.34
    window_share: float = 0.33

    def tables(self) -> _Tables:
        """The priority search's arrays (``_Tables``), built at the first call."""
        if self._tables is None:
            self._tables = _Tables.of(self.problem, self.milestones, self.ancestors)
        return self._tables


@dataclass(frozen=True)
class _Tables:
    """The priority search's arrays: per mode its work on each renewable pool (duration × units; rows by task,
    ``first_mode`` the first row of each task), per weighted milestone its weight, and every (milestone, ancestor)
    pair as ``chain`` (the milestone's place in ``_Context.milestones``) and ``member`` (the task); per task its
    weight and first mode's row for the objective."""

    mode_work: np.ndarray
    first_mode: np.ndarray
    duration: np.ndarray
    weight: np.ndarray
    chain: np.ndarray
    member: np.ndarray
    weighted: np.ndarray
    task_weight: np.ndarray

    @classmethod
    def of(cls, problem: Problem, milestones: list[int], ancestors: list[list[int]]) -> _Tables:
        rows = [m for t in problem.tasks for m in t.modes]
        mode_work = np.zeros((len(rows), len(problem.resources)))
        for i, mode in enumerate(rows):
            for r, u in mode.demands:
                if problem.resources[r].renewable:
                    mode_work[i, r] += mode.duration * u
        first = np.cumsum([0] + [len(t.modes) for t in problem.tasks])[:-1]
        weighted = np.array([j for j, t in enumerate(problem.tasks) if t.weight], dtype=np.int64)
        return cls(mode_work, first.astype(np.int64), np.array([m.duration for m in rows], dtype=np.int64),
                   np.array([problem.tasks[m].weight for m in milestones], dtype=float),
                   np.repeat(np.arange(len(milestones)), [len(a) for a in ancestors]).astype(np.int64),
                   np.array([x for a in ancestors for x in a], dtype=np.int64), weighted,
                   np.array([problem.tasks[j].weight for j in weighted], dtype=np.int64))

    def objective(self, problem: Problem, schedule: Schedule) -> int:
        """``objective_value`` of a plan of a weighted-completion problem without anchors, from the arrays."""
        starts = np.asarray(schedule.starts, dtype=np.int64)[self.weighted]
        modes = np.asarray(schedule.modes, dtype=np.int64)[self.weighted]
        return int(np.dot(self.task_weight, starts + self.duration[self.first_mode[self.weighted] + modes]))


def _work_tasks(problem: Problem) -> list[int]:
    return [j for j, t in enumerate(problem.tasks) if any(m.demands and m.duration for m in t.modes)]


def _ancestors(problem: Problem, j: int) -> list[int]:
    seen = {j}
    stack = [j]
    while stack:
        k = stack.pop()
        for p, _ in problem.predecessors[k]:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return sorted(seen)


def _chains(problem: Problem) -> tuple[list[list[int]], list[int]]:
    """For each weighted milestone whose predecessors include work (an area's release): the work before it and the
    repairs it unlocks (its work successors), their milestones included."""
    chains: list[list[int]] = []
    heads: list[int] = []
    for j, t in enumerate(problem.tasks):
        if not t.weight or any(m.demands for m in t.modes) or not problem.predecessors[j]:
            continue
        before = _ancestors(problem, j)
        after = [s for s, _ in problem.successors[j]]
        chain = sorted(set(before) | set(after))
        if len(chain) > 1:
            chains.append(chain)
            heads.append(j)
    return chains, heads


def _uses(problem: Problem, schedule: Schedule, j: int) -> tuple[int, ...]:
    return tuple(r for r, _ in problem.tasks[j].modes[schedule.modes[j]].demands)


def _time_window(ctx: _Context, best: Schedule, size: int) -> list[int]:
    order = sorted(ctx.work, key=lambda j: (best.starts[j], j))
    a = int(ctx.rng.integers(0, max(1, len(order) - size)))
    return order[a:a + size]


def _pool_window(ctx: _Context, best: Schedule, size: int) -> list[int]:
    problem = ctx.problem
    by_pool: dict[int, list[int]] = {}
    for j in ctx.work:
        for r in _uses(problem, best, j):
            if problem.resources[r].renewable:
                by_pool.setdefault(r, []).append(j)
    pools = sorted(by_pool)
    sizes = np.array([len(by_pool[r]) for r in pools], dtype=float)
    r = pools[int(ctx.rng.choice(len(pools), p=sizes / sizes.sum()))]
    order = sorted(by_pool[r], key=lambda j: (best.starts[j], j))
    a = int(ctx.rng.integers(0, max(1, len(order) - size)))
    return order[a:a + size]


def _release_chain(ctx: _Context, best: Schedule, size: int) -> list[int]:
    """A chain picked by roulette on weight × delay, then more chains and competitors in its span up to ``size``."""
    problem = ctx.problem
    ends = np.asarray(best.starts) + np.array([problem.tasks[j].modes[best.modes[j]].duration
                                                for j in range(len(best.starts))])
    delay = np.array([problem.tasks[h].weight * max(0, int(ends[h]) - ctx.earliest[h]) for h in ctx.heads], float)
    if not delay.sum():
        return _time_window(ctx, best, size)
    c = int(ctx.rng.choice(len(ctx.heads), p=delay / delay.sum()))
    chosen = [j for j in ctx.chains[c] if j in ctx.work_set]
    chain_set = set(ctx.chains[c])
    pools = {r for j in chosen for r in _uses(problem, best, j)}
    lo = min((ctx.earliest[j] for j in chosen), default=0)
    hi = max((int(ends[j]) for j in chosen), default=0)
    rivals = [j for j in ctx.work if j not in chain_set and lo <= best.starts[j] < hi
              and any(r in pools for r in _uses(problem, best, j))]
    # A rival is freed with its whole chain: alone it could not make way, its fixed successors pinning it in place.
    candidates = sorted({k for j in rivals for k in ctx.chain_of[j] if k != c})
    freed = set(ctx.chains[c])
    for k in ctx.rng.permutation(len(candidates)).tolist():
        if len(freed) >= size:
            break
        freed.update(ctx.chains[candidates[k]])
    return sorted(freed)


def own_role_modes(sub: Problem, hint: Schedule) -> tuple[Problem, Schedule, list[tuple[int, ...]]]:
    """``sub`` with each task's modes cut to those without set-up (a unit in its own role) and the one ``hint``
    uses, the hint in the new mode indices, and per task the original index of each mode kept.

    With teams by capabilities a clearance lot has a mode per pool able to do it (five or six), each an optional
    interval in CP-SAT, and sub-problems of 20 tasks ran out of their 2 s on kursk-border (``benchmarks/
    alns_profile.py``). A borrowed role pays its set-up on every lot in the sub-problem as in the whole one, so a
    move into one rarely gains; the priority search (``setup_weight``) is what changes roles across the plan. The
    hint stays feasible (its modes are kept), so no sub-problem makes the plan worse."""
    tasks: list[Task] = []
    kept: list[tuple[int, ...]] = []
    modes: list[int] = []
    for j, t in enumerate(sub.tasks):
        keep = tuple(m for m, mode in enumerate(t.modes) if mode.setup == 0 or m == hint.modes[j])
        kept.append(keep)
        modes.append(keep.index(hint.modes[j]))
        tasks.append(t if len(keep) == len(t.modes) else
                     Task(t.name, tuple(t.modes[m] for m in keep), t.weight, t.release, t.deadline, t.anchor))
    if all(len(k) == len(t.modes) for k, t in zip(kept, sub.tasks, strict=True)):
        return sub, hint, kept
    return sub.replace(tasks=tuple(tasks)), Schedule(hint.starts, tuple(modes)), kept


def _modes_back(out: SubOutcome, kept: list[tuple[int, ...]]) -> SubOutcome:
    """``out`` with its schedule's modes in the indices of the sub-problem before ``own_role_modes``."""
    if out.schedule is None:
        return out
    modes = tuple(kept[j][m] for j, m in enumerate(out.schedule.modes))
    return SubOutcome(Schedule(out.schedule.starts, modes), out.optimal)


def _district(ctx: _Context, best: Schedule, size: int) -> list[int]:
    group = ctx.groups[int(ctx.rng.integers(0, len(ctx.groups)))]
    if len(group) <= size:
        return group
    order = sorted(group, key=lambda j: (best.starts[j], j))
    a = int(ctx.rng.integers(0, len(order) - size + 1))
    return order[a:a + size]


def _pressure(problem: Problem, schedule: Schedule) -> np.ndarray:
    """Each pool's busy share over the incumbent's span: its work in the plan over its capacity-days until the end."""
    ends = schedule.ends(problem)
    span = max(ends, default=1) or 1
    load = np.zeros(len(problem.resources))
    for j, t in enumerate(problem.tasks):
        mode = t.modes[schedule.modes[j]]
        for r, u in mode.demands:
            load[r] += mode.duration * u
    pressure = np.zeros(len(problem.resources))
    for r in problem.renewable:
        days = float(sum(problem.capacity_profile(r)[:span]))
        pressure[r] = load[r] / days if days > 0 else 0.0
    return pressure


def _bottleneck_priority(ctx: _Context, pressure: np.ndarray, alpha: float, noise: float,
                         per_capacity: bool) -> list[float]:
    """The unlock ratio (``greedy.unlock_ratio_rule``: Smith's rule over each milestone's chain) with each pool's
    work (unit-days, or with ``per_capacity`` days of the whole pool) weighted by its pressure to the power ``alpha``,
    so that work on the bottleneck pool counts and work on idle pools hardly does; each task's priority times
    ``exp(noise · N(0, 1))``. At α = 0 in unit-days the rule itself (``greedy.unlock_ratio_rule``), so that the
    set-up weights are tried on the order the best heuristic plan usually comes from."""
    problem = ctx.problem
    if alpha == 0.0 and not per_capacity:  # the plain rule, as the heuristics compute it (once)
        if ctx.unlock is None:
            ctx.unlock = np.asarray(unlock_ratio_rule(problem), dtype=float)
        plain = ctx.unlock * np.exp(noise * ctx.rng.standard_normal(len(ctx.unlock))) if noise else ctx.unlock
        return [float(x) for x in plain]
    scale = pressure ** alpha
    if per_capacity:
        scale = scale / np.array([max(1, r.capacity) for r in problem.resources])
    tables = ctx.tables()
    work = np.minimum.reduceat(tables.mode_work @ scale, tables.first_mode)
    chain = np.bincount(tables.chain, weights=work[tables.member], minlength=len(ctx.milestones))
    score = np.bincount(tables.member, weights=(tables.weight / (1e-3 + chain))[tables.chain],
                        minlength=len(problem.tasks))
    if noise:
        score *= np.exp(noise * ctx.rng.standard_normal(len(score)))
    priority: list[float] = score.tolist()
    return priority


#: The set-up weights the priority search tries first when modes carry set-up: half a decade apart, from a
#: borrowed mode counting as ending 3 set-ups later to 100 (at 1000 without the fade, units on kursk-border no
#: longer borrow at all: the plan of fixed pools; with it, ``AlnsParams.setup_fades``, they borrow once their own
#: role's work is placed), middle out.
SETUP_WEIGHTS = (10.0, 30.0, 3.0, 100.0)


def _starting_points(ctx: _Context, pressure: np.ndarray) -> list[tuple[float, float, bool, float]]:
    """The priority search's first decodings as (α, jitter σ, per capacity, set-up weight).

    When one pool is the bottleneck (its pressure at least 1.5 times the next pool's) it is weighted in pool-days
    (α = 2, measured best with fixed pools), then in unit-days (α = 1); otherwise (pools by capabilities, all busy)
    the plain unlock ratio is jittered (σ = 0.1) twice. When modes carry set-up (a unit in a borrowed role) the
    plain unlock ratio is instead decoded with each of ``SETUP_WEIGHTS``: the serial scheme picks the mode that ends
    first, so a unit borrows a role for any gain of a day however much set-up it pays, and the work it takes is then
    missing from its own role (measured on kursk-border by capabilities: the jittered orders found 0.5 % in a
    minute, a set-up weight alone 2 %)."""
    top = sorted(pressure, reverse=True)
    points: list[tuple[float, float, bool, float]]
    if len(top) > 1 and top[0] >= 1.5 * top[1]:
        points = [(2.0, 0.0, True, 0.0), (1.0, 0.0, False, 0.0)]
    elif ctx.has_setup:
        points = []
    else:
        points = [(0.0, 0.1, False, 0.0), (0.0, 0.1, False, 0.0)]
    if ctx.has_setup:
        points += [(0.0, 0.0, False, w) for w in SETUP_WEIGHTS]
    return points


def _priority_search(ctx: _Context, best: Schedule) -> Schedule | None:
    """The best of ``ctx.batch`` whole plans by the serial scheme in bottleneck-weighted priority orders, with modes
    in borrowed roles weighted by their set-up: first a few starting points (``_starting_points``), then exponents,
    work units, set-up weights and jitter around the ones that gave the incumbent. The parameters of the best plan
    are left in ``ctx.trying`` (the search takes them when the plan improves on the incumbent)."""
    from sapper.errors import PlanError
    from sapper.plan.greedy import serial_sgs

    pressure = _pressure(ctx.problem, best)
    starting = _starting_points(ctx, pressure)
    fast = ctx.problem.objective is Objective.WEIGHTED_COMPLETION and not ctx.problem.move_cost
    found: tuple[float, Schedule, tuple[float, bool, float, dict[tuple[int, str], float]]] | None = None
    for _ in range(ctx.batch):
        ctx.tried += 1
        roles = ctx.role_weights
        if ctx.tried <= len(starting):
            alpha, noise, per_capacity, setup_weight = starting[ctx.tried - 1]
        else:
            alpha = float(np.clip(ctx.alpha + ctx.rng.standard_normal(), 0.0, 8.0))
            noise = float(ctx.rng.choice([0.0, 0.05, 0.1, 0.2]))
            per_capacity = ctx.per_capacity if ctx.rng.random() < 0.8 else not ctx.per_capacity
            setup_weight = 0.0
            if ctx.has_setup:
                # Mostly the incumbent's order, jittered a little, its set-up weight moved by a factor of about 1.3
                # either way (from 1 if it was 0): on kursk-border by capabilities such steps around the best weight
                # found still gained, where σ = 0.1–0.2 and new exponents did not.
                if ctx.rng.random() < 0.75:
                    alpha, noise = ctx.alpha, float(ctx.rng.choice([0.0, 0.02, 0.05]))
                setup_weight = float(max(ctx.setup_weight, 1.0) * np.exp(0.25 * ctx.rng.standard_normal()))
                # Half the time one (pool, role)'s factor on the weight moved by a factor of about 1.6 either way:
                # a borrowed survey lot costs a clearance team as much set-up as a borrowed clearance lot costs a
                # survey team, but not as much of the lot (docs/planning.md).
                if ctx.roles and ctx.rng.random() < 0.5:
                    role = ctx.roles[int(ctx.rng.integers(0, len(ctx.roles)))]
                    roles = {**roles, role: roles.get(role, 1.0) * float(np.exp(0.5 * ctx.rng.standard_normal()))}
        try:
            plan = serial_sgs(ctx.problem, _bottleneck_priority(ctx, pressure, alpha, noise, per_capacity),
                              setup_weight=setup_weight, setup_fades=ctx.setup_fades, role_weights=roles)
        except PlanError:  # deadlines this order cannot meet
            continue
        obj = float(ctx.tables().objective(ctx.problem, plan)) if fast else float(objective_value(ctx.problem, plan))
        if found is None or obj < found[0]:
            found = (obj, plan, (alpha, per_capacity, setup_weight, roles))
    if found is None:
        return None
    ctx.trying = found[2]
    return found[1]


#: The set-up weights the unit-level priority search tries first (after the incumbent's order itself): on kursk-border
#: by capabilities, decoded unit by unit, weights of 3 and more made the plan worse and 1 better (one run on a shared
#: machine, 2026-12-07).
UNIT_SETUP_WEIGHTS = (1.0, 0.5, 2.0)


def _chain_shift(ctx: _Context) -> np.ndarray:
    """The best unit-level order with one weighted milestone's chain (the milestone and its ancestors) moved
    earlier by an exponentially drawn number of places (mean 1,000), the chain picked by roulette on weight × end in
    the best plan, as each task's key (``UnitDecoder.order_of_priority(-key)``: every predecessor still first)."""
    assert ctx.decoder is not None and ctx.unit_order is not None and ctx.unit_ends is not None
    tables = ctx.tables()
    score = tables.weight * ctx.unit_ends[np.asarray(ctx.milestones, dtype=np.int64)] + 1e-9
    c = int(ctx.rng.choice(len(ctx.milestones), p=score / score.sum()))
    key = np.empty(len(ctx.unit_order))
    key[ctx.unit_order] = np.arange(len(ctx.unit_order), dtype=float)
    key[np.asarray(ctx.ancestors[c], dtype=np.int64)] -= ctx.rng.exponential(1000.0)
    return key


#: The stretch of the best unit-level order ``_window_jitter`` moves (places) and the spread of the moves (its share
#: of the stretch): on kursk-border by capabilities stretches of 300 places gained half as much in 20 s as 1,500,
#: stretches of 6,000 nothing (one run each on a shared machine, 2026-12-07).
WINDOW_PLACES = 1500
WINDOW_SPREAD = 0.3


def _window_jitter(ctx: _Context) -> np.ndarray:
    """The best unit-level order with the tasks of one stretch of ``WINDOW_PLACES`` places each moved by a normal
    draw of ``WINDOW_SPREAD`` × the stretch, as each task's key (as ``_chain_shift``)."""
    assert ctx.decoder is not None and ctx.unit_order is not None
    n = len(ctx.unit_order)
    key = np.empty(n)
    key[ctx.unit_order] = np.arange(n, dtype=float)
    a = int(ctx.rng.integers(0, n))
    inside = (key >= a) & (key < a + WINDOW_PLACES)
    key[inside] += ctx.rng.standard_normal(int(inside.sum())) * WINDOW_PLACES * WINDOW_SPREAD
    return key


def _scheme_order(ctx: _Context, decoder: UnitDecoder, priority: list[float], setup_weight: float,
                  roles: dict[tuple[int, str], float]) -> np.ndarray | None:
    """The order of starts of the serial scheme's plan in ``priority`` with set-up weights (the parameter moves of
    ``_unit_search``), or None where the plan cannot meet a deadline."""
    from sapper.errors import PlanError
    from sapper.plan.greedy import serial_sgs

    try:
        plan = serial_sgs(ctx.problem, priority, setup_weight=setup_weight, setup_fades=ctx.setup_fades,
                          role_weights=roles)
    except PlanError:
        return None
    order: np.ndarray = decoder.order_of_starts(plan.starts)
    return order


def _unit_search(ctx: _Context, best: Schedule) -> Schedule | None:
    """The priority search with units (``alns(units=...)``): ``ctx.batch`` orders, each decoded unit by unit with
    set-up per change of role and idle gaps filled (``evolve.UnitDecoder``), judged by that plan's objective. An
    order is the order of starts of the serial scheme's plan in a bottleneck-weighted priority order with set-up
    weights (as ``_priority_search``, around the parameters of the best unit-level plan), or the best order with
    a release chain moved earlier (``_chain_shift``, ``AlnsParams.chain_share`` of them) or a stretch of it jittered
    (``_window_jitter``, ``AlnsParams.window_share``). The first call decodes the incumbent's own order (the best
    heuristic plan's). The climb's best plan stays in ``ctx.unit_order``, the best of every climb in
    ``ctx.best_order`` (after ``AlnsParams.unit_restart`` calls without a better plan the climb starts again from the
    incumbent's order, its parameters afresh); ``ctx.unit_gain`` is what the call gained on the best of all.
    Returns None: the pool-level incumbent is left as it is.

    Orders are decoded as ``unitlist.unit_list_schedule`` decodes them (no lead weight in the decoder's ranking):
    the plan kept is the best order decoded again there, so an order judged with a lead weight need not give the
    plan it was judged by (on kursk-border by capabilities a search's best 15,916,360 gave 15,978,512 at lead weight
    0, one run on a shared machine, 2026-12-07)."""
    decoder = ctx.decoder
    assert decoder is not None
    ctx.unit_gain = 0.0
    before = ctx.best_objective
    climbed = ctx.unit_objective
    if ctx.pressure is None or ctx.pressure[0] is not best:  # with units only, the incumbent stays the heuristic's
        ctx.pressure = (best, _pressure(ctx.problem, best))
    pressure = ctx.pressure[1]
    # The batch's moves are drawn from the best plan at the start of the call (every random draw here, in the order
    # of the moves), then each order is made (the serial scheme's plan, or a key's order) and decoded side by side in
    # ``ctx.executor``'s threads (the compiled scheme, ordering and decoding release the GIL), and the orders are
    # taken in the order drawn: the same search for any number of threads.
    drawn: list[tuple[Callable[[], np.ndarray | None], bool, tuple[float, bool, float,
                                                                   dict[tuple[int, str], float]]]] = []
    for _ in range(ctx.batch):
        ctx.tried += 1
        roles = ctx.role_weights
        alpha, noise, per_capacity, setup_weight = ctx.alpha, 0.0, ctx.per_capacity, ctx.setup_weight
        shifted: Callable[[_Context], np.ndarray] | None = None
        make: Callable[[], np.ndarray | None]
        if ctx.tried == 1:  # the incumbent's (the best heuristic plan's) order itself
            make = partial(decoder.order_of_starts, best.starts)
        else:
            if ctx.tried - 2 < len(UNIT_SETUP_WEIGHTS):
                alpha, setup_weight = 0.0, UNIT_SETUP_WEIGHTS[ctx.tried - 2]
            elif ctx.unit_order is not None and (draw := ctx.rng.random()) < ctx.chain_share + ctx.window_share:
                shifted = _chain_shift if draw < ctx.chain_share else _window_jitter
            else:
                noise = float(ctx.rng.choice([0.0, 0.02, 0.05]))
                if ctx.rng.random() < 0.25:
                    alpha = float(np.clip(ctx.alpha + ctx.rng.standard_normal(), 0.0, 8.0))
                    noise = float(ctx.rng.choice([0.0, 0.05, 0.1, 0.2]))
                    per_capacity = ctx.per_capacity if ctx.rng.random() < 0.8 else not ctx.per_capacity
                if ctx.rng.random() < 0.5:
                    setup_weight = float(max(ctx.setup_weight, 0.3) * np.exp(0.25 * ctx.rng.standard_normal()))
                if ctx.roles and ctx.rng.random() < 0.3:
                    role = ctx.roles[int(ctx.rng.integers(0, len(ctx.roles)))]
                    roles = {**roles, role: roles.get(role, 1.0) * float(np.exp(0.5 * ctx.rng.standard_normal()))}
            if shifted is not None:
                make = partial(decoder.order_of_priority, -shifted(ctx))
            else:
                make = partial(_scheme_order, ctx, decoder, _bottleneck_priority(ctx, pressure, alpha, noise,
                                                                                 per_capacity), setup_weight, roles)
        drawn.append((make, shifted is not None, (alpha, per_capacity, setup_weight, roles)))
        if ctx.tried == 1:
            break  # the moves of the best order need it decoded first

    def decode(one: tuple[Callable[[], np.ndarray | None], bool, object]
               ) -> tuple[np.ndarray, tuple[_I, _I, _I, _I, _I, int]] | None:
        order = one[0]()
        if order is None:  # deadlines the serial scheme cannot meet in this order
            return None
        out = decoder.run(order, fill_gaps=True)
        return None if out is None else (order, out)

    outs = list(ctx.executor.map(decode, drawn)) if ctx.executor is not None else [decode(d) for d in drawn]
    for (_, moved, (alpha, per_capacity, setup_weight, roles)), made in zip(drawn, outs, strict=True):
        if made is None:  # a deadline or the horizon this order cannot keep (on the pools or on the units)
            continue
        order, out = made
        _, ends, _, _, _, value = out
        obj = float(value) if value >= 0 else float(objective_value(decoder.exact, Schedule(
            tuple(out[0].tolist()), tuple(out[2].tolist()))))
        if ctx.unit_start is None:
            ctx.unit_start = obj
        # An order moved in place that decodes to a plan as good is taken too: the moves then drift over the
        # plateau (on kursk-border by capabilities 1.8 % in 25 s against 1.5–1.7 %, two runs each on a shared
        # machine, 2026-12-07).
        if obj < ctx.unit_objective or (moved and obj == ctx.unit_objective):
            ctx.unit_objective, ctx.unit_order, ctx.unit_ends = obj, order, ends
            if obj < ctx.best_objective:
                ctx.best_objective, ctx.best_order = obj, order
            if not moved:
                ctx.alpha, ctx.per_capacity, ctx.setup_weight, ctx.role_weights = alpha, per_capacity, setup_weight, \
                    roles
    if before < float("inf"):
        ctx.unit_gain = before - ctx.best_objective
    ctx.stale = ctx.stale + 1 if ctx.unit_objective >= climbed else 0
    if ctx.restart and ctx.stale >= ctx.restart:  # a new climb from the incumbent's order, its parameters afresh
        ctx.unit_order, ctx.unit_objective, ctx.unit_ends, ctx.stale, ctx.tried = None, float("inf"), None, 0, 0
        ctx.alpha, ctx.per_capacity, ctx.setup_weight, ctx.role_weights = 0.0, False, 0.0, {}
    return None


def alns(problem: Problem, schedule: Schedule, sub_solver: SubSolver, *, time_limit_s: float, seed: int = 0,
         groups: Sequence[int] | None = None, params: AlnsParams | None = None,
         max_iterations: int | None = None, clock: Callable[[], float] = time.perf_counter,
         units: Units | None = None, threads: int = 1) -> tuple[Schedule, AlnsStats]:
    """Improve ``schedule`` for ``time_limit_s`` seconds (or ``max_iterations`` sub-problems); see the module
    docstring. ``groups``: a group (e.g. a district) per task, −1 for none; enables the ``district`` operator.
    ``clock`` measures the seconds the rewards, sizes and limit count (a test passes one that does not depend on
    the machine). ``units``: the units behind the pools (teams by capabilities, set-up per change of role): where
    the serial scheme is compiled and nothing is anchored, the priority search judges its orders decoded unit by
    unit (``_unit_search``) and the stats carry the best order (``AlnsStats.unit_order``); with
    ``AlnsParams.units_only`` it is then the only operator, its batches decoded in ``threads`` threads side by
    side (the same search for any number)."""
    params = params or AlnsParams()
    t0 = clock()
    work = _work_tasks(problem)
    chains, heads = _chains(problem)
    ctx = _Context(problem, np.random.default_rng(seed), work, earliest_start_bound(problem), chains, heads)
    ctx.work_set = set(work)
    ctx.chain_of = [[] for _ in problem.tasks]
    for c, chain in enumerate(chains):
        for j in chain:
            ctx.chain_of[j].append(c)
    ops = [_Operator("release-chain", _release_chain, params.start_size),
           _Operator("pool-window", _pool_window, params.start_size),
           _Operator("time-window", _time_window, params.start_size)]
    if groups is not None:
        by: dict[int, list[int]] = {}
        for j, g in enumerate(groups):
            if g >= 0 and j in ctx.work_set:
                by.setdefault(g, []).append(j)
        ctx.groups = [by[g] for g in sorted(by)]
        if ctx.groups:
            ops.insert(2, _Operator("district", _district, params.start_size))
    if not chains:
        ops = [o for o in ops if o.name != "release-chain"]
    if params.priority_search and not problem.anchored:
        ctx.milestones = [j for j, t in enumerate(problem.tasks) if t.weight > 0]
        ctx.ancestors = [_ancestors(problem, m) for m in ctx.milestones]
        ctx.has_setup = any(m.setup for t in problem.tasks for m in t.modes)
        ctx.setup_fades = params.setup_fades
        ctx.batch = max(1, params.priority_batch) if compiled(problem) else 1
        if params.role_weights:
            ctx.roles = sorted({role_of(m) for t in problem.tasks for m in t.modes if m.setup})
        if units is not None and compiled(problem) and ctx.milestones:
            from sapper.plan.evolve import UnitDecoder

            ctx.decoder = UnitDecoder(problem, units)
            ctx.batch = max(1, params.unit_batch)
            ctx.chain_share, ctx.window_share = params.chain_share, params.window_share
            ctx.restart = params.unit_restart
            if params.units_only:
                ops = []
            if threads > 1:
                ctx.executor = ThreadPoolExecutor(threads, thread_name_prefix="unit-search")
        ops.append(_Operator("priority-search", None, 0,
                             propose=_unit_search if ctx.decoder is not None else _priority_search))
    start_obj = float(objective_value(problem, schedule))
    best, best_obj = schedule, start_obj
    iterations = improved = 0
    while clock() - t0 < time_limit_s - 0.3 and work:
        if max_iterations is not None and iterations >= max_iterations:
            break
        weights = np.array([o.weight for o in ops])
        weights = np.maximum(weights, max(params.floor * weights.max(), 1e-12))  # never all zero
        op = ops[int(ctx.rng.choice(len(ops), p=weights / weights.sum()))]
        began = clock()
        left = time_limit_s - (clock() - t0)
        if op.propose is not None:
            if op.calls and op.seconds / op.calls > left:  # it would not finish in time
                op.weight = 0.0
                if all(o.weight == 0.0 for o in ops):
                    break
                continue
            found = op.propose(ctx, best)
            out = SubOutcome(found, False)
            limit = left
            free = list(range(len(problem.tasks)))
        else:
            assert op.pick is not None
            core = op.pick(ctx, best, min(op.size, len(work)))
            free = with_milestones(problem, core)
            sub, hint = window_problem(problem, best, free)
            limit = min(params.sub_seconds, left)
            if limit < 0.1:
                break
            if params.own_roles:
                sub, hint, kept = own_role_modes(sub, hint)
                out = _modes_back(sub_solver(sub, hint, limit), kept)
            else:
                out = sub_solver(sub, hint, limit)
        gain = 0.0
        if op.propose is _unit_search and ctx.unit_gain > 0:  # a better plan unit by unit
            gain = ctx.unit_gain
            improved += 1
            op.improved += 1
        if out.schedule is not None:
            starts = list(best.starts)
            modes = list(best.modes)
            for k, j in enumerate(free):
                starts[j], modes[j] = out.schedule.starts[k], out.schedule.modes[k]
            cand = Schedule(tuple(starts), tuple(modes))
            obj = float(objective_value(problem, cand))
            if obj < best_obj:
                gain += best_obj - obj
                best, best_obj = cand, obj
                improved += 1
                op.improved += 1
                if op.propose is not None:
                    ctx.alpha, ctx.per_capacity, ctx.setup_weight, ctx.role_weights = ctx.trying
        spent = clock() - began
        iterations += 1
        op.calls += 1
        op.gain += gain
        op.seconds += spent
        # Reward: share of the objective gained per second, so that operators of different sizes compare.
        reward = gain / max(start_obj, 1.0) / max(spent, 1e-3) * 1e4
        op.weight = params.decay * op.weight + (1 - params.decay) * reward
        if out.optimal:
            op.optimal += 1
            if spent < 0.5 * limit:
                op.size = min(params.max_size, max(op.size + 1, int(op.size * params.grow)))
        elif op.propose is None and spent >= 0.9 * limit:
            op.timeouts += 1
            op.size = max(params.min_size, int(op.size * params.shrink))
    if ctx.executor is not None:
        ctx.executor.shutdown()
    stats = AlnsStats(iterations, improved, start_obj, best_obj, round(clock() - t0, 3),
                      tuple(o.stats() for o in ops),
                      tuple(ctx.best_order.tolist()) if ctx.best_order is not None else None,
                      ctx.best_objective if ctx.best_order is not None else None, ctx.unit_start)
    return best, stats
