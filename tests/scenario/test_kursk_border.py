"""The kursk-border reference scenario: real geography, synthetic hazards and damage, the workforce."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon

from sapper.domain.assets import Asset, AssetType
from sapper.domain.figures import BRIGADE_SIZE, METHOD_FIGURES, TS_M2_PER_TEAM_DAY
from sapper.domain.geometry import LocalProjection, area_m2
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import NotFoundError, ValidationError
from sapper.scenario._synth import irregular_polygon, sample_sizes
from sapper.scenario._workforce import deminer_teams
from sapper.scenario.kursk_border import KurskBorderConfig, build_kursk_border
from sapper.scenario.model import Scenario

SEED = 2025


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return build_kursk_border(SEED)


@pytest.fixture(scope="module")
def proj(scenario: Scenario) -> LocalProjection:
    return scenario.projection


@pytest.fixture(scope="module")
def hazards_local(scenario: Scenario, proj: LocalProjection) -> np.ndarray:
    return np.array([proj.to_local(h.geometry) for h in scenario.hazards], dtype=object)


def _hazard_key(h: HazardArea) -> tuple[Any, ...]:
    return (h.id, h.geometry.wkb, h.hazard_class, h.evidence, sorted(h.device_categories), h.land_use,
            h.status, h.beneficiaries, h.name, h.expected_clearance_share, h.synthetic)


def _asset_key(a: Asset) -> tuple[Any, ...]:
    return (a.id, a.geometry.wkb, a.asset_type, a.damage, sorted(a.repair_work.items()), a.criticality,
            a.people_served, a.name, a.synthetic)


# --- determinism ----------------------------------------------------------------------------------


def test_same_seed_gives_identical_scenario(scenario: Scenario) -> None:
    """One seed builds the same hazards, assets, villages, zone and workforce twice, byte for byte."""
    again = build_kursk_border(SEED)
    assert [_hazard_key(h) for h in again.hazards] == [_hazard_key(h) for h in scenario.hazards]
    assert [_asset_key(a) for a in again.assets] == [_asset_key(a) for a in scenario.assets]
    assert [(s.name, s.population, s.point.wkb) for s in again.settlements] == [
        (s.name, s.population, s.point.wkb) for s in scenario.settlements]
    assert again.contested_zone.wkb == scenario.contested_zone.wkb
    assert again.teams == scenario.teams and again.brigades == scenario.brigades
    assert again.notes == scenario.notes


def test_other_seed_gives_other_hazards(scenario: Scenario) -> None:
    """A different seed moves the synthetic hazards (the real geography stays)."""
    other = build_kursk_border(SEED + 1)
    assert [h.geometry.wkb for h in other.hazards] != [h.geometry.wkb for h in scenario.hazards]
    assert other.oblast.equals(scenario.oblast)
    assert other.seed == SEED + 1


# --- real geography -------------------------------------------------------------------------------


def test_real_geography_and_attributions(scenario: Scenario) -> None:
    """Oblast, neighbours, border and 32 GeoNames towns come from the shipped open data, credited."""
    assert scenario.name == "kursk-border"
    assert scenario.start_date == dt.date(2025, 6, 17)
    assert 29_500 < area_m2(scenario.oblast) / 1e6 < 30_500  # NE outline 30,127 km²; official 29,997 km²
    assert [n for n, _ in scenario.neighbours] == ["Sumy Oblast", "Belgorod Oblast"]
    assert all(isinstance(g, Polygon) and g.is_valid for _, g in scenario.neighbours)
    assert isinstance(scenario.border, LineString | MultiLineString)
    assert scenario.border.length > 1.5  # degrees: the ~216 km stretch along Kursk Oblast
    real = [s for s in scenario.settlements if not s.synthetic]
    assert len(real) == 32
    assert all(s.source == "GeoNames" for s in real)
    assert scenario.settlement("Sudzha").population == 6_940
    assert scenario.settlement("Korenevo").population == 6_236
    assert all(scenario.oblast.buffer(0.01).contains(s.point) for s in scenario.settlements)
    assert "Made with Natural Earth (public domain)" in scenario.attributions
    assert "GeoNames (geonames.org), CC BY 4.0" in scenario.attributions
    with pytest.raises(NotFoundError):
        scenario.settlement("Atlantis")


def test_notes_say_what_is_synthetic(scenario: Scenario) -> None:
    """The notes name hazards, assets, villages, the contested zone and the workforce split as synthetic."""
    synthetic = " ".join(n for n in scenario.notes if n.startswith("SYNTHETIC")).lower()
    for word in ("hazard", "assets", "villages", "contested zone", "workforce"):
        assert word in synthetic, word


# --- contested zone -------------------------------------------------------------------------------


def test_contested_zone_size_border_and_towns(scenario: Scenario) -> None:
    """The zone has 1,000–1,300 km², touches the border, lies in the oblast, holds Sudzha and Korenevo."""
    zone = scenario.contested_zone
    assert isinstance(zone, Polygon) and zone.is_valid
    assert 1_000 <= area_m2(zone) / 1e6 <= 1_300
    assert abs(area_m2(zone) / 1e6 - 1_150) < 5
    assert zone.distance(scenario.border) < 1e-6
    assert zone.contains(scenario.settlement("Sudzha").point)
    assert zone.contains(scenario.settlement("Korenevo").point)
    assert area_m2(zone.difference(scenario.oblast)) < 1e4


def test_zone_area_follows_config() -> None:
    """The zone's area is a knob: a smaller target gives a smaller zone that still holds both towns."""
    small = build_kursk_border(3, config=KurskBorderConfig(zone_area_km2=1_000.0, hazard_count=200,
                                                           asset_count=200, village_count=40))
    assert abs(area_m2(small.contested_zone) / 1e6 - 1_000) < 5
    assert small.contested_zone.contains(small.settlement("Korenevo").point)
    assert len(small.hazards) == 200


