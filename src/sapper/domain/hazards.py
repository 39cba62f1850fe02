"""Hazardous areas (SHA/CHA) as the register keeps them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sapper.domain.geometry import area_m2, in_wgs84_range, is_valid
from sapper.errors import Fault, ValidationError
from sapper.messages import msg


class HazardClass(StrEnum):
    """IMAS 08.10: suspected (indirect evidence) or confirmed (direct evidence) hazardous area."""

    SHA = "SHA"
    CHA = "CHA"


class HazardStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # all land released
    HANDED_OVER = "handed_over"  # released land formally handed to its users


class DeviceCategory(StrEnum):
    AP_MINE = "ap_mine"
    AT_MINE = "at_mine"
    ERW_UXO = "erw_uxo"  # ERW: unexploded ordnance (fired, dropped or thrown, failed to function)
    ERW_AXO = "erw_axo"  # ERW: abandoned explosive ordnance (CCW Protocol V)
    SMALL_ARMS = "small_arms_ammunition"  # ERW: small-arms ammunition
    CLUSTER = "cluster_submunition"
    IED = "ied_booby_trap"
    UNKNOWN = "unknown"  # not identified


#: Device categories that are mines (AP, AT): an area with only other categories is ERW-only (BAC/EOD work).
MINE_CATEGORIES = frozenset({DeviceCategory.AP_MINE, DeviceCategory.AT_MINE})


class Marking(StrEnum):
    """Marking and fencing of a hazard area on the ground (IMAS 08.40)."""

    UNKNOWN = "unknown"
    NONE = "none"
    TEMPORARY = "temporary"  # temporary marking (signs, tape)
    PERMANENT = "permanent"  # permanent marking
    FENCED = "fenced"  # fenced


class Evidence(StrEnum):
    DIRECT = "direct"
    INDIRECT = "indirect"


class LandUse(StrEnum):
    AGRICULTURAL = "agricultural"
    FOREST = "forest"
    RESIDENTIAL = "residential"
    INFRASTRUCTURE = "infrastructure"
    WETLAND = "wetland"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Beneficiaries:
    """People who benefit from the release of an area, by sex and age (SADD), direct and indirect (IMAS 05.10).

    Direct beneficiaries use the released land themselves; indirect ones benefit through them (a village whose road
    reopens). Girls and boys are under 18.
    """

    direct_women: int = 0
    direct_men: int = 0
    direct_girls: int = 0
    direct_boys: int = 0
    indirect_women: int = 0
    indirect_men: int = 0
    indirect_girls: int = 0
    indirect_boys: int = 0

    def __post_init__(self) -> None:
        faults = [Fault(msg("beneficiaries"), msg("{value} cannot be negative", value=name.replace('_', ' ')), name)
                  for name in BENEFICIARY_GROUPS if getattr(self, name) < 0]
        ValidationError.raise_if(msg("beneficiaries"), faults)

    @property
    def direct(self) -> int:
        return self.direct_women + self.direct_men + self.direct_girls + self.direct_boys

    @property
    def indirect(self) -> int:
        return self.indirect_women + self.indirect_men + self.indirect_girls + self.indirect_boys


#: The eight groups of :class:`Beneficiaries`, in order.
BENEFICIARY_GROUPS = tuple(f"{kind}_{who}" for kind in ("direct", "indirect") for who in ("women", "men", "girls",
                                                                                          "boys"))


#: Share of a hazard's area that survey is expected not to release, so that it needs clearance, by class.
#: No public source gives this per area; defaults follow the BiH split of release reported for 2016 (46.9 km²
#: cancelled, 10.4 km² reduced, 1.3 km² cleared: survey released ~98 %; Landmine Monitor 2017 notes the cancellation
#: figure may cover three years) and in all of 2017 (5.23 km²: 2.45 cancelled, 2.48 reduced, 0.30 cleared, survey
#: ~94 %; Landmine Monitor 2018), made larger for confirmed areas. Assumption.
DEFAULT_CLEARANCE_SHARE: dict[HazardClass, float] = {HazardClass.SHA: 0.05, HazardClass.CHA: 0.35}

#: Prior chance that an area holds devices, by class, when the register has too few recorded outcomes to fit the
#: contamination model (sapper.likelihood). A CHA rests on direct evidence (IMAS 08.10), yet survey may still find
#: nothing where the evidence was a single item removed; an SHA rests on indirect evidence, and survey cancels most
#: suspected land (BiH 2016: 46.9 of 58.6 km² released by cancellation, DOMAIN.md). Assumption (docs/likelihood.md).
PRIOR_CONTAMINATION: dict[HazardClass, float] = {HazardClass.SHA: 0.3, HazardClass.CHA: 0.85}


@dataclass(frozen=True, slots=True)
class HazardArea:
    """A suspected or confirmed hazardous area: its perimeter (WGS84) and what is known of it.

    ``expected_clearance_share`` is the planning estimate of the share that survey will not release (0–1).
    ``clearance_depth_cm`` overrides the programme's required clearance depth for this area (IMAS 09.10).
    ``benchmark`` is the fixed point outside the area from which its ``turning_points`` (the perimeter's corners,
    in order) are measured (IMAS 08.30/08.40, the minefield record); ``marking`` its marking or fencing.
    """

    id: str
    hazard_class: HazardClass
    geometry: BaseGeometry
    evidence: Evidence
    device_categories: frozenset[DeviceCategory] = field(default_factory=frozenset)
    land_use: LandUse = LandUse.OTHER
    status: HazardStatus = HazardStatus.OPEN
    beneficiaries: int = 0
    organisation_id: str | None = None
    name: str = ""
    expected_clearance_share: float | None = None
    synthetic: bool = False
    clearance_depth_cm: float | None = None
    benchmark: Point | None = None
    turning_points: tuple[Point, ...] = ()
    marking: Marking = Marking.UNKNOWN
    #: Beneficiaries of the land's release by sex and age (GICHD MDR "Beneficiaries of land release SADD"), when
    #: known; ``beneficiaries`` stays the total sapper plans with.
    beneficiaries_sadd: Beneficiaries | None = None
    #: The record's identifier in IMSMA Core (``hazard_poly_145``) and its links to IMSMA records sapper does not
    #: keep (accidents, victims, …), kept so they travel back; metadata, not part of the value.
    imsma_id: str = field(default="", compare=False)
    imsma_links: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        ValidationError.raise_if(msg("hazard area {id}", id=self.id), self.faults())

    def faults(self) -> list[Fault]:
        record = msg("hazard area {id}", id=self.id)
        faults: list[Fault] = []
        if not self.id.strip():
            faults.append(Fault(msg("hazard area"), msg("id is empty"), "id"))
        if not isinstance(self.geometry, Polygon | MultiPolygon):
            faults.append(Fault(record, msg("geometry must be a polygon, got {geom_type}",
                                            geom_type=self.geometry.geom_type), "geometry"))
        elif self.geometry.is_empty:
            faults.append(Fault(record, msg("geometry is empty"), "geometry"))
        elif not is_valid(self.geometry):
            faults.append(Fault(record, msg("geometry is not valid (repair it with make_valid on import)"), "geometry"))
        elif not in_wgs84_range(self.geometry):
            faults.append(Fault(record, msg("coordinates are not WGS84 lon/lat"), "geometry"))
        if self.hazard_class is HazardClass.CHA and self.evidence is not Evidence.DIRECT:
            faults.append(Fault(record, msg("a CHA needs direct evidence (IMAS 08.10)"), "evidence"))
        if self.hazard_class is HazardClass.SHA and self.evidence is Evidence.DIRECT:
            faults.append(Fault(record, msg("direct evidence makes a CHA, not an SHA (IMAS 08.10): record it "
                                            "as a CHA"),
                                "evidence"))
        if self.clearance_depth_cm is not None and not self.clearance_depth_cm > 0:
            faults.append(Fault(record, msg("clearance depth must be positive (cm)"), "clearance_depth_cm"))
        if self.benchmark is not None:
            if not isinstance(self.benchmark, Point) or self.benchmark.is_empty or not in_wgs84_range(self.benchmark):
                faults.append(Fault(record, msg("benchmark must be a WGS84 point"), "benchmark"))
            elif isinstance(self.geometry, Polygon | MultiPolygon) and not self.geometry.disjoint(self.benchmark):
                faults.append(Fault(record, msg("benchmark lies inside the area; it must be a fixed point "
                                                "outside it (IMAS 08.30)"), "benchmark"))
        for i, tp in enumerate(self.turning_points, start=1):
            if not isinstance(tp, Point) or tp.is_empty or not in_wgs84_range(tp):
                faults.append(Fault(record, msg("turning point {i} must be a WGS84 point", i=i), "turning_points"))
        if self.turning_points and self.benchmark is None:
            faults.append(Fault(record, msg("turning points are measured from a benchmark: give the benchmark"),
                                "benchmark"))
        if self.beneficiaries < 0:
            faults.append(Fault(record, msg("beneficiaries cannot be negative"), "beneficiaries"))
        share = self.expected_clearance_share
        if share is not None and not 0.0 <= share <= 1.0:
            faults.append(Fault(record, msg("expected clearance share must be in [0, 1], got {share}", share=share),
                                "share"))
        return faults

    @property
    def area_m2(self) -> float:
        return area_m2(self.geometry)

    @property
    def clearance_share(self) -> float:
        """The expected share needing clearance: the record's own estimate, else the class default."""
        if self.expected_clearance_share is not None:
            return self.expected_clearance_share
        return DEFAULT_CLEARANCE_SHARE[self.hazard_class]


