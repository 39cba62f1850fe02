"""Benchmark: plan the kursk-border reference scenario; greedy baseline and optimiser side by side, in one run.

    .venv/bin/python benchmarks/plan_kursk_border.py [--seed 2025] [--time-limits 30 60 120] [--workers 2]
                                                      [--pools fixed capabilities] [--note TEXT]
                                                      [--write docs/benchmarks.md]

The scenario is built once (fixed seed); each configuration then plans a fresh copy of the store through the
installed CLI (`sapper plan --json`) in its own process, so the peak memory reported is that process's own
(``wait4`` rusage). The table gives, for each solver time limit: the greedy baseline (serial schedule generation
with the priority list a planner would use by hand), the best of the heuristics, the final objective, its ratio to
the baseline, the gain over the best heuristic ((heuristic − final) / heuristic: what the optimiser earned in its
time, ``plan.alns``), the lower bound and the gap, wall time and peak memory. ``--pools`` plans each configuration
with each pool policy (``sapper plan --pools``: fixed pools per method and trade, or teams and brigades by
capabilities) in the same run, from the same store, at the same time limits; the table then gives, per policy, the
finish date, the weighted completion, the deminers' share of their available days and the units idle four weeks or
more, and a comparison line per time limit. By capabilities the search judges its orders decoded unit by unit, so
there the best heuristic is the best heuristic plan's order decoded unit by unit and the gain is the plan kept's
over it; a line per time limit names the order the plan kept came from. ``--note`` adds a line under the run's
machine (e.g. that the machine was busy, so wall times are not comparable with a quiet run's). With ``--write`` the
results replace the section between the markers in the file.
"""

from __future__ import annotations

import argparse
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

#: Weeks in a row without work after which the table counts a unit idle (``sapper plan --idle-weeks``): half a year.
IDLE_WEEKS = 26
BEGIN = "<!-- kursk-border:begin -->"
END = "<!-- kursk-border:end -->"
SAPPER = str(Path(sys.executable).with_name("sapper"))


def _plan(db: Path, time_limit: float, workers: int, engine: str, pools: str) -> dict[str, Any]:
    """Plan ``db`` with the CLI in a child process; its JSON plus wall time and the child's own peak RSS, and the
    plan's tasks (``--out``) under ``tasks``."""
    tasks_file = db.with_suffix(".plan.json")
    args = [SAPPER, "plan", "--db", str(db), "--time-limit", str(time_limit), "--workers", str(workers),
            "--engine", engine, "--pools", pools, "--idle-weeks", str(IDLE_WEEKS), "--json", "--out", str(tasks_file)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"sapper plan failed ({proc.returncode}): {err.read().strip()}")
        doc: dict[str, Any] = json.loads(out.read())
    doc["tasks"] = json.loads(tasks_file.read_text(encoding="utf-8"))["tasks"]
    doc["wall_seconds"] = round(wall, 1)
    doc["peak_rss_mib"] = round(usage.ru_maxrss / 1024)  # Linux: KiB
    return doc


def _land_release(doc: dict[str, Any]) -> str:
    """What the plan holds of land release, by task kind (issue 18: NTS, EOD spot tasks, TS, BAC and mine clearance,
    the inspection lag), counted from the plan's own tasks."""
    tasks = doc.get("tasks", [])
    kinds: dict[str, int] = {}
    for t in tasks:
        kinds[t["kind"]] = kinds.get(t["kind"], 0) + 1
    clearance = [t for t in tasks if t["kind"] == "clearance"]
    bac = [t for t in clearance if t["mode"] == "bac"]
    by_mode: dict[str, int] = {}
    for t in clearance:
        by_mode[t["mode"]] = by_mode.get(t["mode"], 0) + 1
    modes = ", ".join(f"{m} {n:,}" for m, n in sorted(by_mode.items()))
    return (f"Land release in the greedy plan: {kinds.get('nts', 0):,} NTS tasks (one per area, days by size band), "
            f"{kinds.get('eod', 0):,} EOD spot tasks (one per ERW-only area, on BAC/EOD teams), "
            f"{kinds.get('ts', 0):,} TS lots, {len(clearance):,} clearance lots ({modes}; the {len(bac):,} BAC lots "
            "are those of the ERW-only areas); each release after clearance waits the inspection lag (12 working "
            "days).")


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def _use(doc: dict[str, Any], kind: str) -> str:
    """The busy share of the available days of the units of ``kind`` (all together), and how many of them are idle
    ``IDLE_WEEKS`` or more in a row, e.g. ``85.1 %, 16 of 133``."""
    u = doc.get("utilisation") or {}
    mine = [x for x in u.get("units", []) if x["pool"].startswith(f"{kind}:")]
    avail = sum(x["available_days"] for x in mine)
    idle = set(u.get("idle", []))
    share = f"{100 * sum(x['busy_days'] for x in mine) / avail:.1f} %" if avail else "—"
    return f"{share}, {sum(1 for x in mine if x['unit_id'] in idle)} of {len(mine)}"


