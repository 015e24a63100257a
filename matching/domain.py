"""Domain records shared by ingestion, storage, ranking and the API (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

CONTRACT_TYPES = (
    "CDI", "CDD", "MIS", "SAI", "LIB", "FRA", "DIN", "TTI", "DDI",
    "APPRENTISSAGE", "PROFESSIONNALISATION", "STAGE", "IAE", "AUTRE",
)  # fmt: skip
SCHEDULES = ("early", "late", "night", "weekend", "split")
# Characters of an offer description kept for its embedding: e5 truncates at 512 tokens anyway.
EMBED_DESCRIPTION_CHARS = 1200


@dataclass(frozen=True, slots=True)
class Skill:
    """A skill asked by an offer or held by a candidate: a ROME code when known, and its label."""

    label: str
    code: str | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class Language:
    """A language with an optional level (CECRL A1…C2 or free text)."""

    label: str
    level: str | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """A normalised job offer, ready to be stored and embedded."""

    source_id: str
    external_id: str
    title: str
    description: str
    contract_type: str
    rome_code: str | None = None
    rome_code_source: str | None = None
    rome_code_predicted: str | None = None
    rome_prediction_score: float | None = None
    appellation_code: int | None = None
    appellation_label: str | None = None
    contract_nature: str | None = None
    contract_duration_months: float | None = None
    hours_per_week: float | None = None
    part_time: bool | None = None
    work_schedule: tuple[str, ...] = ()
    experience_required: str | None = None
    experience_months: int | None = None
    education_level: int | None = None
    skills: tuple[Skill, ...] = ()
    languages: tuple[Language, ...] = ()
    licences: tuple[str, ...] = ()
    workplace_label: str | None = None
    commune_insee: str | None = None
    postal_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    qpv_code: str | None = None
    remote_work: bool = False
    positions: int = 1
    salary_label: str | None = None
    apply_url: str | None = None
    apply_email: str | None = None
    naf_code: str | None = None
    company_siret: str | None = None
    company_name: str | None = None
    source_created_at: datetime | None = None
    source_updated_at: datetime | None = None
    starts_on: date | None = None
    expires_at: datetime | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)

    def content_hash(self) -> bytes:
        """SHA-256 of every field but the raw payload: equal hashes mean nothing to update."""
        data = asdict(self)
        data.pop("raw")
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).digest()

    def embedding_text(self) -> str:
        """The passage embedded for this offer: job title, ROME label, skills, then the description."""
        return offer_embedding_text(
            self.title, self.appellation_label, [s.label for s in self.skills], self.description
        )


def offer_embedding_text(
    title: str, appellation_label: str | None, skill_labels: list[str], description: str
) -> str:
    """Compose an offer's passage text; the title comes first so truncation never drops it."""
    parts = [title.strip()]
    if appellation_label and appellation_label.strip().lower() != title.strip().lower():
        parts.append(appellation_label.strip())
    if skill_labels:
        parts.append("Compétences : " + ", ".join(skill_labels))
    parts.append(" ".join(description.split())[:EMBED_DESCRIPTION_CHARS])
    return "\n".join(parts)


def candidate_embedding_text(
    target_job_labels: list[str], skill_labels: list[str], summary: str | None
) -> str:
    """Compose a candidate profile's query text from target jobs, skills and the adviser's summary."""
    parts = []
    if target_job_labels:
        parts.append("Métiers recherchés : " + ", ".join(target_job_labels))
    if skill_labels:
        parts.append("Compétences : " + ", ".join(skill_labels))
    if summary:
        parts.append(" ".join(summary.split()))
    return "\n".join(parts) or "Recherche d'emploi"


def content_hash_of_text(text: str) -> bytes:
    """SHA-256 of an embedding text, stored beside the vector to skip unchanged re-embeddings."""
    return hashlib.sha256(text.encode()).digest()
