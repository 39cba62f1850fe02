"""Copy a whole register from one store into another, across backends (GeoPackage file ↔ PostGIS database).

The copy itself happens table by table inside ``sapper.store`` (``Store.copy_into``: one snapshot read, one
transaction on the target, ids, fids and row versions kept, PostgreSQL sequences moved past them); this service
opens the stores, refuses a target that holds anything, and reports rows per table on both sides so a caller (the
CLI's ``sapper copy``, a script) can show that nothing was lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sapper.errors import StoreError
from sapper.messages import msg
from sapper.store import Store, open_store


@dataclass(frozen=True, slots=True)
class TableCount:
    """Rows of one table in the source and, after the copy, in the target."""

    table: str
    source_rows: int
    target_rows: int

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What a copy did: where from, where to (passwords hidden), and rows per table on both sides."""

    source: str
    target: str
    tables: tuple[TableCount, ...]

    @property
    def complete(self) -> bool:
        """Whether every table has as many rows in the target as in the source."""
        return all(t.equal for t in self.tables)

    @property
    def rows(self) -> int:
        """Rows copied, all tables together."""
        return sum(t.target_rows for t in self.tables)

    def lines(self) -> list[str]:
        """One line per table that holds rows, then a total (for the command line)."""
        out = [f"{t.table}: {t.target_rows}" + ("" if t.equal else f" (source has {t.source_rows})")
               for t in self.tables if t.source_rows or t.target_rows]
        out.append(f"copied {self.rows} rows from {self.source} to {self.target}")
        return out


def copy_store(source: Store, target: Store) -> CopyReport:
    """Copy everything in ``source`` into ``target`` (new or empty, either backend), in one transaction.

    StoreError when ``target`` holds any row or is ``source``; on any failure nothing is written to ``target``.
    The report counts the rows of each table on both sides after the copy.
    """
    copied = source.copy_into(target)
    before, after = source.counts(), target.counts()
    tables = tuple(TableCount(name, before[name], after[name]) for name in sorted(copied))
    report = CopyReport(source.url, target.url, tables)
    if not report.complete:  # pragma: no cover - the copy is one transaction; this would be a sapper bug
        raise StoreError("the copy is incomplete: " + "; ".join(report.lines()))
    return report


def copy_register(source: str | Path, target: str | Path) -> CopyReport:
    """Open the store ``source`` and the (new or empty) store ``target``, creating it, and copy one into the other.

    Both are a file path or a ``postgresql://`` URL; see :func:`copy_store`.
    """
    with open_store(source) as src, open_store(target, create=True) as dst:
        return copy_store(src, dst)


def init_store(target: str | Path, *, start_date: dt.date | None = None) -> str:
    """Create a new, empty store at ``target`` (a file path that must not exist, or a ``postgresql://`` URL of a
    database that is missing or empty); returns what it is, for a message (a URL's password hidden).

    ``start_date`` is the programme's first day, recorded in the store: plans start there (not on the day they are
    made) until a plan or re-plan says otherwise.

    StoreError when the file exists or the database already holds a sapper store with rows.
    """
    if not isinstance(target, str) or "://" not in target:
        path = Path(target).expanduser()
        if path.exists():
            raise StoreError(msg("{path} already exists; sapper init does not overwrite a file", path=path))
    with open_store(target, create=True) as store:
        held = {name: n for name, n in store.counts().items() if n}
        if held:
            raise StoreError(msg("{url} already holds a sapper store with records; sapper init does not touch it",
                                 url=store.url))
        if start_date is not None:
            store.set_meta({"start_date": start_date.isoformat()})
        return store.url
