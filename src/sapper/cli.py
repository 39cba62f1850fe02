"""The ``sapper`` command line. Commands call services; user mistakes give one line on stderr and an exit code.

Exit codes: 0 success; 1 unexpected error; 2 invalid input (file, geometry, CRS, parameters; or rejected features
under ``--strict``); 3 not found; 4 store problem; 5 planning problem. See docs/cli.md.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from sapper.errors import SapperError

if TYPE_CHECKING:
    from sapper.store.records import PlanSummary

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0] if __doc__ else None)
import_app = typer.Typer(no_args_is_help=True, help="Import hazard areas, assets or the workforce from files.")
export_app = typer.Typer(no_args_is_help=True, help="Export hazard areas or assets to GeoPackage, GeoJSON or CSV.")
scenario_app = typer.Typer(no_args_is_help=True, help="Reference scenarios.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(scenario_app, name="scenario")
forms_app = typer.Typer(no_args_is_help=True, help="XLSForm templates for field data collection (ODK, Kobo).")
app.add_typer(forms_app, name="forms")

out = Console(soft_wrap=True)  # piped output stays one record a line
err = Console(stderr=True, soft_wrap=True)

Db = Annotated[Path, typer.Option("--db", help="The store: a SQLite file that is also a GeoPackage.")]
Crs = Annotated[
    str | None, typer.Option(help="CRS of a file that carries none (CSV, or a layer without one), e.g. EPSG:4326.")
]


@app.command()
def init(db: Db) -> None:
    """Create an empty store."""
    from sapper.errors import StoreError
    from sapper.store import open_store

    if db.exists():
        raise StoreError(f"{db} already exists; sapper init does not overwrite a file")
    with open_store(db, create=True) as store:
        out.print(f"created {store.path}")


@app.command()
def info(db: Db, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """What the store holds: counts per layer and the scenario's metadata."""
    from sapper.store import open_store

    with open_store(db) as store:
        doc: dict[str, Any] = {"counts": store.counts(), "meta": store.meta()}
    if as_json:
        print(json.dumps(doc, indent=1, ensure_ascii=False))
        return
    for k, v in doc["counts"].items():
        out.print(f"{k:>28}: {v}")
    for k, v in doc["meta"].items():
        text = str(v) if len(str(v)) <= 200 else f"{str(v)[:80]} … ({len(str(v)):,} characters; see --json)"
        out.print(f"{k:>28}: {text}", markup=False, highlight=False)


VectorFileArg = Annotated[Path, typer.Argument(help="GeoPackage, GeoJSON, CSV or zipped Shapefile (.zip).")]
LayerOpt = Annotated[str | None, typer.Option(help="Layer name in a multi-layer file.")]
StrictOpt = Annotated[bool, typer.Option(help="Exit 2 if any feature was rejected or is in conflict with the store.")]
SkipExistingOpt = Annotated[
    bool,
    typer.Option(help="Skip features already in the store with identical content (a re-run after an "
                      "interruption); report those stored with different content as conflicts."),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option(help="Write every repaired, rejected, skipped or conflicting feature to this .csv or .json file."),
]


@import_app.command("hazards")
def import_hazards(
    file: VectorFileArg,
    db: Db,
    layer: LayerOpt = None,
    crs: Crs = None,
    strict: StrictOpt = False,
    skip_existing: SkipExistingOpt = False,
    report: ReportOpt = None,
) -> None:
    """Import hazard areas; repairs invalid polygons and reports every repaired or rejected feature."""
    _import("hazards", file, db, layer, crs, strict, skip_existing, report)


@import_app.command("assets")
def import_assets(
    file: VectorFileArg,
    db: Db,
    layer: LayerOpt = None,
    crs: Crs = None,
    strict: StrictOpt = False,
    skip_existing: SkipExistingOpt = False,
    report: ReportOpt = None,
) -> None:
    """Import damaged assets; reports every repaired or rejected feature."""
    _import("assets", file, db, layer, crs, strict, skip_existing, report)


@import_app.command("workforce")
def import_workforce(
    file: Annotated[Path, typer.Argument(help="CSV file (or GeoPackage table): one team or brigade a row.")],
    db: Db,
    layer: Annotated[str | None, typer.Option(help="Table name in a GeoPackage.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 2 if any row was rejected.")] = False,
) -> None:
    """Import deminer teams and builder brigades: one row each (see docs/cli.md for the columns)."""
    from sapper.services.imports import import_workforce as run

    summary = run(db, file, layer=layer)
    for line in summary.lines():
        out.print(line, markup=False, highlight=False)
    if strict and summary.rejected:
        raise typer.Exit(2)