# --- villages -------------------------------------------------------------------------------------


def test_synthetic_villages_denser_near_zone(scenario: Scenario, proj: LocalProjection) -> None:
    """~150 villages with 50–2,000 people, named as synthetic, denser near the zone than far from it."""
    villages = [s for s in scenario.settlements if s.synthetic]
    assert len(villages) == 150
    assert all(s.source == "synthetic" and s.name.endswith("(synthetic)") for s in villages)
    assert all(50 <= s.population <= 2_000 for s in villages)
    zone, oblast = proj.to_local(scenario.contested_zone), proj.to_local(scenario.oblast)
    d = np.array([zone.distance(proj.to_local(s.point)) for s in villages])
    near_area = zone.buffer(10_000).intersection(oblast).area
    far_area = oblast.difference(zone.buffer(40_000)).area
    assert (d <= 10_000).sum() / near_area > 5 * (d > 40_000).sum() / far_area


# --- hazards --------------------------------------------------------------------------------------


def test_hazard_counts_and_flags(scenario: Scenario) -> None:
    """At least 2,000 hazards (2,400 by default), every one synthetic, with ids and names that say so."""
    assert len(scenario.hazards) == 2_400
    assert all(h.synthetic for h in scenario.hazards)
    assert [h.id for h in scenario.hazards] == [f"HZ-{k:04d}" for k in range(1, 2_401)]
    assert all(h.name == f"{h.hazard_class.value}-{h.id[3:]} (synthetic)" for h in scenario.hazards)


def test_hazard_sizes_follow_bih_distribution(scenario: Scenario, hazards_local: np.ndarray) -> None:
    """Sizes follow the BiH distribution: median within ±25 % of 39,562 m², p90 within ±30 % of 250,000 m²."""
    sizes = shapely.area(hazards_local)
    assert abs(np.median(sizes) / 39_562 - 1) < 0.25
    assert abs(np.percentile(sizes, 90) / 250_000 - 1) < 0.30
    assert sizes.min() >= 0.5 * 500 and sizes.max() <= 3_060_000 * 1.001


