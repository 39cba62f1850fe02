"""Assign concrete units (teams, brigades) to a schedule solved on pools: interval colouring per pool.

A pool's capacity bounds how many of its tasks overlap, so taking tasks in order of start and giving each a unit that
is free at its start always succeeds (interval graphs are perfect). Among free units, the one that became free last
is taken first (best fit), which keeps units' work contiguous; ties go to the lower unit index. A re-plan may name
units it prefers per task (the team already on it): a preferred unit that is free at the task's start is taken first;
otherwise the free unit that a later task wants last (or never), so that taking it spoils as few later preferences
as possible. Any free unit keeps the colouring possible, so a preference never makes an assignment fail. With
``by_role``, a free unit whose previous task was in the same role (the mode's name) goes before the others, so a unit
that has taken up a role keeps it (``plan.setups``: set-up is paid per change of role).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from sapper.errors import PlanError
from sapper.plan.problem import Problem
from sapper.plan.solution import Schedule


def assign_units(problem: Problem, schedule: Schedule, units: Sequence[Sequence[str]], *,
                 prefer: Sequence[Sequence[str]] | None = None, by_role: bool = False) -> list[tuple[str, ...]]:
    """For each task, the ids of the units it uses (empty for tasks that use none).

    ``units[r]`` lists the unit ids of resource ``r``; its length must equal the resource's capacity. Unavailable
    spans take units too (as placeholders), so a unit is never given work during its stand-down. ``prefer[j]`` names
    units task j should keep when they are free at its start; ``by_role``: keep units in the role they are in (module
    docstring).
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
        index = {uid: k for k, uid in enumerate(units[r])}
        wants: list[list[int]] = [[] for _ in range(res.capacity)]  # per unit: positions of the events wanting it
        for pos, (_, _, _, j) in enumerate(events):
            for x in (prefer[j] if prefer is not None and j >= 0 else ()):
                if x in index:
                    wants[index[x]].append(pos)
        wants = [w[::-1] for w in wants]  # next wanting event last
        free: dict[int, int] = dict.fromkeys(range(res.capacity), 0)  # unit index -> free since
        last_role: dict[int, str] = {}  # unit index -> role of its previous task (by_role)
        busy: list[tuple[int, int]] = []  # (free_at, unit index)
        for pos, (s, e, u, j) in enumerate(events):
            while busy and busy[0][0] <= s:
                t, k = heapq.heappop(busy)
                free[k] = t
            if len(free) < u:
                raise PlanError(f"resource {res.name} is over capacity at period {s}: the schedule is infeasible")
            wanted = [index[x] for x in (prefer[j] if prefer is not None and j >= 0 else ()) if x in index]
            for w in wants:
                while w and w[-1] <= pos:
                    w.pop()
            role = problem.tasks[j].modes[schedule.modes[j]].name if by_role and j >= 0 else None
            for _ in range(u):
                pick = next((w for w in wanted if w in free), None)
                if pick is not None:
                    k = pick
                elif prefer is not None:
                    k = max(free, key=lambda x: (wants[x][-1] if wants[x] else len(events),
                                                 role is not None and last_role.get(x) == role, free[x], -x))
                else:
                    k = max(free, key=lambda x: (role is not None and last_role.get(x) == role, free[x], -x))
                if role is not None:
                    last_role[k] = role
                del free[k]
                heapq.heappush(busy, (e, k))
                if j >= 0:
                    out[j].append(units[r][k])
    return [tuple(x) for x in out]
