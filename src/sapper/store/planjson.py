"""The JSON of a plan run: its parameters, its summary and its tasks, written and read here and nowhere else.

The store keeps ``plan_runs.params`` and ``plan_runs.summary`` as JSON text; ``sapper plan --json`` prints the summary
and ``--out`` writes the summary with the tasks (:func:`plan_document`), in the same shape. Dates are ISO text and
enums their value, so the text is what sapper wrote before these records were typed, and a plan saved then loads:
keys a saved plan does not have take the defaults it was made with (e.g. no ``demining_stand_down``: the winter
stand-down), keys it has that sapper no longer writes are ignored. A value of the wrong type is a StoreError naming
the plan run and the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sapper.domain.calendar import WINTER_STAND_DOWN, SeasonalWindow
from sapper.errors import SapperError, StoreError
from sapper.plan import Engine, MovePolicy, Status
from sapper.prioritise import DEFAULT_PROFILE, profile_from_mapping
from sapper.scenario.compile import PoolPolicy
from sapper.store.records import (
    Checkpoint,
    PlannedTask,
    PlanParams,
    PlanSummary,
    ReplanCounts,
    ReplanParams,
    ReplanSummary,
    RoleUtilisation,
    Scalar,
    ShiftStats,
    UnitUtilisation,
    Utilisation,
)

#: A JSON object as ``json.dumps`` takes it and ``json.loads`` gives it.
JsonObject = dict[str, object]

_REQUIRED = object()


# ----------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _window(w: SeasonalWindow | None) -> list[list[int]] | None:
    return None if w is None else [list(w.start), list(w.end)]


def params_to_json(p: PlanParams) -> JsonObject:
    """``p`` as the JSON object the store keeps in ``plan_runs.params``."""
    out: JsonObject = {
        "time_limit_s": p.time_limit_s, "workers": p.workers, "seed": p.seed, "engine": p.engine.value,
        "lot_max_days": p.lot_max_days, "weekdays": sorted(p.weekdays),
        "demining_stand_down": _window(p.demining_stand_down),
        "building_stand_down": _window(p.building_stand_down),
    }
    if p.holidays:  # plans made without holidays keep the keys they always had
        out["holidays"] = [d.isoformat() for d in sorted(p.holidays)]
    if p.pools is not PoolPolicy.FIXED:  # plans on fixed pools keep the keys they always had
        out.update(pools=p.pools.value, role_change_days=p.role_change_days)
    if not p.profile.is_default or p.profile.name != DEFAULT_PROFILE.name:
        out["profile"] = {"name": p.profile.name, "hash": p.profile.digest, "hazard": dict(p.profile.hazard),
                          "asset": dict(p.profile.asset)}
    if p.budget_demining is not None or p.budget_reconstruction is not None:  # plans without budgets keep their keys
        out.update(budget_demining=p.budget_demining, budget_reconstruction=p.budget_reconstruction,
                   budget_pricing=p.budget_pricing)
    if p.replan is not None:
        r = p.replan
        out.update(replan_of=r.replan_of, as_of=r.as_of.isoformat(), progress_through=r.progress_through.isoformat(),
                   stable=r.stable, moves=r.moves.value, move_cost=r.move_cost, move_cost_days=r.move_cost_days)
    return out


def checkpoint_to_json(c: Checkpoint) -> JsonObject:
    return {"date": c.date.isoformat(), "hazard_area_released_km2": c.hazard_area_released_km2,
            "hazard_area_released_pct": c.hazard_area_released_pct,
            "critical_assets_restored_pct": c.critical_assets_restored_pct,
            "assets_restored_pct": c.assets_restored_pct}


def replan_counts_to_json(c: ReplanCounts) -> JsonObject:
    """What changed in a re-plan, as the ``replan`` object of the summary (and the head of ``changes``)."""
    sh = c.shift_working_days
    return {
        "previous_plan_id": c.previous_plan_id, "previous_start_date": c.previous_start_date.isoformat(),
        "as_of": c.as_of.isoformat(), "progress_from": _day(c.progress_from), "progress_reports": c.progress_reports,
        "stable": c.stable, "move_cost": c.move_cost, "lots_compared": c.lots_compared, "finished": c.finished,
        "running": c.running, "started_early": c.started_early, "not_started_as_planned": c.not_started_as_planned,
        "removed": c.removed, "removed_by_reason": dict(c.removed_by_reason), "added": c.added,
        "added_by_reason": dict(c.added_by_reason), "moved": c.moved, "moved_earlier": c.moved_earlier,
        "moved_later": c.moved_later,
        "shift_working_days": None if sh is None else {"min": sh.min, "median": sh.median, "max": sh.max},
        "moved_by_reason": dict(c.moved_by_reason), "moved_by_cause": dict(c.moved_by_cause),
        "must_move": c.must_move, "anchored_moved": c.anchored_moved, "fewest_moves": c.fewest_moves,
        "fewest_moves_bound": c.fewest_moves_bound, "fewest_moves_proven": c.fewest_moves_proven,
        "pushed_forward": c.pushed_forward, "repair_moved": c.repair_moved, "team_changed": c.team_changed,
        "pinned_running": c.pinned_running, "running_not_continuing": dict(c.running_not_continuing),
    }


def utilisation_to_json(u: Utilisation) -> JsonObject:
    """How a plan uses its units, as the ``utilisation`` object of the summary (idle units named in ``idle``)."""
    return {
        "pools": u.pools, "idle_weeks": u.idle_weeks, "idle_days": u.idle_days,
        "idle": [x.unit_id for x in u.idle],
        "roles": [{"role": r.role, "kind": r.kind, "units": r.units, "borrowed_by": r.borrowed_by,
                   "working_days": r.working_days, "share_pct": r.share_pct} for r in u.roles],
        "units": [{"unit_id": x.unit_id, "pool": x.pool, "own_role": x.own_role, "available_days": x.available_days,
                   "busy_days": x.busy_days, "set_up_days": x.set_up_days, "role_changes": x.role_changes,
                   "days_by_role": dict(x.days_by_role),
                   "share_pct": None if x.share is None else round(100 * x.share, 1),
                   "longest_idle_days": x.longest_idle_days, "idle_from": _day(x.idle_from),
                   "idle_to": _day(x.idle_to)} for x in u.units],
    }


def summary_to_json(s: PlanSummary) -> JsonObject:
    """``s`` as the JSON object the store keeps in ``plan_runs.summary`` and ``sapper plan --json`` prints. The
    re-plan's figures are there only for a re-plan (the weighted completion and move cost only with a plan)."""
    out: JsonObject = {
        "status": s.status.value, "objective": s.objective, "lower_bound": s.lower_bound,
        "baseline_objective": s.baseline_objective, "gap_pct": s.gap_pct,
        "improvement_over_baseline_pct": s.improvement_over_baseline_pct, "engine": s.engine,
        "start_date": s.start_date.isoformat(), "finish_date": _day(s.finish_date), "task_count": s.task_count,
        "work_task_count": s.work_task_count, "solve_seconds": s.solve_seconds,
        "objective_meaning": s.objective_meaning, "hazard_areas": s.hazard_areas,
        "hazard_area_km2": s.hazard_area_km2, "assets": s.assets, "critical_assets": s.critical_assets,
        "progress": [checkpoint_to_json(c) for c in s.progress], "details": dict(s.details),
        "synthetic": s.synthetic,
    }
    if s.replan is not None:
        out["replan"] = replan_counts_to_json(s.replan.counts)
        if s.replan.weighted_completion is not None:
            out["weighted_completion"] = s.replan.weighted_completion
        if s.replan.move_cost_total is not None:
            out["move_cost_total"] = s.replan.move_cost_total
        out["baseline_meaning"] = s.replan.baseline_meaning
    if s.utilisation is not None:
        out["utilisation"] = utilisation_to_json(s.utilisation)
    return out