#: HazardArea's fields and their defaults, for :func:`hazards_in_bulk`.
_HAZARD_DEFAULTS: dict[str, object] = {
    f.name: (f.default_factory() if f.default_factory is not MISSING else f.default)
    for f in fields(HazardArea) if f.default is not MISSING or f.default_factory is not MISSING
}


def hazards_in_bulk(columns: Mapping[str, Sequence[object]]) -> list[HazardArea] | None:
    """Hazard areas from their fields column by column (``HazardArea``'s field names; each column as long as the
    others; no benchmark, turning points or clearance depth), the rules of :meth:`HazardArea.faults` checked for all
    of them at once (vectorised, GEOS validity in one call); None when any of them breaks one, so that the caller
    builds them one by one and says which and why.

    One by one, each area checking itself (validity and bounds per geometry) cost a bulk import of 100,000 clean
    areas several times the rest of its reading (cProfile, busy machine). ``tests/domain/test_geometry_bulk.py``
    checks that both ways agree.
    """
    if {"benchmark", "turning_points", "clearance_depth_cm"} & set(columns):
        return None
    n = len(columns["id"])
    if n == 0:
        return []
    geoms = np.empty(n, dtype=object)
    geoms[:] = list(columns["geometry"])
    if shapely.is_missing(geoms).any():
        return None
    if not np.isin(shapely.get_type_id(geoms), (3, 6)).all() or shapely.is_empty(geoms).any():  # (Multi)Polygon
        return None
    with np.errstate(invalid="ignore"):
        bounds = shapely.bounds(geoms)
        in_range = ((bounds[:, 0] >= -180.0) & (bounds[:, 2] <= 180.0) & (bounds[:, 1] >= -90.0)
                    & (bounds[:, 3] <= 90.0))
    if not in_range.all() or not shapely.is_valid(geoms).all():
        return None
    ids = columns["id"]
    if not set(map(type, ids)) <= {str} or not all(map(str.strip, ids)):  # type: ignore[arg-type]
        return None
    pairs = set(zip(columns["hazard_class"], columns["evidence"], strict=True))
    if not pairs <= {(HazardClass.CHA, Evidence.DIRECT), (HazardClass.SHA, Evidence.INDIRECT)}:
        return None
    counts = columns.get("beneficiaries", ())
    if set(map(type, counts)) <= {int}:  # ints (not bools): the least is enough
        if counts and min(counts) < 0:  # type: ignore[type-var, operator]
            return None
    elif any(int(b) < 0 for b in counts):  # type: ignore[call-overload]
        return None
    shares = [s for s in columns.get("expected_clearance_share", ()) if s is not None]
    if any(not 0.0 <= s <= 1.0 for s in shares):  # type: ignore[operator]
        return None
    return _builder(tuple(columns))(*columns.values())


