"""Benchmark: the web service's items path under 50 concurrent clients, sapper (GeoPackage and PostGIS) beside
pygeoapi serving the same GeoPackage, in one run.

    .venv/bin/python benchmarks/api_latency.py [--workers 2] [--clients 50] [--duration 20] [--warmup 5]
                                               [--rounds 2] [--seed 2025] [--limit 100]
                                               [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                               [--threads 16] [--write docs/benchmarks.md] [--no-pygeoapi]

The store is the kursk-border reference scenario (synthetic), built by sapper's scenario builder into a new
GeoPackage (fixed seed) and planned once with the greedy engine (so ``planned_release_date`` is filled, as in the
demo); an authority organisation and its im-officer are added with the CLI, and ``sapper copy`` puts the same
register into a new PostGIS database (created on the server ``--pg`` names, or ``SAPPER_TEST_PG``, dropped at the
end). Three servers run on the loopback, each with the same number of worker processes:

* ``sapper serve --db GPKG --workers N`` and ``sapper serve --db POSTGIS_URL --workers N`` (uvicorn);
* pygeoapi (PyPI, the version pinned in the ``bench`` extra) under gunicorn with N sync workers, serving the same
  GeoPackage's ``hazard_areas`` (a copy of the file made with SQLite's backup: its provider runs DDL on the file on
  every request) through its SQLiteGPKG provider, from a config YAML and OpenAPI document this script writes. That
  provider needs SQLite extension loading (for SpatiaLite, Debian's ``libsqlite3-mod-spatialite``); the
  virtualenv's Python is built without it, so pygeoapi runs with ``pysqlite3-binary`` standing in for the standard
  ``sqlite3`` module. Its provider recreates SpatiaLite's virtual tables (DDL) each time it opens the file, and two
  workers doing so at once fail (500s), so that opening is serialised across the workers by a file lock and the
  busy timeout is 60 s instead of 5: the workers wait for each other's DDL instead of failing (a WSGI shim this
  script writes; nothing else of pygeoapi changes).

The load: ``--clients`` concurrent keep-alive HTTP/1.1 connections (a minimal asyncio client, so the client costs
little of the machine's two cores) each fetching ``/collections/hazard_areas/items?limit=100&bbox=...`` as fast as
answers come. The boxes (fixed seed) are centred on hazard areas drawn at random over the region, sides 5-40 km, so
every box holds features; both servers get the same boxes in the same order, sapper with the im-officer's bearer
token (pygeoapi has no authentication: it gets the same header and ignores it). After ``--warmup`` seconds
(not counted), each server is measured for ``--duration`` seconds; with ``--rounds`` > 1 the servers take turns
and the figures pool the rounds. Every answer must be a 200 carrying at least one feature: the run fails (and writes
nothing) otherwise. Reported per server: requests, throughput (requests/s), p50/p90/p99/max latency, features per
answer, and the ratio of sapper's throughput to pygeoapi's. Target: sapper p99 ≤ 250 ms and throughput ≥ 2×
pygeoapi's. With ``--write`` the section between ``<!-- api-latency:begin -->`` and ``<!-- api-latency:end -->``
is replaced; the JSON goes to ``benchmarks/results/api_latency.json``. Each server's CPU time (its processes,
from /proc) while measured gives *answers per CPU-second*, a figure that moves much less than throughput when
other work loads the machine. ``--no-pygeoapi``: sapper only, printed, nothing written (a quick check where
pygeoapi is not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine, write_section
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BEGIN, END = "<!-- api-latency:begin -->", "<!-- api-latency:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "api_latency.json"
SAPPER = str(Path(sys.executable).with_name("sapper"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PATH = "/collections/hazard_areas/items"
TARGET_P99_MS = 250.0
TARGET_RATIO = 2.0
USER, PASSWORD = "ima", "benchmark password (synthetic)"

WSGI_SHIM = '''"""pygeoapi's Flask app with pysqlite3 (SQLite built with extension loading) as ``sqlite3`` (written by
benchmarks/api_latency.py: the virtualenv's Python cannot load SpatiaLite, which pygeoapi's GeoPackage provider
needs)."""
import fcntl
import os
import sys

import pysqlite3.dbapi2

# pygeoapi's provider opens the file on every request and runs AutoGPKGStart (DDL: it recreates SpatiaLite's
# virtual tables). Two workers doing that at once fail (AutoGPKGStart returns 0: a 500), so the provider's
# opening is serialised across the workers by a file lock, and SQLite's busy timeout is 60 s instead of 5 s, so
# that a worker waits for the other's DDL instead of failing. Nothing else changes.
_connect = pysqlite3.dbapi2.connect


def connect(database, timeout=60.0, **kwargs):
    return _connect(database, timeout=timeout, **kwargs)


pysqlite3.dbapi2.connect = connect
sys.modules["sqlite3"] = pysqlite3.dbapi2

from pygeoapi.provider import sqlite as provider  # noqa: E402

_LOCK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pygeoapi.lock")
_load = provider.SQLiteGPKGProvider._SQLiteGPKGProvider__load


def _serialised_load(self):
    with open(_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _load(self)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


provider.SQLiteGPKGProvider._SQLiteGPKGProvider__load = _serialised_load

from pygeoapi.flask_app import APP  # noqa: E402,F401
'''


def run(args: list[str], *, stdin: str | None = None) -> str:
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc.stdout


def build_store(work: Path, seed: int) -> Path:
    """The kursk-border scenario in a new GeoPackage, planned (greedy), with an authority and its im-officer."""
    db = work / "kursk-border.gpkg"
    run([SAPPER, "scenario", "build", "kursk-border", "--db", str(db), "--seed", str(seed)])
    run([SAPPER, "plan", "--db", str(db), "--engine", "greedy", "--time-limit", "1"])
    run([SAPPER, "org", "add", "nmaa", "--authority", "--title", "National Mine Action Authority (synthetic)",
         "--db", str(db)])
    run([SAPPER, "user", "add", USER, "--role", "im-officer", "--org", "nmaa", "--password-stdin", "--db", str(db)],
        stdin=PASSWORD + "\n")
    return db


def token(db: str) -> str:
    return run([SAPPER, "user", "token", USER, "--db", db]).strip().splitlines()[-1]


def boxes(db: Path, n: int, seed: int) -> list[tuple[float, float, float, float]]:
    """``n`` boxes (fixed seed), each centred on a hazard area drawn at random, sides 5-40 km."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT minx, maxx, miny, maxy FROM rtree_hazard_areas_geom ORDER BY id").fetchall()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        minx, maxx, miny, maxy = rows[int(rng.integers(len(rows)))]
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        w_km, h_km = rng.uniform(5, 40, 2)
        w = w_km / (111.32 * math.cos(math.radians(cy)))
        h = h_km / 110.54
        out.append((round(cx - w / 2, 5), round(cy - h / 2, 5), round(cx + w / 2, 5), round(cy + h / 2, 5)))
    return out


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pygeoapi_config(work: Path, gpkg: Path, port: int, extent: tuple[float, float, float, float]) -> Path:
    """pygeoapi's configuration for ``hazard_areas`` of ``gpkg`` (SQLiteGPKG provider) and its OpenAPI document."""
    import yaml

    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "gzip": False,
            "languages": ["en-US"], "cors": False, "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10000}, "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "none (not used)"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "kursk-border (synthetic)", "description": "benchmark", "keywords": ["hazard"],
                               "keywords_type": "theme", "terms_of_service": "none", "url": "http://127.0.0.1"},
            "license": {"name": "synthetic data", "url": "http://127.0.0.1/licence"},
            "provider": {"name": "benchmark", "url": "http://127.0.0.1"},
            "contact": {"name": "benchmark", "url": "http://127.0.0.1"},
        },
        "resources": {"hazard_areas": {
            "type": "collection", "title": "Hazard areas", "description": "Hazard areas (synthetic)",
            "keywords": ["hazard"], "links": [],
            "extents": {"spatial": {"bbox": list(extent), "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "feature", "name": "SQLiteGPKG", "data": str(gpkg), "id_field": "id",
                           "table": "hazard_areas"}],
        }},
    }
    path = work / "pygeoapi-config.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    openapi = work / "pygeoapi-openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(path), "PYGEOAPI_OPENAPI": str(openapi)}
    # `pygeoapi openapi generate`, with the same sqlite3 stand-in as the server (it opens the provider):
    generate = ("import sys, pathlib, pysqlite3.dbapi2 as d; sys.modules['sqlite3'] = d; "
                "from pygeoapi.openapi import generate_openapi_document as g; "
                f"pathlib.Path({str(openapi)!r}).write_text(g(pathlib.Path({str(path)!r}), 'yaml'))")
    proc = subprocess.run([sys.executable, "-c", generate], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"pygeoapi's OpenAPI document could not be generated: {proc.stderr.strip()[-2000:]}")
    (work / "pygeoapi_wsgi.py").write_text(WSGI_SHIM)
    return path


