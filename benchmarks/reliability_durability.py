"""Benchmark (issue 16, item 4): PostgreSQL stopped abruptly (``-m immediate``: no checkpoint, no clean shutdown)
and started again while the service writes: every acknowledged write is there afterwards, and the service
reconnects by itself.

    .venv/bin/python benchmarks/reliability_durability.py [--writes 1000] [--stops 3] [--seed 2026]
                                                         [--write docs/reliability.md]

Never the shared server: the script makes its own throwaway cluster (``initdb`` into a new folder under /tmp, run
as the ``postgres`` user with the binaries of ``/usr/lib/postgresql/<version>/bin``, on a free port of the
loopback, default settings: ``fsync`` and ``synchronous_commit`` on), creates a sapper store in it (PostGIS), and
removes it at the end. It needs root (to run the server as ``postgres``).

One store object, opened once, is written through ``services.features.create_hazard`` (the service the API's
``POST /collections/hazard_areas/items`` calls: a hazard area and its audit row in one transaction), one write
after another, ``--writes`` acknowledged ones in all: a write is acknowledged when the call returns, and only then
is it counted. ``--stops`` times, after a number of acknowledged writes drawn at random (seeded), another thread
runs ``pg_ctl stop -m immediate`` and, a second later, starts the server again. A write that fails meanwhile (the
service answers ``StoreError``, 503 through the API) is not acknowledged; the writer waits 0.2 s and tries again,
with the same store object (nothing is reopened by hand). After the last write the server is stopped immediately
once more and started, and every acknowledged hazard area must be in the store with its audit row; rows of writes
whose acknowledgement was lost in a stop (committed, then the connection dropped) are counted apart.

With ``--write`` the section between the markers below is replaced in that file; the JSON goes to
``benchmarks/results/reliability_durability.json``. ``tests/store/test_pg_durability.py`` runs the same with 200
writes and one stop.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import create_engine, text

from sapper.domain.resources import OrgKind
from sapper.domain.users import Principal, Role
from sapper.errors import StoreError
from sapper.services import accounts
from sapper.services import features as service
from sapper.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, machine, write_section

BEGIN, END = "<!-- reliability-durability:begin -->", "<!-- reliability-durability:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "reliability_durability.json"
ORG = "NMAA"
ACTOR = Principal(0, "durability", Role.IM_OFFICER, ORG, authority=True)


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def unavailable() -> str | None:
    """Why a throwaway cluster cannot be made here (None when it can)."""
    if os.geteuid() != 0:
        return "making a throwaway PostgreSQL cluster needs root (the server runs as the postgres user)"
    if postgres_bin() is None:
        return "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
    if shutil.which("runuser") is None:
        return "runuser is missing"
    try:
        subprocess.run(["id", "postgres"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError):
        return "there is no postgres user"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster in its own folder, on its own port (a context manager: removed at the end)."""

    def __init__(self) -> None:
        binaries = postgres_bin()
        assert binaries is not None, unavailable()
        self.bin = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="sapper-durability-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/sapper"

    def _as_postgres(self, *args: str | Path, timeout: float = 300) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.folder,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{Path(str(args[0])).name} failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def __enter__(self) -> Cluster:
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            self.bin / "initdb",
            "-D",
            self.data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C",
        )
        self.start()
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._as_postgres(
            self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "120", "start"
        )

    def stop_immediately(self) -> None:
        """``pg_ctl stop -m immediate``: the server quits at once, as in a power cut; recovery replays the WAL."""
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(RuntimeError):  # not running
            self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Outcome:
    """What the writer was told and what the store held after the last restart."""

    writes: int
    stops: int
    seconds: float
    acknowledged: int
    failed_attempts: int
    missing: int
    audit_missing: int
    unacknowledged_present: int
    failures: list[str] = field(default_factory=list)
    resumed_after_s: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.acknowledged == self.writes and self.missing == 0 and self.audit_missing == 0


