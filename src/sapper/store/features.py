"""Feature queries for OGC API – Features: one page of a layer, filtered and counted in SQL, on both backends.

``features(conn, query)`` builds one SELECT for the page (``LIMIT``/``OFFSET``, ordered by the layer's key) and one
``count(*)`` with the same WHERE: a bbox (through the R-tree on SQLite, ``&&`` on the GiST index on PostGIS), a
date interval, a CQL2 filter (``store.cql``) and the organisation scope. No page ever loads the whole layer.
Geometry comes back raw and is decoded for the page at once (as ``repository.bbox_features`` does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Float,
    Integer,
    LargeBinary,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import column as sa_column
from sqlalchemy import exc as sa_exc
from sqlalchemy import table as sa_table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import ColumnElement

from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.store import accounts, gpkg, mapping, schema
from sapper.store.records import PlannedTask

#: A property value as stored (dates as ``datetime.date``).
Value = str | int | float | bool | dt.date | dt.datetime | None


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer served as a collection: its table, key, properties, and which columns scope and date it."""

    name: str
    title: str
    description: str
    key: str
    properties: tuple[str, ...]
    organisation_column: str | None = None
    start_column: str | None = None
    end_column: str | None = None
    spatial_index: bool = True


def rtree_prefilter(rtree_table: str, fid: ColumnElement[Any]) -> Callable[
        [tuple[float, float, float, float]], ColumnElement[bool] | None]:
    """The R-tree prefilter of a GeoPackage layer: ``fid IN (R-tree ids whose box meets the envelope)``."""
    rtree = sa_table(rtree_table, sa_column("id"), sa_column("minx"), sa_column("maxx"), sa_column("miny"),
                     sa_column("maxy"))

    def build(env: tuple[float, float, float, float]) -> ColumnElement[bool] | None:
        minx, miny, maxx, maxy = env
        r = rtree.c
        ids = select(r.id).where(r.minx <= maxx, r.maxx >= minx, r.miny <= maxy, r.maxy >= miny)
        return fid.in_(ids)

    return build


#: More than the spacing of 32-bit floats below 256 (2**-16): the R-tree stores its boxes as 32-bit floats, rounded
#: outwards, so a box that meets the query by more than this margin on every side is sure to be met by the exact
#: envelope too.
_RTREE_MARGIN = 1e-4


def rtree_bbox(rtree_table: str, fid: ColumnElement[Any], env: tuple[Any, Any, Any, Any],
               inner: tuple[Any, Any, Any, Any], exact: ColumnElement[bool]) -> ColumnElement[bool]:
    """Features whose envelope meets ``env`` (minx, miny, maxx, maxy), answered by the R-tree: every candidate
    whose R-tree box meets ``inner`` (``env`` shrunk by ``_RTREE_MARGIN`` on every side) is in; only those within
    the margin of the query's edges are checked with ``exact`` (the envelope from the geometry blob, a Python
    function per row). The same rows as the R-tree prefilter followed by ``exact`` on every candidate, at a
    fraction of the cost."""
    minx, miny, maxx, maxy = env
    minx_in, miny_in, maxx_in, maxy_in = inner
    rtree = sa_table(rtree_table, sa_column("id"), sa_column("minx"), sa_column("maxx"), sa_column("miny"),
                     sa_column("maxy"))
    r = rtree.c
    meets = select(r.id).where(r.minx <= maxx, r.maxx >= minx, r.miny <= maxy, r.maxy >= miny)
    clear = select(r.id).where(r.minx <= maxx_in, r.maxx >= minx_in, r.miny <= maxy_in, r.maxy >= miny_in)
    return and_(fid.in_(meets), or_(fid.in_(clear), exact))


def _props(table: Any, *, drop: tuple[str, ...] = ()) -> tuple[str, ...]:
    # source_attributes (revision 0007): whatever an imported file held besides sapper's fields, possibly personal
    # data; served by no collection until a sensitive-data rule says which of it may be. Plain ``str`` names
    # (SQLAlchemy's are a subclass), so properties keyed by them serialise with orjson. The IMSMA exchange's columns
    # (revision 0008) are not served either: their stored NULL stands for a default only the mapping knows.
    return tuple(str(c.name) for c in table.columns
                 if c.name not in ("fid", "geom", "version", "source_attributes", *_IMSMA_ONLY, *drop))


