"""Task orders: issued from a saved plan per unit and site, numbered per year, never issued twice for the same lots;
state changes legal and illegal; the register's facts around a site (access point, nearest road, settlement and
clinic, assets waiting); which orders a later plan changes; on SQLite and PostGIS."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass
from sapper.domain.places import Settlement
from sapper.domain.pricing import Family, ReleaseActivity
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.domain.taskorders import OrderState, SiteKind
from sapper.errors import NotFoundError, TransitionError, ValidationError
from sapper.io.pricing import load_pricing
from sapper.io.taskorders import csv_rows
from sapper.scenario.compile import TaskKind
from sapper.services.taskorders import (
    LotChangeKind,
    OrderRequest,
    change_state,
    issue_orders,
    orders_affected,
)
from sapper.store import Store, open_store
from sapper.store.records import PlannedTask, PlanParams, PlanRun, ReplanParams
from tests.conftest import PostgisServer
from tests.store.test_planjson import _summary

START = dt.date(2026, 3, 2)
AT = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
#: H-1: a 300 m × 220 m CHA; the road R-1 runs 100 m north of it; the school A-1 stands 20 m east of it (its work
#: buffer reaches into H-1); the clinic C-1 and the village 2–3 km away.
H1 = shapely.box(35.3000, 51.3000, 35.3043, 51.3020)
H2 = shapely.box(35.3060, 51.3000, 35.3080, 51.3015)
ROAD = LineString([(35.2950, 51.3029), (35.3100, 51.3029)])


def seed(store: Store) -> None:
    """Organisations, two teams and a brigade, two hazard areas, a road, a school, a clinic, a village."""
    with store.write() as uow:
        uow.add_organisations([Organisation("OP-1", "Operator One", OrgKind.OPERATOR),
                               Organisation("BLD-1", "Builders", OrgKind.CONTRACTOR)])
        uow.add_teams([DeminerTeam("T-MAN-001", "OP-1", Method.MANUAL, 8, Point(35.28, 51.29), 180.0),
                       DeminerTeam("T-SUR-001", "OP-1", Method.SURVEY, 6, Point(35.28, 51.29), 2000.0)])
        uow.add_brigades([BuilderBrigade("B-BLD-1", "BLD-1", Trade.BUILDING, 10, Point(35.28, 51.29))])
        uow.add_hazards([
            HazardArea("H-1", HazardClass.CHA, H1, Evidence.DIRECT, frozenset({DeviceCategory.AP_MINE}),
                       name="Field by the school"),
            HazardArea("H-2", HazardClass.SHA, H2, Evidence.INDIRECT, name="Meadow"),
        ])
        uow.add_assets([
            Asset("R-1", AssetType.ROAD, ROAD, DamageLevel.LIGHT, {Trade.ROAD: 5.0}, name="Village road"),
            Asset("A-1", AssetType.SCHOOL, Point(35.3046, 51.3010), DamageLevel.MODERATE, {Trade.BUILDING: 20.0},
                  name="School"),
            Asset("C-1", AssetType.CLINIC, Point(35.3300, 51.3100), DamageLevel.LIGHT, {Trade.BUILDING: 4.0},
                  name="Clinic"),
        ])
        uow.add_settlements([Settlement("Lyubimovka", 900, Point(35.2700, 51.3000))])


def task(task_id: str, kind: TaskKind, start: str, end: str, unit: str | None, *, hazard: str | None = None,
         asset: str | None = None, work: float = 1000.0) -> PlannedTask:
    unit_kind = "builder_days" if kind is TaskKind.REPAIR else "m²"
    return PlannedTask(task_id, kind, dt.date.fromisoformat(start), dt.date.fromisoformat(end), work, unit_kind,
                       hazard_id=hazard, asset_id=asset, mode="manual" if unit and unit.startswith("T-MAN") else "",
                       unit_id=unit)


PLAN_TASKS = (
    task("clearance H-1/1", TaskKind.CLEARANCE, "2026-03-02", "2026-03-10", "T-MAN-001", hazard="H-1"),
    task("clearance H-1/2", TaskKind.CLEARANCE, "2026-03-11", "2026-03-20", "T-MAN-001", hazard="H-1"),
    task("clearance H-2/1", TaskKind.CLEARANCE, "2026-04-20", "2026-04-30", "T-MAN-001", hazard="H-2"),
    task("nts H-2/1", TaskKind.NTS, "2026-03-02", "2026-03-03", "T-SUR-001", hazard="H-2"),
    task("released H-1", TaskKind.RELEASED, "2026-03-25", "2026-03-25", None, hazard="H-1"),
    task("repair A-1 building/1", TaskKind.REPAIR, "2026-03-26", "2026-03-27", "B-BLD-1", asset="A-1", work=20.0),
    task("restored A-1", TaskKind.RESTORED, "2026-03-27", "2026-03-27", None, asset="A-1", work=20.0),
)


def save_plan(store: Store, tasks: tuple[PlannedTask, ...] = PLAN_TASKS) -> int:
    summary = dataclasses.replace(_summary(replan=False), start_date=START)
    return store.save_plan(PlanRun("feasible", summary=summary, tasks=tasks))


@pytest.fixture(params=["gpkg", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A planned register on each backend."""
    if request.param == "gpkg":
        where: str | Path = tmp_path / "orders.gpkg"
    else:
        server: PostgisServer = request.getfixturevalue("postgis")
        where = server.clean_store_database()
    with open_store(where, create=True) as s:
        seed(s)
        save_plan(s)
        yield s


