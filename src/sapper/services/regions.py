"""Planning by regions (``sapper plan --decompose``): each task's region from the store's admin areas, the regions
solved on Dask (a ``LocalCluster`` by default, or the scheduler at ``--scheduler``), coordinated, merged and checked
as one whole problem (:mod:`sapper.plan.decompose`). A re-plan of a plan made by regions (``sapper replan``,
``services.replan``) solves by the same regions, each from its part of the repaired previous plan."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely

from sapper.domain.assets import Asset
from sapper.domain.hazards import HazardArea
from sapper.errors import Fault, SapperError, ValidationError
from sapper.messages import msg
from sapper.plan import MovePolicy, Result, Schedule
from sapper.plan.decompose import TRAVEL_DAYS, Decomposed, DecomposeParams, MapFn, decompose_solve
from sapper.scenario.compile import CompiledPlan
from sapper.store import Store
from sapper.store.records import ContextArea

#: A task that belongs to no admin area (or to no hazard or asset) is planned in this region.
NO_REGION = "(no region)"
#: Seconds kept back from the regions' solves for closing the LocalCluster after them (its worker processes end):
#: 2.2 s on national-synthetic (one instrumented run on a shared machine, 2026-12-07).
CLUSTER_CLOSE_S = 3.0


@dataclass(frozen=True)
class RegionSettings:
    """How ``sapper plan --decompose`` runs: Dask workers (LocalCluster) or a scheduler's address, coordination
    rounds, travel days between regions."""

    workers: int = 2
    scheduler: str | None = None
    rounds: int = 2
    travel_days: int = TRAVEL_DAYS

    def __post_init__(self) -> None:
        faults = []
        if self.workers < 1:
            faults.append(Fault(msg("regions"), msg("workers must be at least 1, got {workers}", workers=self.workers),
                                "workers"))
        if self.rounds < 0:
            faults.append(Fault(msg("regions"), msg("rounds cannot be negative, got {rounds}", rounds=self.rounds),
                                "rounds"))
        if self.travel_days < 0:
            faults.append(Fault(msg("regions"), msg("travel days cannot be negative, got {travel_days}",
                                                    travel_days=self.travel_days), "travel_days"))
        ValidationError.raise_if(msg("regional planning"), faults)


def has_regions(store: Store) -> bool:
    """Whether the store names the regions it is planned by (a ``national-synthetic`` build does)."""
    return bool(store.meta().get("regions"))


def region_areas(store: Store) -> list[ContextArea]:
    """The store's regions: the admin areas its ``regions`` metadata names (all admin areas when it names none)."""
    areas = store.context_areas("admin_areas")
    named = [n for n in store.meta().get("regions", "").splitlines() if n]
    return [a for a in areas if a.name in named] if named else areas


def task_regions(compiled: CompiledPlan, hazards: Sequence[HazardArea], assets: Sequence[Asset],
                 areas: Sequence[ContextArea]) -> list[str]:
    """Each task's region: the area holding its hazard area's or asset's representative point (the first, in order)."""
    where: dict[str, str] = {}
    records: list[tuple[str, Any]] = [(h.id, h.geometry) for h in hazards] + [(a.id, a.geometry) for a in assets]
    if records and areas:
        points = shapely.point_on_surface(np.array([g for _, g in records], dtype=object))
        found = np.full(len(records), -1)
        for k, area in reversed(list(enumerate(areas))):
            inside = shapely.contains(area.geometry, points)
            found[inside] = k
        for (rid, _), k in zip(records, found, strict=True):
            where[rid] = areas[int(k)].name if k >= 0 else NO_REGION
    return [where.get(info.hazard_id or "", where.get(info.asset_id or "", NO_REGION)) for info in compiled.info]


@contextmanager
def dask_map(settings: RegionSettings) -> Iterator[MapFn[Any, Any]]:
    """A map over Dask: the scheduler at ``settings.scheduler``, else a LocalCluster of single-threaded worker
    processes on the loopback."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise SapperError("planning by regions runs on Dask: pip install 'sapper[scale]'") from exc

    def runner(client: Any) -> MapFn[Any, Any]:
        def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
            futures = client.map(fn, list(items), pure=False)
            return list(client.gather(futures))
        return run

    if settings.scheduler:
        with Client(settings.scheduler) as client:  # type: ignore[no-untyped-call]
            yield runner(client)
        return
    with (LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                       dashboard_address=":0", silence_logs=logging.ERROR, host="127.0.0.1") as cluster,
          Client(cluster) as client):  # type: ignore[no-untyped-call]
        yield runner(client)


def solve_by_regions(store: Store, compiled: CompiledPlan, hazards: Sequence[HazardArea], assets: Sequence[Asset],
                     params: DecomposeParams, settings: RegionSettings, *,
                     say: Callable[[str], None] | None = None, map_fn: MapFn[Any, Any] | None = None,
                     start: Schedule | None = None, moves: MovePolicy = MovePolicy.PRICED) -> Decomposed:
    """Plan ``compiled`` by the store's regions (module docstring); ``map_fn``: run on it instead of Dask.
    ``params.time_limit_s`` includes finding the regions and starting and closing the Dask cluster (at least half of
    it is left to the regions' solves). ``start`` and ``moves``: a re-plan (``decompose_solve``)."""
    started = time.perf_counter()
    labels = task_regions(compiled, hazards, assets, region_areas(store))
    closing = CLUSTER_CLOSE_S if map_fn is None and not settings.scheduler else 0.0

    def left() -> DecomposeParams:
        spent = time.perf_counter() - started + closing
        return replace(params, time_limit_s=max(0.5 * params.time_limit_s, params.time_limit_s - spent))

    if map_fn is not None:
        return decompose_solve(compiled.problem, labels, params=left(), priority=compiled.priority, start=start,
                               moves=moves, map_fn=map_fn, say=say)
    with dask_map(settings) as run:
        return decompose_solve(compiled.problem, labels, params=left(), priority=compiled.priority, start=start,
                               moves=moves, map_fn=run, say=say)


def region_details(out: Decomposed) -> dict[str, object]:
    """What the summary's details say of a plan by regions."""
    details: dict[str, object] = dict(out.result.details)
    for r in out.regions:
        key = r.name.lower().replace(" ", "_")
        details[f"region_{key}_objective"] = r.objective
        details[f"region_{key}_uncoordinated"] = r.uncoordinated_objective
    return details


def with_region_details(out: Decomposed) -> Result:
    """The merged result with the regions' figures in its details."""
    return replace(out.result, details=region_details(out))
