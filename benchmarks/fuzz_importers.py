"""Benchmark (issue 16, item 5): coverage-guided fuzzing of the importers with atheris (libFuzzer for Python).

    .venv/bin/python benchmarks/fuzz_importers.py [--seconds 60] [--targets geojson csv odk-zip shp-zip imsma-csv
                                                  imsma-xlsx] [--seed 16] [--write docs/reliability.md]

Each target runs in a process of its own (atheris ends its process when it stops). sapper's modules are instrumented
(``atheris.instrument_imports``), so libFuzzer keeps the inputs that reach new branches of sapper's readers and
mutates them further. The seed corpus is one valid file per target, made from ``examples/``:

* ``geojson``: the bytes are a GeoJSON hazard file (seed: ``examples/survey.geojson``);
* ``csv``: the bytes are a hazard CSV with a ``wkt`` column, read with ``--crs EPSG:4326``;
* ``odk-zip``: the bytes are the main CSV of an ODK/Kobo export, zipped with the example's repeat group and media
  (seed: ``examples/odk_clearance.zip``);
* ``shp-zip``: the bytes are the ``.dbf`` (the attribute table) of a zipped Shapefile of the example hazards;
* ``imsma-csv``: the bytes are the hazard table of an IMSMA exchange folder of CSV files;
* ``imsma-xlsx``: the bytes are the hazard sheet's XML inside an IMSMA exchange workbook.

An input passes when the reader returns, or refuses it with a sapper error (``SapperError``) whose message is one
line. Anything else (another exception, a multi-line message, a crash, more than ``-rss_limit_mb`` of memory or
``-timeout`` seconds on one input) is a finding: libFuzzer stops, the input is kept (in
``$TMPDIR/sapper-fuzz-findings/TARGET``), and the run fails. The figures (runs, coverage, findings) go between the
markers in ``--write``'s file, with the command, date and machine; the JSON goes to
``benchmarks/results/fuzz_importers.json``. ``tests/io/test_fuzz_atheris.py`` runs each target for a few hundred
inputs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, machine, write_section

BEGIN, END = "<!-- fuzz-importers:begin -->", "<!-- fuzz-importers:end -->"
RESULTS = Path(__file__).resolve().parent / "results" / "fuzz_importers.json"
FINDINGS = Path(tempfile.gettempdir()) / "sapper-fuzz-findings"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TARGETS = ("geojson", "csv", "odk-zip", "shp-zip", "imsma-csv", "imsma-xlsx")
HAZARD_CSV = (
    "id,name,hazard_class,evidence,land_use,beneficiaries,wkt\n"
    'F-1,Field by the road,SHA,indirect,agricultural,120,"POLYGON ((35.2 51.215, 35.212 51.215, 35.212 51.222, '
    '35.2 51.222, 35.2 51.215))"\n'
    'F-2,Orchard,CHA,direct,agricultural,40,"POLYGON ((35.22 51.2, 35.23 51.2, 35.23 51.21, 35.22 51.2))"\n'
)


# --------------------------------------------------------------------------------------------------------------
# The child: one target under atheris
# --------------------------------------------------------------------------------------------------------------


def _example_hazards() -> list[Any]:
    """The example hazard areas, each with an IMSMA id (as a store gives them on export)."""
    from dataclasses import replace

    from sapper.io import read_hazards

    read = read_hazards(EXAMPLES / "survey.geojson")
    return [replace(h, imsma_id=f"00000000-0000-4000-8000-{i:012d}") for i, h in enumerate(read.records, start=1)]


def _imsma_seed(work: Path) -> Path:
    """An IMSMA exchange folder of CSV files holding the example hazard areas."""
    from sapper.io.imsma import write_imsma

    folder = work / "imsma"
    write_imsma(folder, [], _example_hazards(), [])
    return folder


def _hazard_member(names: list[str]) -> str:
    return next(n for n in names if "hazard" in n.lower())


def prepare(target: str, work: Path, corpus: Path) -> None:
    """Write the target's seed input into ``corpus`` and what its harness needs besides into ``work``."""
    corpus.mkdir(parents=True, exist_ok=True)
    seed = corpus / "seed"
    if target == "geojson":
        seed.write_bytes((EXAMPLES / "survey.geojson").read_bytes())
    elif target == "csv":
        seed.write_text(HAZARD_CSV, encoding="utf-8")
    elif target == "odk-zip":
        with zipfile.ZipFile(EXAMPLES / "odk_clearance.zip") as z:
            main = next(n for n in z.namelist() if n.endswith(".csv") and "-" not in Path(n).stem)
            seed.write_bytes(z.read(main))
            (work / "main-name").write_text(main, encoding="utf-8")
            for name in z.namelist():
                if name != main:
                    (work / "rest").mkdir(exist_ok=True)
                    dest = work / "rest" / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(z.read(name))
    elif target == "shp-zip":
        import pyogrio

        frame = pyogrio.read_dataframe(EXAMPLES / "survey.geojson")
        shp = work / "shp" / "hazards.shp"
        shp.parent.mkdir(parents=True)
        pyogrio.write_dataframe(frame, shp)
        seed.write_bytes(shp.with_suffix(".dbf").read_bytes())
    elif target == "imsma-csv":
        folder = _imsma_seed(work)
        member = _hazard_member([p.name for p in folder.iterdir()])
        seed.write_bytes((folder / member).read_bytes())
        (work / "member").write_text(member, encoding="utf-8")
    elif target == "imsma-xlsx":
        from sapper.io.imsma import write_imsma

        book = work / "imsma.xlsx"
        write_imsma(book, [], _example_hazards(), [])
        with zipfile.ZipFile(book) as z:
            sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
            names = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="rId(\d+)"', z.read("xl/workbook.xml").decode())
            hazard_sheet = next((f"xl/worksheets/sheet{i}.xml" for n, i in names if "hazard" in n.lower()), sheets[0])
            seed.write_bytes(z.read(hazard_sheet))
        (work / "member").write_text(hazard_sheet, encoding="utf-8")
    else:
        raise SystemExit(f"unknown target {target!r}; known: {', '.join(TARGETS)}")


