"""Compile the register into a scheduling problem: release before repair.

Tasks, in working days of one calendar, following the land-release rules (docs/land-release.md, "Planning"):
- **nts**: the non-technical survey of each hazard area (IMAS 08.10) by a survey team, one task of a few days by the
  area's size band (``CompileParams.nts_days``), not m² per day over the polygon;
- **eod**: in an ERW-only area (its register lists explosive remnants of war and nothing else: no mines, IEDs, booby
  traps or unidentified items), one EOD spot task by a BAC/EOD team for the items NTS reports; it releases no area;
- **ts**: technical survey (IMAS 08.20) by survey teams, per m², over the part NTS does not cancel (in a suspected
  area ``nts_cancel_share`` of it, never more than the share that needs no clearance; nothing in a confirmed area
  unless ``nts_may_cancel_in_cha``), split into lots;
- **clearance** of the share survey is expected not to release, split into lots of at most ``lot_max_days``, each
  done by one team: in an ERW-only area by battle area clearance (IMAS 09.11) on BAC/EOD teams only, elsewhere in one
  of the mine-clearance methods suited to the land use (manual, dog, mechanical; IMAS 09.10), dogs left out where
  the programme's rules exclude them (IMAS 09.40/09.41: ``dog_excluded_devices``, ``dog_excluded_land_uses``,
  ``dog_excluded_hazards``);
- NTS precedes the EOD task and TS, TS precedes clearance;
- **released**: a zero-length milestone once survey and clearance of the area are done and, where land was cleared,
  ``inspection_lag_days`` working days later: post-clearance inspection (IMAS 09.20), the authority's acceptance
  and handover (IMAS 08.30) come between the end of clearance and the builders' start (the programme's
  ``ReleaseRules.inspection_lag_working_days``, 12 by default; an assumption, a parameter);
- **repair** of each asset per trade by builder brigades, split into lots; every repair lot waits for the release of
  every hazard area that intersects the asset's work site (asset + work buffer);
- **restored**: a zero-length milestone once every repair lot of the asset is done.
Resources are pools of teams and brigades; a pool's capacity is its number of units (``CompileParams.pools``):
- **fixed** (``PoolPolicy.FIXED``): one pool per method and per trade; a team works only by its own method, a brigade
  only in its own trade;
- **capabilities** (``PoolPolicy.CAPABILITIES``): one pool per kind of unit, units of the same own role and the same
  capabilities (``DeminerTeam.methods``: every team can survey and clear by hand unless the register says otherwise;
  dogs, machines and BAC/EOD only where it has them; ``BuilderBrigade.all_trades``). A lot gets one mode per pool able
  to do it, and the plan chooses among them. A lot in a role that is not the pool's own role takes
  ``role_change_days`` more (set-up: kit, procedure refresher, quality check; ``figures.ROLE_CHANGE_DAYS``, an
  assumption), charged on every such lot: two lots in a row in the same borrowed role pay it twice (conservative),
  and going back to the own role is free (the unit's own kit). A method's rate (m² per team-day) is the mean of the
  teams whose own method it is, whoever does the lot; a method no team has as its own is not planned.
Clearance and survey pools stand down in winter. The objective weights are the priority scores: the completion of
each ``restored`` and ``released`` milestone, weighted by ``asset_weight`` and ``hazard_weight``.

A fresh plan of a register with land-release history (``sapper.services.planning``) says, per open area, what its
record says is done (:class:`Processed`): a fully processed area (awaiting inspection and acceptance) gets only its
``released`` milestone after the inspection lag; a partly processed one the work on what is left
(:func:`remaining_survey_plan`).

A re-plan (``sapper.services.replan``) says what work is left: ``lots`` gives, per piece of work (a hazard area's
NTS, EOD spot task, TS or clearance, an asset's repair in one trade), the lots still to do with their work, and any
work added since (:class:`LotPlan`); the rest is compiled as usual.
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
from sapper.domain.figures import EOD_SPOT_DAYS, NTS_CANCEL_SHARE, NTS_DAYS, ROLE_CHANGE_DAYS
from sapper.domain.geometry import LocalProjection, areas_m2
from sapper.domain.hazards import DeviceCategory, HazardArea, HazardClass, HazardStatus, LandUse
from sapper.domain.releaserules import DOG_EXCLUDED_DEVICES
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import Fault, PlanError, ValidationError
from sapper.messages import msg, msg_n
from sapper.plan.problem import Mode, Precedence, Problem, Resource, Task
from sapper.prioritise import DEFAULT_PROFILE, WeightProfile, score_asset, score_hazard

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

#: Device categories that are explosive remnants of war (UXO, AXO, small-arms ammunition, cluster submunitions). An
#: area whose register lists only these is ERW-only: battle area clearance (IMAS 09.11), not mine clearance. Mines,
#: IEDs and booby traps, unidentified items, or no category recorded at all, keep an area for mine clearance.
ERW_CATEGORIES = frozenset({DeviceCategory.ERW_UXO, DeviceCategory.ERW_AXO, DeviceCategory.SMALL_ARMS,
                            DeviceCategory.CLUSTER})



def is_erw_only(h: HazardArea) -> bool:
    """True when the register lists explosive remnants of war in ``h`` and nothing else (see ERW_CATEGORIES)."""
    return bool(h.device_categories) and h.device_categories <= ERW_CATEGORIES


class PoolPolicy(StrEnum):
    """How teams and brigades become the plan's resources (module docstring)."""

    FIXED = "fixed"  # one pool per method and per trade: a unit works only in its own role
    CAPABILITIES = "capabilities"  # one pool per kind of unit: a lot goes to any pool able to do it

    @classmethod
    def parse(cls, value: str) -> PoolPolicy:
        """The pool policy named ``value``; ValidationError naming the choices when there is none."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise ValidationError(msg("pools"), [Fault(msg("pools"), msg("pools must be one of {choices}, got {value}",
                                                                         choices=choices, value=repr(value)), "pools")]
                                  ) from None


@dataclass(frozen=True, slots=True)
class CompileParams:
    """How the register becomes a problem. Durations are working days of the calendar."""

    lot_max_days: int = 60
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5})
    demining_stand_down: SeasonalWindow | None = WINTER_STAND_DOWN
    building_stand_down: SeasonalWindow | None = None
    #: Days nobody works (the programme's holidays, ``ProgrammeCalendar``; services set them from the store).
    holidays: frozenset[dt.date] = frozenset()
    horizon_days: int = 365 * 8
    weight_scale: int = 100
    #: Working days between the end of an area's clearance and its release milestone (inspection, acceptance,
    #: handover): the programme's ``ReleaseRules.inspection_lag_working_days`` (services set it from the store).
    inspection_lag_days: int = 12
    #: Non-technical survey days of one area by size band: (upper bound of the band in m², working days), bands in
    #: increasing order (figures.NTS_DAYS, an assumption).
    nts_days: tuple[tuple[float, int], ...] = NTS_DAYS
    #: Share of a suspected area's land NTS is expected to cancel (figures.NTS_CANCEL_SHARE, BiH 2017).
    nts_cancel_share: float = NTS_CANCEL_SHARE.value
    #: Whether NTS may cancel land in a confirmed area (ReleaseRules.nts_may_cancel_in_cha; default no).
    nts_may_cancel_in_cha: bool = False
    #: Working days of the EOD spot task of an ERW-only area (figures.EOD_SPOT_DAYS); 0 plans none.
    eod_spot_days: int = round(EOD_SPOT_DAYS.value)
    #: Dogs are not sent to areas listing any of these device categories (IMAS 09.40/09.41; assumption).
    dog_excluded_devices: frozenset[DeviceCategory] = DOG_EXCLUDED_DEVICES
    #: ... nor to areas of these land uses (e.g. high vegetation not cut back; none by default) ...
    dog_excluded_land_uses: frozenset[LandUse] = frozenset()
    #: ... nor to these hazard areas, flagged by the register (by id). ERW-only areas never get dogs (BAC only).
    dog_excluded_hazards: frozenset[str] = frozenset()
    #: The programme's weight profile: the priority scores behind each area's and asset's weight in the objective
    #: and the greedy order (``sapper plan --profile``; docs/priorities.md).
    profile: WeightProfile = DEFAULT_PROFILE
    #: Pools of units by capabilities (the default), or fixed pools per method and trade (``sapper plan --pools``).
    pools: PoolPolicy = PoolPolicy.CAPABILITIES
    #: Working days of set-up a lot in a borrowed role takes (figures.ROLE_CHANGE_DAYS, an assumption; capabilities
    #: only: fixed pools never borrow).
    role_change_days: int = round(ROLE_CHANGE_DAYS.value)

    def __post_init__(self) -> None:
        faults = []
        bounds = [b for b, _ in self.nts_days]
        if not self.nts_days or any(d < 1 for _, d in self.nts_days) or bounds != sorted(bounds) \
                or bounds[-1] != float("inf"):
            faults.append(Fault("compile parameters", "nts_days needs size bands in increasing order, each of at "
                                "least 1 day, the last without an upper bound (inf)", "nts_days"))
        if not 0.0 <= self.nts_cancel_share < 1.0:
            faults.append(Fault("compile parameters", "nts_cancel_share must be in [0, 1)", "nts_cancel_share"))
        if self.eod_spot_days < 0:
            faults.append(Fault("compile parameters", "eod_spot_days cannot be negative", "eod_spot_days"))
        if self.lot_max_days < 1:
            faults.append(Fault("compile parameters", "lot_max_days must be at least 1", "lot_max_days"))
        if self.weight_scale < 1:
            faults.append(Fault("compile parameters", "weight_scale must be at least 1", "weight_scale"))
        if self.role_change_days < 0:
            faults.append(Fault("compile parameters", "role_change_days cannot be negative", "role_change_days"))
        if self.inspection_lag_days < 0:
            faults.append(Fault("compile parameters", "inspection_lag_days cannot be negative",
                                "inspection_lag_days"))
        ValidationError.raise_if("compile parameters", faults)


class TaskKind(StrEnum):
    """What a planned task is: work on a hazard area or an asset, or the milestone that ends it."""

    NTS = "nts"  # non-technical survey of a hazard area (m² of the area; days by size band)
    TS = "ts"  # one technical-survey lot of a hazard area (m², the part NTS does not cancel)
    EOD = "eod"  # EOD spot task in an ERW-only area: team time, no area released (work: items, 1 task)
    CLEARANCE = "clearance"  # one clearance lot of a hazard area (m²): mine clearance, or BAC in an ERW-only area
    SURVEY = "survey"  # survey as plans saved before NTS and TS were planned apart had it (never compiled now)
    RELEASED = "released"  # milestone: the hazard area is released
    REPAIR = "repair"  # one repair lot of an asset by one trade (builder-days)
    RESTORED = "restored"  # milestone: the asset is restored


#: The kinds that are work done by a team or brigade (the others are milestones).
WORK_KINDS = (TaskKind.NTS, TaskKind.TS, TaskKind.EOD, TaskKind.SURVEY, TaskKind.CLEARANCE, TaskKind.REPAIR)

#: Work kinds of a hazard area that have no daily progress form: a re-plan takes them as progressing as planned.
SURVEY_KINDS = (TaskKind.NTS, TaskKind.TS, TaskKind.EOD, TaskKind.SURVEY)


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


#: A piece of work: ("nts", "eod", "ts" or "clearance", hazard id, "") or ("repair", asset id, trade).
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
    #: The register's roles per unit (team or brigade id → the methods or trades it can work in), the unit's own role,
    #: and the set-up a borrowed role takes: what ``plan.check_units`` verifies an assignment against.
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    home: dict[str, str] = field(default_factory=dict)
    role_change_days: int = 0
    pools: PoolPolicy = PoolPolicy.FIXED

    def resource_names(self) -> list[str]:
        return [r.name for r in self.problem.resources]


def planned_mode(problem: Problem, j: int, role: str, pool: str, days: int | None = None) -> int | None:
    """The mode of task ``j`` a saved plan names by its role (the mode's name) and pool (the resource's name): with
    capabilities several pools work in one role, so the role alone does not say which; among those, the one of
    ``days`` working days when there is one (a lot that kept its unit's role has a mode without set-up,
    ``plan.setups``). A plan whose pool is gone (the register changed) gets the first mode in that role. None when no
    mode works in ``role``."""
    modes = problem.tasks[j].modes
    named = [m for m, mode in enumerate(modes) if mode.name == role]
    on_pool = [m for m in named if any(problem.resources[r].name == pool for r, _ in modes[m].demands)]
    return next((m for m in on_pool if modes[m].duration == days), next(iter(on_pool or named), None))


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


def nts_days(area_m2: float, bands: Sequence[tuple[float, int]]) -> int:
    """Working days of the non-technical survey of an area of ``area_m2`` (the first band it fits in)."""
    return next((d for bound, d in bands if area_m2 <= bound), bands[-1][1])


@dataclass(frozen=True, slots=True)
class SurveyPlan:
    """How land release is planned for one hazard area: what NTS cancels, TS covers and clearance clears (m²)."""

    erw_only: bool
    cancel_m2: float  # expected to be cancelled by NTS
    ts_m2: float  # investigated by TS (the rest): TS reduces what it does not send to clearance
    clear_m2: float  # expected to be cleared (mine clearance, or BAC in an ERW-only area)


@dataclass(frozen=True, slots=True)
class Processed:
    """What the land-release record of an open hazard area says is already done (``services.planning`` reads it).

    ``remaining_m2`` is what is still hazardous; ``nothing_remains`` says it is none under the programme's sliver
    rules (the area is awaiting inspection and acceptance). ``surveyed``: an NTS, TS, clearance or BAC activity is
    recorded (NTS is not planned again); ``clearance_started``: a clearance or BAC activity is recorded (what remains
    is cleared, not surveyed again); ``eod_done``: an EOD spot task is recorded; ``needs_inspection``: land was reduced,
    cleared or reopened (land only cancelled by NTS needs no post-clearance inspection); ``last_activity``: the
    latest end (else start) date of the recorded activities.
    """

    remaining_m2: float
    nothing_remains: bool
    surveyed: bool = False
    clearance_started: bool = False
    eod_done: bool = False
    needs_inspection: bool = False
    last_activity: dt.date | None = None


def remaining_survey_plan(h: HazardArea, done: Processed, params: CompileParams, *,
                          area_m2: float | None = None) -> SurveyPlan:
    """The land release still to plan for ``h``, whose record says ``done``: nothing when nothing remains; clearance
    of all that remains once clearance has started; else what :func:`survey_plan` gives for the remaining area (NTS
    cancels nothing once it is done), clearance capped at the area's clearance share of its original area
    (``area_m2``: ``h.area_m2`` found beforehand)."""
    erw = is_erw_only(h)
    left = max(0.0, done.remaining_m2)
    if done.nothing_remains:
        return SurveyPlan(erw, 0.0, 0.0, 0.0)
    if done.clearance_started:
        return SurveyPlan(erw, 0.0, 0.0, left)
    share = h.clearance_share
    may_cancel = (h.hazard_class is HazardClass.SHA or params.nts_may_cancel_in_cha) and not done.surveyed
    cancel = left * min(params.nts_cancel_share, 1.0 - share) if may_cancel else 0.0
    ts = left - cancel
    return SurveyPlan(erw, cancel, ts, min(ts, (h.area_m2 if area_m2 is None else area_m2) * share))


def survey_plan(h: HazardArea, params: CompileParams, *, area_m2: float | None = None) -> SurveyPlan:
    """NTS cancels ``nts_cancel_share`` of a suspected area (never more than the share that needs no clearance; nothing
    in a confirmed area unless ``nts_may_cancel_in_cha``); TS covers the rest; clearance the area's clearance share
    (``area_m2``: ``h.area_m2`` found beforehand)."""
    area = h.area_m2 if area_m2 is None else area_m2
    share = h.clearance_share
    may_cancel = h.hazard_class is HazardClass.SHA or params.nts_may_cancel_in_cha
    cancel = min(params.nts_cancel_share, 1.0 - share) if may_cancel else 0.0
    return SurveyPlan(is_erw_only(h), area * cancel, area * (1.0 - cancel), area * share)


def dogs_excluded(h: HazardArea, params: CompileParams) -> bool:
    """True when the programme's rules keep dogs out of ``h`` (module docstring)."""
    return (is_erw_only(h) or bool(h.device_categories & params.dog_excluded_devices)
            or h.land_use in params.dog_excluded_land_uses or h.id in params.dog_excluded_hazards)


