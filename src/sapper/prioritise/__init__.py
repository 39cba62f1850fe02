"""Explainable priorities: each score is a weighted sum of named, normalised criteria, and says so."""

from sapper.prioritise.score import (
    ASSET_CRITERIA,
    HAZARD_CRITERIA,
    Contribution,
    Score,
    score_asset,
    score_hazard,
)

__all__ = ["ASSET_CRITERIA", "HAZARD_CRITERIA", "Contribution", "Score", "score_asset", "score_hazard"]
