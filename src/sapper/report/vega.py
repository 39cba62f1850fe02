"""The situation report's charts as Vega-Lite specifications, rendered to SVG by vl-convert (no browser, no network:
vl-convert bundles the Vega engine in its wheel).

The specifications are written as plain JSON-like dicts here rather than through vega-altair: the four charts are
small, and altair adds a second of import time and a jsonschema dependency chain for nothing the report uses.
Numbers and dates on the axes are formatted by Vega with the d3 locale of the report's language (``uk-UA``,
``ru-RU``, ``en-US``); every label and title comes translated from :class:`~sapper.report.i18n.Speaker`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import vl_convert as vlc

from sapper.report.i18n import Lang, Speaker
from sapper.report.sitdata import ReleasePoint, SitAsset
from sapper.services.forecast import Forecast
from sapper.store import SavedWhatIf

FONT = "DejaVu Sans"
_D3_LOCALE: dict[Lang, Literal["en-US", "uk-UA", "ru-RU"]] = {Lang.EN: "en-US", Lang.UK: "uk-UA", Lang.RU: "ru-RU"}
#: Okabe–Ito colours: distinguishable with the common colour-vision deficiencies and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

Spec = dict[str, object]


def _config() -> Spec:
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": {"labelFontSize": 10, "titleFontSize": 11, "grid": True, "gridColor": "#e5e7eb"},
        "legend": {"labelFontSize": 10, "titleFontSize": 11, "orient": "bottom", "columns": 2, "labelLimit": 320},
        "background": "white",
    }


def render(spec: Spec, sp: Speaker) -> str:
    """One chart as an ``<svg>`` string."""
    full: Spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": _config(), **spec}
    locale = _D3_LOCALE[sp.lang]
    svg: str = vlc.vegalite_to_svg(full, format_locale=locale, time_format_locale=locale)
    return svg


def land_release_chart(points: Sequence[ReleasePoint], sp: Speaker, *, width: int = 600) -> str | None:
    """Cumulative land cancelled, reduced and cleared (km²) over time: the record (solid) against the plan
    (dashed). ``None`` when there is nothing to draw."""
    if not points:
        return None
    names = {
        "cancelled": sp._("cancelled (non-technical survey), recorded"),
        "reduced": sp._("reduced (technical survey), recorded"),
        "cleared": sp._("cleared, recorded"),
        "planned_survey": sp._("surveyed, planned"),
        "planned_clearance": sp._("cleared, planned"),
    }
    colours = {"cancelled": PALETTE[1], "reduced": PALETTE[4], "cleared": PALETTE[0],
               "planned_survey": PALETTE[1], "planned_clearance": PALETTE[0]}
    present = [k for k in names if any(p.series == k for p in points)]
    values = [{"d": p.date.isoformat(), "km2": p.m2 / 1e6, "s": names[p.series],
               "plan": sp._("plan") if p.series.startswith("planned") else sp._("record")} for p in points]
    return render({
        "width": width, "height": 230,
        "data": {"values": values},
        "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2},
        "encoding": {
            "x": {"field": "d", "type": "temporal", "title": None, "axis": {"format": "%b %Y", "labelAngle": 0}},
            "y": {"field": "km2", "type": "quantitative", "title": sp._("land, km² (cumulative)")},
            "color": {"field": "s", "type": "nominal", "title": None,
                      "scale": {"domain": [names[k] for k in present], "range": [colours[k] for k in present]}},
            "strokeDash": {"field": "plan", "type": "nominal", "legend": None,
                           "scale": {"domain": [sp._("record"), sp._("plan")], "range": [[1, 0], [6, 3]]}},
        },
    }, sp)


def _asset_type(sp: Speaker, value: str) -> str:
    names = {
        "road": sp._("roads"), "bridge": sp._("bridges"), "power_line": sp._("power lines"),
        "substation": sp._("substations"), "water": sp._("water supply"), "school": sp._("schools"),
        "clinic": sp._("clinics"), "house": sp._("houses"),
    }
    return names.get(value, value)


def asset_type_name(sp: Speaker, value: str) -> str:
    return _asset_type(sp, value)


def assets_by_class_chart(assets: Sequence[SitAsset], sp: Speaker, *, width: int = 600) -> str | None:
    """Assets of each class by the year the plan restores them (stacked bars; grey: not planned)."""
    if not assets:
        return None
    counts = Counter((a.asset_type, a.restore_date.year if a.restore_date else None) for a in assets)
    years = sorted({y for _, y in counts if y is not None})
    not_planned = sp._("not planned")
    labels = [str(y) for y in years] + ([not_planned] if any(y is None for _, y in counts) else [])
    colours = list(PALETTE[: len(years)]) + ["#bdbdbd"] * (len(labels) - len(years))
    values = [{"t": _asset_type(sp, t), "y": str(y) if y is not None else not_planned, "n": n, "o": i}
              for i, ((t, y), n) in enumerate(sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or 9999)))]
    order = {lab: i for i, lab in enumerate(labels)}
    for v in values:
        v["o"] = order[str(v["y"])]
    return render({
        "width": width, "height": {"step": 22},
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "t", "type": "nominal", "title": None, "sort": "-x"},
            "x": {"field": "n", "type": "quantitative", "title": sp._("assets"), "stack": "zero",
                  "axis": {"format": ",d", "tickMinStep": 1}},
            "color": {"field": "y", "type": "nominal", "title": sp._("restored by the plan in"),
                      "scale": {"domain": labels, "range": colours}},
            "order": {"field": "o", "type": "quantitative"},
        },
    }, sp)


def whatif_chart(w: SavedWhatIf, sp: Speaker, *, width: int = 600) -> str | None:
    """The region's finish in each column of a what-if comparison: a line from P10 to P90, a bar from P50 to P80,
    a dot at P50; the plan's own finish as a tick."""
    if not w.columns:
        return None
    names = [c.name for c in w.columns]
    values = [{"v": c.name, "p10": c.p10.isoformat(), "p50": c.p50.isoformat(), "p80": c.p80.isoformat(),
               "p90": c.p90.isoformat(), "plan": c.planned_finish.isoformat() if c.planned_finish else None}
              for c in w.columns]
    y = {"field": "v", "type": "nominal", "title": None, "sort": names}
    when = sp._("finish of the region")
    return render({
        "width": width, "height": {"step": 26},
        "data": {"values": values},
        "layer": [
            {"mark": {"type": "rule", "color": PALETTE[0]},
             "encoding": {"y": y, "x": {"field": "p10", "type": "temporal", "title": when,
                                        "axis": {"format": "%Y", "tickCount": "year"}},
                          "x2": {"field": "p90"}}},
            {"mark": {"type": "bar", "color": PALETTE[0], "opacity": 0.5, "height": 12},
             "encoding": {"y": y, "x": {"field": "p50", "type": "temporal"}, "x2": {"field": "p80"}}},
            {"mark": {"type": "point", "filled": True, "color": PALETTE[0], "size": 50},
             "encoding": {"y": y, "x": {"field": "p50", "type": "temporal"}}},
            {"mark": {"type": "tick", "color": PALETTE[5], "thickness": 2, "size": 16},
             "encoding": {"y": y, "x": {"field": "plan", "type": "temporal"}}},
        ],
    }, sp)


