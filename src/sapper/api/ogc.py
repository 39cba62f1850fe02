"""OGC API – Features (Parts 1–4) over the store: landing page, conformance, collections, items, one item,
queryables, CRS, CQL2 filters and transactions (hazard areas, assets and settlements; activities append-only; the
plan's tasks read-only).

Routes parse the request, call ``services.features`` (hazard areas) or ``services.edits`` (the others) and shape
GeoJSON or HTML. Writes check the organisation (404), the collection's editing mode (405), the caller's role (403)
and ``If-Match`` against the row's ETag BEFORE the body is read (412 when stale; 428 when missing), so a stale edit
is refused without parsing a byte of it. A body's geometry is in CRS84 or in the CRS its ``Content-Crs`` names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import json
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import orjson
import shapely
import shapely.geometry
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from shapely.geometry.base import BaseGeometry
from starlette.concurrency import run_in_threadpool

from sapper.api import crs as crsmod
from sapper.api import geojson, schemas
from sapper.api.auth import Rule, guard, principal, runtime
from sapper.api.problems import HTTPProblem
from sapper.domain.geometry import require_vertices_at_most
from sapper.domain.users import ALL_ROLES, EDITORS, Principal
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.messages import msg
from sapper.services import edits
from sapper.services import features as service
from sapper.store.features import LAYERS, FeatureQuery, FeatureRow, queryables

GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"

#: Filter languages: CQL2 text, and ``cql-text`` (the draft's name, which GDAL's OAPIF driver looks for in the
#: OpenAPI document and sends; the text it builds is CQL2) as an alias.
FILTER_LANGS = ("cql2-text", "cql-text")

READ = Rule(ALL_ROLES, scoped=True)
#: Writes: any editor at the route; who may edit which collection is ``services.edits.refusal`` (403).
WRITE = Rule(EDITORS, scoped=True)
PUBLIC = Rule(None)

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]

router = APIRouter()
Caller = Annotated[Principal, Depends(principal)]


def _html_wanted(request: Request, f: str | None) -> bool:
    if f is not None:
        if f not in ("json", "html"):
            raise ValidationError("f", [Fault("f", f"{f!r} is not json or html", "f")])
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def _links_html(links: list[schemas.Link]) -> str:
    return "<ul>" + "".join(f"<li><a href='{html.escape(ln.href)}'>{html.escape(ln.title or ln.rel)}</a></li>"
                            for ln in links) + "</ul>"


@router.get("/", response_model=schemas.LandingPage, summary="Landing page", **guard(PUBLIC))
def landing(request: Request, f: str | None = None) -> Any:
    base = _base(request)
    links = [
        schemas.Link(href=f"{base}/", rel="self", type="application/json", title="This document"),
        schemas.Link(href=f"{base}/api", rel="service-desc", type="application/vnd.oai.openapi+json;version=3.0",
                     title="The OpenAPI document"),
        schemas.Link(href=f"{base}/conformance", rel="conformance", type="application/json",
                     title="Conformance classes"),
        schemas.Link(href=f"{base}/collections", rel="data", type="application/json", title="Collections"),
    ]
    doc = schemas.LandingPage(title="sapper", description="Mine-action and reconstruction register (OGC API – "
                              "Features)", links=links)
    if _html_wanted(request, f):
        return _page("sapper", f"<p>{html.escape(doc.description)}</p>" + _links_html(links))
    return doc


@router.get("/conformance", response_model=schemas.Conformance, summary="Conformance classes", **guard(PUBLIC))
def conformance(request: Request, f: str | None = None) -> Any:
    if _html_wanted(request, f):
        return _page("Conformance", "<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in CONFORMANCE) + "</ul>")
    return schemas.Conformance(conformsTo=CONFORMANCE)


def _collection(base: str, name: str) -> schemas.Collection:
    spec = LAYERS[name]
    href = f"{base}/collections/{name}"
    links = [
        schemas.Link(href=href, rel="self", type="application/json", title=spec.title),
        schemas.Link(href=f"{href}/items?f=json", rel="items", type=GEOJSON, title=f"{spec.title} (GeoJSON)"),
        schemas.Link(href=f"{href}/items?f=html", rel="items", type="text/html", title=f"{spec.title} (HTML)"),
        schemas.Link(href=f"{href}/queryables", rel="http://www.opengis.net/def/rel/ogc/1.0/queryables",
                     type="application/schema+json", title="Queryables"),
        schemas.Link(href=f"{href}/queryables", rel="queryables", type="application/schema+json",
                     title="Queryables (draft relation name, for older clients)"),
    ]
    return schemas.Collection(id=name, title=spec.title, description=spec.description, links=links,
                              crs=list(crsmod.SUPPORTED), storageCrs=crsmod.CRS84)


@router.get("/collections", response_model=schemas.Collections, summary="Collections", **guard(READ))
def collections(request: Request, caller: Caller, f: str | None = None) -> Any:
    base = _base(request)
    doc = schemas.Collections(
        links=[schemas.Link(href=f"{base}/collections", rel="self", type="application/json")],
        collections=[_collection(base, name) for name in LAYERS])
    if _html_wanted(request, f):
        return _page("Collections", "<ul>" + "".join(
            f"<li><a href='{html.escape(c.id)}?f=html'>{html.escape(c.title)}</a>: {html.escape(c.description)}</li>"
            for c in doc.collections) + "</ul>")
    return doc


def _layer(collectionId: str) -> str:
    if collectionId not in LAYERS:
        raise NotFoundError(f"collection {collectionId} does not exist (collections: {', '.join(LAYERS)})")
    return collectionId


@router.get("/collections/{collectionId}", response_model=schemas.Collection, summary="One collection",
            **guard(READ))
def collection(request: Request, collectionId: str, caller: Caller, f: str | None = None) -> Any:
    doc = _collection(_base(request), _layer(collectionId))
    if _html_wanted(request, f):
        return _page(doc.title, f"<p>{html.escape(doc.description)}</p>" + _links_html(doc.links))
    return doc


@router.get("/collections/{collectionId}/queryables", summary="Queryable properties (JSON Schema)",
            responses={200: {"content": {"application/schema+json": {}}}}, **guard(READ))
def queryables_route(request: Request, collectionId: str, caller: Caller) -> JSONResponse:
    name = _layer(collectionId)
    props: dict[str, Any] = {"geometry": {"$ref": "https://geojson.org/schema/Geometry.json",
                                          "x-ogc-role": "primary-geometry"}}
    for prop, (kind, fmt) in queryables(name).items():
        props[prop] = {"type": kind, "title": prop, **({"format": fmt} if fmt else {})}
    body = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{_base(request)}/collections/{name}/queryables", "type": "object", "title": LAYERS[name].title,
            "properties": props, "additionalProperties": False,
            # The draft's list form, which GDAL's OAPIF driver reads to decide what it may filter on the server:
            "queryables": [{"id": p, "type": v.get("type", "geometry")} for p, v in props.items()]}
    return JSONResponse(body, media_type="application/schema+json")


def _json_value(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _feature(base: str, name: str, row: FeatureRow, caller: Principal, out_crs: str) -> dict[str, Any]:
    geom: BaseGeometry | None = row.geometry
    props = {k: _json_value(v) for k, v in row.properties.items()}
    if name in service.SENSITIVE:
        props["generalised"] = not caller.precise_geometry
    return {
        "type": "Feature", "id": row.id,
        "geometry": None if geom is None else shapely.geometry.mapping(crsmod.from_crs84(geom, out_crs)),
        "properties": props,
        "links": [{"href": f"{base}/collections/{name}/items/{row.id}", "rel": "self", "type": GEOJSON}],
    }


def _features_encoded(base: str, name: str, rows: list[FeatureRow], caller: Principal,
                      out_crs: str) -> list[dict[str, Any]]:
    """The features of an items page as ``_feature`` makes them, for orjson (``OPT_SERIALIZE_NUMPY``): the page's
    geometries as ``geojson.geometries`` gives them (coordinate arrays taken from GEOS for the whole page at once,
    the same numbers as ``mapping``), property values as they are (orjson writes dates as ISO 8601)."""
    shapes = geojson.geometries([None if r.geometry is None else crsmod.from_crs84(r.geometry, out_crs)
                                 for r in rows])
    generalised = {"generalised": not caller.precise_geometry} if name in service.SENSITIVE else {}
    items = f"{base}/collections/{name}/items/"
    return [{"type": "Feature", "id": r.id, "geometry": shape, "properties": {**r.properties, **generalised},
             "links": [{"href": items + r.id, "rel": "self", "type": GEOJSON}]}
            for r, shape in zip(rows, shapes, strict=True)]


def _orjson_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _interval(text: str | None) -> tuple[dt.date | None, dt.date | None]:
    if not text:
        return None, None

    def one(part: str) -> dt.date | None:
        if part in ("", ".."):
            return None
        try:
            return dt.datetime.fromisoformat(part.replace("Z", "+00:00")).date()
        except ValueError:
            raise ValidationError("datetime", [Fault("datetime", f"{part!r} is not an ISO 8601 date or time",
                                                     "datetime")]) from None

    if "/" in text:
        start, _, end = text.partition("/")
        return one(start), one(end)
    day = one(text)
    return day, day


def _bbox(text: str | None, bbox_crs: str) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise ValidationError("bbox", [Fault("bbox", f"{text!r} is not four numbers", "bbox")]) from None
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise ValidationError("bbox", [Fault("bbox", f"{text!r} is not four numbers", "bbox")])
    return crsmod.bbox_to_crs84((parts[0], parts[1], parts[2], parts[3]), bbox_crs)


def _items_html(name: str, body: dict[str, Any]) -> HTMLResponse:
    rows = []
    for feat in body["features"]:
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in feat["properties"].values())
        geom = feat["geometry"]
        rows.append(f"<tr><td><a href='items/{html.escape(feat['id'])}?f=html'>{html.escape(feat['id'])}</a></td>"
                    f"{cells}<td>{html.escape(json.dumps(geom)[:200] if geom else '')}</td></tr>")
    head = "".join(f"<th>{html.escape(p)}</th>" for p in (body["features"][0]["properties"] if body["features"]
                                                            else []))
    links = "".join(f"<a href='{html.escape(ln['href'].replace('f=json', 'f=html'))}'>{html.escape(ln['rel'])}</a> "
                    for ln in body["links"] if ln["rel"] in ("next", "prev"))
    return _page(f"{LAYERS[name].title}: {body['numberReturned']} of {body['numberMatched']}",
                 f"<p>{links}</p><table border='1'><tr><th>id</th>{head}<th>geometry</th></tr>{''.join(rows)}</table>")


@router.get("/collections/{collectionId}/items", summary="Features of a collection",
            responses={200: {"model": schemas.FeatureCollectionPublic, "content": {GEOJSON: {}, "text/html": {}}}},
            **guard(READ))
def items(
    request: Request, collectionId: str, caller: Caller,
    limit: Annotated[int, Query(ge=1)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    bbox: str | None = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: str | None = None,
    datetime: str | None = None,
    filter: str | None = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang",
                                             json_schema_extra={"enum": list(FILTER_LANGS)})] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
    f: str | None = None,
) -> Response:
    return items_response(request, _layer(collectionId), caller, limit=limit, offset=offset, bbox=bbox,
                          bbox_crs=bbox_crs, crs=crs, datetime=datetime, filter=filter, filter_lang=filter_lang,
                          filter_crs=filter_crs, f=f)


def items_response(request: Request, name: str, caller: Principal, *, limit: int, offset: int, bbox: str | None,
                   bbox_crs: str | None, crs: str | None, datetime: str | None, filter: str | None,
                   filter_lang: str | None, filter_crs: str | None, f: str | None,
                   epoch: str | None = None) -> Response:
    """The items route's answer (``name`` a collection id as sent); with ``epoch``, the page is read only while the
    credentials epoch is still that one (``FeatureQuery.epoch``: StaleCredentials otherwise)."""
    name = _layer(name)
    out_crs = crsmod.check(crs, "crs")
    if filter_lang is not None and filter_lang not in FILTER_LANGS:
        raise ValidationError("filter-lang", [Fault("filter-lang", f"{filter_lang!r} is not cql2-text",
                                                    "filter-lang")])
    if filter_crs not in (None, crsmod.CRS84):
        raise crsmod.CRSParamError("filter-crs", [Fault("filter-crs", "filters are in CRS84 only", "filter-crs")])
    limit = min(limit, 10_000)
    start, end = _interval(datetime)
    query = FeatureQuery(name, limit=limit, offset=offset, bbox=_bbox(bbox, crsmod.check(bbox_crs, "bbox-crs")),
                         filter=filter, start=start, end=end, epoch=epoch)
    found = service.page(runtime(request).store, caller, query)
    base = _base(request)
    url = request.url
    links: list[dict[str, Any]] = [{"href": str(url), "rel": "self", "type": GEOJSON},
                                   {"href": f"{base}/collections/{name}", "rel": "collection",
                                    "type": "application/json"}]
    if offset + len(found.features) < found.number_matched:
        links.append({"href": str(url.include_query_params(offset=offset + limit, limit=limit)), "rel": "next",
                      "type": GEOJSON})
    if offset > 0:
        links.append({"href": str(url.include_query_params(offset=max(0, offset - limit), limit=limit)),
                      "rel": "prev", "type": GEOJSON})
    html_wanted = _html_wanted(request, f)
    body = {
        "type": "FeatureCollection",
        "features": ([_feature(base, name, r, caller, out_crs) for r in found.features] if html_wanted
                     else _features_encoded(base, name, found.features, caller, out_crs)),
        "links": links,
        "numberMatched": found.number_matched,
        "numberReturned": len(found.features),
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    headers = {"Content-Crs": f"<{out_crs}>"}
    if html_wanted:
        page = _items_html(name, body)
        page.headers.update(headers)
        return page
    return Response(orjson.dumps(body, default=_orjson_default, option=orjson.OPT_SERIALIZE_NUMPY), media_type=GEOJSON,
                    headers=headers)


def _etag(tag: str | int | None) -> dict[str, str]:
    return {} if tag is None else {"ETag": f'"{tag}"'}


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature",
            responses={200: {"model": schemas.FeaturePublic, "content": {GEOJSON: {}, "text/html": {}}}},
            **guard(READ))
def item(request: Request, collectionId: str, featureId: str, caller: Caller, crs: str | None = None,
         f: str | None = None) -> Response:
    name = _layer(collectionId)
    out_crs = crsmod.check(crs, "crs")
    row = service.one(runtime(request).store, caller, name, featureId)
    body = _feature(_base(request), name, row, caller, out_crs)
    body["links"].append({"href": f"{_base(request)}/collections/{name}", "rel": "collection",
                          "type": "application/json"})
    headers = {"Content-Crs": f"<{out_crs}>", **_etag(edits.etag(row))}
    if _html_wanted(request, f):
        props = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in body["properties"].items())
        page = _page(f"{name} {row.id}", f"<table>{props}</table><pre>{html.escape(json.dumps(body['geometry']))}"
                                         f"</pre>")
        page.headers.update(headers)
        return page
    return JSONResponse(body, media_type=GEOJSON, headers=headers)


_READ_ONLY = "GET, HEAD, OPTIONS"


def _methods(name: str, one: bool) -> str:
    """The methods a collection's items (``one``: a feature) take, whoever asks."""
    mode = edits.EDITING.get(name, edits.Editing.READ)
    if mode is edits.Editing.READ or (one and mode is edits.Editing.APPEND):
        return _READ_ONLY
    return "GET, HEAD, PUT, PATCH, DELETE, OPTIONS" if one else "GET, HEAD, POST, OPTIONS"


