"""Fixtures for the web service tests: a small register with three organisations (the national authority and two
operators) and a user per role, served by ``create_app`` through a TestClient, on both store backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import shapely
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from shapely.geometry import Point, Polygon

from sapper.api import Settings, create_app
from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.places import Settlement
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, OrgKind, Trade
from sapper.domain.users import Role
from sapper.services import accounts
from sapper.store import accounts as account_rows
from sapper.store import open_store
from sapper.store.cipher import DataKey

PASSWORD = "correct horse battery"
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)

#: The data key the test service runs with (a fresh random one per session, as in production).
DATA_KEY = DataKey.generate().text

#: user name → (role, organisation)
USERS = {
    "ima": (Role.IM_OFFICER, "nmaa"),
    "admin": (Role.ADMIN, "nmaa"),
    "viewer": (Role.VIEWER, "nmaa"),
    "plan-a": (Role.PLANNER, "op-a"),
    "field-a": (Role.FIELD, "op-a"),
    "plan-b": (Role.PLANNER, "op-b"),
    "view-a": (Role.VIEWER, "op-a"),
}

#: An irregular polygon whose vertices are not on any 100 m grid corner.
IRREGULAR = Polygon([(35.01234, 50.00123), (35.01987, 50.00211), (35.02113, 50.00876), (35.01456, 50.00937),
                     (35.01101, 50.00519)])


def hazards() -> list[HazardArea]:
    return [
        HazardArea("HA-A1", HazardClass.SHA, IRREGULAR, Evidence.INDIRECT, organisation_id="op-a", name="Field A1",
                   beneficiaries=100),
        HazardArea("HA-A2", HazardClass.CHA, shapely.box(35.10, 50.10, 35.11, 50.11), Evidence.DIRECT,
                   organisation_id="op-a", name="Forest A2"),
        HazardArea("HA-B1", HazardClass.SHA, shapely.box(35.30, 50.30, 35.31, 50.31), Evidence.INDIRECT,
                   organisation_id="op-b", name="Field B1"),
    ]


@dataclass
class Api:
    """A running app (TestClient) over a filled store, and where the store is."""

    client: TestClient
    target: str | Path

    def auth(self, user: str) -> tuple[str, str]:
        return (user, PASSWORD)


def fill(target: str | Path) -> None:
    """The register: three organisations, users, hazard areas of both operators, assets, activities, a team."""
    with open_store(target, create=True) as store:
        accounts.add_organisation(store, "nmaa", name="National Mine Action Authority", kind=OrgKind.AUTHORITY,
                                  authority=True)
        accounts.add_organisation(store, "op-a", name="Operator A")
        accounts.add_organisation(store, "op-b", name="Operator B")
        with store.write() as uow:  # a cheap argon2 hash (verification reads its parameters from the hash)
            for name, (role, org) in USERS.items():
                account_rows.add_user(uow.connection, name, role, org, CHEAP_HASH)
        store.add_hazards(hazards())
        store.add_assets([
            Asset("AS-1", AssetType.ROAD, shapely.LineString([(35.0, 50.0), (35.05, 50.02)]), DamageLevel.SEVERE,
                  {Trade.ROAD: 10.0}, criticality=3, name="Road H07"),
            Asset("AS-2", AssetType.BRIDGE, Point(35.305, 50.305), DamageLevel.DESTROYED, {Trade.BRIDGE: 50.0},
                  criticality=5, name="Bridge"),
        ])
        store.add_activities([
            Activity("ACT-A", "HA-A1", ActivityType.NTS, ActivityStatus.PLANNED, organisation_id="op-a",
                     method=Method.SURVEY, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 5)),
            Activity("ACT-B", "HA-B1", ActivityType.TS, ActivityStatus.PLANNED, organisation_id="op-b",
                     method=Method.SURVEY, start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 9)),
        ])
        store.add_teams([DeminerTeam("T-A", "op-a", Method.MANUAL, 8, Point(35.0, 50.0), 300.0),
                         DeminerTeam("T-B", "op-b", Method.MANUAL, 8, Point(35.3, 50.3), 300.0),
                         DeminerTeam("T-S", "op-a", Method.SURVEY, 4, Point(35.0, 50.0), 20_000.0)])
        store.add_brigades([BuilderBrigade("B-R", "nmaa", Trade.ROAD, 10, Point(35.0, 50.0)),
                            BuilderBrigade("B-B", "nmaa", Trade.BRIDGE, 10, Point(35.0, 50.0))])
        store.add_settlements([Settlement("Village", 900, Point(35.02, 50.01))])


@pytest.fixture
def api(store_target: str | Path) -> Iterator[Api]:
    """The app over a filled store on each backend."""
    fill(store_target)
    with TestClient(create_app(Settings(db=store_target, data_key=DATA_KEY))) as client:
        yield Api(client, store_target)
