"""Benchmark (issue 16, item 3): ``kill -9`` at random moments during a 10,000-feature import and during a plan
save leaves no partial import or plan, a sound SQLite file, and a re-run that completes the work.

    .venv/bin/python benchmarks/reliability_crash.py [--runs 50] [--features 10000] [--plan-hazards 2000]
                                                    [--seed 2026] [--backend sqlite|postgis]
                                                    [--write docs/reliability.md]

Two real processes are killed, each on a real GeoPackage file (a fresh copy of a prepared store per run):

* ``sapper import hazards FILE --db STORE``: a GeoJSON of ``--features`` hazard areas (synthetic squares near
  Sudzha, fixed seed) into a store holding one earlier hazard area;
* ``sapper plan --db STORE --engine greedy``: a register of ``--plan-hazards`` hazard areas and the examples' teams
  (``examples/teams.csv``) that already holds one plan; the plan is saved in one transaction.

One uninterrupted run of each first gives the reference: how long the command takes, when its write transaction
holds the store's write lock, and what it stores. Then ``--runs`` runs of each: the odd ones are killed at a moment
drawn uniformly over the command's whole reference duration; the even ones wait until the command holds the write
lock with rows in the WAL and are killed a moment drawn uniformly over the reference's write window later (so half
the kills land inside, or just after, the write transaction). After each kill, straight on the file: ``PRAGMA
integrity_check`` is ``ok``; ``PRAGMA foreign_key_check`` finds nothing; the import is all or nothing (the 10,000
ids all there or none, the earlier record kept); every plan holds all its tasks (as many as the reference's plan) and
there is the earlier plan or that and one new one. Then the command is run again (the import with
``--skip-existing``, as docs/cli.md says to after a crash) and the store must equal the uninterrupted reference (the
hazard rows; the newest plan's tasks), and the import run a third time must import 0 and skip every feature.

With ``--backend postgis`` the same two commands write to a PostGIS database (``--pg`` or ``SAPPER_TEST_PG``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; each run gets a throwaway database copied from a prepared one,
dropped afterwards). The client process is killed; the server stays up and must roll the open transaction back. "Mid
write" then means a backend of the run's database holds a transaction id (it has written) and a row lock on a table;
integrity is ``amcheck``'s ``bt_index_check`` on every B-tree index of the database, and the foreign keys are
re-checked row by row from the catalogue (every child value has its parent), although the server enforces them.

With ``--write`` the section between the markers below is replaced in that file; the JSON goes to
``benchmarks/results/reliability_crash.json``. ``tests/services/test_crash_atomicity.py`` runs three kills of each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sapper.domain.resources import OrgKind
from sapper.plan import Engine
from sapper.services import accounts, imports
from sapper.services.copy import init_store
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, machine, write_section

BEGIN, END = "<!-- reliability-crash:begin -->", "<!-- reliability-crash:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "reliability_crash.json"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SAPPER = [sys.executable, "-c", "from sapper.cli import main; main()"]


def sapper(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*SAPPER, *map(str, args)], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, timeout=900
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"sapper {' '.join(map(str, args))} exited {done.returncode}: {done.stderr.strip()}")
    return done


def hazards_geojson(path: Path, n: int, *, seed: int, prefix: str = "CR") -> set[str]:
    """``n`` hazard areas (small squares on a jittered grid near Sudzha, none sharing a geometry) as GeoJSON."""
    rng = random.Random(seed)
    side = max(1, int(n**0.5) + 1)
    features = []
    for i in range(n):
        x = 35.15 + (i % side) * 0.002 + rng.random() * 0.0004
        y = 51.10 + (i // side) * 0.0015 + rng.random() * 0.0004
        w, h = 0.0006 + rng.random() * 0.0006, 0.0004 + rng.random() * 0.0004
        ring = [
            [round(x, 7), round(y, 7)],
            [round(x + w, 7), round(y, 7)],
            [round(x + w, 7), round(y + h, 7)],
            [round(x, 7), round(y + h, 7)],
            [round(x, 7), round(y, 7)],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": f"{prefix}-{i:05d}",
                    "name": f"Synthetic area {i}",
                    "hazard_class": "CHA" if i % 3 == 0 else "SHA",
                    "beneficiaries": rng.randrange(0, 500),
                    "land_use": rng.choice(["agricultural", "residential", "other"]),
                    "synthetic": True,
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return {f"{prefix}-{i:05d}" for i in range(n)}


# --------------------------------------------------------------------------------------------------------------
# Looking at the store: on a GeoPackage with plain sqlite3, read-only; on PostGIS with plain psycopg (nothing of
# sapper's between the kill and the checks)
# --------------------------------------------------------------------------------------------------------------


def _ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def soundness(db: Path) -> tuple[str, int]:
    """``PRAGMA integrity_check``'s answer and the number of rows ``PRAGMA foreign_key_check`` reports."""
    conn = _ro(db)
    try:
        integrity = "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
        dangling = len(conn.execute("PRAGMA foreign_key_check").fetchall())
    finally:
        conn.close()
    return integrity, dangling


