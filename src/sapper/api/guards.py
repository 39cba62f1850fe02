"""What every response and request goes through besides the routes: security headers, the request-body limit, and
the sign-in throttle. The headers are added by a pure ASGI wrapper (one list extended per response), so they cost the
items path almost nothing.

Headers (every response): a Content-Security-Policy that allows scripts, styles, fonts and connections from the
service itself only — no inline script or style, no ``eval`` — with MapLibre's worker from the service or a
``blob:`` URL and images also from ``data:``/``blob:`` (the map draws them); ``frame-ancestors 'none'`` and
``X-Frame-Options: DENY`` (no clickjacking), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
``Cross-Origin-Opener-Policy: same-origin``, a ``Permissions-Policy`` that turns off what the pages never use, and
``Strict-Transport-Security`` when the service runs behind HTTPS (``secure_cookies``).

Body limit: a request whose ``Content-Length`` exceeds ``Settings.max_body_bytes`` (16 MiB by default) is answered
413 before its body is read, and a chunked body is counted as it arrives and cut off with 413 at the limit, so a 1 GB
upload never fills memory. (FastAPI's own ``max_body_size`` does the same but answers in plain text, outside the
security headers; this one answers with the API's problem document.)

Sign-in throttle: failed password checks (``POST /api/session`` and HTTP Basic) are counted per user name and per
client address over a sliding minute; beyond the limit the next attempt — even with the right password — is
answered 429 with ``Retry-After`` until the minute has passed. A correct password does not reset the count, so
guessing gains nothing by interleaving a known password.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from sapper.api.problems import PROBLEM, HTTPProblem
from sapper.messages import msg
from sapper.store import rowscope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
       "connect-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")

class SecurityHeaders:
    """The ASGI wrapper that adds the security headers to every HTTP response and holds request bodies to
    ``max_body_bytes`` (see the module)."""

    def __init__(self, app: ASGIApp, *, https: bool = False, max_body_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.headers = _HEADERS + ([_HSTS] if https else [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with rowscope.request_scope():  # no organisation's rows until the route's rule admits the caller's
            await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = self.headers
        if self.max_body_bytes is not None:
            declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await _too_large(send, self.max_body_bytes, extra)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        if self.max_body_bytes is None:
            await self.app(scope, receive, send_with_headers)
            return
        limit, received = self.max_body_bytes, 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # an HTTPException: FastAPI re-raises it, the problem handler answers 413
                    raise HTTPException(413, f"the request body is larger than {limit:,} bytes, the service's limit")
            return message

        await self.app(scope, counted, send_with_headers)


async def _too_large(send: Send, limit: int, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"type": "https://sapper.invalid/problems/body_too_large", "title": "body too large",
                       "status": 413, "code": "body_too_large",
                       "detail": f"the request body is larger than {limit:,} bytes, the service's limit"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


class LoginThrottle:
    """Failed sign-ins per user name and per client address over the last ``window`` seconds (see the module)."""

    def __init__(self, *, per_name: int = 10, per_address: int = 30, window: float = 60.0) -> None:
        self.per_name = per_name
        self.per_address = per_address
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, name: str, address: str | None) -> None:
        """Raise 429 when ``name`` or ``address`` has used up its attempts."""
        now = time.monotonic()
        with self._lock:
            for key, limit in ((f"name:{name.casefold()}", self.per_name), (f"addr:{address}", self.per_address)):
                if key.startswith("addr:") and address is None:
                    continue
                seen = self._recent(key, now)
                if len(seen) >= limit:
                    wait = max(1, int(seen[0] + self.window - now + 0.999))
                    raise HTTPProblem(429, "too_many_attempts",
                                      msg("too many failed sign-ins for this {what}; try again in {wait} s",
                                          what=key.split(":")[0], wait=wait),
                                      headers={"Retry-After": str(wait)})

    def failed(self, name: str, address: str | None) -> None:
        """Count one failed attempt."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 10_000:  # a flood of names: forget the oldest minute's keys
                self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > now - self.window}
            for key in (f"name:{name.casefold()}", *((f"addr:{address}",) if address else ())):
                self._failures.setdefault(key, deque()).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._failures.get(key)
        if seen is None:
            return deque()
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen
