"""Land release a national authority would certify: inspection, acceptance, reopening, extension, depth, marking.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Column types are frozen here (not imported from ``schema.py``; the backend's types come from ``store/ddl.py``, frozen
too) so this migration keeps meaning what it meant. It runs on SQLite/GeoPackage and on PostgreSQL/PostGIS: there
``hazard_points.geom`` is ``geometry(POINT, 4326)`` with a GiST index.

``land_release_events`` takes four new kinds (``inspected``, ``accepted``, ``reopened``, ``extended``) and the
columns they need: the inspection (id, date, inspector, sample size and plan, result, finding, devices in the
sample), the area reopened or added to the perimeter (``area_wkb``: WGS84 WKB as hex text, portable to any
backend), the residual-risk statement, the accepting authority, the areas extended and reopened, and ``legacy``.
Every event already in the store is marked ``legacy`` (recorded under the rules before this revision): replay
applies those rules to it, so an area an activity released stays released, its acceptance implied and recorded as
such. ``devices_found`` gains quantity, fuze, disposal and its date; ``activities`` the direct evidence an activity
reported (an NTS "confirm"); ``hazard_areas`` a per-area clearance depth and
the marking status; the new point layer ``hazard_points`` holds each area's benchmark and turning points.

Direct evidence makes a CHA (IMAS 08.10): an open SHA whose register says direct evidence becomes a CHA, with a
legacy ``reclassified`` event appended when it has a land-release history; a released or handed-over one keeps its
class (its history says what happened) and is recorded as indirect evidence, the only consistent reading.

SQLite cannot change a CHECK constraint in place: there the events table is rebuilt (copy, drop, rename, with its
index and append-only triggers made again); PostgreSQL alters it, and marks the old events ``legacy`` with its
append-only trigger disabled for that one UPDATE (inside the migration's transaction). Downgrading is refused
while any event was recorded under this revision's rules: the older rules would read it differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_OLD_KINDS = ("recorded", "activity", "reclassified", "released", "handed_over", "qa_visit", "non_conformity")
_KINDS = (*_OLD_KINDS, "inspected", "accepted", "reopened", "extended")

_BASE_COLUMNS = ("id", "hazard_id", "seq", "kind", "occurred_at", "actor", "reason", "from_state", "to_state",
                 "cancelled_m2", "reduced_m2", "cleared_m2", "clipped_m2", "remaining_m2", "activity_id",
                 "visit_id", "non_conformity_id", "nc_status", "evidence", "recipient")


def _new_event_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("inspection_id", sa.Text, nullable=True),
        sa.Column("inspected_on", sa.Date, nullable=True),
        sa.Column("inspector", sa.Text, nullable=False, server_default=""),
        sa.Column("sample_m2", ddl.real(), nullable=True),
        sa.Column("sampling_plan", sa.Text, nullable=False, server_default=""),
        sa.Column("passed", sa.Integer, nullable=True),
        sa.Column("finding", sa.Text, nullable=False, server_default=""),
        sa.Column("devices_in_sample", sa.Integer, nullable=False, server_default="0"),
        sa.Column("area_wkb", sa.Text, nullable=True),
        sa.Column("residual_risk", sa.Text, nullable=False, server_default=""),
        sa.Column("authority", sa.Text, nullable=False, server_default=""),
        sa.Column("extended_m2", ddl.real(), nullable=False, server_default="0"),
        sa.Column("reopened_m2", ddl.real(), nullable=False, server_default="0"),
        sa.Column("legacy", sa.Integer, nullable=False, server_default="0"),
    ]


def _events_table(name: str, kinds: Sequence[str], *, extra: bool) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hazard_id", sa.Text, sa.ForeignKey("hazard_areas.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("occurred_at", ddl.datetime(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("from_state", sa.Text, nullable=True),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("cancelled_m2", ddl.real(), nullable=False, server_default="0"),
        sa.Column("reduced_m2", ddl.real(), nullable=False, server_default="0"),
        sa.Column("cleared_m2", ddl.real(), nullable=False, server_default="0"),
        sa.Column("clipped_m2", ddl.real(), nullable=False, server_default="0"),
        sa.Column("remaining_m2", ddl.real(), nullable=False),
        sa.Column("activity_id", sa.Text, sa.ForeignKey("activities.id"), nullable=True),
        sa.Column("visit_id", sa.Text, sa.ForeignKey("qa_visits.id"), nullable=True),
        sa.Column("non_conformity_id", sa.Text, sa.ForeignKey("non_conformities.id"), nullable=True),
        sa.Column("nc_status", sa.Text, nullable=True),
        sa.Column("evidence", sa.Text, nullable=False, server_default=""),
        sa.Column("recipient", sa.Text, nullable=False, server_default=""),
        *(_new_event_columns() if extra else []),
        # named as the table they become (SQLite keeps constraint names per table)
        sa.UniqueConstraint("hazard_id", "seq", name="uq_land_release_events_hazard_seq"),
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")", name="ck_land_release_events_kind"),
        sa.CheckConstraint("trim(actor) <> '' AND trim(reason) <> ''", name="ck_land_release_events_who_why"),
        sqlite_autoincrement=True,
    )


def _refuse(name: str, when: str, message: str, condition: str = "") -> str:
    where = f" WHEN {condition}" if condition else ""
    return (f"CREATE TRIGGER {name} BEFORE {when} ON land_release_events{where}\nBEGIN\n"
            f"  SELECT RAISE(ABORT, '{message}');\nEND")


#: The append-only triggers of ``land_release_events`` (as revision 0002 made them), made again after a rebuild.
_EVENT_TRIGGERS = (
    _refuse("land_release_events_no_update", "UPDATE",
            "land_release_events is append-only: an event cannot be changed"),
    _refuse("land_release_events_no_delete", "DELETE",
            "land_release_events is append-only: an event cannot be deleted"),
    _refuse("land_release_events_in_sequence", "INSERT",
            "land-release events of a hazard area are appended in sequence: seq must be the last seq + 1",
            "NEW.seq IS NOT (SELECT coalesce(max(e.seq), 0) + 1 FROM land_release_events AS e "
            "WHERE e.hazard_id = NEW.hazard_id)"),
)


def _rebuild_sqlite(kinds: Sequence[str], *, extra: bool, copy: Sequence[str], values: Sequence[str]) -> None:
    """Rebuild ``land_release_events`` with ``kinds`` (and the new columns when ``extra``), copying its rows."""
    _events_table("land_release_events_rebuilt", kinds, extra=extra)
    op.execute(f"INSERT INTO land_release_events_rebuilt ({', '.join(copy)}) "
               f"SELECT {', '.join(values)} FROM land_release_events ORDER BY id")
    op.execute("DROP TABLE land_release_events")  # its own triggers and index go with it
    op.execute("PRAGMA legacy_alter_table = ON")  # other tables' triggers name the table: leave them as they are
    op.execute("ALTER TABLE land_release_events_rebuilt RENAME TO land_release_events")
    op.execute("PRAGMA legacy_alter_table = OFF")
    op.create_index("ix_land_release_events_activity_id", "land_release_events", ["activity_id"])
    for stmt in _EVENT_TRIGGERS:
        op.execute(stmt)


_RECLASSIFY_WITH_HISTORY = """
INSERT INTO land_release_events (hazard_id, seq, kind, occurred_at, actor, reason, from_state, to_state,
                                 remaining_m2, evidence, legacy)
