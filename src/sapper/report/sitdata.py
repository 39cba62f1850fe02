"""What the situation report (PDF and HTML, en/uk/ru) shows, read once from a store into plain data.

``gather(db, ...)`` opens the store, reads the register, the land-release history of every area, the latest plan and
the one before it, the workforce and the staged accident reports, and (when the store has a plan and
``forecast_runs`` > 0) forecasts the plan. Nothing here is language-dependent: words are chosen when the report is
rendered (:mod:`sapper.report.sitrep`). Accident reports are counted only (by month and review state): no name,
no casualty detail.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from sapper.domain.hazards import HazardArea, HazardClass, HazardStatus
from sapper.domain.landrelease import EventKind, ReleaseEvent, ReleaseState
from sapper.domain.pricing import PricingProfile
from sapper.errors import Fault, NotFoundError, PlanError, SapperError, ValidationError
from sapper.prioritise import DEFAULT_PROFILE, WeightProfile
from sapper.prioritise.score import Contribution, score_asset, score_hazard
from sapper.report.model import GanttBar, Town
from sapper.scenario.compile import TaskKind
from sapper.services.costs import PlanCosts, plan_costs
from sapper.services.forecast import Forecast, forecast_plan
from sapper.services.likelihood import likelihood_by_id
from sapper.services.planview import bar_kind
from sapper.services.pricing import load_pricing
from sapper.store import open_store
from sapper.store.records import PlanRun, SavedWhatIf, Utilisation

#: How many hazard areas and assets the priorities section lists.
TOP_N = 10


@dataclass(frozen=True)
class SitHazard:
    id: str
    name: str
    hazard_class: HazardClass
    state: ReleaseState
    geometry: BaseGeometry
    area_m2: float
    release_date: dt.date | None  # planned


@dataclass(frozen=True)
class SitAsset:
    id: str
    name: str
    asset_type: str
    geometry: BaseGeometry
    criticality: int
    restore_date: dt.date | None  # planned
    forecast_p50: dt.date | None
    forecast_p90: dt.date | None


@dataclass(frozen=True)
class Unit:
    """A team or brigade: its organisation's name, its role (a clearance method or a trade) and its planned work."""

    id: str
    organisation: str
    kind: str  # "team" | "brigade"
    role: str  # Method or Trade value
    size: int
    busy_days: int  # working days with planned work
    first: dt.date | None
    last: dt.date | None


@dataclass(frozen=True)
class Priority:
    record_id: str
    name: str
    kind: str  # "hazard" | "asset"
    score: float
    contributions: tuple[Contribution, ...]
    planned: dt.date | None


@dataclass(frozen=True)
class ReleasePoint:
    """Cumulative m² by ``date``: actual (from the land-release record) or planned (from the plan's tasks)."""

    date: dt.date
    series: str  # actual: "cancelled" | "reduced" | "cleared"; planned: "planned_survey" | "planned_clearance"
    m2: float


@dataclass(frozen=True)
class Changes:
    """What happened since ``since``: land-release events and the plan against the plan before it."""

    since: dt.date
    released: int
    handed_over: int
    reopened: int
    reclassified: int
    cancelled_m2: float
    reduced_m2: float
    cleared_m2: float
    previous_finish: dt.date | None
    finish: dt.date | None
    previous_plan_at: dt.datetime | None


