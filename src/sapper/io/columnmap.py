"""A layer read from a foreign file, turned into sapper's fields by an :class:`~sapper.io.profile.ImportProfile`.

What happens to each feature, and what is reported (``MappedLayer.notes``, one line per decision, with counts):

* mapped columns are renamed to sapper's fields; a column already named as a sapper field is used as it is unless
  the profile maps that field from another column;
* values go through the profile's value map; values of a categorical field that are neither sapper's nor in the
  map are *gaps*, counted per field and value, all of them at once (:class:`ValueGap`), so the value map can be
  written in one go;
* defaults fill the fields a feature leaves empty;
* ids (with a profile): a source id that repeats (several polygons per file number) becomes the source value
  plus an ordinal in file order (``145-1``, ``145-2``: the same on every import of the same file); a feature
  without one gets an id derived from its geometry (``geo-`` and 16 hex digits of a SHA-1 of the WGS84 shape,
  normalised and rounded to 1e-7°, about 1 cm), the same for the same shape on every import;
* every column not used is kept, per feature, as the record's *source attributes* (the values the file had, empty
  ones left out, under the column's name as the file spells it), stored and exported again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sapper.domain.text import normalise_key
from sapper.errors import ImportFileError
from sapper.io.fields import is_missing
from sapper.io.files import RawLayer
from sapper.io.profile import ImportProfile, value_key
from sapper.io.result import SourceAttributes, SourceValue, ValueGap
from sapper.messages import Joined, msg, msg_n

#: Degrees a geometry is rounded to before its id is derived from it (about 1 cm).
ID_PRECISION_DEG = 1e-7
#: Columns an export adds from the land-release history and the latest plan: computed, so not read back from a
#: sapper export (a file holding all of one kind's; a foreign file's lone ``state`` column is kept).
HAZARD_PLAN_COLUMNS = ("state", "release_phase", "planned_release_date")
ASSET_PLAN_COLUMNS = ("planned_restoration_date",)
PLAN_COLUMNS = (*HAZARD_PLAN_COLUMNS, *ASSET_PLAN_COLUMNS)
#: Columns never kept as source attributes (what sapper computes itself, GDAL's feature id).
NOT_KEPT = ("fid", "area_m2")
#: The column a sapper export writes a record's source attributes to (JSON text); read back as them.
SOURCE_COLUMN = "source_attributes"
#: Its name in a Shapefile (10 characters at most).
SOURCE_COLUMN_SHORT = "src_attrs"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What sapper's fields of one kind are: all of them, the categorical ones (lists among them), the required."""

    fields: Sequence[str]
    enums: Mapping[str, type[StrEnum]]
    lists: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MappedLayer:
    """The layer in sapper's field names, each feature's source attributes, the value gaps and the decisions."""

    raw: RawLayer
    attributes: list[SourceAttributes]
    gaps: list[ValueGap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def source_value(value: Any) -> SourceValue | None:
    """A cell as a JSON scalar (None when empty): numbers as numbers, dates as ISO text, anything else as text."""
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _exported(value: Any) -> SourceAttributes:
    """Source attributes written by a sapper export (a JSON object as text); nothing when not one."""
    if is_missing(value):
        return {}
    try:
        data = json.loads(str(value))
    except ValueError:
        return {SOURCE_COLUMN: str(value)}
    if not isinstance(data, dict):
        return {SOURCE_COLUMN: str(value)}
    return {str(k): v for k, v in data.items() if isinstance(v, str | int | float | bool)}


def geometry_id(geom: BaseGeometry) -> str:
    """An id derived from a WGS84 geometry: the same shape (any ring start or winding, to 1e-7°) gives the same."""
    shape = shapely.normalize(shapely.set_precision(geom, ID_PRECISION_DEG))
    return "geo-" + hashlib.sha1(shapely.to_wkb(shape, output_dimension=2)).hexdigest()[:16]


def _used_columns(raw: RawLayer, profile: ImportProfile, spec: FieldSpec) -> dict[str, str]:
    """Target field → lower-cased source column, for every field the layer provides."""
    missing = [msg("{column} (for {field})", column=repr(source), field=target)
               for target, source in profile.columns.items() if source.strip().lower() not in raw.columns]
    if missing:
        raise ImportFileError(msg_n("{path}: the profile maps column {columns}, not in the file (its columns: {found})",
                                    "{path}: the profile maps columns {columns}, not in the file (its columns: "
                                    "{found})", len(missing), path=raw.path, columns=Joined(", ", missing),
                                    found=", ".join(raw.spelled.get(c, c) for c in raw.columns) or msg("none")))
    used = {target: source.strip().lower() for target, source in profile.columns.items()}
    sources = set(used.values())
    for name in spec.fields:
        if name not in used and name in raw.columns and name not in sources:
            used[name] = name
    return used


@lru_cache(maxsize=64)
def _member_keys(cls: type[StrEnum]) -> frozenset[str]:
    return frozenset(normalise_key(m.value) for m in cls)


class _Translator:
    """The profile's value maps as lookups (built once per import, not once per cell), counting gaps."""

    def __init__(self, profile: ImportProfile, spec: FieldSpec) -> None:
        self.spec = spec
        self.maps = {t: {value_key(k): v for k, v in table.items()} for t, table in profile.values.items()}
        self.gaps: Counter[tuple[str, str]] = Counter()

    def _one(self, target: str, value: Any, cls: type[StrEnum] | None) -> Any:
        table = self.maps.get(target)
        found = table.get(value_key(value)) if table else None
        if found is not None:
            return found
        if cls is not None and normalise_key(str(value)) not in _member_keys(cls):
            self.gaps[(target, str(value).strip())] += 1
        return value

    def __call__(self, target: str, value: Any) -> Any:
        if is_missing(value):
            return value
        cls = self.spec.enums.get(target)
        if target in self.spec.lists and cls is not None:
            parts = [p.strip() for p in str(value).replace(";", ",").split(",") if p.strip()]
            return ",".join(str(self._one(target, part, cls)) for part in parts)
        if cls is None and target not in self.maps:
            return value
        return self._one(target, value, cls)


def _ids(rows: list[dict[str, Any]], geoms: Sequence[BaseGeometry | None], has_id: bool) -> list[str]:
    """Ids repeated in the file made distinct (value and ordinal), missing ones derived from the geometry."""
    notes: list[str] = []
    values = [None if is_missing(r.get("id")) else str(r["id"]).strip() for r in rows]
    values = [str(int(float(v))) if v is not None and _whole(v) else v for v in values]
    counts = Counter(v for v in values if v is not None)
    repeated = {v for v, n in counts.items() if n > 1}
    if repeated:
        seen: Counter[str] = Counter()
        for i, v in enumerate(values):
            if v in repeated:
                seen[v] += 1
                values[i] = f"{v}-{seen[v]}"
        features = sum(counts[v] for v in repeated)
        ids = msg_n("{n} source id", "{n} source ids", len(repeated))
        notes.append(msg("id: {features} features share {ids}; each got the source id and an ordinal in file order "
                         "({first}-1, -2, …)", features=features, ids=ids, first=next(iter(sorted(repeated)))))
    derived = 0
    for i, (v, geom) in enumerate(zip(values, geoms, strict=True)):
        if v is None and geom is not None and not geom.is_empty:
            values[i] = geometry_id(geom)
            derived += 1
    if derived:
        notes.append(msg_n("id: {n} feature has no id; its id is derived from its geometry (geo-…)",
                           "id: {n} features have no id; their ids are derived from their geometry (geo-…)", derived)
                     if has_id else
                     msg_n("id: {n} feature has no id column; its id is derived from its geometry (geo-…)",
                           "id: {n} features have no id column; their ids are derived from their geometry (geo-…)",
                           derived))
    for row, v in zip(rows, values, strict=True):
        row["id"] = v
    return notes


def _whole(text: str) -> bool:
    """``145.0`` (a spreadsheet's number) is the id 145; ``1.5`` stays as written."""
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number) and number.is_integer() and "." in text and not text.startswith("0")


