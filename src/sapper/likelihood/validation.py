"""Spatial block cross-validation: is the model any good on ground it has not seen?

Neighbouring areas share their contamination (the same fighting, the same minefield), so random folds would test
the model on the neighbours of its training areas and flatter it. Areas are grouped in square blocks (10 km by
default) and whole blocks are held out (scikit-learn's ``GroupKFold`` on the block ids), as RELand did (arXiv
2311.03115). The caller builds the features of each fold from what that fold may know (``features_for``), so
"finds nearby" never carries a held-out area's own outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sapper.errors import Fault, ValidationError
from sapper.likelihood.features import FeatureTable
from sapper.likelihood.model import ModelParams, fit_predict

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def spatial_blocks(x_km: Floats, y_km: Floats, *, size_km: float = 10.0) -> Ints:
    """The id of the ``size_km`` square block each point falls in (the same block, the same id)."""
    if not size_km > 0:
        raise ValidationError("spatial blocks", [Fault("spatial blocks", "block size must be positive", "size_km")])
    bx = np.floor(np.asarray(x_km) / size_km).astype(np.int64)
    by = np.floor(np.asarray(y_km) / size_km).astype(np.int64)
    _, ids = np.unique(np.column_stack([bx, by]), axis=0, return_inverse=True)
    return np.asarray(ids, dtype=np.int64).reshape(-1)


@dataclass(frozen=True, eq=False)
class CrossValidation:
    """Out-of-fold probabilities (NaN where an area was never tested), the fold of each area, and the scores over
    the tested areas."""

    probability: Floats
    fold: Ints
    roc_auc: float
    pr_auc: float
    tested: int
    positives: int


def scores(truth: Bools, probability: Floats) -> tuple[float, float]:
    """ROC-AUC and PR-AUC (average precision) of ``probability`` against ``truth``."""
    from sklearn.metrics import average_precision_score, roc_auc_score  # scikit-learn only when scoring (see model)

    return float(roc_auc_score(truth, probability)), float(average_precision_score(truth, probability))


def block_cv(groups: Ints, truth: Bools, trainable: Bools, features_for: Callable[[Bools], FeatureTable], *,
             folds: int = 5, params: ModelParams | None = None) -> CrossValidation:
    """Block cross-validation: for each of ``folds`` folds of whole blocks (``groups``), the model is fitted on the
    ``trainable`` areas outside the fold (with ``truth`` as label) on the features ``features_for(known)`` gives when
    the areas of ``known`` are those whose outcome is known (trainable and outside the fold), and predicts every
    area in the fold."""
    from sklearn.model_selection import GroupKFold  # scikit-learn only when validating (see model)

    params = params or ModelParams()
    n = len(groups)
    prob = np.full(n, np.nan)
    fold_of = np.full(n, -1, dtype=np.int64)
    for k, (train, test) in enumerate(GroupKFold(n_splits=folds).split(np.zeros((n, 1)), truth, groups)):
        known = np.zeros(n, dtype=bool)
        known[train] = trainable[train]
        table = features_for(known)
        prob[test] = fit_predict(table.values[known], truth[known], table.values[test], params)
        fold_of[test] = k
    tested = ~np.isnan(prob)
    roc, pr = scores(truth[tested], prob[tested])
    return CrossValidation(prob, fold_of, roc, pr, int(tested.sum()), int(truth[tested].sum()))
