"""Benchmark: 10,000 Monte Carlo runs of the kursk-border plan — runs per second and peak memory.

    .venv/bin/python benchmarks/forecast_speed.py [--seed 2025] [--runs 10000] [--dask-workers 2]
                                                  [--write docs/benchmarks.md]

The scenario is built and planned (greedy engine) through the installed CLI in child processes; the forecast then
runs in this process, after a 16-run warm-up that loads the compiled code. ``seconds`` is the Monte Carlo's own
time (sampling and the compiled serial scheme, a chunk of runs per kernel call on a thread per core, then the
percentiles); compiling the register again is not in it and is reported apart, as is the CPU time of this process
over the forecast (all threads: on a shared machine, wall time above CPU time / cores is time the cores were busy
with others). Peak memory is this process's maximum resident set. The same forecast then runs on a Dask
LocalCluster of ``--dask-workers`` worker processes (0: skipped); its percentiles, dates and criticality are
compared with the local ones. Results go to benchmarks/results/forecast_speed.json and, with ``--write``, replace
the section between the markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, write_section

from sapper.services.forecast import dask_chunk_map, forecast_document, forecast_plan
from sapper.store import open_store

BEGIN, END = "<!-- forecast-speed:begin -->", "<!-- forecast-speed:end -->"
SAPPER = str(Path(sys.executable).with_name("sapper"))
RESULTS = Path(__file__).parent / "results" / "forecast_speed.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--dask-workers", type=int, default=2)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    here = machine()  # before Dask, which sets OMP_NUM_THREADS=1 in this process (nproc would then say 1)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kursk.gpkg"
        subprocess.run([SAPPER, "scenario", "build", "kursk-border", "--seed", str(args.seed), "--db", str(db)],
                       check=True, capture_output=True)
        subprocess.run([SAPPER, "plan", "--db", str(db), "--engine", "greedy", "--json"], check=True,
                       capture_output=True)
        with open_store(db) as store:
            forecast_plan(store, runs=16, seed=0)  # loads (or compiles) the compiled code
            load_before = [round(x, 2) for x in os.getloadavg()]
            t0, c0 = time.perf_counter(), time.process_time()
            f = forecast_plan(store, runs=args.runs, seed=0)
            total, cpu = time.perf_counter() - t0, time.process_time() - c0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            tasks = store.latest_plan()
            n_tasks = tasks.task_count if tasks else 0
            dask: dict[str, object] = {"workers": args.dask_workers}
            if args.dask_workers > 0:
                with dask_chunk_map(args.dask_workers) as cmap:
                    d = forecast_plan(store, runs=args.runs, seed=0, chunk_map=cmap)
                local, remote = forecast_document(f), forecast_document(d)
                keys = ("overall", "areas", "assets", "asset_types", "critical_tasks", "burn_down", "clipped_lots",
                        "beyond_horizon")
                dask.update(seconds=d.seconds, identical=all(local[k] == remote[k] for k in keys))
    doc = {"command": f"python benchmarks/forecast_speed.py --seed {args.seed} --runs {args.runs} "
                      f"--dask-workers {args.dask_workers}",
           "date": dt.date.today().isoformat(), "machine": here,
           "load_average_before": load_before, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
           "runs": f.runs, "tasks": n_tasks,
           "monte_carlo_seconds": f.seconds, "runs_per_second": round(f.runs / f.seconds, 1),
           "forecast_plan_seconds": round(total, 2), "cpu_seconds": round(cpu, 2), "cores": os.cpu_count(),
           "peak_rss_mib": round(peak), "dask": dask,
           "target": "10,000 runs in ≤ 10 s", "met": f.seconds <= 10.0 * f.runs / 10_000,
           "planned_finish": str(f.planned_finish),
           "overall": {k: str(getattr(f.overall, k)) for k in ("p10", "p50", "p80", "p90")},
           "beyond_horizon": f.beyond_horizon, "clipped_lots": f.clipped_lots}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))
    if args.write:
        text = "\n".join([
            BEGIN,
            f"`{doc['command']}` — {doc['date']}, {doc['machine']}; load average (1, 5, 15 min) before "
            f"{doc['load_average_before']} and at the end {doc['load_average_at_end']} (the machine is shared).",
            "",
            "| runs | tasks | Monte Carlo s | runs/s | forecast_plan s (with compiling) | CPU s (all threads) | "
            "peak RSS | target met |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| {f.runs:,} | {n_tasks:,} | {f.seconds:.1f} | {doc['runs_per_second']:,} | {total:.1f} | {cpu:.1f} | "
            f"{doc['peak_rss_mib']} MiB | {'yes' if doc['met'] else 'no'} (10,000 runs in ≤ 10 s) |",
            "",
            (f"The same forecast on a Dask LocalCluster of {args.dask_workers} worker processes: "
             f"{dask['seconds']:.1f} s (Monte Carlo), percentiles, dates and criticality "
             f"{'identical' if dask['identical'] else 'DIFFERENT'} to the local run."
             if args.dask_workers > 0 else "Dask run skipped (--dask-workers 0)."),
            "",
            f"Plan (greedy) finishes {f.planned_finish}; forecast P10 {f.overall.p10}, P50 {f.overall.p50}, "
            f"P80 {f.overall.p80}, P90 {f.overall.p90} ({f.beyond_horizon} runs beyond the horizon, "
            f"{f.clipped_lots} lot-runs cut to a season).",
            END,
        ])
        write_section(args.write, BEGIN, END, text, "## Forecast speed: 10,000 Monte Carlo runs of kursk-border")


if __name__ == "__main__":
    main()
