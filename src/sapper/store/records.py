"""Records the store keeps that are not domain objects: saved plans, settlements and context areas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from sapper.domain.calendar import WINTER_STAND_DOWN, SeasonalWindow
from sapper.domain.geometry import in_wgs84_range
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, LandUse
from sapper.errors import Fault, StoreError, ValidationError
from sapper.plan import Engine, MovePolicy, Status
from sapper.prioritise import DEFAULT_PROFILE, WeightProfile
from sapper.scenario.compile import CompileParams, PoolPolicy, TaskKind

#: A value of the engine's diagnostics (``PlanSummary.details``).
Scalar = int | float | str | bool | None


@dataclass(frozen=True, slots=True)
class SurveyUnderOrder:
    """A survey activity (NTS or TS) a field report recorded under a task order: the order's number, the activity
    and its day (``Activity.start``)."""

    task_order: str
    activity_id: str
    day: dt.date | None


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """One task of a saved plan: what (``kind``, hazard or asset), who (``unit_id``), when, how much.

    ``work`` is in ``work_unit``: square metres (``"m2"``) for survey and clearance, builder-days
    (``"builder_days"``) for repair. ``resource`` names the resource pool (a method or a trade); ``mode`` is
    the execution mode the planner chose (e.g. a clearance method).
    """

    task_id: str
    kind: TaskKind
    start_date: dt.date
    end_date: dt.date
    work: float
    work_unit: str
    hazard_id: str | None = None
    asset_id: str | None = None
    mode: str = ""
    resource: str = ""
    unit_id: str | None = None

    def __post_init__(self) -> None:
        record = f"planned task {self.task_id}"
        faults = []
        if not self.task_id.strip():
            faults.append(Fault("planned task", "task id is empty", "task_id"))
        try:
            object.__setattr__(self, "kind", TaskKind(self.kind))
        except ValueError:
            kinds = ", ".join(k.value for k in TaskKind)
            faults.append(Fault(record, f"kind must be one of {kinds}, got {self.kind!r}", "kind"))
        if self.end_date < self.start_date:
            faults.append(
                Fault(record, f"ends ({self.end_date}) before it starts ({self.start_date})", "end_date")
            )
        if not self.work >= 0:
            faults.append(Fault(record, f"work cannot be negative, got {self.work}", "work"))
        if not self.work_unit.strip():
            faults.append(Fault(record, "work unit is empty", "work_unit"))
        ValidationError.raise_if(record, faults)


def _utc_ms(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (naive taken as UTC), to the millisecond: what the store's DATETIME column keeps."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Progress a plan reaches by a date (half-year ends, then the finish). A percentage is None when there is
    nothing of that kind to count."""

    date: dt.date
    hazard_area_released_km2: float
    hazard_area_released_pct: float | None
    critical_assets_restored_pct: float | None
    assets_restored_pct: float | None


@dataclass(frozen=True, slots=True)
class ShiftStats:
    """How far the lots that moved moved, in working days (negative: earlier)."""

    min: int
    median: float
    max: int


@dataclass(frozen=True, slots=True)
class ReplanCounts:
    """What changed in a re-plan, counted (``services.replan`` module docstring); the ``*_by_*`` mappings count lots
    by reason or cause, most common first. The ``fewest_moves*`` figures are None unless moves were ranked first."""

    previous_plan_id: int | None
    previous_start_date: dt.date
    as_of: dt.date
    progress_from: dt.date | None
    progress_reports: int
    stable: bool
    move_cost: int
    lots_compared: int
    finished: int
    running: int
    started_early: int
    not_started_as_planned: int
    removed: int
    removed_by_reason: Mapping[str, int]
    added: int
    added_by_reason: Mapping[str, int]
    moved: int
    moved_earlier: int
    moved_later: int
    shift_working_days: ShiftStats | None
    moved_by_reason: Mapping[str, int]
    moved_by_cause: Mapping[str, int]
    must_move: int
    anchored_moved: int | None
    fewest_moves: int | None
    fewest_moves_bound: int | None
    fewest_moves_proven: bool | None
    pushed_forward: int
    repair_moved: int
    team_changed: int
    pinned_running: int
    running_not_continuing: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ReplanSummary:
    """The re-plan part of a plan's summary: what changed (``counts``), the objective split into the weighted
    completion and the move cost (None without a plan), and what the baseline was."""

    counts: ReplanCounts
    weighted_completion: float | None
    move_cost_total: int | None
    baseline_meaning: str


