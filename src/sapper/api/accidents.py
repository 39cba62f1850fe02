"""Accidents and victims in the REST API (``/api/v1/accidents``). Thin: parse, call sapper.services.accidents, shape.

Accidents: read by every signed-in role within its organisation and sensitivity clearance (others get 404), recorded
by editors. Victims: only roles with the victim permission (403 for others), each read audited; the service needs a
data key (503 without one, in development). Aggregated counts (``/api/v1/accident-counts``) are what maps show.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from sapper.api.auth import Rule, caller_of, guard, principal, runtime
from sapper.api.problems import HTTPProblem
from sapper.domain.accidents import Accident, AccidentKind, Gender, Sensitivity, Victim, VictimOutcome
from sapper.domain.hazards import DeviceCategory
from sapper.domain.users import ALL_ROLES, EDITORS, VICTIM_READERS, Principal
from sapper.messages import msg
from sapper.services import accidents as service
from sapper.store.cipher import FieldCipher

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Principal, Depends(principal)]

READ = Rule(ALL_ROLES, scoped=True)
RECORDERS = Rule(EDITORS, scoped=True)
VICTIM_ROLES = Rule(VICTIM_READERS, scoped=True)


class AccidentCreate(BaseModel):
    date: dt.date
    kind: AccidentKind
    device_category: DeviceCategory
    place: str = Field("", max_length=500)
    lon: float | None = None
    lat: float | None = None
    organisation_id: str | None = None
    hazard_id: str | None = None
    activity_id: str | None = None
    device_type: str = Field("", max_length=200)
    description: str = Field("", max_length=5000)
    investigation: str = Field("", max_length=20000)
    victim_count: int = Field(0, ge=0, le=10000)
    sensitivity: Sensitivity = Sensitivity.RESTRICTED
    reason: str = Field("", max_length=500)


class AccidentPublic(BaseModel):
    id: str
    date: str
    kind: str
    device_category: str
    place: str
    lon: float | None
    lat: float | None
    organisation_id: str | None
    hazard_id: str | None
    activity_id: str | None
    device_type: str
    description: str
    investigation: str
    victim_count: int
    sensitivity: str
    source: str
    version: int


class AccidentUpdate(BaseModel):
    version: int = Field(description="The version read: a change to an accident that moved on since is a 409.")
    investigation: str | None = Field(None, max_length=20000)
    description: str | None = Field(None, max_length=5000)
    victim_count: int | None = Field(None, ge=0, le=10000)
    sensitivity: Sensitivity | None = None
    reason: str = Field("", max_length=500)


class AccidentList(BaseModel):
    items: list[AccidentPublic]


class CountPublic(BaseModel):
    key: str
    count: int


class AccidentCountsPublic(BaseModel):
    total: int
    people: int
    by_month: list[CountPublic]
    by_kind: list[CountPublic]
    by_device: list[CountPublic]


class VictimCreate(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    gender: Gender
    outcome: VictimOutcome
    birth_date: dt.date | None = None
    address: str = Field("", max_length=500)
    activity: str = Field("", max_length=300)
    reason: str = Field("", max_length=500)


class VictimPublic(BaseModel):
    id: str
    accident_id: str
    name: str
    gender: str
    outcome: str
    birth_date: str | None
    address: str
    activity: str


class VictimList(BaseModel):
    items: list[VictimPublic]


def _accident(a: Accident, version: int) -> AccidentPublic:
    return AccidentPublic(version=version, id=a.id, date=a.date.isoformat(), kind=a.kind.value,
                          device_category=a.device_category.value,
                          place=a.place, lon=a.lon, lat=a.lat, organisation_id=a.organisation_id,
                          hazard_id=a.hazard_id, activity_id=a.activity_id, device_type=a.device_type,
                          description=a.description, investigation=a.investigation, victim_count=a.victim_count,
                          sensitivity=a.sensitivity.value, source=a.source)


def _victim(v: Victim) -> VictimPublic:
    return VictimPublic(id=v.id, accident_id=v.accident_id, name=v.name, gender=v.gender.value,
                        outcome=v.outcome.value, birth_date=v.birth_date.isoformat() if v.birth_date else None,
                        address=v.address, activity=v.activity)


def _visible_accident(request: Request, accident_id: str) -> str:
    """The accident's id once the caller may see it: 404 for another organisation's (or a too sensitive) accident,
    before the body is read, so a cross-organisation request learns nothing from validation messages."""
    service.one(runtime(request).store, caller_of(request), accident_id)
    return accident_id


Visible = Annotated[str, Depends(_visible_accident)]


def _cipher(request: Request) -> FieldCipher:
    found = runtime(request).cipher
    if found is None:
        raise HTTPProblem(503, "no_data_key", msg("the service runs without a data key (development): victims "
                                                  "cannot be read or written; set SAPPER_DATA_KEY"))
    return found


@router.get("/accidents", response_model=AccidentList, summary="Accidents (no victim data; those above your "
            "sensitivity clearance are left out)", **guard(READ))
def accident_list(request: Request, caller: Caller) -> AccidentList:
    store = runtime(request).store
    return AccidentList(items=[_accident(a, version) for a, version in service.listed_versioned(store, caller)])


@router.post("/accidents", status_code=201, response_model=AccidentPublic, summary="Record an accident (audited)",
             **guard(RECORDERS))
def accident_create(request: Request, caller: Caller, body: AccidentCreate) -> AccidentPublic:
    given = service.AccidentInput(
        date=body.date, kind=body.kind, device_category=body.device_category, place=body.place, lon=body.lon,
        lat=body.lat, organisation_id=body.organisation_id, hazard_id=body.hazard_id, activity_id=body.activity_id,
        device_type=body.device_type, description=body.description, investigation=body.investigation,
        victim_count=body.victim_count, sensitivity=body.sensitivity)
    return _accident(service.record_accident(runtime(request).store, caller, given, reason=body.reason), 1)


@router.get("/accident-counts", response_model=AccidentCountsPublic, summary="Accidents aggregated (what maps "
            "and reports show)", **guard(READ))
def accident_counts(request: Request, caller: Caller) -> AccidentCountsPublic:
    c = service.counts_for(runtime(request).store, caller)
    return AccidentCountsPublic(total=c.total, people=c.people,
                                by_month=[CountPublic(key=m.isoformat()[:7], count=n) for m, n in c.by_month],
                                by_kind=[CountPublic(key=k, count=n) for k, n in c.by_kind],
                                by_device=[CountPublic(key=k, count=n) for k, n in c.by_device])


@router.get("/accidents/{accident_id}", response_model=AccidentPublic, summary="One accident (no victim data)",
            **guard(READ))
def accident_one(request: Request, accident_id: str, caller: Caller) -> AccidentPublic:
    store = runtime(request).store
    return _accident(*service.one_versioned(store, caller, accident_id))


@router.patch("/accidents/{accident_id}", response_model=AccidentPublic, summary="Change an accident: the "
              "investigation's findings, description, people reported, class (optimistic locking; audited)",
              **guard(RECORDERS))
def accident_change(request: Request, accident_id: Visible, caller: Caller, body: AccidentUpdate) -> AccidentPublic:
    change = service.AccidentChange(investigation=body.investigation, description=body.description,
                                    victim_count=body.victim_count, sensitivity=body.sensitivity)
    done, version = service.change_accident(runtime(request).store, caller, accident_id, change,
                                            expected_version=body.version, reason=body.reason)
    return _accident(done, version)


@router.get("/accidents/{accident_id}/victims", response_model=VictimList, summary="An accident's victims "
            "(victim permission; every read audited)", **guard(VICTIM_ROLES))
def victim_list(request: Request, accident_id: str, caller: Caller, reason: str = "") -> VictimList:
    found = service.victims(runtime(request).store, caller, _cipher(request), accident_id, reason=reason[:500])
    return VictimList(items=[_victim(v) for v in found])


@router.post("/accidents/{accident_id}/victims", status_code=201, response_model=VictimPublic,
             summary="Add a victim (victim permission; encrypted per field; audited)", **guard(VICTIM_ROLES))
def victim_create(request: Request, accident_id: Visible, caller: Caller, body: VictimCreate) -> VictimPublic:
    given = service.VictimInput(name=body.name, gender=body.gender, outcome=body.outcome, birth_date=body.birth_date,
                                address=body.address, activity=body.activity)
    return _victim(service.add_victim(runtime(request).store, caller, _cipher(request), accident_id, given,
                                      reason=body.reason))
