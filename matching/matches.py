"""Matches for advisers, both directions: the engine's entry points, callable without the HTTP layer.

Stage 1 retrieves a pool (hybrid channels under hard filters), stage 2 computes features, scores them with
the registry's active model, caps each company's exposure, explains each match in French and logs the
served list (request, items, ranks, scores, feature snapshots) for re-training and the fairness report.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from matching.explanations import Explanation, explain
from matching.features import (
    CandidateProfile,
    OfferFacts,
    feature_evidence,
    feature_matrix,
    feature_values,
    snapshot,
)
from matching.indexing import TextEncoder, embed_pending_candidates
from matching.referentiels.lookup import commune
from matching.retrieval import (
    ARC_KM,
    CENTRE,
    CHANNEL_DEPTH,
    HardFilters,
    OfferQuery,
    hybrid_offers,
    lexical_query,
)
from matching.scoring import RankingModel, load_active_model
from matching.storage.candidates import CandidateAccessor, candidate_key
from matching.storage.database import fetch_on_custom_plan, fetch_on_generic_plan

MAX_LIMIT = 100
MAX_OFFSET = 400
# At most this many offers of one company (or candidates per offer side: unused) in a served list.
DEFAULT_MAX_PER_COMPANY = 3
# Candidates read in full (audited) for stage 2 of the reverse direction, beyond the page asked.
REVERSE_POOL_EXTRA = 20
# Candidates ranked by the half-precision distance, re-ranked with the full vectors: covers the rounding (≈1e-4).
RERANK_MARGIN = 20

T = TypeVar("T")

CANDIDATE_CONTEXT = """
SELECT ARRAY(SELECT DISTINCT m.code_rome_cible::text FROM rome_mobilites AS m
             WHERE m.code_rome = ANY (%(codes)s::bpchar[])) AS mobility,
       ARRAY(SELECT a.label FROM rome_appellations AS a WHERE a.code_ogr = ANY (%(appellations)s::int[])
             UNION ALL
             SELECT f.label FROM rome_fiches AS f WHERE f.code_rome = ANY (%(codes)s::bpchar[])) AS job_labels
"""

# What the reverse direction reads of the offer: its place, filters, vector and the facts of the features (not
# `o.*`: the raw source record, the description and the text vectors would be read, sent and decoded for nothing).
OFFER_FOR_MATCHING = """
SELECT o.id, o.status, o.embedding, o.rome_code, o.contract_type, o.hours_per_week, o.part_time, o.work_schedule,
       o.experience_required, o.experience_months, o.education_level, o.skills, o.languages, o.licences,
       o.commune_insee, o.lat, o.lon, o.qpv_code, o.remote_work, o.positions,
       COALESCE(o.source_created_at, o.created_at) AS published_at,
       c.name AS company_name, COALESCE(c.lee_member, false) AS lee_member,
       COALESCE(c.eq2030, false) AS eq2030, COALESCE(c.qpv_clause, false) AS qpv_clause,
       (SELECT count(*) FROM offer_exposure AS e
        WHERE e.offer_id = o.id AND e.last_served_at > now() - interval '30 days') AS recent_proposals,
       ARRAY(SELECT m.code_rome::text FROM rome_mobilites AS m WHERE m.code_rome_cible = o.rome_code) AS mobility_from,
       (SELECT max(max_commute_km) FROM candidates WHERE status = 'active') AS largest_commute_km