def _import(
    kind: str, file: Path, db: Path, layer: str | None, crs: str | None, strict: bool, skip_existing: bool,
    report: Path | None,
) -> None:
    from sapper.services.imports import import_file

    summary = import_file(
        db, file, kind, layer=layer, crs=crs, skip_existing=skip_existing, report=report  # type: ignore[arg-type]
    )
    for line in summary.lines(features=report is None):
        out.print(line, markup=False, highlight=False)
    if report is not None:
        out.print(f"wrote {len(summary.issues())} repaired, rejected, skipped or conflicting features to {report}",
                  markup=False, highlight=False)
    if strict and summary.refused:
        raise typer.Exit(2)


@export_app.command("hazards")
def export_hazards(
    file: Annotated[Path, typer.Argument(help="Output .gpkg, .geojson, .csv or .shp.zip.")], db: Db
) -> None:
    """Export hazard areas (WGS84)."""
    from sapper.services.imports import export_file

    out.print(f"exported {export_file(db, file, 'hazards')} hazard areas to {file}")


@export_app.command("assets")
def export_assets(
    file: Annotated[Path, typer.Argument(help="Output .gpkg, .geojson, .csv or .shp.zip.")], db: Db
) -> None:
    """Export damaged assets (WGS84)."""
    from sapper.services.imports import export_file

    out.print(f"exported {export_file(db, file, 'assets')} assets to {file}")


ImsmaFile = Annotated[Path, typer.Argument(help="A .xlsx workbook, a .gpkg GeoPackage, or a folder of CSV files.")]


@export_app.command("imsma")
def export_imsma(file: ImsmaFile, db: Db) -> None:
    """Export hazard areas, activities and devices found under GICHD MDR field names, for IMSMA."""
    from sapper.services.imsma import export_imsma as run
    from sapper.store import open_store

    with open_store(db) as store:
        counts = run(store, file)
    out.print(f"exported {counts.describe()} to {file} ({counts.format})", markup=False, highlight=False)


@import_app.command("imsma")
def import_imsma(file: ImsmaFile, db: Db) -> None:
    """Import hazard areas, activities and devices found from an IMSMA (MDR) exchange file, all or nothing."""
    from sapper.errors import ValidationError
    from sapper.services.imsma import import_imsma as run
    from sapper.store import open_store

    with open_store(db) as store:
        try:
            summary = run(store, file)
        except ValidationError as exc:  # one line per fault (all of them), then the usual error line
            for fault in exc.faults:
                err.print(f"fault: {fault}", markup=False, highlight=False)
            err.print(f"sapper: error [{exc.code}]: {exc.what}: {len(exc.faults)} faults (listed above); nothing "
                      "was imported", markup=False, highlight=False)
            raise typer.Exit(exc.exit_code) from None
    for line in summary.lines():
        out.print(line, markup=False, highlight=False)


@forms_app.command("write")
def forms_write(
    dir: Annotated[Path, typer.Argument(help="Folder to write the templates into; created if needed.")],
    form: Annotated[
        str | None, typer.Option(help="Only this template: nts, ts, clearance, accident or brigade.")
    ] = None,
) -> None:
    """Write the XLSForm templates (NTS, TS, clearance progress, accident, brigade progress) into a folder."""
    from sapper.io.xlsform import copy_templates

    for path in copy_templates(dir, [form] if form else None):
        out.print(f"wrote {path}", markup=False, highlight=False)


@scenario_app.command("build")
def scenario_build(
    name: Annotated[str, typer.Argument(help="Scenario name: kursk-border.")],
    db: Db,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same scenario.")] = 2025,
    replace: Annotated[bool, typer.Option(help="Delete an existing store file first.")] = False,
) -> None:
    """Build a reference scenario (synthetic hazards and assets on real geography) into a new store."""
    from sapper.services.scenario import build_scenario

    counts = build_scenario(name, db, seed=seed, replace=replace)
    out.print(f"built {name} (seed {seed}, SYNTHETIC hazards and assets) into {db}")
    for k, v in counts.items():
        out.print(f"{k:>20}: {v}")


