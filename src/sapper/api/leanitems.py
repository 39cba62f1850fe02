"""The lean path of the service's busiest read, ``GET /collections/{collectionId}/items``: the same route function
(``ogc.items``) and the same authorisation (``auth.READ``'s check: credentials, role, organisation scope), called
straight from a pure ASGI wrapper in one trip to the thread pool, without FastAPI's routing, parameter validation,
dependency solving and second thread-pool trip.

Measured before it was written (py-spy and cProfile of a worker under ``benchmarks/api_latency.py``'s 50 clients,
and the app called in-process; a busy machine, so rough): an items page cost 3-4 ms of CPU in sapper's own code
(query, rows, GeoJSON) and 0.5-2 ms more in the framework between the socket and the route, and each request went
to the thread pool twice (the authorisation dependency, then the route), queueing twice behind the others.

What it takes: a GET whose path is exactly ``/collections/{collectionId}/items`` and whose ``limit`` and
``offset``, when given, are plain decimal numbers (at most nine digits) with ``limit`` ≥ 1 (FastAPI's own checks on
the route); every other parameter is a string the route parses itself, as it does behind FastAPI. Anything else
(other methods, other paths, a ``limit`` of ``0`` or ``ten``, a ``root_path``) goes to FastAPI unchanged, so its
answers, errors included, are the route's. A SapperError becomes the same problem document as through the app's
handler (``problems.from_error``); anything unexpected propagates to the app's 500 handler. It sits inside
``guards.SecurityHeaders``, so its answers carry the same headers; FastAPI's telemetry spans are not made for it
(sapper configures no exporter).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sapper.api import ogc, problems
from sapper.api.auth import checker
from sapper.api.auth import remembered as remembered_caller
from sapper.domain.users import Principal
from sapper.errors import SapperError
from sapper.store.features import StaleCredentials

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PREFIX, _SUFFIX = "/collections/", "/items"
_CHECK = checker(ogc.READ)


def collection_of(scope: Scope) -> str | None:
    """The collection of a GET on ``/collections/{collectionId}/items`` the lean path takes, else None."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
        return None
    name = path[len(_PREFIX) : -len(_SUFFIX)]
    return name if name and "/" not in name else None


def _count(text: str | None, default: int, least: int) -> int | None:
    """A ``limit`` or ``offset`` given as plain digits, at least ``least``; None for anything FastAPI should judge."""
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        return None
    value = int(text)
    return value if value >= least else None


def _answer(request: Request, name: str, limit: int, offset: int) -> Response:
    remembered = remembered_caller(request, ogc.READ)
    if remembered is not None:  # a token verified before: its epoch is checked in the page's own transaction
        try:
            return _items(request, name, remembered[0], limit, offset, remembered[1])
        except StaleCredentials:  # something was revoked or changed since: verify the caller again
            pass
    caller = _CHECK(request)
    assert caller is not None  # READ is not public: the check raises 401 instead
    return _items(request, name, caller, limit, offset, None)


def _items(request: Request, name: str, caller: Principal, limit: int, offset: int, epoch: str | None) -> Response:
    q = request.query_params
    return ogc.items_response(
        request,
        name,
        caller,
        limit=limit,
        offset=offset,
        bbox=q.get("bbox"),
        bbox_crs=q.get("bbox-crs"),
        crs=q.get("crs"),
        datetime=q.get("datetime"),
        filter=q.get("filter"),
        filter_lang=q.get("filter-lang"),
        filter_crs=q.get("filter-crs"),
        f=q.get("f"),
        epoch=epoch,
    )


class LeanItems:
    """The ASGI wrapper that answers items requests on the lean path (see the module) and passes the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = collection_of(scope)
        if name is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        q = request.query_params
        limit, offset = _count(q.get("limit"), 10, 1), _count(q.get("offset"), 0, 0)
        if limit is None or offset is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await run_in_threadpool(_answer, request, name, limit, offset)
        except SapperError as exc:
            response = problems.from_error(exc, problems.language(request.headers.get("accept-language")))
        await response(scope, receive, send)