def task_to_json(t: PlannedTask) -> JsonObject:
    return {"task_id": t.task_id, "kind": t.kind.value, "hazard_id": t.hazard_id, "asset_id": t.asset_id,
            "mode": t.mode, "resource": t.resource, "unit_id": t.unit_id, "start_date": t.start_date.isoformat(),
            "end_date": t.end_date.isoformat(), "work": round(t.work, 1), "work_unit": t.work_unit}


def plan_document(summary: PlanSummary, tasks: Iterable[PlannedTask]) -> JsonObject:
    """The plan summary and every planned task: the document ``sapper plan --out`` writes."""
    doc = summary_to_json(summary)
    doc["tasks"] = [task_to_json(t) for t in tasks]
    return doc


# ----------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------


class _Fields:
    """Typed access to one JSON object read from the store; every wrong value is a StoreError naming it."""

    def __init__(self, data: object, record: str, what: str) -> None:
        if not isinstance(data, Mapping):
            raise StoreError(f"{record}: {what} is not a JSON object: {data!r}"[:300])
        self.data: Mapping[str, object] = data
        self.record = record
        self.what = what

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default: object) -> object:
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            raise StoreError(f"{self.record}: {self.what} has no {key!r}")
        return default

    def _bad(self, key: str, expected: str) -> StoreError:
        return StoreError(f"{self.record}: {self.what} {key!r} is not {expected}: {self.data.get(key)!r}"[:300])

    def opt_num(self, key: str, default: object = None) -> float | None:
        v = self._get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self._bad(key, "a number")
        return float(v) if isinstance(v, float) else v

    def num(self, key: str, default: object = _REQUIRED) -> float:
        v = self.opt_num(key, default)
        if v is None:
            raise self._bad(key, "a number")
        return v

    def opt_int(self, key: str, default: object = None) -> int | None:
        v = self._get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise self._bad(key, "a whole number")
        return v

    def whole(self, key: str, default: object = _REQUIRED) -> int:
        v = self.opt_int(key, default)
        if v is None:
            raise self._bad(key, "a whole number")
        return v

    def text(self, key: str, default: object = _REQUIRED) -> str:
        v = self._get(key, default)
        if not isinstance(v, str):
            raise self._bad(key, "text")
        return v

    def opt_flag(self, key: str, default: object = None) -> bool | None:
        v = self._get(key, default)
        if v is not None and not isinstance(v, bool):
            raise self._bad(key, "true or false")
        return v

    def flag(self, key: str, default: object = _REQUIRED) -> bool:
        v = self.opt_flag(key, default)
        if v is None:
            raise self._bad(key, "true or false")
        return v

    def opt_day(self, key: str, default: object = None) -> dt.date | None:
        v = self._get(key, default)
        if v is None:
            return None
        try:
            return dt.date.fromisoformat(str(v))
        except ValueError:
            raise self._bad(key, "a date YYYY-MM-DD") from None

    def day(self, key: str, default: object = _REQUIRED) -> dt.date:
        v = self.opt_day(key, default)
        if v is None:
            raise self._bad(key, "a date YYYY-MM-DD")
        return v

    def counts(self, key: str) -> dict[str, int]:
        v = self._get(key, {})
        if not isinstance(v, Mapping) or not all(isinstance(n, int) and not isinstance(n, bool) for n in v.values()):
            raise self._bad(key, "an object of counts")
        return {str(k): int(n) for k, n in v.items()}

    def window(self, key: str, default: SeasonalWindow | None) -> SeasonalWindow | None:
        if key not in self.data:
            return default
        v = self.data[key]
        if v is None:
            return None
        pairs = v if isinstance(v, list) and len(v) == 2 else []
        days = [p for p in pairs if isinstance(p, list) and len(p) == 2 and all(isinstance(x, int) for x in p)]
        try:
            if len(days) != 2:
                raise ValueError(v)
            return SeasonalWindow((days[0][0], days[0][1]), (days[1][0], days[1][1]))
        except (ValueError, SapperError):
            raise self._bad(key, "a window [[month, day], [month, day]]") from None

    def objects(self, key: str) -> list[_Fields]:
        v = self._get(key, [])
        if not isinstance(v, list):
            raise self._bad(key, "a list")
        return [_Fields(item, self.record, f"{self.what} {key}[{k}]") for k, item in enumerate(v)]

    def scalars(self, key: str) -> dict[str, Scalar]:
        v = self._get(key, {})
        if not isinstance(v, Mapping):
            raise self._bad(key, "an object")
        return {str(k): x for k, x in v.items() if x is None or isinstance(x, int | float | str | bool)}


