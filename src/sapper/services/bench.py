"""The PSPLIB benchmark: solve a folder of instances with sapper's engine and compare with the reference values.

Every schedule is verified by the independent checker inside ``solve``. An instance counts as *at the reference* when
its makespan is at most the best known value (the optimum where proven). A *false proof* is a makespan claimed optimal
that is worse than a known feasible makespan, or a proven lower bound above a known optimum: either means the
solver's proof is wrong. An *impossible* makespan is one below a proven optimum or below the reference's lower bound:
either the schedule breaks a constraint the checker missed or the reference is wrong — never a result to report.
"""

from __future__ import annotations

import fnmatch
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sapper.errors import ImportFileError
from sapper.io.psplib import Reference, read_instance, read_references
from sapper.jsontypes import JsonObject
from sapper.messages import msg
from sapper.plan import SolveParams, Status, solve

INSTANCE_SUFFIXES = (".sm", ".mm")


@dataclass(frozen=True, slots=True)
class InstanceResult:
    name: str
    makespan: int | None
    reference: int | None
    proven_optimal: bool
    deviation_pct: float | None
    seconds: float
    lower_bound: int | None
    status: str
    false_proof: bool
    impossible: bool = False


@dataclass(frozen=True)
class BenchReport:
    directory: str
    time_limit_s: float
    workers: int
    instances: list[InstanceResult]

    @property
    def summary(self) -> JsonObject:
        return summarise(self.instances)

    def to_json(self) -> JsonObject:
        return {
            "directory": self.directory,
            "time_limit_s": self.time_limit_s,
            "workers": self.workers,
            "summary": self.summary,
            "instances": [asdict(r) for r in self.instances],
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


def summarise(instances: Sequence[InstanceResult]) -> JsonObject:
    """The summary of a run: counts at the reference and proven, deviations, seconds, false proofs."""
    devs = [r.deviation_pct for r in instances if r.deviation_pct is not None]
    return {
        "count": len(instances),
        "with_reference": sum(r.reference is not None for r in instances),
        "solved": sum(r.makespan is not None for r in instances),
        "at_reference": sum(r.makespan is not None and r.reference is not None and r.makespan <= r.reference
                            and not r.impossible for r in instances),
        "proven_optimal": sum(r.proven_optimal for r in instances),
        "mean_deviation_pct": round(statistics.fmean(devs), 4) if devs else None,
        "max_deviation_pct": round(max(devs), 4) if devs else None,
        "mean_seconds": round(statistics.fmean(r.seconds for r in instances), 4) if instances else None,
        "max_seconds": round(max(r.seconds for r in instances), 4) if instances else None,
        "false_proofs": sum(r.false_proof for r in instances),
        "impossible": sum(r.impossible for r in instances),
    }


def instance_files(directory: Path, pattern: str | None = None, limit: int | None = None) -> list[Path]:
    """Instance files of ``directory`` (``.sm``/``.mm``, reference tables excluded) matching ``pattern``, sorted by
    name (plain character order, as ``ls`` shows them); the first ``limit`` of them."""
    if not directory.is_dir():
        raise ImportFileError(msg("{directory} is not a folder of PSPLIB instances", directory=directory))
    files = [p for p in directory.iterdir()
             if p.suffix.lower() in INSTANCE_SUFFIXES and not _is_table(p.name)
             and (pattern is None or fnmatch.fnmatch(p.name, pattern))]
    files.sort(key=lambda p: p.name)
    if limit is not None:
        files = files[: max(0, limit)]
    if not files:
        raise ImportFileError(msg("no instance in {directory} matches {pattern}", directory=directory,
                                  pattern=repr(pattern)) if pattern else msg("no instance in {directory}",
                                                                             directory=directory))
    return files


def _is_table(name: str) -> bool:
    stem = name.rsplit(".", 1)[0].lower()
    return stem.endswith(("opt", "hrs", "lb"))


def run_psplib(directory: Path, *, pattern: str | None = None, limit: int | None = None, time_limit_s: float = 10.0,
               workers: int = 2, seed: int = 0,
               progress: Callable[[InstanceResult], None] | None = None) -> BenchReport:
    """Solve every selected instance of ``directory`` and compare with the references found there."""
    files = instance_files(directory, pattern, limit)  # first: a missing folder is a clear error
    refs = read_references(directory)
    results = []
    for path in files:
        result = solve_instance(path, refs.get(path.name, Reference()), time_limit_s=time_limit_s, workers=workers,
                                seed=seed)
        results.append(result)
        if progress is not None:
            progress(result)
    return BenchReport(str(directory), time_limit_s, workers, results)


def solve_instance(path: Path, ref: Reference, *, time_limit_s: float, workers: int, seed: int = 0) -> InstanceResult:
    """Read, solve and compare one instance. ``seconds`` is the wall time of reading and solving."""
    t0 = time.perf_counter()
    problem = read_instance(path)
    result = solve(problem, params=SolveParams(time_limit_s=time_limit_s, workers=workers, seed=seed))
    seconds = time.perf_counter() - t0
    makespan = int(result.objective) if result.objective is not None else None
    bound = round(result.lower_bound) if result.lower_bound is not None else None
    return compare(path.name, ref, makespan=makespan, proven_optimal=result.status is Status.OPTIMAL,
                   lower_bound=bound, seconds=seconds, status=result.status.value,
                   solver_false_proof=bool(result.details.get("false_proof", False)))


def compare(name: str, ref: Reference, *, makespan: int | None, proven_optimal: bool, lower_bound: int | None,
            seconds: float, status: str, solver_false_proof: bool = False) -> InstanceResult:
    """One engine's answer on one instance against its reference: deviation and false proof (for any engine)."""
    best = ref.best_known
    deviation = None
    if makespan is not None and best:
        deviation = round(100.0 * (makespan - best) / best, 4)
    false_proof = bool(
        (proven_optimal and makespan is not None and best is not None and makespan > best)
        or (lower_bound is not None and ref.optimum is not None and lower_bound > ref.optimum)
        or (lower_bound is not None and ref.upper is not None and lower_bound > ref.upper)
        or solver_false_proof
    )
    floor = ref.optimum if ref.optimum is not None else ref.lower
    impossible = makespan is not None and floor is not None and makespan < floor
    return InstanceResult(name, makespan, best, proven_optimal, deviation, round(seconds, 4), lower_bound, status,
                          false_proof, impossible)
