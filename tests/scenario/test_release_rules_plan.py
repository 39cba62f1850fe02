"""Planning follows the land-release rules (issue 18 item 8): ERW-only areas get battle area clearance on BAC/EOD
teams, dogs stay out where the programme's rules exclude them, survey is NTS (per area) then TS (per m²) then
clearance."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pytest
import shapely
from shapely.geometry import Point

from sapper.domain.figures import METHOD_FIGURES, NTS_CANCEL_SHARE
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, LandUse
from sapper.domain.resources import DeminerTeam, Method
from sapper.errors import ValidationError
from sapper.plan.solution import check
from sapper.plan.solve import SolveParams, solve
from sapper.scenario.compile import (
    CompiledPlan,
    CompileParams,
    TaskKind,
    compile_problem,
    is_erw_only,
    nts_days,
)
from sapper.scenario.kursk_border import KurskBorderConfig, build_kursk_border

D = DeviceCategory
BASE = Point(35.3, 51.3)
START = dt.date(2025, 4, 1)
NO_WINTER = CompileParams(demining_stand_down=None)


def _box(k: int, size: float = 0.002) -> shapely.Polygon:
    x, y = 35.30 + 0.01 * k, 51.30
    return shapely.box(x, y, x + size, y + size / 2)


def _hazard(hid: str, k: int, devices: set[DeviceCategory], *, cls: HazardClass = HazardClass.SHA,
            land: LandUse = LandUse.OTHER, share: float = 0.1, size: float = 0.002) -> HazardArea:
    evidence = Evidence.DIRECT if cls is HazardClass.CHA else Evidence.INDIRECT
    return HazardArea(hid, cls, _box(k, size), evidence, frozenset(devices), land_use=land,
                      expected_clearance_share=share)


def _teams(*methods: Method) -> list[DeminerTeam]:
    return [DeminerTeam(f"T-{m.value}-{i}", "op", m, METHOD_FIGURES[m][1], BASE, METHOD_FIGURES[m][0].value)
            for m in methods for i in range(2)]


ALL = (Method.SURVEY, Method.MANUAL, Method.DOG, Method.MECHANICAL, Method.BAC)


def _compile(hazards: list[HazardArea], params: CompileParams = NO_WINTER,
             methods: tuple[Method, ...] = ALL) -> CompiledPlan:
    return compile_problem(hazards, [], _teams(*methods), [], start_date=START, params=params)


def _of(compiled: CompiledPlan, hid: str, kind: TaskKind) -> list[int]:
    return [j for j, i in enumerate(compiled.info) if i.hazard_id == hid and i.kind is kind]


def _mode_names(compiled: CompiledPlan, j: int) -> set[str]:
    return {m.name for m in compiled.problem.tasks[j].modes}


# --- ERW-only areas: BAC on BAC/EOD teams ----------------------------------------------------------


def test_erw_only_means_remnants_of_war_and_nothing_else() -> None:
    """UXO, AXO, small-arms ammunition and submunitions alone make an area ERW-only; a mine, an IED, an unidentified
    item or no category at all does not."""
    assert is_erw_only(_hazard("H", 0, {D.ERW_UXO, D.CLUSTER, D.ERW_AXO, D.SMALL_ARMS}))
    for other in (D.AP_MINE, D.AT_MINE, D.IED, D.UNKNOWN):
        assert not is_erw_only(_hazard("H", 0, {D.ERW_UXO, other}))
    assert not is_erw_only(_hazard("H", 0, set()))


def test_erw_only_area_gets_only_bac_lots_on_bac_teams_and_an_eod_spot_task() -> None:
    """Every clearance lot of an ERW-only area has the one BAC mode on the BAC/EOD pool; its EOD spot task is BAC/EOD
    team time that releases no area; a mined area beside it gets mine-clearance methods and no BAC, no EOD task."""
    compiled = _compile([_hazard("H-ERW", 0, {D.ERW_UXO, D.CLUSTER}, land=LandUse.OTHER),
                         _hazard("H-MIX", 1, {D.ERW_UXO, D.AP_MINE}, land=LandUse.OTHER)])
    names = compiled.resource_names()
    # The BAC/EOD teams' pool (by capabilities: the teams whose own method is BAC; they may also survey and clear).
    (bac,) = [r for r, name in enumerate(names) if name.split(":")[1].split("+")[0] == "bac"]
    erw_lots = _of(compiled, "H-ERW", TaskKind.CLEARANCE)
    assert erw_lots
    for j in erw_lots:
        modes = compiled.problem.tasks[j].modes
        assert [m.name for m in modes] == ["bac"] and modes[0].demands == ((bac, 1),)
        assert compiled.info[j].mode_methods == (names[bac],)
    (eod,) = _of(compiled, "H-ERW", TaskKind.EOD)
    assert _mode_names(compiled, eod) == {"bac"} and compiled.info[eod].work_unit == "spot tasks"
    assert compiled.problem.tasks[eod].modes[0].duration == NO_WINTER.eod_spot_days
    mixed = _of(compiled, "H-MIX", TaskKind.CLEARANCE)
    assert mixed and all("bac" not in _mode_names(compiled, j) for j in mixed)
    assert all(_mode_names(compiled, j) == {"manual", "dog", "mechanical"} for j in mixed)
    assert not _of(compiled, "H-MIX", TaskKind.EOD)
    # The BAC lots' durations are the BAC rate's.
    for j in erw_lots:
        assert compiled.problem.tasks[j].modes[0].duration == math.ceil(
            compiled.info[j].work / METHOD_FIGURES[Method.BAC][0].value)


def test_erw_only_areas_need_a_bac_team() -> None:
    """Without a BAC/EOD team an ERW-only area is refused with one line naming it, not cleared by mine-clearance
    teams."""
    with pytest.raises(ValidationError, match=r"1 ERW-only hazard area \(e\.g\. H-ERW\) needs.*no BAC/EOD team"):
        _compile([_hazard("H-ERW", 0, {D.ERW_UXO})], methods=(Method.SURVEY, Method.MANUAL))


def test_bac_and_eod_take_the_bac_pool_in_a_solved_plan() -> None:
    """Solved: the EOD spot task follows NTS and precedes TS; every BAC lot runs on the BAC pool, whose capacity
    is never exceeded (the independent checker passes)."""
    compiled = _compile([_hazard(f"H-{k}", k, {D.ERW_UXO}, share=0.3) for k in range(4)])
    result = solve(compiled.problem, params=SolveParams(engine="greedy"))
    assert result.schedule is not None
    assert check(compiled.problem, result.schedule) == []
    s = result.schedule
    for k in range(4):
        (nts,) = _of(compiled, f"H-{k}", TaskKind.NTS)
        (eod,) = _of(compiled, f"H-{k}", TaskKind.EOD)
        nts_end = s.starts[nts] + compiled.problem.tasks[nts].modes[0].duration
        assert s.starts[eod] >= nts_end
        eod_end = s.starts[eod] + compiled.problem.tasks[eod].modes[0].duration
        assert all(s.starts[j] >= eod_end for j in _of(compiled, f"H-{k}", TaskKind.TS))


# --- dogs ----------------------------------------------------------------------------------------


def _dog_lots(compiled: CompiledPlan, hid: str) -> list[int]:
    return [j for j in _of(compiled, hid, TaskKind.CLEARANCE) if "dog" in _mode_names(compiled, j)]


def test_dogs_not_sent_where_the_default_rules_exclude_them() -> None:
    """Default rules: no dog lot on an area with IEDs/booby traps (tripwires), cluster submunitions (ground saturated
    with explosive residue) or an ERW-only area; a forest area with AP mines keeps its dog mode."""
    compiled = _compile([
        _hazard("H-FOREST", 0, {D.AP_MINE}, land=LandUse.FOREST),
        _hazard("H-IED", 1, {D.AP_MINE, D.IED}, land=LandUse.FOREST),
        _hazard("H-CLUSTER", 2, {D.AT_MINE, D.CLUSTER}, land=LandUse.RESIDENTIAL),
        _hazard("H-ERW", 3, {D.ERW_UXO}, land=LandUse.FOREST),
    ])
    assert _dog_lots(compiled, "H-FOREST")
    for hid in ("H-IED", "H-CLUSTER", "H-ERW"):
        assert _of(compiled, hid, TaskKind.CLEARANCE) and not _dog_lots(compiled, hid)
    assert all(_mode_names(compiled, j) == {"manual"} for j in _of(compiled, "H-IED", TaskKind.CLEARANCE))


def test_dogs_excluded_by_programme_settings_land_use_and_register_flags() -> None:
    """The programme may exclude dogs by land use and by area (the register's flag); the setting is applied in
    compile: no dog lot lands on an excluded area, and with no exclusion at all the same areas get dogs."""
    hazards = [_hazard("H-A", 0, {D.AP_MINE}, land=LandUse.FOREST),
               _hazard("H-B", 1, {D.AP_MINE}, land=LandUse.RESIDENTIAL),
               _hazard("H-C", 2, {D.AP_MINE, D.IED}, land=LandUse.FOREST)]
    rules = CompileParams(demining_stand_down=None, dog_excluded_land_uses=frozenset({LandUse.FOREST}),
                          dog_excluded_hazards=frozenset({"H-B"}))
    compiled = _compile(hazards, rules)
    assert not any(_dog_lots(compiled, h.id) for h in hazards)
    none = CompileParams(demining_stand_down=None, dog_excluded_devices=frozenset())
    permissive = _compile(hazards, none)
    assert all(_dog_lots(permissive, h.id) for h in hazards)


# --- NTS → TS → clearance ----------------------------------------------------------------------------


def test_nts_is_days_per_area_by_size_band() -> None:
    """NTS takes the days of the area's size band, whatever its m²; TS is per m²."""
    assert [nts_days(a, NO_WINTER.nts_days) for a in (500, 10_000, 10_001, 100_000, 999_999, 5e6)] == [1, 1, 2, 2, 4, 6]
    small, big = _hazard("H-S", 0, {D.AP_MINE}, size=0.0005), _hazard("H-B", 1, {D.AP_MINE}, size=0.01)
    compiled = _compile([small, big])
    for h in (small, big):
        (nts,) = _of(compiled, h.id, TaskKind.NTS)
        assert compiled.problem.tasks[nts].modes[0].duration == nts_days(h.area_m2, NO_WINTER.nts_days)
        assert compiled.info[nts].work == pytest.approx(h.area_m2)
    assert not [i for i in compiled.info if i.kind is TaskKind.SURVEY]


def test_ts_covers_what_nts_does_not_cancel_with_the_figures_shares() -> None:
    """In an SHA, TS covers (1 − NTS cancel share) of the area (BiH 2017), never less than what clearance needs; in a
    CHA all of it unless the programme lets NTS cancel there; clearance its expected share."""
    cancel = NTS_CANCEL_SHARE.value
    assert 0.4 < cancel < 0.5
    sha = _hazard("H-SHA", 0, {D.AP_MINE}, share=0.1)
    sha_high = _hazard("H-SHA2", 1, {D.AP_MINE}, share=0.8)
    cha = _hazard("H-CHA", 2, {D.AP_MINE}, cls=HazardClass.CHA, share=0.4)
    compiled = _compile([sha, sha_high, cha])
    rate = METHOD_FIGURES[Method.SURVEY][0].value

    def ts_work(c: CompiledPlan, hid: str) -> float:
        return sum(c.info[j].work for j in _of(c, hid, TaskKind.TS))

    assert ts_work(compiled, "H-SHA") == pytest.approx(sha.area_m2 * (1 - cancel))
    assert ts_work(compiled, "H-SHA2") == pytest.approx(sha_high.area_m2 * 0.8)
    assert ts_work(compiled, "H-CHA") == pytest.approx(cha.area_m2)
    for j in _of(compiled, "H-SHA", TaskKind.TS):
        assert compiled.problem.tasks[j].modes[0].duration == math.ceil(compiled.info[j].work / rate)
    assert sum(compiled.info[j].work for j in _of(compiled, "H-CHA", TaskKind.CLEARANCE)) == \
        pytest.approx(0.4 * cha.area_m2)
    national = _compile([cha], CompileParams(demining_stand_down=None, nts_may_cancel_in_cha=True))
    assert ts_work(national, "H-CHA") == pytest.approx(cha.area_m2 * (1 - cancel))


def test_nts_then_ts_then_clearance_then_inspection_lag_in_a_solved_plan() -> None:
    """Solved: TS starts after NTS ends, clearance after the last TS lot, release the inspection lag after clearance;
    an area with nothing to clear is released when its survey ends."""
    cha = _hazard("H-CHA", 0, {D.AP_MINE}, cls=HazardClass.CHA, share=0.4, size=0.01)
    clean = _hazard("H-SHA", 1, {D.AP_MINE}, share=0.0)
    compiled = _compile([cha, clean], CompileParams(demining_stand_down=None, lot_max_days=10))
    result = solve(compiled.problem, params=SolveParams(engine="greedy"))
    assert result.schedule is not None and check(compiled.problem, result.schedule) == []
    s = result.schedule

    def end(j: int) -> int:
        return s.starts[j] + compiled.problem.tasks[j].modes[s.modes[j]].duration

    (nts,) = _of(compiled, "H-CHA", TaskKind.NTS)
    ts, clear = _of(compiled, "H-CHA", TaskKind.TS), _of(compiled, "H-CHA", TaskKind.CLEARANCE)
    assert len(ts) > 1 and clear
    assert min(s.starts[j] for j in ts) >= end(nts)
    assert min(s.starts[j] for j in clear) >= max(end(j) for j in ts)
    (rel,) = _of(compiled, "H-CHA", TaskKind.RELEASED)
    assert s.starts[rel] >= max(end(j) for j in clear) + NO_WINTER.inspection_lag_days
    (rel2,) = _of(compiled, "H-SHA", TaskKind.RELEASED)
    assert not _of(compiled, "H-SHA", TaskKind.CLEARANCE)
    assert s.starts[rel2] == max(end(j) for j in _of(compiled, "H-SHA", TaskKind.TS))


def test_bad_survey_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="nts_days"):
        CompileParams(nts_days=((1000.0, 1), (10.0, 2)))
    with pytest.raises(ValidationError, match="nts_cancel_share"):
        CompileParams(nts_cancel_share=1.0)


