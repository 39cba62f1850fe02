"""The command line starts without the heavy libraries: each is imported by the command that uses it (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).parents[2] / "src"

#: What no ``--help`` may import: the model, the solver, the kernels, the file formats, the store, the reports, the
#: web service, and the NumPy/Shapely/pyproj stack the domain stands on.
HEAVY = ("sklearn", "scipy", "threadpoolctl", "ortools", "numba", "pandas", "geopandas", "pyogrio", "dask",
         "distributed", "weasyprint", "sqlalchemy", "alembic", "jinja2", "fastapi", "uvicorn", "numpy", "shapely",
         "pyproj")

#: Runs ``sapper --help`` and every command's and group's ``--help``, then prints (on stderr, last line) the heavy
#: modules imported and the number of help pages shown.
_PROBE = """
import contextlib, io, json, sys
import typer
from sapper.cli import app
heavy = json.loads(sys.argv[1])

def paths(group, prefix):
    yield prefix
    for name, cmd in getattr(group, "commands", {}).items():
        yield from paths(cmd, [*prefix, name])

shown = 0
for args in (paths(typer.main.get_command(app), []) if WALK else [[]]):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            app([*args, "--help"], standalone_mode=False)
        except SystemExit:
            pass
    assert "Usage" in out.getvalue(), (args, out.getvalue())
    shown += 1
print(json.dumps({"heavy": sorted({m.split(".")[0] for m in sys.modules} & set(heavy)), "shown": shown}),
      file=sys.stderr)
"""


def _probe(before: str = "", *, walk: bool = True) -> dict[str, object]:
    """The probe's finding in a fresh interpreter (``before``: code run first; ``walk``: every command's help, else
    only the top page)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "SAPPER_LANG": "en"}
    code = f"{before}\nWALK = {walk}\n{_PROBE}"
    done = subprocess.run([sys.executable, "-c", code, json.dumps(HEAVY)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


def test_help_of_every_command_imports_no_heavy_library() -> None:
    """``sapper --help`` and each command's ``--help`` import none of scikit-learn, OR-Tools, Numba, pandas, the store,
    the reports' templates or NumPy: what made every command pay seconds before it started."""
    found = _probe()
    assert isinstance(found["shown"], int) and found["shown"] > 40  # the walk reached the subcommands
    assert found["heavy"] == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: the same walk after importing the store names SQLAlchemy."""
    assert "sqlalchemy" in str(_probe("import sapper.services.register", walk=False)["heavy"])
