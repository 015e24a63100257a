"""Synthetic match logs and feedback driven by a hidden preference, for tests, benchmarks and demos.

Served lists look like the engine's (feature snapshots of the f1 features, ranked by v0, logged with
pseudonymous candidate keys); advisers then propose the items they judge best, and candidates and
employers react following a preference v0 does not know (by default: employers hire close-by candidates
whose skills match). Everything is written in bulk (COPY, unnest) in the caller's transaction. The synthetic
candidates and offers carry no personal data; offers are closed so that they are never served.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import psycopg

from matching.features import FEATURE_NAMES, snapshot
from matching.scoring import V0_VERSION, v0_model
from matching.storage.candidates import candidate_key

SYNTHETIC_SOURCE = "synthetic"
# The hidden preference: what employers and candidates actually value (unknown features count as 0.3).
NEAR_AND_SKILLED: dict[str, float] = {"proximity": 3.0, "skills_overlap": 3.0, "rome_same": 0.7}
PROPOSED_PER_LIST = 3
RELEVANCE_DECLINES = ("too_far", "not_interested_job", "hours_incompatible", "other")

ENSURE_SOURCE = """
INSERT INTO sources (id, kind, label) VALUES (%(id)s, 'demo', 'Journal synthétique') ON CONFLICT (id) DO NOTHING
"""
INSERT_OFFERS = """
INSERT INTO offers (source_id, external_id, title, description, contract_type, rome_code, content_hash, status)
SELECT %(source)s, %(tag)s || '-' || u.n, 'Offre synthétique ' || u.n, 'Offre générée pour l''apprentissage.',
       'CDI', u.code, sha256((%(tag)s || u.n)::bytea), 'closed'
FROM unnest(%(codes)s::text[]) WITH ORDINALITY AS u(code, n)
RETURNING id
"""
INSERT_STRUCTURE = "INSERT INTO structures (kind, name) VALUES ('other', %(name)s) RETURNING id"
INSERT_CANDIDATES = """
INSERT INTO candidates (id, structure_id, reference, commune_insee, qpv_code, target_rome_codes, max_commute_km)
SELECT u.id, u.structure_id, u.reference, '75056', u.qpv_code, ARRAY[u.code], 20
FROM unnest(%(ids)s::uuid[], %(structures)s::uuid[], %(references)s::text[], %(qpv)s::text[], %(codes)s::text[])
     AS u(id, structure_id, reference, qpv_code, code)
"""
INSERT_REQUESTS = """
INSERT INTO match_requests (id, direction, structure_id, candidate_id, model_version, params, served_at)
SELECT u.id, 'offers_for_candidate', u.structure_id, u.candidate_id, %(model)s, '{"synthetic": true}', u.served_at
FROM unnest(%(ids)s::uuid[], %(structures)s::uuid[], %(candidates)s::uuid[], %(served)s::timestamptz[])
     AS u(id, structure_id, candidate_id, served_at)
"""
COPY_ITEMS = (
    "COPY match_items (id, request_id, candidate_id, candidate_key, offer_id, rank, score, features) FROM STDIN"
)
COPY_FEEDBACK = "COPY feedback (match_item_id, structure_id, event, reason_code, occurred_at) FROM STDIN"
SOME_ROME_CODES = "SELECT code_rome::text AS code FROM rome_fiches ORDER BY code_rome"


@dataclass(frozen=True, slots=True)
class SyntheticCounts:
    """What was written."""

    requests: int
    items: int
    events: int
    labelled_requests: int


def _uuids(rng: random.Random, n: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n)]


def synthetic_features(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible f1 feature rows (NaN = unknown), rounded as the serving snapshot rounds them."""
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    X = np.zeros((n, len(FEATURE_NAMES)))

    def maybe_unknown(values: np.ndarray, share: float) -> np.ndarray:
        return np.where(rng.random(n) < share, np.nan, values)

    same = (rng.random(n) < 0.4).astype(float)
    X[:, col["semantic_similarity"]] = rng.uniform(0.72, 0.92, n)
    X[:, col["lexical_score"]] = np.minimum(rng.exponential(0.05, n), 0.5)
    X[:, col["rome_same"]] = same
    X[:, col["rome_same_domain"]] = np.maximum(same, rng.random(n) < 0.3)
    X[:, col["rome_mobility"]] = np.maximum(same, rng.random(n) < 0.1)
    X[:, col["skills_overlap"]] = maybe_unknown(rng.random(n), 0.15)
    X[:, col["proximity"]] = rng.random(n)
    X[:, col["schedule_fit"]] = rng.random(n) < 0.9
    X[:, col["hours_fit"]] = maybe_unknown((rng.random(n) < 0.8).astype(float), 0.3)
    X[:, col["contract_fit"]] = maybe_unknown((rng.random(n) < 0.7).astype(float), 0.3)
    X[:, col["education_fit"]] = maybe_unknown(rng.choice([0.5, 1.0], n), 0.5)
    X[:, col["experience_fit"]] = maybe_unknown(rng.choice([0.0, 0.5, 1.0], n), 0.4)
    X[:, col["licence_fit"]] = rng.random(n) < 0.95
    X[:, col["language_fit"]] = 1.0
    X[:, col["employer_lee"]] = rng.random(n) < 0.3
    X[:, col["employer_eq2030"]] = rng.random(n) < 0.1
    X[:, col["qpv_clause_applies"]] = rng.random(n) < 0.1
    X[:, col["workplace_in_qpv"]] = rng.random(n) < 0.2
    X[:, col["freshness"]] = rng.uniform(0.2, 1.0, n)
    X[:, col["congestion"]] = rng.uniform(0.0, 0.5, n)
    return np.round(X, 5)


