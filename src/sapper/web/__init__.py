"""The offline map UI: static HTML and JavaScript modules that the API serves (e.g. mounted at ``/map/``).

Nothing here runs on the server: the pages talk to the OGC API – Features collections and the REST API described in
``docs/web.md``. Every byte a browser needs ships in this package (MapLibre GL JS vendored from npm under
``static/vendor``, a basemap built from the Natural Earth and GeoNames extracts under ``static/basemap``), so the map
works on a machine with no network. ``make web`` rebuilds the vendored files; the built files are committed so that a
clone or a wheel without node works.
"""

from __future__ import annotations

from pathlib import Path

#: The pages, in the order the navigation bar shows them.
PAGES = ("index.html", "plan.html", "review.html")

#: The sign-in page (not in the navigation bar: a page without a session goes there, and comes back after).
SIGN_IN = "signin.html"

#: The UI languages; each has a complete catalogue under ``static/i18n/{code}.json``.
LANGUAGES = ("en", "uk", "ru")

#: File types the pages use that a server's default MIME table may lack (a module script must be JavaScript).
MEDIA_TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".geojson": "application/geo+json"}


def static_dir() -> Path:
    """The folder to serve as static files (``index.html`` and its assets)."""
    return Path(__file__).resolve().parent / "static"