#: Columns of revision 0008 that only the IMSMA exchange reads and writes.
_IMSMA_ONLY = ("imsma_id", "imsma_links", "beneficiaries_sadd", "benchmark_lon", "benchmark_lat")


#: The collections, by name.
LAYERS: dict[str, Layer] = {
    "hazard_areas": Layer(
        "hazard_areas", "Hazard areas", "Suspected and confirmed hazardous areas (IMAS 07.11) with their state",
        "id", (*_props(schema.hazard_areas), "state", "release_phase", "planned_release_date"),
        organisation_column="organisation_id"),
    "assets": Layer(
        "assets", "Assets", "Damaged infrastructure to restore: roads, bridges, power, water, buildings",
        "id", (*_props(schema.assets), "planned_restoration_date")),
    "activities": Layer(
        "activities", "Activities", "Land-release activities: surveys and clearance, with dates",
        "id", _props(schema.activities), organisation_column="organisation_id",
        start_column="start_date", end_column="end_date"),
    "settlements": Layer(
        "settlements", "Settlements", "Populated places", "fid", ("fid", *_props(schema.settlements))),
    "plan_tasks": Layer(
        "plan_tasks", "Planned tasks", "The latest plan's tasks, on their hazard area's or asset's geometry",
        "task_id", ("task_id", "kind", "hazard_id", "asset_id", "mode", "resource", "unit_id", "start_date",
                    "end_date", "work", "work_unit", "run_id"),
        start_column="start_date", end_column="end_date", spatial_index=False),
}


@dataclass(frozen=True, slots=True)
class FeatureQuery:
    """What one items request asks: a page (limit, offset) of a layer, with optional filters.

    ``bbox`` is in WGS84 longitude/latitude; ``start``/``end`` bound a date interval (either may be open);
    ``scope`` is the organisation the caller is limited to (None: every organisation).
    """

    layer: str
    limit: int = 10
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    filter: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    scope: str | None = None
    #: When given: answer only if the store's credentials epoch (``store.accounts``) is still this one, read in the
    #: page's own transaction; else ``StaleCredentials``. What lets a web worker check a remembered token within
    #: the page's transaction instead of in one of its own before it.
    epoch: str | None = None


class StaleCredentials(Exception):
    """The credentials epoch a query named has moved: whoever asked must be verified again."""


def _check_epoch(query: FeatureQuery, found: str) -> None:
    if query.epoch is not None and found != query.epoch:
        raise StaleCredentials(found)


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One feature: its id, geometry (WGS84, may be None), properties and row version (None when unversioned)."""

    id: str
    geometry: BaseGeometry | None
    properties: Mapping[str, Value]
    version: int | None


@dataclass(frozen=True, slots=True)
class FeaturePage:
    """A page of features and how many match in all."""

    features: list[FeatureRow]
    number_matched: int


def layer(name: str) -> Layer:
    if name not in LAYERS:
        raise NotFoundError(f"collection {name} does not exist (collections: {', '.join(LAYERS)})")
    return LAYERS[name]


@dataclass(frozen=True, slots=True)
class _Source:
    table: FromClause
    key: ColumnElement[Any]
    geom: ColumnElement[Any]
    fid: ColumnElement[Any] | None
    version: ColumnElement[Any] | None
    columns: dict[str, ColumnElement[Any]]


@lru_cache(maxsize=16)
def _source(name: str) -> _Source:
    spec = LAYERS[name]
    if name == "plan_tasks":
        t, h, a, r = schema.plan_tasks, schema.hazard_areas, schema.assets, schema.plan_runs
        latest = select(func.max(r.c.id)).scalar_subquery()
        sub = (
            select(*(t.c[p] for p in spec.properties), func.coalesce(h.c.geom, a.c.geom).label("geom"))
            .select_from(t.outerjoin(h, h.c.id == t.c.hazard_id).outerjoin(a, a.c.id == t.c.asset_id))
            .where(t.c.run_id == latest)
            .subquery("plan_tasks_latest")
        )
        return _Source(sub, sub.c.task_id, sub.c.geom, None, None, {p: sub.c[p] for p in spec.properties})
    table = schema.metadata.tables[name]
    version = table.c.version if "version" in table.c else None
    derived = _hazard_derived() if name == "hazard_areas" else _asset_derived() if name == "assets" else {}
    return _Source(table, table.c[spec.key], table.c.geom, table.c.fid, version,
                   {p: derived[p] if p in derived else table.c[p] for p in spec.properties})


#: Square metres of slack in ``release_phase``: a remainder this small counts as none, one within it of the whole
#: area as untouched.
_PHASE_SLACK_M2 = 0.5


def _last_event(column: Any) -> ColumnElement[Any]:
    """The value of ``column`` in a hazard area's last land-release event (correlated)."""
    h, e = schema.hazard_areas, schema.land_release_events
    return (select(column).where(e.c.hazard_id == h.c.id).order_by(e.c.seq.desc()).limit(1)
            .correlate(h).scalar_subquery())


