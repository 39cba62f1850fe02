"""``sapper bench psplib``: the scheduling engine on public instance sets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Seed
from sapper.cli._output import counts, say, tr

if TYPE_CHECKING:
    from sapper.services.bench import InstanceResult

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks of the scheduling engine on public instance sets.")


def _show(r: InstanceResult) -> None:
    mark = "optimal" if r.proven_optimal else "feasible"
    dev = "" if r.deviation_pct is None else f" {r.deviation_pct:+.2f} %"
    said = tr("{name}: {makespan} ({mark}) reference {reference}{dev} in {seconds} s", name=r.name,
              makespan=r.makespan, mark=mark, reference=r.reference, dev=dev, seconds=f"{r.seconds:.2f}")
    say(said + (" " + tr("FALSE PROOF") if r.false_proof else ""))


@bench_app.command("psplib")
def bench_psplib(
    directory: Annotated[Path, typer.Argument(help="Folder of PSPLIB .sm/.mm instances and their reference tables.")],
    pattern: Annotated[str | None, typer.Option(help="Only instance files whose name matches this glob.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N instances, by name.")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver time limit per instance, s.")] = 10.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers (threads).")] = 2,
    seed: Seed = 0,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write instances and summary as JSON.")] = None,
) -> None:
    """Solve PSPLIB instances (makespan) and compare with the best-known values found in the folder."""
    from sapper.services.bench import run_psplib

    report = run_psplib(directory, pattern=pattern, limit=limit, time_limit_s=time_limit, workers=workers, seed=seed,
                        progress=_show)
    if json_file:
        report.write_json(json_file)
    counts(report.summary, width=20)
