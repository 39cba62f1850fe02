"""Compile the register into a scheduling problem: release before repair.

Tasks, in working days of one calendar:
- **survey** of each hazard area by a survey team (non-technical plus technical survey), split into lots;
- **clearance** of the share survey is expected not to release, split into lots of at most ``lot_max_days``, each
  done by one team in one of the methods suited to the land use (manual, dog, mechanical);
- **released**: a zero-length milestone once survey and clearance of the area are done and, where land was cleared,
  ``inspection_lag_days`` working days later: post-clearance inspection (IMAS 09.20), the authority's acceptance
  and handover (IMAS 08.30) come between the end of clearance and the builders' start (14 calendar days by default,
  ``ReleaseRules.inspection_lag_days``, i.e. 12 working days of a six-day week; an assumption, a parameter);
- **repair** of each asset per trade by builder brigades, split into lots; every repair lot waits for the release of
  every hazard area that intersects the asset's work site (asset + work buffer);
- **restored**: a zero-length milestone once every repair lot of the asset is done.
Resources are pools (one per method and per trade) of teams and brigades; a pool's capacity is its number of units.
Clearance and survey pools stand down in winter. The objective weights are the priority scores: the completion of
each ``restored`` and ``released`` milestone, weighted by ``asset_weight`` and ``hazard_weight``.

A re-plan (``sapper.services.replan``) says what work is left: ``lots`` gives, per piece of work (a hazard area's
survey or clearance, an asset's repair in one trade), the lots still to do with their work, and any work added since
(:class:`LotPlan`); the rest is compiled as usual.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import shapely

from sapper.domain.assets import Asset
from sapper.domain.calendar import WINTER_STAND_DOWN, Calendar, SeasonalWindow
from sapper.domain.geometry import LocalProjection
from sapper.domain.hazards import HazardArea, HazardStatus, LandUse
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import Fault, PlanError, ValidationError
from sapper.plan.problem import Mode, Precedence, Problem, Resource, Task
from sapper.prioritise import score_asset, score_hazard

#: Clearance methods suited to each land use (manual is always possible). Assumption, after operators' practice:
#: machines on open and agricultural land, dogs in vegetation, hand clearance in settlements and wetland.
METHODS_BY_LAND_USE: dict[LandUse, tuple[Method, ...]] = {
    LandUse.AGRICULTURAL: (Method.MANUAL, Method.MECHANICAL),
    LandUse.INFRASTRUCTURE: (Method.MANUAL, Method.MECHANICAL),
    LandUse.FOREST: (Method.MANUAL, Method.DOG),
    LandUse.RESIDENTIAL: (Method.MANUAL, Method.DOG),
    LandUse.WETLAND: (Method.MANUAL,),
    LandUse.OTHER: (Method.MANUAL, Method.DOG, Method.MECHANICAL),
}


@dataclass(frozen=True, slots=True)
class CompileParams:
    """How the register becomes a problem. Durations are working days of the calendar."""

    lot_max_days: int = 60
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5})
    demining_stand_down: SeasonalWindow | None = WINTER_STAND_DOWN
    building_stand_down: SeasonalWindow | None = None
    horizon_days: int = 365 * 8
    weight_scale: int = 100
    #: Working days between the end of an area's clearance and its release milestone (inspection, acceptance,
    #: handover): ReleaseRules' 14 calendar days in a six-day working week.
    inspection_lag_days: int = 12

    def __post_init__(self) -> None:
        faults = []
        if self.lot_max_days < 1:
            faults.append(Fault("compile parameters", "lot_max_days must be at least 1", "lot_max_days"))
        if self.weight_scale < 1:
            faults.append(Fault("compile parameters", "weight_scale must be at least 1", "weight_scale"))
        if self.inspection_lag_days < 0:
            faults.append(Fault("compile parameters", "inspection_lag_days cannot be negative",
                                "inspection_lag_days"))
        ValidationError.raise_if("compile parameters", faults)


class TaskKind(StrEnum):
    """What a planned task is: work on a hazard area or an asset, or the milestone that ends it."""

    SURVEY = "survey"  # non-technical or technical survey of a hazard area (m²)
    CLEARANCE = "clearance"  # one clearance lot of a hazard area (m²)
    RELEASED = "released"  # milestone: the hazard area is released
    REPAIR = "repair"  # one repair lot of an asset by one trade (builder-days)
    RESTORED = "restored"  # milestone: the asset is restored


#: The kinds that are work done by a team or brigade (the others are milestones).
WORK_KINDS = (TaskKind.SURVEY, TaskKind.CLEARANCE, TaskKind.REPAIR)


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What a problem task means in the register."""

    kind: TaskKind
    hazard_id: str | None = None
    asset_id: str | None = None
    trade: Trade | None = None
    work: float = 0.0  # m² (survey, clearance) or builder-days (repair)
    work_unit: str = ""
    mode_methods: tuple[str, ...] = ()  # resource name used by each mode


