"""``sapper tasks`` (issue the latest plan's task orders for a period and write them for the teams) and
``sapper task-order …`` (list them, acknowledge, complete or cancel them, and see which a later plan changes)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from sapper.cli._options import Db, parse_day, settings
from sapper.cli._output import lines, localise, tr, tr_n
from sapper.cli.costs import PricingFile
from sapper.errors import Fault, ValidationError
from sapper.messages import msg

task_order_app = typer.Typer(
    no_args_is_help=True, help="Task orders given from a plan: list them, acknowledge, complete or cancel them.")

Actor = Annotated[str | None, typer.Option(
    "--actor", help="Who does it (a name or id), kept in the order's history; default: the login name.")]


#: The states of an order and the changes of its lots, as printed (their stable English values), marked for the
#: catalogues: said in the run's language.
WORDS: dict[str, str] = {w: w for w in (msg("issued"), msg("acknowledged"), msg("completed"), msg("cancelled"),
                                        msg("removed"), msg("unit_changed"), msg("dates_moved"), msg("finished"))}


def _word(value: str) -> str:
    """A state or change in the run's language."""
    return localise(WORDS.get(value, value))


def _actor(actor: str | None) -> str:
    if actor is not None:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise ValidationError(msg("task orders"), [Fault("--actor", msg("no login name: say who with --actor"))]
                              ) from None


def tasks(
    ctx: typer.Context,
    db: Db,
    team: Annotated[str | None, typer.Option("--team", help="The orders of this team or brigade (its id).")] = None,
    org: Annotated[str | None, typer.Option("--org", help="The orders of every team and brigade of this "
                                                          "organisation (its id or name).")] = None,
    all_units: Annotated[bool, typer.Option("--all", help="The orders of every team and brigade.")] = False,
    start: Annotated[str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD); default: the "
                                                             "plan's status date (its start, or a re-plan's as-of "
                                                             "date).")] = None,
    weeks: Annotated[int, typer.Option("--weeks", help="Length of the period in weeks (1 to 52).")] = 2,
    fmt: Annotated[str, typer.Option("--format", help="pdf, html, csv, kml or gpx.")] = "pdf",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files (one per team or brigade).")] = Path(
        "orders"),
    lang: Annotated[str | None, typer.Option("--lang", envvar="SAPPER_LANG",
                                             help="Language of PDF and HTML orders: en, uk or ru.")] = None,
    actor: Actor = None,
    pricing: PricingFile = None,
) -> None:
    """Issue the latest plan's task orders for a period (one per team or brigade and site; running it again issues
    nothing twice) and write each unit's orders: map, work, dates, access point, emergency information, forms."""
    from sapper.report.i18n import Lang
    from sapper.report.taskorders import FORMATS, write_orders
    from sapper.services.pricing import load_pricing
    from sapper.services.register import open_register
    from sapper.services.taskorders import OrderRequest, issue_orders

    kind = fmt.strip().lower()
    if kind not in FORMATS:
        raise ValidationError(msg("task orders"), [Fault("--format", msg("must be one of {allowed}, got {value}",
                                                                       allowed=", ".join(FORMATS), value=repr(fmt)))])
    language = Lang.parse(lang)
    request = OrderRequest(unit=team, organisation=org, all_units=all_units, start=parse_day("--from", start),
                           weeks=weeks)
    with open_register(settings(ctx, db=db)) as store:
        result = issue_orders(store, request, actor=_actor(actor), pricing=load_pricing(pricing))
    paths = write_orders(result, out_dir, kind, lang=language)
    report = [tr("plan run {plan}, {start} to {end}: {issued}, {kept}", plan=result.plan_id,
                 start=result.period_start.isoformat(), end=result.period_end.isoformat(),
                 issued=tr_n("{n} order issued", "{n} orders issued", result.new),
                 kept=tr_n("{n} already issued", "{n} already issued", result.kept))]
    for u in result.units:
        if u.sheets:
            numbers = ", ".join(s.order.number for s in u.sheets)
            report.append(tr_n("{unit}: {n} order ({new} new): {numbers}", "{unit}: {n} orders ({new} new): {numbers}",
                               len(u.sheets), unit=u.unit.id, new=u.new, numbers=numbers))
        elif u.next_lot is not None:
            report.append(tr("{unit}: no work in the period; next: {lot} from {day}", unit=u.unit.id,
                             lot=u.next_lot.task_id, day=u.next_lot.start_date.isoformat()))
        elif request.unit is not None:
            report.append(tr("{unit}: no work in the period, nor after it, in plan run {plan}", unit=u.unit.id,
                             plan=result.plan_id))
    for c in result.changed:
        report.append(tr_n("{number} ({unit}, {site}, plan run {old}) is changed by plan run {plan} ({n} lot: "
                           "{changes}); its lots are ordered anew: cancel it with sapper task-order cancel {number} "
                           "--reason ...",
                           "{number} ({unit}, {site}, plan run {old}) is changed by plan run {plan} ({n} lots: "
                           "{changes}); its lots are ordered anew: cancel it with sapper task-order cancel {number} "
                           "--reason ...", len(c.lots), number=c.number, unit=c.unit_id, site=c.site_id,
                           old=c.order_plan_id, plan=c.plan_id,
                           changes=", ".join(sorted({_word(x.change.value) for x in c.lots}))))
    report += [tr("wrote {path}", path=p) for p in paths]
    lines(report)


