"""Fixtures for the store tests: a fresh store per test and small domain records built in code.

``store`` and ``filled`` run each test on both backends (a GeoPackage file and a PostGIS database, see
tests/conftest.py); ``gpkg_store`` and ``gpkg_filled`` are for what only a GeoPackage has (its binary, R-trees,
gpkg_* tables, GDAL, WAL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceCondition, DeviceFound
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.store import Store, open_store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sapper.gpkg"


@pytest.fixture
def store(store_target: str | Path) -> Iterator[Store]:
    """A fresh, empty store on each backend."""
    with open_store(store_target, create=True) as s:
        yield s


@pytest.fixture
def gpkg_store(db_path: Path) -> Iterator[Store]:
    """A fresh, empty GeoPackage store (for what only SQLite/GeoPackage has)."""
    with open_store(db_path, create=True) as s:
        yield s


def square(lon: float, lat: float, size: float = 0.002) -> Polygon:
    """A small square (degrees) with its lower-left corner at (lon, lat)."""
    return shapely.box(lon, lat, lon + size, lat + size)


def make_hazard(i: int, lon: float = 35.0, lat: float = 50.0, **kw: object) -> HazardArea:
    values: dict[str, object] = {
        "id": f"h-{i}",
        "hazard_class": HazardClass.SHA,
        "geometry": square(lon + i * 0.01, lat),
        "evidence": Evidence.INDIRECT,
    }
    values.update(kw)
    return HazardArea(**values)  # type: ignore[arg-type]


ORG = Organisation("org-1", "Demining Operator One", OrgKind.OPERATOR)
BUILDER = Organisation("org-2", "Road Builders", OrgKind.CONTRACTOR)


def rich_hazards() -> list[HazardArea]:
    """Hazards exercising every column: both classes, categories, nulls, a multipolygon, non-ASCII names."""
    return [
        make_hazard(1),
        make_hazard(
            2,
            hazard_class=HazardClass.CHA,
            evidence=Evidence.DIRECT,
            device_categories=frozenset({DeviceCategory.AT_MINE, DeviceCategory.AP_MINE}),
            land_use=LandUse.AGRICULTURAL,
            beneficiaries=1200,
            organisation_id="org-1",
            name="Поле біля Сум",
            expected_clearance_share=0.4,
            synthetic=True,
        ),
        make_hazard(
            3,
            geometry=shapely.MultiPolygon([square(35.1, 50.1), square(35.2, 50.1)]),
            device_categories=frozenset({DeviceCategory.CLUSTER}),
        ),
        make_hazard(
            4,
            geometry=Polygon(
                [(35.3, 50.3), (35.31, 50.3), (35.31, 50.31), (35.3, 50.31)],
                [[(35.302, 50.302), (35.304, 50.302), (35.304, 50.304), (35.302, 50.304)]],
            ),
        ),
    ]


def rich_assets() -> list[Asset]:
    return [
        Asset("a-road", AssetType.ROAD, LineString([(35.0, 50.0), (35.05, 50.02)]), DamageLevel.SEVERE,
              {Trade.ROAD: 120.0}, criticality=5, people_served=8000, name="H07"),
        Asset("a-bridge", AssetType.BRIDGE, Point(35.02, 50.01), DamageLevel.DESTROYED,
              {Trade.BRIDGE: 300.5, Trade.ROAD: 20.0}, work_buffer_m=150.0, synthetic=True),
        Asset("a-school", AssetType.SCHOOL, square(35.03, 50.03, 0.0005), DamageLevel.MODERATE,
              {Trade.BUILDING: 40.0, Trade.POWER: 5.0, Trade.WATER: 2.5}, people_served=400),
    ]


def rich_activities() -> list[Activity]:
    """Activities on ``h-2`` of :func:`rich_hazards`: a survey that cancels, a clearance that clears with devices."""
    west, east = shapely.box(35.02, 50.0, 35.021, 50.002), shapely.box(35.021, 50.0, 35.022, 50.002)
    return [
        Activity("act-1", "h-2", ActivityType.NTS, ActivityStatus.COMPLETED, organisation_id="org-1",
                 method=Method.SURVEY, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 3), cancelled=west),
        Activity("act-2", "h-2", ActivityType.CLEARANCE, ActivityStatus.ONGOING, organisation_id="org-1",
                 method=Method.MANUAL, start=dt.date(2025, 4, 1), cleared=east, clearance_depth_cm=13.0,
                 devices=(DeviceFound(Point(35.0215, 50.001), DeviceCategory.AP_MINE, "PMN-2",
                                      DeviceCondition.ARMED, 5.0),
                          DeviceFound(Point(35.0216, 50.0011), DeviceCategory.ERW_UXO))),
        Activity("act-3", "h-1", ActivityType.TS, ActivityStatus.PLANNED),
        Activity("act-4", "h-1", ActivityType.TS, ActivityStatus.SUSPENDED, reduced=shapely.Polygon()),
    ]


def rich_teams() -> list[DeminerTeam]:
    return [
        DeminerTeam("t-1", "org-1", Method.MANUAL, 8, Point(35.5, 50.5), 180.0),
        DeminerTeam("t-2", "org-1", Method.MECHANICAL, 10, Point(35.6, 50.4), 2500.0, synthetic=True),
    ]


def rich_brigades() -> list[BuilderBrigade]:
    return [
        BuilderBrigade("b-1", "org-2", Trade.ROAD, 25, Point(35.4, 50.6)),
        BuilderBrigade("b-2", "org-2", Trade.POWER, 12, Point(35.45, 50.65), synthetic=True),
    ]


@pytest.fixture
def hazards() -> list[HazardArea]:
    return rich_hazards()


@pytest.fixture
def assets() -> list[Asset]:
    return rich_assets()


@pytest.fixture
def activities() -> list[Activity]:
    return rich_activities()


@pytest.fixture
def teams() -> list[DeminerTeam]:
    return rich_teams()


@pytest.fixture
def brigades() -> list[BuilderBrigade]:
    return rich_brigades()


@pytest.fixture
def orgs() -> list[Organisation]:
    return [ORG, BUILDER]


def fill(store: Store) -> Store:
    """``store`` with one of everything (organisations, hazards, assets, activities, teams, brigades)."""
    with store.write() as uow:
        uow.add_organisations([ORG, BUILDER])
        uow.add_hazards(rich_hazards())
        uow.add_assets(rich_assets())
        uow.add_activities(rich_activities())
        uow.add_teams(rich_teams())
        uow.add_brigades(rich_brigades())
    return store


@pytest.fixture
def gpkg_filled(gpkg_store: Store) -> Store:
    """A GeoPackage store holding one of everything."""
    return fill(gpkg_store)


@pytest.fixture
def filled(store: Store, orgs: list[Organisation], hazards: list[HazardArea], assets: list[Asset],
           activities: list[Activity], teams: list[DeminerTeam], brigades: list[BuilderBrigade]) -> Store:
    """A store (each backend) holding one of everything (organisations, hazards, assets, activities, teams,
    brigades)."""
    with store.write() as uow:
        uow.add_organisations(orgs)
        uow.add_hazards(hazards)
        uow.add_assets(assets)
        uow.add_activities(activities)
        uow.add_teams(teams)
        uow.add_brigades(brigades)
    return store
