"""Benchmark: features by box from 50,000 hazard polygons, on a GeoPackage store and on a PostGIS store.

    .venv/bin/python benchmarks/store_bbox.py [--features 50000] [--queries 200] [--seed 2025]
                                              [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                              [--write docs/benchmarks.md]

50,000 synthetic hazard polygons (fixed seed): star-shaped rings of 8-16 vertices whose areas follow a log-normal
around 20,000 m² (1,000 m² to 1 km², the spread of a Bosnia-and-Herzegovina-like register), clustered around 60
centres in a box of about 200 × 200 km (17.0-19.5° E, 43.6-45.4° N). They are written through the Store API into a
new GeoPackage file and into a new PostGIS database (created on the server ``--pg`` names, or ``SAPPER_TEST_PG``,
and dropped at the end). Then 200 boxes (fixed seed; sides 2-25 km, so most hold a few hundred features) are asked
of both through ``Store.bbox_features(..., limit=1000)`` — ids, geometry and row version of at most 1,000 features
in id order, what one page of an OGC API Features items response needs — each query timed end to end (SQL, transfer,
geometry decoded to shapely). Ten warm-up queries are not counted. Reported: median and p99 per backend, the
features per query, the load time, and PostgreSQL's plan for one box (whether the GiST index is used). With
``--write`` the results replace the section between ``<!-- store-bbox:begin -->`` and ``<!-- store-bbox:end -->``;
the JSON goes to ``benchmarks/results/store_bbox.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from _common import command_line, machine, write_section
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.store import Store, open_store

BEGIN, END = "<!-- store-bbox:begin -->", "<!-- store-bbox:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "store_bbox.json"
BOX = (17.0, 43.6, 19.5, 45.4)
TARGET_MS = 50.0
LIMIT = 1000


def hazards(n: int, seed: int) -> list[HazardArea]:
    """``n`` star-shaped hazard polygons clustered around 60 centres in BOX (see the module docstring)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = BOX
    centres = np.column_stack([rng.uniform(minx + 0.1, maxx - 0.1, 60), rng.uniform(miny + 0.1, maxy - 0.1, 60)])
    out = []
    for i in range(n):
        cx, cy = centres[rng.integers(60)] + rng.normal(0, 0.25, 2)
        cx, cy = float(np.clip(cx, minx, maxx)), float(np.clip(cy, miny, maxy))
        area = float(np.clip(rng.lognormal(math.log(20_000), 1.0), 1_000, 1_000_000))  # m²
        radius_m = math.sqrt(area / math.pi)
        k = int(rng.integers(8, 17))
        angles = np.sort(rng.uniform(0, 2 * math.pi, k))
        radii = radius_m * rng.uniform(0.7, 1.3, k)
        dx = radii * np.cos(angles) / (111_320 * math.cos(math.radians(cy)))
        dy = radii * np.sin(angles) / 110_540
        ring = shapely.Polygon(np.column_stack([cx + dx, cy + dy]))
        if not ring.is_valid:
            ring = ring.convex_hull
        cha = i % 3 == 0
        out.append(HazardArea(f"BIH-{i:06d}", HazardClass.CHA if cha else HazardClass.SHA, ring,
                              Evidence.DIRECT if cha else Evidence.INDIRECT, synthetic=True))
    return out


def boxes(n: int, seed: int) -> list[tuple[float, float, float, float]]:
    """``n`` query boxes inside BOX, sides 2-25 km."""
    rng = np.random.default_rng(seed + 1)
    minx, miny, maxx, maxy = BOX
    out = []
    for _ in range(n):
        w_km, h_km = rng.uniform(2, 25, 2)
        lat = float(rng.uniform(miny, maxy))
        w = w_km / (111.32 * math.cos(math.radians(lat)))
        h = h_km / 110.54
        x = float(rng.uniform(minx, maxx - w))
        y = float(min(lat, maxy - h))
        out.append((x, y, x + w, y + h))
    return out


def load(store: Store, records: list[HazardArea]) -> float:
    t0 = time.perf_counter()
    with store.write() as uow:
        for start in range(0, len(records), 5_000):
            uow.add_hazards(records[start:start + 5_000])
    return time.perf_counter() - t0


