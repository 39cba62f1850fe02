"""The situation report and the handover certificate as PDF (WeasyPrint) in English, Ukrainian and Russian, read back
with poppler's pdftotext: translated headings, the plan's and the register's real figures (read from the store, not
typed here), locale formats, a sane page count and only the shipped fonts embedded."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.landrelease import Inspection, ReleaseState
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.plan import Engine
from sapper.report.i18n import Lang, Speaker
from sapper.report.pages import Format
from sapper.report.sitdata import gather
from sapper.report.sitrep import write_situation
from sapper.services import landrelease as lr
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store
from tests.cli.entry import run

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing: run `make pdf`")

BASE = Point(35.0, 50.0)
START = dt.date(2025, 6, 2)
AT = dt.datetime(2025, 6, 10, 8, 0, tzinfo=dt.UTC)
H1 = shapely.box(35.100, 50.100, 35.104, 50.102)
H3 = shapely.box(35.120, 50.100, 35.121, 50.101)
H4 = shapely.box(35.130, 50.100, 35.1304, 50.1002)
SINCE = dt.date(2025, 6, 1)


def _register(db: Path) -> None:
    """Three open areas, one cleared, inspected and accepted (H-4), NTS that cancelled half of H-3; a road and a
    house; survey, two manual teams, a road and a building brigade, and a power brigade with nothing to do."""
    with open_store(db, create=True) as store:
        with store.write() as uow:
            uow.add_organisations([Organisation("op-1", "Northern Demining", OrgKind.OPERATOR),
                                   Organisation("con-1", "Oblast Roads", OrgKind.CONTRACTOR)])
            uow.add_hazards([
                HazardArea("H-1", HazardClass.CHA, H1, Evidence.DIRECT, beneficiaries=1200,
                           name="<b>School field</b>"),
                HazardArea("H-2", HazardClass.CHA, shapely.box(35.110, 50.100, 35.116, 50.103), Evidence.DIRECT),
                HazardArea("H-3", HazardClass.SHA, H3, Evidence.INDIRECT),
                HazardArea("H-4", HazardClass.CHA, H4, Evidence.DIRECT),
            ])
            uow.add_assets([
                Asset("A-1", AssetType.ROAD, LineString([(35.099, 50.1005), (35.105, 50.1005)]), DamageLevel.SEVERE,
                      {Trade.ROAD: 200.0}, criticality=5, people_served=2000, name="Main road"),
                Asset("A-2", AssetType.HOUSE, Point(35.1205, 50.1005), DamageLevel.MODERATE, {Trade.BUILDING: 60.0}),
            ])
            uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 5000.0),
                           DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0),
                           DeminerTeam("T-MAN-2", "op-1", Method.MANUAL, 8, BASE, 300.0)])
            uow.add_brigades([BuilderBrigade("B-ROAD-1", "con-1", Trade.ROAD, 10, BASE),
                              BuilderBrigade("B-BLD-1", "con-1", Trade.BUILDING, 10, BASE),
                              BuilderBrigade("B-POW-1", "con-1", Trade.POWER, 12, BASE)])
            uow.set_meta({"start_date": START.isoformat()})
        lr.record_activity(store, Activity("NTS-1", "H-3", ActivityType.NTS, ActivityStatus.COMPLETED,
                                           cancelled=shapely.box(35.120, 50.100, 35.1205, 50.101)),
                           actor="surveyor", reason="NTS report", at=AT)
        lr.record_activity(store, Activity("CL-1", "H-4", ActivityType.CLEARANCE, ActivityStatus.COMPLETED,
                                           cleared=H4, clearance_depth_cm=13.0), actor="team", reason="report",
                           at=AT)
        lr.inspect(store, "H-4", Inspection("QC-1", AT.date(), 100.0, True, "NMAA QA"), actor="qa", reason="QC",
                   at=AT + dt.timedelta(days=1))
        lr.accept(store, "H-4", authority="NMAA", actor="O. Kovalenko", reason="CR-1", at=AT + dt.timedelta(days=2))
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("pdf") / "register.gpkg"
    _register(db)
    return db


def _flat(text: str) -> str:
    """Text with every run of white space (line breaks, no-break spaces) as one space."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


def pdf_text(path: Path) -> str:
    return _flat(subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout)


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def pdf_fonts(path: Path) -> set[str]:
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return {line.split()[0].split("+")[-1] for line in out.splitlines()[2:] if line.strip()}


