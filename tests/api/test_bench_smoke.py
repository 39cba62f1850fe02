"""A few seconds of benchmarks/api_latency.py: ``sapper serve`` and pygeoapi (the bench extra, with SpatiaLite) on the
same small GeoPackage, a few clients each, every answer a 200 carrying features. Skipped where pygeoapi or
SpatiaLite is not installed (``make bench-api`` installs them)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import sqlite3
from pathlib import Path

import pytest

from sapper.services import accounts
from sapper.store import open_store
from sapper.store.cipher import DataKey
from tests.api.conftest import fill
from tests.benchmark_scripts import load


def _spatialite() -> bool:
    if importlib.util.find_spec("pysqlite3") is None:
        return False
    import pysqlite3.dbapi2 as psql

    conn = psql.connect(":memory:")
    try:
        conn.enable_load_extension(True)
        conn.load_extension(os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite.so"))
        return True
    except psql.OperationalError:
        return False
    finally:
        conn.close()


pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pygeoapi") is None or importlib.util.find_spec("gunicorn") is None or not _spatialite(),
    reason="pygeoapi, gunicorn or SpatiaLite missing (make bench-api installs them)")


def test_both_servers_answer_with_features(tmp_path: Path) -> None:
    bench = load("api_latency")
    db = tmp_path / "small.gpkg"
    fill(db)
    with open_store(db) as store:
        token = accounts.issue_token(store, "ima", days=1).token
    own = tmp_path / "pygeoapi.gpkg"
    with contextlib.closing(sqlite3.connect(db)) as src, contextlib.closing(sqlite3.connect(own)) as dst:
        src.backup(dst)
    headers = {"Authorization": f"Bearer {token}"}
    env = {k: v for k, v in os.environ.items() if k != "SAPPER_DB"}
    env["SAPPER_DATA_KEY"] = DataKey.generate().text  # sapper serve refuses to start without a real key
    sapper_port, pygeoapi_port = bench.free_port(), bench.free_port()
    config = bench.pygeoapi_config(tmp_path, own, pygeoapi_port, (35.0, 50.0, 35.4, 50.4))
    servers = [
        bench.Server("sapper", "sapper", sapper_port,
                     [bench.SAPPER, "serve", "--db", str(db), "--port", str(sapper_port)], env, headers),
        bench.Server("pygeoapi", "pygeoapi", pygeoapi_port,
                     [bench.GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{pygeoapi_port}", "pygeoapi_wsgi:APP"],
                     {**env, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(tmp_path / "pygeoapi-openapi.yml"),
                      "PYTHONPATH": str(tmp_path)}, headers),
    ]
    queries = [f"{bench.PATH}?limit=100&bbox={b}".encode() for b in ("35.0,50.0,35.4,50.4", "35.0,50.0,35.2,50.2")]
    try:
        for s in servers:
            s.start(tmp_path)
        for s in servers:
            s.wait_ready(queries[0].decode(), timeout=60)
            asyncio.run(bench.load(s, queries, 3, 1.0, record=True))
    finally:
        for s in servers:
            s.stop()
    for s in servers:
        result = bench.summary(s)
        assert result["requests"] > 0, s.name
        assert result["non_200"] == 0 and result["without_features"] == 0, (s.name, result)
        assert result["features_median"] >= 1
