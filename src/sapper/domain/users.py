"""Who uses the register through the web service: roles, the signed-in principal, and what each role may do.

Pure data: no I/O, no hashing (that is ``services.accounts``), no web framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sapper.domain.accidents import Sensitivity
from sapper.domain.roles import Role as Role  # defined apart so that the command line can name roles cheaply

#: Every role.
ALL_ROLES: frozenset[Role] = frozenset(Role)

#: Roles that may change records.
EDITORS: frozenset[Role] = frozenset({Role.ADMIN, Role.IM_OFFICER, Role.PLANNER, Role.FIELD})

#: Roles that may change the register's hazard areas and assets and run plans.
MANAGERS: frozenset[Role] = frozenset({Role.ADMIN, Role.IM_OFFICER, Role.PLANNER})


class JobState(StrEnum):
    """The life of a background job; ``interrupted`` is a job found running when the service started."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user of one request: name, role, organisation, and whether that organisation is the national
    authority (which sees every organisation's records)."""

    user_id: int
    name: str
    role: Role
    organisation_id: str
    authority: bool

    @property
    def scope(self) -> str | None:
        """The organisation whose records this user is limited to; None for the national authority (sees all)."""
        return None if self.authority else self.organisation_id

    @property
    def precise_geometry(self) -> bool:
        """Whether this user may see hazard geometry as recorded (a viewer sees a generalised footprint)."""
        return self.role is not Role.VIEWER

    @property
    def reads_victims(self) -> bool:
        """Whether this user holds the victim permission (reads victims' personal data, every read audited)."""
        return self.role in VICTIM_READERS

    @property
    def clearance(self) -> Sensitivity:
        """The most sensitive class of record this user may see (OCHA): viewers public records only; field users
        and planners restricted; officers confidential; holders of the victim permission strictly confidential."""
        if self.reads_victims:
            return Sensitivity.STRICTLY_CONFIDENTIAL
        return _CLEARANCE[self.role]


@dataclass(frozen=True, slots=True)
class User:
    """A stored user (without the password hash)."""

    id: int
    name: str
    role: Role
    organisation_id: str
    active: bool


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited write: who, what table and record, which action, why, and the record before and after (JSON)."""

    actor: str
    organisation_id: str | None
    table_name: str
    record_id: str
    action: str
    reason: str
    before_json: str | None
    after_json: str | None
    id: int = 0
    at: str = ""


@dataclass(frozen=True, slots=True)
class AuditBatch:
    """The audit rows of one bulk write to one table, in order: the same actor, organisation and reason for all of
    them, and for each record its id, the action and the record after the write (JSON); no record before. The rows
    :class:`AuditEntry` would give one by one, without an object per row (a bulk import writes 100,000)."""

    actor: str
    organisation_id: str | None
    table_name: str
    reason: str
    record_ids: Sequence[str]
    actions: Sequence[str]
    after_json: Sequence[str | None]

    def entries(self) -> list[AuditEntry]:
        """The rows one by one."""
        return [AuditEntry(self.actor, self.organisation_id, self.table_name, record_id, action, self.reason, None,
                           after)
                for record_id, action, after in zip(self.record_ids, self.actions, self.after_json, strict=True)]


@dataclass(frozen=True, slots=True)
class Job:
    """A background job as stored."""

    id: int
    kind: str
    state: JobState
    progress: float
    actor: str
    message: str
    plan_id: int | None
    cancel_requested: bool
    params: str


#: Roles with the victim permission: only they read victims' personal data (each read audited).
VICTIM_READERS: frozenset[Role] = frozenset({Role.ADMIN, Role.IM_OFFICER})

_CLEARANCE = {Role.ADMIN: Sensitivity.CONFIDENTIAL, Role.IM_OFFICER: Sensitivity.CONFIDENTIAL,
              Role.PLANNER: Sensitivity.RESTRICTED, Role.FIELD: Sensitivity.RESTRICTED,
              Role.VIEWER: Sensitivity.PUBLIC}


#: The shortest password accepted (NIST SP 800-63B asks at least 8 and a check against common choices; a register of
#: safety data asks more).
MIN_PASSWORD_LENGTH = 12

#: Choices every guessing list starts with, compared after lower-casing and dropping digits, spaces and punctuation
#: (so "Password2025!" counts as "password"). A short list of our own, not a breach corpus: the length rule does most
#: of the work.
COMMON_PASSWORD_STEMS = frozenset({
    "password", "passw", "qwerty", "qwertyuiop", "asdfgh", "zxcvbn", "letmein", "welcome", "iloveyou", "admin",
    "administrator", "changeme", "secret", "sapper", "demining", "mineaction", "monkey", "dragon", "football",
    "abc", "abcdef", "abcdefgh", "login", "master", "superuser", "root", "test", "user", "default", "",
})


def password_faults(name: str, password: str) -> list[str]:
    """Why ``password`` may not be ``name``'s password (empty when it may): too short, the user's name inside it,
    one character repeated, or a common choice with digits and punctuation around it."""
    faults = []
    if len(password) < MIN_PASSWORD_LENGTH:
        faults.append(f"the password has fewer than {MIN_PASSWORD_LENGTH} characters")
    lowered = password.casefold()
    if name and len(name) >= 3 and name.casefold() in lowered:
        faults.append("the password contains the user name")
    if password and len(set(password)) <= 2:
        faults.append("the password repeats one or two characters")
    stem = "".join(c for c in lowered if c.isalpha())
    if stem in COMMON_PASSWORD_STEMS:
        faults.append("the password is a common choice (a word every guessing list starts with, or only digits "
                      "and punctuation)")
    return faults
