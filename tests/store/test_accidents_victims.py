"""Accidents and victims in the store (revision 0012) on both backends: victims' fields round-trip through AES-GCM,
the database holds no plaintext, a wrong or altered key is a one-line error, rotation re-encrypts all or nothing, the
audit trail refuses UPDATE and DELETE, and migration 0012 goes down and up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from sapper.domain.accidents import Accident, AccidentKind, Gender, Sensitivity, Victim, VictimOutcome
from sapper.domain.hazards import DeviceCategory
from sapper.domain.resources import Organisation, OrgKind
from sapper.domain.users import AuditEntry
from sapper.errors import DataKeyError, StoreError, ValidationError
from sapper.services import datakeys
from sapper.store import Store, open_store
from sapper.store import engine as engines
from sapper.store.cipher import EXAMPLE_KEY, DataKey, FieldCipher
from tests.store.migrating import migrate as _migrate
from tests.store.migrating import new_store
from tests.store.migrating import tables as _tables

NAME = "Олена Коваленко-Тестова"
ADDRESS = "вул. Садова 17, Суджа"
KEY = DataKey.generate()
OTHER = DataKey.generate()

ACCIDENT = Accident("AC-1", dt.date(2025, 6, 1), AccidentKind.MINE, DeviceCategory.AP_MINE, place="field by the road",
                    lon=35.3, lat=51.2, organisation_id="op-1", victim_count=1)
VICTIM = Victim("VI-1", "AC-1", NAME, Gender.FEMALE, VictimOutcome.INJURED, birth_date=dt.date(1971, 3, 9),
                address=ADDRESS, activity="collecting")


def _fill(store: Store, key: DataKey = KEY) -> None:
    with store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR)])
        uow.put_accident(ACCIDENT)
        uow.add_victim(VICTIM, FieldCipher(key))


def _victims(store: Store, cipher: FieldCipher) -> list[Victim]:
    with store.write() as uow:
        return uow.victims("AC-1", cipher)


def test_victim_round_trips_through_encryption(store: Store) -> None:
    """Every personal field reads back exactly as written (Cyrillic, dates), with the key it was written with."""
    _fill(store)
    assert _victims(store, FieldCipher(KEY)) == [VICTIM]
    assert store.accidents() == [ACCIDENT]
    assert store.victim_key_ids() == {KEY.key_id: 1}


def test_database_holds_ciphertext_only(store: Store, store_target: str | Path) -> None:
    """Each stored personal field is ``v1:<key id>:…`` and no field's plaintext appears in any column."""
    _fill(store)
    engine = engines.make_engine(store_target)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT name, gender, birth_date, address, outcome, activity, key_id "
                                    "FROM victims")).one()
    finally:
        engine.dispose()
    assert all(v.startswith(f"v1:{KEY.key_id}:") for v in row[:6]) and row.key_id == KEY.key_id
    joined = " ".join(row)
    for plain in (NAME, ADDRESS, "1971-03-09", "female", "injured", "collecting"):
        assert plain not in joined


def test_sqlite_file_bytes_hold_no_victim_name(gpkg_store: Store, db_path: Path) -> None:
    """Grepping the GeoPackage file (and its WAL) for the victim's name, address or birth date finds nothing."""
    _fill(gpkg_store)
    assert _victims(gpkg_store, FieldCipher(KEY))[0].name == NAME  # it is there, encrypted
    gpkg_store.close()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert len(raw) > 100_000
    for plain in (NAME, ADDRESS, "1971-03-09"):
        assert plain.encode("utf-8") not in raw
        assert plain.encode("utf-16-le") not in raw


def test_wrong_key_is_one_line_naming_the_key_ids(store: Store) -> None:
    """Reading with another key fails with one line naming both key ids and never the key itself."""
    _fill(store)
    with pytest.raises(DataKeyError) as caught:
        _victims(store, FieldCipher(OTHER))
    message = str(caught.value)
    assert "\n" not in message and KEY.key_id in message and OTHER.key_id in message
    assert KEY.text not in message and OTHER.text not in message


def test_altered_or_moved_ciphertext_does_not_decrypt(store: Store, store_target: str | Path) -> None:
    """A ciphertext copied into another field of the record is refused (the associated data binds it)."""
    _fill(store)
    engine = engines.make_engine(store_target)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE victims SET address = name"))
    finally:
        engine.dispose()
    with pytest.raises(DataKeyError, match="victims/VI-1/address does not decrypt"):
        _victims(store, FieldCipher(KEY))


def test_rotation_reencrypts_everything_and_audits_each_victim(store: Store) -> None:
    """After a rotation the new key reads every victim and the old one none; one audit row per victim."""
    _fill(store)
    done = datakeys.rotate(store, old=KEY.text, new=OTHER.text)
    assert (done.reencrypted, done.by_key) == (1, {OTHER.key_id: 1})
    assert _victims(store, FieldCipher(OTHER)) == [VICTIM]
    with pytest.raises(DataKeyError):
        _victims(store, FieldCipher(KEY))
    (entry,) = store.audit_entries(table_name="victims", record_id="VI-1")
    assert (entry.action, entry.reason) == ("update", "data key rotation")
    assert NAME not in (entry.after_json or "") + (entry.before_json or "")
    assert datakeys.rotate(store, old=KEY.text, new=OTHER.text).reencrypted == 0  # nothing left under the old key


