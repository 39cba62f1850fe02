"""``sapper release …``: the land-release history of a hazard area (IMAS 07.11) and the changes that advance it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from sapper.cli._options import AsJson, Db, parse_at, settings
from sapper.cli._output import language, lines, localise, tr
from sapper.messages import msg, phrases
from sapper.report.i18n import Lang

if TYPE_CHECKING:
    from sapper.services.landrelease import HandoverCertificate
    from sapper.services.register import Store

release_app = typer.Typer(
    no_args_is_help=True,
    help="Land release (IMAS 07.11): history, reclassification, QA, inspection, acceptance, reopening, extension, "
         "handover and its certificate.",
)

HazardId = Annotated[str, typer.Argument(help="The hazard area's id.")]
Actor = Annotated[str, typer.Option("--actor", help="Who makes the change (a name or id); kept in the history.")]
Reason = Annotated[str, typer.Option("--reason", help="Why the change is made; kept in the history.")]
At = Annotated[
    str | None, typer.Option("--at", help="When it happened: ISO 8601 with a time zone. Default: now (UTC).")
]
AreaFile = Annotated[Path, typer.Option("--area", help="Vector file of the area (polygons; WGS84 or its own CRS).")]
AreaCrs = Annotated[str | None, typer.Option("--crs", help="CRS of an area file that carries none (e.g. EPSG:32637).")]


class _Said(Protocol):
    def lines(self) -> list[str]: ...


def _change(ctx: typer.Context, db: str, at: str | None, change: Callable[[Store, dt.datetime | None], _Said]
            ) -> None:
    """Open the store, make the one change at ``--at`` and print what it did."""
    from sapper.services.register import open_register

    when = parse_at(at)
    with open_register(settings(ctx, db=db)) as store:
        lines(change(store, when).lines())


@release_app.command("history")
def release_history(ctx: typer.Context, hazard_id: HazardId, db: Db, as_json: AsJson = False) -> None:
    """The land-release history of a hazard area: its state, its balance and every event."""
    from sapper.services.landrelease import history
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        found = history(store, hazard_id)
    if as_json:
        print(json.dumps(found.to_json(), indent=1, ensure_ascii=False))
    else:
        lines(found.lines())


@release_app.command("record")
def release_record(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    activity_type: Annotated[str, typer.Option("--type", help="nts, ts, clearance, bac or eod.")],
    activity_id: Annotated[str, typer.Option("--id", help="The activity's id (as in the operator's report).")],
    date: Annotated[str, typer.Option("--date", help="The day the activity ended, YYYY-MM-DD.")],
    actor: Actor,
    reason: Reason,
    start: Annotated[str | None, typer.Option("--start", help="The day it began, YYYY-MM-DD. Default: --date.")
                     ] = None,
    organisation: Annotated[str | None, typer.Option("--org", help="The organisation that did it (its id).")] = None,
    method: Annotated[str | None, typer.Option("--method", help="survey, manual, dog or mechanical.")] = None,
    cancelled: Annotated[Path | None, typer.Option("--cancelled", help="Vector file of the land cancelled.")] = None,
    reduced: Annotated[Path | None, typer.Option("--reduced", help="Vector file of the land reduced.")] = None,
    cleared: Annotated[Path | None, typer.Option("--cleared", help="Vector file of the land cleared.")] = None,
    crs: Annotated[str | None, typer.Option("--crs", help="CRS of outcome files that carry none (e.g. EPSG:32637).")
                   ] = None,
    depth: Annotated[float | None, typer.Option("--depth", help="Clearance depth in cm.")] = None,
    at: At = None,
) -> None:
    """Record a completed NTS, TS, clearance, BAC or EOD activity from its report, with the land it cancelled, reduced
    or cleared read from vector files (clipped to the area, and said so)."""
    from sapper.services.landrelease import ActivityReport, record_report

    report = ActivityReport(hazard_id, activity_id, activity_type, date, start=start, organisation_id=organisation,
                            method=method, cancelled=cancelled, reduced=reduced, cleared=cleared, crs=crs,
                            depth_cm=depth)
    _change(ctx, db, at, lambda store, when: record_report(store, report, actor=actor, reason=reason, at=when))


@release_app.command("reclassify")
def release_reclassify(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    evidence: Annotated[str, typer.Option("--evidence", help="The direct evidence (what was found, where).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Reclassify a suspected area (SHA) as confirmed (CHA) on direct evidence."""
    from sapper.services.landrelease import reclassify

    _change(ctx, db, at, lambda store, when: reclassify(store, hazard_id, evidence=evidence, actor=actor,
                                                        reason=reason, at=when))


