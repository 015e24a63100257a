"""Ranking models: one small interface, the transparent v0 scorer, and the model registry (`models` table).

A model turns a feature matrix into scores. Its artifact lives in `models.artifact` with an
`artifact_format`; a loader per format rebuilds it: linear JSON (v0, pairwise logistic) and skops
gradient-boosted trees (`matching.learned`). `modeles/` trains them and promotes them to 'champion' like v0.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from matching.features import FEATURE_NAMES, FEATURE_VERSION

LINEAR_JSON_FORMAT = "linear-json-v1"
SKOPS_HGB_FORMAT = "skops-hgb-v1"
V0_VERSION = "v0-transparent-2"

# Hand-set weights of v0 (each feature's unit: see matching.features). The job code and the semantic
# similarity lead, barriers (schedules, hours, licence) weigh like a different job, engagement nudges.
V0_WEIGHTS: dict[str, float] = {
    "semantic_similarity": 10.0,
    "lexical_score": 1.0,
    "rome_same": 1.5,
    "rome_same_domain": 0.3,
    "rome_mobility": 0.6,
    "skills_overlap": 0.8,
    "proximity": 0.4,
    "schedule_fit": 1.0,
    "hours_fit": 0.6,
    "contract_fit": 0.4,
    "education_fit": 0.3,
    "experience_fit": 0.3,
    "licence_fit": 1.0,
    "language_fit": 0.4,
    "employer_lee": 0.1,
    "employer_eq2030": 0.1,
    "qpv_clause_applies": 0.2,
    "workplace_in_qpv": 0.05,
    "freshness": 0.2,
    "congestion": -0.6,
}
# Value used when a feature is unknown: neutral-ish, so unknown is neither rewarded nor punished much.
V0_DEFAULTS: dict[str, float] = {
    "semantic_similarity": 0.75, "lexical_score": 0.0, "rome_same": 0.0, "rome_same_domain": 0.0,
    "rome_mobility": 0.0, "skills_overlap": 0.3, "proximity": 0.5, "schedule_fit": 1.0, "hours_fit": 0.7,
    "contract_fit": 0.7, "education_fit": 0.8, "experience_fit": 0.8, "licence_fit": 1.0,
    "language_fit": 1.0, "employer_lee": 0.0, "employer_eq2030": 0.0, "qpv_clause_applies": 0.0,
    "workplace_in_qpv": 0.0, "freshness": 0.5, "congestion": 0.0,
}  # fmt: skip

SELECT_CHAMPION = """
SELECT version, kind, artifact, artifact_format, feature_names, feature_version, params
FROM models WHERE status = 'champion'
"""
SELECT_CHAMPION_VERSION = "SELECT version FROM models WHERE status = 'champion'"
INSERT_MODEL = """
INSERT INTO models (version, kind, status, artifact, artifact_format, feature_names, feature_version, params,
                    library_versions)
VALUES (%(version)s, %(kind)s, 'candidate', %(artifact)s, %(artifact_format)s, %(feature_names)s,
        %(feature_version)s, %(params)s, %(library_versions)s)
