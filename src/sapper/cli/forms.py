"""``sapper forms write``: the XLSForm templates for field data collection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sapper.cli._output import lines

forms_app = typer.Typer(no_args_is_help=True, help="XLSForm templates for field data collection (ODK, Kobo).")


@forms_app.command("write")
def forms_write(
    dir: Annotated[Path, typer.Argument(help="Folder to write the templates into; created if needed.")],
    form: Annotated[
        str | None, typer.Option(help="Only this template: nts, ts, clearance, accident or brigade.")
    ] = None,
) -> None:
    """Write the XLSForm templates (NTS, TS, clearance progress, accident, brigade progress) into a folder."""
    from sapper.services.forms import write_templates

    lines(f"wrote {path}" for path in write_templates(dir, form))
