"""``sapper backup`` / ``sapper restore`` on both backends: a backup taken while a writer writes is one consistent
snapshot; a restore holds every table exactly (row counts and content hash of each); the errors are one line."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import shapely
from sqlalchemy import text

from sapper.domain.accidents import Accident, AccidentKind, Gender, Victim, VictimOutcome
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass
from sapper.domain.resources import Organisation, OrgKind
from sapper.domain.users import AuditEntry
from sapper.errors import NotFoundError, StoreError
from sapper.services import backups
from sapper.store import Store, open_store
from sapper.store import engine as engines
from sapper.store.backup import store_digests
from sapper.store.cipher import DataKey, FieldCipher
from tests.cli.entry import run
from tests.conftest import PostgisServer

KEY = DataKey.generate()


def _area(i: int) -> HazardArea:
    return HazardArea(f"H-{i}", HazardClass.SHA, shapely.box(35 + i * 0.01, 51, 35.005 + i * 0.01, 51.005),
                      Evidence.INDIRECT, name=f"поле {i}", organisation_id="op-1")


def _fill(store: Store) -> None:
    with store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR)])
        uow.add_hazards([_area(i) for i in range(5)])
        uow.put_accident(Accident("AC-1", dt.date(2025, 6, 1), AccidentKind.MINE, DeviceCategory.AP_MINE,
                                  place="road", organisation_id="op-1", hazard_id="H-1", victim_count=1))
        uow.add_victim(Victim("VI-1", "AC-1", "Тарас", Gender.MALE, VictimOutcome.INJURED), FieldCipher(KEY))
        uow.audit(AuditEntry("ima", None, "victims", "VI-1", "insert", "test", None, "{}"))


def _write_pair(store: Store, i: int) -> None:
    """One transaction: a hazard area and its audit row (a consistent snapshot holds both or neither)."""
    with store.write() as uow:
        uow.add_hazards([_area(i)])
        uow.audit(AuditEntry("writer", None, "hazard_areas", f"H-{i}", "insert", "concurrent", None, "{}"))


def test_sqlite_backup_while_writing_is_consistent_and_restores_exactly(tmp_path: Path) -> None:
    """Backups taken while a thread commits (hazard area + audit row) transactions each pass the integrity check,
    hold every pair whole, and restore into a store whose every table matches the backup (counts and hashes)."""
    db = tmp_path / "live.gpkg"
    with open_store(db, create=True) as store:
        _fill(store)
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with open_store(db) as store:
                i = 100
                while not stop.is_set():
                    _write_pair(store, i)
                    written.append(i)
                    i += 1
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        outs = []
        for n in range(4):
            while len(written) < 5 * (n + 1):  # let the writer commit between backups
                threading.Event().wait(0.01)
            out = tmp_path / f"backup-{n}.gpkg"
            backups.backup(str(db), out)
            outs.append(out)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures and len(written) >= 20
    sizes = []
    for n, out in enumerate(outs):
        found = store_digests(out)
        pairs = found["audit"].rows - 1  # the fill's own audit row
        assert found["hazard_areas"].rows == 5 + pairs and pairs >= 5 * (n + 1)  # every transaction whole
        sizes.append(pairs)
        restored = tmp_path / f"restored-{n}.gpkg"
        done = backups.restore(out, str(restored))
        assert done.revision == engines.head_revision() and done.counts["victims"] == 1
        assert store_digests(restored) == found  # every table: rows and content
    assert sizes == sorted(sizes)
    with open_store(tmp_path / "restored-0.gpkg") as store, store.write() as uow:
        assert uow.victims("AC-1", FieldCipher(KEY))[0].name == "Тарас"  # the same key reads the restored victims


def test_sqlite_restore_refuses_an_existing_store_unless_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``sapper restore`` over an existing store is one line (exit 4) unless --replace, which then restores it."""
    db, other = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    with open_store(db, create=True) as store:
        _fill(store)
    open_store(other, create=True).close()
    code, out, _ = run(monkeypatch, capsys, "backup", "--db", db, "--out", tmp_path / "a.bak")
    assert code == 0 and out.startswith(f"backed up to {tmp_path / 'a.bak'}")
    code, _, err = run(monkeypatch, capsys, "restore", "--from", tmp_path / "a.bak", "--db", other)
    assert code == 4 and err.count("\n") == 1 and "--replace" in err
    code, out, _ = run(monkeypatch, capsys, "restore", "--from", tmp_path / "a.bak", "--db", other, "--replace")
    assert code == 0 and "victims: 1" in out
    assert store_digests(other) == store_digests(tmp_path / "a.bak")