@app.command()
def plan(
    db: Db,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver time limit in seconds.")] = 60.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers (threads).")] = 2,
    seed: Annotated[int, typer.Option(help="Solver random seed.")] = 0,
    engine: Annotated[
        str, typer.Option(help="cpsat (optimise) or greedy (priority-list heuristics only, no solver).")
    ] = "cpsat",
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan summary as JSON.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write plan.json (summary + tasks).")] = None,
) -> None:
    """Plan every open hazard area and damaged asset in the store; save the plan in it."""
    from sapper.plan import Engine
    from sapper.services.planning import PlanSettings, plan_store, write_plan_json
    from sapper.store import open_store
    from sapper.store.planjson import summary_to_json

    settings = PlanSettings(time_limit_s=time_limit, workers=workers, seed=seed, engine=Engine.parse(engine))
    with open_store(db) as store:
        outcome = plan_store(store, settings=settings, progress=None if as_json else _say)
    if out_file:
        write_plan_json(outcome, out_file)
    if as_json:
        print(json.dumps(summary_to_json(outcome.summary), indent=1, ensure_ascii=False))
    else:
        _print_summary(outcome.summary)
    if not outcome.summary.has_plan:
        err.print(f"sapper: no plan: status {outcome.summary.status.value}", markup=False, highlight=False)
        raise typer.Exit(5)


@app.command()
def replan(
    db: Db,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Plan from this date (YYYY-MM-DD); default: the day after the latest "
                                                 "progress report.")
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver time limit in seconds.")] = 60.0,
    moves: Annotated[
        str, typer.Option("--moves", help="fewest: move only the lots the new facts force to move (the fewest CP-SAT "
                                          "finds, proven where it can), then plan best without moving more; priced: "
                                          "a lot may also move when what it gains outweighs --move-cost.")
    ] = "fewest",
    move_cost: Annotated[
        float, typer.Option("--move-cost", help="Cost of moving a task from its previous start, in working days of "
                                                "delay of a median-weight release or restoration (with --moves "
                                                "priced; 0: moves cost nothing).")
    ] = 20.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers (threads).")] = 2,
    seed: Annotated[int, typer.Option(help="Solver random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan summary and the changes as JSON.")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write plan.json (summary, tasks, every change).")
    ] = None,
) -> None:
    """Re-plan from the latest plan and the progress reported since; keep the plan stable; say what changed and why."""
    import datetime as dt

    from sapper.errors import Fault, ValidationError
    from sapper.plan import MovePolicy
    from sapper.services.replan import ReplanSettings, change_lines, replan_store, write_replan_json
    from sapper.store import open_store
    from sapper.store.planjson import summary_to_json

    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise ValidationError("--as-of", [Fault("--as-of", f"{as_of!r} is not a date YYYY-MM-DD")]) from None
    settings = ReplanSettings(as_of=day, time_limit_s=time_limit, workers=workers, seed=seed, move_cost_days=move_cost,
                              moves=MovePolicy.parse(moves))
    with open_store(db) as store:
        outcome = replan_store(store, settings=settings, progress=None if as_json else _say)
    if out_file:
        write_replan_json(outcome, out_file)
    if as_json:
        print(json.dumps(summary_to_json(outcome.summary), indent=1, ensure_ascii=False))
    else:
        _print_summary(outcome.summary)
        for line in change_lines(outcome.changes):
            out.print(line, markup=False, highlight=False)
    if not outcome.summary.has_plan:
        err.print(f"sapper: no plan: status {outcome.summary.status.value}", markup=False, highlight=False)
        raise typer.Exit(5)


@app.command()
def report(
    db: Db,
    out_file: Annotated[Path, typer.Option("--out", help="Output HTML file.")] = Path("report.html"),
) -> None:
    """Write the situation report (map, Gantt, burn-down) of the latest plan as one offline HTML file."""
    from sapper.report.situation import write_situation_report

    path = write_situation_report(db, out_file)
    out.print(f"wrote {path}")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (replaced files: sapper.gpkg, plan.json, "
                                                        "report.html).")] = Path("demo"),
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 2025,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver time limit in seconds.")] = 60.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers (threads).")] = 2,
) -> None:
    """Build kursk-border, plan 1,000 deminers and 5,000 builders over it, and write the store, plan and report."""
    from sapper.report.situation import write_situation_report
    from sapper.services.planning import PlanSettings, plan_store, write_plan_json
    from sapper.services.scenario import build_scenario
    from sapper.store import open_store

    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "sapper.gpkg"
    t0 = time.perf_counter()
    with _spinner("building the kursk-border scenario (synthetic hazards and assets on real geography)"):
        counts = build_scenario("kursk-border", db, seed=seed, replace=True)
    _say(f"scenario: {counts}")
    settings = PlanSettings(time_limit_s=time_limit, workers=workers)
    with _spinner(f"planning (CP-SAT, up to {time_limit:g} s)"), open_store(db) as store:
        outcome = plan_store(store, settings=settings)
    write_plan_json(outcome, out_dir / "plan.json")
    with _spinner("writing the report"):
        write_situation_report(db, out_dir / "report.html")
    _print_summary(outcome.summary)
    out.print(f"\nwrote {db}, {out_dir / 'plan.json'}, {out_dir / 'report.html'} in {time.perf_counter() - t0:.0f} s")


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks of the scheduling engine on public instance sets.")
app.add_typer(bench_app, name="bench")


