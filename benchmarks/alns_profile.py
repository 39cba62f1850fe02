"""Profile: where the optimiser's time goes on kursk-border — the time-window search against the adaptive search.

    .venv/bin/python benchmarks/alns_profile.py [--seed 2025] [--time-limit 60] [--workers 2]
                                                [--pools fixed capabilities] [--note TEXT] [--write docs/planning.md]

The scenario is built in a temporary store and compiled as ``sapper plan`` does (``services.planning``); the best
heuristic plan is found once per pool policy (``plan.solve``'s heuristics, timed), then each search runs from it for
the time that is left of the limit, in this process, with every CP-SAT call counted: the time-window search
(``plan.lns.window_lns``, the optimiser before issue 17) and the adaptive search (``plan.alns``), side by side in one
run. The table gives per search and operator: sub-problems, how many CP-SAT proved optimal, timed out, improved the
plan, the objective gained and the seconds, and the gain over the best heuristic. With ``--write`` the results
replace the section between the markers in the file.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, write_section

from sapper.plan.alns import SubOutcome, alns
from sapper.plan.cpsat import solve_cpsat
from sapper.plan.lns import window_lns
from sapper.plan.problem import Problem
from sapper.plan.solution import Schedule, objective_value, verify
from sapper.plan.solve import _greedy_plans
from sapper.services import planning
from sapper.services.planning import PlanSettings, plan_store, with_pools
from sapper.store import open_store

BEGIN = "<!-- alns-profile:begin -->"
END = "<!-- alns-profile:end -->"
SAPPER = str(Path(sys.executable).with_name("sapper"))


class _Compiled(Exception):
    """Raised by the stand-in for ``solve`` to hand the compiled problem back."""

    def __init__(self, problem: Problem, priority: object, groups: object) -> None:
        super().__init__("compiled")
        self.problem, self.priority, self.groups = problem, priority, groups


def _compile(db: Path, pools: str) -> tuple[Problem, list[float], list[int]]:
    """The problem ``sapper plan --pools POOLS`` would solve, compiled by the service itself, with its districts."""
    real = planning.solve

    def stop(problem: Problem, **kw: object) -> None:
        raise _Compiled(problem, kw.get("priority"), kw.get("groups"))

    planning.solve = stop  # type: ignore[assignment]
    try:
        with open_store(db) as store:
            plan_store(store, settings=with_pools(PlanSettings(), pools))
    except _Compiled as got:
        return got.problem, list(got.priority or []), list(got.groups or [])  # type: ignore[call-overload]
    finally:
        planning.solve = real
    raise SystemExit("the planning service did not reach the solver")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pools", nargs="+", choices=["fixed", "capabilities"], default=["fixed", "capabilities"])
    ap.add_argument("--note", default="", help="A line written under the machine, e.g. that it was busy.")
    ap.add_argument("--write", type=Path, default=None, help="Markdown file whose profile section is replaced.")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sapper-alns-"))
    db = work / "kursk.gpkg"
    subprocess.run([SAPPER, "scenario", "build", "kursk-border", "--db", str(db), "--seed", str(args.seed)],
                   check=True, capture_output=True)
    lines = [BEGIN, f"Run on {time.strftime('%Y-%m-%d')}, {machine()}, kursk-border seed {args.seed}, "
             f"{args.time_limit:g} s, {args.workers} workers." + (f" {args.note}" if args.note else ""), "",
             "Command: `.venv/bin/python benchmarks/alns_profile.py "
             f"--seed {args.seed} --time-limit {args.time_limit:g} --workers {args.workers} "
             f"--pools {' '.join(args.pools)}" + (f" --note {shlex.quote(args.note)}" if args.note else "")
             + " --write docs/planning.md`", "",
             "| pools | search | operator | sub-problems | proven optimal | timed out | improved | gain | seconds "
             "| gain over best heuristic |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    calls: list[tuple[bool, bool, bool]] = []  # (optimal, timed out, improved) per CP-SAT call

    def cpsat(sub: Problem, hint: Schedule, limit: float) -> SubOutcome:
        began = time.perf_counter()
        out = solve_cpsat(sub, time_limit_s=limit, workers=args.workers, seed=args.seed, hint=hint)
        better = out.objective is not None and out.objective < objective_value(sub, hint)
        calls.append((out.status == "optimal", time.perf_counter() - began >= 0.9 * limit, better))
        return SubOutcome(out.schedule, out.status == "optimal")

    for pools in args.pools:
        problem, priority, groups = _compile(db, pools)
        t0 = time.perf_counter()
        _, _, candidates = _greedy_plans(problem, priority, {})
        heuristic_s = time.perf_counter() - t0
        h_obj, h_name, start = min(candidates, key=lambda c: c[0])
        left = max(1.0, args.time_limit - heuristic_s)
        lines.append(f"| {pools} | heuristics: {len(candidates)} plans, the best ({h_name}) {h_obj:,.0f} | — | — "
                     f"| — | — | — | — | {heuristic_s:.1f} | — |")
        calls.clear()
        found, w = window_lns(problem, start, lambda s, h, lim: cpsat(s, h, lim).schedule, time_limit_s=left)
        verify(problem, found, "window search")
        lines.append(f"| {pools} | time windows (`plan.lns`) | time-window | {w.windows} "
                     f"| {sum(c[0] for c in calls)} | {sum(c[1] for c in calls)} | {w.improved} "
                     f"| {h_obj - w.objective:,.0f} | {w.seconds:.1f} | {100 * (h_obj - w.objective) / h_obj:.3f} % |")
        found, a = alns(problem, start, cpsat, time_limit_s=left, seed=args.seed, groups=groups)
        verify(problem, found, "adaptive search")
        for op in a.operators:
            lines.append(f"| {pools} | adaptive (`plan.alns`) | {op.name} | {op.calls} | {op.optimal} | {op.timeouts} "
                         f"| {op.improved} | {op.gain:,.0f} | {op.seconds:.1f} | {100 * op.gain / h_obj:.3f} % |")
        lines.append(f"| {pools} | adaptive (`plan.alns`) | all | {a.iterations} | — | — | {a.improved} "
                     f"| {h_obj - a.objective:,.0f} | {a.seconds:.1f} | {100 * (h_obj - a.objective) / h_obj:.3f} % |")
        print("\n".join(lines[-len(a.operators) - 3:]), flush=True)
    lines.append(END)
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(args.write, BEGIN, END, text)


if __name__ == "__main__":
    main()
