"""``sapper serve --workers N`` on Linux: each worker listens on a socket of its own (``SO_REUSEPORT``), so the
kernel spreads connections over the workers instead of the first awake worker taking them all; a port already in
use is a one-line error before any worker starts; a worker's socket comes from a module that does not import the
app (a new worker must answer uvicorn's health checks quickly)."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from sapper.api import listening
from tests.api.conftest import fill
from tests.cli.entry import run

linux_only = pytest.mark.skipif(not listening.reuse_port_balances(), reason="SO_REUSEPORT balancing is Linux's")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@linux_only
def test_a_listener_becomes_a_socket_of_its_own() -> None:
    """A Listener binds nothing where it is made (the parent); unpickled (in a worker) it is a new socket bound
    there with SO_REUSEPORT, and two of them share the port."""
    port = _free_port()
    pickled = pickle.dumps(listening.Listener("127.0.0.1", port))
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", port))  # the port is still free: nothing was bound so far
    first, second = pickle.loads(pickled), pickle.loads(pickled)
    try:
        for sock in (first, second):
            assert sock.getsockname() == ("127.0.0.1", port)
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        first.close()
        second.close()


def test_the_listening_module_does_not_import_the_app() -> None:
    """A worker unpickles its listener before anything else: that import stays light (no FastAPI, no app)."""
    code = (
        "import sys, sapper.api.listening; print(sorted(m for m in ('fastapi', 'sapper.api.app') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "[]"


@linux_only
def test_a_port_in_use_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """serve --workers 2 on a port something already listens on: one line naming the port, exit code 2."""
    db = tmp_path / "s.gpkg"
    fill(db)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(monkeypatch, capsys, "serve", "--db", db, "--port", str(port), "--workers", "2", "--dev")
    assert code == 2 and f"127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1, err


def _established(pid: int, port: int) -> int:
    """How many established TCP connections on ``port`` (the server's side) the process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


def _listening(port: int) -> int:
    """How many sockets listen on ``port``."""
    return sum(
        1
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for line in Path(table).read_text().splitlines()[1:]
        if int(line.split()[1].rsplit(":", 1)[1], 16) == port and line.split()[3] == "0A"
    )


@linux_only
def test_two_workers_share_the_connections(tmp_path: Path) -> None:
    """48 clients connecting at once to `sapper serve --workers 2`: each worker holds at least 10 of them (with the
    shared socket one worker took 41 of 50 under the benchmark)."""
    db = tmp_path / "s.gpkg"
    fill(db)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "SAPPER_DEV": "1"}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from sapper.cli import main; main()",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    clients: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 90
        while _listening(port) < 2:  # both workers up (each listens on its own socket)
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/conformance").status_code == 200
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(48)]  # at once, as the benchmark
        workers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        deadline = time.monotonic() + 30
        while sum((held := Counter({pid: _established(pid, port) for pid in workers})).values()) < 48:
            assert time.monotonic() < deadline, f"the workers did not accept every connection: {held}"
            time.sleep(0.2)
        assert sorted(held.values())[-2] >= 10, held  # the two workers each hold at least 10
    finally:
        for client in clients:
            client.close()
        proc.terminate()
        proc.wait(20)
        log.close()


def test_a_worker_settles_what_start_up_made(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The worker factory freezes start-up's objects (so full collections no longer walk them), after building the
    app."""
    from sapper.api import serving

    monkeypatch.setenv("SAPPER_SERVE_DB", str(tmp_path / "store.gpkg"))
    monkeypatch.setenv("SAPPER_DEV", "1")
    made: list[str] = []
    monkeypatch.setattr(serving, "create_app", lambda settings: made.append(str(settings.db)) or "app")
    monkeypatch.setattr(serving, "settle", lambda: made.append("settled"))
    assert serving.factory() == "app"
    assert made == [str(tmp_path / "store.gpkg"), "settled"]


def test_settling_freezes_the_objects_alive() -> None:
    """After ``settle`` the objects alive are in the permanent generation (the collector skips them)."""
    import gc

    from sapper.api.serving import settle

    try:
        settle()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
