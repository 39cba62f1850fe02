"""The store, opened with :func:`open_store`: one SQLite file that is also a GeoPackage 1.4 (the default), or a
PostgreSQL database with PostGIS (a ``postgresql://`` URL), behind the same API.

Writes happen in units of work: ``with store.write() as uow: uow.add_hazards(...); uow.add_assets(...)``
commits both or neither. The ``Store.add_*`` shortcuts each run in their own unit of work, or join the one
already open in this thread, so ``with store.write(): store.add_hazards(...)`` is atomic too.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from sapper.domain.accidents import Accident, Victim
from sapper.domain.activities import Activity
from sapper.domain.assets import Asset
from sapper.domain.calendar import ProgrammeCalendar
from sapper.domain.fielddata import ProgressReport, StagedSubmission, StagingState
from sapper.domain.hazards import HazardArea
from sapper.domain.landrelease import NCStatus, QAVisit, ReleaseEvent
from sapper.domain.places import Settlement
from sapper.domain.releaserules import ReleaseRules
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Organisation
from sapper.domain.taskorders import OrderState, TaskOrder
from sapper.domain.users import AuditBatch, AuditEntry, Principal
from sapper.errors import Fault, NotFoundError, StoreError, ValidationError
from sapper.messages import msg
from sapper.store import accidents as accident_rows
from sapper.store import accounts, mapping, rowscope, schema, whatifjson
from sapper.store import engine as engines
from sapper.store import features as feats
from sapper.store import repository as repo
from sapper.store.cipher import FieldCipher
from sapper.store.fieldstaging import FieldStaging
from sapper.store.records import (
    ContextArea,
    HazardEdit,
    LayerFeature,
    PlannedTask,
    PlanRun,
    SavedWhatIf,
    SurveyUnderOrder,
)
from sapper.store.taskorders import TaskOrders


class UnitOfWork:
    """Writes (and reads) inside one transaction (``BEGIN IMMEDIATE`` on SQLite); see :meth:`Store.write`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.touched: set[str] = set()

    @property
    def connection(self) -> Connection:
        return self._conn

    def add_organisations(self, orgs: Iterable[Organisation], *, replace: bool = False) -> int:
        self.touched.add("organisations")
        return repo.add_organisations(self._conn, list(orgs), replace=replace)

    def add_hazards(self, hazards: Iterable[HazardArea], *, replace: bool = False,
                    source_attributes: Sequence[Mapping[str, Any]] | None = None,
                    areas: Sequence[float] | None = None) -> int:
        """Add hazard areas (``replace``: or update those stored); ``source_attributes``: each new area's, written
        in the same INSERT (not with ``replace``: :meth:`set_source_attributes` then); ``areas``: their areas
        (``sapper.domain.geometry.areas_m2``) when already computed."""
        self.touched.update(("hazard_areas", "hazard_points"))
        return repo.add_hazards(self._conn, list(hazards), replace=replace, source_attributes=source_attributes,
                                areas=areas)

    def add_assets(self, assets: Iterable[Asset], *, replace: bool = False,
                   source_attributes: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Add assets, as :meth:`add_hazards`."""
        self.touched.add("assets")
        return repo.add_assets(self._conn, list(assets), replace=replace, source_attributes=source_attributes)

    def add_activities(self, activities: Iterable[Activity], *, replace: bool = False) -> int:
        self.touched.update(("activities", "land_release_outcomes", "devices_found"))
        return repo.add_activities(self._conn, list(activities), replace=replace)

    def add_teams(self, teams: Iterable[DeminerTeam], *, replace: bool = False) -> int:
        self.touched.add("teams")
        return repo.add_teams(self._conn, list(teams), replace=replace)

    def add_brigades(self, brigades: Iterable[BuilderBrigade], *, replace: bool = False) -> int:
        self.touched.add("brigades")
        return repo.add_brigades(self._conn, list(brigades), replace=replace)

    def add_settlements(self, settlements: Iterable[Settlement]) -> int:
        self.touched.add("settlements")
        return repo.add_settlements(self._conn, list(settlements))

    def add_context_areas(self, layer: str, areas: Iterable[ContextArea]) -> int:
        repo.context_table(layer)
        self.touched.add(layer)
        return repo.add_context_areas(self._conn, layer, list(areas))

    def set_meta(self, values: Mapping[str, object]) -> None:
        self.touched.add("sapper_meta")
        repo.set_meta(self._conn, values)

    def set_release_rules(self, rules: ReleaseRules) -> None:
        """Keep the programme's land-release settings (sapper_meta ``release_rules.*``)."""
        self.set_meta(mapping.release_rules_meta(rules))

    def set_calendar(self, cal: ProgrammeCalendar) -> None:
        """Keep the programme's working calendar (week and stand-downs in sapper_meta ``calendar.*``, holidays in
        ``calendar_holidays``, replaced)."""
        self.touched.update(("sapper_meta", "calendar_holidays"))
        repo.set_calendar(self._conn, cal)

    def update_hazard(self, hazard_id: str, edit: HazardEdit, *, expected_version: int) -> int:
        """See :meth:`Store.update_hazard`."""
        self.touched.add("hazard_areas")
        return repo.update_hazard(self._conn, hazard_id, edit, expected_version=expected_version)

    def save_plan(self, run: PlanRun) -> int:
        self.touched.update(("plan_runs", "plan_tasks"))
        return repo.save_plan(self._conn, run)

    def add_qa_visit(self, visit: QAVisit) -> None:
        self.touched.update(("qa_visits", "non_conformities"))
        repo.add_qa_visit(self._conn, visit)

    def set_non_conformity_status(self, nc_id: str, status: NCStatus) -> None:
        self.touched.add("non_conformities")
        repo.set_non_conformity_status(self._conn, nc_id, status)

    def append_release_events(self, events: Iterable[ReleaseEvent]) -> int:
        """Append events to land-release histories (use sapper.services.landrelease, which checks the rules)."""
        self.touched.add("land_release_events")
        return repo.append_release_events(self._conn, list(events))

    def audit(self, entry: AuditEntry) -> None:
        """Append an audit row in this unit of work (so it commits with the write it describes)."""
        accounts.write_audit(self._conn, entry)

    def audit_many(self, entries: Iterable[AuditEntry]) -> int:
        """Append the audit rows of a bulk write in this unit of work, in one statement; how many."""
        return accounts.write_audits(self._conn, list(entries))

    def audit_batch(self, batch: AuditBatch) -> int:
        """Append the audit rows of a bulk write to one table in this unit of work, in one statement; how many."""
        return accounts.write_audit_batch(self._conn, batch)

    def put_accident(self, accident: Accident) -> bool:
        """Insert an accident or replace the one with its id (use sapper.services.accidents, which audits it);
        True when it was new."""
        self.touched.add("accidents")
        return accident_rows.put_accident(self._conn, accident)

    def accident(self, accident_id: str) -> Accident:
        return accident_rows.accident(self._conn, accident_id)

    def accident_version(self, accident_id: str) -> int:
        return accident_rows.accident_version(self._conn, accident_id)

    def update_accident(self, accident: Accident, *, expected_version: int) -> int:
        """Change a stored accident still at ``expected_version`` (ConflictError otherwise); the new version."""
        self.touched.add("accidents")
        return accident_rows.update_accident(self._conn, accident, expected_version=expected_version)

    def add_victim(self, victim: Victim, cipher: FieldCipher) -> None:
        """Insert a victim, each personal field encrypted with ``cipher`` (use sapper.services.accidents)."""
        self.touched.add("victims")
        accident_rows.add_victim(self._conn, victim, cipher)

    def victims(self, accident_id: str, cipher: FieldCipher) -> list[Victim]:
        """An accident's victims, decrypted (in this unit of work, so the audit of the read commits with it)."""
        return accident_rows.victims(self._conn, accident_id, cipher)

    def victim_ids(self, accident_id: str) -> list[str]:
        return accident_rows.victim_ids(self._conn, accident_id)

    def reencrypt_victims(self, old: FieldCipher, new: FieldCipher) -> list[str]:
        """Re-encrypt every victim not under ``new``'s key (see sapper.services.datakeys)."""
        self.touched.add("victims")
        return accident_rows.reencrypt_victims(self._conn, old, new)

    def delete_hazard(self, hazard_id: str, *, expected_version: int) -> None:
        """Delete a hazard area still at ``expected_version`` (ConflictError when it moved on)."""
        self.touched.add("hazard_areas")
        repo.delete_hazard(self._conn, hazard_id, expected_version=expected_version)

    @property
    def field_staging(self) -> FieldStaging:
        """Field-data staging (ODK Central / KoboToolbox submissions, their review, progress) in this unit of work."""
        return FieldStaging(self._conn, self.touched)

    @property
    def task_orders(self) -> TaskOrders:
        """Task orders (issue, change state, read) in this unit of work."""
        return TaskOrders(self._conn, self.touched)

    def existing_ids(self, layer: str, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` already in ``layer`` (a table with text ids: hazard_areas, assets, teams…)."""
        table = schema.metadata.tables.get(layer)
        if table is None or "id" not in table.c or layer in ("plan_runs",):
            raise ValidationError(msg("id lookup"), [Fault(msg("id lookup"), msg("{layer} has no text ids",
                                                                                 layer=repr(layer)), "layer")])
        return repo.existing_ids(self._conn, table, ids)

    def set_source_attributes(self, layer: str, attributes: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the source attributes (the imported file's columns sapper does not use) of the records of
        ``layer`` (``hazard_areas`` or ``assets``) named in ``attributes``, by id."""
        self.touched.add(layer)
        repo.set_source_attributes(self._conn, layer, attributes)

    def source_attributes(self, layer: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The source attributes of those of ``ids`` in ``layer`` that have any, by id."""
        return repo.source_attributes(self._conn, layer, sorted(set(ids)))

    def hazards_with_history(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` whose land-release history has at least one event."""
        return repo.hazards_with_history(self._conn, list(ids))

    def hazards_by_id(self, ids: Iterable[str]) -> list[HazardArea]:
        """The stored hazard areas among ``ids``, read inside this unit of work (in chunks: any number of ids)."""
        wanted = sorted(set(ids))
        return [h for start in range(0, len(wanted), 500) for h in repo.hazards(self._conn, wanted[start:start + 500])]

    def assets_by_id(self, ids: Iterable[str]) -> list[Asset]:
        """The stored assets among ``ids``, read inside this unit of work (in chunks: any number of ids)."""
        wanted = sorted(set(ids))
        return [a for start in range(0, len(wanted), 500) for a in repo.assets(self._conn, wanted[start:start + 500])]


class Store:
    """An open store (a GeoPackage file or a PostGIS database). Use :func:`open_store`; close it (or use it as a
    context manager) when done."""

    def __init__(self, target: engines.Target, engine: Engine) -> None:
        self._target = target
        self._engine = engine
        self._local = threading.local()
        self._closed = False

    @property
    def path(self) -> Path | None:
        """The store file (None for a PostgreSQL store)."""
        return self._target.path

    @property
    def url(self) -> str:
        """What the store is, for messages: the file path, or the PostgreSQL URL with its password hidden."""
        return self._target.display

    @property
    def backend(self) -> engines.Backend:
        """``sqlite`` (a GeoPackage file) or ``postgresql`` (PostGIS)."""
        return self._target.backend

    def close(self) -> None:
        """Close every connection (the WAL is checkpointed when the last one closes)."""
        if not self._closed:
            self._engine.dispose()
            self._closed = True

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")

    def _message(self, exc: sa_exc.DBAPIError) -> str:
        """The database's own message, first line only, with any password scrubbed."""
        return self._target.scrub(str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else str(exc))

    # ----------------------------------------------------------------------------------------------------
    # Transactions
    # ----------------------------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A unit of work: all it does commits together, or nothing does if an exception escapes.

        A nested ``write()`` in the same thread joins the outer unit of work.
        """
        self._check_open()
        active: UnitOfWork | None = getattr(self._local, "uow", None)
        if active is not None:
            yield active
            return
        try:
            with self._engine.connect() as conn:
                conn = conn.execution_options(**{engines.WRITE: True})
                with conn.begin():
                    uow = UnitOfWork(conn)
                    self._local.uow = uow
                    try:
                        yield uow
                        repo.refresh_contents(conn, uow.touched)
                    finally:
                        self._local.uow = None
        except sa_exc.IntegrityError as exc:
            raise ValidationError(msg("write"), [Fault(msg("store"), msg("refused by the database: {reason}",
                                                                         reason=self._message(exc)))]) from None
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url} cannot be written: {self._message(exc)}") from None

    def grant_service_role(self, role: str) -> None:
        """Give the database role ``role`` what the web service needs on this PostgreSQL store (``rowscope``); the
        role must exist and should not own the tables. StoreError on SQLite, or when the database refuses."""
        self._check_open()
        if self.backend is not engines.Backend.POSTGRESQL:
            raise StoreError(f"{self.url} is an SQLite store: database roles and row-level security are PostgreSQL's")
        try:
            rowscope.grant_app_role(self._engine, role)
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"cannot grant {role!r} its rights on {self.url}: {self._message(exc)}") from None

    @contextmanager
    def dry_run(self) -> Iterator[UnitOfWork]:
        """A unit of work that is rolled back at its end, whatever it did: what a change would do, not doing it."""
        self._check_open()
        try:
            with self._engine.connect() as conn:
                transaction = conn.begin()
                try:
                    yield UnitOfWork(conn)
                finally:
                    transaction.rollback()
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url} cannot be read: {self._message(exc)}") from None

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A read-only transaction that sees one state of the store throughout (REPEATABLE READ on PostgreSQL)."""
        self._check_open()
        try:
            with self._engine.connect() as conn:
                if self.backend is engines.Backend.POSTGRESQL:
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url} cannot be read: {self._message(exc)}") from None

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        self._check_open()
        active: UnitOfWork | None = getattr(self._local, "uow", None)
        if active is not None:
            yield active.connection
            return
        try:
            with self._engine.connect() as conn, conn.begin():
                yield conn
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url} cannot be read: {self._message(exc)}") from None

    # ----------------------------------------------------------------------------------------------------
    # Writes (each its own unit of work, or part of the open one)
    # ----------------------------------------------------------------------------------------------------

    def add_organisations(self, orgs: Iterable[Organisation], *, replace: bool = False) -> int:
        with self.write() as uow:
            return uow.add_organisations(orgs, replace=replace)

    def add_hazards(self, hazards: Iterable[HazardArea], *, replace: bool = False) -> int:
        with self.write() as uow:
            return uow.add_hazards(hazards, replace=replace)

    def add_assets(self, assets: Iterable[Asset], *, replace: bool = False) -> int:
        with self.write() as uow:
            return uow.add_assets(assets, replace=replace)

    def add_activities(self, activities: Iterable[Activity], *, replace: bool = False) -> int:
        with self.write() as uow:
            return uow.add_activities(activities, replace=replace)

    def add_teams(self, teams: Iterable[DeminerTeam], *, replace: bool = False) -> int:
        with self.write() as uow:
            return uow.add_teams(teams, replace=replace)

    def add_brigades(self, brigades: Iterable[BuilderBrigade], *, replace: bool = False) -> int:
        with self.write() as uow:
            return uow.add_brigades(brigades, replace=replace)

    def add_settlements(self, settlements: Iterable[Settlement]) -> int:
        with self.write() as uow:
            return uow.add_settlements(settlements)

    def add_context_areas(self, layer: str, areas: Iterable[ContextArea]) -> int:
        with self.write() as uow:
            return uow.add_context_areas(layer, areas)

    def set_meta(self, values: Mapping[str, object]) -> None:
        with self.write() as uow:
            uow.set_meta(values)

    def update_hazard(self, hazard_id: str, edit: HazardEdit, *, expected_version: int) -> int:
        """Write ``edit`` to a hazard area still at ``expected_version`` (see :meth:`hazard_version`).

        Returns the new version. ConflictError (nothing written) when someone else changed the area since that
        version was read; NotFoundError when there is no such area; ValidationError for an invalid edit.
        """
        with self.write() as uow:
            return uow.update_hazard(hazard_id, edit, expected_version=expected_version)

    def copy_into(self, target: Store) -> dict[str, int]:
        """Copy this whole store into the new or empty store ``target`` (either backend); rows copied per table.

        One snapshot of this store is read, and everything is written in one transaction on ``target``: all of
        it or nothing. StoreError when ``target`` holds anything, or is this store.
        """
        if target is self or target.url == self.url:
            raise StoreError(f"cannot copy the store {self.url} into itself")
        with self._snapshot() as source, target.write() as uow:
            uow.touched.update(schema.metadata.tables)
            return repo.copy_tables(source, uow.connection)

    def save_plan(self, run: PlanRun) -> int:
        """Save ``run`` with its tasks; returns its id (the latest plan is the one with the highest id)."""
        with self.write() as uow:
            return uow.save_plan(run)

    # ----------------------------------------------------------------------------------------------------
    # Reads
    # ----------------------------------------------------------------------------------------------------

    def organisations(self) -> list[Organisation]:
        with self._reading() as conn:
            return repo.organisations(conn)

    def hazards(self) -> list[HazardArea]:
        with self._reading() as conn:
            return repo.hazards(conn)

    def hazard(self, hazard_id: str) -> HazardArea:
        """One hazard area; NotFoundError when there is none with that id."""
        with self._reading() as conn:
            return repo.hazard(conn, hazard_id)

    def hazard_version(self, hazard_id: str) -> int:
        """The row version of a hazard area (to pass to :meth:`update_hazard`); NotFoundError when there is none."""
        with self._reading() as conn:
            return repo.hazard_version(conn, hazard_id)

    def assets(self) -> list[Asset]:
        with self._reading() as conn:
            return repo.assets(conn)

    def source_attributes(self, layer: str) -> dict[str, dict[str, Any]]:
        """The source attributes of every record of ``layer`` (``hazard_areas`` or ``assets``) that has any, by id:
        the columns of the file it was imported from that sapper does not use."""
        with self._reading() as conn:
            return repo.source_attributes(conn, layer)

    def activities(self, hazard_id: str | None = None) -> list[Activity]:
        with self._reading() as conn:
            return repo.activities(conn, hazard_id)

    def surveys_under_orders(self) -> list[SurveyUnderOrder]:
        """The survey activities (NTS, TS) that name the task order they were done under."""
        with self._reading() as conn:
            return repo.surveys_under_orders(conn)

    def release_events(self, hazard_id: str) -> list[ReleaseEvent]:
        """The land-release history of a hazard area, in sequence (empty when it has none)."""
        with self._reading() as conn:
            return repo.release_events(conn, hazard_id)

    def hazards_with_history(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` whose land-release history has at least one event (read only)."""
        with self._reading() as conn:
            return repo.hazards_with_history(conn, list(ids))

    def qa_visits(self, hazard_id: str | None = None) -> list[QAVisit]:
        """QA visits (of one hazard area's activities, or all), non-conformities at their current status."""
        with self._reading() as conn:
            return repo.qa_visits(conn, hazard_id=hazard_id)

    def hazard_of_activity(self, activity_id: str) -> str:
        with self._reading() as conn:
            return repo.hazard_of_activity(conn, activity_id)

    def hazard_of_non_conformity(self, nc_id: str) -> str:
        with self._reading() as conn:
            return repo.hazard_of_non_conformity(conn, nc_id)

    def teams(self) -> list[DeminerTeam]:
        with self._reading() as conn:
            return repo.teams(conn)

    def brigades(self) -> list[BuilderBrigade]:
        with self._reading() as conn:
            return repo.brigades(conn)

    def settlements(self) -> list[Settlement]:
        with self._reading() as conn:
            return repo.settlements(conn)

    def context_areas(self, layer: str) -> list[ContextArea]:
        with self._reading() as conn:
            return repo.context_areas(conn, layer)

    def meta(self) -> dict[str, str]:
        with self._reading() as conn:
            return repo.meta(conn)

    def save_whatif(self, comparison: SavedWhatIf) -> None:
        """Keep ``comparison`` as the latest what-if comparison (replacing the one before)."""
        self.set_meta({whatifjson.KEY: whatifjson.whatif_to_text(comparison)})

    def latest_whatif(self) -> SavedWhatIf | None:
        """The latest what-if comparison saved (None: none yet)."""
        text = self.meta().get(whatifjson.KEY)
        return whatifjson.whatif_from_text(text) if text else None

    def release_rules(self) -> ReleaseRules:
        """The programme's land-release settings: those stored, the documented defaults for the rest."""
        return mapping.release_rules_from(self.meta())

    def calendar(self) -> ProgrammeCalendar:
        """The programme's working calendar: the week, holidays and stand-downs stored, the defaults for the rest."""
        with self._reading() as conn:
            return mapping.calendar_from(repo.meta(conn), repo.holidays(conn))

    def latest_plan(self) -> PlanRun | None:
        with self._reading() as conn:
            return repo.latest_plan(conn)

    def plan(self, run_id: int) -> PlanRun:
        """One saved plan; NotFoundError when there is none with that id."""
        with self._reading() as conn:
            return repo.plan(conn, run_id)

    def field_submissions(self, state: StagingState | None = None) -> list[StagedSubmission]:
        """Staged versions of field submissions, with their review history (only those in ``state``, if given)."""
        with self._reading() as conn:
            return FieldStaging(conn, set()).submissions(state)

    def field_submission(self, staged_id: int) -> StagedSubmission:
        """One staged version; NotFoundError when there is none with that id."""
        with self._reading() as conn:
            return FieldStaging(conn, set()).get(staged_id)

    def field_progress(self) -> list[ProgressReport]:
        """Progress reported from the field (applied clearance and brigade submissions), by work date."""
        with self._reading() as conn:
            return FieldStaging(conn, set()).progress()

    def task_orders(self, *, unit_ids: Iterable[str] | None = None, states: Iterable[OrderState] | None = None,
                    numbers: Iterable[str] | None = None) -> list[TaskOrder]:
        """Task orders with their lots and history, in the order issued (filtered as ``TaskOrders.select``)."""
        with self._reading() as conn:
            return TaskOrders(conn, set()).select(unit_ids=unit_ids, states=states, numbers=numbers)

    def counts(self) -> dict[str, int]:
        """Rows per table, by table name."""
        with self._reading() as conn:
            return repo.counts(conn)

    def bbox_search(self, layer: str, minx: float, miny: float, maxx: float, maxy: float) -> list[str]:
        """Ids (sorted) of ``layer``'s records whose envelope meets the box (WGS84), through the R-tree."""
        with self._reading() as conn:
            return repo.bbox_search(conn, layer, minx, miny, maxx, maxy)

    def bbox_features(
        self, layer: str, minx: float, miny: float, maxx: float, maxy: float, *, limit: int | None = None
    ) -> list[LayerFeature]:
        """Id, geometry and version of ``layer``'s records whose envelope meets the box (WGS84), by id.

        What a map page needs, through the spatial index (R-tree or GiST); at most ``limit`` features.
        """
        with self._reading() as conn:
            return repo.bbox_features(conn, layer, minx, miny, maxx, maxy, limit=limit)

    def features(self, query: feats.FeatureQuery) -> feats.FeaturePage:
        """One page of a collection's features (OGC API – Features), filtered and counted in SQL."""
        if (self.backend is engines.Backend.POSTGRESQL and feats.pipelined(query)
                and getattr(self._local, "uow", None) is None):
            return self._features_pipelined(query)
        with self._reading() as conn:
            return feats.features(conn, query)

    def _features_pipelined(self, query: feats.FeatureQuery) -> feats.FeaturePage:
        """``features`` on PostgreSQL in one round trip (``features.features_pipelined``) on a pooled connection."""
        self._check_open()
        dialect = self._engine.dialect
        dbapi: Any = dialect.loaded_dbapi
        try:
            raw = self._engine.raw_connection()
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url} cannot be read: {self._message(exc)}") from None
        driver = raw.driver_connection
        try:
            return feats.features_pipelined(driver, dialect, query, rowscope.begin_statement())
        except dbapi.Error as exc:
            if dialect.is_disconnect(exc, driver, None):
                raw.invalidate(exc)  # a server restarted under a pooled connection: the pool opens a new one
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"the store {self.url} cannot be read: {self._target.scrub(first)}") from None
        finally:
            raw.close()  # back to the pool (which rolls back whatever an error left open)

    def feature(self, layer: str, feature_id: str, *, scope: str | None = None) -> feats.FeatureRow:
        """One feature of a collection; NotFoundError when there is none (or another organisation owns it)."""
        with self._reading() as conn:
            return feats.feature(conn, layer, feature_id, scope=scope)

    def latest_plan_tasks(self, *, hazard_id: str | None = None, asset_id: str | None = None) -> list[PlannedTask]:
        """The latest plan's tasks on one hazard area or asset (empty without a plan), by start date."""
        with self._reading() as conn:
            return feats.latest_plan_tasks(conn, hazard_id=hazard_id, asset_id=asset_id)

    def user_credentials(self, name: str) -> tuple[Principal, str] | None:
        """The active user ``name`` and their argon2 hash, or None."""
        with self._reading() as conn:
            return accounts.user_credentials(conn, name)

    def token_principal(self, token_hash: str) -> Principal | None:
        """The user a live API token (its SHA-256) belongs to, or None."""
        with self._reading() as conn:
            return accounts.token_principal(conn, token_hash)

    def token_grant(self, token_hash: str) -> tuple[Principal, dt.datetime, str] | None:
        """The user a live API token belongs to, when the token expires, and the credentials epoch read before
        them in the same transaction (so a revocation committed in between shows as a new epoch), or None."""
        with self._reading() as conn:
            epoch = accounts.auth_epoch(conn)
            found = accounts.token_grant(conn, token_hash)
        return None if found is None else (found[0], found[1], epoch)

    def auth_epoch(self) -> str:
        """The credentials epoch: it changes with every revocation, password change or authority change."""
        self._check_open()
        if getattr(self._local, "uow", None) is not None:
            with self._reading() as conn:
                return accounts.auth_epoch(conn)
        try:
            with self._engine.connect() as conn:
                return accounts.auth_epoch_now(conn)
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url} cannot be read: {self._message(exc)}") from None

    def session_principal(self, session_hash: str) -> tuple[Principal, str] | None:
        """The user and CSRF token of a live browser session (its SHA-256), or None."""
        with self._reading() as conn:
            return accounts.session_principal(conn, session_hash)

    def audit_entries(self, *, table_name: str | None = None, record_id: str | None = None,
                      limit: int = 100) -> list[AuditEntry]:
        """Audit rows, newest first (of one table and record, if given)."""
        with self._reading() as conn:
            return accounts.audit_entries(conn, table_name=table_name, record_id=record_id, limit=limit)

    def accidents(self, *, scope: str | None = None) -> list[Accident]:
        """Accidents (no victim data), of organisation ``scope`` only when given."""
        with self._reading() as conn:
            return accident_rows.accidents(conn, scope=scope)

    def versioned_accidents(self, *, scope: str | None = None) -> list[tuple[Accident, int]]:
        """Accidents (no victim data) each with its row version, read together (of ``scope`` only when given)."""
        with self._reading() as conn:
            return accident_rows.versioned_accidents(conn, scope=scope)

    def victim_key_ids(self) -> dict[str, int]:
        """How many victims each data key id encrypted."""
        with self._reading() as conn:
            return accident_rows.victim_key_ids(conn)

    def revision(self) -> str | None:
        """The schema revision of the file (Alembic)."""
        with self._reading() as conn:
            return engines.current_revision(conn)


def open_store(target: str | Path, *, create: bool = False) -> Store:
    """Open the store ``target`` (a file path, or a ``postgresql://`` URL), upgrading an older schema.

    With ``create``, make it when it does not exist (a new file; on PostgreSQL a new database, or sapper's schema
    in an empty one). Raises NotFoundError for a missing file or database (without ``create``) and StoreError for
    one that is not a sapper store (it is not changed) or was made by a newer sapper.
    """
    found = engines.parse_target(target)
    if found.backend is engines.Backend.POSTGRESQL:
        return _open_database(found, create=create)
    assert found.path is not None
    return _open_file(found, found.path, create=create)


def _check_probe(found: engines.Probe, where: str, *, create: bool) -> None:
    if found.kind == "foreign":
        raise StoreError(msg("{where} is not a sapper store: {reason}", where=where, reason=found.reason))
    if found.kind == "empty" and not create:
        raise StoreError(f"{where} is not a sapper store: {found.reason} (open it with create=True to make one)")
    if found.kind == "sapper" and found.revision is not None and found.revision not in engines.known_revisions():
        raise StoreError(msg("{where} was made by a newer sapper (schema revision {revision}); upgrade sapper",
                               where=where, revision=found.revision))


def _open_database(target: engines.Target, *, create: bool) -> Store:
    assert target.url is not None
    engine = engines.make_engine(target)
    try:
        try:
            found = engines.probe_database(engine, target.display)
        except sa_exc.OperationalError as exc:
            message = target.scrub(str(exc.orig))
            if f'database "{target.url.database}" does not exist' not in message:
                raise StoreError(f"the store {target.display} cannot be opened: {message.strip().splitlines()[0]}") \
                    from None
            if not create:
                raise NotFoundError(msg("no store at {url}: the database does not exist (create one with `sapper init "
                                        "--db URL`)", url=target.display)) from None
            engine.dispose()
            try:
                engines.create_database(target.url)
            except sa_exc.DBAPIError as err:
                line = target.scrub(str(err.orig)).strip().splitlines()[0]
                raise StoreError(f"cannot create the store {target.display}: {line}") from None
            found = engines.probe_database(engine, target.display)
        _check_probe(found, target.display, create=create)
        engines.upgrade(engine)
    except sa_exc.DBAPIError as exc:
        engine.dispose()
        line = target.scrub(str(exc.orig)).strip().splitlines()[0]
        raise StoreError(f"the store {target.display} cannot be opened: {line}") from None
    except BaseException:
        engine.dispose()
        raise
    return Store(target, engine)


def _open_file(target: engines.Target, p: Path, *, create: bool) -> Store:
    created = False
    if not p.exists():
        if not create:
            raise NotFoundError(msg("no store at {path} (create one with `sapper init --db {path}`)", path=p))
        if not p.parent.is_dir():
            raise NotFoundError(msg("cannot create a store at {path}: the folder {folder} does not exist", path=p,
                                      folder=p.parent))
        created = True
    elif p.is_dir():
        raise StoreError(f"{p} is a folder, not a store file")
    else:
        _check_probe(engines.probe(p), str(p), create=create)
    engine = engines.make_engine(target)
    try:
        engines.upgrade(engine)
    except Exception as exc:
        engine.dispose()
        if created:
            for leftover in (p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, sa_exc.OperationalError):
            raise StoreError(f"the store {p} cannot be opened: {exc.orig}") from exc
        raise
    return Store(target, engine)
