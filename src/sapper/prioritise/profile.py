"""Programme weight profiles: how much each criterion counts, for hazard areas and for assets.

A profile is what a programme agrees on (a governor may weigh housing over farmland; a donor, the people served); it
is data, read from a TOML file by the services. The default profile and the reasons for each weight are in
docs/priorities.md. Every criterion of a kind must be given (0 leaves it out), so a profile cannot silently drop one,
and each kind's weights sum to 1, so a score lies in 0–1.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.prioritise.score import ASSET_CRITERIA, HAZARD_CRITERIA

#: The two kinds of record a profile weighs, by their section name in the TOML file.
KINDS: Mapping[str, Mapping[str, float]] = MappingProxyType({"hazard": HAZARD_CRITERIA, "asset": ASSET_CRITERIA})


def _weight_faults(record: str, kind: str, weights: Mapping[str, object]) -> list[Fault]:
    expected = KINDS[kind]
    faults = [Fault(record, msg("[{kind}] has no criterion {k} (known: {known})", kind=kind, k=repr(k),
                                known=', '.join(expected)), k)
              for k in weights if k not in expected]
    faults += [Fault(record, msg("[{kind}] misses {k} (give 0 to leave it out)", kind=kind, k=repr(k)), k)
               for k in expected if k not in weights]
    values: list[float] = []
    for k, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, int | float):
            faults.append(Fault(record, msg("[{kind}] {k} must be a number, got {w}", kind=kind, k=k, w=repr(w)), k))
        elif w < 0:
            faults.append(Fault(record, msg("[{kind}] {k} must be ≥ 0, got {w}", kind=kind, k=k, w=w), k))
        else:
            values.append(float(w))
    if not faults and abs(sum(values) - 1.0) > 1e-9:
        faults.append(Fault(record, msg("[{kind}] weights must sum to 1, they sum to {total:.6g}", kind=kind,
                                        total=sum(values)), kind))
    return faults


@dataclass(frozen=True)
class WeightProfile:
    """A named set of weights: ``hazard`` (beneficiaries, land_use, threat) and ``asset`` (criticality,
    people_served, damage), each summing to 1."""

    name: str
    hazard: Mapping[str, float] = field(default_factory=lambda: dict(HAZARD_CRITERIA))
    asset: Mapping[str, float] = field(default_factory=lambda: dict(ASSET_CRITERIA))

    def __post_init__(self) -> None:
        record = msg("weight profile {name}", name=repr(self.name))
        faults = [] if self.name.strip() else [Fault(msg("weight profile"), msg("the profile needs a name"), "name")]
        faults += _weight_faults(record, "hazard", self.hazard) + _weight_faults(record, "asset", self.asset)
        ValidationError.raise_if(record, faults)

    @property
    def digest(self) -> str:
        """A short hash of the weights (not the name): the first 12 hex digits of the SHA-256 of the weights as
        canonical JSON. Two profiles with the same weights have the same digest."""
        text = json.dumps({"hazard": dict(sorted(self.hazard.items())), "asset": dict(sorted(self.asset.items()))},
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def is_default(self) -> bool:
        """Whether the weights are the defaults (those the planner uses)."""
        return dict(self.hazard) == dict(HAZARD_CRITERIA) and dict(self.asset) == dict(ASSET_CRITERIA)


DEFAULT_PROFILE = WeightProfile("default")


def profile_from_mapping(data: Mapping[str, object], *, source: str) -> WeightProfile:
    """The profile a parsed TOML document describes: ``name`` (default: ``source``), ``[hazard]`` and ``[asset]``
    tables (a missing table keeps the default weights). Every fault is reported at once, naming ``source``."""
    faults = [Fault(source, msg("unknown key {k} (known: name, hazard, asset)", k=repr(k)), k)
              for k in data if k not in ("name", "hazard", "asset")]
    name = data.get("name", source)
    if not isinstance(name, str):
        faults.append(Fault(source, msg("name must be text, got {name}", name=repr(name)), "name"))
        name = source
    sections: dict[str, dict[str, float]] = {}
    for kind, defaults in KINDS.items():
        table = data.get(kind, defaults)
        if not isinstance(table, Mapping):
            faults.append(Fault(source, msg("[{kind}] must be a table of criterion = weight", kind=kind), kind))
            continue
        found = _weight_faults(source, kind, table)
        faults += found
        if not found:
            sections[kind] = {str(k): float(v) for k, v in table.items()}
    ValidationError.raise_if(msg("weight profile {name}", name=source), faults)
    return WeightProfile(name, hazard=sections["hazard"], asset=sections["asset"])
