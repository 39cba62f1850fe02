"""Benchmark: bulk import of clean hazard polygons (issue 17 item 5: >= 20,000 features/s in-process), beside pyogrio.

    .venv/bin/python benchmarks/import_bulk.py [--features 100000] [--seed 2026] [--repeat 3] [--note TEXT]
                                               [--write docs/benchmarks.md] [--render-only]

A GeoPackage of ``--features`` clean octagons (50 to 400 m across, in UTM zone 37N around the kursk-border region, so
the import reprojects every vertex; attributes of the kinds a register has, and one column sapper does not use, kept
as a source attribute) is built in code with a fixed seed. Each run, in one process and side by side: pyogrio's raw
read of the same file (``pyogrio.raw.read``: attributes and WKB, no decoding, no checks: the floor for any reader),
then ``sapper.services.imports.import_file`` into a fresh empty GeoPackage store (open, read, check, reproject, area,
write, audit row per record, commit). Each figure is the median of ``--repeat`` runs; features/s is features divided
by the in-process wall time. With ``--write`` the results go to ``benchmarks/results/import_bulk.json`` and the section
between ``<!-- import-bulk:begin -->`` and ``<!-- import-bulk:end -->`` of the given file is rendered from them
(``--render-only`` renders it from the stored results without measuring). ``--note`` is printed with the figures (say
so when the machine was busy).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio.raw
import shapely
from _common import machine, write_section

from sapper.services.imports import import_file
from sapper.store import open_store

BEGIN = "<!-- import-bulk:begin -->"
END = "<!-- import-bulk:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "import_bulk.json"
TARGET = 20_000


def _load() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def clean_polygons(path: Path, n: int, seed: int) -> Path:
    """``n`` clean hazard polygons (octagons with jittered radii) in EPSG:32637, fixed ``seed``."""
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(300_000, 500_000, n), rng.uniform(5_600_000, 5_800_000, n)
    radius = rng.uniform(25, 200, n)[:, None] * rng.uniform(0.7, 1.0, (n, 8))
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ring = np.stack([cx[:, None] + radius * np.cos(angles), cy[:, None] + radius * np.sin(angles)], axis=2)
    frame = gpd.GeoDataFrame({
        "id": [f"HZ-{k:06d}" for k in range(n)],
        "name": [f"Area {k}" for k in range(n)],
        "hazard_class": np.where(rng.random(n) < 0.6, "SHA", "CHA"),
        "land_use": rng.choice(["agricultural", "forest", "residential", "infrastructure", "other"], n),
        "device_categories": rng.choice(["", "ap_mine", "at_mine", "ap_mine,erw_uxo"], n),
        "beneficiaries": rng.integers(0, 5_000, n),
        "survey_ref": [f"NTS/{k}" for k in range(n)],
    }, geometry=list(shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1))), crs="EPSG:32637")
    frame.to_file(path, layer="hazard_areas", driver="GPKG")
    return path


def _empty_store(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with open_store(path, create=True):
        pass
    return path


def measure(features: int, seed: int, repeat: int) -> dict[str, Any]:
    raw: list[float] = []
    sapper: list[float] = []
    cpu: list[float] = []
    counts: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="sapper-import-bulk-") as tmp:
        work = Path(tmp)
        file = clean_polygons(work / "clean.gpkg", features, seed)
        for i in range(repeat):
            t0 = time.perf_counter()
            meta, _, wkb, fields = pyogrio.raw.read(file)
            raw.append(time.perf_counter() - t0)
            assert len(wkb) == features and len(fields) == len(meta["fields"])
            db = _empty_store(work / f"store-{i}.gpkg")
            t0, c0 = time.perf_counter(), time.process_time()
            with open_store(db) as store:
                summary = import_file(store, file, "hazards")
            sapper.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            counts.add(summary.counts)
            print(f"run {i + 1}: pyogrio {raw[-1]:.2f} s, sapper {sapper[-1]:.2f} s (CPU {cpu[-1]:.2f} s, "
                  f"{features / cpu[-1]:,.0f} features per CPU second; {summary.counts})", file=sys.stderr)
    if len(counts) != 1:
        raise SystemExit(f"runs disagree: {counts}")
    return {"features": features, "seed": seed, "repeat": repeat, "counts": counts.pop(),
            "pyogrio_s": statistics.median(raw), "sapper_s": statistics.median(sapper),
            "sapper_cpu_s": statistics.median(cpu)}


def markdown(results: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md, from the stored results."""
    n = results["features"]
    per_s = n / results["sapper_s"]
    raw_per_s = n / results["pyogrio_s"]
    lines = [
        BEGIN,
        f"Run on {results['date']}, {results['machine']}. Load average (1/5/15 min) {results['load_before']} before, "
        f"{results['load_after']} after." + (f" {results['note']}" if results.get("note") else ""),
        "",
        f"Command: `{results['command']}`",
        "",
        "| what | wall (s) | CPU (s) | features/s (wall) |",
        "|---|---:|---:|---:|",
        f"| pyogrio raw read (attributes and WKB, no checks) | {results['pyogrio_s']:.2f} | — | {raw_per_s:,.0f} |",
        f"| sapper import, in-process ({results['counts']}) | {results['sapper_s']:.2f} | "
        f"{results['sapper_cpu_s']:.2f} | {per_s:,.0f} |",
        "",
        f"{n:,} clean polygons, seed {results['seed']}; medians of {results['repeat']} runs, each into a fresh empty "
        f"GeoPackage store. sapper's import takes {results['sapper_s'] / results['pyogrio_s']:.1f} × pyogrio's raw "
        f"read; target ≥ {TARGET:,} features/s: {'met' if per_s >= TARGET else 'not met'} in this run.",
        END,
    ]
    return "\n".join(lines)


_ABOUT = (
    "`benchmarks/import_bulk.py`: a GeoPackage of 100,000 clean hazard polygons in UTM zone 37N (fixed seed) imported "
    "in-process by `import_file` (read, check, reproject to WGS84, area, write, one audit row per record, one "
    "transaction) into a fresh GeoPackage store, beside pyogrio's raw read of the same file in the same run. A file "
    "whose every feature is clean takes the fast path (`sapper.io.bulk`); a messy one is read record by record "
    "(the messy-import section above)."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--note", default="", help="Said with the figures (e.g. that the machine was busy).")
    ap.add_argument("--write", type=Path, default=None, help="Markdown file whose import-bulk section to replace.")
    ap.add_argument("--render-only", action="store_true", help="Render the section from the stored results.")
    args = ap.parse_args()
    if args.render_only:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    else:
        load_before = _load()
        results = measure(args.features, args.seed, args.repeat)
        command = (f".venv/bin/python benchmarks/import_bulk.py --features {args.features} --seed {args.seed} "
                   f"--repeat {args.repeat}" + (f" --note {json.dumps(args.note)}" if args.note else "")
                   + (f" --write {args.write}" if args.write else ""))
        results |= {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "load_before": load_before,
                    "load_after": _load(), "note": args.note, "command": command}
        if args.write:
            RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    section = markdown(results)
    print(section)
    if args.write:
        about = textwrap.fill(_ABOUT, width=120, break_long_words=False, break_on_hyphens=False)
        write_section(args.write, BEGIN, END, section, "## Bulk import of clean polygons\n\n" + about)


if __name__ == "__main__":
    main()
