"""The web service (FastAPI): ``create_app(settings)`` builds it; fastapi and starlette are imported only here.

``create_app`` and ``Settings`` are imported on first use, not with the package: a ``sapper serve`` worker process
imports ``sapper.api.listening`` (its socket) before it answers uvicorn's health checks, and importing the whole
app there took longer than the supervisor waits for a new worker on a busy machine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sapper.api.app import create_app
    from sapper.api.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from sapper.api.app import create_app

        return create_app
    if name == "Settings":
        from sapper.api.settings import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
