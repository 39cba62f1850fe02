"""The issue-18 release commands (inspect, accept, reopen, extend, certificate, rules) as a user runs them, on both
backends (``--db`` a GeoPackage file or a postgresql:// URL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import shapely

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, LandUse
from sapper.services import landrelease as lr
from sapper.store import open_store
from tests.cli.entry import run

FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)
LANE = shapely.box(35.3005, 51.3002, 35.3010, 51.3004)


Invoke = Callable[..., tuple[int, str]]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Invoke:
    """``sapper release args`` through the real entry point: the exit code, and standard output then error."""

    def release(*args: str) -> tuple[int, str]:
        code, out, err = run(monkeypatch, capsys, "release", *args)
        return code, out + err

    return release


def geojson(path: Path, geom: shapely.Geometry) -> Path:
    crs84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs84, "features": [
        {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(geom))}]}))
    return path


@pytest.fixture
def db(store_target: str | Path) -> str:
    """On each backend: a store with a CHA, H-1, cleared in full to 13 cm (its history started through the
    service); what ``--db`` takes."""
    with open_store(store_target, create=True) as store:
        with store.write() as uow:
            uow.add_hazards([HazardArea("H-1", HazardClass.CHA, FIELD, Evidence.DIRECT)])
        lr.record_activity(store, Activity("A-1", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED,
                                           cleared=FIELD, clearance_depth_cm=13.0), actor="team", reason="report",
                           at=dt.datetime(2025, 6, 17, tzinfo=dt.UTC))
    return str(store_target)


def test_inspect_fail_then_pass_accept_and_certificate(db: str, tmp_path: Path, invoke: Invoke) -> None:
    """A failed QC reopens its lane; accept is refused with the reason; after re-clearance and a pass it is accepted
    and the certificate prints, as text, JSON and HTML."""
    lane = geojson(tmp_path / "lane.geojson", LANE)
    code, out = invoke("inspect", "H-1", "--db", db, "--id", "QC-1", "--date", "2025-06-18", "--sample-m2",
                       "500", "--org", "NMAA QA", "--failed", "--failed-area", str(lane), "--finding",
                       "mine in lane 3", "--actor", "qa", "--reason", "QC 1", "--at", "2025-06-18T10:00:00Z")
    assert code == 0, out
    assert "FAILED (mine in lane 3)" in out and "reopened" in out
    code, out = invoke("accept", "H-1", "--db", db, "--authority", "NMAA", "--actor", "d", "--reason", "r",
                       "--at", "2025-06-18T11:00:00Z")
    assert code == 2 and "cannot accept the area as released" in out and "is still hazardous" in out
    with open_store(db) as store:
        lr.record_activity(store, Activity("A-2", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED,
                                           cleared=LANE, clearance_depth_cm=13.0), actor="team",
                           reason="lane re-cleared", at=dt.datetime(2025, 6, 19, tzinfo=dt.UTC))
    code, out = invoke("inspect", "H-1", "--db", db, "--id", "QC-2", "--date", "2025-06-20", "--sample-m2",
                       "200", "--org", "NMAA QA", "--actor", "qa", "--reason", "QC 2", "--at", "2025-06-20T10:00:00Z")
    assert code == 0 and "the authority may accept it as released" in out, out
    code, out = invoke("accept", "H-1", "--db", db, "--authority", "NMAA Ukraine", "--actor", "O. Kovalenko",
                       "--reason", "CR-17", "--at", "2025-06-21T10:00:00Z")
    assert code == 0 and "accepted as released by NMAA Ukraine" in out, out
    code, out = invoke("certificate", "H-1", "--db", db)
    assert code == 0 and "accepted by: O. Kovalenko for NMAA Ukraine (2025-06-21)" in out, out
    assert "benchmark: not recorded" in out
    code, out = invoke("certificate", "H-1", "--db", db, "--json")
    doc = json.loads(out)
    assert (doc["state"], doc["required_depth_cm"], len(doc["inspections"])) == ("released", 13.0, 2)
    page = tmp_path / "cert.html"
    code, out = invoke("certificate", "H-1", "--db", db, "--html", str(page))
    assert code == 0 and page.exists()
    html = page.read_text(encoding="utf-8")
    assert "Completion report and handover certificate" in html and "O. Kovalenko" in html


def test_reopen_extend_and_rules(db: str, tmp_path: Path, invoke: Invoke) -> None:
    """Extension of an open area, a reopening without a residual-risk statement refused, and the rules shown and
    changed."""
    beyond = geojson(tmp_path / "beyond.geojson", shapely.box(35.302, 51.30, 35.3025, 51.301))
    code, out = invoke("extend", "H-1", "--db", db, "--area", str(beyond), "--actor", "team", "--reason",
                       "mines to the east edge", "--at", "2025-06-18T10:00:00Z")
    assert code == 0 and "perimeter extended by" in out, out
    code, out = invoke("history", "H-1", "--db", db, "--json")
    (extended,) = [e for e in json.loads(out)["events"] if e["kind"] == "extended"]
    assert extended["extended_m2"] > 0 and extended["area"]["type"] == "Polygon", extended
    code, out = invoke("reopen", "H-1", "--db", db, "--area", str(geojson(tmp_path / "l.geojson", LANE)),
                       "--residual-risk", " ", "--actor", "imo", "--reason", "r", "--at", "2025-06-18T11:00:00Z")
    assert code == 2 and "residual-risk statement" in out
    code, out = invoke("rules", "--db", db)
    assert code == 0 and "residual_area_m2 = 1.0" in out and "nts_may_cancel_in_cha = False" in out
    code, out = invoke("rules", "--db", db, "--clearance-depth-cm", "20", "--nts-may-cancel-in-cha")
    assert code == 0 and "clearance_depth_cm = 20.0" in out and "nts_may_cancel_in_cha = True" in out
    with open_store(db) as store:
        assert lr.rules(store).clearance_depth_cm == 20.0
    code, out = invoke("rules", "--db", db, "--dog-excluded-land-uses", "forest, wetland",
                       "--inspection-lag-working-days", "15")
    assert code == 0 and "dog_excluded_land_uses = forest,wetland" in out and \
        "inspection_lag_working_days = 15" in out, out
    code, out = invoke("rules", "--db", db, "--dog-excluded-land-uses", "forest,jungle")
    assert code == 2 and "'jungle' is not one of" in out and len(out.strip().splitlines()) == 1, out
    with open_store(db) as store:
        assert lr.rules(store).dog_excluded_land_uses == {LandUse.FOREST, LandUse.WETLAND}
    code, out = invoke("inspect", "H-1", "--db", db, "--id", "QC-9", "--date", "18/06/2025", "--sample-m2",
                       "5", "--org", "QA", "--actor", "qa", "--reason", "r")
    assert code == 2 and "'18/06/2025' is not a date YYYY-MM-DD" in out


def test_a_typed_reason_that_reads_like_a_message_stays_as_typed(store_target: str | Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A reason a person typed is shown as written in every language, also when it (or each of its parts) is one of
    sapper's messages ("started early", "team lost"); the reason sapper wrote itself is still translated."""
    with open_store(store_target, create=True) as store:
        with store.write() as uow:
            uow.add_hazards([HazardArea("H-1", HazardClass.CHA, FIELD, Evidence.DIRECT)])
        lr.record_activity(store, Activity("A-1", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED,
                                           cleared=FIELD, clearance_depth_cm=13.0), actor="team",
                           reason="started early, team lost", at=dt.datetime(2025, 6, 17, tzinfo=dt.UTC))
    code, out, err = run(monkeypatch, capsys, "--lang", "uk", "release", "history", "H-1", "--db", str(store_target))
    assert code == 0, err
    assert "(причина: started early, team lost)" in out and "розпочато раніше" not in out
    assert "(причина: історія звільнення земель починається із запису реєстру" in out


