"""Stage-1 retrieval: hard filters in SQL, then semantic, lexical and job-code channels fused by rank."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import psycopg

from matching.features import STOPWORDS
from matching.geo import chord_for_arc
from matching.referentiels.text import fold

# Candidate-list size of the HNSW walk: pgvector's default (40) loses too many true neighbours at k=10+.
HNSW_EF_SEARCH = 200

# Only run once a count has shown that many offers pass the filters. The planner cannot know it (it
# underestimates the array filters) and would scan and sort them all instead of walking the graph, so the
# transaction discourages every other way to order the semantic channel.
HNSW_SESSION_SETTINGS = """
SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
       set_config('hnsw.ef_search', %(ef_search)s, true),
       set_config('enable_seqscan', 'off', true),
       set_config('enable_bitmapscan', 'off', true),
       set_config('enable_sort', 'off', true)
"""

RRF_K = 60
CHANNEL_DEPTH = 100
# Up to this many offers passing the filters, one shared scan (GiST) serves all three channels exactly; it
# costs about as much as each channel's own index scan in the wide plan, which needs three.
EXACT_MAX_FILTERED = 5000
FULL_TIME_HOURS = 35
LEXICAL_MAX_TERMS = 10
_LEXICAL_WORD = re.compile(r"[a-z0-9]{3,}")

HARD_FILTERS = """
    o.status = 'active' AND o.embedding IS NOT NULL
    AND (%(radius_m)s::float8 IS NULL
         OR (earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius_m)s) @> o.pt
             AND cube_distance(o.pt, ll_to_earth(%(lat)s, %(lon)s)::cube) < %(chord_m)s))
    AND (%(contracts)s::text[] IS NULL OR o.contract_type = ANY (%(contracts)s::text[]))
    AND (%(hours_min)s::real IS NULL OR o.hours_per_week IS NULL OR o.hours_per_week >= %(hours_min)s)
    AND (%(hours_max)s::real IS NULL OR o.hours_per_week IS NULL OR o.hours_per_week <= %(hours_max)s)
    AND (NOT %(part_time_only)s OR COALESCE(o.hours_per_week < 35, o.part_time, true))
    AND o.licences <@ %(licences)s::text[]
    AND (%(sources)s::text[] IS NULL OR o.source_id = ANY (%(sources)s::text[]))
"""


# The HNSW walk filters on the chord alone: with the box condition the planner would take the GiST index
# (whose selectivity it underestimates) and sort every offer in the box, which is what this plan avoids.
_HARD_FILTERS_FOR_HNSW = HARD_FILTERS.replace(
    "earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius_m)s) @> o.pt\n             AND ", ""
)
if _HARD_FILTERS_FOR_HNSW == HARD_FILTERS:
    raise RuntimeError("the HNSW filters must drop the box condition of HARD_FILTERS")

_SEMANTIC_HNSW = f"""
SELECT o.id, o.embedding <=> %(query)s AS cosine_distance FROM offers AS o
WHERE {_HARD_FILTERS_FOR_HNSW}
ORDER BY o.embedding <=> %(query)s
LIMIT %(depth)s
"""

_POOL_AND_DETAILS = """
ranked AS (
    SELECT id, 'semantic' AS channel, row_number() OVER (ORDER BY cosine_distance, id) AS rank FROM sem
    UNION ALL SELECT id, 'lexical', row_number() OVER (ORDER BY lexical DESC, id) FROM lex
    UNION ALL SELECT id, 'job', row_number() OVER (ORDER BY tier, cosine_distance, id) FROM job
),
pool AS (SELECT id, jsonb_object_agg(channel, rank) AS ranks FROM ranked GROUP BY id)
SELECT o.id, o.company_id, o.title, o.rome_code, o.appellation_label, o.contract_type, o.hours_per_week,
       o.part_time, o.work_schedule, o.experience_required, o.experience_months, o.education_level, o.skills,
       o.languages, o.licences, o.commune_insee, o.workplace_label, o.qpv_code, o.lat, o.lon, o.remote_work,
       o.positions, COALESCE(o.source_created_at, o.created_at) AS published_at,
       c.name AS company_name, COALESCE(c.lee_member, false) AS lee_member,
       COALESCE(c.eq2030, false) AS eq2030, COALESCE(c.qpv_clause, false) AS qpv_clause,
       p.ranks, {filtered_count} AS filtered_count,
       1 - (o.embedding <=> %(query)s) AS similarity,
       COALESCE(ts_rank_cd(o.search_tsv, tsq.q, 32), 0) AS lexical,
       CASE WHEN o.lat IS NOT NULL AND %(lat)s::float8 IS NOT NULL
            THEN earth_distance(ll_to_earth(%(lat)s, %(lon)s), ll_to_earth(o.lat, o.lon)) / 1000 END
           AS distance_km,
       (SELECT count(DISTINCT mi.candidate_key) FROM match_items AS mi
        JOIN match_requests AS mr ON mr.id = mi.request_id
        WHERE mi.offer_id = o.id AND mr.served_at > now() - interval '30 days'
          AND mi.candidate_key IS DISTINCT FROM %(own_key)s) AS recent_proposals
