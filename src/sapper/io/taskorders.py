"""Task orders as files for spreadsheets and navigation devices: CSV (one row per lot), KML (Google Earth, most
field tablets) and GPX 1.1 (handheld GPS units).

KML carries each order's site as a polygon (or the asset's line or point) and its access point as a placemark; GPX
carries the access points as waypoints (``wpt``) and each site's outline as a route (``rte``, its vertices as route
points, closed), which every GPS unit can follow or show; lines and points of asset sites become routes and
waypoints too. Coordinates are WGS84 with 7 decimals (about 1 cm). Each file is written whole or not at all (a
temporary file beside it, renamed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from shapely.geometry.base import BaseGeometry

from sapper.domain.taskorders import OrderSheet
from sapper.io.fields import FORMULA_START

KML_NS = "http://www.opengis.net/kml/2.2"
GPX_NS = "http://www.topografix.com/GPX/1/1"

#: The CSV's columns, one row per lot of each order.
CSV_COLUMNS = (
    "order", "state", "unit", "plan_run", "period_start", "period_end", "site_kind", "site_id", "site_name",
    "task_id", "kind", "method", "start", "end", "work", "work_unit", "hazard_class", "devices", "area_m2",
    "access_lon", "access_lat", "access_from", "nearest_road", "road_m", "nearest_settlement", "settlement_m",
    "settlement_direction", "medical_facility", "medical_m", "forms", "lot_cost", "order_cost", "currency",
    "synthetic",
)


def _atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _guard(value: object) -> object:
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value
    return value


def _m(value: float | None) -> str:
    return "" if value is None else str(round(value))


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def csv_rows(sheets: Sequence[OrderSheet]) -> Iterator[dict[str, object]]:
    """The CSV's rows (one per lot), as written before the formula guard."""
    for sheet in sheets:
        o, s = sheet.order, sheet.site
        costs = dict(sheet.lot_costs)
        total = sheet.cost
        for lot in o.lots:
            yield {
                "order": o.number, "state": o.state.value, "unit": o.unit_id, "plan_run": o.plan_run_id,
                "period_start": o.period_start.isoformat(), "period_end": o.period_end.isoformat(),
                "site_kind": s.kind.value, "site_id": s.id, "site_name": s.name, "task_id": lot.task_id,
                "kind": lot.kind, "method": lot.method, "start": lot.start.isoformat(), "end": lot.end.isoformat(),
                "work": round(lot.work, 1), "work_unit": lot.work_unit, "hazard_class": s.hazard_class,
                "devices": ",".join(s.devices), "area_m2": round(s.area_m2), "access_lon": o.access_point.x,
                "access_lat": o.access_point.y, "access_from": o.access_note,
                "nearest_road": s.road.id if s.road else "", "road_m": _m(s.road.distance_m if s.road else None),
                "nearest_settlement": s.settlement.name if s.settlement else "",
                "settlement_m": _m(s.settlement.distance_m if s.settlement else None),
                "settlement_direction": s.settlement.direction if s.settlement else "",
                "medical_facility": s.medical.id if s.medical else "",
                "medical_m": _m(s.medical.distance_m if s.medical else None), "forms": ",".join(o.forms),
                "lot_cost": _money(costs.get(lot.task_id)), "order_cost": _money(total), "currency": sheet.currency,
                "synthetic": str(s.synthetic).lower(),
            }


