"""Exchange with IMSMA Core: organisations, hazard areas, activities and devices found out of and into a store.

Export writes the store's organisations, hazard areas (with what their land-release history says of inspection and
acceptance) and activities (with their devices) to an XLSX workbook, a GeoPackage or a folder of CSV files (see
:mod:`sapper.io.imsma`), and lists, per record, the GICHD MDR items it lacks. Import is all or nothing: every row
is checked first, against the file and against the store, and any fault stops the import with every fault listed
(record, column, reason, place in the file); otherwise everything is written in one transaction. An organisation
the store already has (by id or IMSMA id) is kept as stored; a hazard area or activity whose id or IMSMA id the
store already has is a fault. A programme's own IMSMA value names come from an import profile (``[values.*]``),
used both ways.

Exporting a store, importing the file into an empty store and exporting again gives the same file (for XLSX: the
same cells; a workbook also carries its save time).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sapper.domain.landrelease import EventKind
from sapper.errors import Fault, ValidationError
from sapper.io.imsma import (
    ACTIVITY,
    DEVICE,
    HAZARD,
    ORGANISATION,
    ExchangeCounts,
    ImsmaRead,
    KnownRecords,
    MdrGap,
    ReleaseFacts,
    ValueNames,
    mdr_gaps,
    read_imsma,
    write_imsma,
    write_mdr_report,
)
from sapper.io.profile import ImportProfile
from sapper.messages import Joined, msg, msg_n
from sapper.services.audit import audit_written
from sapper.store import Store, UnitOfWork
from sapper.store.engine import probe

#: Who an IMSMA import is audited as (the command).
IMPORT_ACTOR = "sapper import imsma"
_WHAT = {ORGANISATION: "organisation", HAZARD: "hazard area", ACTIVITY: "activity", DEVICE: "device found"}


#: Records whose missing MDR items are printed one line each; beyond, the count per item and the report file.
SHOWN_GAPS = 50


@dataclass(frozen=True, slots=True)
class ImsmaExportSummary:
    """What an IMSMA export wrote, and the MDR items each record lacks (one line per record; for many records the
    first :data:`SHOWN_GAPS` and a count per item, every record in the report file when one was asked for)."""

    path: Path
    counts: ExchangeCounts
    gaps: list[MdrGap] = field(default_factory=list)
    report: Path | None = None

    def lines(self) -> list[str]:
        out: list[str] = [msg("exported {what} to {path} ({format})", what=self.counts.describe(), path=self.path,
                              format=self.counts.format)]
        if not self.gaps:
            return out
        out.append(msg_n("{n} record lacks GICHD MDR items (written all the same):",
                         "{n} records lack GICHD MDR items (written all the same):", len(self.gaps)))
        out += [g.line() for g in self.gaps[:SHOWN_GAPS]]
        if len(self.gaps) > SHOWN_GAPS:
            per_item = Counter(item for g in self.gaps for item in g.missing)
            where = msg("every record is in {path}", path=self.report) if self.report else \
                msg("--mdr-report FILE.csv lists every record")
            out.append(msg("… and {more:,} more records ({where}); lacking, in all: {items}",
                           more=len(self.gaps) - SHOWN_GAPS, where=where,
                           items=Joined(", ", [msg("{item} {n:,}", item=item, n=n)
                                               for item, n in per_item.most_common()])))
        elif self.report is not None:
            out.append(msg("the list is also in {path}", path=self.report))
        return out


@dataclass(frozen=True, slots=True)
class ImsmaImportSummary:
    """What an IMSMA import wrote, and what it noticed (repairs, stated areas that differ, values kept, unused
    columns)."""

    path: Path
    counts: ExchangeCounts
    kept_organisations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out: list[str] = [msg("imported {what} from {path} ({format})", what=self.counts.describe(), path=self.path,
                              format=self.counts.format)]
        if self.kept_organisations:
            out.append(msg("organisations already in the store, kept as stored: {ids}",
                           ids=", ".join(self.kept_organisations)))
        return out + self.notes


def _names(profile: ImportProfile | None) -> ValueNames:
    """The programme's value names from ``profile``; a profile's column map or defaults, which the IMSMA exchange
    does not use, are refused rather than ignored."""
    names = ValueNames(profile or ImportProfile())
    faults = names.faults()
    if profile is not None and (profile.columns or profile.defaults):
        faults.append(Fault(msg("value map"),
                            "the IMSMA exchange reads only a profile's [values.COLUMN] tables; its [map] "
                            "and [defaults] are for sapper import hazards/assets", None))
    ValidationError.raise_if("IMSMA value map", faults)
    return names


def release_facts(store: Store, hazard_ids: Sequence[str]) -> dict[str, ReleaseFacts]:
    """The last inspection and the acceptance of each area with a land-release history."""
    facts = {}
    for hid in sorted(store.hazards_with_history(hazard_ids)):
        inspection, accepted = None, None
        for event in store.release_events(hid):
            if event.kind is EventKind.INSPECTED and event.inspection is not None:
                inspection = event.inspection
            elif event.kind is EventKind.ACCEPTED:
                accepted = event
            elif event.kind is EventKind.REOPENED:
                accepted = None  # reopened land is no longer accepted
        facts[hid] = ReleaseFacts(
            inspection_date=None if inspection is None else inspection.date,
            inspection_passed=None if inspection is None else inspection.passed,
            accepted_by="" if accepted is None else accepted.authority,
            acceptance_date=None if accepted is None else accepted.at.date(),
        )
    return facts


def export_imsma(store: Store, path: str | Path, *, profile: ImportProfile | None = None,
                 mdr_report: str | Path | None = None) -> ImsmaExportSummary:
    """Write the store's organisations, hazard areas and activities to ``path`` (``.xlsx``, ``.gpkg`` or a folder),
    with the programme's value names from ``profile``; returns the counts and each record's missing MDR items, also
    written to ``mdr_report`` (CSV) when given.

    Refuses (ValidationError) to write into the store itself or another sapper store.
    """
    target = Path(path)
    names = _names(profile)
    faults = []
    if store.path is not None and target.resolve() == store.path.resolve():
        faults.append(Fault(msg("export"), msg("the export file is the store itself; choose another path"), "path"))
    elif target.suffix.lower() == ".gpkg" and target.is_file() and probe(target).kind == "sapper":
        faults.append(Fault(msg("export"), f"{target} is a sapper store; export to a new file (sapper import imsma "
                                      "fills a store)", "path"))
    ValidationError.raise_if("IMSMA export", faults)
    hazards = store.hazards()
    activities = store.activities()
    facts = release_facts(store, [h.id for h in hazards])
    counts = write_imsma(target, store.organisations(), hazards, activities, names=names, facts=facts)
    gaps = mdr_gaps(hazards, activities)
    report = None if mdr_report is None else Path(mdr_report)
    if report is not None:
        write_mdr_report(report, gaps)
    return ImsmaExportSummary(target, counts, gaps, report)


def known_records(store: Store) -> KnownRecords:
    """The store's records by IMSMA id, for links in a file to resolve to."""
    known: dict[str, tuple[str, str]] = {}
    for o in store.organisations():
        known[o.imsma_id] = (ORGANISATION, o.id)
    for h in store.hazards():
        known[h.imsma_id] = (HAZARD, h.id)
    for a in store.activities():
        known[a.imsma_id] = (ACTIVITY, a.id)
        for d in a.devices:
            known[d.imsma_id] = (DEVICE, d.imsma_id)
    return KnownRecords(known)


