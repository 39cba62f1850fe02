"""The task order's map: well-formed SVG drawn from the register (no tiles), the site, its neighbours, the nearest road
and the access point; a site a few pixels wide is ringed; labels never overlap."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

import shapely
from shapely.geometry import LineString, Point

from sapper.domain.taskorders import (
    Nearby,
    OrderLot,
    OrderSheet,
    OrderSite,
    OrderState,
    SiteKind,
    TaskOrder,
    UnitRole,
)
from sapper.report.i18n import Lang, Speaker
from sapper.report.taskorders import site_map

SVG = "{http://www.w3.org/2000/svg}"
ROAD = LineString([(35.2950, 51.3029), (35.3100, 51.3029)])


def sheet(site_geom: shapely.Geometry, *, neighbours: int = 0) -> OrderSheet:
    site = OrderSite(SiteKind.HAZARD_AREA, "H-1", "Field", site_geom, 1000.0, hazard_class="CHA",
                     neighbours=tuple((f"H-{i + 2}", shapely.box(35.3000 + 0.0003 * i, 51.2990, 35.3002 + 0.0003 * i,
                                                                  51.2995)) for i in range(neighbours)),
                     roads=(("R-1", ROAD),),
                     road=Nearby("R-1", "Village road", 100.0, "N", ROAD),
                     settlement=Nearby("", "Lyubimovka", 2000.0, "W", Point(35.27, 51.30)))
    order = TaskOrder("TO-2026-0001", "T-1", UnitRole.TEAM, "OP-1", SiteKind.HAZARD_AREA, "H-1", 1,
                      dt.date(2026, 3, 2), dt.date(2026, 3, 15), OrderState.ISSUED,
                      dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                      (OrderLot("clearance H-1/1", "clearance", "manual", dt.date(2026, 3, 2), dt.date(2026, 3, 4),
                                100.0, "m²"),), Point(35.3010, 51.3020), "road:R-1", ("sapper_clearance",))
    return OrderSheet(order, site)


def _texts(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}text"))


def test_the_map_draws_site_road_neighbours_and_access_point() -> None:
    """Well-formed SVG with the site's id, the road's id, the neighbours, the access point's A, and no image or URL
    (offline)."""
    svg = site_map(sheet(shapely.box(35.3000, 51.3000, 35.3043, 51.3020), neighbours=3), Speaker(Lang.EN))
    words = [t.text for t in _texts(svg)]
    assert {"H-1", "R-1", "A"} <= set(words) and "H-2" in words
    assert "<image" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert not [c for c in ET.fromstring(svg).iter(f"{SVG}circle") if c.get("r") == "14"]  # a big site: no ring


def test_a_tiny_site_is_ringed_and_labels_do_not_overlap() -> None:
    """A 5 m site in a frame of hundreds of metres is ringed; of many crowded neighbours, labels are left out rather
    than drawn over each other."""
    svg = site_map(sheet(shapely.box(35.3010, 51.3010, 35.30107, 51.30105), neighbours=12), Speaker(Lang.UK))
    assert [c for c in ET.fromstring(svg).iter(f"{SVG}circle") if c.get("r") == "14"]
    boxes = []
    for t in _texts(svg):
        cls = t.get("class") or ""
        if "lbl" not in cls or "halo" in cls:
            continue
        size = 13.0 if "site" in cls else 11.0 if cls == "lbl" else 10.0
        x, y, w = float(t.get("x") or 0), float(t.get("y") or 0), 0.62 * size * len(t.text or "")
        left = x - w / 2 if t.get("text-anchor") == "middle" else x
        boxes.append((left, y - size, left + w, y + 2))
    assert len(boxes) >= 2
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
