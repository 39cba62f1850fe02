"""What every benchmark script shares: a description of the machine, and writing its section of a markdown file."""

from __future__ import annotations

import fcntl
import os
import platform
import subprocess
import tempfile
from pathlib import Path


def machine() -> str:
    """Cores (``nproc``), CPU model, memory, OS and Python of this machine, in one line; and, when the benchmark runs
    under ``benchmarks/quiet.sh`` (``SAPPER_BENCH_QUIET=nice19``), that the other work was held at nice 19."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        nproc = ""
    held = ("; other work on the machine held at nice 19 by `benchmarks/quiet.sh`"
            if os.environ.get("SAPPER_BENCH_QUIET") == "nice19" else "")
    return (f"{nproc or os.cpu_count()} cores (`nproc`; {cpu}){mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}{held}")


def write_section(path: Path, begin: str, end: str, section: str, new_heading: str = "") -> None:
    """Replace the text between the ``begin`` and ``end`` markers of ``path`` with ``section`` (which carries the
    markers); without markers yet, append ``new_heading`` and the section. Other sections are left as they are."""
    with open(Path(tempfile.gettempdir()) / f"sapper-doc-{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two benchmarks may write sections of the same file at once
        doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
        if begin in doc and end in doc:
            doc = doc[: doc.index(begin)] + section + doc[doc.index(end) + len(end):]
        else:
            doc = doc.rstrip("\n") + "\n\n" + (new_heading + "\n\n" if new_heading else "") + section + "\n"
        path.write_text(doc, encoding="utf-8")


def command_line(script: str, argv: list[str]) -> str:
    """The command that ran ``script`` with ``argv``, quoted so that it can be pasted into a shell again."""
    import shlex

    return shlex.join(["python", f"benchmarks/{script}", *argv])
