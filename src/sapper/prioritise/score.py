"""Scores for assets and hazard areas, each explained criterion by criterion.

Criteria follow the ones used in practice (DOMAIN.md, "Prioritisation in practice"): people nearby, access to
services, agricultural land, blocked reconstruction, evidence strength, and the likelihood that the area holds
devices (``sapper.likelihood``: survey goes first where contamination is likely). Each criterion is normalised to 0–1
and weighted; the weights are parameters and sum to 1, so a score lies in 0–1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sapper.domain.assets import Asset, DamageLevel
from sapper.domain.hazards import PRIOR_CONTAMINATION, Evidence, HazardArea, HazardClass, LandUse
from sapper.errors import Fault, ValidationError
from sapper.messages import msg

#: People count at which the "people" criterion saturates (log scale): a town of 10,000.
PEOPLE_SATURATION = 10_000

ASSET_CRITERIA: Mapping[str, float] = {"criticality": 0.5, "people_served": 0.4, "damage": 0.1}
HAZARD_CRITERIA: Mapping[str, float] = {"beneficiaries": 0.4, "land_use": 0.3, "threat": 0.15, "likelihood": 0.15}

_DAMAGE = {DamageLevel.LIGHT: 0.25, DamageLevel.MODERATE: 0.5, DamageLevel.SEVERE: 0.75, DamageLevel.DESTROYED: 1.0}
_LAND_USE = {
    LandUse.RESIDENTIAL: 1.0,
    LandUse.AGRICULTURAL: 0.8,
    LandUse.INFRASTRUCTURE: 0.7,
    LandUse.FOREST: 0.3,
    LandUse.OTHER: 0.3,
    LandUse.WETLAND: 0.1,
}


@dataclass(frozen=True, slots=True)
class Contribution:
    criterion: str
    raw: object
    normalised: float
    weight: float

    @property
    def value(self) -> float:
        return self.normalised * self.weight


@dataclass(frozen=True, slots=True)
class Score:
    """A score in 0–1 and the contributions it is the sum of: ``value`` is ``sum(c.value for c in contributions)``,
    added in that order, so the explanation adds up to the score exactly (not to within rounding)."""

    record: str
    value: float
    contributions: tuple[Contribution, ...]

    def explain(self) -> str:
        parts = ", ".join(f"{c.criterion}={c.raw} → {c.normalised:.2f}×{c.weight:.2f}" for c in self.contributions)
        return f"{self.record}: {self.value:.3f} = {parts}"


def _people(n: int) -> float:
    return min(1.0, math.log10(1 + max(0, n)) / math.log10(1 + PEOPLE_SATURATION))


def _check_weights(weights: Mapping[str, float], expected: Mapping[str, float]) -> None:
    faults = [Fault(msg("weights"), msg("unknown criterion {k}", k=repr(k))) for k in weights if k not in expected]
    faults += [Fault(msg("weights"), msg("{k} weight must be ≥ 0", k=k)) for k, w in weights.items() if w < 0]
    if not faults and abs(sum(weights.values()) - 1.0) > 1e-9:
        faults.append(Fault(msg("weights"), msg("must sum to 1, sum to {values:.3f}", values=sum(weights.values()))))
    ValidationError.raise_if(msg("priority weights"), faults)


def score_asset(asset: Asset, weights: Mapping[str, float] = ASSET_CRITERIA) -> Score:
    """How urgent repairing ``asset`` is: criticality, people served, damage."""
    _check_weights(weights, ASSET_CRITERIA)
    parts = (
        Contribution("criticality", asset.criticality, (asset.criticality - 1) / 4, weights.get("criticality", 0)),
        Contribution("people_served", asset.people_served, _people(asset.people_served),
                     weights.get("people_served", 0)),
        Contribution("damage", asset.damage.value, _DAMAGE[asset.damage], weights.get("damage", 0)),
    )
    return Score(f"asset {asset.id}", sum(c.value for c in parts), parts)


def score_hazard(hazard: HazardArea, weights: Mapping[str, float] = HAZARD_CRITERIA, *,
                 likelihood: float | None = None) -> Score:
    """How urgent releasing ``hazard`` is for its own sake: people nearby, land use, strength of the threat, and the
    ``likelihood`` that it holds devices (the contamination model's probability; None: the prior of its class)."""
    _check_weights(weights, HAZARD_CRITERIA)
    confirmed = hazard.hazard_class is HazardClass.CHA or hazard.evidence is Evidence.DIRECT
    p = PRIOR_CONTAMINATION[hazard.hazard_class] if likelihood is None else min(1.0, max(0.0, likelihood))
    parts = (
        Contribution("beneficiaries", hazard.beneficiaries, _people(hazard.beneficiaries),
                     weights.get("beneficiaries", 0)),
        Contribution("land_use", hazard.land_use.value, _LAND_USE[hazard.land_use], weights.get("land_use", 0)),
        Contribution("threat", hazard.hazard_class.value, 1.0 if confirmed else 0.5, weights.get("threat", 0)),
        Contribution("likelihood", round(p, 3), p, weights.get("likelihood", 0)),
    )
    return Score(f"hazard area {hazard.id}", sum(c.value for c in parts), parts)
