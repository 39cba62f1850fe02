"""The fast path for clean files: a whole layer of hazard areas read column by column, checked all at once.

The per-record reader (:func:`sapper.io.vector.read_hazards`) turns each feature into a dict, reads each field through
a :class:`~sapper.io.fields.FieldReader` and builds each record, which checks itself: about 2,000 features a second
on messy files, far below the 20,000 a second a national register's bulk load needs (issue 17). Here the layer is
read as pyogrio's arrays; each field's *distinct* values are read once, through the same FieldReader (so a value
means what it means on the per-record path); geometry is decoded, reprojected to WGS84 and checked (null, empty,
range, the declared CRS, OGC validity, repeated geometry) in vectorised calls; and the records are built together by
:func:`sapper.domain.hazards.hazards_in_bulk`, which checks the domain's rules for all of them at once.

Only a file in which *every* feature is clean takes this path: :func:`read_clean_hazards` gives None as soon as one
feature would be repaired or rejected, or the file is something it does not handle (CSV, XLSX, KML, a Shapefile's
short column names, an exported ``source_attributes`` column, date columns), or cannot be read at all; the caller
then reads the file record by record, which names each fault in one line as before. What this path gives for a clean
file is what the per-record path gives for it: the same records, source attributes and notes (a test reads small
files both ways and compares the rows they store).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely

from sapper.domain.hazards import (
    DeviceCategory,
    Evidence,
    HazardArea,
    HazardClass,
    HazardStatus,
    LandUse,
    hazards_in_bulk,
)
from sapper.errors import SapperError
from sapper.io.archives import check_file
from sapper.io.columnmap import (
    HAZARD_PLAN_COLUMNS,
    NOT_KEPT,
    SOURCE_COLUMN,
    SOURCE_COLUMN_SHORT,
    computed_columns,
    source_value,
)
from sapper.io.crscheck import all_fit
from sapper.io.fields import FieldReader
from sapper.io.files import _PYOGRIO_ERRORS, _choose_layer, _decode_wkb, _source_crs, to_wgs84
from sapper.io.result import ReadResult, SourceAttributes
from sapper.io.vector import HAZARD_COLUMNS, _aliases

#: Suffixes this path reads (GDAL formats whose columns are typed); others go record by record.
_SUFFIXES = (".gpkg", ".geojson", ".json", ".fgb")
#: Column dtypes read as the per-record path reads them (pandas gives the same Python values for these).
_DTYPE_KINDS = frozenset("biufO")


def _distinct(values: list[Any], read: Callable[[FieldReader, str], Any], name: str) -> list[Any] | None:
    """Each value read through ``read`` (a FieldReader method), every distinct value once; None when one of them is
    a fault (the per-record path says which feature)."""
    cell: dict[str, Any] = {}
    reader = FieldReader(cell)
    plain = set(map(type, values)) <= {str}  # text keys alone (1 and 1.0 and True are one key: not mixed here)
    try:
        keys: list[Any] = values if plain else list(zip(map(type, values), values, strict=True))
        memo = dict.fromkeys(keys)
    except TypeError:  # an unhashable cell: not a clean file's
        return None
    for key in memo:
        cell[name] = key if plain else key[1]
        memo[key] = read(reader, name)
        if reader.faults:
            return None
    return list(map(memo.__getitem__, keys))


def _text(values: list[Any]) -> list[str] | None:
    """``FieldReader.text`` of each value (a file's own text, not a CSV's) when every value is text: the text
    stripped, a blank one "" (its default); None when some value is not text (then read through FieldReader). A
    column of ids or names has as many distinct values as features: this reads them without a call each."""
    if not set(map(type, values)) <= {str}:
        return None
    return list(map(str.strip, values))


def _hazard_values(columns: dict[str, list[Any]], n: int) -> dict[str, list[Any]] | None:
    """HazardArea's fields for each feature, read as :func:`sapper.io.vector._hazard` reads them; None on a fault."""
    def column(name: str) -> list[Any]:
        return columns.get(name, [None] * n)

    read: dict[str, tuple[str, Callable[[FieldReader, str], Any]]] = {
        "id": ("id", lambda r, c: r.text(c)),
        "name": ("name", lambda r, c: r.text(c)),
        "hazard_class": ("hazard_class", lambda r, c: r.enum(c, HazardClass)),
        "evidence": ("evidence", lambda r, c: r.enum(c, Evidence)),
        "status": ("status", lambda r, c: r.enum(c, HazardStatus) or HazardStatus.OPEN),
        "device_categories": ("device_categories", lambda r, c: r.enums(c, DeviceCategory)),
        "land_use": ("land_use", lambda r, c: r.enum(c, LandUse) or LandUse.OTHER),
        "beneficiaries": ("beneficiaries", lambda r, c: r.integer(c, 0)),
        "organisation_id": ("organisation_id", lambda r, c: r.opt_text(c)),
        "expected_clearance_share": ("expected_clearance_share", lambda r, c: r.number(c)),
        "synthetic": ("synthetic", lambda r, c: r.boolean(c)),
    }
    parsed: dict[str, list[Any]] = {}
    for target, (source, method) in read.items():
        if source not in columns:  # no such column: every feature's value is what an empty cell reads as
            default = _distinct([None], method, source)
            if default is None:
                return None
            parsed[target] = default * n
            continue
        got = _text(column(source)) if target in ("id", "name") else None
        if got is None:
            got = _distinct(column(source), method, source)
        if got is None:
            return None
        parsed[target] = got
    ids = parsed["id"]
    if None in parsed["hazard_class"] or not all(ids) or len(set(ids)) != n:
        return None  # a class or an id missing, or an id repeated: said feature by feature
    by_class = {HazardClass.SHA: Evidence.INDIRECT, HazardClass.CHA: Evidence.DIRECT}
    parsed["evidence"] = [e or by_class[c] for e, c in zip(parsed["evidence"], parsed["hazard_class"], strict=True)]
    return parsed


