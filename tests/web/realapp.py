"""The real service for the browser tests: a register built with the README tour's example files (synthetic, near
Sudzha) through sapper's own services, served by ``create_app`` under uvicorn on 127.0.0.1 with a free port, in a
thread.

The register: the national authority, the examples' operator and builders (named), users made by
``services.accounts``; the six example hazard areas, five assets and eight teams and brigades; land release recorded
through ``services.landrelease`` so the map has every phase (EX-H1, EX-H5, EX-H6 open; EX-H2 in progress: half
reduced by TS; EX-H3 processed: cleared, awaiting inspection; EX-H4 released: cleared, inspected, accepted); a greedy
plan made after that (EX-H4, released, is not planned); and the examples' ODK Central export staged for review.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from pathlib import Path

import shapely
import uvicorn

from sapper.api import Settings, create_app
from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.landrelease import Inspection
from sapper.domain.resources import OrgKind
from sapper.domain.users import Role
from sapper.plan import Engine
from sapper.services import accounts, fielddata, imports, landrelease
from sapper.services.planning import PlanSettings, plan_store
from sapper.store import open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PASSWORD = "a long password for the map"
#: user → (role, organisation)
USERS = {"ima": (Role.IM_OFFICER, "NMAA"), "viewer": (Role.VIEWER, "NMAA")}
#: The land-release phase each example hazard area is put in.
PHASES = {"EX-H1": "open", "EX-H2": "in_progress", "EX-H3": "processed", "EX-H4": "released", "EX-H5": "open",
          "EX-H6": "open"}
START = dt.date(2026, 11, 2)
WHEN = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _people(store_path: Path) -> None:
    with open_store(store_path, create=True) as store:
        accounts.add_organisation(store, "NMAA", name="National Mine Action Authority (synthetic)",
                                  kind=OrgKind.AUTHORITY, authority=True)
        for name, (role, org) in USERS.items():
            accounts.add_user(store, name, role=role, organisation_id=org, password=PASSWORD)


def build_register(store_path: Path) -> None:
    """The register described above, in a new GeoPackage at ``store_path``."""
    _people(store_path)
    with open_store(store_path) as store:
        accounts.add_organisation(store, "OP-1", name="Demining operator 1 (synthetic)")
        accounts.add_organisation(store, "BLD-1", name="Reconstruction agency (synthetic)", kind=OrgKind.CONTRACTOR)
        imports.import_file(store, EXAMPLES / "survey.geojson", "hazards")
        imports.import_file(store, EXAMPLES / "damage.csv", "assets", crs="EPSG:4326")
        imports.import_workforce(store, EXAMPLES / "teams.csv")
        areas = {h.id: h.geometry for h in store.hazards()}

        def activity(hazard_id: str, kind: ActivityType, **outcome: object) -> Activity:
            return Activity(f"ACT-{hazard_id}", hazard_id, kind, ActivityStatus.COMPLETED, organisation_id="OP-1",
                            start=WHEN.date(), end=WHEN.date(),
                            clearance_depth_cm=20 if kind is ActivityType.CLEARANCE else None, **outcome)  # type: ignore[arg-type]

        minx, miny, maxx, maxy = areas["EX-H2"].bounds
        landrelease.record_activity(store, activity("EX-H2", ActivityType.TS, reduced=shapely.box(
            minx, miny, (minx + maxx) / 2, maxy)), actor="OP-1 team leader", reason="TS report 7", at=WHEN)
        for hazard_id in ("EX-H3", "EX-H4"):
            landrelease.record_activity(store, activity(hazard_id, ActivityType.CLEARANCE,
                                                        cleared=areas[hazard_id].buffer(1e-4)),
                                        actor="OP-1 team leader", reason="completion report", at=WHEN)
        landrelease.inspect(store, "EX-H4", Inspection("QC-1", WHEN.date(), 1200.0, True, "NMAA QA"),
                            actor="qa", reason="QC report 1", at=WHEN)
        landrelease.accept(store, "EX-H4", authority="NMAA", actor="director", reason="CR-17", at=WHEN)
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5, start_date=START))
        fielddata.import_export(store, EXAMPLES / "odk_clearance.zip")


def build_empty_register(store_path: Path) -> None:
    """A register with its users and nothing else: no hazard areas, no plan."""
    _people(store_path)


class LiveServer:
    """``create_app`` over a store, served by uvicorn on 127.0.0.1 (a free port) in a thread; a context manager."""

    def __init__(self, store_path: Path) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        app = create_app(Settings(db=store_path, development=True))
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    @property
    def base(self) -> str:
        """The server's origin, e.g. http://127.0.0.1:40123."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()
