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
from sapper.report.sitrep import cost_line_name, render_situation
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


def test_cost_lines_are_named_in_words_not_codes(planned: Path) -> None:
    """The by-method table names each line as a reader says it, in each language ("manual clearance", "repair:
    roads"), never the planner's codes (``manual``, ``ts``, ``repair: road``); and no caption ends in two full
    stops where a date already ends in one (Ukrainian and Russian dates end with "р." / "г.")."""
    data = gather(planned, forecast_runs=0)
    assert data.costs is not None and data.costs.by_method
    codes = {line.key for line in data.costs.by_method}
    for lang in Lang:
        sp = Speaker(lang)
        section = _section(render_situation(data, lang=lang))
        cells = set(re.findall(r"<tr><td>([^<]*)</td><td class=\"n\">", section.split(sp._("By method"))[1]))
        assert cells == {cost_line_name(sp, key) for key in codes}, lang
        assert not cells & codes, lang
        assert ".." not in render_situation(data, lang=lang), lang
    assert cost_line_name(Speaker(Lang.UK), "manual") == "ручне розмінування"
    assert cost_line_name(Speaker(Lang.EN), "repair: road") == "repair: roads"


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
