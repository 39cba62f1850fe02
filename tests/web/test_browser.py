"""The map UI in headless Chromium against the real service: ``create_app`` over a register built from the README
tour's example files (tests/web/realapp.py), under uvicorn on 127.0.0.1. Signing in through the form, the map's layers
and colours, a click's record, drawing an outcome (the register and its audit change), the plan page, field review
(the staged submission is approved in the store), the language switch, a viewer's generalised footprints, a
register without a plan — and no request leaves 127.0.0.1.

Skipped (with the reason printed) only when Chromium is not installed; under CI (env CI set) that is a failure.
Screenshots go to $SAPPER_WEB_SCREENSHOTS, or to pytest's temporary folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sapper.store import open_store
from tests.web.chromium import Browser, Png, find_chromium
from tests.web.realapp import PASSWORD, PHASES, LiveServer, build_empty_register, build_register

# The land-release colours of js/map.js (STATE_COLOURS); the test reads them from the page too.
STATE_RGB = {
    "open": (0xD7, 0x30, 0x1F),
    "in_progress": (0xFD, 0x8D, 0x3C),
    "processed": (0xF2, 0xD6, 0x00),
    "released": (0x1A, 0x98, 0x50),
}
NO_DATE_RGB = (0x9E, 0x9E, 0x9E)
EARLIEST_RGB = (0x21, 0x66, 0xAC)
CLEARANCE_RGB = (0xFB, 0x80, 0x72)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium binary; skip (or fail under CI) when there is none."""
    binary = find_chromium()
    if binary is None:
        reason = "chromium is not installed (make chromium installs Debian's package)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots are written."""
    folder = os.environ.get("SAPPER_WEB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The register built from the tour's examples."""
    path = tmp_path_factory.mktemp("register") / "register.gpkg"
    build_register(path)
    return path


@pytest.fixture(scope="module")
def server(store_path: Path) -> Iterator[LiveServer]:
    """The real service over that register."""
    with LiveServer(store_path) as live:
        yield live


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """One headless Chromium for the module (a fresh profile: no session yet)."""
    with Browser(chromium) as b:
        yield b


def go(browser: Browser, url: str, ready: str) -> None:
    """Navigate to url and wait until the new page says it is ready (the old page's globals do not count)."""
    browser.evaluate("window.__leaving = true")
    browser.goto(url)
    browser.wait_for(f"!window.__leaving && !!({ready})")


def sign_in(browser: Browser, name: str, password: str) -> None:
    """Fill the sign-in form and submit it."""
    browser.evaluate(f"""(() => {{ const f = document.getElementById('signin-form');
        f.elements.name.value = {json.dumps(name)}; f.elements.password.value = {json.dumps(password)};
        f.requestSubmit(); }})()""")


def wait_map(browser: Browser) -> None:
    """Wait until the map page's layers have loaded and drawn."""
    browser.wait_for("!window.__leaving && window.sapperMap && window.sapperMap.ready")
    assert browser.evaluate("window.sapperMap.ready") is True
    idle(browser)


def idle(browser: Browser) -> None:
    """Wait for the map to finish rendering after a change."""
    browser.evaluate(
        "new Promise((r) => { const m = window.sapperMap.map; m.once('idle', () => r(true)); m.triggerRepaint(); })"
    )


def hazard_pixel(browser: Browser, hazard_id: str, fx: float = 0.5, fy: float = 0.5) -> tuple[float, float]:
    """The viewport pixel at a fraction (fx, fy) across a hazard area's bounding box (fy from the north)."""
    x, y = browser.evaluate(
        f"""(() => {{ const m = window.sapperMap.map;
          const f = m.getSource('hazards')._data.geojson.features.find((f) => f.id === '{hazard_id}');
          const ring = f.geometry.coordinates[0]; const xs = ring.map((c) => c[0]), ys = ring.map((c) => c[1]);
          const lng = Math.min(...xs) + {fx} * (Math.max(...xs) - Math.min(...xs));
          const lat = Math.max(...ys) - {fy} * (Math.max(...ys) - Math.min(...ys));
          const p = m.project([lng, lat]); const r = m.getCanvas().getBoundingClientRect();
          return [p.x + r.left, p.y + r.top]; }})()"""
    )
    return float(x), float(y)


def api(browser: Browser, path: str) -> object:
    """GET a JSON document of the API from inside the page (with the page's session)."""
    return browser.evaluate(f"fetch({json.dumps(path)}, {{ headers: {{ 'X-Requested-With': 'test' }} }})"
                            ".then((r) => r.json())")


def assert_offline(browser: Browser, server: LiveServer) -> None:
    """Every request the browser made went to the service on 127.0.0.1 (data: and blob: URLs are in-page)."""
    foreign = [u for u in browser.requests if not u.startswith((server.base + "/", "data:", "blob:", "about:"))]
    assert browser.requests and not foreign, foreign
    assert browser.security == []  # no Content-Security-Policy violation (the service sends the policy)


@pytest.fixture()
def signed_in(browser: Browser, server: LiveServer) -> Browser:
    """The browser with the im-officer's session on this service: the module's tests run in order and the first
    signs in through the form; a test run on its own (``-k``) signs in here instead."""
    if browser.evaluate("location.origin") == server.base:
        me = api(browser, "/api/v1/me")
        if isinstance(me, dict) and me.get("name") == "ima":
            return browser
    browser.goto(f"{server.base}/map/")
    browser.wait_for("window.sapperSignIn && window.sapperSignIn.ready")
    sign_in(browser, "ima", PASSWORD)
    wait_map(browser)
    return browser


@pytest.fixture()
def on_map(signed_in: Browser, server: LiveServer) -> Browser:
    """The map page, signed in (loaded here when an earlier test did not leave the browser on it)."""
    if not signed_in.evaluate("location.pathname").endswith("/map/index.html") or \
            not signed_in.evaluate("!!(window.sapperMap && window.sapperMap.ready)"):
        go(signed_in, f"{server.base}/map/index.html", "window.sapperMap && window.sapperMap.ready")
        wait_map(signed_in)
    return signed_in


def test_sign_in_form_refuses_then_lets_in(browser: Browser, server: LiveServer, shots: Path) -> None:
    """Without a session the map sends the browser to the sign-in form; a wrong password gets one message that
    does not say which field was wrong; the right one sets the session (HttpOnly) and CSRF cookies and goes back to
    the map."""
    browser.goto(f"{server.base}/map/")
    browser.wait_for("window.sapperSignIn && window.sapperSignIn.ready")
    assert browser.evaluate("location.pathname + location.search") == "/map/signin.html?next=index.html"
    sign_in(browser, "ima", "not the password")
    browser.wait_for("document.getElementById('status').classList.contains('error')")
    refused = browser.evaluate("document.getElementById('status').textContent")
    sign_in(browser, "nobody", "not the password")
    browser.wait_for(f"document.getElementById('status').textContent === {json.dumps(refused)} && "
                     "!document.querySelector('#signin-form button').disabled")
    assert refused == "Sign-in failed: the user name or the password is not right."
    browser.screenshot(shots / "signin-refused.png")
    assert browser.evaluate("document.cookie") == ""  # nothing set by a refused sign-in
    sign_in(browser, "ima", PASSWORD)
    wait_map(browser)
    assert browser.evaluate("location.pathname").endswith("/map/index.html")
    cookies = browser.evaluate("document.cookie")
    assert "sapper_csrf=" in cookies and "sapper_session" not in cookies  # the session cookie is HttpOnly
    assert "ima (im-officer, NMAA)" in browser.evaluate("document.getElementById('account').textContent")
    assert browser.exceptions == []


@pytest.mark.usefixtures("on_map")
def test_map_renders_the_register_in_state_colours(browser: Browser, server: LiveServer, shots: Path) -> None:
    """The map draws the six hazard areas and five assets of the register, each land-release phase in its colour
    (pixels of the screenshot), marked synthetic, with the basemap's attribution, all from 127.0.0.1."""
    assert browser.evaluate("window.sapperMap.renderedFeatureCount('hazards')") == 6
    assert browser.evaluate("window.sapperMap.renderedFeatureCount('assets')") == 5
    assert browser.evaluate("window.sapperMap.renderedFeatureCount('towns')") >= 1
    colours = browser.evaluate("window.sapperMap.STATE_COLOURS")
    assert {k: tuple(int(v[i : i + 2], 16) for i in (1, 3, 5)) for k, v in colours.items()} == STATE_RGB
    phases = {f["id"]: f["properties"]["release_phase"] for f in
              api(browser, "/collections/hazard_areas/items?limit=100")["features"]}  # type: ignore[index]
    assert phases == PHASES
    png = browser.screenshot(shots / "map.png")
    for phase, rgb in STATE_RGB.items():
        assert png.count_near(rgb, step=2) > 100, f"no {phase} hazard fill in the screenshot"
    assert not browser.evaluate("document.getElementById('synthetic-badge').hidden")
    attribution = browser.evaluate("document.querySelector('.maplibregl-ctrl-attrib').textContent")
    assert "Natural Earth" in attribution and "GeoNames CC BY 4.0" in attribution
    assert browser.exceptions == []
    assert_offline(browser, server)


@pytest.mark.usefixtures("on_map")
def test_map_follows_next_links(browser: Browser, server: LiveServer) -> None:
    """With a page size below the collection's, the layer still gets every feature by following rel=next."""
    count = browser.evaluate(
        "import('./js/api.js').then((m) => m.allFeatures('hazard_areas', { limit: 4 }))"
        ".then((fc) => fc.features.length)"
    )
    assert count == 6
    pages = [u for u in browser.requests if "/collections/hazard_areas/items" in u and "limit=4" in u]
    assert len(pages) == 2 and "offset=4" in pages[1]


@pytest.mark.usefixtures("on_map")
def test_colour_by_planned_release_date(browser: Browser, server: LiveServer, shots: Path) -> None:
    """The toggle recolours hazards by the plan's release dates: state colours go, the released (unplanned) area
    turns grey, the earliest release is the ramp's blue."""
    browser.evaluate("document.querySelector('input[name=colour][value=date]').click()")
    idle(browser)
    png = browser.screenshot(shots / "map-by-date.png")
    assert browser.evaluate("window.sapperMap.mode") == "date"
    assert png.count_near(STATE_RGB["open"], step=2) == 0
    assert png.count_near(NO_DATE_RGB, step=2) > 100  # EX-H4 is released: not in the plan
    assert png.count_near(EARLIEST_RGB, step=2) > 50
    legend = browser.evaluate("document.getElementById('legend-items').textContent")
    assert "not planned" in legend and "2026" in legend
    browser.evaluate("document.querySelector('input[name=colour][value=state]').click()")
    idle(browser)


@pytest.mark.usefixtures("on_map")
def test_click_shows_record_history_and_plan(browser: Browser, server: LiveServer, shots: Path) -> None:
    """A click on a hazard area shows its record from the register: balance, every land-release event and the
    latest plan's release date."""
    record = api(browser, "/api/hazards/EX-H2")
    assert isinstance(record, dict)
    x, y = hazard_pixel(browser, "EX-H2", 0.8, 0.15)  # the unreduced half, clear of the bridge (EX-A2)
    browser.click(x, y)
    rows = len(record["history"])
    assert rows == 2
    browser.wait_for(f"document.querySelectorAll('#record table.history tbody tr').length === {rows}")
    text = browser.evaluate("document.getElementById('record').textContent")
    assert "Tree line by the bridge" in text and "Land-release history" in text and "TS report 7" in text
    release = dt.date.fromisoformat(record["plan"]["release_date"])
    assert f"{release:%b} {release.day}, {release.year}" in text  # e.g. "Jul 13, 2027"
    browser.screenshot(shots / "map-record.png")


@pytest.mark.usefixtures("on_map")
def test_draw_an_outcome_changes_the_register(browser: Browser, server: LiveServer, store_path: Path,
                                              shots: Path) -> None:
    """Drawing a reduced polygon that reaches beyond an open area posts it with the CSRF header; the service
    clips it, records a TS activity in the land-release history with an audit row, and the page says so."""
    with open_store(store_path) as store:
        assert store.release_events("EX-H1") == []
    browser.evaluate("window.sapperMap.selectHazard('EX-H1')")
    browser.evaluate("document.getElementById('draw-start').click()")
    for fx, fy in ((0.2, 0.2), (0.7, 0.2), (0.7, 0.8)):
        browser.click(*hazard_pixel(browser, "EX-H1", fx, fy))
    x, y = hazard_pixel(browser, "EX-H1", -0.3, 0.8)  # west of the area: clipped off
    browser.click(x, y)
    browser.click(x, y, count=2)
    browser.wait_for("!document.getElementById('outcome-form').hidden")
    browser.screenshot(shots / "map-draw.png")
    browser.evaluate("""(() => { const f = document.getElementById('outcome-form');
        f.elements.kind.value = 'reduced'; f.elements.kind.dispatchEvent(new Event('change'));
        f.elements.reason.value = 'TS report 12'; f.requestSubmit(); })()""")
    browser.wait_for("document.getElementById('status').textContent.includes('Recorded')")
    status = browser.evaluate("document.getElementById('status').textContent")
    assert "clipped" in status, status
    browser.wait_for("document.querySelectorAll('#record table.history tbody tr').length === 2")
    idle(browser)
    browser.screenshot(shots / "map-after-outcome.png")
    with open_store(store_path) as store:
        events = store.release_events("EX-H1")
        audit = store.audit_entries(table_name="hazard_areas", record_id="EX-H1")
    assert [e.kind.value for e in events] == ["recorded", "activity"]
    activity = events[-1].activity
    assert activity is not None and activity.activity_type.value == "ts" and events[-1].actor == "ima"
    assert events[-1].reduced_m2 > 0 and events[-1].clipped_m2 > 0
    # newest first: the outcome drawn on the map, then the fixture's `sapper import hazards` (bulk writes are audited)
    assert [(e.actor, e.reason) for e in audit] == [("ima", "TS report 12"),
                                                    ("sapper import hazards", "import of survey.geojson")]
    assert browser.evaluate("window.sapperMap.lastOutcome.hazard.release_phase") == "in_progress"
    assert_offline(browser, server)


@pytest.mark.usefixtures("on_map")
def test_draw_refuses_fewer_than_three_vertices(browser: Browser, server: LiveServer) -> None:
    """Finishing a sketch of two vertices posts nothing and says why."""
    before = len(browser.requests)
    browser.evaluate("window.sapperMap.selectHazard('EX-H6')")
    browser.evaluate("document.getElementById('draw-start').click()")
    browser.click(*hazard_pixel(browser, "EX-H6", 0.3, 0.5))
    x, y = hazard_pixel(browser, "EX-H6", 0.7, 0.5)
    browser.click(x, y)
    browser.click(x, y, count=2)
    browser.wait_for("document.getElementById('status').textContent.includes('three vertices')")
    assert not any("/outcomes" in u for u in browser.requests[before:])
    assert browser.evaluate("document.getElementById('outcome-form').hidden")


@pytest.mark.usefixtures("on_map")
def test_language_switch_to_ukrainian_and_russian(browser: Browser, server: LiveServer, shots: Path) -> None:
    """The switcher re-labels the page in Ukrainian, then Russian, and remembers the choice across pages."""
    for lang, open_label, badge, sign_out in (("uk", "відкрита", "СИНТЕТИЧНІ ДАНІ", "Вийти"),
                                              ("ru", "открыт", "СИНТЕТИЧЕСКИЕ ДАННЫЕ", "Выйти")):
        browser.evaluate(f"""(() => {{ const s = document.getElementById('lang'); s.value = '{lang}';
            s.dispatchEvent(new Event('change')); }})()""")
        browser.wait_for(
            f"document.documentElement.lang === '{lang}' && "
            f"document.getElementById('legend-items').textContent.includes('{open_label}')"
        )
        assert browser.evaluate("document.getElementById('synthetic-badge').textContent") == badge
        assert browser.evaluate("document.getElementById('sign-out').textContent") == sign_out
        browser.screenshot(shots / f"map-{lang}.png")
    assert "Курская область" in browser.evaluate(
        "[...document.querySelectorAll('.oblast-label')].map((e) => e.textContent).join('|')"
    )
    go(browser, f"{server.base}/map/review.html", "window.sapperReview && window.sapperReview.loaded")
    assert browser.evaluate("document.documentElement.lang") == "ru"
    assert browser.evaluate("document.querySelector('h1').textContent") == "Полевые данные на проверке"
    browser.evaluate("localStorage.setItem('sapper.lang', 'en')")


@pytest.mark.usefixtures("signed_in")
def test_plan_page_gantt_and_burndown(browser: Browser, server: LiveServer, shots: Path) -> None:
    """The plan page draws a labelled lane per team and brigade of the latest plan, every task's bar, grouped by
    organisation and role, and the burn-down."""
    go(browser, f"{server.base}/map/plan.html", "window.sapperPlan")
    gantt = api(browser, "/api/plan/latest/gantt")
    assert isinstance(gantt, dict)
    assert browser.evaluate("window.sapperPlan.laneCount()") == len(gantt["lanes"]) == 9
    assert browser.evaluate("window.sapperPlan.barCount()") == sum(len(lane["tasks"]) for lane in gantt["lanes"])
    assert browser.evaluate("window.sapperPlan.laneLabels()") == [lane["label"] for lane in gantt["lanes"]]
    groups = browser.evaluate("[...document.querySelectorAll('#gantt .group')].map((e) => e.textContent)")
    assert groups == ["Demining operator 1 (synthetic) · Teams", "Reconstruction agency (synthetic) · Brigades"]
    assert browser.evaluate("window.sapperPlan.burndownDrawn()") is True
    assert not browser.evaluate("document.getElementById('synthetic-badge').hidden")
    png = browser.screenshot(shots / "plan.png")
    assert png.count_near(CLEARANCE_RGB, step=2) > 100  # clearance bars
    assert browser.exceptions == []
    assert_offline(browser, server)


@pytest.mark.usefixtures("signed_in")
def test_review_page_takes_a_submission_into_the_register(browser: Browser, server: LiveServer, store_path: Path,
                                                         shots: Path) -> None:
    """The staged ODK submission is marked reviewed, approved and written into the register from the page (each a
    CSRF-checked POST): the store has it applied, its activity added, and an audit row per step."""
    with open_store(store_path) as store:
        activities = store.counts()["activities"]
    go(browser, f"{server.base}/map/review.html", "window.sapperReview && window.sapperReview.loaded")
    assert browser.evaluate("window.sapperReview.rowCount()") == 1
    [item] = api(browser, "/api/submissions?state=staged")["items"]  # type: ignore[index]
    sid = item["id"]
    browser.evaluate(f"document.querySelector('button[data-action=reject][data-id=\"{sid}\"]').click()")
    browser.wait_for("document.getElementById('status').classList.contains('error')")  # no reason: nothing sent
    for step, state in (("review", "reviewed"), ("approve", "approved")):
        browser.evaluate(f"document.querySelector('button[data-action={step}][data-id=\"{sid}\"]').click()")
        browser.wait_for(f"window.sapperReview.decisions['{sid}'] === '{state}'")
    browser.screenshot(shots / "review-approved.png")
    browser.evaluate("document.getElementById('apply').click()")
    browser.wait_for("window.sapperReview.lastApply")
    assert len(browser.evaluate("window.sapperReview.lastApply.applied")) == 1
    browser.wait_for("document.querySelector('td.state').textContent === 'in the register'")
    browser.screenshot(shots / "review.png")
    with open_store(store_path) as store:
        assert store.field_submission(sid).state.value == "applied"
        assert store.counts()["activities"] == activities + 1
        audit = store.audit_entries(table_name="field_submissions", record_id=str(sid))
    assert sorted((e.actor, json.loads(e.after_json or "{}")["state"]) for e in audit) == [
        ("ima", "applied"), ("ima", "approved"), ("ima", "reviewed")]
    assert browser.exceptions == []
    assert_offline(browser, server)


def test_viewer_signs_in_and_sees_generalised_footprints(browser: Browser, server: LiveServer,
                                                         shots: Path) -> None:
    """Signing out (a CSRF-checked DELETE) returns to the form; a viewer then sees every hazard area as its
    generalised footprint, and the page says so."""
    go(browser, f"{server.base}/map/plan.html", "window.sapperPlan")
    browser.evaluate("document.getElementById('sign-out').click()")
    browser.wait_for("window.sapperSignIn && window.sapperSignIn.ready")
    assert browser.evaluate("document.getElementById('status').textContent") == "You have signed out."
    assert api(browser, "/api/v1/me")["status"] == 401  # type: ignore[index]
    sign_in(browser, "viewer", PASSWORD)
    wait_map(browser)
    assert browser.evaluate("window.sapperMap.renderedFeatureCount('hazards')") == 6
    assert not browser.evaluate("document.getElementById('generalised-badge').hidden")
    browser.screenshot(shots / "map-viewer.png")
    assert_offline(browser, server)


def test_register_without_a_plan(browser: Browser, tmp_path: Path) -> None:
    """On another register with no hazard areas and no plan, the plan page says there is none. (Last: cookies do
    not tell ports apart, so signing in here replaces the session of the first service.)"""
    path = tmp_path / "empty.gpkg"
    build_empty_register(path)
    b = browser
    with LiveServer(path) as live:
        go(b, f"{live.base}/map/plan.html", "window.sapperSignIn && window.sapperSignIn.ready")
        sign_in(b, "ima", PASSWORD)
        b.wait_for("!!window.sapperPlan")
        assert b.evaluate("document.getElementById('status').textContent") == "No plan yet."
        assert b.evaluate("window.sapperPlan.laneCount()") == 0
        assert api(b, "/collections/hazard_areas/items")["numberMatched"] == 0  # type: ignore[index]
        assert not [u for u in b.requests if not u.startswith(("http://127.0.0.1:", "data:", "blob:", "about:"))]


def test_png_decoder_reads_a_known_image() -> None:
    """The screenshot decoder recovers the pixels of a PNG built here, with every row filter."""
    import struct
    import zlib

    width, height = 3, 5
    pixels = [[(x * 40, y * 50, 200) for x in range(width)] for y in range(height)]
    raw = b""
    for y, row in enumerate(pixels):
        line = bytes(c for px in row for c in px)
        prev = bytes(c for px in pixels[y - 1] for c in px) if y else bytes(len(line))
        kind = y % 5
        filtered = bytearray(line)
        for i in range(len(line)):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            p = a + b - c
            pred = [
                0,
                a,
                b,
                (a + b) >> 1,
                a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else (b if abs(p - b) <= abs(p - c) else c),
            ][kind]
            filtered[i] = (line[i] - pred) & 0xFF
        raw += bytes([kind]) + bytes(filtered)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    png = Png.decode(data)
    assert [[tuple(r[i : i + 3]) for i in range(0, 9, 3)] for r in png.rows] == pixels
    assert png.count_near((40, 100, 200), tolerance=0) == 1
