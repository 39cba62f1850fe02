"""Build synthetic report data in code (for the report tests and the sample-report script). Not a test module.

Everything here is generated from a seed: hazards near Sudzha and Korenevo with BiH-like sizes, roads, power
lines and buildings, a rough region outline, a few real town positions and synthetic villages, and team tasks.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import LocalProjection
from sapper.report.model import GanttBar, MapAsset, MapHazard, ReportData, SummaryRow, Town

CENTRE = LocalProjection(lon=35.1, lat=51.3)
START = dt.date(2025, 7, 1)
#: (lane group, lane prefix, share of lanes, kind)
LANE_GROUPS = (
    ("surveyors · NTS/TS", "T-SUR", 0.06, "survey"),
    ("deminers · manual", "T-MAN", 0.60, "clearance"),
    ("deminers · dogs", "T-MDD", 0.09, "clearance"),
    ("deminers · mechanical", "T-MEC", 0.06, "clearance"),
    ("builders · road", "B-ROAD", 0.09, "repair"),
    ("builders · power", "B-PWR", 0.06, "repair"),
    ("builders · housing", "B-HOU", 0.04, "repair"),
)
REAL_TOWNS = (
    ("Kursk", 448_733, 36.19, 51.73),
    ("L'gov", 23_500, 35.27, 51.66),
    ("Ryl'sk", 15_600, 34.68, 51.57),
    ("Sudzha", 6_940, 35.27, 51.19),
    ("Korenevo", 6_236, 34.91, 51.41),
    ("Glushkovo", 5_000, 34.64, 51.34),
)


def _to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    return CENTRE.to_wgs84(geom)


def region_outline(n: int = 720) -> Polygon:
    """A rough, wobbly oval standing in for the oblast outline (WGS84)."""
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    r = 1.0 + 0.06 * np.sin(7 * t) + 0.03 * np.cos(13 * t)
    return Polygon(np.column_stack([36.3 + 2.1 * r * np.cos(t), 51.6 + 0.8 * r * np.sin(t)]))


def border_line() -> LineString:
    return LineString(
        [(34.1, 51.45), (34.5, 51.25), (35.0, 51.05), (35.4, 51.0), (35.9, 50.85), (36.5, 50.6)]
    )


def _hazard_polygon(rng: np.random.Generator, cx: float, cy: float, area: float) -> Polygon:
    n = int(rng.integers(7, 14))
    angles = np.sort(rng.uniform(0, 2 * math.pi, n))
    radii = rng.uniform(0.7, 1.3, n)
    poly = Polygon(np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)]))
    k = math.sqrt(area / poly.area) if poly.area > 0 else 1.0
    pts = np.column_stack([cx + k * radii * np.cos(angles), cy + k * radii * np.sin(angles)])
    return Polygon(pts)


def _date(rng: np.random.Generator, lo: int, hi: int, *, none_share: float) -> dt.date | None:
    if rng.random() < none_share:
        return None
    return START + dt.timedelta(days=int(rng.integers(lo, hi)))


def make_hazards(rng: np.random.Generator, n: int, *, horizon_days: int = 900) -> tuple[MapHazard, ...]:
    """``n`` hazards around two centres, areas log-normal (median ~40,000 m²), 5 % with no planned release."""
    out = []
    centres = [(CENTRE.to_local(Point(35.27, 51.19))), (CENTRE.to_local(Point(34.91, 51.41)))]
    for i in range(n):
        c = centres[i % 2]
        x, y = c.x + rng.normal(0, 9_000), c.y + rng.normal(0, 7_000)
        area = float(min(3.0e6, rng.lognormal(math.log(39_562), 1.1)))
        geom = _to_wgs84(_hazard_polygon(rng, x, y, area))
        out.append(
            MapHazard(
                id=f"H-{i + 1:04d}",
                name=f"Field {i + 1} (synthetic)",
                hazard_class="CHA" if rng.random() < 0.3 else "SHA",
                geometry=geom,
                area_m2=area,
                release_date=_date(rng, 0, horizon_days, none_share=0.05),
            )
        )
    return tuple(out)


def make_assets(rng: np.random.Generator, n: int, *, horizon_days: int = 900) -> tuple[MapAsset, ...]:
    """``n`` assets: a third roads, a sixth power lines, the rest buildings (points)."""
    out = []
    for i in range(n):
        x, y = rng.normal(-5_000, 12_000), rng.normal(-6_000, 9_000)
        kind = i % 6
        geom: BaseGeometry
        if kind in (0, 1):
            steps = rng.normal(0, 400, (15, 2)) + np.array([600.0, 150.0])
            geom = LineString(np.cumsum(np.vstack([[x, y], steps]), axis=0))
            asset_type = "road"
        elif kind == 2:
            geom = LineString([(x, y), (x + rng.normal(0, 6_000), y + rng.normal(0, 6_000))]).segmentize(500)
            asset_type = "power line"
        else:
            geom = Point(x, y)
            asset_type = ("house", "school", "substation")[i % 3]
        out.append(
            MapAsset(
                id=f"A-{i + 1:04d}",
                name=f"{asset_type.title()} {i + 1} (synthetic)",
                asset_type=asset_type,
                geometry=_to_wgs84(geom),
                criticality=int(rng.integers(1, 6)),
                restore_date=_date(rng, 60, horizon_days + 120, none_share=0.05),
            )
        )
    return tuple(out)


def make_towns(rng: np.random.Generator, n_villages: int) -> tuple[Town, ...]:
    real = [Town(name, pop, Point(lon, lat), synthetic=False) for name, pop, lon, lat in REAL_TOWNS]
    villages = []
    for i in range(n_villages):
        p = _to_wgs84(Point(rng.normal(-3_000, 15_000), rng.normal(-4_000, 11_000)))
        villages.append(Town(f"Village {i + 1}", int(rng.integers(40, 900)), p, synthetic=True))
    return tuple(real + villages)


def make_bars(rng: np.random.Generator, n_bars: int, n_lanes: int) -> tuple[GanttBar, ...]:
    """About ``n_bars`` tasks over ``n_lanes`` lanes, back to back or with gaps; no clearance in winter."""
    lanes: list[tuple[str, str, str]] = []
    for group, prefix, share, kind in LANE_GROUPS:
        for j in range(max(1, round(n_lanes * share))):
            lanes.append((f"{prefix}-{j + 1:03d}", group, kind))
    per_lane = max(1, n_bars // len(lanes))
    out: list[GanttBar] = []
    for lane, group, kind in lanes:
        day = START + dt.timedelta(days=int(rng.integers(0, 20)) + (120 if kind == "repair" else 0))
        for k in range(per_lane):
            if kind == "clearance" and day.month in (12, 1, 2):
                day = dt.date(day.year + (day.month == 12), 3, 1)
            length = int(rng.integers(2, 30))
            end = day + dt.timedelta(days=length - 1)
            out.append(GanttBar(lane, group, f"{kind[:3].upper()}-{lane}-{k + 1}", kind, day, end))
            day = end + dt.timedelta(days=int(rng.choice([1, 1, 2, 3, 8])))
    return tuple(out[:n_bars])


def make_report_data(
    *,
    n_hazards: int = 12,
    n_assets: int = 9,
    n_bars: int = 40,
    n_lanes: int = 8,
    n_villages: int = 10,
    synthetic: bool = True,
    seed: int = 7,
    outline: BaseGeometry | None = None,
    context: tuple[tuple[str, BaseGeometry], ...] | None = None,
) -> ReportData:
    """A complete, plausible :class:`ReportData`, all generated from ``seed``."""
    rng = np.random.default_rng(seed)
    hazards = make_hazards(rng, n_hazards)
    assets = make_assets(rng, n_assets)
    total_km2 = sum(h.area_m2 for h in hazards) / 1e6
    zone = CENTRE.to_wgs84(CENTRE.to_local(Point(35.1, 51.3)).buffer(24_000, 32))
    return ReportData(
        title="Land release and reconstruction plan",
        generated_at=dt.datetime(2025, 6, 20, 9, 30, tzinfo=dt.UTC),
        scenario="kursk-border",
        seed=seed,
        start_date=START,
        synthetic=synthetic,
        notes=("Hazards, damage and networks are synthetic.", "Town positions: GeoNames."),
        attributions=("Outlines: Natural Earth (public domain)", "Towns: GeoNames (geonames.org), CC BY 4.0"),
        outline=region_outline() if outline is None else outline,
        context=(("border", border_line()), ("contested zone (synthetic)", zone))
        if context is None
        else context,
        towns=make_towns(rng, n_villages),
        hazards=hazards,
        assets=assets,
        bars=make_bars(rng, n_bars, n_lanes),
        summary=(
            SummaryRow("Hazardous areas", f"{len(hazards):,}", f"{total_km2:,.1f} km²"),
            SummaryRow("Assets", f"{len(assets):,}"),
            SummaryRow("Teams and brigades", f"{n_lanes:,}", "synthetic workforce"),
        ),
        plan_status="FEASIBLE",
        objective=1_234_567.0,
        baseline_objective=1_500_000.0,
        lower_bound=1_100_000.0,
    )
