"""What is left to do: the previous plan's work, less the progress reported since, against the register as it is now.

The unit is a *lot*: one NTS, EOD spot task, TS, clearance or repair task of the previous plan (``PlannedTask``), with
its work (m², spot tasks or builder-days) as that plan left it. A *piece of work* is what lots share: the NTS, EOD spot
task, TS or clearance of a hazard area, or an asset's repair in one trade (a ``WorkKey``). For each piece of work, as
of the as-of date:

- **done before**: the work of the previous plan's tasks that ended before that plan's start (its history);
- **done since**: clearance reports (m² cleared, by team), brigade reports (builder-days, by brigade; a percentage
  complete, when given, states what is left of the trade's work on the asset outright), and — NTS, TS and EOD spot
  tasks having no daily form — their lots assumed to progress as planned, day by day; a hazard area whose clearance
  has started has been surveyed. Survey lots of a plan saved before NTS and TS were planned apart (kind ``survey``)
  are removed and the area's NTS and TS planned anew. Reported work goes first to the lots the reporting unit was
  planned on, in planned order, then to the others, in planned order;
- **needed now**: from the register: a hazard area's NTS is its area, less land cancelled or reduced by activities
  recorded since; its TS and clearance what ``compile.survey_plan`` gives for that area; its EOD spot task one, in an
  ERW-only area; an asset's repair its builder-days.

What is left (needed now − done before − done since) is compared with what the lots still hold: more (a hazard area
found larger, more repair work) becomes new lots; less (an area found smaller, land cancelled) is taken from the last
lots first, so lots that need not change keep their work. A lot is then done, running (it continues with the unit that
reported on it), early (running, but planned to start later), late (it was due to start and nothing was reported),
pending (not due yet) or removed (no longer needed).

A brigade that reports its work **blocked by a hazard** makes the asset wait for that hazard area's release from
then on (``WorkLeft.blocked``), beside the areas its work site crosses: the area it names, if it is open with work
left; else the open area its point lies in, or the nearest within ``BLOCKING_NEAR_M``. A report that names a released
or unknown area, or whose point is near no open area (a hazard not in the register: survey it), links nothing and is
said in the notes, as is every link made.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity
from sapper.domain.assets import Asset
from sapper.domain.calendar import Calendar
from sapper.domain.fielddata import ProgressKind, ProgressReport
from sapper.domain.geometry import LocalProjection, area_m2
from sapper.domain.hazards import HazardArea, HazardStatus
from sapper.domain.resources import BuilderBrigade
from sapper.messages import msg
from sapper.scenario.compile import SURVEY_KINDS, WORK_KINDS, CompileParams, LotPlan, TaskKind, WorkKey, survey_plan
from sapper.store.records import PlannedTask, PlanRun

#: Relative tolerance below which work left counts as none (rounding of reports and dates).
TOLERANCE = 1e-3


class LotStatus(StrEnum):
    DONE = "done"  # finished before the as-of date
    RUNNING = "running"  # started as planned (or late), continues
    EARLY = "early"  # started before its planned start
    LATE = "late"  # was due to start before the as-of date, nothing reported
    PENDING = "pending"  # not due yet
    REMOVED = "removed"  # no longer needed


@dataclass(frozen=True, slots=True)
class Lot:
    """One work task of the previous plan, as the progress since leaves it."""

    task: PlannedTask
    key: WorkKey
    number: int
    status: LotStatus
    done: float = 0.0  # work done since the previous plan's start
    left: float = 0.0  # work still to do (0 when done or removed)
    by: tuple[str, ...] = ()  # units that reported work on it, latest last
    first_report: dt.date | None = None
    last_report: dt.date | None = None
    why: str = ""  # why it was removed

    @property
    def unit(self) -> str | None:
        """The unit that continues a running lot: the last that reported on it, else the planned one."""
        if self.by:
            return self.by[-1]
        return self.task.unit_id.split(",")[0] if self.task.unit_id else None


@dataclass(frozen=True)
class WorkLeft:
    """The remaining work as of ``as_of``: lots by task id, the lot plans for the compiler, the register to plan."""

    as_of: dt.date
    progress_from: dt.date | None
    lots: dict[str, Lot]
    plans: dict[WorkKey, LotPlan]
    #: Work added since the previous plan (new lots), by piece of work, and why.
    added: dict[WorkKey, tuple[float, str]]
    hazards: list[HazardArea]
    assets: list[Asset]
    #: Tasks of the previous plan already in its history (ended before its start); kept as they are.
    history: list[PlannedTask]
    #: Milestones (released, restored) reached since: their pieces of work are all done.
    reached: list[PlannedTask]
    reports_used: int = 0
    notes: list[str] = field(default_factory=list)
    #: Asset id → open hazard areas its brigades reported it blocked by (beside those its work site crosses).
    blocked: dict[str, tuple[str, ...]] = field(default_factory=dict)


def work_key(task: PlannedTask) -> WorkKey:
    """The piece of work a planned survey, clearance or repair task belongs to."""
    if task.kind is TaskKind.REPAIR:
        return ("repair", task.asset_id or "", task.mode)
    return (task.kind, task.hazard_id or "", "")


def lot_number(task_id: str) -> int:
    """The lot number at the end of a task id (``clearance HZ-0001/3`` → 3); 1 when there is none."""
    tail = task_id.rsplit("/", 1)[-1]
    return int(tail) if "/" in task_id and tail.isdigit() else 1


def _needed_now(hazards: Mapping[str, HazardArea], assets: Mapping[str, Asset],
                reduced: Mapping[str, float], params: CompileParams) -> dict[WorkKey, float]:
    need: dict[WorkKey, float] = {}
    for h in hazards.values():
        if h.status is not HazardStatus.OPEN:
            continue
        area = max(0.0, h.area_m2 - reduced.get(h.id, 0.0))
        scale = area / h.area_m2 if h.area_m2 > 0 else 0.0
        plan = survey_plan(h, params)
        need["nts", h.id, ""] = area
        if plan.erw_only and params.eod_spot_days > 0:
            need["eod", h.id, ""] = 1.0
        if plan.ts_m2 > 0:
            need["ts", h.id, ""] = plan.ts_m2 * scale
        if h.clearance_share > 0:
            need["clearance", h.id, ""] = area * h.clearance_share
    for a in assets.values():
        for trade, days in a.repair_work.items():
            need["repair", a.id, trade.value] = days
    return need


def _reduced_since(hazards: Mapping[str, HazardArea], activities: Sequence[Activity], start: dt.date | None,
                   as_of: dt.date) -> dict[str, float]:
    """m² of each hazard area cancelled or reduced by activities dated in [start, as_of)."""
    out: dict[str, float] = defaultdict(float)
    for act in activities:
        day = act.end or act.start
        h = hazards.get(act.hazard_id)
        if h is None or day is None or day >= as_of or (start is not None and day < start):
            continue
        for kind in ("cancelled", "reduced"):
            geom = act.outcomes.get(kind)
            if geom is not None:
                out[h.id] += area_m2(shapely.intersection(geom, h.geometry))
    return out


@dataclass
class _Fill:
    """Work allocated to one lot while reports are read."""

    lot: PlannedTask
    done: float = 0.0
    by: list[str] = field(default_factory=list)
    first: dt.date | None = None
    last: dt.date | None = None

    def take(self, amount: float, unit: str, day: dt.date) -> float:
        room = max(0.0, self.lot.work - self.done)
        used = min(room, amount)
        if used > 0:
            self.done += used
            if unit in self.by:
                self.by.remove(unit)
            self.by.append(unit)
            self.first = day if self.first is None else min(self.first, day)
            self.last = day if self.last is None else max(self.last, day)
        return amount - used


def _allocate(fills: Sequence[_Fill], reports: Sequence[tuple[dt.date, str, float]]) -> float:
    """Give each report's work to the lots of its unit first, then to the others, in planned order; returns the work
    that fitted in no lot."""
    excess = 0.0
    for day, unit, amount in sorted(reports):
        left = amount
        own = [f for f in fills if unit in (f.lot.unit_id or "").split(",")]
        for f in own + [f for f in fills if f not in own]:
            if left <= 0:
                break
            left = f.take(left, unit, day)
        excess += left
    return excess


def remaining_work(
    previous: PlanRun,
    *,
    hazards: Sequence[HazardArea],
    assets: Sequence[Asset],
    brigades: Sequence[BuilderBrigade],
    progress: Sequence[ProgressReport],
    activities: Sequence[Activity],
    as_of: dt.date,
    progress_from: dt.date | None,
    weekdays: frozenset[int],
    params: CompileParams | None = None,
    holidays: frozenset[dt.date] = frozenset(),
) -> WorkLeft:
    """The work left as of ``as_of`` (see the module docstring). Reports dated in [``progress_from``, ``as_of``) count
    (from the beginning when ``progress_from`` is None); ``weekdays`` and ``holidays`` are the previous plan's working
    calendar, ``params`` how the register is compiled (the defaults when None)."""
    params = params or CompileParams(weekdays=weekdays)
    plan_start = previous.start_date
    hz = {h.id: h for h in hazards}
    asset_by_id = {a.id: a for a in assets}
    trade_of = {b.id: b.trade.value for b in brigades}
    notes: list[str] = []
    history = [t for t in previous.tasks if t.end_date < plan_start]
    pending = [t for t in previous.tasks if t.end_date >= plan_start and t.kind in WORK_KINDS]
    done_before: dict[WorkKey, float] = defaultdict(float)
    max_number: dict[WorkKey, int] = defaultdict(int)
    for t in history:
        if t.kind in WORK_KINDS:
            done_before[work_key(t)] += t.work
    for t in [*history, *pending]:
        if t.kind in WORK_KINDS:
            max_number[work_key(t)] = max(max_number[work_key(t)], lot_number(t.task_id))
    groups: dict[WorkKey, list[_Fill]] = defaultdict(list)
    for t in sorted(pending, key=lambda t: (t.start_date, lot_number(t.task_id), t.task_id)):
        groups[work_key(t)].append(_Fill(t))

    # Reports in the window, by piece of work.
    reports: dict[WorkKey, list[tuple[dt.date, str, float]]] = defaultdict(list)
    percent: dict[WorkKey, tuple[dt.date, float]] = {}
    used = 0
    for r in progress:
        if r.work_date >= as_of or (progress_from is not None and r.work_date < progress_from):
            continue
        if r.kind is ProgressKind.CLEARANCE and r.hazard_id and r.team_id:
            reports["clearance", r.hazard_id, ""].append((r.work_date, r.team_id, r.area_cleared_m2 or 0.0))
            used += 1
        elif r.kind is ProgressKind.BRIGADE and r.asset_id and r.brigade_id:
            trade = trade_of.get(r.brigade_id)
            if trade is None:
                notes.append(msg("brigade {brigade} is not in the store: its report of {day} on asset {asset} is not "
                                 "counted", brigade=r.brigade_id, day=r.work_date.isoformat(), asset=r.asset_id))
                continue
            key = ("repair", r.asset_id, trade)
            reports[key].append((r.work_date, r.brigade_id, r.builder_days or 0.0))
            if r.percent_complete is not None and (key not in percent or r.work_date >= percent[key][0]):
                percent[key] = (r.work_date, r.percent_complete)
            used += 1
    excess: dict[WorkKey, float] = {}
    for key, rows in reports.items():
        excess[key] = _allocate(groups.get(key, []), rows)

    # NTS, TS, EOD spot tasks: no daily form. A lot progresses as planned, day by day; clearance that has begun means
    # survey is done.
    cal = Calendar(plan_start, weekdays=weekdays, holidays=holidays,
                   horizon_days=(max([as_of, *(t.end_date for t in pending)]) - plan_start).days + 14)
    cleared_started = {k[1] for k, rows in reports.items() if k[0] == "clearance" and rows} | {
        t.hazard_id for t in history if t.kind is TaskKind.CLEARANCE}
    for key, fills in groups.items():
        if key[0] not in SURVEY_KINDS:
            continue
        for f in fills:
            t = f.lot
            span = cal.index_of(t.end_date) + 1 - cal.index_of(t.start_date)
            elapsed = cal.index_of(as_of) - cal.index_of(t.start_date)
            share = 1.0 if key[1] in cleared_started else min(1.0, max(0.0, elapsed / max(1, span)))
            if share > 0:
                f.done = t.work * share
                f.by = [u for u in (t.unit_id or "").split(",") if u]
                f.first = t.start_date
                f.last = min(t.end_date, as_of - dt.timedelta(days=1))

    # Needed now, and the reconciliation of each piece of work.
    need = _needed_now(hz, asset_by_id, _reduced_since(hz, activities, progress_from, as_of), params)
    lots: dict[str, Lot] = {}
    plans: dict[WorkKey, LotPlan] = {}
    added: dict[WorkKey, tuple[float, str]] = {}
    keys = set(groups) | set(done_before) | {k for k in reports if k in need}
    for key in sorted(keys):
        fills = groups.get(key, [])
        planned = done_before[key] + sum(f.lot.work for f in fills)
        if key not in need:
            why = _gone(key, hz, asset_by_id)
            for f in fills:
                lots[f.lot.task_id] = _lot(f, key, as_of, LotStatus.REMOVED, why=why)
            continue
        done_since = sum(f.done for f in fills) + excess.get(key, 0.0)
        target = max(0.0, need[key] - done_before[key] - done_since)
        if key in percent:
            target = max(0.0, need[key] * (1 - percent[key][1] / 100))
        lefts = [max(0.0, f.lot.work - f.done) for f in fills]
        tol = TOLERANCE * max(need[key], planned, 1.0)
        delta = target - sum(lefts)
        why_less = _why_less(key, need[key], planned, tol)
        removed: dict[int, str] = {}
        if delta < -tol:
            # Less to do than the lots hold: take it from the last lots, those not started first.
            cut = -delta
            order = [i for i in reversed(range(len(fills))) if fills[i].done <= 0] + \
                    [i for i in reversed(range(len(fills))) if fills[i].done > 0]
            for i in order:
                if cut <= 0:
                    break
                take = min(lefts[i], cut)
                lefts[i] -= take
                cut -= take
                if lefts[i] <= tol and fills[i].done <= 0:
                    removed[i] = why_less
        kept: list[tuple[int, float]] = []
        for i, f in enumerate(fills):
            if i in removed:
                lots[f.lot.task_id] = _lot(f, key, as_of, LotStatus.REMOVED, why=removed[i])
            elif lefts[i] <= TOLERANCE * max(f.lot.work, 1.0):
                lots[f.lot.task_id] = _lot(f, key, as_of, LotStatus.DONE)
            else:
                status = _status(f, as_of)
                lots[f.lot.task_id] = _lot(f, key, as_of, status, left=lefts[i])
                kept.append((lot_number(f.lot.task_id), lefts[i]))
        extra = delta if delta > tol else 0.0
        if extra:
            added[key] = (extra, _why_more(key))
        if key in groups or key in done_before or extra or done_since > 0:
            plans[key] = LotPlan(tuple(kept), extra, max_number[key] + 1)

    # The register to plan: open hazard areas and assets with work left (or not in the previous plan at all).
    def has_work(kind_keys: Sequence[WorkKey]) -> bool:
        return any(k not in plans or plans[k].lots or plans[k].extra for k in kind_keys)

    plan_hazards = [h for h in hazards if h.status is HazardStatus.OPEN
                    and has_work([k for k in ((kind, h.id, "") for kind in ("nts", "eod", "ts", "clearance"))
                                  if k in need])]
    plan_assets = [a for a in assets if has_work([("repair", a.id, t.value) for t in a.repair_work])]
    reached = _reached(previous, plan_start, lots, {h.id for h in plan_hazards}, {a.id for a in plan_assets})
    blocked = _blocked([r for r in progress if r.work_date < as_of], progress_from, hz, plan_hazards,
                       {a.id for a in plan_assets}, notes)
    return WorkLeft(as_of, progress_from, lots, plans, added, plan_hazards, plan_assets, history, reached, used, notes,
                    blocked)


#: A blocked report without an area id links the open hazard area its point lies in, or the nearest within this.
BLOCKING_NEAR_M = 200.0


def _blocked(reports: Sequence[ProgressReport], progress_from: dt.date | None, hazards: Mapping[str, HazardArea],
             open_hazards: Sequence[HazardArea], assets_left: set[str], notes: list[str]) -> dict[str, tuple[str, ...]]:
    """Asset id → the open hazard areas brigades reported its work blocked by (module docstring).

    Every report so far counts, not only those since the last plan: a block holds until the area is released (it is
    then no longer open) or a later report on the asset says its work is not blocked. Notes are written for the
    reports since ``progress_from`` only.
    """
    open_ids = {h.id for h in open_hazards}
    links: dict[str, set[str]] = defaultdict(set)
    quiet: list[str] = []
    for r in sorted(reports, key=lambda r: (r.work_date, r.submission_key)):
        if r.kind is not ProgressKind.BRIGADE or r.blocked_by_hazard is None or not r.asset_id:
            continue
        if r.asset_id not in assets_left:
            continue  # its work is done or gone: nothing waits
        if not r.blocked_by_hazard:
            links.pop(r.asset_id, None)
            continue
        who = {"brigade": r.brigade_id, "asset": r.asset_id, "day": r.work_date.isoformat()}
        say = notes if progress_from is None or r.work_date >= progress_from else quiet
        named = r.blocking_hazard_id
        if named and named in open_ids:
            links[r.asset_id].add(named)
            say.append(msg("brigade {brigade} reported asset {asset} blocked on {day} by hazard area {hazard}: its "
                           "remaining work now waits for that area's release", hazard=named, **who))
            continue
        if named:
            if named not in hazards:
                state = msg("not in the register")
            elif hazards[named].status is HazardStatus.OPEN:
                state = msg("open but has no work left to plan")
            elif hazards[named].status is HazardStatus.CLOSED:
                state = msg("closed")
            else:
                state = msg("handed_over")
            say.append(msg("brigade {brigade} reported asset {asset} blocked on {day} by hazard area {hazard}, which "
                           "is {state}: nothing linked; check it on the ground", hazard=named, state=state, **who))
            if r.geometry is None:
                continue
        if r.geometry is None:
            say.append(msg("brigade {brigade} reported asset {asset} blocked on {day} without naming the area or "
                           "giving its location: nothing linked", **who))
            continue
        found = _nearest_open(r.geometry, open_hazards)
        if found is None:
            lon, lat = r.geometry.centroid.x, r.geometry.centroid.y
            say.append(msg("brigade {brigade} reported asset {asset} blocked on {day} at {lat}, {lon}, more than "
                           "{near} m from any open hazard area: a hazard not in the register? Survey it "
                           "(non-technical survey) and add it", lat=f"{lat:.5f}", lon=f"{lon:.5f}",
                           near=f"{BLOCKING_NEAR_M:g}", **who))
            continue
        hid, distance = found
        links[r.asset_id].add(hid)
        if distance == 0:
            say.append(msg("brigade {brigade} reported asset {asset} blocked on {day} at a point inside hazard area "
                           "{hazard}: its remaining work now waits for that area's release", hazard=hid, **who))
        else:
            say.append(msg("brigade {brigade} reported asset {asset} blocked on {day} at a point {m} m from hazard "
                           "area {hazard}: its remaining work now waits for that area's release", hazard=hid,
                           m=f"{distance:.0f}", **who))
    return {a: tuple(sorted(ids)) for a, ids in sorted(links.items())}


def _nearest_open(point: BaseGeometry, open_hazards: Sequence[HazardArea]) -> tuple[str, float] | None:
    """The open hazard area containing ``point``, or the nearest within ``BLOCKING_NEAR_M`` (metres), and the
    distance; None if there is none."""
    # 0.05° is more than 200 m in any direction below 88° of latitude: a cheap filter before measuring in metres.
    near = [h for h in open_hazards if h.geometry.distance(point) <= 0.05]
    if not near:
        return None
    proj = LocalProjection.around(point)
    local = proj.to_local(point)
    best: tuple[float, str] | None = None
    for h in near:
        d = float(local.distance(proj.to_local(h.geometry)))
        if d <= BLOCKING_NEAR_M and (best is None or (d, h.id) < best):
            best = (d, h.id)
    return None if best is None else (best[1], best[0])


def _status(f: _Fill, as_of: dt.date) -> LotStatus:
    if f.done > 0:
        return LotStatus.EARLY if f.lot.start_date >= as_of else LotStatus.RUNNING
    return LotStatus.LATE if f.lot.start_date < as_of else LotStatus.PENDING


def _lot(f: _Fill, key: WorkKey, as_of: dt.date, status: LotStatus, *, left: float = 0.0, why: str = "") -> Lot:
    return Lot(f.lot, key, lot_number(f.lot.task_id), status, f.done, left, tuple(f.by), f.first, f.last, why)


def _gone(key: WorkKey, hazards: Mapping[str, HazardArea], assets: Mapping[str, Asset]) -> str:
    if key[0] == "repair":
        if key[1] not in assets:
            return msg("the asset is no longer in the register")
        return msg("the asset needs no {trade} work any more", trade=key[2])
    h = hazards.get(key[1])
    if h is None:
        return msg("the hazard area is no longer in the register")
    if h.status is not HazardStatus.OPEN:
        return msg("the hazard area is {status}", status=h.status.value)
    if key[0] == TaskKind.SURVEY:
        return msg("survey is now planned as non-technical and technical survey (NTS, TS)")
    if key[0] in (TaskKind.EOD, TaskKind.TS):
        return msg("the hazard area needs no {kind} any more", kind=key[0].upper())
    return msg("the hazard area needs no clearance any more")


def _why_less(key: WorkKey, need: float, planned: float, tol: float) -> str:
    if need < planned - tol:
        return msg("hazard area smaller than planned") if key[0] != "repair" else msg("less repair work than planned")
    return msg("more work done than planned")


def _why_more(key: WorkKey) -> str:
    """Why a piece of work needs more than its lots hold (for a hazard area, only a larger area can make it so)."""
    return msg("hazard area larger than planned") if key[0] != "repair" else msg("more repair work than planned")


def _reached(previous: PlanRun, plan_start: dt.date, lots: Mapping[str, Lot], open_hazards: set[str],
             open_assets: set[str]) -> list[PlannedTask]:
    """Milestones of the previous plan still to come whose hazard area or asset has no work left: reached on the last
    day of work on it."""
    last: dict[tuple[str, str], dt.date] = {}
    for lot in lots.values():
        if lot.status is LotStatus.DONE:
            t = lot.task
            who = ("hazard", t.hazard_id or "") if t.kind != "repair" else ("asset", t.asset_id or "")
            day = lot.last_report or t.end_date
            last[who] = max(last.get(who, day), day)
    out = []
    for t in previous.tasks:
        if t.end_date < plan_start:
            continue
        if t.kind is TaskKind.RELEASED and t.hazard_id not in open_hazards and ("hazard", t.hazard_id or "") in last:
            day = last["hazard", t.hazard_id or ""]
        elif t.kind is TaskKind.RESTORED and t.asset_id not in open_assets and ("asset", t.asset_id or "") in last:
            day = last["asset", t.asset_id or ""]
        else:
            continue
        out.append(replace(t, start_date=day, end_date=day))
    return out
