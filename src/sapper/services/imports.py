"""Import hazard areas or assets from a file into a store, and export them back out.

An import is all-or-nothing: every accepted feature is written in one write transaction, so a failure part-way
(disk full, the process killed, a bug) leaves the store as it was, and running the same import again does all of
it. Features the file gets wrong are not failures: they are rejected one by one with their reasons, and the rest
are imported.

A feature whose id is already in the store is, by default, rejected (so importing the same file twice changes
nothing the second time). With ``skip_existing`` it is compared with the stored record instead: identical (same
attributes, same geometry) is *skipped* and counted, so a re-run after an interruption reports only what is new;
different is a *conflict*, reported with the fields that differ and never written over the stored record. With
``replace`` it updates the stored record.

Resuming needs no journal: the store holds either all of an import or none of it, so "resume" is "run it again",
and ``skip_existing`` makes a re-run of an import that did commit (say the process was killed after the commit,
before it could print) a no-op that says so.

An import through a *profile* (a foreign file's column map, value map and defaults, :mod:`sapper.io.profile`) is a
delivery from another system, which comes again: it *upserts* by id. A record already stored identically (fields,
geometry and source attributes) is *unchanged*; one stored differently is *updated* to the file's; a new one is
*added*. So importing the same file twice adds nothing the second time ("added 0, updated 0, unchanged N"). Values
of a required field that the value map does not cover refuse the whole import, all of them named in one message
with their counts. ``dry_run`` does everything but write, and says what would happen.
"""

from __future__ import annotations

import functools
import gc
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.domain.assets import Asset
from sapper.domain.geometry import areas_m2
from sapper.domain.hazards import HazardArea
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Organisation, OrgKind
from sapper.errors import Fault, ValidationError
from sapper.io import FeatureIssue, ReadResult, read_assets, read_hazards
from sapper.io.issues import ReportedIssue, check_report_path, write_report
from sapper.io.profile import ImportProfile, from_options, load_profile, save_profile
from sapper.io.result import SourceAttributes, ValueGap
from sapper.io.workforce import read_workforce
from sapper.jsontypes import JsonObject
from sapper.messages import msg
from sapper.services.audit import audit_written
from sapper.services.exports import export_records
from sapper.store import Store, UnitOfWork

Kind = Literal["hazards", "assets"]

