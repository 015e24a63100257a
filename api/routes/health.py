"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from api.deps import ResourcesDep
from api.protocol import reject_unknown_query
from api.schemas import HealthPublic, ReadinessPublic

router = APIRouter(tags=["santé"], dependencies=[Depends(reject_unknown_query)])


@router.get("/healthz", response_model=HealthPublic)
def healthz() -> HealthPublic:
    """The process answers."""
    return HealthPublic(status="ok")


@router.get("/readyz", response_model=ReadinessPublic, responses={503: {"model": ReadinessPublic}})
def readyz(resources: ResourcesDep, response: Response) -> ReadinessPublic:
    """The database answers and the embedding model is loaded."""
    checks: dict[str, str] = {}
    database_ok = False
    try:
        with resources.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
        database_ok = True
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    model = resources.embedder.model_id if resources.embedder else None
    checks["embedding_model"] = "ok" if model else "not loaded"
    ready = database_ok and model is not None
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return ReadinessPublic(status="ready" if ready else "not ready", database=database_ok,
                           embedding_model=model, checks=checks)  # fmt: skip