@dataclass(frozen=True, slots=True)
class UnitUtilisation:
    """How a plan uses one team or brigade, in working days from the plan's start to the last working day any unit of
    its kind (deminers or builders) works: the days its pool is available (stand-downs left out), the days it has
    work (set-up included), of which set-up, the days per role it works in, and its longest idle spell (available
    days in a row without work; ``idle_from``/``idle_to`` its first and last day, None without one)."""

    unit_id: str
    pool: str
    own_role: str
    available_days: int
    busy_days: int
    set_up_days: int
    days_by_role: Mapping[str, int]
    longest_idle_days: int
    idle_from: dt.date | None = None
    idle_to: dt.date | None = None
    #: Times the unit takes up a borrowed role after a lot in another role (or at the start): the set-up it needs;
    #: ``set_up_days`` is what the plan charges: as much when set-up is paid per change of role (``plan.setups``),
    #: more when the solver's plan, set-up on every lot in a borrowed role, stands (docs/planning.md).
    role_changes: int = 0

    @property
    def share(self) -> float | None:
        """Busy days over available days (None when the unit has no available day)."""
        return self.busy_days / self.available_days if self.available_days else None


@dataclass(frozen=True, slots=True)
class RoleUtilisation:
    """A role (method or trade) across a plan: the units that work in it (and how many of them borrow it), its working
    days (set-up left out), and its share of the available days of every unit of its kind."""

    role: str
    kind: str
    units: int
    borrowed_by: int
    working_days: int
    share_pct: float | None


