"""Assign concrete units (teams, brigades) to a schedule solved on pools: interval colouring per pool.

A pool's capacity bounds how many of its tasks overlap, so taking tasks in order of start and giving each a unit that
is free at its start always succeeds (interval graphs are perfect). Among free units, the one that became free last
is taken first (best fit), which keeps units' work contiguous; ties go to the lower unit index.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from sapper.errors import PlanError
from sapper.plan.problem import Problem
from sapper.plan.solution import Schedule


def assign_units(problem: Problem, schedule: Schedule, units: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """For each task, the ids of the units it uses (empty for tasks that use none).

    ``units[r]`` lists the unit ids of resource ``r``; its length must equal the resource's capacity. Unavailable
    spans take units too (as placeholders), so a unit is never given work during its stand-down.
    """
    faults = [f"resource {r.name} has capacity {r.capacity} but {len(units[i])} units"
              for i, r in enumerate(problem.resources) if len(units[i]) != r.capacity]
    if faults:
        raise PlanError("; ".join(faults))
    out: list[list[str]] = [[] for _ in problem.tasks]
    for r, res in enumerate(problem.resources):
        events: list[tuple[int, int, int, int]] = []  # (start, end, units, task or -1 for an outage)
        for s, e, u in res.unavailable:
            events.append((s, e, u, -1))
        for j, task in enumerate(problem.tasks):
            mode = task.modes[schedule.modes[j]]
            if mode.duration == 0:
                continue
            for rr, u in mode.demands:
                if rr == r:
                    events.append((schedule.starts[j], schedule.starts[j] + mode.duration, u, j))
        events.sort(key=lambda ev: (ev[0], ev[3] >= 0, ev[3]))
        free: list[tuple[int, int]] = [(0, k) for k in range(res.capacity)]  # (-free_since, unit index)
        busy: list[tuple[int, int]] = []  # (free_at, unit index)
        for s, e, u, j in events:
            while busy and busy[0][0] <= s:
                t, k = heapq.heappop(busy)
                heapq.heappush(free, (-t, k))
            if len(free) < u:
                raise PlanError(f"resource {res.name} is over capacity at period {s}: the schedule is infeasible")
            for _ in range(u):
                _, k = heapq.heappop(free)
                heapq.heappush(busy, (e, k))
                if j >= 0:
                    out[j].append(units[r][k])
    return [tuple(x) for x in out]
