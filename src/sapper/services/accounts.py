"""Organisations, users and their credentials: the use cases behind ``sapper org add``, ``sapper user add``,
``sapper user token`` and the web service's sign-in.

Passwords are hashed with argon2id (argon2-cffi's defaults); API tokens and session cookies are 32 random bytes
(URL-safe base64) of which the store keeps only the SHA-256, so a copy of the store gives no one a way in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sapper.domain.resources import Organisation, OrgKind
from sapper.domain.users import Principal, Role, User, password_faults
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.store import Store
from sapper.store import accounts as repo

__all__ = ["OrgKind", "Organisation", "Principal", "Role", "User"]  # re-exported for the entry points

#: How long an API token lives unless told otherwise.
TOKEN_DAYS = 90
#: How long a browser session lives.
SESSION_HOURS = 12

_HASHER = PasswordHasher()


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a token or session secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def add_organisation(store: Store, org_id: str, *, name: str | None = None, kind: OrgKind = OrgKind.OPERATOR,
                     authority: bool = False) -> Organisation:
    """Add an organisation (the national authority with ``authority``, which sees every organisation's records)."""
    org = Organisation(id=org_id, name=name or org_id, kind=kind)
    with store.write() as uow:
        uow.add_organisations([org])
        repo.set_authority(uow.connection, org.id, authority)
    return org


def add_user(store: Store, name: str, *, role: Role, organisation_id: str, password: str) -> User:
    """Add a user with an argon2 hash of ``password``, which must pass the password policy
    (``sapper.domain.users.password_faults``: at least 12 characters, not the name, not a common choice)."""
    faults = password_faults(name, password)
    if faults:
        raise ValidationError(f"user {name}", [Fault(f"user {name}", reason, "password") for reason in faults])
    hashed = _HASHER.hash(password)
    with store.write() as uow:
        return repo.add_user(uow.connection, name, role, organisation_id, hashed)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new API token: the secret (shown once, never stored) and when it expires."""

    user: str
    token: str
    expires_at: dt.datetime


def issue_token(store: Store, name: str, *, days: int = TOKEN_DAYS) -> IssuedToken:
    """A new API token for the user ``name``, valid ``days`` days; NotFoundError when there is no such user."""
    if days < 1:
        raise ValidationError("token", [Fault(f"user {name}", f"days {days} is less than 1", "days")])
    token = secrets.token_urlsafe(32)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    with store.write() as uow:
        repo.add_token(uow.connection, name, secret_hash(token), expires)
    return IssuedToken(name, token, expires)


def revoke_tokens(store: Store, name: str) -> int:
    """Revoke every live token of the user ``name``; how many were revoked."""
    with store.write() as uow:
        return repo.revoke_tokens(uow.connection, name)


def authenticate_password(store: Store, name: str, password: str) -> Principal | None:
    """The user ``name`` if ``password`` is theirs, else None (same answer for an unknown user)."""
    found = store.user_credentials(name)
    if found is None:
        _HASHER.hash(password)  # spend the same time as for a known user
        return None
    principal, hashed = found
    try:
        _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return principal


def authenticate_token(store: Store, token: str) -> Principal | None:
    """The user a live API token belongs to, or None."""
    return store.token_principal(secret_hash(token))


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A new browser session: the cookie secret and the CSRF token the page sends back on every write."""

    secret: str
    csrf_token: str
    expires_at: dt.datetime


def start_session(store: Store, principal: Principal) -> BrowserSession:
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=SESSION_HOURS)
    with store.write() as uow:
        repo.add_session(uow.connection, principal.user_id, secret_hash(secret), csrf, expires)
    return BrowserSession(secret, csrf, expires)


def session(store: Store, secret: str) -> tuple[Principal, str] | None:
    """The user of a live session and its CSRF token, or None."""
    return store.session_principal(secret_hash(secret))


def end_session(store: Store, secret: str) -> None:
    with store.write() as uow:
        repo.end_session(uow.connection, secret_hash(secret))


def require_user(store: Store, name: str) -> Principal:
    found = store.user_credentials(name)
    if found is None:
        raise NotFoundError(f"user {name} is not in the store")
    return found[0]
