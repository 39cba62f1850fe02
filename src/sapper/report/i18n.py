"""The reports' languages: gettext catalogues read from ``sapper/locale/{lang}/LC_MESSAGES/sapper.po`` and dates and
numbers formatted for the locale with Babel.

The ``.po`` files are the only source: they are parsed and compiled in memory (Babel's ``read_po`` and ``write_mo``)
the first time a language is used, so a fresh clone needs no build step and no compiled ``.mo`` can go stale. English
is the source language: its catalogue maps each message to itself, and a message missing from a catalogue falls back
to the English text (``tests/report/test_catalogue.py`` fails when one is missing).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import get_date_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from sapper.errors import Fault, ValidationError
from sapper.messages import msg

DOMAIN = "sapper"
#: The environment variable that chooses the language when ``--lang`` is not given.
LANG_ENV = "SAPPER_LANG"


class Lang(StrEnum):
    EN = "en"
    UK = "uk"
    RU = "ru"

    @classmethod
    def parse(cls, value: str | None) -> Lang:
        """``en``, ``uk`` or ``ru`` (a region such as ``uk_UA`` or ``ru-RU`` is accepted); ``None``: $SAPPER_LANG,
        else English."""
        raw = value if value is not None else os.environ.get(LANG_ENV, "en")
        code = raw.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
        try:
            return cls(code)
        except ValueError:
            where = "--lang" if value is not None else LANG_ENV
            raise ValidationError(msg("language"), [Fault(where, msg("must be one of en, uk, ru, got {value}",
                                                                value=repr(raw)))]) from None


def catalogue_path(lang: Lang) -> resources.abc.Traversable:
    """The ``.po`` file of ``lang`` inside the installed package."""
    return resources.files("sapper").joinpath("locale", lang.value, "LC_MESSAGES", f"{DOMAIN}.po")


@lru_cache(maxsize=4)
def translations(lang: Lang) -> Translations:
    """The compiled catalogue of ``lang`` (plural rules from its header)."""
    with catalogue_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang.value, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


#: A quoted word and its full stop closing a date pattern (CLDR's ``d MMM y 'р'.``), with the space before it.
_TRAILING_ABBREVIATION = re.compile(r"\s*'[^']+'\.$")


@lru_cache(maxsize=4)
def _text_pattern(lang: Lang) -> str:
    """The locale's medium date pattern without a closing abbreviation (unchanged where there is none: English)."""
    return _TRAILING_ABBREVIATION.sub("", get_date_format("medium", locale=lang.value).pattern)


@dataclass(frozen=True)
class Speaker:
    """Words, numbers and dates in one language: ``_`` and ``n_`` translate, the ``fmt_*`` format for the locale."""

    lang: Lang

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang.value)

    def _(self, message: str) -> str:
        return translations(self.lang).gettext(message)

    def n_(self, singular: str, plural: str, n: int) -> str:
        return translations(self.lang).ngettext(singular, plural, n)

    def fmt_int(self, v: float) -> str:
        return format_decimal(round(v), format="#,##0", locale=self.lang.value)

    def fmt_num(self, v: float | None, *, digits: int = 1) -> str:
        """A figure with up to ``digits`` decimals; an em dash for ``None``."""
        if v is None:
            return "—"
        pattern = "#,##0." + "#" * digits if digits > 0 else "#,##0"
        return format_decimal(v, format=pattern, locale=self.lang.value)

    def fmt_km2(self, v: float) -> str:
        """An area in km² with two decimals; a positive area below 0.01 km² as ``< 0.01`` (not as 0)."""
        if 0 < v < 0.005:
            return "< " + format_decimal(0.01, format="0.00", locale=self.lang.value)
        return format_decimal(v, format="#,##0.00", locale=self.lang.value)

    def fmt_fixed(self, v: float, digits: int) -> str:
        """A figure with exactly ``digits`` decimals (scores: ``0.30``, ``0,30``)."""
        return format_decimal(v, format="#,##0." + "0" * digits, locale=self.lang.value)

    def fmt_pct(self, share: float | None) -> str:
        """``share`` in 0–1 as a percentage as the locale writes it (``42%`` in English, ``42 %`` in Russian)."""
        return "—" if share is None else format_percent(share, locale=self.lang.value)

    def fmt_date(self, d: dt.date | dt.datetime | None, *, style: str = "medium") -> str:
        return "—" if d is None else _babel_date(d, format=style, locale=self.lang.value)

    def fmt_date_in_text(self, d: dt.date | dt.datetime | None) -> str:
        """A date a sentence may end with: the medium date without the abbreviation Ukrainian and Russian write after
        the year (``7 груд. 2026``, not ``7 груд. 2026 р.``), whose full stop the sentence's own would double."""
        return "—" if d is None else _babel_date(d, format=_text_pattern(self.lang), locale=self.lang.value)

    def fmt_month(self, d: dt.date) -> str:
        """A month and year for an axis or a table (``Jun 2025``, ``черв. 2025 р.``, ``июнь 2025 г.``)."""
        return _babel_date(d, format="LLL y", locale=self.lang.value)
