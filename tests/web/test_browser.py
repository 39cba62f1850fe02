"""The map UI in headless Chromium against a fake API on 127.0.0.1: layers render, colours show, clicks, drawing,
review decisions and the language switch work, and no request leaves the machine.

Skipped (with the reason printed) only when Chromium is not installed; under CI (env CI set) that is a failure.
Screenshots go to $SAPPER_WEB_SCREENSHOTS, or to pytest's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.chromium import Browser, Png, find_chromium
from tests.web.server import CSRF, FakeApi, TestServer

# The land-release colours of js/map.js (STATE_COLOURS); the test reads them from the page too.
STATE_RGB = {
    "open": (0xD7, 0x30, 0x1F),
    "in_progress": (0xFD, 0x8D, 0x3C),
    "processed": (0xF2, 0xD6, 0x00),
    "released": (0x1A, 0x98, 0x50),
}
NO_DATE_RGB = (0x9E, 0x9E, 0x9E)
EARLIEST_RGB = (0x21, 0x66, 0xAC)


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
def server() -> Iterator[TestServer]:
    """The fake API, fresh for this module."""
    with TestServer(FakeApi()) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """One headless Chromium for the module (a fresh profile)."""
    with Browser(chromium) as b:
        yield b


def open_map(browser: Browser, server: TestServer, query: str = "") -> None:
    """Load the map page and wait until its layers have loaded and drawn."""
    browser.goto(f"{server.base}/map/index.html{query}")
    browser.wait_for("window.sapperMap && window.sapperMap.ready")
    assert browser.evaluate("window.sapperMap.ready") is True
    idle(browser)


def idle(browser: Browser) -> None:
    """Wait for the map to finish rendering after a change."""
    browser.evaluate(
        "new Promise((r) => { const m = window.sapperMap.map; m.once('idle', () => r(true)); m.triggerRepaint(); })"
    )


def hazard_pixel(browser: Browser, hazard_id: str) -> tuple[float, float]:
    """The viewport pixel at the centre of a hazard area (page coordinates of the map canvas)."""
    x, y = browser.evaluate(
        f"""(() => {{ const m = window.sapperMap.map;
          const f = m.getSource('hazards')._data.geojson.features.find((f) => f.id === '{hazard_id}');
          const ring = f.geometry.coordinates[0];
          const lng = (ring[0][0] + ring[2][0]) / 2, lat = (ring[0][1] + ring[2][1]) / 2;
          const p = m.project([lng, lat]); const r = m.getCanvas().getBoundingClientRect();
          return [p.x + r.left, p.y + r.top]; }})()"""
    )
    return float(x), float(y)


def assert_offline(browser: Browser, server: TestServer) -> None:
    """Every request the browser made went to the test server (data: URLs are in-page)."""
    foreign = [u for u in browser.requests if not u.startswith((server.base + "/", "data:", "blob:"))]
    assert browser.requests and not foreign, foreign


def test_map_renders_hazards_and_assets_offline(browser: Browser, server: TestServer, shots: Path) -> None:
    """The map draws all six hazard areas and the assets, in the four state colours, with nothing fetched elsewhere."""
    open_map(browser, server)
    assert browser.evaluate("window.sapperMap.renderedFeatureCount('hazards')") == 6
    assert browser.evaluate("window.sapperMap.renderedFeatureCount('assets')") == 3
    assert browser.evaluate("window.sapperMap.renderedFeatureCount('towns')") >= 1
    colours = browser.evaluate("window.sapperMap.STATE_COLOURS")
    assert {k: tuple(int(v[i : i + 2], 16) for i in (1, 3, 5)) for k, v in colours.items()} == STATE_RGB
    png = browser.screenshot(shots / "map.png")
    for phase, rgb in STATE_RGB.items():
        assert png.count_near(rgb, step=2) > 200, f"no {phase} hazard fill in the screenshot"
    assert not browser.evaluate("document.getElementById('synthetic-badge').hidden")
    assert "Natural Earth" in browser.evaluate("document.querySelector('.maplibregl-ctrl-attrib').textContent")
    assert "GeoNames CC BY 4.0" in browser.evaluate("document.querySelector('.maplibregl-ctrl-attrib').textContent")
    assert browser.exceptions == []
    assert_offline(browser, server)
    assert ("GET", "/collections/hazard_areas/items?limit=500&f=json") in server.api.log


def test_map_follows_next_links(browser: Browser, server: TestServer) -> None:
    """With a page size below the collection's, the layer still gets every feature by following rel=next."""
    count = browser.evaluate(
        "import('./js/api.js').then((m) => m.allFeatures('hazard_areas', { limit: 4 }))"
        ".then((fc) => fc.features.length)"
    )
    assert count == 6
    assert ("GET", "/collections/hazard_areas/items?limit=4&offset=4&f=json") in server.api.log


