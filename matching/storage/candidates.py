"""Candidates: personal data, read and written only through a structure-scoped accessor that audits."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from matching.storage.audit import Actor, record_audit
from matching.storage.database import fetch_on_custom_plan

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

# Columns an adviser may change after creation (never the structure, the status or bookkeeping).
UPDATABLE_COLUMNS = tuple(c for c in _CANDIDATE_COLUMNS if c != "structure_id")
# Changing one of these changes the embedded profile text.
EMBEDDED_COLUMNS = frozenset({"target_rome_codes", "target_appellations", "skills", "summary"})
_ARRAY_COLUMNS = frozenset({"target_rome_codes", "target_appellations", "licences", "unavailable_schedules",
                            "desired_contracts", "eligibility"})  # fmt: skip
_JSON_COLUMNS = frozenset({"skills", "languages"})

SELECT_CANDIDATE_IN_SCOPE = """
SELECT * FROM candidates
WHERE id = %(id)s AND (%(structure_id)s::uuid IS NULL OR structure_id = %(structure_id)s::uuid)
"""

# Several candidates of the scope in one statement, with one audit entry per candidate read (as `get` writes).
# A `psycopg.sql` template: `{columns}`, every column or those the caller needs (see CandidateAccessor.get_many).
SELECT_CANDIDATES_IN_SCOPE_AUDITED = """
WITH found AS (
    SELECT {columns} FROM candidates
    WHERE {ids} AND (%(structure_id)s::uuid IS NULL OR structure_id = %(structure_id)s::uuid)
),
audited AS (
    INSERT INTO audit_log (actor_kind, actor_id, structure_id, action, object_kind, object_id, request_id, details)
    SELECT %(actor_kind)s, %(actor_id)s, f.structure_id, %(action)s, 'candidate', f.id::text, %(request_id)s,
           %(details)s::jsonb
    FROM found AS f ORDER BY f.id
)
SELECT * FROM found
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


LIST_CANDIDATES = """
SELECT c.*, count(*) OVER () AS total
FROM candidates c
WHERE (%(structure_id)s::uuid IS NULL OR c.structure_id = %(structure_id)s::uuid)
  AND (%(status)s::text IS NULL OR c.status = %(status)s)
  AND (%(commune_insee)s::text IS NULL OR c.commune_insee = %(commune_insee)s)
  AND (%(rome_code)s::text IS NULL OR %(rome_code)s = ANY (c.target_rome_codes))
  AND (%(eligibility)s::text IS NULL OR %(eligibility)s = ANY (c.eligibility))
  AND (%(referent_adviser_id)s::uuid IS NULL OR c.referent_adviser_id = %(referent_adviser_id)s::uuid)
  AND (%(in_qpv)s::boolean IS NULL OR (c.qpv_code IS NOT NULL) = %(in_qpv)s)
  AND (%(reference_prefix)s::text IS NULL OR starts_with(c.reference, %(reference_prefix)s))
ORDER BY c.created_at, c.id
LIMIT %(limit)s OFFSET %(offset)s
"""

CLOSE_CANDIDATE = """
UPDATE candidates SET status = 'closed', updated_at = now(), last_activity_at = now()
WHERE id = %(id)s AND (%(structure_id)s::uuid IS NULL OR structure_id = %(structure_id)s::uuid)
RETURNING structure_id
"""

EXPORT_MATCH_REQUESTS = "SELECT * FROM match_requests WHERE candidate_id = %(id)s ORDER BY served_at"
EXPORT_MATCH_ITEMS = "SELECT * FROM match_items WHERE candidate_id = %(id)s ORDER BY request_id, rank"
EXPORT_FEEDBACK = """
SELECT f.* FROM feedback f JOIN match_items i ON i.id = f.match_item_id
WHERE i.candidate_id = %(id)s ORDER BY f.occurred_at
"""
EXPORT_AUDIT = """
SELECT at, actor_kind, actor_id, action, object_kind, object_id, details FROM audit_log
WHERE object_kind = 'candidate' AND object_id = %(id_text)s ORDER BY at, id
"""