def read_clean_hazards(path: str | Path, *, layer: str | None = None, crs: str | None = None
                       ) -> ReadResult[HazardArea] | None:
    """The hazard areas of ``path`` when every feature is clean (the module docstring), as
    :func:`sapper.io.vector.read_hazards` would give them without a profile; None when the file is not for this
    path (the caller then reads it record by record, which also raises the file's errors)."""
    p = Path(path)
    if not p.is_file() or not p.name.lower().endswith(_SUFFIXES):
        return None
    try:
        return _read_clean(p, layer, crs)
    except SapperError:
        return None  # the per-record path raises it again, with its own words


def _read_clean(p: Path, layer: str | None, crs: str | None) -> ReadResult[HazardArea] | None:
    check_file(p)
    one_layer = layer is None and p.name.lower().endswith((".geojson", ".json"))
    name = p.stem if one_layer else _choose_layer(p, layer, "hazard_areas")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, _, wkb, field_data = pyogrio.raw.read(p, layer=None if one_layer else name)
    except (*_PYOGRIO_ERRORS, UnicodeDecodeError):  # type: ignore[misc]
        return None
    if meta.get("geometry_type") is None or wkb is None:
        return None
    n = len(wkb)
    spelled = {str(f).strip().lower(): str(f) for f in meta["fields"]}
    if len(spelled) != len(meta["fields"]) or SOURCE_COLUMN in spelled or SOURCE_COLUMN_SHORT in spelled:
        return None
    if any(np.asarray(data).dtype.kind not in _DTYPE_KINDS for data in field_data):
        return None
    columns = {low: np.asarray(data).tolist() for low, data in zip(spelled, field_data, strict=True)}
    known = [c for c in HAZARD_COLUMNS if c != "area_m2"]
    if "id" not in columns or "hazard_class" not in columns:
        return None
    if any(a in columns for c in (*HAZARD_COLUMNS, *HAZARD_PLAN_COLUMNS) if c not in columns for a in _aliases(c)):
        return None  # a Shapefile's short names: the per-record path reads them as sapper's
    source_crs = _source_crs(p, meta["crs"], crs, is_csv=False)
    geoms, faults = _decode_wkb(wkb)
    if any(f is not None for f in faults):
        return None
    wgs84 = to_wgs84(geoms, source_crs)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if not all_fit(geoms, wgs84, source_crs):
            return None
    values = _hazard_values(columns, n)
    if values is None:
        return None
    values["geometry"] = wgs84
    arr = np.empty(n, dtype=object)
    arr[:] = wgs84
    if n and (shapely.is_missing(arr).any() or _repeated(arr)):
        return None  # no geometry, or the same geometry twice: said feature by feature
    records = hazards_in_bulk(values)
    if records is None:
        return None
    kept = [c for c in columns if c not in known and c not in NOT_KEPT and c not in computed_columns(list(columns))]
    attributes = _attributes(columns, kept, spelled, n)
    notes = [f"columns kept as source attributes: {', '.join(spelled[c] for c in kept)}"] if kept else []
    return ReadResult(records=records, indexes=list(range(1, n + 1)), attributes=attributes, notes=notes)


def _repeated(geoms: np.ndarray) -> bool:
    """Whether two of ``geoms`` (none missing) are the same geometry: the same normalised WKB. Two such have the same
    coordinates, so the same bounds: only those whose bounds another has (or that have no bounds, being empty) are
    normalised and compared, which for a clean file is none."""
    bounds = shapely.bounds(geoms)
    order = np.lexsort(bounds.T[::-1])
    ordered = bounds[order]
    same = np.all(ordered[1:] == ordered[:-1], axis=1)
    suspects = np.zeros(len(geoms), dtype=bool)
    suspects[order[1:][same]] = True
    suspects[order[:-1][same]] = True
    suspects |= np.isnan(bounds).any(axis=1)
    if not suspects.any():
        return False
    return len(set(shapely.to_wkb(shapely.normalize(geoms[suspects])))) != int(suspects.sum())


def _attributes(columns: dict[str, list[Any]], kept: Sequence[str], spelled: dict[str, str], n: int
                ) -> list[SourceAttributes]:
    """Each feature's source attributes: its values of the ``kept`` columns, by the file's spelling, empty left out."""
    out: list[SourceAttributes] = [{} for _ in range(n)]
    for c in kept:
        label = spelled[c]
        for attrs, value in zip(out, columns[c], strict=True):
            got = source_value(value)
            if got is not None:
                attrs[label] = got
    return out
