"""The situation report's overview map: zoomed to where the work is (the bounding box of the hazards and assets
with a margin), the whole region as an inset in the top-right corner with the zoomed frame drawn on it.

Hazardous areas are filled by their land-release state (warm colours: suspected, confirmed; grey and blue: released,
handed over); assets are drawn over them as lines and dots with a white halo, coloured by the period of their planned
restoration (a sequential light-to-dark ramp; grey: not planned). The legend is HTML in the page (translated), built
from :func:`hazard_styles` and the date bins. Drawing helpers are shared with :mod:`sapper.report.mapview`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import LocalProjection
from sapper.domain.landrelease import ReleaseState
from sapper.report.i18n import Speaker
from sapper.report.mapview import (
    CONTEXT_COLOURS,
    MapOptions,
    context_style,
    criticality_radius,
    criticality_width,
    draw_context,
    draw_outline,
    draw_towns,
    frame_height,
    hatch_pattern,
    is_areal,
    view_bounds_m,
    work_extent,
)
from sapper.report.series import DateBins
from sapper.report.sitdata import SituationData
from sapper.report.svg import Viewport, circle, el, nice_step, num, path_d, point_xy, svg_root, text

#: Fill colours of hazardous areas by land-release state (drawn in this order: open land on top).
HAZARD_COLOURS = {
    ReleaseState.HANDED_OVER: "#56B4E9",
    ReleaseState.RELEASED: "#9E9E9E",
    ReleaseState.SUSPECTED: "#F4A259",
    ReleaseState.CONFIRMED: "#C0392B",
}
INSET_W, INSET_H = 210.0, 160.0
#: With fewer hazardous areas (or assets) than this, the zoomed map shows all of them.
FOCUS_MIN = 20
#: The classes the shared drawing helpers use, styled inside the figure (WeasyPrint does not apply the page's CSS to
#: inline SVG).
_STYLE = (
    "<style>"
    ".outline{fill:#f3f1ea;stroke:#6e7781;stroke-width:1.2}"
    ".town{fill:#24292f;stroke:#fff;stroke-width:1}.village{fill:#6e7781}"
    ".town-label{font-family:'DejaVu Sans',sans-serif;font-size:10.5px;font-weight:bold;fill:#1f2328;"
    "stroke:none}"
    ".town-label.major{font-size:12px}"
    ".halo-box{fill:#fff;fill-opacity:0.85}.scalebar{fill:none;stroke:#24292f;stroke-width:1.5}"
    ".tick{font-family:'DejaVu Sans',sans-serif;font-size:11px;fill:#57606a}"
    "</style>"
)


def hazard_styles() -> dict[ReleaseState, str]:
    return dict(HAZARD_COLOURS)


def bin_label(sp: Speaker, start: dt.date, end: dt.date, step_months: int) -> str:
    """A date bin's label in the report's language: ``2026``, or ``Jan 2026 – Mar 2026``."""
    last = end - dt.timedelta(days=1)
    if step_months % 12 == 0:
        return str(start.year) if step_months == 12 else f"{start.year}–{last.year}"
    if step_months == 1:
        return sp.fmt_month(start)
    return f"{sp.fmt_month(start)} – {sp.fmt_month(last)}"


def _inset(outline: BaseGeometry | None, context: Sequence[tuple[str, BaseGeometry]], zoom: Viewport,
           x0: float, y0: float, hazards: Sequence[tuple[ReleaseState, BaseGeometry]] = ()) -> str:
    frame = box(*view_bounds_m(zoom))
    whole = frame if outline is None else frame.union(box(*outline.bounds))
    view = Viewport(whole.bounds, x0 + 4, y0 + 4, INSET_W - 8, INSET_H - 8)
    tol = 0.5 / view.scale
    parts = [el("rect", x=x0, y=y0, width=INSET_W, height=INSET_H, fill="#ffffff", stroke="#57606a",
                stroke_width=1.0)]
    if outline is not None:
        parts.append(el("path", d=path_d(view.project([shapely.simplify(outline, tol)])[0]), fill="#f3f1ea",
                        stroke="#6e7781", stroke_width=0.8))
    for i, (name, geom) in enumerate(context):
        style = context_style(i, name, is_areal(geom))
        style["stroke_width"] = 0.8
        parts.append(el("path", d=path_d(view.project([shapely.simplify(geom, tol)])[0]), **style))
    if hazards:  # every hazardous area as a dot: those outside the zoomed frame are seen here
        centres = view.project(shapely.centroid(np.asarray([g for _, g in hazards], dtype=object)))
        parts += [circle(p.x, p.y, 1.3, fill=HAZARD_COLOURS[s]) for (s, _), p in zip(hazards, centres, strict=True)]
    parts.append(el("path", d=path_d(view.project([frame.exterior])[0]), fill="none", stroke="#cf222e",
                    stroke_width=1.6))
    return el("g", "".join(parts), cls="inset")


def scale_bar(view: Viewport, height: float, sp: Speaker) -> str:
    most = view.width / view.scale / 6.0  # the longest 1-2-5 length within a sixth of the width
    metres = max(m for m in (nice_step(most, 1) / k for k in (1, 2, 2.5, 5)) if m <= most)
    length = metres * view.scale
    x, y = 16.0, height - 18.0
    label = sp._("{n} km").format(n=sp.fmt_num(metres / 1000, digits=1)) if metres >= 1000 else sp._(
        "{n} m").format(n=sp.fmt_int(metres))
    return el("g", el("rect", x=x - 6, y=y - 18, width=length + 12, height=28.0, cls="halo-box")
              + el("path", d=f"M{num(x)} {num(y - 4)}V{num(y)}H{num(x + length)}V{num(y - 4)}", cls="scalebar")
              + text(x + length / 2, y - 6, label, cls="tick", text_anchor="middle"))


def focus(geoms: Sequence[BaseGeometry]) -> list[BaseGeometry]:
    """The geometries the zoomed map must show: all of them when there are few; else those whose centre lies within
    the 5th to 95th percentile of the centres east-west and north-south (a few areas far from the rest, such as an
    isolated suspected area at the other end of the region, would otherwise zoom the map out to the whole region:
    they are counted under the map and drawn on the inset)."""
    shown = [g for g in geoms if not g.is_empty]
    if len(shown) < FOCUS_MIN:
        return shown
    c = shapely.get_coordinates(shapely.centroid(np.asarray(shown, dtype=object)))
    lo, hi = np.percentile(c, 5, axis=0), np.percentile(c, 95, axis=0)
    inside = np.all((c >= lo) & (c <= hi), axis=1)
    return [g for g, keep in zip(shown, inside, strict=True) if keep]


@dataclass(frozen=True)
class MapFigure:
    """The map's ``<svg>`` and how many hazardous areas and assets lie outside its frame (not drawn on it)."""

    svg: str
    hazards_outside: int
    assets_outside: int


