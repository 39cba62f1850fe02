"""What land release and reconstruction cost: a programme's pricing profile.

Programmes are funded in money, not deminer-days; Ukraine's deputy economy minister asked publicly for a transparent
pricing model beside the priority model (DOMAIN.md). A :class:`PricingProfile` prices:

- **land release** per activity: non-technical survey (NTS) and EOD spot tasks per task (one per hazard area),
  technical survey (TS) and each clearance method (manual, dog, mechanical, BAC) per m² or per team-day (a team-day
  rate includes the team's equipment); either basis for any activity;
- **reconstruction** per asset type and damage level: roads and power lines per km, bridges per metre, substations,
  water facilities, schools, clinics and houses per unit;
- **overheads** (quality assurance, management, medical cover) as shares of the direct cost of demining,
  reconstruction or both.

Every price carries its ``source``: a DOMAIN.md figure (e.g. "DOMAIN.md cost: US$2–39 per m² cleared, often about
US$10") or the word "assumption" and why (a test refuses any other). The currency and the year prices are
expressed in are stated once per profile. The shipped default profile is ``sapper/io/data/pricing.toml``
(``sapper.io.pricing``); a programme passes its own with ``--pricing FILE``.

Pure arithmetic: no I/O. Costs are direct unless a function says it adds overheads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from sapper.domain.assets import Asset, AssetType, DamageLevel
from sapper.errors import Fault, ValidationError
from sapper.messages import msg


class ReleaseActivity(StrEnum):
    """A land-release activity that has a price: survey, EOD spot task, or a clearance method (IMAS 07.11)."""

    NTS = "nts"
    TS = "ts"
    EOD = "eod"
    MANUAL = "manual"
    DOG = "dog"
    MECHANICAL = "mechanical"
    BAC = "bac"


#: The clearance methods among the activities, in the order the planner knows them.
CLEARANCE_ACTIVITIES = (ReleaseActivity.MANUAL, ReleaseActivity.DOG, ReleaseActivity.MECHANICAL, ReleaseActivity.BAC)


class Basis(StrEnum):
    """What a land-release price is per: a square metre, a team-day (team and equipment), or one task (an area)."""

    M2 = "m2"
    TEAM_DAY = "team_day"
    TASK = "task"


class Family(StrEnum):
    """The two kinds of spending a programme budgets for separately."""

    DEMINING = "demining"
    RECONSTRUCTION = "reconstruction"


class AssetUnit(StrEnum):
    """What a reconstruction price is per: a kilometre (roads, power lines), a metre (bridges), or one unit."""

    KM = "km"
    M = "m"
    UNIT = "unit"


#: How each asset type is priced (the issue: road per km, bridge per m, power line per km, the rest per unit).
ASSET_UNITS: dict[AssetType, AssetUnit] = {
    AssetType.ROAD: AssetUnit.KM,
    AssetType.BRIDGE: AssetUnit.M,
    AssetType.POWER_LINE: AssetUnit.KM,
    AssetType.SUBSTATION: AssetUnit.UNIT,
    AssetType.WATER: AssetUnit.UNIT,
    AssetType.SCHOOL: AssetUnit.UNIT,
    AssetType.CLINIC: AssetUnit.UNIT,
    AssetType.HOUSE: AssetUnit.UNIT,
}

_GEOD = Geod(ellps="WGS84")


def source_faults(record: str, source: str) -> list[Fault]:
    """A fault unless ``source`` names a DOMAIN.md figure ("DOMAIN.md …") or says it is an assumption
    ("assumption" or "assumption: why")."""
    text = source.strip()
    if text == "assumption" or text.startswith("assumption:") or text.startswith("DOMAIN.md"):
        return []
    return [
        Fault(
            record, msg("source must cite a DOMAIN.md figure ('DOMAIN.md …') or say 'assumption', got "
                        "{source!r}", source=source), "source"
        )
    ]


@dataclass(frozen=True, slots=True)
class ReleasePrice:
    """The price of one land-release activity: ``amount`` per ``basis``, with its source."""

    activity: ReleaseActivity
    basis: Basis
    amount: float
    source: str

    def __post_init__(self) -> None:
        record = msg("price of {value}", value=self.activity.value)
        faults = source_faults(record, self.source)
        if not self.amount >= 0:
            faults.append(Fault(record, msg("amount cannot be negative, got {amount}", amount=self.amount), "amount"))
        if self.basis is Basis.TASK and self.activity not in (ReleaseActivity.NTS, ReleaseActivity.EOD):
            faults.append(
                Fault(
                    record,
                    msg("only NTS and EOD spot tasks are priced per task (one per area); price it per m2 or "
                        "team_day"),
                    "basis",
                )
            )
        ValidationError.raise_if(record, faults)

    def cost(self, *, m2: float, team_days: float, tasks: float = 1.0) -> float:
        """Direct cost of doing ``m2`` in ``team_days`` (``tasks``: the share of the task, for a per-task price)."""
        if self.basis is Basis.M2:
            return self.amount * m2
        if self.basis is Basis.TEAM_DAY:
            return self.amount * team_days
        return self.amount * tasks


@dataclass(frozen=True, slots=True)
class AssetPrice:
    """The price of restoring one asset type, per ``unit``, at each damage level, with its source."""

    asset_type: AssetType
    unit: AssetUnit
    by_damage: Mapping[DamageLevel, float]
    source: str

    def __post_init__(self) -> None:
        record = msg("price of {value}", value=self.asset_type.value)
        faults = source_faults(record, self.source)
        if self.unit is not ASSET_UNITS[self.asset_type]:
            faults.append(
                Fault(
                    record,
                    msg("a {value} is priced per {value2}, got {value3}", value=self.asset_type.value,
                        value2=ASSET_UNITS[self.asset_type], value3=self.unit.value),
                    "unit",
                )
            )
        missing = [d.value for d in DamageLevel if d not in self.by_damage]
        if missing:
            faults.append(Fault(record, msg("no price for damage {value}", value=', '.join(missing)), "by_damage"))
        faults.extend(
            Fault(record, msg("price at {d} cannot be negative, got {v}", d=d, v=v), "by_damage")
            for d, v in self.by_damage.items()
            if not v >= 0
        )
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class Overhead:
    """A share added to direct costs (QA, management, medical cover) of ``applies_to`` families, with its source."""

    name: str
    share: float
    applies_to: tuple[Family, ...]
    source: str

    def __post_init__(self) -> None:
        record = msg("overhead {name}", name=self.name)
        faults = source_faults(record, self.source)
        if not 0.0 <= self.share <= 1.0:
            faults.append(Fault(record, msg("share must be in [0, 1], got {share}", share=self.share), "share"))
        if not self.applies_to:
            faults.append(Fault(record, msg("applies to nothing: name demining, reconstruction or both"), "applies_to"))
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class Figure:
    """A number with its unit and source (a profile's own parameters, e.g. the default bridge length)."""

    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class PricingProfile:
    """A programme's prices (module docstring). Construction checks every price and reports every fault at once."""

    name: str
    currency: str
    price_year: int
    release: Mapping[ReleaseActivity, ReleasePrice]
    reconstruction: Mapping[AssetType, AssetPrice]
    overheads: tuple[Overhead, ...] = ()
    #: Length of a bridge whose register geometry is a point (its length is not known), in metres.
    bridge_length_m: Figure = field(default_factory=lambda: Figure(30.0, "m", "assumption"))
    currency_source: str = "DOMAIN.md cost: figures in US$"
    price_year_source: str = "assumption"

    def __post_init__(self) -> None:
        record = msg("pricing profile {name}", name=self.name)
        faults: list[Fault] = []
        if len(self.currency.strip()) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            faults.append(
                Fault(record, msg("currency must be an ISO 4217 code such as USD, got {currency!r}",
                                  currency=self.currency), "currency")
            )
        if not 1990 <= self.price_year <= 2100:
            faults.append(Fault(record, msg("price year must be a year, got {price_year}",
                                            price_year=self.price_year), "price_year"))
        faults.extend(
            Fault(record, msg("no price for {value}", value=a.value), "release")
            for a in ReleaseActivity if a not in self.release
        )
        faults.extend(
            Fault(record, msg("the price listed under {value} is for {value2}", value=a.value,
                              value2=p.activity.value), "release")
            for a, p in self.release.items()
            if p.activity is not a
        )
        faults.extend(
            Fault(record, msg("no price for {value}", value=t.value), "reconstruction")
            for t in AssetType
            if t not in self.reconstruction
        )
        faults.extend(
            Fault(record, msg("the price listed under {value} is for {value2}", value=t.value,
                              value2=p.asset_type.value), "reconstruction")
            for t, p in self.reconstruction.items()
            if p.asset_type is not t
        )
        if not self.bridge_length_m.value > 0:
            faults.append(Fault(record, msg("bridge length must be positive (m)"), "bridge_length_m"))
        faults.extend(source_faults(f"{record}: bridge length", self.bridge_length_m.source))
        faults.extend(source_faults(f"{record}: currency", self.currency_source))
        faults.extend(source_faults(f"{record}: price year", self.price_year_source))
        names = [o.name for o in self.overheads]
        faults.extend(
            Fault(record, msg("overhead {count} is listed twice", count=n), "overheads")
            for n in sorted({n for n in names if names.count(n) > 1})
        )
        ValidationError.raise_if(record, faults)

    def overhead_share(self, family: Family) -> float:
        """The sum of the overhead shares that apply to ``family``."""
        return sum(o.share for o in self.overheads if family in o.applies_to)

    def with_overheads(self, direct: float, family: Family) -> float:
        """``direct`` cost of ``family`` plus its overheads."""
        return direct * (1.0 + self.overhead_share(family))

    def release_cost(self, activity: ReleaseActivity, *, m2: float, team_days: float, tasks: float = 1.0) -> float:
        """Direct cost of ``activity`` over ``m2`` taking ``team_days`` (``tasks``: share of a per-task price)."""
        return self.release[activity].cost(m2=m2, team_days=team_days, tasks=tasks)

    def asset_quantity(self, asset: Asset) -> float:
        """How many price units ``asset`` is: its geodesic length in km (roads, power lines), in m (bridges; a
        bridge drawn as a point has ``bridge_length_m``), else 1."""
        unit = ASSET_UNITS[asset.asset_type]
        if unit is AssetUnit.UNIT:
            return 1.0
        length_m = line_length_m(asset.geometry)
        if unit is AssetUnit.M and length_m <= 0:
            return self.bridge_length_m.value
        return length_m / 1000.0 if unit is AssetUnit.KM else length_m

    def asset_cost(self, asset: Asset) -> float:
        """Direct cost of restoring ``asset``: its price per unit at its damage level × its quantity."""
        price = self.reconstruction[asset.asset_type]
        return price.by_damage[asset.damage] * self.asset_quantity(asset)


def line_length_m(geom: BaseGeometry) -> float:
    """Geodesic length (m) of the lines of a WGS84 geometry; 0 for points and polygons."""
    if geom.geom_type not in ("LineString", "MultiLineString"):
        return 0.0
    return float(_GEOD.geometry_length(geom))
