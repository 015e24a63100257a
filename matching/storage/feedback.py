"""Feedback on served matches: what happened after a proposal (advisers), hires on their offers (companies).

Each entry is linked to a match item of the log (`match_items`), hence to the model version and the feature
snapshot served; re-training (`modeles/`) turns these outcomes into graded labels. An adviser reaches only
the matches their structure was served (`match_requests.structure_id`); a company only those of its offers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from matching.storage.audit import Actor, record_audit
from matching.storage.candidates import CandidateAccessor

FEEDBACK_EVENTS: tuple[str, ...] = ("proposed", "interested", "declined", "applied", "interview", "hired",
                                    "refused_by_employer")  # fmt: skip
EVENT_LABELS: dict[str, str] = {
    "proposed": "Proposé",
    "interested": "Intéressé",
    "declined": "Pas intéressé",
    "applied": "Candidature",
    "interview": "Entretien",
    "hired": "Embauché",
    "refused_by_employer": "Refusé par l'employeur",
}
REASON_CODES: dict[str, str] = {
    "not_reachable": "Injoignable",
    "skills_lacking": "Compétences insuffisantes",
    "barrier_incompatible": "Contrainte incompatible avec le poste",
    "hired_elsewhere": "Embauché ailleurs",
    "not_interested_job": "Métier non souhaité",
    "too_far": "Trop loin",
    "hours_incompatible": "Horaires incompatibles",
    "other": "Autre motif",
}
# Events that close a proposal negatively: they must say why (the reason decides whether it is a relevance
# signal for training, see modeles.dataset).
EVENTS_WITH_REASON = frozenset({"declined", "refused_by_employer"})
MAX_COMMENT = 2000
# Clock skew tolerated on a client-supplied date.
FUTURE_TOLERANCE = timedelta(minutes=5)

_ENTRY_COLUMNS = """
f.id, f.match_item_id AS match_id, i.offer_id, i.candidate_id, f.event, f.reason_code, f.comment, f.occurred_at,
f.created_at, f.adviser_id, f.company_id
"""
SELECT_MATCH_IN_SCOPE = """
SELECT i.id, i.candidate_id, i.offer_id, r.structure_id, r.served_at
FROM match_items AS i JOIN match_requests AS r ON r.id = i.request_id
WHERE i.id = %(id)s AND (%(structure_id)s::uuid IS NULL OR r.structure_id = %(structure_id)s::uuid)
"""
SELECT_MATCH_OF_COMPANY_OFFER = """
SELECT i.id, i.candidate_id, i.offer_id, r.structure_id, r.served_at
FROM match_items AS i
JOIN match_requests AS r ON r.id = i.request_id
JOIN offers AS o ON o.id = i.offer_id
WHERE i.id = %(id)s AND i.offer_id = %(offer_id)s AND o.company_id = %(company_id)s
"""
INSERT_FEEDBACK = f"""
WITH f AS (
    INSERT INTO feedback (match_item_id, structure_id, adviser_id, company_id, event, reason_code, comment, occurred_at)
    VALUES (%(match_id)s, %(structure_id)s, %(adviser_id)s, %(company_id)s, %(event)s, %(reason_code)s, %(comment)s,
            COALESCE(%(occurred_at)s, now()))
    RETURNING *
)
SELECT {_ENTRY_COLUMNS} FROM f JOIN match_items AS i ON i.id = f.match_item_id
"""
FEEDBACK_FOR_MATCHES = f"""
SELECT {_ENTRY_COLUMNS}
FROM feedback AS f
JOIN match_items AS i ON i.id = f.match_item_id
JOIN match_requests AS r ON r.id = i.request_id
WHERE f.match_item_id = ANY (%(ids)s::uuid[])
  AND (%(structure_id)s::uuid IS NULL OR r.structure_id = %(structure_id)s::uuid)
ORDER BY f.occurred_at DESC, f.id DESC
"""
VISIBLE_MATCHES = """
SELECT i.id, i.candidate_id FROM match_items AS i JOIN match_requests AS r ON r.id = i.request_id
WHERE i.id = ANY (%(ids)s::uuid[]) AND (%(structure_id)s::uuid IS NULL OR r.structure_id = %(structure_id)s::uuid)
"""
LATEST_FOR_CANDIDATES = f"""
SELECT DISTINCT ON (i.candidate_id, i.offer_id) {_ENTRY_COLUMNS}
FROM feedback AS f
JOIN match_items AS i ON i.id = f.match_item_id
JOIN match_requests AS r ON r.id = i.request_id
WHERE i.candidate_id = ANY (%(candidate_ids)s::uuid[])
  AND (%(structure_id)s::uuid IS NULL OR r.structure_id = %(structure_id)s::uuid)
