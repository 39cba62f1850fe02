"""Planning reads the programme's land-release settings from the store (issue 18): ``plan_store`` compiles with
``store.release_rules()`` — NTS in a CHA, the inspection lag in working days, where dogs are not sent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.figures import NTS_CANCEL_SHARE
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.releaserules import DOG_EXCLUDED_DEVICES, ReleaseRules
from sapper.domain.resources import DeminerTeam, Method, Organisation, OrgKind
from sapper.errors import ValidationError
from sapper.scenario.compile import CompiledPlan, CompileParams, TaskKind
from sapper.services import landrelease as lr
from sapper.services.planning import Engine, PlanOutcome, PlanSettings, plan_store
from sapper.store import open_store

BASE = Point(35.0, 50.0)
CHA = shapely.box(35.100, 50.100, 35.104, 50.102)
FOREST = shapely.box(35.110, 50.100, 35.112, 50.101)


def _store(path: Path) -> Path:
    with open_store(path, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator", OrgKind.OPERATOR)])
        uow.add_hazards([
            HazardArea("H-CHA", HazardClass.CHA, CHA, Evidence.DIRECT, frozenset({DeviceCategory.AP_MINE}),
                       land_use=LandUse.AGRICULTURAL, expected_clearance_share=0.3, beneficiaries=100),
            HazardArea("H-FOR", HazardClass.SHA, FOREST, Evidence.INDIRECT, frozenset({DeviceCategory.AP_MINE}),
                       land_use=LandUse.FOREST, expected_clearance_share=0.5, beneficiaries=50),
        ])
        uow.add_teams([DeminerTeam("T-SUR-1", "op-1", Method.SURVEY, 4, BASE, 8000.0),
                       DeminerTeam("T-MAN-1", "op-1", Method.MANUAL, 8, BASE, 300.0),
                       DeminerTeam("T-DOG-1", "op-1", Method.DOG, 4, BASE, 1500.0)])
        uow.set_meta({"start_date": "2025-06-02"})
    return path


def _plan(path: Path, rules: ReleaseRules | None = None) -> PlanOutcome:
    with open_store(path) as store:
        if rules is not None:
            lr.set_rules(store, rules)
        return plan_store(store, settings=PlanSettings(engine=Engine.GREEDY, time_limit_s=5,
                                                       compile=CompileParams(demining_stand_down=None)))


def _of(compiled: CompiledPlan, hid: str, kind: TaskKind) -> list[int]:
    return [j for j, i in enumerate(compiled.info) if i.hazard_id == hid and i.kind is kind]


def _ts_m2(compiled: CompiledPlan, hid: str) -> float:
    return sum(compiled.info[j].work for j in _of(compiled, hid, TaskKind.TS))


def _release_gap(outcome: PlanOutcome, hid: str) -> int:
    """Working days between the end of ``hid``'s last clearance lot and its release milestone in the solved plan."""
    compiled, schedule = outcome.compiled, outcome.result.schedule
    assert schedule is not None
    tasks = compiled.problem.tasks
    end = max(schedule.starts[j] + tasks[j].modes[schedule.modes[j]].duration
              for j in _of(compiled, hid, TaskKind.CLEARANCE))
    (rel,) = _of(compiled, hid, TaskKind.RELEASED)
    return schedule.starts[rel] - end


def test_defaults_are_the_compilers(tmp_path: Path) -> None:
    """Unchanged settings compile exactly as before (the compiler's defaults), so existing plans do not change."""
    rules, params = ReleaseRules(), CompileParams()
    assert rules.inspection_lag_working_days == params.inspection_lag_days == 12
    assert rules.nts_may_cancel_in_cha == params.nts_may_cancel_in_cha
    assert rules.dog_excluded_devices == params.dog_excluded_devices == DOG_EXCLUDED_DEVICES
    assert rules.dog_excluded_land_uses == params.dog_excluded_land_uses
    assert rules.dog_excluded_hazards == params.dog_excluded_hazards


