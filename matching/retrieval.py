"""Stage-1 retrieval: active offers within a radius, ranked by cosine similarity through HNSW."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg

from matching.geo import chord_for_arc

# Above this many active offers in the search box, walking the HNSW graph beats sorting them all.
HNSW_MIN_CANDIDATES = 2000
# Candidate-list size of the HNSW walk: pgvector's default (40) loses too many true neighbours at k=10+.
HNSW_EF_SEARCH = 200

HNSW_SESSION_SETTINGS = """
SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
       set_config('hnsw.ef_search', %(ef_search)s, true)
"""

COUNT_ACTIVE_IN_BOX_CAPPED = """
SELECT count(*) AS n FROM (
    SELECT 1 FROM offers AS o
    WHERE o.status = 'active' AND earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius_m)s) @> o.pt
    LIMIT %(cap)s
) AS in_box
"""

_DETAILS = """
SELECT o.id, o.title, o.rome_code, o.appellation_label, o.contract_type, o.hours_per_week,
       o.commune_insee, o.workplace_label, o.qpv_code, o.lat, o.lon,
       c.name AS company_name, COALESCE(c.lee_member, false) AS lee_member,
       COALESCE(c.eq2030, false) AS eq2030, COALESCE(c.qpv_clause, false) AS qpv_clause,
       1 - n.cosine_distance AS similarity,
       earth_distance(ll_to_earth(%(lat)s, %(lon)s), ll_to_earth(o.lat, o.lon)) / 1000 AS distance_km
FROM nearest AS n
JOIN offers AS o ON o.id = n.id
LEFT JOIN companies AS c ON c.id = o.company_id
ORDER BY n.cosine_distance, o.id
"""

# Few offers in reach: the GiST index finds them, then an exact sort ("+ 0" keeps the planner off HNSW).
GEOGRAPHY_FIRST = """
WITH nearest AS MATERIALIZED (
    SELECT o.id, o.embedding <=> %(query)s AS cosine_distance
    FROM offers AS o
    WHERE o.status = 'active' AND o.embedding IS NOT NULL
      AND earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius_m)s) @> o.pt
      AND cube_distance(o.pt, ll_to_earth(%(lat)s, %(lon)s)::cube) < %(chord_m)s
    ORDER BY (o.embedding <=> %(query)s) + 0
    LIMIT %(limit)s
)
""" + _DETAILS

# Many offers in reach: HNSW with iterative scans (relaxed_order) filters on the radius as it walks;
# the outer query restores the exact order.
SEMANTIC_FIRST = """
WITH nearest AS MATERIALIZED (
    SELECT o.id, o.embedding <=> %(query)s AS cosine_distance
    FROM offers AS o
    WHERE o.status = 'active'
      AND cube_distance(o.pt, ll_to_earth(%(lat)s, %(lon)s)::cube) < %(chord_m)s
    ORDER BY o.embedding <=> %(query)s
    LIMIT %(limit)s
)
""" + _DETAILS


@dataclass(frozen=True, slots=True)
class SimilarOffer:
    """An offer found by the semantic channel, with its similarity and distance to the search centre."""

    id: int
    title: str
    rome_code: str | None
    appellation_label: str | None
    contract_type: str
    hours_per_week: float | None
    commune_insee: str | None
    workplace_label: str | None
    qpv_code: str | None
    lat: float
    lon: float
    company_name: str | None
    lee_member: bool
    eq2030: bool
    qpv_clause: bool
    similarity: float
    distance_km: float


def retrieval_plan(conn: psycopg.Connection, lat: float, lon: float, radius_m: float) -> str:
    """Choose the query for this search by how many active offers lie in its box (counted up to a cap)."""
    in_box = conn.execute(
        COUNT_ACTIVE_IN_BOX_CAPPED, {"lat": lat, "lon": lon, "radius_m": radius_m, "cap": HNSW_MIN_CANDIDATES}
    ).fetchone()["n"]
    return SEMANTIC_FIRST if in_box >= HNSW_MIN_CANDIDATES else GEOGRAPHY_FIRST


def search_params(query: np.ndarray, lat: float, lon: float, radius_m: float, limit: int) -> dict:
    """Bind parameters shared by both retrieval queries."""
    if hasattr(query, "to_numpy"):  # a pgvector Vector read from the database
        query = query.to_numpy()
    return {
        "query": np.asarray(query, dtype=np.float32),
        "lat": lat,
        "lon": lon,
        "radius_m": radius_m,
        "chord_m": chord_for_arc(radius_m),
        "limit": limit,
    }


def nearby_similar_offers(
    conn: psycopg.Connection, query: np.ndarray, lat: float, lon: float, radius_km: float, limit: int
) -> list[SimilarOffer]:
    """Active offers within `radius_km` of (lat, lon), most similar first."""
    radius_m = radius_km * 1000
    with conn.transaction():
        statement = retrieval_plan(conn, lat, lon, radius_m)
        conn.execute(HNSW_SESSION_SETTINGS, {"ef_search": str(HNSW_EF_SEARCH)})
        rows = conn.execute(statement, search_params(query, lat, lon, radius_m, limit)).fetchall()
    return [SimilarOffer(**row) for row in rows]
