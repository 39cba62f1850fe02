"""Benchmark: import messy GIS files — 10,000 hazard features (about 40 % broken) and single 100,000-vertex polygons.

    .venv/bin/python benchmarks/import_messy.py [--seed 2025] [--features 10000] [--vertices 100000] [--repeat 3]
                                                [--write docs/benchmarks.md]

The files are built in code with a fixed seed by ``tests/io/messy_gis.py`` (the generator the tests use): a GeoJSON
register with null, empty, self-intersecting, unclosed, collapsed, duplicated and wrong-CRS features, and files
holding one 100,000-vertex polygon (a smooth valid one; a bow-tie that must be repaired; a valid but jagged one, the
slowest case for GEOS's validity check), as GeoJSON and GeoPackage. Each
is imported into a fresh empty store by the installed command line, ``sapper import hazards FILE --db DB``, in its
own process: the wall time is end to end (Python start-up, reading, repair, the one write transaction, the summary),
and the child's CPU time is given too (machines here are shared; the load average is recorded). The import is also
timed in-process (``sapper.services.imports.import_file``, start-up excluded), which gives features per second.
Each figure is the median of ``--repeat`` runs. With ``--write`` the results replace the section between
``<!-- import-messy:begin -->`` and ``<!-- import-messy:end -->`` in the file (appended if the markers are absent);
the rest of the file is left as it is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the generator lives with the tests

import numpy as np  # noqa: E402
from _common import machine, write_section  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402
from tests.io.messy_gis import (  # noqa: E402
    Feature,
    Geom,
    MessyRegister,
    big_bow_tie,
    big_polygon,
    messy_register,
    write_messy,
)

from sapper.services.imports import import_file  # noqa: E402
from sapper.store import open_store  # noqa: E402

BEGIN = "<!-- import-messy:begin -->"
END = "<!-- import-messy:end -->"
SAPPER = str(Path(sys.executable).with_name("sapper"))


def _load() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _empty_store(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with open_store(path, create=True):
        pass
    return path


@dataclass
class Run:
    wall: float
    cpu: float
    stdout: str


def _cli(file: Path, db: Path) -> Run:
    """`sapper import hazards FILE --db DB` in a child process: wall time and the child's own CPU time."""
    args = [SAPPER, "import", "hazards", str(file), "--db", str(db), "--report", str(db.with_suffix(".issues.csv"))]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"sapper import failed: {err.read().strip()}")
        return Run(wall, usage.ru_utime + usage.ru_stime, out.read())


def _in_process(file: Path, db: Path) -> Run:
    t0, c0 = time.perf_counter(), time.process_time()
    with open_store(db) as store:  # opened inside the timing, as the command opens it
        summary = import_file(store, file, "hazards")
    return Run(time.perf_counter() - t0, time.process_time() - c0, summary.counts)


def _median(runs: list[Run], key: Callable[[Run], float]) -> float:
    return statistics.median(key(r) for r in runs)


@dataclass
class Result:
    name: str
    features: int
    vertices: int
    cli: list[Run]
    inproc: list[Run]


def _measure(name: str, file: Path, work: Path, repeat: int, features: int, vertices: int) -> Result:
    cli, inproc = [], []
    for i in range(repeat):
        cli.append(_cli(file, _empty_store(work / f"cli-{i}.gpkg")))
        inproc.append(_in_process(file, _empty_store(work / f"in-{i}.gpkg")))
    first = {r.stdout.splitlines()[0] for r in cli} | {r.stdout for r in inproc}
    if len(first) != 1:
        raise SystemExit(f"{name}: runs disagree: {first}")
    print(f"{name}: {first.pop()}; CLI wall {_median(cli, lambda r: r.wall):.2f} s", file=sys.stderr)
    return Result(name, features, vertices, cli, inproc)


def _count(coords: Any) -> int:
    """Vertices in GeoJSON-style nested coordinates."""
    if not coords:
        return 0
    if isinstance(coords[0], int | float):
        return 1
    return sum(_count(c) for c in coords)


def _jagged(rng: np.random.Generator, cx: float, cy: float, n: int) -> tuple[Geom, Polygon]:
    """A valid but pathological polygon: ``n`` vertices round a circle, each at a random radius within 5 %, so
    every edge is a long thin spike and GEOS's validity check (which sapper runs twice: on reading, and when the
    domain record checks itself) is at its slowest."""
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = 0.05 * (1.0 + 0.05 * rng.random(n))
    ring = np.round(np.column_stack((cx + 1.6 * r * np.cos(t), cy + r * np.sin(t))), 8)
    ring = np.vstack((ring, ring[:1]))
    return Geom("Polygon", [ring.tolist()]), Polygon(ring)


