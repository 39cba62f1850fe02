"""Fixtures of the command-line tests: the README tour's register, built through the command line once per module."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.cli.entry import run

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README tour's register: six hazard areas, five assets, nine teams and brigades, a greedy plan."""
    mp = pytest.MonkeyPatch()
    db = tmp_path_factory.mktemp("export") / "my.gpkg"

    class _Cap:  # run() wants capsys; at module scope the output is not looked at
        @staticmethod
        def readouterr() -> SimpleNamespace:
            return SimpleNamespace(out="", err="")

    for args in (["init", "--db", db, "--start-date", "2026-11-02"],
                 ["import", "hazards", EXAMPLES / "survey.geojson", "--db", db],
                 ["import", "assets", EXAMPLES / "damage.csv", "--crs", "EPSG:4326", "--db", db],
                 ["import", "workforce", EXAMPLES / "teams.csv", "--db", db],
                 ["plan", "--db", db, "--engine", "greedy"]):
        code, _, _ = run(mp, _Cap, *args)  # type: ignore[arg-type]
        assert code == 0, args
    mp.undo()
    return db
