"""The XLSForm templates sapper ships for field data collection (ODK, Kobo), written out for a field team."""

from __future__ import annotations

from pathlib import Path

from sapper.io.xlsform import copy_templates


def write_templates(directory: Path, form: str | None = None) -> list[Path]:
    """Write the template ``form`` (nts, ts, clearance, accident or brigade; all when None) into ``directory``,
    created if needed; the files written. NotFoundError for an unknown form, ImportFileError when ``directory`` is a
    file."""
    return copy_templates(directory, [form] if form else None)
