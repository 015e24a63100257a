"""Offers and companies in PostgreSQL: upserts keyed by (source, external id) and content hash."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg
from psycopg.types.json import Jsonb

from matching.domain import OfferRecord
from matching.referentiels.text import normalize_label, normalize_text

UPSERT_SOURCE = """
INSERT INTO sources (id, kind, label, priority) VALUES (%(id)s, %(kind)s, %(label)s, %(priority)s)
ON CONFLICT (id) DO UPDATE SET label = EXCLUDED.label, kind = EXCLUDED.kind, priority = EXCLUDED.priority
"""

UPSERT_COMPANY_BY_SIRET = """
INSERT INTO companies (siret, name, name_normalized, naf_code, size_band, postal_code, commune_insee,
                       lee_member, lee_commitments, eq2030, qpv_clause)
VALUES (%(siret)s, %(name)s, %(name_normalized)s, %(naf_code)s, %(size_band)s, %(postal_code)s,
        %(commune_insee)s, %(lee_member)s, %(lee_commitments)s, %(eq2030)s, %(qpv_clause)s)
ON CONFLICT (siret) DO UPDATE SET
    name = EXCLUDED.name, name_normalized = EXCLUDED.name_normalized,
    naf_code = COALESCE(EXCLUDED.naf_code, companies.naf_code),
    size_band = COALESCE(EXCLUDED.size_band, companies.size_band),
    postal_code = COALESCE(EXCLUDED.postal_code, companies.postal_code),
    commune_insee = COALESCE(EXCLUDED.commune_insee, companies.commune_insee),
    lee_member = EXCLUDED.lee_member OR companies.lee_member,
    lee_commitments = ARRAY(SELECT DISTINCT unnest(companies.lee_commitments || EXCLUDED.lee_commitments)),
    eq2030 = EXCLUDED.eq2030 OR companies.eq2030,
    qpv_clause = EXCLUDED.qpv_clause OR companies.qpv_clause,
    updated_at = now()
RETURNING id
"""

FIND_COMPANY_WITHOUT_SIRET = """
SELECT id FROM companies
WHERE siret IS NULL AND name_normalized = %(name_normalized)s
  AND postal_code IS NOT DISTINCT FROM %(postal_code)s
ORDER BY id LIMIT 1
"""

INSERT_COMPANY_WITHOUT_SIRET = """
INSERT INTO companies (name, name_normalized, naf_code, size_band, postal_code, commune_insee,
                       lee_member, lee_commitments, eq2030, qpv_clause)
VALUES (%(name)s, %(name_normalized)s, %(naf_code)s, %(size_band)s, %(postal_code)s, %(commune_insee)s,
        %(lee_member)s, %(lee_commitments)s, %(eq2030)s, %(qpv_clause)s)
RETURNING id
"""

_OFFER_COLUMNS = (
    "source_id", "external_id", "company_id", "title", "description", "rome_code", "rome_code_source",
    "rome_code_predicted", "rome_prediction_score", "appellation_code", "appellation_label",
    "contract_type", "contract_nature", "contract_duration_months", "hours_per_week", "part_time",
    "work_schedule", "experience_required", "experience_months", "education_level", "skills",
    "languages", "licences", "workplace_label", "commune_insee", "postal_code", "lat", "lon",
    "qpv_code", "remote_work", "positions", "salary_label", "apply_url", "apply_email", "naf_code",
    "raw", "content_hash", "source_created_at", "source_updated_at", "starts_on", "expires_at", "title_key",
)  # fmt: skip

UPSERT_OFFER = f"""
INSERT INTO offers ({", ".join(_OFFER_COLUMNS)}, status)
VALUES ({", ".join(f"%({c})s" for c in _OFFER_COLUMNS)}, 'active')
ON CONFLICT (source_id, external_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _OFFER_COLUMNS if c not in ("source_id", "external_id"))},
    status = CASE WHEN offers.status IN ('duplicate', 'closed') THEN offers.status
                  WHEN EXCLUDED.expires_at <= now() THEN 'expired' ELSE 'active' END,
    updated_at = now()
WHERE offers.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR offers.status = 'unpublished'
RETURNING id, (xmax = 0) AS created, old.status AS old_status, new.status AS new_status, embedded_hash
"""

OFFERS_NEEDING_EMBEDDING = """
SELECT id, title, appellation_label, description,
       COALESCE(ARRAY(SELECT s ->> 'label' FROM jsonb_array_elements(skills) AS s), '{}') AS skill_labels
