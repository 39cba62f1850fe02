"""``sapper release …``: the land-release history of a hazard area (IMAS 07.11) and the changes that advance it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from sapper.cli._options import AsJson, Db, parse_at, settings
from sapper.cli._output import lines

if TYPE_CHECKING:
    from sapper.services.register import Store

release_app = typer.Typer(
    no_args_is_help=True, help="Land release (IMAS 07.11): history, reclassification, closure, handover, QA."
)

HazardId = Annotated[str, typer.Argument(help="The hazard area's id.")]
Actor = Annotated[str, typer.Option("--actor", help="Who makes the change (a name or id); kept in the history.")]
Reason = Annotated[str, typer.Option("--reason", help="Why the change is made; kept in the history.")]
At = Annotated[
    str | None, typer.Option("--at", help="When it happened: ISO 8601 with a time zone. Default: now (UTC).")
]


class _Said(Protocol):
    def lines(self) -> list[str]: ...


def _change(ctx: typer.Context, db: str, at: str | None, change: Callable[[Store, dt.datetime | None], _Said]
            ) -> None:
    """Open the store, make the one change at ``--at`` and print what it did."""
    from sapper.services.register import open_register

    when = parse_at(at)
    with open_register(settings(ctx, db=db)) as store:
        lines(change(store, when).lines())


@release_app.command("history")
def release_history(ctx: typer.Context, hazard_id: HazardId, db: Db, as_json: AsJson = False) -> None:
    """The land-release history of a hazard area: its state, its balance and every event."""
    from sapper.services.landrelease import history
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        found = history(store, hazard_id)
    if as_json:
        print(json.dumps(found.to_json(), indent=1, ensure_ascii=False))
    else:
        lines(found.lines())


@release_app.command("record")
def release_record(
    ctx: typer.Context,
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
    from sapper.services.landrelease import ActivityReport, record_report

    report = ActivityReport(hazard_id, activity_id, activity_type, date, start=start, organisation_id=organisation,
                            method=method, cancelled=cancelled, reduced=reduced, cleared=cleared, crs=crs,
                            depth_cm=depth)
    _change(ctx, db, at, lambda store, when: record_report(store, report, actor=actor, reason=reason, at=when))


@release_app.command("reclassify")
def release_reclassify(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    evidence: Annotated[str, typer.Option("--evidence", help="The direct evidence (what was found, where).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Reclassify a suspected area (SHA) as confirmed (CHA) on direct evidence."""
    from sapper.services.landrelease import reclassify

    _change(ctx, db, at, lambda store, when: reclassify(store, hazard_id, evidence=evidence, actor=actor,
                                                        reason=reason, at=when))


@release_app.command("close")
def release_close(ctx: typer.Context, hazard_id: HazardId, db: Db, actor: Actor, reason: Reason, at: At = None
                  ) -> None:
    """Release (close) an open area with nothing hazardous left, once no critical non-conformity holds it back."""
    from sapper.services.landrelease import release

    _change(ctx, db, at, lambda store, when: release(store, hazard_id, actor=actor, reason=reason, at=when))


@release_app.command("handover")
def release_handover(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    to: Annotated[str, typer.Option("--to", help="Who receives the land (its users, a community, an authority).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Hand a released area over to its users."""
    from sapper.services.landrelease import hand_over

    _change(ctx, db, at, lambda store, when: hand_over(store, hazard_id, recipient=to, actor=actor, reason=reason,
                                                       at=when))


@release_app.command("qa")
def release_qa(
    ctx: typer.Context,
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
    from sapper.services.landrelease import QAReport, record_qa_report

    report = QAReport(visit, activity_id, tuple(nc or ()), date=date, inspector=inspector)
    _change(ctx, db, at, lambda store, when: record_qa_report(store, report, actor=actor, reason=reason, at=when))


@release_app.command("nc")
def release_nc(
    ctx: typer.Context,
    nc_id: Annotated[str, typer.Argument(help="The non-conformity's id (VISIT-N, as `release qa` names them).")],
    db: Db,
    status: Annotated[str, typer.Option("--status", help="corrected, closed or open (a correction not accepted).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Move a non-conformity on: open → corrected → closed, or corrected back to open."""
    from sapper.services.landrelease import set_non_conformity

    _change(ctx, db, at, lambda store, when: set_non_conformity(store, nc_id, status, actor=actor, reason=reason,
                                                                at=when))