@dataclass(frozen=True, slots=True)
class Utilisation:
    """Utilisation per unit and per role, how the pools were made (``fixed`` or ``capabilities``), and the idle
    threshold: a unit is idle when its longest idle spell is at least ``idle_days`` working days (``idle_weeks``
    weeks of the programme's working week)."""

    pools: str
    idle_weeks: int
    idle_days: int
    units: tuple[UnitUtilisation, ...] = ()
    roles: tuple[RoleUtilisation, ...] = ()

    @property
    def idle(self) -> tuple[UnitUtilisation, ...]:
        """The units idle at least ``idle_days`` in a row, the longest idle first."""
        return tuple(sorted((u for u in self.units if u.longest_idle_days >= self.idle_days),
                            key=lambda u: (-u.longest_idle_days, u.unit_id)))


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """How a plan went, for a person and for the next re-plan: the solve (status, objective, bound, baseline, the
    engine that found the plan — e.g. ``cpsat``, ``greedy-dw``, ``warm-start`` — and its time), the calendar, what
    is planned and the progress by date. ``details`` holds the engine's diagnostics (an open set of named values:
    CP-SAT statuses, bounds, seconds). ``replan`` is set on a re-plan."""

    status: Status
    objective: float | None
    lower_bound: float | None
    baseline_objective: float | None
    gap_pct: float | None
    improvement_over_baseline_pct: float | None
    engine: str
    start_date: dt.date
    finish_date: dt.date | None
    task_count: int
    work_task_count: int
    solve_seconds: float
    objective_meaning: str
    hazard_areas: int
    hazard_area_km2: float
    assets: int
    critical_assets: int
    progress: tuple[Checkpoint, ...] = ()
    details: Mapping[str, Scalar] = field(default_factory=dict)
    synthetic: bool = False
    replan: ReplanSummary | None = None
    #: How the plan uses its teams and brigades (None: a plan without one, or saved before it was recorded).
    utilisation: Utilisation | None = None

    @property
    def has_plan(self) -> bool:
        """Whether the solve found a plan (optimal or feasible)."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True, slots=True)
class ReplanParams:
    """What a re-plan was asked: the plan it continues, the date it plans from, how it treats moves."""

    replan_of: int | None
    as_of: dt.date
    progress_through: dt.date
    stable: bool = True
    moves: MovePolicy = MovePolicy.FEWEST
    move_cost: int = 0
    move_cost_days: float = 0.0


_COMPILE = CompileParams()


@dataclass(frozen=True, slots=True)
class PlanParams:
    """The parameters a plan was made with: solver limits, how the register was compiled (the defaults are those of
    ``CompileParams``, which is also what a saved plan that does not record one was made with), and the re-plan's."""

    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    engine: Engine = Engine.CPSAT
    lot_max_days: int = _COMPILE.lot_max_days
    weekdays: frozenset[int] = _COMPILE.weekdays
    demining_stand_down: SeasonalWindow | None = WINTER_STAND_DOWN
    building_stand_down: SeasonalWindow | None = None
    replan: ReplanParams | None = None
    #: The weight profile the plan was made with (a plan saved before profiles were recorded: the default).
    profile: WeightProfile = DEFAULT_PROFILE
    #: The programme's holidays the plan was made with.
    holidays: frozenset[dt.date] = frozenset()
    #: Fixed pools or pools by capabilities, and the set-up of a borrowed role (saved before: fixed pools).
    pools: PoolPolicy = _COMPILE.pools
    role_change_days: int = _COMPILE.role_change_days
    #: Money per calendar year for demining and for reconstruction the plan keeps to (``sapper plan
    #: --budget-per-year``), in the currency of the pricing profile named ``budget_pricing``; None: not capped. A
    #: re-plan of the plan keeps to the same budgets.
    budget_demining: float | None = None
    budget_reconstruction: float | None = None
    budget_pricing: str | None = None

    def compile_params(self) -> CompileParams:
        """The compile parameters the plan was made with (defaults for what it does not record)."""
        return CompileParams(lot_max_days=self.lot_max_days, weekdays=self.weekdays,
                             demining_stand_down=self.demining_stand_down,
                             building_stand_down=self.building_stand_down, profile=self.profile,
                             holidays=self.holidays, pools=self.pools, role_change_days=self.role_change_days)

    @property
    def progress_through(self) -> dt.date | None:
        """The day up to which field progress was taken into account (None: none yet)."""
        return self.replan.progress_through if self.replan is not None else None


