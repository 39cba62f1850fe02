"""A real server (``sapper serve`` in a subprocess on a free 127.0.0.1 port) read by GDAL's OAPIF driver through
pyogrio: every collection, with credentials, and with attribute filters GDAL turns into CQL2; on both backends.

The server runs in another process: pyogrio keeps the GIL while GDAL reads, so a server thread in the test process
could not answer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyogrio
import pytest

from tests.api.conftest import PASSWORD, fill

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
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
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
