"""How a plan uses its teams and brigades: utilisation per unit and per role, and the units idle for weeks.

An operations manager reads a plan by unit as well as by area: which teams work, in which role, and which wait. Each
unit is counted in working days of the plan's calendar, from the plan's start to the last working day any unit of
its kind works (deminers and builders apart: deminers are not idle because builders still repair after the last
release), leaving out the days its pool is stood down (winter). A unit's **available** days are those; its **busy**
days are those with a lot (the set-up of a borrowed role included, and counted apart); its longest **idle** spell is
the most available days in a row without work (from the start, between lots, or after its last lot). A unit is
named idle when that spell is at least ``idle_weeks`` weeks of the programme's working week. Per role (method or
trade): the units that work in it (those for whom it is borrowed, apart) and its working days as a share of the
available days of all units of its kind.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence

from sapper.plan import Problem, Schedule
from sapper.scenario.compile import CompiledPlan
from sapper.store.records import RoleUtilisation, UnitUtilisation
from sapper.store.records import Utilisation as Utilisation

#: Weeks without work after which a plan names a unit idle, by default: a quarter of a year. (A re-plan, which looks
#: at the next weeks, names units idle for 4 weeks: ``sapper replan --idle-weeks``.) On kursk-border nearly every unit
#: has a spell of 4 weeks without work somewhere in a plan of years, so 4 would name them all.
IDLE_WEEKS = 12


def _kind(pool: str) -> str:
    return pool.split(":", 1)[0]


def utilisation(
    compiled: CompiledPlan, schedule: Schedule, assigned: Sequence[Sequence[str]], *, idle_weeks: int = IDLE_WEEKS,
    problem: Problem | None = None, initial: Mapping[str, str] | None = None,
) -> Utilisation:
    """Utilisation of every unit of ``compiled`` in ``schedule`` with the units ``assigned`` per task (module
    docstring); ``problem``: the problem ``schedule``'s modes index, when not ``compiled.problem`` (set-up per change
    of role, ``plan.setups``); ``initial``: the role each unit is set up in at the start (a re-plan: its role at the
    as-of date, as ``solution.check_units``), so a first lot in it is no change of role (default: its own role)."""
    problem = problem or compiled.problem
    cal = compiled.calendar
    lots: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)  # unit → (start, end, role, set-up)
    end_of_kind: dict[str, int] = defaultdict(int)
    for j, task in enumerate(problem.tasks):
        mode = task.modes[schedule.modes[j]]
        if mode.duration == 0 or not mode.demands:
            continue
        s, e = schedule.starts[j], schedule.starts[j] + mode.duration
        kind = _kind(problem.resources[mode.demands[0][0]].name)
        end_of_kind[kind] = max(end_of_kind[kind], e)
        for u in assigned[j]:
            lots[u].append((s, e, mode.name, mode.setup))
    idle_days = max(1, idle_weeks * len(cal.weekdays))
    units: list[UnitUtilisation] = []
    role_days: dict[str, int] = defaultdict(int)
    role_units: dict[str, set[str]] = defaultdict(set)
    role_borrowed: dict[str, set[str]] = defaultdict(set)
    role_kind: dict[str, str] = {}
    available_of_kind: dict[str, int] = defaultdict(int)
    for r, res in enumerate(problem.resources):
        kind = _kind(res.name)
        end = end_of_kind.get(kind, 0)
        cap = problem.capacity_profile(r)[:end]
        open_days = [t for t, c in enumerate(cap) if c > 0]
        for u in compiled.units.get(res.name, ()):
            mine = sorted(lots.get(u, []))
            busy = [False] * end
            by_role: dict[str, int] = defaultdict(int)
            set_up = changes = 0
            before = (initial or {}).get(u) or compiled.home.get(u, "")
            for s, e, role, su in mine:
                if role != before and role != compiled.home.get(u):
                    changes += 1
                    # Set-up taken in idle days before the lot (``plan.unitlist``): its mode carries less than
                    # the set-up a change of role needs, the rest was done on the open days just before it.
                    idle_set_up = max(0, compiled.role_change_days - su)
                    if idle_set_up:
                        i = bisect_left(open_days, min(s, end))
                        before_lot = open_days[max(0, i - idle_set_up):i]
                        for t in before_lot:
                            busy[t] = True
                        set_up += idle_set_up
                before = role
                for t in range(s, min(e, end)):
                    busy[t] = True
                by_role[role] += e - s - su
                set_up += su
                role_days[role] += e - s - su
                role_units[role].add(u)
                role_kind[role] = kind
                if role != compiled.home.get(u):
                    role_borrowed[role].add(u)
            best, best_at, run, run_at = 0, -1, 0, -1
            for t in open_days:
                if busy[t]:
                    run = 0
                    continue
                if run == 0:
                    run_at = t
                run += 1
                if run > best:
                    best, best_at = run, run_at
            idle_to = None
            if best:
                last = open_days[open_days.index(best_at) + best - 1]
                idle_to = cal.date_of(last)
            units.append(
                UnitUtilisation(
                    unit_id=u,
                    pool=res.name,
                    own_role=compiled.home.get(u, ""),
                    available_days=len(open_days),
                    busy_days=sum(1 for t in open_days if busy[t]),
                    set_up_days=set_up,
                    role_changes=changes,
                    days_by_role=dict(by_role),
                    longest_idle_days=best,
                    idle_from=cal.date_of(best_at) if best else None,
                    idle_to=idle_to,
                )
            )
            available_of_kind[kind] += len(open_days)
    roles = tuple(
        RoleUtilisation(
            role=role,
            kind=role_kind[role],
            units=len(role_units[role]),
            borrowed_by=len(role_borrowed[role]),
            working_days=days,
            share_pct=round(100 * days / available_of_kind[role_kind[role]], 1)
            if available_of_kind[role_kind[role]]
            else None,
        )
        for role, days in sorted(role_days.items(), key=lambda kv: (role_kind[kv[0]] != "deminers", -kv[1], kv[0]))
    )
    return Utilisation(
        pools=compiled.pools.value,
        idle_weeks=idle_weeks,
        idle_days=idle_days,
        units=tuple(sorted(units, key=lambda x: x.unit_id)),
        roles=roles,
    )
