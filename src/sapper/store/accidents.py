"""Accidents and victims in the store (revision 0012). Victims' personal fields are encrypted here, at the boundary:
what reaches the database is ciphertext (``sapper.store.cipher``), and what comes back is decrypted only for a caller
that passed a :class:`~sapper.store.cipher.FieldCipher` (the services check the victim permission first)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from sapper.domain.accidents import (
    VICTIM_FIELDS,
    Accident,
    AccidentKind,
    Gender,
    Sensitivity,
    Victim,
    VictimOutcome,
)
from sapper.domain.hazards import DeviceCategory
from sapper.errors import NotFoundError
from sapper.store import schema
from sapper.store.cipher import FieldCipher

_A = schema.accidents
_V = schema.victims


def _accident_row(a: Accident) -> dict[str, Any]:
    return {"id": a.id, "accident_date": a.date, "kind": a.kind.value, "device_category": a.device_category.value,
            "place": a.place, "lon": a.lon, "lat": a.lat, "organisation_id": a.organisation_id,
            "hazard_id": a.hazard_id, "activity_id": a.activity_id, "device_type": a.device_type,
            "description": a.description, "investigation": a.investigation, "victim_count": a.victim_count,
            "sensitivity": a.sensitivity.value, "source": a.source, "synthetic": int(a.synthetic)}


def _accident(row: Any) -> Accident:
    return Accident(row.id, row.accident_date, AccidentKind(row.kind), DeviceCategory(row.device_category),
                    place=row.place, lon=row.lon, lat=row.lat, organisation_id=row.organisation_id,
                    hazard_id=row.hazard_id, activity_id=row.activity_id, device_type=row.device_type,
                    description=row.description, investigation=row.investigation, victim_count=row.victim_count,
                    sensitivity=Sensitivity(row.sensitivity), source=row.source, synthetic=bool(row.synthetic))


def put_accident(conn: Connection, accident: Accident) -> bool:
    """Insert ``accident``, or replace the one with its id (version + 1); True when it was new."""
    values = _accident_row(accident)
    found = conn.execute(select(_A.c.version).where(_A.c.id == accident.id)).first()
    if found is None:
        conn.execute(insert(_A).values(**values))
        return True
    conn.execute(update(_A).where(_A.c.id == accident.id).values(**values, version=found.version + 1))
    return False


def accidents(conn: Connection, *, scope: str | None = None) -> list[Accident]:
    """Every accident (of organisation ``scope`` only, when given), by date then id."""
    stmt = select(_A).order_by(_A.c.accident_date, _A.c.id)
    if scope is not None:
        stmt = stmt.where(_A.c.organisation_id == scope)
    return [_accident(r) for r in conn.execute(stmt)]


def accident(conn: Connection, accident_id: str) -> Accident:
    row = conn.execute(select(_A).where(_A.c.id == accident_id)).first()
    if row is None:
        raise NotFoundError(f"no accident {accident_id!r}")
    return _accident(row)


def accident_version(conn: Connection, accident_id: str) -> int:
    """The row version of an accident (1 when written, + 1 on every change); NotFoundError when there is none."""
    found = conn.execute(select(_A.c.version).where(_A.c.id == accident_id)).first()
    if found is None:
        raise NotFoundError(f"no accident {accident_id!r}")
    return int(found.version)


def accident_versions(conn: Connection) -> dict[str, int]:
    """Every accident's row version, by id."""
    return {str(i): int(v) for i, v in conn.execute(select(_A.c.id, _A.c.version))}


def _where(victim_id: str, name: str) -> str:
    return f"victims/{victim_id}/{name}"


def _plain(victim: Victim, name: str) -> str:
    value = getattr(victim, name)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def add_victim(conn: Connection, victim: Victim, cipher: FieldCipher) -> None:
    """Insert ``victim`` with each personal field encrypted on its own."""
    values = {name: cipher.encrypt(_plain(victim, name), where=_where(victim.id, name)) for name in VICTIM_FIELDS}
    conn.execute(insert(_V).values(id=victim.id, accident_id=victim.accident_id, key_id=cipher.key_id, **values))


def delete_victim(conn: Connection, victim_id: str) -> None:
    """Remove one victim (an accident report applied again in a new version replaces the victims it wrote)."""
    conn.execute(delete(_V).where(_V.c.id == victim_id))


def _victim(row: Any, cipher: FieldCipher) -> Victim:
    plain = {name: cipher.decrypt(getattr(row, name), where=_where(row.id, name)) for name in VICTIM_FIELDS}
    return Victim(row.id, row.accident_id, plain["name"], Gender(plain["gender"]), VictimOutcome(plain["outcome"]),
                  birth_date=dt.date.fromisoformat(plain["birth_date"]) if plain["birth_date"] else None,
                  address=plain["address"], activity=plain["activity"])


def victims(conn: Connection, accident_id: str, cipher: FieldCipher) -> list[Victim]:
    """The victims of one accident, decrypted, by id."""
    rows = conn.execute(select(_V).where(_V.c.accident_id == accident_id).order_by(_V.c.id))
    return [_victim(r, cipher) for r in rows]


def victim_ids(conn: Connection, accident_id: str) -> list[str]:
    """The ids of an accident's victims (nothing personal: ids are sapper's)."""
    return list(conn.execute(select(_V.c.id).where(_V.c.accident_id == accident_id).order_by(_V.c.id)).scalars())


def victim_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(_V)).scalar_one())


def reencrypt_victims(conn: Connection, old: FieldCipher, new: FieldCipher) -> list[str]:
    """Decrypt every victim with ``old`` and write it back encrypted with ``new`` (version + 1); victims already
    under ``new``'s key are left as they are. Returns the ids re-encrypted. Any value ``old`` cannot
    decrypt raises DataKeyError, and the caller's transaction rolls back: all or nothing."""
    done: list[str] = []
    rows = conn.execute(select(_V).where(_V.c.key_id != new.key_id).order_by(_V.c.id)).all()
    for row in rows:
        plain = {name: old.decrypt(getattr(row, name), where=_where(row.id, name)) for name in VICTIM_FIELDS}
        values = {name: new.encrypt(text, where=_where(row.id, name)) for name, text in plain.items()}
        conn.execute(update(_V).where(_V.c.id == row.id).values(**values, key_id=new.key_id,
                                                                version=row.version + 1))
        done.append(row.id)
    return done


def victim_key_ids(conn: Connection) -> dict[str, int]:
    """How many victims each key id encrypted."""
    rows = conn.execute(select(_V.c.key_id, func.count()).group_by(_V.c.key_id))
    return {str(k): int(n) for k, n in rows}

