"""Time charts of the plan: the Gantt of teams and brigades and the burn-down charts, on one time axis."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from sapper.report.series import LaneGroup, Segment, Series, value_at
from sapper.report.svg import (
    TimeScale,
    YMap,
    el,
    nice_ticks,
    num,
    step_path,
    svg_root,
    text,
    time_axis,
    title,
    y_axis,
)

WIDTH = 1100.0
#: Left margin (lane labels, y-axis labels) and right margin of every time chart, so their x axes align.
LEFT, RIGHT = 170.0, 24.0
#: Okabe–Ito colours: distinct for colour-blind readers.
KIND_COLOURS = {"survey": "#56B4E9", "clearance": "#D55E00", "repair": "#009E73"}
_OTHER_KIND_COLOURS = ("#CC79A7", "#E69F00", "#0072B2", "#999999")
ALL_COLOUR, CRITICAL_COLOUR = "#0072B2", "#CC79A7"


def time_scale(domain: tuple[dt.date, dt.date], *, width: float = WIDTH) -> TimeScale:
    """The x scale every time chart uses for ``domain`` = [start, end)."""
    return TimeScale(domain[0], domain[1], LEFT, width - RIGHT)


def kind_colours(kinds: Sequence[str]) -> dict[str, str]:
    """A colour for each bar kind: the fixed three, then a cycle for any other kind."""
    out, extra = {}, 0
    for k in kinds:
        if k in KIND_COLOURS:
            out[k] = KIND_COLOURS[k]
        elif k not in out:
            out[k] = _OTHER_KIND_COLOURS[extra % len(_OTHER_KIND_COLOURS)]
            extra += 1
    return out


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _segment_title(lane: str, s: Segment) -> str:
    shown = ", ".join(s.labels[:3]) + (f" +{len(s.labels) - 3} more" if len(s.labels) > 3 else "")
    days = (s.end - s.start).days + 1
    tasks = f"{len(s.labels)} {s.kind} tasks" if len(s.labels) > 1 else s.kind
    return f"{lane} · {tasks}: {shown} · {s.start} → {s.end} ({days} d)"


def gantt_svg(
    groups: Sequence[LaneGroup],
    domain: tuple[dt.date, dt.date],
    *,
    start_date: dt.date,
    width: float = WIDTH,
    target_rows_px: float = 1600.0,
) -> str:
    """One row per lane, grouped under a header per lane group, bars coloured by kind; month/year axes at the
    top and the bottom. Rows shrink (to 4 px) with many lanes; lane ids are then shown on hover."""
    ts = time_scale(domain, width=width)
    n_lanes = sum(len(g.lanes) for g in groups)
    if n_lanes == 0:
        return svg_root(
            width, 60.0, text(width / 2, 34.0, "No tasks scheduled", cls="note", text_anchor="middle")
        )
    row = min(14.0, max(4.0, target_rows_px / n_lanes))
    bar_h = row * 0.72 if row >= 8 else row - 1.0
    labelled = row >= 9
    every = math.ceil(12.0 / row)
    kinds = kind_colours([s.kind for g in groups for lane in g.lanes for s in lane.segments])

    legend = []
    x = LEFT
    for k, colour in kinds.items():
        legend.append(el("rect", x=x, y=6.0, width=14.0, height=10.0, fill=colour))
        legend.append(text(x + 19, 15.0, k, cls="legend"))
        x += 30 + 7.0 * len(k)
    legend.append(el("line", x1=x, y1=4.0, x2=x, y2=18.0, cls="start-line"))
    legend.append(text(x + 6, 15.0, "plan start", cls="legend"))

    axis_top = 62.0
    y = axis_top + 6.0
    bands, headers, lane_tips, labels = [], [], [], []
    rects: dict[str, list[str]] = {k: [] for k in kinds}
    for g in groups:
        n_tasks = sum(lane.n_bars for lane in g.lanes)
        headers.append(el("rect", x=0.0, y=y, width=width, height=18.0, cls="group-band"))
        headers.append(text(6.0, y + 13.0, g.name, cls="group-head"))
        headers.append(
            text(
                width - RIGHT,
                y + 13.0,
                f"{_plural(len(g.lanes), 'lane')} · {_plural(n_tasks, 'task')}",
                cls="group-count",
                text_anchor="end",
            )
        )
        y += 20.0
        for j, lane in enumerate(g.lanes):
            if j % 2:
                bands.append(el("rect", x=ts.x0, y=y, width=ts.x1 - ts.x0, height=row, cls="lane-band"))
            tip = title(f"{lane.id} · {g.name} · {_plural(lane.n_bars, 'task')}")
            if labelled:
                labels.append(
                    text(
                        LEFT - 8,
                        y + row * 0.5 + min(11.0, row - 1) * 0.35,
                        lane.id,
                        cls="lane-label",
                        text_anchor="end",
                        font_size=min(11.0, row - 1),
                    )
                )
            elif j % every == 0:  # rows too thin for every id: label every few, at a readable size
                labels.append(el("line", x1=LEFT - 4, y1=y + row / 2, x2=LEFT, y2=y + row / 2, cls="axis"))
                labels.append(
                    text(
                        LEFT - 8,
                        y + row / 2 + 3.0,
                        lane.id,
                        cls="lane-label",
                        text_anchor="end",
                        font_size=8.5,
                    )
                )
            lane_tips.append(el("rect", tip, x=LEFT - 60, y=y, width=60.0, height=row, cls="lane-hit"))
            top = y + (row - bar_h) / 2
            for s in lane.segments:
                x0 = ts.x(max(s.start, ts.start))
                x1 = ts.x(min(s.end + dt.timedelta(days=1), ts.end))
                rects[s.kind].append(
                    el(
                        "rect",
                        title(_segment_title(lane.id, s)),
                        x=x0,
                        y=top,
                        width=max(x1 - x0, 0.6),
                        height=bar_h,
                    )
                )
            y += row
        y += 4.0
    bottom = y + 2.0
    marker = ""
    if ts.start <= start_date <= ts.end:
        sx = ts.x(start_date)
        marker = el("line", x1=sx, y1=axis_top - 2, x2=sx, y2=bottom, cls="start-line")
    bars = "".join(el("g", "".join(r), fill=kinds[k]) for k, r in rects.items())
    body = (
        "".join(legend)
        + "".join(headers)
        + "".join(bands)
        + time_axis(ts, y=axis_top, above=True)
        + time_axis(ts, y=bottom, grid_top=axis_top)
        + el("g", bars, cls="bars")
        + marker
        + "".join(labels)
        + el("g", "".join(lane_tips), cls="lane-tips")
    )
    return svg_root(
        width,
        bottom + 34.0,
        body,
        cls="gantt",
        role="img",
        aria_label=f"Gantt chart of {n_lanes} teams and brigades",
    )


def _chart_frame(ts: TimeScale, ym: YMap, ticks: Sequence[float], *, start_date: dt.date, fmt: str) -> str:
    marker = ""
    if ts.start <= start_date <= ts.end:
        sx = ts.x(start_date)
        marker = el("line", x1=sx, y1=ym.top, x2=sx, y2=ym.bottom, cls="start-line")
    return y_axis(ym, ticks, x0=ts.x0, x1=ts.x1, fmt=fmt) + time_axis(ts, y=ym.bottom) + marker


def _fmt_km2(v: float) -> str:
    return f"{v:,.2f}" if v < 10 else f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"


def area_burndown_svg(
    series: Series, domain: tuple[dt.date, dt.date], *, start_date: dt.date, width: float = WIDTH
) -> str:
    """Remaining hazardous area (km²) as a step chart; the emitted totals are in ``data-total-km2`` and
    ``data-final-km2`` (the value at the end of the time axis)."""
    ts = time_scale(domain, width=width)
    height = 270.0
    total = max((v for _, v in series), default=0.0)
    final = series[-1][1] if series else 0.0
    ym = YMap(0.0, max(total, 1e-9) * 1.05, bottom=220.0, top=30.0)
    ticks = nice_ticks(0.0, ym.hi, 5)
    body = _chart_frame(ts, ym, ticks, start_date=start_date, fmt="{:,g}")
    body += text(ts.x0, 16.0, "Remaining hazardous area, km²", cls="chart-head")
    if series:
        line = step_path(series, ts, y_of=ym, end=ts.end)
        body += el(
            "path", d=f"{line}V{num(ym.bottom)}H{num(ts.x(max(series[0][0], ts.start)))}Z", cls="area-fill"
        )
        body += el("path", d=line, cls="area-line")
        released = total - final
        share = f" ({released / total * 100:.0f} % released)" if total > 0 else ""
        body += text(
            ts.x1, ym(final) - 6, f"{_fmt_km2(final)} km² remain{share}", cls="end-label", text_anchor="end"
        )
        body += el(
            "circle",
            title(f"{series[0][0]}: {_fmt_km2(series[0][1])} km²"),
            cx=ts.x(series[0][0]),
            cy=ym(series[0][1]),
            r=2.5,
            cls="area-dot",
        )
    return svg_root(
        width,
        height,
        body,
        cls="burndown",
        role="img",
        aria_label="Remaining hazardous area over time",
        data_total_km2=f"{total:.6f}",
        data_final_km2=f"{final:.6f}",
    )


def restored_svg(
    all_assets: Series,
    critical: Series,
    domain: tuple[dt.date, dt.date],
    *,
    start_date: dt.date,
    width: float = WIDTH,
) -> str:
    """Share (%) of assets restored, of all and of the critical ones, as step lines; the end values are in
    ``data-final-all-pct`` and ``data-final-critical-pct``."""
    ts = time_scale(domain, width=width)
    height = 270.0
    ym = YMap(0.0, 100.0, bottom=220.0, top=30.0)
    body = _chart_frame(ts, ym, [0.0, 25.0, 50.0, 75.0, 100.0], start_date=start_date, fmt="{:g} %")
    body += text(ts.x0, 16.0, "Assets restored, % of assets", cls="chart-head")
    finals: dict[str, float | None] = {}
    legend_x = ts.x0 + 260.0
    for key, series, colour, name in (
        ("all", all_assets, ALL_COLOUR, "all assets"),
        ("critical", critical, CRITICAL_COLOUR, "critical assets (criticality ≥ 4)"),
    ):
        final = value_at(series, ts.end) if series else None
        finals[key] = final
        body += el("line", x1=legend_x, y1=12.0, x2=legend_x + 22, y2=12.0, stroke=colour, cls="series-line")
        n_label = name if series else f"{name}: none"
        body += text(legend_x + 28, 16.0, n_label, cls="legend")
        legend_x += 40 + 6.5 * len(n_label)
        if series:
            body += el("path", d=step_path(series, ts, y_of=ym, end=ts.end), stroke=colour, cls="series-line")
    ends = sorted(
        (
            (s[-1][1], k, c)
            for k, s, c in (("all", all_assets, ALL_COLOUR), ("critical", critical, CRITICAL_COLOUR))
            if s
        ),
        reverse=True,
    )
    for rank, (v, key, colour) in enumerate(ends):
        dy = -6.0 if rank == 0 else 15.0  # the higher line's label above it, the lower one's below
        body += text(
            ts.x1, ym(v) + dy, f"{key} {v:.0f} %", cls="end-label", style=f"fill:{colour}", text_anchor="end"
        )
    extra = {f"data_final_{k}_pct": "" if v is None else f"{v:.6f}" for k, v in finals.items()}
    return svg_root(
        width, height, body, cls="burndown", role="img", aria_label="Assets restored over time", **extra
    )
