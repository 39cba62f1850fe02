"""The REST routes the map UI needs beyond the register's records: drawing a land-release outcome on a hazard area
(through the land-release rules, clipped, organisation-checked, audited) and the latest plan's Gantt chart and
burn-down, on both store backends."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
import shapely

from sapper.plan import Engine
from sapper.services import fielddata
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store
from tests.api.conftest import Api

TODAY = dt.date.today().isoformat()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _ring(minx: float, miny: float, maxx: float, maxy: float) -> dict[str, object]:
    return shapely.geometry.mapping(shapely.box(minx, miny, maxx, maxy))


def _outcome(kind: str, geometry: dict[str, object], **extra: object) -> dict[str, object]:
    return {"kind": kind, "date": TODAY, "reason": "completion report CR-1", "geometry": geometry, **extra}


def _land_release_audit(api: Api, hazard_id: str) -> list[tuple[str, str]]:
    with open_store(api.target) as store:
        return [(e.action, e.actor) for e in store.audit_entries(table_name="hazard_areas", record_id=hazard_id)]


def test_reduced_outcome_is_clipped_recorded_and_audited(api: Api) -> None:
    """A TS outcome reaching beyond the area is clipped to it and says so; the history, the balance, the activity
    and an audit row are in the store."""
    # HA-A2 is the box 35.10–35.11 × 50.10–50.11; this half reaches 0.005° east of it.
    r = api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("plan-a"),
                        json=_outcome("reduced", _ring(35.105, 50.10, 35.115, 50.11)))
    assert r.status_code == 201, r.text
    body = r.json()
    outcome, hazard = body["outcome"], body["hazard"]
    assert outcome["kind"] == "reduced" and outcome["activity_type"] == "ts"
    assert outcome["clipped"] is True and "clipped off" in outcome["note"]
    assert outcome["area_m2"] == pytest.approx(outcome["drawn_m2"] / 2, rel=0.01)
    assert outcome["clipped_m2"] == pytest.approx(outcome["drawn_m2"] - outcome["area_m2"], abs=1)
    assert hazard["release_phase"] == "in_progress"
    b = hazard["balance"]
    assert b["reduced_m2"] == pytest.approx(outcome["area_m2"], abs=1)
    assert b["original_m2"] == pytest.approx(b["reduced_m2"] + b["remaining_m2"], rel=1e-3)
    assert [e["kind"] for e in hazard["history"]] == ["recorded", "activity"]
    assert hazard["history"][-1]["actor"] == "plan-a"
    with open_store(api.target) as store:
        activity = next(a for a in store.activities("HA-A2") if a.id == outcome["id"])
        assert activity.organisation_id == "op-a" and activity.reduced is not None
        assert activity.reduced.within(store.hazard("HA-A2").geometry.buffer(1e-7))
    assert _land_release_audit(api, "HA-A2") == [("update", "plan-a")]


def test_clearing_everything_awaits_inspection_and_acceptance(api: Api) -> None:
    """Clearing the whole area (with its depth) leaves it processed, not released: release waits for an
    inspection and the authority's acceptance."""
    r = api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("field-a"),
                        json=_outcome("cleared", _ring(35.099, 50.099, 35.111, 50.111), depth_cm=20))
    assert r.status_code == 201, r.text
    hazard = r.json()["hazard"]
    assert hazard["release_phase"] == "processed"
    assert hazard["state"] == "confirmed"
    assert "inspection" in r.json()["outcome"]["note"]


def test_land_release_rules_refuse_and_nothing_is_written(api: Api) -> None:
    """Cancelling land in a confirmed area (CHA) is refused by the land-release rules (409); a clearance without
    its depth, a future date, a polygon missing the area and a malformed geometry are 422s naming the field."""
    refused = api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("ima"),
                              json=_outcome("cancelled", _ring(35.10, 50.10, 35.105, 50.11)))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "illegal_transition" and "CHA" in refused.json()["detail"]
    cases = [
        (_outcome("cleared", _ring(35.10, 50.10, 35.105, 50.11)), "depth_cm"),
        ({**_outcome("reduced", _ring(35.10, 50.10, 35.105, 50.11)), "date": "2999-01-01"}, "date"),
        (_outcome("reduced", _ring(36.0, 51.0, 36.01, 51.01)), "geometry"),
        (_outcome("reduced", {"type": "Polygon", "coordinates": [[[35.1, 50.1]]]}), "geometry"),
        (_outcome("reduced", {"type": "Point", "coordinates": [35.105, 50.105]}), "geometry"),
        (_outcome("reduced", _ring(35.10, 50.10, 35.105, 50.11), activity_type="clearance"), "activity_type"),
    ]
    for body, field in cases:
        r = api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("ima"), json=body)
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["field"] == field, r.json()
    with open_store(api.target) as store:
        assert store.release_events("HA-A2") == []
        assert store.activities("HA-A2") == []
    assert _land_release_audit(api, "HA-A2") == []


