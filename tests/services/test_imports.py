"""Importing files into a store is all or nothing, rejects features one by one, and never imports an id twice;
exporting writes what the store holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import Polygon

from sapper.domain.hazards import HazardArea
from sapper.domain.resources import Organisation, OrgKind
from sapper.errors import CRSError, ImportFileError, NotFoundError, ValidationError
from sapper.io import read_hazards, write_hazards
from sapper.services import imports
from sapper.services.imports import export_file, import_file
from sapper.services.register import open_register
from sapper.services.settings import Settings
from sapper.store import Store, UnitOfWork, open_store
from tests.io.messy import (
    BOW_TIE,
    box_ring,
    clean_assets,
    clean_hazards,
    equal_area_m2,
    feature,
    messy_hazards,
    polygon,
    write_csv,
    write_geojson,
)

ORG = Organisation("org-1", "Demining Operator One", OrgKind.OPERATOR)
#: The organisations clean_hazards() refers to.
ORGS = [ORG, Organisation("-org", "Operator whose id looks like a formula", OrgKind.OPERATOR)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding an organisation and two hazard areas (h-1, h-2 of clean_hazards)."""
    path = tmp_path / "store.gpkg"
    with open_store(path, create=True) as store, store.write() as uow:
        uow.add_organisations([ORG])
        uow.add_hazards(clean_hazards()[:2])
    return path


def snapshot(db: Path) -> tuple[dict[str, int], list[HazardArea], list[object]]:
    with open_store(db) as store:
        return store.counts(), store.hazards(), list(store.assets())


def new_hazards_file(path: Path, ids: Iterable[str]) -> Path:
    """A GeoJSON of valid SHA squares with the given ids (each in its own place)."""
    return write_geojson(
        path,
        [feature(polygon(box_ring(36.0 + 0.02 * n, 51.0)), id=i, hazard_class="SHA") for n, i in enumerate(ids)],
    )


def test_messy_import_summary_and_store(db: Path, tmp_path: Path, reg: Store) -> None:
    """The valid and repaired features are stored; the summary counts them and lists each rejected id and reason."""
    messy = messy_hazards(tmp_path / "messy.geojson")
    summary = import_file(reg, messy.path, "hazards")
    assert summary.imported == len(messy.imported) == 3
    assert [i.id for i in summary.repaired] == ["bow"]
    assert [(i.index, i.id) for i in summary.rejected] == [(n, fid) for n, (fid, _) in messy.rejected.items()]
    lines = summary.lines()
    assert lines[0] == "imported 3, repaired 1, rejected 6"
    assert lines[1].startswith("repaired feature 2 (id bow): Self-intersection")
    assert lines[2:] == [f"rejected feature {n} (id {fid}): {i.reason}"
                         for (n, (fid, _)), i in zip(messy.rejected.items(), summary.rejected, strict=True)]
    with open_store(db) as store:
        assert sorted(h.id for h in store.hazards()) == sorted(["h-1", "h-2", *messy.imported])
        assert store.counts()["hazard_areas"] == 5


def test_repaired_bow_tie_stored_with_its_area(db: Path, tmp_path: Path, reg: Store) -> None:
    """The stored bow-tie (record and area_m2 column) has the area of make_valid(original) in an equal-area CRS."""
    write_geojson(tmp_path / "bow.geojson", [feature(polygon(BOW_TIE), id="bow", hazard_class="SHA")])
    import_file(reg, tmp_path / "bow.geojson", "hazards")
    expected = equal_area_m2(shapely.make_valid(Polygon(BOW_TIE)))
    with open_store(db) as store:
        stored = store.hazard("bow")
    with sqlite3.connect(db) as conn:
        (column,) = conn.execute("SELECT area_m2 FROM hazard_areas WHERE id = 'bow'").fetchone()
    assert stored.geometry.is_valid
    assert stored.area_m2 == pytest.approx(expected, rel=1e-6)
    assert column == pytest.approx(expected, rel=1e-6)


