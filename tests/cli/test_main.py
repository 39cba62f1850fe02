"""The entry point: --version, settings from the environment, and one mapping of errors to lines and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapper.store import open_store
from tests.cli.entry import run


def test_version_prints_the_package_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    """`sapper --version` prints `sapper X.Y.Z` from the installed package's metadata and exits 0."""
    from importlib.metadata import version

    assert run(monkeypatch, capsys, "--version") == (0, f"sapper {version('sapper')}\n", "")


def test_sapper_db_names_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """SAPPER_DB stands for --db; an explicit --db wins over it."""
    with open_store(tmp_path / "a.gpkg", create=True):
        pass
    monkeypatch.setenv("SAPPER_DB", str(tmp_path / "a.gpkg"))
    code, out, err = run(monkeypatch, capsys, "info")
    assert code == 0, err
    assert "hazard_areas: 0" in out
    code, _, err = run(monkeypatch, capsys, "info", "--db", str(tmp_path / "b.gpkg"))
    assert (code, err.strip()) == (3, f"sapper: error [not_found]: no store at {tmp_path / 'b.gpkg'} (create one "
                                      f"with `sapper init --db {tmp_path / 'b.gpkg'}`)")


def test_a_bad_environment_value_is_one_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SAPPER_WORKERS that is not a whole number exits 2 with one line naming it; no traceback."""
    monkeypatch.setenv("SAPPER_WORKERS", "two")
    code, out, err = run(monkeypatch, capsys, "info", "--db", str(tmp_path / "x.gpkg"))
    assert (code, out) == (2, "")
    assert err.splitlines() == ["sapper: error [validation_error]: environment is invalid: SAPPER_WORKERS: 'two' is "
                                "not a whole number"]


def test_several_faults_are_listed_once_each_then_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ValidationError with several faults: one `fault:` line each, then one error line; exit 2; nothing written."""
    db = tmp_path / "s.gpkg"
    with open_store(db, create=True):
        pass
    before = db.read_bytes()
    code, out, err = run(monkeypatch, capsys, "release", "record", "H-1", "--db", str(db), "--type", "sweep",
                         "--id", "A-1", "--date", "20/06/2025", "--method", "rake", "--actor", "a", "--reason", "r")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "fault: date: '20/06/2025' is not a date YYYY-MM-DD",
        "fault: type: 'sweep' is not one of nts, ts, clearance, bac, eod",
        "fault: method: 'rake' is not one of survey, manual, dog, mechanical, bac",
        "sapper: error [validation_error]: activity A-1: 3 faults (listed above); nothing was changed",
    ]
    assert db.read_bytes() == before


def test_one_fault_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """A ValidationError with one fault stays one error line."""
    db = tmp_path / "s.gpkg"
    with open_store(db, create=True):
        pass
    code, _, err = run(monkeypatch, capsys, "replan", "--db", str(db), "--as-of", "tomorrow")
    assert (code, err.splitlines()) == (2, ["sapper: error [validation_error]: --as-of is invalid: --as-of: "
                                            "'tomorrow' is not a date YYYY-MM-DD"])


def test_importing_the_command_line_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing sapper.cli with a broken SAPPER_WORKERS succeeds: the settings are built when a command runs."""
    import importlib

    import sapper.cli

    monkeypatch.setenv("SAPPER_WORKERS", "many")
    importlib.reload(sapper.cli)
