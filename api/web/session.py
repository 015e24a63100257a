"""Web sessions: a signed, HttpOnly cookie naming the adviser, CSRF tokens, and OpenID Connect sign-in.

The cookie is a short JWT (HS256) signed with `web_session_secret` (derived from the local issuer's key in
dev and test): adviser id, CSRF token, previous visit, expiry. Each request re-reads the adviser, so a
deactivated account loses access at once. Production sign-in is the authorization-code flow against the
configured provider; its ID token is checked by the same `TokenVerifier` as API bearer tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from fastapi import Request
from starlette.responses import Response

from matching.auth.tokens import InvalidToken, load_local_key, local_key_path
from matching.config import Settings
from matching.storage.advisers import AdviserIdentity

SESSION_COOKIE = "maillage_session"
OIDC_COOKIE = "maillage_oidc"
OIDC_FLOW_SECONDS = 600
_AUDIENCE = "maillage-web"
_HTTP_TIMEOUT_S = 10


class NotSignedIn(Exception):
    """The request carries no valid web session."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token, or from another origin."""


class SignInError(Exception):
    """The provider's answer could not be used to sign in; the message is shown in French."""


@dataclass(frozen=True, slots=True)
class WebSession:
    """The signed-in adviser, the session's CSRF token and their previous visit."""

    adviser: AdviserIdentity
    csrf: str
    previous_visit: datetime | None


_DERIVED_SECRETS: dict[Path, bytes] = {}


def session_secret(settings: Settings) -> bytes:
    """The key signing session cookies; outside production a key derived from the local issuer's."""
    if settings.web_session_secret is not None:
        return settings.web_session_secret.get_secret_value().encode()
    if settings.env == "prod":
        raise SignInError("Configuration incomplète : MAILLAGE_WEB_SESSION_SECRET n'est pas défini.")
    path = local_key_path(settings)
    secret = _DERIVED_SECRETS.get(path)
    if secret is None:  # derived once per key file: every page reads the session
        der = load_local_key(settings).private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())  # fmt: skip
        secret = _DERIVED_SECRETS[path] = hashlib.sha256(b"maillage-web-session:" + der).digest()
    return secret


def _cookie_kwargs(settings: Settings, max_age: int) -> dict[str, Any]:
    return {"max_age": max_age, "httponly": True, "samesite": "lax", "secure": settings.env == "prod", "path": "/"}


def open_session(response: Response, settings: Settings, adviser_id: uuid.UUID,
                 previous_visit: datetime | None) -> None:  # fmt: skip
    """Set the session cookie for an adviser who just signed in."""
    now = int(time.time())
    lifetime = settings.web_session_hours * 3600
    claims = {"aud": _AUDIENCE, "sub": str(adviser_id), "csrf": secrets.token_urlsafe(32), "iat": now,
              "exp": now + lifetime, "prev": previous_visit.isoformat() if previous_visit else None}  # fmt: skip
    token = jwt.encode(claims, session_secret(settings), algorithm="HS256")
    response.set_cookie(SESSION_COOKIE, token, **_cookie_kwargs(settings, lifetime))