def test_issue_numbers_orders_per_unit_and_site_and_never_twice(store: Store) -> None:
    """Four weeks of T-MAN-001: one order for H-1 holding both its lots (H-2's lot is later), numbered TO-2026-0001;
    the same request again issues nothing; a longer period adds only H-2's order, with the next number."""
    first = issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=4), actor="ops", at=AT)
    assert (first.period_start, first.period_end) == (START, START + dt.timedelta(days=27))
    assert (first.new, first.kept) == (1, 0)
    [unit] = first.units
    [sheet] = unit.sheets
    order = sheet.order
    assert order.number == "TO-2026-0001" and order.state is OrderState.ISSUED and order.site_id == "H-1"
    assert [lot.task_id for lot in order.lots] == ["clearance H-1/1", "clearance H-1/2"]
    assert order.forms == ("sapper_clearance", "sapper_accident")
    assert [(e.from_state, e.to_state, e.actor) for e in order.history] == [(None, OrderState.ISSUED, "ops")]

    again = issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=4), actor="ops", at=AT)
    assert (again.new, again.kept) == (0, 1)
    assert [s.order.number for s in again.units[0].sheets] == ["TO-2026-0001"]
    assert len(store.task_orders()) == 1

    longer = issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=10), actor="ops", at=AT)
    assert (longer.new, longer.kept) == (1, 1)
    assert [(s.order.number, s.order.site_id) for s in longer.units[0].sheets] == [
        ("TO-2026-0001", "H-1"), ("TO-2026-0002", "H-2")]
    next_year = issue_orders(store, OrderRequest(organisation="Builders", weeks=4), actor="ops",
                             at=dt.datetime(2027, 1, 5, tzinfo=dt.UTC))
    assert [s.order.number for s in next_year.units[0].sheets] == ["TO-2027-0001"]
    assert next_year.units[0].sheets[0].site.kind is SiteKind.ASSET


def test_a_unit_without_work_in_the_period_gets_its_next_lot(store: Store) -> None:
    """Weeks 7–8 hold nothing for T-MAN-001 before H-2's lot: no order, and the next lot is named."""
    result = issue_orders(store, OrderRequest(unit="T-MAN-001", start=dt.date(2026, 4, 1), weeks=2), actor="ops",
                          at=AT)
    assert result.new == 0 and result.units[0].sheets == ()
    assert result.units[0].next_lot is not None and result.units[0].next_lot.task_id == "clearance H-2/1"


