"""OGC API – Features Part 4 through the app: POST, PUT, PATCH, DELETE of hazard areas with ETag/If-Match, the
domain rules (class and status only through land release, geometry repaired or refused) and the audit row written
with every change, on both store backends."""

from __future__ import annotations

import json

from sapper.store import open_store
from tests.api.conftest import Api

NEW = {"type": "Feature",
       "geometry": {"type": "Polygon", "coordinates": [[[35.05, 50.05], [35.06, 50.05], [35.06, 50.06],
                                                        [35.05, 50.06], [35.05, 50.05]]]},
       "properties": {"name": "New field", "hazard_class": "SHA", "evidence": "indirect", "land_use": "forest"}}


def _audit(api: Api, record: str) -> list[tuple[str, str, str]]:
    with open_store(api.target) as store:
        return [(e.action, e.actor, e.reason) for e in store.audit_entries(table_name="hazard_areas",
                                                                           record_id=record)]


def test_options_announce_what_the_caller_may_do(api: Api) -> None:
    """OPTIONS on items announces POST where the caller may add (QGIS enables editing on it): hazard areas,
    assets, settlements and activities for the authority's IM officer; activities append-only (a recorded one
    takes GET only); the plan's tasks read-only for everyone, and POST to them is a 405 with Allow."""
    def allow(path: str, user: str = "ima") -> set[str]:
        r = api.client.options(path, auth=api.auth(user))
        assert r.status_code == 204, r.text
        return {m.strip() for m in r.headers["allow"].split(",")}

    for name in ("hazard_areas", "assets", "settlements", "activities"):
        assert "POST" in allow(f"/collections/{name}/items"), name
    assert {"PUT", "PATCH", "DELETE"} <= allow("/collections/hazard_areas/items/HA-A1")
    assert {"PUT", "PATCH", "DELETE"} <= allow("/collections/assets/items/AS-1")
    assert {"PUT", "PATCH", "DELETE"} <= allow("/collections/settlements/items/1")
    assert allow("/collections/activities/items/ACT-A") == {"GET", "HEAD", "OPTIONS"}
    assert allow("/collections/plan_tasks/items") == {"GET", "HEAD", "OPTIONS"}
    refused = api.client.post("/collections/plan_tasks/items", json=NEW, auth=api.auth("ima"))
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, OPTIONS"
    # A viewer is told every collection is read-only; an operator's planner may not add assets or settlements.
    assert "POST" not in allow("/collections/hazard_areas/items", "viewer")
    assert "POST" not in allow("/collections/assets/items", "plan-a")
    assert "POST" not in allow("/collections/settlements/items", "plan-a")
    assert "POST" in allow("/collections/activities/items", "field-a")


def test_post_patch_delete_round_trip_is_audited(api: Api) -> None:
    """POST assigns an id (201 + Location + ETag); PATCH with If-Match changes it; DELETE removes it; each write
    left an audit row with who and why, in the store."""
    r = api.client.post("/collections/hazard_areas/items", json=NEW, auth=api.auth("plan-a"),
                        headers={"Sapper-Reason": "reported by the village council"})
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    assert r.headers["location"].endswith(f"/collections/hazard_areas/items/{new_id}")
    assert r.headers["etag"] == '"1"'
    assert r.json()["properties"]["organisation_id"] == "op-a"  # an operator records for itself
    patched = api.client.patch(f"/collections/hazard_areas/items/{new_id}",
                               content=json.dumps({"properties": {"name": "Renamed", "beneficiaries": 40}}),
                               headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
                               auth=api.auth("plan-a"))
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"'
    assert patched.json()["properties"]["name"] == "Renamed"
    assert patched.json()["properties"]["land_use"] == "forest"  # untouched by the merge patch
    gone = api.client.delete(f"/collections/hazard_areas/items/{new_id}", headers={"If-Match": '"2"'},
                             auth=api.auth("plan-a"))
    assert gone.status_code == 204
    assert api.client.get(f"/collections/hazard_areas/items/{new_id}", auth=api.auth("plan-a")).status_code == 404
    assert _audit(api, new_id) == [("delete", "plan-a", "no reason given (DELETE from testclient)"),
                                   ("update", "plan-a", "no reason given (PATCH from testclient)"),
                                   ("insert", "plan-a", "reported by the village council")]
    with open_store(api.target) as store:
        entries = store.audit_entries(record_id=new_id)
    update = next(e for e in entries if e.action == "update")
    assert json.loads(update.before_json or "{}")["name"] == "New field"
    assert json.loads(update.after_json or "{}")["name"] == "Renamed"