def _allowed_to(request: Request, caller: Principal, name: str, one: bool) -> str:
    """The methods ``caller`` may use: QGIS enables editing a layer only when OPTIONS announces POST, so a role
    that may not edit the collection is told it is read-only."""
    if edits.refusal(runtime(request).store, caller, name) is not None:
        return _READ_ONLY
    return _methods(name, one)


@router.options("/collections/{collectionId}/items", summary="Methods allowed on items (for the caller)",
                status_code=204, response_class=Response, **guard(READ))
def items_options(request: Request, collectionId: str, caller: Caller) -> Response:
    return Response(status_code=204, headers={"Allow": _allowed_to(request, caller, _layer(collectionId), False)})


@router.options("/collections/{collectionId}/items/{featureId}", summary="Methods allowed on a feature (for the "
                "caller)", status_code=204, response_class=Response, **guard(READ))
def item_options(request: Request, collectionId: str, featureId: str, caller: Caller) -> Response:
    name = _layer(collectionId)
    allow = _allowed_to(request, caller, name, True)
    try:
        service.one(runtime(request).store, caller, name, featureId)
    except NotFoundError as exc:
        # 404 when not theirs, as for a missing one; the Allow header (the same for any id of the collection, so it
        # discloses nothing) still answers QGIS, which probes OPTIONS on ``items/unknown_id`` when the collection
        # it reads is empty.
        raise HTTPProblem(404, "not_found", exc.message, headers={"Allow": allow}) from None
    return Response(status_code=204, headers={"Allow": allow})


