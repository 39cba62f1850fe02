"""Running the app under uvicorn (``sapper serve``). With several workers uvicorn imports the app by name in each
worker process, so the factory takes the store from ``SAPPER_SERVE_DB`` (set by :func:`serve` itself), the data key
from ``SAPPER_DATA_KEY`` and development mode from ``SAPPER_DEV``; nothing reads them at import time.

Several workers on Linux: each listens on a socket of its own (``sapper.api.listening``), so that the kernel
spreads connections over them; elsewhere they share the socket uvicorn binds."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from sapper.api import listening
from sapper.api.app import create_app
from sapper.api.settings import DEFAULT_THREADS, Settings
from sapper.errors import Fault, StoreError, ValidationError
from sapper.messages import msg
from sapper.store import open_store

_DB_VARIABLE = "SAPPER_SERVE_DB"
_THREADS_VARIABLE = "SAPPER_SERVE_THREADS"
_KEY_VARIABLE = "SAPPER_DATA_KEY"
_DEV_VARIABLE = "SAPPER_DEV"

#: Seconds uvicorn's supervisor waits for a worker to answer its health check before it kills the worker as hung
#: (uvicorn's default, 5 s, is shorter than a new worker takes to start on a busy machine: it imports the command
#: line and the app first; with two cores shared by a dozen busy processes, workers were killed and started again
#: in a loop).
HEALTHCHECK_SECONDS = 30


def settle() -> None:
    """Move everything start-up made (the imported modules, the app) out of the garbage collector's sight.

    A worker starts with about 230,000 objects that live as long as it does; every full collection walked them all
    (over a second measured on a busy machine; tens of milliseconds on a quiet one), stalling whichever requests were
    in flight: a tail-latency spike. ``gc.freeze()`` after a collection moves them to a generation the collector
    never visits (CPython's advice for pre-forked servers); what requests allocate is collected as before."""
    gc.collect()
    gc.freeze()


def factory() -> FastAPI:
    """The app for a uvicorn worker process (the store named by ``SAPPER_SERVE_DB``), start-up's objects settled."""
    db = os.environ.get(_DB_VARIABLE)
    if not db:
        raise StoreError(f"{_DB_VARIABLE} is not set: start the service with `sapper serve --db ...`")
    app = create_app(Settings(db=db, threads=int(os.environ.get(_THREADS_VARIABLE) or DEFAULT_THREADS),
                              data_key=os.environ.get(_KEY_VARIABLE),
                              development=os.environ.get(_DEV_VARIABLE) == "1"))
    settle()
    return app


def serve(db: str | Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          threads: int = DEFAULT_THREADS, access_log: bool = True, data_key: str | None = None,
          development: bool = False) -> None:
    """Serve the store ``db`` on ``host:port`` with ``workers`` processes of ``threads`` threads each until
    interrupted (``access_log``: a line per request on standard output). Refuses to start (DataKeyError) without a
    real data key unless ``development``."""
    app = create_app(Settings(db=db, threads=threads, data_key=data_key, development=development))  # key checked
    open_store(db).close()  # a clear error now (no store, wrong schema) rather than in every worker
    options = {"host": host, "port": port, "log_level": "info", "access_log": access_log}
    if workers <= 1:
        settle()
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    balanced = listening.reuse_port_balances()
    if balanced:  # before anything changes: the workers' sockets would join another service's on a busy port
        try:
            options["port"] = port = listening.free_port(host, port)
        except OSError as exc:
            reason = msg("cannot listen on {host}:{port}: {why}", host=host, port=port, why=exc.strerror)
            raise ValidationError("serve", [Fault("serve", reason, "port")]) from None
    os.environ[_DB_VARIABLE] = str(db)
    os.environ[_THREADS_VARIABLE] = str(threads)
    if data_key is not None:
        os.environ[_KEY_VARIABLE] = data_key
    os.environ[_DEV_VARIABLE] = "1" if development else "0"
    options["timeout_worker_healthcheck"] = HEALTHCHECK_SECONDS
    if not balanced:
        uvicorn.run("sapper.api.serving:factory", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return
    config = uvicorn.Config("sapper.api.serving:factory", factory=True, workers=workers,
                            **options)  # type: ignore[arg-type]
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://%s:%d with %d workers, each listening on a "
                                            "socket of its own (SO_REUSEPORT)", host, port, workers)
    # Each worker unpickles the listener into a socket of its own (sapper.api.listening).
    Multiprocess(config, sockets=[listening.Listener(host, port)]).run()  # type: ignore[list-item]