def test_hazards_valid_inside_oblast_and_rarely_overlapping(scenario: Scenario, proj: LocalProjection,
                                                            hazards_local: np.ndarray) -> None:
    """Every hazard is a valid polygon inside Kursk Oblast (100 m tolerance), none in Ukraine; few overlap."""
    assert all(isinstance(h.geometry, Polygon) and h.geometry.is_valid for h in scenario.hazards)
    vertices = [len(h.geometry.exterior.coords) - 1 for h in scenario.hazards]
    assert sum(v >= 8 for v in vertices) > 0.95 * len(vertices)  # fewer only where clipped at the border
    oblast = proj.to_local(scenario.oblast).buffer(100.0)
    assert shapely.covers(oblast, hazards_local).all()
    tree = shapely.STRtree(hazards_local)
    i, j = tree.query(hazards_local, predicate="intersects")
    pairs = i < j
    overlap = shapely.area(shapely.intersection(hazards_local[i[pairs]], hazards_local[j[pairs]])).sum()
    assert overlap < 0.01 * shapely.area(hazards_local).sum()


def test_hazard_density_highest_along_the_front(scenario: Scenario, proj: LocalProjection,
                                                hazards_local: np.ndarray) -> None:
    """More hazards lie within 5 km of the zone boundary than in the band 20–25 km away, per km² as well."""
    zone, oblast = proj.to_local(scenario.contested_zone), proj.to_local(scenario.oblast)
    d = shapely.distance(zone.boundary, shapely.centroid(hazards_local))
    near = int((d < 5_000).sum())
    far = int(((d >= 20_000) & (d < 25_000)).sum())
    near_km2 = zone.boundary.buffer(5_000).intersection(oblast).area / 1e6
    far_km2 = zone.buffer(25_000).difference(zone.buffer(20_000)).intersection(oblast).area / 1e6
    assert near > 10 * far
    assert near / near_km2 > 20 * max(far, 1) / far_km2
    inside = shapely.contains(zone, shapely.centroid(hazards_local)).sum()
    assert 0.3 * len(hazards_local) < inside < 0.8 * len(hazards_local)


def test_hazard_attributes_are_plausible(scenario: Scenario) -> None:
    """CHA ~30 % with direct evidence; every SHA indirect (direct evidence makes a CHA); shares, devices and land use
    in their ranges."""
    hz = scenario.hazards
    cha = [h for h in hz if h.hazard_class is HazardClass.CHA]
    sha = [h for h in hz if h.hazard_class is HazardClass.SHA]
    assert 0.25 < len(cha) / len(hz) < 0.35
    assert all(h.evidence is Evidence.DIRECT for h in cha)
    assert all(h.evidence is Evidence.INDIRECT for h in sha)
    assert all(0.2 <= h.clearance_share <= 0.6 for h in cha)
    assert all(0.0 <= h.clearance_share <= 0.15 for h in sha)
    assert all(h.expected_clearance_share is not None for h in hz)
    assert all(h.device_categories for h in hz)
    land = Counter(h.land_use.value for h in hz)
    assert land.most_common(1)[0][0] == "agricultural"
    assert {"forest", "residential", "infrastructure", "wetland"} <= set(land)
    assert land["wetland"] < land["forest"]
    assert sum(h.beneficiaries > 0 for h in hz) > 0.3 * len(hz)


# --- assets ---------------------------------------------------------------------------------------


def test_asset_counts_types_and_flags(scenario: Scenario) -> None:
    """At least 1,000 damaged assets (1,300 by default) of every type, all synthetic, lines where linear."""
    assets = scenario.assets
    assert len(assets) == 1_300
    assert all(a.synthetic and a.name.endswith("(synthetic)") for a in assets)
    kinds = Counter(a.asset_type for a in assets)
    assert set(kinds) == set(AssetType)
    assert kinds[AssetType.ROAD] >= 50 and kinds[AssetType.BRIDGE] >= 5
    assert all(a.geometry.geom_type == "LineString" for a in assets
               if a.asset_type in (AssetType.ROAD, AssetType.POWER_LINE))
    assert all(a.geometry.geom_type == "Point" for a in assets
               if a.asset_type not in (AssetType.ROAD, AssetType.POWER_LINE))
    assert all(1 <= a.criticality <= 5 for a in assets)
    assert all(a.criticality == 5 for a in assets if a.asset_type in (AssetType.CLINIC, AssetType.SUBSTATION))


