"""OGC API – Features Part 4 beyond hazard areas, through the app on both store backends: assets (the
reconstruction side adds and changes them through the asset rules), settlements (the authority's admin and IM
officers), activities (recorded through the land-release service; the ledger is append-only: 405 on PUT, PATCH and
DELETE) and the plan's tasks (read-only). Every write: organisation (404), role (403), ETag/If-Match (412, 428),
geometry repaired and said or refused naming it, and an audit row in the same transaction."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from sapper.domain.geometry import area_m2
from sapper.domain.resources import OrgKind
from sapper.domain.users import Role
from sapper.services import accounts
from sapper.store import accounts as account_rows
from sapper.store import open_store
from tests.api.conftest import CHEAP_HASH, Api


@pytest.fixture
def recon(api: Api) -> Api:
    """The register with a reconstruction contractor ("recon") whose planner "builder" keeps assets."""
    with open_store(api.target) as store:
        accounts.add_organisation(store, "recon", name="Reconstruction Agency", kind=OrgKind.CONTRACTOR)
        with store.write() as uow:
            account_rows.add_user(uow.connection, "builder", Role.PLANNER, "recon", CHEAP_HASH)
    return api


def _audit(api: Api, table: str, record: str) -> list[tuple[str, str, str]]:
    with open_store(api.target) as store:
        return [(e.action, e.actor, e.reason) for e in store.audit_entries(table_name=table, record_id=record)]


def _all_audit(api: Api) -> list[str]:
    with open_store(api.target) as store:
        return [f"{e.table_name}/{e.record_id}/{e.action}" for e in store.audit_entries()]


def _patch(api: Api, path: str, body: dict[str, Any], user: str, etag: str) -> Any:
    return api.client.patch(path, content=json.dumps(body), auth=api.auth(user),
                            headers={"If-Match": etag, "Content-Type": "application/merge-patch+json"})


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": shapely.geometry.mapping(geometry) if geometry is not None else None,
            "properties": properties}


ROAD = _feature(shapely.LineString([(35.2, 50.2), (35.25, 50.21)]), name="Road P12", asset_type="road",
                damage="severe", criticality=4, work_road_bd=30)


# ----------------------------------------------------------------------------------------------------------------
# Assets
# ----------------------------------------------------------------------------------------------------------------


def test_asset_post_patch_put_delete_round_trip_is_audited(recon: Api) -> None:
    """The reconstruction planner adds a road (201, Location, ETag), changes its damage by merge patch, replaces it
    and deletes it; each step needs the current ETag and leaves an audit row with who and why."""
    api = recon
    r = api.client.post("/collections/assets/items", json=ROAD, auth=api.auth("builder"),
                        headers={"Sapper-Reason": "damage survey 2026-11"})
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    assert new_id.startswith("AS-")
    assert r.headers["location"].endswith(f"/collections/assets/items/{new_id}")
    assert r.headers["etag"] == '"1"'
    path = f"/collections/assets/items/{new_id}"
    patched = _patch(api, path, {"properties": {"damage": "destroyed", "work_bridge_bd": 5}}, "builder", '"1"')
    assert patched.status_code == 200, patched.text
    props = patched.json()["properties"]
    assert (props["damage"], props["asset_type"], props["work_road_bd"], props["work_bridge_bd"]) == (
        "destroyed", "road", 30.0, 5.0)
    assert patched.headers["etag"] == '"2"'
    assert _patch(api, path, {"properties": {"name": "late"}}, "builder", '"1"').status_code == 412
    school = _feature(shapely.box(35.2, 50.2, 35.201, 50.201), name="School 3", asset_type="school",
                      damage="moderate", work_building_bd=80)
    put = api.client.put(path, json=school, headers={"If-Match": '"2"'}, auth=api.auth("builder"))
    assert put.status_code == 200, put.text
    assert (put.json()["properties"]["asset_type"], put.json()["properties"]["work_road_bd"]) == ("school", 0.0)
    assert put.json()["geometry"]["type"] == "Polygon"
    assert api.client.delete(path, headers={"If-Match": '"3"'}, auth=api.auth("builder")).status_code == 204
    assert api.client.get(path, auth=api.auth("builder")).status_code == 404
    assert [(a, who) for a, who, _ in _audit(api, "assets", new_id)] == [
        ("delete", "builder"), ("update", "builder"), ("update", "builder"), ("insert", "builder")]
    assert _audit(api, "assets", new_id)[-1][2] == "damage survey 2026-11"
    with open_store(api.target) as store:
        first = store.audit_entries(table_name="assets", record_id=new_id)[-2]
    assert json.loads(first.before_json or "{}")["damage"] == "severe"
    assert json.loads(first.after_json or "{}")["damage"] == "destroyed"


@pytest.mark.parametrize(("change", "field"), [
    ({"geometry": {"type": "Point", "coordinates": [35.2, 50.2]}}, "geometry"),  # a road is a line
    ({"properties": {"work_road_bd": 0}}, "work_*_bd"),  # no repair work left
    ({"properties": {"criticality": 9}}, "properties.criticality"),
    ({"properties": {"asset_type": "castle"}}, "asset_type"),
    ({"properties": {"colour": "red"}}, "properties.colour"),
])
def test_asset_rules_refuse_naming_the_field(recon: Api, change: dict[str, Any], field: str) -> None:
    """An asset that breaks the register's rules is a 422 naming the field; nothing is written."""
    r = _patch(recon, "/collections/assets/items/AS-1", change, "ima", '"1"')
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert recon.client.get("/collections/assets/items/AS-1", auth=recon.auth("ima")).headers["etag"] == '"1"'
    assert _all_audit(recon) == []


