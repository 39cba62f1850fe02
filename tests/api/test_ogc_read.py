"""OGC API – Features Parts 1–3 through the app: landing page, conformance, collections, items with paging, bbox,
datetime, CRS and CQL2 filters, on both store backends."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api


def test_landing_and_conformance_are_public(api: Api) -> None:
    """The landing page links the OpenAPI document, conformance and collections; conformance lists Parts 1–4."""
    landing = api.client.get("/").json()
    assert {ln["rel"] for ln in landing["links"]} >= {"service-desc", "conformance", "data"}
    classes = api.client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in classes
    assert api.client.get("/api").json()["openapi"].startswith("3.")


def test_data_without_credentials_is_401(api: Api) -> None:
    """Collections and items without credentials get 401 with a Basic challenge, as problem+json."""
    for path in ("/collections", "/collections/hazard_areas/items", "/collections/assets/items/AS-1"):
        r = api.client.get(path)
        assert r.status_code == 401, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Basic")
    assert api.client.get("/collections", auth=("ima", "wrong password")).status_code == 401


def test_collections_list_every_layer(api: Api) -> None:
    """The five collections are listed with items and queryables links and the offered CRSs."""
    body = api.client.get("/collections", auth=api.auth("ima")).json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["hazard_areas", "assets", "activities", "settlements", "plan_tasks"]
    hazards = body["collections"][0]
    assert "http://www.opengis.net/def/crs/EPSG/0/32637" in hazards["crs"]


def test_items_page_with_next_and_prev_links(api: Api) -> None:
    """limit/offset page through the features; numberMatched counts all, next/prev links follow."""
    first = api.client.get("/collections/hazard_areas/items?limit=2", auth=api.auth("ima"))
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    body = first.json()
    assert (body["numberMatched"], body["numberReturned"]) == (3, 2)
    assert [f["id"] for f in body["features"]] == ["HA-A1", "HA-A2"]
    nxt = next(ln["href"] for ln in body["links"] if ln["rel"] == "next")
    second = api.client.get(nxt, auth=api.auth("ima")).json()
    assert [f["id"] for f in second["features"]] == ["HA-B1"]
    assert not [ln for ln in second["links"] if ln["rel"] == "next"]
    assert any(ln["rel"] == "prev" for ln in second["links"])


def test_bbox_selects_through_the_index(api: Api) -> None:
    """A bbox around operator B's area returns only it (and its count)."""
    body = api.client.get("/collections/hazard_areas/items?bbox=35.29,50.29,35.32,50.32",
                          auth=api.auth("ima")).json()
    assert [f["id"] for f in body["features"]] == ["HA-B1"]
    assert body["numberMatched"] == 1


def test_datetime_interval_on_activities(api: Api) -> None:
    """datetime selects activities whose dates meet the interval; a layer without dates refuses it."""
    body = api.client.get("/collections/activities/items?datetime=2026-05-01/..", auth=api.auth("ima")).json()
    assert [f["id"] for f in body["features"]] == ["ACT-B"]
    r = api.client.get("/collections/hazard_areas/items?datetime=2026-05-01", auth=api.auth("ima"))
    assert r.status_code == 422


@pytest.mark.parametrize(("cql", "expected"), [
    ("name = 'Field B1'", ["HA-B1"]),
    ("name LIKE 'Field%'", ["HA-A1", "HA-B1"]),
    ("hazard_class IN ('CHA')", ["HA-A2"]),
    ("beneficiaries BETWEEN 50 AND 150", ["HA-A1"]),
    ("hazard_class = 'SHA' AND NOT name = 'Field A1'", ["HA-B1"]),
    ("(hazard_class = 'SHA') AND (NOT (name = 'Field A1'))", ["HA-B1"]),
    ("S_INTERSECTS(geom, POLYGON((35.295 50.295, 35.305 50.295, 35.305 50.305, 35.295 50.305, 35.295 50.295)))",
     ["HA-B1"]),
    ("S_WITHIN(geometry, BBOX(35.0, 50.0, 35.2, 50.2))", ["HA-A1", "HA-A2"]),
])
def test_cql2_filters_run_in_sql(api: Api, cql: str, expected: list[str]) -> None:
    """CQL2-text comparison, LIKE, IN, BETWEEN, NOT, S_INTERSECTS and S_WITHIN select the right features."""
    r = api.client.get("/collections/hazard_areas/items", params={"filter": cql, "filter-lang": "cql2-text"},
                       auth=api.auth("ima"))
    assert r.status_code == 200, r.text
    assert [f["id"] for f in r.json()["features"]] == expected
    assert r.json()["numberMatched"] == len(expected)