def test_asset_work_is_plausible(scenario: Scenario, proj: LocalProjection) -> None:
    """Builder-days per unit stay in the stated ranges, by the trades each asset type needs."""
    per_unit = {AssetType.HOUSE: (50, 400), AssetType.ROAD: (100, 600), AssetType.BRIDGE: (500, 3_000),
                AssetType.POWER_LINE: (60, 200), AssetType.SUBSTATION: (500, 2_000)}
    trades = {AssetType.ROAD: {Trade.ROAD}, AssetType.BRIDGE: {Trade.BRIDGE},
              AssetType.POWER_LINE: {Trade.POWER},
              AssetType.SUBSTATION: {Trade.POWER, Trade.BUILDING}, AssetType.WATER: {Trade.WATER},
              AssetType.SCHOOL: {Trade.BUILDING, Trade.POWER, Trade.WATER},
              AssetType.CLINIC: {Trade.BUILDING, Trade.POWER, Trade.WATER}, AssetType.HOUSE: {Trade.BUILDING}}
    for a in scenario.assets:
        assert set(a.repair_work) == trades[a.asset_type], a.id
        units = proj.to_local(a.geometry).length / 1000 if a.geometry.geom_type == "LineString" else 1.0
        if a.asset_type in per_unit:
            lo, hi = per_unit[a.asset_type]
            assert lo * 0.999 <= a.total_builder_days / units <= hi * 1.001, a.id
    roads = [proj.to_local(a.geometry).length for a in scenario.assets if a.asset_type is AssetType.ROAD]
    assert max(roads) <= 5_000 * 1.001


def test_damage_heavier_in_the_zone(scenario: Scenario) -> None:
    """Houses inside the zone are destroyed or severely damaged more often than those outside it."""
    zone = scenario.contested_zone

    def heavy_share(assets: list[Asset]) -> float:
        return sum(a.damage.value in ("severe", "destroyed") for a in assets) / max(1, len(assets))

    houses = [a for a in scenario.assets if a.asset_type is AssetType.HOUSE]
    inside = [a for a in houses if zone.contains(a.geometry)]
    outside = [a for a in houses if not zone.contains(a.geometry)]
    assert inside and outside
    assert heavy_share(inside) > heavy_share(outside) + 0.1


def test_many_assets_wait_for_land_release(scenario: Scenario, proj: LocalProjection,
                                           hazards_local: np.ndarray) -> None:
    """At least 20 % of assets have a work site that intersects a hazard area."""
    tree = shapely.STRtree(hazards_local)
    sites = np.array([a.work_site(proj) for a in scenario.assets], dtype=object)
    blocked = np.unique(tree.query(sites, predicate="intersects")[0])
    assert len(blocked) >= 0.2 * len(scenario.assets)


# --- workforce ------------------------------------------------------------------------------------


def test_workforce_sums_to_the_announcement(scenario: Scenario) -> None:
    """1,000 deminers in teams by method (BAC/EOD teams among them) and 5,000 builders in brigades of 25, all
    synthetic."""
    assert scenario.deminers == sum(t.size for t in scenario.teams) == 1_000
    assert scenario.builders == sum(b.size for b in scenario.brigades) == 5_000
    by_method = Counter(t.method for t in scenario.teams)
    assert by_method == {Method.SURVEY: 40, Method.MANUAL: 45, Method.DOG: 10, Method.MECHANICAL: 18,
                         Method.BAC: 20}
    assert all(t.size == METHOD_FIGURES[t.method][1] for t in scenario.teams)
    assert all(t.productivity_m2_per_day == METHOD_FIGURES[t.method][0].value for t in scenario.teams)
    by_trade = Counter(b.trade for b in scenario.brigades)
    assert by_trade == {Trade.ROAD: 40, Trade.BRIDGE: 12, Trade.POWER: 30, Trade.WATER: 20,
                        Trade.BUILDING: 98}
    assert all(b.size == BRIGADE_SIZE for b in scenario.brigades)
    assert "T-MAN-001" in {t.id for t in scenario.teams} and "B-ROAD-001" in {b.id for b in scenario.brigades}
    assert all(t.synthetic for t in scenario.teams) and all(b.synthetic for b in scenario.brigades)
    towns = {s.point.wkb for s in scenario.settlements if not s.synthetic}
    units: list[DeminerTeam | BuilderBrigade] = [*scenario.teams, *scenario.brigades]
    assert all(u.base.wkb in towns for u in units)
    assert not any(scenario.contested_zone.contains(u.base) for u in units)
    assert {u.organisation_id for u in units} <= {o.id for o in scenario.organisations}


