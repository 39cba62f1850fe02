"""The latest what-if comparison is kept typed in both backends and read back equal; the next one replaces it; a
plan's weight profile survives the plan's JSON."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sapper.prioritise import DEFAULT_PROFILE, WeightProfile
from sapper.store import SavedWhatIf, WhatIfAsset, WhatIfColumn, open_store
from sapper.store.planjson import params_from_json, params_to_json
from sapper.store.records import PlanParams


def _comparison(plan_id: int, name: str) -> SavedWhatIf:
    col = WhatIfColumn(name, "deminers=2000", 2000, 5000, True, dt.date(2030, 10, 25), dt.date(2030, 1, 2),
                       dt.date(2031, 1, 3), dt.date(2032, 1, 4), dt.date(2033, 1, 5), 200.25,
                       (WhatIfAsset("A-1", "road", None, dt.date(2029, 1, 1), None),
                        WhatIfAsset("A-2", "school", dt.date(2028, 5, 1), dt.date(2028, 6, 1), dt.date(2028, 7, 1))))
    return SavedWhatIf(plan_id, dt.datetime(2026, 12, 7, 5, 0, tzinfo=dt.UTC), 100, 7, dt.date(2030, 1, 1), 245.6,
                       (col,))


def test_the_latest_comparison_round_trips_and_is_replaced(store_target: str | Path) -> None:
    with open_store(store_target, create=True) as store:
        assert store.latest_whatif() is None
        first = _comparison(1, "double")
        store.save_whatif(first)
        assert store.latest_whatif() == first
        second = _comparison(2, "winter")
        store.save_whatif(second)
        assert store.latest_whatif() == second


def test_a_plans_profile_survives_its_json() -> None:
    people = WeightProfile("people-first",
                           hazard={"beneficiaries": 0.6, "land_use": 0.25, "threat": 0.15, "likelihood": 0.0})
    back = params_from_json(params_to_json(PlanParams(profile=people)), "plan run 1")
    assert back.profile == people and back.profile.digest == people.digest
    assert "profile" not in params_to_json(PlanParams())  # the default is not written: old plans read the same
    assert params_from_json({}, "plan run 1").profile == DEFAULT_PROFILE
