"""Stage-1 retrieval: hard filters in SQL, then semantic, lexical and job-code channels fused by rank.

Plan per query (docs/ranking.md has the measurements): the active offers in the grid cells around the place are
summed from per-cell counts (migration 0011). Up to EXACT_MAX_AROUND, the exact plan reads them from the covering
B-tree (migrations 0007–0009: keyed by contract type then grid cell of the place, the filter columns, the
half-precision vector and the title and skill words as payload, no table read), orders the semantic channel by the
half-precision distance (its rounding moved distances by at most 4e-5 on the benchmark, and a top 10 seldom:
recall@10 0.9995), and ranks the lexical matches by ts_rank inside the scan (beyond LEXICAL_SCAN_MAX_AROUND, in
dense areas, the words of the semantic shortlist and of the job channel only). Beyond EXACT_MAX_AROUND, or without a
radius, the HNSW walk on the half-precision graph under the filters (iterative scan), its relaxed order re-ranked
with the full vectors; its lexical channel ranks only the offers the walk and the job channel found. An under-filled
walk falls back to the exact plan. The cover-density rank (ts_rank_cd of the whole text), a feature of the model, is
computed for pool rows only. JIT is off for these short queries. The exact plan by grid cells runs on one generic
plan per connection (planning it cost ~2 ms a search); the HNSW plan and the box fallback are planned for each
search (sent unprepared, see matching.storage.database).
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import psycopg

from matching.domain import CONTRACT_TYPES
from matching.features import STOPWORDS
from matching.geo import chord_for_arc, place_cells
from matching.referentiels.text import fold
from matching.storage.database import fetch_on_custom_plan, fetch_on_generic_plan

# Candidate-list size of the HNSW walk: pgvector's default (40) loses too many true neighbours at k=10+.
HNSW_EF_SEARCH = 200
# The iterative walk stops once its visited set outgrows work_mem × this multiplier; at the default (1) it
# stopped early and returned under-filled lists when few of the visited offers pass the filters.
HNSW_SCAN_MEM_MULTIPLIER = 8

# Only run once the count of offers around the place has shown a dense area. The planner cannot know it (it
# underestimates the box and the array filters) and would scan and sort them all instead of walking the
# graph, so the transaction discourages every other way to order the semantic channel. JIT compilation
# costs more than these short queries: off.
HNSW_SESSION_SETTINGS = """
SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
       set_config('hnsw.ef_search', %(ef_search)s, true),
       set_config('hnsw.scan_mem_multiplier', %(scan_mem_multiplier)s, true),
       set_config('enable_seqscan', 'off', true),
       set_config('enable_bitmapscan', 'off', true),
       set_config('enable_sort', 'off', true),
       set_config('jit', 'off', true)
"""
# The exact plan may follow an under-filled HNSW walk in the same transaction: undo that plan's settings.
EXACT_SESSION_SETTINGS = """
SELECT set_config('enable_seqscan', 'on', true),
       set_config('enable_bitmapscan', 'on', true),
       set_config('enable_sort', 'on', true),
       set_config('jit', 'off', true)