@release_app.command("close")
def release_close(ctx: typer.Context, hazard_id: HazardId, db: Db, actor: Actor, reason: Reason, at: At = None
                  ) -> None:
    """Release (close) an open area with nothing hazardous left, once no critical non-conformity holds it back."""
    from sapper.services.landrelease import release

    _change(ctx, db, at, lambda store, when: release(store, hazard_id, actor=actor, reason=reason, at=when))


@release_app.command("handover")
def release_handover(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    to: Annotated[str, typer.Option("--to", help="Who receives the land (its users, a community, an authority).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Hand a released area over to its users."""
    from sapper.services.landrelease import hand_over

    _change(ctx, db, at, lambda store, when: hand_over(store, hazard_id, recipient=to, actor=actor, reason=reason,
                                                       at=when))


@release_app.command("qa")
def release_qa(
    ctx: typer.Context,
    activity_id: Annotated[str, typer.Argument(help="The activity the QA visit inspected.")],
    db: Db,
    visit: Annotated[str, typer.Option("--visit", help="The QA visit's id.")],
    actor: Actor,
    reason: Reason,
    nc: Annotated[
        list[str] | None, typer.Option("--nc", help="A non-conformity, SEVERITY:DESCRIPTION; repeat for more.")
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Day of the visit, YYYY-MM-DD. Default: the day of --at.")
                    ] = None,
    inspector: Annotated[str | None, typer.Option("--inspector", help="Id of the inspecting organisation.")] = None,
    at: At = None,
) -> None:
    """Record a QA visit (IMAS 07.12) on an activity, with the non-conformities it found."""
    from sapper.services.landrelease import QAReport, record_qa_report

    report = QAReport(visit, activity_id, tuple(nc or ()), date=date, inspector=inspector)
    _change(ctx, db, at, lambda store, when: record_qa_report(store, report, actor=actor, reason=reason, at=when))


@release_app.command("nc")
def release_nc(
    ctx: typer.Context,
    nc_id: Annotated[str, typer.Argument(help="The non-conformity's id (VISIT-N, as `release qa` names them).")],
    db: Db,
    status: Annotated[str, typer.Option("--status", help="corrected, closed or open (a correction not accepted).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """Move a non-conformity on: open → corrected → closed, or corrected back to open."""
    from sapper.services.landrelease import set_non_conformity

    _change(ctx, db, at, lambda store, when: set_non_conformity(store, nc_id, status, actor=actor, reason=reason,
                                                                at=when))


@release_app.command("inspect")
def release_inspect(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    inspection_id: Annotated[str, typer.Option("--id", help="The inspection's id (as in its report).")],
    date: Annotated[str, typer.Option("--date", help="The day of the inspection, YYYY-MM-DD.")],
    sample_m2: Annotated[float, typer.Option("--sample-m2", help="Area sampled (the sample size), m².")],
    organisation: Annotated[str, typer.Option("--org", help="The inspecting organisation (QA/QC body).")],
    actor: Actor,
    reason: Reason,
    passed: Annotated[bool, typer.Option("--passed/--failed", help="The result of the inspection.")] = True,
    plan: Annotated[str, typer.Option("--plan", help="The sampling plan followed (e.g. ISO 2859-1).")] = "",
    failed_area: Annotated[Path | None, typer.Option(
        "--failed-area", help="Vector file of the lot or lane that failed (needed with --failed).")] = None,
    finding: Annotated[str, typer.Option("--finding", help="What the inspection found (needed with --failed).")
                       ] = "",
    devices: Annotated[int, typer.Option("--devices", help="Devices found in the sample (fails it).")] = 0,
    crs: AreaCrs = None,
    at: At = None,
) -> None:
    """Record a post-clearance inspection (IMAS 09.20); a failed one reopens its failed area."""
    from sapper.services.landrelease import InspectionReport, record_inspection

    report = InspectionReport(inspection_id, date, sample_m2, passed, organisation, plan=plan, finding=finding,
                              failed_area=failed_area, crs=crs, devices_found=devices)
    _change(ctx, db, at, lambda store, when: record_inspection(store, hazard_id, report, actor=actor, reason=reason,
                                                               at=when))


@release_app.command("accept")
def release_accept(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    authority: Annotated[str, typer.Option("--authority", help="The accepting authority (e.g. the NMAA).")],
    actor: Actor,
    reason: Reason,
    at: At = None,
) -> None:
    """The authority accepts the processed land as released (after a passed inspection where land was reduced or
    cleared, with nothing left and no critical non-conformity open)."""
    from sapper.services.landrelease import accept

    _change(ctx, db, at, lambda store, when: accept(store, hazard_id, authority=authority, actor=actor, reason=reason,
                                                    at=when))


@release_app.command("reopen")
def release_reopen(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    area: AreaFile,
    residual_risk: Annotated[str, typer.Option("--residual-risk", help="The residual-risk statement.")],
    actor: Actor,
    reason: Reason,
    evidence: Annotated[str, typer.Option(
        "--evidence", help="The device or other direct evidence found (makes an SHA a CHA).")] = "",
    crs: AreaCrs = None,
    at: At = None,
) -> None:
    """Reopen the processed or released land within an area (a device found later; IMAS 07.14)."""
    from sapper.services.landrelease import reopen_from

    _change(ctx, db, at, lambda store, when: reopen_from(store, hazard_id, area, crs=crs, residual_risk=residual_risk,
                                                         evidence=evidence, actor=actor, reason=reason, at=when))


@release_app.command("extend")
def release_extend(ctx: typer.Context, hazard_id: HazardId, db: Db, area: AreaFile, actor: Actor, reason: Reason,
                   crs: AreaCrs = None, at: At = None) -> None:
    """Extend the perimeter of an open area by an area (land beyond it found hazardous or to be processed)."""
    from sapper.services.landrelease import extend_from

    _change(ctx, db, at, lambda store, when: extend_from(store, hazard_id, area, crs=crs, actor=actor, reason=reason,
                                                         at=when))


@release_app.command("certificate")
def release_certificate(
    ctx: typer.Context,
    hazard_id: HazardId,
    db: Db,
    html: Annotated[Path | None, typer.Option("--html", help="Write the certificate as an HTML page here.")] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the certificate here, as --format says (html or pdf).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="Format of --out: html or pdf (A4, for print).")] = "html",
    lang: Annotated[
        str | None, typer.Option("--lang", envvar="SAPPER_LANG", help="Language of the page: en, uk or ru.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The completion report and handover certificate of a released area, from its history."""
    from sapper.report.certificate import write_certificate
    from sapper.report.i18n import Lang
    from sapper.report.pages import Format
    from sapper.services.landrelease import certificate
    from sapper.services.register import open_register

    language, out_format = Lang.parse(lang), Format.parse(fmt)
    with open_register(settings(ctx, db=db)) as store:
        cert = certificate(store, hazard_id)
    for target, kind in ((html, Format.HTML), (out_file, out_format)):
        if target is not None:
            write_certificate(cert, target, fmt=kind, lang=language)
            lines([tr("wrote {path}", path=target)])
    if as_json:
        print(json.dumps(_certificate_json(cert), indent=1, ensure_ascii=False))
    elif html is None and out_file is None:
        lines(_certificate_lines(cert))


@release_app.command("rules")
def release_rules(
    ctx: typer.Context,
    db: Db,
    residual_area_m2: Annotated[float | None, typer.Option(
        "--residual-area-m2", help="Largest remaining area that may be released (m²).")] = None,
    residual_width_m: Annotated[float | None, typer.Option(
        "--residual-width-m", help="Widest remaining sliver that may be released (m).")] = None,
    nts_may_cancel_in_cha: Annotated[bool | None, typer.Option(
        "--nts-may-cancel-in-cha/--nts-may-not-cancel-in-cha", help="Whether NTS may cancel CHA land.")] = None,
    depth_cm: Annotated[float | None, typer.Option(
        "--clearance-depth-cm", help="Required clearance depth where an area sets none (cm).")] = None,
    lag_days: Annotated[int | None, typer.Option(
        "--inspection-lag-working-days",
        help="Working days planned for inspection, acceptance and handover after clearance.")] = None,
    dog_devices: Annotated[str | None, typer.Option(
        "--dog-excluded-devices", help="Device categories where no dogs are sent, comma-separated (\"\" none).",
    )] = None,
    dog_land_uses: Annotated[str | None, typer.Option(
        "--dog-excluded-land-uses", help="Land uses where no dogs are sent, comma-separated (\"\" none).",
    )] = None,
    dog_hazards: Annotated[str | None, typer.Option(
        "--dog-excluded-hazards", help="Hazard area ids where no dogs are sent, comma-separated (\"\" none).",
    )] = None,
) -> None:
    """Show the programme's land-release settings; with options, change them (for events from now on)."""
    from sapper.services.landrelease import devices_of, land_uses_of, list_text, parse_list, rules, set_rules
    from sapper.services.register import open_register

    devices = None if dog_devices is None else devices_of(dog_devices, "--dog-excluded-devices")
    land_uses = None if dog_land_uses is None else land_uses_of(dog_land_uses, "--dog-excluded-land-uses")
    with open_register(settings(ctx, db=db)) as store:
        current = rules(store)
        changed = dataclasses.replace(
            current,
            residual_area_m2=current.residual_area_m2 if residual_area_m2 is None else residual_area_m2,
            residual_width_m=current.residual_width_m if residual_width_m is None else residual_width_m,
            nts_may_cancel_in_cha=(current.nts_may_cancel_in_cha if nts_may_cancel_in_cha is None
                                   else nts_may_cancel_in_cha),
            clearance_depth_cm=current.clearance_depth_cm if depth_cm is None else depth_cm,
            inspection_lag_working_days=current.inspection_lag_working_days if lag_days is None else lag_days,
            dog_excluded_devices=current.dog_excluded_devices if devices is None else devices,
            dog_excluded_land_uses=current.dog_excluded_land_uses if land_uses is None else land_uses,
            dog_excluded_hazards=(current.dog_excluded_hazards if dog_hazards is None
                                  else parse_list("dog_excluded_hazards", dog_hazards)),
        )
        if changed != current:
            current = set_rules(store, changed)
    if language() is Lang.EN:  # the settings' own names, as the options and the store name them
        lines(f"{f.name} = {list_text(v) if isinstance(v := getattr(current, f.name), frozenset) else v}"
              for f in dataclasses.fields(current))
        return
    for f in dataclasses.fields(current):
        v = getattr(current, f.name)
        shown = v
        if isinstance(v, frozenset):
            shown = list_text(v) or "—"
        elif isinstance(v, bool):
            shown = tr("yes") if v else tr("no")
        lines([tr("{setting} ({key}) = {value}", setting=localise(_RULE_NAMES.get(f.name, f.name)), key=f.name,
                  value=shown)])


#: The land-release settings as ``sapper release rules`` names them in Ukrainian and Russian (their own names, which
#: the options and the store use, follow in brackets).
_RULE_NAMES = {
    "residual_area_m2": msg("largest remaining area that may be released, m²"),
    "residual_width_m": msg("widest remaining sliver that may be released, m"),
    "nts_may_cancel_in_cha": msg("non-technical survey may cancel land in a confirmed hazardous area"),
    "clearance_depth_cm": msg("required clearance depth where an area sets none, cm"),
    "inspection_lag_working_days": msg("working days for inspection, acceptance and handover after clearance"),
    "dog_excluded_devices": msg("device categories where no dogs are sent"),
    "dog_excluded_land_uses": msg("land uses where no dogs are sent"),
    "dog_excluded_hazards": msg("hazard areas where no dogs are sent"),
}


def _risk(text: str) -> str:
    """The residual-risk statement with its standard part in the run's language (the person's words as typed)."""
    from sapper.report.certificate import residual_risk
    from sapper.report.i18n import Lang, Speaker

    return text if language() is Lang.EN else residual_risk(Speaker(language()), text)


def _certificate_lines(cert: HandoverCertificate) -> list[str]:
    bench = (f"{cert.benchmark.y:.6f} N {cert.benchmark.x:.6f} E" if cert.benchmark is not None
             else tr("not recorded"))
    out = [
        tr("hazard area {id} ({cls}, {state}): {m2} m² (cancelled {cancelled}, reduced {reduced}, cleared {cleared}); "
           "released {day}", id=cert.hazard_id, cls=cert.hazard_class.value, state=cert.state.value,
           m2=f"{cert.area_m2:,.0f}", cancelled=f"{cert.cancelled_m2:,.0f}", reduced=f"{cert.reduced_m2:,.0f}",
           cleared=f"{cert.cleared_m2:,.0f}", day=cert.released_on.date()),
        tr("benchmark: {benchmark}; {points} turning point(s); marking {marking}", benchmark=bench,
           points=len(cert.turning_points), marking=cert.marking.value),
        tr("method: {methods}", methods="; ".join(cert.methods) or tr("none")),
        tr("depth: required {required} cm; reported {reported}", required=f"{cert.required_depth_cm:g}",
           reported=", ".join(f"{d:g} cm" for d in cert.reported_depths_cm) or tr("none")),
        tr("devices: {n}", n=cert.devices_total),
    ]
    flag = tr(" (FLAG: below the required depth)")
    out += [tr("  {quantity} × {category} {kind} by {activity}", quantity=d.quantity, category=d.category.value,
               kind=d.device_type, activity=d.activity_id)
            + (f", {d.disposal.value}" if d.disposal else "") + (flag if d.below_required_depth else "")
            for d in cert.devices]
    out += [tr("inspection {what}", what=localise(i)) for i in cert.inspections]
    out += [(tr("{role}: {name} for {on_behalf_of} ({day})", role=localise(phrases(s.role)), name=s.name,
                on_behalf_of=s.on_behalf_of, day=s.at.date()) if s.on_behalf_of else
             tr("{role}: {name} ({day})", role=localise(phrases(s.role)), name=s.name, day=s.at.date()))
            for s in cert.signatories]
    out.append(tr("residual risk: {risk}", risk=_risk(cert.residual_risk)))
    return out


def _certificate_json(cert: HandoverCertificate) -> dict[str, object]:
    return {
        "hazard_id": cert.hazard_id, "hazard_class": cert.hazard_class.value, "state": cert.state.value,
        **{k: round(getattr(cert, k), 1) for k in ("area_m2", "cancelled_m2", "reduced_m2", "cleared_m2",
                                                   "reopened_m2", "extended_m2")},
        "benchmark": None if cert.benchmark is None else [cert.benchmark.x, cert.benchmark.y],
        "turning_points": [[p.x, p.y] for p in cert.turning_points], "marking": cert.marking.value,
        "methods": list(cert.methods), "required_depth_cm": cert.required_depth_cm,
        "reported_depths_cm": list(cert.reported_depths_cm),
        "devices": [{"activity_id": d.activity_id, "category": d.category.value, "device_type": d.device_type,
                     "quantity": d.quantity, "fuze": d.fuze, "depth_cm": d.depth_cm,
                     "disposal": d.disposal.value if d.disposal else None,
                     "disposal_date": d.disposal_date.isoformat() if d.disposal_date else None,
                     "below_required_depth": d.below_required_depth} for d in cert.devices],
        "inspections": list(cert.inspections),
        "signatories": [{"role": s.role, "name": s.name, "on_behalf_of": s.on_behalf_of,
                         "at": s.at.isoformat().replace("+00:00", "Z")} for s in cert.signatories],
        "residual_risk": cert.residual_risk,
    }
