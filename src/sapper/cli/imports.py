"""``sapper import …`` and ``sapper export …``: hazard areas, assets, the workforce, IMSMA files, field exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Crs, Db, settings
from sapper.cli._output import language, lines, localise, tr, tr_n

if TYPE_CHECKING:
    from sapper.services.imports import Kind

import_app = typer.Typer(no_args_is_help=True, help="Import hazard areas, assets or the workforce from files.")
export_app = typer.Typer(no_args_is_help=True, help="Export hazard areas, assets, accidents, IMSMA files or the "
                                                     "plan's charts.")

VectorFileArg = Annotated[
    Path, typer.Argument(help="GeoPackage, GeoJSON, CSV, XLSX, KML/KMZ or zipped Shapefile (.zip).")
]
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
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="TARGET=SOURCE: read sapper's field TARGET from the file's column SOURCE "
                               "(e.g. id=fileId). Repeat for each field."),
]
ValueOpt = Annotated[
    list[str] | None,
    typer.Option("--value", help='"FIELD:SOURCE VALUE=TARGET VALUE": translate a value of FIELD (e.g. '
                                 '"hazard_class:Suspected Minefield=SHA"). Repeat for each value.'),
]
DefaultOpt = Annotated[
    list[str] | None,
    typer.Option("--default", help="FIELD=VALUE: the value of FIELD where the file has none (e.g. status=open)."),
]
ProfileOpt = Annotated[
    Path | None, typer.Option("--profile", help="A TOML import profile holding maps, values and defaults.")
]
SaveProfileOpt = Annotated[
    Path | None, typer.Option("--save-profile", help="Write the profile used (with the options above) to this "
                                                     ".toml file, for the next delivery from the same source.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Say what the import would do (counts, repairs, rejections, unknown "
                                         "values) and write nothing.")
]
OutFileArg = Annotated[Path, typer.Argument(help="Output .gpkg, .geojson, .csv, .xlsx, .kml, .kmz or .shp.zip.")]
ImsmaFile = Annotated[Path, typer.Argument(help="A .xlsx workbook, a .gpkg GeoPackage, or a folder of CSV files.")]


@import_app.command("hazards")
def import_hazards(
    ctx: typer.Context,
    file: VectorFileArg,
    db: Db,
    layer: LayerOpt = None,
    crs: Crs = None,
    strict: StrictOpt = False,
    skip_existing: SkipExistingOpt = False,
    report: ReportOpt = None,
    map_: MapOpt = None,
    value: ValueOpt = None,
    default: DefaultOpt = None,
    profile: ProfileOpt = None,
    save_profile: SaveProfileOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Import hazard areas; repairs invalid polygons and reports every repaired or rejected feature."""
    _import(ctx, "hazards", file, db, _Choices(layer, crs, strict, skip_existing, report, map_ or [], value or [],
                                               default or [], profile, save_profile, dry_run))