@lru_cache(maxsize=8)
def _builder(names: tuple[str, ...]) -> Callable[..., list[HazardArea]]:
    """A function building hazard areas from the columns ``names`` (in that order), the other fields their
    defaults, without :meth:`HazardArea.__post_init__` (the caller has checked the rules): each field set through
    its slot's descriptor, as ``object.__setattr__`` in the frozen dataclass's own ``__init__`` sets it, written
    out per field as dataclasses writes ``__init__`` (a loop over the fields of each record was a tenth of a bulk
    import's reading)."""
    known = {f.name for f in fields(HazardArea)}
    if not set(names) <= known or len(set(names)) != len(names):
        raise ValueError(f"not fields of a hazard area, or repeated: {', '.join(names)}")
    defaults = {name: value for name, value in _HAZARD_DEFAULTS.items() if name not in names}
    args = [f"c{k}" for k in range(len(names))]
    values = [f"v{k}" for k in range(len(names))]
    body = [
        f"def build({', '.join(args)}):",
        "    out = []",
        "    append = out.append",
        f"    for {', '.join(values)}, in zip({', '.join(args)}, strict=True):",
        "        record = new(cls)",
        *(f"        _s_{name}(record, {value})" for name, value in zip(names, values, strict=True)),
        *(f"        _s_{name}(record, _d_{name})" for name in defaults),
        "        append(record)",
        "    return out",
    ]
    # Each field's slot set through its descriptor, as object.__setattr__ does after looking the descriptor up.
    scope: dict[str, Any] = {"new": object.__new__, "cls": HazardArea,
                             **{f"_s_{f.name}": getattr(HazardArea, f.name).__set__ for f in fields(HazardArea)},
                             **{f"_d_{name}": value for name, value in defaults.items()}}
    exec("\n".join(body), scope)  # the source is built here from HazardArea's own field names
    build: Callable[..., list[HazardArea]] = scope["build"]
    return build
