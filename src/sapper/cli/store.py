"""``sapper init``, ``sapper info`` and ``sapper copy``: make a store, say what one holds, copy one into another."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated

import typer

from sapper.cli._options import AsJson, Db, parse_day, settings
from sapper.cli._output import language, lines, localise, out, tr, tr_n
from sapper.messages import msg
from sapper.report.i18n import Lang


def init(
    ctx: typer.Context,
    db: Db,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="The programme's first day (YYYY-MM-DD): plans start there.")
    ] = None,
) -> None:
    """Create an empty store: a new GeoPackage file, or sapper's schema in a new or empty PostgreSQL database."""
    from sapper.services.copy import init_store

    first = parse_day("--start-date", start_date)
    lines([tr("created {store}", store=init_store(settings(ctx, db=db).db or "", start_date=first))])


def copy(
    source: Annotated[str, typer.Option("--from", help="The store to copy: a GeoPackage file or a postgresql:// URL.")],
    target: Annotated[str, typer.Option("--to", help="The new or empty store to copy into (created if missing).")],
) -> None:
    """Copy a whole register into a new or empty store, of either kind, without loss."""
    from sapper.services.copy import copy_register

    lines(copy_register(source, target).lines())


#: The store's tables as ``sapper info`` names them (the table's own name in English and under ``--json``).
_TABLES = {
    "accidents": msg("accidents"), "activities": msg("land-release activities"), "admin_areas": msg("admin areas"),
    "api_tokens": msg("API tokens"), "assets": msg("damaged assets"), "audit": msg("audit entries"),
    "brigades": msg("builder brigades"), "calendar_holidays": msg("holidays"),
    "contested_zone": msg("contested zone"), "devices_found": msg("devices found"),
    "field_progress": msg("field progress reports"), "field_progress_devices": msg("devices in field reports"),
    "field_submission_events": msg("field submission events"), "field_submissions": msg("field submissions"),
    "hazard_areas": msg("hazard areas"), "hazard_points": msg("hazard points"), "jobs": msg("jobs"),
    "land_release_events": msg("land-release events"), "land_release_outcomes": msg("land-release outcomes"),
    "non_conformities": msg("non-conformities"), "organisations": msg("organisations"), "plan_runs": msg("plans"),
    "plan_tasks": msg("planned tasks"), "qa_visits": msg("QA visits"), "sapper_meta": msg("metadata entries"),
    "sessions": msg("sessions"), "settlements": msg("settlements"), "task_order_events": msg("task-order events"),
    "task_order_lots": msg("task-order lots"), "task_orders": msg("task orders"), "teams": msg("deminer teams"),
    "users": msg("users"), "victims": msg("victims"),
}


#: The scenario's metadata as ``sapper info`` names it (its own key in English and under ``--json``).
_META = {
    "attributions": msg("attributions"), "border_wkt": msg("border (WKT)"), "notes": msg("notes"),
    "scenario": msg("scenario"), "seed": msg("seed"), "start_date": msg("start date"), "synthetic": msg("synthetic"),
}


def _meta_name(key: str) -> str:
    return key if language() is Lang.EN else localise(_META.get(key, key))


def table_name(name: str) -> str:
    """A store table's name (``hazard_areas``) as a reader says it in the run's language; the name in English."""
    return name if language() is Lang.EN else localise(_TABLES.get(name, name))


def table_counts(counts: Mapping[str, int]) -> str:
    """The tables that hold records, with their counts (``hazard_areas 2400, assets 1300``), in the run's
    language."""
    return ", ".join(f"{table_name(k)} {n}" for k, n in counts.items() if n)


def info(ctx: typer.Context, db: Db, as_json: AsJson = False) -> None:
    """What the store holds: counts per layer and the scenario's metadata."""
    from sapper.services.register import describe, open_register

    with open_register(settings(ctx, db=db)) as store:
        found = describe(store)
    if as_json:
        print(json.dumps(found.to_json(), indent=1, ensure_ascii=False))
        return
    for k, n in found.counts.items():
        out.print(f"{table_name(k):>28}: {n}", markup=False, highlight=False)
    for k, v in found.meta.items():
        text = v if len(v) <= 200 else tr_n("{head} … ({n:,} character; see --json)",
                                            "{head} … ({n:,} characters; see --json)", len(v), head=v[:80])
        if language() is not Lang.EN and text in ("true", "false"):
            text = tr("yes") if text == "true" else tr("no")
        out.print(f"{_meta_name(k):>28}: {text}", markup=False, highlight=False)