def test_colour_by_planned_release_date(browser: Browser, server: TestServer, shots: Path) -> None:
    """The toggle recolours hazards by planned release date: state colours go, the unplanned one turns grey."""
    browser.evaluate("document.querySelector('input[name=colour][value=date]').click()")
    idle(browser)
    png = browser.screenshot(shots / "map-by-date.png")
    assert browser.evaluate("window.sapperMap.mode") == "date"
    assert png.count_near(STATE_RGB["open"], step=2) == 0
    assert png.count_near(NO_DATE_RGB, step=2) > 200  # the released area has no planned date
    assert png.count_near(EARLIEST_RGB, step=2) > 200  # the earliest release (2027-02-01)
    legend = browser.evaluate("document.getElementById('legend-items').textContent")
    assert "not planned" in legend and "2027" in legend
    browser.evaluate("document.querySelector('input[name=colour][value=state]').click()")
    idle(browser)


def test_click_shows_record_history_and_plan(browser: Browser, server: TestServer, shots: Path) -> None:
    """Clicking a hazard area fetches its record and shows its balance, history rows and plan dates."""
    x, y = hazard_pixel(browser, "HZ-001")
    browser.click(x, y)
    browser.wait_for("document.querySelectorAll('#record table.history tbody tr').length === 2")
    text = browser.evaluate("document.getElementById('record').textContent")
    assert "Field 1 (synthetic)" in text and "Land-release history" in text
    assert "Jun 30, 2027" in text  # planned release
    assert "Записано в реєстр" in text  # a Cyrillic reason renders as text
    assert ("GET", "/api/hazards/HZ-001") in server.api.log
    browser.screenshot(shots / "map-record.png")


def test_draw_an_outcome_polygon_posts_it(browser: Browser, server: TestServer, shots: Path) -> None:
    """Clicking four vertices and double-clicking posts a closed polygon, with the CSRF header, to the hazard."""
    x, y = hazard_pixel(browser, "HZ-001")
    browser.evaluate("document.getElementById('draw-start').click()")
    for dx, dy in ((-20, -15), (20, -15), (25, 15)):
        browser.click(x + dx, y + dy)
    browser.click(x - 20, y + 15)
    browser.click(x - 20, y + 15, count=2)
    browser.wait_for("!document.getElementById('outcome-form').hidden")
    browser.screenshot(shots / "map-draw.png")
    browser.evaluate("""(() => { const f = document.getElementById('outcome-form');
        f.elements.kind.value = 'reduced'; f.elements.reason.value = 'TS: no contamination found';
        f.requestSubmit(); })()""")
    browser.wait_for("document.getElementById('status').textContent.includes('Recorded')")
    path, body, token = server.api.posts[-1]
    assert path == "/api/hazards/HZ-001/outcomes" and token == CSRF
    assert body["kind"] == "reduced" and body["reason"] == "TS: no contamination found"
    ring = body["geometry"]["coordinates"][0]
    assert body["geometry"]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
    assert "clipped" in browser.evaluate("document.getElementById('status').textContent")
    assert_offline(browser, server)


def test_draw_refuses_fewer_than_three_vertices(browser: Browser, server: TestServer) -> None:
    """Finishing a sketch of two vertices posts nothing and says why."""
    posts = len(server.api.posts)
    x, y = hazard_pixel(browser, "HZ-002")
    browser.evaluate("document.getElementById('draw-start').click()")
    browser.click(x - 10, y)
    browser.click(x + 10, y)
    browser.click(x + 10, y, count=2)
    browser.wait_for("document.getElementById('status').textContent.includes('three vertices')")
    assert len(server.api.posts) == posts
    assert browser.evaluate("document.getElementById('outcome-form').hidden")


def test_language_switch_to_ukrainian_and_russian(browser: Browser, server: TestServer, shots: Path) -> None:
    """The switcher re-labels the page in Ukrainian, then Russian, and remembers the choice across pages."""
    for lang, open_label, badge in (("uk", "відкрита", "СИНТЕТИЧНІ ДАНІ"), ("ru", "открыт", "СИНТЕТИЧЕСКИЕ ДАННЫЕ")):
        browser.evaluate(f"""(() => {{ const s = document.getElementById('lang'); s.value = '{lang}';
            s.dispatchEvent(new Event('change')); }})()""")
        browser.wait_for(
            f"document.documentElement.lang === '{lang}' && "
            f"document.getElementById('legend-items').textContent.includes('{open_label}')"
        )
        assert browser.evaluate("document.getElementById('synthetic-badge').textContent") == badge
        browser.screenshot(shots / f"map-{lang}.png")
    open_map(browser, server)
    assert browser.evaluate("document.documentElement.lang") == "ru"
    assert "Курская область" in browser.evaluate(
        "[...document.querySelectorAll('.oblast-label')].map((e) => e.textContent).join('|')"
    )
    browser.evaluate("localStorage.setItem('sapper.lang', 'en')")


