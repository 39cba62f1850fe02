"""Lower bounds on priority-weighted completion that see capacity: a fluid (energy) relaxation per resource group.

Why: the precedence bound (each task as early as its predecessors allow, capacity ignored) is far below any real plan
when a few pools carry most of the work. This bound uses the pools' capacity:

1. **Resource groups.** Resources that stand in for each other (modes of one task on different pools, e.g. manual,
   dog and mechanical clearance) form one group; others are groups of their own.
2. **Work in a common unit.** Each resource ``r`` of a group gets a speed ``v_r`` (work per unit-day); a task's work
   on the group is ``a_k = min over its modes of duration × Σ units × v_r`` (zero if some mode avoids the group). A
   unit of ``r`` then does at most ``v_r`` work a day, so the group does at most ``Σ_r capacity_r × v_r`` a day. Any
   positive speeds give a valid bound; they are set from the tasks' own durations (the median duration ratio to the
   group's first resource), which makes the bound tight when durations are proportional to a common workload (m²).
3. **Jobs.** Each weighted task ``j`` is a job; every work task is charged to exactly one job: its nearest weighted
   descendant (itself if weighted). A job cannot end before its charged work is done, and charges are disjoint.
4. **Fluid WSPT.** In a group, the work done by day ``t`` is at most ``capacity × t``; on such a fluid machine with
   preemption, Σ w·C is minimised by Smith's rule (weighted shortest processing time first), which gives the bound.
   Outages and stand-downs: with ``K(t)`` the group's cumulative capacity, the ``i``-th job to finish ends no
   earlier than ``g(cum_i)``, the first time ``K`` reaches the work done so far. ``g`` is not linear, so Smith's rule
   is applied to a line below it: ``g(x) ≥ α·x + β`` with ``β = min_t (t − α·K(t + 1))``; the bound is
   ``α·Σ w·cum + β·Σ w`` for the best of a few slopes ``α`` (``1/capacity`` gives the no-outage bound).
5. **Combination.** Each job's weight counts in one group only (the one where its work takes longest); per group the
   larger of the fluid bound and the jobs' precedence bounds is taken; jobs without work keep their precedence bound.

``fluid_lower_bound(problem, earliest_ends)`` returns the bound (a float); it is valid for any feasible schedule and
tested against optimal schedules of small problems.

**Chain bound** (``chain_lower_bound``). The fluid bound charges a job only the work of the tasks whose nearest
weighted descendant it is, and lets that work start and end with the job: a milestone at the end of a chain (an asset
restored after its areas are surveyed, cleared and released) then gets little more than its precedence bound, and a
pool's outages enter only through a line below the true capacity curve. On kursk-border that left a 58–66 % gap.
The chain bound keeps the same groups, speeds and charges and adds three things, each a valid inequality:

6. **Tails.** With ``C^g_j`` the end of the last task charged to job ``j`` in group ``g``, ``C_j ≥ C^g_j + tail``,
   where ``tail`` is the least, over those tasks, of the longest path (shortest modes, lags) from the task's end to
   the job's end through tasks charged to the job (a clearance lot, the inspection lag, then the release).
7. **Weight moved up a chain.** A job ``j`` that waits for a weighted ancestor ``h`` (the nearest ones, through
   unweighted tasks) ends no earlier than ``C_h + d(h, j)``, the longest such path found; so ``w_j·C_j ≥
   w_j·C_h + w_j·d(h, j)``: ``j``'s weight can be added to ``h``'s and the constant kept. Any ancestor is valid;
   the one whose end is estimated latest (Smith's order on its home group) is taken. The bound is computed with
   and without moving weights, and the larger is reported.
8. **Exact capacity curve.** ``Σ_j w_j·C^g_j = Σ_t W(t)``, the weight unfinished at each period ``t``. By ``t`` the
   group has done at most ``K(t)`` work (its cumulative capacity, outages included), so ``W(t)`` is at least the
   total weight less the most weight that ``K(t)`` work can finish (a fractional knapsack: jobs in Smith's order),
   and at least the weight of the jobs whose charged tasks cannot end by ``t`` (their earliest ends). The knapsack
   lets a job finish in part, which costs about half a job's work per job; where that matters (few units, long
   tasks) Smith's rule of 4 is larger, and the larger of the two is taken.

9. **Mean busy periods.** A task runs contiguously, so it ends ``(p + 1)/2`` after its mean period ``M_k``
   (period indices) in whichever mode; so ``C_j ≥ M_k + (p_k + 1)/2 + tail_k`` for each charged task ``k`` of
   group ``g``, and, averaging with the tasks' shares of the work ``a_k/a_j``, ``C_j ≥ M_j + Σ_k (a_k/a_j)·((p_k +
   1)/2 + tail_k)``, where ``M_j`` is the work-weighted mean period of the job's tasks. Running ``a_k`` of each
   task's work evenly over its periods uses no more than the group's capacity, so ``Σ_j w_j·M_j`` is at least the
   least cost of giving each job ``a_j`` of the capacity curve at ``w_j/a_j`` per unit and period: the jobs in
   Smith's order, each taking the next ``a_j`` of the curve. This sees that a release needs its lots' days, which
   the knapsack of 8 (a whole group on one area at once) does not.

10. **Capacity priced (Lagrangian relaxation).** For prices ``λ_r(t) ≥ 0`` on each resource and period,
   ``Σ_r,t λ_r(t)·(use_r(t) − capacity_r(t)) ≤ 0`` in every plan, so ``Σ_j w_j·C_j`` is at least ``Σ_j w_j·C_j +
   Σ λ·use − Σ λ·capacity``. With ``C_j ≥ S_k + p_k + tail_k`` for each charged task ``k`` (start ``S_k``, the
   duration ``p_k`` of its mode), averaged with the shares ``a_k/a_j`` as in 9, the capacity is the only link between
   tasks, so each task may be placed alone: its best mode and start ``S ≥`` its earliest start (precedence, release)
   of ``c_k·(S + p + tail_k) + Σ_{t∈[S, S+p)} Σ_r units_r·λ_r(t)``, with ``c_k = w_j·a_k/a_j``; the bound is the
   sum of those minima less ``Σ λ·capacity``. Any prices are valid; they are set from Smith's order on the group
   (``λ_r(t) = v_r·Λ(t)``, ``Λ(t)`` the ratios ``w/a`` of the jobs the order puts after ``t``, which are the LP's
   prices of 9: with a task's whole run and its release dates left out, the bound would be about 9), and as ``Λ``
   is convex the best start is found by bisection. It adds what 9 leaves out: a task runs whole from a start no
   earlier than its predecessors allow, in the days of the mode it runs in (a lot done by hand takes its own days,
   not the machine's); each mode pays for its own resources, so a fast mode on a small pool is priced as that
   pool's days. On kursk-border under capabilities it adds 0.6 %: prices improved by subgradient steps or moved
   pool by pool did not raise it further, so this relaxation (and the LP of 9 it generalises) is near its ceiling
   there.

11. **A job ends after all its weighted ancestors, and after all its own tasks.** Moving a job's weight onto one
   ancestor (7) forgets that an asset waits for *every* area that blocks it, and the averaging of 9 and 10 that a
   job waits for *every* one of its tasks. Both are kept in a second Lagrangian relaxation of the group's capacity
   (prices ``λ_r(t) = v_r·Λ(t)`` as in 10, any of them valid): a job ``j`` of the group ends at some ``C_j`` with
   ``C_j ≥ E_k + tail_k`` for *each* charged task ``k`` (end ``E_k``), and a job ``a`` that waits for weighted
   ancestors (an asset) is attached to the group of the one estimated to end last, with ``C_a ≥ C_h + d(h, a)`` for
   each of its ancestors ``h`` there (the longest path found, as in 7) and its own weight counted there only. With
   the capacity priced, each job's tasks are linked to other jobs' only through the attachments, so for a given
   ``C_j`` each task takes, alone, its cheapest mode and start ``S ≥`` its earliest start with ``S + p ≤ C_j −
   tail_k``, its ``p`` periods all *open*: a stand-down (a period in which the group has no capacity) closes every
   pool of the group and every mode of a charged task uses the group, so no plan runs a task there (formally, a
   price ``+∞`` in the closed periods, which costs nothing in ``Σ λ·capacity`` since the capacity there is zero).
   As ``Λ`` does not increase, the cheapest is the latest open window ending by ``C_j − tail_k`` (any earlier one
   has, period by period, prices no lower). So ``f_j(C) = w_j·C + Σ_k min_mode Σ_{t∈[e − p, e)} units·λ(t)``, ``e``
   that latest open end, is the job's least cost at ``C``, found for every integer ``C`` from the first at which
   every task fits (and the job's precedence bound) to the first at which every task has an open window in the
   periods without price (``f_j(C) = w_j·C`` beyond, and ``f_j ≥ w_j·C`` throughout, so the scan of a job stops once
   ``w_j·C`` reaches its best). A job with nothing attached adds ``min f_j``; an attached job adds ``min over T ≥ its
   precedence bound`` of ``w_a·T + Σ_h θ_h·min_{C ≤ T − d(h, a)} f_h(C)``, where an ancestor ``h`` shared by
   several attached jobs is split among them with shares ``θ_h`` summing to one (its copies may then choose
   different ends, which only lowers the minimum: at the plan's own ends the copies add up to ``f_h``). Less
   ``Σ λ·capacity``, that is a bound for any prices. The prices are Smith's order on the group's jobs, each job's
   ratio ``w/a`` raised to that of the whole of any attached job's chain (the attached job's weight and its
   ancestors', over their work), then scaled by tenths while the bound rises (the relaxation's value is concave
   along a ray of prices, so the first fall ends the search), and by a twentieth either side of the best tenth
   (on kursk-border 0.05 %, two evaluations more). This variant keeps each job's weight (7's
   transfers are replaced by the attachments); per group it is the largest of the relaxation, 4, 8, 9 and 10 on the
   unattached jobs plus the attached ones' precedence bounds, and the precedence bound. It scans every end of every
   job, so problems of more than ``AFTER_ALL_MAX_TASKS`` tasks leave it out.

Per group, the largest of 8 (with the tails), 4 (with the tails), 9, 10 and the jobs' precedence bound is taken.
``chain_lower_bound`` returns the larger of the fluid bound and the chain bound's variants (weights kept; moved onto
the ancestor estimated to end last; split over the nearest weighted ancestors in proportion to their work, since
``C_j ≥ Σ_h λ_h·(C_h + d(h, j))`` for shares ``λ`` summing to one; weights kept with the attachments of 11);
``own_lower_bound`` in ``plan.solve`` reports it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from enum import StrEnum
from statistics import median

import numpy as np

from sapper.plan.problem import Objective, Problem, Task


def resource_groups(problem: Problem) -> list[list[int]]:
    """Renewable resources joined when one task has modes on both (union–find), in order of their first resource.

    Budgets (non-renewable resources) take no time and belong to no group."""
    parent = list(range(len(problem.resources)))

    def find(r: int) -> int:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    for task in problem.tasks:
        used = [r for mode in task.modes for r, _ in mode.demands if problem.resources[r].renewable]
        for r in used[1:]:
            a, b = find(used[0]), find(r)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for r in problem.renewable:
        groups.setdefault(find(r), []).append(r)
    return [groups[k] for k in sorted(groups)]


def _speeds(problem: Problem, groups: list[list[int]]) -> dict[int, float]:
    """Work per unit-day of each resource of each group: the median duration ratio to its group's most used resource.

    Any positive speeds keep the bound valid; these make it tight when durations follow a common workload. One pass
    over the tasks serves every group.
    """
    group_of = {r: g for g, rs in enumerate(groups) for r in rs}
    fastest: list[list[dict[int, int]]] = [[] for _ in groups]  # per group, per task: shortest unit-days per resource
    for task in problem.tasks:
        durs: dict[int, dict[int, int]] = {}
        for mode in task.modes:
            for r, units in mode.demands:
                if r in group_of and mode.duration > 0 and units > 0:
                    dur = durs.setdefault(group_of[r], {})
                    dur[r] = min(dur.get(r, mode.duration * units), mode.duration * units)
        for g, dur in durs.items():
            fastest[g].append(dur)
    speeds: dict[int, float] = {}
    for group, found in zip(groups, fastest, strict=True):
        ref = max(group, key=lambda r: sum(r in d for d in found))
        ratios: dict[int, list[float]] = {r: [] for r in group}
        for dur in found:
            if ref in dur:
                for r, d in dur.items():
                    ratios[r].append(dur[ref] / d)
        own = {r: median(v) for r, v in ratios.items() if v}
        top = max(own.values(), default=1.0)
        speeds.update({r: own.get(r, top) for r in group})
    return speeds


def _charges(problem: Problem) -> list[int]:
    """For each task, the job it is charged to: its nearest weighted descendant (itself if weighted), or −1."""
    n = len(problem.tasks)
    owner = [-1] * n
    queue: deque[int] = deque()
    for j, task in enumerate(problem.tasks):
        if task.weight > 0:
            owner[j] = j
            queue.append(j)
    while queue:  # breadth-first backwards from the jobs: each task meets its nearest job first
        j = queue.popleft()
        for p, lag in problem.predecessors[j]:
            if owner[p] == -1 and lag >= 0:
                owner[p] = owner[j]
                queue.append(p)
    return owner


def fluid_lower_bound(problem: Problem, earliest_ends: Sequence[int]) -> float:
    """A lower bound on Σ weight × end that accounts for each resource group's capacity (see the module doc).

    ``earliest_ends`` is a per-task lower bound on the end (e.g. from precedence); makespan problems get the larger
    of the precedence bound and each group's total work over its capacity.
    """
    owner = _charges(problem)
    groups = resource_groups(problem)
    n = len(problem.tasks)
    # work[g][job] = work charged to job in group g
    work: list[dict[int, float]] = [{} for _ in groups]
    caps: list[float] = []
    group_of = {r: g for g, rs in enumerate(groups) for r in rs}
    speeds = _speeds(problem, groups)
    profiles: list[np.ndarray] = []  # work the group can do in each period
    for rs in groups:
        caps.append(sum(problem.resources[r].capacity * speeds[r] for r in rs))
        profiles.append(sum((np.asarray(problem.capacity_profile(r), dtype=float) * speeds[r] for r in rs),
                            np.zeros(problem.horizon)))
    totals = [0.0] * len(groups)
    for k in range(n):
        task = problem.tasks[k]
        per_group: dict[int, float] = {}
        for g in {group_of[r] for mode in task.modes for r, _ in mode.demands if r in group_of}:
            amounts = []
            for mode in task.modes:
                amounts.append(sum(units * speeds[r] for r, units in mode.demands if group_of.get(r) == g)
                               * mode.duration)
            per_group[g] = min(amounts)
        for g, a in per_group.items():
            if a <= 0:
                continue
            totals[g] += a
            if owner[k] >= 0:
                work[g][owner[k]] = work[g].get(owner[k], 0.0) + a
    if problem.objective is Objective.MAKESPAN:
        fluid = max((t / c for t, c in zip(totals, caps, strict=True) if c > 0), default=0.0)
        return max(float(max(earliest_ends, default=0)), fluid)

    jobs = [j for j in range(n) if problem.tasks[j].weight > 0]
    home: dict[int, int] = {}
    for j in jobs:
        best, best_t = -1, 0.0
        for g in range(len(groups)):
            a = work[g].get(j, 0.0)
            if a > 0 and caps[g] > 0 and a / caps[g] > best_t:
                best, best_t = g, a / caps[g]
        home[j] = best
    bound = float(sum(problem.tasks[j].weight * earliest_ends[j] for j in jobs if home[j] == -1))
    for g in range(len(groups)):
        members = [j for j in jobs if home[j] == g]
        if not members or caps[g] <= 0:
            continue
        precedence = float(sum(problem.tasks[j].weight * earliest_ends[j] for j in members))
        # Smith's rule over every job with work here (jobs counted elsewhere still use the capacity, with weight 0,
        # so they go last and do not change the sum).
        order = sorted(members, key=lambda j: work[g][j] / problem.tasks[j].weight)
        done = 0.0
        smith = 0.0  # Σ w·cum in Smith's order
        for j in order:
            done += work[g][j]
            smith += problem.tasks[j].weight * done
        bound += max(precedence, _with_outages(smith, float(sum(problem.tasks[j].weight for j in members)), done,
                                               caps[g], profiles[g]))
    return bound


def _with_outages(smith: float, weights: float, total: float, cap: float, profile: np.ndarray) -> float:
    """max over slopes α of α·smith + β(α)·weights, where α·x + β ≤ g(x) on [0, total] (see the module doc)."""
    cumulative = np.cumsum(profile)  # K(t + 1) for t = 0 … horizon − 1
    needed = int(np.searchsorted(cumulative, total - 1e-9)) + 1  # periods until the work can be done
    if needed > len(cumulative):  # more work than the horizon holds: the no-outage line is still valid
        return smith / cap
    t = np.arange(needed, dtype=float)
    k_next = cumulative[:needed]
    best = smith / cap  # α = 1/cap, β = 0: valid since K(t) ≤ cap·t
    average = needed / total if total > 0 else 1.0 / cap
    for alpha in np.linspace(1.0 / cap, max(1.0 / cap, 1.5 * average), 16):
        beta = float(np.min(t - alpha * k_next))
        best = max(best, alpha * smith + beta * weights)
    return best


#: Problems of more tasks leave out the relaxation of 11 (module doc): on a national-synthetic region (55,000 tasks
#: over 15,553 periods) it took 10–15 s of CPU for under 0.1 %, and each region's solve computes the bound.
AFTER_ALL_MAX_TASKS = 30_000


def chain_lower_bound(problem: Problem, earliest_ends: Sequence[int]) -> float:
    """A lower bound on the objective: the larger of the fluid bound and, for Σ weight × end, the chain bound (see
    **Chain bound** in the module doc) with each job's weight kept, moved onto the ancestor estimated to end last,
    split over its ancestors, and kept with each job ending after all its ancestors (11; problems of at most
    ``AFTER_ALL_MAX_TASKS`` tasks)."""
    fluid = fluid_lower_bound(problem, earliest_ends)
    if problem.objective is Objective.MAKESPAN or not any(t.weight for t in problem.tasks):
        return fluid
    chains = _Chains(problem, earliest_ends)
    variants = [t for t in _Transfer if t is not _Transfer.ALL or len(problem.tasks) <= AFTER_ALL_MAX_TASKS]
    return max(fluid, *(chains.bound(transfer=t) for t in variants))



class _Transfer(StrEnum):
    """Where a job's weight goes before the groups are bounded (module doc, 7)."""

    NONE = "none"  # each job keeps its weight
    LATEST = "latest"  # onto the weighted ancestor estimated to end last
    SPLIT = "split"  # onto every nearest weighted ancestor, in proportion to its work
    ALL = "all"  # kept, and a job that waits for weighted ancestors ends after all of them (module doc, 11)


