"""Typed reading of a field submission's answers (text as exported), every problem collected as a Fault.

Conventions, for answers typed by hand or passed through a spreadsheet in a Ukrainian or Russian locale:

* numbers: ``12.5`` and ``12,5`` are the same; spaces (also no-break spaces) group thousands (``1 250,5``); a text
  with both ``.`` and ``,`` (``1,250.5``) is refused rather than guessed;
* dates: ISO ``2025-06-18`` (a timestamp's date part too) or ``18.06.2025``; ``06/18/2025`` is refused (which is the
  month?);
* yes/no: ``yes``/``no``, ``true``/``false``, ``1``/``0``;
* choices: matched ignoring case, spaces and hyphens (``AP mine`` is ``ap_mine``);
* geometry: the geometry the importer built, or else the answer's text read as a geopoint/geotrace/geoshape.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from enum import StrEnum
from typing import TypeVar

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.fielddata import RepeatRow, Submission
from sapper.domain.text import normalise_key
from sapper.errors import Fault, ValidationError
from sapper.io.fieldexport import parse_geo
from sapper.io.vector import geos_reason
from sapper.messages import msg

E = TypeVar("E", bound=StrEnum)

_SPACES = re.compile(r"[\s\u00a0\u202f]")
_PLAIN = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n"}


def parse_decimal(text: str) -> float:
    """A number typed as ``12.5``, ``12,5`` or ``1 250,5``; ValueError naming the problem otherwise."""
    t = _SPACES.sub("", text)
    if "," in t and "." in t:
        raise ValueError(msg("{text} has both '.' and ',' (write 1250.5 or 1250,5)", text=repr(text)))
    if t.count(",") == 1:
        t = t.replace(",", ".")
    if not _PLAIN.match(t):
        raise ValueError(msg("{text} is not a number", text=repr(text)))
    value = float(t)
    if not math.isfinite(value):
        raise ValueError(msg("{text} is not a finite number", text=repr(text)))
    return value


def parse_date(text: str) -> dt.date:
    """A date as ISO ``YYYY-MM-DD`` (or a timestamp's date) or ``DD.MM.YYYY``; ValueError otherwise."""
    t = text.strip()
    m = _DOTTED_DATE.match(t)
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if len(t) > 10 and t[10] in "T ":
            return dt.datetime.fromisoformat(t.replace("Z", "+00:00")).date()
        return dt.date.fromisoformat(t)
    except ValueError:
        raise ValueError(msg("{text} is not a date (YYYY-MM-DD or DD.MM.YYYY)", text=repr(text))) from None


def _reason(exc: ValueError) -> str:
    """The reason a value was refused: the message it was raised with (a message stays translatable)."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, str) else str(exc)


class AnswerReader:
    """The answers of one submission or repeat entry, as typed values; each problem goes to ``faults``.

    ``record`` names the submission (and entry) in every fault.
    """

    def __init__(self, answers: Submission | RepeatRow, record: str) -> None:
        self._answers = answers
        self.record = record
        self.faults: list[Fault] = []
        #: Things changed on the way (a geoshape repaired), for the user to see.
        self.notes: list[str] = []

    def _fault(self, name: str, reason: str) -> None:
        self.faults.append(Fault(self.record, reason, name))

    def text(self, name: str, *, required: bool = False) -> str | None:
        try:
            value = self._answers.value(name)
        except ValidationError as exc:
            self.faults += exc.faults
            return None
        if value is None and required:
            self._fault(name, msg("is empty"))
        return value

    def number(self, name: str, *, required: bool = False) -> float | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        try:
            return parse_decimal(text)
        except ValueError as exc:
            self._fault(name, _reason(exc))
            return None

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.number(name, required=required)
        if value is None:
            return None
        if not value.is_integer():
            self._fault(name, msg("must be a whole number, got {value}", value=repr(self.text(name))))
            return None
        return int(value)

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        try:
            return parse_date(text)
        except ValueError as exc:
            self._fault(name, _reason(exc))
            return None

    def yes_no(self, name: str) -> bool | None:
        text = self.text(name)
        if text is None:
            return None
        if text.strip().lower() in _TRUE:
            return True
        if text.strip().lower() in _FALSE:
            return False
        self._fault(name, msg("must be yes or no, got {value}", value=repr(text)))
        return None

    def choice(self, name: str, cls: type[E], *, required: bool = False) -> E | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        wanted = normalise_key(text)
        for member in cls:
            if normalise_key(member.value) == wanted:
                return member
        self._fault(name, msg("{value} is not one of {allowed}", value=repr(text),
                              allowed=", ".join(m.value for m in cls)))
        return None

    def geometry(self, name: str, *, kind: str, required: bool = False) -> BaseGeometry | None:
        """A geopoint (``kind="point"``), geotrace (``"line"``) or geoshape (``"polygon"``).

        A geoshape whose ring is left open is closed; an invalid one is repaired (``make_valid``, polygons kept) and
        said so in ``notes``.
        """
        try:
            geom = self._answers.geometry(name)
        except ValidationError as exc:
            self.faults += exc.faults
            return None
        if geom is None:
            text = self.text(name, required=required)
            if text is None:
                return None
            try:
                geom = parse_geo(text)
            except ValueError as exc:
                self._fault(name, msg("is not a {kind}: {why}", kind=_WHAT[kind], why=str(exc)))
                return None
        if kind == "polygon" and isinstance(geom, LineString) and len(geom.coords) >= 3:
            geom = Polygon([*geom.coords, geom.coords[0]])
        wanted = {"point": Point, "line": LineString, "polygon": Polygon}[kind]
        if not isinstance(geom, wanted):
            self._fault(name, msg("is a {shape}, not a {kind}", shape=geom.geom_type, kind=_WHAT[kind]))
            return None
        if not geom.is_valid:
            reason = geos_reason(shapely.is_valid_reason(geom))
            fixed = shapely.make_valid(geom)
            parts = [p for p in shapely.get_parts(fixed) if shapely.get_dimensions(p) == 2 and not p.is_empty]
            if kind != "polygon" or not parts:
                self._fault(name, msg("is invalid ({reason})", reason=reason))
                return None
            geom = shapely.union_all(parts)
            self.notes.append(msg("{record}: {name} repaired ({reason})", record=self.record, name=name, reason=reason))
        return geom


_WHAT = {"point": "geopoint", "line": "geotrace", "polygon": "geoshape"}
