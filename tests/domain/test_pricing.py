"""The pricing model: arithmetic, units, sources of every default, and one-line errors for a bad profile."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.pricing import Basis, Family, ReleaseActivity, ReleasePrice, source_faults
from sapper.domain.resources import Trade
from sapper.errors import ValidationError
from sapper.io.pricing import default_pricing_text, load_pricing, pricing_from_toml


def _asset(kind: AssetType, geom: object, damage: DamageLevel = DamageLevel.DESTROYED) -> Asset:
    return Asset(f"a-{kind.value}", kind, geom, damage, {Trade.ROAD: 10.0})


def test_every_default_has_a_domain_source_or_says_assumption() -> None:
    """Every price, overhead and parameter of the shipped profile cites DOMAIN.md or is labelled an assumption."""
    p = load_pricing()
    sources = [p.currency_source, p.price_year_source, p.bridge_length_m.source]
    sources += [r.source for r in p.release.values()] + [a.source for a in p.reconstruction.values()]
    sources += [o.source for o in p.overheads]
    assert len(sources) == 3 + len(ReleaseActivity) + len(AssetType) + len(p.overheads)
    for s in sources:
        assert not source_faults("x", s), s
        assert s.startswith("DOMAIN.md") or s.startswith("assumption")
    # The one DOMAIN.md figure for cost is the manual clearance price.
    manual = p.release[ReleaseActivity.MANUAL]
    assert manual.basis is Basis.M2 and manual.amount == 10.0 and "often about US$10" in manual.source


def test_a_source_that_is_neither_is_refused() -> None:
    """A price whose source is a bare label is refused with the record named."""
    with pytest.raises(ValidationError, match=r"price of manual\.source"):
        ReleasePrice(ReleaseActivity.MANUAL, Basis.M2, 10.0, "my guess")


def test_release_cost_per_m2_team_day_and_task() -> None:
    """The three bases: m² × price, team-days × rate, tasks × price."""
    p = load_pricing()
    assert p.release_cost(ReleaseActivity.MANUAL, m2=1000.0, team_days=6.0) == pytest.approx(10_000.0)
    assert p.release_cost(ReleaseActivity.DOG, m2=1000.0, team_days=2.0) == pytest.approx(5_000.0)
    assert p.release_cost(ReleaseActivity.NTS, m2=50_000.0, team_days=3.0) == pytest.approx(1_200.0)
    assert p.release_cost(ReleaseActivity.NTS, m2=50_000.0, team_days=3.0, tasks=0.5) == pytest.approx(600.0)


def test_overheads_add_by_family() -> None:
    """QA and medical cover apply to demining only, management to both."""
    p = load_pricing()
    assert p.overhead_share(Family.DEMINING) == pytest.approx(0.18)
    assert p.overhead_share(Family.RECONSTRUCTION) == pytest.approx(0.10)
    assert p.with_overheads(100.0, Family.DEMINING) == pytest.approx(118.0)


def test_asset_cost_by_unit_and_damage() -> None:
    """A road is priced per km of its geodesic length, a point bridge by the profile's bridge length, a school per
    unit, each at its damage level."""
    p = load_pricing()
    # 0.01° of latitude is ~1.11 km.
    road = _asset(AssetType.ROAD, LineString([(35.0, 51.0), (35.0, 51.01)]), DamageLevel.MODERATE)
    assert p.asset_quantity(road) == pytest.approx(1.113, abs=0.002)
    assert p.asset_cost(road) == pytest.approx(250_000.0 * p.asset_quantity(road))
    bridge = _asset(AssetType.BRIDGE, Point(35.0, 51.0), DamageLevel.SEVERE)
    assert p.asset_cost(bridge) == pytest.approx(25_000.0 * 30.0)
    school = _asset(AssetType.SCHOOL, Point(35.0, 51.0), DamageLevel.LIGHT)
    assert p.asset_cost(school) == pytest.approx(150_000.0)


def test_a_programme_profile_overrides_the_default(tmp_path: Path) -> None:
    """A file in the default's layout with other figures is read as the programme's profile."""
    text = (
        default_pricing_text().replace('currency = "USD"', 'currency = "EUR"').replace("amount = 10.0", "amount = 12.5")
    )
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    p = load_pricing(path)
    assert p.currency == "EUR" and p.release[ReleaseActivity.MANUAL].amount == 12.5
    assert dataclasses.replace(p, name="x").name == "x"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("amount = 10.0", "amount = -1.0", "release.manual.amount: amount cannot be negative"),
        ('[release.bac]\nbasis = "m2"', '[release.bac]\nbasis = "hectare"', "release.bac.basis: basis must be one of"),
        ("[reconstruction.house]", "[reconstruction.castle]", "reconstruction.castle: unknown entry 'castle'"),
        ('source = "assumption: rural school"', 'source = "a guess"', "reconstruction.school.source: source must cite"),
        ("price_year = 2025", 'price_year = "2025"', "price_year must be a whole year"),
        ("name = ", "name = = ", "is not valid TOML"),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_entry(tmp_path: Path, old: str, new: str, message: str) -> None:
    """Each fault names the file and the entry; nothing is half-read."""
    text = default_pricing_text()
    assert old in text
    with pytest.raises(ValidationError) as info:
        pricing_from_toml(text.replace(old, new, 1), "prices.toml")
    assert message in info.value.message
    assert "\n" not in info.value.message


def test_a_profile_missing_a_price_says_which(tmp_path: Path) -> None:
    """Leaving out an activity is refused: every activity and asset type needs a price."""
    text = default_pricing_text()
    start = text.index("[release.eod]")
    end = text.index("[release.manual]")
    with pytest.raises(ValidationError, match="no price for eod"):
        pricing_from_toml(text[:start] + text[end:], "prices.toml")


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    """A missing file names the file."""
    with pytest.raises(ValidationError, match=r"nope\.toml"):
        load_pricing(tmp_path / "nope.toml")


def test_docs_quote_the_shipped_prices() -> None:
    """docs/costs.md names the default prices it explains; they are the shipped profile's."""
    text = (Path(__file__).parents[2] / "docs" / "costs.md").read_text(encoding="utf-8")
    p = load_pricing()
    quoted = {
        ReleaseActivity.MANUAL: "US$10 per m²",
        ReleaseActivity.DOG: "US$2,500 per dog-team-day",
        ReleaseActivity.MECHANICAL: "US$15,000 per mechanical team-day",
        ReleaseActivity.TS: "US$0.5/m²",
    }
    for activity, phrase in quoted.items():
        assert phrase in text
        assert phrase.startswith(f"US${p.release[activity].amount:,g}")
    shares = {o.name: o.share for o in p.overheads}
    assert "QA 5 %" in text and shares["quality assurance"] == 0.05
    assert "medical cover 3 %" in text and shares["medical cover"] == 0.03
    assert "management 10 %" in text and shares["management"] == 0.10
