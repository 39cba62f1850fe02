"""Users, API tokens, browser sessions, the audit trail and background jobs in the store (revision 0006).

Secrets never reach the store: passwords arrive as argon2 hashes, tokens and session cookies as their SHA-256
(``services.accounts`` makes both). Audit rows are written on the caller's connection, so they commit with the
write they describe, or not at all.

The *credentials epoch* (``sapper_meta`` key ``auth_epoch``) changes, in the same transaction, with every write
that can withdraw or change what a verified credential grants: a token revoked, a password changed, an
organisation's authority set or its row rewritten. A web worker that remembers verified credentials reads it on
every request (one primary-key read) and forgets them all when it has changed, so a revocation is seen at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection

from sapper.domain.users import AuditBatch, AuditEntry, Job, JobState, Principal, Role, User
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.messages import msg
from sapper.store import schema


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: The ``sapper_meta`` key of the credentials epoch (see the module docstring).
AUTH_EPOCH_KEY = "auth_epoch"
#: The statement that reads the credentials epoch (one row, or none before the first change).
EPOCH_SQL = f"SELECT value FROM sapper_meta WHERE key = '{AUTH_EPOCH_KEY}'"


def auth_epoch(conn: Connection) -> str:
    """The credentials epoch ("" before the first change)."""
    row = conn.exec_driver_sql(EPOCH_SQL).first()
    return "" if row is None else str(row[0])


def auth_epoch_now(conn: Connection) -> str:
    """``auth_epoch`` as one statement straight to the driver, outside any transaction (it runs on every request
    of a busy web worker; through SQLAlchemy's execution and a BEGIN/COMMIT it cost three times as much). On
    PostgreSQL the statement goes in autocommit, one round trip (with the driver's own BEGIN and ROLLBACK around
    it, it took twice the client's CPU and twice the time: 0.72 against 0.40 ms of CPU, 4.8 against 2.3 ms, busy
    machine)."""
    driver: Any = conn.connection.driver_connection
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        # One round trip: psycopg in autocommit sends the statement alone, instead of BEGIN, the statement and a
        # ROLLBACK (three round trips, each also a wake-up of the server's backend).
        driver.autocommit = True
    try:
        cur = driver.cursor()
        try:
            cur.execute(EPOCH_SQL)
            row = cur.fetchone()
        finally:
            cur.close()
    finally:
        if postgresql and not driver.closed:  # a connection that died stays closed: the pool replaces it
            driver.autocommit = False
    return "" if row is None else str(row[0])


def bump_auth_epoch(conn: Connection) -> None:
    """A new credentials epoch, written on ``conn`` (so it commits with the change it announces)."""
    t = schema.sapper_meta
    values = {"key": AUTH_EPOCH_KEY, "value": secrets.token_hex(8)}
    if conn.dialect.name == "postgresql":
        stmt: Any = pg_dialect.insert(t).values(values)
    else:
        stmt = sqlite_dialect.insert(t).values(values)
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.key], set_={"value": stmt.excluded.value}))


def set_authority(conn: Connection, org_id: str, authority: bool) -> None:
    """Mark an organisation as the national authority (or not); NotFoundError when there is none."""
    t = schema.organisations
    if conn.execute(update(t).where(t.c.id == org_id).values(authority=int(authority))).rowcount != 1:
        raise NotFoundError(msg("organisation {id} is not in the store", id=org_id))
    bump_auth_epoch(conn)


def organisation_ids(conn: Connection) -> set[str]:
    return {str(i) for i in conn.execute(select(schema.organisations.c.id)).scalars()}


def add_user(conn: Connection, name: str, role: Role, organisation_id: str, password_hash: str) -> User:
    """A new user; ValidationError naming the field when the name is taken or the organisation unknown."""
    t = schema.users
    faults = []
    if not name.strip():
        faults.append(Fault(msg("user"), msg("name is empty"), "name"))
    elif conn.execute(select(t.c.id).where(t.c.name == name)).first() is not None:
        faults.append(Fault(f"user {name}", "a user with this name exists", "name"))
    if organisation_id not in organisation_ids(conn):
        faults.append(Fault(f"user {name}", msg("organisation {id} is not in the store", id=organisation_id),
                            "organisation"))
    ValidationError.raise_if(f"user {name}", faults)
    new_id = conn.execute(insert(t).values(
        name=name, role=role.value, organisation_id=organisation_id, password_hash=password_hash,
        created_at=_now(), active=1,
    ).returning(t.c.id)).scalar_one()
    return User(int(new_id), name, role, organisation_id, True)


def _principal(row: Any) -> Principal:
    return Principal(int(row.id), str(row.name), Role(row.role), str(row.organisation_id), bool(row.authority))


def _user_select() -> Any:
    u, o = schema.users, schema.organisations
    return select(u.c.id, u.c.name, u.c.role, u.c.organisation_id, u.c.password_hash, o.c.authority).select_from(
        u.join(o, o.c.id == u.c.organisation_id)).where(u.c.active == 1)


def user_credentials(conn: Connection, name: str) -> tuple[Principal, str] | None:
    """The active user called ``name`` with their password hash, or None."""
    row = conn.execute(_user_select().where(schema.users.c.name == name)).first()
    return None if row is None else (_principal(row), str(row.password_hash))


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(schema.users).where(schema.users.c.id == user_id).values(password_hash=password_hash))
    bump_auth_epoch(conn)


def add_token(conn: Connection, user_name: str, token_hash: str, expires_at: dt.datetime) -> None:
    """Store a token (its hash) for the user ``user_name``; NotFoundError when there is no such user."""
    found = user_credentials(conn, user_name)
    if found is None:
        raise NotFoundError(msg("user {name} is not in the store", name=user_name))
    conn.execute(insert(schema.api_tokens).values(
        user_id=found[0].user_id, token_hash=token_hash, created_at=_now(), expires_at=expires_at))


def revoke_tokens(conn: Connection, user_name: str) -> int:
    """Revoke every live token of ``user_name``; how many."""
    t, u = schema.api_tokens, schema.users
    ids = select(u.c.id).where(u.c.name == user_name).scalar_subquery()
    revoked = int(conn.execute(update(t).where(t.c.user_id == ids, t.c.revoked_at.is_(None))
                               .values(revoked_at=_now())).rowcount)
    bump_auth_epoch(conn)
    return revoked


def token_grant(conn: Connection, token_hash: str) -> tuple[Principal, dt.datetime] | None:
    """The user a live (unexpired, unrevoked) token belongs to and when the token expires, or None."""
    t = schema.api_tokens
    stmt = _user_select().join(t, t.c.user_id == schema.users.c.id).where(
        t.c.token_hash == token_hash, t.c.revoked_at.is_(None))
    row = conn.execute(stmt.add_columns(t.c.expires_at)).first()
    if row is None or row.expires_at <= _now():
        return None
    return _principal(row), row.expires_at


def token_principal(conn: Connection, token_hash: str) -> Principal | None:
    """The user a live (unexpired, unrevoked) token belongs to, or None."""
    found = token_grant(conn, token_hash)
    return None if found is None else found[0]


def add_session(conn: Connection, user_id: int, session_hash: str, csrf_token: str, expires_at: dt.datetime) -> None:
    conn.execute(insert(schema.sessions).values(
        user_id=user_id, session_hash=session_hash, csrf_token=csrf_token, created_at=_now(), expires_at=expires_at))


def session_principal(conn: Connection, session_hash: str) -> tuple[Principal, str] | None:
    """The user of a live browser session and the session's CSRF token, or None."""
    s = schema.sessions
    stmt = _user_select().join(s, s.c.user_id == schema.users.c.id).where(s.c.session_hash == session_hash)
    row = conn.execute(stmt.add_columns(s.c.expires_at, s.c.csrf_token)).first()
    if row is None or row.expires_at <= _now():
        return None
    return _principal(row), str(row.csrf_token)


def end_session(conn: Connection, session_hash: str) -> None:
    conn.execute(schema.sessions.delete().where(schema.sessions.c.session_hash == session_hash))


# ----------------------------------------------------------------------------------------------------
# Audit
# ----------------------------------------------------------------------------------------------------


#: ``json.dumps(values, sort_keys=True, default=str)``, its encoder built once (json.dumps builds one per call when
#: given options: a bulk import's 100,000 audit rows spent a fifth of their JSON time on that).
_AUDIT_JSON = json.JSONEncoder(sort_keys=True, default=str)


def audit_json(values: dict[str, Any] | None) -> str | None:
    """A record as audit JSON (sorted keys; dates, enums and geometry as text)."""
    return None if values is None else _AUDIT_JSON.encode(values)


def write_audit(conn: Connection, entry: AuditEntry) -> None:
    """Append ``entry`` on ``conn`` (so it commits with the write it describes)."""
    conn.execute(insert(schema.audit).values(
        at=_now(), actor=entry.actor, organisation_id=entry.organisation_id, table_name=entry.table_name,
        record_id=entry.record_id, action=entry.action, reason=entry.reason,
        before_json=entry.before_json, after_json=entry.after_json))


def write_audits(conn: Connection, entries: Sequence[AuditEntry]) -> int:
    """Append ``entries`` on ``conn`` in one statement (a bulk write's rows, committed with it); how many."""
    if not entries:
        return 0
    at = _now()
    if conn.dialect.name == "sqlite":
        # Straight to the driver, the time bound once as the column type binds it: SQLAlchemy's per-row parameter
        # processing (the same timestamp formatted 100,000 times) was most of a bulk import's audit time.
        bind = schema.audit.c.at.type.bind_processor(conn.dialect)
        stamp = at if bind is None else bind(at)
        values = [(stamp, e.actor, e.organisation_id, e.table_name, e.record_id, e.action, e.reason, e.before_json,
                   e.after_json) for e in entries]
        if set(map(type, itertools.chain.from_iterable(values))) <= {str, type(None)}:
            conn.exec_driver_sql(
                "INSERT INTO audit (at, actor, organisation_id, table_name, record_id, action, reason, before_json, "
                "after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            return len(entries)
    conn.execute(insert(schema.audit), [
        {"at": at, "actor": e.actor, "organisation_id": e.organisation_id, "table_name": e.table_name,
         "record_id": e.record_id, "action": e.action, "reason": e.reason, "before_json": e.before_json,
         "after_json": e.after_json} for e in entries])
    return len(entries)


def write_audit_batch(conn: Connection, batch: AuditBatch) -> int:
    """Append the rows of ``batch`` on ``conn`` in one statement, as :func:`write_audits` appends its entries; how
    many."""
    if conn.dialect.name != "sqlite":
        return write_audits(conn, batch.entries())
    common = (batch.actor, batch.organisation_id, batch.table_name, batch.reason)
    plain = {str, type(None)}
    if (not set(map(type, common)) <= plain or not set(map(type, batch.record_ids)) <= plain
            or not set(map(type, batch.actions)) <= plain or not set(map(type, batch.after_json)) <= plain):
        return write_audits(conn, batch.entries())
    if not batch.record_ids:
        return 0
    bind = schema.audit.c.at.type.bind_processor(conn.dialect)
    at = _now()
    stamp = at if bind is None else bind(at)
    actor, org, table_name, reason = common
    values = [(stamp, actor, org, table_name, record_id, action, reason, None, after)
              for record_id, action, after in zip(batch.record_ids, batch.actions, batch.after_json, strict=True)]
    conn.exec_driver_sql(
        "INSERT INTO audit (at, actor, organisation_id, table_name, record_id, action, reason, before_json, "
        "after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    return len(values)


def audit_entries(conn: Connection, *, table_name: str | None = None, record_id: str | None = None,
                  limit: int = 100) -> list[AuditEntry]:
    """Audit rows, newest first (of one table and record, if given)."""
    a = schema.audit
    stmt = select(a).order_by(a.c.id.desc()).limit(limit)
    if table_name is not None:
        stmt = stmt.where(a.c.table_name == table_name)
    if record_id is not None:
        stmt = stmt.where(a.c.record_id == record_id)
    return [AuditEntry(r.actor, r.organisation_id, r.table_name, r.record_id, r.action, r.reason, r.before_json,
                       r.after_json, int(r.id), r.at.isoformat()) for r in conn.execute(stmt)]


# ----------------------------------------------------------------------------------------------------
# Jobs
# ----------------------------------------------------------------------------------------------------


def _job(row: Any) -> Job:
    return Job(int(row.id), str(row.kind), JobState(row.state), float(row.progress), str(row.actor),
               str(row.message), None if row.plan_id is None else int(row.plan_id), bool(row.cancel_requested),
               str(row.params))


def add_job(conn: Connection, kind: str, actor: str, params: str) -> Job:
    now = _now()
    j = schema.jobs
    new_id = conn.execute(insert(j).values(kind=kind, state=JobState.QUEUED.value, progress=0.0, actor=actor,
                                           created_at=now, updated_at=now, params=params).returning(j.c.id))
    return job(conn, int(new_id.scalar_one()))


def job(conn: Connection, job_id: int) -> Job:
    row = conn.execute(select(schema.jobs).where(schema.jobs.c.id == job_id)).first()
    if row is None:
        raise NotFoundError(msg("job {id} is not in the store", id=job_id))
    return _job(row)


def jobs(conn: Connection, limit: int = 100) -> list[Job]:
    j = schema.jobs
    return [_job(r) for r in conn.execute(select(j).order_by(j.c.id.desc()).limit(limit))]


def update_job(conn: Connection, job_id: int, *, state: JobState | None = None, progress: float | None = None,
               message: str | None = None, plan_id: int | None = None, cancel: bool | None = None) -> None:
    values: dict[str, Any] = {"updated_at": _now()}
    if state is not None:
        values["state"] = state.value
    if progress is not None:
        values["progress"] = progress
    if message is not None:
        values["message"] = message
    if plan_id is not None:
        values["plan_id"] = plan_id
    if cancel is not None:
        values["cancel_requested"] = int(cancel)
    if conn.execute(update(schema.jobs).where(schema.jobs.c.id == job_id).values(**values)).rowcount != 1:
        raise NotFoundError(msg("job {id} is not in the store", id=job_id))


def interrupt_running_jobs(conn: Connection) -> int:
    """Mark every queued or running job interrupted (called at startup: no worker holds them any more)."""
    j = schema.jobs
    return int(conn.execute(update(j).where(j.c.state.in_([JobState.QUEUED.value, JobState.RUNNING.value])).values(
        state=JobState.INTERRUPTED.value, updated_at=_now(),
        message=func.coalesce(j.c.message, "") + "interrupted: the service stopped while the job ran")).rowcount)
