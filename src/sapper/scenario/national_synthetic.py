"""The scenario ``national-synthetic``: a national authority's register over several oblasts, for planning at scale.

The geography is real — every oblast outline the package ships (Natural Earth 1:10m: Kursk, Belgorod and Sumy Oblasts)
and the Russia–Ukraine border along them — and everything on it is *synthetic*: per oblast a contested zone along the
border, towns (outside Kursk Oblast, whose GeoNames towns are shipped), villages, roads, rivers, a power grid, hazard
areas and damaged assets, made by the same generators as ``kursk-border``; and one national workforce (3,500 deminers,
15,000 builders by default) based in towns of every oblast. Each oblast is a *region* of the plan
(``sapper plan --decompose``). Every synthetic record is flagged and named so (docs/scenario-national-synthetic.md).

``build_national_synthetic(seed)`` is deterministic: the same seed and configuration give the same scenario.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

from sapper.domain.assets import Asset
from sapper.domain.figures import BRIGADE_SIZE, METHOD_FIGURES, HazardSizeDistribution
from sapper.domain.geometry import WGS84, LocalProjection
from sapper.domain.hazards import HazardArea, HazardStatus
from sapper.domain.places import SYNTHETIC_SOURCE, Settlement
from sapper.domain.resources import Method, Trade
from sapper.errors import Fault, ValidationError
from sapper.scenario import _geodata
from sapper.scenario._assets import AssetParams, synthetic_assets
from sapper.scenario._hazards import HazardParams, synthetic_hazards
from sapper.scenario._network import Frame, Place, power_grid, road_network, synthetic_rivers, synthetic_villages
from sapper.scenario._synth import random_points_in, to_wgs84_many
from sapper.scenario._workforce import ORGANISATIONS, builder_brigades, deminer_teams
from sapper.scenario._zone import border_section, contested_zone, largest_polygon
from sapper.scenario.kursk_border import DEFAULT_BASE_TOWNS, DEFAULT_HAZARD_MIX
from sapper.scenario.model import Scenario

__all__ = ["SCENARIO_NAME", "NationalConfig", "NationalScenario", "OblastSpec", "build_national_synthetic"]

SCENARIO_NAME = "national-synthetic"

#: Teams per method for 3,500 deminers (kursk-border's split × 3.5, rounded so the sizes add up exactly).
NATIONAL_TEAM_SPLIT: tuple[tuple[Method, int], ...] = (
    (Method.SURVEY, 140), (Method.MANUAL, 157), (Method.DOG, 34), (Method.MECHANICAL, 64), (Method.BAC, 70),
)
#: Brigades per trade for 15,000 builders (kursk-border's split × 3).
NATIONAL_BRIGADE_SPLIT: tuple[tuple[Trade, int], ...] = (
    (Trade.ROAD, 120), (Trade.BRIDGE, 36), (Trade.POWER, 90), (Trade.WATER, 60), (Trade.BUILDING, 294),
)


@dataclass(frozen=True, slots=True)
class OblastSpec:
    """One region: a shipped Natural Earth oblast, its code (prefix of its records' ids) and its share of the hazards
    and assets."""

    name: str
    code: str
    share: float = 1.0


DEFAULT_OBLASTS: tuple[OblastSpec, ...] = (
    OblastSpec("Kursk Oblast", "KRS"), OblastSpec("Belgorod Oblast", "BEL"), OblastSpec("Sumy Oblast", "SUM"),
)


@dataclass(frozen=True, slots=True)
class NationalConfig:
    """The knobs of the scenario; every figure is an assumption (docs/scenario-national-synthetic.md)."""

    start_date: dt.date = dt.date(2025, 6, 17)
    oblasts: tuple[OblastSpec, ...] = DEFAULT_OBLASTS
    #: Totals over all oblasts, split by ``OblastSpec.share``.
    hazard_count: int = 25_500
    asset_count: int = 10_500
    #: Contested zone per oblast (km²) and synthetic villages per oblast.
    zone_area_km2: float = 2_000.0
    village_count: int = 300
    #: Synthetic towns per oblast without shipped GeoNames towns (population range).
    town_count: int = 12
    town_population: tuple[int, int] = (3_000, 60_000)
    deminers: int = 3_500
    team_split: tuple[tuple[Method, int], ...] = NATIONAL_TEAM_SPLIT
    builders: int = 15_000
    brigade_split: tuple[tuple[Trade, int], ...] = NATIONAL_BRIGADE_SPLIT
    brigade_size: int = BRIGADE_SIZE
    hazard_sizes: HazardSizeDistribution = field(default_factory=HazardSizeDistribution)

    def __post_init__(self) -> None:
        ValidationError.raise_if("national-synthetic configuration", self.faults())

    def faults(self) -> list[Fault]:
        rec = "config"
        faults: list[Fault] = []
        for name in ("hazard_count", "asset_count", "village_count", "town_count", "brigade_size"):
            if getattr(self, name) < 1:
                faults.append(Fault(rec, f"must be at least 1, got {getattr(self, name)}", name))
        if not self.oblasts:
            faults.append(Fault(rec, "name at least one oblast", "oblasts"))
        shipped = {n for n, _ in _geodata.oblasts()}
        faults.extend(Fault(rec, f"no shipped oblast called {o.name!r}", "oblasts") for o in self.oblasts
                      if o.name not in shipped)
        if len({o.code for o in self.oblasts}) != len(self.oblasts):
            faults.append(Fault(rec, "an oblast code is used twice", "oblasts"))
        if any(not o.share > 0 for o in self.oblasts):
            faults.append(Fault(rec, "oblast shares must be positive", "oblasts"))
        sizes = {m: f[1] for m, f in METHOD_FIGURES.items()}
        people = sum(n * sizes[m] for m, n in self.team_split)
        if people != self.deminers:
            faults.append(Fault(rec, f"teams add up to {people} deminers, not {self.deminers}", "team_split"))
        builders = sum(n for _, n in self.brigade_split) * self.brigade_size
        if builders != self.builders:
            faults.append(Fault(rec, f"brigades add up to {builders} builders, not {self.builders}", "brigade_split"))
        if not self.zone_area_km2 > 0:
            faults.append(Fault(rec, f"must be positive, got {self.zone_area_km2}", "zone_area_km2"))
        return faults

    def counts(self, total: int) -> list[int]:
        """``total`` split over the oblasts by share (largest remainder; the same split every time)."""
        shares = np.array([o.share for o in self.oblasts], dtype=float)
        raw = total * shares / shares.sum()
        out = np.floor(raw).astype(int)
        for k in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
            out[k] += 1
        return [max(1, int(x)) for x in out]


@dataclass(frozen=True)
class NationalScenario:
    """The scenario, and per region (oblast) its outline and its synthetic contested zone (WGS84)."""

    scenario: Scenario
    regions: tuple[tuple[str, Polygon], ...]
    zones: tuple[tuple[str, Polygon], ...]


def build_national_synthetic(seed: int = 2025, *, config: NationalConfig | None = None) -> NationalScenario:
    """Build ``national-synthetic`` for ``seed`` (deterministic)."""
    cfg = config or NationalConfig()
    hazard_counts = cfg.counts(cfg.hazard_count)
    asset_counts = cfg.counts(cfg.asset_count)
    hazards: list[HazardArea] = []
    assets: list[Asset] = []
    settlements: list[Settlement] = []
    bases: list[Point] = []
    regions: list[tuple[str, Polygon]] = []
    zones: list[tuple[str, Polygon]] = []
    for k, spec in enumerate(cfg.oblasts):
        part = _oblast(np.random.default_rng([seed, k]), spec, cfg, hazard_counts[k], asset_counts[k])
        hazards.extend(part.hazards)
        assets.extend(part.assets)
        settlements.extend(part.settlements)
        bases.extend(part.bases)
        regions.append((spec.name, part.outline))
        zones.append((spec.name, part.zone))
    # One national workforce, its bases interleaved over the oblasts (round-robin in ``deminer_teams``).
    per = [len(p) for p in _split(bases, len(cfg.oblasts))]
    order = _interleave(bases, per)
    sizes = {m: f[1] for m, f in METHOD_FIGURES.items()}
    teams = deminer_teams(cfg.team_split, sizes, order)
    brigades = builder_brigades(cfg.brigade_split, cfg.brigade_size, order)
    whole = largest_polygon(shapely.union_all([o.buffer(0.002) for _, o in regions]).buffer(-0.002))
    border = _geodata.border()
    line = border if isinstance(border, LineString) else max(border.geoms, key=lambda g: g.length)
    sc = Scenario(
        name=SCENARIO_NAME, seed=seed, start_date=cfg.start_date, organisations=ORGANISATIONS,
        hazards=tuple(hazards), assets=tuple(assets), teams=tuple(teams), brigades=tuple(brigades),
        oblast=whole, neighbours=tuple(regions), border=line, contested_zone=max((z for _, z in zones),
                                                                                  key=lambda z: z.area),
        settlements=tuple(settlements),
        attributions=(_geodata.NATURAL_EARTH_ATTRIBUTION, _geodata.GEONAMES_ATTRIBUTION),
        notes=_notes(cfg, len(hazards), len(assets)))
    return NationalScenario(sc, tuple(regions), tuple(zones))


@dataclass(frozen=True)
class _Part:
    outline: Polygon
    zone: Polygon
    hazards: list[HazardArea]
    assets: list[Asset]
    settlements: list[Settlement]
    bases: list[Point]


def _oblast(rng: np.random.Generator, spec: OblastSpec, cfg: NationalConfig, n_hazards: int, n_assets: int) -> _Part:
    outline_wgs = _geodata.oblast(spec.name)
    proj = LocalProjection.around(outline_wgs)
    to_wgs = Transformer.from_crs(proj.crs, WGS84, always_xy=True)
    oblast = proj.to_local(outline_wgs)
    assert isinstance(oblast, Polygon)
    shapely.prepare(oblast)
    section = border_section(proj.to_local(_geodata.border()), oblast)
    real: list[Place] = []
    settlements: list[Settlement] = []
    if spec.name == "Kursk Oblast":  # the only oblast whose GeoNames towns are shipped
        for t in _geodata.towns():
            p = proj.to_local(t.point)
            assert isinstance(p, Point)
            real.append(Place(t.name, t.population, p, True))
            settlements.append(Settlement(t.name, t.population, t.point, _geodata.GEONAMES_SOURCE, False))
        towns = {t.name: t for t in _geodata.towns()}
        anchors = [_local_point(proj, towns[n].point) for n in ("Sudzha", "Korenevo")]
    else:
        # Two anchors a few km inside the border, at a third and two thirds of its stretch along the oblast.
        centre = oblast.representative_point()
        anchors = []
        for frac in (0.35, 0.65):
            p = section.interpolate(frac, normalized=True)
            d = math.hypot(centre.x - p.x, centre.y - p.y) or 1.0
            anchors.append(Point(p.x + (centre.x - p.x) * 8_000.0 / d, p.y + (centre.y - p.y) * 8_000.0 / d))
    zone, _ = contested_zone(oblast, section, anchors, target_m2=cfg.zone_area_km2 * 1e6, extend_m=15_000.0)
    front = zone.boundary.difference(oblast.boundary.buffer(300.0))
    frame = Frame(oblast=oblast, zone=zone, front=front, damage_scale_m=8_000.0)
    if not real:
        lo, hi = cfg.town_population
        pts = random_points_in(rng, oblast, cfg.town_count)
        for i, p in enumerate(pts):
            pop = int(np.clip(round(float(rng.lognormal(math.log(8_000.0), 0.8))), lo, hi))
            real.append(Place(f"Town {spec.code}-{i + 1:02d} (synthetic)", pop, p, True))
    villages = [dataclasses.replace(v, name=v.name.replace("Village ", f"Village {spec.code}-"))
                for v in synthetic_villages(rng, frame, real, count=cfg.village_count, near_scale_m=10_000.0,
                                            floor=0.06, min_spacing_m=2_000.0, population=(50, 2_000))]
    places = real + villages
    roads = road_network(rng, frame, places, extra_link_prob=0.35, extra_link_max_m=15_000.0)
    rivers = synthetic_rivers(rng, frame, count=8, length_m=(60_000.0, 140_000.0))
    substations, power_lines = power_grid(rng, frame, places, min_population=500)
    hp = HazardParams(count=n_hazards, cha_share=0.30, mix=DEFAULT_HAZARD_MIX, front_scale_m=2_500.0,
                      depth_scale_m=10_000.0, placement_attempts=4, beneficiary_radius_m=5_000.0,
                      sha_clearance_share=(0.0, 0.15), cha_clearance_share=(0.2, 0.6), sha_direct_evidence=0.1,
                      sizes=cfg.hazard_sizes)
    hazard_drafts = synthetic_hazards(rng, frame, places, roads, list(rivers), hp)
    ap = AssetParams(asset_count=n_assets, max_section_m=5_000.0, house_min_intensity=0.25, people_cap=50_000)
    asset_drafts = synthetic_assets(rng, frame, places, roads, list(rivers), substations, power_lines, ap)
    hazard_geoms = to_wgs84_many([d.geometry for d in hazard_drafts], to_wgs)
    hazards = [
        HazardArea(id=f"{spec.code}-HZ-{k + 1:05d}", hazard_class=d.hazard_class, geometry=_valid_polygon(g),
                   evidence=d.evidence, device_categories=d.devices, land_use=d.land_use, status=HazardStatus.OPEN,
                   beneficiaries=d.beneficiaries, name=f"{spec.code} {d.hazard_class.value}-{k + 1:05d} (synthetic)",
                   expected_clearance_share=d.clearance_share, synthetic=True)
        for k, (d, g) in enumerate(zip(hazard_drafts, hazard_geoms, strict=True))
    ]
    asset_geoms = to_wgs84_many([d.geometry for d in asset_drafts], to_wgs)
    assets = [
        Asset(id=f"{spec.code}-AS-{k + 1:05d}", asset_type=d.asset_type, geometry=g, damage=d.damage,
              repair_work=d.repair_work, criticality=d.criticality, people_served=d.people_served,
              name=f"{spec.code} {d.name}", synthetic=True)
        for k, (d, g) in enumerate(zip(asset_drafts, asset_geoms, strict=True))
    ]
    synth_places = [p for p in places if not p.real or spec.name != "Kursk Oblast"]
    synth_points = to_wgs84_many([p.point for p in synth_places], to_wgs)
    settlements += [Settlement(p.name, p.population, _as_point(q), SYNTHETIC_SOURCE, True)
                    for p, q in zip(synth_places, synth_points, strict=True)]
    # Bases: the towns outside the zone, nearest to it first (Kursk: kursk-border's base towns).
    if spec.name == "Kursk Oblast":
        base_places = [p for p in real if p.name in DEFAULT_BASE_TOWNS]
    else:
        base_places = [p for p in real if not zone.contains(p.point)]
    base_places.sort(key=lambda p: (zone.distance(p.point), p.name))
    base_points = [_as_point(g) for g in to_wgs84_many([p.point for p in base_places[:8]], to_wgs)]
    return _Part(outline_wgs, largest_polygon(proj.to_wgs84(zone)), hazards, assets, settlements, base_points)


def _local_point(proj: LocalProjection, p: Point) -> Point:
    return _as_point(proj.to_local(p))


def _as_point(geom: object) -> Point:
    assert isinstance(geom, Point)
    return geom


def _valid_polygon(geom: object) -> Polygon:
    assert isinstance(geom, Polygon)
    return geom if geom.is_valid else largest_polygon(shapely.make_valid(geom))


def _split(points: list[Point], n: int) -> list[list[Point]]:
    size = math.ceil(len(points) / n) if n else 0
    return [points[i * size:(i + 1) * size] for i in range(n)]


def _interleave(points: list[Point], per: list[int]) -> list[Point]:
    """The bases taken in turn from each oblast, so round-robin spreads teams over every oblast."""
    groups: list[list[Point]] = []
    at = 0
    for n in per:
        groups.append(points[at:at + n])
        at += n
    out: list[Point] = []
    for i in range(max(per, default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def _notes(cfg: NationalConfig, n_hazards: int, n_assets: int) -> tuple[str, ...]:
    names = ", ".join(o.name for o in cfg.oblasts)
    return (
        f"REAL: the outlines of {names} and the Russia–Ukraine border (Natural Earth 1:10m), and Kursk Oblast's "
        "towns (GeoNames cities500; pre-war figures).",
        f"SYNTHETIC: this is not a real programme. The workforce ({cfg.deminers:,} deminers, {cfg.builders:,} "
        "builders), its split into teams and brigades and their bases are assumptions sized for a national "
        "authority.",
        f"SYNTHETIC: one contested zone of {cfg.zone_area_km2:,.0f} km² per oblast along the border (not a real "
        "front line), and outside Kursk Oblast the towns too.",
        f"SYNTHETIC: all {n_hazards:,} hazard areas and all {n_assets:,} damaged assets, with the villages, roads, "
        "rivers and power grids they lie on, made by kursk-border's generators per oblast.",
    )