FROM offers
WHERE status = 'active' AND (embedding IS NULL OR embedding_model IS DISTINCT FROM %(model_id)s)
ORDER BY id
"""

SET_OFFER_EMBEDDING = """
UPDATE offers SET embedding = %(embedding)s, embedding_model = %(model_id)s, embedded_hash = %(text_hash)s
WHERE id = %(id)s
"""


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    """An employer and its engagement flags (LEE membership and commitments, EQ2030, QPV clause)."""

    name: str
    siret: str | None = None
    naf_code: str | None = None
    size_band: str | None = None
    postal_code: str | None = None
    commune_insee: str | None = None
    lee_member: bool = False
    lee_commitments: tuple[str, ...] = ()
    eq2030: bool = False
    qpv_clause: bool = False


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What an offer upsert did: the row id, or None when the stored offer was unchanged."""

    offer_id: int | None
    created: bool
    old_status: str | None = None
    new_status: str | None = None
    embedded_hash: bytes | None = None


def ensure_source(conn: psycopg.Connection, source_id: str, kind: str, label: str, priority: int = 100) -> None:
    """Create or update an offer source."""
    conn.execute(UPSERT_SOURCE, {"id": source_id, "kind": kind, "label": label, "priority": priority})


def upsert_company(conn: psycopg.Connection, company: CompanyRecord) -> int:
    """Create or update a company (keyed by SIRET, else by normalised name and postal code)."""
    params = asdict(company)
    params["lee_commitments"] = list(company.lee_commitments)
    params["name_normalized"] = normalize_text(company.name)
    if company.siret:
        return conn.execute(UPSERT_COMPANY_BY_SIRET, params).fetchone()["id"]
    row = conn.execute(FIND_COMPANY_WITHOUT_SIRET, params).fetchone()
    if row:
        return row["id"]
    return conn.execute(INSERT_COMPANY_WITHOUT_SIRET, params).fetchone()["id"]


def offer_params(offer: OfferRecord, company_id: int | None) -> dict:
    """Bind parameters of `UPSERT_OFFER` for one normalised offer."""
    params = {c: getattr(offer, c, None) for c in _OFFER_COLUMNS}
    params.update(
        company_id=company_id,
        work_schedule=list(offer.work_schedule),
        licences=list(offer.licences),
        skills=Jsonb([asdict(s) for s in offer.skills]),
        languages=Jsonb([asdict(lang) for lang in offer.languages]),
        raw=Jsonb(offer.raw) if offer.raw is not None else None,
        content_hash=offer.content_hash(),
        title_key=normalize_label(offer.title),
    )
    return params


def upsert_offer(conn: psycopg.Connection, offer: OfferRecord, company_id: int | None) -> UpsertResult:
    """Insert or update one offer; an offer whose content hash is unchanged is not written."""
    row = conn.execute(UPSERT_OFFER, offer_params(offer, company_id)).fetchone()
    if row is None:
        return UpsertResult(offer_id=None, created=False)
    result = UpsertResult(row["id"], row["created"], None if row["created"] else row["old_status"],
                          row["new_status"], row["embedded_hash"])  # fmt: skip
    if result.created or result.old_status != result.new_status:
        reason = "created" if result.created else "republished" if result.new_status == "active" else "past_expiry"
        record_status_change(conn, result.offer_id, result.old_status, result.new_status, reason)
    return result


# -- status changes, snapshots, expiry, duplicates -------------------------------------------

INSERT_STATUS_HISTORY = """
INSERT INTO offer_status_history (offer_id, old_status, new_status, reason, run_id)
VALUES (%(offer_id)s, %(old_status)s, %(new_status)s, %(reason)s, %(run_id)s)
"""

UNPUBLISH_MISSING_FROM_SNAPSHOT = """
WITH gone AS (
    UPDATE offers o SET status = 'unpublished', updated_at = now()
    WHERE o.source_id = %(source_id)s AND o.status IN ('active', 'duplicate')
      AND NOT EXISTS (SELECT 1 FROM ingestion_run_seen s WHERE s.run_id = %(run_id)s AND s.external_id = o.external_id)
    RETURNING o.id
)
INSERT INTO offer_status_history (offer_id, old_status, new_status, reason, run_id)
SELECT id, 'active', 'unpublished', 'missing_from_snapshot', %(run_id)s FROM gone
RETURNING offer_id
"""

