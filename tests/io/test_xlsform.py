"""The XLSForm templates: shipped files equal the generator, pyxform (and ODK Validate) accept them, every text is in
English, Ukrainian and Russian, and the field names are those the importer reads (``FIELD_NAMES``)."""

from __future__ import annotations

import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from pyxform.validators import odk_validate
from pyxform.xls2xform import convert

import sapper.io
from sapper.cli import main
from sapper.domain.activities import DeviceCondition, Disposal
from sapper.domain.hazards import DeviceCategory, Evidence, LandUse, Marking
from sapper.domain.resources import Method, Trade
from sapper.io.form_fields import FIELD_NAMES, FormFields
from sapper.io.xlsform import FORMS, LANGUAGES, Form, Repeat, sheet_rows, write_form

SHIPPED = Path(sapper.io.__file__).resolve().parent / "forms"
KEYS = sorted(FORMS)
NS = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms", "jr": "http://openrosa.org/javarosa"}
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
CYRILLIC = re.compile(r"[А-Яа-яІіЇїЄєҐґЁё]")
#: XLSForm type → the XForm bind type pyxform gives it.
BIND_TYPE = {"start": "dateTime", "end": "dateTime", "date": "date", "integer": "int", "decimal": "decimal",
             "text": "string", "geopoint": "geopoint", "geoshape": "geoshape", "image": "binary",
             "select_one": "string", "select_multiple": "string"}


def read_rows(path: Path) -> dict[str, list[tuple[str | None, ...]]]:
    """Every sheet's cells as read back by openpyxl (empty trailing cells trimmed to the header's width)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


@pytest.fixture(scope="module")
def xforms() -> dict[str, ET.Element]:
    """Each shipped template converted to XForm XML by pyxform (no warnings allowed), parsed."""
    parsed = {}
    for key in KEYS:
        warnings: list[str] = []
        result = convert(str(SHIPPED / FORMS[key].file_name), warnings=warnings, validate=False)
        assert warnings == [], f"{key}: pyxform warnings {warnings}"
        parsed[key] = ET.fromstring(result.xform)
    return parsed


def model(root: ET.Element) -> ET.Element:
    found = root.find("h:head/x:model", NS)
    assert found is not None
    return found


def main_instance(root: ET.Element) -> ET.Element:
    instance = model(root).find("x:instance", NS)
    assert instance is not None
    return instance[0]


def translations(root: ET.Element) -> dict[str, dict[str, str]]:
    """itext: language → text id → text (all <value> forms joined)."""
    out: dict[str, dict[str, str]] = {}
    for tr in model(root).findall("x:itext/x:translation", NS):
        out[tr.attrib["lang"]] = {t.attrib["id"]: " ".join((v.text or "") for v in t.findall("x:value", NS))
                                  for t in tr.findall("x:text", NS)}
    return out


def binds(root: ET.Element) -> dict[str, dict[str, str]]:
    return {b.attrib["nodeset"]: b.attrib for b in model(root).findall("x:bind", NS)}


def tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def instance_fields(form_root: ET.Element) -> tuple[list[str], dict[str, list[str]]]:
    """Top-level field names (meta and repeats excluded) and each repeat's field names, from the main instance."""
    top: list[str] = []
    repeats: dict[str, list[str]] = {}
    for child in form_root:
        name = tag(child)
        if name == "meta":
            continue
        if JR_TEMPLATE in child.attrib:
            repeats[name] = [tag(c) for c in child]
        elif name not in repeats:
            top.append(name)
    return top, repeats


def paths(form: Form) -> Iterator[tuple[str, str, str]]:
    """(nodeset path, field name, XLSForm type) of every question of ``form``."""
    for item in form.items:
        if isinstance(item, Repeat):
            for q in item.questions:
                yield f"/{form.form_id}/{item.name}/{q.name}", q.name, q.type
        else:
            yield f"/{form.form_id}/{item.name}", item.name, item.type


# --- the shipped files cannot drift -------------------------------------------------------------------------------


def test_the_shipped_folder_holds_exactly_the_five_templates() -> None:
    """src/sapper/io/forms holds one workbook per form, named by form id, and nothing else."""
    assert sorted(p.name for p in SHIPPED.iterdir()) == sorted(f.file_name for f in FORMS.values())
    assert set(FORMS) == {"nts", "ts", "clearance", "accident", "brigade"}


