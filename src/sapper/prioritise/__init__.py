"""Explainable priorities: each score is a weighted sum of named, normalised criteria, and says so; the weights are a
programme's profile."""

from sapper.prioritise.profile import DEFAULT_PROFILE, KINDS, WeightProfile, profile_from_mapping
from sapper.prioritise.score import (
    ASSET_CRITERIA,
    HAZARD_CRITERIA,
    Contribution,
    Score,
    score_asset,
    score_hazard,
)

__all__ = ["ASSET_CRITERIA", "DEFAULT_PROFILE", "HAZARD_CRITERIA", "KINDS", "Contribution", "Score", "WeightProfile",
           "profile_from_mapping", "score_asset", "score_hazard"]