def test_unknown_property_in_filter_is_a_400_naming_it(api: Api) -> None:
    """A filter on a property the collection lacks is a 400 problem naming the property."""
    r = api.client.get("/collections/hazard_areas/items", params={"filter": "colour = 'red'"}, auth=api.auth("ima"))
    assert r.status_code == 400
    problem = r.json()
    assert problem["field"] == "colour" and "colour" in problem["detail"]
    assert api.client.get("/collections/hazard_areas/items", params={"filter": "name ==="},
                          auth=api.auth("ima")).status_code == 400


def test_queryables_are_json_schema(api: Api) -> None:
    """Queryables list the collection's properties with JSON Schema types."""
    r = api.client.get("/collections/activities/queryables", auth=api.auth("ima"))
    props = r.json()["properties"]
    assert props["start_date"] == {"type": "string", "title": "start_date", "format": "date"}
    assert props["hazard_id"]["type"] == "string"


def test_crs_epsg4326_is_lat_lon_and_utm_is_metres(api: Api) -> None:
    """crs=EPSG:4326 answers latitude first; EPSG:32636 in metres; Content-Crs names the CRS."""
    uri = "http://www.opengis.net/def/crs/EPSG/0/4326"
    r = api.client.get("/collections/assets/items/AS-2", params={"crs": uri}, auth=api.auth("ima"))
    assert r.headers["content-crs"] == f"<{uri}>"
    assert r.json()["geometry"]["coordinates"] == pytest.approx([50.305, 35.305])
    utm = api.client.get("/collections/assets/items/AS-2",
                         params={"crs": "http://www.opengis.net/def/crs/EPSG/0/32636"}, auth=api.auth("ima"))
    from pyproj import Transformer

    expected = Transformer.from_crs("OGC:CRS84", "EPSG:32636", always_xy=True).transform(35.305, 50.305)
    assert utm.json()["geometry"]["coordinates"] == pytest.approx(list(expected), abs=0.01)
    assert api.client.get("/collections/assets/items", params={"crs": "EPSG:9999"},
                          auth=api.auth("ima")).status_code == 400


def test_bbox_crs_in_metres(api: Api) -> None:
    """bbox-crs=EPSG:3857 selects the same area as the equivalent CRS84 box."""
    from pyproj import Transformer

    tr = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    x1, y1 = tr.transform(35.29, 50.29)
    x2, y2 = tr.transform(35.32, 50.32)
    body = api.client.get("/collections/hazard_areas/items",
                          params={"bbox": f"{x1},{y1},{x2},{y2}",
                                  "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
                          auth=api.auth("ima")).json()
    assert [f["id"] for f in body["features"]] == ["HA-B1"]


def test_html_encoding(api: Api) -> None:
    """f=html (or Accept: text/html) gives an HTML page of the items."""
    r = api.client.get("/collections/hazard_areas/items?f=html", auth=api.auth("ima"))
    assert r.headers["content-type"].startswith("text/html")
    assert "Field B1" in r.text
    r = api.client.get("/collections", headers={"Accept": "text/html"}, auth=api.auth("ima"))
    assert "<ul>" in r.text


def test_every_collection_reads(api: Api) -> None:
    """Each collection answers items and its first item (plan_tasks is empty without a plan)."""
    for name in ("hazard_areas", "assets", "activities", "settlements", "plan_tasks"):
        body = api.client.get(f"/collections/{name}/items", auth=api.auth("ima")).json()
        if body["features"]:
            one = body["features"][0]["id"]
            assert api.client.get(f"/collections/{name}/items/{one}", auth=api.auth("ima")).status_code == 200
    assert api.client.get("/collections/nothing/items", auth=api.auth("ima")).status_code == 404
