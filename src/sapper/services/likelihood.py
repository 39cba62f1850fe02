"""Where contamination is likely, from the register: the typed inputs of ``sapper.likelihood`` read from a store,
the labels from its history, and the result as the CLI's JSON.

An area's outcome is known when devices were found in it (any activity's devices: True) or when it was processed
with none found (closed, handed over, or every square metre cancelled, reduced or cleared by its completed
activities: False). Its recorded class is the class its land-release history started with (the ``recorded`` event),
not the class a find may since have made it. The same store and seed give the same probabilities, so the planner,
``sapper priorities`` and the forecast, each calling :func:`area_likelihoods`, agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely import wkt
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, release_balance
from sapper.domain.assets import AssetType
from sapper.domain.hazards import PRIOR_CONTAMINATION, HazardArea, HazardClass, HazardStatus
from sapper.domain.landrelease import EventKind, ReleaseState
from sapper.errors import NotFoundError, SapperError
from sapper.jsontypes import JsonObject
from sapper.likelihood import Context, Find, HazardInput, Likelihoods, ModelParams, feature_table, likelihoods
from sapper.likelihood.model import AreaLikelihood, Source, too_few
from sapper.store import Store


def recorded_classes(store: Store, hazards: Sequence[HazardArea]) -> dict[str, HazardClass]:
    """Each area's class when its history started (its class now when it has no history)."""
    out = {h.id: h.hazard_class for h in hazards}
    for hid in sorted(store.hazards_with_history([h.id for h in hazards])):
        first = next((e for e in store.release_events(hid) if e.kind is EventKind.RECORDED), None)
        if first is not None:
            out[hid] = HazardClass.CHA if first.to_state is ReleaseState.CONFIRMED else HazardClass.SHA
    return out


def _processed(h: HazardArea, acts: list[Activity]) -> bool:
    if h.status is not HazardStatus.OPEN:
        return True
    done = [a for a in acts if a.status is ActivityStatus.COMPLETED]
    if not done:
        return False
    try:
        balance = release_balance(h, done)
    except SapperError:  # a record that does not balance says nothing sure about the area
        return False
    return balance.remaining_m2 <= balance.tolerance_m2


def outcomes(hazards: Sequence[HazardArea], activities: Sequence[Activity]) -> tuple[dict[str, bool], tuple[Find, ...]]:
    """The recorded outcome of each area that has one, and every device found (for "finds nearby")."""
    by_hazard: dict[str, list[Activity]] = defaultdict(list)
    for a in activities:
        by_hazard[a.hazard_id].append(a)
    finds = tuple(Find(a.hazard_id, d.position, d.quantity) for a in activities for d in a.devices)
    found = {f.hazard_id for f in finds}
    known: dict[str, bool] = {}
    for h in hazards:
        if h.id in found:
            known[h.id] = True
        elif _processed(h, by_hazard.get(h.id, [])):
            known[h.id] = False
    return known, finds


def _zone(store: Store) -> BaseGeometry | None:
    areas = store.context_areas("contested_zone")
    return shapely.union_all([a.geometry for a in areas]) if areas else None


def _border(store: Store) -> BaseGeometry | None:
    text = store.meta().get("border_wkt", "")
    try:
        return wkt.loads(text) if text else None
    except shapely.errors.GEOSException:
        return None


def area_likelihoods(store: Store, params: ModelParams | None = None) -> Likelihoods:
    """Every area's chance of holding devices: the model fitted on the register's recorded outcomes, or the class
    prior when they are too few (``Likelihoods.reason`` says why). NotFoundError when the register holds no area."""
    params = params or ModelParams()
    hazards = store.hazards()
    if not hazards:
        raise NotFoundError(f"{store.url} holds no hazard areas: import a register or build a scenario first")
    activities = store.activities()
    known, finds = outcomes(hazards, activities)
    classes = recorded_classes(store, hazards)
    reason = too_few(list(known.values()), params)
    if reason:
        areas = tuple(AreaLikelihood(h.id, PRIOR_CONTAMINATION[classes[h.id]], Source.PRIOR, known.get(h.id))
                      for h in hazards)
        return Likelihoods(areas, len(known), sum(known.values()), params, reason)
    inputs = [HazardInput(h.id, h.geometry, h.land_use, classes[h.id], h.device_categories) for h in hazards]
    context = Context(zone=_zone(store), border=_border(store),
                      roads=tuple(a.geometry for a in store.assets() if a.asset_type is AssetType.ROAD),
                      settlements=tuple(s.point for s in store.settlements()), finds=finds, known=known)
    return likelihoods(feature_table(inputs, context), classes, known, params)


@dataclass(frozen=True)
class LikelihoodView:
    """What ``sapper likelihood`` shows: the result, the open areas, the prior by class and the seed."""

    result: Likelihoods
    open_ids: frozenset[str]
    prior: dict[str, float]
    seed: int

    def ranked(self, top: int | None = None) -> list[AreaLikelihood]:
        """The open areas by probability, the first ``top``."""
        return ranked(self.result, open_ids=set(self.open_ids), top=top)


def likelihood_view(store: Store, *, seed: int = 0) -> LikelihoodView:
    """:func:`area_likelihoods` with ``seed``, for the open areas."""
    result = area_likelihoods(store, ModelParams(seed=seed))
    open_ids = frozenset(h.id for h in store.hazards() if h.status is HazardStatus.OPEN)
    return LikelihoodView(result, open_ids, {c.value: p for c, p in PRIOR_CONTAMINATION.items()}, seed)


def ranked(result: Likelihoods, *, open_ids: set[str] | None = None, top: int | None = None
           ) -> list[AreaLikelihood]:
    """The areas by probability (highest first, ties by id), the open ones only when ``open_ids`` is given, the
    first ``top``."""
    return sorted((a for a in result.areas if open_ids is None or a.hazard_id in open_ids),
                  key=lambda a: (-a.probability, a.hazard_id))[:top]


def likelihood_by_id(store: Store) -> dict[str, float] | None:
    """The model's probability of each area, for scoring (the planner, ``sapper priorities``, the forecast); None
    when the register has too few recorded outcomes to fit it (or no area): every area then scores with its class
    prior."""
    if not store.counts().get("hazard_areas"):  # counted, not read: a national register's read takes seconds
        return None
    result = area_likelihoods(store)
    return result.by_id() if result.fitted else None


def likelihood_document(result: Likelihoods, *, open_ids: set[str] | None = None, top: int | None = None
                        ) -> JsonObject:
    """The result as JSON: the model's state and the areas of :func:`ranked`."""
    areas = ranked(result, open_ids=open_ids, top=top)
    return {
        "fitted": result.fitted,
        "source": (Source.MODEL if result.fitted else Source.PRIOR).value,
        "reason": result.reason or None,
        "labelled": result.labelled,
        "with_devices": result.positives,
        "seed": result.params.seed,
        "prior": {c.value: p for c, p in PRIOR_CONTAMINATION.items()},
        "areas": [{"id": a.hazard_id, "probability": a.probability, "source": a.source.value,
                   "outcome": a.outcome} for a in areas],
    }


__all__ = ["LikelihoodView", "area_likelihoods", "likelihood_by_id", "likelihood_document",
           "likelihood_view", "outcomes", "ranked",
           "recorded_classes"]