FROM pool AS p
JOIN offers AS o ON o.id = p.id
CROSS JOIN tsq
LEFT JOIN companies AS c ON c.id = o.company_id
"""
_TSQUERY = "tsq AS MATERIALIZED (SELECT to_tsquery('french'::regconfig, maillage_unaccent(%(lexical)s)) AS q),"

# Few offers pass the filters: one scan through the GiST index reads them all (up to `cap`, beyond which
# the caller switches to HNSW), computes the exact cosine, and the three channels rank that set.
HYBRID_EXACT = f"""
WITH filtered AS MATERIALIZED (
    SELECT o.id, o.embedding <=> %(query)s AS cosine_distance, o.rome_code, o.search_tsv
    FROM offers AS o
    WHERE {HARD_FILTERS}
    LIMIT %(cap)s
),
{_TSQUERY}
sem AS (SELECT id, cosine_distance FROM filtered ORDER BY cosine_distance, id LIMIT %(depth)s),
lex AS (
    SELECT f.id, ts_rank_cd(f.search_tsv, tsq.q, 32) AS lexical FROM filtered AS f, tsq
    WHERE f.search_tsv @@ tsq.q ORDER BY lexical DESC, f.id LIMIT %(depth)s
),
job AS (
    SELECT id, (rome_code <> ALL (%(target_codes)s::bpchar[]))::int AS tier, cosine_distance FROM filtered
    WHERE rome_code = ANY (%(job_codes)s::bpchar[]) ORDER BY tier, cosine_distance, id LIMIT %(depth)s
),
{_POOL_AND_DETAILS.format(filtered_count="(SELECT count(*) FROM filtered)")}
"""

# Many offers pass the filters: HNSW with iterative scans for the semantic channel, the GIN index for the
# lexical one, the ROME-code index for the job one, each under the same filters.
HYBRID_HNSW = f"""
WITH sem AS MATERIALIZED ({_SEMANTIC_HNSW}),
{_TSQUERY}
lex AS MATERIALIZED (
    SELECT o.id, ts_rank_cd(o.search_tsv, tsq.q, 32) AS lexical
    FROM offers AS o, tsq
    WHERE {HARD_FILTERS} AND o.search_tsv @@ tsq.q
    ORDER BY lexical DESC, o.id
    LIMIT %(depth)s
),
job AS MATERIALIZED (
    SELECT o.id, (o.rome_code <> ALL (%(target_codes)s::bpchar[]))::int AS tier,
           o.embedding <=> %(query)s AS cosine_distance
    FROM offers AS o
    WHERE {HARD_FILTERS} AND o.rome_code = ANY (%(job_codes)s::bpchar[])
    ORDER BY tier, cosine_distance, o.id
    LIMIT %(depth)s
),
{_POOL_AND_DETAILS.format(filtered_count="NULL::bigint")}
"""


@dataclass(frozen=True, slots=True)
class HardFilters:
    """Barriers applied in SQL: contracts wanted, weekly hours, part time, licences held, sources."""

    contracts: tuple[str, ...] | None = None
    hours_min: float | None = None
    hours_max: float | None = None
    part_time_only: bool = False
    licences: tuple[str, ...] = ()
    sources: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class OfferQuery:
    """A stage-1 search for one candidate: profile vector, centre and radius (None: all of France), job codes."""

    embedding: np.ndarray
    lat: float | None
    lon: float | None
    radius_km: float | None
    filters: HardFilters = HardFilters()
    target_codes: tuple[str, ...] = ()
    mobility_codes: tuple[str, ...] = ()
    lexical_terms: str | None = None
    depth: int = CHANNEL_DEPTH
    # The candidate's own earlier proposals do not count as congestion (pages stay stable).
    own_key: str | None = None


@dataclass(frozen=True, slots=True)
class HybridResult:
    """Stage-1 pool: offer rows (with channel ranks and pair measures), fused order, the plan used."""

    rows: list[dict]
    fused: list[tuple[int, float]]
    plan: str


def lexical_query(texts: list[str], max_terms: int = LEXICAL_MAX_TERMS) -> str | None:
    """An OR full-text query (tsquery syntax) from job labels and skills, most important words first."""
    words: list[str] = []
    for text in texts:
        for word in _LEXICAL_WORD.findall(fold(text or "")):
            if word not in STOPWORDS and word not in words:
                words.append(word)
    return " | ".join(words[:max_terms]) or None


def reciprocal_rank_fusion(channels: dict[str, list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score = Σ 1 / (k + rank); ties broken by id for a stable order."""
    scores: dict[int, float] = {}
    for ranking in channels.values():
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def hybrid_params(q: OfferQuery) -> dict:
    """Bind parameters of the hybrid and count queries."""
    embedding = q.embedding.to_numpy() if hasattr(q.embedding, "to_numpy") else q.embedding
    radius_m = None if q.radius_km is None else q.radius_km * 1000
    f = q.filters
    return {
        "query": np.asarray(embedding, dtype=np.float32),
        "lat": q.lat,
        "lon": q.lon,
        "radius_m": radius_m,
        "chord_m": None if radius_m is None else chord_for_arc(radius_m),
        "contracts": list(f.contracts) if f.contracts else None,
        "hours_min": f.hours_min,
        "hours_max": f.hours_max,
        "part_time_only": f.part_time_only,
        "licences": list(f.licences),
        "sources": list(f.sources) if f.sources else None,
        "lexical": q.lexical_terms,
        "target_codes": list(q.target_codes),
        "job_codes": list(dict.fromkeys([*q.target_codes, *q.mobility_codes])),
        "depth": q.depth,
        "own_key": q.own_key,
    }


