"""Response schemas of the matching routes (both directions) and of the fairness report."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from api.schemas import EmployerPublic


class CriterionPublic(BaseModel):
    """One criterion of a match: met, not met or unknown, with the evidence."""

    code: str
    label: str
    status: str = Field(description="met | not_met | unknown")
    detail: str


class ExplanationPublic(BaseModel):
    """Why this match is proposed, in French, and by which model."""

    summary: str
    criteria: list[CriterionPublic]
    model_version: str


class OfferMatchPublic(BaseModel):
    """One offer proposed for a candidate."""

    match_id: uuid.UUID = Field(description="Identifiant de la mise en relation, pour y rattacher un retour")
    rank: int
    score: float
    offer_id: int
    title: str
    rome_code: str | None
    appellation_label: str | None
    contract_type: str
    hours_per_week: float | None
    commune_insee: str | None
    workplace_label: str | None
    workplace_qpv_code: str | None
    distance_km: float | None
    similarity: float
    employer: EmployerPublic
    explanation: ExplanationPublic


class CandidateMatchesPublic(BaseModel):
    """Offers ranked for a candidate, with the parameters used."""

    request_id: uuid.UUID
    candidate_id: uuid.UUID
    radius_km: float | None
    model: str
    total: int
    limit: int
    offset: int
    matches: list[OfferMatchPublic]


class CandidateMatchPublic(BaseModel):
    """One candidate of the caller's structure proposed for an offer (pseudonymous reference only)."""

    match_id: uuid.UUID
    rank: int
    score: float
    candidate_id: uuid.UUID
    reference: str
    commune_insee: str
    target_rome_codes: list[str]
    distance_km: float | None
    similarity: float
    explanation: ExplanationPublic


class OfferMatchesPublic(BaseModel):
    """Candidates ranked for an offer."""

    request_id: uuid.UUID
    offer_id: int
    model: str
    total: int
    limit: int
    offset: int
    matches: list[CandidateMatchPublic]


class DistributionPublic(BaseModel):
    """Exposure and score distribution of one group of served matches."""

    group: str
    requests: int
    items: int
    top3_share: float = Field(description="Part des propositions servies en positions 1 à 3")
    mean_score: float | None
    median_score: float | None
    p90_score: float | None


class FairnessReportPublic(BaseModel):
    """Served matches by candidate group (QPV residence, age band, RQTH) and by employer."""

    since_days: int
    note: str
    by_group: dict[str, list[DistributionPublic]]
    by_employer: list[DistributionPublic]
