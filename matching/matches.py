"""Matches for advisers: the engine's entry points, callable without the HTTP layer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from matching.indexing import TextEncoder, embed_pending_candidates
from matching.referentiels.lookup import commune
from matching.retrieval import SimilarOffer, nearby_similar_offers
from matching.storage.candidates import CandidateAccessor

MAX_LIMIT = 100


class MissingLocation(ValueError):
    """The candidate has neither an address point nor a known commune."""


@dataclass(frozen=True, slots=True)
class CandidateMatches:
    """Offers for one candidate and the radius actually searched."""

    candidate_id: uuid.UUID
    radius_km: float
    model_id: str
    offers: list[SimilarOffer]


def offers_for_candidate(
    conn: psycopg.Connection,
    accessor: CandidateAccessor,
    encoder: TextEncoder,
    candidate_id: uuid.UUID,
    *,
    limit: int,
    radius_km: float | None,
    default_radius_km: float,
) -> CandidateMatches:
    """Rank active offers near a candidate by semantic similarity of the profile and the offers."""
    candidate = accessor.get(candidate_id, purpose="match")
    if candidate["embedding"] is None or candidate["embedding_model"] != encoder.model_id:
        embed_pending_candidates(conn, encoder, candidate_ids=[candidate_id])
        candidate = accessor.get(candidate_id, purpose="match")
    lat, lon = candidate["lat"], candidate["lon"]
    if lat is None:
        place = commune(conn, candidate["commune_insee"])
        if place is None:
            raise MissingLocation(f"commune {candidate['commune_insee']} inconnue")
        lat, lon = place.lat, place.lon
    radius = radius_km or candidate["max_commute_km"] or default_radius_km
    offers = nearby_similar_offers(conn, candidate["embedding"], lat, lon, radius, min(limit, MAX_LIMIT))
    return CandidateMatches(candidate_id, radius, encoder.model_id, offers)