@bench_app.command("psplib")
def bench_psplib(
    directory: Annotated[Path, typer.Argument(help="Folder of PSPLIB .sm/.mm instances and their reference tables.")],
    pattern: Annotated[str | None, typer.Option(help="Only instance files whose name matches this glob.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N instances, by name.")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver time limit per instance, s.")] = 10.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers (threads).")] = 2,
    seed: Annotated[int, typer.Option(help="Solver random seed.")] = 0,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write instances and summary as JSON.")] = None,
) -> None:
    """Solve PSPLIB instances (makespan) and compare with the best-known values found in the folder."""
    from sapper.services.bench import InstanceResult, run_psplib

    def show(r: InstanceResult) -> None:
        mark = "optimal" if r.proven_optimal else "feasible"
        dev = "" if r.deviation_pct is None else f" {r.deviation_pct:+.2f} %"
        _say(f"{r.name}: {r.makespan} ({mark}) reference {r.reference}{dev} in {r.seconds:.2f} s"
             + (" FALSE PROOF" if r.false_proof else ""))

    report = run_psplib(directory, pattern=pattern, limit=limit, time_limit_s=time_limit, workers=workers, seed=seed,
                        progress=show)
    if json_file:
        report.write_json(json_file)
    for k, v in report.summary.items():
        out.print(f"{k:>20}: {v}")


release_app = typer.Typer(
    no_args_is_help=True, help="Land release (IMAS 07.11): history, reclassification, closure, handover, QA."
)
app.add_typer(release_app, name="release")

HazardId = Annotated[str, typer.Argument(help="The hazard area's id.")]
Actor = Annotated[str, typer.Option("--actor", help="Who makes the change (a name or id); kept in the history.")]
Reason = Annotated[str, typer.Option("--reason", help="Why the change is made; kept in the history.")]
At = Annotated[
    str | None, typer.Option("--at", help="When it happened: ISO 8601 with a time zone. Default: now (UTC).")
]


def _parse_at(at: str | None) -> Any:
    import datetime as dt

    from sapper.errors import Fault, ValidationError

    if at is None:
        return None
    try:
        return dt.datetime.fromisoformat(at)
    except ValueError:
        raise ValidationError("--at", [Fault("--at", f"{at!r} is not an ISO 8601 time such as "
                                                   "2025-07-01T09:30:00Z")]) from None


def _print_transition(done: Any) -> None:
    for line in done.lines():
        out.print(line, markup=False, highlight=False)