"""

RRF_K = 60
# Offers each channel brings to stage 2 (~60 once fused). On the 100k benchmark (150 candidates, same run), against
# 60: the served top 10 keeps 98.0 % of its offers (top 20: 95.3 %), and what it swaps are near-ties of the model
# (mean score of the top 10: 12.5001 → 12.4979; the share of the candidate's own ROME codes in it is the same,
# 0.344) for 13 % less time a request (27.0 → 23.6 ms, engine level). 100 → 60 before: top 10 99.1 %, 27 % less.
CHANNEL_DEPTH = 40
# The dense plan's walk returns this many times the channel depth: the re-ranking puts the relaxed order of
# the walk right, and the lexical channel ranks that set (see HYBRID_HNSW).
HNSW_POOL_FACTOR = 3
# Up to this many active offers in the cells around the place, the exact plan (an index-only scan of the covering
# B-tree) serves the three channels; beyond it, or beyond MAX_PLACE_CELLS cells (radii of ~150 km and more), the HNSW
# plan runs.
EXACT_MAX_AROUND = 40000
# Beyond this many offers in the cells around the place, the exact plan's lexical channel ranks the words of the
# semantic shortlist and of the job channel's offers, not of every filtered offer: matching and ranking the words
# was over half of the scan's cost (~0.7 µs an offer for the match, ~1 µs a matching offer for the rank). On 60
# benchmark searches with more than 3,000 offers passing the filters (median 6,587): the served top 10 keeps
# 98.7 % of its offers (top 20: 94.9 %), the same share of the candidate's own ROME codes in it (0.845), for 28 %
# less time a request (53.8 → 38.5 ms, engine level).
LEXICAL_SCAN_MAX_AROUND = 8000
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


def _rewritten(filters: str, old: str, new: str) -> str:
    if filters.count(old) != 1:
        raise RuntimeError(f"HARD_FILTERS changed: cannot rewrite {old!r}")
    return filters.replace(old, new)


# The search's centre and the query's half-precision vector, computed once (sub-selects: InitPlans). A generic plan
# would compute them again for every row it filters or ranks. The reverse direction (matching.matches) uses both
# CENTRE and ARC_KM too.
CENTRE = "(SELECT ll_to_earth(%(lat)s, %(lon)s)::cube)"
_QUERY_HALF = "(SELECT %(query)s::halfvec(384))"
# The exact plan reads the grid cells that cover the circle from the covering B-tree (migration 0009), then keeps
# the offers within the radius; beyond MAX_PLACE_CELLS cells (radii of ~150 km and more, where the HNSW plan runs
# first) its fallback reads the box instead, on custom plans.
# By grid cells it runs on one generic plan per connection (matching.storage.database.fetch_on_generic_plan):
# planning it cost ~2 ms a search. A generic plan cannot fold a parameter's NULL test, so the index conditions
# stand alone: the radius is always set on this plan, and the contract types are always a list (`contract_types`,
# every type when the candidate states no preference).
_HARD_FILTERS_BY_CELLS = _rewritten(
    _rewritten(
        HARD_FILTERS,
        """AND (%(radius_m)s::float8 IS NULL
         OR (earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius_m)s) @> o.pt
             AND cube_distance(o.pt, ll_to_earth(%(lat)s, %(lon)s)::cube) < %(chord_m)s))""",
        f"""AND o.place_cell = ANY (%(cells)s::int[])
    AND cube_distance(o.pt, {CENTRE}) < %(chord_m)s""",
    ),
    "AND (%(contracts)s::text[] IS NULL OR o.contract_type = ANY (%(contracts)s::text[]))",
    "AND o.contract_type = ANY (%(contract_types)s::text[])",
)
MAX_PLACE_CELLS = 5000

# The HNSW walk filters on the chord alone: with the box condition the planner would take the GiST index
# (whose selectivity it underestimates) and sort every offer in the box, which is what this plan avoids. The
# job channel of that plan filters the same way, so that it reads the ROME-code index.
_HARD_FILTERS_FOR_HNSW = HARD_FILTERS.replace(
    "earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius_m)s) @> o.pt\n             AND ", ""
)
if _HARD_FILTERS_FOR_HNSW == HARD_FILTERS:
    raise RuntimeError("the HNSW filters must drop the box condition of HARD_FILTERS")

# Active offers in the cells of the circle, from the per-cell counts (migration 0011, refreshed after ingestion,
# embedding and expiry), with the settings of EXACT_SESSION_SETTINGS in the same round trip.
COUNT_AROUND = """
SELECT set_config('enable_seqscan', 'on', true), set_config('enable_bitmapscan', 'on', true),
       set_config('enable_sort', 'on', true), set_config('jit', 'off', true),
       (SELECT coalesce(sum(offers), 0) FROM offer_place_counts WHERE place_cell = ANY (%(cells)s::int[])) AS n