def test_outcomes_are_organisation_checked(api: Api) -> None:
    """Operator B cannot see (404) operator A's area, a viewer may not record (403); the authority may."""
    body = _outcome("reduced", _ring(35.10, 50.10, 35.105, 50.11))
    assert api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("plan-b"), json=body).status_code == 404
    assert api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("view-a"), json=body).status_code == 403
    assert api.client.post("/api/hazards/HA-NONE/outcomes", auth=api.auth("ima"), json=body).status_code == 404
    assert api.client.post("/api/hazards/HA-A2/outcomes", json=body).status_code == 401
    assert _land_release_audit(api, "HA-A2") == []
    assert api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("ima"), json=body).status_code == 201


def test_plan_views_are_404_without_a_plan(api: Api) -> None:
    """Before any plan both plan views are a 404 problem saying there is no plan."""
    for view in ("gantt", "burndown"):
        r = api.client.get(f"/api/plan/latest/{view}", auth=api.auth("viewer"))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert "no plan" in r.json()["detail"]


def test_gantt_and_burndown_of_the_latest_plan(api: Api) -> None:
    """The Gantt has one lane per unit that works in the plan (teams and brigades, labelled, by organisation),
    every bar on its own unit's lane and within the chart; the burn-down climbs to the plan's totals."""
    with open_store(api.target) as store:
        run = plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5,
                                                      start_date=dt.date(2027, 3, 1))).run
        hazard_m2 = {h.id: h.area_m2 for h in store.hazards()}
    gantt = api.client.get("/api/plan/latest/gantt", auth=api.auth("viewer")).json()
    assert gantt["plan_id"] == str(run.id) and gantt["start"] == "2027-03-01"
    worked = {u for t in run.tasks if t.kind.value in ("nts", "ts", "eod", "survey", "clearance", "repair") for u in
              (t.unit_id or "").split(",") if u}
    assert {lane["id"] for lane in gantt["lanes"]} == worked
    roles = {lane["id"]: lane["role"] for lane in gantt["lanes"]}
    assert all(roles[u] == ("brigade" if u.startswith("B-") else "team") for u in roles)
    assert {lane["organisation"] for lane in gantt["lanes"]} <= {"Operator A", "Operator B",
                                                                 "National Mine Action Authority"}
    bars = [t for lane in gantt["lanes"] for t in lane["tasks"]]
    assert {t["kind"] for t in bars} >= {"clearance", "restoration"}
    assert all(gantt["start"] <= t["start"] < t["end"] <= gantt["end"] for t in bars)
    assert {t["label"] for t in bars} >= {"Forest A2", "Bridge"}
    burn = api.client.get("/api/plan/latest/burndown", auth=api.auth("viewer")).json()
    points = burn["points"]
    assert points[0] == {"date": "2027-03-01", "released_km2": 0.0, "restored_assets": 0}
    assert [p["date"] for p in points] == sorted(p["date"] for p in points)
    assert all(a["released_km2"] <= b["released_km2"] and a["restored_assets"] <= b["restored_assets"]
               for a, b in itertools.pairwise(points))
    released = {t.hazard_id for t in run.tasks if t.kind.value == "released"}
    assert burn["total_km2"] == pytest.approx(sum(hazard_m2[h] for h in released) / 1e6, abs=1e-4)
    assert points[-1]["released_km2"] == pytest.approx(burn["total_km2"], abs=1e-4)
    assert points[-1]["restored_assets"] == burn["total_assets"] == 2


def test_script_requests_get_no_basic_challenge(api: Api) -> None:
    """A 401 carries the Basic challenge (QGIS, GDAL), except to a script that says it handles 401 itself
    (X-Requested-With, as the map UI sends): a browser would otherwise show its own password dialog."""
    plain = api.client.get("/api/v1/me")
    assert plain.status_code == 401 and plain.headers["www-authenticate"].startswith("Basic")
    script = api.client.get("/api/v1/me", headers={"X-Requested-With": "sapper-web"})
    assert script.status_code == 401 and "www-authenticate" not in script.headers
    assert script.json()["code"] == "unauthorised"


