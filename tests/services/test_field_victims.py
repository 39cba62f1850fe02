"""Victims from the accident form: staged encrypted with the data key (never in clear), written as victims with
each field encrypted when the report is applied, audited without a personal value, and taken out of staging once
applied."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path

import pytest

from sapper.domain.accidents import Gender, Victim, VictimOutcome
from sapper.domain.fielddata import StagingState
from sapper.services import fielddata as fd
from sapper.store import Store, open_store
from sapper.store.cipher import DataKey, FieldCipher
from tests.cli.entry import run
from tests.io.field_exports import Report, odk_zip
from tests.services.test_fielddata import AT, approve, db, dump, seeded

__all__ = ["db", "seeded"]  # fixtures used here

A = "uuid:7d1c2f1e-5a8b-4c3d-9e0f-1a2b3c4d5e6f"
A2 = "uuid:8e2d3f2a-6b9c-4d4e-8f1a-2b3c4d5e6f70"
NAME, BORN = "Олег Шевченко", "1980-01-02"
KEY = FieldCipher(DataKey(os.urandom(32)))


def report(instance: str = A, *, key: str | None = None, name: str = NAME, edits: int = 0) -> Report:
    return Report(
        instance,
        {
            "accident_date": "2025-06-01",
            "accident_location": (50.2, 35.2),
            "accident_type": "mine",
            "device_category": "at_mine",
            "victim_count": "2",
        },
        {
            "victims": [
                {
                    "victim_name": name,
                    "victim_gender": "male",
                    "victim_birth_date": BORN,
                    "victim_outcome": "injured",
                    "victim_activity": "farming",
                },
                {
                    "victim_name": "Марія Коваль",
                    "victim_gender": "female",
                    "victim_outcome": "killed",
                    "victim_activity": "collecting",
                },
            ]
        },
        key=key,
        edits=edits,
    )


def victims_of(store: Store, accident_id: str) -> list[Victim]:
    with store.write() as uow:
        return uow.victims(accident_id, KEY)


def staged_payloads(path: Path) -> list[dict[str, object]]:
    conn = sqlite3.connect(path)
    try:
        return [json.loads(r[0]) for r in conn.execute("SELECT payload FROM field_submissions ORDER BY id")]
    finally:
        conn.close()


def test_victims_are_staged_encrypted_and_applied_as_encrypted_victims(db: Path, tmp_path: Path, reg: Store) -> None:
    """With the data key: no victim answer is ever in the file in clear; importing again is unchanged; apply writes
    the victims (decrypting with the key) with audit rows holding no personal value, and staging keeps no copy."""
    export = odk_zip(tmp_path / "sapper_accident.zip", "sapper_accident", [report()])
    summary = fd.import_export(reg, export, at=AT, cipher=KEY)
    assert summary.new == 1 and any("staged encrypted" in n for n in summary.notes)
    assert not any("personal data not kept" in n for n in summary.notes)
    raw = dump(db)
    assert NAME not in raw and BORN not in raw and "Коваль" not in raw
    (payload,) = staged_payloads(db)
    assert "v1:" + KEY.key_id in json.dumps(payload)  # the answers are there, as ciphertext
    assert fd.import_export(reg, export, at=AT, cipher=KEY).unchanged == 1  # same answers, new nonces: unchanged

    approve(db, 1)
    result = fd.apply_approved(reg, at=AT, cipher=KEY)
    assert result.faults == [] and result.applied == [f"1 (accident, {A}, version 1)"]
    accident_id = fd.accident_id(A)
    victims = victims_of(reg, accident_id)
    assert [(v.id, v.name, v.gender, v.outcome, v.activity) for v in victims] == [
        (f"{accident_id}-v1", NAME, Gender.MALE, VictimOutcome.INJURED, "farming"),
        (f"{accident_id}-v2", "Марія Коваль", Gender.FEMALE, VictimOutcome.KILLED, "collecting"),
    ]
    assert victims[0].birth_date is not None and victims[0].birth_date.isoformat() == BORN
    trail = [e for v in victims for e in reg.audit_entries(table_name="victims", record_id=v.id)]
    assert [e.action for e in trail] == ["insert", "insert"]
    assert all(NAME not in (e.after_json or "") and BORN not in (e.after_json or "") for e in trail)

    raw = dump(db)
    assert NAME not in raw and BORN not in raw and "Коваль" not in raw
    (payload,) = staged_payloads(db)
    assert "victim_name" not in json.dumps(payload) and "v1:" not in json.dumps(payload)  # purged from staging
    assert fd.import_export(reg, export, at=AT, cipher=KEY).unchanged == 1  # and still the same version
    assert fd.apply_approved(reg, at=AT, cipher=KEY).applied == []  # applying again changes nothing
    assert len(victims_of(reg, accident_id)) == 2


def test_a_new_version_replaces_the_victims_of_the_one_before(db: Path, tmp_path: Path, reg: Store) -> None:
    """An edited report (a new version) applied later rewrites its victims: the changed name, same ids, audited."""
    fd.import_export(reg, odk_zip(tmp_path / "a.zip", "sapper_accident", [report()]), at=AT, cipher=KEY)
    approve(db, 1)
    fd.apply_approved(reg, at=AT, cipher=KEY)
    edited = report(A2, key=A, name="Олег Шевчук", edits=1)
    fd.import_export(reg, odk_zip(tmp_path / "b.zip", "sapper_accident", [edited]), at=AT, cipher=KEY)
    approve(db, 2)
    result = fd.apply_approved(reg, at=AT, cipher=KEY)
    assert result.faults == [] and len(result.applied) == 1
    accident_id = fd.accident_id(A)
    assert [v.name for v in victims_of(reg, accident_id)] == ["Олег Шевчук", "Марія Коваль"]
    assert [e.action for e in reg.audit_entries(table_name="victims", record_id=f"{accident_id}-v1")] == [
        "update",
        "insert",
    ]
    assert "Шевчук" not in dump(db)


def test_encrypted_victims_are_not_applied_without_the_key(db: Path, tmp_path: Path, reg: Store) -> None:
    """Without the data key, or with another one, the report stays approved with a one-line reason; nothing is
    written."""
    fd.import_export(reg, odk_zip(tmp_path / "a.zip", "sapper_accident", [report()]), at=AT, cipher=KEY)
    approve(db, 1)
    result = fd.apply_approved(reg, at=AT)
    assert result.applied == [] and "the victims' answers are encrypted: apply with SAPPER_DATA_KEY" in result.faults[0]
    other = FieldCipher(DataKey(os.urandom(32)))
    result = fd.apply_approved(reg, at=AT, cipher=other)
    assert result.applied == [] and f"is encrypted with key {KEY.key_id}" in result.faults[0]
    assert reg.accidents() == [] and reg.counts()["victims"] == 0
    (staged,) = reg.field_submissions()
    assert staged.state is StagingState.APPROVED


def test_field_import_and_apply_read_the_key_from_the_environment(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sapper import field`` and ``sapper field apply`` take the data key from SAPPER_DATA_KEY."""
    monkeypatch.setenv("SAPPER_DATA_KEY", base64.b64encode(KEY.key.secret).decode())
    export = odk_zip(tmp_path / "sapper_accident.zip", "sapper_accident", [report()])
    code, out, err = run(monkeypatch, capsys, "import", "field", export, "--db", db)
    assert code == 0, err
    assert "staged encrypted" in out and NAME not in dump(db)
    approve(db, 1)
    code, out, err = run(monkeypatch, capsys, "field", "apply", "--db", db)
    assert code == 0, err
    with open_store(db) as store:
        assert [v.name for v in victims_of(store, fd.accident_id(A))] == [NAME, "Марія Коваль"]
    monkeypatch.setenv("SAPPER_DATA_KEY", "not a key")
    code, out, err = run(monkeypatch, capsys, "field", "apply", "--db", db)
    assert code == 4 and len(err.strip().splitlines()) == 1 and "SAPPER_DATA_KEY is not base64" in err
