"""Forms that know the register (`sapper forms write --db`): id questions pick from CSV attachments of the register's
organisations, teams, brigades, open hazard areas and assets; pyxform (and ODK Validate, where Java is) accept them."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import shapely
from pyxform.validators import odk_validate
from pyxform.xls2xform import convert

from sapper.domain.hazards import Evidence, HazardArea, HazardClass, HazardStatus
from sapper.domain.taskorders import OrderState
from sapper.io.xlsform import FORMS
from sapper.scenario.compile import TaskKind
from sapper.services.forms import register_lists, write_register_forms_from
from sapper.services.taskorders import OrderRequest, change_state, issue_orders
from sapper.store import open_store
from sapper.store.records import PlannedTask, PlanRun
from tests.services.test_replan import SAPPER, _register
from tests.store.test_planjson import _summary

START = dt.date(2025, 6, 2)

NS = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms"}
#: The id questions of each form and the attachment each must pick from.
EXPECTED = {
    "nts": {"organisation_id": "organisations.csv", "team_id": "teams.csv", "hazard_id": "hazard_areas.csv"},
    "ts": {"organisation_id": "organisations.csv", "team_id": "teams.csv", "hazard_id": "hazard_areas.csv"},
    "clearance": {"organisation_id": "organisations.csv", "team_id": "teams.csv", "hazard_id": "hazard_areas.csv",
                  "task_order": "task_orders.csv"},
    "accident": {"organisation_id": "organisations.csv", "hazard_id": "hazard_areas.csv"},
    "brigade": {"organisation_id": "organisations.csv", "brigade_id": "brigades.csv", "asset_id": "assets.csv",
                "task_order": "task_orders.csv"},
}


#: A plan's lots: T-MAN-1 clears H-1, B-ROAD-1 repairs A-1, T-MAN-2 clears H-3 (its order is cancelled below).
PLAN = (
    PlannedTask("clearance H-1/1", TaskKind.CLEARANCE, START, START + dt.timedelta(days=9), 4000.0, "m2",
                hazard_id="H-1", mode="manual", resource="manual", unit_id="T-MAN-1"),
    PlannedTask("clearance H-3/1", TaskKind.CLEARANCE, START, START + dt.timedelta(days=2), 900.0, "m2",
                hazard_id="H-3", mode="manual", resource="manual", unit_id="T-MAN-2"),
    PlannedTask("repair A-1 road/1", TaskKind.REPAIR, START + dt.timedelta(days=10), START + dt.timedelta(days=20),
                30.0, "builder_days", asset_id="A-1", mode="road", resource="road", unit_id="B-ROAD-1"),
)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built register of test_replan with one more hazard area, already released (closed), a plan and its
    task orders: T-MAN-1's for H-1 and B-ROAD-1's for A-1 in force, T-MAN-2's for H-3 cancelled."""
    db = tmp_path_factory.mktemp("forms") / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        with store.write() as uow:
            uow.add_hazards([HazardArea("H-9", HazardClass.SHA, shapely.box(35.3, 50.3, 35.301, 50.301),
                                        Evidence.INDIRECT, status=HazardStatus.CLOSED)])
        store.save_plan(PlanRun("feasible", summary=dataclasses.replace(_summary(replan=False), start_date=START),
                                tasks=PLAN))
        issued = issue_orders(store, OrderRequest(all_units=True, weeks=4), actor="ops")
        (cancelled,) = [s.order.number for u in issued.units for s in u.sheets if s.order.unit_id == "T-MAN-2"]
        change_state(store, [cancelled], OrderState.CANCELLED, actor="ops", reason="not needed")
    return db