@dataclass(frozen=True)
class Accidents:
    total: int
    by_month: tuple[tuple[dt.date, int], ...]
    by_state: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SituationData:
    scenario: str
    synthetic: bool
    generated_at: dt.datetime
    start_date: dt.date
    attributions: tuple[str, ...]
    outline: BaseGeometry | None
    context: tuple[tuple[str, BaseGeometry], ...]
    towns: tuple[Town, ...]
    hazards: tuple[SitHazard, ...]
    assets: tuple[SitAsset, ...]
    units: tuple[Unit, ...]
    bars: tuple[GanttBar, ...]  # lane = unit id, lane_group = "organisation\x1frole"
    has_plan: bool
    plan_finish: dt.date | None
    plan_start: dt.date | None
    plan_at: dt.datetime | None
    release_series: tuple[ReleasePoint, ...]
    priorities: tuple[Priority, ...]
    changes: Changes
    accidents: Accidents
    forecast: Forecast | None
    forecast_note: str  # why there is no forecast (an English reason from the services), or ""
    #: The weight profile the scores are under: the latest plan's (the default without a plan).
    profile: WeightProfile = DEFAULT_PROFILE
    #: The latest what-if comparison saved by ``sapper whatif`` (None: none), and whether the latest plan is another
    #: than the one it started from.
    whatif: SavedWhatIf | None = None
    whatif_stale: bool = False
    #: How the latest plan uses its units, per unit and per role, with the idle units (None: no plan, or a plan saved
    #: before it was recorded).
    unit_use: Utilisation | None = None
    #: What the latest plan costs at sapper's default prices (None: no plan).
    costs: PlanCosts | None = None


def _state(h: HazardArea, events: list[ReleaseEvent]) -> ReleaseState:
    if events:
        return events[-1].to_state
    if h.status is HazardStatus.HANDED_OVER:
        return ReleaseState.HANDED_OVER
    if h.status is HazardStatus.CLOSED:
        return ReleaseState.RELEASED
    return ReleaseState.CONFIRMED if h.hazard_class is HazardClass.CHA else ReleaseState.SUSPECTED


def _working_days(start: dt.date, end: dt.date, weekdays: frozenset[int]) -> set[dt.date]:
    days = set()
    d = start
    while d <= end:
        if d.weekday() in weekdays:
            days.add(d)
        d += dt.timedelta(days=1)
    return days


def _release_series(events: list[ReleaseEvent], run: PlanRun | None) -> list[ReleasePoint]:
    out: list[ReleasePoint] = []
    acts = sorted((e for e in events if e.kind is EventKind.ACTIVITY), key=lambda e: e.at)
    totals = {"cancelled": 0.0, "reduced": 0.0, "cleared": 0.0}
    by_day: dict[dt.date, dict[str, float]] = {}
    for e in acts:
        totals["cancelled"] += e.cancelled_m2
        totals["reduced"] += e.reduced_m2
        totals["cleared"] += e.cleared_m2
        by_day[e.at.date()] = dict(totals)
    for day, vals in sorted(by_day.items()):
        out += [ReleasePoint(day, k, v) for k, v in vals.items()]
    if run is not None:
        # Survey as planned: the area non-technical survey covers (plans saved before NTS and TS were apart: survey).
        for kinds, name in (((TaskKind.NTS, TaskKind.SURVEY), "planned_survey"),
                            ((TaskKind.CLEARANCE,), "planned_clearance")):
            cum = 0.0
            per_day: dict[dt.date, float] = defaultdict(float)
            for t in run.tasks:
                if t.kind in kinds and t.work_unit in ("m2", "m²"):
                    per_day[t.end_date] += t.work
            if per_day:
                out.append(ReleasePoint(run.start_date if run.summary else min(per_day), name, 0.0))
            for day in sorted(per_day):
                cum += per_day[day]
                out.append(ReleasePoint(day, name, cum))
    return out


def _previous_plan(store_plan: PlanRun | None, load: object) -> PlanRun | None:
    if store_plan is None or store_plan.id is None or not callable(load):
        return None
    for run_id in range(store_plan.id - 1, 0, -1):
        try:
            found = load(run_id)
        except SapperError:
            continue
        if isinstance(found, PlanRun):
            return found
    return None