def test_history_and_reasons_in_ukrainian_and_russian(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper --lang uk release history` says the state, the balance and each event in Ukrainian (ids, figures and
    the reason a person typed stay as they are); a failed inspection and what holds release back, in Russian."""
    code, out, err = run(monkeypatch, capsys, "--lang", "uk", "release", "history", "H-1", "--db", db)
    assert code == 0, err
    assert out.splitlines()[0].startswith("небезпечна ділянка H-1: ")
    assert "початково " in out and "розміновано на глибину 13 см" in out and "залишається 0 м²" in out
    assert "(причина: report)" in out and "(причина: історія звільнення земель починається із запису реєстру" in out
    lane = geojson(tmp_path / "lane.geojson", LANE)
    code, out, err = run(monkeypatch, capsys, "--lang", "ru", "release", "inspect", "H-1", "--db", db, "--id", "QC-1",
                         "--date", "2025-06-18", "--sample-m2", "500", "--org", "NMAA QA", "--failed",
                         "--failed-area", str(lane), "--finding", "mine in lane 3", "--actor", "qa", "--reason",
                         "QC 1", "--at", "2025-06-18T10:00:00Z")
    assert code == 0, err
    assert "проверка QC-1, исполнитель NMAA QA (2025-06-18), выборка 500 м²: НЕ ПРОЙДЕНА (mine in lane 3)" in out
    assert "опасный участок H-1: " in out and "FAILED" not in out