@dataclass
class Server:
    name: str
    label: str
    port: int
    args: list[str]
    env: dict[str, str]
    headers: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log: Any = None
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (ms, status, features)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the server's processes (master and workers) while measured

    def cpu(self) -> float:
        """CPU seconds (user + system) used so far by the server's process and its children (Linux /proc)."""
        assert self.proc is not None
        pids = [self.proc.pid]
        with contextlib.suppress(OSError):
            pids += [int(c) for c in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()]
        ticks = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def start(self, work: Path) -> None:
        self.log = open(work / f"{self.name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=work, start_new_session=True)

    def wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"{self.label} exited ({self.proc.returncode}); see its log")
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=self.headers)
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"{self.label} did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)  # the server's own process group: its master and workers
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        if self.log is not None:
            self.log.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server closes the connection after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    close = headers.get("connection", "").lower() == "close"
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"])), close
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, bytes(body), close
            body += chunk[:-2]
    raise SystemExit("an answer had neither Content-Length nor chunked encoding")


async def load(server: Server, queries: list[bytes], clients: int, seconds: float, record: bool) -> None:
    """``clients`` keep-alive connections fetching ``queries`` in turn (a shared cursor) for ``seconds``."""
    cursor = 0
    stop_at = time.perf_counter() + seconds
    auth = "".join(f"{k}: {v}\r\n" for k, v in server.headers.items())

    async def client() -> None:
        nonlocal cursor
        writer: asyncio.StreamWriter | None = None
        try:
            while time.perf_counter() < stop_at:
                target = queries[cursor % len(queries)]
                cursor += 1
                request = (b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/geo+json\r\n"
                           + auth.encode() + b"\r\n")
                t0 = time.perf_counter()
                if writer is None:  # a new connection (gunicorn's sync workers close it after every answer)
                    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(request)
                status, body, close = await _read_response(reader)
                ms = (time.perf_counter() - t0) * 1000
                if close:
                    writer.close()
                    writer = None
                if record:
                    server.samples.append((ms, status, body.count(b'"Feature"')))
        finally:
            if writer is not None:
                writer.close()

    t0, cpu0 = time.perf_counter(), server.cpu()
    await asyncio.gather(*(client() for _ in range(clients)))
    if record:
        server.seconds += time.perf_counter() - t0
        server.cpu_seconds += server.cpu() - cpu0