#: A piece of work: ("survey" or "clearance", hazard id, "") or ("repair", asset id, trade).
WorkKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class LotPlan:
    """The lots of one piece of work that a re-plan gives explicitly.

    ``lots`` (lot number, work) are planned as they are (work in m² or builder-days; lots without work are left out);
    ``extra`` work, added since the last plan (a hazard area found larger), becomes new lots of at most
    ``lot_max_days`` for the slowest suitable method, numbered from ``first_new`` (and after every lot in ``lots``).
    An empty plan means the work is done.
    """

    lots: tuple[tuple[int, float], ...] = ()
    extra: float = 0.0
    first_new: int = 1


def _explicit_lots(plan: LotPlan, rate: float, lot_max_days: int) -> list[tuple[int, float]]:
    """(lot number, work) of ``plan``; ``rate`` is the work per working day of the slowest suitable unit."""
    out = [(k, w) for k, w in plan.lots if w > 0]
    if plan.extra > 0:
        n = _lots(plan.extra / rate, lot_max_days)
        first = max([plan.first_new, *(k + 1 for k, _ in plan.lots)])
        out += [(first + i, plan.extra / n) for i in range(n)]
    return out


def _days(work: float, rate: float) -> int:
    return max(1, math.ceil(work / rate - 1e-9))


@dataclass(frozen=True)
class CompiledPlan:
    problem: Problem
    info: tuple[TaskInfo, ...]
    priority: tuple[float, ...]  # the planner's own order for the greedy baseline (higher first)
    calendar: Calendar
    units: dict[str, tuple[str, ...]]  # resource name → team or brigade ids, in resource order
    blocking: dict[str, tuple[str, ...]] = field(default_factory=dict)  # asset id → hazard ids blocking it

    def resource_names(self) -> list[str]:
        return [r.name for r in self.problem.resources]


def _horizon_days_needed(tasks: Sequence[Task], pools: Sequence[tuple[str, int, SeasonalWindow | None]],
                         params: CompileParams) -> int:
    """Calendar days that surely hold a plan: twice the heaviest pool's work, stretched for stand-downs."""
    load = [0.0] * len(pools)
    for t in tasks:
        fastest = min(t.modes, key=lambda m: m.duration)
        for r, units in fastest.demands:
            load[r] += fastest.duration * units / max(1, pools[r][1])
    longest = max((max(m.duration for m in t.modes) for t in tasks), default=0)
    working = 2.0 * max(load, default=0.0) + 4 * longest
    # A stand-down of up to 4 months a year stretches working time by 12/8; weekends by 7/len(weekdays).
    return int(working * 1.5 * 7 / len(params.weekdays)) + 365


def _lots(total_days: float, lot_max_days: int) -> int:
    return max(1, math.ceil(total_days / lot_max_days - 1e-9))


