"""The sapper command line for files in and out, run as a user runs it (a subprocess), so exit codes are real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

from sapper.services.imports import import_file
from sapper.store import Store, open_store
from tests.io.messy import messy_hazards, write_csv

SAPPER = str(Path(sys.executable).with_name("sapper")) if Path(sys.executable).with_name("sapper").exists() else (
    shutil.which("sapper") or "sapper"
)


def sapper(*args: str | Path, cwd: Path, width: int | None = 1000) -> subprocess.CompletedProcess[str]:
    """Run ``sapper args`` in ``cwd``, with output ``width`` columns wide (None: whatever rich picks when piped)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if width is not None:
        env["COLUMNS"] = str(width)
    return subprocess.run(
        [SAPPER, *map(str, args)], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=600, check=False,  # a guard against a hang only: a 10,000-feature import took 55 s on a loaded host
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """An empty store (made in-process: a subprocess costs a second, and ``sapper init`` has its own test)."""
    with open_store(tmp_path / "store.gpkg", create=True) as store:
        return store.path


def test_init_creates_an_empty_store_and_will_not_overwrite(tmp_path: Path) -> None:
    """sapper init makes an empty store; run again on the same path it refuses (exit 4) with one error line."""
    done = sapper("init", "--db", "store.gpkg", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "created store.gpkg")
    db = tmp_path / "store.gpkg"
    with open_store(db) as store:
        assert set(store.counts().values()) == {0}
    before = db.read_bytes()
    again = sapper("init", "--db", db.name, cwd=db.parent)
    assert again.returncode == 4
    assert again.stderr.splitlines() == [
        f"sapper: error [store_error]: {db.name} already exists; sapper init does not overwrite a file"
    ]
    assert db.read_bytes() == before


def test_import_messy_file_prints_summary_and_exits_0(db: Path) -> None:
    """Importing a messy file prints the counts and one line per repaired and rejected feature, and exits 0."""
    messy = messy_hazards(db.parent / "messy.geojson")
    done = sapper("import", "hazards", messy.path.name, "--db", db.name, cwd=db.parent)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == "imported 3, repaired 1, rejected 6"
    assert lines[1].startswith("repaired feature 2 (id bow): Self-intersection[")
    rejected = lines[2:]
    assert len(rejected) == len(messy.rejected)
    for line, (n, (fid, fragment)) in zip(rejected, messy.rejected.items(), strict=True):
        assert line.startswith(f"rejected feature {n} (id {fid}): ")
        assert fragment in line
    with open_store(db) as store:
        assert sorted(h.id for h in store.hazards()) == sorted(messy.imported)


def test_strict_without_rejections_exits_0(db: Path) -> None:
    """--strict exits 0 when every feature was imported."""
    write_csv(db.parent / "ok.csv", ["id", "hazard_class", "wkt"],
              [["a", "SHA", "POLYGON ((35 50, 35.01 50, 35.01 50.01, 35 50.01, 35 50))"]])
    done = sapper("import", "hazards", "ok.csv", "--db", db.name, "--crs", "EPSG:4326", "--strict", cwd=db.parent)
    assert (done.returncode, done.stdout.splitlines()) == (0, ["imported 1, repaired 0, rejected 0"])


def test_strict_with_rejections_exits_2(db: Path) -> None:
    """--strict exits 2 when a feature was rejected, after printing the summary and importing the rest."""
    messy = messy_hazards(db.parent / "messy.geojson")
    done = sapper("import", "hazards", messy.path.name, "--db", db.name, "--strict", cwd=db.parent)
    assert done.stdout.startswith("imported 3, repaired 1, rejected 6")
    assert done.returncode == 2


def test_missing_crs_exits_2_with_one_line(db: Path) -> None:
    """A CSV without --crs exits 2 with one 'sapper: error [crs_error]' line, no traceback, and stores nothing."""
    write_csv(db.parent / "h.csv", ["id", "hazard_class", "wkt"], [["a", "SHA", "POINT (1 1)"]])
    done = sapper("import", "hazards", "h.csv", "--db", db.name, cwd=db.parent)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("sapper: error [crs_error]: h.csv") and "--crs" in line
    with open_store(db) as store:
        assert store.counts()["hazard_areas"] == 0


def test_missing_store_exits_3(tmp_path: Path) -> None:
    """Importing into a store that does not exist exits 3 and creates nothing."""
    messy = messy_hazards(tmp_path / "messy.geojson")
    done = sapper("import", "hazards", messy.path.name, "--db", "none.gpkg", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr.startswith("sapper: error [not_found]: no store at none.gpkg")
    assert not (tmp_path / "none.gpkg").exists()


def test_export_geojson_reads_back_as_wgs84(db: Path, reg: Store) -> None:
    """sapper export hazards out.geojson writes the stored hazards; pyogrio reads them with CRS EPSG:4326."""
    messy = messy_hazards(db.parent / "messy.geojson")
    assert import_file(reg, messy.path, "hazards").imported == 3
    done = sapper("export", "hazards", "out.geojson", "--db", db.name, cwd=db.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "exported 3 hazard areas to out.geojson"
    out = db.parent / "out.geojson"
    assert pyogrio.read_info(out)["crs"] == "EPSG:4326"
    frame = pyogrio.read_dataframe(out)
    assert sorted(frame["id"]) == sorted(messy.imported)
    assert set(frame.geometry.geom_type) == {"Polygon", "MultiPolygon"}


def test_lines_are_not_wrapped_when_piped(db: Path) -> None:
    """Piped output keeps one line per rejected feature and one line per error, however long."""
    messy = messy_hazards(db.parent / "messy.geojson")
    done = sapper("import", "hazards", messy.path.name, "--db", db.name, cwd=db.parent, width=None)
    assert len(done.stdout.splitlines()) == 2 + len(messy.rejected)
    write_csv(db.parent / "h.csv", ["id", "hazard_class", "wkt"], [["a", "SHA", "POINT (1 1)"]])
    failed = sapper("import", "hazards", "h.csv", "--db", db.name, cwd=db.parent, width=None)
    assert len(failed.stderr.splitlines()) == 1


def test_usage_error_exits_2_without_traceback(tmp_path: Path) -> None:
    """Forgetting --db is a usage error: exit 2, a message naming --db, no traceback."""
    done = sapper("import", "hazards", "h.geojson", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert "--db" in done.stderr
    assert done.returncode == 2