def params_from_json(data: object, record: str) -> PlanParams:
    """The parameters a plan run was saved with (an empty object: the defaults)."""
    f = _Fields(data, record, "params")
    d = PlanParams()
    engine = f.text("engine", d.engine.value)
    if engine not in {e.value for e in Engine}:
        raise f._bad("engine", "an engine (" + ", ".join(e.value for e in Engine) + ")")
    weekdays = f.data.get("weekdays", sorted(d.weekdays))
    if not isinstance(weekdays, list) or not all(isinstance(w, int) and 0 <= w <= 6 for w in weekdays):
        raise f._bad("weekdays", "a list of weekdays 0-6")
    replan = None
    if f.has("replan_of") or f.has("as_of"):
        as_of = f.day("as_of")
        moves = f.text("moves", MovePolicy.PRICED.value)  # a re-plan saved before moves were ranked first
        if moves not in {m.value for m in MovePolicy}:
            raise f._bad("moves", "a move policy (" + ", ".join(m.value for m in MovePolicy) + ")")
        replan = ReplanParams(replan_of=f.opt_int("replan_of"), as_of=as_of,
                              progress_through=f.day("progress_through", as_of.isoformat()),
                              stable=f.flag("stable", True), moves=MovePolicy(moves), move_cost=f.whole("move_cost", 0),
                              move_cost_days=f.num("move_cost_days", 0.0))
    profile = DEFAULT_PROFILE
    if f.has("profile"):
        raw = f.data.get("profile")
        try:
            if not isinstance(raw, Mapping):
                raise TypeError("not an object")
            profile = profile_from_mapping({k: v for k, v in raw.items() if k != "hash"}, source="profile")
        except (SapperError, TypeError) as exc:
            raise f._bad("profile", f"a weight profile ({exc})") from None
    return PlanParams(profile=profile,
                      time_limit_s=f.num("time_limit_s", d.time_limit_s), workers=f.whole("workers", d.workers),
                      seed=f.whole("seed", d.seed), engine=Engine(engine),
                      lot_max_days=f.whole("lot_max_days", d.lot_max_days), weekdays=frozenset(weekdays),
                      demining_stand_down=f.window("demining_stand_down", WINTER_STAND_DOWN),
                      building_stand_down=f.window("building_stand_down", None), replan=replan,
                      holidays=_holidays(f), pools=_pools(f), role_change_days=f.whole("role_change_days",
                                                                                      d.role_change_days),
                      budget_demining=_budget(f, "budget_demining"),
                      budget_reconstruction=_budget(f, "budget_reconstruction"),
                      budget_pricing=f.text("budget_pricing") if f.data.get("budget_pricing") is not None else None)


