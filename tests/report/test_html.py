"""The HTML report: structure, escaping, the numbers it draws, and speed and size at the reference scale."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point, box

from sapper.report.html import SYNTHETIC_BANNER, render_report, write_report
from sapper.report.model import GanttBar, MapAsset, MapHazard, ReportData, SummaryRow, Town
from sapper.report.series import date_bins
from tests.report.report_sample_data import make_report_data

SVG_NS = "{http://www.w3.org/2000/svg}"
D = dt.date


def _square(lon: float, lat: float, size: float = 0.004) -> object:
    return box(lon, lat, lon + size, lat + size)


def tiny_data(**changes: object) -> ReportData:
    """Three hazards (one not planned), three assets, two towns, four bars in two lanes."""
    data = ReportData(
        title="Test plan",
        generated_at=dt.datetime(2025, 6, 1, 12, 0),
        scenario="unit",
        seed=3,
        start_date=D(2025, 7, 1),
        synthetic=True,
        notes=("Generated for a test.",),
        attributions=("Outlines: Natural Earth (public domain)", "Towns: GeoNames (geonames.org), CC BY 4.0"),
        outline=box(34.5, 51.0, 35.6, 51.6),
        context=(
            ("border", LineString([(34.5, 51.05), (35.6, 51.02)])),
            ("contested zone (synthetic)", Point(35.1, 51.3).buffer(0.1)),
        ),
        towns=(
            Town("Sudzha", 6_940, Point(35.27, 51.19), synthetic=False),
            Town("Village 1", 120, Point(35.0, 51.25), synthetic=True),
        ),
        hazards=(
            MapHazard("H-1", "North field", "SHA", _square(35.0, 51.3), 40_000.0, D(2025, 8, 15)),
            MapHazard("H-2", "South wood", "CHA", _square(35.1, 51.2), 250_000.0, D(2026, 5, 2)),
            MapHazard("H-3", "Marsh", "SHA", _square(35.2, 51.35), 10_000.0, None),
        ),
        assets=(
            MapAsset("A-1", "Road 1", "road", LineString([(35.0, 51.25), (35.2, 51.3)]), 5, D(2025, 11, 1)),
            MapAsset("A-2", "School", "school", Point(35.05, 51.28), 3, D(2026, 9, 30)),
            MapAsset("A-3", "Substation", "substation", Point(35.15, 51.22), 4, None),
        ),
        bars=(
            GanttBar(
                "T-MAN-001", "deminers · manual", "H-1 clearance", "clearance", D(2025, 7, 1), D(2025, 8, 14)
            ),
            GanttBar(
                "T-MAN-001", "deminers · manual", "H-2 clearance", "clearance", D(2025, 8, 15), D(2026, 5, 1)
            ),
            GanttBar("T-SUR-001", "surveyors", "H-3 survey", "survey", D(2025, 7, 3), D(2025, 7, 9)),
            GanttBar("B-ROAD-001", "builders · road", "A-1 repair", "repair", D(2025, 9, 1), D(2025, 10, 31)),
        ),
        summary=(SummaryRow("Hazardous areas", "3", "0.3 km²"), SummaryRow("Assets", "3")),
        plan_status="OPTIMAL",
        objective=900.0,
        baseline_objective=1_000.0,
        lower_bound=900.0,
    )
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


class _TagBalance(HTMLParser):
    VOID = frozenset({"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.in_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def titles(html: str) -> list[str]:
    return [t.text or "" for svg in svgs(html) for t in svg.iter(f"{SVG_NS}title")]


def test_html_parses_with_balanced_tags_and_well_formed_svgs() -> None:
    """The page's tags balance, and each of its four <svg> figures is well-formed XML."""
    html = render_report(tiny_data())
    parser = _TagBalance()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert html.startswith("<!DOCTYPE html>")
    figures = svgs(html)
    assert len(figures) == 4
    assert all(f.tag == f"{SVG_NS}svg" and f.get("viewBox") for f in figures)


def test_page_is_self_contained() -> None:
    """No script, no external stylesheet, font or image: the page opens offline."""
    html = render_report(tiny_data())
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html


