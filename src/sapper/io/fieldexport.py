"""ODK Central and KoboToolbox exports read into tool-neutral submissions (:class:`sapper.domain.fielddata.Submission`).

What is read (the shapes are those of the tools' own test suites; ECOSYSTEM.md, "Field exports, exactly"):

* **ODK Central CSV zip** (``.zip``): the root file ``<formId>.csv`` (or a plain ``.csv`` of it) and one file per
  repeat group, ``<formId>-<repeat>.csv`` (``~1``, ``~2`` when two repeats share a name). Group paths are joined by
  ``-``; a geopoint is split into ``<name>-Latitude``/``-Longitude``/``-Altitude``/``-Accuracy``; the root ends with
  ``meta-instanceID``, ``KEY``, ``SubmitterID``, ``SubmitterName``, ``AttachmentsPresent``, ``AttachmentsExpected``,
  ``Status``, ``ReviewState``, ``DeviceID``, ``Edits``, ``FormVersion``. Repeat rows end with ``PARENT_KEY``, ``KEY``;
  a repeat row's ``KEY`` (``uuid:…/g1[1]/g2[2]``) gives its submission (before the first ``/``) and its path.
  ``KEY`` is the submission's own id, kept by Central across edits; ``meta-instanceID`` names the version.
* **KoboToolbox** CSV (``;`` or ``,``, sniffed), XLSX (repeat groups as sheets linked by ``_parent_table_name`` and
  ``_parent_index`` to the parent's ``_index``) and GeoJSON. Groups are joined by ``/``; a geopoint is the text
  ``lat lon alt precision`` with ``_<name>_latitude``, ``_longitude``, ``_altitude``, ``_precision`` beside it; the
  columns starting with ``_`` (``_id``, ``_uuid``, ``_submission_time``, ``_validation_status``, ``_notes``,
  ``_status``, ``_submitted_by``, ``_tags``, ``_index`` …) and ``meta/…`` are the tool's, not answers.
  ``meta/instanceID`` names the version (``uuid:`` + ``_uuid`` when the column is missing); the submission across
  edits is ``meta/rootUuid`` when Kobo exports it, otherwise the version's own id (the store then links an edit to
  its earlier version by ``meta/deprecatedID``, or by Kobo's record number ``_id``).

Geometry: points are written **latitude first** in both tools; sapper builds shapely geometries in lon/lat (WGS84).
A geopoint's columns become a Point; any other column whose cells hold ``;``-separated points is a geotrace or
geoshape (a closed ring of four or more points is a Polygon, otherwise a LineString; a trailing ``;`` is allowed);
a Kobo geopoint text becomes a Point. Decimal commas (``50,45``) are read as decimal points inside coordinates.

A row that cannot be read (no instance id, a coordinate that is not a number or out of range, a repeat entry that
belongs to no submission …) is rejected with a :class:`RowFault` naming the file, the row (the header is row 1, as in
a spreadsheet), the submission and the field; the submission it belongs to is left out whole, and the rest are
read. Only a file that cannot be used at all raises ImportFileError.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from sapper.domain.fielddata import RepeatRow, Submission, SubmissionSource
from sapper.domain.geometry import in_wgs84_range
from sapper.errors import ImportFileError, ValidationError
from sapper.io.archives import check_file
from sapper.messages import Joined, msg

#: The suffixes read, and what they are taken for.
SUFFIXES = {".zip": "ODK Central CSV zip", ".csv": "ODK Central or KoboToolbox CSV",
            ".xlsx": "KoboToolbox XLSX", ".geojson": "KoboToolbox GeoJSON", ".json": "KoboToolbox GeoJSON"}

#: ODK Central's columns about a submission (not answers), root file.
ODK_META = ("SubmissionDate", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
            "Status", "ReviewState", "DeviceID", "Edits", "FormVersion")
#: ODK Central's columns about a repeat entry.
ODK_REPEAT_META = ("PARENT_KEY", "KEY")
_ODK_GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
_KOBO_GEO = re.compile(r"^_(?P<name>.+)_(?P<part>latitude|longitude|altitude|precision)$")
_KOBO_META_PREFIXES = ("_", "meta/", "formhub/")
#: Biggest CSV inside a zip sapper will unpack (a guard against zip bombs).
MAX_MEMBER_BYTES = 512 * 1024 * 1024
#: Longest CSV cell sapper reads (a geoshape's text).
MAX_CELL_CHARS = 64 * 1024 * 1024
_INDEX = re.compile(r"\[\d+\]")
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True, slots=True)
class RowFault:
    """A row that could not be read: where (file, row, submission, field) and why."""

    file: str
    row: int
    submission: str | None
    field: str | None
    reason: str
    #: What ``row`` counts: spreadsheet rows (the header is row 1), or GeoJSON features (from 1).
    unit: str = "row"

    def __str__(self) -> str:
        where = f"{self.file} {self.unit} {self.row}" + (f" (submission {self.submission})" if self.submission else "")
        return f"{where}: " + (f"{self.field}: " if self.field else "") + self.reason


@dataclass(frozen=True, slots=True)
class FieldExport:
    """The submissions read from one export, the rows rejected, and notes about the file."""

    path: Path
    source: SubmissionSource
    form_id: str
    submissions: list[Submission]
    faults: list[RowFault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The export's top-level field paths and repeat paths, answered or not (to tell which form it is).
    columns: frozenset[str] = frozenset()
    #: Submissions (root rows or features) in the file, read or rejected.
    rows: int = 0


# ----------------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A cell as the text the tool wrote (None when empty): spreadsheets give numbers and dates, CSV gives text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() and value.tzinfo is None else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def coordinate(text: str) -> float:
    """A coordinate number; a decimal comma is taken as a decimal point. ValueError when it is not a number."""
    t = text.strip()
    if not _NUMBER.match(t):
        raise ValueError(f"{text!r} is not a number")
    return float(t.replace(",", "."))


def _lon_lat(lat_text: str, lon_text: str) -> tuple[float, float]:
    lat, lon = coordinate(lat_text), coordinate(lon_text)
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat_text} is out of range (-90 to 90; points are written latitude first)")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon_text} is out of range (-180 to 180)")
    return lon, lat


def parse_geo(text: str) -> BaseGeometry:
    """A geopoint (``lat lon [alt [acc]]``) or a geotrace/geoshape (such points joined by ``;``) as lon/lat geometry.

    Raises ValueError with the reason when ``text`` is not one.
    """
    parts = [p.strip() for p in text.strip().split(";")]
    while parts and not parts[-1]:
        parts.pop()  # the trailing ';' ODK writes
    if not parts:
        raise ValueError("no points")
    points: list[tuple[float, float]] = []
    for n, part in enumerate(parts, start=1):
        numbers = part.split()
        if not 2 <= len(numbers) <= 4:
            raise ValueError(f"point {n} ({part!r}) is not 'latitude longitude [altitude [accuracy]]'")
        try:
            points.append(_lon_lat(numbers[0], numbers[1]))
        except ValueError as exc:
            raise ValueError(f"point {n}: {exc}") from None
    if ";" not in text:
        return Point(points[0])
    if len(points) < 2:
        raise ValueError("a geotrace or geoshape needs at least 2 points")
    if len(points) >= 4 and points[0] == points[-1]:
        return Polygon(points)
    return LineString(points)


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (naive is taken as UTC, as both tools write UTC)."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value).astimezone(dt.UTC)


def _looks_like_trace(text: str) -> bool:
    if ";" not in text:
        return False
    try:
        parse_geo(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------------------------------
# Tables (a CSV file, a sheet) and how their columns are read
# ----------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Table:
    name: str
    header: list[str]
    #: (spreadsheet row number, cells) per data row; cells as text (None when empty), header length.
    rows: list[tuple[int, list[str | None]]]
    #: Rows whose length did not match the header, with the reason.
    bad: list[tuple[int, str]] = field(default_factory=list)
    unit: str = "row"


def _table(name: str, raw_rows: Iterable[Sequence[Any]], *, short_rows_ok: bool = False) -> _Table:
    """A table from raw rows (the first is the header). A CSV row with more or fewer cells than the header is
    broken; a spreadsheet row may simply end early (``short_rows_ok``)."""
    it = iter(raw_rows)
    try:
        header_raw = list(next(it))
    except StopIteration:
        return _Table(name, [], [])
    while header_raw and cell_text(header_raw[-1]) is None:
        header_raw.pop()
    header = [cell_text(h) or "" for h in header_raw]
    table = _Table(name, header, [])
    width = len(header)
    for number, raw in enumerate(it, start=2):
        cells = [cell_text(v) for v in raw]
        if all(c is None for c in cells):
            continue
        if len(cells) > width:
            if any(c is not None for c in cells[width:]):
                table.bad.append((number, f"has {len(cells)} cells but the header has {width} (a value with an "
                                          "unquoted separator?)"))
                continue
            cells = cells[:width]
        elif len(cells) < width:
            if not short_rows_ok:
                table.bad.append((number, f"has {len(cells)} cells but the header has {width}"))
                continue
            cells += [None] * (width - len(cells))
        table.rows.append((number, cells))
    return table


def _decode(path: Path, data: bytes, notes: list[str]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append(f"{path.name} is not UTF-8; read as Windows-1251 (Cyrillic)")
        return data.decode("cp1251", errors="replace")


def _csv_table(name: str, text: str, delimiter: str) -> _Table:
    # A geoshape of 100,000 vertices is a cell of ~5 MB: far above the csv module's default limit (128 KiB).
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _table(name, (list(r) for r in reader))
    except csv.Error as exc:
        raise ImportFileError(msg("{path}: is not readable CSV ({reason})", path=name, reason=exc)) from None


_KNOWN_COLUMNS = {"KEY", "meta-instanceID", "_uuid", "_id", "meta/instanceID", "SubmissionDate", "_submission_time"}


def _sniff_delimiter(text: str) -> str:
    """``;`` or ``,`` (or tab): the one that splits the header into known columns, or else into the most columns."""
    first = text.split("\n", 1)[0]
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        try:
            header = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:  # not text at all (a NUL, a stray carriage return): the reading says so
            continue
        score = (len(_KNOWN_COLUMNS & {h.strip() for h in header}), len(header))
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _Reader:
    """Reads one table's rows into answers, tool metadata and geometry; faults go to the shared list."""

    def __init__(self, table: _Table, source: SubmissionSource, faults: list[RowFault]) -> None:
        self.table = table
        self.source = source
        self.faults = faults
        #: Geopoints: field path → {part: column index}; a Kobo geopoint may also have its text column ("text").
        self.geo_points: dict[str, dict[str, int]] = {}
        #: Columns holding geotraces/geoshapes.
        self.geo_columns: set[int] = set()
        #: The tool's columns (not answers), by name.
        self.meta: dict[str, int] = {}
        #: Answer columns: column index → field path (groups joined by '/').
        self.answers: dict[int, str] = {}
        if source is SubmissionSource.ODK_CENTRAL:
            self._classify_odk()
        else:
            self._classify_kobo()
        for i in self.answers:
            if any(cells[i] is not None and _looks_like_trace(cells[i] or "") for _, cells in table.rows):
                self.geo_columns.add(i)

    def _classify_odk(self) -> None:
        header = self.table.header
        index = {h: i for i, h in enumerate(header)}
        taken: set[int] = set()
        for h in header:
            stem = h.removesuffix("-Latitude")
            if stem != h and f"{stem}-Longitude" in index:
                parts = {p: index[f"{stem}-{p}"] for p in _ODK_GEO_PARTS if f"{stem}-{p}" in index}
                self.geo_points[stem.replace("-", "/")] = parts
                taken.update(parts.values())
        for i, h in enumerate(header):
            if i in taken:
                continue
            if h in ODK_META or h in ODK_REPEAT_META or h.startswith("meta-"):
                self.meta[h] = i
            else:
                self.answers[i] = h.replace("-", "/")

    def _classify_kobo(self) -> None:
        header = self.table.header
        taken: set[int] = set()
        companions: dict[str, dict[str, int]] = {}
        for i, h in enumerate(header):
            m = _KOBO_GEO.match(h)
            if m:
                companions.setdefault(m["name"], {})[m["part"]] = i
        for stem, parts in companions.items():
            if "latitude" not in parts or "longitude" not in parts:
                continue
            # The text column is named like the companions' stem, or (Kobo names them by the bare name) ends in it.
            mains = [i for i, h in enumerate(header) if h == stem] or [
                i for i, h in enumerate(header) if h.endswith("/" + stem) and not h.startswith("_")]
            path = header[mains[0]] if len(mains) == 1 else stem
            self.geo_points[path] = {**parts, **({"text": mains[0]} if len(mains) == 1 else {})}
            taken.update(self.geo_points[path].values())
        for i, h in enumerate(header):
            if i in taken:
                continue
            if h.startswith(_KOBO_META_PREFIXES):
                self.meta[h] = i
            else:
                self.answers[i] = h

    def meta_value(self, cells: Sequence[str | None], *names: str) -> str | None:
        """The first of the metadata columns ``names`` that the row fills."""
        for name in names:
            i = self.meta.get(name)
            if i is not None and cells[i] is not None:
                return cells[i]
        return None

    def tool_meta(self, cells: Sequence[str | None], *leave_out: str) -> dict[str, str]:
        return {h: v for h, i in self.meta.items() if (v := cells[i]) is not None and h not in leave_out}

    def fault(self, row: int, submission: str | None, column: str | None, reason: str) -> None:
        self.faults.append(RowFault(self.table.name, row, submission, column, reason, self.table.unit))

    def answers_of(
        self, row: int, cells: Sequence[str | None], submission: str | None, strip: str = ""
    ) -> tuple[dict[str, str], dict[str, BaseGeometry], bool]:
        """The row's answers and geometries, keyed by field path less the prefix ``strip``; False if it faulted."""

        def name(path: str) -> str:
            return path.removeprefix(strip) if strip else path

        ok = True
        fields: dict[str, str] = {}
        geoms: dict[str, BaseGeometry] = {}
        for i, path in self.answers.items():
            text = cells[i]
            if text is None:
                continue
            if i not in self.geo_columns:
                fields[name(path)] = text
                continue
            try:
                geoms[name(path)] = parse_geo(text)
            except ValueError as exc:
                self.fault(row, submission, self.table.header[i], f"is not a geotrace or geoshape: {exc}")
                ok = False
        for path, parts in self.geo_points.items():
            try:
                point = _point(cells, parts)
            except ValueError as exc:
                column = self.table.header[parts.get("text", parts.get("Latitude", parts.get("latitude", 0)))]
                self.fault(row, submission, column, f"is not a geopoint: {exc}")
                ok = False
                continue
            if point is not None:
                geoms[name(path)] = point
        return fields, geoms, ok


