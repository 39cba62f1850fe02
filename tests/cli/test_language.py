"""The command line's own messages in Ukrainian and Russian (SAPPER_LANG, or `sapper --lang` before the command):
summaries and errors come from the catalogues, with the language's plural forms; English stays the default."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from sapper.messages import Joined, Msg, msg, phrases
from sapper.report.i18n import Lang, Speaker
from tests.cli.entry import run


def test_export_summary_in_ukrainian_and_russian(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """SAPPER_LANG=uk and --lang ru say what an export wrote, with the plural form of 6 and of 5."""
    monkeypatch.setenv("SAPPER_LANG", "uk")
    code, out, err = run(monkeypatch, capsys, "export", "hazards", tmp_path / "h.gpkg", "--db", tour)
    assert code == 0, err
    assert out.strip() == f"експортовано 6 небезпечних ділянок до {tmp_path / 'h.gpkg'}"
    monkeypatch.delenv("SAPPER_LANG")
    code, out, _ = run(monkeypatch, capsys, "--lang", "ru", "export", "assets", tmp_path / "a.csv", "--db", tour)
    assert code == 0 and out.strip() == f"экспортировано 5 объектов в {tmp_path / 'a.csv'}"
    code, out, _ = run(monkeypatch, capsys, "export", "assets", tmp_path / "a.csv", "--db", tour)
    assert code == 0 and out.strip() == f"exported 5 assets to {tmp_path / 'a.csv'}"  # English by default


def test_errors_in_ukrainian_and_russian(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A missing store and an unknown field: one translated line each, with the same exit codes as in English."""
    missing = tmp_path / "missing.gpkg"
    monkeypatch.setenv("SAPPER_LANG", "uk")
    code, out, err = run(monkeypatch, capsys, "info", "--db", missing)
    assert (code, out) == (3, "")
    assert err.strip() == (f"sapper: помилка [not_found]: сховища {missing} немає (створіть його: "
                           f"`sapper init --db {missing}`)")
    monkeypatch.setenv("SAPPER_LANG", "ru")
    code, _, err = run(monkeypatch, capsys, "export", "hazards", tmp_path / "x.csv", "--db", tour,
                       "--fields", "id,nmae")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("sapper: ошибка [validation_error]: экспорт: недопустимые данные: --fields: неизвестное "
                          "поле 'nmae' (поля: wkt, id, name, ")


def test_import_summary_and_file_errors_translated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """An import's counts and an empty file's reason in Russian; the file name and counts are the real ones."""
    db = tmp_path / "r.gpkg"
    monkeypatch.setenv("SAPPER_LANG", "ru")
    code, out, _ = run(monkeypatch, capsys, "init", "--db", db)
    assert code == 0 and out.strip() == f"создано {db}"
    examples = Path(__file__).parents[2] / "examples"
    code, out, _ = run(monkeypatch, capsys, "import", "hazards", examples / "survey.geojson", "--db", db)
    assert code == 0 and out.splitlines()[0] == "импортировано 6, исправлено 0, отклонено 0"
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = run(monkeypatch, capsys, "import", "hazards", empty, "--db", db)
    assert code == 2 and err.strip() == f"sapper: ошибка [import_file_error]: {empty}: пуст"


def test_an_unknown_language_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """SAPPER_LANG=de: exit 2, one line naming the languages there are."""
    monkeypatch.setenv("SAPPER_LANG", "de")
    code, _, err = run(monkeypatch, capsys, "info", "--db", tmp_path / "x.gpkg")
    assert code == 2 and err.count("\n") == 1 and "en, uk, ru" in err and "SAPPER_LANG" in err


def test_charts_follow_the_run_language(tour: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`sapper --lang uk export gantt` draws the chart in Ukrainian and says so in Ukrainian; the command's own --lang
    wins for the chart."""
    svg = tmp_path / "g.svg"
    code, out, _ = run(monkeypatch, capsys, "--lang", "uk", "export", "gantt", svg, "--db", tour)
    assert code == 0 and out.strip() == f"записано діаграму Ганта для 9 груп і бригад у {svg}"
    assert "Графік груп і бригад" in svg.read_text(encoding="utf-8")
    code, _, _ = run(monkeypatch, capsys, "--lang", "uk", "export", "gantt", svg, "--db", tour, "--lang", "ru")
    assert code == 0 and "График групп и бригад" in svg.read_text(encoding="utf-8")


def test_reasons_are_said_phrase_by_phrase() -> None:
    """A reason kept as plain text (a re-plan's saved counts, a land-release event's reason) is said phrase by phrase
    where the catalogue has the phrase — an id or a name stays as it is, braces in it are safe; joined messages are
    each translated; both survive a pickle (a background job's result) as messages."""
    sp = Speaker(Lang.UK)
    said = phrases("predecessor late: slower than planned, team lost, H-{7}").translated(sp._, sp.n_)
    assert said == "попередник запізнюється: повільніше, ніж планувалося, групу втрачено, H-{7}"
    joined = Joined("; ", [msg("started early"), "T-MAN-1"])
    assert str(joined) == "started early; T-MAN-1" and joined.translated(sp._, sp.n_) == "розпочато раніше; T-MAN-1"
    again = pickle.loads(pickle.dumps(joined))
    assert isinstance(again, Joined) and again.translated(sp._, sp.n_) == "розпочато раніше; T-MAN-1"
    assert isinstance(pickle.loads(pickle.dumps(phrases("team lost"))), Msg)


def test_only_our_phrases_are_said_when_the_caller_names_them() -> None:
    """Text that may hold a person's words names sapper's own phrases (``ours``): only those are translated; a typed
    reason that equals a message, whole or part by part, stays as written; ``ours`` survives a pickle."""
    sp = Speaker(Lang.UK)
    typed = phrases("team lost", ours=["started early"])
    assert typed.translated(sp._, sp.n_) == "team lost"
    assert phrases("team lost").translated(sp._, sp.n_) == "групу втрачено"  # without ours: any phrase (sapper's text)
    mixed = phrases("started early: team lost, H-1", ours={"started early"})
    assert mixed.translated(sp._, sp.n_) == "розпочато раніше: team lost, H-1"
    again = pickle.loads(pickle.dumps(mixed))
    assert isinstance(again, Msg) and again.translated(sp._, sp.n_) == "розпочато раніше: team lost, H-1"
    assert phrases("team lost", ours=()).translated(sp._, sp.n_) == "team lost"
