"""Where contamination is likely: features from the register, a gradient-boosted model, spatial block validation."""

from sapper.likelihood.features import FEATURES, Context, FeatureTable, Find, HazardInput, feature_table
from sapper.likelihood.model import AreaLikelihood, Likelihoods, ModelParams, Source, likelihoods
from sapper.likelihood.validation import CrossValidation, block_cv, scores, spatial_blocks

__all__ = ["FEATURES", "AreaLikelihood", "Context", "CrossValidation", "FeatureTable", "Find", "HazardInput",
           "Likelihoods", "ModelParams", "Source", "block_cv", "feature_table", "likelihoods", "scores",
           "spatial_blocks"]
