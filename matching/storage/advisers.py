"""Advisers and their structures: who may act, in which structure, with which role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

ROLES = ("adviser", "structure_admin", "platform_admin")

FIND_ADVISER_BY_SUBJECT = """
SELECT id, structure_id, role, email, active FROM advisers WHERE oidc_subject = %(subject)s
"""

# First sign-in through the provider: an adviser invited by email gets their subject bound.
BIND_ADVISER_BY_EMAIL = """
UPDATE advisers SET oidc_subject = %(subject)s, last_seen_at = now()
WHERE email = %(email)s AND oidc_subject IS NULL
RETURNING id, structure_id, role, email, active
"""

FIND_STRUCTURE = """
SELECT id FROM structures WHERE id::text = %(ref)s OR lower(name) = lower(%(ref)s) ORDER BY created_at LIMIT 2
"""

UPSERT_ADVISER = """
INSERT INTO advisers (structure_id, email, display_name, oidc_subject, role)
VALUES (%(structure_id)s, %(email)s, %(display_name)s, %(subject)s, %(role)s)
ON CONFLICT (email) DO UPDATE SET
    structure_id = EXCLUDED.structure_id, role = EXCLUDED.role,
    oidc_subject = COALESCE(advisers.oidc_subject, EXCLUDED.oidc_subject), active = true
RETURNING id, structure_id, role, email, active, oidc_subject
"""


@dataclass(frozen=True, slots=True)
class AdviserIdentity:
    """An authenticated adviser: who, in which structure, with which role."""

    id: uuid.UUID
    structure_id: uuid.UUID
    role: str
    email: str

    @property
    def platform_scope(self) -> bool:
        """Platform admins reach every structure."""
        return self.role == "platform_admin"


def find_adviser(conn: psycopg.Connection, subject: str, email: str | None) -> AdviserIdentity | None:
    """The active adviser of a token subject (binding it by email on first sign-in), or None."""
    row = conn.execute(FIND_ADVISER_BY_SUBJECT, {"subject": subject}).fetchone()
    if row is None and email:
        row = conn.execute(BIND_ADVISER_BY_EMAIL, {"subject": subject, "email": email}).fetchone()
    if row is None or not row["active"]:
        return None
    return AdviserIdentity(id=row["id"], structure_id=row["structure_id"], role=row["role"], email=row["email"])


def find_structure(conn: psycopg.Connection, ref: str) -> uuid.UUID | None:
    """A structure by id or exact (case-insensitive) name; None when absent or ambiguous."""
    rows = conn.execute(FIND_STRUCTURE, {"ref": ref}).fetchall()
    return rows[0]["id"] if len(rows) == 1 else None


def upsert_adviser(conn: psycopg.Connection, structure_id: uuid.UUID, email: str, role: str = "adviser",
                   subject: str | None = None, display_name: str | None = None) -> dict:  # fmt: skip
    """Create or update an adviser account (by email)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    params = {"structure_id": structure_id, "email": email.lower(), "display_name": display_name,
              "subject": subject, "role": role}  # fmt: skip
    return conn.execute(UPSERT_ADVISER, params).fetchone()
