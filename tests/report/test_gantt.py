"""The paged Gantt chart: every unit has one labelled lane under its organisation and role, units without work are
lanes that say so, and long plans are split into pages that repeat the group's heading."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from sapper.report import gantt
from sapper.report.i18n import Lang, Speaker
from sapper.report.model import GanttBar
from sapper.report.sitdata import Unit
from sapper.services.planview import BarKind

D = dt.date
SVG = "{http://www.w3.org/2000/svg}"


def _units() -> tuple[list[Unit], list[GanttBar]]:
    units = [Unit(f"T-MAN-{i:03d}", "Operator <A>", "team", "manual", 8, 0, None, None) for i in range(1, 61)]
    units += [Unit("B-POW-1", "Builder", "brigade", "power", 10, 0, None, None)]
    bars = [GanttBar(u.id, "", "H-1", BarKind.CLEARANCE, D(2025, 6, 2), D(2025, 6, 20)) for u in units[:59]]
    bars += [GanttBar("T-MAN-001", "", "H-2", BarKind.CLEARANCE, D(2025, 6, 23), D(2025, 7, 4))]  # merges with 1st
    return units, bars


def test_every_unit_has_one_lane_under_its_group_and_idle_ones_are_kept() -> None:
    """61 units → 61 lanes in two groups; back-to-back work is one bar; the idle units' lanes have no bars."""
    sp = Speaker(Lang.EN)
    units, bars = _units()
    rows = gantt.rows(units, bars, sp)
    lanes = [r for r in rows if r.unit is not None]
    assert sorted(r.unit.id for r in lanes if r.unit) == sorted(u.id for u in units)
    headings = [r.heading for r in rows if r.unit is None]
    assert headings == ["Builder — power brigades: 1 unit, 1 without planned work",
                        "Operator <A> — manual clearance teams: 60 units, 1 without planned work"]
    first = next(r for r in lanes if r.unit and r.unit.id == "T-MAN-001")
    assert first.spans == ((D(2025, 6, 2), D(2025, 7, 4), BarKind.CLEARANCE),)
    assert {r.unit.id for r in lanes if r.unit and not r.spans} == {"B-POW-1", "T-MAN-060"}


def test_pages_hold_at_most_their_rows_and_repeat_the_heading() -> None:
    """Pages of 25 rows (the first 20): a page that starts inside a group starts with its heading, continued; a
    heading never ends a page; every lane is on exactly one page."""
    sp = Speaker(Lang.UK)
    units, bars = _units()
    pages = gantt.pages(gantt.rows(units, bars, sp), 25, sp, first=20)
    assert len(pages[0]) <= 20 and all(len(p) <= 25 for p in pages[1:]) and len(pages) == 3
    for p in pages[1:]:
        assert p[0].unit is None and p[0].heading.endswith("(продовження)")
    assert all(p[-1].unit is not None for p in pages)
    ids = [r.unit.id for p in pages for r in p if r.unit]
    assert len(ids) == len(set(ids)) == 61


def test_page_svg_labels_every_lane_and_escapes_names() -> None:
    """Each lane's unit id is a text of the figure; an idle lane says "no work planned"; markup in an organisation's
    name is escaped (the SVG parses)."""
    sp = Speaker(Lang.EN)
    units, bars = _units()
    page = gantt.pages(gantt.rows(units, bars, sp), 70, sp)[0]
    root = ET.fromstring(gantt.page_svg(page, gantt.domain_of(bars, D(2025, 6, 2)), sp))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert {u.id for u in units} <= set(texts)
    assert texts.count("no work planned") == 2
    assert any("Operator <A>" in t for t in texts)
    assert len(list(root.iter(f"{SVG}rect"))) >= 60
