"""Accidents and their victims (IMAS 10.60), and the sensitivity class every such record carries.

An accident is operational data: where and when, which device category, whether it happened during demining work
(a *demining accident*, IMAS 10.60) or to someone else (a *mine/ERW accident*), the activity under way and what the
investigation found. A victim is **personal data** (ICRC *Handbook on Data Protection in Humanitarian Action*): name,
gender, birth date, address, killed or injured, and what the person was doing. sapper keeps victims in their own
table, each personal field encrypted (``sapper.store.cipher``), readable only by roles with the victim permission
(:data:`sapper.domain.users.VICTIM_READERS`), every read audited.

Sensitivity follows OCHA's data-responsibility guidelines (2025): public, restricted, confidential, strictly
confidential, in that order. A record is shown or exported only to a caller cleared for its class
(:func:`sapper.domain.users.Principal.clearance`); a victim is always strictly confidential.

Pure data and rules: no I/O, no cryptography.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from sapper.domain.hazards import DeviceCategory
from sapper.errors import Fault, ValidationError
from sapper.messages import msg


class Sensitivity(StrEnum):
    """OCHA's classes of data sensitivity, least to most sensitive (compare with :attr:`rank`)."""

    PUBLIC = "public"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"
    STRICTLY_CONFIDENTIAL = "strictly_confidential"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, record: Sensitivity) -> bool:
        """Whether a caller cleared to this class may see a record of class ``record``."""
        return record.rank <= self.rank


_RANK = {s: i for i, s in enumerate(Sensitivity)}


class AccidentKind(StrEnum):
    """IMAS 10.60: a demining accident happens during demining work; a mine/ERW accident to anyone else."""

    DEMINING = "demining"
    MINE = "mine"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class VictimOutcome(StrEnum):
    KILLED = "killed"
    INJURED = "injured"


#: An accident's class unless one is given: restricted (operational, not for the public: a pattern of accidents
#: can point at people).
DEFAULT_ACCIDENT_SENSITIVITY = Sensitivity.RESTRICTED


@dataclass(frozen=True, slots=True)
class Accident:
    """One accident (IMAS 10.60). ``lon``/``lat`` WGS84 (both or neither); ``place`` says where in words;
    ``activity_id`` is the register's activity under way (demining accidents); ``investigation`` what the
    investigation found (empty until it reports). ``victim_count`` is the number of people killed or injured as
    reported (the victims themselves are separate records). ``source`` is where the record came from (the field
    submission's key, or ``api``)."""

    id: str
    date: dt.date
    kind: AccidentKind
    device_category: DeviceCategory
    place: str = ""
    lon: float | None = None
    lat: float | None = None
    organisation_id: str | None = None
    hazard_id: str | None = None
    activity_id: str | None = None
    device_type: str = ""
    description: str = ""
    investigation: str = ""
    victim_count: int = 0
    sensitivity: Sensitivity = DEFAULT_ACCIDENT_SENSITIVITY
    source: str = ""
    synthetic: bool = False

    def __post_init__(self) -> None:
        record = msg("accident {id}", id=self.id)
        faults = []
        if not self.id.strip():
            faults.append(Fault(msg("accident"), msg("has no id"), "id"))
        if (self.lon is None) != (self.lat is None):
            faults.append(Fault(record, msg("gives one of lon and lat: give both or neither"), "lon"))
        if self.lon is not None and not (math.isfinite(self.lon) and -180 <= self.lon <= 180):
            faults.append(Fault(record, msg("lon {lon} is not a longitude (-180 to 180)", lon=self.lon), "lon"))
        if self.lat is not None and not (math.isfinite(self.lat) and -90 <= self.lat <= 90):
            faults.append(Fault(record, msg("lat {lat} is not a latitude (-90 to 90)", lat=self.lat), "lat"))
        if self.lon is None and not self.place.strip():
            faults.append(Fault(record, msg("has neither a position (lon, lat) nor a place"), "place"))
        if self.victim_count < 0:
            faults.append(Fault(record, msg("victim_count {victim_count} is negative",
                                            victim_count=self.victim_count), "victim_count"))
        if self.kind is AccidentKind.MINE and self.activity_id:
            faults.append(Fault(record, msg("is a mine/ERW accident (not during demining) but names a demining "
                                            "activity {activity_id}", activity_id=self.activity_id), "activity_id"))
        ValidationError.raise_if(record, faults)


#: A victim's personal fields, each encrypted on its own in the store.
VICTIM_FIELDS = ("name", "gender", "birth_date", "address", "outcome", "activity")


@dataclass(frozen=True, slots=True)
class Victim:
    """A person killed or injured in an accident: personal data, kept encrypted and strictly confidential."""

    id: str
    accident_id: str
    name: str
    gender: Gender
    outcome: VictimOutcome
    birth_date: dt.date | None = None
    address: str = ""
    activity: str = ""

    def __post_init__(self) -> None:
        record = msg("victim {id}", id=self.id)
        faults = []
        if not self.id.strip():
            faults.append(Fault(msg("victim"), msg("has no id"), "id"))
        if not self.accident_id.strip():
            faults.append(Fault(record, msg("names no accident"), "accident_id"))
        if self.birth_date is not None and self.birth_date > dt.date.today():
            faults.append(Fault(record, msg("birth date is in the future"), "birth_date"))
        ValidationError.raise_if(record, faults)

    @property
    def sensitivity(self) -> Sensitivity:
        return Sensitivity.STRICTLY_CONFIDENTIAL


@dataclass(frozen=True, slots=True)
class ReportedAccident:
    """An accident as an accident report (the XLSForm) gives it, with the victims the report recorded."""

    accident: Accident
    victims: tuple[Victim, ...] = ()


@dataclass(frozen=True, slots=True)
class AccidentCounts:
    """Accidents aggregated for reports and maps: no victim field, no single record's details."""

    total: int
    by_month: tuple[tuple[dt.date, int], ...]
    by_kind: tuple[tuple[str, int], ...]
    by_device: tuple[tuple[str, int], ...]
    people: int


def count_accidents(accidents: list[Accident]) -> AccidentCounts:
    """The counts reports and maps show: accidents per month, per kind, per device category, people reported."""
    months: dict[dt.date, int] = {}
    kinds: dict[str, int] = {}
    devices: dict[str, int] = {}
    for a in accidents:
        m = a.date.replace(day=1)
        months[m] = months.get(m, 0) + 1
        kinds[a.kind.value] = kinds.get(a.kind.value, 0) + 1
        devices[a.device_category.value] = devices.get(a.device_category.value, 0) + 1
    return AccidentCounts(len(accidents), tuple(sorted(months.items())), tuple(sorted(kinds.items())),
                          tuple(sorted(devices.items())), sum(a.victim_count for a in accidents))