def _not_allowed(name: str, one: bool, why: str) -> HTTPProblem:
    return HTTPProblem(405, "method_not_allowed", why, headers={"Allow": _methods(name, one)})


def _check_if_match(request: Request, caller: Principal, name: str, featureId: str, *, required: bool) -> str:
    """Whether ``caller`` may change this feature, and the ETag named by If-Match, checked against the stored
    row before anything else: 404 when the feature is not theirs, 405 on a read-only or append-only collection,
    403 when their role or organisation may not edit it, 412 when stale. Without If-Match: 428 when ``required``
    (PUT), else the ETag just read (PATCH and DELETE, which QGIS sends without If-Match)."""
    if edits.EDITING.get(name, edits.Editing.READ) is edits.Editing.READ:
        raise _not_allowed(name, True, msg("the collection {name} is read-only", name=name))
    store = runtime(request).store
    current = edits.etag(service.one(store, caller, name, featureId))
    if edits.EDITING[name] is edits.Editing.APPEND:
        raise _not_allowed(name, True, f"{name} {featureId}: {edits.APPEND_ONLY}")
    edits.check_may_edit(store, caller, name)
    header = request.headers.get("if-match")
    if header is None and not required:
        return current
    if header is None:
        raise HTTPProblem(428, "precondition_required", msg("{name} {id}: send If-Match with the ETag you read "
                                                            "(currently \"{current}\")", name=name, id=featureId,
                                                            current=current))
    wanted = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    if "*" in wanted:
        return current
    if current not in wanted:
        raise HTTPProblem(412, "precondition_failed", msg("{name} {id} is at version {current}, not {header}: "
                                                          "read it again and redo the edit", name=name,
                                                          id=featureId, current=current, header=header),
                          headers=_etag(current))
    return current


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError("body", [Fault("body", "not JSON", "body")]) from None


