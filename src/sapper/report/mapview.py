"""The report map: hazards and assets coloured by planned date, zoomed on the work; an overview; a legend.

WGS84 geometry is projected to metres with :class:`~sapper.domain.geometry.LocalProjection`, simplified in
metres for display, then fitted into a pixel frame (y flipped). Each hazard and asset has a hover ``<title>``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import LocalProjection
from sapper.report.model import MapAsset, MapHazard, ReportData, Town
from sapper.report.series import NOT_PLANNED_COLOUR, DateBins
from sapper.report.svg import Viewport, circle, el, nice_step, num, path_d, point_xy, svg_root, text, title

WIDTH = 1100.0
MIN_HEIGHT, MAX_HEIGHT = 520.0, 800.0
#: Share of the work's extent added on each side of the zoomed map; and its smallest size (metres).
MARGIN, MIN_EXTENT_M = 0.06, 5_000.0
#: Polygon context layers (hatched) and line context layers cycle through these colours.
_CONTEXT_COLOURS = ("#b2182b", "#2166ac", "#762a83", "#8c510a")


@dataclass(frozen=True)
class MapOptions:
    """Display choices: simplification tolerance (metres; raised to ~0.4 px when zoomed out) and sizes."""

    simplify_m: float = 20.0
    width: float = WIDTH
    label_min_population: int = 0


def map_svg(data: ReportData, bins: DateBins, *, options: MapOptions | None = None) -> str:
    """The whole map figure (zoomed map on top, overview and legend below) as one ``<svg>``."""
    opt = options or MapOptions()
    proj = _projection(data)
    if proj is None:
        return svg_root(
            opt.width, 60.0, text(opt.width / 2, 34.0, "Nothing to map", cls="note", text_anchor="middle")
        )

    hazards_m = [proj.to_local(h.geometry) for h in data.hazards]
    assets_m = [proj.to_local(a.geometry) for a in data.assets]
    towns_m = [proj.to_local(t.point) for t in data.towns]
    outline_m = (
        proj.to_local(data.outline) if data.outline is not None and not data.outline.is_empty else None
    )
    context_m = [(name, proj.to_local(g)) for name, g in data.context if not g.is_empty]

    extent = _work_extent(hazards_m + assets_m, outline_m, towns_m)
    height = _frame_height(extent, opt.width)
    view = Viewport(extent, 0.0, 0.0, opt.width, height)
    tolerance = max(opt.simplify_m, 0.4 / view.scale)
    frame = box(*view_bounds_m(view))

    defs = [
        el("clipPath", el("rect", x=0.0, y=0.0, width=opt.width, height=height), id="map-clip"),
        *(_hatch(i, c) for i, c in enumerate(_CONTEXT_COLOURS)),
    ]
    body = [el("rect", x=0.0, y=0.0, width=opt.width, height=height, cls="map-bg")]
    if outline_m is not None:
        body.append(_outline(outline_m, view, frame, tolerance))
    body.append(_context(context_m, view, frame, tolerance))
    body.append(_hazards(data.hazards, hazards_m, view, bins, tolerance))
    body.append(_assets(data.assets, assets_m, view, bins, tolerance))
    body.append(_towns(data.towns, towns_m, view, opt))
    body.append(_scale_bar(view, height))
    figure = el("g", "".join(body), clip_path="url(#map-clip)")
    figure += el("rect", x=0.5, y=0.5, width=opt.width - 1.0, height=height - 1.0, cls="frame")

    legend_h = _legend_height(bins, len(context_m))
    under = _overview(
        outline_m, context_m, towns_m, data.towns, view, top=height + 12.0, size=(260.0, legend_h - 24.0)
    )
    under += _legend(bins, context_m, data.towns, x=300.0, top=height + 12.0)
    return svg_root(
        opt.width,
        height + legend_h,
        el("defs", "".join(defs)) + figure + under,
        cls="map",
        role="img",
        aria_label="Map of hazardous areas and assets coloured by planned release and restore date",
    )


def _projection(data: ReportData) -> LocalProjection | None:
    if data.outline is not None and not data.outline.is_empty:
        return LocalProjection.around(data.outline)
    geoms = [
        g for g in (*(h.geometry for h in data.hazards), *(a.geometry for a in data.assets)) if not g.is_empty
    ]
    geoms += [t.point for t in data.towns]
    if not geoms:
        return None
    return LocalProjection.around(box(*shapely.total_bounds(np.asarray(geoms, dtype=object))))


def _work_extent(
    work: Sequence[BaseGeometry], outline: BaseGeometry | None, towns: Sequence[BaseGeometry]
) -> tuple[float, float, float, float]:
    """Bounds (metres) to zoom on: the hazards and assets plus a margin; else the outline; else the towns."""
    shown = [g for g in work if not g.is_empty]
    if shown:
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(np.asarray(shown, dtype=object)))
        pad = MARGIN * max(maxx - minx, maxy - miny)
    elif outline is not None:
        minx, miny, maxx, maxy = outline.bounds
        pad = 0.02 * max(maxx - minx, maxy - miny)
    else:
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(np.asarray(towns, dtype=object)))
        pad = MARGIN * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = max(maxx - minx, MIN_EXTENT_M) / 2, max(maxy - miny, MIN_EXTENT_M) / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _frame_height(extent: tuple[float, float, float, float], width: float) -> float:
    minx, miny, maxx, maxy = extent
    return float(round(min(MAX_HEIGHT, max(MIN_HEIGHT, width * (maxy - miny) / (maxx - minx)))))


def view_bounds_m(view: Viewport) -> tuple[float, float, float, float]:
    """The metres shown by the whole pixel box of ``view`` (wider than its ``bounds`` on one axis)."""
    s, (ox, oy) = view.scale, view.offset
    minx, maxy = view.bounds[0], view.bounds[3]
    left = minx - (ox - view.x0) / s
    top = maxy + (oy - view.y0) / s
    return left, top - view.height / s, left + view.width / s, top


def _hatch(i: int, colour: str) -> str:
    stripe = el("path", d="M0 6L6 0", stroke=colour, stroke_width=1.0, stroke_opacity=0.35)
    return el("pattern", stripe, id=f"hatch{i}", width=6.0, height=6.0, patternUnits="userSpaceOnUse")


def _clipped(geom: BaseGeometry, frame: BaseGeometry, tolerance: float) -> BaseGeometry:
    minx, miny, maxx, maxy = frame.bounds
    pad = (maxx - minx) * 0.02
    return shapely.simplify(
        shapely.clip_by_rect(geom, minx - pad, miny - pad, maxx + pad, maxy + pad), tolerance
    )


def _outline(outline: BaseGeometry, view: Viewport, frame: BaseGeometry, tolerance: float) -> str:
    shown = view.project([_clipped(outline, frame, tolerance)])[0]
    return el("path", d=path_d(shown), cls="outline")


def _context(
    layers: Sequence[tuple[str, BaseGeometry]], view: Viewport, frame: BaseGeometry, tol: float
) -> str:
    out = []
    for i, (name, geom) in enumerate(layers):
        shown = view.project([_clipped(geom, frame, tol)])[0]
        d = path_d(shown)
        if d:
            out.append(el("path", title(name), d=d, **_context_style(i, name, _is_areal(geom))))
    return el("g", "".join(out), cls="context") if out else ""


def _is_areal(geom: BaseGeometry) -> bool:
    return "Polygon" in geom.geom_type or (
        geom.geom_type == "GeometryCollection" and any("Polygon" in g.geom_type for g in geom.geoms)
    )


def _context_style(i: int, name: str, areal: bool) -> dict[str, object]:
    colour = _CONTEXT_COLOURS[i % len(_CONTEXT_COLOURS)]
    if areal:
        return {
            "fill": f"url(#hatch{i % len(_CONTEXT_COLOURS)})",
            "stroke": colour,
            "stroke_width": 1.2,
            "stroke_dasharray": "5 3",
            "stroke_opacity": 0.8,
        }
    if "border" in name.lower():
        return {"fill": "none", "stroke": "#333333", "stroke_width": 1.8, "stroke_dasharray": "9 3 2 3"}
    return {"fill": "none", "stroke": colour, "stroke_width": 1.4, "stroke_dasharray": "2 3"}


def _date_text(d: dt.date | None) -> str:
    return str(d) if d is not None else "not planned"


def _hazard_title(h: MapHazard) -> str:
    name = f" · {h.name}" if h.name else ""
    return (
        f"{h.id}{name} · {h.hazard_class} · {h.area_m2 / 1e4:,.2f} ha · release {_date_text(h.release_date)}"
    )


def _asset_title(a: MapAsset) -> str:
    name = f" · {a.name}" if a.name else ""
    return (
        f"{a.id}{name} · {a.asset_type} · criticality {a.criticality} · restore {_date_text(a.restore_date)}"
    )


def _by_bin(dates: Sequence[dt.date | None], bins: DateBins) -> dict[int, list[int]]:
    """Item indices per bin index (-1: not planned), bins in drawing order (not planned first)."""
    groups: dict[int, list[int]] = {}
    for i, d in enumerate(dates):
        b = bins.index(d)
        groups.setdefault(-1 if b is None else b, []).append(i)
    return dict(sorted(groups.items()))


def _colour(bins: DateBins, b: int) -> str:
    return NOT_PLANNED_COLOUR if b < 0 else bins.bins[b].colour


def _hazards(
    hazards: Sequence[MapHazard],
    geoms_m: Sequence[BaseGeometry],
    view: Viewport,
    bins: DateBins,
    tolerance: float,
) -> str:
    px = view.project(shapely.simplify(np.asarray(geoms_m, dtype=object), tolerance))
    out = []
    for b, idx in _by_bin([h.release_date for h in hazards], bins).items():
        paths = [el("path", title(_hazard_title(hazards[i])), d=d) for i in idx if (d := path_d(px[i]))]
        colour = _colour(bins, b)
        out.append(el("g", "".join(paths), fill=colour, stroke=colour, cls="hz"))
    return el("g", "".join(out), cls="hazards")


def _criticality_width(c: int) -> float:
    return 0.6 + 0.3 * max(0, min(c, 5))


def _criticality_radius(c: int) -> float:
    return 1.4 + 0.55 * max(0, min(c, 5))


def _assets(
    assets: Sequence[MapAsset],
    geoms_m: Sequence[BaseGeometry],
    view: Viewport,
    bins: DateBins,
    tolerance: float,
) -> str:
    px = view.project(shapely.simplify(np.asarray(geoms_m, dtype=object), tolerance))
    order = sorted(range(len(assets)), key=lambda i: assets[i].criticality)  # critical ones on top
    areas, lines, points = [], [], []
    for i in order:
        a, g = assets[i], px[i]
        if g is None or g.is_empty:
            continue
        colour = bins.colour(a.restore_date)
        tip = title(_asset_title(a))
        if "Point" in g.geom_type:
            r = _criticality_radius(a.criticality)
            points += [circle(x, y, r, tip, fill=colour) for x, y in point_xy(g)]
        elif "Polygon" in g.geom_type:
            areas.append(el("path", tip, d=path_d(g), fill=colour, stroke=colour))
        else:
            lines.append(
                el("path", tip, d=path_d(g), stroke=colour, stroke_width=_criticality_width(a.criticality))
            )
    return (
        el("g", "".join(areas), cls="as-area")
        + el("g", "".join(lines), cls="as-line")
        + el("g", "".join(points), cls="as-point")
    )


def _towns(towns: Sequence[Town], points_m: Sequence[BaseGeometry], view: Viewport, opt: MapOptions) -> str:
    dots, labels = [], []
    placed: list[tuple[float, float, float, float]] = []
    order = sorted(range(len(towns)), key=lambda i: (towns[i].synthetic, -towns[i].population))
    for i in order:
        t = towns[i]
        x, y = view.xy(points_m[i].x, points_m[i].y)
        if not (0 <= x <= view.width and 0 <= y <= view.height):
            continue
        tip = title(f"{t.name} · population {t.population:,}{' · synthetic' if t.synthetic else ''}")
        if t.synthetic:
            dots.append(circle(x, y, 1.6, tip, cls="village"))
            continue
        r = 2.5 + min(4.0, max(0.0, math.log10(max(t.population, 1)) - 2.5))  # 2.5 px up to 6.5 px
        dots.append(circle(x, y, r, tip, cls="town"))
        if t.population < opt.label_min_population:
            continue
        major = t.population >= 20_000
        size = 12.0 if major else 10.5
        w, h = 0.56 * size * len(t.name), size
        for lx, ly, anchor in (
            (x + r + 3, y + size * 0.35, "start"),
            (x - r - 3, y + size * 0.35, "end"),
            (x - w / 2, y - r - 3, "start"),
            (x - w / 2, y + r + size, "start"),
        ):
            left = lx - w if anchor == "end" else lx
            rect = (left, ly - h, left + w, ly + 2)
            if (
                rect[0] >= 2
                and rect[2] <= view.width - 2
                and rect[1] >= 2
                and rect[3] <= view.height - 2
                and not any(_overlap(rect, p) for p in placed)
            ):
                placed.append(rect)
                labels.append(
                    text(
                        lx, ly, t.name, cls="town-label major" if major else "town-label", text_anchor=anchor
                    )
                )
                break
    return el("g", "".join(dots), cls="towns") + el("g", "".join(labels), cls="labels")


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _scale_bar(view: Viewport, height: float) -> str:
    most = view.width / view.scale / 6.0  # the longest 1-2-5 length within a sixth of the width
    metres = max(m for m in (nice_step(most, 1) / k for k in (1, 2, 2.5, 5)) if m <= most)
    length = metres * view.scale
    x, y = 16.0, height - 18.0
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    return el(
        "g",
        el("rect", x=x - 6, y=y - 18, width=length + 12, height=28.0, cls="halo-box")
        + el("path", d=f"M{num(x)} {num(y - 4)}V{num(y)}H{num(x + length)}V{num(y - 4)}", cls="scalebar")
        + text(x + length / 2, y - 6, label, cls="tick", text_anchor="middle"),
        cls="scale",
    )


def _overview(
    outline: BaseGeometry | None,
    context: Sequence[tuple[str, BaseGeometry]],
    towns_m: Sequence[BaseGeometry],
    towns: Sequence[Town],
    zoom: Viewport,
    *,
    top: float,
    size: tuple[float, float],
) -> str:
    """A small map of the whole region with the zoomed frame drawn on it."""
    frame = box(*view_bounds_m(zoom))
    whole = frame if outline is None else frame.union(box(*outline.bounds))
    view = Viewport(whole.bounds, 0.0, top, size[0], size[1])
    tol = 0.5 / view.scale
    parts = [el("rect", x=0.0, y=top, width=size[0], height=size[1], cls="overview-bg")]
    if outline is not None:
        parts.append(el("path", d=path_d(view.project([shapely.simplify(outline, tol)])[0]), cls="outline"))
    for i, (name, geom) in enumerate(context):
        shown = view.project([shapely.simplify(geom, tol)])[0]
        style = _context_style(i, name, _is_areal(geom))
        style["stroke_width"] = 1.0
        parts.append(el("path", title(name), d=path_d(shown), **style))
    big = sorted((i for i, t in enumerate(towns) if not t.synthetic), key=lambda i: -towns[i].population)[:3]
    for rank, i in enumerate(big):
        x, y = view.xy(towns_m[i].x, towns_m[i].y)
        parts.append(circle(x, y, 2.2, cls="town"))
        if rank == 0:
            parts.append(text(x + 4, y + 4, towns[i].name, cls="tick"))
    parts.append(el("path", d=path_d(view.project([frame.exterior])[0]), cls="zoom-frame"))
    clip = el("clipPath", el("rect", x=0.0, y=top, width=size[0], height=size[1]), id="overview-clip")
    note = text(4.0, top + size[1] + 12.0, "Overview: the red frame is the map above", cls="note")
    return el("g", clip + el("g", "".join(parts), clip_path="url(#overview-clip)") + note, cls="overview")


def _legend_height(bins: DateBins, n_context: int) -> float:
    rows = max(len(bins.bins) + 1, 6 + n_context)
    return 36.0 + 16.0 * rows + 14.0


def _legend(
    bins: DateBins,
    context: Sequence[tuple[str, BaseGeometry]],
    towns: Sequence[Town],
    *,
    x: float,
    top: float,
) -> str:
    parts = [text(x, top + 12.0, "Planned date: hazard release, asset restoration", cls="legend-head")]
    y = top + 24.0
    for b in bins.bins:
        parts.append(el("rect", x=x, y=y, width=22.0, height=11.0, fill=b.colour))
        parts.append(text(x + 30, y + 9.5, b.label, cls="legend"))
        y += 16.0
    parts.append(el("rect", x=x, y=y, width=22.0, height=11.0, fill=NOT_PLANNED_COLOUR))
    parts.append(text(x + 30, y + 9.5, "not planned", cls="legend"))

    x2 = x + 350.0
    parts.append(text(x2, top + 12.0, "Symbols", cls="legend-head"))
    y = top + 24.0
    mid = bins.bins[len(bins.bins) // 2].colour if bins.bins else NOT_PLANNED_COLOUR
    parts.append(el("rect", x=x2, y=y, width=22.0, height=11.0, fill=mid, stroke=mid, cls="hz"))
    parts.append(text(x2 + 30, y + 9.5, "hazardous area (SHA/CHA)", cls="legend"))
    y += 16.0
    for c in (1, 3, 5):
        parts.append(
            el(
                "path",
                d=f"M{num(x2)} {num(y + 6)}h22",
                stroke=mid,
                stroke_width=_criticality_width(c),
                cls="as-line-sample",
            )
        )
        parts.append(
            circle(x2 + 34 + 6 * (c // 2), y + 6, _criticality_radius(c), fill=mid, cls="as-point-sample")
        )
        parts.append(text(x2 + 56, y + 9.5, f"asset line / point, criticality {c}", cls="legend"))
        y += 16.0
    if any(not t.synthetic for t in towns):
        parts.append(circle(x2 + 11, y + 6, 4.0, cls="town"))
        parts.append(text(x2 + 30, y + 9.5, "town (size by population)", cls="legend"))
        y += 16.0
    if any(t.synthetic for t in towns):
        parts.append(circle(x2 + 11, y + 6, 1.6, cls="village"))
        parts.append(text(x2 + 30, y + 9.5, "village (synthetic, unlabelled)", cls="legend"))
        y += 16.0
    for i, (name, geom) in enumerate(context):
        style = _context_style(i, name, _is_areal(geom))
        if _is_areal(geom):
            parts.append(el("rect", x=x2, y=y, width=22.0, height=11.0, **style))
        else:
            parts.append(el("path", d=f"M{num(x2)} {num(y + 6)}h22", **style))
        parts.append(text(x2 + 30, y + 9.5, name, cls="legend"))
        y += 16.0
    return el("g", "".join(parts), cls="legend-block")
