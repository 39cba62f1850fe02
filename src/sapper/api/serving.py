"""Running the app under uvicorn (``sapper serve``). With several workers uvicorn imports the app by name in each
worker process, so the factory takes the store from ``SAPPER_SERVE_DB``, set by :func:`serve` itself; nothing
reads it at import time."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from sapper.api.app import create_app
from sapper.api.settings import DEFAULT_THREADS, Settings
from sapper.errors import StoreError
from sapper.store import open_store

_DB_VARIABLE = "SAPPER_SERVE_DB"
_THREADS_VARIABLE = "SAPPER_SERVE_THREADS"


def factory() -> FastAPI:
    """The app for a uvicorn worker process (the store named by ``SAPPER_SERVE_DB``)."""
    db = os.environ.get(_DB_VARIABLE)
    if not db:
        raise StoreError(f"{_DB_VARIABLE} is not set: start the service with `sapper serve --db ...`")
    return create_app(Settings(db=db, threads=int(os.environ.get(_THREADS_VARIABLE) or DEFAULT_THREADS)))


def serve(db: str | Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          threads: int = DEFAULT_THREADS, access_log: bool = True) -> None:
    """Serve the store ``db`` on ``host:port`` with ``workers`` processes of ``threads`` threads each until
    interrupted (``access_log``: a line per request on standard output)."""
    open_store(db).close()  # a clear error now (no store, wrong schema) rather than in every worker
    options = {"host": host, "port": port, "log_level": "info", "access_log": access_log}
    if workers <= 1:
        uvicorn.run(create_app(Settings(db=db, threads=threads)), **options)  # type: ignore[arg-type]
        return
    os.environ[_DB_VARIABLE] = str(db)
    os.environ[_THREADS_VARIABLE] = str(threads)
    uvicorn.run("sapper.api.serving:factory", factory=True, workers=workers, **options)  # type: ignore[arg-type]
