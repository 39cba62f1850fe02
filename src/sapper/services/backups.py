"""Backup and restore of a whole store (``sapper backup`` / ``sapper restore``); see sapper.store.backup for how
each backend does it. A restore ends by opening the restored store (which upgrades an older schema and refuses a
file that is not a sapper store) and reporting its rows per table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sapper.store import backup as backups
from sapper.store import open_store


@dataclass(frozen=True, slots=True)
class BackupDone:
    out: Path
    size_bytes: int


@dataclass(frozen=True, slots=True)
class RestoreDone:
    target: str
    revision: str | None
    counts: dict[str, int]


def backup(db: str, out: Path) -> BackupDone:
    """Back the store ``db`` up into the file ``out`` (complete, or not written at all)."""
    backups.backup_store(db, out)
    return BackupDone(out, out.stat().st_size)


def restore(backup_file: Path, db: str, *, replace: bool = False) -> RestoreDone:
    """Restore ``backup_file`` into the store ``db`` (new or empty; over an existing store only with ``replace``)."""
    backups.restore_store(backup_file, db, replace=replace)
    with open_store(db) as store:
        return RestoreDone(store.url, store.revision(), {k: n for k, n in store.counts().items() if n})