def hazard_ids(db: Path) -> set[str]:
    conn = _ro(db)
    try:
        return {str(r[0]) for r in conn.execute("SELECT id FROM hazard_areas")}
    finally:
        conn.close()


def hazards_digest(db: Path) -> str:
    """SHA-256 of every hazard row (all columns but the geometry blob's GeoPackage header, sorted by id)."""
    conn = _ro(db)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(hazard_areas)")]
        rows = conn.execute(f"SELECT {', '.join(cols)} FROM hazard_areas ORDER BY id").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def plans(db: Path) -> list[tuple[int, int, str]]:
    """Every plan: (id, number of tasks, SHA-256 of its tasks without the plan id)."""
    conn = _ro(db)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(plan_tasks)") if r[1] not in ("id", "run_id")]
        found = []
        for (run_id,) in conn.execute("SELECT id FROM plan_runs ORDER BY id").fetchall():
            rows = conn.execute(
                f"SELECT {', '.join(cols)} FROM plan_tasks WHERE run_id = ? ORDER BY {', '.join(cols)}", (run_id,)
            ).fetchall()
            found.append((int(run_id), len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()))
    finally:
        conn.close()
    return found


def writing(db: Path) -> bool:
    """True while another connection holds the store's write lock and has put rows in the WAL (a write
    transaction under way; opening the store takes the lock too, but writes nothing)."""
    wal = db.with_name(db.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return False
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # "database is locked": the writer is mid-transaction
        return True
    finally:
        conn.close()


class GeoPackage:
    """Stores as GeoPackage files in ``folder``: a run's store is a fresh copy of the prepared one."""

    name = "GeoPackage"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new(self, label: str) -> str:
        return str(self.folder / f"{label}.gpkg")

    def copy(self, base: str, label: str) -> str:
        db = self.folder / f"{label}.gpkg"
        for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copy(base, db)
        return str(db)

    def settle(self, db: str) -> None:
        """Nothing to wait for: the killed process was the only one holding the file."""

    def soundness(self, db: str) -> tuple[str, int]:
        return soundness(Path(db))

    def hazard_ids(self, db: str) -> set[str]:
        return hazard_ids(Path(db))

    def hazards_digest(self, db: str) -> str:
        return hazards_digest(Path(db))

    def plans(self, db: str) -> list[tuple[int, int, str]]:
        return plans(Path(db))

    def writing(self, db: str) -> bool:
        return writing(Path(db))

    def close(self) -> None:
        """The files go with the temporary folder."""


class PostGIS:
    """Stores as databases of one PostgreSQL server (``url`` names any database we may connect to and create
    databases from); a run's store is ``CREATE DATABASE … TEMPLATE`` the prepared one. Every database made is
    dropped by ``close``."""

    name = "PostGIS"

    def __init__(self, url: str) -> None:
        import psycopg  # the benchmark's PostgreSQL side only

        self._psycopg = psycopg
        self.url = url
        self.prefix = f"sapper_crash_{os.getpid()}"
        self.made: list[str] = []
        self.admin = psycopg.connect(self._dsn(None), autocommit=True)

    def _dsn(self, database: str | None) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.url).set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    def _connect(self, db: str) -> Any:
        return self._psycopg.connect(db, autocommit=True)

    def new(self, label: str) -> str:
        name = f"{self.prefix}_{label}".replace("-", "_")
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return self._dsn(name)

    def copy(self, base: str, label: str) -> str:
        from sqlalchemy.engine import make_url

        name = f"{self.prefix}_{label}".replace("-", "_")
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(base).database}"')
        if name not in self.made:
            self.made.append(name)
        return self._dsn(name)

    def settle(self, db: str) -> None:
        """Wait (≤ 60 s) until the server has ended the killed client's backend: it notices the closed socket,
        rolls the open transaction back and exits. Until then the checks would still see that backend's locks."""
        from sqlalchemy.engine import make_url

        name = make_url(db).database
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = self.admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.02)
        raise RuntimeError(f"the killed client's backend on {name} did not end within 60 s")

    def soundness(self, db: str) -> tuple[str, int]:
        """``amcheck``'s ``bt_index_check`` over every B-tree index (``ok`` or the first error), and the rows
        whose foreign-key value has no parent, counted per constraint from the catalogue."""
        with self._connect(db) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
            integrity = "ok"
            indexes = conn.execute(
                "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public' AND i.indisvalid"
            ).fetchall()
            for oid, relname in indexes:
                try:
                    conn.execute("SELECT bt_index_check(%s, true)", (oid,))
                except self._psycopg.Error as exc:
                    integrity = f"{relname}: {str(exc).strip().splitlines()[0]}"
                    break
            dangling = 0
            fks = conn.execute(
                "SELECT conrelid::regclass::text, confrelid::regclass::text, "
                "ARRAY(SELECT attname FROM unnest(conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a "
                "  ON a.attrelid = conrelid AND a.attnum = k.n ORDER BY k.o), "
                "ARRAY(SELECT attname FROM unnest(confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a "
                "  ON a.attrelid = confrelid AND a.attnum = k.n ORDER BY k.o) "
                "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
            ).fetchall()
            for child, parent, cols, pcols in fks:
                present = " AND ".join(f'c."{c}" IS NOT NULL' for c in cols)
                match = " AND ".join(f'p."{p}" = c."{c}"' for c, p in zip(cols, pcols, strict=True))
                row = conn.execute(
                    f"SELECT count(*) FROM {child} c WHERE {present} "
                    f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})"
                ).fetchone()
                dangling += int(row[0]) if row else 0
        return integrity, dangling

    def hazard_ids(self, db: str) -> set[str]:
        with self._connect(db) as conn:
            return {str(r[0]) for r in conn.execute("SELECT id FROM hazard_areas")}

    def _columns(self, conn: Any, table: str, skip: tuple[str, ...] = ()) -> list[str]:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
            "ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        return [f'"{r[0]}"::text' for r in rows if r[0] not in skip]

    def hazards_digest(self, db: str) -> str:
        """As on a GeoPackage, but without the ``fid`` surrogate key: PostgreSQL's sequences are not
        transactional, so a rolled-back import leaves a gap in them and the re-run's rows get other ``fid``s."""
        with self._connect(db) as conn:
            cols = self._columns(conn, "hazard_areas", skip=("fid",))
            rows = conn.execute(f"SELECT {', '.join(cols)} FROM hazard_areas ORDER BY id").fetchall()
        return hashlib.sha256(repr(rows).encode()).hexdigest()

    def plans(self, db: str) -> list[tuple[int, int, str]]:
        with self._connect(db) as conn:
            cols = self._columns(conn, "plan_tasks", skip=("fid", "id", "run_id"))  # fid: as for hazards
            found = []
            for (run_id,) in conn.execute("SELECT id FROM plan_runs ORDER BY id").fetchall():
                rows = conn.execute(
                    f"SELECT {', '.join(cols)} FROM plan_tasks WHERE run_id = %s ORDER BY {', '.join(cols)}",
                    (run_id,),
                ).fetchall()
                found.append((int(run_id), len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()))
        return found

    def writing(self, db: str) -> bool:
        """True while a backend of ``db`` holds a transaction id (it has written) and a row lock on a table."""
        from sqlalchemy.engine import make_url

        row = self.admin.execute(
            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
            "WHERE a.datname = %s AND a.backend_xid IS NOT NULL AND l.locktype = 'relation' "
            "AND l.mode = 'RowExclusiveLock'",
            (make_url(db).database,),
        ).fetchone()
        return row is not None and row[0] > 0

    def close(self) -> None:
        for name in reversed(self.made):
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
        self.admin.close()


