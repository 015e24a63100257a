"""Candidates: personal data, read and written only through a structure-scoped accessor that audits."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from matching.storage.audit import Actor, record_audit

_CANDIDATE_COLUMNS = (
    "structure_id", "referent_adviser_id", "reference", "commune_insee", "lat", "lon", "qpv_code",
    "target_rome_codes", "target_appellations", "skills", "experience_months", "education_level",
    "languages", "licences", "has_vehicle", "max_commute_km", "max_commute_minutes", "transport_mode",
    "unavailable_schedules", "part_time_only", "desired_contracts", "desired_hours_min",
    "desired_hours_max", "available_from", "eligibility", "birth_year", "summary",
)  # fmt: skip

INSERT_CANDIDATE = f"""
INSERT INTO candidates ({", ".join(_CANDIDATE_COLUMNS)}, consent_given_at)
VALUES ({", ".join(f"%({c})s" for c in _CANDIDATE_COLUMNS)},
        CASE WHEN %(consent)s THEN now() END)
RETURNING id
"""

SELECT_CANDIDATE_IN_SCOPE = """
SELECT * FROM candidates
WHERE id = %(id)s AND (%(structure_id)s::uuid IS NULL OR structure_id = %(structure_id)s::uuid)
"""

CANDIDATES_NEEDING_EMBEDDING = """
SELECT c.id, c.summary,
       COALESCE(ARRAY(SELECT s ->> 'label' FROM jsonb_array_elements(c.skills) AS s), '{}') AS skill_labels,
       ARRAY(
           SELECT a.label FROM rome_appellations AS a WHERE a.code_ogr = ANY (c.target_appellations)
           UNION ALL
           SELECT f.label FROM rome_fiches AS f
           WHERE f.code_rome = ANY (c.target_rome_codes)
             AND NOT EXISTS (SELECT 1 FROM rome_appellations AS a2
                             WHERE a2.code_ogr = ANY (c.target_appellations) AND a2.code_rome = f.code_rome)
       ) AS target_job_labels
FROM candidates AS c
WHERE c.status = 'active'
  AND (c.embedding IS NULL OR c.embedding_model IS DISTINCT FROM %(model_id)s)
  AND (%(ids)s::uuid[] IS NULL OR c.id = ANY (%(ids)s::uuid[]))
ORDER BY c.id
"""

SET_CANDIDATE_EMBEDDING = """
UPDATE candidates SET embedding = %(embedding)s, embedding_model = %(model_id)s, embedded_hash = %(text_hash)s
WHERE id = %(id)s
"""


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    """A candidate profile as written by an adviser (pseudonymous reference, never the NIR)."""

    structure_id: uuid.UUID
    reference: str
    commune_insee: str
    referent_adviser_id: uuid.UUID | None = None
    lat: float | None = None
    lon: float | None = None
    qpv_code: str | None = None
    target_rome_codes: tuple[str, ...] = ()
    target_appellations: tuple[int, ...] = ()
    skills: tuple[dict[str, Any], ...] = ()
    experience_months: int | None = None
    education_level: int | None = None
    languages: tuple[dict[str, Any], ...] = ()
    licences: tuple[str, ...] = ()
    has_vehicle: bool = False
    max_commute_km: float | None = None
    max_commute_minutes: int | None = None
    transport_mode: str | None = None
    unavailable_schedules: tuple[str, ...] = ()
    part_time_only: bool = False
    desired_contracts: tuple[str, ...] = ()
    desired_hours_min: float | None = None
    desired_hours_max: float | None = None
    available_from: date | None = None
    eligibility: tuple[str, ...] = ()
    birth_year: int | None = None
    summary: str | None = None
    consent: bool = field(default=True)


class CandidateNotFound(LookupError):
    """No candidate with this id in the caller's scope (other structures' candidates look absent)."""


class CandidateAccessor:
    """The one way to read or write candidates, limited to a structure and audited.

    A `structure_id` of None is the platform scope, reserved to system jobs and platform admins.
    """

    def __init__(self, conn: psycopg.Connection, actor: Actor, structure_id: uuid.UUID | None) -> None:
        self.conn = conn
        self.actor = actor
        self.structure_id = structure_id

    def create(self, record: CandidateRecord) -> uuid.UUID:
        """Store a new candidate in the accessor's structure."""
        if self.structure_id is not None and record.structure_id != self.structure_id:
            raise PermissionError("a candidate can only be created in the caller's structure")
        params = asdict(record)
        for key in ("target_rome_codes", "target_appellations", "licences", "unavailable_schedules",
                    "desired_contracts", "eligibility"):  # fmt: skip
            params[key] = list(params[key])
        params["skills"] = Jsonb(list(record.skills))
        params["languages"] = Jsonb(list(record.languages))
        candidate_id = self.conn.execute(INSERT_CANDIDATE, params).fetchone()["id"]
        record_audit(self.conn, self.actor, "create", "candidate", str(candidate_id), record.structure_id)
        return candidate_id

    def get(self, candidate_id: uuid.UUID, purpose: str = "read") -> dict[str, Any]:
        """Read one candidate of the scope, or raise CandidateNotFound."""
        row = self.conn.execute(
            SELECT_CANDIDATE_IN_SCOPE, {"id": candidate_id, "structure_id": self.structure_id}
        ).fetchone()
        if row is None:
            raise CandidateNotFound(str(candidate_id))
        record_audit(self.conn, self.actor, purpose, "candidate", str(candidate_id), row["structure_id"])
        return row
