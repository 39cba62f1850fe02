"""`sapper import hazards` on large messy files built in code, run as a user runs it (a subprocess, the real SQLite
store): every valid or repairable feature is stored with the area of its repaired geometry computed independently,
every other feature is reported with its id and reason, and an import killed or starved of disk half-way leaves the
store as it was and completes when run again."""

from __future__ import annotations

import csv
import json
import os
import resource
import signal
import sqlite3
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.errors import ValidationError
from sapper.services.imports import ImportSummary, Kind, export_file, import_file
from sapper.store import open_store
from tests.io.messy import box_ring, feature, polygon, write_geojson
from tests.io.messy_gis import MessyRegister, geodesic_area_m2, messy_register, write_messy
from tests.services.test_cli_import import SAPPER, sapper

# ----------------------------------------------------------------------------------------------------
# Reading the store without sapper: GeoPackage binary by hand, columns with sqlite3
# ----------------------------------------------------------------------------------------------------

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _from_gpkg(blob: bytes) -> BaseGeometry:
    """GeoPackage binary → shapely, per the GeoPackage spec (magic, version, flags, srs id, envelope, WKB)."""
    magic, _version, flags = struct.unpack_from("<2sBB", blob)
    assert magic == b"GP"
    return shapely.from_wkb(blob[8 + _ENVELOPE_BYTES[(flags >> 1) & 0b111]:])


def stored_rows(db: Path) -> dict[str, tuple[float, BaseGeometry]]:
    """Each stored hazard area's ``area_m2`` column and geometry, by id, read with sqlite3 (not sapper)."""
    with sqlite3.connect(db) as conn:
        return {fid: (area, _from_gpkg(geom)) for fid, area, geom in
                conn.execute("SELECT id, area_m2, geom FROM hazard_areas")}


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def import_into(db: Path, file: Path, kind: Kind, **options: object) -> ImportSummary:
    """``import_file`` into the store at ``db``, opened for the one import as an entry point opens it."""
    with open_store(db) as store:
        return import_file(store, file, kind, **options)  # type: ignore[arg-type]


def export_from(db: Path, file: Path, kind: Kind) -> int:
    """``export_file`` from the store at ``db``, opened for the one export."""
    with open_store(db) as store:
        return export_file(store, file, kind)


def empty_store(path: Path) -> Path:
    with open_store(path, create=True):
        pass
    return path


# ----------------------------------------------------------------------------------------------------
# The 10,000-feature file, imported once through the command line
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    register: MessyRegister
    file: Path
    db: Path
    done: subprocess.CompletedProcess[str]
    report: dict[str, object]
    rows: dict[str, tuple[float, BaseGeometry]]  # stored_rows(db) after the import


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    """~10,000 hazard features (about 40 % broken; two of 100,000 vertices, one of them a bow-tie) as GeoJSON,
    imported into an empty store with `sapper import hazards FILE --db DB --report issues.json`."""
    folder = tmp_path_factory.mktemp("messy10k")
    register = messy_register("geojson", 10_000, seed=2025, big=2)
    file = write_messy(register, folder / "register.geojson")
    db = empty_store(folder / "store.gpkg")
    done = sapper("import", "hazards", file.name, "--db", db.name, "--report", "issues.json", cwd=folder)
    report = json.loads((folder / "issues.json").read_text(encoding="utf-8"))
    return Imported(register, file, db, done, report, stored_rows(db))


def test_large_messy_file_imports_every_usable_feature(big: Imported) -> None:
    """Exit 0; the count line adds up; the store holds exactly the valid and repaired features, by id."""
    reg = big.register
    assert big.done.returncode == 0, big.done.stderr
    assert big.done.stderr == ""
    stored, repaired, rejected = reg.stored, reg.by_outcome("repaired"), reg.by_outcome("rejected")
    assert len(reg.features) == 10_000 and len(rejected) > 3_000 and len(repaired) > 1_000
    assert big.done.stdout.splitlines() == [
        f"imported {len(stored)}, repaired {len(repaired)}, rejected {len(rejected)}",
        f"wrote {len(repaired) + len(rejected)} repaired, rejected, skipped or conflicting features to issues.json",
    ]
    assert sorted(big.rows) == sorted(str(f.id) for f in stored)
    assert integrity(big.db) == "ok"


