"""The catalogues (src/sapper/locale/*/LC_MESSAGES/sapper.po): every message the report code and the command line
mark is in each catalogue (extracted here with Babel's own extractor, from the whole package), Ukrainian and Russian
translate every one of them with all three plural forms and the same placeholders, and the plural rules, dates and
numbers follow each locale."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

import sapper
from sapper.domain.handover import STANDARD_RESIDUAL_RISK
from sapper.errors import ValidationError
from sapper.report.certificate import residual_risk
from sapper.report.i18n import Lang, Speaker, catalogue_path

PACKAGE = Path(sapper.__file__).parent
TRANSLATED = (Lang.UK, Lang.RU)
_PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def _catalogue(lang: Lang) -> Catalog:
    with catalogue_path(lang).open("rb") as f:
        return read_po(f, locale=lang.value)


def _marked() -> set[str]:
    """Every msgid marked in sapper: sp._(...) and sp.n_(...) in the reports, msg(...)/msg_n(...) where a message is
    made (sapper.messages), tr(...)/tr_n(...) in the command line, _() and ngettext() in the report templates."""
    found = extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python"), ("report/templates/**.j2", "jinja2.ext:babel_extract")],
        options_map={"report/templates/**.j2": {"extensions": "jinja2.ext.i18n"}},
        keywords={**DEFAULT_KEYWORDS, "n_": (1, 2), "msg": None, "msg_n": (1, 2), "tr": None, "tr_n": (1, 2)},
    )
    return {m[2] if isinstance(m[2], str) else m[2][0] for m in found}


def test_the_extractor_finds_the_marked_messages() -> None:
    """The extraction sees the report's Python and template messages and the command line's (else the next test
    would pass on nothing)."""
    marked = _marked()
    assert {"Key figures", "{n} unit", "%(num)s deminer", "survey teams", "Completion report and handover certificate",
            "no work planned"} <= marked
    assert {"sapper: error [{code}]: {message}", "exported {n} hazard area to {file}", "unknown field {name} (fields: "
            "{fields})", "no store at {path} (create one with `sapper init --db {path}`)", "{path}: {reason}",
            "imported {imported}, repaired {repaired}, rejected {rejected}"} <= marked
    assert len(marked) > 250


@pytest.mark.parametrize("lang", list(Lang))
def test_every_marked_message_is_in_the_catalogue(lang: Lang) -> None:
    """A message marked in the code but missing from a catalogue fails here (run `make catalogues`, translate)."""
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(lang) if m.id}
    assert _marked() - ids == set()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_its_plural_forms_and_placeholders(lang: Lang) -> None:
    """Non-empty translations; three plural forms (one, few, many); the source's placeholders kept."""
    cat = _catalogue(lang)
    assert cat.num_plurals == 3
    faults = []
    for m in cat:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strs = [m.string] if isinstance(m.string, str) else list(m.string)
        if any(not s.strip() for s in strs) or (len(ids) == 2 and len(strs) != 3):
            faults.append(f"{ids[0]!r}: untranslated or missing plural forms")
            continue
        if "fuzzy" in m.flags:
            faults.append(f"{ids[0]!r}: fuzzy")
        wanted = sorted(_PLACEHOLDER.findall(ids[-1]))
        faults += [f"{ids[0]!r}: placeholders {sorted(_PLACEHOLDER.findall(s))} against {wanted}"
                   for s in strs if sorted(_PLACEHOLDER.findall(s)) != wanted]
    assert faults == []


@pytest.mark.parametrize(("lang", "forms"), [
    (Lang.EN, ["1 unit", "2 units", "5 units", "21 units", "11 units"]),
    (Lang.UK, ["1 підрозділ", "2 підрозділи", "5 підрозділів", "21 підрозділ", "11 підрозділів"]),
    (Lang.RU, ["1 подразделение", "2 подразделения", "5 подразделений", "21 подразделение", "11 подразделений"]),
])
def test_plural_forms_follow_the_language(lang: Lang, forms: list[str]) -> None:
    """One, few and many as each language counts: 1, 2, 5, 21 and 11."""
    sp = Speaker(lang)
    assert [sp.n_("{n} unit", "{n} units", n).format(n=n) for n in (1, 2, 5, 21, 11)] == forms


