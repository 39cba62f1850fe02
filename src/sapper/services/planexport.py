"""A saved plan as a table for other tools (``sapper export plan``): one row per lot, with its site's geometry.

GIS users open the GeoPackage in QGIS and colour the lots by team or month; programme officers sort the spreadsheet
by team; other schedulers read the CSV. Each row is one lot of work (NTS, TS, EOD spot task, clearance, repair) with
its unit, the method, dates and amount of work, its cost at the programme's prices (``services.costs``), and the
two dates a lot leads to: the planned **release** of its
hazard area (the area's ``released`` milestone: its last clearance lot plus the inspection lag) and the planned
**restoration** of its asset (the asset's ``restored`` milestone: its last repair lot, which itself waits for the
release of every hazard area its work site crosses). docs/planning.md explains the two views.

The site geometry is the hazard area's polygon (exact by default: the file is then as sensitive as the register; with
``generalise`` the 100 m footprint viewers see, ``domain.sensitive``) or the asset's point or line. A lot whose
area or asset is no longer in the register is kept, without geometry, and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from sapper.domain.pricing import PricingProfile
from sapper.domain.sensitive import generalised_footprint
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.io.sheets import Format, Kind, Table, write_table
from sapper.messages import msg
from sapper.scenario.compile import WORK_KINDS, TaskKind
from sapper.services.costs import mean_productivity, price_run
from sapper.services.pricing import load_pricing
from sapper.store import Store
from sapper.store.engine import probe
from sapper.store.records import PlanRun

#: The columns of the exported table, in order (name → kind).
COLUMNS: dict[str, Kind] = {
    "plan_run": "int", "task_id": "text", "task_kind": "text", "status": "text", "hazard_id": "text",
    "asset_id": "text", "site_name": "text", "method": "text", "pool": "text", "unit_id": "text",
    "organisation_id": "text", "start_date": "date", "end_date": "date", "work": "float", "work_unit": "text",
    "area_release_date": "date", "asset_restoration_date": "date", "cost": "float", "direct_cost": "float",
    "currency": "text", "synthetic": "bool",
}


@dataclass(frozen=True, slots=True)
class PlanExport:
    """What ``export_plan`` wrote: the file, its format, the plan run, the rows, and rows without a site geometry."""

    path: Path
    format: Format
    plan_id: int
    rows: int
    without_geometry: int
    generalised: bool


def plan_table(run: PlanRun, store: Store, *, generalise: bool = False,
               pricing: PricingProfile | None = None) -> tuple[Table, int]:
    """The lots of ``run`` as a table (see the module docstring), and how many rows have no site geometry. Each lot's
    ``cost`` (overheads included) and ``direct_cost`` are priced by ``pricing`` (default: sapper's profile) as
    ``sapper costs`` prices them, in ``currency``."""
    hazards = {h.id: h for h in store.hazards()}
    assets = {a.id: a for a in store.assets()}
    teams = store.teams()
    orgs = {t.id: t.organisation_id for t in teams} | {b.id: b.organisation_id for b in store.brigades()}
    prices = pricing or load_pricing()
    costs = {c.task_id: c for c in price_run(run, prices, hazards=hazards, assets=assets, organisations=orgs,
                                             admin_areas=[], productivity=mean_productivity(teams)).tasks}
    synthetic = store.meta().get("synthetic") == "true"
    start = run.summary.start_date if run.summary is not None else None
    released = {t.hazard_id: t.end_date for t in run.tasks if t.kind is TaskKind.RELEASED}
    restored = {t.asset_id: t.end_date for t in run.tasks if t.kind is TaskKind.RESTORED}
    rows: list[dict[str, object]] = []
    geometries: list[BaseGeometry | None] = []
    missing = 0
    lots = sorted((t for t in run.tasks if t.kind in WORK_KINDS), key=lambda t: (t.start_date, t.task_id))
    for t in lots:
        geom: BaseGeometry | None = None
        name = ""
        if t.hazard_id is not None and t.hazard_id in hazards:
            h = hazards[t.hazard_id]
            geom, name = (generalised_footprint(h.geometry) if generalise else h.geometry), h.name
        elif t.asset_id is not None and t.asset_id in assets:
            a = assets[t.asset_id]
            geom, name = a.geometry, a.name
        if geom is None:
            missing += 1
        units = [u for u in (t.unit_id or "").split(",") if u]
        rows.append({
            "plan_run": run.id, "task_id": t.task_id, "task_kind": t.kind.value,
            "status": "done" if start is not None and t.end_date < start else "planned",
            "hazard_id": t.hazard_id, "asset_id": t.asset_id, "site_name": name, "method": t.mode,
            "pool": t.resource, "unit_id": t.unit_id or None,
            "organisation_id": ",".join(sorted({orgs[u] for u in units if u in orgs})) or None,
            "start_date": t.start_date, "end_date": t.end_date, "work": round(t.work, 1), "work_unit": t.work_unit,
            "area_release_date": released.get(t.hazard_id) if t.hazard_id else None,
            "asset_restoration_date": restored.get(t.asset_id) if t.asset_id else None,
            "cost": round(costs[t.task_id].total, 2) if t.task_id in costs else None,
            "direct_cost": round(costs[t.task_id].direct, 2) if t.task_id in costs else None,
            "currency": prices.currency,
            "synthetic": synthetic,
        })
        geometries.append(geom)
    return Table("plan_lots", "task_id", COLUMNS, rows, geometries, "Unknown"), missing


def export_plan(store: Store, path: str | Path, *, plan_id: int | None = None,
                generalise: bool = False, pricing: PricingProfile | None = None) -> PlanExport:
    """Write the lots of the latest plan (or plan run ``plan_id``) to ``path`` (``.gpkg``, ``.csv`` or ``.xlsx``,
    replaced whole)."""
    target = Path(path)
    if store.path is not None and target.resolve() == store.path.resolve():
        raise ValidationError(msg("export"), [Fault(msg("export"),
                                                    msg("the export file is the store itself; choose another path"),
                                               "path")])
    if target.suffix.lower() == ".gpkg" and target.is_file() and probe(target).kind == "sapper":
        raise ValidationError(msg("export"), [Fault(msg("export"),
                                                    msg("{target} is a sapper store; export to a new file",
                                                        target=target),
                                               "path")])
    run = store.plan(plan_id) if plan_id is not None else store.latest_plan()
    if run is None or run.id is None:
        raise NotFoundError("the store holds no plan to export: run sapper plan first")
    table, missing = plan_table(run, store, generalise=generalise, pricing=pricing)
    fmt = write_table(target, table)
    return PlanExport(target, fmt, run.id, len(table.rows), missing, generalise)
