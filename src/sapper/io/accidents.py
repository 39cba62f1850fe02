"""Accidents out to a file (``sapper export accidents``): CSV or GeoJSON (WGS84 points; an accident without a
position has a null geometry). Accident fields only: a victim is never written by any export."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

from sapper.domain.accidents import Accident
from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.messages import msg

#: The columns written, in order.
COLUMNS = ("id", "date", "kind", "device_category", "device_type", "place", "lon", "lat", "organisation_id",
           "hazard_id", "activity_id", "description", "investigation", "victim_count", "sensitivity", "source",
           "synthetic")
FORMATS = (".csv", ".geojson")


def _row(a: Accident) -> dict[str, object]:
    return {"id": a.id, "date": a.date.isoformat(), "kind": a.kind.value, "device_category": a.device_category.value,
            "device_type": a.device_type, "place": a.place, "lon": a.lon, "lat": a.lat,
            "organisation_id": a.organisation_id, "hazard_id": a.hazard_id, "activity_id": a.activity_id,
            "description": a.description, "investigation": a.investigation, "victim_count": a.victim_count,
            "sensitivity": a.sensitivity.value, "source": a.source, "synthetic": a.synthetic}


def write_accidents(path: Path, accidents: Sequence[Accident]) -> int:
    """Write ``accidents`` to ``path`` (``.csv`` or ``.geojson``), whole or not at all; returns how many."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationError(msg("export"), [Fault(msg("export"), msg("{name}: accidents are written as {value}",
                                                             name=path.name, value=' or '.join(FORMATS)), "file_path")])
    if not path.parent.is_dir():
        raise ImportFileError(f"cannot write {path}: the folder {path.parent} does not exist")
    part = path.with_name(f".{path.name}.part")
    try:
        with part.open("w", encoding="utf-8", newline="") as f:
            if suffix == ".csv":
                writer = csv.DictWriter(f, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(_row(a) for a in accidents)
            else:
                json.dump({"type": "FeatureCollection", "features": [
                    {"type": "Feature", "id": a.id, "properties": _row(a),
                     "geometry": None if a.lon is None else {"type": "Point", "coordinates": [a.lon, a.lat]}}
                    for a in accidents]}, f, ensure_ascii=False, indent=1)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return len(accidents)
