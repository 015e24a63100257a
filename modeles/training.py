"""Trainers: scikit-learn ranking models on the served features (seeded, deterministic for a given set).

- `hgb`: gradient-boosted regression trees on the graded labels (pointwise), NaN handled natively;
- `pairwise-logistic`: logistic regression on feature differences of pairs of one list with different labels,
  folded back into a transparent linear scorer (same artifact format as v0).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression

from matching.learned import TreeModel
from matching.scoring import LINEAR_JSON_FORMAT, SKOPS_HGB_FORMAT, LinearModel, RankingModel

HGB_PARAMS: dict[str, Any] = {
    "loss": "squared_error", "learning_rate": 0.08, "max_iter": 150, "max_leaf_nodes": 31, "min_samples_leaf": 40,
    "l2_regularization": 1.0, "early_stopping": False,
}  # fmt: skip
PAIRS_PER_QUERY = 60


@dataclass(frozen=True)
class TrainingData:
    """What a trainer sees: the training rows, their labels and query index (contiguous per query)."""

    X: np.ndarray
    y: np.ndarray
    query: np.ndarray
    feature_names: tuple[str, ...]


@dataclass(frozen=True)
class Trained:
    """A trained model with what the registry stores about it."""

    model: RankingModel
    kind: str
    artifact: bytes
    artifact_format: str
    params: dict[str, Any] = field(default_factory=dict)


Trainer = Callable[[TrainingData, int, str], Trained]


def library_versions() -> dict[str, str]:
    """Versions of the libraries a learned artifact depends on."""
    import skops

    return {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "skops": skops.__version__}


def train_hgb(data: TrainingData, seed: int, version: str) -> Trained:
    """Gradient-boosted trees regressing the graded label."""
    estimator = HistGradientBoostingRegressor(random_state=seed, **HGB_PARAMS)
    estimator.fit(data.X, data.y.astype(np.float64))
    model = TreeModel(version, data.feature_names, estimator)
    return Trained(model, "hgb", model.to_artifact(), SKOPS_HGB_FORMAT, {**HGB_PARAMS, "seed": seed})


def sample_pairs(y: np.ndarray, query: np.ndarray, per_query: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (better, worse) of the same query with different labels, at most `per_query` per query."""
    rng = np.random.default_rng(seed)
    better, worse = [], []
    bounds = np.flatnonzero(np.diff(query, prepend=-1, append=-1) != 0)
    for start, end in itertools.pairwise(bounds):
        labels = y[start:end]
        i, j = np.nonzero(labels[:, None] > labels[None, :])
        if len(i) == 0:
            continue
        if len(i) > per_query:
            keep = rng.choice(len(i), per_query, replace=False)
            i, j = i[keep], j[keep]
        better.append(i + start)
        worse.append(j + start)
    if not better:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(better), np.concatenate(worse)


def train_pairwise_logistic(data: TrainingData, seed: int, version: str) -> Trained:
    """Pairwise logistic regression, stored as a linear scorer (weights per feature, medians for unknowns)."""
    medians = np.nanmedian(np.where(np.isnan(data.X).all(axis=0), 0.0, data.X), axis=0)
    filled = np.where(np.isnan(data.X), medians, data.X)
    scale = filled.std(axis=0)
    scale[scale == 0] = 1.0
    better, worse = sample_pairs(data.y, data.query, PAIRS_PER_QUERY, seed)
    if len(better) == 0:
        raise ValueError("no pair of items with different labels to learn from")
    diffs = (filled[better] - filled[worse]) / scale
    X = np.vstack([diffs, -diffs])
    target = np.concatenate([np.ones(len(diffs)), np.zeros(len(diffs))])
    fit = LogisticRegression(fit_intercept=False, C=1.0, max_iter=1000, random_state=seed).fit(X, target)
    weights = fit.coef_[0] / scale
    names = data.feature_names
    model = LinearModel.from_dicts(version, dict(zip(names, weights.tolist(), strict=True)),
                                   dict(zip(names, medians.tolist(), strict=True)), names)  # fmt: skip
    params = {"pairs": len(better), "pairs_per_query": PAIRS_PER_QUERY, "C": 1.0, "seed": seed}
    return Trained(model, "pairwise-logistic", model.to_artifact(), LINEAR_JSON_FORMAT, params)


TRAINERS: dict[str, Trainer] = {"hgb": train_hgb, "pairwise-logistic": train_pairwise_logistic}
