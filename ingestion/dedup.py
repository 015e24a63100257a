"""De-duplication across sources (pure): when two offers are the same job, and which one is kept.

Same employer (SIRET, else normalised name) at the same postal code, and a similar title or a
near-identical embedding. A wrong merge hides a real job from a candidate, a missed one only shows
it twice, so every threshold errs on the side of keeping offers apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

TITLE_SIMILARITY = 0.88
TOKEN_OVERLAP = 0.8
EMBEDDING_SIMILARITY = 0.97


@dataclass(frozen=True, slots=True)
class DedupCandidate:
    """What de-duplication compares of an offer."""

    offer_id: int
    source_kind: str
    source_priority: int
    postal_code: str | None
    company_siret: str | None
    company_name_key: str | None
    title_key: str
    completeness: int
    embedding: np.ndarray | None = None
    rome_code: str | None = None


def title_similarity(a: str, b: str) -> float:
    """Similarity of two normalised titles: the best of sequence ratio and word-set overlap."""
    if not a or not b:
        return 0.0
    ratio = SequenceMatcher(None, a, b).ratio()
    wa, wb = set(a.split()), set(b.split())
    overlap = len(wa & wb) / max(len(wa), len(wb))
    return max(ratio, overlap if overlap >= TOKEN_OVERLAP else 0.0)


def same_employer(a: DedupCandidate, b: DedupCandidate) -> bool:
    """Same SIRET, or (when either lacks one) the same normalised company name."""
    if a.company_siret and b.company_siret:
        return a.company_siret == b.company_siret
    return bool(a.company_name_key) and a.company_name_key == b.company_name_key


def duplicate_reason(a: DedupCandidate, b: DedupCandidate) -> str | None:
    """Why two offers are the same job ('title' or 'embedding'), or None when they are not."""
    if a.offer_id == b.offer_id or not a.postal_code or a.postal_code != b.postal_code or not same_employer(a, b):
        return None
    if title_similarity(a.title_key, b.title_key) >= TITLE_SIMILARITY:
        return "same_employer_place_title"
    # Near-identical vectors alone are not enough: one employer's boilerplate makes different jobs look alike.
    same_job = a.rome_code is not None and a.rome_code == b.rome_code
    both_embedded = a.embedding is not None and b.embedding is not None
    if same_job and both_embedded and float(np.dot(a.embedding, b.embedding)) >= EMBEDDING_SIMILARITY:
        return "same_employer_place_embedding"
    return None


def keeper(cluster: list[DedupCandidate]) -> DedupCandidate:
    """The offer shown for a cluster: companies' own offers first, then source priority, completeness, age."""
    return min(cluster, key=lambda c: (c.source_kind != "api", c.source_priority, -c.completeness, c.offer_id))
