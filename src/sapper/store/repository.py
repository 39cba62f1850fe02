"""The SQL of the store: every statement runs on a Connection from ``Store``, which owns the transactions.

Writes check what the database would refuse before it refuses it (ids already taken, references to records
that do not exist) so the ValidationError names the records; IntegrityError from SQLite is the backstop.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    Select,
    Table,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from sapper.domain.activities import Activity, ActivityType
from sapper.domain.assets import Asset
from sapper.domain.calendar import Holiday, ProgrammeCalendar
from sapper.domain.geometry import areas_m2
from sapper.domain.hazards import HazardArea
from sapper.domain.landrelease import NCStatus, QAVisit, ReleaseEvent
from sapper.domain.places import Settlement
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Organisation
from sapper.errors import ConflictError, Fault, NotFoundError, StoreError, ValidationError
from sapper.messages import Joined, msg
from sapper.store import accounts, gpkg, mapping, schema
from sapper.store.engine import BULK_CACHE_KEY
from sapper.store.records import ContextArea, HazardEdit, LayerFeature, PlanRun, SurveyUnderOrder

T = TypeVar("T")
#: Bound parameters per IN (...) list; SQLite's default limit is far higher, this keeps statements small.
_CHUNK = 500


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_ids(conn: Connection, table: Table, ids: Iterable[str], column: str = "id") -> set[str]:
    """Those of ``ids`` already present in ``table.column``."""
    wanted = sorted(set(ids))
    col: Column[Any] = table.c[column]
    found: set[str] = set()
    if conn.dialect.name == "sqlite" and all(type(i) is str for i in wanted):
        # Straight to the driver: SQLAlchemy's compiling of an expanding IN list per chunk cost a bulk import of
        # 100,000 areas more than the lookups (three per import). The same statement, the same answer.
        head = f'SELECT "{col.name}" FROM "{table.name}" WHERE "{col.name}" IN '
        for chunk in _chunks(wanted):
            found.update(r[0] for r in conn.exec_driver_sql(head + f"({', '.join('?' * len(chunk))})",
                                                            tuple(chunk)))
        return found
    for chunk in _chunks(wanted):
        found.update(conn.execute(select(col).where(col.in_(chunk))).scalars())
    return found


def _check_new_ids(conn: Connection, table: Table, what: str, ids: list[str], replace: bool) -> None:
    faults = []
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            faults.append(Fault(f"{what} {i}", "id appears twice in what was given", "id"))
        seen.add(i)
    if not replace:
        faults += [
            Fault(f"{what} {i}", "id already exists in the store (pass replace=True to overwrite it)", "id")
            for i in sorted(existing_ids(conn, table, ids))
        ]
    ValidationError.raise_if(f"{what}s to add", faults)


def _check_refs(
    conn: Connection, what: str, refs: list[tuple[str, str | None]], target: Table, target_what: str
) -> None:
    """Refuse records whose reference (``(record id, referenced id)``) names no row of ``target``."""
    wanted = {r for _, r in refs if r is not None}
    missing = wanted - existing_ids(conn, target, wanted)
    faults = [
        Fault(f"{what} {rid}", f"{target_what} {ref} is not in the store", f"{target_what}_id")
        for rid, ref in refs
        if ref in missing
    ]
    ValidationError.raise_if(f"{what}s to add", faults)


def _encode_geometry(conn: Connection, rows: list[dict[str, Any]], column: str = "geom") -> None:
    """Encode the ``column`` geometries of ``rows`` for ``conn``'s backend all at once (GeoPackage binary, or WKB
    for PostGIS), in place: the column type passes bytes through, so a bulk write does not encode row by row."""
    geoms = [row[column] for row in rows]
    if not geoms or any(g is None for g in geoms):
        return
    if conn.dialect.name == "postgresql":
        blobs: list[bytes | None] = [bytes(b) for b in shapely.to_wkb(np.asarray(geoms, dtype=object),
                                                                      output_dimension=2)]
    else:
        blobs = gpkg.encode_many(geoms)
    for row, blob in zip(rows, blobs, strict=True):
        row[column] = blob


#: Rows from which a GeoPackage insert fills the R-tree itself rather than through its trigger.
BULK_RTREE_ROWS = 200


def _insert_indexed(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (geometry already encoded) into the spatial ``table``. On a GeoPackage with many rows, the
    R-tree's insert trigger is set aside for the statement and the boxes written in one statement from the rows'
    headers (:func:`_insert_tuples_indexed`)."""
    if not rows:
        return
    if conn.dialect.name != "sqlite" or len(rows) < BULK_RTREE_ROWS or not isinstance(rows[0].get("geom"), bytes):
        conn.execute(table.insert(), rows)
        return
    names = list(rows[0])
    values = _plain_values(rows, names)
    if values is None:
        conn.execute(table.insert(), rows)
        return
    _insert_tuples_indexed(conn, table, names, values)


