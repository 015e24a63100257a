"""Matches for a candidate (first slice: semantic similarity within a radius)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import Conn, EmbedderDep, SettingsDep
from api.schemas import CandidateMatchesPublic, EmployerPublic, OfferMatchPublic
from matching.matches import MAX_LIMIT, MissingLocation, offers_for_candidate
from matching.storage.audit import SYSTEM_ACTOR
from matching.storage.candidates import CandidateAccessor, CandidateNotFound

router = APIRouter(prefix="/v1", tags=["mises en relation"])


@router.get(
    "/candidates/{candidate_id}/matches",
    response_model=CandidateMatchesPublic,
    responses={404: {"description": "Candidat inconnu"}, 422: {"description": "Paramètres invalides"}},
)
def candidate_matches(
    candidate_id: uuid.UUID,
    conn: Conn,
    embedder: EmbedderDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    radius_km: Annotated[float | None, Query(gt=0, le=1000, description="Rayon de recherche (km)")] = None,
) -> CandidateMatchesPublic:
    """Offers near the candidate, ranked by semantic similarity with the profile."""
    # Platform scope until adviser authentication scopes it to the caller's structure.
    accessor = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=None)
    try:
        result = offers_for_candidate(conn, accessor, embedder, candidate_id, limit=limit, radius_km=radius_km,
                                      default_radius_km=settings.default_search_radius_km)  # fmt: skip
    except CandidateNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Candidat introuvable.") from None
    except MissingLocation as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"Localisation impossible : {exc}") from None
    return CandidateMatchesPublic(
        candidate_id=result.candidate_id,
        radius_km=result.radius_km,
        model=result.model_id,
        matches=[
            OfferMatchPublic(
                rank=rank, offer_id=o.id, title=o.title, rome_code=o.rome_code,
                appellation_label=o.appellation_label, contract_type=o.contract_type,
                hours_per_week=o.hours_per_week, commune_insee=o.commune_insee,
                workplace_label=o.workplace_label, workplace_qpv_code=o.qpv_code,
                distance_km=round(o.distance_km, 2), similarity=round(o.similarity, 4),
                employer=EmployerPublic(name=o.company_name, lee_member=o.lee_member, eq2030=o.eq2030,
                                        qpv_clause=o.qpv_clause),
            )
            for rank, o in enumerate(result.offers, start=1)
        ],
    )  # fmt: skip