@import_app.command("assets")
def import_assets(
    ctx: typer.Context,
    file: VectorFileArg,
    db: Db,
    layer: LayerOpt = None,
    crs: Crs = None,
    strict: StrictOpt = False,
    skip_existing: SkipExistingOpt = False,
    report: ReportOpt = None,
    map_: MapOpt = None,
    value: ValueOpt = None,
    default: DefaultOpt = None,
    profile: ProfileOpt = None,
    save_profile: SaveProfileOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Import damaged assets; reports every repaired or rejected feature."""
    _import(ctx, "assets", file, db, _Choices(layer, crs, strict, skip_existing, report, map_ or [], value or [],
                                              default or [], profile, save_profile, dry_run))


@dataclass(frozen=True, slots=True)
class _Choices:
    layer: str | None
    crs: str | None
    strict: bool
    skip_existing: bool
    report: Path | None
    maps: list[str]
    values: list[str]
    defaults: list[str]
    profile: Path | None
    save_profile: Path | None
    dry_run: bool


def _import(ctx: typer.Context, kind: Kind, file: Path, db: str, c: _Choices) -> None:
    from sapper.services.imports import build_profile, import_file, keep_profile
    from sapper.services.register import open_register

    profile = build_profile(c.profile, maps=c.maps, values=c.values, defaults=c.defaults, kind=kind, crs=c.crs)
    if c.save_profile is not None:
        if profile is None:
            raise typer.BadParameter(tr("give --map, --value, --default or --profile to save a profile"),
                                     param_hint="--save-profile")
        keep_profile(c.save_profile, profile)
    with open_register(settings(ctx, db=db)) as store:
        summary = import_file(store, file, kind, layer=c.layer, crs=c.crs, skip_existing=c.skip_existing,
                              report=c.report, profile=profile, dry_run=c.dry_run)
    lines(summary.lines(features=c.report is None or c.dry_run))
    if c.save_profile is not None:
        lines([tr("saved the profile to {file}", file=c.save_profile)])
    if c.report is not None and not c.dry_run:
        lines([tr("wrote {n} repaired, rejected, skipped or conflicting features to {file}", n=len(summary.issues()),
                  file=c.report)])
    if summary.refused_fields:
        lines([tr("refused: values of {fields} are not mapped (see above)", fields=", ".join(summary.refused_fields))])
        raise typer.Exit(2)
    if summary.stored_nothing:
        if c.dry_run:
            lines([tr("nothing would be imported: all {n} features were rejected", n=len(summary.rejected))])
        else:
            lines([tr("nothing imported: all {n} features were rejected", n=len(summary.rejected))])
        raise typer.Exit(2)
    if c.strict and summary.refused:
        raise typer.Exit(2)


@import_app.command("workforce")
def import_workforce(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV file (or GeoPackage table): one team or brigade a row.")],
    db: Db,
    layer: Annotated[str | None, typer.Option(help="Table name in a GeoPackage.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 2 if any row was rejected.")] = False,
) -> None:
    """Import deminer teams and builder brigades: one row each (see docs/cli.md for the columns)."""
    from sapper.services.imports import import_workforce as run
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        summary = run(store, file, layer=layer)
    lines(summary.lines())
    if strict and summary.rejected:
        raise typer.Exit(2)


ImsmaValueOpt = Annotated[
    list[str] | None,
    typer.Option("--value", help='"COLUMN:IMSMA NAME=SAPPER VALUE": the programme\'s IMSMA Core value name for a '
                                 'choice column (e.g. "activity_type:Technical Survey=TS"); used both ways. Repeat.'),
]
ImsmaProfileOpt = Annotated[
    Path | None, typer.Option("--profile", help="A TOML profile whose [values.COLUMN] tables hold the programme's "
                                                "IMSMA Core value names (as --value).")
]


@import_app.command("imsma")
def import_imsma(
    ctx: typer.Context,
    file: ImsmaFile,
    db: Db,
    value: ImsmaValueOpt = None,
    profile: ImsmaProfileOpt = None,
) -> None:
    """Import organisations, hazard areas, activities and devices found from an IMSMA Core exchange file (imsma_id,
    imsma_links, related device table), all or nothing."""
    from sapper.services.imports import build_profile
    from sapper.services.imsma import import_imsma as run
    from sapper.services.register import open_register

    names = build_profile(profile, values=value or [])
    with open_register(settings(ctx, db=db)) as store:
        summary = run(store, file, profile=names)
    lines(summary.lines())


@import_app.command("field")
def import_field(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="ODK Central .zip or .csv; KoboToolbox .csv, .xlsx or .geojson.")],
    db: Db,
    form: Annotated[
        str | None, typer.Option("--form", help="Form id: picks the form in an ODK Central zip, names a Kobo one's.")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit 2 if any submission was rejected or in conflict.")] = False,
) -> None:
    """Stage the submissions of an ODK Central or KoboToolbox export for review; importing twice changes nothing.
    Victims' answers are staged encrypted with SAPPER_DATA_KEY, or dropped without it."""
    from sapper.services.datakeys import from_environment
    from sapper.services.fielddata import import_export
    from sapper.services.register import open_register

    cipher = from_environment()
    with open_register(settings(ctx, db=db)) as store:
        summary = import_export(store, file, form_id=form, cipher=cipher)
    lines(summary.lines())
    if strict and (summary.faults or summary.conflicts):
        raise typer.Exit(2)


FieldsOpt = Annotated[
    str | None,
    typer.Option("--fields", help="a,b,c: write only these columns, in this order (names as in docs/export.md; "
                                  "wkt is a table's geometry column)."),
]
StylesOpt = Annotated[
    bool, typer.Option("--styles/--no-styles", help="Write the layer styles (GeoPackage layer_styles, the "
                                                    "Shapefile's .qml, KML styles) so the file opens coloured.")
]
GeneraliseOpt = Annotated[
    bool, typer.Option("--generalise", help="Write what a viewer sees: hazard geometry generalised to a 100 m grid, "
                                            "no source attributes (for a file that leaves the organisation).")
]


def _export(ctx: typer.Context, kind: Kind, file: Path, db: str, fields: str | None, styles: bool,
            generalise: bool) -> int:
    from sapper.services.exports import ExportOptions, export_records
    from sapper.services.register import open_register

    picked = tuple(f for f in fields.split(",")) if fields is not None else None
    with open_register(settings(ctx, db=db)) as store:
        return export_records(store, file, kind, ExportOptions(picked, styles, generalise, say=localise))


@export_app.command("hazards")
def export_hazards(ctx: typer.Context, file: OutFileArg, db: Db, fields: FieldsOpt = None, styles: StylesOpt = True,
                   generalise: GeneraliseOpt = False) -> None:
    """Export hazard areas (WGS84), coloured by land-release state (docs/export.md)."""
    n = _export(ctx, "hazards", file, db, fields, styles, generalise)
    lines([tr_n("exported {n} hazard area to {file}", "exported {n} hazard areas to {file}", n, file=file)])


@export_app.command("assets")
def export_assets(ctx: typer.Context, file: OutFileArg, db: Db, fields: FieldsOpt = None, styles: StylesOpt = True,
                  generalise: GeneraliseOpt = False) -> None:
    """Export damaged assets (WGS84), coloured by planned restoration date (docs/export.md)."""
    n = _export(ctx, "assets", file, db, fields, styles, generalise)
    lines([tr_n("exported {n} asset to {file}", "exported {n} assets to {file}", n, file=file)])


FigureFile = Annotated[Path, typer.Argument(help="Output .svg or .png.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="en, uk or ru (default: sapper --lang, else $SAPPER_LANG, "
                                                                   "else en).")]


@export_app.command("gantt")
def export_gantt(ctx: typer.Context, file: FigureFile, db: Db, lang: LangOpt = None) -> None:
    """The latest plan's Gantt chart (every team and brigade, grouped by organisation and role) as SVG or PNG."""
    from sapper.report.figures import write_gantt

    lanes = write_gantt(settings(ctx, db=db).db or db, file, lang=lang or language().value)
    lines([tr_n("wrote the Gantt chart of {n} team or brigade to {file}",
                "wrote the Gantt chart of {n} teams and brigades to {file}", lanes, file=file)])


@export_app.command("burndown")
def export_burndown(ctx: typer.Context, file: FigureFile, db: Db, lang: LangOpt = None) -> None:
    """The latest plan's burn-down (hazard area left to release, assets left to restore) as SVG or PNG."""
    from sapper.report.figures import write_burndown

    write_burndown(settings(ctx, db=db).db or db, file, lang=lang or language().value)
    lines([tr("wrote the burn-down chart to {file}", file=file)])


@export_app.command("plan")
def export_plan(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Output .gpkg (one layer), .csv or .xlsx (one sheet); replaced.")],
    db: Db,
    plan_id: Annotated[
        int | None, typer.Option("--plan", help="The plan run to export (its id); default: the latest plan.")
    ] = None,
    generalise: Annotated[
        bool, typer.Option("--generalise", help="Hazard areas as the 100 m generalised footprint viewers see, "
                                                "instead of their exact polygons (for sharing outside the programme).")
    ] = False,
    pricing: Annotated[
        Path | None, typer.Option("--pricing", help="The pricing profile each lot's cost is priced at (TOML, as "
                                                    "sapper costs --pricing); default: sapper's.")
    ] = None,
) -> None:
    """Export the plan's lots, one row each (unit, task kind, method, dates, release and restoration dates, cost,
    site geometry), for GIS, spreadsheets and other schedulers."""
    from sapper.services.planexport import export_plan as run
    from sapper.services.pricing import load_pricing
    from sapper.services.register import open_register

    prices = load_pricing(pricing)
    with open_register(settings(ctx, db=db)) as store:
        done = run(store, file, plan_id=plan_id, generalise=generalise, pricing=prices)
    where = tr("generalised footprints") if done.generalised else tr("exact hazard polygons: sensitive, share with "
                                                                      "care")
    extra = tr_n("; {n} without a site (no longer in the register)", "; {n} without a site (no longer in the register)",
                 done.without_geometry) if done.without_geometry else ""
    lines([tr_n("exported {n} lot of plan run {plan} to {path} ({format}, {where}{extra})",
                "exported {n} lots of plan run {plan} to {path} ({format}, {where}{extra})", done.rows,
                plan=done.plan_id, path=done.path, format=done.format, where=where, extra=extra)])


@export_app.command("accidents")
def export_accidents(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Output .csv or .geojson.")],
    db: Db,
    level: Annotated[str, typer.Option("--level", help="The most sensitive class written: public, restricted or "
                                                       "confidential (victims are never exported).")] = "public",
) -> None:
    """Export accidents up to a sensitivity class (no victim field, ever)."""
    from sapper.services.accidents import export, parse_level
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        written, left_out = export(store, file, level=parse_level(level))
    lines([tr_n("exported {n} accident to {file}", "exported {n} accidents to {file}", written, file=file)
           + (tr_n(" ({n} above {level} left out)", " ({n} above {level} left out)", left_out, level=level)
              if left_out else "")])


@export_app.command("imsma")
def export_imsma(
    ctx: typer.Context,
    file: ImsmaFile,
    db: Db,
    value: ImsmaValueOpt = None,
    profile: ImsmaProfileOpt = None,
    mdr_report: Annotated[
        Path | None, typer.Option("--mdr-report", help="Also write every record's missing GICHD MDR items to this "
                                                       ".csv file.")
    ] = None,
) -> None:
    """Export organisations, hazard areas, activities and devices found as IMSMA Core loads them (imsma_id,
    imsma_links, value names, devices as a related table; polygons in the .gpkg), listing each record's missing
    GICHD MDR items."""
    from sapper.services.imports import build_profile
    from sapper.services.imsma import export_imsma as run
    from sapper.services.register import open_register

    names = build_profile(profile, values=value or [])
    with open_register(settings(ctx, db=db)) as store:
        summary = run(store, file, profile=names, mdr_report=mdr_report)
    lines(summary.lines())
