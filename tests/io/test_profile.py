"""Import profiles: options and TOML files say the same thing, round-trip exactly, and every mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from sapper.errors import ImportFileError, ValidationError
from sapper.io.columnmap import geometry_id
from sapper.io.profile import ImportProfile, from_options, load_profile, save_profile
from tests.io.foreign import MAP, VALUES, map_options, value_options


def test_options_and_toml_round_trip(tmp_path: Path) -> None:
    """A profile built from --map/--value/--default options, saved and loaded, is the same profile, Cyrillic,
    quotes and backslashes included."""
    odd = 'кавычки " и \\ обратная'
    profile = from_options([*map_options()], [*value_options(), f"name:{odd}=plain"], ["status=open"])
    profile = ImportProfile(profile.columns, profile.values, profile.defaults, kind="hazards", crs="EPSG:4326")
    assert dict(profile.columns) == MAP
    assert profile.values["hazard_class"] == VALUES["hazard_class"]
    save_profile(tmp_path / "p.toml", profile)
    assert load_profile(tmp_path / "p.toml") == profile


def test_values_matched_ignoring_case_and_spaces() -> None:
    """A source value matches its map entry whatever its case or runs of spaces; unknown values pass unchanged."""
    profile = ImportProfile(values={"hazard_class": {"Suspected Minefield": "SHA"}})
    assert profile.translate("hazard_class", "  suspected   MINEFIELD ") == "SHA"
    assert profile.translate("hazard_class", "other") == "other"


def test_options_override_the_profile_file() -> None:
    """Command-line entries win over the file's; the rest of the file stays."""
    base = ImportProfile(columns={"id": "fileId", "name": "objName"}, defaults={"status": "open"})
    over = from_options(["name=title"], ["hazard_class:X=SHA"], [])
    merged = base.merged(over)
    assert dict(merged.columns) == {"id": "fileId", "name": "title"}
    assert merged.values == {"hazard_class": {"X": "SHA"}} and merged.defaults == {"status": "open"}


@pytest.mark.parametrize(("maps", "values", "defaults", "message"), [
    (["id"], [], [], "--map.*'id' is not TARGET=SOURCE"),
    ([], ["hazard_class=SHA"], [], "--value.*is not FIELD:SOURCE VALUE=TARGET VALUE"),
    ([], [], ["status"], "--default.*is not FIELD=VALUE"),
])
def test_malformed_options_named(maps: list[str], values: list[str], defaults: list[str], message: str) -> None:
    """Each malformed option is refused naming the option and showing the form it needs."""
    with pytest.raises(ValidationError, match=message):
        from_options(maps, values, defaults)


def test_unknown_fields_and_doubly_mapped_columns_refused_at_once() -> None:
    """Fields sapper does not import and a column mapped twice are all named in one error."""
    profile = ImportProfile(columns={"id": "fileId", "colour": "c", "name": "FILEID"}, defaults={"size": "1"})
    with pytest.raises(ValidationError) as caught:
        profile.check(("id", "name", "status"))
    text = str(caught.value)
    assert "'colour' is not a field" in text and "'size' is not a field" in text
    assert "column 'FILEID' is mapped to both id and name" in text


@pytest.mark.parametrize(("content", "message"), [
    ("map = 3\n", r"\[map\] must be a table"),
    ("[map\nid = 1\n", "is not a readable TOML profile"),
    ("colour = 'red'\n", "unknown entries colour"),
    ("values = 'x'\n", r"\[values\] must hold one table per field"),
])
def test_bad_profile_files_named(tmp_path: Path, content: str, message: str) -> None:
    """A profile that is not TOML, or not shaped as one, is refused naming the file and the fault."""
    path = tmp_path / "p.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError, match=message) as caught:
        load_profile(path)
    assert str(path) in str(caught.value)


def test_geometry_ids_stable_whatever_ring_start_or_winding() -> None:
    """The id derived from a shape is the same for its rotated or reversed ring and for sub-centimetre noise,
    and differs for another shape."""
    square = shapely.box(35.1, 51.3, 35.11, 51.31)
    coords = list(square.exterior.coords)
    rotated = shapely.Polygon([*coords[1:], coords[1]])
    noisy = shapely.affinity.translate(square, 1e-9, -1e-9)
    other = shapely.box(35.1, 51.3, 35.12, 51.31)
    assert geometry_id(square) == geometry_id(rotated) == geometry_id(square.reverse()) == geometry_id(noisy)
    assert geometry_id(other) != geometry_id(square)
    assert geometry_id(square).startswith("geo-") and len(geometry_id(square)) == 20
