"""`sapper export` as a user runs it on the tour's register (the README's example files, planned): a GeoPackage that
QGIS opens styled (layer_styles rows that parse and name their layer, in the map page's colours), a zipped Shapefile
with its alias table, a styled KML, CSV and XLSX with a field picker and the formula guard, the plan's Gantt chart and
burn-down as SVG and PNG; every export reads back through import."""

from __future__ import annotations

import csv
import dataclasses
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
import pyogrio
import pytest
import shapely
from shapely.affinity import translate

import sapper
from sapper.io import read_hazards
from sapper.io.styles import DATE_RAMP, NO_DATE, PHASE_COLOURS, kml_colour
from sapper.store import open_store
from tests.cli.entry import run
from tests.io.messy import clean_hazards

KML = "{http://www.opengis.net/kml/2.2}"
SLD = "{http://www.opengis.net/sld}"
#: Text a spreadsheet would run: OWASP's formula starts, a tab and a carriage return.
HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]


def _map_colours() -> dict[str, str]:
    """The map page's state colours, read from its script (web/static/js/map.js)."""
    script = (Path(sapper.__file__).parent / "web" / "static" / "js" / "map.js").read_text(encoding="utf-8")
    block = script.split("STATE_COLOURS = {", 1)[1].split("}", 1)[0]
    return dict(re.findall(r'(\w+): "(#[0-9a-f]{6})"', block))


def test_the_styles_use_the_map_pages_colours() -> None:
    """Hazard phases, the date ramp and the grey of "not planned" are map.js's."""
    script = (Path(sapper.__file__).parent / "web" / "static" / "js" / "map.js").read_text(encoding="utf-8")
    assert _map_colours() == PHASE_COLOURS
    assert f'NO_DATE = "{NO_DATE}"' in script and str(list(DATE_RAMP)).replace("'", '"') in script


