"""PyJobShop 0.0.9 (OR-Tools CP-SAT backend) on PSPLIB instances: the reference half of the side-by-side benchmark.

The model is built the way PyJobShop builds PSPLIB instances itself (``pyjobshop.read(..., "psplib")`` and its
project-scheduling example): one task per activity (the dummy source and sink included, as zero-duration tasks), one
mode per PSPLIB mode listing every resource with its demand (zeros included), renewable resources as
``add_renewable``, non-renewable ones as ``add_consumable`` (total demand over the whole project <= capacity),
precedences as ``add_end_before_start`` and the default objective, makespan.

Needs the ``bench`` extra (``pip install 'pyjobshop==0.0.9'``). Run as a script for JSON lines::

    python benchmarks/pyjobshop_runner.py /work/shared/data/psplib/j30 --pattern 'j301_*.sm' --time-limit 10
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psplib
from pyjobshop import Model, SolveStatus, Task

_SOLVED = (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class PjsResult:
    """One PyJobShop run on one instance.

    ``status`` is PyJobShop's ``SolveStatus`` value: "Optimal", "Feasible", "Infeasible", "Time-limit" (CP-SAT
    UNKNOWN: no solution within the limit) or "Unknown" (model invalid). ``seconds`` is the wall time of
    ``Model.solve`` alone (PyJobShop's translation to CP-SAT plus the search); ``build_seconds`` is parsing the file
    and building the ``Model``.
    """

    name: str
    makespan: int | None
    proven_optimal: bool
    lower_bound: float | None
    seconds: float
    status: str
    build_seconds: float = 0.0


def build_model(instance: psplib.ProjectInstance) -> Model:
    """PyJobShop model of a single- or multi-mode PSPLIB instance, minimising makespan."""
    model = Model()
    resources = [
        model.add_renewable(capacity=res.capacity) if res.renewable else model.add_consumable(capacity=res.capacity)
        for res in instance.resources
    ]
    task_of: dict[int, Task] = {}
    for project in instance.projects:  # PSPLIB files hold one project with every activity
        job = model.add_job(release_date=project.release_date)
        for idx in project.activities:
            task_of[idx] = model.add_task(job=job)
    for idx, activity in enumerate(instance.activities):
        for mode in activity.modes:
            model.add_mode(task_of[idx], resources, duration=mode.duration, demands=list(mode.demands))
    for idx, activity in enumerate(instance.activities):
        for succ in activity.successors:
            model.add_end_before_start(task_of[idx], task_of[succ])
    model.set_objective(weight_makespan=1)
    return model


def solve_with_pyjobshop(path: Path, *, time_limit_s: float, workers: int, seed: int = 0) -> PjsResult:
    """Solve one PSPLIB ``.sm``/``.mm`` file with PyJobShop's OR-Tools backend."""
    start = time.perf_counter()
    model = build_model(psplib.parse(path, instance_format="psplib"))
    build_seconds = time.perf_counter() - start

    start = time.perf_counter()
    result = model.solve(
        solver="ortools", time_limit=time_limit_s, display=False, num_workers=workers, random_seed=seed
    )
    seconds = time.perf_counter() - start

    solved = result.status in _SOLVED
    return PjsResult(
        name=Path(path).name,
        makespan=round(result.objective) if solved else None,
        proven_optimal=result.status == SolveStatus.OPTIMAL,
        # Without a solution PyJobShop reports a bound of 0 whatever CP-SAT proved: that is no bound.
        lower_bound=float(result.lower_bound) if solved else None,
        seconds=seconds,
        status=result.status.value,
        build_seconds=build_seconds,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Solve PSPLIB files with PyJobShop; print one JSON line each.")
    parser.add_argument("dir", type=Path, help="folder of PSPLIB files")
    # The default skips the reference files that share the folders (j30opt.sm, j60hrs.sm, j10opt.mm, ...).
    parser.add_argument("--pattern", default="*_*.[sm]m", help="glob inside DIR (default: *_*.[sm]m)")
    parser.add_argument("--limit", type=int, default=None, help="solve at most this many files")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance (default: 10)")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default: 2)")
    parser.add_argument("--seed", type=int, default=0, help="CP-SAT random seed (default: 0)")
    args = parser.parse_args(argv)

    paths = sorted(args.dir.glob(args.pattern))[: args.limit]
    for path in paths:
        res = solve_with_pyjobshop(path, time_limit_s=args.time_limit, workers=args.workers, seed=args.seed)
        print(json.dumps(asdict(res)), flush=True)


if __name__ == "__main__":
    main()
