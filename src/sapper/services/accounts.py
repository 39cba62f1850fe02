"""Organisations, users and their credentials: the use cases behind ``sapper org add``, ``sapper user add``,
``sapper user token`` and the web service's sign-in.

Passwords are hashed with argon2id (argon2-cffi's defaults); API tokens and session cookies are 32 random bytes
(URL-safe base64) of which the store keeps only the SHA-256, so a copy of the store gives no one a way in.

A web worker remembers verified credentials in a :class:`CredentialCache` so that a client sending the same token
(or Basic header) on every request costs one primary-key read per request instead of a join, or an argon2
verification (~50 ms). What stays correct: a token past its expiry is refused at once (the cache holds its
expiry), and a revocation, password change or authority change made anywhere (another worker, the CLI) changes
the store's credentials epoch in the same transaction, which the cache reads on every request and on a change
forgets everything it holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sapper.domain.resources import Organisation, OrgKind
from sapper.domain.users import Principal, Role, User, password_faults
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.messages import msg
from sapper.services.roles import TOKEN_DAYS as TOKEN_DAYS  # here for the command line's options, without the store
from sapper.store import Store
from sapper.store import accounts as repo

__all__ = ["OrgKind", "Organisation", "Principal", "Role", "User"]  # re-exported for the entry points

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
        raise ValidationError(msg("token"), [Fault(f"user {name}", f"days {days} is less than 1", "days")])
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


class CredentialCache:
    """Verified credentials by a key (a SHA-256 of what the client sent), each remembered for at most ``seconds``,
    never past the credential's own expiry, and only while the store's credentials epoch is the one it was
    verified under. Thread-safe; at most ``size`` entries (it starts again empty when full)."""

    def __init__(self, seconds: float, size: int = 1000) -> None:
        self.seconds = seconds
        self.size = size
        self._seen: dict[str, tuple[float, dt.datetime | None, str, Principal]] = {}
        self._epoch: str | None = None
        self._lock = threading.Lock()

    def get(self, store: Store, key: str) -> Principal | None:
        """The principal remembered under ``key`` if it is still valid (one read of the epoch), else None."""
        if self.seconds <= 0:
            return None
        epoch = store.auth_epoch()
        with self._lock:
            if epoch != self._epoch:  # something was revoked or changed: verify everything again
                self._seen.clear()
                self._epoch = epoch
                return None
            found = self._seen.get(key)
            if found is None:
                return None
            deadline, expires_at, at_epoch, principal = found
            if (deadline <= time.monotonic() or at_epoch != epoch
                    or (expires_at is not None and expires_at <= dt.datetime.now(dt.UTC))):
                del self._seen[key]
                return None
            return principal

    def peek(self, key: str) -> tuple[Principal, str] | None:
        """The principal remembered under ``key`` and the epoch it was verified under, WITHOUT reading the store's
        epoch: whoever uses it must read the epoch in the same transaction as what it does for that principal (a
        ``FeatureQuery``'s ``epoch``) and verify the credential again (``get``) when it has moved. None when
        nothing is remembered, or it is past its time or the credential's own expiry."""
        if self.seconds <= 0:
            return None
        with self._lock:
            found = self._seen.get(key)
            if found is None:
                return None
            deadline, expires_at, at_epoch, principal = found
            if (deadline <= time.monotonic() or at_epoch != self._epoch
                    or (expires_at is not None and expires_at <= dt.datetime.now(dt.UTC))):
                return None
            return principal, at_epoch

    def put(self, key: str, principal: Principal, epoch: str, expires_at: dt.datetime | None = None) -> None:
        """Remember ``principal`` under ``key``, verified under ``epoch`` (read BEFORE the credential was)."""
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._seen) >= self.size:
                self._seen.clear()
            self._seen[key] = (time.monotonic() + self.seconds, expires_at, epoch, principal)


def authenticate_token(store: Store, token: str, cache: CredentialCache | None = None) -> Principal | None:
    """The user a live API token belongs to, or None; remembered in ``cache`` when given."""
    key = secret_hash(token)
    if cache is not None:
        remembered = cache.get(store, "token:" + key)
        if remembered is not None:
            return remembered
    found = store.token_grant(key)
    if found is None:
        return None
    principal, expires_at, epoch = found
    if cache is not None:
        cache.put("token:" + key, principal, epoch, expires_at)
    return principal


def remembered_token(token: str, cache: CredentialCache) -> tuple[Principal, str] | None:
    """The user of an API token as ``cache`` remembers it, and the credentials epoch it was verified under, without
    reading the store (``CredentialCache.peek``: the epoch must be checked in the caller's own transaction)."""
    return cache.peek("token:" + secret_hash(token))


def authenticate_basic(store: Store, key: str, name: str, password: str,
                       cache: CredentialCache | None = None) -> Principal | None:
    """The user ``name`` if ``password`` is theirs, else None; a success is remembered in ``cache`` under
    ``key`` (a hash of the header that carried them)."""
    if cache is not None:
        remembered = cache.get(store, "basic:" + key)
        if remembered is not None:
            return remembered
    epoch = store.auth_epoch()  # before the password is checked: a change in between shows as a new epoch
    principal = authenticate_password(store, name, password)
    if principal is not None and cache is not None:
        cache.put("basic:" + key, principal, epoch)
    return principal


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
        raise NotFoundError(msg("user {name} is not in the store", name=name))
    return found[0]