def _geometry(value: dict[str, Any] | None, source_crs: str) -> BaseGeometry | None:
    if value is None:
        return None
    try:
        geom = shapely.geometry.shape(value)
    except Exception:  # shapely raises several types for a malformed GeoJSON geometry
        raise ValidationError("feature", [Fault("feature", "geometry is not a GeoJSON geometry", "geometry")]) \
            from None
    require_vertices_at_most(geom, record="feature")
    return crsmod.to_crs84(geom, source_crs)


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], raw: Any, *, within: tuple[str, ...] = ()) -> M:
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        faults = [Fault("feature", str(e.get("msg")), ".".join(str(p) for p in (*within, *e.get("loc", ()))))
                  for e in exc.errors()[:10]]
        raise ValidationError("feature", faults) from None


In = TypeVar("In", service.HazardInput, edits.AssetInput, edits.SettlementInput, edits.ActivityInput)


def _given(kind: type[In], name: str, properties: dict[str, Any]) -> In:
    """The collection's properties model checks what was sent (unknown properties refused, naming them); the
    values that were sent, without the read-only ones, as the service's input. Properties the collection serves
    but nobody writes (e.g. a hazard area's computed ``state``) are ignored: QGIS and GDAL send every field back."""
    model = schemas.PROPERTIES[name]
    served = set(LAYERS[name].properties)
    checked = _parse(model, {k: v for k, v in properties.items() if k in model.model_fields or k not in served},
                     within=("properties",))
    sent = checked.model_dump(exclude_none=True, exclude=set(schemas.READ_ONLY))
    known = {f.name for f in dataclasses.fields(kind)}
    return kind(**{k: v for k, v in sent.items() if k in known})


