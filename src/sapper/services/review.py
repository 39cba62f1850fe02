"""Reviewing staged field submissions: through the web service (on an open store), audited in the same
transaction as the state change; and in batches (``sapper field review/approve/reject``): several ids, or every
version a filter selects (``--team``, ``--form``, ``--since``, ``--all-valid``), changed in one transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sapper.domain.fielddata import StagedSubmission, StagingState
from sapper.domain.users import AuditEntry, Principal
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.io.form_fields import FIELD_NAMES
from sapper.messages import msg, phrases
from sapper.services.fielddata import OPEN_STATES, ApplySummary, ReviewRow, apply_approved, parse_state, review_rows
from sapper.store import Store
from sapper.store.cipher import FieldCipher


def staged(store: Store, state: str | None) -> list[StagedSubmission]:
    """Staged versions (only those in ``state``, if given)."""
    wanted = None
    if state is not None:
        try:
            wanted = StagingState(state)
        except ValueError:
            allowed = ", ".join(s.value for s in StagingState)
            raise ValidationError(msg("state"), [Fault(msg("state"), msg(
                "{state} is not one of {allowed}", state=repr(state), allowed=allowed), "state")]) from None
    return store.field_submissions(wanted)


def decide(store: Store, principal: Principal, staged_id: int, to_state: StagingState, *,
           reason: str = "") -> StagedSubmission:
    """Approve, review or reject one staged version as ``principal`` (a rejection needs a reason); audited."""
    if to_state not in (StagingState.REVIEWED, StagingState.APPROVED, StagingState.REJECTED):
        raise ValidationError(msg("staged submission {id}", id=staged_id), [Fault(
            f"staged submission {staged_id}", msg("cannot be set to {state} by hand", state=to_state.value), "state")])
    with store.write() as uow:
        before = store.field_submission(staged_id)
        after = uow.field_staging.transition(staged_id, to_state, actor=principal.name, reason=reason,
                                             at=dt.datetime.now(dt.UTC))
        uow.audit(AuditEntry(principal.name, principal.organisation_id, "field_submissions", str(staged_id),
                             "update", reason, json.dumps({"state": before.state.value}),
                             json.dumps({"state": after.state.value})))
    return after


def apply(store: Store, principal: Principal, *, cipher: FieldCipher | None = None) -> ApplySummary:
    """Write what review let through into the register as ``principal`` (``fielddata.apply_approved``), with one
    audit row per submission applied, superseded or left approved with a fault, in the same transaction."""
    with store.write() as uow:
        before = {s.id: s.state for s in store.field_submissions(StagingState.APPROVED)}
        summary = apply_approved(store, actor=principal.name, cipher=cipher)
        for s in store.field_submissions():
            if s.id in before and (s.state is not before[s.id] or s.apply_fault):
                uow.audit(AuditEntry(principal.name, principal.organisation_id, "field_submissions", str(s.id),
                                     "update", "apply approved field submissions",
                                     json.dumps({"state": before[s.id].value}),
                                     json.dumps({"state": s.state.value, "fault": s.apply_fault or None})))
    return summary


# ----------------------------------------------------------------------------------------------------
# Batches
# ----------------------------------------------------------------------------------------------------

#: The states a version must be in for a filter to select it, per state it is moved to.
SELECTABLE: dict[StagingState, frozenset[StagingState]] = {
    StagingState.REVIEWED: frozenset({StagingState.STAGED}),
    StagingState.APPROVED: frozenset({StagingState.REVIEWED}),
    StagingState.REJECTED: frozenset(OPEN_STATES),
}


@dataclass(frozen=True, slots=True)
class Selection:
    """Which staged versions a command is about: named ``ids``, or those the filters select (all of them)."""

    ids: tuple[int, ...] = ()
    #: The team (clearance) or brigade (brigade progress) that reported.
    team: str | None = None
    #: A form kind (clearance, brigade, nts, ts, accident) or form id (sapper_clearance…).
    form: str | None = None
    #: Reports of this date or later (the work or survey date; the submission date for other forms).
    since: dt.date | None = None
    #: Only versions that would apply (no fault: ``sapper field list``'s verdict ``valid``).
    all_valid: bool = False

    @property
    def filtered(self) -> bool:
        return self.team is not None or self.form is not None or self.since is not None or self.all_valid

    def matches(self, row: ReviewRow) -> bool:
        s = row.staged
        if self.team is not None and (row.unit or "").casefold() != self.team.strip().casefold():
            return False
        if self.form is not None and self.form.strip().casefold() not in (s.kind, s.submission.form_id.casefold()):
            return False
        if self.since is not None and (row.day is None or row.day < self.since):
            return False
        return not self.all_valid or row.valid


def _check_form(form: str | None) -> None:
    if form is None:
        return
    known = {k for k in FIELD_NAMES} | {f.form_id for f in FIELD_NAMES.values()}
    if form.strip().casefold() not in known:
        allowed = ", ".join(sorted(FIELD_NAMES))
        raise ValidationError(msg("form"), [Fault(msg("form"),
                                                  msg("{form} is not one of {allowed} (or their form ids)",
                                                      form=repr(form), allowed=allowed), "form")])


def select(store: Store, selection: Selection, *, states: frozenset[StagingState] | None = None
           ) -> list[ReviewRow]:
    """The versions ``selection`` names, with their columns and verdicts, oldest first.

    Named ids come as they are, in any state (NotFoundError for the first unknown one); filters select among
    versions in ``states`` (all, if None). Ids and filters together are refused: a filter would silently drop a
    named id.
    """
    _check_form(selection.form)
    if selection.ids:
        if selection.filtered:
            raise ValidationError(msg("selection"), [Fault(msg("selection"), msg(
                "give staged ids or filters (--team, --form, --since, --all-valid), not both"), "ids")])
        wanted = list(dict.fromkeys(selection.ids))
        found = {s.id: s for s in store.field_submissions() if s.id in set(wanted)}
        missing = next((i for i in wanted if i not in found), None)
        if missing is not None:
            raise NotFoundError(msg("staged submission {id} is not in the store; nothing was changed", id=missing))
        return review_rows(store, [found[i] for i in wanted])
    candidates = [s for s in store.field_submissions() if states is None or s.state in states]
    return [r for r in review_rows(store, candidates) if selection.matches(r)]


def decide_many(store: Store, rows: Sequence[ReviewRow], to_state: StagingState, *, actor: str, reason: str = "",
                principal: Principal | None = None, at: dt.datetime | None = None) -> list[StagedSubmission]:
    """Move every version of ``rows`` to ``to_state`` (reviewed, approved or rejected) in ONE transaction: all of
    them, or, when one cannot be moved, none, with a one-line error naming the first that cannot. Audited as
    ``principal`` when given (the web service), in the same transaction."""
    if to_state not in SELECTABLE:
        raise ValidationError(msg("state"), [Fault(msg("state"), msg(
            "cannot be set to {state} by hand (use review, approve, reject; `sapper field apply` applies)",
            state=to_state.value), "state")])
    when = at or dt.datetime.now(dt.UTC)
    with store.write() as uow:
        try:
            done = uow.field_staging.transition_many([r.staged.id for r in rows], to_state, actor=actor,
                                                     reason=reason, at=when)
        except ValidationError as exc:
            if len(rows) == 1:
                raise
            first = exc.faults[0]
            raise ValidationError(msg("batch of {n}", n=len(rows)), [Fault(
                first.record, msg("{reason}; nothing was changed", reason=phrases(first.reason)))]) from None
        if principal is not None:
            for before, after in zip(rows, done, strict=True):
                uow.audit(AuditEntry(principal.name, principal.organisation_id, "field_submissions",
                                     str(after.id), "update", reason, json.dumps({"state": before.staged.state.value}),
                                     json.dumps({"state": after.state.value})))
    return done


def listing(store: Store, selection: Selection, *, state: str | None = None) -> list[ReviewRow]:
    """What ``sapper field list`` shows: the versions in ``state`` (all, if None) the filters select."""
    return select(store, selection, states=None if state is None else frozenset({parse_state(state)}))


def batch(store: Store, to_state: str, selection: Selection, *, actor: str, reason: str = ""
          ) -> list[StagedSubmission]:
    """``sapper field review/approve/reject``: move the versions ``selection`` names (or, with filters, those it
    selects among the versions that can make that move) to ``to_state``, in one transaction (:func:`decide_many`).
    """
    wanted = parse_state(to_state)
    if not selection.ids and not selection.filtered:
        raise ValidationError(msg("selection"), [Fault(msg("selection"), msg(
            "name the staged ids, or select them with --all-valid, --team, --form or --since"), "ids")])
    rows = select(store, selection, states=SELECTABLE.get(wanted, frozenset()))
    return decide_many(store, rows, wanted, actor=actor, reason=reason)
