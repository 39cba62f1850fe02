"""Backing a store up to one file and restoring it (``sapper backup`` / ``sapper restore``), and the per-table
digests that prove a restore holds what was backed up.

- **SQLite/GeoPackage**: SQLite's online backup API (``sqlite3.Connection.backup``) copies every page of one
  consistent snapshot while the service goes on writing (WAL: the backup reads one snapshot, writers are not
  blocked). The copy is written beside the destination and renamed into place once ``PRAGMA integrity_check`` is
  ``ok``, so a failed backup leaves no half-written file. A restore copies the backup into the store with the same
  API (one transaction on the destination: readers see the old store or the restored one, never a mix).
- **PostgreSQL/PostGIS**: ``pg_dump -Fc`` (one consistent snapshot; custom format) and ``pg_restore
  --single-transaction --exit-on-error`` into a new or empty database (created if missing), or over the store's
  own tables with ``replace`` (``--clean --if-exists``, still one transaction). The client programs come with
  PostgreSQL (``postgresql-client``); without them the error says so in one line. The password goes to them in
  ``PGPASSWORD``, never on the command line.

A backup is a copy of the store: victims stay ciphertext in it (and need the same data key after a restore).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from sapper.errors import NotFoundError, StoreError
from sapper.messages import msg
from sapper.store import engine as engines

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"


@dataclass(frozen=True, slots=True)
class TableDigest:
    """A table's row count and the SHA-256 of its rows (sorted, so independent of physical order)."""

    rows: int
    sha256: str


def digests(engine: Engine) -> dict[str, TableDigest]:
    """Every table of the database ``engine`` opens (sapper's, GeoPackage's, R-trees, Alembic's; on PostgreSQL
    the ``public`` schema), each with its row count and content hash."""
    with engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {name: _digest(conn, name) for name in names}


def _digest(conn: Connection, table: str) -> TableDigest:
    quoted = conn.dialect.identifier_preparer.quote(table)
    rows = sorted(repr(tuple(r)) for r in conn.execute(text(f"SELECT * FROM {quoted}")))
    h = hashlib.sha256()
    for r in rows:
        h.update(r.encode("utf-8"))
        h.update(b"\n")
    return TableDigest(len(rows), h.hexdigest())


def _kind_of(file: Path) -> engines.Backend:
    with file.open("rb") as f:
        head = f.read(16)
    if head.startswith(_SQLITE_MAGIC):
        return engines.Backend.SQLITE
    if head.startswith(_PG_MAGIC):
        return engines.Backend.POSTGRESQL
    raise StoreError(msg("{file} is not a sapper backup (neither a SQLite file nor a pg_dump custom-format archive)",
                         file=file))


def _temp_beside(out: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    return Path(name)


def _check_out(out: Path) -> None:
    if not out.parent.is_dir():
        raise NotFoundError(msg("cannot write the backup {out}: the folder {parent} does not exist",
                                out=out, parent=out.parent))
    if out.is_dir():
        raise StoreError(msg("{out} is a folder: give the backup a file name", out=out))


def backup(target: engines.Target, out: Path) -> None:
    """Write a backup of the store ``target`` to ``out`` (replaced only once the backup is complete)."""
    _check_out(out)
    part = _temp_beside(out)
    try:
        if target.backend is engines.Backend.SQLITE:
            assert target.path is not None
            _sqlite_copy(target.path, part)
        else:
            _pg_dump(target, part)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)


def _sqlite_copy(source: Path, dest: Path) -> None:
    if not source.is_file():
        raise NotFoundError(msg("no store at {source}", source=source))
    # A read-write connection (that only reads): a read-only one would leave the store's -wal and -shm behind.
    src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=engines.BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # pages=-1: every page in one step, from one snapshot
        dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        found = dst.execute("PRAGMA integrity_check").fetchone()
        if found is None or found[0] != "ok":
            raise StoreError(msg("the copy of {source} fails its integrity check: {reason}",
                                 source=source, reason=found[0] if found else msg("no answer")))
    except sqlite3.DatabaseError as exc:
        raise StoreError(msg("cannot copy {source}: {reason}",
                             source=source, reason=str(exc).strip().splitlines()[0])) from None
    finally:
        dst.close()
        src.close()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StoreError(f"{name} is not installed: PostgreSQL backups need the PostgreSQL client programs "
                         "(e.g. apt install postgresql-client)")
    return found


def _libpq(target: engines.Target, database: str | None = None) -> tuple[str, dict[str, str]]:
    """The libpq URL (without the password) and the environment carrying the password."""
    assert target.url is not None
    url = target.url.set(drivername="postgresql", password=None)
    if database is not None:
        url = url.set(database=database)
    env = dict(os.environ)
    if target.url.password:
        env["PGPASSWORD"] = str(target.url.password)
    return url.render_as_string(hide_password=False), env


