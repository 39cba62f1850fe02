"""Tables as people save them: CSV from any Excel or system export, and XLSX sheets.

CSV text is UTF-8 (with or without a byte-order mark) or, failing that, Windows-1251 (cp1251: what Excel on a
Russian or Ukrainian Windows saves as "CSV"). The choice is strict, never a guess dressed up: the bytes must decode
as UTF-8 without error, else as cp1251 without error and without control characters, and the reading says so
(``notes``). No statistical detector is used: on short files they guess wrong often enough to matter.

Columns are separated by ``,``, ``;`` or a tab, whichever the header line uses most (outside quotes). In a file
separated by ``;`` or tabs a number written with a decimal comma (``51,307``) is a decimal (that is why such files
use ``;``); in a comma-separated file it cannot be one.

An XLSX sheet is read for its cell values (a formula's cached result); its first row names the columns.

Every file that cannot be used is an :class:`~sapper.errors.ImportFileError` naming it and the reason: empty, binary,
neither encoding, a truncated or damaged workbook, a header naming a column twice.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sapper.errors import ImportFileError
from sapper.io.archives import check_file
from sapper.io.fields import is_missing
from sapper.messages import msg, msg_n

#: Encodings tried, in order (``utf-8-sig`` is UTF-8 whose byte-order mark is dropped).
ENCODINGS = ("utf-8-sig", "cp1251")
_DELIMITERS = (",", ";", "\t")
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class TextTable:
    """A table as read: column names as the file spells them, rows of cell values, what the reading decided."""

    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


def _fail(path: Path, reason: str) -> ImportFileError:
    return ImportFileError(msg("{path}: {reason}", path=path, reason=reason))


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """``data`` as text and the encoding used (``utf-8`` or ``cp1251``), or ImportFileError saying why neither."""
    if not data.strip():
        raise _fail(path, msg("is empty"))
    if b"\x00" in data:
        raise _fail(path, msg("is not a text file (it holds binary data)"))
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if data.startswith(codecs.BOM_UTF8):
            raise _fail(path, msg("starts as UTF-8 but byte {at} is not UTF-8: the file is damaged",
                                  at=exc.start + 1)) from None
        utf8_fault = exc
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    if not text or _CONTROL.search(text):
        at = utf8_fault.start
        raise _fail(path, msg("is neither UTF-8 nor Windows-1251 (cp1251) text (byte {at} is 0x{byte}): save it as "
                              "CSV UTF-8", at=at + 1, byte=f"{data[at]:02x}")) from None
    return text, "cp1251"


def _delimiter(header: str) -> str:
    """The separator the header line uses most outside quotes (``,`` when it uses none)."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path) -> TextTable:
    """A CSV file's header and rows (blank lines dropped), decoded and split as the module docstring says."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(path, msg("cannot be read ({reason})", reason=exc.strerror or exc)) from None
    text, encoding = decode(path, data)
    notes: list[str] = [] if encoding == "utf-8" else [
        msg("{file}: read as Windows-1251 (cp1251) text: it is not UTF-8", file=path.name)]
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _delimiter(first)
    try:
        lines = [line for line in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
                 if any(cell.strip() for cell in line)]
    except csv.Error as exc:
        raise _fail(path, msg("is not readable CSV ({reason})", reason=exc)) from None
    if not lines:
        raise _fail(path, msg("is empty"))
    header, rows = [c.strip() for c in lines[0]], lines[1:]
    if delimiter != ",":
        converted = 0
        for row in rows:
            for i, cell in enumerate(row):
                if _DECIMAL_COMMA.match(cell):
                    row[i] = cell.replace(",", ".")
                    converted += 1
        if converted:
            notes.append(msg_n("{file}: {n} number with a decimal comma read as a decimal (the file separates "
                               "columns with {separator})", "{file}: {n} numbers with a decimal comma read as decimals "
                               "(the file separates columns with {separator})", converted, file=path.name,
                               separator=msg("a tab") if delimiter == chr(9) else repr(delimiter)))
    return TextTable(header, [list(r) for r in rows], notes)


def xlsx_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook, or ImportFileError when it is not one."""
    book = _open_xlsx(path)
    try:
        return [str(s) for s in book.sheetnames]
    finally:
        book.close()


def _open_xlsx(path: Path) -> Any:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise _fail(path, msg("no such file"))
    if path.stat().st_size == 0:
        raise _fail(path, msg("is empty"))
    check_file(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, SyntaxError) as exc:
        reason = msg("a damaged or truncated zip") if isinstance(exc, zipfile.BadZipFile | EOFError) else \
            " ".join(str(exc).split())
        raise _fail(path, msg("cannot be read as an XLSX workbook ({reason})", reason=reason)) from None


def read_xlsx(path: Path, sheet: str) -> TextTable:
    """A sheet's header (first row) and value rows (empty rows dropped)."""
    book = _open_xlsx(path)
    try:
        rows = book[sheet].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise _fail(path, msg("sheet {sheet} is empty", sheet=repr(sheet)))
        columns = ["" if is_missing(v) else str(v).strip() for v in header]
        while columns and not columns[-1]:
            columns.pop()
        body = [list(r) for r in rows if any(not is_missing(v) for v in r)]
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as exc:
        raise _fail(path, msg("sheet {sheet} cannot be read ({reason})", sheet=repr(sheet),
                              reason=exc or msg("damaged"))) from None
    finally:
        book.close()
    return TextTable(columns, body)