def _point(cells: Sequence[str | None], parts: dict[str, int]) -> Point | None:
    """A geopoint from its text column (Kobo) or its latitude and longitude columns; None when it is empty."""
    text_i = parts.get("text")
    if text_i is not None and cells[text_i] is not None:
        geom = parse_geo(cells[text_i] or "")
        if not isinstance(geom, Point):
            raise ValueError("holds more than one point")
        return geom
    lat = cells[parts.get("Latitude", parts.get("latitude", -1))]
    lon = cells[parts.get("Longitude", parts.get("longitude", -1))]
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValueError("latitude and longitude must both be given")
    return Point(_lon_lat(lat, lon))


def _int(text: str | None) -> int:
    if text is None:
        return 0
    try:
        value = coordinate(text)
    except ValueError:
        value = -1.0
    if not value.is_integer() or value < 0:
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def _timestamp(reader: _Reader, row: int, cells: Sequence[str | None], column: str, instance: str | None
               ) -> tuple[dt.datetime | None, bool]:
    when = reader.meta_value(cells, column)
    if when is None:
        return None, True
    try:
        return parse_time(when), True
    except ValueError:
        reader.fault(row, instance, column, f"{when!r} is not an ISO 8601 timestamp")
        return None, False


@dataclass(slots=True)
class _Pending:
    """A submission being assembled: its values for :class:`Submission`, where it is in the file, whether it failed."""

    values: dict[str, Any]
    row: int
    failed: bool = False
    #: Entries per parent key, to number repeat entries within their parent as ODK Central does.
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add_repeat(self, path: str, entry: RepeatRow) -> None:
        self.values["repeats"].setdefault(path, []).append(entry)


