"""Messages that know their English template, so the command line can say them in the user's language.

A :class:`Msg` *is* the English text (a ``str``: every caller, log and test that reads it as text sees English), and
carries its template and values besides. Code below the command line marks a user-facing message with :func:`msg` or
:func:`msg_n`; the command line (``sapper.cli._output``) translates the template through the gettext catalogues in
``sapper/locale`` (``make catalogues`` extracts ``msg``/``msg_n`` as keywords) and fills in the values, themselves
translated when they are messages too. Text that is not a ``Msg`` is printed as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
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


def N_(text: str) -> str:
    """gettext's marker: ``make catalogues`` extracts ``text``, which is said later (through a catalogue) where it is
    used, with its values."""
    return text


def msg_n(singular: str, plural: str, n: int, /, **params: Any) -> Msg:
    """A translatable message with a count ``n`` (also available as ``{n}``)."""
    return Msg(singular, plural, n=n, **params)


#: How a reason joins its parts ("predecessor late: slower than planned", "pool busy: team lost, not started as
#: planned"), tried in this order when the whole text is not in the catalogue.
_JOINS = (": ", "; ", ", ")


def _by_phrase(text: str, gettext: Translate, ours: frozenset[str] | None, joins: tuple[str, ...] = _JOINS) -> str:
    said = gettext(text) if ours is None or text in ours else text
    if said != text or not joins:
        return said
    sep, rest = joins[0], joins[1:]
    if sep not in text:
        return _by_phrase(text, gettext, ours, rest)
    return sep.join(_by_phrase(part, gettext, ours, rest) for part in text.split(sep))


class Phrases(Msg):
    """Text built from fixed phrases, each marked with :func:`msg` where it is made (a reason and its cause joined by
    ``: ``, several causes by ``, ``), kept as plain text in records and files: said in the user's language phrase by
    phrase where the catalogue has the phrase, as it is elsewhere (an id, a name). Never formatted, so braces in a
    name are safe. ``ours``: the only phrases said in the user's language (None: any the catalogue has)."""

    ours: frozenset[str] | None

    def __new__(cls, text: str, ours: frozenset[str] | None = None) -> Phrases:
        obj = str.__new__(cls, text)
        obj.template, obj.plural, obj.params = str(text), None, {}
        obj.ours = ours
        return obj

    def __reduce__(self) -> tuple[Callable[..., Msg], tuple[str, frozenset[str] | None]]:  # type: ignore[override]
        return Phrases, (self.template, self.ours)

    def translated(self, gettext: Translate, ngettext: TranslatePlural) -> str:
        return _by_phrase(self.template, gettext, self.ours)


def phrases(text: str, *, ours: Collection[str] | None = None) -> Msg:
    """``text`` (a reason made of marked phrases) translatable phrase by phrase; a message stays as it is.

    Text that may hold a person's words (a reason typed with ``--reason``, a field report's) names ``ours``: the
    phrases sapper itself writes there, the only ones said in the user's language; a person's reason is shown as they
    wrote it, also when it (or a part of it between ``: ``, ``; `` or ``, ``) happens to be one of sapper's messages.
    Without ``ours`` every phrase the catalogue has is said: only for text sapper made whole."""
    if isinstance(text, Msg):
        return text
    return Phrases(text, None if ours is None else frozenset(ours))


class Joined(Msg):
    """Messages (or plain text) joined by a separator, each said in the user's language."""

    sep: str
    parts: tuple[str, ...]

    def __new__(cls, sep: str, parts: Sequence[str]) -> Joined:
        obj = str.__new__(cls, sep.join(parts))
        obj.template, obj.plural, obj.params = str(obj), None, {}
        obj.sep, obj.parts = sep, tuple(parts)
        return obj

    def __reduce__(self) -> tuple[Callable[..., Msg], tuple[str, tuple[str, ...]]]:  # type: ignore[override]
        return Joined, (self.sep, self.parts)

    def translated(self, gettext: Translate, ngettext: TranslatePlural) -> str:
        return self.sep.join(p.translated(gettext, ngettext) if isinstance(p, Msg) else p for p in self.parts)
