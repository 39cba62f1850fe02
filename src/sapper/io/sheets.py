"""Several named tables in one exchange file: a folder of CSV files, an XLSX workbook or a GeoPackage.

The format follows the path: ``.xlsx`` is a workbook (one sheet per table), ``.gpkg`` a GeoPackage (one layer per
table, WGS84), anything else a folder holding one ``<table>.csv`` per table. A table's geometry is the layer
geometry in a GeoPackage and a ``wkt`` column in CSV and XLSX.

Spreadsheet safety, both ways:

* CSV is written as UTF-8 with a byte-order mark (so Excel detects the encoding) and text cells starting with
  ``= + - @`` are prefixed with ``'`` (a spreadsheet would run them as formulas); reading removes that prefix
  again (``sapper.io.fields.unguard``). Reading sniffs ``;`` as the delimiter when the header uses it.
* XLSX text is written as string cells, never formulas, so a name like ``=HYPERLINK(…)`` stays text and reads back
  unchanged. A cell holding a formula is refused on reading (sapper reads values, not formulas). XLSX cells hold at
  most 32,767 characters and no control characters: a value that does not fit is refused on writing, naming the
  record and the column. XLSX numbers keep 16 significant digits (openpyxl), one fewer than a double may need.

Nothing is validated here beyond what a file can hold; ``sapper.io.imsma`` gives the cells meaning.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.io.archives import check_file
from sapper.io.fields import FORMULA_START, is_missing, unguard
from sapper.io.files import read_layer
from sapper.messages import msg

Format = Literal["csv", "xlsx", "gpkg"]
Kind = Literal["text", "int", "float", "bool", "date"]

#: Name of the geometry column in CSV and XLSX.
WKT = "wkt"
#: Excel's limit on the characters of one cell.
XLSX_CELL_LIMIT = 32_767
#: Characters XML 1.0 (and so XLSX) cannot hold.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True, slots=True)
class Table:
    """A table to write: its columns (name → kind), rows of Python values, and optionally one geometry per row.

    ``key`` names the column that identifies a row in error messages. With ``wkt_in_text`` False the geometry is
    written to a GeoPackage only (a display geometry that CSV and XLSX leave out).
    """

    name: str
    key: str
    columns: Mapping[str, Kind]
    rows: Sequence[Mapping[str, Any]]
    geometries: Sequence[BaseGeometry | None] | None = None
    geometry_type: str = "Unknown"
    wkt_in_text: bool = True


@dataclass(frozen=True, slots=True)
class RawTable:
    """A table as read: lower-cased column names, values as the file gave them, geometry per row (WGS84)."""

    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    #: Where each row is, for messages: ``hazard_area.csv row 3``, ``sheet activity row 7``, ``layer … feature 2``.
    where: list[str]
    geometries: list[BaseGeometry | None]
    #: Why a row's geometry could not be read (None when it could or there is none).
    geometry_faults: list[str | None]
    #: Cells that cannot be used at all, per row: (column, reason).
    cell_faults: list[list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class RawTables:
    """The tables found in a file, by name, and what else the file held (sheets, layers or files not used)."""

    path: Path
    format: Format
    tables: dict[str, RawTable] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)


def table_format(path: str | Path) -> Format:
    """``xlsx`` or ``gpkg`` by suffix; ``csv`` for a folder (or a path without a suffix, to become one)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".gpkg":
        return "gpkg"
    if p.is_dir() or suffix == "":
        return "csv"
    raise ValidationError(msg("exchange file"),
        [Fault(msg("exchange file"), msg("cannot use {name}: give a .xlsx workbook, a .gpkg GeoPackage, or a folder "
                                    "for one CSV file per record type", name=p.name), "path")],
    )


# ----------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------


def _wkt(geom: BaseGeometry | None) -> str | None:
    return None if geom is None else str(shapely.to_wkt(geom, rounding_precision=-1))