def summary(server: Server) -> dict[str, Any]:
    ms = np.array([s[0] for s in server.samples])
    statuses = [s[1] for s in server.samples]
    feats = np.array([s[2] for s in server.samples])
    return {
        "requests": len(ms), "seconds": round(server.seconds, 1),
        "throughput_rps": round(len(ms) / server.seconds, 1),
        # load-independent enough to compare runs on a busy machine: answers per CPU-second of the server itself
        "requests_per_cpu_second": round(len(ms) / server.cpu_seconds, 1) if server.cpu_seconds else None,
        "p50_ms": round(float(np.percentile(ms, 50)), 1), "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1), "max_ms": round(float(ms.max()), 1),
        "non_200": sum(1 for s in statuses if s != 200),
        "statuses": {str(k): v for k, v in sorted(Counter(statuses).items())},
        "without_features": int((feats == 0).sum()),
        "features_median": int(np.median(feats)), "features_mean": round(float(feats.mean()), 1),
    }


def markdown(res: dict[str, Any]) -> str:
    verdict = {True: "met", False: "**missed**"}
    p = res["servers"]["pygeoapi_gpkg"]
    lines = [
        BEGIN,
        f"`{res['command']}` — {res['date']}, {res['machine']}; load average {res['load']} at the start, "
        f"{res['load_end']} at the end.",
        "",
        f"kursk-border (synthetic, seed {res['seed']}, {res['hazards']:,} hazard areas, planned with the greedy "
        f"engine). {res['workers']} worker processes per server, {res['clients']} concurrent keep-alive clients on "
        f"the loopback, {res['warmup']} s warm-up then {res['duration']} s measured per server"
        + (f" in each of {res['rounds']} rounds (servers taking turns, figures pooled)" if res["rounds"] > 1 else "")
        + f"; every request `{PATH}?limit={res['limit']}&bbox=…` with one of {res['boxes']} boxes (seed "
        f"{res['seed']}, 5-40 km, centred on hazard areas), the same boxes in the same order for every server; "
        "sapper as the authority's im-officer (bearer token). All answers 200 with features (the run fails "
        f"otherwise). pygeoapi {res['pygeoapi_version']} (SQLiteGPKG provider, SpatiaLite {res['spatialite']}) "
        f"under gunicorn {res['gunicorn_version']} sync workers (which close the connection after each answer: "
        "pygeoapi's clients reconnect, and that counts in its latency); sapper under uvicorn "
        f"{res['uvicorn_version']}.",
        "",
        f"sapper with `--threads {res['threads']}` and without its access log (`--no-access-log`; gunicorn writes "
        "none unless told to). *Answers per "
        "CPU-second*: requests answered per second of CPU used by the server's own processes while measured "
        "(the database server's CPU is not in it for PostGIS).",
        "",
        f"| server | requests | throughput (req/s) | × pygeoapi | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | "
        f"answers per CPU-second | features per answer (median) | target p99 ≤ {TARGET_P99_MS:.0f} ms | "
        f"target ≥ {TARGET_RATIO:.0f}× pygeoapi |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for key, name in (("sapper_gpkg", "sapper, GeoPackage"), ("sapper_postgis", "sapper, PostGIS"),
                      ("pygeoapi_gpkg", "pygeoapi, GeoPackage")):
        r = res["servers"][key]
        ratio = r["throughput_rps"] / p["throughput_rps"]
        p99 = "—" if key == "pygeoapi_gpkg" else verdict[r["p99_ms"] <= TARGET_P99_MS]
        ahead = "—" if key == "pygeoapi_gpkg" else verdict[ratio >= TARGET_RATIO]
        lines.append(f"| {name} | {r['requests']:,} | {r['throughput_rps']:.1f} | {ratio:.2f} | {r['p50_ms']:.1f} "
                     f"| {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['requests_per_cpu_second']} | "
                     f"{r['features_median']} | "
                     f"{p99} | {ahead} |")
    lines += ["", "Feature counts differ a little because pygeoapi's `bbox` is an exact intersection "
              "(SpatiaLite `Intersects`) and sapper's an envelope overlap (R-tree / GiST `&&`), as OGC API – "
              "Features Part 1 allows.", END]
    return "\n".join(lines)


