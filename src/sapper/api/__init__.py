"""The web service (FastAPI): ``create_app(settings)`` builds it; fastapi and starlette are imported only here."""

from sapper.api.app import create_app
from sapper.api.settings import Settings

__all__ = ["Settings", "create_app"]
