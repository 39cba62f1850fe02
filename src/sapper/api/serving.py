"""Running the app under uvicorn (``sapper serve``). With several workers uvicorn imports the app by name in each
worker process, so the factory takes the store from ``SAPPER_SERVE_DB``, set by :func:`serve` itself; nothing
reads it at import time."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from sapper.api.app import create_app
from sapper.api.settings import Settings
from sapper.errors import StoreError
from sapper.store import open_store

_DB_VARIABLE = "SAPPER_SERVE_DB"


def factory() -> FastAPI:
    """The app for a uvicorn worker process (the store named by ``SAPPER_SERVE_DB``)."""
    db = os.environ.get(_DB_VARIABLE)
    if not db:
        raise StoreError(f"{_DB_VARIABLE} is not set: start the service with `sapper serve --db ...`")
    return create_app(Settings(db=db))


def serve(db: str | Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the store ``db`` on ``host:port`` with ``workers`` processes until interrupted."""
    open_store(db).close()  # a clear error now (no store, wrong schema) rather than in every worker
    if workers <= 1:
        uvicorn.run(create_app(Settings(db=db)), host=host, port=port, log_level="info")
        return
    os.environ[_DB_VARIABLE] = str(db)
    uvicorn.run("sapper.api.serving:factory", factory=True, host=host, port=port, workers=workers,
                log_level="info")