@release_app.command("history")
def release_history(
    hazard_id: HazardId, db: Db, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """The land-release history of a hazard area: its state, its balance and every event."""
    from sapper.services.landrelease import history

    found = history(db, hazard_id)
    h, record = found.hazard, found.record
    if as_json:
        print(json.dumps(_history_json(found), indent=1, ensure_ascii=False))
        return
    if record is None:
        out.print(f"hazard area {h.id}: no land-release history yet; the register has it {h.hazard_class.value}, "
                  f"{h.status.value}, {h.area_m2:,.0f} m²", markup=False, highlight=False)
        return
    b = record.balance
    out.print(f"hazard area {h.id} is {record.state.value} ({record.hazard_class.value}): original "
              f"{b.original_m2:,.0f} m² = cancelled {b.cancelled_m2:,.0f} + reduced {b.reduced_m2:,.0f} + cleared "
              f"{b.cleared_m2:,.0f} + remaining {b.remaining_m2:,.0f} (residual {b.residual_m2:,.1f} m², tolerance "
              f"{b.tolerance_m2:,.0f} m²)", markup=False, highlight=False)
    for nc in record.non_conformities.values():
        out.print(f"  non-conformity {nc.id} ({nc.severity.value}, {nc.status.value}): {nc.description}",
                  markup=False, highlight=False)
    for e in record.history:
        out.print(f"{e.seq:>4}  {e.at.strftime('%Y-%m-%dT%H:%M:%SZ')}  {e.kind.value:<14} "
                  f"{e.from_state or 'new'} → {e.to_state.value}  by {e.actor}: {e.describe()} (reason: {e.reason})",
                  markup=False, highlight=False)


def _history_json(found: Any) -> dict[str, Any]:
    h, record = found.hazard, found.record
    doc: dict[str, Any] = {"hazard_id": h.id, "hazard_class": h.hazard_class.value, "status": h.status.value,
                           "state": None, "events": [], "non_conformities": []}
    if record is None:
        return doc
    b = record.balance
    doc.update({
        "state": record.state.value,
        **{k: round(getattr(b, k), 1) for k in ("original_m2", "cancelled_m2", "reduced_m2", "cleared_m2",
                                                 "remaining_m2", "residual_m2", "tolerance_m2")},
        "blockers": [nc.id for nc in record.blockers],
        "non_conformities": [{"id": nc.id, "severity": nc.severity.value, "status": nc.status.value,
                              "description": nc.description} for nc in record.non_conformities.values()],
    })
    for e in record.history:
        doc["events"].append({
            "seq": e.seq, "kind": e.kind.value, "at": e.at.isoformat().replace("+00:00", "Z"), "actor": e.actor,
            "reason": e.reason, "from_state": e.from_state.value if e.from_state else None,
            "to_state": e.to_state.value,
            **{k: round(getattr(e, k), 1) for k in ("cancelled_m2", "reduced_m2", "cleared_m2", "clipped_m2",
                                                     "remaining_m2")},
            "activity_id": e.activity.id if e.activity else None,
            "activity_type": e.activity.activity_type.value if e.activity else None,
            "devices_found": len(e.activity.devices) if e.activity else 0,
            "visit_id": e.visit.id if e.visit else None,
            "non_conformity_id": e.non_conformity_id,
            "nc_status": e.nc_status.value if e.nc_status else None,
            "evidence": e.evidence, "recipient": e.recipient, "summary": e.describe(),
        })
    return doc


@release_app.command("record")
def release_record(
    hazard_id: HazardId,
    db: Db,
    activity_type: Annotated[str, typer.Option("--type", help="nts, ts, clearance, bac or eod.")],
    activity_id: Annotated[str, typer.Option("--id", help="The activity's id (as in the operator's report).")],
    date: Annotated[str, typer.Option("--date", help="The day the activity ended, YYYY-MM-DD.")],
    actor: Actor,
    reason: Reason,
    start: Annotated[str | None, typer.Option("--start", help="The day it began, YYYY-MM-DD. Default: --date.")
                     ] = None,
    organisation: Annotated[str | None, typer.Option("--org", help="The organisation that did it (its id).")] = None,
    method: Annotated[str | None, typer.Option("--method", help="survey, manual, dog or mechanical.")] = None,
    cancelled: Annotated[Path | None, typer.Option("--cancelled", help="Vector file of the land cancelled.")] = None,
    reduced: Annotated[Path | None, typer.Option("--reduced", help="Vector file of the land reduced.")] = None,
    cleared: Annotated[Path | None, typer.Option("--cleared", help="Vector file of the land cleared.")] = None,
    crs: Annotated[str | None, typer.Option("--crs", help="CRS of outcome files that carry none (e.g. EPSG:32637).")
                   ] = None,
    depth: Annotated[float | None, typer.Option("--depth", help="Clearance depth in cm.")] = None,
    at: At = None,
) -> None:
    """Record a completed NTS, TS, clearance, BAC or EOD activity from its report, with the land it cancelled, reduced
    or cleared read from vector files (clipped to the area, and said so)."""
    import datetime as dt

    from sapper.domain.activities import Activity, ActivityStatus, ActivityType
    from sapper.domain.resources import Method
    from sapper.errors import Fault, ValidationError
    from sapper.io.vector import read_outline
    from sapper.services.landrelease import record_activity

    faults = []
    days: dict[str, dt.date | None] = {}
    for name, value in (("--date", date), ("--start", start)):
        try:
            days[name] = dt.date.fromisoformat(value) if value else None
        except ValueError:
            faults.append(Fault(name, f"{value!r} is not a date YYYY-MM-DD"))
    if activity_type not in {t.value for t in ActivityType}:
        faults.append(Fault("--type", f"{activity_type!r} is not one of {', '.join(t.value for t in ActivityType)}"))
    if method is not None and method not in {m.value for m in Method}:
        faults.append(Fault("--method", f"{method!r} is not one of {', '.join(m.value for m in Method)}"))
    ValidationError.raise_if(f"activity {activity_id}", faults)
    outcomes = {}
    for name, path in (("cancelled", cancelled), ("reduced", reduced), ("cleared", cleared)):
        if path is not None:
            geometry, repaired = read_outline(path, crs=crs)
            outcomes[name] = geometry
            for issue in repaired:
                out.print(f"{path}: feature {issue.index} repaired ({issue.reason})", markup=False, highlight=False)
    activity = Activity(activity_id, hazard_id, ActivityType(activity_type), ActivityStatus.COMPLETED,
                        organisation_id=organisation, method=Method(method) if method else None,
                        start=days["--start"] or days["--date"], end=days["--date"], clearance_depth_cm=depth,
                        **outcomes)
    _print_transition(record_activity(db, activity, actor=actor, reason=reason, at=_parse_at(at)))


@release_app.command("reclassify")
def release_reclassify(
    hazard_id: HazardId,
    db: Db,
    evidence: Annotated[str, typer.Option("--evidence", help="The direct evidence (what was found, where).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Reclassify a suspected area (SHA) as confirmed (CHA) on direct evidence."""
    from sapper.services.landrelease import reclassify

    _print_transition(reclassify(db, hazard_id, evidence=evidence, actor=actor, reason=reason, at=_parse_at(at)))


@release_app.command("close")
def release_close(hazard_id: HazardId, db: Db, actor: Actor, reason: Reason, at: At = None) -> None:
    """Release (close) an open area with nothing hazardous left, once no critical non-conformity holds it back."""
    from sapper.services.landrelease import release

    _print_transition(release(db, hazard_id, actor=actor, reason=reason, at=_parse_at(at)))


@release_app.command("handover")
def release_handover(
    hazard_id: HazardId,
    db: Db,
    to: Annotated[str, typer.Option("--to", help="Who receives the land (its users, a community, an authority).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Hand a released area over to its users."""
    from sapper.services.landrelease import hand_over

    _print_transition(hand_over(db, hazard_id, recipient=to, actor=actor, reason=reason, at=_parse_at(at)))


@release_app.command("qa")
def release_qa(
    activity_id: Annotated[str, typer.Argument(help="The activity the QA visit inspected.")],
    db: Db,
    visit: Annotated[str, typer.Option("--visit", help="The QA visit's id.")],
    actor: Actor,
    reason: Reason,
    nc: Annotated[
        list[str] | None, typer.Option("--nc", help="A non-conformity, SEVERITY:DESCRIPTION; repeat for more.")
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Day of the visit, YYYY-MM-DD. Default: the day of --at.")
                    ] = None,
    inspector: Annotated[str | None, typer.Option("--inspector", help="Id of the inspecting organisation.")] = None,
    at: At = None,
) -> None:
    """Record a QA visit (IMAS 07.12) on an activity, with the non-conformities it found."""
    import datetime as dt

    from sapper.domain.landrelease import NonConformity, QAVisit, Severity
    from sapper.errors import Fault, ValidationError
    from sapper.services.landrelease import record_qa_visit

    when = _parse_at(at)
    faults, ncs = [], []
    for i, spec in enumerate(nc or [], start=1):
        severity, _, text = spec.partition(":")
        if severity.strip().lower() not in {s.value for s in Severity} or not text.strip():
            faults.append(Fault(f"--nc {spec!r}", "give SEVERITY:DESCRIPTION, severity minor, major or critical"))
        else:
            ncs.append(NonConformity(f"{visit}-{i}", Severity(severity.strip().lower()), text.strip()))
    try:
        day = dt.date.fromisoformat(date) if date else (when or dt.datetime.now(dt.UTC)).date()
    except ValueError:
        faults.append(Fault("--date", f"{date!r} is not a date YYYY-MM-DD"))
        day = dt.date.min
    ValidationError.raise_if("QA visit", faults)
    qa = QAVisit(visit, activity_id, day, tuple(ncs), inspecting_organisation_id=inspector)
    _print_transition(record_qa_visit(db, qa, actor=actor, reason=reason, at=when))


@release_app.command("nc")
def release_nc(
    nc_id: Annotated[str, typer.Argument(help="The non-conformity's id (VISIT-N, as `release qa` names them).")],
    db: Db,
    status: Annotated[str, typer.Option("--status", help="corrected, closed or open (a correction not accepted).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Move a non-conformity on: open → corrected → closed, or corrected back to open."""
    from sapper.domain.landrelease import NCStatus
    from sapper.errors import Fault, ValidationError
    from sapper.services.landrelease import set_non_conformity

    if status not in {s.value for s in NCStatus}:
        raise ValidationError("--status", [Fault("--status", f"{status!r} is not one of open, corrected, closed")])
    _print_transition(set_non_conformity(db, nc_id, NCStatus(status), actor=actor, reason=reason, at=_parse_at(at)))


field_app = typer.Typer(
    no_args_is_help=True, help="Field data from ODK Central and KoboToolbox: review staged submissions, apply them."
)
app.add_typer(field_app, name="field")

StagedId = Annotated[int, typer.Argument(help="The staged version's id, as `sapper field list` shows it.")]
FieldActor = Annotated[str, typer.Option("--actor", help="Who makes the change (a name or id); kept in its history.")]
FieldReason = Annotated[str | None, typer.Option("--reason", help="Why; kept in its history. Needed to reject.")]


@import_app.command("field")
def import_field(
    file: Annotated[Path, typer.Argument(help="ODK Central .zip or .csv; KoboToolbox .csv, .xlsx or .geojson.")],
    db: Db,
    form: Annotated[
        str | None, typer.Option("--form", help="Form id: picks the form in an ODK Central zip, names a Kobo one's.")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit 2 if any submission was rejected or in conflict.")] = False,
) -> None:
    """Stage the submissions of an ODK Central or KoboToolbox export for review; importing twice changes nothing."""
    from sapper.services.fielddata import import_export

    summary = import_export(db, file, form_id=form)
    for line in summary.lines():
        out.print(line, markup=False, highlight=False)
    if strict and (summary.faults or summary.conflicts):
        raise typer.Exit(2)


def _staged_json(s: Any) -> dict[str, Any]:
    import shapely

    sub = s.submission

    def wkt(geoms: dict[str, Any]) -> dict[str, str]:
        return {k: shapely.to_wkt(g, rounding_precision=-1) for k, g in geoms.items()}

    return {
        "id": s.id, "state": s.state.value, "version": s.version, "kind": s.kind, "form_id": sub.form_id,
        "source": sub.source.value, "instance_id": sub.instance_id, "submission_key": sub.submission_key,
        "edits": sub.edits, "form_version": sub.form_version, "submitter": sub.submitter,
        "submitted_at": sub.submitted_at.isoformat() if sub.submitted_at else None,
        "imported_at": s.imported_at.isoformat(), "source_file": s.source_file, "apply_fault": s.apply_fault,
        "fields": sub.fields, "geometries": wkt(sub.geometries),
        "repeats": {path: [{"key": r.key, "fields": r.fields, "geometries": wkt(r.geometries)} for r in rows]
                    for path, rows in sub.repeats.items()},
        "tool_meta": sub.tool_meta,
        "history": [{"from": e.from_state.value if e.from_state else None, "to": e.to_state.value, "actor": e.actor,
                     "at": e.at.isoformat(), "reason": e.reason} for e in s.history],
    }


@field_app.command("list")
def field_list(
    db: Db,
    state: Annotated[str | None, typer.Option(
        "--state", help="Only versions in this state: staged, reviewed, approved, applied, rejected, superseded."
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: every answer and the whole history.")] = False,
) -> None:
    """List staged versions of field submissions: state, version, form, when, who; and why any was not applied."""
    from sapper.services.fielddata import list_staged

    staged = list_staged(db, state=state)
    if as_json:
        print(json.dumps([_staged_json(s) for s in staged], indent=1, ensure_ascii=False))
        return
    for s in staged:
        sub = s.submission
        when = sub.submitted_at.strftime("%Y-%m-%dT%H:%MZ") if sub.submitted_at else "-"
        out.print(f"{s.id:>5}  {s.state.value:<10} v{s.version:<3} {s.kind:<10} {sub.form_id}  {when}  "
                  f"{sub.submitter or '-'}  {sub.instance_id}", markup=False, highlight=False)
        if s.apply_fault:
            out.print(f"       not applied: {s.apply_fault}", markup=False, highlight=False)
    if not staged:
        out.print("no staged submissions" + (f" in state {state}" if state else ""))


def _field_change(to_state: str, staged_id: int, db: Path, actor: str, reason: str | None) -> None:
    from sapper.services.fielddata import change_state

    done = change_state(db, staged_id, to_state, actor=actor, reason=reason or "")
    out.print(f"staged submission {done.id} ({done.submission.instance_id}, version {done.version}) is now "
              f"{done.state.value}", markup=False, highlight=False)


@field_app.command("review")
def field_review(staged_id: StagedId, db: Db, actor: FieldActor, reason: FieldReason = None) -> None:
    """Mark a staged version as reviewed (checked by someone)."""
    _field_change("reviewed", staged_id, db, actor, reason)


@field_app.command("approve")
def field_approve(staged_id: StagedId, db: Db, actor: FieldActor, reason: FieldReason = None) -> None:
    """Approve a reviewed version: `sapper field apply` will write it to the register."""
    _field_change("approved", staged_id, db, actor, reason)


@field_app.command("reject")
def field_reject(staged_id: StagedId, db: Db, actor: FieldActor, reason: FieldReason = None) -> None:
    """Reject a version that is not applied yet (a reason is required); it is never applied."""
    _field_change("rejected", staged_id, db, actor, reason)


@field_app.command("apply")
def field_apply(db: Db) -> None:
    """Apply the latest approved version of each submission: progress reports, NTS and TS activities."""
    from sapper.services.fielddata import apply_approved

    for line in apply_approved(db).lines():
        out.print(line, markup=False, highlight=False)


def _say(msg: str) -> None:
    err.print(f"[dim]… {msg}[/dim]")


class _spinner:
    """A status spinner on a terminal; a plain line otherwise (CI logs stay clean)."""

    def __init__(self, msg: str) -> None:
        self.msg = msg
        self.status: Any = None

    def __enter__(self) -> None:
        if err.is_terminal:
            self.status = err.status(self.msg)
            self.status.__enter__()
        else:
            _say(self.msg)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


def _fmt(x: object) -> str:
    return f"{x:,.0f}" if isinstance(x, int | float) else str(x)


def _print_summary(s: PlanSummary) -> None:
    if s.synthetic:
        out.print("[bold yellow]SYNTHETIC scenario: hazards, assets and workforce split are generated.[/bold yellow]")
    out.print(f"plan status      : {s.status.value} ({s.engine}, {s.solve_seconds} s, {s.task_count} tasks)")
    r = s.replan
    if r is not None and r.move_cost_total is not None:  # the objective includes the moves, the baseline is repaired
        out.print(f"objective        : {_fmt(s.objective)}  (priority-weighted completion "
                  f"{_fmt(r.weighted_completion)} + move cost {_fmt(r.move_cost_total)})")
        out.print(f"baseline         : {_fmt(s.baseline_objective)}  ({r.baseline_meaning}; improvement "
                  f"{s.improvement_over_baseline_pct} %)")
    else:
        out.print(f"objective        : {_fmt(s.objective)}  (priority-weighted completion: Σ weight × working day)")
        out.print(f"greedy baseline  : {_fmt(s.baseline_objective)}  "
                  f"(improvement {s.improvement_over_baseline_pct} %)")
    out.print(f"lower bound      : {_fmt(s.lower_bound)}  (gap {s.gap_pct} %)")
    out.print(f"start → finish   : {s.start_date.isoformat()} → {s.finish_date.isoformat() if s.finish_date else None}")
    out.print("by date          :  hazard area released      critical assets restored")
    for p in s.progress:
        out.print(f"  {p.date.isoformat()}     : {p.hazard_area_released_km2:>8} km² ({p.hazard_area_released_pct} %)"
                  f"      {p.critical_assets_restored_pct} %")


def main() -> None:
    """Entry point: run the app; map sapper errors to one line and an exit code."""
    try:
        code = app(standalone_mode=False)  # returns the code of typer.Exit instead of raising it
    except SapperError as exc:
        err.print(f"sapper: error [{exc.code}]: {exc.message}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("sapper: aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors (unknown command, missing or bad option): click's message
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        sys.exit(int(getattr(exc, "exit_code", 2)))
    sys.exit(code if isinstance(code, int) else 0)