def gather(db: str | Path, *, forecast_runs: int = 500, seed: int = 0, since: dt.date | None = None,
           now: dt.datetime | None = None, pricing: PricingProfile | None = None) -> SituationData:
    """Everything the situation report of the store at ``db`` shows (see the module docstring), its costs at
    ``pricing``'s prices (None: sapper's default profile)."""
    if forecast_runs < 0:
        raise ValidationError("report", [Fault("--forecast-runs",  # not a message, as in io.issues
                                               f"must be 0 (no forecast) or more, got {forecast_runs}")])
    with open_store(db) as store:
        meta = store.meta()
        hazards = store.hazards()
        assets = store.assets()
        orgs = {o.id: o.name for o in store.organisations()}
        teams, brigades = store.teams(), store.brigades()
        settlements = store.settlements()
        admin = store.context_areas("admin_areas")
        zone = store.context_areas("contested_zone")
        counts = store.counts()
        likelihood = likelihood_by_id(store) if hazards else None  # the planner's own probabilities, or None: prior
        # One query per area (the store reads a history by area): skipped when no area has any history yet.
        events = {h.id: store.release_events(h.id) if counts.get("land_release_events") else [] for h in hazards}
        run = store.latest_plan()
        previous = _previous_plan(run, store.plan)
        accidents = [s for s in store.field_submissions() if s.kind == "accident"] if counts.get(
            "field_submissions") else []
        whatif = store.latest_whatif()
        forecast: Forecast | None = None
        note = ""
        pricing = pricing or load_pricing()
        costs = plan_costs(store, pricing) if run is not None else None
        if run is None:
            note = "no plan"
        elif forecast_runs > 0:
            try:
                forecast = forecast_plan(store, runs=forecast_runs, seed=seed, pricing=pricing)
            except (PlanError, NotFoundError, ValidationError) as e:  # e.g. a capped plan priced at another profile
                note = str(e)
    if not hazards and not assets:
        raise NotFoundError(f"{db} holds no hazard areas and no assets: nothing to report")
    generated = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    released: dict[str, dt.date] = {}
    restored: dict[str, dt.date] = {}
    if run is not None:
        released = {t.hazard_id: t.end_date for t in run.tasks if t.kind is TaskKind.RELEASED and t.hazard_id}
        restored = {t.asset_id: t.end_date for t in run.tasks if t.kind is TaskKind.RESTORED and t.asset_id}
    fc_assets = {a.asset_id: a.restoration for a in forecast.assets} if forecast else {}

    outline = next((a.geometry for a in admin if a.name == "Kursk Oblast"), None)
    if outline is None and admin:
        outline = admin[0].geometry
    context: list[tuple[str, BaseGeometry]] = [(a.name, a.geometry) for a in admin if a.geometry is not outline]
    context += [(z.name, z.geometry) for z in zone]
    start = dt.date.fromisoformat(meta["start_date"]) if "start_date" in meta else (
        run.start_date if run is not None and run.summary is not None else generated.date())

    # Work of each unit: bars (one per task) and busy working days.
    weekdays = run.params.weekdays if run is not None else frozenset(range(5))
    bars: list[GanttBar] = []
    busy: dict[str, set[dt.date]] = defaultdict(set)
    span: dict[str, list[dt.date]] = defaultdict(list)
    group_of = {t.id: f"{orgs.get(t.organisation_id, t.organisation_id)}\x1f{t.method.value}" for t in teams}
    group_of |= {b.id: f"{orgs.get(b.organisation_id, b.organisation_id)}\x1f{b.trade.value}" for b in brigades}
    for t in run.tasks if run is not None else ():
        bar = bar_kind(t.kind)
        if bar is None or not t.unit_id:
            continue
        for unit in t.unit_id.split(","):
            bars.append(GanttBar(unit, group_of.get(unit, "?\x1f" + t.resource), t.hazard_id or t.asset_id or "",
                                 bar, t.start_date, t.end_date))
            busy[unit] |= _working_days(t.start_date, t.end_date, weekdays)
            span[unit] += [t.start_date, t.end_date]
    units = [Unit(t.id, orgs.get(t.organisation_id, t.organisation_id), "team", t.method.value, t.size,
                  len(busy[t.id]), min(span[t.id], default=None), max(span[t.id], default=None)) for t in teams]
    units += [Unit(b.id, orgs.get(b.organisation_id, b.organisation_id), "brigade", b.trade.value, b.size,
                   len(busy[b.id]), min(span[b.id], default=None), max(span[b.id], default=None)) for b in brigades]

    all_events = sorted((e for evs in events.values() for e in evs), key=lambda e: e.at)
    sit_hazards = tuple(SitHazard(h.id, h.name, h.hazard_class, _state(h, events[h.id]), h.geometry, h.area_m2,
                                  released.get(h.id)) for h in hazards)
    open_ids = {h.id for h in sit_hazards if h.state in (ReleaseState.SUSPECTED, ReleaseState.CONFIRMED)}
    profile = run.params.profile if run is not None else DEFAULT_PROFILE
    prios = [Priority(h.id, h.name, "hazard", s.value, s.contributions, released.get(h.id))
             for h in hazards if h.id in open_ids
             for s in (score_hazard(h, profile.hazard, likelihood=(likelihood or {}).get(h.id)),)]
    prios.sort(key=lambda p: (-p.score, p.record_id))
    aprios = [Priority(a.id, a.name, "asset", s.value, s.contributions, restored.get(a.id))
              for a in assets for s in (score_asset(a, profile.asset),)]
    aprios.sort(key=lambda p: (-p.score, p.record_id))

    since_day = since or (previous.created_at.date() if previous is not None else start)
    recent = [e for e in all_events if e.at.date() >= since_day]
    kinds = Counter(e.kind for e in recent)
    changes = Changes(
        since=since_day,
        released=sum(1 for e in recent if e.to_state is ReleaseState.RELEASED and e.from_state is not e.to_state),
        handed_over=kinds[EventKind.HANDED_OVER], reopened=kinds[EventKind.REOPENED],
        reclassified=kinds[EventKind.RECLASSIFIED],
        cancelled_m2=sum(e.cancelled_m2 for e in recent), reduced_m2=sum(e.reduced_m2 for e in recent),
        cleared_m2=sum(e.cleared_m2 for e in recent),
        previous_finish=previous.finish_date if previous is not None else None,
        finish=run.finish_date if run is not None else None,
        previous_plan_at=previous.created_at if previous is not None else None,
    )
    month = Counter((s.submission.submitted_at or s.imported_at).date().replace(day=1) for s in accidents)
    return SituationData(
        scenario=meta.get("scenario", Path(str(db)).stem),
        synthetic=meta.get("synthetic") == "true",
        generated_at=generated,
        start_date=start,
        attributions=tuple(a for a in meta.get("attributions", "").splitlines() if a.strip()),
        outline=outline,
        context=tuple(context),
        towns=tuple(Town(s.name, s.population, s.point, s.synthetic) for s in settlements),
        hazards=sit_hazards,
        assets=tuple(SitAsset(a.id, a.name, a.asset_type.value, a.geometry, a.criticality, restored.get(a.id),
                              fc_assets[a.id].p50 if a.id in fc_assets else None,
                              fc_assets[a.id].p90 if a.id in fc_assets else None) for a in assets),
        units=tuple(units),
        bars=tuple(bars),
        has_plan=run is not None,
        plan_finish=run.finish_date if run is not None else None,
        plan_start=run.start_date if run is not None and run.summary is not None else None,
        plan_at=run.created_at if run is not None else None,
        unit_use=run.summary.utilisation if run is not None and run.summary is not None else None,
        release_series=tuple(_release_series(all_events, run)),
        priorities=tuple(prios[:TOP_N] + aprios[:TOP_N]),
        changes=changes,
        accidents=Accidents(len(accidents), tuple(sorted(month.items())),
                            tuple(sorted(Counter(s.state.value for s in accidents).items()))),
        forecast=forecast,
        forecast_note=note,
        profile=profile,
        whatif=whatif,
        whatif_stale=whatif is not None and (run is None or whatif.plan_id != run.id),
        costs=costs,
    )