def hybrid_offers(conn: psycopg.Connection, q: OfferQuery) -> HybridResult:
    """Stage 1: the union of the three channels under the hard filters, with their fused order.

    The exact plan is tried first with a cap of `EXACT_MAX_FILTERED` filtered offers; when the cap is
    reached (or there is no radius) the HNSW plan runs instead, and if its walk comes back under-filled the
    exact plan runs without cap, so k results are returned whenever they exist.
    """
    params = hybrid_params(q)
    with conn.transaction():
        plan, rows = "exact", []
        if params["radius_m"] is not None:
            rows = _run_hybrid(conn, "exact", {**params, "cap": EXACT_MAX_FILTERED})
            if rows and rows[0]["filtered_count"] >= EXACT_MAX_FILTERED:
                plan = "hnsw"
        else:
            plan = "hnsw"
        if plan == "hnsw":
            rows = _run_hybrid(conn, "hnsw", params)
            if sum(1 for r in rows if "semantic" in r["ranks"]) < q.depth:
                plan = "exact-fallback"
                rows = _run_hybrid(conn, "exact", {**params, "cap": None})
    channels: dict[str, list[int]] = {"semantic": [], "lexical": [], "job": []}
    for channel, ranking in channels.items():
        ranked = sorted((r["ranks"][channel], r["id"]) for r in rows if channel in r["ranks"])
        ranking.extend(item for _, item in ranked)
    return HybridResult(rows, reciprocal_rank_fusion(channels), plan)


def _run_hybrid(conn: psycopg.Connection, plan: str, params: dict) -> list[dict]:
    if plan == "hnsw":
        conn.execute(HNSW_SESSION_SETTINGS, {"ef_search": str(HNSW_EF_SEARCH)})
        return conn.execute(HYBRID_HNSW, params).fetchall()
    return conn.execute(HYBRID_EXACT, params).fetchall()