Backend = GeoPackage | PostGIS


# --------------------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """An uninterrupted run: its duration, and when (seconds after start) its write transaction was seen."""

    total_s: float
    write_from_s: float
    write_to_s: float

    @property
    def write_s(self) -> float:
        return max(self.write_to_s - self.write_from_s, 0.01)


def timed(args: list[str], db: str, backend: Backend) -> Timing:
    """Run ``sapper args`` to the end, polling the store for its write transaction."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [*SAPPER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    seen: list[float] = []
    while proc.poll() is None:
        if backend.writing(db):
            seen.append(time.monotonic() - started)
        time.sleep(0.002)
    total = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"sapper {' '.join(args)} exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
        )
    return Timing(total, seen[0] if seen else total, seen[-1] if seen else total)


@dataclass
class Kill:
    """One killed run: how it was aimed, when it died, and what the checks found."""

    run: int
    aim: str  # "anywhere" or "in-write"
    after_s: float
    during_write: bool
    state: str  # "before" (nothing of it stored) or "after" (all of it); "partial" is a failure
    integrity: str
    dangling: int
    rerun_ok: bool
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.state != "partial" and self.integrity == "ok" and self.dangling == 0 and self.rerun_ok


def kill_at(args: list[str], db: str, backend: Backend, *, aim: str, delay: float) -> tuple[float, bool, int | None]:
    """Start ``sapper args``; kill -9 it ``delay`` s after start (``anywhere``) or after its write transaction was
    first seen (``in-write``). Returns (seconds after start it was killed, whether a write was under way just
    before, its exit code when it ended by itself first)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [*SAPPER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )
    at = started + delay
    if aim == "in-write":
        while proc.poll() is None and not backend.writing(db):
            time.sleep(0.002)
        at = time.monotonic() + delay
    during = False
    while proc.poll() is None and time.monotonic() < at:
        time.sleep(min(0.002, max(at - time.monotonic(), 0)))
    if proc.poll() is None:
        during = backend.writing(db)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        backend.settle(db)
        return time.monotonic() - started, during, None
    return time.monotonic() - started, during, proc.returncode