EXPIRE_OFFERS = """
WITH due AS (
    SELECT id, status FROM offers
    WHERE status IN ('active', 'duplicate') AND expires_at <= %(now)s
    FOR UPDATE SKIP LOCKED
), closed AS (
    UPDATE offers o SET status = 'expired', updated_at = now() FROM due WHERE o.id = due.id
    RETURNING o.id, due.status AS old_status
)
INSERT INTO offer_status_history (offer_id, old_status, new_status, reason)
SELECT id, old_status, 'expired', 'expiry_sweep' FROM closed
RETURNING offer_id
"""

MARK_DUPLICATE = """
UPDATE offers SET status = 'duplicate', duplicate_of = %(keeper)s, duplicate_reason = %(reason)s, updated_at = now()
WHERE id = %(id)s AND (status IS DISTINCT FROM 'duplicate' OR duplicate_of IS DISTINCT FROM %(keeper)s)
RETURNING id
"""

PROMOTE_KEEPER = """
UPDATE offers SET status = 'active', duplicate_of = NULL, duplicate_reason = NULL, updated_at = now()
WHERE id = %(id)s AND status = 'duplicate'
RETURNING id
"""


def record_status_change(
    conn: psycopg.Connection,
    offer_id: int,
    old_status: str | None,
    new_status: str,
    reason: str,
    run_id: int | None = None,
) -> None:
    """Keep one status change of an offer in its history."""
    conn.execute(INSERT_STATUS_HISTORY, {"offer_id": offer_id, "old_status": old_status, "new_status": new_status,
                                         "reason": reason, "run_id": run_id})  # fmt: skip


def unpublish_missing(conn: psycopg.Connection, source_id: str, run_id: int) -> int:
    """Unpublish the source's offers that a complete snapshot run did not see; return how many."""
    return len(conn.execute(UNPUBLISH_MISSING_FROM_SNAPSHOT, {"source_id": source_id, "run_id": run_id}).fetchall())


# Congestion counts the candidates an offer was proposed to within 30 days (matching/retrieval.py): older
# exposure rows are never read.
PRUNE_EXPOSURE = "DELETE FROM offer_exposure WHERE last_served_at <= now() - interval '30 days'"


def prune_exposure(conn: psycopg.Connection) -> int:
    """Drop the offer exposure rows past the congestion window; return how many."""
    return conn.execute(PRUNE_EXPOSURE).rowcount


# The retrieval plan reads these counts (migration 0011); CONCURRENTLY keeps searches running during a refresh.
REFRESH_PLACE_COUNTS = "REFRESH MATERIALIZED VIEW CONCURRENTLY offer_place_counts"


def refresh_place_counts(conn: psycopg.Connection) -> None:
    """Recount the active offers per place cell (read to choose the retrieval plan)."""
    conn.execute(REFRESH_PLACE_COUNTS)


def expire_offers(conn: psycopg.Connection, now) -> int:
    """Close every offer past its expiry date, with history; return how many."""
    return len(conn.execute(EXPIRE_OFFERS, {"now": now}).fetchall())


def link_duplicate(conn: psycopg.Connection, offer_id: int, keeper_id: int, reason: str, run_id: int | None) -> bool:
    """Link an offer to the one kept in its cluster (not deleted); return whether anything changed."""
    old = conn.execute("SELECT status FROM offers WHERE id = %s", (offer_id,)).fetchone()
    row = conn.execute(MARK_DUPLICATE, {"id": offer_id, "keeper": keeper_id, "reason": reason}).fetchone()
    if row is None:
        return False
    if old["status"] != "duplicate":
        record_status_change(conn, offer_id, old["status"], "duplicate", reason, run_id)
    return True


def promote_keeper(conn: psycopg.Connection, offer_id: int, run_id: int | None) -> None:
    """Make an offer its cluster's kept offer again."""
    if conn.execute(PROMOTE_KEEPER, {"id": offer_id}).fetchone():
        record_status_change(conn, offer_id, "duplicate", "active", "kept_in_cluster", run_id)
