"""The command line's bulk writes (file and IMSMA imports, scenario build, the land-release commands) leave one audit
row per hazard area, asset and activity written, in the same transaction as the write."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import shapely

from sapper.domain.activities import Activity, ActivityStatus, ActivityType
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import Organisation, OrgKind
from sapper.domain.users import AuditEntry
from sapper.errors import ValidationError
from sapper.services import landrelease as lr
from sapper.services.imports import import_file
from sapper.services.imsma import export_imsma, import_imsma
from sapper.store import Store, open_store
from tests.io.imsma_records import make_store
from tests.io.messy import box_ring, feature, polygon, write_geojson

ORG = Organisation("org-1", "Demining Operator One", OrgKind.OPERATOR)
T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)


def rows(store: Store, table: str) -> list[AuditEntry]:
    """The audit rows of ``table``, oldest first."""
    return list(reversed(store.audit_entries(table_name=table, limit=100_000)))


def hazards_file(path: Path, ids: list[str], *, west: float = 36.0) -> Path:
    return write_geojson(
        path,
        [
            feature(polygon(box_ring(west + 0.02 * n, 51.0)), id=i, hazard_class="SHA", organisation_id="org-1")
            for n, i in enumerate(ids)
        ],
    )


def test_a_file_import_audits_every_record_it_writes(store_target: str | Path, tmp_path: Path) -> None:
    """Each hazard area imported gets an ``insert`` row naming the command and the file, with its attributes and its
    geometry's hash and area; a re-import with replace gets ``update`` rows; nothing else is audited."""
    with open_store(store_target, create=True) as store:
        store.add_organisations([ORG])
        first = import_file(store, hazards_file(tmp_path / "a.geojson", ["h-1", "h-2", "h-3"]), "hazards")
        assert first.imported == 3
        found = rows(store, "hazard_areas")
        assert [(r.record_id, r.action, r.actor, r.reason) for r in found] == [
            (i, "insert", "sapper import hazards", "import of a.geojson") for i in ("h-1", "h-2", "h-3")
        ]
        after = json.loads(found[0].after_json or "{}")
        stored = store.hazard("h-1")
        assert after["hazard_class"] == "SHA" and after["organisation_id"] == "org-1"
        assert after["area_m2"] == pytest.approx(area_m2(stored.geometry), abs=0.1)
        assert len(after["geometry_sha256"]) == 64

        import_file(store, hazards_file(tmp_path / "b.geojson", ["h-2"], west=37.0), "hazards", replace=True)
        again = rows(store, "hazard_areas")[3:]
        assert [(r.record_id, r.action, r.reason) for r in again] == [("h-2", "update", "import of b.geojson")]
        assert json.loads(again[0].after_json or "{}")["geometry_sha256"] != after["geometry_sha256"]
        assert store.audit_entries(table_name="assets") == []


def test_audit_rows_commit_with_the_import_or_not_at_all(store_target: str | Path, tmp_path: Path) -> None:
    """A dry run audits nothing; an import whose unit of work is then refused leaves neither records nor audit
    rows."""
    with open_store(store_target, create=True) as store:
        store.add_organisations([ORG])
        import_file(store, hazards_file(tmp_path / "a.geojson", ["h-1"]), "hazards")
        import_file(store, hazards_file(tmp_path / "b.geojson", ["h-2"]), "hazards", dry_run=True)
        with pytest.raises(ValidationError), store.write() as uow:
            import_file(store, hazards_file(tmp_path / "c.geojson", ["h-5"]), "hazards")
            uow.add_hazards([HazardArea("h-1", HazardClass.SHA, shapely.box(30, 50, 30.01, 50.01), Evidence.INDIRECT)])
        assert [r.record_id for r in rows(store, "hazard_areas")] == ["h-1"]
        assert [h.id for h in store.hazards()] == ["h-1"]