def test_asset_polygon_is_repaired_and_said_and_type_and_damage_are_required(recon: Api) -> None:
    """A bow-tie building footprint is repaired with make_valid (said in the header and body); a new asset without
    its type and damage is refused naming both."""
    bowtie = _feature(shapely.Polygon([(35.2, 50.2), (35.201, 50.201), (35.201, 50.2), (35.2, 50.201)]),
                      asset_type="clinic", damage="light", work_building_bd=10)
    r = recon.client.post("/collections/assets/items", json=bowtie, auth=recon.auth("builder"))
    assert r.status_code == 201, r.text
    assert "make_valid" in r.headers["sapper-geometry-repair"]
    assert shape(r.json()["geometry"]).is_valid
    bare = _feature(shapely.Point(35.2, 50.2), work_building_bd=10)
    refused = recon.client.post("/collections/assets/items", json=bare, auth=recon.auth("builder"))
    assert refused.status_code == 422
    assert "asset_type" in refused.json()["detail"] and "damage" in refused.json()["detail"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("user", ["plan-a", "field-a", "viewer"])
def test_operators_and_readers_cannot_write_assets(recon: Api, method: str, user: str) -> None:
    """A demining operator's planner and field user get 403 on every asset write (a viewer too); the asset and the
    audit are unchanged."""
    path = "/collections/assets/items" if method == "post" else "/collections/assets/items/AS-1"
    r = recon.client.request(method.upper(), path, content=json.dumps(ROAD), auth=recon.auth(user),
                             headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert _all_audit(recon) == []


def test_asset_if_match_is_checked_before_the_body(recon: Api) -> None:
    """A stale If-Match is a 412 even for a body that is not JSON; a PUT without If-Match is a 428."""
    r = recon.client.put("/collections/assets/items/AS-1", content=b"{not json", auth=recon.auth("builder"),
                         headers={"If-Match": '"5"'})
    assert r.status_code == 412
    assert r.headers["etag"] == '"1"'
    assert recon.client.put("/collections/assets/items/AS-1", json=ROAD, auth=recon.auth("builder")).status_code \
        == 428


# ----------------------------------------------------------------------------------------------------------------
# Settlements
# ----------------------------------------------------------------------------------------------------------------


def test_settlement_round_trip_with_digest_etag(api: Api) -> None:
    """The authority's IM officer adds a settlement (its id is the feature id), changes it with the digest ETag it
    read, is refused with the old ETag (412), and deletes it; audited."""
    r = api.client.post("/collections/settlements/items", json=_feature(shapely.Point(35.04, 50.03),
                                                                        name="Hamlet", population=40),
                        auth=api.auth("ima"))
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    path = f"/collections/settlements/items/{fid}"
    first = r.headers["etag"]
    assert api.client.get(path, auth=api.auth("ima")).headers["etag"] == first
    changed = _patch(api, path, {"properties": {"population": 55}}, "ima", first)
    assert changed.status_code == 200, changed.text
    assert changed.json()["properties"] == {"fid": int(fid), "name": "Hamlet", "population": 55, "source": "",
                                            "synthetic": 0}
    assert changed.headers["etag"] != first
    assert _patch(api, path, {"properties": {"population": 1}}, "ima", first).status_code == 412
    assert api.client.delete(path, headers={"If-Match": changed.headers["etag"]},
                             auth=api.auth("admin")).status_code == 204
    assert [a for a, _, _ in _audit(api, "settlements", fid)] == ["delete", "update", "insert"]


def test_settlement_writes_are_for_the_authoritys_officers(recon: Api) -> None:
    """An operator's or contractor's planner, a field user and a viewer get 403; a line is refused naming
    geometry; a settlement given in EPSG:3857 (Content-Crs) is stored in CRS84."""
    body = _feature(shapely.Point(35.04, 50.03), name="Hamlet")
    for user in ("plan-a", "builder", "field-a", "viewer"):
        assert recon.client.post("/collections/settlements/items", json=body,
                                 auth=recon.auth(user)).status_code == 403, user
    line = _feature(shapely.LineString([(35.0, 50.0), (35.1, 50.1)]), name="Strip")
    refused = recon.client.post("/collections/settlements/items", json=line, auth=recon.auth("ima"))
    assert refused.status_code == 422
    assert refused.json()["field"] == "geometry"
    mercator = _feature(shapely.Point(3896182.178, 6446275.841), name="Projected")  # 35.0E 50.0N
    r = recon.client.post("/collections/settlements/items", json=mercator, auth=recon.auth("ima"),
                          headers={"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/3857>"})
    assert r.status_code == 201, r.text
    x, y = r.json()["geometry"]["coordinates"]
    assert (round(x, 5), round(y, 5)) == (35.0, 50.0)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_settlement_changes_are_refused_to_operators_per_method(recon: Api, method: str) -> None:
    """PUT, PATCH and DELETE of a settlement by an operator's planner, a contractor's planner or a field user are
    403 (the authority keeps the gazetteer); the settlement and the audit are unchanged."""
    body = json.dumps(_feature(shapely.Point(35.0, 50.0), name="Renamed"))
    tag = recon.client.get("/collections/settlements/items/1", auth=recon.auth("ima")).headers["etag"]
    for user in ("plan-a", "builder", "field-a"):
        r = recon.client.request(method.upper(), "/collections/settlements/items/1", content=body,
                                 auth=recon.auth(user), headers={"If-Match": tag,
                                                                 "Content-Type": "application/merge-patch+json"})
        assert r.status_code == 403, f"{method} {user}: {r.status_code}"
    assert recon.client.get("/collections/settlements/items/1", auth=recon.auth("ima")).json()["properties"][
        "name"] == "Village"
    assert _all_audit(recon) == []


# ----------------------------------------------------------------------------------------------------------------
# Activities
# ----------------------------------------------------------------------------------------------------------------

#: A clearance outcome that covers the west half of HA-A2 (35.10–35.11, 50.10–50.11) and as much again outside it.
HALF_OUTSIDE = shapely.box(35.095, 50.10, 35.105, 50.11)


def test_activity_is_recorded_through_land_release_and_its_clipping_said(api: Api) -> None:
    """Operator A's planner records a clearance on its confirmed area: 201 with a server id; the outcome is
    clipped to the hazard and the response says how much was clipped; the land-release history holds the activity;
    the area is processed in part, not released; an audit row names who and why."""
    body = _feature(HALF_OUTSIDE, hazard_id="HA-A2", activity_type="clearance", method="manual",
                    start_date="2026-10-01", end_date="2026-10-20", clearance_depth_cm=20)
    r = api.client.post("/collections/activities/items", json=body, auth=api.auth("plan-a"),
                        headers={"Sapper-Reason": "completion report CR-7"})
    assert r.status_code == 201, r.text
    act = r.json()
    assert act["id"].startswith("ACT-")
    assert r.headers["location"].endswith(f"/collections/activities/items/{act['id']}")
    outside = area_m2(shapely.box(35.095, 50.10, 35.10, 50.11))
    assert float(r.headers["sapper-outcome-clipped-m2"]) == pytest.approx(outside, rel=0.01)
    assert "clipped off" in act["notes"][0]
    assert act["properties"]["organisation_id"] == "op-a"
    stored = shape(act["geometry"])
    assert stored.within(shapely.box(35.10, 50.10, 35.11, 50.11).buffer(1e-6)), stored.bounds  # ~0.1 m
    with open_store(api.target) as store:
        events = store.release_events("HA-A2")
    assert [e.activity.id for e in events if e.activity is not None] == [act["id"]]
    hazard = api.client.get("/collections/hazard_areas/items/HA-A2", auth=api.auth("plan-a")).json()
    assert hazard["properties"]["release_phase"] == "in_progress"
    assert hazard["properties"]["state"] != "released"
    assert _audit(api, "activities", act["id"]) == [("insert", "plan-a", "completion report CR-7")]


def test_activity_type_decides_the_outcome(api: Api) -> None:
    """An NTS's geometry is land it cancels (on a suspected area; on a confirmed one the land-release rules refuse
    it, 409); an NTS naming a cleared outcome is a 422 naming outcome; a field user may record activities."""
    nts = _feature(shapely.box(35.013, 50.003, 35.015, 50.005), hazard_id="HA-A1", activity_type="nts")
    r = api.client.post("/collections/activities/items", json=nts, auth=api.auth("field-a"))
    assert r.status_code == 201, r.text
    with open_store(api.target) as store:
        recorded = next(e.activity for e in store.release_events("HA-A1") if e.activity is not None)
    assert recorded.cancelled is not None and recorded.cleared is None and recorded.reduced is None
    on_cha = dict(nts, geometry=shapely.geometry.mapping(shapely.box(35.10, 50.10, 35.102, 50.102)),
                  properties={"hazard_id": "HA-A2", "activity_type": "nts"})
    refused = api.client.post("/collections/activities/items", json=on_cha, auth=api.auth("field-a"))
    assert refused.status_code == 409, refused.text
    assert "confirmed area" in refused.json()["detail"]
    wrong = dict(nts, properties={**nts["properties"], "outcome": "cleared"})
    refused = api.client.post("/collections/activities/items", json=wrong, auth=api.auth("field-a"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "outcome"
    assert [a for a, _, _ in _audit(api, "activities", r.json()["id"])] == ["insert"]
    assert len(_all_audit(api)) == 1


def test_activity_on_another_organisations_area_is_not_found(api: Api) -> None:
    """Operator A recording on operator B's area gets 404, as for an area that does not exist; nothing written."""
    body = _feature(shapely.box(35.30, 50.30, 35.301, 50.301), hazard_id="HA-B1", activity_type="ts")
    assert api.client.post("/collections/activities/items", json=body, auth=api.auth("plan-a")).status_code == 404
    with open_store(api.target) as store:
        assert store.release_events("HA-B1") == []
    assert _all_audit(api) == []
    assert api.client.post("/collections/activities/items", json=body, auth=api.auth("viewer")).status_code == 403


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_recorded_activities_are_append_only(api: Api, method: str) -> None:
    """PUT, PATCH and DELETE of one's own recorded activity is a 405 saying the ledger is append-only (Allow: GET,
    HEAD, OPTIONS); of another organisation's, a 404; nothing is written."""
    r = api.client.request(method.upper(), "/collections/activities/items/ACT-A", auth=api.auth("plan-a"),
                           content=b"{}", headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
    assert "append-only" in r.json()["detail"]
    other = api.client.request(method.upper(), "/collections/activities/items/ACT-B", auth=api.auth("plan-a"),
                               content=b"{}", headers={"If-Match": '"1"'})
    assert other.status_code == 404
    assert _all_audit(api) == []


@pytest.mark.parametrize("method", ["get", "options", "put", "patch", "delete"])
def test_cross_organisation_activity_routes_are_404(api: Api, method: str) -> None:
    """Every route on one activity answers operator B's activity to operator A's users with 404."""
    for user in ("plan-a", "field-a"):
        r = api.client.request(method.upper(), "/collections/activities/items/ACT-B", auth=api.auth(user),
                               content=b"{}", headers={"If-Match": '"1"'})
        assert r.status_code == 404, f"{method} {user}: {r.status_code}"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_plan_tasks_are_read_only(api: Api, method: str) -> None:
    """Writing to a planned task is a 405 with Allow: GET, HEAD, OPTIONS, whoever asks."""
    r = api.client.request(method.upper(), "/collections/plan_tasks/items/T1", auth=api.auth("ima"),
                           content=b"{}", headers={"If-Match": '"1"'})
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
