"""A foreign register imported through a profile, as an information-management officer does it: refused with every
unknown value named, imported once the value map is written (every decision reported), imported again adding
nothing, a dry run writing nothing, source attributes kept and exported — on a GeoPackage and on PostGIS."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sapper.errors import ValidationError
from sapper.services.imports import build_profile, export_file, import_file, keep_profile
from sapper.store import Store, open_store
from tests.conftest import PostgisServer
from tests.io.foreign import MAP, imsma_ng_csv, map_options, value_options


@pytest.fixture(params=["gpkg", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on each backend."""
    if request.param == "gpkg":
        target: str | Path = tmp_path / "register.gpkg"
    else:
        server: PostgisServer = request.getfixturevalue("postgis")
        target = server.clean_store_database()
    with open_store(target, create=request.param == "gpkg") as opened:
        yield opened


def _rows(store: Store) -> dict[str, tuple[str, str]]:
    return {h.id: (h.hazard_class.value, h.land_use.value) for h in store.hazards()}


def test_unknown_values_refuse_the_import_naming_them_all(store: Store, tmp_path: Path) -> None:
    """Mapped columns without a value map: the import is refused with one message listing every unknown value of
    every categorical field with its count; nothing is written."""
    foreign = imsma_ng_csv(tmp_path / "ng.csv")
    profile = build_profile(maps=map_options(), kind="hazards", crs="EPSG:4326")
    with pytest.raises(ValidationError) as caught:
        import_file(store, foreign.path, "hazards", profile=profile)
    text = str(caught.value)
    assert "\n" not in text
    assert "hazard_class (required): 'Подозрительный опасный район' ×3, 'Suspected Minefield' ×1, " \
           "'Підтверджений небезпечний район' ×1" in text
    assert "land_use: 'ліс' ×3, 'жилая застройка' ×1, 'сільськогосподарські угіддя' ×1" in text
    assert store.hazards() == []


def test_dry_run_writes_nothing_and_says_what_would_happen(store: Store, tmp_path: Path) -> None:
    """A dry run reports the counts, the decisions and the value gaps (without refusing) and leaves the store as
    it was, byte for byte on a GeoPackage."""
    foreign = imsma_ng_csv(tmp_path / "ng.csv")
    before = store.path.read_bytes() if store.path is not None else None
    gaps = import_file(store, foreign.path, "hazards", dry_run=True,
                       profile=build_profile(maps=map_options(), kind="hazards", crs="EPSG:4326"))
    assert gaps.refused_fields == ["hazard_class"] and gaps.imported == 0 and len(gaps.rejected) == 5
    full = build_profile(maps=map_options(), values=value_options(), kind="hazards", crs="EPSG:4326")
    summary = import_file(store, foreign.path, "hazards", profile=full, dry_run=True)
    assert summary.lines()[0] == ("dry run, nothing written: would have added 5, updated 0, unchanged 0, "
                                  "repaired 0, rejected 0")
    assert store.hazards() == [] and store.source_attributes("hazard_areas") == {}
    if before is not None:
        assert store.path is not None and store.path.read_bytes() == before


def test_profile_import_reports_every_decision_and_a_second_adds_nothing(store: Store, tmp_path: Path) -> None:
    """Through a saved profile: ids made distinct (145-1, 145-2) and derived (geo-…), values mapped, unused columns
    kept; every decision is a line of the summary. The same file again: added 0, unchanged 5, no new rows. A changed
    row is updated, not duplicated."""
    foreign = imsma_ng_csv(tmp_path / "ng.csv")
    keep_profile(tmp_path / "ng.toml", build_profile(maps=map_options(), values=value_options(),
                                                     defaults=["status=open"], kind="hazards", crs="EPSG:4326"))
    profile = build_profile(tmp_path / "ng.toml", kind="hazards")
    first = import_file(store, foreign.path, "hazards", profile=profile)
    lines = first.lines()
    assert lines[0] == "added 5, updated 0, unchanged 0, repaired 0, rejected 0"
    assert "ng.csv: read as Windows-1251 (cp1251) text: it is not UTF-8" in lines
    assert ("columns mapped: id ← fileId, hazard_class ← typeArea, land_use ← landUse, name ← objName, "
            "beneficiaries ← benef") in lines
    assert "id: 2 features share 1 source id; each got the source id and an ordinal in file order (145-1, -2, …)" \
        in lines
    assert "id: 1 feature has no id; its id is derived from its geometry (geo-…)" in lines
    assert "status: default 'open' used for 5 features" in lines
    assert "columns kept as source attributes: oblast, comments" in lines
    stored = _rows(store)
    derived = next(i for i in stored if i.startswith("geo-"))
    assert stored == {"145-1": ("SHA", "agricultural"), "145-2": ("SHA", "forest"), "146": ("CHA", "forest"),
                      derived: ("SHA", "residential"), "147": ("SHA", "forest")}
    assert store.source_attributes("hazard_areas")["146"] == {"oblast": "Сумська", "comments": "міни ПМН-2"}

    second = import_file(store, foreign.path, "hazards", profile=profile)
    assert second.lines()[0] == "added 0, updated 0, unchanged 5, repaired 0, rejected 0"
    assert _rows(store) == stored and len(store.hazards()) == 5

    text = foreign.path.read_bytes().decode("cp1251").replace("міни ПМН-2", "міни ПМН-2, ПОМ-2")
    foreign.path.write_bytes(text.encode("cp1251"))
    third = import_file(store, foreign.path, "hazards", profile=profile)
    assert third.lines()[0] == "added 0, updated 1, unchanged 4, repaired 0, rejected 0"
    assert [(i.id, i.reason) for i in third.updated] == [("146", "source attributes changed")]
    assert "updated feature 3 (id 146): source attributes changed" in third.lines()
    assert len(store.hazards()) == 5
    assert store.source_attributes("hazard_areas")["146"]["comments"] == "міни ПМН-2, ПОМ-2"


