"""The completion report and handover certificate of a released hazard area (IMAS 08.30, 07.11, 07.14).

Everything on it comes from the area's land-release history and the register's record: the area and its
perimeter, the benchmark and turning points, the methods and organisations, the required and reported clearance
depths, the devices found and what became of them, the inspections, the authority's acceptance and the handover
(the signatories), and the residual-risk statement. Nothing is typed in twice, so the certificate cannot disagree
with the history it certifies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from shapely.geometry import Point

from sapper.domain.activities import Disposal
from sapper.domain.hazards import DeviceCategory, HazardArea, HazardClass, Marking
from sapper.domain.landrelease import EventKind, LandRelease, ReleaseState
from sapper.errors import Fault, ValidationError
from sapper.messages import msg

#: The residual-risk statement when no find reopened the area (IMAS 07.14: released land carries a residual risk).
STANDARD_RESIDUAL_RISK = (
    "All reasonable effort has been made to identify, define and remove all presence and suspicion of explosive "
    "ordnance (IMAS 07.11). A residual risk remains: report any item found to the national mine action authority; "
    "the area will be reopened where it is found."
)


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """Devices of one category, type and disposal found by one activity."""

    activity_id: str
    category: DeviceCategory
    device_type: str
    quantity: int
    fuze: str
    depth_cm: float | None
    disposal: Disposal | None
    disposal_date: dt.date | None
    below_required_depth: bool


@dataclass(frozen=True, slots=True)
class Signatory:
    """Who signed what, on whose behalf, and when."""

    role: str  # "accepted by" or "handed over by" / "received by"
    name: str
    on_behalf_of: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class HandoverCertificate:
    """The completion report / handover certificate of one released (or handed-over) hazard area."""

    hazard_id: str
    name: str
    hazard_class: HazardClass
    state: ReleaseState
    area_m2: float  # the perimeter with its extensions
    cancelled_m2: float
    reduced_m2: float
    cleared_m2: float
    reopened_m2: float
    extended_m2: float
    benchmark: Point | None
    turning_points: tuple[Point, ...]
    marking: Marking
    methods: tuple[str, ...]  # e.g. "clearance (manual) by HALO"
    required_depth_cm: float
    reported_depths_cm: tuple[float, ...]
    devices: tuple[DeviceLine, ...]
    inspections: tuple[str, ...]  # one line per inspection
    signatories: tuple[Signatory, ...]
    residual_risk: str
    released_on: dt.datetime

    @property
    def devices_total(self) -> int:
        return sum(d.quantity for d in self.devices)


def completion_record(hazard: HazardArea, record: LandRelease, *,
                      organisations: Mapping[str, str] | None = None) -> HandoverCertificate:
    """The certificate of ``hazard`` from its land-release ``record``; refused unless the area is released."""
    what = msg("hazard area {id}", id=hazard.id)
    if record.state not in (ReleaseState.RELEASED, ReleaseState.HANDED_OVER):
        raise ValidationError(what, [Fault(what, msg("is {value}: only released land has a completion report "
                                                     "and handover certificate", value=record.state.value))])
    names = organisations or {}
    acts = list(record.activities.values())
    methods = []
    for a in acts:
        line = a.activity_type.value.upper() + (f" ({a.method.value})" if a.method else "")
        if a.organisation_id:
            line += f" by {names.get(a.organisation_id, a.organisation_id)}"
        if line not in methods:
            methods.append(line)
    devices = tuple(
        DeviceLine(a.id, d.category, d.device_type, d.quantity, d.fuze, d.depth_cm, d.disposal, d.disposal_date,
                   d.below(record.required_depth_cm))
        for a in acts for d in a.devices
    )
    signatories: list[Signatory] = []
    inspections: list[str] = []
    risks: list[str] = []
    released_at = record.history[-1].at
    for e in record.history:
        if e.kind is EventKind.INSPECTED and e.inspection is not None:
            i = e.inspection
            said = dict(id=i.id, date=str(i.date), org=i.organisation, m2=f"{i.sample_m2:,.0f}",
                        plan=f", {i.plan}" if i.plan else "")
            inspections.append(msg("{id} ({date}) by {org}: sample {m2} m²{plan}: passed", **said) if i.passed else
                               msg("{id} ({date}) by {org}: sample {m2} m²{plan}: failed ({finding})",
                                   finding=i.finding, **said))
        elif e.to_state is ReleaseState.RELEASED and e.from_state is not ReleaseState.RELEASED:
            # an accepted event, or a legacy one (released before acceptance was its own step)
            authority = e.authority or "(implied: released before acceptance was recorded)"
            signatories.append(Signatory("accepted by", e.actor, authority, e.at))
            released_at = e.at
        elif e.kind is EventKind.HANDED_OVER:
            signatories.append(Signatory("handed over by", e.actor, "", e.at))
            signatories.append(Signatory("received by", e.recipient, "", e.at))
        elif e.kind is EventKind.REOPENED:
            risks.append(f"{e.at.date()}: {e.residual_risk}")
    residual = STANDARD_RESIDUAL_RISK + ("" if not risks else " Earlier finds: " + " ".join(risks))
    return HandoverCertificate(
        hazard_id=hazard.id,
        name=hazard.name,
        hazard_class=record.hazard_class,
        state=record.state,
        area_m2=record.original_m2 + record.extended_m2,
        cancelled_m2=record.cancelled_m2,
        reduced_m2=record.reduced_m2,
        cleared_m2=record.cleared_m2,
        reopened_m2=record.reopened_m2,
        extended_m2=record.extended_m2,
        benchmark=hazard.benchmark,
        turning_points=hazard.turning_points,
        marking=hazard.marking,
        methods=tuple(methods),
        required_depth_cm=record.required_depth_cm,
        reported_depths_cm=tuple(sorted({a.clearance_depth_cm for a in acts if a.clearance_depth_cm is not None})),
        devices=devices,
        inspections=tuple(inspections),
        signatories=tuple(signatories),
        residual_risk=residual,
        released_on=released_at,
    )