def write_csv(sheets: Sequence[OrderSheet], path: str | Path) -> Path:
    """One row per lot of each order (UTF-8 with BOM, so spreadsheets read Cyrillic; formulas guarded with ``'``)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(sheets):
        writer.writerow({k: _guard(v) for k, v in row.items()})
    return _atomic(Path(path), ("\ufeff" + buf.getvalue()).encode("utf-8"))


def _coords(coords: Sequence[Sequence[float]]) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y, *_ in coords)


def _kml_geometry(parent: ET.Element, geom: BaseGeometry) -> None:
    kind = geom.geom_type
    if kind == "Polygon":
        poly = ET.SubElement(parent, "Polygon")
        outer = ET.SubElement(ET.SubElement(poly, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(outer, "coordinates").text = _coords(geom.exterior.coords)
        for ring in geom.interiors:
            inner = ET.SubElement(ET.SubElement(poly, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(inner, "coordinates").text = _coords(ring.coords)
    elif kind == "LineString":
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = _coords(geom.coords)
    elif kind == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = _coords(geom.coords)
    else:  # Multi* and collections
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in getattr(geom, "geoms", ()):
            _kml_geometry(multi, part)


def _lots_text(sheet: OrderSheet) -> str:
    return "; ".join(f"{lot.task_id} {lot.start.isoformat()}–{lot.end.isoformat()}" for lot in sheet.order.lots)


def write_kml(title: str, sheets: Sequence[OrderSheet], path: str | Path) -> Path:
    """A KML document: per order a folder with the site (polygon, line or point) and the access point."""
    kml = ET.Element("kml", xmlns=KML_NS)
    doc = ET.SubElement(kml, "Document")
    ET.SubElement(doc, "name").text = title
    style = ET.SubElement(doc, "Style", id="site")
    line = ET.SubElement(style, "LineStyle")
    ET.SubElement(line, "color").text = "ff2b39c0"
    ET.SubElement(line, "width").text = "3"
    ET.SubElement(ET.SubElement(style, "PolyStyle"), "color").text = "552b39c0"
    for sheet in sheets:
        o, s = sheet.order, sheet.site
        folder = ET.SubElement(doc, "Folder")
        ET.SubElement(folder, "name").text = f"{o.number} {s.id}"
        site = ET.SubElement(folder, "Placemark", id=f"{o.number}-site")
        ET.SubElement(site, "name").text = f"{s.id} {s.name}".strip()
        ET.SubElement(site, "description").text = (
            f"{o.number} ({o.state.value}), {o.unit_id}: {_lots_text(sheet)}"
            + (f"; {s.hazard_class}, devices: {', '.join(s.devices) or 'not known'}" if s.hazard_class else "")
            + ("; SYNTHETIC" if s.synthetic else ""))
        ET.SubElement(site, "styleUrl").text = "#site"
        _kml_geometry(site, s.geometry)
        access = ET.SubElement(folder, "Placemark", id=f"{o.number}-access")
        ET.SubElement(access, "name").text = f"{o.number} access"
        ET.SubElement(access, "description").text = f"access point of {s.id} ({o.access_note})"
        ET.SubElement(ET.SubElement(access, "Point"), "coordinates").text = _coords(o.access_point.coords)
    data = ET.tostring(kml, encoding="utf-8", xml_declaration=True)
    return _atomic(Path(path), data)


def _gpx_points(parent: ET.Element, tag: str, coords: Sequence[Sequence[float]]) -> None:
    for x, y, *_ in coords:
        ET.SubElement(parent, tag, lat=f"{y:.7f}", lon=f"{x:.7f}")


def _lines(geom: BaseGeometry) -> list[Sequence[Sequence[float]]]:
    kind = geom.geom_type
    if kind == "Polygon":
        return [list(geom.exterior.coords)]
    if kind == "LineString":
        return [list(geom.coords)]
    if kind == "Point":
        return []
    return [c for part in getattr(geom, "geoms", ()) for c in _lines(part)]


def write_gpx(title: str, sheets: Sequence[OrderSheet], path: str | Path) -> Path:
    """A GPX 1.1 file: access points (and point sites) as waypoints, site outlines and lines as routes."""
    gpx = ET.Element("gpx", {"xmlns": GPX_NS, "version": "1.1", "creator": "sapper"})
    meta = ET.SubElement(gpx, "metadata")
    ET.SubElement(meta, "name").text = title
    for sheet in sheets:  # GPX 1.1 puts every wpt before any rte
        o, s = sheet.order, sheet.site
        wpt = ET.SubElement(gpx, "wpt", lat=f"{o.access_point.y:.7f}", lon=f"{o.access_point.x:.7f}")
        ET.SubElement(wpt, "name").text = f"{o.number} access"
        ET.SubElement(wpt, "desc").text = f"access point of {s.id} ({o.access_note}); {_lots_text(sheet)}"
        ET.SubElement(wpt, "sym").text = "Flag, Red"
        for i, (x, y) in enumerate((p.x, p.y) for p in getattr(s.geometry, "geoms", [s.geometry])
                                   if p.geom_type == "Point"):
            site = ET.SubElement(gpx, "wpt", lat=f"{y:.7f}", lon=f"{x:.7f}")
            ET.SubElement(site, "name").text = f"{o.number} {s.id}" + (f" {i + 1}" if i else "")
    for sheet in sheets:
        o, s = sheet.order, sheet.site
        for i, coords in enumerate(_lines(s.geometry)):
            rte = ET.SubElement(gpx, "rte")
            ET.SubElement(rte, "name").text = f"{o.number} {s.id}" + (f" part {i + 1}" if i else "")
            ET.SubElement(rte, "desc").text = f"outline of {s.id} {s.name}".strip()
            _gpx_points(rte, "rtept", coords)
    data = ET.tostring(gpx, encoding="utf-8", xml_declaration=True)
    return _atomic(Path(path), data)
