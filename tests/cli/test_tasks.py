"""``sapper tasks`` and ``sapper task-order`` through the real entry point on a planned GeoPackage: the files each
format writes, read back (CSV rows, KML placemarks, GPX waypoints and routes with gpxpy, PDF text in English and
Ukrainian with pdftotext), and one-line errors."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import gpxpy
import pytest

from sapper.store import open_store
from tests.cli.entry import run
from tests.services.test_taskorders import H1, save_plan, seed

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "register.gpkg"
    with open_store(path, create=True) as store:
        seed(store)
        save_plan(store)
    return path


def _tasks(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path, out: Path, fmt: str,
           *extra: str) -> tuple[int, str, str]:
    return run(monkeypatch, capsys, "tasks", "--db", db, "--team", "T-MAN-001", "--weeks", "10", "--format", fmt,
               "--out", out, "--actor", "ops", *extra)


def test_csv_kml_gpx_carry_the_orders(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """CSV: one row per lot; KML: per order the site polygon and the access point; GPX: access waypoints and the
    outline as a closed route; the second run issues nothing new."""
    code, out, _ = _tasks(monkeypatch, capsys, db, tmp_path / "o", "csv")
    assert code == 0 and "2 orders issued, 0 already issued" in out.splitlines()[0]
    with (tmp_path / "o" / "T-MAN-001_2026-03-02.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["order"], r["site_id"], r["task_id"]) for r in rows] == [
        ("TO-2026-0001", "H-1", "clearance H-1/1"), ("TO-2026-0001", "H-1", "clearance H-1/2"),
        ("TO-2026-0002", "H-2", "clearance H-2/1")]
    assert rows[0]["hazard_class"] == "CHA" and rows[0]["devices"] == "ap_mine" and rows[0]["nearest_road"] == "R-1"

    code, out, _ = _tasks(monkeypatch, capsys, db, tmp_path / "o", "kml")
    assert code == 0 and "0 orders issued, 2 already issued" in out
    kml = ET.parse(tmp_path / "o" / "T-MAN-001_2026-03-02.kml").getroot()
    marks = {m.get("id"): m for m in kml.iter(f"{KML}Placemark")}
    assert set(marks) == {"TO-2026-0001-site", "TO-2026-0001-access", "TO-2026-0002-site", "TO-2026-0002-access"}
    ring = marks["TO-2026-0001-site"].find(f"{KML}Polygon/{KML}outerBoundaryIs/{KML}LinearRing/{KML}coordinates")
    assert ring is not None and ring.text is not None
    xy = [tuple(map(float, c.split(","))) for c in ring.text.split()]
    assert xy[0] == xy[-1] and {round(x, 4) for x, _ in xy} == {35.3, 35.3043}

    code, _, _ = _tasks(monkeypatch, capsys, db, tmp_path / "o", "gpx")
    assert code == 0
    gpx = gpxpy.parse((tmp_path / "o" / "T-MAN-001_2026-03-02.gpx").read_text(encoding="utf-8"))
    assert [w.name for w in gpx.waypoints] == ["TO-2026-0001 access", "TO-2026-0002 access"]
    assert gpx.waypoints[0].latitude == pytest.approx(51.3020, abs=1e-6)
    route = gpx.routes[0]
    assert route.name == "TO-2026-0001 H-1" and len(route.points) == len(H1.exterior.coords)
    assert (route.points[0].longitude, route.points[0].latitude) == (route.points[-1].longitude,
                                                                     route.points[-1].latitude)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["Task orders: T-MAN-001", "Task order TO-2026-0001 — H-1 (Field by the school)", "anti-personnel mine",
            "Nearest road", "R-1 Village road", "Casualty evacuation point", "C-1 Clinic", "sapper_clearance",
            "A-1 School", "Lyubimovka"]),
    ("uk", ["Завдання на роботи: T-MAN-001", "Завдання TO-2026-0001 — H-1", "протипіхотна міна", "Доручені роботи",
            "Пункт евакуації постраждалих", "ручне розмінування", "Звітувати за формами"]),
])
def test_pdf_text(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                  lang: str, words: list[str]) -> None:
    """The PDF reads as a team leader's orders, translated."""
    code, _, _ = _tasks(monkeypatch, capsys, db, tmp_path / "o", "pdf", "--lang", lang)
    assert code == 0
    pdf = tmp_path / "o" / "T-MAN-001_2026-03-02.pdf"
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    for word in words:
        assert word in text, word


def test_task_order_commands_and_one_line_errors(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """ack/complete/cancel change state; an unknown team, an illegal change and a bad format are one line each."""
    code, _, err = run(monkeypatch, capsys, "tasks", "--db", db, "--team", "T-MAN-1", "--out", tmp_path / "o")
    assert code == 3 and err.strip() == ("sapper: error [not_found]: T-MAN-1 is not a team or brigade; did you mean "
                                         "T-MAN-001?")
    code, _, err = run(monkeypatch, capsys, "tasks", "--db", db, "--all", "--format", "docx", "--out", tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--format" in err
    _tasks(monkeypatch, capsys, db, tmp_path / "o", "csv")
    code, out, _ = run(monkeypatch, capsys, "task-order", "ack", "TO-2026-0001", "--db", db, "--actor", "tl")
    assert code == 0 and out.strip() == "task order TO-2026-0001 (T-MAN-001, H-1) is now acknowledged"
    code, _, err = run(monkeypatch, capsys, "task-order", "complete", "TO-2026-0002", "--db", db, "--actor", "tl")
    assert code == 2 and err.strip() == (
        "sapper: error [illegal_transition]: task order TO-2026-0002.state: is issued and cannot become completed; "
        "it can become acknowledged, cancelled")
    code, out, _ = run(monkeypatch, capsys, "task-order", "list", "--db", db, "--state", "acknowledged")
    assert code == 0 and [line.split()[:2] for line in out.splitlines()[1:]] == [["TO-2026-0001", "acknowledged"]]
    code, out, _ = run(monkeypatch, capsys, "task-order", "changes", "--db", db)
    assert code == 0 and out.strip() == "no order in force is changed by the plan"


def test_a_programme_pricing_file_prices_the_orders(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``--pricing``: the CSV's costs in the file's currency, clearance at twice the default m² price costs twice as
    much; without it, sapper's default prices (US$)."""
    from sapper.io.pricing import default_pricing_text

    code, _, err = _tasks(monkeypatch, capsys, db, tmp_path / "a", "csv")
    assert code == 0, err
    with (tmp_path / "a" / "T-MAN-001_2026-03-02.csv").open(encoding="utf-8-sig") as f:
        default = list(csv.DictReader(f))
    prices = tmp_path / "prices.toml"
    prices.write_text(default_pricing_text().replace('currency = "USD"', 'currency = "EUR"')
                      .replace("amount = 10.0", "amount = 20.0"), encoding="utf-8")
    code, _, err = _tasks(monkeypatch, capsys, db, tmp_path / "b", "csv", "--pricing", str(prices))
    assert code == 0, err
    with (tmp_path / "b" / "T-MAN-001_2026-03-02.csv").open(encoding="utf-8-sig") as f:
        priced = list(csv.DictReader(f))
    assert {r["currency"] for r in default} == {"USD"} and {r["currency"] for r in priced} == {"EUR"}
    for a, b in zip(default, priced, strict=True):
        assert float(b["lot_cost"]) == pytest.approx(2 * float(a["lot_cost"]), rel=1e-6)
