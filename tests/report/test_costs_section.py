"""The situation report's costs section: the plan's cost at the default prices, by year beside the forecast's P50/P80
cost, and by method, in every language; without a plan it says there is nothing to price."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sapper.io.pricing import load_pricing
from sapper.plan import Engine
from sapper.report.i18n import Lang, Speaker
from sapper.report.sitdata import gather
from sapper.report.sitrep import render_situation
from sapper.services.costs import plan_costs
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store
from tests.services.test_whatif import _register


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("costs-report") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


def _section(html: str) -> str:
    start = html.index('<section id="costs">')
    return html[start : html.index("</section>", start)]


def test_the_costs_section_shows_the_plans_cost_and_forecast(planned: Path) -> None:
    """Total, demining and reconstruction as sapper costs gives them; every year of the plan; P50/P80 columns from
    the forecast's cost."""
    data = gather(planned, forecast_runs=60)
    with open_store(planned) as store:
        priced = plan_costs(store, load_pricing())
    assert data.costs is not None and data.forecast is not None and data.forecast.cost is not None
    assert data.costs.total == pytest.approx(priced.total)
    sp = Speaker(Lang.EN)
    section = _section(render_situation(data, lang=Lang.EN))
    assert "2025 prices in USD" in section
    assert sp.fmt_int(priced.total) in section and sp.fmt_int(priced.reconstruction) in section
    for year in priced.by_year:
        assert f"<td>{year.key}</td>" in section
    assert "Even chance (P50)" in section and sp.fmt_int(data.forecast.cost.total.p50) in section
    for lang in (Lang.UK, Lang.RU):  # amounts in each language's number format
        assert Speaker(lang).fmt_int(priced.total) in _section(render_situation(data, lang=lang))


def test_no_caption_ends_in_two_full_stops(planned: Path) -> None:
    """Ukrainian and Russian medium dates end with "р." / "г.": the changes' caption ("Since …") says its date
    without it, so the sentence has one full stop, in every language; and no two full stops anywhere."""
    data = gather(planned, forecast_runs=0)
    for lang in Lang:
        sp = Speaker(lang)
        html = render_situation(data, lang=lang)
        caption = sp._("Since %(date)s.") % {"date": sp.fmt_date_in_text(data.changes.since)}
        assert f'<p class="caption">{caption}</p>' in html, lang
        assert caption.endswith(f"{data.changes.since.year}."), caption
        assert ".." not in html, lang


def test_the_cost_fan_follows_the_time_fan(planned: Path) -> None:
    """Beside the released-land fan, a chart of the money the same runs spend by each year's end (P10–P90 band,
    median, plan); its caption names the currency and price year; none without a forecast."""
    data = gather(planned, forecast_runs=60)
    assert data.forecast is not None and data.forecast.cost is not None and data.forecast.cost.cumulative
    html = render_situation(data, lang=Lang.EN)
    caption = html.index("What the same runs spend, in USD at 2025 prices")
    assert html.index("<svg", caption) < html.index("</figure>", caption)
    assert html.index("8 runs in 10 (P10 to P90), the line is the median.") < caption  # after the time fan
    assert re.search(r"spent, (million |thousand )?USD \(cumulative\)", html)
    assert "G</text>" not in html and "e+" not in html  # amounts in millions: no SI prefix, no exponent
    assert "What the same runs spend" not in render_situation(gather(planned, forecast_runs=0), lang=Lang.EN)


def test_without_a_plan_there_is_nothing_to_price(tmp_path: Path) -> None:
    """A register without a plan: the section says so."""
    db = tmp_path / "r.gpkg"
    _register(db)
    section = _section(render_situation(gather(db, forecast_runs=0), lang=Lang.EN))
    assert "No costs: there is no plan to price yet." in section


@pytest.mark.parametrize(("lang", "words"), [
    (Lang.EN, {"manual clearance", "repair: roads", "non-technical survey"}),
    (Lang.UK, {"ручне розмінування", "ремонт: дороги", "нетехнічне обстеження"}),
    (Lang.RU, {"ручное разминирование", "ремонт: дороги", "нетехническое обследование"}),
])
def test_costs_by_method_name_the_methods_in_words(planned: Path, lang: Lang, words: set[str]) -> None:
    """The lines of the costs by method are the methods and trades in words of the report's language, not the codes
    (`manual`, `repair: road`) the costs are keyed by."""
    data = gather(planned, forecast_runs=0)
    assert data.costs is not None
    section = _section(render_situation(data, lang=lang))
    shown = set(re.findall(r"<tr><td>([^<]*)</td><td class=\"n\">", section))
    assert words <= shown, shown
    assert not shown & {m.key for m in data.costs.by_method}, shown