FROM offers AS o LEFT JOIN companies AS c ON c.id = o.company_id
WHERE o.id = %(id)s
"""

# Reverse direction: the caller's caseload is small, so an exact scan; each candidate's own commute radius
# (or the default) around the offer, its contracts, hours and licences: the box around the offer is as wide as the
# largest commute of the active candidates (read with the offer). Candidates without an address point are placed
# at their commune's centre. Returns ids and measures only; the profiles of the best are then read through the
# accessor. `{scope}`: nothing (every structure, for platform admins) or one structure's condition.
_CANDIDATES_IN_REACH = f"""
WITH located AS (
    SELECT c.id, c.pt, c.embedding_half, c.max_commute_km, c.desired_contracts, c.licences, c.desired_hours_min,
           c.desired_hours_max, c.part_time_only
    FROM candidates AS c
    WHERE c.status = 'active' AND c.pt IS NOT NULL AND earth_box(ll_to_earth(%(lat)s, %(lon)s), %(reach_m)s) @> c.pt
      {{scope}}
    UNION ALL
    SELECT c.id, cm.pt, c.embedding_half, c.max_commute_km, c.desired_contracts, c.licences, c.desired_hours_min,
           c.desired_hours_max, c.part_time_only
    FROM candidates AS c JOIN communes AS cm ON cm.insee = c.commune_insee
    WHERE c.status = 'active' AND c.pt IS NULL AND earth_box(ll_to_earth(%(lat)s, %(lon)s), %(reach_m)s) @> cm.pt
      {{scope}}
),
shortlist AS MATERIALIZED (
    SELECT c.id, c.pt
    FROM located AS c
    WHERE c.embedding_half IS NOT NULL
      AND cube_distance(c.pt, {CENTRE})
          < 2 * 6378168.0 * sin(least(COALESCE(c.max_commute_km, %(default_radius_km)s) * 1000, pi() * 6378168.0)
                                / (2 * 6378168.0))
      AND (cardinality(c.desired_contracts) = 0 OR %(contract)s = ANY (c.desired_contracts))
      AND %(licences)s::text[] <@ c.licences
      AND (%(hours)s::real IS NULL OR c.desired_hours_max IS NULL OR %(hours)s <= c.desired_hours_max)
      AND (%(hours)s::real IS NULL OR c.desired_hours_min IS NULL OR %(hours)s >= c.desired_hours_min)
      AND (NOT c.part_time_only OR COALESCE(%(hours)s::real < 35, %(part_time)s, true))
    ORDER BY (c.embedding_half <=> %(query)s::halfvec(384)) + 0, c.id
    LIMIT %(pool)s + {RERANK_MARGIN}
)
SELECT s.id, 1 - (c.embedding <=> %(query)s) AS similarity, {ARC_KM.format(pt="s.pt")} AS distance_km
FROM shortlist AS s
JOIN candidates AS c ON c.id = s.id
ORDER BY c.embedding <=> %(query)s, s.id
LIMIT %(pool)s
"""
# Every structure's candidates (platform admins): custom plans, fitted to how many candidates the box holds.
CANDIDATES_IN_REACH = _CANDIDATES_IN_REACH.replace("{scope}", "")
# One structure's (an adviser's caseload): planning this statement cost as much as running it, so it runs prepared,
# on one generic plan per connection. Same run, 200 offers × 5, each an adviser's: 3.08 → 1.61 ms (mean), the same
# candidates and similarities.
CANDIDATES_IN_REACH_OF_STRUCTURE = _CANDIDATES_IN_REACH.replace("{scope}", "AND c.structure_id = %(structure_id)s")


# What stage 2 and the served list read of a candidate scored for an offer (data minimisation: not the vectors, the
# birth year or the eligibility); a test checks that the profile built from them is the whole row's.
SCORED_CANDIDATE_COLUMNS = (
    "reference", "commune_insee", "qpv_code", "target_rome_codes", "skills", "summary", "max_commute_km",
    "unavailable_schedules", "part_time_only", "desired_contracts", "desired_hours_min", "desired_hours_max",
    "education_level", "experience_months", "licences", "languages",
)  # fmt: skip

# The request and its items in one statement (one round trip); item ids come back in rank order.
INSERT_SERVED_LIST = """
WITH request AS (
    INSERT INTO match_requests (direction, structure_id, adviser_id, candidate_id, offer_id, model_version, params)
    VALUES (%(direction)s, %(structure_id)s, %(adviser_id)s, %(candidate_id)s, %(offer_id)s, %(model_version)s,
            %(params)s)
    RETURNING id
),
items AS (
    INSERT INTO match_items (request_id, candidate_id, candidate_key, offer_id, rank, score, features)
    SELECT r.id, u.candidate_id, u.candidate_key, u.offer_id, u.rank, u.score, u.features
    FROM request AS r,
         jsonb_to_recordset(%(items)s::jsonb)
             AS u(candidate_id uuid, candidate_key text, offer_id bigint, rank int, score float8, features jsonb)
    ORDER BY u.rank
    RETURNING id, rank
)
SELECT r.id AS request_id, i.id AS item_id
FROM request AS r LEFT JOIN items AS i ON true
ORDER BY i.rank
"""


def candidates_in_reach(conn: psycopg.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Candidates within their own commute of the offer, nearest in meaning first: one structure's or every one's."""
    if params["structure_id"] is None:
        return fetch_on_custom_plan(conn, CANDIDATES_IN_REACH, params)
    return fetch_on_generic_plan(conn, CANDIDATES_IN_REACH_OF_STRUCTURE, params)


