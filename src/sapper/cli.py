"""The ``sapper`` command line. Commands call services; user mistakes give one line on stderr and an exit code.

Exit codes: 0 success; 1 unexpected error; 2 invalid input (file, geometry, CRS, parameters; or rejected features
under ``--strict``); 3 not found; 4 store problem; 5 planning problem. See docs/cli.md.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from sapper.errors import SapperError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0] if __doc__ else None)
import_app = typer.Typer(no_args_is_help=True, help="Import hazard areas, assets or the workforce from files.")
export_app = typer.Typer(no_args_is_help=True, help="Export hazard areas or assets to GeoPackage, GeoJSON or CSV.")
scenario_app = typer.Typer(no_args_is_help=True, help="Reference scenarios.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(scenario_app, name="scenario")

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


@import_app.command("hazards")
def import_hazards(
    file: Annotated[Path, typer.Argument(help="GeoPackage, GeoJSON or CSV file.")],
    db: Db,
    layer: Annotated[str | None, typer.Option(help="Layer name in a multi-layer file.")] = None,
    crs: Crs = None,
    strict: Annotated[bool, typer.Option(help="Exit 2 if any feature was rejected.")] = False,
) -> None:
    """Import hazard areas; repairs invalid polygons and reports every repaired or rejected feature."""
    _import("hazards", file, db, layer, crs, strict)


@import_app.command("assets")
def import_assets(
    file: Annotated[Path, typer.Argument(help="GeoPackage, GeoJSON or CSV file.")],
    db: Db,
    layer: Annotated[str | None, typer.Option(help="Layer name in a multi-layer file.")] = None,
    crs: Crs = None,
    strict: Annotated[bool, typer.Option(help="Exit 2 if any feature was rejected.")] = False,
) -> None:
    """Import damaged assets; reports every repaired or rejected feature."""
    _import("assets", file, db, layer, crs, strict)


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


def _import(kind: str, file: Path, db: Path, layer: str | None, crs: str | None, strict: bool) -> None:
    from sapper.services.imports import import_file

    summary = import_file(db, file, kind, layer=layer, crs=crs)  # type: ignore[arg-type]
    for line in summary.lines():
        out.print(line, markup=False, highlight=False)
    if strict and summary.rejected:
        raise typer.Exit(2)


@export_app.command("hazards")
def export_hazards(file: Annotated[Path, typer.Argument(help="Output .gpkg, .geojson or .csv.")], db: Db) -> None:
    """Export hazard areas (WGS84)."""
    from sapper.services.imports import export_file

    out.print(f"exported {export_file(db, file, 'hazards')} hazard areas to {file}")


@export_app.command("assets")
def export_assets(file: Annotated[Path, typer.Argument(help="Output .gpkg, .geojson or .csv.")], db: Db) -> None:
    """Export damaged assets (WGS84)."""
    from sapper.services.imports import export_file

    out.print(f"exported {export_file(db, file, 'assets')} assets to {file}")


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
    from sapper.services.planning import PlanSettings, plan_store, write_plan_json

    settings = PlanSettings(time_limit_s=time_limit, workers=workers, seed=seed, engine=engine)
    outcome = plan_store(db, settings=settings, progress=None if as_json else _say)
    if out_file:
        write_plan_json(outcome, out_file)
    if as_json:
        print(json.dumps(outcome.summary, indent=1, ensure_ascii=False))
    else:
        _print_summary(outcome.summary)
    if outcome.summary["status"] not in ("optimal", "feasible"):
        err.print(f"sapper: no plan: status {outcome.summary['status']}", markup=False, highlight=False)
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

    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "sapper.gpkg"
    t0 = time.perf_counter()
    with _spinner("building the kursk-border scenario (synthetic hazards and assets on real geography)"):
        counts = build_scenario("kursk-border", db, seed=seed, replace=True)
    _say(f"scenario: {counts}")
    settings = PlanSettings(time_limit_s=time_limit, workers=workers)
    with _spinner(f"planning (CP-SAT, up to {time_limit:g} s)"):
        outcome = plan_store(db, settings=settings)
    write_plan_json(outcome, out_dir / "plan.json")
    with _spinner("writing the report"):
        write_situation_report(db, out_dir / "report.html")
    _print_summary(outcome.summary)
    out.print(f"\nwrote {db}, {out_dir / 'plan.json'}, {out_dir / 'report.html'} in {time.perf_counter() - t0:.0f} s")


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


def _print_summary(s: dict[str, Any]) -> None:
    if s.get("synthetic"):
        out.print("[bold yellow]SYNTHETIC scenario: hazards, assets and workforce split are generated.[/bold yellow]")
    out.print(f"plan status      : {s['status']} ({s['engine']}, {s['solve_seconds']} s, {s['task_count']} tasks)")
    out.print(f"objective        : {_fmt(s['objective'])}  (priority-weighted completion: Σ weight × working day)")
    out.print(f"greedy baseline  : {_fmt(s['baseline_objective'])}  "
              f"(improvement {s['improvement_over_baseline_pct']} %)")
    out.print(f"lower bound      : {_fmt(s['lower_bound'])}  (gap {s['gap_pct']} %)")
    out.print(f"start → finish   : {s['start_date']} → {s['finish_date']}")
    out.print("by date          :  hazard area released      critical assets restored")
    for p in s.get("progress", []):
        out.print(f"  {p['date']}     : {p['hazard_area_released_km2']:>8} km² ({p['hazard_area_released_pct']} %)"
                  f"      {p['critical_assets_restored_pct']} %")


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


