"""The REST API the map UI and scripts use (``/api/...``): sign-in, hazard records with their land-release
history and balance, teams, the audit trail, plan jobs and field review. Thin: parse, call a service, shape."""

from __future__ import annotations

import json
from typing import Annotated, Any

import shapely.geometry
from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel
from shapely.geometry.base import BaseGeometry

from sapper.api import schemas
from sapper.api.auth import (
    CSRF_COOKIE,
    PUBLIC,
    SESSION_COOKIE,
    Rule,
    caller_of,
    check_password,
    guard,
    principal,
    runtime,
)
from sapper.api.problems import HTTPProblem
from sapper.domain.fielddata import StagingState
from sapper.domain.geometry import require_vertices_at_most
from sapper.domain.hazards import HazardStatus
from sapper.domain.landrelease import LandRelease, state_of
from sapper.domain.resources import Method
from sapper.domain.users import ALL_ROLES, EDITORS, MANAGERS, Job, Principal, Role
from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.scenario.compile import TaskKind
from sapper.services import accounts, jobs, outcomes, planview, review
from sapper.services import features as features_service
from sapper.store import Store
from sapper.store.records import PlannedTask

#: A stored row's id in a path: a positive integer that fits the id columns (INTEGER: 32 bits on PostgreSQL, 64 on
#: SQLite); a larger one is a 422, not a driver overflow (schemathesis found both: tests/api/test_schemathesis.py).
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]

router = APIRouter(prefix="/api")
Caller = Annotated[Principal, Depends(principal)]

READ = Rule(ALL_ROLES, scoped=True)
ANYONE_SIGNED_IN = Rule(ALL_ROLES)
PLANNERS = Rule(MANAGERS)
OFFICERS = Rule(frozenset({Role.ADMIN, Role.IM_OFFICER}))
AUDITORS = Rule(frozenset({Role.ADMIN, Role.IM_OFFICER}), scoped=True)
#: Recording land-release outcomes: whoever edits records (field team leaders included), on their organisation's
#: hazard areas.
RECORDERS = Rule(EDITORS, scoped=True)


@router.post("/session", response_model=schemas.SessionPublic, summary="Sign in (browser session)", **guard(PUBLIC))
def sign_in(request: Request, response: Response, body: schemas.SessionCreate) -> schemas.SessionPublic:
    rt = runtime(request)
    found = check_password(request, body.name, body.password)
    if found is None:
        raise HTTPProblem(401, "unauthorised", msg("unknown user or wrong password"))
    session = accounts.start_session(rt.store, found)
    max_age = int((session.expires_at - session.expires_at.now(session.expires_at.tzinfo)).total_seconds())
    response.set_cookie(SESSION_COOKIE, session.secret, max_age=max_age, httponly=True, samesite="strict",
                        secure=rt.secure_cookies, path="/")
    response.set_cookie(CSRF_COOKIE, session.csrf_token, max_age=max_age, httponly=False, samesite="strict",
                        secure=rt.secure_cookies, path="/")
    return schemas.SessionPublic(name=found.name, role=found.role.value, organisation_id=found.organisation_id,
                                 csrf_token=session.csrf_token)