@pytest.fixture(scope="module")
def written(register: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("forms-out")
    with open_store(register) as store:
        write_register_forms_from(store, out)
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _xform(path: Path) -> str:
    warnings: list[str] = []
    xml = convert(str(path), warnings=warnings, validate=False).xform
    assert warnings == [], f"{path.name}: pyxform warnings {warnings}"
    return xml


def test_lists_hold_the_registers_ids_and_only_open_hazard_areas(written: Path) -> None:
    """The attachments list every team (with its organisation, for the filter), brigade and asset, and the open
    hazard areas only (H-9 is closed)."""
    assert [r["name"] for r in _csv(written / "teams.csv")] == ["T-MAN-1", "T-MAN-2", "T-SUR-1"]
    assert {r["organisation_id"] for r in _csv(written / "teams.csv")} == {"op-1"}
    assert [r["name"] for r in _csv(written / "brigades.csv")] == ["B-BLD-1", "B-ROAD-1"]
    assert [r["name"] for r in _csv(written / "hazard_areas.csv")] == ["H-1", "H-2", "H-3"]
    assert [r["name"] for r in _csv(written / "assets.csv")] == ["A-1", "A-2", "A-3"]
    assert [r["name"] for r in _csv(written / "organisations.csv")] == ["con-1", "op-1"]
    assert all(r["label"].startswith(r["name"]) for r in _csv(written / "hazard_areas.csv"))


def test_the_task_order_list_holds_the_orders_in_force_with_unit_and_site(written: Path, register: Path) -> None:
    """task_orders.csv lists the issued orders (T-MAN-1 at H-1, B-ROAD-1 at A-1) with their unit and site for the
    filter, and not the cancelled one (T-MAN-2 at H-3)."""
    rows = _csv(written / "task_orders.csv")
    assert list(rows[0]) == ["name", "label", "organisation_id", "unit_id", "site_id"]
    assert sorted((r["unit_id"], r["site_id"]) for r in rows) == [("B-ROAD-1", "A-1"), ("T-MAN-1", "H-1")]
    with open_store(register) as store:
        in_force = {o.number for o in store.task_orders(states=[OrderState.ISSUED])}
    assert {r["name"] for r in rows} == in_force and all(r["label"].startswith(r["name"]) for r in rows)


@pytest.mark.parametrize("key", sorted(FORMS))
def test_pyxform_converts_each_form_with_its_lists(written: Path, key: str) -> None:
    """pyxform converts the form without warnings; each id question is a select from its CSV attachment (an external
    instance), teams and brigades filtered by the organisation chosen before them; no id is free text."""
    root = ET.fromstring(_xform(written / FORMS[key].file_name))
    sources = {i.attrib.get("id"): i.attrib.get("src") for i in root.iterfind("h:head/x:model/x:instance", NS)}
    for name, file_name in EXPECTED[key].items():
        assert sources[file_name.removesuffix(".csv")] == f"jr://file-csv/{file_name}"
        (control,) = [e for e in root.iter() if e.attrib.get("ref", "").endswith(f"/{name}")]
        assert control.tag.endswith("select1"), f"{key}.{name} is a {control.tag}"
        itemset = control.find("x:itemset", NS)
        assert itemset is not None and f"instance('{file_name.removesuffix('.csv')}')" in itemset.attrib["nodeset"]
        if name in ("team_id", "brigade_id"):
            assert "organisation_id = " in itemset.attrib["nodeset"]
        if name == "task_order":  # the orders of the unit and site chosen before it
            unit, site = ("team_id", "hazard_id") if key == "clearance" else ("brigade_id", "asset_id")
            assert f"unit_id =  /{FORMS[key].form_id}/{unit}" in itemset.attrib["nodeset"]
            assert f"site_id =  /{FORMS[key].form_id}/{site}" in itemset.attrib["nodeset"]


def test_odk_validate_accepts_the_register_forms(written: Path, tmp_path: Path) -> None:
    """ODK Validate (JavaRosa) parses every form that picks from the register's lists."""
    if shutil.which("java") is None or not odk_validate.install_exists():
        pytest.skip("ODK Validate needs Java and pyxform's ODK_Validate.jar")
    for key in sorted(FORMS):
        xml = tmp_path / f"{key}.xml"
        xml.write_text(_xform(written / FORMS[key].file_name), encoding="utf-8")
        assert odk_validate.check_xform(str(xml)) == [], key


def test_version_follows_the_lists(register: Path) -> None:
    """The same register gives the same form version; a changed list gives a new one (ODK takes new attachments
    only with a new version)."""
    from sapper.io.xlsform import list_digest

    with open_store(register) as store:
        lists = register_lists(store)
    assert list_digest(lists) == list_digest(dataclasses.replace(lists))
    fewer = dataclasses.replace(lists, teams=lists.teams[:-1])
    assert list_digest(fewer) != list_digest(lists)


def test_cli_forms_write_with_db(register: Path, tmp_path: Path) -> None:
    """`sapper forms write DIR --db` writes the form and the lists it uses (the open task orders too), with their row
    counts; without --db the shipped templates (free text) are written as before; a missing store exits 3."""
    proc = subprocess.run([SAPPER, "forms", "write", str(tmp_path / "f"), "--form", "brigade", "--db", str(register)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [
        "assets.csv", "brigades.csv", "organisations.csv", "sapper_brigade.xlsx", "task_orders.csv"]
    assert "brigades.csv (2 rows)" in proc.stdout and "task_orders.csv (2 rows)" in proc.stdout
    plain = subprocess.run([SAPPER, "forms", "write", str(tmp_path / "p"), "--form", "brigade"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert plain.returncode == 0 and [p.name for p in (tmp_path / "p").iterdir()] == ["sapper_brigade.xlsx"]
    assert "select_one_from_file" not in _xform(tmp_path / "p" / "sapper_brigade.xlsx")
    missing = subprocess.run([SAPPER, "forms", "write", str(tmp_path / "m"), "--db", str(tmp_path / "none.gpkg")],
                             capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 3 and len(missing.stderr.strip().splitlines()) == 1