def test_the_site_as_the_register_describes_it(store: Store) -> None:
    """H-1's sheet: CHA with AP mines, its neighbour H-2, road R-1 about 100 m north, the access point on the
    perimeter facing the road, the village to the west, the clinic from the register, the school waiting."""
    [sheet] = issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=4), actor="ops", at=AT).units[0].sheets
    site = sheet.site
    assert (site.hazard_class, site.devices) == ("CHA", ("ap_mine",))
    assert [i for i, _ in site.neighbours] == ["H-2"]
    assert site.road is not None and site.road.id == "R-1" and site.road.direction == "N"
    assert 90 < site.road.distance_m < 110
    access = sheet.order.access_point
    assert sheet.order.access_note == "road:R-1"
    assert access.y == pytest.approx(51.3020, abs=1e-6) and 35.3000 <= access.x <= 35.3043
    assert site.settlement is not None and site.settlement.name == "Lyubimovka" and site.settlement.direction == "W"
    assert site.medical is not None and site.medical.id == "C-1" and site.medical.direction == "NE"
    assert [(a.id, a.restored) for a in site.waiting_assets] == [("A-1", dt.date(2026, 3, 27))]


def test_state_changes_legal_and_illegal(store: Store) -> None:
    """issued → acknowledged → completed; completing an issued order, cancelling without a reason, changing a final
    order or naming an unknown order is refused with nothing written; a batch is all or nothing."""
    issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=10), actor="ops", at=AT)
    with pytest.raises(TransitionError, match=r"TO-2026-0001\.state: is issued and cannot become completed; it can "
                                              "become acknowledged, cancelled"):
        change_state(store, ["TO-2026-0001"], OrderState.COMPLETED, actor="tl")
    with pytest.raises(ValidationError, match="a cancellation needs a reason"):
        change_state(store, ["TO-2026-0001"], OrderState.CANCELLED, actor="tl")
    with pytest.raises(NotFoundError, match="TO-2026-001 is not a task order; did you mean TO-2026-0001"):
        change_state(store, ["TO-2026-0002", "TO-2026-001"], OrderState.ACKNOWLEDGED, actor="tl")
    assert {o.state for o in store.task_orders()} == {OrderState.ISSUED}  # the batch wrote nothing
    done = change_state(store, ["TO-2026-0001", "TO-2026-0002"], OrderState.ACKNOWLEDGED, actor="tl")
    assert [o.state for o in done] == [OrderState.ACKNOWLEDGED] * 2
    change_state(store, ["TO-2026-0001"], OrderState.COMPLETED, actor="tl", reason="QC passed")
    change_state(store, ["TO-2026-0002"], OrderState.CANCELLED, actor="ops", reason="re-planned")
    with pytest.raises(TransitionError, match="is completed and cannot become cancelled; it can become nothing"):
        change_state(store, ["TO-2026-0001"], OrderState.CANCELLED, actor="ops", reason="x")
    [first] = store.task_orders(numbers=["TO-2026-0001"])
    assert [(e.from_state, e.to_state, e.actor, e.reason) for e in first.history][1:] == [
        (OrderState.ISSUED, OrderState.ACKNOWLEDGED, "tl", ""),
        (OrderState.ACKNOWLEDGED, OrderState.COMPLETED, "tl", "QC passed")]
    # A cancelled order covers nothing: its lots are ordered again.
    again = issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=10), actor="ops", at=AT)
    assert again.new == 1 and [s.order.number for s in again.units[0].sheets] == ["TO-2026-0001", "TO-2026-0003"]