@router.delete("/session", status_code=204, summary="Sign out", **guard(ANYONE_SIGNED_IN))
def sign_out(request: Request, caller: Caller) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_session(runtime(request).store, cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


class MePublic(BaseModel):
    name: str
    role: str
    organisation_id: str
    authority: bool


@router.get("/v1/me", response_model=MePublic, summary="Who am I", **guard(ANYONE_SIGNED_IN))
def me(caller: Caller) -> MePublic:
    return MePublic(name=caller.name, role=caller.role.value, organisation_id=caller.organisation_id,
                    authority=caller.authority)


class BalancePublic(BaseModel):
    original_m2: float
    cancelled_m2: float
    reduced_m2: float
    cleared_m2: float
    remaining_m2: float


class EventPublic(BaseModel):
    seq: int
    kind: str
    date: str
    actor: str
    reason: str
    from_state: str | None
    to_state: str
    area_m2: float | None


class HazardPlanPublic(BaseModel):
    survey_start: str | None
    clearance_start: str | None
    release_date: str | None


class HazardPublic(BaseModel):
    id: str
    name: str
    hazard_class: str
    status: str
    state: str
    release_phase: str
    area_m2: float
    organisation_id: str | None
    synthetic: bool
    generalised: bool
    version: int
    balance: BalancePublic
    history: list[EventPublic]
    plan: HazardPlanPublic | None


def _phase(state: str, remaining: float, original: float) -> str:
    if state in ("released", "handed_over"):
        return "released"
    if remaining <= 0.5:
        return "processed"
    return "in_progress" if remaining < original - 0.5 else "open"


@router.get("/v1/hazards/{hazard_id}", response_model=HazardPublic, summary="A hazard area with its land-release "
            "history and balance", **guard(READ))
@router.get("/hazards/{hazard_id}", response_model=HazardPublic, summary="A hazard area (the map UI's path)",
            **guard(READ))
def hazard(request: Request, hazard_id: str, caller: Caller) -> HazardPublic:
    return _hazard_public(runtime(request).store, caller, hazard_id)


def _hazard_public(store: Store, caller: Principal, hazard_id: str) -> HazardPublic:
    row = features_service.one(store, caller, "hazard_areas", hazard_id)  # 404 for another organisation's area
    area = store.hazard(hazard_id)
    events = store.release_events(hazard_id)
    if events:
        record = LandRelease.replay(area, events)
        state, b = record.state.value, record.balance
        balance = BalancePublic(original_m2=b.original_m2, cancelled_m2=b.cancelled_m2, reduced_m2=b.reduced_m2,
                                cleared_m2=b.cleared_m2, remaining_m2=b.remaining_m2)
    else:  # no land-release history yet: all of it remains (unless the register says it is closed)
        state = state_of(area.hazard_class, area.status).value
        remaining = area.area_m2 if area.status is HazardStatus.OPEN else 0.0
        balance = BalancePublic(original_m2=area.area_m2, cancelled_m2=0.0, reduced_m2=0.0, cleared_m2=0.0,
                                remaining_m2=remaining)
    history = [EventPublic(seq=e.seq, kind=e.kind.value, date=e.at.date().isoformat(), actor=e.actor,
                           reason=e.reason, from_state=e.from_state.value if e.from_state else None,
                           to_state=e.to_state.value,
                           area_m2=(e.cancelled_m2 + e.reduced_m2 + e.cleared_m2) or None) for e in events]
    return HazardPublic(
        id=area.id, name=area.name, hazard_class=area.hazard_class.value, status=area.status.value,
        state=state, release_phase=_phase(state, balance.remaining_m2, balance.original_m2),
        area_m2=balance.original_m2, organisation_id=area.organisation_id, synthetic=area.synthetic,
        generalised=not caller.precise_geometry, version=row.version or 0,
        balance=balance, history=history, plan=_hazard_plan(store.latest_plan_tasks(hazard_id=hazard_id)))


def _first(tasks: list[PlannedTask], kind: TaskKind, *, end: bool = False) -> str | None:
    dates = [t.end_date if end else t.start_date for t in tasks if t.kind is kind]
    return (max(dates) if end else min(dates)).isoformat() if dates else None


def _hazard_plan(tasks: list[PlannedTask]) -> HazardPlanPublic | None:
    if not tasks:
        return None
    return HazardPlanPublic(survey_start=_first(tasks, TaskKind.NTS) or _first(tasks, TaskKind.SURVEY),
                            clearance_start=_first(tasks, TaskKind.CLEARANCE),
                            release_date=_first(tasks, TaskKind.RELEASED, end=True))


class AssetPlanPublic(BaseModel):
    restoration_start: str | None
    restoration_end: str | None


class AssetPublic(BaseModel):
    id: str
    name: str
    asset_type: str
    damage: str
    synthetic: bool
    plan: AssetPlanPublic | None


@router.get("/assets/{asset_id}", response_model=AssetPublic, summary="An asset with its planned restoration",
            **guard(READ))
@router.get("/v1/assets/{asset_id}", response_model=AssetPublic, summary="An asset with its planned restoration",
            **guard(READ))
def asset(request: Request, asset_id: str, caller: Caller) -> AssetPublic:
    store = runtime(request).store
    row = features_service.one(store, caller, "assets", asset_id)
    tasks = store.latest_plan_tasks(asset_id=asset_id)
    repairs = [t for t in tasks if t.kind is TaskKind.REPAIR]
    plan = AssetPlanPublic(restoration_start=min(t.start_date for t in repairs).isoformat() if repairs else None,
                           restoration_end=max(t.end_date for t in repairs).isoformat() if repairs else None
                           ) if tasks else None
    p = row.properties
    return AssetPublic(id=row.id, name=str(p["name"]), asset_type=str(p["asset_type"]), damage=str(p["damage"]),
                       synthetic=bool(p["synthetic"]), plan=plan)


class TeamPublic(BaseModel):
    id: str
    organisation_id: str
    method: str
    size: int
    productivity_m2_per_day: float
    #: Every method the team can work by: its own and its capabilities (the default: manual and survey).
    methods: list[str]


class TeamList(BaseModel):
    items: list[TeamPublic]


@router.get("/v1/teams", response_model=TeamList, summary="Deminer teams (your organisation's)", **guard(READ))
def teams(request: Request, caller: Caller) -> TeamList:
    found = runtime(request).store.teams()
    return TeamList(items=[TeamPublic(id=t.id, organisation_id=t.organisation_id, method=t.method.value,
                                      size=t.size, productivity_m2_per_day=t.productivity_m2_per_day,
                                      methods=[m.value for m in Method if m in t.methods])
                           for t in found if caller.scope is None or t.organisation_id == caller.scope])


@router.get("/v1/audit", response_model=schemas.AuditList, summary="The audit trail (newest first)",
            **guard(AUDITORS))
def audit(request: Request, caller: Caller, table: str | None = None, record: str | None = None,
          limit: int = 100) -> schemas.AuditList:
    found = runtime(request).store.audit_entries(table_name=table, record_id=record, limit=min(max(limit, 1), 1000))
    return schemas.AuditList(items=[
        schemas.AuditPublic(id=e.id, at=e.at, actor=e.actor, organisation_id=e.organisation_id,
                            table_name=e.table_name, record_id=e.record_id, action=e.action, reason=e.reason,
                            before=None if e.before_json is None else json.loads(e.before_json),
                            after=None if e.after_json is None else json.loads(e.after_json))
        for e in found if caller.scope is None or e.organisation_id == caller.scope])


def _job(job: Job) -> schemas.JobPublic:
    return schemas.JobPublic(id=job.id, kind=job.kind, state=job.state.value, progress=job.progress,
                             actor=job.actor, message=job.message, plan_id=job.plan_id,
                             cancel_requested=job.cancel_requested)


@router.post("/v1/plans/jobs", status_code=202, response_model=schemas.JobPublic,
             summary="Plan the register (a background job)", **guard(PLANNERS))
def start_plan(request: Request, response: Response, caller: Caller, body: schemas.JobCreate) -> schemas.JobPublic:
    job = jobs.start_plan(runtime(request).store, caller, time_limit_s=body.time_limit_s, seed=body.seed)
    response.headers["Location"] = f"{str(request.base_url).rstrip('/')}/api/v1/jobs/{job.id}"
    return _job(job)


@router.get("/v1/jobs", response_model=schemas.JobList, summary="Background jobs", **guard(PLANNERS))
def list_jobs(request: Request, caller: Caller) -> schemas.JobList:
    return schemas.JobList(items=[_job(j) for j in jobs.listed(runtime(request).store)])


@router.get("/v1/jobs/{job_id}", response_model=schemas.JobPublic, summary="One job's state and progress",
            **guard(PLANNERS))
def get_job(request: Request, job_id: RowId, caller: Caller) -> schemas.JobPublic:
    return _job(jobs.get(runtime(request).store, job_id))


@router.post("/v1/jobs/{job_id}/cancel", response_model=schemas.JobPublic, summary="Cancel a job",
             **guard(PLANNERS))
def cancel_job(request: Request, job_id: RowId, caller: Caller) -> schemas.JobPublic:
    return _job(jobs.cancel(runtime(request).store, job_id))


class SubmissionPublic(BaseModel):
    id: int
    source: str
    form_id: str
    submitted_at: str | None
    submitter: str
    state: str
    kind: str
    summary: str


class SubmissionList(BaseModel):
    items: list[SubmissionPublic]


class Decision(BaseModel):
    reason: str = ""


class DecisionPublic(BaseModel):
    id: int
    state: str


@router.get("/submissions", response_model=SubmissionList, summary="Staged field submissions", **guard(OFFICERS))
@router.get("/v1/submissions", response_model=SubmissionList, summary="Staged field submissions",
            **guard(OFFICERS))
def submissions(request: Request, caller: Caller, state: str | None = None) -> SubmissionList:
    found = review.staged(runtime(request).store, state)
    return SubmissionList(items=[SubmissionPublic(
        id=s.id, source=s.submission.source.value, form_id=s.submission.form_id,
        submitted_at=s.submission.submitted_at.isoformat() if s.submission.submitted_at else None,
        submitter=s.submission.submitter, state=s.state.value, kind=s.kind,
        summary=f"{s.kind} by {s.submission.submitter or 'unknown'}") for s in found])


def _decide(request: Request, caller: Principal, staged_id: int, to: StagingState, reason: str) -> DecisionPublic:
    done = review.decide(runtime(request).store, caller, staged_id, to, reason=reason)
    return DecisionPublic(id=done.id, state=done.state.value)


@router.post("/submissions/{staged_id}/approve", response_model=DecisionPublic, summary="Approve a submission",
             **guard(OFFICERS))
def approve(request: Request, staged_id: RowId, caller: Caller, body: Decision) -> DecisionPublic:
    return _decide(request, caller, staged_id, StagingState.APPROVED, body.reason)


@router.post("/submissions/{staged_id}/review", response_model=DecisionPublic,
             summary="Mark a staged submission reviewed (the step before approval)", **guard(OFFICERS))
def mark_reviewed(request: Request, staged_id: RowId, caller: Caller, body: Decision) -> DecisionPublic:
    return _decide(request, caller, staged_id, StagingState.REVIEWED, body.reason)


class ApplyPublic(BaseModel):
    applied: list[str]
    superseded: list[str]
    not_applied: list[str]
    notes: list[str]


@router.post("/submissions/apply", response_model=ApplyPublic,
             summary="Write the approved submissions into the register (audited)", **guard(OFFICERS))
def apply_submissions(request: Request, caller: Caller) -> ApplyPublic:
    done = review.apply(runtime(request).store, caller, cipher=runtime(request).cipher)
    return ApplyPublic(applied=done.applied, superseded=done.superseded, not_applied=done.faults, notes=done.notes)


@router.post("/submissions/{staged_id}/reject", response_model=DecisionPublic, summary="Reject a submission",
             **guard(OFFICERS))
def reject(request: Request, staged_id: RowId, caller: Caller, body: Decision) -> DecisionPublic:
    return _decide(request, caller, staged_id, StagingState.REJECTED, body.reason)


def _visible_hazard(request: Request, hazard_id: str) -> str:
    """The hazard area's id once the caller may see it: 404 for another organisation's area, before the body is
    read (so a cross-organisation request learns nothing from validation messages)."""
    features_service.one(runtime(request).store, caller_of(request), "hazard_areas", hazard_id)
    return hazard_id


def _polygon(value: dict[str, Any], record: str) -> BaseGeometry:
    try:
        geom = shapely.geometry.shape(value)
    except Exception:  # shapely raises several types for a malformed GeoJSON geometry
        raise ValidationError(record, [Fault(record, "geometry is not a GeoJSON geometry", "geometry")]) from None
    require_vertices_at_most(geom, record=record)
    return geom


class OutcomeRecordedPublic(BaseModel):
    hazard: HazardPublic
    outcome: schemas.OutcomePublic


@router.post("/hazards/{hazard_id}/outcomes", status_code=201, response_model=OutcomeRecordedPublic,
             summary="Record a cancelled, reduced or cleared polygon on a hazard area (land release)",
             **guard(RECORDERS))
def record_outcome(request: Request, hazard_id: Annotated[str, Depends(_visible_hazard)], caller: Caller,
                   body: schemas.OutcomeCreate) -> OutcomeRecordedPublic:
    store = runtime(request).store
    given = outcomes.OutcomeInput(kind=body.kind, date=body.date, reason=body.reason,
                                  geometry=_polygon(body.geometry, f"hazard area {hazard_id}"),
                                  activity_type=body.activity_type, depth_cm=body.depth_cm)
    done = outcomes.record_outcome(store, caller, hazard_id, given)
    return OutcomeRecordedPublic(
        hazard=_hazard_public(store, caller, hazard_id),
        outcome=schemas.OutcomePublic(id=done.activity_id, kind=done.kind.value,
                                      activity_type=done.activity_type.value, area_m2=round(done.area_m2, 1),
                                      drawn_m2=round(done.drawn_m2, 1), clipped_m2=round(done.clipped_m2, 1),
                                      clipped=done.clipped, note=done.note))


@router.get("/plan/latest/gantt", response_model=schemas.GanttPublic, summary="The latest plan as a Gantt chart of "
            "teams and brigades", **guard(ANYONE_SIGNED_IN))
def plan_gantt(request: Request, caller: Caller) -> schemas.GanttPublic:
    g = planview.gantt(runtime(request).store)
    return schemas.GanttPublic(
        plan_id=str(g.plan_id), created=g.created.isoformat(), start=g.start.isoformat(), end=g.end.isoformat(),
        synthetic=g.synthetic,
        lanes=[schemas.GanttLanePublic(
            id=lane.id, label=lane.label, organisation=lane.organisation, role=lane.role.value,
            tasks=[schemas.GanttTaskPublic(id=b.id, kind=b.kind.value, label=b.label, target_id=b.target_id,
                                           start=b.start.isoformat(), end=b.end.isoformat()) for b in lane.bars])
            for lane in g.lanes])


@router.get("/plan/latest/burndown", response_model=schemas.BurndownPublic, summary="Released km² and restored "
            "assets over the latest plan", **guard(ANYONE_SIGNED_IN))
def plan_burndown(request: Request, caller: Caller) -> schemas.BurndownPublic:
    b = planview.burndown(runtime(request).store)
    return schemas.BurndownPublic(
        plan_id=str(b.plan_id), total_km2=b.total_km2, total_assets=b.total_assets, synthetic=b.synthetic,
        points=[schemas.BurndownPointPublic(date=p.date.isoformat(), released_km2=p.released_km2,
                                            restored_assets=p.restored_assets) for p in b.points])
