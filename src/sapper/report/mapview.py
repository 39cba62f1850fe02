"""Drawing helpers of the report map (:mod:`sapper.report.sitmap`): the extent to zoom on, the frame, the region
outline and context layers (hatched areas, dashed lines), towns with labels placed without overlap, and the sizes of
asset symbols by criticality. Geometry here is in projected metres; :class:`~sapper.report.svg.Viewport` maps it to
pixels (y flipped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.report.model import Town
from sapper.report.svg import Viewport, circle, el, path_d, text, title

WIDTH = 1100.0
MIN_HEIGHT, MAX_HEIGHT = 520.0, 800.0
#: Share of the work's extent added on each side of the zoomed map; and its smallest size (metres).
MARGIN, MIN_EXTENT_M = 0.06, 5_000.0
#: Polygon context layers (hatched) and line context layers cycle through these colours.
CONTEXT_COLOURS = ("#b2182b", "#2166ac", "#762a83", "#8c510a")


@dataclass(frozen=True)
class MapOptions:
    """Display choices: simplification tolerance (metres; raised to ~0.4 px when zoomed out) and sizes."""

    simplify_m: float = 20.0
    width: float = WIDTH
    label_min_population: int = 0


def work_extent(
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


def frame_height(extent: tuple[float, float, float, float], width: float) -> float:
    minx, miny, maxx, maxy = extent
    return float(round(min(MAX_HEIGHT, max(MIN_HEIGHT, width * (maxy - miny) / (maxx - minx)))))


def view_bounds_m(view: Viewport) -> tuple[float, float, float, float]:
    """The metres shown by the whole pixel box of ``view`` (wider than its ``bounds`` on one axis)."""
    s, (ox, oy) = view.scale, view.offset
    minx, maxy = view.bounds[0], view.bounds[3]
    left = minx - (ox - view.x0) / s
    top = maxy + (oy - view.y0) / s
    return left, top - view.height / s, left + view.width / s, top


def hatch_pattern(i: int, colour: str) -> str:
    stripe = el("path", d="M0 6L6 0", stroke=colour, stroke_width=1.0, stroke_opacity=0.35)
    return el("pattern", stripe, id=f"hatch{i}", width=6.0, height=6.0, patternUnits="userSpaceOnUse")


def clipped(geom: BaseGeometry, frame: BaseGeometry, tolerance: float) -> BaseGeometry:
    minx, miny, maxx, maxy = frame.bounds
    pad = (maxx - minx) * 0.02
    return shapely.simplify(
        shapely.clip_by_rect(geom, minx - pad, miny - pad, maxx + pad, maxy + pad), tolerance
    )


def draw_outline(outline: BaseGeometry, view: Viewport, frame: BaseGeometry, tolerance: float) -> str:
    shown = view.project([clipped(outline, frame, tolerance)])[0]
    return el("path", d=path_d(shown), cls="outline")


def draw_context(
    layers: Sequence[tuple[str, BaseGeometry]], view: Viewport, frame: BaseGeometry, tol: float
) -> str:
    out = []
    for i, (name, geom) in enumerate(layers):
        shown = view.project([clipped(geom, frame, tol)])[0]
        d = path_d(shown)
        if d:
            out.append(el("path", title(name), d=d, **context_style(i, name, is_areal(geom))))
    return el("g", "".join(out), cls="context") if out else ""


def is_areal(geom: BaseGeometry) -> bool:
    return "Polygon" in geom.geom_type or (
        geom.geom_type == "GeometryCollection" and any("Polygon" in g.geom_type for g in geom.geoms)
    )


def context_style(i: int, name: str, areal: bool) -> dict[str, object]:
    colour = CONTEXT_COLOURS[i % len(CONTEXT_COLOURS)]
    if areal:
        return {
            "fill": f"url(#hatch{i % len(CONTEXT_COLOURS)})",
            "stroke": colour,
            "stroke_width": 1.2,
            "stroke_dasharray": "5 3",
            "stroke_opacity": 0.8,
        }
    if "border" in name.lower():
        return {"fill": "none", "stroke": "#333333", "stroke_width": 1.8, "stroke_dasharray": "9 3 2 3"}
    return {"fill": "none", "stroke": colour, "stroke_width": 1.4, "stroke_dasharray": "2 3"}


def criticality_width(c: int) -> float:
    return 0.6 + 0.3 * max(0, min(c, 5))


def criticality_radius(c: int) -> float:
    return 1.4 + 0.55 * max(0, min(c, 5))


def draw_towns(towns: Sequence[Town], points_m: Sequence[BaseGeometry], view: Viewport, opt: MapOptions) -> str:
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
                and not any(overlap(rect, p) for p in placed)
            ):
                placed.append(rect)
                labels.append(
                    text(
                        lx, ly, t.name, cls="town-label major" if major else "town-label", text_anchor=anchor
                    )
                )
                break
    return el("g", "".join(dots), cls="towns") + el("g", "".join(labels), cls="labels")


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
