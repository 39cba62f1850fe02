"""Accidents and victims through the REST API, on both store backends: recording (organisation-scoped, audited),
the victim permission (403 without it), every victim read audited, sensitivity classes honoured, and a scanner over
every GET route for each role without the permission and every export format: no victim field value leaves."""

from __future__ import annotations

import itertools
import json
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sapper.api import Settings, create_app
from sapper.errors import DataKeyError
from sapper.store import open_store
from sapper.store.cipher import EXAMPLE_KEY
from tests.api.conftest import USERS, Api, fill
from tests.cli.entry import run

#: A victim whose every value is distinctive, so a scan for it cannot match by chance.
VICTIM = {"name": "Ярина Тестова-Жертва", "gender": "female", "outcome": "killed", "birth_date": "1962-11-23",
          "address": "хутір Вишневий 42", "activity": "збирання грибів у лісосмузі"}
#: The values the scanner looks for (the enumerations ``female``/``killed`` are too common to scan for).
SECRETS = (VICTIM["name"], VICTIM["birth_date"], VICTIM["address"], VICTIM["activity"], "Тестова")
ACCIDENT = {"date": "2025-06-01", "kind": "mine", "device_category": "ap_mine", "place": "лісосмуга біля Суджі",
            "lon": 35.01, "lat": 50.01, "hazard_id": "HA-A1", "victim_count": 1, "reason": "police report 7"}
VICTIM_ROLES = ("ima", "admin")
WITHOUT = tuple(u for u in USERS if u not in VICTIM_ROLES)


def _accident(api: Api, user: str = "field-a", **extra: object) -> dict[str, object]:
    r = api.client.post("/api/v1/accidents", json={**ACCIDENT, **extra}, auth=api.auth(user))
    assert r.status_code == 201, r.text
    found: dict[str, object] = r.json()
    return found


def _with_victim(api: Api) -> str:
    accident_id = str(_accident(api)["id"])
    r = api.client.post(f"/api/v1/accidents/{accident_id}/victims", json={**VICTIM, "reason": "hospital list"},
                        auth=api.auth("ima"))
    assert r.status_code == 201, r.text
    return accident_id


def test_accident_is_recorded_scoped_and_audited(api: Api) -> None:
    """A field user records an accident for their organisation (audited, restricted by default); the other
    operator does not see it (404), the national authority does."""
    made = _accident(api)
    assert (made["organisation_id"], made["sensitivity"], made["source"]) == ("op-a", "restricted", "api")
    accident_id = made["id"]
    assert api.client.get(f"/api/v1/accidents/{accident_id}", auth=api.auth("plan-a")).status_code == 200
    assert api.client.get(f"/api/v1/accidents/{accident_id}", auth=api.auth("plan-b")).status_code == 404
    assert [a["id"] for a in api.client.get("/api/v1/accidents", auth=api.auth("plan-b")).json()["items"]] == []
    assert [a["id"] for a in api.client.get("/api/v1/accidents", auth=api.auth("ima")).json()["items"]] == [
        accident_id]
    with open_store(api.target) as store:
        (entry,) = store.audit_entries(table_name="accidents", record_id=str(accident_id))
    assert (entry.actor, entry.action, entry.reason) == ("field-a", "insert", "police report 7")


def test_investigation_is_added_with_optimistic_locking(api: Api) -> None:
    """The investigation's findings are added at the version read (audited before and after); a change naming an
    older version is a 409 and writes nothing; another operator gets 404."""
    made = _accident(api)
    accident_id, version = made["id"], made["version"]
    assert version == 1
    r = api.client.patch(f"/api/v1/accidents/{accident_id}", auth=api.auth("plan-a"),
                         json={"version": 1, "investigation": "tripwire across the path", "reason": "board report"})
    assert r.status_code == 200 and (r.json()["investigation"], r.json()["version"]) == ("tripwire across the path", 2)
    stale = api.client.patch(f"/api/v1/accidents/{accident_id}", auth=api.auth("field-a"),
                             json={"version": 1, "investigation": "overwritten"})
    assert stale.status_code == 409
    other = api.client.patch(f"/api/v1/accidents/{accident_id}", auth=api.auth("plan-b"),
                             json={"version": 2, "investigation": "x"})
    assert other.status_code == 404
    got = api.client.get(f"/api/v1/accidents/{accident_id}", auth=api.auth("ima")).json()
    assert (got["investigation"], got["version"]) == ("tripwire across the path", 2)
    with open_store(api.target) as store:
        trail = list(reversed(store.audit_entries(table_name="accidents", record_id=str(accident_id))))
    assert [(e.action, e.actor) for e in trail] == [("insert", "field-a"), ("update", "plan-a")]
    assert json.loads(trail[1].before_json or "{}")["investigation"] == ""


