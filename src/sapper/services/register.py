"""Open, create and describe the store (the register) a command or request works on.

Entry points open the store once per operation through :func:`open_register` and pass the open
:class:`~sapper.store.Store` to the services, so no operation opens it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sapper.errors import Fault, StoreError, ValidationError
from sapper.messages import msg
from sapper.services.settings import Settings
from sapper.store import Store, open_store

__all__ = ["RegisterInfo", "Store", "create_register", "describe", "open_register"]


def _target(settings: Settings) -> str:
    if settings.db is None:
        raise ValidationError(msg("settings"), [Fault(msg("settings"),
                                                      msg("no store named (give --db or set SAPPER_DB)"), "db")])
    return settings.db


def open_register(settings: Settings) -> Store:
    """The store ``settings.db`` names, open (NotFoundError when there is none, StoreError when it is not one)."""
    return open_store(_target(settings))


def create_register(settings: Settings) -> Store:
    """A new store at ``settings.db``, open; StoreError when the file already exists (never overwritten). A
    ``postgresql://`` URL is opened with create (its tables made when missing); what may go into it is the caller's
    check (e.g. the scenario builder refuses a database holding records)."""
    target = _target(settings)
    if "://" in target:
        return open_store(target, create=True)
    db = Path(target)
    if db.exists():
        raise StoreError(msg("{path} already exists; sapper init does not overwrite a file", path=db))
    return open_store(db, create=True)


@dataclass(frozen=True, slots=True)
class RegisterInfo:
    """What a store holds: rows per table, and its metadata (all text)."""

    counts: dict[str, int]
    meta: dict[str, str]

    def to_json(self) -> dict[str, dict[str, int] | dict[str, str]]:
        """``{"counts": {table: rows}, "meta": {key: value}}``."""
        return {"counts": dict(self.counts), "meta": dict(self.meta)}


def describe(store: Store) -> RegisterInfo:
    """Rows per table and the metadata of ``store`` (read only)."""
    return RegisterInfo(store.counts(), store.meta())


def grant_service_role(store: Store, role: str) -> None:
    """Let the PostgreSQL role ``role`` run the web service on ``store`` under row-level security (docs/security.md):
    it reads and writes sapper's tables without owning them. StoreError on SQLite or when the database refuses."""
    store.grant_service_role(role)