def close_session(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def read_session(request: Request, settings: Settings) -> dict[str, Any]:
    """The verified claims of the request's session cookie, or raise NotSignedIn."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn
    try:
        return jwt.decode(token, session_secret(settings), algorithms=["HS256"], audience=_AUDIENCE,
                          options={"require": ["exp", "sub", "csrf"]})  # fmt: skip
    except jwt.PyJWTError:
        raise NotSignedIn from None


def check_csrf(request: Request, session: WebSession, submitted: str | None) -> None:
    """Refuse a POST whose token differs from the session's, or that another site's page sent."""
    check_origin(request)
    given = submitted or request.headers.get("x-csrf-token") or ""
    if not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise CsrfRejected


def check_origin(request: Request) -> None:
    """Refuse a POST sent by a page of another origin (browsers send Origin on POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin == "null" or urllib.parse.urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfRejected


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/portefeuille"


# OpenID Connect authorization-code flow --------------------------------------------------------


def _fetch_json(url: str, data: dict[str, str] | None = None, token: str | None = None) -> dict[str, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT_S) as answer:
            return json.loads(answer.read())
    except (OSError, ValueError) as exc:
        raise SignInError("Le fournisseur d'identité ne répond pas correctement.") from exc


_DISCOVERY: dict[str, dict[str, Any]] = {}


def provider_metadata(settings: Settings) -> dict[str, Any]:
    """The provider's OpenID configuration (discovery document), cached per issuer."""
    if not settings.oidc_issuer or not settings.oidc_redirect_url:
        raise SignInError("Connexion par le fournisseur d'identité non configurée (MAILLAGE_OIDC_ISSUER, "
                          "MAILLAGE_OIDC_REDIRECT_URL).")  # fmt: skip
    issuer = settings.oidc_issuer.rstrip("/")
    if issuer not in _DISCOVERY:
        _DISCOVERY[issuer] = _fetch_json(f"{issuer}/.well-known/openid-configuration")
    return _DISCOVERY[issuer]


def start_oidc(response_factory, settings: Settings, next_path: str) -> Response:
    """Redirect to the provider's authorization endpoint, remembering state and nonce in a signed cookie."""
    metadata = provider_metadata(settings)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": settings.oidc_audience, "redirect_uri": settings.oidc_redirect_url,
        "scope": "openid email", "state": state, "nonce": nonce,
    })  # fmt: skip
    response = response_factory(f"{metadata['authorization_endpoint']}?{query}")
    flow = jwt.encode(
        {
            "aud": _AUDIENCE + ":oidc",
            "state": state,
            "nonce": nonce,
            "next": safe_next(next_path),
            "exp": int(time.time()) + OIDC_FLOW_SECONDS,
        },
        session_secret(settings),
        algorithm="HS256",
    )
    response.set_cookie(OIDC_COOKIE, flow, **_cookie_kwargs(settings, OIDC_FLOW_SECONDS))
    return response


def finish_oidc(request: Request, settings: Settings, verifier, code: str, state: str) -> tuple[Any, str]:
    """Exchange the code for tokens, verify the ID token (and its nonce); return its claims and the next path."""
    try:
        flow = jwt.decode(request.cookies.get(OIDC_COOKIE, ""), session_secret(settings), algorithms=["HS256"],
                          audience=_AUDIENCE + ":oidc")  # fmt: skip
    except jwt.PyJWTError:
        raise SignInError("Session de connexion expirée : recommencez.") from None
    if not hmac.compare_digest(flow["state"].encode(), state.encode()):
        raise SignInError("Réponse du fournisseur d'identité inattendue (state) : recommencez.")
    metadata = provider_metadata(settings)
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    tokens = _fetch_json(metadata["token_endpoint"], {
        "grant_type": "authorization_code", "code": code, "redirect_uri": settings.oidc_redirect_url or "",
        "client_id": settings.oidc_audience, "client_secret": secret,
    })  # fmt: skip
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SignInError("Le fournisseur d'identité n'a pas renvoyé de jeton d'identité.")
    try:
        claims = verifier.verify(id_token)
    except InvalidToken as exc:
        raise SignInError(f"Jeton d'identité refusé : {exc}") from None
    # The signature was just verified: reading the nonce without verifying again is safe.
    nonce = jwt.decode(id_token, options={"verify_signature": False}).get("nonce", "")
    if not hmac.compare_digest(str(nonce).encode(), flow["nonce"].encode()):
        raise SignInError("Jeton d'identité rejoué ou inattendu (nonce).")
    if claims.email is None and metadata.get("userinfo_endpoint") and isinstance(tokens.get("access_token"), str):
        email = _fetch_json(metadata["userinfo_endpoint"], token=tokens["access_token"]).get("email")
        if isinstance(email, str):
            claims = type(claims)(issuer=claims.issuer, subject=claims.subject, email=email.lower())
    return claims, flow["next"]
