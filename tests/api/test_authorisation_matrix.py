"""The authorisation matrix, generated from the OpenAPI document: every operation × every user of the register (each
role, in the national authority and in two operators) × an object of the caller's own organisation and of another,
on both store backends.

What each route declares (``x-sapper-auth``: roles, scoped) is the source of truth:

* without credentials, every non-public operation is a 401;
* a role the rule does not name gets 403 (the role refusal), before any body is read;
* on a scoped route, an object of another organisation is a 404 for an operator's user — reads and writes alike, and
  nothing is written; 100 % of those requests are counted and must be denied;
* where the rule lets the caller in, a read of its own organisation's object is a 200 and a write is never refused
  for the role (a service may still refuse a finer case — e.g. only the authority's officers edit settlements — with
  its own message), so the matrix cannot pass by denying everything.

Write requests carry a stale ``If-Match`` or an empty body, so an allowed write is refused by validation (412, 422,
428) rather than changing the register under the rest of the matrix.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from sapper.api import Settings, create_app
from sapper.domain.accidents import Accident, AccidentKind, Sensitivity
from sapper.domain.hazards import DeviceCategory
from sapper.store import open_store
from tests.api.conftest import USERS, Api

from .test_authorisation import _operations

#: Objects per collection: (own organisation's for op-a users, another organisation's). None: not organisation-scoped.
OBJECTS: dict[str, tuple[str, str | None]] = {
    "hazard_areas": ("HA-A1", "HA-B1"),
    "activities": ("ACT-A", "ACT-B"),
    "assets": ("AS-1", None),
    "settlements": ("1", None),
    "plan_tasks": ("1", None),
}
ORGS = {name: org for name, (_, org) in USERS.items()}
AUTHORITY = "nmaa"
ROLE_REFUSAL = re.compile(r"^the role \S+ may not do this")


def _requests(path: str) -> list[tuple[str, str | None]]:
    """Concrete URLs for ``path`` with the organisation that owns the object addressed (None: no owner)."""
    if "{collectionId}" in path:
        out = []
        for collection, (own, other) in OBJECTS.items():
            base = path.replace("{collectionId}", collection)
            if "{featureId}" not in base:
                out.append((base, None))
                continue
            out.append((base.replace("{featureId}", own), "op-a" if other else None))
            if other is not None:
                out.append((base.replace("{featureId}", other), "op-b"))
        return out
    if "{hazard_id}" in path:
        return [(path.replace("{hazard_id}", "HA-A1"), "op-a"), (path.replace("{hazard_id}", "HA-B1"), "op-b")]
    if "{accident_id}" in path:
        return [(path.replace("{accident_id}", "AC-A"), "op-a"), (path.replace("{accident_id}", "AC-B"), "op-b")]
    return [(re.sub(r"\{[^}]+\}", "999", path), None)]


def _call(api: Api, method: str, url: str, user: str | None) -> Any:
    headers = {"If-Match": '"999"', "Content-Type": "application/merge-patch+json" if method == "patch"
               else "application/json"}
    body = None
    if method in ("post", "put", "patch"):
        body = b'{"time_limit_s": 0}' if url.endswith("/plans/jobs") else b"{}"  # a job that would not start
    return api.client.request(method.upper(), url, content=body, headers=headers,
                              auth=None if user is None else api.auth(user))


def _accidents(api: Api) -> None:
    """A public accident of each operator (public: every role of the organisation may read it)."""
    with open_store(api.target) as store, store.write() as uow:
        for org in ("a", "b"):
            uow.put_accident(Accident(f"AC-{org.upper()}", dt.date(2025, 6, 1), AccidentKind.MINE,
                                      DeviceCategory.AP_MINE, place="road", organisation_id=f"op-{org}",
                                      sensitivity=Sensitivity.PUBLIC))


def test_every_operation_for_every_user_and_organisation(api: Api) -> None:
    _accidents(api)
    spec = api.client.get("/api").json()
    operations = _operations(spec)
    tally: Counter[str] = Counter()
    failures: list[str] = []
    for path, method, op in operations:
        rule = op["x-sapper-auth"]
        assert isinstance(rule, dict)
        if path == "/api/session":
            continue  # signing in and out: tests/api/test_authorisation.py and test_guards.py
        for url, owner in _requests(path):
            r = _call(api, method, url, None)
            if rule["public"]:
                if r.status_code == 401:
                    failures.append(f"{method.upper()} {url} anonymous: 401 on a public route")
                continue
            tally["anonymous"] += 1
            if r.status_code != 401:
                failures.append(f"{method.upper()} {url} anonymous: {r.status_code}, not 401")
            for user, (role, org) in USERS.items():
                r = _call(api, method, url, user)
                detail = r.json().get("detail", "") if r.headers.get("content-type", "").endswith("json") else ""
                what = f"{method.upper()} {url} as {user} ({role.value}, {org}): {r.status_code} {detail}"
                if role.value not in rule["roles"]:
                    tally["role refused"] += 1
                    if r.status_code != 403 or not ROLE_REFUSAL.match(str(detail)):
                        failures.append(what + " — expected the role refusal")
                    continue
                cross = rule["scoped"] and owner is not None and org != AUTHORITY and owner != org
                if cross:
                    tally["cross-organisation"] += 1
                    if r.status_code != 404:
                        failures.append(what + " — another organisation's object must be a 404")
                    else:
                        tally["cross-organisation denied"] += 1
                    continue
                tally["allowed"] += 1
                if r.status_code in (401,) or (r.status_code == 403 and ROLE_REFUSAL.match(str(detail))):
                    failures.append(what + " — the rule lets this caller in")
                elif method in ("get", "options") and owner is not None and r.status_code not in (200, 204):
                    failures.append(what + " — a read of an object the caller may see")
    assert not failures, f"{len(failures)} cells of the matrix fail:\n" + "\n".join(failures[:40])
    assert tally["cross-organisation"] >= 40 and tally["cross-organisation denied"] == tally["cross-organisation"]
    assert tally["role refused"] > 20 and tally["allowed"] > 100 and tally["anonymous"] > 30
    with open_store(api.target) as store:  # nothing the matrix sent changed the register
        assert store.audit_entries() == []
        assert store.hazard("HA-B1").name == "Field B1" and store.hazard("HA-A1").name == "Field A1"
        assert [a.id for a in store.accidents()] == ["AC-A", "AC-B"] and store.counts()["victims"] == 0


def test_scoped_collections_list_only_the_callers_organisation(api: Api) -> None:
    """Every scoped collection's items, for every user: an operator's users see their organisation's records only;
    the authority's see every organisation's."""
    for collection, (_, other) in OBJECTS.items():
        if other is None:
            continue
        for user, (_, org) in USERS.items():
            r = api.client.get(f"/collections/{collection}/items?limit=1000", auth=api.auth(user))
            assert r.status_code == 200, (collection, user)
            orgs = {f["properties"]["organisation_id"] for f in r.json()["features"]}
            assert orgs == ({"op-a", "op-b"} if org == AUTHORITY else {org} & {"op-a", "op-b"}), (collection, user)


def _undeclared(app: FastAPI) -> list[str]:
    return [f"{m.upper()} {p}" for p, m, op in _operations(app.openapi()) if "x-sapper-auth" not in op]


def test_a_new_route_without_a_rule_fails_the_suite(tmp_path: Path) -> None:
    """The check the matrix and tests/api/test_authorisation.py rely on catches a route added without ``guard``."""
    app = create_app(Settings(db=tmp_path / "unused.gpkg", development=True))
    assert _undeclared(app) == []

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    app.openapi_schema = None
    assert _undeclared(app) == ["GET /api/v1/forgotten"]


@pytest.fixture(autouse=True)
def _no_plan_jobs_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan job the matrix would start (it sends an empty body, so none should) would change the register."""
    from sapper.services import jobs

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the matrix started a plan job")

    monkeypatch.setattr(jobs, "start_plan", refuse)
