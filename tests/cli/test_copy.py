"""`sapper init` on a database URL and `sapper copy` across backends, as a user runs them: the register copied into
PostGIS plans to the same objective as the GeoPackage it came from, and copying it back loses no row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.entry import run
from tests.conftest import PostgisServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _register(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path) -> None:
    """The README tour's example register (hazards, assets, workforce) in a new GeoPackage."""
    for args in (("init", "--db", db),
                 ("import", "hazards", EXAMPLES / "survey.geojson", "--db", db),
                 ("import", "assets", EXAMPLES / "damage.csv", "--crs", "EPSG:4326", "--db", db),
                 ("import", "workforce", EXAMPLES / "teams.csv", "--db", db)):
        code, _, stderr = run(monkeypatch, capsys, *args)
        assert code == 0, stderr


def _objective(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: str | Path) -> float:
    code, stdout, stderr = run(monkeypatch, capsys, "plan", "--db", db, "--engine", "greedy", "--json")
    assert code == 0, stderr
    return float(json.loads(stdout)["objective"])


def _counts(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: str | Path) -> dict[str, int]:
    code, stdout, stderr = run(monkeypatch, capsys, "info", "--db", db, "--json")
    assert code == 0, stderr
    counts: dict[str, int] = json.loads(stdout)["counts"]
    return counts


def test_copy_into_postgis_plans_the_same_and_copies_back_without_loss(
    postgis: PostgisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GeoPackage → PostGIS → GeoPackage: same greedy objective on both backends, the same rows in every table."""
    gpkg, back = tmp_path / "register.gpkg", tmp_path / "back.gpkg"
    _register(monkeypatch, capsys, gpkg)
    planned_on_file = _objective(monkeypatch, capsys, gpkg)
    url = postgis.new_empty_database()
    code, stdout, stderr = run(monkeypatch, capsys, "copy", "--from", gpkg, "--to", url)
    assert code == 0, stderr
    assert stdout.splitlines()[-1].startswith("copied ") and "plan_tasks" in stdout
    assert _objective(monkeypatch, capsys, url) == planned_on_file
    code, _, stderr = run(monkeypatch, capsys, "copy", "--from", url, "--to", back)
    assert code == 0, stderr
    on_pg, on_back = _counts(monkeypatch, capsys, url), _counts(monkeypatch, capsys, back)
    assert on_back == on_pg and on_pg["plan_runs"] == 2 and on_pg["hazard_areas"] == 6
    postgis.drop(url)


def test_init_on_a_url_and_copy_into_a_store_with_records_is_refused(
    postgis: PostgisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sapper init` makes a store in an empty database; a copy into a store that holds records exits 4, one line,
    and changes nothing there; the URL's password never shows."""
    gpkg = tmp_path / "register.gpkg"
    _register(monkeypatch, capsys, gpkg)
    url = postgis.new_empty_database()
    code, stdout, stderr = run(monkeypatch, capsys, "init", "--db", url)
    assert code == 0 and stdout.startswith("created postgresql"), stderr
    run(monkeypatch, capsys, "copy", "--from", gpkg, "--to", url)
    before = _counts(monkeypatch, capsys, url)
    code, _, stderr = run(monkeypatch, capsys, "copy", "--from", gpkg, "--to", url)
    assert code == 4 and len(stderr.strip().splitlines()) == 1 and "not empty" in stderr, stderr
    assert _counts(monkeypatch, capsys, url) == before
    code, _, stderr = run(monkeypatch, capsys, "init", "--db", url)
    assert code == 4 and "already holds" in stderr
    postgis.drop(url)
