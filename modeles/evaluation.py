"""Holdout evaluation of ranking models (overall and per slice) and the promotion gate (pure).

Metrics are those of `matching.evaluation` (nDCG@10 on the graded labels; recall@k and MRR with "relevant" =
the candidate was at least interested, grade ≥ 2), on the holdout lists that hold such a relevant item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from matching.evaluation import evaluate_rankings, recall_at_k
from matching.scoring import RankingModel
from modeles.dataset import Dataset

RELEVANT = 2
GATE_METRIC = "ndcg_at_10"


def evaluation_queries(dataset: Dataset, queries: np.ndarray) -> np.ndarray:
    """The queries among these with at least one relevant item (the others rank nothing)."""
    return np.array([q for q in queries if dataset.y[dataset.bounds[q] : dataset.bounds[q + 1]].max() >= RELEVANT],
                    dtype=np.int64)  # fmt: skip


def model_scores(model: RankingModel, dataset: Dataset, rows: np.ndarray) -> np.ndarray:
    """Scores of the rows by a model, reading its own feature list (names it lacks are unknown, as in serving)."""
    names = tuple(model.feature_names)
    if names == tuple(dataset.feature_names):
        X = dataset.X[rows]
    else:
        position = {n: i for i, n in enumerate(dataset.feature_names)}
        X = np.full((len(rows), len(names)), np.nan)
        for j, name in enumerate(names):
            if name in position:
                X[:, j] = dataset.X[rows, position[name]]
    return np.asarray(model.score(X), dtype=np.float64)


def _metrics(rankings: Sequence[list[int]], grades: Sequence[dict[int, int]]) -> dict[str, float]:
    summary = asdict(evaluate_rankings(rankings, grades))
    relevant = [{i for i, g in graded.items() if g >= RELEVANT} for graded in grades]
    recall_5 = [recall_at_k(r, rel, 5) for r, rel in zip(rankings, relevant, strict=True)]
    summary["recall_at_5"] = round(float(np.mean(recall_5)), 4) if recall_5 else 0.0
    return summary


def evaluate_model(model: RankingModel, dataset: Dataset, queries: np.ndarray) -> dict[str, Any]:
    """Metrics of a model on these queries: {"overall": {...}, "slices": {slice: {value: {...}}}}."""
    rows = dataset.rows_of(queries)
    scores = model_scores(model, dataset, rows)
    rankings, grades, offset = [], [], 0
    for q in queries:
        size = int(dataset.bounds[q + 1] - dataset.bounds[q])
        local = scores[offset : offset + size]
        # Ties keep the served order: a constant scorer reproduces the served list.
        rankings.append(sorted(range(size), key=lambda i, s=local: (-s[i], i)))
        labels = dataset.y[dataset.bounds[q] : dataset.bounds[q + 1]]
        grades.append({i: int(g) for i, g in enumerate(labels) if g > 0})
        offset += size
    report: dict[str, Any] = {"overall": _metrics(rankings, grades), "slices": {}}
    for name, values in dataset.slices.items():
        groups: dict[str, list[int]] = defaultdict(list)
        for n, q in enumerate(queries):
            groups[values[q]].append(n)
        report["slices"][name] = {
            value: _metrics([rankings[n] for n in members], [grades[n] for n in members])
            for value, members in sorted(groups.items())
        }
    return report


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """Margins of the promotion gate, on nDCG@10."""

    min_gain: float = 0.005
    min_gain_over_v0: float = 0.0
    max_slice_loss: float = 0.02
    min_slice_queries: int = 30

    @classmethod
    def from_settings(cls, settings) -> GatePolicy:
        """The policy configured in `matching.config.Settings`."""
        return cls(settings.learning_min_gain, settings.learning_min_gain_over_v0, settings.learning_max_slice_loss,
                   settings.learning_min_slice_queries)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Whether to promote, and every reason for or against (English, for operators)."""

    promote: bool
    reasons: tuple[str, ...]


def promotion_decision(
    challenger: Mapping[str, Any], champion: Mapping[str, Any], v0: Mapping[str, Any], policy: GatePolicy
) -> GateDecision:
    """Promote only if the challenger beats the champion by `min_gain` overall, beats v0 by more than
    `min_gain_over_v0`, and loses at most `max_slice_loss` on every slice with `min_slice_queries` lists."""
    reasons, ok = [], True
    new, old, base = (r["overall"][GATE_METRIC] for r in (challenger, champion, v0))
    if new >= old + policy.min_gain:
        reasons.append(f"beats the champion: {new:.4f} vs {old:.4f} (+{new - old:.4f} ≥ {policy.min_gain})")
    else:
        ok = False
        reasons.append(f"does not beat the champion by {policy.min_gain}: {new:.4f} vs {old:.4f}")
    if new > base + policy.min_gain_over_v0:
        reasons.append(f"beats v0: {new:.4f} vs {base:.4f}")
    else:
        ok = False
        reasons.append(f"does not beat v0 by more than {policy.min_gain_over_v0}: {new:.4f} vs {base:.4f}")
    for name, values in challenger["slices"].items():
        for value, metrics in values.items():
            reference = champion["slices"].get(name, {}).get(value)
            if reference is None or metrics["queries"] < policy.min_slice_queries:
                continue
            loss = reference[GATE_METRIC] - metrics[GATE_METRIC]
            if loss > policy.max_slice_loss:
                ok = False
                reasons.append(f"loses {loss:.4f} on slice {name}={value} ({metrics[GATE_METRIC]:.4f} vs "
                               f"{reference[GATE_METRIC]:.4f}, max {policy.max_slice_loss})")  # fmt: skip
    return GateDecision(ok, tuple(reasons))
