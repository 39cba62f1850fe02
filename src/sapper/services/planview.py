"""The latest saved plan as people read it: a Gantt chart of teams and brigades and a burn-down of released land
and restored assets (the map UI's plan page, ``GET /api/plan/latest/gantt`` and ``…/burndown``).

Both are read from the plan as the store saved it (``Store.latest_plan``); nothing is solved again. A task done by
several units (``PlannedTask.unit_id`` lists them, comma-separated) shows on each unit's lane. Dates in a saved plan
are working days, the end the last day worked; the Gantt's ``end`` is the day after it (exclusive), so a one-day
task has a visible bar. The burn-down counts a hazard area's recorded area as released on its release milestone and
an asset as restored on its restoration milestone, as the plan summary's progress does (``services.planning``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sapper.errors import NotFoundError
from sapper.messages import msg
from sapper.scenario.compile import TaskKind
from sapper.store import Store
from sapper.store.records import PlanRun

NO_PLAN = msg("there is no plan yet: plan the register (sapper plan, or POST /api/v1/plans/jobs)")


class LaneRole(StrEnum):
    """Who a Gantt lane is: a deminer team or a builder brigade."""

    TEAM = "team"
    BRIGADE = "brigade"


class BarKind(StrEnum):
    """What a Gantt bar is: survey or clearance of a hazard area, restoration (repair) of an asset."""

    SURVEY = "survey"
    CLEARANCE = "clearance"
    RESTORATION = "restoration"


_BARS = {TaskKind.NTS: BarKind.SURVEY, TaskKind.TS: BarKind.SURVEY, TaskKind.SURVEY: BarKind.SURVEY,
         TaskKind.EOD: BarKind.CLEARANCE, TaskKind.CLEARANCE: BarKind.CLEARANCE, TaskKind.REPAIR: BarKind.RESTORATION}


def bar_kind(kind: TaskKind) -> BarKind | None:
    """How a Gantt draws a task of this kind (survey: NTS, TS; clearance: mine clearance, BAC, EOD; restoration), or
    None for tasks drawn as no bar (milestones). The map's plan page and the report's Gantt both draw by it."""
    return _BARS.get(kind)


@dataclass(frozen=True, slots=True)
class GanttBar:
    """One task on one lane; ``end`` is exclusive (the day after the last day worked)."""

    id: str
    kind: BarKind
    label: str
    target_id: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class GanttLane:
    """A team or brigade with its tasks in date order; ``organisation`` is the organisation's name."""

    id: str
    label: str
    organisation: str
    role: LaneRole
    bars: tuple[GanttBar, ...]


@dataclass(frozen=True, slots=True)
class Gantt:
    """The latest plan's lanes, from the plan's first day to the day after its last task or milestone ends;
    ``synthetic`` when the plan is of synthetic data."""

    plan_id: int
    created: dt.date
    start: dt.date
    end: dt.date
    synthetic: bool
    lanes: tuple[GanttLane, ...]


@dataclass(frozen=True, slots=True)
class BurndownPoint:
    """Cumulative figures reached on ``date``."""

    date: dt.date
    released_km2: float
    restored_assets: int


@dataclass(frozen=True, slots=True)
class Burndown:
    """Released km² and restored assets over the plan, in date order, from zero on the plan's first day."""

    plan_id: int
    total_km2: float
    total_assets: int
    synthetic: bool
    points: tuple[BurndownPoint, ...]


def _latest(store: Store) -> tuple[PlanRun, int]:
    run = store.latest_plan()
    if run is None or run.id is None:
        raise NotFoundError(NO_PLAN)
    return run, run.id


def _start(run: PlanRun) -> dt.date:
    if run.summary is not None:
        return run.summary.start_date
    return min((t.start_date for t in run.tasks), default=run.created_at.date())