def _budget(f: _Fields, key: str) -> float | None:
    """A yearly budget of a plan's parameters (None: not capped, as in plans made before budgets were saved)."""
    if f.data.get(key) is None:
        return None
    value = f.num(key, 0.0)
    if not value > 0:
        raise f._bad(key, "a positive amount")
    return value


def _pools(f: _Fields) -> PoolPolicy:
    """The ``pools`` of a plan's parameters (fixed in plans made before capabilities)."""
    v = f.text("pools", PoolPolicy.FIXED.value)
    if v not in {p.value for p in PoolPolicy}:
        raise f._bad("pools", "a pool policy (" + ", ".join(p.value for p in PoolPolicy) + ")")
    return PoolPolicy(v)


def _utilisation(f: _Fields) -> Utilisation:
    units = []
    for x in f.objects("units"):
        days = x.counts("days_by_role")
        units.append(UnitUtilisation(
            unit_id=x.text("unit_id"), pool=x.text("pool", ""), own_role=x.text("own_role", ""),
            available_days=x.whole("available_days", 0), busy_days=x.whole("busy_days", 0),
            set_up_days=x.whole("set_up_days", 0), role_changes=x.whole("role_changes", 0), days_by_role=days,
            longest_idle_days=x.whole("longest_idle_days", 0), idle_from=x.opt_day("idle_from"),
            idle_to=x.opt_day("idle_to")))
    roles = [RoleUtilisation(role=r.text("role"), kind=r.text("kind", ""), units=r.whole("units", 0),
                             borrowed_by=r.whole("borrowed_by", 0), working_days=r.whole("working_days", 0),
                             share_pct=r.opt_num("share_pct")) for r in f.objects("roles")]
    return Utilisation(pools=f.text("pools", PoolPolicy.FIXED.value), idle_weeks=f.whole("idle_weeks", 0),
                       idle_days=f.whole("idle_days", 0), units=tuple(units), roles=tuple(roles))


