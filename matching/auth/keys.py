"""Company API keys: random secrets shown once, stored as a SHA-256 hash behind a visible prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_MARK = "mlg"
SCOPES = ("offers:read", "offers:write")


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: the full secret (shown once), its public prefix and its stored hash."""

    secret: str
    prefix: str
    secret_hash: str


def hash_secret(secret: str) -> str:
    """SHA-256 of a full key; the secret has 256 random bits, so a slow hash adds nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> NewKey:
    """A new key `mlg_<prefix>_<secret>`."""
    prefix = f"{KEY_MARK}_{secrets.token_hex(6)}"
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(secret=secret, prefix=prefix, secret_hash=hash_secret(secret))


def prefix_of(secret: str) -> str | None:
    """The prefix of a presented key, or None when it is not shaped like one."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_MARK or len(parts[1]) != 12 or not parts[2]:
        return None
    return f"{parts[0]}_{parts[1]}"


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Compare a presented key with the stored hash in constant time."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