def test_stale_if_match_is_412_before_the_body_is_read(api: Api) -> None:
    """A stale If-Match is a 412 even with a body that is not JSON; a PUT without If-Match is a 428 (PATCH and
    DELETE may omit it, as QGIS does); nothing is written."""
    r = api.client.patch("/collections/hazard_areas/items/HA-A1", content=b"{not json",
                         headers={"If-Match": '"7"', "Content-Type": "application/merge-patch+json"},
                         auth=api.auth("plan-a"))
    assert r.status_code == 412
    assert r.headers["etag"] == '"1"'
    assert api.client.put("/collections/hazard_areas/items/HA-A1", json=NEW, auth=api.auth("plan-a")).status_code \
        == 428
    assert api.client.delete("/collections/hazard_areas/items/HA-A1", headers={"If-Match": '"2"'},
                             auth=api.auth("plan-a")).status_code == 412
    assert _audit(api, "HA-A1") == []


def test_status_and_class_change_only_through_land_release(api: Api) -> None:
    """PATCH naming a new status or class is a 422 naming the field; nothing is written."""
    for field, value in (("status", "closed"), ("hazard_class", "CHA")):
        r = api.client.patch("/collections/hazard_areas/items/HA-A1",
                             content=json.dumps({"properties": {field: value}}),
                             headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
                             auth=api.auth("plan-a"))
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field
    assert api.client.get("/collections/hazard_areas/items/HA-A1", auth=api.auth("plan-a")).headers["etag"] == '"1"'


def test_invalid_geometry_is_repaired_and_said(api: Api) -> None:
    """A self-intersecting (bow-tie) polygon is repaired with make_valid, and the response says so."""
    bowtie = dict(NEW, geometry={"type": "Polygon", "coordinates": [[[35.05, 50.05], [35.06, 50.06],
                                                                     [35.06, 50.05], [35.05, 50.06],
                                                                     [35.05, 50.05]]]})
    r = api.client.post("/collections/hazard_areas/items", json=bowtie, auth=api.auth("ima"))
    assert r.status_code == 201, r.text
    assert "make_valid" in r.headers["sapper-geometry-repair"]
    assert r.json()["repairs"]
    line = dict(NEW, geometry={"type": "LineString", "coordinates": [[35.0, 50.0], [35.1, 50.1]]})
    refused = api.client.post("/collections/hazard_areas/items", json=line, auth=api.auth("ima"))
    assert refused.status_code == 422
    assert refused.json()["field"] == "geometry"


def test_unknown_property_is_refused_naming_it(api: Api) -> None:
    """A POST with a property the layer does not have is a 422 naming it."""
    bad = dict(NEW, properties={**NEW["properties"], "colour": "red"})
    r = api.client.post("/collections/hazard_areas/items", json=bad, auth=api.auth("ima"))
    assert r.status_code == 422
    assert "colour" in r.json()["field"]


def test_viewer_and_field_roles_cannot_edit_hazards(api: Api) -> None:
    """A viewer and a field user get 403 on POST; the audit stays empty."""
    for user in ("viewer", "field-a"):
        assert api.client.post("/collections/hazard_areas/items", json=NEW, auth=api.auth(user)).status_code == 403


def test_put_replaces_the_feature(api: Api) -> None:
    """PUT replaces attributes and geometry; unsent attributes take their defaults."""
    body = dict(NEW, properties={"name": "Replaced", "evidence": "indirect"})
    r = api.client.put("/collections/hazard_areas/items/HA-A1", json=body, headers={"If-Match": '"1"'},
                       auth=api.auth("plan-a"))
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert (props["name"], props["beneficiaries"], props["land_use"]) == ("Replaced", 0, "other")
    assert r.json()["geometry"]["coordinates"][0][0] == [35.05, 50.05]