def test_every_record_is_flagged(scenario: Scenario) -> None:
    """Everything generated is flagged synthetic; only GeoNames towns are not."""
    flagged = list(scenario.synthetic_records())
    total = (len(scenario.hazards) + len(scenario.assets) + len(scenario.teams) + len(scenario.brigades)
             + len(scenario.settlements) - 32)
    assert len(flagged) == total
    assert all("synthetic" in o.name.lower() for o in scenario.organisations)


# --- configuration --------------------------------------------------------------------------------


def test_config_refuses_workforce_that_does_not_sum() -> None:
    """A split that does not add up to the stated totals is refused, naming both faults at once."""
    with pytest.raises(ValidationError) as err:
        KurskBorderConfig(team_split=((Method.MANUAL, 100),), brigade_split=((Trade.ROAD, 10),))
    fields = {f.field for f in err.value.faults}
    assert {"team_split", "brigade_split"} <= fields
    assert "800 deminers" in err.value.message


def test_config_accepts_a_consistent_other_split() -> None:
    """Another split is fine when it sums: 125 manual teams of 8 make 1,000 deminers."""
    cfg = KurskBorderConfig(team_split=((Method.MANUAL, 125),))
    assert sum(n * dict(cfg.team_sizes)[m] for m, n in cfg.team_split) == cfg.deminers == 1_000
    with pytest.raises(ValidationError, match="1000 deminers"):
        dataclasses.replace(cfg, deminers=999)


def test_config_refuses_unknown_towns() -> None:
    """Base or zone towns must be GeoNames towns of Kursk Oblast, outside the zone for bases."""
    with pytest.raises(ValidationError, match="Atlantis"):
        build_kursk_border(config=KurskBorderConfig(base_towns=("Atlantis",)))
    with pytest.raises(ValidationError, match="inside the contested zone"):
        build_kursk_border(config=KurskBorderConfig(base_towns=("Sudzha",)))


# --- building blocks ------------------------------------------------------------------------------


def test_size_sampler_hits_the_quantiles() -> None:
    """Inverse-transform sampling reproduces the BiH quantiles on a large sample."""
    from sapper.domain.figures import HazardSizeDistribution

    dist = HazardSizeDistribution()
    sizes = sample_sizes(np.random.default_rng(0), 200_000, dist)
    for q, v in dist.quantiles[1:-1]:
        assert abs(np.quantile(sizes, q) / v - 1) < 0.03, q


def test_irregular_polygon_is_simple_with_exact_area() -> None:
    """Perturbed ellipses are valid, have 8–16 vertices and exactly the area asked for."""
    rng = np.random.default_rng(1)
    for area in (500.0, 40_000.0, 3_000_000.0):
        for _ in range(50):
            poly = irregular_polygon(rng, area, (1_000.0, -2_000.0))
            assert poly.is_valid and 8 <= len(poly.exterior.coords) - 1 <= 16
            assert abs(poly.area / area - 1) < 1e-9


def test_the_technical_survey_rate_is_a_programme_parameter() -> None:
    """The survey teams get the configured TS rate (default TS_M2_PER_TEAM_DAY, METHOD_FIGURES' survey figure), the
    other methods keep theirs; a rate that is not positive is refused naming the field."""
    assert KurskBorderConfig().survey_m2_per_team_day == TS_M2_PER_TEAM_DAY.value == METHOD_FIGURES[Method.SURVEY][
        0].value
    teams = deminer_teams(((Method.SURVEY, 2), (Method.MANUAL, 1)), {Method.SURVEY: 6, Method.MANUAL: 8},
                          [shapely.Point(35.3, 51.2)], productivity={Method.SURVEY: 2500.0})
    assert [t.productivity_m2_per_day for t in teams] == [2500.0, 2500.0, METHOD_FIGURES[Method.MANUAL][0].value]
    with pytest.raises(ValidationError, match="survey_m2_per_team_day"):
        KurskBorderConfig(survey_m2_per_team_day=0.0)