class _Chains:
    """What the chain bound needs of a problem: per group and job, the charged work, its tail and its head."""

    def __init__(self, problem: Problem, earliest_ends: Sequence[int]) -> None:
        self.problem = problem
        self.ends = [float(e) for e in earliest_ends]
        n = len(problem.tasks)
        owner = _charges(problem)
        self.groups = resource_groups(problem)
        group_of = {r: g for g, rs in enumerate(self.groups) for r in rs}
        speeds = _speeds(problem, self.groups)
        self.caps: list[float] = []
        self.profiles: list[np.ndarray] = []
        for rs in self.groups:
            self.caps.append(sum(problem.resources[r].capacity * speeds[r] for r in rs))
            self.profiles.append(sum((np.asarray(problem.capacity_profile(r), dtype=float) * speeds[r] for r in rs),
                                     np.zeros(problem.horizon)))
        self.shortest = [min(m.duration for m in t.modes) for t in problem.tasks]
        # Longest path (shortest modes, lags) from a task's end to its job's end, through tasks charged to that job.
        to_job: list[float] = [0.0] * n
        for k in reversed(problem.topological_order):
            job = owner[k]
            if job < 0 or job == k:
                continue
            to_job[k] = max((lag + self.shortest[s] + to_job[s] for s, lag in problem.successors[k]
                             if owner[s] == job), default=0.0)
        self.work: list[dict[int, float]] = [{} for _ in self.groups]
        self.tail: list[dict[int, float]] = [{} for _ in self.groups]  # least path from a charged task to the job
        self.head: list[dict[int, float]] = [{} for _ in self.groups]  # latest earliest end of a charged task
        self.after: list[dict[int, float]] = [{} for _ in self.groups]  # work-weighted time from mean to job end
        self.runs = [_Runs(rs, speeds) for rs in self.groups]
        for k, task in enumerate(problem.tasks):
            job = owner[k]
            if job < 0:
                continue
            for g in {group_of[r] for mode in task.modes for r, _ in mode.demands if r in group_of}:
                amount = min(sum(units * speeds[r] for r, units in mode.demands if group_of.get(r) == g)
                             * mode.duration for mode in task.modes)
                if amount <= 0:
                    continue
                earliest_start = max([task.release, *(self.ends[a] + lag for a, lag in problem.predecessors[k])])
                self.runs[g].add(task, job, amount, to_job[k], earliest_start)
                self.work[g][job] = self.work[g].get(job, 0.0) + amount
                self.tail[g][job] = min(self.tail[g].get(job, to_job[k]), to_job[k])
                self.head[g][job] = max(self.head[g].get(job, self.ends[k]), self.ends[k])
                # Σ a_k·((p_k + 1)/2 + tail_k): a task runs contiguously, so it ends (p + 1)/2 after its mean period
                after = amount * ((self.shortest[k] + 1) / 2 + to_job[k])
                self.after[g][job] = self.after[g].get(job, 0.0) + after
        self.jobs = [j for j in range(n) if problem.tasks[j].weight > 0]
        self._found: dict[int, dict[int, float]] = {}

    def _home(self, j: int) -> int:
        """The group where the job's charged work, over the group's capacity, and its tail take longest (−1: none)."""
        best, best_t = -1, 0.0
        for g, work in enumerate(self.work):
            a = work.get(j, 0.0)
            if a > 0 and self.caps[g] > 0 and a / self.caps[g] + self.tail[g][j] > best_t:
                best, best_t = g, a / self.caps[g] + self.tail[g][j]
        return best

    def _ancestors(self, j: int) -> dict[int, float]:
        """The nearest weighted ancestors of ``j``, each with the longest path found from its end to ``j``'s end."""
        if j not in self._found:
            self._found[j] = self._search_ancestors(j)
        return self._found[j]

    def _search_ancestors(self, j: int) -> dict[int, float]:
        tasks = self.problem.tasks
        best: dict[int, float] = {}
        seen: dict[int, float] = {}
        stack = [(i, lag + float(self.shortest[j])) for i, lag in self.problem.predecessors[j]]
        steps = 0
        while stack and steps < _MAX_STEPS:
            steps += 1
            i, d = stack.pop()
            if d <= seen.get(i, -math.inf):
                continue
            seen[i] = d
            if tasks[i].weight > 0:
                best[i] = d
            else:
                stack.extend((h, lag + self.shortest[i] + d) for h, lag in self.problem.predecessors[i])
        return best

    def bound(self, *, transfer: _Transfer) -> float:
        """Σ over groups of each group's bound on its jobs' weighted ends (module doc); with ``transfer``, a job's
        weight first moves onto its weighted ancestors (with the paths between them)."""
        if transfer is _Transfer.ALL:
            return self._bound_after_all()
        weight = {j: float(self.problem.tasks[j].weight) for j in self.jobs}
        const = dict.fromkeys(self.jobs, 0.0)  # Σ weight × path of the jobs moved onto each job
        precedence = {j: weight[j] * self.ends[j] for j in self.jobs}
        if transfer is not _Transfer.NONE:
            estimate = self._estimated_ends(weight)
            for j in reversed(self.problem.topological_order):
                if weight.get(j, 0.0) <= 0:
                    continue
                ancestors = self._ancestors(j)
                if not ancestors:
                    continue
                # C_j ≥ C_h + d(h, j) for each ancestor h, so C_j ≥ Σ_h λ_h·(C_h + d(h, j)) for shares λ summing to 1.
                if transfer is _Transfer.LATEST:
                    shares = {max(ancestors, key=lambda a: (estimate[a] + ancestors[a], -a)): 1.0}
                else:
                    size = {h: sum(w.get(h, 0.0) / c for w, c in zip(self.work, self.caps, strict=True) if c > 0)
                            for h in ancestors}
                    total = sum(size.values())
                    shares = {h: size[h] / total if total > 0 else 1.0 / len(ancestors) for h in ancestors}
                for h, share in shares.items():
                    weight[h] += share * weight[j]
                    const[h] += share * (const[j] + weight[j] * ancestors[h])
                    precedence[h] += share * precedence[j]
                weight[j], const[j], precedence[j] = 0.0, 0.0, 0.0
        live = [j for j in self.jobs if weight[j] > 0]
        home = {j: self._home(j) for j in live}
        total = sum(precedence[j] for j in live if home[j] == -1)
        for g in range(len(self.groups)):
            members = [j for j in live if home[j] == g]
            if not members:
                continue
            work = np.array([self.work[g][j] for j in members])
            weights = np.array([weight[j] for j in members])
            fluid = _unfinished_weight(work, weights, np.array([self.head[g][j] for j in members]), self.profiles[g])
            order = np.argsort(work / weights, kind="stable")
            smith = float(np.dot(weights[order], np.cumsum(work[order])))  # Σ w·cum in Smith's order, as in 4
            fluid = max(fluid, _with_outages(smith, float(weights.sum()), float(work.sum()), self.caps[g],
                                             self.profiles[g]))
            fluid += sum(weight[j] * self.tail[g][j] for j in members)
            after = np.array([self.after[g][j] for j in members])
            fluid = max(fluid, _mean_busy(work, weights, after, self.profiles[g]),
                        self.runs[g].bound(members, weights, work, self.profiles[g]))
            fluid += sum(const[j] for j in members)
            total += max(fluid, sum(precedence[j] for j in members))
        return total

    def _bound_after_all(self) -> float:
        """The chain bound with each job's weight kept and, per group, the Lagrangian relaxation of 11 (module doc):
        a job that waits for weighted ancestors (an asset for its areas' releases) is attached to the group of the
        ancestor estimated to end last and ends no earlier than the last of its ancestors there."""
        weight = {j: float(self.problem.tasks[j].weight) for j in self.jobs}
        ancestors = {j: self._ancestors(j) for j in self.jobs}
        targets = {h for anc in ancestors.values() for h in anc}
        home = {j: self._home(j) for j in self.jobs}
        estimate = self._estimated_ends(weight)
        attached: dict[int, tuple[int, dict[int, float]]] = {}  # job → (group, {ancestor: path})
        for a, anc in ancestors.items():
            near = {h: d for h, d in anc.items() if home[h] >= 0}
            if a in targets or not near:  # an ancestor itself keeps its own job (one level of attachment)
                continue
            g = home[max(near, key=lambda h: (estimate[h] + near[h], -h))]
            attached[a] = (g, {h: d for h, d in near.items() if home[h] == g})
        free = [j for j in self.jobs if j not in attached]
        total = sum(weight[j] * self.ends[j] for j in free if home[j] == -1)
        for g in range(len(self.groups)):
            members = [j for j in free if home[j] == g]
            joined = [(a, anc) for a, (h, anc) in attached.items() if h == g]
            if not members:
                continue
            work = np.array([self.work[g][j] for j in members])
            weights = np.array([weight[j] for j in members])
            others = self._group_bound(g, members, weights, work) + sum(weight[a] * self.ends[a] for a, _ in joined)
            place = {j: i for i, j in enumerate(members)}
            stars = [(weight[a], self.ends[a], {place[h]: d for h, d in anc.items()}) for a, anc in joined]
            lower = np.array([self.ends[j] for j in members])
            after_all = self.runs[g].after_all(members, weights, work, lower, stars, self.profiles[g])
            total += max(others, after_all, float(np.dot(weights, lower)) + sum(w * e for w, e, _ in stars))
        return total

    def _group_bound(self, g: int, members: list[int], weights: np.ndarray, work: np.ndarray) -> float:
        """The largest of 8, 4, 9 and 10 (module doc) for the jobs ``members`` of group ``g``, weights kept."""
        fluid = _unfinished_weight(work, weights, np.array([self.head[g][j] for j in members]), self.profiles[g])
        order = np.argsort(work / weights, kind="stable")
        smith = float(np.dot(weights[order], np.cumsum(work[order])))
        fluid = max(fluid, _with_outages(smith, float(weights.sum()), float(work.sum()), self.caps[g],
                                         self.profiles[g]))
        fluid += float(sum(weights[i] * self.tail[g][j] for i, j in enumerate(members)))
        after = np.array([self.after[g][j] for j in members])
        return max(fluid, _mean_busy(work, weights, after, self.profiles[g]),
                   self.runs[g].bound(members, weights, work, self.profiles[g]))

    def _estimated_ends(self, weight: dict[int, float]) -> dict[int, float]:
        """Each job's end in Smith's order on its home group (capacity without outages) plus its tail: only used
        to choose where a job's weight goes, so any estimate keeps the bound valid."""
        estimate = dict.fromkeys(self.jobs, 0.0)
        by_group: dict[int, list[int]] = {}
        for j in self.jobs:
            g = self._home(j)
            if g < 0:
                estimate[j] = self.ends[j]
            else:
                by_group.setdefault(g, []).append(j)
        for g, members in by_group.items():
            done = 0.0
            for j in sorted(members, key=lambda j: self.work[g][j] / weight[j]):
                done += self.work[g][j]
                estimate[j] = max(self.ends[j], done / self.caps[g] + self.tail[g][j])
        return estimate