@pytest.mark.parametrize("key", KEYS)
def test_shipped_template_equals_the_generator(key: str, tmp_path: Path) -> None:
    """The shipped workbook holds exactly the cells the generator makes now, as does a freshly written one."""
    expected = sheet_rows(FORMS[key])
    shipped = read_rows(SHIPPED / FORMS[key].file_name)
    assert list(shipped) == ["survey", "choices", "settings"]
    for sheet, rows in expected.items():
        assert shipped[sheet] == rows, (
            f"{FORMS[key].file_name}, sheet {sheet}, differs from sapper.io.xlsform: "
            "run `.venv/bin/python -m sapper.io.xlsform` to regenerate the shipped templates"
        )
    assert read_rows(write_form(FORMS[key], tmp_path / "fresh.xlsx")) == shipped


# --- pyxform and ODK Validate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_settings_carry_id_version_instance_name_and_default_language(key: str, xforms: dict[str, ET.Element]) -> None:
    """The XForm's root has the form id and version; instanceName is computed; English is the default language."""
    form = FORMS[key]
    root = main_instance(xforms[key])
    assert tag(root) == form.form_id
    assert root.attrib == {"id": form.form_id, "version": form.version}
    assert re.fullmatch(r"\d{10}", form.version)
    assert "calculate" in binds(xforms[key])[f"/{form.form_id}/meta/instanceName"]
    defaults = [tr.attrib["lang"] for tr in model(xforms[key]).findall("x:itext/x:translation", NS)
                if tr.attrib.get("default") == "true()"]
    assert defaults == ["English (en)"]


def test_odk_validate_accepts_every_template(tmp_path: Path, xforms: dict[str, ET.Element]) -> None:
    """ODK Validate (JavaRosa, shipped with pyxform) parses every template without errors or warnings."""
    if shutil.which("java") is None or not odk_validate.install_exists():
        pytest.skip("ODK Validate needs Java and pyxform's ODK_Validate.jar")
    files = []
    for key in KEYS:
        path = tmp_path / f"{key}.xml"
        path.write_bytes(ET.tostring(xforms[key], encoding="utf-8", xml_declaration=True))
        files.append(path)
    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        results = list(pool.map(lambda p: odk_validate.check_xform(str(p)), files))
    assert results == [[]] * len(files)


# --- three languages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_every_text_is_in_english_ukrainian_and_russian(key: str, xforms: dict[str, ET.Element]) -> None:
    """itext has exactly the three languages, each with the same texts, none empty; uk and ru are Cyrillic, en not."""
    texts = translations(xforms[key])
    assert list(texts) == list(LANGUAGES)
    en, uk, ru = (texts[lang] for lang in LANGUAGES)
    assert set(en) == set(uk) == set(ru)
    kinds = {text_id.rsplit(":", 1)[-1] for text_id in en if ":" in text_id}
    assert {"label", "hint", "constraintMsg"} <= kinds
    for text_id in en:
        assert en[text_id].strip() and en[text_id] != "-", f"{key}: empty English text {text_id}"
        assert not CYRILLIC.search(en[text_id]), f"{key}: Cyrillic in English text {text_id}: {en[text_id]!r}"
        for lang, values in (("uk", uk), ("ru", ru)):
            assert CYRILLIC.search(values[text_id]), f"{key}: {lang} {text_id} is not Cyrillic: {values[text_id]!r}"
        assert not re.search(r"[ЫыЭэЁёЪъ]", uk[text_id]), f"{key}: Russian letters in uk {text_id}: {uk[text_id]!r}"
        assert not re.search(r"[ІіЇїЄєҐґ]", ru[text_id]), f"{key}: Ukrainian letters in ru {text_id}: {ru[text_id]!r}"
    assert any(re.search(r"[ІіЇїЄєҐґ]", v) for v in uk.values()), f"{key}: no Ukrainian letters in the uk texts"
    assert any(re.search(r"[ЫыЭэЁёЪъ]", v) for v in ru.values()), f"{key}: no Russian letters in the ru texts"
    assert sum(uk[t] != ru[t] for t in en) > len(en) // 2, f"{key}: uk and ru texts are mostly the same"


@pytest.mark.parametrize("key", KEYS)
def test_every_label_in_the_body_is_translated(key: str, xforms: dict[str, ET.Element]) -> None:
    """No question, group or repeat has a plain-text label or hint: each refers to itext."""
    body = xforms[key].find("h:body", NS)
    assert body is not None
    for element in body.iter():
        if tag(element) in ("label", "hint"):
            assert element.attrib.get("ref", "").startswith("jr:itext("), f"{key}: plain {ET.tostring(element)!r}"


def test_titles_use_the_mine_action_terms() -> None:
    """The form titles use the standard Ukrainian and Russian terms for NTS, TS and clearance."""
    assert (FORMS["nts"].title.uk, FORMS["nts"].title.ru) == ("Нетехнічне обстеження", "Нетехническое обследование")
    assert (FORMS["ts"].title.uk, FORMS["ts"].title.ru) == ("Технічне обстеження", "Техническое обследование")
    assert FORMS["clearance"].title.uk.startswith("Розмінування")
    assert FORMS["clearance"].title.ru.startswith("Разминирование")