@pytest.fixture(scope="module")
def reports(planned: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[Lang, Path]:
    out = tmp_path_factory.mktemp("reports")
    return {lang: write_situation(planned, out / f"report-{lang}.pdf", fmt=Format.PDF, lang=lang,
                                  forecast_runs=200, since=SINCE) for lang in Lang}


@pytest.mark.parametrize("lang", list(Lang))
def test_pdf_has_translated_headings_and_the_real_figures(planned: Path, reports: dict[Lang, Path],
                                                          lang: Lang) -> None:
    """Each section heading in the report's language (Cyrillic in uk/ru), and the register's and the plan's own
    figures as the store holds them, formatted for the locale."""
    sp = Speaker(lang)
    text = pdf_text(reports[lang])
    for heading in ("Situation report", "Key figures", "What changed since the last report", "Map of the work",
                    "Land released by method", "Assets restored by class", "Forecast", "Use of teams and brigades",
                    "Accidents", "Top priorities", "Schedule of teams and brigades"):
        assert _flat(sp._(heading)) in text, heading
        if lang is not Lang.EN:
            assert sp._(heading) != heading and re.search("[а-яіїєґё]", sp._(heading), re.I), heading
    with open_store(planned) as store:
        run_ = store.latest_plan()
        teams = store.teams()
        events = [e for h in store.hazards() for e in store.release_events(h.id)]
    assert run_ is not None and run_.finish_date is not None
    assert _flat(sp.fmt_date(run_.finish_date)) in text
    assert _flat(sp.fmt_int(sum(t.size for t in teams))) in text
    cancelled_ha = sum(e.cancelled_m2 for e in events) / 1e4
    assert cancelled_ha > 0 and _flat(sp.fmt_num(cancelled_ha)) in text
    released = sum(1 for e in events if e.to_state is ReleaseState.RELEASED and e.from_state is not e.to_state)
    assert released == 1
    assert _flat(sp.n_("{n} hazardous area released", "{n} hazardous areas released", 1).format(n=1)) in text
    assert "B-POW-1" in text  # the idle brigade is named
    assert _flat(sp._("no work planned")) in text
    assert 3 <= pdf_pages(reports[lang]) <= 12
    assert pdf_fonts(reports[lang]) <= {"DejaVu-Sans", "DejaVu-Sans-Bold"}


def test_forecast_dates_in_the_report_are_the_forecasts(planned: Path, reports: dict[Lang, Path]) -> None:
    """The forecast finish (P50, P90) printed is the one the same seed and runs give."""
    data = gather(planned, forecast_runs=200, since=SINCE)
    assert data.forecast is not None
    sp = Speaker(Lang.UK)
    text = pdf_text(reports[Lang.UK])
    assert _flat(sp.fmt_date(data.forecast.overall.p50)) in text
    assert _flat(sp.fmt_date(data.forecast.overall.p90)) in text


def test_html_report_through_the_command_line(planned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper report --format html` in the language SAPPER_LANG names; a bad --lang or --format is one line."""
    monkeypatch.setenv("SAPPER_LANG", "ru")
    out = tmp_path / "r.html"
    code, _, err = run(monkeypatch, capsys, "report", "--db", planned, "--out", out, "--forecast-runs", "0")
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert '<html lang="ru">' in page and "Отчёт о ситуации" in page and "@font-face" not in page
    assert "&lt;b&gt;School field&lt;/b&gt;" in page and "<b>School field</b>" not in page  # names are escaped
    code, _, err = run(monkeypatch, capsys, "report", "--db", planned, "--out", tmp_path / "x.pdf", "--lang", "de")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "en, uk, ru" in err
    code, _, err = run(monkeypatch, capsys, "report", "--db", planned, "--out", tmp_path / "x.doc", "--format", "doc")
    # in the language SAPPER_LANG names, as every error line (`должно быть html или pdf`)
    assert code == 2 and "html или pdf" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.doc").exists()
    code, _, err = run(monkeypatch, capsys, "report", "--db", planned, "--out", out, "--forecast-runs", "-1")
    assert code == 2 and "--forecast-runs" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("lang", list(Lang))
def test_certificate_pdf(planned: Path, tmp_path: Path, lang: Lang, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper release certificate --format pdf --lang` writes the certificate of the accepted area: its title,
    area and signatory, in the language asked for."""
    db = tmp_path / "r.gpkg"
    shutil.copy(planned, db)
    out = tmp_path / "cert.pdf"
    code, _, err = run(monkeypatch, capsys, "release", "certificate", "H-4", "--db", db, "--out", out,
                            "--format", "pdf", "--lang", lang.value)
    assert code == 0, err
    sp = Speaker(lang)
    text = pdf_text(out)
    with open_store(db) as store:
        area = store.hazard("H-4").area_m2
    assert _flat(sp._("Completion report and handover certificate")) in text
    assert _flat(sp.fmt_int(area)) in text and "O. Kovalenko" in text and "NMAA" in text
    assert _flat(sp._("accepted by")) in text and _flat(sp._("Residual risk")) in text
    assert pdf_pages(out) <= 3 and pdf_fonts(out) <= {"DejaVu-Sans", "DejaVu-Sans-Bold"}
