"""The README's tour runs exactly as written, from the repository's root, on what a fresh clone has.

Each line of the ``sh`` block under "## A short tour" is run in order by one shell, in a scratch folder that holds
what a fresh clone holds at its root (``.venv``, ``examples``, ``tests``: symbolic links), so the files the tour
writes stay out of the working tree. A line that fails stops the tour and fails the test with its output. The
tour's last line, ``sapper serve``, runs until stopped: the test starts it in the background, asks the service for
the hazard areas with the user the tour made, and stops it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tour_lines() -> list[str]:
    """The commands of the README's tour, comments stripped, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A short tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the tour has no sh block"
    lines = []
    for raw in block.group(1).splitlines():
        line = re.sub(r"\s+#.*$", "", raw).strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def test_the_tour_has_the_steps_a_new_user_needs() -> None:
    """The tour starts from an empty store, imports the shipped examples, plans, and reads field data back."""
    joined = "\n".join(tour_lines())
    for step in ("init --db", "import hazards examples/", "import assets examples/", "import workforce examples/",
                 "plan --db", "import field examples/", "field apply", "replan", "report", "user add", "serve --db"):
        assert step in joined, f"the README's tour lacks {step!r}"


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    """Every line of the tour exits 0, in order, from a folder laid out as a fresh clone's root."""
    venv = Path(sys.prefix)
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    for name in ("examples", "tests"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    *steps, serve = tour_lines()
    assert " serve " in serve, "the tour ends by serving the register"
    port = re.search(r"--port (\d+)", serve)
    assert port is not None
    url = f"http://127.0.0.1:{port.group(1)}/collections/hazard_areas/items?limit=100"
    probe = (f"{serve} > serve.log 2>&1 & pid=$!\n"
             f"for i in $(seq 100); do curl -sf -u 'ima:a long password' '{url}' > items.json && break\n"
             "sleep 0.3; done\n"
             "kill $pid; wait $pid || true\n"
             "grep -q '\"numberReturned\": *6' items.json || grep -q '\"numberReturned\":6' items.json\n")
    script = ("set -e\n" + "\n".join(f"echo '$ {line}' >&2\n{line}" for line in steps) + "\n"
              + f"echo '$ {serve}' >&2\n" + probe)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, f"the tour stopped:\n{done.stderr[-3000:]}\n{done.stdout[-2000:]}"
