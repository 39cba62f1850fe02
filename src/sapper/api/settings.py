"""What the web service is built from: passed to ``create_app`` (nothing is read from the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    """``db``: the store (a GeoPackage path or a ``postgresql://`` URL), opened at startup and closed at shutdown.

    ``secure_cookies``: mark the session cookies ``Secure`` (behind HTTPS). ``static_dir``: the map UI's folder,
    mounted at ``/map/`` when it exists (None: ``sapper.web.static_dir()`` if that package is installed).
    ``basic_cache_seconds``: how long a verified HTTP Basic password is remembered (hashed) so a client such as
    GDAL, which sends it on every request, does not pay an argon2 verification each time.

    Limits (``sapper.api.guards``): ``max_body_bytes``, the largest request body (413 beyond it, before it is read);
    ``sign_in_failures_per_name`` / ``_per_address``, failed password checks per user name / client address in a
    minute before sign-in answers 429.

    ``data_key``: the base64 AES-256 key of victims' personal data (``SAPPER_DATA_KEY``; never in a repr).
    ``development``: accept a placeholder or missing key (``sapper serve --dev``); otherwise the service refuses to
    start without a real one (``sapper.services.datakeys.check_for_service``).
    """

    db: str | Path
    secure_cookies: bool = False
    static_dir: Path | None = None
    basic_cache_seconds: float = 60.0
    title: str = "sapper"
    data_key: str | None = field(default=None, repr=False)
    development: bool = False
    max_body_bytes: int = 16 * 2**20
    sign_in_failures_per_name: int = 10
    sign_in_failures_per_address: int = 30
