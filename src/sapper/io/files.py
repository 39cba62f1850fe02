"""Vector files in and out through pyogrio: which layer, which CRS, geometry to WGS84, drivers by suffix.

Reading gives a :class:`RawLayer`: each feature's attribute values (column names lower-cased) and its geometry
in WGS84 lon/lat (2D), or the reason it could not be read. Nothing is validated here beyond what a file is.

CRS rules (sapper never guesses one):

* GeoPackage, GeoJSON, Shapefile (its ``.prj``; zipped or not) and other GDAL formats carry their CRS; data in
  another CRS is reprojected to WGS84. A file without a CRS is refused unless ``crs`` names it; a ``crs`` that
  contradicts the file's own is refused.
* CSV and XLSX have no CRS of their own: they need ``crs`` or a sidecar ``.prj`` file (sapper's CSV export writes
  one), unless their coordinates are MGRS or UTM with a zone column (WGS84 by definition).
* CSV and XLSX are read cell by cell (:mod:`sapper.io.tabular`: encodings, separators, decimal commas), their
  geometry from WKT or coordinate columns (:mod:`sapper.io.coords`: degrees, DMS, MGRS, UTM). KML and KMZ are read
  through GDAL (LIBKML).

Every feature's geometry is checked against the declared CRS (:mod:`sapper.io.crscheck`: degrees read as metres,
swapped axes, outside the CRS's area of use); one that does not fit gets the reason as its geometry fault.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from pyproj import CRS, Transformer
from pyproj.enums import WktVersion
from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import MAX_IMPORT_VERTICES, WGS84, require_crs
from sapper.errors import CRSError, Fault, ImportFileError, ValidationError
from sapper.io.archives import check_file
from sapper.io.coords import geometry_from_columns
from sapper.io.crscheck import crs_faults
from sapper.io.fields import FORMULA_START, is_missing
from sapper.io.tabular import TextTable, read_csv, read_xlsx, xlsx_sheets
from sapper.messages import msg

SHAPEFILE = "ESRI Shapefile"
#: Longest column name a Shapefile (dBase) holds.
SHAPEFILE_NAME_LIMIT = 10
#: The files of a Shapefile sapper writes (``.cpg``: the text encoding, UTF-8).
_SHAPEFILE_PARTS = ("shp", "shx", "dbf", "prj", "cpg")
#: GDAL driver by file suffix, for the formats sapper writes (a Shapefile always zipped: one file to hand over).
WRITE_DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".csv": "CSV",
    ".shp.zip": SHAPEFILE,
    ".zip": SHAPEFILE,
}

#: Suffixes of formats with exactly one layer, read without listing layers first.
_ONE_LAYER_SUFFIXES = (".geojson", ".json")
#: KML fields (GDAL's LIBKML) that say how a placemark is drawn: not kept as source attributes.
_KML_STYLE = frozenset({"altitudemode", "tessellate", "extrude", "visibility", "draworder", "icon"})
#: Suffixes of tables read cell by cell (geometry from columns), not through GDAL.
_TABLE_SUFFIXES = (".csv", ".xlsx")
_PYOGRIO_ERRORS: tuple[type[Exception], ...] = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)


@dataclass(frozen=True, slots=True)
class RawLayer:
    """One layer of a file, read but not interpreted."""

    path: Path
    layer: str
    #: Column names as in the file, lower-cased and stripped (the geometry column excluded).
    columns: list[str]
    #: Attribute values per feature, keyed by lower-cased column name.
    rows: list[dict[str, Any]]
    #: Geometry per feature in WGS84 (None when the feature has none or it could not be read).
    geometries: list[BaseGeometry | None]
    #: Why a feature's geometry could not be read (None when it could, or when it is simply missing).
    geometry_faults: list[str | None]
    #: The columns that held geometry (CSV), so they are not reported as unused.
    geometry_columns: tuple[str, ...]
    is_csv: bool
    #: What reading decided that a user should hear (the encoding of a CSV that is not UTF-8, decimal commas).
    notes: list[str] = field(default_factory=list)
    #: The column names as the file spells them, by lower-cased name (for source attributes kept as written).
    spelled: dict[str, str] = field(default_factory=dict)


def _fail(path: Path, reason: str) -> ImportFileError:
    return ImportFileError(msg("{path}: {reason}", path=path, reason=reason))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _crs_error(path: Path, reason: str) -> CRSError:
    return CRSError(str(path), [Fault(path.name, reason)])


def _choose_layer(path: Path, layer: str | None, preferred: str, layers: list[str] | None = None) -> str:
    if layers is None:
        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(path)]
        except _PYOGRIO_ERRORS as exc:
            raise _fail(path, msg("cannot be read as a vector file ({reason})", reason=_first_line(exc))) from None
    if not layers:
        raise _fail(path, msg("has no layers"))
    if layer is not None:
        if layer not in layers:
            raise _fail(path, msg("has no layer {layer} (layers: {layers})", layer=repr(layer),
                                  layers=", ".join(layers)))
        return layer
    if len(layers) == 1:
        return layers[0]
    if preferred in layers:
        return preferred
    raise _fail(path, msg("has {n} layers ({layers}): choose one with --layer", n=len(layers),
                         layers=", ".join(layers)))


def _sidecar_crs(path: Path) -> CRS | None:
    prj = path.with_suffix(".prj")
    if not prj.is_file():
        return None
    try:
        return CRS.from_user_input(prj.read_text(encoding="utf-8", errors="replace").strip())
    except Exception:  # pyproj's CRSError carries PROJ internals
        raise _crs_error(path, msg("the coordinate reference system in {file} cannot be read", file=prj.name)) from None


def _source_crs(path: Path, file_crs: Any, crs: str | None, *, is_csv: bool) -> CRS:
    given = require_crs(crs, record="--crs") if crs is not None else None
    if is_csv:
        found = given or _sidecar_crs(path)
        if found is None:
            raise _crs_error(path, msg(
                "an XLSX sheet has no coordinate reference system of its own: pass it with --crs (e.g. --crs "
                "EPSG:4326 for lon/lat degrees) or put a .prj file next to it") if path.suffix.lower() == ".xlsx"
                else msg("a CSV file has no coordinate reference system of its own: pass it with --crs (e.g. --crs "
                         "EPSG:4326 for lon/lat degrees) or put a .prj file next to it"))
        return found
    if file_crs is None or file_crs == "":
        if given is None:
            raise _crs_error(path, msg("has no coordinate reference system; sapper does not guess one: pass it with "
                                       "--crs if you know it (e.g. --crs EPSG:4326)"))
        return given
    own = CRS.from_user_input(file_crs)
    if given is not None and not own.equals(given, ignore_axis_order=True):
        raise _crs_error(path, msg("the file says its coordinate reference system is {own}, but --crs says {given}; "
                                   "leave out --crs to use the file's", own=own.to_string(), given=given.to_string()))
    return own


def is_wgs84(crs: CRS) -> bool:
    return bool(crs.equals(WGS84, ignore_axis_order=True)) or crs == CRS.from_user_input("OGC:CRS84")


def to_wgs84(geoms: Sequence[BaseGeometry | None], crs: CRS) -> list[BaseGeometry | None]:
    """``geoms`` (None allowed) from ``crs`` to WGS84 lon/lat, 2D; coordinates kept as they are if WGS84."""
    arr = np.asarray(geoms, dtype=object)
    if shapely.has_z(arr).any() or shapely.has_m(arr).any():  # already 2D: no copy of every geometry
        arr = shapely.force_2d(arr)
    if not is_wgs84(crs):
        transformer = Transformer.from_crs(crs, WGS84, always_xy=True)

        def project(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack((x, y))

        arr = shapely.transform(arr, project)
    return list(arr)


def _read_table(path: Path, layer: str | None, preferred: str) -> tuple[str, TextTable]:
    """The sheet (XLSX) or the file (CSV) as a table."""
    if path.suffix.lower() == ".csv":
        return path.stem, read_csv(path)
    name = _choose_layer(path, layer, preferred, xlsx_sheets(path))
    return name, read_xlsx(path, name)


def _tabular(path: Path, layer: str | None, crs: str | None, preferred: str) -> RawLayer:
    """A CSV file or an XLSX sheet as a layer, its geometry from WKT or coordinate columns (:mod:`sapper.io.coords`)."""
    name, table = _read_table(path, layer, preferred)
    spelled: dict[str, str] = {}
    for column in table.columns:
        key = column.lower()
        if key and key in spelled:
            raise _fail(path, msg("the column {column} appears twice", column=repr(column)))
        if key:
            spelled[key] = column
    columns = list(spelled)
    keys = [c.lower() for c in table.columns]
    rows = [{k: (row[i] if i < len(row) else None) for i, k in enumerate(keys) if k} for row in table.rows]
    found = geometry_from_columns(columns, rows)
    if found is None:
        raise _fail(path, msg(
            "a table needs its geometry in a 'wkt' (or 'geometry') column of WKT, or points in 'lon' and 'lat' "
            "(decimal degrees or degrees-minutes-seconds), 'mgrs', or 'easting' and 'northing' (with 'utm_zone') "
            "columns; found columns: {columns}", columns=", ".join(table.columns) or msg("none")))
    if found.self_crs is not None:
        if crs is not None and not require_crs(crs, record="--crs").equals(found.self_crs, ignore_axis_order=True):
            raise _crs_error(path, msg("{notation} coordinates are WGS84 by definition, but --crs says {crs}; "
                                       "leave out --crs", notation=found.notation, crs=crs))
        source_crs = found.self_crs
    else:
        source_crs = _source_crs(path, None, crs, is_csv=True)
    notes = [*table.notes]
    if found.notation not in ("WKT", "decimal degrees"):
        notes.append(f"{path.name}: coordinates read as {found.notation} from {', '.join(found.columns)}")
    is_csv = path.suffix.lower() == ".csv"
    return _checked(RawLayer(path, name, columns, rows, found.geometries, found.faults, found.columns, is_csv, notes,
                             spelled), source_crs)


def _checked(raw: RawLayer, source_crs: CRS) -> RawLayer:
    """``raw`` (geometry as the file wrote it) reprojected to WGS84, each feature checked against ``source_crs``
    (:mod:`sapper.io.crscheck`); a feature that does not fit it gets the reason as its geometry fault."""
    wgs84 = to_wgs84(raw.geometries, source_crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        checked = crs_faults(raw.geometries, wgs84, source_crs)
    faults = [old or new for old, new in zip(raw.geometry_faults, checked, strict=True)]
    return RawLayer(raw.path, raw.layer, raw.columns, raw.rows, wgs84, faults, raw.geometry_columns, raw.is_csv,
                    raw.notes, raw.spelled)


def _decode_wkb(wkb: Sequence[bytes | None]) -> tuple[list[BaseGeometry | None], list[str | None]]:
    """Each feature's geometry (None when null), or why it cannot be read (e.g. a ring that is not closed)."""
    with np.errstate(invalid="ignore"):  # NaN coordinates: the feature is rejected for them, by name, later
        geoms: list[BaseGeometry | None] = list(
            shapely.from_wkb(np.asarray(wkb, dtype=object), on_invalid="ignore")
        )
        faults: list[str | None] = [None] * len(geoms)
        for i, (geom, blob) in enumerate(zip(geoms, wkb, strict=True)):
            if geom is None and blob is not None:
                try:
                    geoms[i] = shapely.from_wkb(blob)
                except shapely.errors.ShapelyError as exc:
                    faults[i] = msg("geometry cannot be read ({reason})", reason=str(exc).splitlines()[0])
        counts = shapely.get_num_coordinates(np.asarray(geoms, dtype=object))
        for i in map(int, np.flatnonzero(counts > MAX_IMPORT_VERTICES)):  # dropped at once: checks cost seconds
            faults[i] = msg("the geometry has {n:,} vertices, more than the {most:,} allowed", n=int(counts[i]),
                             most=MAX_IMPORT_VERTICES)
            geoms[i] = None
    return geoms, faults


