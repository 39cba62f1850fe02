"""``sapper field list`` in columns with verdicts, and ``field review/approve`` with several ids and filters, run
through the real entry point on a real GeoPackage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sapper.store import Store, open_store
from tests.cli.entry import run
from tests.services.test_review_batch import brigade, clearance, seed, stage, states


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A register with teams T-MAN-001, T-MAN-010, T-MAN-100, T-MECH-002, brigade B-1, areas H-0042, H-0043."""
    path = tmp_path / "register.gpkg"
    with open_store(path, create=True) as store:
        seed(store)
    return path


@pytest.fixture
def reg(db: Path) -> Iterator[Store]:
    with open_store(db) as store:
        yield store


def test_cli_field_list_columns_and_batch_commands(db: Path, reg: Store, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """field list shows team, hazard/asset, date, m² or builder-days, devices and the verdict in columns;
    field review takes several ids; approve --all-valid leaves the invalid one; a bad batch is one error line."""
    monkeypatch.setenv("COLUMNS", "1000")
    stage(reg, [clearance(1), clearance(2, team="T-MAN-1"), brigade(3), clearance(4, day="2025-06-20")])
    code, out, _ = run(monkeypatch, capsys, "field", "list", "--db", str(db))
    header, *rows = out.splitlines()
    assert code == 0 and header.split()[:8] == ["id", "state", "v", "form", "team", "hazard/asset", "date", "m²"]
    assert rows[0].split() == ["1", "staged", "v1", "clearance", "T-MAN-001", "H-0042", "2025-06-18", "250.5", "m²",
                               "0", "valid"]
    assert rows[1].split()[4] == "T-MAN-1" and rows[1].endswith(
        "team_id: T-MAN-1 is not a team; did you mean T-MAN-001?")
    assert rows[2].split() == ["3", "staged", "v1", "brigade", "B-1", "A-1", "2025-06-19", "12", "builder-days",
                               "-", "valid"]
    code, out, _ = run(monkeypatch, capsys, "field", "list", "--db", str(db), "--since", "2025-06-19",
                       "--form", "clearance")
    assert code == 0 and [r.split()[0] for r in out.splitlines()[1:]] == ["4"]
    code, out, _ = run(monkeypatch, capsys, "field", "review", "1", "2", "3", "--db", str(db), "--actor", "OK")
    assert code == 0 and out.splitlines()[-1] == "3 staged submissions are now reviewed (one transaction)"
    code, _, err = run(monkeypatch, capsys, "field", "approve", "1", "4", "--db", str(db), "--actor", "OK")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("sapper: error [validation_error]: batch of 2 is invalid: staged submission 4 (")
    assert err.strip().endswith("is staged and cannot become approved; it can become rejected, reviewed; nothing was "
                                "changed")
    code, out, _ = run(monkeypatch, capsys, "field", "approve", "--all-valid", "--db", str(db), "--actor", "OK")
    assert code == 0 and [line.split()[2] for line in out.splitlines()[:-1]] == ["1", "3"]
    code, out, _ = run(monkeypatch, capsys, "field", "approve", "--team", "T-MAN-010", "--db", str(db),
                       "--actor", "OK")
    assert code == 0 and "nothing was changed" in out
    code, _, err = run(monkeypatch, capsys, "field", "approve", "--db", str(db), "--actor", "OK")
    assert code == 2 and "name the staged ids" in err
    code, out, _ = run(monkeypatch, capsys, "field", "apply", "--db", str(db))
    assert code == 0 and out.splitlines()[0] == "applied 2, superseded 0, not applied 0"
    assert states(reg) == {1: "applied", 2: "reviewed", 3: "applied", 4: "staged"}