ON CONFLICT (version) DO NOTHING
"""
PROMOTE_IF_NO_CHAMPION = """
UPDATE models SET status = 'champion', promoted_at = now()
WHERE version = %(version)s AND NOT EXISTS (SELECT 1 FROM models WHERE status = 'champion')
"""


class RankingModel(Protocol):
    """What serving needs of a model: its version, the features it reads, and a score per row."""

    version: str
    feature_names: tuple[str, ...]

    def score(self, features: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class LinearModel:
    """A transparent linear scorer: bias + Σ weight × feature, unknown features imputed."""

    version: str
    feature_names: tuple[str, ...]
    weights: np.ndarray
    defaults: np.ndarray
    bias: float = 0.0

    @classmethod
    def from_dicts(
        cls, version: str, weights: Mapping[str, float], defaults: Mapping[str, float],
        names: Sequence[str] = FEATURE_NAMES, bias: float = 0.0,
    ) -> LinearModel:  # fmt: skip
        """Build from per-feature weights and defaults (missing names weigh 0)."""
        return cls(
            version,
            tuple(names),
            np.array([weights.get(n, 0.0) for n in names], dtype=np.float64),
            np.array([defaults.get(n, 0.0) for n in names], dtype=np.float64),
            bias,
        )

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores of an (n, len(feature_names)) matrix."""
        filled = np.where(np.isnan(features), self.defaults, features)
        return filled @ self.weights + self.bias

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per-feature share of each score (weight × imputed value), for explanations and audits."""
        return np.where(np.isnan(features), self.defaults, features) * self.weights

    def to_artifact(self) -> bytes:
        """The JSON artifact stored in `models.artifact`."""
        return json.dumps(
            {
                "bias": self.bias,
                "weights": dict(zip(self.feature_names, self.weights.tolist(), strict=True)),
                "defaults": dict(zip(self.feature_names, self.defaults.tolist(), strict=True)),
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_artifact(cls, version: str, names: Sequence[str], artifact: bytes) -> LinearModel:
        """Rebuild from a stored JSON artifact."""
        data = json.loads(bytes(artifact))
        return cls.from_dicts(version, data["weights"], data["defaults"], names, float(data.get("bias", 0.0)))


ModelLoader = Callable[[Mapping[str, Any]], RankingModel]


def _load_linear(row: Mapping[str, Any]) -> RankingModel:
    return LinearModel.from_artifact(row["version"], row["feature_names"], row["artifact"])


def _load_tree(row: Mapping[str, Any]) -> RankingModel:
    from matching.learned import load_tree_model  # scikit-learn and skops load with the first learned model

    return load_tree_model(row)


_LOADERS: dict[str, ModelLoader] = {LINEAR_JSON_FORMAT: _load_linear, SKOPS_HGB_FORMAT: _load_tree}
_cache: dict[str, RankingModel] = {}
_cache_lock = threading.Lock()


def v0_model() -> LinearModel:
    """The transparent v0 scorer with hand-set weights."""
    return LinearModel.from_dicts(V0_VERSION, V0_WEIGHTS, V0_DEFAULTS)


def register_model(
    conn: psycopg.Connection, model: LinearModel, kind: str = "linear", params: dict | None = None
) -> None:
    """Store a linear model as a 'candidate' in the registry (no-op if its version exists)."""
    conn.execute(
        INSERT_MODEL,
        {
            "version": model.version,
            "kind": kind,
            "artifact": model.to_artifact(),
            "artifact_format": LINEAR_JSON_FORMAT,
            "feature_names": list(model.feature_names),
            "feature_version": FEATURE_VERSION,
            "params": Jsonb(params or {}),
            "library_versions": Jsonb({"numpy": np.__version__}),
        },
    )


def ensure_v0_model(conn: psycopg.Connection) -> None:
    """Register v0 and make it the champion when no model is: idempotent, safe under concurrency."""
    try:
        with conn.transaction():
            register_model(conn, v0_model(), kind="transparent", params={"weights": "hand-set"})
            conn.execute(PROMOTE_IF_NO_CHAMPION, {"version": V0_VERSION})
    except psycopg.errors.UniqueViolation:
        pass  # another process promoted a champion at the same moment


def load_active_model(conn: psycopg.Connection) -> RankingModel:
    """The champion of the registry (v0 on a fresh database), cached per version."""
    row = conn.execute(SELECT_CHAMPION_VERSION).fetchone()
    if row is None:
        ensure_v0_model(conn)
        row = conn.execute(SELECT_CHAMPION_VERSION).fetchone()
    version = row["version"]
    with _cache_lock:
        model = _cache.get(version)
    if model is None:
        full = conn.execute(SELECT_CHAMPION).fetchone()
        loader = _LOADERS.get(full["artifact_format"])
        if loader is None:
            raise LookupError(f"no loader for artifact format {full['artifact_format']!r} (model {version})")
        model = loader(full)
        with _cache_lock:
            _cache[version] = model
    return model