def test_backup_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """No store, a folder that does not exist, a file that is not a backup: one line each, nothing written."""
    db = tmp_path / "a.gpkg"
    open_store(db, create=True).close()
    (tmp_path / "junk.bin").write_bytes(b"not a backup at all")
    for args, code_wanted, words in (
        (("backup", "--db", tmp_path / "none.gpkg", "--out", tmp_path / "x"), 3, "no store"),
        (("backup", "--db", db, "--out", tmp_path / "no" / "x"), 3, "does not exist"),
        (("restore", "--from", tmp_path / "junk.bin", "--db", tmp_path / "new.gpkg"), 4, "not a sapper backup"),
        (("restore", "--from", tmp_path / "none.bak", "--db", tmp_path / "new.gpkg"), 3, "no backup"),
    ):
        code, _, err = run(monkeypatch, capsys, *args)
        assert code == code_wanted and err.count("\n") == 1 and words in err, err
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("a.gpkg-"))  # the store's WAL files
    assert left == ["a.gpkg", "junk.bin"]


def test_pg_dump_missing_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the PostgreSQL client programs on PATH, a PostgreSQL backup says so in one line."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StoreError, match="pg_dump is not installed"):
        backups.backup("postgresql://postgres@127.0.0.1:5432/nowhere", tmp_path / "x.dump")
    assert list(tmp_path.iterdir()) == []


def test_postgis_backup_and_restore_match_every_table(postgis: PostgisServer, tmp_path: Path) -> None:
    """pg_dump of a PostGIS store, pg_restore into a new database: every table has the same rows and content hash,
    the restored store opens at the newest revision, a SQLite backup cannot go into it, and it cannot be restored
    over without --replace (which then works)."""
    source = postgis.clean_store_database()
    with open_store(source) as store:
        _fill(store)
        _write_pair(store, 100)
    out = tmp_path / "pg.dump"
    backups.backup(source, out)
    assert out.read_bytes()[:5] == b"PGDMP"
    target = postgis.new_empty_database()
    try:
        done = backups.restore(out, target)
        assert done.revision == engines.head_revision() and done.counts["hazard_areas"] == 6
        want, got = store_digests(source), store_digests(target)
        assert set(want) >= {"hazard_areas", "victims", "audit", "alembic_version"}
        assert got == want
        with pytest.raises(StoreError, match="holds tables"):
            backups.restore(out, target)
        backups.restore(out, target, replace=True)
        assert store_digests(target) == want
        sqlite_backup = tmp_path / "s.gpkg"
        open_store(sqlite_backup, create=True).close()
        with pytest.raises(StoreError, match="sqlite backup"):
            backups.restore(sqlite_backup, target, replace=True)
        engine = engines.make_engine(target)
        try:
            with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
                conn.execute(text("DELETE FROM audit"))  # the guards came back with the restore
        finally:
            engine.dispose()
    finally:
        postgis.drop(target)


def test_restore_into_a_missing_database_creates_it(postgis: PostgisServer, tmp_path: Path) -> None:
    """A restore names a database that does not exist yet: it is created, then restored."""
    source = postgis.clean_store_database()
    with open_store(source) as store:
        _fill(store)
    out = tmp_path / "pg.dump"
    backups.backup(source, out)
    target = postgis.url_of(f"{postgis.prefix}_restored")
    try:
        backups.restore(out, target)
        assert store_digests(target) == store_digests(source)
    finally:
        postgis.drop(target)


def test_missing_backup_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        backups.restore(tmp_path / "none", str(tmp_path / "x.gpkg"))
