"""The chance that a hazard area holds devices: gradient-boosted trees fitted on the register's own history.

The labels are the areas with a recorded outcome (devices found in them: 1; processed with none found: 0); the model
(scikit-learn's ``HistGradientBoostingClassifier``, small and regularised: a register holds hundreds to thousands of
areas, not millions) learns from their features (:mod:`sapper.likelihood.features`) and predicts every area. With
too few labelled areas, or labels of one kind only, it does not fit and every area gets the documented prior of its
class (:data:`sapper.domain.hazards.PRIOR_CONTAMINATION`). The result is advice for the order of survey: it never
releases land (docs/likelihood.md).

scikit-learn (and SciPy under it) is imported where a model is fitted, not with this module: every command that
scores areas imports this module, and a register with too few outcomes never fits (``python -X importtime`` showed
scikit-learn as most of a command's start-up).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sapper.domain.hazards import PRIOR_CONTAMINATION, HazardClass
from sapper.errors import Fault, ValidationError
from sapper.likelihood.features import CATEGORICAL, FEATURES, FeatureTable
from sapper.messages import msg_n

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

Floats = npt.NDArray[np.float64]


class Source(StrEnum):
    """Where an area's probability comes from."""

    MODEL = "model"  # the model fitted on the register's labelled areas
    PRIOR = "prior"  # the class prior: too few labelled areas to fit


@dataclass(frozen=True, slots=True)
class ModelParams:
    """How the model is fitted: at least ``min_labels`` labelled areas with at least ``min_each`` of each outcome,
    else the prior; the trees' settings; ``seed`` fixes the fit (the same register and seed give the same result)."""

    min_labels: int = 40
    min_each: int = 10
    max_iter: int = 150
    learning_rate: float = 0.06
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 10
    l2_regularization: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        faults = [Fault("likelihood model", f"{n} must be at least 1, got {getattr(self, n)}", n)
                  for n in ("min_labels", "min_each", "max_iter", "min_samples_leaf") if getattr(self, n) < 1]
        if self.max_leaf_nodes < 2:
            faults.append(Fault("likelihood model", "max_leaf_nodes must be at least 2", "max_leaf_nodes"))
        if not 0 < self.learning_rate <= 1:
            faults.append(Fault("likelihood model", "learning_rate must be in (0, 1]", "learning_rate"))
        ValidationError.raise_if("likelihood model", faults)


@dataclass(frozen=True, slots=True)
class AreaLikelihood:
    """An area's probability of holding devices, where it comes from, and its recorded outcome (None: none yet)."""

    hazard_id: str
    probability: float
    source: Source
    outcome: bool | None


@dataclass(frozen=True)
class Likelihoods:
    """Every area's probability (register order), the labelled areas' counts, and ``reason``: why the model was not
    fitted (empty when it was)."""

    areas: tuple[AreaLikelihood, ...]
    labelled: int
    positives: int
    params: ModelParams
    reason: str = ""

    @property
    def fitted(self) -> bool:
        return not self.reason

    def by_id(self) -> dict[str, float]:
        return {a.hazard_id: a.probability for a in self.areas}


def classifier(params: ModelParams) -> HistGradientBoostingClassifier:
    """The gradient-boosted trees with ``params`` (land use categorical; missing values handled by the trees)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=params.max_iter, learning_rate=params.learning_rate, max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf, l2_regularization=params.l2_regularization,
        categorical_features=[FEATURES.index(c) for c in CATEGORICAL], early_stopping=False,
        random_state=params.seed)


def fit_predict(train: Floats, labels: npt.NDArray[np.bool_], predict: Floats, params: ModelParams) -> Floats:
    """Fit on ``train`` (rows × FEATURES) with ``labels`` and return the probability of devices for ``predict``.

    On one thread: a register's few thousand rows need no more, and scikit-learn's OpenMP threads spin-wait on a busy
    machine (profiled on two shared, busy cores: a fit on 731 areas took 38 s, most of it threads spinning)."""
    from threadpoolctl import threadpool_limits

    model = classifier(params)
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(train, labels.astype(np.int64))
        return np.asarray(model.predict_proba(predict)[:, 1], dtype=np.float64)


#: The last fits, by what determines them (the rows, labels and settings): a command that scores the same register
#: twice (``sapper report``: its priorities, then its forecast; ``sapper whatif``: each variant's plan) fits once.
_FITS: OrderedDict[bytes, Floats] = OrderedDict()
_FITS_KEPT = 4
_FITS_LOCK = threading.Lock()


def _fit_key(train: Floats, labels: npt.NDArray[np.bool_], predict: Floats, params: ModelParams) -> bytes:
    h = hashlib.sha256(repr((train.shape, labels.shape, predict.shape, params)).encode())
    for a in (train, labels, predict):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


def fitted(train: Floats, labels: npt.NDArray[np.bool_], predict: Floats, params: ModelParams) -> Floats:
    """:func:`fit_predict`, remembered: the same rows, labels and settings give the same probabilities (the fit is
    seeded), so a second call returns a copy of the first's instead of fitting again."""
    key = _fit_key(train, labels, predict, params)
    with _FITS_LOCK:
        if key in _FITS:
            _FITS.move_to_end(key)
            return _FITS[key].copy()
    probs = fit_predict(train, labels, predict, params)
    with _FITS_LOCK:
        _FITS[key] = probs.copy()
        while len(_FITS) > _FITS_KEPT:
            _FITS.popitem(last=False)
    return probs


def too_few(labels: Sequence[bool], params: ModelParams) -> str:
    """Why ``labels`` are too few to fit (empty when they are enough)."""
    pos = sum(labels)
    neg = len(labels) - pos
    if len(labels) < params.min_labels or min(pos, neg) < params.min_each:
        return msg_n("{n} area has a recorded outcome ({pos} with devices, {neg} without); the model needs at least "
                     "{least}, with {each} of each",
                     "{n} areas have a recorded outcome ({pos} with devices, {neg} without); the model needs at least "
                     "{least}, with {each} of each", len(labels), pos=pos, neg=neg, least=params.min_labels,
                     each=params.min_each)
    return ""


def likelihoods(table: FeatureTable, classes: Mapping[str, HazardClass], outcomes: Mapping[str, bool],
                params: ModelParams | None = None) -> Likelihoods:
    """Every area's probability: the model fitted on the areas of ``outcomes`` when they are enough, else the prior
    of each area's class (``classes``)."""
    params = params or ModelParams()
    ids = table.ids
    mask = np.array([i in outcomes for i in ids], dtype=bool)
    labels = np.array([outcomes[i] for i in ids if i in outcomes], dtype=bool)
    reason = too_few(labels.tolist(), params)
    if reason:
        probs = np.array([PRIOR_CONTAMINATION[classes[i]] for i in ids], dtype=np.float64)
        source = Source.PRIOR
    else:
        probs = fitted(table.values[mask], labels, table.values, params)
        source = Source.MODEL
    areas = tuple(AreaLikelihood(i, _round(float(p)), source, outcomes.get(i)) for i, p in zip(ids, probs, strict=True))
    return Likelihoods(areas, int(mask.sum()), int(labels.sum()), params, reason)


def _round(p: float) -> float:
    """A probability to 6 decimals (no float noise in what is printed and compared)."""
    return round(min(1.0, max(0.0, p)), 6) if math.isfinite(p) else 0.0
