"""The latest plan's Gantt chart and burn-down as standalone SVG or PNG files (``sapper export gantt|burndown``).

The Gantt chart is the situation report's (:mod:`sapper.report.gantt`): every team and brigade, grouped by
organisation and role, units without planned work shown as empty lanes, on one tall page with a title and the
legend. The burn-down is the plan's hazard area left to release (km²) and assets left to restore over time, read
from the saved plan (:func:`sapper.services.planview.burndown`), drawn by Vega-Lite (vl-convert, offline). A PNG is
the SVG rasterised by vl-convert's resvg with the shipped DejaVu Sans (Cyrillic included) at twice the size. Both
are written whole or not at all.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import vl_convert as vlc

from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.io.exports import readable
from sapper.messages import msg
from sapper.report.gantt import HEAD_H, ROW_H, domain_of, legend_svg, page_svg, pages, rows
from sapper.report.i18n import Lang, Speaker
from sapper.report.sitdata import gather
from sapper.report.svg import el, svg_root, text
from sapper.report.vega import FONT, PALETTE, render
from sapper.services.planview import NO_PLAN, burndown, gantt
from sapper.store import open_store

#: PNG pixels per SVG pixel.
PNG_SCALE = 2.0
#: Rows between two month axes of the standalone Gantt chart.
ROWS_PER_BLOCK = 60
_SUFFIXES = (".svg", ".png")


def _check(path: Path) -> None:
    if path.suffix.lower() not in _SUFFIXES:
        what = path.suffix or "a file without a suffix"
        raise ValidationError(msg("export"), [Fault(msg("export"),
                                                    msg("cannot draw a chart as {what}: use .svg or .png",
                                                             what=what), "file")])


@lru_cache(maxsize=1)
def _fonts() -> None:
    vlc.register_font_directory(str(resources.files("sapper").joinpath("report", "fonts")))


def _write(svg: str, path: Path) -> None:
    """``svg`` to ``path`` as SVG or PNG, through a temporary file renamed into place."""
    if path.suffix.lower() == ".png":
        _fonts()
        data = bytes(vlc.svg_to_png(svg, scale=PNG_SCALE))
    else:
        data = svg.encode("utf-8")
    fd, name = tempfile.mkstemp(prefix=".sapper-", suffix=path.suffix, dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        readable(Path(name))
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)


def gantt_svg(db: str | Path, sp: Speaker) -> tuple[str, int]:
    """The Gantt chart of the latest plan as one SVG, and the number of lanes (teams and brigades)."""
    data = gather(db, forecast_runs=0)
    if not data.has_plan:
        raise NotFoundError(NO_PLAN)
    with open_store(db) as store:
        synthetic = data.synthetic or gantt(store).synthetic
    all_rows = rows(data.units, data.bars, sp)
    domain = domain_of(data.bars, data.plan_start or data.start_date)
    legend = legend_svg(sp)
    head = sp._("Schedule of teams and brigades")
    if data.plan_at is not None:
        head += " — " + sp._("plan of {date}").format(date=sp.fmt_date(data.plan_at.date()))
    if synthetic:
        head += " — " + sp._("synthetic data")
    # Blocks of at most ROWS_PER_BLOCK rows stacked on one page, each with its month axis (a long chart stays
    # readable far from the top), a group carried over repeating its heading, as the report's pages do.
    charts: list[str] = []
    y = 48.0
    for block in pages(all_rows, ROWS_PER_BLOCK, sp):
        charts.append(page_svg(block, domain, sp).replace("<svg ", f'<svg y="{y:g}" ', 1))
        y += HEAD_H + ROW_H * len(block) + 4.0  # as page_svg draws it
    width = 1000.0
    body = (el("rect", x=0.0, y=0.0, width=width, height=y, fill="#ffffff")
            + text(4.0, 18.0, head, font_size=14, font_weight="bold")
            + legend.replace("<svg ", '<svg y="24" ', 1) + "".join(charts))
    lanes = sum(1 for r in all_rows if r.unit is not None)
    return svg_root(width, y, body, font_family=f"{FONT}, sans-serif"), lanes


def write_gantt(db: str | Path, path: str | Path, *, lang: str | None = None) -> int:
    """Write the Gantt chart of ``db``'s latest plan to ``path`` (.svg or .png); returns the number of lanes."""
    target = Path(path)
    _check(target)
    svg, lanes = gantt_svg(db, Speaker(Lang.parse(lang)))
    _write(svg, target)
    return lanes


def burndown_svg(db: str | Path, sp: Speaker) -> str:
    """Hazard area left to release and assets left to restore over the latest plan, as one SVG."""
    with open_store(db) as store:
        b = burndown(store)
    area, assets = sp._("hazard area left to release, km²"), sp._("assets left to restore")
    values = [{"d": p.date.isoformat(), "v": round(b.total_km2 - p.released_km2, 4), "s": area} for p in b.points]
    counts = [{"d": p.date.isoformat(), "v": b.total_assets - p.restored_assets, "s": assets} for p in b.points]
    x = {"field": "d", "type": "temporal", "title": None, "axis": {"format": "%b %Y", "labelAngle": 0}}

    def panel(data: list[dict[str, object]], title: str, colour: str) -> dict[str, object]:
        return {"width": 640, "height": 200, "data": {"values": data},
                "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2.5, "color": colour},
                "encoding": {"x": x, "y": {"field": "v", "type": "quantitative", "title": title}}}

    heading = sp._("Burn-down of the plan")
    if b.synthetic:
        heading += " — " + sp._("synthetic data")
    return render({"title": {"text": heading, "anchor": "start", "fontSize": 14},
                   "vconcat": [panel(values, area, PALETTE[2]), panel(counts, assets, PALETTE[0])]}, sp)


def write_burndown(db: str | Path, path: str | Path, *, lang: str | None = None) -> None:
    """Write the burn-down of ``db``'s latest plan to ``path`` (.svg or .png)."""
    target = Path(path)
    _check(target)
    _write(burndown_svg(db, Speaker(Lang.parse(lang))), target)
