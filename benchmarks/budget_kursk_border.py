"""Benchmark: what annual budgets delay on the kursk-border reference scenario, planned with CP-SAT.

    .venv/bin/python benchmarks/budget_kursk_border.py [--seed 2025] [--time-limit 120] [--workers 2]
                                                       [--share 0.6] [--note TEXT] [--write docs/costs.md]

The scenario is built once (fixed seed) and planned without budgets (CP-SAT, the same limits) to find each family's
busiest calendar year (``sapper costs --json``: ``demining_by_year``, ``reconstruction_by_year``). It is then planned
with ``--budget-per-year`` at ``--share`` of those busiest years, so that money binds in at least one year of each
family; ``sapper plan`` solves the register twice (without and with budgets, same engine and limits) and its
``details`` say what the budgets delay. ``sapper costs`` of the budget-capped plan gives each year's spending, which
the table sets beside the budgets. With ``--write`` the results replace the section between the markers in the file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, write_section

BEGIN = "<!-- budget-kursk-border:begin -->"
END = "<!-- budget-kursk-border:end -->"
SAPPER = str(Path(sys.executable).with_name("sapper"))
RESULTS = Path(__file__).parent / "results" / "budget_kursk_border.json"


def _run(*args: str) -> Any:
    proc = subprocess.run([SAPPER, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"sapper {args[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


def _busiest(costs: dict[str, Any], key: str) -> float:
    return max((float(r["total"]) for r in costs[key]), default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--share", type=float, default=0.6)
    ap.add_argument("--note", default="")
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sapper-budget-"))
    try:
        db = tmp / "k.gpkg"
        t0 = time.perf_counter()
        _run("scenario", "build", "kursk-border", "--seed", str(args.seed), "--db", str(db))
        limits = ("--engine", "cpsat", "--time-limit", str(args.time_limit), "--workers", str(args.workers))
        free = _run("plan", "--db", str(db), *limits, "--json")
        free_costs = _run("costs", "--db", str(db), "--json")
        demining = round(_busiest(free_costs, "demining_by_year") * args.share, -3)
        reconstruction = round(_busiest(free_costs, "reconstruction_by_year") * args.share, -3)
        budgets = f"demining={demining:.0f},reconstruction={reconstruction:.0f}"
        capped = _run("plan", "--db", str(db), *limits, "--budget-per-year", budgets, "--json")
        capped_costs = _run("costs", "--db", str(db), "--json")
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    details = capped.get("details", {})
    years = sorted({r["key"] for k in ("demining_by_year", "reconstruction_by_year") for r in capped_costs[k]})
    spend = {k: {r["key"]: float(r["total"]) for r in capped_costs[k]}
             for k in ("demining_by_year", "reconstruction_by_year")}
    free_spend = {k: {r["key"]: float(r["total"]) for r in free_costs[k]}
                  for k in ("demining_by_year", "reconstruction_by_year")}
    doc = {"command": f"python benchmarks/budget_kursk_border.py --seed {args.seed} --time-limit {args.time_limit:g} "
                      f"--workers {args.workers} --share {args.share:g}",
           "date": dt.date.today().isoformat(), "machine": machine(), "note": args.note,
           "seconds": round(seconds, 1), "budgets": {"demining": demining, "reconstruction": reconstruction},
           "currency": free_costs.get("currency"), "price_year": free_costs.get("price_year"),
           "free": {"status": free.get("status"), "finish": free.get("finish_date"),
                    "objective": free.get("objective")},
           "capped": {"status": capped.get("status"), "finish": capped.get("finish_date"),
                      "objective": capped.get("objective")},
           "details": {k: v for k, v in details.items() if k.startswith(("budget", "unconstrained"))},
           "spend_by_year": spend, "free_spend_by_year": free_spend}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(doc, indent=1))
    if args.write:
        d = doc["details"]
        cur = doc["currency"]
        lines = [BEGIN, f"`{doc['command']}` — {doc['date']}, {doc['machine']}, {seconds / 60:.1f} min"
                 + (f" ({args.note})" if args.note else "") + ".", "",
                 f"Budgets at {args.share:.0%} of the unconstrained plan's busiest year: demining {demining:,.0f} "
                 f"{cur}, reconstruction {reconstruction:,.0f} {cur} per calendar year (prices of "
                 f"{doc['price_year']}). CP-SAT status without budgets {doc['free']['status']}, with them "
                 f"{doc['capped']['status']}.", "",
                 f"- finish without budgets {d.get('unconstrained_finish')}, with them {doc['capped']['finish']} "
                 f"({d.get('budget_finish_delay_days')} days)",
                 f"- releases and restorations later: {d.get('budget_delayed')} of {d.get('budget_milestones')}, by "
                 f"up to {d.get('budget_max_delay_days')} days (mean {d.get('budget_mean_delay_days')})", "",
                 "| year | demining without budgets | demining with | reconstruction without budgets | "
                 "reconstruction with |", "|---|---:|---:|---:|---:|"]
        for y in years:
            lines.append(
                f"| {y} | {free_spend['demining_by_year'].get(y, 0):,.0f} | {spend['demining_by_year'].get(y, 0):,.0f}"
                f" | {free_spend['reconstruction_by_year'].get(y, 0):,.0f} | "
                f"{spend['reconstruction_by_year'].get(y, 0):,.0f} |")
        lines.append(END)
        write_section(args.write, BEGIN, END, "\n".join(lines), "## Budget-capped CP-SAT on kursk-border (measured)")


if __name__ == "__main__":
    main()