def test_submission_steps_and_apply_are_audited(api: Api) -> None:
    """A staged submission cannot be approved before review (422 naming state); review, approve and apply each
    leave an audit row by the officer; apply reports what it wrote or why not."""
    with open_store(api.target) as store:
        fielddata.import_export(store, EXAMPLES / "odk_clearance.zip")
        [staged] = store.field_submissions()
    sid = staged.id
    early = api.client.post(f"/api/submissions/{sid}/approve", json={}, auth=api.auth("ima"))
    assert early.status_code == 422 and early.json()["field"] == "state"
    assert api.client.post(f"/api/submissions/{sid}/review", json={}, auth=api.auth("plan-a")).status_code == 403
    for step, state in (("review", "reviewed"), ("approve", "approved")):
        r = api.client.post(f"/api/submissions/{sid}/{step}", json={}, auth=api.auth("ima"))
        assert r.json() == {"id": sid, "state": state}
    done = api.client.post("/api/submissions/apply", auth=api.auth("ima")).json()
    with open_store(api.target) as store:
        after = store.field_submission(sid)
        audit = store.audit_entries(table_name="field_submissions", record_id=str(sid))
    if done["applied"]:
        assert after.state.value == "applied"
    else:  # the example's hazard area is not in this register: left approved, with the reason
        assert after.state.value == "approved" and after.apply_fault and done["not_applied"]
    assert [e.actor for e in audit] == ["ima"] * 3
    assert json.loads(audit[0].after_json or "{}")["state"] == after.state.value


def test_errors_are_said_in_the_language_the_page_asks_for(api: Api) -> None:
    """The problem document's detail follows Accept-Language (the map pages send the language chosen in them): the
    land-release refusal and a record check in Ukrainian or Russian, from the catalogues the command line uses;
    code and field stay as they are, and without the header (QGIS, GDAL, scripts) the detail is English as before."""
    import re

    cancel = _outcome("cancelled", _ring(35.10, 50.10, 35.105, 50.11))
    no_depth = _outcome("cleared", _ring(35.10, 50.10, 35.105, 50.11))
    said: dict[str, dict[str, str]] = {}
    for header in (None, "uk", "ru-RU,ru;q=0.9,en;q=0.5", "fr-FR, uk;q=0.8, en;q=0.5"):
        headers = {"Accept-Language": header} if header else {}
        refused = api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("ima"), json=cancel, headers=headers)
        invalid = api.client.post("/api/hazards/HA-A2/outcomes", auth=api.auth("ima"), json=no_depth,
                                  headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (409, "illegal_transition"), refused.text
        assert (invalid.status_code, invalid.json()["field"]) == (422, "depth_cm"), invalid.text
        said[header or "none"] = {  # the activity's id is new on every request
            kind: re.sub(r"ACT-[0-9A-F]+", "ACT-…", r.json()["detail"]) for kind, r in (("refused", refused),
                                                                                     ("invalid", invalid))}
    english = said["none"]
    assert "CHA" in english["refused"] and "depth_cm" in english["invalid"]
    for header, lang_said in said.items():
        if header == "none":
            continue
        for kind, text in lang_said.items():
            assert text != english[kind] and re.search("[а-яіїєґ]{4,}", text), (header, kind, text)
            assert not re.search(r"\b(cannot|must|the|is)\b", text), (header, kind, text)
    assert said["uk"] == said["fr-FR, uk;q=0.8, en;q=0.5"]  # the first language sapper speaks, by weight
    assert said["uk"] != said["ru-RU,ru;q=0.9,en;q=0.5"]


def test_the_accept_language_header_is_read_by_weight() -> None:
    """Highest weight first, a region dropped (uk-UA is uk), a q=0 refused; English when none is spoken here."""
    from sapper.api.problems import language
    from sapper.report.i18n import Lang

    assert language(None) is Lang.EN and language("") is Lang.EN and language("de, fr;q=0.5") is Lang.EN
    assert language("uk-UA") is Lang.UK and language("ru_RU") is Lang.RU
    assert language("en;q=0.4, ru;q=0.9") is Lang.RU and language("uk;q=0, ru") is Lang.RU
    assert language("uk;q=abc, en") is Lang.EN


def test_http_refusals_are_said_in_the_language_too(api: Api) -> None:
    """The web service's own refusals (401 without credentials, 403 for a role, 412 for a stale ETag) follow
    Accept-Language as the record errors do; their codes do not change."""
    import re

    no_credentials = api.client.get("/collections/hazard_areas/items",
                                    headers={"Accept-Language": "uk", "X-Requested-With": "x"})
    assert no_credentials.status_code == 401 and no_credentials.json()["code"] == "unauthorised"
    assert no_credentials.json()["detail"].startswith("потрібні облікові дані")
    english = api.client.get("/collections/hazard_areas/items", headers={"X-Requested-With": "x"})
    assert english.json()["detail"].startswith("credentials are needed")
    item = api.client.get("/collections/hazard_areas/items/HA-A1", auth=api.auth("ima"))
    assert item.status_code == 200, item.text
    stale = api.client.patch("/collections/hazard_areas/items/HA-A1", auth=api.auth("ima"),
                             json={"properties": {"name": "x"}},
                             headers={"If-Match": '"0"', "Content-Type": "application/merge-patch+json",
                                      "Accept-Language": "ru"})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed", stale.text
    assert re.search("прочитайте запись снова", stale.json()["detail"]), stale.text