def read_layer(
    path: str | Path, *, layer: str | None = None, crs: str | None = None, preferred_layer: str = ""
) -> RawLayer:
    """Read one layer of a vector file or table, geometry in WGS84 (see the module docstring for the CRS rules)."""
    p = Path(path)
    if not p.exists():
        raise _fail(p, msg("no such file"))
    if p.is_file() and p.stat().st_size == 0:
        raise _fail(p, msg("is empty"))
    check_file(p)
    if p.suffix.lower() in _TABLE_SUFFIXES:
        return _tabular(p, layer, crs, preferred_layer)
    # GDAL parses a whole GeoJSON file each time it opens one (a second per 10 MB), and it has one layer: open it
    # once, to read it, instead of also to list its layers.
    one_layer = layer is None and p.name.lower().endswith(_ONE_LAYER_SUFFIXES)
    name = p.stem if one_layer else _choose_layer(p, layer, preferred_layer)
    try:
        # Raw WKB, decoded feature by feature below: one unreadable geometry (an unclosed ring in GeoJSON)
        # must reject that feature, not stop the whole read.
        with warnings.catch_warnings():
            # GDAL's warning says nothing of which feature; that feature is rejected with the reason instead.
            warnings.filterwarnings("ignore", "Non closed ring detected", RuntimeWarning)
            meta, _, wkb, field_data = pyogrio.raw.read(p, layer=None if one_layer else name)
        if meta.get("geometry_type") is None:
            raise _fail(p, msg("layer {layer} has no geometry",
                                layer=repr(name)))
        if wkb is None:
            wkb = [None] * (len(field_data[0]) if field_data else 0)
        names = [str(f) for f in meta["fields"]]
        frame = pd.DataFrame(dict(zip(names, field_data, strict=True)), columns=names)
        file_crs = meta["crs"]
    except _PYOGRIO_ERRORS as exc:
        raise _fail(p, msg("cannot be read ({reason})", reason=_first_line(exc))) from None
    except UnicodeDecodeError as exc:
        raise _fail(p, msg("cannot be read: its text is not in the encoding it declares ({reason})",
                           reason=exc.reason)) from None
    source_crs = _source_crs(p, file_crs, crs, is_csv=False)
    if p.suffix.lower() in (".kml", ".kmz"):  # how Google Earth draws a placemark, not what it records
        frame = frame.drop(columns=[c for c in frame.columns if str(c).lower() in _KML_STYLE])
    renames = {c: str(c).strip().lower() for c in frame.columns}
    attrs = frame.rename(columns=renames)
    columns = [str(c) for c in attrs.columns]
    geoms, faults = _decode_wkb(wkb)
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()}
                                  for r in attrs.astype(object).to_dict(orient="records")]
    if not names:  # no attribute columns at all (a Shapefile whose .dbf is empty): features with geometry only
        rows = [{} for _ in geoms]
    elif len(rows) != len(geoms):  # found by fuzzing: a damaged .dbf beside an intact .shp
        raise _fail(p, msg("its attribute table holds {rows} rows for {geoms} geometries (is a part of it damaged?)",
                           rows=f"{len(rows):,}", geoms=f"{len(geoms):,}"))
    spelled = {low: str(orig) for orig, low in renames.items()}
    return _checked(RawLayer(p, name, columns, rows, geoms, faults, (), False, [], spelled), source_crs)


