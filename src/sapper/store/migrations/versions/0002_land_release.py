"""Land-release history (IMAS 07.11 transitions, QA visits, non-conformities).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Column types are frozen here (not imported from ``schema.py``) so this migration keeps meaning what it meant.
On PostgreSQL the same rules are PL/pgSQL trigger functions raising a check violation with the same message.

``land_release_events`` and ``qa_visits`` are audit tables: triggers refuse every UPDATE and DELETE, and events of a
hazard area are appended in sequence (1, 2, 3, … without gaps). Of a non-conformity only the status may change, and
only along open → corrected → closed (or corrected → open). An activity that is in a land-release history, its
outcome polygons and its devices found cannot be changed or deleted, and neither can the perimeter of a hazard area
that has a history: the history would no longer say what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

from sapper.store import ddl, gpkg

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_ATTRIBUTES: dict[str, str] = {
    "qa_visits": "Quality-assurance visits on activities (IMAS 07.12)",
    "non_conformities": "Non-conformities found by QA visits, with their current status",
    "land_release_events": "Land-release history of hazard areas (IMAS 07.11): append-only",
}

_KINDS = ("recorded", "activity", "reclassified", "released", "handed_over", "qa_visit", "non_conformity")


class _Trigger(NamedTuple):
    name: str
    when: str
    table: str
    message: str
    condition: str = ""

    def ddl(self) -> list[str]:
        """The trigger on the backend in use (on PostgreSQL a trigger function; ``IS NOT`` is SQLite's)."""
        if not ddl.is_sqlite():
            condition = self.condition.replace(" IS NOT ", " IS DISTINCT FROM ")
            return ddl.pg_refuse(self.name, self.when, self.table, self.message, condition)
        where = f" WHEN {self.condition}" if self.condition else ""
        return [f"CREATE TRIGGER {self.name} BEFORE {self.when} ON {self.table}{where}\nBEGIN\n"
                f"  SELECT RAISE(ABORT, '{self.message}');\nEND"]


_refuse = _Trigger


_IN_HISTORY = "EXISTS (SELECT 1 FROM land_release_events AS e WHERE e.activity_id = OLD.{key})"

#: Triggers on sapper's older tables (dropped explicitly on downgrade; the new tables take theirs with them).
_GUARDS: dict[str, _Trigger] = {
    "activities_in_history_no_update": _refuse(
        "activities_in_history_no_update", "UPDATE", "activities",
        "activity is in a land-release history and cannot be changed", _IN_HISTORY.format(key="id")),
    "land_release_outcomes_in_history_no_update": _refuse(
        "land_release_outcomes_in_history_no_update", "UPDATE", "land_release_outcomes",
        "outcome of an activity in a land-release history cannot be changed", _IN_HISTORY.format(key="activity_id")),
    "land_release_outcomes_in_history_no_delete": _refuse(
        "land_release_outcomes_in_history_no_delete", "DELETE", "land_release_outcomes",
        "outcome of an activity in a land-release history cannot be deleted", _IN_HISTORY.format(key="activity_id")),
    "devices_found_in_history_no_update": _refuse(
        "devices_found_in_history_no_update", "UPDATE", "devices_found",
        "device found by an activity in a land-release history cannot be changed",
        _IN_HISTORY.format(key="activity_id")),
    "devices_found_in_history_no_delete": _refuse(
        "devices_found_in_history_no_delete", "DELETE", "devices_found",
        "device found by an activity in a land-release history cannot be deleted",
        _IN_HISTORY.format(key="activity_id")),
    "hazard_areas_in_history_keep_perimeter": _refuse(
        "hazard_areas_in_history_keep_perimeter", "UPDATE OF geom", "hazard_areas",
        "the perimeter of a hazard area with a land-release history cannot change",
        "NEW.geom IS NOT OLD.geom AND EXISTS (SELECT 1 FROM land_release_events AS e WHERE e.hazard_id = OLD.id)"),
}

_OWN_TRIGGERS: tuple[_Trigger, ...] = (
    _refuse("land_release_events_no_update", "UPDATE", "land_release_events",
            "land_release_events is append-only: an event cannot be changed"),
    _refuse("land_release_events_no_delete", "DELETE", "land_release_events",
            "land_release_events is append-only: an event cannot be deleted"),
    _refuse("land_release_events_in_sequence", "INSERT", "land_release_events",
            "land-release events of a hazard area are appended in sequence: seq must be the last seq + 1",
            "NEW.seq IS NOT (SELECT coalesce(max(e.seq), 0) + 1 FROM land_release_events AS e "
            "WHERE e.hazard_id = NEW.hazard_id)"),
    _refuse("qa_visits_no_update", "UPDATE", "qa_visits", "qa_visits is append-only: a visit cannot be changed"),
    _refuse("qa_visits_no_delete", "DELETE", "qa_visits", "qa_visits is append-only: a visit cannot be deleted"),
    _refuse("non_conformities_no_delete", "DELETE", "non_conformities", "a non-conformity cannot be deleted"),
    _refuse("non_conformities_only_status", "UPDATE", "non_conformities",
            "only the status of a non-conformity can change",
            "NEW.id IS NOT OLD.id OR NEW.visit_id IS NOT OLD.visit_id OR NEW.severity IS NOT OLD.severity "
            "OR NEW.description IS NOT OLD.description"),
    _refuse("non_conformities_status_order", "UPDATE OF status", "non_conformities",
            "a non-conformity goes open to corrected to closed (or corrected back to open)",
            "NEW.status IS NOT OLD.status AND NOT ((OLD.status = 'open' AND NEW.status = 'corrected') "
            "OR (OLD.status = 'corrected' AND NEW.status IN ('closed', 'open')))"),
)


def _create_tables() -> None:
    op.create_table(
        "qa_visits",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("activity_id", sa.Text, sa.ForeignKey("activities.id"), nullable=False),
        sa.Column("visit_date", sa.Date, nullable=False),
        sa.Column("inspecting_organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("inspected_organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_qa_visits_activity_id", "qa_visits", ["activity_id"])
    op.create_table(
        "non_conformities",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("visit_id", sa.Text, sa.ForeignKey("qa_visits.id"), nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.CheckConstraint("severity IN ('minor', 'major', 'critical')", name="ck_non_conformities_severity"),
        sa.CheckConstraint("status IN ('open', 'corrected', 'closed')", name="ck_non_conformities_status"),
    )
    op.create_index("ix_non_conformities_visit_id", "non_conformities", ["visit_id"])
    op.create_table(
        "land_release_events",
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
        sa.UniqueConstraint("hazard_id", "seq", name="uq_land_release_events_hazard_seq"),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in _KINDS) + ")", name="ck_land_release_events_kind"
        ),
        sa.CheckConstraint("trim(actor) <> '' AND trim(reason) <> ''", name="ck_land_release_events_who_why"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_land_release_events_activity_id", "land_release_events", ["activity_id"])


def upgrade() -> None:
    _create_tables()
    for table, description in _ATTRIBUTES.items() if ddl.is_sqlite() else ():
        for stmt in gpkg.register_attributes_ddl(table, description=description):
            op.execute(stmt)
    for trigger in (*_OWN_TRIGGERS, *_GUARDS.values()):
        for stmt in trigger.ddl():
            op.execute(stmt)


def downgrade() -> None:
    sqlite = ddl.is_sqlite()
    for name, trigger in _GUARDS.items():
        for stmt in [f"DROP TRIGGER IF EXISTS {name}"] if sqlite else ddl.pg_drop_refuse(name, trigger.table):
            op.execute(stmt)
    for table in _ATTRIBUTES if sqlite else ():
        for stmt in gpkg.unregister_ddl(table):
            op.execute(stmt)
    for table in ("land_release_events", "non_conformities", "qa_visits"):
        op.drop_table(table)
    for trigger in _OWN_TRIGGERS if not sqlite else ():
        op.execute(f"DROP FUNCTION IF EXISTS {trigger.name}_fn()")
