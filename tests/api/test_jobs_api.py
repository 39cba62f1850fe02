"""Plan jobs through the REST API: started in the background, polled to the end, the plan's tasks then served as
the plan_tasks collection; cancel and roles; on both store backends."""

from __future__ import annotations

import time

from tests.api.conftest import Api


def _wait(api: Api, job_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while True:
        job = api.client.get(f"/api/v1/jobs/{job_id}", auth=api.auth("ima")).json()
        if job["state"] not in ("queued", "running"):
            return dict(job)
        assert time.monotonic() < deadline, job["message"]
        time.sleep(0.2)


def test_plan_job_runs_in_the_background_and_feeds_plan_tasks(api: Api) -> None:
    """POST a plan job (202 + Location), poll it to done; its plan's tasks are the plan_tasks items."""
    r = api.client.post("/api/v1/plans/jobs", json={"time_limit_s": 2}, auth=api.auth("ima"))
    assert r.status_code == 202, r.text
    assert r.headers["location"].endswith(f"/api/v1/jobs/{r.json()['id']}")
    job = _wait(api, int(r.json()["id"]))
    assert job["state"] == "done", job["message"]
    assert job["progress"] == 1.0 and job["plan_id"] is not None
    tasks = api.client.get("/collections/plan_tasks/items?limit=100", auth=api.auth("ima")).json()
    assert tasks["numberMatched"] > 0
    assert {f["properties"]["run_id"] for f in tasks["features"]} == {job["plan_id"]}
    assert all(f["geometry"] is not None for f in tasks["features"])
    items = api.client.get("/collections/hazard_areas/items", params={"filter": "release_phase = 'open'"},
                           auth=api.auth("ima")).json()
    props = {f["id"]: f["properties"] for f in items["features"]}
    assert (props["HA-A1"]["state"], props["HA-A2"]["state"]) == ("suspected", "confirmed")
    assert all(p["planned_release_date"] is not None for p in props.values())
    hazard = api.client.get("/api/hazards/HA-A1", auth=api.auth("ima")).json()
    assert props["HA-A1"]["planned_release_date"] == hazard["plan"]["release_date"]
    assert hazard["plan"]["release_date"] is not None
    assert hazard["balance"]["remaining_m2"] == hazard["balance"]["original_m2"]
    asset = api.client.get("/api/assets/AS-1", auth=api.auth("ima")).json()
    assert asset["plan"]["restoration_start"] <= asset["plan"]["restoration_end"]
    feature = api.client.get("/collections/assets/items/AS-1", auth=api.auth("ima")).json()
    assert feature["properties"]["planned_restoration_date"] == asset["plan"]["restoration_end"]


def test_finished_job_cannot_be_cancelled_and_viewers_cannot_plan(api: Api) -> None:
    """Cancelling a finished job is a 422 naming its state; a viewer may not start a plan (403)."""
    job = api.client.post("/api/v1/plans/jobs", json={"time_limit_s": 1}, auth=api.auth("ima")).json()
    _wait(api, int(job["id"]))
    r = api.client.post(f"/api/v1/jobs/{job['id']}/cancel", auth=api.auth("ima"))
    assert r.status_code == 422
    assert r.json()["field"] == "state"
    assert api.client.post("/api/v1/plans/jobs", json={}, auth=api.auth("viewer")).status_code == 403
    assert api.client.get("/api/v1/jobs/999", auth=api.auth("ima")).status_code == 404
