"""Authorisation: every route declares a rule (walked from the OpenAPI document), organisation scoping on every
object route (another organisation's record is a 404, generated per route), tokens, sessions with CSRF, and the
viewer's generalised geometry; on both store backends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely
from fastapi.routing import APIRoute
from shapely.geometry import shape

from sapper.api import Settings, create_app
from sapper.api.auth import CSRF_HEADER
from sapper.services import accounts
from sapper.store import open_store
from tests.api.conftest import IRREGULAR, PASSWORD, Api

_METHODS = ("get", "post", "put", "patch", "delete", "options")


def _operations(openapi: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    return [(path, method, op) for path, item in paths.items() for method, op in item.items() if method in _METHODS]


def test_every_route_declares_an_authorisation_rule(tmp_path: Path) -> None:
    """Each operation in the OpenAPI document has x-sapper-auth, and each route really runs its rule's check."""
    app = create_app(Settings(db=tmp_path / "unused.gpkg", development=True))  # nothing is opened until the app starts
    operations = _operations(app.openapi())
    assert len(operations) > 20
    missing = [f"{m.upper()} {p}" for p, m, op in operations if "x-sapper-auth" not in op]
    assert not missing, f"routes without an authorisation rule: {missing}"
    unchecked = [r.path for r in app.routes if isinstance(r, APIRoute)
                 and not any(getattr(d.call, "__name__", "") == "check" for d in r.dependant.dependencies)]
    assert not unchecked, f"routes that do not run their rule: {unchecked}"


def _object_operations(api: Api) -> list[tuple[str, str]]:
    spec = api.client.get("/api").json()
    out = []
    for path, method, op in _operations(spec):
        rule = op["x-sapper-auth"]
        assert isinstance(rule, dict)
        if rule["scoped"] and re.search(r"\{(featureId|hazard_id)\}", path):
            out.append((path, method))
    return out


def test_cross_organisation_objects_are_404_on_every_object_route(api: Api) -> None:
    """For every scoped route on one object (from the OpenAPI document), operator A asking for operator B's
    hazard area gets 404, for reads and writes alike; nothing is written."""
    operations = _object_operations(api)
    assert {m for _, m in operations} >= {"get", "put", "patch", "delete", "options"}
    for path, method in operations:
        url = path.replace("{collectionId}", "hazard_areas").replace("{featureId}", "HA-B1").replace(
            "{hazard_id}", "HA-B1")
        r = api.client.request(method.upper(), url, auth=api.auth("plan-a"), content=b"{}",
                               headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"})
        assert r.status_code == 404, f"{method.upper()} {url}: {r.status_code}"
        assert r.headers["content-type"] == "application/problem+json"
    with open_store(api.target) as store:
        assert store.audit_entries() == []
        assert store.hazard("HA-B1").name == "Field B1"


def test_operator_lists_only_its_own_records(api: Api) -> None:
    """Operator A's items of hazard areas and activities and its teams are its own; the authority sees all."""
    def ids(user: str, name: str) -> list[str]:
        return [f["id"] for f in api.client.get(f"/collections/{name}/items", auth=api.auth(user)).json()["features"]]

    assert ids("plan-a", "hazard_areas") == ["HA-A1", "HA-A2"]
    assert ids("plan-b", "hazard_areas") == ["HA-B1"]
    assert ids("ima", "hazard_areas") == ["HA-A1", "HA-A2", "HA-B1"]
    assert ids("plan-a", "activities") == ["ACT-A"]
    teams = api.client.get("/api/v1/teams", auth=api.auth("plan-a")).json()["items"]
    assert [t["id"] for t in teams] == ["T-A", "T-S"]
    assert all({t["method"], "manual", "survey"} <= set(t["methods"]) for t in teams)  # the default capabilities


def test_cross_organisation_write_is_refused(api: Api) -> None:
    """Operator A cannot record a hazard area for operator B (422 naming organisation_id)."""
    body = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[35.0, 50.0], [35.01, 50.0],
                                                                               [35.01, 50.01], [35.0, 50.0]]]},
            "properties": {"organisation_id": "op-b"}}
    r = api.client.post("/collections/hazard_areas/items", json=body, auth=api.auth("plan-a"))
    assert r.status_code == 422
    assert r.json()["field"] == "organisation_id"


def test_viewer_never_sees_an_exact_vertex(api: Api) -> None:
    """A viewer's hazard geometry, in GeoJSON, HTML, another CRS and the single item, holds none of the recorded
    vertices, covers the recorded polygon and is marked generalised; an IM officer gets the exact polygon."""
    exact = {(round(x, 6), round(y, 6)) for x, y in shapely.get_coordinates(IRREGULAR)}
    texts = []
    for path in ("/collections/hazard_areas/items", "/collections/hazard_areas/items/HA-A1",
                 "/collections/hazard_areas/items?f=html", "/collections/hazard_areas/items?crs="
                 "http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F4326"):
        r = api.client.get(path, auth=api.auth("viewer"))
        assert r.status_code == 200
        texts.append(r.text)
    for text in texts:
        for x, y in exact:
            assert f"{x}" not in text or f"{y}" not in text
    feature = api.client.get("/collections/hazard_areas/items/HA-A1", auth=api.auth("viewer")).json()
    assert feature["properties"]["generalised"] is True
    footprint = shape(feature["geometry"])
    vertices = {(round(x, 6), round(y, 6)) for x, y in shapely.get_coordinates(footprint)}
    assert not vertices & exact
    assert footprint.buffer(1e-6).covers(IRREGULAR)
    precise = api.client.get("/collections/hazard_areas/items/HA-A1", auth=api.auth("ima")).json()
    assert shape(precise["geometry"]).equals_exact(IRREGULAR, 1e-9)
    assert precise["properties"]["generalised"] is False


def test_bearer_token_and_revocation(api: Api) -> None:
    """A token issued by the service authenticates as bearer; a revoked or made-up one is a 401."""
    with open_store(api.target) as store:
        issued = accounts.issue_token(store, "plan-a", days=1)
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert api.client.get("/api/v1/me", headers=headers).json()["name"] == "plan-a"
    assert api.client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    with open_store(api.target) as store:
        assert accounts.revoke_tokens(store, "plan-a") == 1
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401


def test_browser_session_needs_csrf_on_writes(api: Api) -> None:
    """Signing in sets an HttpOnly, SameSite=Strict session cookie; a write without the CSRF header is a 403,
    with it the write goes through."""
    r = api.client.post("/api/session", json={"name": "ima", "password": PASSWORD})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("sapper_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session
    csrf = r.json()["csrf_token"]
    assert api.client.get("/collections/hazard_areas/items").status_code == 200
    body = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[35.0, 50.0], [35.01, 50.0],
                                                                               [35.01, 50.01], [35.0, 50.0]]]},
            "properties": {}}
    refused = api.client.post("/collections/hazard_areas/items", json=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert api.client.post("/collections/hazard_areas/items", json=body,
                           headers={CSRF_HEADER: csrf}).status_code == 201
    assert api.client.post("/api/session", json={"name": "ima", "password": "wrong"}).status_code == 401


@pytest.mark.parametrize("user", ["viewer", "field-a"])
def test_audit_is_for_officers(api: Api, user: str) -> None:
    """The audit trail is refused (403) to viewers and field users."""
    assert api.client.get("/api/v1/audit", auth=api.auth(user)).status_code == 403
