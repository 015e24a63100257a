"""The local issuer's JWKS (dev and test only: production trusts the OIDC provider's JWKS)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import SettingsDep
from api.protocol import reject_unknown_query
from matching.auth.tokens import local_jwks

router = APIRouter(tags=["santé"], dependencies=[Depends(reject_unknown_query)])


@router.get("/.well-known/jwks.json")
def jwks(settings: SettingsDep) -> dict[str, Any]:
    """Public keys of the local token issuer."""
    return local_jwks(settings)
