"""sapper's engine and PyJobShop 0.0.9 side by side on PSPLIB, in one run, instance by instance.

For every instance both engines get the same time limit, workers and seed, one right after the other, so that the
machine's load at that moment is the same for both. sapper's figures come from ``sapper.services.bench`` (the code
behind ``sapper bench psplib``: every schedule verified by the independent checker); PyJobShop's from
``benchmarks/pyjobshop_runner.py``. Seconds are wall time of reading + model + solve for both. The ``j30-1s`` set
adds a third engine, a plain CP-SAT model under CP-SAT's defaults (``benchmarks/plain_cpsat.py``), which the engine
must not lose to at a 1 s limit (``--plain`` adds it to any set).

    python benchmarks/psplib_compare.py --write docs/benchmarks.md          # every set (about 40 minutes)
    python benchmarks/psplib_compare.py --sets mm_j30 --write docs/benchmarks.md   # the 552 MM-J30 instances, 10 s
    python benchmarks/psplib_compare.py --sets mm_j10 --limit 20            # a quick look
    python benchmarks/psplib_compare.py --sets mm_j30 --every 10 --time-limit 3 --workers 1 --json /tmp/x.json
                                                                            # a subset on a busy machine
    python benchmarks/psplib_compare.py --sets mm_j30 --pattern 'j3029_*.mm' --json /tmp/x.json   # one parameter
    python benchmarks/psplib_compare.py --render-only --write docs/benchmarks.md  # the section again, from the results

tests/test_benchmark_docs.py fails when docs/benchmarks.md's section is not what this script renders from
``benchmarks/results/psplib_compare.json`` (so a figure cannot be typed in by hand or left stale).

Needs the ``bench`` extra (``make bench`` installs it). Data: ../shared/data/psplib (see SOURCES.md there); cite
Kolisch & Sprecher (1997) with any figure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, write_section

from sapper.io.psplib import read_references
from sapper.services.bench import InstanceResult, compare, instance_files, solve_instance, summarise

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "psplib"
#: set → (folder, pattern, time limit per instance in seconds, with the plain CP-SAT model as a third engine). The
#: J60 selection, MM-J30's 10 s and J30 at 1 s against a plain CP-SAT model are the issues'.
SETS: dict[str, tuple[str, str, float, bool]] = {
    "j30": ("j30", "j30*_*.sm", 5.0, False),
    "j30-1s": ("j30", "j30*_*.sm", 1.0, True),
    "mm_j10": ("mm_j10", "j10*_*.mm", 10.0, False),
    "mm_j30": ("mm_j30", "j30*_*.mm", 10.0, False),
    "j60": ("j60", "j60*_1.sm", 10.0, False),
}
#: The engines a set's results may hold, in the order the table shows them.
ENGINES = {"sapper": "sapper", "pyjobshop": "PyJobShop", "plain": "plain CP-SAT"}
BEGIN, END = "<!-- psplib:begin -->", "<!-- psplib:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "psplib_compare.json"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def run_set(key: str, *, limit: int | None, time_limit: float | None, workers: int, seed: int, every: int = 1,
            plain: bool = False, pattern: str | None = None) -> dict[str, Any]:
    from plain_cpsat import solve_plain
    from pyjobshop_runner import solve_with_pyjobshop  # the bench extra: not needed to render the markdown

    folder, set_pattern, default_limit, with_plain = SETS[key]
    pattern = pattern or set_pattern
    plain = plain or with_plain
    directory = DATA / folder
    tl = time_limit if time_limit is not None else default_limit
    refs = read_references(directory)
    sapper_rows: list[InstanceResult] = []
    pjs_rows: list[InstanceResult] = []
    plain_rows: list[InstanceResult] = []
    for path in instance_files(directory, pattern, limit)[::max(1, every)]:
        ref = refs.get(path.name)
        mine = solve_instance(path, ref, time_limit_s=tl, workers=workers, seed=seed) if ref else None
        if mine is None:
            continue
        sapper_rows.append(mine)
        run = solve_with_pyjobshop(path, time_limit_s=tl, workers=workers, seed=seed)
        # Judged by the same rule as sapper's runs; PyJobShop's bound is not recorded (it reports none without a plan).
        theirs = compare(path.name, ref, makespan=run.makespan, proven_optimal=run.proven_optimal, lower_bound=None,
                         seconds=run.seconds + run.build_seconds, status=run.status)
        pjs_rows.append(theirs)
        line = (f"{key} {path.name}: sapper {mine.makespan} ({mine.seconds:.2f} s) pyjobshop {theirs.makespan} "
                f"({theirs.seconds:.2f} s)")
        if plain:
            bare = solve_plain(path, time_limit_s=tl, workers=workers, seed=seed)
            plain_rows.append(compare(path.name, ref, makespan=bare.makespan, proven_optimal=bare.proven_optimal,
                                      lower_bound=None, seconds=bare.seconds, status=bare.status))
            line += f" plain {bare.makespan} ({bare.seconds:.2f} s)"
        print(f"{line} reference {theirs.reference}", file=sys.stderr, flush=True)
    out: dict[str, Any] = {"set": key, "pattern": pattern, "time_limit_s": tl, "workers": workers, "seed": seed}
    if every > 1:
        out["every"] = every
    for engine, rows in (("sapper", sapper_rows), ("pyjobshop", pjs_rows), ("plain", plain_rows)):
        if engine != "plain" or plain:
            out[engine] = {"summary": summarise(rows), "instances": [asdict(r) for r in rows]}
    return out


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def _versions(res: dict[str, Any]) -> str:
    """The engines' versions a set was measured with: recorded in the results since they carry them; for older
    entries, the exact pins of pyproject.toml (OR-Tools in the core dependencies, PyJobShop in the bench extra)."""
    if "versions" in res:
        v = res["versions"]
        return f"OR-Tools {v['ortools']} in both engines, PyJobShop {v['pyjobshop']}"
    pins = dict(re.findall(r'"(ortools|pyjobshop)==([^"]+)"', PYPROJECT.read_text(encoding="utf-8")))
    return (f"OR-Tools {pins.get('ortools', '?')} in both engines, PyJobShop {pins.get('pyjobshop', '?')} "
            "(the pins of pyproject.toml)")


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def targets(res: dict[str, Any]) -> str | None:
    """The issues' target for a set, judged from its rows alone (so the verdict is the script's, like the figures);
    None for a set without one. A subset run is judged but says it covers a subset."""
    key = res["set"]
    a = res["sapper"]["summary"]
    b = res["pyjobshop"]["summary"]
    n = a["count"]
    no_false = a["false_proofs"] == 0 and a.get("impossible", 0) in (0, "not checked")
    if key == "j30":
        text = (f"all {n} at the optimum and mean ≤ 0.3 s: {a['at_reference']}/{n}, {a['mean_seconds']} s, "
                f"{_verdict(a['at_reference'] == n and a['mean_seconds'] <= 0.3 and no_false)}")
    elif key == "j60":
        text = (f"mean deviation ≤ 0.2 % and below PyJobShop's: {a['mean_deviation_pct']} % against "
                f"{b['mean_deviation_pct']} %, "
                f"{_verdict(a['mean_deviation_pct'] <= 0.2 and a['mean_deviation_pct'] < b['mean_deviation_pct'])}")
    elif key == "mm_j10":
        text = (f"every instance at its optimum, no false proof: {a['at_reference']}/{n}, {a['false_proofs']} false "
                f"proofs, {_verdict(a['at_reference'] == n and no_false)}")
    elif key == "mm_j30":
        met = (a["at_reference"] >= b["at_reference"] and a["mean_deviation_pct"] <= b["mean_deviation_pct"]
               and a["mean_seconds"] <= b["mean_seconds"] and no_false)
        text = (f"at reference on at least as many as PyJobShop, mean deviation and mean seconds no worse, no false "
                f"proof: {a['at_reference']} against {b['at_reference']}, {a['mean_deviation_pct']} % against "
                f"{b['mean_deviation_pct']} %, {a['mean_seconds']} s against {b['mean_seconds']} s, "
                f"{_verdict(met)}")
    elif key == "j30-1s" and "plain" in res:
        c = res["plain"]["summary"]
        met = a["at_reference"] >= c["at_reference"] and a["mean_deviation_pct"] <= c["mean_deviation_pct"]
        text = (f"no worse than the plain CP-SAT model at 1 s: {a['at_reference']} against {c['at_reference']} at "
                f"reference, mean deviation {a['mean_deviation_pct']} % against {c['mean_deviation_pct']} %, "
                f"{_verdict(met)}")
    else:
        return None
    if res.get("every", 1) > 1:
        text += f" (every {res['every']}th instance only: a subset)"
    return f"- {key}: {text}"


def markdown(results: list[dict[str, Any]]) -> str:
    machines = sorted({r["machine"] for r in results})
    named = {m: f"machine {chr(ord('A') + i)}" for i, m in enumerate(machines)} if len(machines) > 1 else {}
    runs = "; ".join(f"{r['set']}: `{r['command']}` on {r['date']}, {r['seconds'] / 60:.0f} min"
                     + (f", {named[r['machine']]}" if named else "") for r in results)
    versions = sorted({_versions(r) for r in results})
    lines = [
        BEGIN,
        f"Runs: {runs}. Machine: {'; '.join(f'{named[m]}: {m}' if named else m for m in machines)}; "
        f"{'; '.join(versions)}. Each instance is solved by sapper, "
        "then at once by PyJobShop, with the same "
        "time limit, workers and seed. Seconds are wall time per instance including reading and model building. "
        "*At reference*: makespan equal to the proven optimum, or at most the best known upper bound where the "
        "optimum is open. Deviation is from the optimum or best known upper bound. A *false proof* is a makespan "
        "claimed optimal above a known feasible one (or a bound above a known optimum); an *impossible* makespan one "
        "below a proven optimum or lower bound (a checker fault or a wrong reference). The *instances* column counts "
        "the instances of the pattern that have a reference: where a set's file holds none for some, the row covers "
        "that subset only.",
        "",
        "| set | instances | limit | engine | at reference | proven optimal | mean dev. % | max dev. % | "
        "mean s | false proofs | impossible |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for engine in (e for e in ENGINES if e in res):
            s = res[engine]["summary"]
            pattern = res["pattern"] + (f", every {res['every']}th" if res.get("every", 1) > 1 else "")
            lines.append(f"| {res['set']} (`{pattern}`) | {s['count']} | {res['time_limit_s']:g} s | {engine} | "
                         f"{s['at_reference']}/{s['count']} | {s['proven_optimal']} | {s['mean_deviation_pct']} | "
                         f"{s['max_deviation_pct']} | {s['mean_seconds']} | {s['false_proofs']} | "
                         f"{s.get('impossible', 'not checked')} |")
    lines += ["", "Ratios, sapper / PyJobShop (below 1 is better for sapper):", "",
              "| set | mean deviation | mean seconds |", "|---|---|---|"]
    for res in results:
        a, b = res["sapper"]["summary"], res["pyjobshop"]["summary"]
        lines.append(f"| {res['set']} | {_ratio(a['mean_deviation_pct'], b['mean_deviation_pct'])} | "
                     f"{_ratio(a['mean_seconds'], b['mean_seconds'])} |")
    verdicts = [t for t in (targets(res) for res in results) if t]
    if verdicts:
        lines += ["", "Targets (the issues'), judged by the script from the rows above:", "", *verdicts]
    plain = [res for res in results if "plain" in res]
    if plain:
        lines += ["", "Against the plain CP-SAT model (`benchmarks/plain_cpsat.py`: CP-SAT's defaults, no starting "
                  "plan) in the same run:", "", "| set | at reference, sapper – plain | mean deviation ratio | "
                  "mean seconds ratio |", "|---|---|---|---|"]
        for res in plain:
            a, c = res["sapper"]["summary"], res["plain"]["summary"]
            lines.append(f"| {res['set']} | {a['at_reference']} – {c['at_reference']} | "
                         f"{_ratio(a['mean_deviation_pct'], c['mean_deviation_pct'])} | "
                         f"{_ratio(a['mean_seconds'], c['mean_seconds'])} |")
    lines += ["", "Instances where the two engines differ, or either misses the reference:", "",
              "| set | instance | reference | sapper | PyJobShop |", "|---|---|---|---|---|"]
    for res in results:
        for mine, theirs in zip(res["sapper"]["instances"], res["pyjobshop"]["instances"], strict=True):
            if mine["makespan"] != theirs["makespan"] or mine["makespan"] != mine["reference"]:
                lines.append(f"| {res['set']} | {mine['name']} | {mine['reference']} | {mine['makespan']}"
                             f"{' (opt.)' if mine['proven_optimal'] else ''} | {theirs['makespan']}"
                             f"{' (opt.)' if theirs['proven_optimal'] else ''} |")
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    parser.add_argument("--limit", type=int, default=None, help="first N instances of each set, by name")
    parser.add_argument("--every", type=int, default=1,
                        help="every Nth instance of each set, by name (a subset: the table says so)")
    parser.add_argument("--plain", action="store_true",
                        help="add the plain CP-SAT model as a third engine to every set (j30-1s always has it)")
    parser.add_argument("--pattern", default=None,
                        help="glob of the instances inside each set's folder, instead of the set's own (a subset: "
                             "the table shows the pattern), e.g. 'j3029_*.mm'")
    parser.add_argument("--time-limit", type=float, default=None, help="override the per-set time limits")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=RESULTS,
                        help="results file: each set run replaces its own entry, the others are kept (default: "
                             "benchmarks/results/psplib_compare.json); the markdown shows every set in it")
    parser.add_argument("--write", type=Path, default=None, help="replace the psplib section of this markdown file")
    parser.add_argument("--render-only", action="store_true",
                        help="solve nothing: write the section again from the results file as it is (each set keeps "
                             "the command, date and machine it was measured with)")
    args = parser.parse_args()
    stored: dict[str, Any] = json.loads(args.json.read_text()) if args.json.exists() else {}
    command = ("python benchmarks/psplib_compare.py " + " ".join(sys.argv[1:])).strip()
    if not args.render_only:
        from sapper.plan.evolve import warm_up

        warm_up()  # the genetic search compiled (or its cache loaded) before the clock runs, not in one instance
    for key in [] if args.render_only else args.sets.split(","):
        t0 = time.perf_counter()
        res = run_set(key.strip(), limit=args.limit, time_limit=args.time_limit, workers=args.workers,
                      seed=args.seed, every=args.every, plain=args.plain, pattern=args.pattern)
        res.update(command=command, seconds=round(time.perf_counter() - t0), machine=machine(),
                   date=time.strftime("%Y-%m-%d"),
                   versions={"ortools": version("ortools"), "pyjobshop": version("pyjobshop")})
        stored[key.strip()] = res
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(stored, indent=1) + "\n")  # after each set: a crash loses one set at most
    results = [stored[k] for k in SETS if k in stored]
    text = markdown(results)
    print(text)
    if args.write:
        write_section(args.write, BEGIN, END, text, "## PSPLIB: sapper and PyJobShop side by side")


if __name__ == "__main__":
    main()
