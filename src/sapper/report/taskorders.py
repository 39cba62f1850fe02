"""Task orders as a team leader reads them: one document per team or brigade (HTML or an A4 PDF, English, Ukrainian
or Russian) — a cover page listing the period's orders with an acknowledgement block, then one page per order: a
small map of the site, what to do there, by when, what waits on it, the access point, emergency information and the
forms to report with. CSV, KML and GPX go through :mod:`sapper.io.taskorders`.

The map is drawn offline from the register (no tiles): the site (red), the other open hazard areas near it (orange,
dashed, labelled), the register's roads (grey; the nearest darker, labelled), the access point (green ``A``), the
nearest settlement and medical facility when they lie within the frame (their distance and direction are in the
tables beside the map in any case), a scale bar and north.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from markupsafe import Markup
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from sapper.domain.geometry import LocalProjection
from sapper.domain.taskorders import ACCESS_FROM_ROAD, OrderSheet, SiteKind, WaitingAsset
from sapper.io.taskorders import write_csv, write_gpx, write_kml
from sapper.report.i18n import Lang, Speaker
from sapper.report.mapview import clipped, overlap, view_bounds_m
from sapper.report.pages import Format, environment, font_faces, write_page
from sapper.report.sitmap import scale_bar
from sapper.report.svg import Viewport, circle, el, path_d, svg_root, text, title
from sapper.services.taskorders import IssueResult, UnitOrders

#: Output formats of ``sapper tasks``.
FORMATS = ("pdf", "html", "csv", "kml", "gpx")

MAP_W, MAP_H = 700.0, 260.0
#: At most this many waiting assets are named on an order (the most critical, then the soonest restored).
WAITING_SHOWN = 5
#: A settlement or medical facility this close to the site is brought into the frame (metres).
BRING_IN_M = 2_000.0
_STYLE = (
    "<style>"
    ".lbl{font-family:'DejaVu Sans',sans-serif;font-size:11px;fill:#1f2328;stroke:none}"
    ".lbl.site{font-size:13px;font-weight:bold;fill:#8b0000}.lbl.nb{font-size:10px;fill:#7a4100}"
    ".lbl.road{font-size:10px;fill:#333}"
    ".lbl.halo,.lbl.site.halo,.lbl.nb.halo,.lbl.road.halo{fill:#fff;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
    ".halo-box{fill:#fff;fill-opacity:0.85}.scalebar{fill:none;stroke:#24292f;stroke-width:1.5}"
    ".tick{font-family:'DejaVu Sans',sans-serif;font-size:11px;fill:#57606a}"
    ".acc{font-family:'DejaVu Sans',sans-serif;font-size:11px;font-weight:bold;fill:#fff}"
    ".note{font-family:'DejaVu Sans',sans-serif;font-size:11px;fill:#1f2328}"
    "</style>"
)


def _words(sp: Speaker) -> dict[tuple[str, str], str]:
    """Words for coded values, by (kind of value, value)."""
    return {
        ("kind", "nts"): sp._("non-technical survey"), ("kind", "ts"): sp._("technical survey"),
        ("kind", "survey"): sp._("survey"), ("kind", "eod"): sp._("EOD spot task"),
        ("kind", "clearance"): sp._("clearance"), ("kind", "repair"): sp._("repair"),
        ("method", "survey"): sp._("survey team"), ("method", "manual"): sp._("manual clearance"),
        ("method", "dog"): sp._("mine detection dogs"), ("method", "mechanical"): sp._("mechanical clearance"),
        ("method", "bac"): sp._("battle area clearance"), ("method", "road"): sp._("roads"),
        ("method", "bridge"): sp._("bridges"), ("method", "power"): sp._("power"), ("method", "water"): sp._("water"),
        ("method", "building"): sp._("buildings"),
        ("class", "SHA"): sp._("suspected hazardous area (SHA)"),
        ("class", "CHA"): sp._("confirmed hazardous area (CHA)"),
        ("device", "ap_mine"): sp._("anti-personnel mine"), ("device", "at_mine"): sp._("anti-tank mine"),
        ("device", "erw_uxo"): sp._("unexploded ordnance"),
        ("device", "erw_axo"): sp._("abandoned explosive ordnance"),
        ("device", "small_arms_ammunition"): sp._("small-arms ammunition"),
        ("device", "cluster_submunition"): sp._("cluster submunition"),
        ("device", "ied_booby_trap"): sp._("improvised explosive device or booby trap"),
        ("device", "unknown"): sp._("unknown device"),
        ("land_use", "agricultural"): sp._("agricultural land"), ("land_use", "forest"): sp._("forest"),
        ("land_use", "residential"): sp._("residential"), ("land_use", "infrastructure"): sp._("infrastructure"),
        ("land_use", "wetland"): sp._("wetland"), ("land_use", "other"): sp._("other"),
        ("asset", "road"): sp._("road"), ("asset", "bridge"): sp._("bridge"),
        ("asset", "power_line"): sp._("power line"), ("asset", "substation"): sp._("substation"),
        ("asset", "water"): sp._("water supply"), ("asset", "school"): sp._("school"),
        ("asset", "clinic"): sp._("clinic"), ("asset", "house"): sp._("house"),
        ("damage", "light"): sp._("light damage"), ("damage", "moderate"): sp._("moderate damage"),
        ("damage", "severe"): sp._("severe damage"), ("damage", "destroyed"): sp._("destroyed"),
        ("state", "issued"): sp._("issued"), ("state", "acknowledged"): sp._("acknowledged"),
        ("state", "completed"): sp._("completed"), ("state", "cancelled"): sp._("cancelled"),
        ("role", "team"): sp._("deminer team"), ("role", "brigade"): sp._("builder brigade"),
        ("unit", "m²"): sp._("m²"), ("unit", "m2"): sp._("m²"), ("unit", "builder-days"): sp._("builder-days"),
        ("unit", "builder_days"): sp._("builder-days"),
        ("form", "sapper_nts"): sp._("non-technical survey form"),
        ("form", "sapper_ts"): sp._("technical survey form"),
        ("form", "sapper_clearance"): sp._("daily clearance progress form"),
        ("form", "sapper_brigade"): sp._("daily brigade progress form"),
        ("form", "sapper_accident"): sp._("accident or incident report (at once)"),
    }


def _compass(sp: Speaker, point: str) -> str:
    return {"N": sp._("N"), "NE": sp._("NE"), "E": sp._("E"), "SE": sp._("SE"), "S": sp._("S"), "SW": sp._("SW"),
            "W": sp._("W"), "NW": sp._("NW"), "": ""}[point]


def _distance(sp: Speaker, metres: float) -> str:
    if metres >= 1000:
        return sp._("{n} km").format(n=sp.fmt_num(metres / 1000, digits=1))
    return sp._("{n} m").format(n=sp.fmt_int(metres))


def coded_word(sp: Speaker, kind: str, value: str) -> str:
    """A coded value (``kind`` ``asset``, ``method``, ``device``…) in words of ``sp``'s language; the value itself
    when it has none."""
    return _words(sp).get((kind, value), value)


def _label_at(geom: BaseGeometry) -> tuple[float, float] | None:
    """Where to write a feature's label: the middle of a line, a point inside anything else."""
    if geom.is_empty:
        return None
    p = geom.interpolate(0.5, normalized=True) if geom.geom_type == "LineString" else geom.representative_point()
    return float(p.x), float(p.y)


