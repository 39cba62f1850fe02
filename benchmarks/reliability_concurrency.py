"""Benchmark (issue 16, item 2): concurrent writers on the same records through the web service, with optimistic
locking, lose no update and get no 5xx, on a GeoPackage and on PostGIS.

    .venv/bin/python benchmarks/reliability_concurrency.py [--writers 16] [--updates 500] [--records 10]
                                                          [--workers 2] [--seed 2026]
                                                          [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                                          [--backends sqlite,postgis] [--write docs/reliability.md]

For each backend a new store holds an authority organisation, its im-officer and ``--records`` hazard areas with
``beneficiaries`` 0; ``sapper serve --workers N`` serves it on the loopback (a subprocess: real HTTP, real worker
processes, so on SQLite the workers contend for the file's write lock as in production). ``--writers`` threads,
each with its own keep-alive connection, make ``--updates`` attempts each: pick one of the records at random
(seeded), read it (``GET …/items/{id}``: its ``beneficiaries`` and ETag), and send ``PATCH`` with
``If-Match: <ETag>`` and ``beneficiaries`` + 1. Every writer reads and increments the same counters, so an update
that overwrote another's would show as a counter lower than the number of accepted PATCHes.

Counted: PATCHes accepted (200), rejected as stale (412 at the If-Match check, 409 when another writer committed
between that check and the write), 5xx, anything else. Checked after the run, per record, straight in the store:
``beneficiaries`` = accepted PATCHes (a difference is a lost update), the row version moved by exactly as many, and
as many ``update`` audit rows. The run passes with 0 lost updates, 0 5xx and nothing but 200/409/412. With ``--write``
the section between the markers below is replaced in that file; the JSON goes to
``benchmarks/results/reliability_concurrency.json``. ``tests/api/test_concurrency.py`` runs the same with 4 × 25.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sapper.domain.accidents import Accident, AccidentKind
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass
from sapper.domain.resources import OrgKind
from sapper.domain.users import Role
from sapper.services import accounts
from sapper.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, machine, write_section

BEGIN, END = "<!-- reliability-concurrency:begin -->", "<!-- reliability-concurrency:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "reliability_concurrency.json"
USER, PASSWORD = "ima", "concurrency benchmark password"
ACCEPTED, REJECTED = {200}, {409, 412}


@dataclass
class Outcome:
    """One backend's run: what the writers were told, and what the store holds afterwards."""

    backend: str
    writers: int
    updates: int
    records: int
    workers: int
    seconds: float
    statuses: dict[str, int]
    accepted: int
    rejected: int
    server_errors: int
    other: int
    lost_updates: int
    version_mismatches: int
    audit_mismatches: int
    errors: list[str] = field(default_factory=list)
    resource: str = "hazard_areas"

    @property
    def ok(self) -> bool:
        return (
            self.lost_updates == 0
            and self.server_errors == 0
            and self.other == 0
            and self.version_mismatches == 0
            and self.audit_mismatches == 0
            and self.accepted + self.rejected == self.writers * self.updates
        )


#: What the writers edit: hazard areas through OGC API Part 4 (ETag / If-Match), accidents through the REST API
#: (the ``version`` field in the body). Per resource: the table, its counter column, and the URL of one record.
RESOURCES = {
    "hazard_areas": ("hazard_areas", "beneficiaries", "/collections/hazard_areas/items/{}"),
    "accidents": ("accidents", "victim_count", "/api/v1/accidents/{}"),
}


#: How the section names what was edited.
LABELS = {
    "hazard_areas": "hazard areas (OGC API `PATCH`, `If-Match`)",
    "accidents": "accidents (`PATCH /api/v1/accidents/{id}`, `version`)",
}


def record_ids(records: int, resource: str = "hazard_areas") -> list[str]:
    return [f"{'HA' if resource == 'hazard_areas' else 'ACC'}-C{i:02d}" for i in range(records)]