ORDER BY i.candidate_id, i.offer_id, f.occurred_at DESC, f.id DESC
"""


class MatchNotFound(LookupError):
    """No match item with this id visible to the caller (other structures' or companies' matches look absent)."""


class InvalidFeedback(ValueError):
    """Feedback that cannot be recorded: `field` names the input, `message` says why in French."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    """One recorded outcome of a match."""

    id: int
    match_id: uuid.UUID
    offer_id: int
    candidate_id: uuid.UUID | None
    event: str
    reason_code: str | None
    comment: str | None
    occurred_at: datetime
    created_at: datetime
    adviser_id: uuid.UUID | None
    company_id: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FeedbackEntry:
        """Build from a row of `_ENTRY_COLUMNS`."""
        return cls(**{name: row[name] for name in cls.__slots__})


def validate_feedback(
    event: str, reason_code: str | None, comment: str | None, occurred_at: datetime | None,
    served_at: datetime | None = None, now: datetime | None = None,
) -> None:  # fmt: skip
    """Raise InvalidFeedback (field, French message) when the feedback is inconsistent."""
    if event not in FEEDBACK_EVENTS:
        raise InvalidFeedback("event", f"événement inconnu (attendu : {', '.join(FEEDBACK_EVENTS)})")
    if event in EVENTS_WITH_REASON:
        if reason_code is None:
            raise InvalidFeedback("reason_code", f"motif obligatoire pour « {EVENT_LABELS[event]} »")
        if reason_code not in REASON_CODES:
            raise InvalidFeedback("reason_code", f"motif inconnu (attendu : {', '.join(REASON_CODES)})")
    elif reason_code is not None:
        raise InvalidFeedback("reason_code", f"pas de motif pour « {EVENT_LABELS[event]} »")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidFeedback("comment", f"au plus {MAX_COMMENT} caractères")
    if occurred_at is not None:
        if occurred_at.tzinfo is None:
            raise InvalidFeedback("occurred_at", "fuseau horaire requis (ISO 8601)")
        if occurred_at > (now or datetime.now(UTC)) + FUTURE_TOLERANCE:
            raise InvalidFeedback("occurred_at", "la date ne peut pas être dans le futur")
        if served_at is not None and occurred_at < served_at - FUTURE_TOLERANCE:
            raise InvalidFeedback("occurred_at", "la date précède la proposition de cette mise en relation")


def _insert(
    conn: psycopg.Connection, actor: Actor, match: dict[str, Any], event: str, reason_code: str | None,
    comment: str | None, occurred_at: datetime | None, company_id: int | None,
) -> FeedbackEntry:  # fmt: skip
    adviser_id = uuid.UUID(actor.id) if actor.kind == "adviser" else None
    row = conn.execute(INSERT_FEEDBACK, {
        "match_id": match["id"], "structure_id": match["structure_id"], "adviser_id": adviser_id,
        "company_id": company_id, "event": event, "reason_code": reason_code, "comment": comment,
        "occurred_at": occurred_at,
    }).fetchone()  # fmt: skip
    # Audited on the candidate, so that the trace follows the person (export, erasure) like other reads.
    candidate = str(match["candidate_id"]) if match["candidate_id"] else None
    details = {"match_id": str(match["id"]), "event": event, "feedback_id": row["id"]}
    record_audit(conn, actor, "feedback", "candidate", candidate, match["structure_id"], details)
    return FeedbackEntry.from_row(row)


def record_feedback(
    conn: psycopg.Connection, accessor: CandidateAccessor, match_id: uuid.UUID, event: str, *,
    reason_code: str | None = None, comment: str | None = None, occurred_at: datetime | None = None,
) -> FeedbackEntry:  # fmt: skip
    """Record what happened to a match of the caller's structure (audited)."""
    match = conn.execute(SELECT_MATCH_IN_SCOPE, {"id": match_id, "structure_id": accessor.structure_id}).fetchone()
    if match is None:
        raise MatchNotFound(str(match_id))
    comment = (comment.strip() or None) if comment is not None else None
    validate_feedback(event, reason_code, comment, occurred_at, match["served_at"])
    return _insert(conn, accessor.actor, match, event, reason_code, comment, occurred_at, None)


def record_company_hire(
    conn: psycopg.Connection, actor: Actor, company_id: int, offer_id: int, match_id: uuid.UUID,
    occurred_at: datetime | None = None,
) -> FeedbackEntry:  # fmt: skip
    """Record that a company hired the person of a match on one of its own offers (audited)."""
    match = conn.execute(SELECT_MATCH_OF_COMPANY_OFFER,
                         {"id": match_id, "offer_id": offer_id, "company_id": company_id}).fetchone()  # fmt: skip
    if match is None:
        raise MatchNotFound(str(match_id))
    validate_feedback("hired", None, None, occurred_at, match["served_at"])
    return _insert(conn, actor, match, "hired", None, None, occurred_at, company_id)


def _audit_reads(conn: psycopg.Connection, accessor: CandidateAccessor, entries: Sequence[FeedbackEntry]) -> None:
    for candidate_id in sorted({e.candidate_id for e in entries if e.candidate_id is not None}, key=str):
        record_audit(conn, accessor.actor, "read_feedback", "candidate", str(candidate_id), accessor.structure_id)


def feedback_for_matches(
    conn: psycopg.Connection, accessor: CandidateAccessor, match_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FeedbackEntry]]:
    """Feedback on these matches (only those of the caller's structure), newest first."""
    if not match_ids:
        return {}
    params = {"ids": list(match_ids), "structure_id": accessor.structure_id}
    result: dict[uuid.UUID, list[FeedbackEntry]] = {r["id"]: [] for r in conn.execute(VISIBLE_MATCHES, params)}
    entries = [FeedbackEntry.from_row(r) for r in conn.execute(FEEDBACK_FOR_MATCHES, params)]
    for entry in entries:
        result[entry.match_id].append(entry)
    _audit_reads(conn, accessor, entries)
    return result


def latest_events(
    conn: psycopg.Connection, accessor: CandidateAccessor, candidate_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, int], FeedbackEntry]:
    """Latest feedback per (candidate, offer) for candidates of the caller's structure, in one query."""
    if not candidate_ids:
        return {}
    rows = conn.execute(LATEST_FOR_CANDIDATES,
                        {"candidate_ids": list(candidate_ids), "structure_id": accessor.structure_id})  # fmt: skip
    entries = [FeedbackEntry.from_row(r) for r in rows]
    _audit_reads(conn, accessor, entries)
    return {(e.candidate_id, e.offer_id): e for e in entries}