def _text_rows(table: Table) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows for CSV/XLSX: the geometry, if written, as a last ``wkt`` column."""
    columns = list(table.columns)
    rows = [dict(r) for r in table.rows]
    if table.geometries is not None and table.wkt_in_text:
        columns.append(WKT)
        for row, geom in zip(rows, table.geometries, strict=True):
            row[WKT] = _wkt(geom)
    return columns, rows


def _guard(text: str) -> str:
    # Also text that already looks guarded ("'=x"), so that unguard gives back exactly what was written.
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def _csv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same double
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return _guard(str(value))


def _write_csv(folder: Path, tables: Sequence[Table]) -> None:
    if folder.exists() and not folder.is_dir():
        raise ImportFileError(msg("{path}: is a file; CSV exchange writes a folder of CSV files", path=folder))
    if not folder.parent.is_dir():
        raise ImportFileError(msg("{path}: the folder {parent} does not exist", path=folder, parent=folder.parent))
    folder.mkdir(exist_ok=True)
    for table in tables:
        columns, rows = _text_rows(table)
        with open(folder / f"{table.name}.csv", "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows([_csv_cell(row.get(c)) for c in columns] for row in rows)


def _xlsx_faults(table: Table, columns: list[str], rows: list[dict[str, Any]]) -> list[Fault]:
    faults = []
    for row in rows:
        for column in columns:
            value = row.get(column)
            if not isinstance(value, str):
                continue
            record = msg("{name} {value}", name=table.name, value=row.get(table.key))
            if len(value) > XLSX_CELL_LIMIT:
                faults.append(Fault(record, msg("{value:,} characters do not fit an XLSX cell (at most "
                                                "{XLSX_CELL_LIMIT:,}); export to a GeoPackage or CSV instead",
                                                value=len(value), XLSX_CELL_LIMIT=XLSX_CELL_LIMIT), column))
            elif _XLSX_ILLEGAL.search(value):
                faults.append(Fault(record, msg("holds control characters an XLSX file cannot store"), column))
    return faults


def _write_xlsx(path: Path, tables: Sequence[Table]) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    laid_out = [(table, *_text_rows(table)) for table in tables]
    ValidationError.raise_if(
        f"export to {path.name}", [f for table, cols, rows in laid_out for f in _xlsx_faults(table, cols, rows)]
    )
    book = openpyxl.Workbook(write_only=True)
    for table, columns, rows in laid_out:
        sheet = book.create_sheet(table.name)
        sheet.freeze_panes = "A2"
        sheet.append(columns)
        for row in rows:
            cells: list[Any] = []
            for column in columns:
                value = row.get(column)
                if isinstance(value, float) and math.isnan(value):
                    value = None
                if isinstance(value, str):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"  # text, never a formula, whatever it starts with
                    cells.append(cell)
                elif isinstance(value, dt.date):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = "yyyy-mm-dd"
                    cells.append(cell)
                else:
                    cells.append(value)
            sheet.append(cells)
    try:
        book.save(path)
    except OSError as exc:
        raise ImportFileError(msg("{path}: cannot be written ({reason})",
                                  path=path, reason=exc.strerror or exc)) from None


_DTYPES: dict[Kind, str] = {"text": "object", "int": "Int64", "float": "float64", "bool": "bool", "date": "object"}


def _frame(table: Table) -> pd.DataFrame:
    data: dict[str, pd.Series[Any]] = {}
    for column, kind in table.columns.items():
        values = [row.get(column) for row in table.rows]
        if kind == "date":
            values = [None if v is None else v.isoformat() for v in values]
        data[column] = pd.Series(values, dtype=_DTYPES[kind])
    return pd.DataFrame(data, columns=list(table.columns))


def _write_gpkg(path: Path, tables: Sequence[Table]) -> None:
    try:
        for table in tables:
            frame = _frame(table)
            if table.geometries is None:
                pyogrio.write_dataframe(frame, path, layer=table.name, driver="GPKG")
                continue
            gdf = gpd.GeoDataFrame(frame, geometry=list(table.geometries), crs="EPSG:4326")
            pyogrio.write_dataframe(
                gdf, path, layer=table.name, driver="GPKG", geometry_type=table.geometry_type, promote_to_multi=False
            )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError, pyogrio.errors.CRSError) as exc:
        raise ImportFileError(msg("{path}: cannot be written ({reason})", path=path, reason=exc)) from None


def write_tables(path: str | Path, tables: Sequence[Table]) -> Format:
    """Write ``tables`` to ``path`` in the format its name says (see :func:`table_format`); returns the format.

    A workbook is replaced; a GeoPackage gets (or has replaced) one layer per table and keeps its other layers;
    a folder gets (or has replaced) one ``<table>.csv`` per table and keeps its other files.
    """
    p = Path(path)
    fmt = table_format(p)
    if fmt == "csv":
        _write_csv(p, tables)
    elif fmt == "xlsx":
        _write_xlsx(p, tables)
    else:
        _write_gpkg(p, tables)
    return fmt


def write_table(path: str | Path, table: Table) -> Format:
    """Write one ``table`` to the file ``path`` (replaced, whole or not at all): ``.csv`` one CSV file (geometry as a
    ``wkt`` column), ``.xlsx`` a workbook of one sheet, ``.gpkg`` a GeoPackage of one layer (WGS84). Returns the
    format; any other suffix is a ValidationError."""
    target = Path(path)
    suffix = target.suffix.lower()
    fmt: Format
    if suffix in (".csv", ".xlsx", ".gpkg"):
        fmt = "csv" if suffix == ".csv" else "xlsx" if suffix == ".xlsx" else "gpkg"
    else:
        raise ValidationError(msg("export"), [Fault(msg("export"),
                                                    msg("cannot write {name}: give a .gpkg, .csv or .xlsx "
                                                             "file", name=target.name), "path")])
    if not target.parent.is_dir():
        raise ImportFileError(msg("{path}: the folder {parent} does not exist", path=target, parent=target.parent))
    if target.is_dir():
        raise ImportFileError(msg("{path}: is a folder; give a file name", path=target))
    tmp = target.with_name(f".{target.stem}.part{target.suffix}")
    tmp.unlink(missing_ok=True)
    try:
        if fmt == "csv":
            columns, rows = _text_rows(table)
            try:
                with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                    writer = csv.writer(f)
                    writer.writerow(columns)
                    writer.writerows([_csv_cell(row.get(c)) for c in columns] for row in rows)
            except OSError as exc:
                raise ImportFileError(msg("{path}: cannot be written ({reason})",
                                          path=target, reason=exc.strerror or exc)) from None
        elif fmt == "xlsx":
            _write_xlsx(tmp, [table])
        else:
            _write_gpkg(tmp, [table])
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return fmt


# ----------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------


def _header(values: Sequence[Any], where: str) -> list[str]:
    columns = ["" if is_missing(v) else str(v).strip().lower() for v in values]
    while columns and not columns[-1]:
        columns.pop()
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise ImportFileError(msg("{path}: the column {column} appears twice", path=where, column=repr(column)))
        seen.add(column)
    return columns


def _parse_wkt(value: Any) -> tuple[BaseGeometry | None, str | None]:
    if is_missing(value):
        return None, None
    try:
        return shapely.force_2d(shapely.from_wkt(str(value).strip(), on_invalid="raise")), None
    except (shapely.errors.ShapelyError, TypeError) as exc:
        return None, f"{WKT} is not readable WKT ({str(exc).splitlines()[0]})"


def _from_cells(
    name: str, columns: list[str], cells: list[tuple[list[Any], str, list[tuple[str, str]]]]
) -> RawTable:
    """A RawTable from rows of cell values (CSV or XLSX), with the ``wkt`` column parsed into geometry."""
    rows, where, geoms, geom_faults, cell_faults = [], [], [], [], []
    for values, place, faults in cells:
        if len(values) > len(columns) and any(not is_missing(v) for v in values[len(columns):]):
            faults = [*faults, ("", f"has {len(values)} cells but the header only {len(columns)} columns")]
        row = {c: (values[i] if i < len(values) else None) for i, c in enumerate(columns) if c}
        geom, fault = _parse_wkt(row.pop(WKT, None))
        rows.append(row)
        where.append(place)
        geoms.append(geom)
        geom_faults.append(fault)
        cell_faults.append(faults)
    return RawTable(name, [c for c in columns if c and c != WKT], rows, where, geoms, geom_faults, cell_faults)


def _read_csv_file(path: Path, name: str) -> RawTable:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(msg("{path}: is not UTF-8 text (save it as CSV UTF-8)", path=path)) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not lines:
        return RawTable(name, [], [], [], [], [], [])
    columns = _header(lines[0], str(path))
    cells: list[tuple[list[Any], str, list[tuple[str, str]]]] = [
        ([unguard(v) for v in values], f"{path.name} row {n}", [])
        for n, values in enumerate(lines[1:], start=2)
        if any(v.strip() for v in values)
    ]
    return _from_cells(name, columns, cells)


def _read_csv(folder: Path, names: Sequence[str]) -> RawTables:
    if not folder.is_dir():
        raise ImportFileError(msg("{path}: no such folder", path=folder))
    files = {p.stem.lower(): p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".csv"}
    out = RawTables(folder, "csv", unused=sorted(p.name for stem, p in files.items() if stem not in names))
    for name in names:
        if name in files:
            out.tables[name] = _read_csv_file(files[name], name)
    return out


def _sheet_cells(book: Any, sheet: str, path: Path) -> list[list[tuple[Any, str]]]:
    """Every row of ``sheet`` as (value, openpyxl data type) per cell. A sheet whose XML openpyxl cannot parse
    (found by fuzzing: a damaged attribute gives a TypeError deep inside openpyxl) is refused in one line."""
    try:
        return [[(c.value, str(c.data_type)) for c in row] for row in book[sheet].iter_rows()]
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, SyntaxError, zipfile.BadZipFile) as exc:
        first = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ImportFileError(msg("{path}: sheet {sheet} cannot be read as XLSX ({reason})",
                                  path=path, sheet=sheet, reason=first)) from None


def _read_xlsx(path: Path, names: Sequence[str]) -> RawTables:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise ImportFileError(msg("{path}: no such file", path=path))
    if path.stat().st_size == 0:
        raise ImportFileError(msg("{path}: is empty", path=path))
    check_file(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, EOFError):
        raise ImportFileError(msg("{path}: cannot be read as an XLSX workbook (a damaged or truncated zip)",
                                  path=path)) from None
    except (InvalidFileException, OSError, KeyError, ValueError, SyntaxError) as exc:  # an XML ParseError too
        raise ImportFileError(msg("{path}: cannot be read as an XLSX workbook ({reason})",
                                  path=path, reason=" ".join(str(exc).split()))) from None
    try:
        sheets = {str(s).strip().lower(): str(s) for s in book.sheetnames}
        out = RawTables(path, "xlsx", unused=sorted(s for k, s in sheets.items() if k not in names))
        for name in names:
            if name not in sheets:
                continue
            rows = iter(_sheet_cells(book, sheets[name], path))
            header = next(rows, None)
            if header is None:
                out.tables[name] = RawTable(name, [], [], [], [], [], [])
                continue
            columns = _header([value for value, _ in header], f"{path.name} sheet {name}")
            cells: list[tuple[list[Any], str, list[tuple[str, str]]]] = []
            for n, row in enumerate(rows, start=2):
                # A formula's cell is a fault of its own, and its value (the formula's text) is not read.
                values = [None if kind == "f" else value for value, kind in row]
                faults = [
                    (columns[i] if i < len(columns) else "", "holds a formula; sapper reads values only "
                     "(paste the values instead)")
                    for i, (_, kind) in enumerate(row) if kind == "f"
                ]
                if not faults and all(is_missing(v) for v in values):
                    continue
                cells.append((values, f"sheet {sheets[name]} row {n}", faults))
            out.tables[name] = _from_cells(name, columns, cells)
    finally:
        book.close()
    return out


def _read_gpkg(path: Path, names: Sequence[str]) -> RawTables:
    if not path.is_file():
        raise ImportFileError(msg("{path}: no such file", path=path))
    try:
        layers = {str(row[0]).lower(): (str(row[0]), row[1]) for row in pyogrio.list_layers(path)}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ImportFileError(msg("{path}: cannot be read as a GeoPackage ({reason})", path=path, reason=exc)) from None
    out = RawTables(path, "gpkg", unused=sorted(n for k, (n, _) in layers.items() if k not in names))
    for name in names:
        if name not in layers:
            continue
        layer, geometry_type = layers[name]
        if geometry_type is None:
            try:
                frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
                raise ImportFileError(msg("{path}: layer {layer} cannot be read ({reason})",
                                          path=path, layer=layer, reason=exc)) from None
            frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
            rows: list[dict[str, Any]] = frame.astype(object).to_dict(orient="records")
            count = len(rows)
            places = [f"layer {layer} feature {n}" for n in range(1, count + 1)]
            out.tables[name] = RawTable(
                name, [str(c) for c in frame.columns], rows, places, [None] * count, [None] * count,
                [[] for _ in range(count)],
            )
            continue
        raw = read_layer(path, layer=layer)
        count = len(raw.rows)
        out.tables[name] = RawTable(
            name, list(raw.columns), list(raw.rows), [f"layer {layer} feature {n}" for n in range(1, count + 1)],
            list(raw.geometries), list(raw.geometry_faults), [[] for _ in range(count)],
        )
    return out


def read_tables(path: str | Path, names: Sequence[str]) -> RawTables:
    """Read the tables ``names`` (lower case) that ``path`` holds; a table the file lacks is simply absent.

    Raises ImportFileError when the file cannot be read at all, or a table's header repeats a column.
    """
    p = Path(path)
    fmt = table_format(p)
    if fmt == "csv":
        return _read_csv(p, names)
    if fmt == "xlsx":
        return _read_xlsx(p, names)
    return _read_gpkg(p, names)
