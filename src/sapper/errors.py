"""One exception tree for sapper.

Every error carries a stable ``code`` (for scripts and the API), an HTTP status (for the API adapter) and a message
that is safe to show to a user: it names the record and the reason, never internals. The CLI maps these to a one-line
message and an exit code (see ``docs/cli.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sapper.messages import Msg, msg, msg_n


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing wrong with one record: where (``record``, ``field``) and why (``reason``)."""

    record: str
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.record}.{self.field}" if self.field else self.record
        return f"{where}: {self.reason}"


#: Control characters as they are written in a message: a value from a file (a column name, a cell) that holds a
#: line break or another control character cannot break the message's single line or the terminal's state.
_VISIBLE = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def one_line(text: str) -> str:
    """``text`` with its control characters (line breaks included) written as escapes: one line, safe to print.
    A translatable message keeps its template: its values are escaped instead (and so is any translation of it)."""
    if not any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return text
    if isinstance(text, Msg):
        values = {k: _escaped_value(v) for k, v in text.params.items()}
        return Msg(text.template, text.plural, **values)
    return text.translate(_VISIBLE)


def _escaped_value(value: Any) -> Any:
    if isinstance(value, Msg):
        return one_line(value)
    if isinstance(value, (int, float)) or value is None:
        return value
    shown = str(value)
    return shown.translate(_VISIBLE) if shown.translate(_VISIBLE) != shown else value


class SapperError(Exception):
    """Base of every error sapper raises on purpose. Its message is one line: control characters that came in with
    a value from a file are written as escapes (``\\n``), so what a user reads is never split or garbled."""

    code = "sapper_error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message


class ValidationError(SapperError):
    """Input is wrong; carries every fault found, not just the first."""

    code = "validation_error"
    http_status = 422
    exit_code = 2

    def __init__(self, what: str, faults: Sequence[Fault]) -> None:
        self.what = what
        self.faults = tuple(faults)
        lines = "; ".join(str(f) for f in self.faults[:10])
        more = f" (and {len(self.faults) - 10} more)" if len(self.faults) > 10 else ""
        super().__init__(f"{what} is invalid: {lines}{more}")

    @classmethod
    def raise_if(cls, what: str, faults: Iterable[Fault]) -> None:
        """Raise one error listing all ``faults``, if there are any."""
        found = list(faults)
        if found:
            raise cls(what, found)


class CRSError(ValidationError):
    """Geometry came without a coordinate reference system, or with one sapper cannot use."""

    code = "crs_error"


class TransitionError(ValidationError):
    """A land-release change the hazard area's state does not allow (IMAS 07.11); nothing was changed."""

    code = "illegal_transition"
    http_status = 409

    def __init__(self, what: str, faults: Sequence[Fault]) -> None:
        super().__init__(what, faults)
        self.message = one_line("; ".join(str(f) for f in self.faults))
        self.args = (self.message,)


class ImportFileError(SapperError):
    """A file cannot be read as the layer asked for (missing, unreadable, wrong columns)."""

    code = "import_file_error"
    http_status = 422
    exit_code = 2


class NotFoundError(SapperError):
    """A record or store that was asked for does not exist."""

    code = "not_found"
    http_status = 404
    exit_code = 3


class StoreError(SapperError):
    """The store cannot do what was asked (wrong schema version, locked, not a sapper store)."""

    code = "store_error"
    http_status = 503
    exit_code = 4


class DataKeyError(StoreError):
    """The data key that encrypts personal data is missing, malformed, a placeholder, or not the one a stored value
    was encrypted with (or the value was altered). The message never holds the key."""

    code = "data_key_error"


class ConflictError(SapperError):
    """A record changed since it was read: the update named a row version the store no longer holds.

    Nothing was written; read the record again (with its new version) and redo the change.
    """

    code = "conflict"
    http_status = 409
    exit_code = 6


class PlanError(SapperError):
    """A planning problem cannot be built or solved as asked."""

    code = "plan_error"
    http_status = 422
    exit_code = 5


class EditForbidden(SapperError):
    """The caller's role or organisation may not do this write (HTTP 403)."""

    code = "forbidden"
    http_status = 403
    exit_code = 7


def error_text(exc: SapperError, say: Callable[[object], str]) -> str:
    """``exc``'s message with each part said by ``say`` (a :class:`~sapper.messages.Msg` in the reader's language,
    other text as it is): a validation error's record and each fault's record and reason one by one, so that the
    command line and the web service say the same error in the same words."""

    def fault(f: Fault) -> str:
        record = say(f.record)  # a record named by a message ("hazard area H-1") is said in the language
        return f"{record}.{f.field}: {say(f.reason)}" if f.field else f"{record}: {say(f.reason)}"

    if isinstance(exc, TransitionError):
        return "; ".join(fault(f) for f in exc.faults)
    if isinstance(exc, ValidationError):
        shown = "; ".join(fault(f) for f in exc.faults[:10])
        more = len(exc.faults) - 10
        text = say(msg("{what} is invalid: {faults}", what=say(exc.what), faults=shown))
        return text + (say(msg_n(" (and {n} more)", " (and {n} more)", more)) if more > 0 else "")
    return say(exc.message)
