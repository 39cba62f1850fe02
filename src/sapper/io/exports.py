"""Exports people open directly: styled GeoPackage, zipped Shapefile with an alias table, styled KML, CSV and XLSX
with a field picker and the formula guard.

* **GeoPackage**: the layer, plus a ``layer_styles`` table as QGIS keeps one (``f_table_name``,
  ``f_geometry_column``, ``styleName``, ``styleQML``, ``styleSLD``, ``useAsDefault``, …; written through GDAL as an
  attributes table, as QGIS itself creates it). QGIS applies the default row's QML when it opens the layer; the other
  rows are offered under Layer Properties → Style → Load Style → from database. Rows of other layers are kept.
* **Zipped Shapefile**: besides ``.shp/.shx/.dbf/.prj/.cpg`` (UTF-8), ``<layer>.qml`` — QGIS loads a ``.qml`` with
  the layer's name as its default style when it opens the ``.shp`` (unpacked), and reads the field aliases in it, so
  ``haz_class`` shows as ``hazard_class`` — and ``<layer>_fields.csv``, the alias table for people and other GIS
  (short name, full name, description). No ``.shp.xml``: QGIS does not read it (ArcGIS does).
* **KML**: one shared style per class (hazard areas by land-release state, assets by planned date, the map page's
  colours), every placemark with its name, its style and its fields as ``ExtendedData`` (shown as a table in Google
  Earth's balloon through the style's ``BalloonStyle``, read back as columns by GDAL).
* **CSV and XLSX**: columns picked and ordered by ``fields`` (``wkt`` is the geometry column: leave it out for a
  table without geometry); every text cell that a spreadsheet would run as a formula — starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return — is written with a leading ``'`` (OWASP's advice on CSV injection), and
  reading a sapper file takes the ``'`` off again.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.io.files import guard_formula, write_layer
from sapper.io.styles import LayerStyle, to_kml_styles, to_qml, to_sld
from sapper.messages import msg

#: The geometry column of a CSV or XLSX export (WKT, full precision), pickable with the other fields.
WKT = "wkt"
#: Longest text an XLSX cell holds (Excel's limit).
XLSX_CELL_LIMIT = 32767
STYLES_TABLE = "layer_styles"


@dataclass(frozen=True, slots=True)
class ExportLayer:
    """What one export writes: the records' table (long column names) and geometry, the layer name, which text
    columns come from people (guarded in spreadsheets), the Shapefile names, descriptions of the columns, the styles
    (the first is the default), and the column that names a record (a KML placemark's name)."""

    frame: pd.DataFrame
    geometries: Sequence[BaseGeometry]
    layer: str
    text_columns: tuple[str, ...]
    short_names: dict[str, str]
    descriptions: dict[str, str]
    styles: tuple[LayerStyle, ...] = ()
    title_column: str = "name"


def pick_fields(layer: ExportLayer, fields: Sequence[str] | None, *, with_wkt: bool) -> ExportLayer:
    """``layer`` with only ``fields``, in that order (``wkt`` among them for a table's geometry column); every unknown
    name is refused in one message naming it and the fields there are."""
    if fields is None:
        return layer
    known = [*([WKT] if with_wkt else []), *map(str, layer.frame.columns)]
    wanted = [f.strip().lower() for f in fields if f.strip()]
    faults = [Fault("--fields", msg("unknown field {name} (fields: {fields})", name=repr(f), fields=", ".join(known)))
              for f in wanted if f not in known]
    twice = sorted({f for f in wanted if wanted.count(f) > 1})
    faults += [Fault("--fields", msg("field {name} is named twice", name=repr(f))) for f in twice]
    if not wanted:
        faults.append(Fault("--fields", msg("names no field (fields: {fields})", fields=", ".join(known))))
    ValidationError.raise_if(msg("export"), faults)
    columns = [f for f in wanted if f != WKT]
    frame = layer.frame[columns].copy()
    if with_wkt and WKT not in wanted:
        frame.attrs["no_wkt"] = True
    elif with_wkt:
        frame.attrs["wkt_at"] = wanted.index(WKT)
    return ExportLayer(frame, layer.geometries, layer.layer, layer.text_columns, layer.short_names,
                       layer.descriptions, layer.styles, layer.title_column)


def write_export(path: str | Path, layer: ExportLayer) -> None:
    """Write ``layer`` to ``path`` in the format its suffix names (module docstring)."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".xlsx"):
        _atomic(p, lambda tmp: _write_xlsx(tmp, layer))
    elif name.endswith((".kml", ".kmz")):
        _atomic(p, lambda tmp: _write_kml(tmp, layer, zipped=name.endswith(".kmz")))
    elif name.endswith(".csv"):
        frame = _with_wkt(layer)
        write_layer(p, frame, layer.geometries, layer=layer.layer, text_columns=layer.text_columns,
                    short_names=layer.short_names, geometry=False)
    else:
        styles = [s for s in layer.styles if _styled(layer.frame, s)]
        sidecars = _shapefile_sidecars(layer, styles) if name.endswith(".zip") else None
        write_layer(p, layer.frame, layer.geometries, layer=layer.layer, text_columns=layer.text_columns,
                    short_names=layer.short_names, sidecars=sidecars)
        if name.endswith(".gpkg") and styles:
            write_gpkg_styles(p, layer.layer, styles)


def _styled(frame: pd.DataFrame, style: LayerStyle) -> bool:
    return all(c.when.column in frame.columns for c in style.classes)


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` to a temporary file beside ``path``, then rename it over ``path``: whole or not at all."""
    fd, name = tempfile.mkstemp(prefix=".sapper-", suffix=path.suffix, dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        readable(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def readable(path: Path) -> None:
    """Give a temporary file (created private) the permissions a new file gets under the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    path.chmod(0o666 & ~mask)


def _shapefile_sidecars(layer: ExportLayer, styles: Sequence[LayerStyle]) -> dict[str, str]:
    """``<layer>.qml`` (the default style, with the full column names as aliases of the short ones) and
    ``<layer>_fields.csv`` (short name, full name, description)."""
    short = {k: v for k, v in layer.short_names.items() if k in layer.frame.columns}
    sidecars: dict[str, str] = {}
    if styles:
        aliases = {short.get(c, c): c for c in map(str, layer.frame.columns) if short.get(c, c) != c}
        sidecars[f"{layer.layer}.qml"] = to_qml(styles[0], lambda c: short.get(c, c), aliases=aliases)
    sidecars[f"{layer.layer}_fields.csv"] = _alias_table(layer, short)
    return sidecars


def _alias_table(layer: ExportLayer, short: dict[str, str]) -> str:
    lines = ["shapefile_name,name,description"]
    for c in map(str, layer.frame.columns):
        desc = layer.descriptions.get(c, "").replace('"', '""')
        lines.append(f'{short.get(c, c)},{c},"{desc}"')
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------
# GeoPackage styles
# ----------------------------------------------------------------------------------------------------


def write_gpkg_styles(path: Path, layer: str, styles: Sequence[LayerStyle]) -> None:
    """Replace ``layer``'s rows of the GeoPackage's ``layer_styles`` table with ``styles`` (the first the default);
    other layers' rows are kept."""
    try:
        geometry_column = pyogrio.read_info(path, layer=layer).get("geometry_name") or "geom"
        kept = pd.DataFrame()
        if STYLES_TABLE in {str(n) for n, _ in pyogrio.list_layers(path)}:
            old = pyogrio.read_dataframe(path, layer=STYLES_TABLE, read_geometry=False)
            kept = old[old["f_table_name"] != layer] if "f_table_name" in old.columns else pd.DataFrame()
        now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))
        rows = pd.DataFrame({
            "f_table_catalog": [""] * len(styles),
            "f_table_schema": [""] * len(styles),
            "f_table_name": [layer] * len(styles),
            "f_geometry_column": [geometry_column] * len(styles),
            "styleName": [s.name for s in styles],
            "styleQML": [to_qml(s) for s in styles],
            "styleSLD": [to_sld(s, layer) for s in styles],
            "useAsDefault": pd.Series([i == 0 for i in range(len(styles))], dtype=bool),
            "description": [s.title for s in styles],
            "owner": ["sapper"] * len(styles),
            "ui": [None] * len(styles),
            "update_time": pd.Series([now] * len(styles)),
        })
        table = pd.concat([kept, rows], ignore_index=True) if len(kept) else rows
        table["useAsDefault"] = table["useAsDefault"].astype(bool)
        pyogrio.write_dataframe(table, path, layer=STYLES_TABLE, driver="GPKG", layer_options={"FID": "id"})
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        raise ImportFileError(msg("{path}: the layer styles cannot be written ({reason})",
                                  path=path, reason=exc)) from None


# ----------------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------------


def _wkt(geometries: Sequence[BaseGeometry]) -> list[str]:
    return list(shapely.to_wkt(np.asarray(geometries, dtype=object), rounding_precision=-1))


def _with_wkt(layer: ExportLayer) -> pd.DataFrame:
    """The table with its ``wkt`` column where ``fields`` put it (first by default), or without one."""
    frame = layer.frame.copy()
    if layer.frame.attrs.get("no_wkt"):
        return frame
    frame.insert(int(layer.frame.attrs.get("wkt_at", 0)), WKT, _wkt(layer.geometries))
    return frame


def _cell(value: Any, *, guard: bool) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return guard_formula(value) if guard else value
    return value


def _write_xlsx(path: Path, layer: ExportLayer) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    frame = _with_wkt(layer)
    ids = [str(i) for i in layer.frame["id"]] if "id" in layer.frame.columns else [str(n + 1) for n in
                                                                                     range(len(frame))]
    if WKT in frame.columns:
        too_long = [i for i, w in zip(ids, frame[WKT], strict=True) if len(w) > XLSX_CELL_LIMIT]
        if too_long:
            reason = msg("its geometry as WKT is longer than the {limit} characters an XLSX cell holds: export to "
                         ".gpkg, or leave wkt out of --fields", limit=f"{XLSX_CELL_LIMIT:,}")
            raise ValidationError(msg("export"), [Fault(i, reason) for i in too_long])
    book = Workbook(write_only=True)
    sheet = book.create_sheet(layer.layer)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for c in frame.columns:
        cell = WriteOnlyCell(sheet, value=str(c))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for value in row:
            v = _cell(value, guard=True)
            cell = WriteOnlyCell(sheet, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # never a formula, whatever the text
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


# ----------------------------------------------------------------------------------------------------
# KML
# ----------------------------------------------------------------------------------------------------


def _coords(xy: Any) -> str:
    return " ".join(f"{x!r},{y!r}" for x, y in np.asarray(xy)[:, :2].tolist())


def _kml_geometry(g: BaseGeometry) -> str:
    kind = g.geom_type
    if kind == "Point":
        return f"<Point><coordinates>{g.x!r},{g.y!r}</coordinates></Point>"
    if kind == "LineString":
        return f"<LineString><tessellate>1</tessellate><coordinates>{_coords(g.coords)}</coordinates></LineString>"
    if kind == "Polygon":
        inner = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{_coords(r.coords)}</coordinates></LinearRing>"
                        "</innerBoundaryIs>" for r in g.interiors)
        return (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_coords(g.exterior.coords)}</coordinates>"
                f"</LinearRing></outerBoundaryIs>{inner}</Polygon>")
    return "<MultiGeometry>" + "".join(_kml_geometry(p) for p in getattr(g, "geoms", ())) + "</MultiGeometry>"