#: Records per INSERT batch inside the one import transaction (each batch's rows are built in memory at once; a
#: batch of a bulk import is one statement for its rows and one for their R-tree boxes).
BATCH_SIZE = 20_000
#: Who a file import is audited as (the command).
IMPORT_ACTOR = "sapper import {kind}"
#: Two geometries are the same record's when every vertex agrees to this many degrees (about 0.1 mm).
SAME_VERTEX_DEG = 1e-9
#: Two numbers are the same value when they agree to this relative tolerance (a Shapefile keeps 15 digits).
SAME_NUMBER_REL = 1e-9
_KINDS = ("hazards", "assets")
_LAYER = {"hazards": "hazard_areas", "assets": "assets"}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did: how many records were imported, and which features were repaired, rejected, skipped
    (already stored, identical) or in conflict with the store (already stored, different)."""

    kind: str
    imported: int
    repaired: list[FeatureIssue] = field(default_factory=list)
    rejected: list[FeatureIssue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[FeatureIssue] = field(default_factory=list)
    conflicts: list[FeatureIssue] = field(default_factory=list)
    #: Whether features already stored were compared (``skip_existing``): the counts then name skips and conflicts.
    compared: bool = False
    #: Whether the import upserted by id (through a profile): the counts then name added, updated and unchanged.
    upserted: bool = False
    #: Records already stored that the file changed (upsert), among ``imported``.
    updated: list[FeatureIssue] = field(default_factory=list)
    #: Records already stored identically (upsert): nothing written for them.
    unchanged: int = 0
    #: Values of categorical fields that neither sapper nor the value map knows, with counts.
    gaps: list[ValueGap] = field(default_factory=list)
    #: Nothing was written: what the import would do.
    dry_run: bool = False

    @property
    def counts(self) -> str:
        """The counts in one line (a translatable message)."""
        more: str = ""
        if self.upserted:
            head = msg("added {added}, updated {updated}, unchanged {unchanged}, repaired {repaired}, rejected "
                       "{rejected}", added=self.imported - len(self.updated), updated=len(self.updated),
                       unchanged=self.unchanged, repaired=len(self.repaired), rejected=len(self.rejected))
            if self.conflicts:
                more = msg(", conflicts {conflicts}", conflicts=len(self.conflicts))
        else:
            head = msg("imported {imported}, repaired {repaired}, rejected {rejected}", imported=self.imported,
                       repaired=len(self.repaired), rejected=len(self.rejected))
        if self.compared:
            more = msg(", skipped {skipped}, conflicts {conflicts}", skipped=len(self.skipped),
                       conflicts=len(self.conflicts))
        line = msg("{counts}{more}", counts=head, more=more)
        return msg("dry run, nothing written: would have {counts}", counts=line) if self.dry_run else line

    @property
    def refused_fields(self) -> list[str]:
        """Required fields with values the value map does not cover (the import is refused for them)."""
        return sorted({g.field for g in self.gaps if g.required})

    @property
    def stored_nothing(self) -> bool:
        """Features were rejected and none was imported or found already stored: the import achieved nothing."""
        return bool(self.rejected) and self.imported == 0 and self.unchanged == 0 and not self.skipped

    @property
    def refused(self) -> int:
        """Features not imported because of a fault: rejected, or in conflict with the store."""
        return len(self.rejected) + len(self.conflicts)

    def issues(self) -> list[ReportedIssue]:
        """Every repaired, rejected, skipped or conflicting feature, in file order."""
        items = [
            *(ReportedIssue("repaired", i) for i in self.repaired),
            *(ReportedIssue("rejected", i) for i in self.rejected),
            *(ReportedIssue("skipped", i) for i in self.skipped),
            *(ReportedIssue("conflict", i) for i in self.conflicts),
            *(ReportedIssue("updated", i) for i in self.updated),
        ]
        return sorted(items, key=lambda item: item.issue.index)

    def figures(self) -> JsonObject:
        """The counts as a mapping (the head of a JSON report)."""
        return {
            "kind": self.kind,
            "imported": self.imported,
            "repaired": len(self.repaired),
            "rejected": len(self.rejected),
            "skipped": len(self.skipped),
            "conflicts": len(self.conflicts),
            "ignored_columns": list(self.ignored_columns),
            "notes": list(self.notes),
            **({"updated": len(self.updated), "unchanged": self.unchanged} if self.upserted else {}),
            "value_gaps": [{"field": g.field, "value": g.value, "count": g.count, "required": g.required}
                           for g in self.gaps],
            "dry_run": self.dry_run,
        }

    def lines(self, *, features: bool = True) -> list[str]:
        """A human summary: the counts, notes, a line per repaired, rejected or conflicting feature (unless
        ``features`` is false), then unused columns. Skipped features are counted, not listed."""
        out = [self.counts, *self.notes]
        gaps = gap_message(self.gaps)
        if gaps:
            out.append(gaps)
        if features:
            out += [msg("repaired {feature}", feature=issue.said()) for issue in self.repaired]
            out += [msg("rejected {feature}", feature=issue.said()) for issue in self.rejected]
            out += [msg("conflict {feature}", feature=issue.said()) for issue in self.conflicts]
            out += [msg("updated {feature}", feature=issue.said()) for issue in self.updated]
        if self.ignored_columns:
            out.append(msg("columns not used: {columns}", columns=", ".join(self.ignored_columns)))
        return out


def gap_message(gaps: Sequence[ValueGap]) -> str | None:
    """Every unknown value in one line, by field, with counts (None when there are none)."""
    if not gaps:
        return None
    by_field: dict[str, list[ValueGap]] = {}
    for gap in gaps:
        by_field.setdefault(gap.field, []).append(gap)
    parts = [f"{name}{' (required)' if items[0].required else ''}: {', '.join(str(g) for g in items)}"
             for name, items in by_field.items()]
    return ("values sapper does not know; map them with --value \"FIELD:SOURCE VALUE=TARGET VALUE\" or "
            f"[values.FIELD] in the profile: {'; '.join(parts)}")


def build_profile(
    path: str | Path | None = None,
    *,
    maps: Sequence[str] = (),
    values: Sequence[str] = (),
    defaults: Sequence[str] = (),
    kind: str | None = None,
    crs: str | None = None,
) -> ImportProfile | None:
    """The profile an import uses: the file's (``path``), with the command line's ``--map``, ``--value`` and
    ``--default`` added (they win); None when there is neither."""
    given = from_options(maps, values, defaults)
    if path is None and given.is_empty:
        return None
    base = load_profile(path) if path is not None else ImportProfile()
    if kind is not None and base.kind is not None and base.kind != kind:
        raise ValidationError(msg("import profile"), [Fault(str(path), msg("is a profile for {kind}, not {kind2}",
                                                                           kind=base.kind, kind2=kind),
                                                       "kind")])
    return base.merged(ImportProfile(given.columns, given.values, given.defaults, kind=kind, crs=crs))


def keep_profile(path: str | Path, profile: ImportProfile) -> None:
    """Write ``profile`` to ``path`` (TOML) for the next delivery from the same source."""
    save_profile(path, profile)


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValidationError(msg("import"), [Fault(msg("import"), msg(
            "kind {kind} is not one of {allowed}", kind=repr(kind), allowed=", ".join(_KINDS)), "kind")])


def same_geometry(a: BaseGeometry, b: BaseGeometry) -> bool:
    """The same shape vertex for vertex (within :data:`SAME_VERTEX_DEG`), whatever the ring start or winding."""
    if a.geom_type != b.geom_type:
        return False
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=SAME_VERTEX_DEG))


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=SAME_NUMBER_REL, abs_tol=1e-12)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same_value(float(a[k]), float(b[k])) for k in a)
    return bool(a == b)


def differences(new: HazardArea | Asset, stored: HazardArea | Asset) -> list[str]:
    """The fields in which ``new`` differs from ``stored`` (empty when they are the same record)."""
    out = []
    for f in fields(new):
        if not f.compare:
            continue
        a, b = getattr(new, f.name), getattr(stored, f.name)
        same = same_geometry(a, b) if isinstance(a, BaseGeometry) else _same_value(a, b)
        if not same:
            out.append(f.name)
    return out


@dataclass
class _Screened:
    accepted: list[HazardArea | Asset] = field(default_factory=list)
    refused: list[FeatureIssue] = field(default_factory=list)
    skipped: list[FeatureIssue] = field(default_factory=list)
    conflicts: list[FeatureIssue] = field(default_factory=list)
    updated: list[FeatureIssue] = field(default_factory=list)
    unchanged: list[FeatureIssue] = field(default_factory=list)

    @property
    def not_imported(self) -> set[int]:
        return {i.index for i in (*self.refused, *self.skipped, *self.conflicts, *self.unchanged)}


#: Fields of a hazard area that, once it has a land-release history, only land-release activities change: a
#: re-import must not redraw the perimeter or the class under the ledger's balance (docs/import.md).
_LEDGER_FIELDS = frozenset({"geometry", "hazard_class", "status", "evidence"})


def _screen(
    uow: UnitOfWork,
    kind: str,
    indexes: Sequence[int],
    records: Sequence[HazardArea | Asset],
    *,
    replace: bool,
    skip_existing: bool,
    upsert: bool = False,
    attributes: Sequence[SourceAttributes] = (),
) -> _Screened:
    """Split records into those to write and those the store refuses (id taken, organisation unknown), skips
    (already stored, identical) or holds differently (a conflict); with ``upsert``, those stored identically
    (record and source attributes) are unchanged and those stored differently are updated."""
    out = _Screened()
    taken = set() if replace else uow.existing_ids(_LAYER[kind], [r.id for r in records])
    stored: dict[str, HazardArea | Asset] = {}
    if (skip_existing or upsert) and taken:
        found = uow.hazards_by_id(taken) if kind == "hazards" else uow.assets_by_id(taken)
        stored = {r.id: r for r in found}
    kept: dict[str, dict[str, Any]] = {}
    given: dict[str, SourceAttributes] = {}
    if upsert:
        kept = uow.source_attributes(_LAYER[kind], taken) if taken else {}
        given = dict(zip((r.id for r in records), attributes, strict=True)) if attributes else {}
    ledgered = uow.hazards_with_history(stored) if upsert and kind == "hazards" and stored else set()
    refs = {r.organisation_id for r in records if isinstance(r, HazardArea) and r.organisation_id}
    orgs = uow.existing_ids("organisations", refs) if refs else set()
    for index, record in zip(indexes, records, strict=True):
        org = record.organisation_id if isinstance(record, HazardArea) else None
        if upsert and record.id in stored:
            diff = differences(record, stored[record.id])
            if given.get(record.id, {}) != kept.get(record.id, {}):
                diff.append("source attributes")
            if not diff:
                out.unchanged.append(FeatureIssue(index, record.id, msg("already in the store, unchanged")))
                continue
            if org is not None and org not in orgs:
                out.refused.append(FeatureIssue(index, record.id, msg("organisation {id} is not in the store", id=org)))
                continue
            guarded = [d for d in diff if d in _LEDGER_FIELDS]
            if record.id in ledgered and guarded:
                out.conflicts.append(FeatureIssue(index, record.id, (
                    f"{', '.join(guarded)} changed, but the area has a land-release history: these change only "
                    "through land-release activities (`sapper release ...`, e.g. `release extend` for the perimeter); "
                    "the stored record is kept")))
                continue
            out.updated.append(FeatureIssue(index, record.id, f"{', '.join(diff)} changed"))
            out.accepted.append(record)
        elif record.id in stored:
            diff = differences(record, stored[record.id])
            if diff:
                reason = msg("id {id} is in the store with different {fields}; the stored record is kept", id=record.id,
                             fields=", ".join(diff))
                out.conflicts.append(FeatureIssue(index, record.id, reason))
            else:
                out.skipped.append(FeatureIssue(index, record.id, msg("already in the store, identical")))
        elif record.id in taken:
            out.refused.append(FeatureIssue(index, record.id, msg("id {id} already exists in the store", id=record.id)))
        elif org is not None and org not in orgs:
            out.refused.append(FeatureIssue(index, record.id, msg("organisation {id} is not in the store", id=org)))
        else:
            out.accepted.append(record)
    return out


def _write(uow: UnitOfWork, kind: str, records: Sequence[HazardArea | Asset], *, replace: bool,
           attributes: Sequence[SourceAttributes] | None = None, areas: Sequence[float] | None = None) -> None:
    """Write ``records`` in batches; ``attributes`` (new records only): their source attributes, in the same
    INSERT; ``areas``: the hazard areas' areas, when already computed."""
    for start in range(0, len(records), BATCH_SIZE):
        batch = records[start : start + BATCH_SIZE]
        attrs = None if attributes is None else attributes[start : start + BATCH_SIZE]
        if kind == "hazards":
            uow.add_hazards([r for r in batch if isinstance(r, HazardArea)], replace=replace, source_attributes=attrs,
                            areas=None if areas is None else areas[start : start + BATCH_SIZE])
        else:
            uow.add_assets([r for r in batch if isinstance(r, Asset)], replace=replace, source_attributes=attrs)