def test_rotation_with_the_wrong_old_key_changes_nothing(store: Store) -> None:
    """A rotation whose old key is not the store's fails in one line and leaves every victim as it was."""
    _fill(store)
    third = DataKey.generate()
    with pytest.raises(DataKeyError, match=f"encrypted with key {KEY.key_id}"):
        datakeys.rotate(store, old=OTHER.text, new=third.text)
    assert store.victim_key_ids() == {KEY.key_id: 1} and _victims(store, FieldCipher(KEY)) == [VICTIM]
    assert store.audit_entries(table_name="victims") == []


def test_keys_are_checked_for_the_service() -> None:
    """The service refuses a missing, malformed, short or placeholder key outside development; not in it."""
    for bad in (None, "", "not base64!", "c2hvcnQ=", EXAMPLE_KEY, DataKey(bytes(32)).text):
        with pytest.raises(DataKeyError):
            datakeys.check_for_service(bad, development=False)
    assert datakeys.check_for_service(None, development=True) is None
    assert datakeys.check_for_service(EXAMPLE_KEY, development=True) is not None
    found = datakeys.check_for_service(KEY.text, development=False)
    assert found is not None and found.key_id == KEY.key_id
    assert KEY.text not in repr(KEY)


def test_victims_and_accidents_are_checked(store: Store) -> None:
    """The database refuses a victim of no accident; the domain refuses an accident without a place."""
    with pytest.raises(ValidationError), store.write() as uow:
        uow.add_victim(Victim("VI-9", "AC-nowhere", "x", Gender.MALE, VictimOutcome.KILLED), FieldCipher(KEY))
    with pytest.raises(ValidationError, match="neither a position"):
        Accident("AC-2", dt.date(2025, 1, 1), AccidentKind.MINE, DeviceCategory.UNKNOWN)
    assert Sensitivity.RESTRICTED.allows(Sensitivity.PUBLIC)
    assert not Sensitivity.CONFIDENTIAL.allows(Sensitivity.STRICTLY_CONFIDENTIAL)


@pytest.mark.parametrize("statement", ["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"])
def test_audit_refuses_update_and_delete(store: Store, store_target: str | Path, statement: str) -> None:
    """An UPDATE or DELETE on the audit trail is refused by the database itself (a trigger on each backend),
    even through a raw connection; the row stays."""
    with store.write() as uow:
        uow.audit(AuditEntry("anna", None, "hazard_areas", "h-1", "update", "test", "{}", "{}"))
    engine = engines.make_engine(store_target)
    try:
        with pytest.raises(Exception, match="audit is append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
    assert [(e.actor, e.record_id) for e in store.audit_entries()] == [("anna", "h-1")]


def test_audit_records_reads(store: Store) -> None:
    """Revision 0012 lets the audit trail hold ``read`` rows (every read of a victim)."""
    with store.write() as uow:
        uow.audit(AuditEntry("ima", None, "victims", "VI-1", "read", "", None, None))
    assert [e.action for e in store.audit_entries()] == ["read"]


@pytest.fixture(params=["gpkg", "postgis"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A store at head on each backend with an accident, a victim and audit rows (one of them a read)."""
    where = new_store(request, tmp_path, "m.gpkg")
    with open_store(where) as store:
        _fill(store)
        with store.write() as uow:
            uow.audit(AuditEntry("ima", None, "victims", "VI-1", "insert", "", None, "{}"))
            uow.audit(AuditEntry("ima", None, "victims", "VI-1", "read", "", None, None))
    return where


def test_migration_0012_down_and_up(migrated: str | Path) -> None:
    """Down to the revision before (0009): accidents and victims go, the audit keeps its writes (not the read), and
    stays append-only; up again: the tables come back empty and the audit accepts reads."""
    _migrate(migrated, "0009", down=True)
    assert not {"accidents", "victims"} & _tables(migrated)
    engine = engines.make_engine(migrated)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT action FROM audit ORDER BY id")).scalars().all() == ["insert"]
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM audit"))
    finally:
        engine.dispose()
    _migrate(migrated, "0012", down=False)
    assert "accidents" in _tables(migrated) and "victims" in _tables(migrated)
    with open_store(migrated) as store:  # (opening upgrades to the head: the revisions after 0012 come too)
        assert store.accidents() == []
        with store.write() as uow:
            uow.audit(AuditEntry("ima", None, "victims", "VI-1", "read", "", None, None))
        assert [e.action for e in store.audit_entries()] == ["read", "insert"]
    engine = engines.make_engine(migrated)
    try:
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE audit SET reason = 'x'"))
    finally:
        engine.dispose()


def test_store_error_is_a_data_key_error_parent() -> None:
    """A DataKeyError is a StoreError: the command line exits 4 and the API answers 503 with its code."""
    assert issubclass(DataKeyError, StoreError) and DataKeyError.code == "data_key_error"
