"""The contamination model: features on a small case, the leakage guard, spatial blocks, determinism, the prior
fallback, the register's labels, the score criterion and the forecast's tilt, and ``sapper likelihood``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from sapper.domain.activities import Activity, ActivityStatus, ActivityType, DeviceFound
from sapper.domain.hazards import (
    PRIOR_CONTAMINATION,
    DeviceCategory,
    Evidence,
    HazardArea,
    HazardClass,
    HazardStatus,
    LandUse,
)
from sapper.forecast import UncertaintyModel, sample_worlds
from sapper.likelihood import (
    FEATURES,
    Context,
    FeatureTable,
    Find,
    HazardInput,
    ModelParams,
    Source,
    block_cv,
    feature_table,
    likelihoods,
    model,
    spatial_blocks,
)
from sapper.likelihood.features import CONTEST_DAYS_MAX, CONTEST_DAYS_MIN
from sapper.prioritise import score_hazard
from sapper.store import open_store
from sapper.store.records import ContextArea
from tests.cli.entry import run
from tests.forecast.conftest import programme

# A small world near 35°E 50°N: one degree of latitude is ~111 km, of longitude ~71.6 km.
LAT_KM = 111.2
LON_KM = 111.2 * math.cos(math.radians(50.0))


def _square(lon: float, lat: float, side_deg: float = 0.002) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + side_deg, lat + side_deg)


def _inputs(hid: str, geom: shapely.Polygon, cls: HazardClass = HazardClass.SHA) -> HazardInput:
    return HazardInput(hid, geom, LandUse.AGRICULTURAL, cls, frozenset({DeviceCategory.AT_MINE}))


def test_features_of_a_small_case() -> None:
    """Distances to the contested line, roads and settlements, inside/outside, days contested, class and land use
    come out as measured by hand."""
    # The zone: a box from the border (lat 50.0) north to 50.2; the border runs along its south side.
    zone = shapely.box(35.0, 50.0, 35.4, 50.2)
    border = LineString([(34.5, 50.0), (35.9, 50.0)])
    inside = _inputs("IN", _square(35.2, 50.1), HazardClass.CHA)  # 10 km from the border, 11 km from the top edge
    outside = _inputs("OUT", _square(35.2, 50.3))  # 0.1° north of the zone's top edge: ~11.1 km from the line
    road = LineString([(35.0, 50.12), (35.4, 50.12)])  # 2.2 km north of IN's top edge (IN spans 50.100–50.102)
    town = Point(35.2, 50.35)
    table = feature_table([inside, outside], Context(zone=zone, border=border, roads=(road,), settlements=(town,)))
    assert table.ids == ("IN", "OUT")
    front, inz = table.column("front_km"), table.column("inside_zone")
    assert inz.tolist() == [1.0, 0.0]
    assert front[1] == pytest.approx(0.1 * LAT_KM, rel=0.02)
    assert front[0] == pytest.approx((50.2 - 50.102) * LAT_KM, rel=0.02)  # the top edge is nearer than the sides
    days = table.column("contested_days")
    assert days[1] == 0.0 and CONTEST_DAYS_MIN < days[0] < CONTEST_DAYS_MAX
    share = front[0] / (front[0] + 0.1 * LAT_KM)
    assert days[0] == pytest.approx(CONTEST_DAYS_MIN + (CONTEST_DAYS_MAX - CONTEST_DAYS_MIN) * share, rel=0.03)
    assert table.column("road_km")[0] == pytest.approx(0.018 * LAT_KM, rel=0.03)
    assert table.column("settlement_km")[1] == pytest.approx(0.048 * LAT_KM, rel=0.03)
    assert table.column("cha").tolist() == [1.0, 0.0]
    assert table.column("mines_expected").tolist() == [1.0, 1.0]
    assert np.isnan(table.column("found_share_nearby")).all()  # no area has a recorded outcome
    assert table.values.shape == (2, len(FEATURES))
    no_border = feature_table([inside, outside], Context(zone=zone)).column("contested_days")
    assert np.isnan(no_border[0]) and no_border[1] == 0.0  # without the border, days inside the zone are unknown


def test_an_areas_own_devices_never_enter_its_features() -> None:
    """Finds recorded on an area, or lying inside it (whoever recorded them), are its label: they do not count in
    its "finds nearby"; its neighbour's finds do, and its own outcome is left out of the share found nearby."""
    a = _inputs("A", _square(35.0, 50.0))
    b = _inputs("B", _square(35.003, 50.0))  # ~70 m east of A
    inside_a = Point(35.001, 50.001)
    finds = (Find("A", inside_a, 3), Find("B", inside_a, 2), Find("B", Point(35.004, 50.001), 5))
    table = feature_table([a, b], Context(finds=finds, known={"A": True, "B": False}))
    near = table.column("finds_nearby")
    assert near[0] == 5.0  # only B's find in B; A's own three and the two B recorded inside A are left out
    assert near[1] == 3.0  # A's three count for B; the five in B and the two recorded on B (inside A) are B's own
    share = table.column("found_share_nearby")
    assert share.tolist() == [0.0, 1.0]  # each sees only the other's outcome