def test_synthetic_banner_iff_synthetic() -> None:
    """The synthetic-data banner (with the notes) appears exactly when the data is synthetic."""
    synthetic = render_report(tiny_data())
    real = render_report(tiny_data(synthetic=False))
    assert SYNTHETIC_BANNER in synthetic and 'id="synthetic-banner"' in synthetic
    assert SYNTHETIC_BANNER not in real and "synthetic-banner" not in real
    assert "Generated for a test." in synthetic and "Generated for a test." in real


def test_every_hazard_and_asset_has_a_hover_title() -> None:
    """Each hazard's and asset's id appears in a <title>, with its date or 'not planned'."""
    shown = titles(render_report(tiny_data()))
    for hid, date in (("H-1", "2025-08-15"), ("H-2", "2026-05-02"), ("H-3", "not planned")):
        assert any(t.startswith(hid + " ") and date in t for t in shown), hid
    for aid in ("A-1", "A-2", "A-3"):
        assert any(t.startswith(aid + " ") for t in shown), aid


def test_hazards_are_coloured_by_their_bin() -> None:
    """A hazard's path sits in a group filled with its date bin's colour; unplanned ones are grey."""
    data = tiny_data()
    bins = date_bins([h.release_date for h in data.hazards] + [a.restore_date for a in data.assets])
    map_svg = svgs(render_report(data))[0]
    fill_of = {}
    for g in map_svg.iter(f"{SVG_NS}g"):
        if g.get("class") == "hz":
            for p in g.iter(f"{SVG_NS}path"):
                fill_of[p.find(f"{SVG_NS}title").text.split(" ")[0]] = g.get("fill")  # type: ignore[union-attr]
    for h in data.hazards:
        assert fill_of[h.id] == bins.colour(h.release_date)
    assert fill_of["H-3"] == "#a3a3a3"


def test_legend_covers_the_date_range() -> None:
    """The map legend lists bins from the earliest to the latest planned date, and 'not planned'."""
    data = tiny_data()
    dates = [d for d in [h.release_date for h in data.hazards] + [a.restore_date for a in data.assets] if d]
    bins = date_bins(dates)
    assert bins.bins[0].start <= min(dates) and max(dates) < bins.bins[-1].end
    assert all(bins.index(d) is not None for d in dates)
    legend = [t.text for t in svgs(render_report(data))[0].iter(f"{SVG_NS}text")]
    assert "Jul–Sep 2025" in legend and "Jul–Sep 2026" in legend and "not planned" in legend
    assert all(b.label in legend for b in bins.bins)


def test_names_are_escaped() -> None:
    """Names carrying markup are shown as text everywhere: page, map titles, labels and Gantt."""
    evil = "<script>alert(1)</script>"
    data = tiny_data(
        title=f"Plan {evil}",
        scenario=evil,
        notes=(evil,),
        attributions=(evil,),
        summary=(SummaryRow(evil, evil, evil),),
        hazards=(dataclasses.replace(tiny_data().hazards[0], name=evil, id='H-"1"'),),
        assets=(dataclasses.replace(tiny_data().assets[0], name=evil),),
        towns=(Town(evil, 50_000, Point(35.1, 51.3), synthetic=False),),
        context=((evil, LineString([(34.9, 51.2), (35.3, 51.4)])),),
        bars=(GanttBar(evil, evil, evil, evil, D(2025, 7, 1), D(2025, 7, 5)),),
    )
    html = render_report(data)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert any(evil in t for t in titles(html))  # the XML parser unescapes: the text survived intact
    assert any(t.startswith('H-"1"') for t in titles(html))


def test_burndown_end_value_is_total_minus_released() -> None:
    """The remaining-area chart starts at the total and ends at the unplanned hazards' area."""
    data = tiny_data()
    area = svgs(render_report(data))[2]
    total_km2 = sum(h.area_m2 for h in data.hazards) / 1e6
    released_km2 = sum(h.area_m2 for h in data.hazards if h.release_date is not None) / 1e6
    assert float(area.get("data-total-km2", "nan")) == pytest.approx(total_km2)
    assert float(area.get("data-final-km2", "nan")) == pytest.approx(total_km2 - released_km2)
    assert float(area.get("data-final-km2", "nan")) == pytest.approx(0.01)


