"""Matches in both directions, with explanations, and the fairness report of served matches."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import Conn, EmbedderDep, SettingsDep
from api.schemas_matches import (
    CandidateMatchesPublic,
    FairnessReportPublic,
    OfferMatchesPublic,
)
from api.security import AuthFirstRoute, CurrentAdviser, ScopedCandidates
from matching.domain import CONTRACT_TYPES
from matching.explanations import Explanation
from matching.fairness import served_fairness_report
from matching.matches import (
    MAX_LIMIT,
    MAX_OFFSET,
    MissingLocation,
    OfferNotFound,
    candidates_for_offer,
    offers_for_candidate,
)

ContractType = Literal[CONTRACT_TYPES]  # type: ignore[valid-type]

router = APIRouter(prefix="/v1", tags=["mises en relation"], route_class=AuthFirstRoute)
admin_router = APIRouter(prefix="/v1/admin", tags=["administration"], route_class=AuthFirstRoute)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Nombre de résultats par page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rang de départ (pagination)")]


def _explanation(explanation: Explanation) -> dict:
    # Plain data validated once with the whole response (pydantic-core), not one model per criterion.
    return {
        "summary": explanation.summary,
        "criteria": [{"code": c.code, "label": c.label, "status": c.status, "detail": c.detail}
                     for c in explanation.criteria],
        "model_version": explanation.model_version,
    }


@router.get(
    "/candidates/{candidate_id}/matches",
    response_model=CandidateMatchesPublic,
    responses={401: {"description": "Non authentifié"}, 404: {"description": "Candidat inconnu"},
               422: {"description": "Paramètres invalides"}},
)  # fmt: skip
def candidate_matches(
    candidate_id: uuid.UUID,
    accessor: ScopedCandidates,
    conn: Conn,
    embedder: EmbedderDep,
    settings: SettingsDep,
    limit: Limit = 20,
    offset: Offset = 0,
    radius_km: Annotated[float | None, Query(gt=0, le=1000, description="Rayon de recherche (km)")] = None,
    france_entiere: Annotated[bool, Query(description="Chercher dans toute la France")] = False,
    contracts: Annotated[list[ContractType] | None, Query(alias="contract", description="Types de contrat acceptés")]
    = None,
) -> CandidateMatchesPublic:
    """Offers for the candidate under their barriers, ranked by the active model, each explained."""
    try:
        result = offers_for_candidate(
            conn, accessor, embedder, candidate_id, limit=limit, offset=offset, radius_km=radius_km,
            default_radius_km=settings.default_search_radius_km, contracts=contracts, whole_country=france_entiere,
        )  # fmt: skip
    except MissingLocation as exc:
        raise HTTPException(422, f"Localisation impossible : {exc}") from None
    return CandidateMatchesPublic.model_validate({
        "request_id": result.request_id, "candidate_id": candidate_id, "radius_km": result.radius_km,
        "model": result.model_version, "total": result.total, "limit": limit, "offset": offset,
        "matches": [
            {
                "match_id": m.match_id, "rank": m.rank, "score": round(m.score, 4), "offer_id": o["id"],
                "title": o["title"], "rome_code": o["rome_code"], "appellation_label": o["appellation_label"],
                "contract_type": o["contract_type"], "hours_per_week": o["hours_per_week"],
                "commune_insee": o["commune_insee"], "workplace_label": o["workplace_label"],
                "workplace_qpv_code": o["qpv_code"],
                "distance_km": None if o["distance_km"] is None else round(o["distance_km"], 2),
                "similarity": round(o["similarity"], 4),
                "employer": {"name": o["company_name"], "lee_member": o["lee_member"], "eq2030": o["eq2030"],
                             "qpv_clause": o["qpv_clause"]},
                "explanation": _explanation(m.explanation),
            }
            for m in result.matches
            for o in (m.row,)
        ],
    })  # fmt: skip


@router.get(
    "/offers/{offer_id}/matches",
    response_model=OfferMatchesPublic,
    responses={401: {"description": "Non authentifié"}, 404: {"description": "Offre inconnue ou inactive"},
               422: {"description": "Paramètres invalides"}},
)  # fmt: skip
def offer_matches(
    offer_id: int, accessor: ScopedCandidates, conn: Conn, settings: SettingsDep, limit: Limit = 20, offset: Offset = 0
) -> OfferMatchesPublic:
    """Candidates of the caller's structure for an active offer, ranked and explained."""
    try:
        result = candidates_for_offer(conn, accessor, offer_id, limit=limit, offset=offset,
                                      default_radius_km=settings.default_search_radius_km)  # fmt: skip
    except OfferNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Offre introuvable ou inactive.") from None
    except MissingLocation as exc:
        raise HTTPException(422, f"Localisation impossible : {exc}") from None
    return OfferMatchesPublic.model_validate({
        "request_id": result.request_id, "offer_id": offer_id, "model": result.model_version, "total": result.total,
        "limit": limit, "offset": offset,
        "matches": [
            {
                "match_id": m.match_id, "rank": m.rank, "score": round(m.score, 4), "candidate_id": m.row["id"],
                "reference": m.row["reference"], "commune_insee": m.row["commune_insee"],
                "target_rome_codes": [c.strip() for c in m.row["target_rome_codes"]],
                "distance_km": round(m.row["distance_km"], 2), "similarity": round(m.row["similarity"], 4),
                "explanation": _explanation(m.explanation),
            }
            for m in result.matches
        ],
    })  # fmt: skip


def fairness_report_route(conn, days: int) -> FairnessReportPublic:
    """Build the fairness report response (the admin route calls this once authenticated)."""
    report = served_fairness_report(conn, days, datetime.now(UTC).year)
    return FairnessReportPublic(
        since_days=days, note=report["note"],
        by_group={k: [asdict(d) for d in v] for k, v in report["by_group"].items()},
        by_employer=[asdict(d) for d in report["by_employer"]],
    )  # fmt: skip


@admin_router.get("/fairness", response_model=FairnessReportPublic,
                  responses={401: {"description": "Non authentifié"}, 403: {"description": "Réservé"}})  # fmt: skip
def fairness(
    adviser: CurrentAdviser,  # type: ignore[valid-type]
    conn: Conn,
    days: Annotated[int, Query(ge=1, le=365, description="Période (jours)")] = 30,
) -> FairnessReportPublic:
    """Exposure and scores of served matches by candidate group and employer (platform admins)."""
    if adviser.role != "platform_admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Réservé aux administrateurs de la plateforme.")
    return fairness_report_route(conn, days)