@dataclass
class Series:
    """The killed runs of one command, with its reference."""

    command: str
    reference: Timing
    kills: list[Kill] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(k.ok for k in self.kills)


def _aim(i: int, rng: random.Random, ref: Timing) -> tuple[str, float]:
    if i % 2:
        return "anywhere", rng.uniform(0, ref.total_s)
    return "in-write", rng.uniform(0, ref.write_s)


def import_series(
    folder: Path,
    *,
    runs: int,
    features: int,
    seed: int,
    idempotent_every: int = 1,
    backend: Backend | None = None,
    progress: Callable[[Series], None] | None = None,
) -> Series:
    """The import: reference run, then ``runs`` killed runs, each checked and re-run (and, every
    ``idempotent_every`` runs, run a third time, which must be a no-op); on GeoPackage files unless ``backend``."""
    store_kind = backend or GeoPackage(folder)
    file = folder / "hazards.geojson"
    ids = hazards_geojson(file, features, seed=seed)
    base = store_kind.new("import-base")
    hazards_geojson(folder / "one.geojson", 1, seed=seed + 99, prefix="BEFORE")
    with open_store(base, create=True) as store:  # the setup in this process: fewer interpreters to start
        imports.import_file(store, folder / "one.geojson", "hazards")
    ref_db = store_kind.copy(base, "import-ref")
    args = ["import", "hazards", str(file), "--db"]
    reference = timed([*args, ref_db], ref_db, store_kind)
    want = store_kind.hazards_digest(ref_db)
    series = Series(_label("sapper import hazards", store_kind), reference)
    rng = random.Random(seed)
    for i in range(runs):
        db = store_kind.copy(base, "import-run")
        aim, delay = _aim(i, rng, reference)
        after, during, code = kill_at([*args, db], db, store_kind, aim=aim, delay=delay)
        integrity, dangling = store_kind.soundness(db)
        held = store_kind.hazard_ids(db)
        stored = held - {"BEFORE-00000"}
        state = "before" if not stored else "after" if stored == ids else "partial"
        kept = "BEFORE-00000" in held
        again = sapper(*args, db, "--skip-existing", check=False)
        rerun_ok = kept and again.returncode == 0 and store_kind.hazards_digest(db) == want
        third = None
        if i % idempotent_every == 0:  # once more: a no-op
            third = sapper(*args, db, "--skip-existing", check=False)
            rerun_ok = (
                rerun_ok
                and third.returncode == 0
                and third.stdout.startswith(f"imported 0, repaired 0, rejected 0, skipped {features},")
            )
        note = "" if code is None else f"ended by itself (exit {code}) before the kill"
        if not rerun_ok:
            note += (
                f" re-run: {again.stdout.splitlines()[:1]} {again.stderr.strip()[:200]} / "
                f"{third.stdout.splitlines()[:1] if third else ''}"
            )
        series.kills.append(Kill(i, aim, round(after, 3), during, state, integrity, dangling, rerun_ok, note.strip()))
        print(json.dumps(asdict(series.kills[-1])), flush=True)
        if progress is not None:
            progress(series)
    return series