def _written(request: Request, name: str, result: service.EditResult, caller: Principal, status: int) -> Response:
    base = _base(request)
    body = _feature(base, name, result.feature, caller, crsmod.CRS84)
    headers = {**_etag(edits.etag(result.feature)), "Content-Crs": f"<{crsmod.CRS84}>"}
    if status == 201:
        headers["Location"] = f"{base}/collections/{name}/items/{result.feature.id}"
    if result.repairs:
        headers["Sapper-Geometry-Repair"] = "; ".join(result.repairs)
        body["repairs"] = list(result.repairs)
    if result.notes:
        headers["Sapper-Outcome-Clipped-M2"] = f"{result.clipped_m2:.1f}"
        body["notes"] = list(result.notes)
    return JSONResponse(body, status_code=status, media_type=GEOJSON, headers=headers)


def _reason(request: Request) -> str:
    """Why, for the audit: the ``Sapper-Reason`` header, or that none was given and by which client (QGIS and GDAL
    cannot send one)."""
    given = request.headers.get("sapper-reason", "").strip()
    if given:
        return given
    client = (request.headers.get("user-agent") or "unknown client").split(" ")
    named = next((part for part in client if part.upper().startswith(("QGIS/", "GDAL/"))), client[0])
    product = "/".join(named.split("/")[:2])  # e.g. QGIS/33400
    return f"no reason given ({request.method} from {product[:80]})"