def gantt(store: Store) -> Gantt:
    """The latest plan as lanes of teams and brigades (NotFoundError when there is no plan)."""
    run, run_id = _latest(store)
    organisations = {o.id: o.name for o in store.organisations()}
    teams = {t.id: t for t in store.teams()}
    brigades = {b.id: b for b in store.brigades()}
    hazard_names = {h.id: h.name for h in store.hazards()}
    asset_names = {a.id: a.name for a in store.assets()}
    bars: dict[str, list[GanttBar]] = {}
    for t in run.tasks:
        kind = bar_kind(t.kind)
        if kind is None or not t.unit_id:
            continue
        target = t.hazard_id or t.asset_id or t.task_id
        name = hazard_names.get(target) or asset_names.get(target) or target
        for unit in (u for u in t.unit_id.split(",") if u):
            bars.setdefault(unit, []).append(GanttBar(f"{t.task_id}@{unit}", kind, name, target, t.start_date,
                                                      t.end_date + dt.timedelta(days=1)))
    lanes = []
    for unit, found in bars.items():
        if unit in brigades:
            b = brigades[unit]
            role, org, label = LaneRole.BRIGADE, b.organisation_id, f"{unit} ({b.trade.value}, {b.size})"
        elif unit in teams:
            m = teams[unit]
            role, org, label = LaneRole.TEAM, m.organisation_id, f"{unit} ({m.method.value}, {m.size})"
        else:  # a unit no longer in the register: still shown, by what it did
            role = LaneRole.BRIGADE if all(b.kind is BarKind.RESTORATION for b in found) else LaneRole.TEAM
            org, label = "", unit
        lanes.append(GanttLane(unit, label, organisations.get(org, org) or "—", role,
                               tuple(sorted(found, key=lambda b: (b.start, b.id)))))
    lanes.sort(key=lambda lane: (lane.organisation, lane.role.value, lane.id))
    start = _start(run)
    end = max((t.end_date + dt.timedelta(days=1) for t in run.tasks), default=start + dt.timedelta(days=1))
    return Gantt(run_id, run.created_at.date(), start, max(end, start + dt.timedelta(days=1)),
                 _synthetic(store, run), tuple(lanes))


def _synthetic(store: Store, run: PlanRun) -> bool:
    """Whether the plan is of synthetic data: its summary says so, or a hazard area or asset it plans does."""
    if run.summary is not None and run.summary.synthetic:
        return True
    planned = {t.hazard_id or t.asset_id for t in run.tasks}
    return (any(h.synthetic and h.id in planned for h in store.hazards())
            or any(a.synthetic and a.id in planned for a in store.assets()))


def burndown(store: Store) -> Burndown:
    """Released km² and restored assets of the latest plan, cumulative by date (NotFoundError when no plan)."""
    run, run_id = _latest(store)
    area = {h.id: h.area_m2 for h in store.hazards()}
    released = {t.hazard_id: t.end_date for t in run.tasks if t.kind is TaskKind.RELEASED and t.hazard_id}
    restored = {t.asset_id: t.end_date for t in run.tasks if t.kind is TaskKind.RESTORED and t.asset_id}
    by_day: dict[dt.date, tuple[float, int]] = {}
    for hazard_id, day in released.items():
        m2, n = by_day.get(day, (0.0, 0))
        by_day[day] = (m2 + area.get(hazard_id, 0.0), n)
    for _asset_id, day in restored.items():
        m2, n = by_day.get(day, (0.0, 0))
        by_day[day] = (m2, n + 1)
    start = _start(run)
    points = [BurndownPoint(start, 0.0, 0)]
    total_m2, total_n = 0.0, 0
    for day in sorted(by_day):
        m2, n = by_day[day]
        total_m2, total_n = total_m2 + m2, total_n + n
        point = BurndownPoint(day, round(total_m2 / 1e6, 4), total_n)
        if day <= start:
            points[0] = BurndownPoint(start, point.released_km2, point.restored_assets)
        else:
            points.append(point)
    total = sum(area.get(h, 0.0) for h in released)
    return Burndown(run_id, round(total / 1e6, 4), len(restored), _synthetic(store, run), tuple(points))