#: What ``details.unit_decoded_from`` names: the order the plan kept was decoded from.
_SOURCES = {"solver": "the solver's plan", "heuristic": "the best heuristic plan",
            "search": "the search's best plan"}


def _search_gain(limit: float, r: dict[str, Any]) -> str:
    """The search's gain by capabilities: the plan kept against the best heuristic plan's order decoded unit by unit
    (``details.unit_heuristic_objective``), where the plan kept came from, the search's own best."""
    d = r["details"]
    start = d["unit_heuristic_objective"]
    source = _SOURCES.get(str(d.get("unit_decoded_from", "")), "the solver's plan shifted left on its units")
    searched = d.get("unit_search_objective")
    return (f"- capabilities {limit:g} s: the best heuristic plan's order decoded unit by unit {_fmt(start)}; the "
            f"plan kept {_fmt(r['objective'])}, {source}'s order decoded unit by unit: the search's gain "
            f"{100 * (start - r['objective']) / start:.2f} % (the search's own best {_fmt(searched)}); bound "
            f"{_fmt(r['lower_bound'])}, gap {r['gap_pct']} %.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--time-limits", type=float, nargs="+", default=[30.0, 60.0, 120.0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pools", nargs="+", choices=["fixed", "capabilities"], default=["fixed", "capabilities"],
                    help="Pool policies to plan with, side by side (sapper plan --pools).")
    ap.add_argument("--note", default="", help="A line written under the machine, e.g. that it was busy.")
    ap.add_argument("--write", type=Path, default=None, help="Markdown file whose kursk-border section is replaced.")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sapper-bench-"))
    base = work / "kursk.gpkg"
    subprocess.run([SAPPER, "scenario", "build", "kursk-border", "--db", str(base), "--seed", str(args.seed)],
                   check=True, capture_output=True)
    rows = []
    configs = [("greedy", 0.0), *(("cpsat", t) for t in args.time_limits)]
    for engine, limit in configs:
        for pools in args.pools:
            db = work / f"{engine}-{limit:g}-{pools}.gpkg"
            shutil.copy(base, db)
            r = _plan(db, max(limit, 1.0), args.workers, engine, pools)
            rows.append((engine, limit, pools, r))
            print(f"{engine:>6} {limit:>5g} s {pools:>12}: objective {_fmt(r['objective'])}, baseline "
                  f"{_fmt(r['baseline_objective'])}, bound {_fmt(r['lower_bound'])}, finish {r['finish_date']}, "
                  f"{r['wall_seconds']} s, {r['peak_rss_mib']} MiB", flush=True)
    shutil.rmtree(work, ignore_errors=True)

    first = rows[0][3]
    lines = [
        BEGIN,
        f"Scenario kursk-border, seed {args.seed}: {first['task_count']:,} tasks "
        f"({first['work_task_count']:,} with work), {first['hazard_areas']:,} hazard areas "
        f"({first['hazard_area_km2']} km²), {first['assets']:,} assets. Workers: {args.workers}. "
        f"Run on {time.strftime('%Y-%m-%d')}, {machine()}." + (f" {args.note}" if args.note else ""),
        "",
        _land_release(first),
        "",
        "Command: `.venv/bin/python benchmarks/plan_kursk_border.py "
        f"--seed {args.seed} --time-limits {' '.join(f'{t:g}' for t in args.time_limits)} --workers {args.workers} "
        f"--pools {' '.join(args.pools)}" + (f" --note {shlex.quote(args.note)}" if args.note else "")
        + " --write docs/benchmarks.md`",
        "",
        "| pools | engine | time limit (s) | greedy baseline | best heuristic | objective | vs baseline "
        "| gain over best heuristic | lower bound "
        f"| gap | finish | deminers: busy, idle ≥ {IDLE_WEEKS} weeks | builders: busy, idle ≥ {IDLE_WEEKS} weeks "
        "| wall (s) | peak RSS (MiB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for _engine, limit, pools, r in rows:
        ratio = r["objective"] / r["baseline_objective"] if r["baseline_objective"] else None
        # Where the search judged its orders unit by unit (teams by capabilities), the best heuristic plan is its
        # order decoded unit by unit (the plan the search starts from, as the plan kept is counted).
        heuristic = r["details"].get("unit_heuristic_objective") or r["details"].get("heuristic_objective")
        gain = f"{100 * (heuristic - r['objective']) / heuristic:.2f} %" if heuristic else "—"
        lines.append(
            f"| {pools} | {r['engine']} | {limit:g} | {_fmt(r['baseline_objective'])} | "
            f"{_fmt(heuristic)} | {_fmt(r['objective'])} | "
            f"{'—' if ratio is None else f'{ratio:.3f}'} | {gain} | {_fmt(r['lower_bound'])} | {r['gap_pct']} % | "
            f"{r['finish_date']} | {_use(r, 'deminers')} | {_use(r, 'builders')} | {r['wall_seconds']} | "
            f"{r['peak_rss_mib']} |"
        )
    searched = [(limit, r) for _e, limit, pools, r in rows if r["details"].get("unit_heuristic_objective")]
    if searched:
        lines.append("")
        lines.append("By capabilities the search judges its orders decoded unit by unit (docs/planning.md), so the "
                     "best heuristic and the gain over it above are the best heuristic plan's order decoded unit by "
                     "unit and the plan kept against it.")
        for limit, r in searched:
            lines.append(_search_gain(limit, r))
    if {"fixed", "capabilities"} <= set(args.pools):
        lines.append("")
        for engine, limit in configs:
            by = {p: r for e, t, p, r in rows if (e, t) == (engine, limit)}
            f, c = by["fixed"], by["capabilities"]
            change = 100 * (c["objective"] - f["objective"]) / f["objective"] if f["objective"] else None
            units = (c.get("utilisation") or {}).get("units", [])
            charged = sum(x["set_up_days"] for x in units)
            changes = sum(x.get("role_changes", 0) for x in units)
            details = c.get("details") or {}
            solved = details.get("solved_objective")
            heur = details.get("heuristic_objective")
            own_gain = (f" ({100 * (heur - solved) / heur:.2f} % below the best heuristic plan, as the solver "
                        "counts it)" if solved is not None and heur else "")
            source = _SOURCES.get(str(details.get("unit_decoded_from", "")))
            decoded = (f"; the plan kept is {source}'s order decoded unit by unit" if source
                       else "; the plan kept is the solver's plan shifted left on its units")
            per_change = (
                f"; set-up paid per change of role: {charged:,} unit-days for {changes:,} role changes, "
                f"{details.get('set_up_saved_lots', 0):,} lots kept their unit's role and set up no more; the solver's "
                f"plan, set-up on every lot in a borrowed role, {_fmt(solved)}{own_gain}{decoded} (docs/planning.md)"
                if solved is not None
                else f"; set-up charged {charged:,} unit-days for {changes:,} role changes (the solver's plan with "
                "set-up on every lot in a borrowed role stands, docs/planning.md)"
            )
            lines.append(
                f"- {engine}{'' if engine == 'greedy' else f' {limit:g} s'}, same run: capabilities finish "
                f"{c['finish_date']} against fixed pools {f['finish_date']}; weighted completion "
                f"{_fmt(c['objective'])} against {_fmt(f['objective'])}"
                + ("" if change is None else f" ({change:+.1f} %)")
                + per_change + "."
            )
    lines.append(END)
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(args.write, BEGIN, END, text)


if __name__ == "__main__":
    main()
