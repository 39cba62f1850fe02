"""Whole commands in Ukrainian and Russian leave no English sentence behind (issue 14): `sapper tasks` and the
task-order commands, the progress lines on standard error, a field-review verdict, a land-release refusal and a
re-plan on work a brigade reported blocked. Ids, file names, numbers, dates and codes (states, methods) stay as they
are; what is checked is that no English *message* is printed: neither a fragment of a catalogue message nor a run of
English words.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from sapper.report.i18n import Lang, catalogue_path
from sapper.services.planning import Engine, PlanSettings, plan_store
from sapper.store import open_store
from tests.cli.conftest import EXAMPLES
from tests.cli.entry import run
from tests.services.test_replan import _blocked_report, _register, report, week_as_planned

#: Words of English that also stand in sapper's Ukrainian and Russian output as codes a user types or reads in other
#: tools (method, role, state and engine values; option names are caught by their leading dashes).
CODES = frozenset({"deminers", "builders", "manual", "survey", "dog", "bac", "mechanical", "fixed", "capabilities",
                   "greedy", "cpsat", "unlock", "feasible", "optimal", "staged", "reviewed", "approved", "applied",
                   "issued", "acknowledged", "completed", "cancelled", "clearance", "repair", "nts", "eod", "road",
                   "building", "power", "bridge", "water", "house", "school", "sapper", "default", "none"})
_WORD = re.compile(r"(?<![\w./:-])[A-Za-z][a-z]{2,}(?![\w/-])")
_PLACEHOLDER = re.compile(r"\{\w*\}|%\(\w+\)s")


@cache
def _english() -> tuple[frozenset[str], tuple[str, ...]]:
    """The words of sapper's English messages that no translation keeps, and the messages' literal fragments of two
    words or more (a message left untranslated prints one of them)."""
    with catalogue_path(Lang.EN).open("rb") as f:
        ids = [m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f, locale="en") if m.id]
    kept: set[str] = set()
    for lang in (Lang.UK, Lang.RU):
        with catalogue_path(lang).open("rb") as f:
            for m in read_po(f, locale=lang.value):
                for s in [m.string] if isinstance(m.string, str) else m.string:
                    kept.update(w.lower() for w in _WORD.findall(s or ""))
    words = {w.lower() for i in ids for w in _WORD.findall(i)} - kept - CODES
    fragments = {f.strip() for i in ids for f in _PLACEHOLDER.split(i)}
    return frozenset(words), tuple(sorted(f for f in fragments if len(_WORD.findall(f)) >= 2
                                          and not (set(w.lower() for w in _WORD.findall(f)) <= kept | CODES)))


def english_left(text: str, *, keep: tuple[str, ...] = ()) -> list[str]:
    """The lines of ``text`` that still hold English: a fragment of an English message, or two English words in a
    row (``keep``: text that is the user's own, such as a reason typed on the command line, removed first)."""
    words, fragments = _english()
    found = []
    for line in text.splitlines():
        for k in keep:
            line = line.replace(k, " ")
        tokens = [t.lower() for t in _WORD.findall(line)]
        pair = any(a in words and b in words for a, b in pairwise(tokens))
        if pair or any(f in line for f in fragments):
            found.append(line)
    return found


def test_the_scan_finds_english(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """The same command in English is caught by the scan (else the tests below would pass on nothing)."""
    code, out, err = run(monkeypatch, capsys, "--lang", "en", "task-order", "changes", "--db", tour)
    assert code == 0, err
    assert english_left(out) == ["no order in force is changed by the plan"]
    assert english_left("завдання TO-1 тепер у стані «видано»") == []


@pytest.fixture
def register(tour: Path, tmp_path: Path) -> Path:
    """A copy of the README tour's register (planned with the greedy engine), to change."""
    return Path(shutil.copy(tour, tmp_path / "tour.gpkg"))


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_tasks_and_task_orders_say_everything_in_the_language(register: Path, tmp_path: Path, lang: str,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper tasks`, `task-order list|ack|changes` and an unknown order number: nothing English."""
    said = []
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "tasks", "--db", register, "--all", "--format", "csv",
                         "--out", tmp_path / "orders", "--actor", "planner")
    assert code == 0, err
    number = re.search(r"TO-\d{4}-\d{4}", out)
    assert number is not None, out
    said += [out, err]
    for args in (["task-order", "list"], ["task-order", "ack", number.group(0), "--actor", "lead"],
                 ["task-order", "changes"]):
        code, out, err = run(monkeypatch, capsys, "--lang", lang, *args, "--db", register)
        assert code == 0, err
        said += [out, err]
    assert ("тепер у стані «підтверджено»" if lang == "uk" else "теперь в состоянии «подтверждено»") in said[4]
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "task-order", "ack", "TO-1999-0001", "--db", register,
                         "--actor", "lead")
    assert code == 3 and out == ""
    said.append(err)
    assert [line for text in said for line in english_left(text)] == []


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_progress_on_stderr_is_in_the_language(register: Path, lang: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper plan`'s progress lines on standard error and its summary, in the language."""
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "plan", "--db", register, "--engine", "greedy")
    assert code == 0, err
    assert err.count("…") >= 2
    assert ("перетворення реєстру на задачу планування" if lang == "uk" else
            "преобразование реестра в задачу планирования") in err
    assert english_left(err) == [] and english_left(out) == []


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_a_field_review_verdict_and_a_land_release_refusal(tmp_path: Path, lang: str,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A clearance report for a team the register lacks: `field list` gives the verdict in the language; with the
    team added it is reviewed, approved and applied; accepting the area as released is then refused, in the
    language, with the reasons."""
    db = tmp_path / "f.gpkg"
    said = []
    for args in (["init", "--db", db, "--start-date", "2026-11-02"],
                 ["import", "hazards", EXAMPLES / "survey.geojson", "--db", db],
                 ["import", "field", EXAMPLES / "odk_clearance.zip", "--db", db],
                 ["field", "list", "--db", db]):
        code, out, err = run(monkeypatch, capsys, "--lang", lang, *args)
        assert code == 0, (args, err)
        said += [out, err]
    verdict = said[-2].splitlines()[1]
    assert "T-MAN-1" in verdict and ("немає такого запису (група)" if lang == "uk" else
                                     "нет такой записи (группа)") in verdict, verdict
    for args in (["import", "workforce", EXAMPLES / "teams.csv", "--db", db],
                 ["field", "list", "--db", db],
                 ["field", "review", "--db", db, "--actor", "im", "--all-valid"],
                 ["field", "approve", "--db", db, "--actor", "im", "--all-valid"],
                 ["field", "apply", "--db", db]):
        code, out, err = run(monkeypatch, capsys, "--lang", lang, *args)
        assert code == 0, (args, err)
        said += [out, err]
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "release", "accept", "EX-H2", "--db", db,
                         "--authority", "NMAA", "--actor", "d", "--reason", "r")
    assert code == 2 and out == ""
    assert err.startswith("sapper: помилка [illegal_transition]: небезпечна ділянка EX-H2: " if lang == "uk" else
                          "sapper: ошибка [illegal_transition]: опасный участок EX-H2: ")
    assert ("неможливо прийняти ділянку як звільнену: " if lang == "uk" else
            "невозможно принять участок как высвобожденный: ") in err
    said.append(err)
    assert [line for text in said for line in english_left(text)] == []


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_a_replan_on_blocked_work_explains_itself_in_the_language(tmp_path: Path, lang: str,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A week of reports with brigade B-BLD-1 blocked by hazard area H-2: `sapper replan`'s notes, changes and
    progress lines, all in the language."""
    db = tmp_path / "register.gpkg"
    _register(db)
    with open_store(db) as store:
        plan_store(store, settings=PlanSettings(time_limit_s=5, engine=Engine.GREEDY))
    report(db, [*week_as_planned(db), _blocked_report(dt.date(2025, 6, 6), blocked_by_hazard="yes",
                                                      blocking_hazard_id="H-2")])
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "replan", "--db", db, "--time-limit", "3")
    assert code == 0, err
    assert ("бригада B-BLD-1 повідомила 2025-06-06, що роботи на об'єкті A-3 заблоковано небезпечною ділянкою H-2"
            if lang == "uk" else
            "бригада B-BLD-1 сообщила 2025-06-06, что работы на объекте A-3 заблокированы опасным участком H-2") in out
    assert english_left(out) == [] and english_left(err) == []


# ----------------------------------------------------------------------------------------------------
# The last English strings (issue 14 item 5): the whatif table, the command-line library's words, record checks,
# file readers' reasons, release-rule names, `sapper info`'s table names and the roles of the utilisation lines
# ----------------------------------------------------------------------------------------------------

#: Role codes (methods, trades) and pool kinds: what the utilisation and whatif lines said before they named roles.
_ROLE_CODE = re.compile(r"(?<![\w-])(survey|manual|dog|mechanical|bac|road|bridge|power|water|building|deminers|"
                        r"builders)(?![\w-])")


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_the_whatif_table_is_in_the_language(register: Path, lang: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper whatif`: headers, row labels, the critical assets' rule, what each column is, the roles named."""
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "whatif", "--db", register, "--variant",
                         "more:deminers=+10", "--runs", "20", "--time-limit", "2", "--no-save")
    assert code == 0, err
    head = out.splitlines()[0]
    assert head.startswith("варіант" if lang == "uk" else "вариант"), head
    assert ("що означає кожен стовпець:" if lang == "uk" else "что означает каждый столбец:") in out
    assert ("групи ручного розмінування: " if lang == "uk" else "группы ручного разминирования: ") in out
    columns = [line for line in out.splitlines() if line.startswith(("  current:", "  more:"))]
    assert len(columns) == 2 and not any(_ROLE_CODE.search(line.replace("deminers=+10", "")) for line in columns)
    assert english_left(out, keep=("deminers=+10",)) == [] and english_left(err) == []


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_usage_errors_and_help_are_in_the_language(lang: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The library's words (usage line, where to find help, the error) and sapper's own help texts: an unknown
    option, a missing one, a value that is not a number, an unknown command; `--help` of a command and of a group,
    the language given by --lang or by $SAPPER_LANG."""
    monkeypatch.delenv("SAPPER_DB", raising=False)
    monkeypatch.delenv("SAPPER_TIME_LIMIT", raising=False)
    said = []
    for args in (["plan", "--bogus"], ["plan"], ["plan", "--db", "x.gpkg", "--time-limit", "abc"], ["bogus"]):
        code, out, err = run(monkeypatch, capsys, "--lang", lang, *args)
        assert code == 2 and out == "", (args, err)
        assert ("Помилка: " if lang == "uk" else "Ошибка: ") in err, err
        assert err.startswith("Використання: " if lang == "uk" else "Использование: "), err
        said.append(err)
    assert ("Немає такого параметра: --bogus" if lang == "uk" else "Нет такого параметра: --bogus") in said[0]
    assert ("Бракує параметра '--db'" if lang == "uk" else "Не хватает параметра '--db'") in said[1]
    assert "не число" in said[2]
    assert ("Немає такої команди 'bogus'" if lang == "uk" else "Нет такой команды 'bogus'") in said[3]
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "plan", "--help")
    assert code == 0, err
    assert ("Параметри" if lang == "uk" else "Параметры") in out
    assert ("Спланувати кожну відкриту небезпечну ділянку" if lang == "uk" else
            "Спланировать каждый открытый опасный участок") in out
    assert ("Показати це повідомлення й вийти." if lang == "uk" else "Показать это сообщение и выйти.") in \
        " ".join(out.replace("│", " ").split())
    said.append(out)
    monkeypatch.setenv("SAPPER_LANG", lang)
    code, out, err = run(monkeypatch, capsys, "release", "--help")
    assert code == 0, err
    assert ("Команди" if lang == "uk" else "Команды") in out
    said.append(out)
    assert [line for text in said for line in english_left(text)] == []


def test_usage_errors_and_help_stay_as_the_library_says_them_in_english(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """In English the library's own text is unchanged (a run in another language before does not leak into it)."""
    run(monkeypatch, capsys, "--lang", "uk", "plan", "--bogus")
    code, _, err = run(monkeypatch, capsys, "--lang", "en", "plan", "--bogus")
    assert code == 2
    assert err.startswith("Usage: ") and "plan [OPTIONS]\nTry '" in err and "plan --help' for help.\n" in err
    assert "Error: No such option: --bogus" in err
    code, out, _ = run(monkeypatch, capsys, "plan", "--help")
    assert code == 0 and "Usage: " in out and "Options" in out and "Plan every open hazard area" in out


#: A hazard-area file with a bow tie (repaired), a feature without geometry, one whose id came before and one with a
#: class sapper does not know (rejected).
_MESSY = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"id": "bow", "hazard_class": "SHA"},
     "geometry": {"type": "Polygon", "coordinates": [[[35.0, 51.0], [35.01, 51.01], [35.01, 51.0], [35.0, 51.01],
                                                      [35.0, 51.0]]]}},
    {"type": "Feature", "properties": {"id": "nothing", "hazard_class": "SHA"}, "geometry": None},
    {"type": "Feature", "properties": {"id": "bow", "hazard_class": "CHA"},
     "geometry": {"type": "Polygon", "coordinates": [[[35.1, 51.1], [35.11, 51.1], [35.11, 51.11], [35.1, 51.1]]]}},
    {"type": "Feature", "properties": {"id": "odd", "hazard_class": "XYZ", "beneficiaries": "1,5"},
     "geometry": {"type": "Polygon", "coordinates": [[[35.2, 51.2], [35.21, 51.2], [35.21, 51.21], [35.2, 51.2]]]}},
]}


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_file_readers_reasons_and_record_checks_are_in_the_language(tmp_path: Path, lang: str,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """An import's repaired and rejected features (GEOS's reason with its place, a missing geometry, a repeated id,
    an unknown value, a count with a decimal comma) and a check of a record below the services (a release rule out
    of range), in the language."""
    db, src = tmp_path / "r.gpkg", tmp_path / "messy.geojson"
    src.write_text(json.dumps(_MESSY), encoding="utf-8")
    code, _, err = run(monkeypatch, capsys, "--lang", lang, "init", "--db", db)
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "import", "hazards", src, "--db", db)
    assert code == 0, err
    assert ("самоперетин [35.005 51.005]" if lang == "uk" else "самопересечение [35.005 51.005]") in out, out
    assert ("геометрії немає" if lang == "uk" else "геометрии нет") in out
    assert ("уже трапляється раніше у файлі" if lang == "uk" else "уже встречается раньше в файле") in out
    assert ("beneficiaries має бути цілим числом, отримано '1,5'" if lang == "uk" else
            "beneficiaries должно быть целым числом, получено '1,5'") in out
    said = [out, err]
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "release", "rules", "--db", db,
                         "--residual-area-m2", "-1")
    assert code == 2 and out == ""
    assert ("залишкова площа має бути ≥ 0 м²" if lang == "uk" else "остаточная площадь должна быть ≥ 0 м²") in err
    assert ("правила звільнення" if lang == "uk" else "правила высвобождения") in err
    said.append(err)
    assert [line for text in said for line in english_left(text)] == []


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_release_rules_info_and_utilisation_name_things_in_the_language(register: Path, lang: str,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper release rules` names each setting (its own name in brackets), `sapper info` its tables, and the plan's
    utilisation lines the roles, in the language; `--json` keeps the codes."""
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "release", "rules", "--db", register)
    assert code == 0, err
    assert not re.search(r"^residual_area_m2 = ", out, re.M)
    assert ("найбільша залишкова площа, яку можна звільнити, м² (residual_area_m2) = 1.0" if lang == "uk" else
            "наибольшая остаточная площадь, которую можно высвободить, м² (residual_area_m2) = 1.0") in out
    said = [out]
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "info", "--db", register)
    assert code == 0, err
    names = [line.split(":")[0].strip() for line in out.splitlines()]
    assert "hazard_areas" not in names and ("небезпечні ділянки" if lang == "uk" else "опасные участки") in names
    said.append(out)
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "info", "--db", register, "--json")
    assert code == 0 and json.loads(out)["counts"]["hazard_areas"] == 6
    code, out, err = run(monkeypatch, capsys, "--lang", lang, "plan", "--db", register, "--engine", "greedy")
    assert code == 0, err
    roles = [line for line in out.splitlines() if line.startswith("  ") and "%" in line and ":" in line
             and not line.strip()[0].isdigit()]
    assert len(roles) >= 4, out
    assert not any(_ROLE_CODE.search(line) for line in roles), roles
    assert ("групи ручного розмінування" if lang == "uk" else "группы ручного разминирования") in out
    said.append(out)
    assert [line for text in said for line in english_left(text)] == []


def test_every_help_text_is_translated() -> None:
    """Every help text of the command tree (commands, options, arguments) is translated in both catalogues: a help
    text changed without `make catalogues` (which writes sapper/cli/_helptexts.py from the tree) fails here."""
    from sapper.cli._library import help_texts

    texts = help_texts()
    assert len(texts) > 200 and "Plan every open hazard area and damaged asset in the store; save the plan in it." \
        in texts
    for lang in (Lang.UK, Lang.RU):
        with catalogue_path(lang).open("rb") as f:
            catalogue = read_po(f, locale=lang.value)
        missing = [t for t in texts if (m := catalogue.get(t)) is None or not m.string]
        assert missing == [], (lang, missing[:5])


# ----------------------------------------------------------------------------------------------------
# Errors below the command line (issue 14 item 5, last pass): record names of validation errors, the file
# readers' refusals, the argument parser's conversion errors, the demo's scenario line
# ----------------------------------------------------------------------------------------------------

#: A hazard-area file whose columns are not sapper's (no id, no hazard_class).
_FOREIGN = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"fid": "P1", "kind": "SHA"},
     "geometry": {"type": "Polygon", "coordinates": [[[35.0, 51.0], [35.01, 51.0], [35.01, 51.01], [35.0, 51.0]]]}}]}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Files an import refuses: foreign columns, bytes in neither UTF-8 nor cp1251, a CSV without its CRS, an
    unreadable profile, a vector file with no feature to outline."""
    found = {"foreign": tmp_path / "foreign.geojson", "binary": tmp_path / "binary.csv",
             "nocrs": tmp_path / "nocrs.csv", "profile": tmp_path / "profile.toml", "empty": tmp_path / "empty.geojson"}
    found["foreign"].write_text(json.dumps(_FOREIGN), encoding="utf-8")
    found["binary"].write_bytes(b"id,\x88\x98x\n")
    found["nocrs"].write_text("id,hazard_class,wkt\nA1,SHA,\"POLYGON((35 51,35.01 51,35.01 51.01,35 51))\"\n",
                              encoding="cp1251")
    found["profile"].write_text("bogus = 1\n", encoding="utf-8")
    found["empty"].write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    return found


def _store(db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store with the examples' hazard areas (EX-H1 … EX-H6) and nothing else."""
    for args in (["init", "--db", db, "--start-date", "2026-11-02"],
                 ["import", "hazards", EXAMPLES / "survey.geojson", "--db", db]):
        code, _, err = run(monkeypatch, capsys, *args)
        assert code == 0, err
    return db


def _error_cases(db: Path, files: dict[str, Path]) -> list[tuple[list[str | Path], int]]:
    """Commands that fail on bad input (their arguments and exit code): one per surface of the last pass."""
    return [
        (["calendar", "add-holiday", "2026-12-25", "--to", "2026-12-01", "--db", db], 2),
        (["calendar", "add-standdown", "--for", "sappers", "--from", "12-01", "--to", "03-15", "--db", db], 2),
        (["calendar", "remove", "--holiday", "2020-01-01", "--db", db], 3),
        (["import", "hazards", files["foreign"], "--db", db], 2),
        (["import", "hazards", files["binary"], "--db", db], 2),
        (["import", "hazards", files["nocrs"], "--db", db], 2),
        (["import", "hazards", files["foreign"], "--profile", files["profile"], "--db", db], 2),
        (["import", "hazards", files["foreign"], "--db", db, "--crs", "EPSG:32636"], 2),
        (["import", "assets", files["foreign"], "--db", db], 2),
        (["import", "workforce", files["binary"], "--db", db], 2),
        (["import", "field", files["binary"], "--db", db], 2),
        (["release", "record", "EX-H1", "--type", "clearance", "--id", "A1", "--date", "2026-11-03", "--cleared",
          files["empty"], "--actor", "a", "--reason", "r", "--db", db], 2),
        (["forecast", "--db", db, "--workers", "0"], 2),
        (["user", "add", "bob", "--role", "chief", "--org", "NMAA", "--password-stdin", "--db", db], 2),
        (["plan", "--db", db, "--pools", "shared"], 2),
        (["plan", "--db", db, "--time-limit", "-5"], 2),
        (["whatif", "--db", db, "--variant", "current:manual_teams=+1"], 2),
        (["whatif", "--db", db, "--variant", "more:bogus=1"], 2),
        (["priorities", "--db", db, "--explain", "NOPE"], 3),
        (["release", "certificate", "EX-H1", "--out", db.with_suffix(".pdf"), "--db", db], 2),
        (["init", "--db", db], 4),
        (["scenario", "build", "kursk-border", "--db", db], 4),
    ]


#: Each case's English error (what a script may match: unchanged by the catalogues), in the order of _error_cases.
_ENGLISH = [
    "calendar is invalid: holidays.to: --to 2026-12-01 is before 2026-12-25",
    "calendar is invalid: stand-down.for: 'sappers' is not deminers or builders",
    "no holiday on 2020-01-01 in the calendar (sapper calendar show lists them)",
    "foreign.geojson: missing required columns id, hazard_class (or haz_class or hazard_cla) (found: none)",
    "binary.csv: is neither UTF-8 nor Windows-1251 (cp1251) text (byte 4 is 0x88): save it as CSV UTF-8",
    "nocrs.csv: a CSV file has no coordinate reference system of its own: pass it with --crs",
    "profile.toml: unknown entries bogus (a profile has kind, crs, [map], [values.FIELD] and [defaults])",
    "the file says its coordinate reference system is EPSG:4326, but --crs says EPSG:32636",
    "foreign.geojson: missing required columns id, asset_type, damage (found: none)",
    "binary.csv: is neither UTF-8 nor Windows-1251 (cp1251) text",
    "binary.csv: is neither an ODK Central export (no KEY column) nor a KoboToolbox export",
    "empty.geojson: holds no feature",
    "Error: Invalid value for '--workers': Input should be greater than or equal to 1",
    "Error: Invalid value for '--role': Value error, 'chief' is not one of 'admin', 'im-officer', 'planner', 'field', "
    "'viewer'.",
    "pools is invalid: pools.pools: pools must be one of fixed, capabilities, got 'shared'",
    "settings is invalid: settings.time_limit_s: must be above 0, not -5.0",
    "variant current is invalid: variant current: 'current' names the latest plan's column: pick another name",
    "variant more is invalid: variant more.bogus: unknown key 'bogus'",
    "'NOPE' is no record: give the id of an open hazard area or of an asset",
    "hazard area EX-H1 is invalid: hazard area EX-H1: has no land-release history: nothing to certify",
    "already exists; sapper init does not overwrite a file",
    "already exists; pass --replace to build the scenario over it",
]


def test_errors_below_the_command_line_stay_as_they_were_in_english(
        tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The same errors in English read as before the catalogues (scripts may match them): the record names, the
    readers' reasons, the parser's own words (a range, a choice)."""
    db = _store(tmp_path / "en.gpkg", monkeypatch, capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    for (args, exit_code), english in zip(_error_cases(db, files), _ENGLISH, strict=True):
        code, _, err = run(monkeypatch, capsys, "--lang", "en", *args)
        assert code == exit_code and english in err, (args, err)


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_errors_below_the_command_line_leave_no_english(tmp_path: Path, files: dict[str, Path], lang: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Every error case above in Ukrainian or Russian: the exit code is the same, no English sentence is left (the
    stop-list scan), and one sentence per surface reads as the catalogue says it."""
    db = _store(tmp_path / "store.gpkg", monkeypatch, capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    said = []
    for args, exit_code in _error_cases(db, files):
        code, out, err = run(monkeypatch, capsys, "--lang", lang, *args)
        assert code == exit_code and out == "", (args, err)
        said.append(err)
    uk = lang == "uk"
    expected = [
        "календар: неприйнятні дані: свята.to: --to 2026-12-01 раніше за 2026-12-25" if uk else
        "календарь: недопустимые данные: праздники.to: --to 2026-12-01 раньше 2026-12-25",
        "бракує обов'язкових стовпців id, hazard_class (або haz_class або hazard_cla) (знайдено: немає)" if uk else
        "не хватает обязательных столбцов id, hazard_class (или haz_class или hazard_cla) (найдено: нет)",
        "не є текстом ні в UTF-8, ні в Windows-1251 (cp1251)" if uk else
        "не является текстом ни в UTF-8, ни в Windows-1251 (cp1251)",
        "файл CSV не має власної системи координат" if uk else "у файла CSV нет собственной системы координат",
        "Неприпустиме значення для '--workers': має бути не менше 1, отримано 0" if uk else
        "Недопустимое значение для '--workers': должно быть не меньше 1, получено 0",
        "'chief' не є одним із 'admin', 'im-officer', 'planner', 'field', 'viewer'." if uk else
        "'chief' не является одним из 'admin', 'im-officer', 'planner', 'field', 'viewer'.",
        "небезпечна ділянка EX-H1: неприйнятні дані: небезпечна ділянка EX-H1: не має історії звільнення земель" if uk
        else "опасный участок EX-H1: недопустимые данные: опасный участок EX-H1: не имеет истории высвобождения земель",
    ]
    text = "\n".join(said)
    assert [e for e in expected if e not in text] == []
    # The usage line names the command (its words are sapper's commands, not English sentences).
    shown = [line for err in said for line in err.splitlines() if not line.startswith(("Використання:", "Довідка:",
                                                                                           "Использование:",
                                                                                           "Справка:"))]
    assert [line for line in shown if english_left(line)] == []


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_the_demo_and_scenario_lines_name_the_tables_in_the_language(lang: str, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's progress line after the scenario is built names the tables that hold records in the language
    (it printed a Python dict of table names before); in English it names them as the store does."""
    from sapper.cli._output import say, tr, use_language
    from sapper.cli.store import table_counts

    counts = {"accidents": 0, "hazard_areas": 2400, "assets": 1300}
    try:
        use_language(Lang(lang))
        say(tr("scenario: {counts}", counts=table_counts(counts)))
        use_language(Lang.EN)
        say(tr("scenario: {counts}", counts=table_counts(counts)))
    finally:
        use_language(Lang.EN)
    said, english = capsys.readouterr().err.splitlines()
    assert said == ("… сценарій: небезпечні ділянки 2400, пошкоджені об'єкти 1300" if lang == "uk" else
                    "… сценарий: опасные участки 2400, повреждённые объекты 1300"), said
    assert english == "… scenario: hazard_areas 2400, assets 1300"