_P = ParamSpec("_P")
_R = TypeVar("_R")
_GC_LOCK = threading.Lock()
_gc_pausers = 0


def _cyclic_gc_paused(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``func`` run with Python's cyclic garbage collector paused (reference counting frees as always). An import
    allocates hundreds of thousands of objects that live until it ends (records, rows, their values); each few
    hundred allocations started a collection that walked them all again, about a sixth of a bulk import of 100,000
    areas (CPU seconds, alternating runs). Collection resumes when the last import running returns, unless something
    else had paused it before."""
    @functools.wraps(func)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        global _gc_pausers
        with _GC_LOCK:
            counted = _gc_pausers > 0 or gc.isenabled()  # not when paused by something else: leave it to that
            if counted:
                _gc_pausers += 1
                gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if counted:
                with _GC_LOCK:
                    _gc_pausers -= 1
                    if _gc_pausers == 0:
                        gc.enable()

    return paused


@_cyclic_gc_paused
def import_file(
    store: Store,
    file_path: str | Path,
    kind: Kind,
    *,
    layer: str | None = None,
    crs: str | None = None,
    replace: bool = False,
    skip_existing: bool = False,
    report: str | Path | None = None,
    profile: ImportProfile | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import the hazard areas or assets of ``file_path`` into ``store``, all or nothing.

    ``layer`` and ``crs`` are passed to the reader (``crs`` is needed for CSV without a ``.prj``). A record whose
    id is already stored is rejected, unless ``skip_existing`` (skipped when identical, a conflict when not) or
    ``replace`` (the stored record is updated). With ``profile`` the file's columns and values are mapped to
    sapper's and the import upserts by id (the module docstring); values of a required field the value map does
    not cover refuse it (ValidationError naming them all). With ``report``, every repaired, rejected, skipped or
    conflicting feature is written to that ``.csv`` or ``.json`` file once the import has committed (the path is
    checked before anything is read). ``dry_run``: nothing is written, to the store or the report; the summary says
    what would have been. Raises ImportFileError/CRSError when the file cannot be used at all (nothing is written).
    Every record's source attributes (the file's columns not used) are stored with it.
    """
    _check_kind(kind)
    if replace and skip_existing:
        raise ValidationError(msg("import"), [Fault(msg("import"), msg("choose replace or skip_existing, not both"),
                                                    "skip_existing")]
        )
    upsert = profile is not None and not replace and not skip_existing
    if report is not None and not dry_run:
        check_report_path(report, not_one_of=(file_path, *([store.path] if store.path is not None else [])))
    crs = crs or (profile.crs if profile is not None else None)
    result: ReadResult[HazardArea] | ReadResult[Asset]
    if kind == "hazards":
        result = read_hazards(file_path, layer=layer, crs=crs, profile=profile)
    else:
        result = read_assets(file_path, layer=layer, crs=crs, profile=profile)
    refused = sorted({g.field for g in result.gaps if g.required})
    if refused and not dry_run:
        raise ValidationError(f"import of {Path(file_path).name}", [
            Fault(Path(file_path).name, gap_message(result.gaps) or "", ", ".join(refused))])
    records: list[HazardArea | Asset] = list(result.records)
    with store.dry_run() if dry_run else store.write() as uow:
        screened = _screen(uow, kind, result.indexes, records, replace=replace, skip_existing=skip_existing,
                           upsert=upsert, attributes=result.attributes)
        if not dry_run:
            # Without replace or upsert no record accepted is stored (_screen refused or skipped those that are, in
            # this transaction): nothing to look up.
            existing = (uow.existing_ids(_LAYER[kind], [r.id for r in screened.accepted]) if replace or upsert
                        else set())
            chosen = {i.id for i in screened.accepted}
            attrs = {r.id: a for r, a in zip(records, result.attributes, strict=True) if r.id in chosen}
            # Each area once, for the rows and their audit rows alike.
            areas = areas_m2([r.geometry for r in screened.accepted]) if kind == "hazards" else None
            if existing or upsert or replace:
                _write(uow, kind, screened.accepted, replace=replace or upsert, areas=areas)
                if attrs and (any(attrs.values()) or upsert or replace):
                    uow.set_source_attributes(_LAYER[kind], attrs)
            else:  # all new: each record's source attributes go in its INSERT
                _write(uow, kind, screened.accepted, replace=False,
                       attributes=[attrs.get(r.id, {}) for r in screened.accepted], areas=areas)
            audit_written(uow, screened.accepted, existing=existing, actor=IMPORT_ACTOR.format(kind=kind),
                          reason=f"import of {Path(file_path).name}", areas=areas)
    summary = ImportSummary(
        kind=kind,
        imported=len(screened.accepted),
        repaired=[issue for issue in result.repaired if issue.index not in screened.not_imported],
        rejected=sorted([*result.rejected, *screened.refused], key=lambda issue: issue.index),
        ignored_columns=list(result.ignored_columns),
        notes=list(result.notes),
        skipped=screened.skipped,
        conflicts=screened.conflicts,
        compared=skip_existing,
        upserted=upsert,
        updated=screened.updated,
        unchanged=len(screened.unchanged),
        gaps=list(result.gaps),
        dry_run=dry_run,
    )
    if report is not None and not dry_run:
        figures = {"file": str(file_path), "store": store.url, **summary.figures()}
        write_report(report, summary.issues(), figures=figures)
    return summary


def export_file(store: Store, file_path: str | Path, kind: Kind) -> int:
    """Write ``store``'s hazard areas or assets to ``file_path`` with the default options
    (:func:`sapper.services.exports.export_records`); returns the count."""
    return export_records(store, file_path, kind)


def import_workforce(store: Store, file_path: str | Path, *, layer: str | None = None) -> ImportSummary:
    """Import deminer teams and builder brigades from a table, all or nothing (see :mod:`sapper.io.workforce`).

    An organisation the store does not know is created with its id as name (an operator for teams, a contractor
    for brigades) and said so in the summary; a team or brigade whose id is already stored is rejected.
    """
    result = read_workforce(file_path, layer=layer)
    records: list[DeminerTeam | BuilderBrigade] = [*result.teams, *result.brigades]
    with store.write() as uow:
        taken = uow.existing_ids("teams", [t.id for t in result.teams])
        taken |= uow.existing_ids("brigades", [b.id for b in result.brigades])
        refused = [FeatureIssue(result.rows[r.id], r.id, msg("id {id} already exists in the store", id=r.id))
                   for r in records if r.id in taken]
        accepted = [r for r in records if r.id not in taken]
        wanted = {r.organisation_id: isinstance(r, DeminerTeam) for r in accepted}
        known = uow.existing_ids("organisations", wanted)
        new_orgs = [Organisation(oid, oid, OrgKind.OPERATOR if is_team else OrgKind.CONTRACTOR)
                    for oid, is_team in sorted(wanted.items()) if oid not in known]
        uow.add_organisations(new_orgs)
        uow.add_teams([r for r in accepted if isinstance(r, DeminerTeam)])
        uow.add_brigades([r for r in accepted if isinstance(r, BuilderBrigade)])
    notes: list[str] = [msg("created organisation {id} ({kind}, named by its id)", id=o.id, kind=o.kind.value)
                        for o in new_orgs]
    teams = sum(isinstance(r, DeminerTeam) for r in accepted)
    people = sum(r.size for r in accepted)
    return ImportSummary(
        kind="workforce",
        imported=len(accepted),
        rejected=sorted([*result.rejected, *refused], key=lambda issue: issue.index),
        ignored_columns=list(result.ignored_columns),
        notes=[msg("{teams} teams and {brigades} brigades, {people} people", teams=teams,
                   brigades=len(accepted) - teams, people=f"{people:,}"), *notes],
    )