def _label(command: str, backend: Backend) -> str:
    """The series' name: the command, and the backend when it is not the default GeoPackage."""
    return command if isinstance(backend, GeoPackage) else f"{command} (PostGIS)"


def plan_register(folder: Path, hazards: int, *, seed: int, backend: Backend) -> str:
    """A store with the examples' organisations and teams, ``hazards`` hazard areas, and one plan."""
    db = backend.new("plan-base")
    hazards_geojson(folder / "plan-hazards.geojson", hazards, seed=seed + 1, prefix="PL")
    init_store(db, start_date=dt.date(2026, 11, 2))
    with open_store(db) as store:  # the setup in this process: fewer interpreters to start
        accounts.add_organisation(store, "NMAA", kind=OrgKind.AUTHORITY, authority=True)
        accounts.add_organisation(store, "OP-1")
        accounts.add_organisation(store, "BLD-1", kind=OrgKind.CONTRACTOR)
        imports.import_workforce(store, EXAMPLES / "teams.csv")
        imports.import_file(store, folder / "plan-hazards.geojson", "hazards")
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


def plan_series(
    folder: Path,
    *,
    runs: int,
    hazards: int,
    seed: int,
    backend: Backend | None = None,
    progress: Callable[[Series], None] | None = None,
) -> Series:
    """The plan save: reference run, then ``runs`` killed runs, each checked and re-run; on GeoPackage files unless
    ``backend``."""
    store_kind = backend or GeoPackage(folder)
    base = plan_register(folder, hazards, seed=seed, backend=store_kind)
    before = store_kind.plans(base)
    ref_db = store_kind.copy(base, "plan-ref")
    args = ["plan", "--engine", "greedy", "--time-limit", "5", "--db"]
    reference = timed([*args, ref_db], ref_db, store_kind)
    ref_plans = store_kind.plans(ref_db)
    tasks, want = ref_plans[-1][1], ref_plans[-1][2]
    second: list[tuple[int, str]] = []

    def want_after() -> tuple[int, str]:
        """What a re-run saves after a killed run that had committed its plan: a second uninterrupted plan (made
        once, when first needed)."""
        if not second:
            sapper(*args, ref_db)
            latest = store_kind.plans(ref_db)[-1]
            second.append((latest[1], latest[2]))
        return second[0]

    series = Series(_label("sapper plan --engine greedy", store_kind), reference)
    rng = random.Random(seed + 7)
    for i in range(runs):
        db = store_kind.copy(base, "plan-run")
        aim, delay = _aim(i, rng, reference)
        after, during, code = kill_at([*args, db], db, store_kind, aim=aim, delay=delay)
        integrity, dangling = store_kind.soundness(db)
        found = store_kind.plans(db)
        whole = found[: len(before)] == before and all(n == tasks for _, n, _ in found[len(before) :])
        state = (
            "partial"
            if not whole or len(found) > len(before) + 1
            else "before"
            if len(found) == len(before)
            else "after"
        )
        again = sapper(*args, db, check=False)
        latest = store_kind.plans(db)
        made = (tasks, want) if state == "before" else want_after()
        rerun_ok = (
            again.returncode == 0
            and len(latest) == len(found) + 1
            and latest[-1][1:] == made
            and latest[: len(before)] == before
            and (state == "before" or found[-1][1:] == (tasks, want))
        )
        note = "" if code is None else f"ended by itself (exit {code}) before the kill"
        if not rerun_ok:
            note += f" re-run: exit {again.returncode} {again.stderr.strip()[:200]}"
        series.kills.append(Kill(i, aim, round(after, 3), during, state, integrity, dangling, rerun_ok, note.strip()))
        print(json.dumps(asdict(series.kills[-1])), flush=True)
        if progress is not None:
            progress(series)
    return series