# ----------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------


def driver_for(path: Path) -> str:
    name = path.name.lower()
    driver = next((d for suffix, d in WRITE_DRIVERS.items() if name.endswith(suffix)), None)
    if driver is None:
        allowed = ", ".join(sorted(WRITE_DRIVERS))
        raise ValidationError(msg("export"),
            [
                Fault(
                    msg("export"),
                    msg("cannot write {value}: use one of {allowed}", value=path.suffix or 'files without a suffix',
                        allowed=allowed),
                    "path",
                )
            ],
        )
    return driver


def guard_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (starting with ``= + - @``, a tab or a carriage return: OWASP's list
    for CSV injection) with a leading ``'``; other values as they are."""
    # Also text that already looks guarded ("'=x"), so that reading (fields.unguard) gives back what was written.
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value
    return value


def _exact(value: Any) -> Any:
    """A float as the shortest text that reads back as the same float (GDAL's CSV writer keeps 15 digits)."""
    return None if is_missing(value) else repr(float(value))


def _shapefile_geometry_type(geometries: Sequence[BaseGeometry]) -> str:
    """The one Shapefile geometry type for ``geometries``, or a ValidationError if they mix points, lines and
    polygons (a Shapefile holds one kind)."""
    kinds = {int(d) for d in shapely.get_dimensions(np.asarray(geometries, dtype=object))}
    if len(kinds) > 1:
        raise ValidationError(msg("export"),
            [Fault(msg("export"), msg("a Shapefile holds one kind of geometry, and these records mix points, lines "
                                 "and polygons: export to .gpkg or .geojson instead"), "path")],
        )
    return {0: "MultiPoint", 1: "MultiLineString"}.get(kinds.pop() if kinds else 2, "MultiPolygon")


