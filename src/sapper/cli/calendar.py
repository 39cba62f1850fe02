"""``sapper calendar``: the programme's working week, holidays and seasonal stand-downs, shown and changed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Db, parse_day, settings
from sapper.cli._output import lines
from sapper.messages import msg

if TYPE_CHECKING:
    from sapper.services.calendar import CalendarChange

calendar_app = typer.Typer(no_args_is_help=True, help="The programme's working calendar: working week, holidays, "
                                                      "stand-downs (used by plan, replan and forecast).")

_AFTER = msg("the saved plan is unchanged: sapper plan or sapper replan plans with the new calendar")


def _done(change: CalendarChange) -> None:
    from sapper.services.calendar import calendar_lines

    lines([change.did, *calendar_lines(change.calendar), _AFTER])


@calendar_app.command("show")
def calendar_show(
    ctx: typer.Context,
    db: Db,
    as_json: Annotated[bool, typer.Option("--json", help="Print the calendar as JSON.")] = False,
) -> None:
    """Show the working week, the stand-downs of deminers and builders, and the holidays."""
    from sapper.services.calendar import calendar_json, calendar_lines, show
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        cal = show(store)
    if as_json:
        print(json.dumps(calendar_json(cal), indent=1, ensure_ascii=False))
    else:
        lines(calendar_lines(cal))


@calendar_app.command("set-week")
def calendar_set_week(
    ctx: typer.Context,
    days: Annotated[str, typer.Argument(help="Working days: mon-sat, mon-fri, sun-thu, or mon,tue,thu (English).")],
    db: Db,
) -> None:
    """Set the working days of the week."""
    from sapper.services.calendar import set_week
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        _done(set_week(store, days))


@calendar_app.command("add-holiday")
def calendar_add_holiday(
    ctx: typer.Context,
    day: Annotated[str, typer.Argument(help="The holiday (YYYY-MM-DD), or the first day of a run of them.")],
    db: Db,
    to: Annotated[str | None, typer.Option("--to", help="The last day of a run of holidays (YYYY-MM-DD).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="What the day is, e.g. \"Independence Day\".")] = None,
) -> None:
    """Add a holiday (or every day from DAY to --to): nobody works that day."""
    from sapper.errors import Fault, ValidationError
    from sapper.messages import msg
    from sapper.services.calendar import add_holidays
    from sapper.services.register import open_register

    first = parse_day("DAY", day)
    if first is None:
        raise ValidationError("DAY", [Fault("DAY", msg("an empty day is not a date YYYY-MM-DD"))])
    with open_register(settings(ctx, db=db)) as store:
        _done(add_holidays(store, first, last=parse_day("--to", to), name=name or ""))


@calendar_app.command("add-standdown")
def calendar_add_standdown(
    ctx: typer.Context,
    db: Db,
    group: Annotated[str, typer.Option("--for", help="deminers or builders.")],
    start: Annotated[str, typer.Option("--from", help="First day of the window, MM-DD (e.g. 12-01).")],
    end: Annotated[str, typer.Option("--to", help="Last day of the window, MM-DD (e.g. 03-15); may wrap over New "
                                                  "Year.")],
) -> None:
    """Set the seasonal stand-down of deminers or builders (every year, from --from to --to), replacing theirs."""
    from sapper.services.calendar import set_stand_down
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        _done(set_stand_down(store, group, start, end))


@calendar_app.command("remove")
def calendar_remove(
    ctx: typer.Context,
    db: Db,
    holiday: Annotated[str | None, typer.Option("--holiday", help="Remove this holiday (YYYY-MM-DD) ...")] = None,
    to: Annotated[str | None, typer.Option("--to", help="... and every holiday up to this day (YYYY-MM-DD).")] = None,
    standdown: Annotated[
        str | None, typer.Option("--standdown", help="Lift the stand-down of deminers or builders.")
    ] = None,
) -> None:
    """Remove holidays (--holiday DAY [--to DAY]) or lift a group's stand-down (--standdown deminers|builders)."""
    from sapper.errors import Fault, ValidationError
    from sapper.messages import msg
    from sapper.services.calendar import remove_holidays, remove_stand_down
    from sapper.services.register import open_register

    if (holiday is None) == (standdown is None) or (to is not None and holiday is None):
        raise ValidationError(msg("calendar remove"), [Fault(msg("calendar remove"), msg(
            "give either --holiday DAY [--to DAY] or --standdown deminers|builders"), "holiday")])
    first = parse_day("--holiday", holiday)
    with open_register(settings(ctx, db=db)) as store:
        if first is not None:
            _done(remove_holidays(store, first, last=parse_day("--to", to)))
        else:
            _done(remove_stand_down(store, standdown or ""))