def _store_faults(uow: UnitOfWork, read: ImsmaRead, known: KnownRecords, stored_orgs: set[str]) -> list[Fault]:
    """What the store refuses: ids and IMSMA ids it already has."""
    faults = []
    new: tuple[tuple[str, list[str], str], ...] = (
        ("hazard_areas", [h.id for h in read.hazards], "hazard_id"),
        ("activities", [a.id for a in read.activities], "activity_id"),
    )
    what = {"hazard_areas": "hazard area", "activities": "activity"}
    for table, records, column in new:
        faults += [Fault(f"{what[table]} {rid}", "is already in the store; sapper import imsma adds records, it "
                         "does not replace them", column)
                   for rid in sorted(uow.existing_ids(table, records))]
    taken = known.by_imsma_id
    claimed = [
        *((f"organisation {o.id}", o.imsma_id) for o in read.organisations if o.id not in stored_orgs
          and taken.get(o.imsma_id, (ORGANISATION, o.id))[0] != ORGANISATION),
        *((msg("hazard area {id}", id=h.id), h.imsma_id) for h in read.hazards),
        *((f"activity {a.id}", a.imsma_id) for a in read.activities),
        *((f"device {d.imsma_id} of activity {a.id}", d.imsma_id) for a in read.activities for d in a.devices),
    ]
    for record, imsma_id in claimed:
        if imsma_id and imsma_id in taken:
            kind, sid = taken[imsma_id]
            faults.append(Fault(record, f"imsma_id {imsma_id} is already the IMSMA id of {_WHAT[kind]} {sid} in the "
                                "store", "imsma_id"))
    return faults


