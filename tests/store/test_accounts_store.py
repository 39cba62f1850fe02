"""Revision 0006 in the store: the audit trail is append-only, users and tokens are stored hashed, and jobs left
running are marked interrupted; on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sapper.domain.users import AuditEntry, JobState, Role
from sapper.errors import StoreError, ValidationError
from sapper.services import accounts
from sapper.services import jobs as job_service
from sapper.store import Store
from sapper.store import accounts as repo


def _entry() -> AuditEntry:
    return AuditEntry("someone", None, "hazard_areas", "h-1", "update", "why", "{}", "{}")


def test_audit_rows_cannot_be_changed_or_deleted(store: Store) -> None:
    """An audit row is written with its unit of work; UPDATE and DELETE on it are refused by a trigger."""
    with store.write() as uow:
        uow.audit(_entry())
    for sql in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises((ValidationError, StoreError), match="append-only"), store.write() as uow:
            uow.connection.execute(text(sql))
    assert [e.actor for e in store.audit_entries()] == ["someone"]


def test_audit_row_goes_with_a_failed_write(store: Store) -> None:
    """When the write it describes fails, the audit row is not kept either (same transaction)."""
    with pytest.raises(RuntimeError), store.write() as uow:
        uow.audit(_entry())
        raise RuntimeError("the write failed")
    assert store.audit_entries() == []


def test_users_and_tokens_are_stored_hashed(store: Store) -> None:
    """A user's password and a token's secret are nowhere in the store; both authenticate; a duplicate name and
    an unknown organisation are refused naming the field."""
    accounts.add_organisation(store, "org", authority=True)
    accounts.add_user(store, "anna", role=Role.PLANNER, organisation_id="org", password="s3cret-passphrase")
    token = accounts.issue_token(store, "anna", days=2)
    with store.write() as uow:
        dump = " ".join(str(v) for table in ("users", "api_tokens")
                        for row in uow.connection.execute(text(f"SELECT * FROM {table}")) for v in row)
    assert "s3cret-passphrase" not in dump and token.token not in dump
    found = accounts.authenticate_password(store, "anna", "s3cret-passphrase")
    assert found is not None and found.authority and found.role is Role.PLANNER
    assert accounts.authenticate_password(store, "anna", "wrong-pass") is None
    assert accounts.authenticate_token(store, token.token) == found
    with pytest.raises(ValidationError) as err:
        accounts.add_user(store, "anna", role=Role.VIEWER, organisation_id="nowhere", password="another-pass")
    assert {f.field for f in err.value.faults} == {"name", "organisation"}


def test_jobs_found_running_are_interrupted(store: Store) -> None:
    """At startup a job still queued or running is marked interrupted; a finished one is left alone."""
    with store.write() as uow:
        running = repo.add_job(uow.connection, "plan", "anna", "{}")
        repo.update_job(uow.connection, running.id, state=JobState.RUNNING)
        done = repo.add_job(uow.connection, "plan", "anna", "{}")
        repo.update_job(uow.connection, done.id, state=JobState.DONE)
    assert job_service.interrupt_stale(store) == 1
    assert job_service.get(store, running.id).state is JobState.INTERRUPTED
    assert job_service.get(store, done.id).state is JobState.DONE
