"""Priorities explained: every open hazard area and asset by score, each criterion's contribution, and why the plan
puts an area or asset where it is.

Scores come from ``sapper.prioritise`` with a programme's weight profile (a TOML file, docs/priorities.md). The plan
itself is made with the default profile: an explanation says what the planner used — the objective weight of the
area's release or the asset's restoration, and, for an area, the priority its survey and clearance lots carry in the
planner's own order (its own score plus the score of every asset whose work site it blocks) — read from the register
compiled as the latest plan compiled it, not recomputed by a second formula. The parts of a score add up to it
exactly (the same float additions in the same order), and so do the parts of an area's priority; both are tested over
every area and asset of the kursk-border register.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sapper.domain.assets import Asset
from sapper.domain.hazards import HazardArea, HazardStatus
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.jsontypes import JsonObject
from sapper.messages import msg
from sapper.prioritise import DEFAULT_PROFILE, Score, WeightProfile, profile_from_mapping, score_asset, score_hazard
from sapper.scenario.compile import CompiledPlan, CompileParams, TaskKind, compile_problem
from sapper.services.likelihood import likelihood_by_id
from sapper.store import Store
from sapper.store.records import PlannedTask


def load_profile(path: str | Path | None) -> WeightProfile:
    """The weight profile in the TOML file ``path`` (None: the default profile). NotFoundError when the file is
    missing; ValidationError naming the file for bad TOML or bad weights."""
    if path is None:
        return DEFAULT_PROFILE
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"no weight profile file {p}")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(msg("weight profile {name}", name=p), [Fault(str(p), msg("not a TOML file: {reason}",
                                                                        reason=exc))]) from None
    return profile_from_mapping(data, source=p.stem)


@dataclass(frozen=True, slots=True)
class Ranked:
    """One hazard area or asset with its score under a profile; ``label`` says what it is (class and land use, or
    asset type)."""

    record_id: str
    label: str
    score: Score


@dataclass(frozen=True)
class Priorities:
    """Open hazard areas and assets, highest score first (ties by id), under ``profile``; ``plan_profile``: the
    profile the latest plan was made with (None: no plan)."""

    profile: WeightProfile
    hazards: tuple[Ranked, ...]
    assets: tuple[Ranked, ...]
    plan_profile: WeightProfile | None = None


def _hazard_label(h: HazardArea) -> str:
    return f"{h.hazard_class.value} {h.land_use.value}"


def _ranked(items: Sequence[Ranked]) -> tuple[Ranked, ...]:
    return tuple(sorted(items, key=lambda r: (-r.score.value, r.record_id)))


def rank(hazards: Sequence[HazardArea], assets: Sequence[Asset], profile: WeightProfile,
         likelihood: Mapping[str, float] | None = None) -> Priorities:
    """Score every open hazard area and every asset with ``profile``; ``likelihood``: the contamination model's
    probability per area (None, or an area it does not name: the prior of its class)."""
    lk = likelihood or {}
    return Priorities(
        profile,
        _ranked([Ranked(h.id, _hazard_label(h), score_hazard(h, profile.hazard, likelihood=lk.get(h.id)))
                 for h in hazards if h.status is HazardStatus.OPEN]),
        _ranked([Ranked(a.id, a.asset_type.value, score_asset(a, profile.asset)) for a in assets]),
    )


def priorities(store: Store, profile: WeightProfile | None = None) -> Priorities:
    """The store's open hazard areas and assets by score under ``profile`` (None: the profile the latest plan was
    made with, else the default), with the contamination model's likelihood of each area."""
    planned = plan_profile(store)
    return dataclasses.replace(rank(store.hazards(), store.assets(), profile or planned or DEFAULT_PROFILE,
                                    likelihood_by_id(store)), plan_profile=planned)


# ------------------------------------------------------------------------------------------------------------------
# Explanations
# ------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unlocked:
    """An asset whose work site the area blocks: its score (under the plan's profile, as the planner used it) and its
    weight in the plan's objective."""

    asset_id: str
    asset_type: str
    score: float
    plan_weight: int


@dataclass(frozen=True, slots=True)
class Blocking:
    """A hazard area an asset's repair waits for, and when the latest plan releases it."""

    hazard_id: str
    released: dt.date | None


@dataclass(frozen=True, slots=True)
class PlannedWork:
    """One task of the latest plan on the record."""

    task_id: str
    kind: str
    mode: str
    unit_id: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class AreaExplanation:
    """Why an area is where the plan puts it.

    ``ranked``: its score under the asked profile. ``plan_score``: its score under the profile the latest plan was
    made with (the default without a plan). ``unlocked`` = the scores of ``unlocks`` added in order (from 0);
    ``priority`` = ``plan_score`` + ``unlocked``, exactly as the planner adds them: the priority its survey and
    clearance lots carry in the planner's order; ``priority_rank`` its place among the open areas (1 = first).
    ``plan_weight``: the weight of its release in the objective. ``work``, ``released``, ``week``: its lots in the
    latest plan, the release date and the ISO week its first lot starts (empty / None without a plan).
    """

    ranked: Ranked
    plan_score: float
    plan_weight: int
    unlocks: tuple[Unlocked, ...]
    unlocked: float
    priority: float
    priority_rank: int
    areas: int
    plan_id: int | None = None
    work: tuple[PlannedWork, ...] = ()
    released: dt.date | None = None
    week: str | None = None
    plan_profile: WeightProfile | None = None