def _balloon(columns: Sequence[str]) -> str:
    rows = "".join(f"<tr><th align='left'>{escape(c)}</th><td>$[{c}]</td></tr>" for c in columns)
    return f"<BalloonStyle><text><![CDATA[<h3>$[name]</h3><table>{rows}</table>]]></text></BalloonStyle>"


def _write_kml(path: Path, layer: ExportLayer, *, zipped: bool) -> None:
    frame = layer.frame
    columns = [str(c) for c in frame.columns if c != layer.title_column]
    style = layer.styles[0] if layer.styles and _styled(frame, layer.styles[0]) else None
    styles = ""
    if style is not None:
        balloon = _balloon(columns)
        styles = to_kml_styles(style).replace("</Style>", balloon + "</Style>")
    marks: list[str] = []
    records = frame.to_dict(orient="records")
    for row, geom in zip(records, layer.geometries, strict=True):
        title = _cell(row.get(layer.title_column), guard=False)
        klass = style.class_of(row) if style is not None else None
        data = "".join(
            f"<Data name={quoteattr(c)}><value>{escape(_text(row[c]))}</value></Data>"
            for c in columns if _cell(row[c], guard=False) is not None)
        marks.append(
            "<Placemark>" + (f"<name>{escape(str(title))}</name>" if title else "")
            + (f"<styleUrl>#{escape(klass.key)}</styleUrl>" if klass is not None else "")
            + f"<ExtendedData>{data}</ExtendedData>{_kml_geometry(geom)}</Placemark>")
    legend = ""
    if style is not None:
        legend = "<description>" + escape(style.title + ": " + "; ".join(c.label for c in style.classes)) + \
                 "</description>"
    doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           f"<name>{escape(layer.layer)}</name>{legend}{styles}<Folder><name>{escape(layer.layer)}</name>"
           + "".join(marks) + "</Folder></Document></kml>\n")
    if zipped:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("doc.kml", doc)
    else:
        path.write_text(doc, encoding="utf-8")


def _text(value: Any) -> str:
    v = _cell(value, guard=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return "" if v is None else str(v)