def summary(series: Series, *, meta: dict[str, Any]) -> dict[str, Any]:
    """One command's figures (with ``meta``: date, command line, machine, note, sizes) as stored in the JSON."""
    kills = series.kills
    return {
        **meta,
        "series": series.command,
        "reference_s": round(series.reference.total_s, 2),
        "write_window_s": round(series.reference.write_s, 3),
        "runs": len(kills),
        "killed": sum(1 for k in kills if "ended by itself" not in k.note),
        "during_write": sum(1 for k in kills if k.during_write),
        "before": sum(1 for k in kills if k.state == "before"),
        "after": sum(1 for k in kills if k.state == "after"),
        "partial": sum(1 for k in kills if k.state == "partial"),
        "integrity_ok": sum(1 for k in kills if k.integrity == "ok"),
        "dangling": sum(k.dangling for k in kills),
        "rerun_ok": sum(1 for k in kills if k.rerun_ok),
        "kills": [asdict(k) for k in kills],
    }


def markdown(res: dict[str, Any]) -> str:
    """The docs/reliability.md section for the results ``res`` (as stored in the JSON file)."""
    rows = [
        "| command | runs | killed (the rest ended first) | killed mid-write | left as before | left complete "
        "| partial | integrity ok | foreign-key faults | re-run equals the reference | reference run (s) | "
        "its write window (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    measured = []
    for s in res["series"]:
        rows.append(
            f"| `{s['series']}` | {s['runs']} | {s['killed']} | {s['during_write']} | {s['before']} | "
            f"{s['after']} | {s['partial']} | {s['integrity_ok']} | {s['dangling']} | {s['rerun_ok']} | "
            f"{s['reference_s']} | {s['write_window_s']} |"
        )
        size = (
            f"{s['features']:,} features; the import run a third time after every {s['idempotent_every']} killed run(s)"
            if "features" in s
            else f"a register of {s['plan_hazards']:,} hazard areas and the examples' teams"
        )
        measured.append(
            f"- `{s['series']}`: measured {s['date']} with `{s['command']}` ({size}) on {s['machine']}"
            + (f"; {s['note']}" if s['note'] else "")
        )
    return "\n".join(
        [
            BEGIN,
            *measured,
            "",
            *rows,
            "",
            "Half the kills are drawn over the command's whole reference duration, half within its write window "
            "once the write lock is seen held (killed mid-write: on a GeoPackage the lock was held with rows in the "
            "WAL just before the kill; on PostGIS a backend of the run's database held a transaction id and a row "
            "lock). "
            "After each kill: integrity and foreign keys checked (on PostGIS: amcheck on every B-tree index, and every "
            "foreign-key value's parent looked up; the hazard and task rows compared without their `fid`, which the "
            "non-transactional sequence moves on), then the command re-run "
            "(the import with `--skip-existing`) must leave what an uninterrupted run leaves (a plan re-run after a "
            "kill that came after its commit must equal a second uninterrupted plan), and the import run once more "
            "must import 0 and skip every feature.",
            END,
        ]
    )


def record(path: Path | None, entry: dict[str, Any]) -> None:
    """Put ``entry`` (one command's figures) into the JSON results, replacing that command's earlier entry, and
    re-render the section of ``path``; under a file lock (the import and the plan may run as two processes)."""
    if path is None:
        return
    with open(Path(tempfile.gettempdir()) / "sapper-reliability-crash.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        res = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {"series": []}
        order = [
            "sapper import hazards",
            "sapper plan --engine greedy",
            "sapper import hazards (PostGIS)",
            "sapper plan --engine greedy (PostGIS)",
        ]
        kept = [s for s in res["series"] if s["series"] != entry["series"]]
        res["series"] = sorted([*kept, entry], key=lambda s: order.index(s["series"]) if s["series"] in order else 9)
        RESULTS.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        write_section(path, BEGIN, END, markdown(res), "## 3. Crash atomicity: kill -9 during writes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--features", type=int, default=10_000)
    parser.add_argument("--plan-hazards", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--idempotent-every",
        type=int,
        default=1,
        help="run the import a third time (a no-op) after every Nth killed run",
    )
    parser.add_argument("--only", choices=("import", "plan"), default=None)
    parser.add_argument("--backend", choices=("sqlite", "postgis"), default="sqlite")
    parser.add_argument(
        "--pg",
        default=os.environ.get("SAPPER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="with --backend postgis: a database URL of the server (throwaway databases are made beside it)",
    )
    parser.add_argument("--note", default="", help="a line on the machine, e.g. that it was busy")
    parser.add_argument("--write", type=Path, default=None, help="replace this section of that file")
    parser.add_argument("--render-only", action="store_true", help="re-render the section from the JSON results")
    args = parser.parse_args()
    if args.render_only:
        assert args.write is not None, "--render-only needs --write FILE"
        res = json.loads(RESULTS.read_text(encoding="utf-8"))
        write_section(args.write, BEGIN, END, markdown(res), "## 3. Crash atomicity: kill -9 during writes")
        return
    meta = {
        "date": dt.date.today().isoformat(),
        "command": command_line("reliability_crash.py", sys.argv[1:]),
        "machine": machine(),
        "note": args.note,
    }
    failed = False

    def progress(series: Series, sizes: dict[str, Any]) -> None:
        """After each kill: the figures so far go into the results (a long run leaves what it measured)."""
        nonlocal failed
        failed = failed or not series.ok
        if not failed:
            record(args.write, summary(series, meta={**meta, **sizes}))

    with tempfile.TemporaryDirectory() as tmp:
        backend: Backend = PostGIS(args.pg) if args.backend == "postgis" else GeoPackage(Path(tmp))
        try:
            run_all(args, Path(tmp), backend, progress)
        finally:
            backend.close()
    if failed:
        print(
            "FAILED: a partial import or plan, an unsound file, or a re-run that did not complete "
            "(the figures up to the failure are kept)",
            file=sys.stderr,
        )
        sys.exit(1)


def run_all(
    args: argparse.Namespace, tmp: Path, backend: Backend, progress: Callable[[Series, dict[str, Any]], None]
) -> None:
    """The series ``--only`` asks for (both by default), on ``backend``."""
    if args.only in (None, "import"):
        sizes = {"features": args.features, "idempotent_every": args.idempotent_every}
        import_series(
            tmp,
            runs=args.runs,
            features=args.features,
            seed=args.seed,
            idempotent_every=args.idempotent_every,
            backend=backend,
            progress=lambda s: progress(s, sizes),
        )
    if args.only in (None, "plan"):
        sizes = {"plan_hazards": args.plan_hazards}
        plan_series(
            tmp,
            runs=args.runs,
            hazards=args.plan_hazards,
            seed=args.seed,
            backend=backend,
            progress=lambda s: progress(s, sizes),
        )


if __name__ == "__main__":
    main()
