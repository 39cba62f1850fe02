"""Text compared as a key: words of a column (enumeration values, IMSMA labels) and paths of form fields, however a
person, a GIS tool or a data-collection tool spelled them.

One rule for both, with one difference a parameter states: in a *word*, spaces, underscores, hyphens and slashes all
separate its parts (``"IED / Booby-trap"`` is ``ied_booby_trap``); in a *path*, only hyphens and slashes separate
groups (ODK Central joins groups with ``-``, Kobo with ``/``) and underscores belong to the field's name
(``site-hazard_id`` is ``site/hazard_id``; reading ``_`` as a separator would make ``x_hazard_id`` end with
``hazard_id``).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\s_\-/]+")
_PATH = re.compile(r"[\-/]+")


def normalise_key(text: str, *, path: bool = False) -> str:
    """``text`` as a comparison key: trimmed, lower case, each run of separators one ``_`` (a word) or ``/`` (a path,
    ``path=True``), none at either end."""
    if path:
        return _PATH.sub("/", text.strip().lower()).strip("/")
    return _WORD.sub("_", text.strip().lower()).strip("_")