def _hazard_state() -> ColumnElement[Any]:
    h, e = schema.hazard_areas, schema.land_release_events
    register = case((h.c.status == "closed", "released"), (h.c.status == "handed_over", "handed_over"),
                    (h.c.hazard_class == "CHA", "confirmed"), else_="suspected")
    return func.coalesce(_last_event(e.c.to_state), register)


def _hazard_remaining() -> ColumnElement[Any]:
    h, e = schema.hazard_areas, schema.land_release_events
    return func.coalesce(_last_event(e.c.remaining_m2), h.c.area_m2)


def _hazard_derived() -> dict[str, ColumnElement[Any]]:
    """Columns of a hazard area computed in SQL from its land-release history and the latest plan: ``state`` (the
    last event's state, else the register's class and status), ``release_phase`` (open, in_progress, processed,
    released) and ``planned_release_date`` (the latest plan's release milestone)."""
    h, t, r = schema.hazard_areas, schema.plan_tasks, schema.plan_runs
    state = _hazard_state()
    phase = release_phase_sql(state, _hazard_remaining(), h.c.area_m2)
    latest = select(func.max(r.c.id)).scalar_subquery()
    planned = (select(func.max(t.c.end_date)).where(t.c.hazard_id == h.c.id, t.c.kind == "released",
                                                    t.c.run_id == latest).correlate(h).scalar_subquery())
    return {"state": state, "release_phase": phase, "planned_release_date": planned}


def release_phase_sql(state: ColumnElement[Any], remaining_m2: ColumnElement[Any],
                      area_m2: ColumnElement[Any]) -> ColumnElement[Any]:
    """``release_phase`` in SQL (what filters on it use)."""
    return case((state.in_(["released", "handed_over"]), "released"), (remaining_m2 <= _PHASE_SLACK_M2, "processed"),
                (remaining_m2 < area_m2 - _PHASE_SLACK_M2, "in_progress"), else_="open")


def release_phase(state: object, remaining_m2: object, area_m2: object) -> str:
    """``release_phase`` as ``_hazard_derived`` computes it in SQL, from a page's ``state`` and the remaining
    area: a page selects those two once instead of the SQL expression, which repeats their subqueries."""
    if state in ("released", "handed_over"):
        return "released"
    remaining, area = float(remaining_m2 or 0.0), float(area_m2 or 0.0)  # type: ignore[arg-type]
    if remaining_m2 is not None and remaining <= _PHASE_SLACK_M2:
        return "processed"
    if remaining_m2 is not None and area_m2 is not None and remaining < area - _PHASE_SLACK_M2:
        return "in_progress"
    return "open"


def _asset_derived() -> dict[str, ColumnElement[Any]]:
    """``planned_restoration_date`` of an asset: the latest plan's restoration milestone (what the map colours)."""
    a, t, r = schema.assets, schema.plan_tasks, schema.plan_runs
    latest = select(func.max(r.c.id)).scalar_subquery()
    planned = (select(func.max(t.c.end_date)).where(t.c.asset_id == a.c.id, t.c.kind == "restored",
                                                    t.c.run_id == latest).correlate(a).scalar_subquery())
    return {"planned_restoration_date": planned}


def queryables(name: str) -> dict[str, tuple[str, str | None]]:
    """The queryable properties of a layer: JSON Schema type and format (``date`` for dates), by name."""
    src = _source(layer(name).name)
    out: dict[str, tuple[str, str | None]] = {}
    for prop, column in src.columns.items():
        try:
            kind: type = column.type.python_type
        except NotImplementedError:
            kind = str
        if kind is int:
            out[prop] = ("integer", None)
        elif kind is float:
            out[prop] = ("number", None)
        elif kind is dt.date:
            out[prop] = ("string", "date")
        else:
            out[prop] = ("string", None)
    return out