def test_restored_chart_end_values() -> None:
    """The restoration chart ends at the share restored: 2 of 3 assets, 1 of the 2 critical ones."""
    restored = svgs(render_report(tiny_data()))[3]
    assert float(restored.get("data-final-all-pct", "nan")) == pytest.approx(200 / 3)
    assert float(restored.get("data-final-critical-pct", "nan")) == pytest.approx(50.0)


def test_plan_quality_line() -> None:
    """Status, objective, baseline, bound, the improvement over the baseline and the gap are shown."""
    html = render_report(tiny_data(objective=900.0, baseline_objective=1_000.0, lower_bound=810.0))
    line = re.search(r'<p class="quality" id="plan-quality">(.*?)</p>', html, flags=re.S)
    assert line is not None
    text = re.sub(r"<[^>]+>", "", line.group(1))
    assert "OPTIMAL" in text and "900" in text and "1,000" in text and "810" in text
    assert "improvement over baseline 10.0 %" in text and "gap to bound 10.0 %" in text


def test_gantt_has_one_row_per_lane_under_group_headers() -> None:
    """Every lane and group is in the Gantt; back-to-back bars of one kind are merged into one rect."""
    html = render_report(tiny_data())
    gantt = svgs(html)[1]
    texts = [t.text for t in gantt.iter(f"{SVG_NS}text")]
    for name in ("deminers · manual", "surveyors", "builders · road", "T-MAN-001", "T-SUR-001", "B-ROAD-001"):
        assert name in texts
    bars = [
        t.text or ""
        for g in gantt.iter(f"{SVG_NS}g")
        if g.get("class") == "bars"
        for t in g.iter(f"{SVG_NS}title")
    ]
    assert len(bars) == 3
    assert any("T-MAN-001 · 2 clearance tasks" in b and "2025-07-01 → 2026-05-01" in b for b in bars)


def test_no_plan_renders() -> None:
    """Without a plan (no dates, no bars, no objective, bound or outline) the report still renders."""
    data = tiny_data(
        hazards=tuple(dataclasses.replace(h, release_date=None) for h in tiny_data().hazards),
        assets=tuple(dataclasses.replace(a, restore_date=None) for a in tiny_data().assets),
        bars=(),
        plan_status="",
        objective=None,
        baseline_objective=None,
        lower_bound=None,
        seed=None,
        outline=None,
        context=(),
    )
    html = render_report(data)
    assert "no plan" in html and "n/a" in html
    assert "No tasks scheduled" in html
    assert len(svgs(html)) == 4
    area = svgs(html)[2]
    assert float(area.get("data-final-km2", "nan")) == pytest.approx(0.3)


def test_empty_report_renders() -> None:
    """A report with nothing at all (no geometry, no tasks, no summary) renders without error."""
    html = render_report(
        tiny_data(hazards=(), assets=(), towns=(), bars=(), outline=None, context=(), summary=(), notes=())
    )
    assert "Nothing to map" in html
    assert len(svgs(html)) == 4


def test_write_report(tmp_path: Path) -> None:
    """write_report writes UTF-8 HTML to the path (creating folders) and returns it."""
    out = write_report(tiny_data(), tmp_path / "sub" / "report.html")
    assert out == tmp_path / "sub" / "report.html"
    assert "Generated by sapper" in out.read_text(encoding="utf-8")


def test_reference_scale_is_complete_and_small() -> None:
    """2,400 hazards, 1,300 assets and 10,000 bars over 330 lanes render to < 3 MB with every hazard shown (render
    time is seen in `sapper demo`, not asserted here: a timed test fails on a busy machine)."""
    data = make_report_data(n_hazards=2400, n_assets=1300, n_bars=10_000, n_lanes=330, n_villages=120)
    assert len(data.bars) >= 9_900
    html = render_report(data)
    size = len(html.encode("utf-8"))
    assert size < 3_000_000, f"{size / 1e6:.2f} MB"
    shown = set(t.split(" ", 1)[0] for t in titles(html))
    assert all(h.id in shown for h in data.hazards)
