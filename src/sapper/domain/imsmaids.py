"""IMSMA Core identifiers: every record in IMSMA Core has an ``imsma_id``, its feature type and a number
(``hazard_poly_145``, ``organization_2``, ``accident_34``), and one ``imsma_links`` text field listing the
``imsma_id`` of the records it is linked to, in any layer (GICHD, "Linked Data/Linking Design for IMSMA Core",
gichd.github.io/imsma-core-doc/Tools/linking/IMSMA_Data_Linking_Process.html).

A record sapper keeps has the id IMSMA gave it (kept from an IMSMA import), else one the store makes the way IMSMA
Core does when it loads data: the type prefix and the row's number (the fid), which never changes for the row.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The type prefix of each kind of record. ``hazard_poly_`` and ``organization_`` are IMSMA Core's (from its linking
#: design); ``activity_`` and ``device_`` are sapper's assumption (the public documentation names no others).
PREFIX = {
    "organisation": "organization_",
    "hazard_area": "hazard_poly_",
    "activity": "activity_",
    "device_found": "device_",
}
#: Longest ``imsma_id`` IMSMA Core takes (a 50-character text field) and longest ``imsma_links`` (20,000).
MAX_ID = 50
MAX_LINKS = 20_000


def default_id(kind: str, number: object) -> str:
    """The id the store gives a record of ``kind`` that has none from IMSMA: its prefix and ``number``."""
    return f"{PREFIX[kind]}{number}"


def join_links(ids: Iterable[str]) -> str:
    """An ``imsma_links`` value: the ids comma-separated, each once, in order."""
    return ",".join(dict.fromkeys(i.strip() for i in ids if i.strip()))


def split_links(text: str | None) -> tuple[str, ...]:
    """The ids of an ``imsma_links`` value, each once, in order."""
    return tuple(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))