# Erasure keeps what training needs under a pseudonym, and nothing that points back to the person.
ERASE_STATEMENTS = (
    # The exposure rows of the candidate's served items take the pseudonym too (before the items change key).
    """WITH old AS (
           DELETE FROM offer_exposure
           WHERE candidate_key IN (SELECT candidate_key FROM match_items WHERE candidate_id = %(id)s)
             AND candidate_key <> %(key)s
           RETURNING offer_id, last_served_at)
       INSERT INTO offer_exposure (offer_id, candidate_key, last_served_at)
       SELECT offer_id, %(key)s, max(last_served_at) FROM old GROUP BY offer_id
       ON CONFLICT (offer_id, candidate_key)
       DO UPDATE SET last_served_at = greatest(offer_exposure.last_served_at, excluded.last_served_at)""",
    """UPDATE feedback SET comment = NULL
       WHERE match_item_id IN (SELECT id FROM match_items WHERE candidate_id = %(id)s)""",
    # The items keep no foreign key to the candidate (migration 0017): their link is cleared here.
    "UPDATE match_items SET candidate_key = %(key)s, candidate_id = NULL WHERE candidate_id = %(id)s",
    "UPDATE match_requests SET params = '{}' WHERE candidate_id = %(id)s",
    """UPDATE audit_log SET object_id = %(key)s, details = '{}'
       WHERE object_kind = 'candidate' AND object_id = %(id_text)s""",
    """UPDATE audit_log SET details = jsonb_set(details, '{ids}', (details -> 'ids') - %(id_text)s::text)
       WHERE details ? 'ids' AND details -> 'ids' ? %(id_text)s""",
    "DELETE FROM candidates WHERE id = %(id)s",
    """INSERT INTO candidate_erasures (candidate_key, structure_id, reason)
       VALUES (%(key)s, %(structure_id)s, %(reason)s)""",
)

RETENTION_FLAG = """
UPDATE candidates SET retention_flagged_at = %(now)s
WHERE retention_flagged_at IS NULL AND last_activity_at < %(now)s - make_interval(days => %(inactive_days)s)
RETURNING id, structure_id
"""

RETENTION_DUE = """
SELECT id FROM candidates
WHERE retention_flagged_at IS NOT NULL
  AND retention_flagged_at < %(now)s - make_interval(days => %(grace_days)s)
  AND last_activity_at < retention_flagged_at
ORDER BY id
"""


def candidate_key(candidate_id: uuid.UUID) -> str:
    """The stable pseudonym of a candidate in match logs and training data (kept after erasure)."""
    return "cand_" + hashlib.sha256(b"maillage-candidate:" + candidate_id.bytes).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CandidateFilters:
    """Filters of a candidate list; None means no filter."""

    status: str | None = None
    commune_insee: str | None = None
    rome_code: str | None = None
    eligibility: str | None = None
    referent_adviser_id: uuid.UUID | None = None
    in_qpv: bool | None = None
    reference_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class RetentionCounts:
    """What a retention pass did."""

    flagged: int
    anonymised: int


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


# One id: `id = %(id)s`, whose generic plan PostgreSQL keeps (see matching.storage.database); planned for a list of
# unknown length, `id = ANY (...)` looked dearer than its custom plans for one id and was planned at every read
# (~0.3 ms, as long as the read itself).
_ONE_ID = sql.SQL("id = %(id)s::uuid")
_SEVERAL_IDS = sql.SQL("id = ANY (%(ids)s::uuid[])")


