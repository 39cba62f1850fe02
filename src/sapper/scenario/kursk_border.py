"""The reference scenario ``kursk-border``: Kursk Oblast after the 2024–25 fighting around Sudzha and
Korenevo.

On 17 June 2025 the deployment of 1,000 sappers and 5,000 builders to Kursk Oblast's border districts was
announced. This scenario pairs that workforce with the real geography (Natural Earth outlines and border,
GeoNames towns) and with *synthetic* contamination, damage, villages, networks and a synthetic contested zone
of about 1,150 km² (DOMAIN.md: the fighting reached ~1,000–1,300 km² at its peak). Everything synthetic is
flagged and named so.

``build_kursk_border(seed)`` is deterministic: the same seed and configuration give the same scenario, byte
for byte.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

from sapper.domain.assets import Asset, AssetType
from sapper.domain.figures import BRIGADE_SIZE, METHOD_FIGURES, TS_M2_PER_TEAM_DAY, HazardSizeDistribution
from sapper.domain.geometry import WGS84, LocalProjection
from sapper.domain.hazards import HazardArea, HazardStatus
from sapper.domain.places import SYNTHETIC_SOURCE, Settlement
from sapper.domain.resources import Method, Trade
from sapper.errors import Fault, ValidationError
from sapper.scenario import _geodata
from sapper.scenario._assets import WORK_RANGES, AssetParams, synthetic_assets
from sapper.scenario._hazards import Component as HazardComponent
from sapper.scenario._hazards import HazardParams, synthetic_hazards
from sapper.scenario._network import (
    Frame,
    Place,
    power_grid,
    road_network,
    synthetic_rivers,
    synthetic_villages,
)
from sapper.scenario._synth import to_wgs84_many
from sapper.scenario._truth import AreaTruth, contamination_truth
from sapper.scenario._workforce import ORGANISATIONS, builder_brigades, deminer_teams
from sapper.scenario._zone import border_section, contested_zone, largest_polygon
from sapper.scenario.model import Scenario

__all__ = ["SCENARIO_NAME", "AreaTruth", "HazardComponent", "KurskBorderConfig", "build_kursk_border",
           "build_kursk_border_truth"]

SCENARIO_NAME = "kursk-border"
OBLAST = "Kursk Oblast"
NEIGHBOURS = ("Sumy Oblast", "Belgorod Oblast")
#: The hidden truth's own random stream: ``default_rng([seed, TRUTH_STREAM])``.
TRUTH_STREAM = 7

#: Teams per method: 40 survey teams of 6 (240 people: NTS and TS), 45 manual of 8 (360), 10 dog of 6 (60), 18
#: mechanical of 10 (180) and 20 BAC/EOD teams of 8 (160) for the ERW-only areas (battle area clearance and EOD spot
#: tasks, IMAS 09.11), taken from the manual and mechanical teams of the split before them (60 and 22). No public
#: source gives such a split; assumption, a parameter (docs/scenario-kursk-border.md).
DEFAULT_TEAM_SPLIT: tuple[tuple[Method, int], ...] = (
    (Method.SURVEY, 40), (Method.MANUAL, 45), (Method.DOG, 10), (Method.MECHANICAL, 18), (Method.BAC, 20),
)
DEFAULT_TEAM_SIZES: tuple[tuple[Method, int], ...] = tuple((m, METHOD_FIGURES[m][1]) for m in Method)
DEFAULT_BRIGADE_SPLIT: tuple[tuple[Trade, int], ...] = (
    (Trade.ROAD, 40), (Trade.BRIDGE, 12), (Trade.POWER, 30), (Trade.WATER, 20), (Trade.BUILDING, 98),
)
DEFAULT_HAZARD_MIX: tuple[tuple[HazardComponent, float], ...] = (
    (HazardComponent.FRONT, 0.50),
    (HazardComponent.INSIDE, 0.18),
    (HazardComponent.ROADS, 0.10),
    (HazardComponent.SETTLEMENTS, 0.08),
    (HazardComponent.DEPTH, 0.11),
    (HazardComponent.SCATTERED, 0.03),
)
#: Towns outside the zone where teams and brigades are based (GeoNames ASCII names).
DEFAULT_BASE_TOWNS: tuple[str, ...] = (
    "L'govskiy", "Ryl'sk", "Kurchatov", "Ivanino", "Konyshevka", "Pristen'", "Oboyan'", "Kursk",
)


@dataclass(frozen=True, slots=True)
class KurskBorderConfig:
    """The knobs of the scenario. Defaults reproduce the reference scenario; every figure is an assumption
    unless DOMAIN.md gives it a source (noted on each field).
    """

    #: The day the deployment of 1,000 sappers and 5,000 builders was announced.
    start_date: dt.date = dt.date(2025, 6, 17)
    #: Target area of the synthetic contested zone (DOMAIN.md: ~1,000–1,300 km² at the peak, Aug–Sep 2024).
    zone_area_km2: float = 1_150.0
    #: Towns the zone must contain (GeoNames ASCII names).
    zone_towns: tuple[str, ...] = ("Sudzha", "Korenevo")
    #: How far the zone runs along the border beyond the border points nearest those towns (km).
    zone_border_extension_km: float = 10.0
    #: Synthetic villages (the gazetteer lists towns only) and their population range.
    village_count: int = 150
    village_population: tuple[int, int] = (50, 2_000)
    #: Village density falls as exp(−d / scale) away from the zone, down to ``village_floor`` of its peak.
    village_near_scale_km: float = 10.0
    village_floor: float = 0.06
    village_spacing_km: float = 2.0
    #: Synthetic hazard areas; sizes follow the real BiH distribution (DOMAIN.md).
    hazard_count: int = 2_400
    hazard_sizes: HazardSizeDistribution = field(default_factory=HazardSizeDistribution)
    #: Share of hazards that are confirmed (CHA) rather than suspected (SHA).
    cha_share: float = 0.30
    #: Where hazards come from (weights of the mixture, see ``HazardComponent``).
    hazard_mix: tuple[tuple[HazardComponent, float], ...] = DEFAULT_HAZARD_MIX
    #: Distance scale of hazards around the front line, and behind it (km, exponential).
    front_scale_km: float = 2.5
    depth_scale_km: float = 10.0
    #: Placements tried per hazard to avoid overlapping earlier ones.
    placement_attempts: int = 8
    #: People of a settlement count as beneficiaries of hazards within this distance (km), scaled down
    #: linearly.
    beneficiary_radius_km: float = 5.0
    #: Expected share needing clearance, drawn uniformly per area (survey releases most land: BiH 2016,
    #: DOMAIN.md).
    sha_clearance_share: tuple[float, float] = (0.0, 0.15)
    cha_clearance_share: tuple[float, float] = (0.2, 0.6)
    #: Share of the areas not confirmed at first that carry direct evidence: they are CHAs (IMAS 08.10), counted
    #: within ``cha_share``.
    sha_direct_evidence: float = 0.1
    #: Damaged assets in all (houses fill the count up after the networks and facilities).
    asset_count: int = 1_300
    #: Roads and power lines are split into sections of at most this length (km), one asset each.
    max_section_km: float = 5.0
    #: Damage intensity is 1 inside the zone and falls as exp(−d / scale) outside it (km).
    damage_scale_km: float = 8.0
    #: Houses are placed in settlements whose damage intensity is at least this.
    house_min_intensity: float = 0.25
    #: Synthetic rivers (for bridges) and the road network's extra links.
    river_count: int = 8
    extra_link_prob: float = 0.35
    extra_link_max_km: float = 15.0
    #: Settlements with at least this population get a substation.
    substation_min_population: int = 500
    #: Cap on ``people_served`` of one asset.
    people_cap: int = 50_000
    #: Deminers: teams per method, people per team (METHOD_FIGURES), and the total they must add up to.
    deminers: int = 1_000
    team_split: tuple[tuple[Method, int], ...] = DEFAULT_TEAM_SPLIT
    team_sizes: tuple[tuple[Method, int], ...] = DEFAULT_TEAM_SIZES
    #: The technical-survey rate of the survey teams (m² per team-day): a programme parameter with no public source;
    #: its default is calibrated to Bosnia and Herzegovina's stated throughput (``TS_M2_PER_TEAM_DAY``).
    survey_m2_per_team_day: float = TS_M2_PER_TEAM_DAY.value
    #: Builders: brigades per trade of ``brigade_size`` (BRIGADE_SIZE), and the total they must add up to.
    builders: int = 5_000
    brigade_split: tuple[tuple[Trade, int], ...] = DEFAULT_BRIGADE_SPLIT
    brigade_size: int = BRIGADE_SIZE
    base_towns: tuple[str, ...] = DEFAULT_BASE_TOWNS

    def __post_init__(self) -> None:
        ValidationError.raise_if("kursk-border configuration", self.faults())

    def faults(self) -> list[Fault]:
        rec = "config"
        faults: list[Fault] = []
        for name in ("village_count", "hazard_count", "asset_count", "placement_attempts", "brigade_size"):
            if getattr(self, name) < 1:
                faults.append(Fault(rec, f"must be at least 1, got {getattr(self, name)}", name))
        for name in ("zone_area_km2", "village_near_scale_km", "village_spacing_km", "front_scale_km",
                     "depth_scale_km", "beneficiary_radius_km", "max_section_km", "damage_scale_km",
                     "extra_link_max_km"):
            if not getattr(self, name) > 0:
                faults.append(Fault(rec, f"must be positive, got {getattr(self, name)}", name))
        for name in ("cha_share", "village_floor", "sha_direct_evidence", "extra_link_prob",
                     "house_min_intensity"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                faults.append(Fault(rec, f"must be in [0, 1], got {getattr(self, name)}", name))
        for name in ("sha_clearance_share", "cha_clearance_share"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                faults.append(Fault(rec, f"must be a range within [0, 1], got ({lo}, {hi})", name))
        lo_pop, hi_pop = self.village_population
        if not 0 < lo_pop <= hi_pop:
            faults.append(Fault(rec, f"must be a positive range, got {self.village_population}",
                                "village_population"))
        if not self.zone_towns:
            faults.append(Fault(rec, "name at least one town for the zone to contain", "zone_towns"))
        if not self.base_towns:
            faults.append(Fault(rec, "name at least one base town", "base_towns"))
        weights = [w for _, w in self.hazard_mix]
        if not weights or min(weights) < 0 or sum(weights) <= 0:
            faults.append(Fault(rec, "weights must be non-negative with a positive sum", "hazard_mix"))
        faults.extend(self._workforce_faults())
        return faults

    def _workforce_faults(self) -> list[Fault]:
        rec = "config"
        faults: list[Fault] = []
        if not (math.isfinite(self.survey_m2_per_team_day) and self.survey_m2_per_team_day > 0):
            faults.append(Fault(rec, f"must be a positive number of m² per team-day, got "
                                     f"{self.survey_m2_per_team_day}", "survey_m2_per_team_day"))
        sizes = dict(self.team_sizes)
        methods = [m for m, _ in self.team_split]
        if len(set(methods)) != len(methods):
            faults.append(Fault(rec, "a method is listed twice", "team_split"))
        for method, count in self.team_split:
            if count < 0:
                faults.append(Fault(rec, f"{method} teams cannot be negative", "team_split"))
            if sizes.get(method, 0) < 1:
                faults.append(Fault(rec, f"no team size for {method}", "team_sizes"))
        people = sum(count * sizes.get(method, 0) for method, count in self.team_split)
        if people != self.deminers:
            detail = " + ".join(f"{n} {m} × {sizes.get(m, 0)}" for m, n in self.team_split)
            faults.append(Fault(rec, f"teams add up to {people} deminers ({detail}), not {self.deminers}",
                                "team_split"))
        trades = [t for t, _ in self.brigade_split]
        if len(set(trades)) != len(trades):
            faults.append(Fault(rec, "a trade is listed twice", "brigade_split"))
        if any(count < 0 for _, count in self.brigade_split):
            faults.append(Fault(rec, "brigade counts cannot be negative", "brigade_split"))
        brigades = sum(count for _, count in self.brigade_split)
        if brigades * self.brigade_size != self.builders:
            faults.append(Fault(rec, f"brigades add up to {brigades * self.brigade_size} builders "
                                f"({brigades} × {self.brigade_size}), not {self.builders}", "brigade_split"))
        return faults


def build_kursk_border(seed: int = 2025, *, config: KurskBorderConfig | None = None) -> Scenario:
    """Build the ``kursk-border`` reference scenario for ``seed`` (deterministic; a few seconds)."""
    return _build(seed, config or KurskBorderConfig(), truth=False)[0]


def build_kursk_border_truth(seed: int = 2025, *, config: KurskBorderConfig | None = None
                             ) -> tuple[Scenario, tuple[AreaTruth, ...]]:
    """The scenario ``build_kursk_border`` builds, and its hidden truth: which areas hold devices and where
    (``_truth``; drawn from a stream of its own, so the scenario is the same). For benchmarks only."""
    return _build(seed, config or KurskBorderConfig(), truth=True)


def _build(seed: int, cfg: KurskBorderConfig, *, truth: bool) -> tuple[Scenario, tuple[AreaTruth, ...]]:
    rng = np.random.default_rng(seed)

    # Real geography, in a local equal-area projection centred on the oblast.
    oblast_wgs = _geodata.oblast(OBLAST)
    proj = LocalProjection.around(oblast_wgs)
    to_wgs = Transformer.from_crs(proj.crs, WGS84, always_xy=True)
    oblast = proj.to_local(oblast_wgs)
    assert isinstance(oblast, Polygon)
    shapely.prepare(oblast)
    section = border_section(proj.to_local(_geodata.border()), oblast)
    towns = {t.name: t for t in _geodata.towns()}
    missing = [n for n in (*cfg.zone_towns, *cfg.base_towns) if n not in towns]
    ValidationError.raise_if("kursk-border configuration", [
        Fault("config", f"no GeoNames town called {n!r} in {OBLAST}", "towns") for n in missing])
    real = [Place(t.name, t.population, _point(proj.to_local(t.point)), True) for t in towns.values()]

    # The synthetic contested zone and its front line (its boundary away from the border).
    anchors = [_point(proj.to_local(towns[n].point)) for n in cfg.zone_towns]
    zone, _ = contested_zone(oblast, section, anchors, target_m2=cfg.zone_area_km2 * 1e6,
                             extend_m=cfg.zone_border_extension_km * 1e3)
    front = zone.boundary.difference(oblast.boundary.buffer(300.0))
    frame = Frame(oblast=oblast, zone=zone, front=front, damage_scale_m=cfg.damage_scale_km * 1e3)
    inside = [n for n in cfg.base_towns if zone.contains(_point(proj.to_local(towns[n].point)))]
    ValidationError.raise_if("kursk-border configuration",
                             [Fault("config", f"base town {n!r} lies inside the contested zone", "base_towns")
                              for n in inside])

    # Synthetic villages and networks.
    villages = synthetic_villages(
        rng, frame, real, count=cfg.village_count, near_scale_m=cfg.village_near_scale_km * 1e3,
        floor=cfg.village_floor, min_spacing_m=cfg.village_spacing_km * 1e3,
        population=cfg.village_population)
    places = real + villages
    roads = road_network(rng, frame, places, extra_link_prob=cfg.extra_link_prob,
                         extra_link_max_m=cfg.extra_link_max_km * 1e3)
    rivers = synthetic_rivers(rng, frame, count=cfg.river_count, length_m=(60_000.0, 140_000.0))
    substations, power_lines = power_grid(rng, frame, places, min_population=cfg.substation_min_population)

    # Synthetic hazards and damaged assets.
    hazard_params = HazardParams(
        count=cfg.hazard_count, cha_share=cfg.cha_share, mix=cfg.hazard_mix,
        front_scale_m=cfg.front_scale_km * 1e3, depth_scale_m=cfg.depth_scale_km * 1e3,
        placement_attempts=cfg.placement_attempts, beneficiary_radius_m=cfg.beneficiary_radius_km * 1e3,
        sha_clearance_share=cfg.sha_clearance_share, cha_clearance_share=cfg.cha_clearance_share,
        sha_direct_evidence=cfg.sha_direct_evidence, sizes=cfg.hazard_sizes)
    hazard_drafts = synthetic_hazards(rng, frame, places, roads, list(rivers), hazard_params)
    asset_params = AssetParams(asset_count=cfg.asset_count, max_section_m=cfg.max_section_km * 1e3,
                               house_min_intensity=cfg.house_min_intensity, people_cap=cfg.people_cap)
    asset_drafts = synthetic_assets(rng, frame, places, roads, list(rivers), substations, power_lines,
                                    asset_params)

    hazard_geoms = to_wgs84_many([d.geometry for d in hazard_drafts], to_wgs)
    hazards = tuple(
        HazardArea(
            id=f"HZ-{k + 1:04d}",
            hazard_class=d.hazard_class,
            geometry=_valid_polygon(g),
            evidence=d.evidence,
            device_categories=d.devices,
            land_use=d.land_use,
            status=HazardStatus.OPEN,
            beneficiaries=d.beneficiaries,
            name=f"{d.hazard_class.value}-{k + 1:04d} (synthetic)",
            expected_clearance_share=d.clearance_share,
            synthetic=True,
        )
        for k, (d, g) in enumerate(zip(hazard_drafts, hazard_geoms, strict=True))
    )
    asset_geoms = to_wgs84_many([d.geometry for d in asset_drafts], to_wgs)
    assets = tuple(
        Asset(
            id=f"AS-{k + 1:04d}",
            asset_type=d.asset_type,
            geometry=g,
            damage=d.damage,
            repair_work=d.repair_work,
            criticality=d.criticality,
            people_served=d.people_served,
            name=d.name,
            synthetic=True,
        )
        for k, (d, g) in enumerate(zip(asset_drafts, asset_geoms, strict=True))
    )

    # Workforce, based at real towns outside the zone, nearest first.
    bases = sorted(cfg.base_towns, key=lambda n: (zone.distance(_point(proj.to_local(towns[n].point))), n))
    base_points = [towns[n].point for n in bases]
    teams = deminer_teams(cfg.team_split, dict(cfg.team_sizes), base_points,
                          productivity={Method.SURVEY: cfg.survey_m2_per_team_day})
    brigades = builder_brigades(cfg.brigade_split, cfg.brigade_size, base_points)

    village_points = to_wgs84_many([v.point for v in villages], to_wgs)
    settlements = tuple(
        [Settlement(t.name, t.population, t.point, _geodata.GEONAMES_SOURCE, False) for t in towns.values()]
        + [Settlement(v.name, v.population, _point(p), SYNTHETIC_SOURCE, True)
           for v, p in zip(villages, village_points, strict=True)]
    )
    zone_wgs = largest_polygon(proj.to_wgs84(zone))
    border_wgs = proj.to_wgs84(section)
    assert isinstance(border_wgs, LineString)
    hidden: tuple[AreaTruth, ...] = ()
    if truth:
        hidden = contamination_truth(np.random.default_rng([seed, TRUTH_STREAM]), frame, hazard_drafts,
                                     [h.id for h in hazards], to_wgs)
    return Scenario(
        name=SCENARIO_NAME,
        seed=seed,
        start_date=cfg.start_date,
        organisations=ORGANISATIONS,
        hazards=hazards,
        assets=assets,
        teams=tuple(teams),
        brigades=tuple(brigades),
        oblast=oblast_wgs,
        neighbours=tuple((n, _geodata.oblast(n)) for n in NEIGHBOURS),
        border=border_wgs,
        contested_zone=zone_wgs,
        settlements=settlements,
        attributions=(_geodata.NATURAL_EARTH_ATTRIBUTION, _geodata.GEONAMES_ATTRIBUTION),
        notes=_notes(cfg, {"hazards": len(hazards), "assets": len(assets), "villages": len(villages),
                           "roads": len(roads), "rivers": len(rivers), "substations": len(substations)}),
    ), hidden


def _point(geom: object) -> Point:
    assert isinstance(geom, Point)
    return geom


def _valid_polygon(geom: object) -> Polygon:
    """``geom`` as a valid polygon (the star-shaped hazards stay valid in WGS84; this guards rounding)."""
    assert isinstance(geom, Polygon)
    if geom.is_valid:
        return geom
    return largest_polygon(shapely.make_valid(geom))


def _notes(cfg: KurskBorderConfig, counts: dict[str, int]) -> tuple[str, ...]:
    """Plain statements of what is real, what is synthetic and what is assumed, with the figures used."""
    units = {AssetType.ROAD: " per km", AssetType.POWER_LINE: " per km"}
    work = ", ".join(f"{t.value.replace('_', ' ')} {lo:,.0f}–{hi:,.0f}{units.get(t, '')}"
                     for t, (lo, hi) in WORK_RANGES.items())
    return (
        "REAL: the Kursk Oblast outline, its neighbours and the Russia–Ukraine border (Natural Earth 1:10m, "
        "accurate to about 1 km) and the towns with their populations (GeoNames cities500; pre-war figures).",
        "REAL: the workforce totals (1,000 sappers, 5,000 builders) and the start date "
        f"{cfg.start_date.isoformat()}, the day that deployment was announced.",
        f"SYNTHETIC: the contested zone ({cfg.zone_area_km2:,.0f} km², within the ~1,000–1,300 km² reported "
        f"at the peak) is a construction around {', '.join(cfg.zone_towns)} and the border, not the real "
        "front line.",
        f"SYNTHETIC: all {counts['hazards']:,} hazard areas. Places, shapes, classes, devices, land use and "
        "expected clearance shares are generated; only their sizes follow a real distribution (BiH, BHMAC).",
        f"SYNTHETIC: all {counts['assets']:,} damaged assets and the networks they lie on: "
        f"{counts['villages']} villages, {counts['roads']} road links, {counts['rivers']} river stretches, "
        f"{counts['substations']} substations.",
        f"ASSUMPTION: repair work in builder-days, from light damage to destroyed: {work}.",
        "SYNTHETIC: the split of the workforce into teams and brigades, their organisations and bases. Team "
        "sizes and productivity follow sapper's METHOD_FIGURES; brigades have BRIGADE_SIZE builders.",
        "ASSUMPTION: damage is heaviest inside the zone and falls off as exp(−d / "
        f"{cfg.damage_scale_km:g} km) outside it; hazards are densest along the zone's boundary inside "
        "the oblast.",
        "ASSUMPTION: beneficiaries are the pre-war population of the nearest settlement within "
        f"{cfg.beneficiary_radius_km:g} km, scaled down linearly with distance.",
    )
