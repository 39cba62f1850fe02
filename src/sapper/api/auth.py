"""Who is asking, and may they: authentication (HTTP Basic, bearer tokens, browser sessions with CSRF) and the
per-route authorisation rule every route declares.

A rule names the roles allowed and whether organisation scoping applies; ``guard(rule)`` gives a route both the
dependency that enforces it and an ``x-sapper-auth`` entry in the OpenAPI document (a test fails for a route
without one). Requests without credentials get 401 (with ``WWW-Authenticate: Basic``) on every non-public route,
except that a request carrying ``X-Requested-With`` (a script that handles 401 itself, as the map UI does) gets no
Basic challenge: browsers answer one with a password dialog of their own instead of the page's sign-in form.

Browser sessions: ``POST /api/session`` sets ``sapper_session`` (HttpOnly, SameSite=Strict) and ``sapper_csrf``
(readable by the page, SameSite=Strict); every unsafe request authenticated by the session cookie must carry the
header ``X-CSRF-Token`` equal to the session's CSRF token (double submit), or it is refused with 403.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request

from sapper.api.guards import LoginThrottle
from sapper.api.problems import HTTPProblem
from sapper.domain.users import Principal, Role
from sapper.messages import msg
from sapper.services import accounts
from sapper.store import Store, rowscope
from sapper.store.cipher import FieldCipher

SESSION_COOKIE = "sapper_session"
CSRF_COOKIE = "sapper_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call a route: ``roles`` (None: anyone, even without credentials) and whether the records it
    touches are limited to the caller's organisation (``scoped``; the national authority sees all)."""

    roles: frozenset[Role] | None
    scoped: bool = False

    def describe(self) -> dict[str, Any]:
        return {"public": self.roles is None,
                "roles": sorted(r.value for r in self.roles) if self.roles is not None else [],
                "scoped": self.scoped}


PUBLIC = Rule(None)


@dataclass
class Runtime:
    """What the app holds while it runs: the open store, the verified credentials it remembers, the sign-in
    throttle, and the cipher of the data key (None when the service runs without one, in development: the victim
    routes then answer 503)."""

    store: Store
    credentials: accounts.CredentialCache
    secure_cookies: bool
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    cipher: FieldCipher | None = None


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


#: A header a script sends to say it handles 401 itself (the map UI does): its 401s carry no Basic challenge, or
#: the browser would answer the page's fetch with its own password dialog instead of letting the page sign in.
SCRIPT_HEADER = "X-Requested-With"


def _unauthorised(message: str, request: Request) -> HTTPProblem:
    if request.headers.get(SCRIPT_HEADER):
        return HTTPProblem(401, "unauthorised", message)
    return HTTPProblem(401, "unauthorised", message, headers={"WWW-Authenticate": 'Basic realm="sapper"'})


def authenticate(request: Request) -> Principal | None:
    """The caller, from the Authorization header or the session cookie; None when they sent no credentials.
    Wrong credentials are a 401; a session write without the CSRF header a 403."""
    rt = runtime(request)
    header = request.headers.get("authorization")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                name, _, password = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise _unauthorised(msg("the Basic credentials are not base64 of name:password"), request) from None
            key = hashlib.sha256(header.encode("utf-8")).hexdigest()
            principal = check_password(request, name, password, key=key)
            if principal is None:
                raise _unauthorised(msg("unknown user or wrong password"), request)
            return principal
        if scheme.lower() == "bearer":
            principal = accounts.authenticate_token(rt.store, credentials.strip(), rt.credentials)
            if principal is None:
                raise _unauthorised(msg("the token is unknown, expired or revoked"), request)
            return principal
        raise _unauthorised(msg("unsupported authorization scheme {scheme} (use Basic or Bearer)",
                                 scheme=repr(scheme)), request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = accounts.session(rt.store, cookie)
        if found is None:
            raise _unauthorised(msg("the session has expired; sign in again"), request)
        principal, csrf = found
        if request.method not in _SAFE and request.headers.get(CSRF_HEADER) != csrf:
            raise HTTPProblem(403, "csrf_failed", msg("a write from a browser session needs the {header} header "
                                                      "holding the {cookie} cookie's value", header=CSRF_HEADER,
                                                      cookie=CSRF_COOKIE))
        return principal
    return None


def check_password(request: Request, name: str, password: str, *, key: str | None = None) -> Principal | None:
    """The user ``name`` if ``password`` is theirs, else None — unless the name or the client's address has failed
    too often in the last minute (429, whatever the password; ``sapper.api.guards.LoginThrottle``). With ``key`` (a
    hash of the HTTP Basic header) a verified password is remembered in the credential cache."""
    rt = runtime(request)
    address = request.client.host if request.client else None
    rt.throttle.check(name, address)
    principal = (accounts.authenticate_basic(rt.store, key, name, password, rt.credentials) if key is not None
                 else accounts.authenticate_password(rt.store, name, password))
    if principal is None:
        rt.throttle.failed(name, address)
    return principal


def checker(rule: Rule) -> Callable[[Request], Principal | None]:
    def check(request: Request) -> Principal | None:
        if rule.roles is None:  # a public route: whatever credentials came (or failed) do not matter
            return None
        principal = authenticate(request)
        if principal is None:
            raise _unauthorised(msg("credentials are needed (HTTP Basic, a bearer token, or a browser session)"),
                                request)
        if principal.role not in rule.roles:
            raise HTTPProblem(403, "forbidden", msg("the role {role} may not do this (allowed: {allowed})",
                                                    role=principal.role.value,
                                                    allowed=", ".join(sorted(r.value for r in rule.roles))))
        request.state.principal = principal
        rowscope.admit(principal.scope)  # PostgreSQL's row-level security: the caller's organisation's rows only
        return principal

    return check


def remembered(request: Request, rule: Rule) -> tuple[Principal, str] | None:
    """The caller of a request that carries a bearer token the credential cache remembers, and the credentials
    epoch it was verified under, admitted as ``checker(rule)`` would admit them — or None (no such token, or a role
    the rule does not allow), when ``checker(rule)`` must decide. The epoch is NOT checked here: whatever is then
    done for the caller must read it in its own transaction and start again with ``checker(rule)`` when it has
    moved (``FeatureQuery.epoch``), so a revoked or changed credential is still refused at once."""
    if rule.roles is None:
        return None
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    found = accounts.remembered_token(credentials.strip(), runtime(request).credentials)
    if found is None or found[0].role not in rule.roles:
        return None
    request.state.principal = found[0]
    rowscope.admit(found[0].scope)
    return found


def guard(rule: Rule) -> dict[str, Any]:
    """Route keyword arguments that enforce ``rule`` and declare it in the OpenAPI document."""
    return {"dependencies": [Depends(checker(rule))], "openapi_extra": {"x-sapper-auth": rule.describe()}}


def caller_of(request: Request) -> Principal:
    """The caller of a guarded, non-public route (set by its rule's dependency)."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise _unauthorised(msg("credentials are needed"), request)
    return found


async def principal(request: Request) -> Principal:
    """``caller_of`` as a route dependency (a coroutine, so FastAPI does not send it to a worker thread)."""
    return caller_of(request)