def _feature_schema(patch: bool) -> dict[str, Any]:
    """The request body of POST/PUT (``patch``: PATCH) in the OpenAPI document: one feature per collection."""
    return {"oneOf": [{"title": name, "type": "object", "properties": {
        "type": {"const": "Feature"}, "geometry": {"type": ["object", "null"]},
        "properties": model.model_json_schema()}, "required": [] if patch else ["type", "geometry"]}
        for name, model in schemas.PROPERTIES.items()]}


_WRITE_DOC = {"x-sapper-auth": WRITE.describe(), "x-sapper-collection-rules": {
    name: {"hazard_areas": "admin, im-officer, planner; own organisation's areas",
           "assets": "admin, im-officer, planner of the authority or a contractor (reconstruction) organisation",
           "settlements": "admin, im-officer of the national authority",
           "activities": "POST only (append-only ledger): admin, im-officer, planner, field; on a hazard area of "
                         "their organisation",
           "plan_tasks": "read-only"}[name] for name in edits.EDITING}}


@router.post("/collections/{collectionId}/items", status_code=201, summary="Add a feature (server-assigned id)",
             openapi_extra={**_WRITE_DOC, "requestBody": {"content": {GEOJSON: {"schema": _feature_schema(False)}}}},
             dependencies=guard(WRITE)["dependencies"])
async def create(request: Request, collectionId: str, caller: Caller) -> Response:
    name = _layer(collectionId)
    if edits.EDITING.get(name, edits.Editing.READ) is edits.Editing.READ:
        raise _not_allowed(name, False, msg("the collection {name} is read-only", name=name))
    store = runtime(request).store
    await run_in_threadpool(edits.check_may_edit, store, caller, name)
    source_crs = crsmod.content_crs(request.headers.get("content-crs"))
    feature = _parse(schemas.FeatureIn, await _json(request))
    geom, reason = _geometry(feature.geometry, source_crs), _reason(request)
    result: service.EditResult
    if name == "hazard_areas":
        result = await run_in_threadpool(service.create_hazard, store, caller,
                                         _given(service.HazardInput, name, feature.properties), geom, reason=reason)
    elif name == "assets":
        result = await run_in_threadpool(edits.create_asset, store, caller,
                                         _given(edits.AssetInput, name, feature.properties), geom, reason=reason)
    elif name == "settlements":
        result = await run_in_threadpool(edits.create_settlement, store, caller,
                                         _given(edits.SettlementInput, name, feature.properties), geom,
                                         reason=reason)
    else:
        result = await run_in_threadpool(edits.record_activity, store, caller,
                                         _given(edits.ActivityInput, name, feature.properties), geom, reason=reason)
    return _written(request, name, result, caller, 201)