def _write_shapefile_zip(
    path: Path, frame: pd.DataFrame, geometries: Sequence[BaseGeometry], *, layer: str, short_names: dict[str, str],
    sidecars: dict[str, str],
) -> None:
    """A zipped Shapefile: ``<layer>.shp/.shx/.dbf/.prj/.cpg`` (UTF-8), columns renamed to ``short_names``, and
    ``sidecars`` (file name → text, UTF-8)."""
    out = frame.rename(columns=short_names)
    too_long = [c for c in out.columns if len(str(c)) > SHAPEFILE_NAME_LIMIT]
    if too_long:
        raise ValidationError(msg("export"), [Fault(msg("export"), msg("no Shapefile name for column {c}", c=c),
                                                    "columns") for c in too_long]
        )
    geometry_type = _shapefile_geometry_type(geometries)
    gdf = gpd.GeoDataFrame(out, geometry=list(geometries), crs="EPSG:4326")
    with tempfile.TemporaryDirectory(prefix=".sapper-shp-", dir=path.parent) as tmp:
        folder = Path(tmp)
        pyogrio.write_dataframe(
            gdf, folder / f"{layer}.shp", driver=SHAPEFILE, geometry_type=geometry_type, promote_to_multi=True,
            encoding="UTF-8",
        )
        staged = folder / "staged.zip"
        with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as z:
            for ext in _SHAPEFILE_PARTS:
                part = folder / f"{layer}.{ext}"
                if part.exists():
                    z.write(part, part.name)
            for name, text in sidecars.items():
                z.writestr(name, text.encode("utf-8"))
        os.replace(staged, path)


