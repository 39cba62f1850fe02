"""Keeping the register safe: ``sapper backup``, ``sapper restore``, ``sapper audit``, ``sapper keys rotate`` and
``sapper grant-service-role``.

Each command parses, calls one service, prints. Errors are SapperErrors, printed as one line by ``cli.main``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sapper.cli._options import AsJson, Db, settings
from sapper.cli._output import lines, tr, tr_n

keys_app = typer.Typer(no_args_is_help=True, help="The data key that encrypts victims' personal data.")


def backup(
    ctx: typer.Context,
    db: Db,
    out: Annotated[Path, typer.Option("--out", help="The backup file to write (replaced only once complete).")],
) -> None:
    """Back a store up into one file, while the service may go on writing (SQLite online backup; pg_dump)."""
    from sapper.services import backups

    done = backups.backup(settings(ctx, db=db).db or "", out)
    lines([tr_n("backed up to {path} ({size} byte)", "backed up to {path} ({size} bytes)", done.size_bytes,
                path=done.out, size=f"{done.size_bytes:,}")])


def restore(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--from", help="A backup file written by `sapper backup`.")],
    db: Db,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite the store at --db (otherwise it must be a "
                                                            "new file or an empty database).")] = False,
) -> None:
    """Restore a backup into a new store (or over one, with --replace) and say what it holds."""
    from sapper.services import backups

    done = backups.restore(source, settings(ctx, db=db).db or "", replace=replace)
    lines([tr("restored {source} into {target} (schema revision {revision})", source=source, target=done.target,
              revision=done.revision),
           *(f"{name:>28}: {n}" for name, n in done.counts.items())])


def audit(
    ctx: typer.Context,
    db: Db,
    record: Annotated[str, typer.Option("--record", help="The record's id (a hazard area, activity, accident, "
                                                         "victim, asset, submission…).")],
    table: Annotated[str | None, typer.Option("--table", help="Only this table (e.g. hazard_areas, victims).")] = None,
    as_json: AsJson = False,
) -> None:
    """The audit trail of one record, oldest first: who, when, what, why."""
    from sapper.services import audit as audit_service
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        found = audit_service.trail(store, record, table=table)
    if as_json:
        print(json.dumps([{"id": e.id, "at": e.at, "actor": e.actor, "organisation_id": e.organisation_id,
                           "table": e.table_name, "record": e.record_id, "action": e.action, "reason": e.reason,
                           "before": None if e.before_json is None else json.loads(e.before_json),
                           "after": None if e.after_json is None else json.loads(e.after_json)} for e in found],
                         indent=1, ensure_ascii=False))
        return
    if not found:
        lines([tr("no audit rows for record {record} in {table}", record=record, table=table) if table else
               tr("no audit rows for record {record}", record=record)])
        return
    lines(f"{e.at}  {e.table_name}/{e.record_id}  {e.action:<6}  {e.actor}"
          + (f" ({e.organisation_id})" if e.organisation_id else "") + (f"  — {e.reason}" if e.reason else "")
          for e in found)


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    db: Db,
    old: Annotated[str, typer.Option("--old", envvar="SAPPER_OLD_DATA_KEY", help="The key the victims are "
                                     "encrypted with now (base64; better from SAPPER_OLD_DATA_KEY than on the "
                                     "command line).")],
    new: Annotated[str, typer.Option("--new", envvar="SAPPER_NEW_DATA_KEY", help="The new key (base64, 32 "
                                     "bytes; better from SAPPER_NEW_DATA_KEY).")],
) -> None:
    """Re-encrypt every victim from the old data key to the new one, in one transaction (all or nothing)."""
    from sapper.services import datakeys
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        done = datakeys.rotate(store, old=old, new=new)
    by_key = ", ".join(f"{k}: {n}" for k, n in sorted(done.by_key.items())) or tr("no victims")
    lines([tr_n("re-encrypted {n} victim from key {old} to key {new} (victims per key now: {by_key}); set "
                "SAPPER_DATA_KEY to the new key",
                "re-encrypted {n} victims from key {old} to key {new} (victims per key now: {by_key}); set "
                "SAPPER_DATA_KEY to the new key", done.reencrypted, old=done.old_key_id, new=done.new_key_id,
                by_key=by_key)])


def grant_service_role(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="The database role the web service connects as (it must exist).")],
    db: Db,
) -> None:
    """Let a PostgreSQL role that does not own the tables run the web service: read and write sapper's tables and
    sequences, bound by row-level security. Run it as the owner, after `sapper init` or an upgrade."""
    from sapper.services import register

    with register.open_register(settings(ctx, db=db)) as store:
        register.grant_service_role(store, role)
    lines([tr("{role} may now run the web service on {url}; connect `sapper serve --db` as {role}", role=role,
              url=store.url)])
