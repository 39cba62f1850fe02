"""``create_app(settings)``: the FastAPI application. Nothing connects at import; the store is opened when the
app starts (lifespan) and closed when it stops. Jobs found running at startup are marked interrupted."""

from __future__ import annotations

import importlib
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from sapper.api import accidents, ogc, problems, rest
from sapper.api.auth import PUBLIC, Runtime, guard
from sapper.api.guards import LoginThrottle, SecurityHeaders
from sapper.api.settings import Settings
from sapper.services import accounts, datakeys, jobs
from sapper.store import open_store


def _static_dir(settings: Settings) -> Path | None:
    if settings.static_dir is not None:
        return settings.static_dir if settings.static_dir.is_dir() else None
    try:
        web = importlib.import_module("sapper.web")  # the map UI, when installed alongside
    except ImportError:
        return None
    found = getattr(web, "static_dir", None)
    folder = Path(found()) if callable(found) else Path(str(web.__file__)).resolve().parent / "static"
    return folder if folder.is_dir() else None


def create_app(settings: Settings) -> FastAPI:
    """The web service over the store ``settings.db`` (opened at startup). DataKeyError, before anything starts,
    when the data key is missing or a placeholder outside development (``settings.development``)."""
    cipher = datakeys.check_for_service(settings.data_key, development=settings.development)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.threads
        store = open_store(settings.db)
        jobs.interrupt_stale(store)
        throttle = LoginThrottle(per_name=settings.sign_in_failures_per_name,
                                 per_address=settings.sign_in_failures_per_address)
        app.state.runtime = Runtime(store, accounts.CredentialCache(settings.credential_cache_seconds),
                                    settings.secure_cookies, throttle, cipher)
        try:
            yield
        finally:
            jobs.shutdown(app.state.runtime.store)
            store.close()

    app = FastAPI(title=settings.title, version="1", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None, description="sapper's register as OGC API – Features (Parts 1–4) and a REST API.")
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies, max_body_bytes=settings.max_body_bytes)
    problems.install(app)
    app.include_router(ogc.router)
    app.include_router(rest.router)
    app.include_router(accidents.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.document(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/api", summary="The OpenAPI document", response_class=JSONResponse, **guard(PUBLIC))
    def openapi_document(request: Request) -> JSONResponse:
        return JSONResponse(app.openapi(), media_type="application/vnd.oai.openapi+json;version=3.0")

    folder = _static_dir(settings)
    if folder is not None:
        mimetypes.add_type("text/javascript", ".mjs")  # or the browser refuses the module
        app.mount("/map", StaticFiles(directory=folder, html=True), name="map")
    return app
