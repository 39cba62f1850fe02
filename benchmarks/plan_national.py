"""Benchmark: build national-synthetic and plan it by regions on Dask; 1 against 2 workers, coordinated against not.

    .venv/bin/python benchmarks/plan_national.py [--seed 2025] [--time-limit 420] [--engine cpsat]
                                                 [--runs w1 w2 w2-uncoordinated] [--note TEXT]
                                                 [--write docs/benchmarks.md] [--render-only]

The scenario is built once through the installed CLI (``sapper scenario build national-synthetic``, timed); each run
then plans a fresh copy of the store with ``sapper plan --time-limit T --json`` in its own process (timed, with that
process's peak memory): ``w1`` on a LocalCluster of one Dask worker, ``w2`` of two (both with the default two rounds of
coordination), ``w2-uncoordinated`` of two with ``--rounds 0`` (the regions solved once, with the whole time limit, no
teams moved). Each coordinated run also reports its own round-0 objective (``uncoordinated_objective``, with half the
limit), and the plan's lower bound and gap (``sapper plan --json``). The target (issue 17): build + plan within 10
minutes on 2 cores. The results go to
``benchmarks/results/plan_national.json``; with ``--write`` the section between the markers in the file is replaced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, write_section

BEGIN = "<!-- plan-national:begin -->"
END = "<!-- plan-national:end -->"
SAPPER = str(Path(sys.executable).with_name("sapper"))
RESULTS = Path(__file__).with_name("results") / "plan_national.json"
RUNS = {"w1": (1, None), "w2": (2, None), "w2-uncoordinated": (2, 0)}


def _timed(args: list[str]) -> tuple[str, float, int]:
    """Run ``args``; its stdout, wall seconds and peak RSS (MiB). SystemExit with its stderr when it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code != 0:
            raise SystemExit(f"{shlex.join(args)} failed ({code}): {err.read().strip()[-2000:]}")
        return out.read(), wall, round(usage.ru_maxrss / 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--time-limit", type=float, default=420.0)
    ap.add_argument("--engine", default="cpsat")
    ap.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    ap.add_argument("--note", default="", help="a line under the machine (e.g. that it was busy)")
    ap.add_argument("--write", type=Path, default=None, help="markdown file to write the section into")
    ap.add_argument("--render-only", action="store_true", help="write the section from the results file, no run")
    args = ap.parse_args()
    if args.render_only:
        if args.write:
            write_section(args.write, BEGIN, END, section(json.loads(RESULTS.read_text(encoding="utf-8"))),
                          "## National scale: national-synthetic by regions")
        return

    work = Path(tempfile.mkdtemp(prefix="sapper-national-"))
    try:
        db = work / "national.gpkg"
        build_cmd = [SAPPER, "scenario", "build", "national-synthetic", "--db", str(db), "--seed", str(args.seed)]
        _, build_s, build_mib = _timed(build_cmd)
        print(f"build: {build_s:.1f} s", flush=True)
        results: dict[str, Any] = {"date": dt.date.today().isoformat(), "machine": machine(), "note": args.note,
                                   "seed": args.seed, "time_limit_s": args.time_limit, "engine": args.engine,
                                   "build_command": shlex.join(["sapper", *build_cmd[1:3], "national-synthetic",
                                                                "--seed", str(args.seed)]),
                                   "build_seconds": round(build_s, 1), "build_peak_rss_mib": build_mib, "runs": {}}
        for name in args.runs:
            workers, rounds = RUNS[name]
            copy = work / f"{name}.gpkg"
            shutil.copy(db, copy)
            cmd = [SAPPER, "plan", "--db", str(copy), "--time-limit", str(args.time_limit), "--workers", str(workers),
                   "--engine", args.engine, "--json"] + ([] if rounds is None else ["--rounds", str(rounds)])
            out, wall, mib = _timed(cmd)
            doc = json.loads(out)
            det = doc.get("details", {})
            results["runs"][name] = {
                "command": shlex.join(["sapper", *cmd[1:2], *cmd[4:]]), "workers": workers,
                "wall_seconds": round(wall, 1), "peak_rss_mib": mib, "objective": doc.get("objective"),
                "lower_bound": doc.get("lower_bound"), "gap_pct": doc.get("gap_pct"),
                "round0_objective": det.get("uncoordinated_objective"),
                "moves": det.get("coordination_moves"), "rounds": det.get("coordination_rounds"),
                "stopped": det.get("coordination_stopped"),
                "tasks": doc.get("task_count"), "finish": doc.get("finish_date"),
                "solve_seconds": doc.get("solve_seconds")}
            print(name, results["runs"][name], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    if args.write:
        write_section(args.write, BEGIN, END, section(results), "## National scale: national-synthetic by regions")


def section(r: dict[str, Any]) -> str:
    """The markdown section of ``r`` (the results file's content)."""
    runs = r["runs"]
    lines = [BEGIN, "",
             f"Measured {r['date']} by `python benchmarks/plan_national.py --seed {r['seed']} --time-limit "
             f"{r['time_limit_s']:g} --engine {r['engine']}` on {r['machine']}."]
    if r.get("note"):
        lines.append(f"Note: {r['note']}")
    lines += ["", f"Build: `{r['build_command']}` took {r['build_seconds']:.0f} s "
                  f"(peak {r['build_peak_rss_mib']:,} MiB).", "",
              "| run | command | tasks | wall (s) | build + plan (s) | objective | round 0 objective | rounds | "
              "moves | finish | peak MiB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, x in runs.items():
        obj = f"{x['objective']:,.0f}" if x.get("objective") is not None else "-"
        r0 = f"{x['round0_objective']:,.0f}" if x.get("round0_objective") is not None else "-"
        rounds = f"{x.get('rounds') or 0}" + (f" (stopped: {x['stopped']})" if x.get("stopped") else "")
        lines.append(f"| {name} | `{x['command']}` | {x.get('tasks') or 0:,} | {x['wall_seconds']:.0f} | "
                     f"{r['build_seconds'] + x['wall_seconds']:.0f} | {obj} | {r0} | {rounds} | "
                     f"{x.get('moves') or 0} | "
                     f"{x.get('finish') or '-'} | {x['peak_rss_mib']:,} |")
    lines.append("")
    bounded = {name: x for name, x in runs.items() if x.get("lower_bound") is not None}
    if bounded:  # results from before plans by regions had a bound have none
        lines.append("Lower bound (the whole problem's, computed before the regions solve, within the limit; "
                     "docs/planning.md): " + "; ".join(
                         f"{name} {x['lower_bound']:,.0f}, gap {x['gap_pct']:.2f} %" for name, x in bounded.items())
                     + ".")
        lines.append(f"Time limit {r['time_limit_s']:g} s: plan wall time "
                     + ", ".join(f"{name} {x['wall_seconds']:.0f} s" for name, x in runs.items()) + ".")
    if "w1" in runs and "w2" in runs:
        lines.append(f"Scaling 1 → 2 workers: plan wall time {runs['w1']['wall_seconds']:.0f} s → "
                     f"{runs['w2']['wall_seconds']:.0f} s (the time limit bounds both; the objective at the same "
                     f"limit is the fairer figure: {runs['w1']['objective']:,.0f} → {runs['w2']['objective']:,.0f}).")
    if "w2" in runs and "w2-uncoordinated" in runs:
        a, b = runs["w2"]["objective"], runs["w2-uncoordinated"]["objective"]
        lines.append(f"Coordination: {a:,.0f} with coordination against {b:,.0f} for the regions solved without it "
                     f"(same limit): coordination {abs(100 * (b - a) / b):.2f} % {'better' if a < b else 'worse'} "
                     "(lower weighted completion is better; one run each).")
    target = max((r["build_seconds"] + x["wall_seconds"] for x in runs.values()), default=0.0)
    lines += [f"Target build + plan ≤ 600 s: {'met' if target <= 600 else 'not met'} (slowest run {target:.0f} s).",
              "Rounds: the coordination rounds run; a round that could not finish within the time limit is not "
              "started (`coordination_stopped`).", "", END]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
