"""A real server (``sapper serve`` in a subprocess on a free 127.0.0.1 port) read by GDAL's OAPIF driver through
pyogrio: every collection, with credentials, with attribute filters and with a server-side CQL2 filter in the
collection URL; and edited with exactly the requests QGIS's OAPIF provider makes, read back through GDAL; on both
backends.

The server runs in another process: pyogrio keeps the GIL while GDAL reads, so a server thread in the test process
could not answer.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyogrio
import pytest

from sapper.store import open_store
from tests.api.conftest import DATA_KEY, PASSWORD, fill

_SERVE = "from sapper.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(store_target: str | Path, tmp_path: Path) -> Iterator[str]:
    """`sapper serve` over a filled store, in a subprocess; its base URL."""
    fill(store_target)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "SAPPER_DATA_KEY": DATA_KEY}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, "serve", "--db", str(store_target), "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    _LOGS[base] = tmp_path / "serve.log"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/conformance", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _requests(base: str) -> list[str]:
    """The request lines the server logged so far (uvicorn's access log, written to serve.log)."""
    return [line for line in _LOGS[base].read_text().splitlines() if '"GET ' in line]


_LOGS: dict[str, Path] = {}


@pytest.fixture
def basic_auth() -> Iterator[None]:
    """GDAL sends HTTP Basic credentials of the IM officer."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"ima:{PASSWORD}"})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})


def test_gdal_reads_every_collection_with_credentials(server: str, basic_auth: None) -> None:
    """OAPIF lists the five layers and reads each (hazard areas with their names and polygons)."""
    layers = {str(name) for name, _ in pyogrio.list_layers(f"OAPIF:{server}/")}
    assert layers == {"hazard_areas", "assets", "activities", "settlements", "plan_tasks"}
    hazards = pyogrio.read_dataframe(f"OAPIF:{server}/", layer="hazard_areas")
    assert sorted(hazards["name"]) == ["Field A1", "Field B1", "Forest A2"]
    assert set(hazards.geometry.geom_type) == {"Polygon"}
    assert len(pyogrio.read_dataframe(f"OAPIF:{server}/", layer="assets")) == 2
    assert len(pyogrio.read_dataframe(f"OAPIF:{server}/", layer="activities")) == 2
    assert len(pyogrio.read_dataframe(f"OAPIF:{server}/", layer="settlements")) == 1
    assert len(pyogrio.read_dataframe(f"OAPIF:{server}/", layer="plan_tasks")) == 0


def test_gdal_attribute_filter_becomes_cql2(server: str, basic_auth: None) -> None:
    """OGR attribute filters select the right features through OAPIF, and the server accepts the CQL2 text GDAL
    builds for them (its ``(a) AND (NOT (b))`` form, with ``filter-lang=cql-text``).

    GDAL 3.12 (in the pyogrio wheel) reads the queryables but still evaluates these filters on its side; the text
    it would send is checked against the real server directly.
    """
    found = pyogrio.read_dataframe(f"OAPIF:{server}/", layer="hazard_areas", where="hazard_class = 'CHA'")
    assert list(found["name"]) == ["Forest A2"]
    found = pyogrio.read_dataframe(f"OAPIF:{server}/", layer="hazard_areas",
                                   where="name LIKE 'Field%' AND NOT (beneficiaries < 50)")
    assert list(found["name"]) == ["Field A1"]
    assert any("/queryables" in r for r in _requests(server))
    r = httpx.get(f"{server}/collections/hazard_areas/items", auth=("ima", PASSWORD),
                  params={"filter": "(name LIKE 'Field%') AND (NOT (beneficiaries < 50))", "filter-lang": "cql-text"})
    assert r.status_code == 200, r.text
    assert [f["properties"]["name"] for f in r.json()["features"]] == ["Field A1"]


def test_gdal_without_credentials_is_refused(server: str) -> None:
    """Without credentials GDAL cannot open the collections (the server answers 401)."""
    with pytest.raises(Exception, match=r"401|not recognized|failed|Unauthorized"):
        pyogrio.read_dataframe(f"OAPIF:{server}/", layer="hazard_areas")


def test_gdal_sends_a_filter_in_the_collection_url_to_the_server(server: str, basic_auth: None) -> None:
    """A CQL2 filter in the collection URL (``OAPIF:…/collections/hazard_areas?filter=…&filter-lang=cql2-text``)
    is sent by GDAL with every items request, so the server filters and GDAL receives only the matching features
    (unlike ``where=``, which GDAL 3.12 evaluates on its side after fetching every feature)."""
    query = urlencode({"filter": "name LIKE 'Field%' AND beneficiaries >= 50", "filter-lang": "cql2-text"})
    found = pyogrio.read_dataframe(f"OAPIF:{server}/collections/hazard_areas?{query}")
    assert list(found["name"]) == ["Field A1"]
    items = [r for r in _requests(server) if "/collections/hazard_areas/items" in r]
    assert items and all("filter=name+LIKE" in r and "filter-lang=cql2-text" in r for r in items), items
    # What one of those requests answered: the server matched one feature, not three.
    r = httpx.get(f"{server}/collections/hazard_areas/items?{query}", auth=("ima", PASSWORD))
    assert (r.json()["numberMatched"], r.json()["numberReturned"]) == (1, 1)


#: The User-Agent QGIS's network access manager sends (QGIS 3.34 on Debian).
QGIS_AGENT = "Mozilla/5.0 QGIS/33400/Debian GNU/Linux 13 (trixie)"


class Qgis:
    """The requests QGIS ≥ 3.32's OAPIF provider (qgis/QGIS PR #52504) makes to edit a layer, in its order and
    form: HTTP Basic credentials and its User-Agent on each; no If-Match and no reason (it sends neither)."""

    def __init__(self, base: str, collection: str, user: str) -> None:
        self.items = f"{base}/collections/{collection}/items"
        self.http = httpx.Client(auth=(user, PASSWORD), headers={"User-Agent": QGIS_AGENT}, timeout=30)

    def allow(self, url: str) -> set[str]:
        """``QgsBaseNetworkRequest::sendOPTIONS``: the methods of the Allow header."""
        return {m.strip() for m in self.http.options(url).headers.get("allow", "").split(",")}

    def capabilities(self) -> set[str]:
        """``QgsOapifProvider::computeCapabilities``: read the first page, OPTIONS on items, then OPTIONS on the
        first feature (``unknown_id`` when there is none)."""
        first = self.http.get(self.items, params={"limit": 1}).json()["features"]
        found = self.allow(self.items) & {"POST"}
        if "POST" in found:
            test_id = first[0]["id"] if first else "unknown_id"
            found |= self.allow(f"{self.items}/{test_id}") & {"PUT", "PATCH", "DELETE"}
        return found

    def add(self, feature: dict[str, Any], content_crs: str | None = None) -> str:
        """``QgsOapifCreateFeatureRequest``: POST the feature (every field, no ``id``) as application/geo+json;
        the new id is what follows ``/items/`` in Location. Then the provider re-reads the feature."""
        headers = {"Content-Type": "application/geo+json", **({"Content-Crs": content_crs} if content_crs else {})}
        r = self.http.post(self.items, content=json.dumps(feature), headers=headers)
        assert r.status_code == 201, r.text
        new_id = r.headers["location"].rpartition("/items/")[2]
        assert self.http.get(f"{self.items}/{new_id}").status_code == 200
        return new_id

    def patch(self, feature_id: str, body: dict[str, Any], content_crs: str | None = None) -> None:
        """``QgsOapifPatchFeatureRequest``: only the changed members, as application/merge-patch+json (geometry
        with Content-Crs when the layer's CRS is not CRS84)."""
        headers = {"Content-Type": "application/merge-patch+json",
                   **({"Content-Crs": content_crs} if content_crs else {})}
        r = self.http.patch(f"{self.items}/{feature_id}", content=json.dumps(body), headers=headers)
        assert r.status_code == 200, r.text

    def delete(self, feature_id: str) -> None:
        """``QgsOapifDeleteFeatureRequest``: DELETE the feature."""
        r = self.http.delete(f"{self.items}/{feature_id}")
        assert r.status_code == 204, r.text


EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"


def _gdal_read(server: str, layer: str) -> Any:
    return pyogrio.read_dataframe(f"OAPIF:{server}/", layer=layer)


def test_qgis_edit_round_trip_read_back_through_gdal(server: str, store_target: str | Path,
                                                     basic_auth: None) -> None:
    """QGIS's request sequence edits a hazard area on a real ``sapper serve``: the capabilities it computes allow
    add, change (by PATCH) and delete; after POST GDAL's OAPIF driver reads the new area, after PATCH (attributes,
    then the geometry in EPSG:4326, latitude first, with Content-Crs) the changed one, after DELETE none; each
    write has its audit row (who, what, why) in the register."""
    qgis = Qgis(server, "hazard_areas", "plan-a")
    assert qgis.capabilities() == {"POST", "PATCH", "PUT", "DELETE"}
    layer_fields = ["name", "hazard_class", "status", "evidence", "device_categories", "land_use", "beneficiaries",
                    "organisation_id", "expected_clearance_share", "area_m2", "synthetic", "clearance_depth_cm",
                    "marking", "state", "release_phase", "planned_release_date", "generalised"]
    feature = {"type": "Feature",
               "geometry": {"type": "Polygon", "coordinates": [[[35.05, 50.05], [35.06, 50.05], [35.06, 50.06],
                                                                [35.05, 50.06], [35.05, 50.05]]]},
               "properties": {**dict.fromkeys(layer_fields), "name": "Drawn in QGIS", "land_use": "forest"}}
    new_id = qgis.add(feature)
    read = _gdal_read(server, "hazard_areas")
    assert read.loc[read["id"] == new_id, "name"].tolist() == ["Drawn in QGIS"]

    qgis.patch(new_id, {"properties": {"name": "Renamed in QGIS", "beneficiaries": 120}})
    moved = {"type": "Polygon", "coordinates": [[[50.07, 35.05], [50.07, 35.06], [50.08, 35.06], [50.08, 35.05],
                                                 [50.07, 35.05]]]}  # EPSG:4326 axis order: latitude first
    qgis.patch(new_id, {"geometry": moved}, content_crs=EPSG4326)
    read = _gdal_read(server, "hazard_areas")
    row = read[read["id"] == new_id]
    assert (row["name"].tolist(), row["beneficiaries"].tolist(), row["land_use"].tolist()) == (
        ["Renamed in QGIS"], [120], ["forest"])
    minx, miny, maxx, maxy = row.geometry.iloc[0].bounds
    assert (round(minx, 6), round(miny, 6), round(maxx, 6), round(maxy, 6)) == (35.05, 50.07, 35.06, 50.08)

    qgis.delete(new_id)
    assert new_id not in set(_gdal_read(server, "hazard_areas")["id"])

    with open_store(store_target) as store:
        entries = list(reversed(store.audit_entries(table_name="hazard_areas", record_id=new_id)))
    assert [(e.action, e.actor, e.organisation_id) for e in entries] == [
        ("insert", "plan-a", "op-a"), ("update", "plan-a", "op-a"), ("update", "plan-a", "op-a"),
        ("delete", "plan-a", "op-a")]
    assert [e.reason for e in entries] == [f"no reason given ({m} from QGIS/33400)"
                                           for m in ("POST", "PATCH", "PATCH", "DELETE")]
    assert json.loads(entries[1].after_json or "{}")["name"] == "Renamed in QGIS"
    assert json.loads(entries[3].before_json or "{}")["name"] == "Renamed in QGIS"


def test_qgis_sees_what_each_user_may_edit(server: str) -> None:
    """The capabilities QGIS computes follow the caller and the collection: a viewer gets a read-only layer; an
    operator's planner may record activities (add only: the ledger is append-only) but not edit settlements; the
    plan's tasks are read-only, and an empty collection's ``unknown_id`` probe still answers its Allow header."""
    assert Qgis(server, "hazard_areas", "viewer").capabilities() == set()
    assert Qgis(server, "activities", "plan-a").capabilities() == {"POST"}
    assert Qgis(server, "settlements", "plan-a").capabilities() == set()
    assert Qgis(server, "settlements", "ima").capabilities() == {"POST", "PUT", "PATCH", "DELETE"}
    assert Qgis(server, "plan_tasks", "ima").capabilities() == set()
    probe = Qgis(server, "assets", "ima").http.options(f"{server}/collections/assets/items/unknown_id")
    assert probe.status_code == 404
    assert "PATCH" in probe.headers["allow"]
