"""A small register for IMSMA exchange tests, built in code: organisations, hazard areas, activities, devices found.

It is made to catch what an exchange can lose: coordinates that need all 17 digits, a multipolygon and a polygon
with a hole, an empty outcome geometry, activities with and without dates, outcomes and devices, text that a
spreadsheet would run as a formula (in names and in ids that travel in link fields), Cyrillic text, IMSMA ids in
IMSMA Core's pattern and in a programme's own, links to IMSMA records sapper does not keep (accidents, victims),
benchmarks and turning points, beneficiaries by sex and age, and devices with quantity, fuze and disposal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceCondition, DeviceFound, Disposal
from sapper.domain.hazards import (
    Beneficiaries,
    DeviceCategory,
    Evidence,
    HazardArea,
    HazardClass,
    HazardStatus,
    LandUse,
    Marking,
)
from sapper.domain.resources import Method, Organisation, OrgKind
from sapper.store import open_store

#: Near Sudzha, Kursk oblast; the odd digits make every coordinate need a full double.
X0, Y0 = 35.271234567891234, 51.190987654321987
D = 0.004123456789012345


def box(x: float, y: float, w: float = D, h: float = D) -> Polygon:
    return Polygon([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])


def organisations() -> list[Organisation]:
    return [
        Organisation("ORG-A", "Operator A", OrgKind.OPERATOR, imsma_id="organization_2"),
        Organisation("-ORG", "Operator whose id looks like a formula", OrgKind.OPERATOR, imsma_id="-organization_5"),
        Organisation("ORG-C", "Contractor C (named by no hazard)", OrgKind.CONTRACTOR, imsma_id="organization_7"),
        Organisation("ORG-AUTH", "Regional authority", OrgKind.AUTHORITY, imsma_id="organization_9"),
    ]


def hazards() -> list[HazardArea]:
    holed = Polygon(box(X0 + 3 * D, Y0).exterior.coords,
                    [box(X0 + 3.25 * D, Y0 + 0.25 * D, D / 2, D / 2).exterior.coords])
    return [
        HazardArea("H-1", HazardClass.CHA, box(X0, Y0, 2 * D), Evidence.DIRECT,
                   frozenset({DeviceCategory.AP_MINE, DeviceCategory.AT_MINE}), LandUse.AGRICULTURAL,
                   beneficiaries=120, organisation_id="ORG-A", name='=HYPERLINK("http://example.invalid","click")',
                   expected_clearance_share=0.4, clearance_depth_cm=20.0, marking=Marking.FENCED,
                   benchmark=Point(X0 - D / 3, Y0 - D / 7),
                   turning_points=(Point(X0, Y0), Point(X0 + 2 * D, Y0), Point(X0 + 2 * D, Y0 + D)),
                   beneficiaries_sadd=Beneficiaries(30, 28, 12, 11, 10, 9, 11, 9),
                   imsma_id="hazard_poly_145", imsma_links=("accident_34", "victim_3")),
        HazardArea("H-2", HazardClass.SHA,
                   MultiPolygon([box(X0, Y0 + 2 * D), box(X0 + 2 * D, Y0 + 2 * D)]), Evidence.INDIRECT,
                   land_use=LandUse.FOREST, name="+7 field", synthetic=True, imsma_id="hazard_poly_146"),
        HazardArea("H-3", HazardClass.SHA, holed, Evidence.INDIRECT,
                   frozenset({DeviceCategory.ERW_UXO, DeviceCategory.CLUSTER}), LandUse.RESIDENTIAL,
                   status=HazardStatus.CLOSED, beneficiaries=3_400, organisation_id="-ORG", name="Поле біля Суджі",
                   imsma_id="SUM-HA-0003"),
        HazardArea("H-4", HazardClass.CHA, box(X0 + 5 * D, Y0), Evidence.DIRECT,
                   frozenset({DeviceCategory.IED}), LandUse.INFRASTRUCTURE, status=HazardStatus.HANDED_OVER,
                   name="@risk; 'quoted', with a comma", imsma_id="hazard_poly_148"),
    ]


def activities() -> list[Activity]:
    west = box(X0, Y0)
    east_north, east_south = box(X0 + D, Y0 + D / 2, D, D / 2), box(X0 + D, Y0, D, D / 2)
    return [
        Activity("A-1", "H-1", ActivityType.NTS, ActivityStatus.COMPLETED, "ORG-A", Method.SURVEY,
                 dt.date(2025, 6, 20), dt.date(2025, 6, 22), cancelled=west, imsma_id="activity_1",
                 benchmark=Point(X0 - D / 3, Y0 - D / 7)),
        Activity("A-2", "H-1", ActivityType.TS, ActivityStatus.COMPLETED, "ORG-A", Method.MECHANICAL,
                 dt.date(2025, 7, 1), dt.date(2025, 7, 9), reduced=east_north, imsma_id="activity_2"),
        Activity("A-3", "H-1", ActivityType.CLEARANCE, ActivityStatus.ONGOING, "ORG-A", Method.MANUAL,
                 dt.date(2025, 7, 10), cleared=east_south, clearance_depth_cm=13.0,
                 devices=(
                     DeviceFound(Point(X0 + 1.3 * D, Y0 + 0.2 * D), DeviceCategory.AP_MINE, "PMN-2",
                                 DeviceCondition.ARMED, 5.5, quantity=3, fuze="MD-9",
                                 disposal=Disposal.DESTROYED_IN_PLACE, disposal_date=dt.date(2025, 7, 12),
                                 imsma_id="device_31", imsma_links=("accident_34",)),
                     DeviceFound(Point(X0 + 1.7 * D, Y0 + 0.3 * D), DeviceCategory.AT_MINE, "TM-62M",
                                 DeviceCondition.DAMAGED, disposal=Disposal.MOVED, imsma_id="device_32"),
                 ), imsma_id="activity_3", direct_evidence="PMN-2 fragments at the eastern edge"),
        Activity("A-4", "H-2", ActivityType.CLEARANCE, ActivityStatus.PLANNED, method=Method.DOG,
                 imsma_id="activity_4", imsma_links=("task_12",)),
        Activity("A-5", "H-3", ActivityType.BAC, ActivityStatus.COMPLETED, "-ORG", None,
                 dt.date(2025, 5, 2), dt.date(2025, 5, 2), cancelled=Polygon(),
                 devices=(DeviceFound(Point(X0 + 3.1 * D, Y0 + 0.1 * D), DeviceCategory.ERW_UXO,
                                      imsma_id="SUM-DEV-1"),), imsma_id="activity_5"),
        Activity("A-6", "H-3", ActivityType.EOD, ActivityStatus.SUSPENDED, "-ORG", imsma_id="activity_6"),
    ]


def make_store(path: Path) -> Path:
    """A new store at ``path`` holding the register above."""
    with open_store(path, create=True) as store, store.write() as uow:
        uow.add_organisations(organisations())
        uow.add_hazards(hazards())
        uow.add_activities(activities())
    return path


def imsma_values(records: Iterable[object]) -> list[tuple[str, tuple[str, ...]]]:
    """The IMSMA ids and links of records (not part of their equality), devices after their activity."""
    out = []
    for r in records:
        out.append((r.imsma_id, tuple(getattr(r, "imsma_links", ()))))
        out += [(d.imsma_id, d.imsma_links) for d in getattr(r, "devices", ())]
    return out


def geometries_equal(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    """Same type and exactly the same coordinates (no tolerance)."""
    if a is None or b is None:
        return a is b
    return a.geom_type == b.geom_type and a.equals_exact(b, 0.0)
