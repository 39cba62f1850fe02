"""The static UI without a browser: catalogues complete, no foreign URLs, vendored files pinned and packaged."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

import pytest

from sapper.web import LANGUAGES, PAGES, SIGN_IN, static_dir

ROOT = Path(__file__).resolve().parents[2]
STATIC = static_dir()
# CLDR plural categories each language needs for integers.
PLURALS = {"en": {"one", "other"}, "uk": {"one", "few", "many", "other"}, "ru": {"one", "few", "many", "other"}}
OWN_FILES = [
    p for p in STATIC.rglob("*") if p.is_file() and "vendor" not in p.parts and p.suffix in (".html", ".js", ".css")
]


def catalogue(lang: str) -> dict[str, str | dict[str, str]]:
    """One language's catalogue."""
    data: dict[str, str | dict[str, str]] = json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def placeholders(entry: str | dict[str, str]) -> set[str]:
    """The {name} placeholders an entry (or any of its plural forms) uses."""
    texts = entry.values() if isinstance(entry, dict) else [entry]
    return {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_has_every_key_of_the_others(lang: str) -> None:
    """A key present in any language's catalogue is present, non-empty, in this one."""
    keys = set().union(*(catalogue(other).keys() for other in LANGUAGES))
    mine = catalogue(lang)
    missing = sorted(keys - mine.keys())
    assert not missing, f"{lang}.json lacks {missing}"
    empty = sorted(k for k, v in mine.items() if not v)
    assert not empty, f"{lang}.json has empty {empty}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_entries_have_the_language_forms(lang: str) -> None:
    """Every plural entry has each CLDR category the language uses, and plurals are plural in every language."""
    en = catalogue("en")
    for key, entry in catalogue(lang).items():
        assert isinstance(entry, dict) == isinstance(en[key], dict), f"{lang}.json {key}: plural in one language only"
        if isinstance(entry, dict):
            assert PLURALS[lang] <= entry.keys(), f"{lang}.json {key} lacks {sorted(PLURALS[lang] - entry.keys())}"


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_translations_keep_placeholders(lang: str) -> None:
    """A translation uses the same {placeholders} as the English string."""
    en = catalogue("en")
    for key, entry in catalogue(lang).items():
        assert placeholders(entry) == placeholders(en[key]), f"{lang}.json {key}"


def test_every_key_the_ui_uses_is_in_the_catalogue() -> None:
    """Each data-i18n key in the pages and each literal t("key") in the scripts exists in en.json."""
    used: set[str] = set()
    for path in OWN_FILES:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'data-i18n(?:-title)?="([\w.]+)"', text))
        used |= set(re.findall(r'\bt\("([\w.]+)"', text))
    assert len(used) > 40
    missing = sorted(used - catalogue("en").keys())
    assert not missing, f"keys used but not in en.json: {missing}"


def test_ui_strings_in_cyrillic_catalogues_are_cyrillic() -> None:
    """The Ukrainian and Russian catalogues are translated, not English copies (most strings carry Cyrillic)."""
    for lang in ("uk", "ru"):
        texts = [v if isinstance(v, str) else v["other"] for v in catalogue(lang).values()]
        cyrillic = [t for t in texts if re.search("[а-яА-ЯіїєґІЇЄҐёЁ]", t)]
        assert len(cyrillic) >= 0.9 * (len(texts) - 3), lang  # app title and two unit strings may be shared


def test_no_absolute_url_to_another_host() -> None:
    """The pages, scripts and styles name no http(s) URL: everything is served by the same origin."""
    offenders = [
        f"{p.relative_to(STATIC)}: {m}"
        for p in OWN_FILES
        for m in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[/\w.-]*", p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_pages_load_only_local_assets() -> None:
    """Each page's script and stylesheet references are relative paths inside the static folder that exist."""
    for page in (*PAGES, SIGN_IN):
        html = (STATIC / page).read_text(encoding="utf-8")
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert refs, page
        for ref in refs:
            if ref.endswith(".html"):
                continue
            assert not ref.startswith(("/", "http")), f"{page}: {ref}"
            assert (STATIC / ref).is_file(), f"{page}: {ref} missing"


def test_vendored_maplibre_matches_the_pin() -> None:
    """The vendored MapLibre GL JS is the exact version package.json pins and package-lock.json resolves."""
    pinned = json.loads((ROOT / "web" / "package.json").read_text())["dependencies"]["maplibre-gl"]
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())["packages"]["node_modules/maplibre-gl"]
    vendored = json.loads((STATIC / "vendor" / "VERSIONS.json").read_text())["maplibre-gl"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert pinned == lock["version"] == vendored
    header = (STATIC / "vendor" / "maplibre-gl.mjs").read_text(encoding="utf-8")[:300]
    assert f"v{vendored}" in header


def test_basemap_carries_its_attribution() -> None:
    """The basemap layers are the shipped extracts, each naming its source; the map credits both."""
    attributions = {
        name: json.loads((STATIC / "basemap" / name).read_text())["attribution"]
        for name in ("oblasts.geojson", "border.geojson", "towns.geojson")
    }
    assert attributions["towns.geojson"] == "GeoNames (geonames.org), CC BY 4.0"
    assert attributions["oblasts.geojson"].startswith("Natural Earth")
    towns = json.loads((STATIC / "basemap" / "towns.geojson").read_text())["features"]
    assert "Sudzha" in {f["properties"]["asciiname"] for f in towns}
    script = (STATIC / "js" / "map.js").read_text(encoding="utf-8")
    assert 'attribution: "Natural Earth"' in script and 'attribution: "GeoNames CC BY 4.0"' in script


def test_every_static_file_ships_in_the_wheel() -> None:
    """Each file under sapper/web/static matches a package-data pattern in pyproject.toml."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["sapper"]
    package = STATIC.parents[1]
    for path in STATIC.rglob("*"):
        if path.is_file():
            rel = path.relative_to(package).as_posix()
            assert any(fnmatch.fnmatch(rel, p) and rel.count("/") == p.count("/") for p in patterns), rel


def test_every_land_release_event_kind_has_a_label() -> None:
    """Each EventKind the register records has an event.{kind} label, so the history table never shows a raw code."""
    from sapper.domain.landrelease import EventKind

    missing = [kind.value for kind in EventKind if f"event.{kind.value}" not in catalogue("en")]
    assert not missing, missing
