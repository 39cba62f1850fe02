"""The situation report's what-if section: `sapper whatif` keeps its comparison in the store, and the report shows it
(a chart and a table of the region's P50/P80 per variant, the critical assets' P50/P80) in en/uk/ru; before any
comparison, and with --no-save, the section says how to make one; after a new plan it says the comparison is stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sapper.plan import Engine
from sapper.report.i18n import Lang, Speaker
from sapper.report.sitdata import gather
from sapper.report.sitrep import render_situation
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store
from tests.cli.entry import run
from tests.services.test_whatif import _register


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("whatif-report") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    return db


def _section(html: str) -> str:
    return html[html.index('<section id="whatif">'):html.index("</section>", html.index('<section id="whatif">'))]


def test_no_comparison_says_how_to_make_one(compared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    db = Path(shutil.copy(compared, tmp_path / "r.gpkg"))
    code, _, err = run(monkeypatch, capsys, "whatif", "--db", db, "--variant", "winter:winter_work=true",
                       "--runs", "40", "--no-save")
    assert code == 0, err
    with open_store(db) as store:
        assert store.latest_whatif() is None
    section = _section(render_situation(gather(db, forecast_runs=0), lang=Lang.EN))
    assert "No what-if comparison has been saved" in section and "sapper whatif --db" in section


def test_a_saved_comparison_is_shown_in_each_language(compared: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = Path(shutil.copy(compared, tmp_path / "r.gpkg"))
    code, _, err = run(monkeypatch, capsys, "whatif", "--db", db, "--variant", "winter:winter_work=true",
                       "--variant", "more:manual_teams=+2", "--runs", "40", "--critical", "2")
    assert code == 0, err
    with open_store(db) as store:
        saved = store.latest_whatif()
        latest = store.latest_plan()
    assert saved is not None and latest is not None and saved.plan_id == latest.id
    assert [c.name for c in saved.columns] == ["current", "winter", "more"]
    assert all(len(c.assets) == 2 for c in saved.columns)
    data = gather(db, forecast_runs=0)
    assert data.whatif == saved and not data.whatif_stale
    for lang in Lang:
        sp = Speaker(lang)
        section = _section(render_situation(data, lang=lang))
        assert "<svg" in section  # the chart
        for c in saved.columns:
            assert f"<td>{c.name}</td>" in section
            assert sp.fmt_date(c.p50) in section and sp.fmt_date(c.p80) in section
        for a in saved.columns[1].assets:
            assert a.asset_id in section
            assert f"{sp.fmt_date(a.p50, style='short')} / {sp.fmt_date(a.p80, style='short')}" in section
        assert "No what-if comparison" not in section
        assert f"{sp.fmt_date_in_text(saved.made_at)}. " in section and ".." not in section, lang  # one full stop
    assert sp.fmt_date(saved.columns[0].p50) in section
    uk = _section(render_situation(data, lang=Lang.UK))
    assert "Що як" in uk and "останній план" in uk

    with open_store(db) as store:  # a new plan: the comparison is of another plan now
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5))
    section = _section(render_situation(gather(db, forecast_runs=0), lang=Lang.EN))
    assert "The plan has changed since this comparison" in section


def test_a_damaged_comparison_is_a_store_error(compared: Path, tmp_path: Path) -> None:
    from sapper.errors import StoreError

    db = Path(shutil.copy(compared, tmp_path / "r.gpkg"))
    with open_store(db) as store:
        store.set_meta({"whatif_latest": '{"plan_id": 1}'})
        with pytest.raises(StoreError, match="whatif_latest"):
            store.latest_whatif()
