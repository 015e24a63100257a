"""The adviser's web workspace: sign-in bookkeeping, new offers in reach of a caseload, shortlist rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from matching.storage.advisers import AdviserIdentity
from matching.storage.database import fetch_on_custom_plan

ADVISER_BY_ID = "SELECT id, structure_id, role, email, active FROM advisers WHERE id = %(id)s"

# Dev sign-in only: the accounts a developer may act as.
ADVISERS_FOR_DEV = """
SELECT a.id, a.email, a.role, s.name AS structure_name
FROM advisers AS a JOIN structures AS s ON s.id = a.structure_id
WHERE a.active
ORDER BY s.name, a.role, a.email
LIMIT 200
"""

# The previous visit is returned before being replaced: it is the "since" of the Nouveautés page.
RECORD_SIGN_IN = """
UPDATE advisers AS a SET last_seen_at = now()
FROM (SELECT id, last_seen_at FROM advisers WHERE id = %(id)s FOR UPDATE) AS previous
WHERE a.id = previous.id
RETURNING previous.last_seen_at AS previous_visit
"""

# Active, indexed offers first seen after `since` whose workplace lies within the commute radius of at
# least one active candidate of the structure (address point, else commune centre). Only offer ids leave
# this query; the candidates themselves are then read through the accessor by the reverse matching.
NEW_OFFERS_IN_REACH = """
SELECT o.id
FROM offers AS o
WHERE o.status = 'active' AND o.embedding IS NOT NULL AND o.pt IS NOT NULL AND o.created_at > %(since)s
  AND EXISTS (
      SELECT 1 FROM candidates AS c LEFT JOIN communes AS cm ON cm.insee = c.commune_insee
      WHERE c.status = 'active' AND (%(structure_id)s::uuid IS NULL OR c.structure_id = %(structure_id)s::uuid)
        AND earth_distance(COALESCE(c.pt, cm.pt), o.pt) <= COALESCE(c.max_commute_km, %(default_radius_km)s) * 1000
  )
ORDER BY o.created_at DESC, o.id DESC
LIMIT %(limit)s
"""

# Served match items of the caller's structure, with the offer shown in a shortlist export.
SHORTLIST_ITEMS = """
SELECT mi.id AS match_id, mi.rank, mi.score, mi.candidate_id, mr.served_at,
       o.id AS offer_id, o.title, o.contract_type, o.hours_per_week, o.workplace_label, o.commune_insee,
       o.apply_url, o.apply_email, c.name AS company_name
FROM match_items AS mi
JOIN match_requests AS mr ON mr.id = mi.request_id
JOIN offers AS o ON o.id = mi.offer_id
LEFT JOIN companies AS c ON c.id = o.company_id
WHERE mi.id = ANY (%(ids)s::uuid[])
  AND (%(structure_id)s::uuid IS NULL OR mr.structure_id = %(structure_id)s::uuid)
ORDER BY mi.rank, mi.id
"""

OFFER_SUMMARY = """
SELECT o.id, o.title, o.status, o.contract_type, o.hours_per_week, o.workplace_label, o.commune_insee,
       o.rome_code, o.appellation_label, o.created_at, c.name AS company_name,
       COALESCE(c.lee_member, false) AS lee_member, COALESCE(c.eq2030, false) AS eq2030,
       COALESCE(c.qpv_clause, false) AS qpv_clause
FROM offers AS o LEFT JOIN companies AS c ON c.id = o.company_id
WHERE o.id = ANY (%(ids)s::bigint[])
"""


def adviser_by_id(conn: psycopg.Connection, adviser_id: uuid.UUID) -> AdviserIdentity | None:
    """The active adviser with this id, or None."""
    row = conn.execute(ADVISER_BY_ID, {"id": adviser_id}).fetchone()
    if row is None or not row["active"]:
        return None
    return AdviserIdentity(id=row["id"], structure_id=row["structure_id"], role=row["role"], email=row["email"])


def advisers_for_dev_sign_in(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Active advisers with their structure, for the development sign-in page."""
    return conn.execute(ADVISERS_FOR_DEV).fetchall()


def record_sign_in(conn: psycopg.Connection, adviser_id: uuid.UUID) -> datetime | None:
    """Mark the adviser as seen now and return their previous visit (None on the first one)."""
    row = conn.execute(RECORD_SIGN_IN, {"id": adviser_id}).fetchone()
    return row["previous_visit"] if row else None


def new_offers_in_reach(conn: psycopg.Connection, structure_id: uuid.UUID | None, since: datetime,
                        default_radius_km: float, limit: int = 20) -> list[int]:  # fmt: skip
    """Ids of offers first seen after `since` within commute reach of the structure's active candidates."""
    params = {"structure_id": structure_id, "since": since, "default_radius_km": default_radius_km, "limit": limit}
    # Planned for its date and scope at each call (see matching.storage.database).
    return [r["id"] for r in fetch_on_custom_plan(conn, NEW_OFFERS_IN_REACH, params)]


def shortlist_items(conn: psycopg.Connection, structure_id: uuid.UUID | None,
                    match_ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:  # fmt: skip
    """Served match items of the structure (platform scope: any) with their offer, by rank."""
    return conn.execute(SHORTLIST_ITEMS, {"ids": list(match_ids), "structure_id": structure_id}).fetchall()


def offer_summaries(conn: psycopg.Connection, offer_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Title, place, contract and employer engagement of offers, by id."""
    rows = conn.execute(OFFER_SUMMARY, {"ids": list(offer_ids)}).fetchall()
    return {r["id"]: r for r in rows}
