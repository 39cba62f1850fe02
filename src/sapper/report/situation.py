"""The situation report of a store: its register and latest plan resolved into :class:`ReportData`, then HTML.

``situation_data(db)`` reads the store once (hazard areas, assets, settlements, context layers, the latest
plan) and returns plain data; ``write_situation_report(db, path)`` renders it with :mod:`sapper.report.html`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.errors import NotFoundError
from sapper.report.html import write_report
from sapper.report.model import GanttBar, MapAsset, MapHazard, ReportData, SummaryRow, Town
from sapper.scenario.compile import TaskKind
from sapper.store import open_store
from sapper.store.records import PlanRun

#: Task kinds that occupy a team or brigade, and how the Gantt chart names them.
_WORK_KINDS = {TaskKind.SURVEY: "survey", TaskKind.NTS: "survey", TaskKind.TS: "survey", TaskKind.EOD: "clearance",
               TaskKind.CLEARANCE: "clearance", TaskKind.REPAIR: "repair"}


def _lane_group(resource: str) -> str:
    """``deminers:manual`` → ``deminers · manual`` (the pool a team or brigade belongs to)."""
    head, _, tail = resource.partition(":")
    return f"{head} · {tail}" if tail else head


def _bars(run: PlanRun) -> tuple[GanttBar, ...]:
    bars: list[GanttBar] = []
    for t in run.tasks:
        kind = _WORK_KINDS.get(t.kind)
        if kind is None or not t.unit_id:
            continue
        label = f"{t.kind} {t.hazard_id or t.asset_id or t.task_id}"
        for unit in t.unit_id.split(","):
            bars.append(GanttBar(unit, _lane_group(t.resource), label, kind, t.start_date, t.end_date))
    return tuple(bars)


def _summary_rows(run: PlanRun | None, counts: dict[str, int], *, deminers: int,
                  builders: int) -> tuple[SummaryRow, ...]:
    rows = [
        SummaryRow("hazard areas", f"{counts.get('hazard_areas', 0):,}", "SHA and CHA polygons in the register"),
        SummaryRow("damaged assets", f"{counts.get('assets', 0):,}", "roads, bridges, power, water, buildings"),
        SummaryRow("deminer teams", f"{counts.get('teams', 0):,}", f"{deminers:,} deminers"),
        SummaryRow("builder brigades", f"{counts.get('brigades', 0):,}", f"{builders:,} builders"),
    ]
    if run is None:
        return tuple(rows)
    s = run.summary
    rows += [
        SummaryRow("planned tasks", f"{run.task_count:,}", f"solved by {s.engine if s else '?'} in "
                                                            f"{run.solve_seconds:g} s"),
        SummaryRow("plan finish", str(run.finish_date or "—"), "last task of the plan (working calendar)"),
    ]
    for p in s.progress if s else ():
        rows.append(SummaryRow(
            f"by {p.date.isoformat()}",
            f"{p.hazard_area_released_km2} km² released ({p.hazard_area_released_pct} %)",
            f"critical assets restored: {p.critical_assets_restored_pct} %",
        ))
    return tuple(rows)


def situation_data(db: str | Path, *, title: str | None = None) -> ReportData:
    """The register and the latest plan of the store at ``db``, ready to draw."""
    with open_store(db) as store:
        meta = store.meta()
        counts = store.counts()
        hazards = store.hazards()
        assets = store.assets()
        teams = store.teams()
        brigades = store.brigades()
        settlements = store.settlements()
        admin = store.context_areas("admin_areas")
        zone = store.context_areas("contested_zone")
        run = store.latest_plan()
    if not hazards and not assets:
        raise NotFoundError(f"{db} holds no hazard areas and no assets: nothing to report")
    released: dict[str, dt.date] = {}
    restored: dict[str, dt.date] = {}
    if run is not None:
        released = {t.hazard_id: t.end_date for t in run.tasks if t.kind is TaskKind.RELEASED and t.hazard_id}
        restored = {t.asset_id: t.end_date for t in run.tasks if t.kind is TaskKind.RESTORED and t.asset_id}
    outline = next((a.geometry for a in admin if a.name == "Kursk Oblast"), None)
    if outline is None and admin:
        outline = admin[0].geometry
    context: list[tuple[str, BaseGeometry]] = [(a.name, a.geometry) for a in admin if a.geometry is not outline]
    if "border_wkt" in meta:
        context.append(("border", shapely.from_wkt(meta["border_wkt"])))
    context += [(z.name, z.geometry) for z in zone]
    start = dt.date.fromisoformat(meta["start_date"]) if "start_date" in meta else (
        min((t.start_date for t in run.tasks), default=dt.date.today()) if run else dt.date.today())
    synthetic = meta.get("synthetic") == "true"
    seed = int(meta["seed"]) if meta.get("seed", "").isdigit() else None
    notes = tuple(n for n in meta.get("notes", "").splitlines() if n.strip())
    if run is None:
        notes = (*notes, "No plan has been made yet: run `sapper plan` to colour the map and draw the Gantt chart.")
    return ReportData(
        title=title or f"Situation report — {meta.get('scenario', Path(db).stem)}",
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        scenario=meta.get("scenario", Path(db).stem),
        seed=seed,
        start_date=start,
        synthetic=synthetic,
        notes=notes,
        attributions=tuple(a for a in meta.get("attributions", "").splitlines() if a.strip()),
        outline=outline,
        context=tuple(context),
        towns=tuple(Town(s.name, s.population, s.point, s.synthetic) for s in settlements),
        hazards=tuple(MapHazard(h.id, h.name or h.id, h.hazard_class.value, h.geometry, h.area_m2,
                                released.get(h.id)) for h in hazards),
        assets=tuple(MapAsset(a.id, a.name or a.id, a.asset_type.value, a.geometry, a.criticality,
                              restored.get(a.id)) for a in assets),
        bars=_bars(run) if run is not None else (),
        summary=_summary_rows(run, counts, deminers=sum(t.size for t in teams),
                              builders=sum(b.size for b in brigades)),
        plan_status=run.status if run is not None else "no plan",
        objective=run.objective if run is not None else None,
        baseline_objective=run.baseline_objective if run is not None else None,
        lower_bound=run.lower_bound if run is not None else None,
    )


def write_situation_report(db: str | Path, path: str | Path, *, title: str | None = None) -> Path:
    """Write the situation report of the store at ``db`` to ``path`` (one offline HTML file); returns the path."""
    return write_report(situation_data(db, title=title), path)
