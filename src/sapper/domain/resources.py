"""Organisations, deminer teams and builder brigades."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from shapely.geometry import Point

from sapper.errors import Fault, ValidationError
from sapper.messages import msg


class Method(StrEnum):
    """How a deminer team works (its role in a plan). ``survey`` teams do non-technical and technical survey; ``bac``
    teams do battle area clearance and EOD spot tasks (IMAS 09.11) where the contamination is explosive remnants of
    war only."""

    SURVEY = "survey"
    MANUAL = "manual"
    DOG = "dog"
    MECHANICAL = "mechanical"
    BAC = "bac"


class Trade(StrEnum):
    """What a builder brigade repairs."""

    ROAD = "road"
    BRIDGE = "bridge"
    POWER = "power"
    WATER = "water"
    BUILDING = "building"


_R = TypeVar("_R", Method, Trade)


def roles_text(roles: Iterable[Method] | Iterable[Trade]) -> str:
    """Methods or trades as the store and the workforce CSV keep them: values in declaration order, ``;`` between."""
    chosen = {r.value for r in roles}
    return ";".join(v for v in [*(m.value for m in Method), *(t.value for t in Trade)] if v in chosen)


def parse_roles(enum: type[_R], text: str, record: str, field_name: str = "capabilities") -> frozenset[_R]:
    """The values of ``text`` separated by ``;`` (or ``,``, ``|`` or spaces: a CSV cell need not be quoted); empty:
    none. ValidationError naming ``record`` and every unknown value with the accepted ones."""
    values = [v.lower() for v in re.split(r"[;,|\s]+", text) if v]
    known = {e.value for e in enum}
    bad = [v for v in values if v not in known]
    if bad:
        raise ValidationError(record, [Fault(record, msg("unknown {field_name} {value} (accepted: {value2})",
                                                         field_name=field_name, value=', '.join(map(repr, bad)),
                                                         value2=', '.join(e.value for e in enum)), field_name)])
    return frozenset(enum(v) for v in values)


class OrgKind(StrEnum):
    OPERATOR = "operator"  # a demining operator (state or commercial or humanitarian)
    CONTRACTOR = "contractor"  # a reconstruction contractor
    AUTHORITY = "authority"  # the national mine action authority or a regional government


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str
    kind: OrgKind
    #: The record's identifier in IMSMA Core (``organization_2``): kept from an IMSMA import, else made by the store;
    #: metadata, not part of the value (two organisations that differ only in it are equal).
    imsma_id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        faults = []
        if not self.id.strip():
            faults.append(Fault(msg("organisation"), msg("id is empty"), "id"))
        if not self.name.strip():
            faults.append(Fault(msg("organisation {id}", id=self.id), msg("name is empty"), "name"))
        ValidationError.raise_if(f"organisation {self.id}", faults)


def _base_faults(record: str, size: int, base: Point) -> list[Fault]:
    faults = []
    if size <= 0:
        faults.append(Fault(record, msg("size must be at least 1 person, got {size}", size=size), "size"))
    if base.is_empty or not (-180 <= base.x <= 180 and -90 <= base.y <= 90):
        faults.append(Fault(record, msg("base must be a WGS84 lon/lat point"), "base"))
    return faults


#: The methods every deminer team can take up besides its own, when the register names none (scenario default):
#: manual clearance and survey need no dog or machine. Dogs, machines and BAC/EOD only where the register says so.
DEFAULT_TEAM_CAPABILITIES: frozenset[Method] = frozenset({Method.MANUAL, Method.SURVEY})


@dataclass(frozen=True, slots=True)
class DeminerTeam:
    """A deminer team: ``size`` people working by one ``method`` (its own role) at ``productivity_m2_per_day`` per
    working day.

    ``capabilities`` are the methods the team is trained and equipped for besides ``method`` (empty: the scenario
    default, :data:`DEFAULT_TEAM_CAPABILITIES`); :attr:`methods` is everything it can do.
    """

    id: str
    organisation_id: str
    method: Method
    size: int
    base: Point
    productivity_m2_per_day: float
    synthetic: bool = False
    capabilities: frozenset[Method] = frozenset()

    @property
    def methods(self) -> frozenset[Method]:
        """Every method the team can work by: its own, and its capabilities (or the scenario default)."""
        return frozenset({self.method}) | (self.capabilities or DEFAULT_TEAM_CAPABILITIES)

    def __post_init__(self) -> None:
        record = msg("team {id}", id=self.id)
        faults = _base_faults(record, self.size, self.base)
        if not self.productivity_m2_per_day > 0:
            faults.append(Fault(record, msg("productivity must be positive (m² per team-day)"),
                                "productivity_m2_per_day"))
        ValidationError.raise_if(record, faults)


@dataclass(frozen=True, slots=True)
class BuilderBrigade:
    """A builder brigade of ``size`` people of one ``trade``; its capacity is ``size`` builder-days per working day.

    ``trades`` are further trades the brigade is skilled and equipped for (default none: its own trade only).
    """

    id: str
    organisation_id: str
    trade: Trade
    size: int
    base: Point
    synthetic: bool = False
    trades: frozenset[Trade] = frozenset()

    @property
    def all_trades(self) -> frozenset[Trade]:
        """Every trade the brigade can work in: its own and its further ``trades``."""
        return frozenset({self.trade}) | self.trades

    def __post_init__(self) -> None:
        record = msg("brigade {id}", id=self.id)
        ValidationError.raise_if(record, _base_faults(record, self.size, self.base))
