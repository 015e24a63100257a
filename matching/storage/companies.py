"""Companies' API keys, the offers they submit through the API, and idempotent replays."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from matching.auth.keys import SCOPES, NewKey, generate_key, prefix_of, secret_matches

API_SOURCE_ID = "api"

INSERT_KEY = """
INSERT INTO company_api_keys (company_id, prefix, secret_hash, scopes, label)
VALUES (%(company_id)s, %(prefix)s, %(secret_hash)s, %(scopes)s, %(label)s)
RETURNING id
"""

FIND_KEY = """
SELECT k.id, k.company_id, k.secret_hash, k.scopes, k.revoked_at
FROM company_api_keys k WHERE k.prefix = %(prefix)s
"""

TOUCH_KEY = "UPDATE company_api_keys SET last_used_at = now() WHERE id = %(id)s"

REVOKE_KEY = """
UPDATE company_api_keys SET revoked_at = now() WHERE prefix = %(prefix)s AND revoked_at IS NULL RETURNING id
"""

FIND_COMPANY = "SELECT id FROM companies WHERE id::text = %(ref)s OR siret = %(ref)s LIMIT 1"

SELECT_COMPANY_OFFER = """
SELECT o.id, o.external_id, o.status, o.title, o.raw, o.qpv_code, o.lat, o.lon, o.commune_insee,
       o.embedding IS NOT NULL AS embedded, o.created_at, o.updated_at
FROM offers o
WHERE o.id = %(id)s AND o.company_id = %(company_id)s AND o.source_id = 'api'
"""

LIST_COMPANY_OFFERS = """
SELECT o.id, o.external_id, o.status, o.title, o.raw, o.qpv_code, o.lat, o.lon, o.commune_insee,
       o.embedding IS NOT NULL AS embedded, o.created_at, o.updated_at,
       count(*) OVER () AS total
FROM offers o
WHERE o.company_id = %(company_id)s AND o.source_id = 'api'
  AND (%(status)s::text IS NULL OR o.status = %(status)s)
ORDER BY o.id
LIMIT %(limit)s OFFSET %(offset)s
"""

CLOSE_OFFER = """
WITH old AS (SELECT id, status FROM offers WHERE id = %(id)s AND status <> 'closed' FOR UPDATE),
upd AS (UPDATE offers o SET status = 'closed', updated_at = now() FROM old WHERE o.id = old.id RETURNING o.id)
INSERT INTO offer_status_history (offer_id, old_status, new_status, reason)
SELECT old.id, old.status, 'closed', %(reason)s FROM old JOIN upd ON upd.id = old.id
"""

FIND_IDEMPOTENT = """
SELECT request_hash, status_code, response_body FROM idempotency_keys
WHERE company_id = %(company_id)s AND key = %(key)s AND expires_at > now()
"""

STORE_IDEMPOTENT = """
INSERT INTO idempotency_keys (company_id, key, request_hash, status_code, response_body, expires_at)
VALUES (%(company_id)s, %(key)s, %(request_hash)s, %(status_code)s, %(body)s, now() + %(ttl)s)
ON CONFLICT (company_id, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
    response_body = EXCLUDED.response_body, created_at = now(), expires_at = EXCLUDED.expires_at
WHERE idempotency_keys.expires_at <= now()
RETURNING company_id
"""

PURGE_IDEMPOTENT = "DELETE FROM idempotency_keys WHERE expires_at <= now()"


@dataclass(frozen=True, slots=True)
class CompanyIdentity:
    """A company authenticated by an API key, with the key's scopes."""

    company_id: int
    key_id: int
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept for an idempotency key."""

    request_hash: bytes
    status_code: int
    body: Any


class IdempotencyConflict(Exception):
    """The idempotency key was stored concurrently by another request."""


def find_company(conn: psycopg.Connection, ref: str) -> int | None:
    """A company by id or SIRET."""
    row = conn.execute(FIND_COMPANY, {"ref": ref}).fetchone()
    return row["id"] if row else None


def create_key(conn: psycopg.Connection, company_id: int, scopes: tuple[str, ...] = SCOPES,
               label: str | None = None) -> NewKey:  # fmt: skip
    """Create an API key for a company; the returned secret is never stored and shown only once."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    key = generate_key()
    conn.execute(INSERT_KEY, {"company_id": company_id, "prefix": key.prefix, "secret_hash": key.secret_hash,
                              "scopes": list(scopes), "label": label})  # fmt: skip
    return key


def revoke_key(conn: psycopg.Connection, prefix: str) -> bool:
    """Revoke a key by its prefix; False when no active key has it."""
    return conn.execute(REVOKE_KEY, {"prefix": prefix}).fetchone() is not None


def authenticate_key(conn: psycopg.Connection, secret: str) -> CompanyIdentity | None:
    """The company of a presented, unrevoked key, or None."""
    prefix = prefix_of(secret)
    if prefix is None:
        return None
    row = conn.execute(FIND_KEY, {"prefix": prefix}).fetchone()
    if row is None or row["revoked_at"] is not None or not secret_matches(secret, row["secret_hash"]):
        return None
    conn.execute(TOUCH_KEY, {"id": row["id"]})
    return CompanyIdentity(company_id=row["company_id"], key_id=row["id"], scopes=tuple(row["scopes"]))


def company_offer(conn: psycopg.Connection, company_id: int, offer_id: int) -> dict | None:
    """One offer the company submitted through the API, or None (other companies' offers look absent)."""
    return conn.execute(SELECT_COMPANY_OFFER, {"id": offer_id, "company_id": company_id}).fetchone()


def company_offers(conn: psycopg.Connection, company_id: int, status: str | None, limit: int,
                   offset: int) -> tuple[list[dict], int]:  # fmt: skip
    """A page of the company's API offers and the total count."""
    rows = conn.execute(LIST_COMPANY_OFFERS, {"company_id": company_id, "status": status, "limit": limit,
                                              "offset": offset}).fetchall()  # fmt: skip
    return rows, (rows[0]["total"] if rows else 0)


def close_offer(conn: psycopg.Connection, offer_id: int, reason: str = "closed by the company") -> None:
    """Close an offer (kept, status closed) and record the change."""
    conn.execute(CLOSE_OFFER, {"id": offer_id, "reason": reason})


def request_hash(method: str, path: str, body: Any) -> bytes:
    """A fingerprint of a request: same method, path and JSON body give the same hash."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).digest()


def find_idempotent(conn: psycopg.Connection, company_id: int, key: str) -> StoredResponse | None:
    """The unexpired response stored for a key, or None."""
    row = conn.execute(FIND_IDEMPOTENT, {"company_id": company_id, "key": key}).fetchone()
    if row is None:
        return None
    return StoredResponse(bytes(row["request_hash"]), row["status_code"], row["response_body"])


def store_idempotent(conn: psycopg.Connection, company_id: int, key: str, digest: bytes, status_code: int,
                     body: Any, ttl_hours: int) -> None:  # fmt: skip
    """Keep a response for its key; raise IdempotencyConflict when another request stored it first."""
    row = conn.execute(STORE_IDEMPOTENT, {"company_id": company_id, "key": key, "request_hash": digest,
                                          "status_code": status_code, "body": Jsonb(body),
                                          "ttl": timedelta(hours=ttl_hours)}).fetchone()  # fmt: skip
    if row is None:
        raise IdempotencyConflict(key)


def purge_idempotency_keys(conn: psycopg.Connection) -> int:
    """Delete expired idempotency keys; return how many."""
    return conn.execute(PURGE_IDEMPOTENT).rowcount