def test_every_repaired_and_rejected_feature_is_reported_by_id_and_reason(big: Imported) -> None:
    """The JSON report lists each repaired or rejected feature once, in file order, with its number, id and a
    reason naming what is wrong (the generator knows what it broke)."""
    issues = big.report["issues"]
    assert isinstance(issues, list)
    expected = [f for f in big.register.features if f.outcome != "imported"]
    assert [(i["feature"], i["id"], i["outcome"]) for i in issues] == [(f.index, f.id, f.outcome) for f in expected]
    wrong = [(f.kind, f.reason, i["reason"]) for f, i in zip(expected, issues, strict=True)
             if f.reason not in i["reason"]]
    assert wrong == []
    assert {k: big.report[k] for k in ("imported", "repaired", "rejected", "skipped", "conflicts")} == {
        "imported": len(big.register.stored), "repaired": len(big.register.by_outcome("repaired")),
        "rejected": len(big.register.by_outcome("rejected")), "skipped": 0, "conflicts": 0}
    kinds = {f.kind for f in expected}
    assert kinds >= {"bow_tie", "spike", "overlapping_parts", "null", "empty", "unclosed", "collapsed", "not_polygon",
                     "duplicate_id", "duplicate_geometry", "wrong_crs", "bad_attributes", "no_id", "big_bow_tie"}


def test_stored_areas_equal_the_repaired_geometries_areas(big: Imported) -> None:
    """Each stored area_m2 equals the geodesic area (pyproj Geod) of the geometry the generator built by hand for
    it — a bow-tie's two triangles, a square without its spike, overlapping parts merged — to 1e-6."""
    rows = big.rows
    stored = big.register.stored
    got = np.array([rows[str(f.id)][0] for f in stored])
    want = np.array([geodesic_area_m2(f.expected) for f in stored if f.expected is not None])
    assert len(want) == len(stored)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.sum() == pytest.approx(want.sum(), rel=1e-7)


def test_stored_geometries_are_the_expected_ones(big: Imported) -> None:
    """Valid features are stored vertex for vertex (Z dropped); repaired ones cover exactly the expected land."""
    rows = big.rows
    valid = [f for f in big.register.stored if f.outcome == "imported"]
    got = np.array([rows[str(f.id)][1] for f in valid], dtype=object)
    want = np.array([f.expected for f in valid], dtype=object)
    assert shapely.equals_exact(shapely.normalize(got), shapely.normalize(want), tolerance=0).all()
    repaired = big.register.by_outcome("repaired")
    got = np.array([rows[str(f.id)][1] for f in repaired], dtype=object)
    want = np.array([f.expected for f in repaired], dtype=object)
    assert shapely.is_valid(got).all()
    off = shapely.area(shapely.symmetric_difference(got, want)) / shapely.area(want)
    assert off.max() < 1e-9
    (bow,) = [f for f in repaired if f.kind == "big_bow_tie"]
    assert len(shapely.get_coordinates(rows[str(bow.id)][1])) > 100_000  # both lobes, every vertex kept