@lru_cache(maxsize=16)
def _select_in_scope_audited(columns: tuple[str, ...] | None, one: bool = False) -> sql.Composed:
    if columns is None:
        selected = sql.SQL("*")
    else:
        selected = sql.SQL(", ").join(sql.Identifier(c) for c in dict.fromkeys(("id", "structure_id", *columns)))
    return sql.SQL(SELECT_CANDIDATES_IN_SCOPE_AUDITED).format(columns=selected, ids=_ONE_ID if one else _SEVERAL_IDS)


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
        """Read one candidate of the scope, audited in the same statement, or raise CandidateNotFound.

        Every column, in PostgreSQL's binary format (see get_many): against a text read and a separate audit
        insert, ~0.25 ms less of Python a read (the two profile vectors are not parsed from text).
        """
        found = self.get_many([candidate_id], purpose=purpose)
        if not found:
            raise CandidateNotFound(str(candidate_id))
        (row,) = found.values()
        return row

    def get_many(
        self,
        candidate_ids: list[uuid.UUID],
        purpose: str = "read",
        columns: tuple[str, ...] | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[uuid.UUID, dict[str, Any]]:
        """Read several candidates of the scope in one query, auditing each; ids out of scope are left out.

        `columns`: only these (with `id` and `structure_id`), for a caller that needs no more: data minimisation,
        and the profile vectors (2.3 kB a candidate, out of line) are not read for nothing. Rows come in
        PostgreSQL's binary format: a profile vector read as text costs ~0.1 ms to parse. The place column `pt`
        (cube, no Python type) is then raw bytes. `details`: the context each audit entry records (the offer of a
        search…).
        """
        if not candidate_ids:
            return {}
        one = len(candidate_ids) == 1
        rows = self.conn.execute(_select_in_scope_audited(columns, one), {
            "id": candidate_ids[0] if one else None, "ids": None if one else list(candidate_ids),
            "structure_id": self.structure_id, "actor_kind": self.actor.kind, "actor_id": self.actor.id,
            "action": purpose, "request_id": self.actor.request_id, "details": Jsonb(details or {}),
        }, binary=True).fetchall()  # fmt: skip
        return {row["id"]: row for row in rows}

    def update(self, candidate_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
        """Change fields of a candidate of the scope (dropping its vector when the profile text changes)."""
        unknown = set(changes) - set(UPDATABLE_COLUMNS)
        if unknown:
            raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
        current = self.get(candidate_id, purpose="read_for_update")
        params: dict[str, Any] = {"id": candidate_id}
        assignments = [sql.SQL("updated_at = now()"), sql.SQL("last_activity_at = now()"),
                       sql.SQL("retention_flagged_at = NULL")]  # fmt: skip
        for column, value in changes.items():
            if column in _ARRAY_COLUMNS:
                value = list(value) if value is not None else []
            elif column in _JSON_COLUMNS:
                value = Jsonb(list(value) if value is not None else [])
            params[column] = value
            assignments.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
        if EMBEDDED_COLUMNS & set(changes):
            assignments += [sql.SQL("embedding = NULL"), sql.SQL("embedding_model = NULL"),
                            sql.SQL("embedded_hash = NULL")]  # fmt: skip
        statement = sql.SQL("UPDATE candidates SET {} WHERE id = %(id)s RETURNING *").format(
            sql.SQL(", ").join(assignments)
        )
        row = self.conn.execute(statement, params).fetchone()
        record_audit(self.conn, self.actor, "update", "candidate", str(candidate_id), current["structure_id"],
                     {"fields": sorted(changes)})  # fmt: skip
        return row

    def list(self, filters: CandidateFilters, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """A page of the scope's candidates matching the filters, and the total count."""
        params = {**asdict(filters), "structure_id": self.structure_id, "limit": limit, "offset": offset}
        # Optional filters: the best plan depends on which are set (see matching.storage.database).
        rows = fetch_on_custom_plan(self.conn, LIST_CANDIDATES, params)
        total = rows[0]["total"] if rows else 0
        record_audit(self.conn, self.actor, "list", "candidate", None, self.structure_id,
                     {"ids": [str(r["id"]) for r in rows]})  # fmt: skip
        return rows, total

    def close(self, candidate_id: uuid.UUID) -> None:
        """Close a candidate's follow-up (kept until erased or retention)."""
        row = self.conn.execute(CLOSE_CANDIDATE, {"id": candidate_id, "structure_id": self.structure_id}).fetchone()
        if row is None:
            raise CandidateNotFound(str(candidate_id))
        record_audit(self.conn, self.actor, "close", "candidate", str(candidate_id), row["structure_id"])

    def export(self, candidate_id: uuid.UUID) -> dict[str, Any]:
        """Everything held on a candidate: profile, match logs, feedback and the audit trail (GDPR art. 15)."""
        profile = self.get(candidate_id, purpose="export")
        params = {"id": candidate_id, "id_text": str(candidate_id)}
        return {
            "candidate": profile,
            "match_requests": self.conn.execute(EXPORT_MATCH_REQUESTS, params).fetchall(),
            "match_items": self.conn.execute(EXPORT_MATCH_ITEMS, params).fetchall(),
            "feedback": self.conn.execute(EXPORT_FEEDBACK, params).fetchall(),
            "audit": self.conn.execute(EXPORT_AUDIT, params).fetchall(),
        }

    def erase(self, candidate_id: uuid.UUID, reason: str = "request") -> str:
        """Erase a candidate everywhere (GDPR art. 17), keeping match logs under a pseudonym; return it."""
        row = self.conn.execute(
            SELECT_CANDIDATE_IN_SCOPE, {"id": candidate_id, "structure_id": self.structure_id}
        ).fetchone()
        if row is None:
            raise CandidateNotFound(str(candidate_id))
        key = candidate_key(candidate_id)
        params = {"id": candidate_id, "id_text": str(candidate_id), "key": key,
                  "structure_id": row["structure_id"], "reason": reason}  # fmt: skip
        for statement in ERASE_STATEMENTS:
            self.conn.execute(statement, params)
        record_audit(self.conn, self.actor, "erase", "candidate", key, row["structure_id"], {"reason": reason})
        return key


def run_retention(conn: psycopg.Connection, actor: Actor, now: datetime, inactive_days: int,
                  grace_days: int) -> RetentionCounts:  # fmt: skip
    """Flag profiles inactive for `inactive_days`, and anonymise those flagged `grace_days` ago and still idle."""
    flagged = conn.execute(RETENTION_FLAG, {"now": now, "inactive_days": inactive_days}).fetchall()
    for row in flagged:
        record_audit(conn, actor, "retention_flag", "candidate", str(row["id"]), row["structure_id"])
    due = conn.execute(RETENTION_DUE, {"now": now, "grace_days": grace_days}).fetchall()
    accessor = CandidateAccessor(conn, actor, structure_id=None)
    for row in due:
        accessor.erase(row["id"], reason="retention")
    return RetentionCounts(flagged=len(flagged), anonymised=len(due))