def _one(register_fmt: str, feature: Feature) -> MessyRegister:
    return MessyRegister(register_fmt, [feature], seed=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--features", type=int, default=10_000)
    ap.add_argument("--vertices", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", type=Path, default=None, help="Markdown file whose import-messy section to replace.")
    args = ap.parse_args()

    load_before = _load()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sapper-import-bench-") as tmp:
        work = Path(tmp)
        register = messy_register("geojson", args.features, seed=args.seed, big=0)
        file = write_messy(register, work / "messy.geojson")
        vertices = sum(_count(f.geometry.coordinates) for f in register.features if f.geometry is not None)
        results.append(_measure(f"{args.features:,} messy features (GeoJSON)", file, work, args.repeat,
                                len(register.features), vertices))
        rng = np.random.default_rng(args.seed)
        geom, poly = big_polygon(rng, 35.0, 51.0, args.vertices)
        bow, lobes = big_bow_tie(rng, 35.3, 51.2, args.vertices)
        jag, jagged = _jagged(rng, 35.6, 51.4, args.vertices)
        props = {"id": "big", "hazard_class": "SHA", "beneficiaries": 0, "synthetic": True}
        for label, g, expected, outcome in (("valid", geom, poly, "imported"),
                                            ("bow-tie, repaired", bow, lobes, "repaired"),
                                            ("jagged, valid", jag, jagged, "imported")):
            feature = Feature(1, "big", "big", outcome, "", props, g, expected)
            for fmt, suffix in (("geojson", "geojson"), ("gpkg", "gpkg")):
                path = write_messy(_one(fmt, feature), work / f"big-{label[:5]}.{suffix}")
                results.append(_measure(f"one {args.vertices:,}-vertex polygon, {label} ({suffix})", path, work,
                                        args.repeat, 1, args.vertices))
    load_after = _load()

    command = (f"`.venv/bin/python benchmarks/import_messy.py --seed {args.seed} --features {args.features} "
               f"--vertices {args.vertices} --repeat {args.repeat}"
               + (f" --write {args.write}`" if args.write else "`"))
    lines = [
        BEGIN,
        f"Run on {time.strftime('%Y-%m-%d')}, {machine()}. Load average (1/5/15 min) {load_before} before, "
        f"{load_after} after.",
        "",
        f"Command: {command}",
        "",
        "| file | features | vertices | imported, repaired, rejected | CLI wall (s) | CLI CPU (s) | "
        "in-process wall (s) | in-process CPU (s) | features/s (in-process wall) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        counts = r.inproc[0].stdout.replace("imported ", "").replace("repaired ", "").replace("rejected ", "")
        inproc = _median(r.inproc, lambda x: x.wall)
        lines.append(
            f"| {r.name} | {r.features:,} | {r.vertices:,} | {counts} | {_median(r.cli, lambda x: x.wall):.2f} | "
            f"{_median(r.cli, lambda x: x.cpu):.2f} | {inproc:.2f} | {_median(r.inproc, lambda x: x.cpu):.2f} | "
            f"{f'{r.features / inproc:,.0f}' if r.features > 1 else '—'} |"
        )
    lines += ["", f"Medians of {args.repeat} runs, each into a fresh empty store.", END]
    section = "\n".join(lines)
    print(section)
    if args.write:
        about = textwrap.fill(_ABOUT, width=120, break_long_words=False, break_on_hyphens=False)
        write_section(args.write, BEGIN, END, section, "## Messy GIS imports\n\n" + about)


_ABOUT = (
    "`sapper import hazards` on messy files built in code (`tests/io/messy_gis.py`, fixed seed): a GeoJSON register "
    "of which about 40 % of the features are broken (null, empty, self-intersecting, unclosed, collapsed, "
    "duplicated ids and geometries, UTM metres in a file that says EPSG:4326, bad attributes), and files holding a "
    "single 100,000-vertex polygon: a smooth valid one, a bow-tie to repair, and a valid but jagged one (every "
    "vertex at a random radius within 5 %: the slowest case for GEOS's validity check). \"CLI\" is the installed "
    "command in its own process, end to end (Python start-up included; the child's CPU time beside its wall time, "
    "since the machine is shared; about 2 s of it is Python start-up, importing pyogrio, pandas, SQLAlchemy and "
    "Alembic, as for any `sapper import`); \"in-process\" is `import_file` alone. The target is a 100,000-vertex "
    "polygon imported in under 5 s, end to end."
)


if __name__ == "__main__":
    main()