def test_orders_a_later_plan_changes(store: Store) -> None:
    """A later plan that moves H-1/2, gives H-2's NTS to another team and drops nothing else: the two orders
    concerned are listed with old and new unit and dates; an unchanged order is not; issuing from the new plan
    orders the changed lots anew and keeps the unchanged order."""
    issue_orders(store, OrderRequest(all_units=True, weeks=4), actor="ops", at=AT)
    moved = tuple(
        dataclasses.replace(t, start_date=dt.date(2026, 3, 16), end_date=dt.date(2026, 3, 25))
        if t.task_id == "clearance H-1/2" else
        dataclasses.replace(t, unit_id="T-MAN-001") if t.task_id == "nts H-2/1" else t
        for t in PLAN_TASKS)
    plan_b = save_plan(store, moved)
    changes = {c.number: c for c in orders_affected(store)}
    assert set(changes) == {"TO-2026-0002", "TO-2026-0003"}  # B-BLD-1's order (TO-2026-0001) is unchanged
    h1 = changes["TO-2026-0002"]
    assert h1.plan_id == plan_b and h1.order_plan_id == plan_b - 1
    [lot] = h1.lots
    assert (lot.task_id, lot.change, lot.old_start, lot.new_start) == (
        "clearance H-1/2", LotChangeKind.DATES_MOVED, dt.date(2026, 3, 11), dt.date(2026, 3, 16))
    [nts] = changes["TO-2026-0003"].lots
    assert (nts.change, nts.old_unit, nts.new_unit) == (LotChangeKind.UNIT_CHANGED, "T-SUR-001", "T-MAN-001")
    result = issue_orders(store, OrderRequest(all_units=True, weeks=4), actor="ops", at=AT)
    assert {c.number for c in result.changed} == {"TO-2026-0002", "TO-2026-0003"}
    kept = [s.order.number for u in result.units for s in u.sheets if s.order.plan_run_id != plan_b]
    assert kept == ["TO-2026-0001"]  # the brigade's order: unchanged, not issued again
    assert result.new == 2


def test_unknown_unit_and_organisation_suggest_the_nearest(store: Store) -> None:
    """A typo in --team or --org names the nearest existing id; no unit, or two, is refused."""
    with pytest.raises(NotFoundError, match="T-MAN-1 is not a team or brigade; did you mean T-MAN-001"):
        issue_orders(store, OrderRequest(unit="T-MAN-1"), actor="ops", at=AT)
    with pytest.raises(NotFoundError, match="OP1 is not an organisation; did you mean OP-1"):
        issue_orders(store, OrderRequest(organisation="OP1"), actor="ops", at=AT)
    with pytest.raises(ValidationError, match="name exactly one: a team or brigade"):
        issue_orders(store, OrderRequest(unit="T-MAN-001", all_units=True), actor="ops", at=AT)
    with pytest.raises(ValidationError, match="must be 1 to 52"):
        issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=0), actor="ops", at=AT)


def test_the_period_starts_on_a_replans_as_of_date(store: Store) -> None:
    """Without --from, the period of a re-plan starts on its as-of date (the plan's status date), not its start."""
    params = PlanParams(replan=ReplanParams(replan_of=1, as_of=dt.date(2026, 3, 9),
                                            progress_through=dt.date(2026, 3, 8)))
    summary = dataclasses.replace(_summary(replan=False), start_date=START)
    store.save_plan(PlanRun("feasible", summary=summary, params=params, tasks=PLAN_TASKS))
    result = issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=1), actor="ops", at=AT)
    assert (result.period_start, result.period_end) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    [sheet] = result.units[0].sheets
    assert [lot.task_id for lot in sheet.order.lots] == ["clearance H-1/1", "clearance H-1/2"]


def test_each_order_carries_the_cost_of_its_lots(store: Store) -> None:
    """An order's lots are priced as sapper costs prices them (a manual clearance lot per m², overheads included);
    the CSV carries each lot's cost, the order's and the currency."""
    first = issue_orders(store, OrderRequest(unit="T-MAN-001", weeks=4), actor="ops", at=AT)
    [sheet] = first.units[0].sheets
    pricing = load_pricing()
    manual = pricing.release_cost(ReleaseActivity.MANUAL, m2=1.0, team_days=1.0)
    expected = {lot.task_id: lot.work * manual * (1 + pricing.overhead_share(Family.DEMINING))
                for lot in sheet.order.lots}
    assert dict(sheet.lot_costs) == pytest.approx(expected)
    assert sheet.cost == pytest.approx(sum(expected.values())) and sheet.currency == "USD"
    rows = list(csv_rows([sheet]))
    assert [float(r["lot_cost"]) for r in rows] == pytest.approx([expected[r["task_id"]] for r in rows], abs=0.01)
    assert {r["order_cost"] for r in rows} == {f"{sheet.cost:.2f}"} and {r["currency"] for r in rows} == {"USD"}