@dataclass(frozen=True)
class AssetExplanation:
    """Why an asset is where the plan puts it: its score, its weight in the objective, the areas its repair waits
    for (with their release dates), its repair lots, restoration date and the ISO week its first lot starts."""

    ranked: Ranked
    plan_score: float
    plan_weight: int
    waits_for: tuple[Blocking, ...]
    plan_id: int | None = None
    work: tuple[PlannedWork, ...] = ()
    restored: dt.date | None = None
    week: str | None = None
    plan_profile: WeightProfile | None = None


def area_explanations(compiled: CompiledPlan, hazards: Sequence[HazardArea], assets: Sequence[Asset],
                      profile: WeightProfile = DEFAULT_PROFILE, planned: WeightProfile = DEFAULT_PROFILE,
                      likelihood: Mapping[str, float] | None = None) -> dict[str, AreaExplanation]:
    """Each open area of ``compiled`` (the register compiled by the planner with the ``planned`` profile and
    ``likelihood``) explained, without plan dates; ``ranked`` under ``profile``."""
    lk = likelihood or {}
    by_hazard = {h.id: h for h in hazards}
    by_asset = {a.id: a for a in assets}
    weight: dict[str, int] = {}
    priority: dict[str, float] = {}
    for task, info, prio in zip(compiled.problem.tasks, compiled.info, compiled.priority, strict=True):
        if info.kind is TaskKind.RELEASED and info.hazard_id:
            weight[info.hazard_id] = task.weight
            priority[info.hazard_id] = prio
        elif info.kind is TaskKind.RESTORED and info.asset_id:
            weight[info.asset_id] = task.weight
    unlocks: dict[str, list[Unlocked]] = {hid: [] for hid in weight if hid in by_hazard}
    for asset_id in sorted(compiled.blocking):  # the planner adds the scores in asset-id order
        a = by_asset[asset_id]
        for hid in compiled.blocking[asset_id]:
            unlocks[hid].append(Unlocked(a.id, a.asset_type.value, score_asset(a, planned.asset).value, weight[a.id]))
    order = sorted(unlocks, key=lambda hid: (-priority[hid], hid))
    out: dict[str, AreaExplanation] = {}
    for place, hid in enumerate(order, start=1):
        h = by_hazard[hid]
        own = score_hazard(h, planned.hazard, likelihood=lk.get(hid)).value
        parts = tuple(unlocks[hid])
        unlocked = sum(u.score for u in parts)
        ranked = Ranked(hid, _hazard_label(h), score_hazard(h, profile.hazard, likelihood=lk.get(hid)))
        out[hid] = AreaExplanation(ranked, own, weight[hid], parts, unlocked, own + unlocked, place, len(order))
    return out


def _work(tasks: Sequence[PlannedTask]) -> tuple[PlannedWork, ...]:
    return tuple(PlannedWork(t.task_id, str(t.kind), t.mode, t.unit_id or "", t.start_date, t.end_date)
                 for t in sorted(tasks, key=lambda t: (t.start_date, t.task_id))
                 if t.kind not in (TaskKind.RELEASED, TaskKind.RESTORED))


def _week(work: Sequence[PlannedWork]) -> str | None:
    if not work:
        return None
    year, week, _ = min(w.start for w in work).isocalendar()
    return f"{year}-W{week:02d}"


def _milestone(tasks: Sequence[PlannedTask], kind: TaskKind) -> dt.date | None:
    return next((t.end_date for t in tasks if t.kind is kind), None)


def plan_profile(store: Store) -> WeightProfile | None:
    """The weight profile the store's latest plan was made with (None: no plan yet)."""
    run = store.latest_plan()
    return run.params.profile if run is not None else None


