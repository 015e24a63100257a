"""Learned models as served: a gradient-boosted tree scorer and its skops artifact, safe to load.

Pickle runs arbitrary code on load; skops stores the estimator as data and, on load, refuses every type
outside an explicit allow-list (scikit-learn's tree predictor here), so a tampered artifact in the registry
cannot execute code in the API. The serving side lives here, in the engine:
the registry (`matching.scoring`) knows this format, so serving needs nothing from `modeles/`, which trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported when a learned model is first loaded: the API starts without scikit-learn
    from sklearn.ensemble import HistGradientBoostingRegressor

# The only types an HGB artifact holds beyond those skops trusts by default (numpy arrays, builtins…).
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


class UnsafeArtifact(ValueError):
    """An artifact holding types outside the allow-list, or not the estimator expected."""


@dataclass(frozen=True)
class TreeModel:
    """Gradient-boosted regression trees on graded labels; NaN features are handled by the trees."""

    version: str
    feature_names: tuple[str, ...]
    estimator: HistGradientBoostingRegressor

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores of an (n, len(feature_names)) matrix."""
        if len(features) == 0:
            return np.zeros(0)
        return self.estimator.predict(features)

    def to_artifact(self) -> bytes:
        """The skops bytes stored in `models.artifact`."""
        import skops.io as sio

        return sio.dumps(self.estimator)


def load_estimator(artifact: bytes) -> HistGradientBoostingRegressor:
    """Rebuild the estimator, refusing any type outside the allow-list."""
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingRegressor

    data = bytes(artifact)
    untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
    if untrusted:
        raise UnsafeArtifact(f"untrusted types in artifact: {', '.join(sorted(untrusted))}")
    estimator = sio.loads(data, trusted=TRUSTED_TYPES)
    if not isinstance(estimator, HistGradientBoostingRegressor):
        raise UnsafeArtifact(f"expected a HistGradientBoostingRegressor, got {type(estimator).__name__}")
    return estimator


def load_tree_model(row: Mapping[str, Any]) -> TreeModel:
    """Rebuild a learned model from its `models` row."""
    return TreeModel(row["version"], tuple(row["feature_names"]), load_estimator(row["artifact"]))

