"""Export the register's hazard areas or assets to a file people open directly (see :mod:`sapper.io.exports`).

Besides the records' own fields an export carries what the map page colours by, read from the store: a hazard
area's land-release ``state`` and ``release_phase`` (from its history) and its ``planned_release_date``, an asset's
``planned_restoration_date`` (both from the latest plan; empty without one). These columns are computed, so an
import of the file does not read them back.

Sensitive data (docs/export.md): ``generalise`` writes what a *viewer* of the web service sees — every hazard
geometry replaced by its generalised footprint (:func:`sapper.domain.sensitive.generalised_footprint`: the convex
hull of the 100 m grid cells its vertices fall in, so no recorded vertex is disclosed) and no source attributes
(the imported file's own columns, which may hold personal data) — for a file that leaves the organisation. Without
it the export is the register as recorded, for people who may see it (the store's own users). Personal data of
accident victims is never in the register, so never in an export.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sapper.domain.sensitive import generalised_footprint
from sapper.errors import Fault, ValidationError
from sapper.io.vector import AssetProgress, HazardProgress, write_assets, write_hazards
from sapper.messages import msg
from sapper.store import Store
from sapper.store.engine import probe
from sapper.store.features import FeatureQuery

Kind = Literal["hazards", "assets"]

#: The suffixes an export writes, by format.
SUFFIXES = (".gpkg", ".geojson", ".json", ".csv", ".xlsx", ".kml", ".kmz", ".shp.zip", ".zip")
_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """``fields``: the columns to write, in order (None: all); ``styles``: write the layer styles (GeoPackage,
    Shapefile, KML), their titles and legend labels through ``say``; ``generalise``: a viewer's geometry and no
    source attributes."""

    fields: tuple[str, ...] | None = None
    styles: bool = True
    generalise: bool = False
    #: Puts the styles' titles and legend labels in the user's language (the command line's ``localise``).
    say: Callable[[str], str] = str


def _check_target(store: Store, target: Path) -> None:
    name = target.name.lower()
    if not name.endswith(SUFFIXES):
        what = target.suffix or "a file without a suffix"
        reason = msg("cannot write {what}: use one of {suffixes}", what=what, suffixes=", ".join(SUFFIXES))
        raise ValidationError(msg("export"), [Fault(msg("export"), reason, "file")])
    if store.path is not None and target.resolve() == store.path.resolve():
        raise ValidationError(msg("export"), [Fault(msg("export"),
                                                    msg("the export file is the store itself; choose another "
                                                                 "path"), "file")])
    if name.endswith(".gpkg") and target.is_file() and probe(target).kind == "sapper":
        # GDAL would replace the store's table with one without its constraints (unique id, foreign keys).
        raise ValidationError(msg("export"), [Fault(msg("export"),
                                                    msg("{path} is a sapper store; export to a new file (use "
                                                             "sapper import to fill a store)", path=target), "file")])


def _derived(store: Store, layer: str) -> dict[str, dict[str, object]]:
    """The computed properties of every feature of ``layer`` (the OGC API's), by id."""
    out: dict[str, dict[str, object]] = {}
    offset = 0
    while True:
        page = store.features(FeatureQuery(layer=layer, limit=_PAGE, offset=offset))
        out.update({f.id: dict(f.properties) for f in page.features})
        offset += len(page.features)
        if not page.features or offset >= page.number_matched:
            return out


def _day(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def export_records(store: Store, file_path: str | Path, kind: Kind, options: ExportOptions | None = None) -> int:
    """Write ``store``'s hazard areas or assets to ``file_path`` (the format from its suffix); returns the count."""
    opts = options or ExportOptions()
    target = Path(file_path)
    _check_target(store, target)
    fields: Sequence[str] | None = opts.fields
    if kind == "hazards":
        hazards = store.hazards()
        derived = _derived(store, "hazard_areas")
        area = {h.id: h.area_m2 for h in hazards} if opts.generalise else {}
        progress = {i: HazardProgress(str(p["state"]), str(p["release_phase"]), _day(p.get("planned_release_date")),
                                      area.get(i)) for i, p in derived.items()}
        if opts.generalise:
            hazards = [dataclasses.replace(h, geometry=generalised_footprint(h.geometry)) for h in hazards]
        attributes = None if opts.generalise else store.source_attributes("hazard_areas")
        return write_hazards(target, hazards, attributes=attributes, progress=progress, fields=fields,
                             styles=opts.styles, say=opts.say)
    if kind == "assets":
        assets = store.assets()
        asset_progress = {i: AssetProgress(_day(p.get("planned_restoration_date")))
                          for i, p in _derived(store, "assets").items()}
        attributes = None if opts.generalise else store.source_attributes("assets")
        return write_assets(target, assets, attributes=attributes, progress=asset_progress, fields=fields,
                            styles=opts.styles, say=opts.say)
    raise ValidationError(msg("export"), [Fault(msg("export"), msg("unknown kind {kind}: hazards or assets",
                                                                   kind=repr(kind)), "kind")])
