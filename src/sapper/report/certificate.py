"""The completion report / handover certificate of a released hazard area as one self-contained HTML page.

The page renders :class:`~sapper.domain.handover.HandoverCertificate` (built from the area's land-release history)
through Jinja2 with every value escaped; no script, no network. A PDF needs WeasyPrint, which is not installed yet.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from sapper.domain.handover import HandoverCertificate


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("sapper.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_certificate(cert: HandoverCertificate) -> str:
    """The certificate as an HTML page."""
    return _environment().get_template("certificate.html.j2").render(c=cert)


def write_certificate(cert: HandoverCertificate, path: str | Path) -> Path:
    """Write the certificate's HTML page to ``path`` (UTF-8); return the path."""
    target = Path(path)
    target.write_text(render_certificate(cert), encoding="utf-8")
    return target
