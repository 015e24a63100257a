"""Response and request schemas of the HTTP API, one per direction."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class HealthPublic(BaseModel):
    """Liveness answer."""

    status: str


class ReadinessPublic(BaseModel):
    """Readiness answer: each dependency and whether it is ready."""

    status: str
    database: bool
    embedding_model: str | None
    checks: dict[str, str]


class EmployerPublic(BaseModel):
    """The employer of an offer and its engagement."""

    name: str | None
    lee_member: bool = Field(description="Membre de « Les entreprises s'engagent »")
    eq2030: bool = Field(description="Entrepreneur accompagné par Entrepreneuriat Quartiers 2030")
    qpv_clause: bool = Field(description="Clause d'embauche de résidents QPV")


class OfferMatchPublic(BaseModel):
    """One offer proposed for a candidate."""

    model_config = ConfigDict(from_attributes=True)

    rank: int
    offer_id: int
    title: str
    rome_code: str | None
    appellation_label: str | None
    contract_type: str
    hours_per_week: float | None
    commune_insee: str | None
    workplace_label: str | None
    workplace_qpv_code: str | None
    distance_km: float
    similarity: float
    employer: EmployerPublic


class CandidateMatchesPublic(BaseModel):
    """Offers ranked for a candidate, with the parameters used."""

    candidate_id: uuid.UUID
    radius_km: float
    model: str
    matches: list[OfferMatchPublic]