def write_layer(
    path: str | Path,
    frame: pd.DataFrame,
    geometries: Sequence[BaseGeometry],
    *,
    layer: str,
    text_columns: Sequence[str] = (),
    short_names: dict[str, str] | None = None,
    geometry: bool = True,
    sidecars: dict[str, str] | None = None,
) -> None:
    """Write ``frame`` with ``geometries`` (WGS84) to ``path``; the driver comes from the suffix.

    A GeoPackage gets (or has replaced) the layer ``layer`` and keeps its other layers; GeoJSON is written as
    RFC 7946 (WGS84, no ``crs`` member) with full coordinate precision; CSV gets a ``wkt`` column with full
    precision, text cells that a spreadsheet would run as formulas prefixed with ``'``, and a ``.prj`` file
    naming WGS84. A ``.shp.zip`` (or ``.zip``) is a zipped Shapefile holding ``<layer>.shp`` and its companions,
    with columns renamed by ``short_names`` (at most 10 characters), text in UTF-8 (``.cpg``) and numbers to 15
    significant digits; it is refused when the geometries mix points, lines and polygons; ``sidecars`` (file name →
    text) are added to the zip. A CSV with ``geometry`` false gets no ``wkt`` column (``frame`` holds one already, or
    the table is meant without geometry); every text cell of it is guarded, ``text_columns`` or not.
    """
    p = Path(path)
    driver = driver_for(p)
    try:
        if driver == SHAPEFILE:
            _write_shapefile_zip(p, frame, geometries, layer=layer, short_names=short_names or {},
                                 sidecars=sidecars or {})
            return
        if driver == "CSV":
            out = frame.copy()
            for col in out.columns:
                if col in text_columns or (not geometry and col != "wkt" and out[col].dtype == object):
                    out[col] = out[col].map(guard_formula)
            for col in out.columns:
                if pd.api.types.is_float_dtype(out[col]):
                    out[col] = out[col].astype(object).map(_exact)
            if geometry:
                out.insert(0, "wkt", shapely.to_wkt(np.asarray(geometries, dtype=object), rounding_precision=-1))
            p.unlink(missing_ok=True)  # GDAL's CSV driver will not replace a file; the other drivers do
            pyogrio.write_dataframe(out, p, driver="CSV", layer_options={"STRING_QUOTING": "IF_NEEDED"})
            p.with_suffix(".prj").write_text(WGS84.to_wkt(WktVersion.WKT1_ESRI), encoding="utf-8")
            return
        gdf = gpd.GeoDataFrame(frame, geometry=list(geometries), crs="EPSG:4326")
        options: dict[str, Any] = {}
        if driver == "GeoJSON":
            # 17 decimals: GDAL writes the shortest text that reads back as the same double (15 rounds).
            options = {"layer_options": {"RFC7946": "YES", "COORDINATE_PRECISION": 17}}
        # promote_to_multi=False: a Polygon stays a Polygon beside MultiPolygons (the layer type is then generic).
        pyogrio.write_dataframe(
            gdf,
            p,
            layer=layer,
            driver=driver,
            geometry_type="Unknown" if gdf.empty else None,
            promote_to_multi=False,
            **options,
        )
    except _PYOGRIO_ERRORS as exc:
        raise ImportFileError(msg("{path}: cannot be written ({reason})", path=p, reason=exc)) from None