def test_geopackage_has_layer_styles_qgis_reads(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Hazards then assets into one GeoPackage: layer_styles holds two hazard styles (the default by land-release
    state) and one asset style; each QML and SLD parses, names the layer's real columns and geometry column, and
    every record falls in a class drawn in the map page's colour."""
    out = tmp_path / "register.gpkg"
    for kind in ("hazards", "assets"):
        code, stdout, err = run(monkeypatch, capsys, "export", kind, out, "--db", tour)
        assert code == 0, err
    assert stdout.startswith("exported 5 assets to ")
    layers = {str(n) for n, _ in pyogrio.list_layers(out)}
    assert {"hazard_areas", "assets", "layer_styles"} <= layers
    with sqlite3.connect(out) as conn:
        rows = conn.execute("SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault "
                            "FROM layer_styles ORDER BY id").fetchall()
        phases = dict(conn.execute("SELECT id, release_phase FROM hazard_areas").fetchall())
        kinds = conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone()
    assert kinds == ("attributes",)  # as QGIS creates the table
    assert [(r[0], r[2], r[5]) for r in rows] == [("hazard_areas", "land release state", 1),
                                                  ("hazard_areas", "planned release date", 0),
                                                  ("assets", "planned restoration date", 1)]
    assert len(phases) == 6 and set(phases.values()) <= set(PHASE_COLOURS)
    for table, geometry_column, _name, qml, sld, _default in rows:
        assert geometry_column == pyogrio.read_info(out, layer=table)["geometry_name"]
        columns = set(pyogrio.read_info(out, layer=table)["fields"])
        root = ET.fromstring(qml.split("\n", 1)[1])
        assert root.tag == "qgis" and root.find("renderer-v2").get("type") == "RuleRenderer"  # type: ignore[union-attr]
        filters = [r.get("filter", "") for r in root.iter("rule")]
        named = {c for f in filters for c in re.findall(r'"(\w+)"', f)}
        assert named and named <= columns, named - columns
        doc = ET.fromstring(sld.split("\n", 1)[1])
        assert doc.find(f"{SLD}NamedLayer/{SLD}Name").text == table  # type: ignore[union-attr]
        top_rules = root.find("renderer-v2/rules")
        assert top_rules is not None and len(doc.findall(f".//{SLD}Rule")) == len(top_rules)
    qml = ET.fromstring(rows[0][3].split("\n", 1)[1])
    symbols = {s.get("name"): s for s in qml.iter("symbol")}
    for rule in qml.iter("rule"):  # polygons only: one rule per phase, each with its symbol
        phase = re.search(r"= '(\w+)'", rule.get("filter", ""))
        assert phase is not None
        colour = PHASE_COLOURS[phase.group(1)]
        rgb = ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
        fill = symbols[rule.get("symbol")].find(".//Option[@name='color']")
        assert fill is not None and fill.get("value", "").startswith(rgb + ",")


def test_every_export_reads_back(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """GeoPackage, GeoJSON, CSV, XLSX, KML, KMZ and zipped Shapefile: imported into a new store, the same hazard areas
    (ids, attributes, geometry) and no computed column kept as a source attribute."""
    with open_store(tour) as store:
        sent = store.hazards()
    for suffix in ("gpkg", "geojson", "csv", "xlsx", "kml", "kmz", "shp.zip"):
        out, db = tmp_path / f"h.{suffix}", tmp_path / f"back-{suffix.replace('.', '-')}.gpkg"
        assert run(monkeypatch, capsys, "export", "hazards", out, "--db", tour)[0] == 0
        assert run(monkeypatch, capsys, "init", "--db", db)[0] == 0
        code, stdout, err = run(monkeypatch, capsys, "import", "hazards", out, "--db", db)
        assert code == 0 and stdout.startswith("imported 6, repaired 0, rejected 0"), (suffix, stdout, err)
        with open_store(db) as store:
            got = store.hazards()
            assert store.source_attributes("hazard_areas") == {}, suffix
        assert [h.id for h in got] == [h.id for h in sent]
        for a, b in zip(got, sent, strict=True):
            assert dataclasses.replace(a, geometry=b.geometry) == b, suffix
            assert shapely.equals_exact(shapely.normalize(a.geometry), shapely.normalize(b.geometry), 1e-12), suffix


def test_kml_is_styled_by_land_release_state(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Each placemark has its record's name, a style of the document whose fill is its phase's colour, and its
    fields as ExtendedData shown by the style's balloon table."""
    out = tmp_path / "field-team.kml"
    assert run(monkeypatch, capsys, "export", "hazards", out, "--db", tour)[0] == 0
    doc = ET.parse(out).getroot()
    styles = {s.get("id"): s for s in doc.iter(f"{KML}Style")}
    assert set(styles) == {f"phase-{p}" for p in PHASE_COLOURS}
    with open_store(tour) as store:
        names = {h.id: h.name for h in store.hazards()}
    marks = list(doc.iter(f"{KML}Placemark"))
    assert len(marks) == 6
    for mark in marks:
        data = {d.get("name"): d.findtext(f"{KML}value") for d in mark.iter(f"{KML}Data")}
        assert mark.findtext(f"{KML}name") == names[data["id"]]
        style = styles[mark.findtext(f"{KML}styleUrl", "").lstrip("#")]
        assert style.get("id") == f"phase-{data['release_phase']}"
        assert style.findtext(f"{KML}PolyStyle/{KML}color") == kml_colour(PHASE_COLOURS[data["release_phase"]], 0xB4)
        assert "$[hazard_class]" in style.findtext(f"{KML}BalloonStyle/{KML}text", "")
        assert data["hazard_class"] in ("SHA", "CHA")


def test_shapefile_zip_carries_utf8_and_its_aliases(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The zip holds a .cpg saying UTF-8, a .qml QGIS loads with the layer (its aliases give every short name its
    full name, its rules name the short columns) and the field table naming each short column."""
    out = tmp_path / "hazards.shp.zip"
    assert run(monkeypatch, capsys, "export", "hazards", out, "--db", tour)[0] == 0
    with zipfile.ZipFile(out) as z:
        assert z.read("hazard_areas.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        qml = ET.fromstring(z.read("hazard_areas.qml").decode().split("\n", 1)[1])
        table = list(csv.DictReader(z.read("hazard_areas_fields.csv").decode().splitlines()))
    dbf = set(pyogrio.read_info(f"/vsizip/{out}/hazard_areas.shp")["fields"])
    assert {row["shapefile_name"] for row in table} == dbf
    assert {row["shapefile_name"]: row["name"] for row in table}["haz_class"] == "hazard_class"
    aliases = {a.get("field"): a.get("name") for a in qml.iter("alias")}
    assert aliases["rel_phase"] == "release_phase" and set(aliases) <= dbf
    assert all(len(c) <= 10 for c in dbf)
    assert {c for r in qml.iter("rule") for c in re.findall(r'"(\w+)"', r.get("filter", ""))} == {"rel_phase"}


def _hostile_store(tmp_path: Path) -> Path:
    db = tmp_path / "hostile.gpkg"
    base = clean_hazards()[0]
    sent = [dataclasses.replace(base, id=f"x-{i}", name=text, geometry=translate(base.geometry, 0.01 * i))
            for i, text in enumerate(HOSTILE)]
    with open_store(db, create=True) as store:
        store.add_hazards(sent)
    return db


def test_formula_injection_is_guarded_in_csv_and_xlsx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Names starting with = + - @ tab or CR are written with a leading ' in CSV and XLSX (never as an XLSX formula),
    and an import of either gives the names back as they were."""
    db = _hostile_store(tmp_path)
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"hostile.{suffix}"
        assert run(monkeypatch, capsys, "export", "hazards", out, "--db", db)[0] == 0
        if suffix == "csv":
            with out.open(encoding="utf-8", newline="") as f:
                cells = [row["name"] for row in csv.DictReader(f)]
        else:
            sheet = openpyxl.load_workbook(out)["hazard_areas"]
            header = [c.value for c in sheet[1]]
            column = [row[header.index("name")] for row in sheet.iter_rows(min_row=2)]
            assert all(c.data_type == "s" for c in column)
            cells = [str(c.value) for c in column]
        # XML reads a bare carriage return as a line feed (end-of-line normalisation): XLSX cannot hold one.
        sent = HOSTILE if suffix == "csv" else [t.replace("\r", "\n") for t in HOSTILE]
        assert cells == ["'" + t for t in sent], suffix
        assert [h.name for h in read_hazards(out).records] == sent, suffix


def test_fields_pick_and_order_columns(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """--fields writes exactly those columns in that order (wkt where it is named, none when it is not)."""
    out = tmp_path / "picked.csv"
    assert run(monkeypatch, capsys, "export", "hazards", out, "--db", tour,
               "--fields", "name,planned_release_date,id")[0] == 0
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["name", "planned_release_date", "id"] and len(rows) == 7
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[1]) for r in rows[1:])
    xlsx = tmp_path / "picked.xlsx"
    assert run(monkeypatch, capsys, "export", "assets", xlsx, "--db", tour, "--fields", "id,wkt,damage")[0] == 0
    sheet = openpyxl.load_workbook(xlsx)["assets"]
    assert [c.value for c in sheet[1]] == ["id", "wkt", "damage"]
    assert str(sheet.cell(2, 2).value).startswith(("POINT", "LINESTRING", "POLYGON", "MULTI"))


def test_unknown_field_is_one_line_naming_it(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --fields name exits 2 with one line naming it and the fields there are; nothing is written."""
    out = tmp_path / "bad.xlsx"
    code, stdout, err = run(monkeypatch, capsys, "export", "hazards", out, "--db", tour, "--fields", "id,nmae")
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and "unknown field 'nmae'" in err and "hazard_class" in err
    assert not out.exists()


def test_generalised_export_discloses_no_vertex(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """--generalise writes footprints that cover each recorded area but share none of its vertices, with the
    recorded area figure and no source attributes."""
    out = tmp_path / "public.geojson"
    assert run(monkeypatch, capsys, "export", "hazards", out, "--db", tour, "--generalise")[0] == 0
    got = {h.id: h for h in read_hazards(out).records}
    frame = pyogrio.read_dataframe(out)
    with open_store(tour) as store:
        for h in store.hazards():
            footprint = got[h.id].geometry
            assert footprint.buffer(1e-9).covers(h.geometry)
            recorded = {tuple(c) for c in shapely.get_coordinates(h.geometry).tolist()}
            assert not recorded & {tuple(c) for c in shapely.get_coordinates(footprint).tolist()}
            assert frame.loc[frame["id"] == h.id, "area_m2"].item() == pytest.approx(h.area_m2)
    assert "source_attributes" not in frame.columns


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_gantt_and_burndown_charts(tour: Path, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The Gantt chart names every team and brigade of the register (SVG) or is a PNG; the burn-down too."""
    gantt, burn = tmp_path / f"gantt.{suffix}", tmp_path / f"burndown.{suffix}"
    code, stdout, err = run(monkeypatch, capsys, "export", "gantt", gantt, "--db", tour)
    assert code == 0, err
    assert stdout.strip() == f"wrote the Gantt chart of 9 teams and brigades to {gantt}"
    assert run(monkeypatch, capsys, "export", "burndown", burn, "--db", tour)[0] == 0
    if suffix == "png":
        for path in (gantt, burn):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
        return
    svg = ET.parse(gantt).getroot()
    labels = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    with open_store(tour) as store:
        units = {t.id for t in store.teams()} | {b.id for b in store.brigades()}
    assert units <= labels
    assert "synthetic data" in " ".join(t or "" for t in labels)
    burn_text = burn.read_text(encoding="utf-8")
    assert "hazard area left to release" in burn_text and "assets left to restore" in burn_text


def test_charts_need_a_plan_and_a_figure_suffix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Without a plan: exit 3 and one line; a .pdf: exit 2 naming the suffixes."""
    db = _hostile_store(tmp_path)
    code, _, err = run(monkeypatch, capsys, "export", "gantt", tmp_path / "g.svg", "--db", db)
    assert code == 3 and err.count("\n") == 1 and "no plan" in err
    code, _, err = run(monkeypatch, capsys, "export", "burndown", tmp_path / "g.pdf", "--db", db)
    assert code == 2 and ".svg or .png" in err


def test_no_styles_writes_no_styles_table(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """--no-styles: the GeoPackage has the layer and no layer_styles table; the KML has no styles."""
    out, kml = tmp_path / "plain.gpkg", tmp_path / "plain.kml"
    assert run(monkeypatch, capsys, "export", "hazards", out, "--db", tour, "--no-styles")[0] == 0
    assert {str(n) for n, _ in pyogrio.list_layers(out)} == {"hazard_areas"}
    assert run(monkeypatch, capsys, "export", "hazards", kml, "--db", tour, "--no-styles")[0] == 0
    doc = ET.parse(kml).getroot()
    assert not list(doc.iter(f"{KML}Style")) and len(list(doc.iter(f"{KML}Placemark"))) == 6


def test_style_labels_follow_the_run_language(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper --lang uk export hazards` writes the QML rule labels, the SLD rule titles and the KML legend in
    Ukrainian (the style names, rules and values stay: QGIS and GDAL read them); SAPPER_LANG=ru gives the asset
    style's Russian title; English stays the default."""
    out, kml = tmp_path / "uk.gpkg", tmp_path / "uk.kml"
    for target in (out, kml):
        code, _, err = run(monkeypatch, capsys, "--lang", "uk", "export", "hazards", target, "--db", tour)
        assert code == 0, err
    with sqlite3.connect(out) as conn:
        name, qml, sld, description = conn.execute(
            "SELECT styleName, styleQML, styleSLD, description FROM layer_styles ORDER BY id").fetchone()
    assert name == "land release state"
    labels = {r.get("label") for r in ET.fromstring(qml.split("\n", 1)[1]).iter("rule")}
    assert {"відкрита: ще нічого не оброблено", "оброблено: очікує звільнення", "звільнено"} <= labels
    assert "<Title>у роботі: частину оброблено</Title>" in sld and "'open'" in qml
    assert description == "Небезпечні ділянки за станом звільнення земель (як на сторінці карти)"
    legend = ET.parse(kml).getroot().findtext(f"{KML}Document/{KML}description", "")
    assert legend.startswith("Небезпечні ділянки за станом звільнення земель") and "у роботі" in legend
    monkeypatch.setenv("SAPPER_LANG", "ru")
    assets = tmp_path / "ru.gpkg"
    assert run(monkeypatch, capsys, "export", "assets", assets, "--db", tour)[0] == 0
    with sqlite3.connect(assets) as conn:
        (title, qml) = conn.execute("SELECT description, styleQML FROM layer_styles").fetchone()
    assert title == "Объекты по плановой дате восстановления (последний план)"
    monkeypatch.delenv("SAPPER_LANG")
    english = tmp_path / "en.gpkg"
    assert run(monkeypatch, capsys, "export", "hazards", english, "--db", tour)[0] == 0
    with sqlite3.connect(english) as conn:
        (qml,) = conn.execute("SELECT styleQML FROM layer_styles ORDER BY id").fetchone()
    assert 'label="open: nothing processed yet"' in qml


def test_every_asset_export_reads_back(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Assets as GeoPackage, GeoJSON, CSV, XLSX, KML and KMZ, imported into a new store: the same assets (ids,
    attributes, geometry), the computed planned date not kept as a source attribute. (The tour's assets mix points
    and lines, which a Shapefile cannot hold: that export is refused in one line, tested above for hazards.)"""
    with open_store(tour) as store:
        sent = store.assets()
    for suffix in ("gpkg", "geojson", "csv", "xlsx", "kml", "kmz"):
        out, db = tmp_path / f"a.{suffix}", tmp_path / f"back-{suffix.replace('.', '-')}.gpkg"
        code, _, err = run(monkeypatch, capsys, "export", "assets", out, "--db", tour)
        assert code == 0, (suffix, err)
        assert run(monkeypatch, capsys, "init", "--db", db)[0] == 0
        code, stdout, err = run(monkeypatch, capsys, "import", "assets", out, "--db", db)
        assert code == 0 and stdout.startswith("imported 5, repaired 0, rejected 0"), (suffix, stdout, err)
        with open_store(db) as store:
            got = store.assets()
            assert store.source_attributes("assets") == {}, suffix
        assert [a.id for a in got] == [a.id for a in sent]
        for a, b in zip(got, sent, strict=True):
            assert dataclasses.replace(a, geometry=b.geometry) == b, suffix
            assert shapely.equals_exact(shapely.normalize(a.geometry), shapely.normalize(b.geometry), 1e-9), suffix
