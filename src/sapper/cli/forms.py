"""``sapper forms write``: the XLSForm templates for field data collection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sapper.cli._options import settings
from sapper.cli._output import lines, tr, tr_n

forms_app = typer.Typer(no_args_is_help=True, help="XLSForm templates for field data collection (ODK, Kobo).")


@forms_app.command("write")
def forms_write(
    ctx: typer.Context,
    dir: Annotated[Path, typer.Argument(help="Folder to write the templates into; created if needed.")],
    form: Annotated[
        str | None, typer.Option(help="Only this template: nts, ts, clearance, accident or brigade.")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="A register: organisation, team, brigade, hazard-area, asset and "
                                              "task-order questions pick from its lists (CSV attachments written "
                                              "beside the forms) instead of free text.")
    ] = None,
) -> None:
    """Write the XLSForm templates (NTS, TS, clearance progress, accident, brigade progress) into a folder; with
    --db, forms that pick ids from the register's lists."""
    if db is None:
        from sapper.services.forms import write_templates

        lines(tr("wrote {path}", path=path) for path in write_templates(dir, form))
        return
    from sapper.services.forms import write_register_forms_from
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        done = write_register_forms_from(store, dir, form)
    lines(tr_n("wrote {path} ({n} row)", "wrote {path} ({n} rows)", done.list_rows[path.name], path=path)
          if path.name in done.list_rows else tr("wrote {path}", path=path) for path in done.paths)
    lines(tr("note: {note}", note=n) for n in done.notes)
