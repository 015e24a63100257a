"""Resources the API holds for its lifetime: settings, database pool, embedder, token verifier, rate limiter."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import ConnectionPool

from matching.auth.tokens import TokenVerifier
from matching.config import Settings
from matching.embeddings import Embedder


class RateLimiter:
    """A sliding one-minute window per API key, in memory (one process; see docs/api.md)."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._hits: dict[Any, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: Any, now: float | None = None) -> int | None:
        """Count one request; return None when allowed, else the seconds to wait (Retry-After)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(hits[0] + self.window_s - now))
            hits.append(now)
            return None


@dataclass
class AppResources:
    """What the lifespan opens and the routes use."""

    settings: Settings
    pool: ConnectionPool
    embedder: Embedder | None = None
    embedded_server: Any = None  # keeps the embedded PostgreSQL handle alive while the app runs
    verifier: TokenVerifier | None = None
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(120))
