"""`sapper costs` on the README tour's planned register: totals with currency and price year, the breakdowns, JSON
that adds up, a programme's own prices, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sapper.io.pricing import default_pricing_text
from tests.cli.entry import run


def test_costs_prints_totals_and_breakdowns(
    tour: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text names the plan, price year and currency, then every breakdown."""
    code, out, err = run(monkeypatch, capsys, "costs", "--db", tour)
    assert code == 0, err
    assert out.startswith("costs of plan run 1 at 2025 prices in USD")
    for title in (
        "by year (total, demining, reconstruction):",
        "by organisation:",
        "by district:",
        "by method:",
        "by asset class:",
    ):
        assert title in out
    assert "per km² released" in out and "per asset restored" in out


def test_costs_json_adds_up(tour: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Each breakdown sums to the total; demining + reconstruction is the total; overheads are on top of direct."""
    code, out, _ = run(monkeypatch, capsys, "costs", "--db", tour, "--json", "--plan", "1")
    assert code == 0
    doc = json.loads(out)
    assert doc["currency"] == "USD" and doc["price_year"] == 2025 and doc["total"] > doc["direct"] > 0
    for key in ("by_year", "by_organisation", "by_district", "by_method"):
        assert sum(r["total"] for r in doc[key]) == pytest.approx(doc["total"], abs=0.1), key
    assert doc["demining"] + doc["reconstruction"] == pytest.approx(doc["total"], abs=0.02)
    assert sum(r["total"] for r in doc["by_asset_class"]) == pytest.approx(doc["reconstruction"], abs=0.1)
    assert doc["cost_per_asset_restored"] == pytest.approx(doc["reconstruction"] / doc["assets_restored"], abs=0.01)


def test_a_programme_pricing_file_changes_the_price(
    tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dearer manual clearance in another currency: the manual line grows by the same factor."""
    _, out, _ = run(monkeypatch, capsys, "costs", "--db", tour, "--json")
    before = {r["key"]: r["total"] for r in json.loads(out)["by_method"]}
    prices = tmp_path / "prices.toml"
    prices.write_text(
        default_pricing_text()
        .replace('currency = "USD"', 'currency = "EUR"')
        .replace("amount = 10.0", "amount = 20.0"),
        encoding="utf-8",
    )
    code, out, _ = run(monkeypatch, capsys, "costs", "--db", tour, "--json", "--pricing", prices)
    assert code == 0
    doc = json.loads(out)
    after = {r["key"]: r["total"] for r in doc["by_method"]}
    assert doc["currency"] == "EUR"
    assert after["manual"] == pytest.approx(2 * before["manual"], rel=1e-6)
    assert after["nts"] == pytest.approx(before["nts"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--plan", "99"], 3, "plan run 99 is not in the store"),
        (["--plan", "last"], 2, "'last' is neither 'latest' nor a plan run id"),
    ],
)
def test_costs_errors_are_one_line(
    tour: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    """A plan run that is not there, or a --plan that is not one: one line and the documented exit code."""
    got, out, err = run(monkeypatch, capsys, "costs", "--db", tour, *args)
    assert got == code and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_bad_pricing_file_lists_its_faults(
    tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A price without a source is refused naming the file and entry; nothing is printed on stdout."""
    prices = tmp_path / "prices.toml"
    prices.write_text(
        default_pricing_text().replace('source = "assumption: rural school"', 'source = "guess"'), encoding="utf-8"
    )
    code, out, err = run(monkeypatch, capsys, "costs", "--db", tour, "--pricing", prices)
    assert code == 2 and out == ""
    assert "reconstruction.school.source" in err


def test_the_report_prices_at_a_programme_pricing_file(
    tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sapper report --pricing``: the costs section in the file's currency; without it, sapper's (US$)."""
    prices = tmp_path / "prices.toml"
    prices.write_text(default_pricing_text().replace('currency = "USD"', 'currency = "EUR"'), encoding="utf-8")
    for extra, currency in (([], "USD"), (["--pricing", prices], "EUR")):
        page = tmp_path / f"{currency}.html"
        code, _, err = run(monkeypatch, capsys, "report", "--db", tour, "--out", page, "--forecast-runs", "0", *extra)
        assert code == 0, err
        assert f"prices in {currency}, overheads" in page.read_text(encoding="utf-8")
