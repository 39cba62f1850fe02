"""Programme settings of land release: the choices IMAS leaves to the national mine-action authority.

IMAS sets the principles; each national authority (NMAA) sets the figures in its national standards. sapper keeps
those figures in one frozen :class:`ReleaseRules` with documented defaults (docs/land-release.md, "Programme
settings"), passed to :class:`~sapper.domain.landrelease.LandRelease` and to planning. Changing a setting applies
to the events recorded after it; a stored history is replayed with the rules it is read with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from shapely.geometry.base import BaseGeometry

from sapper.domain.hazards import DeviceCategory, LandUse
from sapper.errors import Fault, ValidationError
from sapper.messages import msg

#: Where dogs are not sent by default (IMAS 09.40/09.41 leave the conditions to the national authority and the
#: operator's accredited procedures): areas with tripwires or booby traps (a dog can set one off) and areas with
#: cluster submunitions (ground saturated with explosive residue masks the scent the dog works on). Assumption, a
#: programme setting (``ReleaseRules.dog_excluded_devices``; the compiler's default too).
DOG_EXCLUDED_DEVICES = frozenset({DeviceCategory.IED, DeviceCategory.CLUSTER})

E = TypeVar("E", DeviceCategory, LandUse)


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

    ``inspection_lag_working_days``: working days (of the plan's calendar, as planning counts) planned between the
    end of clearance and the area's release milestone, for post-clearance inspection (IMAS 09.20), acceptance and
    handover (IMAS 08.30): 12, i.e. 14 calendar days of a six-day week. Assumption, a parameter. (Stores written
    before this setting kept ``inspection_lag_days`` in calendar days; it is read as ``round(days * 6 / 7)``.)

    ``dog_excluded_devices``, ``dog_excluded_land_uses``, ``dog_excluded_hazards``: planning sends no mine
    detection dogs to areas listing any of these device categories, of these land uses, or with these hazard ids
    (IMAS 09.40/09.41 leave the conditions to the national authority). Default: areas with IEDs/booby traps (a dog
    can set off a tripwire) or cluster submunitions (explosive residue masks the scent); no land use; no area.
    """

    residual_area_m2: float = 1.0
    residual_width_m: float = 0.05
    nts_may_cancel_in_cha: bool = False
    clearance_depth_cm: float = 13.0
    inspection_lag_working_days: int = 12
    dog_excluded_devices: frozenset[DeviceCategory] = DOG_EXCLUDED_DEVICES
    dog_excluded_land_uses: frozenset[LandUse] = frozenset()
    dog_excluded_hazards: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        record = msg("release rules")
        faults = []
        if not self.residual_area_m2 >= 0:
            faults.append(Fault(record, msg("residual area must be ≥ 0 m²"), "residual_area_m2"))
        if not self.residual_width_m >= 0:
            faults.append(Fault(record, msg("residual width must be ≥ 0 m"), "residual_width_m"))
        if not self.clearance_depth_cm > 0:
            faults.append(Fault(record, msg("clearance depth must be positive (cm)"), "clearance_depth_cm"))
        if self.inspection_lag_working_days < 0:
            faults.append(Fault(record, msg("inspection lag cannot be negative (working days)"),
                                "inspection_lag_working_days"))
        faults += [Fault(record, msg("{v!r} is not a device category ({value})", v=v,
                                     value=', '.join(m.value for m in DeviceCategory)),
                         "dog_excluded_devices")
                   for v in self.dog_excluded_devices if not isinstance(v, DeviceCategory)]
        faults += [Fault(record, msg("{v!r} is not a land use ({value})", v=v,
                                     value=', '.join(m.value for m in LandUse)),
                         "dog_excluded_land_uses")
                   for v in self.dog_excluded_land_uses if not isinstance(v, LandUse)]
        faults += [Fault(record, msg("{v!r} is not a hazard area id (empty, or with a comma or spaces around "
                                     "it)", v=v),
                         "dog_excluded_hazards") for v in self.dog_excluded_hazards
                   if not isinstance(v, str) or not v or "," in v or v != v.strip()]
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
            return msg("{m2} m² is still hazardous (programme threshold {threshold} m²)", m2=f"{area:,.1f}",
                       threshold=f"{self.residual_area_m2:g}")
        return msg("{m2} m² is still hazardous and part of it is wider than {width} m (programme sliver width)",
                   m2=f"{area:,.2f}", width=f"{self.residual_width_m:g}")


def parse_list(key: str, text: str) -> frozenset[str]:
    """The values of a comma-separated setting (``"ied_booby_trap, cluster_submunition"``); "" is none."""
    return frozenset(v.strip() for v in text.split(",") if v.strip())


def devices_of(text: str, record: str = "release rules") -> frozenset[DeviceCategory]:
    """Device categories from a comma-separated list; ValidationError naming the first value that is not one."""
    return _enums(DeviceCategory, "dog_excluded_devices", text, record)


def land_uses_of(text: str, record: str = "release rules") -> frozenset[LandUse]:
    """Land uses from a comma-separated list; ValidationError naming the first value that is not one."""
    return _enums(LandUse, "dog_excluded_land_uses", text, record)


def _enums(cls: type[E], key: str, text: str, record: str) -> frozenset[E]:
    out = []
    for v in sorted(parse_list(key, text)):
        try:
            out.append(cls(v))
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise ValidationError(record, [Fault(record, msg("{key}: {v!r} is not one of {allowed}", key=key, v=v,
                                                             allowed=allowed), key)]) from None
    return frozenset(out)


def list_text(values: frozenset[DeviceCategory] | frozenset[LandUse] | frozenset[str]) -> str:
    """A list setting as stored and shown: its values sorted, comma-separated ("" for none)."""
    return ",".join(sorted(str(v) for v in values))
