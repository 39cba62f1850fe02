"""Exchange with IMSMA: hazard areas, activities and devices found out of and into a store, under GICHD MDR names.

Export writes the store's organisations, hazard areas and activities (with the devices they found) to an XLSX
workbook, a GeoPackage or a folder of CSV files (see :mod:`sapper.io.imsma`). Import is all or nothing: every row is
checked first, against the file and against the store, and any fault stops the import with every fault listed
(record, column, reason, place in the file); otherwise everything is written in one transaction. An organisation the
store already has is kept as stored; a hazard area or activity whose id the store already has is a fault.

Exporting a store, importing the file into an empty store and exporting again gives the same file (for XLSX: the
same cells; a workbook also carries its save time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sapper.errors import Fault, ValidationError
from sapper.io.imsma import ExchangeCounts, ImsmaRead, read_imsma, write_imsma
from sapper.store import Store, UnitOfWork
from sapper.store.engine import probe

#: What a reference names, in messages, by store table.
_WHAT = {"organisations": "organisation", "hazard_areas": "hazard area", "activities": "activity"}


@dataclass(frozen=True, slots=True)
class ImsmaImportSummary:
    """What an IMSMA import wrote, and what it noticed (repairs, stated areas that differ, unused columns)."""

    path: Path
    counts: ExchangeCounts
    kept_organisations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"imported {self.counts.describe()} from {self.path} ({self.counts.format})"]
        if self.kept_organisations:
            out.append(f"organisations already in the store, kept as stored: {', '.join(self.kept_organisations)}")
        return out + self.notes


def export_imsma(store: Store, path: str | Path) -> ExchangeCounts:
    """Write the store's organisations, hazard areas and activities to ``path`` (``.xlsx``, ``.gpkg`` or a folder).

    Refuses (ValidationError) to write into the store itself or another sapper store.
    """
    target = Path(path)
    faults = []
    if store.path is not None and target.resolve() == store.path.resolve():
        faults.append(Fault("export", "the export file is the store itself; choose another path", "path"))
    elif target.suffix.lower() == ".gpkg" and target.is_file() and probe(target).kind == "sapper":
        faults.append(Fault("export", f"{target} is a sapper store; export to a new file (sapper import imsma "
                                      "fills a store)", "path"))
    ValidationError.raise_if("IMSMA export", faults)
    return write_imsma(target, store.organisations(), store.hazards(), store.activities())


def _store_faults(uow: UnitOfWork, read: ImsmaRead) -> list[Fault]:
    """What the store refuses: ids it already has, and references to records neither the file nor it holds."""
    faults = []
    new: tuple[tuple[str, list[str], str], ...] = (
        ("hazard_areas", [h.id for h in read.hazards], "hazard_id"),
        ("activities", [a.id for a in read.activities], "activity_id"),
    )
    for table, records, column in new:
        faults += [Fault(f"{_WHAT[table]} {rid}", "is already in the store; sapper import imsma adds records, it "
                         "does not replace them", column)
                   for rid in sorted(uow.existing_ids(table, records))]
    wanted: dict[str, set[str]] = defaultdict(set)
    for ref in read.references:
        wanted[ref.table].add(ref.id)
    found = {table: uow.existing_ids(table, named) for table, named in wanted.items()}
    faults += [
        Fault(ref.record, f"{_WHAT[ref.table]} {ref.id} is neither in this file nor in the store ({ref.where})",
              ref.column)
        for ref in read.references if ref.id not in found[ref.table]
    ]
    return faults


def import_imsma(store: Store, path: str | Path) -> ImsmaImportSummary:
    """Import an IMSMA exchange file into ``store``, all or nothing.

    Raises ValidationError listing every fault (nothing is written), or ImportFileError when the file cannot be
    read at all.
    """
    p = Path(path)
    read = read_imsma(p)
    what = f"IMSMA import of {p.name}"
    ValidationError.raise_if(what, read.faults)
    with store.write() as uow:
        ValidationError.raise_if(what, _store_faults(uow, read))
        stored = {o.id: o for o in store.organisations()}
        new_orgs = [o for o in read.organisations if o.id not in stored]
        kept = sorted(o.id for o in read.organisations if o.id in stored)
        notes = [f"organisation {oid}: the store has {stored[oid].name!r} ({stored[oid].kind.value}), the file "
                 f"{o.name!r} ({o.kind.value}); kept the store's"
                 for o in read.organisations if (oid := o.id) in stored and stored[oid] != o]
        uow.add_organisations(new_orgs)
        uow.add_hazards(read.hazards)
        uow.add_activities(read.activities)
    counts = ExchangeCounts(read.format, len(new_orgs), len(read.hazards), len(read.activities), read.devices)
    return ImsmaImportSummary(p, counts, kept, [*notes, *read.notes])