@task_order_app.command("list")
def task_order_list(
    ctx: typer.Context,
    db: Db,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's or brigade's orders.")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", help="Only orders in this state: issued, acknowledged, completed, cancelled.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: every lot and the whole history.")] = False,
) -> None:
    """List task orders: number, state, unit, site, dates, plan run, and the field reports applied under each."""
    from sapper.services.register import open_register
    from sapper.services.taskorders import Reported, list_orders, order_to_json, reported_to_json, reported_under

    with open_register(settings(ctx, db=db)) as store:
        orders = list_orders(store, unit=team, state=state)
        reported = reported_under(store)
    if as_json:
        print(json.dumps([order_to_json(o) | {"reported": reported_to_json(reported.get(o.number, Reported()))}
                          for o in orders], indent=1, ensure_ascii=False))
        return
    if not orders:
        lines([tr("no task orders matching the filters") if team or state else tr("no task orders")])
        return

    def said(number: str) -> str:
        r = reported.get(number)
        if r is None or r.last_day is None:
            return "-"
        return tr_n("{n} report to {day}", "{n} reports to {day}", r.reports, day=r.last_day.isoformat())

    head = (tr("order"), tr("state"), tr("unit"), tr("site"), tr("from"), tr("to"), tr("plan"), tr("reported"))
    lines([f"{head[0]:<13} {head[1]:<12} {head[2]:<12} {head[3]:<10} {head[4]:<10} {head[5]:<10} {head[6]:<5} "
           f"{head[7]}"])
    lines([f"{o.number:<13} {o.state.value:<12} {o.unit_id:<12} {o.site_id:<10} {o.start.isoformat():<10} "
           f"{o.end.isoformat():<10} {o.plan_run_id:<5} {said(o.number)}" for o in orders])


Orders = Annotated[list[str], typer.Argument(help="Order numbers (TO-2026-0001); several in one command.",
                                             show_default=False)]
Reason = Annotated[str | None, typer.Option("--reason", help="Why; kept in the history. Needed to cancel.")]


def _change(ctx: typer.Context, db: str, numbers: list[str], to_state: str, actor: str | None,
            reason: str | None) -> None:
    from sapper.services.register import open_register
    from sapper.services.taskorders import OrderState, change_state

    with open_register(settings(ctx, db=db)) as store:
        done = change_state(store, numbers, OrderState(to_state), actor=_actor(actor), reason=reason or "")
    lines([tr("task order {number} ({unit}, {site}) is now {state}", number=o.number, unit=o.unit_id, site=o.site_id,
              state=_word(o.state.value)) for o in done])


@task_order_app.command("ack")
def task_order_ack(ctx: typer.Context, db: Db, numbers: Orders, actor: Actor = None, reason: Reason = None) -> None:
    """Record that the team leader received issued orders (all in one transaction)."""
    _change(ctx, db, numbers, "acknowledged", actor, reason)


@task_order_app.command("complete")
def task_order_complete(ctx: typer.Context, db: Db, numbers: Orders, actor: Actor = None,
                        reason: Reason = None) -> None:
    """Record that acknowledged orders were carried out (all in one transaction)."""
    _change(ctx, db, numbers, "completed", actor, reason)


@task_order_app.command("cancel")
def task_order_cancel(ctx: typer.Context, db: Db, numbers: Orders, actor: Actor = None,
                      reason: Reason = None) -> None:
    """Cancel orders not completed (a reason is required; all in one transaction)."""
    _change(ctx, db, numbers, "cancelled", actor, reason)


@task_order_app.command("changes")
def task_order_changes(
    ctx: typer.Context,
    db: Db,
    plan: Annotated[int | None, typer.Option("--plan", help="The plan run to compare with (default: the latest).")
                    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: every changed lot, old and new.")] = False,
) -> None:
    """The orders in force that a plan (default: the latest, e.g. after a re-plan) changes compared with the plan
    each was issued from: lots removed, given to another unit, or moved."""
    from sapper.services.register import open_register
    from sapper.services.taskorders import change_to_json, orders_affected

    with open_register(settings(ctx, db=db)) as store:
        changes = orders_affected(store, plan)
    if as_json:
        print(json.dumps([change_to_json(c) for c in changes], indent=1, ensure_ascii=False))
        return
    if not changes:
        lines([tr("no order in force is changed by the plan")])
        return
    for c in changes:
        lines([tr("{number} ({unit}, {site}): plan run {old} → {plan}", number=c.number, unit=c.unit_id,
                  site=c.site_id, old=c.order_plan_id, plan=c.plan_id)])
        lines([f"  {x.task_id}: {_word(x.change.value)}: {x.old_unit} {x.old_start}–{x.old_end}"
               + (f" → {x.new_unit} {x.new_start}–{x.new_end}" if x.new_start else "") for x in c.lots])