def test_failure_after_first_batch_leaves_store_as_before(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reg: Store) -> None:
    """A write that fails after the first batch went in rolls the whole import back: counts and records as before."""
    before = snapshot(db)
    path = new_hazards_file(tmp_path / "new.geojson", [f"n-{i}" for i in range(5)])
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    original = UnitOfWork.add_hazards
    calls: list[int] = []

    def fail_second(self: UnitOfWork, hazards: Iterable[HazardArea], *, replace: bool = False,
                    source_attributes: Any = None, areas: Any = None) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(self, hazards, replace=replace, source_attributes=source_attributes, areas=areas)

    monkeypatch.setattr(UnitOfWork, "add_hazards", fail_second)
    with pytest.raises(OSError, match="disk full"):
        import_file(reg, path, "hazards")
    assert len(calls) == 2  # the first batch was written before the failure
    assert snapshot(db) == before


def test_constraint_violation_in_second_batch_leaves_store_as_before(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reg: Store) -> None:
    """If the database refuses a record of the second batch (a taken id), nothing of the import is kept."""
    before = snapshot(db)
    path = new_hazards_file(tmp_path / "new.geojson", ["n-1", "n-2", "h-1", "n-3"])
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    monkeypatch.setattr(UnitOfWork, "existing_ids", lambda self, layer, ids: set())  # let h-1 through screening
    with pytest.raises(ValidationError, match=r"h-1\.id: id already exists in the store"):
        import_file(reg, path, "hazards")
    assert snapshot(db) == before


def test_importing_twice_imports_nothing_the_second_time(db: Path, tmp_path: Path, reg: Store) -> None:
    """The second import of a file imports 0 and rejects every feature as already in the store."""
    messy = messy_hazards(tmp_path / "messy.geojson")
    first = import_file(reg, messy.path, "hazards")
    after_first = snapshot(db)
    second = import_file(reg, messy.path, "hazards")
    assert (first.imported, second.imported) == (3, 0)
    assert second.repaired == []  # the repaired feature was not imported this time
    already = {i.id: i.reason for i in second.rejected if i.reason.endswith("already exists in the store")}
    assert already == {fid: f"id {fid} already exists in the store" for fid in messy.imported}
    assert len(second.rejected) == len(first.rejected) + 3
    assert [i.index for i in second.rejected] == sorted(i.index for i in second.rejected)
    assert snapshot(db) == after_first


def test_replace_updates_stored_records(db: Path, tmp_path: Path, reg: Store) -> None:
    """With replace=True a feature whose id is stored updates that record instead of being rejected."""
    write_geojson(tmp_path / "h.geojson",
                  [feature(polygon(box_ring(37.0, 51.0)), id="h-1", hazard_class="CHA", name="renamed")])
    summary = import_file(reg, tmp_path / "h.geojson", "hazards", replace=True)
    assert (summary.imported, summary.rejected) == (1, [])
    with open_store(db) as store:
        assert store.counts()["hazard_areas"] == 2
        assert (store.hazard("h-1").name, store.hazard("h-1").hazard_class) == ("renamed", "CHA")


def test_unknown_organisation_rejected(db: Path, tmp_path: Path, reg: Store) -> None:
    """A hazard naming an organisation the store does not have is rejected; one naming a known one is imported."""
    write_geojson(
        tmp_path / "h.geojson",
        [
            feature(polygon(box_ring(37.0, 51.0)), id="known", hazard_class="SHA", organisation_id="org-1"),
            feature(polygon(box_ring(37.1, 51.0)), id="unknown", hazard_class="SHA", organisation_id="org-9"),
        ],
    )
    summary = import_file(reg, tmp_path / "h.geojson", "hazards")
    assert summary.imported == 1
    assert [str(i) for i in summary.rejected] == ["feature 2 (id unknown): organisation org-9 is not in the store"]


def test_refused_file_writes_nothing(db: Path, tmp_path: Path, reg: Store) -> None:
    """A file refused whole (no CRS, missing column) changes no store and creates none."""
    before = snapshot(db)
    no_crs = write_csv(tmp_path / "h.csv", ["id", "hazard_class", "wkt"], [["a", "SHA", "POINT (1 1)"]])
    no_class = write_geojson(tmp_path / "h.geojson", [feature(polygon(box_ring(35, 50)), id="a")])
    with pytest.raises(CRSError):
        import_file(reg, no_crs, "hazards")
    with pytest.raises(ImportFileError, match="hazard_class"):
        import_file(reg, no_class, "hazards")
    assert snapshot(db) == before