def _raw_geometry(dialect: str, geom: ColumnElement[Any]) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.ST_AsBinary(geom, type_=LargeBinary()).label("geom")
    return type_coerce(geom, LargeBinary()).label("geom")


def _flags(spec: Layer, query: FeatureQuery) -> dict[str, bool]:
    return {"scope": query.scope is not None and spec.organisation_column is not None,
            "bbox": query.bbox is not None, "start": query.start is not None, "end": query.end is not None}


def _params(spec: Layer, query: FeatureQuery) -> dict[str, object]:
    """The values of the parameters ``_conditions`` binds, checked (a bbox the wrong way round, a date interval on
    a collection without dates)."""
    params: dict[str, object] = {}
    if query.scope is not None and spec.organisation_column is not None:
        params["q_scope"] = query.scope
    if query.bbox is not None:
        minx, miny, maxx, maxy = query.bbox
        faults = []
        if not minx <= maxx:
            faults.append(Fault("bbox", f"minx {minx} is greater than maxx {maxx}", "bbox"))
        if not miny <= maxy:
            faults.append(Fault("bbox", f"miny {miny} is greater than maxy {maxy}", "bbox"))
        ValidationError.raise_if("bbox", faults)
        m = _RTREE_MARGIN
        params.update(q_minx=minx, q_miny=miny, q_maxx=maxx, q_maxy=maxy,
                      q_minx_in=minx + m, q_miny_in=miny + m, q_maxx_in=maxx - m, q_maxy_in=maxy - m)
    if query.start is not None or query.end is not None:
        if spec.start_column is None:
            raise ValidationError("datetime", [Fault(spec.name, "this collection has no date", "datetime")])
        if query.end is not None:
            params["q_end"] = query.end
        if query.start is not None:
            params["q_start"] = query.start
    return params


@lru_cache(maxsize=128)
def _conditions(dialect: str, name: str, *, scope: bool, bbox: bool, start: bool,
                end: bool) -> tuple[ColumnElement[bool], ...]:
    """The WHERE conditions for the organisation scope, a bbox (through the R-tree on SQLite, ``&&`` on the GiST
    index on PostGIS) and a date interval, with their values as named parameters (``_params``): built once per
    layer and kind of query, so a request binds values instead of building SQL."""
    spec, src = LAYERS[name], _source(name)
    where: list[ColumnElement[bool]] = []
    if scope:
        assert spec.organisation_column is not None
        where.append(src.columns[spec.organisation_column] == bindparam("q_scope"))
    if bbox:
        minx, miny, maxx, maxy = (bindparam(f"q_{k}", type_=Float()) for k in ("minx", "miny", "maxx", "maxy"))
        g = src.geom
        if dialect == "postgresql":
            env = func.ST_MakeEnvelope(minx, miny, maxx, maxy, literal_column("4326"))
            where.append(g.op("&&")(env))
        else:
            exact = and_(func.ST_MinX(g, type_=Float()) <= maxx, func.ST_MaxX(g, type_=Float()) >= minx,
                         func.ST_MinY(g, type_=Float()) <= maxy, func.ST_MaxY(g, type_=Float()) >= miny)
            if spec.spatial_index and src.fid is not None:
                inner = [bindparam(f"q_{k}_in", type_=Float()) for k in ("minx", "miny", "maxx", "maxy")]
                where.append(rtree_bbox(gpkg.rtree_name(spec.name), src.fid, (minx, miny, maxx, maxy),
                                        (inner[0], inner[1], inner[2], inner[3]), exact))
            else:
                where.append(exact)
    if start or end:
        assert spec.start_column is not None
        first = src.columns[spec.start_column]
        last = src.columns[spec.end_column or spec.start_column]
        if end:
            where.append(first <= bindparam("q_end", type_=first.type))
        if start:
            where.append(func.coalesce(last, first) >= bindparam("q_start", type_=first.type))
    return tuple(where)


def _filter(dialect: str, spec: Layer, src: _Source, query: FeatureQuery) -> list[ColumnElement[bool]]:
    if not query.filter:
        return []
    from sapper.store import cql  # pygeofilter (the server extra) only when a filter is asked for

    prefilter = (rtree_prefilter(gpkg.rtree_name(spec.name), src.fid)
                 if dialect == "sqlite" and spec.spatial_index and src.fid is not None else None)
    translate = cql.Translator(src.columns, src.geom, dialect=dialect, prefilter=prefilter)
    return [translate(cql.parse(query.filter))]