def clearance_methods(h: HazardArea, params: CompileParams) -> tuple[Method, ...]:
    """The methods that may clear ``h``: BAC alone in an ERW-only area; else the mine-clearance methods suited to its
    land use, without dogs where the programme's rules exclude them."""
    if is_erw_only(h):
        return (Method.BAC,)
    no_dogs = dogs_excluded(h, params)
    return tuple(m for m in METHODS_BY_LAND_USE[h.land_use] if not (m is Method.DOG and no_dogs))


@dataclass(frozen=True)
class _Pools:
    """The resources teams and brigades become (:class:`PoolPolicy`), and the modes a lot gets in each role."""

    specs: list[tuple[str, int, SeasonalWindow | None]]  # (name, capacity, stand-down window), in resource order
    units: dict[str, tuple[str, ...]]
    by_role: dict[str, list[tuple[int, int]]]  # role → (resource index, set-up days), own role first
    productivity: dict[Method, float]  # m² per team-day of a method: the mean of the teams whose own method it is
    brigade_size: dict[Trade, float]  # builders per brigade of a trade: the mean of the brigades of that trade
    roles: dict[str, frozenset[str]]
    home: dict[str, str]
    setup: int

    def modes(self, role: Method | Trade, days: int) -> tuple[Mode, ...]:
        """One mode per pool able to work in ``role``: ``days`` of work, plus set-up in a borrowed role."""
        return tuple(Mode(days + setup, ((r, 1),), role.value, setup) for r, setup in self.by_role.get(role.value, []))