def explain(store: Store, record_id: str, profile: WeightProfile | None = None
            ) -> AreaExplanation | AssetExplanation:
    """Why the latest plan puts the open hazard area or asset ``record_id`` where it is (NotFoundError when it is
    neither), its score under ``profile`` (None: the latest plan's profile, else the default). The register is
    compiled as the latest plan compiled it (default parameters without a plan)."""
    hazards, assets = store.hazards(), store.assets()
    open_ids = {h.id for h in hazards if h.status is HazardStatus.OPEN}
    asset = next((a for a in assets if a.id == record_id), None)
    if record_id not in open_ids and asset is None:
        if any(h.id == record_id for h in hazards):
            raise NotFoundError(msg("{id} is a closed hazard area (not planned): give the id of an open hazard area or "
                                    "of an asset", id=repr(record_id)))
        raise NotFoundError(msg("{id} is no record: give the id of an open hazard area or of an asset",
                                id=repr(record_id)))
    run = store.latest_plan()
    meta = store.meta()
    if run is not None and run.summary is not None:
        start = run.summary.start_date
    else:
        start = dt.date.fromisoformat(meta["start_date"]) if "start_date" in meta else dt.date.today()
    params = run.params.compile_params() if run is not None else CompileParams()
    planned = run.params.profile if run is not None else None
    profile = profile or planned or DEFAULT_PROFILE
    likelihood = likelihood_by_id(store)
    compiled = compile_problem(hazards, assets, store.teams(), store.brigades(), start_date=start, params=params,
                               likelihood=likelihood)
    plan_id = run.id if run is not None else None
    if asset is None:
        base = area_explanations(compiled, hazards, assets, profile, params.profile, likelihood)[record_id]
        tasks = store.latest_plan_tasks(hazard_id=record_id) if run is not None else []
        work = _work(tasks)
        return dataclasses.replace(base, plan_id=plan_id, work=work, released=_milestone(tasks, TaskKind.RELEASED),
                                   week=_week(work), plan_profile=planned)
    weight = next(t.weight for t, i in zip(compiled.problem.tasks, compiled.info, strict=True)
                  if i.kind is TaskKind.RESTORED and i.asset_id == record_id)
    released: dict[str, dt.date] = {}
    if run is not None:
        released = {t.hazard_id: t.end_date for t in run.tasks if t.kind is TaskKind.RELEASED and t.hazard_id}
    tasks = store.latest_plan_tasks(asset_id=record_id) if run is not None else []
    work = _work(tasks)
    return AssetExplanation(Ranked(asset.id, asset.asset_type.value, score_asset(asset, profile.asset)),
                            score_asset(asset, params.profile.asset).value, weight,
                            tuple(Blocking(hid, released.get(hid)) for hid in compiled.blocking.get(record_id, ())),
                            plan_id, work, _milestone(tasks, TaskKind.RESTORED), _week(work), planned)


# ------------------------------------------------------------------------------------------------------------------
# JSON (what ``sapper priorities --json`` prints)
# ------------------------------------------------------------------------------------------------------------------


def _ranked_json(r: Ranked) -> JsonObject:
    return {"id": r.record_id, "label": r.label, "score": r.score.value,
            "contributions": [{"criterion": c.criterion, "raw": str(c.raw), "normalised": c.normalised,
                               "weight": c.weight, "value": c.value} for c in r.score.contributions]}


def _profile_json(p: WeightProfile) -> JsonObject:
    return {"name": p.name, "hash": p.digest, "default": p.is_default, "hazard": dict(p.hazard),
            "asset": dict(p.asset)}


def priorities_document(p: Priorities, *, limit: int | None = None) -> JsonObject:
    """Scores with every contribution, full precision (the contributions, added in order, give the score exactly)."""
    return {"profile": _profile_json(p.profile),
            "plan_profile": _profile_json(p.plan_profile) if p.plan_profile is not None else None,
            "hazard_areas": [_ranked_json(r) for r in p.hazards[:limit]],
            "assets": [_ranked_json(r) for r in p.assets[:limit]]}


def _work_json(w: PlannedWork) -> JsonObject:
    return {"task_id": w.task_id, "kind": w.kind, "mode": w.mode, "unit_id": w.unit_id, "start": w.start.isoformat(),
            "end": w.end.isoformat()}


def explanation_document(e: AreaExplanation | AssetExplanation, profile: WeightProfile | None = None) -> JsonObject:
    """The explanation as JSON (``profile``: the one asked for; None: the plan's, else the default)."""
    common: JsonObject = {"profile": _profile_json(profile or e.plan_profile or DEFAULT_PROFILE),
                          "plan_profile": _profile_json(e.plan_profile) if e.plan_profile is not None else None,
                          **_ranked_json(e.ranked), "plan_score": e.plan_score,
                          "plan_weight": e.plan_weight, "plan_id": e.plan_id, "week": e.week,
                          "work": [_work_json(w) for w in e.work]}
    if isinstance(e, AreaExplanation):
        return {"kind": "hazard_area", **common,
                "unlocks": [{"asset_id": u.asset_id, "asset_type": u.asset_type, "score": u.score,
                             "plan_weight": u.plan_weight} for u in e.unlocks],
                "unlocked": e.unlocked, "priority": e.priority, "priority_rank": e.priority_rank, "areas": e.areas,
                "released": e.released.isoformat() if e.released else None}
    return {"kind": "asset", **common,
            "waits_for": [{"hazard_id": b.hazard_id, "released": b.released.isoformat() if b.released else None}
                          for b in e.waits_for],
            "restored": e.restored.isoformat() if e.restored else None}


__all__ = ["AreaExplanation", "AssetExplanation", "Priorities", "Ranked", "WeightProfile", "area_explanations",
           "explain", "explanation_document", "load_profile", "plan_profile", "priorities", "priorities_document",
           "rank"]