def compile_problem(
    hazards: Sequence[HazardArea],
    assets: Sequence[Asset],
    teams: Sequence[DeminerTeam],
    brigades: Sequence[BuilderBrigade],
    *,
    start_date: dt.date,
    params: CompileParams | None = None,
    lots: Mapping[WorkKey, LotPlan] | None = None,
    blocked: Mapping[str, Sequence[str]] | None = None,
) -> CompiledPlan:
    """The scheduling problem of releasing ``hazards`` and repairing ``assets`` with ``teams`` and ``brigades``.

    ``lots`` replaces the usual split into lots for the pieces of work it names (see :class:`LotPlan`). ``blocked``
    (asset id → hazard ids, e.g. from brigades' reports) adds hazard areas an asset's repair waits for, beside those
    its work site crosses; ids of areas not among ``hazards`` are ignored.
    """
    params = params or CompileParams()
    lots = lots or {}

    # Resource pools: one per method, one per trade, in a fixed order.
    team_pools: dict[Method, list[DeminerTeam]] = defaultdict(list)
    for t in sorted(teams, key=lambda t: t.id):
        team_pools[t.method].append(t)
    brigade_pools: dict[Trade, list[BuilderBrigade]] = defaultdict(list)
    for b in sorted(brigades, key=lambda b: b.id):
        brigade_pools[b.trade].append(b)
    # (name, capacity, stand-down window), in resource order; the calendar comes once the workload is known.
    pools: list[tuple[str, int, SeasonalWindow | None]] = []
    index: dict[str, int] = {}
    units: dict[str, tuple[str, ...]] = {}
    productivity: dict[Method, float] = {}
    for method in Method:
        pool = team_pools.get(method, [])
        if not pool:
            continue
        name = f"deminers:{method.value}"
        index[name] = len(pools)
        pools.append((name, len(pool), params.demining_stand_down))
        units[name] = tuple(t.id for t in pool)
        productivity[method] = sum(t.productivity_m2_per_day for t in pool) / len(pool)
    brigade_size: dict[Trade, float] = {}
    for trade in Trade:
        bpool = brigade_pools.get(trade, [])
        if not bpool:
            continue
        name = f"builders:{trade.value}"
        index[name] = len(pools)
        pools.append((name, len(bpool), params.building_stand_down))
        units[name] = tuple(b.id for b in bpool)
        brigade_size[trade] = sum(b.size for b in bpool) / len(bpool)

    faults: list[Fault] = []
    open_hazards = [h for h in sorted(hazards, key=lambda h: h.id) if h.status is HazardStatus.OPEN]
    if open_hazards and Method.SURVEY not in productivity:
        faults.append(Fault("workforce", "open hazard areas need at least one survey team"))
    needs_clearance = any(h.clearance_share > 0 for h in open_hazards)
    if needs_clearance and Method.MANUAL not in productivity:
        faults.append(Fault("workforce", "clearance needs at least one manual team"))
    for a in assets:
        for trade in a.repair_work:
            if trade not in brigade_size:
                faults.append(Fault(f"asset {a.id}", f"needs {trade.value} work but there is no {trade.value} brigade"))
    ValidationError.raise_if("planning input", faults)

    tasks: list[Task] = []
    info: list[TaskInfo] = []
    priority: list[float] = []
    precedences: list[Precedence] = []

    # Which hazards block which assets: intersection of work sites and hazard polygons, in metres.
    all_geoms = [h.geometry for h in open_hazards] + [a.geometry for a in assets]
    proj = LocalProjection.around(shapely.GeometryCollection(all_geoms)) if all_geoms else None
    blocking: dict[str, tuple[str, ...]] = {}
    hazard_blocks: dict[str, list[float]] = defaultdict(list)
    asset_scores = {a.id: score_asset(a).value for a in assets}
    if proj is not None and open_hazards:
        local_h = [proj.to_local(h.geometry) for h in open_hazards]
        tree = shapely.STRtree(local_h)
        open_ids = {h.id for h in open_hazards}
        for a in sorted(assets, key=lambda a: a.id):
            site = a.work_site(proj)
            hits = tree.query(site, predicate="intersects")
            extra = {hid for hid in (blocked or {}).get(a.id, ()) if hid in open_ids}
            ids = tuple(sorted({open_hazards[int(i)].id for i in hits} | extra))
            blocking[a.id] = ids
            for hid in ids:
                hazard_blocks[hid].append(asset_scores[a.id])

    # Land release.
    released: dict[str, int] = {}
    for h in open_hazards:
        own = score_hazard(h).value
        # A person clears first what matters most: its own value plus the reconstruction it unblocks.
        prio = own + sum(hazard_blocks.get(h.id, []))
        weight = 1 + round(params.weight_scale * own / 4)
        area = h.area_m2
        survey_rate = productivity[Method.SURVEY]
        survey_days = area / survey_rate
        if ("survey", h.id, "") in lots:
            survey_lots = [(k, w, _days(w, survey_rate))
                           for k, w in _explicit_lots(lots["survey", h.id, ""], survey_rate, params.lot_max_days)]
        else:
            n_survey = _lots(survey_days, params.lot_max_days)
            survey_lots = [(k + 1, area / n_survey, max(1, math.ceil(survey_days / n_survey))) for k in range(n_survey)]
        survey_ids = []
        for k, w, d in survey_lots:
            survey_ids.append(len(tasks))
            tasks.append(Task(f"survey {h.id}/{k}", (Mode(d, ((index["deminers:survey"], 1),), "survey"),)))
            info.append(TaskInfo(TaskKind.SURVEY, hazard_id=h.id, work=w, work_unit="m²",
                                 mode_methods=("deminers:survey",)))
            priority.append(prio)
        clear_area = area * h.clearance_share
        clear_ids = []
        methods = [m for m in METHODS_BY_LAND_USE[h.land_use] if m in productivity]
        clear_lots: list[tuple[int, float]] = []
        if ("clearance", h.id, "") in lots:
            slowest = min(productivity[m] for m in methods)
            clear_lots = _explicit_lots(lots["clearance", h.id, ""], slowest, params.lot_max_days)
        elif clear_area > 0:
            slowest = min(productivity[m] for m in methods)
            n_lots = _lots(clear_area / slowest, params.lot_max_days)
            clear_lots = [(k + 1, clear_area / n_lots) for k in range(n_lots)]
        for k, lot_area in clear_lots:
            modes = tuple(
                Mode(max(1, math.ceil(lot_area / productivity[m])), ((index[f"deminers:{m.value}"], 1),), m.value)
                for m in methods
            )
            j = len(tasks)
            clear_ids.append(j)
            tasks.append(Task(f"clearance {h.id}/{k}", modes))
            info.append(TaskInfo(TaskKind.CLEARANCE, hazard_id=h.id, work=lot_area, work_unit="m²",
                                 mode_methods=tuple(f"deminers:{m.value}" for m in methods)))
            priority.append(prio)
            precedences.extend(Precedence(s, j) for s in survey_ids)
        rel = len(tasks)
        released[h.id] = rel
        tasks.append(Task(f"released {h.id}", (Mode(0),), weight=weight))
        info.append(TaskInfo(TaskKind.RELEASED, hazard_id=h.id, work=area, work_unit="m²"))
        priority.append(prio)
        if clear_ids:  # cleared land is inspected and accepted before the land is worked on
            precedences.extend(Precedence(j, rel, params.inspection_lag_days) for j in clear_ids)
        else:
            precedences.extend(Precedence(j, rel) for j in survey_ids)

    # Reconstruction.
    for a in sorted(assets, key=lambda a: a.id):
        score = asset_scores[a.id]
        weight = 1 + round(params.weight_scale * score)
        lots_of_asset = []
        for trade, builder_days in sorted(a.repair_work.items()):
            size = brigade_size[trade]
            days = builder_days / size
            if ("repair", a.id, trade.value) in lots:
                repair_lots = [(k, w, _days(w, size))
                               for k, w in _explicit_lots(lots["repair", a.id, trade.value], size, params.lot_max_days)]
            else:
                n_lots = _lots(days, params.lot_max_days)
                d = max(1, math.ceil(days / n_lots))
                repair_lots = [(k + 1, builder_days / n_lots, d) for k in range(n_lots)]
            name = f"builders:{trade.value}"
            for k, w, d in repair_lots:
                j = len(tasks)
                lots_of_asset.append(j)
                tasks.append(Task(f"repair {a.id} {trade.value}/{k}", (Mode(d, ((index[name], 1),), trade.value),)))
                info.append(TaskInfo(TaskKind.REPAIR, asset_id=a.id, trade=trade, work=w,
                                     work_unit="builder-days", mode_methods=(name,)))
                priority.append(score)
                precedences.extend(Precedence(released[hid], j) for hid in blocking.get(a.id, ()))
        done = len(tasks)
        tasks.append(Task(f"restored {a.id}", (Mode(0),), weight=weight))
        info.append(TaskInfo(TaskKind.RESTORED, asset_id=a.id, work=a.total_builder_days, work_unit="builder-days"))
        priority.append(score)
        precedences.extend(Precedence(j, done) for j in lots_of_asset)

    if not tasks:
        raise PlanError("nothing to plan: the store has no open hazard areas and no assets")
    calendar = Calendar(start_date, weekdays=params.weekdays,
                        horizon_days=max(params.horizon_days, _horizon_days_needed(tasks, pools, params)))
    resources = tuple(
        Resource(name, cap, tuple((s, e, cap) for s, e in calendar.blocked_spans(window)) if window and cap else ())
        for name, cap, window in pools
    )
    problem = Problem(resources, tuple(tasks), tuple(precedences), calendar.working_days)
    return CompiledPlan(problem, tuple(info), tuple(priority), calendar, units, blocking)