def build(target: str | Path, records: int) -> None:
    """A new store with the authority, its im-officer and ``records`` hazard areas (beneficiaries 0)."""
    with open_store(target, create=True) as store:
        accounts.add_organisation(
            store, "NMAA", name="National authority (synthetic)", kind=OrgKind.AUTHORITY, authority=True
        )
        accounts.add_user(store, USER, role=Role.IM_OFFICER, organisation_id="NMAA", password=PASSWORD)
        store.add_hazards(
            [
                HazardArea(
                    hid,
                    HazardClass.SHA,
                    shapely.box(35 + i / 100, 50, 35.005 + i / 100, 50.005),
                    Evidence.INDIRECT,
                    organisation_id="NMAA",
                    name=f"Counter {i}",
                )
                for i, hid in enumerate(record_ids(records))
            ]
        )
        with store.write() as uow:
            for aid in record_ids(records, "accidents"):
                uow.put_accident(
                    Accident(
                        aid,
                        dt.date(2026, 11, 2),
                        AccidentKind.MINE,
                        DeviceCategory.AT_MINE,
                        place="near Sudzha (synthetic)",
                        organisation_id="NMAA",
                        synthetic=True,
                    )
                )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``sapper serve`` over ``target`` in a subprocess (a context manager); ``base`` is its origin. With
    ``workers`` 0, the same app under uvicorn in a thread of this process instead (the suite's small version: no
    worker processes to start on a busy machine)."""

    def __init__(self, target: str | Path, *, workers: int) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None
        self.thread: threading.Thread | None = None
        if workers:
            cmd = [
                sys.executable,
                "-c",
                "from sapper.cli import main; main()",
                "serve",
                "--db",
                str(target),
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--dev",
            ]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        else:
            import uvicorn

            from sapper.api import Settings, create_app

            config = uvicorn.Config(
                create_app(Settings(db=target, development=True)),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                access_log=False,
            )
            self.server = uvicorn.Server(config)
            self.thread = threading.Thread(target=self.server.run, daemon=True)
            self.thread.start()

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"sapper serve exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                if httpx.get(f"{self.base}/conformance", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("sapper serve did not answer within 240 s")

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=30)
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _writer(
    base: str,
    ids: list[str],
    updates: int,
    seed: int,
    statuses: Counter[int],
    accepted: Counter[str],
    errors: list[str],
    lock: threading.Lock,
    resource: str,
) -> None:
    rng = random.Random(seed)
    mine: Counter[int] = Counter()
    won: Counter[str] = Counter()
    seen: list[str] = []
    with httpx.Client(base_url=base, auth=(USER, PASSWORD), timeout=60) as client:
        for _ in range(updates):
            hid = rng.choice(ids)
            url = RESOURCES[resource][2].format(hid)
            got = client.get(url)
            if got.status_code != 200:
                mine[got.status_code] += 1
                seen.append(f"GET {hid}: {got.status_code} {got.text[:200]}")
                continue
            if resource == "hazard_areas":
                count = int(got.json()["properties"]["beneficiaries"])
                sent = client.patch(
                    url,
                    headers={
                        "If-Match": got.headers["etag"],
                        "Content-Type": "application/merge-patch+json",
                        "Sapper-Reason": "concurrency benchmark",
                    },
                    content=json.dumps({"properties": {"beneficiaries": count + 1}}),
                )
            else:
                read = got.json()
                body = {"version": read["version"], "victim_count": read["victim_count"] + 1, "reason": "benchmark"}
                sent = client.patch(url, json=body)
            mine[sent.status_code] += 1
            if sent.status_code in ACCEPTED:
                won[hid] += 1
            elif sent.status_code not in REJECTED:
                seen.append(f"PATCH {hid}: {sent.status_code} {sent.text[:200]}")
    with lock:
        statuses.update(mine)
        accepted.update(won)
        errors.extend(seen)


def _stored(
    target: str | Path, ids: list[str], resource: str = "hazard_areas"
) -> tuple[dict[str, tuple[int, int]], Counter[str]]:
    """Per record (its counter, its version), and the number of update audit rows per record."""
    table, counter, _ = RESOURCES[resource]
    url = (
        make_url(str(target)).set(drivername="postgresql+psycopg")
        if isinstance(target, str) and "://" in str(target)
        else f"sqlite:///{target}"
    )
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT id, {counter}, version FROM {table}")).all()
            audits = conn.execute(
                text(
                    f"SELECT record_id, count(*) FROM audit WHERE table_name = '{table}' "
                    "AND action = 'update' GROUP BY record_id"
                )
            ).all()
    finally:
        engine.dispose()
    return (
        {str(r[0]): (int(r[1]), int(r[2])) for r in rows if str(r[0]) in ids},
        Counter({str(a[0]): int(a[1]) for a in audits}),
    )


def run(
    target: str | Path,
    backend: str,
    *,
    writers: int,
    updates: int,
    records: int,
    workers: int,
    seed: int,
    resource: str = "hazard_areas",
) -> Outcome:
    """Build the store at ``target``, serve it, run the writers on ``resource``, and check what was stored."""
    build(target, records)
    ids = record_ids(records, resource)
    before = _stored(target, ids, resource)[0]
    statuses: Counter[int] = Counter()
    accepted: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    with Server(target, workers=workers) as server:
        threads = [
            threading.Thread(
                target=_writer,
                args=(server.base, ids, updates, seed * 1000 + w, statuses, accepted, errors, lock, resource),
            )
            for w in range(writers)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
    after, audits = _stored(target, ids, resource)
    lost = sum(accepted[h] - (after[h][0] - before[h][0]) for h in ids)
    versions = sum(1 for h in ids if after[h][1] - before[h][1] != accepted[h])
    audit_off = sum(1 for h in ids if audits[h] != accepted[h])
    return Outcome(
        backend=backend,
        writers=writers,
        updates=updates,
        records=records,
        workers=workers,
        seconds=round(seconds, 2),
        statuses={str(k): v for k, v in sorted(statuses.items())},
        accepted=sum(v for k, v in statuses.items() if k in ACCEPTED),
        rejected=sum(v for k, v in statuses.items() if k in REJECTED),
        server_errors=sum(v for k, v in statuses.items() if k >= 500),
        other=sum(v for k, v in statuses.items() if k not in ACCEPTED | REJECTED and k < 500),
        lost_updates=lost,
        version_mismatches=versions,
        audit_mismatches=audit_off,
        errors=errors[:20],
        resource=resource,
    )


def postgis_database(server_url: str) -> str:
    """A new database on the PostgreSQL server ``server_url`` names (its URL); dropped by :func:`drop_database`."""
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"sapper_concurrency_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, database_url: str) -> None:
    admin = create_engine(make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def markdown(res: dict[str, Any]) -> str:
    """The docs/reliability.md section for the results ``res`` (as stored in the JSON file)."""
    rows = [
        "| backend | records edited | writers × attempts | records | worker processes | accepted (200) | "
        "rejected 412 | rejected 409 | 5xx | other | lost updates | version or audit mismatches | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in res["outcomes"]:
        s = o["statuses"]
        rows.append(
            f"| {o['backend']} | {LABELS[o.get('resource', 'hazard_areas')]} | "
            f"{o['writers']} × {o['updates']} | {o['records']} | {o['workers']} | "
            f"{o['accepted']:,} | {s.get('412', 0):,} | {s.get('409', 0):,} | {o['server_errors']} | "
            f"{o['other']} | {o['lost_updates']} | {o['version_mismatches'] + o['audit_mismatches']} | "
            f"{o['seconds']} |"
        )
    return "\n".join(
        [
            BEGIN,
            f"Measured {res['date']} with `{res['command']}` on {res['machine']}"
            + (f"; {res['note']}" if res['note'] else ""),
            "",
            *rows,
            "",
            "Each attempt is a GET (the record's count and version) and a PATCH of the count + 1 naming the version "
            "read (a hazard area's `beneficiaries` with `If-Match: <ETag>`; an accident's `victim_count` with "
            "`version` in the body), through `sapper serve` over HTTP; a lost update would show as a stored count "
            "lower than the accepted PATCHes. Rejections are the optimistic lock doing its job: 412 when the ETag "
            "was stale at the If-Match check, 409 when another writer committed between that check (or the read "
            "of the version) and the write.",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--records", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--backends", default="sqlite,postgis")
    parser.add_argument("--resources", default="hazard_areas,accidents")
    parser.add_argument(
        "--pg", default=os.environ.get("SAPPER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--note", default="", help="a line on the machine, e.g. that it was busy")
    parser.add_argument("--write", type=Path, default=None, help="replace this section of that file")
    parser.add_argument("--render-only", action="store_true", help="re-render the section from the JSON results")
    args = parser.parse_args()
    if args.render_only:
        assert args.write is not None, "--render-only needs --write FILE"
        stored = json.loads(RESULTS.read_text(encoding="utf-8"))
        write_section(args.write, BEGIN, END, markdown(stored), "## 2. Concurrency: writers on the same records")
        return
    outcomes: list[Outcome] = []
    import tempfile

    for backend, resource in [(b, r) for b in args.backends.split(",") for r in args.resources.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            target: str | Path = Path(tmp) / "concurrency.gpkg"
            if backend == "postgis":
                target = postgis_database(args.pg)
            try:
                o = run(
                    target,
                    backend,
                    writers=args.writers,
                    updates=args.updates,
                    records=args.records,
                    workers=args.workers,
                    seed=args.seed,
                    resource=resource,
                )
            finally:
                if backend == "postgis":
                    drop_database(args.pg, str(target))
        print(json.dumps(asdict(o)), flush=True)
        outcomes.append(o)
    command = command_line("reliability_concurrency.py", sys.argv[1:])
    res = {
        "date": dt.date.today().isoformat(),
        "command": command.strip(),
        "machine": machine(),
        "note": args.note,
        "outcomes": [asdict(o) for o in outcomes],
    }
    if not all(o.ok for o in outcomes):
        print("FAILED: lost updates, 5xx or unexpected answers (nothing written)", file=sys.stderr)
        sys.exit(1)
    if args.write:
        RESULTS.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        write_section(args.write, BEGIN, END, markdown(res), "## 2. Concurrency: writers on the same records")
    print(markdown(res))


if __name__ == "__main__":
    main()
