"""The audit trail of one record (``sapper audit --db DB --record ID``): every write, and every read of a victim,
oldest first. Audit rows about victims hold ids, key ids and field names, never a personal value."""

from __future__ import annotations

from sapper.domain.users import AuditEntry
from sapper.store import Store

#: The most rows one trail shows.
TRAIL_LIMIT = 10_000


def trail(store: Store, record_id: str, *, table: str | None = None) -> list[AuditEntry]:
    """The audit rows of ``record_id`` (in ``table`` only, when given), oldest first."""
    return list(reversed(store.audit_entries(table_name=table, record_id=record_id, limit=TRAIL_LIMIT)))