def run(cluster: Cluster, *, writes: int, stops: int, seed: int) -> Outcome:
    """Write ``writes`` acknowledged hazard areas through the service while the cluster is stopped ``stops`` times."""
    with open_store(cluster.url, create=True) as store:
        accounts.add_organisation(
            store, ORG, name="National authority (synthetic)", kind=OrgKind.AUTHORITY, authority=True
        )
    rng = random.Random(seed)
    at = sorted(rng.sample(range(writes // 10, writes - writes // 10), stops)) if stops else []
    acknowledged: dict[str, str] = {}  # hazard id -> name
    failures: list[str] = []
    resumed: list[float] = []
    stopped_at: list[float] = []
    failed = 0
    started = time.perf_counter()
    store = open_store(cluster.url)
    restarter: threading.Thread | None = None
    try:
        attempt = 0
        while len(acknowledged) < writes:
            if at and len(acknowledged) >= at[0] and (restarter is None or not restarter.is_alive()):
                at.pop(0)
                stopped_at.append(time.perf_counter())

                def restart() -> None:
                    cluster.stop_immediately()
                    time.sleep(1.0)
                    cluster.start()

                restarter = threading.Thread(target=restart)
                restarter.start()
                time.sleep(0.05)
            attempt += 1
            name = f"durability write {len(acknowledged)} attempt {attempt}"
            x = 35.0 + (attempt % 100) * 0.01
            y = 50.0 + (attempt // 100) * 0.01
            try:
                done = service.create_hazard(
                    store,
                    ACTOR,
                    service.HazardInput(name=name, hazard_class="SHA"),
                    shapely.box(x, y, x + 0.005, y + 0.005),
                    reason="durability",
                )
            except StoreError as exc:
                failed += 1
                if len(failures) < 5:
                    failures.append(exc.message[:200])
                time.sleep(0.2)
                continue
            if stopped_at and len(resumed) < len(stopped_at):
                resumed.append(round(time.perf_counter() - stopped_at[len(resumed)], 2))
            acknowledged[done.feature.id] = name
        if restarter is not None:
            restarter.join()
    finally:
        store.close()
    seconds = time.perf_counter() - started
    cluster.stop_immediately()
    cluster.start()
    engine = create_engine(cluster.url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            stored = {str(r[0]): str(r[1]) for r in conn.execute(text("SELECT id, name FROM hazard_areas"))}
            audited = {
                str(r[0])
                for r in conn.execute(
                    text("SELECT record_id FROM audit WHERE table_name = 'hazard_areas' AND action = 'insert'")
                )
            }
    finally:
        engine.dispose()
    missing = sum(1 for hid, name in acknowledged.items() if stored.get(hid) != name)
    return Outcome(
        writes=writes,
        stops=stops,
        seconds=round(seconds, 2),
        acknowledged=len(acknowledged),
        failed_attempts=failed,
        missing=missing,
        audit_missing=sum(1 for hid in acknowledged if hid not in audited),
        unacknowledged_present=len(set(stored) - set(acknowledged)),
        failures=failures,
        resumed_after_s=resumed,
    )


def markdown(res: dict[str, Any]) -> str:
    """The docs/reliability.md section for the results ``res`` (as stored in the JSON file)."""
    o = res["outcome"]
    resumed = ", ".join(str(s) for s in o["resumed_after_s"]) or "—"
    return "\n".join(
        [
            BEGIN,
            f"Measured {res['date']} with `{res['command']}` on {res['machine']}"
            + (f"; {res['note']}" if res['note'] else ""),
            "",
            "| acknowledged writes | immediate stops during them | missing after restart | audit rows missing | "
            "failed attempts (not acknowledged, retried) | committed but not acknowledged | first acknowledged write "
            "after each stop (s) | seconds |",
            "|---|---|---|---|---|---|---|---|",
            f"| {o['acknowledged']:,} | {o['stops']} | {o['missing']} | {o['audit_missing']} | "
            f"{o['failed_attempts']} | {o['unacknowledged_present']} | {resumed} | "
            f"{o['seconds']} |",
            "",
            f"PostgreSQL {res['postgres']} in a throwaway cluster (default settings: `fsync` and `synchronous_commit` "
            "on), stopped with `pg_ctl stop -m immediate` and started a second later; the same store object kept "
            "writing (its pool replaced the dead connections by itself); a final immediate stop and start before the "
            "check.",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--stops", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--note", default="", help="a line on the machine, e.g. that it was busy")
    parser.add_argument("--write", type=Path, default=None, help="replace this section of that file")
    parser.add_argument("--render-only", action="store_true", help="re-render the section from the JSON results")
    args = parser.parse_args()
    if args.render_only:
        assert args.write is not None, "--render-only needs --write FILE"
        stored = json.loads(RESULTS.read_text(encoding="utf-8"))
        write_section(args.write, BEGIN, END, markdown(stored), "## 4. Durability on PostgreSQL: immediate stops")
        return
    why = unavailable()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        sys.exit(2)
    with Cluster() as cluster:
        outcome = run(cluster, writes=args.writes, stops=args.stops, seed=args.seed)
        version = subprocess.run(
            [str(cluster.bin / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[2]
    print(json.dumps(asdict(outcome)), flush=True)
    command = command_line("reliability_durability.py", sys.argv[1:])
    res = {
        "date": dt.date.today().isoformat(),
        "command": command.strip(),
        "machine": machine(),
        "note": args.note,
        "postgres": version,
        "outcome": asdict(outcome),
    }
    if not outcome.ok:
        print("FAILED: an acknowledged write is missing after the restart (nothing written)", file=sys.stderr)
        sys.exit(1)
    if args.write:
        RESULTS.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        write_section(args.write, BEGIN, END, markdown(res), "## 4. Durability on PostgreSQL: immediate stops")
    print(markdown(res))


if __name__ == "__main__":
    main()