def test_nts_may_cancel_in_cha_from_the_store(tmp_path: Path) -> None:
    """With the store's nts_may_cancel_in_cha=true, NTS cancels its share of the CHA and TS covers only the rest."""
    db = _store(tmp_path / "r.gpkg")
    default = _plan(db)
    assert _ts_m2(default.compiled, "H-CHA") == pytest.approx(default.compiled.info[
        _of(default.compiled, "H-CHA", TaskKind.NTS)[0]].work)
    national = _plan(db, ReleaseRules(nts_may_cancel_in_cha=True))
    assert _ts_m2(national.compiled, "H-CHA") == pytest.approx(
        _ts_m2(default.compiled, "H-CHA") * (1 - NTS_CANCEL_SHARE.value))


def test_inspection_lag_from_the_store_moves_release_by_exactly_that(tmp_path: Path) -> None:
    """A lag of 12 + 9 working days puts each release milestone 9 working days later after its clearance."""
    db = _store(tmp_path / "r.gpkg")
    default = _plan(db)
    longer = _plan(db, ReleaseRules(inspection_lag_working_days=21))
    for hid in ("H-CHA", "H-FOR"):
        assert _release_gap(default, hid) == 12
        assert _release_gap(longer, hid) == 21


def test_dog_excluded_land_use_from_the_store(tmp_path: Path) -> None:
    """Forest gets dog lots by default; with forest excluded in the store, none of its lots can go to a dog team."""
    db = _store(tmp_path / "r.gpkg")

    def dog_lots(outcome: PlanOutcome) -> list[int]:
        c = outcome.compiled
        return [j for j in _of(c, "H-FOR", TaskKind.CLEARANCE)
                if any(m.name == "dog" for m in c.problem.tasks[j].modes)]

    assert dog_lots(_plan(db))
    excluded = _plan(db, ReleaseRules(dog_excluded_land_uses=frozenset({LandUse.FOREST})))
    assert _of(excluded.compiled, "H-FOR", TaskKind.CLEARANCE) and not dog_lots(excluded)
    flagged = _plan(db, ReleaseRules(dog_excluded_hazards=frozenset({"H-FOR"})))
    assert not dog_lots(flagged)


def test_lists_round_trip_and_bad_values_are_one_line(tmp_path: Path) -> None:
    db = _store(tmp_path / "r.gpkg")
    rules = ReleaseRules(dog_excluded_devices=frozenset({DeviceCategory.IED}),
                         dog_excluded_land_uses=frozenset({LandUse.FOREST, LandUse.WETLAND}),
                         dog_excluded_hazards=frozenset({"H-FOR", "H-CHA"}), inspection_lag_working_days=15)
    with open_store(db) as store:
        lr.set_rules(store, rules)
        assert store.meta()["release_rules.dog_excluded_land_uses"] == "forest,wetland"
        assert store.release_rules() == rules
        store.set_meta({"release_rules.dog_excluded_land_uses": "forest,jungle"})
        with pytest.raises(ValidationError) as bad:
            store.release_rules()
    message = str(bad.value)
    assert "'jungle' is not one of" in message and "dog_excluded_land_uses" in message and "\n" not in message
    with pytest.raises(ValidationError, match="'tank' is not a device category"):
        dataclasses.replace(rules, dog_excluded_devices=frozenset({"tank"}))  # type: ignore[arg-type]


def test_old_calendar_day_lag_is_read_in_working_days(tmp_path: Path) -> None:
    """A store written when the lag was kept in calendar days (release_rules.inspection_lag_days) is read as
    round(days × 6/7) working days: 14 → 12, 21 → 18; a stored working-day setting wins."""
    db = _store(tmp_path / "r.gpkg")
    with open_store(db) as store:
        store.set_meta({"release_rules.inspection_lag_days": "21"})
        assert store.release_rules().inspection_lag_working_days == 18
        store.set_meta({"release_rules.inspection_lag_working_days": "20"})
        assert store.release_rules().inspection_lag_working_days == 20