def test_numbers_and_dates_follow_the_locale() -> None:
    """Thousands separators, decimal marks and month names per locale (Babel's CLDR data)."""
    day = dt.date(2025, 6, 2)
    assert (Speaker(Lang.EN).fmt_int(1234567), Speaker(Lang.EN).fmt_num(0.25)) == ("1,234,567", "0.2")
    assert Speaker(Lang.UK).fmt_int(1234567) == "1\u00a0234\u00a0567" and Speaker(Lang.UK).fmt_num(2.5) == "2,5"
    assert Speaker(Lang.EN).fmt_date(day) == "Jun 2, 2025"
    assert Speaker(Lang.UK).fmt_date(day) == "2 черв. 2025\u202fр."  # a narrow no-break space before р.
    assert Speaker(Lang.RU).fmt_date(day) == "2 июн. 2025\u202fг."
    assert Speaker(Lang.RU).fmt_fixed(0.3, 2) == "0,30"


def test_a_date_in_text_has_no_full_stop_of_its_own() -> None:
    """A date a sentence may end with: the medium date without the year's abbreviation (whose full stop doubled the
    sentence's in "Since …" and "compared on …"); English unchanged."""
    day = dt.date(2025, 6, 2)
    assert Speaker(Lang.EN).fmt_date_in_text(day) == Speaker(Lang.EN).fmt_date(day) == "Jun 2, 2025"
    assert Speaker(Lang.UK).fmt_date_in_text(day) == "2 черв. 2025"
    assert Speaker(Lang.RU).fmt_date_in_text(dt.datetime(2025, 6, 2, 17, 45)) == "2 июн. 2025"
    assert Speaker(Lang.UK).fmt_date_in_text(None) == "—"
    for lang in Lang:
        sp = Speaker(lang)
        since = sp._("Since %(date)s.") % {"date": sp.fmt_date_in_text(day)}
        assert since.endswith("2025.") and ".." not in since, since


def test_language_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """--lang wins; else SAPPER_LANG (a locale name such as uk_UA.UTF-8 is understood); else English; others refused
    with the accepted values named."""
    monkeypatch.delenv("SAPPER_LANG", raising=False)
    assert Lang.parse(None) is Lang.EN
    monkeypatch.setenv("SAPPER_LANG", "uk_UA.UTF-8")
    assert Lang.parse(None) is Lang.UK and Lang.parse("ru-RU") is Lang.RU
    monkeypatch.setenv("SAPPER_LANG", "de")
    with pytest.raises(ValidationError, match="en, uk, ru"):
        Lang.parse(None)


def test_the_residual_risk_statement_is_translated_as_the_domain_words_it() -> None:
    """The certificate's standard statement in the catalogue is the domain's own sentence (they cannot drift), and
    what the history adds after it is kept."""
    text = STANDARD_RESIDUAL_RISK + " Earlier finds: PMN-2 at 12 cm."
    assert residual_risk(Speaker(Lang.EN), text) == text
    uk = residual_risk(Speaker(Lang.UK), text)
    assert uk.startswith("Докладено всіх розумних зусиль") and uk.endswith(" Earlier finds: PMN-2 at 12 cm.")


def test_small_areas_are_not_shown_as_nothing() -> None:
    """An area of 637 m² in km² is "< 0.01", not "0"; zero stays zero."""
    assert Speaker(Lang.EN).fmt_km2(637 / 1e6) == "< 0.01" and Speaker(Lang.EN).fmt_km2(0.0) == "0.00"
    assert Speaker(Lang.UK).fmt_km2(170.634) == "170,63"