# ----------------------------------------------------------------------------------------------------
# Crashes and re-runs (a 600-feature file with two 100,000-vertex polygons: the write takes long enough to be
# caught in the middle, and fills the WAL beyond SQLite's page cache)
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A 600-feature messy GeoJSON with two 100,000-vertex polygons, and the ids an uninterrupted import stores."""
    folder = tmp_path_factory.mktemp("messy600")
    register = messy_register("geojson", 600, seed=7, big=2)
    return write_messy(register, folder / "mid.geojson"), {str(f.id) for f in register.stored}


def _writing(db: Path) -> bool:
    """True while another connection holds the store's write lock and has written to the WAL: the import's
    transaction is under way (opening the store takes the lock too, but writes nothing)."""
    wal = db.with_name(db.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return False
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # "database is locked": the writer is mid-transaction
        return True
    finally:
        conn.close()


def test_killed_import_leaves_the_store_unchanged_and_a_rerun_completes(
    mid: tuple[Path, set[str]], tmp_path: Path
) -> None:
    """kill -9 of `sapper import` in the middle of its write transaction: the store holds what it held before
    (one prior record, integrity ok), and the same command run again imports everything. (Re-running an import
    that did commit: test_skip_existing_skips_identical_features.)"""
    file, ids = mid
    db = empty_store(tmp_path / "store.gpkg")
    import_into(db, write_geojson(tmp_path / "one.geojson", [
        feature(polygon(box_ring(30.0, 45.0)), id="before", hazard_class="SHA")]), "hazards")
    args = [SAPPER, "import", "hazards", str(file), "--db", str(db)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None and not _writing(db) and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "the import finished before it could be caught writing"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert db.with_name(db.name + "-wal").stat().st_size > 0  # it had written, uncommitted
    assert set(stored_rows(db)) == {"before"}
    assert integrity(db) == "ok"

    again = sapper("import", "hazards", file, "--db", db.name, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"imported {len(ids)}, ")
    assert set(stored_rows(db)) == ids | {"before"}


def _no_more_than(limit: int) -> None:
    """Child process setup: files may grow to ``limit`` bytes; a write beyond fails with EFBIG, as on a full disk
    (SIGXFSZ ignored so that the write fails instead of the process being killed)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_disk_full_import_fails_cleanly_and_a_rerun_completes(mid: tuple[Path, set[str]], tmp_path: Path) -> None:
    """An import whose store cannot grow past 1 MB (file size limit: writes fail as on a full disk) exits 4 with
    one error line and leaves the store unchanged; the same import with room completes it."""
    file, ids = mid
    db = empty_store(tmp_path / "store.gpkg")
    before = db.read_bytes()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {"COLUMNS": "1000"}
    done = subprocess.run([SAPPER, "import", "hazards", str(file), "--db", str(db)], env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
                          preexec_fn=lambda: _no_more_than(len(before) + 1_000_000))
    assert done.returncode == 4, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"sapper: error [store_error]: the store {db} cannot be written: ")
    assert done.stdout == ""
    assert stored_rows(db) == {} and integrity(db) == "ok"
    assert import_into(db, file, "hazards").imported == len(ids)
    assert set(stored_rows(db)) == ids


# ----------------------------------------------------------------------------------------------------
# --skip-existing: identical features skipped and counted, different ones reported as conflicts
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path, MessyRegister]:
    """A 300-feature messy GeoJSON, already imported into a store."""
    register = messy_register("geojson", 300, seed=11, big=0)
    file = write_messy(register, tmp_path / "small.geojson")
    db = empty_store(tmp_path / "store.gpkg")
    import_into(db, file, "hazards")
    return file, db, register


def test_skip_existing_skips_identical_features(small: tuple[Path, Path, MessyRegister]) -> None:
    """Re-importing the imported file with skip_existing imports 0, skips every stored feature, and rejects the same
    broken ones as before; the store is byte for byte unchanged."""
    file, db, register = small
    before = db.read_bytes()
    summary = import_into(db, file, "hazards", skip_existing=True)
    assert summary.imported == 0
    assert [i.index for i in summary.skipped] == [f.index for f in register.stored]
    assert {i.reason for i in summary.skipped} == {"already in the store, identical"}
    assert summary.conflicts == [] and summary.repaired == []
    assert [i.index for i in summary.rejected] == [f.index for f in register.by_outcome("rejected")]
    assert summary.lines()[0] == (f"imported 0, repaired 0, rejected {len(summary.rejected)}, "
                                  f"skipped {len(register.stored)}, conflicts 0")
    assert db.read_bytes() == before


def test_store_exported_as_shapefile_reimports_as_identical(
    small: tuple[Path, Path, MessyRegister], tmp_path: Path
) -> None:
    """The store exported as a zipped Shapefile (10-character names, 15-digit numbers, rings rewound) and imported
    back with skip_existing is skipped feature by feature: nothing differs, nothing is written."""
    _, db, register = small
    out = tmp_path / "export.shp.zip"
    assert export_from(db, out, "hazards") == len(register.stored)
    before = db.read_bytes()
    summary = import_into(db, out, "hazards", skip_existing=True)
    assert (summary.imported, summary.rejected, summary.conflicts) == (0, [], [])
    assert len(summary.skipped) == len(register.stored)
    assert db.read_bytes() == before