def test_an_imsma_import_audits_hazards_and_activities(tmp_path: Path) -> None:
    """Importing an IMSMA exchange file audits every hazard area and activity it adds."""
    source = make_store(tmp_path / "a.gpkg")
    with open_store(source) as store:
        export_imsma(store, tmp_path / "exchange.xlsx")
    with open_store(tmp_path / "b.gpkg", create=True) as fresh:
        summary = import_imsma(fresh, tmp_path / "exchange.xlsx")
        hazards, activities = rows(fresh, "hazard_areas"), rows(fresh, "activities")
        assert sorted(r.record_id for r in hazards) == sorted(h.id for h in fresh.hazards())
        assert sorted(r.record_id for r in activities) == sorted(a.id for a in fresh.activities())
        assert len(activities) == summary.counts.activities
        assert {(r.actor, r.action, r.reason) for r in [*hazards, *activities]} == {
            ("sapper import imsma", "insert", "IMSMA import of exchange.xlsx")
        }


def test_release_commands_audit_the_activity_and_the_hazard_area(store_target: str | Path) -> None:
    """A land-release command audits the activity it writes and the hazard area whose history moved, as the actor
    named, with the reason given; a refused transition audits nothing."""
    field = shapely.box(35.30, 51.30, 35.302, 51.301)
    with open_store(store_target, create=True) as store:
        store.add_organisations([ORG])
        store.add_hazards([HazardArea("H-1", HazardClass.SHA, field, Evidence.INDIRECT)])
        lr.record_activity(
            store,
            Activity(
                "A-1",
                "H-1",
                ActivityType.NTS,
                ActivityStatus.COMPLETED,
                organisation_id="org-1",
                end=T0.date(),
                cancelled=field,
            ),
            actor="team 3",
            reason="NTS report 4",
            at=T0,
        )
        (act,) = rows(store, "activities")
        assert (act.record_id, act.action, act.actor, act.reason) == ("A-1", "insert", "team 3", "NTS report 4")
        assert json.loads(act.after_json or "{}")["cancelled_area_m2"] == pytest.approx(area_m2(field), rel=1e-3)
        (haz,) = rows(store, "hazard_areas")
        assert (haz.record_id, haz.action, haz.actor, haz.reason) == ("H-1", "update", "team 3", "NTS report 4")
        after = json.loads(haz.after_json or "{}")
        assert after["events"] == ["recorded", "activity"] and after["status"] == store.hazard("H-1").status.value
        with pytest.raises(ValidationError):
            lr.reclassify(store, "H-1", evidence="", actor="imo", reason="bad", at=T0)
        assert len(rows(store, "hazard_areas")) == 1 and len(rows(store, "activities")) == 1


def test_a_hazard_areas_audit_text_is_the_generic_encoding() -> None:
    """The hazard area's audit JSON written from its values' text is the text ``audit_json(summary(...))`` gives:
    names with quotes, backslashes and Cyrillic, no organisation and one, no device category and several, an area
    with one decimal and one whole, an empty geometry."""
    from sapper.domain.hazards import DeviceCategory, HazardStatus, LandUse, Marking
    from sapper.services.audit import _hazard_json, _shapes, summary
    from sapper.store.accounts import audit_json

    areas = [
        HazardArea("h-1", HazardClass.SHA, shapely.box(36, 51, 36.01, 51.01), Evidence.INDIRECT),
        HazardArea("h-2", HazardClass.CHA, shapely.box(36, 51, 36.02, 51.005), Evidence.DIRECT,
                   device_categories=frozenset({DeviceCategory.AT_MINE, DeviceCategory.AP_MINE}),
                   land_use=LandUse.FOREST, status=HazardStatus.OPEN, beneficiaries=1_250, organisation_id="org \"1\"",
                   name='Поле "Схід" \\ ліс\t№7', marking=Marking.FENCED),
        HazardArea("h-3", HazardClass.SHA, shapely.box(0, 0, 1e-7, 1e-7), Evidence.INDIRECT, name="x" * 300),
    ]
    shapes = [*_shapes([a.geometry for a in areas]), {"geometry_sha256": None, "area_m2": 0.0}]
    cases = [*zip(areas, shapes[:3], strict=True), (areas[0], shapes[3])]
    for record, shape in cases:
        assert _hazard_json(record, shape) == audit_json(summary(record, shape))