"""

_SEMANTIC_HNSW = f"""
SELECT o.id FROM offers AS o
WHERE {_HARD_FILTERS_FOR_HNSW}
ORDER BY o.embedding_half <=> %(query)s::halfvec(384)
LIMIT %(walk)s
"""

# Great-circle distance in km from the chord between two `ll_to_earth` points: the same value as earth_distance
# (whose SQL-language helpers cost ~25–55 µs a call, against ~0.1 µs for this arithmetic on the C cube_distance).
ARC_KM = f"(2 * 6378168.0 * asin(least(cube_distance({{pt}}, {CENTRE}) / (2 * 6378168.0), 1.0)) / 1000)"
# Channel ranks, then one row per offer of the pool with what stage 2 reads. The lexical measure of a pool row
# is the cover-density rank (a feature of the model); it costs ~25 µs a matching row, so only pool rows pay it.
# The similarity is the half-precision one. Each channel carries the half-precision distance it read (`approx`: the
# exact plan's from the covering index; NULL for the HNSW walk, whose order is the full vectors'), so a pool row
# reads its vector from the table only when no channel did: 91 % of the benchmark's rows keep both vectors out of
# line, one TOAST read each (same run, 222 searches: identical rows, 0.4 ms less a search).
_POOL_AND_DETAILS = f"""
ranked AS (
    SELECT id, 'semantic' AS channel, row_number() OVER (ORDER BY cosine_distance, id) AS rank, approx FROM sem
    UNION ALL SELECT id, 'lexical', row_number() OVER (ORDER BY lexical DESC, id), approx FROM lex
    UNION ALL SELECT id, 'job', row_number() OVER (ORDER BY tier, cosine_distance, id), cosine_distance FROM job
),
pool AS (
    SELECT id, min(rank) FILTER (WHERE channel = 'semantic') AS rank_semantic,
           min(rank) FILTER (WHERE channel = 'lexical') AS rank_lexical,
           min(rank) FILTER (WHERE channel = 'job') AS rank_job,
           min(approx) AS approx
    FROM ranked GROUP BY id
)
SELECT o.id, o.company_id, o.title, o.rome_code, o.appellation_label, o.contract_type, o.hours_per_week,
       o.part_time, o.work_schedule, o.experience_required, o.experience_months, o.education_level, o.skills,
       o.languages, o.licences, o.commune_insee, o.workplace_label, o.qpv_code, o.lat, o.lon, o.remote_work,
       o.positions, COALESCE(o.source_created_at, o.created_at) AS published_at,
       c.name AS company_name, COALESCE(c.lee_member, false) AS lee_member,
       COALESCE(c.eq2030, false) AS eq2030, COALESCE(c.qpv_clause, false) AS qpv_clause,
       p.rank_semantic, p.rank_lexical, p.rank_job,
       1 - COALESCE(p.approx, o.embedding_half <=> {_QUERY_HALF}) AS similarity,
       CASE WHEN o.search_tsv @@ tsq.q THEN ts_rank_cd(o.search_tsv, tsq.q, 32) ELSE 0 END AS lexical,
       {ARC_KM.format(pt="o.pt")} AS distance_km,
       (SELECT count(*) FROM offer_exposure AS e
        WHERE e.offer_id = o.id AND e.last_served_at > now() - interval '30 days'
          AND e.candidate_key IS DISTINCT FROM %(own_key)s) AS recent_proposals
FROM pool AS p
JOIN offers AS o ON o.id = p.id
CROSS JOIN tsq
LEFT JOIN companies AS c ON c.id = o.company_id
"""
_TSQUERY = "tsq AS MATERIALIZED (SELECT to_tsquery('french'::regconfig, maillage_unaccent(%(lexical)s)) AS q),"

# Up to `EXACT_MAX_AROUND` offers around the place: an index-only scan of the covering B-tree (see hybrid_exact_sql)
# reads them with their half-precision vectors and their title and skill words (`lexical_tsv`, migration 0009). The
# semantic channel ranks them by their half-precision distance (re-ranking its best with the full vectors cost ~1.4 ms
# a search, one table and TOAST read each, for a top 10 that differed once in 200 searches); the job channel ranks the
# same set; the lexical channel ranks every filtered offer whose words match, from the index entry (in dense areas,
# see LEXICAL_SCAN_MAX_AROUND, the nearest offers' and the job channel's only).
_EXACT_TEMPLATE = f"""
WITH {_TSQUERY}
filtered AS MATERIALIZED ({{filtered}}),
shortlist AS MATERIALIZED (SELECT id, approx FROM filtered ORDER BY approx, id LIMIT %(walk)s),
sem AS (SELECT id, approx AS cosine_distance, approx FROM shortlist ORDER BY approx, id LIMIT %(depth)s),
job AS MATERIALIZED (
    SELECT id, (rome_code <> ALL (%(target_codes)s::bpchar[]))::int AS tier, approx AS cosine_distance
    FROM filtered
    WHERE rome_code = ANY (%(job_codes)s::bpchar[])
    ORDER BY tier, approx, id
    LIMIT %(depth)s
),
lex AS ({{lexical}}),
{_POOL_AND_DETAILS}
"""
# The words are matched inside the scan: the filtered rows carry a rank, not their text vector.
_FILTERED = f"""
    SELECT o.id, o.embedding_half <=> {_QUERY_HALF} AS approx, o.rome_code{{lexical}}
    FROM offers AS o
    WHERE {{filters}}
