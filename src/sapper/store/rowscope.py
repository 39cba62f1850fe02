"""Row-level security on PostgreSQL (revision 0015): which organisation's rows a transaction may touch.

The organisation-scoped tables (hazard areas, activities, teams, brigades, accidents and their victims) have row
level security enabled and forced, with one policy keyed on the setting ``sapper.org``: ``*`` sees every row, an
organisation id sees that organisation's rows (and, for victims, those of its accidents), anything else (unset,
empty) sees none. Every transaction sapper opens on PostgreSQL sets it first (``set_config('sapper.org', …,
true)``: local to the transaction, so a pooled connection never carries it into the next one), from the scope of
the current context:

- the web service opens a :func:`request_scope` per request (empty: nothing visible) and its authorisation
  dependency :func:`admit`\\ s the caller's organisation (or ``*`` for the national authority), so a route that forgot
  its own ``WHERE organisation_id = …`` still sees only the caller's rows;
- everything else (the command line, background jobs, migrations) runs with ``*``.

This is defence in depth. It binds only a role that is not a superuser and lacks BYPASSRLS: run the service as a
role that does not own the tables (:func:`grant_app_role`), and migrate as the owner. SQLite has no row-level
security; there the services' own scoping is the only guard.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

#: The setting the policies read.
SETTING = "sapper.org"
#: The value that sees every organisation's rows.
EVERY = "*"
#: The tables under row-level security and how a row names its organisation (SQL on the row).
SCOPED_TABLES: dict[str, str] = {
    "hazard_areas": "organisation_id",
    "activities": "organisation_id",
    "teams": "organisation_id",
    "brigades": "organisation_id",
    "accidents": "organisation_id",
    "victims": "(SELECT a.organisation_id FROM accidents a WHERE a.id = victims.accident_id)",
}


@dataclass
class _Scope:
    org: str


_CURRENT: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("sapper_row_scope", default=None)


def current() -> str:
    """The value the next transaction sets (``*`` outside a request)."""
    found = _CURRENT.get()
    return EVERY if found is None else found.org


@contextmanager
def request_scope() -> Iterator[None]:
    """A scope for one web request: nothing visible until :func:`admit` names the caller's organisation. The holder
    is shared by the threads the request's dependencies and handler run in (they copy this context)."""
    token = _CURRENT.set(_Scope(""))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def admit(organisation: str | None) -> None:
    """Let the current request see ``organisation``'s rows (None: every organisation's, the national authority)."""
    found = _CURRENT.get()
    if found is not None:
        found.org = EVERY if organisation is None else organisation


def begin_statement() -> tuple[str, tuple[str, str]]:
    """The statement (and its parameters) a transaction on PostgreSQL runs first: ``sapper.org`` for it."""
    return "SELECT set_config(%s, %s, true)", (SETTING, current())


def on_begin(conn: Connection) -> None:
    """Engine hook (PostgreSQL): set ``sapper.org`` for the transaction being begun, straight through the driver."""
    driver = conn.connection.driver_connection
    assert driver is not None
    sql, params = begin_statement()
    dbapi = conn.dialect.loaded_dbapi
    try:
        driver.execute(sql, params)
    except dbapi.Error as exc:  # straight through the driver, so SQLAlchemy did not wrap it: do as it would
        gone = conn.dialect.is_disconnect(exc, driver, None)
        if gone:
            conn.invalidate(exc)  # a server restarted under a pooled connection: the pool opens a new one
        raise sa_exc.DBAPIError.instance(sql, params, exc, dbapi.Error, connection_invalidated=gone) from None


def grant_app_role(engine: Engine, role: str) -> None:
    """Give ``role`` (made by the database administrator, not the tables' owner, no BYPASSRLS) what the web service
    needs: read and write sapper's tables and use their sequences; row-level security then binds it."""
    with engine.begin() as conn:
        name = conn.dialect.identifier_preparer.quote(role)
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"))
        conn.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}"))
