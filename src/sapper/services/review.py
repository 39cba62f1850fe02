"""Reviewing staged field submissions through the web service (on an open store), audited in the same
transaction as the state change."""

from __future__ import annotations

import datetime as dt
import json

from sapper.domain.fielddata import StagedSubmission, StagingState
from sapper.domain.users import AuditEntry, Principal
from sapper.errors import Fault, ValidationError
from sapper.services.fielddata import ApplySummary, apply_approved
from sapper.store import Store


def staged(store: Store, state: str | None) -> list[StagedSubmission]:
    """Staged versions (only those in ``state``, if given)."""
    wanted = None
    if state is not None:
        try:
            wanted = StagingState(state)
        except ValueError:
            allowed = ", ".join(s.value for s in StagingState)
            raise ValidationError("state", [Fault("state", f"{state!r} is not one of {allowed}", "state")]) from None
    return store.field_submissions(wanted)


def decide(store: Store, principal: Principal, staged_id: int, to_state: StagingState, *,
           reason: str = "") -> StagedSubmission:
    """Approve, review or reject one staged version as ``principal`` (a rejection needs a reason); audited."""
    if to_state not in (StagingState.REVIEWED, StagingState.APPROVED, StagingState.REJECTED):
        raise ValidationError(f"staged submission {staged_id}", [Fault(
            f"staged submission {staged_id}", f"cannot be set to {to_state.value} by hand", "state")])
    with store.write() as uow:
        before = store.field_submission(staged_id)
        after = uow.field_staging.transition(staged_id, to_state, actor=principal.name, reason=reason,
                                             at=dt.datetime.now(dt.UTC))
        uow.audit(AuditEntry(principal.name, principal.organisation_id, "field_submissions", str(staged_id),
                             "update", reason, json.dumps({"state": before.state.value}),
                             json.dumps({"state": after.state.value})))
    return after


def apply(store: Store, principal: Principal) -> ApplySummary:
    """Write what review let through into the register as ``principal`` (``fielddata.apply_approved``), with one
    audit row per submission applied, superseded or left approved with a fault, in the same transaction."""
    with store.write() as uow:
        before = {s.id: s.state for s in store.field_submissions(StagingState.APPROVED)}
        summary = apply_approved(store, actor=principal.name)
        for s in store.field_submissions():
            if s.id in before and (s.state is not before[s.id] or s.apply_fault):
                uow.audit(AuditEntry(principal.name, principal.organisation_id, "field_submissions", str(s.id),
                                     "update", "apply approved field submissions",
                                     json.dumps({"state": before[s.id].value}),
                                     json.dumps({"state": s.state.value, "fault": s.apply_fault or None})))
    return summary
