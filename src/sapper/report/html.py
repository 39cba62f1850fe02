"""The plan report as one self-contained HTML file: inline CSS and SVG, no script, no network.

``render_report(data)`` returns the page; ``write_report(data, path)`` writes it (UTF-8). The Jinja2
environment escapes everything from the data; the SVG figures are built by :mod:`sapper.report.mapview` and
:mod:`sapper.report.charts`, which escape every name they draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from sapper.report.charts import area_burndown_svg, gantt_svg, restored_svg
from sapper.report.mapview import MapOptions, map_svg
from sapper.report.model import CRITICAL_FROM, ReportData
from sapper.report.series import (
    critical_share_pct,
    date_bins,
    gantt_lanes,
    gap_pct,
    improvement_pct,
    remaining_area_km2,
    restored_share_pct,
    time_domain,
)

SYNTHETIC_BANNER = (
    "SYNTHETIC DATA — hazards, assets, villages and workforce are generated for planning practice, not real"
)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("sapper.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def fmt_number(v: float | None) -> str:
    """A plan figure for people: thousands separators, few decimals; an em dash for ``None``."""
    if v is None:
        return "—"
    if abs(v) >= 1000 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.3g}" if abs(v) < 1 else f"{v:,.2f}"


def fmt_pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f} %"


@dataclass(frozen=True)
class QualityLine:
    """The plan-quality figures as shown: status, objective, greedy baseline, lower bound and two ratios."""

    status: str
    objective: str
    baseline: str
    lower_bound: str
    improvement: str
    gap: str


def quality_line(data: ReportData) -> QualityLine:
    return QualityLine(
        status=data.plan_status or "no plan",
        objective=fmt_number(data.objective),
        baseline=fmt_number(data.baseline_objective),
        lower_bound=fmt_number(data.lower_bound),
        improvement=fmt_pct(improvement_pct(data.objective, data.baseline_objective)),
        gap=fmt_pct(gap_pct(data.objective, data.lower_bound)),
    )


def render_report(data: ReportData, *, map_options: MapOptions | None = None) -> str:
    """The report page for ``data`` as an HTML string (opens offline; readable without JavaScript)."""
    domain = time_domain(data)
    start = domain[0]
    bins = date_bins([h.release_date for h in data.hazards] + [a.restore_date for a in data.assets])
    groups = gantt_lanes(data.bars)
    area = remaining_area_km2(data.hazards, start=start)
    restored_all = restored_share_pct(data.assets, start=start)
    restored_critical = critical_share_pct(data.assets, start=start)

    generated = data.generated_at.isoformat(sep=" ", timespec="minutes")
    context = {
        "data": data,
        "banner": SYNTHETIC_BANNER,
        "seed": "—" if data.seed is None else str(data.seed),
        "generated": generated,
        "quality": quality_line(data),
        "counts": {
            "hazards": len(data.hazards),
            "hazards_planned": sum(h.release_date is not None for h in data.hazards),
            "hazard_km2": sum(h.area_m2 for h in data.hazards) / 1e6,
            "assets": len(data.assets),
            "assets_planned": sum(a.restore_date is not None for a in data.assets),
            "critical": sum(a.criticality >= CRITICAL_FROM for a in data.assets),
            "lanes": sum(len(g.lanes) for g in groups),
            "bars": len(data.bars),
            "groups": len(groups),
        },
        "critical_from": CRITICAL_FROM,
        "domain": domain,
        "bins": bins,
        # The figures are markup built from escaped parts (see sapper.report.svg.esc).
        "map_svg": Markup(map_svg(data, bins, options=map_options)),
        "gantt_svg": Markup(gantt_svg(groups, domain, start_date=data.start_date)),
        "area_svg": Markup(area_burndown_svg(area, domain, start_date=data.start_date)),
        "restored_svg": Markup(
            restored_svg(restored_all, restored_critical, domain, start_date=data.start_date)
        ),
    }
    return _environment().get_template("report.html.j2").render(context)


def write_report(data: ReportData, path: str | Path, *, map_options: MapOptions | None = None) -> Path:
    """Render ``data`` and write it to ``path`` (UTF-8), creating parent folders; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data, map_options=map_options), encoding="utf-8")
    return out
