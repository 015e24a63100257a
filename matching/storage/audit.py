"""The audit log of every read and write of personal data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from matching.storage.database import fetch_on_custom_plan

INSERT_AUDIT = """
INSERT INTO audit_log (actor_kind, actor_id, structure_id, action, object_kind, object_id, request_id, details)
VALUES (%(actor_kind)s, %(actor_id)s, %(structure_id)s, %(action)s, %(object_kind)s, %(object_id)s,
        %(request_id)s, %(details)s)
"""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an adviser, a company (API key) or a system job, with the request it came from."""

    kind: Literal["adviser", "company", "system"]
    id: str
    request_id: str | None = None


SYSTEM_ACTOR = Actor(kind="system", id="maillage")


def record_audit(
    conn: psycopg.Connection,
    actor: Actor,
    action: str,
    object_kind: str,
    object_id: str | None,
    structure_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry in the caller's transaction."""
    conn.execute(
        INSERT_AUDIT,
        {
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "structure_id": structure_id,
            "action": action,
            "object_kind": object_kind,
            "object_id": object_id,
            "request_id": actor.request_id,
            "details": Jsonb(details or {}),
        },
    )


LIST_AUDIT = """
SELECT at, actor_kind, actor_id, action, object_kind, object_id, details FROM audit_log
WHERE (%(structure_id)s::uuid IS NULL OR structure_id = %(structure_id)s::uuid)
  AND (%(object_id)s::text IS NULL OR object_id = %(object_id)s)
  AND (%(actor_id)s::text IS NULL OR actor_id = %(actor_id)s)
ORDER BY at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""


def list_audit(conn: psycopg.Connection, structure_id: uuid.UUID | None, object_id: str | None = None,
               actor_id: str | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Audit entries of a structure (all structures when None), newest first."""
    params = {"structure_id": structure_id, "object_id": object_id, "actor_id": actor_id, "limit": limit,
              "offset": offset}  # fmt: skip
    # Optional filters: the best plan depends on which are set (see matching.storage.database).
    return fetch_on_custom_plan(conn, LIST_AUDIT, params)
