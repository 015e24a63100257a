"""Adviser bearer tokens: OpenID Connect JWTs checked against the provider's JWKS, and a local issuer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from matching.config import Settings

LOCAL_ISSUER = "urn:maillage:local-issuer"
# Verified tokens are kept by their text: a client sends the same token with every request until it expires, and
# checking its signature again cost ~0.18 ms of CPU (RS256; 7 % of the API's CPU for the candidates of an offer,
# py-spy). An entry serves until the token's expiry (with the same leeway as the check) and at most VERIFIED_TTL_S,
# so that a key the provider withdraws from its JWKS stops being honoured within that time.
VERIFIED_TTL_S = 300.0
VERIFIED_MAX = 4096
LOCAL_KID = "maillage-local-1"
ALGORITHMS = ["RS256", "ES256", "PS256"]


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, or not signed by a trusted issuer."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What Maillage uses of a verified token."""

    issuer: str
    subject: str
    email: str | None


def local_key_path(settings: Settings) -> Path:
    """Where the local issuer's private key lives (dev and test only)."""
    return settings.home / "auth" / "local-issuer.pem"


def load_local_key(settings: Settings) -> rsa.RSAPrivateKey:
    """The local issuer's RSA key, created on first use under the home directory."""
    path = local_key_path(settings)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())  # fmt: skip
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return key


def local_jwks(settings: Settings) -> dict[str, Any]:
    """The JWKS of the local issuer, served by the app in dev and test."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(load_local_key(settings).public_key()))
    public.update(kid=LOCAL_KID, use="sig", alg="RS256")
    return {"keys": [public]}


def sign_local_token(settings: Settings, subject: str, email: str, lifetime_s: int = 3600,
                     now: float | None = None) -> str:  # fmt: skip
    """A token from the local issuer for an adviser (dev and test only)."""
    if settings.env == "prod":
        raise RuntimeError("the local token issuer is disabled in production")
    issued = int(now if now is not None else time.time())
    claims = {"iss": LOCAL_ISSUER, "aud": settings.oidc_audience, "sub": subject, "email": email,
              "iat": issued, "nbf": issued, "exp": issued + lifetime_s}  # fmt: skip
    return jwt.encode(claims, load_local_key(settings), algorithm="RS256", headers={"kid": LOCAL_KID})


class TokenVerifier:
    """Checks issuer, audience, signature (provider JWKS), expiry and not-before with a leeway."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time,
                 max_verified: int = VERIFIED_MAX) -> None:  # fmt: skip
        self.settings = settings
        self._remote = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True) if settings.oidc_jwks_url else None
        self._local = jwt.PyJWKSet.from_dict(local_jwks(settings)) if settings.env != "prod" else None
        self._clock = clock
        self._max_verified = max_verified
        self._verified: dict[str, tuple[TokenClaims, float]] = {}
        self._lock = threading.Lock()

    def _signing_key(self, token: str, issuer: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken("en-tête du jeton illisible") from exc
        if self._local is not None and issuer == LOCAL_ISSUER:
            for key in self._local.keys:
                if key.key_id == kid:
                    return key.key
            raise InvalidToken("clé de signature inconnue")
        if self._remote is not None and self.settings.oidc_issuer and issuer == self.settings.oidc_issuer:
            try:
                return self._remote.get_signing_key_from_jwt(token).key
            except jwt.PyJWTError as exc:
                raise InvalidToken("clé de signature inconnue") from exc
        raise InvalidToken("émetteur non reconnu")

    def verify(self, token: str) -> TokenClaims:
        """Verify a bearer token and return its claims, or raise InvalidToken."""
        now = self._clock()
        cached = self._verified.get(token)
        if cached is not None and now < cached[1]:
            return cached[0]
        claims, expires_at = self._verify(token)
        with self._lock:
            self._verified.pop(token, None)
            while len(self._verified) >= self._max_verified:
                del self._verified[next(iter(self._verified))]  # the oldest entry
            self._verified[token] = (claims, min(expires_at + self.settings.oidc_leeway_seconds, now + VERIFIED_TTL_S))
        return claims

    def _verify(self, token: str) -> tuple[TokenClaims, float]:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidToken("jeton illisible") from exc
        issuer = unverified.get("iss")
        if not isinstance(issuer, str):
            raise InvalidToken("émetteur absent")
        key = self._signing_key(token, issuer)
        try:
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=self.settings.oidc_audience, issuer=issuer,
                leeway=self.settings.oidc_leeway_seconds, options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"jeton refusé : {type(exc).__name__}") from exc
        email = claims.get("email")
        verified = TokenClaims(issuer=issuer, subject=str(claims["sub"]),
                               email=email.lower() if isinstance(email, str) else None)  # fmt: skip
        return verified, float(claims["exp"])