# --- the reference scenario ---------------------------------------------------------------------------


def test_small_kursk_border_has_erw_only_areas_and_its_plan_passes_the_checker() -> None:
    """A small kursk-border: a fifth to two fifths of its areas are ERW-only (the device odds, an assumption); the
    workforce has BAC/EOD teams; compiled and solved, the plan passes the independent checker, ERW-only clearance
    runs on BAC teams only and no dog lot lands on an area the default rules exclude."""
    sc = build_kursk_border(7, config=KurskBorderConfig(hazard_count=150, asset_count=80, village_count=40))
    erw = [h for h in sc.hazards if is_erw_only(h)]
    assert 0.2 < len(erw) / len(sc.hazards) < 0.45
    assert Counter(t.method for t in sc.teams)[Method.BAC] > 0
    compiled = compile_problem(sc.hazards, sc.assets, sc.teams, sc.brigades, start_date=sc.start_date)
    result = solve(compiled.problem, params=SolveParams(engine="greedy"))
    assert result.schedule is not None and check(compiled.problem, result.schedule) == []
    erw_ids = {h.id for h in erw}
    no_dogs = erw_ids | {h.id for h in sc.hazards if h.device_categories & {D.IED, D.CLUSTER}}
    kinds = Counter(i.kind for i in compiled.info)
    assert kinds[TaskKind.NTS] == len(sc.hazards) and kinds[TaskKind.EOD] == len(erw)
    for j, i in enumerate(compiled.info):
        if i.kind is not TaskKind.CLEARANCE:
            continue
        names = _mode_names(compiled, j)
        assert (names == {"bac"}) == (i.hazard_id in erw_ids)
        assert not (i.hazard_id in no_dogs and "dog" in names)
        assert compiled.problem.tasks[j].modes[result.schedule.modes[j]].name in names
    assert sum(area_m2(h.geometry) for h in erw) > 0