def _decode(dialect: str, blobs: list[bytes | None]) -> list[BaseGeometry | None]:
    if dialect == "postgresql":
        return list(shapely.from_wkb(np.asarray(blobs, dtype=object)))
    return gpkg.decode_many(blobs)


def _checked(query: FeatureQuery) -> tuple[Layer, dict[str, object]]:
    """The layer of ``query`` and the values of its statement's parameters, checked."""
    spec = layer(query.layer)
    if not 0 <= query.limit <= 10_000:
        raise ValidationError("items", [Fault("items", f"limit {query.limit} is not between 0 and 10000", "limit")])
    if query.offset < 0:
        raise ValidationError("items", [Fault("items", f"offset {query.offset} is negative", "offset")])
    return spec, {**_params(spec, query), "q_limit": query.limit, "q_offset": query.offset}


def features(conn: Connection, query: FeatureQuery) -> FeaturePage:
    """One page of ``query.layer``'s features matching the query, with the number matched in all."""
    spec, params = _checked(query)
    src = _source(spec.name)
    dialect = conn.dialect.name
    if query.epoch is not None:
        _check_epoch(query, accounts.auth_epoch(conn))
    rows: Sequence[Sequence[Any]]
    if query.filter:
        count, page = _statements(dialect, spec.name, _filter(dialect, spec, src, query), **_flags(spec, query))
        # positional: the count, _key, geom, the properties in order, [_version]
        rows = conn.execute(page, params).all()
        # The count rides on the page's rows (one statement, one round trip); an empty page asks it on its own.
        matched = int(rows[0][0]) if rows else int(conn.execute(count, params).scalar_one())
    else:
        direct = _direct(conn.dialect, spec.name, **_flags(spec, query))
        rows = direct.page.rows(conn, params)
        matched = int(rows[0][0]) if rows else int(direct.count.rows(conn, params)[0][0])
    return _page(spec, dialect, rows, matched)


def pipelined(query: FeatureQuery) -> bool:
    """Whether ``features_pipelined`` answers ``query`` (a page without a CQL filter)."""
    return not query.filter


def features_pipelined(driver: Any, dialect: Dialect, query: FeatureQuery,
                       begin: tuple[str, tuple[object, ...]]) -> FeaturePage:
    """``features`` on PostgreSQL straight through psycopg on a connection of the pool with no transaction open,
    in one round trip: the transaction's first statement ``begin`` (the row-level security setting,
    ``rowscope.begin_statement``), the page, and the COMMIT sent together in a pipeline, instead of BEGIN, the
    setting, the page and COMMIT each waiting for the server in turn (four round trips, each a wake-up of the
    client's thread and the server's backend); with ``query.epoch``, the credentials epoch is read in the same
    pipeline and transaction. An empty page asks its count the same way, in a transaction of its
    own (as on READ COMMITTED each statement sees the data as it is when it starts anyway). The driver's errors
    propagate (``Store`` translates them)."""
    spec, params = _checked(query)
    assert pipelined(query)
    direct = _direct(dialect, spec.name, **_flags(spec, query))

    def run(statement: _Direct, epoch: bool) -> list[Any]:
        args = statement.args(params)
        with driver.pipeline():
            setting, credentials, cur = driver.cursor(), driver.cursor(), driver.cursor()
            setting.execute(*begin)
            if epoch:
                credentials.execute(accounts.EPOCH_SQL)
            cur.execute(statement.sql, args)
            driver.commit()
        if epoch:
            found = credentials.fetchone()
            _check_epoch(query, "" if found is None else str(found[0]))
        rows: list[Any] = cur.fetchall()
        description = cur.description
        for c in (setting, credentials, cur):
            c.close()
        return statement.processed(rows, description)

    rows = run(direct.page, query.epoch is not None)
    matched = int(rows[0][0]) if rows else int(run(direct.count, False)[0][0])
    return _page(spec, dialect.name, rows, matched)