def _holidays(f: _Fields) -> frozenset[dt.date]:
    """The ``holidays`` of a plan's parameters (none in plans made before the programme had a calendar)."""
    v = f.data.get("holidays", [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise f._bad("holidays", "a list of dates YYYY-MM-DD")
    try:
        return frozenset(dt.date.fromisoformat(x) for x in v)
    except ValueError:
        raise f._bad("holidays", "a list of dates YYYY-MM-DD") from None


def _checkpoint(f: _Fields) -> Checkpoint:
    return Checkpoint(date=f.day("date"), hazard_area_released_km2=f.num("hazard_area_released_km2", 0.0),
                      hazard_area_released_pct=f.opt_num("hazard_area_released_pct"),
                      critical_assets_restored_pct=f.opt_num("critical_assets_restored_pct"),
                      assets_restored_pct=f.opt_num("assets_restored_pct"))


def _replan_counts(f: _Fields) -> ReplanCounts:
    sh = f.data.get("shift_working_days")
    shift = None
    if sh is not None:
        s = _Fields(sh, f.record, "summary replan shift_working_days")
        shift = ShiftStats(s.whole("min"), s.num("median"), s.whole("max"))
    return ReplanCounts(
        previous_plan_id=f.opt_int("previous_plan_id"), previous_start_date=f.day("previous_start_date"),
        as_of=f.day("as_of"), progress_from=f.opt_day("progress_from"), progress_reports=f.whole("progress_reports", 0),
        stable=f.flag("stable", True), move_cost=f.whole("move_cost", 0), lots_compared=f.whole("lots_compared", 0),
        finished=f.whole("finished", 0), running=f.whole("running", 0), started_early=f.whole("started_early", 0),
        not_started_as_planned=f.whole("not_started_as_planned", 0), removed=f.whole("removed", 0),
        removed_by_reason=f.counts("removed_by_reason"), added=f.whole("added", 0),
        added_by_reason=f.counts("added_by_reason"), moved=f.whole("moved", 0),
        moved_earlier=f.whole("moved_earlier", 0), moved_later=f.whole("moved_later", 0), shift_working_days=shift,
        moved_by_reason=f.counts("moved_by_reason"), moved_by_cause=f.counts("moved_by_cause"),
        must_move=f.whole("must_move", 0), anchored_moved=f.opt_int("anchored_moved"),
        fewest_moves=f.opt_int("fewest_moves"), fewest_moves_bound=f.opt_int("fewest_moves_bound"),
        fewest_moves_proven=f.opt_flag("fewest_moves_proven"), pushed_forward=f.whole("pushed_forward", 0),
        repair_moved=f.whole("repair_moved", 0), team_changed=f.whole("team_changed", 0),
        pinned_running=f.whole("pinned_running", 0), running_not_continuing=f.counts("running_not_continuing"))


def summary_from_json(data: object, record: str) -> PlanSummary | None:
    """The summary a plan run was saved with; None for a run saved without one (an empty object)."""
    f = _Fields(data, record, "summary")
    if not f.data:
        return None
    status = f.text("status")
    if status not in {s.value for s in Status}:
        raise f._bad("status", "a plan status (" + ", ".join(s.value for s in Status) + ")")
    replan = None
    if f.has("replan"):
        move_total = f.opt_num("move_cost_total")
        replan = ReplanSummary(counts=_replan_counts(_Fields(f.data["replan"], record, "summary replan")),
                               weighted_completion=f.opt_num("weighted_completion"),
                               move_cost_total=None if move_total is None else round(move_total),
                               baseline_meaning=f.text("baseline_meaning", ""))
    return PlanSummary(
        status=Status(status), objective=f.opt_num("objective"), lower_bound=f.opt_num("lower_bound"),
        baseline_objective=f.opt_num("baseline_objective"), gap_pct=f.opt_num("gap_pct"),
        improvement_over_baseline_pct=f.opt_num("improvement_over_baseline_pct"), engine=f.text("engine", ""),
        start_date=f.day("start_date"), finish_date=f.opt_day("finish_date"), task_count=f.whole("task_count", 0),
        work_task_count=f.whole("work_task_count", 0), solve_seconds=f.num("solve_seconds", 0.0),
        objective_meaning=f.text("objective_meaning", ""), hazard_areas=f.whole("hazard_areas", 0),
        hazard_area_km2=f.num("hazard_area_km2", 0.0), assets=f.whole("assets", 0),
        critical_assets=f.whole("critical_assets", 0), progress=tuple(_checkpoint(c) for c in f.objects("progress")),
        details=f.scalars("details"), synthetic=f.flag("synthetic", False), replan=replan,
        utilisation=_utilisation(_Fields(f.data["utilisation"], record, "summary utilisation"))
        if f.has("utilisation") else None)


__all__ = [
    "JsonObject",
    "checkpoint_to_json",
    "params_from_json",
    "params_to_json",
    "plan_document",
    "replan_counts_to_json",
    "summary_from_json",
    "summary_to_json",
    "task_to_json",
    "utilisation_to_json",
]
