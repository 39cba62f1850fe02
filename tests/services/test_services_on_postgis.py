"""The services on a PostGIS store, as on a GeoPackage file: importing a file, field data staged, reviewed and
applied, and a plan saved and re-planned. (Land release runs on both backends in test_landrelease_service.py; a
whole register copied between them in test_copy.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from sapper.domain.fielddata import StagingState
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import DeminerTeam, Method, Organisation, OrgKind
from sapper.errors import StoreError
from sapper.services import fielddata as fd
from sapper.services.imports import export_file, import_file
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.replan import replan_store
from sapper.services.scenario import build_scenario_register
from sapper.services.settings import Settings
from sapper.store import open_store
from tests.conftest import PostgisServer
from tests.io.field_exports import clearance, odk_zip
from tests.io.messy import messy_hazards
from tests.services.test_fielddata import AT, H1
from tests.services.test_imports import ORG, ORGS
from tests.services.test_replan import _register, _settings, report, week_as_planned


@pytest.fixture
def pg(postgis: PostgisServer) -> str:
    """An empty PostGIS store (its URL)."""
    return postgis.clean_store_database()


def test_import_and_export_on_postgis(pg: str, tmp_path: Path) -> None:
    """A messy file imports the same way as into a GeoPackage (repaired, rejected); an export reads back equal."""
    with open_store(pg) as store:
        store.add_organisations(ORGS)
    messy = messy_hazards(tmp_path / "messy.geojson")
    with open_store(pg) as store:
        summary = import_file(store, messy.path, "hazards")
    assert (summary.imported, [i.id for i in summary.repaired]) == (3, ["bow"])
    assert len(summary.rejected) == len(messy.rejected)
    out = tmp_path / "out.gpkg"
    with open_store(pg) as store:
        assert export_file(store, out, "hazards") == 3
    again = tmp_path / "again.gpkg"
    with open_store(again, create=True) as store:
        store.add_organisations([ORG, *ORGS[1:]])
        import_file(store, out, "hazards")
    with open_store(pg) as a, open_store(again) as b:
        assert [h.id for h in a.hazards()] == [h.id for h in b.hazards()]
        assert all(x.geometry.equals(y.geometry) for x, y in zip(a.hazards(), b.hazards(), strict=True))


def test_field_data_on_postgis(pg: str, tmp_path: Path) -> None:
    """An ODK export is staged once (a second import changes nothing), approved and applied as progress."""
    with open_store(pg) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR)])
        uow.add_hazards([HazardArea("H-1", HazardClass.CHA, H1, Evidence.DIRECT)])
        uow.add_teams([DeminerTeam("T-1", "op-1", Method.MANUAL, 8, H1.centroid, 180.0)])
    export = odk_zip(tmp_path / "day.zip", "sapper_clearance", [clearance("uuid:0a1b861f-a5fd-4f49-846a")])
    with open_store(pg) as store:
        assert fd.import_export(store, export, at=AT).new == 1
        assert fd.import_export(store, export, at=AT).unchanged == 1
    with open_store(pg) as store, store.write() as uow:
        uow.field_staging.transition(1, StagingState.REVIEWED, actor="reviewer", reason="", at=AT)
        uow.field_staging.transition(1, StagingState.APPROVED, actor="reviewer", reason="ok", at=AT)
    with open_store(pg) as store:
        assert fd.apply_approved(store, at=AT).faults == []
    with open_store(pg) as store:
        (progress,) = store.field_progress()
        assert (progress.hazard_id, progress.area_cleared_m2, len(progress.devices)) == ("H-1", 250.5, 2)
        staged = store.field_submission(1)
        assert staged.state is StagingState.APPLIED
        assert [e.to_state for e in staged.history][-1] is StagingState.APPLIED


def test_plan_and_replan_on_postgis(pg: str) -> None:
    """The replan test register is planned, a week is reported as planned, and the re-plan is saved linked."""
    _register(pg)  # type: ignore[arg-type]
    with open_store(pg) as store:
        first = plan_store(store, settings=PlanSettings(time_limit_s=5))
    assert first.summary.status in ("optimal", "feasible")
    report(pg, week_as_planned(pg))  # type: ignore[arg-type]
    with open_store(pg) as store:
        outcome = replan_store(store, settings=_settings())
        latest = store.latest_plan()
        assert latest is not None and latest.id == outcome.run.id
        assert latest.params.replan is not None and latest.params.replan.replan_of == first.run.id
        assert store.plan(first.run.id).tasks  # the first plan is kept
        assert len(store.field_progress()) > 0
    assert outcome.changes.counts.moved == 0



def test_scenario_is_built_only_into_an_empty_database(pg: str) -> None:
    """A database holding records is refused before anything is built; --replace is for files only."""
    with open_store(pg) as store:
        store.set_meta({"owner": "someone"})
    with pytest.raises(StoreError, match="already holds records"):
        build_scenario_register(Settings(db=pg.replace("+psycopg", "")), "kursk-border")
    with pytest.raises(StoreError, match="deletes a store file"):
        build_scenario_register(Settings(db=pg.replace("+psycopg", "")), "kursk-border", replace=True)
    with open_store(pg) as store:
        assert store.counts()["sapper_meta"] == 1 and store.counts()["hazard_areas"] == 0
