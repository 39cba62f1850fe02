"""Single-record edits of assets and settlements for the web service's transactions (OGC API – Features Part 4).

Assets carry a row version: an update or delete names it (``WHERE id = :id AND version = :expected``), so of two
edits made from the same read exactly one matches (the other gets ConflictError and writes nothing), as
``repository.update_hazard`` does for hazard areas. Settlements have no version column: the service compares a
digest of the row it reads inside the write transaction, after :func:`lock_settlement` (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already lets one writer in at a time).
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from sapper.domain.assets import Asset
from sapper.domain.places import Settlement
from sapper.errors import ConflictError, NotFoundError
from sapper.store import mapping, schema


def _asset_version(conn: Connection, asset_id: str) -> int:
    t = schema.assets
    found = conn.execute(select(t.c.version).where(t.c.id == asset_id)).scalar()
    if found is None:
        raise NotFoundError(f"asset {asset_id} is not in the store")
    return int(found)


def _conflict(asset_id: str, found: object, expected: int) -> ConflictError:
    return ConflictError(f"asset {asset_id} was changed by someone else (it is at version {found}, the edit was "
                         f"made on version {expected}); nothing was written: read it again and redo the edit")


def update_asset(conn: Connection, asset: Asset, *, expected_version: int) -> int:
    """Write ``asset`` over the stored one of its id if that row is still at ``expected_version``; the new version."""
    t = schema.assets
    found = _asset_version(conn, asset.id)
    if found != expected_version:
        raise _conflict(asset.id, found, expected_version)
    values = {k: v for k, v in mapping.asset_row(asset).items() if k != "id"}
    result = conn.execute(update(t).where(t.c.id == asset.id, t.c.version == expected_version)
                          .values(**values, version=t.c.version + 1))
    if result.rowcount != 1:
        raise _conflict(asset.id, _asset_version(conn, asset.id), expected_version)
    return expected_version + 1


def delete_asset(conn: Connection, asset_id: str, *, expected_version: int) -> None:
    """Delete an asset still at ``expected_version`` (the database refuses it while a plan or progress names it)."""
    t = schema.assets
    found = _asset_version(conn, asset_id)
    if found != expected_version:
        raise _conflict(asset_id, found, expected_version)
    if conn.execute(delete(t).where(t.c.id == asset_id, t.c.version == expected_version)).rowcount != 1:
        raise _conflict(asset_id, _asset_version(conn, asset_id), expected_version)


def insert_settlement(conn: Connection, settlement: Settlement) -> int:
    """Add a settlement; its feature id (``fid``, assigned by the database)."""
    t = schema.settlements
    return int(conn.execute(insert(t).values(**mapping.settlement_row(settlement)).returning(t.c.fid)).scalar_one())


def lock_settlement(conn: Connection, fid: int) -> None:
    """Hold the settlement's row until the transaction ends (PostgreSQL); NotFoundError when there is none."""
    t = schema.settlements
    stmt = select(t.c.fid).where(t.c.fid == fid)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    if conn.execute(stmt).scalar() is None:
        raise NotFoundError(f"settlements feature {fid} does not exist")


def replace_settlement(conn: Connection, fid: int, settlement: Settlement) -> None:
    """Write ``settlement`` over the row ``fid`` (call :func:`lock_settlement` first and compare what it holds)."""
    t = schema.settlements
    if conn.execute(update(t).where(t.c.fid == fid).values(**mapping.settlement_row(settlement))).rowcount != 1:
        raise NotFoundError(f"settlements feature {fid} does not exist")


def delete_settlement(conn: Connection, fid: int) -> None:
    """Delete the settlement ``fid``."""
    t = schema.settlements
    if conn.execute(delete(t).where(t.c.fid == fid)).rowcount != 1:
        raise NotFoundError(f"settlements feature {fid} does not exist")