def map_svg(data: SituationData, bins: DateBins, sp: Speaker, *, width: float = 1000.0,
            simplify_m: float = 20.0) -> MapFigure:
    """The map (no legend: the page carries it)."""
    geoms = [h.geometry for h in data.hazards] + [a.geometry for a in data.assets]
    shown = [g for g in geoms if not g.is_empty]
    if not shown:
        return MapFigure(svg_root(width, 40.0, ""), 0, 0)
    outline = data.outline if data.outline is not None and not data.outline.is_empty else None
    proj = LocalProjection.around(outline if outline is not None else
                                  box(*shapely.total_bounds(np.asarray(shown, dtype=object))))
    hazards_m = [proj.to_local(h.geometry) for h in data.hazards]
    assets_m = [proj.to_local(a.geometry) for a in data.assets]
    towns_m = [proj.to_local(t.point) for t in data.towns]
    outline_m = proj.to_local(outline) if outline is not None else None
    context_m = [(name, proj.to_local(g)) for name, g in data.context if not g.is_empty]

    # Zoomed to the hazardous areas (where the work is; assets are spread over the whole region), else the assets.
    extent = work_extent(focus(hazards_m) or focus(assets_m), outline_m, towns_m)
    height = min(frame_height(extent, width), 720.0)
    view = Viewport(extent, 0.0, 0.0, width, height)
    tol = max(simplify_m, 0.4 / view.scale)
    frame = box(*view_bounds_m(view))
    defs = [el("clipPath", el("rect", x=0.0, y=0.0, width=width, height=height), id="sit-map-clip"),
            *(hatch_pattern(i, c) for i, c in enumerate(CONTEXT_COLOURS))]
    body = [el("rect", x=0.0, y=0.0, width=width, height=height, fill="#eceff1")]
    if outline_m is not None:
        body.append(draw_outline(outline_m, view, frame, tol))
    body.append(draw_context(context_m, view, frame, tol))

    px = view.project(shapely.simplify(np.asarray(hazards_m, dtype=object), tol))
    for state, colour in HAZARD_COLOURS.items():
        paths = [el("path", d=d) for i, h in enumerate(data.hazards) if h.state is state and (d := path_d(px[i]))]
        if paths:
            body.append(el("g", "".join(paths), fill=colour, stroke="#3d3d3d", stroke_width=0.5,
                           fill_opacity=0.85))

    apx = view.project(shapely.simplify(np.asarray(assets_m, dtype=object), tol))
    lines, points = [], []
    for i in sorted(range(len(data.assets)), key=lambda i: data.assets[i].criticality):
        a, g = data.assets[i], apx[i]
        if g is None or g.is_empty:
            continue
        colour = bins.colour(a.restore_date)
        if "Point" in g.geom_type or "Polygon" in g.geom_type:
            c = g.centroid if "Polygon" in g.geom_type else g
            r = criticality_radius(a.criticality) + 0.6
            points += [circle(x, y, r, fill=colour, stroke="#ffffff", stroke_width=0.8) for x, y in point_xy(c)]
        else:
            w = criticality_width(a.criticality) + 0.4
            d = path_d(g)
            lines.append(el("path", d=d, stroke="#ffffff", stroke_width=w + 1.6, fill="none"))
            lines.append(el("path", d=d, stroke=colour, stroke_width=w, fill="none", stroke_linecap="round"))
    body.append(el("g", "".join(lines)) + el("g", "".join(points)))
    body.append(draw_towns(data.towns, towns_m, view, MapOptions(width=width, label_min_population=5000)))
    body.append(scale_bar(view, height, sp))
    figure = el("g", "".join(body), clip_path="url(#sit-map-clip)")
    figure += el("rect", x=0.5, y=0.5, width=width - 1.0, height=height - 1.0, fill="none", stroke="#8c959f")
    if outline_m is not None:  # without a region outline the inset would show the frame alone
        figure += _inset(outline_m, context_m, view, width - INSET_W - 8.0, 8.0,
                         [(h.state, g) for h, g in zip(data.hazards, hazards_m, strict=True) if not g.is_empty])
    h_out = sum(1 for g in hazards_m if not g.is_empty and not g.intersects(frame))
    a_out = sum(1 for g in assets_m if not g.is_empty and not g.intersects(frame))
    return MapFigure(svg_root(width, height, _STYLE + el("defs", "".join(defs)) + figure, cls="map", role="img"),
                     h_out, a_out)