@contextlib.contextmanager
def postgis(admin_url: str, gpkg: Path) -> Iterator[str]:
    """A new PostGIS database holding a ``sapper copy`` of ``gpkg``; dropped afterwards."""
    pg_url = make_url(admin_url).set(database=f"sapper_apibench_{os.getpid()}_{secrets.token_hex(3)}")
    url = pg_url.render_as_string(hide_password=False)
    try:
        run([SAPPER, "copy", "--from", str(gpkg), "--to", url])
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()
        yield url
    finally:
        admin = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_url.database}" WITH (FORCE)'))
        admin.dispose()


def spatialite_version() -> str:
    import pysqlite3.dbapi2 as psql  # type: ignore[import-not-found]

    conn = psql.connect(":memory:")
    conn.enable_load_extension(True)
    conn.load_extension(os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite.so"))
    found: str = conn.execute("SELECT spatialite_version()").fetchone()[0]
    conn.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--boxes", type=int, default=500)
    parser.add_argument("--pg", default=os.environ.get("SAPPER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--write", type=Path, default=None, help="replace the api-latency section of this file")
    parser.add_argument("--threads", type=int, default=16, help="sapper serve --threads (requests per worker at once)")
    parser.add_argument("--no-pygeoapi", action="store_true",
                        help="sapper only (a quick run where pygeoapi is not installed); nothing is written")
    args = parser.parse_args()
    if args.no_pygeoapi and args.write:
        parser.error("--write needs pygeoapi beside sapper (the section compares them); drop --no-pygeoapi")
    load_avg = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    res: dict[str, Any] = {
        "command": ("python benchmarks/api_latency.py " + " ".join(sys.argv[1:])).strip(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "load": load_avg,
        "workers": args.workers, "threads": args.threads, "clients": args.clients, "duration": args.duration,
        "warmup": args.warmup,
        "rounds": args.rounds, "seed": args.seed, "limit": args.limit, "boxes": args.boxes,
        "uvicorn_version": metadata.version("uvicorn"),
    }
    if not args.no_pygeoapi:
        res.update(pygeoapi_version=metadata.version("pygeoapi"), gunicorn_version=metadata.version("gunicorn"),
                   spatialite=spatialite_version())
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="sapper-apibench-") as tmp:
        work = Path(tmp)
        gpkg = build_store(work, args.seed)
        with contextlib.closing(sqlite3.connect(gpkg)) as conn:
            res["hazards"] = conn.execute("SELECT count(*) FROM hazard_areas").fetchone()[0]
            extent = conn.execute("SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_hazard_areas_geom"
                                  ).fetchone()
        queries = [f"{PATH}?limit={args.limit}&bbox={','.join(f'{v:.5f}' for v in b)}".encode()
                   for b in boxes(gpkg, args.boxes, args.seed)]
        with postgis(args.pg, gpkg) as pg_url:
            env = {k: v for k, v in os.environ.items() if k not in ("SAPPER_DB",)}
            env["SAPPER_DATA_KEY"] = base64.b64encode(os.urandom(32)).decode()  # sapper serve needs a real key
            for key, label, db in (("sapper_gpkg", "sapper, GeoPackage", str(gpkg)),
                                   ("sapper_postgis", "sapper, PostGIS", pg_url)):
                port = free_port()
                servers.append(Server(key, label, port, [SAPPER, "serve", "--db", db, "--port", str(port),
                                                         "--workers", str(args.workers), "--no-access-log",
                                                         "--threads", str(args.threads)], env,
                                      {"Authorization": f"Bearer {token(db)}"}))
            if not args.no_pygeoapi:
                port = free_port()
                own = work / "pygeoapi.gpkg"  # a copy (SQLite's backup): pygeoapi's provider writes DDL into its file
                with contextlib.closing(sqlite3.connect(gpkg)) as src, contextlib.closing(sqlite3.connect(own)) as dst:
                    src.backup(dst)
                config = pygeoapi_config(work, own, port, tuple(extent))
                servers.append(Server(
                    "pygeoapi_gpkg", "pygeoapi, GeoPackage", port,
                    [GUNICORN, "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                     "pygeoapi_wsgi:APP"],
                    {**env, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(work / "pygeoapi-openapi.yml"),
                     "PYTHONPATH": str(work)},
                    servers[0].headers))
            try:
                for s in servers:
                    s.start(work)
                for s in servers:
                    s.wait_ready(queries[0].decode())
                    print(f"{s.label}: ready on port {s.port}", flush=True)
                for r in range(args.rounds):
                    for s in servers:
                        asyncio.run(load(s, queries, args.clients, args.warmup, record=False))
                        asyncio.run(load(s, queries, args.clients, args.duration, record=True))
                        print(f"round {r + 1}, {s.label}: {summary(s)}", flush=True)
            finally:
                for s in servers:
                    s.stop()
                for s in servers:  # what went wrong, if anything did, before the folder goes
                    if any(status != 200 for _, status, _ in s.samples):
                        tail = (work / f"{s.name}.log").read_text(errors="replace")[-3000:]
                        print(f"--- {s.label}: end of its log ---\n{tail}", file=sys.stderr)
    res["load_end"] = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    res["servers"] = {s.name: summary(s) for s in servers}
    bad = {k: (v["non_200"], v["without_features"]) for k, v in res["servers"].items()
           if v["non_200"] or v["without_features"]}
    if bad:
        raise SystemExit(f"answers that were not 200 or carried no features (non-200, featureless): {bad}; "
                         "nothing written")
    if args.no_pygeoapi:  # a quick sapper-only run: the figures on the terminal, nothing written
        for name, figures in res["servers"].items():
            print(f"{name}: {figures}")
        return
    out = markdown(res)
    print(out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    if args.write:
        write_section(args.write, BEGIN, END, out, "## Web service: items under 50 concurrent clients, beside "
                                                   "pygeoapi")


if __name__ == "__main__":
    main()
