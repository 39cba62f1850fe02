"""`sapper import …` as a user runs it: every importer fed a file it cannot read answers with one line naming the
file and the reason (never a traceback); a profile saved on the command line makes the next delivery one command; a
wrong CRS or a file whose every feature is rejected exits 2."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import pytest

from sapper.store import open_store
from tests.cli.entry import run
from tests.io.foreign import imsma_ng_csv, map_options, value_options


@pytest.fixture
def db(tmp_path: Path) -> Path:
    with open_store(tmp_path / "store.gpkg", create=True) as store:
        assert store.path is not None
        return store.path


def _bad(path: Path, kind: str) -> Path:
    if kind == "undecodable":
        path.write_bytes(codecs.BOM_UTF8 + bytes(range(128, 256)) * 8)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("doc.kml", "<kml>" + "x" * 5000 + "</kml>")
        path.write_bytes(path.read_bytes()[:300])
    return path


IMPORTERS = [
    ("hazards", ".csv"), ("hazards", ".xlsx"), ("hazards", ".kmz"), ("hazards", ".geojson"), ("hazards", ".gpkg"),
    ("hazards", ".zip"), ("assets", ".csv"), ("assets", ".xlsx"), ("workforce", ".csv"), ("workforce", ".gpkg"),
    ("imsma", ".xlsx"), ("imsma", ".gpkg"), ("field", ".zip"), ("field", ".csv"), ("field", ".xlsx"),
]


@pytest.mark.parametrize("kind", ["undecodable", "empty", "truncated"])
@pytest.mark.parametrize(("importer", "suffix"), IMPORTERS)
def test_every_importer_refuses_unreadable_files_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path, importer: str, suffix: str,
    kind: str,
) -> None:
    """Undecodable bytes, an empty file and a truncated zip: exit 2, one stderr line naming the file, store
    unchanged."""
    path = _bad(db.parent / f"delivery{suffix}", kind)
    before = db.read_bytes()
    extra = ["--crs", "EPSG:4326"] if importer in ("hazards", "assets") else []
    code, out, err = run(monkeypatch, capsys, "import", importer, path, "--db", db, *extra)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and path.name in err and "Traceback" not in err, err
    assert db.read_bytes() == before


def test_profile_saved_then_one_command_then_nothing_added(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    """Unknown values: exit 2 with all of them in one line. With the value map, --save-profile: imported, every
    decision printed. Next delivery: --profile alone; the same file adds nothing."""
    foreign = imsma_ng_csv(db.parent / "ng.csv")
    maps = [a for m in map_options() for a in ("--map", m)]
    code, _, err = run(monkeypatch, capsys, "import", "hazards", foreign.path, "--db", db, "--crs", "EPSG:4326", *maps)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "hazard_class (required): 'Подозрительный опасный район' ×3" in err
    values = [a for v in value_options() for a in ("--value", v)]
    code, out, _ = run(monkeypatch, capsys, "import", "hazards", foreign.path, "--db", db, "--crs", "EPSG:4326",
                       *maps, *values, "--save-profile", db.parent / "ng.toml")
    assert code == 0
    assert out.splitlines()[0] == "added 5, updated 0, unchanged 0, repaired 0, rejected 0"
    assert f"saved the profile to {db.parent / 'ng.toml'}" in out
    code, out, _ = run(monkeypatch, capsys, "import", "hazards", foreign.path, "--db", db,
                       "--profile", db.parent / "ng.toml")
    assert (code, out.splitlines()[0]) == (0, "added 0, updated 0, unchanged 5, repaired 0, rejected 0")


def test_dry_run_prints_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    """--dry-run prints what would happen and leaves the store's bytes as they were."""
    foreign = imsma_ng_csv(db.parent / "ng.csv")
    before = db.read_bytes()
    args = [a for m in map_options() for a in ("--map", m)] + [a for v in value_options() for a in ("--value", v)]
    code, out, _ = run(monkeypatch, capsys, "import", "hazards", foreign.path, "--db", db, "--crs", "EPSG:4326",
                       *args, "--dry-run")
    assert code == 0 and out.startswith("dry run, nothing written: would have added 5")
    assert db.read_bytes() == before


def test_wrong_crs_rejects_everything_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    """A lon/lat file declared as UTM 36N: each feature rejected with "looks like EPSG:4326", a closing line says
    nothing was imported, exit 2."""
    foreign = imsma_ng_csv(db.parent / "ng.csv")
    args = [a for m in map_options() for a in ("--map", m)] + [a for v in value_options() for a in ("--value", v)]
    code, out, _ = run(monkeypatch, capsys, "import", "hazards", foreign.path, "--db", db, "--crs", "EPSG:32636",
                       *args)
    assert code == 2
    assert out.count("looks like EPSG:4326") == 5
    assert out.splitlines()[-1] == "nothing imported: all 5 features were rejected"