def test_spatial_blocks_group_by_square_and_folds_hold_out_whole_blocks() -> None:
    """Points in the same 10 km square share a block id, others not; every block's areas land in one fold."""
    x = np.array([0.5, 9.5, 10.5, 25.0, 25.1, -0.5])
    y = np.array([0.5, 9.9, 0.5, 25.0, 29.0, 0.5])
    g = spatial_blocks(x, y, size_km=10.0)
    assert g[0] == g[1] and len({g[0], g[2], g[3], g[5]}) == 4 and g[3] == g[4]
    rng = np.random.default_rng(3)
    n = 400
    xs, ys = rng.uniform(0, 60, n), rng.uniform(0, 60, n)
    truth = rng.random(n) < 1 / (1 + np.exp(-(xs - 30) / 5))
    values = np.column_stack([xs / 10] + [np.zeros(n)] * (len(FEATURES) - 1))
    groups = spatial_blocks(xs, ys)
    cv = block_cv(groups, truth, np.ones(n, dtype=bool), lambda known: FeatureTable(tuple(map(str, range(n))),
                                                                                    values, xs, ys),
                  folds=4, params=ModelParams(min_samples_leaf=5))
    for block in set(groups.tolist()):
        assert len(set(cv.fold[groups == block].tolist())) == 1
    assert cv.tested == n and cv.roc_auc > 0.8  # x alone decides most of the truth


