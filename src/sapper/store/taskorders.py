"""The SQL of task orders: orders, the plan lots each holds, and their state history (revision 0009).

Used through ``UnitOfWork.task_orders`` (writes and reads inside one transaction) and ``Store.task_orders`` (reads).
An order's number is the next free one of its year, taken inside the writing transaction (``BEGIN IMMEDIATE`` on
SQLite; on PostgreSQL the unique number refuses a concurrent duplicate, and the write is refused whole).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from shapely.geometry import Point
from sqlalchemy import Row, select, update
from sqlalchemy.engine import Connection

from sapper.domain.taskorders import (
    OrderEvent,
    OrderLot,
    OrderState,
    SiteKind,
    TaskOrder,
    UnitRole,
    check_transition,
    number_seq,
    order_number,
)
from sapper.errors import Fault, NotFoundError, ValidationError
from sapper.messages import msg
from sapper.store import schema

_O = schema.task_orders
_L = schema.task_order_lots
_E = schema.task_order_events

TABLES = ("task_orders", "task_order_lots", "task_order_events")


def _chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class TaskOrders:
    """Task orders on the connection of one unit of work (or a read); ``touched`` collects the tables written."""

    def __init__(self, conn: Connection, touched: set[str]) -> None:
        self._conn = conn
        self._touched = touched

    # Reads ------------------------------------------------------------------------------------------

    def _orders(self, rows: Sequence[Row[Any]]) -> list[TaskOrder]:
        ids = [int(r.id) for r in rows]
        lots: dict[int, list[OrderLot]] = {}
        events: dict[int, list[OrderEvent]] = {}
        for chunk in _chunks(ids):
            for r in self._conn.execute(select(_L).where(_L.c.order_id.in_(chunk)).order_by(_L.c.id)):
                lots.setdefault(int(r.order_id), []).append(OrderLot(
                    r.task_id, r.kind, r.method, r.start_date, r.end_date, float(r.work), r.work_unit))
            for r in self._conn.execute(select(_E).where(_E.c.order_id.in_(chunk)).order_by(_E.c.id)):
                events.setdefault(int(r.order_id), []).append(OrderEvent(
                    OrderState(r.from_state) if r.from_state else None, OrderState(r.to_state), r.actor, r.at,
                    r.reason))
        return [TaskOrder(
            number=r.number, unit_id=r.unit_id, unit_role=UnitRole(r.unit_role), organisation_id=r.organisation_id,
            site_kind=SiteKind(r.site_kind), site_id=r.site_id, plan_run_id=int(r.plan_run_id),
            period_start=r.period_start, period_end=r.period_end, state=OrderState(r.state), issued_at=r.issued_at,
            lots=tuple(lots.get(int(r.id), ())), access_point=Point(float(r.access_lon), float(r.access_lat)),
            access_note=r.access_note, forms=tuple(f for f in r.forms.split(",") if f),
            history=tuple(events.get(int(r.id), ())), id=int(r.id)) for r in rows]

    def select(self, *, unit_ids: Iterable[str] | None = None, states: Iterable[OrderState] | None = None,
             numbers: Iterable[str] | None = None) -> list[TaskOrder]:
        """Orders in the order they were issued (only those of ``unit_ids``, in ``states``, named ``numbers``)."""
        where: list[Any] = []
        if states is not None:
            where.append(_O.c.state.in_([s.value for s in states]))
        rows: list[Row[Any]] = []
        filters = [(_O.c.unit_id, sorted(set(unit_ids)))] if unit_ids is not None else []
        filters += [(_O.c.number, sorted(set(numbers)))] if numbers is not None else []
        if not filters:
            rows = list(self._conn.execute(select(_O).where(*where).order_by(_O.c.id)))
        else:
            column, values = filters[0]
            for chunk in _chunks(values):
                rows += self._conn.execute(select(_O).where(column.in_(chunk), *where))
            if len(filters) > 1:
                keep = set(filters[1][1])
                rows = [r for r in rows if r.number in keep]
            rows.sort(key=lambda r: int(r.id))
        return self._orders(rows)

    def get(self, number: str) -> TaskOrder:
        """One order by its number; NotFoundError when there is none."""
        found = self.select(numbers=[number])
        if not found:
            raise NotFoundError(f"task order {number} is not in the store")
        return found[0]

    def numbers(self) -> list[str]:
        return [str(n) for n in self._conn.execute(select(_O.c.number).order_by(_O.c.id)).scalars()]

    # Writes -----------------------------------------------------------------------------------------

    def _next_seq(self, year: int) -> int:
        prefix = f"TO-{year:04d}-"
        numbers = self._conn.execute(select(_O.c.number).where(_O.c.number.like(prefix + "%"))).scalars()
        return max((number_seq(str(n), year) for n in numbers), default=0) + 1

    def issue(self, orders: Sequence[TaskOrder], *, actor: str, at: dt.datetime, reason: str = "") -> list[TaskOrder]:
        """Store new orders (their ``number`` and ``state`` are ignored: each gets the next number of ``at``'s year
        and starts issued, with an event saying who issued it); return them as stored."""
        if not orders:
            return []
        if not actor.strip():
            raise ValidationError(msg("task orders"), [Fault(msg("task orders"),
                                                             msg("who issues them (the actor) is empty"),
                                                        "actor")])
        seq = self._next_seq(at.year)
        numbers = []
        for order in orders:
            number = order_number(at.year, seq)
            seq += 1
            order_id = int(self._conn.execute(_O.insert().values(
                number=number, unit_id=order.unit_id, unit_role=order.unit_role.value,
                organisation_id=order.organisation_id, site_kind=order.site_kind.value, site_id=order.site_id,
                plan_run_id=order.plan_run_id, period_start=order.period_start, period_end=order.period_end,
                state=OrderState.ISSUED.value, issued_at=at, access_lon=float(order.access_point.x),
                access_lat=float(order.access_point.y), access_note=order.access_note, forms=",".join(order.forms),
            )).inserted_primary_key[0])  # type: ignore[index]
            self._conn.execute(_L.insert(), [
                {"order_id": order_id, "task_id": lot.task_id, "kind": lot.kind, "method": lot.method,
                 "start_date": lot.start, "end_date": lot.end, "work": lot.work, "work_unit": lot.work_unit}
                for lot in order.lots])
            self._conn.execute(_E.insert().values(
                order_id=order_id, from_state=None, to_state=OrderState.ISSUED.value, actor=actor.strip(), at=at,
                reason=reason.strip() or f"issued from plan run {order.plan_run_id}"))
            numbers.append(number)
        self._touched.update(TABLES)
        by_number = {o.number: o for o in self.select(numbers=numbers)}
        return [by_number[n] for n in numbers]

    def transition(self, numbers: Sequence[str], to_state: OrderState, *, actor: str, reason: str,
                   at: dt.datetime) -> list[TaskOrder]:
        """Move the orders ``numbers`` to ``to_state``, in the order given. All are checked before anything is
        written: the first unknown number (NotFoundError) or refused change (TransitionError, ValidationError)
        stops it with nothing written."""
        wanted = list(dict.fromkeys(numbers))
        found = {o.number: o for o in self.select(numbers=wanted)}
        for number in wanted:
            order = found.get(number)
            if order is None:
                raise NotFoundError(f"task order {number} is not in the store")
            check_transition(number, order.state, to_state, actor=actor, reason=reason)
        for number in wanted:
            order = found[number]
            assert order.id is not None
            self._conn.execute(update(_O).where(_O.c.id == order.id).values(state=to_state.value))
            self._conn.execute(_E.insert().values(order_id=order.id, from_state=order.state.value,
                                                  to_state=to_state.value, actor=actor.strip(), at=at,
                                                  reason=reason.strip()))
        if wanted:
            self._touched.update(("task_orders", "task_order_events"))
        after = {o.number: o for o in self.select(numbers=wanted)}
        return [after[n] for n in wanted]