"""
_LEXICAL_IN_SCAN = """,
           CASE WHEN o.lexical_tsv @@ (SELECT q FROM tsq) THEN ts_rank(o.lexical_tsv, (SELECT q FROM tsq), 32) END
               AS lexical"""
_LEXICAL_OF_EVERY_OFFER = """
    SELECT id, lexical, approx FROM filtered WHERE lexical IS NOT NULL ORDER BY lexical DESC, id LIMIT %(depth)s
"""
# Dense areas and the HNSW plan: the words of the semantically nearest offers (`nearest`: the CTE holding them) and
# of the job channel's offers only, read from the table by id.
_LEXICAL_OF_THE_NEAREST = """
    SELECT o.id, ts_rank(o.lexical_tsv, tsq.q, 32) AS lexical, n.approx
    FROM (SELECT id, min(approx) AS approx
          FROM (SELECT id, approx FROM {nearest} UNION ALL SELECT id, cosine_distance FROM job) AS u
          GROUP BY id) AS n
    JOIN offers AS o ON o.id = n.id, tsq
    WHERE o.lexical_tsv @@ tsq.q
    ORDER BY lexical DESC, o.id
    LIMIT %(depth)s
"""


@lru_cache(maxsize=4)
def hybrid_exact_sql(by_cells: bool = True, lexical_scan: bool = True) -> str:
    """The exact plan: one index-only scan of the covering B-tree, by grid cells (see place_cells) or by the box.

    The index leads with the contract type: PostgreSQL 18 walks `contract_type = ANY` and `place_cell = ANY`
    together (one descent per run of adjacent keys), so a scan reads only the wanted types' entries. One scan
    per type, the plan of migration 0008, cost ~5 % more on the 100k benchmark (planning the branches).
    `lexical_scan`: the lexical channel ranks every filtered offer whose words match; otherwise (dense areas,
    see LEXICAL_SCAN_MAX_AROUND) only the semantic shortlist and the job channel's offers.
    """
    filtered = _FILTERED.format(filters=_HARD_FILTERS_BY_CELLS if by_cells else HARD_FILTERS,
                                lexical=_LEXICAL_IN_SCAN if lexical_scan else "")  # fmt: skip
    lexical = _LEXICAL_OF_EVERY_OFFER if lexical_scan else _LEXICAL_OF_THE_NEAREST.format(nearest="shortlist")
    return _EXACT_TEMPLATE.replace("{filtered}", filtered).replace("{lexical}", lexical)


# Many offers around the place (or no radius): the HNSW walk under the filters returns `walk` offers, which the
# full vectors re-rank for the semantic channel; the job channel reads the ROME-code index under the same
# filters. Ranking every matching text of a dense area costs more than the rest of the request (thousands of
# rows), so the lexical channel ranks the offers the walk and the job channel found, by term frequency.
HYBRID_HNSW = f"""
WITH walked AS MATERIALIZED (
    SELECT w.id, o.embedding <=> %(query)s AS cosine_distance, NULL::float8 AS approx
    FROM ({_SEMANTIC_HNSW}) AS w
    JOIN offers AS o ON o.id = w.id
),
sem AS (SELECT id, cosine_distance, approx FROM walked ORDER BY cosine_distance, id LIMIT %(depth)s),
job AS MATERIALIZED (
    SELECT o.id, (o.rome_code <> ALL (%(target_codes)s::bpchar[]))::int AS tier,
           o.embedding_half <=> %(query)s::halfvec(384) AS cosine_distance
    FROM offers AS o
    WHERE {_HARD_FILTERS_FOR_HNSW} AND o.rome_code = ANY (%(job_codes)s::bpchar[])
    ORDER BY tier, cosine_distance, o.id
    LIMIT %(depth)s
),
{_TSQUERY}
lex AS ({_LEXICAL_OF_THE_NEAREST.format(nearest="walked")}),
{_POOL_AND_DETAILS}
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
    contracts = list(dict.fromkeys(f.contracts)) if f.contracts else None
    cells = None if radius_m is None else place_cells(q.lat, q.lon, radius_m)
    return {
        "query": np.asarray(embedding, dtype=np.float32),
        "lat": q.lat,
        "lon": q.lon,
        "radius_m": radius_m,
        "chord_m": None if radius_m is None else chord_for_arc(radius_m),
        # An array literal: psycopg dumps a list item by item in Python (~1 ms for the 284 cells of a 40 km search).
        "cells": None if cells is None else "{" + ",".join(map(str, cells)) + "}",
        "cell_count": None if cells is None else len(cells),
        "contracts": contracts,
        "contract_types": contracts or list(CONTRACT_TYPES),
        "hours_min": f.hours_min,
        "hours_max": f.hours_max,
        "part_time_only": f.part_time_only,
        "licences": list(f.licences),
        "sources": list(f.sources) if f.sources else None,
        "lexical": q.lexical_terms,
        "target_codes": list(q.target_codes),
        "job_codes": list(dict.fromkeys([*q.target_codes, *q.mobility_codes])),
        "depth": q.depth,
        "walk": q.depth * HNSW_POOL_FACTOR,
        "own_key": q.own_key,
    }