def forecast_fan_chart(forecast: Forecast, sp: Speaker, *, planned: Sequence[tuple[dt.date, float]] = (),
                       width: int = 600) -> str | None:
    """Released land (km²) by date in the forecast's runs: the band from P10 to P90, the median, and the plan."""
    if not forecast.fan:
        return None
    band = [{"d": f.date.isoformat(), "lo": f.released_km2[0], "mid": f.released_km2[1], "hi": f.released_km2[2]}
            for f in forecast.fan]
    median, plan = sp._("median forecast (P50)"), sp._("plan")
    lines = [{"d": b["d"], "v": b["mid"], "s": median} for b in band]
    lines += [{"d": d.isoformat(), "v": v, "s": plan} for d, v in planned]
    return render({
        "width": width, "height": 220,
        "layer": [
            {"data": {"values": band}, "mark": {"type": "area", "color": PALETTE[0], "opacity": 0.22},
             "encoding": {"x": {"field": "d", "type": "temporal", "title": None,
                                "axis": {"format": "%b %Y", "labelAngle": 0}},
                          "y": {"field": "lo", "type": "quantitative", "title": sp._("land released, km²")},
                          "y2": {"field": "hi"}}},
            {"data": {"values": lines}, "mark": {"type": "line", "strokeWidth": 2},
             "encoding": {"x": {"field": "d", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"},
                          "color": {"field": "s", "type": "nominal", "title": None,
                                    "scale": {"domain": [median, plan], "range": [PALETTE[0], "#000000"]}},
                          "strokeDash": {"field": "s", "type": "nominal", "title": None,
                                         "scale": {"domain": [median, plan], "range": [[1, 0], [5, 3]]}}}},
        ],
    }, sp)


def cost_fan_chart(forecast: Forecast, sp: Speaker, *, planned: Sequence[tuple[int, float]] = (),
                   start: dt.date | None = None, width: int = 600) -> str | None:
    """Money spent (cumulative) by the end of each calendar year in the forecast's runs: the band from P10 to P90,
    the median, and the plan (``planned``: the plan's cost by year, summed here). From ``start`` (nothing spent)."""
    cost = forecast.cost
    if cost is None or not cost.cumulative:
        return None
    first = dt.date(cost.cumulative[0][0], 1, 1) if start is None else start

    def end(year: int) -> str:
        return dt.date(year, 12, 31).isoformat()

    # Amounts in millions (or thousands) with the unit in the axis title: a reader of the report knows "million", not
    # the SI prefix "G" that an axis format such as "~s" writes for a billion.
    top = max((p.p90 for _, p in cost.cumulative), default=0.0)
    if top >= 1e6:
        scale, title = 1e6, sp._("spent, million %(currency)s (cumulative)")
    elif top >= 1e3:
        scale, title = 1e3, sp._("spent, thousand %(currency)s (cumulative)")
    else:
        scale, title = 1.0, sp._("spent, %(currency)s (cumulative)")
    band = [{"d": first.isoformat(), "lo": 0.0, "mid": 0.0, "hi": 0.0}]
    band += [{"d": end(y), "lo": p.p10 / scale, "mid": p.p50 / scale, "hi": p.p90 / scale} for y, p in cost.cumulative]
    median, plan = sp._("median forecast (P50)"), sp._("plan")
    lines = [{"d": b["d"], "v": b["mid"], "s": median} for b in band]
    total = 0.0
    plan_points = [{"d": first.isoformat(), "v": 0.0, "s": plan}] if planned else []
    for y, amount in sorted(planned):
        total += amount
        plan_points.append({"d": end(y), "v": total / scale, "s": plan})
    return render({
        "width": width, "height": 220,
        "layer": [
            {"data": {"values": band}, "mark": {"type": "area", "color": PALETTE[2], "opacity": 0.22},
             "encoding": {"x": {"field": "d", "type": "temporal", "title": None,
                                "axis": {"format": "%Y", "tickCount": "year", "labelAngle": 0}},
                          "y": {"field": "lo", "type": "quantitative",
                                "title": title % {"currency": cost.currency},
                                "axis": {"format": ",~r"}},
                          "y2": {"field": "hi"}}},
            {"data": {"values": lines + plan_points}, "mark": {"type": "line", "strokeWidth": 2},
             "encoding": {"x": {"field": "d", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"},
                          "color": {"field": "s", "type": "nominal", "title": None,
                                    "scale": {"domain": [median, plan], "range": [PALETTE[2], "#000000"]}},
                          "strokeDash": {"field": "s", "type": "nominal", "title": None,
                                         "scale": {"domain": [median, plan], "range": [[1, 0], [5, 3]]}}}},
        ],
    }, sp)