def test_skip_existing_reports_changed_features_as_conflicts(
    small: tuple[Path, Path, MessyRegister], tmp_path: Path
) -> None:
    """A feature stored with other content is a conflict naming the fields that differ; the stored record is kept,
    and new features in the same file are imported. Ring order and winding alone are no difference."""
    _, db, register = small
    plain = [f for f in register.by_outcome("imported")
             if f.geometry is not None and f.geometry.type == "Polygon" and len(f.geometry.coordinates) == 1
             and len(f.geometry.coordinates[0][0]) == 2]
    first, second, third = plain[:3]
    assert first.geometry is not None and second.geometry is not None and third.geometry is not None
    (ring,) = second.geometry.coordinates
    moved = [[x + 0.001, y] for x, y in ring]
    (ring,) = third.geometry.coordinates
    rewound = [*ring[2:], *ring[1:3]][::-1]  # another first vertex, the other way round: the same ring
    feats = [
        feature(first.geometry.geojson(), **{**first.properties, "name": "renamed"}),
        feature(polygon(moved), **second.properties),
        feature(polygon(rewound), **third.properties),
        feature(polygon(box_ring(30.0, 45.0)), id="brand-new", hazard_class="CHA"),
    ]
    path = write_geojson(tmp_path / "changed.geojson", feats)
    summary = import_into(db, path, "hazards", skip_existing=True, report=tmp_path / "changed.csv")
    assert summary.imported == 1
    conflicts = {i.id: i.reason for i in summary.conflicts}
    assert conflicts[first.id] == f"id {first.id} is in the store with different name; the stored record is kept"
    assert conflicts[second.id] == f"id {second.id} is in the store with different geometry; the stored record is kept"
    assert [i.id for i in summary.skipped] == [third.id]
    with open_store(db) as store:
        assert store.hazard(str(first.id)).name == first.properties["name"]
        assert store.hazard("brand-new").hazard_class == "CHA"
    rows = (tmp_path / "changed.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith(f"1,{first.id},conflict,id {first.id} is in the store with different name")
    cli = sapper("import", "hazards", path.name, "--db", db.name, "--skip-existing", "--strict", cwd=tmp_path)
    assert cli.returncode == 2  # conflicts count as refusals under --strict
    assert cli.stdout.splitlines()[0].endswith(f"skipped 2, conflicts {len(conflicts)}")
    assert cli.stdout.splitlines()[1].startswith(f"conflict feature 1 (id {first.id}): ")


def test_csv_report_lists_every_issue_in_file_order(
    small: tuple[Path, Path, MessyRegister], tmp_path: Path
) -> None:
    """The CSV report has a header and one row per repaired or rejected feature, in file order, with its number,
    id, outcome and reason (importing into a fresh store: the same features as the first import)."""
    file, db, register = small
    fresh = empty_store(tmp_path / "fresh.gpkg")
    summary = import_into(fresh, file, "hazards", report=tmp_path / "r.csv")
    assert stored_rows(fresh).keys() == stored_rows(db).keys()
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    issues = [f for f in register.features if f.outcome != "imported"]
    assert rows[0] == ["feature", "id", "outcome", "reason"]
    assert [tuple(r[:3]) for r in rows[1:]] == [(str(f.index), f.id or "", f.outcome) for f in issues]
    assert all(f.reason in r[3] for f, r in zip(issues, rows[1:], strict=True))
    assert len(rows) - 1 == len(summary.repaired) + len(summary.rejected)


def test_report_path_checked_before_anything_is_read(small: tuple[Path, Path, MessyRegister], tmp_path: Path) -> None:
    """A report named .txt, in a missing folder, or onto the input file is refused and nothing is imported."""
    file, db, _ = small
    copy = tmp_path / "copy.json"
    copy.write_bytes(file.read_bytes())
    before = db.read_bytes()
    for bad, why in (("issues.txt", "must end in .csv or .json"), ("missing/issues.csv", "does not exist"),
                     (copy.name, "is the file being imported or the store")):
        with pytest.raises(ValidationError, match=why):
            import_into(db, copy, "hazards", report=tmp_path / bad)
    assert db.read_bytes() == before
    assert copy.read_bytes() == file.read_bytes()