class _Labels:
    """Map labels placed by priority (0 first); one that would overlap a label already placed, the access point or
    the frame's edge is left out (neighbours' ids are the first to go)."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.pending: list[tuple[int, int, float, float, str, str, str, float]] = []
        self.taken: list[tuple[float, float, float, float]] = []

    def later(self, priority: int, x: float, y: float, label: str, cls: str, anchor: str, size: float) -> None:
        self.pending.append((priority, len(self.pending), x, y, label, cls, anchor, size))

    def place(self) -> list[str]:
        out = []
        for _, _, x, y, label, cls, anchor, size in sorted(self.pending):
            w = 0.62 * size * len(label)
            left = x - w / 2 if anchor == "middle" else x
            rect = (left, y - size, left + w, y + 2)
            outside = rect[0] < 2 or rect[2] > self.width - 2 or rect[1] < 2 or rect[3] > self.height - 2
            if not cls.endswith("site") and (outside or any(overlap(rect, t) for t in self.taken)):
                continue  # the site's id is always written
            self.taken.append(rect)
            out.append(text(x, y, label, cls=cls, text_anchor=anchor))
        return out


def site_map(sheet: OrderSheet, sp: Speaker, *, width: float = MAP_W, height: float = MAP_H) -> str:
    """The order's map as an ``<svg>`` (see the module docstring)."""
    s, o = sheet.site, sheet.order
    proj = LocalProjection.around(s.geometry)
    site = proj.to_local(s.geometry)
    access = proj.to_local(o.access_point)
    shown: list[BaseGeometry] = [site, access]
    for near in (s.settlement, s.medical, s.road):
        if near is not None and near.distance_m <= BRING_IN_M:
            g_near = proj.to_local(near.geometry)
            shown.append(nearest_points(site, g_near)[1] if near is s.road else g_near)
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(np.asarray(shown, dtype=object)))
    pad = max(150.0, 0.2 * max(maxx - minx, maxy - miny))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx + 2 * pad, (maxy - miny + 2 * pad) * width / height, 800.0) / 2
    extent = (cx - half, cy - half * height / width, cx + half, cy + half * height / width)
    view = Viewport(extent, 0.0, 0.0, width, height)
    frame = box(*view_bounds_m(view))
    tol = 0.5 / view.scale
    body = [el("rect", x=0.0, y=0.0, width=width, height=height, fill="#f6f6f2")]
    labels = _Labels(width, height)

    def px(geom: BaseGeometry) -> BaseGeometry:
        return view.project([clipped(geom, frame, tol)])[0]

    nearest = s.road.id if s.road else None
    for road_id, geom in s.roads:
        g = px(proj.to_local(geom))
        d = path_d(g)
        if not d:
            continue
        main = road_id == nearest
        body.append(el("path", title(road_id), d=d, fill="none", stroke="#ffffff", stroke_width=6.0 if main else 4.5))
        body.append(el("path", d=d, fill="none", stroke="#4a4a4a" if main else "#9a9a9a",
                       stroke_width=3.5 if main else 2.5, stroke_linecap="round"))
        at = _label_at(g)
        if main and at is not None:
            labels.later(2, at[0] + 6, at[1] - 6, road_id, "lbl road", "start", 10.0)
    for hid, geom in s.neighbours:
        g = px(proj.to_local(geom))
        d = path_d(g)
        if d:
            body.append(el("path", title(hid), d=d, fill="#F4A259", fill_opacity=0.35, stroke="#a05a00",
                           stroke_width=1.0, stroke_dasharray="4 3"))
            at = _label_at(g)
            if at is not None and 0 < at[0] < width and 0 < at[1] < height:
                labels.later(3, at[0], at[1], hid, "lbl nb", "middle", 10.0)
    g = px(site)
    if s.kind is SiteKind.HAZARD_AREA or "Polygon" in site.geom_type:
        body.append(el("path", d=path_d(g), fill="#C0392B", fill_opacity=0.45, stroke="#8b0000", stroke_width=2.0))
    elif "Line" in site.geom_type:
        body.append(el("path", d=path_d(g), fill="none", stroke="#C0392B", stroke_width=5.0, stroke_linecap="round"))
    else:
        body += [circle(p.x, p.y, 7.0, fill="#C0392B", stroke="#8b0000", stroke_width=1.5)
                 for p in getattr(g, "geoms", [g])]
    if not g.is_empty:
        minx, miny, maxx, maxy = g.bounds
        if max(maxx - minx, maxy - miny) < 12:  # a site a few pixels wide: ringed, so it cannot be missed
            c = g.centroid
            body.append(circle(c.x, c.y, 14.0, fill="none", stroke="#8b0000", stroke_width=2.0))
            miny -= 14
        # Above the site (its outline and the access point stay visible), or inside it at the frame's top edge.
        x, y = (minx + maxx) / 2, miny - 6
        labels.later(0, x, y if y > 16 else (miny + maxy) / 2, s.id, "lbl site", "middle", 13.0)
    for near, symbol in ((s.settlement, "town"), (s.medical, "medical")):
        if near is None:
            continue
        p = proj.to_local(near.geometry)
        c = p.centroid if p.geom_type != "Point" else p
        x, y = view.xy(c.x, c.y)
        name = near.name or near.id
        if 8 <= x <= width - 8 and 8 <= y <= height - 8:
            if symbol == "town":
                body.append(circle(x, y, 5.0, fill="#24292f", stroke="#ffffff", stroke_width=1.5))
            else:
                body.append(el("rect", x=x - 7, y=y - 7, width=14.0, height=14.0, fill="#ffffff", stroke="#cf222e",
                               stroke_width=1.5))
                body.append(el("path", d=f"M{x - 4:.1f} {y:.1f}h8M{x:.1f} {y - 4:.1f}v8", stroke="#cf222e",
                               stroke_width=2.5))
            labels.later(1, x + 9, y + 4, name, "lbl", "start", 11.0)
    ax, ay = view.xy(access.x, access.y)
    body.append(circle(ax, ay, 8.0, fill="#1a7f37", stroke="#ffffff", stroke_width=2.0))
    labels.taken.append((ax - 9, ay - 9, ax + 9, ay + 9))
    marker = text(ax, ay + 4, "A", cls="acc", text_anchor="middle")
    labels.taken += [(0.0, height - 46, 170.0, height), (width - 40, height - 66, width, height)]  # scale, north
    north = el("g", el("path", d=f"M{width - 24:.1f} {height - 20:.1f}l8 -26l8 26l-8 -6z", fill="#24292f")
               + text(width - 16, height - 52, sp._("N"), cls="tick", text_anchor="middle"))
    placed = labels.place()
    halos = [lbl.replace('class="lbl', 'class="halo lbl', 1) for lbl in placed]
    content = ("".join(body) + "".join(halos) + "".join(placed) + marker + scale_bar(view, height, sp) + north
               + el("rect", x=0.5, y=0.5, width=width - 1.0, height=height - 1.0, fill="none", stroke="#8c959f"))
    return svg_root(width, height, _STYLE + el("g", content), cls="map", role="img")


