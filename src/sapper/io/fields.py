"""Reading one feature's attribute values, whatever type the file gave them, collecting every problem at once.

Files disagree on types: a GeoPackage has integers, a CSV has only text, a GeoJSON may have either.
``FieldReader`` turns each value into what sapper needs and records a plain-language reason for every value it
cannot use, so one feature's faults are reported together.

Conventions (documented for users in the importers): empty cells are missing values; whole numbers may come as
``7``, ``7.0`` or ``"7"``; booleans as ``1/0``, ``true/false``, ``yes/no``; enumerations are matched ignoring
case, spaces and hyphens (``"Power line"`` is ``power_line``); decimal commas are refused rather than guessed
(``1,500`` could be either).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from sapper.domain.text import normalise_key
from sapper.messages import msg

E = TypeVar("E", bound=StrEnum)

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}
#: Characters a spreadsheet reads as a formula start (OWASP: = + - @ tab CR; and LF, which XLSX makes of a CR); sapper's
#: CSV and XLSX exports prefix such text with ``'``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas' NA/NaT and blank text."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, int):  # bool too: the common cases, without pandas
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@lru_cache(maxsize=64)
def _members(cls: type[StrEnum]) -> dict[str, StrEnum]:
    """``cls``'s members by normalised value (looked up once per enumeration, not once per cell)."""
    return {normalise_key(m.value): m for m in cls}


def unguard(text: str) -> str:
    """Undo the CSV export's formula guard (``'=x`` → ``=x``, ``''=x`` → ``'=x``)."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
        return text[1:]
    return text


class FieldReader:
    """Typed access to one feature's values (keys are lower-case column names); problems go to ``faults``."""

    def __init__(self, values: Mapping[str, Any], *, csv: bool = False) -> None:
        self._values = values
        self._csv = csv
        self.faults: list[str] = []

    def has(self, name: str) -> bool:
        return name in self._values and not is_missing(self._values[name])

    def raw(self, name: str) -> Any:
        value = self._values.get(name)
        return None if is_missing(value) else value

    def text(self, name: str, default: str = "") -> str:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return unguard(text) if self._csv else text

    def opt_text(self, name: str) -> str | None:
        return self.text(name) if self.has(name) else None

    def integer(self, name: str, default: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            self.faults.append(msg("{name} must be a whole number, got {value!r}", name=name, value=value))
            return default
        if not number.is_integer():
            self.faults.append(msg("{name} must be a whole number, got {value!r}", name=name, value=value))
            return default
        return int(number)

    def number(self, name: str) -> float | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            self.faults.append(msg("{name} must be a number, got {value!r}", name=name, value=value))
            return None
        try:
            number = float(value.strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            if isinstance(value, str) and "," in value:
                self.faults.append(msg("{name} must be a number, got {value!r} (use a decimal point)", name=name,
                                       value=value))
            else:
                self.faults.append(msg("{name} must be a number, got {value!r}", name=name, value=value))
            return None
        if not math.isfinite(number):
            self.faults.append(msg("{name} must be a finite number, got {value!r}", name=name, value=value))
            return None
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.faults.append(msg("{name} must be true or false (1 or 0), got {value!r}", name=name, value=value))
        return default

    def enum(self, name: str, cls: type[E]) -> E | None:
        """The member of ``cls`` the value names, or None when missing (a bad value is a fault)."""
        value = self.raw(name)
        if value is None:
            return None
        return self._member(name, cls, str(value))

    def enums(self, name: str, cls: type[E]) -> frozenset[E]:
        """Members named in a list separated by commas or semicolons."""
        value = self.raw(name)
        if value is None:
            return frozenset()
        members = set()
        for part in str(value).replace(";", ",").split(","):
            if part.strip():
                member = self._member(name, cls, part)
                if member is not None:
                    members.add(member)
        return frozenset(members)

    def _member(self, name: str, cls: type[E], text: str) -> E | None:
        member = _members(cls).get(normalise_key(text))
        if member is not None:
            return member  # type: ignore[return-value]
        allowed = ", ".join(m.value for m in cls)
        self.faults.append(msg("{name} {text!r} is not one of {allowed}", name=name, text=text.strip(),
                               allowed=allowed))
        return None