def _insert_tuples_indexed(conn: Connection, table: Table, names: Sequence[str],
                           values: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``values`` (rows of ``names``' values, each of a :data:`_PLAIN` type, ``id`` and the encoded ``geom``
    among them) into the spatial ``table`` of a GeoPackage store, straight to the driver. The R-tree's insert
    trigger is set aside for the statement and the boxes written in one statement from the rows' headers: the
    trigger calls five Python functions per row (ST_IsEmpty, ST_MinX, …), two thirds of a bulk import's time in
    SQLite. The trigger is put back in the same transaction (DDL in SQLite is transactional: a failure rolls both
    back, and no other writer can come between, the write lock being held)."""
    columns = ", ".join(f'"{table.c[n].name}"' for n in names)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join("?" * len(names))})'
    rtree = gpkg.rtree_name(table.name)
    trigger = f"{rtree}_insert"
    ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                               (trigger,)).scalar()
    if ddl is None:
        conn.exec_driver_sql(sql, list(values))
        return
    conn.exec_driver_sql(f'DROP TRIGGER "{trigger}"')
    try:
        _room_for(conn, values)
        at_id, at_geom = names.index("id"), names.index("geom")
        ids = [row[at_id] for row in values]
        conn.exec_driver_sql(sql, list(values))
        fids: list[int] | None = None
        if "fid" not in names and "fid" in table.c:
            last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
            fids = list(range(last - len(values) + 1, last + 1))
        if fids is None or not _fids_hold(conn, table, fids, ids):
            found: dict[str, int] = {}
            for chunk in _chunks(ids):
                found.update((str(i), int(f)) for i, f in conn.execute(select(table.c.id, table.c.fid)
                                                                       .where(table.c.id.in_(chunk))))
            fids = [found[i] for i in ids]
        blobs = [row[at_geom] for row in values]
        envelopes = gpkg.envelopes(blobs)
        if envelopes is None:
            boxes = [(fid, *env) for fid, blob in zip(fids, blobs, strict=True)
                     if (env := gpkg.envelope(blob)) is not None]
        else:
            boxes = list(zip(fids, *envelopes.T.tolist(), strict=True))
        if boxes:
            conn.exec_driver_sql(f'INSERT OR REPLACE INTO "{rtree}" VALUES (?, ?, ?, ?, ?)', boxes)
    finally:
        conn.exec_driver_sql(str(ddl))


def _can_copy(conn: Connection, table: Table) -> bool:
    """Whether new rows can go into ``table`` by ``COPY ... FROM STDIN`` on this PostgreSQL connection: not when
    row-level security applies to it (PostgreSQL refuses COPY FROM then; the web service's role), nor through a
    driver other than psycopg 3."""
    driver = conn.connection.driver_connection
    if conn.dialect.name != "postgresql" or not hasattr(driver, "cursor") or not hasattr(driver, "pgconn"):
        return False
    return not bool(conn.exec_driver_sql(f"SELECT row_security_active('{table.name}')").scalar())


def _ewkb_hex(geoms: Sequence[BaseGeometry | None]) -> list[str | None]:
    """Each geometry as hex EWKB with SRID 4326, 2D: PostGIS's text input for the geometry ``ST_GeomFromWKB`` of
    its WKB with that SRID gives (what an INSERT binds, :mod:`sapper.store.types`)."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    present = ~shapely.is_missing(arr)
    out: list[str | None] = [None] * len(arr)
    if present.any():
        texts = shapely.to_wkb(shapely.set_srid(arr[present], 4326), hex=True, include_srid=True,
                               output_dimension=2)
        for k, text_ in zip(np.flatnonzero(present).tolist(), texts, strict=True):
            out[k] = str(text_)
    return out


def _copy_in(conn: Connection, table: Table, names: Sequence[str], values: Sequence[tuple[Any, ...]]) -> None:
    """``values`` (rows of ``names``' values: text, numbers, None; geometry as hex EWKB) into ``table`` by one
    ``COPY ... FROM STDIN`` in the connection's transaction: on PostGIS a bulk import's rows in a fraction of the
    time of batched INSERTs, the same rows (``tests/services/test_bulk_import.py`` compares them)."""
    driver: Any = conn.connection.driver_connection
    columns = ", ".join(f'"{table.c[n].name}"' for n in names)
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        write = copy.write_row
        for row in values:
            write(row)


#: The most page cache (KiB) a bulk insert asks for on its connection: room for the pages it dirties, so that SQLite
#: need not write them out to the WAL before the commit does (SQLite's default is 2 MiB).
BULK_CACHE_KIB = 262_144


def _room_for(conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
    """Raise the connection's page cache for a bulk insert of ``values`` (and the audit rows after it), to about
    three times their size, at most :data:`BULK_CACHE_KIB`, until the connection goes back to the pool (which sets
    SQLite's default again: ``store.engine.BULK_CACHE_KEY``). Memory only: what is written, and when it is
    made durable, do not change (journal mode and synchronous are left as they are)."""
    size = sum(len(v) if isinstance(v, bytes | str) else 8 for v in values[0]) if values else 0
    wanted = min(BULK_CACHE_KIB, 3 * size * len(values) // 1024)
    current = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    have = -current if current < 0 else current * 4  # pages of (at most) 4 KiB
    if wanted > have:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{wanted}")
        conn.info[BULK_CACHE_KEY] = True


def _fids_hold(conn: Connection, table: Table, fids: Sequence[int], ids: Sequence[str]) -> bool:
    """Whether the rows just inserted with ``ids`` have ``fids`` (checked at both ends and by count)."""
    if not fids:
        return True
    got: dict[int, str] = {int(f): str(i) for f, i in conn.exec_driver_sql(
        f'SELECT fid, id FROM "{table.name}" WHERE fid IN (?, ?)', (fids[0], fids[-1]))}
    return got.get(fids[0]) == ids[0] and got.get(fids[-1]) == ids[-1] and fids[-1] - fids[0] + 1 == len(ids)


#: Value types SQLite's driver binds as SQLAlchemy would for sapper's columns (text, numbers, NULL, blobs).
_PLAIN = frozenset({str, int, float, bytes, type(None)})


def _plain_values(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[tuple[Any, ...]] | None:
    """Each row's values of ``names``, in that order, when every row has exactly those keys and every value is of a
    :data:`_PLAIN` type (bool is not: SQLAlchemy's Boolean binds it); None otherwise."""
    if any(len(row) != len(names) for row in rows):
        return None
    pick = operator.itemgetter(*names)
    try:
        values = [pick(row) for row in rows] if len(names) > 1 else [(pick(row),) for row in rows]
    except KeyError:
        return None
    if not set(map(type, itertools.chain.from_iterable(values))) <= _PLAIN:
        return None
    return values


def _write_rows(
    conn: Connection, table: Table, rows: list[dict[str, Any]], *, replace: bool, key: str = "id"
) -> None:
    if not rows:
        return
    if not replace:
        conn.execute(table.insert(), rows)
        return
    stmt = pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    # Only the columns the rows give: a column written separately (source_attributes) keeps its value.
    updates: dict[str, Any] = {
        c.name: stmt.excluded[c.name]
        for c in table.columns
        if c.name in rows[0] and c.name not in ("fid", key, "version")
    }
    for name in ("imsma_id", "imsma_links"):  # NULL in a row: keep the IMSMA id and links the store has
        if name in updates:
            updates[name] = func.coalesce(stmt.excluded[name], table.c[name])
    if "version" in table.c:
        updates["version"] = table.c.version + 1
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c[key]], set_=updates), rows)


# ----------------------------------------------------------------------------------------------------
# Writes
# ----------------------------------------------------------------------------------------------------


def add_organisations(conn: Connection, orgs: Sequence[Organisation], *, replace: bool) -> int:
    _check_new_ids(conn, schema.organisations, "organisation", [o.id for o in orgs], replace)
    _write_rows(conn, schema.organisations, [mapping.organisation_row(o) for o in orgs], replace=replace)
    if replace:  # a rewritten row may change what a remembered credential grants (store/accounts.py)
        accounts.bump_auth_epoch(conn)
    return len(orgs)


#: ``json.dumps(value, ensure_ascii=False, sort_keys=True)`` (as set_source_attributes writes source attributes),
#: its encoder built once rather than per row.
_SOURCE_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def _with_source_attributes(rows: list[dict[str, Any]], attributes: Sequence[Mapping[str, Any]] | None,
                            *, replace: bool) -> None:
    """Each new row's source attributes as its ``source_attributes`` column (JSON, as :func:`set_source_attributes`
    writes it), so that a bulk insert needs no UPDATE after it."""
    if attributes is None:
        return
    if replace:
        raise ValueError("source attributes go with new rows only: with replace, use set_source_attributes")
    for row, encoded in zip(rows, _source_texts(attributes), strict=True):
        row["source_attributes"] = encoded


def _source_texts(attributes: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each of ``attributes`` as the JSON text :func:`set_source_attributes` writes."""
    encode = _SOURCE_JSON.encode
    return [encode(attrs if type(attrs) is dict else dict(attrs)) for attrs in attributes]


def add_hazards(conn: Connection, hazards: Sequence[HazardArea], *, replace: bool,
                source_attributes: Sequence[Mapping[str, Any]] | None = None,
                areas: Sequence[float] | None = None) -> int:
    """Insert (``replace``: or update) ``hazards``; ``areas``: their areas in m² as :func:`areas_m2` gives them,
    when the caller has them already (a bulk import computes them once for the rows and the audit)."""
    _check_new_ids(conn, schema.hazard_areas, "hazard area", [h.id for h in hazards], replace)
    _check_refs(
        conn,
        "hazard area",
        [(h.id, h.organisation_id) for h in hazards],
        schema.organisations,
        "organisation",
    )
    if areas is None:
        areas = areas_m2([h.geometry for h in hazards])
    sqlite = conn.dialect.name == "sqlite"
    if not replace and len(hazards) >= BULK_RTREE_ROWS and (sqlite or _can_copy(conn, schema.hazard_areas)):
        geoms = [h.geometry for h in hazards]
        blobs: Sequence[bytes | str | None] = gpkg.encode_many(geoms) if sqlite else _ewkb_hex(geoms)
        texts = None if source_attributes is None else _source_texts(source_attributes)
        values = mapping.hazard_values(hazards, areas, blobs, texts)
        if values is not None:  # no points either (hazard_values says None for an area with some)
            names = [*mapping.HAZARD_VALUE_COLUMNS, *(() if texts is None else ("source_attributes",))]
            if sqlite:
                _insert_tuples_indexed(conn, schema.hazard_areas, names, values)
            else:
                _copy_in(conn, schema.hazard_areas, names, values)
            return len(hazards)
    rows = [mapping.hazard_row(h, area) for h, area in zip(hazards, areas, strict=True)]
    _encode_geometry(conn, rows)
    _with_source_attributes(rows, source_attributes, replace=replace)
    if replace:
        _write_rows(conn, schema.hazard_areas, rows, replace=replace)
    else:
        _insert_indexed(conn, schema.hazard_areas, rows)
    if replace:
        for chunk in _chunks([h.id for h in hazards]):
            conn.execute(delete(schema.hazard_points).where(schema.hazard_points.c.hazard_id.in_(chunk)))
    points = [row for h in hazards for row in mapping.hazard_point_rows(h)]
    if points:
        conn.execute(schema.hazard_points.insert(), points)
    return len(hazards)


def hazard_version(conn: Connection, hazard_id: str) -> int:
    """The row version of a hazard area; NotFoundError when there is none with that id."""
    t = schema.hazard_areas
    found = conn.execute(select(t.c.version).where(t.c.id == hazard_id)).scalar()
    if found is None:
        raise NotFoundError(msg("hazard area {id} is not in the store", id=hazard_id))
    return int(found)


def _conflict(hazard_id: str, found: object, expected: int) -> ConflictError:
    return ConflictError(
        f"hazard area {hazard_id} was changed by someone else (it is at version {found}, the edit was made on "
        f"version {expected}); nothing was written: read it again and redo the edit"
    )


def update_hazard(conn: Connection, hazard_id: str, edit: HazardEdit, *, expected_version: int) -> int:
    """Write ``edit`` to a hazard area if its row is still at ``expected_version``; returns the new version.

    The UPDATE names the version (``WHERE id = :id AND version = :expected``), so of two edits made from the
    same read exactly one matches: on PostgreSQL the second waits for the first's row lock and then finds the
    version moved on; on SQLite ``BEGIN IMMEDIATE`` runs them one after the other. The loser gets ConflictError
    and nothing of it is written. The edited area is validated as a domain object first.
    """
    t = schema.hazard_areas
    row = conn.execute(select(t).where(t.c.id == hazard_id)).mappings().first()
    if row is None:
        raise NotFoundError(msg("hazard area {id} is not in the store", id=hazard_id))
    if int(row["version"]) != expected_version:
        raise _conflict(hazard_id, int(row["version"]), expected_version)
    updated = dataclasses.replace(
        mapping.hazard_from(row),
        geometry=edit.geometry,
        name=edit.name,
        evidence=edit.evidence,
        device_categories=frozenset(edit.device_categories),
        land_use=edit.land_use,
        beneficiaries=edit.beneficiaries,
        organisation_id=edit.organisation_id,
        expected_clearance_share=edit.expected_clearance_share,
    )
    _check_refs(conn, "hazard area", [(hazard_id, updated.organisation_id)], schema.organisations, "organisation")
    values = {k: v for k, v in mapping.hazard_row(updated).items() if k != "id"}
    result = conn.execute(
        update(t).where(t.c.id == hazard_id, t.c.version == expected_version).values(**values, version=t.c.version + 1)
    )
    if result.rowcount != 1:
        now = conn.execute(select(t.c.version).where(t.c.id == hazard_id)).scalar()
        raise _conflict(hazard_id, now, expected_version)
    return expected_version + 1


def delete_hazard(conn: Connection, hazard_id: str, *, expected_version: int) -> None:
    """Delete a hazard area if its row is still at ``expected_version``.

    NotFoundError when there is none; ConflictError when it moved on; a ValidationError (refused by the
    database) when activities or a land-release history refer to it.
    """
    t = schema.hazard_areas
    found = hazard_version(conn, hazard_id)
    if found != expected_version:
        raise _conflict(hazard_id, found, expected_version)
    if conn.execute(delete(t).where(t.c.id == hazard_id, t.c.version == expected_version)).rowcount != 1:
        raise _conflict(hazard_id, hazard_version(conn, hazard_id), expected_version)


def add_assets(conn: Connection, assets: Sequence[Asset], *, replace: bool,
               source_attributes: Sequence[Mapping[str, Any]] | None = None) -> int:
    _check_new_ids(conn, schema.assets, "asset", [a.id for a in assets], replace)
    rows = [mapping.asset_row(a) for a in assets]
    _encode_geometry(conn, rows)
    _with_source_attributes(rows, source_attributes, replace=replace)
    if replace:
        _write_rows(conn, schema.assets, rows, replace=replace)
    else:
        _insert_indexed(conn, schema.assets, rows)
    return len(assets)


def add_activities(conn: Connection, activities: Sequence[Activity], *, replace: bool) -> int:
    ids = [a.id for a in activities]
    _check_new_ids(conn, schema.activities, "activity", ids, replace)
    _check_refs(conn, "activity", [(a.id, a.hazard_id) for a in activities], schema.hazard_areas, "hazard")
    _check_refs(
        conn,
        "activity",
        [(a.id, a.organisation_id) for a in activities],
        schema.organisations,
        "organisation",
    )
    rows, outcomes, devices = [], [], []
    for a in activities:
        row, outs, devs = mapping.activity_rows(a)
        rows.append(row)
        outcomes += outs
        devices += devs
    if replace:
        for chunk in _chunks(ids):
            conn.execute(
                delete(schema.land_release_outcomes).where(
                    schema.land_release_outcomes.c.activity_id.in_(chunk)
                )
            )
            conn.execute(delete(schema.devices_found).where(schema.devices_found.c.activity_id.in_(chunk)))
    _write_rows(conn, schema.activities, rows, replace=replace)
    if outcomes:
        conn.execute(schema.land_release_outcomes.insert(), outcomes)
    if devices:
        conn.execute(schema.devices_found.insert(), devices)
    return len(activities)


def add_teams(conn: Connection, teams: Sequence[DeminerTeam], *, replace: bool) -> int:
    _check_new_ids(conn, schema.teams, "team", [t.id for t in teams], replace)
    _check_refs(
        conn, "team", [(t.id, t.organisation_id) for t in teams], schema.organisations, "organisation"
    )
    _write_rows(conn, schema.teams, [mapping.team_row(t) for t in teams], replace=replace)
    return len(teams)


def add_brigades(conn: Connection, brigades: Sequence[BuilderBrigade], *, replace: bool) -> int:
    _check_new_ids(conn, schema.brigades, "brigade", [b.id for b in brigades], replace)
    _check_refs(
        conn, "brigade", [(b.id, b.organisation_id) for b in brigades], schema.organisations, "organisation"
    )
    _write_rows(conn, schema.brigades, [mapping.brigade_row(b) for b in brigades], replace=replace)
    return len(brigades)


def add_settlements(conn: Connection, settlements: Sequence[Settlement]) -> int:
    if settlements:
        conn.execute(schema.settlements.insert(), [mapping.settlement_row(s) for s in settlements])
    return len(settlements)


def context_table(layer: str) -> Table:
    try:
        return schema.CONTEXT_LAYERS[layer]
    except KeyError:
        allowed = ", ".join(schema.CONTEXT_LAYERS)
        raise ValidationError(
            "context layer", [Fault("context layer", f"{layer!r} is not one of {allowed}", "layer")]
        ) from None


def add_context_areas(conn: Connection, layer: str, areas: Sequence[ContextArea]) -> int:
    table = context_table(layer)
    if areas:
        conn.execute(table.insert(), [mapping.context_row(a) for a in areas])
    return len(areas)


def set_meta(conn: Connection, values: Mapping[str, object]) -> None:
    rows = [{"key": str(k), "value": str(v)} for k, v in values.items()]
    faults = [Fault("meta", "key is empty", "key") for r in rows if not r["key"].strip()]
    ValidationError.raise_if("store metadata", faults)
    _write_rows(conn, schema.sapper_meta, rows, replace=True, key="key")


def holidays(conn: Connection) -> list[Holiday]:
    t = schema.calendar_holidays
    return [Holiday(r.day, r.name) for r in conn.execute(select(t.c.day, t.c.name).order_by(t.c.day))]


def set_calendar(conn: Connection, cal: ProgrammeCalendar) -> None:
    """Keep ``cal`` as the programme's calendar: its week and stand-downs in sapper_meta, its holidays replacing the
    stored ones."""
    set_meta(conn, mapping.calendar_meta(cal))
    t = schema.calendar_holidays
    conn.execute(delete(t))
    if cal.holidays:
        conn.execute(t.insert(), [{"day": h.day, "name": h.name} for h in cal.holidays])


def save_plan(conn: Connection, run: PlanRun) -> int:
    if run.id is not None and existing_ids(conn, schema.plan_runs, [run.id]):  # type: ignore[list-item]
        raise ValidationError(
            f"plan run {run.id}", [Fault(f"plan run {run.id}", "id already exists in the store", "id")]
        )
    result = conn.execute(schema.plan_runs.insert(), mapping.plan_run_row(run))
    run_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if run.tasks:
        conn.execute(schema.plan_tasks.insert(), [mapping.planned_task_row(run_id, t) for t in run.tasks])
    return run_id


def add_qa_visit(conn: Connection, visit: QAVisit) -> None:
    """Insert a QA visit and its non-conformities; refuse ids already taken and references to nothing."""
    what = f"QA visit {visit.id}"
    faults = []
    if existing_ids(conn, schema.qa_visits, [visit.id]):
        faults.append(Fault(what, "id already exists in the store", "id"))
    taken = existing_ids(conn, schema.non_conformities, [nc.id for nc in visit.non_conformities])
    faults += [Fault(f"non-conformity {i}", "id already exists in the store", "id") for i in sorted(taken)]
    if not existing_ids(conn, schema.activities, [visit.activity_id]):
        faults.append(Fault(what, msg("activity {id} is not in the store", id=visit.activity_id), "activity_id"))
    orgs = {o for o in (visit.inspecting_organisation_id, visit.inspected_organisation_id) if o is not None}
    missing = orgs - existing_ids(conn, schema.organisations, orgs)
    faults += [Fault(what, msg("organisation {id} is not in the store", id=o), "organisation_id")
               for o in sorted(missing)]
    ValidationError.raise_if(what, faults)
    row, ncs = mapping.qa_visit_rows(visit)
    conn.execute(schema.qa_visits.insert(), row)
    if ncs:
        conn.execute(schema.non_conformities.insert(), ncs)


def set_non_conformity_status(conn: Connection, nc_id: str, status: NCStatus) -> None:
    """Record the current status of a non-conformity (its history is in land_release_events)."""
    t = schema.non_conformities
    result = conn.execute(update(t).where(t.c.id == nc_id).values(status=status.value))
    if result.rowcount == 0:
        raise NotFoundError(msg("non-conformity {id} is not in the store", id=nc_id))


def append_release_events(conn: Connection, events: Sequence[ReleaseEvent]) -> int:
    """Append land-release events (the table refuses gaps in a hazard's sequence, updates and deletes)."""
    _check_refs(
        conn,
        "land-release event",
        [(f"{e.seq} of hazard area {e.hazard_id}", e.hazard_id) for e in events],
        schema.hazard_areas,
        "hazard",
    )
    if events:
        conn.execute(schema.land_release_events.insert(), [mapping.release_event_row(e) for e in events])
    return len(events)


def refresh_contents(conn: Connection, tables: Iterable[str]) -> None:
    """Update gpkg_contents' bbox (from the R-tree) and last_change for ``tables`` and the views on them.

    Nothing to do on PostgreSQL (there is no gpkg_contents).
    """
    if conn.dialect.name != "sqlite":
        return
    touched = set(tables)
    if touched & {"plan_runs", "plan_tasks", "hazard_areas"}:
        touched.add("planned_hazard_release")
    if touched & {"plan_runs", "plan_tasks", "assets"}:
        touched.add("planned_asset_restoration")
    now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
    for table in sorted(touched):
        source = {"planned_hazard_release": "hazard_areas", "planned_asset_restoration": "assets"}.get(
            table, table
        )
        if source in schema.SPATIAL_LAYERS:
            rtree = gpkg.rtree_name(source)
            conn.execute(
                text(
                    f"UPDATE gpkg_contents SET min_x = (SELECT min(minx) FROM {rtree}), "
                    f"min_y = (SELECT min(miny) FROM {rtree}), max_x = (SELECT max(maxx) FROM {rtree}), "
                    f"max_y = (SELECT max(maxy) FROM {rtree}), last_change = {now} WHERE table_name = :t"
                ),
                {"t": table},
            )
        else:
            conn.execute(
                text(f"UPDATE gpkg_contents SET last_change = {now} WHERE table_name = :t"), {"t": table}
            )


# ----------------------------------------------------------------------------------------------------
# Reads
# ----------------------------------------------------------------------------------------------------


def organisations(conn: Connection) -> list[Organisation]:
    rows = conn.execute(select(schema.organisations).order_by(schema.organisations.c.id)).mappings()
    return [mapping.organisation_from(r) for r in rows]


def hazards(conn: Connection, ids: Sequence[str] | None = None) -> list[HazardArea]:
    t = schema.hazard_areas
    stmt = select(t).order_by(t.c.fid)
    if ids is not None:
        stmt = stmt.where(t.c.id.in_(ids))
    rows = list(conn.execute(stmt).mappings())
    p = schema.hazard_points
    points: dict[str, list[Mapping[Any, Any]]] = defaultdict(list)
    if ids is None:
        for r in conn.execute(select(p).order_by(p.c.fid)).mappings():
            points[r["hazard_id"]].append(r)
    else:
        for chunk in _chunks(list(ids)):
            for r in conn.execute(select(p).where(p.c.hazard_id.in_(chunk)).order_by(p.c.fid)).mappings():
                points[r["hazard_id"]].append(r)
    return [mapping.hazard_from(r, points[r["id"]]) for r in rows]


def hazard(conn: Connection, hazard_id: str) -> HazardArea:
    found = hazards(conn, [hazard_id])
    if not found:
        raise NotFoundError(msg("hazard area {id} is not in the store", id=hazard_id))
    return found[0]


def assets(conn: Connection, ids: Sequence[str] | None = None) -> list[Asset]:
    t = schema.assets
    stmt = select(t).order_by(t.c.fid)
    if ids is not None:
        stmt = stmt.where(t.c.id.in_(ids))
    return [mapping.asset_from(r) for r in conn.execute(stmt).mappings()]


def activities(conn: Connection, hazard_id: str | None = None) -> list[Activity]:
    a, o, d = schema.activities, schema.land_release_outcomes, schema.devices_found
    stmt = select(a).order_by(a.c.fid)
    if hazard_id is not None:
        stmt = stmt.where(a.c.hazard_id == hazard_id)
    rows = list(conn.execute(stmt).mappings())
    if not rows:
        return []
    outcomes: dict[str, list[Mapping[Any, Any]]] = defaultdict(list)
    devices: dict[str, list[Mapping[Any, Any]]] = defaultdict(list)
    ids = [r["id"] for r in rows]
    for chunk in _chunks(ids):
        for r in conn.execute(select(o).where(o.c.activity_id.in_(chunk)).order_by(o.c.fid)).mappings():
            outcomes[r["activity_id"]].append(r)
        for r in conn.execute(select(d).where(d.c.activity_id.in_(chunk)).order_by(d.c.fid)).mappings():
            devices[r["activity_id"]].append(r)
    return [mapping.activity_from(r, outcomes[r["id"]], devices[r["id"]]) for r in rows]


def surveys_under_orders(conn: Connection) -> list[SurveyUnderOrder]:
    """The NTS and TS activities that name a task order (revision 0018), without their geometry."""
    a = schema.activities
    surveys = [ActivityType.NTS.value, ActivityType.TS.value]
    stmt = (select(a.c.task_order, a.c.id, a.c.start_date)
            .where(a.c.task_order.is_not(None), a.c.activity_type.in_(surveys)).order_by(a.c.fid))
    return [SurveyUnderOrder(r.task_order, r.id, r.start_date) for r in conn.execute(stmt)]


def qa_visits(
    conn: Connection, *, hazard_id: str | None = None, ids: Sequence[str] | None = None
) -> list[QAVisit]:
    """QA visits (with their non-conformities at their current status), of one hazard area or by id."""
    v, a, n = schema.qa_visits, schema.activities, schema.non_conformities
    stmt = select(v).order_by(v.c.visit_date, v.c.id)
    if hazard_id is not None:
        stmt = stmt.join(a, a.c.id == v.c.activity_id).where(a.c.hazard_id == hazard_id)
    if ids is not None:
        stmt = stmt.where(v.c.id.in_(sorted(set(ids))))
    rows = list(conn.execute(stmt).mappings())
    ncs: dict[str, list[Mapping[Any, Any]]] = defaultdict(list)
    for chunk in _chunks([r["id"] for r in rows]):
        for r in conn.execute(select(n).where(n.c.visit_id.in_(chunk)).order_by(n.c.id)).mappings():
            ncs[r["visit_id"]].append(r)
    return [mapping.qa_visit_from(r, ncs[r["id"]]) for r in rows]


def release_events(conn: Connection, hazard_id: str) -> list[ReleaseEvent]:
    """The land-release history of a hazard area, in sequence (empty when it has none)."""
    t = schema.land_release_events
    rows = list(conn.execute(select(t).where(t.c.hazard_id == hazard_id).order_by(t.c.seq)).mappings())
    if not rows:
        return []
    acts = {a.id: a for a in activities(conn, hazard_id)}
    visits = {v.id: v for v in qa_visits(conn, ids=[r["visit_id"] for r in rows if r["visit_id"] is not None])}
    return [
        mapping.release_event_from(
            r,
            acts.get(r["activity_id"]) if r["activity_id"] is not None else None,
            visits.get(r["visit_id"]) if r["visit_id"] is not None else None,
        )
        for r in rows
    ]


def hazards_with_history(conn: Connection, ids: Sequence[str]) -> set[str]:
    """Those of ``ids`` that have at least one land-release event."""
    t = schema.land_release_events
    out: set[str] = set()
    wanted = list(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found = conn.execute(select(t.c.hazard_id).where(t.c.hazard_id.in_(chunk)).distinct()).scalars()
        out |= {str(r) for r in found}
    return out


def hazard_of_activity(conn: Connection, activity_id: str) -> str:
    """The id of the hazard area an activity belongs to; NotFoundError when there is no such activity."""
    a = schema.activities
    found = conn.execute(select(a.c.hazard_id).where(a.c.id == activity_id)).scalar()
    if found is None:
        raise NotFoundError(msg("activity {id} is not in the store", id=activity_id))
    return str(found)


def hazard_of_non_conformity(conn: Connection, nc_id: str) -> str:
    """The id of the hazard area whose QA visit found a non-conformity; NotFoundError when there is none."""
    n, v, a = schema.non_conformities, schema.qa_visits, schema.activities
    stmt = (
        select(a.c.hazard_id)
        .select_from(n.join(v, v.c.id == n.c.visit_id).join(a, a.c.id == v.c.activity_id))
        .where(n.c.id == nc_id)
    )
    found = conn.execute(stmt).scalar()
    if found is None:
        raise NotFoundError(msg("non-conformity {id} is not in the store", id=nc_id))
    return str(found)


def teams(conn: Connection) -> list[DeminerTeam]:
    t = schema.teams
    return [mapping.team_from(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]


def brigades(conn: Connection) -> list[BuilderBrigade]:
    t = schema.brigades
    return [mapping.brigade_from(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]


def settlements(conn: Connection) -> list[Settlement]:
    t = schema.settlements
    return [mapping.settlement_from(r) for r in conn.execute(select(t).order_by(t.c.fid)).mappings()]


def context_areas(conn: Connection, layer: str) -> list[ContextArea]:
    t = context_table(layer)
    return [mapping.context_from(r) for r in conn.execute(select(t).order_by(t.c.fid)).mappings()]


def meta(conn: Connection) -> dict[str, str]:
    """The store's metadata, without the credentials epoch (bookkeeping of the web service, store/accounts.py)."""
    t = schema.sapper_meta
    return {r.key: r.value for r in conn.execute(select(t.c.key, t.c.value).where(t.c.key != accounts.AUTH_EPOCH_KEY)
                                                 .order_by(t.c.key))}


def plan(conn: Connection, run_id: int) -> PlanRun:
    row = conn.execute(select(schema.plan_runs).where(schema.plan_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFoundError(msg("plan run {id} is not in the store", id=run_id))
    t = schema.plan_tasks
    tasks = list(conn.execute(select(t).where(t.c.run_id == run_id).order_by(t.c.fid)).mappings())
    return mapping.plan_run_from(row, tasks)


def latest_plan(conn: Connection) -> PlanRun | None:
    run_id = conn.execute(select(func.max(schema.plan_runs.c.id))).scalar()
    return None if run_id is None else plan(conn, int(run_id))


def counts(conn: Connection) -> dict[str, int]:
    out: dict[str, int] = {}
    for table in schema.metadata.sorted_tables:
        out[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return dict(sorted(out.items()))


def _check_bbox(layer: str, minx: float, miny: float, maxx: float, maxy: float) -> Table:
    if layer not in schema.SEARCHABLE:
        allowed = ", ".join(schema.SEARCHABLE)
        raise ValidationError(
            "bbox search", [Fault("bbox search", f"layer {layer!r} is not one of {allowed}", "layer")]
        )
    faults = []
    if not minx <= maxx:
        faults.append(Fault("bbox search", f"minx {minx} is greater than maxx {maxx}", "minx"))
    if not miny <= maxy:
        faults.append(Fault("bbox search", f"miny {miny} is greater than maxy {maxy}", "miny"))
    ValidationError.raise_if("bbox search", faults)
    return schema.SEARCHABLE[layer]


@lru_cache(maxsize=32)
def _bbox_select(dialect: str, layer: str, features: bool, limited: bool) -> Select[Any]:
    """The box query of ``layer`` (ids, or ids, geometry and version) with the box as bound parameters ``minx``,
    ``miny``, ``maxx``, ``maxy`` (and ``limit``), through the spatial index. Built once per shape: building the
    expression cost about 2 ms a query, as much as running it.

    SQLite: the GeoPackage R-tree keeps float32 bounds rounded outwards, so candidates are checked against the
    exact envelope kept in each geometry's header. PostGIS: ``&&`` on the GiST index (also float32 boxes), then
    the exact envelope (``ST_XMin`` … of the geometry's box3d).
    """
    table = schema.SEARCHABLE[layer]
    g = table.c.geom
    # Geometry comes back raw (GeoPackage binary, or WKB from ST_AsBinary) and is decoded for the whole page at
    # once by bbox_features: one vectorised shapely call instead of one per row.
    raw = func.ST_AsBinary(g, type_=LargeBinary()) if dialect == "postgresql" else type_coerce(g, LargeBinary())
    columns = [table.c.id, raw.label("geom"), table.c.version] if features else [table.c.id]
    minx, miny, maxx, maxy = (bindparam(n, type_=Float()) for n in ("minx", "miny", "maxx", "maxy"))
    if dialect == "postgresql":
        env = func.ST_MakeEnvelope(minx, miny, maxx, maxy, literal_column("4326"))
        box = func.Box3D(g)
        stmt = select(*columns).where(
            g.op("&&")(env),
            func.ST_XMin(box) <= maxx, func.ST_XMax(box) >= minx,
            func.ST_YMin(box) <= maxy, func.ST_YMax(box) >= miny,
        )
    else:
        rtree = sa_table(gpkg.rtree_name(table.name), sa_column("id"), sa_column("minx"), sa_column("maxx"),
                         sa_column("miny"), sa_column("maxy"))
        r = rtree.c
        stmt = (
            select(*columns)
            .select_from(rtree.join(table, table.c.fid == r.id))
            .where(
                r.minx <= maxx, r.maxx >= minx, r.miny <= maxy, r.maxy >= miny,
                func.ST_MinX(g) <= maxx, func.ST_MaxX(g) >= minx, func.ST_MinY(g) <= maxy, func.ST_MaxY(g) >= miny,
            )
        )
    stmt = stmt.order_by(table.c.id)
    return stmt.limit(bindparam("limit", type_=Integer())) if limited else stmt


def _box(minx: float, miny: float, maxx: float, maxy: float) -> dict[str, float]:
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}


def bbox_search(
    conn: Connection, layer: str, minx: float, miny: float, maxx: float, maxy: float
) -> list[str]:
    """Ids of ``layer``'s records whose envelope meets the box, found through the spatial index."""
    _check_bbox(layer, minx, miny, maxx, maxy)
    stmt = _bbox_select(conn.dialect.name, layer, False, False)
    return [str(i) for i in conn.execute(stmt, _box(minx, miny, maxx, maxy)).scalars()]


def bbox_features(
    conn: Connection, layer: str, minx: float, miny: float, maxx: float, maxy: float, *, limit: int | None = None
) -> list[LayerFeature]:
    """Id, geometry and row version of ``layer``'s records whose envelope meets the box, by id, at most ``limit``."""
    _check_bbox(layer, minx, miny, maxx, maxy)
    if limit is not None and limit < 0:
        raise ValidationError("bbox search", [Fault("bbox search", f"limit {limit} is negative", "limit")])
    params: dict[str, float] = _box(minx, miny, maxx, maxy)
    if limit is not None:
        params["limit"] = limit
    stmt = _bbox_select(conn.dialect.name, layer, True, limit is not None)
    rows = conn.execute(stmt, params).all()
    blobs = [None if r.geom is None else bytes(r.geom) for r in rows]
    if conn.dialect.name == "postgresql":
        geoms: list[BaseGeometry | None] = list(shapely.from_wkb(np.asarray(blobs, dtype=object)))
    else:
        geoms = gpkg.decode_many(blobs)
    return [LayerFeature(str(r.id), g, int(r.version)) for r, g in zip(rows, geoms, strict=True)]


# ----------------------------------------------------------------------------------------------------
# Source attributes (revision 0007)
# ----------------------------------------------------------------------------------------------------

_SOURCE_TABLES = {"hazard_areas": schema.hazard_areas, "assets": schema.assets}


def _source_table(layer: str) -> Table:
    table = _SOURCE_TABLES.get(layer)
    if table is None:
        raise ValidationError("source attributes", [Fault("source attributes", f"{layer!r} keeps none", "layer")])
    return table


def set_source_attributes(conn: Connection, layer: str, attributes: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace the source attributes of the records of ``layer`` (``hazard_areas`` or ``assets``) named in
    ``attributes`` (by id; JSON scalars by column name)."""
    table = _source_table(layer)
    stmt = update(table).where(table.c.id == bindparam("_id")).values(source_attributes=bindparam("_attrs"))
    rows = [{"_id": rid, "_attrs": json.dumps(dict(attrs), ensure_ascii=False, sort_keys=True)}
            for rid, attrs in attributes.items()]
    for start in range(0, len(rows), 500):
        conn.execute(stmt, rows[start:start + 500])


def source_attributes(conn: Connection, layer: str, ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """The source attributes of ``layer``'s records (those of ``ids``, or all), by id; records without any are left
    out."""
    table = _source_table(layer)
    stmt = select(table.c.id, table.c.source_attributes).where(table.c.source_attributes != "{}")
    out: dict[str, dict[str, Any]] = {}
    chunks = [None] if ids is None else list(_chunks(list(ids)))
    for chunk in chunks:
        query = stmt if chunk is None else stmt.where(table.c.id.in_(chunk))
        for rid, text_value in conn.execute(query):
            data = json.loads(text_value or "{}")
            if isinstance(data, dict) and data:
                out[str(rid)] = data
    return out


# ----------------------------------------------------------------------------------------------------
# Copy
# ----------------------------------------------------------------------------------------------------

#: Rows per INSERT batch when copying a store.
_COPY_BATCH = 2_000


def copy_tables(source: Connection, target: Connection) -> dict[str, int]:
    """Copy every table of sapper's schema from ``source`` into the empty ``target``; rows copied per table.

    Tables go in dependency order (referenced before referencing), each in primary-key order (so land-release
    events arrive in sequence), keeping ids, fids and row versions. Geometry and timestamps pass through the
    column types, so they convert between GeoPackage binary and PostGIS, text and ``timestamptz``. On PostgreSQL
    the id sequences are moved past the copied ids. Refuses a target that holds any row (StoreError).
    """
    held = {name: n for name, n in counts(target).items() if n}
    if held:
        listed = Joined(", ", [msg("{n} in {table}", n=n, table=name) for name, n in sorted(held.items())[:5]])
        raise StoreError(msg("the target store is not empty ({listed}): copy into a new or empty store", listed=listed))
    copied: dict[str, int] = {}
    for table in schema.metadata.sorted_tables:
        stmt = select(table).order_by(*table.primary_key.columns)
        n = 0
        result = source.execution_options(yield_per=_COPY_BATCH).execute(stmt)
        for batch in result.mappings().partitions():
            target.execute(table.insert(), [dict(r) for r in batch])
            n += len(batch)
        copied[table.name] = n
    if target.dialect.name == "postgresql":
        reset_sequences(target)
    return copied


def reset_sequences(conn: Connection) -> None:
    """Move each integer-key sequence (PostgreSQL) past the highest id in its table."""
    for table in schema.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        key = keys[0].name
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:t, :c), coalesce((SELECT max({key}) FROM {table.name}), 0) + 1,"
                " false)"
            ),
            {"t": table.name, "c": key},
        )