#: Steps of the search for a job's weighted ancestors (a path found is valid; stopping early only weakens the bound).
_MAX_STEPS = 10_000


def _mean_busy(work: np.ndarray, weight: np.ndarray, after: np.ndarray, profile: np.ndarray) -> float:
    """A lower bound on Σ weight × C over jobs whose charged tasks (``work`` in all) run on a machine doing
    ``profile[t]`` work in period ``t``, where ``after[j] = Σ_k a_k·((p_k + 1)/2 + tail_k)`` over the job's tasks
    (module doc, 9): Σ_j w_j·M_j + Σ_j w_j·after_j/a_j, with Σ_j w_j·M_j (the work-weighted mean periods) at least
    what the capacity curve allows when the jobs take it in Smith's order."""
    order = np.argsort(work / weight, kind="stable")
    cum_cap = np.concatenate(([0.0], np.cumsum(profile)))  # K(t)
    periods = np.arange(len(profile), dtype=float)
    area = np.concatenate(([0.0], np.cumsum(periods * profile)))  # G(K(t)) = Σ_{s<t} s·c(s)

    def integral(x: np.ndarray) -> np.ndarray:
        """G(x) = ∫_0^x g, g(x) the period in which the x-th unit of work is done (the last one past the horizon)."""
        t = np.clip(np.searchsorted(cum_cap, x, side="right") - 1, 0, len(profile) - 1)
        return np.asarray(area[t] + periods[t] * (x - cum_cap[t]))

    ends = np.cumsum(work[order])
    slot = integral(ends) - integral(ends - work[order])  # ∫ of the periods over each job's share of the capacity
    return float(np.sum(weight[order] * slot / work[order]) + np.sum(weight * after / work))


