"""Messages that know their English template, so the command line can say them in the user's language.

A :class:`Msg` *is* the English text (a ``str``: every caller, log and test that reads it as text sees English), and
carries its template and values besides. Code below the command line marks a user-facing message with :func:`msg` or
:func:`msg_n`; the command line (``sapper.cli._output``) translates the template through the gettext catalogues in
``sapper/locale`` (``make catalogues`` extracts ``msg``/``msg_n`` as keywords) and fills in the values, themselves
translated when they are messages too. Text that is not a ``Msg`` is printed as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Translate = Callable[[str], str]
TranslatePlural = Callable[[str, str, int], str]


class Msg(str):
    """An English message with its template (``{name}`` placeholders), plural template and values."""

    template: str
    plural: str | None
    params: Mapping[str, Any]

    def __new__(cls, template: str, plural: str | None = None, /, **params: Any) -> Msg:
        n = params.get("n")
        english = plural if plural is not None and isinstance(n, int) and n != 1 else template
        obj = super().__new__(cls, english.format(**params))
        obj.template, obj.plural, obj.params = template, plural, dict(params)
        return obj

    def __reduce__(self) -> tuple[Callable[..., Msg], tuple[str, str | None, dict[str, Any]]]:
        """Pickled (and copied) as its template and values, not as its English text."""
        return _rebuild, (self.template, self.plural, dict(self.params))

    def translated(self, gettext: Translate, ngettext: TranslatePlural) -> str:
        """The message in the language of ``gettext``/``ngettext``, its message values translated too."""
        values = {k: v.translated(gettext, ngettext) if isinstance(v, Msg) else v for k, v in self.params.items()}
        n = self.params.get("n")
        if self.plural is not None and isinstance(n, int):
            return ngettext(self.template, self.plural, n).format(**values)
        return gettext(self.template).format(**values)


def _rebuild(template: str, plural: str | None, params: dict[str, Any]) -> Msg:
    return Msg(template, plural, **params)


def msg(template: str, /, **params: Any) -> Msg:
    """A translatable message: ``msg("{path}: is empty", path=p)``."""
    return Msg(template, **params)


def msg_n(singular: str, plural: str, n: int, /, **params: Any) -> Msg:
    """A translatable message with a count ``n`` (also available as ``{n}``)."""
    return Msg(singular, plural, n=n, **params)
