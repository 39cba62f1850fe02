"""Commands of the web service: ``sapper serve``, ``sapper org add``, ``sapper user add``, ``sapper user token``.

Each command parses, calls one service, prints. Errors are SapperErrors, printed as one line by ``cli.main``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sapper.cli._options import Db, settings
from sapper.cli._output import error_line, lines, tr, tr_n
from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.services.roles import TOKEN_DAYS, Role

org_app = typer.Typer(no_args_is_help=True, help="Organisations (the national authority sees every organisation's "
                                                 "records).")
user_app = typer.Typer(no_args_is_help=True, help="Users of the web service and their API tokens.")



def serve(
    ctx: typer.Context,
    db: Db,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 1,
    threads: Annotated[int, typer.Option("--threads", help="Requests each worker process runs at once (at most "
                                                           "20).")] = 16,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="A line per request on standard output.")] = True,
    dev: Annotated[bool, typer.Option("--dev", help="Development only: start without a real data key "
                                                    "(SAPPER_DEV=1 does the same).")] = False,
) -> None:
    """Serve the store as OGC API – Features and the REST API (see docs/api.md). Needs the data key of victims'
    personal data in SAPPER_DATA_KEY (docs/security.md) unless --dev."""
    from sapper.api.serving import serve as run  # the server extra, only when serving

    if workers < 1:
        raise ValidationError(msg("serve"), [Fault(msg("serve"), msg("--workers {n} is less than 1", n=workers),
                                                   "workers")])
    if not 1 <= threads <= 20:
        raise ValidationError(msg("serve"), [Fault(msg("serve"), msg("--threads {n} is not between 1 and 20",
                                                                     n=threads),
                                              "threads")])
    s = settings(ctx, db=db)
    run(db, host=host, port=port, workers=workers, threads=threads, access_log=access_log, data_key=s.data_key,
        development=dev or s.development)


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The organisation's id (also its name unless "
                                                             "--title is given).")],
    db: Db,
    authority: Annotated[bool, typer.Option("--authority", help="The national authority: sees every "
                                                                "organisation's records.")] = False,
    title: Annotated[str | None, typer.Option("--title", help="The organisation's full name.")] = None,
) -> None:
    """Add an organisation."""
    from sapper.services import accounts
    from sapper.services.register import open_register

    kind = accounts.OrgKind.AUTHORITY if authority else accounts.OrgKind.OPERATOR
    with open_register(settings(ctx, db=db)) as store:
        org = accounts.add_organisation(store, name, name=title, kind=kind, authority=authority)
    lines([tr("organisation {org} added (national authority)", org=org.id) if authority else
           tr("organisation {org} added", org=org.id)])


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The user's sign-in name.")],
    db: Db,
    role: Annotated[Role, typer.Option("--role", help="admin, im-officer, planner, field or viewer.")],
    org: Annotated[str, typer.Option("--org", help="The user's organisation.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line "
                                                                          "of standard input.")] = False,
) -> None:
    """Add a user (the password is argon2-hashed; it is read from standard input, never from an argument)."""
    if not password_stdin:
        raise ValidationError(f"user {name}", [Fault(f"user {name}", msg("give the password on standard input with "
                                                                          "--password-stdin"), "password")])
    from sapper.services import accounts
    from sapper.services.register import open_register

    password = sys.stdin.readline().rstrip("\r\n")
    with open_register(settings(ctx, db=db)) as store:
        user = accounts.add_user(store, name, role=role, organisation_id=org, password=password)
    lines([tr("user {name} added ({role}, {org})", name=user.name, role=user.role.value, org=user.organisation_id)])


@user_app.command("token")
def user_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The user the token is for.")],
    db: Db,
    days: Annotated[int, typer.Option("--days", help="Days until the token expires.")] = TOKEN_DAYS,
) -> None:
    """Print a new API token for a user (shown once; only its hash is stored)."""
    from sapper.services import accounts
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        issued = accounts.issue_token(store, name, days=days)
    typer.echo(issued.token)
    error_line(tr("expires {at}", at=issued.expires_at.isoformat(timespec="seconds")))




@user_app.command("revoke")
def user_revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The user whose tokens are revoked.")],
    db: Db,
) -> None:
    """Revoke every live API token of a user (refused on their next request; a lost or leaked token)."""
    from sapper.services import accounts
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        accounts.require_user(store, name)
        count = accounts.revoke_tokens(store, name)
    lines([tr_n("{n} token of {name} revoked", "{n} tokens of {name} revoked", count, name=name)])