def computed_columns(columns: Sequence[str]) -> set[str]:
    """The columns of ``columns`` that a sapper export computed (all of one kind's :data:`PLAN_COLUMNS` present)."""
    found = set(columns)
    return {c for group in (HAZARD_PLAN_COLUMNS, ASSET_PLAN_COLUMNS) if set(group) <= found for c in group}


def apply_profile(raw: RawLayer, profile: ImportProfile | None, spec: FieldSpec) -> MappedLayer:
    """``raw`` in sapper's field names, with value gaps, decisions and source attributes (module docstring).

    Without a profile only the source attributes are kept: ids are the file's own, and an unknown value rejects
    its feature rather than counting as a gap."""
    chosen = profile or ImportProfile()
    if profile is not None:
        profile.check(spec.fields)
    used = _used_columns(raw, chosen, spec)
    consumed = set(used.values()) | set(raw.geometry_columns) | set(NOT_KEPT) | computed_columns(raw.columns)
    kept = [c for c in raw.columns if c not in consumed]
    translate = _Translator(chosen, spec) if profile is not None else None
    filled: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    attributes: list[SourceAttributes] = []
    for row in raw.rows:
        if translate is None:
            new = {target: row.get(source) for target, source in used.items()}
        else:
            new = {target: translate(target, row.get(source)) for target, source in used.items()}
        for target, default in chosen.defaults.items():
            if is_missing(new.get(target)):
                new[target] = default
                filled[target] += 1
        rows.append(new)
        attrs: SourceAttributes = {}
        for column in kept:
            if column in (SOURCE_COLUMN, SOURCE_COLUMN_SHORT):
                attrs.update(_exported(row.get(column)))
                continue
            value = source_value(row.get(column))
            if value is not None:
                attrs[raw.spelled.get(column, column)] = value
        attributes.append(attrs)
    notes: list[str] = []
    if profile is not None:
        renamed = [f"{t} ← {raw.spelled.get(s, s)}" for t, s in used.items() if t != s]
        if renamed:
            notes.append(msg("columns mapped: {columns}", columns=", ".join(renamed)))
        notes += _ids(rows, raw.geometries, "id" in used)
        for target, n in filled.items():
            notes.append(msg_n("{field}: default {value} used for {n} feature", "{field}: default {value} used for {n} "
                               "features", n, field=target, value=repr(chosen.defaults[target])))
    if kept:
        names = [raw.spelled.get(c, c) for c in kept if c not in (SOURCE_COLUMN, SOURCE_COLUMN_SHORT)]
        if names:
            notes.append(msg("columns kept as source attributes: {columns}", columns=", ".join(names)))
    columns = [*used, *(["id"] if profile is not None and "id" not in used else []),
               *(t for t in chosen.defaults if t not in used)]
    mapped = replace(raw, columns=list(dict.fromkeys(columns)), rows=rows, geometry_columns=())
    # Without a profile an unknown value rejects its feature (the reason names it), as sapper's own files expect.
    gap_list = [] if translate is None else [
        ValueGap(f, v, n, f in spec.required)
        for (f, v), n in sorted(translate.gaps.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))]
    return MappedLayer(mapped, attributes, gap_list, notes)
