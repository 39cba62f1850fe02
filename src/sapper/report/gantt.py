"""The situation report's Gantt chart, made to be read on paper: one lane per team or brigade, grouped by organisation
and role, every lane labelled with its unit, units without planned work shown as empty lanes saying so, and the
lanes split into pages of at most ``rows_per_page`` rows (a group carried over to the next page repeats its heading).

Back-to-back tasks of one kind in one lane (less than a week apart) are drawn as one bar.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sapper.report.i18n import Speaker
from sapper.report.model import GanttBar
from sapper.report.sitdata import Unit
from sapper.report.svg import TimeScale, el, svg_root, text
from sapper.services.planview import BarKind

WIDTH = 1000.0
LABEL_W = 150.0
ROW_H = 14.0
HEAD_H = 34.0
KIND_COLOURS = {BarKind.SURVEY: "#E69F00", BarKind.CLEARANCE: "#0072B2", BarKind.RESTORATION: "#009E73"}
#: Tasks of one kind in one lane closer than this are drawn as one bar.
MERGE_GAP = dt.timedelta(days=7)


@dataclass(frozen=True)
class Row:
    """A group heading (``unit`` None) or a lane."""

    heading: str
    unit: Unit | None
    spans: tuple[tuple[dt.date, dt.date, BarKind], ...] = ()


def role_name(sp: Speaker, role: str) -> str:
    names = {
        "survey": sp._("survey teams"), "manual": sp._("manual clearance teams"),
        "dog": sp._("mine detection dog teams"), "mechanical": sp._("mechanical clearance teams"),
        "bac": sp._("battle area clearance and EOD teams"),
        "road": sp._("road brigades"), "bridge": sp._("bridge brigades"), "power": sp._("power brigades"),
        "water": sp._("water brigades"), "building": sp._("building brigades"),
    }
    return names.get(role, role)


def _merged(bars: Sequence[GanttBar]) -> tuple[tuple[dt.date, dt.date, BarKind], ...]:
    out: list[tuple[dt.date, dt.date, BarKind]] = []
    for b in sorted(bars, key=lambda b: (b.start, b.end)):
        if out and out[-1][2] == b.kind and b.start - out[-1][1] <= MERGE_GAP:
            out[-1] = (out[-1][0], max(out[-1][1], b.end), b.kind)
        else:
            out.append((b.start, b.end, b.kind))
    return tuple(out)


def rows(units: Sequence[Unit], bars: Sequence[GanttBar], sp: Speaker) -> list[Row]:
    """Group headings and lanes in reading order: organisations by name, roles, units by id."""
    by_unit: dict[str, list[GanttBar]] = defaultdict(list)
    for b in bars:
        by_unit[b.lane].append(b)
    groups: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    for u in units:
        groups[(u.organisation, u.role)].append(u)
    out: list[Row] = []
    for (org, role), members in sorted(groups.items()):
        idle = sum(1 for u in members if not by_unit.get(u.id))
        head = f"{org} — {role_name(sp, role)}: " + sp.n_("{n} unit", "{n} units", len(members)).format(
            n=sp.fmt_int(len(members)))
        if idle:
            head += ", " + sp.n_("{n} without planned work", "{n} without planned work", idle).format(
                n=sp.fmt_int(idle))
        out.append(Row(head, None))
        out += [Row(head, u, _merged(by_unit.get(u.id, ()))) for u in sorted(members, key=lambda u: u.id)]
    return out


def pages(all_rows: Sequence[Row], rows_per_page: int, sp: Speaker, *, first: int | None = None) -> list[list[Row]]:
    """Split the rows into pages of ``rows_per_page`` (the first of ``first``); a page that starts inside a group
    starts with its heading, marked continued; a heading never ends a page."""
    out: list[list[Row]] = []
    page: list[Row] = []
    heading: str | None = None
    for r in all_rows:
        limit = rows_per_page if out or first is None else first
        if len(page) >= limit or (r.unit is None and len(page) >= limit - 2):
            out.append(page)
            page = []
            if r.unit is not None and heading is not None:
                page.append(Row(heading + " " + sp._("(continued)"), None))
        if r.unit is None:
            heading = r.heading
        page.append(r)
    if page:
        out.append(page)
    return out


def _ticks(start: dt.date, end: dt.date) -> list[dt.date]:
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = next(s for s in (1, 2, 3, 6, 12, 24) if months / s <= 12)
    out, y, m = [], start.year, start.month
    while dt.date(y, m, 1) <= end:
        if (m - 1) % step == 0:
            out.append(dt.date(y, m, 1))
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def page_svg(page: Sequence[Row], domain: tuple[dt.date, dt.date], sp: Speaker, *, width: float = WIDTH) -> str:
    """One page of the chart as ``<svg>``: month axis on top, then the rows."""
    ts = TimeScale(domain[0], domain[1], LABEL_W, width - 8.0)
    height = HEAD_H + ROW_H * len(page) + 4.0
    parts: list[str] = []
    for d in _ticks(*domain):
        if domain[0] <= d <= domain[1]:
            x = ts.x(d)
            parts.append(el("line", x1=x, x2=x, y1=HEAD_H - 6, y2=height, stroke="#d0d7de", stroke_width=0.6))
            if x < width - 58:  # a label that would run off the right edge is left out (its line stays)
                parts.append(text(x + 2, HEAD_H - 10, sp.fmt_month(d), font_size=9.5, fill="#57606a"))
    y = HEAD_H
    no_work = sp._("no work planned")
    for i, r in enumerate(page):
        if r.unit is None:
            parts.append(el("rect", x=0.0, y=y, width=width, height=ROW_H, fill="#eef1f4"))
            parts.append(text(4.0, y + ROW_H - 3.5, r.heading, font_size=10, font_weight="bold"))
        else:
            if i % 2:
                parts.append(el("rect", x=0.0, y=y, width=width, height=ROW_H, fill="#f8f9fb"))
            parts.append(text(10.0, y + ROW_H - 3.5, r.unit.id, font_size=9.5))
            parts.append(el("line", x1=LABEL_W - 0.5, x2=LABEL_W - 0.5, y1=y, y2=y + ROW_H, stroke="#57606a"))
            if not r.spans:
                parts.append(text(LABEL_W + 4, y + ROW_H - 3.5, no_work, font_size=9, fill="#8c959f"))
            for s, e, kind in r.spans:
                x0, x1 = ts.x(max(s, domain[0])), ts.x(min(e + dt.timedelta(days=1), domain[1]))
                parts.append(el("rect", x=x0, y=y + 2.5, width=max(x1 - x0, 1.2), height=ROW_H - 5,
                                fill=KIND_COLOURS.get(kind, "#6e7781")))
        y += ROW_H
    return svg_root(width, height, "".join(parts), cls="gantt", role="img",
                    aria_label=sp._("Schedule of teams and brigades"))


def legend_svg(sp: Speaker, *, width: float = WIDTH) -> str:
    items = [(BarKind.SURVEY, sp._("survey")), (BarKind.CLEARANCE, sp._("clearance")),
             (BarKind.RESTORATION, sp._("repair"))]
    parts, x = [], 4.0
    for kind, label in items:
        parts.append(el("rect", x=x, y=4.0, width=22.0, height=9.0, fill=KIND_COLOURS[kind]))
        parts.append(text(x + 28, 12.5, label, font_size=10))
        x += 40.0 + 7.0 * len(label)
    return svg_root(width, 18.0, "".join(parts))


def domain_of(bars: Sequence[GanttBar], start: dt.date) -> tuple[dt.date, dt.date]:
    if not bars:
        return start, start + dt.timedelta(days=30)
    lo = min(min(b.start for b in bars), start)
    hi = max(b.end for b in bars) + dt.timedelta(days=1)
    return lo.replace(day=1), hi

