"""Advisers' caseload: candidates of their structure only (others answer 404), audited, GDPR rights."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from api.deps import EmbedderDep
from api.routes.responses import error_responses
from api.schemas import (
    AdviserPublic,
    CandidateCreate,
    CandidateExport,
    CandidatePage,
    CandidatePatch,
    CandidatePublic,
    Eligibility,
    ErasurePublic,
)
from api.security import AuthFirstRoute, CurrentAdviser, ScopedCandidates
from api.services import candidate_public, create_candidate, update_candidate
from matching.storage.candidates import CandidateFilters

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["candidats (conseillers)"])

CandidateId = Annotated[uuid.UUID, Path(description="Identifiant du candidat")]


@router.get("/me", response_model=AdviserPublic, responses=error_responses(401, 403))
def me(adviser: CurrentAdviser) -> AdviserPublic:
    """The calling adviser, their structure and role."""
    return AdviserPublic(id=adviser.id, structure_id=adviser.structure_id, role=adviser.role, email=adviser.email)


@router.post("/candidates", status_code=status.HTTP_201_CREATED, response_model=CandidatePublic,
             responses=error_responses(401, 403, 409))  # fmt: skip
def create(profile: CandidateCreate, adviser: CurrentAdviser, accessor: ScopedCandidates,
           embedder: EmbedderDep) -> CandidatePublic:  # fmt: skip
    """Create a candidate in the caller's structure; the profile is embedded for matching."""
    candidate_id = create_candidate(accessor, embedder, profile, adviser.structure_id, adviser.id)
    return candidate_public(accessor.get(candidate_id))


@router.get("/candidates", response_model=CandidatePage, responses=error_responses(401, 403))
def list_candidates(
    accessor: ScopedCandidates,
    candidate_status: Annotated[str | None, Query(alias="status", pattern="^(active|closed)$")] = None,
    commune_insee: Annotated[str | None, Query(pattern=r"^[0-9][0-9AB][0-9]{3}$")] = None,
    rome_code: Annotated[str | None, Query(pattern=r"^[A-N][0-9]{4}$")] = None,
    eligibility: Annotated[Eligibility | None, Query()] = None,
    referent_adviser_id: Annotated[uuid.UUID | None, Query()] = None,
    in_qpv: Annotated[bool | None, Query(description="Résident d'un QPV")] = None,
    reference_prefix: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100000)] = 0,
) -> CandidatePage:
    """The structure's candidates, filtered and paginated (oldest first)."""
    filters = CandidateFilters(status=candidate_status, commune_insee=commune_insee, rome_code=rome_code,
                               eligibility=eligibility, referent_adviser_id=referent_adviser_id, in_qpv=in_qpv,
                               reference_prefix=reference_prefix)  # fmt: skip
    rows, total = accessor.list(filters, limit=limit, offset=offset)
    return CandidatePage(items=[candidate_public(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/candidates/{candidate_id}", response_model=CandidatePublic, responses=error_responses(401, 403, 404))
def read(candidate_id: CandidateId, accessor: ScopedCandidates) -> CandidatePublic:
    """One candidate of the caller's structure."""
    return candidate_public(accessor.get(candidate_id))


@router.put("/candidates/{candidate_id}", response_model=CandidatePublic,
            responses=error_responses(401, 403, 404, 409))  # fmt: skip
def replace(candidate_id: CandidateId, profile: CandidateCreate, accessor: ScopedCandidates,
            embedder: EmbedderDep) -> CandidatePublic:  # fmt: skip
    """Replace a candidate's profile; a changed profile is re-embedded."""
    return candidate_public(update_candidate(accessor, embedder, candidate_id, profile.model_dump()))


@router.patch("/candidates/{candidate_id}", response_model=CandidatePublic,
              responses=error_responses(401, 403, 404, 409))  # fmt: skip
def patch(candidate_id: CandidateId, changes: CandidatePatch, accessor: ScopedCandidates,  # type: ignore[valid-type]
          embedder: EmbedderDep) -> CandidatePublic:  # fmt: skip
    """Change some profile fields; the whole profile is validated again and re-embedded if needed."""
    given = changes.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
    return candidate_public(update_candidate(accessor, embedder, candidate_id, given))


@router.post("/candidates/{candidate_id}/close", response_model=CandidatePublic,
             responses=error_responses(401, 403, 404))  # fmt: skip
def close(candidate_id: CandidateId, accessor: ScopedCandidates) -> CandidatePublic:
    """Close the follow-up of a candidate (the profile is kept until erasure or retention)."""
    accessor.close(candidate_id)
    return candidate_public(accessor.get(candidate_id))


@router.get("/candidates/{candidate_id}/export", response_model=CandidateExport,
            responses=error_responses(401, 403, 404))  # fmt: skip
def export(candidate_id: CandidateId, accessor: ScopedCandidates) -> CandidateExport:
    """Everything held on the candidate (GDPR right of access)."""
    data = accessor.export(candidate_id)
    row = data["candidate"]
    embedding = row["embedding"]
    return CandidateExport(
        candidate=candidate_public(row), embedding_model=row["embedding_model"],
        embedding=[float(x) for x in embedding.to_list()] if embedding is not None else None,
        match_requests=data["match_requests"], match_items=data["match_items"], feedback=data["feedback"],
        audit=data["audit"],
    )  # fmt: skip


@router.delete("/candidates/{candidate_id}", response_model=ErasurePublic, responses=error_responses(401, 403, 404))
def erase(candidate_id: CandidateId, accessor: ScopedCandidates) -> ErasurePublic:
    """Erase the candidate everywhere (GDPR right to erasure); match logs stay, anonymised."""
    return ErasurePublic(erased=True, pseudonym=accessor.erase(candidate_id))