def import_imsma(store: Store, path: str | Path, *, profile: ImportProfile | None = None) -> ImsmaImportSummary:
    """Import an IMSMA exchange file into ``store``, all or nothing, reading value names through ``profile``.

    Raises ValidationError listing every fault (nothing is written), or ImportFileError when the file cannot be
    read at all.
    """
    p = Path(path)
    names = _names(profile)
    known = known_records(store)
    read = read_imsma(p, names=names, known=known)
    what = f"IMSMA import of {p.name}"
    ValidationError.raise_if(what, read.faults)
    with store.write() as uow:
        stored = {o.id: o for o in store.organisations()}
        by_imsma = {o.imsma_id: o for o in stored.values()}
        matched = {o.id: stored.get(o.id) or by_imsma.get(o.imsma_id) for o in read.organisations}
        ValidationError.raise_if(what, _store_faults(uow, read, known, {i for i, o in matched.items() if o}))
        new_orgs = [o for o in read.organisations if matched[o.id] is None]
        kept = sorted(o.id for o in read.organisations if matched[o.id] is not None)
        notes = [f"organisation {o.id}: the store has {m.name!r} ({m.kind.value}), the file {o.name!r} "
                 f"({o.kind.value}); kept the store's"
                 for o in read.organisations if (m := matched[o.id]) is not None and (m.id, m.name, m.kind)
                 != (o.id, o.name, o.kind)]
        # an organisation found by its IMSMA id under another sapper id: records name the store's
        renamed = {oid: m.id for oid, m in matched.items() if m is not None and m.id != oid}
        uow.add_organisations(new_orgs)
        hazards = [dataclasses.replace(h, organisation_id=renamed.get(h.organisation_id, h.organisation_id))
                   if h.organisation_id in renamed else h for h in read.hazards]
        uow.add_hazards(hazards)
        if read.source_attributes:
            uow.set_source_attributes("hazard_areas", read.source_attributes)
        activities = [dataclasses.replace(a, organisation_id=renamed.get(a.organisation_id, a.organisation_id))
                      if a.organisation_id in renamed else a for a in read.activities]
        uow.add_activities(activities)
        audit_written(uow, [*hazards, *activities], existing=(), actor=IMPORT_ACTOR, reason=what)
    counts = ExchangeCounts(read.format, len(new_orgs), len(read.hazards), len(read.activities), read.devices)
    return ImsmaImportSummary(p, counts, kept, [*notes, *read.notes])
