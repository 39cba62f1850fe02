"""What an entry point (the command line, later the web API) is configured with, built once per run.

A :class:`Settings` is a frozen value: the entry point builds it from its options and the ``SAPPER_*`` environment
variables (:meth:`Settings.from_env`) when it starts, and passes it on; nothing reads the environment at import time
(STYLE.md: settings passed in, as Datasette's ``Datasette`` object; not osmnx's mutable module settings).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from sapper.errors import Fault, ValidationError
from sapper.messages import msg

#: The environment variables :meth:`Settings.from_env` reads, and the field each sets.
ENVIRONMENT = {"SAPPER_DB": "db", "SAPPER_TIME_LIMIT": "time_limit_s", "SAPPER_WORKERS": "workers",
               "SAPPER_DATA_KEY": "data_key", "SAPPER_DEV": "development"}
_TEXT = frozenset({"db", "data_key"})


@dataclass(frozen=True, slots=True)
class Settings:
    """The store to work on and the defaults of long-running work.

    ``db`` is the store: a file path (SQLite/GeoPackage) or a database URL, as text; None until an option or
    ``SAPPER_DB`` names one. ``time_limit_s`` and ``workers`` are the planner's defaults (solver time limit in
    seconds, CP-SAT threads).

    ``data_key`` is the base64 AES-256 key that encrypts victims' personal data (``SAPPER_DATA_KEY``; never shown
    in a repr or message). ``development`` (``SAPPER_DEV=1``) lets ``sapper serve`` start without a real key.
    """

    db: str | None = None
    time_limit_s: float = 60.0
    workers: int = 2
    data_key: str | None = field(default=None, repr=False)
    development: bool = False

    def __post_init__(self) -> None:
        faults = []
        if not self.time_limit_s > 0:
            faults.append(Fault(msg("settings"), msg("must be above 0, not {time_limit_s}",
                                                     time_limit_s=self.time_limit_s), "time_limit_s"))
        if self.workers < 1:
            faults.append(Fault(msg("settings"), msg("must be at least 1, not {workers}", workers=self.workers),
                                "workers"))
        if self.db is not None and not self.db.strip():
            faults.append(Fault(msg("settings"), msg("is empty"), "db"))
        ValidationError.raise_if(msg("settings"), faults)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from the ``SAPPER_*`` variables of ENVIRONMENT in ``environ`` (defaults for
        the rest); every unusable value is a fault, all reported at once."""
        values: dict[str, object] = {}
        faults = []
        for name, key in ENVIRONMENT.items():
            text = environ.get(name)
            if text is None or text == "":
                continue
            if key in _TEXT:
                values[key] = text
                continue
            if key == "development":
                if text not in ("0", "1"):
                    faults.append(Fault(name, msg("{text} is not 0 or 1", text=repr(text))))
                values[key] = text == "1"
                continue
            try:
                values[key] = float(text) if key == "time_limit_s" else int(text)
            except ValueError:
                kind = msg("a number") if key == "time_limit_s" else msg("a whole number")
                faults.append(Fault(name, msg("{text} is not {kind}", text=repr(text), kind=kind)))
        ValidationError.raise_if(msg("environment"), faults)
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        """A copy with ``changes`` (checked like a new one)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
