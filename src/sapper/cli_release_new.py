"""The land-release commands of issue 18: inspection, acceptance, reopening, extension, certificate, rules.

``register(release_app)`` adds them to the existing ``sapper release`` group. (This module stands apart while the
command-line module is being split into a package; it moves into that package when merged.) Each command parses
its options, calls one function of :mod:`sapper.services.landrelease` and prints the typed result; errors are
sapper errors, which the entry point turns into one line and an exit code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from sapper.errors import Fault, ValidationError

out = Console(soft_wrap=True)

Db = Annotated[Path, typer.Option("--db", help="The store: a SQLite file that is also a GeoPackage.")]
HazardId = Annotated[str, typer.Argument(help="The hazard area's id.")]
Actor = Annotated[str, typer.Option("--actor", help="Who makes the change (a name or id); kept in the history.")]
Reason = Annotated[str, typer.Option("--reason", help="Why the change is made; kept in the history.")]
At = Annotated[
    str | None, typer.Option("--at", help="When it happened: ISO 8601 with a time zone. Default: now (UTC).")
]
AreaFile = Annotated[Path, typer.Option("--area", help="Vector file of the area (polygons; WGS84 or its own CRS).")]
Crs = Annotated[str | None, typer.Option("--crs", help="CRS of an area file that carries none (e.g. EPSG:32637).")]


def _when(at: str | None) -> dt.datetime | None:
    if at is None:
        return None
    try:
        return dt.datetime.fromisoformat(at)
    except ValueError:
        raise ValidationError("--at", [Fault("--at", f"{at!r} is not an ISO 8601 time such as "
                                                   "2025-07-01T09:30:00Z")]) from None


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(option, [Fault(option, f"{value!r} is not a date YYYY-MM-DD")]) from None


def _area(path: Path, crs: str | None) -> Any:
    from sapper.io.vector import read_outline

    geometry, repaired = read_outline(path, crs=crs)
    for issue in repaired:
        out.print(f"{path}: feature {issue.index} repaired ({issue.reason})", markup=False, highlight=False)
    return geometry


def _print(done: Any) -> None:
    for line in done.lines():
        out.print(line, markup=False, highlight=False)


def register(release_app: typer.Typer) -> None:
    """Add the inspection, acceptance, reopening, extension, certificate and rules commands to ``release_app``."""

    @release_app.command("inspect")
    def release_inspect(
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
        crs: Crs = None,
        at: At = None,
    ) -> None:
        """Record a post-clearance inspection (IMAS 09.20); a failed one reopens its failed area."""
        from sapper.domain.landrelease import Inspection
        from sapper.services.landrelease import inspect

        area = _area(failed_area, crs) if failed_area is not None else None
        inspection = Inspection(inspection_id, _day(date, "--date"), sample_m2, passed, organisation, plan=plan,
                                finding=finding, failed_area=area, devices_found=devices)
        _print(inspect(db, hazard_id, inspection, actor=actor, reason=reason, at=_when(at)))

    @release_app.command("accept")
    def release_accept(
        hazard_id: HazardId,
        db: Db,
        authority: Annotated[str, typer.Option("--authority", help="The accepting authority (e.g. the NMAA).")],
        actor: Actor,
        reason: Reason,
        at: At = None,
    ) -> None:
        """The authority accepts the processed land as released (after a passed inspection where land was reduced
        or cleared, with nothing left and no critical non-conformity open)."""
        from sapper.services.landrelease import accept

        _print(accept(db, hazard_id, authority=authority, actor=actor, reason=reason, at=_when(at)))

    @release_app.command("reopen")
    def release_reopen(
        hazard_id: HazardId,
        db: Db,
        area: AreaFile,
        residual_risk: Annotated[str, typer.Option("--residual-risk", help="The residual-risk statement.")],
        actor: Actor,
        reason: Reason,
        evidence: Annotated[str, typer.Option(
            "--evidence", help="The device or other direct evidence found (makes an SHA a CHA).")] = "",
        crs: Crs = None,
        at: At = None,
    ) -> None:
        """Reopen the processed or released land within an area (a device found later; IMAS 07.14)."""
        from sapper.services.landrelease import reopen

        _print(reopen(db, hazard_id, _area(area, crs), residual_risk=residual_risk, evidence=evidence, actor=actor,
                      reason=reason, at=_when(at)))

    @release_app.command("extend")
    def release_extend(hazard_id: HazardId, db: Db, area: AreaFile, actor: Actor, reason: Reason, crs: Crs = None,
                       at: At = None) -> None:
        """Extend the perimeter of an open area by an area (land beyond it found hazardous or to be processed)."""
        from sapper.services.landrelease import extend

        _print(extend(db, hazard_id, _area(area, crs), actor=actor, reason=reason, at=_when(at)))

    @release_app.command("certificate")
    def release_certificate(
        hazard_id: HazardId,
        db: Db,
        html: Annotated[Path | None, typer.Option("--html", help="Write the certificate as an HTML page here.")
                        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """The completion report and handover certificate of a released area, from its history."""
        from sapper.report.certificate import write_certificate
        from sapper.services.landrelease import certificate

        cert = certificate(db, hazard_id)
        if html is not None:
            write_certificate(cert, html)
            out.print(f"wrote {html}", markup=False, highlight=False)
        if as_json:
            print(json.dumps(_certificate_json(cert), indent=1, ensure_ascii=False))
        elif html is None:
            for line in _certificate_lines(cert):
                out.print(line, markup=False, highlight=False)

    @release_app.command("rules")
    def release_rules(
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
            "--inspection-lag-days", help="Days planned for inspection and handover before building.")] = None,
    ) -> None:
        """Show the programme's land-release settings; with options, change them (for events from now on)."""
        from sapper.services.landrelease import rules, set_rules

        current = rules(db)
        changed = dataclasses.replace(
            current,
            residual_area_m2=current.residual_area_m2 if residual_area_m2 is None else residual_area_m2,
            residual_width_m=current.residual_width_m if residual_width_m is None else residual_width_m,
            nts_may_cancel_in_cha=(current.nts_may_cancel_in_cha if nts_may_cancel_in_cha is None
                                   else nts_may_cancel_in_cha),
            clearance_depth_cm=current.clearance_depth_cm if depth_cm is None else depth_cm,
            inspection_lag_days=current.inspection_lag_days if lag_days is None else lag_days,
        )
        if changed != current:
            current = set_rules(db, changed)
        for f in dataclasses.fields(current):
            out.print(f"{f.name} = {getattr(current, f.name)}", markup=False, highlight=False)