@dataclass(frozen=True, slots=True)
class PlanRun:
    """A saved plan: how the solve went, the parameters it used, a summary, and its tasks.

    ``id`` is None until the store saves it. ``created_at`` is kept in UTC to the millisecond (naive is
    taken as UTC). ``task_count`` defaults to the number of ``tasks``. ``summary`` is None for a run saved without
    one (the store keeps both as JSON, ``store.planjson``).
    """

    status: str
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    objective: float | None = None
    lower_bound: float | None = None
    baseline_objective: float | None = None
    finish_date: dt.date | None = None
    solve_seconds: float = 0.0
    task_count: int | None = None
    params: PlanParams = field(default_factory=PlanParams)
    summary: PlanSummary | None = None
    tasks: tuple[PlannedTask, ...] = ()
    id: int | None = None

    @property
    def start_date(self) -> dt.date:
        """The first day of the plan's calendar; StoreError for a run saved without a summary."""
        if self.summary is None:
            raise StoreError(f"plan run {self.id} has no summary, so no start date: plan again with sapper plan")
        return self.summary.start_date

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "created_at", _utc_ms(self.created_at))
        if self.task_count is None:
            object.__setattr__(self, "task_count", len(self.tasks))
        record = f"plan run {self.id if self.id is not None else '(new)'}"
        faults = []
        if not self.status.strip():
            faults.append(Fault(record, "status is empty", "status"))
        if not self.solve_seconds >= 0:
            faults.append(
                Fault(record, f"solve time cannot be negative, got {self.solve_seconds}", "solve_seconds")
            )
        if self.task_count is not None and self.task_count < 0:
            faults.append(Fault(record, "task count cannot be negative", "task_count"))
        seen: set[str] = set()
        for task in self.tasks:
            if task.task_id in seen:
                faults.append(Fault(record, f"task {task.task_id} appears twice", "tasks"))
            seen.add(task.task_id)
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class ContextArea:
    """An area on the context map (an administrative area, the contested zone), in WGS84."""

    name: str
    geometry: BaseGeometry
    source: str = ""
    synthetic: bool = False

    def __post_init__(self) -> None:
        record = f"context area {self.name}"
        faults = []
        if not self.name.strip():
            faults.append(Fault("context area", "name is empty", "name"))
        if self.geometry is None or self.geometry.is_empty:
            faults.append(Fault(record, "geometry is empty", "geometry"))
        elif not self.geometry.is_valid:
            faults.append(Fault(record, "geometry is not valid", "geometry"))
        elif not in_wgs84_range(self.geometry):
            faults.append(Fault(record, "coordinates are not WGS84 lon/lat", "geometry"))
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class LayerFeature:
    """A feature of a spatial layer as a map page needs it: its id, geometry (WGS84) and row version."""

    id: str
    geometry: BaseGeometry | None
    version: int


@dataclass(frozen=True, slots=True)
class HazardEdit:
    """The editable attributes of a hazard area, all of them (a whole replacement, not a patch).

    Start from :meth:`of` the stored area and ``dataclasses.replace`` what changes. Class and status change
    through land release (sapper.services.landrelease), not here; the id never changes.
    """

    geometry: BaseGeometry
    name: str
    evidence: Evidence
    device_categories: frozenset[DeviceCategory]
    land_use: LandUse
    beneficiaries: int
    organisation_id: str | None
    expected_clearance_share: float | None

    @classmethod
    def of(cls, hazard: HazardArea) -> HazardEdit:
        """The editable attributes of ``hazard`` as they are."""
        return cls(
            geometry=hazard.geometry,
            name=hazard.name,
            evidence=hazard.evidence,
            device_categories=hazard.device_categories,
            land_use=hazard.land_use,
            beneficiaries=hazard.beneficiaries,
            organisation_id=hazard.organisation_id,
            expected_clearance_share=hazard.expected_clearance_share,
        )


@dataclass(frozen=True, slots=True)
class WhatIfAsset:
    """A critical asset in one column of a saved what-if comparison: planned restoration, forecast P50 and P80."""

    asset_id: str
    asset_type: str
    planned: dt.date | None
    p50: dt.date | None
    p80: dt.date | None


@dataclass(frozen=True, slots=True)
class WhatIfColumn:
    """One column of a saved what-if comparison (``current``: the latest plan then; else a variant)."""

    name: str
    changes: str
    deminers: int
    builders: int
    winter_work: bool
    planned_finish: dt.date | None
    p10: dt.date
    p50: dt.date
    p80: dt.date
    p90: dt.date
    released_km2_p50: float
    assets: tuple[WhatIfAsset, ...]


@dataclass(frozen=True, slots=True)
class SavedWhatIf:
    """The latest what-if comparison (``sapper whatif``), kept for the report: the plan it was made from, when, how
    many runs from which seed, the date released km² are read at, and its columns."""

    plan_id: int | None
    made_at: dt.datetime
    runs: int
    seed: int
    released_by: dt.date
    hazard_area_km2: float
    columns: tuple[WhatIfColumn, ...]