def hybrid_offers(conn: psycopg.Connection, q: OfferQuery) -> HybridResult:
    """Stage 1: the union of the three channels under the hard filters, with their fused order.

    The offers in the cells around the place are summed first: up to `EXACT_MAX_AROUND`, the exact plan (its
    lexical channel narrowed beyond `LEXICAL_SCAN_MAX_AROUND`: "exact-dense"); more (or no radius, or a radius of
    ~150 km and more), the HNSW plan, and if its walk comes back under-filled the exact plan runs, so k results
    are returned whenever they exist.
    """
    params = hybrid_params(q)
    # The plan's settings are local to a transaction: the caller's when there is one (no savepoint round trips).
    in_transaction = conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    with nullcontext() if in_transaction else conn.transaction():
        plan = "hnsw"
        if params["cells"] is not None and params["cell_count"] <= MAX_PLACE_CELLS:
            # The count also sets the exact plan's settings (an HNSW plan earlier in the same transaction left
            # its own): that plan then needs no round trip of its own.
            around = conn.execute(COUNT_AROUND, params).fetchone()["n"]
            if around > EXACT_MAX_AROUND:
                plan = "hnsw"
            else:
                plan = "exact" if around <= LEXICAL_SCAN_MAX_AROUND else "exact-dense"
        rows = _run_hybrid(conn, plan, params, settings=plan == "hnsw")
        if plan == "hnsw" and sum(1 for r in rows if r["rank_semantic"] is not None) < q.depth:
            plan = "exact-fallback"
            rows = _run_hybrid(conn, "exact", params, settings=True)
    for r in rows:
        r["ranks"] = {channel: rank for channel in ("semantic", "lexical", "job")
                      if (rank := r.pop(f"rank_{channel}")) is not None}  # fmt: skip
    channels: dict[str, list[int]] = {"semantic": [], "lexical": [], "job": []}
    for channel, ranking in channels.items():
        ranked = sorted((r["ranks"][channel], r["id"]) for r in rows if channel in r["ranks"])
        ranking.extend(item for _, item in ranked)
    return HybridResult(rows, reciprocal_rank_fusion(channels), plan)


def _run_hybrid(conn: psycopg.Connection, plan: str, params: dict, settings: bool) -> list[dict]:
    # Pool rows come in binary: decoding ~170 rows of 34 columns from text took ~5 ms of a ~28 ms stage 1.
    if plan == "hnsw":
        conn.execute(HNSW_SESSION_SETTINGS, {"ef_search": str(HNSW_EF_SEARCH),
                                             "scan_mem_multiplier": str(HNSW_SCAN_MEM_MULTIPLIER)})  # fmt: skip
        return fetch_on_custom_plan(conn, HYBRID_HNSW, params, binary=True)
    if settings:
        conn.execute(EXACT_SESSION_SETTINGS)
    by_cells = params["cells"] is not None and params["cell_count"] <= MAX_PLACE_CELLS
    sql = hybrid_exact_sql(by_cells, lexical_scan=plan != "exact-dense")
    if by_cells:
        return fetch_on_generic_plan(conn, sql, params, binary=True)
    return fetch_on_custom_plan(conn, sql, params, binary=True)