def test_generalised_footprints_are_said(browser: Browser, server: TestServer) -> None:
    """Given a viewer's generalised footprints the map still draws them and says they are generalised."""
    for feature in server.api.hazards:
        feature["properties"]["generalised"] = True
    try:
        open_map(browser, server)
        assert browser.evaluate("window.sapperMap.renderedFeatureCount('hazards')") == 6
        assert not browser.evaluate("document.getElementById('generalised-badge').hidden")
    finally:
        for feature in server.api.hazards:
            feature["properties"]["generalised"] = False


def test_plan_page_gantt_and_burndown(browser: Browser, server: TestServer, shots: Path) -> None:
    """The plan page labels every lane, groups lanes by organisation and role, and draws the burn-down."""
    browser.goto(f"{server.base}/map/plan.html")
    browser.wait_for("window.sapperPlan")
    assert browser.evaluate("window.sapperPlan.laneCount()") == 4
    assert browser.evaluate("window.sapperPlan.barCount()") == 6
    assert browser.evaluate("window.sapperPlan.laneLabels()") == [
        "Team Alpha",
        "Team Bravo",
        "Команда Гамма",
        "Brigade 1",
    ]
    groups = browser.evaluate("[...document.querySelectorAll('#gantt .group')].map((e) => e.textContent)")
    assert groups == ["FSD · Teams", "HALO · Teams", "Reconstruction agency · Brigades"]
    assert browser.evaluate("window.sapperPlan.burndownDrawn()") is True
    png = browser.screenshot(shots / "plan.png")
    assert png.count_near((0xFB, 0x80, 0x72), step=2) > 100  # clearance bars
    assert_offline(browser, server)


def test_review_page_approves_and_rejects_with_csrf(browser: Browser, server: TestServer, shots: Path) -> None:
    """Approve and reject (with a reason) post to the API with the CSRF header; a reject without a reason is held."""
    browser.goto(f"{server.base}/map/review.html")
    browser.wait_for("window.sapperReview && window.sapperReview.rowCount() === 2")
    posts = len(server.api.posts)
    browser.evaluate("document.querySelector('button[data-action=reject][data-id=\"uuid:9c2e\"]').click()")
    browser.wait_for("document.getElementById('status').classList.contains('error')")
    assert len(server.api.posts) == posts  # no reason given: nothing sent
    browser.evaluate("document.querySelector('button[data-action=approve][data-id=\"uuid:4b1f\"]').click()")
    browser.wait_for("window.sapperReview.decisions['uuid:4b1f'] === 'approved'")
    browser.evaluate("""(() => { document.querySelector('input[data-reason="uuid:9c2e"]').value = 'Wrong hazard area';
        document.querySelector('button[data-action=reject][data-id="uuid:9c2e"]').click(); })()""")
    browser.wait_for("window.sapperReview.decisions['uuid:9c2e'] === 'rejected'")
    assert server.api.posts[-2:] == [
        ("/api/submissions/uuid:4b1f/approve", {}, CSRF),
        ("/api/submissions/uuid:9c2e/reject", {"reason": "Wrong hazard area"}, CSRF),
    ]
    assert server.api.decided == {"uuid:4b1f": "approved", "uuid:9c2e": "rejected"}
    browser.screenshot(shots / "review.png")
    assert browser.exceptions == []
    assert_offline(browser, server)


def test_pages_without_a_session_ask_to_sign_in(browser: Browser, server: TestServer) -> None:
    """When the API answers 401 the map and the review page say to sign in instead of failing silently."""
    server.api.require_login = True
    try:
        browser.goto(f"{server.base}/map/index.html")
        browser.wait_for("window.sapperMap && window.sapperMap.ready")
        browser.evaluate("window.sapperMap.ready")
        assert "Sign in" in browser.evaluate("document.getElementById('status').textContent")
        assert browser.evaluate("window.sapperMap.renderedFeatureCount('hazards')") == 0
        browser.goto(f"{server.base}/map/review.html")
        browser.wait_for("window.sapperReview")
        assert "Sign in" in browser.evaluate("document.getElementById('status').textContent")
    finally:
        server.api.require_login = False


def test_plan_page_without_a_plan_says_so(browser: Browser, server: TestServer) -> None:
    """With no plan yet (404) the plan page says so and draws no lanes."""
    server.api.has_plan = False
    try:
        browser.goto(f"{server.base}/map/plan.html")
        browser.wait_for("window.sapperPlan")
        assert browser.evaluate("document.getElementById('status').textContent") == "No plan yet."
        assert browser.evaluate("window.sapperPlan.laneCount()") == 0
    finally:
        server.api.has_plan = True


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