# --- the field names are the importer's contract ------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_field_names_constant_matches_the_xform(key: str, xforms: dict[str, ET.Element]) -> None:
    """FIELD_NAMES[key] lists the XForm's fields and repeats in order, with the bind type of each field's type."""
    expected: FormFields = FIELD_NAMES[key]
    root = main_instance(xforms[key])
    assert expected.form_id == FORMS[key].form_id == tag(root)
    top, repeats = instance_fields(root)
    assert top == list(expected.fields)
    assert repeats == {name: list(fields) for name, fields in expected.repeats.items()}
    bound = binds(xforms[key])
    for path, name, _ in paths(FORMS[key]):
        xlsform_type = expected.type_of(name)
        assert bound[path]["type"] == BIND_TYPE[xlsform_type.split()[0]], f"{key}.{name}"


@pytest.mark.parametrize("key", KEYS)
def test_field_names_constant_matches_the_definition(key: str) -> None:
    """The names, exact XLSForm types and repeat membership in FIELD_NAMES equal the form definition's."""
    expected = FIELD_NAMES[key]
    form = FORMS[key]
    assert {n: t for p, n, t in paths(form) if p.count("/") == 2} == dict(expected.fields)
    for item in form.items:
        if isinstance(item, Repeat):
            assert {q.name: q.type for q in item.questions} == dict(expected.repeats[item.name])
    assert set(expected.repeats) == {i.name for i in form.items if isinstance(i, Repeat)}
    names = [n for _, n, _ in paths(form)]
    assert len(names) == len(set(names)), f"{key}: a field name is used twice"
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", n) for n in [*names, *expected.repeats]), names


def test_field_names_constant_is_keyed_like_the_forms() -> None:
    """FIELD_NAMES has one entry per form, under the same keys the CLI's --form takes."""
    assert list(FIELD_NAMES) == list(FORMS)


def test_form_fields_lookups() -> None:
    """type_of and repeat_of find top-level and repeat fields, and refuse a name the form does not have."""
    clearance = FIELD_NAMES["clearance"]
    assert clearance.type_of("cleared_shape") == "geoshape"
    assert clearance.type_of("device_position") == "geopoint"
    assert (clearance.repeat_of("device_depth_cm"), clearance.repeat_of("cleared_m2")) == ("devices", None)
    with pytest.raises(KeyError, match="sapper_clearance has no field 'victim_name'"):
        clearance.type_of("victim_name")


def test_victim_fields_are_marked_sensitive(xforms: dict[str, ET.Element]) -> None:
    """Every victim field is in FIELD_NAMES' sensitive set and its hint says so in all three languages; no other
    field of any form is marked so."""
    marker = {"English (en)": "Sensitive personal data", "Українська (uk)": "Чутливі персональні дані",
              "Русский (ru)": "Чувствительные персональные данные"}
    victims = FIELD_NAMES["accident"].repeats["victims"]
    assert FIELD_NAMES["accident"].sensitive == frozenset(victims)
    for key in KEYS:
        texts = translations(xforms[key])
        for path, name, _ in paths(FORMS[key]):
            for lang, words in marker.items():
                hint = texts[lang].get(f"{path}:hint", "")
                assert hint.startswith(words) == (name in FIELD_NAMES[key].sensitive), f"{key}.{name} ({lang})"


# --- choices and checks ---------------------------------------------------------------------------------------------


def choice_values(root: ET.Element) -> dict[str, list[str]]:
    """Each choice list of the XForm (its secondary instances): list name → values in order."""
    return {inst.attrib["id"]: [item.findtext("x:name", "", NS) for item in inst.findall("x:root/x:item", NS)]
            for inst in model(root).findall("x:instance[@id]", NS)}


def test_choice_lists_carry_the_registers_values(xforms: dict[str, ET.Element]) -> None:
    """Choice lists named after a register enumeration hold exactly its values (methods: the field methods)."""
    registers = {"device_category": [c.value for c in DeviceCategory], "evidence": [e.value for e in Evidence],
                 "land_use": [u.value for u in LandUse], "device_condition": [c.value for c in DeviceCondition],
                 "trade": [t.value for t in Trade],
                 "method": [Method.MANUAL.value, Method.DOG.value, Method.MECHANICAL.value],
                 "accident_device": [c.value for c in DeviceCategory], "disposal": [d.value for d in Disposal],
                 "marking": [m.value for m in Marking]}
    seen = set()
    for key in KEYS:
        for list_name, values in choice_values(xforms[key]).items():
            if list_name in registers:
                assert values == registers[list_name], f"{key}: choice list {list_name}"
                seen.add(list_name)
    assert seen == set(registers)


