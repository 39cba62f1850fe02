"""The land-release state machine: properties over random areas and event sequences, and one example per transition."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.activities import (
    Activity,
    ActivityStatus,
    ActivityType,
    DeviceFound,
    release_balance,
    release_tolerance_m2,
)
from sapper.domain.geometry import area_m2
from sapper.domain.hazards import DeviceCategory, Evidence, HazardArea, HazardClass, HazardStatus
from sapper.domain.landrelease import (
    NC_TRANSITIONS,
    OPEN_STATES,
    TRANSITIONS,
    EventKind,
    LandRelease,
    NCStatus,
    NonConformity,
    QAVisit,
    ReleaseState,
    Severity,
)
from sapper.errors import TransitionError, ValidationError

LON0, LAT0 = 35.3, 51.3
M_LAT = 1 / 111_320.0  # degrees of latitude per metre
M_LON = 1 / (111_320.0 * math.cos(math.radians(LAT0)))  # degrees of longitude per metre at 51.3° N
T0 = dt.datetime(2025, 6, 17, 8, 0, tzinfo=dt.UTC)


def star(cx: float, cy: float, radii: list[float], phase: float) -> Polygon:
    """A star-shaped polygon around (cx, cy) in degrees, one vertex per radius (metres), evenly spread in angle."""
    n = len(radii)
    pts = [(cx + r * math.cos(phase + 2 * math.pi * i / n) * M_LON, cy + r * math.sin(phase + 2 * math.pi * i / n)
            * M_LAT) for i, r in enumerate(radii)]
    return Polygon(pts)


@st.composite
def hazards(draw: st.DrawFn) -> HazardArea:
    """A small SHA or CHA (30–500 m across) within a few kilometres of 51.3° N 35.3° E."""
    cx = LON0 + draw(st.floats(-3000, 3000)) * M_LON
    cy = LAT0 + draw(st.floats(-3000, 3000)) * M_LAT
    size = draw(st.floats(30, 500))
    radii = draw(st.lists(st.floats(0.5, 1.0), min_size=3, max_size=9))
    poly = star(cx, cy, [size * r for r in radii], draw(st.floats(0, math.pi)))
    confirmed = draw(st.booleans())
    return HazardArea("H-1", HazardClass.CHA if confirmed else HazardClass.SHA, poly,
                      Evidence.DIRECT if confirmed else Evidence.INDIRECT)


@st.composite
def outcome(draw: st.DrawFn, hazard: HazardArea) -> BaseGeometry:
    """A polygon near the hazard: a piece of it, one straying outside it, or one covering all of it."""
    minx, miny, maxx, maxy = hazard.geometry.bounds
    if draw(st.integers(0, 2)) == 0:  # everything, and a margin around it
        return shapely.box(minx - 20 * M_LON, miny - 20 * M_LAT, maxx + 20 * M_LON, maxy + 20 * M_LAT)
    width_m = (maxx - minx) / M_LON
    cx = minx + draw(st.floats(-0.25, 1.25)) * (maxx - minx)
    cy = miny + draw(st.floats(-0.25, 1.25)) * (maxy - miny)
    radii = draw(st.lists(st.floats(0.1, 0.8), min_size=3, max_size=7))
    return star(cx, cy, [width_m * r for r in radii], draw(st.floats(0, math.pi)))


@dataclass
class Model:
    """What the test expects, kept apart from the code under test (``nothing_left`` only steers generation)."""

    state: ReleaseState
    cha: bool
    activities: list[str]
    ncs: dict[str, tuple[Severity, NCStatus]]
    nothing_left: bool = False

    def blocked(self) -> bool:
        return any(sev is Severity.CRITICAL and status is not NCStatus.CLOSED for sev, status in self.ncs.values())


@dataclass
class Step:
    kind: str
    activity_type: ActivityType = ActivityType.NTS
    status: ActivityStatus = ActivityStatus.COMPLETED
    outcomes: dict[str, BaseGeometry] = dataclasses.field(default_factory=dict)
    target: str = "A-0"
    severities: tuple[Severity, ...] = ()
    nc_id: str = "NC-none"
    nc_status: NCStatus = NCStatus.CORRECTED


#: True three times in four (Hypothesis favours a strategy's first and smallest values, so True comes first).
MOSTLY = st.sampled_from([True, True, True, False])
KINDS = ["activity"] * 4 + ["reclassify", "release", "handover", "handover", "qa", "qa"] + ["nc"] * 3 + [
    "backdated", "foreign"]


@st.composite
def steps(draw: st.DrawFn, hazard: HazardArea, model: Model) -> Step:
    """One command: mostly ones that can apply to where the model is, sometimes ones that cannot."""
    kind = draw(st.sampled_from(KINDS + ["release"] * 3 if model.nothing_left else KINDS))
    if kind == "nc":
        if model.ncs and draw(MOSTLY):
            nc_id = draw(st.sampled_from(sorted(model.ncs)))
            nexts = sorted(NC_TRANSITIONS[model.ncs[nc_id][1]])
            if nexts and draw(MOSTLY):
                return Step(kind, nc_id=nc_id, nc_status=draw(st.sampled_from(nexts)))
            return Step(kind, nc_id=nc_id, nc_status=draw(st.sampled_from(list(NCStatus))))
        return Step(kind, nc_status=draw(st.sampled_from(list(NCStatus))))
    if kind == "qa":
        target = draw(st.sampled_from(model.activities)) if model.activities and draw(MOSTLY) else "A-0"
        findings = draw(st.lists(st.sampled_from([Severity.CRITICAL, Severity.MAJOR, Severity.MINOR]), min_size=1,
                                 max_size=2)) if draw(MOSTLY) else []
        return Step(kind, target=target, severities=tuple(findings))
    if kind not in ("activity", "foreign"):
        return Step(kind)
    atype = draw(st.sampled_from([ActivityType.NTS, ActivityType.TS, ActivityType.CLEARANCE, ActivityType.BAC]))
    kinds = {ActivityType.NTS: ["cancelled"], ActivityType.TS: ["cancelled", "reduced"]}.get(
        atype, ["reduced", "cleared"])
    chosen = draw(st.lists(st.sampled_from(kinds), unique=True, max_size=len(kinds)))
    status = draw(st.sampled_from([ActivityStatus.COMPLETED] * 4 + [ActivityStatus.ONGOING, ActivityStatus.PLANNED]))
    return Step(kind, atype, status, {k: draw(outcome(hazard)) for k in chosen})


def _raw_area(geoms: dict[str, BaseGeometry]) -> float:
    return sum(area_m2(g) for g in geoms.values())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), hazard=hazards())
def test_random_histories_keep_every_rule(data: st.DataObject, hazard: HazardArea) -> None:
    """Any sequence of events: the balance holds after each, outcomes lie in the hazard, illegal moves are refused
    and change nothing, the history only grows, and replaying it gives the same record."""
    record = LandRelease.start(hazard, actor="imo", at=T0, reason="register import")
    model = Model(record.state, hazard.hazard_class is HazardClass.CHA, [], {})
    tol = release_tolerance_m2(area_m2(hazard.geometry))
    assert record.original_m2 == pytest.approx(area_m2(hazard.geometry), rel=1e-5)
    for n in range(1, data.draw(st.integers(4, 18), label="number of steps") + 1):
        step = data.draw(steps(hazard, model), label=f"step {n}")
        at = T0 + dt.timedelta(hours=n)
        before = record
        legal: bool
        if step.kind in ("activity", "foreign"):
            act = Activity(f"A-{n}", "H-1" if step.kind == "activity" else "H-2", step.activity_type, step.status,
                           **step.outcomes)  # type: ignore[arg-type]
            cancels = "cancelled" in step.outcomes
            legal = (step.kind == "activity" and model.state in OPEN_STATES
                     and step.status is not ActivityStatus.PLANNED and not (model.cha and cancels))

            def run(r: LandRelease, act: Activity = act, at: dt.datetime = at) -> LandRelease:
                return r.record_activity(act, actor="team", at=at, reason="completion report")
        elif step.kind == "reclassify":
            legal = model.state is ReleaseState.SUSPECTED

            def run(r: LandRelease, at: dt.datetime = at) -> LandRelease:
                return r.reclassify(evidence="fuze found", actor="imo", at=at, reason="TS report")
        elif step.kind == "release":
            legal = model.state in OPEN_STATES and record.remaining_m2 <= tol and not model.blocked()

            def run(r: LandRelease, at: dt.datetime = at) -> LandRelease:
                return r.release(actor="imo", at=at, reason="NC closed")
        elif step.kind == "handover":
            legal = model.state is ReleaseState.RELEASED and not model.blocked()

            def run(r: LandRelease, at: dt.datetime = at) -> LandRelease:
                return r.hand_over(recipient="village council", actor="nmaa", at=at, reason="certificate")
        elif step.kind == "qa":
            target = step.target
            visit = QAVisit(f"V-{n}", target, at.date(),
                            tuple(NonConformity(f"V-{n}-{i}", s, "finding") for i, s in enumerate(step.severities)))
            legal = model.state is not ReleaseState.HANDED_OVER and target in model.activities

            def run(r: LandRelease, visit: QAVisit = visit, at: dt.datetime = at) -> LandRelease:
                return r.record_qa_visit(visit, actor="qa", at=at, reason="monthly visit")
        elif step.kind == "nc":
            nc_id = step.nc_id
            legal = nc_id in model.ncs and step.nc_status in NC_TRANSITIONS[model.ncs[nc_id][1]]

            def run(r: LandRelease, nc_id: str = nc_id, status: NCStatus = step.nc_status,
                    at: dt.datetime = at) -> LandRelease:
                return r.set_non_conformity(nc_id, status, actor="qa", at=at, reason="verified on site")
        else:  # backdated: a legal-looking change dated before the last event
            legal = False

            def run(r: LandRelease) -> LandRelease:
                return r.reclassify(evidence="x", actor="imo", at=r.history[-1].at - dt.timedelta(days=1),
                                    reason="late entry")

        note_event(f"{step.kind} {'applied' if legal else 'refused'}")
        if not legal:
            with pytest.raises(ValidationError) as refused:
                run(record)
            assert "hazard area H-1" in str(refused.value) or "event" in str(refused.value)
            assert record is before and record.history == before.history and record.state is before.state
            continue

        record = run(record)
        event = record.history[-1]
        assert record.history[:-1] == before.history, "the history only grows at its end"
        assert (event.seq, event.from_state) == (len(before.history) + 1, before.state)
        assert (event.from_state, event.to_state) in TRANSITIONS[event.kind]
        assert event.at >= before.history[-1].at
        bal = record.balance
        assert abs(bal.residual_m2) <= tol, f"balance broken after event {event.seq}: {bal}"
        assert bal.remaining_m2 <= before.remaining_m2 + 1e-6
        if step.kind == "activity":
            assert event.activity is not None
            nothing_left = record.remaining_m2 <= tol
            expected = ReleaseState.RELEASED if nothing_left and not model.blocked() else model.state
            assert event.to_state is expected
            for geom in event.activity.outcomes.values():  # clipped outcomes lie within the hazard
                assert area_m2(shapely.difference(geom, hazard.geometry)) <= tol
            # nothing silently dropped: what was claimed = what was released + what was reported clipped
            assert _raw_area(step.outcomes) == pytest.approx(event.released_m2 + event.clipped_m2, abs=2 * tol)
            model.activities.append(act.id)
        elif step.kind == "qa":
            model.ncs.update((nc.id, (nc.severity, NCStatus.OPEN)) for nc in visit.non_conformities)
        elif step.kind == "nc":
            model.ncs[nc_id] = (model.ncs[nc_id][0], step.nc_status)
        if step.kind == "reclassify":
            model.cha = True
        model.state = event.to_state
        model.nothing_left = record.remaining_m2 <= tol
        assert record.state is model.state

    note_event(f"ends {record.state.value}")
    assert LandRelease.replay(hazard, record.history) == record
    independent = release_balance(hazard, list(record.activities.values()))
    assert independent.cancelled_m2 == pytest.approx(record.cancelled_m2, abs=tol)
    assert independent.reduced_m2 == pytest.approx(record.reduced_m2, abs=tol)
    assert independent.cleared_m2 == pytest.approx(record.cleared_m2, abs=tol)
    assert independent.remaining_m2 == pytest.approx(record.remaining_m2, abs=tol)
    assert {nc.id: nc.status for nc in record.non_conformities.values()} == {k: v[1] for k, v in model.ncs.items()}


@settings(max_examples=60, deadline=None)
@given(hazard=hazards(), kind=st.sampled_from(list(EventKind)), state=st.sampled_from(list(ReleaseState)))
def test_every_move_outside_the_table_is_refused(hazard: HazardArea, kind: EventKind, state: ReleaseState) -> None:
    """From each reachable state, each kind of event the table does not allow from it is refused and changes nothing."""
    record = _reach(hazard, state)
    allowed = {f for f, _ in TRANSITIONS[kind]}
    if state in allowed or kind in (EventKind.RECORDED, EventKind.NON_CONFORMITY, EventKind.QA_VISIT):
        return  # allowed moves, or moves whose refusal depends on their content (tested elsewhere)
    at = record.history[-1].at + dt.timedelta(hours=1)
    act = Activity("A-new", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, cleared=hazard.geometry)
    command = {
        EventKind.ACTIVITY: lambda: record.record_activity(act, actor="a", at=at, reason="r"),
        EventKind.RECLASSIFIED: lambda: record.reclassify(evidence="e", actor="a", at=at, reason="r"),
        EventKind.RELEASED: lambda: record.release(actor="a", at=at, reason="r"),
        EventKind.HANDED_OVER: lambda: record.hand_over(recipient="x", actor="a", at=at, reason="r"),
    }[kind]
    before = record.history
    with pytest.raises(TransitionError, match=f"hazard area H-1: cannot .*the area is {state.value}"):
        command()
    assert record.history == before


@settings(max_examples=40, deadline=None)
@given(hazard=hazards(), data=st.data())
def test_critical_finding_holds_back_release_of_any_area(hazard: HazardArea, data: st.DataObject) -> None:
    """Whatever the shape: a critical NC keeps a fully cleared area open until QA closes it; then close, hand over."""
    part = data.draw(outcome(hazard), label="reduced first")
    r = LandRelease.start(hazard, actor="imo", at=T0, reason="r")
    r = r.record_activity(Activity("A-1", "H-1", ActivityType.TS, ActivityStatus.COMPLETED, reduced=part),
                          actor="t", at=later(1), reason="r")
    r = r.record_qa_visit(QAVisit("V-1", "A-1", T0.date(), (NonConformity("N-1", Severity.CRITICAL, "x"),)),
                          actor="qa", at=later(2), reason="r")
    if r.state is ReleaseState.RELEASED:  # the survey released it all before QA came: nothing left to hold back
        assert r.nothing_remains
        return
    everything = shapely.box(*hazard.geometry.buffer(0.001).bounds)
    r = r.record_activity(Activity("A-2", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED,
                                   cleared=everything), actor="t", at=later(3), reason="r")
    assert r.state in OPEN_STATES and r.nothing_remains and [nc.id for nc in r.blockers] == ["N-1"]
    assert abs(r.balance.residual_m2) <= r.tolerance_m2
    for status in (NCStatus.OPEN, NCStatus.CORRECTED):
        with pytest.raises(TransitionError, match=f"critical non-conformity N-1 \\({status.value}\\)"):
            r.release(actor="imo", at=later(4), reason="r")
        if status is NCStatus.OPEN:
            r = r.set_non_conformity("N-1", NCStatus.CORRECTED, actor="t", at=later(4), reason="r")
    r = r.set_non_conformity("N-1", NCStatus.CLOSED, actor="qa", at=later(5), reason="r")
    r = r.release(actor="imo", at=later(6), reason="r").hand_over(recipient="x", actor="a", at=later(7), reason="r")
    assert [e.to_state for e in r.history[-2:]] == [ReleaseState.RELEASED, ReleaseState.HANDED_OVER]
    assert LandRelease.replay(hazard, r.history) == r


def _reach(hazard: HazardArea, state: ReleaseState) -> LandRelease:
    """A record of ``hazard`` in ``state`` (an SHA first, reclassified, cleared, handed over as needed)."""
    sha = dataclasses.replace(hazard, hazard_class=HazardClass.SHA, evidence=Evidence.INDIRECT)
    r = LandRelease.start(sha, actor="a", at=T0, reason="r")
    if state is ReleaseState.SUSPECTED:
        return r
    r = r.reclassify(evidence="e", actor="a", at=T0, reason="r")
    if state is ReleaseState.CONFIRMED:
        return r
    clear = Activity("A-1", "H-1", ActivityType.CLEARANCE, ActivityStatus.COMPLETED, cleared=hazard.geometry)
    r = r.record_activity(clear, actor="a", at=T0, reason="r")
    if state is ReleaseState.RELEASED:
        return r
    return r.hand_over(recipient="x", actor="a", at=T0, reason="r")


# ------------------------------------------------------------------------------------------------------------------
# Examples, one per transition
# ------------------------------------------------------------------------------------------------------------------

FIELD = shapely.box(35.30, 51.30, 35.302, 51.301)  # about 139 m × 111 m
WEST, EAST = shapely.box(35.30, 51.30, 35.301, 51.301), shapely.box(35.301, 51.30, 35.302, 51.301)


def sha(geometry: BaseGeometry = FIELD) -> HazardArea:
    return HazardArea("H-1", HazardClass.SHA, geometry, Evidence.INDIRECT)


def started(hazard: HazardArea | None = None) -> LandRelease:
    return LandRelease.start(hazard or sha(), actor="imo", at=T0, reason="register import")


def later(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def activity(aid: str, atype: ActivityType, **outcomes: BaseGeometry) -> Activity:
    return Activity(aid, "H-1", atype, ActivityStatus.COMPLETED, **outcomes)  # type: ignore[arg-type]


def test_start_records_the_area_as_the_register_holds_it() -> None:
    """The first event is 'recorded', from no state to suspected, with the whole area remaining."""
    r = started()
    (e,) = r.history
    assert (e.seq, e.kind, e.from_state, e.to_state) == (1, EventKind.RECORDED, None, ReleaseState.SUSPECTED)
    assert (e.actor, e.reason, e.at) == ("imo", "register import", T0)
    assert e.remaining_m2 == pytest.approx(r.original_m2) == pytest.approx(area_m2(FIELD), rel=1e-5)
    assert r.original_m2 == pytest.approx(139.3 * 111.3, rel=0.01)


def test_nts_that_cancels_everything_cancels_the_area_in_full() -> None:
    """An NTS cancelling all of an SHA releases it in the same event (suspected → released), status closed."""
    r = started().record_activity(activity("A-1", ActivityType.NTS, cancelled=FIELD), actor="team", at=later(1),
                                  reason="no evidence found")
    e = r.history[-1]
    assert (e.kind, e.from_state, e.to_state) == (EventKind.ACTIVITY, ReleaseState.SUSPECTED, ReleaseState.RELEASED)
    assert e.cancelled_m2 == pytest.approx(r.original_m2)
    assert e.clipped_m2 == pytest.approx(0, abs=0.01)
    assert r.register_record(sha()).status is HazardStatus.CLOSED


def test_nts_that_cancels_part_leaves_the_area_open() -> None:
    """Cancelling half keeps the area suspected, with the other half remaining."""
    r = started().record_activity(activity("A-1", ActivityType.NTS, cancelled=WEST), actor="t", at=later(1),
                                  reason="r")
    assert r.state is ReleaseState.SUSPECTED
    assert r.cancelled_m2 == pytest.approx(area_m2(WEST), rel=1e-5)
    assert r.remaining_m2 == pytest.approx(area_m2(EAST), rel=1e-5)
    # the same land, up to the sliver between a lon/lat edge and its projected chord (well under 1 m²)
    assert area_m2(shapely.symmetric_difference(r.remaining, EAST)) < 1.0


def test_reclassification_confirms_the_area_and_updates_the_register() -> None:
    """SHA → CHA on direct evidence: the register becomes CHA with direct evidence; CHA never goes back."""
    r = started().reclassify(evidence="PMN-2 fuze at the field edge", actor="imo", at=later(1), reason="TS report")
    e = r.history[-1]
    assert (e.kind, e.from_state, e.to_state, e.evidence) == (
        EventKind.RECLASSIFIED, ReleaseState.SUSPECTED, ReleaseState.CONFIRMED, "PMN-2 fuze at the field edge")
    h = r.register_record(sha())
    assert (h.hazard_class, h.evidence, h.status) == (HazardClass.CHA, Evidence.DIRECT, HazardStatus.OPEN)
    with pytest.raises(TransitionError, match="the area is confirmed"):
        r.reclassify(evidence="again", actor="imo", at=later(2), reason="r")
    with pytest.raises(ValidationError, match="needs evidence"):
        started().reclassify(evidence=" ", actor="imo", at=later(1), reason="r")


def test_confirmed_land_is_not_cancelled() -> None:
    """An activity cancelling land in a CHA is refused, naming the hazard and the reason."""
    r = started().reclassify(evidence="mine", actor="imo", at=later(1), reason="r")
    with pytest.raises(TransitionError) as refused:
        r.record_activity(activity("A-1", ActivityType.NTS, cancelled=WEST), actor="t", at=later(2), reason="r")
    assert str(refused.value).startswith("hazard area H-1: cannot record activity A-1: it cancels land in a "
                                         "confirmed area (CHA)")
    assert refused.value.code == "illegal_transition" and refused.value.http_status == 409


def test_technical_survey_reduces_and_clearance_clears_the_rest() -> None:
    """TS reduces the west half, clearance clears the east half and finds a mine: the area is released."""
    mine = DeviceFound(Point(35.3015, 51.3005), DeviceCategory.AP_MINE, "PMN-2", depth_cm=5.0)
    r = started().reclassify(evidence="mine", actor="imo", at=later(1), reason="r")
    r = r.record_activity(activity("A-1", ActivityType.TS, reduced=WEST), actor="t", at=later(2), reason="r")
    assert (r.state, r.history[-1].reduced_m2) == (ReleaseState.CONFIRMED, pytest.approx(area_m2(WEST), rel=1e-5))
    clearance = dataclasses.replace(activity("A-2", ActivityType.CLEARANCE, cleared=EAST), devices=(mine,),
                                    clearance_depth_cm=13.0)
    r = r.record_activity(clearance, actor="t", at=later(3), reason="completion report")
    assert r.history[-1].to_state is ReleaseState.RELEASED
    assert r.balance.reduced_m2 + r.balance.cleared_m2 == pytest.approx(r.original_m2, rel=1e-5)
    assert DeviceCategory.AP_MINE in r.register_record(sha()).device_categories
    assert "1 device(s) found" in r.history[-1].describe()


def test_outcomes_are_clipped_and_the_clipped_area_reported() -> None:
    """Land claimed outside the area, or already released, is clipped off and reported, not dropped silently."""
    r = started().record_activity(activity("A-1", ActivityType.NTS, cancelled=WEST), actor="t", at=later(1),
                                  reason="r")
    wide = shapely.box(35.2995, 51.30, 35.302, 51.301)  # overlaps the cancelled west half and sticks out west
    r = r.record_activity(activity("A-2", ActivityType.TS, reduced=wide), actor="t", at=later(2), reason="r")
    e = r.history[-1]
    assert e.reduced_m2 == pytest.approx(area_m2(EAST), rel=1e-5)
    assert e.clipped_m2 == pytest.approx(area_m2(wide) - area_m2(EAST), rel=1e-5)
    assert "clipped off" in e.describe()
    assert e.activity is not None and e.activity.reduced is not None
    assert area_m2(e.activity.reduced) == pytest.approx(area_m2(EAST), rel=1e-5)  # stored clipped


def test_critical_non_conformity_holds_back_release_until_closed() -> None:
    """A critical NC (open or only corrected) keeps a cleared area open; once closed, close and hand over work."""
    r = started().record_activity(activity("A-1", ActivityType.TS, reduced=WEST), actor="t", at=later(1), reason="r")
    r = r.record_qa_visit(QAVisit("V-1", "A-1", later(2).date(), (NonConformity("N-1", Severity.CRITICAL,
                                                                               "lane not searched"),)),
                          actor="qa", at=later(2), reason="monthly visit")
    r = r.record_activity(activity("A-2", ActivityType.CLEARANCE, cleared=EAST), actor="t", at=later(3), reason="r")
    assert r.state is ReleaseState.SUSPECTED and r.awaiting_release and r.nothing_remains
    with pytest.raises(TransitionError, match="critical non-conformity N-1 \\(open\\) is not closed"):
        r.release(actor="imo", at=later(4), reason="r")
    r = r.set_non_conformity("N-1", NCStatus.CORRECTED, actor="team", at=later(4), reason="lane re-searched")
    with pytest.raises(TransitionError, match="N-1 \\(corrected\\) is not closed"):
        r.release(actor="imo", at=later(5), reason="r")
    r = r.set_non_conformity("N-1", NCStatus.CLOSED, actor="qa", at=later(5), reason="verified")
    r = r.release(actor="imo", at=later(6), reason="NC closed")
    assert (r.history[-1].from_state, r.state) == (ReleaseState.SUSPECTED, ReleaseState.RELEASED)
    r = r.hand_over(recipient="Sudzha village council", actor="nmaa", at=later(7), reason="certificate 17")
    assert r.state is ReleaseState.HANDED_OVER
    assert r.register_record(sha()).status is HazardStatus.HANDED_OVER


def test_minor_and_major_findings_do_not_block() -> None:
    """Open minor and major NCs do not hold back release or handover."""
    r = started().record_activity(activity("A-1", ActivityType.TS, reduced=WEST), actor="t", at=later(1), reason="r")
    r = r.record_qa_visit(QAVisit("V-1", "A-1", T0.date(), (NonConformity("N-1", Severity.MAJOR, "marking"),
                                                            NonConformity("N-2", Severity.MINOR, "paperwork"))),
                          actor="qa", at=later(2), reason="r")
    r = r.record_activity(activity("A-2", ActivityType.TS, reduced=EAST), actor="t", at=later(3), reason="r")
    assert r.state is ReleaseState.RELEASED
    assert r.hand_over(recipient="farmers", actor="a", at=later(4), reason="r").state is ReleaseState.HANDED_OVER


def test_release_refused_while_land_remains() -> None:
    """Closing an area with hazardous land left is refused with the area left."""
    with pytest.raises(TransitionError, match="m² is still hazardous"):
        started().release(actor="imo", at=later(1), reason="r")


def test_handover_only_from_released_and_only_once() -> None:
    """An open area cannot be handed over; a handed-over one cannot be handed over again, nor take activities."""
    with pytest.raises(TransitionError, match="cannot hand the area over: the area is suspected"):
        started().hand_over(recipient="x", actor="a", at=later(1), reason="r")
    r = started().record_activity(activity("A-1", ActivityType.NTS, cancelled=FIELD), actor="t", at=later(1),
                                  reason="r")
    r = r.hand_over(recipient="farmers", actor="a", at=later(2), reason="r")
    with pytest.raises(TransitionError, match="the area is handed_over"):
        r.hand_over(recipient="x", actor="a", at=later(3), reason="r")
    with pytest.raises(TransitionError, match="cannot record a QA visit: the area is handed_over"):
        r.record_qa_visit(QAVisit("V-1", "A-1", T0.date()), actor="qa", at=later(3), reason="r")
    with pytest.raises(ValidationError, match="needs recipient"):
        started().record_activity(activity("A-1", ActivityType.NTS, cancelled=FIELD), actor="t", at=later(1),
                                  reason="r").hand_over(recipient="", actor="a", at=later(2), reason="r")


def test_non_conformity_moves_only_forward() -> None:
    """open → corrected → closed (or corrected → open); closed is final; open cannot jump to closed."""
    r = started().record_activity(activity("A-1", ActivityType.TS, reduced=WEST), actor="t", at=later(1), reason="r")
    r = r.record_qa_visit(QAVisit("V-1", "A-1", T0.date(), (NonConformity("N-1", Severity.MINOR, "x"),)),
                          actor="qa", at=later(2), reason="r")
    with pytest.raises(TransitionError, match="from open to closed"):
        r.set_non_conformity("N-1", NCStatus.CLOSED, actor="qa", at=later(3), reason="r")
    r = r.set_non_conformity("N-1", NCStatus.CORRECTED, actor="t", at=later(3), reason="r")
    r = r.set_non_conformity("N-1", NCStatus.OPEN, actor="qa", at=later(4), reason="correction not accepted")
    r = r.set_non_conformity("N-1", NCStatus.CORRECTED, actor="t", at=later(5), reason="r")
    r = r.set_non_conformity("N-1", NCStatus.CLOSED, actor="qa", at=later(6), reason="r")
    with pytest.raises(TransitionError, match="it is closed"):
        r.set_non_conformity("N-1", NCStatus.OPEN, actor="qa", at=later(7), reason="r")
    with pytest.raises(TransitionError, match="no QA visit of this area recorded it"):
        r.set_non_conformity("N-9", NCStatus.CORRECTED, actor="qa", at=later(7), reason="r")


def test_who_when_why_are_required() -> None:
    """Empty actor or reason, a time without a time zone, or one before the last event is refused."""
    r = started()
    a = activity("A-1", ActivityType.NTS, cancelled=WEST)
    with pytest.raises(ValidationError, match="actor is empty"):
        r.record_activity(a, actor=" ", at=later(1), reason="r")
    with pytest.raises(ValidationError, match="reason is empty"):
        r.record_activity(a, actor="t", at=later(1), reason="")
    with pytest.raises(ValidationError, match="no time zone"):
        r.record_activity(a, actor="t", at=dt.datetime(2025, 7, 1, 9, 0), reason="r")
    with pytest.raises(TransitionError, match="before event 1"):
        r.record_activity(a, actor="t", at=T0 - dt.timedelta(seconds=1), reason="r")
    kyiv = dt.timezone(dt.timedelta(hours=3))
    e = r.record_activity(a, actor="t", at=dt.datetime(2025, 7, 1, 12, 0, tzinfo=kyiv), reason="r").history[-1]
    assert e.at == dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC)


def test_activities_that_do_not_fit_are_refused() -> None:
    """A planned activity, one of another hazard, one recorded twice, and a QA visit on an unknown activity."""
    r = started().record_activity(activity("A-1", ActivityType.NTS, cancelled=WEST), actor="t", at=later(1),
                                  reason="r")
    planned = Activity("A-2", "H-1", ActivityType.TS, ActivityStatus.PLANNED)
    other = Activity("A-3", "H-2", ActivityType.TS, ActivityStatus.COMPLETED, reduced=EAST)
    cases = [
        (lambda: r.record_activity(planned, actor="t", at=later(2), reason="r"), "only planned"),
        (lambda: r.record_activity(other, actor="t", at=later(2), reason="r"), "belongs to hazard area H-2"),
        (lambda: r.record_activity(activity("A-1", ActivityType.TS, reduced=EAST), actor="t", at=later(2),
                                   reason="r"), "already in the history"),
        (lambda: r.record_qa_visit(QAVisit("V-1", "A-9", T0.date()), actor="qa", at=later(2), reason="r"),
         "activity A-9 is not in this area's land-release history"),
    ]
    for command, message in cases:
        with pytest.raises(TransitionError, match=message):
            command()
    line = shapely.LineString([(35.30, 51.30), (35.302, 51.301)])
    with pytest.raises(ValidationError, match="reduced land must be a polygon"):
        r.record_activity(activity("A-4", ActivityType.TS, reduced=line), actor="t", at=later(2), reason="r")


def test_a_history_starts_only_from_an_open_area() -> None:
    """A register record already closed has no land-release history to start from."""
    closed = dataclasses.replace(sha(), status=HazardStatus.CLOSED)
    with pytest.raises(TransitionError, match="the register has the area closed"):
        LandRelease.start(closed, actor="imo", at=T0, reason="r")


def test_replay_refuses_a_history_that_does_not_follow_the_rules() -> None:
    """A stored event whose areas or target state disagree with the rules is named when replayed."""
    r = started().record_activity(activity("A-1", ActivityType.NTS, cancelled=WEST), actor="t", at=later(1),
                                  reason="r")
    events = list(r.history)
    assert LandRelease.replay(sha(), events) == r
    inflated = dataclasses.replace(events[1], cancelled_m2=events[1].cancelled_m2 + 500)
    with pytest.raises(ValidationError, match=r"event 2 of hazard area H-1.*cancelled_m2"):
        LandRelease.replay(sha(), [events[0], inflated])
    jumped = dataclasses.replace(events[1], to_state=ReleaseState.RELEASED)
    with pytest.raises(ValidationError, match="the rules give suspected → suspected"):
        LandRelease.replay(sha(), [events[0], jumped])
    with pytest.raises(ValidationError, match="starts with a activity event"):
        LandRelease.replay(sha(), events[1:])
    with pytest.raises(ValidationError, match="stored as event 2"):
        LandRelease.replay(sha(), [events[0], events[1], events[1]])
    with pytest.raises(TransitionError, match="it started with event 1"):
        LandRelease.replay(sha(), [events[0], events[0]])
