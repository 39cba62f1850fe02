"""Drive Debian's headless Chromium through the Chrome DevTools Protocol over a pipe (stdlib only, no websocket).

``--remote-debugging-pipe`` makes Chromium read NUL-terminated JSON commands on fd 3 and write replies and events on
fd 4. One :class:`Browser` holds one page session; every request the page makes is logged from ``Network`` events so
a test can prove nothing left 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--remote-debugging-pipe",
)


def _high(fd: int) -> int:
    """The same pipe end moved to a descriptor above 10, so that it cannot collide with fds 3 and 4."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


def find_chromium() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


#: What Chromium answers a Runtime.evaluate that meets a navigation (the old page's context gone, the new one not yet
#: there).
_NAVIGATING = ("Inspected target navigated or closed", "Cannot find context with specified id",
               "Execution context was destroyed")


class CdpError(RuntimeError):
    """Chromium answered a command with an error, or did not answer in time."""


@dataclass
class Browser:
    """One headless Chromium with one page attached; use as a context manager."""

    binary: str
    width: int = 1280
    height: int = 800
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    security: list[str] = field(default_factory=list)
    log: Any = subprocess.DEVNULL

    def __enter__(self) -> Browser:
        self._profile = tempfile.mkdtemp(prefix="sapper-chromium-")
        to_browser_r, self._to_browser = (_high(fd) for fd in os.pipe())
        self._from_browser, from_browser_w = (_high(fd) for fd in os.pipe())
        # Chromium expects its command pipe on fd 3 and its reply pipe on fd 4: bash moves them there before exec.
        script = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-'
        self._proc = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                script,
                "chromium",
                self.binary,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            pass_fds=(to_browser_r, from_browser_w),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self._session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=True)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(CdpError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self._profile, ignore_errors=True)

    # -- protocol ---------------------------------------------------------------------------------------------------
    def send(self, method: str, *, session: bool = False, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its reply, logging the events that arrive meanwhile."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error'].get('message')}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._event(reply)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise CdpError("Chromium closed the pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    def _event(self, event: dict[str, Any]) -> None:
        method = event.get("method")
        params = event.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"].get("source") == "security":
            self.security.append(params["entry"].get("text", ""))  # e.g. a Content-Security-Policy violation
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.exceptions.append(details.get("exception", {}).get("description", details.get("text", "")))

    # -- page helpers -----------------------------------------------------------------------------------------------
    def goto(self, url: str) -> None:
        """Navigate the page to url."""
        self.send("Page.navigate", session=True, url=url)

    def evaluate(self, expression: str, *, timeout: float = 30) -> Any:
        """The value of a JavaScript expression (promises awaited); a thrown error fails the test with its text."""
        reply = self.send(
            "Runtime.evaluate",
            session=True,
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in reply:
            raise CdpError(f"{expression!r}: {reply['exceptionDetails'].get('exception', {}).get('description')}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float = 30) -> Any:
        """Poll a JavaScript expression until it is truthy; its value. A poll that meets a navigation (the page
        going to the next one after a sign-in: Chromium answers "Inspected target navigated or closed", or finds no
        execution context yet) is not an answer: the next poll asks the new page."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(f"(() => {{ try {{ return {expression}; }} catch (e) {{ return null; }} }})()")
            except CdpError as exc:
                if not any(s in str(exc) for s in _NAVIGATING):
                    raise
                value = None
            if value:
                return value
            time.sleep(0.1)
        raise CdpError(f"timed out waiting for {expression}; exceptions: {self.exceptions}; console: {self.console}")

    def click(self, x: float, y: float, *, count: int = 1) -> None:
        """A real mouse click (press and release) at viewport pixel (x, y)."""
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", session=True, type=kind, x=x, y=y, button="left", clickCount=count)

    def screenshot(self, path: Path) -> Png:
        """Save a PNG screenshot of the viewport to path and return it decoded."""
        data = base64.b64decode(self.send("Page.captureScreenshot", session=True, format="png")["data"])
        path.write_bytes(data)
        return Png.decode(data)


@dataclass(frozen=True)
class Png:
    """An 8-bit RGB or RGBA PNG decoded to rows of pixels (enough for Chromium's screenshots)."""

    width: int
    height: int
    channels: int
    rows: list[bytes]

    @classmethod
    def decode(cls, data: bytes) -> Png:
        """Parse the chunks, inflate IDAT and undo the per-row filters."""
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        pos, idat = 8, b""
        width = height = channels = 0
        while pos < len(data):
            length, kind = struct.unpack(">I4s", data[pos : pos + 8])
            body = data[pos + 8 : pos + 8 + length]
            if kind == b"IHDR":
                width, height, depth, colour = struct.unpack(">IIBB", body[:10])
                assert depth == 8 and colour in (2, 6), f"unsupported PNG: depth {depth}, colour type {colour}"
                channels = 3 if colour == 2 else 4
            elif kind == b"IDAT":
                idat += body
            pos += 12 + length
        raw = zlib.decompress(idat)
        stride = width * channels
        rows: list[bytes] = []
        prev = bytearray(stride)
        for y in range(height):
            start = y * (stride + 1)
            kind_byte = raw[start]
            line = bytearray(raw[start + 1 : start + 1 + stride])
            _unfilter(kind_byte, line, prev, channels)
            rows.append(bytes(line))
            prev = line
        return cls(width, height, channels, rows)

    def count_near(self, rgb: tuple[int, int, int], *, tolerance: int = 6, step: int = 1) -> int:
        """How many pixels (sampling every step-th in each direction) lie within tolerance of rgb on every channel."""
        n = 0
        r0, g0, b0 = rgb
        c = self.channels
        for row in self.rows[::step]:
            for x in range(0, self.width * c, c * step):
                if (
                    abs(row[x] - r0) <= tolerance
                    and abs(row[x + 1] - g0) <= tolerance
                    and abs(row[x + 2] - b0) <= tolerance
                ):
                    n += 1
        return n


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        for i in range(len(line)):
            line[i] = (line[i] + prev[i]) & 0xFF
        return
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + a) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((a + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
        else:
            raise ValueError(f"unknown PNG filter {kind}")
