"""``sapper field …``: review the field submissions ``sapper import field`` staged, and apply them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sapper.cli._options import Db, parse_day, settings
from sapper.cli._output import lines, localise, tr, tr_n
from sapper.messages import msg

field_app = typer.Typer(
    no_args_is_help=True, help="Field data from ODK Central and KoboToolbox: review staged submissions, apply them."
)

StagedIds = Annotated[list[int] | None, typer.Argument(
    help="The staged versions' ids, as `sapper field list` shows them; several in one command. Or use the filters.",
    show_default=False)]
FieldActor = Annotated[str, typer.Option("--actor", help="Who makes the change (a name or id); kept in its history.")]
FieldReason = Annotated[str | None, typer.Option("--reason", help="Why; kept in its history. Needed to reject.")]
Team = Annotated[str | None, typer.Option(
    "--team", help="Only the reports of this team (clearance) or brigade (brigade progress).")]
Form = Annotated[str | None, typer.Option(
    "--form", help="Only this form: clearance, brigade, nts, ts, accident (or its form id, e.g. sapper_clearance).")]
Since = Annotated[str | None, typer.Option(
    "--since", help="Only reports of this date or later (YYYY-MM-DD; the work or survey date).")]
AllValid = Annotated[bool, typer.Option(
    "--all-valid", help="Every version that would apply (verdict valid in `sapper field list`).")]


#: The states a review moves a version to, marked for the catalogues (said in the run's language).
WORDS: dict[str, str] = {w: w for w in (msg("reviewed"), msg("approved"), msg("rejected"))}


def _word(value: str) -> str:
    return localise(WORDS.get(value, value))


@field_app.command("list")
def field_list(
    ctx: typer.Context,
    db: Db,
    state: Annotated[str | None, typer.Option(
        "--state", help="Only versions in this state: staged, reviewed, approved, applied, rejected, superseded."
    )] = None,
    team: Team = None,
    form: Form = None,
    since: Since = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: every answer and the whole history.")] = False,
) -> None:
    """List staged versions in columns: id, state, version, form, team, hazard/asset, date, m² or builder-days,
    devices found and the verdict (valid, or the first fault); and why any was not applied."""
    from sapper.services.fielddata import review_header, review_line, staged_to_json
    from sapper.services.register import open_register
    from sapper.services.review import Selection, listing

    day = parse_day("since", since)
    with open_register(settings(ctx, db=db)) as store:
        rows = listing(store, Selection(team=team, form=form, since=day), state=state)
    if as_json:
        print(json.dumps([{**staged_to_json(r.staged), "verdict": r.verdict} for r in rows], indent=1,
                         ensure_ascii=False))
        return
    if not rows:
        filtered = bool(team or form or since)
        if state:
            said = (tr("no staged submissions in state {state} matching the filters", state=state) if filtered else
                    tr("no staged submissions in state {state}", state=state))
        else:
            said = tr("no staged submissions matching the filters") if filtered else tr("no staged submissions")
        lines([said])
        return
    lines([review_header(localise)])
    for r in rows:
        lines(review_line(r))


def _batch(ctx: typer.Context, to_state: str, db: str, actor: str, reason: str | None, ids: list[int] | None, *,
           team: str | None = None, form: str | None = None, since: str | None = None, all_valid: bool = False
           ) -> None:
    from sapper.services.register import open_register
    from sapper.services.review import Selection, batch

    selection = Selection(tuple(ids or ()), team=team, form=form, since=parse_day("since", since),
                          all_valid=all_valid)
    with open_register(settings(ctx, db=db)) as store:
        done = batch(store, to_state, selection, actor=actor, reason=reason or "")
    if not done:
        lines([tr("no staged submission can become {state} with these filters; nothing was changed",
                  state=_word(to_state))])
        return
    lines([tr("staged submission {id} ({instance}, version {version}) is now {state}", id=d.id,
              instance=d.submission.instance_id, version=d.version, state=_word(d.state.value)) for d in done])
    if len(done) > 1:
        lines([tr_n("{n} staged submission is now {state} (one transaction)",
                    "{n} staged submissions are now {state} (one transaction)", len(done), state=_word(to_state))])


@field_app.command("review")
def field_review(ctx: typer.Context, db: Db, actor: FieldActor, staged_ids: StagedIds = None,
                 reason: FieldReason = None, team: Team = None, form: Form = None, since: Since = None,
                 all_valid: AllValid = False) -> None:
    """Mark staged versions as reviewed (checked by someone): the ids named, or every staged one the filters
    select; all in one transaction."""
    _batch(ctx, "reviewed", db, actor, reason, staged_ids, team=team, form=form, since=since, all_valid=all_valid)


@field_app.command("approve")
def field_approve(ctx: typer.Context, db: Db, actor: FieldActor, staged_ids: StagedIds = None,
                  reason: FieldReason = None, team: Team = None, form: Form = None, since: Since = None,
                  all_valid: AllValid = False) -> None:
    """Approve reviewed versions (the ids named, or every reviewed one the filters select; `--all-valid`: each that
    would apply): `sapper field apply` will write them to the register. One transaction."""
    _batch(ctx, "approved", db, actor, reason, staged_ids, team=team, form=form, since=since, all_valid=all_valid)


@field_app.command("reject")
def field_reject(ctx: typer.Context, db: Db, actor: FieldActor, staged_ids: StagedIds = None,
                 reason: FieldReason = None, team: Team = None, form: Form = None, since: Since = None) -> None:
    """Reject versions not applied yet (the ids named, or every open one the filters select; a reason is
    required); they are never applied. One transaction."""
    _batch(ctx, "rejected", db, actor, reason, staged_ids, team=team, form=form, since=since)


@field_app.command("apply")
def field_apply(ctx: typer.Context, db: Db) -> None:
    """Apply the latest approved version of each submission: progress reports, NTS and TS activities, accidents
    and the victims they record (encrypted with SAPPER_DATA_KEY)."""
    from sapper.services.datakeys import from_environment
    from sapper.services.fielddata import apply_approved
    from sapper.services.register import open_register

    cipher = from_environment()
    with open_register(settings(ctx, db=db)) as store:
        lines(apply_approved(store, cipher=cipher).lines())