def test_cross_organisation_and_unknown_links_are_refused(api: Api) -> None:
    """Operator A cannot record an accident for operator B (403), nor name a hazard area that is not there (422);
    nothing is written."""
    r = api.client.post("/api/v1/accidents", json={**ACCIDENT, "organisation_id": "op-b"}, auth=api.auth("plan-a"))
    assert r.status_code == 403
    r = api.client.post("/api/v1/accidents", json={**ACCIDENT, "hazard_id": "HA-nowhere"}, auth=api.auth("plan-a"))
    assert r.status_code == 422 and "HA-nowhere" in r.text
    with open_store(api.target) as store:
        assert store.accidents() == [] and store.audit_entries(table_name="accidents") == []


def test_sensitivity_classes_are_honoured(api: Api) -> None:
    """A viewer sees public accidents only; a planner restricted ones too, not confidential ones; an officer all;
    nobody may record above their own clearance (403)."""
    public = _accident(api, "ima", sensitivity="public", organisation_id="op-a")["id"]
    restricted = _accident(api, "ima", organisation_id="op-a")["id"]
    confidential = _accident(api, "ima", sensitivity="confidential", organisation_id="op-a")["id"]

    def seen(user: str) -> set[object]:
        return {a["id"] for a in api.client.get("/api/v1/accidents", auth=api.auth(user)).json()["items"]}

    assert seen("view-a") == {public}
    assert seen("plan-a") == {public, restricted}
    assert seen("ima") == {public, restricted, confidential}
    assert api.client.get(f"/api/v1/accidents/{confidential}", auth=api.auth("plan-a")).status_code == 404
    counts = api.client.get("/api/v1/accident-counts", auth=api.auth("view-a")).json()
    assert (counts["total"], counts["by_kind"]) == (1, [{"key": "mine", "count": 1}])
    r = api.client.post("/api/v1/accidents", json={**ACCIDENT, "sensitivity": "confidential"},
                        auth=api.auth("plan-a"))
    assert r.status_code == 403


@pytest.mark.parametrize("user", WITHOUT)
def test_victims_need_the_victim_permission(api: Api, user: str) -> None:
    """Every role without the victim permission gets 403 reading or adding victims; nothing is read or written."""
    accident_id = _with_victim(api)
    assert api.client.get(f"/api/v1/accidents/{accident_id}/victims", auth=api.auth(user)).status_code == 403
    r = api.client.post(f"/api/v1/accidents/{accident_id}/victims", json=VICTIM, auth=api.auth(user))
    assert r.status_code == 403
    with open_store(api.target) as store:
        assert [e.action for e in store.audit_entries(table_name="victims")] == ["insert"]


def test_every_victim_read_is_audited(api: Api) -> None:
    """An officer reads the victim as entered; each read leaves a ``read`` audit row naming who and why, with no
    personal value in the audit trail."""
    accident_id = _with_victim(api)
    for n in (1, 2):
        r = api.client.get(f"/api/v1/accidents/{accident_id}/victims", params={"reason": f"case review {n}"},
                           auth=api.auth("admin" if n == 1 else "ima"))
        assert r.status_code == 200
        (victim,) = r.json()["items"]
        assert {k: victim[k] for k in VICTIM} == VICTIM
    with open_store(api.target) as store:
        trail = list(reversed(store.audit_entries(table_name="victims")))
    assert [(e.actor, e.action, e.reason) for e in trail] == [
        ("ima", "insert", "hospital list"), ("admin", "read", "case review 1"), ("ima", "read", "case review 2")]
    text = json.dumps([(e.before_json, e.after_json) for e in trail], ensure_ascii=False)
    assert not any(s in text for s in SECRETS)