async def _edit(request: Request, collectionId: str, featureId: str, caller: Principal, *,
                replace: bool) -> Response:
    name = _layer(collectionId)
    tag = await run_in_threadpool(functools.partial(_check_if_match, request, caller, name, featureId,
                                                    required=replace))
    source_crs = crsmod.content_crs(request.headers.get("content-crs"))
    raw = await _json(request)
    store = runtime(request).store
    if replace:
        full = _parse(schemas.FeatureIn, raw)
        props, geom = full.properties, _geometry(full.geometry, source_crs)
    else:
        media = request.headers.get("content-type", "").split(";")[0].strip()
        if media not in (MERGE_PATCH, "application/json", GEOJSON):
            raise HTTPProblem(415, "unsupported_media_type",
                              msg("PATCH takes {wanted}, not {media}", wanted=MERGE_PATCH, media=media or "nothing"))
        patch = _parse(schemas.FeaturePatch, raw)
        props, geom = patch.properties, _geometry(patch.geometry, source_crs)
    reason = _reason(request)
    result: service.EditResult
    if name == "hazard_areas":
        result = await run_in_threadpool(service.edit_hazard, store, caller, featureId,
                                         _given(service.HazardInput, name, props), geom, expected_version=int(tag),
                                         replace=replace, reason=reason)
    elif name == "assets":
        result = await run_in_threadpool(edits.edit_asset, store, caller, featureId,
                                         _given(edits.AssetInput, name, props), geom, expected_version=int(tag),
                                         replace=replace, reason=reason)
    else:
        result = await run_in_threadpool(edits.edit_settlement, store, caller, featureId,
                                         _given(edits.SettlementInput, name, props), geom, expected=tag,
                                         replace=replace, reason=reason)
    return _written(request, name, result, caller, 200)


@router.put("/collections/{collectionId}/items/{featureId}", summary="Replace a feature (If-Match)",
            openapi_extra={**_WRITE_DOC, "requestBody": {"content": {GEOJSON: {"schema": _feature_schema(False)}}}},
            dependencies=guard(WRITE)["dependencies"])
async def replace(request: Request, collectionId: str, featureId: str, caller: Caller) -> Response:
    return await _edit(request, collectionId, featureId, caller, replace=True)


@router.patch("/collections/{collectionId}/items/{featureId}", summary="Change a feature (merge patch, If-Match)",
              openapi_extra={**_WRITE_DOC, "requestBody": {"content": {
                  MERGE_PATCH: {"schema": _feature_schema(True)}}}},
              dependencies=guard(WRITE)["dependencies"])
async def patch(request: Request, collectionId: str, featureId: str, caller: Caller) -> Response:
    return await _edit(request, collectionId, featureId, caller, replace=False)


@router.delete("/collections/{collectionId}/items/{featureId}", status_code=204,
               summary="Delete a feature (If-Match)", openapi_extra=_WRITE_DOC,
               dependencies=guard(WRITE)["dependencies"])
def delete(request: Request, collectionId: str, featureId: str, caller: Caller) -> Response:
    name = _layer(collectionId)
    tag = _check_if_match(request, caller, name, featureId, required=False)
    store, reason = runtime(request).store, _reason(request)
    if name == "hazard_areas":
        service.delete_hazard(store, caller, featureId, expected_version=int(tag), reason=reason)
    elif name == "assets":
        edits.delete_asset(store, caller, featureId, expected_version=int(tag), reason=reason)
    else:
        edits.delete_settlement(store, caller, featureId, expected=tag, reason=reason)
    return Response(status_code=204)