def _unfinished_weight(work: np.ndarray, weight: np.ndarray, head: np.ndarray, profile: np.ndarray) -> float:
    """A lower bound on Σ weight × C over jobs that need ``work`` on a machine doing ``profile[t]`` work in period
    ``t``, none ending before its ``head``: Σ_t of the weight unfinished at ``t``, which is at least the weight of
    the jobs whose head is after ``t`` and at least the total less the most weight ``K(t)`` work can finish
    (fractional knapsack: jobs in Smith's order)."""
    order = np.argsort(work / weight, kind="stable")
    cum_work = np.concatenate(([0.0], np.cumsum(work[order])))
    cum_weight = np.concatenate(([0.0], np.cumsum(weight[order])))
    total = float(cum_weight[-1])
    done = np.concatenate(([0.0], np.cumsum(profile)))[:-1]  # K(t): work the periods before t can do
    full = np.minimum(np.searchsorted(cum_work, done, side="right") - 1, len(work) - 1)
    part = np.clip((done - cum_work[full]) / work[order][full], 0.0, 1.0)
    finished = np.minimum(cum_weight[full] + weight[order][full] * part, total)
    late = np.zeros(len(profile) + 1)
    np.add.at(late, np.minimum(head.astype(np.int64), len(profile)), weight)
    not_before = total - np.cumsum(late)[:-1]  # weight of the jobs whose head is after t: head > t
    return float(np.maximum(total - finished, not_before).sum())