def _page(spec: Layer, dialect: str, rows: Sequence[Sequence[Any]], matched: int) -> FeaturePage:
    """The page made from a page statement's rows: the count, _key, geom, the properties in order, [_version]."""
    src = _source(spec.name)
    geoms = _decode(dialect, [None if r[2] is None else bytes(r[2]) for r in rows])
    n = len(spec.properties)
    names = spec.properties
    versioned = src.version is not None
    out = [FeatureRow(str(r[1]), g, dict(zip(names, r[3:3 + n], strict=True)),
                      None if not versioned or r[3 + n] is None else int(r[3 + n]))
           for r, g in zip(rows, geoms, strict=True)]
    if spec.name == "hazard_areas":  # the page selected the remaining area in its place (_page_column)
        for f in out:
            props: dict[str, Value] = f.properties  # type: ignore[assignment]  # built just above
            props["release_phase"] = release_phase(props["state"], props["release_phase"], props["area_m2"])
    return FeaturePage(out, matched)


def _statements(dialect: str, name: str, extra: list[ColumnElement[bool]], *, scope: bool, bbox: bool, start: bool,
                end: bool) -> tuple[Select[Any], Select[Any]]:
    """The count and the page of a layer under ``_conditions`` and ``extra``; limit and offset are parameters.
    The page's first column is the count too (an uncorrelated scalar subquery: evaluated once, by SQLite and by
    PostgreSQL alike)."""
    src = _source(name)
    spec = LAYERS[name]
    if dialect == "sqlite" and bbox and spec.spatial_index and src.fid is not None:
        return _rtree_statements(name, [*_conditions(dialect, name, scope=scope, bbox=False, start=start, end=end),
                                        *extra])
    where = [*_conditions(dialect, name, scope=scope, bbox=bbox, start=start, end=end), *extra]
    count = select(func.count()).select_from(src.table)
    if where:
        count = count.where(and_(*where))
    page = select(count.correlate(None).scalar_subquery().label("_matched"), src.key.label("_key"),
                  _raw_geometry(dialect, src.geom),
                  *(_page_column(name, p, c) for p, c in src.columns.items()),
                  *([src.version.label("_version")] if src.version is not None else [])).select_from(src.table)
    if where:
        page = page.where(and_(*where))
    page = (page.order_by(src.fid if src.fid is not None else src.key)
            .limit(bindparam("q_limit", type_=Integer())).offset(bindparam("q_offset", type_=Integer())))
    return count, page


def _rtree_statements(name: str, where: list[ColumnElement[bool]]) -> tuple[Select[Any], Select[Any]]:
    """``_statements`` for a bbox on a GeoPackage layer with an R-tree (the bbox's parameters as ``_conditions``
    names them; ``where``: the other conditions). The features meeting the box are chosen from the R-tree in one
    scan: every entry whose box meets the query's, and either meets it by more than ``_RTREE_MARGIN`` or has an
    envelope (from its geometry, read only for those) that meets it — the same features as ``rtree_bbox``.
    Without other conditions the choice reads nothing else; with them it joins the layer's rows. The chosen are
    materialised once (a CTE); the count counts them, and the page is the ``q_limit`` of them from ``q_offset`` on,
    by ``fid``: the page's columns (its correlated subqueries above all) are computed for the page's rows only.

    Measured against ``rtree_bbox`` (an R-tree list of ids checked for every row, twice, for the count and again
    for the page; kursk-border, 200 of the benchmark's boxes, the page statement alone through sqlite3, same
    rows, busy machine, the lowest of four alternating runs): 0.44 against 0.76 ms of CPU (0.48 without the CTE,
    the R-tree scanned for the count and again for the page); with an organisation's scope (the join) 0.54
    against 0.62 without the CTE."""
    src, spec = _source(name), LAYERS[name]
    assert src.fid is not None
    minx, miny, maxx, maxy = (bindparam(f"q_{k}", type_=Float()) for k in ("minx", "miny", "maxx", "maxy"))
    minx_in, miny_in, maxx_in, maxy_in = (bindparam(f"q_{k}_in", type_=Float())
                                          for k in ("minx", "miny", "maxx", "maxy"))
    rtree = sa_table(gpkg.rtree_name(spec.name), sa_column("id"), sa_column("minx"), sa_column("maxx"),
                     sa_column("miny"), sa_column("maxy"))
    r = rtree.c
    meets = and_(r.minx <= maxx, r.maxx >= minx, r.miny <= maxy, r.maxy >= miny)
    clear = and_(r.minx <= maxx_in, r.maxx >= minx_in, r.miny <= maxy_in, r.maxy >= miny_in)

    def exact(geom: ColumnElement[Any]) -> ColumnElement[bool]:
        return and_(func.ST_MinX(geom, type_=Float()) <= maxx, func.ST_MaxX(geom, type_=Float()) >= minx,
                    func.ST_MinY(geom, type_=Float()) <= maxy, func.ST_MaxY(geom, type_=Float()) >= miny)

    chosen: Select[Any]
    if where:
        chosen = (select(src.fid.label("fid")).select_from(rtree.join(src.table, src.fid == r.id))
                  .where(meets, or_(clear, exact(src.geom)), *where))
    else:
        row = src.table.alias(f"{spec.name}_edge")
        edge = (select(exact(row.c.geom)).where(row.c.fid == r.id).correlate(rtree).scalar_subquery())
        chosen = select(r.id.label("fid")).select_from(rtree).where(meets, or_(clear, edge))
    # Chosen once for the count and the page: a CTE SQLite materialises (one R-tree scan, not two).
    found = chosen.correlate(None).cte(f"{spec.name}_chosen").prefix_with("MATERIALIZED")
    count = select(func.count()).select_from(found)
    ids = (select(found.c.fid).order_by(found.c.fid).limit(bindparam("q_limit", type_=Integer()))
           .offset(bindparam("q_offset", type_=Integer())))
    page = (select(count.correlate(None).scalar_subquery().label("_matched"), src.key.label("_key"),
                   _raw_geometry("sqlite", src.geom),
                   *(_page_column(name, p, c) for p, c in src.columns.items()),
                   *([src.version.label("_version")] if src.version is not None else []))
            .select_from(src.table).where(src.fid.in_(ids)).order_by(src.fid))
    return count, page


