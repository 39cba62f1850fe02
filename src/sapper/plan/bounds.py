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
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from statistics import median

import numpy as np

from sapper.plan.problem import Objective, Problem


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


def _speeds(problem: Problem, group: list[int]) -> dict[int, float]:
    """Work per unit-day of each resource of ``group``: the median duration ratio to the group's most used resource.

    Any positive speeds keep the bound valid; these make it tight when durations follow a common workload.
    """
    fastest: list[dict[int, int]] = []  # per task: shortest unit-days on each resource of the group
    for task in problem.tasks:
        dur: dict[int, int] = {}
        for mode in task.modes:
            for r, units in mode.demands:
                if r in group and mode.duration > 0 and units > 0:
                    dur[r] = min(dur.get(r, mode.duration * units), mode.duration * units)
        if dur:
            fastest.append(dur)
    ref = max(group, key=lambda r: sum(r in d for d in fastest))
    ratios: dict[int, list[float]] = {r: [] for r in group}
    for dur in fastest:
        if ref in dur:
            for r, d in dur.items():
                ratios[r].append(dur[ref] / d)
    speeds = {r: median(v) for r, v in ratios.items() if v}
    top = max(speeds.values(), default=1.0)
    return {r: speeds.get(r, top) for r in group}


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
    speeds: dict[int, float] = {}
    profiles: list[np.ndarray] = []  # work the group can do in each period
    for rs in groups:
        speeds.update(_speeds(problem, rs))
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