def _get_paths(api: Api, accident_id: str) -> list[str]:
    """Every GET route of the OpenAPI document with its path parameters filled in from the register."""
    spec = api.client.get("/api").json()
    collections = [c["id"] for c in api.client.get("/collections", params={"f": "json"},
                                                   auth=api.auth("ima")).json()["collections"]]
    values = {"collectionId": collections, "featureId": ["HA-A1", "AS-1", "ACT-A", "1"],
              "hazard_id": ["HA-A1"], "asset_id": ["AS-1"], "accident_id": [accident_id], "job_id": ["1"],
              "staged_id": ["1"]}
    out = []
    for path, item in spec["paths"].items():
        if "get" not in item:
            continue
        names = re.findall(r"\{(\w+)\}", path)
        for combo in itertools.product(*(values[n] for n in names)):
            filled = path
            for name, value in zip(names, combo, strict=True):
                filled = filled.replace("{" + name + "}", value)
            out.append(filled)
    return out


def test_scanner_no_victim_value_in_any_response_without_the_permission(api: Api) -> None:
    """Every GET route (every collection, its items in JSON and HTML, the audit trail, the accidents), called by
    every role without the victim permission, holds none of the victim's values."""
    accident_id = _with_victim(api)
    paths = _get_paths(api, accident_id)
    assert len(paths) > 30 and f"/api/v1/accidents/{accident_id}/victims" in paths
    statuses: set[int] = set()
    for user in WITHOUT:
        for path in paths:
            for params in ({}, {"f": "json"}, {"f": "html"}, {"limit": "1000"}):
                r = api.client.get(path, params=params, auth=api.auth(user))
                statuses.add(r.status_code)
                body = r.content.decode("utf-8", errors="replace")
                leaked = [s for s in SECRETS if s in body]
                assert not leaked, f"{user} GET {path} {params}: {leaked}"
    assert 200 in statuses and 403 in statuses  # the scan reached real answers and refusals
    r = api.client.get(f"/api/v1/accidents/{accident_id}/victims", auth=api.auth("ima"))
    assert VICTIM["name"] in r.text  # the scanner would have seen it, had it leaked


def _contents(path: Path) -> list[tuple[str, bytes]]:
    """The bytes a reader of ``path`` gets: the file's, or each member's of a zipped one (KMZ, XLSX, a zipped
    Shapefile), whose compressed bytes would hide a value from the scan."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return [(f"{path.name}/{n}", z.read(n)) for n in z.namelist()]
    return [(path.name, path.read_bytes())]


def test_scanner_no_victim_value_in_any_export(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Every export command and format (hazards in each of the seven formats, assets in six — a Shapefile holds one
    geometry kind —, both also generalised; the IMSMA
    workbook, GeoPackage and CSV folder; the plan's lots, Gantt chart and burn-down; every unit's task orders as CSV,
    KML, GPX and HTML; the field forms with the register's lists; the situation report; accidents at each level; a
    backup) holds none of the victim's values, zipped files read member by member: victims are never exported, and a
    whole-store copy holds them as ciphertext only."""
    _with_victim(api)
    db = str(api.target)
    made: list[Path] = []

    def export(*args: str) -> None:
        code, _, err = run(monkeypatch, capsys, *args, "--db", db)
        assert code == 0, (args, err)

    for kind in ("hazards", "assets"):
        for ext in ("gpkg", "geojson", "csv", "xlsx", "kml", "kmz", "shp.zip"):
            if (kind, ext) == ("assets", "shp.zip"):  # a road and a bridge: a Shapefile holds one geometry kind
                continue
            out = tmp_path / f"{kind}.{ext}"
            export("export", kind, str(out))
            made.append(out)
        out = tmp_path / f"{kind}-public.geojson"
        export("export", kind, str(out), "--generalise")
        made.append(out)
    for name in ("imsma.xlsx", "imsma.gpkg", "imsma-csv"):
        out = tmp_path / name
        export("export", "imsma", str(out))
        made.append(out)
    export("plan", "--engine", "greedy", "--time-limit", "5")
    for name in ("plan.gpkg", "plan.csv", "plan.xlsx", "gantt.svg", "burndown.svg"):
        out = tmp_path / name
        export("export", name.split(".")[0] if name.startswith(("gantt", "burndown")) else "plan", str(out))
        made.append(out)
    for fmt in ("csv", "kml", "gpx", "html"):
        out = tmp_path / f"orders-{fmt}"
        export("tasks", "--all", "--weeks", "52", "--format", fmt, "--out", str(out), "--actor", "ops")
        made.append(out)
    export("forms", "write", str(tmp_path / "forms"))
    made.append(tmp_path / "forms")
    report = tmp_path / "situation.html"
    code, _, err = run(monkeypatch, capsys, "report", "--db", db, "--out", str(report))
    assert code == 0, err
    made.append(report)
    for level in ("public", "restricted", "confidential"):
        for ext in ("csv", "geojson"):
            out = tmp_path / f"accidents-{level}.{ext}"
            export("export", "accidents", str(out), "--level", level)
            made.append(out)
    assert ACCIDENT["place"] in (tmp_path / "accidents-restricted.csv").read_text(encoding="utf-8")
    backup = tmp_path / "backup.bin"
    code, _, err = run(monkeypatch, capsys, "backup", "--db", db, "--out", str(backup))
    assert code == 0, err
    made.append(backup)
    files = [f for m in made for f in ([m] if m.is_file() else sorted(p for p in m.rglob("*") if p.is_file()))]
    assert len(files) >= 40 and {f.suffix for f in files} >= {".gpx", ".kml", ".kmz", ".xlsx", ".svg", ".html"}
    for f in files:
        for name, raw in _contents(f):
            leaked = [s for s in SECRETS if s.encode("utf-8") in raw]
            assert not leaked, f"{name}: {leaked}"