def _placed(jobs: np.ndarray, members: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows' jobs as integers and each job's place among ``members`` (-1 for a job not among them)."""
    job = jobs.astype(np.int64)
    place = np.full(int(max(job.max(), max(members))) + 1, -1, dtype=np.int64)
    place[np.asarray(members, dtype=np.int64)] = np.arange(len(members))
    return job, place


def _smith_prices(ratio: np.ndarray, work: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Prices of a group's capacity from Smith's order (module doc, 10): Λ(t) = Σ_{s>t} ρ(s), ρ(s) the ratio ``w/a``
    of the job Smith's order has in period s; Λ(0 … horizon + 1), non-increasing, zero from the horizon on."""
    order = np.argsort(-ratio, kind="stable")
    cum_work = np.cumsum(work[order])
    before = np.cumsum(profile) - profile  # work the periods before s can do
    at = np.minimum(np.searchsorted(cum_work, before + 1e-9), len(order) - 1)
    rho = np.where(before < cum_work[-1] - 1e-9, ratio[order][at], 0.0)
    return np.concatenate((np.cumsum(rho[::-1])[::-1][1:], [0.0, 0.0]))


def _open_windows(profile: np.ndarray, durations: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """For each duration ``p`` and each end ``e`` (0 … ``length`` − 1): the latest end ``≤ e`` and the first end
    ``≥ e`` of ``p`` periods in a row that all have capacity (``profile > 0``; open past the profile's end); −1 and
    ``length`` where there is none."""
    closed = np.zeros(length, dtype=bool)
    closed[:len(profile)] = profile[:length] <= 0
    ends = np.arange(length)
    closed_to = np.maximum.accumulate(np.where(closed, ends + 1, 0))  # just after the last closed period ≤ t
    open_run = ends - np.concatenate(([0], closed_to[:-1]))  # open periods in a row before end e
    fits = open_run[None, :] >= durations[:, None]
    latest = np.maximum.accumulate(np.where(fits, ends, -1), axis=1)
    first = np.minimum.accumulate(np.where(fits, ends, length)[:, ::-1], axis=1)[:, ::-1]
    return latest, first


class _Runs:
    """The charged tasks of one group as the Lagrangian relaxation of its capacity sees them (module doc, 10): one row
    per task and mode (its duration, its units on the group's resources, the task's work, tail and earliest start)."""

    def __init__(self, group: list[int], speeds: dict[int, float]) -> None:
        self.column = {r: i for i, r in enumerate(group)}
        self.speed = [speeds[r] for r in group]
        self.rows: list[tuple[int, int, float, int, float, float, float]] = []
        self._tasks = 0
        self._arrays: dict[str, np.ndarray] = {}

    def add(self, task: Task, job: int, amount: float, tail: float, earliest_start: float) -> None:
        """Rows for ``task`` (charged to ``job``, ``amount`` of work here): one per mode, each with its units on the
        group weighted by the resources' speeds (a row's price per period is that sum times Λ)."""
        for mode in task.modes:
            per_unit = sum(u * self.speed[self.column[r]] for r, u in mode.demands if r in self.column)
            self.rows.append((self._tasks, job, amount, mode.duration, per_unit, tail, earliest_start))
        self._tasks += 1

    def _columns(self) -> dict[str, np.ndarray]:
        if not self._arrays and self.rows:
            table = np.array(self.rows, dtype=float)
            for i, name in enumerate(("task", "job", "work", "duration", "per_unit", "tail", "earliest")):
                self._arrays[name] = table[:, i]
        return self._arrays

    def bound(self, members: Sequence[int], weights: np.ndarray, work: np.ndarray, profile: np.ndarray) -> float:
        """A lower bound on Σ weight × C over ``members`` (jobs with ``weights`` and charged ``work`` here): the
        Lagrangian relaxation of the group's capacity with prices from Smith's order (module doc, 10)."""
        rows = self._columns()
        if not rows or not len(members):
            return 0.0
        horizon = len(profile)
        job, place = _placed(rows["job"], members)
        keep = place[job] >= 0
        if not keep.any():
            return 0.0
        ratio = weights / work  # ρ_j = w_j / a_j
        cost = ratio[place[job[keep]]] * rows["work"][keep]  # c_k = w_j·a_k/a_j
        duration = rows["duration"][keep].astype(np.int64)
        tail = rows["tail"][keep]
        per_unit = rows["per_unit"][keep]
        earliest = np.minimum(np.ceil(rows["earliest"][keep]), horizon).astype(np.int64)
        task = rows["task"][keep].astype(np.int64)
        price = _smith_prices(ratio, work, profile)
        prefix = np.concatenate(([0.0], np.cumsum(price)))  # Σ_{s<t} Λ(s)
        # The best start S ≥ earliest of c·(S + p + tail) + per_unit·Σ_{t∈[S, S+p)} Λ(t): convex in S (Λ is convex),
        # so the first S whose next step gains nothing, c + per_unit·(Λ(S+p) − Λ(S)) ≥ 0 (at most horizon − p).
        lo = earliest.copy()
        hi = np.maximum(horizon - duration, lo)
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            gain = cost + per_unit * (price[np.minimum(mid + duration, horizon)] - price[mid])
            hi = np.where(active & (gain >= 0), mid, hi)
            lo = np.where(active & (gain < 0), mid + 1, lo)
        start = np.minimum(lo, horizon)
        value = cost * (start + duration + tail) + per_unit * (prefix[np.minimum(start + duration, horizon + 1)]
                                                               - prefix[start])
        first = np.flatnonzero(np.diff(task, prepend=-1))
        return float(np.minimum.reduceat(value, first).sum() - np.dot(price[:horizon], profile))

    def after_all(self, members: Sequence[int], weights: np.ndarray, work: np.ndarray, lower: np.ndarray,
                  stars: Sequence[tuple[float, float, dict[int, float]]], profile: np.ndarray) -> float:
        """A lower bound on Σ weight × C over ``members`` (jobs with ``weights``, charged ``work`` here, none ending
        before ``lower``) and the attached jobs ``stars`` (weight, own lower end, {member index: path}): the
        Lagrangian relaxation of 11 (module doc), prices from Smith's order with each member's ratio at least that of
        the chains it is in, scaled while the bound rises."""
        rows = self._columns()
        if not rows or not len(members):
            return 0.0
        horizon = len(profile)
        job, place = _placed(rows["job"], members)
        keep = np.flatnonzero(place[job] >= 0)
        if not len(keep):
            return 0.0
        # Rows by job, each task's modes together, within a task by units then duration; a mode that needs no fewer
        # units and no fewer periods than another of its task's never costs less, nor fits where the other does not.
        task_all = rows["task"].astype(np.int64)
        keep = keep[np.lexsort((rows["duration"][keep], rows["per_unit"][keep], task_all[keep], place[job[keep]]))]
        big = float(rows["duration"].max()) + 1.0
        rank = np.cumsum(np.diff(task_all[keep], prepend=-1) != 0)  # 1, 2, … by task in this order
        value = rows["duration"][keep] + (rank[-1] + 1 - rank) * big  # earlier tasks' values are all larger
        before = np.concatenate(([np.inf], np.minimum.accumulate(value)[:-1]))
        keep = keep[before > value]
        owner = place[job[keep]]
        duration = rows["duration"][keep].astype(np.int64)
        tail = np.floor(rows["tail"][keep] + 1e-9).astype(np.int64)  # a shorter path keeps the bound valid
        per_unit = rows["per_unit"][keep]
        earliest = np.ceil(rows["earliest"][keep] - 1e-9).astype(np.int64)
        task = rows["task"][keep].astype(np.int64)
        task_first = np.flatnonzero(np.diff(task, prepend=-1))  # first row of each task
        task_job = owner[task_first]
        job_first = np.flatnonzero(np.diff(task_job, prepend=-1))  # first task of each job (every member has one)
        n = len(members)
        if len(job_first) != n:  # a member with no row here: nothing to add for this group
            return 0.0
        ratio = weights / work
        for w, _, anc in stars:
            nodes = list(anc)
            composite = (w + weights[nodes].sum()) / work[nodes].sum()
            ratio[nodes] = np.maximum(ratio[nodes], composite)
        smith = _smith_prices(ratio, work, profile)
        # Windows that keep out of the stand-downs (periods in which the group has no capacity): per distinct
        # duration, the latest end ≤ E of an open window and the first end ≥ E of one (module doc, 11).
        durations, by_duration = np.unique(duration, return_inverse=True)
        past = max(horizon + int(duration.max()), int((earliest + duration).max()), math.ceil(lower.max()))
        latest_end, first_end = _open_windows(profile, durations, past + int(tail.max()) + 2)  # every end scanned
        length = latest_end.shape[1]

        def value_at(price: np.ndarray) -> float:
            prefix = np.concatenate(([0.0], np.cumsum(price[:horizon])))  # Σ_{s<t} Λ(s), t = 0 … horizon
            positive = np.flatnonzero(price[:horizon] > 0)
            free_from = int(positive[-1]) + 1 if len(positive) else 0  # Λ(t) = 0 from here on
            # C_j from lo_j: every task has a mode that fits; from hi_j every task has an open window in the free
            # periods, so f_j(C) = w_j·C beyond.
            need = np.minimum.reduceat(earliest + duration + tail, task_first)
            lo = np.maximum(np.maximum.reduceat(need, job_first), np.ceil(lower - 1e-9).astype(np.int64))
            free_end = first_end[by_duration, np.minimum(free_from + duration, length - 1)]
            hi = np.maximum(lo, np.maximum.reduceat(free_end + tail, np.flatnonzero(np.diff(owner, prepend=-1))))
            first_c, last_c = int(lo.min()), int(hi.max())
            best = np.full(n, np.inf)
            in_star = np.zeros(n, dtype=bool)
            for _, _, anc in stars:
                in_star[list(anc)] = True
            star_rows = np.flatnonzero(in_star)
            curve = np.full((len(star_rows), last_c - first_c + 1), np.inf)  # f_h(C) of the members jobs wait for
            curve_of = np.full(n, -1, dtype=np.int64)
            curve_of[star_rows] = np.arange(len(star_rows))
            row_first = np.flatnonzero(np.diff(owner, prepend=-1))
            row_count = np.diff(np.append(row_first, len(owner)))
            block = 32
            for c0 in range(first_c, last_c + 1, block):
                cs = np.arange(c0, min(c0 + block, last_c + 1))
                # f_j(C) ≥ w_j·C ≥ best_j: nothing better from C on (the prefix minimum stays as it is)
                live = np.flatnonzero((lo <= cs[-1]) & (hi >= cs[0]) & (weights * cs[0] < best))
                if not len(live):
                    continue
                starts, counts = row_first[live], row_count[live]
                sel = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
                # each task's latest end for the job's C, in the latest open window (Λ does not increase)
                end = latest_end[by_duration[sel][:, None], np.clip(cs[None, :] - tail[sel][:, None], 0, length - 1)]
                begin = end - duration[sel][:, None]
                cost = per_unit[sel][:, None] * (prefix[np.clip(end, 0, horizon)] - prefix[np.clip(begin, 0, horizon)])
                cost = np.where(begin >= earliest[sel][:, None], cost, np.inf)
                t_first = np.flatnonzero(np.diff(task[sel], prepend=-1))
                per_task = np.minimum.reduceat(cost, t_first, axis=0)
                j_first = np.flatnonzero(np.diff(owner[sel][t_first], prepend=-1))
                value = np.add.reduceat(per_task, j_first, axis=0) + weights[live][:, None] * cs[None, :]
                value = np.where((cs[None, :] >= lo[live][:, None]) & (cs[None, :] <= hi[live][:, None]), value, np.inf)
                best[live] = np.minimum(best[live], value.min(axis=1))
                which = curve_of[live] >= 0
                if which.any():
                    curve[curve_of[live][which], cs[0] - first_c:cs[-1] - first_c + 1] = value[which]
            shares = np.zeros(n)
            for _, _, anc in stars:
                shares[list(anc)] += 1.0
            total = float(best[~in_star].sum())
            prefix_min = np.minimum.accumulate(curve, axis=1) if len(star_rows) else curve
            for w, own, anc in stars:
                # min over T of w·T + Σ_h θ_h·min_{C_h ≤ T − d_h} f_h(C_h), θ_h = 1/(jobs waiting for h)
                paths = {h: math.floor(d + 1e-9) for h, d in anc.items()}
                t_lo = max([math.ceil(own - 1e-9), *(int(lo[h]) + d for h, d in paths.items())])
                t_hi = max(t_lo, *(int(hi[h]) + d for h, d in paths.items()))
                times = np.arange(t_lo, t_hi + 1)
                acc = w * times.astype(float)
                for h, d in paths.items():
                    x = np.clip(times - d - first_c, 0, last_c - first_c)
                    acc = acc + prefix_min[curve_of[h]][x] / shares[h]
                total += float(acc.min())
            return total - float(np.dot(price[:horizon], profile))

        # Any prices are valid and the relaxation is concave along a ray of prices: scale Smith's prices by
        # steps of a tenth while the bound rises, then try a twentieth either side of the best.
        values = {10: value_at(smith)}
        for step in (1, -1):
            k = 10 + step
            while 0 < k <= 30:
                values[k] = value_at(smith * (k / 10))
                if values[k] <= values[k - step]:
                    break
                k += step
            if len(values) > 2 or values.get(11, -math.inf) > values[10]:
                break
        # Then a twentieth either side of the best tenth: the maximum lies within a tenth of it (concave).
        top = max(values, key=lambda k: values[k])
        halves = [value_at(smith * ((top + h) / 10)) for h in (-0.5, 0.5) if top + h > 0]
        return max(values[top], *halves)
