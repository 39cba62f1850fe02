"""What the web service is built from: passed to ``create_app`` (nothing is read from the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Requests a worker process runs at once, unless told otherwise (``Settings.threads``).
DEFAULT_THREADS = 16


@dataclass(frozen=True, slots=True)
class Settings:
    """``db``: the store (a GeoPackage path or a ``postgresql://`` URL), opened at startup and closed at shutdown.

    ``secure_cookies``: mark the session cookies ``Secure`` (behind HTTPS). ``static_dir``: the map UI's folder,
    mounted at ``/map/`` when it exists (None: ``sapper.web.static_dir()`` if that package is installed).
    ``credential_cache_seconds``: how long a verified API token or HTTP Basic password is remembered (by its
    SHA-256), so a client such as QGIS or GDAL, which sends it on every request, does not pay a token join or an
    argon2 verification each time; expiry and revocation are still seen at once (``services.accounts
    .CredentialCache``). 0 turns the cache off.

    ``threads``: how many requests a worker process runs at once in its thread pool (the synchronous routes and
    dependencies); fewer than the store's connection pool (``store.engine.POOL_SIZE``), so a busy worker never
    opens a connection per request, and few enough that two cores are not shared by dozens of threads fighting
    for the interpreter lock (the rest wait their turn, first come first served).

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
    credential_cache_seconds: float = 60.0
    threads: int = DEFAULT_THREADS
    title: str = "sapper"
    data_key: str | None = field(default=None, repr=False)
    development: bool = False
    max_body_bytes: int = 16 * 2**20
    sign_in_failures_per_name: int = 10
    sign_in_failures_per_address: int = 30
