"""Benchmark: the forecast's speed beside another version of sapper, on the same plan, in the same session.

    .venv/bin/python benchmarks/forecast_speed_compare.py --baseline-src DIR [--seed 2025] [--runs 10000] [--reps 2]

``DIR`` is the ``src`` folder of another checkout (e.g. ``git worktree add /tmp/a8d a8d81e1``, then
``/tmp/a8d/src``). The baseline's own CLI builds kursk-border (``--seed``) and plans it (greedy) into a store; a copy
of that store is opened by this checkout (which migrates it), so both versions forecast the same plan. Each version
then runs ``--runs`` Monte Carlo runs (after a 16-run warm-up) in its own child process, alternating, ``--reps`` times
each; every timing records the Monte Carlo's own seconds, the process's CPU seconds over the forecast (all threads)
and the load average, so that on a shared machine the ratio of CPU seconds is the fairer comparison. The result goes
to benchmarks/results/forecast_speed_compare.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import machine

RESULTS = Path(__file__).parent / "results" / "forecast_speed_compare.json"
HERE = Path(__file__).resolve().parents[1] / "src"
CLI = "import sys; from sapper.cli import main; sys.argv[0] = 'sapper'; sys.exit(main())"
TIME = """
import json, os, sys, time
from sapper.services.forecast import forecast_plan
from sapper.store import open_store
with open_store(sys.argv[1]) as store:
    forecast_plan(store, runs=16, seed=0)
    load = os.getloadavg()[0]
    c0 = time.process_time()
    f = forecast_plan(store, runs=int(sys.argv[2]), seed=0)
    cpu = time.process_time() - c0
print(json.dumps({"monte_carlo_seconds": f.seconds, "cpu_seconds": round(cpu, 2), "load_before": round(load, 2),
                  "p50": str(f.overall.p50), "clipped_lots": f.clipped_lots}))
"""


def _run(src: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-src", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    base = args.baseline_src.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "baseline.gpkg", Path(tmp) / "this.gpkg"
        _run(base, "-c", CLI, "scenario", "build", "kursk-border", "--seed", str(args.seed), "--db", str(old))
        _run(base, "-c", CLI, "plan", "--db", str(old), "--engine", "greedy", "--json")
        shutil.copy(old, new)
        timings: dict[str, list[dict[str, object]]] = {"baseline": [], "this": []}
        for _ in range(args.reps):
            for name, src, db in (("baseline", base, old), ("this", HERE, new)):
                timings[name].append(json.loads(_run(src, "-c", TIME, str(db), str(args.runs)).splitlines()[-1]))
                print(name, timings[name][-1], file=sys.stderr, flush=True)

    def mean(name: str, key: str) -> float:
        return sum(float(str(t[key])) for t in timings[name]) / len(timings[name])

    doc = {"command": f"python benchmarks/forecast_speed_compare.py --baseline-src {args.baseline_src} --seed "
                      f"{args.seed} --runs {args.runs} --reps {args.reps}",
           "date": dt.date.today().isoformat(), "machine": machine(), "runs": args.runs, "timings": timings,
           "cpu_ratio_this_to_baseline": round(mean("this", "cpu_seconds") / mean("baseline", "cpu_seconds"), 3),
           "wall_ratio_this_to_baseline": round(mean("this", "monte_carlo_seconds")
                                                / mean("baseline", "monte_carlo_seconds"), 3)}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
