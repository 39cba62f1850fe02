"""Read a workforce table: deminer teams and builder brigades, one row each (CSV, or a GeoPackage attribute table).

Columns (names are case-insensitive):

| column | required | meaning |
|---|---|---|
| ``id`` | yes | the team's or brigade's id, unique in the file and the store |
| ``kind`` | yes | ``team`` (deminers) or ``brigade`` (builders) |
| ``organisation_id`` | yes | the organisation it belongs to |
| ``method`` | teams | ``survey``, ``manual``, ``dog`` or ``mechanical`` |
| ``trade`` | brigades | ``road``, ``bridge``, ``power``, ``water`` or ``building`` |
| ``size`` | yes | people |
| ``base_lon``, ``base_lat`` | yes | where it is based, WGS84 decimal degrees |
| ``productivity_m2_per_day`` | no | m² per team-day; default: the method's figure in ``sapper.domain.figures`` |
| ``capabilities`` | no | further methods (teams) or trades (brigades), e.g. ``manual;survey;dog`` (below) |

``capabilities``: a team's further methods it is trained and equipped for; empty (or no column, as in older files):
manual clearance and survey, the default. A brigade's further trades (``road;bridge``); empty: its own trade only.
Values are separated by ``;``, ``,``, ``|`` or spaces.

A CSV may be UTF-8 or cp1251, separated by ``,`` or ``;`` (decimal commas in a ``;`` file), as
:mod:`sapper.io.tabular` reads it. Each row is checked on its own; a bad row is rejected with its number, id and
every reason, and the rest are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyogrio
from shapely.geometry import Point

from sapper.domain.figures import METHOD_FIGURES
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade, parse_roles
from sapper.errors import ImportFileError, ValidationError
from sapper.io.fields import FieldReader
from sapper.io.result import FeatureIssue
from sapper.io.tabular import read_csv
from sapper.messages import msg, msg_n

REQUIRED = ("id", "kind", "organisation_id", "size", "base_lon", "base_lat")
OPTIONAL = ("method", "trade", "productivity_m2_per_day", "synthetic", "capabilities")


@dataclass(frozen=True, slots=True)
class WorkforceRead:
    """Teams and brigades read from a file (with their 1-based row numbers) and the rows rejected."""

    teams: list[DeminerTeam] = field(default_factory=list)
    brigades: list[BuilderBrigade] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # id → row number
    rejected: list[FeatureIssue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def read_workforce(path: str | Path, *, layer: str | None = None) -> WorkforceRead:
    """Read the teams and brigades of ``path``; raises ImportFileError if the file or its columns cannot be used."""
    p = Path(path)
    if not p.exists():
        raise ImportFileError(f"{p}: no such file")
    records: list[dict[str, Any]]
    if p.suffix.lower() == ".csv":  # UTF-8 or cp1251, "," or ";", decimal commas (sapper.io.tabular)
        table = read_csv(p)
        names = [c for c in table.columns if c]
        records = [{c: (row[i] if i < len(row) else None) for i, c in enumerate(table.columns) if c}
                   for row in table.rows]
    else:
        try:
            frame = pyogrio.read_dataframe(p, layer=layer, read_geometry=False)
        except Exception as exc:  # GDAL's own message says what is wrong with the file
            raise ImportFileError(f"{p}: cannot be read as a table ({str(exc).strip().splitlines()[0]})") from None
        names = [str(c) for c in frame.columns]
        records = [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
    columns = {c.strip().lower(): c for c in names}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(msg_n("{path}: missing required column {columns} (found: {found})",
                                    "{path}: missing required columns {columns} (found: {found})", len(missing),
                                    path=p, columns=", ".join(missing),
                                    found=", ".join(sorted(columns)) or msg("none")))
    out = WorkforceRead(ignored_columns=sorted(c for c in columns if c not in REQUIRED + OPTIONAL))
    seen: set[str] = set()
    is_csv = p.suffix.lower() == ".csv"
    for i, row in enumerate(records, start=1):
        fields = FieldReader({k: row[v] for k, v in columns.items()}, csv=is_csv)
        rid = fields.text("id")
        if not rid:
            out.rejected.append(FeatureIssue(i, None, "id is empty"))
            continue
        if rid in seen:
            out.rejected.append(FeatureIssue(i, rid, f"id {rid} appears earlier in the file"))
            continue
        seen.add(rid)
        kind = fields.text("kind").lower()
        org = fields.text("organisation_id")
        size = fields.integer("size", 0)
        lon, lat = fields.number("base_lon"), fields.number("base_lat")
        synthetic = fields.boolean("synthetic")
        if not org:
            fields.faults.append("organisation_id is empty")
        base = Point(lon if lon is not None else 999.0, lat if lat is not None else 999.0)
        record: DeminerTeam | BuilderBrigade | None = None
        can = fields.text("capabilities")
        try:
            if kind == "team":
                method = fields.enum("method", Method)
                if method is None and not fields.faults:
                    fields.faults.append("method is required for a team")
                productivity = fields.number("productivity_m2_per_day")
                if method is not None and not fields.faults:
                    if productivity is None:
                        productivity = METHOD_FIGURES[method][0].value
                    record = DeminerTeam(rid, org, method, size, base, productivity, synthetic,
                                         capabilities=parse_roles(Method, can, f"team {rid}"))
            elif kind == "brigade":
                trade = fields.enum("trade", Trade)
                if trade is None and not fields.faults:
                    fields.faults.append("trade is required for a brigade")
                if trade is not None and not fields.faults:
                    record = BuilderBrigade(rid, org, trade, size, base, synthetic,
                                            trades=parse_roles(Trade, can, f"brigade {rid}"))
            else:
                fields.faults.append(f"kind {kind!r} is not one of team, brigade")
        except ValidationError as exc:
            fields.faults.extend(f.reason for f in exc.faults)
        if record is None or fields.faults:
            out.rejected.append(FeatureIssue(i, rid, "; ".join(fields.faults) or "cannot be read"))
            continue
        out.rows[rid] = i
        if isinstance(record, DeminerTeam):
            out.teams.append(record)
        else:
            out.brigades.append(record)
    return out