def test_missing_store_and_bad_kind_refused(tmp_path: Path, reg: Store) -> None:
    """Opening a store that does not exist to import is NotFoundError (nothing created); an unknown kind is refused."""
    path = new_hazards_file(tmp_path / "h.geojson", ["a"])
    with pytest.raises(NotFoundError):
        open_register(Settings(db=str(tmp_path / "none.gpkg")))
    assert not (tmp_path / "none.gpkg").exists()
    with pytest.raises(ValidationError, match="kind 'roads'"):
        import_file(reg, path, "roads")  # type: ignore[arg-type]


def test_summary_names_columns_kept_as_source_attributes(db: Path, tmp_path: Path, reg: Store) -> None:
    """Columns of the file that sapper does not use are kept with the record, as the file spells them, and the
    summary says so."""
    write_geojson(tmp_path / "h.geojson",
                  [feature(polygon(box_ring(37.0, 51.0)), id="x", hazard_class="SHA", Colour="red", notes="n")])
    summary = import_file(reg, tmp_path / "h.geojson", "hazards")
    assert summary.ignored_columns == []
    assert summary.lines() == ["imported 1, repaired 0, rejected 0",
                               "columns kept as source attributes: Colour, notes"]
    assert reg.source_attributes("hazard_areas") == {"x": {"Colour": "red", "notes": "n"}}


@pytest.mark.parametrize("suffix", ["gpkg", "geojson", "csv"])
def test_export_then_import_gives_the_same_records(tmp_path: Path, suffix: str) -> None:
    """Hazards and assets exported from one store and imported into another come back equal."""
    source, target = tmp_path / "source.gpkg", tmp_path / "target.gpkg"
    with open_store(source, create=True) as store, store.write() as uow:
        uow.add_organisations(ORGS)
        uow.add_hazards(clean_hazards())
        uow.add_assets(clean_assets())
    with open_store(target, create=True) as store:
        store.add_organisations(ORGS)
    for kind in ("hazards", "assets"):
        path = tmp_path / f"{kind}.{suffix}"
        with open_store(source) as a, open_store(target) as b:
            assert export_file(a, path, kind) == len(clean_hazards() if kind == "hazards" else clean_assets())
            summary = import_file(b, path, kind)
        assert (summary.rejected, summary.repaired) == ([], [])
    with open_store(source) as a, open_store(target) as b:
        if suffix == "geojson":  # RFC 7946 rewinds rings: compare normalised geometry
            assert [shapely.normalize(h.geometry) for h in b.hazards()] == [
                shapely.normalize(h.geometry) for h in a.hazards()
            ]
            assert [h.id for h in b.hazards()] == [h.id for h in a.hazards()]
        else:
            assert b.hazards() == a.hazards()
        assert b.assets() == a.assets()


def test_export_refuses_to_write_into_a_store(db: Path, tmp_path: Path, reg: Store) -> None:
    """Exporting onto the store itself or another store is refused and leaves that file byte for byte the same."""
    other = tmp_path / "other.gpkg"
    with open_store(other, create=True):
        pass
    untouched = other.read_bytes()
    with pytest.raises(ValidationError, match="the store itself"):
        export_file(reg, db, "hazards")
    with pytest.raises(ValidationError, match="is a sapper store"):
        export_file(reg, other, "hazards")
    assert other.read_bytes() == untouched
    with open_store(other) as store:
        assert store.counts()["hazard_areas"] == 0


def test_export_into_a_plain_geopackage_keeps_its_layers(db: Path, tmp_path: Path, reg: Store) -> None:
    """Exporting hazards then assets into one plain GeoPackage gives both layers."""
    with open_store(db) as store:
        store.add_assets(clean_assets())
    out = tmp_path / "out.gpkg"
    assert export_file(reg, out, "hazards") == 2
    assert export_file(reg, out, "assets") == len(clean_assets())
    assert [h.id for h in read_hazards(out).records] == ["h-1", "h-2"]
    write_hazards(tmp_path / "again.gpkg", read_hazards(out).records)  # what was exported is writable again
