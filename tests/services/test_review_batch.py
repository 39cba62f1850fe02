"""Field review that scales: several ids in one command, filters, ``--all-valid``, one transaction per batch (500
staged submissions, on SQLite and PostGIS), ``field list`` columns and verdicts, and the nearest-id suggestion."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.domain.fielddata import StagingState, Submission, SubmissionSource
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade
from sapper.errors import NotFoundError, ValidationError
from sapper.services import fielddata as fd
from sapper.services import review
from sapper.store import Store, open_store

AT = dt.datetime(2025, 6, 20, 9, 0, tzinfo=dt.UTC)
TEAMS = ("T-MAN-001", "T-MAN-010", "T-MAN-100", "T-MECH-002")


def seed(store: Store) -> None:
    """Organisations, hazard areas H-0042 and H-0043, asset A-1, the teams of TEAMS and brigade B-1."""
    with store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR),
                               Organisation("con-1", "Builder", OrgKind.CONTRACTOR)])
        uow.add_hazards([HazardArea("H-0042", HazardClass.CHA, shapely.box(35.10, 50.10, 35.11, 50.11),
                                    Evidence.DIRECT),
                         HazardArea("H-0043", HazardClass.SHA, shapely.box(35.2, 50.2, 35.21, 50.21),
                                    Evidence.INDIRECT)])
        uow.add_assets([Asset("A-1", AssetType.BRIDGE, Point(35.3, 50.3), DamageLevel.SEVERE,
                              {Trade.BRIDGE: 200.0})])
        uow.add_teams([DeminerTeam(t, "op-1", Method.MANUAL, 8, Point(35.0, 50.0), 180.0) for t in TEAMS])
        uow.add_brigades([BuilderBrigade("B-1", "con-1", Trade.BRIDGE, 20, Point(35.0, 50.0))])


def clearance(n: int, *, team: str = "T-MAN-001", hazard: str = "H-0042", day: str = "2025-06-18",
              m2: str = "250,5") -> Submission:
    """Clearance progress number ``n``, built in code as an ODK Central export would give it (no devices)."""
    instance = f"uuid:00000000-0000-4000-8000-{n:012d}"
    return Submission(SubmissionSource.ODK_CENTRAL, "sapper_clearance", instance, instance,
                      submitted_at=dt.datetime.fromisoformat(day + "T16:00:00+00:00"),
                      fields={"team_id": team, "hazard_id": hazard, "work_date": day, "organisation_id": "op-1",
                              "method": "manual", "cleared_m2": m2, "clearance_depth_cm": "13",
                              "deminers_working": "6", "hours_worked": "5", "devices_found": "no"})


def brigade(n: int, *, unit: str = "B-1", asset: str = "A-1", day: str = "2025-06-19") -> Submission:
    instance = f"uuid:00000000-0000-4000-9000-{n:012d}"
    return Submission(SubmissionSource.ODK_CENTRAL, "sapper_brigade", instance, instance,
                      fields={"brigade_id": unit, "asset_id": asset, "work_date": day, "builder_days": "12",
                              "percent_complete": "40"})


def stage(store: Store, subs: list[Submission]) -> list[int]:
    """Stage submissions in one transaction (what ``sapper import field`` does after reading a file)."""
    with store.write() as uow:
        return [uow.field_staging.stage(s, kind="brigade" if s.form_id == "sapper_brigade" else "clearance",
                                        source_file="built-in-code.zip", actor="test", at=AT).staged_id
                for s in subs]


def states(store: Store) -> dict[int, str]:
    return {s.id: s.state.value for s in store.field_submissions()}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "register.gpkg"
    with open_store(path, create=True) as store:
        seed(store)
    return path


@pytest.fixture
def reg(db: Path) -> Iterator[Store]:
    with open_store(db) as store:
        yield store


# ----------------------------------------------------------------------------------------------------
# The nearest id
# ----------------------------------------------------------------------------------------------------


def test_nearest_id_ignores_case_and_leading_zeros_and_ties_are_all_named() -> None:
    """T-MAN-1 is T-MAN-001 (not T-MAN-100, which difflib alone ranks as close); a typo finds its id; ids far from
    any (H-9 among H-1, H-2) get no suggestion."""
    assert fd.nearest_ids("T-MAN-1", TEAMS) == ["T-MAN-001"]
    assert fd.nearest_ids("t-man-001", TEAMS) == ["T-MAN-001"]
    assert fd.nearest_ids("T-MAM-010", TEAMS) == ["T-MAN-010"]
    assert fd.nearest_ids("T-MECH-2", TEAMS) == ["T-MECH-002"]
    assert fd.nearest_ids("H-9", ["H-1", "H-2"]) == []
    assert fd.nearest_ids("X-TEAM-77", TEAMS) == []
    assert fd.nearest_ids("AB-12", ["AB-13", "AB-14", "ZZ-99"]) == ["AB-13", "AB-14"]


def test_a_wrong_team_id_gets_the_nearest_id_and_no_advice_to_import_it(reg: Store) -> None:
    """T-MAN-1 is refused with "did you mean T-MAN-001?" in the verdict and in apply's fault, never with advice to
    import a team (that would make a phantom T-MAN-1); an id close to none still says what to do."""
    stage(reg, [clearance(1, team="T-MAN-1"), clearance(2, team="Z-99"), clearance(3, hazard="H-42")])
    rows = review.listing(reg, review.Selection())
    assert [r.verdict for r in rows] == [
        "team_id: T-MAN-1 is not a team; did you mean T-MAN-001?",
        "team_id: Z-99 is not a team in the store (no id in the store is close to it: correct the submission, or, "
        "if the register lacks this unit, add it with sapper import workforce)",
        "hazard_id: H-42 is not a hazard area; did you mean H-0042?",
    ]
    assert "import" not in rows[0].verdict and "import" not in rows[2].verdict
    with reg.write() as uow:
        for i in (1, 2, 3):
            uow.field_staging.transition(i, StagingState.REVIEWED, actor="OK", reason="", at=AT)
            uow.field_staging.transition(i, StagingState.APPROVED, actor="OK", reason="", at=AT)
    summary = fd.apply_approved(reg, at=AT)
    assert summary.applied == [] and len(summary.faults) == 3
    assert reg.field_submission(1).apply_fault == "team_id: T-MAN-1 is not a team; did you mean T-MAN-001?"
    assert sorted(t.id for t in reg.teams()) == sorted(TEAMS)


# ----------------------------------------------------------------------------------------------------
# Batches: several ids, filters, one transaction
# ----------------------------------------------------------------------------------------------------


def test_several_ids_at_once_and_all_or_nothing(reg: Store) -> None:
    """Three ids move together; a batch with one id in the wrong state or unknown changes none of them, and the
    error names the first bad one."""
    stage(reg, [clearance(n) for n in range(1, 5)])
    done = review.batch(reg, "reviewed", review.Selection((1, 2, 3)), actor="O. Kovalenko")
    assert [d.id for d in done] == [1, 2, 3] and states(reg) == {1: "reviewed", 2: "reviewed", 3: "reviewed",
                                                                  4: "staged"}
    with pytest.raises(ValidationError) as bad:
        review.batch(reg, "approved", review.Selection((1, 2, 4, 3)), actor="O. Kovalenko")
    assert len(bad.value.faults) == 1 and bad.value.faults[0].record.startswith("staged submission 4 (")
    assert "is staged and cannot become approved" in str(bad.value) and "nothing was changed" in str(bad.value)
    with pytest.raises(NotFoundError, match="staged submission 99 is not in the store; nothing was changed"):
        review.batch(reg, "approved", review.Selection((1, 99)), actor="O. Kovalenko")
    assert states(reg) == {1: "reviewed", 2: "reviewed", 3: "reviewed", 4: "staged"}
    with pytest.raises(ValidationError, match="a rejection needs a reason"):
        review.batch(reg, "rejected", review.Selection((1, 2)), actor="O. Kovalenko")
    with pytest.raises(ValidationError, match="not both"):
        review.batch(reg, "approved", review.Selection((1,), all_valid=True), actor="O. Kovalenko")
    with pytest.raises(ValidationError, match="name the staged ids"):
        review.batch(reg, "approved", review.Selection(), actor="O. Kovalenko")


def test_filters_select_by_team_form_and_date(reg: Store) -> None:
    """--team (a team or a brigade, any case), --form (kind or form id) and --since (the work date) select among the
    versions that can make the move; the others are left alone."""
    stage(reg, [clearance(1, team="T-MAN-001", day="2025-06-17"), clearance(2, team="T-MAN-010", day="2025-06-18"),
                clearance(3, team="T-MAN-001", day="2025-06-19"), brigade(4)])
    by_team = review.batch(reg, "reviewed", review.Selection(team="t-man-001", since=dt.date(2025, 6, 18)),
                           actor="OK")
    assert [d.id for d in by_team] == [3]
    by_form = review.batch(reg, "reviewed", review.Selection(form="sapper_brigade"), actor="OK")
    assert [d.id for d in by_form] == [4]
    assert [d.id for d in review.batch(reg, "reviewed", review.Selection(team="B-1"), actor="OK")] == []
    since = review.batch(reg, "reviewed", review.Selection(since=dt.date(2025, 6, 18)), actor="OK")
    assert [d.id for d in since] == [2]
    rejected = review.batch(reg, "rejected", review.Selection(form="clearance", team="T-MAN-001"), actor="OK",
                            reason="sent twice")
    assert [d.id for d in rejected] == [1, 3]
    assert states(reg) == {1: "rejected", 2: "reviewed", 3: "rejected", 4: "reviewed"}
    with pytest.raises(ValidationError, match="'mine' is not one of"):
        review.listing(reg, review.Selection(form="mine"))


@pytest.fixture
def batch_store(store_target: str | Path) -> Iterator[Store]:
    with open_store(store_target, create=True) as store:
        seed(store)
        yield store


def test_all_valid_approves_a_batch_of_500_in_one_transaction(batch_store: Store) -> None:
    """500 staged clearance reports, 7 of them with a wrong team: review and approve --all-valid take the 493 valid
    ones, apply writes them; an approve of all 500 by id, where the 7 are not reviewed, changes nothing."""
    reg = batch_store
    bad = {37, 111, 222, 260, 333, 404, 499}
    ids = stage(reg, [clearance(n, team="T-MAN-1" if n in bad else TEAMS[n % 3], m2=str(100 + n))
                      for n in range(1, 501)])
    assert len(ids) == 500
    start = time.perf_counter()
    reviewed = review.batch(reg, "reviewed", review.Selection(all_valid=True), actor="O. Kovalenko")
    assert len(reviewed) == 493 and not {d.id for d in reviewed} & {ids[n - 1] for n in bad}
    refused = (r"^batch of 500 is invalid: staged submission 37 \(uuid:\S+, version 1\): is staged and cannot "
               r"become approved; it can become rejected, reviewed; nothing was changed$")
    with pytest.raises(ValidationError, match=refused):
        review.batch(reg, "approved", review.Selection(tuple(ids)), actor="O. Kovalenko")
    assert sum(1 for s in states(reg).values() if s == "approved") == 0
    approved = review.batch(reg, "approved", review.Selection(all_valid=True), actor="O. Kovalenko")
    assert len(approved) == 493
    summary = fd.apply_approved(reg, at=AT)
    elapsed = time.perf_counter() - start
    assert (len(summary.applied), summary.faults) == (493, [])
    assert len(reg.field_progress()) == 493
    counts: dict[str, int] = {}
    for s in states(reg).values():
        counts[s] = counts.get(s, 0) + 1
    assert counts == {"applied": 493, "staged": 7}
    assert elapsed < 60, f"review, approve and apply of 500 took {elapsed:.1f} s"