def _run(target: engines.Target, args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        first = target.scrub(lines[0] if lines else f"exit code {done.returncode}")
        raise StoreError(msg("{what} failed: {reason}", what=what, reason=first))


def _pg_dump(target: engines.Target, out: Path) -> None:
    url, env = _libpq(target)
    _run(target, [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={out}",
                  f"--dbname={url}"], env, f"pg_dump of {target.display}")


def restore(backup_file: Path, target: engines.Target, *, replace: bool = False) -> None:
    """Restore ``backup_file`` into the store ``target`` (a new file or empty database, or, with ``replace``, over
    the store there). StoreError when the backup's kind does not match the target's, or the target holds a store
    and ``replace`` is not given."""
    if not backup_file.is_file():
        raise NotFoundError(msg("no backup at {backup_file}", backup_file=backup_file))
    kind = _kind_of(backup_file)
    if kind is not target.backend:
        raise StoreError(f"{backup_file} is a {kind.value} backup and {target.display} is a {target.backend.value} "
                         "store: restore it into a store of its own kind (then `sapper copy` across)")
    if kind is engines.Backend.SQLITE:
        assert target.path is not None
        _sqlite_restore(backup_file, target.path, replace=replace)
    else:
        _pg_restore(backup_file, target, replace=replace)


def _sqlite_restore(backup_file: Path, dest: Path, *, replace: bool) -> None:
    if dest.exists() and not replace:
        raise StoreError(msg("{dest} exists: restore into a new path, or give --replace to overwrite the store there",
                             dest=dest))
    if not dest.parent.is_dir():
        raise NotFoundError(msg("cannot restore to {dest}: the folder {parent} does not exist",
                                dest=dest, parent=dest.parent))
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dst = sqlite3.connect(dest, timeout=engines.BUSY_TIMEOUT_MS / 1000)
    try:
        found = src.execute("PRAGMA integrity_check").fetchone()
        if found is None or found[0] != "ok":
            raise StoreError(msg("{backup_file} fails its integrity check: {reason}",
                                 backup_file=backup_file, reason=found[0] if found else msg("no answer")))
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as exc:
        raise StoreError(msg("cannot restore {backup_file}: {reason}",
                             backup_file=backup_file, reason=str(exc).strip().splitlines()[0])) from None
    finally:
        dst.close()
        src.close()


def _pg_restore(backup_file: Path, target: engines.Target, *, replace: bool) -> None:
    assert target.url is not None
    tool = _tool("pg_restore")
    engine = engines.make_engine(target)
    try:
        try:
            with engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
        except Exception as exc:  # the database does not exist (any driver error): make it
            if f'database "{target.url.database}" does not exist' not in str(exc):
                raise StoreError(f"cannot reach {target.display}: {target.scrub(str(exc)).splitlines()[0]}") \
                    from None
            engine.dispose()
            engines.create_database(target.url)
            tables = set()
    finally:
        engine.dispose()
    if tables - {"spatial_ref_sys"} and not replace:
        raise StoreError(f"{target.display} holds tables: restore into a new or empty database, or give --replace "
                         "to overwrite the store there")
    url, env = _libpq(target)
    args = [tool, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", f"--dbname={url}"]
    if replace and tables:
        args += ["--clean", "--if-exists"]
    _run(target, [*args, str(backup_file)], env, f"pg_restore into {target.display}")


def backup_store(db: str | Path, out: Path) -> None:
    """:func:`backup` of the store ``db`` names (a file path or a postgresql:// URL)."""
    target = engines.parse_target(db)
    if target.backend is engines.Backend.SQLITE:
        assert target.path is not None
        _check_is_store(target.path)
    backup(target, out)


def restore_store(backup_file: Path, db: str | Path, *, replace: bool = False) -> None:
    """:func:`restore` into the store ``db`` names."""
    restore(backup_file, engines.parse_target(db), replace=replace)


def store_digests(db: str | Path) -> dict[str, TableDigest]:
    """:func:`digests` of the store ``db`` names (a file is opened read-only: a backup file stays as it is)."""
    target = engines.parse_target(db)
    if target.backend is engines.Backend.SQLITE:
        assert target.path is not None
        if not target.path.is_file():
            raise NotFoundError(msg("no store at {path}", path=target.path))
        engine = create_engine("sqlite+pysqlite:///", creator=lambda: sqlite3.connect(
            f"file:{target.path}?mode=ro", uri=True, check_same_thread=False))
    else:
        engine = engines.make_engine(target)
    try:
        return digests(engine)
    finally:
        engine.dispose()


def _check_is_store(path: Path) -> None:
    if not path.exists():
        raise NotFoundError(msg("no store at {path}", path=path))
    found = engines.probe(path)
    if found.kind != "sapper":
        raise StoreError(msg("{path} is not a sapper store: {reason}", path=path, reason=found.reason))