@pytest.mark.parametrize("key", KEYS)
def test_numbers_and_dates_are_constrained(key: str, xforms: dict[str, ET.Element]) -> None:
    """Every number has a range (never negative) with a translated message; event dates cannot be in the future."""
    bound = binds(xforms[key])
    texts = translations(xforms[key])
    for path, name, xlsform_type in paths(FORMS[key]):
        bind = bound[path]
        if xlsform_type in ("integer", "decimal"):
            assert re.match(r"\. >=? 0 and \. <= \d+$|\. >= 0$|\. > 0 and \. <= \d+$", bind.get("constraint", "")), name
            msg = bind.get("{http://openrosa.org/javarosa}constraintMsg", "")
            assert msg == f"jr:itext('{path}:jr:constraintMsg')", name
            assert all(texts[lang][f"{path}:jr:constraintMsg"] for lang in LANGUAGES), name
        if xlsform_type == "date":
            assert bind.get("constraint") == ". <= today()", name


def test_depth_and_area_constraints() -> None:
    """Device depth is 0–200 cm, m² cleared is never negative, and the NTS outcome is tied to the evidence."""
    questions = {(f.key, q.name): q for f in FORMS.values() for q in f.questions()}
    assert questions["ts", "device_depth_cm"].constraint == ". >= 0 and . <= 200"
    assert questions["clearance", "device_depth_cm"].constraint == ". >= 0 and . <= 200"
    assert questions["clearance", "cleared_m2"].constraint.startswith(". >= 0")
    outcome = questions["nts", "outcome"].constraint
    assert "${evidence} = 'direct'" in outcome and "${evidence_found} = 'no'" in outcome


def test_relevance_follows_the_answers(xforms: dict[str, ET.Element]) -> None:
    """Questions that only apply after an answer are relevant only then (new area, evidence, devices, blocked work)."""
    nts, ts, brigade = (binds(xforms[k]) for k in ("nts", "ts", "brigade"))
    assert "new_area" in nts["/sapper_nts/hazard_id"]["relevant"]
    assert "new_area" in nts["/sapper_nts/area_shape"]["relevant"]
    assert "outcome" in nts["/sapper_nts/cancelled_shape"]["relevant"]
    assert "devices_found" in ts["/sapper_ts/devices"]["relevant"]
    assert "blocked_by_hazard" in brigade["/sapper_brigade/blocking_hazard_id"]["relevant"]
    victims = xforms["accident"].find(".//x:repeat[@nodeset='/sapper_accident/victims']", NS)
    assert victims is not None and "victim_count" in victims.attrib["{http://openrosa.org/javarosa}count"]


# --- the command line ---------------------------------------------------------------------------------------------


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``sapper args`` in-process through the real entry point; return its exit code."""
    monkeypatch.setattr(sys, "argv", ["sapper", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return int(exit_.value.code or 0)


def test_cli_writes_every_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sapper forms write DIR` creates DIR and writes the five shipped files, byte for byte, naming each."""
    target = tmp_path / "new" / "forms"
    assert run_cli(monkeypatch, "forms", "write", str(target)) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in target.iterdir()) == sorted(f.file_name for f in FORMS.values())
    for form in FORMS.values():
        assert (target / form.file_name).read_bytes() == (SHIPPED / form.file_name).read_bytes()
        assert f"wrote {target / form.file_name}" in printed


def test_cli_writes_one_template_and_leaves_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--form writes only that template; a stale copy is replaced and unrelated files stay."""
    (tmp_path / "sapper_ts.xlsx").write_bytes(b"stale")
    (tmp_path / "mine.txt").write_text("keep")
    assert run_cli(monkeypatch, "forms", "write", str(tmp_path), "--form", "ts") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt", "sapper_ts.xlsx"]
    assert (tmp_path / "sapper_ts.xlsx").read_bytes() == (SHIPPED / "sapper_ts.xlsx").read_bytes()
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_cli_refuses_an_unknown_form_and_a_file_as_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown --form exits 3 naming the templates and writes nothing; a DIR that is a file exits 2."""
    assert run_cli(monkeypatch, "forms", "write", str(tmp_path / "out"), "--form", "eod") == 3
    assert "nts, ts, clearance, accident, brigade" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    (tmp_path / "file").write_text("")
    assert run_cli(monkeypatch, "forms", "write", str(tmp_path / "file")) == 2
    assert "is not a folder" in capsys.readouterr().err
