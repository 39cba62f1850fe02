"""Programme settings of land release: the choices IMAS leaves to the national mine-action authority.

IMAS sets the principles; each national authority (NMAA) sets the figures in its national standards. sapper keeps
those figures in one frozen :class:`ReleaseRules` with documented defaults (docs/land-release.md, "Programme
settings"), passed to :class:`~sapper.domain.landrelease.LandRelease` and to planning. Changing a setting applies
to the events recorded after it; a stored history is replayed with the rules it is read with.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from sapper.errors import Fault, ValidationError


@dataclass(frozen=True, slots=True)
class ReleaseRules:
    """The national variations of land release, with sapper's defaults.

    ``residual_area_m2`` and ``residual_width_m``: land may be accepted as released only when what is still
    hazardous has at most this area *and* no part of it is wider than this width (``remaining.buffer(-w/2)`` is
    empty), so a strip left unprocessed is never released as a rounding error. The default width, 5 cm, is narrower
    than the body of the smallest anti-personnel blast mines (about 5.6 cm across): nothing that could hold a mine
    is released unprocessed. (IMAS 07.11: all reasonable effort; the figures are national.)

    ``nts_may_cancel_in_cha``: whether non-technical survey may cancel land in a confirmed area (CHA). IMAS 08.10
    cancels land *without* evidence; some national standards let a re-survey cancel old CHA polygons. Default: no.

    ``clearance_depth_cm``: the required clearance depth where the area sets none (IMAS 09.10 leaves the depth to
    the national authority; 13 cm is a common national figure for anti-personnel mine clearance; assumption).

    ``inspection_lag_days``: calendar days planned between the end of clearance and the start of work on the land,
    for post-clearance inspection (IMAS 09.20), acceptance and handover (IMAS 08.30). Assumption, a parameter.
    """

    residual_area_m2: float = 1.0
    residual_width_m: float = 0.05
    nts_may_cancel_in_cha: bool = False
    clearance_depth_cm: float = 13.0
    inspection_lag_days: int = 14

    def __post_init__(self) -> None:
        record = "release rules"
        faults = []
        if not self.residual_area_m2 >= 0:
            faults.append(Fault(record, "residual area must be ≥ 0 m²", "residual_area_m2"))
        if not self.residual_width_m >= 0:
            faults.append(Fault(record, "residual width must be ≥ 0 m", "residual_width_m"))
        if not self.clearance_depth_cm > 0:
            faults.append(Fault(record, "clearance depth must be positive (cm)", "clearance_depth_cm"))
        if self.inspection_lag_days < 0:
            faults.append(Fault(record, "inspection lag cannot be negative (days)", "inspection_lag_days"))
        ValidationError.raise_if(record, faults)

    def leaves_nothing(self, remaining_local: BaseGeometry) -> bool:
        """True when ``remaining_local`` (metres, equal-area) is small and narrow enough to release."""
        if remaining_local.is_empty:
            return True
        if float(remaining_local.area) > self.residual_area_m2:
            return False
        return bool(remaining_local.buffer(-self.residual_width_m / 2).is_empty)

    def widest_m(self, remaining_local: BaseGeometry) -> str:
        """Says why ``remaining_local`` is not negligible, for error messages."""
        area = float(remaining_local.area)
        if area > self.residual_area_m2:
            return f"{area:,.1f} m² is still hazardous (programme threshold {self.residual_area_m2:g} m²)"
        return (f"{area:,.2f} m² is still hazardous and part of it is wider than {self.residual_width_m:g} m "
                "(programme sliver width)")