def _finish(pending: Iterable[_Pending], reader: _Reader) -> list[Submission]:
    out = []
    for p in pending:
        if p.failed:
            continue
        try:
            out.append(Submission(**p.values))
        except ValidationError as exc:
            for f in exc.faults:
                reader.fault(p.row, p.values.get("instance_id") or None, f.field, f.reason)
    return out


def _sort_faults(faults: list[RowFault], first_file: str) -> None:
    """Faults in file order within each file, the root file first."""
    faults.sort(key=lambda f: (f.file != first_file, f.file, f.row))


# ----------------------------------------------------------------------------------------------------
# ODK Central
# ----------------------------------------------------------------------------------------------------


def _odk_tables(path: Path, form_id: str | None, notes: list[str]) -> tuple[str, _Table, list[_Table]]:
    """The form id, the root table and the repeat tables of an ODK Central ``.zip`` or root ``.csv``."""
    if path.suffix.lower() == ".csv":
        table = _csv_table(path.name, _decode(path, path.read_bytes(), notes), ",")
        if form_id is not None and form_id != path.stem:
            notes.append(f"form id {form_id} is taken from --form; the file is named {path.name}")
        return form_id or path.stem, table, []
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(msg("{path}: is not a readable zip file ({reason})", path=path, reason=exc)) from None
    tables: list[_Table] = []
    with archive:
        for info in archive.infolist():
            if info.is_dir() or "/" in info.filename or not info.filename.lower().endswith(".csv"):
                continue  # media/ holds the attachments
            if info.file_size > MAX_MEMBER_BYTES:
                raise ImportFileError(msg("{path}: {member} unpacks to more than {mb} MB; sapper does not read it",
                                          path=path, member=info.filename, mb=MAX_MEMBER_BYTES // 2**20))
            text = _decode(Path(info.filename), archive.read(info), notes)
            tables.append(_csv_table(info.filename, text, ","))
    roots = [t for t in tables if "KEY" in t.header and "PARENT_KEY" not in t.header]
    chosen = [t for t in roots if form_id is None or Path(t.name).stem == form_id]
    if len(chosen) != 1:
        found = ", ".join(sorted(Path(t.name).stem for t in roots)) or msg("none")
        said = msg("{path}: is not an ODK Central export of form {form}: it needs one root file <formId>.csv with a "
                   "KEY column (forms found: {found})", path=path, form=form_id, found=found) if form_id else \
            msg("{path}: is not an ODK Central export of one form: it needs one root file <formId>.csv with a KEY "
                "column (forms found: {found})", path=path, found=found)
        raise ImportFileError(Joined("; ", [said, msg("choose one with --form")]) if len(chosen) > 1 else said)
    root = chosen[0]
    stem = Path(root.name).stem
    repeats = [t for t in tables if "PARENT_KEY" in t.header and Path(t.name).stem.startswith(stem + "-")]
    return stem, root, repeats


def read_odk_central(path: str | Path, *, form_id: str | None = None) -> FieldExport:
    """Submissions of an ODK Central CSV zip (or its root ``.csv``); see the module docstring."""
    p = Path(path)
    notes: list[str] = []
    faults: list[RowFault] = []
    form, root, repeat_tables = _odk_tables(p, form_id, notes)
    if "KEY" not in root.header:
        raise ImportFileError(msg("{path}: {table} has no KEY column, so it is not an ODK Central export", path=p,
                                  table=root.name))
    if "meta-instanceID" not in root.header:
        notes.append(f"{root.name} has no meta-instanceID column: each submission's KEY is taken as its instance "
                     "id, so an edited version cannot be told from the one before")
    reader = _Reader(root, SubmissionSource.ODK_CENTRAL, faults)
    for number, reason in root.bad:
        reader.fault(number, None, None, reason)
    pending: dict[str, _Pending] = {}
    for number, cells in root.rows:
        key = reader.meta_value(cells, "KEY")
        instance = reader.meta_value(cells, "meta-instanceID") or key
        if key is None:
            reader.fault(number, instance, "KEY", "is empty")
            continue
        if key in pending:
            reader.fault(number, instance, "KEY", f"{key} appears earlier in the file (row {pending[key].row})")
            continue
        fields, geoms, ok = reader.answers_of(number, cells, instance)
        submitted_at, ok_time = _timestamp(reader, number, cells, "SubmissionDate", instance)
        try:
            edits = _int(reader.meta_value(cells, "Edits"))
        except ValueError as exc:
            reader.fault(number, instance, "Edits", str(exc))
            edits, ok = 0, False
        pending[key] = _Pending({
            "source": SubmissionSource.ODK_CENTRAL, "form_id": form, "instance_id": instance or "",
            "submission_key": key, "form_version": reader.meta_value(cells, "FormVersion") or "",
            "submitted_at": submitted_at, "submitter": reader.meta_value(cells, "SubmitterName", "SubmitterID") or "",
            "edits": edits, "deprecated_id": reader.meta_value(cells, "meta-deprecatedID"),
            "fields": fields, "geometries": geoms, "repeats": {},
            "tool_meta": reader.tool_meta(cells, "KEY", "meta-instanceID", "SubmissionDate"),
        }, number, failed=not (ok and ok_time))
    repeat_paths: set[str] = set()
    for table in repeat_tables:
        repeat_paths |= _odk_repeat(table, pending, faults, root.name)
    _sort_faults(faults, root.name)
    columns = frozenset({*reader.answers.values(), *reader.geo_points, *repeat_paths})
    subs = _finish(pending.values(), reader)
    return FieldExport(p, SubmissionSource.ODK_CENTRAL, form, subs, faults, notes, columns, len(root.rows))


def _odk_repeat(table: _Table, pending: dict[str, _Pending], faults: list[RowFault], root_name: str) -> set[str]:
    """Attach the entries of one repeat file to their submissions; returns the repeat paths found."""
    reader = _Reader(table, SubmissionSource.ODK_CENTRAL, faults)
    for number, reason in table.bad:
        reader.fault(number, None, None, reason)
    paths: set[str] = set()
    for number, cells in table.rows:
        key, parent = reader.meta_value(cells, "KEY"), reader.meta_value(cells, "PARENT_KEY")
        owner_key = (key or parent or "").split("/", 1)[0] or None
        owner = pending.get(owner_key or "")
        instance = owner.values["instance_id"] if owner else owner_key
        if key is None or parent is None or "/" not in key or not key.startswith(parent + "/"):
            column = "PARENT_KEY" if key and "/" in key else "KEY"
            reader.fault(number, instance, column, f"KEY {key!r} and PARENT_KEY {parent!r} are not a repeat entry's "
                                                   "keys (PARENT_KEY/group[n])")
            if owner:
                owner.failed = True
            continue
        if owner is None:
            reader.fault(number, owner_key, "PARENT_KEY", f"submission {owner_key} is not in {root_name}")
            continue
        path = _INDEX.sub("", key.split("/", 1)[1])
        paths.add(path)
        fields, geoms, ok = reader.answers_of(number, cells, instance)
        owner.failed |= not ok
        owner.add_repeat(path, RepeatRow(key, parent, fields, geoms))
    return paths


# ----------------------------------------------------------------------------------------------------
# KoboToolbox
# ----------------------------------------------------------------------------------------------------


def _uuid(text: str | None) -> str | None:
    if text is None:
        return None
    return text if text.startswith("uuid:") else f"uuid:{text}"


def _kobo_instance(reader: _Reader, cells: Sequence[str | None]) -> str | None:
    return _uuid(reader.meta_value(cells, "meta/instanceID", "_uuid"))


def _kobo_values(reader: _Reader, number: int, cells: Sequence[str | None], form: str) -> _Pending | None:
    """A Kobo main row as a submission being assembled; None when it has no instance id."""
    instance = _kobo_instance(reader, cells)
    if instance is None:
        reader.fault(number, reader.meta_value(cells, "_id"), "meta/instanceID", "is empty, and so is _uuid")
        return None
    fields, geoms, ok = reader.answers_of(number, cells, instance)
    submitted_at, ok_time = _timestamp(reader, number, cells, "_submission_time", instance)
    return _Pending({
        "source": SubmissionSource.KOBOTOOLBOX, "form_id": form, "instance_id": instance,
        "submission_key": _uuid(reader.meta_value(cells, "meta/rootUuid")) or instance,
        "form_version": reader.meta_value(cells, "__version__", "_version_") or "",
        "submitted_at": submitted_at, "submitter": reader.meta_value(cells, "_submitted_by") or "",
        "deprecated_id": _uuid(reader.meta_value(cells, "meta/deprecatedID")),
        "record_id": reader.meta_value(cells, "_id"),
        "fields": fields, "geometries": geoms, "repeats": {},
        "tool_meta": reader.tool_meta(cells, "meta/instanceID"),
    }, number, failed=not (ok and ok_time))


def _kobo_main(path: Path, table: _Table, form_id: str | None, faults: list[RowFault], notes: list[str]
               ) -> tuple[_Reader, str]:
    if not {"_uuid", "meta/instanceID"} & set(table.header):
        raise ImportFileError(msg("{path}: {table} has neither meta/instanceID nor _uuid, so it is not a KoboToolbox "
                                  "export (columns: {columns})", path=path, table=table.name,
                                  columns=", ".join(table.header[:12]) or msg("none")))
    reader = _Reader(table, SubmissionSource.KOBOTOOLBOX, faults)
    for number, reason in table.bad:
        reader.fault(number, None, None, reason)
    spaced = [table.header[i] for i in reader.answers if " " in table.header[i]]
    if reader.answers and len(spaced) * 2 >= len(reader.answers):
        notes.append(f"{table.name}: most columns look like question labels, not field names (e.g. {spaced[0]!r}); "
                     "export from KoboToolbox with 'XML values and headers'")
    if form_id:
        return reader, form_id
    column = reader.meta.get("_xform_id_string")
    named = next((cells[column] for _, cells in table.rows if column is not None and cells[column]), None)
    if named:
        return reader, named
    notes.append(f"the export does not name its form, so its form id is taken from the file name ({path.stem}); "
                 "pass --form to name it")
    return reader, path.stem


def _kobo_rows(reader: _Reader, form: str) -> dict[str, _Pending]:
    """The main table's submissions by instance id (a repeated instance id is a fault)."""
    pending: dict[str, _Pending] = {}
    for number, cells in reader.table.rows:
        found = _kobo_values(reader, number, cells, form)
        if found is None:
            continue
        instance = found.values["instance_id"]
        if instance in pending:
            earlier = pending[instance].row
            reader.fault(number, instance, "meta/instanceID", f"appears earlier in the file (row {earlier})")
            continue
        pending[instance] = found
    return pending


def read_kobo_csv(path: str | Path, *, form_id: str | None = None) -> FieldExport:
    """Submissions of a KoboToolbox CSV export (``;`` or ``,``, sniffed). Kobo's CSV holds no repeat groups."""
    p = Path(path)
    notes: list[str] = []
    faults: list[RowFault] = []
    text = _decode(p, p.read_bytes(), notes)
    table = _csv_table(p.name, text, _sniff_delimiter(text))
    reader, form = _kobo_main(p, table, form_id, faults, notes)
    pending = _kobo_rows(reader, form)
    columns = frozenset({*reader.answers.values(), *reader.geo_points})
    subs = _finish(pending.values(), reader)
    return FieldExport(p, SubmissionSource.KOBOTOOLBOX, form, subs, faults, notes, columns, len(table.rows))


def _repeat_prefix(sheet: str, paths: Sequence[str]) -> str:
    """A repeat group's path, from its sheet's name and columns (``grp/devices/x`` in sheet ``devices``)."""
    for path in paths:
        segments = path.split("/")
        if sheet in segments[:-1]:
            return "/".join(segments[: segments.index(sheet) + 1])
    dirs = [p.split("/")[:-1] for p in paths]
    common: list[str] = []
    if dirs and all(dirs):
        for parts in zip(*dirs, strict=False):
            if len(set(parts)) != 1:
                break
            common.append(parts[0])
    return "/".join(common) or sheet  # headers without group paths: the sheet names the repeat


@dataclass(frozen=True, slots=True)
class _Entry:
    """A row Kobo's ``_parent_index`` can point at: its submission, its key and its repeat path."""

    instance: str
    key: str
    path: str


def read_kobo_xlsx(path: str | Path, *, form_id: str | None = None) -> FieldExport:
    """Submissions of a KoboToolbox XLSX export: the main sheet, and one sheet per repeat group."""
    import openpyxl  # only this reader needs it
    from openpyxl.utils.exceptions import InvalidFileException

    p = Path(path)
    notes: list[str] = []
    faults: list[RowFault] = []
    try:
        book = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
        raise ImportFileError(msg("{path}: cannot be read as an XLSX workbook ({reason})", path=p,
                                  reason=" ".join(str(exc).split()))) from None
    try:
        tables = [_table(ws.title, ws.iter_rows(values_only=True), short_rows_ok=True) for ws in book.worksheets]
    finally:
        book.close()
    main = next((t for t in tables if "_parent_index" not in t.header and {"_uuid", "meta/instanceID"} & set(t.header)),
                None)
    if main is None:
        raise ImportFileError(msg("{path}: no sheet has meta/instanceID or _uuid, so it is not a KoboToolbox export "
                                  "(sheets: {sheets})", path=p, sheets=", ".join(t.name for t in tables)))
    reader, form = _kobo_main(p, main, form_id, faults, notes)
    pending = _kobo_rows(reader, form)
    # The rows each sheet's _index names, so that _parent_index can be followed.
    entries: dict[str, dict[str, _Entry]] = {main.name: {}}
    if "_index" in reader.meta:
        for number, cells in main.rows:
            instance = _kobo_instance(reader, cells)
            index = cells[reader.meta["_index"]]
            if instance in pending and pending[instance].row == number and index is not None:
                entries[main.name][index] = _Entry(instance, instance, "")
    repeat_paths: set[str] = set()
    waiting = [t for t in tables if "_parent_index" in t.header]
    while waiting:  # parents before children (Kobo writes them in that order; any order works)
        ready = [t for t in waiting if _parent_sheet(t, main.name) in entries
                 or _parent_sheet(t, main.name) not in {w.name for w in waiting}]
        if not ready:
            break
        for table in ready:
            waiting.remove(table)
            repeat_paths.add(_kobo_repeat(table, main.name, pending, entries, faults))
    for table in waiting:
        faults.append(RowFault(table.name, 1, None, "_parent_table_name",
                               "the sheets' parents form a loop; the sheet was not read"))
    _sort_faults(faults, main.name)
    columns = frozenset({*reader.answers.values(), *reader.geo_points, *repeat_paths})
    subs = _finish(pending.values(), reader)
    return FieldExport(p, SubmissionSource.KOBOTOOLBOX, form, subs, faults, notes, columns, len(main.rows))


def _parent_sheet(table: _Table, main: str) -> str:
    if "_parent_table_name" not in table.header:
        return main
    i = table.header.index("_parent_table_name")
    return next((cells[i] for _, cells in table.rows if cells[i]), main) or main


def _kobo_repeat(table: _Table, main: str, pending: dict[str, _Pending], entries: dict[str, dict[str, _Entry]],
                 faults: list[RowFault]) -> str:
    """Attach one repeat sheet's rows to their submissions; returns the repeat's path."""
    reader = _Reader(table, SubmissionSource.KOBOTOOLBOX, faults)
    for number, reason in table.bad:
        reader.fault(number, None, None, reason)
    prefix = _repeat_prefix(table.name, [table.header[i] for i in reader.answers])
    own = entries.setdefault(table.name, {})
    for number, cells in table.rows:
        parent_sheet = reader.meta_value(cells, "_parent_table_name") or main
        parent_index = reader.meta_value(cells, "_parent_index")
        parent = entries.get(parent_sheet, {}).get(parent_index or "")
        if parent is None:
            instance = _uuid(reader.meta_value(cells, "_submission__uuid"))
            reason = (f"sheet {parent_sheet} has no row with _index {parent_index}" if parent_index
                      else "is empty")
            reader.fault(number, instance, "_parent_index", reason)
            if instance in pending:
                pending[instance].failed = True
            continue
        owner = pending[parent.instance]
        fields, geoms, ok = reader.answers_of(number, cells, parent.instance, prefix + "/")
        owner.failed |= not ok
        # Numbered within the parent, and named by the path below the parent's: the keys ODK Central gives.
        step = prefix.removeprefix(parent.path + "/") if parent.path else prefix
        n = owner.counts[(parent.key, prefix)] = owner.counts.get((parent.key, prefix), 0) + 1
        entry = _Entry(parent.instance, f"{parent.key}/{step}[{n}]", prefix)
        index = reader.meta_value(cells, "_index")
        if index is not None:
            own[index] = entry
        owner.add_repeat(prefix, RepeatRow(entry.key, parent.key, fields, geoms))
    return prefix


def read_kobo_geojson(path: str | Path, *, form_id: str | None = None) -> FieldExport:
    """Submissions of a KoboToolbox GeoJSON export (one feature per geo question of a submission, merged).

    The export does not say which question a feature's geometry answers: it is kept as ``geometry`` (then
    ``geometry_2`` …). Kobo's GeoJSON has no repeat groups and writes choice labels, not values: prefer XLSX.
    """
    p = Path(path)
    notes: list[str] = []
    faults: list[RowFault] = []
    try:
        doc = json.loads(_decode(p, p.read_bytes(), notes))
    except json.JSONDecodeError as exc:
        raise ImportFileError(msg("{path}: is not JSON ({reason})", path=p, reason=exc)) from None
    if not (isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"),
                                                                                           list)):
        raise ImportFileError(msg("{path}: is not a GeoJSON FeatureCollection", path=p))
    features = [f if isinstance(f, dict) else {} for f in doc["features"]]
    header: list[str] = []
    for feat in features:
        for k in feat.get("properties") or {}:
            if str(k) not in header:
                header.append(str(k))
    rows = []
    for n, feat in enumerate(features, start=1):
        props = feat.get("properties") or {}
        rows.append((n, [cell_text(json.dumps(v) if isinstance(v, dict | list) else v) for v in
                         (props.get(k) for k in header)]))
    table = _Table(p.name, header, rows, unit="feature")
    reader, form = _kobo_main(p, table, form_id, faults, notes)
    pending: dict[str, _Pending] = {}
    for (number, cells), feat in zip(table.rows, features, strict=True):
        instance = _kobo_instance(reader, cells)
        first = pending.get(instance or "")
        if first is None:
            found = _kobo_values(reader, number, cells, form)
            if found is None:
                continue
            first = pending[found.values["instance_id"]] = found
        elif reader.answers_of(number, cells, instance)[0] != first.values["fields"]:
            reader.fault(number, instance, None, f"its answers differ from feature {first.row} of the same submission")
            first.failed = True
        if feat.get("geometry") is None:
            continue
        try:
            geom = shapely.force_2d(shape(feat["geometry"]))
            if geom.is_empty or not in_wgs84_range(geom):
                raise ValueError("it is empty, or its coordinates are not lon/lat")
        except Exception as exc:  # shapely raises several kinds on malformed GeoJSON
            reader.fault(number, instance, "geometry", f"is not a usable GeoJSON geometry ({exc})")
            first.failed = True
            continue
        geoms = first.values["geometries"]
        n = sum(1 for k in geoms if k == "geometry" or k.startswith("geometry_")) + 1
        geoms["geometry" if n == 1 else f"geometry_{n}"] = geom
    columns = frozenset({*reader.answers.values(), *reader.geo_points})
    subs = _finish(pending.values(), reader)
    return FieldExport(p, SubmissionSource.KOBOTOOLBOX, form, subs, faults, notes, columns, len(features))

# ----------------------------------------------------------------------------------------------------
# The front door
# ----------------------------------------------------------------------------------------------------


def _csv_kind(path: Path) -> SubmissionSource:
    text = _decode(path, path.read_bytes()[:65536], [])
    try:
        first = next(csv.reader([text.split("\n", 1)[0]], delimiter=_sniff_delimiter(text)), [])
    except csv.Error as exc:
        raise ImportFileError(msg("{path}: is not readable CSV ({reason})", path=path, reason=exc)) from None
    header = {h.strip() for h in first}
    if "KEY" in header and not {"_uuid", "_id"} & header:
        return SubmissionSource.ODK_CENTRAL
    if {"_uuid", "_id", "meta/instanceID"} & header:
        return SubmissionSource.KOBOTOOLBOX
    raise ImportFileError(msg("{path}: is neither an ODK Central export (no KEY column) nor a KoboToolbox export "
                              "(no _uuid, _id or meta/instanceID column)", path=path))


def read_field_export(path: str | Path, *, form_id: str | None = None) -> FieldExport:
    """The submissions of an ODK Central or KoboToolbox export; the format is told from the suffix and columns.

    ``form_id`` picks the form in an ODK Central zip (and must match its root file), or names the form of a Kobo
    export (which does not always name it). Raises ImportFileError when the file cannot be used at all.
    """
    p = Path(path)
    if not p.is_file():
        raise ImportFileError(msg("{path}: no such file", path=p))
    check_file(p)
    suffix = p.suffix.lower()
    if suffix == ".zip":
        return read_odk_central(p, form_id=form_id)
    if suffix == ".csv":
        if _csv_kind(p) is SubmissionSource.ODK_CENTRAL:
            return read_odk_central(p, form_id=form_id)
        return read_kobo_csv(p, form_id=form_id)
    if suffix == ".xlsx":
        return read_kobo_xlsx(p, form_id=form_id)
    if suffix in (".geojson", ".json"):
        return read_kobo_geojson(p, form_id=form_id)
    allowed = ", ".join(f"{s} ({what})" for s, what in SUFFIXES.items())
    if suffix == ".xls":
        raise ImportFileError(msg("{path}: cannot read .xls (save it as .xlsx); sapper reads {allowed}", path=p,
                                  allowed=allowed))
    raise ImportFileError(msg("{path}: cannot read {suffix}; sapper reads {allowed}", path=p,
                              suffix=suffix or msg("a file without a suffix"), allowed=allowed))
