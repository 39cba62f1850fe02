"""Import hazard areas or assets from a file into a store, and export them back out.

An import is all-or-nothing: every accepted feature is written in one write transaction, so a failure part-way
(disk full, the process killed, a bug) leaves the store as it was. Features the file gets wrong are not
failures: they are rejected one by one with their reasons, and the rest are imported. A feature whose id is
already in the store is rejected too (or, with ``replace=True``, updates the stored record), so importing the
same file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sapper.domain.assets import Asset
from sapper.domain.hazards import HazardArea
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Organisation, OrgKind
from sapper.errors import Fault, ValidationError
from sapper.io import FeatureIssue, ReadResult, read_assets, read_hazards, write_assets, write_hazards
from sapper.io.workforce import read_workforce
from sapper.store import UnitOfWork, open_store
from sapper.store.engine import probe

Kind = Literal["hazards", "assets"]

#: Records per INSERT batch inside the one import transaction.
BATCH_SIZE = 500
_KINDS = ("hazards", "assets")
_LAYER = {"hazards": "hazard_areas", "assets": "assets"}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did: how many records were imported, and which features were repaired or rejected."""

    kind: str
    imported: int
    repaired: list[FeatureIssue] = field(default_factory=list)
    rejected: list[FeatureIssue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A human summary: the counts, notes, a line per repaired or rejected feature, then unused columns."""
        out = [f"imported {self.imported}, repaired {len(self.repaired)}, rejected {len(self.rejected)}"]
        out += self.notes
        out += [f"repaired {issue}" for issue in self.repaired]
        out += [f"rejected {issue}" for issue in self.rejected]
        if self.ignored_columns:
            out.append(f"columns not used: {', '.join(self.ignored_columns)}")
        return out


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValidationError(
            "import", [Fault("import", f"kind {kind!r} is not one of {', '.join(_KINDS)}", "kind")]
        )


def _screen(
    uow: UnitOfWork,
    kind: str,
    indexes: Sequence[int],
    records: Sequence[HazardArea | Asset],
    *,
    replace: bool,
) -> tuple[list[HazardArea | Asset], list[FeatureIssue]]:
    """Split records into those to write and those the store refuses (id taken, organisation unknown)."""
    taken = set() if replace else uow.existing_ids(_LAYER[kind], [r.id for r in records])
    refs = {r.organisation_id for r in records if isinstance(r, HazardArea) and r.organisation_id}
    orgs = uow.existing_ids("organisations", refs) if refs else set()
    accepted: list[HazardArea | Asset] = []
    refused: list[FeatureIssue] = []
    for index, record in zip(indexes, records, strict=True):
        org = record.organisation_id if isinstance(record, HazardArea) else None
        if record.id in taken:
            refused.append(FeatureIssue(index, record.id, f"id {record.id} already exists in the store"))
        elif org is not None and org not in orgs:
            refused.append(FeatureIssue(index, record.id, f"organisation {org} is not in the store"))
        else:
            accepted.append(record)
    return accepted, refused


def _write(uow: UnitOfWork, kind: str, records: Sequence[HazardArea | Asset], *, replace: bool) -> None:
    for start in range(0, len(records), BATCH_SIZE):
        batch = records[start : start + BATCH_SIZE]
        if kind == "hazards":
            uow.add_hazards([r for r in batch if isinstance(r, HazardArea)], replace=replace)
        else:
            uow.add_assets([r for r in batch if isinstance(r, Asset)], replace=replace)


def import_file(
    db_path: str | Path,
    file_path: str | Path,
    kind: Kind,
    *,
    layer: str | None = None,
    crs: str | None = None,
    replace: bool = False,
    create: bool = False,
) -> ImportSummary:
    """Import the hazard areas or assets of ``file_path`` into the store at ``db_path``, all or nothing.

    ``layer`` and ``crs`` are passed to the reader (``crs`` is needed for CSV without a ``.prj``). With
    ``replace``, records whose id is already stored are updated instead of rejected; with ``create``, a
    missing store is created. Raises ImportFileError/CRSError when the file cannot be used at all (nothing is
    written).
    """
    _check_kind(kind)
    result: ReadResult[HazardArea] | ReadResult[Asset]
    if kind == "hazards":
        result = read_hazards(file_path, layer=layer, crs=crs)
    else:
        result = read_assets(file_path, layer=layer, crs=crs)
    with open_store(db_path, create=create) as store, store.write() as uow:
        records: list[HazardArea | Asset] = list(result.records)
        accepted, refused = _screen(uow, kind, result.indexes, records, replace=replace)
        _write(uow, kind, accepted, replace=replace)
    refused_at = {issue.index for issue in refused}
    return ImportSummary(
        kind=kind,
        imported=len(accepted),
        repaired=[issue for issue in result.repaired if issue.index not in refused_at],
        rejected=sorted([*result.rejected, *refused], key=lambda issue: issue.index),
        ignored_columns=list(result.ignored_columns),
    )


def export_file(db_path: str | Path, file_path: str | Path, kind: Kind) -> int:
    """Write the store's hazard areas or assets to ``file_path`` (GeoPackage, GeoJSON, CSV); returns count."""
    _check_kind(kind)
    if Path(file_path).resolve() == Path(db_path).resolve():
        raise ValidationError(
            "export",
            [Fault("export", "the export file is the store itself; choose another path", "file_path")],
        )
    target = Path(file_path)
    if target.suffix.lower() == ".gpkg" and target.is_file() and probe(target).kind == "sapper":
        # GDAL would replace the store's table with one without its constraints (unique id, foreign keys).
        raise ValidationError(
            "export",
            [
                Fault(
                    "export",
                    f"{target} is a sapper store; export to a new file (use sapper import to fill a store)",
                    "file_path",
                )
            ],
        )
    with open_store(db_path) as store:
        if kind == "hazards":
            return write_hazards(file_path, store.hazards())
        return write_assets(file_path, store.assets())


def import_workforce(db_path: str | Path, file_path: str | Path, *, layer: str | None = None) -> ImportSummary:
    """Import deminer teams and builder brigades from a table, all or nothing (see :mod:`sapper.io.workforce`).

    An organisation the store does not know is created with its id as name (an operator for teams, a contractor
    for brigades) and said so in the summary; a team or brigade whose id is already stored is rejected.
    """
    result = read_workforce(file_path, layer=layer)
    records: list[DeminerTeam | BuilderBrigade] = [*result.teams, *result.brigades]
    with open_store(db_path) as store, store.write() as uow:
        taken = uow.existing_ids("teams", [t.id for t in result.teams])
        taken |= uow.existing_ids("brigades", [b.id for b in result.brigades])
        refused = [FeatureIssue(result.rows[r.id], r.id, f"id {r.id} already exists in the store")
                   for r in records if r.id in taken]
        accepted = [r for r in records if r.id not in taken]
        wanted = {r.organisation_id: isinstance(r, DeminerTeam) for r in accepted}
        known = uow.existing_ids("organisations", wanted)
        new_orgs = [Organisation(oid, oid, OrgKind.OPERATOR if is_team else OrgKind.CONTRACTOR)
                    for oid, is_team in sorted(wanted.items()) if oid not in known]
        uow.add_organisations(new_orgs)
        uow.add_teams([r for r in accepted if isinstance(r, DeminerTeam)])
        uow.add_brigades([r for r in accepted if isinstance(r, BuilderBrigade)])
    notes = [f"created organisation {o.id} ({o.kind.value}, named by its id)" for o in new_orgs]
    teams = sum(isinstance(r, DeminerTeam) for r in accepted)
    people = sum(r.size for r in accepted)
    return ImportSummary(
        kind="workforce",
        imported=len(accepted),
        rejected=sorted([*result.rejected, *refused], key=lambda issue: issue.index),
        ignored_columns=list(result.ignored_columns),
        notes=[f"{teams} teams and {len(accepted) - teams} brigades, {people:,} people", *notes],
    )