def test_source_attributes_exported_and_read_back(store: Store, tmp_path: Path) -> None:
    """`export hazards` writes each record's source attributes as a JSON column; importing the export into a new
    store gives the same attributes back (not nested)."""
    foreign = imsma_ng_csv(tmp_path / "ng.csv")
    profile = build_profile(maps=map_options(), values=value_options(), kind="hazards", crs="EPSG:4326")
    import_file(store, foreign.path, "hazards", profile=profile)
    out = tmp_path / "out.csv"
    assert export_file(store, out, "hazards") == 5
    with out.open(encoding="utf-8", newline="") as f:
        exported = {row["id"]: json.loads(row["source_attributes"]) for row in csv.DictReader(f)}
    assert exported == store.source_attributes("hazard_areas")
    with open_store(tmp_path / "again.gpkg", create=True) as again:
        summary = import_file(again, out, "hazards")
        assert summary.imported == 5
        assert again.source_attributes("hazard_areas") == store.source_attributes("hazard_areas")


def test_nothing_stored_when_every_feature_is_rejected(store: Store, tmp_path: Path) -> None:
    """A lon/lat file declared as UTM: every feature rejected with the likely CRS; the summary says it stored
    nothing (the CLI exits 2 for it)."""
    foreign = imsma_ng_csv(tmp_path / "ng.csv")
    profile = build_profile(maps=map_options(), values=value_options(), kind="hazards", crs="EPSG:32636")
    summary = import_file(store, foreign.path, "hazards", profile=profile)
    assert summary.stored_nothing and summary.imported == 0 and len(summary.rejected) == 5
    assert all("looks like EPSG:4326" in i.reason for i in summary.rejected)
    assert store.hazards() == []


def test_profile_for_another_kind_refused(tmp_path: Path) -> None:
    """A profile saved for hazards is refused for assets, naming both."""
    keep_profile(tmp_path / "p.toml", build_profile(maps=[f"id={MAP['id']}"], kind="hazards"))
    with pytest.raises(ValidationError, match="is a profile for hazards, not assets"):
        build_profile(tmp_path / "p.toml", kind="assets")


def test_reimport_does_not_rewrite_a_hazard_with_land_release_history(store: Store, tmp_path: Path) -> None:
    """Once an area has a land-release history its class, status, evidence and perimeter change only through
    land-release activities: a re-import whose row still says SHA for an area reclassified CHA since is a conflict
    naming the field, and the stored area is kept; other records of the file are compared as before."""
    from sapper.services import landrelease

    foreign = imsma_ng_csv(tmp_path / "ng.csv")
    profile = build_profile(maps=map_options(), values=value_options(), kind="hazards", crs="EPSG:4326")
    import_file(store, foreign.path, "hazards", profile=profile)
    landrelease.reclassify(store, "147", evidence="mine seen by NTS team", actor="ima", reason="direct evidence")
    assert _rows(store)["147"][0] == "CHA"
    again = import_file(store, foreign.path, "hazards", profile=profile)
    assert again.lines()[0] == "added 0, updated 0, unchanged 4, repaired 0, rejected 0, conflicts 1"
    (conflict,) = again.conflicts
    assert conflict.id == "147"
    assert conflict.reason.startswith("hazard_class, evidence changed, but the area has a land-release history")
    assert _rows(store)["147"][0] == "CHA" and landrelease.history(store, "147").record is not None