def _page_column(name: str, prop: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """What a page selects for ``prop``: the column, except a hazard area's ``release_phase``, for which it selects
    the remaining area (``features`` computes the phase with ``release_phase``)."""
    if name == "hazard_areas" and prop == "release_phase":
        return _hazard_remaining().label(prop)
    return column.label(prop)


@lru_cache(maxsize=128)
def _prepared(dialect: str, name: str, *, scope: bool, bbox: bool, start: bool,
              end: bool) -> tuple[Select[Any], Select[Any]]:
    """``_statements`` without a CQL filter, built once per layer and kind of query (SQLAlchemy then finds their
    compiled form in its cache at once; a request only binds values)."""
    return _statements(dialect, name, [], scope=scope, bbox=bbox, start=start, end=end)


class _Direct:
    """A compiled statement run straight through the driver's cursor, inside the connection's transaction (which
    SQLAlchemy began, so the begin hooks ran: SQLite's ``BEGIN``, PostgreSQL's ``sapper.org``): what SQLAlchemy's
    execution would do for it (bind and result processors of the statement's types, positional or named
    parameters, the driver's errors raised as SQLAlchemy's), without its per-execution work (compiled-cache
    lookup, execution context, result metadata and ``Row`` objects). The rows are the driver's tuples, with the
    column types' result processors applied (e.g. ``Date`` on SQLite, numerics on PostgreSQL)."""

    def __init__(self, stmt: Select[Any], dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.statement = stmt
        self.sql = str(compiled)
        self.compiled = compiled
        self.dialect = dialect
        self.positional: tuple[str, ...] | None = (tuple(compiled.positiontup or ()) if dialect.positional
                                                   else None)
        # (a tuple-valued processor is for a tuple IN list, which these statements do not have)
        self.binds: dict[str, Callable[[Any], Any]] = {
            k: proc for k, proc in compiled._bind_processors.items() if callable(proc)}
        self.types = [c[3] for c in compiled._result_columns]
        self._processors: dict[tuple[object, ...], list[tuple[int, Callable[[Any], Any]]]] = {}

    def args(self, params: Mapping[str, object]) -> Any:
        """The driver's parameters for ``params``: bind processors applied, in order when positional."""
        full = self.compiled.construct_params(params, _check=False)
        for key, proc in self.binds.items():
            if key in full and full[key] is not None:
                full[key] = proc(full[key])
        if self.positional is not None:
            return tuple(full[k] for k in self.positional)
        return full

    def _result(self, description: Sequence[Any]) -> list[tuple[int, Callable[[Any], Any]]]:
        codes = tuple(d[1] for d in description)
        found = self._processors.get(codes)
        if found is None:
            found = []
            for i, (kind, code) in enumerate(zip(self.types, codes, strict=True)):
                proc = kind.dialect_impl(self.dialect).result_processor(self.dialect, code)
                if proc is not None:
                    found.append((i, proc))
            self._processors[codes] = found
        return found

    def processed(self, rows: list[Any], description: Sequence[Any] | None) -> list[Any]:
        """The driver's ``rows`` with the columns' result processors applied (lists where any applied)."""
        procs = self._result(description) if rows and description else []
        if not procs:
            return rows
        processed = []
        for row in rows:
            values = list(row)
            for i, proc in procs:
                values[i] = proc(values[i])
            processed.append(values)
        return processed

    def rows(self, conn: Connection, params: Mapping[str, object]) -> list[Any]:
        """The statement's rows for ``params`` on ``conn``, in its transaction."""
        driver: Any = conn.connection.driver_connection
        args = self.args(params)
        dbapi: Any = self.dialect.loaded_dbapi
        try:
            cur = driver.cursor()
            try:
                cur.execute(self.sql, args)
                rows: list[Any] = cur.fetchall()
                description = cur.description
            finally:
                cur.close()
        except dbapi.Error as exc:  # straight through the driver, so SQLAlchemy did not wrap it: do as it would
            gone = self.dialect.is_disconnect(exc, driver, None)
            if gone:
                conn.invalidate(exc)
            raise sa_exc.DBAPIError.instance(self.sql, args, exc, dbapi.Error, connection_invalidated=gone) from None
        return self.processed(rows, description)


@dataclass(frozen=True, slots=True)
class _DirectPair:
    count: _Direct
    page: _Direct


@lru_cache(maxsize=128)
def _direct(dialect: Dialect, name: str, *, scope: bool, bbox: bool, start: bool, end: bool) -> _DirectPair:
    """``_prepared``'s count and page compiled once for ``dialect`` (one engine's), run through the driver."""
    count, page = _prepared(dialect.name, name, scope=scope, bbox=bbox, start=start, end=end)
    return _DirectPair(_Direct(count, dialect), _Direct(page, dialect))


def _row(spec: Layer, row: Mapping[Any, Any], geom: BaseGeometry | None) -> FeatureRow:
    version = row.get("_version")
    return FeatureRow(str(row["_key"]), geom, {p: row[p] for p in spec.properties},
                      None if version is None else int(version))


def feature(conn: Connection, name: str, feature_id: str, *, scope: str | None = None) -> FeatureRow:
    """One feature by its id; NotFoundError when there is none, or it belongs to another organisation."""
    spec = layer(name)
    src = _source(spec.name)
    key: object = feature_id
    if spec.key == "fid":
        try:
            key = int(feature_id)
        except ValueError:
            raise NotFoundError(f"{spec.name} feature {feature_id} does not exist") from None
    query = FeatureQuery(spec.name, scope=scope)
    # The scope's condition names its value as a parameter, given to execute (as a page's are).
    where = _conditions(conn.dialect.name, spec.name, **_flags(spec, query))
    stmt = select(src.key.label("_key"), _raw_geometry(conn.dialect.name, src.geom),
                  *(c.label(p) for p, c in src.columns.items()),
                  *([src.version.label("_version")] if src.version is not None else [])
                  ).select_from(src.table).where(src.key == key, *where)
    row = conn.execute(stmt, _params(spec, query)).mappings().first()
    if row is None:
        raise NotFoundError(f"{spec.name} feature {feature_id} does not exist")
    geom = _decode(conn.dialect.name, [None if row["geom"] is None else bytes(row["geom"])])[0]
    return _row(spec, row, geom)


def latest_plan_tasks(conn: Connection, *, hazard_id: str | None = None,
                      asset_id: str | None = None) -> list[PlannedTask]:
    """The latest plan's tasks on one hazard area or asset, by start date (one indexed query)."""
    t, r = schema.plan_tasks, schema.plan_runs
    stmt = select(t).where(t.c.run_id == select(func.max(r.c.id)).scalar_subquery())
    if hazard_id is not None:
        stmt = stmt.where(t.c.hazard_id == hazard_id)
    if asset_id is not None:
        stmt = stmt.where(t.c.asset_id == asset_id)
    return [mapping.planned_task_from(row) for row in conn.execute(stmt.order_by(t.c.start_date, t.c.task_id))
            .mappings()]