def render_unit(result: IssueResult, unit: UnitOrders, *, lang: Lang = Lang.EN, pdf: bool = False) -> str:
    """One unit's orders as an HTML page in ``lang`` (with ``pdf``: A4 and the shipped fonts, for WeasyPrint)."""
    sp = Speaker(lang)
    words = _words(sp)
    maps = {sh.order.number: Markup(site_map(sh, sp)) for sh in unit.sheets}
    return environment(lang).get_template("taskorders.html.j2").render(
        r=result, u=unit, sp=sp, lang=lang.value, pdf=pdf, font_faces=Markup(font_faces()) if pdf else "",
        maps=maps, WAITING_SHOWN=WAITING_SHOWN, waiting=_waiting,
        word=lambda kind, v: words.get((kind, str(v)), str(v)),
        compass=lambda v: _compass(sp, v), dist=lambda v: _distance(sp, v),
        m2=lambda v: sp._("{n} m²").format(n=sp.fmt_int(v)), ACCESS_FROM_ROAD=ACCESS_FROM_ROAD)


def _waiting(assets: Sequence[WaitingAsset]) -> list[WaitingAsset]:
    """The waiting assets an order names: the most critical first, then the soonest restored; ``WAITING_SHOWN``."""
    return sorted(assets, key=lambda a: (-a.criticality, a.restored or dt.date.max, a.id))[:WAITING_SHOWN]


