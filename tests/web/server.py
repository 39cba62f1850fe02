"""A stand-in for sapper's API, for the browser tests: serves the static UI under /map/ and answers the API URLs of
docs/web.md with fixture JSON built in code (six hazard areas near Sudzha, three assets, a plan, two staged field
submissions). Every request is logged; POSTs must carry the CSRF header that matches the session cookie.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from sapper.web import MEDIA_TYPES, static_dir

CSRF = "test-csrf-token-5f2c"
SUDZHA = (35.2700, 51.1917)
PHASES = ["open", "in_progress", "processed", "released", "open", "in_progress"]
RELEASE_DATES = ["2027-06-30", "2027-04-15", "2027-02-01", None, "2027-09-30", "2027-05-20"]


def square(cx: float, cy: float, half: float = 0.004) -> dict[str, Any]:
    """A square polygon (GeoJSON geometry) around (cx, cy), half-side in degrees of latitude."""
    hx = half * 1.6  # about as wide as tall at 51° N
    ring = [
        [cx - hx, cy - half],
        [cx + hx, cy - half],
        [cx + hx, cy + half],
        [cx - hx, cy + half],
        [cx - hx, cy - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def hazard_features() -> list[dict[str, Any]]:
    """Six hazard areas in a ring around Sudzha, one per land-release phase and two more."""
    features = []
    for i, (phase, release) in enumerate(zip(PHASES, RELEASE_DATES, strict=True)):
        cx = SUDZHA[0] + 0.03 * ((i % 3) - 1)
        cy = SUDZHA[1] + (0.015 if i < 3 else -0.015)
        features.append(
            {
                "type": "Feature",
                "id": f"HZ-{i + 1:03d}",
                "geometry": square(cx, cy),
                "properties": {
                    "id": f"HZ-{i + 1:03d}",
                    "name": f"Field {i + 1} (synthetic)",
                    "hazard_class": "CHA" if i % 2 else "SHA",
                    "state": "confirmed",
                    "release_phase": phase,
                    "planned_release_date": release,
                    "area_m2": 500_000 + 10_000 * i,
                    "synthetic": True,
                    "generalised": False,
                },
            }
        )
    return features


def asset_features() -> list[dict[str, Any]]:
    """A bridge (point), a road (line) and a school (point) near Sudzha."""
    return [
        {
            "type": "Feature",
            "id": "AS-001",
            "geometry": {"type": "Point", "coordinates": [SUDZHA[0], SUDZHA[1] + 0.003]},
            "properties": {
                "id": "AS-001",
                "name": "Bridge over the Sudzha",
                "asset_type": "bridge",
                "planned_restoration_date": "2027-03-01",
                "synthetic": True,
            },
        },
        {
            "type": "Feature",
            "id": "AS-002",
            "geometry": {
                "type": "LineString",
                "coordinates": [[SUDZHA[0] - 0.05, SUDZHA[1]], [SUDZHA[0] + 0.05, SUDZHA[1] - 0.002]],
            },
            "properties": {
                "id": "AS-002",
                "name": "Road R-200",
                "asset_type": "road",
                "planned_restoration_date": "2027-08-01",
                "synthetic": True,
            },
        },
        {
            "type": "Feature",
            "id": "AS-003",
            "geometry": {"type": "Point", "coordinates": [SUDZHA[0] + 0.01, SUDZHA[1] - 0.006]},
            "properties": {
                "id": "AS-003",
                "name": "School 2",
                "asset_type": "school",
                "planned_restoration_date": None,
                "synthetic": True,
            },
        },
    ]


def hazard_detail(feature: dict[str, Any]) -> dict[str, Any]:
    """GET /api/hazards/{id}: the record with its balance, land-release history and plan dates."""
    p = feature["properties"]
    area = p["area_m2"]
    return {
        "id": p["id"],
        "name": p["name"],
        "hazard_class": p["hazard_class"],
        "state": p["state"],
        "release_phase": p["release_phase"],
        "area_m2": area,
        "synthetic": True,
        "generalised": False,
        "balance": {
            "original_m2": area,
            "cancelled_m2": 100_000,
            "reduced_m2": 50_000,
            "cleared_m2": 25_000,
            "remaining_m2": area - 175_000,
        },
        "history": [
            {
                "seq": 1,
                "kind": "recorded",
                "date": "2026-03-02",
                "actor": "IMSMA import",
                "reason": "Записано в реєстр",
                "area_m2": area,
            },
            {
                "seq": 2,
                "kind": "activity",
                "date": "2026-05-14",
                "actor": "Team Alpha",
                "reason": "NTS: no evidence",
                "area_m2": 100_000,
            },
        ],
        "plan": (
            {"survey_start": "2027-01-10", "clearance_start": "2027-02-01", "release_date": p["planned_release_date"]}
            if p["planned_release_date"]
            else None
        ),
    }


def gantt() -> dict[str, Any]:
    """GET /api/plan/latest/gantt: two operators' teams and a reconstruction agency's brigades."""

    def lane(lane_id: str, label: str, org: str, role: str, tasks: list[tuple[str, str, str, str]]) -> dict[str, Any]:
        return {
            "id": lane_id,
            "label": label,
            "organisation": org,
            "role": role,
            "tasks": [
                {"id": f"{lane_id}-{n}", "kind": kind, "label": target, "target_id": target, "start": start, "end": end}
                for n, (kind, target, start, end) in enumerate(tasks)
            ],
        }

    return {
        "plan_id": "P-7",
        "created": "2026-12-01",
        "start": "2027-01-01",
        "end": "2027-10-01",
        "synthetic": True,
        "lanes": [
            lane(
                "T-1",
                "Team Alpha",
                "FSD",
                "team",
                [
                    ("survey", "Field 1", "2027-01-10", "2027-01-20"),
                    ("clearance", "Field 1", "2027-02-01", "2027-06-30"),
                ],
            ),
            lane("T-2", "Team Bravo", "FSD", "team", [("clearance", "Field 2", "2027-01-15", "2027-04-15")]),
            lane("T-3", "Команда Гамма", "HALO", "team", [("clearance", "Field 5", "2027-05-01", "2027-09-30")]),
            lane(
                "B-1",
                "Brigade 1",
                "Reconstruction agency",
                "brigade",
                [
                    ("restoration", "Bridge over the Sudzha", "2027-02-01", "2027-03-01"),
                    ("restoration", "Road R-200", "2027-05-01", "2027-08-01"),
                ],
            ),
        ],
    }


def burndown() -> dict[str, Any]:
    """GET /api/plan/latest/burndown: released km² and restored assets, month by month."""
    points = [
        ("2027-01-01", 0.0, 0),
        ("2027-02-01", 0.5, 0),
        ("2027-03-01", 0.5, 1),
        ("2027-04-15", 1.03, 1),
        ("2027-06-30", 1.53, 1),
        ("2027-08-01", 1.53, 2),
        ("2027-09-30", 2.07, 2),
    ]
    return {
        "plan_id": "P-7",
        "total_km2": 3.15,
        "total_assets": 3,
        "synthetic": True,
        "points": [{"date": d, "released_km2": km2, "restored_assets": n} for d, km2, n in points],
    }


def submissions() -> list[dict[str, Any]]:
    """GET /api/submissions?state=staged: two ODK Central submissions awaiting review."""
    return [
        {
            "id": "uuid:4b1f",
            "source": "odk_central",
            "form_id": "clearance_daily",
            "submitted_at": "2026-12-05T16:20:00Z",
            "submitter": "Team Alpha",
            "target": {"kind": "hazard", "id": "HZ-001", "name": "Field 1 (synthetic)"},
            "summary": "Cleared 2,400 m², 3 AP mines",
            "synthetic": True,
        },
        {
            "id": "uuid:9c2e",
            "source": "odk_central",
            "form_id": "clearance_daily",
            "submitted_at": "2026-12-06T15:05:00Z",
            "submitter": "Team Bravo",
            "target": {"kind": "hazard", "id": "HZ-002", "name": "Field 2 (synthetic)"},
            "summary": "Очищено 1 800 м²",
            "synthetic": True,
        },
    ]


@dataclass
class FakeApi:
    """The fixture state a test server answers from, and what the browser asked of it."""

    hazards: list[dict[str, Any]] = field(default_factory=hazard_features)
    assets: list[dict[str, Any]] = field(default_factory=asset_features)
    log: list[tuple[str, str]] = field(default_factory=list)
    posts: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    decided: dict[str, str] = field(default_factory=dict)
    require_login: bool = False  # answer 401 to every data request, as the API does without a session
    has_plan: bool = True


def make_handler(api: FakeApi) -> type[SimpleHTTPRequestHandler]:
    """A request handler class bound to one FakeApi."""

    class Handler(SimpleHTTPRequestHandler):
        extensions_map: ClassVar[dict[str, str]] = {**SimpleHTTPRequestHandler.extensions_map, **MEDIA_TYPES}

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(static_dir()), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, body: Any, status: int = 200, content_type: str = "application/json") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _problem(self, status: int, title: str) -> None:
            self._json(
                {"type": "about:blank", "status": status, "title": title, "detail": title},
                status,
                "application/problem+json",
            )

        def do_GET(self) -> None:
            api.log.append(("GET", self.path))
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            parts = [unquote(p) for p in url.path.strip("/").split("/")]
            if parts[0] == "map":
                self.path = "/" + "/".join(parts[1:]) + (f"?{url.query}" if url.query else "")
                if self.path == "/":
                    self.path = "/index.html"
                return super().do_GET()
            if api.require_login and parts[0] in ("api", "collections"):
                return self._problem(401, "not authenticated")
            if url.path.startswith("/api/plan/") and not api.has_plan:
                return self._problem(404, "no plan yet")
            if parts[0] == "collections" and len(parts) == 3 and parts[2] == "items":
                features = {"hazard_areas": api.hazards, "assets": api.assets}.get(parts[1])
                if features is None:
                    return self._problem(404, f"no collection {parts[1]}")
                limit = int(query.get("limit", ["10"])[0])
                offset = int(query.get("offset", ["0"])[0])
                page = features[offset : offset + limit]
                links = [{"rel": "self", "href": self.path, "type": "application/geo+json"}]
                if offset + limit < len(features):
                    # As a real server does: an absolute link on its own origin.
                    host = self.headers["Host"]
                    links.append(
                        {
                            "rel": "next",
                            "type": "application/geo+json",
                            "href": f"http://{host}{url.path}?limit={limit}&offset={offset + limit}&f=json",
                        }
                    )
                return self._json(
                    {
                        "type": "FeatureCollection",
                        "features": page,
                        "numberMatched": len(features),
                        "numberReturned": len(page),
                        "links": links,
                    },
                    content_type="application/geo+json",
                )
            if parts[:2] == ["api", "hazards"] and len(parts) == 3:
                match = [f for f in api.hazards if f["id"] == parts[2]]
                return (
                    self._json(hazard_detail(match[0])) if match else self._problem(404, f"hazard {parts[2]} not found")
                )
            if parts[:2] == ["api", "assets"] and len(parts) == 3:
                match = [f for f in api.assets if f["id"] == parts[2]]
                if not match:
                    return self._problem(404, f"asset {parts[2]} not found")
                p = match[0]["properties"]
                plan = {"restoration_start": "2027-02-01", "restoration_end": p["planned_restoration_date"]}
                return self._json(
                    {
                        "id": p["id"],
                        "name": p["name"],
                        "asset_type": p["asset_type"],
                        "damage": "severe",
                        "synthetic": True,
                        "plan": plan if p["planned_restoration_date"] else None,
                    }
                )
            if url.path == "/api/plan/latest/gantt":
                return self._json(gantt())
            if url.path == "/api/plan/latest/burndown":
                return self._json(burndown())
            if url.path == "/api/submissions":
                return self._json({"items": [s for s in submissions() if s["id"] not in api.decided]})
            return self._problem(404, f"no route {url.path}")

        def end_headers(self) -> None:
            if self.path.endswith(".html"):
                self.send_header("Set-Cookie", f"sapper_csrf={CSRF}; Path=/; SameSite=Strict")
            super().end_headers()

        def do_POST(self) -> None:
            api.log.append(("POST", self.path))
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            api.posts.append((unquote(self.path), body, self.headers.get("X-CSRF-Token")))
            if self.headers.get("X-CSRF-Token") != CSRF:
                return self._problem(403, "CSRF token missing or wrong")
            parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
            if parts[:2] == ["api", "submissions"] and len(parts) == 4 and parts[3] in ("approve", "reject"):
                state = "approved" if parts[3] == "approve" else "rejected"
                api.decided[parts[2]] = state
                return self._json({"id": parts[2], "state": state})
            if parts[:2] == ["api", "hazards"] and len(parts) == 4 and parts[3] == "outcomes":
                match = [f for f in api.hazards if f["id"] == parts[2]]
                if not match:
                    return self._problem(404, f"hazard {parts[2]} not found")
                match[0]["properties"]["release_phase"] = "in_progress"
                outcome = {
                    "id": "OC-1",
                    "kind": body["kind"],
                    "area_m2": 12_345,
                    "clipped": True,
                    "note": "0.4 ha outside the hazard area removed",
                }
                return self._json({"hazard": hazard_detail(match[0]), "outcome": outcome}, 201)
            return self._problem(404, f"no route {self.path}")

    return Handler


class TestServer:
    """The fake API on 127.0.0.1 with a free port, in a thread; use as a context manager."""

    __test__ = False  # not a pytest test class

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """The server's origin, e.g. http://127.0.0.1:40123."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> TestServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