def child(target: str, work: Path, libfuzzer: list[str]) -> None:
    """Fuzz ``target`` with atheris (never returns: libFuzzer exits the process)."""
    import atheris

    with atheris.instrument_imports(include=["sapper"]):
        from sapper.errors import SapperError
        from sapper.io import read_hazards
        from sapper.io.fieldexport import read_field_export
        from sapper.io.imsma import read_imsma

    box = work / "box"
    box.mkdir(exist_ok=True)

    def zipped(path: Path, members: dict[str, bytes]) -> Path:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, blob in members.items():
                z.writestr(name, blob)
        return path

    def read(data: bytes) -> None:
        if target == "geojson":
            (box / "in.geojson").write_bytes(data)
            read_hazards(box / "in.geojson")
        elif target == "csv":
            (box / "in.csv").write_bytes(data)
            read_hazards(box / "in.csv", crs="EPSG:4326")
        elif target == "odk-zip":
            rest = work / "rest"
            members = {str(p.relative_to(rest)): p.read_bytes() for p in rest.rglob("*") if p.is_file()}
            members[(work / "main-name").read_text(encoding="utf-8")] = data
            read_field_export(zipped(box / "in.zip", members))
        elif target == "shp-zip":
            shp = work / "shp"
            members = {p.name: p.read_bytes() for p in shp.iterdir() if p.suffix != ".dbf"}
            members["hazards.dbf"] = data
            read_hazards(zipped(box / "in.zip", members))
        elif target == "imsma-csv":
            folder = box / "imsma"
            if folder.exists():
                shutil.rmtree(folder)
            shutil.copytree(work / "imsma", folder)
            (folder / (work / "member").read_text(encoding="utf-8")).write_bytes(data)
            read_imsma(folder)
        elif target == "imsma-xlsx":
            member = (work / "member").read_text(encoding="utf-8")
            with zipfile.ZipFile(work / "imsma.xlsx") as z:
                members = {n: z.read(n) for n in z.namelist()}
            members[member] = data
            read_imsma(zipped(box / "in.xlsx", members))

    self_test = os.environ.get("SAPPER_FUZZ_SELF_TEST") == "1"  # the test that a finding fails the run

    def one(data: bytes) -> None:
        if self_test:
            raise RuntimeError("self-test: not a sapper error")
        try:
            read(data)
        except SapperError as exc:
            message = exc.message.strip()
            if not message or "\n" in message or "Traceback" in message:
                raise AssertionError(f"a sapper error that is not one line: {exc.message!r}") from exc

    atheris.Setup([sys.argv[0], *libfuzzer], one)
    atheris.Fuzz()


# --------------------------------------------------------------------------------------------------------------
# The parent: run the targets, read libFuzzer's figures, write them down
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One target's run: what libFuzzer reported and whether it found anything."""

    target: str
    seconds: int
    runs: int
    coverage: int  # libFuzzer's "cov:" (edges reached in the instrumented code)
    features: int  # its "ft:"
    corpus: int  # inputs kept
    findings: int
    finding: str  # the first line of what failed, when something did