def _pools(teams: Sequence[DeminerTeam], brigades: Sequence[BuilderBrigade], params: CompileParams) -> _Pools:
    """The pools of ``params.pools``, in a fixed order: deminers by method, then builders by trade."""
    capable = params.pools is PoolPolicy.CAPABILITIES
    setup = params.role_change_days if capable else 0
    specs: list[tuple[str, int, SeasonalWindow | None]] = []
    units: dict[str, tuple[str, ...]] = {}
    by_role: dict[str, list[tuple[int, int]]] = defaultdict(list)
    productivity: dict[Method, float] = {}
    for method in Method:
        own = [t for t in teams if t.method is method]
        if own:
            productivity[method] = sum(t.productivity_m2_per_day for t in own) / len(own)
    brigade_size: dict[Trade, float] = {}
    for trade in Trade:
        own_b = [b for b in brigades if b.trade is trade]
        if own_b:
            brigade_size[trade] = sum(b.size for b in own_b) / len(own_b)

    def add(kind: str, home: str, can: Sequence[str], ids: list[str], window: SeasonalWindow | None,
            rated: set[str]) -> None:
        extra = [c for c in can if c != home]
        name = f"{kind}:{home}" + "".join(f"+{c}" for c in extra)
        r = len(specs)
        specs.append((name, len(ids), window))
        units[name] = tuple(sorted(ids))
        for role in (home, *extra):
            if role in rated:
                by_role[role].append((r, 0 if role == home else setup))

    rated_methods = {m.value for m in productivity}
    team_groups: dict[tuple[int, tuple[str, ...]], list[str]] = defaultdict(list)
    order_m = list(Method)
    for t in teams:
        can = tuple(m.value for m in order_m if m in t.methods) if capable else (t.method.value,)
        team_groups[(order_m.index(t.method), can)].append(t.id)
    for (home_i, can), ids in sorted(team_groups.items()):
        add("deminers", order_m[home_i].value, can, ids, params.demining_stand_down, rated_methods)
    rated_trades = {t.value for t in brigade_size}
    brigade_groups: dict[tuple[int, tuple[str, ...]], list[str]] = defaultdict(list)
    order_t = list(Trade)
    for b in brigades:
        can = tuple(x.value for x in order_t if x in b.all_trades) if capable else (b.trade.value,)
        brigade_groups[(order_t.index(b.trade), can)].append(b.id)
    for (home_i, can), ids in sorted(brigade_groups.items()):
        add("builders", order_t[home_i].value, can, ids, params.building_stand_down, rated_trades)
    for lst in by_role.values():
        lst.sort(key=lambda x: (x[1], x[0]))
    roles = {t.id: frozenset(m.value for m in t.methods) for t in teams}
    roles.update({b.id: frozenset(x.value for x in b.all_trades) for b in brigades})
    home = {t.id: t.method.value for t in teams}
    home.update({b.id: b.trade.value for b in brigades})
    return _Pools(specs, units, dict(by_role), productivity, brigade_size, roles, home, setup)


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
    processed: Mapping[str, Processed] | None = None,
    likelihood: Mapping[str, float] | None = None,
) -> CompiledPlan:
    """The scheduling problem of releasing ``hazards`` and repairing ``assets`` with ``teams`` and ``brigades``.

    ``lots`` replaces the usual split into lots for the pieces of work it names (see :class:`LotPlan`). ``blocked``
    (asset id → hazard ids, e.g. from brigades' reports) adds hazard areas an asset's repair waits for, beside those
    its work site crosses; ids of areas not among ``hazards`` are ignored. ``processed`` (hazard id → what its
    land-release record says is done) plans only what is left of those areas (:class:`Processed`): a fully processed
    area gets no NTS, EOD, TS or clearance, only its ``released`` milestone, ``inspection_lag_days`` after the start
    (or after its last activity, if later) when land was reduced or cleared; a partly processed one the work of
    :func:`remaining_survey_plan`. Pieces of work named in ``lots`` are planned as ``lots`` says. ``likelihood``
    (hazard id → the contamination model's probability that it holds devices) feeds the areas' scores; an area it
    does not name scores with the prior of its class.
    """
    params = params or CompileParams()
    lots = lots or {}
    processed = processed or {}
    days_of = Calendar(start_date, weekdays=params.weekdays, holidays=params.holidays,
                       horizon_days=max([params.horizon_days, *(
                           (p.last_activity - start_date).days + 366 for p in processed.values()
                           if p.last_activity is not None)]))

    pools = _pools(teams, brigades, params)
    productivity, brigade_size = pools.productivity, pools.brigade_size

    faults: list[Fault] = []
    open_hazards = [h for h in sorted(hazards, key=lambda h: h.id) if h.status is HazardStatus.OPEN]
    if open_hazards and Method.SURVEY not in productivity:
        faults.append(Fault(msg("workforce"), msg("open hazard areas need at least one survey team")))
    needs_clearance = any(h.clearance_share > 0 for h in open_hazards if not is_erw_only(h))
    if needs_clearance and Method.MANUAL not in productivity:
        faults.append(Fault(msg("workforce"), msg("clearance needs at least one manual team")))
    erw_only = [h.id for h in open_hazards if is_erw_only(h)
                and (h.clearance_share > 0 or params.eod_spot_days > 0)]
    if erw_only and Method.BAC not in productivity:
        faults.append(Fault(msg("workforce"), msg_n(
            "{n} ERW-only hazard area (e.g. {first}) needs battle area clearance and EOD spot tasks (IMAS 09.11) but "
            "there is no BAC/EOD team (method bac)", "{n} ERW-only hazard areas (e.g. {first}) need battle area "
            "clearance and EOD spot tasks (IMAS 09.11) but there is no BAC/EOD team (method bac)", len(erw_only),
            first=erw_only[0])))
    for a in assets:
        for trade in a.repair_work:
            if trade not in brigade_size:
                faults.append(Fault(msg("asset {id}", id=a.id),
                                    msg("needs {trade} work but there is no {trade} brigade",
                                                                     trade=trade.value)))
    ValidationError.raise_if(msg("planning input"), faults)

    tasks: list[Task] = []
    info: list[TaskInfo] = []
    priority: list[float] = []
    precedences: list[Precedence] = []

    # Which hazards block which assets: intersection of work sites and hazard polygons, in metres.
    all_geoms = [h.geometry for h in open_hazards] + [a.geometry for a in assets]
    proj = LocalProjection.around(shapely.GeometryCollection(all_geoms)) if all_geoms else None
    blocking: dict[str, tuple[str, ...]] = {}
    hazard_blocks: dict[str, list[float]] = defaultdict(list)
    asset_scores = {a.id: score_asset(a, params.profile.asset).value for a in assets}
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

    # Land release: NTS → (EOD spot task) → TS → clearance → (inspection lag) → released.
    released: dict[str, int] = {}
    pool_names = [name for name, _, _ in pools.specs]

    def add_lots(kind: TaskKind, h: HazardArea, prio: float, unit: str,
                 lots_: Sequence[tuple[int, float, tuple[Mode, ...]]]) -> list[int]:
        ids = []
        for k, w, modes in lots_:
            ids.append(len(tasks))
            tasks.append(Task(f"{kind.value} {h.id}/{k}", modes))
            info.append(TaskInfo(kind, hazard_id=h.id, work=w, work_unit=unit,
                                 mode_methods=tuple(pool_names[m.demands[0][0]] for m in modes if m.demands)))
            priority.append(prio)
        return ids

    # Every area at once (the same figures as ``HazardArea.area_m2``, one projection call per 0.5° cell, not three
    # per area: 30 % of compiling a national register).
    area_of = dict(zip([h.id for h in open_hazards], areas_m2([h.geometry for h in open_hazards]), strict=True))
    for h in open_hazards:
        own = score_hazard(h, params.profile.hazard, likelihood=(likelihood or {}).get(h.id)).value
        # A person clears first what matters most: its own value plus the reconstruction it unblocks.
        prio = own + sum(hazard_blocks.get(h.id, []))
        weight = 1 + round(params.weight_scale * own / 4)
        area = area_of[h.id]
        known = processed.get(h.id)
        plan = survey_plan(h, params, area_m2=area) if known is None else \
            remaining_survey_plan(h, known, params, area_m2=area)

        # Non-technical survey: one task, days by the area's size band (none once the record says it is done).
        full_days = nts_days(area, params.nts_days)
        if ("nts", h.id, "") in lots:
            lp = lots["nts", h.id, ""]
            nts = [(k, w) for k, w in lp.lots if w > 0]
            if lp.extra > 0:
                nts.append((max([lp.first_new, *(k + 1 for k, _ in lp.lots)]), lp.extra))
        elif known is not None and (known.surveyed or known.nothing_remains):
            nts = []
        elif known is not None:
            area_left = max(1.0, known.remaining_m2)
            full_days = nts_days(area_left, params.nts_days)
            nts = [(1, area_left)]
            area = area_left
        else:
            nts = [(1, area)]
        nts_ids = add_lots(TaskKind.NTS, h, prio, "m²", [
            (k, w, pools.modes(Method.SURVEY, max(1, math.ceil(full_days * min(1.0, w / area) - 1e-9))))
            for k, w in nts])

        # EOD spot task of an ERW-only area: BAC/EOD team time, no area released.
        eod: list[tuple[int, float]] = []
        eod_left = known is None or not (known.eod_done or known.clearance_started or known.nothing_remains)
        if plan.erw_only and params.eod_spot_days > 0:
            if ("eod", h.id, "") in lots:
                lp = lots["eod", h.id, ""]
                eod = [(k, w) for k, w in lp.lots if w > 0]
                if lp.extra > 0:
                    eod.append((max([lp.first_new, *(k + 1 for k, _ in lp.lots)]), lp.extra))
            elif eod_left:
                eod = [(1, 1.0)]
        eod_ids = add_lots(TaskKind.EOD, h, prio, "spot tasks", [
            (k, w, pools.modes(Method.BAC, max(1, math.ceil(params.eod_spot_days * min(1.0, w) - 1e-9))))
            for k, w in eod])

        # Technical survey over the part NTS does not cancel, per m².
        ts_rate = productivity[Method.SURVEY]
        if ("ts", h.id, "") in lots:
            ts = _explicit_lots(lots["ts", h.id, ""], ts_rate, params.lot_max_days)
        elif plan.ts_m2 > 0:
            n_ts = _lots(plan.ts_m2 / ts_rate, params.lot_max_days)
            ts = [(k + 1, plan.ts_m2 / n_ts) for k in range(n_ts)]
        else:
            ts = []
        ts_ids = add_lots(TaskKind.TS, h, prio, "m²", [
            (k, w, pools.modes(Method.SURVEY, _days(w, ts_rate))) for k, w in ts])

        # Clearance of what survey is expected not to release: BAC in an ERW-only area, else mine clearance.
        methods = [m for m in clearance_methods(h, params) if m in productivity]
        clear_lots: list[tuple[int, float]] = []
        if methods and ("clearance", h.id, "") in lots:
            slowest = min(productivity[m] for m in methods)
            clear_lots = _explicit_lots(lots["clearance", h.id, ""], slowest, params.lot_max_days)
        elif methods and plan.clear_m2 > 0:
            slowest = min(productivity[m] for m in methods)
            n_lots = _lots(plan.clear_m2 / slowest, params.lot_max_days)
            clear_lots = [(k + 1, plan.clear_m2 / n_lots) for k in range(n_lots)]
        clear_ids = add_lots(TaskKind.CLEARANCE, h, prio, "m²", [
            (k, w, tuple(mode for m in methods for mode in pools.modes(m, max(1, math.ceil(w / productivity[m])))))
            for k, w in clear_lots])

        precedences.extend(Precedence(a, b) for a in nts_ids for b in eod_ids + ts_ids)
        precedences.extend(Precedence(a, b) for a in eod_ids for b in ts_ids)
        before_clearance = ts_ids or nts_ids + eod_ids
        precedences.extend(Precedence(a, b) for a in before_clearance for b in clear_ids)
        rel = len(tasks)
        released[h.id] = rel
        # A fully processed area awaits only inspection and acceptance: from the start, or its last activity if later.
        not_before = 0
        if known is not None and known.nothing_remains and not (nts_ids or eod_ids or ts_ids or clear_ids):
            after = 0 if known.last_activity is None else days_of.index_of(known.last_activity + dt.timedelta(days=1))
            not_before = after + (params.inspection_lag_days if known.needs_inspection else 0)
        tasks.append(Task(f"released {h.id}", (Mode(0),), weight=weight, release=not_before))
        info.append(TaskInfo(TaskKind.RELEASED, hazard_id=h.id, work=area_of[h.id], work_unit="m²"))
        priority.append(prio)
        if clear_ids:  # cleared land is inspected and accepted before the land is worked on
            precedences.extend(Precedence(j, rel, params.inspection_lag_days) for j in clear_ids)
        else:  # land the record says was reduced or cleared is inspected too
            lag = params.inspection_lag_days if known is not None and known.needs_inspection else 0
            precedences.extend(Precedence(j, rel, lag) for j in nts_ids + eod_ids + ts_ids)

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
            for k, w, d in repair_lots:
                j = len(tasks)
                lots_of_asset.append(j)
                modes = pools.modes(trade, d)
                tasks.append(Task(f"repair {a.id} {trade.value}/{k}", modes))
                info.append(TaskInfo(TaskKind.REPAIR, asset_id=a.id, trade=trade, work=w, work_unit="builder-days",
                                     mode_methods=tuple(pool_names[m.demands[0][0]] for m in modes)))
                priority.append(score)
                precedences.extend(Precedence(released[hid], j) for hid in blocking.get(a.id, ()))
        done = len(tasks)
        tasks.append(Task(f"restored {a.id}", (Mode(0),), weight=weight))
        info.append(TaskInfo(TaskKind.RESTORED, asset_id=a.id, work=a.total_builder_days, work_unit="builder-days"))
        priority.append(score)
        precedences.extend(Precedence(j, done) for j in lots_of_asset)

    if not tasks:
        raise PlanError("nothing to plan: the store has no open hazard areas and no assets")
    calendar = Calendar(start_date, weekdays=params.weekdays, holidays=params.holidays,
                        horizon_days=max(days_of.horizon_days, _horizon_days_needed(tasks, pools.specs, params)))
    resources = tuple(
        Resource(name, cap, tuple((s, e, cap) for s, e in calendar.blocked_spans(window)) if window and cap else ())
        for name, cap, window in pools.specs
    )
    problem = Problem(resources, tuple(tasks), tuple(precedences), calendar.working_days)
    return CompiledPlan(problem, tuple(info), tuple(priority), calendar, pools.units, blocking,
                        roles=pools.roles, home=pools.home, role_change_days=pools.setup,
                        pools=params.pools)
