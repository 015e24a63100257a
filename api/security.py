"""Who is calling: companies by API key (rate-limited), advisers by OIDC bearer token; deny by default.

Dependencies for routes:

- `CurrentAdviser`: the authenticated adviser (`AdviserIdentity`: id, structure_id, role, email); 401 without a
  valid token, 403 when the token's person has no active adviser account.
- `ScopedCandidates`: a `CandidateAccessor` limited to the caller's structure (platform admins: every
  structure), auditing as the adviser.
- `StructureAdmin`: an adviser whose role is structure_admin or platform_admin, else 403.
- `CurrentCompany`: the company of a valid, unrevoked API key, counted by the per-key rate limit (429).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import Conn, ResourcesDep
from api.protocol import reject_unknown_query
from matching.auth.tokens import InvalidToken, TokenVerifier
from matching.storage.advisers import AdviserIdentity, find_adviser
from matching.storage.audit import Actor
from matching.storage.candidates import CandidateAccessor
from matching.storage.companies import CompanyIdentity, authenticate_key

bearer_scheme = HTTPBearer(auto_error=False, scheme_name="conseiller",
                           description="Jeton OpenID Connect (ProConnect) d'un conseiller.")  # fmt: skip
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="entreprise",
                              description="Clé d'API d'une entreprise (`maillage companies create-key`).")  # fmt: skip


def request_id(request: Request) -> str:
    """The caller's X-Request-ID when it looks sane, else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if 0 < len(given) <= 64 and given.isascii() and given.isprintable() else uuid.uuid4().hex


def _unauthorized(detail: str, scheme: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": scheme})


def token_verifier(resources: ResourcesDep) -> TokenVerifier:
    """The app's token verifier, built once (it caches the provider's keys)."""
    if resources.verifier is None:
        resources.verifier = TokenVerifier(resources.settings)
    return resources.verifier


def current_adviser(
    request: Request,
    resources: ResourcesDep,
    conn: Conn,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> AdviserIdentity:
    """The adviser of a verified bearer token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Authentification requise : jeton de conseiller manquant.", "Bearer")
    try:
        claims = token_verifier(resources).verify(credentials.credentials)
    except InvalidToken as exc:
        raise _unauthorized(f"Jeton invalide : {exc}", 'Bearer error="invalid_token"') from None
    adviser = find_adviser(conn, claims.subject, claims.email)
    if adviser is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Aucun compte conseiller actif pour cette identité.")
    reject_unknown_query(request)  # after authentication: an anonymous caller learns nothing but 401
    return adviser


CurrentAdviser = Annotated[AdviserIdentity, Depends(current_adviser)]


def adviser_actor(adviser: CurrentAdviser, request: Request) -> Actor:
    """The audit actor of the calling adviser."""
    return Actor(kind="adviser", id=str(adviser.id), request_id=request_id(request))


async def scoped_candidate_accessor(adviser: CurrentAdviser, conn: Conn, request: Request) -> CandidateAccessor:
    """A candidate accessor limited to the caller's structure (every structure for platform admins)."""
    structure_id = None if adviser.platform_scope else adviser.structure_id
    return CandidateAccessor(conn, adviser_actor(adviser, request), structure_id=structure_id)


ScopedCandidates = Annotated[CandidateAccessor, Depends(scoped_candidate_accessor)]


async def structure_admin(adviser: CurrentAdviser) -> AdviserIdentity:
    """The caller, when a structure or platform admin."""
    if adviser.role not in ("structure_admin", "platform_admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Réservé aux administrateurs de structure.")
    return adviser


StructureAdmin = Annotated[AdviserIdentity, Depends(structure_admin)]


def current_company(
    request: Request,
    resources: ResourcesDep, conn: Conn, api_key: Annotated[str | None, Security(api_key_scheme)]
) -> CompanyIdentity:
    """The company of a valid API key, within its rate limit."""
    if not api_key:
        raise _unauthorized("Authentification requise : clé d'API manquante (en-tête X-API-Key).", "ApiKey")
    company = authenticate_key(conn, api_key)
    if company is None:
        raise _unauthorized("Clé d'API invalide ou révoquée.", "ApiKey")
    retry_after = resources.rate_limiter.hit(company.key_id)
    if retry_after is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "Trop de requêtes pour cette clé d'API.",
                            headers={"Retry-After": str(retry_after)})  # fmt: skip
    reject_unknown_query(request)
    return company


CurrentCompany = Annotated[CompanyIdentity, Depends(current_company)]


def company_with_scope(scope: str):
    """A dependency requiring an API key scope."""

    def dependency(company: CurrentCompany) -> CompanyIdentity:
        if scope not in company.scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"La clé d'API n'a pas la portée « {scope} ».")
        return company

    return dependency


OfferReader = Annotated[CompanyIdentity, Depends(company_with_scope("offers:read"))]
OfferWriter = Annotated[CompanyIdentity, Depends(company_with_scope("offers:write"))]


def _security_of(dependant) -> set:
    found = {dependant.call} & {current_adviser, current_company}
    for sub in dependant.dependencies:
        found |= _security_of(sub)
    return found


def credentials_valid(request: Request) -> bool:
    """Whether the request carries valid credentials for its route (used before answering a body error)."""
    route = request.scope.get("route")
    needed = _security_of(route.dependant) if route is not None and hasattr(route, "dependant") else set()
    if not needed:
        return True
    resources = request.app.state.resources
    with resources.pool.connection() as conn:
        if current_company in needed:
            key = request.headers.get("x-api-key")
            return bool(key) and authenticate_key(conn, key) is not None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        try:
            claims = token_verifier(resources).verify(token)
        except InvalidToken:
            return False
        return find_adviser(conn, claims.subject, claims.email) is not None


class AuthFirstRoute(APIRoute):
    """A route that answers 401, not 422, to an unreadable body sent without valid credentials."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def auth_first(request: Request):
            try:
                return await handler(request)
            except (RequestValidationError, StarletteHTTPException) as exc:
                if isinstance(exc, StarletteHTTPException):
                    body_unreadable = exc.status_code == status.HTTP_400_BAD_REQUEST
                else:
                    body_unreadable = any(e.get("type") == "json_invalid" for e in exc.errors())
                if body_unreadable and not await run_in_threadpool(credentials_valid, request):
                    raise _unauthorized("Authentification requise.", "Bearer, ApiKey") from None
                raise

        return auth_first
