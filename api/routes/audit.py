"""The audit log of personal data, readable by structure admins (their structure) and platform admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Conn
from api.routes.responses import error_responses
from api.schemas import AuditEntryPublic, AuditPage
from api.security import AuthFirstRoute, StructureAdmin
from matching.storage.audit import list_audit

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["audit"])


@router.get("/audit", response_model=AuditPage, responses=error_responses(401, 403))
def audit(
    admin: StructureAdmin,
    conn: Conn,
    object_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    actor_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100000)] = 0,
) -> AuditPage:
    """Who read or wrote which personal data, when (newest first)."""
    structure_id = None if admin.platform_scope else admin.structure_id
    rows = list_audit(conn, structure_id, object_id=object_id, actor_id=actor_id, limit=limit, offset=offset)
    return AuditPage(items=[AuditEntryPublic(**r) for r in rows], limit=limit, offset=offset)