class MissingLocation(ValueError):
    """The candidate (or offer) has neither an address point nor a known commune."""


class OfferNotFound(LookupError):
    """No active offer with this id."""


@dataclass(frozen=True, slots=True)
class Match:
    """One served match: its id (to attach feedback), rank, score, explanation and the other side's data."""

    match_id: uuid.UUID
    rank: int
    score: float
    explanation: Explanation
    features: dict[str, float | None]
    row: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class MatchList:
    """A served page of matches and how it was produced."""

    request_id: uuid.UUID
    direction: str
    model_version: str
    radius_km: float | None
    plan: str
    total: int
    matches: list[Match]
    candidate_id: uuid.UUID | None = None
    offer_id: int | None = None


def apply_exposure_cap(items: Sequence[T], key: Callable[[T], Hashable | None], max_per_key: int) -> list[T]:
    """Keep at most `max_per_key` items per key at the top; the rest keep their order after the others."""
    counts: dict[Hashable, int] = {}
    head, tail = [], []
    for item in items:
        k = key(item)
        if k is None:
            head.append(item)
            continue
        counts[k] = counts.get(k, 0) + 1
        (head if counts[k] <= max_per_key else tail).append(item)
    return head + tail


def rank_pairs(model: RankingModel, values: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Scores of the pairs' feature values by the model (same feature code path as training)."""
    if not values:
        return np.zeros(0)
    return np.asarray(model.score(feature_matrix(values, model.feature_names)), dtype=float)


def _locate(conn: psycopg.Connection, row: dict) -> tuple[float, float]:
    if row.get("lat") is not None:
        return row["lat"], row["lon"]
    place = commune(conn, row["commune_insee"]) if row.get("commune_insee") else None
    if place is None:
        raise MissingLocation(f"commune {row.get('commune_insee')} inconnue")
    return place.lat, place.lon


def _log(
    conn: psycopg.Connection,
    direction: str,
    accessor: CandidateAccessor,
    model_version: str,
    params: dict,
    served: list[tuple[uuid.UUID, int, int, float, dict]],
    candidate_id: uuid.UUID | None,
    offer_id: int | None,
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Log a served list: one request and its items (candidate, offer, rank, score, feature snapshot)."""
    adviser_id = uuid.UUID(accessor.actor.id) if accessor.actor.kind == "adviser" else None
    # The items travel as one JSON document: psycopg dumps array parameters element by element in Python, which
    # cost ~1.5 ms a list for the feature snapshots (quoted JSON inside an array literal).
    items = [{"candidate_id": s[0], "candidate_key": candidate_key(s[0]), "offer_id": s[1], "rank": s[2],
              "score": s[3], "features": s[4]} for s in served]  # fmt: skip
    rows = conn.execute(INSERT_SERVED_LIST, {
        "direction": direction, "structure_id": accessor.structure_id, "adviser_id": adviser_id,
        "candidate_id": candidate_id, "offer_id": offer_id, "model_version": model_version, "params": Jsonb(params),
        "items": Jsonb(items),
    }).fetchall()  # fmt: skip
    return rows[0]["request_id"], [r["item_id"] for r in rows if r["item_id"] is not None]


@dataclass(frozen=True, slots=True)
class CandidateSearch:
    """A candidate's stage-1 query and the profile stage 2 reads."""

    query: OfferQuery
    profile: CandidateProfile


def candidate_search(
    conn: psycopg.Connection,
    candidate: dict[str, Any],
    *,
    radius_km: float | None,
    default_radius_km: float,
    contracts: Sequence[str] | None = None,
    whole_country: bool = False,
    sources: Sequence[str] | None = None,
    depth: int = CHANNEL_DEPTH,
) -> CandidateSearch:
    """The stage-1 query of a candidate row (an accessor's): place, radius, barriers, job codes, lexical terms."""
    lat, lon = _locate(conn, candidate)
    radius = None if whole_country else (radius_km or candidate["max_commute_km"] or default_radius_km)
    codes = [c.strip() for c in candidate["target_rome_codes"]]
    context = conn.execute(
        CANDIDATE_CONTEXT, {"codes": codes, "appellations": list(candidate["target_appellations"])}
    ).fetchone()
    profile = CandidateProfile.from_row(candidate)
    wanted = tuple(contracts) if contracts else (tuple(candidate["desired_contracts"]) or None)
    query = OfferQuery(
        embedding=candidate["embedding"],
        lat=lat,
        lon=lon,
        radius_km=radius,
        filters=HardFilters(
            contracts=wanted,
            hours_min=candidate["desired_hours_min"],
            hours_max=candidate["desired_hours_max"],
            part_time_only=candidate["part_time_only"],
            licences=tuple(candidate["licences"]),
            sources=tuple(sources) if sources else None,
        ),
        target_codes=tuple(codes),
        mobility_codes=tuple(context["mobility"]),
        lexical_terms=lexical_query([*context["job_labels"], *profile.skills]),
        depth=depth,
        own_key=candidate_key(candidate["id"]),
    )
    return CandidateSearch(query, profile)


def offers_for_candidate(
    conn: psycopg.Connection,
    accessor: CandidateAccessor,
    encoder: TextEncoder,
    candidate_id: uuid.UUID,
    *,
    limit: int,
    radius_km: float | None,
    default_radius_km: float,
    offset: int = 0,
    contracts: Sequence[str] | None = None,
    whole_country: bool = False,
    max_per_company: int = DEFAULT_MAX_PER_COMPANY,
    sources: Sequence[str] | None = None,
    model: RankingModel | None = None,
    now: datetime | None = None,
) -> MatchList:
    """Offers for a candidate: hybrid retrieval under the candidate's barriers, scored, explained and logged."""
    limit, offset = min(limit, MAX_LIMIT), min(offset, MAX_OFFSET)
    candidate = accessor.get(candidate_id, purpose="match")
    if candidate["embedding"] is None or candidate["embedding_model"] != encoder.model_id:
        embed_pending_candidates(conn, encoder, candidate_ids=[candidate_id])
        candidate = accessor.get(candidate_id, purpose="match")
    search = candidate_search(conn, candidate, radius_km=radius_km, default_radius_km=default_radius_km,
                              contracts=contracts, whole_country=whole_country, sources=sources,
                              depth=max(CHANNEL_DEPTH, offset + limit))  # fmt: skip
    query, profile = search.query, search.profile
    radius, wanted = query.radius_km, query.filters.contracts
    pool = hybrid_offers(conn, query)
    model = model or load_active_model(conn)
    mobility = frozenset(query.mobility_codes)
    now = now or datetime.now(UTC)
    facts = [OfferFacts.from_row(r) for r in pool.rows]
    values = [feature_values(profile, f, mobility, now) for f in facts]
    scores = rank_pairs(model, values)
    order = sorted(range(len(values)), key=lambda i: (-scores[i], pool.rows[i]["id"]))
    order = apply_exposure_cap(order, lambda i: pool.rows[i]["company_id"], max_per_company)
    page = order[offset : offset + limit]
    served = [(candidate_id, pool.rows[i]["id"], offset + n, float(scores[i]), snapshot(values[i]))
              for n, i in enumerate(page, start=1)]  # fmt: skip
    params = {"limit": limit, "offset": offset, "radius_km": radius, "contracts": list(wanted or []),
              "plan": pool.plan, "pool": len(pool.rows)}  # fmt: skip
    request_id, item_ids = _log(conn, "offers_for_candidate", accessor, model.version, params, served,
                                candidate_id, None)  # fmt: skip
    matches = [
        Match(
            item_id,
            s[2],
            s[3],
            explain(values[i], feature_evidence(profile, facts[i]), model.version),
            s[4],
            pool.rows[i],
        )
        for item_id, s, i in zip(item_ids, served, page, strict=True)
    ]
    return MatchList(request_id, "offers_for_candidate", model.version, radius, pool.plan, len(order), matches,
                     candidate_id=candidate_id)  # fmt: skip


def candidates_for_offer(
    conn: psycopg.Connection,
    accessor: CandidateAccessor,
    offer_id: int,
    *,
    limit: int,
    default_radius_km: float,
    offset: int = 0,
    model: RankingModel | None = None,
    now: datetime | None = None,
) -> MatchList:
    """Candidates of the caller's structure for an active offer, scored with the same features and model."""
    limit, offset = min(limit, MAX_LIMIT), min(offset, MAX_OFFSET)
    # Binary: the offer's two vectors would otherwise be parsed from text (~0.1 ms each); `pt` comes as bytes.
    offer = conn.execute(OFFER_FOR_MATCHING, {"id": offer_id}, binary=True).fetchone()
    if offer is None or offer["status"] != "active":
        raise OfferNotFound(str(offer_id))
    if offer["embedding"] is None:
        raise OfferNotFound(f"{offer_id} (pas encore indexée)")
    lat, lon = _locate(conn, offer)
    reach_km = max(offer["largest_commute_km"] or 0, default_radius_km)
    reach = candidates_in_reach(conn, {
        "reach_m": reach_km * 1000,
        "query": offer["embedding"], "lat": lat, "lon": lon, "structure_id": accessor.structure_id,
        "default_radius_km": default_radius_km, "contract": offer["contract_type"], "licences": offer["licences"],
        "hours": offer["hours_per_week"], "part_time": offer["part_time"],
        "pool": offset + limit + REVERSE_POOL_EXTRA,
    })  # fmt: skip
    model = model or load_active_model(conn)
    now = now or datetime.now(UTC)
    offer_code = (offer["rome_code"] or "").strip()
    values, facts, profiles, rows = [], [], [], []
    # Each candidate's read is audited with the offer it was searched for (one statement).
    candidates = accessor.get_many([hit["id"] for hit in reach], purpose="match", columns=SCORED_CANDIDATE_COLUMNS,
                                   details={"offer_id": offer_id})  # fmt: skip
    offer_facts = OfferFacts.from_row({**offer, "lexical": None})
    for hit in reach:
        candidate = candidates[hit["id"]]
        pair_facts = replace(offer_facts, similarity=hit["similarity"], distance_km=hit["distance_km"])
        profile = CandidateProfile.from_row(candidate)
        # The offer's code is a mobility target of the candidate when one of their codes leads to it.
        leads_to_offer = set(profile.target_rome_codes) & set(offer["mobility_from"])
        mobility = frozenset([offer_code]) if leads_to_offer else frozenset()
        values.append(feature_values(profile, pair_facts, mobility, now))
        facts.append(pair_facts)
        profiles.append(profile)
        rows.append({**hit, **{k: candidate[k] for k in ("reference", "commune_insee", "qpv_code",
                                                         "target_rome_codes")}})  # fmt: skip
    scores = rank_pairs(model, values)
    order = sorted(range(len(values)), key=lambda i: (-scores[i], str(rows[i]["id"])))
    page = order[offset : offset + limit]
    served = [(rows[i]["id"], offer_id, offset + n, float(scores[i]), snapshot(values[i]))
              for n, i in enumerate(page, start=1)]  # fmt: skip
    params = {"limit": limit, "offset": offset, "pool": len(rows)}
    request_id, item_ids = _log(conn, "candidates_for_offer", accessor, model.version, params, served, None, offer_id)
    matches = [
        Match(
            item_id,
            s[2],
            s[3],
            explain(values[i], feature_evidence(profiles[i], facts[i]), model.version),
            s[4],
            rows[i],
        )
        for item_id, s, i in zip(item_ids, served, page, strict=True)
    ]
    return MatchList(request_id, "candidates_for_offer", model.version, None, "exact", len(order), matches,
                     offer_id=offer_id)  # fmt: skip