def file_name(unit_id: str, result: IssueResult, fmt: str) -> str:
    """``T-MAN-001_2025-06-17.pdf``: the unit and the period's first day (an id's unsafe characters as ``_``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in unit_id)
    return f"{safe}_{result.period_start.isoformat()}.{fmt}"


def write_orders(result: IssueResult, out_dir: str | Path, fmt: str, *, lang: Lang = Lang.EN) -> list[Path]:
    """One file per unit that has orders in the period, in ``out_dir``, as ``fmt`` (pdf, html, csv, kml, gpx);
    the paths written."""
    out = Path(out_dir)
    written = []
    for unit in result.units:
        if not unit.sheets:
            continue
        path = out / file_name(unit.unit.id, result, fmt)
        title = f"{unit.unit.id} {result.period_start.isoformat()}–{result.period_end.isoformat()}"
        sheets: Sequence[OrderSheet] = unit.sheets
        if fmt == "csv":
            written.append(write_csv(sheets, path))
        elif fmt == "kml":
            written.append(write_kml(title, sheets, path))
        elif fmt == "gpx":
            written.append(write_gpx(title, sheets, path))
        else:
            page_fmt = Format.parse(fmt)
            written.append(write_page(render_unit(result, unit, lang=lang, pdf=page_fmt is Format.PDF), path,
                                      page_fmt))
    return written
