"""``sapper field …``: review the field submissions ``sapper import field`` staged, and apply them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sapper.cli._options import Db, settings
from sapper.cli._output import lines, out

field_app = typer.Typer(
    no_args_is_help=True, help="Field data from ODK Central and KoboToolbox: review staged submissions, apply them."
)

StagedId = Annotated[int, typer.Argument(help="The staged version's id, as `sapper field list` shows it.")]
FieldActor = Annotated[str, typer.Option("--actor", help="Who makes the change (a name or id); kept in its history.")]
FieldReason = Annotated[str | None, typer.Option("--reason", help="Why; kept in its history. Needed to reject.")]


@field_app.command("list")
def field_list(
    ctx: typer.Context,
    db: Db,
    state: Annotated[str | None, typer.Option(
        "--state", help="Only versions in this state: staged, reviewed, approved, applied, rejected, superseded."
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: every answer and the whole history.")] = False,
) -> None:
    """List staged versions of field submissions: state, version, form, when, who; and why any was not applied."""
    from sapper.services.fielddata import list_staged, staged_line, staged_to_json
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        staged = list_staged(store, state=state)
    if as_json:
        print(json.dumps([staged_to_json(s) for s in staged], indent=1, ensure_ascii=False))
        return
    for s in staged:
        lines(staged_line(s))
    if not staged:
        out.print("no staged submissions" + (f" in state {state}" if state else ""))


def _change(ctx: typer.Context, to_state: str, staged_id: int, db: str, actor: str, reason: str | None) -> None:
    from sapper.services.fielddata import change_state
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        done = change_state(store, staged_id, to_state, actor=actor, reason=reason or "")
    lines([f"staged submission {done.id} ({done.submission.instance_id}, version {done.version}) is now "
           f"{done.state.value}"])


@field_app.command("review")
def field_review(ctx: typer.Context, staged_id: StagedId, db: Db, actor: FieldActor, reason: FieldReason = None
                 ) -> None:
    """Mark a staged version as reviewed (checked by someone)."""
    _change(ctx, "reviewed", staged_id, db, actor, reason)


@field_app.command("approve")
def field_approve(ctx: typer.Context, staged_id: StagedId, db: Db, actor: FieldActor, reason: FieldReason = None
                  ) -> None:
    """Approve a reviewed version: `sapper field apply` will write it to the register."""
    _change(ctx, "approved", staged_id, db, actor, reason)


@field_app.command("reject")
def field_reject(ctx: typer.Context, staged_id: StagedId, db: Db, actor: FieldActor, reason: FieldReason = None
                 ) -> None:
    """Reject a version that is not applied yet (a reason is required); it is never applied."""
    _change(ctx, "rejected", staged_id, db, actor, reason)


@field_app.command("apply")
def field_apply(ctx: typer.Context, db: Db) -> None:
    """Apply the latest approved version of each submission: progress reports, NTS and TS activities."""
    from sapper.services.fielddata import apply_approved
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        lines(apply_approved(store).lines())