def hidden_utility(X: np.ndarray, preference: dict[str, float]) -> np.ndarray:
    """What the synthetic world values (unknown features count as 0.3)."""
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    return sum(w * np.nan_to_num(X[:, col[name]], nan=0.3) for name, w in preference.items())


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _outcome(util: float, top: float, rng: random.Random) -> list[tuple[str, str | None, float]]:
    """Events (event, reason, days after serving) of one proposed item."""
    day = rng.uniform(0.1, 2.0)
    events: list[tuple[str, str | None, float]] = [("proposed", None, day)]
    if rng.random() < 0.1:
        return events  # no answer yet
    day += rng.uniform(0.5, 3.0)
    if rng.random() >= _sigmoid(2.0 * (util - 0.55 * top)):
        if rng.random() < 0.2:
            return [*events, ("declined", "not_reachable", day)]
        return [*events, ("declined", rng.choice(RELEVANCE_DECLINES), day)]
    events.append(("interested", None, day))
    if rng.random() < 0.3:
        return events
    day += rng.uniform(0.5, 5.0)
    events.append(("applied", None, day))
    day += rng.uniform(2.0, 10.0)
    if rng.random() >= _sigmoid(2.0 * (util - 0.7 * top)):
        reason = "hired_elsewhere" if rng.random() < 0.15 else rng.choice(("skills_lacking", "barrier_incompatible"))
        return [*events, ("refused_by_employer", reason, day)]
    events.append(("interview", None, day))
    if rng.random() < 0.25:
        return events  # decision pending
    day += rng.uniform(2.0, 10.0)
    if rng.random() < _sigmoid(3.0 * (util - 0.8 * top)):
        events.append(("hired", None, day))
    else:
        events.append(("refused_by_employer", "skills_lacking", day))
    return events


def write_synthetic_logs(
    conn: psycopg.Connection, *, requests: int, end: datetime, days: int = 120, items_per_request: int = 20,
    candidates: int = 300, offers: int = 400, structures: int = 3, feedback_share: float = 0.85,
    preference: dict[str, float] | None = None, seed: int = 0,
) -> SyntheticCounts:  # fmt: skip
    """Write served lists over the `days` before `end` and the feedback a hidden preference produces."""
    preference = preference or NEAR_AND_SKILLED
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    tag = f"syn{uuid.uuid4().hex[:10]}"
    codes = [r["code"] for r in conn.execute(SOME_ROME_CODES)] or ["K1302", "G1603", "N1103", "H2102"]
    domains = sorted({c[0] for c in codes})
    job_codes = [next(c for c in codes if c[0] == d) for d in domains][:6]
    conn.execute(ENSURE_SOURCE, {"id": SYNTHETIC_SOURCE})
    offer_ids = [r["id"] for r in conn.execute(INSERT_OFFERS, {
        "source": SYNTHETIC_SOURCE, "tag": tag, "codes": [rng.choice(job_codes) for _ in range(offers)]})]  # fmt: skip
    structure_ids = [conn.execute(INSERT_STRUCTURE, {"name": f"Structure synthétique {n + 1}"}).fetchone()["id"]
                     for n in range(structures)]  # fmt: skip
    cand_ids = _uuids(rng, candidates)
    cand_structures = [structure_ids[i % structures] for i in range(candidates)]
    conn.execute(INSERT_CANDIDATES, {
        "ids": cand_ids, "structures": cand_structures, "references": [f"{tag}-{i}" for i in range(candidates)],
        "qpv": [f"QN0{i % 90:02d}" if rng.random() < 0.5 else None for i in range(candidates)],
        "codes": [rng.choice(job_codes) for _ in range(candidates)],
    })  # fmt: skip
    keys = [candidate_key(c) for c in cand_ids]

    start = end - timedelta(days=days)
    served = sorted(start + timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(requests))
    request_ids = _uuids(rng, requests)
    who = [rng.randrange(candidates) for _ in range(requests)]
    conn.execute(INSERT_REQUESTS, {
        "ids": request_ids, "structures": [cand_structures[w] for w in who], "candidates": [cand_ids[w] for w in who],
        "served": served, "model": V0_VERSION,
    })  # fmt: skip

    v0 = v0_model()
    n_items = events = labelled = 0
    with conn.cursor() as cur:
        feedback_rows: list[tuple] = []
        with cur.copy(COPY_ITEMS) as copy:
            for r, request_id in enumerate(request_ids):
                X = synthetic_features(nrng, items_per_request)
                scores = v0.score(X)
                order = np.argsort(-scores, kind="stable")
                item_ids = _uuids(rng, items_per_request)
                c = who[r]
                for rank, i in enumerate(order, start=1):
                    values = snapshot(dict(zip(FEATURE_NAMES, X[i].tolist(), strict=True)))
                    copy.write_row((item_ids[i], request_id, cand_ids[c], keys[c], rng.choice(offer_ids), rank,
                                    float(scores[i]), json.dumps(values)))  # fmt: skip
                n_items += items_per_request
                if rng.random() >= feedback_share:
                    continue
                labelled += 1
                utility = hidden_utility(X, preference)
                top = float(sum(preference.values()))
                perceived = utility + nrng.normal(0.0, 0.6, items_per_request)
                for i in np.argsort(-perceived)[:PROPOSED_PER_LIST]:
                    for event, reason, day in _outcome(float(utility[i]), top, rng):
                        feedback_rows.append((item_ids[i], cand_structures[c], event, reason,
                                              served[r] + timedelta(days=day)))  # fmt: skip
        with cur.copy(COPY_FEEDBACK) as copy:
            for row in feedback_rows:
                copy.write_row(row)
        events = len(feedback_rows)
    return SyntheticCounts(requests, n_items, events, labelled)