def _certificate_lines(cert: Any) -> list[str]:
    lines = [
        f"hazard area {cert.hazard_id} ({cert.hazard_class.value}, {cert.state.value}): {cert.area_m2:,.0f} m² "
        f"(cancelled {cert.cancelled_m2:,.0f}, reduced {cert.reduced_m2:,.0f}, cleared {cert.cleared_m2:,.0f}); "
        f"released {cert.released_on.date()}",
        "benchmark: " + (f"{cert.benchmark.y:.6f} N {cert.benchmark.x:.6f} E" if cert.benchmark is not None
                         else "not recorded") + f"; {len(cert.turning_points)} turning point(s); marking "
        f"{cert.marking.value}",
        "method: " + ("; ".join(cert.methods) or "none"),
        f"depth: required {cert.required_depth_cm:g} cm; reported "
        + (", ".join(f"{d:g} cm" for d in cert.reported_depths_cm) or "none"),
        f"devices: {cert.devices_total}",
    ]
    lines += [f"  {d.quantity} × {d.category.value} {d.device_type} by {d.activity_id}"
              + (f", {d.disposal.value}" if d.disposal else "")
              + (" (FLAG: below the required depth)" if d.below_required_depth else "") for d in cert.devices]
    lines += [f"inspection {i}" for i in cert.inspections]
    lines += [f"{s.role}: {s.name}" + (f" for {s.on_behalf_of}" if s.on_behalf_of else "") + f" ({s.at.date()})"
              for s in cert.signatories]
    lines.append(f"residual risk: {cert.residual_risk}")
    return lines


def _certificate_json(cert: Any) -> dict[str, Any]:
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