def fuzz(target: str, *, seconds: int, seed: int, runs: int | None = None, folder: Path | None = None) -> Outcome:
    """Fuzz one target in a child process for ``seconds`` (or ``runs`` inputs) and read libFuzzer's report."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(folder or tmp)
        corpus = work / "corpus"
        artifacts = work / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        prepare(target, work, corpus)
        flags = [
            f"-max_total_time={seconds}",
            f"-seed={seed}",
            "-rss_limit_mb=2048",
            "-timeout=30",
            "-max_len=65536",
            f"-artifact_prefix={artifacts}/",
            *([f"-runs={runs}"] if runs is not None else []),
            str(corpus),
        ]
        done = subprocess.run(
            [sys.executable, __file__, "--child", target, "--work", str(work), "--", *flags],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 600,
        )
        log = done.stderr
        stats = re.findall(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", log)
        last = stats[-1] if stats else ("0", "0", "0", "0")
        total = re.search(r"Done (\d+) runs in", log)
        found = sorted(artifacts.iterdir())
        failed = done.returncode != 0 or bool(found)
        if found:  # kept beyond the temporary folder, to reproduce (`--child TARGET --work DIR -- FILE`)
            keep = FINDINGS / target
            keep.mkdir(parents=True, exist_ok=True)
            for f in found:
                shutil.copy(f, keep / f.name)
        why = ""
        if failed:
            errors = [ln for ln in log.splitlines() if "Error" in ln or "error" in ln or "==" in ln]
            why = (errors[-1] if errors else log.strip().splitlines()[-1] if log.strip() else f"exit {done.returncode}")
        return Outcome(
            target,
            seconds,
            int(total.group(1)) if total else int(last[0]),
            int(last[1]),
            int(last[2]),
            int(last[3]),
            len(found) if found else int(failed),
            why[:300],
        )


def markdown(res: dict[str, object]) -> str:
    rows = [
        "| target | seconds | inputs run | coverage (edges) | features | corpus kept | findings |",
        "|---|---|---|---|---|---|---|",
    ]
    outcomes = res["targets"]
    assert isinstance(outcomes, list)
    for o in outcomes:
        rows.append(
            f"| `{o['target']}` | {o['seconds']} | {o['runs']:,} | {o['coverage']:,} | {o['features']:,} | "
            f"{o['corpus']:,} | {o['findings']}{' — ' + o['finding'] if o['finding'] else ''} |"
        )
    return "\n".join(
        [
            BEGIN,
            f"Measured {res['date']} with `{res['command']}` (atheris {res['atheris']}) on {res['machine']}"
            + (f"; {res['note']}" if res.get("note") else "")
            + ".",
            "",
            *rows,
            "",
            "An input passes when the reader returns or refuses it with a one-line sapper error; a finding is any "
            "other exception, a crash, a timeout or too much memory (the input is kept to reproduce it).",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--note", default="", help="a line on the machine, e.g. that it was busy")
    parser.add_argument("--write", type=Path, default=None, help="replace this section of that file")
    parser.add_argument("--render-only", action="store_true", help="re-render the section from the JSON results")
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.child, args.work, [a for a in rest if a != "--"])
        return
    heading = "## 5b. Coverage-guided fuzzing of the importers"
    if args.render_only:
        assert args.write is not None, "--render-only needs --write FILE"
        write_section(args.write, BEGIN, END, markdown(json.loads(RESULTS.read_text(encoding="utf-8"))), heading)
        return
    from importlib.metadata import version

    import atheris  # noqa: F401  (fail here, in one line, when it is missing)

    outcomes = []
    for target in args.targets:
        outcome = fuzz(target, seconds=args.seconds, seed=args.seed)
        print(json.dumps(asdict(outcome)), flush=True)
        outcomes.append(outcome)
    res = {
        "date": dt.date.today().isoformat(),
        "command": command_line("fuzz_importers.py", sys.argv[1:]),
        "machine": machine(),
        "note": args.note,
        "atheris": version("atheris"),
        "targets": [asdict(o) for o in outcomes],
    }
    if args.write is not None:
        RESULTS.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        write_section(args.write, BEGIN, END, markdown(res), heading)
    if any(o.findings for o in outcomes):
        print(f"FAILED: a finding (see the table; the inputs are kept in {FINDINGS})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