def _labelled(n: int = 120, seed: int = 0) -> tuple[list[HazardInput], dict[str, bool], dict[str, HazardClass]]:
    rng = np.random.default_rng(seed)
    hz = [_inputs(f"H{k:03d}", _square(35.0 + 0.01 * (k % 12), 50.0 + 0.01 * (k // 12))) for k in range(n)]
    outcome = {h.hazard_id: bool(rng.random() < (0.8 if k % 12 < 6 else 0.2)) for k, h in enumerate(hz)}
    return hz, outcome, {h.hazard_id: h.recorded_class for h in hz}


def test_the_model_is_deterministic_and_learns_from_the_labels() -> None:
    """The same register and seed give the same probabilities; the west half (mostly with devices) ranks above the
    east; all areas come from the model."""
    hz, outcome, classes = _labelled()
    zone = shapely.box(34.9, 49.9, 35.06, 50.2)  # the west half lies inside the contested zone
    table = feature_table(hz, Context(zone=zone))
    one = likelihoods(table, classes, outcome, ModelParams(seed=4))
    model._FITS.clear()  # fitted again, not remembered
    two = likelihoods(feature_table(hz, Context(zone=zone)), classes, outcome, ModelParams(seed=4))
    assert one.areas == two.areas and one.fitted
    assert {a.source for a in one.areas} == {Source.MODEL}
    p = one.by_id()
    west = np.mean([p[h.hazard_id] for k, h in enumerate(hz) if k % 12 < 6])
    east = np.mean([p[h.hazard_id] for k, h in enumerate(hz) if k % 12 >= 6])
    assert west > east + 0.3


def test_the_same_register_is_fitted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second scoring of the same rows, labels and settings (``sapper report``'s priorities then its forecast) is
    not fitted again and gives the same probabilities; another seed or another label is a new fit."""
    hz, outcome, classes = _labelled()
    table = feature_table(hz, Context())
    fits: list[int] = []
    real = model.fit_predict

    def counted(*args: Any) -> Any:
        fits.append(1)
        return real(*args)

    monkeypatch.setattr(model, "fit_predict", counted)
    model._FITS.clear()
    first = likelihoods(table, classes, outcome, ModelParams(seed=1))
    again = likelihoods(feature_table(hz, Context()), classes, outcome, ModelParams(seed=1))
    assert len(fits) == 1 and again.areas == first.areas
    likelihoods(table, classes, outcome, ModelParams(seed=2))
    flipped = dict(outcome)
    some = next(iter(flipped))
    flipped[some] = not flipped[some]
    likelihoods(table, classes, flipped, ModelParams(seed=1))
    assert len(fits) == 3


def test_too_few_outcomes_fall_back_to_the_class_prior() -> None:
    """Under the minimum of labelled areas, every area gets its class prior and the reason names the counts."""
    hz, outcome, classes = _labelled(20)
    result = likelihoods(feature_table(hz, Context()), classes, outcome)
    assert not result.fitted and "20 areas have a recorded outcome" in result.reason
    assert {a.probability for a in result.areas} == {PRIOR_CONTAMINATION[HazardClass.SHA]}
    assert {a.source for a in result.areas} == {Source.PRIOR}


def test_the_likelihood_criterion_adds_up_exactly() -> None:
    """The score with the likelihood criterion is the exact sum of its parts; the model's probability moves it, and
    without one the class prior stands in."""
    h = HazardArea("X", HazardClass.SHA, _square(35.0, 50.0), Evidence.INDIRECT, beneficiaries=300)
    for lk in (None, 0.0, 0.37, 1.0):
        s = score_hazard(h, likelihood=lk)
        total = 0.0
        for c in s.contributions:
            total += c.value
        assert total == s.value
        part = next(c for c in s.contributions if c.criterion == "likelihood")
        assert part.normalised == (PRIOR_CONTAMINATION[HazardClass.SHA] if lk is None else lk)
    assert score_hazard(h, likelihood=0.9).value > score_hazard(h, likelihood=0.1).value


def test_the_forecast_tilts_each_areas_share_by_its_probability() -> None:
    """An area twice as likely as its class prior keeps about twice the share for clearance; no tilt changes
    nothing."""
    _, tasks = programme()
    base = sample_worlds(tasks, _model(), 4000, np.random.default_rng(1), horizon=2000)
    tilted = dataclasses.replace(tasks, tilt=np.array([2.0, 1.0, 0.5]))
    worlds = sample_worlds(tilted, _model(), 4000, np.random.default_rng(1), horizon=2000)
    ratio = worlds.shares.mean(axis=0) / base.shares.mean(axis=0)
    assert ratio[0] == pytest.approx(2.0, rel=0.05) and ratio[1] == pytest.approx(1.0, abs=1e-9)
    assert ratio[2] == pytest.approx(0.5, rel=0.05)
    same = sample_worlds(dataclasses.replace(tasks, tilt=np.ones(3)), _model(), 4000, np.random.default_rng(1),
                         horizon=2000)
    assert np.array_equal(same.shares, base.shares)


def _model() -> UncertaintyModel:
    return UncertaintyModel()


# --- the register and the command line -----------------------------------------------------------------------------


def _register(db: Path, n: int = 60) -> None:
    """``n`` small areas in a row west to east across a contested zone; the west ones held devices (an EOD task
    found some), the east ones were cancelled whole by NTS; H-00 stays open without outcome."""
    hazards, acts = [], []
    for k in range(n):
        geom = _square(35.0 + 0.004 * k, 50.0)
        cls = HazardClass.CHA if k % 3 == 0 else HazardClass.SHA
        hazards.append(HazardArea(f"H-{k:02d}", cls, geom, Evidence.DIRECT if cls is HazardClass.CHA
                                  else Evidence.INDIRECT))
        if k == 0:
            continue
        if k < n // 2:
            acts.append(Activity(f"EOD-{k}", f"H-{k:02d}", ActivityType.EOD, ActivityStatus.COMPLETED,
                                 end=dt.date(2025, 7, 1),
                                 devices=(DeviceFound(geom.centroid, DeviceCategory.AT_MINE, quantity=2),)))
        else:
            acts.append(Activity(f"NTS-{k}", f"H-{k:02d}", ActivityType.NTS, ActivityStatus.COMPLETED,
                                 end=dt.date(2025, 7, 1), cancelled=geom))
    with open_store(db, create=True) as store, store.write() as uow:
        uow.add_hazards(hazards)
        uow.add_activities(acts)
        uow.add_context_areas("contested_zone", [ContextArea("zone", shapely.box(34.99, 49.99, 35.12, 50.01),
                                                             "synthetic", True)])
        uow.set_meta({"start_date": "2025-06-17"})


def test_sapper_likelihood_fits_on_the_registers_outcomes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """With 59 recorded outcomes the model is fitted; the open areas are listed most likely first; --json carries
    the counts, the seed and every area's source; the same seed gives the same JSON."""
    db = tmp_path / "r.gpkg"
    _register(db)
    code, out, err = run(monkeypatch, capsys, "likelihood", "--db", db, "--top", "5")
    assert code == 0, err
    assert "model fitted on 59 areas with a recorded outcome (29 with devices)" in out
    code, out, err = run(monkeypatch, capsys, "likelihood", "--db", db, "--json", "--top", "0")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["fitted"] and doc["labelled"] == 59 and doc["with_devices"] == 29 and doc["seed"] == 0
    areas = {a["id"]: a for a in doc["areas"]}
    assert len(areas) == 60 and {a["source"] for a in areas.values()} == {"model"}
    assert areas["H-00"]["outcome"] is None and areas["H-01"]["outcome"] is True and areas["H-59"]["outcome"] is False
    assert areas["H-00"]["probability"] > areas["H-59"]["probability"]  # beside the finds, inside the zone
    probs = [a["probability"] for a in doc["areas"]]
    assert probs == sorted(probs, reverse=True)
    code, again, _ = run(monkeypatch, capsys, "likelihood", "--db", db, "--json", "--top", "0")
    assert again == out


def test_sapper_likelihood_falls_back_to_the_prior_and_refuses_an_empty_register(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Too few outcomes: one line says so and the class priors are listed; an empty register is one error line
    with exit code 3."""
    db = tmp_path / "few.gpkg"
    _register(db, n=8)
    code, out, err = run(monkeypatch, capsys, "likelihood", "--db", db)
    assert code == 0, err
    assert out.splitlines()[0].startswith("too few outcomes to fit the model: 7 areas have a recorded outcome")
    assert "CHA 0.85" in out.splitlines()[0] and "H-00" in out
    empty = tmp_path / "empty.gpkg"
    code, out, err = run(monkeypatch, capsys, "init", "--db", empty)
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, "likelihood", "--db", empty)
    assert code == 3 and len(err.strip().splitlines()) == 1 and "holds no hazard areas" in err
    assert "Traceback" not in err


def test_the_registers_labels_and_recorded_class(tmp_path: Path) -> None:
    """Devices found → True, processed without finds → False, open without activity → no label; a closed area
    without finds is False."""
    from sapper.services.likelihood import outcomes

    geom = _square(35.0, 50.0)
    hz = [HazardArea("F", HazardClass.SHA, geom, Evidence.INDIRECT),
          HazardArea("C", HazardClass.SHA, _square(35.01, 50.0), Evidence.INDIRECT, status=HazardStatus.CLOSED),
          HazardArea("O", HazardClass.SHA, _square(35.02, 50.0), Evidence.INDIRECT),
          HazardArea("P", HazardClass.SHA, _square(35.03, 50.0), Evidence.INDIRECT)]
    acts = [Activity("a", "F", ActivityType.EOD, ActivityStatus.COMPLETED,
                     devices=(DeviceFound(geom.centroid, DeviceCategory.ERW_UXO),)),
            Activity("b", "P", ActivityType.NTS, ActivityStatus.COMPLETED, cancelled=_square(35.03, 50.0, 0.001))]
    known, finds = outcomes(hz, acts)
    assert known == {"F": True, "C": False}  # P is only partly cancelled: no outcome yet
    assert [f.hazard_id for f in finds] == ["F"]


def test_the_class_is_the_one_the_area_was_recorded_with(tmp_path: Path) -> None:
    """An area recorded as an SHA and confirmed since (a find makes it a CHA) counts as an SHA in its features: the
    find is its label, not a feature."""
    from sapper.domain.landrelease import EventKind, ReleaseEvent, ReleaseState
    from sapper.services.likelihood import recorded_classes

    db = tmp_path / "r.gpkg"
    hz = [HazardArea("N", HazardClass.CHA, _square(35.0, 50.0), Evidence.DIRECT),
          HazardArea("M", HazardClass.CHA, _square(35.01, 50.0), Evidence.DIRECT)]
    at = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    with open_store(db, create=True) as store:
        with store.write() as uow:
            uow.add_hazards(hz)
            uow.append_release_events([ReleaseEvent("N", 1, EventKind.RECORDED, at, "test", "registered", None,
                                                    ReleaseState.SUSPECTED)])
        assert recorded_classes(store, store.hazards()) == {"N": HazardClass.SHA, "M": HazardClass.CHA}


def test_the_forecasts_tilt_keeps_each_classs_mean() -> None:
    """The tilt is each area's probability over its class's mean: it averages 1 within each class (the class's
    sourced share is kept, only shared out); no model, no tilt."""
    from sapper.services.forecast import survey_tilt

    hz = [HazardArea(f"S{k}", HazardClass.SHA, _square(35.0 + 0.01 * k, 50.0), Evidence.INDIRECT) for k in range(3)]
    hz += [HazardArea(f"C{k}", HazardClass.CHA, _square(35.0 + 0.01 * k, 50.1), Evidence.DIRECT) for k in range(2)]
    tilt = survey_tilt({"S0": 0.1, "S1": 0.2, "S2": 0.6, "C0": 0.9}, hz)  # C1 unnamed: its class prior
    assert tilt is not None
    assert tilt[:3] == pytest.approx([1 / 3, 2 / 3, 2.0])
    assert tilt[3:] == pytest.approx([0.9 / 0.875, 0.85 / 0.875])
    assert survey_tilt(None, hz) is None
