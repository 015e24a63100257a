"""Training sets from the match log and feedback: graded labels, pseudonymised matrices, time-ordered split.

A query is one served list (`match_requests`) on which at least one feedback event was recorded; its rows are
the served items, with the feature snapshot logged at serving time turned into a matrix by the same
`matching.features.feature_matrix` serving scores. Nothing personal enters the matrices: features, labels,
the query index and, per query, the slices evaluation reports on (QPV residence as a boolean, structure id,
ROME domain letter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import psycopg

from matching.features import FEATURE_NAMES, feature_matrix
from matching.storage.feedback import EVENTS_WITH_REASON

# Graded relevance of an outcome, from the furthest stage reached.
STAGE_GRADES: dict[str, int] = {"hired": 5, "interview": 4, "applied": 3, "interested": 2, "proposed": 1}
# Reasons for which a refusal or a decline says nothing about the match's relevance.
NEUTRAL_REASONS = frozenset({"not_reachable", "hired_elsewhere"})
IRRELEVANT = 0
CHUNK_ROWS = 20_000

LABELLED_REQUESTS = """
SELECT r.id, r.served_at, r.structure_id::text AS structure,
       CASE WHEN r.direction = 'offers_for_candidate' AND rc.id IS NOT NULL THEN rc.qpv_code IS NOT NULL END AS in_qpv,
       COALESCE(left(ro.rome_code, 1), left(rc.target_rome_codes[1], 1)) AS rome_domain
FROM match_requests AS r
LEFT JOIN candidates AS rc ON rc.id = r.candidate_id
LEFT JOIN offers AS ro ON ro.id = r.offer_id
WHERE r.served_at >= %(since)s AND r.served_at < %(until)s
  AND EXISTS (SELECT 1 FROM match_items AS i JOIN feedback AS f ON f.match_item_id = i.id
              WHERE i.request_id = r.id AND f.occurred_at < %(until)s)
ORDER BY r.served_at, r.id
"""
LABELLED_ITEMS = """
SELECT i.request_id, i.rank, i.features, o.events, o.reasons
FROM match_items AS i
LEFT JOIN (SELECT f.match_item_id, array_agg(f.event ORDER BY f.occurred_at, f.id) AS events,
                  array_agg(f.reason_code ORDER BY f.occurred_at, f.id) AS reasons
           FROM feedback AS f WHERE f.occurred_at < %(until)s GROUP BY f.match_item_id) AS o
       ON o.match_item_id = i.id
WHERE i.request_id = ANY (%(requests)s::uuid[])
"""
COUNT_EVENTS = """
SELECT count(*) AS n FROM feedback AS f JOIN match_items AS i ON i.id = f.match_item_id
JOIN match_requests AS r ON r.id = i.request_id
WHERE f.occurred_at < %(until)s AND r.served_at >= %(since)s AND r.served_at < %(until)s
"""


def outcome_label(events: Sequence[str], reasons: Sequence[str | None]) -> int:
    """Graded label of a match from its feedback: hired 5 > interview 4 > applied 3 > interested 2 > proposed 1 >
    declined or refused as irrelevant 0 (a served item without feedback is 0 too).

    A hire wins over anything else; a decline or employer refusal for a relevance reason (skills, barrier, job,
    distance, hours, other) makes the match irrelevant; one for a neutral reason (not reachable, hired elsewhere)
    keeps the stage reached, at least 'proposed'.
    """
    if "hired" in events:
        return STAGE_GRADES["hired"]
    stage = max((STAGE_GRADES.get(e, 0) for e in events), default=0)
    for event, reason in zip(events, reasons, strict=True):
        if event in EVENTS_WITH_REASON:
            if reason not in NEUTRAL_REASONS:
                return IRRELEVANT
            stage = max(stage, STAGE_GRADES["proposed"])
    return stage


@dataclass
class Dataset:
    """Rows grouped by query (contiguous, queries in serving order) and per-query metadata."""

    X: np.ndarray
    y: np.ndarray
    query: np.ndarray
    served_at: list[datetime]
    slices: dict[str, list[str]]
    feature_names: tuple[str, ...] = FEATURE_NAMES
    window: tuple[datetime, datetime] | None = None
    events: int = 0
    bounds: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.bounds = np.searchsorted(self.query, np.arange(len(self.served_at) + 1))

    @property
    def queries(self) -> int:
        """Number of queries (served lists)."""
        return len(self.served_at)

    def rows_of(self, queries: np.ndarray) -> np.ndarray:
        """Row indices of these queries, in order."""
        if len(queries) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(self.bounds[q], self.bounds[q + 1]) for q in queries])

    def counts(self) -> dict[str, int]:
        """Size of the set: lists, items, feedback events, items per label."""
        labels = {f"label_{g}": int(n) for g, n in zip(*np.unique(self.y, return_counts=True), strict=True)}
        return {"requests": self.queries, "items": len(self.y), "events": self.events, **labels}


def build_dataset(conn: psycopg.Connection, since: datetime, until: datetime) -> Dataset:
    """The labelled lists served in [since, until) and their feedback recorded before `until`."""
    params = {"since": since, "until": until}
    requests = conn.execute(LABELLED_REQUESTS, params).fetchall()
    index = {r["id"]: n for n, r in enumerate(requests)}
    query_parts, rank_parts, label_parts, matrix_parts = [], [], [], []
    with conn.cursor(name="maillage_training_items") as cur:
        cur.itersize = CHUNK_ROWS
        cur.execute(LABELLED_ITEMS, {**params, "requests": list(index)})
        while rows := cur.fetchmany(CHUNK_ROWS):
            query_parts.append(np.fromiter((index[r["request_id"]] for r in rows), dtype=np.int32, count=len(rows)))
            rank_parts.append(np.fromiter((r["rank"] for r in rows), dtype=np.int32, count=len(rows)))
            label_parts.append(np.fromiter((outcome_label(r["events"] or (), r["reasons"] or ()) for r in rows),
                                           dtype=np.int8, count=len(rows)))  # fmt: skip
            matrix_parts.append(feature_matrix([r["features"] for r in rows], FEATURE_NAMES))
    if query_parts:
        query, y, X = np.concatenate(query_parts), np.concatenate(label_parts), np.vstack(matrix_parts)
        # Queries in serving order, each list's items in the order they were served.
        order = np.lexsort((np.concatenate(rank_parts), query))
        query, y, X = query[order], y[order], X[order]
    else:
        query, y, X = np.zeros(0, np.int32), np.zeros(0, np.int8), np.empty((0, len(FEATURE_NAMES)))
    events = conn.execute(COUNT_EVENTS, params).fetchone()["n"]
    slices = {
        "qpv": ["inconnu" if r["in_qpv"] is None else "résident QPV" if r["in_qpv"] else "hors QPV" for r in requests],
        "structure": [r["structure"] or "plateforme" for r in requests],
        "rome_domain": [r["rome_domain"] or "inconnu" for r in requests],
    }
    window = (requests[0]["served_at"], requests[-1]["served_at"]) if requests else None
    return Dataset(X, y, query, [r["served_at"] for r in requests], slices, FEATURE_NAMES, window, events)


def time_split(dataset: Dataset, holdout_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Query indices for training (earliest lists) and holdout (the latest `holdout_share`)."""
    n = dataset.queries
    cut = n - max(1, round(n * holdout_share)) if n > 1 else n
    # Lists served at the same instant stay on the same side.
    while 0 < cut < n and dataset.served_at[cut] == dataset.served_at[cut - 1]:
        cut += 1
    return np.arange(cut), np.arange(cut, n)