SELECT h.id, e.seq + 1, 'reclassified', e.occurred_at, 'sapper migration 0005',
       'direct evidence makes a CHA (IMAS 08.10): the register recorded direct evidence for this SHA',
       'suspected', 'confirmed', e.remaining_m2, 'direct evidence recorded in the register', 1
FROM hazard_areas AS h JOIN land_release_events AS e ON e.hazard_id = h.id
WHERE h.hazard_class = 'SHA' AND h.evidence = 'direct' AND h.status = 'open'
  AND e.seq = (SELECT max(x.seq) FROM land_release_events AS x WHERE x.hazard_id = h.id)
  AND e.to_state = 'suspected'
"""


def _direct_evidence_makes_a_cha() -> None:
    op.execute(_RECLASSIFY_WITH_HISTORY)
    op.execute("UPDATE hazard_areas SET hazard_class = 'CHA', version = version + 1 WHERE hazard_class = 'SHA' "
               "AND evidence = 'direct' AND status = 'open'")
    op.execute("UPDATE hazard_areas SET evidence = 'indirect', version = version + 1 WHERE hazard_class = 'SHA' "
               "AND evidence = 'direct'")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _rebuild_sqlite(_KINDS, extra=True, copy=(*_BASE_COLUMNS, "legacy"), values=(*_BASE_COLUMNS, "1"))
    else:
        op.drop_constraint("ck_land_release_events_kind", "land_release_events", type_="check")
        op.create_check_constraint("ck_land_release_events_kind", "land_release_events",
                                   "kind IN (" + ", ".join(f"'{k}'" for k in _KINDS) + ")")
        for column in _new_event_columns():
            op.add_column("land_release_events", column)
        # the append-only trigger (revision 0002) refuses every UPDATE: off for this one, in this transaction
        op.execute("ALTER TABLE land_release_events DISABLE TRIGGER land_release_events_no_update")
        op.execute("UPDATE land_release_events SET legacy = 1")
        op.execute("ALTER TABLE land_release_events ENABLE TRIGGER land_release_events_no_update")
    with op.batch_alter_table("devices_found") as batch:
        batch.add_column(sa.Column("quantity", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("fuze", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("disposal", sa.Text, nullable=True))
        batch.add_column(sa.Column("disposal_date", sa.Date, nullable=True))
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("direct_evidence", sa.Text, nullable=False, server_default=""))
    with op.batch_alter_table("hazard_areas") as batch:
        batch.add_column(sa.Column("clearance_depth_cm", ddl.real(), nullable=True))
        batch.add_column(sa.Column("marking", sa.Text, nullable=False, server_default="unknown"))
    op.create_table(
        "hazard_points",
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("geom", ddl.geom("POINT"), nullable=False),
        sa.Column("hazard_id", sa.Text, sa.ForeignKey("hazard_areas.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.CheckConstraint("kind IN ('benchmark', 'turning_point')", name="ck_hazard_points_kind"),
        sa.UniqueConstraint("hazard_id", "kind", "ordinal", name="uq_hazard_points_hazard_kind_ordinal"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hazard_points_hazard_id", "hazard_points", ["hazard_id"])
    if not sqlite:
        op.execute(ddl.gist_index("hazard_points"))
    if sqlite:
        for stmt in gpkg.register_features_ddl(
                "hazard_points", geometry_type="POINT",
                description="Benchmark (a fixed point outside the area) and turning points of hazard areas"):
            op.execute(stmt)
    _direct_evidence_makes_a_cha()


#: Events the rules before 0005 would read differently: the new kinds, and activities recorded under 0005 that left
#: nothing within the old tolerance (0.1 % of the area, at least 1 m²) — the old rules released in that event.
_MISREAD = (
    "SELECT count(*) FROM land_release_events AS e WHERE e.kind IN ('inspected', 'accepted', 'reopened', "
    "'extended') OR (e.legacy = 0 AND e.kind = 'activity' AND (e.remaining_m2 <= 1.0 OR e.remaining_m2 <= 0.001 * "
    "(SELECT r.remaining_m2 FROM land_release_events AS r WHERE r.hazard_id = e.hazard_id AND r.seq = 1)))"
)


def downgrade() -> None:
    bind = op.get_bind()
    newer = bind.execute(sa.text(_MISREAD)).scalar_one()
    if newer:
        raise RuntimeError(f"cannot downgrade below revision 0005: {newer} land-release event(s) recorded under "
                           "its rules (inspection, acceptance, reopening, extension, or an activity that left "
                           "nothing and did not release) would be misread by the older rules")
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        for stmt in gpkg.unregister_ddl("hazard_points", spatial_index=True):
            op.execute(stmt)
    op.drop_table("hazard_points")
    for table, columns in (("hazard_areas", ("marking", "clearance_depth_cm")),
                           ("devices_found", ("disposal_date", "disposal", "fuze", "quantity")),
                           ("activities", ("direct_evidence",))):
        for column in columns:  # SQLite ≥ 3.35 drops a column in place: no rebuild, the layer's triggers stay
            op.drop_column(table, column)
    if sqlite:
        _rebuild_sqlite(_OLD_KINDS, extra=False, copy=_BASE_COLUMNS, values=_BASE_COLUMNS)
    else:
        for column in reversed(_new_event_columns()):
            op.drop_column("land_release_events", column.name)
        op.drop_constraint("ck_land_release_events_kind", "land_release_events", type_="check")
        op.create_check_constraint("ck_land_release_events_kind", "land_release_events",
                                   "kind IN (" + ", ".join(f"'{k}'" for k in _OLD_KINDS) + ")")