def time_queries(store: Store, queries: list[tuple[float, float, float, float]]) -> dict[str, Any]:
    for q in queries[:10]:  # warm-up: caches, connection pool, prepared plans
        store.bbox_features("hazard_areas", *q, limit=LIMIT)
    ms, counts = [], []
    for q in queries:
        t0 = time.perf_counter()
        found = store.bbox_features("hazard_areas", *q, limit=LIMIT)
        ms.append((time.perf_counter() - t0) * 1000)
        counts.append(len(found))
    ids_ms = []
    for q in queries:
        t0 = time.perf_counter()
        store.bbox_search("hazard_areas", *q)
        ids_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "median_ms": round(statistics.median(ms), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(max(ms), 2),
        "ids_only_median_ms": round(statistics.median(ids_ms), 2),
        "features_median": int(statistics.median(counts)),
        "features_max": max(counts),
        "features_total": sum(counts),
    }


def explain(url: str, q: tuple[float, float, float, float]) -> str:
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "EXPLAIN SELECT id, geom, version FROM hazard_areas WHERE geom && ST_MakeEnvelope(:a, :b, :c, :d, "
                "4326) ORDER BY id LIMIT 1000"), {"a": q[0], "b": q[1], "c": q[2], "d": q[3]}).scalars()
            return "\n".join(rows)
    finally:
        engine.dispose()


def markdown(res: dict[str, Any]) -> str:
    g, p = res["gpkg"], res["postgis"]
    verdict = {True: "met", False: "**missed**"}
    lines = [
        BEGIN,
        f"`{res['command']}` — {res['date']}, {res['machine']}; load average at the start {res['load']}.",
        "",
        f"{res['features']:,} synthetic hazard polygons (seed {res['seed']}, 8-16 vertices, median "
        f"{res['area_median_m2']:,.0f} m²) in a {res['box_km']} km box; {res['queries']} boxes of 2-25 km "
        f"(seed {res['seed']} + 1), each through `Store.bbox_features(..., limit={LIMIT})`: ids, shapely geometry and "
        "row version, timed end to end after 10 warm-up queries.",
        "",
        "| backend | load (s) | median (ms) | p99 (ms) | max (ms) | ids only, median (ms) | features per box "
        f"(median / max) | target ≤ {TARGET_MS:.0f} ms (median and p99) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("GeoPackage (SQLite R-tree)", g), ("PostGIS (GiST)", p)):
        met = r["median_ms"] <= TARGET_MS and r["p99_ms"] <= TARGET_MS
        lines.append(f"| {name} | {r['load_s']:.1f} | {r['median_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} "
                     f"| {r['ids_only_median_ms']:.1f} | {r['features_median']} / {r['features_max']} | "
                     f"{verdict[met]} |")
    lines += ["", "PostgreSQL's plan for the first box:", "", "```", res["explain"], "```", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--features", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--pg", default=os.environ.get("SAPPER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--write", type=Path, default=None, help="replace the store-bbox section of this markdown file")
    args = parser.parse_args()
    load_avg = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    records = hazards(args.features, args.seed)
    queries = boxes(args.queries, args.seed)
    pg_url = make_url(args.pg).set(database=f"sapper_bench_{os.getpid()}_{secrets.token_hex(3)}")
    url = pg_url.render_as_string(hide_password=False)
    res: dict[str, Any] = {
        "command": command_line("store_bbox.py", sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "load": load_avg,
        "features": args.features, "queries": args.queries, "seed": args.seed, "box_km": "200 × 200",
        "area_median_m2": statistics.median(h.geometry.area * 111_320 * 110_540 * math.cos(math.radians(44.5))
                                            for h in records),
    }
    with tempfile.TemporaryDirectory() as tmp:
        with open_store(Path(tmp) / "bbox.gpkg", create=True) as gpkg:
            res["gpkg"] = {"load_s": round(load(gpkg, records), 1)}
            res["gpkg"].update(time_queries(gpkg, queries))
        print("gpkg", res["gpkg"], flush=True)
    try:
        with open_store(url, create=True) as pg:
            res["postgis"] = {"load_s": round(load(pg, records), 1)}
            engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("VACUUM ANALYZE hazard_areas"))
            engine.dispose()
            res["postgis"].update(time_queries(pg, queries))
        res["explain"] = explain(url, queries[0])
        print("postgis", res["postgis"], flush=True)
    finally:
        admin = create_engine(make_url(args.pg).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_url.database}" WITH (FORCE)'))
        admin.dispose()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    out = markdown(res)
    print(out)
    if args.write:
        write_section(args.write, BEGIN, END, out, "## Store: features by box, GeoPackage and PostGIS")


if __name__ == "__main__":
    main()