def test_accident_exports_omit_records_above_the_level(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """``sapper export accidents --level`` writes the records up to that class and says how many it left out; a
    strictly confidential export is refused in one line (exit 7)."""
    for sensitivity in ("public", "restricted", "confidential", "strictly_confidential"):
        _accident(api, "ima", sensitivity=sensitivity, organisation_id="op-a")
    db = str(api.target)
    for level, kept in (("public", {"public"}), ("restricted", {"public", "restricted"}),
                        ("confidential", {"public", "restricted", "confidential"})):
        out = tmp_path / f"a-{level}.geojson"
        code, printed, err = run(monkeypatch, capsys, "export", "accidents", str(out), "--level", level, "--db", db)
        assert code == 0, err
        found = {f["properties"]["sensitivity"] for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
        assert found == kept and f"({4 - len(kept)} above {level} left out)" in printed
    code, _, err = run(monkeypatch, capsys, "export", "accidents", str(tmp_path / "x.csv"), "--level",
                       "strictly-confidential", "--db", db)
    assert code == 7 and err.count("\n") == 1 and not (tmp_path / "x.csv").exists()
    code, _, err = run(monkeypatch, capsys, "export", "accidents", str(tmp_path / "x.csv"), "--level", "secret",
                       "--db", db)
    assert code == 2 and "--level" in err


def test_service_refuses_a_placeholder_key_outside_development(tmp_path: Path) -> None:
    """``create_app`` (so ``sapper serve``) refuses a missing or placeholder data key unless in development; in
    development without a key the victim routes answer 503."""
    for key in (None, EXAMPLE_KEY):
        with pytest.raises(DataKeyError):
            create_app(Settings(db=tmp_path / "s.gpkg", data_key=key))
    target = tmp_path / "dev.gpkg"
    fill(target)
    with TestClient(create_app(Settings(db=target, development=True))) as client:
        made = client.post("/api/v1/accidents", json=ACCIDENT, auth=("field-a", "correct horse battery"))
        r = client.get(f"/api/v1/accidents/{made.json()['id']}/victims", auth=("ima", "correct horse battery"))
    assert r.status_code == 503 and r.json()["code"] == "no_data_key"


def test_serve_with_a_placeholder_key_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``sapper serve`` with the documentation's key exits 4 with one line, before listening."""
    target = tmp_path / "s.gpkg"
    fill(target)
    monkeypatch.setenv("SAPPER_DATA_KEY", EXAMPLE_KEY)
    code, _, err = run(monkeypatch, capsys, "serve", "--db", str(target), "--port", "1")
    assert code == 4 and err.count("\n") == 1 and "placeholder" in err and EXAMPLE_KEY not in err
