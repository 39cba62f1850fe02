"""One place that turns errors into ``application/problem+json`` (RFC 9457): SapperError by its code and HTTP
status, FastAPI's request validation by field, anything else as a 500 without internals.

A SapperError's ``detail`` is said in the language the request's ``Accept-Language`` asks for first among English,
Ukrainian and Russian (the map pages send the language chosen in them; QGIS, GDAL and scripts that send none get
English), from the catalogues the command line uses; ``code``, ``title`` and ``field`` never change with it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sapper.errors import SapperError, ValidationError, error_text
from sapper.messages import Msg
from sapper.report.i18n import Lang, Speaker

PROBLEM = "application/problem+json"
_LOG = logging.getLogger("sapper.api")


class HTTPProblem(SapperError):
    """An HTTP-level refusal (401, 403, 412, 428, 415 …) with a stable code."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = code
        self.headers = headers or {}


def problem(status: int, code: str, title: str, detail: str, *, field: str | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, object] = {"type": f"https://sapper.invalid/problems/{code}", "title": title,
                               "status": status, "detail": detail, "code": code}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


#: The refusals every operation may answer (as problem documents), and those only writes may answer.
_EVERY = {400: "Bad request", 401: "Not signed in", 403: "Not allowed for this role or organisation",
          404: "No such record (or not the caller's)", 413: "Body too large", 415: "Unsupported media type",
          422: "Invalid input, naming the field", 429: "Too many failed sign-ins", 503: "Store unavailable"}
_WRITES = {405: "The collection is read-only", 409: "Changed since read, or refused by the rules",
           412: "Precondition failed (If-Match)",
           428: "Precondition required (If-Match)"}
_SCHEMA = {"type": "object", "required": ["type", "title", "status", "detail", "code"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "code": {"type": "string"}, "field": {"type": "string"}}}


def document(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare in ``openapi`` (in place; returned) the problem documents every operation may answer: the refusals
    above, each ``application/problem+json`` with the Problem schema (FastAPI's own 422 is replaced: the handler
    below answers it as a problem)."""
    openapi.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _SCHEMA
    for path in openapi.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = {**_EVERY, **(_WRITES if method in ("post", "put", "patch", "delete") else {})}
            for status, why in codes.items():
                operation["responses"][str(status)] = {
                    "description": why, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    return openapi


def _title(exc: SapperError) -> str:
    return type(exc).__name__ if not isinstance(exc, HTTPProblem) else exc.code.replace("_", " ")


def language(accept: str | None) -> Lang:
    """The first of English, Ukrainian and Russian an ``Accept-Language`` header asks for (highest weight first,
    ``uk-UA`` as ``uk``); English without one, or when it names none of them."""
    wanted: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            wanted.append((-weight, n, tag.strip().lower().replace("_", "-").split("-")[0]))
    for _, _, code in sorted(wanted):
        if code in {lang.value for lang in Lang}:
            return Lang(code)
    return Lang.EN


def from_error(exc: SapperError, lang: Lang = Lang.EN) -> JSONResponse:
    """The problem document of a SapperError (its status, code, message in ``lang`` and, for a validation error, the
    field)."""
    field = None
    if isinstance(exc, ValidationError) and exc.faults:
        field = exc.faults[0].field
    headers = exc.headers if isinstance(exc, HTTPProblem) else None
    sp = Speaker(lang)

    def say(text: object) -> str:
        return text.translated(sp._, sp.n_) if isinstance(text, Msg) and lang is not Lang.EN else str(text)

    detail = exc.message if lang is Lang.EN else error_text(exc, say)
    return problem(exc.http_status, exc.code, _title(exc), detail, field=field, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(SapperError)
    async def sapper_error(request: Request, exc: SapperError) -> JSONResponse:
        return from_error(exc, language(request.headers.get("accept-language")))

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or None
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('body', 'query', 'path', 'header'))}: "
            f"{e.get('msg', 'invalid')}" for e in errors[:10])
        return problem(422, "validation_error", "ValidationError", detail, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code,
                                                                                          "http_error")
        return problem(exc.status_code, code, code.replace("_", " "), str(exc.detail),
                       headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _LOG.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "Internal error",
                       "the server met an unexpected error; it is logged, nothing of this request was written")
