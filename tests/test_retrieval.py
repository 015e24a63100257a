"""First-slice retrieval: radius filter + cosine ranking through the HNSW index, on a real database."""

from __future__ import annotations

import numpy as np
import pytest

from matching.domain import OfferRecord
from matching.geo import chord_for_arc, haversine_km
from matching.retrieval import (
    HNSW_EF_SEARCH,
    HNSW_SESSION_SETTINGS,
    nearby_similar_offers,
    retrieval_plan,
    search_params,
)
from matching.storage.offers import ensure_source, upsert_offer

PARIS = (48.8566, 2.3522)


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture()
def random_offers(conn):
    """3,000 offers with random vectors scattered within ~60 km of Paris."""
    rng = np.random.default_rng(7)
    ensure_source(conn, "demo", "demo", "Démo")
    vectors = _unit(rng, 3000)
    lats, lons = PARIS[0] + rng.uniform(-0.6, 0.6, 3000), PARIS[1] + rng.uniform(-0.8, 0.8, 3000)
    points = np.column_stack([lats, lons])
    for i in range(3000):
        offer = OfferRecord(source_id="demo", external_id=str(i), title=f"Offre {i}", description="Texte",
                            contract_type="CDI", lat=float(lats[i]), lon=float(lons[i]))  # fmt: skip
        offer_id = upsert_offer(conn, offer, None).offer_id
        conn.execute("UPDATE offers SET embedding = %s, embedding_model = 'test' WHERE id = %s",
                     (vectors[i], offer_id))  # fmt: skip
    conn.execute("ANALYZE offers")
    conn.commit()
    return vectors, points


def _exact(vectors, points, query, radius_km, k):
    inside = [i for i in range(len(points)) if haversine_km(*PARIS, *points[i]) < radius_km]
    return sorted(inside, key=lambda i: -float(vectors[i] @ query))[:k]


def test_results_are_within_radius_and_ordered(conn, random_offers):
    query = _unit(np.random.default_rng(1), 1)[0]
    results = nearby_similar_offers(conn, query, *PARIS, radius_km=20, limit=10)
    assert len(results) == 10
    assert all(r.distance_km < 20 for r in results)
    sims = [r.similarity for r in results]
    assert sims == sorted(sims, reverse=True)


def test_recall_against_exact_search(conn, random_offers):
    vectors, points = random_offers
    rng = np.random.default_rng(3)
    id_of = {r["external_id"]: r["id"] for r in conn.execute("SELECT id, external_id FROM offers")}
    for radius_km in (10, 25, 150):
        recalls = []
        for query in _unit(rng, 10):
            exact = {id_of[str(i)] for i in _exact(vectors, points, query, radius_km, 10)}
            found = {r.id for r in nearby_similar_offers(conn, query, *PARIS, radius_km=radius_km, limit=10)}
            recalls.append(len(exact & found) / len(exact))
        assert np.mean(recalls) >= 0.95, (radius_km, recalls)


def _plan(conn, query, radius_m: float) -> str:
    with conn.transaction():
        statement = retrieval_plan(conn, *PARIS, radius_m)
        conn.execute(HNSW_SESSION_SETTINGS, {"ef_search": str(HNSW_EF_SEARCH)})
        plan = conn.execute("EXPLAIN " + statement, search_params(query, *PARIS, radius_m, 10)).fetchall()
    return "\n".join(row["QUERY PLAN"] for row in plan)


def test_wide_radius_plan_uses_the_hnsw_index(conn, random_offers):
    """When most offers are in reach, the planner walks the HNSW graph instead of sorting them all."""
    plan = _plan(conn, _unit(np.random.default_rng(2), 1)[0], 150_000)
    assert "offers_embedding_active_idx" in plan, plan


def test_narrow_radius_plan_starts_from_geography(conn, random_offers):
    """With few offers in reach, the GiST index on the location finds them and they are sorted exactly."""
    plan = _plan(conn, _unit(np.random.default_rng(2), 1)[0], 5_000)
    assert "offers_pt_active_idx" in plan, plan


def test_chord_matches_arc_for_small_and_large_distances():
    assert chord_for_arc(0) == 0
    assert chord_for_arc(10_000) == pytest.approx(10_000, rel=1e-6)
    # Half the circumference: the chord is the diameter.
    assert chord_for_arc(np.pi * 6_378_168.0) == pytest.approx(2 * 6_378_168.0)
